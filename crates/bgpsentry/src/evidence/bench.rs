//! `bgpsentry evidence bench`: load time, memory and lookups/s at full
//! size (defaults: 500k VRPs, 1.5M IRR route objects, 500k relationship
//! edges). The inputs are generated on the fly as the real formats
//! (rpki-client JSON, RPSL, CAIDA serial-2) and fed through the same
//! readers production uses, so parsing is measured too; nothing is written
//! to disk. Deterministic (fixed-seed PRNG).

use std::io::{self, Read};
use std::time::Instant;

use bgpsentry_core::evidence::{
    AsRelationships, IrrTable, RpkiTable, read_asrel, read_rpsl, read_vrps,
};
use bgpsentry_core::model::Asn;
use clap::Args;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// `bgpsentry evidence bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Number of VRPs.
    #[arg(long, default_value_t = 500_000)]
    pub vrps: u64,
    /// Number of IRR route objects.
    #[arg(long, default_value_t = 1_500_000)]
    pub irr: u64,
    /// Number of AS relationship edges.
    #[arg(long, default_value_t = 500_000)]
    pub edges: u64,
    /// Lookups per table.
    #[arg(long, default_value_t = 2_000_000)]
    pub lookups: u64,
}

/// xorshift64*: fast, deterministic, good enough for synthetic data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn rand_prefix(rng: &mut Rng) -> IpNet {
    if rng.below(10) < 8 {
        let len = 16 + rng.below(9) as u8;
        let addr = (rng.next() as u32) & !0xE000_0000 | 0x2000_0000; // 32.0.0.0..=63.x, 
        IpNet::V4(Ipv4Net::new(addr.into(), len).unwrap_or_default().trunc())
    } else {
        let len = 32 + rng.below(17) as u8;
        let hi = 0x2a00_u128 << 112 | u128::from(rng.next() as u32) << 80;
        IpNet::V6(Ipv6Net::new(hi.into(), len).unwrap_or_default().trunc())
    }
}

/// A `Read` that produces records from a generator closure.
struct Gen<F> {
    next: F,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
}

impl<F: FnMut(&mut Vec<u8>) -> bool> Read for Gen<F> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.buf.len() && !self.done {
            self.buf.clear();
            self.pos = 0;
            self.done = !(self.next)(&mut self.buf);
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn generated<F: FnMut(&mut Vec<u8>) -> bool + Send + 'static>(f: F) -> Gen<F> {
    Gen {
        next: f,
        buf: Vec::new(),
        pos: 0,
        done: false,
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn report(what: &str, n: u64, secs: f64, rss_before: u64) {
    let mb = rss_kib().saturating_sub(rss_before) as f64 / 1024.0;
    println!(
        "{what:<28} {n:>10} records  load {secs:>6.2}s  ({:>9.0}/s)  +{mb:.0} MiB RSS",
        n as f64 / secs
    );
}

fn lookups(what: &str, n: u64, mut f: impl FnMut(u64) -> u64) {
    let start = Instant::now();
    let mut acc = 0u64;
    for i in 0..n {
        acc = acc.wrapping_add(f(i));
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{what:<28} {n:>10} lookups {secs:>6.2}s  ({:>11.0}/s, {:.0} ns each) [{acc}]",
        n as f64 / secs,
        secs * 1e9 / n as f64
    );
}

/// Run the benchmark, printing one line per measurement.
pub fn run(a: &BenchArgs) -> anyhow::Result<i32> {
    // RPKI: rpki-client JSON.
    let total = a.vrps;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut i = 0u64;
    let input = generated(move |b: &mut Vec<u8>| {
        use std::io::Write;
        if i == 0 {
            b.extend_from_slice(b"{\"metadata\":{\"generated\":0},\"roas\":[");
        }
        if i == total {
            b.extend_from_slice(b"]}");
            i += 1;
            return true;
        }
        if i > total {
            return false;
        }
        let p = rand_prefix(&mut rng);
        let max = (p.prefix_len() + rng.below(3) as u8).min(p.max_prefix_len());
        let sep = if i + 1 < total { "," } else { "" };
        let _ = write!(
            b,
            "{{\"asn\":{},\"prefix\":\"{p}\",\"maxLength\":{max},\"ta\":\"bench\",\"expires\":1}}{sep}",
            1 + rng.below(400_000)
        );
        i += 1;
        true
    });
    let before = rss_kib();
    let start = Instant::now();
    let mut rpki = RpkiTable::new();
    let r = read_vrps(input, "synthetic rpki-client JSON", &mut rpki)?;
    report(
        "RPKI (rpki-client JSON)",
        r.accepted,
        start.elapsed().as_secs_f64(),
        before,
    );

    // IRR: RPSL route objects.
    let total = a.irr;
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut i = 0u64;
    let input = generated(move |b: &mut Vec<u8>| {
        use std::io::Write;
        if i >= total {
            return false;
        }
        let p = rand_prefix(&mut rng);
        let class = if p.addr().is_ipv4() {
            "route"
        } else {
            "route6"
        };
        let _ = write!(
            b,
            "{class}: {p}\ndescr: synthetic route object {i}\n  continued description\norigin: AS{}\nmnt-by: MAINT-BENCH\nsource: RADB\n\n",
            1 + rng.below(400_000)
        );
        i += 1;
        true
    });
    let before = rss_kib();
    let start = Instant::now();
    let mut irr = IrrTable::new();
    let r = read_rpsl(input, "synthetic RPSL", "RADB", &mut irr)?;
    report(
        "IRR (RPSL dump)",
        r.accepted,
        start.elapsed().as_secs_f64(),
        before,
    );

    // AS relationships: CAIDA serial-2.
    let total = a.edges;
    let mut rng = Rng(0x94D0_49BB_1331_11EB);
    let mut i = 0u64;
    let input = generated(move |b: &mut Vec<u8>| {
        use std::io::Write;
        if i == 0 {
            b.extend_from_slice(b"# inferred clique: 174 209 286 701 1239 1299 2828 2914 3257 3320 3356 3491 5511 6453 6461 6762 6830 7018 12956\n");
        }
        if i >= total {
            return false;
        }
        let x = 1 + rng.below(100_000);
        let y = 1 + rng.below(400_000);
        let rel = if rng.below(3) == 0 { 0 } else { -1 };
        let _ = writeln!(b, "{x}|{y}|{rel}|bgp");
        i += 1;
        true
    });
    let before = rss_kib();
    let start = Instant::now();
    let mut asrel = AsRelationships::new();
    let r = read_asrel(input, "synthetic CAIDA serial-2", &mut asrel)?;
    report(
        "AS relationships (serial-2)",
        asrel.len() as u64,
        start.elapsed().as_secs_f64(),
        before,
    );
    let _ = r;

    // Lookups: random prefixes (mostly not exact table keys, like real
    // announcements), random ASNs.
    let mut rng = Rng(7);
    let queries: Vec<(IpNet, Asn)> = (0..4096)
        .map(|_| (rand_prefix(&mut rng), Asn(1 + rng.below(400_000) as u32)))
        .collect();
    let mask = queries.len() as u64 - 1;
    lookups("RpkiTable::validate", a.lookups, |i| {
        let (p, o) = &queries[(i & mask) as usize];
        rpki.validate(p, *o) as u64
    });
    lookups("IrrTable::check", a.lookups, |i| {
        let (p, o) = &queries[(i & mask) as usize];
        irr.check(p, *o) as u64
    });
    let pairs: Vec<(Asn, Asn)> = asrel.iter().take(4096).map(|(x, y, _)| (x, y)).collect();
    let pmask = pairs.len().next_power_of_two() as u64 - 1;
    lookups("AsRelationships::rel", a.lookups, |i| {
        let (x, y) = pairs
            .get((i & pmask) as usize)
            .copied()
            .unwrap_or((Asn(1), Asn(i as u32)));
        // Every other lookup misses (reversed + offset pair).
        if i & 1 == 0 {
            asrel.rel(x, y).map_or(0, |r| r.confidence as u64)
        } else {
            asrel
                .rel(Asn(y.0 + 1), x)
                .map_or(0, |r| r.confidence as u64)
        }
    });
    Ok(0)
}

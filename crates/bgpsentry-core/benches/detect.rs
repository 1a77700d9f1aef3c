//! Throughput and memory of the hijack detector (a plain `harness = false`
//! bench measured with `std::time`; no timing thresholds anywhere).
//!
//! 1. MRT decode of the first `HIJACK_BENCH_FILES` (default 48, all twelve
//!    hours) YouTube 2008 update files into memory, for scale;
//! 2. the hijack detector alone over those messages (baseline: the pfx2as
//!    table of 2008-05-01, shipped defaults), in messages/s and prefix
//!    updates/s;
//! 3. the routing state at full-table scale: `HIJACK_BENCH_PREFIXES`
//!    (default 1,000,000) IPv4 prefixes announced by each of
//!    `HIJACK_BENCH_PEERS` (default 300) collector peers, with the state's
//!    own byte estimate and the process's resident memory before and after.
//!
//! `cargo bench -p bgpsentry-core --bench detect`
//! (`HIJACK_BENCH_FILES=0` skips 1-2, `HIJACK_BENCH_PREFIXES=0` skips 3).

use std::fs::File;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Instant;

use bgpsentry_core::detect::Detector;
use bgpsentry_core::detect::hijack::{HijackConfig, HijackDetector};
use bgpsentry_core::detect::state::RoutingState;
use bgpsentry_core::evidence::Evidence;
use bgpsentry_core::model::{Asn, PeerId, PeerTable, RouteEvent, RouteMessage, Timestamp};
use bgpsentry_core::mrt::{RecordReader, StreamDecoder, decompress};
use ipnet::{IpNet, Ipv4Net};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// (VmRSS, VmHWM) of this process in KiB, from /proc (0 elsewhere).
fn rss_kib() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn throughput(n: usize) {
    let dir = format!("{DATA}/mrt/incident-youtube-2008");
    let mut files: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(d) => d
            .filter_map(|e| e.ok())
            .map(|e| e.path().display().to_string())
            .collect(),
        Err(e) => {
            eprintln!("no data at {dir}: {e}");
            return;
        }
    };
    files.sort();
    files.truncate(n);

    let t = Instant::now();
    let mut peers = PeerTable::new();
    let c = peers.collector("route-views2");
    let mut msgs: Vec<RouteMessage> = Vec::new();
    for f in &files {
        let Ok(file) = File::open(f) else { continue };
        let Ok((_, r)) = decompress(file) else {
            continue;
        };
        let mut dec = StreamDecoder::new();
        for rec in RecordReader::new(r).flatten() {
            for d in dec.decode(rec).messages {
                let peer = peers.peer(c, d.peer_ip, d.peer_asn);
                msgs.push(RouteMessage {
                    ts: d.ts,
                    peer,
                    event: d.event,
                });
            }
        }
    }
    let decode = t.elapsed().as_secs_f64();
    let prefix_updates: usize = msgs
        .iter()
        .map(|m| match &m.event {
            RouteEvent::Update {
                withdrawn,
                announced,
                ..
            } => withdrawn.len() + announced.len(),
            RouteEvent::PeerState { .. } => 0,
        })
        .sum();
    println!(
        "{} files, {} messages, {} prefix updates; decode {:.2} s ({:.0} msg/s)",
        files.len(),
        msgs.len(),
        prefix_updates,
        decode,
        msgs.len() as f64 / decode
    );

    let mut det = HijackDetector::new(HijackConfig::default(), Arc::new(Evidence::default()));
    let t = Instant::now();
    let table = format!("{DATA}/pfx2as/ipasn_20080501_v12.dat.gz");
    match File::open(&table).map(|f| det.bootstrap_table(f)) {
        Ok(Ok(rep)) => println!(
            "bootstrap {} entries in {:.2} s",
            rep.entries,
            t.elapsed().as_secs_f64()
        ),
        other => println!("bootstrap skipped: {other:?}"),
    }
    let mut out = Vec::new();
    let mut last: Option<Timestamp> = None;
    let mut now = Timestamp::default();
    let t = Instant::now();
    for m in &msgs {
        now = now.max(m.ts);
        match last {
            Some(l) if m.ts.secs_since(l) < 10 => {}
            _ => {
                det.advance(m.ts, &mut out);
                last = Some(m.ts);
            }
        }
        det.observe(m, &peers, &mut out);
    }
    det.finish(now, &mut out);
    let s = t.elapsed().as_secs_f64();
    println!(
        "hijack detector: {} messages in {s:.2} s = {:.2} M msg/s, {:.2} M prefix updates/s; {} changes, stats {:?}",
        msgs.len(),
        msgs.len() as f64 / s / 1e6,
        prefix_updates as f64 / s / 1e6,
        out.len(),
        det.stats()
    );
    let st = det.state_stats();
    println!(
        "replay state: {} prefixes, {} origins, {} routes, {} slots, ~{:.1} MiB",
        st.prefixes,
        st.origins,
        st.routes,
        st.slots,
        st.approx_bytes as f64 / 1048576.0
    );
    println!(
        "detector cost relative to decoding: {:.1} %",
        100.0 * s / decode
    );
}

fn full_table(prefixes: usize, peers: u32) {
    let (rss0, _) = rss_kib();
    let t = Instant::now();
    let mut st = RoutingState::new(86_400);
    let slots: Vec<_> = (0..peers).map(|p| st.slot(PeerId(p), None)).collect();
    let ts = Timestamp::from_secs(1_700_000_000);
    let nets: Vec<IpNet> = (0..prefixes)
        .filter_map(|i| {
            // distinct /24s from 1.0.0.0 up, every 8th one a /22 instead
            let base = (1u32 << 24).wrapping_add((i as u32) << 8);
            let len = if i % 8 == 0 { 22 } else { 24 };
            Ipv4Net::new(Ipv4Addr::from(base), len).ok().map(IpNet::V4)
        })
        .collect();
    for (i, p) in nets.iter().enumerate() {
        st.establish(*p, Asn(1000 + (i % 60_000) as u32));
    }
    for s in &slots {
        for (i, p) in nets.iter().enumerate() {
            st.announce(*p, *s, Some(Asn(1000 + (i % 60_000) as u32)), ts);
        }
    }
    let build = t.elapsed().as_secs_f64();
    let stats = st.stats();
    let (rss1, hwm) = rss_kib();
    println!(
        "full table: {} prefixes x {} peers = {} routes in {build:.1} s; state estimate {} bytes ({:.1} MiB, {:.1} B/prefix); \
         RSS +{:.1} MiB (now {:.1} MiB, peak {:.1} MiB)",
        stats.prefixes,
        peers,
        stats.routes,
        stats.approx_bytes,
        stats.approx_bytes as f64 / 1048576.0,
        stats.approx_bytes as f64 / stats.prefixes.max(1) as f64,
        rss1.saturating_sub(rss0) as f64 / 1024.0,
        rss1 as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
    drop(nets);
    drop(st);
}

fn main() {
    let files = env_usize("HIJACK_BENCH_FILES", 48);
    if files > 0 {
        throughput(files);
    }
    let prefixes = env_usize("HIJACK_BENCH_PREFIXES", 1_000_000);
    let peers = env_usize("HIJACK_BENCH_PEERS", 300) as u32;
    if prefixes > 0 {
        full_table(prefixes, peers);
    }
}

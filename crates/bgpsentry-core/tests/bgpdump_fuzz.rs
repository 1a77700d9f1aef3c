//! Deterministic mutation fuzzing of the decoding path, for machines
//! without nightly (the libFuzzer target is `fuzz/fuzz_targets/mrt_dump.rs`).
//!
//! Cuts of the real sample files (raw and re-compressed) are mutated with a
//! seeded xorshift RNG — byte flips, truncation, random insertions and
//! deletions, duplicated and swapped chunks, corrupted MRT length/type
//! fields — and fed through `decompress` → `RecordReader` →
//! `StreamDecoder::decode` and bgpkit → `Printer`. Nothing may panic, and
//! the reader must advance (at most one item per input byte, plus the end).

use std::cell::Cell;
use std::io::{Cursor, Read, Write};
use std::rc::Rc;

use bgpsentry_core::mrt::bgpdump::Printer;
use bgpsentry_core::mrt::{RecordReader, StreamDecoder, decompress};

const MRT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/mrt");

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

struct Counting<R> {
    inner: R,
    n: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.set(self.n.get() + k as u64);
        Ok(k)
    }
}

/// Runs one input through the whole path; returns (items, lines).
fn exercise(data: &[u8]) -> (u64, u64) {
    let Ok((_, r)) = decompress(Cursor::new(data.to_vec())) else {
        return (0, 0);
    };
    let n = Rc::new(Cell::new(0u64));
    let mut decoder = StreamDecoder::new();
    let mut printer = Printer::new();
    let mut out = Vec::new();
    let (mut items, mut lines) = (0u64, 0u64);
    for item in RecordReader::new(Counting {
        inner: r,
        n: Rc::clone(&n),
    }) {
        items += 1;
        assert!(items <= n.get() + 2, "reader does not advance");
        let Ok(fr) = item else { continue };
        if let Ok(rec) = fr.raw.clone().parse() {
            out.clear();
            printer.write_record(&rec, &mut out);
            assert!(out.is_empty() || out.ends_with(b"\n"));
            lines += out.iter().filter(|&&b| b == b'\n').count() as u64;
        }
        let _ = decoder.decode(fr);
    }
    (items, lines)
}

fn decompressed(rel: &str, max: usize) -> Vec<u8> {
    let f = std::fs::File::open(format!("{MRT}/{rel}")).expect("sample");
    let (_, r) = decompress(f).expect("open");
    let mut v = Vec::new();
    let _ = r.take(max as u64).read_to_end(&mut v);
    v
}

fn seeds() -> Vec<Vec<u8>> {
    let mut s: Vec<Vec<u8>> = [
        "ripe-bgpdump-testdata/updates.20071015.1505.gz",
        "ripe-bgpdump-testdata/updates.20020722.2238.gz",
        "ripe-bgpdump-testdata/updates.20160811.1600.gz",
        "ripe-bgpdump-testdata/updates.et-header.2015.gz",
        "ripe-bgpdump-testdata/updates.nlri_mask_trailing_bits.gz",
        "ripe-bgpdump-testdata/updates.long_withdrawal.gz",
        "ripe-bgpdump-testdata/bview.20020722.2337.gz",
        "ripe-bgpdump-testdata/bview.64k_stream_overflow.gz",
        "ripe-bgpdump-testdata/bview.ipv4_unicast_add_path.gz",
        "ripe-bgpdump-testdata/bview.ipv6_unicast_add_path.gz",
        "mrtparse-samples/bird6-mrtdump_bgp",
        "mrtparse-samples/bird_bgp",
        "mrtparse-samples/openbgpd_rib_table",
        "mrtparse-samples/openbgpd_rib_table-mp",
        "mrtparse-samples/openbgpd_rib_table-v2",
        "mrtparse-samples/quagga_rib",
        "bgpkit/updates.bz2",
        "pyasn-ribs/rib6.20151101.0600_firstMB.bz2",
    ]
    .iter()
    .map(|f| decompressed(f, 6000))
    .collect();
    // Compressed forms, so the decompressors see damage too.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&s[0][..3000]).expect("gz");
    let gz = gz.finish().expect("gz");
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    bz.write_all(&s[3][..3000]).expect("bz");
    let bz = bz.finish().expect("bz");
    s.push(gz);
    s.push(bz);
    s
}

fn mutate(rng: &mut Rng, src: &[u8]) -> Vec<u8> {
    let mut v = src.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(8) {
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(len);
                    if let Some(b) = v.get_mut(i) {
                        *b ^= 1 << rng.below(8);
                    }
                }
            }
            1 => v.truncate(rng.below(len + 1)),
            2 => {
                let at = rng.below(len + 1);
                let junk: Vec<u8> = (0..1 + rng.below(40)).map(|_| rng.next() as u8).collect();
                v.splice(at..at, junk);
            }
            3 => {
                let at = rng.below(len);
                let n = rng.below(64).min(len - at.min(len));
                v.drain(at..at + n);
            }
            4 => {
                // Duplicate a chunk somewhere else.
                let a = rng.below(len);
                let n = rng.below(256).min(len - a.min(len));
                let chunk = v[a..a + n].to_vec();
                let at = rng.below(v.len() + 1);
                v.splice(at..at, chunk);
            }
            5 => {
                // Interesting values at a random place (lengths, counts, AFIs).
                let at = rng.below(len.saturating_sub(4));
                let val: [u8; 4] = match rng.below(6) {
                    0 => [0xff; 4],
                    1 => [0; 4],
                    2 => [0, 0, 0xff, 0xff],
                    3 => [0x80, 0, 0, 0],
                    4 => [0, 2, 0, 0x20],
                    _ => (rng.next() as u32).to_be_bytes(),
                };
                for (k, b) in val.iter().enumerate().take(1 + rng.below(4)) {
                    if let Some(x) = v.get_mut(at + k) {
                        *x = *b;
                    }
                }
            }
            6 => {
                // Corrupt the first MRT header's type/subtype/length.
                if len >= 12 {
                    let i = 4 + rng.below(8);
                    v[i] = rng.next() as u8;
                }
            }
            _ => {
                // Zero a run (prefix lengths 0, empty segments, ...).
                let at = rng.below(len);
                let n = rng.below(16).min(len - at.min(len));
                v[at..at + n].fill(0);
            }
        }
    }
    v
}

#[test]
fn unmutated_seeds_decode() {
    for s in seeds() {
        let (items, _) = exercise(&s);
        assert!(items > 0);
    }
}

#[test]
fn mutated_samples_never_panic_and_the_reader_ends() {
    let seeds = seeds();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let cases: usize = std::env::var("BGPSENTRY_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let (mut items, mut lines) = (0u64, 0u64);
    for case in 0..cases {
        let src = &seeds[case % seeds.len()];
        let input = mutate(&mut rng, src);
        let r = std::panic::catch_unwind(|| exercise(&input));
        match r {
            Ok((i, l)) => {
                items += i;
                lines += l;
            }
            Err(_) => {
                let path = std::env::temp_dir().join(format!("bgpsentry-fuzz-crash-{case}.bin"));
                let _ = std::fs::write(&path, &input);
                panic!("case {case} panicked; input saved to {}", path.display());
            }
        }
    }
    println!("{cases} cases, {items} reader items, {lines} lines printed");
    assert!(items > cases as u64);
}

/// Record offsets and sizes of a clean stream, walking its headers.
fn walk(data: &[u8]) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    let mut at = 0;
    while at + 12 <= data.len() {
        let len = u32::from_be_bytes([data[at + 8], data[at + 9], data[at + 10], data[at + 11]]);
        let size = 12 + len as usize;
        v.push((at, size));
        at += size;
    }
    assert_eq!(at, data.len(), "the sample ends on a record boundary");
    v
}

/// Offsets of the records framed, and the damage reported.
fn frame(data: &[u8]) -> (Vec<u64>, Vec<bgpsentry_core::mrt::Damage>) {
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    for item in RecordReader::new(Cursor::new(data.to_vec())) {
        match item {
            Ok(r) => ok.push(r.offset),
            Err(d) => bad.push(d),
        }
    }
    (ok, bad)
}

/// Issue 19, item 5: one corrupted record length (0x200000 swallowed about
/// 20,500 records of this file) costs that record, reported with its offset
/// and what was skipped; so does a length running past the end of the stream
/// or one byte too long. One byte too short delivers the record (its decoder
/// judges the body) and skips the byte left over as garbage.
#[test]
fn a_corrupted_length_costs_one_record_not_the_rest_of_the_file() {
    use bgpsentry_core::mrt::DamageKind;
    let data = decompressed(
        "incident-youtube-2008/updates.20080224.1201.bz2",
        usize::MAX,
    );
    let recs = walk(&data);
    let (clean, damage) = frame(&data);
    assert!(damage.is_empty(), "{damage:?}");
    assert_eq!(clean.len(), recs.len());
    assert!(recs.len() > 20_000, "{} records", recs.len());
    let n = recs.len();
    for (victim, new_len) in [
        (n / 3, 0x0020_0000u32),
        (n / 2, 0x00ff_fff0),
        (n / 4, (recs[n / 4].1 - 12 + 1) as u32),
        (0, 0x0001_0000),
        (n - 2, 0x0010_0000),
    ] {
        let (at, size) = recs[victim];
        let mut bad = data.clone();
        bad[at + 8..at + 12].copy_from_slice(&new_len.to_be_bytes());
        let (ok, damage) = frame(&bad);
        let expected: Vec<u64> = clean.iter().copied().filter(|&o| o != at as u64).collect();
        assert_eq!(ok.len(), n - 1, "record {victim}, length {new_len:#x}");
        assert_eq!(ok, expected, "record {victim}, length {new_len:#x}");
        assert_eq!(damage.len(), 1, "{damage:?}");
        let d = &damage[0];
        assert_eq!(d.offset, at as u64);
        assert_eq!(
            d.kind,
            DamageKind::BadLength {
                announced: new_len,
                skipped: size as u64,
            }
        );
        let text = d.to_string();
        assert!(text.starts_with(&format!("byte {at}: ")), "{text}");
        assert!(text.contains("skipped 1 record"), "{text}");
        assert!(text.contains(&format!("({size} bytes)")), "{text}");
    }
    // One byte too short.
    let (at, size) = recs[10];
    let mut short = data.clone();
    short[at + 8..at + 12].copy_from_slice(&((size - 12 - 1) as u32).to_be_bytes());
    let (ok, damage) = frame(&short);
    assert_eq!(ok, clean);
    assert_eq!(
        damage
            .iter()
            .map(|d| (d.offset, d.kind.clone()))
            .collect::<Vec<_>>(),
        vec![(
            (at + size - 1) as u64,
            DamageKind::Garbage {
                skipped: 1,
                resynced: true
            }
        )]
    );
    // A length past the end of the last record is a truncation, as before.
    let (at, size) = recs[n - 1];
    let mut cut = data.clone();
    cut[at + 8..at + 12].copy_from_slice(&0x0010_0000u32.to_be_bytes());
    let (ok, damage) = frame(&cut);
    assert_eq!(ok.len(), n - 1);
    assert_eq!(
        damage
            .iter()
            .map(|d| (d.offset, d.kind.clone()))
            .collect::<Vec<_>>(),
        vec![(
            at as u64,
            DamageKind::Truncated {
                expected: 12 + 0x0010_0000,
                got: size as u64
            }
        )]
    );
}

//! Throughput of the leak detector (a plain `harness = false` bench; no
//! timing thresholds anywhere). Over the first `LEAK_BENCH_FILES` (default
//! 8, two hours) YouTube 2008 update files with relationships inferred from
//! them, it measures:
//!
//! 1. MRT decode alone (bz2 + framing + decoding), for scale;
//! 2. the per-path check alone (`Checker`), in paths/s;
//! 3. the whole detector (`observe` + `advance`), in messages/s and paths/s.
//!
//! `cargo bench -p bgpsentry-core --bench leak`

use std::fs::File;
use std::time::Instant;

use bgpsentry_core::detect::Detector;
use bgpsentry_core::detect::leak::{LeakConfig, LeakDetector};
use bgpsentry_core::evidence::{AsRelInference, Evidence};
use bgpsentry_core::model::{PeerTable, RouteEvent, RouteMessage, Timestamp};
use bgpsentry_core::mrt::{RecordReader, StreamDecoder, decompress};

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/mrt/incident-youtube-2008"
);

fn main() {
    let n: usize = std::env::var("LEAK_BENCH_FILES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let mut files: Vec<String> = match std::fs::read_dir(DATA) {
        Ok(d) => d
            .filter_map(|e| e.ok())
            .map(|e| e.path().display().to_string())
            .collect(),
        Err(e) => {
            eprintln!("no data at {DATA}: {e}");
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
    let paths: Vec<_> = msgs
        .iter()
        .filter_map(|m| match &m.event {
            RouteEvent::Update { attrs: Some(a), .. } => Some(a.clone()),
            _ => None,
        })
        .collect();
    println!(
        "{} files, {} messages, {} paths; decode {:.2} s ({:.0} msg/s)",
        files.len(),
        msgs.len(),
        paths.len(),
        decode,
        msgs.len() as f64 / decode
    );

    let mut inf = AsRelInference::new();
    for p in &paths {
        if let Some(seq) = p.as_path.dedup_sequence() {
            inf.observe(&seq);
        }
    }
    let t = Instant::now();
    let asrel = inf.infer();
    println!(
        "inference over {} unique paths: {:.2} s, {} edges",
        inf.stats().unique,
        t.elapsed().as_secs_f64(),
        asrel.len()
    );
    let ev = Evidence {
        asrel,
        ..Evidence::default()
    };

    // 2. The check alone, repeated until at least 2 s have passed.
    let mut d = LeakDetector::new(LeakConfig::default(), &ev);
    let t = Instant::now();
    let (mut checked, mut leaks) = (0u64, 0u64);
    while t.elapsed().as_secs_f64() < 2.0 {
        for p in &paths {
            leaks += u64::from(d.check_path(p).is_some());
        }
        checked += paths.len() as u64;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "check alone: {checked} paths in {s:.2} s = {:.2} M paths/s ({leaks} leaking)",
        checked as f64 / s / 1e6
    );

    // 3. The detector over the stream.
    let mut d = LeakDetector::new(LeakConfig::default(), &ev);
    let mut out = Vec::new();
    let mut last: Option<Timestamp> = None;
    let t = Instant::now();
    for m in &msgs {
        match last {
            Some(l) if m.ts.secs_since(l) < 10 => {}
            _ => {
                d.advance(m.ts, &mut out);
                last = Some(m.ts);
            }
        }
        d.observe(m, &peers, &mut out);
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "detector: {} messages in {s:.3} s = {:.2} M msg/s, {:.2} M paths/s; {} changes, {} events raised",
        msgs.len(),
        msgs.len() as f64 / s / 1e6,
        paths.len() as f64 / s / 1e6,
        out.len(),
        d.stats().raised
    );
    println!(
        "detector cost relative to decoding: {:.1} %",
        100.0 * s / decode
    );
}

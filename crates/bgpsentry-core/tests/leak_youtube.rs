//! The 12-hour YouTube 2008 replay (route-views2, 48 update files) through
//! the leak detector with relationships inferred from the same data (first
//! pass: AS-Rank inference over every path; second pass: detection), as
//! reported in `docs/validation.md` § Route leaks. Slow (two passes over
//! 1.3 M records), so ignored by default:
//!
//! `cargo test -p bgpsentry-core --release --test leak_youtube -- --ignored --nocapture`

mod leak_common;

use std::fs::File;

use bgpsentry_core::detect::leak::{LeakConfig, LeakDetector};
use bgpsentry_core::evidence::{AsRelInference, Evidence, OrgTable, read_as2org};
use bgpsentry_core::model::{ChangeKind, Event, LeakEvent};
use leak_common::*;

fn files() -> Vec<String> {
    let dir = format!("{DATA}/mrt/incident-youtube-2008");
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .expect("youtube dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path().display().to_string())
        .filter(|p| p.ends_with(".bz2"))
        .collect();
    v.sort();
    v
}

#[test]
#[ignore = "two passes over 1.3 M records; run with --release -- --ignored --nocapture"]
fn youtube_2008_leaks_with_inferred_relationships() {
    let files = files();
    assert_eq!(files.len(), 48);
    let mut inf = AsRelInference::new();
    for f in &files {
        inf.observe_mrt(File::open(f).expect("open")).expect("read");
    }
    let asrel = inf.infer();
    let mut orgs = OrgTable::new();
    let as2org = format!("{DATA}/as2org/20080402.as-org2info.jsonl.gz");
    read_as2org(File::open(&as2org).expect("as2org"), "as2org", &mut orgs).expect("as2org");
    println!(
        "inference: {:?}; {} edges, clique {:?}",
        inf.stats(),
        asrel.len(),
        asrel.clique()
    );
    let ev = Evidence {
        asrel,
        orgs,
        ..Evidence::default()
    };

    let min_peers: usize = std::env::var("LEAK_MIN_PEERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let mut cfg = LeakConfig {
        min_peers,
        ..LeakConfig::default()
    };
    if let Some(c) = std::env::var("LEAK_MIN_CONFIDENCE")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        cfg.check.min_confidence = c;
    }
    println!(
        "min_peers {min_peers}, min_confidence {}",
        cfg.check.min_confidence
    );
    let mut d = LeakDetector::new(cfg, ev);
    let mut changes = Vec::new();
    let mut peers = bgpsentry_core::model::PeerTable::new();
    let mut msgs = Vec::new();
    for f in &files {
        let rel = f.trim_start_matches(DATA).trim_start_matches('/');
        msgs.extend(read_mrt_into(rel, "route-views2", &mut peers));
        if msgs.len() > 200_000 {
            changes.extend(run_open(&mut d, &msgs, &peers));
            msgs.clear();
        }
    }
    changes.extend(run(&mut d, &msgs, &peers));
    let mut last: std::collections::BTreeMap<u64, LeakEvent> = Default::default();
    for c in &changes {
        if let Event::Leak(e) = &c.event {
            last.insert(e.id, e.clone());
        }
    }
    let ended = changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Ended)
        .count();
    println!("stats: {:#?}", d.stats());
    println!(
        "events: {} ({} ended, {} changes)",
        last.len(),
        ended,
        changes.len()
    );
    let mut by_size: Vec<&LeakEvent> = last.values().collect();
    by_size.sort_by_key(|e| (std::cmp::Reverse(e.prefix_count), e.id));
    let mut types = [0usize; 5];
    for e in last.values() {
        types[usize::from(e.leak_type).min(4)] += 1;
    }
    println!("by type: {types:?}");
    for e in by_size.iter().take(15) {
        let (f, b, t) = (e.leak_seg[0], e.leak_seg[1], e.leak_seg[2]);
        let k = d.knowledge();
        println!(
            "   edges: from {:?} / to {:?}; countries {:?}",
            k.asrel.rel(f, b),
            k.asrel.rel(t, b),
            e.countries
        );
        println!(
            "id {} seg {:?} type {} prefixes {} origins {} peers {} leaks {} {}..{} finished {} sample {:?}",
            e.id,
            e.leak_seg.iter().map(|a| a.0).collect::<Vec<_>>(),
            e.leak_type,
            e.prefix_count,
            e.origin_count,
            e.peer_count,
            e.leak_count,
            e.min_ts,
            e.max_ts,
            e.finished,
            e.sample_paths.first().map(|s| s.as_path.clone())
        );
    }
}

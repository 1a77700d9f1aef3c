//! Golden tests on an ordinary day of route-views2 (2008-02-21,
//! `../shared/data/SOURCES.md` §1b) through the real `bgpsentry replay`:
//! the typo'd prefix of that day is raised with high confidence, and one
//! peer's table re-send at 07:11 is state synchronisation, not a dozen
//! hijacks. Slices of a few files keep them short; the whole-day numbers
//! are in `docs/validation.md`.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn day_files(from: &str, to: &str) -> Vec<String> {
    let dir = PathBuf::from(format!("{DATA}/mrt/routeviews-2008-ordinary/20080221"));
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .expect("day directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            (from..=to).contains(&n)
        })
        .map(|p| p.display().to_string())
        .collect();
    v.sort();
    v
}

/// Hijack events of `replay --json` over `files` with the 2008 baseline.
fn hijacks(files: &[String], extra: &[&str]) -> Vec<Value> {
    let mut args = vec![
        "replay".to_string(),
        "--json".into(),
        "--no-progress".into(),
        "--no-leak".into(),
        "--bootstrap".into(),
        format!("{DATA}/pfx2as/ipasn_20080501_v12.dat.gz"),
        "--as2org".into(),
        format!("{DATA}/as2org/20080402.as-org2info.jsonl.gz"),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(files.iter().cloned());
    let out = Command::new(env!("CARGO_BIN_EXE_bgpsentry"))
        .args(&args)
        .output()
        .expect("run bgpsentry");
    // the day's files hold UPDATEs the collector truncated: partial (3)
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["kind"] == "hijack")
        .collect()
}

fn tag_names(e: &Value) -> Vec<String> {
    e["tags"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|t| t["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_typo_of_2008_02_21_is_high_confidence() {
    // 09:08 → 10:08; AS9708 (KR), holder of 210.98.34.0/24, announces IIJ's
    // 210.138.34.0/24 from 09:32:28
    let files = day_files("updates.20080221.0908.bz2", "updates.20080221.1008.bz2");
    assert_eq!(files.len(), 5);
    let events = hijacks(&files, &[]);
    let typo: Vec<&Value> = events
        .iter()
        .filter(|e| e["hijacker_asn"] == 9708)
        .collect();
    assert_eq!(typo.len(), 1, "{typo:#?}");
    let e = typo[0];
    assert_eq!(e["prefixes"], serde_json::json!(["210.138.34.0/24"]));
    assert_eq!(e["victim_asns"], serde_json::json!([2497]));
    assert_eq!(e["min_hijack_ts"], "2008-02-21T09:32:28.000");
    let tags = tag_names(e);
    assert!(tags.contains(&"typo_of_own_prefix".to_string()), "{tags:?}");
    assert!(e["confidence_score"].as_i64().unwrap_or(0) >= 8, "{e:#}");
    // nothing else in the slice is called a typo
    let others = events
        .iter()
        .filter(|e| tag_names(e).contains(&"typo_of_own_prefix".to_string()))
        .count();
    assert_eq!(others, 1);
}

#[test]
fn a_table_resend_opens_no_events() {
    // 06:49 → 07:21; peer 64.71.255.61 (AS812) re-sends its table at
    // 07:11:36 (no STATE_CHANGE in the archive: only the burst tells)
    let files = day_files("updates.20080221.0649.bz2", "updates.20080221.0721.bz2");
    assert_eq!(files.len(), 3);
    // events the re-sending peer opened (its path is the event's first
    // sample) during the burst
    let in_burst = |events: &[Value]| {
        events
            .iter()
            .filter(|e| {
                e["min_hijack_ts"]
                    .as_str()
                    .is_some_and(|t| ("2008-02-21T07:11:30".."2008-02-21T07:13:00").contains(&t))
                    && e["sample_paths"][0]["peer_ip"] == "64.71.255.61"
            })
            .count()
    };
    let without = hijacks(&files, &["--resync-min-prefixes", "0"]);
    let with = hijacks(&files, &[]);
    assert!(
        in_burst(&without) >= 5,
        "the re-send opens events when taken as news: {}",
        in_burst(&without)
    );
    // the announcements before the burst crossed the threshold (its first
    // second: 07:11:36) are judged as usual; one of them is a candidate
    assert!(in_burst(&with) <= 1, "{with:#?}");
    assert!(with.len() < without.len());
}

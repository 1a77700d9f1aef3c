//! `bgpsentry bench-firehose` end to end: a real websocket server on
//! 127.0.0.1 replays RouteViews updates as RIS Live frames into the real
//! RIS Live source and the detectors. Asserts that nothing offered is lost
//! (every frame sent is decoded and processed) and that the report is
//! complete; no timing thresholds (the machines are noisy).

use std::process::Command;

const UPDATES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/mrt/incident-youtube-2008/updates.20080224.1201.bz2"
);

#[test]
fn firehose_replay_loses_nothing() {
    let out = Command::new(env!("CARGO_BIN_EXE_bgpsentry"))
        .args([
            "bench-firehose",
            "--mrt",
            UPDATES,
            "--rate",
            "2000",
            "--seconds",
            "3",
            "--burst-every",
            "2",
            "--burst-secs",
            "1",
            "--json",
        ])
        .output()
        .expect("run bench-firehose");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("one JSON report on stdout");
    let sent = r["sent"].as_u64().expect("sent");
    let processed_all = r["processed"].as_u64().expect("processed");
    assert!(sent > 1000, "the server sent frames: {r}");
    assert!(r["frames"].as_u64().is_some_and(|f| f > 10_000), "{r}");
    // `processed` is counted at the end of the timed window; after the
    // drain every frame sent has been decoded and seen by the detectors.
    assert!(processed_all <= sent, "{r}");
    assert_eq!(
        r["processed_after_drain"], r["sent_total"],
        "lost frames: {r}"
    );
    assert!(
        r["drain_secs"].as_f64().is_some_and(|d| d < 60.0),
        "drained: {r}"
    );
    assert!(r["peak_rss_mib"].as_f64().is_some_and(|m| m > 0.0), "{r}");
    assert!(r["cpu_per_1k_per_sec"].as_f64().is_some(), "{r}");
}

//! "Monitoring blind" through the alert channels: a daemon follows a
//! directory of MRT files (a live source); the directory stops receiving
//! files, the source goes silent past `blind_after_secs` (4 s), and a real
//! webhook receiver on 127.0.0.1 gets exactly one "blind" notice; when a
//! file arrives again it gets exactly one "recovered" notice. The JSON
//! bytes are checked field by field and byte for byte. (The daemon also
//! writes its periodic checkpoint every second here.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod alert_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use alert_support::{Receiver, Req};
use bgpsentry_core::model::Timestamp;
use serde_json::{Value, json};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn wait_for(rx: &Receiver, n: usize, limit: Duration) -> Vec<Req> {
    let start = Instant::now();
    loop {
        let r = rx.reqs();
        if r.len() >= n || start.elapsed() > limit {
            return r;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `95 s` / `1 min 5 s`, as the notices print durations.
fn human(s: u64) -> String {
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{} min {} s", s / 60, s % 60)
    }
}

/// The RFC 3339 time as the notice text prints it (`2026-01-02 10:00:00 UTC`).
fn text_time(rfc3339: &str) -> String {
    format!("{} UTC", rfc3339[..19].replace('T', " "))
}

/// Checks one received notice against what the daemon must have sent,
/// rebuilt from the variable parts (times, durations) it carries, then
/// compares the bytes exactly.
fn check_notice(req: &Req, stage: &str, started: Timestamp) -> Value {
    assert_eq!(req.method, "POST");
    assert_eq!(req.uri, "/hook");
    let v = req.json();
    let silent = v["silent_for_secs"].as_u64().expect("silent_for_secs");
    let last = v["last_message"]
        .as_str()
        .expect("last_message")
        .to_string();
    let noticed = v["noticed_at"].as_str().expect("noticed_at").to_string();
    let last_ts = Timestamp::parse(&last).expect("last_message is RFC 3339");
    let noticed_ts = Timestamp::parse(&noticed).expect("noticed_at is RFC 3339");
    assert!(last_ts >= started, "last message after the test started");
    assert!(noticed_ts >= last_ts);
    let key = format!("bgpsentry-source-feed-{stage}-{}", last_ts.0 / 1000);
    let (title, text) = match stage {
        "blind" => {
            assert!((4..30).contains(&silent), "silent {silent} s");
            (
                format!(
                    "[bgpsentry] Monitoring blind: source feed (mrt-follow) silent for {}",
                    human(silent)
                ),
                format!(
                    "Monitoring blind: source feed (mrt-follow) has delivered no route message for {} (silent for more than 4 s).\nLast message: {}\nHijacks and leaks visible only through this source are not being detected.",
                    human(silent),
                    text_time(&last)
                ),
            )
        }
        _ => (
            format!(
                "[bgpsentry] Monitoring restored: source feed (mrt-follow) after {}",
                human(silent)
            ),
            format!(
                "Monitoring restored: source feed (mrt-follow) delivers route messages again after {} blind (silent for more than 4 s).\nLast message: {}",
                human(silent),
                text_time(&last)
            ),
        ),
    };
    let expected = json!({
        "type": "bgpsentry.source",
        "version": 1,
        "idempotency_key": key,
        "stage": stage,
        "source": "feed",
        "source_kind": "mrt-follow",
        "reason": "silent for more than 4 s",
        "silent_for_secs": silent,
        "last_message": last,
        "noticed_at": noticed,
        "title": title,
        "text": text,
    });
    assert_eq!(
        req.text(),
        String::from_utf8(serde_json::to_vec(&expected).expect("json")).expect("utf8"),
        "body bytes"
    );
    assert_eq!(req.header("Idempotency-Key"), Some(key.as_str()));
    assert_eq!(
        req.header("Content-Type"),
        Some("application/json; charset=utf-8")
    );
    v
}

fn copy(from: &str, dir: &Path, name: &str) {
    // Written under a temporary name, then renamed: the follower never
    // sees half a file.
    let tmp = dir.join(format!(".{name}.part"));
    std::fs::copy(format!("{DATA}/{from}"), &tmp).expect("copy");
    std::fs::rename(&tmp, dir.join(name)).expect("rename");
}

#[test]
fn a_silent_source_is_notified_once_blind_and_once_recovered() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let rx = rt.block_on(Receiver::start());
    let tmp = tempfile::tempdir().expect("tempdir");
    let incoming = tmp.path().join("incoming");
    std::fs::create_dir_all(&incoming).expect("mkdir");
    let alerts = tmp.path().join("alerts.toml");
    std::fs::write(
        &alerts,
        format!(
            r#"
[[watch]]
name = "everything"
[[channel]]
type = "webhook"
name = "hook"
url = "{}"
"#,
            rx.url("/hook")
        ),
    )
    .expect("alerts.toml");
    let config = tmp.path().join("bgpsentry.toml");
    std::fs::write(
        &config,
        format!(
            r#"
db = "{db}"
listen = "127.0.0.1:0"
alerts = "{alerts}"
[detect]
args = ["--no-leak"]
[blind_alerts]
startup_grace_secs = 2
[checkpoint]
interval_secs = 1
[[source]]
type = "mrt-follow"
name = "feed"
dir = "{dir}"
prefix = "updates"
poll_secs = 1
settle_secs = 0
start = "all"
blind_after_secs = 4
"#,
            db = tmp.path().join("events.sqlite").display(),
            alerts = alerts.display(),
            dir = incoming.display(),
        ),
    )
    .expect("config");
    let started = Timestamp(
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_micros(),
        )
        .expect("micros"),
    );
    copy("mrt/bgpkit/updates.bz2", &incoming, "updates.1.bz2");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bgpsentry"))
        .args(["run", "-c"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the daemon");

    // The file is ingested at once; then nothing more arrives.
    let reqs = wait_for(&rx, 1, Duration::from_secs(60));
    assert_eq!(reqs.len(), 1, "one blind notice");
    let blind = check_notice(&reqs[0], "blind", started);
    // Still blind: no second notice however many checks pass.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        rx.reqs().len(),
        1,
        "one notice per transition, not per check"
    );

    copy(
        "mrt/libbgpstream/ris.rrc06.updates.1427846400.gz",
        &incoming,
        "updates.2.gz",
    );
    let reqs = wait_for(&rx, 2, Duration::from_secs(30));
    assert_eq!(reqs.len(), 2, "one recovered notice");
    let recovered = check_notice(&reqs[1], "recovered", started);
    assert!(
        recovered["silent_for_secs"].as_u64() >= blind["silent_for_secs"].as_u64(),
        "the recovery reports the whole silence"
    );
    assert!(recovered["last_message"].as_str() > blind["last_message"].as_str());
    // Periodic checkpoints were written while the source ran.
    assert!(tmp.path().join("events.sqlite.checkpoint").exists());
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(st.success());
    let status = child.wait().expect("wait");
    // The recovery was the last transition: nothing after it (the daemon
    // stopping is not a feed going blind).
    assert_eq!(rx.reqs().len(), 2, "{:?}", rx.reqs());
    assert_eq!(status.code(), Some(0));
}

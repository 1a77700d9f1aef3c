//! The offline quick start, end to end: `bgpsentry run --demo` simulates a
//! hijack and a route leak, detects them, stores them, serves them through
//! the Radar-compatible API and delivers alerts to a webhook receiver on
//! 127.0.0.1 — what a new user sees on a machine with no network.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn demo_detects_stores_and_alerts_then_exits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_bgpsentry"))
        .args([
            "run",
            "--demo",
            "--exit-after-replay",
            "--listen",
            "127.0.0.1:0",
            "--demo-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout {stdout}\nstderr {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The injected exact-prefix hijack: AS2148 takes AS11624's prefix, which
    // has a ROA, so the alert says "high".
    assert!(
        stdout.contains("New BGP hijack 1: AS2148 announced 1 prefix(es) of AS11624 (high)"),
        "{stdout}"
    );
    assert!(stdout.contains("Resolved BGP hijack 1"), "{stdout}");
    assert!(
        stdout.contains("New BGP route leak 1 by AS2308"),
        "{stdout}"
    );
    assert!(stdout.contains("0 failed attempts"), "{stdout}");
    assert!(dir.path().join("events.sqlite").exists());
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn has_events(v: &Value) -> bool {
    v["result"]["events"]
        .as_array()
        .is_some_and(|e| !e.is_empty())
}

fn get(url: &str) -> Option<Value> {
    let resp = reqwest::blocking::get(url).ok()?;
    resp.json().ok()
}

#[test]
fn demo_serves_events_through_the_radar_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_bgpsentry"))
        .args([
            "run",
            "--demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--demo-dir",
        ])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the daemon");
    let _guard = KillOnDrop(child);
    let base = format!("http://127.0.0.1:{port}/client/v4/radar/bgp");
    let started = Instant::now();
    let mut hijacks = Value::Null;
    while started.elapsed() < Duration::from_secs(120) {
        let url = format!("{base}/hijacks/events?per_page=10&sortBy=ID&sortOrder=DESC");
        if let Some(v) = get(&url)
            && has_events(&v)
        {
            hijacks = v;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        hijacks["success"], true,
        "no hijack served in time: {hijacks}"
    );
    let e = &hijacks["result"]["events"][0];
    assert_eq!(e["hijacker_asn"], 2148);
    assert_eq!(e["victim_asns"][0], 11624);
    assert_eq!(e["prefixes"][0], "2a0e:150::/48");
    let tags: Vec<&str> = e["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(tags.contains(&"rpki_new_origin_invalid"), "{tags:?}");
    assert!(e["confidence_score"].as_i64().unwrap_or(0) >= 8);
    assert!(hijacks["result"]["total_monitors"].as_u64().unwrap_or(0) > 0);

    let leaks = get(&format!("{base}/leaks/events?leakAsn=2308")).unwrap_or_default();
    let events = leaks["result"]["events"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!events.is_empty(), "{leaks}");
    assert!(
        events
            .iter()
            .all(|l| l["leak_asn"] == 2308 && l["leak_type"] == 1)
    );
}

#[test]
fn replay_into_a_store_then_serve_returns_the_same_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = env!("CARGO_BIN_EXE_bgpsentry");
    let data = dir.path().join("data");
    let sim = Command::new(bin)
        .args(["simulate", "--demo", "--out"])
        .arg(&data)
        .output()
        .expect("simulate");
    assert!(
        sim.status.success(),
        "{}",
        String::from_utf8_lossy(&sim.stderr)
    );
    let db = dir.path().join("events.sqlite");
    let replay = Command::new(bin)
        .args(["replay", "--json", "--db"])
        .arg(&db)
        .arg("--asrel")
        .arg(data.join("as-rel.txt"))
        .arg(data.join("mrt"))
        .output()
        .expect("replay");
    assert_eq!(
        replay.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let replayed: Vec<Value> = String::from_utf8_lossy(&replay.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["kind"] == "hijack")
        .collect();
    assert!(!replayed.is_empty());

    let port = free_port();
    let child = Command::new(bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--db"])
        .arg(&db)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let _guard = KillOnDrop(child);
    let url = format!(
        "http://127.0.0.1:{port}/client/v4/radar/bgp/hijacks/events?sortBy=ID&sortOrder=ASC"
    );
    let started = Instant::now();
    let mut served = None;
    while started.elapsed() < Duration::from_secs(60) && served.is_none() {
        served = get(&url);
        std::thread::sleep(Duration::from_millis(100));
    }
    let served = served.expect("serve answered");
    let events = served["result"]["events"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(events.len(), replayed.len());
    for (s, r) in events.iter().zip(&replayed) {
        for k in [
            "id",
            "hijacker_asn",
            "victim_asns",
            "prefixes",
            "confidence_score",
            "min_hijack_ts",
            "max_hijack_ts",
            "tags",
            "peer_ip_count",
        ] {
            assert_eq!(s[k], r[k], "field {k}");
        }
    }
}

#[test]
fn daemon_follows_a_directory_and_serves_what_arrives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = env!("CARGO_BIN_EXE_bgpsentry");
    let data = dir.path().join("data");
    let sim = Command::new(bin)
        .args(["simulate", "--demo", "--out"])
        .arg(&data)
        .output()
        .expect("simulate");
    assert!(
        sim.status.success(),
        "{}",
        String::from_utf8_lossy(&sim.stderr)
    );
    let follow = dir.path().join("incoming");
    std::fs::create_dir_all(&follow).expect("mkdir");
    let port = free_port();
    let config = dir.path().join("bgpsentry.toml");
    std::fs::write(
        &config,
        format!(
            r#"
db = "{db}"
listen = "127.0.0.1:{port}"
[evidence]
asrel = "{asrel}"
[[source]]
type = "mrt-follow"
dir = "{follow}"
prefix = ""
collector = "sim00"
poll_secs = 1
settle_secs = 0
start = "all"
"#,
            db = dir.path().join("events.sqlite").display(),
            asrel = data.join("as-rel.txt").display(),
            follow = follow.display(),
        ),
    )
    .expect("write config");
    let child = Command::new(bin)
        .args(["run", "-c"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the daemon");
    let _guard = KillOnDrop(child);
    // The archive arrives while the daemon runs: the RIB first, then updates.
    let mut files: Vec<_> = std::fs::read_dir(data.join("mrt/sim00"))
        .expect("sim output")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort_by_key(|p| !p.to_string_lossy().contains("bview"));
    for f in files {
        std::thread::sleep(Duration::from_millis(1500));
        let name = f.file_name().map(|n| n.to_owned()).unwrap_or_default();
        std::fs::copy(&f, follow.join(name)).expect("copy");
    }
    let url = format!("http://127.0.0.1:{port}/client/v4/radar/bgp/hijacks/events");
    let started = Instant::now();
    let mut found = Value::Null;
    while started.elapsed() < Duration::from_secs(90) {
        if let Some(v) = get(&url)
            && has_events(&v)
        {
            found = v;
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let e = &found["result"]["events"][0];
    assert_eq!(e["hijacker_asn"], 2148, "{found}");
    assert_eq!(e["victim_asns"][0], 11624);
    // Feed health of the live source is on /metrics.
    let metrics = reqwest::blocking::get(format!("http://127.0.0.1:{port}/metrics"))
        .and_then(|r| r.text())
        .unwrap_or_default();
    assert!(
        metrics.contains("bgpsentry_source_messages_total{"),
        "{metrics}"
    );
    assert!(metrics.contains("source=\"mrt-follow\""), "{metrics}");
}

//! Checkpoint and restart of `bgpsentry run`, on real data: the YouTube
//! 2008 incident window (12 RouteViews update files, 18:24 → 21:26, the
//! hijack runs 18:47 → 21:01) with the 2008 pfx2as table as the baseline.
//!
//! * A daemon following a directory gets the first six files, is stopped
//!   with SIGTERM (checkpoint written), and a second daemon gets the rest.
//!   The events in the store equal those of one uninterrupted daemon (ids,
//!   prefixes, hijacker, start/end, confidence, every stored field), and a
//!   real webhook receiver on 127.0.0.1 got exactly one "new" alert per
//!   event across both runs.
//! * The same split through `--mrt` inputs: the restart skips the inputs
//!   the checkpoint says were replayed.
//! * A truncated checkpoint: a warning naming the file, a fresh start,
//!   exit 0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod alert_support;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use alert_support::Receiver;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
const BIN: &str = env!("CARGO_BIN_EXE_bgpsentry");

/// The incident window, in time order.
fn window() -> Vec<PathBuf> {
    let dir = PathBuf::from(format!("{DATA}/mrt/incident-youtube-2008"));
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("data dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            ("updates.20080224.1824"..="updates.20080224.2111.bz2").contains(&n)
        })
        .collect();
    v.sort();
    assert_eq!(v.len(), 12);
    v
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// AS relationships inferred once from the whole window, so every run uses
/// the same evidence.
fn asrel(dir: &Path) -> PathBuf {
    let out = dir.join("asrel.txt");
    let mut cmd = Command::new(BIN);
    cmd.args(["evidence", "infer-asrel"]);
    cmd.args(window());
    cmd.arg("-o").arg(&out);
    let o = cmd.output().expect("infer-asrel");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

/// Writes the daemon config (and its alert config) into `dir`.
fn config(dir: &Path, asrel: &Path, hook: &str, follow: Option<(&Path, u16)>) -> PathBuf {
    let alerts = dir.join("alerts.toml");
    std::fs::write(
        &alerts,
        format!(
            r#"
[api]
url = "http://127.0.0.1/client/v4"
[rate_limit]
max_messages = 100000
[[watch]]
name = "everything"
[[channel]]
type = "webhook"
name = "hook"
url = "{hook}"
"#
        ),
    )
    .expect("alerts.toml");
    let listen = follow.map_or(0, |(_, port)| port);
    let mut text = format!(
        r#"
db = "{db}"
alerts = "{alerts}"
listen = "127.0.0.1:{listen}"
[detect]
bootstrap = ["{DATA}/pfx2as/ipasn_20080501_v12.dat.gz"]
[evidence]
asrel = "{asrel}"
as2org = "{DATA}/as2org/20080402.as-org2info.jsonl.gz"
"#,
        db = dir.join("events.sqlite").display(),
        alerts = alerts.display(),
        asrel = asrel.display(),
    );
    if let Some((incoming, _)) = follow {
        text.push_str(&format!(
            r#"[[source]]
type = "mrt-follow"
name = "routeviews"
dir = "{dir}"
collector = "route-views2"
poll_secs = 1
settle_secs = 0
start = "all"
state_file = "{state}"
"#,
            dir = incoming.display(),
            state = dir.join("follow.state").display(),
        ));
    }
    let path = dir.join("bgpsentry.toml");
    std::fs::write(&path, text).expect("config");
    path
}

fn metric(port: u16, name: &str) -> Option<f64> {
    let text = reqwest::blocking::get(format!("http://127.0.0.1:{port}/metrics"))
        .ok()?
        .text()
        .ok()?;
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn sigterm(child: &Child) {
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(st.success());
}

/// Runs a following daemon until it has ingested `files` files, then stops
/// it with SIGTERM; returns its output.
fn follow_run(config: &Path, port: u16, files: u64) -> Output {
    let child = Command::new(BIN)
        .args(["run", "-c"])
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the daemon");
    let started = Instant::now();
    let name = "bgpsentry_source_files_total{source=\"routeviews\"";
    loop {
        if metric(port, name).is_some_and(|n| n >= files as f64) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "daemon did not ingest {files} files in time"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    sigterm(&child);
    let out = child.wait_with_output().expect("daemon output");
    println!(
        "--- run ({files} files, {:.1} s):\n{}",
        started.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with("  "))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn copy_into(dir: &Path, files: &[PathBuf]) {
    std::fs::create_dir_all(dir).expect("mkdir");
    for f in files {
        std::fs::copy(f, dir.join(f.file_name().expect("name"))).expect("copy");
    }
}

/// Every stored event: (kind, id) → its row and its stored document, with
/// the bookkeeping column `updated_ts` left out.
fn stored_events(db: &Path) -> BTreeMap<(String, i64), String> {
    let conn = rusqlite::Connection::open(db).expect("open store");
    let mut out = BTreeMap::new();
    for (kind, sql) in [
        (
            "hijack",
            "SELECT h.id, h.hijacker_asn, h.min_ts, h.max_ts, h.confidence, h.finished, d.list_json, d.extra_json \
             FROM hijacks h JOIN hijack_docs d ON d.id = h.id ORDER BY h.id",
        ),
        (
            "leak",
            "SELECT l.id, l.leak_asn, l.min_ts, l.max_ts, l.leak_count, l.finished, d.list_json, d.extra_json \
             FROM leaks l JOIN leak_docs d ON d.id = l.id ORDER BY l.id",
        ),
    ] {
        let mut st = conn.prepare(sql).expect("query");
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    format!(
                        "asn={} min={} max={} n={} finished={} list={} extra={}",
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                    ),
                ))
            })
            .expect("rows");
        for r in rows {
            let (id, row) = r.expect("row");
            out.insert((kind.to_string(), id), row);
        }
    }
    out
}

/// "new" alerts received per event key (`hijack-12`).
fn new_alerts(rx: &Receiver) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for r in rx.reqs() {
        let v = r.json();
        let items: Vec<serde_json::Value> = match v["type"].as_str() {
            Some("bgpsentry.digest") => v["items"].as_array().cloned().unwrap_or_default(),
            _ => vec![v],
        };
        for it in items {
            if it["stage"] == "new" {
                let key = format!(
                    "{}-{}",
                    it["kind"].as_str().unwrap_or("?"),
                    it["event_id"].as_u64().unwrap_or(0)
                );
                *n.entry(key).or_default() += 1;
            }
        }
    }
    n
}

/// Waits until the receiver's count of requests stops growing.
fn settle(rx: &Receiver) {
    let mut last = usize::MAX;
    loop {
        let n = rx.reqs().len();
        if n == last {
            return;
        }
        last = n;
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn assert_same_events(
    reference: &BTreeMap<(String, i64), String>,
    got: &BTreeMap<(String, i64), String>,
) {
    assert!(
        reference.keys().any(|(k, _)| k == "hijack"),
        "the window raises hijacks"
    );
    let ref_keys: Vec<_> = reference.keys().collect();
    let got_keys: Vec<_> = got.keys().collect();
    assert_eq!(ref_keys, got_keys, "same events (kind, id)");
    for (k, v) in reference {
        assert_eq!(Some(v), got.get(k), "event {k:?}");
    }
}

fn assert_one_new_alert_each(rx: &Receiver, events: &BTreeMap<(String, i64), String>) {
    let news = new_alerts(rx);
    let expected: BTreeMap<String, usize> = events
        .keys()
        .map(|(k, id)| (format!("{k}-{id}"), 1))
        .collect();
    let twice: Vec<_> = news.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "events alerted as new twice: {twice:?}");
    assert_eq!(news, expected, "one \"new\" alert per stored event");
}

#[test]
fn sigterm_checkpoint_and_restart_equal_one_uninterrupted_run() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let files = window();
    let tmp = tempfile::tempdir().expect("tempdir");
    let asrel = asrel(tmp.path());

    // One uninterrupted daemon over the twelve files.
    let ref_dir = tmp.path().join("reference");
    std::fs::create_dir_all(&ref_dir).expect("mkdir");
    let ref_rx = rt.block_on(Receiver::start());
    let port = free_port();
    let incoming = ref_dir.join("incoming");
    copy_into(&incoming, &files);
    let cfg = config(
        &ref_dir,
        &asrel,
        &ref_rx.url("/hook"),
        Some((&incoming, port)),
    );
    follow_run(&cfg, port, 12);
    settle(&ref_rx);
    let reference = stored_events(&ref_dir.join("events.sqlite"));
    assert_one_new_alert_each(&ref_rx, &reference);

    // The same files, the daemon stopped after the first six.
    let dir = tmp.path().join("restarted");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let rx = rt.block_on(Receiver::start());
    let port = free_port();
    let incoming = dir.join("incoming");
    copy_into(&incoming, &files[..6]);
    let cfg = config(&dir, &asrel, &rx.url("/hook"), Some((&incoming, port)));
    let first = follow_run(&cfg, port, 6);
    let first_out = String::from_utf8_lossy(&first.stdout);
    assert!(
        first_out.contains("checkpoint: wrote"),
        "checkpoint at shutdown: {first_out}"
    );
    let ck = dir.join("events.sqlite.checkpoint");
    let size = std::fs::metadata(&ck).expect("checkpoint file").len();
    println!("checkpoint after six files: {size} bytes");
    // An event open at the stop (the YouTube hijack began 18:47, ends 21:01).
    let mid = stored_events(&dir.join("events.sqlite"));
    assert!(
        mid.values()
            .any(|v| v.contains("asn=17557") && v.contains("finished=0")),
        "Pakistan Telecom's hijack is ongoing at the stop"
    );
    settle(&rx);

    copy_into(&incoming, &files[6..]);
    let port2 = free_port();
    let cfg = config(&dir, &asrel, &rx.url("/hook"), Some((&incoming, port2)));
    let second = follow_run(&cfg, port2, 6);
    let second_out = String::from_utf8_lossy(&second.stdout);
    assert!(
        second_out.contains("checkpoint: restored"),
        "restored: {second_out}"
    );
    settle(&rx);
    let got = stored_events(&dir.join("events.sqlite"));
    assert_same_events(&reference, &got);
    assert_one_new_alert_each(&rx, &got);
    let yt = got
        .values()
        .filter(|v| v.contains("asn=17557") && v.contains("208.65.153.0/24"))
        .count();
    assert_eq!(yt, 1, "one YouTube event across the restart");
}

fn mrt_run(config: &Path, files: &[PathBuf]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--exit-after-replay", "-c"]).arg(config);
    for f in files {
        cmd.arg("--mrt").arg(f);
    }
    let out = cmd.output().expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout {}\nstderr {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn mrt_inputs_already_replayed_are_skipped_after_a_restart() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let files = window();
    let tmp = tempfile::tempdir().expect("tempdir");
    let asrel = asrel(tmp.path());
    let ref_dir = tmp.path().join("reference");
    std::fs::create_dir_all(&ref_dir).expect("mkdir");
    let ref_rx = rt.block_on(Receiver::start());
    let cfg = config(&ref_dir, &asrel, &ref_rx.url("/hook"), None);
    mrt_run(&cfg, &files);
    let reference = stored_events(&ref_dir.join("events.sqlite"));
    // `run` published its routing snapshot: after 20:07 YouTube announces
    // its /24 itself and the peers carry it.
    let ref_routes = stored_routes(&ref_dir.join("events.sqlite"));
    let yt: Vec<&(String, i64, i64)> = ref_routes
        .iter()
        .filter(|r| r.0 == "208.65.153.0/24")
        .collect();
    assert!(
        yt.iter().any(|r| r.1 == 36561 && r.2 > 10),
        "208.65.153.0/24 in the snapshot: {yt:?}"
    );
    assert!(ref_routes.len() > 200_000, "{}", ref_routes.len());

    let dir = tmp.path().join("restarted");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let rx = rt.block_on(Receiver::start());
    let cfg = config(&dir, &asrel, &rx.url("/hook"), None);
    mrt_run(&cfg, &files[..6]);
    let t = Instant::now();
    let out = mrt_run(&cfg, &files);
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!(
        "second run {:.1} s:\n{}",
        t.elapsed().as_secs_f64(),
        stdout
            .lines()
            .filter(|l| l.starts_with("checkpoint") || l.starts_with("replayed"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        stdout.contains("checkpoint: 6 MRT input(s) already replayed before the restart; skipped"),
        "{stdout}"
    );
    assert!(stdout.contains("replayed "), "{stdout}");
    settle(&rx);
    let got = stored_events(&dir.join("events.sqlite"));
    assert_same_events(&reference, &got);
    assert_one_new_alert_each(&rx, &got);
    // The restarted run (state from its checkpoint) publishes the same
    // routing snapshot as the uninterrupted one.
    assert!(stored_routes(&dir.join("events.sqlite")) == ref_routes);
}

/// The published routing snapshot: (prefix, origin, peer count), sorted,
/// and only the published generation is in the file.
fn stored_routes(db: &Path) -> Vec<(String, i64, i64)> {
    let conn = rusqlite::Connection::open(db).expect("open store");
    let g: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'routes_gen'", [], |r| {
            r.get(0)
        })
        .expect("a published snapshot");
    let gens: i64 = conn
        .query_row("SELECT COUNT(DISTINCT gen) FROM route_origins", [], |r| {
            r.get(0)
        })
        .expect("gens");
    assert_eq!(gens, 1, "one generation in the file");
    let mut st = conn
        .prepare("SELECT prefix, origin, peer_count FROM route_origins WHERE gen = ?1 ORDER BY prefix, origin")
        .expect("prepare");
    let rows = st
        .query_map([g.parse::<i64>().expect("gen")], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("query");
    rows.map(|r| r.expect("row")).collect()
}

#[test]
fn truncated_checkpoint_warns_and_starts_fresh() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let files = window();
    let tmp = tempfile::tempdir().expect("tempdir");
    let asrel = asrel(tmp.path());
    let rx = rt.block_on(Receiver::start());
    let cfg = config(tmp.path(), &asrel, &rx.url("/hook"), None);
    mrt_run(&cfg, &files[..2]);
    let ck = tmp.path().join("events.sqlite.checkpoint");
    let bytes = std::fs::read(&ck).expect("checkpoint");
    std::fs::write(&ck, &bytes[..bytes.len() / 2]).expect("truncate");

    let out = mrt_run(&cfg, &files[..2]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("checkpoint {} (", ck.display()))
            && stderr.contains("not used, starting fresh"),
        "{stderr}"
    );
    assert!(
        stderr.contains("corrupt or truncated near compressed byte"),
        "{stderr}"
    );
    assert!(!stdout.contains("checkpoint: restored"), "{stdout}");
    // A fresh start replays the inputs again and writes a good checkpoint.
    assert!(stdout.contains("replayed "), "{stdout}");
    assert!(stdout.contains("checkpoint: wrote"), "{stdout}");
    let again = mrt_run(&cfg, &files[..2]);
    let again = String::from_utf8_lossy(&again.stdout);
    assert!(
        again.contains("checkpoint: read") && again.contains("2 MRT input(s) already replayed"),
        "the new checkpoint is good: {again}"
    );
}

/// Replaces the checkpoint with something unusable.
fn spoil_checkpoint(dir: &Path) {
    std::fs::write(dir.join("events.sqlite.checkpoint"), b"not a checkpoint").expect("spoil");
}

/// (kind, id) of the events the daemon's last output lists as ongoing.
fn reported_ongoing(stdout: &str) -> Vec<(String, i64)> {
    stdout
        .lines()
        .filter(|l| l.starts_with("  ") && l.trim_end().ends_with("ongoing"))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.parse().ok()?))
        })
        .collect()
}

#[test]
fn unusable_checkpoint_replays_into_the_same_events_and_alerts_once() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let files = window();
    let tmp = tempfile::tempdir().expect("tempdir");
    let asrel = asrel(tmp.path());
    let rx = rt.block_on(Receiver::start());
    let cfg = config(tmp.path(), &asrel, &rx.url("/hook"), None);
    let db = tmp.path().join("events.sqlite");
    mrt_run(&cfg, &files[..3]);
    settle(&rx);
    let first = stored_events(&db);
    assert!(
        first.values().any(|v| v.contains("finished=0")),
        "events are ongoing at the end of the first run"
    );
    assert_one_new_alert_each(&rx, &first);

    // The checkpoint is lost: the same inputs are replayed from scratch
    // and find their events again, under the same ids, alerted once.
    spoil_checkpoint(tmp.path());
    let out = mrt_run(&cfg, &files[..3]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not used, starting fresh"), "{stderr}");
    settle(&rx);
    let second = stored_events(&db);
    assert_same_events(&first, &second);
    assert_one_new_alert_each(&rx, &second);

    // Lost again, and the daemon now replays less: what it does not
    // continue is ended, nothing is duplicated, nothing alerted twice.
    spoil_checkpoint(tmp.path());
    let out = mrt_run(&cfg, &files[..2]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("not continued by this fresh start, ended at their last message"),
        "{stdout}"
    );
    settle(&rx);
    let third = stored_events(&db);
    let first_keys: Vec<_> = first.keys().collect();
    let third_keys: Vec<_> = third.keys().collect();
    assert_eq!(first_keys, third_keys, "no event added or lost");
    let ongoing: Vec<(String, i64)> = third
        .iter()
        .filter(|(_, v)| v.contains("finished=0"))
        .map(|(k, _)| k.clone())
        .collect();
    let mut reported = reported_ongoing(&stdout);
    reported.sort();
    assert_eq!(
        ongoing, reported,
        "ongoing in the store = ongoing in this run"
    );
    assert_one_new_alert_each(&rx, &third);
    let c = rusqlite::Connection::open(&db).expect("open");
    let twice: i64 = c
        .query_row(
            "SELECT count(*) FROM (SELECT 1 FROM event_changes WHERE change = 'opened'
             GROUP BY kind, event_id HAVING count(*) > 1)",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(twice, 0, "no event opened twice");
}

/// A config without baseline or evidence, for quick start-up checks.
fn bare_config(dir: &Path, checkpoint: &Path) -> PathBuf {
    let path = dir.join("bare.toml");
    std::fs::write(
        &path,
        format!(
            "db = \"{}\"\nlisten = \"127.0.0.1:0\"\n[checkpoint]\npath = \"{}\"\n",
            dir.join("bare.sqlite").display(),
            checkpoint.display()
        ),
    )
    .expect("config");
    path
}

#[test]
fn a_directory_at_the_checkpoint_path_fails_naming_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ck = tmp.path().join("ck-dir");
    std::fs::create_dir(&ck).expect("mkdir");
    let cfg = bare_config(tmp.path(), &ck);
    let out = Command::new(BIN)
        .args(["run", "--exit-after-replay", "-c"])
        .arg(&cfg)
        .arg("--mrt")
        .arg(&window()[0])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("checkpoint path {} is a directory", ck.display())),
        "{stderr}"
    );
}

/// Peak resident memory of a process, from /proc (kB).
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn a_gzip_bomb_checkpoint_is_refused_with_bounded_memory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ck = tmp.path().join("bomb.checkpoint");
    // 1 GiB of zeros in about 1 MB of gzip.
    let st = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "head -c 1073741824 /dev/zero | gzip -9 -c > '{}'",
            ck.display()
        ))
        .status()
        .expect("gzip");
    assert!(st.success());
    let size = std::fs::metadata(&ck).expect("bomb").len();
    assert!(size < 2 << 20, "{size}");
    let cfg = bare_config(tmp.path(), &ck);
    let child = Command::new(BIN)
        .args(["run", "--exit-after-replay", "-c"])
        .arg(&cfg)
        .arg("--mrt")
        .arg(&window()[0])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    let pid = child.id();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let p = peak.clone();
    let watcher = std::thread::spawn(move || {
        while let Some(kb) = peak_rss_kb(pid) {
            p.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let out = child.wait_with_output().expect("output");
    let _ = watcher.join();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("decompresses to more than") && stderr.contains("starting fresh"),
        "{stderr}"
    );
    let peak_mb = peak.load(std::sync::atomic::Ordering::Relaxed) / 1024;
    println!("peak RSS with a {size}-byte gzip bomb as checkpoint: {peak_mb} MB");
    assert!(peak_mb < 300, "peak RSS {peak_mb} MB");
}

//! `bgpsentry alert` polling: against a small Radar-shaped server on
//! 127.0.0.1 (paging `sortBy=ID&sortOrder=DESC` down to the cursor, first
//! run seeding, empty first batch, tolerant parsing, token), and end to end
//! against the real `bgpsentry serve` with `kill -9` of the alerter in the
//! middle of a delivery.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod alert_support;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alert_support::*;
use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use bgpsentry::alert::AlertConfig;
use bgpsentry::alert::db::AlertDb;
use bgpsentry::alert::deliver::Engine;
use bgpsentry::alert::poll::Poller;
use bgpsentry::alert::service::poll_round;
use bgpsentry::alert::sink::build_channels;
use bgpsentry_core::model::{ChangeKind, Event};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_bgpsentry");

/// (endpoint, query, Authorization header)
type Seen = (String, HashMap<String, String>, Option<String>);

#[derive(Default)]
struct Radar {
    events: Mutex<Vec<Value>>,
    queries: Mutex<Vec<Seen>>,
}

async fn hijacks(
    State(r): State<Arc<Radar>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Json<Value> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    r.queries
        .lock()
        .unwrap()
        .push(("hijacks".into(), q.clone(), auth));
    let mut ev = r.events.lock().unwrap().clone();
    ev.sort_by_key(|e| std::cmp::Reverse(e["id"].as_u64().unwrap_or(u64::MAX)));
    if let Some(id) = q.get("eventId") {
        ev.retain(|e| e["id"].as_u64().map(|v| v.to_string()).as_deref() == Some(id.as_str()));
    }
    let per: usize = q.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(10);
    let page: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
    let total = ev.len();
    let slice: Vec<Value> = ev.into_iter().skip((page - 1) * per).take(per).collect();
    Json(json!({
        "success": true, "errors": [], "messages": [],
        "result": {"asn_info": [], "events": slice, "total_monitors": 272, "something_new": 1},
        "result_info": {"count": slice.len(), "page": page, "per_page": per, "total_count": total},
    }))
}

async fn leaks() -> Json<Value> {
    Json(
        json!({"success": false, "errors": [{"code": 10000, "message": "leaks are down"}], "result": {}}),
    )
}

async fn radar() -> (String, Arc<Radar>) {
    let r = Arc::new(Radar::default());
    let app = Router::new()
        .route(
            "/client/v4/radar/bgp/hijacks/events",
            axum::routing::get(hijacks),
        )
        .route(
            "/client/v4/radar/bgp/leaks/events",
            axum::routing::get(leaks),
        )
        .with_state(r.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (format!("http://{addr}/client/v4"), r)
}

fn event_json(id: u64) -> Value {
    let mut v = serde_json::to_value(hijack(id)).unwrap();
    v["brand_new_field"] = json!({"x": [1, 2]});
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_down_to_the_cursor_and_delivers_in_increasing_order() {
    let dir = tempfile::tempdir().unwrap();
    let (api, radar) = radar().await;
    let rx = Receiver::start().await;
    let tok = dir.path().join("token");
    std::fs::write(&tok, "T0KEN\n").unwrap();
    let cfg = AlertConfig::from_toml(&format!(
        r#"
[api]
url = "{api}"
token_file = "{}"
per_page = 2

[[watch]]
name = "yt"
involved_asn = 36561

[[channel]]
type = "webhook"
name = "hook"
url = "{}"
"#,
        tok.display(),
        rx.url("/h")
    ))
    .unwrap();
    let cfg = Arc::new(cfg);
    let db = AlertDb::open(&dir.path().join("s.db")).unwrap();
    let poller = Poller::new(cfg.api.as_ref().unwrap()).unwrap();
    let engine = Engine::new(db.clone(), cfg.clone(), build_channels(&cfg).unwrap());
    let deliver = || engine.drain(bgpsentry::alert::now_ms() + 5000);

    // First run, empty first batch (the seed's Worker breaks here): cursor 0.
    // The leaks endpoint answers success=false: an error for that kind only,
    // and its cursor is not seeded.
    let s = poll_round(&cfg, &db, &poller, false).await;
    assert_eq!((s.seeded, s.queued, s.errors), (1, 0, 1), "{s:?}");
    assert_eq!(db.cursor("yt", "leak", "hook").unwrap(), None);
    assert_eq!(db.cursor("yt", "hijack", "hook").unwrap(), Some(0));

    // Five events appear: all new to a cursor at 0, sent oldest first.
    radar.events.lock().unwrap().extend((1..=5).map(event_json));
    radar
        .events
        .lock()
        .unwrap()
        .push(json!({"id": "not a number"}));
    let s = poll_round(&cfg, &db, &poller, false).await;
    assert_eq!(s.queued, 5, "{s:?}");
    deliver().await;
    let ids: Vec<u64> = rx
        .reqs()
        .iter()
        .map(|r| r.json()["event_id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    assert_eq!(db.cursor("yt", "hijack", "hook").unwrap(), Some(5));

    // Three more: paging stops at the cursor.
    radar.queries.lock().unwrap().clear();
    radar.events.lock().unwrap().extend((6..=8).map(event_json));
    let s = poll_round(&cfg, &db, &poller, false).await;
    assert_eq!(s.queued, 3);
    deliver().await;
    let ids: Vec<u64> = rx
        .reqs()
        .iter()
        .map(|r| r.json()["event_id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6, 7, 8]);
    let q = radar.queries.lock().unwrap().clone();
    let pages: Vec<&str> = q
        .iter()
        .filter(|(_, q, _)| !q.contains_key("eventId"))
        .map(|(_, q, _)| q["page"].as_str())
        .collect();
    // [broken, 8] [7, 6] [5 = cursor, stop]: the unreadable event takes a slot.
    assert_eq!(pages, ["1", "2", "3"]);
    let (_, q0, auth) = &q[0];
    assert_eq!(auth.as_deref(), Some("Bearer T0KEN"));
    assert_eq!(q0["sortBy"], "ID");
    assert_eq!(q0["sortOrder"], "DESC");
    assert_eq!(q0["involvedAsn"], "36561");
    assert_eq!(q0["per_page"], "2");

    // An event ends: the open-event refresh (eventId=) sends "resolved".
    {
        let mut ev = radar.events.lock().unwrap();
        let e = ev.iter_mut().find(|e| e["id"] == 7).unwrap();
        e["finished"] = json!(true);
    }
    poll_round(&cfg, &db, &poller, false).await;
    deliver().await;
    let last = rx.reqs().last().unwrap().json();
    assert_eq!(
        (last["event_id"].as_u64(), last["stage"].as_str()),
        (Some(7), Some("resolved"))
    );
    assert_eq!(rx.reqs().len(), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_records_newest_without_sending_unless_backfill() {
    let dir = tempfile::tempdir().unwrap();
    let (api, radar) = radar().await;
    radar.events.lock().unwrap().extend((1..=3).map(event_json));
    let rx = Receiver::start().await;
    let cfg = Arc::new(
        AlertConfig::from_toml(&format!(
            "[api]\nurl = \"{api}\"\n[[watch]]\nname = \"yt\"\ninvolved_asn = 36561\nkinds = [\"hijack\"]\n[[channel]]\ntype = \"slack\"\nname = \"s\"\nurl = \"{}\"\n",
            rx.url("/s")
        ))
        .unwrap(),
    );
    let poller = Poller::new(cfg.api.as_ref().unwrap()).unwrap();
    let db = AlertDb::open(&dir.path().join("a.db")).unwrap();
    let s = poll_round(&cfg, &db, &poller, false).await;
    assert_eq!((s.seeded, s.queued), (1, 0));
    assert_eq!(db.cursor("yt", "hijack", "s").unwrap(), Some(3));

    let db2 = AlertDb::open(&dir.path().join("b.db")).unwrap();
    let s = poll_round(&cfg, &db2, &poller, true).await;
    assert_eq!((s.seeded, s.queued), (0, 3));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real `bgpsentry serve` over a store, and `bgpsentry alert --once`
/// as cron would run it, sharing the store's SQLite file for its state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_with_serve_and_kill_9_mid_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bgpsentry.db");
    let mut store = bgpsentry::store::Store::open(&db).unwrap();
    for id in 1..=2 {
        store
            .apply(&change(ChangeKind::Opened, Event::Hijack(hijack(id))))
            .unwrap();
    }
    let port = free_port();
    let mut serve = Command::new(BIN)
        .args([
            "serve",
            "--db",
            db.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--now", "2008-02-25T00:00:00"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let api = format!("http://127.0.0.1:{port}/client/v4");
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "serve did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let rx = Receiver::start().await;
    let cfg = dir.path().join("alert.toml");
    std::fs::write(
        &cfg,
        format!(
            "state = \"{}\"\n[api]\nurl = \"{api}\"\n[delivery]\ntimeout_secs = 60\nonce_wait_secs = 5\ninitial_backoff_ms = 50\n\
             [[watch]]\nname = \"yt\"\ninvolved_asn = 36561\nkinds = [\"hijack\"]\n\
             [[channel]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{}\"\n",
            db.display(),
            rx.url("/h")
        ),
    )
    .unwrap();
    let alert = |extra: &[&str]| {
        let mut c = Command::new(BIN);
        c.args(["alert", "-c", cfg.to_str().unwrap(), "--once"])
            .args(extra);
        c.stdout(Stdio::null()).stderr(Stdio::piped());
        c
    };
    // First run: seeds the cursor at 2, sends nothing.
    let out = alert(&[]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rx.reqs().len(), 0);

    // Three new events; the receiver takes the first request and never answers.
    for id in 3..=5 {
        store
            .apply(&change(ChangeKind::Opened, Event::Hijack(hijack(id))))
            .unwrap();
    }
    rx.rec
        .hang_first
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let mut child = alert(&[]).spawn().unwrap();
    let got = rx.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1, "delivery started");
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();

    // Restart: everything arrives; the one interrupted comes again, same key.
    let out = alert(&[]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reqs = rx.reqs();
    let keys: Vec<String> = reqs
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert_eq!(
        keys[0], keys[1],
        "the interrupted delivery is repeated with the same key"
    );
    let mut uniq = keys.clone();
    uniq.dedup();
    assert_eq!(
        uniq,
        [
            "bgpsentry-hijack-3-new-hook",
            "bgpsentry-hijack-4-new-hook",
            "bgpsentry-hijack-5-new-hook"
        ]
    );
    assert_eq!(reqs[0].body, reqs[1].body, "same bytes on the retry");

    // Nothing pending, nothing sent again.
    let out = alert(&[]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(rx.reqs().len(), 4);
    let _ = serve.kill();
    let _ = serve.wait();
}

#[test]
fn example_config_parses() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../etc/alert.example.toml");
    let cfg = AlertConfig::load(&p).expect("etc/alert.example.toml");
    assert_eq!(cfg.watches.len(), 2);
    assert_eq!(cfg.channels.len(), 5);
    // Typos are errors.
    let bad = std::fs::read_to_string(&p)
        .unwrap()
        .replace("min_confidence", "min_confidense");
    assert!(AlertConfig::from_toml(&bad).is_err());
}

//! Shared helpers of the API tests: a real server on 127.0.0.1 (ephemeral
//! port) over a real SQLite file, event builders, and a checker for
//! Radar's response schema.

#![allow(dead_code)]

use std::path::PathBuf;

use bgpsentry::api::server::HttpLimits;
use bgpsentry::api::{AppState, Clock, Tokens, serve_limited};
use bgpsentry::store::synth::{self, Rng};
use bgpsentry::store::{ReadPool, Store};
use bgpsentry_core::model::{ChangeKind, Event, EventChange, HijackEvent, LeakEvent, Timestamp};
use serde_json::Value;

/// A running server.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The store file.
    pub db: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Server {
    /// A writer on the server's store.
    pub fn store(&self) -> Store {
        Store::open(&self.db).expect("open store")
    }

    /// GET a path, returning status and body text.
    pub async fn get(&self, path_and_query: &str) -> (u16, String) {
        self.get_with(path_and_query, None).await
    }

    /// GET with an optional bearer token.
    pub async fn get_with(&self, path_and_query: &str, token: Option<&str>) -> (u16, String) {
        let client = reqwest::Client::new();
        let mut req = client.get(format!("{}{}", self.base, path_and_query));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("body"))
    }

    /// GET expecting JSON.
    pub async fn json(&self, path_and_query: &str) -> (u16, Value) {
        let (s, body) = self.get(path_and_query).await;
        (
            s,
            serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("{path_and_query}: not JSON ({e}): {body}")),
        )
    }
}

/// Starts a server over a fresh store filled by `fill`.
pub async fn start(fill: impl FnOnce(&mut Store), tokens: &[&str], clock: Clock) -> Server {
    start_limited(fill, tokens, clock, &HttpLimits::default()).await
}

/// [`start`] with the given connection limit and timeouts.
pub async fn start_limited(
    fill: impl FnOnce(&mut Store),
    tokens: &[&str],
    clock: Clock,
    limits: &HttpLimits,
) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("events.sqlite");
    let mut store = Store::open(&db).expect("open");
    fill(&mut store);
    drop(store);
    let pool = ReadPool::open(&db, 4).expect("pool");
    let state = AppState::new(pool, Tokens::new(tokens.iter().copied()), clock);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let limits = limits.clone();
    tokio::spawn(async move {
        serve_limited(listener, state, &limits, async {
            let _ = rx.await;
        })
        .await
    });
    Server {
        base,
        db,
        shutdown: Some(tx),
        _dir: dir,
    }
}

/// A hijack with the given id, start time and confidence (other fields
/// synthetic but deterministic).
pub fn hijack(id: u64, start: Timestamp, confidence: i32) -> HijackEvent {
    let mut rng = Rng::new(id);
    let mut e = synth::hijack(&mut rng, id, start);
    e.confidence_score = confidence;
    e
}

/// A leak with the given id and start time.
pub fn leak(id: u64, start: Timestamp) -> LeakEvent {
    let mut rng = Rng::new(1_000_000 + id);
    synth::leak(&mut rng, id, start)
}

/// The "opened" change of an event.
pub fn opened(event: Event) -> EventChange {
    let ts = match &event {
        Event::Hijack(e) => e.min_hijack_ts,
        Event::Leak(e) => e.min_ts,
    };
    EventChange {
        ts,
        kind: ChangeKind::Opened,
        event,
    }
}

/// Writes hijacks.
pub fn put_hijacks(store: &mut Store, events: Vec<HijackEvent>) {
    let changes: Vec<_> = events
        .into_iter()
        .map(|e| opened(Event::Hijack(e)))
        .collect();
    store.apply_batch(&changes).expect("apply");
}

/// Writes leaks.
pub fn put_leaks(store: &mut Store, events: Vec<LeakEvent>) {
    let changes: Vec<_> = events.into_iter().map(|e| opened(Event::Leak(e))).collect();
    store.apply_batch(&changes).expect("apply");
}

/// Ids of the events in a list response.
pub fn ids(v: &Value) -> Vec<u64> {
    v["result"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["id"].as_u64().expect("id"))
        .collect()
}

fn is_radar_millis(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 23 && b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && !s.ends_with('Z')
}

fn is_radar_secs(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 19 && b[4] == b'-' && b[10] == b'T' && b[13] == b':'
}

fn check_common(v: &Value) {
    assert_eq!(v["success"], Value::Bool(true), "{v}");
    assert!(v["errors"].as_array().is_some_and(|a| a.is_empty()));
    assert!(v["messages"].is_array());
    let info = &v["result_info"];
    for k in ["count", "page", "per_page", "total_count"] {
        assert!(info[k].is_u64(), "result_info.{k}: {info}");
    }
    let events = v["result"]["events"].as_array().expect("events");
    assert_eq!(info["count"].as_u64(), Some(events.len() as u64));
    for a in v["result"]["asn_info"].as_array().expect("asn_info") {
        assert!(
            a["asn"].is_u64() && a["country_code"].is_string() && a["org_name"].is_string(),
            "{a}"
        );
    }
}

/// Asserts a hijack list response has Radar's schema: every field present
/// with its type, timestamps in Radar's millisecond format.
pub fn check_hijack_schema(v: &Value) {
    check_common(v);
    assert!(v["result"]["total_monitors"].is_u64(), "total_monitors");
    for e in v["result"]["events"].as_array().expect("events") {
        for k in [
            "id",
            "duration",
            "hijack_msgs_count",
            "hijacker_asn",
            "on_going_count",
            "peer_ip_count",
            "event_type",
        ] {
            assert!(e[k].is_u64(), "{k} in {e}");
        }
        assert!(e["confidence_score"].is_i64(), "confidence_score");
        assert!(e["is_stale"].is_boolean());
        assert!(e["hijacker_country"].is_string());
        for k in ["max_hijack_ts", "max_msg_ts", "min_hijack_ts"] {
            assert!(e[k].as_str().is_some_and(is_radar_millis), "{k}: {}", e[k]);
        }
        for k in ["peer_asns", "victim_asns"] {
            assert!(
                e[k].as_array().is_some_and(|a| a.iter().all(Value::is_u64)),
                "{k}"
            );
        }
        for k in ["prefixes", "victim_countries"] {
            assert!(
                e[k].as_array()
                    .is_some_and(|a| a.iter().all(Value::is_string)),
                "{k}"
            );
        }
        for t in e["tags"].as_array().expect("tags") {
            assert!(t["name"].is_string() && t["score"].is_i64(), "{t}");
        }
        assert!(
            e.get("sample_paths").is_none(),
            "lists leave the bulky extras to the detail view"
        );
    }
}

/// Asserts a leak list response has Radar's schema.
pub fn check_leak_schema(v: &Value) {
    check_common(v);
    assert!(
        v["result"].get("total_monitors").is_none(),
        "leaks have no total_monitors"
    );
    for e in v["result"]["events"].as_array().expect("events") {
        for k in [
            "id",
            "leak_asn",
            "leak_count",
            "leak_type",
            "origin_count",
            "peer_count",
            "prefix_count",
        ] {
            assert!(e[k].is_u64(), "{k} in {e}");
        }
        assert!(e["finished"].is_boolean());
        for k in ["detected_ts", "max_ts", "min_ts"] {
            assert!(e[k].as_str().is_some_and(is_radar_secs), "{k}: {}", e[k]);
        }
        assert!(
            e["leak_seg"]
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_u64))
        );
        assert!(
            e["countries"]
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string))
        );
    }
}

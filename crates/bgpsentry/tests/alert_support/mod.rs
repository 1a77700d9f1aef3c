//! Test helpers for the alert tests: a real HTTP receiver on 127.0.0.1 that
//! records every request (method, path+query, headers, exact body bytes) and
//! can fail the first N requests or hang; and event builders.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bgpsentry_core::model::{
    Asn, ChangeKind, Event, EventChange, HijackEvent, LeakEvent, Tag, Timestamp,
};

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("json body")
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Default)]
pub struct Rec {
    pub reqs: Mutex<Vec<Req>>,
    /// Fail this many requests (after recording them) with `fail_status`.
    pub fail_first: AtomicUsize,
    pub fail_status: Mutex<u16>,
    /// Hang (never answer) while > 0 ... counts down per request.
    pub hang_first: AtomicUsize,
    pub seen: AtomicUsize,
}

async fn handle(State(rec): State<Arc<Rec>>, req: Request) -> Response {
    let method = req.method().to_string();
    let uri = req.uri().to_string();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = axum::body::to_bytes(req.into_body(), 64 << 20)
        .await
        .unwrap_or_default()
        .to_vec();
    rec.seen.fetch_add(1, Ordering::SeqCst);
    // Recorded before any hang: the request arrived, the answer never does.
    rec.reqs.lock().unwrap().push(Req {
        method,
        uri,
        headers,
        body,
        at: Instant::now(),
    });
    if rec.hang_first.load(Ordering::SeqCst) > 0 {
        rec.hang_first.fetch_sub(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if rec.fail_first.load(Ordering::SeqCst) > 0 {
        rec.fail_first.fetch_sub(1, Ordering::SeqCst);
        let code = *rec.fail_status.lock().unwrap();
        return StatusCode::from_u16(code)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response();
    }
    (StatusCode::OK, "ok").into_response()
}

/// A running receiver.
pub struct Receiver {
    pub addr: SocketAddr,
    pub rec: Arc<Rec>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let rec = Arc::new(Rec::default());
        *rec.fail_status.lock().unwrap() = 500;
        let app = Router::new().fallback(handle).with_state(rec.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { addr, rec }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Requests answered so far (including failed ones).
    pub fn reqs(&self) -> Vec<Req> {
        self.rec.reqs.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests were recorded.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Req> {
        let start = Instant::now();
        loop {
            let r = self.reqs();
            if r.len() >= n || start.elapsed() > timeout {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

pub fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).expect("timestamp")
}

/// A hijack like the YouTube 2008 one.
pub fn hijack(id: u64) -> HijackEvent {
    HijackEvent {
        id,
        confidence_score: 12,
        duration: 0,
        event_type: 1,
        hijack_msgs_count: 3,
        hijacker_asn: Asn(17557),
        hijacker_country: "PK".into(),
        is_stale: false,
        max_hijack_ts: ts("2008-02-24T18:47:57.000"),
        max_msg_ts: ts("2008-02-24T18:47:57.000"),
        min_hijack_ts: ts("2008-02-24T18:47:57.000"),
        on_going_count: 1,
        peer_asns: vec![Asn(3356), Asn(3549)],
        peer_ip_count: 2,
        prefixes: vec!["208.65.153.0/24".into()],
        tags: vec![
            Tag::new("rpki_new_origin_invalid", 8),
            Tag::new("irr_new_origin_invalid", 4),
        ],
        victim_asns: vec![Asn(36561)],
        victim_countries: vec!["US".into()],
        finished: false,
        ended_ts: None,
        sample_paths: vec![],
    }
}

pub fn leak(id: u64) -> LeakEvent {
    LeakEvent {
        id,
        countries: vec!["US".into()],
        detected_ts: ts("2019-06-24T10:34:00"),
        finished: false,
        leak_asn: Asn(396531),
        leak_count: 20,
        leak_seg: vec![Asn(33154), Asn(396531), Asn(701)],
        leak_type: 1,
        max_ts: ts("2019-06-24T10:40:00"),
        min_ts: ts("2019-06-24T10:30:00"),
        origin_count: 3,
        peer_count: 13,
        prefix_count: 2,
        confidence_score: 0,
        tags: Vec::new(),
        leak_segs: Vec::new(),
        ended_ts: None,
        prefixes: vec!["104.20.0.0/21".into(), "104.20.8.0/21".into()],
        origins: vec![Asn(13335)],
        sample_paths: vec![],
    }
}

pub fn change(kind: ChangeKind, e: Event) -> EventChange {
    EventChange {
        ts: ts("2008-02-24T18:47:57.000"),
        kind,
        event: e,
    }
}

//! RIS Live client against a real websocket server on 127.0.0.1 that replays
//! the recorded frames of `shared/data/rislive/libbgpstream-ris-live-stream.json`
//! (CAIDA libbgpstream's test capture: UPDATE with raw bytes, RIS_PEER_STATE,
//! ris_error, OPEN, NOTIFICATION, KEEPALIVE and one malformed line), then
//! drops the connection, then stalls, then serves again. The client must
//! decode every good frame, count the bad one, reconnect twice and record
//! two gaps.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bgpsentry::ingest::health::SourceHealth;
use bgpsentry::ingest::live::{self, LiveItem, SourceConfig};
use bgpsentry_core::model::{Asn, RouteEvent, Timestamp};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

const FRAMES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/rislive/libbgpstream-ris-live-stream.json"
);

async fn server(listener: TcpListener, lines: Vec<String>, subs: mpsc::Sender<String>) {
    for conn in 0.. {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
            continue;
        };
        if let Some(Ok(Message::Text(t))) = ws.next().await {
            let _ = subs.send(t.to_string()).await;
        }
        match conn {
            0 => {
                // The whole capture, then an abrupt drop (no close frame: RIS's 1006).
                for l in &lines {
                    let _ = ws.send(Message::text(l.clone())).await;
                }
                let _ = ws.flush().await;
                drop(ws);
            }
            1 => {
                // One UPDATE, then silence while staying connected.
                let _ = ws.send(Message::text(lines[0].clone())).await;
                while let Some(Ok(_)) = ws.next().await {}
            }
            _ => {
                // Back to normal: a peer state change, then stay until the client leaves.
                let _ = ws.send(Message::text(lines[1].clone())).await;
                while let Some(Ok(_)) = ws.next().await {}
            }
        }
    }
}

#[tokio::test]
async fn replay_disconnect_stall_reconnect() {
    let text = std::fs::read_to_string(FRAMES).expect("shared/data/rislive present");
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 7);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (sub_tx, mut sub_rx) = mpsc::channel(16);
    let srv = tokio::spawn(server(listener, lines, sub_tx));

    let cfg = format!(
        r#"
        [[source]]
        type = "ris-live"
        name = "ris-test"
        url = "ws://127.0.0.1:{port}/v1/ws/?client=test"
        include_raw = true
        stall_secs = 1
        backoff_min_ms = 50
        backoff_max_secs = 1
        flush_ms = 10
        ping_secs = 0
        [[source.subscribe]]
        host = "rrc00"
        prefix = ["45.161.192.0/22"]
        more_specific = true
        "#
    );
    let sources = live::SourcesConfig::from_toml(&cfg).expect("config");
    let source: SourceConfig = sources.source[0].clone();
    let health: Arc<SourceHealth> = source.new_health();
    let (tx, mut rx) = mpsc::channel(64);
    let (stop_tx, stop_rx) = watch::channel(false);
    let task = tokio::spawn(live::run(source, tx, health.clone(), stop_rx));

    let mut items = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut gap_ends = 0;
    let mut peer_states = 0;
    while gap_ends < 2 || peer_states < 2 {
        let item = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the client delivers within 20 s")
            .expect("channel open");
        match &item {
            LiveItem::GapEnd { .. } => gap_ends += 1,
            LiveItem::Batch(b) => {
                peer_states += b
                    .messages
                    .iter()
                    .filter(|m| matches!(m.event, RouteEvent::PeerState { .. }))
                    .count()
            }
            LiveItem::GapStart { .. } => {}
        }
        items.push(item);
    }
    stop_tx.send(true).expect("stop");
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("client stops on shutdown")
        .expect("no panic")
        .expect("ok");
    srv.abort();

    // The subscription carries the filters.
    let sub: serde_json::Value =
        serde_json::from_str(&sub_rx.recv().await.expect("subscribe")).expect("json");
    assert_eq!(sub["type"], "ris_subscribe");
    assert_eq!(sub["data"]["host"], "rrc00");
    assert_eq!(sub["data"]["prefix"], "45.161.192.0/22");
    assert_eq!(sub["data"]["moreSpecific"], true);
    assert_eq!(sub["data"]["socketOptions"]["includeRaw"], true);

    // Decoded messages: 2 UPDATEs (connection 0 and 1), 2 peer-downs (0 and 2).
    let mut updates = Vec::new();
    let mut downs = Vec::new();
    let mut kinds = Vec::new();
    for it in &items {
        match it {
            LiveItem::Batch(b) => {
                assert_eq!(&*b.source, "ris-test");
                for m in &b.messages {
                    match &m.event {
                        RouteEvent::Update {
                            announced, attrs, ..
                        } => {
                            assert_eq!(&*b.collector, "rrc00");
                            updates.push((
                                m.peer_ip,
                                m.peer_asn,
                                m.ts,
                                announced.clone(),
                                attrs.clone(),
                            ));
                            kinds.push("update");
                        }
                        RouteEvent::PeerState { old, new } => {
                            assert_eq!(&*b.collector, "rrc01");
                            assert_eq!((*old, *new), (6, 1));
                            downs.push(m.peer_ip);
                            kinds.push("down");
                        }
                    }
                }
            }
            LiveItem::GapStart { reason, .. } => kinds.push(if reason == "stalled" {
                "gap-start:stall"
            } else {
                "gap-start:drop"
            }),
            LiveItem::GapEnd { from, to, .. } => {
                assert!(to >= from);
                kinds.push("gap-end");
            }
        }
    }
    assert_eq!(
        kinds,
        [
            "update",
            "down",
            "gap-start:drop",
            "gap-end",
            "update",
            "gap-start:stall",
            "gap-end",
            "down"
        ]
    );
    assert_eq!(updates.len(), 2);
    let (ip, asn, ts, announced, attrs) = &updates[0];
    assert_eq!(ip.to_string(), "72.22.223.9");
    assert_eq!(*asn, Asn(11708));
    assert_eq!(*ts, Timestamp(1_553_627_987_890_000));
    assert_eq!(announced[0].prefix.to_string(), "45.161.192.0/23");
    let attrs = attrs.as_ref().expect("attributes");
    assert_eq!(
        attrs.as_path.to_string(),
        "11708 32097 1299 52320 263009 263009 263009 263009 263009 52993 268481 268481"
    );
    assert_eq!(attrs.origins.as_slice(), &[Asn(268481)]);
    assert_eq!(downs[0].to_string(), "195.66.224.59");

    // Health: one malformed line, one ris_error, two reconnects, two gaps.
    let h = &health;
    assert_eq!(h.malformed.load(Ordering::Relaxed), 1);
    assert_eq!(h.reconnects.load(Ordering::Relaxed), 2);
    assert_eq!(h.gaps.load(Ordering::Relaxed), 2);
    assert_eq!(h.messages.load(Ordering::Relaxed), 4);
    assert!(
        h.errors.load(Ordering::Relaxed) >= 2,
        "ris_error + the drop"
    );
    // 7 lines in connection 0 (the malformed one counts as a frame too), 1 + 1 after.
    assert_eq!(h.frames.load(Ordering::Relaxed), 9);
    assert_eq!(
        h.connections.load(Ordering::Relaxed),
        0,
        "disconnected after shutdown"
    );
    let text = bgpsentry::ingest::health::render_prometheus(std::slice::from_ref(&health));
    assert!(text.contains("bgpsentry_source_gaps_total{source=\"ris-test\",type=\"ris-live\"} 2"));
}

#[tokio::test]
async fn unreachable_server_backs_off_and_stops() {
    // A port nobody listens on: connection refused, again and again.
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    let cfg = format!(
        "[[source]]\ntype = \"ris-live\"\nurl = \"ws://127.0.0.1:{port}/\"\nbackoff_min_ms = 20\nbackoff_max_secs = 1\n"
    );
    let source = live::SourcesConfig::from_toml(&cfg)
        .expect("config")
        .source
        .remove(0);
    let health = source.new_health();
    let (tx, mut rx) = mpsc::channel(8);
    let (stop_tx, stop_rx) = watch::channel(false);
    let task = tokio::spawn(live::run(source, tx, health.clone(), stop_rx));
    let first = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a gap start")
        .expect("item");
    assert!(matches!(first, LiveItem::GapStart { .. }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop_tx.send(true).expect("stop");
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops")
        .expect("no panic")
        .expect("ok");
    let r = health.reconnects.load(Ordering::Relaxed);
    assert!((1..30).contains(&r), "backoff bounds the attempts: {r}");
    assert!(health.is_blind(bgpsentry::ingest::health::now_ts()));
    // Only one gap start for the whole outage, no gap end (never came back).
    while let Ok(it) = rx.try_recv() {
        assert!(!matches!(
            it,
            LiveItem::GapStart { .. } | LiveItem::GapEnd { .. }
        ));
    }
}

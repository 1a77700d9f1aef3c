//! In-process alerting into a real HTTP receiver on 127.0.0.1: exact webhook
//! body and HMAC signature, lifecycle (new, escalated, resolved once each),
//! retries with one delivered record, a failing channel not blocking
//! another, restart re-delivery from the outbox, digests under a rate
//! limit, and change → received latency.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod alert_support;

use std::time::{Duration, Instant};

use alert_support::*;
use bgpsentry::alert::db::AlertDb;
use bgpsentry::alert::{AlertConfig, Alerter};
use bgpsentry::pipeline::ChangeSink;
use bgpsentry_core::model::{ChangeKind, Event};
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn config(extra: &str) -> AlertConfig {
    let text = format!(
        r#"
[api]
url = "http://127.0.0.1:8080/client/v4"

[delivery]
initial_backoff_ms = 20
max_backoff_secs = 1
timeout_secs = 2

[[watch]]
name = "youtube"
involved_asn = 36561
{extra}
"#
    );
    AlertConfig::from_toml(&text).expect("config")
}

fn secret_file(dir: &tempfile::TempDir, secret: &str) -> String {
    let p = dir.path().join("hook.secret");
    std::fs::write(&p, format!("{secret}\n")).unwrap();
    p.display().to_string()
}

fn verify(secret: &str, ts: &str, body: &[u8], sig: &str) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    sig == format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

const EXPECTED_NEW_BODY: &str = r#"{"confidence":{"level":"high","score":12},"event":{"confidence_score":12,"duration":0,"event_type":1,"finished":false,"hijack_msgs_count":3,"hijacker_asn":17557,"hijacker_country":"PK","id":7,"is_stale":false,"kind":"hijack","max_hijack_ts":"2008-02-24T18:47:57.000","max_msg_ts":"2008-02-24T18:47:57.000","min_hijack_ts":"2008-02-24T18:47:57.000","on_going_count":1,"peer_asns":[3356,3549],"peer_ip_count":2,"prefixes":["208.65.153.0/24"],"tags":[{"name":"rpki_new_origin_invalid","score":8},{"name":"irr_new_origin_invalid","score":4}],"victim_asns":[36561],"victim_countries":["US"]},"event_id":7,"idempotency_key":"bgpsentry-hijack-7-new-hook","kind":"hijack","link":"http://127.0.0.1:8080/client/v4/radar/bgp/hijacks/events?eventId=7","stage":"new","text":"New BGP hijack event (7):\nDetected time: 2008-02-24T18:47:57.000 UTC\nDetected ASN: AS17557 PK\nExpected ASN(s): AS36561\nPrefixes (1): 208.65.153.0/24\nTags: rpki_new_origin_invalid irr_new_origin_invalid\nPeer count: 2\nConfidence: 12 (high)\nStatus: ongoing\nhttp://127.0.0.1:8080/client/v4/radar/bgp/hijacks/events?eventId=7","title":"[bgpsentry] New BGP hijack 7: AS17557 announced 1 prefix(es) of AS36561 (high)","type":"bgpsentry.alert","version":1,"watch":"youtube"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_body_and_signature_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start().await;
    let cfg = config(&format!(
        "[[channel]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{}\"\nsecret_file = \"{}\"\n",
        rx.url("/hook"),
        secret_file(&dir, "s3cr3t")
    ));
    let alerter = Alerter::start(cfg, &dir.path().join("state.db")).unwrap();
    let mut sink = alerter.sink();
    sink.change(&change(ChangeKind::Opened, Event::Hijack(hijack(7))));
    let reqs = rx.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.uri, "/hook");
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        r.header("idempotency-key"),
        Some("bgpsentry-hijack-7-new-hook")
    );
    assert_eq!(r.text(), EXPECTED_NEW_BODY);
    let ts = r.header("x-bgpsentry-timestamp").expect("timestamp header");
    let sig = r.header("x-bgpsentry-signature").expect("signature header");
    assert!(
        verify("s3cr3t", ts, &r.body, sig),
        "signature {sig} does not verify"
    );
    assert!(!verify("wrong", ts, &r.body, sig));
    let now = chrono::Utc::now().timestamp();
    assert!((now - ts.parse::<i64>().unwrap()).abs() < 60);
    alerter.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_new_escalated_resolved_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start().await;
    let cfg = config(&format!(
        "[[channel]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{}\"\n",
        rx.url("/h")
    ));
    let alerter = Alerter::start(cfg, &dir.path().join("state.db")).unwrap();
    let mut sink = alerter.sink();
    let mut e = hijack(8);
    sink.change(&change(ChangeKind::Opened, Event::Hijack(e.clone())));
    rx.wait_for(1, Duration::from_secs(10)).await;
    // A small growth: not an escalation.
    e.prefixes.push("208.65.152.0/24".into());
    sink.change(&change(ChangeKind::Grown, Event::Hijack(e.clone())));
    // Past the threshold (x2 and +5): escalated, once.
    for i in 0..10 {
        e.prefixes.push(format!("10.{i}.0.0/16"));
    }
    sink.change(&change(ChangeKind::Grown, Event::Hijack(e.clone())));
    rx.wait_for(2, Duration::from_secs(10)).await;
    e.prefixes.push("10.200.0.0/16".into());
    sink.change(&change(ChangeKind::Grown, Event::Hijack(e.clone())));
    e.finished = true;
    e.ended_ts = Some(ts("2008-02-24T21:00:00.000"));
    sink.change(&change(ChangeKind::Ended, Event::Hijack(e.clone())));
    sink.change(&change(ChangeKind::Ended, Event::Hijack(e.clone())));
    rx.wait_for(3, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stages: Vec<String> = rx
        .reqs()
        .iter()
        .map(|r| r.json()["stage"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(stages, ["new", "escalated", "resolved"]);
    let last = rx.reqs()[2].json();
    assert_eq!(last["idempotency_key"], "bgpsentry-hijack-8-resolved-hook");
    assert!(last["text"].as_str().unwrap().contains("Status: ended"));
    alerter.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_until_accepted_and_records_one_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start().await;
    rx.rec
        .fail_first
        .store(3, std::sync::atomic::Ordering::SeqCst);
    let cfg = config(&format!(
        "[[channel]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{}\"\n",
        rx.url("/h")
    ));
    let db_path = dir.path().join("state.db");
    let alerter = Alerter::start(cfg, &db_path).unwrap();
    let mut sink = alerter.sink();
    sink.change(&change(ChangeKind::Opened, Event::Hijack(hijack(9))));
    let reqs = rx.wait_for(4, Duration::from_secs(20)).await;
    assert_eq!(reqs.len(), 4, "3 failures then a success");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rx.reqs().len(), 4, "nothing after the success");
    // Every attempt: same key, same body bytes; growing gaps (backoff).
    for r in &reqs {
        assert_eq!(
            r.header("idempotency-key"),
            Some("bgpsentry-hijack-9-new-hook")
        );
        assert_eq!(r.body, reqs[0].body);
    }
    alerter.shutdown(Duration::from_secs(1)).await;
    let db = AlertDb::open(&db_path).unwrap();
    let states = db.outbox_states().unwrap();
    assert_eq!(
        states,
        vec![(
            "bgpsentry-hijack-9-new-hook".to_string(),
            "delivered".to_string(),
            3
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_channel_does_not_block_others_and_restart_redelivers() {
    let dir = tempfile::tempdir().unwrap();
    let good = Receiver::start().await;
    let bad = Receiver::start().await;
    bad.rec
        .fail_first
        .store(usize::MAX / 2, std::sync::atomic::Ordering::SeqCst);
    let channels = format!(
        "[[channel]]\ntype = \"webhook\"\nname = \"bad\"\nurl = \"{}\"\n\n[[channel]]\ntype = \"slack\"\nname = \"good\"\nurl = \"{}\"\n",
        bad.url("/bad"),
        good.url("/good")
    );
    let db_path = dir.path().join("state.db");
    let alerter = Alerter::start(config(&channels), &db_path).unwrap();
    let mut sink = alerter.sink();
    for id in 1..=3 {
        sink.change(&change(ChangeKind::Opened, Event::Hijack(hijack(id))));
    }
    let got = good.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(
        got.len(),
        3,
        "the good channel got everything while the bad one fails"
    );
    bad.wait_for(2, Duration::from_secs(10)).await;
    alerter.shutdown(Duration::from_millis(200)).await;

    // The bad channel's rows are still queued after shutdown.
    let db = AlertDb::open(&db_path).unwrap();
    assert_eq!(db.pending(Some("bad")).unwrap(), 3);
    drop(db);

    // Restart with the receiver fixed: the outbox is delivered, no new change needed.
    bad.rec
        .fail_first
        .store(0, std::sync::atomic::Ordering::SeqCst);
    let before = bad.reqs().len();
    let alerter = Alerter::start(config(&channels), &db_path).unwrap();
    let all = bad.wait_for(before + 3, Duration::from_secs(20)).await;
    alerter.shutdown(Duration::from_secs(1)).await;
    let db = AlertDb::open(&db_path).unwrap();
    assert_eq!(db.pending(None).unwrap(), 0);
    let mut keys: Vec<String> = all[before..]
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_string())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "bgpsentry-hijack-1-new-bad",
            "bgpsentry-hijack-2-new-bad",
            "bgpsentry-hijack-3-new-bad"
        ]
    );
    // The good channel got nothing twice.
    assert_eq!(good.reqs().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_events_become_a_few_digests() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start().await;
    let extra = format!(
        "[[channel]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{}\"\n\n[rate_limit]\nmax_messages = 5\nwindow_secs = 60\n",
        rx.url("/h")
    );
    let cfg = config(&extra);
    // Rostelecom 2020 scale: one hijacker, many victims and prefixes, all
    // queued in one round (as a poll or a burst does), then delivered.
    let db_path = dir.path().join("state.db");
    let n = 2000u64;
    let events: Vec<Event> = (1..=n)
        .map(|id| {
            let mut h = hijack(id);
            h.prefixes = (0..5)
                .map(|i| format!("10.{}.{}.0/24", id % 250, i))
                .collect();
            Event::Hijack(h)
        })
        .collect();
    let db = AlertDb::open(&db_path).unwrap();
    bgpsentry::alert::sink::ingest(&cfg, &db, &events).unwrap();
    drop(db);
    let alerter = Alerter::start(cfg, &db_path).unwrap();
    // Wait until the limit is used up and everything is covered.
    let start = Instant::now();
    let covered = loop {
        let reqs = rx.reqs();
        let covered: u64 = reqs
            .iter()
            .map(|r| {
                let v = r.json();
                if v["type"] == "bgpsentry.digest" {
                    v["count"].as_u64().unwrap_or(0)
                } else {
                    1
                }
            })
            .sum();
        if covered >= n || start.elapsed() > Duration::from_secs(30) {
            break covered;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let reqs = rx.reqs();
    assert_eq!(covered, n, "every event is in some message");
    assert!(
        reqs.len() <= 5,
        "at most the rate limit of messages, got {}",
        reqs.len()
    );
    assert!(reqs.iter().any(|r| r.json()["type"] == "bgpsentry.digest"));
    // A digest lists `digest_max_events` (50) and counts the rest.
    for r in reqs
        .iter()
        .map(|r| r.json())
        .filter(|v| v["type"] == "bgpsentry.digest")
    {
        let count = r["count"].as_u64().unwrap();
        let text = r["text"].as_str().unwrap();
        assert_eq!(r["items"].as_array().unwrap().len() as u64, count);
        if count > 50 {
            assert!(
                text.contains(&format!("... and {} more", count - 50)),
                "{text}"
            );
        }
    }
    alerter.shutdown(Duration::from_millis(200)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_to_webhook_latency() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start().await;
    let extra = format!(
        "[[channel]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{}\"\n\n[rate_limit]\nmax_messages = 100000\n",
        rx.url("/h")
    );
    let alerter = Alerter::start(config(&extra), &dir.path().join("state.db")).unwrap();
    let mut sink = alerter.sink();
    let mut lat = Vec::new();
    for id in 1..=200u64 {
        let t0 = Instant::now();
        sink.change(&change(ChangeKind::Opened, Event::Hijack(hijack(id))));
        let reqs = rx.wait_for(id as usize, Duration::from_secs(10)).await;
        let got = reqs.last().unwrap().at;
        lat.push(got.duration_since(t0));
    }
    lat.sort();
    let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
    eprintln!(
        "in-process change -> webhook received: p50 {:?} p90 {:?} p99 {:?} max {:?} (n={})",
        p(0.5),
        p(0.9),
        p(0.99),
        lat[lat.len() - 1],
        lat.len()
    );
    assert!(p(0.99) < Duration::from_millis(1000), "p99 {:?}", p(0.99));
    alerter.shutdown(Duration::from_millis(200)).await;
}

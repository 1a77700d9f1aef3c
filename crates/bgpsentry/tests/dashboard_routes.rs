//! The dashboard's routes without a browser: the embedded assets are served
//! with the right content types and headers, `/` leads to the page, the
//! data endpoints sit behind the API's bearer tokens (the page and the tag
//! catalogue do not), and the data endpoints answer correctly over a real
//! SQLite store (state filter, overview, timeline, errors).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;

use api_support::*;
use bgpsentry::api::Clock;
use bgpsentry::dashboard::{APP_CSS, APP_JS, FAVICON_SVG, INDEX_HTML};
use bgpsentry_core::model::{ChangeKind, Event, EventChange, Timestamp};
use serde_json::Value;

fn t(secs: i64) -> Timestamp {
    Timestamp::from_secs(1_700_000_000 + secs)
}

async fn raw(base: &str, path: &str, token: Option<&str>) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = client.get(format!("{base}{path}"));
    if let Some(tok) = token {
        req = req.bearer_auth(tok);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn assets_are_embedded_with_content_types() {
    let srv = start(|_| {}, &[], Clock::Fixed(t(0))).await;
    for (path, ctype, body) in [
        ("/dashboard/", "text/html; charset=utf-8", INDEX_HTML),
        (
            "/dashboard/index.html",
            "text/html; charset=utf-8",
            INDEX_HTML,
        ),
        (
            "/dashboard/app.js",
            "text/javascript; charset=utf-8",
            APP_JS,
        ),
        ("/dashboard/app.css", "text/css; charset=utf-8", APP_CSS),
        ("/dashboard/favicon.svg", "image/svg+xml", FAVICON_SVG),
    ] {
        let r = raw(&srv.base, path, None).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let h = r.headers().clone();
        assert_eq!(h["content-type"], ctype, "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(r.text().await.unwrap(), body, "{path}");
    }
    let r = raw(&srv.base, "/dashboard/", None).await;
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    // the page references only its own embedded assets (no CDN)
    assert!(INDEX_HTML.contains(r#"src="/dashboard/app.js""#));
    assert!(INDEX_HTML.contains(r#"href="/dashboard/app.css""#));
    for text in [INDEX_HTML, APP_JS, APP_CSS] {
        // the SVG namespace is a name, not a fetch
        let text = text.replace("http://www.w3.org/2000/svg", "");
        assert!(!text.contains("https://"), "external URL in an asset");
        assert!(!text.contains("http://"), "external URL in an asset");
    }
    for path in ["/", "/dashboard"] {
        let r = raw(&srv.base, path, None).await;
        assert_eq!(r.status().as_u16(), 307, "{path}");
        assert_eq!(r.headers()["location"], "/dashboard/", "{path}");
    }
    let (s, v) = srv.json("/dashboard/nope").await;
    assert_eq!(s, 404);
    assert_eq!(v["success"], false);
}

#[tokio::test]
async fn page_is_public_data_needs_the_token() {
    let tok = "dashboard-test-token-0123456789";
    let srv = start(
        |s| put_hijacks(s, vec![hijack(1, t(0), 8)]),
        &[tok],
        Clock::Fixed(t(0)),
    )
    .await;
    for path in ["/dashboard/", "/dashboard/app.js", "/dashboard/api/tags"] {
        assert_eq!(
            raw(&srv.base, path, None).await.status().as_u16(),
            200,
            "{path}"
        );
    }
    for path in [
        "/dashboard/api/overview",
        "/dashboard/api/hijacks/events",
        "/dashboard/api/leaks/events",
        "/dashboard/api/hijacks/events/1/timeline",
    ] {
        let r = raw(&srv.base, path, None).await;
        assert_eq!(r.status().as_u16(), 401, "{path}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        assert_eq!(
            raw(&srv.base, path, Some(tok)).await.status().as_u16(),
            200,
            "{path}"
        );
    }
}

#[tokio::test]
async fn data_endpoints_answer_over_a_store() {
    let srv = start(
        |s| {
            let mut a = hijack(1, t(0), 8);
            a.hijacker_asn = bgpsentry_core::model::Asn(64500);
            let mut b = hijack(2, t(90_000), 4);
            b.hijacker_asn = bgpsentry_core::model::Asn(64500);
            let mut c = hijack(3, t(200_000), 2);
            for e in [&mut a, &mut b, &mut c] {
                e.finished = false;
                e.ended_ts = None;
            }
            put_hijacks(s, vec![a.clone(), b, c]);
            // event 1 grows at +61 s and ends at +185 s
            let mut grown = a.clone();
            grown.peer_ip_count = 9;
            grown.hijack_msgs_count = a.hijack_msgs_count + 7;
            grown.on_going_count = 1;
            let mut ended = grown.clone();
            ended.on_going_count = 0;
            ended.finished = true;
            ended.ended_ts = Some(t(185));
            s.apply_batch(&[
                EventChange {
                    ts: t(61),
                    kind: ChangeKind::Grown,
                    event: Event::Hijack(grown),
                },
                EventChange {
                    ts: t(185),
                    kind: ChangeKind::Ended,
                    event: Event::Hijack(ended),
                },
            ])
            .unwrap();
            put_leaks(s, vec![leak(1, t(10))]);
        },
        &[],
        Clock::Fixed(t(300_000)),
    )
    .await;

    // state filter on top of Radar's filters, in Radar's envelope
    let (s, v) = srv
        .json("/dashboard/api/hijacks/events?state=finished")
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(ids(&v), vec![1]);
    assert_eq!(v["result_info"]["total_count"], 1);
    let (_, v) = srv
        .json("/dashboard/api/hijacks/events?state=ongoing&sortOrder=ASC")
        .await;
    assert_eq!(ids(&v), vec![2, 3]);
    let (_, v) = srv
        .json("/dashboard/api/hijacks/events?state=ongoing&hijackerAsn=64500")
        .await;
    assert_eq!(ids(&v), vec![2]);
    assert!(
        v["result"]["asn_info"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["asn"] == 64500)
    );
    let (_, v) = srv.json("/dashboard/api/leaks/events?state=all").await;
    assert_eq!(ids(&v), vec![1]);
    let (s, v) = srv.json("/dashboard/api/hijacks/events?state=gone").await;
    assert_eq!(s, 400);
    assert_eq!(v["errors"][0]["source"]["parameter"], "state");
    let (s, _) = srv.json("/dashboard/api/hijacks/events?format=CSV").await;
    assert_eq!(s, 400);
    let (s, v) = srv
        .json("/dashboard/api/leaks/events?prefix=1.0.0.0/8")
        .await;
    assert_eq!(s, 400, "{v}");

    // overview
    let (s, v) = srv.json("/dashboard/api/overview?days=7").await;
    assert_eq!(s, 200, "{v}");
    let o = &v["result"];
    assert_eq!(
        (o["hijacks"].as_u64(), o["hijacks_ongoing"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(o["leaks"], 1);
    let days = o["per_day"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    let total: u64 = days.iter().map(|d| d["hijacks"].as_u64().unwrap()).sum();
    assert_eq!(total, 3);
    assert_eq!(o["top_hijackers"][0]["asn"], 64500);
    assert_eq!(o["top_hijackers"][0]["events"], 2);
    assert_eq!(o["top_hijackers"][0]["ongoing"], 1);
    assert_eq!(o["sources"], Value::Array(vec![]));
    let (s, _) = srv.json("/dashboard/api/overview?days=0").await;
    assert_eq!(s, 400);

    // timeline: per minute from the stored history, dense, carried forward
    let (s, v) = srv.json("/dashboard/api/hijacks/events/1/timeline").await;
    assert_eq!(s, 200, "{v}");
    let r = &v["result"];
    assert_eq!(r["bucket_secs"], 60);
    let b = r["buckets"].as_array().unwrap();
    assert_eq!(b.len(), 4, "{v}");
    assert_eq!(b[0]["changes"], 1);
    assert_eq!(b[1]["changes"], 1);
    // announcements counted between reports, prefixes still carried
    let first = b[0]["announcements"].as_u64().unwrap();
    assert!(first >= 1);
    assert_eq!(b[1]["announcements"], 7);
    assert_eq!(b[2]["announcements"], 0);
    assert_eq!(b[1]["ongoing"], 1);
    assert_eq!(b[3]["ongoing"], 0);
    assert_eq!(b[1]["peers"], 9);
    assert_eq!(b[2]["changes"], 0);
    assert_eq!(b[2]["peers"], 9);
    assert_eq!(b[3]["ended"], true);
    let (s, _) = srv.json("/dashboard/api/hijacks/events/99/timeline").await;
    assert_eq!(s, 404);
    let (s, _) = srv.json("/dashboard/api/leaks/events/1/timeline").await;
    assert_eq!(s, 200);
    let (s, _) = srv.json("/dashboard/api/bogus/events/1/timeline").await;
    assert_eq!(s, 404);
    let (s, _) = srv.json("/dashboard/api/hijacks/events/x/timeline").await;
    assert_eq!(s, 400);

    // tag catalogue
    let (s, v) = srv.json("/dashboard/api/tags").await;
    assert_eq!(s, 200);
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "rpki_new_origin_invalid" && t["score"] == 8)
    );
}

#[tokio::test]
async fn overview_reports_live_source_health() {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use bgpsentry::api::{AppState, Tokens, serve_on};
    use bgpsentry::ingest::health::SourceHealth;
    use bgpsentry::store::{ReadPool, Store};

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e.sqlite");
    drop(Store::open(&db).unwrap());
    let state = AppState::new(
        ReadPool::open(&db, 2).unwrap(),
        Tokens::default(),
        Clock::Fixed(t(0)),
    );
    let live = Arc::new(SourceHealth::new(
        "ris-live",
        "rislive",
        Some(std::time::Duration::from_secs(60)),
    ));
    live.connections.store(1, Ordering::Relaxed);
    live.peers_up.store(3, Ordering::Relaxed);
    live.message(t(5), 2, 1);
    let dead = Arc::new(SourceHealth::new("bmp", "bmp", None));
    state.sources.lock().unwrap().extend([live, dead]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve_on(listener, state, async {
        let _ = rx.await;
    }));
    let v: Value = raw(&base, "/dashboard/api/overview", None)
        .await
        .json()
        .await
        .unwrap();
    let _ = tx.send(());
    let s = &v["result"]["sources"];
    assert_eq!(s[0]["name"], "ris-live");
    assert_eq!(s[0]["type"], "rislive");
    assert_eq!(s[0]["blind"], false);
    assert_eq!(s[0]["messages"], 1);
    assert_eq!(s[0]["announced"], 2);
    assert_eq!(s[0]["withdrawn"], 1);
    assert_eq!(s[0]["peers_up"], 3);
    assert_eq!(s[0]["last_message_ts"], t(5).to_radar_millis());
    // no connection: blind
    assert_eq!(s[1]["name"], "bmp");
    assert_eq!(s[1]["blind"], true);
    assert_eq!(s[1]["last_message_ts"], Value::Null);
    assert_eq!(v["result"]["per_day"], Value::Array(vec![]));
}

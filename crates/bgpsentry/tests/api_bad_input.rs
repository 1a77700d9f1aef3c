//! Hostile and mistaken input, driven through the router with
//! `tower::ServiceExt::oneshot`: every bad parameter gets a 400 in Radar's
//! error envelope naming the parameter, never a panic, never an unfiltered
//! answer, and the store is untouched afterwards.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use bgpsentry::api::filters::{HIJACK_PARAMS, LEAK_PARAMS};
use bgpsentry::api::{AppState, Clock, OPENAPI, Tokens, router};
use bgpsentry::store::synth;
use bgpsentry::store::{ReadPool, Store};
use bgpsentry_core::model::Timestamp;
use serde_json::Value;
use tower::ServiceExt;

const H: &str = "/client/v4/radar/bgp/hijacks/events";
const L: &str = "/client/v4/radar/bgp/leaks/events";

fn app() -> (axum::Router, tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("e.sqlite");
    let mut store = Store::open(&db).expect("open");
    synth::fill(
        &mut store,
        50,
        10,
        Timestamp::from_secs(1_700_000_000),
        86_400,
        3,
    )
    .expect("fill");
    let pool = ReadPool::open(&db, 2).expect("pool");
    let state: Arc<AppState> = AppState::new(pool, Tokens::default(), Clock::Wall);
    (router(state), dir, db)
}

async fn call(app: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let req = Request::get(uri).body(Body::empty()).expect("request");
    let resp = app.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
        .await
        .expect("body");
    let v = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    (status, v)
}

/// Asserts a 400 in Radar's error envelope naming `param`.
async fn bad(app: &axum::Router, uri: &str, param: &str) -> String {
    let (s, v) = call(app, uri).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {v}");
    assert_eq!(v["success"], false, "{uri}");
    assert_eq!(v["result"], serde_json::json!({}), "{uri}");
    assert!(v["messages"].is_array());
    let err = &v["errors"][0];
    assert_eq!(err["source"]["parameter"], param, "{uri}: {v}");
    let msg = err["message"].as_str().expect("message").to_string();
    assert!(
        msg.contains(param),
        "{uri}: message {msg:?} does not name {param}"
    );
    msg
}

#[tokio::test]
async fn unknown_parameters_suggest_the_right_spelling() {
    let (app, _d, _) = app();
    // Radar's own docs misspell involvedAsn.
    let msg = bad(
        &app,
        &format!("{H}?invlovedAsn=64512&format=json&per_page=10"),
        "invlovedAsn",
    )
    .await;
    assert!(msg.contains("did you mean involvedAsn?"), "{msg}");
    let msg = bad(&app, &format!("{L}?invlovedAsn=64512"), "invlovedAsn").await;
    assert!(msg.contains("did you mean involvedAsn?"), "{msg}");
    let msg = bad(&app, &format!("{H}?perpage=10"), "perpage").await;
    assert!(msg.contains("did you mean per_page?"));
    let msg = bad(&app, &format!("{H}?HIJACKERASN=1"), "HIJACKERASN").await;
    assert!(msg.contains("did you mean hijackerAsn?"));
    let msg = bad(&app, &format!("{H}?finished=true"), "finished").await;
    assert!(msg.contains("known parameters"), "{msg}");
    let msg = bad(&app, &format!("{L}?prefix=1.1.1.0/24"), "prefix").await;
    assert!(msg.contains("not supported by this endpoint"), "{msg}");
    bad(&app, &format!("{L}?minConfidence=8"), "minConfidence").await;
    bad(&app, &format!("{H}?leakAsn=1"), "leakAsn").await;
    let long = "x".repeat(500);
    let msg = bad(
        &app,
        &format!("{H}?{long}=1"),
        &format!("{}…", "x".repeat(64)),
    )
    .await;
    assert!(msg.len() < 400, "user input is not echoed at length");
}

#[tokio::test]
async fn wrong_types_ranges_and_huge_numbers() {
    let (app, _d, _) = app();
    for (q, p) in [
        ("page=abc", "page"),
        ("page=1.5", "page"),
        ("page=0", "page"),
        ("page=99999999999999999999999999999", "page"),
        ("page=1000001", "page"),
        ("per_page=1001", "per_page"),
        ("per_page=", "per_page"),
        ("per_page=%20", "per_page"),
        ("eventId=0", "eventId"),
        ("eventId=18446744073709551616", "eventId"),
        ("eventId=-5", "eventId"),
        ("hijackerAsn=4294967296", "hijackerAsn"),
        ("hijackerAsn=-1", "hijackerAsn"),
        ("victimAsn=abc", "victimAsn"),
        ("involvedAsn=1e5", "involvedAsn"),
        // A sign, a leading zero or a `+` (a space once decoded) is not an ASN.
        ("involvedAsn=%2B36561", "involvedAsn"),
        ("involvedAsn=+36561", "involvedAsn"),
        ("involvedAsn=036561", "involvedAsn"),
        ("involvedAsn=AS036561", "involvedAsn"),
        ("involvedAsn=1.010", "involvedAsn"),
        ("involvedAsn=1.2.3", "involvedAsn"),
        ("victimAsn=36561%20", "victimAsn"),
        ("minConfidence=101", "minConfidence"),
        ("maxConfidence=-1000", "maxConfidence"),
        ("minConfidence=9&maxConfidence=2", "maxConfidence"),
        ("involvedCountry=USA", "involvedCountry"),
        ("involvedCountry=1A", "involvedCountry"),
        ("sortBy=NAME", "sortBy"),
        ("sortBy=LEAKS", "sortBy"),
        ("sortOrder=UP", "sortOrder"),
        ("format=XML", "format"),
        ("prefixMatch=exact", "prefixMatch"),
        ("prefix=1.1.1.0/24&prefixMatch=wider", "prefixMatch"),
        ("minId=5&maxId=4", "maxId"),
    ] {
        bad(&app, &format!("{H}?{q}"), p).await;
    }
    bad(&app, &format!("{L}?sortBy=CONFIDENCE"), "sortBy").await;
    bad(&app, &format!("{L}?leakAsn=AS"), "leakAsn").await;
    bad(&app, &format!("{L}?leakAsn=-36561"), "leakAsn").await;
    // The documented ASN spellings still work.
    for q in [
        "involvedAsn=36561",
        "involvedAsn=AS36561",
        "involvedAsn=as36561",
        "involvedAsn=0",
        "involvedAsn=1.10",
    ] {
        let (s, v) = call(&app, &format!("{H}?{q}")).await;
        assert_eq!(s, StatusCode::OK, "{q}: {v}");
    }
}

#[tokio::test]
async fn bad_prefixes_and_dates() {
    let (app, _d, _) = app();
    let msg = bad(&app, &format!("{H}?prefix=1.1.1.1/24"), "prefix").await;
    assert!(msg.contains("did you mean 1.1.1.0/24?"), "{msg}");
    let msg = bad(&app, &format!("{H}?prefix=1.1.1.1"), "prefix").await;
    assert!(msg.contains("did you mean 1.1.1.1/32?"), "{msg}");
    for p in [
        "300.0.0.0/8",
        "1.1.1.0/33",
        "2001:db8::/129",
        "1.1.1.0/-1",
        "banana",
        "1.1.1.0/24/24",
        "::/",
        // Surrounding whitespace (`+` decodes to a space).
        "1.1.1.0/24%20",
        "1.1.1.0/24+",
        "%201.1.1.0/24",
        "1.1.1.0/24%09",
    ] {
        let msg = bad(&app, &format!("{H}?prefix={p}"), "prefix").await;
        assert!(msg.starts_with("prefix: "), "{msg}");
    }
    for (q, p) in [
        ("dateStart=2024-13-01", "dateStart"),
        ("dateStart=yesterday", "dateStart"),
        ("dateEnd=2024-02-30", "dateEnd"),
        ("dateEnd=99999-01-01", "dateEnd"),
        ("dateStart=-0001-01-01", "dateStart"),
        ("dateStart=%2B2024-01-01", "dateStart"),
        ("dateStart=2024-1-05", "dateStart"),
        ("dateEnd=2024-03-01%20", "dateEnd"),
        ("dateStart=2024-03-02&dateEnd=2024-03-01", "dateEnd"),
        ("dateRange=7x", "dateRange"),
        ("dateRange=d", "dateRange"),
        ("dateRange=0d", "dateRange"),
        ("dateRange=9999999d", "dateRange"),
        ("dateRange=1y", "dateRange"),
        ("dateRange=7d&dateStart=2024-01-01", "dateRange"),
        ("dateRange=%F0%9F%92%A5", "dateRange"),
    ] {
        bad(&app, &format!("{H}?{q}"), p).await;
    }
    bad(&app, &format!("{L}?dateRange=7dcontrolx"), "dateRange").await;
}

#[tokio::test]
async fn injection_repeats_and_encoding() {
    let (app, _d, db) = app();
    for (q, p) in [
        ("involvedAsn=1%20OR%201%3D1", "involvedAsn"),
        ("hijackerAsn=1;DROP%20TABLE%20hijacks", "hijackerAsn"),
        ("prefix=1.1.1.0/24'%20OR%20'1'='1", "prefix"),
        ("involvedCountry=US'--", "involvedCountry"),
        ("sortBy=ID;DELETE%20FROM%20hijacks", "sortBy"),
        ("sortOrder=DESC,%20(SELECT%201)", "sortOrder"),
        ("dateStart=2024-01-01'%20OR%201=1--", "dateStart"),
        (
            "eventId=1%20UNION%20SELECT%20*%20FROM%20asn_info",
            "eventId",
        ),
        ("page=1&page=2", "page"),
        ("involvedAsn=1&involvedAsn=2", "involvedAsn"),
        ("per_page=%zz", "per_page"),
        ("per_page=%FF", "per_page"),
    ] {
        bad(&app, &format!("{H}?{q}"), p).await;
    }
    let huge = format!("{H}?page=1&{}", "a=1&".repeat(2000));
    bad(&app, &huge, "query").await;
    // The store is intact and unfiltered queries still see everything.
    let (s, v) = call(&app, &format!("{H}?per_page=1")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["result_info"]["total_count"], 50);
    let store = Store::open(&db).expect("open");
    store.integrity_check().expect("intact");
    // Well-formed odd input is fine: encoded slash, lower-case enums, spaces.
    let (s, _) = call(
        &app,
        &format!("{H}?prefix=10.0.0.0%2F8&sortBy=confidence&sortOrder=asc&format=json"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(&app, &format!("{H}?&&per_page=5&")).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn wrong_methods_get_a_405_envelope() {
    let (app, _d, _) = app();
    for (method, uri) in [
        ("POST", H.to_string()),
        ("DELETE", format!("{H}/1")),
        ("PUT", format!("{L}?per_page=1")),
        ("POST", "/healthz".to_string()),
        ("PATCH", "/openapi.json".to_string()),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(&uri)
            .body(Body::empty())
            .expect("request");
        let resp = app.clone().oneshot(req).await.expect("infallible");
        assert_eq!(
            resp.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}"
        );
        let allow = resp
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(allow.contains("GET"), "{method} {uri}: Allow {allow:?}");
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .expect("body");
        let v: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{method} {uri}: not JSON ({e})"));
        assert_eq!(v["success"], false, "{v}");
        assert_eq!(v["result"], serde_json::json!({}));
        assert_eq!(v["errors"][0]["code"], 10405, "{v}");
        let msg = v["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(msg.contains(method), "{msg}");
    }
}

#[test]
fn openapi_lists_every_parameter() {
    let doc: Value = serde_json::from_str(OPENAPI).expect("valid JSON");
    use bgpsentry::api::routing as r;
    const RADAR: &str = "/client/v4/radar";
    let routing = [
        ("bgp/routes/pfx2as", r::PFX2AS_PARAMS),
        ("bgp/routes/moas", r::MOAS_PARAMS),
        ("bgp/routes/stats", r::STATS_PARAMS),
        ("bgp/routes/ases", r::ASES_PARAMS),
        ("entities/asns", r::ENTITY_LIST_PARAMS),
        ("entities/asns/{asn}", r::ENTITY_PARAMS),
        ("entities/asns/{asn}/rel", r::REL_PARAMS),
    ]
    .map(|(p, params)| (format!("{RADAR}/{p}"), params));
    let events = [(H.to_string(), HIJACK_PARAMS), (L.to_string(), LEAK_PARAMS)];
    for (path, params) in events.into_iter().chain(routing) {
        let path = path.as_str();
        let listed: Vec<&str> = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str())
            .collect();
        let mut want = params.to_vec();
        want.sort_unstable();
        let mut got = listed.clone();
        got.sort_unstable();
        assert_eq!(got, want, "{path}");
    }
}

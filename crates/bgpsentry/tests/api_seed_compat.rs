//! Compatibility proof: the requests of the seed document
//! (`../shared/seed/bgp-anomalies.md`, Cloudflare's own "BGP anomalies"
//! page) run against `bgpsentry serve` over real HTTP with only the host
//! changed, and the answers parse as Radar's schema. The curl URLs and the
//! alert Worker's query template are read from the seed file itself.

mod api_support;

use api_support::*;
use bgpsentry::api::Clock;
use bgpsentry_core::model::{Asn, Timestamp};
use serde_json::Value;

const RADAR: &str = "https://api.cloudflare.com";
const TOKEN: &str = "seed-compat-token-0123456789abcdef";
const TARGET_ASN: u32 = 64512;

/// The seed's requests, as in the document (used if the file is absent).
const FALLBACK_CURLS: &[&str] = &[
    "https://api.cloudflare.com/client/v4/radar/bgp/hijacks/events?invlovedAsn=64512&format=json&per_page=10",
    "https://api.cloudflare.com/client/v4/radar/bgp/hijacks/events?invlovedAsn=64512&format=json&per_page=10&minConfidence=8",
    "https://api.cloudflare.com/client/v4/radar/bgp/leaks/events?invlovedAsn=64512&format=json&per_page=10",
];
const FALLBACK_ALERT_QUERY: &str =
    "per_page=10&page=${page}&involvedAsn=${env.TARGET_ASN}&sortBy=ID&sortOrder=DESC";

fn seed() -> Option<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/seed/bgp-anomalies.md");
    std::fs::read_to_string(path).ok()
}

fn seed_curls() -> Vec<String> {
    let Some(text) = seed() else {
        return FALLBACK_CURLS.iter().map(|s| s.to_string()).collect();
    };
    let urls: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("curl \""))
        .filter_map(|l| l.split('"').next())
        .map(str::to_string)
        .collect();
    assert_eq!(urls, FALLBACK_CURLS, "the seed's curl calls changed");
    urls
}

fn seed_alert_query() -> String {
    let Some(text) = seed() else {
        return FALLBACK_ALERT_QUERY.to_string();
    };
    let line = text
        .lines()
        .find(|l| l.contains("const query_params = `"))
        .expect("alert app query in the seed");
    let q = line.split('`').nth(1).expect("template").to_string();
    assert_eq!(q, FALLBACK_ALERT_QUERY);
    q
}

fn rehost(url: &str, base: &str) -> String {
    url.replacen(RADAR, base, 1)
}

fn events(v: &Value) -> &Vec<Value> {
    v["result"]["events"].as_array().expect("events")
}

async fn fetch(base: &str, url: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(rehost(url, base))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON"))
}

fn fill(s: &mut bgpsentry::store::Store, from: u64, to: u64) {
    let base = Timestamp::parse("2023-04-27T14:01:55.952").expect("t");
    let hijacks = (from..=to)
        .map(|id| {
            let mut e = hijack(
                id,
                base.add_secs(id as i64 * 60),
                if id % 3 == 0 { 4 } else { 12 },
            );
            match id % 4 {
                0 => e.hijacker_asn = Asn(TARGET_ASN),
                1 => e.victim_asns = vec![Asn(TARGET_ASN)],
                _ => {}
            }
            e
        })
        .collect();
    put_hijacks(s, hijacks);
    let leaks = (from..=to)
        .map(|id| {
            let mut l = leak(id, base.add_secs(id as i64 * 60));
            if id % 2 == 0 {
                l.leak_seg[1] = Asn(TARGET_ASN);
                l.leak_asn = Asn(TARGET_ASN);
            }
            l
        })
        .collect();
    put_leaks(s, leaks);
}

fn involves(e: &Value, asn: u32) -> bool {
    e["hijacker_asn"] == asn
        || e["victim_asns"]
            .as_array()
            .is_some_and(|v| v.iter().any(|a| *a == asn))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_curl_calls_work_with_only_the_host_changed() {
    let srv = start(
        |s| {
            fill(s, 1, 60);
            s.set_total_monitors(163).expect("monitors");
            s.upsert_asn_info(&[(Asn(TARGET_ASN), "XX".into(), "XXXXX".into())])
                .expect("info");
        },
        &[TOKEN],
        Clock::Wall,
    )
    .await;
    let curls = seed_curls();
    for url in &curls {
        // Verbatim, the docs' misspelling gets a helpful 400 instead of
        // silently unfiltered results.
        let (s, v) = fetch(&srv.base, url).await;
        assert_eq!(s, 400, "{url}: {v}");
        assert_eq!(v["success"], false);
        assert_eq!(v["errors"][0]["source"]["parameter"], "invlovedAsn");
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("did you mean involvedAsn?")
        );
        // Corrected, it answers in Radar's schema.
        let fixed = url.replace("invlovedAsn", "involvedAsn");
        let (s, v) = fetch(&srv.base, &fixed).await;
        assert_eq!(s, 200, "{fixed}: {v}");
        assert_eq!(v["result_info"]["per_page"], 10);
        assert_eq!(events(&v).len(), 10);
        if fixed.contains("/hijacks/") {
            check_hijack_schema(&v);
            assert_eq!(v["result"]["total_monitors"], 163);
            assert!(events(&v).iter().all(|e| involves(e, TARGET_ASN)));
            let info = v["result"]["asn_info"].as_array().expect("asn_info");
            assert!(
                info.iter()
                    .any(|a| a["asn"] == TARGET_ASN && a["org_name"] == "XXXXX")
            );
            if fixed.contains("minConfidence=8") {
                assert!(
                    events(&v)
                        .iter()
                        .all(|e| e["confidence_score"].as_i64() >= Some(8))
                );
            }
            // "the most recent 10": newest first.
            let ids = ids(&v);
            assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
        } else {
            check_leak_schema(&v);
            assert!(events(&v).iter().all(|e| {
                e["leak_seg"]
                    .as_array()
                    .is_some_and(|s| s.contains(&Value::from(TARGET_ASN)))
            }));
        }
    }
    // Without the bearer token the server refuses, as Radar does.
    let (s, body) = srv
        .get(&rehost(&curls[0].replace("invlovedAsn", "involvedAsn"), ""))
        .await;
    assert_eq!(s, 401, "{body}");
}

/// The seed's Worker (`scheduled`), step by step: page with the seed's own
/// query template until an id at or below the stored `latest_id`.
async fn alert_app_run(base: &str, template: &str, kv_latest_id: &mut Option<u64>) -> Vec<Value> {
    let apis = format!("{RADAR}/client/v4/radar/bgp/hijacks/events");
    let mut new_events: Vec<Value> = Vec::new();
    let mut page = 1;
    loop {
        let query = template
            .replace("${page}", &page.to_string())
            .replace("${env.TARGET_ASN}", &TARGET_ASN.to_string());
        let (s, data) = fetch(base, &format!("{apis}?{query}")).await;
        assert_eq!(s, 200, "{data}");
        check_hijack_schema(&data);
        let evs = events(&data).clone();
        let Some(latest) = *kv_latest_id else {
            *kv_latest_id = evs.first().and_then(|e| e["id"].as_u64());
            return Vec::new();
        };
        let mut reached_last = evs.is_empty();
        for e in evs {
            if e["id"].as_u64().unwrap_or(0) <= latest {
                reached_last = true;
                break;
            }
            new_events.push(e);
        }
        if reached_last {
            break;
        }
        page += 1;
    }
    new_events.sort_by_key(|e| e["id"].as_u64());
    if let Some(last) = new_events.last() {
        *kv_latest_id = last["id"].as_u64();
    }
    new_events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_alert_worker_pages_as_written() {
    let srv = start(|s| fill(s, 1, 40), &[TOKEN], Clock::Wall).await;
    let template = seed_alert_query();
    let mut kv = None;
    assert!(
        alert_app_run(&srv.base, &template, &mut kv)
            .await
            .is_empty(),
        "first batch only seeds the KV"
    );
    assert_eq!(
        kv,
        Some(40),
        "newest event involving the target (40 % 4 == 0)"
    );
    // 37 more events arrive, 19 of them involving the target: several pages.
    let mut store = srv.store();
    fill(&mut store, 41, 77);
    let new_events = alert_app_run(&srv.base, &template, &mut kv).await;
    let got: Vec<u64> = new_events.iter().filter_map(|e| e["id"].as_u64()).collect();
    let want: Vec<u64> = (41..=77).filter(|id| id % 4 == 0 || id % 4 == 1).collect();
    assert_eq!(got, want);
    assert_eq!(kv, Some(77));
    // Every field the seed's alert message template reads is there.
    for e in &new_events {
        assert!(e["id"].is_u64() && e["min_hijack_ts"].is_string() && e["hijacker_asn"].is_u64());
        assert!(
            e["victim_asns"].is_array() && e["prefixes"].is_array() && e["peer_ip_count"].is_u64()
        );
        assert!(
            e["tags"]
                .as_array()
                .is_some_and(|t| t.iter().all(|t| t["name"].is_string()))
        );
    }
    // Nothing new: the next run finds nothing.
    assert!(
        alert_app_run(&srv.base, &template, &mut kv)
            .await
            .is_empty()
    );
}

//! The Radar-compatible list endpoints over real HTTP: envelope and schema,
//! CSV, sorting with id tie-breaks, dates (`dateRange`, inclusive
//! `dateStart`/`dateEnd`), `per_page` bounds and default, `prefix`
//! semantics, `involvedCountry`, stable paging under inserts, event
//! details, `/healthz`, `/metrics` and the OpenAPI document.

mod api_support;

use api_support::*;
use bgpsentry::api::Clock;
use bgpsentry_core::model::{Asn, ChangeKind, Event, EventChange, Timestamp};

const H: &str = "/client/v4/radar/bgp/hijacks/events";
const L: &str = "/client/v4/radar/bgp/leaks/events";

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).expect("time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelope_schema_and_csv() {
    let base = t("2024-06-27T18:51:00");
    let srv = start(
        |s| {
            put_hijacks(
                s,
                (1..=30)
                    .map(|i| hijack(i, base.add_secs(i as i64), 8))
                    .collect(),
            );
            put_leaks(
                s,
                (1..=5).map(|i| leak(i, base.add_secs(i as i64))).collect(),
            );
            s.set_total_monitors(272).expect("monitors");
            s.upsert_asn_info(&[(
                hijack(3, base, 8).hijacker_asn,
                "br".into(),
                "Org Three".into(),
            )])
            .expect("asn info");
        },
        &[],
        Clock::Wall,
    )
    .await;
    let (s, v) = srv.json(&format!("{H}?per_page=10")).await;
    assert_eq!(s, 200);
    check_hijack_schema(&v);
    assert_eq!(v["result"]["total_monitors"], 272);
    assert_eq!(v["result_info"]["total_count"], 30);
    assert_eq!(v["result_info"]["per_page"], 10);
    assert_eq!(v["result_info"]["page"], 1);
    assert_eq!(
        ids(&v),
        (21..=30).rev().collect::<Vec<u64>>(),
        "default: newest id first"
    );
    let e3 = hijack(3, base, 8);
    let (_, v) = srv.json(&format!("{H}?eventId=3")).await;
    let info = v["result"]["asn_info"].as_array().expect("asn_info");
    assert_eq!(info[0]["asn"], e3.hijacker_asn.0);
    assert_eq!(info[0]["country_code"], "BR");
    assert_eq!(info[0]["org_name"], "Org Three");
    assert_eq!(
        v["result"]["events"][0]["min_hijack_ts"],
        "2024-06-27T18:51:03.000"
    );

    let (s, v) = srv
        .json(&format!("{L}?per_page=2&page=2&sortOrder=ASC"))
        .await;
    assert_eq!(s, 200);
    check_leak_schema(&v);
    assert_eq!(ids(&v), [3, 4]);
    assert_eq!(v["result"]["events"][0]["min_ts"], "2024-06-27T18:51:03");

    let (s, csv) = srv.get(&format!("{H}?format=CSV&per_page=5")).await;
    assert_eq!(s, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 6, "header plus five rows: {csv}");
    assert!(
        lines[0]
            .starts_with("id,confidence_score,duration,event_type,hijack_msgs_count,hijacker_asn")
    );
    assert!(lines[1].starts_with("30,8,"));
    assert!(
        lines[1].contains("rpki_new_origin_invalid:8") || lines[1].contains(':'),
        "{}",
        lines[1]
    );
    let (s, csv) = srv.get(&format!("{L}?format=csv")).await;
    assert_eq!(s, 200);
    assert!(csv.starts_with("id,countries,detected_ts,finished,leak_asn,leak_count,leak_seg"));
    assert_eq!(csv.lines().count(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sorting_breaks_ties_by_id() {
    let base = t("2024-01-01T00:00:00");
    let srv = start(
        |s| {
            // Confidence 4, 8, 4, 8, ... and times in reverse id order, with ties.
            let evs = (1..=12)
                .map(|i| {
                    hijack(
                        i,
                        base.add_secs(100 - (i as i64 / 2)),
                        if i % 2 == 0 { 8 } else { 4 },
                    )
                })
                .collect();
            put_hijacks(s, evs);
            let mut leaks: Vec<_> = (1..=6).map(|i| leak(i, base)).collect();
            for (i, l) in leaks.iter_mut().enumerate() {
                l.peer_count = if i < 3 { 5 } else { 9 };
            }
            put_leaks(s, leaks);
        },
        &[],
        Clock::Wall,
    )
    .await;
    let (_, v) = srv
        .json(&format!("{H}?sortBy=CONFIDENCE&sortOrder=ASC"))
        .await;
    assert_eq!(ids(&v), [1, 3, 5, 7, 9, 11, 2, 4, 6, 8, 10, 12]);
    let (_, v) = srv
        .json(&format!("{H}?sortBy=CONFIDENCE&sortOrder=DESC"))
        .await;
    assert_eq!(ids(&v), [12, 10, 8, 6, 4, 2, 11, 9, 7, 5, 3, 1]);
    let (_, v) = srv.json(&format!("{H}?sortBy=time&sortOrder=asc")).await;
    assert_eq!(
        ids(&v),
        [12, 10, 11, 8, 9, 6, 7, 4, 5, 2, 3, 1],
        "time ascending, ties by id"
    );
    let (_, v) = srv
        .json(&format!("{H}?sortBy=ID&sortOrder=ASC&per_page=5&page=3"))
        .await;
    assert_eq!(ids(&v), [11, 12]);
    let (_, v) = srv.json(&format!("{L}?sortBy=PEERS&sortOrder=DESC")).await;
    assert_eq!(ids(&v), [6, 5, 4, 3, 2, 1]);
    let (_, v) = srv.json(&format!("{L}?sortBy=PEERS&sortOrder=ASC")).await;
    assert_eq!(ids(&v), [1, 2, 3, 4, 5, 6]);
    for sort in ["LEAKS", "PREFIXES", "ORIGINS", "TIME", "ID"] {
        let (s, v) = srv.json(&format!("{L}?sortBy={sort}")).await;
        assert_eq!((s, ids(&v).len()), (200, 6), "{sort}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dates_are_inclusive_and_ranges_relative() {
    let now = t("2024-03-10T12:00:00");
    let srv = start(
        |s| {
            put_hijacks(
                s,
                vec![
                    hijack(1, t("2024-03-10T11:00:00.952"), 8), // 1 hour ago
                    hijack(2, t("2024-03-08T12:00:00"), 8),     // 2 days ago
                    hijack(3, t("2024-03-01T00:00:00"), 8),     // 9.5 days ago
                    hijack(4, t("2023-12-25T00:00:00"), 8),     // 11 weeks ago
                    hijack(5, t("2023-06-01T00:00:00"), 8),     // long ago
                ],
            );
            put_leaks(
                s,
                vec![
                    leak(1, t("2024-03-10T06:00:00")),
                    leak(2, t("2024-03-09T06:00:00")),
                    leak(3, t("2024-03-02T18:00:00")), // 7.75 days ago
                ],
            );
        },
        &[],
        Clock::Fixed(now),
    )
    .await;
    let q = |s: &str| format!("{H}?{s}&sortOrder=ASC");
    assert_eq!(ids(&srv.json(&q("dateRange=1d")).await.1), [1]);
    assert_eq!(ids(&srv.json(&q("dateRange=7d")).await.1), [1, 2]);
    assert_eq!(ids(&srv.json(&q("dateRange=14d")).await.1), [1, 2, 3]);
    assert_eq!(ids(&srv.json(&q("dateRange=12w")).await.1), [1, 2, 3, 4]);
    assert_eq!(
        ids(&srv.json(&q("dateRange=7dControl")).await.1),
        [3],
        "the 7 days before the last 7"
    );
    // Radar's control window: shifted back by the window's length rounded
    // up to whole weeks (3dcontrol = days -10..-7, not -6..-3).
    assert_eq!(ids(&srv.json(&q("dateRange=3dcontrol")).await.1), [3]);
    assert!(ids(&srv.json(&q("dateRange=2dControl")).await.1).is_empty());
    assert!(ids(&srv.json(&q("dateRange=10dcontrol")).await.1).is_empty());
    assert_eq!(ids(&srv.json(&q("dateRange=1wcontrol")).await.1), [3]);
    assert_eq!(ids(&srv.json(&q("dateRange=2h")).await.1), [1]);
    assert_eq!(ids(&srv.json(&format!("{L}?dateRange=1d")).await.1), [1]);
    assert_eq!(
        ids(&srv.json(&format!("{L}?dateRange=1dControl")).await.1),
        [3],
        "days -8..-7"
    );
    // Inclusive at the stated precision.
    assert_eq!(
        ids(&srv
            .json(&q(
                "dateStart=2024-03-10T11:00:00.952&dateEnd=2024-03-10T11:00:00.952"
            ))
            .await
            .1),
        [1]
    );
    assert_eq!(
        ids(&srv
            .json(&q(
                "dateStart=2024-03-10T11:00:00.952Z&dateEnd=2024-03-10T11:00:00.952Z"
            ))
            .await
            .1),
        [1]
    );
    assert_eq!(
        ids(&srv.json(&q("dateEnd=2024-03-10T11:00:00.951")).await.1),
        [2, 3, 4, 5]
    );
    assert_eq!(
        ids(&srv.json(&q("dateStart=2024-03-10T11:00:00.953")).await.1),
        Vec::<u64>::new()
    );
    assert_eq!(
        ids(&srv
            .json(&q(
                "dateStart=2024-03-10T11:00:00&dateEnd=2024-03-10T11:00:00"
            ))
            .await
            .1),
        [1],
        "a whole second"
    );
    assert_eq!(
        ids(&srv
            .json(&q("dateStart=2024-03-08&dateEnd=2024-03-10"))
            .await
            .1),
        [1, 2],
        "date-only end is the whole day"
    );
    assert_eq!(
        ids(&srv
            .json(&q("dateStart=2024-03-01&dateEnd=2024-03-01"))
            .await
            .1),
        [3]
    );
    assert_eq!(
        ids(&srv
            .json(&q("dateStart=2024-03-10T13:00:00%2B02:00"))
            .await
            .1),
        [1],
        "offsets honoured"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_page_bounds_and_default() {
    let base = t("2024-01-01T00:00:00");
    let srv = start(
        |s| put_hijacks(s, (1..=1005).map(|i| hijack(i, base, 4)).collect()),
        &[],
        Clock::Wall,
    )
    .await;
    let (_, v) = srv.json(H).await;
    assert_eq!(
        (v["result_info"]["per_page"].as_u64(), ids(&v).len()),
        (Some(100), 100),
        "default 100"
    );
    let (_, v) = srv.json(&format!("{H}?per_page=1000")).await;
    assert_eq!(ids(&v).len(), 1000);
    let (_, v) = srv.json(&format!("{H}?per_page=1000&page=2")).await;
    assert_eq!(ids(&v), [5, 4, 3, 2, 1]);
    let (_, v) = srv.json(&format!("{H}?page=99")).await;
    assert_eq!(
        (ids(&v).len(), v["result_info"]["total_count"].as_u64()),
        (0, Some(1005)),
        "past the end: empty page"
    );
    for bad in ["per_page=1001", "per_page=0", "per_page=-1", "page=0"] {
        let (s, v) = srv.json(&format!("{H}?{bad}")).await;
        assert_eq!(s, 400, "{bad}");
        let name = bad.split('=').next().unwrap_or_default();
        assert_eq!(v["errors"][0]["source"]["parameter"], name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefix_semantics_and_countries() {
    let base = t("2024-01-01T00:00:00");
    let srv = start(
        |s| {
            let mut a = hijack(1, base, 8);
            a.prefixes = vec!["10.0.0.0/16".into()];
            a.hijacker_country = "BR".into();
            a.victim_countries = vec!["US".into()];
            let mut b = hijack(2, base, 8);
            b.prefixes = vec!["10.0.1.0/24".into(), "2001:db8::/48".into()];
            b.hijacker_country = "RU".into();
            b.victim_countries = vec!["DE".into(), "BR".into()];
            let mut c = hijack(3, base, 8);
            c.prefixes = vec!["10.0.1.128/25".into()];
            c.hijacker_country = "CN".into();
            c.victim_countries = vec!["JP".into()];
            put_hijacks(s, vec![a, b, c]);
            let mut l = leak(1, base);
            l.countries = vec!["NL".into(), "us".into()];
            put_leaks(s, vec![l, leak(2, base)]);
        },
        &[],
        Clock::Wall,
    )
    .await;
    let p = |q: &str| format!("{H}?sortOrder=ASC&{q}");
    assert_eq!(
        ids(&srv.json(&p("prefix=10.0.1.0/24")).await.1),
        [2],
        "exact by default"
    );
    assert_eq!(
        ids(&srv
            .json(&p("prefix=10.0.1.0%2F24&prefixMatch=exact"))
            .await
            .1),
        [2]
    );
    assert_eq!(
        ids(&srv
            .json(&p("prefix=10.0.1.0/24&prefixMatch=covering"))
            .await
            .1),
        [1, 2],
        "equal or less specific"
    );
    assert_eq!(
        ids(&srv
            .json(&p("prefix=10.0.1.0/24&prefixMatch=more-specific"))
            .await
            .1),
        [2, 3],
        "equal or more specific"
    );
    assert_eq!(
        ids(&srv.json(&p("prefix=10.0.1.0/24&prefixMatch=any")).await.1),
        [1, 2, 3]
    );
    assert_eq!(
        ids(&srv
            .json(&p("prefix=10.0.0.0/8&prefixMatch=more-specific"))
            .await
            .1),
        [1, 2, 3]
    );
    assert_eq!(
        ids(&srv.json(&p("prefix=10.0.0.0/8")).await.1),
        Vec::<u64>::new()
    );
    assert_eq!(ids(&srv.json(&p("prefix=2001:db8::/48")).await.1), [2]);
    assert_eq!(
        ids(&srv
            .json(&p("prefix=2001:db8::/32&prefixMatch=more-specific"))
            .await
            .1),
        [2]
    );
    assert_eq!(
        ids(&srv
            .json(&p("prefix=2001:db8:1::/64&prefixMatch=covering"))
            .await
            .1),
        Vec::<u64>::new()
    );
    assert_eq!(
        ids(&srv
            .json(&p("prefix=2001:db8::/64&prefixMatch=covering"))
            .await
            .1),
        [2]
    );
    // involvedCountry: the hijacker's or any victim's country, any case.
    assert_eq!(ids(&srv.json(&p("involvedCountry=BR")).await.1), [1, 2]);
    assert_eq!(ids(&srv.json(&p("involvedCountry=jp")).await.1), [3]);
    assert_eq!(
        ids(&srv.json(&p("involvedCountry=FR")).await.1),
        Vec::<u64>::new()
    );
    assert_eq!(
        ids(&srv.json(&format!("{L}?involvedCountry=US")).await.1),
        [1],
        "leaks: countries of the segment"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asn_filters() {
    let base = t("2024-01-01T00:00:00");
    let srv = start(
        |s| {
            let mk = |id, hj: u32, victims: Vec<u32>| {
                let mut e = hijack(id, base, 8);
                e.hijacker_asn = Asn(hj);
                e.victim_asns = victims.into_iter().map(Asn).collect();
                e
            };
            put_hijacks(
                s,
                vec![
                    mk(1, 100, vec![200]),
                    mk(2, 200, vec![300]),
                    mk(3, 300, vec![100, 200]),
                ],
            );
            let mut l = leak(1, base);
            l.leak_seg = vec![Asn(10), Asn(20), Asn(30)];
            l.leak_asn = Asn(20);
            l.origins = vec![Asn(40)];
            put_leaks(s, vec![l]);
        },
        &[],
        Clock::Wall,
    )
    .await;
    let p = |q: &str| format!("{H}?sortOrder=ASC&{q}");
    assert_eq!(ids(&srv.json(&p("hijackerAsn=200")).await.1), [2]);
    assert_eq!(ids(&srv.json(&p("victimAsn=200")).await.1), [1, 3]);
    assert_eq!(ids(&srv.json(&p("involvedAsn=200")).await.1), [1, 2, 3]);
    assert_eq!(
        ids(&srv.json(&p("involvedAsn=AS100&hijackerAsn=300")).await.1),
        [3]
    );
    for asn in [10, 20, 30, 40] {
        assert_eq!(
            ids(&srv.json(&format!("{L}?involvedAsn={asn}")).await.1),
            [1],
            "leak involved {asn}"
        );
    }
    assert_eq!(ids(&srv.json(&format!("{L}?leakAsn=20")).await.1), [1]);
    assert_eq!(
        ids(&srv.json(&format!("{L}?leakAsn=10")).await.1),
        Vec::<u64>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_is_stable_while_events_arrive() {
    let base = t("2024-01-01T00:00:00");
    let srv = start(
        |s| put_hijacks(s, (1..=50).map(|i| hijack(i, base, 8)).collect()),
        &[],
        Clock::Wall,
    )
    .await;
    let mut store = srv.store();
    // Ascending ids: new events only ever append after the last page.
    let mut seen = Vec::new();
    let mut next_id = 51;
    for page in 1.. {
        let (_, v) = srv
            .json(&format!(
                "{H}?sortBy=ID&sortOrder=ASC&per_page=7&page={page}"
            ))
            .await;
        let got = ids(&v);
        if got.is_empty() {
            break;
        }
        seen.extend(got);
        if next_id < 60 {
            put_hijacks(&mut store, vec![hijack(next_id, base, 8)]);
            next_id += 1;
        }
    }
    // No duplicates and no gaps; an event appended to the already-read last
    // page is simply picked up by the next poll.
    assert_eq!(
        seen,
        (1..=seen.len() as u64).collect::<Vec<u64>>(),
        "no duplicates, no gaps"
    );
    assert!(
        seen.len() >= 58,
        "events inserted while paging show up: {}",
        seen.len()
    );
    // Descending ids (the alert app): pin the view with maxId = first page's top id.
    let (_, v) = srv
        .json(&format!("{H}?sortBy=ID&sortOrder=DESC&per_page=10&page=1"))
        .await;
    let first = ids(&v);
    let top = first[0];
    let mut seen = first;
    for page in 2..=4 {
        put_hijacks(&mut store, vec![hijack(next_id, base, 8)]);
        next_id += 1;
        let (_, v) = srv
            .json(&format!(
                "{H}?sortBy=ID&sortOrder=DESC&per_page=10&page={page}&maxId={top}"
            ))
            .await;
        seen.extend(ids(&v));
    }
    let want: Vec<u64> = (top - 39..=top).rev().collect();
    assert_eq!(seen, want);
    // total_count follows writes (the count cache is invalidated by commits).
    let (_, v) = srv.json(&format!("{H}?per_page=1")).await;
    assert_eq!(v["result_info"]["total_count"].as_u64(), Some(next_id - 1));
    put_hijacks(&mut store, vec![hijack(next_id, base, 8)]);
    let (_, v) = srv.json(&format!("{H}?per_page=1")).await;
    assert_eq!(v["result_info"]["total_count"].as_u64(), Some(next_id));
    // Updates of existing events (confidence changes) never move them in ID order.
    let mut e = hijack(5, base, 12);
    e.confidence_score = 12;
    store
        .apply(&EventChange {
            ts: base,
            kind: ChangeKind::ConfidenceChanged,
            event: Event::Hijack(e),
        })
        .expect("apply");
    let (_, v) = srv
        .json(&format!("{H}?sortBy=ID&sortOrder=ASC&per_page=3&page=2"))
        .await;
    assert_eq!(ids(&v), [4, 5, 6]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn details_health_metrics_openapi() {
    let base = t("2024-01-01T00:00:00");
    let srv = start(
        |s| {
            let e = hijack(7, base, 4);
            let mut e2 = e.clone();
            e2.confidence_score = 12;
            e2.finished = true;
            e2.ended_ts = Some(base.add_secs(600));
            s.apply_batch(&[
                EventChange {
                    ts: base,
                    kind: ChangeKind::Opened,
                    event: Event::Hijack(e),
                },
                EventChange {
                    ts: base.add_secs(60),
                    kind: ChangeKind::ConfidenceChanged,
                    event: Event::Hijack(e2.clone()),
                },
                EventChange {
                    ts: base.add_secs(600),
                    kind: ChangeKind::Ended,
                    event: Event::Hijack(e2),
                },
            ])
            .expect("apply");
            let mut l = leak(3, base);
            l.prefixes = vec!["192.0.2.0/24".into()];
            put_leaks(s, vec![l]);
        },
        &[],
        Clock::Wall,
    )
    .await;
    let (s, v) = srv.json(&format!("{H}/7")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["success"], true);
    let ev = &v["result"]["event"];
    assert_eq!(ev["id"], 7);
    assert_eq!(ev["confidence_score"], 12);
    assert_eq!(ev["finished"], true);
    assert_eq!(ev["ended_ts"], "2024-01-01T00:10:00.000");
    assert_eq!(ev["sample_paths"][0]["collector"], "rrc00");
    assert!(
        ev["sample_paths"][0]["peer_ip"].is_string()
            && ev["sample_paths"][0]["as_path"].is_string()
    );
    let changes: Vec<&str> = v["result"]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["change"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(changes, ["opened", "confidence_changed", "ended"]);
    assert_eq!(v["result"]["changes"][1]["confidence_score"], 12);
    let (s, v) = srv.json(&format!("{L}/3")).await;
    assert_eq!(s, 200);
    assert_eq!(v["result"]["event"]["prefixes"][0], "192.0.2.0/24");
    let (s, v) = srv.json(&format!("{H}/8")).await;
    assert_eq!((s, &v["success"]), (404, &serde_json::Value::Bool(false)));
    for bad in ["abc", "0", "-1", "99999999999999999999", "7%27%20OR%201=1"] {
        let (s, v) = srv.json(&format!("{H}/{bad}")).await;
        assert_eq!(s, 400, "{bad}: {v}");
    }
    let (s, _) = srv.json(&format!("{H}/7?foo=1")).await;
    assert_eq!(s, 400);
    let (s, v) = srv.json("/healthz").await;
    assert_eq!((s, &v["status"]), (200, &serde_json::Value::from("ok")));
    let (s, v) = srv.json("/nope").await;
    assert_eq!((s, &v["success"]), (404, &serde_json::Value::Bool(false)));
    let (s, text) = srv.get("/metrics").await;
    assert_eq!(s, 200);
    assert!(
        text.contains("bgpsentry_events{kind=\"hijack\",state=\"finished\"} 1"),
        "{text}"
    );
    assert!(text.contains("bgpsentry_http_requests_total{route=\"/client/v4/radar/bgp/hijacks/events/{id}\",status=\"4xx\"}"));
    assert!(text.contains("bgpsentry_http_request_duration_seconds_bucket"));
    for path in ["/openapi.json", "/client/v4/radar/openapi.json"] {
        let (s, v) = srv.json(path).await;
        assert_eq!(s, 200);
        assert!(v["openapi"].as_str().is_some_and(|s| s.starts_with("3.")));
        assert!(v["paths"]["/client/v4/radar/bgp/hijacks/events"].is_object());
    }
}

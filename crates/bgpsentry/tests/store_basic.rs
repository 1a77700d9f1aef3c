//! The store on a real SQLite file: changes applied in batches keep the
//! latest state and the history, survive a reopen, filters match, retention
//! prunes only finished events, and the batching sink commits.

use bgpsentry::pipeline::ChangeSink;
use bgpsentry::store::synth::{self, Rng};
use bgpsentry::store::{
    Common, HijackQuery, LeakQuery, PrefixFilter, PrefixMatch, SCHEMA_VERSION, Store, StoreSink,
};
use bgpsentry_core::model::{Asn, ChangeKind, Event, EventChange, Timestamp};

fn common() -> Common {
    Common {
        page: 1,
        per_page: 100,
        ..Common::default()
    }
}

#[test]
fn changes_history_and_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("events.sqlite");
    let mut rng = Rng::new(1);
    let t0 = Timestamp::from_secs(1_700_000_000);
    let mut e = synth::hijack(&mut rng, 42, t0);
    e.prefixes = vec!["10.0.0.0/24".into()];
    e.confidence_score = 4;
    {
        let mut store = Store::open(&path).expect("open");
        let mut changes = vec![EventChange {
            ts: t0,
            kind: ChangeKind::Opened,
            event: Event::Hijack(e.clone()),
        }];
        e.prefixes.push("10.0.1.0/24".into());
        changes.push(EventChange {
            ts: t0.add_secs(5),
            kind: ChangeKind::Grown,
            event: Event::Hijack(e.clone()),
        });
        e.confidence_score = 12;
        changes.push(EventChange {
            ts: t0.add_secs(9),
            kind: ChangeKind::ConfidenceChanged,
            event: Event::Hijack(e.clone()),
        });
        store.apply_batch(&changes).expect("apply");
        store.set_total_monitors(163).expect("monitors");
        store
            .upsert_asn_info(&[(e.hijacker_asn, "pk".into(), "Pakistan Telecom".into())])
            .expect("asn info");
    }
    let store = Store::open(&path).expect("reopen");
    store.integrity_check().expect("integrity");
    let v: i64 = store
        .connection()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("v");
    assert_eq!(v, SCHEMA_VERSION);
    let mode: String = store
        .connection()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("m");
    assert_eq!(mode, "wal");
    let r = store.reader().expect("reader");
    assert_eq!(r.total_monitors().expect("tm"), 163);
    let d = r.hijack(42).expect("detail").expect("present");
    assert_eq!(d.event.confidence_score, 12);
    assert_eq!(d.event.prefixes.len(), 2);
    assert_eq!(
        d.event.sample_paths.len(),
        1,
        "extras kept for the detail view"
    );
    let kinds: Vec<&str> = d.changes.iter().map(|c| c.change.as_str()).collect();
    assert_eq!(kinds, ["opened", "grown", "confidence_changed"]);
    assert_eq!(d.asn_info[0].country_code, "PK");
    // The joins follow the latest state: the new prefix matches, exactly.
    let mut q = HijackQuery {
        common: common(),
        ..HijackQuery::default()
    };
    q.common.prefix = Some(PrefixFilter {
        net: "10.0.1.0/24".parse().expect("net"),
        mode: PrefixMatch::Exact,
    });
    assert_eq!(r.list_hijacks(&q).expect("list").total_count, 1);
    q.common.prefix = Some(PrefixFilter {
        net: "10.0.0.0/23".parse().expect("net"),
        mode: PrefixMatch::Exact,
    });
    assert_eq!(r.list_hijacks(&q).expect("list").total_count, 0);
    q.common.prefix = Some(PrefixFilter {
        net: "10.0.0.0/23".parse().expect("net"),
        mode: PrefixMatch::MoreSpecific,
    });
    assert_eq!(r.list_hijacks(&q).expect("list").total_count, 1);
    q.common.prefix = Some(PrefixFilter {
        net: "10.0.1.128/25".parse().expect("net"),
        mode: PrefixMatch::Covering,
    });
    assert_eq!(r.list_hijacks(&q).expect("list").total_count, 1);
    q.common.prefix = Some(PrefixFilter {
        net: "10.0.2.0/25".parse().expect("net"),
        mode: PrefixMatch::Any,
    });
    assert_eq!(r.list_hijacks(&q).expect("list").total_count, 0);
    q.common.prefix = None;
    q.min_confidence = Some(13);
    assert_eq!(
        r.list_hijacks(&q).expect("list").total_count,
        0,
        "confidence follows the latest state"
    );
}

#[test]
fn sink_batches_and_retention() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("events.sqlite");
    let mut rng = Rng::new(2);
    let t0 = Timestamp::from_secs(1_600_000_000);
    let mut sink = StoreSink::new(Store::open(&path).expect("open"), 7);
    for id in 1..=20u64 {
        let mut l = synth::leak(&mut rng, id, t0.add_secs(id as i64 * 3600));
        l.finished = id <= 10;
        l.max_ts = l.min_ts.add_secs(60);
        sink.change(&EventChange {
            ts: l.min_ts,
            kind: ChangeKind::Opened,
            event: Event::Leak(l),
        });
    }
    assert_eq!(
        sink.committed(),
        14,
        "two full batches of 7 committed, 6 buffered"
    );
    let (mut store, n) = sink.finish().expect("finish");
    assert_eq!(n, 20);
    let r = store.reader().expect("reader");
    let q = LeakQuery {
        common: common(),
        ..LeakQuery::default()
    };
    assert_eq!(r.list_leaks(&q).expect("list").total_count, 20);
    // Everything older than leak 15's start: finished ones 1..=10 go, 11..=14 are ongoing.
    let removed = store.prune(t0.add_secs(15 * 3600)).expect("prune");
    assert_eq!(removed, 10);
    assert_eq!(r.list_leaks(&q).expect("list").total_count, 10);
    assert!(r.leak(3).expect("detail").is_none());
    let hist: i64 = store
        .connection()
        .query_row(
            "SELECT count(*) FROM event_changes WHERE kind = 1 AND event_id = 3",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(hist, 0);
    store.integrity_check().expect("integrity");
    let _ = Asn(0);
}

#[test]
fn a_version_2_store_upgrades_and_keeps_its_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v2.sqlite");
    let mut rng = Rng::new(3);
    let t0 = Timestamp::from_secs(1_700_000_000);
    let e = synth::hijack(&mut rng, 7, t0);
    let opened = EventChange {
        ts: t0,
        kind: ChangeKind::Opened,
        event: Event::Hijack(e.clone()),
    };
    {
        let mut store = Store::open(&path).expect("open");
        store
            .apply_batch(std::slice::from_ref(&opened))
            .expect("apply");
        // Back to what version 2 wrote, with the history row written twice
        // (as a re-run used to).
        store
            .connection()
            .execute_batch(
                "DROP TABLE route_origins; DROP TABLE route_ases; DROP TABLE asn_rels;
                 DROP INDEX asn_info_country; DROP INDEX asn_info_org;
                 ALTER TABLE asn_info DROP COLUMN as_name; ALTER TABLE asn_info DROP COLUMN org_id;
                 ALTER TABLE asn_info DROP COLUMN source; ALTER TABLE asn_info DROP COLUMN organization;
                 DROP INDEX event_changes_key; DROP INDEX hijacks_nkey; DROP INDEX leaks_nkey;
                 ALTER TABLE hijacks DROP COLUMN nkey; ALTER TABLE leaks DROP COLUMN nkey;
                 ALTER TABLE event_changes DROP COLUMN dup;
                 INSERT INTO event_changes(kind, event_id, ts, change, confidence, prefix_count,
                   peer_count, finished, msgs, ongoing)
                   SELECT kind, event_id, ts, change, confidence, prefix_count, peer_count,
                   finished, msgs, ongoing FROM event_changes;
                 PRAGMA user_version = 2;",
            )
            .expect("downgrade");
    }
    let mut store = Store::open(&path).expect("upgrade");
    let c = store.connection();
    let v: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("v");
    assert_eq!(v, SCHEMA_VERSION);
    let nkey: String = c
        .query_row("SELECT nkey FROM hijacks WHERE id = 7", [], |r| r.get(0))
        .expect("nkey");
    assert_eq!(nkey, bgpsentry::store::ids::hijack_key(&e));
    let dups: Vec<i64> = c
        .prepare("SELECT dup FROM event_changes ORDER BY seq")
        .expect("q")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    assert_eq!(dups, [0, 1], "both rows kept, numbered");
    // Writing the change again now rewrites its row.
    store.apply_batch(&[opened]).expect("again");
    let n: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM event_changes", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 2);
    store.integrity_check().expect("integrity");
}

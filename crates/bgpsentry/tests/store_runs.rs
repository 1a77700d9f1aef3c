//! `replay --db` into a store that already holds events, on real data (the
//! first hour of 2008-02-24 from RouteViews, the 2008 pfx2as baseline):
//!
//! * a later slice replayed into a copy of a store never changes the events
//!   it already held (issue 19.1: hijack 1 used to become another hijack);
//! * the same inputs replayed twice leave exactly the same rows, history
//!   included;
//! * a replay killed with SIGKILL and run again leaves exactly the rows of a
//!   clean run (issue 19.2: the history used to be written twice).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
const BIN: &str = env!("CARGO_BIN_EXE_bgpsentry");

/// Update files of 2008-02-24 from `from` (HHMM) on, `n` of them.
fn files(from: &str, n: usize) -> Vec<PathBuf> {
    let dir = PathBuf::from(format!("{DATA}/mrt/incident-youtube-2008"));
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("data dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name >= format!("updates.20080224.{from}").as_str()
        })
        .collect();
    v.sort();
    v.truncate(n);
    assert_eq!(v.len(), n, "{n} files from {from}");
    v
}

fn replay_cmd(db: &Path, inputs: &[PathBuf]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["replay", "--json", "--no-progress", "--bootstrap"])
        .arg(format!("{DATA}/pfx2as/ipasn_20080501_v12.dat.gz"))
        .arg("--db")
        .arg(db)
        .args(inputs);
    cmd
}

fn replay(db: &Path, inputs: &[PathBuf]) -> Output {
    let out = replay_cmd(db, inputs).output().expect("replay");
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every stored event, `(kind, id)` → its columns and documents (without
/// the bookkeeping `updated_ts`).
fn events(db: &Path) -> BTreeMap<(i64, i64), String> {
    let c = rusqlite::Connection::open(db).expect("open");
    let mut out = BTreeMap::new();
    for (kind, sql) in [
        (
            0,
            "SELECT h.id, h.hijacker_asn || ' ' || h.min_ts || ' ' || h.max_ts || ' ' || h.confidence
               || ' ' || h.finished || ' ' || d.list_json || ' ' || d.extra_json
             FROM hijacks h JOIN hijack_docs d ON d.id = h.id",
        ),
        (
            1,
            "SELECT l.id, l.leak_asn || ' ' || l.min_ts || ' ' || l.max_ts || ' ' || l.leak_count
               || ' ' || l.finished || ' ' || d.list_json || ' ' || d.extra_json
             FROM leaks l JOIN leak_docs d ON d.id = l.id",
        ),
    ] {
        let mut st = c.prepare(sql).expect("query");
        let rows = st
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .expect("rows");
        for r in rows {
            let (id, row) = r.expect("row");
            out.insert((kind, id), row);
        }
    }
    out
}

/// Every history row, in `seq` order, with every column.
fn changes(db: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(db).expect("open");
    let mut st = c
        .prepare(
            "SELECT seq, kind, event_id, ts, change, confidence, prefix_count, peer_count,
                    finished, msgs, ongoing FROM event_changes ORDER BY seq",
        )
        .expect("query");
    let rows = st
        .query_map([], |r| {
            let mut s = String::new();
            for i in 0..11 {
                let v: rusqlite::types::Value = r.get(i)?;
                s.push_str(&format!("{v:?} "));
            }
            Ok(s)
        })
        .expect("rows");
    rows.map(|r| r.expect("row")).collect()
}

fn count(db: &Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(db).expect("open");
    c.query_row(sql, [], |r| r.get(0)).expect("count")
}

/// Events with more than one "opened" in their history.
fn opened_twice(db: &Path) -> Vec<(i64, i64)> {
    let c = rusqlite::Connection::open(db).expect("open");
    let mut st = c
        .prepare(
            "SELECT kind, event_id FROM event_changes WHERE change = 'opened'
             GROUP BY kind, event_id HAVING count(*) > 1",
        )
        .expect("query");
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect()
}

/// Identity of each stored hijack: hijacker, victims, type, first
/// announcement.
fn hijack_identity(db: &Path) -> BTreeMap<i64, String> {
    let c = rusqlite::Connection::open(db).expect("open");
    let mut st = c
        .prepare(
            "SELECT h.id, h.hijacker_asn || ' ' || json_extract(d.list_json, '$.victim_asns')
               || ' ' || json_extract(d.list_json, '$.event_type') || ' ' || h.min_ts
             FROM hijacks h JOIN hijack_docs d ON d.id = h.id",
        )
        .expect("query");
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect()
}

#[test]
fn a_later_slice_never_overwrites_the_events_of_a_store() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let whole = files("1201", 4);
    let slice = files("1233", 2);
    let day = tmp.path().join("day.sqlite");
    replay(&day, &whole);
    let before = events(&day);
    let before_changes = changes(&day);
    let before_ids = hijack_identity(&day);
    assert!(
        before.len() >= 3,
        "the hour raises events: {}",
        before.len()
    );
    let max_before = before.keys().map(|(_, id)| *id).max().unwrap_or(0);

    // The slice alone, to know what it finds.
    let alone = tmp.path().join("alone.sqlite");
    replay(&alone, &slice);
    let alone_ids = hijack_identity(&alone);
    assert!(!alone_ids.is_empty(), "the slice raises hijacks");

    let copy = tmp.path().join("copy.sqlite");
    std::fs::copy(&day, &copy).expect("copy");
    let out = replay(&copy, &slice);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let after = events(&copy);
    let after_ids = hijack_identity(&copy);

    // Every event of the day is still the same incident under its id.
    for (id, ident) in &before_ids {
        assert_eq!(
            after_ids.get(id),
            Some(ident),
            "hijack {id} still has its hijacker and start"
        );
    }
    // The slice's incidents the day did not have got ids above the day's;
    // those it shares (same hijacker, victims, start) kept their row.
    let day_idents: BTreeSet<&String> = before_ids.values().collect();
    let mut shared = 0;
    for ident in alone_ids.values() {
        let ids: Vec<i64> = after_ids
            .iter()
            .filter(|(_, v)| *v == ident)
            .map(|(k, _)| *k)
            .collect();
        assert_eq!(ids.len(), 1, "incident {ident:?} stored once: {ids:?}");
        if day_idents.contains(ident) {
            shared += 1;
        } else {
            assert!(
                ids[0] > max_before,
                "new incident {ident:?} got id {}",
                ids[0]
            );
        }
    }
    let expected = before_ids.len() + alone_ids.len() - shared;
    assert_eq!(after_ids.len(), expected, "day ∪ slice hijacks");
    // Events the slice did not see again are untouched.
    let slice_idents: BTreeSet<&String> = alone_ids.values().collect();
    for (id, ident) in &before_ids {
        if !slice_idents.contains(ident) {
            assert_eq!(
                before.get(&(0, *id)),
                after.get(&(0, *id)),
                "hijack {id} untouched"
            );
        }
    }
    let day_rows: BTreeSet<&String> = before_changes.iter().collect();
    let after_changes = changes(&copy);
    let after_rows: BTreeSet<&String> = after_changes.iter().collect();
    assert!(
        day_rows.is_subset(&after_rows),
        "the day's history rows are all still there"
    );
    assert_eq!(
        opened_twice(&copy),
        Vec::<(i64, i64)>::new(),
        "one opened each"
    );
    println!(
        "day: {} events, {} changes; slice: {} hijacks ({shared} shared); after: {} events, {} changes",
        before.len(),
        before_changes.len(),
        alone_ids.len(),
        after.len(),
        after_changes.len()
    );
    assert!(stdout.contains("\"events_newly_stored\""), "{stdout}");
}

#[test]
fn the_same_inputs_twice_leave_the_same_rows() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let inputs = files("1201", 3);
    let db = tmp.path().join("twice.sqlite");
    replay(&db, &inputs);
    let first = (events(&db), changes(&db));
    assert!(!first.0.is_empty() && !first.1.is_empty());
    let out = replay(&db, &inputs);
    let second = (events(&db), changes(&db));
    assert_eq!(first.0, second.0, "the same events");
    assert_eq!(first.1.len(), second.1.len(), "the same number of changes");
    assert_eq!(first.1, second.1, "the same history rows");
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("\"events_newly_stored\":0"),
        "nothing new: {summary}"
    );
}

#[test]
fn a_rerun_after_kill_9_leaves_the_rows_of_a_clean_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Enough changes for several batches (1000 changes per commit).
    let inputs = files("1201", 20);
    let clean = tmp.path().join("clean.sqlite");
    replay(&clean, &inputs);
    let clean_rows = (events(&clean), changes(&clean));

    // Killed as soon as the first batch is committed.
    let db = tmp.path().join("crashed.sqlite");
    let mut child = replay_cmd(&db, &inputs)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    let mut at_kill = 0;
    loop {
        if db.exists() {
            let n = rusqlite::Connection::open(&db)
                .and_then(|c| c.query_row("SELECT count(*) FROM event_changes", [], |r| r.get(0)))
                .unwrap_or(0i64);
            if n > 0 {
                child.kill().expect("SIGKILL");
                at_kill = n;
                break;
            }
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "no commit");
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.wait();
    let left = count(&db, "SELECT count(*) FROM event_changes");
    assert!(
        at_kill > 0 && (left as usize) < clean_rows.1.len(),
        "killed mid-run: {left} of {} rows written",
        clean_rows.1.len()
    );
    replay(&db, &inputs);
    let rerun = (events(&db), changes(&db));
    println!(
        "clean: {} events, {} changes; killed at {left} changes; rerun: {} events, {} changes",
        clean_rows.0.len(),
        clean_rows.1.len(),
        rerun.0.len(),
        rerun.1.len()
    );
    assert_eq!(rerun.1.len(), clean_rows.1.len(), "as many changes");
    assert_eq!(rerun.0, clean_rows.0, "the same events");
    assert_eq!(rerun.1, clean_rows.1, "the same history rows, in order");
    assert_eq!(opened_twice(&db), Vec::<(i64, i64)>::new());
}

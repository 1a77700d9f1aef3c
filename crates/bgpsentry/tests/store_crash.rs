//! `kill -9` during a stream of writes: a child process (this test binary,
//! re-executed) writes batches in a loop and reports each commit on stdout;
//! the parent SIGKILLs it mid-stream, reopens the file, and checks that
//! SQLite finds it intact and that every reported batch is there.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use bgpsentry::store::Store;
use bgpsentry::store::synth::{self, Rng};
use bgpsentry_core::model::{ChangeKind, Event, EventChange, Timestamp};

const CHILD_ENV: &str = "BGPSENTRY_CRASH_CHILD_DB";
const BATCH: u64 = 200;

/// The child: runs only when re-executed by the parent.
#[test]
fn crash_child_writer() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut store = Store::open(&path).expect("open");
    let mut rng = Rng::new(9);
    let t0 = Timestamp::from_secs(1_700_000_000);
    for b in 0u64.. {
        let changes: Vec<EventChange> = (0..BATCH)
            .map(|i| {
                let id = b * BATCH + i + 1;
                let e = synth::hijack(&mut rng, id, t0.add_secs(id as i64));
                EventChange {
                    ts: e.min_hijack_ts,
                    kind: ChangeKind::Opened,
                    event: Event::Hijack(e),
                }
            })
            .collect();
        store.apply_batch(&changes).expect("apply");
        println!("committed {}", (b + 1) * BATCH);
    }
}

#[test]
fn kill_9_loses_at_most_the_open_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crash.sqlite");
    Store::open(&path).expect("create");
    let exe = std::env::current_exe().expect("exe");
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "crash_child_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    let mut committed = 0u64;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(n) = line.strip_prefix("committed ") {
            committed = n.trim().parse().expect("count");
            if committed >= 20 * BATCH {
                break;
            }
        }
    }
    child.kill().expect("SIGKILL"); // std sends SIGKILL on Unix
    let _ = child.wait();
    assert!(committed >= 20 * BATCH, "child reported {committed}");

    let store = Store::open(&path).expect("reopen after kill -9");
    store.integrity_check().expect("integrity_check says ok");
    let (rows, max_id): (i64, i64) = store
        .connection()
        .query_row(
            "SELECT count(*), coalesce(max(id), 0) FROM hijacks",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("count");
    // Every reported batch is there; at most the batches after the last
    // report (in flight when killed) may also be, but never a partial one.
    assert!(
        rows as u64 >= committed,
        "{rows} rows < {committed} committed"
    );
    assert_eq!(rows, max_id, "ids 1..=n without holes");
    assert_eq!(rows as u64 % BATCH, 0, "no partial batch");
    let docs: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM hijack_docs", [], |r| r.get(0))
        .expect("docs");
    assert_eq!(docs, rows);
}

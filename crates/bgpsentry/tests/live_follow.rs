//! MRT follow mode on a directory: files present at start (with
//! `start = "all"`), a file that appears later, a damaged file, and a
//! restart with a state file — each real update file ingested exactly once.
//! Inputs: `shared/data/mrt/libbgpstream/` (RIS rrc06 and RouteViews jinx
//! update files of 2015-04-01).

mod live_support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use bgpsentry_core::mrt::{RecordReader, StreamDecoder, decompress};
use live_support::{Running, Seen, start_source, stop_source};

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/mrt/libbgpstream"
);
const RIS: &str = "ris.rrc06.updates.1427846400.gz";
const RV: &str = "routeviews.route-views.jinx.updates.1427846400.bz2";

fn count(path: &str) -> usize {
    let (_, r) = decompress(std::fs::File::open(path).expect("file")).expect("decompress");
    let mut d = StreamDecoder::new();
    RecordReader::new(r)
        .flatten()
        .map(|rec| d.decode(rec).messages.len())
        .sum()
}

fn start(dir: &std::path::Path, state: &std::path::Path) -> Running {
    let cfg = format!(
        "[[source]]\ntype = \"mrt-follow\"\nname = \"follow\"\ndir = \"{}\"\nprefix = \"\"\npoll_secs = 1\nsettle_secs = 0\nstart = \"all\"\nstate_file = \"{}\"\n",
        dir.display(),
        state.display()
    );
    start_source(&cfg, 64)
}

async fn stop(r: Running) {
    stop_source(r, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_files_are_ingested_once() {
    let ris = format!("{DATA}/{RIS}");
    let rv = format!("{DATA}/{RV}");
    let (n_ris, n_rv) = (count(&ris), count(&rv));
    assert!(n_ris > 100 && n_rv > 100);
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("mirror");
    std::fs::create_dir(&dir).expect("mkdir");
    let state = tmp.path().join("state");
    std::fs::copy(&ris, dir.join(RIS)).expect("copy");

    let mut r = start(&dir, &state);
    let mut seen = Seen::default();
    assert!(
        seen.until(&mut r.rx, 20, |s| s.messages.len() >= n_ris)
            .await
    );
    assert!(seen.messages.iter().all(|(c, _)| c == "rrc06"));

    // A file appears (written under a hidden name, then renamed, as mirrors do).
    std::fs::copy(&rv, dir.join(".incoming")).expect("copy");
    std::fs::rename(dir.join(".incoming"), dir.join(RV)).expect("rename");
    assert!(
        seen.until(&mut r.rx, 20, |s| s.messages.len() >= n_ris + n_rv)
            .await
    );
    assert!(
        seen.messages[n_ris..]
            .iter()
            .all(|(c, _)| c == "route-views.jinx")
    );
    // A damaged file is counted and skipped, the source lives on.
    std::fs::write(dir.join("updates.broken.gz"), b"\x1f\x8bnot really gzip").expect("write");
    let h = r.health.clone();
    let ok = live_support::eventually(20, || {
        h.files.load(Ordering::Relaxed) + h.malformed.load(Ordering::Relaxed) >= 3
    })
    .await;
    assert!(ok, "the damaged file was looked at");
    // Nothing is ingested twice.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    while let Ok(it) = r.rx.try_recv() {
        seen.take(it);
    }
    assert_eq!(seen.messages.len(), n_ris + n_rv);
    assert_eq!(h.messages.load(Ordering::Relaxed) as usize, n_ris + n_rv);
    assert!(h.malformed.load(Ordering::Relaxed) >= 1);
    assert_eq!(h.connections.load(Ordering::Relaxed), 1);
    stop(r).await;

    // Restart with the state file: nothing again.
    let mut r = start(&dir, &state);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(r.rx.try_recv().is_err(), "a restart re-ingested a file");
    assert_eq!(r.health.files.load(Ordering::Relaxed), 0);
    stop(r).await;
}

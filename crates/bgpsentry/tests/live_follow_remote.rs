//! MRT follow mode on a remote archive: a real HTTP server on 127.0.0.1
//! serves an autoindex page (links as Apache writes them, with sort links,
//! a parent link and a sub-directory), a bgpkit-broker style `search`
//! answer, and the real update files of `shared/data/mrt/libbgpstream/`
//! (RIS rrc06 and RouteViews jinx, 2015-04-01). Each file must be streamed
//! and decoded exactly once, with the broker's collector names; an index
//! that answers 404 is an outage (a gap), not a crash.

mod live_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use bgpsentry::ingest::live;
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

/// The archive server; returns its base URL.
async fn archive() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let index = format!(
        r#"<html><body><h1>Index of /bgpdata/2015.04/UPDATES</h1><pre>
<a href="?C=N;O=D">Name</a> <a href="?C=M;O=A">Last modified</a>
<a href="/bgpdata/2015.04/">Parent Directory</a>
<a href="old/">old/</a>
<a href="{RIS}">{RIS}</a>  01-Apr-2015 00:05  1.2M
<a href="{RV}">{RV}</a>  01-Apr-2015 00:05  0.9M
<a href="{RIS}.part">{RIS}.part</a>
</pre></body></html>"#
    );
    let broker = format!(
        r#"{{"count":2,"page":1,"page_size":1000,"error":null,"data":[
{{"ts_start":"2015-04-01T00:00:00","collector_id":"rrc06","data_type":"updates","url":"{base}/bgpdata/2015.04/UPDATES/{RIS}"}},
{{"ts_start":"2015-04-01T00:00:00","collector_id":"route-views.jinx","data_type":"updates","url":"{base}/bgpdata/2015.04/UPDATES/{RV}"}}]}}"#
    );
    let state = Arc::new((index, broker));
    let app = Router::new()
        .route(
            "/bgpdata/2015.04/UPDATES/",
            get(|State(s): State<Arc<(String, String)>>| async move { s.0.clone() }),
        )
        .route(
            "/broker/search",
            get(|State(s): State<Arc<(String, String)>>| async move { s.1.clone() }),
        )
        .route(
            "/bgpdata/2015.04/UPDATES/{name}",
            get(|Path(name): Path<String>| async move {
                if name != RIS && name != RV {
                    return Err(StatusCode::NOT_FOUND);
                }
                std::fs::read(format!("{DATA}/{name}")).map_err(|_| StatusCode::NOT_FOUND)
            }),
        )
        .with_state(state);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    base
}

fn start(what: &str) -> Running {
    let cfg = format!(
        "[[source]]\ntype = \"mrt-follow\"\nname = \"remote\"\n{what}\nprefix = \"\"\npoll_secs = 1\nstart = \"all\"\ntimeout_secs = 20\n"
    );
    start_source(&cfg, 64)
}

async fn stop(r: Running) {
    stop_source(r, 20).await;
}

/// Receives until `n` messages, then checks that nothing more comes.
async fn exactly(r: &mut Running, n: usize) -> Seen {
    let mut seen = Seen::default();
    assert!(
        seen.until(&mut r.rx, 30, |s| s.messages.len() >= n).await,
        "got {} of {n} messages",
        seen.messages.len()
    );
    // Two more polls: nothing is ingested twice.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    while let Ok(it) = r.rx.try_recv() {
        seen.take(it);
    }
    assert_eq!(seen.messages.len(), n);
    assert_eq!(r.health.files.load(Ordering::Relaxed), 2);
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_index_and_broker() {
    let (n_ris, n_rv) = (
        count(&format!("{DATA}/{RIS}")),
        count(&format!("{DATA}/{RV}")),
    );
    assert!(n_ris > 100 && n_rv > 100);
    let base = archive().await;

    // An autoindex page: both files, in name order (RIS sorts first).
    let mut r = start(&format!("url = \"{base}/bgpdata/2015.04/UPDATES/\""));
    let seen = exactly(&mut r, n_ris + n_rv).await;
    assert!(seen.messages[..n_ris].iter().all(|(c, _)| c == "rrc06"));
    assert_eq!(r.health.connections.load(Ordering::Relaxed), 1);
    assert_eq!(r.health.malformed.load(Ordering::Relaxed), 0);
    stop(r).await;

    // A broker: its collector names are used.
    let mut r = start(&format!("broker = \"{base}/broker\""));
    let seen = exactly(&mut r, n_ris + n_rv).await;
    let rv = seen
        .messages
        .iter()
        .filter(|(c, _)| c == "route-views.jinx")
        .count();
    assert_eq!(rv, n_rv);
    stop(r).await;

    // An index that is not there: a gap, the source keeps polling.
    let mut r = start(&format!("url = \"{base}/bgpdata/1999.01/UPDATES/\""));
    let mut seen = Seen::default();
    assert!(seen.until(&mut r.rx, 10, |s| s.gap_starts == 1).await);
    assert!(seen.messages.is_empty());
    let h = r.health.clone();
    assert!(live_support::eventually(10, || h.errors.load(Ordering::Relaxed) >= 2).await);
    stop(r).await;
}

#[test]
fn config_names_exactly_one_archive() {
    for bad in [
        "dir = \"/tmp\"\nurl = \"http://x/\"",
        "",
        "url = \"ftp://x/\"",
        "broker = \"file:///x\"",
    ] {
        let cfg = format!("[[source]]\ntype = \"mrt-follow\"\n{bad}\n");
        assert!(
            live::SourcesConfig::from_toml(&cfg).is_err(),
            "accepted: {bad}"
        );
    }
}

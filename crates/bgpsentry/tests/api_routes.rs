//! Radar's routing and AS-entity endpoints on real data: a real
//! `bgpsentry replay --db` of the 2008 YouTube hijack (18:07–19:09 stream
//! time, the 2008 pfx2as baseline and as2org names) publishes its routing
//! snapshot, the real `bgpsentry serve` answers over HTTP on 127.0.0.1, and
//! the answers are checked field by field: who originates 208.65.152.0/22
//! (AS36561), that 208.65.153.0/24 is a MOAS of AS17557 (carried by the
//! peers) and AS36561 (the baseline), the AS registry and relationships,
//! CSV, and Radar-style 400s naming the parameter. A second test checks
//! that a new snapshot replaces the old one whole.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bgpsentry::store::{AsAggregate, ReadPool, RouteRow, RoutingSnapshot, Store};
use bgpsentry_core::model::Timestamp;
use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
const BIN: &str = env!("CARGO_BIN_EXE_bgpsentry");

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn replay(db: &Path) {
    let dir = format!("{DATA}/mrt/incident-youtube-2008");
    let mut cmd = Command::new(BIN);
    cmd.args([
        "replay",
        "--no-progress",
        "--collector",
        "rrc00",
        "--bootstrap",
    ])
    .arg(format!("{DATA}/pfx2as/ipasn_20080501_v12.dat.gz"))
    .arg("--as2org")
    .arg(format!("{DATA}/as2org/20080402.as-org2info.jsonl.gz"))
    .arg("--db")
    .arg(db);
    for f in ["1807", "1824", "1839", "1854"] {
        cmd.arg(format!("{dir}/updates.20080224.{f}.bz2"));
    }
    let out = cmd.stdout(Stdio::null()).output().expect("replay");
    assert!(
        out.status.success(),
        "replay failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn serve(db: &Path) -> (Proc, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--db"])
        .arg(db)
        .args(["--listen", "127.0.0.1:0", "--now", "2008-02-24T19:10:00Z"])
        .env_remove("BGPSENTRY_API_TOKENS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(a) = line.strip_prefix("bgpsentry: listening on ") {
                let _ = tx.send(a.trim().to_string());
            }
        }
    });
    let proc = Proc(child);
    let base = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("serve announces its address");
    (proc, base)
}

fn get(base: &str, path: &str) -> (u16, String, String) {
    let resp = reqwest::blocking::Client::new()
        .get(format!("{base}/client/v4/radar/{path}"))
        .timeout(Duration::from_secs(20))
        .send()
        .expect("request");
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, resp.text().expect("body"))
}

fn json(base: &str, path: &str) -> Value {
    let (status, ct, body) = get(base, path);
    assert_eq!(status, 200, "{path}: {body}");
    assert!(ct.starts_with("application/json"), "{path}: {ct}");
    let v: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["success"], true);
    assert_eq!(v["errors"], serde_json::json!([]));
    v["result"].clone()
}

fn bad(base: &str, path: &str, param: &str) {
    let (status, _, body) = get(base, path);
    assert_eq!(status, 400, "{path}: {body}");
    let v: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["success"], false, "{path}");
    assert_eq!(v["errors"][0]["code"], 10001, "{path}");
    assert_eq!(
        v["errors"][0]["source"]["parameter"], param,
        "{path}: {body}"
    );
    let msg = v["errors"][0]["message"].as_str().expect("message");
    assert!(msg.starts_with(&format!("{param}:")), "{path}: {msg}");
}

#[test]
fn routing_endpoints_on_the_youtube_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("yt.sqlite");
    replay(&db);
    let (_serve, base) = serve(&db);

    // Who originates YouTube's /22 at 19:09 stream time.
    let r = json(&base, "bgp/routes/pfx2as?prefix=208.65.152.0/22");
    assert_eq!(r["meta"]["data_time"], "2008-02-24T19:09:21");
    assert_eq!(r["meta"]["query_time"], "2008-02-24T19:10:00");
    assert_eq!(r["meta"]["total_peers"], 45);
    let po = r["prefix_origins"].as_array().expect("prefix_origins");
    assert_eq!(po.len(), 1, "{r}");
    assert_eq!(po[0]["origin"], 36561);
    assert_eq!(po[0]["prefix"], "208.65.152.0/22");
    assert_eq!(po[0]["rpki_validation"], "unknown");
    assert!(po[0]["peer_count"].is_u64());

    // The hijacked /24: both origins, the hijacker carried by the peers.
    let r = json(&base, "bgp/routes/moas?prefix=208.65.153.0/24");
    let moas = r["moas"].as_array().expect("moas");
    assert_eq!(moas.len(), 1, "{r}");
    assert_eq!(moas[0]["prefix"], "208.65.153.0/24");
    let origins: Vec<u64> = moas[0]["origins"]
        .as_array()
        .expect("origins")
        .iter()
        .map(|o| o["origin"].as_u64().expect("origin"))
        .collect();
    assert_eq!(origins, [17557, 36561]);
    assert!(moas[0]["origins"][0]["peer_count"].as_u64().expect("n") >= 40);
    // The whole MOAS list has it too, and so does the list of AS17557's.
    let all = json(&base, "bgp/routes/moas");
    assert!(
        all["moas"]
            .as_array()
            .expect("moas")
            .iter()
            .any(|m| m["prefix"] == "208.65.153.0/24")
    );
    let of = json(&base, "bgp/routes/moas?origin=17557");
    assert!(!of["moas"].as_array().expect("moas").is_empty());
    assert_eq!(
        json(&base, "bgp/routes/moas?invalid_only=true")["moas"],
        serde_json::json!([]),
        "no RPKI in 2008"
    );

    // Longest-prefix match of an address inside the /24; by origin.
    let r = json(
        &base,
        "bgp/routes/pfx2as?prefix=208.65.153.238/32&longestPrefixMatch=true",
    );
    assert_eq!(r["prefix_origins"][0]["prefix"], "208.65.153.0/24");
    let r = json(&base, "bgp/routes/pfx2as?origin=AS36561");
    let prefixes: Vec<&str> = r["prefix_origins"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|o| o["prefix"].as_str().expect("prefix"))
        .collect();
    assert!(prefixes.contains(&"208.65.152.0/22"), "{prefixes:?}");
    assert!(prefixes.contains(&"208.65.153.0/24"), "{prefixes:?}");

    // Stats and per-AS figures.
    let s = json(&base, "bgp/routes/stats");
    assert!(s["stats"]["routes_total"].as_u64().expect("n") > 200_000);
    assert_eq!(s["stats"]["routes_total_ipv6"], 0);
    assert_eq!(s["stats"]["routes_valid"], 0);
    let s = json(&base, "bgp/routes/stats?asn=36561");
    assert_eq!(s["stats"]["routes_total"], prefixes.len() as u64);
    let a = json(&base, "bgp/routes/ases?limit=3&sortBy=pfxs");
    let asns = a["asns"].as_array().expect("asns");
    assert_eq!(asns.len(), 3);
    assert!(asns[0]["pfxsCount"].as_u64() >= asns[1]["pfxsCount"].as_u64());
    assert!(asns[0]["ipv6Count"].is_string());
    assert_eq!(a["meta"]["totalPeers"], 45);
    let a = json(
        &base,
        "bgp/routes/ases?location=PK&sortBy=ipv4&sortOrder=ASC&limit=1000",
    );
    assert!(
        a["asns"]
            .as_array()
            .expect("asns")
            .iter()
            .all(|x| x["country"] == "PK")
    );

    // The AS registry and relationships.
    let e = json(&base, "entities/asns/36561");
    assert_eq!(e["asn"]["asn"], 36561);
    assert_eq!(e["asn"]["name"], "YOUTUBE");
    assert_eq!(e["asn"]["orgName"], "YouTube, Inc.");
    assert_eq!(e["asn"]["country"], "US");
    assert_eq!(e["asn"]["source"], "ARIN");
    let l = json(&base, "entities/asns?asn=36561,17557");
    let names: Vec<&str> = l["asns"]
        .as_array()
        .expect("asns")
        .iter()
        .map(|x| x["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["PKTELECOM-AS-AP", "YOUTUBE"]);
    let rel = json(&base, "entities/asns/17557/rel");
    let rels = rel["rels"].as_array().expect("rels");
    assert!(!rels.is_empty());
    assert!(
        rels.iter()
            .all(|r| r["asn1"] == 17557 && r["asn1_country"] == "PK")
    );
    assert!(
        rels.iter()
            .all(|r| ["P2C", "C2P", "P2P", "S2S"].contains(&r["rel"].as_str().expect("rel")))
    );
    assert_eq!(rel["meta"]["source"], "inferred from the inputs");
    let (status, _, _) = get(&base, "entities/asns/4199999999");
    assert_eq!(status, 404);

    // CSV.
    let (status, ct, body) = get(&base, "bgp/routes/moas?prefix=208.65.153.0/24&format=CSV");
    assert_eq!(status, 200);
    assert_eq!(ct, "text/csv; charset=utf-8");
    assert_eq!(
        body,
        "prefix,origin,peer_count,rpki_validation\r\n208.65.153.0/24,17557,".to_string()
            + &moas[0]["origins"][0]["peer_count"].to_string()
            + ",unknown\r\n208.65.153.0/24,36561,"
            + &moas[0]["origins"][1]["peer_count"].to_string()
            + ",unknown\r\n"
    );

    // Bad parameters: a 400 naming the parameter.
    bad(&base, "bgp/routes/pfx2as", "prefix");
    bad(&base, "bgp/routes/pfx2as?prefix=208.65.153.1/24", "prefix");
    bad(
        &base,
        "bgp/routes/pfx2as?prefix=1.1.1.0/24&rpkiStatus=maybe",
        "rpkiStatus",
    );
    bad(
        &base,
        "bgp/routes/pfx2as?origin=36561&longestPrefixMatch=true",
        "longestPrefixMatch",
    );
    bad(
        &base,
        "bgp/routes/pfx2as?prefix=1.1.1.0/24&longestPrefixMatch=1",
        "longestPrefixMatch",
    );
    bad(
        &base,
        "bgp/routes/pfx2as?prefix=1.1.1.0/24&prefix=1.0.0.0/24",
        "prefix",
    );
    bad(&base, "bgp/routes/pfx2as?orign=36561", "orign");
    bad(&base, "bgp/routes/moas?invalid_only=yes", "invalid_only");
    bad(&base, "bgp/routes/moas?format=XML", "format");
    bad(&base, "bgp/routes/stats?asn=-1", "asn");
    bad(&base, "bgp/routes/stats?location=PAK", "location");
    bad(&base, "bgp/routes/ases?limit=0", "limit");
    bad(&base, "bgp/routes/ases?limit=10001", "limit");
    bad(&base, "bgp/routes/ases?sortBy=size", "sortBy");
    bad(&base, "bgp/routes/ases?sortOrder=UP", "sortOrder");
    bad(&base, "entities/asns/AS-1", "asn");
    bad(&base, "entities/asns?asn=1,x", "asn");
    bad(&base, "entities/asns?offset=-1", "offset");
    bad(&base, "entities/asns?orderBy=SIZE", "orderBy");
    bad(&base, "entities/asns/17557/rel?asn2=", "asn2");
}

fn snapshot(t: i64, routes: &[(&str, u32, u32)]) -> RoutingSnapshot {
    RoutingSnapshot {
        data_time: Timestamp::from_secs(t),
        total_peers: 3,
        routes: routes
            .iter()
            .map(|(p, o, n)| RouteRow {
                prefix: p.parse().expect("prefix"),
                origin: *o,
                peer_count: *n,
                rpki: "unknown",
            })
            .collect(),
        ases: vec![AsAggregate {
            asn: routes[0].1,
            pfxs: 1,
            ..AsAggregate::default()
        }],
    }
}

#[test]
fn a_new_snapshot_replaces_the_old_one_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("s.sqlite");
    let mut store = Store::open(&db).expect("open");
    let pool = ReadPool::open(&db, 1).expect("pool");
    let read = |prefix: &str| {
        let p = prefix.parse().ok();
        pool.with(|r| r.in_routes_snapshot(|r, g| r.pfx2as(g, p, None, None, false)))
            .expect("read")
    };
    assert!(
        read("10.0.0.0/8").is_empty(),
        "nothing before the first snapshot"
    );
    // Larger than one write chunk, so the publication spans transactions.
    let many: Vec<(String, u32, u32)> = (0..12_000u32)
        .map(|i| (format!("10.{}.{}.0/24", i / 256, i % 256), 64512, 2))
        .collect();
    let many_ref: Vec<(&str, u32, u32)> =
        many.iter().map(|(p, o, n)| (p.as_str(), *o, *n)).collect();
    store
        .publish_routes(&snapshot(100, &many_ref))
        .expect("publish 1");
    assert_eq!(read("10.0.1.0/24").len(), 1);
    store
        .publish_routes(&snapshot(
            200,
            &[("192.0.2.0/24", 64500, 1), ("192.0.2.0/24", 64501, 2)],
        ))
        .expect("publish 2");
    assert!(read("10.0.1.0/24").is_empty(), "the old generation is gone");
    let rows = read("192.0.2.0/24");
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].1, rows[1].1), (64500, 64501));
    let moas = pool
        .with(|r| r.in_routes_snapshot(|r, g| r.moas(g, None, None, false)))
        .expect("moas");
    assert_eq!(moas.len(), 1);
    let meta = pool.with(|r| r.routes_meta()).expect("meta");
    assert_eq!(meta.data_time, Some(Timestamp::from_secs(200)));
    // No rows of the first generation are left in the file.
    let conn = rusqlite::Connection::open(&db).expect("conn");
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM route_origins", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 2);
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM route_ases", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 1);
}

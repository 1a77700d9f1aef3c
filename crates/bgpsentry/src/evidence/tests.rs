//! Service-side evidence tests: loading every kind of dataset over HTTP
//! from a loopback server (one gzip-compressed, one the real 2008 as2org
//! file), explaining verdicts, and refreshes that must keep the last good
//! snapshot when the new data is missing or has collapsed.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;

use bgpsentry_core::evidence::{IrrState, Relationship, RovState};
use bgpsentry_core::model::Asn;

use super::cmd::explain;
use super::{EvidenceArgs, EvidenceHandle, load};

const AS2ORG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/as2org/20080402.as-org2info.jsonl.gz"
);

/// Serve `routes` (path → body) on 127.0.0.1; unknown paths get 404.
fn serve(routes: HashMap<&'static str, Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let routes = Arc::new(routes);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let routes = routes.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                }
                let (status, body) = match routes.get(path.as_str()) {
                    Some(b) => ("200 OK", b.clone()),
                    None => ("404 Not Found", b"no".to_vec()),
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(&body);
            });
        }
    });
    base
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn rpki_json(extra: usize) -> Vec<u8> {
    let mut roas = vec![
        r#"{"prefix":"208.65.152.0/22","maxLength":24,"asn":"AS36561","ta":"Cloudflare - ARIN"}"#
            .to_string(),
    ];
    for i in 0..extra {
        roas.push(format!(
            r#"{{"prefix":"44.{}.{}.0/24","maxLength":24,"asn":{}}}"#,
            i / 256,
            i % 256,
            64500 + i
        ));
    }
    format!(
        r#"{{"metadata":{{"counts":{}}},"roas":[{}]}}"#,
        roas.len(),
        roas.join(",")
    )
    .into_bytes()
}

const RADB: &str = "route: 208.65.152.0/22\ndescr: YouTube\norigin: AS36561\nsource: RADB\n\n\
                    route: 208.65.153.0/24\norigin: AS36561\n\n";
const ASREL: &str = "# inferred clique: 701 1239\n701|1239|0\n3491|17557|-1\n3549|36561|-1\n";

fn args(base: &str) -> EvidenceArgs {
    EvidenceArgs {
        rpki: vec![format!("{base}/rpki.json.gz")],
        irr: vec![format!("{base}/radb.db")],
        asrel: Some(format!("{base}/as-rel.txt")),
        as2org: Some(format!("{base}/as2org.jsonl.gz")),
        asnames: None,
        timeout_secs: 30,
    }
}

fn server() -> String {
    serve(HashMap::from([
        ("/rpki.json.gz", gzip(&rpki_json(300))),
        ("/rpki-small.json", rpki_json(3)),
        ("/empty.json", b"{\"roas\":[]}".to_vec()),
        ("/radb.db", RADB.as_bytes().to_vec()),
        ("/as-rel.txt", ASREL.as_bytes().to_vec()),
        ("/as2org.jsonl.gz", std::fs::read(AS2ORG).unwrap()),
    ]))
}

#[test]
fn loads_everything_over_http_and_explains_the_youtube_hijack() {
    let base = server();
    let e = load(&args(&base)).unwrap();
    let p = "208.65.153.0/24".parse().unwrap();
    assert_eq!(e.rpki.validate(&p, Asn(17557)), RovState::InvalidAsn);
    assert_eq!(e.rpki.validate(&p, Asn(36561)), RovState::Valid);
    assert_eq!(e.irr.check(&p, Asn(17557)), IrrState::Invalid);
    assert_eq!(
        e.asrel.rel(Asn(17557), Asn(3491)).unwrap().rel,
        Relationship::Customer
    );
    assert!(e.asrel.is_clique(Asn(701)));
    assert_eq!(e.orgs.country(Asn(17557)), Some("PK"));

    let v = explain(&e, &p, Asn(17557), &[Asn(36561)]);
    assert_eq!(v["rpki"]["radar"], "invalid");
    assert_eq!(v["rpki"]["vrps"][0]["asn"], 36561);
    assert_eq!(v["irr"]["route_objects"].as_array().unwrap().len(), 2);
    assert_eq!(v["origin"]["country"], "PK");
    assert_eq!(v["relations"][0]["other"]["org_name"], "YouTube, Inc.");
    assert_eq!(v["relations"][0]["other_rpki"], "valid");
    assert_eq!(v["relations"][0]["siblings"], false);
}

#[test]
fn refresh_keeps_the_last_good_snapshot() {
    let base = server();
    let good = args(&base);
    let h = EvidenceHandle::default();
    h.refresh(&good).unwrap();
    let before = h.snapshot();
    assert_eq!(before.rpki.len(), 301);

    // A missing dataset: refused with the URL in the error.
    let mut missing = good.clone();
    missing.irr = vec![format!("{base}/nope.db")];
    let err = format!("{:#}", h.refresh(&missing).unwrap_err());
    assert!(err.contains("nope.db") && err.contains("404"), "{err}");

    // An empty download: refused.
    let mut empty = good.clone();
    empty.rpki = vec![format!("{base}/empty.json")];
    let err = format!("{:#}", h.refresh(&empty).unwrap_err());
    assert!(err.contains("no usable records"), "{err}");

    // The ROAs collapsed from 301 to 4: refused.
    let mut collapsed = good.clone();
    collapsed.rpki = vec![format!("{base}/rpki-small.json")];
    let err = format!("{:#}", h.refresh(&collapsed).unwrap_err());
    assert!(err.contains("shrank from 301 to 4"), "{err}");

    // Nothing was swapped in.
    assert!(Arc::ptr_eq(&before, &h.snapshot()));
    // A good refresh swaps a new snapshot in.
    h.refresh(&good).unwrap();
    assert!(!Arc::ptr_eq(&before, &h.snapshot()));
}

#[test]
fn local_files_and_connection_refused() {
    let e = load(&EvidenceArgs {
        as2org: Some(AS2ORG.to_string()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(e.orgs.org_name(Asn(36561)), Some("YouTube, Inc."));
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = load(&EvidenceArgs {
        asrel: Some(format!("http://127.0.0.1:{port}/as-rel.txt")),
        timeout_secs: 5,
        ..Default::default()
    })
    .unwrap_err();
    assert!(format!("{err:#}").contains("as-rel.txt"), "{err:#}");
}

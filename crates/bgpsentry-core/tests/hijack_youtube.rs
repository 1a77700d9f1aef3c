//! Acceptance on real data: the Pakistan Telecom hijack of YouTube,
//! 2008-02-24 (`../shared/data/SOURCES.md` §1). Replays the 48 RouteViews
//! update files of the 12 hours with the pyasn table of 2008-05-01 as the
//! baseline and CAIDA's as2org of 2008-04-02 as the only other evidence (no
//! RPKI or IRR existed then), and checks that exactly the documented event is
//! raised for YouTube's space, with a high score, and that the replay is
//! deterministic over the incident window. Every event of the 12 hours is printed (`--nocapture`) for
//! the triage in `docs/validation.md`.
//!
//! The data is RouteViews' (University of Oregon) and CAIDA's; it is read
//! from the shared folder, never copied.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::Arc;

use bgpsentry_core::detect::Detector;
use bgpsentry_core::detect::hijack::{HijackConfig, HijackDetector};
use bgpsentry_core::evidence::{Evidence, OrgTable};
use bgpsentry_core::model::{
    Asn, Event, EventChange, HijackEvent, PeerTable, RouteMessage, Timestamp,
};
use bgpsentry_core::mrt::{Decoded, RecordReader, StreamDecoder, decompress};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn orgs() -> OrgTable {
    let f = File::open(format!("{DATA}/as2org/20080402.as-org2info.jsonl.gz")).expect("as2org");
    let (_, r) = decompress(f).expect("gunzip");
    let mut t = OrgTable::new();
    let mut asns = Vec::new();
    for line in BufReader::new(r).lines() {
        let line = line.expect("line");
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
        match v["type"].as_str() {
            Some("Organization") => t.insert_org(&s("organizationId"), &s("name"), &s("country")),
            Some("ASN") => asns.push((s("asn"), s("organizationId"), s("name"))),
            _ => {}
        }
    }
    for (a, org, name) in asns {
        if let Ok(a) = a.parse::<Asn>() {
            t.insert_asn(a, &org, Some(&name));
        }
    }
    t
}

fn inputs() -> Vec<PathBuf> {
    let dir = PathBuf::from(format!("{DATA}/mrt/incident-youtube-2008"));
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "bz2"))
        .collect();
    v.sort();
    v
}

/// The files cover consecutive, non-overlapping 15-minute windows, so reading
/// them in name order is reading them in time order. One thread decodes
/// while this one runs the detector.
fn replay(det: &mut HijackDetector, files: Vec<PathBuf>) -> Vec<EventChange> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Decoded>>(8);
    let decoder = std::thread::spawn(move || {
        for path in files {
            let (_, r) = decompress(File::open(&path).expect("open")).expect("bunzip");
            let mut dec = StreamDecoder::new();
            let mut batch = Vec::with_capacity(4096);
            for rec in RecordReader::new(r) {
                let Ok(rec) = rec else { continue };
                batch.extend(dec.decode(rec).messages);
                if batch.len() >= 4096 {
                    tx.send(std::mem::take(&mut batch)).expect("send");
                }
            }
            tx.send(batch).expect("send");
        }
    });
    let mut peers = PeerTable::new();
    let collector = peers.collector("route-views2");
    let mut out = Vec::new();
    let mut last_advance = Timestamp::default();
    let mut now = Timestamp::default();
    for batch in rx {
        for d in batch {
            let peer = peers.peer(collector, d.peer_ip, d.peer_asn);
            let msg = RouteMessage {
                ts: d.ts,
                peer,
                event: d.event,
            };
            now = now.max(msg.ts);
            if msg.ts.secs_since(last_advance) >= 10 {
                det.advance(msg.ts, &mut out);
                last_advance = msg.ts;
            }
            det.observe(&msg, &peers, &mut out);
        }
    }
    decoder.join().expect("decoder thread");
    det.finish(now, &mut out);
    out
}

fn final_states(changes: &[EventChange]) -> Vec<HijackEvent> {
    let mut latest = std::collections::BTreeMap::new();
    for c in changes {
        if let Event::Hijack(e) = &c.event {
            latest.insert(e.id, e.clone());
        }
    }
    latest.into_values().collect()
}

fn detector(orgs: &OrgTable) -> HijackDetector {
    let ev = Evidence {
        orgs: orgs.clone(),
        ..Default::default()
    };
    let mut det = HijackDetector::new(HijackConfig::default(), Arc::new(ev));
    let f = File::open(format!("{DATA}/pfx2as/ipasn_20080501_v12.dat.gz")).expect("pfx2as");
    let rep = det.bootstrap_table(f).expect("bootstrap");
    assert_eq!(rep.entries, 270_849);
    det
}

#[test]
fn youtube_2008_one_event_high_confidence_and_deterministic() {
    let orgs = orgs();
    let mut det = detector(&orgs);
    let changes = replay(&mut det, inputs());
    let events = final_states(&changes);

    println!(
        "{} hijack events, {} changes; stats {:?}",
        events.len(),
        changes.len(),
        det.stats()
    );
    for e in &events {
        println!(
            "id={} score={} type={} hijacker=AS{} ({}) victims={:?} ({:?}) prefixes={:?} min={} max={} \
             ended={:?} peers={} msgs={} on_going={} stale={} tags={}",
            e.id,
            e.confidence_score,
            e.event_type,
            e.hijacker_asn,
            e.hijacker_country,
            e.victim_asns.iter().map(|a| a.0).collect::<Vec<_>>(),
            e.victim_countries,
            e.prefixes,
            e.min_hijack_ts,
            e.max_hijack_ts,
            e.ended_ts.map(|t| t.to_radar_millis()),
            e.peer_ip_count,
            e.hijack_msgs_count,
            e.on_going_count,
            e.is_stale,
            e.tags
                .iter()
                .map(|t| format!("{}:{}", t.name, t.score))
                .collect::<Vec<_>>()
                .join(","),
        );
    }

    // YouTube's space: exactly one event, Pakistan Telecom's /24.
    let yt_space: ipnet::IpNet = "208.65.152.0/22".parse().expect("p");
    let in_yt = |e: &&HijackEvent| {
        e.prefixes.iter().any(|p| {
            p.parse::<ipnet::IpNet>()
                .is_ok_and(|p| yt_space.contains(&p))
        })
    };
    let yt: Vec<&HijackEvent> = events.iter().filter(in_yt).collect();
    assert_eq!(yt.len(), 1, "one event for YouTube's space: {yt:#?}");
    let e = yt[0];
    println!(
        "YOUTUBE {}",
        serde_json::to_string(&Event::Hijack(e.clone())).expect("json")
    );
    assert_eq!(e.hijacker_asn, Asn(17557));
    assert_eq!(e.victim_asns, vec![Asn(36561)]);
    assert_eq!(e.prefixes, vec!["208.65.153.0/24".to_string()]);
    assert_eq!(e.min_hijack_ts.to_radar_millis(), "2008-02-24T18:47:57.000");
    assert!(e.finished, "ended when the last peer dropped the route");
    let ended = e.ended_ts.expect("ended").to_radar_millis();
    assert!(
        ended.as_str() >= "2008-02-24T21:00:00" && ended.as_str() < "2008-02-24T21:10:00",
        "{ended}"
    );
    assert_eq!(e.on_going_count, 0);
    assert_eq!(e.hijacker_country, "PK");
    assert_eq!(e.victim_countries, vec!["US".to_string()]);
    assert!(
        e.confidence_score >= 8,
        "score {} tags {:?}",
        e.confidence_score,
        e.tags
    );
    // no RPKI / IRR tags from data that did not exist
    assert!(
        e.tags
            .iter()
            .all(|t| !t.name.starts_with("rpki_") && !t.name.starts_with("irr_"))
    );

    // Deterministic: the incident window (18:39 to 21:26, 11 files) replayed twice
    // gives the same changes, byte for byte.
    let window = |v: Vec<PathBuf>| -> Vec<PathBuf> {
        v.into_iter()
            .filter(|p| {
                let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                ("updates.20080224.1839"..="updates.20080224.2111.bz2").contains(&n)
            })
            .collect()
    };
    assert_eq!(window(inputs()).len(), 11);
    let once = replay(&mut detector(&orgs), window(inputs()));
    let twice = replay(&mut detector(&orgs), window(inputs()));
    assert!(!once.is_empty());
    assert_eq!(
        serde_json::to_string(&once).expect("json"),
        serde_json::to_string(&twice).expect("json")
    );
}

//! Helpers shared by the leak tests: the hand-written relationship fixture,
//! reading real MRT files from `../shared/data`, and building messages.

#![allow(dead_code)]

use std::fs::File;
use std::net::IpAddr;
use std::sync::Arc;

use bgpsentry_core::detect::Detector;
use bgpsentry_core::detect::leak::RelTable;
use bgpsentry_core::model::{
    AsPath, Asn, EventChange, Nlri, PathAttrs, PeerId, PeerTable, RouteEvent, RouteMessage,
    Timestamp,
};
use bgpsentry_core::mrt::{RecordReader, StreamDecoder, decompress};
use smallvec::SmallVec;

/// The shared data folder.
pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

/// The hand-written fixture for the route-views.jinx 2015 file.
pub fn jinx_rels() -> RelTable {
    let text = include_str!("../fixtures/leak/jinx-2015.as-rel.txt");
    let mut t = RelTable::new();
    assert_eq!(t.parse_caida(text), 0, "fixture parses cleanly");
    t
}

/// Every message of one MRT file, peers interned in order of appearance.
pub fn read_mrt(rel: &str, collector: &str) -> (Vec<RouteMessage>, PeerTable) {
    let mut peers = PeerTable::new();
    let msgs = read_mrt_into(rel, collector, &mut peers);
    (msgs, peers)
}

/// Every message of one MRT file, peers interned into `peers`.
pub fn read_mrt_into(rel: &str, collector: &str, peers: &mut PeerTable) -> Vec<RouteMessage> {
    let path = format!("{DATA}/{rel}");
    let f = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (_, r) = decompress(f).expect("decompress");
    let mut dec = StreamDecoder::new();
    let c = peers.collector(collector);
    let mut out = Vec::new();
    for rec in RecordReader::new(r) {
        let Ok(rec) = rec else { continue };
        for d in dec.decode(rec).messages {
            let peer = peers.peer(c, d.peer_ip, d.peer_asn);
            out.push(RouteMessage {
                ts: d.ts,
                peer,
                event: d.event,
            });
        }
    }
    out
}

/// A peer table with `n` peers of one collector, AS 65000+i... no: real ASNs.
pub fn peers(asns: &[u32]) -> (PeerTable, Vec<PeerId>) {
    let mut t = PeerTable::new();
    let c = t.collector("route-views.jinx");
    let ids = asns
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let ip: IpAddr = format!("196.223.14.{}", i + 1).parse().expect("ip");
            t.peer(c, ip, Asn(*a))
        })
        .collect();
    (t, ids)
}

/// Attributes for a path given as text (`"30844 286 34984 {1,2}"` not supported: sequences only).
pub fn attrs(path: &str) -> Arc<PathAttrs> {
    let p = AsPath::from_sequence(
        path.split_whitespace()
            .map(|s| Asn(s.parse().expect("asn"))),
    );
    Arc::new(PathAttrs::from_path(p))
}

/// An announcement of `prefixes` with `attrs` from `peer` at second `t`.
pub fn announce(t: i64, peer: PeerId, prefixes: &[&str], attrs: Arc<PathAttrs>) -> RouteMessage {
    RouteMessage {
        ts: Timestamp::from_secs(1_427_846_400 + t),
        peer,
        event: RouteEvent::Update {
            withdrawn: SmallVec::new(),
            announced: prefixes
                .iter()
                .map(|p| Nlri {
                    prefix: p.parse().expect("prefix"),
                    path_id: None,
                })
                .collect(),
            attrs: Some(attrs),
            from_rib: false,
        },
    }
}

/// A withdrawal of `prefixes` from `peer` at second `t`.
pub fn withdraw(t: i64, peer: PeerId, prefixes: &[&str]) -> RouteMessage {
    RouteMessage {
        ts: Timestamp::from_secs(1_427_846_400 + t),
        peer,
        event: RouteEvent::Update {
            withdrawn: prefixes
                .iter()
                .map(|p| Nlri {
                    prefix: p.parse().expect("prefix"),
                    path_id: None,
                })
                .collect(),
            announced: SmallVec::new(),
            attrs: None,
            from_rib: false,
        },
    }
}

/// The peer's session leaving Established at second `t`.
pub fn session_down(t: i64, peer: PeerId) -> RouteMessage {
    RouteMessage {
        ts: Timestamp::from_secs(1_427_846_400 + t),
        peer,
        event: RouteEvent::PeerState { old: 6, new: 1 },
    }
}

/// Runs messages through a detector the way the pipeline does (advance
/// every 10 s of message time), then finishes it.
pub fn run(d: &mut dyn Detector, msgs: &[RouteMessage], peers: &PeerTable) -> Vec<EventChange> {
    let mut out = run_open(d, msgs, peers);
    if let Some(t) = msgs.last().map(|m| m.ts) {
        d.finish(t, &mut out);
    }
    out
}

/// Like [`run`] without the final `finish` (more input follows).
pub fn run_open(
    d: &mut dyn Detector,
    msgs: &[RouteMessage],
    peers: &PeerTable,
) -> Vec<EventChange> {
    let mut out = Vec::new();
    let mut last: Option<Timestamp> = None;
    for m in msgs {
        match last {
            None => last = Some(m.ts),
            Some(t) if m.ts.secs_since(t) >= 10 => {
                d.advance(m.ts, &mut out);
                last = Some(m.ts);
            }
            _ => {}
        }
        d.observe(m, peers, &mut out);
    }
    out
}

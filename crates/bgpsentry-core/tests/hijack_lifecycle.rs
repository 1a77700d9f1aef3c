//! Hijack detector behaviour on small hand-made streams: benign cases raise
//! nothing, events open, grow, and end on withdrawal, implicit withdrawal and
//! session reset; learning establishes an origin.

use std::net::IpAddr;
use std::sync::Arc;

use bgpsentry_core::detect::Detector;
use bgpsentry_core::detect::hijack::{HijackConfig, HijackDetector};
use bgpsentry_core::evidence::Evidence;
use bgpsentry_core::model::{
    AsPath, Asn, ChangeKind, Event, EventChange, HijackEvent, Nlri, PathAttrs, PeerId, PeerTable,
    RouteEvent, RouteMessage, Timestamp,
};
use smallvec::smallvec;

struct World {
    det: HijackDetector,
    peers: PeerTable,
    ids: Vec<PeerId>,
    out: Vec<EventChange>,
}

impl World {
    fn new(n_peers: u32) -> Self {
        let mut peers = PeerTable::new();
        let c = peers.collector("test");
        let ids = (0..n_peers)
            .map(|i| {
                let ip: IpAddr = format!("192.0.2.{}", i + 1).parse().expect("ip");
                peers.peer(c, ip, Asn(64_600 + i))
            })
            .collect();
        let cfg = HijackConfig {
            learn_secs: 3600,
            ..Default::default()
        };
        let mut det = HijackDetector::new(cfg, Arc::new(Evidence::default()));
        det.establish("10.0.0.0/16".parse().expect("p"), Asn(100));
        World {
            det,
            peers,
            ids,
            out: Vec::new(),
        }
    }

    fn announce(&mut self, t: i64, peer: usize, prefix: &str, path: &[u32]) {
        let attrs = PathAttrs::from_path(AsPath::from_sequence(path.iter().map(|a| Asn(*a))));
        let msg = RouteMessage {
            ts: Timestamp::from_secs(t),
            peer: self.ids[peer],
            event: RouteEvent::Update {
                withdrawn: smallvec![],
                announced: smallvec![Nlri {
                    prefix: prefix.parse().expect("p"),
                    path_id: None
                }],
                attrs: Some(Arc::new(attrs)),
                from_rib: false,
            },
        };
        self.det.observe(&msg, &self.peers, &mut self.out);
    }

    fn withdraw(&mut self, t: i64, peer: usize, prefix: &str) {
        let msg = RouteMessage {
            ts: Timestamp::from_secs(t),
            peer: self.ids[peer],
            event: RouteEvent::Update {
                withdrawn: smallvec![Nlri {
                    prefix: prefix.parse().expect("p"),
                    path_id: None
                }],
                announced: smallvec![],
                attrs: None,
                from_rib: false,
            },
        };
        self.det.observe(&msg, &self.peers, &mut self.out);
    }

    fn down(&mut self, t: i64, peer: usize) {
        let msg = RouteMessage {
            ts: Timestamp::from_secs(t),
            peer: self.ids[peer],
            event: RouteEvent::PeerState { old: 6, new: 1 },
        };
        self.det.observe(&msg, &self.peers, &mut self.out);
    }

    fn kinds(&self) -> Vec<(u64, ChangeKind)> {
        self.out.iter().map(|c| (c.event.id(), c.kind)).collect()
    }

    fn last(&self) -> HijackEvent {
        match self.out.last().map(|c| &c.event) {
            Some(Event::Hijack(e)) => e.clone(),
            other => panic!("no hijack change: {other:?}"),
        }
    }
}

#[test]
fn benign_cases_raise_nothing() {
    let mut w = World::new(4);
    w.announce(10, 0, "10.0.0.0/16", &[1, 100]); // the established origin
    w.announce(11, 1, "10.0.5.0/24", &[1, 100]); // de-aggregation by the same origin
    w.announce(12, 2, "10.0.6.0/24", &[1, 100, 200]); // customer's block via the old origin
    w.announce(13, 3, "192.0.2.0/24", &[1, 300]); // space nobody is established on
    assert!(w.out.is_empty(), "{:?}", w.kinds());
}

#[test]
fn more_specific_hijack_grows_and_ends_on_withdrawal_move_and_reset() {
    let mut w = World::new(4);
    w.announce(100, 0, "10.0.1.0/24", &[1, 2, 666]);
    assert_eq!(w.kinds(), vec![(1, ChangeKind::Opened)]);
    let e = w.last();
    assert_eq!(
        (e.hijacker_asn, e.victim_asns.clone(), e.event_type),
        (Asn(666), vec![Asn(100)], 1)
    );
    assert!(e.tags.iter().any(|t| t.name == "more_specific"));
    w.announce(101, 1, "10.0.1.0/24", &[3, 666]); // a second peer: grows (and visibility rises)
    w.announce(102, 2, "10.0.2.0/24", &[3, 666]); // a second prefix joins the same event
    let e = w.last();
    assert_eq!(
        e.prefixes,
        vec!["10.0.1.0/24".to_string(), "10.0.2.0/24".to_string()]
    );
    assert_eq!(
        (e.peer_ip_count, e.on_going_count, e.hijack_msgs_count),
        (3, 2, 3)
    );
    w.withdraw(200, 0, "10.0.1.0/24"); // explicit withdrawal
    w.announce(201, 1, "10.0.1.0/24", &[3, 100]); // implicit withdrawal: moved to the victim
    assert!(!w.last().finished);
    w.down(300, 2); // session reset clears the last carrier
    let e = w.last();
    assert_eq!(w.out.last().map(|c| c.kind), Some(ChangeKind::Ended));
    assert!(e.finished);
    assert_eq!(e.ended_ts, Some(Timestamp::from_secs(300)));
    assert_eq!((e.on_going_count, e.duration), (0, 200));
    // the same pair later: a new event with the next id
    w.announce(400, 3, "10.0.1.0/24", &[3, 666]);
    assert_eq!(w.last().id, 2);
}

#[test]
fn learning_establishes_after_continuous_visibility() {
    let mut w = World::new(2);
    w.announce(0, 0, "172.20.0.0/16", &[1, 500]); // unknown space: learning starts
    w.announce(1800, 1, "172.20.0.0/16", &[1, 501]); // not yet established: no victim
    assert!(w.out.is_empty());
    w.withdraw(1801, 1, "172.20.0.0/16");
    w.announce(3700, 1, "172.20.0.0/16", &[1, 501]); // 500 now established for an hour
    let e = w.last();
    assert_eq!(
        (e.hijacker_asn, e.victim_asns.clone(), e.event_type),
        (Asn(501), vec![Asn(500)], 0)
    );
}

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
        Self::with(
            n_peers,
            HijackConfig {
                learn_secs: 3600,
                min_peers: 1,
                ..Default::default()
            },
        )
    }

    fn with(n_peers: u32, cfg: HijackConfig) -> Self {
        let mut peers = PeerTable::new();
        let c = peers.collector("test");
        let ids = (0..n_peers)
            .map(|i| {
                let ip: IpAddr = format!("192.0.2.{}", i + 1).parse().expect("ip");
                peers.peer(c, ip, Asn(64_600 + i))
            })
            .collect();
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
        self.announce_all(t, peer, &[prefix.to_string()], path);
    }

    /// One UPDATE announcing every prefix of `prefixes` with one path.
    fn announce_all(&mut self, t: i64, peer: usize, prefixes: &[String], path: &[u32]) {
        let msg = self.update(t, peer, prefixes, path);
        self.det.observe(&msg, &self.peers, &mut self.out);
    }

    fn update(&self, t: i64, peer: usize, prefixes: &[String], path: &[u32]) -> RouteMessage {
        let attrs = PathAttrs::from_path(AsPath::from_sequence(path.iter().map(|a| Asn(*a))));
        RouteMessage {
            ts: Timestamp::from_secs(t),
            peer: self.ids[peer],
            event: RouteEvent::Update {
                withdrawn: smallvec![],
                announced: prefixes
                    .iter()
                    .map(|p| Nlri {
                        prefix: p.parse().expect("p"),
                        path_id: None,
                    })
                    .collect(),
                attrs: Some(Arc::new(attrs)),
                from_rib: false,
            },
        }
    }

    fn tag_names(&self) -> Vec<String> {
        self.last().tags.iter().map(|t| t.name.clone()).collect()
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
    // the same pair back within the rejoin window: the same event reopens
    w.announce(400, 3, "10.0.1.0/24", &[3, 666]);
    assert_eq!(w.out.last().map(|c| c.kind), Some(ChangeKind::Grown));
    let e = w.last();
    assert_eq!(
        (e.id, e.finished, e.ended_ts, e.on_going_count),
        (1, false, None, 1)
    );
    assert_eq!(e.min_hijack_ts, Timestamp::from_secs(100));
    w.withdraw(500, 3, "10.0.1.0/24");
    assert!(w.last().finished);
    // later than the window (3600 s after the end): a new event, next id
    w.announce(500 + 3601, 3, "10.0.1.0/24", &[3, 666]);
    assert_eq!(w.out.last().map(|c| c.kind), Some(ChangeKind::Opened));
    assert_eq!(w.last().id, 2);
}

#[test]
fn pending_until_enough_peers_then_published_with_first_time() {
    let mut w = World::with(
        3,
        HijackConfig {
            learn_secs: 3600,
            ..Default::default() // min_peers 2
        },
    );
    // one peer flaps the route: pending, nothing reported, one candidate
    for i in 0..5 {
        w.announce(100 + i * 60, 0, "10.0.1.0/24", &[1, 666]);
        w.withdraw(130 + i * 60, 0, "10.0.1.0/24");
    }
    assert!(w.out.is_empty(), "{:?}", w.kinds());
    assert_eq!(w.det.stats().candidates, 1);
    assert_eq!(w.det.stats().events_rejoined, 4);
    // a second peer carries it (the first one again too): published, id 1,
    // first announcement time kept
    w.announce(1000, 0, "10.0.1.0/24", &[1, 666]);
    assert!(w.out.is_empty());
    w.announce(1001, 1, "10.0.1.0/24", &[2, 666]);
    assert_eq!(w.kinds(), vec![(1, ChangeKind::Opened)]);
    let e = w.last();
    assert_eq!(
        (e.min_hijack_ts, e.peer_ip_count, e.hijack_msgs_count),
        (Timestamp::from_secs(100), 2, 7)
    );
    // a single-peer candidate that never spreads is dropped after the window
    w.announce(2000, 2, "10.0.9.0/24", &[3, 777]);
    w.withdraw(2001, 2, "10.0.9.0/24");
    w.announce(9000, 2, "10.0.1.0/24", &[3, 100]);
    w.det.advance(Timestamp::from_secs(9000), &mut w.out);
    assert_eq!(w.det.stats().pending_dropped, 1);
    assert!(w.out.iter().all(|c| c.event.id() == 1));
}

#[test]
fn warmup_establishes_widely_seen_origins() {
    let mut w = World::with(
        4,
        HijackConfig {
            learn_secs: 86_400,
            min_peers: 1,
            warmup_secs: 600,
            warmup_min_peers: 3,
            ..Default::default()
        },
    );
    // during the warm-up: 10.0.7.0/24 from AS700 (a drifted baseline) seen
    // by 3 peers, 10.0.8.0/24 from AS800 by one: no events yet
    for p in 0..3 {
        w.announce(10 + p as i64, p, "10.0.7.0/24", &[1, 700]);
    }
    w.announce(20, 3, "10.0.8.0/24", &[1, 800]);
    assert!(w.out.is_empty());
    // after: AS700 is established there, AS800 is not
    w.announce(700, 3, "10.0.7.0/24", &[2, 700]);
    assert!(w.out.is_empty(), "{:?}", w.kinds());
    w.announce(701, 0, "10.0.8.0/24", &[2, 800]);
    let e = w.last();
    assert_eq!(
        (e.hijacker_asn, e.victim_asns.clone()),
        (Asn(800), vec![Asn(100)])
    );
    assert_eq!(w.det.stats().warmup_established, 1);
}

#[test]
fn forged_origin_new_adjacency() {
    let mut w = World::with(
        3,
        HijackConfig {
            learn_secs: 3600,
            min_peers: 2,
            forged_origin: true,
            forged_learn_secs: 100,
            ..Default::default()
        },
    );
    // learned: AS100 behind its provider AS10
    w.announce(0, 0, "10.0.0.0/16", &[1, 10, 100]);
    w.announce(1, 1, "10.0.0.0/16", &[2, 10, 100]);
    // before the learning time is over nothing is judged
    w.announce(50, 2, "10.0.3.0/24", &[3, 66, 100]);
    assert!(w.out.is_empty());
    // KlaySwap shape: a more-specific with the right origin behind a
    // never-seen neighbour AS6461, seen by two peers
    w.announce(200, 0, "10.0.4.0/24", &[1, 6461, 100]);
    w.announce(201, 1, "10.0.4.0/24", &[2, 6461, 100]);
    let e = w.last();
    assert_eq!(
        (
            e.event_type,
            e.hijacker_asn,
            e.victim_asns.clone(),
            e.prefixes.clone()
        ),
        (
            2,
            Asn(6461),
            vec![Asn(100)],
            vec!["10.0.4.0/24".to_string()]
        )
    );
    assert!(e.tags.iter().any(|t| t.name == "more_specific"));
    // the known adjacency raises nothing
    let n = w.out.len();
    w.announce(300, 2, "10.0.5.0/24", &[3, 10, 100]);
    assert_eq!(w.out.len(), n);
    // withdrawn by both: ended
    w.withdraw(400, 0, "10.0.4.0/24");
    w.announce(401, 1, "10.0.4.0/24", &[2, 10, 100]);
    assert!(w.last().finished);
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

#[test]
fn typo_of_own_prefix_raises_the_score() {
    let mut w = World::new(4);
    // AS9708 holds 210.98.34.0/24; IIJ (AS2497) 210.138.0.0/16 (2008-02-21)
    w.det
        .establish("210.98.34.0/24".parse().expect("p"), Asn(9708));
    w.det
        .establish("210.138.0.0/16".parse().expect("p"), Asn(2497));
    w.announce(100, 0, "210.138.34.0/24", &[1, 9708]);
    let names = w.tag_names();
    assert!(
        names.contains(&"typo_of_own_prefix".to_string()),
        "{names:?}"
    );
    let before = w.last().confidence_score;
    // a holder of two prefixes of that shape: chance, not a typo
    let mut w = World::new(4);
    for p in ["210.98.34.0/24", "210.99.34.0/24"] {
        w.det.establish(p.parse().expect("p"), Asn(9708));
    }
    w.det
        .establish("210.138.0.0/16".parse().expect("p"), Asn(2497));
    w.announce(100, 0, "210.138.34.0/24", &[1, 9708]);
    assert!(!w.tag_names().contains(&"typo_of_own_prefix".to_string()));
    assert_eq!(w.last().confidence_score, before - 4);
}

#[test]
fn a_recurring_origin_is_seen_before() {
    let mut w = World::new(4);
    // AS666 carried by 3 peers for 5 minutes, then gone: a past origin
    for p in 0..3 {
        w.announce(100 + p as i64, p, "10.0.1.0/24", &[1, 666]);
    }
    assert!(!w.tag_names().contains(&"origin_seen_before".to_string()));
    for p in 0..3 {
        w.withdraw(400 + p as i64, p, "10.0.1.0/24");
    }
    assert!(w.last().finished);
    // back after the rejoin window: a new event, scored down
    w.announce(5000, 0, "10.0.1.0/24", &[1, 666]);
    assert_eq!(w.last().id, 2);
    assert!(w.tag_names().contains(&"origin_seen_before".to_string()));
    // a flip seen by one peer only is not remembered
    w.announce(5100, 3, "10.0.2.0/24", &[1, 777]);
    w.withdraw(5500, 3, "10.0.2.0/24");
    w.announce(9200, 3, "10.0.2.0/24", &[1, 777]);
    assert!(!w.tag_names().contains(&"origin_seen_before".to_string()));
}

#[test]
fn a_table_resend_is_synchronisation_not_news() {
    // 10 peers: one bursting is a re-send, most bursting is an incident
    let table: Vec<String> = (0..2_500u32)
        .map(|i| format!("10.{}.{}.0/24", 1 + i / 256, i % 256))
        .collect();
    let mut w = World::new(10);
    w.det.establish("10.0.0.0/8".parse().expect("p"), Asn(100));
    // peer 0 re-sends its table: the Internet's ordinary routes (AS100's),
    // among them a few of AS555, an origin the stale baseline does not know
    w.announce_all(1000, 0, &table, &[1, 100]);
    w.announce_all(1001, 0, &table[..100], &[1, 555]);
    w.announce(1002, 0, "10.200.0.0/24", &[1, 555]);
    assert!(w.out.is_empty(), "{:?}", w.kinds());
    assert_eq!(w.det.stats().resync_established, 101);
    // the other peers' routes for it are no news either
    w.announce(1100, 1, "10.200.0.0/24", &[2, 555]);
    assert!(w.out.is_empty(), "{:?}", w.kinds());

    // a burst of new origins at every peer at once is an incident: it
    // opens events, from the first peer on
    let mut w = World::new(10);
    w.det.establish("10.0.0.0/8".parse().expect("p"), Asn(100));
    for p in 0..10 {
        w.announce_all(1000 + p as i64, p, &table, &[1, 555]);
    }
    assert!(!w.out.is_empty());
    assert_eq!(w.last().hijacker_asn, Asn(555));
}

#[test]
fn a_warmup_day_learns_what_stood_and_not_what_just_began() {
    let mut w = World::with(
        4,
        HijackConfig {
            min_peers: 1,
            ..Default::default() // learn_secs 86400
        },
    );
    let learn = |w: &mut World, t: i64, peer: usize, prefix: &str, path: &[u32]| {
        let msg = w.update(t, peer, &[prefix.to_string()], path);
        w.det.learn(&msg, &w.peers);
    };
    // a table that stood all the warm-up, and an incident of its last hour
    for p in 0..3 {
        learn(&mut w, p as i64, p, "10.0.7.0/24", &[1, 700]);
        learn(&mut w, 80_000 + p as i64, p, "10.0.8.0/24", &[1, 800]);
    }
    learn(&mut w, 86_000, 3, "192.0.2.0/24", &[1, 5]);
    w.det.end_learning(Timestamp::from_secs(86_400));
    assert!(w.out.is_empty());
    w.announce(86_500, 3, "10.0.7.0/24", &[2, 700]);
    assert!(w.out.is_empty(), "{:?}", w.kinds());
    w.announce(86_501, 3, "10.0.8.0/24", &[2, 800]);
    assert_eq!(w.last().hijacker_asn, Asn(800));
}

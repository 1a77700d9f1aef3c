//! Event lifecycle of the leak detector on synthetic leaks built from real
//! jinx paths: raise thresholds (peers relative to the active ones,
//! persistence, size), Radar fields and our tags, growth, the three ways an
//! event ends, the rejoin window, deterministic ids.

mod leak_common;

use bgpsentry_core::detect::leak::{LeakConfig, LeakDetector};
use bgpsentry_core::model::{Asn, ChangeKind, Event, EventChange, LeakEvent, leak_type};
use leak_common::*;

/// Telia → AS34984 → KPN: a multihomed customer between two providers.
const HAIRPIN: &str = "30844 286 34984 1299 3257 26479 22051";
/// The same prefix on its normal path.
const CLEAN: &str = "30844 286 34984 48159";

fn leak(c: &EventChange) -> &LeakEvent {
    match &c.event {
        Event::Leak(e) => e,
        Event::Hijack(_) => panic!("not a leak"),
    }
}

fn kinds(ch: &[EventChange]) -> Vec<(ChangeKind, u64)> {
    ch.iter().map(|c| (c.kind, leak(c).id)).collect()
}

/// Settings that raise at once and never rejoin, for the tests of other rules.
fn immediate() -> LeakConfig {
    LeakConfig {
        min_persist_secs: 0,
        rejoin_secs: 0,
        ..LeakConfig::default()
    }
}

/// Filler collector peers (ASNs of real jinx peers) that only announce a
/// clean path at t=0, so the collector has enough active peers for the
/// absolute `min_peers` to apply.
const FILLER: [u32; 4] = [3741, 10474, 16637, 36994];

/// `asns` followed by the fillers; returns the table, the peers of `asns`,
/// and the fillers' clean announcements at t=0.
fn busy(
    asns: &[u32],
) -> (
    bgpsentry_core::model::PeerTable,
    Vec<bgpsentry_core::model::PeerId>,
    Vec<bgpsentry_core::model::RouteMessage>,
) {
    let all: Vec<u32> = asns.iter().copied().chain(FILLER).collect();
    let (pt, p) = peers(&all);
    let fill = p[asns.len()..]
        .iter()
        .map(|q| announce(0, *q, &["196.0.0.0/16"], attrs(CLEAN)))
        .collect();
    (pt, p[..asns.len()].to_vec(), fill)
}

fn detector(cfg: LeakConfig) -> LeakDetector<bgpsentry_core::detect::leak::RelTable> {
    let mut t = jinx_rels();
    t.set_country(1299, "SE")
        .set_country(34984, "TR")
        .set_country(286, "NL");
    LeakDetector::new(cfg, t)
}

#[test]
fn hairpin_is_raised_at_the_second_peer_with_radar_fields() {
    let (pt, p, mut msgs) = busy(&[30844, 30844, 37105]);
    let mut d = detector(immediate());
    msgs.extend([
        announce(0, p[0], &["41.0.0.0/16", "41.1.0.0/16"], attrs(HAIRPIN)),
        announce(5, p[1], &["41.0.0.0/16"], attrs(HAIRPIN)),
    ]);
    let ch = run(&mut d, &msgs, &pt);
    assert_eq!(kinds(&ch), vec![(ChangeKind::Opened, 1)]);
    let e = leak(&ch[0]);
    assert_eq!(e.leak_asn, Asn(34984));
    assert_eq!(
        e.leak_seg,
        vec![Asn(1299), Asn(34984), Asn(286)],
        "From, By, To"
    );
    assert_eq!(e.leak_type, leak_type::HAIRPIN);
    assert_eq!(
        (e.leak_count, e.peer_count, e.prefix_count, e.origin_count),
        (3, 2, 2, 1)
    );
    assert_eq!(e.countries, vec!["NL", "SE", "TR"]);
    assert_eq!(e.min_ts.secs(), 1_427_846_400);
    assert_eq!(e.max_ts.secs(), 1_427_846_405);
    assert_eq!(e.detected_ts.secs(), 1_427_846_405);
    assert!(!e.finished);
    assert_eq!(e.origins, vec![Asn(22051)]);
    assert_eq!(e.prefixes, vec!["41.0.0.0/16", "41.1.0.0/16"]);
    assert_eq!(e.sample_paths.len(), 2);
    assert_eq!(e.sample_paths[0].as_path, HAIRPIN);
    assert_eq!(e.sample_paths[0].collector, "route-views.jinx");
    // Radar's field names and timestamp format.
    let v = serde_json::to_value(&ch[0].event).expect("json");
    assert_eq!(v["kind"], "leak");
    assert_eq!(v["min_ts"], "2015-04-01T00:00:00");
    for f in [
        "id",
        "countries",
        "detected_ts",
        "finished",
        "leak_asn",
        "leak_count",
        "leak_seg",
        "leak_type",
        "max_ts",
        "min_ts",
        "origin_count",
        "peer_count",
        "prefix_count",
    ] {
        assert!(v.get(f).is_some(), "missing {f}");
    }
}

#[test]
fn one_peer_is_not_enough_by_default_but_configurable() {
    let (pt, p, mut msgs) = busy(&[30844]);
    msgs.push(announce(0, p[0], &["41.0.0.0/16"], attrs(HAIRPIN)));
    assert!(run(&mut detector(immediate()), &msgs, &pt).is_empty());
    let cfg = LeakConfig {
        min_peers: 1,
        ..immediate()
    };
    assert_eq!(
        kinds(&run(&mut detector(cfg), &msgs, &pt)),
        vec![(ChangeKind::Opened, 1)]
    );
    let cfg = LeakConfig {
        min_peers: 1,
        min_prefixes: 2,
        ..immediate()
    };
    assert!(
        run(&mut detector(cfg), &msgs, &pt).is_empty(),
        "min_prefixes"
    );
}

#[test]
fn ends_when_every_peer_withdraws_or_moves_to_a_clean_path() {
    let (pt, p, mut msgs) = busy(&[30844, 37105, 10474]);
    let mut d = detector(immediate());
    msgs.extend([
        announce(0, p[0], &["41.0.0.0/16"], attrs(HAIRPIN)),
        announce(1, p[1], &["41.0.0.0/16"], attrs(HAIRPIN)),
        announce(2, p[2], &["41.0.0.0/16"], attrs(HAIRPIN)),
        announce(20, p[0], &["41.9.0.0/16"], attrs(HAIRPIN)), // grows: a new prefix
        withdraw(30, p[0], &["41.0.0.0/16", "41.9.0.0/16"]),
        announce(31, p[1], &["41.0.0.0/16"], attrs(CLEAN)), // moved to the clean path
        session_down(40, p[2]),                             // implicit withdrawal
        // Later the same segment leaks again: a new event with the next id.
        announce(100, p[0], &["41.0.0.0/16"], attrs(HAIRPIN)),
        announce(101, p[1], &["41.0.0.0/16"], attrs(HAIRPIN)),
    ]);
    let ch = run(&mut d, &msgs, &pt);
    assert_eq!(
        kinds(&ch),
        vec![
            (ChangeKind::Opened, 1),
            (ChangeKind::Grown, 1), // the third peer, at the tick of t=20
            (ChangeKind::Grown, 1), // the new prefix, at the tick of t=30
            (ChangeKind::Ended, 1),
            (ChangeKind::Opened, 2)
        ]
    );
    assert_eq!((leak(&ch[1]).peer_count, leak(&ch[2]).prefix_count), (3, 2));
    let ended = leak(&ch[3]);
    assert!(ended.finished);
    assert_eq!(ended.ended_ts.map(|t| t.secs()), Some(1_427_846_440));
    assert_eq!(ch[3].ts.secs(), 1_427_846_440);
    assert_eq!(
        (ended.peer_count, ended.prefix_count, ended.leak_count),
        (3, 2, 4)
    );
    assert_eq!(d.stats().ended_withdrawn, 1);
}

#[test]
fn quiet_time_finishes_an_event_still_carried() {
    let (pt, p, mut msgs) = busy(&[30844, 37105, 10474]);
    let cfg = LeakConfig {
        quiet_secs: 600,
        ..immediate()
    };
    let mut d = detector(cfg);
    msgs.extend([
        announce(0, p[0], &["41.0.0.0/16"], attrs(HAIRPIN)),
        announce(1, p[1], &["41.0.0.0/16"], attrs(HAIRPIN)),
        announce(700, p[2], &["10.0.0.0/8"], attrs(CLEAN)), // time passes
        withdraw(710, p[0], &["41.0.0.0/16"]),              // nothing left to end
    ]);
    let ch = run(&mut d, &msgs, &pt);
    assert_eq!(
        kinds(&ch),
        vec![(ChangeKind::Opened, 1), (ChangeKind::Ended, 1)]
    );
    assert!(leak(&ch[1]).finished);
    assert_eq!(d.stats().ended_quiet, 1);
}

#[test]
fn replays_are_deterministic() {
    let (pt, p, fill) = busy(&[30844, 37105, 10474]);
    let other = "30844 286 34984 9121"; // type 4, another segment of the same leaker
    let msgs: Vec<_> = fill
        .into_iter()
        .chain((0..40).map(|i| {
            let path = if i % 2 == 0 { other } else { HAIRPIN };
            announce(
                i * 7,
                p[(i % 3) as usize],
                &[&format!("41.{i}.0.0/16")],
                attrs(path),
            )
        }))
        .collect();
    let a = run(&mut detector(immediate()), &msgs, &pt);
    let b = run(&mut detector(immediate()), &msgs, &pt);
    assert_eq!(a, b);
    let ids: Vec<u64> = a
        .iter()
        .filter(|c| c.kind == ChangeKind::Opened)
        .map(|c| leak(c).id)
        .collect();
    // One leaker, one event (as Radar aggregates per leaker); both segments listed.
    assert_eq!(ids, vec![1]);
    let last = leak(a.last().expect("changes"));
    assert_eq!(last.leak_seg, vec![Asn(9121), Asn(34984), Asn(286)]);
    assert_eq!(
        last.leak_segs,
        vec![
            vec![Asn(9121), Asn(34984), Asn(286)],
            vec![Asn(1299), Asn(34984), Asn(286)]
        ]
    );
}

fn tag_names(e: &LeakEvent) -> Vec<&str> {
    e.tags.iter().map(|t| t.name.as_str()).collect()
}

#[test]
fn path_hunting_transients_are_not_raised_persistent_leaks_are() {
    let (pt, p, mut msgs) = busy(&[30844, 37105, 10474]);
    let mut d = detector(LeakConfig::default());
    msgs.extend([
        // seconds of path exploration by two peers, then the clean path
        announce(1, p[0], &["41.0.0.0/16"], attrs(HAIRPIN)),
        announce(2, p[1], &["41.0.0.0/16"], attrs(HAIRPIN)),
        announce(30, p[0], &["41.0.0.0/16"], attrs(CLEAN)),
        announce(31, p[1], &["41.0.0.0/16"], attrs(CLEAN)),
        // later the same segment stays for minutes
        announce(1000, p[0], &["41.0.0.0/16"], attrs(HAIRPIN)),
        announce(1001, p[1], &["41.0.0.0/16"], attrs(HAIRPIN)),
        announce(1200, p[2], &["10.0.0.0/8"], attrs(CLEAN)),
        announce(1310, p[2], &["10.0.0.0/8"], attrs(CLEAN)),
    ]);
    let ch = run(&mut d, &msgs, &pt);
    assert_eq!(kinds(&ch), vec![(ChangeKind::Opened, 1)]);
    let e = leak(&ch[0]);
    assert_eq!(e.min_ts.secs(), 1_427_846_400 + 1000);
    assert_eq!(
        e.detected_ts.secs(),
        1_427_846_400 + 1310,
        "after 300 s carried"
    );
    assert_eq!(e.peer_count, 2);
    let s = d.stats();
    assert_eq!((s.raised, s.dropped, s.transient), (1, 1, 1));
}

#[test]
fn a_leak_that_comes_back_within_the_window_rejoins_its_event() {
    let (pt, p, mut msgs) = busy(&[30844, 37105, 10474]);
    let mut d = detector(LeakConfig::default());
    msgs.extend([
        announce(0, p[0], &["41.0.0.0/16"], attrs(HAIRPIN)),
        announce(1, p[1], &["41.0.0.0/16"], attrs(HAIRPIN)),
        announce(400, p[2], &["10.0.0.0/8"], attrs(CLEAN)), // raised at this tick
        withdraw(500, p[0], &["41.0.0.0/16"]),
        withdraw(501, p[1], &["41.0.0.0/16"]), // ended
        // back 20 minutes later, from another peer and prefix: same event
        announce(1700, p[2], &["41.7.0.0/16"], attrs(HAIRPIN)),
        withdraw(1800, p[2], &["41.7.0.0/16"]), // ended again
        // back after more than the hour: a new event
        announce(6000, p[0], &["41.0.0.0/16"], attrs(HAIRPIN)),
        announce(6001, p[1], &["41.0.0.0/16"], attrs(HAIRPIN)),
        announce(6400, p[2], &["10.0.0.0/8"], attrs(CLEAN)),
    ]);
    let ch = run(&mut d, &msgs, &pt);
    assert_eq!(
        kinds(&ch),
        vec![
            (ChangeKind::Opened, 1),
            (ChangeKind::Ended, 1),
            (ChangeKind::Grown, 1), // rejoined
            (ChangeKind::Ended, 1),
            (ChangeKind::Opened, 2),
        ]
    );
    let back = leak(&ch[2]);
    assert!(!back.finished && back.ended_ts.is_none());
    assert_eq!((back.peer_count, back.prefix_count), (3, 2));
    assert_eq!(back.min_ts.secs(), 1_427_846_400, "the first leak's start");
    assert!(leak(&ch[3]).finished);
    assert_eq!(leak(&ch[4]).min_ts.secs(), 1_427_846_400 + 6000);
    assert_eq!(d.stats().rejoined, 1);
}

#[test]
fn one_of_two_collector_peers_is_enough() {
    // A collector with two peers, both active: one carries the leak.
    let (pt, p) = peers(&[30844, 37105]);
    let msgs = vec![
        announce(0, p[1], &["196.0.0.0/16"], attrs(CLEAN)),
        announce(1, p[0], &["41.0.0.0/16"], attrs(HAIRPIN)),
        announce(400, p[1], &["196.0.0.0/16"], attrs(CLEAN)),
    ];
    let mut d = detector(LeakConfig::default());
    let ch = run(&mut d, &msgs, &pt);
    assert_eq!(kinds(&ch), vec![(ChangeKind::Opened, 1)]);
    assert_eq!(leak(&ch[0]).peer_count, 1);
    assert!(tag_names(leak(&ch[0])).contains(&"single_peer"));
    assert_eq!(d.required_peers(), 1);
    // The same leak at a collector with six active peers needs two.
    let (pt, p, mut msgs) = busy(&[30844, 37105]);
    msgs.extend([
        announce(1, p[0], &["41.0.0.0/16"], attrs(HAIRPIN)),
        announce(400, p[1], &["196.0.0.0/16"], attrs(CLEAN)),
    ]);
    let mut d = detector(LeakConfig::default());
    assert!(run(&mut d, &msgs, &pt).is_empty());
    assert_eq!(d.required_peers(), 2);
}

#[test]
fn a_large_leak_from_one_peer_is_raised_at_once() {
    let (pt, p, mut msgs) = busy(&[30844, 37105]);
    let prefixes: Vec<String> = (0..1000u32)
        .map(|i| format!("{}.{}.0.0/16", 100 + i / 256, i % 256))
        .collect();
    let refs: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    msgs.push(announce(1, p[0], &refs, attrs(HAIRPIN)));
    let mut d = detector(LeakConfig::default());
    let ch = run(&mut d, &msgs, &pt);
    assert_eq!(kinds(&ch), vec![(ChangeKind::Opened, 1)]);
    let e = leak(&ch[0]);
    assert_eq!((e.peer_count, e.prefix_count), (1, 1000));
    assert_eq!(e.detected_ts.secs(), 1_427_846_401, "no persistence wait");
    let names = tag_names(e);
    assert!(names.contains(&"large_leak"), "{names:?}");
    assert_eq!(
        e.confidence_score,
        e.tags.iter().map(|t| t.score).sum::<i32>()
    );
    // 999 prefixes from one peer: not raised.
    let (pt, p, mut msgs) = busy(&[30844, 37105]);
    msgs.push(announce(1, p[0], &refs[..999], attrs(HAIRPIN)));
    assert!(run(&mut detector(LeakConfig::default()), &msgs, &pt).is_empty());
}

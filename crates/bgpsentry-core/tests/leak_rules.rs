//! One negative case per false-alarm rule (and the positive twin that shows
//! it is that rule which keeps the leak out), plus RFC 9234 OTC evidence.

mod leak_common;

use std::sync::Arc;

use bgpsentry_core::detect::leak::{CheckConfig, LeakConfig, LeakDetector, Rel, RelTable};
use bgpsentry_core::model::{AsPath, Asn, PathAttrs, Segment, leak_type};
use leak_common::*;

/// Telia → AS34984 → KPN, edited from the real `30844 286 34984 48159`.
const HAIRPIN: &str = "30844 286 34984 1299 3257 26479 22051";

fn det(t: RelTable) -> LeakDetector<RelTable> {
    LeakDetector::new(LeakConfig::default(), t)
}

fn det_cfg(t: RelTable, check: CheckConfig) -> LeakDetector<RelTable> {
    LeakDetector::new(
        LeakConfig {
            check,
            ..LeakConfig::default()
        },
        t,
    )
}

#[test]
fn siblings_do_not_leak() {
    let mut t = jinx_rels();
    t.set_org(34984, 1).set_org(1299, 1);
    let mut d = det(t);
    assert_eq!(d.check_path(&attrs(HAIRPIN)), None);
    assert!(d.stats().check.sibling >= 1);
    let mut t = jinx_rels();
    t.insert(Asn(34984), Asn(286), Rel::Sibling, 1.0);
    assert_eq!(
        det(t).check_path(&attrs(HAIRPIN)),
        None,
        "sibling edge in the relationship data"
    );
}

#[test]
fn route_servers_are_transparent() {
    // Relationships inferred from paths may make a route server look like
    // everyone's peer; its members' routes must not read as a lateral leak.
    let mut t = jinx_rels();
    t.p2p(6695, 6939).p2p(6695, 12956);
    let path = attrs("30844 6939 6695 12956 3816");
    let mut d = det(t.clone());
    assert_eq!(d.check_path(&path), None);
    assert_eq!(d.stats().check.route_server_removed, 1);
    let no_rs = CheckConfig {
        route_servers: vec![],
        ..CheckConfig::default()
    };
    let f = det_cfg(t, no_rs)
        .check_path(&path)
        .expect("without the rule it reads as a leak");
    assert_eq!((f.by, f.leak_type), (Asn(6695), leak_type::LATERAL));
}

#[test]
fn unknown_and_low_confidence_relationships_do_not_leak() {
    let mut d = det(jinx_rels());
    assert_eq!(
        d.check_path(&attrs("30844 286 34984 7922 7922 1")),
        None,
        "34984-7922 unknown"
    );
    assert!(d.stats().check.unknown > 0);

    let mut t = jinx_rels();
    t.insert(Asn(1299), Asn(34984), Rel::Provider, 0.3);
    let mut d = det(t.clone());
    assert_eq!(d.check_path(&attrs(HAIRPIN)), None);
    assert!(d.stats().check.low_confidence >= 1);
    let lax = CheckConfig {
        min_confidence: 0.2,
        ..CheckConfig::default()
    };
    assert!(det_cfg(t, lax).check_path(&attrs(HAIRPIN)).is_some());
}

#[test]
fn as_sets_are_skipped() {
    let mut seq: Vec<Asn> = [30844, 286, 34984, 1299].into_iter().map(Asn).collect();
    let p = AsPath {
        segments: vec![
            Segment::Sequence(seq.clone()),
            Segment::Set(vec![Asn(3257), Asn(26479)]),
        ],
    };
    let mut d = det(jinx_rels());
    assert_eq!(d.check_path(&PathAttrs::from_path(p)), None);
    assert_eq!(d.stats().check.as_set, 1);
    seq.push(Asn(3257));
    assert!(
        d.check_path(&PathAttrs::from_path(AsPath::from_sequence(seq)))
            .is_some()
    );
}

#[test]
fn prepending_is_collapsed() {
    let mut d = det(jinx_rels());
    let plain = d.check_path(&attrs(HAIRPIN)).expect("leak");
    let prepended = d.check_path(&attrs(
        "30844 286 286 34984 34984 34984 1299 1299 3257 26479 22051 22051",
    ));
    assert_eq!(prepended, Some(plain));
    // Real prepending on a clean path stays clean (from the jinx file).
    assert_eq!(
        d.check_path(&attrs("30844 30844 286 34984 34984 34984 34984")),
        None
    );
}

#[test]
fn poisoned_paths_and_loops_are_skipped() {
    let mut d = det(jinx_rels());
    // 22051 poisons 1299 (…22051 1299 22051) to keep its route away from Telia.
    assert_eq!(
        d.check_path(&attrs("30844 286 34984 1299 3257 26479 22051 1299 22051")),
        None
    );
    // A loop through the leaker.
    assert_eq!(
        d.check_path(&attrs("30844 286 34984 1299 34984 48159")),
        None
    );
    assert_eq!(d.stats().check.loop_or_poison, 2);
}

#[test]
fn the_transit_free_clique_does_not_leak_by_default() {
    // Real path: Telia (clique) between CenturyLink (209, clique peer) and HE
    // (peer) reads peer → Telia → peer; tier-1 pairs carry partial transit.
    let real = attrs("30844 6939 1299 209 721 27064 5972");
    let mut d = det(jinx_rels());
    assert_eq!(d.check_path(&real), None);
    assert_eq!(d.stats().check.clique, 1);
    let on = CheckConfig {
        clique_leakers: true,
        ..CheckConfig::default()
    };
    let f = det_cfg(jinx_rels(), on)
        .check_path(&real)
        .expect("leak when clique leakers are allowed");
    assert_eq!(
        (f.seg(), f.leak_type),
        ([Asn(209), Asn(1299), Asn(6939)], leak_type::LATERAL)
    );
}

#[test]
fn reserved_and_private_asns_are_not_judged() {
    let mut t = jinx_rels();
    t.p2c(286, 64512).p2c(1299, 64512);
    let mut d = det(t);
    assert_eq!(d.check_path(&attrs("30844 286 64512 1299 3257")), None);
    assert!(d.stats().check.special_asn > 0);
    assert_eq!(
        d.check_path(&attrs("30844 286 23456 1299 3257")),
        None,
        "AS_TRANS"
    );
}

#[test]
fn short_paths_cannot_leak() {
    let mut d = det(jinx_rels());
    assert_eq!(d.check_path(&attrs("30844 286")), None);
    assert_eq!(d.check_path(&attrs("30844 30844 286 286")), None);
    assert_eq!(d.stats().check.short, 2);
}

fn with_otc(path: &str, otc: u32) -> PathAttrs {
    let mut a = (*attrs(path)).clone();
    a.otc = Some(Asn(otc));
    a
}

#[test]
fn otc_proves_the_edge_the_relationships_do_not_know() {
    // Telia set OTC when it sent the route to 34984; 34984 sent it on to its
    // provider KPN. Without the Telia-34984 edge the valley check is blind.
    let mut t = RelTable::new();
    t.parse_caida(
        include_str!("fixtures/leak/jinx-2015.as-rel.txt")
            .replace("1299|34984|-1", "")
            .as_str(),
    );
    let mut d = det(t);
    assert_eq!(d.check_path(&attrs(HAIRPIN)), None, "unknown edge, no OTC");
    let f = d.check_path(&with_otc(HAIRPIN, 1299)).expect("OTC leak");
    assert!(f.otc);
    assert_eq!(
        (f.seg(), f.leak_type),
        ([Asn(1299), Asn(34984), Asn(286)], leak_type::HAIRPIN)
    );
    assert_eq!(d.stats().check.otc_leaks, 1);
}

#[test]
fn otc_on_a_downhill_route_is_not_a_leak() {
    let mut d = det(jinx_rels());
    // KPN set OTC sending to its customer 34984, which sent it to its customer 48159.
    let p = with_otc("48159 34984 286 8447 16016", 286);
    assert_eq!(d.check_path(&p), None);
    // OTC set by the collector peer's neighbour: nothing after it to judge.
    assert_eq!(d.check_path(&with_otc("30844 286 34984 48159", 286)), None);
    // OTC naming an AS not on the path is ignored.
    assert_eq!(d.check_path(&with_otc("30844 286 34984 48159", 7)), None);
}

#[test]
fn runs_as_a_boxed_detector_over_shared_evidence() {
    use bgpsentry_core::detect::Detector;
    use bgpsentry_core::evidence::Evidence;
    let ev = Arc::new(Evidence::default());
    let d: Box<dyn Detector> = Box::new(LeakDetector::new(LeakConfig::default(), ev));
    drop(d);
}

#[test]
fn research_and_education_mesh_edges_are_not_checked() {
    // GÉANT (20965) → DFN (680) → Internet2 (11537), both "providers" of
    // DFN by the table: an R&E mesh, not a leak.
    let mut t = RelTable::new();
    t.p2c(20965, 680).p2c(11537, 680);
    let mut d = det(t.clone());
    assert_eq!(d.check_path(&attrs("11537 680 20965 1103")), None);
    assert_eq!(d.stats().check.research_education, 1);
    let off = CheckConfig {
        re_networks: vec![],
        ..CheckConfig::default()
    };
    let f = det_cfg(t, off)
        .check_path(&attrs("11537 680 20965 1103"))
        .expect("without the list it reads as a hairpin");
    assert_eq!(f.by, Asn(680));
}

#[test]
fn weak_edges_give_weak_hairpins_only() {
    let mut t = jinx_rels();
    t.insert(Asn(1299), Asn(34984), Rel::Provider, 0.5);
    let f = det(t.clone())
        .check_path(&attrs(HAIRPIN))
        .expect("a weak hairpin");
    assert!(f.weak);
    assert_eq!(f.leak_type, leak_type::HAIRPIN);
    // A weak peer edge gives nothing.
    let mut t = jinx_rels();
    t.insert(Asn(1299), Asn(34984), Rel::Peer, 0.5);
    assert_eq!(det(t).check_path(&attrs(HAIRPIN)), None);
}

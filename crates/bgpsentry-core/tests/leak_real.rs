//! The leak detector over real RouteViews paths
//! (`../shared/data/mrt/libbgpstream/routeviews.route-views.jinx.updates.1427846400.bz2`)
//! with the hand-written relationship fixture: the real stream is clean, and
//! real paths edited into leaks are found with the right segment and type.

mod leak_common;

use bgpsentry_core::detect::leak::{LeakConfig, LeakDetector};
use bgpsentry_core::model::{Asn, leak_type};
use leak_common::*;

const JINX: &str = "mrt/libbgpstream/routeviews.route-views.jinx.updates.1427846400.bz2";

#[test]
fn real_jinx_stream_raises_nothing_with_the_fixture() {
    let (msgs, peers) = read_mrt(JINX, "route-views.jinx");
    assert!(msgs.len() > 1000, "{} messages", msgs.len());
    let cfg = LeakConfig {
        min_peers: 1,
        ..LeakConfig::default()
    };
    let mut d = LeakDetector::new(cfg, jinx_rels());
    let changes = run(&mut d, &msgs, &peers);
    let s = d.stats();
    assert!(changes.is_empty(), "unexpected leak events: {changes:#?}");
    assert!(s.check.paths > 1000, "{s:?}");
    assert_eq!(s.check.leaks, 0);
    // Partial knowledge is the normal case: many triples were undecidable.
    assert!(s.check.unknown > 0, "{s:?}");
    // Real paths carry prepending and AS_SETs; neither raised anything.
    assert!(s.check.as_set > 0 || s.check.short > 0, "{s:?}");
}

/// Real paths from the file, and the leaks made from them.
#[test]
fn edited_real_paths_give_each_rfc7908_type() {
    let mut d = LeakDetector::new(LeakConfig::default(), jinx_rels());
    let cases: &[(&str, &str, [u32; 3], u8)] = &[
        // Real: 30844 286 34984 48159 (Tellcom under KPN). Multihome 34984 to
        // Telia and put it between its two providers: Telia → 34984 → KPN.
        (
            "30844 286 34984 48159",
            "30844 286 34984 1299 3257 26479 22051",
            [1299, 34984, 286],
            leak_type::HAIRPIN,
        ),
        // Real: 30844 6939 1299 209 721 27064 5972. HE passing Telia's route
        // to another peer of HE (NTT... here AS12956, a peer of HE).
        (
            "30844 6939 1299 209 721 27064 5972",
            "30844 12956 6939 1299 209 721 27064 5972",
            [1299, 6939, 12956],
            leak_type::LATERAL,
        ),
        // Telia (provider of 34984) → 34984 → AS9121 (a peer of 34984).
        (
            "30844 286 34984 12880",
            "30844 286 9121 34984 1299 3257 26479 22051",
            [1299, 34984, 9121],
            leak_type::PROVIDER_TO_PEER,
        ),
        // AS9121 (peer) → 34984 → KPN (provider).
        (
            "30844 286 34984 29399",
            "30844 286 34984 9121",
            [9121, 34984, 286],
            leak_type::PEER_TO_PROVIDER,
        ),
    ];
    for (real, edited, seg, ty) in cases {
        assert_eq!(
            d.check_path(&attrs(real)),
            None,
            "real path {real} is clean"
        );
        let f = d
            .check_path(&attrs(edited))
            .unwrap_or_else(|| panic!("{edited} leaks"));
        assert_eq!(f.seg(), seg.map(Asn), "{edited}");
        assert_eq!(f.leak_type, *ty, "{edited}");
        assert_eq!(f.by, Asn(seg[1]));
    }
}

/// The same fixture through the production loader and `Evidence` gives the
/// same verdicts as the test table.
#[test]
fn fixture_through_the_evidence_loader() {
    use bgpsentry_core::evidence::{AsRelationships, Evidence, read_asrel};
    let text = include_str!("fixtures/leak/jinx-2015.as-rel.txt");
    let mut asrel = AsRelationships::new();
    let report = read_asrel(
        std::io::Cursor::new(text.as_bytes().to_vec()),
        "fixture",
        &mut asrel,
    )
    .expect("load");
    assert_eq!(report.skipped, 0, "{report}");
    assert!(asrel.is_clique(Asn(1299)));
    let ev = Evidence {
        asrel,
        ..Evidence::default()
    };
    let mut a = LeakDetector::new(LeakConfig::default(), ev);
    let mut b = LeakDetector::new(LeakConfig::default(), jinx_rels());
    let (msgs, _) = read_mrt(JINX, "route-views.jinx");
    for m in &msgs {
        if let bgpsentry_core::model::RouteEvent::Update {
            attrs: Some(at), ..
        } = &m.event
        {
            assert_eq!(a.check_path(at), b.check_path(at), "{}", at.as_path);
        }
    }
    for p in [
        "30844 286 34984 1299 3257 26479 22051",
        "30844 286 34984 9121",
        "30844 12956 6939 1299 209",
    ] {
        let fa = a.check_path(&attrs(p));
        assert!(fa.is_some(), "{p}");
        assert_eq!(fa, b.check_path(&attrs(p)));
    }
    assert_eq!(a.stats().check, b.stats().check);
}

//! AS relationship inference on real BGP data: the 12 hours of RouteViews
//! updates around the YouTube / Pakistan Telecom hijack (24 Feb 2008),
//! checked against relationships that are public knowledge (see
//! `docs/evidence.md` for the sources and the measured agreement).

#![allow(clippy::unwrap_used)]

use std::fs::File;

use bgpsentry_core::evidence::{AsRelInference, AsRelationships, Relationship};
use bgpsentry_core::model::Asn;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/mrt/incident-youtube-2008"
);

/// Tier-1 (transit-free) networks of early 2008: Wikipedia "Tier 1 network"
/// (revisions of 2008) and Norton, "The Internet Peering Playbook" (2011):
/// AT&T, Verizon Business (UUNET), Sprint, Level 3, Qwest, Global Crossing,
/// NTT, TeliaSonera, Tata (Teleglobe), Savvis.
const TIER1: [u32; 10] = [7018, 701, 1239, 3356, 209, 3549, 2914, 1299, 6453, 3561];

fn infer_all() -> (AsRelInference, AsRelationships) {
    let mut files: Vec<_> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bz2"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 48);
    let mut inf = AsRelInference::new();
    for f in &files {
        inf.observe_mrt(File::open(f).unwrap()).unwrap();
    }
    let rels = inf.infer();
    (inf, rels)
}

#[test]
fn inference_agrees_with_public_knowledge() {
    let (inf, t) = infer_all();
    let s = inf.stats();
    eprintln!("{s:?}; {} edges; clique {:?}", t.len(), t.clique());

    let rel = |a: u32, b: u32| t.rel(Asn(a), Asn(b));

    // 1. Tier-1 pairs that are visible in the data are peers.
    let (mut pairs, mut p2p) = (0, 0);
    for (i, &a) in TIER1.iter().enumerate() {
        for &b in &TIER1[i + 1..] {
            if let Some(r) = rel(a, b) {
                pairs += 1;
                if r.rel == Relationship::Peer {
                    p2p += 1;
                } else {
                    eprintln!("tier-1 pair {a}-{b}: {r:?}");
                }
            }
        }
    }
    // 2. Tier-1s buy no transit: never a customer of anyone.
    let (mut t1_edges, mut t1_ok) = (0, 0);
    for (a, b, info) in t.iter() {
        for (x, r) in [(a, info.rel), (b, info.rel.flip())] {
            if TIER1.contains(&x.0) && !TIER1.contains(&if x == a { b } else { a }.0) {
                t1_edges += 1;
                if r != Relationship::Customer {
                    t1_ok += 1;
                }
            }
        }
    }
    // 3. Clique agreement.
    let clique: Vec<u32> = t.clique().iter().map(|a| a.0).collect();
    let in_both = clique.iter().filter(|a| TIER1.contains(a)).count();
    eprintln!(
        "tier-1 pairs p2p: {p2p}/{pairs}; tier-1 edges with tier-1 not customer: {t1_ok}/{t1_edges}; \
         clique {in_both}/{} inferred members are tier-1, {in_both}/{} tier-1 found",
        clique.len(),
        TIER1.len()
    );
    // 4. The incident's own relationships (RIPE NCC RIS case study, 2008):
    // Pakistan Telecom is a customer of PCCW Global; YouTube is a stub.
    let pk = rel(17557, 3491).unwrap();
    eprintln!("17557 -> 3491: {pk:?}");
    let youtube_customers: Vec<(Asn, Asn)> = t
        .iter()
        .filter(|&(a, b, i)| {
            (a.0 == 36561 && i.rel == Relationship::Provider)
                || (b.0 == 36561 && i.rel == Relationship::Customer)
        })
        .map(|(a, b, _)| (a, b))
        .collect();
    let yt: Vec<_> = t
        .iter()
        .filter(|&(a, b, _)| a.0 == 36561 || b.0 == 36561)
        .map(|(a, b, i)| {
            if a.0 == 36561 {
                (b, i.rel.flip())
            } else {
                (a, i.rel)
            }
        })
        .collect();
    eprintln!("YouTube neighbours (what they are to 36561): {yt:?}");

    assert_eq!(pk.rel, Relationship::Customer);
    assert!(youtube_customers.is_empty(), "{youtube_customers:?}");
    assert!(p2p * 10 >= pairs * 9, "{p2p}/{pairs}");
    assert!(t1_ok * 100 >= t1_edges * 95, "{t1_ok}/{t1_edges}");
    assert!(in_both * 10 >= TIER1.len() * 7);
}

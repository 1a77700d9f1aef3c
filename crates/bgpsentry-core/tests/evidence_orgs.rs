//! Organisations from the real CAIDA as2org files of 2008 and 2021 and the
//! pyasn AS-name list: the answers `asn_info` and the sibling tag give.

#![allow(clippy::unwrap_used)]

use std::fs::File;

use bgpsentry_core::evidence::{OrgTable, read_as2org, read_asnames};
use bgpsentry_core::model::Asn;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/as2org");

fn load(name: &str) -> OrgTable {
    let mut t = OrgTable::new();
    let path = format!("{DIR}/{name}");
    let r = read_as2org(File::open(&path).unwrap(), &path, &mut t).unwrap();
    assert_eq!(r.skipped, 0, "{:?}", r.problems);
    t
}

#[test]
fn as2org_2008_knows_the_incident_parties() {
    let t = load("20080402.as-org2info.jsonl.gz");
    // 42,178 ASN records, 15 of them repeat an ASN.
    assert_eq!(t.len(), 42_163);
    assert_eq!(t.org_name(Asn(36561)), Some("YouTube, Inc."));
    assert_eq!(t.country(Asn(36561)), Some("US"));
    assert_eq!(t.name(Asn(36561)), Some("YOUTUBE"));
    assert_eq!(t.country(Asn(17557)), Some("PK"));
    assert_eq!(t.org_name(Asn(17557)), Some("Pakistan Telecom"));
    assert_eq!(t.org_id(Asn(3491)), Some("BNA-42-ARIN"));
    // UUNET's ASes are one organisation; the hijacker and victim are not.
    assert!(t.siblings(Asn(701), Asn(702)));
    assert!(!t.siblings(Asn(36561), Asn(17557)));
    assert!(
        !t.siblings(Asn(36561), Asn(15169)),
        "Google bought YouTube, but not in the 2008 registry"
    );
}

#[test]
fn as2org_2021_groups_google_and_youtube() {
    let t = load("20211001.as-org2info.jsonl.gz");
    assert!(t.siblings(Asn(15169), Asn(36040)));
    assert_eq!(t.country(Asn(15169)), Some("US"));
}

#[test]
fn asnames_fill_names_and_countries() {
    let mut t = load("20080402.as-org2info.jsonl.gz");
    let path = format!("{DIR}/pyasn-asnames.json.gz");
    let r = read_asnames(File::open(&path).unwrap(), &path, &mut t).unwrap();
    assert_eq!(r.accepted, 77_586);
    assert_eq!(
        t.name(Asn(17557)),
        Some("PKTELECOM-AS-PK Pakistan Telecommunication Company Limited")
    );
    // The organisation's country wins over the name list's.
    assert_eq!(t.country(Asn(36561)), Some("US"));
}

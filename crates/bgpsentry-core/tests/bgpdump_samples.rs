//! Every file under `shared/data/mrt/` goes through the whole `dump` path
//! (`decompress` → `RecordReader` → bgpkit → `Printer`) without a panic, and
//! the damage each one reports is exactly what was measured: the truncated
//! pyasn RIBs deliver every record before the cut and then one damage
//! report; the lab samples with record types bgpkit cannot decode report
//! those records and nothing else.

use std::fs::File;
use std::path::{Path, PathBuf};

use bgpsentry_core::mrt::bgpdump::Printer;
use bgpsentry_core::mrt::{DamageKind, RecordReader, decompress};

const MRT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/mrt");

#[derive(Debug, Default, PartialEq, Eq)]
struct Outcome {
    /// Records framed and decoded.
    records: u64,
    /// Records framed but not decodable by bgpkit.
    undecodable: u64,
    /// Damage reports from the reader, by reason.
    damage: Vec<String>,
    /// Lines printed.
    lines: u64,
    /// Byte offset of the last damage report.
    last_damage_at: Option<u64>,
}

fn run(path: &Path) -> Outcome {
    let f = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (_, r) = decompress(f).expect("open");
    let mut p = Printer::new();
    let mut o = Outcome::default();
    let mut out = Vec::new();
    for item in RecordReader::new(r) {
        match item {
            Ok(fr) => match fr.raw.parse() {
                Ok(rec) => {
                    o.records += 1;
                    out.clear();
                    p.write_record(&rec, &mut out);
                    o.lines += out.iter().filter(|&&b| b == b'\n').count() as u64;
                }
                Err(_) => o.undecodable += 1,
            },
            Err(d) => {
                o.last_damage_at = Some(d.offset);
                o.damage.push(match d.kind {
                    DamageKind::Truncated { .. } => "truncated".into(),
                    DamageKind::Io(_) => "io".into(),
                    k => k.reason(),
                });
            }
        }
    }
    o
}

fn files(dir: &Path, acc: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, acc);
        } else {
            acc.push(p);
        }
    }
}

/// (path under mrt/, records decoded, undecodable, damage reasons, lines printed).
/// Line counts equal Debian bgpdump 1.6.2's except the two bird `*_bgp`
/// files (Add-Path data under plain subtypes, see docs/bgpdump-compat.md D2).
const EXPECTED: &[(&str, u64, u64, &[&str], u64)] = &[
    ("bgpkit/updates.bz2", 85, 0, &[], 268),
    (
        "libbgpstream/ris.rrc06.updates.1427846400.gz",
        795,
        0,
        &[],
        1561,
    ),
    (
        "libbgpstream/routeviews.route-views.jinx.updates.1427846400.bz2",
        1756,
        0,
        &[],
        8611,
    ),
    ("mrtparse-samples/bird-mrtdump_bgp", 27, 0, &[], 24),
    ("mrtparse-samples/bird-mrtdump_rib", 14, 0, &[], 18),
    ("mrtparse-samples/bird6-mrtdump_bgp", 27, 0, &[], 24),
    ("mrtparse-samples/bird6-mrtdump_rib", 9, 0, &[], 10),
    ("mrtparse-samples/bird6_bgp", 29, 0, &[], 26),
    ("mrtparse-samples/bird_bgp", 29, 0, &[], 26),
    ("mrtparse-samples/openbgpd_bgp", 87, 0, &[], 109),
    ("mrtparse-samples/openbgpd_rib_table", 31, 0, &[], 31),
    // BGP4MP_ENTRY (deprecated subtype 2): bgpkit cannot decode it, bgpdump prints nothing.
    ("mrtparse-samples/openbgpd_rib_table-mp", 0, 31, &[], 0),
    // 2 RIB_GENERIC records: not decoded by bgpkit, not printed by bgpdump.
    ("mrtparse-samples/openbgpd_rib_table-v2", 22, 2, &[], 31),
    ("mrtparse-samples/quagga_bgp", 67, 0, &[], 38),
    ("mrtparse-samples/quagga_rib", 7, 0, &[], 9),
    // RIB entries before any PEER_INDEX_TABLE: bgpdump prints nothing.
    ("pyasn-ribs/bview.20140112.1600_3samples.bz2", 3, 0, &[], 0),
    // Real RIBs cut after 1 MB of bzip2: every record before the cut, then one truncation.
    (
        "pyasn-ribs/rib.20080501.0644_firstMB.bz2",
        139_291,
        0,
        &["truncated"],
        139_291,
    ),
    (
        "pyasn-ribs/rib.20140523.0600_firstMB.bz2",
        9_073,
        0,
        &["truncated"],
        270_005,
    ),
    (
        "pyasn-ribs/rib6.20151101.0600_firstMB.bz2",
        6_871,
        0,
        &["truncated"],
        149_578,
    ),
    (
        "ripe-bgpdump-testdata/bview.20020722.2337.gz",
        115_521,
        0,
        &[],
        115_521,
    ),
    (
        "ripe-bgpdump-testdata/bview.64k_stream_overflow.gz",
        2,
        0,
        &[],
        23,
    ),
    (
        "ripe-bgpdump-testdata/bview.ipv4_unicast_add_path.gz",
        32,
        0,
        &[],
        62,
    ),
    (
        "ripe-bgpdump-testdata/bview.ipv6_unicast_add_path.gz",
        32,
        0,
        &[],
        62,
    ),
    (
        "ripe-bgpdump-testdata/updates.20020722.2238.gz",
        1121,
        0,
        &[],
        3337,
    ),
    (
        "ripe-bgpdump-testdata/updates.20070211.0141.gz",
        23_394,
        0,
        &[],
        53_657,
    ),
    (
        "ripe-bgpdump-testdata/updates.20071015.1505.gz",
        4297,
        0,
        &[],
        10_496,
    ),
    (
        "ripe-bgpdump-testdata/updates.20100722.2015.gz",
        2193,
        0,
        &[],
        5654,
    ),
    (
        "ripe-bgpdump-testdata/updates.20160811.1600.gz",
        17_406,
        0,
        &[],
        41_234,
    ),
    (
        "ripe-bgpdump-testdata/updates.et-header.2015.gz",
        89_686,
        0,
        &[],
        577_744,
    ),
    (
        "ripe-bgpdump-testdata/updates.long_withdrawal.gz",
        1,
        0,
        &[],
        4096,
    ),
    (
        "ripe-bgpdump-testdata/updates.nlri_mask_trailing_bits.gz",
        1,
        0,
        &[],
        1,
    ),
];

fn check(o: &Outcome, rel: &str) {
    if rel.starts_with("ripe-bgpdump-testdata/expected-bgpdump-output/") {
        // Text, not MRT: skipped as garbage, nothing decoded, no panic.
        assert_eq!((o.records, o.lines), (0, 0), "{rel}");
        assert_eq!(o.damage, vec!["garbage bytes skipped".to_string()], "{rel}");
        return;
    }
    let Some(&(_, records, undecodable, damage, lines)) = EXPECTED.iter().find(|e| e.0 == rel)
    else {
        panic!("{rel}: no expectation recorded");
    };
    assert_eq!(
        (
            o.records,
            o.undecodable,
            o.damage.iter().map(String::as_str).collect::<Vec<_>>(),
            o.lines
        ),
        (records, undecodable, damage.to_vec(), lines),
        "{rel}: (records, undecodable, damage, lines)"
    );
}

fn all_files() -> Vec<(String, PathBuf)> {
    let mut all = Vec::new();
    files(Path::new(MRT), &mut all);
    all.into_iter()
        .map(|p| {
            (
                p.strip_prefix(MRT)
                    .expect("under mrt")
                    .to_string_lossy()
                    .to_string(),
                p,
            )
        })
        .collect()
}

#[test]
fn every_sample_file_decodes_with_the_measured_damage() {
    let all = all_files();
    assert!(
        all.len() >= 80,
        "expected the whole shared MRT set, found {}",
        all.len()
    );
    for (rel, p) in all
        .iter()
        .filter(|(r, _)| !r.starts_with("incident-youtube-2008/"))
    {
        check(&run(p), rel);
    }
}

#[test]
fn youtube_2008_prints_every_bgpdump_line() {
    let (mut records, mut lines) = (0, 0);
    for (rel, p) in all_files()
        .iter()
        .filter(|(r, _)| r.starts_with("incident-youtube-2008/"))
    {
        let o = run(p);
        assert!(o.damage.is_empty() && o.undecodable == 0, "{rel}: {o:?}");
        records += o.records;
        lines += o.lines;
    }
    // SOURCES.md: 1,304,348 records; `bgpdump -m` prints 3,165,996 lines.
    assert_eq!((records, lines), (1_304_348, 3_165_996));
}

#[test]
fn truncated_rib_reports_the_offset_of_the_cut_record() {
    let o = run(&Path::new(MRT).join("pyasn-ribs/rib.20080501.0644_firstMB.bz2"));
    assert_eq!(o.last_damage_at, Some(9_876_131));
}

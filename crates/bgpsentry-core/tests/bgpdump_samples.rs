//! Every file under `shared/data/mrt/` goes through the whole `dump` path
//! (`decompress` → `RecordReader` → bgpkit, with the salvage of truncated
//! UPDATEs → `Printer`) without a panic, and the damage each one reports is
//! exactly what was measured and recorded in `fixtures/mrt_samples.tsv`: the
//! truncated pyasn RIBs deliver every record before the cut and then one
//! damage report; the lab samples with record types bgpkit cannot decode
//! report those records and nothing else; the ordinary route-views2 days
//! print every line `bgpdump -m` prints, the UPDATEs the collector wrote
//! truncated counted as partial damage.
//!
//! A file that appears under `shared/data/mrt/` without a recorded row is a
//! new data point, not a failure: it must decode without a panic, and the test
//! prints the row to record.

use std::fs::File;
use std::path::{Path, PathBuf};

use bgpsentry_core::mrt::bgpdump::Printer;
use bgpsentry_core::mrt::{DamageKind, RecordReader, decompress, parse_record};

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
            Ok(fr) => match parse_record(fr.raw) {
                Ok((rec, salvaged)) => {
                    if salvaged.is_some() {
                        o.last_damage_at = Some(fr.offset);
                        o.damage.push("partial".into());
                    }
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

/// The recorded expectations: one row per file under `shared/data/mrt/`
/// (path, records decoded, undecodable, damage, lines printed, note).
const EXPECTATIONS: &str = include_str!("fixtures/mrt_samples.tsv");
const EXPECTATIONS_PATH: &str = "crates/bgpsentry-core/tests/fixtures/mrt_samples.tsv";

/// The damage reasons in order, runs of the same reason written `reason*N`.
fn damage_column(damage: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < damage.len() {
        let run = damage[i..].iter().take_while(|d| **d == damage[i]).count();
        out.push(if run == 1 {
            damage[i].clone()
        } else {
            format!("{}*{run}", damage[i])
        });
        i += run;
    }
    if out.is_empty() {
        "-".into()
    } else {
        out.join(";")
    }
}

/// The row this outcome would be recorded as.
fn row(rel: &str, o: &Outcome) -> String {
    format!(
        "{rel}\t{}\t{}\t{}\t{}",
        o.records,
        o.undecodable,
        damage_column(&o.damage),
        o.lines
    )
}

/// path -> the first five columns of its recorded row.
fn expectations() -> std::collections::BTreeMap<String, String> {
    EXPECTATIONS
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert!(cols.len() >= 5, "{EXPECTATIONS_PATH}: bad row {l:?}");
            (cols[0].to_string(), cols[..5].join("\t"))
        })
        .collect()
}

/// Decodes every file under `shared/data/mrt/` whose relative path passes
/// `select`, compares it with its recorded row and fails on any difference.
/// A file with no recorded row is a new data point, not a failure: it must
/// decode without a panic (its damage is counted), and its row is printed so
/// it can be recorded.
fn check_files(select: impl Fn(&str) -> bool) -> Vec<Outcome> {
    let expected = expectations();
    let mut mismatches = Vec::new();
    let mut checked = Vec::new();
    for (rel, p) in all_files().iter().filter(|(r, _)| select(r)) {
        if rel.starts_with("ripe-bgpdump-testdata/expected-bgpdump-output/") {
            // Text, not MRT: skipped as garbage, nothing decoded, no panic.
            let o = run(p);
            assert_eq!((o.records, o.lines), (0, 0), "{rel}");
            assert_eq!(o.damage, vec!["garbage bytes skipped".to_string()], "{rel}");
            continue;
        }
        let outcome = run(p);
        let got = row(rel, &outcome);
        checked.push(outcome);
        match expected.get(rel) {
            Some(want) if *want == got => {}
            Some(want) => mismatches.push(format!("  recorded: {want}\n  decoded:  {got}")),
            None => eprintln!(
                "new MRT file (decoded without a panic; record it in {EXPECTATIONS_PATH}):\n{got}"
            ),
        }
    }
    let present: std::collections::BTreeSet<String> =
        all_files().into_iter().map(|(r, _)| r).collect();
    for rel in expected.keys().filter(|r| select(r)) {
        if !present.contains(rel) {
            mismatches.push(format!(
                "  recorded but missing from shared/data/mrt: {rel}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} file(s) differ from {EXPECTATIONS_PATH} (records, undecodable, damage, lines):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    checked
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
    let checked = check_files(|r| {
        !r.starts_with("incident-youtube-2008/") && !r.starts_with("routeviews-2008-ordinary/")
    });
    assert!(
        checked.len() >= 30,
        "expected the shared MRT samples, found {}",
        checked.len()
    );
}

/// The two ordinary days of route-views2 (SOURCES.md 1b): every file as
/// recorded, including the UPDATEs the collector wrote truncated (each one
/// partial damage whose whole prefixes are still printed, as bgpdump does),
/// and in total exactly the lines `bgpdump -m` prints.
fn ordinary_day(day: &str, bgpdump_lines: u64, partial: usize) {
    let prefix = format!("routeviews-2008-ordinary/{day}/");
    let checked = check_files(|r| r.starts_with(&prefix));
    assert!(checked.len() >= 94, "{day}: {} files", checked.len());
    let lines: u64 = checked.iter().map(|o| o.lines).sum();
    let partials = checked
        .iter()
        .flat_map(|o| &o.damage)
        .filter(|d| *d == "partial")
        .count();
    assert_eq!((lines, partials), (bgpdump_lines, partial), "{day}");
}

#[test]
fn ordinary_day_20080220_prints_every_bgpdump_line() {
    // SOURCES.md 1b: 11,220,392 announcements + 1,264,725 withdrawals; 61 UPDATEs
    // written truncated inside their withdrawals (36 more are cut inside their
    // NLRI, which bgpkit already decodes up to the cut: not damage).
    ordinary_day("20080220", 11_220_392 + 1_264_725, 61);
}

#[test]
fn ordinary_day_20080221_prints_every_bgpdump_line() {
    // SOURCES.md 1b: 8,860,234 announcements + 1,045,413 withdrawals; 33 UPDATEs
    // written truncated inside their withdrawals (20 more cut inside their NLRI).
    ordinary_day("20080221", 8_860_234 + 1_045_413, 33);
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

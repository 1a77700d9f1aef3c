//! Building one evidence snapshot from [`EvidenceArgs`]. The four kinds of
//! dataset load in parallel threads; the snapshot is returned only when
//! every named source loaded and yielded records, so a caller never swaps
//! in something half-built. Skipped malformed records are logged (first
//! few, with file and line) and returned in the reports.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bgpsentry_core::evidence::{
    AsRelationships, Evidence, IrrTable, LoadReport, OrgTable, RpkiTable, read_as2org,
    read_asnames, read_asrel, read_rpsl, read_vrps,
};

use super::args::EvidenceArgs;
use super::fetch::open;

/// A snapshot and how it was made.
#[derive(Debug)]
pub struct Loaded {
    pub evidence: Evidence,
    pub reports: Vec<LoadReport>,
    pub elapsed: Duration,
}

/// Load everything `args` names into a fresh snapshot.
pub fn load(args: &EvidenceArgs) -> anyhow::Result<Evidence> {
    Ok(load_with_reports(args)?.evidence)
}

/// IRR database name from a dump's file name: `radb.db.gz` → `RADB`,
/// `ripe.db.route6.gz` → `RIPE`.
pub fn irr_source_name(src: &str) -> String {
    let base = src.rsplit(['/', '\\']).next().unwrap_or(src);
    let stem = base.split('.').next().unwrap_or(base);
    if stem.is_empty() {
        "IRR".to_string()
    } else {
        stem.to_ascii_uppercase()
    }
}

fn check(report: LoadReport) -> anyhow::Result<LoadReport> {
    for p in report.problems.iter().take(5) {
        tracing::warn!("{p}");
    }
    if report.skipped > 0 {
        tracing::warn!("{report}");
    } else {
        tracing::info!("{report}");
    }
    if report.accepted == 0 {
        bail!(
            "{}: no usable records ({} malformed)",
            report.source,
            report.skipped
        );
    }
    Ok(report)
}

fn load_rpki(args: &EvidenceArgs) -> anyhow::Result<(RpkiTable, Vec<LoadReport>)> {
    let mut t = RpkiTable::new();
    let mut reports = Vec::new();
    for src in &args.rpki {
        let r = open(src, args.timeout())?;
        reports.push(check(read_vrps(r, src, &mut t)?)?);
    }
    Ok((t, reports))
}

fn load_irr(args: &EvidenceArgs) -> anyhow::Result<(IrrTable, Vec<LoadReport>)> {
    let mut t = IrrTable::new();
    let mut reports = Vec::new();
    for src in &args.irr {
        let r = open(src, args.timeout())?;
        reports.push(check(read_rpsl(r, src, &irr_source_name(src), &mut t)?)?);
    }
    Ok((t, reports))
}

fn load_asrel(args: &EvidenceArgs) -> anyhow::Result<(AsRelationships, Vec<LoadReport>)> {
    let mut t = AsRelationships::new();
    let mut reports = Vec::new();
    if let Some(src) = &args.asrel {
        let r = open(src, args.timeout())?;
        reports.push(check(read_asrel(r, src, &mut t)?)?);
    }
    Ok((t, reports))
}

fn load_orgs(args: &EvidenceArgs) -> anyhow::Result<(OrgTable, Vec<LoadReport>)> {
    let mut t = OrgTable::new();
    let mut reports = Vec::new();
    if let Some(src) = &args.as2org {
        let r = open(src, args.timeout())?;
        reports.push(check(read_as2org(r, src, &mut t)?)?);
    }
    if let Some(src) = &args.asnames {
        let r = open(src, args.timeout())?;
        reports.push(check(read_asnames(r, src, &mut t)?)?);
    }
    Ok((t, reports))
}

fn join<T>(
    h: std::thread::ScopedJoinHandle<'_, anyhow::Result<T>>,
    what: &str,
) -> anyhow::Result<T> {
    match h.join() {
        Ok(r) => r.with_context(|| format!("loading {what}")),
        Err(_) => bail!("loading {what}: loader thread panicked"),
    }
}

/// Load everything `args` names, with the per-source reports.
pub fn load_with_reports(args: &EvidenceArgs) -> anyhow::Result<Loaded> {
    let start = Instant::now();
    let (rpki, irr, asrel, orgs) = std::thread::scope(|s| {
        let rpki = s.spawn(|| load_rpki(args));
        let irr = s.spawn(|| load_irr(args));
        let asrel = s.spawn(|| load_asrel(args));
        let orgs = s.spawn(|| load_orgs(args));
        (
            join(rpki, "RPKI"),
            join(irr, "IRR"),
            join(asrel, "AS relationships"),
            join(orgs, "organisations"),
        )
    });
    let (rpki, mut reports) = rpki?;
    let (irr, r) = irr?;
    reports.extend(r);
    let (asrel, r) = asrel?;
    reports.extend(r);
    let (orgs, r) = orgs?;
    reports.extend(r);
    let evidence = Evidence {
        rpki,
        irr,
        asrel,
        orgs,
        ..Evidence::default()
    };
    Ok(Loaded {
        evidence,
        reports,
        elapsed: start.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn irr_names() {
        assert_eq!(irr_source_name("/x/radb.db.gz"), "RADB");
        assert_eq!(
            irr_source_name("https://ftp.ripe.net/ripe/dbase/split/ripe.db.route6.gz"),
            "RIPE"
        );
    }
}

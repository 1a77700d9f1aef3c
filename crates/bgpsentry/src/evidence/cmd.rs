//! `bgpsentry evidence ...`: operator tools over the evidence.
//!
//! * `check PREFIX ASN` — every verdict for one announcement, with the
//!   VRPs and route objects that decided it, the organisation of the AS and
//!   its relationship to the origins given with `--origin`.
//! * `infer-asrel INPUT... -o FILE` — infer AS relationships from MRT
//!   files / URLs and write them in CAIDA serial-1 format.
//! * `bench` — full-size synthetic load and lookup benchmark.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use bgpsentry_core::evidence::{AsRelInference, Evidence, IrrState, RovState};
use bgpsentry_core::model::Asn;
use clap::{Args, Subcommand};
use ipnet::IpNet;
use serde_json::json;

use super::args::EvidenceArgs;
use super::fetch::open;
use super::load::load_with_reports;

/// `bgpsentry evidence`.
#[derive(Debug, Args)]
pub struct EvidenceCmdArgs {
    #[command(subcommand)]
    pub cmd: EvidenceCmd,
}

/// Evidence subcommands.
#[derive(Debug, Subcommand)]
pub enum EvidenceCmd {
    /// Explain RPKI, IRR, relationship and organisation verdicts for PREFIX announced by ASN.
    Check(CheckArgs),
    /// Infer AS relationships (CAIDA AS-Rank) from MRT files or URLs; write CAIDA serial-1.
    InferAsrel(InferArgs),
    /// Benchmark loading and lookups at full size on synthetic data.
    Bench(super::bench::BenchArgs),
}

/// `bgpsentry evidence check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The announced prefix, e.g. 208.65.153.0/24.
    pub prefix: IpNet,
    /// The announcing (origin) AS, e.g. AS17557.
    pub asn: Asn,
    /// Other origin(s) of the prefix (e.g. the expected one) to relate ASN to.
    #[arg(long = "origin", value_name = "ASN")]
    pub origins: Vec<Asn>,
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `bgpsentry evidence infer-asrel`.
#[derive(Debug, Args)]
pub struct InferArgs {
    /// MRT files, directories (every file inside) or http(s) URLs (RIB dumps or updates; raw, gzip, bzip2).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Where to write the relationships (CAIDA serial-1).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Give up on a URL that sends nothing for this many seconds.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub timeout: u64,
}

/// Run `bgpsentry evidence ...`; returns the exit code.
pub fn run(args: &EvidenceCmdArgs) -> anyhow::Result<i32> {
    match &args.cmd {
        EvidenceCmd::Check(a) => check(a),
        EvidenceCmd::InferAsrel(a) => infer(a),
        EvidenceCmd::Bench(a) => super::bench::run(a),
    }
}

fn rov_words(s: RovState) -> &'static str {
    match s {
        RovState::Valid => "valid",
        RovState::InvalidAsn => "invalid (no VRP for this origin AS)",
        RovState::InvalidLength => "invalid (longer than the VRP's maxLength)",
        RovState::NotFound => "not found (no VRP covers the prefix)",
    }
}

fn irr_words(s: IrrState) -> &'static str {
    match s {
        IrrState::Valid => "valid (a route object names this origin)",
        IrrState::Invalid => "invalid (route objects cover the prefix, none with this origin)",
        IrrState::Unknown => "unknown (no route object covers the prefix)",
    }
}

/// The verdicts for one (prefix, origin) as JSON.
pub fn explain(e: &Evidence, prefix: &IpNet, asn: Asn, others: &[Asn]) -> serde_json::Value {
    let rov = e.rpki.validate(prefix, asn);
    let irr = e.irr.check(prefix, asn);
    let asinfo = |a: Asn| {
        json!({
            "asn": a.0,
            "name": e.orgs.name(a),
            "org_id": e.orgs.org_id(a),
            "org_name": e.orgs.org_name(a),
            "country": e.orgs.country(a),
            "bogon": e.bogons.asn_reason(a),
            "private": e.bogons.asn_is_private(a),
            "clique": e.asrel.is_clique(a),
        })
    };
    let relations: Vec<serde_json::Value> = others
        .iter()
        .map(|&o| {
            let rel = e.asrel.rel(asn, o);
            json!({
                "other": asinfo(o),
                "relationship": rel.map(|r| r.rel.as_str()),
                "confidence": rel.map(|r| r.confidence),
                "siblings": e.orgs.siblings(asn, o),
                "other_rpki": e.rpki.validate(prefix, o).radar_word(),
                "other_irr": e.irr.check(prefix, o).radar_word(),
            })
        })
        .collect();
    json!({
        "prefix": prefix.to_string(),
        "origin": asinfo(asn),
        "prefix_bogon": e.bogons.prefix_reason(prefix),
        "rpki": {
            "state": format!("{rov:?}"),
            "radar": rov.radar_word(),
            "explanation": rov_words(rov),
            "vrps": e.rpki.covering(prefix).iter().map(|v| json!({
                "prefix": v.prefix.to_string(), "max_length": v.max_len, "asn": v.asn.0,
            })).collect::<Vec<_>>(),
        },
        "irr": {
            "state": format!("{irr:?}"),
            "radar": irr.radar_word(),
            "explanation": irr_words(irr),
            "route_objects": e.irr.covering(prefix).iter().map(|o| json!({
                "prefix": o.prefix.to_string(), "origin": o.origin.0, "source": o.source,
            })).collect::<Vec<_>>(),
        },
        "relations": relations,
    })
}

fn check(a: &CheckArgs) -> anyhow::Result<i32> {
    let loaded = load_with_reports(&a.evidence)?;
    let v = explain(&loaded.evidence, &a.prefix, a.asn, &a.origins);
    if a.json {
        println!("{v}");
        return Ok(0);
    }
    let e = &loaded.evidence;
    let who = |x: Asn| {
        let mut s = format!("AS{x}");
        if let Some(n) = e.orgs.name(x) {
            s += &format!(" {n}");
        }
        if let Some(o) = e.orgs.org_name(x) {
            s += &format!(" [{o}]");
        }
        if let Some(c) = e.orgs.country(x) {
            s += &format!(" ({c})");
        }
        s
    };
    println!("{} originated by {}", a.prefix, who(a.asn));
    if let Some(why) = e.bogons.prefix_reason(&a.prefix) {
        println!("  BOGON prefix: {why}");
    }
    if let Some(why) = e.bogons.asn_reason(a.asn) {
        println!("  BOGON origin: {why}");
    }
    let rov = e.rpki.validate(&a.prefix, a.asn);
    println!("RPKI: {}  ({} VRPs loaded)", rov_words(rov), e.rpki.len());
    for v in e.rpki.covering(&a.prefix) {
        println!("  VRP {} maxLength {} AS{}", v.prefix, v.max_len, v.asn);
    }
    let irr = e.irr.check(&a.prefix, a.asn);
    println!(
        "IRR:  {}  ({} route objects loaded)",
        irr_words(irr),
        e.irr.len()
    );
    for o in e.irr.covering(&a.prefix) {
        println!(
            "  {} {} AS{} source {}",
            if o.prefix.addr().is_ipv4() {
                "route "
            } else {
                "route6"
            },
            o.prefix,
            o.origin,
            o.source
        );
    }
    for &o in &a.origins {
        let rel = match e.asrel.rel(a.asn, o) {
            Some(r) => format!(
                "AS{} is a {} of AS{o} (confidence {:.2})",
                a.asn,
                r.rel.as_str(),
                r.confidence
            ),
            None => format!("no known relationship between AS{} and AS{o}", a.asn),
        };
        println!(
            "vs {}: {rel}{}",
            who(o),
            if e.orgs.siblings(a.asn, o) {
                "; SIBLINGS (same organisation)"
            } else {
                ""
            }
        );
        println!(
            "  AS{o} for this prefix: RPKI {}, IRR {}",
            e.rpki.validate(&a.prefix, o).radar_word(),
            e.irr.check(&a.prefix, o).radar_word()
        );
    }
    Ok(0)
}

fn infer(a: &InferArgs) -> anyhow::Result<i32> {
    let start = Instant::now();
    let mut inf = AsRelInference::new();
    let timeout = std::time::Duration::from_secs(a.timeout.max(1));
    let inputs = crate::ingest::inputs::expand(&a.inputs)?;
    for input in &inputs {
        let src = &input.name();
        let r = open(src, timeout)?;
        let n = inf
            .observe_mrt(r)
            .with_context(|| format!("reading {src}"))?;
        tracing::info!(input = %src, paths = n, "observed");
    }
    let rels = inf.infer();
    let s = inf.stats();
    let file = std::fs::File::create(&a.output)
        .with_context(|| format!("creating {}", a.output.display()))?;
    let mut w = BufWriter::new(file);
    let comment = format!(
        "inferred by bgpsentry {} (CAIDA AS-Rank, see docs/evidence.md)\n\
         paths observed {} unique {} rejected: short {} loop {} reserved-ASN {} long {} over-cap {}",
        env!("CARGO_PKG_VERSION"),
        s.observed,
        s.unique,
        s.rejected_short,
        s.rejected_loop,
        s.rejected_bogon,
        s.rejected_long,
        s.dropped_over_cap
    );
    rels.write_serial1(&mut w, &comment)?;
    w.flush()?;
    eprintln!(
        "{} relationships, clique of {}, from {} unique paths in {:.1}s -> {}",
        rels.len(),
        rels.clique().len(),
        s.unique,
        start.elapsed().as_secs_f64(),
        a.output.display()
    );
    Ok(0)
}

//! `bgpsentry eval`: the detection-quality benchmark. Each scenario is
//! simulated, its MRT output replayed through the same detectors `replay`
//! and `run` build (`detectors::build`, with any detector option given on
//! the command line), bootstrapped from the simulated RIB, with the
//! simulated RPKI and IRR registries and the true AS relationships or —
//! `--infer-relationships` — relationships inferred from the RIB's paths.
//! The events are scored against `truth.json`:
//! precision, recall and F1 per type, hijack confidence buckets, detection
//! delay and false alarms per simulated day (see `bgpsentry_sim::score`).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bgpsentry_core::evidence::{AsRelInference, Evidence};
use bgpsentry_core::model::{Event, EventChange, Timestamp};
use bgpsentry_sim::score::{Detected, Report, score};
use bgpsentry_sim::{Generated, Scenario};
use clap::Args;
use serde::Serialize;

use crate::detectors::DetectArgs;
use crate::evidence::EvidenceArgs;
use crate::pipeline::{ChangeSink, DetectSink};
use crate::replay::{ReadArgs, read_all};

/// `bgpsentry eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Scenario files, or directories of `*.toml` scenarios.
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Where simulated data goes (one directory per scenario).
    #[arg(long, value_name = "DIR", default_value = "target/eval")]
    pub work: PathBuf,
    /// Write the JSON report here (default: WORK/results.json, or
    /// WORK/results-inferred.json with --infer-relationships).
    #[arg(long, value_name = "FILE")]
    pub results: Option<PathBuf>,
    /// Infer AS relationships from the RIB's paths instead of giving the
    /// detectors the true ones.
    #[arg(long)]
    pub infer_relationships: bool,
    /// Do not give the detectors the simulated RPKI and IRR data (confidence
    /// then rests on relationships and visibility alone).
    #[arg(long)]
    pub no_registries: bool,
    /// Detector options, as for `replay` (the simulated RIBs are added to
    /// `--bootstrap`).
    #[command(flatten)]
    pub detect: DetectArgs,
}

/// The file written by `eval`.
#[derive(Debug, Serialize)]
pub struct Results {
    /// `given` or `inferred`.
    pub relationships: &'static str,
    /// Whether the simulated RPKI and IRR data were given.
    pub registries: bool,
    /// Whether forged-origin detection was on.
    pub forged_origin: bool,
    /// All scenarios together.
    pub total: Report,
    /// Each scenario.
    pub scenarios: Vec<Report>,
}

/// Remembers when each event was first raised.
#[derive(Default)]
struct Opened(BTreeMap<(u8, u64), Timestamp>);

fn key(e: &Event) -> (u8, u64) {
    match e {
        Event::Hijack(h) => (0, h.id),
        Event::Leak(l) => (1, l.id),
    }
}

impl ChangeSink for Opened {
    fn change(&mut self, c: &EventChange) {
        self.0.entry(key(&c.event)).or_insert(c.ts);
    }
}

fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|x| x.extension().is_some_and(|e| e == "toml"))
                .collect();
            v.sort();
            out.extend(v);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Loads the evidence the detectors get for a simulated data set.
fn evidence(g: &Generated, infer: bool, registries: bool) -> anyhow::Result<Evidence> {
    let mut args = EvidenceArgs::default();
    if registries {
        for (path, what) in [(&g.rpki, "ROAs"), (&g.irr, "IRR")] {
            anyhow::ensure!(
                path.exists(),
                "{} missing: {what} of {} (simulator output too old? delete the directory)",
                path.display(),
                g.dir.display()
            );
        }
        args.rpki = vec![g.rpki.display().to_string()];
        args.irr = vec![g.irr.display().to_string()];
    }
    if !infer {
        args.asrel = Some(g.relationships.display().to_string());
    }
    let mut ev = crate::evidence::load(&args)?;
    if infer {
        let mut inf = AsRelInference::new();
        for r in &g.truth.files.ribs {
            let path = g.dir.join(r);
            let f = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
            inf.observe_mrt(f)
                .with_context(|| format!("reading {}", path.display()))?;
        }
        ev.asrel = inf.infer();
    }
    Ok(ev)
}

/// Replays a generated data set through the detectors and scores it.
pub fn evaluate(g: &Generated, args: &EvalArgs) -> anyhow::Result<Report> {
    let ev = Arc::new(evidence(g, args.infer_relationships, !args.no_registries)?);
    let mut det_args = args.detect.clone();
    det_args.bootstrap.extend(
        g.truth
            .files
            .ribs
            .iter()
            .map(|r| g.dir.join(r).display().to_string()),
    );
    let detectors = crate::detectors::build(&det_args, ev)?;
    let mut opened = Opened::default();
    let events = {
        let mut sink = DetectSink::new(detectors, vec![&mut opened]);
        let read = ReadArgs {
            inputs: vec![g.mrt_dir.display().to_string()],
            collector: None,
            stall: Duration::from_secs(30),
            progress: false,
        };
        read_all(&read, &mut sink)?;
        sink.finish().0
    };
    let detected: Vec<Detected> = events
        .into_iter()
        .map(|e| {
            let opened = opened.0.get(&key(&e)).copied().unwrap_or_default();
            Detected { event: e, opened }
        })
        .collect();
    Ok(score(&g.truth, &detected))
}

fn scenario_dir(work: &Path, s: &Scenario) -> PathBuf {
    let safe: String = s
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    work.join(safe)
}

/// Runs `eval`.
pub fn run(args: &EvalArgs) -> anyhow::Result<i32> {
    let files = expand(&args.scenarios)?;
    if files.is_empty() {
        anyhow::bail!("no scenario files");
    }
    let mut reports = Vec::new();
    for f in &files {
        let started = Instant::now();
        let s = Scenario::load(f).with_context(|| format!("loading {}", f.display()))?;
        let g = bgpsentry_sim::generate_to_dir(&s, &scenario_dir(&args.work, &s))?;
        let r = evaluate(&g, args)?;
        eprintln!(
            "eval: {} done in {:.1}s",
            s.name,
            started.elapsed().as_secs_f64()
        );
        reports.push(r);
    }
    let results = Results {
        relationships: if args.infer_relationships {
            "inferred"
        } else {
            "given"
        },
        registries: !args.no_registries,
        forged_origin: args.detect.forged_origin,
        total: Report::merge(&reports),
        scenarios: reports,
    };
    let out = args.results.clone().unwrap_or_else(|| {
        args.work.join(if args.infer_relationships {
            "results-inferred.json"
        } else {
            "results.json"
        })
    });
    if let Some(d) = out.parent() {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    let mut json = serde_json::to_vec_pretty(&results)?;
    json.push(b'\n');
    std::fs::write(&out, &json).with_context(|| format!("writing {}", out.display()))?;
    if args.json {
        println!("{}", serde_json::to_string(&results)?);
    } else {
        println!(
            "relationships: {}; RPKI/IRR: {}; forged-origin detection: {}",
            results.relationships,
            if results.registries { "given" } else { "none" },
            if results.forged_origin { "on" } else { "off" }
        );
        print!("{}", results.total.table());
        println!("results written to {}", out.display());
    }
    Ok(0)
}

//! The command line: one subcommand per job. Each subcommand's arguments are
//! a struct next to the code that runs it; this file only lists them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Self-hosted BGP hijack and route-leak detection with a Cloudflare Radar
/// compatible API.
#[derive(Debug, Parser)]
#[command(name = "bgpsentry", version, about, long_about = None)]
pub struct Cli {
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Log as JSON lines.
    #[arg(long, global = true)]
    pub log_json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print MRT inputs one line per route, exactly like `bgpdump -m`.
    Dump(DumpArgs),
    /// Read MRT inputs in time order, run the detectors, print a summary.
    Replay(ReplayArgs),
    /// The daemon: sources, detectors, store, API and alerts in one process
    /// (`--demo` runs an offline demonstration).
    Run(crate::daemon::RunArgs),
    /// Generate a labelled BGP data set (MRT, relationships, truth.json) with the simulator.
    Simulate(crate::simulate::SimulateArgs),
    /// Score the detectors on simulated scenarios (precision, recall, delay, false alarms).
    Eval(crate::eval::EvalArgs),
    /// Serve the Cloudflare Radar compatible API over the event store.
    Serve(crate::api::cmd::ServeArgs),
    /// Benchmark the API over a store of synthetic events (generated if empty).
    BenchApi(crate::api::bench::BenchApiArgs),
    /// Load-test the RIS Live source and detectors with a local firehose replay.
    BenchFirehose(crate::ingest::firehose::BenchFirehoseArgs),
    /// Poll a Radar-compatible API and send alerts (webhooks, chat, PagerDuty, email).
    Alert(crate::alert::service::AlertArgs),
    /// Evidence tools: explain verdicts (check), infer AS relationships, benchmark.
    Evidence(crate::evidence::cmd::EvidenceCmdArgs),
}

/// Where MRT input comes from.
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// MRT files, directories (every file inside, sorted by path) or http(s)
    /// URLs; raw, gzip or bzip2 (recognised by content).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Collector name for every input (default: from the path, e.g. rrc00,
    /// route-views2, else the parent directory).
    #[arg(long)]
    pub collector: Option<String>,
    /// Give up on a URL that sends nothing for this many seconds.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub stall_timeout: u64,
}

/// `bgpsentry dump`.
#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Inputs, printed one after the other in the order given.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Write to this file instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Inputs decoded at once (default: one per core). The output is the
    /// same, in the order given, whatever the number.
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
}

/// `bgpsentry replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The inputs.
    #[command(flatten)]
    pub input: InputArgs,
    /// Print the summary (and events) as JSON lines.
    #[arg(long)]
    pub json: bool,
    /// No progress bar even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
    /// Events listed per kind in the text output, the most confident first
    /// (0: all); `--json` and `--db` always have every event.
    #[arg(long, value_name = "N", default_value_t = crate::report::DEFAULT_TOP)]
    pub top: usize,
    /// Detectors and their baseline.
    #[command(flatten)]
    pub detect: crate::detectors::DetectArgs,
    /// Evidence for the confidence score.
    #[command(flatten)]
    pub evidence: crate::evidence::EvidenceArgs,
    /// Also write every event change into this SQLite store (created if
    /// needed), for `bgpsentry serve`.
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// When relationships are inferred (no --asrel), keep up to this many
    /// decoded messages from the first pass in memory for the detection
    /// pass (about 0.4 KiB each); larger inputs are read twice.
    #[arg(long, value_name = "N", default_value_t = 4_000_000)]
    pub max_cached_messages: usize,
    /// Earlier data to learn from before judging the inputs (repeatable; files,
    /// directories or URLs, e.g. the previous day of the same collector): the
    /// detectors build their routing state, established origins and AS
    /// adjacencies from it and raise nothing; without --asrel the AS
    /// relationships are inferred from it alone, so the judged data cannot
    /// poison them.
    #[arg(long, value_name = "INPUT")]
    pub warmup: Vec<String>,
}

/// Route-leak detector options of `replay` / `run` (see `docs/leaks.md`).
#[derive(Debug, Args, Clone)]
pub struct LeakArgs {
    /// Do not run the route-leak detector.
    #[arg(long)]
    pub no_leak: bool,
    /// Collector peers that must carry a leak segment before it is raised.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub leak_min_peers: usize,
    /// Distinct prefixes a leak segment must carry before it is raised.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub leak_min_prefixes: usize,
    /// Finish a leak event after this many seconds without a leaked
    /// announcement, even if routes are still carried (0: never).
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    pub leak_quiet_secs: i64,
    /// AS relationships below this confidence count as unknown.
    #[arg(long, value_name = "0..1", default_value_t = 0.6)]
    pub leak_min_confidence: f32,
    /// Extra IXP route-server ASNs to treat as transparent; repeatable.
    #[arg(long = "leak-route-server", value_name = "ASN")]
    pub leak_route_servers: Vec<bgpsentry_core::model::Asn>,
    /// Seconds a leak segment must stay carried before it is raised
    /// (path-hunting transients are not events; 0: at once).
    #[arg(long, value_name = "SECS", default_value_t = bgpsentry_core::detect::leak::DEFAULT_MIN_PERSIST_SECS)]
    pub leak_min_persist_secs: i64,
    /// A leak segment carrying this many prefixes is raised at once, even
    /// from one collector peer (0: off).
    #[arg(long, value_name = "N", default_value_t = bgpsentry_core::detect::leak::DEFAULT_LARGE_PREFIXES)]
    pub leak_large_prefixes: usize,
    /// From this many prefixes a leak needs no persistence time, and one
    /// seen only over weak (low-confidence) edges may be raised (0: off).
    #[arg(long, value_name = "N", default_value_t = bgpsentry_core::detect::leak::DEFAULT_QUICK_PREFIXES)]
    pub leak_quick_prefixes: usize,
    /// An ended leak whose segment leaks again within this many seconds
    /// rejoins its event (same id; 0: never).
    #[arg(long, value_name = "SECS", default_value_t = bgpsentry_core::detect::leak::DEFAULT_REJOIN_SECS)]
    pub leak_rejoin_secs: i64,
    /// A leak segment the warm-up saw in this many distinct hours is
    /// established routing and raises nothing (0: off).
    #[arg(long, value_name = "HOURS", default_value_t = bgpsentry_core::detect::leak::DEFAULT_ESTABLISHED_HOURS)]
    pub leak_established_hours: u32,
    /// Raise a leak only while its confidence score (the sum of its tags,
    /// docs/leaks.md) is at least this.
    #[arg(long, value_name = "SCORE", default_value_t = bgpsentry_core::detect::leak::DEFAULT_MIN_SCORE, allow_hyphen_values = true)]
    pub leak_min_score: i32,
    /// A leak with this confidence score is raised without waiting for
    /// the persistence time.
    #[arg(long, value_name = "SCORE", default_value_t = bgpsentry_core::detect::leak::DEFAULT_QUICK_SCORE, allow_hyphen_values = true)]
    pub leak_quick_score: i32,
    /// Extra research-and-education ASNs whose mutual edges are not
    /// valley-checked (the built-in list is in docs/leaks.md); repeatable.
    #[arg(long = "leak-re-asn", value_name = "ASN")]
    pub leak_re_asns: Vec<bgpsentry_core::model::Asn>,
    /// Evidence for the leak detector alone (relationships inferred by the
    /// first pass of `replay`), so the hijack tags keep the given evidence.
    #[arg(skip)]
    pub evidence: Option<std::sync::Arc<bgpsentry_core::evidence::Evidence>>,
}

impl Default for LeakArgs {
    fn default() -> Self {
        let d = bgpsentry_core::detect::leak::LeakConfig::default();
        LeakArgs {
            no_leak: false,
            leak_min_peers: d.min_peers,
            leak_min_prefixes: d.min_prefixes,
            leak_quiet_secs: d.quiet_secs,
            leak_min_confidence: d.check.min_confidence,
            leak_route_servers: Vec::new(),
            leak_min_persist_secs: d.min_persist_secs,
            leak_large_prefixes: d.large_prefixes,
            leak_quick_prefixes: d.quick_prefixes,
            leak_rejoin_secs: d.rejoin_secs,
            leak_established_hours: d.established_hours,
            leak_min_score: d.min_score,
            leak_quick_score: d.quick_score,
            leak_re_asns: Vec::new(),
            evidence: None,
        }
    }
}

impl LeakArgs {
    /// The detector settings these options give.
    pub fn config(&self) -> bgpsentry_core::detect::leak::LeakConfig {
        let mut c = bgpsentry_core::detect::leak::LeakConfig {
            min_peers: self.leak_min_peers,
            min_prefixes: self.leak_min_prefixes,
            quiet_secs: self.leak_quiet_secs,
            min_persist_secs: self.leak_min_persist_secs,
            large_prefixes: self.leak_large_prefixes,
            quick_prefixes: self.leak_quick_prefixes,
            rejoin_secs: self.leak_rejoin_secs,
            established_hours: self.leak_established_hours,
            min_score: self.leak_min_score,
            quick_score: self.leak_quick_score,
            ..Default::default()
        };
        c.check
            .re_networks
            .extend(self.leak_re_asns.iter().copied());
        c.check.min_confidence = self.leak_min_confidence;
        c.check
            .route_servers
            .extend(self.leak_route_servers.iter().copied());
        c
    }
}

/// Infers AS relationships from every path of `read`'s inputs (AS-Rank, as
/// `bgpsentry evidence infer-asrel`), keeping no messages.
pub fn infer_asrel(
    read: &crate::replay::ReadArgs,
) -> anyhow::Result<bgpsentry_core::evidence::AsRelationships> {
    crate::detectors::infer_and_record(read, 0).map(|(rels, _)| rels)
}

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
    /// Generate a labelled BGP data set (MRT, relationships, truth.json) with the simulator.
    Simulate(crate::simulate::SimulateArgs),
    /// Score the detectors on simulated scenarios (precision, recall, delay, false alarms).
    Eval(crate::eval::EvalArgs),
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
}

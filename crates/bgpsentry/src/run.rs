//! Dispatch of subcommands and the exit codes they end with.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | complete: every input read to its end, nothing skipped |
//! | 1 | failed: nothing could be read, or an error stopped the command |
//! | 2 | usage error (bad arguments) |
//! | 3 | partial: damaged records or unreadable inputs were skipped, the rest was processed |

use crate::cli::{Cli, Command};
use crate::replay::Completeness;

/// Exit code for a complete run.
pub const EXIT_COMPLETE: i32 = 0;
/// Exit code for a failed run.
pub const EXIT_FAILED: i32 = 1;
/// Exit code for a partial run.
pub const EXIT_PARTIAL: i32 = 3;

/// Maps an outcome to an exit code.
pub fn exit_code(c: Completeness) -> i32 {
    match c {
        Completeness::Complete => EXIT_COMPLETE,
        Completeness::Partial => EXIT_PARTIAL,
        Completeness::Failed => EXIT_FAILED,
    }
}

/// Runs the command line; returns the exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Serve(args) => crate::api::cmd::run(&args),
        Command::BenchApi(args) => crate::api::bench::run(&args),
        Command::BenchFirehose(args) => crate::ingest::firehose::run(&args),
        Command::Run(args) => crate::daemon::run(&args),
        Command::Dump(args) => Ok(exit_code(crate::dump::run(&args)?)),
        Command::Simulate(args) => crate::simulate::run(&args),
        Command::Eval(args) => crate::eval::run(&args),
        Command::Alert(args) => crate::alert::service::main(&args),
        Command::Evidence(args) => crate::evidence::cmd::run(&args),
        Command::Replay(args) => {
            let evidence = crate::evidence::load(&args.evidence)?;
            crate::detectors::run_replay(&args, evidence)
        }
    }
}

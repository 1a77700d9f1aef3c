//! The `bgpsentry` binary: parse arguments, set up logging, run, exit with
//! the code that tells complete, partial and failed apart (see `run.rs`).

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() {
    let cli = bgpsentry::cli::Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cli.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
    let code = match bgpsentry::run::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("bgpsentry: {e:#}");
            bgpsentry::run::EXIT_FAILED
        }
    };
    std::process::exit(code);
}

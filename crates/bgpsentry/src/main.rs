//! The `bgpsentry` binary: parse arguments, set up logging, run, exit with
//! the code that tells complete, partial and failed apart (see `run.rs`).

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() {
    let cli = bgpsentry::cli::Cli::parse();
    let level = match cli.verbose {
        // bgpkit-parser warns about every malformed attribute it repairs;
        // our own damage reports already name the file and offset.
        0 => "warn,bgpkit_parser=error",
        1 => "info,bgpkit_parser=error",
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

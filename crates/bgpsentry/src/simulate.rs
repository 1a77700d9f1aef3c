//! `bgpsentry simulate`: generate a labelled BGP data set with the
//! simulator (`bgpsentry-sim`) — MRT RIB and update files that `replay`,
//! `run` and `bgpdump` read, the topology's relationships, and
//! `truth.json` — from a scenario file, from flags, or the built-in demo.

use std::path::PathBuf;

use anyhow::Context;
use bgpsentry_sim::scenario::{Dur, Scenario};
use clap::Args;

/// `bgpsentry simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Scenario file (TOML; see docs/simulator.md).
    #[arg(long, value_name = "FILE", conflicts_with = "demo")]
    pub scenario: Option<PathBuf>,
    /// The built-in demo: a few hundred ASes, ten minutes, one hijack, one leak.
    #[arg(long)]
    pub demo: bool,
    /// Output directory (MRT under DIR/mrt, truth in DIR/truth.json).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Override the seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override the number of ASes.
    #[arg(long)]
    pub ases: Option<usize>,
    /// Override the simulated time in days (fractions allowed).
    #[arg(long)]
    pub days: Option<f64>,
    /// Override the number of collector peers.
    #[arg(long)]
    pub peers: Option<usize>,
    /// Print the truth summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Builds the scenario the arguments ask for.
pub fn scenario_of(args: &SimulateArgs) -> anyhow::Result<Scenario> {
    let mut s = if args.demo {
        Scenario::demo()
    } else if let Some(p) = &args.scenario {
        Scenario::load(p).with_context(|| format!("loading {}", p.display()))?
    } else {
        Scenario {
            name: "cli".into(),
            ..Default::default()
        }
    };
    if let Some(x) = args.seed {
        s.seed = x;
    }
    if let Some(x) = args.ases {
        s.topology.ases = x;
    }
    if let Some(d) = args.days {
        if !(d > 0.0 && d <= 30.0) {
            anyhow::bail!("--days must be in (0, 30]");
        }
        s.duration = Dur((d * 86_400.0).round() as u64);
    }
    if let Some(x) = args.peers {
        s.collectors.peers = x;
    }
    s.validate()?;
    Ok(s)
}

/// Runs `simulate`.
pub fn run(args: &SimulateArgs) -> anyhow::Result<i32> {
    let s = scenario_of(args)?;
    let g = bgpsentry_sim::generate_to_dir(&s, &args.out)?;
    let t = &g.truth;
    if args.json {
        println!("{}", serde_json::to_string(t)?);
        return Ok(0);
    }
    let c = &t.counts;
    println!("scenario        {} (seed {})", t.scenario, t.seed);
    println!("topology        {} ASes, {} links", c.ases, c.links);
    println!(
        "collectors      {} with {} peers",
        t.collectors.len(),
        c.peers
    );
    println!(
        "rib             {} prefixes, {} entries",
        c.prefixes, c.rib_entries
    );
    println!(
        "updates         {} messages, {} announcements, {} withdrawals",
        c.update_messages, c.announcements, c.withdrawals
    );
    println!(
        "churn           {} link failures, {} flaps, {} legitimate origin changes",
        c.link_failures,
        c.flaps,
        t.legit_changes.len()
    );
    for i in &t.incidents {
        let who = match (i.hijacker, i.leaker) {
            (Some(h), _) => format!("hijacker AS{h} victim {:?}", i.victims),
            (_, Some(l)) => format!("leaker AS{l} type {}", i.leak_type.unwrap_or(0)),
            _ => String::new(),
        };
        println!(
            "incident {:>3}    {:<22} {:<34} {} prefixes, seen by {} peers ({:.0}%)",
            i.id,
            i.kind.name(),
            who,
            i.prefixes.len(),
            i.seen_by_peers,
            i.peer_share * 100.0
        );
    }
    println!(
        "replay with     bgpsentry replay {} --bootstrap {}",
        g.mrt_dir.display(),
        t.files
            .ribs
            .first()
            .map(|r| g.dir.join(r).display().to_string())
            .unwrap_or_default()
    );
    println!("truth           {}", g.truth_path.display());
    Ok(0)
}

//! `bgpsentry run`: the whole job in one process, the way an operator leaves
//! it running.
//!
//! ```text
//!  MRT inputs (replayed in time order) ─┐
//!  live sources (RIS Live, BMP, BGP) ───┴► detector thread ─► StoreSink (SQLite, batched commits)
//!                                          (PeerTable,       └► AlertSink ─► alerter tasks ─► channels
//!                                           detectors)
//!  API (axum, tokio) ◄── read pool ◄── the same SQLite file
//! ```
//!
//! One thread owns the detectors (no locks on the hot path); the store and
//! the alerter are fed every [`EventChange`] as it happens. `--demo`
//! generates the simulator's built-in scenario (a hijack and a leak), runs
//! it through the same path, and delivers the alerts to a webhook receiver
//! on 127.0.0.1 that prints them: a new user sees events in the API and
//! alerts fire with no network at all.
//!
//! [`EventChange`]: bgpsentry_core::model::EventChange

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bgpsentry_core::model::{Event, EventChange};
use clap::{Args, Parser};
use serde::Deserialize;

use crate::alert::config::AlertConfig;
use crate::alert::sink::Alerter;
use crate::api::auth::Tokens;
use crate::api::{AppState, Clock};
use crate::detectors::DetectArgs;
use crate::evidence::EvidenceArgs;
use crate::pipeline::{ChangeSink, DetectSink};
use crate::replay::{ReadArgs, read_all};
use crate::store::{ReadPool, Store, StoreSink};

/// Decoded messages kept from the relationship-inference pass (as the
/// `replay` default, about 0.4 KiB each).
const MAX_CACHED_MESSAGES: usize = 4_000_000;

/// `bgpsentry run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Configuration file (TOML; see etc/bgpsentry.example.toml).
    #[arg(short = 'c', long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Run the built-in offline demo: a simulated hijack and route leak,
    /// detected, stored, served and alerted on 127.0.0.1.
    #[arg(long)]
    pub demo: bool,
    /// Where the demo writes its data, store and alert state.
    #[arg(long, default_value = "bgpsentry-demo", value_name = "DIR")]
    pub demo_dir: PathBuf,
    /// Event store (overrides the config).
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// API address (overrides the config).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// MRT inputs to replay at start (added to the config's).
    #[arg(long = "mrt", value_name = "INPUT")]
    pub mrt: Vec<String>,
    /// Stop once the MRT inputs are processed and alerts are delivered,
    /// instead of serving until interrupted.
    #[arg(long)]
    pub exit_after_replay: bool,
}

/// The daemon's configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonConfig {
    /// Event store (SQLite file).
    pub db: Option<PathBuf>,
    /// API listen address.
    pub listen: Option<SocketAddr>,
    /// Environment variable holding API tokens (comma or space separated).
    pub tokens_env: Option<String>,
    /// Allow a non-loopback API address without tokens.
    #[serde(default)]
    pub insecure_public: bool,
    /// Alert configuration file (as for `bgpsentry alert`) for in-process alerts.
    pub alerts: Option<PathBuf>,
    /// MRT files, directories or URLs replayed at start.
    #[serde(default)]
    pub mrt: Vec<String>,
    /// Detector settings.
    #[serde(default)]
    pub detect: DetectConfig,
    /// Evidence files or URLs.
    #[serde(default)]
    pub evidence: EvidenceConfig,
    /// Live sources (`[[source]]`: ris-live, bmp, bgp, mrt-follow; see
    /// docs/sources.md).
    #[serde(default)]
    pub source: Vec<crate::ingest::live::SourceConfig>,
}

/// `[detect]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectConfig {
    /// Baseline tables or RIB dumps.
    #[serde(default)]
    pub bootstrap: Vec<String>,
    /// Seconds of visibility before an origin is established.
    pub learn_secs: Option<u32>,
    /// Seconds without announcements before an ongoing hijack is stale.
    pub stale_secs: Option<i64>,
    /// Further detector flags, exactly as on the `replay` command line.
    #[serde(default)]
    pub args: Vec<String>,
}

/// `[evidence]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceConfig {
    /// RPKI VRP files.
    #[serde(default)]
    pub rpki: Vec<String>,
    /// IRR dumps.
    #[serde(default)]
    pub irr: Vec<String>,
    /// AS relationships.
    pub asrel: Option<String>,
    /// CAIDA as2org.
    pub as2org: Option<String>,
    /// AS names.
    pub asnames: Option<String>,
}

#[derive(Debug, Parser)]
struct DetectWrapper {
    #[command(flatten)]
    detect: DetectArgs,
    #[command(flatten)]
    evidence: EvidenceArgs,
}

impl DaemonConfig {
    /// Reads and checks a config file.
    pub fn load(path: &Path) -> anyhow::Result<DaemonConfig> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("{}: invalid configuration", path.display()))
    }

    /// The detector and evidence options, with the command line's defaults
    /// for everything the file does not set.
    fn detector_args(&self) -> anyhow::Result<(DetectArgs, EvidenceArgs)> {
        let mut argv: Vec<String> = vec!["run".into()];
        for b in &self.detect.bootstrap {
            argv.extend(["--bootstrap".into(), b.clone()]);
        }
        if let Some(s) = self.detect.learn_secs {
            argv.extend(["--learn-secs".into(), s.to_string()]);
        }
        if let Some(s) = self.detect.stale_secs {
            argv.extend(["--stale-secs".into(), s.to_string()]);
        }
        argv.extend(self.detect.args.iter().cloned());
        for r in &self.evidence.rpki {
            argv.extend(["--rpki".into(), r.clone()]);
        }
        for r in &self.evidence.irr {
            argv.extend(["--irr".into(), r.clone()]);
        }
        for (flag, v) in [
            ("--asrel", &self.evidence.asrel),
            ("--as2org", &self.evidence.as2org),
            ("--asnames", &self.evidence.asnames),
        ] {
            if let Some(v) = v {
                argv.extend([flag.to_string(), v.clone()]);
            }
        }
        let w = DetectWrapper::try_parse_from(&argv).context("[detect] / [evidence] settings")?;
        Ok((w.detect, w.evidence))
    }
}

/// Stores what the API serves beside the events: the number of collector
/// peers (`total_monitors`) and each involved AS's country and name
/// (`asn_info`), from the as2org evidence.
pub fn record_context(
    store: &mut Store,
    events: &[Event],
    evidence: &bgpsentry_core::evidence::Evidence,
    peers: usize,
) -> anyhow::Result<()> {
    store.set_total_monitors(u32::try_from(peers).unwrap_or(u32::MAX))?;
    let mut info = Vec::new();
    for e in events {
        let asns: Vec<bgpsentry_core::model::Asn> = match e {
            Event::Hijack(h) => h.involved().collect(),
            Event::Leak(l) => l.leak_seg.clone(),
        };
        for a in asns {
            let country = evidence.orgs.country(a).unwrap_or("").to_string();
            let name = evidence.orgs.name(a).unwrap_or("").to_string();
            info.push((a, country, name));
        }
    }
    store.upsert_asn_info(&info)?;
    Ok(())
}

/// Feeds changes to the store and the alerter.
struct Outputs {
    store: StoreSink,
    alerts: Option<crate::alert::sink::AlertSink>,
    events: u64,
}

impl ChangeSink for Outputs {
    fn change(&mut self, change: &EventChange) {
        if change.kind == bgpsentry_core::model::ChangeKind::Opened {
            self.events += 1;
        }
        self.store.change(change);
        if let Some(a) = self.alerts.as_mut() {
            a.change(change);
        }
    }

    fn idle(&mut self) {
        if let Err(e) = self.store.flush() {
            tracing::error!(error = %e, "writing events to the store failed");
        }
    }
}

/// The demo's alert configuration: every event, to the local receiver.
fn demo_alert_config(url: &str, state: &Path) -> anyhow::Result<AlertConfig> {
    let text = format!(
        r#"
state = "{}"
[api]
url = "http://127.0.0.1/client/v4"
[[watch]]
name = "everything"
[[channel]]
type = "webhook"
name = "demo-receiver"
url = "{url}"
"#,
        state.display()
    );
    Ok(AlertConfig::from_toml(&text)?)
}

/// The demo's RPKI: the victims of hijacks have ROAs for their prefixes, as
/// most large networks do today (Cloudflare `rpki.json` layout).
fn write_demo_roas(g: &bgpsentry_sim::Generated) -> anyhow::Result<PathBuf> {
    let mut roas = Vec::new();
    for i in &g.truth.incidents {
        if i.hijacker.is_none() {
            continue;
        }
        for p in &i.victim_prefixes {
            let Ok(net) = p.parse::<ipnet::IpNet>() else {
                continue;
            };
            for v in &i.victims {
                roas.push(
                    serde_json::json!({"prefix": p, "maxLength": net.prefix_len(), "asn": v}),
                );
            }
        }
    }
    let path = g.dir.join("rpki.json");
    std::fs::write(
        &path,
        serde_json::to_vec_pretty(&serde_json::json!({ "roas": roas }))?,
    )
    .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// A webhook receiver on 127.0.0.1 that prints what it gets.
async fn demo_receiver() -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/alerts",
        post(|body: axum::body::Bytes| async move {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let title = v
                .get("title")
                .and_then(|t| t.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(160).collect());
            println!("ALERT delivered to the demo webhook: {title}");
            "ok"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((format!("http://{addr}/alerts"), task))
}

fn tokens_from_env(var: Option<&str>) -> Tokens {
    let raw = var.and_then(|v| std::env::var(v).ok()).unwrap_or_default();
    Tokens::new(
        raw.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty()),
    )
}

/// Feeds the live sources into the detectors until Ctrl-C (or until every
/// source has stopped). Peers are interned into the same table as the MRT
/// replay's, so a replayed RIB and the live feed share routing state.
fn run_live(
    rt: &tokio::runtime::Runtime,
    sources: &[crate::ingest::live::SourceConfig],
    sink: &mut DetectSink<'_>,
    peers: &mut bgpsentry_core::model::PeerTable,
    api: &AppState,
) -> anyhow::Result<()> {
    use crate::ingest::live::{LiveItem, run as run_source};
    use crate::ingest::mrt::Sink;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<LiveItem>(1024);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut healths = Vec::new();
    for s in sources {
        let health = s.new_health();
        healths.push((s.name(), health.clone()));
        if let Ok(mut v) = api.sources.lock() {
            v.push(health.clone());
        }
        let name = s.name();
        let tx = tx.clone();
        let stop = stop_rx.clone();
        let s = s.clone();
        rt.spawn(async move {
            if let Err(e) = run_source(s, tx, health, stop).await {
                tracing::error!(source = %name, "source stopped: {e}");
            }
        });
    }
    drop(tx);
    rt.spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop_tx.send(true);
    });
    println!("live: {} source(s) running; Ctrl-C stops", sources.len());
    loop {
        let next =
            rt.block_on(async { tokio::time::timeout(Duration::from_secs(1), rx.recv()).await });
        match next {
            Err(_) => sink.idle(),
            Ok(None) => break,
            Ok(Some(LiveItem::Batch(b))) => {
                let c = peers.collector(&b.collector);
                for d in b.messages {
                    let peer = peers.peer(c, d.peer_ip, d.peer_asn);
                    let msg = bgpsentry_core::model::RouteMessage {
                        ts: d.ts,
                        peer,
                        event: d.event,
                    };
                    sink.message(&msg, peers);
                }
            }
            Ok(Some(LiveItem::GapStart {
                source,
                since,
                reason,
            })) => {
                tracing::warn!(%source, since = %since, "feed lost: {reason}");
            }
            Ok(Some(LiveItem::GapEnd {
                source,
                from,
                to,
                reason,
            })) => {
                tracing::warn!(%source, from = %from, to = %to, "feed back after a gap: {reason}");
            }
        }
    }
    Ok(())
}

/// Runs `bgpsentry run`; returns the exit code.
pub fn run(args: &RunArgs) -> anyhow::Result<i32> {
    let mut cfg = match &args.config {
        Some(p) => DaemonConfig::load(p)?,
        None => DaemonConfig::default(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;

    let mut alert_cfg: Option<AlertConfig> = match &cfg.alerts {
        Some(p) => {
            Some(AlertConfig::load(p).with_context(|| format!("alert config {}", p.display()))?)
        }
        None => None,
    };
    let mut receiver = None;
    if args.demo {
        std::fs::create_dir_all(&args.demo_dir)
            .with_context(|| format!("creating {}", args.demo_dir.display()))?;
        let data = args.demo_dir.join("data");
        let generated = bgpsentry_sim::demo(&data).context("generating the demo scenario")?;
        println!(
            "demo: simulated scenario written to {}",
            generated.dir.display()
        );
        for i in &generated.truth.incidents {
            println!(
                "demo: injected {}",
                serde_json::to_string(i).unwrap_or_default()
            );
        }
        let db = args.demo_dir.join("events.sqlite");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        cfg.db = Some(db.clone());
        cfg.mrt = vec![generated.mrt_dir.display().to_string()];
        cfg.evidence.asrel = Some(generated.relationships.display().to_string());
        cfg.evidence.rpki = vec![write_demo_roas(&generated)?.display().to_string()];
        let (url, task) = rt.block_on(demo_receiver())?;
        receiver = Some(task);
        alert_cfg = Some(demo_alert_config(&url, &db)?);
    }
    if let Some(db) = &args.db {
        cfg.db = Some(db.clone());
    }
    if let Some(l) = args.listen {
        cfg.listen = Some(l);
    }
    cfg.mrt.extend(args.mrt.iter().cloned());
    let db = cfg
        .db
        .clone()
        .unwrap_or_else(|| PathBuf::from("bgpsentry.sqlite"));
    let listen = cfg
        .listen
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let tokens = tokens_from_env(cfg.tokens_env.as_deref());
    crate::api::cmd::check_exposure(&listen, &tokens, cfg.insecure_public)?;

    let (detect_args, evidence_args) = cfg.detector_args()?;
    let mut evidence = crate::evidence::load(&evidence_args)?;

    let store = Store::open(&db).with_context(|| format!("opening store {}", db.display()))?;
    let pool = ReadPool::open(&db, 4).context("opening read connections")?;
    let state = AppState::new(pool, tokens, Clock::Wall);
    let api_state = state.clone();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(listen))
        .with_context(|| format!("binding the API to {listen}"))?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut stop_api = stop_rx.clone();
    let api = rt.spawn(crate::api::serve_on(listener, state, async move {
        let _ = stop_api.changed().await;
    }));
    println!(
        "api: http://{addr}/client/v4/radar/bgp/hijacks/events (and /leaks/events, /healthz, /metrics)"
    );

    let alerter = match alert_cfg {
        Some(c) => {
            let _guard = rt.enter();
            Some(Alerter::start(c, &db).context("starting the alerter")?)
        }
        None => None,
    };

    let read = ReadArgs {
        inputs: cfg.mrt.clone(),
        collector: None,
        stall: Duration::from_secs(30),
        progress: false,
    };
    let mut code = crate::run::EXIT_COMPLETE;
    let live = !cfg.source.is_empty() && !args.exit_after_replay;
    if !cfg.mrt.is_empty() || live {
        // Relationships inferred from the MRT inputs; the decoded messages
        // are kept (bounded) so the detection pass does not decode twice.
        let mut recorded = None;
        if evidence_args.asrel.is_none() && !detect_args.leak.no_leak && !cfg.mrt.is_empty() {
            let (rels, rec) = crate::detectors::infer_and_record(&read, MAX_CACHED_MESSAGES)?;
            evidence.asrel = rels;
            recorded = rec;
        }
        let evidence = Arc::new(evidence);
        let detectors = crate::detectors::build(&detect_args, evidence.clone())?;
        let mut outputs = Outputs {
            store: StoreSink::new(store, 0),
            alerts: alerter.as_ref().map(Alerter::sink),
            events: 0,
        };
        let (peers, events) = {
            let mut sink = DetectSink::new(detectors, vec![&mut outputs]);
            let mut peers = bgpsentry_core::model::PeerTable::new();
            if !cfg.mrt.is_empty() {
                let (summary, p) = match recorded.take() {
                    Some(rec) => rec.replay_into(&mut sink),
                    None => read_all(&read, &mut sink)?,
                };
                peers = p;
                code = crate::run::exit_code(summary.status);
                println!(
                    "replayed {} records from {} inputs",
                    summary.records, summary.inputs
                );
            }
            if live {
                run_live(&rt, &cfg.source, &mut sink, &mut peers, &api_state)?;
            }
            let (events, _changes) = sink.finish();
            (peers, events)
        };
        let (mut store, committed) = outputs.store.finish().context("writing events")?;
        record_context(&mut store, &events, &evidence, peers.len())?;
        println!(
            "{} events, {} changes stored in {}",
            events.len(),
            committed,
            db.display()
        );
        for e in &events {
            match e {
                Event::Hijack(h) => println!(
                    "  hijack {:>4}  AS{} -> victims {:?}  {}  score {}  {}",
                    h.id,
                    h.hijacker_asn,
                    h.victim_asns.iter().map(|a| a.0).collect::<Vec<_>>(),
                    h.prefixes.join(" "),
                    h.confidence_score,
                    if h.finished { "ended" } else { "ongoing" }
                ),
                Event::Leak(l) => println!(
                    "  leak   {:>4}  AS{} segment {:?}  type {}  {} prefixes  {}",
                    l.id,
                    l.leak_asn,
                    l.leak_seg.iter().map(|a| a.0).collect::<Vec<_>>(),
                    l.leak_type,
                    l.prefix_count,
                    if l.finished { "ended" } else { "ongoing" }
                ),
            }
        }
    } else {
        drop(store);
    }

    if args.exit_after_replay || live {
        if let Some(a) = alerter {
            let stats = rt.block_on(a.shutdown(Duration::from_secs(15)));
            println!(
                "alerts: {} messages delivered, {} failed attempts",
                stats.sent, stats.failures
            );
        }
    } else {
        println!(
            "serving; try: curl 'http://{addr}/client/v4/radar/bgp/hijacks/events?per_page=10'  (Ctrl-C stops)"
        );
        rt.block_on(async {
            let _ = tokio::signal::ctrl_c().await;
        });
        if let Some(a) = alerter {
            rt.block_on(a.shutdown(Duration::from_secs(10)));
        }
    }
    let _ = stop_tx.send(true);
    let _ = rt.block_on(api);
    if let Some(r) = receiver {
        r.abort();
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_loads() {
        let p = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../etc/bgpsentry.example.toml"
        ));
        let cfg = DaemonConfig::load(p).expect("the example config is valid");
        assert_eq!(cfg.listen, Some(SocketAddr::from(([127, 0, 0, 1], 8080))));
        assert!(!cfg.source.is_empty());
        let (detect, _evidence) = cfg.detector_args().expect("detector flags parse");
        assert_eq!(detect.learn_secs, 86400);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "listne = \"127.0.0.1:1\"\n").expect("write");
        let err = DaemonConfig::load(&p).expect_err("typo rejected");
        assert!(format!("{err:#}").contains("listne"), "{err:#}");
    }
}

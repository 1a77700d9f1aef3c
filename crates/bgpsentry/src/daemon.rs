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

use std::cell::RefCell;
use std::rc::Rc;

use anyhow::Context;
use bgpsentry_core::detect::Detector;
use bgpsentry_core::detect::state::RoutingState;
use bgpsentry_core::model::{
    Asn, CollectorId, Event, EventChange, PeerId, PeerTable, RouteMessage, Timestamp,
};
use clap::{Args, Parser};
use serde::{Deserialize, Serialize};

use crate::alert::config::AlertConfig;
use crate::alert::sink::Alerter;
use crate::api::auth::Tokens;
use crate::api::{AppState, Clock};
use crate::detectors::{DetectArgs, DetectorSet, SetSnapshot};
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
    /// The API server's connection limit and timeouts (`[http]`, as
    /// `serve`'s flags).
    #[serde(default)]
    pub http: crate::api::server::HttpLimits,
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
    /// Checkpoints of the detectors' state (`[checkpoint]`).
    #[serde(default)]
    pub checkpoint: CheckpointConfig,
    /// "Monitoring blind" notices through the alert channels
    /// (`[blind_alerts]`).
    #[serde(default)]
    pub blind_alerts: BlindAlertConfig,
}

fn yes() -> bool {
    true
}
fn default_checkpoint_secs() -> u64 {
    300
}
fn default_blind_grace() -> u64 {
    30
}

/// `[checkpoint]`: the detectors' state (routing state, learned baseline,
/// open events with their ids) written to a file periodically and at
/// shutdown, and restored at start (docs/sources.md, "Restarts").
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointConfig {
    /// Write and restore checkpoints.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The file; default: the store's path with `.checkpoint` appended.
    pub path: Option<PathBuf>,
    /// Seconds (wall clock) between checkpoints while live sources run;
    /// 0: only at shutdown.
    #[serde(default = "default_checkpoint_secs")]
    pub interval_secs: u64,
}

impl Default for CheckpointConfig {
    fn default() -> Self {
        CheckpointConfig {
            enabled: true,
            path: None,
            interval_secs: default_checkpoint_secs(),
        }
    }
}

/// `[blind_alerts]`: a live source going blind (and recovering) is sent
/// to every alert channel, once per transition.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlindAlertConfig {
    /// Send the notices (when `alerts` is configured; transitions are
    /// logged either way).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// A source blind at start-up (connections still coming up) is
    /// reported only if it still is after this many seconds.
    #[serde(default = "default_blind_grace")]
    pub startup_grace_secs: u64,
}

impl Default for BlindAlertConfig {
    fn default() -> Self {
        BlindAlertConfig {
            enabled: true,
            startup_grace_secs: default_blind_grace(),
        }
    }
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

/// Feeds changes to the store and, under the store's ids, the alerter.
struct Outputs {
    store: StoreSink,
    alerts: Option<crate::alert::sink::AlertSink>,
    events: u64,
    /// A fresh start (no usable checkpoint): at the first idle moment after
    /// the `mrt` replay, end the stored ongoing events it did not continue.
    close_orphans: bool,
}

impl ChangeSink for Outputs {
    fn change(&mut self, change: &EventChange) {
        if change.kind == bgpsentry_core::model::ChangeKind::Opened {
            self.events += 1;
        }
        // The alerter keys deliveries by event id: it must see the store's.
        let Some(stored) = self.store.record(change) else {
            return;
        };
        if let Some(a) = self.alerts.as_mut() {
            a.change(&stored);
        }
    }

    fn idle(&mut self) {
        if let Err(e) = self.store.flush() {
            tracing::error!(error = %e, "writing events to the store failed");
        }
        if std::mem::take(&mut self.close_orphans) {
            match self.store.close_unclaimed() {
                Ok(0) => {}
                Ok(n) => println!(
                    "store: {n} event(s) left ongoing by an earlier run, not continued by this fresh start, ended at their last message"
                ),
                Err(e) => tracing::error!(error = %e, "ending events of an earlier run failed"),
            }
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

/// The collector-peer table as a checkpoint keeps it: collector names in id
/// order and peers in id order, so that interning them again gives every
/// peer its old id (the routing state refers to peers by id).
#[derive(Debug, Default, Serialize, Deserialize)]
struct PeersRepr {
    collectors: Vec<String>,
    peers: Vec<(u16, std::net::IpAddr, Asn)>,
}

impl PeersRepr {
    fn of(t: &PeerTable) -> Self {
        let max = t.iter().map(|(_, p)| p.collector.0).max();
        let collectors = match max {
            Some(m) => (0..=m)
                .map(|i| t.collector_name(CollectorId(i)).to_string())
                .collect(),
            None => Vec::new(),
        };
        PeersRepr {
            collectors,
            peers: t
                .iter()
                .map(|(_, p)| (p.collector.0, p.ip, p.asn))
                .collect(),
        }
    }

    fn table(&self) -> anyhow::Result<PeerTable> {
        let mut t = PeerTable::new();
        for (i, c) in self.collectors.iter().enumerate() {
            let id = t.collector(c);
            anyhow::ensure!(
                usize::from(id.0) == i,
                "peers: collector {c:?} listed twice"
            );
        }
        for (i, (c, ip, asn)) in self.peers.iter().enumerate() {
            anyhow::ensure!(
                usize::from(*c) < self.collectors.len(),
                "peers: peer {i} names unknown collector {c}"
            );
            let id = t.peer(CollectorId(*c), *ip, *asn);
            anyhow::ensure!(id.0 as usize == i, "peers: peer {ip} AS{asn} listed twice");
        }
        Ok(t)
    }
}

/// The body of the daemon's checkpoint (after the core's header): the peer
/// table, the MRT inputs already replayed (not replayed again by a
/// restart), and the detectors.
#[derive(Serialize, Deserialize)]
struct CheckpointBody<S> {
    peers: PeersRepr,
    replayed: Vec<String>,
    detectors: SetSnapshot<S>,
}

/// Writes checkpoints: atomically (temp file, fsync, rename, fsync of the
/// directory), at most every `interval` while live sources run, and at
/// shutdown. Failures are logged, never fatal.
struct Checkpointer {
    path: Option<PathBuf>,
    fingerprint: String,
    interval: Option<Duration>,
    last: std::time::Instant,
    replayed: Vec<String>,
}

impl Checkpointer {
    fn new(cfg: &CheckpointConfig, db: &Path, fingerprint: String) -> Self {
        let path = cfg.enabled.then(|| {
            cfg.path
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("{}.checkpoint", db.display())))
        });
        Checkpointer {
            path,
            fingerprint,
            interval: (cfg.interval_secs > 0).then(|| Duration::from_secs(cfg.interval_secs)),
            last: std::time::Instant::now(),
            replayed: Vec::new(),
        }
    }

    /// Refuses a checkpoint path that can never be written: a directory or
    /// another non-file there would make every checkpoint fail.
    fn check_path(&self) -> anyhow::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => anyhow::bail!(
                "checkpoint path {} is a directory; set [checkpoint] path to a file",
                path.display()
            ),
            Ok(m) if !m.is_file() => anyhow::bail!(
                "checkpoint path {} is not a regular file; set [checkpoint] path to a file",
                path.display()
            ),
            _ => Ok(()),
        }
    }

    /// Reads the checkpoint if there is a usable one; a missing file is
    /// `None` silently, an unusable one `None` with a warning that names the
    /// file and what is wrong (the daemon then starts fresh).
    fn load(&self) -> Option<CheckpointBody<RoutingState>> {
        let path = self.path.as_ref()?;
        let f = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(
                    "checkpoint {} cannot be opened, starting fresh: {e}",
                    path.display()
                );
                return None;
            }
        };
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        let started = std::time::Instant::now();
        // A gzip bomb is refused before it costs memory.
        let limit = bgpsentry_core::detect::checkpoint::decompressed_limit(size);
        match bgpsentry_core::detect::checkpoint::read_limited::<_, CheckpointBody<RoutingState>>(
            f,
            &self.fingerprint,
            limit,
        ) {
            Ok((header, body)) => {
                println!(
                    "checkpoint: read {} ({} bytes, state up to {}) in {} ms",
                    path.display(),
                    size,
                    header.message_time,
                    started.elapsed().as_millis()
                );
                Some(body)
            }
            Err(e) => {
                tracing::warn!(
                    "checkpoint {} ({size} bytes) not used, starting fresh: {e}",
                    path.display()
                );
                None
            }
        }
    }

    fn due(&self) -> bool {
        self.path.is_some() && self.interval.is_some_and(|i| self.last.elapsed() >= i)
    }

    /// Writes a checkpoint now.
    fn write(&mut self, set: &DetectorSet, peers: &PeerTable) {
        self.last = std::time::Instant::now();
        let Some(path) = self.path.clone() else {
            return;
        };
        let started = std::time::Instant::now();
        match self.write_to(&path, set, peers) {
            Ok(size) => println!(
                "checkpoint: wrote {} ({} bytes, state up to {}) in {} ms",
                path.display(),
                size,
                set.now(),
                started.elapsed().as_millis()
            ),
            Err(e) => {
                tracing::error!(checkpoint = %path.display(), "writing the checkpoint failed: {e:#}")
            }
        }
    }

    fn write_to(&self, path: &Path, set: &DetectorSet, peers: &PeerTable) -> anyhow::Result<u64> {
        let tmp = PathBuf::from(format!("{}.tmp", path.display()));
        let f =
            std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let header = bgpsentry_core::detect::checkpoint::Header::new(&self.fingerprint, set.now());
        let body = CheckpointBody {
            peers: PeersRepr::of(peers),
            replayed: self.replayed.clone(),
            detectors: set.snapshot(),
        };
        let f = bgpsentry_core::detect::checkpoint::write(f, &header, &body)?;
        f.sync_all()
            .with_context(|| format!("syncing {}", tmp.display()))?;
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        drop(f);
        std::fs::rename(&tmp, path)
            .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
        if let Some(dir) = path.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(size)
    }
}

/// The daemon's [`DetectorSet`] as the pipeline's only detector, shared
/// with the checkpointer (one thread; the pipeline never holds the borrow
/// across calls).
struct Shared(Rc<RefCell<DetectorSet>>);

impl Detector for Shared {
    fn observe(&mut self, msg: &RouteMessage, peers: &PeerTable, out: &mut Vec<EventChange>) {
        self.0.borrow_mut().observe(msg, peers, out);
    }
    fn advance(&mut self, now: Timestamp, out: &mut Vec<EventChange>) {
        self.0.borrow_mut().advance(now, out);
    }
    fn finish(&mut self, now: Timestamp, out: &mut Vec<EventChange>) {
        self.0.borrow_mut().finish(now, out);
    }
}

/// Re-interns the peers of an MRT replay into the daemon's (restored)
/// peer table, so replayed routes and restored routes share peer ids.
struct Remap<'a, 'b> {
    inner: &'a mut DetectSink<'b>,
    target: &'a mut PeerTable,
    map: Vec<Option<PeerId>>,
}

impl crate::ingest::mrt::Sink for Remap<'_, '_> {
    fn message(&mut self, msg: &RouteMessage, peers: &PeerTable) {
        let idx = msg.peer.0 as usize;
        let id = match self.map.get(idx).copied().flatten() {
            Some(id) => id,
            None => {
                let Some(info) = peers.info(msg.peer) else {
                    return;
                };
                let c = self.target.collector(peers.collector_name(info.collector));
                let id = self.target.peer(c, info.ip, info.asn);
                if self.map.len() <= idx {
                    self.map.resize(idx + 1, None);
                }
                self.map[idx] = Some(id);
                id
            }
        };
        let m = RouteMessage {
            ts: msg.ts,
            peer: id,
            event: msg.event.clone(),
        };
        self.inner.message(&m, self.target);
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM (systemd's stop).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The largest event id of each kind already in the store.
fn stored_max_ids(store: &Store) -> anyhow::Result<(u64, u64)> {
    let q = |table: &str| -> anyhow::Result<u64> {
        let v: i64 = store.connection().query_row(
            &format!("SELECT COALESCE(MAX(id), 0) FROM {table}"),
            [],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(v).unwrap_or(0))
    };
    Ok((q("hijacks")?, q("leaks")?))
}

/// Watches every live source's health once a second and turns blind /
/// recovered transitions into one log line and (with a notifier) one
/// notice through the alert channels each.
async fn watch_blind(
    healths: Vec<Arc<crate::ingest::health::SourceHealth>>,
    notifier: Option<crate::alert::source::SourceNotifier>,
    grace: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    use crate::alert::source::{SourceNotice, SourceStage};
    use crate::ingest::health::{BlindTracker, now_ts};
    let started = std::time::Instant::now();
    let mut trackers: Vec<BlindTracker> = healths.iter().map(|_| BlindTracker::default()).collect();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = crate::ingest::live::stopped(&mut stop) => return,
        }
        let now = now_ts();
        let armed = started.elapsed() >= grace;
        for (h, t) in healths.iter().zip(trackers.iter_mut()) {
            let Some(tr) = t.check(h, now, armed) else {
                continue;
            };
            if tr.blind {
                tracing::warn!(source = h.name(), kind = h.kind(), reason = %tr.reason, silent_secs = tr.silent_for.as_secs(), "monitoring blind");
            } else {
                tracing::warn!(
                    source = h.name(),
                    kind = h.kind(),
                    silent_secs = tr.silent_for.as_secs(),
                    "monitoring restored"
                );
            }
            if let Some(n) = &notifier {
                n.notify(SourceNotice {
                    stage: if tr.blind {
                        SourceStage::Blind
                    } else {
                        SourceStage::Recovered
                    },
                    source: h.name().to_string(),
                    kind: h.kind().to_string(),
                    reason: tr.reason,
                    silent_for: tr.silent_for,
                    last_message: tr.last_message,
                    at: now,
                });
            }
        }
    }
}

fn tokens_from_env(var: Option<&str>) -> Tokens {
    let raw = var.and_then(|v| std::env::var(v).ok()).unwrap_or_default();
    Tokens::new(
        raw.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty()),
    )
}

/// What [`run_live`] needs besides the pipeline.
struct LiveCtx<'a> {
    sources: &'a [crate::ingest::live::SourceConfig],
    api: &'a AppState,
    signal: tokio::sync::watch::Receiver<bool>,
    set: Rc<RefCell<DetectorSet>>,
    checkpoints: &'a mut Checkpointer,
    publisher: &'a mut crate::routing_snapshot::Publisher,
    evidence: &'a bgpsentry_core::evidence::Evidence,
    notifier: Option<crate::alert::source::SourceNotifier>,
    blind_grace: Duration,
}

/// Feeds the live sources into the detectors until SIGINT / SIGTERM (or
/// until every source has stopped), writing checkpoints on schedule. Peers
/// are interned into the same table as the MRT replay's, so a replayed RIB
/// and the live feed share routing state.
fn run_live(
    rt: &tokio::runtime::Runtime,
    ctx: LiveCtx<'_>,
    sink: &mut DetectSink<'_>,
    peers: &mut PeerTable,
) -> anyhow::Result<()> {
    use crate::ingest::live::{LiveItem, run as run_source};
    let (tx, mut rx) = tokio::sync::mpsc::channel::<LiveItem>(1024);
    let mut healths = Vec::new();
    for s in ctx.sources {
        let health = s.new_health();
        healths.push(health.clone());
        if let Ok(mut v) = ctx.api.sources.lock() {
            v.push(health.clone());
        }
        let name = s.name();
        let tx = tx.clone();
        let stop = ctx.signal.clone();
        let s = s.clone();
        rt.spawn(async move {
            if let Err(e) = run_source(s, tx, health, stop).await {
                tracing::error!(source = %name, "source stopped: {e}");
            }
        });
    }
    drop(tx);
    let monitor = rt.spawn(watch_blind(
        healths,
        ctx.notifier,
        ctx.blind_grace,
        ctx.signal.clone(),
    ));
    println!(
        "live: {} source(s) running; Ctrl-C or SIGTERM stops",
        ctx.sources.len()
    );
    loop {
        let next =
            rt.block_on(async { tokio::time::timeout(Duration::from_secs(1), rx.recv()).await });
        match next {
            Err(_) => sink.idle(),
            Ok(None) => break,
            Ok(Some(LiveItem::Batch(b))) => {
                b.feed(peers, sink);
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
        if ctx.checkpoints.due() {
            // What the checkpoint says was reported is in the store first.
            sink.idle();
            ctx.checkpoints.write(&ctx.set.borrow(), peers);
        }
        if ctx.publisher.due() {
            let snap = routes_snapshot(&ctx.set.borrow(), ctx.evidence, peers.len());
            if !ctx.publisher.offer(snap) {
                tracing::warn!("routing snapshot skipped: the previous one is still being written");
            }
        }
    }
    monitor.abort();
    Ok(())
}

/// The detectors' routing state as a snapshot for the routing endpoints
/// (empty when the hijack detector is off).
fn routes_snapshot(
    set: &DetectorSet,
    evidence: &bgpsentry_core::evidence::Evidence,
    peers: usize,
) -> crate::store::RoutingSnapshot {
    match &set.hijack {
        Some(h) => crate::routing_snapshot::build(h.state(), evidence, set.now(), peers),
        None => crate::store::RoutingSnapshot {
            data_time: set.now(),
            total_peers: u32::try_from(peers).unwrap_or(u32::MAX),
            ..Default::default()
        },
    }
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
    // SIGINT / SIGTERM from here on stop the daemon gracefully: live
    // sources stop, what they sent is processed, a checkpoint is written.
    let (signal_tx, signal_rx) = tokio::sync::watch::channel(false);
    rt.spawn(async move {
        shutdown_signal().await;
        let _ = signal_tx.send(true);
        eprintln!("bgpsentry: stopping after the work in hand; a second signal exits at once");
        shutdown_signal().await;
        std::process::exit(crate::run::EXIT_FAILED);
    });

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
        // Every demo starts from scratch.
        cfg.checkpoint.enabled = false;
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
    cfg.http
        .validate()
        .map_err(|e| anyhow::anyhow!("[http]: {e}"))?;

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
    let http = cfg.http.clone();
    let api = rt.spawn(async move {
        crate::api::serve_limited(listener, state, &http, async move {
            let _ = stop_api.changed().await;
        })
        .await
    });
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

    let mut checkpoints = Checkpointer::new(
        &cfg.checkpoint,
        &db,
        crate::detectors::fingerprint(&detect_args),
    );
    checkpoints.check_path()?;
    let mut code = crate::run::EXIT_COMPLETE;
    let live = !cfg.source.is_empty() && !args.exit_after_replay;
    let restored = if !cfg.mrt.is_empty() || live {
        checkpoints.load()
    } else {
        None
    };
    // No detector state from before: what the store holds as ongoing is
    // either replayed again (same natural key, same row) or ended.
    let mut fresh = restored.is_none();
    // MRT inputs a restored state has already seen are not replayed again.
    let mut mrt = cfg.mrt.clone();
    if let Some(r) = &restored {
        let before = mrt.len();
        mrt.retain(|m| !r.replayed.contains(m));
        if mrt.len() < before {
            println!(
                "checkpoint: {} MRT input(s) already replayed before the restart; skipped",
                before - mrt.len()
            );
        }
        checkpoints.replayed = r.replayed.clone();
    }
    let read = ReadArgs {
        inputs: mrt.clone(),
        collector: None,
        stall: Duration::from_secs(30),
        progress: false,
    };
    if !mrt.is_empty() || live {
        // Relationships inferred from the MRT inputs; the decoded messages
        // are kept (bounded) so the detection pass does not decode twice.
        let mut recorded = None;
        if evidence_args.asrel.is_none() && !detect_args.leak.no_leak && !mrt.is_empty() {
            let (rels, rec) = crate::detectors::infer_and_record(&read, MAX_CACHED_MESSAGES)?;
            evidence.asrel = rels;
            recorded = rec;
        }
        let evidence = Arc::new(evidence);
        let asrel_source = match &evidence_args.asrel {
            Some(p) => format!("file {p}"),
            None => "inferred from the MRT inputs".to_string(),
        };
        let mut publisher =
            crate::routing_snapshot::Publisher::start(&db, evidence.clone(), asrel_source)
                .context("starting the routing snapshot writer")?;
        // A restored state carries the bootstrapped baseline: the tables
        // are loaded only for a fresh start.
        let mut set = if restored.is_some() {
            let no_bootstrap = DetectArgs {
                bootstrap: Vec::new(),
                ..detect_args.clone()
            };
            crate::detectors::build_set(&no_bootstrap, evidence.clone())?
        } else {
            crate::detectors::build_set(&detect_args, evidence.clone())?
        };
        let mut peers = PeerTable::new();
        if let Some(body) = restored {
            let res = body
                .peers
                .table()
                .and_then(|t| set.restore(body.detectors).map(|()| t));
            match res {
                Ok(t) => {
                    peers = t;
                    let (h, l) = set.next_ids();
                    println!(
                        "checkpoint: restored {} peers, state up to {}; next ids: hijack {h}, leak {l}",
                        peers.len(),
                        set.now()
                    );
                }
                Err(e) => {
                    let path = checkpoints
                        .path
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    tracing::warn!("checkpoint {path} not used, starting fresh: {e:#}");
                    fresh = true;
                    checkpoints.replayed.clear();
                    set = crate::detectors::build_set(&detect_args, evidence.clone())?;
                    peers = PeerTable::new();
                }
            }
        }
        // Never reuse an id the store already has (a lost or older
        // checkpoint, a store written by `replay --db`).
        let (max_h, max_l) = stored_max_ids(&store)?;
        set.reserve_ids(max_h + 1, max_l + 1);
        let set = Rc::new(RefCell::new(set));
        let mut outputs = Outputs {
            store: StoreSink::new(store, 0),
            alerts: alerter.as_ref().map(Alerter::sink),
            events: 0,
            close_orphans: fresh,
        };
        let events = {
            let mut sink = DetectSink::new(
                vec![Box::new(Shared(set.clone())) as Box<dyn Detector>],
                vec![&mut outputs],
            );
            if !mrt.is_empty() {
                let summary = if peers.is_empty() {
                    let (summary, p) = match recorded.take() {
                        Some(rec) => rec.replay_into(&mut sink),
                        None => read_all(&read, &mut sink)?,
                    };
                    peers = p;
                    summary
                } else {
                    let mut remap = Remap {
                        inner: &mut sink,
                        target: &mut peers,
                        map: Vec::new(),
                    };
                    match recorded.take() {
                        Some(rec) => rec.replay_into(&mut remap).0,
                        None => read_all(&read, &mut remap)?.0,
                    }
                };
                checkpoints.replayed.extend(mrt.iter().cloned());
                code = crate::run::exit_code(summary.status);
                println!(
                    "replayed {} records from {} inputs",
                    summary.records, summary.inputs
                );
            }
            if live {
                if !mrt.is_empty() {
                    publisher.offer(routes_snapshot(&set.borrow(), &evidence, peers.len()));
                    // A long replay is not redone if the live phase crashes.
                    sink.idle();
                    checkpoints.write(&set.borrow(), &peers);
                } else if fresh {
                    // Ends what an earlier run left ongoing before live
                    // changes arrive.
                    sink.idle();
                }
                let notifier = match (&alerter, cfg.blind_alerts.enabled) {
                    (Some(a), true) => Some(a.source_notifier()),
                    _ => None,
                };
                let ctx = LiveCtx {
                    sources: &cfg.source,
                    api: &api_state,
                    signal: signal_rx.clone(),
                    set: set.clone(),
                    checkpoints: &mut checkpoints,
                    publisher: &mut publisher,
                    evidence: &evidence,
                    notifier,
                    blind_grace: Duration::from_secs(cfg.blind_alerts.startup_grace_secs),
                };
                run_live(&rt, ctx, &mut sink, &mut peers)?;
            }
            let (events, _changes) = sink.finish();
            events
        };
        outputs.idle();
        let events: Vec<Event> = events.iter().map(|e| outputs.store.stored(e)).collect();
        let (mut store, committed) = outputs.store.finish().context("writing events")?;
        // After the store has everything the state says was reported.
        checkpoints.write(&set.borrow(), &peers);
        publisher.finish(Some(routes_snapshot(&set.borrow(), &evidence, peers.len())));
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
        let mut sig = signal_rx.clone();
        rt.block_on(crate::ingest::live::stopped(&mut sig));
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

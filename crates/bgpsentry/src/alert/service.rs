//! `bgpsentry alert`: poll a Radar-compatible API on a cron schedule (or
//! once, for cron/systemd timers) and deliver. Unlike the seed's Worker it
//! keeps a cursor per watch, kind and channel, records the newest id on a
//! first run (also when that first batch is empty), queues each new event
//! in the same transaction that moves the cursor, and sends from the outbox,
//! so a failed send is retried rather than lost.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bgpsentry_core::model::Asn;
use clap::Args;

use super::config::{AlertConfig, ApiConfig, ChannelConfig, Kind, WatchConfig, WebhookConfig};
use super::db::{AlertDb, Batch};
use super::deliver::{Engine, Stats};
use super::lifecycle::{NewTarget, plan};
use super::poll::Poller;
use super::schedule::Schedule;
use super::sink::build_channels;
use super::{AlertError, Result, now_ms};

/// `bgpsentry alert`.
#[derive(Debug, Args, Clone, Default)]
pub struct AlertArgs {
    /// The alert config (TOML; see etc/alert.example.toml).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Poll once, deliver, exit (for cron and systemd timers).
    #[arg(long)]
    pub once: bool,
    /// On a first run, send the events already there instead of only
    /// recording the newest id.
    #[arg(long)]
    pub backfill: bool,
    /// Check the config and secrets, then exit.
    #[arg(long)]
    pub check: bool,
    /// SQLite state file (overrides `state`).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// API base up to /client/v4 (overrides `[api] url`).
    #[arg(long, value_name = "URL")]
    pub api: Option<String>,
    /// Environment variable holding the API token.
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
    /// Crontab schedule, 5 fields, UTC (overrides `[schedule] cron`).
    #[arg(long, value_name = "EXPR")]
    pub cron: Option<String>,
    /// One-off watch: hijacker or victim (hijacks), any AS of the segment (leaks).
    #[arg(long, value_name = "ASN")]
    pub involved_asn: Option<Asn>,
    /// One-off watch: hijacker.
    #[arg(long, value_name = "ASN")]
    pub hijacker_asn: Option<Asn>,
    /// One-off watch: victim.
    #[arg(long, value_name = "ASN")]
    pub victim_asn: Option<Asn>,
    /// One-off watch: leaker.
    #[arg(long, value_name = "ASN")]
    pub leak_asn: Option<Asn>,
    /// One-off watch: prefix.
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<ipnet::IpNet>,
    /// One-off watch: minimum confidence score.
    #[arg(long, value_name = "N")]
    pub min_confidence: Option<i32>,
    /// One-off watch: kinds (hijack, leak), comma separated.
    #[arg(long, value_name = "KINDS", value_delimiter = ',')]
    pub kinds: Vec<String>,
    /// One-off channel: a generic JSON webhook URL.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// Environment variable holding the HMAC secret of `--webhook`.
    #[arg(long, value_name = "VAR")]
    pub webhook_secret_env: Option<String>,
}

impl AlertArgs {
    /// The effective config: the file (if any) with the flags applied.
    pub fn config(&self) -> Result<AlertConfig> {
        let mut cfg = match &self.config {
            Some(p) => AlertConfig::load(p)?,
            None => AlertConfig::default(),
        };
        if let Some(s) = &self.state {
            cfg.state = Some(s.clone());
        }
        if let Some(u) = &self.api {
            match &mut cfg.api {
                Some(a) => a.url = u.clone(),
                None => {
                    cfg.api = Some(ApiConfig {
                        url: u.clone(),
                        token_env: None,
                        token_file: None,
                        per_page: 100,
                        max_pages: 50,
                        timeout_secs: 30,
                        refresh_open: 50,
                    })
                }
            }
        }
        if let (Some(t), Some(a)) = (&self.token_env, &mut cfg.api) {
            a.token_env = Some(t.clone());
            a.token_file = None;
        }
        if let Some(c) = &self.cron {
            cfg.schedule.cron = c.clone();
        }
        if let Some(u) = &self.webhook {
            cfg.channels.push(ChannelConfig::Webhook(WebhookConfig {
                name: "cli-webhook".into(),
                url: Some(u.clone()),
                url_env: None,
                url_file: None,
                secret_env: self.webhook_secret_env.clone(),
                secret_file: None,
                headers: Default::default(),
                templates: Default::default(),
            }));
        }
        let any_filter = self.involved_asn.is_some()
            || self.hijacker_asn.is_some()
            || self.victim_asn.is_some()
            || self.leak_asn.is_some()
            || self.prefix.is_some()
            || self.min_confidence.is_some()
            || !self.kinds.is_empty();
        if any_filter {
            let mut kinds = Vec::new();
            for k in &self.kinds {
                kinds.push(match k.trim().to_ascii_lowercase().as_str() {
                    "hijack" | "hijacks" => Kind::Hijack,
                    "leak" | "leaks" => Kind::Leak,
                    other => {
                        return Err(AlertError::Config(format!(
                            "--kinds: unknown kind {other:?}"
                        )));
                    }
                });
            }
            cfg.watches.push(WatchConfig {
                name: "cli".into(),
                involved_asn: self.involved_asn,
                hijacker_asn: self.hijacker_asn,
                victim_asn: self.victim_asn,
                leak_asn: self.leak_asn,
                prefix: self.prefix,
                min_confidence: self.min_confidence,
                kinds: if kinds.is_empty() { None } else { Some(kinds) },
                channels: if self.webhook.is_some() {
                    Some(vec!["cli-webhook".into()])
                } else {
                    None
                },
            });
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

/// What one poll round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PollStats {
    /// New events fetched (above some cursor).
    pub fetched: u64,
    /// Messages queued.
    pub queued: u64,
    /// (watch, kind, channel) cursors seeded on a first run.
    pub seeded: u64,
    /// Open events re-checked.
    pub refreshed: u64,
    /// Watches whose query failed.
    pub errors: u64,
}

/// Polls every watch once and queues what is new; also re-checks open
/// events for escalation and resolution.
pub async fn poll_round(
    cfg: &Arc<AlertConfig>,
    db: &AlertDb,
    poller: &Poller,
    backfill: bool,
) -> PollStats {
    let mut st = PollStats::default();
    for w in &cfg.watches {
        let chans: Vec<String> = cfg
            .watch_channels(w)
            .into_iter()
            .map(str::to_string)
            .collect();
        for kind in w.effective_kinds() {
            match poll_watch(cfg, db, poller, w, kind, &chans, backfill).await {
                Ok(s) => {
                    st.fetched += s.fetched;
                    st.queued += s.queued;
                    st.seeded += s.seeded;
                }
                Err(e) => {
                    st.errors += 1;
                    tracing::error!(watch = %w.name, kind = kind.as_str(), error = %e, "alert poll failed");
                }
            }
        }
    }
    let limit = cfg.api.as_ref().map(|a| a.refresh_open).unwrap_or(0);
    if limit > 0 {
        let open = match db.run(move |db| db.open_events(limit)).await {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(error = %e, "alert state read failed");
                vec![]
            }
        };
        for (kind, id) in open {
            let kind = if kind == "leak" {
                Kind::Leak
            } else {
                Kind::Hijack
            };
            match poller.by_id(kind, id).await {
                Ok(Some(ev)) => {
                    st.refreshed += 1;
                    let cfg2 = cfg.clone();
                    let r = db
                        .run(move |db| {
                            let mut b = Batch::default();
                            plan(&cfg2, db, &ev, &[], &mut b)?;
                            db.apply(&b, now_ms())
                        })
                        .await;
                    match r {
                        Ok(n) => st.queued += n as u64,
                        Err(e) => tracing::error!(error = %e, "alert state write failed"),
                    }
                }
                Ok(None) => {
                    // Gone from the API (retention): stop checking it.
                    let key = format!("{}-{id}", kind.as_str());
                    let _ = db
                        .run(move |db| {
                            let b = Batch {
                                closed: vec![key],
                                ..Default::default()
                            };
                            db.apply(&b, now_ms())
                        })
                        .await;
                }
                Err(e) => tracing::warn!(id, error = %e, "alert refresh of an open event failed"),
            }
        }
    }
    st
}

async fn poll_watch(
    cfg: &Arc<AlertConfig>,
    db: &AlertDb,
    poller: &Poller,
    w: &WatchConfig,
    kind: Kind,
    chans: &[String],
    backfill: bool,
) -> Result<PollStats> {
    let mut st = PollStats::default();
    if chans.is_empty() {
        return Ok(st);
    }
    let (wn, kn, cs) = (w.name.clone(), kind.as_str().to_string(), chans.to_vec());
    let cursors: Vec<Option<u64>> = db
        .run(move |db| {
            cs.iter()
                .map(|c| db.cursor(&wn, &kn, c))
                .collect::<Result<Vec<_>>>()
        })
        .await?;
    // Effective cursor per channel: a channel without one is seeded (first
    // run) unless backfilling, in which case it starts from 0.
    let eff: Vec<Option<u64>> = cursors
        .iter()
        .map(|c| c.or(if backfill { Some(0) } else { None }))
        .collect();
    let stop = eff.iter().flatten().min().copied();
    let fetched = poller.fetch(w, kind, stop).await?;
    if fetched.truncated {
        tracing::warn!(watch = %w.name, kind = kind.as_str(), "more new events than api.max_pages pages; oldest skipped");
    }
    st.fetched = fetched.events.len() as u64;
    let newest = fetched.newest.unwrap_or(0);
    let mut batch = Batch::default();
    for e in &fetched.events {
        if !super::watch::matches(w, e) {
            continue;
        }
        let id = e.id();
        let ready: Vec<String> = chans
            .iter()
            .zip(&eff)
            .filter(|(_, c)| matches!(c, Some(c) if id > *c))
            .map(|(ch, _)| ch.clone())
            .collect();
        if ready.is_empty() {
            continue;
        }
        let t = [NewTarget {
            watch: w.name.clone(),
            channels: ready,
        }];
        plan(cfg, db, e, &t, &mut batch)?;
    }
    for (ch, c) in chans.iter().zip(&cursors) {
        let to = match c {
            Some(c) => (*c).max(newest),
            None => newest,
        };
        if c.is_none() && !backfill {
            st.seeded += 1;
            tracing::info!(watch = %w.name, kind = kind.as_str(), channel = %ch, newest, "first run: recorded the newest id, nothing sent");
        }
        batch
            .cursors
            .push((w.name.clone(), kind.as_str().to_string(), ch.clone(), to));
    }
    let queued = db.apply(&batch, now_ms())?;
    st.queued = queued as u64;
    Ok(st)
}

/// What `bgpsentry alert` ended with.
#[derive(Debug, Default, Clone, Copy)]
pub struct Outcome {
    /// Poll counters (last round).
    pub poll: PollStats,
    /// Delivery counters.
    pub delivery: Stats,
    /// Rows still queued at exit.
    pub pending: u64,
}

/// Runs `bgpsentry alert` with an effective config.
pub async fn run(cfg: AlertConfig, args: &AlertArgs) -> Result<Outcome> {
    let state = cfg.state.clone().ok_or_else(|| {
        AlertError::Config("no state file: set `state` in the config or pass --state".into())
    })?;
    let channels = build_channels(&cfg)?;
    let api = cfg
        .api
        .clone()
        .ok_or_else(|| AlertError::Config("no API to poll: set [api] url or pass --api".into()))?;
    let poller = Poller::new(&api)?;
    let schedule = Schedule::parse(&cfg.schedule.cron)?;
    if args.check {
        println!(
            "config ok: {} watch(es), {} channel(s)",
            cfg.watches.len(),
            channels.len()
        );
        return Ok(Outcome::default());
    }
    if cfg.watches.is_empty() {
        return Err(AlertError::Config(
            "no [[watch]] and no watch flags: nothing to alert on".into(),
        ));
    }
    let db = AlertDb::open(&state)?;
    let cfg = Arc::new(cfg);
    let engine = Engine::new(db.clone(), cfg.clone(), channels);
    let retention_ms = i64::from(cfg.delivery.retention_days) * 86_400_000;

    if args.once {
        let poll = poll_round(&cfg, &db, &poller, args.backfill).await;
        let wait =
            i64::try_from(cfg.delivery.once_wait_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let delivery = engine.drain(now_ms().saturating_add(wait)).await;
        let _ = db.run(move |db| db.prune(now_ms() - retention_ms)).await;
        let pending = db.run(|db| db.pending(None)).await?;
        if poll.errors > 0 && poll.fetched == 0 {
            return Err(AlertError::Api(format!(
                "{} watch queries failed",
                poll.errors
            )));
        }
        return Ok(Outcome {
            poll,
            delivery,
            pending,
        });
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let workers: Vec<_> = engine
        .channels
        .iter()
        .map(|c| tokio::spawn(engine.clone().worker(c.clone(), stop_rx.clone())))
        .collect();
    let mut backfill = args.backfill;
    let mut last;
    loop {
        last = poll_round(&cfg, &db, &poller, backfill).await;
        backfill = false;
        tracing::info!(?last, "alert poll round");
        engine.wake_all();
        let _ = db.run(move |db| db.prune(now_ms() - retention_ms)).await;
        let now = chrono::Utc::now();
        let Some(next) = schedule.next_after(now) else {
            return Err(AlertError::Config("schedule has no next run".into()));
        };
        let wait = (next - now).to_std().unwrap_or(Duration::from_secs(1));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    let _ = stop_tx.send(true);
    let mut delivery = Stats::default();
    for w in workers {
        if let Ok(s) = w.await {
            delivery.sent += s.sent;
            delivery.rows += s.rows;
            delivery.failures += s.failures;
            delivery.digests += s.digests;
        }
    }
    let pending = db.run(|db| db.pending(None)).await?;
    Ok(Outcome {
        poll: last,
        delivery,
        pending,
    })
}

/// Entry point of the subcommand: exit 0 when everything queued was
/// delivered, 3 when some messages are still queued (they go out on the
/// next run), 1 on failure.
pub fn main(args: &AlertArgs) -> anyhow::Result<i32> {
    let cfg = args.config()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let out = rt.block_on(run(cfg, args))?;
    if args.check {
        return Ok(crate::run::EXIT_COMPLETE);
    }
    eprintln!(
        "bgpsentry alert: {} new event(s), {} message(s) queued, {} sent ({} digest(s)), {} failed attempt(s), {} still queued",
        out.poll.fetched,
        out.poll.queued,
        out.delivery.sent,
        out.delivery.digests,
        out.delivery.failures,
        out.pending
    );
    Ok(if out.pending > 0 {
        crate::run::EXIT_PARTIAL
    } else {
        crate::run::EXIT_COMPLETE
    })
}

//! In-process alerting: the daemon's detectors feed [`AlertSink`] (a
//! [`ChangeSink`]) directly, for sub-second alerts without polling.
//!
//! ```text
//! detector thread ── AlertSink::change (clone + unbounded send, never blocks)
//!                        │
//!                        ▼
//!                  intake task: coalesce queued changes per event (latest
//!                  state wins), match watches, lifecycle::plan, one SQLite
//!                  transaction, wake the channels' workers
//!                        │
//!                        ▼
//!                  deliver::Engine::worker × channels
//! ```
//!
//! ```ignore
//! let alerter = Alerter::start(cfg, &db_path)?;   // inside a tokio runtime
//! let mut sink = alerter.sink();
//! let mut detect = DetectSink::new(detectors, vec![&mut store_sink, &mut sink]);
//! ... // feed messages
//! alerter.shutdown(Duration::from_secs(10)).await;  // drains what it can
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bgpsentry_core::model::{Event, EventChange};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::channel::Channel;
use super::config::AlertConfig;
use super::db::{AlertDb, Batch};
use super::deliver::{Engine, Stats};
use super::lifecycle::{NewTarget, plan};
use super::notification::event_key;
use super::{AlertError, Result, now_ms};
use crate::pipeline::ChangeSink;

/// Builds every configured channel (reads secrets) with one HTTP client.
pub fn build_channels(cfg: &AlertConfig) -> Result<Vec<Channel>> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(cfg.delivery.timeout_secs.max(1)))
        .user_agent(super::channel::http::USER_AGENT)
        .build()
        .map_err(|e| AlertError::Config(format!("http client: {e}")))?;
    cfg.channels
        .iter()
        .map(|c| Channel::build(c, cfg, http.clone()))
        .collect()
}

/// The "new" targets of an event in-process: every matching watch.
pub fn targets(cfg: &AlertConfig, e: &Event) -> Vec<NewTarget> {
    cfg.watches
        .iter()
        .filter(|w| super::watch::matches(w, e))
        .map(|w| NewTarget {
            watch: w.name.clone(),
            channels: cfg
                .watch_channels(w)
                .into_iter()
                .map(str::to_string)
                .collect(),
        })
        .collect()
}

/// Plans and queues one event state; returns the channels that got rows.
pub fn ingest(cfg: &AlertConfig, db: &AlertDb, events: &[Event]) -> Result<Vec<String>> {
    let mut batch = Batch::default();
    for e in events {
        let t = targets(cfg, e);
        plan(cfg, db, e, &t, &mut batch)?;
    }
    let mut chans: Vec<String> = batch.rows.iter().map(|n| n.channel.clone()).collect();
    chans.sort();
    chans.dedup();
    db.apply(&batch, now_ms())?;
    Ok(chans)
}

/// The handle the daemon keeps: the intake and one worker per channel.
#[derive(Debug)]
pub struct Alerter {
    tx: mpsc::UnboundedSender<EventChange>,
    engine: Engine,
    shutdown: watch::Sender<bool>,
    intake: JoinHandle<()>,
    workers: Vec<JoinHandle<Stats>>,
}

/// What the detectors call; cheap to clone.
#[derive(Debug, Clone)]
pub struct AlertSink {
    tx: mpsc::UnboundedSender<EventChange>,
}

impl ChangeSink for AlertSink {
    fn change(&mut self, change: &EventChange) {
        if self.tx.send(change.clone()).is_err() {
            tracing::error!(
                event = change.event.id(),
                "alerter stopped; change not alerted"
            );
        }
    }
}

impl Alerter {
    /// Starts intake and workers on the current tokio runtime.
    pub fn start(cfg: AlertConfig, db_path: &Path) -> Result<Alerter> {
        let db = AlertDb::open(db_path)?;
        Self::start_with(cfg, db)
    }

    /// Starts over an open database.
    pub fn start_with(cfg: AlertConfig, db: AlertDb) -> Result<Alerter> {
        cfg.validate()?;
        let channels = build_channels(&cfg)?;
        let cfg = Arc::new(cfg);
        let engine = Engine::new(db, cfg.clone(), channels);
        let (shutdown, rx) = watch::channel(false);
        let workers = engine
            .channels
            .iter()
            .map(|c| tokio::spawn(engine.clone().worker(c.clone(), rx.clone())))
            .collect();
        let (tx, mut changes) = mpsc::unbounded_channel::<EventChange>();
        let eng = engine.clone();
        let intake = tokio::spawn(async move {
            let mut buf = Vec::new();
            while changes.recv_many(&mut buf, 4096).await > 0 {
                // Latest state per event wins: a burst of "grown" changes
                // (one per prefix) becomes one decision.
                let mut latest: BTreeMap<String, Event> = BTreeMap::new();
                for c in buf.drain(..) {
                    latest.insert(event_key(&c.event), c.event);
                }
                let events: Vec<Event> = latest.into_values().collect();
                let cfg = eng.cfg.clone();
                match eng.db.run(move |db| ingest(&cfg, db, &events)).await {
                    Ok(chans) => {
                        for c in chans {
                            eng.wake(&c);
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "alert intake failed; changes not queued")
                    }
                }
            }
        });
        // Rows left by an earlier run go out now.
        engine.wake_all();
        Ok(Alerter {
            tx,
            engine,
            shutdown,
            intake,
            workers,
        })
    }

    /// A sink for the detectors.
    pub fn sink(&self) -> AlertSink {
        AlertSink {
            tx: self.tx.clone(),
        }
    }

    /// Sends "monitoring blind" notices through this alerter's channels.
    pub fn source_notifier(&self) -> super::source::SourceNotifier {
        super::source::SourceNotifier::new(self.engine.cfg.clone(), self.engine.channels.clone())
    }

    /// The delivery engine (status, tests).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Stops taking changes, queues what was sent, delivers for up to
    /// `grace`, then stops the workers. Rows still pending stay queued.
    pub async fn shutdown(self, grace: Duration) -> Stats {
        let Alerter {
            tx,
            engine,
            shutdown,
            intake,
            workers,
        } = self;
        drop(tx);
        // Other AlertSink clones may still hold senders: don't wait forever.
        let _ = tokio::time::timeout(grace, intake).await;
        let deadline = now_ms() + i64::try_from(grace.as_millis()).unwrap_or(0);
        // Workers finish their round, then one drain (never both at once,
        // which would send rows twice).
        let _ = shutdown.send(true);
        let mut total = Stats::default();
        for w in workers {
            if let Ok(s) = w.await {
                total.sent += s.sent;
                total.rows += s.rows;
                total.failures += s.failures;
                total.digests += s.digests;
            }
        }
        let d = engine.drain(deadline).await;
        total.sent += d.sent;
        total.rows += d.rows;
        total.failures += d.failures;
        total.digests += d.digests;
        total
    }
}

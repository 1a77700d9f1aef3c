//! Delivery: one worker per channel drains that channel's outbox rows, so a
//! slow or failing channel never holds up another. Per channel:
//!
//! - rows go out in queue order, except that a row waits while an earlier
//!   row of the same event is undelivered ("resolved" never overtakes "new");
//! - at most `rate_limit.max_messages` sends per `window_secs`; when more
//!   rows are due than the window allows, they go out as one digest;
//! - a failed send is retried with exponential backoff and full jitter
//!   (`initial_backoff_ms · 2^attempts`, capped, then a uniform draw from the
//!   upper half); a receiver-wide failure (network, 5xx, 429) pauses the
//!   channel, a message-specific one (other 4xx) only delays that row;
//! - a row is marked delivered only after a 2xx or an accepted SMTP
//!   transaction.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::channel::{Channel, Message};
use super::config::AlertConfig;
use super::db::{AlertDb, OutboxRow};
use super::now_ms;

/// Rows read per round (and the most one digest carries).
pub const ROUND_ROWS: u32 = 1000;

/// What a round did and what the worker should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// More is due right now.
    Again,
    /// Nothing due before this time (ms), or nothing pending at all.
    WaitUntil(Option<i64>),
}

/// Counters of one worker or drain.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Messages sent (a digest is one).
    pub sent: u64,
    /// Rows delivered.
    pub rows: u64,
    /// Failed attempts.
    pub failures: u64,
    /// Digests sent.
    pub digests: u64,
}

/// The delivery side: channels, their wake-ups and the database.
#[derive(Debug, Clone)]
pub struct Engine {
    /// State.
    pub db: AlertDb,
    /// Config (rate limits, backoff).
    pub cfg: Arc<AlertConfig>,
    /// Channels by name.
    pub channels: Arc<Vec<Arc<Channel>>>,
    wake: Arc<HashMap<String, Arc<Notify>>>,
}

/// A random `u64` (jitter only; not for secrets).
fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(now_ms());
    h.finish()
}

/// The delay before retry number `attempts + 1`.
pub fn backoff(cfg: &AlertConfig, attempts: u32) -> Duration {
    let base = cfg.delivery.initial_backoff_ms.max(1);
    let cap = cfg.delivery.max_backoff_secs.saturating_mul(1000).max(base);
    let exp = base.saturating_mul(1u64 << attempts.min(30)).min(cap);
    let half = exp / 2;
    let jitter = if half == 0 {
        0
    } else {
        random_u64() % (half + 1)
    };
    Duration::from_millis(exp - half + jitter)
}

impl Engine {
    /// An engine over built channels.
    pub fn new(db: AlertDb, cfg: Arc<AlertConfig>, channels: Vec<Channel>) -> Self {
        let channels: Vec<Arc<Channel>> = channels.into_iter().map(Arc::new).collect();
        let wake = channels
            .iter()
            .map(|c| (c.name().to_string(), Arc::new(Notify::new())))
            .collect();
        Engine {
            db,
            cfg,
            channels: Arc::new(channels),
            wake: Arc::new(wake),
        }
    }

    /// Wakes the worker of a channel (new rows queued).
    pub fn wake(&self, channel: &str) {
        if let Some(n) = self.wake.get(channel) {
            n.notify_one();
        }
    }

    /// Wakes every worker.
    pub fn wake_all(&self) {
        for n in self.wake.values() {
            n.notify_one();
        }
    }

    /// One delivery round for a channel.
    pub async fn round(&self, ch: &Arc<Channel>, stats: &mut Stats) -> super::Result<Next> {
        let name = ch.name().to_string();
        let now = now_ms();
        let rows = {
            let name = name.clone();
            self.db
                .run(move |db| db.due(&name, now, ROUND_ROWS))
                .await?
        };
        if rows.is_empty() {
            let name = name.clone();
            let next = self.db.run(move |db| db.next_due_ms(&name)).await?;
            return Ok(Next::WaitUntil(next));
        }
        let rl = &self.cfg.rate_limit;
        let window_ms = i64::try_from(rl.window_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let since = now.saturating_sub(window_ms);
        let used = {
            let name = name.clone();
            self.db.run(move |db| db.sends_since(&name, since)).await?
        };
        let budget = rl.max_messages.saturating_sub(used) as usize;
        if budget == 0 {
            let name = name.clone();
            let oldest = self
                .db
                .run(move |db| db.oldest_send_since(&name, since))
                .await?;
            return Ok(Next::WaitUntil(Some(
                oldest
                    .unwrap_or(now)
                    .saturating_add(window_ms)
                    .saturating_add(1),
            )));
        }
        // The last message a window allows carries everything due.
        if rows.len() > 1 && (rows.len() > budget || budget == 1) && ch.supports_digest() {
            return self.send_digest(ch, rows, stats).await;
        }
        for row in rows.into_iter().take(budget) {
            let m = ch.common().renderer.single(&row.notification);
            match ch.send(&m).await {
                Ok(()) => {
                    let (name, key, seq) = (
                        name.clone(),
                        row.notification.idempotency_key.clone(),
                        row.seq,
                    );
                    self.db
                        .run(move |db| db.delivered(&name, &[seq], &key, now_ms()))
                        .await?;
                    stats.sent += 1;
                    stats.rows += 1;
                }
                Err(e) => {
                    stats.failures += 1;
                    let mut delay = backoff(&self.cfg, row.attempts);
                    if let Some(ra) = e.retry_after {
                        delay = delay.max(ra);
                    }
                    let next = now_ms()
                        .saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
                    tracing::warn!(
                        channel = %name, key = %row.notification.idempotency_key, attempt = row.attempts + 1,
                        retry_in_ms = delay.as_millis() as u64, error = %e, "alert delivery failed"
                    );
                    let (seq, msg) = (row.seq, e.message.clone());
                    self.db.run(move |db| db.failed(&[seq], next, &msg)).await?;
                    if !e.permanent_for_message {
                        // The receiver is down: pause the whole channel.
                        return Ok(Next::WaitUntil(Some(next)));
                    }
                }
            }
        }
        Ok(Next::Again)
    }

    async fn send_digest(
        &self,
        ch: &Arc<Channel>,
        rows: Vec<OutboxRow>,
        stats: &mut Stats,
    ) -> super::Result<Next> {
        let name = ch.name().to_string();
        let items: Vec<_> = rows.iter().map(|r| r.notification.clone()).collect();
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        let attempts = rows.iter().map(|r| r.attempts).max().unwrap_or(0);
        let m: Message<'_> = ch.common().renderer.digest(&items);
        let key = m.key().to_string();
        match ch.send(&m).await {
            Ok(()) => {
                let n = seqs.len() as u64;
                self.db
                    .run(move |db| db.delivered(&name, &seqs, &key, now_ms()))
                    .await?;
                stats.sent += 1;
                stats.digests += 1;
                stats.rows += n;
                tracing::info!(channel = %ch.name(), rows = n, "alert digest delivered");
                Ok(Next::Again)
            }
            Err(e) => {
                stats.failures += 1;
                let mut delay = backoff(&self.cfg, attempts);
                if let Some(ra) = e.retry_after {
                    delay = delay.max(ra);
                }
                let next =
                    now_ms().saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
                tracing::warn!(channel = %name, rows = seqs.len(), error = %e, "alert digest delivery failed");
                let msg = e.message.clone();
                self.db.run(move |db| db.failed(&seqs, next, &msg)).await?;
                Ok(Next::WaitUntil(Some(next)))
            }
        }
    }

    /// Runs a channel's worker until `shutdown` turns true.
    pub async fn worker(self, ch: Arc<Channel>, mut shutdown: watch::Receiver<bool>) -> Stats {
        let mut stats = Stats::default();
        let wake = self
            .wake
            .get(ch.name())
            .cloned()
            .unwrap_or_else(|| Arc::new(Notify::new()));
        loop {
            if *shutdown.borrow() {
                return stats;
            }
            let next = match self.round(&ch, &mut stats).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(channel = %ch.name(), error = %e, "alert delivery round failed");
                    Next::WaitUntil(Some(now_ms() + 1000))
                }
            };
            let sleep_ms = match next {
                Next::Again => continue,
                Next::WaitUntil(Some(t)) => (t - now_ms()).clamp(0, 3_600_000),
                Next::WaitUntil(None) => 3_600_000,
            };
            if sleep_ms == 0 {
                continue;
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(sleep_ms as u64)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Delivers until nothing is due before `deadline_ms` (for `--once`);
    /// all channels concurrently. Undelivered rows stay queued.
    pub async fn drain(&self, deadline_ms: i64) -> Stats {
        let mut tasks = Vec::new();
        for ch in self.channels.iter() {
            let me = self.clone();
            let ch = ch.clone();
            tasks.push(tokio::spawn(async move {
                let mut stats = Stats::default();
                loop {
                    let next = match me.round(&ch, &mut stats).await {
                        Ok(n) => n,
                        Err(e) => {
                            tracing::error!(channel = %ch.name(), error = %e, "alert delivery round failed");
                            return stats;
                        }
                    };
                    match next {
                        Next::Again => {}
                        Next::WaitUntil(None) => return stats,
                        Next::WaitUntil(Some(t)) if t >= deadline_ms => return stats,
                        Next::WaitUntil(Some(t)) => {
                            let ms = (t - now_ms()).max(0) as u64;
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                        }
                    }
                }
            }));
        }
        let mut total = Stats::default();
        for t in tasks {
            if let Ok(s) = t.await {
                total.sent += s.sent;
                total.rows += s.rows;
                total.failures += s.failures;
                total.digests += s.digests;
            }
        }
        total
    }
}

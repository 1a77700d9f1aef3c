//! Alert state in SQLite: the `alert_*` tables, next to (but independent of)
//! the event store's tables in the same file. Own migrations, versioned in
//! `alert_schema_version` so the store's `user_version` stays the store's.
//!
//! - `alert_cursor`: last handled event id per (watch, kind, channel).
//! - `alert_event`: per event, the scope when it was first notified (the
//!   baseline for "escalated") and whether it is still open.
//! - `alert_outbox`: every message ever queued; `idem_key` is UNIQUE, which
//!   is what makes each lifecycle stage go out at most once per event and
//!   channel. Rows go `pending` → `delivered`.
//! - `alert_send`: one row per message actually sent (a digest is one), for
//!   rate limits across runs of `--once`.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::notification::{Notification, Scope};
use super::{AlertError, Result};

/// Current version of the alert tables.
pub const SCHEMA_VERSION: i64 = 1;

const MIGRATION_1: &str = "
CREATE TABLE IF NOT EXISTS alert_cursor (
    watch      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    channel    TEXT NOT NULL,
    last_id    INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (watch, kind, channel)
);
CREATE TABLE IF NOT EXISTS alert_event (
    event_key       TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    event_id        INTEGER NOT NULL,
    base_confidence INTEGER NOT NULL,
    base_prefixes   INTEGER NOT NULL,
    base_peers      INTEGER NOT NULL,
    open            INTEGER NOT NULL DEFAULT 1,
    checked_ms      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_event_open ON alert_event (open, checked_ms);
CREATE TABLE IF NOT EXISTS alert_outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    idem_key     TEXT NOT NULL UNIQUE,
    channel      TEXT NOT NULL,
    event_key    TEXT NOT NULL,
    stage        TEXT NOT NULL,
    body         TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_ms      INTEGER NOT NULL,
    created_ms   INTEGER NOT NULL,
    delivered_ms INTEGER,
    last_error   TEXT
);
CREATE INDEX IF NOT EXISTS alert_outbox_due ON alert_outbox (channel, state, next_ms);
CREATE INDEX IF NOT EXISTS alert_outbox_event ON alert_outbox (event_key, channel);
CREATE TABLE IF NOT EXISTS alert_send (
    channel  TEXT NOT NULL,
    sent_ms  INTEGER NOT NULL,
    idem_key TEXT NOT NULL,
    items    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_send_ch ON alert_send (channel, sent_ms);
";

/// One queued message as read back for delivery.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// Queue order.
    pub seq: i64,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The message.
    pub notification: Notification,
}

/// A cursor update: (watch, kind, channel, last id).
pub type CursorUpdate = (String, String, String, u64);

/// Everything one decision round writes, in one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    /// Messages to queue (ignored when the idempotency key exists).
    pub rows: Vec<Notification>,
    /// Baselines of first-notified events: (event key, kind, id, scope).
    pub baselines: Vec<(String, String, u64, Scope)>,
    /// Events that ended: no more refreshes.
    pub closed: Vec<String>,
    /// Events refreshed without news.
    pub checked: Vec<String>,
    /// Cursor moves.
    pub cursors: Vec<CursorUpdate>,
}

impl Batch {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
            && self.baselines.is_empty()
            && self.closed.is_empty()
            && self.checked.is_empty()
            && self.cursors.is_empty()
    }
}

/// The alert state database (one connection, shared).
#[derive(Clone)]
pub struct AlertDb {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for AlertDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AlertDb")
    }
}

impl AlertDb {
    /// Opens (creating if needed) the file and migrates the alert tables.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    /// An in-memory database (tests).
    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self> {
        conn.busy_timeout(Duration::from_secs(10))?;
        // WAL lets the store's writer and the API readers go on while we write.
        let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        // A queued alert must survive a crash: fsync every commit.
        conn.execute_batch("PRAGMA synchronous=FULL;")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS alert_schema_version (version INTEGER NOT NULL);",
        )?;
        let v: Option<i64> = conn
            .query_row("SELECT MAX(version) FROM alert_schema_version", [], |r| {
                r.get(0)
            })
            .optional()?
            .flatten();
        let v = v.unwrap_or(0);
        if v > SCHEMA_VERSION {
            return Err(AlertError::Config(format!(
                "alert tables are at version {v}, this bgpsentry knows {SCHEMA_VERSION}: upgrade bgpsentry"
            )));
        }
        if v < 1 {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(MIGRATION_1)?;
            tx.execute("INSERT INTO alert_schema_version (version) VALUES (1)", [])?;
            tx.commit()?;
        }
        Ok(AlertDb {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (every
        // write is a transaction), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on a blocking thread (SQLite may wait on the store's writer).
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&AlertDb) -> Result<T> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|e| AlertError::Task(e.to_string()))?
    }

    /// The cursor of (watch, kind, channel).
    pub fn cursor(&self, watch: &str, kind: &str, channel: &str) -> Result<Option<u64>> {
        let c = self.lock();
        let v: Option<i64> = c
            .query_row(
                "SELECT last_id FROM alert_cursor WHERE watch=?1 AND kind=?2 AND channel=?3",
                params![watch, kind, channel],
                |r| r.get(0),
            )
            .optional()?;
        Ok(v.map(|v| u64::try_from(v).unwrap_or(0)))
    }

    /// The stages already queued for an event on each channel: (channel, stage).
    pub fn stages(&self, event_key: &str) -> Result<Vec<(String, String)>> {
        let c = self.lock();
        let mut st =
            c.prepare_cached("SELECT channel, stage FROM alert_outbox WHERE event_key=?1")?;
        let rows = st.query_map(params![event_key], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The baseline scope of an event (when first notified).
    pub fn baseline(&self, event_key: &str) -> Result<Option<Scope>> {
        let c = self.lock();
        Ok(c.query_row(
            "SELECT base_confidence, base_prefixes, base_peers FROM alert_event WHERE event_key=?1",
            params![event_key],
            |r| {
                Ok(Scope {
                    confidence: r.get(0)?,
                    prefixes: u32::try_from(r.get::<_, i64>(1)?).unwrap_or(u32::MAX),
                    peers: u32::try_from(r.get::<_, i64>(2)?).unwrap_or(u32::MAX),
                })
            },
        )
        .optional()?)
    }

    /// Open events to re-check, least recently checked first: (kind, id).
    pub fn open_events(&self, limit: u32) -> Result<Vec<(String, u64)>> {
        let c = self.lock();
        let mut st =
            c.prepare_cached("SELECT kind, event_id FROM alert_event WHERE open=1 ORDER BY checked_ms, event_id LIMIT ?1")?;
        let rows = st.query_map(params![limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
            ))
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Writes a decision round atomically; returns how many messages were
    /// newly queued.
    pub fn apply(&self, b: &Batch, now_ms: i64) -> Result<usize> {
        if b.is_empty() {
            return Ok(0);
        }
        let mut c = self.lock();
        let tx = c.transaction()?;
        let mut queued = 0;
        {
            let mut ins = tx.prepare_cached(
                "INSERT OR IGNORE INTO alert_outbox (idem_key, channel, event_key, stage, body, next_ms, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            )?;
            for n in &b.rows {
                let body = serde_json::to_string(n)?;
                let key = super::notification::event_key(&n.event);
                queued += ins.execute(params![
                    n.idempotency_key,
                    n.channel,
                    key,
                    n.stage.as_str(),
                    body,
                    now_ms
                ])?;
            }
            let mut base = tx.prepare_cached(
                "INSERT OR IGNORE INTO alert_event (event_key, kind, event_id, base_confidence, base_prefixes, base_peers, open, checked_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7)",
            )?;
            for (key, kind, id, s) in &b.baselines {
                base.execute(params![
                    key,
                    kind,
                    i64::try_from(*id).unwrap_or(i64::MAX),
                    s.confidence,
                    s.prefixes,
                    s.peers,
                    now_ms
                ])?;
            }
            let mut close = tx.prepare_cached(
                "UPDATE alert_event SET open=0, checked_ms=?2 WHERE event_key=?1",
            )?;
            for key in &b.closed {
                close.execute(params![key, now_ms])?;
            }
            let mut checked =
                tx.prepare_cached("UPDATE alert_event SET checked_ms=?2 WHERE event_key=?1")?;
            for key in &b.checked {
                checked.execute(params![key, now_ms])?;
            }
            let mut cur = tx.prepare_cached(
                "INSERT INTO alert_cursor (watch, kind, channel, last_id, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (watch, kind, channel) DO UPDATE SET last_id=MAX(last_id, excluded.last_id), updated_ms=excluded.updated_ms",
            )?;
            for (w, k, ch, id) in &b.cursors {
                cur.execute(params![
                    w,
                    k,
                    ch,
                    i64::try_from(*id).unwrap_or(i64::MAX),
                    now_ms
                ])?;
            }
        }
        tx.commit()?;
        Ok(queued)
    }

    /// Pending rows of a channel that are due, in queue order, skipping rows
    /// whose event has an earlier undelivered row on the channel (so a
    /// "resolved" never overtakes its "new").
    pub fn due(&self, channel: &str, now_ms: i64, limit: u32) -> Result<Vec<OutboxRow>> {
        let c = self.lock();
        let mut st = c.prepare_cached(
            "SELECT o.seq, o.attempts, o.body FROM alert_outbox o
             WHERE o.channel=?1 AND o.state='pending' AND o.next_ms<=?2
               AND NOT EXISTS (SELECT 1 FROM alert_outbox p WHERE p.channel=o.channel AND p.event_key=o.event_key
                               AND p.state='pending' AND p.seq<o.seq)
             ORDER BY o.seq LIMIT ?3",
        )?;
        let rows = st.query_map(params![channel, now_ms, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, attempts, body) = row?;
            match serde_json::from_str::<Notification>(&body) {
                Ok(notification) => out.push(OutboxRow {
                    seq,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    notification,
                }),
                Err(e) => {
                    // Written by us; unreadable means a newer/older format. Park it.
                    tracing::error!(seq, error = %e, "unreadable outbox row; marked dead");
                    c.execute(
                        "UPDATE alert_outbox SET state='dead', last_error=?2 WHERE seq=?1",
                        params![seq, e.to_string()],
                    )?;
                }
            }
        }
        Ok(out)
    }

    /// When the next pending row of a channel is due.
    pub fn next_due_ms(&self, channel: &str) -> Result<Option<i64>> {
        let c = self.lock();
        Ok(c.query_row(
            "SELECT MIN(next_ms) FROM alert_outbox WHERE channel=?1 AND state='pending'",
            params![channel],
            |r| r.get(0),
        )?)
    }

    /// Pending rows (all channels, or one).
    pub fn pending(&self, channel: Option<&str>) -> Result<u64> {
        let c = self.lock();
        let n: i64 = match channel {
            Some(ch) => c.query_row(
                "SELECT COUNT(*) FROM alert_outbox WHERE state='pending' AND channel=?1",
                params![ch],
                |r| r.get(0),
            )?,
            None => c.query_row(
                "SELECT COUNT(*) FROM alert_outbox WHERE state='pending'",
                [],
                |r| r.get(0),
            )?,
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Marks rows delivered and records one send.
    pub fn delivered(
        &self,
        channel: &str,
        seqs: &[i64],
        send_key: &str,
        now_ms: i64,
    ) -> Result<()> {
        let mut c = self.lock();
        let tx = c.transaction()?;
        {
            let mut up = tx.prepare_cached(
                "UPDATE alert_outbox SET state='delivered', delivered_ms=?2, last_error=NULL WHERE seq=?1 AND state='pending'",
            )?;
            for s in seqs {
                up.execute(params![s, now_ms])?;
            }
            tx.execute(
                "INSERT INTO alert_send (channel, sent_ms, idem_key, items) VALUES (?1, ?2, ?3, ?4)",
                params![channel, now_ms, send_key, i64::try_from(seqs.len()).unwrap_or(i64::MAX)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records a failed attempt and when to retry.
    pub fn failed(&self, seqs: &[i64], next_ms: i64, error: &str) -> Result<()> {
        let mut c = self.lock();
        let tx = c.transaction()?;
        {
            let mut up = tx.prepare_cached(
                "UPDATE alert_outbox SET attempts=attempts+1, next_ms=?2, last_error=?3 WHERE seq=?1 AND state='pending'",
            )?;
            for s in seqs {
                up.execute(params![s, next_ms, error])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Messages sent on a channel since `since_ms`.
    pub fn sends_since(&self, channel: &str, since_ms: i64) -> Result<u32> {
        let c = self.lock();
        let n: i64 = c.query_row(
            "SELECT COUNT(*) FROM alert_send WHERE channel=?1 AND sent_ms>?2",
            params![channel, since_ms],
            |r| r.get(0),
        )?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Oldest send in the window (to know when the window frees up).
    pub fn oldest_send_since(&self, channel: &str, since_ms: i64) -> Result<Option<i64>> {
        let c = self.lock();
        Ok(c.query_row(
            "SELECT MIN(sent_ms) FROM alert_send WHERE channel=?1 AND sent_ms>?2",
            params![channel, since_ms],
            |r| r.get(0),
        )?)
    }

    /// Deletes delivered rows and sends older than `before_ms`.
    pub fn prune(&self, before_ms: i64) -> Result<usize> {
        let c = self.lock();
        let a = c.execute(
            "DELETE FROM alert_outbox WHERE state='delivered' AND delivered_ms<?1",
            params![before_ms],
        )?;
        let b = c.execute(
            "DELETE FROM alert_send WHERE sent_ms<?1",
            params![before_ms],
        )?;
        c.execute(
            "DELETE FROM alert_event WHERE open=0 AND checked_ms<?1",
            params![before_ms],
        )?;
        Ok(a + b)
    }

    /// Delivery records (tests, status): (idem_key, state, attempts).
    pub fn outbox_states(&self) -> Result<Vec<(String, String, u32)>> {
        let c = self.lock();
        let mut st =
            c.prepare("SELECT idem_key, state, attempts FROM alert_outbox ORDER BY seq")?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                u32::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
            ))
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

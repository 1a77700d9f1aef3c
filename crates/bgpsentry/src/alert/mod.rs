//! Alerts: the seed's "Send alerts for BGP hijacks" Workers app, done right.
//!
//! Two front ends feed one delivery engine:
//!
//! ```text
//!  bgpsentry alert (poll)                       bgpsentry run (in-process)
//!  ──────────────────────                       ──────────────────────────
//!  cron tick ─► poll::Poller ─┐                 detectors ─► AlertSink (ChangeSink)
//!   (Radar-compatible API,    │                                   │ unbounded channel
//!    pages sortBy=ID DESC     │                                   ▼
//!    down to the cursor)      │                             intake task
//!                             ▼                                   │
//!                      lifecycle::plan  ◄─────────────────────────┘
//!                             │  new / escalated / resolved, once per event+channel
//!                             ▼
//!                  db::AlertDb (SQLite, alert_* tables)
//!                    alert_outbox  (idempotency key UNIQUE, pending → delivered)
//!                    alert_cursor  (last handled id per watch, kind, channel)
//!                             │  Notify
//!                             ▼
//!                  deliver::worker, one per channel
//!                    rate limit → digest, backoff + jitter, marks delivered on 2xx / SMTP 250
//!                             ▼
//!                  channel::Channel (enum): webhook, slack, discord, gchat,
//!                    teams, telegram, mattermost, pagerduty, email
//! ```
//!
//! Beside events, the daemon sends "monitoring blind" notices (a live
//! source went silent, or came back) to every channel: [`source`].
//!
//! A cursor advances in the same SQLite transaction that queues the outbox
//! rows, and an outbox row is marked delivered only after the receiver
//! accepted it, so a crash at any point loses nothing: the next start sends
//! whatever is still pending, with the same idempotency key.

pub mod channel;
pub mod config;
pub mod db;
pub mod deliver;
pub mod lifecycle;
pub mod notification;
pub mod poll;
pub mod schedule;
pub mod service;
pub mod sink;
pub mod source;
pub mod template;
pub mod watch;

pub use config::AlertConfig;
pub use notification::{Notification, Stage};
pub use sink::{AlertSink, Alerter};

/// Everything that can go wrong in the alerter's library code.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// The configuration is invalid.
    #[error("alert config: {0}")]
    Config(String),
    /// A secret could not be read from its environment variable or file.
    #[error("secret {name}: {reason}")]
    Secret {
        /// Which setting.
        name: String,
        /// Why (never the value).
        reason: String,
    },
    /// The state database failed.
    #[error("alert state database: {0}")]
    Db(#[from] rusqlite::Error),
    /// JSON (de)serialization failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// The Radar-compatible API failed or answered nonsense.
    #[error("api: {0}")]
    Api(String),
    /// A background task failed.
    #[error("task: {0}")]
    Task(String),
    /// Reading a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Result alias for the alerter.
pub type Result<T, E = AlertError> = std::result::Result<T, E>;

/// Wall-clock milliseconds since the Unix epoch (delivery bookkeeping only;
/// event times always come from the events).
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

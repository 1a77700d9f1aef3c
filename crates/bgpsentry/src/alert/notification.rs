//! What goes into the outbox: one lifecycle stage of one event for one
//! channel, with the event's state at that moment, and the idempotency key
//! every delivery attempt of it carries.

use bgpsentry_core::model::{ConfidenceLevel, Event};
use serde::{Deserialize, Serialize};

use super::config::Kind;

/// The lifecycle stage a message announces; each is sent at most once per
/// event and channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// First seen matching a watch.
    New,
    /// Confidence, prefixes or peers grew past the thresholds.
    Escalated,
    /// The event ended.
    Resolved,
}

impl Stage {
    /// `new` / `escalated` / `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::Escalated => "escalated",
            Stage::Resolved => "resolved",
        }
    }

    /// `New` / `Escalated` / `Resolved`.
    pub fn title(self) -> &'static str {
        match self {
            Stage::New => "New",
            Stage::Escalated => "Escalated",
            Stage::Resolved => "Resolved",
        }
    }

    /// Parses [`Stage::as_str`].
    pub fn parse(s: &str) -> Option<Stage> {
        match s {
            "new" => Some(Stage::New),
            "escalated" => Some(Stage::Escalated),
            "resolved" => Some(Stage::Resolved),
            _ => None,
        }
    }
}

/// One queued message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Unique per (event, stage, channel); sent as `Idempotency-Key`.
    pub idempotency_key: String,
    /// The stage.
    pub stage: Stage,
    /// The watch that matched (first one, when several did).
    pub watch: String,
    /// Channel name.
    pub channel: String,
    /// Link to the event.
    pub link: String,
    /// The event as it was when the stage was decided.
    pub event: Event,
}

/// `hijack` / `leak` of an event.
pub fn kind_of(e: &Event) -> Kind {
    match e {
        Event::Hijack(_) => Kind::Hijack,
        Event::Leak(_) => Kind::Leak,
    }
}

/// `hijack-123`: the event's identity across kinds.
pub fn event_key(e: &Event) -> String {
    format!("{}-{}", kind_of(e).as_str(), e.id())
}

/// `bgpsentry-hijack-123-new-ops-slack`.
pub fn idempotency_key(e: &Event, stage: Stage, channel: &str) -> String {
    format!("bgpsentry-{}-{}-{channel}", event_key(e), stage.as_str())
}

/// The numbers lifecycle thresholds look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Confidence score (leaks: 0).
    pub confidence: i32,
    /// Prefixes.
    pub prefixes: u32,
    /// Collector peers.
    pub peers: u32,
}

impl Scope {
    /// The scope of an event now.
    pub fn of(e: &Event) -> Scope {
        match e {
            Event::Hijack(h) => Scope {
                confidence: h.confidence_score,
                prefixes: u32::try_from(h.prefixes.len()).unwrap_or(u32::MAX),
                peers: h.peer_ip_count,
            },
            Event::Leak(l) => Scope {
                confidence: 0,
                prefixes: l.prefix_count,
                peers: l.peer_count,
            },
        }
    }

    /// The confidence bucket.
    pub fn level(&self) -> ConfidenceLevel {
        ConfidenceLevel::of(self.confidence)
    }
}

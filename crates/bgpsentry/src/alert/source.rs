//! "Monitoring blind" notices: a live source went silent (or lost its
//! connection), or came back. A silent feed is the top complaint about
//! existing monitors: hijacks seen only through that feed go undetected
//! without anyone noticing. So besides `/metrics`
//! (`bgpsentry_source_blind`), the daemon tells the operator through every
//! configured alert channel, once per transition.
//!
//! Unlike event notifications these do not go through the per-event outbox
//! (there is no event id, no watch, no lifecycle): each notice is sent to
//! every channel directly, retried with the channel's backoff for up to
//! [`RETRY_FOR`], and carries a stable idempotency key
//! (`bgpsentry-source-<name>-<stage>-<unix ms of the last message>`) so a
//! receiver can drop duplicates. A notice still undelivered when the
//! daemon stops is not re-sent by the next start: the next start sees the
//! source's state afresh.

use std::sync::Arc;
use std::time::Duration;

use bgpsentry_core::model::Timestamp;
use serde::Serialize;

use super::channel::{Channel, Message};
use super::config::AlertConfig;
use super::deliver::backoff;

/// How long a notice is retried per channel before it is given up (logged).
pub const RETRY_FOR: Duration = Duration::from_secs(600);

/// The transition a notice announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceStage {
    /// The source stopped seeing the routing system.
    Blind,
    /// It sees it again.
    Recovered,
}

impl SourceStage {
    /// `blind` / `recovered`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceStage::Blind => "blind",
            SourceStage::Recovered => "recovered",
        }
    }
}

/// One "monitoring blind" or "monitoring restored" notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceNotice {
    /// Blind or recovered.
    pub stage: SourceStage,
    /// The source's configured name.
    pub source: String,
    /// Its kind (`ris-live`, `bmp`, `bgp`, `mrt-follow`).
    pub kind: String,
    /// Why it is blind (`not connected`, `silent for more than 60 s`), or
    /// why it was, for a recovery.
    pub reason: String,
    /// Blind: how long nothing has arrived. Recovered: how long the
    /// silence lasted.
    pub silent_for: Duration,
    /// Wall-clock time of the last route message (blind: the last one
    /// before the silence; recovered: the first one after it); `None` when
    /// the source never delivered one.
    pub last_message: Option<Timestamp>,
    /// Wall-clock time the transition was noticed.
    pub at: Timestamp,
}

impl SourceNotice {
    /// Stable across retries and channels' restarts of the same transition.
    pub fn idempotency_key(&self) -> String {
        let last = self.last_message.map_or(0, |t| t.0 / 1000);
        format!(
            "bgpsentry-source-{}-{}-{last}",
            self.source,
            self.stage.as_str()
        )
    }

    fn last_text(&self) -> String {
        match self.last_message {
            Some(t) => format!("{} UTC", t.to_radar_secs().replace('T', " ")),
            None => "never".to_string(),
        }
    }

    /// Title (email subject, card title, PagerDuty summary).
    pub fn title(&self) -> String {
        match self.stage {
            SourceStage::Blind => format!(
                "[bgpsentry] Monitoring blind: source {} ({}) silent for {}",
                self.source,
                self.kind,
                human(self.silent_for)
            ),
            SourceStage::Recovered => format!(
                "[bgpsentry] Monitoring restored: source {} ({}) after {}",
                self.source,
                self.kind,
                human(self.silent_for)
            ),
        }
    }

    /// Text body.
    pub fn text(&self) -> String {
        match self.stage {
            SourceStage::Blind => format!(
                "Monitoring blind: source {} ({}) has delivered no route message for {} ({}).\n\
                 Last message: {}\n\
                 Hijacks and leaks visible only through this source are not being detected.",
                self.source,
                self.kind,
                human(self.silent_for),
                self.reason,
                self.last_text()
            ),
            SourceStage::Recovered => format!(
                "Monitoring restored: source {} ({}) delivers route messages again after {} blind ({}).\n\
                 Last message: {}",
                self.source,
                self.kind,
                human(self.silent_for),
                self.reason,
                self.last_text()
            ),
        }
    }

    /// The generic webhook's JSON object (without `type` / `version`).
    pub fn json(&self, title: &str, text: &str) -> serde_json::Value {
        serde_json::json!({
            "idempotency_key": self.idempotency_key(),
            "stage": self.stage,
            "source": self.source,
            "source_kind": self.kind,
            "reason": self.reason,
            "silent_for_secs": self.silent_for.as_secs(),
            "last_message": self.last_message.map(|t| t.to_rfc3339()),
            "noticed_at": self.at.to_rfc3339(),
            "title": title,
            "text": text,
        })
    }
}

/// `95 s`, `12 min 5 s`, `3 h 2 min`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// Sends source notices to every channel of an alert configuration; cheap
/// to clone into the task that watches the sources' health.
#[derive(Debug, Clone)]
pub struct SourceNotifier {
    cfg: Arc<AlertConfig>,
    channels: Arc<Vec<Arc<Channel>>>,
}

impl SourceNotifier {
    /// Over built channels.
    pub fn new(cfg: Arc<AlertConfig>, channels: Arc<Vec<Arc<Channel>>>) -> Self {
        SourceNotifier { cfg, channels }
    }

    /// Delivers `notice` to every channel, each in its own task with
    /// retries, so a failing channel delays no other. Must be called inside
    /// a tokio runtime.
    pub fn notify(&self, notice: SourceNotice) -> Vec<tokio::task::JoinHandle<bool>> {
        let notice = Arc::new(notice);
        self.channels
            .iter()
            .map(|ch| {
                let (ch, notice, cfg) = (ch.clone(), notice.clone(), self.cfg.clone());
                tokio::spawn(async move { deliver(&cfg, &ch, &notice).await })
            })
            .collect()
    }
}

/// Sends one notice to one channel, retrying with backoff for up to
/// [`RETRY_FOR`]; true when the receiver accepted it.
pub async fn deliver(cfg: &AlertConfig, ch: &Channel, notice: &SourceNotice) -> bool {
    let m = ch.common().renderer.source(notice);
    let deadline = tokio::time::Instant::now() + RETRY_FOR;
    let mut attempts = 0u32;
    loop {
        match ch.send(&m).await {
            Ok(()) => {
                tracing::info!(channel = %ch.name(), source = %notice.source, stage = notice.stage.as_str(), "source notice delivered");
                return true;
            }
            Err(e) => {
                let mut delay = backoff(cfg, attempts);
                if let Some(ra) = e.retry_after {
                    delay = delay.max(ra);
                }
                attempts += 1;
                if e.permanent_for_message || tokio::time::Instant::now() + delay > deadline {
                    tracing::error!(channel = %ch.name(), source = %notice.source, stage = notice.stage.as_str(), attempts, error = %e, "source notice not delivered; given up");
                    return false;
                }
                tracing::warn!(channel = %ch.name(), source = %notice.source, attempt = attempts, error = %e, "source notice delivery failed; retrying");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// A rendered source notice, as channels see it.
#[derive(Debug, Clone)]
pub struct RenderedSource<'a> {
    /// The notice.
    pub n: &'a SourceNotice,
    /// Title.
    pub title: String,
    /// Text.
    pub text: String,
    /// Idempotency key.
    pub key: String,
}

impl<'a> RenderedSource<'a> {
    /// Renders a notice.
    pub fn of(n: &'a SourceNotice) -> Message<'a> {
        Message::Source(RenderedSource {
            n,
            title: n.title(),
            text: n.text(),
            key: n.idempotency_key(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_key() {
        let n = SourceNotice {
            stage: SourceStage::Blind,
            source: "ris".into(),
            kind: "ris-live".into(),
            reason: "silent for more than 60 s".into(),
            silent_for: Duration::from_secs(75),
            last_message: Some(Timestamp::from_secs(1_700_000_000)),
            at: Timestamp::from_secs(1_700_000_075),
        };
        assert_eq!(
            n.idempotency_key(),
            "bgpsentry-source-ris-blind-1700000000000"
        );
        assert_eq!(
            n.title(),
            "[bgpsentry] Monitoring blind: source ris (ris-live) silent for 1 min 15 s"
        );
        assert!(
            n.text().contains("Last message: 2023-11-14 22:13:20 UTC"),
            "{}",
            n.text()
        );
        assert_eq!(human(Duration::from_secs(7300)), "2 h 1 min");
    }
}

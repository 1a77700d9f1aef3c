//! PagerDuty Events API v2. One incident per event: `dedup_key` is
//! `bgpsentry-<kind>-<id>`; "new" and "escalated" send `trigger` (the
//! second updates the same alert), "resolved" sends `resolve`.
//!
//! trigger: `{"routing_key":..,"event_action":"trigger","dedup_key":..,
//!   "payload":{"summary":<title>,"source":"bgpsentry","severity":..,"timestamp":..,
//!   "component":"AS<origin>","group":<watch>,"class":"bgp hijack"|"bgp route leak",
//!   "custom_details":{"text":..,"stage":..,"confidence":..,"event":{..}}},
//!   "links":[{"href":<link>,"text":"Event"}]}`
//! resolve: `{"routing_key":..,"event_action":"resolve","dedup_key":..}`
//!
//! A source going blind triggers an incident with `dedup_key`
//! `bgpsentry-source-<name>` (class `monitoring blind`); its recovery
//! resolves it.

use bgpsentry_core::model::{ConfidenceLevel, Event};
use serde_json::json;

use super::{Common, HttpRequest, Message, confidence_json, to_bytes};
use crate::alert::config::Secret;
use crate::alert::notification::{Notification, Scope, Stage, event_key};
use crate::alert::source::SourceStage;
use crate::alert::template::truncate_chars;

/// A PagerDuty channel.
#[derive(Debug)]
pub struct PagerDuty {
    /// Shared parts.
    pub common: Common,
    /// Events API URL.
    pub url: String,
    /// Integration key.
    pub routing_key: Secret,
    /// Severity for high confidence.
    pub severity: String,
}

/// The dedup key of an event.
pub fn dedup_key(n: &Notification) -> String {
    format!("bgpsentry-{}", event_key(&n.event))
}

impl PagerDuty {
    fn severity_of(&self, n: &Notification) -> String {
        match &n.event {
            Event::Hijack(_) => match Scope::of(&n.event).level() {
                ConfidenceLevel::High => self.severity.clone(),
                ConfidenceLevel::Medium => "error".to_string(),
                ConfidenceLevel::Low => "warning".to_string(),
            },
            Event::Leak(_) => "error".to_string(),
        }
    }

    /// The request (digests are never built for PagerDuty; one is sent as
    /// a plain trigger without dedup key if it happens anyway).
    pub fn request(&self, m: &Message<'_>) -> HttpRequest {
        let v = match m {
            Message::Single(r) if r.n.stage == Stage::Resolved => json!({
                "routing_key": self.routing_key.expose(),
                "event_action": "resolve",
                "dedup_key": dedup_key(r.n),
            }),
            Message::Single(r) => {
                let n = r.n;
                let (component, class, ts) = match &n.event {
                    Event::Hijack(h) => (
                        format!("AS{}", h.hijacker_asn),
                        "bgp hijack",
                        h.min_hijack_ts.to_rfc3339(),
                    ),
                    Event::Leak(l) => (
                        format!("AS{}", l.leak_asn),
                        "bgp route leak",
                        l.detected_ts.to_rfc3339(),
                    ),
                };
                let mut v = json!({
                    "routing_key": self.routing_key.expose(),
                    "event_action": "trigger",
                    "dedup_key": dedup_key(n),
                    "payload": {
                        "summary": truncate_chars(&r.title, 1024),
                        "source": "bgpsentry",
                        "severity": self.severity_of(n),
                        "timestamp": ts,
                        "component": component,
                        "group": n.watch,
                        "class": class,
                        "custom_details": {
                            "text": r.text,
                            "stage": n.stage,
                            "confidence": confidence_json(n),
                            "event": n.event,
                        },
                    },
                });
                if !n.link.is_empty()
                    && let Some(o) = v.as_object_mut()
                {
                    o.insert("links".into(), json!([{"href": n.link, "text": "Event"}]));
                }
                v
            }
            Message::Source(s) if s.n.stage == SourceStage::Recovered => json!({
                "routing_key": self.routing_key.expose(),
                "event_action": "resolve",
                "dedup_key": format!("bgpsentry-source-{}", s.n.source),
            }),
            Message::Source(s) => json!({
                "routing_key": self.routing_key.expose(),
                "event_action": "trigger",
                "dedup_key": format!("bgpsentry-source-{}", s.n.source),
                "payload": {
                    "summary": truncate_chars(&s.title, 1024),
                    "source": "bgpsentry",
                    "severity": "error",
                    "timestamp": s.n.at.to_rfc3339(),
                    "component": s.n.source,
                    "class": "monitoring blind",
                    "custom_details": {"text": s.text, "source_kind": s.n.kind, "reason": s.n.reason},
                },
            }),
            Message::Digest(d) => json!({
                "routing_key": self.routing_key.expose(),
                "event_action": "trigger",
                "dedup_key": d.key,
                "payload": {
                    "summary": truncate_chars(&d.title, 1024),
                    "source": "bgpsentry",
                    "severity": "error",
                    "custom_details": {"text": d.text},
                },
            }),
        };
        HttpRequest {
            url: self.url.clone(),
            headers: vec![],
            body: to_bytes(&v),
        }
    }
}

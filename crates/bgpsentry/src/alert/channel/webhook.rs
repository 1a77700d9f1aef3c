//! Generic JSON webhook, signed.
//!
//! Body (`Content-Type: application/json; charset=utf-8`), one event:
//! `{"type":"bgpsentry.alert","version":1,"idempotency_key":..,"stage":"new"|"escalated"|"resolved",
//!   "kind":"hijack"|"leak","event_id":..,"watch":..,"title":..,"text":..,"link":..,
//!   "confidence":{"score":..,"level":..}|null,"event":{Radar fields + extras, "kind":..}}`;
//! a digest: `{"type":"bgpsentry.digest","version":1,"idempotency_key":..,"title":..,"text":..,
//!   "count":N,"items":[<one-event objects without "type"/"version">]}`.
//!
//! A source notice ("monitoring blind" / restored, see `alert::source`):
//! `{"type":"bgpsentry.source","version":1,"idempotency_key":..,"stage":"blind"|"recovered",
//!   "source":..,"source_kind":..,"reason":..,"silent_for_secs":..,"last_message":<RFC 3339>|null,
//!   "noticed_at":<RFC 3339>,"title":..,"text":..}`.
//!
//! Headers: `Idempotency-Key` (same on every retry), `X-Bgpsentry-Timestamp`
//! (Unix seconds of this attempt) and
//! `X-Bgpsentry-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`
//! when a secret is configured. Receivers recompute it over the raw body
//! bytes and reject timestamps older than a few minutes (replays).

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::{Common, HttpRequest, Message, confidence_json, to_bytes};
use crate::alert::config::Secret;
use crate::alert::notification::{Notification, kind_of};

/// Signature header name.
pub const SIGNATURE_HEADER: &str = "X-Bgpsentry-Signature";
/// Timestamp header name.
pub const TIMESTAMP_HEADER: &str = "X-Bgpsentry-Timestamp";

/// A generic webhook.
#[derive(Debug)]
pub struct Webhook {
    /// Shared parts.
    pub common: Common,
    /// Target.
    pub url: String,
    /// HMAC key.
    pub secret: Option<Secret>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
}

/// The JSON object for one notification.
pub fn item(n: &Notification, title: &str, text: &str) -> serde_json::Value {
    json!({
        "idempotency_key": n.idempotency_key,
        "stage": n.stage,
        "kind": kind_of(&n.event).as_str(),
        "event_id": n.event.id(),
        "watch": n.watch,
        "title": title,
        "text": text,
        "link": n.link,
        "confidence": confidence_json(n),
        "event": n.event,
    })
}

/// `sha256=<hex>` of `"<ts>.<body>"`.
pub fn sign(secret: &[u8], ts: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length; new_from_slice cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(ts.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl Webhook {
    /// The body of a message.
    pub fn body(&self, m: &Message<'_>) -> Vec<u8> {
        let v = match m {
            Message::Single(r) => {
                let mut v = item(r.n, &r.title, &r.text);
                if let Some(o) = v.as_object_mut() {
                    let mut head = serde_json::Map::new();
                    head.insert("type".into(), json!("bgpsentry.alert"));
                    head.insert("version".into(), json!(1));
                    head.append(o);
                    v = serde_json::Value::Object(head);
                }
                v
            }
            Message::Source(s) => {
                let mut head = serde_json::Map::new();
                head.insert("type".into(), json!("bgpsentry.source"));
                head.insert("version".into(), json!(1));
                if let serde_json::Value::Object(mut o) = s.n.json(&s.title, &s.text) {
                    head.append(&mut o);
                }
                serde_json::Value::Object(head)
            }
            Message::Digest(d) => {
                let renderer = &self.common.renderer;
                let items: Vec<serde_json::Value> = d
                    .items
                    .iter()
                    .map(|n| match renderer.single(n) {
                        Message::Single(r) => item(n, &r.title, &r.text),
                        Message::Digest(_) | Message::Source(_) => item(n, "", ""),
                    })
                    .collect();
                json!({
                    "type": "bgpsentry.digest",
                    "version": 1,
                    "idempotency_key": d.key,
                    "title": d.title,
                    "text": d.text,
                    "count": d.items.len(),
                    "items": items,
                })
            }
        };
        to_bytes(&v)
    }

    /// The request, signed at `ts` (Unix seconds).
    pub fn request(&self, m: &Message<'_>, ts: i64) -> HttpRequest {
        let body = self.body(m);
        let mut headers = self.headers.clone();
        headers.push(("Idempotency-Key".into(), m.key().to_string()));
        headers.push((TIMESTAMP_HEADER.into(), ts.to_string()));
        if let Some(s) = &self.secret {
            headers.push((
                SIGNATURE_HEADER.into(),
                sign(s.expose().as_bytes(), ts, &body),
            ));
        }
        HttpRequest {
            url: self.url.clone(),
            headers,
            body,
        }
    }
}

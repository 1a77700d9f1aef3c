//! Google Chat space webhook: `{"text": ...}`, one thread per event as in
//! the seed: the URL gets `threadKey=bgp-hijacks-event-<id>` (or
//! `bgp-leaks-event-<id>`), the seed's own keys, so threads started by the
//! seed's Worker continue, and `messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD`
//! so later stages reply in that thread. Digests start their own thread.

use serde_json::json;

use super::{Common, HttpRequest, Message, to_bytes};
use crate::alert::notification::kind_of;
use crate::alert::template::truncate_chars;

/// Google Chat's limit is 32,000 bytes; stay well below.
pub const MAX_CHARS: usize = 4000;

/// A Google Chat channel.
#[derive(Debug)]
pub struct Gchat {
    /// Shared parts.
    pub common: Common,
    /// Webhook URL (has `key` and `token` in its query).
    pub url: String,
}

impl Gchat {
    /// The thread key of a message (the seed's format).
    pub fn thread_key(m: &Message<'_>) -> Option<String> {
        match m {
            Message::Single(r) => Some(format!(
                "bgp-{}-event-{}",
                kind_of(&r.n.event).plural(),
                r.n.event.id()
            )),
            Message::Source(s) => Some(format!("bgpsentry-source-{}", s.n.source)),
            Message::Digest(_) => None,
        }
    }

    /// The request.
    pub fn request(&self, m: &Message<'_>) -> HttpRequest {
        let mut url = self.url.clone();
        if let Some(k) = Self::thread_key(m) {
            let sep = if url.contains('?') { '&' } else { '?' };
            url.push(sep);
            url.push_str(&format!(
                "threadKey={k}&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
            ));
        }
        let v = json!({ "text": truncate_chars(m.text(), MAX_CHARS) });
        HttpRequest {
            url,
            headers: vec![],
            body: to_bytes(&v),
        }
    }
}

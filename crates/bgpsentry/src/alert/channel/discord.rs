//! Discord webhook: `{"content": ..., "allowed_mentions": {"parse": []}}`.
//! No mention is ever resolved (data from the API cannot ping `@everyone`),
//! and content is cut to Discord's 2,000 characters.

use serde_json::json;

use super::{Common, HttpRequest, Message, to_bytes};
use crate::alert::template::truncate_chars;

/// Discord's limit for `content`.
pub const MAX_CHARS: usize = 2000;

/// A Discord channel.
#[derive(Debug)]
pub struct Discord {
    /// Shared parts.
    pub common: Common,
    /// Webhook URL.
    pub url: String,
    /// Display name.
    pub username: Option<String>,
}

impl Discord {
    /// The request.
    pub fn request(&self, m: &Message<'_>) -> HttpRequest {
        let mut v = json!({
            "content": truncate_chars(m.text(), MAX_CHARS),
            "allowed_mentions": {"parse": []},
        });
        if let (Some(u), Some(o)) = (&self.username, v.as_object_mut()) {
            o.insert("username".into(), json!(u));
        }
        HttpRequest {
            url: self.url.clone(),
            headers: vec![],
            body: to_bytes(&v),
        }
    }
}

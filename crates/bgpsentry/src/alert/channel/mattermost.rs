//! Mattermost incoming webhook: `{"text": ...}` (plus `username`).

use serde_json::json;

use super::{Common, HttpRequest, Message, to_bytes};
use crate::alert::template::truncate_chars;

/// Mattermost's post limit is 16,383 characters.
pub const MAX_CHARS: usize = 16000;

/// A Mattermost channel.
#[derive(Debug)]
pub struct Mattermost {
    /// Shared parts.
    pub common: Common,
    /// Incoming webhook URL.
    pub url: String,
    /// Display name (needs "override usernames" on the server).
    pub username: Option<String>,
}

impl Mattermost {
    /// The request.
    pub fn request(&self, m: &Message<'_>) -> HttpRequest {
        let mut v = json!({ "text": truncate_chars(m.text(), MAX_CHARS) });
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

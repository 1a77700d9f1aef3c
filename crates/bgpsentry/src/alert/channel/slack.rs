//! Slack incoming webhook: `{"text": ...}` (plus `username` when set).
//! `&`, `<` and `>` are escaped as Slack requires, which also keeps data
//! from the API from smuggling `<!channel>` mentions into a message.

use serde_json::json;

use super::{Common, HttpRequest, Message, to_bytes};
use crate::alert::template::truncate_chars;

/// Slack's advice: keep a message under 4,000 characters.
pub const MAX_CHARS: usize = 3900;

/// A Slack channel.
#[derive(Debug)]
pub struct Slack {
    /// Shared parts.
    pub common: Common,
    /// Incoming webhook URL.
    pub url: String,
    /// Display name.
    pub username: Option<String>,
}

/// Escapes Slack's control characters.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Slack {
    /// The request.
    pub fn request(&self, m: &Message<'_>) -> HttpRequest {
        let mut v = json!({ "text": truncate_chars(&escape(m.text()), MAX_CHARS) });
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

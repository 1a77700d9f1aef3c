//! Microsoft Teams (a Workflows "post to a channel when a webhook request is
//! received" URL, or a legacy incoming webhook): a message with one Adaptive
//! Card: the title in bold, the text, and an "Open event" button when there
//! is a link.

use serde_json::json;

use super::{Common, HttpRequest, Message, to_bytes};
use crate::alert::template::truncate_chars;

/// Keep cards small (Teams rejects payloads above about 28 KB).
pub const MAX_CHARS: usize = 8000;

/// A Teams channel.
#[derive(Debug)]
pub struct Teams {
    /// Shared parts.
    pub common: Common,
    /// Webhook URL.
    pub url: String,
}

impl Teams {
    /// The request.
    pub fn request(&self, m: &Message<'_>) -> HttpRequest {
        let mut actions = vec![];
        if !m.link().is_empty() {
            actions.push(json!({"type": "Action.OpenUrl", "title": "Open event", "url": m.link()}));
        }
        let card = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {"type": "TextBlock", "text": m.title(), "weight": "Bolder", "size": "Medium", "wrap": true},
                {"type": "TextBlock", "text": truncate_chars(m.text(), MAX_CHARS), "wrap": true}
            ],
            "actions": actions,
        });
        let v = json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": card,
            }],
        });
        HttpRequest {
            url: self.url.clone(),
            headers: vec![],
            body: to_bytes(&v),
        }
    }
}

//! Telegram bot: `POST {api}/bot<token>/sendMessage` with
//! `{"chat_id": ..., "text": ..., "disable_web_page_preview": true}`. Plain
//! text (no `parse_mode`), so nothing in the data needs escaping.

use serde_json::json;

use super::{Common, HttpRequest, Message, to_bytes};
use crate::alert::config::Secret;
use crate::alert::template::truncate_chars;

/// Telegram's message limit.
pub const MAX_CHARS: usize = 4096;

/// A Telegram channel.
#[derive(Debug)]
pub struct Telegram {
    /// Shared parts.
    pub common: Common,
    /// `https://api.telegram.org` or a test server.
    pub api_url: String,
    /// Bot token.
    pub token: Secret,
    /// Target chat.
    pub chat_id: String,
}

impl Telegram {
    /// The request.
    pub fn request(&self, m: &Message<'_>) -> HttpRequest {
        // A numeric chat id goes as a number, `@channel` as a string.
        let chat = match self.chat_id.parse::<i64>() {
            Ok(n) => json!(n),
            Err(_) => json!(self.chat_id),
        };
        let v = json!({
            "chat_id": chat,
            "text": truncate_chars(m.text(), MAX_CHARS),
            "disable_web_page_preview": true,
        });
        HttpRequest {
            url: format!("{}/bot{}/sendMessage", self.api_url, self.token.expose()),
            headers: vec![],
            body: to_bytes(&v),
        }
    }
}

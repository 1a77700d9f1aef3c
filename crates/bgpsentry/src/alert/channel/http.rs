//! The one HTTP POST every web channel makes, and how its outcome maps to
//! "delivered" (2xx) or a retryable failure. Error texts never carry the
//! URL: for chat webhooks the URL is the secret.

use std::time::Duration;

use super::SendError;

/// A request a channel wants made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Target URL (secret for most chat webhooks).
    pub url: String,
    /// Headers besides `Content-Type: application/json`.
    pub headers: Vec<(String, String)>,
    /// The exact body.
    pub body: Vec<u8>,
}

/// The User-Agent of every request.
pub const USER_AGENT: &str = concat!("bgpsentry/", env!("CARGO_PKG_VERSION"));

/// POSTs `req`; Ok(status) on 2xx.
pub async fn post(client: &reqwest::Client, req: &HttpRequest) -> Result<u16, SendError> {
    let mut rb = client
        .post(&req.url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )
        .header(reqwest::header::USER_AGENT, USER_AGENT);
    for (k, v) in &req.headers {
        rb = rb.header(k.as_str(), v.as_str());
    }
    let resp = rb
        .body(req.body.clone())
        .send()
        .await
        .map_err(|e| SendError {
            message: e.without_url().to_string(),
            retry_after: None,
            permanent_for_message: false,
        })?;
    let status = resp.status();
    if status.is_success() {
        return Ok(status.as_u16());
    }
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(3600)));
    // Read a little of the body for the log; receivers explain 4xx there.
    let text = match tokio::time::timeout(Duration::from_secs(2), resp.text()).await {
        Ok(Ok(t)) => super::super::template::truncate_chars(t.trim(), 200),
        _ => String::new(),
    };
    let code = status.as_u16();
    // A 4xx other than timeouts/rate limits is about this message, not the
    // receiver: retry it, but don't hold the channel's other messages back.
    let message_specific = status.is_client_error() && !matches!(code, 408 | 425 | 429);
    Err(SendError {
        message: format!(
            "HTTP {code}{}{text}",
            if text.is_empty() { "" } else { ": " }
        ),
        retry_after,
        permanent_for_message: message_specific,
    })
}

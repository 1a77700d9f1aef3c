//! Channels: a closed set, dispatched by `match` (no trait objects), one
//! module per channel. Each web channel turns a [`Message`] into an
//! [`HttpRequest`] (pure, so tests can check bodies byte for byte) and
//! [`http::post`]s it; email builds a MIME message and speaks SMTP.

pub mod discord;
pub mod email;
pub mod gchat;
pub mod http;
pub mod mattermost;
pub mod pagerduty;
pub mod slack;
pub mod teams;
pub mod telegram;
pub mod webhook;

use std::time::Duration;

use serde_json::json;

use super::config::{AlertConfig, ChannelConfig, resolve_secret};
use super::notification::{Notification, Scope};
use super::template::{self, Resolved, Templates};
use super::{AlertError, Result};
pub use http::HttpRequest;

/// A failed delivery attempt.
#[derive(Debug, Clone)]
pub struct SendError {
    /// What happened (no secrets).
    pub message: String,
    /// The receiver asked to wait this long.
    pub retry_after: Option<Duration>,
    /// The receiver rejected this message (4xx): others may still go through.
    pub permanent_for_message: bool,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What one send carries: one notification, or a digest of several.
#[derive(Debug, Clone)]
pub enum Message<'a> {
    /// One event, one stage.
    Single(Rendered<'a>),
    /// Many at once (rate limit hit).
    Digest(Digest<'a>),
    /// A live source went blind or recovered (no event).
    Source(super::source::RenderedSource<'a>),
}

/// A rendered single notification.
#[derive(Debug, Clone)]
pub struct Rendered<'a> {
    /// The notification.
    pub n: &'a Notification,
    /// Title / subject / summary.
    pub title: String,
    /// Text body.
    pub text: String,
}

/// A digest.
#[derive(Debug, Clone)]
pub struct Digest<'a> {
    /// The notifications folded into it.
    pub items: &'a [Notification],
    /// Idempotency key of the digest (hash of the items' keys).
    pub key: String,
    /// Title.
    pub title: String,
    /// Text.
    pub text: String,
}

impl Message<'_> {
    /// Title.
    pub fn title(&self) -> &str {
        match self {
            Message::Single(r) => &r.title,
            Message::Digest(d) => &d.title,
            Message::Source(s) => &s.title,
        }
    }

    /// Text.
    pub fn text(&self) -> &str {
        match self {
            Message::Single(r) => &r.text,
            Message::Digest(d) => &d.text,
            Message::Source(s) => &s.text,
        }
    }

    /// Idempotency key.
    pub fn key(&self) -> &str {
        match self {
            Message::Single(r) => &r.n.idempotency_key,
            Message::Digest(d) => &d.key,
            Message::Source(s) => &s.key,
        }
    }

    /// Link (single only).
    pub fn link(&self) -> &str {
        match self {
            Message::Single(r) => &r.n.link,
            Message::Digest(_) | Message::Source(_) => "",
        }
    }
}

/// Everything a channel needs to render messages.
#[derive(Debug, Clone)]
pub struct Renderer {
    templates: Resolved,
    max_prefixes: usize,
    digest_max: usize,
    api: String,
}

impl Renderer {
    /// For a channel's templates over the global ones.
    pub fn new(cfg: &AlertConfig, channel: &Templates) -> Self {
        Renderer {
            templates: Templates::resolve(channel, &cfg.templates),
            max_prefixes: usize::try_from(cfg.rate_limit.max_prefixes_listed).unwrap_or(20),
            digest_max: usize::try_from(cfg.rate_limit.digest_max_events).unwrap_or(50),
            api: cfg.api.as_ref().map(|a| a.url.clone()).unwrap_or_default(),
        }
    }

    /// Renders one notification.
    pub fn single<'a>(&self, n: &'a Notification) -> Message<'a> {
        let f = template::fields(n, self.max_prefixes, &self.api);
        let (title, text) = self.templates.render(n, &f);
        Message::Single(Rendered { n, title, text })
    }

    /// Renders a source notice ("monitoring blind" / restored).
    pub fn source<'a>(&self, n: &'a super::source::SourceNotice) -> Message<'a> {
        super::source::RenderedSource::of(n)
    }

    /// Renders a digest of many notifications.
    pub fn digest<'a>(&self, items: &'a [Notification]) -> Message<'a> {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        for n in items {
            h.update(n.idempotency_key.as_bytes());
            h.update(b"\n");
        }
        let key = format!("bgpsentry-digest-{}", &hex::encode(h.finalize())[..32]);
        let count = |s: super::Stage| items.iter().filter(|n| n.stage == s).count();
        let title = format!(
            "[bgpsentry] Digest: {} alerts ({} new, {} escalated, {} resolved)",
            items.len(),
            count(super::Stage::New),
            count(super::Stage::Escalated),
            count(super::Stage::Resolved)
        );
        let mut text = format!("{title}\nRate limit reached; one message for all of these:\n");
        for n in items.iter().take(self.digest_max) {
            text.push_str(&digest_line(n));
            text.push('\n');
        }
        if items.len() > self.digest_max {
            text.push_str(&format!("... and {} more\n", items.len() - self.digest_max));
        }
        let text = text.trim_end().to_string();
        Message::Digest(Digest {
            items,
            key,
            title,
            text,
        })
    }
}

/// One line per event in a digest.
pub fn digest_line(n: &Notification) -> String {
    use bgpsentry_core::model::Event;
    let s = Scope::of(&n.event);
    match &n.event {
        Event::Hijack(h) => format!(
            "- {} hijack {}: AS{} -> {} prefixes ({}) of {}, confidence {}, {} peers {}",
            n.stage.as_str(),
            h.id,
            h.hijacker_asn,
            h.prefixes.len(),
            h.prefixes
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(" "),
            h.victim_asns
                .iter()
                .map(|a| format!("AS{a}"))
                .collect::<Vec<_>>()
                .join(" "),
            h.confidence_score,
            s.peers,
            n.link
        )
        .trim_end()
        .to_string(),
        Event::Leak(l) => format!(
            "- {} leak {}: AS{} leaked {} prefixes, {} peers {}",
            n.stage.as_str(),
            l.id,
            l.leak_asn,
            l.prefix_count,
            l.peer_count,
            n.link
        )
        .trim_end()
        .to_string(),
    }
}

/// A configured, ready channel.
#[derive(Debug)]
pub enum Channel {
    /// Generic webhook.
    Webhook(webhook::Webhook),
    /// Slack.
    Slack(slack::Slack),
    /// Discord.
    Discord(discord::Discord),
    /// Google Chat.
    Gchat(gchat::Gchat),
    /// Microsoft Teams.
    Teams(teams::Teams),
    /// Mattermost.
    Mattermost(mattermost::Mattermost),
    /// Telegram.
    Telegram(telegram::Telegram),
    /// PagerDuty.
    PagerDuty(pagerduty::PagerDuty),
    /// Email.
    Email(email::Email),
}

/// Shared parts of every channel.
#[derive(Debug, Clone)]
pub struct Common {
    /// Channel name.
    pub name: String,
    /// Renderer.
    pub renderer: Renderer,
    /// HTTP client.
    pub http: reqwest::Client,
}

fn url_secret(
    name: &str,
    url: &Option<String>,
    env: &Option<String>,
    file: &Option<std::path::PathBuf>,
) -> Result<String> {
    let s = resolve_secret(
        &format!("channel {name}: url"),
        url.as_deref(),
        env.as_deref(),
        file.as_deref(),
        true,
    )?
    .ok_or_else(|| AlertError::Config(format!("channel {name}: url missing")))?;
    let u = s.expose().to_string();
    if !(u.starts_with("http://") || u.starts_with("https://")) {
        return Err(AlertError::Config(format!(
            "channel {name}: url must be http(s)"
        )));
    }
    Ok(u)
}

impl Channel {
    /// Builds a channel from its config, reading its secrets.
    pub fn build(cfg: &ChannelConfig, all: &AlertConfig, http: reqwest::Client) -> Result<Channel> {
        let common = Common {
            name: cfg.name().to_string(),
            renderer: Renderer::new(all, cfg.templates()),
            http,
        };
        let n = cfg.name();
        Ok(match cfg {
            ChannelConfig::Webhook(c) => {
                let secret = resolve_secret(
                    &format!("channel {n}: secret"),
                    None,
                    c.secret_env.as_deref(),
                    c.secret_file.as_deref(),
                    false,
                )?;
                Channel::Webhook(webhook::Webhook {
                    common,
                    url: url_secret(n, &c.url, &c.url_env, &c.url_file)?,
                    secret,
                    headers: c
                        .headers
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                })
            }
            ChannelConfig::Slack(c) => Channel::Slack(slack::Slack {
                common,
                url: url_secret(n, &c.url, &c.url_env, &c.url_file)?,
                username: c.username.clone(),
            }),
            ChannelConfig::Discord(c) => Channel::Discord(discord::Discord {
                common,
                url: url_secret(n, &c.url, &c.url_env, &c.url_file)?,
                username: c.username.clone(),
            }),
            ChannelConfig::Gchat(c) => Channel::Gchat(gchat::Gchat {
                common,
                url: url_secret(n, &c.url, &c.url_env, &c.url_file)?,
            }),
            ChannelConfig::Teams(c) => Channel::Teams(teams::Teams {
                common,
                url: url_secret(n, &c.url, &c.url_env, &c.url_file)?,
            }),
            ChannelConfig::Mattermost(c) => Channel::Mattermost(mattermost::Mattermost {
                common,
                url: url_secret(n, &c.url, &c.url_env, &c.url_file)?,
                username: c.username.clone(),
            }),
            ChannelConfig::Telegram(c) => {
                let token = resolve_secret(
                    &format!("channel {n}: token"),
                    None,
                    c.token_env.as_deref(),
                    c.token_file.as_deref(),
                    true,
                )?
                .ok_or_else(|| AlertError::Config(format!("channel {n}: token missing")))?;
                Channel::Telegram(telegram::Telegram {
                    common,
                    api_url: c.api_url.trim_end_matches('/').to_string(),
                    token,
                    chat_id: c.chat_id.clone(),
                })
            }
            ChannelConfig::Pagerduty(c) => {
                let key = resolve_secret(
                    &format!("channel {n}: routing_key"),
                    None,
                    c.routing_key_env.as_deref(),
                    c.routing_key_file.as_deref(),
                    true,
                )?
                .ok_or_else(|| AlertError::Config(format!("channel {n}: routing_key missing")))?;
                Channel::PagerDuty(pagerduty::PagerDuty {
                    common,
                    url: c.url.clone(),
                    routing_key: key,
                    severity: c.severity.clone(),
                })
            }
            ChannelConfig::Email(c) => {
                Channel::Email(email::Email::build(common, c, all.delivery.timeout_secs)?)
            }
        })
    }

    /// Common parts.
    pub fn common(&self) -> &Common {
        match self {
            Channel::Webhook(c) => &c.common,
            Channel::Slack(c) => &c.common,
            Channel::Discord(c) => &c.common,
            Channel::Gchat(c) => &c.common,
            Channel::Teams(c) => &c.common,
            Channel::Mattermost(c) => &c.common,
            Channel::Telegram(c) => &c.common,
            Channel::PagerDuty(c) => &c.common,
            Channel::Email(c) => &c.common,
        }
    }

    /// Channel name.
    pub fn name(&self) -> &str {
        &self.common().name
    }

    /// Whether many messages may be folded into one. PagerDuty needs one
    /// event per incident (dedup key), so it is only rate limited.
    pub fn supports_digest(&self) -> bool {
        !matches!(self, Channel::PagerDuty(_))
    }

    /// The HTTP request for a message (web channels; `None` for email).
    pub fn request(&self, m: &Message<'_>) -> Option<HttpRequest> {
        Some(match self {
            Channel::Webhook(c) => c.request(m, chrono::Utc::now().timestamp()),
            Channel::Slack(c) => c.request(m),
            Channel::Discord(c) => c.request(m),
            Channel::Gchat(c) => c.request(m),
            Channel::Teams(c) => c.request(m),
            Channel::Mattermost(c) => c.request(m),
            Channel::Telegram(c) => c.request(m),
            Channel::PagerDuty(c) => c.request(m),
            Channel::Email(_) => return None,
        })
    }

    /// Sends one message; Ok when the receiver accepted it.
    pub async fn send(&self, m: &Message<'_>) -> Result<(), SendError> {
        match self {
            Channel::Email(e) => e.send(m).await,
            other => match other.request(m) {
                Some(req) => http::post(&other.common().http, &req).await.map(|_| ()),
                None => Ok(()),
            },
        }
    }
}

/// JSON for the event's confidence (hijacks) or `null` (leaks).
pub fn confidence_json(n: &Notification) -> serde_json::Value {
    match &n.event {
        bgpsentry_core::model::Event::Hijack(h) => {
            let level = match Scope::of(&n.event).level() {
                bgpsentry_core::model::ConfidenceLevel::Low => "low",
                bgpsentry_core::model::ConfidenceLevel::Medium => "medium",
                bgpsentry_core::model::ConfidenceLevel::High => "high",
            };
            json!({"score": h.confidence_score, "level": level})
        }
        bgpsentry_core::model::Event::Leak(_) => serde_json::Value::Null,
    }
}

/// Serializes JSON compactly (cannot fail for `Value`).
pub fn to_bytes(v: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

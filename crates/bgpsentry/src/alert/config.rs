//! The alert configuration: one TOML file (`etc/alert.example.toml`), every
//! table `deny_unknown_fields` so a typo is an error rather than a silently
//! ignored setting, and secrets read from the environment or files
//! (`*_env`, `*_file`) at start-up, never logged.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use bgpsentry_core::model::Asn;
use serde::Deserialize;

use super::template::Templates;
use super::{AlertError, Result};

/// The whole `alert` configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertConfig {
    /// The SQLite file holding `alert_*` tables (the store's file, or any).
    pub state: Option<PathBuf>,
    /// The Radar-compatible API to poll.
    pub api: Option<ApiConfig>,
    /// When `bgpsentry alert` polls.
    #[serde(default)]
    pub schedule: ScheduleConfig,
    /// Template of the link put into every message; `{{field}}`s as in
    /// templates. Default: the event in the polled API.
    pub link: Option<String>,
    /// When an event is "escalated".
    #[serde(default)]
    pub lifecycle: LifecycleConfig,
    /// Retries.
    #[serde(default)]
    pub delivery: DeliveryConfig,
    /// Messages per channel and time window; beyond it, digests.
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    /// Message template overrides for every channel.
    #[serde(default)]
    pub templates: Templates,
    /// What to alert on.
    #[serde(default, rename = "watch")]
    pub watches: Vec<WatchConfig>,
    /// Where to send alerts.
    #[serde(default, rename = "channel")]
    pub channels: Vec<ChannelConfig>,
}

/// `[api]`: the Radar-compatible API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Base URL up to and including `/client/v4`, e.g.
    /// `https://api.cloudflare.com/client/v4` or `http://127.0.0.1:8080/client/v4`.
    pub url: String,
    /// Environment variable holding the bearer token.
    pub token_env: Option<String>,
    /// File holding the bearer token.
    pub token_file: Option<PathBuf>,
    /// Events per page (Radar's `per_page`).
    #[serde(default = "default_per_page")]
    pub per_page: u32,
    /// At most this many pages per watch and run (a safety stop).
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
    /// Request timeout.
    #[serde(default = "default_api_timeout")]
    pub timeout_secs: u64,
    /// Re-check at most this many open (notified, not resolved) events per run
    /// by `eventId`, for escalation and resolution messages.
    #[serde(default = "default_refresh_open")]
    pub refresh_open: u32,
}

fn default_per_page() -> u32 {
    100
}
fn default_max_pages() -> u32 {
    50
}
fn default_api_timeout() -> u64 {
    30
}
fn default_refresh_open() -> u32 {
    50
}

/// `[schedule]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Five-field crontab expression (UTC), as in the seed's wrangler config.
    #[serde(default = "default_cron")]
    pub cron: String,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            cron: default_cron(),
        }
    }
}

fn default_cron() -> String {
    "*/5 * * * *".to_string()
}

/// `[lifecycle]`: thresholds for "escalated", measured against the event as
/// it was when the "new" message went out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleConfig {
    /// Send "escalated" messages at all.
    #[serde(default = "yes")]
    pub escalated: bool,
    /// Send "resolved" messages at all.
    #[serde(default = "yes")]
    pub resolved: bool,
    /// Escalate when the confidence score grew by at least this much, or its
    /// level (low/medium/high) went up.
    #[serde(default = "default_conf_delta")]
    pub confidence_delta: i32,
    /// Escalate when the prefix count reached this multiple of the notified count.
    #[serde(default = "default_factor")]
    pub prefix_factor: f64,
    /// ... and grew by at least this many prefixes.
    #[serde(default = "default_min_growth")]
    pub prefix_min_growth: u32,
    /// Escalate when the peer count reached this multiple of the notified count.
    #[serde(default = "default_factor")]
    pub peer_factor: f64,
    /// ... and grew by at least this many peers.
    #[serde(default = "default_min_growth")]
    pub peer_min_growth: u32,
}

fn yes() -> bool {
    true
}
fn default_conf_delta() -> i32 {
    4
}
fn default_factor() -> f64 {
    2.0
}
fn default_min_growth() -> u32 {
    5
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig {
            escalated: true,
            resolved: true,
            confidence_delta: default_conf_delta(),
            prefix_factor: default_factor(),
            prefix_min_growth: default_min_growth(),
            peer_factor: default_factor(),
            peer_min_growth: default_min_growth(),
        }
    }
}

/// `[delivery]`: retries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    /// First retry delay.
    #[serde(default = "default_initial_backoff")]
    pub initial_backoff_ms: u64,
    /// Retry delays double up to this.
    #[serde(default = "default_max_backoff")]
    pub max_backoff_secs: u64,
    /// Per request (HTTP) or transaction (SMTP).
    #[serde(default = "default_send_timeout")]
    pub timeout_secs: u64,
    /// `--once`: keep retrying failed deliveries this long before exiting
    /// (they stay queued for the next run).
    #[serde(default = "default_once_wait")]
    pub once_wait_secs: u64,
    /// Delivered outbox rows are kept this long (they are the "sent once" record).
    #[serde(default = "default_retention")]
    pub retention_days: u32,
}

fn default_initial_backoff() -> u64 {
    500
}
fn default_max_backoff() -> u64 {
    600
}
fn default_send_timeout() -> u64 {
    10
}
fn default_once_wait() -> u64 {
    60
}
fn default_retention() -> u32 {
    180
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            initial_backoff_ms: default_initial_backoff(),
            max_backoff_secs: default_max_backoff(),
            timeout_secs: default_send_timeout(),
            once_wait_secs: default_once_wait(),
            retention_days: default_retention(),
        }
    }
}

/// `[rate_limit]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Messages per channel per window; when more are due, they go out as
    /// one digest message instead.
    #[serde(default = "default_max_messages")]
    pub max_messages: u32,
    /// The window.
    #[serde(default = "default_window")]
    pub window_secs: u64,
    /// Events listed in one digest (the rest are counted).
    #[serde(default = "default_digest_max")]
    pub digest_max_events: u32,
    /// Prefixes listed in one message (the rest are counted).
    #[serde(default = "default_max_prefixes")]
    pub max_prefixes_listed: u32,
}

fn default_max_messages() -> u32 {
    20
}
fn default_window() -> u64 {
    60
}
fn default_digest_max() -> u32 {
    50
}
fn default_max_prefixes() -> u32 {
    20
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            max_messages: default_max_messages(),
            window_secs: default_window(),
            digest_max_events: default_digest_max(),
            max_prefixes_listed: default_max_prefixes(),
        }
    }
}

/// Event kinds a watch covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Origin hijacks.
    Hijack,
    /// Route leaks.
    Leak,
}

impl Kind {
    /// `hijack` / `leak`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Hijack => "hijack",
            Kind::Leak => "leak",
        }
    }

    /// The API path segment: `hijacks` / `leaks`.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Hijack => "hijacks",
            Kind::Leak => "leaks",
        }
    }
}

/// `[[watch]]`: what to alert on. Every given filter must match.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchConfig {
    /// Unique name (state is kept per watch).
    pub name: String,
    /// Hijacker or victim (hijacks); any AS of the leak segment (leaks).
    pub involved_asn: Option<Asn>,
    /// Hijacks only.
    pub hijacker_asn: Option<Asn>,
    /// Hijacks only.
    pub victim_asn: Option<Asn>,
    /// Leaks only.
    pub leak_asn: Option<Asn>,
    /// An event prefix equal to, inside or covering this one (hijacks only).
    pub prefix: Option<ipnet::IpNet>,
    /// Minimum confidence score (hijacks only).
    pub min_confidence: Option<i32>,
    /// Which kinds; default both, or hijacks only when a hijack-only filter is set.
    pub kinds: Option<Vec<Kind>>,
    /// Channel names; default every channel.
    pub channels: Option<Vec<String>>,
}

impl WatchConfig {
    /// The kinds this watch covers after defaults.
    pub fn effective_kinds(&self) -> Vec<Kind> {
        if let Some(k) = &self.kinds {
            let set: BTreeSet<Kind> = k.iter().copied().collect();
            return set.into_iter().collect();
        }
        let hijack_only = self.hijacker_asn.is_some()
            || self.victim_asn.is_some()
            || self.prefix.is_some()
            || self.min_confidence.is_some();
        if hijack_only {
            vec![Kind::Hijack]
        } else if self.leak_asn.is_some() {
            vec![Kind::Leak]
        } else {
            vec![Kind::Hijack, Kind::Leak]
        }
    }
}

/// `[[channel]]`: one destination, `type = "..."` selects the kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ChannelConfig {
    /// Generic JSON webhook, HMAC-signed.
    Webhook(WebhookConfig),
    /// Slack incoming webhook.
    Slack(ChatConfig),
    /// Discord webhook.
    Discord(ChatConfig),
    /// Google Chat space webhook, one thread per event.
    #[serde(alias = "googlechat", alias = "hangouts")]
    Gchat(ChatConfig),
    /// Microsoft Teams (Workflows / incoming webhook, Adaptive Card).
    Teams(ChatConfig),
    /// Mattermost incoming webhook.
    Mattermost(ChatConfig),
    /// Telegram bot.
    Telegram(TelegramConfig),
    /// PagerDuty Events API v2.
    Pagerduty(PagerDutyConfig),
    /// Email over SMTP.
    Email(EmailConfig),
}

impl ChannelConfig {
    /// The channel's name.
    pub fn name(&self) -> &str {
        match self {
            ChannelConfig::Webhook(c) => &c.name,
            ChannelConfig::Slack(c)
            | ChannelConfig::Discord(c)
            | ChannelConfig::Gchat(c)
            | ChannelConfig::Teams(c)
            | ChannelConfig::Mattermost(c) => &c.name,
            ChannelConfig::Telegram(c) => &c.name,
            ChannelConfig::Pagerduty(c) => &c.name,
            ChannelConfig::Email(c) => &c.name,
        }
    }

    /// Per-channel template overrides.
    pub fn templates(&self) -> &Templates {
        match self {
            ChannelConfig::Webhook(c) => &c.templates,
            ChannelConfig::Slack(c)
            | ChannelConfig::Discord(c)
            | ChannelConfig::Gchat(c)
            | ChannelConfig::Teams(c)
            | ChannelConfig::Mattermost(c) => &c.templates,
            ChannelConfig::Telegram(c) => &c.templates,
            ChannelConfig::Pagerduty(c) => &c.templates,
            ChannelConfig::Email(c) => &c.templates,
        }
    }
}

/// A generic webhook.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Channel name.
    pub name: String,
    /// The URL (or `url_env` / `url_file`).
    pub url: Option<String>,
    /// Environment variable with the URL.
    pub url_env: Option<String>,
    /// File with the URL.
    pub url_file: Option<PathBuf>,
    /// HMAC key from this environment variable.
    pub secret_env: Option<String>,
    /// HMAC key from this file.
    pub secret_file: Option<PathBuf>,
    /// Extra request headers (not secret).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// Template overrides.
    #[serde(default)]
    pub templates: Templates,
}

/// Slack, Discord, Google Chat, Teams, Mattermost: a webhook URL is all.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatConfig {
    /// Channel name.
    pub name: String,
    /// The webhook URL (secret: prefer `url_env` / `url_file`).
    pub url: Option<String>,
    /// Environment variable with the URL.
    pub url_env: Option<String>,
    /// File with the URL.
    pub url_file: Option<PathBuf>,
    /// Display name override (Slack, Discord, Mattermost).
    pub username: Option<String>,
    /// Template overrides.
    #[serde(default)]
    pub templates: Templates,
}

/// Telegram bot.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// Channel name.
    pub name: String,
    /// Bot token from this environment variable.
    pub token_env: Option<String>,
    /// Bot token from this file.
    pub token_file: Option<PathBuf>,
    /// Chat id (`-100…` for channels, `@channelname`).
    pub chat_id: String,
    /// API base (tests point it at loopback).
    #[serde(default = "default_telegram_api")]
    pub api_url: String,
    /// Template overrides.
    #[serde(default)]
    pub templates: Templates,
}

fn default_telegram_api() -> String {
    "https://api.telegram.org".to_string()
}

/// PagerDuty Events API v2.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerDutyConfig {
    /// Channel name.
    pub name: String,
    /// Integration (routing) key from this environment variable.
    pub routing_key_env: Option<String>,
    /// Integration key from this file.
    pub routing_key_file: Option<PathBuf>,
    /// Events API URL (tests point it at loopback).
    #[serde(default = "default_pd_url")]
    pub url: String,
    /// Severity for high confidence (8+); medium gets `error`, low `warning`.
    #[serde(default = "default_pd_severity")]
    pub severity: String,
    /// Template overrides (the summary uses the title template).
    #[serde(default)]
    pub templates: Templates,
}

fn default_pd_url() -> String {
    "https://events.pagerduty.com/v2/enqueue".to_string()
}
fn default_pd_severity() -> String {
    "critical".to_string()
}

/// SMTP transport security.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection, upgraded with STARTTLS (required), port 587.
    Starttls,
    /// Implicit TLS from the first byte (SMTPS), port 465.
    Tls,
    /// No TLS at all: only for a relay on localhost.
    None,
}

/// Email over SMTP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// Channel name.
    pub name: String,
    /// SMTP server.
    pub host: String,
    /// Port; default 587 (starttls), 465 (tls) or 25 (none).
    pub port: Option<u16>,
    /// Transport security.
    #[serde(default = "default_smtp_tls")]
    pub tls: SmtpTls,
    /// SMTP AUTH user.
    pub username: Option<String>,
    /// SMTP AUTH password from this environment variable.
    pub password_env: Option<String>,
    /// SMTP AUTH password from this file.
    pub password_file: Option<PathBuf>,
    /// `From:` (mailbox, e.g. `bgpsentry <alerts@example.net>`).
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
    /// EHLO name; default the host name.
    pub hello_name: Option<String>,
    /// Template overrides (subject = title template).
    #[serde(default)]
    pub templates: Templates,
}

fn default_smtp_tls() -> SmtpTls {
    SmtpTls::Starttls
}

/// A secret value: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The value, for use (never for logs).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Reads a secret given inline, by environment variable or by file; exactly
/// one source may be set (`required`: one must be).
pub fn resolve_secret(
    name: &str,
    inline: Option<&str>,
    env: Option<&str>,
    file: Option<&Path>,
    required: bool,
) -> Result<Option<Secret>> {
    let given =
        usize::from(inline.is_some()) + usize::from(env.is_some()) + usize::from(file.is_some());
    if given > 1 {
        return Err(AlertError::Config(format!(
            "{name}: give only one of the value, `{name}_env` or `{name}_file`"
        )));
    }
    let err = |reason: String| AlertError::Secret {
        name: name.to_string(),
        reason,
    };
    let value = if let Some(v) = inline {
        Some(v.to_string())
    } else if let Some(var) = env {
        match std::env::var(var) {
            Ok(v) => Some(v),
            Err(_) => {
                return Err(err(format!(
                    "environment variable {var} is not set or not UTF-8"
                )));
            }
        }
    } else if let Some(path) = file {
        match std::fs::read_to_string(path) {
            Ok(v) => Some(v),
            Err(e) => return Err(err(format!("cannot read {}: {e}", path.display()))),
        }
    } else {
        None
    };
    let value = value.map(|v| v.trim().to_string());
    match value {
        Some(v) if v.is_empty() => Err(err("is empty".to_string())),
        Some(v) => Ok(Some(Secret(v))),
        None if required => Err(err(format!("missing: set `{name}_env` or `{name}_file`"))),
        None => Ok(None),
    }
}

impl AlertConfig {
    /// Parses and validates a TOML document.
    pub fn from_toml(text: &str) -> Result<Self> {
        let cfg: AlertConfig =
            toml::from_str(text).map_err(|e| AlertError::Config(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads a TOML file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| AlertError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Checks cross-references and values (not secrets: those are read
    /// when channels are built).
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(AlertError::Config(m));
        let mut names = BTreeSet::new();
        for c in &self.channels {
            let n = c.name();
            if n.is_empty()
                || n.len() > 64
                || !n
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
            {
                return bad(format!("channel name {n:?}: use 1-64 of [A-Za-z0-9._-]"));
            }
            if !names.insert(n.to_string()) {
                return bad(format!("channel name {n:?} is used twice"));
            }
            c.templates()
                .validate()
                .map_err(|e| AlertError::Config(format!("channel {n}: {e}")))?;
            if let ChannelConfig::Email(e) = c
                && e.to.is_empty()
            {
                return bad(format!("channel {n}: `to` is empty"));
            }
        }
        let mut wnames = BTreeSet::new();
        for w in &self.watches {
            let n = &w.name;
            if n.is_empty()
                || n.len() > 64
                || !n
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
            {
                return bad(format!("watch name {n:?}: use 1-64 of [A-Za-z0-9._-]"));
            }
            if !wnames.insert(n.clone()) {
                return bad(format!("watch name {n:?} is used twice"));
            }
            if let Some(chs) = &w.channels {
                for c in chs {
                    if !names.contains(c) {
                        return bad(format!("watch {n}: unknown channel {c:?}"));
                    }
                }
            }
            if let Some(k) = &w.kinds {
                if k.is_empty() {
                    return bad(format!("watch {n}: `kinds` is empty"));
                }
                let hijack_only = w.hijacker_asn.is_some()
                    || w.victim_asn.is_some()
                    || w.prefix.is_some()
                    || w.min_confidence.is_some();
                if hijack_only && k.contains(&Kind::Leak) {
                    return bad(format!(
                        "watch {n}: hijacker_asn, victim_asn, prefix and min_confidence apply to hijacks only; \
                         make a separate watch for leaks"
                    ));
                }
                if w.leak_asn.is_some() && k.contains(&Kind::Hijack) {
                    return bad(format!("watch {n}: leak_asn applies to leaks only"));
                }
            }
            if w.leak_asn.is_some()
                && (w.hijacker_asn.is_some()
                    || w.victim_asn.is_some()
                    || w.prefix.is_some()
                    || w.min_confidence.is_some())
            {
                return bad(format!(
                    "watch {n}: leak_asn cannot be combined with hijack-only filters"
                ));
            }
        }
        self.templates
            .validate()
            .map_err(|e| AlertError::Config(format!("[templates]: {e}")))?;
        if let Some(l) = &self.link {
            super::template::check_fields(l)
                .map_err(|e| AlertError::Config(format!("link: {e}")))?;
        }
        if let Some(api) = &self.api {
            if !(api.url.starts_with("http://") || api.url.starts_with("https://")) {
                return bad(format!("api.url {:?}: must be http(s)", api.url));
            }
            if api.per_page == 0 || api.per_page > 1000 {
                return bad("api.per_page: 1..=1000".to_string());
            }
            if api.max_pages == 0 {
                return bad("api.max_pages: at least 1".to_string());
            }
        }
        super::schedule::Schedule::parse(&self.schedule.cron)?;
        if self.rate_limit.max_messages == 0 || self.rate_limit.window_secs == 0 {
            return bad("rate_limit: max_messages and window_secs must be positive".to_string());
        }
        if !(self.lifecycle.prefix_factor >= 1.0 && self.lifecycle.peer_factor >= 1.0) {
            return bad("lifecycle: prefix_factor and peer_factor must be >= 1".to_string());
        }
        Ok(())
    }

    /// Channel names a watch sends to.
    pub fn watch_channels<'a>(&'a self, w: &'a WatchConfig) -> Vec<&'a str> {
        match &w.channels {
            Some(c) => c.iter().map(String::as_str).collect(),
            None => self.channels.iter().map(|c| c.name()).collect(),
        }
    }
}

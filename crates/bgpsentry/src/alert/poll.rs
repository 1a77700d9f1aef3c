//! The client of a Radar-compatible API (`GET {base}/radar/bgp/hijacks/events`
//! and `/radar/bgp/leaks/events`): ours, or Cloudflare's with a token.
//! Answers are hostile input: bodies are size-capped, the envelope and each
//! event are parsed leniently (unknown fields ignored, missing ones
//! defaulted, timestamps as strings), and an event that cannot be read is
//! skipped with a warning instead of failing the run.

use std::collections::BTreeMap;
use std::time::Duration;

use bgpsentry_core::model::{Asn, Event, HijackEvent, LeakEvent, Tag, Timestamp};
use serde::Deserialize;

use super::config::{ApiConfig, Kind, Secret, WatchConfig, resolve_secret};
use super::{AlertError, Result};

/// The most bytes read from one API answer.
pub const MAX_BODY: usize = 32 << 20;

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    success: Option<bool>,
    #[serde(default)]
    errors: Vec<serde_json::Value>,
    #[serde(default)]
    result: Option<ResultDto>,
}

#[derive(Debug, Deserialize)]
struct ResultDto {
    #[serde(default)]
    events: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct TagDto {
    #[serde(default)]
    name: String,
    #[serde(default)]
    score: i32,
}

#[derive(Debug, Deserialize)]
struct HijackDto {
    id: u64,
    #[serde(default)]
    confidence_score: Option<i32>,
    #[serde(default)]
    duration: Option<i64>,
    #[serde(default)]
    event_type: Option<u8>,
    #[serde(default)]
    hijack_msgs_count: Option<u64>,
    #[serde(default)]
    hijacker_asn: Option<u32>,
    #[serde(default)]
    hijacker_country: Option<String>,
    #[serde(default)]
    is_stale: Option<bool>,
    #[serde(default)]
    max_hijack_ts: Option<String>,
    #[serde(default)]
    max_msg_ts: Option<String>,
    #[serde(default)]
    min_hijack_ts: Option<String>,
    #[serde(default)]
    on_going_count: Option<u32>,
    #[serde(default)]
    peer_asns: Option<Vec<u32>>,
    #[serde(default)]
    peer_ip_count: Option<u32>,
    #[serde(default)]
    prefixes: Option<Vec<String>>,
    #[serde(default)]
    tags: Option<Vec<TagDto>>,
    #[serde(default)]
    victim_asns: Option<Vec<u32>>,
    #[serde(default)]
    victim_countries: Option<Vec<String>>,
    #[serde(default)]
    finished: Option<bool>,
    #[serde(default)]
    ended_ts: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LeakDto {
    id: u64,
    #[serde(default)]
    countries: Option<Vec<String>>,
    #[serde(default)]
    detected_ts: Option<String>,
    #[serde(default)]
    finished: Option<bool>,
    #[serde(default)]
    leak_asn: Option<u32>,
    #[serde(default)]
    leak_count: Option<u64>,
    #[serde(default)]
    leak_seg: Option<Vec<u32>>,
    #[serde(default)]
    leak_type: Option<u8>,
    #[serde(default)]
    max_ts: Option<String>,
    #[serde(default)]
    min_ts: Option<String>,
    #[serde(default)]
    origin_count: Option<u32>,
    #[serde(default)]
    peer_count: Option<u32>,
    #[serde(default)]
    prefix_count: Option<u32>,
    #[serde(default)]
    ended_ts: Option<String>,
    #[serde(default)]
    prefixes: Option<Vec<String>>,
    #[serde(default)]
    origins: Option<Vec<u32>>,
}

fn ts(s: &Option<String>) -> Timestamp {
    s.as_deref().and_then(Timestamp::parse).unwrap_or_default()
}

fn asns(v: Option<Vec<u32>>) -> Vec<Asn> {
    v.unwrap_or_default().into_iter().map(Asn).collect()
}

impl HijackDto {
    fn into_event(self) -> Event {
        let tags: Vec<Tag> = self
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| Tag::new(t.name, t.score))
            .collect();
        let score = self
            .confidence_score
            .unwrap_or_else(|| tags.iter().map(|t| t.score).sum());
        Event::Hijack(HijackEvent {
            id: self.id,
            confidence_score: score,
            duration: self.duration.unwrap_or(0),
            event_type: self.event_type.unwrap_or(0),
            hijack_msgs_count: self.hijack_msgs_count.unwrap_or(0),
            hijacker_asn: Asn(self.hijacker_asn.unwrap_or(0)),
            hijacker_country: self.hijacker_country.unwrap_or_default(),
            is_stale: self.is_stale.unwrap_or(false),
            max_hijack_ts: ts(&self.max_hijack_ts),
            max_msg_ts: ts(&self.max_msg_ts),
            min_hijack_ts: ts(&self.min_hijack_ts),
            on_going_count: self.on_going_count.unwrap_or(0),
            peer_asns: asns(self.peer_asns),
            peer_ip_count: self.peer_ip_count.unwrap_or(0),
            prefixes: self.prefixes.unwrap_or_default(),
            tags,
            victim_asns: asns(self.victim_asns),
            victim_countries: self.victim_countries.unwrap_or_default(),
            finished: self.finished.unwrap_or(false),
            ended_ts: self.ended_ts.as_deref().and_then(Timestamp::parse),
            sample_paths: vec![],
        })
    }
}

impl LeakDto {
    fn into_event(self) -> Event {
        Event::Leak(LeakEvent {
            id: self.id,
            countries: self.countries.unwrap_or_default(),
            detected_ts: ts(&self.detected_ts),
            finished: self.finished.unwrap_or(false),
            leak_asn: Asn(self.leak_asn.unwrap_or(0)),
            leak_count: self.leak_count.unwrap_or(0),
            leak_seg: asns(self.leak_seg),
            leak_type: self.leak_type.unwrap_or(0),
            max_ts: ts(&self.max_ts),
            min_ts: ts(&self.min_ts),
            origin_count: self.origin_count.unwrap_or(0),
            peer_count: self.peer_count.unwrap_or(0),
            prefix_count: self.prefix_count.unwrap_or(0),
            confidence_score: 0,
            tags: Vec::new(),
            leak_segs: Vec::new(),
            ended_ts: self.ended_ts.as_deref().and_then(Timestamp::parse),
            prefixes: self.prefixes.unwrap_or_default(),
            origins: asns(self.origins),
            sample_paths: vec![],
        })
    }
}

/// Parses one events page (the full envelope): the readable events, and
/// how many the page carried (readable or not: paging needs the latter).
pub fn parse_page(kind: Kind, body: &[u8]) -> Result<(Vec<Event>, usize)> {
    let env: Envelope = serde_json::from_slice(body)
        .map_err(|e| AlertError::Api(format!("not a Radar envelope: {e}")))?;
    if env.success == Some(false) {
        let msgs: Vec<String> = env
            .errors
            .iter()
            .map(|e| {
                e.get("message")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
                    .unwrap_or_else(|| e.to_string())
            })
            .collect();
        return Err(AlertError::Api(format!(
            "success=false: {}",
            msgs.join("; ")
        )));
    }
    let Some(result) = env.result else {
        return Err(AlertError::Api("no `result` in answer".into()));
    };
    let raw = result.events.len();
    let mut out = Vec::with_capacity(raw);
    for v in result.events {
        let parsed = match kind {
            Kind::Hijack => serde_json::from_value::<HijackDto>(v).map(HijackDto::into_event),
            Kind::Leak => serde_json::from_value::<LeakDto>(v).map(LeakDto::into_event),
        };
        match parsed {
            Ok(e) => out.push(e),
            Err(e) => tracing::warn!(error = %e, "skipping an unreadable event in the API answer"),
        }
    }
    Ok((out, raw))
}

/// The filters of a watch as Radar query parameters, for one kind.
pub fn filters(w: &WatchConfig, kind: Kind) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    if let Some(a) = w.involved_asn {
        q.push(("involvedAsn", a.to_string()));
    }
    match kind {
        Kind::Hijack => {
            if let Some(a) = w.hijacker_asn {
                q.push(("hijackerAsn", a.to_string()));
            }
            if let Some(a) = w.victim_asn {
                q.push(("victimAsn", a.to_string()));
            }
            if let Some(p) = w.prefix {
                q.push(("prefix", p.to_string()));
            }
            if let Some(c) = w.min_confidence {
                q.push(("minConfidence", c.to_string()));
            }
        }
        Kind::Leak => {
            if let Some(a) = w.leak_asn {
                q.push(("leakAsn", a.to_string()));
            }
        }
    }
    q
}

/// What paging found.
#[derive(Debug, Default)]
pub struct Fetched {
    /// Events above the stop id, in increasing id order.
    pub events: Vec<Event>,
    /// The highest id seen (even below the stop id).
    pub newest: Option<u64>,
    /// Paging stopped at `max_pages` before reaching the stop id.
    pub truncated: bool,
}

/// A Radar-compatible API client.
#[derive(Debug, Clone)]
pub struct Poller {
    http: reqwest::Client,
    base: String,
    token: Option<Secret>,
    per_page: u32,
    max_pages: u32,
}

impl Poller {
    /// From `[api]`, reading the token.
    pub fn new(api: &ApiConfig) -> Result<Self> {
        let token = resolve_secret(
            "api.token",
            None,
            api.token_env.as_deref(),
            api.token_file.as_deref(),
            false,
        )?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(api.timeout_secs.max(1)))
            .user_agent(super::channel::http::USER_AGENT)
            .build()
            .map_err(|e| AlertError::Api(e.to_string()))?;
        Ok(Poller {
            http,
            base: api.url.trim_end_matches('/').to_string(),
            token,
            per_page: api.per_page,
            max_pages: api.max_pages,
        })
    }

    async fn get(&self, kind: Kind, query: &[(&str, String)]) -> Result<(Vec<Event>, usize)> {
        let mut url =
            reqwest::Url::parse(&format!("{}/radar/bgp/{}/events", self.base, kind.plural()))
                .map_err(|e| AlertError::Api(format!("api url: {e}")))?;
        {
            let mut qp = url.query_pairs_mut();
            qp.append_pair("format", "json");
            for (k, v) in query {
                qp.append_pair(k, v);
            }
        }
        let mut rb = self.http.get(url);
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t.expose());
        }
        let mut resp = rb
            .send()
            .await
            .map_err(|e| AlertError::Api(e.without_url().to_string()))?;
        let status = resp.status();
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| AlertError::Api(e.without_url().to_string()))?
        {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(AlertError::Api(format!(
                    "answer larger than {MAX_BODY} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            return Err(AlertError::Api(format!(
                "HTTP {}: {}",
                status.as_u16(),
                super::template::truncate_chars(text.trim(), 300)
            )));
        }
        parse_page(kind, &body)
    }

    /// Pages `sortBy=ID&sortOrder=DESC` down to `stop` (exclusive; `None`:
    /// only the first page, to learn the newest id).
    pub async fn fetch(&self, w: &WatchConfig, kind: Kind, stop: Option<u64>) -> Result<Fetched> {
        let base = filters(w, kind);
        let mut seen: BTreeMap<u64, Event> = BTreeMap::new();
        let mut out = Fetched::default();
        for page in 1..=self.max_pages {
            let mut q = base.clone();
            q.push(("sortBy", "ID".into()));
            q.push(("sortOrder", "DESC".into()));
            q.push(("per_page", self.per_page.to_string()));
            q.push(("page", page.to_string()));
            let (events, n) = self.get(kind, &q).await?;
            let mut reached = false;
            for e in events {
                let id = e.id();
                out.newest = Some(out.newest.map_or(id, |m| m.max(id)));
                match stop {
                    Some(s) if id > s => {
                        seen.insert(id, e);
                    }
                    _ => reached = true,
                }
            }
            if stop.is_none() || reached || n < self.per_page as usize {
                out.events = seen.into_values().collect();
                return Ok(out);
            }
            if page == self.max_pages {
                out.truncated = true;
            }
        }
        out.events = seen.into_values().collect();
        Ok(out)
    }

    /// One event by id (`eventId=`), for escalation/resolution checks.
    pub async fn by_id(&self, kind: Kind, id: u64) -> Result<Option<Event>> {
        let (events, _) = self.get(kind, &[("eventId", id.to_string())]).await?;
        Ok(events.into_iter().find(|e| e.id() == id))
    }
}

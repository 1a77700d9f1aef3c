//! RIPE RIS Live: a websocket client that subscribes with `ris_subscribe`
//! filters, decodes `ris_message` frames into [`Decoded`] messages, and
//! survives the ways the feed is known to fail.
//!
//! * **Reconnect** with exponential backoff and jitter after any disconnect
//!   (RIS Live drops clients with close code 1006 regularly).
//! * **Stall detection**: a connection that stays open but delivers no
//!   `ris_message` for `stall_secs` is closed and re-opened. With a broad
//!   subscription RIS beacons and the firehose guarantee traffic; with a very
//!   narrow filter raise `stall_secs` (or set it to 0 to disable).
//! * **Gaps**: every outage is reported as [`LiveItem::GapStart`] when it is
//!   noticed and [`LiveItem::GapEnd`] when the first message arrives again,
//!   and counted in the source's health. RIS Live does not replay what was
//!   missed: a gap is a real hole in the data, and downstream must know.
//!
//! Frames are decoded with our own serde structs (one pass, no
//! `serde_json::Value`). When `include_raw` is on, the hex BGP message RIS
//! Live forwards is decoded too and its attributes are used (they carry what
//! the JSON projection drops: large communities, Only-to-Customer) — but only
//! when its AS path agrees with the JSON one, because RIS does not say whether
//! the raw bytes use 2- or 4-octet ASNs.
//!
//! Message time is RIS Live's `timestamp` (the collector's receive time).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bgpkit_parser::models::{AsnLength, BgpMessage};
use bgpkit_parser::parser::bgp::messages::parse_bgp_message;
use bgpsentry_core::model::{
    AsPath, Asn, BGP_STATE_ESTABLISHED, Community, Nlri, PathAttrs, RouteEvent, Segment, Timestamp,
};
use bgpsentry_core::mrt::Decoded;
use bgpsentry_core::mrt::decode::convert_attrs;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::health::{SourceHealth, now_ts};
use super::live::{Closed, Jitter, LiveItem, Out, Shutdown, backoff, guarded, stopped};

/// The public RIS Live endpoint.
pub const DEFAULT_URL: &str = "wss://ris-live.ripe.net/v1/ws/?client=bgpsentry";

fn default_url() -> String {
    DEFAULT_URL.to_string()
}
fn default_stall() -> u64 {
    60
}
fn default_blind() -> u64 {
    120
}
fn default_backoff_min_ms() -> u64 {
    1000
}
fn default_backoff_max_secs() -> u64 {
    60
}
fn default_max_frame() -> usize {
    1 << 20
}
fn default_ping() -> u64 {
    30
}
fn default_connect_timeout() -> u64 {
    15
}
fn default_flush_ms() -> u64 {
    100
}

/// `[[source]] type = "ris-live"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RisLiveConfig {
    /// Name of the source (metrics label); default `ris-live`.
    pub name: Option<String>,
    /// Websocket URL (`ws://` or `wss://`).
    #[serde(default = "default_url")]
    pub url: String,
    /// One `ris_subscribe` per entry; none means the whole firehose.
    #[serde(default)]
    pub subscribe: Vec<RisSubscription>,
    /// Ask RIS Live for the raw BGP message and use its attributes.
    #[serde(default)]
    pub include_raw: bool,
    /// Reconnect when no `ris_message` arrived for this long (0 = never).
    #[serde(default = "default_stall")]
    pub stall_secs: u64,
    /// Health turns "blind" after this much silence (0 = only when disconnected).
    #[serde(default = "default_blind")]
    pub blind_after_secs: u64,
    /// First reconnect delay.
    #[serde(default = "default_backoff_min_ms")]
    pub backoff_min_ms: u64,
    /// Longest reconnect delay.
    #[serde(default = "default_backoff_max_secs")]
    pub backoff_max_secs: u64,
    /// Largest websocket message accepted.
    #[serde(default = "default_max_frame")]
    pub max_frame_bytes: usize,
    /// Websocket ping interval (0 = none).
    #[serde(default = "default_ping")]
    pub ping_secs: u64,
    /// Give up a connection attempt after this long.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// Longest time a decoded message waits in a batch.
    #[serde(default = "default_flush_ms")]
    pub flush_ms: u64,
}

/// One `ris_subscribe` filter (names as in the RIS Live manual, snake_case here).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RisSubscription {
    /// Only this collector (`rrc00`).
    pub host: Option<String>,
    /// Only these message types (`UPDATE`, `OPEN`, `NOTIFICATION`, `KEEPALIVE`, `RIS_PEER_STATE`).
    #[serde(rename = "type")]
    pub msg_type: Option<String>,
    /// Only UPDATEs touching these prefixes.
    #[serde(default)]
    pub prefix: Vec<String>,
    /// Also more specifics of `prefix` (RIS Live's default is true).
    pub more_specific: Option<bool>,
    /// Also less specifics of `prefix`.
    pub less_specific: Option<bool>,
    /// AS path filter, RIS Live syntax (`"64496,64497$"`, `"^174"`).
    pub path: Option<String>,
    /// Only this collector peer.
    pub peer: Option<String>,
    /// Only messages with this key (`announcements`, `withdrawals`).
    pub require: Option<String>,
}

impl RisLiveConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if !(self.url.starts_with("ws://") || self.url.starts_with("wss://")) {
            return Err(format!("url {:?} is not ws:// or wss://", self.url));
        }
        if self.max_frame_bytes < 1024 {
            return Err("max_frame_bytes must be at least 1024".into());
        }
        for s in &self.subscribe {
            for p in &s.prefix {
                p.parse::<IpNet>()
                    .map_err(|_| format!("subscribe prefix {p:?} is not a prefix"))?;
            }
            if let Some(p) = &s.peer {
                p.parse::<IpAddr>()
                    .map_err(|_| format!("subscribe peer {p:?} is not an address"))?;
            }
            if let Some(t) = &s.msg_type {
                const TYPES: [&str; 5] = [
                    "UPDATE",
                    "OPEN",
                    "NOTIFICATION",
                    "KEEPALIVE",
                    "RIS_PEER_STATE",
                ];
                if !TYPES.contains(&t.as_str()) {
                    return Err(format!("subscribe type {t:?} is not one of {TYPES:?}"));
                }
            }
            if let Some(r) = &s.require
                && r != "announcements"
                && r != "withdrawals"
            {
                return Err(format!(
                    "subscribe require {r:?} is not announcements or withdrawals"
                ));
            }
        }
        Ok(())
    }

    /// The `ris_subscribe` messages to send after connecting.
    pub fn subscribe_messages(&self) -> Vec<String> {
        let subs: Vec<RisSubscription> = if self.subscribe.is_empty() {
            vec![RisSubscription::default()]
        } else {
            self.subscribe.clone()
        };
        subs.iter()
            .map(|s| {
                let data = SubscribeData {
                    host: s.host.clone(),
                    msg_type: s.msg_type.clone(),
                    prefix: match s.prefix.len() {
                        0 => None,
                        1 => Some(serde_json::Value::String(s.prefix[0].clone())),
                        _ => Some(serde_json::Value::from(s.prefix.clone())),
                    },
                    more_specific: s.more_specific,
                    less_specific: s.less_specific,
                    path: s.path.clone(),
                    peer: s.peer.clone(),
                    require: s.require.clone(),
                    socket_options: SocketOptions {
                        include_raw: self.include_raw,
                    },
                };
                serde_json::json!({"type": "ris_subscribe", "data": data}).to_string()
            })
            .collect()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SubscribeData {
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    msg_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prefix: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    more_specific: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    less_specific: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    require: Option<String>,
    socket_options: SocketOptions,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SocketOptions {
    include_raw: bool,
}

// ------------ Frames ---------------------------------------------------------

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    data: Option<Data>,
}

/// A number that RIS Live sometimes sends as a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrStr {
    Num(u64),
    Str(String),
}

impl NumOrStr {
    fn as_u32(&self) -> Option<u32> {
        match self {
            NumOrStr::Num(n) => u32::try_from(*n).ok(),
            NumOrStr::Str(s) => s.trim().parse().ok(),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PathElem {
    Asn(u64),
    Set(Vec<u64>),
}

#[derive(Deserialize)]
struct Announcement {
    next_hop: Option<String>,
    #[serde(default)]
    prefixes: Vec<String>,
}

/// The union of every `data` object RIS Live sends; unknown fields are ignored.
#[derive(Deserialize)]
struct Data {
    timestamp: Option<f64>,
    peer: Option<String>,
    peer_asn: Option<NumOrStr>,
    host: Option<String>,
    #[serde(rename = "type")]
    msg_type: Option<String>,
    path: Option<Vec<PathElem>>,
    community: Option<Vec<(u64, u64)>>,
    aggregator: Option<String>,
    announcements: Option<Vec<Announcement>>,
    withdrawals: Option<Vec<String>>,
    raw: Option<String>,
    state: Option<String>,
    message: Option<String>,
}

/// What one frame turned into.
#[derive(Debug, Default, PartialEq)]
pub struct FrameOutput {
    /// The collector (`host`).
    pub host: Option<String>,
    /// Decoded route messages.
    pub messages: Vec<Decoded>,
    /// True for a `ris_message` of any type (liveness).
    pub ris_message: bool,
    /// A `ris_error`'s text.
    pub error: Option<String>,
    /// Peer came up (+1) or went down (-1).
    pub peer_delta: i64,
}

/// Why a frame could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    /// Not JSON, or not the shape RIS Live documents.
    #[error("bad JSON: {0}")]
    Json(String),
    /// A field has a value that cannot be right.
    #[error("bad {0}: {1}")]
    Field(&'static str, String),
}

fn ts_from_secs(t: f64) -> Option<Timestamp> {
    if !t.is_finite() || !(0.0..1e11).contains(&t) {
        return None;
    }
    Some(Timestamp((t * 1e6).round() as i64))
}

fn json_path(p: &[PathElem]) -> Result<AsPath, FrameError> {
    let asn = |n: u64| {
        u32::try_from(n)
            .map(Asn)
            .map_err(|_| FrameError::Field("path", n.to_string()))
    };
    let mut segments = Vec::new();
    let mut seq = Vec::new();
    for e in p {
        match e {
            PathElem::Asn(n) => seq.push(asn(*n)?),
            PathElem::Set(v) => {
                if !seq.is_empty() {
                    segments.push(Segment::Sequence(std::mem::take(&mut seq)));
                }
                segments.push(Segment::Set(
                    v.iter().map(|n| asn(*n)).collect::<Result<_, _>>()?,
                ));
            }
        }
    }
    if !seq.is_empty() {
        segments.push(Segment::Sequence(seq));
    }
    Ok(AsPath { segments })
}

fn parse_prefix(s: &str) -> Result<IpNet, FrameError> {
    s.parse::<IpNet>()
        .map_err(|_| FrameError::Field("prefix", s.chars().take(64).collect()))
}

fn first_addr(s: &str) -> Option<IpAddr> {
    s.split(',').next().and_then(|a| a.trim().parse().ok())
}

/// Attributes from the raw BGP message, when it decodes as 4-octet and its
/// path agrees with the JSON path.
fn raw_attrs(raw: &str, json: &AsPath) -> Option<PathAttrs> {
    if raw.len() > 2 * 65535 {
        return None;
    }
    let bytes = hex::decode(raw).ok()?;
    let mut b = Bytes::from(bytes);
    let msg = guarded(|| parse_bgp_message(&mut b, false, &AsnLength::Bits32)).ok()?;
    let BgpMessage::Update(u) = msg else {
        return None;
    };
    let attrs = convert_attrs(&u.attributes, false);
    let same = attrs.as_path.iter().eq(json.iter());
    same.then_some(attrs)
}

/// Decodes one RIS Live frame. Pure: no I/O, used by the client and tests.
pub fn decode_frame(text: &str, use_raw: bool) -> Result<FrameOutput, FrameError> {
    let env: Envelope = serde_json::from_str(text).map_err(|e| FrameError::Json(e.to_string()))?;
    let mut out = FrameOutput::default();
    match env.ty.as_str() {
        "ris_message" => {}
        "ris_error" => {
            out.error = Some(
                env.data
                    .and_then(|d| d.message)
                    .unwrap_or_else(|| "ris_error without a message".into()),
            );
            return Ok(out);
        }
        // ris_subscribe_ok, pong, ris_rrc_list: nothing to decode.
        _ => return Ok(out),
    }
    out.ris_message = true;
    let Some(d) = env.data else {
        return Err(FrameError::Json("ris_message without data".into()));
    };
    out.host = d.host.clone();
    let ts = d
        .timestamp
        .and_then(ts_from_secs)
        .ok_or_else(|| FrameError::Field("timestamp", format!("{:?}", d.timestamp)))?;
    let peer_ip: IpAddr = d
        .peer
        .as_deref()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| FrameError::Field("peer", format!("{:?}", d.peer)))?;
    let peer_asn = d
        .peer_asn
        .as_ref()
        .and_then(NumOrStr::as_u32)
        .map(Asn)
        .ok_or_else(|| FrameError::Field("peer_asn", String::new()))?;
    match d.msg_type.as_deref() {
        Some("UPDATE") => {
            let mut withdrawn: SmallVec<[Nlri; 4]> = SmallVec::new();
            for w in d.withdrawals.as_deref().unwrap_or_default() {
                withdrawn.push(Nlri {
                    prefix: parse_prefix(w)?,
                    path_id: None,
                });
            }
            let anns = d.announcements.as_deref().unwrap_or_default();
            let path = json_path(d.path.as_deref().unwrap_or_default())?;
            let mut base = match (use_raw, d.raw.as_deref()) {
                (true, Some(raw)) => raw_attrs(raw, &path),
                _ => None,
            };
            if base.is_none() {
                let mut a = PathAttrs::from_path(path.clone());
                for (hi, lo) in d.community.as_deref().unwrap_or_default() {
                    match (u16::try_from(*hi), u16::try_from(*lo)) {
                        (Ok(h), Ok(l)) => a.communities.push(Community::Standard(h, l)),
                        _ => return Err(FrameError::Field("community", format!("{hi}:{lo}"))),
                    }
                }
                if let Some((asn, ip)) = d.aggregator.as_deref().and_then(|s| s.split_once(':'))
                    && let (Ok(asn), Ok(ip)) = (asn.parse::<u32>(), ip.parse::<IpAddr>())
                {
                    a.aggregator = Some((Asn(asn), ip));
                }
                base = Some(a);
            }
            let base = base.unwrap_or_default();
            let mut first = true;
            for ann in anns {
                let mut announced: SmallVec<[Nlri; 4]> = SmallVec::new();
                for p in &ann.prefixes {
                    if p == "eor" {
                        continue;
                    }
                    announced.push(Nlri {
                        prefix: parse_prefix(p)?,
                        path_id: None,
                    });
                }
                if announced.is_empty() {
                    continue;
                }
                let mut attrs = base.clone();
                if let Some(nh) = ann.next_hop.as_deref().and_then(first_addr) {
                    attrs.next_hop = Some(nh);
                }
                out.messages.push(Decoded {
                    ts,
                    peer_ip,
                    peer_asn,
                    event: RouteEvent::Update {
                        withdrawn: if first {
                            std::mem::take(&mut withdrawn)
                        } else {
                            SmallVec::new()
                        },
                        announced,
                        attrs: Some(Arc::new(attrs)),
                        from_rib: false,
                    },
                });
                first = false;
            }
            if !withdrawn.is_empty() {
                out.messages.push(Decoded {
                    ts,
                    peer_ip,
                    peer_asn,
                    event: RouteEvent::Update {
                        withdrawn,
                        announced: SmallVec::new(),
                        attrs: None,
                        from_rib: false,
                    },
                });
            }
        }
        Some("RIS_PEER_STATE") | Some("STATE") => {
            let (old, new, delta) = match d.state.as_deref() {
                Some("down") => (BGP_STATE_ESTABLISHED, 1, -1),
                Some("connected") | Some("up") => (1, BGP_STATE_ESTABLISHED, 1),
                other => return Err(FrameError::Field("state", format!("{other:?}"))),
            };
            out.peer_delta = delta;
            out.messages.push(Decoded {
                ts,
                peer_ip,
                peer_asn,
                event: RouteEvent::PeerState { old, new },
            });
        }
        // OPEN, KEEPALIVE, NOTIFICATION: liveness only. A NOTIFICATION ends
        // the collector's session, and RIS reports that as RIS_PEER_STATE.
        _ => {}
    }
    Ok(out)
}

// ------------ Client ---------------------------------------------------------

enum SessionEnd {
    Shutdown,
    Closed(String),
    Stalled,
    Receiver,
}

struct Client {
    cfg: RisLiveConfig,
    out: Out,
    hosts: Vec<Arc<str>>,
    /// Start of the current outage, with its reason.
    outage: Option<(Timestamp, String)>,
    last_data: Option<Timestamp>,
}

impl Client {
    fn host(&mut self, h: Option<&str>) -> Arc<str> {
        let h = h.unwrap_or("ris-live");
        if let Some(a) = self.hosts.iter().find(|a| &***a == h) {
            return a.clone();
        }
        let a: Arc<str> = h.chars().take(64).collect::<String>().into();
        if self.hosts.len() < 256 {
            self.hosts.push(a.clone());
        }
        a
    }

    async fn lost(&mut self, reason: String) -> Result<(), Closed> {
        if self.outage.is_none() {
            let since = self.last_data.unwrap_or_else(now_ts);
            self.out.gap_start(since, &reason).await?;
            self.outage = Some((since, reason));
        }
        Ok(())
    }

    async fn handle_text(&mut self, text: &str) -> Result<(), Closed> {
        let h = self.out.health.clone();
        h.frame();
        match decode_frame(text, self.cfg.include_raw) {
            Ok(f) => {
                if let Some(e) = &f.error {
                    h.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(source = %self.out.source, error = %e, "ris_error from the server");
                }
                if f.ris_message {
                    let now = now_ts();
                    self.last_data = Some(now);
                    if let Some((from, reason)) = self.outage.take() {
                        self.out.gap_end(from, now, &reason).await?;
                    }
                }
                if f.peer_delta != 0 {
                    SourceHealth::add_gauge(&h.peers_up, f.peer_delta);
                }
                if !f.messages.is_empty() {
                    let host = self.host(f.host.as_deref());
                    for m in f.messages {
                        self.out.push(&host, m);
                    }
                    self.out.maybe_flush().await?;
                }
            }
            Err(e) => {
                h.malformed.fetch_add(1, Ordering::Relaxed);
                let sample: String = text.chars().take(200).collect();
                tracing::warn!(source = %self.out.source, error = %e, frame = %sample, "malformed RIS Live frame skipped");
            }
        }
        Ok(())
    }

    async fn session(&mut self, shutdown: &mut Shutdown) -> SessionEnd {
        let cfg = self.cfg.clone();
        let ws_cfg = WebSocketConfig::default()
            .max_message_size(Some(cfg.max_frame_bytes))
            .max_frame_size(Some(cfg.max_frame_bytes));
        let connect =
            tokio_tungstenite::connect_async_with_config(cfg.url.as_str(), Some(ws_cfg), true);
        let ws = tokio::select! {
            r = timeout(Duration::from_secs(cfg.connect_timeout_secs.max(1)), connect) => r,
            _ = stopped(shutdown) => return SessionEnd::Shutdown,
        };
        let mut ws = match ws {
            Ok(Ok((ws, _))) => ws,
            Ok(Err(e)) => return SessionEnd::Closed(format!("connect: {e}")),
            Err(_) => return SessionEnd::Closed("connect: timed out".into()),
        };
        for m in cfg.subscribe_messages() {
            if let Err(e) = ws.send(Message::text(m)).await {
                return SessionEnd::Closed(format!("subscribe: {e}"));
            }
        }
        let health = self.out.health.clone();
        health.connections.store(1, Ordering::Relaxed);
        tracing::info!(source = %self.out.source, url = %cfg.url, "RIS Live connected and subscribed");
        let stall = (cfg.stall_secs > 0).then(|| Duration::from_secs(cfg.stall_secs));
        let flush_every = Duration::from_millis(cfg.flush_ms.max(1));
        let ping_every = Duration::from_secs(cfg.ping_secs);
        let mut stall_at = stall.map(|s| Instant::now() + s);
        let mut ping_at = Instant::now() + ping_every;
        let mut flush_at: Option<Instant> = None;
        let far = Duration::from_secs(86400 * 365);
        let end = loop {
            let stall_deadline = stall_at.unwrap_or_else(|| Instant::now() + far);
            let flush_deadline = flush_at.unwrap_or_else(|| Instant::now() + far);
            tokio::select! {
                biased;
                _ = stopped(shutdown) => break SessionEnd::Shutdown,
                msg = ws.next() => match msg {
                    Some(Ok(Message::Text(t))) => {
                        let was_data = self.last_data;
                        if self.handle_text(t.as_str()).await.is_err() {
                            break SessionEnd::Receiver;
                        }
                        if self.last_data != was_data {
                            stall_at = stall.map(|s| Instant::now() + s);
                        }
                        if self.out.has_pending() && flush_at.is_none() {
                            flush_at = Some(Instant::now() + flush_every);
                        } else if !self.out.has_pending() {
                            flush_at = None;
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        health.malformed.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(Ok(Message::Close(f))) => {
                        break SessionEnd::Closed(format!("closed by server: {f:?}"));
                    }
                    Some(Ok(_)) => {} // ping/pong, answered by tungstenite
                    Some(Err(e)) => break SessionEnd::Closed(format!("read: {e}")),
                    None => break SessionEnd::Closed("connection closed".into()),
                },
                _ = sleep_until(stall_deadline), if stall_at.is_some() => break SessionEnd::Stalled,
                _ = sleep_until(flush_deadline), if flush_at.is_some() => {
                    flush_at = None;
                    if self.out.flush().await.is_err() {
                        break SessionEnd::Receiver;
                    }
                }
                _ = sleep_until(ping_at), if cfg.ping_secs > 0 => {
                    ping_at = Instant::now() + ping_every;
                    if let Err(e) = ws.send(Message::Ping(Bytes::from_static(b"bgpsentry"))).await {
                        break SessionEnd::Closed(format!("ping: {e}"));
                    }
                }
            }
        };
        health.connections.store(0, Ordering::Relaxed);
        // RIS Live gives no state on reconnect: peers are unknown until they speak.
        health.peers_up.store(0, Ordering::Relaxed);
        let _ = timeout(Duration::from_secs(1), ws.close(None)).await;
        end
    }
}

/// Runs the RIS Live client until shutdown or until the receiver is gone.
pub async fn run(
    cfg: RisLiveConfig,
    name: Arc<str>,
    tx: mpsc::Sender<LiveItem>,
    health: Arc<SourceHealth>,
    mut shutdown: Shutdown,
) {
    let base = Duration::from_millis(cfg.backoff_min_ms.max(1));
    let max = Duration::from_secs(cfg.backoff_max_secs.max(1)).max(base);
    let mut client = Client {
        cfg,
        out: Out::new(name, tx, health.clone()),
        hosts: Vec::new(),
        outage: None,
        last_data: None,
    };
    let mut jitter = Jitter::new();
    let mut attempt: u32 = 0;
    let mut first = true;
    loop {
        if !first {
            health.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        first = false;
        let data_before = health.frames.load(Ordering::Relaxed);
        let end = client.session(&mut shutdown).await;
        let _ = client.out.flush().await;
        let reason = match end {
            SessionEnd::Shutdown | SessionEnd::Receiver => return,
            SessionEnd::Stalled => {
                tracing::warn!(source = %client.out.source, secs = client.cfg.stall_secs, "RIS Live stalled: no message, reconnecting");
                "stalled".to_string()
            }
            SessionEnd::Closed(why) => {
                health.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(source = %client.out.source, reason = %why, "RIS Live connection lost");
                why
            }
        };
        if client.lost(reason).await.is_err() {
            return;
        }
        if health.frames.load(Ordering::Relaxed) > data_before {
            attempt = 0;
        }
        let wait = backoff(base, max, attempt, &mut jitter);
        attempt = attempt.saturating_add(1);
        tokio::select! {
            _ = sleep(wait) => {}
            _ = stopped(&mut shutdown) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPDATE: &str = r#"{"type":"ris_message","data":{"timestamp":1553627987.89,"peer":"72.22.223.9","peer_asn":"11708","id":"x","raw":"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF005B020000004040010100400232020C00002DBC00007D61000005130000CC6000040361000403610004036100040361000403610000CF01000418C1000418C14003044816DF09172DA1C0","host":"rrc00","type":"UPDATE","path":[11708,32097,1299,52320,263009,263009,263009,263009,263009,52993,268481,268481],"origin":"igp","announcements":[{"next_hop":"72.22.223.9","prefixes":["45.161.192.0/23"]}]}}"#;

    #[test]
    fn update_json_and_raw_agree() {
        let a = decode_frame(UPDATE, false).expect("json");
        let b = decode_frame(UPDATE, true).expect("raw");
        assert_eq!(a.host.as_deref(), Some("rrc00"));
        assert_eq!(a.messages.len(), 1);
        let RouteEvent::Update {
            announced, attrs, ..
        } = &a.messages[0].event
        else {
            panic!("not an update")
        };
        assert_eq!(announced[0].prefix.to_string(), "45.161.192.0/23");
        let attrs = attrs.as_ref().expect("attrs");
        assert_eq!(attrs.origins.as_slice(), &[Asn(268481)]);
        assert_eq!(a.messages[0].ts, Timestamp(1_553_627_987_890_000));
        assert_eq!(a, b, "raw decoding gives the same model");
    }

    #[test]
    fn sets_withdrawals_and_bad_values() {
        let f = r#"{"type":"ris_message","data":{"timestamp":1.5,"peer":"2001:db8::1","peer_asn":64500,"host":"rrc21","type":"UPDATE","path":[64500,[64501,64502]],"community":[[64500,1]],"announcements":[{"next_hop":"2001:db8::1,fe80::1","prefixes":["2001:db8:1::/48"]},{"next_hop":"192.0.2.1","prefixes":["192.0.2.0/24"]}],"withdrawals":["198.51.100.0/24"]}}"#;
        let out = decode_frame(f, false).expect("decodes");
        assert_eq!(out.messages.len(), 2);
        let RouteEvent::Update {
            withdrawn, attrs, ..
        } = &out.messages[0].event
        else {
            panic!()
        };
        assert_eq!(withdrawn.len(), 1);
        let attrs = attrs.as_ref().expect("attrs");
        assert_eq!(attrs.origins.as_slice(), &[Asn(64501), Asn(64502)]);
        assert_eq!(attrs.next_hop, "2001:db8::1".parse().ok());
        assert_eq!(attrs.communities, vec![Community::Standard(64500, 1)]);
        for bad in [
            r#"{"type":"ris_message","data":{"timestamp":1,"peer":"x","peer_asn":1,"type":"UPDATE"}}"#,
            r#"{"type":"ris_message","data":{"timestamp":1e300,"peer":"192.0.2.1","peer_asn":1}}"#,
            r#"{"type":"ris_message","data":{"timestamp":1,"peer":"192.0.2.1","peer_asn":"99999999999"}}"#,
            r#"{"type":"ris_message","data":{"timestamp":1,"peer":"192.0.2.1","peer_asn":1,"type":"UPDATE","announcements":[{"next_hop":"1.1.1.1","prefixes":["300.0.0.0/8"]}]}}"#,
            r#"{"type":"ris_message","data":{"timestamp":1,"peer":"192.0.2.1","peer_asn":1,"type":"UPDATE","path":[4294967296]}}"#,
            r#"{"type": "ris_message", "data": {"timestamp": 1"#,
            "[]",
        ] {
            assert!(decode_frame(bad, true).is_err(), "{bad}");
        }
        let err = decode_frame(r#"{"type":"ris_error","data":{"message":"no"}}"#, false)
            .expect("error frame");
        assert_eq!(err.error.as_deref(), Some("no"));
        assert!(!err.ris_message);
    }

    #[test]
    fn subscribe_json() {
        let cfg: RisLiveConfig = toml::from_str(
            "include_raw = true\n[[subscribe]]\nhost = \"rrc00\"\nprefix = [\"192.0.2.0/24\"]\nmore_specific = true\npath = \"^174\"\n",
        )
        .expect("cfg");
        cfg.validate().expect("valid");
        let m = cfg.subscribe_messages();
        let v: serde_json::Value = serde_json::from_str(&m[0]).expect("json");
        assert_eq!(v["type"], "ris_subscribe");
        assert_eq!(v["data"]["host"], "rrc00");
        assert_eq!(v["data"]["prefix"], "192.0.2.0/24");
        assert_eq!(v["data"]["moreSpecific"], true);
        assert_eq!(v["data"]["path"], "^174");
        assert_eq!(v["data"]["socketOptions"]["includeRaw"], true);
        assert!(v["data"].get("lessSpecific").is_none());
    }
}

//! Live sources: RIPE RIS Live, BMP routers, passive BGP sessions and MRT
//! follow mode, behind one config enum and one `run` function.
//!
//! ```text
//!  [[source]] type = "ris-live"  ─ task: websocket ─ reconnect/stall ─┐
//!  [[source]] type = "bmp"       ─ task: listener ─ task per router ──┤  bounded mpsc<LiveItem>
//!  [[source]] type = "bgp"       ─ task: listener ─ task per session ─┼──────────────────────► daemon
//!  [[source]] type = "mrt-follow"─ task: poll dir ─ blocking decode ──┘  (interns peers, detects)
//!                 each source ── Arc<SourceHealth> ──► /metrics, "monitoring blind"
//! ```
//!
//! Every source decodes into the core's [`Decoded`] (peer address, peer ASN,
//! time, [`RouteEvent`]) and sends them in [`LiveBatch`]es named by
//! collector, so the daemon can intern them with a `PeerTable` exactly like
//! MRT replay does. Outages are sent as [`LiveItem::GapStart`] /
//! [`LiveItem::GapEnd`] so that downstream can tell "quiet" from "blind".
//!
//! Time is the message's own wherever the protocol carries one (RIS Live
//! `timestamp`, BMP per-peer header); a BGP session carries none, so there it
//! is the receive time. Synthetic events (a router's connection dropping,
//! which takes its peers down) use the wall clock.
//!
//! Backpressure: sources await the bounded channel. A slow consumer therefore
//! slows the TCP reads (BMP, BGP: the routers buffer; RIS Live: the server may
//! drop us, which is then recorded as a gap) rather than growing memory.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bgpkit_parser::error::BgpValidationWarning;
use bgpkit_parser::models::capabilities::AddPathSendReceive;
use bgpkit_parser::models::{
    Afi, AsnLength, AttrType, BgpOpenMessage, BgpUpdateMessage, CapabilityValue, NetworkPrefix,
    ParamValue, Safi,
};
use bgpkit_parser::parser::bgp::messages::parse_bgp_update_message;
use bgpsentry_core::model::{Asn, Nlri, RouteEvent, Timestamp};
use bgpsentry_core::mrt::Decoded;
use bgpsentry_core::mrt::decode::convert_attrs;
use bytes::Bytes;
use serde::Deserialize;
use smallvec::SmallVec;
use tokio::sync::{mpsc, watch};

use super::bgp_speaker::BgpConfig;
use super::bmp::BmpConfig;
use super::follow::FollowConfig;
use super::health::SourceHealth;
use super::rislive::RisLiveConfig;

/// Route messages per batch before a source flushes.
pub const BATCH: usize = 512;
/// Distinct collectors buffered at once before a source flushes.
const MAX_COLLECTORS_PENDING: usize = 64;

/// Messages of one collector, in arrival order.
#[derive(Clone, Debug)]
pub struct LiveBatch {
    /// The source's configured name.
    pub source: Arc<str>,
    /// The collector: a RIS host (`rrc00`), `bmp-name:router-address`, or the
    /// BGP / follow source's collector name.
    pub collector: Arc<str>,
    /// The messages.
    pub messages: Vec<Decoded>,
}

impl LiveBatch {
    /// Interns the batch's collector and peers in `peers` and hands each
    /// message to `sink` (the detectors), in order. Returns the count.
    pub fn feed(
        self,
        peers: &mut bgpsentry_core::model::PeerTable,
        sink: &mut dyn super::mrt::Sink,
    ) -> usize {
        let c = peers.collector(&self.collector);
        let n = self.messages.len();
        for d in self.messages {
            let msg = bgpsentry_core::model::RouteMessage {
                ts: d.ts,
                peer: peers.peer(c, d.peer_ip, d.peer_asn),
                event: d.event,
            };
            sink.message(&msg, peers);
        }
        n
    }
}

/// Binds a listener source's TCP address (`…:0` lets the kernel pick the
/// port) and publishes the address actually bound in its health.
pub async fn bind_listener(
    addr: std::net::SocketAddr,
    name: &str,
    kind: &str,
    health: &SourceHealth,
) -> Result<tokio::net::TcpListener, SourceError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|err| SourceError::Bind {
            source_name: name.to_string(),
            addr: addr.to_string(),
            err,
        })?;
    let bound = listener.local_addr().unwrap_or(addr);
    health.set_listening(bound);
    tracing::info!(source = %name, listen = %bound, "{kind} listener up");
    Ok(listener)
}

/// What a source sends to the daemon.
#[derive(Clone, Debug)]
pub enum LiveItem {
    /// Decoded messages.
    Batch(LiveBatch),
    /// The source lost its feed; nothing heard since `since`.
    GapStart {
        /// The source's name.
        source: Arc<str>,
        /// Last time the feed was known good (wall clock).
        since: Timestamp,
        /// Why (disconnect, stall, error).
        reason: String,
    },
    /// The feed is back: nothing was received from `from` to `to`.
    GapEnd {
        /// The source's name.
        source: Arc<str>,
        /// Start of the gap (wall clock).
        from: Timestamp,
        /// End of the gap (wall clock).
        to: Timestamp,
        /// Why the gap started.
        reason: String,
    },
}

/// How a source is told to stop: `true` (or a dropped sender) means stop.
pub type Shutdown = watch::Receiver<bool>;

/// Waits until shutdown is signalled.
pub async fn stopped(rx: &mut Shutdown) {
    loop {
        if *rx.borrow() {
            return;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Errors that stop a source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The configuration cannot work.
    #[error("source {source_name}: {msg}")]
    Config {
        /// The source.
        source_name: String,
        /// What is wrong.
        msg: String,
    },
    /// A listening socket could not be opened.
    #[error("source {source_name}: cannot listen on {addr}: {err}")]
    Bind {
        /// The source.
        source_name: String,
        /// The address.
        addr: String,
        /// The error.
        err: std::io::Error,
    },
    /// Another I/O error that stops the source.
    #[error("source {source_name}: {err}")]
    Io {
        /// The source.
        source_name: String,
        /// The error.
        err: std::io::Error,
    },
}

/// One live source, as written in the config file (`[[source]]` with a `type`).
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type")]
pub enum SourceConfig {
    /// RIPE RIS Live websocket.
    #[serde(rename = "ris-live")]
    RisLive(RisLiveConfig),
    /// BMP (RFC 7854) listener for routers.
    #[serde(rename = "bmp")]
    Bmp(BmpConfig),
    /// Passive BGP speaker (route-collector style).
    #[serde(rename = "bgp")]
    Bgp(BgpConfig),
    /// Ingest new MRT update files as they appear in a directory.
    #[serde(rename = "mrt-follow")]
    MrtFollow(FollowConfig),
}

/// The `[[source]]` list of a config file.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SourcesConfig {
    /// The sources.
    #[serde(default)]
    pub source: Vec<SourceConfig>,
}

impl SourceConfig {
    /// The kind as written in `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceConfig::RisLive(_) => "ris-live",
            SourceConfig::Bmp(_) => "bmp",
            SourceConfig::Bgp(_) => "bgp",
            SourceConfig::MrtFollow(_) => "mrt-follow",
        }
    }

    /// The source's name (its `name`, else its kind).
    pub fn name(&self) -> String {
        let n = match self {
            SourceConfig::RisLive(c) => c.name.as_deref(),
            SourceConfig::Bmp(c) => c.name.as_deref(),
            SourceConfig::Bgp(c) => c.name.as_deref(),
            SourceConfig::MrtFollow(c) => c.name.as_deref(),
        };
        n.unwrap_or(self.kind()).to_string()
    }

    /// Silence after which the source counts as blind.
    pub fn blind_after(&self) -> Option<Duration> {
        let s = match self {
            SourceConfig::RisLive(c) => c.blind_after_secs,
            SourceConfig::Bmp(c) => c.blind_after_secs,
            SourceConfig::Bgp(c) => c.blind_after_secs,
            SourceConfig::MrtFollow(c) => c.blind_after_secs,
        };
        (s > 0).then(|| Duration::from_secs(s))
    }

    /// A fresh health record for this source.
    pub fn new_health(&self) -> Arc<SourceHealth> {
        Arc::new(SourceHealth::new(
            &self.name(),
            self.kind(),
            self.blind_after(),
        ))
    }

    /// Checks what serde cannot (addresses, prefixes, ranges).
    pub fn validate(&self) -> Result<(), SourceError> {
        let name = self.name();
        let res = match self {
            SourceConfig::RisLive(c) => c.validate(),
            SourceConfig::Bmp(c) => c.validate(),
            SourceConfig::Bgp(c) => c.validate(),
            SourceConfig::MrtFollow(c) => c.validate(),
        };
        res.map_err(|msg| SourceError::Config {
            source_name: name,
            msg,
        })
    }
}

impl SourcesConfig {
    /// Parses the `[[source]]` tables of a TOML document (other tables are
    /// ignored here) and validates them, including unique names.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let c: SourcesConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        c.validate().map_err(|e| e.to_string())?;
        Ok(c)
    }

    /// Validates every source and that names are unique.
    pub fn validate(&self) -> Result<(), SourceError> {
        let mut seen = std::collections::HashSet::new();
        for s in &self.source {
            s.validate()?;
            if !seen.insert(s.name()) {
                return Err(SourceError::Config {
                    source_name: s.name(),
                    msg: "two sources have this name; give each a distinct `name`".into(),
                });
            }
        }
        Ok(())
    }
}

/// Runs one source until shutdown (or until its receiver is dropped).
/// Returns an error only when the source cannot start (bad config, cannot
/// listen); every error after that is counted, logged and survived.
pub async fn run(
    source: SourceConfig,
    tx: mpsc::Sender<LiveItem>,
    health: Arc<SourceHealth>,
    shutdown: Shutdown,
) -> Result<(), SourceError> {
    source.validate()?;
    let name: Arc<str> = source.name().into();
    match source {
        SourceConfig::RisLive(c) => {
            super::rislive::run(c, name, tx, health, shutdown).await;
            Ok(())
        }
        SourceConfig::Bmp(c) => super::bmp::run(c, name, tx, health, shutdown).await,
        SourceConfig::Bgp(c) => super::bgp_speaker::run(c, name, tx, health, shutdown).await,
        SourceConfig::MrtFollow(c) => super::follow::run(c, name, tx, health, shutdown).await,
    }
}

/// The receiving side is gone: the source should stop.
#[derive(Debug)]
pub struct Closed;

/// Per-task batching of decoded messages into [`LiveItem::Batch`]es.
pub(crate) struct Out {
    pub(crate) source: Arc<str>,
    tx: mpsc::Sender<LiveItem>,
    pub(crate) health: Arc<SourceHealth>,
    pending: Vec<(Arc<str>, Vec<Decoded>)>,
    total: usize,
}

impl Out {
    pub(crate) fn new(
        source: Arc<str>,
        tx: mpsc::Sender<LiveItem>,
        health: Arc<SourceHealth>,
    ) -> Self {
        Out {
            source,
            tx,
            health,
            pending: Vec::new(),
            total: 0,
        }
    }

    /// Queues one message (and counts it in the health record).
    pub(crate) fn push(&mut self, collector: &Arc<str>, d: Decoded) {
        let (a, w) = match &d.event {
            RouteEvent::Update {
                withdrawn,
                announced,
                ..
            } => (announced.len(), withdrawn.len()),
            RouteEvent::PeerState { .. } => (0, 0),
        };
        self.health.message(d.ts, a, w);
        self.total += 1;
        if let Some((_, v)) = self.pending.iter_mut().find(|(c, _)| c == collector) {
            v.push(d);
        } else {
            self.pending.push((collector.clone(), vec![d]));
        }
    }

    /// True when the buffer should be sent now.
    pub(crate) fn full(&self) -> bool {
        self.total >= BATCH || self.pending.len() >= MAX_COLLECTORS_PENDING
    }

    /// True when something is buffered.
    pub(crate) fn has_pending(&self) -> bool {
        self.total > 0
    }

    /// Sends everything buffered.
    pub(crate) async fn flush(&mut self) -> Result<(), Closed> {
        self.total = 0;
        for (collector, messages) in std::mem::take(&mut self.pending) {
            let item = LiveItem::Batch(LiveBatch {
                source: self.source.clone(),
                collector,
                messages,
            });
            self.tx.send(item).await.map_err(|_| Closed)?;
        }
        Ok(())
    }

    /// Flushes when full.
    pub(crate) async fn maybe_flush(&mut self) -> Result<(), Closed> {
        if self.full() {
            self.flush().await
        } else {
            Ok(())
        }
    }

    /// Sends a gap start (after flushing what came before it).
    pub(crate) async fn gap_start(&mut self, since: Timestamp, reason: &str) -> Result<(), Closed> {
        self.flush().await?;
        tracing::warn!(source = %self.source, %since, reason, "feed lost: gap starts");
        self.tx
            .send(LiveItem::GapStart {
                source: self.source.clone(),
                since,
                reason: reason.to_string(),
            })
            .await
            .map_err(|_| Closed)
    }

    /// Sends a gap end and records the gap in the health record.
    pub(crate) async fn gap_end(
        &mut self,
        from: Timestamp,
        to: Timestamp,
        reason: &str,
    ) -> Result<(), Closed> {
        self.flush().await?;
        let len = Duration::from_micros(u64::try_from(to.0.saturating_sub(from.0)).unwrap_or(0));
        self.health.gap(len);
        tracing::info!(source = %self.source, %from, %to, secs = len.as_secs_f64(), reason, "feed back: gap recorded");
        self.tx
            .send(LiveItem::GapEnd {
                source: self.source.clone(),
                from,
                to,
                reason: reason.to_string(),
            })
            .await
            .map_err(|_| Closed)
    }
}

/// How an UPDATE must be handled, following RFC 7606.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Fine (possibly after discarding a broken optional attribute).
    Ok,
    /// Announced routes are handled as withdrawn (RFC 7606 §2 treat-as-withdraw).
    TreatAsWithdraw(String),
    /// The NLRI itself cannot be trusted: the session must be reset
    /// (NOTIFICATION code 3, the given subcode).
    SessionReset(u8, String),
}

fn nlri(p: &NetworkPrefix) -> Nlri {
    Nlri {
        prefix: p.prefix,
        path_id: p.path_id,
    }
}

/// Turns a parsed UPDATE into our [`Decoded`] message (unicast NLRI only;
/// other SAFIs are ignored) and the RFC 7606 verdict. `two_byte` is true on
/// sessions without the 4-octet AS capability, where AS4_PATH is merged.
/// Returns `None` for an UPDATE without unicast NLRI (End-of-RIB, VPN, ...).
pub fn decode_update(
    u: &BgpUpdateMessage,
    two_byte: bool,
    ts: Timestamp,
    peer_ip: IpAddr,
    peer_asn: Asn,
) -> (Option<Decoded>, Verdict) {
    let mut verdict = Verdict::Ok;
    for w in u.attributes.validation_warnings() {
        match w {
            BgpValidationWarning::OptionalAttributeError { .. }
            | BgpValidationWarning::PartialAttributeError { .. }
            | BgpValidationWarning::UnknownRouteRefreshSubtype { .. }
            | BgpValidationWarning::InvalidRouteRefreshLength { .. } => {}
            BgpValidationWarning::MalformedNlri { .. } => {
                verdict = Verdict::SessionReset(10, w.to_string());
                break;
            }
            _ => {
                if verdict == Verdict::Ok {
                    verdict = Verdict::TreatAsWithdraw(w.to_string());
                }
            }
        }
    }
    let mut withdrawn: SmallVec<[Nlri; 4]> = u.withdrawn_prefixes.iter().map(nlri).collect();
    let mut announced: SmallVec<[Nlri; 4]> = u.announced_prefixes.iter().map(nlri).collect();
    if let Some(n) = u.attributes.get_unreachable_nlri()
        && n.safi == Safi::Unicast
    {
        withdrawn.extend(n.prefixes.iter().map(nlri));
    }
    if let Some(n) = u.attributes.get_reachable_nlri()
        && n.safi == Safi::Unicast
    {
        announced.extend(n.prefixes.iter().map(nlri));
    }
    if matches!(verdict, Verdict::TreatAsWithdraw(_)) {
        withdrawn.append(&mut announced);
    }
    if withdrawn.is_empty() && announced.is_empty() {
        return (None, verdict);
    }
    let attrs = (!announced.is_empty()).then(|| Arc::new(convert_attrs(&u.attributes, two_byte)));
    (
        Some(Decoded {
            ts,
            peer_ip,
            peer_asn,
            event: RouteEvent::Update {
                withdrawn,
                announced,
                attrs,
                from_rib: false,
            },
        }),
        verdict,
    )
}

/// The capabilities of an OPEN message.
pub fn capabilities(open: &BgpOpenMessage) -> impl Iterator<Item = &CapabilityValue> {
    open.opt_params
        .iter()
        .flat_map(|p| match &p.param_value {
            ParamValue::Capacities(c) => c.as_slice(),
            ParamValue::Raw(_) => &[],
        })
        .map(|c| &c.value)
}

/// The 4-octet ASN an OPEN announces (RFC 6793), if it has the capability.
pub fn four_octet_asn(open: &BgpOpenMessage) -> Option<u32> {
    capabilities(open).find_map(|c| match c {
        CapabilityValue::FourOctetAs(f) => Some(f.asn),
        _ => None,
    })
}

fn add_path_modes(open: &BgpOpenMessage) -> Vec<(Afi, Safi, AddPathSendReceive)> {
    capabilities(open)
        .filter_map(|c| match c {
            CapabilityValue::AddPath(a) => Some(a),
            _ => None,
        })
        .flat_map(|a| a.address_families.iter())
        .map(|f| (f.afi, f.safi, f.send_receive))
        .collect()
}

/// Which unicast families carry ADD-PATH path identifiers on a session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddPath {
    /// IPv4 unicast.
    pub ipv4: bool,
    /// IPv6 unicast.
    pub ipv6: bool,
}

impl AddPath {
    /// True when either family has it.
    pub fn any(self) -> bool {
        self.ipv4 || self.ipv6
    }
}

/// What the two OPENs of a session negotiated for path identifiers sent by
/// `sender` to `receiver` (RFC 7911 §4: the sender says Send, the receiver
/// says Receive), per unicast family.
pub fn add_path_negotiated(receiver: &BgpOpenMessage, sender: &BgpOpenMessage) -> AddPath {
    let rx = add_path_modes(receiver);
    let tx = add_path_modes(sender);
    let fam = |afi: Afi| {
        let can_rx = rx.iter().any(|(a, s, m)| {
            *a == afi
                && *s == Safi::Unicast
                && matches!(
                    m,
                    AddPathSendReceive::Receive | AddPathSendReceive::SendReceive
                )
        });
        let can_tx = tx.iter().any(|(a, s, m)| {
            *a == afi
                && *s == Safi::Unicast
                && matches!(
                    m,
                    AddPathSendReceive::Send | AddPathSendReceive::SendReceive
                )
        });
        can_rx && can_tx
    };
    AddPath {
        ipv4: fam(Afi::Ipv4),
        ipv6: fam(Afi::Ipv6),
    }
}

fn has_mp_ipv6(u: &BgpUpdateMessage) -> bool {
    let v6 = |n: Option<&bgpkit_parser::models::Nlri>| n.is_some_and(|n| n.afi == Afi::Ipv6);
    v6(u.attributes.get_reachable_nlri()) || v6(u.attributes.get_unreachable_nlri())
}

/// True when an MP_REACH / MP_UNREACH attribute did not parse (bgpkit keeps
/// it raw with a warning), which a wrong ADD-PATH setting causes.
fn mp_broken(u: &BgpUpdateMessage) -> bool {
    u.attributes.validation_warnings().iter().any(|w| {
        matches!(w, BgpValidationWarning::OptionalAttributeError { attr_type, .. }
            if matches!(attr_type, AttrType::MP_REACHABLE_NLRI | AttrType::MP_UNREACHABLE_NLRI))
    })
}

/// Parses an UPDATE body (after the 19-byte header) with ADD-PATH applied per
/// family. bgpkit takes one ADD-PATH switch per message, so on a session
/// that negotiated it for one family only, a message carrying IPv6 MP
/// attributes is parsed a second time with the IPv6 setting, and the result
/// combines the classic (IPv4) NLRI of the first parse with the attributes
/// (MP_REACH / MP_UNREACH included) of the second.
pub fn parse_update(
    body: Bytes,
    ap: AddPath,
    asn_len: &AsnLength,
) -> Result<BgpUpdateMessage, String> {
    let first = guarded(|| parse_bgp_update_message(body.clone(), ap.ipv4, asn_len));
    if ap.ipv4 == ap.ipv6 {
        return first;
    }
    match first {
        Ok(u) if !has_mp_ipv6(&u) && !mp_broken(&u) => Ok(u),
        first => {
            let second = guarded(|| parse_bgp_update_message(body, ap.ipv6, asn_len));
            match (first, second) {
                (Ok(u4), Ok(u6)) if has_mp_ipv6(&u6) && !mp_broken(&u6) => Ok(BgpUpdateMessage {
                    withdrawn_prefixes: u4.withdrawn_prefixes,
                    announced_prefixes: u4.announced_prefixes,
                    attributes: u6.attributes,
                }),
                (Err(_), Ok(u6))
                    if u6.announced_prefixes.is_empty() && u6.withdrawn_prefixes.is_empty() =>
                {
                    Ok(u6)
                }
                (Ok(u4), _) => Ok(u4),
                (Err(e), _) => Err(e),
            }
        }
    }
}

/// Parses a whole BGP message that must be an UPDATE (header included, as
/// BMP Route Monitoring carries it).
pub fn parse_update_message(
    msg: &Bytes,
    ap: AddPath,
    asn_len: &AsnLength,
) -> Result<BgpUpdateMessage, String> {
    if msg.len() < 23 {
        return Err(format!("BGP message of {} bytes", msg.len()));
    }
    let len = usize::from(u16::from_be_bytes([msg[16], msg[17]]));
    if len < 23 || len > msg.len() {
        return Err(format!("BGP length {len} with {} bytes present", msg.len()));
    }
    if msg[18] != 2 {
        return Err(format!(
            "BGP message type {} where an UPDATE belongs",
            msg[18]
        ));
    }
    parse_update(msg.slice(19..len), ap, asn_len)
}

/// Runs a parser on hostile bytes, turning a panic inside it into an error,
/// so that a parser bug costs one connection rather than the process.
pub fn guarded<T, E: ToString>(f: impl FnOnce() -> Result<T, E>) -> Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the parser panicked on this input".to_string()),
    }
}

/// A small xorshift generator for backoff jitter (no crypto needed).
#[derive(Debug)]
pub(crate) struct Jitter(u64);

impl Jitter {
    pub(crate) fn new() -> Self {
        let seed = super::health::now_ts().0 as u64 ^ (u64::from(std::process::id()) << 32);
        Jitter(seed | 1)
    }

    /// Uniform in [0, 1).
    pub(crate) fn next_f64(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Exponential backoff with "equal jitter": attempt n waits between half and
/// all of `min(max, base * 2^n)`.
pub(crate) fn backoff(
    base: Duration,
    max: Duration,
    attempt: u32,
    jitter: &mut Jitter,
) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(20)).min(max);
    let half = exp / 2;
    half + half.mul_f64(jitter.next_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let mut j = Jitter::new();
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(2);
        for n in 0..30 {
            let d = backoff(base, max, n, &mut j);
            let cap = base.saturating_mul(1 << n.min(20)).min(max);
            assert!(d >= cap / 2 && d <= cap, "attempt {n}: {d:?} vs {cap:?}");
        }
    }

    #[test]
    fn example_config_sources_parse() {
        let text = include_str!("../../../../etc/bgpsentry.example.toml");
        let c = SourcesConfig::from_toml(text).expect("example parses");
        assert_eq!(c.source.len(), 1);
        // Every commented-out source parses too once uncommented.
        let all: String = text
            .lines()
            .map(|l| {
                l.strip_prefix("# ")
                    .filter(|r| r.starts_with('[') || r.contains(" = "))
                    .unwrap_or(l)
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let c = SourcesConfig::from_toml(&all).expect("uncommented example parses");
        let kinds: Vec<_> = c.source.iter().map(|s| s.kind()).collect();
        assert_eq!(kinds, ["ris-live", "bmp", "bgp", "mrt-follow"]);
    }

    #[test]
    fn config_parses_every_type_and_rejects_unknown_fields() {
        let text = r#"
            [[source]]
            type = "ris-live"
            name = "ris"
            [[source.subscribe]]
            host = "rrc00"
            prefix = ["208.65.152.0/22"]
            more_specific = true

            [[source]]
            type = "bmp"
            listen = "127.0.0.1:11019"

            [[source]]
            type = "bgp"
            listen = "127.0.0.1:1179"
            local_asn = 65000
            router_id = "192.0.2.1"
            [[source.neighbor]]
            address = "127.0.0.2"
            asn = 65001

            [[source]]
            type = "mrt-follow"
            dir = "/tmp"
        "#;
        let c = SourcesConfig::from_toml(text).expect("parses");
        let kinds: Vec<_> = c.source.iter().map(|s| s.kind()).collect();
        assert_eq!(kinds, ["ris-live", "bmp", "bgp", "mrt-follow"]);
        let bad = "[[source]]\ntype = \"bmp\"\nlisten = \"127.0.0.1:1\"\nlisten_port = 3\n";
        assert!(SourcesConfig::from_toml(bad).is_err());
        let dup = "[[source]]\ntype = \"bmp\"\nlisten = \"127.0.0.1:1\"\n[[source]]\ntype = \"bmp\"\nlisten = \"127.0.0.1:2\"\n";
        assert!(matches!(SourcesConfig::from_toml(dup), Err(e) if e.contains("distinct")));
    }
}

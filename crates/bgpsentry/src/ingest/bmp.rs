//! BMP listener (RFC 7854): routers connect to us and mirror what their BGP
//! peers send them.
//!
//! One task per router connection, holding that router's state: its
//! initiation information and the peers it reported up, with what each
//! peer's OPEN exchange negotiated (ADD-PATH). Framing is the BMP common
//! header (version 3, 4-byte length including the header); anything longer
//! than `max_message_bytes`, of another version or undecodable is logged,
//! counted, and closes that router's connection — never the listener.
//!
//! * Route Monitoring → the UPDATE inside, decoded with the per-peer header's
//!   A flag (2-octet AS_PATH, then AS4_PATH is merged) and ADD-PATH as the
//!   peer-up OPENs negotiated; time is the per-peer header timestamp (the
//!   router's receive time; wall clock when the router sends 0).
//!   Only the RIB view chosen by `rib` is forwarded (default: pre-policy
//!   Adj-RIB-In, what a route collector sees); other views are counted as
//!   filtered.
//! * Peer Up / Peer Down → `RouteEvent::PeerState` 1→6 / 6→1. A peer going
//!   down withdraws every route it had sent, downstream.
//! * Router disconnect or Termination → every peer still up on that router
//!   goes down (time: wall clock): its routes can no longer be tracked.
//! * Statistics Reports are counted; Route Mirroring is counted as filtered.
//!
//! The collector of every message is `"{source}:{router address}"`; peers in
//! a VRF (RD peer type) get `"#{distinguisher}"` appended, because the same
//! peer address can appear in several VRFs.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bgpkit_parser::models::{AsnLength, BgpMessage};
use bgpkit_parser::parse_bmp_msg;
use bgpkit_parser::parser::bmp::messages::{
    BmpMessageBody, BmpPeerType, BmpPerPeerHeader, PerPeerFlags, parse_per_peer_header,
};
use bgpsentry_core::model::{Asn, BGP_STATE_ESTABLISHED, RouteEvent, Timestamp};
use bgpsentry_core::mrt::Decoded;
use bytes::{Bytes, BytesMut};
use ipnet::IpNet;
use serde::Deserialize;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};

use super::health::{SourceHealth, now_ts};
use super::live::{
    AddPath, Closed, LiveItem, Out, Shutdown, SourceError, Verdict, add_path_negotiated,
    decode_update, guarded, parse_update_message, stopped,
};

fn default_max_routers() -> usize {
    64
}
fn default_max_message() -> u32 {
    1 << 20
}
fn default_max_peers() -> usize {
    10_000
}
fn default_flush_ms() -> u64 {
    100
}

/// Which of the router's RIB views to forward.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BmpRib {
    /// Adj-RIB-In before policy (RFC 7854 L flag clear): what the peer sent.
    #[default]
    PrePolicy,
    /// Adj-RIB-In after policy (L flag set).
    PostPolicy,
    /// Loc-RIB (RFC 9069 peer type 3).
    LocRib,
    /// Everything (the same route may then arrive more than once).
    All,
}

/// `[[source]] type = "bmp"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BmpConfig {
    /// Name of the source (metrics label, collector prefix); default `bmp`.
    pub name: Option<String>,
    /// Address to listen on, e.g. `"0.0.0.0:11019"`.
    pub listen: SocketAddr,
    /// Routers allowed to connect (prefixes); empty = any.
    #[serde(default)]
    pub allow: Vec<IpNet>,
    /// RIB view to forward.
    #[serde(default)]
    pub rib: BmpRib,
    /// Most routers connected at once.
    #[serde(default = "default_max_routers")]
    pub max_routers: usize,
    /// Largest BMP message accepted (the common header's length).
    #[serde(default = "default_max_message")]
    pub max_message_bytes: u32,
    /// Most peers one router may report up.
    #[serde(default = "default_max_peers")]
    pub max_peers_per_router: usize,
    /// Health turns "blind" after this much silence (0 = only when no router is connected).
    #[serde(default)]
    pub blind_after_secs: u64,
    /// Longest time a decoded message waits in a batch.
    #[serde(default = "default_flush_ms")]
    pub flush_ms: u64,
}

impl BmpConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.max_message_bytes < 4096 {
            return Err("max_message_bytes must be at least 4096".into());
        }
        if self.max_routers == 0 {
            return Err("max_routers must be at least 1".into());
        }
        Ok(())
    }
}

/// BMP message types (RFC 7854 §4.1).
const RM: u8 = 0;
const STATS: u8 = 1;
const PEER_DOWN: u8 = 2;
const PEER_UP: u8 = 3;
const INIT: u8 = 4;
const TERM: u8 = 5;
const MIRROR: u8 = 6;

/// Why a router connection was closed.
#[derive(Debug, thiserror::Error)]
pub enum BmpError {
    /// The router closed the connection (or sent Termination).
    #[error("closed by the router")]
    Eof,
    /// A socket error.
    #[error("read: {0}")]
    Io(#[from] std::io::Error),
    /// The message cannot be BMP v3.
    #[error("bad BMP common header: {0}")]
    Header(String),
    /// A message that does not decode.
    #[error("malformed BMP message type {0}: {1}")]
    Malformed(u8, String),
    /// Too many peers.
    #[error("router reported more than {0} peers up")]
    TooManyPeers(usize),
}

#[derive(Debug)]
struct PeerInfo {
    ip: IpAddr,
    asn: Asn,
    collector: Arc<str>,
    add_path: AddPath,
}

struct Router {
    addr: SocketAddr,
    cfg: BmpConfig,
    out: Out,
    collector: Arc<str>,
    peers: HashMap<(IpAddr, u64), PeerInfo>,
    sys_name: Option<String>,
}

fn peer_ts(h: &BmpPerPeerHeader) -> Timestamp {
    let t = h.timestamp;
    if t.is_finite() && t > 0.0 && t < 1e11 {
        Timestamp((t * 1e6).round() as i64)
    } else {
        now_ts()
    }
}

fn view_wanted(rib: BmpRib, h: &BmpPerPeerHeader) -> bool {
    let (loc_rib, post, out) = match h.peer_flags {
        PerPeerFlags::PeerFlags(f) => (false, f.is_post_policy(), f.is_adj_rib_out()),
        PerPeerFlags::LocalRibPeerFlags(_) => (true, false, false),
    };
    let loc_rib = loc_rib || h.peer_type == BmpPeerType::LocalRib;
    match rib {
        BmpRib::All => true,
        _ if out => false,
        BmpRib::PrePolicy => !loc_rib && !post,
        BmpRib::PostPolicy => !loc_rib && post,
        BmpRib::LocRib => loc_rib,
    }
}

impl Router {
    fn peer_collector(&self, h: &BmpPerPeerHeader) -> Arc<str> {
        if h.peer_type == BmpPeerType::RD && h.peer_distinguisher != 0 {
            format!("{}#{:016x}", self.collector, h.peer_distinguisher).into()
        } else {
            self.collector.clone()
        }
    }

    async fn peer_event(
        &mut self,
        collector: &Arc<str>,
        ts: Timestamp,
        ip: IpAddr,
        asn: Asn,
        up: bool,
    ) -> Result<(), Closed> {
        let (old, new) = if up {
            (1, BGP_STATE_ESTABLISHED)
        } else {
            (BGP_STATE_ESTABLISHED, 1)
        };
        self.out.push(
            collector,
            Decoded {
                ts,
                peer_ip: ip,
                peer_asn: asn,
                event: RouteEvent::PeerState { old, new },
            },
        );
        self.out.maybe_flush().await
    }

    /// Handles one whole BMP message (header included). `Ok(false)`: stop.
    async fn handle(
        &mut self,
        msg_type: u8,
        frame: Bytes,
    ) -> Result<Result<bool, BmpError>, Closed> {
        let h = self.out.health.clone();
        h.frame();
        match msg_type {
            RM => {
                let mut body = frame.slice(6..);
                let pph = match guarded(|| parse_per_peer_header(&mut body)) {
                    Ok(p) => p,
                    Err(e) => return Ok(Err(BmpError::Malformed(msg_type, e))),
                };
                if !view_wanted(self.cfg.rib, &pph) {
                    h.filtered.fetch_add(1, Ordering::Relaxed);
                    return Ok(Ok(true));
                }
                let key = (pph.peer_ip, pph.peer_distinguisher);
                let add_path = self.peers.get(&key).map(|p| p.add_path).unwrap_or_default();
                let asn_len = pph.asn_length();
                let update = match parse_update_message(&body, add_path, &asn_len) {
                    Ok(u) => u,
                    Err(e) => return Ok(Err(BmpError::Malformed(msg_type, e))),
                };
                let collector = self.peer_collector(&pph);
                let (decoded, verdict) = decode_update(
                    &update,
                    asn_len == AsnLength::Bits16,
                    peer_ts(&pph),
                    pph.peer_ip,
                    Asn(pph.peer_asn.to_u32()),
                );
                match verdict {
                    Verdict::Ok => {}
                    Verdict::TreatAsWithdraw(why) => {
                        h.malformed.fetch_add(1, Ordering::Relaxed);
                        h.treat_as_withdraw.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(source = %self.out.source, router = %self.addr, peer = %pph.peer_ip, reason = %why, "malformed UPDATE: treat-as-withdraw (RFC 7606)");
                    }
                    Verdict::SessionReset(_, why) => {
                        // The NLRI cannot be parsed, so we cannot know which
                        // routes it meant; the router's own session with the
                        // peer will be reset by the router.
                        h.malformed.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(source = %self.out.source, router = %self.addr, peer = %pph.peer_ip, reason = %why, "UPDATE with malformed NLRI dropped");
                        return Ok(Ok(true));
                    }
                }
                if let Some(d) = decoded {
                    self.out.push(&collector, d);
                    self.out.maybe_flush().await?;
                }
            }
            PEER_UP | PEER_DOWN | INIT | TERM | STATS | MIRROR => {
                let mut b = frame.clone();
                let msg = match guarded(|| parse_bmp_msg(&mut b)) {
                    Ok(m) => m,
                    Err(e) => return Ok(Err(BmpError::Malformed(msg_type, e))),
                };
                match (msg.message_body, msg.per_peer_header) {
                    (BmpMessageBody::PeerUpNotification(pu), Some(pph)) => {
                        let key = (pph.peer_ip, pph.peer_distinguisher);
                        let add_path = match (&pu.sent_open, &pu.received_open) {
                            (BgpMessage::Open(ours), BgpMessage::Open(theirs)) => {
                                add_path_negotiated(ours, theirs)
                            }
                            _ => AddPath::default(),
                        };
                        let collector = self.peer_collector(&pph);
                        let asn = Asn(pph.peer_asn.to_u32());
                        if !self.peers.contains_key(&key) {
                            if self.peers.len() >= self.cfg.max_peers_per_router {
                                return Ok(Err(BmpError::TooManyPeers(
                                    self.cfg.max_peers_per_router,
                                )));
                            }
                            SourceHealth::add_gauge(&h.peers_up, 1);
                        }
                        self.peers.insert(
                            key,
                            PeerInfo {
                                ip: pph.peer_ip,
                                asn,
                                collector: collector.clone(),
                                add_path,
                            },
                        );
                        tracing::info!(source = %self.out.source, router = %self.addr, peer = %pph.peer_ip, %asn, ?add_path, "BMP peer up");
                        self.peer_event(&collector, peer_ts(&pph), pph.peer_ip, asn, true)
                            .await?;
                    }
                    (BmpMessageBody::PeerDownNotification(pd), Some(pph)) => {
                        let key = (pph.peer_ip, pph.peer_distinguisher);
                        if self.peers.remove(&key).is_some() {
                            SourceHealth::add_gauge(&h.peers_up, -1);
                        }
                        tracing::info!(source = %self.out.source, router = %self.addr, peer = %pph.peer_ip, reason = ?pd.reason, "BMP peer down");
                        let collector = self.peer_collector(&pph);
                        let asn = Asn(pph.peer_asn.to_u32());
                        self.peer_event(&collector, peer_ts(&pph), pph.peer_ip, asn, false)
                            .await?;
                    }
                    (BmpMessageBody::InitiationMessage(init), _) => {
                        for t in &init.tlvs {
                            tracing::info!(source = %self.out.source, router = %self.addr, kind = ?t.info_type, info = %t.info.chars().take(200).collect::<String>(), "BMP initiation");
                            if format!("{:?}", t.info_type).contains("SysName") {
                                self.sys_name = Some(t.info.chars().take(200).collect());
                            }
                        }
                    }
                    (BmpMessageBody::TerminationMessage(t), _) => {
                        tracing::info!(source = %self.out.source, router = %self.addr, tlvs = ?t.tlvs, "BMP termination");
                        return Ok(Ok(false));
                    }
                    (BmpMessageBody::StatsReport(s), pph) => {
                        tracing::debug!(source = %self.out.source, router = %self.addr, peer = ?pph.map(|p| p.peer_ip), counters = s.counters.len(), "BMP statistics");
                    }
                    (BmpMessageBody::RouteMirroring(_), _) => {
                        h.filtered.fetch_add(1, Ordering::Relaxed);
                    }
                    (_, None) => {
                        return Ok(Err(BmpError::Malformed(
                            msg_type,
                            "per-peer header missing".into(),
                        )));
                    }
                    (BmpMessageBody::RouteMonitoring(_), Some(_)) => {}
                }
            }
            other => {
                return Ok(Err(BmpError::Header(format!(
                    "unknown message type {other}"
                ))));
            }
        }
        Ok(Ok(true))
    }

    /// Every peer still up goes down: the router is gone.
    async fn all_down(&mut self) -> Result<(), Closed> {
        let now = now_ts();
        let peers: Vec<PeerInfo> = self.peers.drain().map(|(_, p)| p).collect();
        SourceHealth::add_gauge(&self.out.health.peers_up, -(peers.len() as i64));
        for p in peers {
            let collector = p.collector.clone();
            self.peer_event(&collector, now, p.ip, p.asn, false).await?;
        }
        self.out.flush().await
    }
}

/// Reads one BMP message: `Ok(None)` at a clean end of stream.
async fn read_frame(
    sock: &mut TcpStream,
    max: u32,
    buf: &mut BytesMut,
) -> Result<Option<(u8, Bytes)>, BmpError> {
    let mut hdr = [0u8; 6];
    match sock.read_exact(&mut hdr[..1]).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    sock.read_exact(&mut hdr[1..]).await?;
    if hdr[0] != 3 {
        return Err(BmpError::Header(format!(
            "version {} (only BMP version 3 is supported)",
            hdr[0]
        )));
    }
    let len = u32::from_be_bytes([hdr[1], hdr[2], hdr[3], hdr[4]]);
    if len < 6 || len > max {
        return Err(BmpError::Header(format!("length {len} outside 6..={max}")));
    }
    buf.clear();
    buf.extend_from_slice(&hdr);
    buf.resize(len as usize, 0);
    sock.read_exact(&mut buf[6..]).await?;
    Ok(Some((hdr[5], buf.split().freeze())))
}

async fn serve_router(
    cfg: BmpConfig,
    name: Arc<str>,
    mut sock: TcpStream,
    addr: SocketAddr,
    tx: mpsc::Sender<LiveItem>,
    health: Arc<SourceHealth>,
    mut shutdown: Shutdown,
) {
    let collector: Arc<str> = format!("{name}:{}", addr.ip()).into();
    let flush_every = Duration::from_millis(cfg.flush_ms.max(1));
    let max = cfg.max_message_bytes;
    let mut r = Router {
        addr,
        cfg,
        out: Out::new(name, tx, health.clone()),
        collector,
        peers: HashMap::new(),
        sys_name: None,
    };
    let mut buf = BytesMut::with_capacity(4096);
    let mut flush_at: Option<Instant> = None;
    let far = Instant::now() + Duration::from_secs(86400 * 365);
    // Ok(()) = shutdown or the receiver went away; Err = the connection ended.
    let reason: Result<(), BmpError> = loop {
        tokio::select! {
            biased;
            _ = stopped(&mut shutdown) => break Ok(()),
            _ = sleep_until(flush_at.unwrap_or(far)), if flush_at.is_some() => {
                flush_at = None;
                if r.out.flush().await.is_err() { break Ok(()); }
            }
            f = read_frame(&mut sock, max, &mut buf) => match f {
                Ok(Some((t, frame))) => match r.handle(t, frame).await {
                    Err(Closed) => break Ok(()),
                    Ok(Ok(true)) => {
                        if r.out.has_pending() && flush_at.is_none() {
                            flush_at = Some(Instant::now() + flush_every);
                        }
                    }
                    Ok(Ok(false)) => break Err(BmpError::Eof),
                    Ok(Err(e)) => break Err(e),
                },
                Ok(None) => break Err(BmpError::Eof),
                Err(e) => break Err(e),
            },
        }
    };
    match &reason {
        Ok(()) | Err(BmpError::Eof) => {
            tracing::info!(source = %r.out.source, router = %addr, sys_name = ?r.sys_name, "BMP router disconnected")
        }
        Err(e) => {
            if matches!(e, BmpError::Io(_)) {
                health.errors.fetch_add(1, Ordering::Relaxed);
            } else {
                health.malformed.fetch_add(1, Ordering::Relaxed);
            }
            tracing::warn!(source = %r.out.source, router = %addr, error = %e, "closing BMP router connection")
        }
    }
    if reason.is_ok() {
        // Shutting down: the routes are not gone, we just stop watching.
        let _ = r.out.flush().await;
    } else {
        let _ = r.all_down().await;
    }
}

/// Runs the BMP listener until shutdown.
pub async fn run(
    cfg: BmpConfig,
    name: Arc<str>,
    tx: mpsc::Sender<LiveItem>,
    health: Arc<SourceHealth>,
    mut shutdown: Shutdown,
) -> Result<(), SourceError> {
    let listener = super::live::bind_listener(cfg.listen, &name, "BMP", &health).await?;
    let mut gap_out = Out::new(name.clone(), tx.clone(), health.clone());
    let mut tasks = JoinSet::new();
    let mut seen: HashSet<IpAddr> = HashSet::new();
    let mut outage: Option<(Timestamp, String)> = None;
    loop {
        tokio::select! {
            biased;
            _ = stopped(&mut shutdown) => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {
                health.connections.store(tasks.len() as i64, Ordering::Relaxed);
                if tasks.is_empty() && outage.is_none() {
                    let since = now_ts();
                    if gap_out.gap_start(since, "every BMP router disconnected").await.is_err() {
                        break;
                    }
                    outage = Some((since, "every BMP router disconnected".into()));
                }
            }
            acc = listener.accept() => {
                let (sock, addr) = match acc {
                    Ok(x) => x,
                    Err(e) => {
                        health.errors.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(source = %name, error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let ip = addr.ip().to_canonical();
                if !cfg.allow.is_empty() && !cfg.allow.iter().any(|n| n.contains(&ip)) {
                    health.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(source = %name, router = %addr, "BMP connection from an address not in `allow`: closed");
                    continue;
                }
                if tasks.len() >= cfg.max_routers {
                    health.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(source = %name, router = %addr, max = cfg.max_routers, "too many BMP routers: closed");
                    continue;
                }
                if seen.len() >= 4096 {
                    seen.clear();
                }
                if !seen.insert(ip) {
                    health.reconnects.fetch_add(1, Ordering::Relaxed);
                }
                if let Some((from, reason)) = outage.take()
                    && gap_out.gap_end(from, now_ts(), &reason).await.is_err()
                {
                    break;
                }
                tracing::info!(source = %name, router = %addr, "BMP router connected");
                let _ = sock.set_nodelay(true);
                tasks.spawn(serve_router(
                    cfg.clone(),
                    name.clone(),
                    sock,
                    addr,
                    tx.clone(),
                    health.clone(),
                    shutdown.clone(),
                ));
                health.connections.store(tasks.len() as i64, Ordering::Relaxed);
            }
        }
    }
    // Routers see shutdown too; give them a moment to report their peers down.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    tasks.abort_all();
    health.connections.store(0, Ordering::Relaxed);
    Ok(())
}

//! A passive BGP speaker, route-collector style: configured eBGP neighbours
//! connect to us, we open the session, keep it alive, decode every UPDATE,
//! and never announce anything.
//!
//! ```text
//!  listener ── accept ── known neighbour? ── task: session reader ──► LiveItem
//!                                              │ commands (bounded)
//!                                              └── task: writer (OPEN, KEEPALIVE timer, NOTIFICATION)
//! ```
//!
//! The writer owns the socket's write half and sends KEEPALIVEs on its own
//! timer, so a slow consumer (the reader waiting on the bounded channel)
//! never makes the neighbour's hold timer expire.
//!
//! Our OPEN: version 4, `local_asn` (AS_TRANS in the 2-octet field when it
//! needs 4), multiprotocol IPv4 and IPv6 unicast, 4-octet ASN, ADD-PATH
//! receive for both families (`add_path`), extended messages (RFC 8654).
//!
//! Errors get what the RFCs prescribe, and are counted and logged:
//! * framing: bad marker → NOTIFICATION 1/1, bad length → 1/2, bad type → 1/3;
//! * OPEN: version ≠ 4 → 2/1, unexpected peer AS → 2/2, BGP identifier 0 →
//!   2/3, hold time 1 or 2 → 2/6;
//! * FSM: a message out of order → 5/x; hold timer expiry → 4/0;
//! * UPDATE (RFC 7606): broken attributes → treat-as-withdraw (the routes
//!   are handed on as withdrawn and the session stays up); unparseable NLRI
//!   → 3/10, an attribute list that cannot be framed → 3/1, session reset;
//! * unknown address, or a neighbour already connected → Cease 6/5.
//!
//! A BGP session carries no timestamps: message time is the receive time.
//! The session going down (any reason) is sent as `PeerState` 6→1, which
//! withdraws everything the neighbour had announced.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bgpkit_parser::models::{AsnLength, BgpOpenMessage, CapabilityValue};
use bgpkit_parser::parser::bgp::messages::parse_bgp_open_message;
use bgpsentry_core::model::{Asn, BGP_STATE_ESTABLISHED, RouteEvent};
use bgpsentry_core::mrt::Decoded;
use bytes::Bytes;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until, timeout_at};

use super::health::{SourceHealth, now_ts};
use super::live::{
    AddPath, LiveItem, Out, Shutdown, SourceError, Verdict, add_path_negotiated, capabilities,
    decode_update, four_octet_asn, guarded, parse_update, stopped,
};

fn default_hold() -> u16 {
    90
}
fn default_true() -> bool {
    true
}
fn default_open_timeout() -> u64 {
    30
}
fn default_flush_ms() -> u64 {
    100
}

/// `[[source]] type = "bgp"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BgpConfig {
    /// Name of the source (metrics label); default `bgp`.
    pub name: Option<String>,
    /// Collector name for the peer table; default: the source name.
    pub collector: Option<String>,
    /// Address to listen on (`"0.0.0.0:179"`; binding 179 needs privileges).
    pub listen: SocketAddr,
    /// Our ASN.
    pub local_asn: u32,
    /// Our BGP identifier.
    pub router_id: Ipv4Addr,
    /// Hold time we propose (0 = no keepalives, else at least 3).
    #[serde(default = "default_hold")]
    pub hold_time: u16,
    /// Offer ADD-PATH receive for IPv4 and IPv6 unicast.
    #[serde(default = "default_true")]
    pub add_path: bool,
    /// Offer extended messages (RFC 8654, UPDATEs up to 65535 bytes).
    #[serde(default = "default_true")]
    pub extended_messages: bool,
    /// Time a neighbour has to send its OPEN after connecting.
    #[serde(default = "default_open_timeout")]
    pub open_timeout_secs: u64,
    /// Health turns "blind" after this much silence (0 = only when no session is up).
    #[serde(default)]
    pub blind_after_secs: u64,
    /// Longest time a decoded message waits in a batch.
    #[serde(default = "default_flush_ms")]
    pub flush_ms: u64,
    /// The neighbours allowed to connect.
    #[serde(default)]
    pub neighbor: Vec<NeighborConfig>,
}

/// One `[[source.neighbor]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeighborConfig {
    /// The neighbour's address (the TCP source address of its connection).
    pub address: IpAddr,
    /// The ASN it must announce in its OPEN.
    pub asn: u32,
    /// A label for logs.
    pub description: Option<String>,
}

impl BgpConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.local_asn == 0 {
            return Err("local_asn must not be 0".into());
        }
        if self.router_id.is_unspecified() {
            return Err("router_id must not be 0.0.0.0".into());
        }
        if self.hold_time != 0 && self.hold_time < 3 {
            return Err("hold_time must be 0 or at least 3".into());
        }
        if self.neighbor.is_empty() {
            return Err("at least one [[source.neighbor]] is needed".into());
        }
        let mut seen = HashSet::new();
        for n in &self.neighbor {
            if !seen.insert(n.address.to_canonical()) {
                return Err(format!("neighbor {} is listed twice", n.address));
            }
        }
        Ok(())
    }
}

// ------------ Wire format ----------------------------------------------------

const OPEN: u8 = 1;
const UPDATE: u8 = 2;
const NOTIFICATION: u8 = 3;
const KEEPALIVE: u8 = 4;
const ROUTE_REFRESH: u8 = 5;

fn message(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xff; 16];
    v.extend_from_slice(
        &u16::try_from(19 + body.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    v.push(ty);
    v.extend_from_slice(body);
    v
}

fn notification(code: u8, sub: u8, data: &[u8]) -> Vec<u8> {
    let mut b = vec![code, sub];
    b.extend_from_slice(data);
    message(NOTIFICATION, &b)
}

/// Our OPEN message body.
fn open_body(cfg: &BgpConfig) -> Vec<u8> {
    let mut caps: Vec<u8> = Vec::new();
    for afi in [1u8, 2] {
        caps.extend_from_slice(&[1, 4, 0, afi, 0, 1]);
    }
    caps.extend_from_slice(&[65, 4]);
    caps.extend_from_slice(&cfg.local_asn.to_be_bytes());
    if cfg.add_path {
        caps.extend_from_slice(&[69, 8, 0, 1, 1, 1, 0, 2, 1, 1]);
    }
    if cfg.extended_messages {
        caps.extend_from_slice(&[6, 0]);
    }
    let my_as = u16::try_from(cfg.local_asn).unwrap_or(23456);
    let mut b = vec![4];
    b.extend_from_slice(&my_as.to_be_bytes());
    b.extend_from_slice(&cfg.hold_time.to_be_bytes());
    b.extend_from_slice(&cfg.router_id.octets());
    b.push(u8::try_from(caps.len() + 2).unwrap_or(u8::MAX));
    b.push(2);
    b.push(u8::try_from(caps.len()).unwrap_or(u8::MAX));
    b.extend_from_slice(&caps);
    b
}

/// Why a session ended; `notify` is what we send before closing.
#[derive(Debug, thiserror::Error)]
#[error("{why}")]
struct SessionEnd {
    why: String,
    notify: Option<(u8, u8, Vec<u8>)>,
    malformed: bool,
}

impl SessionEnd {
    fn quiet(why: impl Into<String>) -> Self {
        SessionEnd {
            why: why.into(),
            notify: None,
            malformed: false,
        }
    }
    fn notify(why: impl Into<String>, code: u8, sub: u8, data: &[u8]) -> Self {
        SessionEnd {
            why: why.into(),
            notify: Some((code, sub, data.to_vec())),
            malformed: code == 1 || code == 2 || code == 3,
        }
    }
}

/// Reads one message; returns (type, body).
async fn read_msg(r: &mut OwnedReadHalf, max_len: usize) -> Result<(u8, Bytes), SessionEnd> {
    let mut hdr = [0u8; 19];
    match r.read_exact(&mut hdr).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(SessionEnd::quiet("connection closed by the neighbour"));
        }
        Err(e) => return Err(SessionEnd::quiet(format!("read: {e}"))),
    }
    if hdr[..16] != [0xff; 16] {
        return Err(SessionEnd::notify("bad marker", 1, 1, &[]));
    }
    let len = u16::from_be_bytes([hdr[16], hdr[17]]);
    let ty = hdr[18];
    let min = match ty {
        OPEN => 29,
        UPDATE => 23,
        NOTIFICATION => 21,
        KEEPALIVE => 19,
        ROUTE_REFRESH => 23,
        _ => {
            return Err(SessionEnd::notify(
                format!("bad message type {ty}"),
                1,
                3,
                &[ty],
            ));
        }
    };
    let max = match ty {
        KEEPALIVE => 19,
        OPEN => 4096,
        _ => max_len,
    };
    if usize::from(len) < min || usize::from(len) > max {
        return Err(SessionEnd::notify(
            format!("bad length {len} for type {ty}"),
            1,
            2,
            &len.to_be_bytes(),
        ));
    }
    let mut body = vec![0u8; usize::from(len) - 19];
    r.read_exact(&mut body)
        .await
        .map_err(|e| SessionEnd::quiet(format!("read: {e}")))?;
    Ok((ty, Bytes::from(body)))
}

enum Cmd {
    Send(Vec<u8>),
    Keepalive(Duration),
    /// Send this NOTIFICATION, then close.
    Close(Vec<u8>),
}

async fn writer(mut w: OwnedWriteHalf, mut rx: mpsc::Receiver<Cmd>) {
    let far = Instant::now() + Duration::from_secs(86400 * 365);
    let mut every: Option<Duration> = None;
    let mut next = far;
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(Cmd::Send(b)) => {
                    if w.write_all(&b).await.is_err() { return; }
                }
                Some(Cmd::Keepalive(d)) => {
                    every = Some(d);
                    next = Instant::now() + d;
                }
                Some(Cmd::Close(b)) => {
                    let _ = tokio::time::timeout(Duration::from_secs(2), w.write_all(&b)).await;
                    let _ = w.shutdown().await;
                    return;
                }
                None => {
                    let _ = w.shutdown().await;
                    return;
                }
            },
            _ = sleep_until(next), if every.is_some() => {
                if w.write_all(&message(KEEPALIVE, &[])).await.is_err() { return; }
                next = Instant::now() + every.unwrap_or(Duration::from_secs(30));
            }
        }
    }
}

struct Session {
    cfg: Arc<BgpConfig>,
    neighbor: NeighborConfig,
    collector: Arc<str>,
    out: Out,
    established: bool,
}

impl Session {
    fn state(&mut self, up: bool) {
        let (old, new) = if up {
            (1, BGP_STATE_ESTABLISHED)
        } else {
            (BGP_STATE_ESTABLISHED, 1)
        };
        let d = Decoded {
            ts: now_ts(),
            peer_ip: self.neighbor.address,
            peer_asn: Asn(self.neighbor.asn),
            event: RouteEvent::PeerState { old, new },
        };
        let c = self.collector.clone();
        self.out.push(&c, d);
    }

    /// Runs the session to its end (the caller sends the NOTIFICATION).
    async fn run(
        &mut self,
        r: &mut OwnedReadHalf,
        cmd: &mpsc::Sender<Cmd>,
        shutdown: &mut Shutdown,
    ) -> Result<(), SessionEnd> {
        let cfg = self.cfg.clone();
        let ours = open_body(&cfg);
        let our_open = guarded(|| parse_bgp_open_message(&mut Bytes::from(ours.clone())))
            .map_err(|e| SessionEnd::quiet(format!("our own OPEN does not parse: {e}")))?;
        cmd.send(Cmd::Send(message(OPEN, &ours)))
            .await
            .map_err(|_| SessionEnd::quiet("writer gone"))?;

        // OpenSent: the neighbour's OPEN.
        let deadline = Instant::now() + Duration::from_secs(cfg.open_timeout_secs.max(1));
        let (ty, body) = tokio::select! {
            r = timeout_at(deadline, read_msg(r, 4096)) => match r {
                Ok(m) => m?,
                Err(_) => return Err(SessionEnd::notify("no OPEN in time", 4, 0, &[])),
            },
            _ = stopped(shutdown) => return Err(SessionEnd::notify("shutting down", 6, 2, &[])),
        };
        if ty == NOTIFICATION {
            return Err(SessionEnd::quiet(notification_text(&body)));
        }
        if ty != OPEN {
            return Err(SessionEnd::notify(
                format!("type {ty} in OpenSent"),
                5,
                1,
                &[],
            ));
        }
        let theirs = check_open(&body, self.neighbor.asn)?;
        let hold = cfg.hold_time.min(theirs.hold_time);
        let four = four_octet_asn(&theirs).is_some();
        let add_path = if cfg.add_path {
            add_path_negotiated(&our_open, &theirs)
        } else {
            AddPath::default()
        };
        let extended = cfg.extended_messages
            && capabilities(&theirs).any(|c| matches!(c, CapabilityValue::BgpExtendedMessage(_)));
        let max_len = if extended { 65535 } else { 4096 };
        let asn_len = if four {
            AsnLength::Bits32
        } else {
            AsnLength::Bits16
        };
        cmd.send(Cmd::Send(message(KEEPALIVE, &[])))
            .await
            .map_err(|_| SessionEnd::quiet("writer gone"))?;
        if hold > 0 {
            let _ = cmd
                .send(Cmd::Keepalive(Duration::from_secs(
                    u64::from(hold / 3).max(1),
                )))
                .await;
        }
        let hold_d = (hold > 0).then(|| Duration::from_secs(u64::from(hold)));
        let far = Duration::from_secs(86400 * 365);
        let flush_every = Duration::from_millis(cfg.flush_ms.max(1));
        let mut flush_at: Option<Instant> = None;
        let mut hold_at = Instant::now() + hold_d.unwrap_or(far);
        let health = self.out.health.clone();
        loop {
            let (ty, body) = tokio::select! {
                biased;
                _ = stopped(shutdown) => return Err(SessionEnd::notify("shutting down", 6, 2, &[])),
                _ = sleep_until(flush_at.unwrap_or(hold_at)), if flush_at.is_some() => {
                    flush_at = None;
                    self.out.flush().await.map_err(|_| SessionEnd::notify("shutting down", 6, 2, &[]))?;
                    continue;
                }
                m = timeout_at(hold_at, read_msg(r, max_len)) => match m {
                    Ok(m) => m?,
                    Err(_) => return Err(SessionEnd::notify("hold timer expired", 4, 0, &[])),
                },
            };
            hold_at = Instant::now() + hold_d.unwrap_or(far);
            health.frame();
            match (ty, self.established) {
                (KEEPALIVE, false) => {
                    self.established = true;
                    SourceHealth::add_gauge(&health.peers_up, 1);
                    tracing::info!(source = %self.out.source, neighbor = %self.neighbor.address, asn = self.neighbor.asn, hold, four, ?add_path, extended, "BGP session established");
                    self.state(true);
                    self.out
                        .flush()
                        .await
                        .map_err(|_| SessionEnd::quiet("receiver gone"))?;
                }
                (KEEPALIVE, true) => {}
                (NOTIFICATION, _) => return Err(SessionEnd::quiet(notification_text(&body))),
                (UPDATE, true) => {
                    let parsed = parse_update(body, add_path, &asn_len);
                    let u = match parsed {
                        Ok(u) => u,
                        Err(e) => {
                            return Err(SessionEnd::notify(
                                format!("UPDATE does not parse: {e}"),
                                3,
                                1,
                                &[],
                            ));
                        }
                    };
                    let (d, verdict) = decode_update(
                        &u,
                        !four,
                        now_ts(),
                        self.neighbor.address,
                        Asn(self.neighbor.asn),
                    );
                    match verdict {
                        Verdict::Ok => {}
                        Verdict::TreatAsWithdraw(why) => {
                            health.malformed.fetch_add(1, Ordering::Relaxed);
                            health.treat_as_withdraw.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(source = %self.out.source, neighbor = %self.neighbor.address, reason = %why, "malformed UPDATE: treat-as-withdraw (RFC 7606)");
                        }
                        Verdict::SessionReset(sub, why) => {
                            return Err(SessionEnd::notify(
                                format!("malformed UPDATE: {why}"),
                                3,
                                sub,
                                &[],
                            ));
                        }
                    }
                    if let Some(d) = d {
                        let c = self.collector.clone();
                        self.out.push(&c, d);
                        self.out
                            .maybe_flush()
                            .await
                            .map_err(|_| SessionEnd::notify("shutting down", 6, 2, &[]))?;
                        if self.out.has_pending() && flush_at.is_none() {
                            flush_at = Some(Instant::now() + flush_every);
                        }
                    }
                }
                (ROUTE_REFRESH, true) => {} // we have nothing to re-send
                (OPEN, _) => return Err(SessionEnd::notify("second OPEN", 5, 3, &[])),
                (t, false) => {
                    return Err(SessionEnd::notify(
                        format!("type {t} in OpenConfirm"),
                        5,
                        2,
                        &[],
                    ));
                }
                (t, true) => {
                    return Err(SessionEnd::notify(
                        format!("unexpected type {t}"),
                        5,
                        3,
                        &[],
                    ));
                }
            }
        }
    }
}

fn notification_text(body: &[u8]) -> String {
    match body {
        [code, sub, ..] => format!("NOTIFICATION {code}/{sub} from the neighbour"),
        _ => "short NOTIFICATION from the neighbour".into(),
    }
}

/// Validates the neighbour's OPEN (RFC 4271 §6.2).
fn check_open(body: &Bytes, expected_asn: u32) -> Result<BgpOpenMessage, SessionEnd> {
    if body.first() != Some(&4) {
        return Err(SessionEnd::notify(
            format!("BGP version {:?}", body.first()),
            2,
            1,
            &4u16.to_be_bytes(),
        ));
    }
    let open = guarded(|| parse_bgp_open_message(&mut body.clone()))
        .map_err(|e| SessionEnd::notify(format!("OPEN does not parse: {e}"), 2, 0, &[]))?;
    let asn = four_octet_asn(&open).unwrap_or(open.asn.to_u32());
    if asn != expected_asn {
        return Err(SessionEnd::notify(
            format!("neighbour says AS{asn}, configured AS{expected_asn}"),
            2,
            2,
            &[],
        ));
    }
    if open.hold_time == 1 || open.hold_time == 2 {
        return Err(SessionEnd::notify(
            format!("hold time {}", open.hold_time),
            2,
            6,
            &[],
        ));
    }
    if open.bgp_identifier.is_unspecified() {
        return Err(SessionEnd::notify("BGP identifier 0", 2, 3, &[]));
    }
    Ok(open)
}

async fn serve(
    cfg: Arc<BgpConfig>,
    neighbor: NeighborConfig,
    sock: TcpStream,
    name: Arc<str>,
    tx: mpsc::Sender<LiveItem>,
    health: Arc<SourceHealth>,
    mut shutdown: Shutdown,
) {
    let (mut r, w) = sock.into_split();
    let (cmd_tx, cmd_rx) = mpsc::channel(8);
    let writer = tokio::spawn(writer(w, cmd_rx));
    let collector: Arc<str> = cfg.collector.as_deref().unwrap_or(&name).into();
    let mut s = Session {
        cfg,
        neighbor,
        collector,
        out: Out::new(name, tx, health.clone()),
        established: false,
    };
    let end = match s.run(&mut r, &cmd_tx, &mut shutdown).await {
        Ok(()) => SessionEnd::quiet("ended"),
        Err(e) => e,
    };
    if end.malformed {
        health.malformed.fetch_add(1, Ordering::Relaxed);
    } else if end.notify.is_some() || end.why.starts_with("read") {
        health.errors.fetch_add(1, Ordering::Relaxed);
    }
    tracing::warn!(source = %s.out.source, neighbor = %s.neighbor.address, reason = %end.why, notify = ?end.notify.as_ref().map(|n| (n.0, n.1)), "BGP session down");
    let _ = match &end.notify {
        Some((c, sub, data)) => cmd_tx.send(Cmd::Close(notification(*c, *sub, data))).await,
        None => Ok(()),
    };
    drop(cmd_tx);
    let _ = tokio::time::timeout(Duration::from_secs(3), writer).await;
    if s.established {
        SourceHealth::add_gauge(&health.peers_up, -1);
        let shutting_down = *shutdown.borrow();
        if !shutting_down {
            s.state(false);
        }
    }
    let _ = s.out.flush().await;
}

/// Runs the BGP listener until shutdown.
pub async fn run(
    cfg: BgpConfig,
    name: Arc<str>,
    tx: mpsc::Sender<LiveItem>,
    health: Arc<SourceHealth>,
    mut shutdown: Shutdown,
) -> Result<(), SourceError> {
    let listener = super::live::bind_listener(cfg.listen, &name, "BGP", &health).await?;
    tracing::info!(source = %name, neighbors = cfg.neighbor.len(), "BGP neighbours configured");
    let cfg = Arc::new(cfg);
    let active: Arc<Mutex<HashSet<IpAddr>>> = Arc::default();
    let mut gap_out = Out::new(name.clone(), tx.clone(), health.clone());
    let mut outage: Option<(bgpsentry_core::model::Timestamp, String)> = None;
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            _ = stopped(&mut shutdown) => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {
                health.connections.store(tasks.len() as i64, Ordering::Relaxed);
                if tasks.is_empty() && outage.is_none() {
                    let since = now_ts();
                    if gap_out.gap_start(since, "every BGP session down").await.is_err() {
                        break;
                    }
                    outage = Some((since, "every BGP session down".into()));
                }
            }
            acc = listener.accept() => {
                let (mut sock, addr) = match acc {
                    Ok(x) => x,
                    Err(e) => {
                        health.errors.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(source = %name, error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let ip = addr.ip().to_canonical();
                let Some(n) = cfg.neighbor.iter().find(|n| n.address.to_canonical() == ip).cloned() else {
                    health.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(source = %name, from = %addr, "BGP connection from an unconfigured address: rejected");
                    let _ = tokio::time::timeout(Duration::from_secs(1), sock.write_all(&notification(6, 5, &[]))).await;
                    continue;
                };
                let fresh = active.lock().map(|mut a| a.insert(ip)).unwrap_or(false);
                if !fresh {
                    health.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(source = %name, from = %addr, "second connection from a connected neighbour: rejected");
                    let _ = tokio::time::timeout(Duration::from_secs(1), sock.write_all(&notification(6, 5, &[]))).await;
                    continue;
                }
                if let Some((from, reason)) = outage.take()
                    && gap_out.gap_end(from, now_ts(), &reason).await.is_err()
                {
                    break;
                }
                let _ = sock.set_nodelay(true);
                let active = active.clone();
                let fut = serve(cfg.clone(), n, sock, name.clone(), tx.clone(), health.clone(), shutdown.clone());
                tasks.spawn(async move {
                    fut.await;
                    if let Ok(mut a) = active.lock() {
                        a.remove(&ip);
                    }
                });
                health.connections.store(tasks.len() as i64, Ordering::Relaxed);
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    tasks.abort_all();
    health.connections.store(0, Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_open_parses_with_every_capability() {
        let cfg: BgpConfig = toml::from_str(
            "listen = \"127.0.0.1:1179\"\nlocal_asn = 4200000001\nrouter_id = \"192.0.2.1\"\n[[neighbor]]\naddress = \"127.0.0.2\"\nasn = 65001\n",
        )
        .expect("cfg");
        cfg.validate().expect("valid");
        let body = open_body(&cfg);
        let open = parse_bgp_open_message(&mut Bytes::from(body)).expect("parses");
        assert_eq!(open.asn.to_u32(), 23456);
        assert_eq!(four_octet_asn(&open), Some(4_200_000_001));
        assert_eq!(open.hold_time, 90);
        assert!(capabilities(&open).any(|c| matches!(c, CapabilityValue::AddPath(_))));
        assert!(capabilities(&open).any(|c| matches!(c, CapabilityValue::BgpExtendedMessage(_))));
        assert_eq!(
            capabilities(&open)
                .filter(|c| matches!(c, CapabilityValue::MultiprotocolExtensions(_)))
                .count(),
            2
        );
    }
}

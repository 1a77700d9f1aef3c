//! Shared helpers of the live-source tests: child processes that are killed
//! on drop, free loopback ports, collecting `LiveItem`s with a deadline, and
//! hand-built BGP / BMP messages for byte-level tests.

#![allow(dead_code)]

use std::net::IpAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bgpsentry::ingest::live::LiveItem;
use bgpsentry_core::model::RouteEvent;
use bgpsentry_core::mrt::Decoded;
use tokio::sync::mpsc;

/// A child process killed (and reaped) when dropped.
pub struct Proc {
    pub name: String,
    pub child: Child,
}

impl Proc {
    /// Starts `cmd args`, output to `log`.
    pub fn spawn(cmd: &str, args: &[&str], log: &Path) -> Proc {
        let out = std::fs::File::create(log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = Command::new(cmd)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd}: {e} (Debian: apt-get install gobgpd)"));
        Proc {
            name: cmd.to_string(),
            child,
        }
    }

    /// Kills now.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// True when `cmd` is on PATH.
pub fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A live source running on its own task, as the daemon runs it.
pub struct Running {
    /// What the source sends.
    pub rx: mpsc::Receiver<LiveItem>,
    /// `true` stops it.
    pub stop: tokio::sync::watch::Sender<bool>,
    /// Its health counters.
    pub health: std::sync::Arc<bgpsentry::ingest::health::SourceHealth>,
    /// Its task.
    pub task: tokio::task::JoinHandle<Result<(), bgpsentry::ingest::live::SourceError>>,
}

/// Starts the one `[[source]]` of `toml` with a channel of `capacity`.
pub fn start_source(toml: &str, capacity: usize) -> Running {
    use bgpsentry::ingest::live;
    let source = live::SourcesConfig::from_toml(toml)
        .expect("config")
        .source
        .remove(0);
    let health = source.new_health();
    let (tx, rx) = mpsc::channel(capacity);
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(live::run(source, tx, health.clone(), stop_rx));
    Running {
        rx,
        stop,
        health,
        task,
    }
}

/// Stops a source and checks it ends cleanly within `secs`.
pub async fn stop_source(r: Running, secs: u64) {
    r.stop.send(true).expect("stop");
    tokio::time::timeout(Duration::from_secs(secs), r.task)
        .await
        .expect("stops")
        .expect("no panic")
        .expect("ok");
}

/// The port a listener under test bound (it was configured with port 0, so
/// the kernel chose it: no probe-then-bind race with other tests, whose
/// forked children briefly inherit any probe socket). Panics with the
/// listener's error if it ended instead.
pub async fn bound_port<T: std::fmt::Debug>(
    health: &bgpsentry::ingest::health::SourceHealth,
    task: &mut tokio::task::JoinHandle<T>,
) -> u16 {
    for _ in 0..500 {
        if let Some(a) = health.listening() {
            return a.port();
        }
        if task.is_finished() {
            panic!("listener ended: {:?}", task.await);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("listener never bound");
}

/// Connects to a loopback listener from source address `src` (BGP
/// neighbours are told apart by address), retrying while it comes up.
pub async fn connect_from(src: &str, port: u16) -> tokio::net::TcpStream {
    for _ in 0..50 {
        let s = tokio::net::TcpSocket::new_v4().expect("socket");
        s.bind(format!("{src}:0").parse().expect("addr"))
            .expect("bind");
        if let Ok(c) = s
            .connect(format!("127.0.0.1:{port}").parse().expect("addr"))
            .await
        {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("listener not up on {port}");
}

/// A TCP port free on `ip` right now (for daemons we start, which need a
/// port number in their config).
pub fn free_port(ip: &str) -> u16 {
    let l = std::net::TcpListener::bind((ip, 0)).expect("bind");
    l.local_addr().expect("addr").port()
}

/// Runs a command to completion (bounded), returning (success, stdout+stderr).
pub fn run_cmd(cmd: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new("timeout")
        .arg("20")
        .arg(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let mut s = String::from_utf8_lossy(&out.stdout).to_string();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), s)
}

/// Retries `f` every 200 ms until it returns true or `secs` pass.
pub async fn eventually(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < end {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// Everything received, flattened.
#[derive(Default, Debug)]
pub struct Seen {
    pub messages: Vec<(String, Decoded)>,
    pub gap_starts: usize,
    pub gap_ends: usize,
}

impl Seen {
    pub fn take(&mut self, item: LiveItem) {
        match item {
            LiveItem::Batch(b) => {
                for m in b.messages {
                    self.messages.push((b.collector.to_string(), m));
                }
            }
            LiveItem::GapStart { .. } => self.gap_starts += 1,
            LiveItem::GapEnd { .. } => self.gap_ends += 1,
        }
    }

    /// Receives until `done(self)` or the deadline; false on timeout.
    pub async fn until(
        &mut self,
        rx: &mut mpsc::Receiver<LiveItem>,
        secs: u64,
        mut done: impl FnMut(&Seen) -> bool,
    ) -> bool {
        let end = tokio::time::Instant::now() + Duration::from_secs(secs);
        while !done(self) {
            match tokio::time::timeout_at(end, rx.recv()).await {
                Ok(Some(it)) => self.take(it),
                _ => return false,
            }
        }
        true
    }

    /// Announced (prefix, path as text, peer) triples.
    pub fn announced(&self) -> Vec<(String, String, IpAddr)> {
        let mut v = Vec::new();
        for (_, m) in &self.messages {
            if let RouteEvent::Update {
                announced,
                attrs: Some(a),
                ..
            } = &m.event
            {
                for n in announced {
                    v.push((n.prefix.to_string(), a.as_path.to_string(), m.peer_ip));
                }
            }
        }
        v
    }

    /// Withdrawn prefixes.
    pub fn withdrawn(&self) -> Vec<String> {
        let mut v = Vec::new();
        for (_, m) in &self.messages {
            if let RouteEvent::Update { withdrawn, .. } = &m.event {
                v.extend(withdrawn.iter().map(|n| n.prefix.to_string()));
            }
        }
        v
    }

    /// Peer state changes (peer, old, new).
    pub fn states(&self) -> Vec<(IpAddr, u16, u16)> {
        self.messages
            .iter()
            .filter_map(|(_, m)| match m.event {
                RouteEvent::PeerState { old, new } => Some((m.peer_ip, old, new)),
                _ => None,
            })
            .collect()
    }
}

// ------------ Hand-built BGP messages ---------------------------------------

/// A BGP message: marker, length, type, body.
pub fn bgp_msg(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xff; 16];
    v.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    v.push(ty);
    v.extend_from_slice(body);
    v
}

/// An OPEN with 4-octet AS and, when `add_path` is Some(mode), ADD-PATH for
/// IPv4 unicast with that mode (1 receive, 2 send, 3 both).
pub fn open(asn: u32, hold: u16, id: [u8; 4], add_path: Option<u8>) -> Vec<u8> {
    let mut caps = vec![];
    caps.extend_from_slice(&[65, 4]);
    caps.extend_from_slice(&asn.to_be_bytes());
    if let Some(m) = add_path {
        caps.extend_from_slice(&[69, 4, 0, 1, 1, m]);
    }
    let my_as = if asn > 65535 { 23456u16 } else { asn as u16 };
    open_with(my_as, hold, id, &caps)
}

/// An OPEN without the 4-octet AS capability: the session carries 2-octet
/// AS_PATHs (as the 2008 RouteViews UPDATEs do).
pub fn open_2octet(asn: u16, hold: u16, id: [u8; 4]) -> Vec<u8> {
    open_with(asn, hold, id, &[])
}

/// An OPEN with multiprotocol IPv4 and IPv6 unicast plus `extra` capabilities.
fn open_with(my_as: u16, hold: u16, id: [u8; 4], extra: &[u8]) -> Vec<u8> {
    let mut caps = vec![];
    caps.extend_from_slice(&[1, 4, 0, 1, 0, 1]); // MP IPv4 unicast
    caps.extend_from_slice(&[1, 4, 0, 2, 0, 1]); // MP IPv6 unicast
    caps.extend_from_slice(extra);
    let mut b = vec![4];
    b.extend_from_slice(&my_as.to_be_bytes());
    b.extend_from_slice(&hold.to_be_bytes());
    b.extend_from_slice(&id);
    b.push((caps.len() + 2) as u8);
    b.push(2);
    b.push(caps.len() as u8);
    b.extend_from_slice(&caps);
    bgp_msg(1, &b)
}

/// Encodes an IPv4 prefix as NLRI (with a path id when given).
pub fn nlri4(p: [u8; 4], len: u8, path_id: Option<u32>) -> Vec<u8> {
    let mut v = vec![];
    if let Some(id) = path_id {
        v.extend_from_slice(&id.to_be_bytes());
    }
    v.push(len);
    v.extend_from_slice(&p[..len.div_ceil(8) as usize]);
    v
}

/// An UPDATE announcing `nlri` with ORIGIN IGP, AS_PATH `path` (4- or 2-octet),
/// NEXT_HOP, and optionally AS4_PATH `as4`.
pub fn update(
    path: &[u32],
    four: bool,
    as4: Option<&[u32]>,
    nlri: &[u8],
    withdrawn: &[u8],
) -> Vec<u8> {
    let mut attrs = vec![0x40, 1, 1, 0];
    let seg = |asns: &[u32], four: bool| {
        let mut s = vec![2, asns.len() as u8];
        for a in asns {
            if four {
                s.extend_from_slice(&a.to_be_bytes());
            } else {
                s.extend_from_slice(&(*a as u16).to_be_bytes());
            }
        }
        s
    };
    let p = seg(path, four);
    attrs.extend_from_slice(&[0x40, 2, p.len() as u8]);
    attrs.extend_from_slice(&p);
    attrs.extend_from_slice(&[0x40, 3, 4, 192, 0, 2, 1]);
    if let Some(a4) = as4 {
        let p = seg(a4, true);
        attrs.extend_from_slice(&[0xc0, 17, p.len() as u8]);
        attrs.extend_from_slice(&p);
    }
    let mut b = vec![];
    b.extend_from_slice(&(withdrawn.len() as u16).to_be_bytes());
    b.extend_from_slice(withdrawn);
    b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    b.extend_from_slice(&attrs);
    b.extend_from_slice(nlri);
    bgp_msg(2, &b)
}

// ------------ Hand-built BMP messages ---------------------------------------

/// A BMP message: version 3, length, type, body.
pub fn bmp(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![3];
    v.extend_from_slice(&((6 + body.len()) as u32).to_be_bytes());
    v.push(ty);
    v.extend_from_slice(body);
    v
}

/// A per-peer header for an IPv4 peer. `flags`: 0x20 = 2-octet AS_PATH, 0x40 = post-policy.
pub fn per_peer(peer: [u8; 4], asn: u32, flags: u8, ts: u32) -> Vec<u8> {
    let mut v = vec![0, flags];
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(&[0; 12]);
    v.extend_from_slice(&peer);
    v.extend_from_slice(&asn.to_be_bytes());
    v.extend_from_slice(&peer);
    v.extend_from_slice(&ts.to_be_bytes());
    v.extend_from_slice(&0u32.to_be_bytes());
    v
}

/// BMP Initiation with a sysName.
pub fn bmp_init(sys_name: &str) -> Vec<u8> {
    let mut b = vec![0, 2];
    b.extend_from_slice(&(sys_name.len() as u16).to_be_bytes());
    b.extend_from_slice(sys_name.as_bytes());
    bmp(4, &b)
}

/// BMP Peer Up with the two OPENs.
pub fn bmp_peer_up(pph: &[u8], sent: &[u8], received: &[u8]) -> Vec<u8> {
    let mut b = pph.to_vec();
    b.extend_from_slice(&[0; 12]);
    b.extend_from_slice(&[127, 0, 0, 1]);
    b.extend_from_slice(&179u16.to_be_bytes());
    b.extend_from_slice(&40000u16.to_be_bytes());
    b.extend_from_slice(sent);
    b.extend_from_slice(received);
    bmp(3, &b)
}

/// BMP Route Monitoring.
pub fn bmp_rm(pph: &[u8], bgp: &[u8]) -> Vec<u8> {
    let mut b = pph.to_vec();
    b.extend_from_slice(bgp);
    bmp(0, &b)
}

/// BMP Peer Down (reason 2: local notification, with a 2-byte FSM event code).
pub fn bmp_peer_down(pph: &[u8]) -> Vec<u8> {
    let mut b = pph.to_vec();
    b.extend_from_slice(&[2, 0, 0]);
    bmp(2, &b)
}

/// BMP Statistics Report with one 4-byte counter.
pub fn bmp_stats(pph: &[u8]) -> Vec<u8> {
    let mut b = pph.to_vec();
    b.extend_from_slice(&1u32.to_be_bytes());
    b.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 7]);
    bmp(1, &b)
}

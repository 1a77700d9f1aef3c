//! BMP listener tests.
//!
//! * A real router: two `gobgpd` on loopback (Debian package `gobgpd`). "A"
//!   (AS65010, 127.0.0.2) peers with "B" (AS65000, 127.0.0.1); B reports its
//!   Adj-RIB-In to our listener over BMP (`[[bmp-servers]]`, pre-policy). A
//!   originates a hijack of YouTube's 208.65.153.0/24 (`gobgp global rib add
//!   ... aspath 3491,17557`) and re-announces the first RIB records of a real
//!   RouteViews RIB (`gobgp mrt inject global`, from
//!   `shared/data/mrt/pyasn-ribs/rib.20140523.0600_firstMB.bz2`). We must
//!   decode each prefix with A's ASN prepended to the RIB path, see A come up
//!   and go down, and see B's connection loss as a gap.
//! * Byte-level: hand-built Initiation, Peer Up with ADD-PATH OPENs, Route
//!   Monitoring with path ids and with 2-octet AS_PATH + AS4_PATH, Statistics,
//!   other RIB views, Peer Down; then hostile input (wrong version, oversize
//!   length, garbage UPDATE), each closing only that router's connection.

mod live_support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bgpsentry::ingest::live::{self, LiveItem};
use bgpsentry_core::model::RouteEvent;
use bgpsentry_core::mrt::{RecordReader, StreamDecoder, decompress};
use live_support::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

const RIB: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/mrt/pyasn-ribs/rib.20140523.0600_firstMB.bz2"
);

type Started = (
    mpsc::Receiver<LiveItem>,
    watch::Sender<bool>,
    std::sync::Arc<bgpsentry::ingest::health::SourceHealth>,
    tokio::task::JoinHandle<Result<(), live::SourceError>>,
);

/// Starts a BMP listener on a port the kernel picks; see `bound_port`.
fn start_bmp(extra: &str) -> Started {
    let cfg = format!(
        "[[source]]\ntype = \"bmp\"\nname = \"bmp-test\"\nlisten = \"127.0.0.1:0\"\nflush_ms = 10\n{extra}"
    );
    let r = start_source(&cfg, 256);
    (r.rx, r.stop, r.health, r.task)
}

/// Prefix → every AS path the RIB holds for it, for the first `n` RIB records.
fn rib_paths(path: &str, n: usize) -> (Vec<u8>, BTreeMap<String, BTreeSet<String>>) {
    let f = std::fs::File::open(path).expect("shared RIB sample");
    let (_, mut r) = decompress(f).expect("bzip2");
    let mut raw = Vec::new();
    // The sample is the first MB of a bzip2 file: read what decompresses.
    let _ = r.by_ref().take(4 << 20).read_to_end(&mut raw);
    let mut dec = StreamDecoder::new();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut records = 0;
    for rec in RecordReader::new(&raw[..]).flatten() {
        let o = dec.decode(rec);
        if o.messages.is_empty() {
            continue;
        }
        records += 1;
        if records > n {
            break;
        }
        for m in o.messages {
            if let RouteEvent::Update {
                announced,
                attrs: Some(a),
                ..
            } = &m.event
            {
                for p in announced {
                    out.entry(p.prefix.to_string())
                        .or_default()
                        .insert(a.as_path.to_string());
                }
            }
        }
    }
    (raw, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gobgpd_reports_routes_over_bmp() {
    assert!(
        have("gobgpd") && have("gobgp"),
        "this test needs a real gobgpd: apt-get install gobgpd"
    );
    let dir = tempfile::tempdir().expect("tmp");
    let (mut rx, stop, health, mut task) = start_bmp("");
    let bmp_port = bound_port(&health, &mut task).await;
    // All ports are taken while every probe socket is still open, so no two
    // of them can be the same number (two gobgpd on one API port would make
    // `gobgp -p` talk to the wrong daemon).
    let probes: Vec<std::net::TcpListener> = ["127.0.0.1", "127.0.0.2", "127.0.0.1", "127.0.0.1"]
        .iter()
        .map(|ip| std::net::TcpListener::bind((*ip, 0)).expect("bind a probe"))
        .collect();
    let ports: Vec<u16> = probes
        .iter()
        .map(|l| l.local_addr().expect("addr").port())
        .collect();
    drop(probes);
    let (b_port, a_port, b_api, a_api) = (ports[0], ports[1], ports[2], ports[3]);

    let b_conf = format!(
        r#"
[global.config]
  as = 65000
  router-id = "127.0.0.1"
  port = {b_port}
  local-address-list = ["127.0.0.1"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.2"
    peer-as = 65010
  [neighbors.transport.config]
    remote-port = {a_port}
    local-address = "127.0.0.1"
  [neighbors.timers.config]
    connect-retry = 1
[[bmp-servers]]
  [bmp-servers.config]
    address = "127.0.0.1"
    port = {bmp_port}
    route-monitoring-policy = "pre-policy"
"#
    );
    let a_conf = format!(
        r#"
[global.config]
  as = 65010
  router-id = "127.0.0.2"
  port = {a_port}
  local-address-list = ["127.0.0.2"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = 65000
  [neighbors.transport.config]
    remote-port = {b_port}
    local-address = "127.0.0.2"
  [neighbors.timers.config]
    connect-retry = 1
"#
    );
    std::fs::write(dir.path().join("b.toml"), b_conf).expect("write");
    std::fs::write(dir.path().join("a.toml"), a_conf).expect("write");
    let (raw, rib) = rib_paths(RIB, 20);
    let mrt = dir.path().join("rib.mrt");
    std::fs::write(&mrt, &raw).expect("write");

    let b_conf = dir.path().join("b.toml");
    let a_conf = dir.path().join("a.toml");
    let b_api_s = format!("127.0.0.1:{b_api}");
    let a_api_s = format!("127.0.0.1:{a_api}");
    let mut b = Proc::spawn(
        "gobgpd",
        &[
            "-f",
            b_conf.to_str().expect("path"),
            "--api-hosts",
            &b_api_s,
            "-l",
            "info",
            "--pprof-disable",
        ],
        &dir.path().join("b.log"),
    );
    let mut a = Proc::spawn(
        "gobgpd",
        &[
            "-f",
            a_conf.to_str().expect("path"),
            "--api-hosts",
            &a_api_s,
            "-l",
            "info",
            "--pprof-disable",
        ],
        &dir.path().join("a.log"),
    );
    let a_api_p = a_api.to_string();
    let ok = eventually(20, || {
        run_cmd(
            "gobgp",
            &[
                "-p",
                &a_api_p,
                "global",
                "rib",
                "add",
                "208.65.153.0/24",
                "origin",
                "igp",
                "aspath",
                "3491,17557",
                "nexthop",
                "198.51.100.1",
            ],
        )
        .0
    })
    .await;
    assert!(ok, "gobgp API of A never answered");
    // Inject the RIB once the session is up, so the routes flow as one burst.
    let ok = eventually(30, || {
        let (ok, out) = run_cmd("gobgp", &["-p", &a_api_p, "neighbor"]);
        ok && out.contains("Establ")
    })
    .await;
    assert!(ok, "A and B never established their session");
    // `gobgp mrt inject` streams the paths over gRPC and can exit before
    // gobgpd has taken them all (seen: 3 of 20 records): inject again until
    // A's RIB holds them (re-injecting the same paths is idempotent).
    let a_rib_len = || {
        run_cmd("gobgp", &["-p", &a_api_p, "global", "rib"])
            .1
            .lines()
            .filter(|l| l.split_whitespace().nth(1).is_some_and(|p| p.contains('/')))
            .count()
    };
    let mut injected = 0;
    for _ in 0..5 {
        let (ok, out) = run_cmd(
            "gobgp",
            &[
                "-p",
                &a_api_p,
                "mrt",
                "inject",
                "global",
                "--only-best",
                mrt.to_str().expect("p"),
                "20",
            ],
        );
        assert!(ok, "gobgp mrt inject: {out}");
        let before = a_rib_len();
        // Settled: the count stops growing.
        let mut last = before;
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let now = a_rib_len();
            if now == last && now >= 8 {
                break;
            }
            last = now;
        }
        injected = last;
        if injected >= 8 {
            break;
        }
    }
    assert!(
        injected >= 8,
        "A's RIB after injecting: {injected} prefixes"
    );

    // Wait for the hijack and the RIB routes to arrive through B's BMP.
    let mut seen = Seen::default();
    let a_ip: IpAddr = "127.0.0.2".parse().expect("ip");
    // B's own view of what A sent (its Adj-RIB-In) is the oracle: once B has
    // settled, everything in it must have reached us over BMP.
    let b_api_p = b_api.to_string();
    let b_adj_in = || -> BTreeSet<String> {
        let (_, out) = run_cmd(
            "gobgp",
            &["-p", &b_api_p, "neighbor", "127.0.0.2", "adj-in"],
        );
        out.lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter(|p| p.contains('/'))
            .map(str::to_string)
            .collect()
    };
    let mut expected = BTreeSet::new();
    let mut stable = 0;
    // Patient: on a loaded machine gobgpd can take a while to pass the
    // injected RIB on (up to two minutes; a converged run exits early).
    for _ in 0..400 {
        let now = b_adj_in();
        stable = if now == expected && now.len() >= 8 {
            stable + 1
        } else {
            0
        };
        expected = now;
        if stable >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        expected.contains("208.65.153.0/24"),
        "B has the hijack: {expected:?}"
    );
    if expected.len() < 8 {
        let a_rib = run_cmd("gobgp", &["-p", &a_api_p, "global", "rib"]).1;
        let a_out = run_cmd(
            "gobgp",
            &["-p", &a_api_p, "neighbor", "127.0.0.1", "adj-out"],
        )
        .1;
        let b_nbr = run_cmd("gobgp", &["-p", &b_api_p, "neighbor"]).1;
        let log = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap_or_default();
        panic!(
            "B took at least 7 RIB routes from A: {expected:?}\nA rib:\n{a_rib}\nA adj-out:\n{a_out}\nB neighbors:\n{b_nbr}\na.log:\n{}\nb.log:\n{}",
            log("a.log"),
            log("b.log")
        );
    }
    let got = seen
        .until(&mut rx, 30, |s| {
            let ours: BTreeSet<String> = s.announced().into_iter().map(|a| a.0).collect();
            expected.is_subset(&ours)
        })
        .await;
    let logs = || {
        format!(
            "A: {}\nB: {}",
            std::fs::read_to_string(dir.path().join("a.log")).unwrap_or_default(),
            std::fs::read_to_string(dir.path().join("b.log")).unwrap_or_default()
        )
    };
    assert!(
        got,
        "routes did not arrive over BMP; seen {seen:?}\n{}",
        logs()
    );
    assert!(seen.states().contains(&(a_ip, 1, 6)), "peer up for A");
    assert!(
        seen.messages
            .iter()
            .all(|(c, _)| c.starts_with("bmp-test:127.0.0.1"))
    );

    let ann = seen.announced();
    let hijack: Vec<_> = ann
        .iter()
        .filter(|(p, _, _)| p == "208.65.153.0/24")
        .collect();
    assert_eq!(hijack[0].1, "65010 3491 17557");
    assert_eq!(hijack[0].2, a_ip);
    let mut checked = 0;
    for (p, path, peer) in &ann {
        if p == "208.65.153.0/24" {
            continue;
        }
        assert_eq!(*peer, a_ip);
        let rest = path.strip_prefix("65010 ").expect("A prepends its ASN");
        let known = rib
            .get(p)
            .unwrap_or_else(|| panic!("{p} is not in the RIB sample"));
        assert!(known.contains(rest), "{p}: {rest} not among {known:?}");
        checked += 1;
    }
    assert!(checked >= 7, "only {checked} RIB routes");
    // Every message has the router's timestamp (now-ish), not zero.
    assert!(
        seen.messages
            .iter()
            .all(|(_, m)| m.ts.secs() > 1_600_000_000)
    );

    // A goes away: B reports the peer down.
    a.kill();
    let got = seen
        .until(&mut rx, 30, |s| s.states().contains(&(a_ip, 6, 1)))
        .await;
    assert!(got, "peer down for A; {}", logs());
    assert_eq!(health.peers_up.load(Ordering::Relaxed), 0);
    assert_eq!(health.connections.load(Ordering::Relaxed), 1);

    // B goes away: the source records the start of a gap.
    b.kill();
    let got = seen.until(&mut rx, 15, |s| s.gap_starts == 1).await;
    assert!(got, "gap start after the router left");
    assert_eq!(health.connections.load(Ordering::Relaxed), 0);
    assert!(health.is_blind(bgpsentry::ingest::health::now_ts()));

    stop.send(true).expect("stop");
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("listener stops")
        .expect("no panic")
        .expect("ok");
}

async fn connect(port: u16) -> TcpStream {
    for _ in 0..50 {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)).await {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("listener not up");
}

#[tokio::test]
async fn hand_built_messages_and_hostile_input() {
    let (mut rx, stop, health, mut task) = start_bmp("max_message_bytes = 8192\n");
    let port = bound_port(&health, &mut task).await;
    let peer = [192, 0, 2, 7];
    let peer_ip: IpAddr = "192.0.2.7".parse().expect("ip");
    let ts = 1_700_000_000u32;

    // Router 1: a normal session.
    let mut s = connect(port).await;
    let pph = per_peer(peer, 64500, 0, ts);
    let pph2 = per_peer(peer, 64500, 0x20, ts);
    let post = per_peer(peer, 64500, 0x40, ts);
    let mut bytes = bmp_init("router-1");
    // The router receives ADD-PATH (mode 1 in its OPEN), the peer sends (2).
    bytes.extend(bmp_peer_up(
        &pph,
        &open(65000, 90, [10, 0, 0, 1], Some(1)),
        &open(64500, 90, [192, 0, 2, 7], Some(2)),
    ));
    bytes.extend(bmp_rm(
        &pph,
        &update(
            &[64500, 64501],
            true,
            None,
            &nlri4([203, 0, 113, 0], 24, Some(7)),
            &[],
        ),
    ));
    // 2-octet AS_PATH with AS_TRANS, and AS4_PATH carrying the real origin.
    bytes.extend(bmp_rm(
        &pph2,
        &update(
            &[64500, 23456],
            false,
            Some(&[64500, 4_200_000_000]),
            &nlri4([198, 51, 100, 0], 24, Some(8)),
            &[],
        ),
    ));
    // Post-policy view: filtered by the default `rib = "pre-policy"`.
    bytes.extend(bmp_rm(
        &post,
        &update(
            &[64500],
            true,
            None,
            &nlri4([192, 0, 2, 0], 24, Some(9)),
            &[],
        ),
    ));
    bytes.extend(bmp_stats(&pph));
    // Missing ORIGIN/AS_PATH/NEXT_HOP: treat-as-withdraw.
    let mut bad_attrs = vec![0, 0, 0, 0];
    bad_attrs.extend(nlri4([203, 0, 113, 128], 25, Some(3)));
    bytes.extend(bmp_rm(&pph, &bgp_msg(2, &bad_attrs)));
    bytes.extend(bmp_peer_down(&pph));
    s.write_all(&bytes).await.expect("write");

    let mut seen = Seen::default();
    let ok = seen
        .until(&mut rx, 10, |s| s.states().contains(&(peer_ip, 6, 1)))
        .await;
    assert!(ok, "{seen:?}");
    assert_eq!(seen.states(), vec![(peer_ip, 1, 6), (peer_ip, 6, 1)]);
    let ann = seen.announced();
    assert_eq!(
        ann,
        vec![
            (
                "203.0.113.0/24".to_string(),
                "64500 64501".to_string(),
                peer_ip
            ),
            (
                "198.51.100.0/24".to_string(),
                "64500 4200000000".to_string(),
                peer_ip
            ),
        ]
    );
    assert_eq!(seen.withdrawn(), vec!["203.0.113.128/25".to_string()]);
    let path_ids: Vec<_> = seen
        .messages
        .iter()
        .filter_map(|(_, m)| match &m.event {
            RouteEvent::Update { announced, .. } => announced.first().and_then(|n| n.path_id),
            _ => None,
        })
        .collect();
    assert_eq!(
        path_ids,
        vec![7, 8],
        "ADD-PATH ids from the negotiated OPENs"
    );
    assert!(
        seen.messages
            .iter()
            .all(|(c, m)| c == "bmp-test:127.0.0.1" && m.ts.secs() == i64::from(ts))
    );
    assert_eq!(health.filtered.load(Ordering::Relaxed), 1);
    assert_eq!(health.treat_as_withdraw.load(Ordering::Relaxed), 1);

    // Hostile routers: each is cut off, the listener lives on.
    let hostile: Vec<(&str, Vec<u8>)> = vec![
        ("BMP version 1", vec![1, 0, 0, 0, 6, 4]),
        ("length beyond max_message_bytes", {
            let mut v = vec![3];
            v.extend_from_slice(&1_000_000u32.to_be_bytes());
            v.push(0);
            v
        }),
        ("length below the header", vec![3, 0, 0, 0, 2, 0]),
        ("unknown message type", bmp(99, &[])),
        (
            "route monitoring with garbage BGP",
            bmp_rm(&pph, &[0xff; 30]),
        ),
        ("truncated per-peer header", bmp(0, &[0, 0, 1])),
    ];
    for (what, msg) in hostile {
        let before = health.malformed.load(Ordering::Relaxed);
        let mut s = connect(port).await;
        let mut msg_plus = bmp_init("hostile");
        msg_plus.extend(bmp_peer_up(
            &pph,
            &open(65000, 90, [10, 0, 0, 1], None),
            &open(64500, 90, [192, 0, 2, 7], None),
        ));
        msg_plus.extend(msg);
        s.write_all(&msg_plus).await.expect("write");
        // The router's peer goes down when its connection is cut.
        let mut local = Seen::default();
        let ok = local
            .until(&mut rx, 10, |s| s.states().contains(&(peer_ip, 6, 1)))
            .await;
        assert!(
            ok,
            "{what}: connection not closed / peer not down: {local:?}"
        );
        assert!(
            health.malformed.load(Ordering::Relaxed) > before,
            "{what}: not counted"
        );
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::io::AsyncReadExt::read(&mut s, &mut buf),
        )
        .await
        .expect("closed promptly");
        assert!(
            matches!(n, Ok(0) | Err(_)),
            "{what}: server closed the socket"
        );
    }
    assert_eq!(health.peers_up.load(Ordering::Relaxed), 0);
    drop(s);

    stop.send(true).expect("stop");
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("stops")
        .expect("no panic")
        .expect("ok");
}

//! Passive BGP speaker tests.
//!
//! * A real neighbour: `gobgpd` (Debian package `gobgpd`) as AS65010 on
//!   127.0.0.2 peers with our speaker (AS65000, 127.0.0.1) and announces a
//!   hijack of YouTube's 208.65.153.0/24 with the path Pakistan Telecom used
//!   in 2008 (`3491 17557`), a route of its own and an IPv6 route, with
//!   ADD-PATH send. We must receive them with its ASN prepended and with path
//!   ids, see the withdrawal, and the session going down when it dies.
//!   (bird2 cannot be the neighbour here: it refuses host-scope addresses,
//!   "Invalid remote address 127.0.0.1", and tests may only use loopback.)
//! * A hostile neighbour written by hand: wrong AS, bad marker, oversized
//!   message, malformed UPDATEs (RFC 7606 treat-as-withdraw vs session
//!   reset), hold timer expiry, unknown address — each answered with the
//!   RFC's NOTIFICATION.

mod live_support;

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bgpsentry::ingest::health::SourceHealth;
use bgpsentry::ingest::live::{self, LiveItem};
use bgpsentry_core::model::RouteEvent;
use live_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

type Started = (
    mpsc::Receiver<LiveItem>,
    watch::Sender<bool>,
    std::sync::Arc<SourceHealth>,
    tokio::task::JoinHandle<Result<(), live::SourceError>>,
);

/// Starts a BGP listener on a port the kernel picks; see `bound_port`.
fn start_bgp(neighbors: &str) -> Started {
    let cfg = format!(
        "[[source]]\ntype = \"bgp\"\nname = \"bgp-test\"\nlisten = \"127.0.0.1:0\"\nlocal_asn = 65000\nrouter_id = \"192.0.2.254\"\nhold_time = 30\nflush_ms = 10\n{neighbors}"
    );
    let r = start_source(&cfg, 256);
    (r.rx, r.stop, r.health, r.task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gobgpd_announces_a_hijack() {
    assert!(
        have("gobgpd") && have("gobgp"),
        "this test needs a real gobgpd: apt-get install gobgpd"
    );
    let dir = tempfile::tempdir().expect("tmp");
    let (mut rx, stop, health, mut task) = start_bgp(
        "[[source.neighbor]]\naddress = \"127.0.0.2\"\nasn = 65010\ndescription = \"gobgpd\"\n",
    );
    let port = bound_port(&health, &mut task).await;
    let peer_port = free_port("127.0.0.2");
    let api = free_port("127.0.0.1");
    let conf = format!(
        r#"
[global.config]
  as = 65010
  router-id = "127.0.0.2"
  port = {peer_port}
  local-address-list = ["127.0.0.2"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = 65000
  [neighbors.transport.config]
    remote-port = {port}
    local-address = "127.0.0.2"
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 9
    keepalive-interval = 3
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.add-paths.config]
      send-max = 8
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
"#
    );
    let conf_path = dir.path().join("gobgpd.toml");
    std::fs::write(&conf_path, conf).expect("write");
    let api_s = format!("127.0.0.1:{api}");
    let mut gobgpd = Proc::spawn(
        "gobgpd",
        &[
            "-f",
            conf_path.to_str().expect("p"),
            "--api-hosts",
            &api_s,
            "--pprof-disable",
            "-l",
            "info",
        ],
        &dir.path().join("gobgpd.log"),
    );
    let log = || std::fs::read_to_string(dir.path().join("gobgpd.log")).unwrap_or_default();
    let api_p = api.to_string();
    let add = |args: &[&str]| {
        let mut v = vec!["-p", api_p.as_str(), "global", "rib"];
        v.extend_from_slice(args);
        run_cmd("gobgp", &v)
    };
    let ok = eventually(20, || {
        add(&[
            "add",
            "208.65.153.0/24",
            "origin",
            "igp",
            "aspath",
            "3491,17557",
            "nexthop",
            "198.51.100.1",
        ])
        .0
    })
    .await;
    assert!(ok, "gobgp API never answered:\n{}", log());
    for args in [
        &[
            "add",
            "192.0.2.0/24",
            "origin",
            "igp",
            "nexthop",
            "198.51.100.1",
        ][..],
        &[
            "-a",
            "ipv6",
            "add",
            "2001:db8:100::/48",
            "origin",
            "igp",
            "nexthop",
            "2001:db8::2",
        ][..],
    ] {
        let (ok, out) = add(args);
        assert!(ok, "gobgp {args:?}: {out}");
    }

    let peer_ip: IpAddr = "127.0.0.2".parse().expect("ip");
    let mut seen = Seen::default();
    let ok = seen
        .until(&mut rx, 40, |s| {
            let a = s.announced();
            ["208.65.153.0/24", "192.0.2.0/24", "2001:db8:100::/48"]
                .iter()
                .all(|p| a.iter().any(|x| x.0 == *p))
        })
        .await;
    if !ok {
        let (_, n) = run_cmd("gobgp", &["-p", &api_p, "neighbor", "127.0.0.1"]);
        let (_, o) = run_cmd(
            "gobgp",
            &[
                "-p",
                &api_p,
                "neighbor",
                "127.0.0.1",
                "adj-out",
                "-a",
                "ipv6",
            ],
        );
        panic!(
            "routes from gobgpd: {seen:?}\nlog:\n{}\nneighbor:\n{n}\nadj-out v6:\n{o}\nhealth: {health:?}",
            log()
        );
    }
    assert_eq!(seen.states()[0], (peer_ip, 1, 6), "session up first");
    let ann = seen.announced();
    let path_of = |p: &str| {
        ann.iter()
            .find(|x| x.0 == p)
            .map(|x| x.1.clone())
            .unwrap_or_default()
    };
    assert_eq!(path_of("208.65.153.0/24"), "65010 3491 17557");
    assert_eq!(path_of("192.0.2.0/24"), "65010");
    assert_eq!(path_of("2001:db8:100::/48"), "65010");
    assert!(ann.iter().all(|x| x.2 == peer_ip));
    // ADD-PATH was negotiated for IPv4: the sender's path identifiers come through.
    let v4_ids: Vec<Option<u32>> = seen
        .messages
        .iter()
        .filter_map(|(_, m)| match &m.event {
            RouteEvent::Update { announced, .. } => announced
                .iter()
                .find(|n| n.prefix.to_string() == "208.65.153.0/24")
                .map(|n| n.path_id),
            _ => None,
        })
        .collect();
    assert!(
        !v4_ids.is_empty() && v4_ids.iter().all(Option::is_some),
        "path ids: {v4_ids:?}"
    );
    assert!(seen.messages.iter().all(|(c, _)| c == "bgp-test"));
    assert_eq!(health.peers_up.load(Ordering::Relaxed), 1);

    // The hijacker withdraws.
    let (ok, out) = add(&["del", "208.65.153.0/24"]);
    assert!(ok, "gobgp del: {out}");
    let ok = seen
        .until(&mut rx, 20, |s| {
            s.withdrawn().iter().any(|p| p == "208.65.153.0/24")
        })
        .await;
    assert!(ok, "withdrawal of the hijack: {seen:?}");

    // The neighbour dies: the session goes down, and with it the feed.
    gobgpd.kill();
    let ok = seen
        .until(&mut rx, 20, |s| s.states().contains(&(peer_ip, 6, 1)))
        .await;
    assert!(ok, "session down: {seen:?}");
    assert_eq!(health.peers_up.load(Ordering::Relaxed), 0);
    let ok = seen.until(&mut rx, 10, |s| s.gap_starts == 1).await;
    assert!(ok, "a gap starts when the last session is gone");

    stop.send(true).expect("stop");
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("stops")
        .expect("no panic")
        .expect("ok");
}

// ------------ A hostile neighbour --------------------------------------------

/// Reads BGP messages until a NOTIFICATION (returns code, subcode); on EOF,
/// reset or timeout returns None and prints what happened.
async fn notification(s: &mut TcpStream, secs: u64) -> Option<(u8, u8)> {
    let mut types = Vec::new();
    let fut = async {
        loop {
            let mut hdr = [0u8; 19];
            if let Err(e) = s.read_exact(&mut hdr).await {
                return Err(format!("header: {e}"));
            }
            let len = u16::from_be_bytes([hdr[16], hdr[17]]) as usize;
            let mut body = vec![0u8; len.saturating_sub(19)];
            if let Err(e) = s.read_exact(&mut body).await {
                return Err(format!("body: {e}"));
            }
            types.push(hdr[18]);
            if hdr[18] == 3 {
                return Ok((body[0], body[1]));
            }
        }
    };
    let r = tokio::time::timeout(Duration::from_secs(secs), fut).await;
    match r {
        Ok(Ok(n)) => Some(n),
        Ok(Err(e)) => {
            eprintln!("no NOTIFICATION: {e}; message types before: {types:?}");
            None
        }
        Err(_) => {
            eprintln!("no NOTIFICATION within {secs} s; message types before: {types:?}");
            None
        }
    }
}

/// Reads until a message of type `ty` arrives.
async fn expect_type(s: &mut TcpStream, ty: u8) {
    let fut = async {
        loop {
            let mut hdr = [0u8; 19];
            s.read_exact(&mut hdr).await.expect("read");
            let len = u16::from_be_bytes([hdr[16], hdr[17]]) as usize;
            let mut body = vec![0u8; len - 19];
            s.read_exact(&mut body).await.expect("read");
            if hdr[18] == ty {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), fut)
        .await
        .expect("message in time");
}

async fn established(port: u16, hold: u16) -> TcpStream {
    let mut s = connect_from("127.0.0.3", port).await;
    s.write_all(&open(65020, hold, [192, 0, 2, 3], None))
        .await
        .expect("write");
    expect_type(&mut s, 1).await;
    s.write_all(&bgp_msg(4, &[])).await.expect("write");
    expect_type(&mut s, 4).await;
    s
}

#[tokio::test]
async fn hostile_neighbour_gets_notifications() {
    let (mut rx, stop, health, mut task) =
        start_bgp("[[source.neighbor]]\naddress = \"127.0.0.3\"\nasn = 65020\n");
    let port = bound_port(&health, &mut task).await;
    let peer: IpAddr = "127.0.0.3".parse().expect("ip");

    // Wrong AS in the OPEN: 2/2 Bad Peer AS.
    let mut s = connect_from("127.0.0.3", port).await;
    s.write_all(&open(65099, 90, [192, 0, 2, 3], None))
        .await
        .expect("write");
    assert_eq!(notification(&mut s, 5).await, Some((2, 2)));

    // Hold time 2: 2/6 Unacceptable Hold Time.
    let mut s = connect_from("127.0.0.3", port).await;
    s.write_all(&open(65020, 2, [192, 0, 2, 3], None))
        .await
        .expect("write");
    assert_eq!(notification(&mut s, 5).await, Some((2, 6)));

    // Bad marker: 1/1 Connection Not Synchronized.
    let mut s = connect_from("127.0.0.3", port).await;
    let mut m = open(65020, 90, [192, 0, 2, 3], None);
    m[3] = 0;
    s.write_all(&m).await.expect("write");
    assert_eq!(notification(&mut s, 5).await, Some((1, 1)));

    // Unknown message type: 1/3.
    let mut s = connect_from("127.0.0.3", port).await;
    s.write_all(&bgp_msg(9, &[])).await.expect("write");
    assert_eq!(notification(&mut s, 5).await, Some((1, 3)));

    // From an address that is not a neighbour: Cease 6/5.
    let mut s = connect_from("127.0.0.4", port).await;
    assert_eq!(notification(&mut s, 5).await, Some((6, 5)));

    // An established session: a good UPDATE, then one without mandatory
    // attributes (treat-as-withdraw, session stays), then an oversized message.
    let mut s = established(port, 90).await;
    s.write_all(&update(
        &[65020, 64999],
        true,
        None,
        &nlri4([203, 0, 113, 0], 24, None),
        &[],
    ))
    .await
    .expect("write");
    let mut no_attrs = vec![0, 0, 0, 0];
    no_attrs.extend(nlri4([203, 0, 113, 0], 24, None));
    s.write_all(&bgp_msg(2, &no_attrs)).await.expect("write");
    s.write_all(&bgp_msg(4, &[])).await.expect("write");
    let mut seen = Seen::default();
    let ok = seen.until(&mut rx, 10, |s| !s.withdrawn().is_empty()).await;
    assert!(ok, "{seen:?}");
    assert_eq!(
        seen.announced(),
        vec![(
            "203.0.113.0/24".to_string(),
            "65020 64999".to_string(),
            peer
        )]
    );
    assert_eq!(seen.withdrawn(), vec!["203.0.113.0/24".to_string()]);
    assert_eq!(health.treat_as_withdraw.load(Ordering::Relaxed), 1);
    // 5000 bytes without extended messages: 1/2 Bad Message Length.
    let mut big = vec![0xff; 16];
    big.extend_from_slice(&5000u16.to_be_bytes());
    big.push(2);
    big.extend(vec![0u8; 5000 - 19]);
    s.write_all(&big).await.expect("write");
    assert_eq!(notification(&mut s, 5).await, Some((1, 2)));
    let ok = seen
        .until(&mut rx, 10, |s| s.states().contains(&(peer, 6, 1)))
        .await;
    assert!(ok, "session down after the reset");

    // Malformed NLRI (a /33): 3/10 Invalid Network Field, session reset.
    let mut s = established(port, 90).await;
    s.write_all(&update(&[65020], true, None, &[33, 1, 2, 3, 4, 5], &[]))
        .await
        .expect("write");
    assert_eq!(notification(&mut s, 5).await, Some((3, 10)));

    // Hold timer: we offered 30, the neighbour 3; it then goes silent: 4/0.
    let mut s = established(port, 3).await;
    let t0 = std::time::Instant::now();
    assert_eq!(notification(&mut s, 10).await, Some((4, 0)));
    let el = t0.elapsed();
    assert!(
        el >= Duration::from_secs(2) && el < Duration::from_secs(6),
        "{el:?}"
    );

    assert!(health.malformed.load(Ordering::Relaxed) >= 6);
    assert_eq!(health.peers_up.load(Ordering::Relaxed), 0);
    stop.send(true).expect("stop");
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("stops")
        .expect("no panic")
        .expect("ok");
}

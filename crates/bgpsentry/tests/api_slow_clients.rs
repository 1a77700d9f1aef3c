//! The HTTP server against slow and greedy clients (issue 19, item 4): a
//! client trickling its headers is cut after the header timeout, a
//! kept-alive connection may idle longer than that, the connection beyond
//! the cap gets a 503 envelope while requests go through again once a slot
//! frees, and `serve` exits promptly on SIGTERM with idle connections open.
//!
//! Every wait is a bounded loop; the assertions are outcomes with generous
//! upper bounds, not timings.

mod api_support;

use std::io::{BufRead, BufReader, Read as _, Write as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use api_support::start_limited;
use bgpsentry::api::Clock;
use bgpsentry::api::server::HttpLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn limits(max: u64, header: u64, idle: u64) -> HttpLimits {
    HttpLimits {
        max_connections: max,
        header_timeout_secs: header,
        idle_timeout_secs: idle,
        shutdown_grace_secs: 2,
    }
}

fn addr_of(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

/// Reads one HTTP/1.1 response with a `Content-Length` body; returns the
/// status, the head and the body.
async fn read_response(s: &mut TcpStream) -> (u16, String, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = text[..end].to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let status = head
                    .split_whitespace()
                    .nth(1)
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0);
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
                return (status, head, body);
            }
        }
        assert!(Instant::now() < deadline, "no complete response: {text:?}");
        let n = tokio::time::timeout(Duration::from_secs(20), s.read(&mut chunk))
            .await
            .expect("response within 20 s")
            .expect("read");
        assert!(n > 0, "connection closed before a full response: {text:?}");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// One `GET` on a fresh connection.
async fn get(addr: &str, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .expect("send");
    read_response(&mut s).await
}

/// True once the peer has closed `s` (EOF or reset), waiting at most `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut b = [0u8; 256];
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(200), s.read(&mut b)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) | Err(_) => {}
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_and_silent_clients_are_cut_after_the_header_timeout() {
    let srv = start_limited(|_| {}, &[], Clock::Wall, &limits(64, 1, 30)).await;
    let addr = addr_of(&srv.base);

    // A client that sends one header byte every 200 ms would take 20 s for
    // this request; the 1 s header timeout cuts it long before.
    let mut trickle = TcpStream::connect(&addr).await.expect("connect");
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let started = Instant::now();
    let mut cut = false;
    let mut sent = 0;
    for byte in request.iter() {
        if trickle.write_all(&[*byte]).await.is_err() {
            cut = true;
            break;
        }
        sent += 1;
        if closed_within(&mut trickle, Duration::from_millis(200)).await {
            cut = true;
            break;
        }
    }
    assert!(cut, "a trickling client was never cut ({sent} bytes sent)");
    assert!(sent < request.len(), "the whole request got through");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "cut after {:?}",
        started.elapsed()
    );

    // A client that connects and sends nothing is cut as well.
    let mut silent = TcpStream::connect(&addr).await.expect("connect");
    assert!(
        closed_within(&mut silent, Duration::from_secs(15)).await,
        "a silent connection stayed open"
    );

    // The server still answers.
    let (status, _, _) = get(&addr, "/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_alive_connection_may_idle_longer_than_the_header_timeout() {
    let srv = start_limited(|_| {}, &[], Clock::Wall, &limits(64, 1, 30)).await;
    let addr = addr_of(&srv.base);
    let mut s = TcpStream::connect(&addr).await.expect("connect");
    let req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    s.write_all(req).await.expect("send");
    assert_eq!(read_response(&mut s).await.0, 200);
    // Idle for well over the header timeout, well under the idle timeout.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    s.write_all(req).await.expect("send again");
    assert_eq!(read_response(&mut s).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_beyond_the_cap_gets_a_503_envelope() {
    const CAP: usize = 8;
    let srv = start_limited(|_| {}, &[], Clock::Wall, &limits(CAP as u64, 60, 60)).await;
    let addr = addr_of(&srv.base);
    // CAP idle connections hold every slot (accepted in order, before the
    // request below).
    let mut idle = Vec::new();
    for _ in 0..CAP {
        idle.push(TcpStream::connect(&addr).await.expect("connect"));
    }
    let (status, head, body) = get(&addr, "/healthz").await;
    assert_eq!(status, 503, "{head}\n{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON envelope");
    assert_eq!(v["success"], false);
    assert_eq!(v["errors"][0]["code"], 10503);
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("too many connections")),
        "{body}"
    );
    let head_l = head.to_ascii_lowercase();
    assert!(head_l.contains("retry-after: 1"), "{head}");
    assert!(head_l.contains("connection: close"), "{head}");

    // With CAP - 1 idle connections open, a request goes through again as
    // soon as the server has noticed the freed slot.
    drop(idle.pop());
    let mut ok = false;
    for _ in 0..100 {
        if get(&addr, "/healthz").await.0 == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok, "no request succeeded with {} idle connections", CAP - 1);
    // The idle connections are still being served (not dropped to make room).
    let mut first = idle.remove(0);
    first
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("send on an idle connection");
    assert_eq!(read_response(&mut first).await.0, 200);
}

#[test]
fn serve_exits_promptly_on_sigterm_with_idle_connections_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("e.sqlite");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bgpsentry"))
        .args(["serve", "--db"])
        .arg(&db)
        .args(["--listen", "127.0.0.1:0"])
        .args(["--header-timeout-secs", "600", "--idle-timeout-secs", "600"])
        .args(["--shutdown-grace-secs", "2"])
        .env_remove("BGPSENTRY_API_TOKENS")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut addr = None;
    for line in lines.by_ref() {
        let line = line.expect("line");
        if let Some(a) = line.strip_prefix("bgpsentry: listening on http://") {
            addr = Some(a.trim().to_string());
            break;
        }
    }
    let addr = addr.expect("server announced its address");
    // Keep draining stderr so the child never blocks on a full pipe.
    let drain = std::thread::spawn(move || lines.map_while(Result::ok).count());

    // Silent connections, one that has sent half a request head, and a
    // kept-alive connection after a complete request.
    let mut conns: Vec<std::net::TcpStream> = (0..20)
        .map(|_| std::net::TcpStream::connect(&addr).expect("connect"))
        .collect();
    let mut half = std::net::TcpStream::connect(&addr).expect("connect");
    half.write_all(b"GET /healthz HTTP/1.1\r\nHo")
        .expect("send");
    conns.push(half);
    let mut kept = std::net::TcpStream::connect(&addr).expect("connect");
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    kept.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut got = [0u8; 12];
    kept.read_exact(&mut got).expect("response");
    assert_eq!(&got, b"HTTP/1.1 200");
    conns.push(kept);

    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let sent = Instant::now();
    let mut status = None;
    while sent.elapsed() < Duration::from_secs(30) {
        if let Some(s) = child.try_wait().expect("wait") {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("serve still running 30 s after SIGTERM with idle connections open");
    };
    assert!(status.success(), "{status:?}");
    drop(conns);
    let _ = drain.join();
}

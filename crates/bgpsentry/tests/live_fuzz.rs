//! Bounded, deterministic mutation fuzzing of the live decoders — BMP, the
//! BGP speaker and RIS Live — as the CI smoke run of issue 19 (the MRT path
//! has its own in `bgpsentry-core/tests/bgpdump_fuzz.rs`; libFuzzer targets
//! for nightly live in `fuzz/`).
//!
//! Seeds are real: the BGP UPDATEs of a RouteViews 2008 file, wrapped as
//! BMP Route Monitoring sessions, sent over an established BGP session, or
//! turned into RIS Live `ris_message` frames (with their `raw` bytes). A
//! seeded xorshift RNG mutates them (bit flips, interesting bytes and
//! lengths, truncation, insertions, deletions, duplicated chunks). BMP and
//! BGP inputs go through the real listeners over loopback, one connection
//! each; RIS Live frames through `decode_frame`.
//!
//! Each run asserts what matters to an operator: nothing panics outside the
//! third-party parser (whose panics `guarded` contains and which are counted
//! as findings), every hostile connection ends promptly after our EOF, the
//! listener still takes a clean session afterwards and delivers its route,
//! and the damage is counted. The totals are printed for the closing note.

mod live_support;

use std::io::Read;
use std::net::IpAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bgpsentry::ingest::live::LiveItem;
use bgpsentry::ingest::rislive::decode_frame;
use bgpsentry_core::model::RouteEvent;
use bgpsentry_core::mrt::decompress;
use live_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const UPDATES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/mrt/incident-youtube-2008/updates.20080224.1201.bz2"
);

/// Sessions per listener and RIS Live frames: a smoke run of a few seconds.
const SESSIONS: usize = 2_000;
const RIS_FRAMES: usize = 100_000;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Applies 1..=6 random mutations to `v`.
fn mutate(rng: &mut Rng, v: &mut Vec<u8>) {
    const INTERESTING: [u8; 8] = [0, 1, 0x7f, 0x80, 0xfe, 0xff, 0x40, 0x20];
    for _ in 0..1 + rng.below(6) {
        let len = v.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if len > 1 => {
                // A length-like field: 2 or 4 bytes set to an edge value.
                let i = rng.below(len - 1);
                let x: u32 = [0, 1, 0xff, 0x100, 0xffff, 0x7fff_ffff, u32::MAX][rng.below(7)];
                let b = x.to_be_bytes();
                if rng.below(2) == 0 || i + 4 > len {
                    v[i] = b[2];
                    v[i + 1] = b[3];
                } else {
                    v[i..i + 4].copy_from_slice(&b);
                }
            }
            3 if len > 0 => v.truncate(rng.below(len)),
            4 => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let ins: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                v.splice(i..i, ins);
            }
            5 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                v.drain(i..i + n);
            }
            6 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(256));
                let chunk = v[i..i + n].to_vec();
                let at = rng.below(len + 1);
                v.splice(at..at, chunk);
            }
            _ if len > 0 => {
                let i = rng.below(len);
                v[i] = rng.next() as u8;
            }
            _ => v.push(rng.next() as u8),
        }
    }
}

/// The BGP messages (marker included) of the file's BGP4MP MESSAGE records
/// that are UPDATEs, up to `max`.
fn real_updates(max: usize) -> Vec<Vec<u8>> {
    let f = std::fs::File::open(UPDATES).expect("shared YouTube updates file");
    let (_, mut r) = decompress(f).expect("bzip2");
    let mut raw = Vec::new();
    r.read_to_end(&mut raw).expect("decompress");
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 12 <= raw.len() && out.len() < max {
        let ty = u16::from_be_bytes([raw[at + 4], raw[at + 5]]);
        let sub = u16::from_be_bytes([raw[at + 6], raw[at + 7]]);
        let len =
            u32::from_be_bytes([raw[at + 8], raw[at + 9], raw[at + 10], raw[at + 11]]) as usize;
        let body = &raw[(at + 12).min(raw.len())..(at + 12 + len).min(raw.len())];
        at += 12 + len;
        if ty != 16 || !(sub == 1 || sub == 4) {
            continue;
        }
        let marker = [0xffu8; 16];
        if let Some(p) = body.windows(16).position(|w| w == marker) {
            let msg = &body[p..];
            if msg.len() >= 19 && msg[18] == 2 {
                let l = usize::from(u16::from_be_bytes([msg[16], msg[17]]));
                // RouteViews 2008 records are BGP4MP_MESSAGE (2-octet
                // AS_PATH): the sessions below negotiate 2-octet ASNs.
                if l <= msg.len() && sub == 1 {
                    out.push(msg[..l].to_vec());
                }
            }
        }
    }
    assert!(out.len() >= 100, "only {} UPDATEs in {UPDATES}", out.len());
    out
}

/// Panics anywhere but inside the third-party parser fail the tests; the
/// parser's own (contained by `guarded`) are counted as findings. One hook
/// for the whole binary: (contained, ours).
fn count_panics() -> &'static (AtomicU64, AtomicU64) {
    static COUNTS: OnceLock<(AtomicU64, AtomicU64)> = OnceLock::new();
    COUNTS.get_or_init(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let file = info
                .location()
                .map(|l| l.file().to_string())
                .unwrap_or_default();
            if let Some(c) = COUNTS.get() {
                if file.contains("bgpkit") {
                    c.0.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                c.1.fetch_add(1, Ordering::Relaxed);
            }
            prev(info);
        }));
        (AtomicU64::new(0), AtomicU64::new(0))
    })
}

/// Drains a source's channel, counting announced prefixes per prefix text.
fn drain(mut rx: tokio::sync::mpsc::Receiver<LiveItem>) -> tokio::task::JoinHandle<Seen> {
    tokio::spawn(async move {
        let mut seen = Seen::default();
        while let Some(it) = rx.recv().await {
            // Keep memory bounded: only the marker route of the clean
            // session matters afterwards.
            let before = seen.messages.len();
            seen.take(it);
            let keep: Vec<_> = seen
                .messages
                .drain(before..)
                .filter(|(_, m)| match &m.event {
                    RouteEvent::Update { announced, .. } => announced
                        .iter()
                        .any(|n| n.prefix.to_string() == "203.0.113.0/24"),
                    _ => false,
                })
                .collect();
            seen.messages.extend(keep);
        }
        seen
    })
}

/// Writes `bytes`, half-closes, and waits for the listener to close.
/// Returns false when the connection was still open after 10 s.
async fn send_and_close(mut s: TcpStream, bytes: &[u8]) -> bool {
    // The listener may cut us off mid-write: that is its right.
    let _ = s.write_all(bytes).await;
    let _ = s.shutdown().await;
    let mut buf = [0u8; 4096];
    let wait = async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .is_ok()
}

/// What every listener run must show: a clean end, no panic of ours, no
/// connection left open after our EOF, and the damage counted.
fn check_run<T: std::fmt::Debug>(
    what: &str,
    end: &Result<Result<Result<(), T>, tokio::task::JoinError>, tokio::time::error::Elapsed>,
    ours: &AtomicU64,
    hung: usize,
    damage: u64,
) {
    assert!(matches!(end, Ok(Ok(Ok(())))), "{what} ended badly: {end:?}");
    assert_eq!(
        ours.load(Ordering::Relaxed),
        0,
        "{what}: a panic outside the parser"
    );
    assert_eq!(hung, 0, "{what}: connections left open after EOF");
    assert!(damage > 0, "{what}: damage not counted");
}

/// A clean UPDATE announcing 203.0.113.0/24 from AS 64500 (the marker that
/// must arrive after the hostile sessions).
fn marker_update() -> Vec<u8> {
    update(
        &[64500, 64501],
        false,
        None,
        &nlri4([203, 0, 113, 0], 24, None),
        &[],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bmp_listener_survives_mutated_sessions() {
    let (contained, ours) = count_panics();
    let seeds = real_updates(2000);
    let r = start_source(
        "[[source]]\ntype = \"bmp\"\nname = \"bmp-fuzz\"\nlisten = \"127.0.0.1:0\"\nflush_ms = 10\n",
        1024,
    );
    let (health, mut task) = (r.health.clone(), r.task);
    let port = bound_port(&health, &mut task).await;
    let seen = drain(r.rx);
    let peer = [192, 0, 2, 7];
    // Flag A: the peer's session uses 2-octet ASNs, as the seeds do.
    let pph = per_peer(peer, 64500, 0x20, 1_203_854_400);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut bytes_sent, mut hung) = (0usize, 0usize);
    for _ in 0..SESSIONS {
        let mut v = bmp_init("fuzz");
        v.extend(bmp_peer_up(
            &pph,
            &open_2octet(65000, 90, [10, 0, 0, 1]),
            &open_2octet(64500, 90, [192, 0, 2, 7]),
        ));
        for _ in 0..8 {
            v.extend(bmp_rm(&pph, &seeds[rng.below(seeds.len())]));
        }
        v.extend(bmp_stats(&pph));
        v.extend(bmp_peer_down(&pph));
        mutate(&mut rng, &mut v);
        bytes_sent += v.len();
        let s = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        if !send_and_close(s, &v).await {
            hung += 1;
        }
    }
    // A clean router afterwards is heard.
    let mut v = bmp_init("clean");
    v.extend(bmp_peer_up(
        &pph,
        &open_2octet(65000, 90, [10, 0, 0, 1]),
        &open_2octet(64500, 90, [192, 0, 2, 7]),
    ));
    v.extend(bmp_rm(&pph, &marker_update()));
    v.extend(bmp_peer_down(&pph));
    let s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    assert!(send_and_close(s, &v).await, "clean session not closed");
    let ok = eventually(10, || health.frames.load(Ordering::Relaxed) > 0).await;
    assert!(ok);
    tokio::time::sleep(Duration::from_millis(300)).await;
    r.stop.send(true).expect("stop");
    let end = tokio::time::timeout(Duration::from_secs(10), task).await;
    let seen = seen.await.expect("drain task");
    let frames = health.frames.load(Ordering::Relaxed);
    let malformed = health.malformed.load(Ordering::Relaxed);
    let errors = health.errors.load(Ordering::Relaxed);
    eprintln!(
        "bmp fuzz: {SESSIONS} sessions, {bytes_sent} bytes, {frames} frames, {malformed} malformed, {errors} connection errors, {} parser panics contained, {hung} hung",
        contained.load(Ordering::Relaxed)
    );
    check_run("listener", &end, ours, hung, malformed + errors);
    assert!(
        seen.announced()
            .iter()
            .any(|(p, path, _)| p == "203.0.113.0/24" && path == "64500 64501"),
        "the clean router's route did not arrive"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bgp_speaker_survives_mutated_updates() {
    let (contained, ours) = count_panics();
    let seeds = real_updates(2000);
    let r = start_source(
        "[[source]]\ntype = \"bgp\"\nname = \"bgp-fuzz\"\nlisten = \"127.0.0.1:0\"\nlocal_asn = 65000\nrouter_id = \"192.0.2.254\"\nhold_time = 30\nflush_ms = 10\n[[source.neighbor]]\naddress = \"127.0.0.3\"\nasn = 65020\n",
        1024,
    );
    let (health, mut task) = (r.health.clone(), r.task);
    let port = bound_port(&health, &mut task).await;
    let seen = drain(r.rx);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut bytes_sent, mut hung) = (0usize, 0usize);
    let our_open = open_2octet(65020, 90, [192, 0, 2, 3]);
    for i in 0..SESSIONS {
        let mut v = Vec::new();
        for _ in 0..8 {
            v.extend(&seeds[rng.below(seeds.len())]);
        }
        mutate(&mut rng, &mut v);
        // One session in ten has its OPEN mutated too.
        let mut first = our_open.clone();
        first.extend(bgp_msg(4, &[]));
        if i % 10 == 0 {
            mutate(&mut rng, &mut first);
        }
        first.extend(v);
        bytes_sent += first.len();
        let s = connect_from("127.0.0.3", port).await;
        if !send_and_close(s, &first).await {
            hung += 1;
        }
    }
    let mut clean = our_open.clone();
    clean.extend(bgp_msg(4, &[]));
    clean.extend(update(
        &[65020, 64501],
        false,
        None,
        &nlri4([203, 0, 113, 0], 24, None),
        &[],
    ));
    let mut s = connect_from("127.0.0.3", port).await;
    s.write_all(&clean).await.expect("write clean session");
    let mut got = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if health.announced.load(Ordering::Relaxed) > 0 {
            got = true;
            break;
        }
    }
    drop(s);
    tokio::time::sleep(Duration::from_millis(300)).await;
    r.stop.send(true).expect("stop");
    let end = tokio::time::timeout(Duration::from_secs(10), task).await;
    let seen = seen.await.expect("drain task");
    let malformed = health.malformed.load(Ordering::Relaxed);
    let errors = health.errors.load(Ordering::Relaxed);
    let taw = health.treat_as_withdraw.load(Ordering::Relaxed);
    eprintln!(
        "bgp fuzz: {SESSIONS} sessions, {bytes_sent} bytes, {} messages decoded, {malformed} malformed ({taw} treat-as-withdraw), {errors} session errors, {} parser panics contained, {hung} hung",
        health.messages.load(Ordering::Relaxed),
        contained.load(Ordering::Relaxed)
    );
    assert!(got, "no route announced at all");
    check_run("speaker", &end, ours, hung, malformed + errors);
    assert!(
        seen.announced()
            .iter()
            .any(|(p, path, ip)| p == "203.0.113.0/24"
                && path == "65020 64501"
                && *ip == "127.0.0.3".parse::<IpAddr>().expect("ip")),
        "the clean session's route did not arrive: {:?}",
        seen.announced()
    );
}

/// A RIS Live frame for one real UPDATE, with its `raw` bytes.
fn ris_frame(msg: &[u8], i: usize) -> String {
    let hex: String = msg.iter().map(|b| format!("{b:02X}")).collect();
    format!(
        "{{\"type\":\"ris_message\",\"data\":{{\"timestamp\":{}.5,\"peer\":\"192.0.2.{}\",\"peer_asn\":\"64500\",\"id\":\"f{i}\",\"host\":\"rrc00\",\"type\":\"UPDATE\",\"path\":[64500,[64501,64502],3356],\"origin\":\"IGP\",\"announcements\":[{{\"next_hop\":\"192.0.2.1\",\"prefixes\":[\"203.0.113.0/24\",\"2001:db8::/32\"]}}],\"withdrawals\":[\"198.51.100.0/24\"],\"raw\":\"{hex}\"}}}}",
        1_203_854_400 + i,
        i % 250
    )
}

#[test]
fn ris_live_frames_mutated() {
    let (contained, ours) = count_panics();
    let seeds = real_updates(500);
    let mut rng = Rng(0x6a09_e667_f3bc_c909);
    let clean = ris_frame(&seeds[0], 0);
    let out = decode_frame(&clean, true).expect("the seed frame decodes");
    assert!(!format!("{out:?}").is_empty());
    let (mut ok, mut err) = (0usize, 0usize);
    for i in 0..RIS_FRAMES {
        let mut v = ris_frame(&seeds[rng.below(seeds.len())], i).into_bytes();
        mutate(&mut rng, &mut v);
        let text = String::from_utf8_lossy(&v);
        match decode_frame(&text, i % 2 == 0) {
            Ok(_) => ok += 1,
            Err(_) => err += 1,
        }
    }
    eprintln!(
        "ris live fuzz: {RIS_FRAMES} frames, {ok} decoded, {err} errors, {} parser panics contained",
        contained.load(Ordering::Relaxed)
    );
    assert_eq!(
        ours.load(Ordering::Relaxed),
        0,
        "a panic outside the parser"
    );
    assert!(ok > 0 && err > 0, "mutations neither kept nor broke frames");
}

//! `bgpsentry bench-firehose`: the RIS Live load test of issue #8. A
//! websocket server on 127.0.0.1 replays real updates (an MRT updates file
//! turned into RIS Live `ris_message` UPDATE frames) at a steady rate with
//! periodic 10× bursts; the real RIS Live source (`ingest::rislive`)
//! consumes them and feeds the hijack and route-leak detectors, as the
//! daemon does. Reported: offered and delivered updates/s, how far behind
//! the consumer fell, CPU seconds per 1k updates/s (the whole process, the
//! replaying server included) and peak resident memory.
//!
//! Frames are encoded before the clock starts, so the server's share of
//! the CPU is only the websocket send. Timestamps are rewritten to advance
//! with the replay, so the detectors see a continuous stream.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bgpsentry_core::model::{PeerTable, RouteEvent, Segment};
use bgpsentry_core::mrt::{RecordReader, StreamDecoder, decompress};
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use crate::detectors::DetectArgs;
use crate::ingest::live::{self, LiveItem};
use crate::pipeline::DetectSink;

/// `bgpsentry bench-firehose`.
#[derive(Debug, Args)]
pub struct BenchFirehoseArgs {
    /// MRT updates file(s) to replay (RouteViews / RIS `updates.*`).
    #[arg(long = "mrt", required = true, value_name = "FILE")]
    pub mrt: Vec<PathBuf>,
    /// Steady rate, updates (UPDATE frames) per second.
    #[arg(long, default_value_t = 5000)]
    pub rate: u64,
    /// Burst factor applied for `--burst-secs` every `--burst-every` seconds.
    #[arg(long, default_value_t = 10)]
    pub burst: u64,
    /// Length of a burst, seconds.
    #[arg(long, default_value_t = 2)]
    pub burst_secs: u64,
    /// A burst starts every this many seconds.
    #[arg(long, default_value_t = 15)]
    pub burst_every: u64,
    /// Length of the run, seconds.
    #[arg(long, default_value_t = 30)]
    pub seconds: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What the run measured.
#[derive(Debug, Serialize)]
pub struct FirehoseReport {
    /// Distinct frames in the replay loop.
    pub frames: usize,
    /// Configured steady rate.
    pub rate: u64,
    /// Frames the server sent within the timed window.
    pub sent: u64,
    /// Frames the server sent in all (it stops at its next 10 ms tick).
    pub sent_total: u64,
    /// Messages the detectors processed within the timed window.
    pub processed: u64,
    /// Messages processed once the consumer drained its backlog (equals
    /// `sent_total` when nothing was lost).
    pub processed_after_drain: u64,
    /// Wall seconds of the run.
    pub seconds: f64,
    /// sent / seconds.
    pub offered_per_sec: f64,
    /// processed / seconds.
    pub processed_per_sec: f64,
    /// Largest backlog seen (sent − processed), frames.
    pub max_backlog: u64,
    /// Seconds after the server stopped until the consumer caught up.
    pub drain_secs: f64,
    /// Process CPU seconds (user + system) during the run.
    pub cpu_secs: f64,
    /// CPU share of one core per 1k updates/s processed.
    pub cpu_per_1k_per_sec: f64,
    /// Peak resident memory (VmHWM), MiB.
    pub peak_rss_mib: f64,
    /// Resident memory at the end, MiB.
    pub end_rss_mib: f64,
    /// Resident memory when the clock started (the pre-encoded frames
    /// included), MiB: `end_rss_mib` minus this is what the run added.
    pub start_rss_mib: f64,
    /// Event changes (opened, grown, ended...) the detectors raised.
    pub event_changes: u64,
}

/// Turns MRT updates into RIS Live UPDATE frames (JSON text, `{TS}`
/// standing for the timestamp to fill in at send time).
fn frames(files: &[PathBuf]) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for path in files {
        let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let (_, r) = decompress(f).with_context(|| format!("reading {}", path.display()))?;
        let mut dec = StreamDecoder::new();
        for rec in RecordReader::new(r).flatten() {
            for m in dec.decode(rec).messages {
                if let Some(s) = frame(&m) {
                    out.push(s);
                }
            }
        }
    }
    anyhow::ensure!(!out.is_empty(), "no UPDATEs in the MRT input");
    Ok(out)
}

fn frame(m: &bgpsentry_core::mrt::Decoded) -> Option<String> {
    let RouteEvent::Update {
        withdrawn,
        announced,
        attrs,
        from_rib: false,
    } = &m.event
    else {
        return None;
    };
    let mut path = String::new();
    let mut next_hop = String::from("0.0.0.0");
    if let Some(a) = attrs {
        for seg in &a.as_path.segments {
            match seg {
                Segment::Sequence(v) | Segment::ConfedSequence(v) => {
                    for asn in v {
                        let _ = write!(path, "{}{}", if path.is_empty() { "" } else { "," }, asn.0);
                    }
                }
                Segment::Set(v) | Segment::ConfedSet(v) => {
                    let set: Vec<String> = v.iter().map(|a| a.0.to_string()).collect();
                    let sep = if path.is_empty() { "" } else { "," };
                    let _ = write!(path, "{sep}[{}]", set.join(","));
                }
            }
        }
        if let Some(nh) = a.next_hop {
            next_hop = nh.to_string();
        }
    }
    let list = |v: &[bgpsentry_core::model::Nlri]| {
        v.iter()
            .map(|n| format!("\"{}\"", n.prefix))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut data = format!(
        "{{\"timestamp\":{{TS}},\"peer\":\"{}\",\"peer_asn\":\"{}\",\"id\":\"bench\",\"host\":\"rrc00\",\"type\":\"UPDATE\"",
        m.peer_ip, m.peer_asn.0
    );
    if !announced.is_empty() {
        let _ = write!(
            data,
            ",\"path\":[{path}],\"origin\":\"IGP\",\"announcements\":[{{\"next_hop\":\"{next_hop}\",\"prefixes\":[{}]}}]",
            list(announced)
        );
    }
    if !withdrawn.is_empty() {
        let _ = write!(data, ",\"withdrawals\":[{}]", list(withdrawn));
    }
    Some(format!("{{\"type\":\"ris_message\",\"data\":{data}}}}}"))
}

/// Serves `frames` in a loop to every client, paced per 10 ms tick.
async fn serve(
    listener: TcpListener,
    frames: Arc<Vec<String>>,
    args: Arc<(u64, u64, u64, u64)>,
    sent: Arc<AtomicU64>,
    stop: watch::Receiver<bool>,
    start_secs: f64,
) {
    let Ok((tcp, _)) = listener.accept().await else {
        return;
    };
    let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let (mut tx, mut rx) = ws.split();
    // The client subscribes first; read and drop its messages in the background.
    tokio::spawn(async move { while let Some(Ok(_)) = rx.next().await {} });
    let (rate, burst, burst_secs, every) = *args;
    let started = Instant::now();
    let mut due = 0f64;
    let mut i = 0usize;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    while !*stop.borrow() {
        tick.tick().await;
        let t = started.elapsed().as_secs_f64();
        let in_burst = every > 0 && (t as u64 % every) < burst_secs;
        let r = if in_burst { rate * burst } else { rate };
        due += r as f64 * 0.01;
        let ts = format!("{:.2}", start_secs + t);
        while due >= 1.0 {
            due -= 1.0;
            let text = frames[i % frames.len()].replacen("{TS}", &ts, 1);
            i += 1;
            if tx.feed(Message::text(text)).await.is_err() {
                return;
            }
            sent.fetch_add(1, Ordering::Relaxed);
        }
        if tx.flush().await.is_err() {
            return;
        }
    }
    let _ = tx.close().await;
}

fn cpu_secs() -> f64 {
    // /proc/self/stat fields 14 and 15: utime and stime in clock ticks (100/s).
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let after = s.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn rss_mib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Runs the bench.
pub fn run(args: &BenchFirehoseArgs) -> anyhow::Result<i32> {
    let frames = Arc::new(frames(&args.mrt)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = rt.block_on(bench(args, frames))?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "firehose: {} distinct frames looped; steady {}/s with {}x bursts",
            report.frames, report.rate, args.burst
        );
        println!(
            "offered {:.0}/s, processed {:.0}/s over {:.1} s; max backlog {} frames, drained {:.2} s after the end",
            report.offered_per_sec,
            report.processed_per_sec,
            report.seconds,
            report.max_backlog,
            report.drain_secs
        );
        println!(
            "CPU {:.1} s = {:.3} cores per 1k updates/s; memory at start {:.0} MiB (frames loaded), peak {:.0} MiB, end {:.0} MiB; {} event changes",
            report.cpu_secs,
            report.cpu_per_1k_per_sec,
            report.start_rss_mib,
            report.peak_rss_mib,
            report.end_rss_mib,
            report.event_changes
        );
    }
    Ok(0)
}

async fn bench(
    args: &BenchFirehoseArgs,
    frames: Arc<Vec<String>>,
) -> anyhow::Result<FirehoseReport> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let sent = Arc::new(AtomicU64::new(0));
    let (stop_srv_tx, stop_srv) = watch::channel(false);
    let start_secs = 1_700_000_000.0;
    let server = tokio::spawn(serve(
        listener,
        frames.clone(),
        Arc::new((args.rate, args.burst, args.burst_secs, args.burst_every)),
        sent.clone(),
        stop_srv,
        start_secs,
    ));
    let cfg = format!(
        "[[source]]\ntype = \"ris-live\"\nname = \"bench\"\nurl = \"ws://{addr}/v1/ws/\"\nstall_secs = 0\nflush_ms = 20\n"
    );
    let source = live::SourcesConfig::from_toml(&cfg)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .source
        .remove(0);
    let health = source.new_health();
    let (tx, mut rx) = mpsc::channel::<LiveItem>(1024);
    let (stop_src_tx, stop_src) = watch::channel(false);
    let src = tokio::spawn(live::run(source, tx, health, stop_src));

    // Detectors on their own thread, as in the daemon.
    let processed = Arc::new(AtomicU64::new(0));
    let p2 = processed.clone();
    let det = std::thread::spawn(move || -> anyhow::Result<u64> {
        let detectors = crate::detectors::build(
            &DetectArgs::default(),
            Arc::new(bgpsentry_core::evidence::Evidence::default()),
        )?;
        let mut sink = DetectSink::new(detectors, Vec::new());
        let mut peers = PeerTable::default();
        while let Some(item) = rx.blocking_recv() {
            if let LiveItem::Batch(b) = item {
                let n = b.feed(&mut peers, &mut sink);
                p2.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
        Ok(sink.finish().1)
    });

    let start_rss_mib = rss_mib("VmRSS:");
    let cpu0 = cpu_secs();
    let t0 = Instant::now();
    let mut max_backlog = 0;
    let end = t0 + Duration::from_secs(args.seconds);
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let s = sent.load(Ordering::Relaxed);
        let p = processed.load(Ordering::Relaxed);
        max_backlog = max_backlog.max(s.saturating_sub(p));
    }
    let seconds = t0.elapsed().as_secs_f64();
    let sent_n = sent.load(Ordering::Relaxed);
    let processed_n = processed.load(Ordering::Relaxed);
    let _ = stop_srv_tx.send(true);
    let _ = server.await;
    // Everything the server sent, including its last tick after the window.
    let sent_total = sent.load(Ordering::Relaxed);
    // Drain: wait until everything sent was processed (bounded).
    let drain0 = Instant::now();
    while processed.load(Ordering::Relaxed) < sent_total
        && drain0.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drain_secs = drain0.elapsed().as_secs_f64();
    let processed_after_drain = processed.load(Ordering::Relaxed);
    let cpu = cpu_secs() - cpu0;
    let _ = stop_src_tx.send(true);
    let _ = src.await;
    let events = det
        .join()
        .map_err(|_| anyhow::anyhow!("detector thread panicked"))??;
    let processed_per_sec = processed_n as f64 / seconds;
    Ok(FirehoseReport {
        frames: frames.len(),
        rate: args.rate,
        sent: sent_n,
        sent_total,
        processed: processed_n,
        processed_after_drain,
        seconds,
        offered_per_sec: sent_n as f64 / seconds,
        processed_per_sec,
        max_backlog,
        drain_secs,
        cpu_secs: cpu,
        cpu_per_1k_per_sec: if processed_per_sec > 0.0 {
            cpu / seconds / (processed_per_sec / 1000.0)
        } else {
            0.0
        },
        peak_rss_mib: rss_mib("VmHWM:"),
        end_rss_mib: rss_mib("VmRSS:"),
        start_rss_mib,
        event_changes: events,
    })
}

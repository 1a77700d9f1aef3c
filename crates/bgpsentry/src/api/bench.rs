//! `bgpsentry bench-api`: fills a store with synthetic events (1M hijacks
//! and 200k leaks by default) if it is empty, serves it on loopback, and
//! measures p50 / p99 latency of typical queries over real HTTP, one
//! request at a time. `scripts/bench-api.sh` adds throughput under `wrk`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bgpsentry_core::model::Timestamp;
use clap::Args;
use rusqlite::params;
use serde::Serialize;

use super::{AppState, Clock, Tokens, serve_on};
use crate::store::synth::{self, Rng};
use crate::store::{ReadPool, Store};

/// `bgpsentry bench-api`.
#[derive(Debug, Args)]
pub struct BenchApiArgs {
    /// The store to fill (if empty) and query.
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    /// Hijack events to generate into an empty store.
    #[arg(long, default_value_t = 1_000_000)]
    pub hijacks: u64,
    /// Leak events to generate into an empty store.
    #[arg(long, default_value_t = 200_000)]
    pub leaks: u64,
    /// Requests per query type.
    #[arg(long, default_value_t = 200)]
    pub iterations: usize,
    /// Read connections of the server.
    #[arg(long, default_value_t = 4)]
    pub readers: usize,
    /// Only generate the store, do not measure.
    #[arg(long)]
    pub generate_only: bool,
    /// Print results as JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// Latency of one query type.
#[derive(Debug, Serialize)]
pub struct Measured {
    /// What was asked.
    pub name: String,
    /// An example URL (path and query).
    pub example: String,
    /// Requests made.
    pub n: usize,
    /// Median, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile, milliseconds.
    pub p99_ms: f64,
    /// Slowest, milliseconds.
    pub max_ms: f64,
    /// Mean `result_info.total_count` (how big the filtered set was).
    pub mean_total: f64,
}

/// Runs the benchmark.
pub fn run(args: &BenchApiArgs) -> anyhow::Result<i32> {
    let mut store =
        Store::open(&args.db).with_context(|| format!("opening {}", args.db.display()))?;
    let have: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM hijacks", [], |r| r.get(0))?;
    if have == 0 {
        let t = Instant::now();
        let now = Timestamp(chrono::Utc::now().timestamp_micros());
        let n = synth::fill(&mut store, args.hijacks, args.leaks, now, 365 * 86_400, 7)?;
        store.analyze()?;
        eprintln!("generated {n} events in {:.1}s", t.elapsed().as_secs_f64());
    }
    if args.generate_only {
        return Ok(crate::run::EXIT_COMPLETE);
    }
    let samples = Samples::load(&store)?;
    drop(store);
    // Worst case: no total_count cache, every count is computed.
    let pool = ReadPool::open_with(&args.db, args.readers, false)?;
    let state = AppState::new(pool, Tokens::default(), Clock::Wall);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let results = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_on(listener, state, async {
            let _ = rx.await;
        }));
        let out = measure_all(&base, &samples, args.iterations).await;
        let _ = tx.send(());
        let _ = server.await;
        out
    })?;
    for m in &results {
        if args.json {
            println!("{}", serde_json::to_string(m)?);
        }
    }
    if !args.json {
        println!(
            "{:<44} {:>6} {:>9} {:>9} {:>9} {:>10}",
            "query", "n", "p50 ms", "p99 ms", "max ms", "matches"
        );
        for m in &results {
            println!(
                "{:<44} {:>6} {:>9.2} {:>9.2} {:>9.2} {:>10.0}",
                m.name, m.n, m.p50_ms, m.p99_ms, m.max_ms, m.mean_total
            );
        }
    }
    Ok(crate::run::EXIT_COMPLETE)
}

/// Filter values drawn from the stored data.
struct Samples {
    busy_asns: Vec<u32>,
    asns: Vec<u32>,
    prefixes: Vec<String>,
    leak_asns: Vec<u32>,
    max_id: i64,
}

impl Samples {
    fn load(store: &Store) -> anyhow::Result<Samples> {
        let c = store.connection();
        let list = |sql: &str| -> anyhow::Result<Vec<u32>> {
            let mut st = c.prepare(sql)?;
            let rows = st.query_map([], |r| r.get::<_, i64>(0))?;
            Ok(rows.filter_map(|r| r.ok()).map(|v| v as u32).collect())
        };
        let busy_asns = list(
            "SELECT hijacker_asn FROM hijacks GROUP BY hijacker_asn ORDER BY count(*) DESC LIMIT 20",
        )?;
        let mut rng = Rng::new(99);
        let asns = (0..200).map(|_| rng.asn().0).collect();
        let leak_asns = list("SELECT leak_asn FROM leaks ORDER BY random() LIMIT 200")?;
        let mut prefixes = Vec::new();
        let mut st = c.prepare(
            "SELECT prefix FROM event_prefixes WHERE kind = 0 AND event_id = ?1 LIMIT 1",
        )?;
        let max_id: i64 =
            c.query_row("SELECT coalesce(max(id), 0) FROM hijacks", [], |r| r.get(0))?;
        for _ in 0..200 {
            let id = 1 + rng.below(max_id.max(1) as u64) as i64;
            if let Ok(p) = st.query_row(params![id], |r| r.get::<_, String>(0)) {
                prefixes.push(p);
            }
        }
        if busy_asns.is_empty() || prefixes.is_empty() || leak_asns.is_empty() {
            bail!("the store holds no hijacks or leaks to query");
        }
        Ok(Samples {
            busy_asns,
            asns,
            prefixes,
            leak_asns,
            max_id,
        })
    }
}

fn pick<T: Clone>(xs: &[T], i: usize) -> T {
    xs[i % xs.len()].clone()
}

/// The covering /16 (IPv4) or /40 (IPv6) of a prefix: a "my address
/// block" query with a few hundred to a few thousand matches.
fn block_of(p: &str) -> String {
    match p.parse::<ipnet::IpNet>() {
        Ok(net) => {
            let len = if net.addr().is_ipv4() { 16 } else { 40 };
            ipnet::IpNet::new(net.network(), len)
                .map(|n| n.trunc().to_string())
                .unwrap_or_else(|_| p.to_string())
        }
        Err(_) => p.to_string(),
    }
}

type UrlFn<'a> = Box<dyn Fn(usize) -> String + 'a>;

async fn measure_all(base: &str, s: &Samples, n: usize) -> anyhow::Result<Vec<Measured>> {
    let n = n.max(1);
    let h = "/client/v4/radar/bgp/hijacks/events";
    let l = "/client/v4/radar/bgp/leaks/events";
    let end = chrono::Utc::now();
    let fmt = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let start30 = fmt(end - chrono::Duration::days(60));
    let end30 = fmt(end - chrono::Duration::days(30));
    let cases: Vec<(&str, UrlFn<'_>)> = vec![
        (
            "hijacks, no filter, per_page=100",
            Box::new(|_| format!("{h}?per_page=100")),
        ),
        (
            "alert app: busy involvedAsn page 1",
            Box::new(|i| {
                format!(
                    "{h}?per_page=10&page=1&involvedAsn={}&sortBy=ID&sortOrder=DESC",
                    pick(&s.busy_asns, i)
                )
            }),
        ),
        (
            "alert app: random involvedAsn page 3",
            Box::new(|i| {
                format!(
                    "{h}?per_page=10&page=3&involvedAsn={}&sortBy=ID&sortOrder=DESC",
                    pick(&s.asns, i)
                )
            }),
        ),
        (
            "hijackerAsn (busy), per_page=100",
            Box::new(|i| format!("{h}?hijackerAsn={}&per_page=100", pick(&s.busy_asns, i))),
        ),
        (
            "victimAsn (random)",
            Box::new(|i| format!("{h}?victimAsn={}", pick(&s.asns, i))),
        ),
        (
            "prefix exact",
            Box::new(|i| format!("{h}?prefix={}", pick(&s.prefixes, i))),
        ),
        (
            "prefix covering",
            Box::new(|i| format!("{h}?prefix={}&prefixMatch=covering", pick(&s.prefixes, i))),
        ),
        (
            "prefix more-specific of the /16",
            Box::new(|i| {
                format!(
                    "{h}?prefix={}&prefixMatch=more-specific",
                    block_of(&pick(&s.prefixes, i))
                )
            }),
        ),
        (
            "minConfidence=8, per_page=100",
            Box::new(|_| format!("{h}?minConfidence=8&per_page=100")),
        ),
        (
            "sortBy=CONFIDENCE DESC, minConfidence=5",
            Box::new(|i| format!("{h}?sortBy=CONFIDENCE&minConfidence=5&page={}", 1 + i % 10)),
        ),
        (
            "dateRange=7d sortBy=TIME",
            Box::new(|_| format!("{h}?dateRange=7d&sortBy=TIME")),
        ),
        (
            "dateStart/dateEnd 30 days",
            Box::new(|_| format!("{h}?dateStart={start30}&dateEnd={end30}")),
        ),
        (
            "involvedCountry=US",
            Box::new(|_| format!("{h}?involvedCountry=US&per_page=50")),
        ),
        (
            "busy involvedAsn + minConfidence=8",
            Box::new(|i| {
                format!(
                    "{h}?involvedAsn={}&minConfidence=8&per_page=10",
                    pick(&s.busy_asns, i)
                )
            }),
        ),
        (
            "deep page 1000 (offset 100k)",
            Box::new(|_| format!("{h}?page=1000&per_page=100")),
        ),
        (
            "deep page 5000 (offset 500k)",
            Box::new(|_| format!("{h}?page=5000&per_page=100")),
        ),
        (
            "deep page minConfidence=8 page 2000",
            Box::new(|_| format!("{h}?minConfidence=8&page=2000&per_page=100")),
        ),
        (
            "CSV, per_page=100",
            Box::new(|_| format!("{h}?format=CSV&per_page=100")),
        ),
        (
            "hijack detail by id",
            Box::new(|i| format!("{h}/{}", 1 + (i as i64 * 7919) % s.max_id.max(1))),
        ),
        (
            "leaks, no filter",
            Box::new(|_| format!("{l}?per_page=100")),
        ),
        (
            "leaks involvedAsn sortBy=LEAKS",
            Box::new(|i| format!("{l}?involvedAsn={}&sortBy=LEAKS", pick(&s.leak_asns, i))),
        ),
        (
            "leaks leakAsn",
            Box::new(|i| format!("{l}?leakAsn={}", pick(&s.leak_asns, i))),
        ),
        (
            "leaks deep page 1000 sortBy=PEERS",
            Box::new(|_| format!("{l}?sortBy=PEERS&page=1000&per_page=100")),
        ),
    ];
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut out = Vec::new();
    for (name, url) in &cases {
        for i in 0..5 {
            client
                .get(format!("{base}{}", url(i)))
                .send()
                .await?
                .bytes()
                .await?;
        }
        let mut times = Vec::with_capacity(n);
        let mut totals = 0f64;
        for i in 0..n {
            let u = format!("{base}{}", url(i));
            let t = Instant::now();
            let resp = client.get(&u).send().await?;
            let status = resp.status();
            let body = resp.bytes().await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            if !status.is_success() {
                bail!("{u}: HTTP {status}: {}", String::from_utf8_lossy(&body));
            }
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
                totals += v["result_info"]["total_count"].as_f64().unwrap_or(0.0);
            }
        }
        times.sort_by(f64::total_cmp);
        let q = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
        out.push(Measured {
            name: name.to_string(),
            example: url(0),
            n,
            p50_ms: q(0.5),
            p99_ms: q(0.99),
            max_ms: times.last().copied().unwrap_or(0.0),
            mean_total: totals / n.max(1) as f64,
        });
    }
    Ok(out)
}

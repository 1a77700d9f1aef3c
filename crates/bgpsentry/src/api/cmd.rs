//! `bgpsentry serve`: the arguments and the start-up rules (open only on
//! loopback without tokens, unless `--insecure-public`), retention, and a
//! graceful shutdown on Ctrl-C / SIGTERM, bounded by `--shutdown-grace-secs`
//! (see [`super::server`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use bgpsentry_core::model::Timestamp;
use clap::Args;

use super::server::HttpLimits;
use super::{AppState, Clock, Tokens, serve_limited};
use crate::store::{ReadPool, Store};

/// `bgpsentry serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The event store (SQLite file; created and migrated if needed).
    #[arg(long, env = "BGPSENTRY_DB", value_name = "PATH")]
    pub db: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// An accepted bearer token (repeatable). Prefer --token-file or
    /// BGPSENTRY_API_TOKENS: command lines are visible to other users.
    #[arg(long = "token", value_name = "TOKEN")]
    pub tokens: Vec<String>,
    /// Accepted bearer tokens, separated by commas or whitespace.
    #[arg(
        long,
        env = "BGPSENTRY_API_TOKENS",
        hide_env_values = true,
        value_name = "TOKENS"
    )]
    pub api_tokens: Option<String>,
    /// A file with one accepted token per line (`#` starts a comment).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Allow serving without tokens on a non-loopback address.
    #[arg(long)]
    pub insecure_public: bool,
    /// Read connections (concurrent queries).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub readers: usize,
    /// Delete finished events whose last message is older than this many
    /// days (checked hourly). Ongoing events are kept.
    #[arg(long, value_name = "DAYS")]
    pub retention_days: Option<u32>,
    /// Use this instant as "now" for dateRange (replays of old data).
    #[arg(long, value_name = "DATETIME")]
    pub now: Option<String>,
    /// Connection limit and timeouts of the HTTP server.
    #[command(flatten)]
    pub http: HttpLimits,
}

impl ServeArgs {
    /// All configured tokens.
    pub fn tokens(&self) -> anyhow::Result<Tokens> {
        let mut all: Vec<String> = self.tokens.clone();
        if let Some(s) = &self.api_tokens {
            all.extend(s.split([',', ' ', '\n', '\t']).map(str::to_string));
        }
        if let Some(p) = &self.token_file {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading token file {}", p.display()))?;
            all.extend(
                text.lines()
                    .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
                    .filter(|l| !l.is_empty()),
            );
        }
        if all
            .iter()
            .any(|t| !t.trim().is_empty() && t.trim().len() < 16)
        {
            tracing::warn!("a bearer token is shorter than 16 characters; use long random tokens");
        }
        Ok(Tokens::new(all))
    }
}

/// Refuses an open API on a non-loopback address unless told to.
pub fn check_exposure(
    listen: &SocketAddr,
    tokens: &Tokens,
    insecure_public: bool,
) -> anyhow::Result<()> {
    if tokens.is_empty() && !listen.ip().is_loopback() && !insecure_public {
        bail!(
            "refusing to serve without tokens on non-loopback address {listen}; \
             give --token/--token-file/BGPSENTRY_API_TOKENS, listen on 127.0.0.1, \
             or pass --insecure-public"
        );
    }
    Ok(())
}

/// Runs `bgpsentry serve` to completion; returns the exit code.
pub fn run(args: &ServeArgs) -> anyhow::Result<i32> {
    args.http.validate().map_err(anyhow::Error::msg)?;
    let tokens = args.tokens()?;
    check_exposure(&args.listen, &tokens, args.insecure_public)?;
    let clock = match &args.now {
        None => Clock::Wall,
        Some(s) => Clock::Fixed(
            Timestamp::parse(s).with_context(|| format!("--now: not a date-time: {s:?}"))?,
        ),
    };
    let store =
        Store::open(&args.db).with_context(|| format!("opening store {}", args.db.display()))?;
    let pool = ReadPool::open(&args.db, args.readers).context("opening read connections")?;
    let state = AppState::new(pool, tokens, clock);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("binding {}", args.listen))?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, auth = !state.tokens.is_empty(), "serving the Radar-compatible API");
        eprintln!("bgpsentry: listening on http://{addr}");
        if let Some(days) = args.retention_days {
            tokio::spawn(retention(store, days));
        } else {
            drop(store);
        }
        serve_limited(listener, state, &args.http, shutdown_signal())
            .await
            .context("serving")?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(crate::run::EXIT_COMPLETE)
}

async fn retention(store: Store, days: u32) {
    let store = Arc::new(std::sync::Mutex::new(store));
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let store = store.clone();
        let cutoff =
            Timestamp(chrono::Utc::now().timestamp_micros()).add_secs(-i64::from(days) * 86_400);
        let res = tokio::task::spawn_blocking(move || match store.lock() {
            Ok(mut s) => s.prune(cutoff).map_err(|e| e.to_string()),
            Err(_) => Err("store lock poisoned".to_string()),
        })
        .await;
        match res {
            Ok(Ok(n)) if n > 0 => tracing::info!(removed = n, "retention pruned old events"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "retention failed"),
            Err(e) => tracing::error!(error = %e, "retention task failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

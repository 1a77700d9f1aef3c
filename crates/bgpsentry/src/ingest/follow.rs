//! MRT follow mode: watch a directory that a mirror of RouteViews / RIS
//! archives (or a collector's own MRT dumps) fills, and ingest every new
//! update file once, as it appears.
//!
//! Each poll lists the directory (recursively, so `YYYY.MM/UPDATES/` layouts
//! work), keeps names that start with `prefix` (default `updates`, which
//! also matches RIS's `updates.20240101.0000.gz` and RouteViews'
//! `updates.20240101.0000.bz2`) and are not hidden or `.tmp`/`.part`, and
//! takes a file once its size and modification time have not changed for
//! `settle_secs` (a mirror may still be writing it). Files are ingested in
//! name order — archive names sort by time — on a blocking thread, through the
//! same decompress → frame → decode path as `replay`.
//!
//! What was ingested is remembered in memory and, with `state_file`, on disk
//! (one path per line, appended as each file finishes), so a restart does not
//! ingest a file twice. `start = "new"` (default) skips the files present at
//! the first poll when there is no state yet; `start = "all"` takes them too.
//!
//! Instead of `dir`, the source can poll a remote archive: `url` (an HTTP
//! index page such as RouteViews' `bgpdata/{YYYY}.{MM}/UPDATES/`) or
//! `broker` (a bgpkit-broker instance); see `follow_remote`. Remote files
//! are streamed over HTTP while they are decoded, never saved whole; their
//! listing is taken as complete (no settling), and a failing listing is a
//! gap like an unreadable directory.
//!
//! Message time is the MRT record's timestamp.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use bgpsentry_core::mrt::{Decoded, RecordReader, StreamDecoder, decompress};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::health::{SourceHealth, now_ts};
use super::inputs::Input;
use super::live::{BATCH, LiveBatch, LiveItem, Out, Shutdown, SourceError, stopped};

fn default_prefix() -> String {
    "updates".into()
}
fn default_poll() -> u64 {
    30
}
fn default_settle() -> u64 {
    5
}
fn default_lookback() -> u64 {
    7200
}
fn default_timeout() -> u64 {
    120
}

/// Which files the first poll takes when there is no state yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FollowStart {
    /// Only files that appear after the first poll.
    #[default]
    New,
    /// Every matching file already there too.
    All,
}

/// `[[source]] type = "mrt-follow"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowConfig {
    /// Name of the source (metrics label); default `mrt-follow`.
    pub name: Option<String>,
    /// The directory to watch (or `url`, or `broker`).
    pub dir: Option<PathBuf>,
    /// An HTTP index page listing update files; `{YYYY}` / `{MM}` stand for
    /// the current (and previous) month.
    pub url: Option<String>,
    /// A bgpkit-broker API base, e.g. `https://api.bgpkit.com/v3/broker`.
    pub broker: Option<String>,
    /// With `broker`: how far back each poll asks for files, seconds.
    #[serde(default = "default_lookback")]
    pub broker_lookback_secs: u64,
    /// Give up on a listing or a download that stalls this long, seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// File names must start with this.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Collector name; default: guessed per file from its path (`rrc00`,
    /// `route-views2`, else the parent directory).
    pub collector: Option<String>,
    /// Seconds between polls.
    #[serde(default = "default_poll")]
    pub poll_secs: u64,
    /// A file is taken once unchanged for this long.
    #[serde(default = "default_settle")]
    pub settle_secs: u64,
    /// What the first poll takes.
    #[serde(default)]
    pub start: FollowStart,
    /// Where to remember the files ingested (survives restarts).
    pub state_file: Option<PathBuf>,
    /// Health turns "blind" after this much silence (0 = only when the
    /// directory cannot be read).
    #[serde(default)]
    pub blind_after_secs: u64,
}

impl FollowConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.poll_secs == 0 {
            return Err("poll_secs must be at least 1".into());
        }
        let given = [
            self.dir.is_some(),
            self.url.is_some(),
            self.broker.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err("give exactly one of dir, url and broker".into());
        }
        for u in [&self.url, &self.broker].into_iter().flatten() {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(format!("{u:?} is not an http(s) URL"));
            }
        }
        Ok(())
    }

    /// What is followed, for logs.
    fn what(&self) -> String {
        match (&self.dir, &self.url, &self.broker) {
            (Some(d), _, _) => d.display().to_string(),
            (_, Some(u), _) => u.clone(),
            (_, _, Some(b)) => b.clone(),
            _ => String::new(),
        }
    }

    /// Lists the candidate files: (path or URL, size, mtime, collector).
    fn list(&self) -> Result<Vec<Listed>, String> {
        if let Some(dir) = &self.dir {
            return list(dir, &self.prefix)
                .map(|v| v.into_iter().map(|(p, s, m)| (p, s, m, None)).collect())
                .map_err(|e| e.to_string());
        }
        let timeout = Duration::from_secs(self.timeout_secs.max(1));
        let files = if let Some(u) = &self.url {
            let prefix = self.prefix.clone();
            super::follow_remote::list_index(u, &move |n: &str| wanted(n, &prefix), timeout)?
        } else if let Some(b) = &self.broker {
            super::follow_remote::list_broker(
                b,
                self.collector.as_deref(),
                i64::try_from(self.broker_lookback_secs).unwrap_or(i64::MAX),
                timeout,
            )?
        } else {
            Vec::new()
        };
        Ok(files
            .into_iter()
            .map(|f| (PathBuf::from(f.url), 0, SystemTime::UNIX_EPOCH, f.collector))
            .collect())
    }
}

/// A listed file: path or URL, size, mtime, collector (from a broker).
type Listed = (PathBuf, u64, SystemTime, Option<String>);

fn is_url(p: &Path) -> bool {
    let s = p.to_string_lossy();
    s.starts_with("http://") || s.starts_with("https://")
}

fn wanted(name: &str, prefix: &str) -> bool {
    !name.starts_with('.')
        && name.starts_with(prefix)
        && !name.ends_with(".tmp")
        && !name.ends_with(".part")
}

/// Lists candidate files (at most 4 directory levels deep), with size and mtime.
fn list(dir: &Path, prefix: &str) -> std::io::Result<Vec<(PathBuf, u64, SystemTime)>> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0u8)];
    while let Some((d, depth)) = stack.pop() {
        let rd = match std::fs::read_dir(&d) {
            Ok(rd) => rd,
            Err(e) if depth == 0 => return Err(e),
            Err(_) => continue,
        };
        for e in rd.flatten() {
            let Ok(md) = e.metadata() else { continue };
            let p = e.path();
            if md.is_dir() {
                if depth < 4 {
                    stack.push((p, depth + 1));
                }
            } else if md.is_file() && wanted(&e.file_name().to_string_lossy(), prefix) {
                out.push((p, md.len(), md.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn load_state(path: &Path) -> Option<HashSet<PathBuf>> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .collect(),
    )
}

fn remember(state: Option<&Path>, file: &Path) {
    let Some(state) = state else { return };
    let res = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(state)
        .and_then(|mut f| writeln!(f, "{}", file.display()));
    if let Err(e) = res {
        tracing::warn!(state = %state.display(), error = %e, "cannot record an ingested file");
    }
}

/// Decodes one file into batches (blocking; runs on a blocking thread).
/// Returns (messages, damaged records) or an error that stopped it.
fn ingest_file(
    path: &Path,
    collector: Arc<str>,
    source: Arc<str>,
    tx: &mpsc::Sender<LiveItem>,
    health: &SourceHealth,
    stall: Duration,
) -> Result<(u64, u64), String> {
    let input = if is_url(path) {
        Input::Url(path.to_string_lossy().into_owned())
    } else {
        Input::File(path.to_path_buf())
    };
    let raw = super::inputs::open(&input, Arc::default(), stall).map_err(|e| e.to_string())?;
    let (_, dec) = decompress(raw).map_err(|e| e.to_string())?;
    let mut reader = RecordReader::new(dec);
    let mut decoder = StreamDecoder::new();
    let mut batch: Vec<Decoded> = Vec::with_capacity(BATCH);
    let (mut n, mut damaged) = (0u64, 0u64);
    let send = |batch: &mut Vec<Decoded>| -> Result<(), String> {
        if batch.is_empty() {
            return Ok(());
        }
        let messages = std::mem::replace(batch, Vec::with_capacity(BATCH));
        tx.blocking_send(LiveItem::Batch(LiveBatch {
            source: source.clone(),
            collector: collector.clone(),
            messages,
        }))
        .map_err(|_| "receiver gone".to_string())
    };
    for item in reader.by_ref() {
        match item {
            Ok(rec) => {
                let out = decoder.decode(rec);
                damaged += out.damage.len() as u64;
                for m in out.messages {
                    let (a, w) = match &m.event {
                        bgpsentry_core::model::RouteEvent::Update {
                            announced,
                            withdrawn,
                            ..
                        } => (announced.len(), withdrawn.len()),
                        _ => (0, 0),
                    };
                    health.message(m.ts, a, w);
                    n += 1;
                    batch.push(m);
                }
                if batch.len() >= BATCH {
                    send(&mut batch)?;
                }
            }
            Err(_) => damaged += 1,
        }
    }
    send(&mut batch)?;
    Ok((n, damaged))
}

/// Runs follow mode until shutdown.
pub async fn run(
    cfg: FollowConfig,
    name: Arc<str>,
    tx: mpsc::Sender<LiveItem>,
    health: Arc<SourceHealth>,
    mut shutdown: Shutdown,
) -> Result<(), SourceError> {
    let mut done: HashSet<PathBuf> = HashSet::new();
    let mut first = true;
    if let Some(s) = cfg.state_file.as_deref().and_then(load_state) {
        done = s;
        first = false;
    }
    // path -> (size, mtime, first seen unchanged at)
    let mut pending: HashMap<PathBuf, (u64, SystemTime, std::time::Instant)> = HashMap::new();
    let mut out = Out::new(name.clone(), tx.clone(), health.clone());
    let mut outage: Option<(bgpsentry_core::model::Timestamp, String)> = None;
    let settle = Duration::from_secs(cfg.settle_secs);
    loop {
        let c2 = cfg.clone();
        let listing = tokio::task::spawn_blocking(move || c2.list())
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
        match listing {
            Err(e) => {
                health.connections.store(0, Ordering::Relaxed);
                health.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(source = %name, followed = %cfg.what(), error = %e, "cannot list the followed archive");
                if outage.is_none() {
                    let why = format!("listing failed: {e}");
                    let since = now_ts();
                    if out.gap_start(since, &why).await.is_err() {
                        return Ok(());
                    }
                    outage = Some((since, why));
                }
            }
            Ok(files) => {
                health.connections.store(1, Ordering::Relaxed);
                if let Some((from, why)) = outage.take()
                    && out.gap_end(from, now_ts(), &why).await.is_err()
                {
                    return Ok(());
                }
                let present: HashSet<&PathBuf> = files.iter().map(|f| &f.0).collect();
                done.retain(|p| present.contains(p) || cfg.state_file.is_some());
                pending.retain(|p, _| present.contains(p));
                if first && cfg.start == FollowStart::New {
                    for (p, _, _, _) in &files {
                        done.insert(p.clone());
                        remember(cfg.state_file.as_deref(), p);
                    }
                }
                first = false;
                let remote = cfg.dir.is_none();
                for (path, size, mtime, from_broker) in files {
                    if done.contains(&path) {
                        continue;
                    }
                    let now = std::time::Instant::now();
                    let e = pending.entry(path.clone()).or_insert((size, mtime, now));
                    if e.0 != size || e.1 != mtime {
                        *e = (size, mtime, now);
                    }
                    // A remote listing shows published files only.
                    if !remote && now.duration_since(e.2) < settle {
                        continue;
                    }
                    pending.remove(&path);
                    let collector: Arc<str> = cfg
                        .collector
                        .clone()
                        .or(from_broker)
                        .unwrap_or_else(|| {
                            if is_url(&path) {
                                Input::Url(path.to_string_lossy().into_owned()).collector_guess()
                            } else {
                                Input::File(path.clone()).collector_guess()
                            }
                        })
                        .into();
                    let stall = Duration::from_secs(cfg.timeout_secs.max(1));
                    let (p2, src, tx2, h2) =
                        (path.clone(), name.clone(), tx.clone(), health.clone());
                    let res = tokio::task::spawn_blocking(move || {
                        ingest_file(&p2, collector, src, &tx2, &h2, stall)
                    })
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()));
                    match res {
                        Ok((n, damaged)) => {
                            health.files.fetch_add(1, Ordering::Relaxed);
                            health.malformed.fetch_add(damaged, Ordering::Relaxed);
                            tracing::info!(source = %name, file = %path.display(), messages = n, damaged, "MRT file ingested");
                        }
                        Err(e) if e == "receiver gone" => return Ok(()),
                        Err(e) => {
                            health.malformed.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(source = %name, file = %path.display(), error = %e, "MRT file unreadable; skipped");
                        }
                    }
                    done.insert(path.clone());
                    remember(cfg.state_file.as_deref(), &path);
                    if *shutdown.borrow() {
                        return Ok(());
                    }
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(cfg.poll_secs)) => {}
            _ = stopped(&mut shutdown) => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(wanted("updates.20240101.0000.bz2", "updates"));
        assert!(!wanted(".updates.20240101.0000.bz2", "updates"));
        assert!(!wanted("updates.20240101.0000.bz2.part", "updates"));
        assert!(!wanted("bview.20240101.0000.gz", "updates"));
    }
}

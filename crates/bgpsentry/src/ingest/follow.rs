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
//! Message time is the MRT record's timestamp. Polling a remote HTTP index
//! or bgpkit-broker is not implemented: mirror the archive into a directory
//! (e.g. with `rsync` or `wget --mirror`) and point this source at it.

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
    /// The directory to watch.
    pub dir: PathBuf,
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
        Ok(())
    }
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
) -> Result<(u64, u64), String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let (_, dec) = decompress(f).map_err(|e| e.to_string())?;
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
        let dir = cfg.dir.clone();
        let prefix = cfg.prefix.clone();
        let listing = tokio::task::spawn_blocking(move || list(&dir, &prefix))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
        match listing {
            Err(e) => {
                health.connections.store(0, Ordering::Relaxed);
                health.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(source = %name, dir = %cfg.dir.display(), error = %e, "cannot list the followed directory");
                if outage.is_none() {
                    let why = format!("directory unreadable: {e}");
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
                    for (p, _, _) in &files {
                        done.insert(p.clone());
                        remember(cfg.state_file.as_deref(), p);
                    }
                }
                first = false;
                for (path, size, mtime) in files {
                    if done.contains(&path) {
                        continue;
                    }
                    let now = std::time::Instant::now();
                    let e = pending.entry(path.clone()).or_insert((size, mtime, now));
                    if e.0 != size || e.1 != mtime {
                        *e = (size, mtime, now);
                    }
                    if now.duration_since(e.2) < settle {
                        continue;
                    }
                    pending.remove(&path);
                    let collector: Arc<str> = cfg
                        .collector
                        .clone()
                        .unwrap_or_else(|| Input::File(path.clone()).collector_guess())
                        .into();
                    let (p2, src, tx2, h2) =
                        (path.clone(), name.clone(), tx.clone(), health.clone());
                    let res = tokio::task::spawn_blocking(move || {
                        ingest_file(&p2, collector, src, &tx2, &h2)
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

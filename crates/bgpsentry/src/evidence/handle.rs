//! The current evidence snapshot, shared by every detector thread and
//! replaced atomically on refresh. Readers take a cheap guard and keep a
//! consistent snapshot for as long as they hold it; a refresh builds the
//! next snapshot off-thread and swaps it in only if it loaded completely
//! and looks sane compared with the last good one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::bail;
use arc_swap::{ArcSwap, Guard};
use bgpsentry_core::evidence::Evidence;

use super::args::EvidenceArgs;
use super::load::load_with_reports;

/// A refreshed table that lost more than this share of its records
/// compared with the last good snapshot is refused (a trust anchor that
/// suddenly lost most of its ROAs, a truncated dump).
pub const MAX_SHRINK: f64 = 0.5;

/// Shared, atomically replaceable evidence. Clone it freely.
#[derive(Debug, Clone)]
pub struct EvidenceHandle {
    current: Arc<ArcSwap<Evidence>>,
}

impl Default for EvidenceHandle {
    fn default() -> Self {
        Self::new(Evidence::default())
    }
}

impl EvidenceHandle {
    pub fn new(e: Evidence) -> Self {
        EvidenceHandle {
            current: Arc::new(ArcSwap::from_pointee(e)),
        }
    }

    /// The current snapshot, for a lookup or a batch (lock-free, cheap).
    pub fn load(&self) -> Guard<Arc<Evidence>> {
        self.current.load()
    }

    /// The current snapshot as an owned `Arc`, to keep across a long job.
    pub fn snapshot(&self) -> Arc<Evidence> {
        self.current.load_full()
    }

    /// Replace the snapshot unconditionally.
    pub fn store(&self, e: Evidence) {
        self.current.store(Arc::new(e));
    }

    /// Load a new snapshot from `args` and swap it in if it passes
    /// [`sanity_check`] against the current one. On error the current
    /// snapshot stays and the error says why.
    pub fn refresh(&self, args: &EvidenceArgs) -> anyhow::Result<()> {
        let loaded = load_with_reports(args)?;
        let old = self.snapshot();
        sanity_check(&old, &loaded.evidence)?;
        self.store(loaded.evidence);
        tracing::info!(
            elapsed_ms = loaded.elapsed.as_millis() as u64,
            "evidence refreshed"
        );
        Ok(())
    }

    /// Refresh every `every` on a background thread until `stop` is set.
    /// Failures are logged and the last good snapshot kept.
    pub fn spawn_refresh(
        &self,
        args: EvidenceArgs,
        every: Duration,
        stop: Arc<AtomicBool>,
    ) -> std::io::Result<JoinHandle<()>> {
        let me = self.clone();
        std::thread::Builder::new()
            .name("evidence-refresh".into())
            .spawn(move || {
                let tick = Duration::from_millis(200).min(every);
                let mut waited = Duration::ZERO;
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    waited += tick;
                    if waited < every {
                        continue;
                    }
                    waited = Duration::ZERO;
                    if let Err(e) = me.refresh(&args) {
                        tracing::warn!(
                            "evidence refresh failed, keeping the last good snapshot: {e:#}"
                        );
                    }
                }
            })
    }
}

fn shrunk(what: &str, old: usize, new: usize) -> anyhow::Result<()> {
    if old >= 100 && (new as f64) < (old as f64) * (1.0 - MAX_SHRINK) {
        bail!("{what} shrank from {old} to {new} records; refusing the new snapshot");
    }
    Ok(())
}

/// Refuse a new snapshot whose tables collapsed compared with the old one.
pub fn sanity_check(old: &Evidence, new: &Evidence) -> anyhow::Result<()> {
    shrunk("RPKI", old.rpki.len(), new.rpki.len())?;
    shrunk("IRR", old.irr.len(), new.irr.len())?;
    shrunk("AS relationships", old.asrel.len(), new.asrel.len())?;
    shrunk("as2org", old.orgs.len(), new.orgs.len())?;
    Ok(())
}

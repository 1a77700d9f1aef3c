//! [`StoreSink`]: the store as a pipeline [`ChangeSink`]. Changes are
//! buffered and written in batches (one transaction each), when the batch
//! is full, when a second has passed since the last commit, and at
//! [`StoreSink::finish`]. A `kill -9` therefore loses at most the changes
//! buffered since the last commit.

use std::time::{Duration, Instant};

use bgpsentry_core::model::EventChange;

use super::Store;
use super::error::{Result, StoreError};
use crate::pipeline::ChangeSink;

/// Default changes per transaction.
pub const DEFAULT_BATCH: usize = 1000;
/// Longest time a change waits in the buffer while changes keep coming.
const MAX_DELAY: Duration = Duration::from_secs(1);

/// A batching writer.
#[derive(Debug)]
pub struct StoreSink {
    store: Store,
    buf: Vec<EventChange>,
    batch: usize,
    last_commit: Instant,
    committed: u64,
    error: Option<StoreError>,
}

impl StoreSink {
    /// Writes into `store`, `batch` changes per transaction (0 means the
    /// default).
    pub fn new(store: Store, batch: usize) -> Self {
        let batch = if batch == 0 { DEFAULT_BATCH } else { batch };
        StoreSink {
            store,
            buf: Vec::with_capacity(batch),
            batch,
            last_commit: Instant::now(),
            committed: 0,
            error: None,
        }
    }

    /// Commits what is buffered.
    pub fn flush(&mut self) -> Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if !self.buf.is_empty() {
            self.store.apply_batch(&self.buf)?;
            self.committed += self.buf.len() as u64;
            self.buf.clear();
        }
        self.last_commit = Instant::now();
        Ok(())
    }

    /// Changes committed so far.
    pub fn committed(&self) -> u64 {
        self.committed
    }

    /// Commits the rest and hands the store back with the number of changes
    /// written; the first write error, if any, instead.
    pub fn finish(mut self) -> Result<(Store, u64)> {
        self.flush()?;
        Ok((self.store, self.committed))
    }
}

impl ChangeSink for StoreSink {
    fn change(&mut self, change: &EventChange) {
        if self.error.is_some() {
            return;
        }
        self.buf.push(change.clone());
        let due = self.buf.len() >= self.batch || self.last_commit.elapsed() >= MAX_DELAY;
        if due && let Err(e) = self.flush() {
            tracing::error!(error = %e, "writing events to the store failed; further changes are dropped");
            self.buf.clear();
            self.error = Some(e);
        }
    }
}

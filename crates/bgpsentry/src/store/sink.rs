//! [`StoreSink`]: the store as a pipeline [`ChangeSink`]. Changes are
//! buffered and written in batches (one transaction each), when the batch
//! is full, when a second has passed since the last commit, and at
//! [`StoreSink::finish`]. A `kill -9` therefore loses at most the changes
//! buffered since the last commit.
//!
//! Every change gets its event's store id first ([`IdMap`]): an event the
//! store already holds (same natural key) keeps its row, any other gets an
//! id above the store's largest, so a run never overwrites another's events
//! and the same inputs written again leave the same rows (the history rows
//! too: each carries its [`DupCounter`] number).

use std::time::{Duration, Instant};

use bgpsentry_core::model::{ChangeKind, Event, EventChange};

use super::Store;
use super::error::{Result, StoreError};
use super::ids::{self, DupCounter, IdMap};
use super::rows::{KIND_HIJACK, KIND_LEAK};
use crate::pipeline::ChangeSink;

/// Default changes per transaction.
pub const DEFAULT_BATCH: usize = 1000;
/// Longest time a change waits in the buffer while changes keep coming.
const MAX_DELAY: Duration = Duration::from_secs(1);

/// A batching writer.
#[derive(Debug)]
pub struct StoreSink {
    store: Store,
    buf: Vec<(EventChange, u32)>,
    ids: IdMap,
    dups: DupCounter,
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
            ids: IdMap::new(),
            dups: DupCounter::default(),
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
            self.store.apply_numbered(&self.buf)?;
            self.committed += self.buf.len() as u64;
            self.buf.clear();
        }
        self.last_commit = Instant::now();
        Ok(())
    }

    /// Buffers one change under its event's store id and returns it as
    /// stored (what the alerter and reports must use); `None` once writing
    /// has failed (the change is dropped).
    pub fn record(&mut self, change: &EventChange) -> Option<EventChange> {
        if self.error.is_some() {
            return None;
        }
        let mut c = change.clone();
        if let Err(e) = self.ids.assign(self.store.connection(), &mut c) {
            self.fail(e);
            return None;
        }
        let dup = self.dups.next(&c);
        self.buf.push((c.clone(), dup));
        let due = self.buf.len() >= self.batch || self.last_commit.elapsed() >= MAX_DELAY;
        if due && let Err(e) = self.flush() {
            self.fail(e);
        }
        Some(c)
    }

    fn fail(&mut self, e: StoreError) {
        tracing::error!(error = %e, "writing events to the store failed; further changes are dropped");
        self.buf.clear();
        self.error = Some(e);
    }

    /// The event with the store id this run gave it (unchanged when the run
    /// has not stored it).
    pub fn stored(&self, e: &Event) -> Event {
        let mut e = e.clone();
        if let Some(id) = self.ids.get(&e) {
            match &mut e {
                Event::Hijack(h) => h.id = id,
                Event::Leak(l) => l.id = id,
            }
        }
        e
    }

    /// Events of this run found in the store (same natural key), and
    /// events stored under a fresh id.
    pub fn id_counts(&self) -> (u64, u64) {
        (self.ids.reused, self.ids.fresh)
    }

    /// Ends the events the store holds as ongoing that this run has not
    /// continued: a fresh start (no usable checkpoint) can never update
    /// them again. Each gets an `ended` change at its own last message
    /// time, so the time stays the messages'. Returns how many were closed.
    pub fn close_unclaimed(&mut self) -> Result<usize> {
        self.flush()?;
        let mut changes = Vec::new();
        for kind in [KIND_HIJACK, KIND_LEAK] {
            for id in ids::open_ids(self.store.connection(), kind)? {
                if self.ids.is_claimed(kind, id) {
                    continue;
                }
                let Some(mut ev) = ids::stored_event(self.store.connection(), kind, id)? else {
                    tracing::warn!(
                        kind,
                        id,
                        "an open stored event cannot be read; left as it is"
                    );
                    continue;
                };
                let ts = match &mut ev {
                    Event::Hijack(h) => {
                        let end = h.max_msg_ts.max(h.max_hijack_ts);
                        h.finished = true;
                        h.ended_ts = Some(end);
                        h.is_stale = false;
                        h.on_going_count = 0;
                        h.duration = end.secs_since(h.min_hijack_ts);
                        end
                    }
                    Event::Leak(l) => {
                        let end = l.max_ts;
                        l.finished = true;
                        l.ended_ts = Some(end);
                        end
                    }
                };
                changes.push((
                    EventChange {
                        ts,
                        kind: ChangeKind::Ended,
                        event: ev,
                    },
                    0,
                ));
            }
        }
        self.store.apply_numbered(&changes)?;
        Ok(changes.len())
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
        let _ = self.record(change);
    }
}

//! A small pool of [`Reader`]s shared by request handlers. Each reader sits
//! behind its own mutex; a request takes the first free one, or waits on
//! one picked round-robin. Queries are short, so this is all the pooling
//! SQLite needs.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, TryLockError};

use super::error::{Result, StoreError};
use super::read::Reader;

/// Readers shared between threads.
#[derive(Debug)]
pub struct ReadPool {
    readers: Vec<Mutex<Reader>>,
    next: AtomicUsize,
}

impl ReadPool {
    /// Opens `size` readers (at least one) on the store at `path`.
    pub fn open(path: impl AsRef<Path>, size: usize) -> Result<ReadPool> {
        Self::open_with(path, size, true)
    }

    /// Like [`ReadPool::open`], choosing whether `total_count`s are cached
    /// between writes.
    pub fn open_with(path: impl AsRef<Path>, size: usize, cache_counts: bool) -> Result<ReadPool> {
        let readers = (0..size.max(1))
            .map(|_| {
                let mut r = Reader::open(path.as_ref())?;
                r.set_count_cache(cache_counts);
                Ok(Mutex::new(r))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ReadPool {
            readers,
            next: AtomicUsize::new(0),
        })
    }

    /// Runs `f` with a reader. Blocking: call from a blocking thread.
    pub fn with<T>(&self, f: impl FnOnce(&Reader) -> Result<T>) -> Result<T> {
        for r in &self.readers {
            match r.try_lock() {
                Ok(guard) => return f(&guard),
                Err(TryLockError::WouldBlock) => continue,
                Err(TryLockError::Poisoned(_)) => continue,
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        let guard = self.readers[i].lock().map_err(|_| StoreError::Pool)?;
        f(&guard)
    }
}

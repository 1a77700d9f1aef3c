//! The event store: one SQLite file (WAL) holding every event's latest
//! state, its history of changes, `asn_info` and a few settings.
//!
//! * [`Store`] is the single writer: [`Store::apply_batch`] writes a batch of
//!   [`EventChange`](bgpsentry_core::model::EventChange)s in one transaction,
//!   so a crash loses at most the batch in flight and never corrupts the
//!   file. [`StoreSink`] plugs it into the pipeline as a batching
//!   [`ChangeSink`](crate::pipeline::ChangeSink).
//! * [`Reader`] answers the API's queries; [`ReadPool`] shares a few of them
//!   between request handlers. Readers never block the writer (WAL).
//!
//! All SQL is parameterised; filter values never become SQL text.

mod error;
pub mod ids;
mod pool;
mod query;
mod read;
mod routes;
mod rows;
mod schema;
mod sink;
pub mod synth;
mod write;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

pub use error::{Result, StoreError};
pub use pool::ReadPool;
pub use query::{
    Common, HijackQuery, HijackSort, LeakQuery, LeakSort, PrefixFilter, PrefixMatch, SortDir,
};
pub use read::{AsnInfo, ChangeRecord, Counts, Detail, Page, Reader};
pub use routes::{
    AsAggregate, AsRow, AsSort, AsnEntity, MAX_ANSWER_ROWS, MAX_SNAPSHOT_ROUTES, PrefixOrigin,
    RelRow, RouteRow, RouteStats, RoutesMeta, RoutingSnapshot,
};
pub use schema::SCHEMA_VERSION;
pub use sink::StoreSink;

/// The writer side of the store. Exactly one should exist per file at a
/// time (SQLite serialises writers anyway; a second one waits).
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path`, switches it to WAL
    /// and applies pending migrations.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let mut conn = Connection::open_with_flags(&path, flags)?;
        schema::configure(&conn)?;
        schema::migrate(&mut conn)?;
        // Refresh planner statistics where SQLite thinks it worthwhile.
        conn.execute_batch("PRAGMA optimize")?;
        Ok(Store { conn, path })
    }

    /// The file this store writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying connection, for inspection in tests and tools.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// A new read handle on the same file.
    pub fn reader(&self) -> Result<Reader> {
        Reader::open(&self.path)
    }

    /// Runs `PRAGMA integrity_check`; `Ok` when SQLite answers `ok`.
    pub fn integrity_check(&self) -> Result<()> {
        integrity_check(&self.conn)
    }

    /// Refreshes the planner statistics (`ANALYZE`); worth doing after a
    /// bulk load.
    pub fn analyze(&self) -> Result<()> {
        self.conn.execute_batch("ANALYZE")?;
        Ok(())
    }
}

/// Runs `PRAGMA integrity_check` on any connection.
pub fn integrity_check(conn: &Connection) -> Result<()> {
    let answer: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if answer == "ok" {
        Ok(())
    } else {
        Err(StoreError::Corrupt(answer))
    }
}

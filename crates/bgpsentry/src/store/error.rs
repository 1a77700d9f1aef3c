//! Errors of the event store. One enum so callers can tell a database
//! problem from a schema that is newer than this binary.

use thiserror::Error;

/// What can go wrong in the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// An event could not be encoded or a stored document decoded.
    #[error("event encoding error: {0}")]
    Json(#[from] serde_json::Error),
    /// The file was written by a newer bgpsentry.
    #[error("database schema version {found} is newer than this binary supports ({supported})")]
    TooNew {
        /// Version in the file.
        found: i64,
        /// Highest version we know.
        supported: i64,
    },
    /// The integrity check did not answer `ok`.
    #[error("database integrity check failed: {0}")]
    Corrupt(String),
    /// A value does not fit the store (e.g. an id above `i64::MAX`).
    #[error("value out of range: {0}")]
    Range(String),
    /// The read pool was poisoned by a panicking reader.
    #[error("read connection unavailable")]
    Pool,
}

/// Store result.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

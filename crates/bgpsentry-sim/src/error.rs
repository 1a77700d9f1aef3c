//! Typed errors of the simulator. Scenario files are user input: every
//! problem with one is reported, never a panic.

use std::path::PathBuf;

/// What can go wrong while loading a scenario or generating output.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The scenario is invalid (bad value, impossible request).
    #[error("scenario: {0}")]
    Scenario(String),
    /// The scenario file does not parse.
    #[error("scenario {path}: {source}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: toml::de::Error,
    },
    /// A relationship file could not be used.
    #[error("topology: {0}")]
    Topology(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Encoding an MRT record failed (a value does not fit its field).
    #[error("MRT encoding: {0}")]
    Encode(String),
    /// Writing JSON failed.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl SimError {
    /// An I/O error on a path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SimError::Io {
            path: path.into(),
            source,
        }
    }
}

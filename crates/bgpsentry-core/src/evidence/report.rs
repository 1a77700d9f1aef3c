//! What a loader tells its caller besides the table it built: how many
//! records were taken, how many were skipped, and why (with the file and the
//! line, array index or byte offset), so an operator can fix the input.

use std::fmt;

/// At most this many individual problems are kept per load; the counters
/// keep counting beyond it so memory never grows with a hostile input.
pub const MAX_KEPT_PROBLEMS: usize = 100;

/// Where in an input a problem sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// 1-based line number of a text input.
    Line(u64),
    /// 0-based index in a JSON array, e.g. `roas[12]`.
    Index(&'static str, u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Index(field, n) => write!(f, "{field}[{n}]"),
        }
    }
}

/// One malformed record that was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub source: String,
    pub at: Location,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.source, self.at, self.message)
    }
}

/// Outcome of loading one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Name of the input (file path or URL) as given by the caller.
    pub source: String,
    /// Records accepted into the table.
    pub accepted: u64,
    /// Records skipped because they were malformed.
    pub skipped: u64,
    /// Records ignored on purpose (other object classes, comments ...).
    pub ignored: u64,
    /// The first [`MAX_KEPT_PROBLEMS`] skipped records, with the reason.
    pub problems: Vec<Problem>,
}

impl LoadReport {
    pub fn new(source: impl Into<String>) -> Self {
        LoadReport {
            source: source.into(),
            ..Default::default()
        }
    }

    /// Count a malformed record and remember why (up to the cap).
    pub fn skip(&mut self, at: Location, message: impl Into<String>) {
        self.skipped += 1;
        if self.problems.len() < MAX_KEPT_PROBLEMS {
            self.problems.push(Problem {
                source: self.source.clone(),
                at,
                message: message.into(),
            });
        }
    }

    /// Fold another report of the same kind into this one.
    pub fn merge(&mut self, other: LoadReport) {
        self.accepted += other.accepted;
        self.skipped += other.skipped;
        self.ignored += other.ignored;
        for p in other.problems {
            if self.problems.len() < MAX_KEPT_PROBLEMS {
                self.problems.push(p);
            }
        }
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} accepted, {} skipped as malformed, {} ignored",
            self.source, self.accepted, self.skipped, self.ignored
        )
    }
}

/// A load that could not produce a table at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{source_name}: read error: {err}")]
    Io {
        source_name: String,
        #[source]
        err: std::io::Error,
    },
    #[error("{source_name}: {message}")]
    Format {
        source_name: String,
        message: String,
    },
}

impl LoadError {
    pub fn io(source_name: &str, err: std::io::Error) -> Self {
        LoadError::Io {
            source_name: source_name.to_string(),
            err,
        }
    }
    pub fn format(source_name: &str, message: impl Into<String>) -> Self {
        LoadError::Format {
            source_name: source_name.to_string(),
            message: message.into(),
        }
    }
}

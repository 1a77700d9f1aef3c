//! Evidence in the service: where the datasets come from (files or
//! http(s) URLs, given on the command line), loading them into one
//! immutable [`bgpsentry_core::evidence::Evidence`] snapshot, swapping
//! snapshots atomically on refresh, and the `bgpsentry evidence` commands
//! operators use to ask "why" about a prefix and origin.
//!
//! * [`args`] — `EvidenceArgs`, flattened into every command that needs evidence.
//! * [`fetch`] — opening a file or streaming a URL, with timeouts and a size cap.
//! * [`load`] — building a snapshot from the arguments, with sanity checks.
//! * [`handle`] — `EvidenceHandle`: the current snapshot, refreshed off-thread.
//! * [`cmd`] — `bgpsentry evidence check | infer-asrel | bench`.
//! * [`bench`] — full-size synthetic load and lookup benchmark.

pub mod args;
pub mod bench;
pub mod cmd;
pub mod fetch;
pub mod handle;
pub mod load;

pub use args::EvidenceArgs;
pub use handle::EvidenceHandle;
pub use load::{Loaded, load, load_with_reports};

#[cfg(test)]
mod tests;

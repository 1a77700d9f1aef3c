//! # bgpsentry
//!
//! The service around [`bgpsentry_core`]: reading inputs, the command line,
//! and (as they land) the event store, the Radar-compatible API and alerts.
//! `main.rs` only parses arguments and maps outcomes to exit codes.

pub mod cli;
pub mod dump;
pub mod eval;
pub mod ingest;
pub mod pipeline;
pub mod replay;
pub mod run;
pub mod simulate;

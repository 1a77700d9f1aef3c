//! # bgpsentry
//!
//! The service around [`bgpsentry_core`]: reading inputs, the command line,
//! and (as they land) the event store, the Radar-compatible API and alerts.
//! `main.rs` only parses arguments and maps outcomes to exit codes.

pub mod alert;
pub mod api;
pub mod cli;
pub mod daemon;
pub mod dashboard;
pub mod detectors;
pub mod dump;
pub mod eval;
pub mod evidence;
pub mod ingest;
pub mod pipeline;
pub mod replay;
pub mod report;
pub mod routing_snapshot;
pub mod run;
pub mod simulate;
pub mod store;

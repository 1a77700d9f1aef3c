//! # bgpsentry-sim
//!
//! A BGP simulator that produces labelled data for bgpsentry: an AS topology
//! (generated in tiers or loaded from CAIDA serial-1), Gao–Rexford routing,
//! collector peers, background churn with legitimate origin changes, and
//! injected incidents (exact-prefix, more-specific and forged-origin
//! hijacks; RFC 7908 type 1–4 route leaks). Output: MRT update files, a
//! TABLE_DUMP_V2 RIB for the bootstrap, the topology as a relationship file,
//! and `truth.json`, all byte-identical for the same seed.
//!
//! * [`scenario`] — the scenario file format.
//! * [`topology`], [`routing`] — the AS graph and route computation.
//! * [`engine`] — the timeline: churn and incidents to collector updates.
//! * [`mrt_writer`] — BGP4MP_ET / TABLE_DUMP_V2 encoding.
//! * [`registries`] — RPKI ROAs and IRR route objects for a share of ASes.
//! * [`truth`] — the ground truth; [`score`] — matching detector events to it.

pub mod churn;
pub mod engine;
pub mod error;
pub mod incidents;
pub mod mrt_writer;
pub mod output;
pub mod prefixes;
pub mod registries;
pub mod rng;
pub mod routing;
pub mod scenario;
pub mod score;
pub mod topology;
pub mod truth;

pub use error::SimError;
pub use output::{Generated, demo, generate_to_dir};
pub use scenario::Scenario;

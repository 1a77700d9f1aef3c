//! Route-leak detection: valley-free violations found with AS
//! relationships, typed by RFC 7908, aggregated per leak segment into
//! Radar-shaped [`LeakEvent`](crate::model::LeakEvent)s.
//!
//! * [`knowledge`] — what the check asks about ASes ([`AsKnowledge`]) and a
//!   plain table ([`RelTable`]).
//! * [`check`] — the per-path check and its false-alarm rules.
//! * [`detector`] — the stateful [`LeakDetector`] and event lifecycle.
//! * [`cone`] — customer cones for the evidence.
//! * [`tags`] — evidence tags and the confidence score of leak events.
//!
//! `leak_seg` is emitted as Radar's From, By, To: `[from, by, to]` in the
//! order the route flowed, which is the reverse of AS-path order. The rules
//! and their reasons are in `docs/leaks.md`.

mod agg;
pub mod check;
pub mod cone;
pub mod detector;
pub mod knowledge;
mod snapshot;
pub mod tags;

pub use agg::ListCaps;
pub use check::{CheckConfig, CheckStats, Checker, Finding};
pub use detector::{LeakDetector, LeakStats};
pub use knowledge::{
    AsKnowledge, KNOWN_RE_NETWORKS, KNOWN_ROUTE_SERVERS, Rel, RelTable, is_special_asn,
};

/// Default minimum persistence: five minutes of message time.
pub const DEFAULT_MIN_PERSIST_SECS: i64 = 300;
/// Default size that raises a leak from one peer at once.
pub const DEFAULT_LARGE_PREFIXES: usize = 1000;
/// Default size that waives the persistence time.
pub const DEFAULT_QUICK_PREFIXES: usize = 100;
/// Default rejoin window: one hour, as for hijacks.
pub const DEFAULT_REJOIN_SECS: i64 = 3600;

/// Default distinct warm-up hours that make a segment established.
pub const DEFAULT_ESTABLISHED_HOURS: u32 = 6;

/// Default minimum confidence score of a raised leak.
pub const DEFAULT_MIN_SCORE: i32 = 1;

/// Default score that waives the persistence time.
pub const DEFAULT_QUICK_SCORE: i32 = 8;

/// Settings of the leak detector.
#[derive(Clone, Debug)]
pub struct LeakConfig {
    /// The per-path check's thresholds.
    pub check: CheckConfig,
    /// Collector peers that must carry a segment before it is raised; never
    /// more than half the active collector peers (at least 1), so a
    /// two-peer collector can raise a leak one of them sees.
    pub min_peers: usize,
    /// Distinct prefixes a segment must carry before it is raised.
    pub min_prefixes: usize,
    /// Seconds without a leaked announcement after which an event is
    /// finished even if routes are still carried (0: never).
    pub quiet_secs: i64,
    /// Seconds a candidate must stay carried before it is raised, so
    /// path-hunting transients are not events (0: at once).
    pub min_persist_secs: i64,
    /// A segment carrying this many prefixes is raised at once, from one
    /// collector peer (0: off).
    pub large_prefixes: usize,
    /// From this many prefixes a candidate needs no persistence, and a
    /// leaker seen only over weak edges may be raised (0: off).
    pub quick_prefixes: usize,
    /// An ended event whose segment leaks again within this many seconds
    /// rejoins it (same id) instead of opening a new one (0: never).
    pub rejoin_secs: i64,
    /// A segment the warm-up saw in this many distinct hours is
    /// established routing and raises nothing (0: off).
    pub established_hours: u32,
    /// A candidate is raised only while its confidence score is at least
    /// this (`i32::MIN`: whatever the evidence).
    pub min_score: i32,
    /// A candidate with this confidence score needs no persistence time.
    pub quick_score: i32,
    /// How much evidence events list.
    pub caps: ListCaps,
}

impl Default for LeakConfig {
    fn default() -> Self {
        LeakConfig {
            check: CheckConfig::default(),
            min_peers: 2,
            min_prefixes: 1,
            quiet_secs: 3600,
            min_persist_secs: DEFAULT_MIN_PERSIST_SECS,
            large_prefixes: DEFAULT_LARGE_PREFIXES,
            quick_prefixes: DEFAULT_QUICK_PREFIXES,
            rejoin_secs: DEFAULT_REJOIN_SECS,
            established_hours: DEFAULT_ESTABLISHED_HOURS,
            min_score: DEFAULT_MIN_SCORE,
            quick_score: DEFAULT_QUICK_SCORE,
            caps: ListCaps {
                sample_paths: 5,
                prefixes: 100,
                origins: 100,
            },
        }
    }
}

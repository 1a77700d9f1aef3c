//! Route-leak detection: valley-free violations found with AS
//! relationships, typed by RFC 7908, aggregated per leak segment into
//! Radar-shaped [`LeakEvent`](crate::model::LeakEvent)s.
//!
//! * [`knowledge`] — what the check asks about ASes ([`AsKnowledge`]) and a
//!   plain table ([`RelTable`]).
//! * [`check`] — the per-path check and its false-alarm rules.
//! * [`detector`] — the stateful [`LeakDetector`] and event lifecycle.
//!
//! `leak_seg` is emitted as Radar's From, By, To: `[from, by, to]` in the
//! order the route flowed, which is the reverse of AS-path order. The rules
//! and their reasons are in `docs/leaks.md`.

mod agg;
pub mod check;
pub mod detector;
pub mod knowledge;

pub use agg::ListCaps;
pub use check::{CheckConfig, CheckStats, Checker, Finding};
pub use detector::{LeakDetector, LeakStats};
pub use knowledge::{AsKnowledge, KNOWN_ROUTE_SERVERS, Rel, RelTable, is_special_asn};

/// Settings of the leak detector.
#[derive(Clone, Debug)]
pub struct LeakConfig {
    /// The per-path check's thresholds.
    pub check: CheckConfig,
    /// Collector peers that must carry a segment before it is raised.
    pub min_peers: usize,
    /// Distinct prefixes a segment must carry before it is raised.
    pub min_prefixes: usize,
    /// Seconds without a leaked announcement after which an event is
    /// finished even if routes are still carried (0: never).
    pub quiet_secs: i64,
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
            caps: ListCaps {
                sample_paths: 5,
                prefixes: 100,
                origins: 100,
            },
        }
    }
}

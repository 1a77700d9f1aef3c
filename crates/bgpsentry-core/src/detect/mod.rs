//! Detectors: consumers of the time-ordered message stream that raise and
//! update events. Each detector owns its state (single owner, no locks) and
//! reports every change of every event as an [`EventChange`], which the
//! store persists and the alerter notifies.
//!
//! Time only moves with the messages: [`Detector::advance`] is called with
//! message time, never with the wall clock, so replays are deterministic.

pub mod leak;

pub mod active;
pub mod baseline;
pub mod checkpoint;
pub mod hijack;
pub mod state;

use crate::model::{EventChange, PeerTable, RouteMessage, Timestamp};

/// A consumer of BGP messages that raises events.
pub trait Detector {
    /// Processes one message (messages arrive in time order).
    fn observe(&mut self, msg: &RouteMessage, peers: &PeerTable, out: &mut Vec<EventChange>);

    /// Lets time-based transitions happen (stale, quiet-time endings) up to `now`.
    fn advance(&mut self, now: Timestamp, out: &mut Vec<EventChange>);

    /// The input is over: emit any pending changes. Events still carried by
    /// some peer stay open (a replay's end is not the incident's end).
    fn finish(&mut self, now: Timestamp, out: &mut Vec<EventChange>);

    /// A warm-up message: learn from it (routing state, established origins,
    /// adjacencies) but raise nothing. Detectors with nothing to learn
    /// ignore it.
    fn learn(&mut self, _msg: &RouteMessage, _peers: &PeerTable) {}

    /// The warm-up is over at `now`: judge every message from here on.
    fn end_learning(&mut self, _now: Timestamp) {}

    /// The per-prefix routing state this detector keeps, if any (the API
    /// publishes a snapshot of it: `routes/pfx2as`, `routes/moas`, …).
    fn routing_state(&self) -> Option<&state::RoutingState> {
        None
    }
}

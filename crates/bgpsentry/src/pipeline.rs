//! The detection pipeline of `replay` (and later `run`): feeds the merged
//! message stream through every detector, advances message time, and keeps
//! each event's latest state plus the full list of changes for the store,
//! the alerter and the final report.

use std::collections::BTreeMap;

use bgpsentry_core::detect::Detector;
use bgpsentry_core::model::{Event, EventChange, PeerTable, RouteMessage, Timestamp};

use crate::ingest::mrt::Sink;

/// How often (message time, seconds) detectors get `advance` calls.
const ADVANCE_EVERY_SECS: i64 = 10;

/// When the detectors are due to `advance` (expire, age, rescore): every
/// `ADVANCE_EVERY_SECS` of message time, never by the wall clock, so a
/// replay gives the same events. Shared by [`DetectSink`] and the daemon's
/// `DetectorSet`, which checkpoints `last`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cadence {
    /// Message time of the last advance.
    pub last: Option<Timestamp>,
}

impl Cadence {
    /// True if the detectors should advance at `ts` (and records it).
    pub fn due(&mut self, ts: Timestamp) -> bool {
        match self.last {
            None => {
                self.last = Some(ts);
                false
            }
            Some(t) if ts.secs_since(t) >= ADVANCE_EVERY_SECS => {
                self.last = Some(ts);
                true
            }
            Some(_) => false,
        }
    }
}

/// What consumes event changes as they happen (the store, the alerter).
pub trait ChangeSink {
    /// One change, in the order detectors produced it.
    fn change(&mut self, change: &EventChange);

    /// Time passed with no change (live feeds): write out anything buffered.
    fn idle(&mut self) {}
}

/// Runs detectors over the stream.
pub struct DetectSink<'a> {
    detectors: Vec<Box<dyn Detector + 'a>>,
    outputs: Vec<&'a mut dyn ChangeSink>,
    buf: Vec<EventChange>,
    cadence: Cadence,
    now: Timestamp,
    /// Latest state of every event, keyed by (kind, id).
    pub latest: BTreeMap<(u8, u64), Event>,
    /// Number of changes seen.
    pub changes: u64,
}

impl<'a> DetectSink<'a> {
    /// A pipeline over these detectors, reporting changes to `outputs`.
    pub fn new(
        detectors: Vec<Box<dyn Detector + 'a>>,
        outputs: Vec<&'a mut dyn ChangeSink>,
    ) -> Self {
        DetectSink {
            detectors,
            outputs,
            buf: Vec::new(),
            cadence: Cadence::default(),
            now: Timestamp::default(),
            latest: BTreeMap::new(),
            changes: 0,
        }
    }

    fn drain(&mut self) {
        for c in self.buf.drain(..) {
            for o in self.outputs.iter_mut() {
                o.change(&c);
            }
            let key = match &c.event {
                Event::Hijack(e) => (0u8, e.id),
                Event::Leak(e) => (1u8, e.id),
            };
            self.changes += 1;
            self.latest.insert(key, c.event);
        }
    }

    /// Tells the outputs that no message came for a while.
    pub fn idle(&mut self) {
        for o in self.outputs.iter_mut() {
            o.idle();
        }
    }

    /// The routing state of the first detector that keeps one.
    pub fn routing_state(&self) -> Option<&bgpsentry_core::detect::state::RoutingState> {
        self.detectors.iter().find_map(|d| d.routing_state())
    }

    /// The newest message time seen.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Ends the input: detectors flush, and the latest states are returned
    /// in (kind, id) order.
    pub fn finish(mut self) -> (Vec<Event>, u64) {
        let now = self.now;
        for d in self.detectors.iter_mut() {
            d.finish(now, &mut self.buf);
        }
        self.drain();
        (self.latest.into_values().collect(), self.changes)
    }
}

impl DetectSink<'_> {
    /// Ends a warm-up ([`Learner`]): the detectors judge from `now` on.
    pub fn end_learning(&mut self, now: Timestamp) {
        self.now = self.now.max(now);
        for d in self.detectors.iter_mut() {
            d.end_learning(now);
        }
    }
}

/// Feeds warm-up messages to the detectors of a [`DetectSink`]: they learn
/// (routing state, established origins, adjacencies) and raise nothing.
pub struct Learner<'s, 'a> {
    /// The pipeline that judges after the warm-up.
    pub sink: &'s mut DetectSink<'a>,
    /// Message time of the last warm-up message.
    pub last: Timestamp,
}

impl Sink for Learner<'_, '_> {
    fn message(&mut self, msg: &RouteMessage, peers: &PeerTable) {
        self.last = self.last.max(msg.ts);
        for d in self.sink.detectors.iter_mut() {
            d.learn(msg, peers);
        }
    }
}

impl Sink for DetectSink<'_> {
    fn message(&mut self, msg: &RouteMessage, peers: &PeerTable) {
        self.now = self.now.max(msg.ts);
        if self.cadence.due(msg.ts) {
            for d in self.detectors.iter_mut() {
                d.advance(msg.ts, &mut self.buf);
            }
        }
        for d in self.detectors.iter_mut() {
            d.observe(msg, peers, &mut self.buf);
        }
        if !self.buf.is_empty() {
            self.drain();
        }
    }
}

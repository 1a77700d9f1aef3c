//! The checkpoint form of the leak detector's learned state: every
//! candidate, raised and recently ended aggregate with its id, the routes
//! carrying them, the active collector peers, the segments seen during the
//! warm-up, and the counters. Sets are written sorted so a checkpoint of
//! the same state is the same bytes.

use ipnet::IpNet;

use super::agg::Agg;
use super::check::Finding;
use crate::model::{Asn, PeerId, SamplePath, Timestamp};

/// One leak aggregate as a checkpoint stores it (its fields, sets sorted).
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct AggRepr {
    slot: u64,
    id: Option<u64>,
    /// from, by, to, leak type, OTC.
    finding: (Asn, Asn, Asn, u8, bool),
    peers: Vec<PeerId>,
    prefixes: Vec<IpNet>,
    origins: Vec<Asn>,
    prefix_list: Vec<IpNet>,
    origin_list: Vec<Asn>,
    sampled_peers: Vec<PeerId>,
    samples: Vec<SamplePath>,
    leak_count: u64,
    min_ts: Timestamp,
    max_ts: Timestamp,
    detected_ts: Timestamp,
    carried: u64,
    dirty: bool,
    grown: bool,
    #[serde(default)]
    ended_ts: Option<Timestamp>,
    #[serde(default)]
    rejoined: bool,
    #[serde(default)]
    reported_score: Option<i32>,
    #[serde(default)]
    segs: Vec<[Asn; 3]>,
    #[serde(default)]
    low_score: bool,
    #[serde(default)]
    weak: bool,
    #[serde(default)]
    strong: bool,
}

pub(super) fn sorted<T: Ord + Copy>(it: impl Iterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = it.collect();
    v.sort_unstable();
    v
}

impl AggRepr {
    pub(super) fn of(slot: u64, a: &Agg) -> Self {
        let f = &a.finding;
        AggRepr {
            slot,
            id: a.id,
            finding: (f.from, f.by, f.to, f.leak_type, f.otc),
            peers: sorted(a.peers.iter().copied()),
            prefixes: sorted(a.prefixes.iter().copied()),
            origins: sorted(a.origins.iter().copied()),
            prefix_list: a.prefix_list.clone(),
            origin_list: a.origin_list.clone(),
            sampled_peers: a.sampled_peers.clone(),
            samples: a.samples.clone(),
            leak_count: a.leak_count,
            min_ts: a.min_ts,
            max_ts: a.max_ts,
            detected_ts: a.detected_ts,
            carried: a.carried,
            dirty: a.dirty,
            grown: a.grown,
            ended_ts: a.ended_ts,
            rejoined: a.rejoined,
            reported_score: a.reported_score,
            segs: a.segs.clone(),
            low_score: a.low_score,
            weak: f.weak,
            strong: a.strong,
        }
    }

    pub(super) fn into_agg(self) -> (u64, Agg) {
        let (from, by, to, leak_type, otc) = self.finding;
        let f = Finding {
            from,
            by,
            to,
            leak_type,
            otc,
            weak: self.weak,
        };
        let mut a = Agg::new(f, self.min_ts);
        a.id = self.id;
        a.peers = self.peers.into_iter().collect();
        a.prefixes = self.prefixes.into_iter().collect();
        a.origins = self.origins.into_iter().collect();
        a.prefix_list = self.prefix_list;
        a.origin_list = self.origin_list;
        a.sampled_peers = self.sampled_peers;
        a.samples = self.samples;
        a.leak_count = self.leak_count;
        a.max_ts = self.max_ts;
        a.detected_ts = self.detected_ts;
        a.carried = self.carried;
        a.dirty = self.dirty;
        a.grown = self.grown;
        a.ended_ts = self.ended_ts;
        a.rejoined = self.rejoined;
        a.reported_score = self.reported_score;
        a.low_score = self.low_score;
        a.strong = self.strong;
        if !self.segs.is_empty() {
            a.segs = self.segs;
        }
        (self.slot, a)
    }
}

/// Everything a [`super::LeakDetector`] learned from the stream, for a
/// checkpoint. Settings and AS knowledge are not in it: they come from the
/// configuration of the process that restores it.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct LeakSnapshot {
    pub(super) next_id: u64,
    pub(super) next_slot: u64,
    pub(super) aggs: Vec<AggRepr>,
    /// Leaker → live aggregate.
    pub(super) open: Vec<(Asn, u64)>,
    pub(super) carried: Vec<(PeerId, IpNet, Option<u32>, u64)>,
    /// leaked announcements, raised, dropped, ended withdrawn, ended quiet.
    pub(super) counters: [u64; 5],
    /// Ended events kept for the rejoin window.
    #[serde(default)]
    pub(super) ended: Vec<AggRepr>,
    /// Collector peers announcing routes.
    #[serde(default)]
    /// (peer, last message time) of the active collector peers.
    pub(super) active: Vec<(PeerId, Timestamp)>,
    /// Segments seen during the warm-up: segment, first and last time,
    /// distinct hours seen.
    #[serde(default)]
    pub(super) warm: Vec<([Asn; 3], Timestamp, Timestamp, u32)>,
    /// Rejoined events, transients dropped before the persistence time,
    /// announcements of established segments, low-score drops.
    #[serde(default)]
    pub(super) counters2: [u64; 4],
}

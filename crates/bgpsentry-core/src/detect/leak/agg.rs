//! One leak segment's aggregate: every leaked announcement of one
//! `[from, by, to]` while it lives, first as a candidate below the raise
//! thresholds, then as a raised event with an id.

use crate::fasthash::{HashSet, HashSetExt};

use ipnet::IpNet;

use super::check::Finding;
use super::knowledge::AsKnowledge;
use crate::model::{Asn, LeakEvent, PeerId, SamplePath, Tag, Timestamp};

/// How much of the evidence an event lists (counts are always complete).
#[derive(Copy, Clone, Debug)]
pub struct ListCaps {
    /// Sample AS paths kept per event (one per collector peer).
    pub sample_paths: usize,
    /// Prefixes listed per event.
    pub prefixes: usize,
    /// Origins listed per event.
    pub origins: usize,
}

/// The aggregate of one leak segment.
#[derive(Debug)]
pub(super) struct Agg {
    pub id: Option<u64>,
    /// The first segment's finding (`leak_seg`, `leak_type`).
    pub finding: Finding,
    /// Every segment of this leaker, first [`MAX_SEGS`].
    pub segs: Vec<[Asn; 3]>,
    pub peers: HashSet<PeerId>,
    pub prefixes: HashSet<IpNet>,
    pub origins: HashSet<Asn>,
    pub prefix_list: Vec<IpNet>,
    pub origin_list: Vec<Asn>,
    pub sampled_peers: Vec<PeerId>,
    pub samples: Vec<SamplePath>,
    pub leak_count: u64,
    pub min_ts: Timestamp,
    pub max_ts: Timestamp,
    pub detected_ts: Timestamp,
    /// Routes (peer, prefix, path id) currently carrying this leak.
    pub carried: u64,
    /// Something changed since the last emitted change.
    pub dirty: bool,
    /// Peers, prefixes or origins grew since the last emitted change.
    pub grown: bool,
    /// When a raised event ended (kept for the rejoin window).
    pub ended_ts: Option<Timestamp>,
    /// An ended event came back; the next change says so.
    pub rejoined: bool,
    /// The confidence score of the last emitted change.
    pub reported_score: Option<i32>,
    /// It met the raise thresholds once but not the minimum score.
    pub low_score: bool,
    /// At least one of its findings had every edge at full confidence.
    pub strong: bool,
}

/// Segments listed per event.
pub const MAX_SEGS: usize = 10;

impl Agg {
    pub fn new(finding: Finding, ts: Timestamp) -> Self {
        Agg {
            id: None,
            finding,
            segs: vec![finding.seg()],
            peers: HashSet::new(),
            prefixes: HashSet::new(),
            origins: HashSet::new(),
            prefix_list: Vec::new(),
            origin_list: Vec::new(),
            sampled_peers: Vec::new(),
            samples: Vec::new(),
            leak_count: 0,
            min_ts: ts,
            max_ts: ts,
            detected_ts: ts,
            carried: 0,
            dirty: false,
            grown: false,
            ended_ts: None,
            rejoined: false,
            reported_score: None,
            low_score: false,
            strong: !finding.weak,
        }
    }

    /// Notes a segment of this leaker.
    pub fn add_seg(&mut self, f: &Finding) {
        self.strong |= !f.weak;
        let seg = f.seg();
        if self.segs.len() < MAX_SEGS && !self.segs.contains(&seg) {
            self.segs.push(seg);
            self.grown = true;
        }
    }

    /// Counts one leaked announcement.
    pub fn add(
        &mut self,
        ts: Timestamp,
        peer: PeerId,
        prefix: IpNet,
        origins: &[Asn],
        caps: ListCaps,
    ) {
        self.leak_count += 1;
        self.min_ts = self.min_ts.min(ts);
        self.max_ts = self.max_ts.max(ts);
        self.dirty = true;
        if self.peers.insert(peer) {
            self.grown = true;
        }
        if self.prefixes.insert(prefix) {
            self.grown = true;
            if self.prefix_list.len() < caps.prefixes {
                self.prefix_list.push(prefix);
            }
        }
        for o in origins {
            if self.origins.insert(*o) {
                self.grown = true;
                if self.origin_list.len() < caps.origins {
                    self.origin_list.push(*o);
                }
            }
        }
    }

    /// True when this peer has no sample path yet and there is room.
    pub fn wants_sample(&self, peer: PeerId, caps: ListCaps) -> bool {
        self.samples.len() < caps.sample_paths && !self.sampled_peers.contains(&peer)
    }

    /// The event in Radar's shape, with our tags.
    pub fn event(
        &self,
        k: &dyn AsKnowledge,
        finished: bool,
        ended: Option<Timestamp>,
        tags: Vec<Tag>,
    ) -> LeakEvent {
        let seg = self.finding.seg();
        let mut countries: Vec<String> = seg
            .iter()
            .filter_map(|a| k.country(*a))
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        countries.sort();
        countries.dedup();
        let mut prefixes: Vec<IpNet> = self.prefix_list.clone();
        prefixes.sort();
        let mut origins = self.origin_list.clone();
        origins.sort();
        LeakEvent {
            id: self.id.unwrap_or(0),
            countries,
            detected_ts: self.detected_ts,
            finished,
            leak_asn: self.finding.by,
            leak_count: self.leak_count,
            leak_seg: seg.to_vec(),
            leak_type: self.finding.leak_type,
            max_ts: self.max_ts,
            min_ts: self.min_ts,
            origin_count: u32::try_from(self.origins.len()).unwrap_or(u32::MAX),
            peer_count: u32::try_from(self.peers.len()).unwrap_or(u32::MAX),
            prefix_count: u32::try_from(self.prefixes.len()).unwrap_or(u32::MAX),
            confidence_score: super::tags::score(&tags),
            tags,
            leak_segs: self.segs.iter().map(|s| s.to_vec()).collect(),
            ended_ts: ended,
            prefixes: prefixes.iter().map(ToString::to_string).collect(),
            origins,
            sample_paths: self.samples.clone(),
        }
    }
}

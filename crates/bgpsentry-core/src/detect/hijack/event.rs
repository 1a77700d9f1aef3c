//! One open hijack event: the anomalous announcements of one hijacker
//! against one victim set, while any collector peer carries them.
//!
//! The event tracks, per prefix, the route slots (collector peer, path id)
//! that currently carry the hijacker's route. It ends when that set is empty
//! for every prefix. An event is *pending* (no public id, no change
//! reported) until enough distinct collector peers carried it; an ended event
//! is kept for a while so that a route that comes back rejoins it. Everything Radar reports is derived from this record in
//! [`OpenEvent::snapshot`].

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::detect::state::Slot;
use crate::model::{Asn, HijackEvent, PeerId, SamplePath, Tag, Timestamp};

/// The mutable record behind a [`HijackEvent`].
#[derive(Clone, Debug)]
pub struct OpenEvent {
    /// Internal key (every candidate gets one, published or not).
    pub key: u64,
    /// Public event id; 0 while the event is pending (not yet seen by
    /// enough collector peers to be published).
    pub id: u64,
    /// The new origin.
    pub hijacker: Asn,
    /// The expected origins, ascending.
    pub victims: Vec<Asn>,
    /// Type of the first prefix (see `hijack_type`).
    pub event_type: u8,
    /// Carrying slots per prefix.
    pub carriers: BTreeMap<IpNet, BTreeSet<Slot>>,
    /// Every collector peer that ever carried it.
    pub peers: BTreeSet<PeerId>,
    /// ASN of each such peer.
    pub peer_asns: BTreeSet<Asn>,
    /// Address of each such peer.
    pub peer_ips: BTreeSet<IpAddr>,
    /// Hijack announcements counted.
    pub msgs: u64,
    /// First / last hijack announcement.
    pub min_hijack_ts: Timestamp,
    /// Last hijack announcement.
    pub max_hijack_ts: Timestamp,
    /// Last message about its routes (announcement, withdrawal, move away).
    pub max_msg_ts: Timestamp,
    /// Highest number of distinct peers carrying it at once.
    pub peak_peers: usize,
    /// Highest share of all collector peers carrying it at once.
    pub peak_share: f64,
    /// Flags captured when prefixes joined (see `tags::TagInputs`).
    pub more_specific: bool,
    /// The hijacker is established on a covering prefix.
    pub hijacker_on_covering: bool,
    /// The hijacker had never originated anything.
    pub newcomer: bool,
    /// Hijacker and a victim were seen adjacent before the event opened.
    pub adjacent: bool,
    /// Hijacker and a victim were seen behind a common upstream (not a
    /// high-degree transit AS) before they joined the event.
    pub shared_upstream: bool,
    /// Prefixes of the event whose hijacker was a past origin of them
    /// (widely carried before, then gone) when they joined.
    pub seen_before: u32,
    /// Victims the hijacker was seen adjacent to or behind a common upstream
    /// with when they joined (its neighbourhood), ascending.
    pub near_victims: Vec<Asn>,
    /// (hijacked prefix, the hijacker's own prefix it is a typo of): the
    /// first found.
    pub typo_of: Option<(IpNet, IpNet)>,
    /// Prefixes of the event that are typos of the hijacker's own.
    pub typos: u32,
    /// A few paths that carried it.
    pub samples: Vec<SamplePath>,
    /// Current tags.
    pub tags: Vec<Tag>,
    /// When it ended.
    pub ended_ts: Option<Timestamp>,
    /// Staleness as last reported.
    pub reported_stale: bool,
    /// Counters changed since the last reported change.
    pub dirty: bool,
    /// Message time of the last reported change.
    pub last_report: Timestamp,
}

impl OpenEvent {
    /// Distinct collector peers carrying it now.
    pub fn carrying_peers(&self, peer_of: impl Fn(Slot) -> Option<PeerId>) -> usize {
        let mut set = BTreeSet::new();
        for slots in self.carriers.values() {
            for s in slots {
                if let Some(p) = peer_of(*s) {
                    set.insert(p);
                }
            }
        }
        set.len()
    }

    /// Prefixes still carried by some peer.
    pub fn on_going(&self) -> usize {
        self.carriers.values().filter(|s| !s.is_empty()).count()
    }

    /// True once the event has been published (has a public id).
    pub fn is_published(&self) -> bool {
        self.id != 0
    }

    /// True when no peer carries any prefix.
    pub fn is_dead(&self) -> bool {
        self.on_going() == 0
    }

    /// The prefixes.
    pub fn prefixes(&self) -> Vec<IpNet> {
        self.carriers.keys().copied().collect()
    }

    /// Ongoing and no hijack announcement for `stale_secs` before `now`.
    pub fn stale_at(&self, now: Timestamp, stale_secs: i64) -> bool {
        self.ended_ts.is_none() && now.secs_since(self.max_hijack_ts) >= stale_secs
    }

    /// The Radar-shaped event.
    pub fn snapshot(
        &self,
        now: Timestamp,
        stale_secs: i64,
        country: impl Fn(Asn) -> Option<String>,
    ) -> HijackEvent {
        let duration = match self.ended_ts {
            Some(end) => end.secs_since(self.min_hijack_ts),
            None => self.max_hijack_ts.secs_since(self.min_hijack_ts),
        };
        let mut victim_countries: Vec<String> = self
            .victims
            .iter()
            .filter_map(|v| country(*v))
            .filter(|c| !c.is_empty())
            .collect();
        victim_countries.sort();
        victim_countries.dedup();
        let mut e = HijackEvent {
            id: self.id,
            confidence_score: 0,
            duration,
            event_type: self.event_type,
            hijack_msgs_count: self.msgs,
            hijacker_asn: self.hijacker,
            hijacker_country: country(self.hijacker).unwrap_or_default(),
            is_stale: self.stale_at(now, stale_secs),
            max_hijack_ts: self.max_hijack_ts,
            max_msg_ts: self.max_msg_ts,
            min_hijack_ts: self.min_hijack_ts,
            on_going_count: u32::try_from(self.on_going()).unwrap_or(u32::MAX),
            peer_asns: self.peer_asns.iter().copied().collect(),
            peer_ip_count: u32::try_from(self.peer_ips.len()).unwrap_or(u32::MAX),
            prefixes: self.carriers.keys().map(|p| p.to_string()).collect(),
            tags: self.tags.clone(),
            victim_asns: self.victims.clone(),
            victim_countries,
            finished: self.ended_ts.is_some(),
            ended_ts: self.ended_ts,
            sample_paths: self.samples.clone(),
        };
        e.rescore();
        e
    }
}

//! The ground truth written next to the MRT files as `truth.json`: every
//! injected incident (with what the collectors actually saw of it) and every
//! legitimate origin change, so that evaluation can count detections, misses
//! and false alarms, and tell a false alarm on legitimate churn from noise.
//! Times are Unix seconds.

use serde::{Deserialize, Serialize};

use crate::scenario::IncidentKind;

/// One collector peer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerTruth {
    /// Peer ASN.
    pub asn: u32,
    /// Peer address.
    pub ip: String,
    /// Sends a full table (else customer routes only).
    pub full_feed: bool,
}

/// One collector and its peers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectorTruth {
    /// Collector name (the directory of its files).
    pub name: String,
    /// Its peers.
    pub peers: Vec<PeerTruth>,
}

/// An injected incident.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Id, unique in the scenario.
    pub id: u32,
    /// What happened.
    pub kind: IncidentKind,
    /// RFC 7908 type for leaks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leak_type: Option<u8>,
    /// Prefixes announced by the hijacker, or leaked.
    pub prefixes: Vec<String>,
    /// Hijacks: the victim's covering (legitimate) prefixes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub victim_prefixes: Vec<String>,
    /// The hijacker (for forged origin: the AS that forged the path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hijacker: Option<u32>,
    /// Hijacks: the legitimate origins; leaks: origins of leaked prefixes.
    pub victims: Vec<u32>,
    /// The leaking AS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaker: Option<u32>,
    /// Leak segments `[from, by, to]` (route flows from → by → to).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leak_segments: Vec<[u32; 3]>,
    /// Forged origin: the path the hijacker announced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announced_path: Option<Vec<u32>>,
    /// Start (the bad announcement leaves its origin).
    pub start: i64,
    /// End (it is withdrawn).
    pub end: i64,
    /// Share of ASes that accept it.
    pub share: f64,
    /// Collector peers that saw at least one bad route.
    pub seen_by_peers: usize,
    /// `seen_by_peers` over all collector peers.
    pub peer_share: f64,
    /// First bad route at a collector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<i64>,
    /// Last bad announcement at a collector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<i64>,
    /// Bad announcements (prefix × peer) at collectors, RIB excluded.
    pub announcements: u64,
}

/// Kinds of legitimate origin changes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegitKind {
    /// A provider originates its customer's prefix too (multihoming MOAS).
    Multihoming,
    /// A new site of an anycast prefix.
    AnycastNewSite,
    /// A more-specific delegated to a customer, announced through the old origin.
    Delegation,
    /// A scrubbing AS originates the victim's prefix during an attack.
    DdosMitigation,
}

/// A legitimate origin change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegitChange {
    /// Id (shares the numbering with incidents).
    pub id: u32,
    /// What happened.
    pub kind: LegitKind,
    /// The prefix announced by the new origin.
    pub prefix: String,
    /// The covering prefix for delegations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covering: Option<String>,
    /// The new origin.
    pub new_origin: u32,
    /// The origins before.
    pub old_origins: Vec<u32>,
    /// What the new origin is to the old one (`provider`, `customer`, `peer`, or absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    /// Start.
    pub start: i64,
    /// End (the scenario end when permanent).
    pub end: i64,
}

/// A long-standing anycast prefix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anycast {
    /// The prefix.
    pub prefix: String,
    /// Its origins from the start.
    pub origins: Vec<u32>,
}

/// What was written and how much.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// ASes.
    pub ases: usize,
    /// Links.
    pub links: usize,
    /// Prefixes in the table at the start.
    pub prefixes: usize,
    /// Collector peers.
    pub peers: usize,
    /// RIB entries (prefix × peer).
    pub rib_entries: u64,
    /// BGP4MP records (one UPDATE each).
    pub update_messages: u64,
    /// Announced prefixes in updates.
    pub announcements: u64,
    /// Withdrawn prefixes in updates.
    pub withdrawals: u64,
    /// Link failures (each restored).
    pub link_failures: usize,
    /// Prefix flaps.
    pub flaps: usize,
}

/// The files of one run, relative to the output directory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Files {
    /// RIB dumps, one per collector.
    pub ribs: Vec<String>,
    /// Update files in time order per collector.
    pub updates: Vec<String>,
    /// The directory to replay (RIB and updates).
    pub mrt_dir: String,
    /// CAIDA serial-1 relationships of the topology.
    pub relationships: String,
    /// RPKI ROAs (`rpki.json` layout).
    #[serde(default)]
    pub rpki: String,
    /// IRR route objects (RPSL).
    #[serde(default)]
    pub irr: String,
}

/// The whole ground truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Simulated start (Unix seconds; the RIB's time).
    pub start: i64,
    /// Simulated end.
    pub end: i64,
    /// Collectors and peers.
    pub collectors: Vec<CollectorTruth>,
    /// Files written.
    pub files: Files,
    /// Counts.
    pub counts: Counts,
    /// Injected incidents.
    pub incidents: Vec<Incident>,
    /// Legitimate origin changes.
    pub legit_changes: Vec<LegitChange>,
    /// Anycast prefixes present from the start.
    pub anycast: Vec<Anycast>,
}

impl Truth {
    /// Total collector peers.
    pub fn total_peers(&self) -> usize {
        self.collectors.iter().map(|c| c.peers.len()).sum()
    }

    /// Simulated days (for false alarms per day).
    pub fn days(&self) -> f64 {
        (self.end - self.start).max(1) as f64 / 86_400.0
    }
}

//! Origin-hijack detection (Radar's "origin hijack"): exact-prefix origin
//! changes (MOAS) and more-specific hijacks, scored with evidence tags.
//!
//! For every announced prefix the detector looks up the most specific
//! prefix covering it (itself included) that has *established* origins
//! ([`super::baseline`]). The announcement is a hijack announcement when its
//! origin is not among them; the victims are those established origins.
//! Filtered as benign, before any event exists:
//!
//! * the origin is established there (long-standing MOAS) or the prefix is a
//!   de-aggregate of its own origin's block — by definition above;
//! * the AS path contains a victim: a customer's delegated block announced
//!   through (or re-originated by a customer of) the old origin;
//! * RPKI data is loaded and says the new origin is valid for the prefix
//!   (as Radar, which never publishes `rpki_new_origin_valid`);
//! * the path ends in an AS_SET (no single origin, RFC 6811).
//!
//! Sibling origins, relationships, DDoS-protection services, long prefixes
//! and bogon origins are not filtered: they get negative evidence tags
//! ([`tags`]), so the operator can still see them at low confidence.
//!
//! Events aggregate per (hijacker, victim set) while any peer carries them
//! (see [`event`]); `docs/events.md` documents the lifecycle. Precision
//! controls, all in [`HijackConfig`]: an event is *pending* (no id, no
//! change reported) until `min_peers` distinct collector peers carried it;
//! an ended event is kept `rejoin_secs` so a returning route rejoins it; an
//! optional warm-up learns the origins widely seen at the start of the
//! stream. Optionally (`forged_origin`), the established origin behind a
//! never-seen neighbour raises a forged-origin event (`event_type` 2) with
//! the neighbour as the suspect.

pub mod event;
pub mod tags;
pub mod typo;

use crate::fasthash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::sync::Arc;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::Detector;
use super::active::ActivePeers;
use super::baseline;
use super::state::{RoutingState, Slot, StateStats};
use crate::bootstrap::{BootstrapError, TableReport};
use crate::evidence::{Evidence, RovState};
use crate::model::event::hijack_type;
use crate::model::{
    AsPath, Asn, ChangeKind, Event, EventChange, PeerId, PeerTable, RouteEvent, RouteMessage,
    SamplePath, Timestamp,
};
use event::OpenEvent;

/// Detector settings.
#[derive(Clone, Debug)]
pub struct HijackConfig {
    /// Continuous visibility after which an origin is established.
    pub learn_secs: u32,
    /// An ongoing event with no hijack announcement for this long is stale.
    pub stale_secs: i64,
    /// Counter-only changes are reported at most this often per event.
    pub refresh_secs: i64,
    /// Sample AS paths kept per event.
    pub max_sample_paths: usize,
    /// Known DDoS-protection ASNs (`dps_new_origin`).
    pub dps_asns: Vec<Asn>,
    /// A route of an ended event that comes back within this many seconds
    /// (message time) rejoins that event instead of opening a new one.
    pub rejoin_secs: i64,
    /// Distinct collector peers that must have carried an event before it
    /// is published; until then it is pending and reports nothing.
    pub min_peers: usize,
    /// Seconds of message time from the first message during which the
    /// detector only learns: no event is raised, and at the end every origin
    /// then carried by at least `warmup_min_peers` route slots is
    /// established. 0 disables the warm-up.
    pub warmup_secs: u32,
    /// Route slots an origin needs at the end of the warm-up to be
    /// established by it.
    pub warmup_min_peers: usize,
    /// Raise forged-origin (type-1, new adjacency) events.
    pub forged_origin: bool,
    /// Forged-origin detection starts this many seconds of message time
    /// after the first message (the AS adjacencies are learned from the
    /// stream until then).
    pub forged_learn_secs: u32,
    /// One incident is one event: a hijack announcement against new victims
    /// joins a live event of the same hijacker that saw a hijack
    /// announcement within this many seconds (0: one event per victim set).
    pub group_secs: i64,
    /// A collector peer announcing at least this many prefixes within
    /// [`RESYNC_WINDOW_SECS`] (or just back from a session reset) is
    /// re-sending its table: origins it announces then that are not
    /// established, and that no live event carries, are its long-standing
    /// routes and become established (as from a RIB dump) instead of opening
    /// events. 0 disables.
    pub resync_min_prefixes: u32,
}

/// Default rejoin window: one hour of message time.
pub const DEFAULT_REJOIN_SECS: i64 = 3600;
/// Default minimum of collector peers before an event is published.
pub const DEFAULT_MIN_PEERS: usize = 2;
/// Default warm-up: none.
pub const DEFAULT_WARMUP_SECS: u32 = 0;
/// Default route slots for an origin to be established by the warm-up.
pub const DEFAULT_WARMUP_MIN_PEERS: usize = 3;
/// Default adjacency learning time before forged-origin detection starts.
pub const DEFAULT_FORGED_LEARN_SECS: u32 = 3600;
/// Default window in which one hijacker's announcements against different
/// victims are one event: an hour, as the rejoin window.
pub const DEFAULT_GROUP_SECS: i64 = 3600;

/// Upstreams remembered per origin (multi-homed origins have a few; more is
/// path hunting noise).
const MAX_UPSTREAMS: usize = 16;
/// An upstream seen above more origins than this is a large transit network:
/// sharing it says nothing about two origins (2008, 45 peers: the tier-1s
/// and large regionals are upstreams of thousands of origins, a mid-size
/// provider of tens to a few hundred).
pub const MAX_SHARED_UPSTREAM_DEGREE: u32 = 300;

/// Default table re-send threshold: 2,000 prefixes from one peer in a
/// minute. Ordinary churn of a 2008 route-views2 peer is mostly in the
/// hundreds a minute (path changes reach a few thousand); a re-send runs at
/// thousands a second.
pub const DEFAULT_RESYNC_MIN_PREFIXES: u32 = 2_000;
/// A burst is a re-send only while at most this share of the active peers
/// (and at least one) bursts at once: a large incident makes every peer
/// burst, a re-send only the peer whose session reset.
pub const RESYNC_MAX_PEER_SHARE: f64 = 0.1;
/// Window over which a peer's announced prefixes are counted for the
/// re-send test.
pub const RESYNC_WINDOW_SECS: i64 = 60;
/// A re-send is taken to go on this long after the last window over the
/// threshold, and after a session came back up.
pub const RESYNC_TAIL_SECS: i64 = 300;

/// Default stale time: 6 hours without a hijack announcement.
pub const DEFAULT_STALE_SECS: i64 = 6 * 3600;

impl Default for HijackConfig {
    fn default() -> Self {
        HijackConfig {
            learn_secs: baseline::DEFAULT_LEARN_SECS,
            stale_secs: DEFAULT_STALE_SECS,
            refresh_secs: 300,
            max_sample_paths: 5,
            dps_asns: tags::DEFAULT_DPS_ASNS.iter().map(|a| Asn(*a)).collect(),
            rejoin_secs: DEFAULT_REJOIN_SECS,
            min_peers: DEFAULT_MIN_PEERS,
            warmup_secs: DEFAULT_WARMUP_SECS,
            warmup_min_peers: DEFAULT_WARMUP_MIN_PEERS,
            forged_origin: false,
            forged_learn_secs: DEFAULT_FORGED_LEARN_SECS,
            group_secs: DEFAULT_GROUP_SECS,
            resync_min_prefixes: DEFAULT_RESYNC_MIN_PREFIXES,
        }
    }
}

/// Counters of what the detector did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HijackStats {
    /// Prefix announcements processed.
    pub announcements: u64,
    /// Prefix withdrawals processed.
    pub withdrawals: u64,
    /// Announcements from RIB entries (baseline).
    pub rib_entries: u64,
    /// Session resets processed.
    pub peer_downs: u64,
    /// Announcements classified as hijack announcements.
    pub hijack_announcements: u64,
    /// Announcements with a foreign origin filtered because the path
    /// contains the victim.
    pub filtered_path_via_victim: u64,
    /// Filtered because the new origin is RPKI-valid.
    pub filtered_rpki_valid: u64,
    /// Announcements with the established origin behind a never-seen
    /// adjacency (forged-origin announcements).
    pub forged_announcements: u64,
    /// Candidate events created (published or not).
    pub candidates: u64,
    /// Events published (opened).
    pub events_opened: u64,
    /// Published events ended.
    pub events_ended: u64,
    /// Ended events that rejoined within the rejoin window.
    pub events_rejoined: u64,
    /// Candidates that ended and expired without ever being published.
    pub pending_dropped: u64,
    /// Origins established at the end of the warm-up.
    pub warmup_established: u64,
    /// Hijack announcements against new victims that joined a live event of
    /// the same hijacker (one incident, one event).
    pub grouped: u64,
    /// Origins established because a peer re-sending its table announced
    /// them (see [`HijackConfig::resync_min_prefixes`]).
    pub resync_established: u64,
}

/// One peer's announcement rate, for the table re-send test.
#[derive(Clone, Copy, Debug, Default)]
struct Burst {
    window_start: Timestamp,
    count: u32,
    /// Announcements of the burst whose origin is not established / is.
    hits: u32,
    legit: u32,
    /// The peer is bursting until then.
    until: Timestamp,
}

/// A burst is a re-send only while at most this share of its classified
/// announcements had a non-established origin: a re-sent table is mostly
/// the Internet's ordinary routes, an incident's burst mostly new origins.
pub const RESYNC_MAX_NEW_SHARE: f64 = 0.2;

/// A classified hijack announcement.
struct Hit {
    victims: Vec<Asn>,
    event_type: u8,
    more_specific: bool,
    hijacker_on_covering: bool,
    /// The hijacker is a past origin of exactly this prefix.
    seen_before: bool,
}

/// How an announcement's origin relates to the baseline.
enum Class {
    /// No established origin covers the prefix.
    Unknown,
    /// The origin is established there.
    Legit,
    /// Foreign origin, filtered as benign.
    Filtered,
    /// A hijack announcement.
    Hit(Hit),
}

/// What happened to an event during one message.
#[derive(Copy, Clone, Default)]
struct Touch {
    grew: bool,
    rejoined: bool,
}

/// What identifies an event: hijacker, victim set, forged-origin or not.
type EventKey = (Asn, Vec<Asn>, bool);

/// The hijack detector.
pub struct HijackDetector {
    cfg: HijackConfig,
    evidence: Arc<Evidence>,
    state: RoutingState,
    adjacency: HashSet<u64>,
    /// Upstreams seen next to each origin (the AS before it on a path).
    upstreams: HashMap<Asn, Vec<Asn>>,
    /// How many origins each AS was seen as the upstream of.
    downstream_count: HashMap<Asn, u32>,
    /// Adjacencies of live or recently ended forged-origin events: they stay
    /// suspect after their first sighting, so more peers and prefixes join.
    suspect_edges: HashSet<u64>,
    /// Live events (pending or published) by internal key.
    events: BTreeMap<u64, OpenEvent>,
    /// Ended events kept for the rejoin window, by internal key.
    ended: HashMap<u64, OpenEvent>,
    /// (end time, key) of ended events, oldest first, for expiry.
    ended_order: VecDeque<(Timestamp, u64)>,
    by_key: HashMap<EventKey, u64>,
    carrier_of: HashMap<(IpNet, Slot), u64>,
    reported_score: HashMap<u64, i32>,
    next_key: u64,
    next_id: u64,
    /// First message time seen.
    start: Option<Timestamp>,
    /// The warm-up is over (or disabled).
    warm: bool,
    /// Fed warm-up messages ([`Detector::learn`]): classify nothing.
    learning: bool,
    /// Collector peers that could have seen a route now (visibility shares).
    active: ActivePeers,
    /// Announcement rate per peer (table re-sends); not checkpointed: a
    /// re-send in progress at a restart is seen again from its next minute.
    bursts: HashMap<PeerId, Burst>,
    /// The message being observed comes from a peer bursting (a table
    /// re-send if [`Self::mostly_known_burst`] and few peers burst).
    resync_now: bool,
    now: Timestamp,
    stats: HijackStats,
}

/// A new candidate event with nothing attached yet.
fn blank_event(
    key: u64,
    hijacker: Asn,
    victims: Vec<Asn>,
    event_type: u8,
    ts: Timestamp,
    newcomer: bool,
    adjacent: bool,
) -> OpenEvent {
    OpenEvent {
        key,
        id: 0,
        hijacker,
        victims,
        event_type,
        carriers: BTreeMap::new(),
        peers: Default::default(),
        peer_asns: Default::default(),
        peer_ips: Default::default(),
        msgs: 0,
        min_hijack_ts: ts,
        max_hijack_ts: ts,
        max_msg_ts: ts,
        peak_peers: 0,
        peak_share: 0.0,
        more_specific: false,
        hijacker_on_covering: false,
        newcomer,
        adjacent,
        shared_upstream: false,
        seen_before: 0,
        near_victims: Vec::new(),
        typo_of: None,
        typos: 0,
        samples: Vec::new(),
        tags: Vec::new(),
        ended_ts: None,
        reported_stale: false,
        dirty: false,
        last_report: ts,
    }
}

/// An [`OpenEvent`] as a checkpoint stores it (a copy of its fields, so
/// the checkpoint format does not change when the in-memory record does).
#[derive(Serialize, Deserialize)]
struct EventRepr {
    key: u64,
    id: u64,
    hijacker: Asn,
    victims: Vec<Asn>,
    event_type: u8,
    carriers: Vec<(IpNet, Vec<Slot>)>,
    peers: Vec<PeerId>,
    peer_asns: Vec<Asn>,
    peer_ips: Vec<std::net::IpAddr>,
    msgs: u64,
    min_hijack_ts: Timestamp,
    max_hijack_ts: Timestamp,
    max_msg_ts: Timestamp,
    peak_peers: usize,
    /// `f64::to_bits`: exact through JSON.
    peak_share_bits: u64,
    more_specific: bool,
    hijacker_on_covering: bool,
    newcomer: bool,
    adjacent: bool,
    #[serde(default)]
    shared_upstream: bool,
    #[serde(default)]
    seen_before: u32,
    #[serde(default)]
    near_victims: Vec<Asn>,
    #[serde(default)]
    typo_of: Option<(IpNet, IpNet)>,
    #[serde(default)]
    typos: u32,
    samples: Vec<SamplePath>,
    tags: Vec<crate::model::Tag>,
    ended_ts: Option<Timestamp>,
    reported_stale: bool,
    dirty: bool,
    last_report: Timestamp,
}

impl EventRepr {
    fn of(e: &OpenEvent) -> Self {
        EventRepr {
            key: e.key,
            id: e.id,
            hijacker: e.hijacker,
            victims: e.victims.clone(),
            event_type: e.event_type,
            carriers: e
                .carriers
                .iter()
                .map(|(p, s)| (*p, s.iter().copied().collect()))
                .collect(),
            peers: e.peers.iter().copied().collect(),
            peer_asns: e.peer_asns.iter().copied().collect(),
            peer_ips: e.peer_ips.iter().copied().collect(),
            msgs: e.msgs,
            min_hijack_ts: e.min_hijack_ts,
            max_hijack_ts: e.max_hijack_ts,
            max_msg_ts: e.max_msg_ts,
            peak_peers: e.peak_peers,
            peak_share_bits: e.peak_share.to_bits(),
            more_specific: e.more_specific,
            hijacker_on_covering: e.hijacker_on_covering,
            newcomer: e.newcomer,
            adjacent: e.adjacent,
            shared_upstream: e.shared_upstream,
            seen_before: e.seen_before,
            near_victims: e.near_victims.clone(),
            typo_of: e.typo_of,
            typos: e.typos,
            samples: e.samples.clone(),
            tags: e.tags.clone(),
            ended_ts: e.ended_ts,
            reported_stale: e.reported_stale,
            dirty: e.dirty,
            last_report: e.last_report,
        }
    }

    fn into_event(self) -> OpenEvent {
        let mut e = blank_event(
            self.key,
            self.hijacker,
            self.victims,
            self.event_type,
            self.min_hijack_ts,
            self.newcomer,
            self.adjacent,
        );
        e.id = self.id;
        e.carriers = self
            .carriers
            .into_iter()
            .map(|(p, s)| (p, s.into_iter().collect()))
            .collect();
        e.peers = self.peers.into_iter().collect();
        e.peer_asns = self.peer_asns.into_iter().collect();
        e.peer_ips = self.peer_ips.into_iter().collect();
        e.msgs = self.msgs;
        e.max_hijack_ts = self.max_hijack_ts;
        e.max_msg_ts = self.max_msg_ts;
        e.peak_peers = self.peak_peers;
        e.peak_share = f64::from_bits(self.peak_share_bits);
        e.more_specific = self.more_specific;
        e.hijacker_on_covering = self.hijacker_on_covering;
        e.shared_upstream = self.shared_upstream;
        e.seen_before = self.seen_before;
        e.near_victims = self.near_victims;
        e.typo_of = self.typo_of;
        e.typos = self.typos;
        e.samples = self.samples;
        e.tags = self.tags;
        e.ended_ts = self.ended_ts;
        e.reported_stale = self.reported_stale;
        e.dirty = self.dirty;
        e.last_report = self.last_report;
        e
    }
}

/// Everything a [`HijackDetector`] learned from the stream, for a
/// checkpoint: the routing state and baseline (`S` is `&RoutingState` when
/// writing, `RoutingState` when reading), the AS adjacencies, every live,
/// pending and recently ended event with its public id, and the id
/// counters. Settings and evidence are not in it: they come from the
/// configuration of the process that restores it.
#[derive(Serialize, Deserialize)]
pub struct HijackSnapshot<S> {
    /// Routing state and baseline.
    pub state: S,
    adjacency: Vec<u64>,
    /// (origin, upstream) pairs; absent in checkpoints of older versions.
    #[serde(default)]
    upstreams: Vec<(Asn, Asn)>,
    suspect_edges: Vec<u64>,
    /// Last message time per active collector peer; absent in older
    /// checkpoints.
    #[serde(default)]
    peer_seen: Vec<(PeerId, Timestamp)>,
    events: Vec<EventRepr>,
    ended: Vec<EventRepr>,
    ended_order: Vec<(Timestamp, u64)>,
    by_key: Vec<(Asn, Vec<Asn>, bool, u64)>,
    carrier_of: Vec<(IpNet, Slot, u64)>,
    reported_score: Vec<(u64, i32)>,
    next_key: u64,
    next_id: u64,
    start: Option<Timestamp>,
    warm: bool,
    now: Timestamp,
    stats: HijackStats,
}

/// Why a snapshot cannot be restored into a detector.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The snapshot was taken with other settings.
    #[error("{field}: checkpoint has {found}, this configuration {expected}")]
    Mismatch {
        /// Which setting.
        field: &'static str,
        /// In the checkpoint.
        found: String,
        /// In this process.
        expected: String,
    },
    /// The snapshot contradicts itself.
    #[error("inconsistent checkpoint: {0}")]
    Inconsistent(String),
}

fn sorted<T: Ord + Copy>(it: impl Iterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = it.collect();
    v.sort_unstable();
    v
}

fn edge(a: Asn, b: Asn) -> u64 {
    let (x, y) = if a.0 <= b.0 { (a.0, b.0) } else { (b.0, a.0) };
    (u64::from(x) << 32) | u64::from(y)
}

impl HijackDetector {
    /// A detector with an empty baseline.
    pub fn new(cfg: HijackConfig, evidence: Arc<Evidence>) -> Self {
        HijackDetector {
            state: RoutingState::new(cfg.learn_secs),
            warm: cfg.warmup_secs == 0,
            learning: false,
            active: ActivePeers::new(),
            bursts: HashMap::new(),
            resync_now: false,
            cfg,
            evidence,
            adjacency: HashSet::new(),
            upstreams: HashMap::new(),
            downstream_count: HashMap::new(),
            suspect_edges: HashSet::new(),
            events: BTreeMap::new(),
            ended: HashMap::new(),
            ended_order: VecDeque::new(),
            by_key: HashMap::new(),
            carrier_of: HashMap::new(),
            reported_score: HashMap::new(),
            next_key: 1,
            next_id: 1,
            start: None,
            now: Timestamp::default(),
            stats: HijackStats::default(),
        }
    }

    /// Swaps in a new evidence snapshot (tags use it from the next change).
    pub fn set_evidence(&mut self, evidence: Arc<Evidence>) {
        self.evidence = evidence;
    }

    /// Seeds the baseline from a pfx2as / pyasn table.
    pub fn bootstrap_table<R: Read + Send + 'static>(
        &mut self,
        input: R,
    ) -> Result<TableReport, BootstrapError> {
        baseline::load_table(&mut self.state, input)
    }

    /// Seeds the baseline from one message of a bootstrap RIB dump: its
    /// origins become established; the routes are not kept.
    pub fn bootstrap_message(&mut self, msg: &RouteMessage) -> usize {
        baseline::establish_message(&mut self.state, msg)
    }

    /// Establishes one (prefix, origin) pair.
    pub fn establish(&mut self, prefix: IpNet, origin: Asn) {
        self.state.establish(prefix, origin);
    }

    /// The routing state.
    pub fn state(&self) -> &RoutingState {
        &self.state
    }

    /// Size of the routing state.
    pub fn state_stats(&self) -> StateStats {
        self.state.stats()
    }

    /// Counters.
    pub fn stats(&self) -> &HijackStats {
        &self.stats
    }

    /// A snapshot of everything learned so far (see [`HijackSnapshot`]).
    /// Sets are written sorted, so equal states give equal bytes.
    pub fn snapshot(&self) -> HijackSnapshot<&RoutingState> {
        let mut ended: Vec<EventRepr> = self.ended.values().map(EventRepr::of).collect();
        ended.sort_unstable_by_key(|e| e.key);
        let mut by_key: Vec<(Asn, Vec<Asn>, bool, u64)> = self
            .by_key
            .iter()
            .map(|((h, v, f), k)| (*h, v.clone(), *f, *k))
            .collect();
        by_key.sort_unstable();
        HijackSnapshot {
            state: &self.state,
            adjacency: sorted(self.adjacency.iter().copied()),
            upstreams: sorted(
                self.upstreams
                    .iter()
                    .flat_map(|(o, us)| us.iter().map(move |u| (*o, *u))),
            ),
            suspect_edges: sorted(self.suspect_edges.iter().copied()),
            peer_seen: self.active.to_vec(),
            events: self.events.values().map(EventRepr::of).collect(),
            ended,
            ended_order: self.ended_order.iter().copied().collect(),
            by_key,
            carrier_of: sorted(self.carrier_of.iter().map(|((p, s), k)| (*p, *s, *k))),
            reported_score: sorted(self.reported_score.iter().map(|(k, v)| (*k, *v))),
            next_key: self.next_key,
            next_id: self.next_id,
            start: self.start,
            warm: self.warm,
            now: self.now,
            stats: self.stats.clone(),
        }
    }

    /// Replaces everything learned (baseline included) with a snapshot's.
    /// The settings and evidence stay this detector's.
    pub fn restore(&mut self, snap: HijackSnapshot<RoutingState>) -> Result<(), RestoreError> {
        let state = snap.state;
        if state.learn_secs() != self.cfg.learn_secs {
            return Err(RestoreError::Mismatch {
                field: "learn_secs",
                found: state.learn_secs().to_string(),
                expected: self.cfg.learn_secs.to_string(),
            });
        }
        let mut events = BTreeMap::new();
        for e in snap.events {
            events.insert(e.key, e.into_event());
        }
        let mut ended = HashMap::new();
        for e in snap.ended {
            ended.insert(e.key, e.into_event());
        }
        for (_, k) in &snap.ended_order {
            if events.contains_key(k) && ended.contains_key(k) {
                return Err(RestoreError::Inconsistent(format!(
                    "event key {k} both live and ended"
                )));
            }
        }
        if snap.next_key
            <= events
                .keys()
                .chain(ended.keys())
                .copied()
                .max()
                .unwrap_or(0)
        {
            return Err(RestoreError::Inconsistent(format!(
                "next_key {} not above the events' keys",
                snap.next_key
            )));
        }
        self.state = state;
        self.adjacency = snap.adjacency.into_iter().collect();
        self.upstreams.clear();
        self.downstream_count.clear();
        for (o, u) in snap.upstreams {
            self.add_upstream(o, u);
        }
        self.suspect_edges = snap.suspect_edges.into_iter().collect();
        self.active = ActivePeers::from_vec(snap.peer_seen);
        self.events = events;
        self.ended = ended;
        self.ended_order = snap.ended_order.into_iter().collect();
        self.by_key = snap
            .by_key
            .into_iter()
            .map(|(h, v, f, k)| ((h, v, f), k))
            .collect();
        self.carrier_of = snap
            .carrier_of
            .into_iter()
            .map(|(p, s, k)| ((p, s), k))
            .collect();
        self.reported_score = snap.reported_score.into_iter().collect();
        self.next_key = snap.next_key;
        self.next_id = snap.next_id;
        self.start = snap.start;
        self.warm = snap.warm || self.cfg.warmup_secs == 0;
        self.now = snap.now;
        self.stats = snap.stats;
        Ok(())
    }

    /// The next published event gets at least this id (ids already used by
    /// a store the detector writes into are never handed out again).
    pub fn reserve_ids(&mut self, next: u64) {
        self.next_id = self.next_id.max(next);
    }

    /// The id the next published event gets.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// Events currently open and published, by opening order.
    pub fn open_events(&self) -> impl Iterator<Item = &OpenEvent> {
        self.events.values().filter(|e| e.is_published())
    }

    /// Candidate events not (yet) seen by enough collector peers.
    pub fn pending_events(&self) -> impl Iterator<Item = &OpenEvent> {
        self.events.values().filter(|e| !e.is_published())
    }

    fn observe_path(&mut self, path: &AsPath) {
        if let Some(seq) = path.dedup_sequence() {
            for w in seq.windows(2) {
                if let [a, b] = w {
                    self.adjacency.insert(edge(*a, *b));
                }
            }
            if let [.., up, origin] = seq.as_slice() {
                self.add_upstream(*origin, *up);
            }
        }
    }

    /// Records `up` as seen right before `origin` on a path.
    fn add_upstream(&mut self, origin: Asn, up: Asn) {
        let ups = self.upstreams.entry(origin).or_default();
        if ups.len() < MAX_UPSTREAMS && !ups.contains(&up) {
            ups.push(up);
            *self.downstream_count.entry(up).or_default() += 1;
        }
    }

    /// True if `a` and a victim were seen behind one common upstream that is
    /// neither in the relationship clique nor a high-degree transit AS: the
    /// typical setting of a legitimate new origin (a customer of the victim's
    /// upstream, re-homed or multi-homed space), which `no_known_relationship`
    /// would otherwise count against it.
    fn shares_upstream(&self, a: Asn, victims: &[Asn]) -> bool {
        let Some(mine) = self.upstreams.get(&a) else {
            return false;
        };
        let clique = &self.evidence.asrel;
        victims.iter().any(|v| {
            self.upstreams.get(v).is_some_and(|theirs| {
                mine.iter().any(|u| {
                    theirs.contains(u)
                        && !clique.is_clique(*u)
                        && self.downstream_count.get(u).copied().unwrap_or(0)
                            <= MAX_SHARED_UPSTREAM_DEGREE
                })
            })
        })
    }

    /// The victims `a` was seen adjacent to, or behind a common upstream
    /// with (see [`Self::shares_upstream`]): its neighbourhood.
    fn near_victims(&self, a: Asn, victims: &[Asn]) -> Vec<Asn> {
        victims
            .iter()
            .copied()
            .filter(|v| {
                self.adjacency.contains(&edge(a, *v))
                    || self.shares_upstream(a, std::slice::from_ref(v))
            })
            .collect()
    }

    fn adjacent(&self, a: Asn, victims: &[Asn]) -> bool {
        victims
            .iter()
            .any(|v| self.adjacency.contains(&edge(a, *v)))
    }

    fn classify(&mut self, prefix: IpNet, origin: Asn, path: &AsPath, ts: Timestamp) -> Class {
        let Some((cover, est)) = self.state.most_specific_established(prefix, ts) else {
            return Class::Unknown;
        };
        if est.contains(&origin) {
            return Class::Legit;
        }
        let victims: Vec<Asn> = est.to_vec();
        if victims.iter().any(|v| path.contains(*v)) {
            self.stats.filtered_path_via_victim += 1;
            return Class::Filtered;
        }
        let ev = &self.evidence;
        if !ev.rpki.is_empty() && ev.rpki.validate(&prefix, origin) == RovState::Valid {
            self.stats.filtered_rpki_valid += 1;
            return Class::Filtered;
        }
        let event_type = if cover == prefix {
            hijack_type::EXACT_PREFIX
        } else {
            hijack_type::MORE_SPECIFIC
        };
        let more_specific = victims
            .iter()
            .any(|v| self.state.established_on_less_specific(prefix, *v, ts));
        let hijacker_on_covering = self.state.established_on_less_specific(prefix, origin, ts);
        let seen_before = self.state.seen_before(prefix, origin);
        Class::Hit(Hit {
            victims,
            event_type,
            more_specific,
            hijacker_on_covering,
            seen_before,
        })
    }

    /// A forged-origin announcement: the established origin of the prefix,
    /// behind a neighbour never seen adjacent to it on any path. The
    /// neighbour is the suspect ("hijacker"), the origin the victim.
    fn classify_forged(
        &mut self,
        prefix: IpNet,
        origin: Asn,
        path: &AsPath,
        ts: Timestamp,
    ) -> Option<(Asn, Hit)> {
        let seq = path.dedup_sequence()?;
        let [.., neighbour, last] = seq.as_slice() else {
            return None;
        };
        if *last != origin || *neighbour == origin {
            return None;
        }
        let e = edge(*neighbour, origin);
        if self.adjacency.contains(&e) && !self.suspect_edges.contains(&e) {
            return None;
        }
        if self.evidence.orgs.siblings(*neighbour, origin) {
            return None;
        }
        let more_specific = self.state.established_on_less_specific(prefix, origin, ts);
        let hijacker_on_covering = self
            .state
            .established_on_less_specific(prefix, *neighbour, ts);
        Some((
            *neighbour,
            Hit {
                victims: vec![origin],
                event_type: hijack_type::FORGED_ORIGIN,
                more_specific,
                hijacker_on_covering,
                seen_before: false,
            },
        ))
    }

    /// True once the forged-origin detector has learned adjacencies long
    /// enough.
    fn forged_active(&self, ts: Timestamp) -> bool {
        self.cfg.forged_origin
            && self.warm
            && self
                .start
                .is_some_and(|s| ts.secs_since(s) >= i64::from(self.cfg.forged_learn_secs))
    }

    /// Ends the warm-up at `ts` if it is due: origins carried by enough
    /// slots become established.
    fn check_warmup(&mut self, ts: Timestamp) {
        if self.warm {
            return;
        }
        let Some(start) = self.start else {
            return;
        };
        if ts.secs_since(start) < i64::from(self.cfg.warmup_secs) {
            return;
        }
        self.warm = true;
        let n = self
            .state
            .establish_visible(self.cfg.warmup_min_peers.max(1), 0, ts);
        self.stats.warmup_established += n as u64;
    }

    /// Collector peers active now (at least 1, a share's denominator).
    fn active_peers(&self) -> usize {
        self.active.count().max(1)
    }

    /// True when a live event of `hijacker` carries `prefix`.
    fn live_hijack(&self, prefix: IpNet, hijacker: Asn) -> bool {
        self.events
            .values()
            .any(|e| e.hijacker == hijacker && e.carriers.contains_key(&prefix))
    }

    /// Counts a bursting peer's classified announcement.
    fn count_burst_class(&mut self, peer: PeerId, class: &Class) {
        if let Some(b) = self.bursts.get_mut(&peer) {
            match class {
                Class::Hit(_) => b.hits = b.hits.saturating_add(1),
                Class::Legit => b.legit = b.legit.saturating_add(1),
                _ => {}
            }
        }
    }

    /// True when the peer's burst so far is mostly routes of established
    /// origins (see [`RESYNC_MAX_NEW_SHARE`]).
    fn mostly_known_burst(&self, peer: PeerId) -> bool {
        self.bursts.get(&peer).is_some_and(|b| {
            let total = f64::from(b.hits) + f64::from(b.legit);
            total > 0.0 && f64::from(b.hits) <= RESYNC_MAX_NEW_SHARE * total
        })
    }

    /// True while only a few peers burst at once (a re-send, not an
    /// incident seen everywhere; see [`RESYNC_MAX_PEER_SHARE`]).
    fn few_peers_bursting(&mut self, ts: Timestamp) -> bool {
        let active = self.active_peers();
        let bursting = self.bursts.values().filter(|b| ts <= b.until).count();
        let max = ((active as f64 * RESYNC_MAX_PEER_SHARE).floor() as usize).max(1);
        bursting <= max
    }

    /// Counts `announced` prefixes from `peer` at `ts` and says whether the
    /// peer is re-sending its table.
    fn resyncing(&mut self, peer: PeerId, announced: usize, ts: Timestamp) -> bool {
        if self.cfg.resync_min_prefixes == 0 {
            return false;
        }
        let b = self.bursts.entry(peer).or_default();
        if ts.secs_since(b.window_start) >= RESYNC_WINDOW_SECS || ts < b.window_start {
            b.window_start = ts;
            b.count = 0;
            if ts > b.until {
                b.hits = 0;
                b.legit = 0;
            }
        }
        b.count = b
            .count
            .saturating_add(u32::try_from(announced).unwrap_or(u32::MAX));
        if b.count >= self.cfg.resync_min_prefixes {
            b.until = ts.add_secs(RESYNC_TAIL_SECS);
        }
        ts <= b.until && b.until != Timestamp::default()
    }

    /// The hijacker's own established prefix that `prefix` is a typo of.
    fn typo_of(&self, prefix: IpNet, hijacker: Asn, ts: Timestamp) -> Option<IpNet> {
        typo::typo_of(&prefix, |c| {
            self.state.established_origins(*c, ts).contains(&hijacker)
        })
    }

    /// Removes (prefix, slot) from the event carrying it.
    fn detach(&mut self, prefix: IpNet, slot: Slot, ts: Timestamp) -> Option<u64> {
        let id = self.carrier_of.remove(&(prefix, slot))?;
        if let Some(ev) = self.events.get_mut(&id) {
            if let Some(set) = ev.carriers.get_mut(&prefix) {
                set.remove(&slot);
            }
            ev.max_msg_ts = ev.max_msg_ts.max(ts);
            ev.dirty = true;
        }
        Some(id)
    }

    #[allow(clippy::too_many_arguments)]
    fn attach(
        &mut self,
        prefix: IpNet,
        slot: Slot,
        msg: &RouteMessage,
        peers: &PeerTable,
        origin: Asn,
        path: &AsPath,
        hit: Hit,
        newcomer: bool,
        touched: &mut BTreeMap<u64, Touch>,
    ) {
        let ts = msg.ts;
        let forged = hit.event_type == hijack_type::FORGED_ORIGIN;
        let key: EventKey = (origin, hit.victims, forged);
        let mut found = self.by_key.get(&key).copied();
        if let Some(k) = found
            && !self.events.contains_key(&k)
        {
            // ended: rejoin within the window, else forget it
            match self.ended.remove(&k) {
                Some(mut e)
                    if e.ended_ts
                        .is_some_and(|end| ts.secs_since(end) <= self.cfg.rejoin_secs) =>
                {
                    e.ended_ts = None;
                    self.events.insert(k, e);
                    self.stats.events_rejoined += 1;
                    touched.entry(k).or_default().rejoined = true;
                }
                Some(e) => {
                    if !e.is_published() {
                        self.stats.pending_dropped += 1;
                    }
                    self.by_key.retain(|_, v| *v != k);
                    found = None;
                }
                None => found = None,
            }
        }
        if found.is_none() {
            found = self.live_event_of(origin, forged, ts);
            if let Some(k) = found {
                self.by_key.insert(key.clone(), k);
                let near = self.near_victims(origin, &key.1);
                let shared = self.shares_upstream(origin, &key.1);
                let adjacent = self.adjacent(origin, &key.1);
                if let Some(ev) = self.events.get_mut(&k) {
                    ev.shared_upstream |= shared;
                    ev.adjacent |= adjacent;
                    ev.near_victims.extend(near);
                    ev.near_victims.sort_unstable();
                    ev.near_victims.dedup();
                    ev.victims.extend(key.1.iter().copied());
                    ev.victims.sort_unstable();
                    ev.victims.dedup();
                }
                self.stats.grouped += 1;
            }
        }
        let id = match found {
            Some(k) => k,
            None => {
                let id = self.next_key;
                self.next_key += 1;
                let adjacent = self.adjacent(origin, &key.1);
                let shared_upstream = self.shares_upstream(origin, &key.1);
                self.events.insert(
                    id,
                    blank_event(
                        id,
                        origin,
                        key.1.clone(),
                        hit.event_type,
                        ts,
                        newcomer,
                        adjacent,
                    ),
                );
                let near = self.near_victims(origin, &key.1);
                if let Some(e) = self.events.get_mut(&id) {
                    e.shared_upstream = shared_upstream;
                    e.near_victims = near;
                }
                self.by_key.insert(key, id);
                self.stats.candidates += 1;
                touched.entry(id).or_default().grew = true;
                id
            }
        };
        let total_peers = self.active_peers();
        let typo = self
            .events
            .get(&id)
            .filter(|ev| !ev.carriers.contains_key(&prefix))
            .and_then(|_| self.typo_of(prefix, origin, ts));
        let state = &self.state;
        let Some(ev) = self.events.get_mut(&id) else {
            return;
        };
        let t = touched.entry(id).or_default();
        ev.msgs += 1;
        ev.max_hijack_ts = ev.max_hijack_ts.max(ts);
        ev.max_msg_ts = ev.max_msg_ts.max(ts);
        ev.dirty = true;
        if !ev.carriers.contains_key(&prefix) {
            t.grew = true;
            ev.seen_before += u32::from(hit.seen_before);
            if let Some(own) = typo {
                ev.typo_of = ev.typo_of.or(Some((prefix, own)));
                ev.typos += 1;
            }
        }
        ev.more_specific |= hit.more_specific;
        ev.hijacker_on_covering |= hit.hijacker_on_covering;
        ev.carriers.entry(prefix).or_default().insert(slot);
        if ev.peers.insert(msg.peer) {
            t.grew = true;
            if let Some(info) = peers.info(msg.peer) {
                ev.peer_asns.insert(info.asn);
                ev.peer_ips.insert(info.ip);
                if ev.samples.len() < self.cfg.max_sample_paths {
                    ev.samples.push(SamplePath {
                        collector: peers.collector_name(info.collector).to_string(),
                        peer_ip: info.ip,
                        peer_asn: info.asn,
                        prefix: prefix.to_string(),
                        as_path: path.to_string(),
                        ts,
                    });
                }
            }
        }
        let carrying = ev.carrying_peers(|s| state.slot_peer(s));
        ev.peak_peers = ev.peak_peers.max(carrying);
        ev.peak_share = ev.peak_share.max(carrying as f64 / total_peers as f64);
        self.carrier_of.insert((prefix, slot), id);
    }

    /// The live event of `hijacker` (forged-origin or not) that saw a hijack
    /// announcement within the grouping window before `ts`, newest first.
    fn live_event_of(&self, hijacker: Asn, forged: bool, ts: Timestamp) -> Option<u64> {
        if self.cfg.group_secs <= 0 {
            return None;
        }
        self.events
            .iter()
            .rev()
            .find(|(_, e)| {
                e.hijacker == hijacker
                    && (e.event_type == hijack_type::FORGED_ORIGIN) == forged
                    && ts.secs_since(e.max_hijack_ts) <= self.cfg.group_secs
            })
            .map(|(k, _)| *k)
    }

    fn retag(&mut self, id: u64) {
        let ev = &self.evidence;
        let dps = &self.cfg.dps_asns;
        if let Some(e) = self.events.get_mut(&id) {
            let prefixes = e.prefixes();
            let explained = 2 * e.near_victims.len() >= e.victims.len();
            let inputs = tags::TagInputs {
                hijacker: e.hijacker,
                victims: &e.victims,
                prefixes: &prefixes,
                more_specific: e.more_specific,
                hijacker_on_covering: e.hijacker_on_covering,
                newcomer: e.newcomer,
                // neighbourhood evidence must explain half of the victims,
                // as relationship evidence must (tags::asrel_tag)
                adjacent: e.adjacent && explained,
                shared_upstream: e.shared_upstream && explained,
                seen_before: 2 * e.seen_before as usize >= prefixes.len().max(1),
                typo_of: e
                    .typo_of
                    .filter(|_| 2 * e.typos as usize >= prefixes.len().max(1)),
                peak_share: e.peak_share,
                dps_asns: dps,
            };
            e.tags = tags::compute(ev, &inputs);
        }
    }

    fn emit(&mut self, id: u64, kind: ChangeKind, ts: Timestamp, out: &mut Vec<EventChange>) {
        let stale = self.cfg.stale_secs;
        let orgs = &self.evidence.orgs;
        let Some(e) = self.events.get_mut(&id) else {
            return;
        };
        let snap = e.snapshot(ts, stale, |a| orgs.country(a).map(str::to_string));
        e.reported_stale = snap.is_stale;
        e.dirty = false;
        e.last_report = ts;
        if !e.is_published() {
            return;
        }
        self.reported_score.insert(id, snap.confidence_score);
        out.push(EventChange {
            ts,
            kind,
            event: Event::Hijack(snap),
        });
    }

    /// Ends an event: reports it (when published) and keeps it for the
    /// rejoin window.
    fn end(&mut self, id: u64, ts: Timestamp, out: &mut Vec<EventChange>) {
        let Some(e) = self.events.get_mut(&id) else {
            return;
        };
        e.ended_ts = Some(ts);
        let published = e.is_published();
        if published {
            self.retag(id);
            self.emit(id, ChangeKind::Ended, ts, out);
            self.stats.events_ended += 1;
        }
        if let Some(e) = self.events.remove(&id) {
            self.ended.insert(id, e);
            self.ended_order.push_back((ts, id));
        }
    }

    /// Forgets ended events whose rejoin window has passed.
    fn expire(&mut self, now: Timestamp) {
        while let Some(&(end, k)) = self.ended_order.front() {
            if now.secs_since(end) <= self.cfg.rejoin_secs {
                break;
            }
            self.ended_order.pop_front();
            // the event may have rejoined (and maybe ended again later)
            let current = self.ended.get(&k).is_some_and(|e| e.ended_ts == Some(end));
            if !current {
                continue;
            }
            if let Some(e) = self.ended.remove(&k) {
                if !e.is_published() {
                    self.stats.pending_dropped += 1;
                }
                self.reported_score.remove(&k);
                let forged = e.event_type == hijack_type::FORGED_ORIGIN;
                if forged {
                    for v in &e.victims {
                        self.suspect_edges.remove(&edge(e.hijacker, *v));
                    }
                }
                // every victim set that joined the event maps to it
                self.by_key.retain(|_, v| *v != k);
            }
        }
    }

    /// Reports what happened to the touched events during one message.
    fn settle(&mut self, touched: BTreeMap<u64, Touch>, ts: Timestamp, out: &mut Vec<EventChange>) {
        for (id, t) in touched {
            let Some(e) = self.events.get(&id) else {
                continue;
            };
            if e.is_dead() {
                self.end(id, ts, out);
                continue;
            }
            self.retag(id);
            let Some(e) = self.events.get(&id) else {
                continue;
            };
            if !e.is_published() {
                if e.peers.len() < self.cfg.min_peers.max(1) {
                    continue;
                }
                let public = self.next_id;
                self.next_id += 1;
                self.stats.events_opened += 1;
                if let Some(e) = self.events.get_mut(&id) {
                    e.id = public;
                }
                self.emit(id, ChangeKind::Opened, ts, out);
                continue;
            }
            let score: i32 = e.tags.iter().map(|t| t.score).sum();
            let kind = if t.rejoined {
                Some(ChangeKind::Grown)
            } else if self.reported_score.get(&id) != Some(&score) {
                Some(ChangeKind::ConfidenceChanged)
            } else if t.grew || (e.dirty && ts.secs_since(e.last_report) >= self.cfg.refresh_secs) {
                Some(ChangeKind::Grown)
            } else {
                None
            };
            if let Some(kind) = kind {
                self.emit(id, kind, ts, out);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn announce(
        &mut self,
        msg: &RouteMessage,
        peers: &PeerTable,
        prefix: IpNet,
        path_id: Option<u32>,
        origin: Option<Asn>,
        path: &AsPath,
        touched: &mut BTreeMap<u64, Touch>,
    ) {
        let ts = msg.ts;
        let slot = self.state.slot(msg.peer, path_id);
        let newcomer = origin.is_some_and(|o| !self.state.origin_known(o));
        self.state.announce(prefix, slot, origin, ts);
        if let Some(id) = self.detach(prefix, slot, ts) {
            touched.entry(id).or_default();
        }
        let Some(origin) = origin else { return };
        if !self.warm || self.learning {
            return;
        }
        let class = self.classify(prefix, origin, path, ts);
        if self.resync_now {
            self.count_burst_class(msg.peer, &class);
        }
        match class {
            Class::Hit(_)
                if self.resync_now
                    && self.mostly_known_burst(msg.peer)
                    && !self.live_hijack(prefix, origin)
                    && self.few_peers_bursting(ts) =>
            {
                // a table re-send shows the peer's long-standing routes
                self.state.establish(prefix, origin);
                self.stats.resync_established += 1;
            }
            Class::Hit(hit) => {
                self.stats.hijack_announcements += 1;
                self.attach(
                    prefix, slot, msg, peers, origin, path, hit, newcomer, touched,
                );
            }
            Class::Legit if self.forged_active(ts) => {
                if let Some((neighbour, hit)) = self.classify_forged(prefix, origin, path, ts) {
                    self.stats.forged_announcements += 1;
                    self.suspect_edges.insert(edge(neighbour, origin));
                    self.attach(
                        prefix, slot, msg, peers, neighbour, path, hit, false, touched,
                    );
                }
            }
            _ => {}
        }
    }

    fn session_down(&mut self, peer: PeerId, ts: Timestamp, touched: &mut BTreeMap<u64, Touch>) {
        self.stats.peer_downs += 1;
        self.active.down(peer, ts);
        for (prefix, slot, _) in self.state.peer_down(peer, ts) {
            if let Some(id) = self.detach(prefix, slot, ts) {
                touched.entry(id).or_default();
            }
        }
    }

    /// Time-based transitions: staleness flips and pending counter refreshes.
    fn tick(&mut self, now: Timestamp, force: bool, out: &mut Vec<EventChange>) {
        self.expire(now);
        let ids: Vec<u64> = self.events.keys().copied().collect();
        for id in ids {
            let Some(e) = self.events.get(&id) else {
                continue;
            };
            if !e.is_published() {
                continue;
            }
            let stale_flip = e.stale_at(now, self.cfg.stale_secs) != e.reported_stale;
            let refresh =
                e.dirty && (force || now.secs_since(e.last_report) >= self.cfg.refresh_secs);
            if stale_flip {
                self.retag(id);
                self.emit(id, ChangeKind::ConfidenceChanged, now, out);
            } else if refresh {
                self.retag(id);
                self.emit(id, ChangeKind::Grown, now, out);
            }
        }
    }
}

impl Detector for HijackDetector {
    fn routing_state(&self) -> Option<&RoutingState> {
        Some(self.state())
    }

    fn observe(&mut self, msg: &RouteMessage, peers: &PeerTable, out: &mut Vec<EventChange>) {
        self.now = self.now.max(msg.ts);
        if self.start.is_none() {
            self.start = Some(msg.ts);
        }
        self.active.seen(msg.peer, msg.ts);
        self.check_warmup(msg.ts);
        let mut touched: BTreeMap<u64, Touch> = BTreeMap::new();
        match &msg.event {
            RouteEvent::PeerState { new, .. } => {
                if msg.is_session_down() {
                    self.session_down(msg.peer, msg.ts, &mut touched);
                }
                if *new == crate::model::BGP_STATE_ESTABLISHED && self.cfg.resync_min_prefixes > 0 {
                    // the table that follows is a re-send
                    self.bursts.entry(msg.peer).or_default().until =
                        msg.ts.add_secs(RESYNC_TAIL_SECS);
                }
            }
            RouteEvent::Update {
                withdrawn,
                announced,
                attrs,
                from_rib,
            } => {
                for n in withdrawn {
                    self.stats.withdrawals += 1;
                    let prefix = n.prefix.trunc();
                    let slot = self.state.slot(msg.peer, n.path_id);
                    self.state.withdraw(prefix, slot, msg.ts);
                    if let Some(id) = self.detach(prefix, slot, msg.ts) {
                        touched.entry(id).or_default();
                    }
                }
                self.resync_now = !*from_rib && self.resyncing(msg.peer, announced.len(), msg.ts);
                if let Some(attrs) = attrs {
                    if *from_rib {
                        self.stats.rib_entries += announced.len() as u64;
                        baseline::establish_message(&mut self.state, msg);
                    }
                    let origin = attrs.as_path.origin();
                    for n in announced {
                        self.stats.announcements += 1;
                        let prefix = n.prefix.trunc();
                        self.announce(
                            msg,
                            peers,
                            prefix,
                            n.path_id,
                            origin,
                            &attrs.as_path,
                            &mut touched,
                        );
                    }
                    self.observe_path(&attrs.as_path);
                }
            }
        }
        if !touched.is_empty() {
            self.settle(touched, msg.ts, out);
        }
    }

    fn advance(&mut self, now: Timestamp, out: &mut Vec<EventChange>) {
        self.now = self.now.max(now);
        self.check_warmup(now);
        self.tick(now, false, out);
    }

    fn learn(&mut self, msg: &RouteMessage, peers: &PeerTable) {
        self.learning = true;
        let mut out = Vec::new();
        self.observe(msg, peers, &mut out);
        // Nothing is classified while learning, so no event can change; an
        // event restored from a checkpoint could still be touched by a
        // withdrawal, and that is reported when judging starts.
        debug_assert!(out.is_empty());
    }

    fn end_learning(&mut self, now: Timestamp) {
        self.learning = false;
        self.now = self.now.max(now);
        // As at the end of a timed warm-up, what is widely carried now is
        // the baseline the judged data is compared with — but only what has
        // been carried for half the warm-up (at most `learn_secs`): an
        // incident that began shortly before the judged data is not learned.
        let span = self.start.map_or(0, |s| {
            u32::try_from(now.secs_since(s).max(0)).unwrap_or(u32::MAX)
        });
        let min_secs = (span / 2).min(self.cfg.learn_secs);
        let n = self
            .state
            .establish_visible(self.cfg.warmup_min_peers.max(1), min_secs, now);
        self.stats.warmup_established += n as u64;
    }

    fn finish(&mut self, now: Timestamp, out: &mut Vec<EventChange>) {
        let now = self.now.max(now);
        self.tick(now, true, out);
    }
}

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
//! (see [`event`]); `docs/events.md` documents the lifecycle.

pub mod event;
pub mod tags;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;

use ipnet::IpNet;

use super::Detector;
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
}

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
        }
    }
}

/// Counters of what the detector did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
    /// Events opened.
    pub events_opened: u64,
    /// Events ended.
    pub events_ended: u64,
}

/// A classified hijack announcement.
struct Hit {
    victims: Vec<Asn>,
    event_type: u8,
    more_specific: bool,
    hijacker_on_covering: bool,
}

/// What happened to an event during one message.
#[derive(Copy, Clone, Default)]
struct Touch {
    opened: bool,
    grew: bool,
}

/// The hijack detector.
pub struct HijackDetector {
    cfg: HijackConfig,
    evidence: Arc<Evidence>,
    state: RoutingState,
    adjacency: HashSet<u64>,
    events: BTreeMap<u64, OpenEvent>,
    by_key: HashMap<(Asn, Vec<Asn>), u64>,
    carrier_of: HashMap<(IpNet, Slot), u64>,
    reported_score: HashMap<u64, i32>,
    next_id: u64,
    now: Timestamp,
    stats: HijackStats,
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
            cfg,
            evidence,
            adjacency: HashSet::new(),
            events: BTreeMap::new(),
            by_key: HashMap::new(),
            carrier_of: HashMap::new(),
            reported_score: HashMap::new(),
            next_id: 1,
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

    /// Events currently open, by id.
    pub fn open_events(&self) -> impl Iterator<Item = &OpenEvent> {
        self.events.values()
    }

    fn observe_path(&mut self, path: &AsPath) {
        if let Some(seq) = path.dedup_sequence() {
            for w in seq.windows(2) {
                if let [a, b] = w {
                    self.adjacency.insert(edge(*a, *b));
                }
            }
        }
    }

    fn adjacent(&self, a: Asn, victims: &[Asn]) -> bool {
        victims
            .iter()
            .any(|v| self.adjacency.contains(&edge(a, *v)))
    }

    fn classify(
        &mut self,
        prefix: IpNet,
        origin: Asn,
        path: &AsPath,
        ts: Timestamp,
    ) -> Option<Hit> {
        let (cover, est) = self.state.most_specific_established(prefix, ts)?;
        if est.contains(&origin) {
            return None;
        }
        let victims: Vec<Asn> = est.to_vec();
        if victims.iter().any(|v| path.contains(*v)) {
            self.stats.filtered_path_via_victim += 1;
            return None;
        }
        let ev = &self.evidence;
        if !ev.rpki.is_empty() && ev.rpki.validate(&prefix, origin) == RovState::Valid {
            self.stats.filtered_rpki_valid += 1;
            return None;
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
        Some(Hit {
            victims,
            event_type,
            more_specific,
            hijacker_on_covering,
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
        let key = (origin, hit.victims);
        let id = match self.by_key.get(&key) {
            Some(id) => *id,
            None => {
                let id = self.next_id;
                self.next_id += 1;
                let adjacent = self.adjacent(origin, &key.1);
                self.events.insert(
                    id,
                    OpenEvent {
                        id,
                        hijacker: origin,
                        victims: key.1.clone(),
                        event_type: hit.event_type,
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
                        samples: Vec::new(),
                        tags: Vec::new(),
                        ended_ts: None,
                        reported_stale: false,
                        dirty: false,
                        last_report: ts,
                    },
                );
                self.by_key.insert(key, id);
                self.stats.events_opened += 1;
                touched.entry(id).or_default().opened = true;
                id
            }
        };
        let total_peers = self.state.peer_count().max(1);
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

    fn retag(&mut self, id: u64) {
        let ev = &self.evidence;
        let dps = &self.cfg.dps_asns;
        if let Some(e) = self.events.get_mut(&id) {
            let prefixes = e.prefixes();
            let inputs = tags::TagInputs {
                hijacker: e.hijacker,
                victims: &e.victims,
                prefixes: &prefixes,
                more_specific: e.more_specific,
                hijacker_on_covering: e.hijacker_on_covering,
                newcomer: e.newcomer,
                adjacent: e.adjacent,
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
        self.reported_score.insert(id, snap.confidence_score);
        out.push(EventChange {
            ts,
            kind,
            event: Event::Hijack(snap),
        });
    }

    fn end(&mut self, id: u64, ts: Timestamp, out: &mut Vec<EventChange>) {
        if let Some(e) = self.events.get_mut(&id) {
            e.ended_ts = Some(ts);
        }
        self.retag(id);
        self.emit(id, ChangeKind::Ended, ts, out);
        if let Some(e) = self.events.remove(&id) {
            self.by_key.remove(&(e.hijacker, e.victims));
        }
        self.reported_score.remove(&id);
        self.stats.events_ended += 1;
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
            let score: i32 = e.tags.iter().map(|t| t.score).sum();
            let kind = if t.opened {
                Some(ChangeKind::Opened)
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
        if let Some(hit) = self.classify(prefix, origin, path, ts) {
            self.stats.hijack_announcements += 1;
            self.attach(
                prefix, slot, msg, peers, origin, path, hit, newcomer, touched,
            );
        }
    }

    fn session_down(&mut self, peer: PeerId, ts: Timestamp, touched: &mut BTreeMap<u64, Touch>) {
        self.stats.peer_downs += 1;
        for (prefix, slot, _) in self.state.peer_down(peer, ts) {
            if let Some(id) = self.detach(prefix, slot, ts) {
                touched.entry(id).or_default();
            }
        }
    }

    /// Time-based transitions: staleness flips and pending counter refreshes.
    fn tick(&mut self, now: Timestamp, force: bool, out: &mut Vec<EventChange>) {
        let ids: Vec<u64> = self.events.keys().copied().collect();
        for id in ids {
            let Some(e) = self.events.get(&id) else {
                continue;
            };
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
    fn observe(&mut self, msg: &RouteMessage, peers: &PeerTable, out: &mut Vec<EventChange>) {
        self.now = self.now.max(msg.ts);
        let mut touched: BTreeMap<u64, Touch> = BTreeMap::new();
        match &msg.event {
            RouteEvent::PeerState { .. } => {
                if msg.is_session_down() {
                    self.session_down(msg.peer, msg.ts, &mut touched);
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
        self.tick(now, false, out);
    }

    fn finish(&mut self, now: Timestamp, out: &mut Vec<EventChange>) {
        let now = self.now.max(now);
        self.tick(now, true, out);
    }
}

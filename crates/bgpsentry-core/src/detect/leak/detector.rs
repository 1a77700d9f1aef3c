//! [`LeakDetector`]: runs the per-path check over the message stream and
//! keeps one aggregate per leak segment, following every collector-peer
//! route that carries it so the event ends when the last one goes.
//!
//! Lifecycle of a segment `[from, by, to]`:
//! 1. first leaked announcement → a candidate (no id, nothing emitted);
//! 2. raised (the next id, from 1 in stream order, and an `Opened` change)
//!    once it has been carried for `min_persist_secs` (at once from
//!    `quick_prefixes` prefixes) by at least the required number of
//!    collector peers (`min_peers`, never more than half the active peers)
//!    and `min_prefixes` prefixes — or at once, from one peer, when it
//!    carries `large_prefixes` prefixes — and its confidence score is at
//!    least `min_score`; a score of `quick_score` needs no persistence
//!    (strong evidence does not wait for it). A leaker seen only over weak edges (confidence
//!    between `weak_confidence` and `min_confidence`) needs
//!    `quick_prefixes` prefixes;
//! 3. more peers, prefixes or origins → one `Grown` change per advance tick;
//!    a changed confidence score → `ConfidenceChanged`;
//! 4. no peer carries a leaked route any more (withdrawn, replaced by a
//!    clean path, session down), or no leaked announcement for
//!    `quiet_secs` → `Ended` with `finished = true`. A candidate that goes
//!    the same way is dropped silently;
//! 5. the same segment leaking again within `rejoin_secs` of the end
//!    rejoins the ended event (same id, `finished = false`, a `Grown`
//!    change); later, it is a new candidate.
//!
//! Aggregates are per leaker (`by`), as Radar's: every segment the leaker
//! is seen leaking while its event lives joins it (`leak_segs`); `leak_seg`
//! and `leak_type` are the first segment's.
//!
//! Warm-up messages ([`Detector::learn`]) teach the active peers and the
//! segments already carried before judging began; they raise nothing. A
//! segment seen in `established_hours` distinct hours of the warm-up is
//! established routing (a relationship the knowledge has wrong, or a
//! standing arrangement) and raises nothing (`established`); one seen less
//! often carries the `seen_in_warmup` tag.

use crate::fasthash::{HashMap, HashMapExt};
use std::collections::BTreeMap;

use ipnet::IpNet;

use super::LeakConfig;
use super::agg::{Agg, ListCaps};
use super::check::{Checker, Finding};
use super::cone::Cones;
use super::knowledge::{AsKnowledge, Rel};
use super::snapshot::{AggRepr, sorted};
use super::tags::{TagInput, tags};
use crate::detect::Detector;
use crate::detect::active::ActivePeers;
use crate::model::{
    Asn, ChangeKind, Event, EventChange, PathAttrs, PeerId, PeerTable, RouteEvent, RouteMessage,
    SamplePath, Tag, Timestamp,
};

pub use super::check::CheckStats;
pub use super::snapshot::LeakSnapshot;

/// One route at one collector peer.
type RouteKey = (PeerId, IpNet, Option<u32>);

/// Counters of the event side, next to [`CheckStats`].
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LeakStats {
    /// The per-path check's counters.
    pub check: CheckStats,
    /// Leaked announcements (prefix × peer) seen.
    pub leaked_announcements: u64,
    /// Events raised.
    pub raised: u64,
    /// Candidates dropped below the thresholds.
    pub dropped: u64,
    /// … of which were carried shorter than the persistence time.
    pub transient: u64,
    /// Events ended because no peer carried them any more.
    pub ended_withdrawn: u64,
    /// Events ended after the quiet time.
    pub ended_quiet: u64,
    /// Ended events whose segment came back within the rejoin window.
    pub rejoined: u64,
    /// Leaked announcements of segments established in the warm-up.
    pub established: u64,
    /// Candidates dropped that met the thresholds but never the score.
    pub low_score: u64,
}

/// A segment seen during the warm-up: first and last time, distinct hours.
#[derive(Copy, Clone, Debug)]
struct WarmSeen {
    first: Timestamp,
    last: Timestamp,
    hours: u32,
}

/// The route-leak detector.
pub struct LeakDetector<K> {
    cfg: LeakConfig,
    know: K,
    checker: Checker,
    cones: Cones,
    next_id: u64,
    next_slot: u64,
    aggs: BTreeMap<u64, Agg>,
    /// Leaker → live aggregate.
    open: HashMap<Asn, u64>,
    /// Ended events kept for the rejoin window, by slot.
    ended: BTreeMap<u64, Agg>,
    ended_by: HashMap<Asn, u64>,
    carried: HashMap<RouteKey, u64>,
    active: ActivePeers,
    warm: HashMap<[Asn; 3], WarmSeen>,
    stats: LeakStats,
}

impl<K: AsKnowledge> LeakDetector<K> {
    /// A detector over this knowledge.
    pub fn new(cfg: LeakConfig, know: K) -> Self {
        LeakDetector {
            cfg,
            know,
            checker: Checker::new(),
            cones: Cones::new(),
            next_id: 1,
            next_slot: 0,
            aggs: BTreeMap::new(),
            open: HashMap::new(),
            ended: BTreeMap::new(),
            ended_by: HashMap::new(),
            carried: HashMap::new(),
            active: ActivePeers::new(),
            warm: HashMap::new(),
            stats: LeakStats::default(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> LeakStats {
        LeakStats {
            check: self.checker.stats.clone(),
            ..self.stats.clone()
        }
    }

    /// A snapshot of everything learned so far (see [`LeakSnapshot`]).
    pub fn snapshot(&self) -> LeakSnapshot {
        let s = &self.stats;
        LeakSnapshot {
            next_id: self.next_id,
            next_slot: self.next_slot,
            aggs: self.aggs.iter().map(|(k, a)| AggRepr::of(*k, a)).collect(),
            open: sorted(self.open.iter().map(|(by, k)| (*by, *k))),
            carried: sorted(self.carried.iter().map(|((p, n, id), k)| (*p, *n, *id, *k))),
            counters: [
                s.leaked_announcements,
                s.raised,
                s.dropped,
                s.ended_withdrawn,
                s.ended_quiet,
            ],
            ended: self.ended.iter().map(|(k, a)| AggRepr::of(*k, a)).collect(),
            active: self.active.to_vec(),
            warm: sorted(
                self.warm
                    .iter()
                    .map(|(s, w)| (*s, w.first, w.last, w.hours)),
            ),
            counters2: [s.rejoined, s.transient, s.established, s.low_score],
        }
    }

    /// Replaces everything learned with a snapshot's; the settings and
    /// knowledge stay this detector's. Fails (leaving the detector as it
    /// was) when the snapshot contradicts itself.
    pub fn restore(&mut self, snap: LeakSnapshot) -> Result<(), String> {
        let aggs: BTreeMap<u64, Agg> = snap.aggs.into_iter().map(AggRepr::into_agg).collect();
        let ended: BTreeMap<u64, Agg> = snap.ended.into_iter().map(AggRepr::into_agg).collect();
        let top = aggs.keys().chain(ended.keys()).max();
        if let Some(k) = top
            && *k >= snap.next_slot
        {
            return Err(format!(
                "leak aggregate {k} not below next_slot {}",
                snap.next_slot
            ));
        }
        if let Some(k) = aggs.keys().find(|k| ended.contains_key(k)) {
            return Err(format!("leak aggregate {k} both live and ended"));
        }
        let unknown = snap
            .open
            .iter()
            .map(|(_, k)| *k)
            .chain(snap.carried.iter().map(|(_, _, _, k)| *k))
            .find(|k| !aggs.contains_key(k));
        if let Some(k) = unknown {
            return Err(format!("reference to unknown leak aggregate {k}"));
        }
        self.next_id = snap.next_id;
        self.next_slot = snap.next_slot;
        self.ended_by = ended.iter().map(|(k, a)| (a.finding.by, *k)).collect();
        self.aggs = aggs;
        self.ended = ended;
        self.open = snap.open.into_iter().collect();
        self.carried = snap
            .carried
            .into_iter()
            .map(|(p, n, id, k)| ((p, n, id), k))
            .collect();
        self.active = ActivePeers::from_vec(snap.active);
        self.warm = snap
            .warm
            .into_iter()
            .map(|(s, first, last, hours)| (s, WarmSeen { first, last, hours }))
            .collect();
        let [a, r, d, w, q] = snap.counters;
        self.stats.leaked_announcements = a;
        self.stats.raised = r;
        self.stats.dropped = d;
        self.stats.ended_withdrawn = w;
        self.stats.ended_quiet = q;
        let [j, t, e, l] = snap.counters2;
        self.stats.low_score = l;
        self.stats.rejoined = j;
        self.stats.transient = t;
        self.stats.established = e;
        Ok(())
    }

    /// The next raised event gets at least this id.
    pub fn reserve_ids(&mut self, next: u64) {
        self.next_id = self.next_id.max(next);
    }

    /// The id the next raised event gets.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// The knowledge in use.
    pub fn knowledge(&self) -> &K {
        &self.know
    }

    /// Checks one path alone (no state change beyond the counters).
    pub fn check_path(&mut self, attrs: &PathAttrs) -> Option<Finding> {
        self.checker.check(attrs, &self.know, &self.cfg.check)
    }

    /// Events raised and not finished.
    pub fn open_events(&self) -> usize {
        self.aggs.values().filter(|a| a.id.is_some()).count()
    }

    /// Collector peers currently announcing routes.
    pub fn active_peers(&self) -> usize {
        self.active.count()
    }

    /// Collector peers a segment needs before it is raised: `min_peers`,
    /// but never more than half the active peers (and at least one).
    pub fn required_peers(&self) -> usize {
        self.cfg.min_peers.min((self.active.count() / 2).max(1))
    }

    fn caps(&self) -> ListCaps {
        self.cfg.caps
    }

    /// The evidence tags of an aggregate at `now`.
    fn tags_of(&mut self, slot: u64, now: Timestamp) -> Vec<Tag> {
        let Some(a) = self.aggs.get(&slot).or_else(|| self.ended.get(&slot)) else {
            return Vec::new();
        };
        let f = a.finding;
        let conf = |x: Asn| self.know.rel(x, f.by).map(|(_, c)| c);
        let end = a.ended_ts.unwrap_or(now).max(a.max_ts);
        let min_conf = self.cfg.check.min_confidence;
        let cone = self
            .cones
            .outside(&self.know, min_conf, f.by, &a.origin_list);
        let mut size = |x: Asn| self.cones.size(&self.know, min_conf, x);
        let cone_sizes = match (size(f.from), size(f.by), size(f.to)) {
            (Some(x), Some(y), Some(z)) => Some([x, y, z]),
            _ => None,
        };
        let provider = |x: Asn| matches!(self.know.rel(x, f.by), Some((Rel::Provider, _)));
        let providers = [f.otc || provider(f.from), provider(f.to)];
        tags(&TagInput {
            leak_type: f.leak_type,
            otc: f.otc,
            from_conf: conf(f.from),
            to_conf: conf(f.to),
            cone,
            prefixes: a.prefixes.len(),
            peers: a.peers.len(),
            active_peers: self.active.count(),
            duration_secs: end.secs_since(a.min_ts),
            seen_in_warmup: self.warm.contains_key(&f.seg()),
            large_prefixes: self.cfg.large_prefixes,
            cone_sizes,
            providers,
        })
    }

    fn emit(&mut self, slot: u64, ts: Timestamp, kind: ChangeKind, out: &mut Vec<EventChange>) {
        let tags = self.tags_of(slot, ts);
        let score = super::tags::score(&tags);
        let Some(a) = self
            .aggs
            .get_mut(&slot)
            .or_else(|| self.ended.get_mut(&slot))
        else {
            return;
        };
        a.reported_score = Some(score);
        let ended = kind == ChangeKind::Ended;
        let ev = a.event(&self.know, ended, ended.then_some(ts), tags);
        out.push(EventChange {
            ts,
            kind,
            event: Event::Leak(ev),
        });
    }

    /// One route no longer carries the leak of `slot`.
    fn release(&mut self, slot: u64, ts: Timestamp, out: &mut Vec<EventChange>) {
        let Some(a) = self.aggs.get_mut(&slot) else {
            return;
        };
        a.carried = a.carried.saturating_sub(1);
        if a.carried == 0 {
            if a.id.is_some() {
                self.stats.ended_withdrawn += 1;
                self.end(slot, ts, out);
            } else {
                self.drop_candidate(slot, ts);
            }
        }
    }

    fn drop_candidate(&mut self, slot: u64, ts: Timestamp) {
        if let Some(a) = self.aggs.get(&slot) {
            if ts.secs_since(a.min_ts) < self.cfg.min_persist_secs {
                self.stats.transient += 1;
            }
            if a.low_score {
                self.stats.low_score += 1;
            }
        }
        self.stats.dropped += 1;
        self.remove(slot);
    }

    /// A raised event ends at `ts`: `Ended`, then kept for the rejoin window.
    fn end(&mut self, slot: u64, ts: Timestamp, out: &mut Vec<EventChange>) {
        if let Some(a) = self.aggs.get_mut(&slot) {
            a.ended_ts = Some(ts);
            a.carried = 0;
        }
        self.emit(slot, ts, ChangeKind::Ended, out);
        if let Some(a) = self.remove(slot)
            && self.cfg.rejoin_secs > 0
        {
            self.ended_by.insert(a.finding.by, slot);
            self.ended.insert(slot, a);
        }
    }

    fn remove(&mut self, slot: u64) -> Option<Agg> {
        let a = self.aggs.remove(&slot)?;
        let by = a.finding.by;
        if self.open.get(&by) == Some(&slot) {
            self.open.remove(&by);
        }
        Some(a)
    }

    fn slot_for(&mut self, f: Finding, ts: Timestamp) -> u64 {
        let by = f.by;
        if let Some(s) = self.open.get(&by).copied() {
            if let Some(a) = self.aggs.get_mut(&s) {
                a.add_seg(&f);
            }
            return s;
        }
        if let Some(s) = self.ended_by.remove(&by)
            && let Some(mut a) = self.ended.remove(&s)
        {
            let within = a
                .ended_ts
                .is_some_and(|end| ts.secs_since(end) <= self.cfg.rejoin_secs);
            if within {
                a.ended_ts = None;
                a.rejoined = true;
                a.add_seg(&f);
                self.stats.rejoined += 1;
                self.aggs.insert(s, a);
                self.open.insert(by, s);
                return s;
            }
        }
        let s = self.next_slot;
        self.next_slot += 1;
        self.aggs.insert(s, Agg::new(f, ts));
        self.open.insert(by, s);
        s
    }

    fn withdraw(&mut self, key: RouteKey, ts: Timestamp, out: &mut Vec<EventChange>) {
        if let Some(slot) = self.carried.remove(&key) {
            self.release(slot, ts, out);
        }
    }

    fn session_down(&mut self, peer: PeerId, ts: Timestamp, out: &mut Vec<EventChange>) {
        self.active.down(peer, ts);
        let mut lost: BTreeMap<u64, u64> = BTreeMap::new();
        self.carried.retain(|k, slot| {
            if k.0 == peer {
                *lost.entry(*slot).or_default() += 1;
                false
            } else {
                true
            }
        });
        for (slot, n) in lost {
            if let Some(a) = self.aggs.get_mut(&slot) {
                a.carried = a.carried.saturating_sub(n.saturating_sub(1));
            }
            self.release(slot, ts, out);
        }
    }

    fn announce(
        &mut self,
        msg: &RouteMessage,
        peers: &PeerTable,
        announced: &[crate::model::Nlri],
        attrs: &PathAttrs,
        out: &mut Vec<EventChange>,
    ) {
        let finding = self
            .checker
            .check(attrs, &self.know, &self.cfg.check)
            .filter(|f| {
                let known = self.is_established(f.seg());
                if known {
                    self.stats.established += announced.len() as u64;
                }
                !known
            });
        let Some(f) = finding else {
            for n in announced {
                self.withdraw((msg.peer, n.prefix, n.path_id), msg.ts, out);
            }
            return;
        };
        let slot = self.slot_for(f, msg.ts);
        let caps = self.caps();
        for n in announced {
            let key = (msg.peer, n.prefix, n.path_id);
            match self.carried.insert(key, slot) {
                Some(old) if old == slot => {}
                Some(old) => {
                    self.inc(slot);
                    self.release(old, msg.ts, out);
                }
                None => self.inc(slot),
            }
            self.stats.leaked_announcements += 1;
            if let Some(a) = self.aggs.get_mut(&slot) {
                a.add(msg.ts, msg.peer, n.prefix, &attrs.origins, caps);
                if a.wants_sample(msg.peer, caps)
                    && let Some(info) = peers.info(msg.peer)
                {
                    a.sampled_peers.push(msg.peer);
                    a.samples.push(SamplePath {
                        collector: peers.collector_name(info.collector).to_string(),
                        peer_ip: info.ip,
                        peer_asn: info.asn,
                        prefix: n.prefix.to_string(),
                        as_path: attrs.as_path.to_string(),
                        ts: msg.ts,
                    });
                }
            }
        }
        if self.aggs.get(&slot).is_some_and(|a| a.rejoined) {
            if let Some(a) = self.aggs.get_mut(&slot) {
                a.rejoined = false;
                a.grown = false;
                a.dirty = false;
            }
            self.emit(slot, msg.ts, ChangeKind::Grown, out);
        }
        self.maybe_raise(slot, msg.ts, out);
    }

    fn inc(&mut self, slot: u64) {
        if let Some(a) = self.aggs.get_mut(&slot) {
            a.carried += 1;
        }
    }

    /// `Some(persisted)` when a candidate meets the raise thresholds at
    /// `now`; `persisted` is false while it still owes the persistence time
    /// (then only a score of `quick_score` raises it).
    fn ready(&self, a: &Agg, now: Timestamp) -> Option<bool> {
        let n = a.prefixes.len();
        let large = self.cfg.large_prefixes > 0 && n >= self.cfg.large_prefixes;
        let quick = self.cfg.quick_prefixes > 0 && n >= self.cfg.quick_prefixes;
        if a.carried == 0 || !(a.strong || quick) {
            return None;
        }
        if large {
            return (!a.peers.is_empty()).then_some(true);
        }
        (a.peers.len() >= self.required_peers() && n >= self.cfg.min_prefixes)
            .then(|| quick || now.secs_since(a.min_ts) >= self.cfg.min_persist_secs)
    }

    fn maybe_raise(&mut self, slot: u64, ts: Timestamp, out: &mut Vec<EventChange>) {
        let Some(persisted) = self
            .aggs
            .get(&slot)
            .filter(|a| a.id.is_none())
            .and_then(|a| self.ready(a, ts))
        else {
            return;
        };
        if !persisted || self.cfg.min_score > i32::MIN {
            let score = super::tags::score(&self.tags_of(slot, ts));
            if !persisted && score < self.cfg.quick_score {
                return;
            }
            if score < self.cfg.min_score {
                if let Some(a) = self.aggs.get_mut(&slot) {
                    a.low_score = true;
                }
                return;
            }
        }
        let id = self.next_id;
        let Some(a) = self.aggs.get_mut(&slot) else {
            return;
        };
        a.id = Some(id);
        a.detected_ts = ts;
        a.dirty = false;
        a.grown = false;
        self.next_id += 1;
        self.stats.raised += 1;
        self.emit(slot, ts, ChangeKind::Opened, out);
    }

    /// Drops the routes a finished or expired aggregate still had.
    fn forget_routes(&mut self, slots: &[u64]) {
        if slots.is_empty() {
            return;
        }
        self.carried.retain(|_, s| !slots.contains(s));
    }

    /// Forgets ended events whose rejoin window has passed.
    fn purge_ended(&mut self, now: Timestamp) {
        let window = self.cfg.rejoin_secs;
        let old: Vec<u64> = self
            .ended
            .iter()
            .filter(|(_, a)| a.ended_ts.is_none_or(|e| now.secs_since(e) > window))
            .map(|(s, _)| *s)
            .collect();
        for s in old {
            if let Some(a) = self.ended.remove(&s) {
                let by = a.finding.by;
                if self.ended_by.get(&by) == Some(&s) {
                    self.ended_by.remove(&by);
                }
            }
        }
    }

    /// A warm-up path: remember the segment it leaks, if any, and in how
    /// many distinct hours it was seen.
    fn learn_path(&mut self, ts: Timestamp, attrs: &PathAttrs) {
        if let Some(f) = self.checker.check(attrs, &self.know, &self.cfg.check) {
            let e = self.warm.entry(f.seg()).or_insert(WarmSeen {
                first: ts,
                last: ts,
                hours: 1,
            });
            if ts.secs().div_euclid(3600) != e.last.secs().div_euclid(3600) && ts > e.last {
                e.hours = e.hours.saturating_add(1);
            }
            e.last = e.last.max(ts);
        }
    }

    /// True when the warm-up saw this segment in enough distinct hours.
    fn is_established(&self, seg: [Asn; 3]) -> bool {
        self.cfg.established_hours > 0
            && self
                .warm
                .get(&seg)
                .is_some_and(|w| w.hours >= self.cfg.established_hours)
    }
}

impl<K: AsKnowledge> Detector for LeakDetector<K> {
    fn observe(&mut self, msg: &RouteMessage, peers: &PeerTable, out: &mut Vec<EventChange>) {
        match &msg.event {
            RouteEvent::Update {
                withdrawn,
                announced,
                attrs,
                ..
            } => {
                for n in withdrawn {
                    self.withdraw((msg.peer, n.prefix, n.path_id), msg.ts, out);
                }
                if let Some(attrs) = attrs
                    && !announced.is_empty()
                {
                    self.active.seen(msg.peer, msg.ts);
                    self.announce(msg, peers, announced, attrs, out);
                }
            }
            RouteEvent::PeerState { .. } => {
                if msg.is_session_down() {
                    self.session_down(msg.peer, msg.ts, out);
                }
            }
        }
    }

    fn learn(&mut self, msg: &RouteMessage, _peers: &PeerTable) {
        match &msg.event {
            RouteEvent::Update {
                announced,
                attrs: Some(attrs),
                ..
            } if !announced.is_empty() => {
                self.active.seen(msg.peer, msg.ts);
                self.learn_path(msg.ts, attrs);
            }
            RouteEvent::PeerState { .. } if msg.is_session_down() => {
                self.active.down(msg.peer, msg.ts);
            }
            _ => {}
        }
    }

    fn advance(&mut self, now: Timestamp, out: &mut Vec<EventChange>) {
        let quiet = self.cfg.quiet_secs;
        let mut expired = Vec::new();
        let mut grown = Vec::new();
        let mut ready = Vec::new();
        let mut raised = Vec::new();
        for (slot, a) in &self.aggs {
            if quiet > 0 && now.secs_since(a.max_ts) >= quiet {
                expired.push((*slot, a.id.is_some()));
            } else if a.id.is_none() {
                if self.ready(a, now).is_some() {
                    ready.push(*slot);
                }
            } else if a.grown {
                grown.push(*slot);
            } else {
                raised.push(*slot);
            }
        }
        for slot in ready {
            self.maybe_raise(slot, now, out);
        }
        for slot in grown {
            if let Some(a) = self.aggs.get_mut(&slot) {
                a.grown = false;
                a.dirty = false;
            }
            self.emit(slot, now, ChangeKind::Grown, out);
        }
        for slot in raised {
            let score = super::tags::score(&self.tags_of(slot, now));
            if self
                .aggs
                .get(&slot)
                .is_some_and(|a| a.reported_score != Some(score))
            {
                self.emit(slot, now, ChangeKind::ConfidenceChanged, out);
            }
        }
        for (slot, was_raised) in &expired {
            if *was_raised {
                self.stats.ended_quiet += 1;
                self.end(*slot, now, out);
            } else {
                self.drop_candidate(*slot, now);
            }
        }
        let slots: Vec<u64> = expired.into_iter().map(|(s, _)| s).collect();
        self.forget_routes(&slots);
        self.purge_ended(now);
    }

    fn finish(&mut self, now: Timestamp, out: &mut Vec<EventChange>) {
        let dirty: Vec<u64> = self
            .aggs
            .iter()
            .filter(|(_, a)| a.id.is_some() && a.dirty)
            .map(|(s, _)| *s)
            .collect();
        for slot in dirty {
            if let Some(a) = self.aggs.get_mut(&slot) {
                a.dirty = false;
                a.grown = false;
            }
            self.emit(slot, now, ChangeKind::Grown, out);
        }
    }
}

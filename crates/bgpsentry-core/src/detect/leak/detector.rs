//! [`LeakDetector`]: runs the per-path check over the message stream and
//! keeps one aggregate per leak segment, following every collector-peer
//! route that carries it so the event ends when the last one goes.
//!
//! Lifecycle of a segment `[from, by, to]`:
//! 1. first leaked announcement → a candidate (no id, nothing emitted);
//! 2. once seen by `min_peers` peers and `min_prefixes` prefixes → raised:
//!    the next id (from 1, in stream order) and an `Opened` change;
//! 3. more peers, prefixes or origins → one `Grown` change per advance tick;
//! 4. no peer carries a leaked route any more (withdrawn, replaced by a
//!    clean path, session down), or no leaked announcement for
//!    `quiet_secs` → `Ended` with `finished = true`. A candidate that goes
//!    the same way is dropped silently. A later leak of the same segment
//!    starts a new candidate.

use std::collections::{BTreeMap, HashMap};

use ipnet::IpNet;

use super::LeakConfig;
use super::agg::{Agg, ListCaps};
use super::check::{CheckStats, Checker, Finding};
use super::knowledge::AsKnowledge;
use crate::detect::Detector;
use crate::model::{
    Asn, ChangeKind, Event, EventChange, PathAttrs, PeerId, PeerTable, RouteEvent, RouteMessage,
    SamplePath, Timestamp,
};

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
    /// Events ended because no peer carried them any more.
    pub ended_withdrawn: u64,
    /// Events ended after the quiet time.
    pub ended_quiet: u64,
}

/// One leak aggregate as a checkpoint stores it (its fields, sets sorted).
#[derive(serde::Serialize, serde::Deserialize)]
struct AggRepr {
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
}

fn sorted<T: Ord + Copy>(it: impl Iterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = it.collect();
    v.sort_unstable();
    v
}

impl AggRepr {
    fn of(slot: u64, a: &Agg) -> Self {
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
        }
    }

    fn into_agg(self) -> (u64, Agg) {
        let (from, by, to, leak_type, otc) = self.finding;
        let f = Finding {
            from,
            by,
            to,
            leak_type,
            otc,
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
        (self.slot, a)
    }
}

/// Everything a [`LeakDetector`] learned from the stream, for a
/// checkpoint: every candidate and raised aggregate with its id, the routes
/// carrying them, and the counters. Settings and AS knowledge are not in
/// it: they come from the configuration of the process that restores it.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct LeakSnapshot {
    next_id: u64,
    next_slot: u64,
    aggs: Vec<AggRepr>,
    open: Vec<([Asn; 3], u64)>,
    carried: Vec<(PeerId, IpNet, Option<u32>, u64)>,
    /// leaked announcements, raised, dropped, ended withdrawn, ended quiet.
    counters: [u64; 5],
}

/// The route-leak detector.
pub struct LeakDetector<K> {
    cfg: LeakConfig,
    know: K,
    checker: Checker,
    next_id: u64,
    next_slot: u64,
    aggs: BTreeMap<u64, Agg>,
    open: HashMap<[Asn; 3], u64>,
    carried: HashMap<RouteKey, u64>,
    stats: LeakStats,
}

impl<K: AsKnowledge> LeakDetector<K> {
    /// A detector over this knowledge.
    pub fn new(cfg: LeakConfig, know: K) -> Self {
        LeakDetector {
            cfg,
            know,
            checker: Checker::new(),
            next_id: 1,
            next_slot: 0,
            aggs: BTreeMap::new(),
            open: HashMap::new(),
            carried: HashMap::new(),
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
            open: sorted(self.open.iter().map(|(seg, k)| (*seg, *k))),
            carried: sorted(self.carried.iter().map(|((p, n, id), k)| (*p, *n, *id, *k))),
            counters: [
                s.leaked_announcements,
                s.raised,
                s.dropped,
                s.ended_withdrawn,
                s.ended_quiet,
            ],
        }
    }

    /// Replaces everything learned with a snapshot's; the settings and
    /// knowledge stay this detector's. Fails (leaving the detector as it
    /// was) when the snapshot contradicts itself.
    pub fn restore(&mut self, snap: LeakSnapshot) -> Result<(), String> {
        let aggs: BTreeMap<u64, Agg> = snap.aggs.into_iter().map(AggRepr::into_agg).collect();
        if let Some((k, _)) = aggs.last_key_value()
            && *k >= snap.next_slot
        {
            return Err(format!(
                "leak aggregate {k} not below next_slot {}",
                snap.next_slot
            ));
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
        self.aggs = aggs;
        self.open = snap.open.into_iter().collect();
        self.carried = snap
            .carried
            .into_iter()
            .map(|(p, n, id, k)| ((p, n, id), k))
            .collect();
        let [a, r, d, w, q] = snap.counters;
        self.stats.leaked_announcements = a;
        self.stats.raised = r;
        self.stats.dropped = d;
        self.stats.ended_withdrawn = w;
        self.stats.ended_quiet = q;
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

    fn caps(&self) -> ListCaps {
        self.cfg.caps
    }

    fn emit(&self, slot: u64, ts: Timestamp, kind: ChangeKind, out: &mut Vec<EventChange>) {
        if let Some(a) = self.aggs.get(&slot) {
            let ended = kind == ChangeKind::Ended;
            let ev = a.event(&self.know, ended, ended.then_some(ts));
            out.push(EventChange {
                ts,
                kind,
                event: Event::Leak(ev),
            });
        }
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
                self.emit(slot, ts, ChangeKind::Ended, out);
            } else {
                self.stats.dropped += 1;
            }
            self.remove(slot);
        }
    }

    fn remove(&mut self, slot: u64) {
        if let Some(a) = self.aggs.remove(&slot) {
            let seg = a.finding.seg();
            if self.open.get(&seg) == Some(&slot) {
                self.open.remove(&seg);
            }
        }
    }

    fn slot_for(&mut self, f: Finding, ts: Timestamp) -> u64 {
        let seg = f.seg();
        if let Some(s) = self.open.get(&seg) {
            return *s;
        }
        let s = self.next_slot;
        self.next_slot += 1;
        self.aggs.insert(s, Agg::new(f, ts));
        self.open.insert(seg, s);
        s
    }

    fn withdraw(&mut self, key: RouteKey, ts: Timestamp, out: &mut Vec<EventChange>) {
        if let Some(slot) = self.carried.remove(&key) {
            self.release(slot, ts, out);
        }
    }

    fn session_down(&mut self, peer: PeerId, ts: Timestamp, out: &mut Vec<EventChange>) {
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
        let finding = self.checker.check(attrs, &self.know, &self.cfg.check);
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
        self.maybe_raise(slot, msg.ts, out);
    }

    fn inc(&mut self, slot: u64) {
        if let Some(a) = self.aggs.get_mut(&slot) {
            a.carried += 1;
        }
    }

    fn maybe_raise(&mut self, slot: u64, ts: Timestamp, out: &mut Vec<EventChange>) {
        let (min_peers, min_prefixes) = (self.cfg.min_peers, self.cfg.min_prefixes);
        let Some(a) = self.aggs.get_mut(&slot) else {
            return;
        };
        if a.id.is_some() || a.peers.len() < min_peers || a.prefixes.len() < min_prefixes {
            return;
        }
        a.id = Some(self.next_id);
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

    fn advance(&mut self, now: Timestamp, out: &mut Vec<EventChange>) {
        let quiet = self.cfg.quiet_secs;
        let mut expired = Vec::new();
        let mut grown = Vec::new();
        for (slot, a) in &self.aggs {
            if quiet > 0 && now.secs_since(a.max_ts) >= quiet {
                expired.push((*slot, a.id.is_some()));
            } else if a.id.is_some() && a.grown {
                grown.push(*slot);
            }
        }
        for slot in grown {
            self.emit(slot, now, ChangeKind::Grown, out);
            if let Some(a) = self.aggs.get_mut(&slot) {
                a.grown = false;
                a.dirty = false;
            }
        }
        for (slot, raised) in &expired {
            if *raised {
                self.stats.ended_quiet += 1;
                self.emit(*slot, now, ChangeKind::Ended, out);
            } else {
                self.stats.dropped += 1;
            }
            self.remove(*slot);
        }
        let slots: Vec<u64> = expired.into_iter().map(|(s, _)| s).collect();
        self.forget_routes(&slots);
    }

    fn finish(&mut self, now: Timestamp, out: &mut Vec<EventChange>) {
        let dirty: Vec<u64> = self
            .aggs
            .iter()
            .filter(|(_, a)| a.id.is_some() && a.dirty)
            .map(|(s, _)| *s)
            .collect();
        for slot in dirty {
            self.emit(slot, now, ChangeKind::Grown, out);
            if let Some(a) = self.aggs.get_mut(&slot) {
                a.dirty = false;
                a.grown = false;
            }
        }
    }
}

//! The routing state the hijack detector reasons over: for every prefix,
//! which origin ASes are announced by which collector peers, since when, and
//! which of them are *established* (the baseline).
//!
//! Compactness is the point (DESIGN.md: a full table from 300 peers in well
//! under 1 GiB). A prefix keeps one small entry per *origin*, not per peer:
//! the peers announcing that origin are a bitset over "route slots". A slot is
//! one (collector peer, ADD-PATH path id) pair, interned to a dense `u32`, so
//! 300 peers cost 40 bytes per origin whatever the paths look like. AS paths
//! are not stored: the detector inspects a path while the message is in hand.
//!
//! Semantics:
//! * an announcement from a slot replaces that slot's previous route for the
//!   prefix (implicit withdrawal); the previous origin is returned;
//! * a withdrawal or a session leaving Established removes the slot's routes;
//! * an origin becomes established when bootstrapped, or once it has been
//!   continuously visible (announced by at least one slot) for
//!   `learn_secs`; established is permanent for the life of the state;
//! * an origin that is not established but was carried by at least
//!   [`PAST_MIN_SLOTS`] slots and visible for [`PAST_MIN_SECS`] before its
//!   last route went is remembered as a *past* origin of the prefix (its
//!   entry stays, with no slots), and so is one widely carried twice,
//!   however briefly: a recurring failover or maintenance origin is then
//!   known the next time it appears
//!   ([`RoutingState::seen_before`]). Past origins are kept for the life of
//!   the state, as established ones are.

use crate::fasthash::{HashMap, HashSet, HashSetExt};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::model::{Asn, PeerId, Timestamp};

/// A route slot: one (collector peer, ADD-PATH path id) pair.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Slot(pub u32);

/// A growable bitset of slots; one word inline covers 64 slots.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SlotBits(SmallVec<[u64; 1]>);

impl SlotBits {
    /// Sets `s`; returns true when it was not set.
    pub fn insert(&mut self, s: Slot) -> bool {
        let (w, b) = ((s.0 / 64) as usize, s.0 % 64);
        if self.0.len() <= w {
            self.0.resize(w + 1, 0);
        }
        let was = self.0[w] & (1 << b) != 0;
        self.0[w] |= 1 << b;
        !was
    }

    /// Clears `s`; returns true when it was set.
    pub fn remove(&mut self, s: Slot) -> bool {
        let (w, b) = ((s.0 / 64) as usize, s.0 % 64);
        match self.0.get_mut(w) {
            Some(word) if *word & (1 << b) != 0 => {
                *word &= !(1 << b);
                true
            }
            _ => false,
        }
    }

    /// True when `s` is set.
    pub fn contains(&self, s: Slot) -> bool {
        let (w, b) = ((s.0 / 64) as usize, s.0 % 64);
        self.0.get(w).is_some_and(|word| word & (1 << b) != 0)
    }

    /// True when no slot is set.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// Number of slots set.
    pub fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The slots set, ascending.
    pub fn iter(&self) -> impl Iterator<Item = Slot> + '_ {
        self.0.iter().enumerate().flat_map(|(i, w)| {
            (0..64u32)
                .filter(move |b| w & (1 << b) != 0)
                .map(move |b| Slot(i as u32 * 64 + b))
        })
    }

    /// Heap bytes used beyond the inline word.
    fn heap_bytes(&self) -> usize {
        if self.0.spilled() {
            self.0.capacity() * 8
        } else {
            0
        }
    }
}

const ESTABLISHED: u8 = 1;
const BOOTSTRAPPED: u8 = 2;
/// Carried by at least [`PAST_MIN_SLOTS`] slots at some moment.
const WIDE: u8 = 4;
/// Widely carried for a while before, then gone: a past origin.
const PAST: u8 = 8;
/// Widely carried once, briefly, then gone: the next time it goes, it is
/// a past origin (a recurring flip, however short each time).
const WIDE_ONCE: u8 = 16;

/// Slots that must have carried an origin at once for it to be remembered
/// as a past origin.
pub const PAST_MIN_SLOTS: usize = 3;
/// Seconds of continuous visibility an origin needs before it went for it
/// to be remembered as a past origin (path hunting and brief mistakes are
/// not remembered).
pub const PAST_MIN_SECS: u32 = 120;

/// One origin of one prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginEntry {
    /// The origin AS.
    pub asn: Asn,
    /// Start of the current continuous visibility (seconds since the epoch).
    visible_since: u32,
    flags: u8,
    /// The slots currently announcing this origin.
    pub slots: SlotBits,
}

impl OriginEntry {
    fn new(asn: Asn) -> Self {
        OriginEntry {
            asn,
            visible_since: 0,
            flags: 0,
            slots: SlotBits::default(),
        }
    }

    /// True when established at `now` (bootstrapped, learned, or visible
    /// long enough right now).
    fn established_at(&self, now: u32, learn_secs: u32) -> bool {
        self.flags & ESTABLISHED != 0
            || (!self.slots.is_empty() && now.saturating_sub(self.visible_since) >= learn_secs)
    }
}

/// The origins of one prefix (almost always exactly one).
pub type PrefixEntry = SmallVec<[OriginEntry; 1]>;

/// Size figures of the state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateStats {
    /// Prefixes with at least one origin entry.
    pub prefixes: usize,
    /// Origin entries.
    pub origins: usize,
    /// (slot, prefix) routes held.
    pub routes: usize,
    /// Slots interned.
    pub slots: usize,
    /// Estimated bytes (tries, entries, bitsets).
    pub approx_bytes: usize,
}

/// Interning of (peer, path id) into slots.
#[derive(Clone, Debug, Default)]
struct Slots {
    ids: HashMap<(PeerId, Option<u32>), Slot>,
    peer_of: Vec<PeerId>,
    by_peer: HashMap<PeerId, Vec<Slot>>,
}

impl Slots {
    fn get_or_insert(&mut self, peer: PeerId, path_id: Option<u32>) -> Slot {
        if let Some(s) = self.ids.get(&(peer, path_id)) {
            return *s;
        }
        let s = Slot(u32::try_from(self.peer_of.len()).unwrap_or(u32::MAX));
        self.ids.insert((peer, path_id), s);
        self.peer_of.push(peer);
        self.by_peer.entry(peer).or_default().push(s);
        s
    }
}

/// Per-prefix origins, per-origin slots, and the established baseline.
#[derive(Clone, Debug)]
pub struct RoutingState {
    v4: PrefixMap<Ipv4Net, PrefixEntry>,
    v6: PrefixMap<Ipv6Net, PrefixEntry>,
    slots: Slots,
    learn_secs: u32,
    /// Every ASN that ever originated something (bootstrap or observed).
    known_origins: HashSet<Asn>,
}

fn secs(ts: Timestamp) -> u32 {
    u32::try_from(ts.secs().max(0)).unwrap_or(u32::MAX)
}

impl RoutingState {
    /// An empty state where origins get established after `learn_secs` of
    /// continuous visibility.
    pub fn new(learn_secs: u32) -> Self {
        RoutingState {
            v4: PrefixMap::new(),
            v6: PrefixMap::new(),
            slots: Slots::default(),
            learn_secs,
            known_origins: HashSet::new(),
        }
    }

    /// Continuous visibility after which an origin is established.
    pub fn learn_secs(&self) -> u32 {
        self.learn_secs
    }

    /// The slot of a (peer, path id) pair.
    pub fn slot(&mut self, peer: PeerId, path_id: Option<u32>) -> Slot {
        self.slots.get_or_insert(peer, path_id)
    }

    /// The collector peer behind a slot.
    pub fn slot_peer(&self, s: Slot) -> Option<PeerId> {
        self.slots.peer_of.get(s.0 as usize).copied()
    }

    /// Number of distinct collector peers that ever sent a route.
    pub fn peer_count(&self) -> usize {
        self.slots.by_peer.len()
    }

    fn entry_mut(&mut self, prefix: IpNet) -> &mut PrefixEntry {
        match prefix.trunc() {
            IpNet::V4(p) => self.v4.entry(p).or_default(),
            IpNet::V6(p) => self.v6.entry(p).or_default(),
        }
    }

    fn entry(&self, prefix: IpNet) -> Option<&PrefixEntry> {
        match prefix.trunc() {
            IpNet::V4(p) => self.v4.get(&p),
            IpNet::V6(p) => self.v6.get(&p),
        }
    }

    fn drop_if_empty(&mut self, prefix: IpNet) {
        let empty = self.entry(prefix).is_some_and(|e| e.is_empty());
        if empty {
            match prefix.trunc() {
                IpNet::V4(p) => {
                    self.v4.remove(&p);
                }
                IpNet::V6(p) => {
                    self.v6.remove(&p);
                }
            }
        }
    }

    /// Marks `origin` established for `prefix` (bootstrap).
    pub fn establish(&mut self, prefix: IpNet, origin: Asn) {
        self.known_origins.insert(origin);
        let e = self.entry_mut(prefix);
        match e.iter_mut().find(|o| o.asn == origin) {
            Some(o) => o.flags |= ESTABLISHED | BOOTSTRAPPED,
            None => {
                let mut o = OriginEntry::new(origin);
                o.flags = ESTABLISHED | BOOTSTRAPPED;
                e.push(o);
            }
        }
    }

    /// Establishes every origin currently announced by at least `min_slots`
    /// route slots and continuously visible for at least `min_secs` at `now`
    /// (the end of a warm-up); returns how many were newly established.
    pub fn establish_visible(&mut self, min_slots: usize, min_secs: u32, now: Timestamp) -> usize {
        let now = secs(now);
        let mut n = 0;
        let mut mark = |e: &mut PrefixEntry| {
            for o in e.iter_mut() {
                if o.flags & ESTABLISHED == 0
                    && o.slots.len() >= min_slots
                    && now.saturating_sub(o.visible_since) >= min_secs
                {
                    o.flags |= ESTABLISHED;
                    n += 1;
                }
            }
        };
        self.v4.values_mut().for_each(&mut mark);
        self.v6.values_mut().for_each(&mut mark);
        n
    }

    /// Removes slot `s` from whatever origin of `prefix` it announces;
    /// returns that origin.
    fn unset(&mut self, prefix: IpNet, s: Slot, now: u32) -> Option<Asn> {
        let learn = self.learn_secs;
        let e = self.entry_mut(prefix);
        let mut found = None;
        let mut i = 0;
        while i < e.len() {
            if e[i].slots.remove(s) {
                found = Some(e[i].asn);
                if e[i].slots.is_empty() {
                    let visible = now.saturating_sub(e[i].visible_since);
                    if visible >= learn {
                        e[i].flags |= ESTABLISHED;
                    }
                    if e[i].flags & WIDE != 0 {
                        if visible >= PAST_MIN_SECS || e[i].flags & WIDE_ONCE != 0 {
                            e[i].flags |= PAST;
                        } else {
                            e[i].flags |= WIDE_ONCE;
                        }
                        e[i].flags &= !WIDE;
                    }
                    if e[i].flags & (ESTABLISHED | PAST | WIDE_ONCE) == 0 {
                        e.remove(i);
                        continue;
                    }
                }
                break;
            }
            i += 1;
        }
        found
    }

    /// Slot `s` now announces `prefix` with `origin` (`None`: an AS_SET or
    /// empty path, which only withdraws the slot's previous route). Returns
    /// the slot's previous origin for the prefix.
    pub fn announce(
        &mut self,
        prefix: IpNet,
        s: Slot,
        origin: Option<Asn>,
        ts: Timestamp,
    ) -> Option<Asn> {
        let now = secs(ts);
        let prev = self.unset(prefix, s, now);
        match origin {
            Some(origin) => {
                self.known_origins.insert(origin);
                let e = self.entry_mut(prefix);
                let idx = match e.iter().position(|o| o.asn == origin) {
                    Some(i) => i,
                    None => {
                        e.push(OriginEntry::new(origin));
                        e.len() - 1
                    }
                };
                let o = &mut e[idx];
                if o.slots.is_empty() {
                    o.visible_since = now;
                }
                o.slots.insert(s);
                if o.slots.len() >= PAST_MIN_SLOTS {
                    o.flags |= WIDE;
                }
            }
            None => self.drop_if_empty(prefix),
        }
        prev
    }

    /// Slot `s` withdrew `prefix`; returns the origin it had announced.
    pub fn withdraw(&mut self, prefix: IpNet, s: Slot, ts: Timestamp) -> Option<Asn> {
        self.entry(prefix)?;
        let prev = self.unset(prefix, s, secs(ts));
        self.drop_if_empty(prefix);
        prev
    }

    /// The session with `peer` left Established: every route of every slot
    /// of that peer is gone. Returns the removed (prefix, slot, origin)s.
    pub fn peer_down(&mut self, peer: PeerId, ts: Timestamp) -> Vec<(IpNet, Slot, Asn)> {
        let Some(slots) = self.slots.by_peer.get(&peer).cloned() else {
            return Vec::new();
        };
        let mut hits: Vec<(IpNet, Slot)> = Vec::new();
        for (p, e) in self.v4.iter() {
            for o in e.iter() {
                for s in &slots {
                    if o.slots.contains(*s) {
                        hits.push((IpNet::V4(p), *s));
                    }
                }
            }
        }
        for (p, e) in self.v6.iter() {
            for o in e.iter() {
                for s in &slots {
                    if o.slots.contains(*s) {
                        hits.push((IpNet::V6(p), *s));
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(hits.len());
        for (p, s) in hits {
            if let Some(asn) = self.withdraw(p, s, ts) {
                out.push((p, s, asn));
            }
        }
        out
    }

    /// The origins of `prefix` established at `ts`, ascending.
    pub fn established_origins(&self, prefix: IpNet, ts: Timestamp) -> SmallVec<[Asn; 2]> {
        let now = secs(ts);
        let mut v: SmallVec<[Asn; 2]> = self
            .entry(prefix)
            .map(|e| {
                e.iter()
                    .filter(|o| o.established_at(now, self.learn_secs))
                    .map(|o| o.asn)
                    .collect()
            })
            .unwrap_or_default();
        v.sort_unstable();
        v
    }

    /// Every prefix covering `prefix` (itself included), least specific first.
    fn cover(&self, prefix: IpNet) -> Vec<(IpNet, &PrefixEntry)> {
        match prefix.trunc() {
            IpNet::V4(p) => self.v4.cover(&p).map(|(k, v)| (IpNet::V4(k), v)).collect(),
            IpNet::V6(p) => self.v6.cover(&p).map(|(k, v)| (IpNet::V6(k), v)).collect(),
        }
    }

    /// The most specific prefix covering `prefix` (itself included) that
    /// has an established origin, with those origins.
    pub fn most_specific_established(
        &self,
        prefix: IpNet,
        ts: Timestamp,
    ) -> Option<(IpNet, SmallVec<[Asn; 2]>)> {
        let now = secs(ts);
        for (p, e) in self.cover(prefix).into_iter().rev() {
            let mut v: SmallVec<[Asn; 2]> = e
                .iter()
                .filter(|o| o.established_at(now, self.learn_secs))
                .map(|o| o.asn)
                .collect();
            if !v.is_empty() {
                v.sort_unstable();
                return Some((p, v));
            }
        }
        None
    }

    /// True when `asn` is an established origin of a prefix strictly less
    /// specific than `prefix`.
    pub fn established_on_less_specific(&self, prefix: IpNet, asn: Asn, ts: Timestamp) -> bool {
        let now = secs(ts);
        let p = prefix.trunc();
        self.cover(p)
            .into_iter()
            .filter(|(k, _)| *k != p)
            .any(|(_, e)| {
                e.iter()
                    .any(|o| o.asn == asn && o.established_at(now, self.learn_secs))
            })
    }

    /// True when `origin` is a past origin of exactly `prefix`: widely
    /// carried for a while before and then gone (see the module docs).
    pub fn seen_before(&self, prefix: IpNet, origin: Asn) -> bool {
        self.entry(prefix)
            .and_then(|e| e.iter().find(|o| o.asn == origin))
            .is_some_and(|o| o.flags & PAST != 0)
    }

    /// True when `asn` originated anything before (bootstrap or observed).
    pub fn origin_known(&self, asn: Asn) -> bool {
        self.known_origins.contains(&asn)
    }

    /// The slots announcing `origin` for `prefix`.
    pub fn slots_of(&self, prefix: IpNet, origin: Asn) -> Vec<Slot> {
        self.entry(prefix)
            .and_then(|e| e.iter().find(|o| o.asn == origin))
            .map(|o| o.slots.iter().collect())
            .unwrap_or_default()
    }

    /// Every (prefix, origin) currently announced by at least one slot or
    /// established (bootstrap table, RIB, learned), with the number of
    /// distinct collector peers announcing it now (ADD-PATH slots of one
    /// peer count once; 0 for an established origin no peer carries at the
    /// moment). Past origins that are neither are left out. IPv4 first,
    /// each family in trie order. This is what the API's routing snapshot
    /// publishes.
    pub fn current_origins(&self) -> impl Iterator<Item = (IpNet, Asn, usize)> + '_ {
        let v4 = self.v4.iter().map(|(p, e)| (IpNet::V4(p), e));
        let v6 = self.v6.iter().map(|(p, e)| (IpNet::V6(p), e));
        v4.chain(v6).flat_map(move |(p, e)| {
            e.iter()
                .filter(|o| !o.slots.is_empty() || o.flags & ESTABLISHED != 0)
                .map(move |o| (p, o.asn, self.distinct_peers(&o.slots)))
        })
    }

    fn distinct_peers(&self, slots: &SlotBits) -> usize {
        let mut peers: SmallVec<[PeerId; 8]> =
            slots.iter().filter_map(|s| self.slot_peer(s)).collect();
        peers.sort_unstable();
        peers.dedup();
        peers.len()
    }

    /// Size figures.
    pub fn stats(&self) -> StateStats {
        let mut st = StateStats {
            slots: self.slots.peer_of.len(),
            ..Default::default()
        };
        let mut heap = 0usize;
        let mut count = |e: &PrefixEntry| {
            st.prefixes += 1;
            st.origins += e.len();
            for o in e.iter() {
                st.routes += o.slots.len();
                heap += o.slots.heap_bytes();
            }
            if e.spilled() {
                heap += e.capacity() * std::mem::size_of::<OriginEntry>();
            }
        };
        self.v4.values().for_each(&mut count);
        self.v6.values().for_each(&mut count);
        st.approx_bytes = self.v4.mem_size() + self.v6.mem_size() + heap;
        st
    }
}

/// One origin entry as a checkpoint stores it: (origin, visible since,
/// flags, slot bit words).
type OriginRepr = (Asn, u32, u8, SlotBits);

/// The checkpoint form of a [`RoutingState`]: slots in slot order, every
/// prefix with its origin entries, the known origins ascending.
#[derive(Deserialize)]
struct StateRepr {
    learn_secs: u32,
    slots: Vec<(PeerId, Option<u32>)>,
    prefixes: Vec<(IpNet, Vec<OriginRepr>)>,
    known_origins: Vec<Asn>,
}

/// Serializes each item of an iterator as it is produced, so a checkpoint
/// of a large table is written without a second copy of it in memory.
struct Stream<I>(std::cell::Cell<Option<I>>);

impl<I, T> Serialize for Stream<I>
where
    I: Iterator<Item = T>,
    T: Serialize,
{
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.take() {
            Some(it) => s.collect_seq(it),
            None => s.collect_seq(std::iter::empty::<T>()),
        }
    }
}

impl Serialize for RoutingState {
    /// Streams the state (checkpoints); [`RoutingState`]'s `Deserialize`
    /// reads it back.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut slots: Vec<(PeerId, Option<u32>)> =
            self.slots.peer_of.iter().map(|p| (*p, None)).collect();
        for ((peer, path_id), slot) in &self.slots.ids {
            if let Some(e) = slots.get_mut(slot.0 as usize) {
                *e = (*peer, *path_id);
            }
        }
        fn entry(e: &PrefixEntry) -> Vec<(Asn, u32, u8, &SlotBits)> {
            e.iter()
                .map(|o| (o.asn, o.visible_since, o.flags, &o.slots))
                .collect()
        }
        let prefixes = self
            .v4
            .iter()
            .map(|(p, e)| (IpNet::V4(p), entry(e)))
            .chain(self.v6.iter().map(|(p, e)| (IpNet::V6(p), entry(e))));
        let mut known: Vec<Asn> = self.known_origins.iter().copied().collect();
        known.sort_unstable();
        let mut st = s.serialize_struct("RoutingState", 4)?;
        st.serialize_field("learn_secs", &self.learn_secs)?;
        st.serialize_field("slots", &slots)?;
        st.serialize_field("prefixes", &Stream(std::cell::Cell::new(Some(prefixes))))?;
        st.serialize_field("known_origins", &known)?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for RoutingState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = StateRepr::deserialize(d)?;
        let mut st = RoutingState::new(r.learn_secs);
        for (peer, path_id) in r.slots {
            let before = st.slots.peer_of.len();
            st.slots.get_or_insert(peer, path_id);
            if st.slots.peer_of.len() == before {
                return Err(serde::de::Error::custom(format!(
                    "slots: ({}, {path_id:?}) listed twice",
                    peer.0
                )));
            }
        }
        for (prefix, origins) in r.prefixes {
            let e: PrefixEntry = origins
                .into_iter()
                .map(|(asn, visible_since, flags, slots)| OriginEntry {
                    asn,
                    visible_since,
                    flags,
                    slots,
                })
                .collect();
            match prefix.trunc() {
                IpNet::V4(p) => {
                    st.v4.insert(p, e);
                }
                IpNet::V6(p) => {
                    st.v6.insert(p, e);
                }
            }
        }
        st.known_origins = r.known_origins.into_iter().collect();
        Ok(st)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_round_trip_keeps_routes_slots_and_baseline() {
        let mut st = RoutingState::new(100);
        st.establish(p("10.0.0.0/8"), Asn(1));
        let a = st.slot(PeerId(4), Some(7));
        let b = st.slot(PeerId(2), None);
        let t = Timestamp::from_secs(1_000);
        st.announce(p("10.1.0.0/16"), a, Some(Asn(2)), t);
        st.announce(p("2001:db8::/32"), b, Some(Asn(3)), t);
        let text = serde_json::to_string(&st).expect("serialize");
        let back: RoutingState = serde_json::from_str(&text).expect("deserialize");
        assert_eq!(serde_json::to_string(&back).expect("again"), text);
        assert_eq!(back.stats(), st.stats());
        let mut back = back;
        assert_eq!(back.slot(PeerId(4), Some(7)), a);
        assert_eq!(back.slot(PeerId(2), None), b);
        assert_eq!(back.slot_peer(a), Some(PeerId(4)));
        assert!(back.origin_known(Asn(3)));
        assert_eq!(
            back.established_origins(p("10.1.0.0/16"), t.add_secs(100))
                .to_vec(),
            vec![Asn(2)]
        );
        assert_eq!(back.peer_down(PeerId(2), t).len(), 1);
    }

    fn p(s: &str) -> IpNet {
        s.parse().expect("prefix")
    }

    #[test]
    fn current_origins_count_peers_and_keep_the_baseline() {
        let mut st = RoutingState::new(100);
        st.establish(p("208.65.152.0/22"), Asn(36561));
        st.establish(p("208.65.153.0/24"), Asn(36561));
        // Two ADD-PATH slots of one peer and one other peer.
        let a = st.slot(PeerId(1), Some(1));
        let a2 = st.slot(PeerId(1), Some(2));
        let b = st.slot(PeerId(2), None);
        let c = st.slot(PeerId(3), None);
        let t = Timestamp::from_secs(1_000);
        for s in [a, a2, b] {
            st.announce(p("208.65.153.0/24"), s, Some(Asn(17557)), t);
        }
        // A brief origin that went again: not current, not established.
        st.announce(p("192.0.2.0/24"), c, Some(Asn(64500)), t);
        st.withdraw(p("192.0.2.0/24"), c, t.add_secs(5));
        let got: Vec<(IpNet, Asn, usize)> = st.current_origins().collect();
        assert_eq!(
            got,
            vec![
                (p("208.65.152.0/22"), Asn(36561), 0),
                (p("208.65.153.0/24"), Asn(36561), 0),
                (p("208.65.153.0/24"), Asn(17557), 2),
            ]
        );
    }

    #[test]
    fn announce_replace_withdraw_and_learning() {
        let mut st = RoutingState::new(100);
        let a = st.slot(PeerId(0), None);
        let b = st.slot(PeerId(1), None);
        let t0 = Timestamp::from_secs(1_000);
        assert_eq!(st.announce(p("10.0.0.0/8"), a, Some(Asn(1)), t0), None);
        assert!(st.established_origins(p("10.0.0.0/8"), t0).is_empty());
        // visible for 100 s: learned
        assert_eq!(
            st.established_origins(p("10.0.0.0/8"), t0.add_secs(100))
                .to_vec(),
            vec![Asn(1)]
        );
        // implicit withdrawal returns the previous origin
        assert_eq!(
            st.announce(p("10.0.0.0/8"), a, Some(Asn(2)), t0.add_secs(10)),
            Some(Asn(1))
        );
        // origin 1 disappeared after 10 s: forgotten, not established
        // (origin 2 has been visible long enough by then)
        assert_eq!(
            st.established_origins(p("10.0.0.0/8"), t0.add_secs(500))
                .to_vec(),
            vec![Asn(2)]
        );
        st.announce(p("10.0.0.0/8"), b, Some(Asn(2)), t0.add_secs(20));
        assert_eq!(
            st.withdraw(p("10.0.0.0/8"), a, t0.add_secs(30)),
            Some(Asn(2))
        );
        assert_eq!(st.slots_of(p("10.0.0.0/8"), Asn(2)), vec![b]);
        assert_eq!(st.withdraw(p("10.0.0.0/8"), a, t0.add_secs(30)), None);
    }

    #[test]
    fn covering_lookup_and_peer_down() {
        let mut st = RoutingState::new(86_400);
        st.establish(p("208.65.152.0/22"), Asn(36561));
        let t = Timestamp::from_secs(5);
        let got = st.most_specific_established(p("208.65.153.0/24"), t);
        assert_eq!(
            got,
            Some((p("208.65.152.0/22"), smallvec::smallvec![Asn(36561)]))
        );
        assert!(st.established_on_less_specific(p("208.65.153.0/24"), Asn(36561), t));
        assert!(!st.established_on_less_specific(p("208.65.152.0/22"), Asn(36561), t));
        let s = st.slot(PeerId(3), Some(7));
        let s2 = st.slot(PeerId(3), Some(8));
        st.announce(p("208.65.153.0/24"), s, Some(Asn(17557)), t);
        st.announce(p("208.65.153.0/24"), s2, Some(Asn(17557)), t);
        assert!(st.origin_known(Asn(17557)));
        let gone = st.peer_down(PeerId(3), t.add_secs(1));
        assert_eq!(gone.len(), 2);
        assert!(st.slots_of(p("208.65.153.0/24"), Asn(17557)).is_empty());
        assert_eq!(st.stats().prefixes, 1);
    }

    #[test]
    fn bits() {
        let mut b = SlotBits::default();
        assert!(b.insert(Slot(3)));
        assert!(b.insert(Slot(200)));
        assert!(!b.insert(Slot(3)));
        assert_eq!(b.iter().collect::<Vec<_>>(), vec![Slot(3), Slot(200)]);
        assert!(b.remove(Slot(200)));
        assert_eq!(b.len(), 1);
        assert!(!b.is_empty());
    }
}

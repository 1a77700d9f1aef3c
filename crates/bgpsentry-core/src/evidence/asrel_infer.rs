//! Inferring AS relationships from the AS paths the system observes, for
//! when no CAIDA / BGPKIT file is given.
//!
//! The algorithm is CAIDA's AS-Rank (Luckie, Huffaker, Dhamdhere, Giotsas,
//! claffy: "AS Relationships, Customer Cones, and Validation", IMC 2013),
//! reduced to the steps that matter for leak and hijack scoring:
//!
//! 1. **Sanitise** paths: collapse prepending, drop paths with loops, with
//!    reserved / private ASNs (incl. AS_TRANS), or longer than 64 hops.
//! 2. **Rank** ASes by transit degree (distinct neighbours seen while the AS
//!    is in the middle of a path), then node degree, then ASN.
//! 3. **Clique**: the largest clique (all pairs adjacent) among the top 10
//!    by transit degree, extended in rank order through the top 50 by every
//!    AS adjacent to all members. Clique links are p2p.
//! 4. **Top-down c2p** (AS-Rank step 5, valley-free): in a triplet
//!    `x y z` (path order, the route flowed z → y → x), if x is a peer or
//!    provider of y, y exported the route up or sideways, so z is y's
//!    customer; symmetrically if z is a peer or provider of y, x is y's
//!    customer. Applied to every path until no decision changes.
//! 5. **Leftovers**: a link between a stub (transit degree 0) and a transit
//!    AS is c2p; every other undecided link is p2p (AS-Rank's last step).
//!
//! Deviations from AS-Rank: votes instead of first-come decisions (each
//! unique path votes, the majority wins, so a few leaked paths cannot flip a
//! link) and they are iterated to a fixpoint rather than visiting ASes once
//! in rank order; no poisoned-path filtering beyond loops; no special
//! handling of partial-feed vantage points; no sibling inference (siblings
//! come from as2org). Confidence of a voted edge is `share * n / (n + 1)`
//! for n votes of which `share` agree; clique links 0.9; leftover c2p 0.6,
//! leftover p2p 0.5.

use crate::fasthash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::io::{self, Read};

use super::asrel::{AsRelationships, Relationship};
use super::bogons::Bogons;
use crate::model::{Asn, RouteEvent};
use crate::mrt::{RecordReader, StreamDecoder, decompress};

/// Paths longer than this (after collapsing prepends) are not plausible.
pub const MAX_PATH_LEN: usize = 64;
/// Default cap on distinct paths kept (memory bound, ~100 MB worst case).
pub const DEFAULT_MAX_PATHS: usize = 4_000_000;

const CLIQUE_SEED: usize = 10;
const CLIQUE_EXTEND: usize = 50;
const MAX_PASSES: usize = 16;

/// Counters of what [`AsRelInference::observe`] did with its input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InferenceStats {
    pub observed: u64,
    pub unique: u64,
    pub rejected_short: u64,
    pub rejected_loop: u64,
    pub rejected_bogon: u64,
    pub rejected_long: u64,
    pub dropped_over_cap: u64,
}

/// Observes AS paths, then infers a relationship table.
#[derive(Debug, Clone)]
pub struct AsRelInference {
    paths: HashSet<Box<[u32]>>,
    max_paths: usize,
    stats: InferenceStats,
    bogons: Bogons,
}

impl Default for AsRelInference {
    fn default() -> Self {
        Self::new()
    }
}

impl AsRelInference {
    pub fn new() -> Self {
        Self::with_max_paths(DEFAULT_MAX_PATHS)
    }

    /// Keep at most `max_paths` distinct paths; later new ones are counted
    /// and dropped.
    pub fn with_max_paths(max_paths: usize) -> Self {
        AsRelInference {
            paths: HashSet::new(),
            max_paths,
            stats: InferenceStats::default(),
            bogons: Bogons::default(),
        }
    }

    /// Observe one AS path in wire order (collector peer first, origin
    /// last; AS_SETs left out by the caller). Returns true if it was kept.
    pub fn observe(&mut self, path: &[Asn]) -> bool {
        self.stats.observed += 1;
        let mut clean: Vec<u32> = Vec::with_capacity(path.len());
        for a in path {
            if clean.last() != Some(&a.0) {
                clean.push(a.0);
            }
        }
        if clean.len() < 2 {
            self.stats.rejected_short += 1;
            return false;
        }
        if clean.len() > MAX_PATH_LEN {
            self.stats.rejected_long += 1;
            return false;
        }
        if clean.iter().any(|&a| self.bogons.asn_is_bogon(Asn(a))) {
            self.stats.rejected_bogon += 1;
            return false;
        }
        for (i, a) in clean.iter().enumerate() {
            if clean[i + 1..].contains(a) {
                self.stats.rejected_loop += 1;
                return false;
            }
        }
        if self.paths.contains(clean.as_slice()) {
            return true;
        }
        if self.paths.len() >= self.max_paths {
            self.stats.dropped_over_cap += 1;
            return false;
        }
        self.paths.insert(clean.into_boxed_slice());
        self.stats.unique += 1;
        true
    }

    /// Observe every announced AS path of an MRT stream (updates or RIB
    /// dump, compressed or not). Returns the number of paths observed;
    /// damaged records are skipped (the MRT reader resynchronises).
    pub fn observe_mrt<R: Read + Send + 'static>(&mut self, input: R) -> io::Result<u64> {
        let (_, r) = decompress(input)?;
        let mut reader = RecordReader::new(r);
        let mut decoder = StreamDecoder::new();
        let mut n = 0u64;
        for item in reader.by_ref() {
            let Ok(rec) = item else { continue };
            for m in decoder.decode(rec).messages {
                if let RouteEvent::Update {
                    announced,
                    attrs: Some(attrs),
                    ..
                } = &m.event
                    && !announced.is_empty()
                    && let Some(seq) = attrs.as_path.dedup_sequence()
                {
                    self.observe(&seq);
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    pub fn stats(&self) -> &InferenceStats {
        &self.stats
    }

    /// Run the inference over everything observed so far.
    pub fn infer(&self) -> AsRelationships {
        Graph::build(&self.paths).infer()
    }
}

impl AsRelationships {
    /// Infer relationships from AS paths (see [`AsRelInference`]).
    pub fn infer<'a>(paths: impl IntoIterator<Item = &'a [Asn]>) -> Self {
        let mut inf = AsRelInference::new();
        for p in paths {
            inf.observe(p);
        }
        inf.infer()
    }
}

/// Decision on one link, from the low ASN's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    LoProvider,
    HiProvider,
    Peer,
}

struct Graph<'p> {
    paths: Vec<&'p [u32]>,
    edge_index: HashMap<u64, usize>,
    /// (lo, hi, lo transits on it, hi transits on it)
    edges: Vec<(u32, u32, bool, bool)>,
    transit_degree: HashMap<u32, u32>,
    degree: HashMap<u32, u32>,
}

fn ekey(a: u32, b: u32) -> u64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    (u64::from(lo) << 32) | u64::from(hi)
}

impl<'p> Graph<'p> {
    fn build(set: &'p HashSet<Box<[u32]>>) -> Self {
        let mut paths: Vec<&[u32]> = set.iter().map(|p| &**p).collect();
        paths.sort_unstable();
        let mut g = Graph {
            paths,
            edge_index: HashMap::new(),
            edges: Vec::new(),
            transit_degree: HashMap::new(),
            degree: HashMap::new(),
        };
        for pi in 0..g.paths.len() {
            let p = g.paths[pi];
            for i in 0..p.len() - 1 {
                let e = g.edge(p[i], p[i + 1]);
                // p[i] transits on this link unless it is the collector peer;
                // p[i+1] unless it is the origin.
                if i > 0 {
                    g.mark_transit(e, p[i]);
                }
                if i + 2 < p.len() {
                    g.mark_transit(e, p[i + 1]);
                }
            }
        }
        for &(lo, hi, lt, ht) in &g.edges {
            *g.degree.entry(lo).or_default() += 1;
            *g.degree.entry(hi).or_default() += 1;
            if lt {
                *g.transit_degree.entry(lo).or_default() += 1;
            }
            if ht {
                *g.transit_degree.entry(hi).or_default() += 1;
            }
        }
        g
    }

    fn edge(&mut self, a: u32, b: u32) -> usize {
        let k = ekey(a, b);
        if let Some(&i) = self.edge_index.get(&k) {
            return i;
        }
        let i = self.edges.len();
        self.edges.push((a.min(b), a.max(b), false, false));
        self.edge_index.insert(k, i);
        i
    }

    fn mark_transit(&mut self, e: usize, who: u32) {
        let edge = &mut self.edges[e];
        if edge.0 == who {
            edge.2 = true;
        } else {
            edge.3 = true;
        }
    }

    fn adjacent(&self, a: u32, b: u32) -> bool {
        self.edge_index.contains_key(&ekey(a, b))
    }

    fn tdeg(&self, a: u32) -> u32 {
        self.transit_degree.get(&a).copied().unwrap_or(0)
    }

    fn ranking(&self) -> Vec<u32> {
        let mut ases: Vec<u32> = self.degree.keys().copied().collect();
        ases.sort_unstable_by_key(|&a| {
            (
                std::cmp::Reverse(self.tdeg(a)),
                std::cmp::Reverse(self.degree[&a]),
                a,
            )
        });
        ases
    }

    fn clique(&self, rank: &[u32]) -> Vec<u32> {
        let seed: Vec<u32> = rank
            .iter()
            .copied()
            .filter(|&a| self.tdeg(a) > 0)
            .take(CLIQUE_SEED)
            .collect();
        let mut best: Vec<u32> = Vec::new();
        for mask in 1u32..(1 << seed.len()) {
            let members: Vec<u32> = (0..seed.len())
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| seed[i])
                .collect();
            if members.len() <= best.len() {
                continue;
            }
            let ok = members
                .iter()
                .enumerate()
                .all(|(i, &a)| members[i + 1..].iter().all(|&b| self.adjacent(a, b)));
            if ok {
                best = members;
            }
        }
        for &cand in rank.iter().take(CLIQUE_EXTEND).skip(CLIQUE_SEED) {
            if self.tdeg(cand) > 0
                && !best.contains(&cand)
                && best.iter().all(|&m| self.adjacent(m, cand))
            {
                best.push(cand);
            }
        }
        best.sort_unstable();
        best
    }

    /// What `a` is to `b` under the current decisions.
    fn rel(&self, dec: &[Option<Dir>], a: u32, b: u32) -> Option<Relationship> {
        let &i = self.edge_index.get(&ekey(a, b))?;
        let d = dec[i]?;
        let lo_is_a = a <= b;
        Some(match (d, lo_is_a) {
            (Dir::Peer, _) => Relationship::Peer,
            (Dir::LoProvider, true) | (Dir::HiProvider, false) => Relationship::Provider,
            _ => Relationship::Customer,
        })
    }

    fn infer(&self) -> AsRelationships {
        let rank = self.ranking();
        let clique = self.clique(&rank);
        let in_clique = |a: u32| clique.binary_search(&a).is_ok();

        let n = self.edges.len();
        let fixed: Vec<bool> = self
            .edges
            .iter()
            .map(|&(lo, hi, _, _)| in_clique(lo) && in_clique(hi))
            .collect();
        let mut dec: Vec<Option<Dir>> = fixed
            .iter()
            .map(|&f| if f { Some(Dir::Peer) } else { None })
            .collect();
        let mut votes = vec![[0u32; 2]; n];

        for _ in 0..MAX_PASSES {
            votes.iter_mut().for_each(|v| *v = [0, 0]);
            for p in &self.paths {
                for i in 1..p.len().saturating_sub(1) {
                    let (x, y, z) = (p[i - 1], p[i], p[i + 1]);
                    let up_or_side =
                        |r| matches!(r, Some(Relationship::Peer | Relationship::Provider));
                    if up_or_side(self.rel(&dec, x, y)) {
                        self.vote(&mut votes, y, z);
                    }
                    if up_or_side(self.rel(&dec, z, y)) {
                        self.vote(&mut votes, y, x);
                    }
                }
            }
            let mut changed = false;
            for i in 0..n {
                if fixed[i] {
                    continue;
                }
                let [lo, hi] = votes[i];
                let d = match lo.cmp(&hi) {
                    std::cmp::Ordering::Greater => Some(Dir::LoProvider),
                    std::cmp::Ordering::Less => Some(Dir::HiProvider),
                    std::cmp::Ordering::Equal => None,
                };
                if d != dec[i] {
                    dec[i] = d;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }

        let mut out = AsRelationships::new();
        for (i, &(lo, hi, _, _)) in self.edges.iter().enumerate() {
            let (a, b) = (Asn(lo), Asn(hi));
            let [vl, vh] = votes[i];
            let total = (vl + vh) as f32;
            match dec[i] {
                Some(Dir::Peer) => out.insert(a, b, Relationship::Peer, 0.9),
                Some(d) => {
                    let agree = if d == Dir::LoProvider { vl } else { vh } as f32;
                    let conf = (agree / total) * total / (total + 1.0);
                    let rel = if d == Dir::LoProvider {
                        Relationship::Provider
                    } else {
                        Relationship::Customer
                    };
                    out.insert(a, b, rel, conf);
                }
                None => {
                    let (tl, th) = (self.tdeg(lo), self.tdeg(hi));
                    if tl == 0 && th > 0 {
                        out.insert(a, b, Relationship::Customer, 0.6);
                    } else if th == 0 && tl > 0 {
                        out.insert(a, b, Relationship::Provider, 0.6);
                    } else {
                        out.insert(a, b, Relationship::Peer, 0.5);
                    }
                }
            }
        }
        out.set_clique(clique.into_iter().map(Asn));
        out
    }

    /// One vote that `provider` is a provider of `customer`.
    fn vote(&self, votes: &mut [[u32; 2]], provider: u32, customer: u32) {
        if let Some(&i) = self.edge_index.get(&ekey(provider, customer)) {
            let slot = if provider < customer { 0 } else { 1 };
            votes[i][slot] = votes[i][slot].saturating_add(1);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn path(v: &[u32]) -> Vec<Asn> {
        v.iter().map(|&a| Asn(a)).collect()
    }

    #[test]
    fn small_topology() {
        // Clique 1,2,3 (full mesh). 10 customer of 1, 20 customer of 2,
        // 100 customer of 10, 200 customer of 20, 10 and 20 peer.
        let paths = [
            vec![1, 2, 20, 200],
            vec![1, 3, 2, 20],
            vec![2, 1, 10, 100],
            vec![3, 1, 10, 100],
            vec![3, 2, 20, 200],
            vec![2, 3],
            vec![1, 10, 100],
            vec![10, 20, 200],
            vec![20, 10, 100],
            vec![200, 20, 2, 1, 10, 100],
            vec![100, 10, 1, 3],
        ];
        let mut inf = AsRelInference::new();
        for p in &paths {
            assert!(inf.observe(&path(p)));
        }
        assert!(!inf.observe(&path(&[1, 2, 1])), "loop");
        assert!(!inf.observe(&path(&[1, 65000])), "private ASN");
        let t = inf.infer();
        assert_eq!(t.clique(), vec![Asn(1), Asn(2), Asn(3)]);
        let rel = |a, b| t.rel(Asn(a), Asn(b)).map(|r| r.rel);
        assert_eq!(rel(1, 2), Some(Relationship::Peer));
        assert_eq!(rel(1, 10), Some(Relationship::Provider));
        assert_eq!(rel(20, 2), Some(Relationship::Customer));
        assert_eq!(rel(10, 100), Some(Relationship::Provider));
        assert_eq!(rel(200, 20), Some(Relationship::Customer));
        assert_eq!(rel(10, 20), Some(Relationship::Peer));
    }
}

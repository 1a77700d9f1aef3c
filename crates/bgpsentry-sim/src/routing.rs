//! Gao–Rexford routing, computed per announcement configuration by a
//! three-phase propagation (customer routes up, one peer hop, provider
//! routes down), which yields the stable state of BGP under the usual
//! preferences: customer > peer > provider, then shortest AS path, then the
//! lowest next-hop ASN. Export is valley-free, except where an announcement
//! is a route leak, which re-exports on purpose across one valley.
//!
//! Every route carries the announcement it derives from, so that collector
//! views can be attributed to incidents, and incidents can be accepted by
//! only a share of the ASes (a deterministic per-AS hash).

use crate::rng::hash;
use crate::topology::{Node, Rel, Topology};

/// No node / no edge.
pub const NONE: u32 = u32::MAX;
/// Paths longer than this are dropped.
const MAX_LEN: u16 = 64;

/// Route classes in order of preference.
pub mod class {
    /// Originated locally.
    pub const ORIGIN: u8 = 0;
    /// Learned from a customer.
    pub const CUSTOMER: u8 = 1;
    /// Learned from a peer.
    pub const PEER: u8 = 2;
    /// Learned from a provider.
    pub const PROVIDER: u8 = 3;
    /// No route.
    pub const NONE: u8 = 255;
}

/// Only some ASes accept routes derived from an announcement: those whose
/// hash of (seed, id, ASN) falls under `permille`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Filter {
    /// Incident id (mixed into the hash).
    pub id: u32,
    /// Acceptance share in thousandths.
    pub permille: u16,
}

/// One announcement of a prefix.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ann {
    /// `at` originates the prefix with path `[at] + claimed` (claimed is
    /// empty except for forged-origin hijacks).
    Originate {
        /// The announcing AS.
        at: Node,
        /// ASNs forged after `at`.
        claimed: Vec<u32>,
        /// Acceptance filter (incidents only).
        filter: Option<Filter>,
    },
    /// `at` originates but announces only to its provider `to`
    /// (a delegated more-specific announced through the old origin).
    Only {
        /// The customer that originates.
        at: Node,
        /// Its provider, the only neighbour that hears it.
        to: Node,
    },
    /// `leaker` re-exports the route it learned from a `from` neighbour to
    /// its `to` neighbours.
    Leak {
        /// The leaking AS.
        leaker: Node,
        /// Provider or Peer.
        from: Rel,
        /// Provider or Peer.
        to: Rel,
        /// Acceptance filter for ASes beyond the first hop.
        filter: Option<Filter>,
    },
}

impl Ann {
    /// The acceptance filter (whose id tags the routes derived from it).
    pub fn filter(&self) -> Option<Filter> {
        match self {
            Ann::Originate { filter, .. } | Ann::Leak { filter, .. } => *filter,
            Ann::Only { .. } => None,
        }
    }
}

/// A selected route.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// See [`class`].
    pub class: u8,
    /// AS path length including this AS.
    pub len: u16,
    /// Next hop node, or [`NONE`] for a seeded route.
    pub next: Node,
    /// Edge to the next hop (or of the seed), or [`NONE`].
    pub edge: u32,
    /// Index of the seed the route derives from.
    pub seed: u32,
}

const NO_ROUTE: Route = Route {
    class: class::NONE,
    len: 0,
    next: NONE,
    edge: NONE,
    seed: NONE,
};

#[derive(Clone, Debug)]
struct Seed {
    node: Node,
    class: u8,
    /// ASNs after `node` in the path.
    suffix: Vec<u32>,
    ann: u32,
    edge: u32,
}

/// The stable routing state of one configuration.
#[derive(Clone, Debug)]
pub struct Routing {
    routes: Vec<Route>,
    seeds: Vec<Seed>,
}

impl Routing {
    /// The route of a node.
    pub fn route(&self, n: Node) -> Route {
        self.routes.get(n as usize).copied().unwrap_or(NO_ROUTE)
    }

    /// The AS path of a node's route (starting with its own ASN), if any.
    pub fn path(&self, topo: &Topology, n: Node) -> Option<Vec<u32>> {
        let mut out = Vec::new();
        let mut x = n;
        loop {
            let r = self.route(x);
            if r.class == class::NONE || out.len() > MAX_LEN as usize {
                return None;
            }
            out.push(topo.asn(x));
            if r.next == NONE {
                out.extend_from_slice(&self.seeds.get(r.seed as usize)?.suffix);
                return Some(out);
            }
            x = r.next;
        }
    }

    /// Index of the announcement a node's route derives from.
    pub fn ann_of(&self, n: Node) -> Option<usize> {
        let r = self.route(n);
        if r.class == class::NONE {
            return None;
        }
        self.seeds.get(r.seed as usize).map(|s| s.ann as usize)
    }

    /// Edges used by any route, sorted.
    pub fn used_edges(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .routes
            .iter()
            .filter(|r| r.edge != NONE)
            .map(|r| r.edge)
            .collect();
        v.extend(self.seeds.iter().filter(|s| s.edge != NONE).map(|s| s.edge));
        v.sort_unstable();
        v.dedup();
        v
    }

    fn contains(&self, topo: &Topology, from: Node, asn: u32) -> bool {
        let mut x = from;
        for _ in 0..=MAX_LEN {
            if topo.asn(x) == asn {
                return true;
            }
            let r = self.route(x);
            if r.class == class::NONE {
                return false;
            }
            if r.next == NONE {
                return self
                    .seeds
                    .get(r.seed as usize)
                    .is_some_and(|s| s.suffix.contains(&asn));
            }
            x = r.next;
        }
        true
    }

    fn nh_asn(&self, topo: &Topology, r: &Route) -> u32 {
        if r.next != NONE {
            topo.asn(r.next)
        } else {
            self.seeds
                .get(r.seed as usize)
                .and_then(|s| s.suffix.first().copied())
                .unwrap_or(0)
        }
    }

    fn better(&self, topo: &Topology, new: &Route, old: &Route) -> bool {
        (new.class, new.len, self.nh_asn(topo, new)) < (old.class, old.len, self.nh_asn(topo, old))
    }
}

/// Inputs of a routing computation.
pub struct Ctx<'a> {
    /// The topology.
    pub topo: &'a Topology,
    /// Failed links, by edge id.
    pub down: &'a [bool],
    /// The scenario seed (for acceptance hashes).
    pub seed: u64,
}

impl Ctx<'_> {
    fn accepts(&self, anns: &[Ann], seed: &Seed, v: Node) -> bool {
        match anns.get(seed.ann as usize).and_then(Ann::filter) {
            None => true,
            Some(f) => {
                hash(&[self.seed, u64::from(f.id), u64::from(self.topo.asn(v))]) % 1000
                    < u64::from(f.permille)
            }
        }
    }

    fn is_up(&self, e: u32) -> bool {
        !self.down.get(e as usize).copied().unwrap_or(false)
    }

    /// Computes the stable state for a set of announcements.
    pub fn compute(&self, anns: &[Ann]) -> Routing {
        let mut seeds = Vec::new();
        for (i, a) in anns.iter().enumerate() {
            let ann = i as u32;
            match a {
                Ann::Originate { at, claimed, .. } => seeds.push(Seed {
                    node: *at,
                    class: class::ORIGIN,
                    suffix: claimed.clone(),
                    ann,
                    edge: NONE,
                }),
                Ann::Only { at, to } => {
                    let edge = self.topo.providers[*at as usize]
                        .iter()
                        .find(|(p, _)| p == to)
                        .map(|(_, e)| *e);
                    if let Some(edge) = edge.filter(|e| self.is_up(*e)) {
                        seeds.push(Seed {
                            node: *to,
                            class: class::CUSTOMER,
                            suffix: vec![self.topo.asn(*at)],
                            ann,
                            edge,
                        });
                    }
                }
                Ann::Leak { .. } => {}
            }
        }
        let base = self.propagate(anns, seeds.clone());
        if !anns.iter().any(|a| matches!(a, Ann::Leak { .. })) {
            return base;
        }
        for (i, a) in anns.iter().enumerate() {
            let Ann::Leak {
                leaker, from, to, ..
            } = a
            else {
                continue;
            };
            let r = base.route(*leaker);
            let want = match from {
                Rel::Provider => class::PROVIDER,
                Rel::Peer => class::PEER,
                Rel::Customer => continue,
            };
            if r.class != want {
                continue;
            }
            let Some(path) = base.path(self.topo, *leaker) else {
                continue;
            };
            let target_class = match to {
                Rel::Provider => class::CUSTOMER,
                Rel::Peer => class::PEER,
                Rel::Customer => continue,
            };
            for &(t, e) in self.topo.neighbours(*leaker, *to) {
                if !self.is_up(e) || t == r.next || path.contains(&self.topo.asn(t)) {
                    continue;
                }
                seeds.push(Seed {
                    node: t,
                    class: target_class,
                    suffix: path.clone(),
                    ann: i as u32,
                    edge: e,
                });
            }
        }
        self.propagate(anns, seeds)
    }

    fn propagate(&self, anns: &[Ann], seeds: Vec<Seed>) -> Routing {
        let topo = self.topo;
        let n = topo.len();
        let mut rt = Routing {
            routes: vec![NO_ROUTE; n],
            seeds,
        };
        let mut buckets: Vec<Vec<Node>> = vec![Vec::new(); MAX_LEN as usize + 2];
        let offer = |rt: &mut Routing, v: Node, cand: Route| -> bool {
            let old = rt.routes[v as usize];
            if old.class == class::NONE || rt.better(topo, &cand, &old) {
                rt.routes[v as usize] = cand;
                true
            } else {
                false
            }
        };
        // Seeds.
        let mut peer_seeds = Vec::new();
        for i in 0..rt.seeds.len() {
            let s = &rt.seeds[i];
            let len = 1 + s.suffix.len() as u16;
            let cand = Route {
                class: s.class,
                len,
                next: NONE,
                edge: s.edge,
                seed: i as u32,
            };
            let node = s.node;
            if s.class == class::PEER {
                peer_seeds.push((node, cand));
            } else if len <= MAX_LEN && offer(&mut rt, node, cand) {
                buckets[len as usize].push(node);
            }
        }
        let mut done = vec![false; n];
        // Phase 1: customer routes travel up to providers.
        for l in 0..buckets.len() {
            let nodes = std::mem::take(&mut buckets[l]);
            for u in nodes {
                let r = rt.routes[u as usize];
                if done[u as usize] || r.len as usize != l || r.class > class::CUSTOMER {
                    continue;
                }
                done[u as usize] = true;
                if r.len >= MAX_LEN {
                    continue;
                }
                let seed = rt.seeds[r.seed as usize].clone();
                for &(p, e) in &topo.providers[u as usize] {
                    if !self.is_up(e)
                        || !self.accepts(anns, &seed, p)
                        || rt.contains(topo, u, topo.asn(p))
                    {
                        continue;
                    }
                    let cand = Route {
                        class: class::CUSTOMER,
                        len: r.len + 1,
                        next: u,
                        edge: e,
                        seed: r.seed,
                    };
                    if offer(&mut rt, p, cand) {
                        buckets[cand.len as usize].push(p);
                    }
                }
            }
        }
        // Phase 2: one peer hop.
        let mut peer_offers = peer_seeds;
        for u in 0..n as Node {
            let r = rt.routes[u as usize];
            if r.class > class::CUSTOMER || r.len >= MAX_LEN {
                continue;
            }
            let seed = &rt.seeds[r.seed as usize];
            for &(q, e) in &topo.peers[u as usize] {
                if self.is_up(e)
                    && self.accepts(anns, seed, q)
                    && !rt.contains(topo, u, topo.asn(q))
                {
                    peer_offers.push((
                        q,
                        Route {
                            class: class::PEER,
                            len: r.len + 1,
                            next: u,
                            edge: e,
                            seed: r.seed,
                        },
                    ));
                }
            }
        }
        for (q, cand) in peer_offers {
            offer(&mut rt, q, cand);
        }
        // Phase 3: everything travels down to customers.
        let mut done = vec![false; n];
        for u in 0..n as Node {
            let r = rt.routes[u as usize];
            if r.class <= class::PEER {
                buckets[r.len as usize].push(u);
            }
        }
        for l in 0..buckets.len() {
            let nodes = std::mem::take(&mut buckets[l]);
            for u in nodes {
                let r = rt.routes[u as usize];
                if done[u as usize] || r.len as usize != l || r.class == class::NONE {
                    continue;
                }
                done[u as usize] = true;
                if r.len >= MAX_LEN {
                    continue;
                }
                let seed = rt.seeds[r.seed as usize].clone();
                for &(c, e) in &topo.customers[u as usize] {
                    if !self.is_up(e)
                        || !self.accepts(anns, &seed, c)
                        || rt.contains(topo, u, topo.asn(c))
                    {
                        continue;
                    }
                    let cand = Route {
                        class: class::PROVIDER,
                        len: r.len + 1,
                        next: u,
                        edge: e,
                        seed: r.seed,
                    };
                    if offer(&mut rt, c, cand) {
                        buckets[cand.len as usize].push(c);
                    }
                }
            }
        }
        rt
    }
}

/// The ASes that break valley-freeness in a path (collector side first):
/// read from the origin, a valley-free path climbs customer→provider links,
/// crosses at most one peer link, then only descends. Each AS returned
/// exported a route it should not have (unknown links count too); an empty
/// result means the path is valley-free.
pub fn valleys(topo: &Topology, path: &[u32]) -> Vec<u32> {
    // Walk from the origin (end) towards the collector (start).
    let mut out = Vec::new();
    let mut descending = false;
    let mut hops: Vec<u32> = path.to_vec();
    hops.dedup();
    let nodes: Vec<Option<Node>> = hops.iter().map(|a| topo.node(*a)).collect();
    for i in (1..nodes.len()).rev() {
        // Route flows from nodes[i] to nodes[i-1].
        let (Some(from), Some(to)) = (nodes[i], nodes[i - 1]) else {
            out.push(hops[i]);
            continue;
        };
        // Up: `to` is a provider of `from`; Down: a customer.
        match (topo.rel(from, to), descending) {
            (Some(Rel::Provider), false) => {}
            (Some(Rel::Peer), false) | (Some(Rel::Customer), _) => descending = true,
            // A valley: `from` exported what it should not. The receiver
            // treats the route afresh, by the link it came over.
            (Some(Rel::Provider), true) => {
                out.push(hops[i]);
                descending = false;
            }
            (Some(Rel::Peer), true) => out.push(hops[i]),
            (None, _) => {
                out.push(hops[i]);
                descending = false;
            }
        }
    }
    out
}

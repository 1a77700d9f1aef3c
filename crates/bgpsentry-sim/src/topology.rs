//! AS topologies: generated in tiers (a clique of tier-1s, two transit
//! levels, stubs) with preferential attachment for a heavy-tailed degree
//! distribution, or loaded from a CAIDA serial-1 relationship file; and
//! written back as serial-1 so detectors can be given the true relationships.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::rng::Rng;

/// Node index into a [`Topology`].
pub type Node = u32;

/// What a neighbour is to a node.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rel {
    /// The neighbour buys transit from the node.
    Customer,
    /// Settlement-free peer.
    Peer,
    /// The neighbour sells transit to the node.
    Provider,
}

/// One link. For provider–customer links `a` is the provider.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// Provider (or first peer).
    pub a: Node,
    /// Customer (or second peer).
    pub b: Node,
    /// True for peer–peer links.
    pub peer: bool,
}

/// Parameters of a generated topology.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopologyParams {
    /// Number of ASes.
    pub ases: usize,
    /// Tier-1 clique size (0 = about ases/150, between 4 and 15).
    pub tier1: usize,
    /// Share of ASes that are transit providers.
    pub transit_share: f64,
    /// Average number of peers of a transit AS.
    pub transit_peers: f64,
    /// Share of stubs with a peering link (IXP).
    pub stub_peering: f64,
    /// CAIDA serial-1 file to load instead of generating (relative to the scenario).
    pub file: Option<String>,
}

impl Default for TopologyParams {
    fn default() -> Self {
        TopologyParams {
            ases: 1000,
            tier1: 0,
            transit_share: 0.15,
            transit_peers: 3.0,
            stub_peering: 0.05,
            file: None,
        }
    }
}

/// An AS-level topology.
#[derive(Clone, Debug, Default)]
pub struct Topology {
    /// ASN of each node.
    pub asns: Vec<u32>,
    /// 1 = tier-1, 2 = large transit, 3 = small transit, 4 = stub.
    pub tier: Vec<u8>,
    /// Providers of each node: (neighbour, edge id), sorted by ASN.
    pub providers: Vec<Vec<(Node, u32)>>,
    /// Customers of each node.
    pub customers: Vec<Vec<(Node, u32)>>,
    /// Peers of each node.
    pub peers: Vec<Vec<(Node, u32)>>,
    /// All links.
    pub edges: Vec<Edge>,
    index: HashMap<u32, Node>,
}

fn reserved_asn(a: u32) -> bool {
    a == 0 || a == 23456 || (64496..=131_071).contains(&a) || a >= 4_200_000_000
}

impl Topology {
    /// Number of ASes.
    pub fn len(&self) -> usize {
        self.asns.len()
    }

    /// True when there are no ASes.
    pub fn is_empty(&self) -> bool {
        self.asns.is_empty()
    }

    /// The node of an ASN.
    pub fn node(&self, asn: u32) -> Option<Node> {
        self.index.get(&asn).copied()
    }

    /// The ASN of a node.
    pub fn asn(&self, n: Node) -> u32 {
        self.asns[n as usize]
    }

    /// What `b` is to `a`, if they are linked.
    pub fn rel(&self, a: Node, b: Node) -> Option<Rel> {
        let a = a as usize;
        if self.customers[a].iter().any(|(x, _)| *x == b) {
            Some(Rel::Customer)
        } else if self.providers[a].iter().any(|(x, _)| *x == b) {
            Some(Rel::Provider)
        } else if self.peers[a].iter().any(|(x, _)| *x == b) {
            Some(Rel::Peer)
        } else {
            None
        }
    }

    /// Neighbours of `n` of one kind.
    pub fn neighbours(&self, n: Node, rel: Rel) -> &[(Node, u32)] {
        match rel {
            Rel::Customer => &self.customers[n as usize],
            Rel::Peer => &self.peers[n as usize],
            Rel::Provider => &self.providers[n as usize],
        }
    }

    /// Degree (all links) of a node.
    pub fn degree(&self, n: Node) -> usize {
        let n = n as usize;
        self.customers[n].len() + self.providers[n].len() + self.peers[n].len()
    }

    fn add_node(&mut self, asn: u32, tier: u8) -> Node {
        let n = self.asns.len() as Node;
        self.asns.push(asn);
        self.tier.push(tier);
        self.providers.push(Vec::new());
        self.customers.push(Vec::new());
        self.peers.push(Vec::new());
        self.index.insert(asn, n);
        n
    }

    fn linked(&self, a: Node, b: Node) -> bool {
        a == b || self.rel(a, b).is_some()
    }

    fn add_p2c(&mut self, provider: Node, customer: Node) {
        if self.linked(provider, customer) {
            return;
        }
        let id = self.edges.len() as u32;
        self.edges.push(Edge {
            a: provider,
            b: customer,
            peer: false,
        });
        self.customers[provider as usize].push((customer, id));
        self.providers[customer as usize].push((provider, id));
    }

    fn add_p2p(&mut self, a: Node, b: Node) {
        if self.linked(a, b) {
            return;
        }
        let id = self.edges.len() as u32;
        self.edges.push(Edge { a, b, peer: true });
        self.peers[a as usize].push((b, id));
        self.peers[b as usize].push((a, id));
    }

    fn finish(&mut self) {
        let asns = self.asns.clone();
        for lists in [&mut self.providers, &mut self.customers, &mut self.peers] {
            for l in lists.iter_mut() {
                l.sort_by_key(|(n, _)| asns[*n as usize]);
            }
        }
    }

    /// Generates a tiered topology.
    pub fn generate(p: &TopologyParams, rng: &mut Rng) -> Result<Topology, SimError> {
        let n = p.ases;
        if !(10..=200_000).contains(&n) {
            return Err(SimError::Scenario(format!(
                "topology.ases must be between 10 and 200000, got {n}"
            )));
        }
        if !(0.0..=0.9).contains(&p.transit_share) {
            return Err(SimError::Scenario(
                "topology.transit_share must be in 0..0.9".into(),
            ));
        }
        let t1 = if p.tier1 == 0 {
            (n / 150).clamp(4, 15)
        } else {
            p.tier1.min(n / 2).max(2)
        };
        let transit = ((n as f64 * p.transit_share) as usize)
            .max(2)
            .min(n - t1 - 1);
        let large = (transit * 3 / 10).max(1);
        let mut t = Topology::default();
        let mut used = BTreeSet::new();
        let mut pick_asn = |base: u64, step: u64, i: u64, rng: &mut Rng| -> u32 {
            let mut a = (base + i * step + rng.below(step.max(1))) as u32;
            while reserved_asn(a) || used.contains(&a) {
                a = a.wrapping_add(1).max(1);
            }
            used.insert(a);
            a
        };
        for i in 0..t1 {
            let a = pick_asn(100, 37, i as u64, rng);
            t.add_node(a, 1);
        }
        for i in 0..t1 {
            for j in (i + 1)..t1 {
                t.add_p2p(i as Node, j as Node);
            }
        }
        // Preferential attachment weight: customers + 1 (tier-1s get a head start).
        let weight = |t: &Topology, x: Node| -> u64 {
            let base = t.customers[x as usize].len() as u64 + 1;
            if t.tier[x as usize] == 1 {
                base + 8
            } else {
                base
            }
        };
        let choose_providers = |t: &Topology, cands: &[Node], k: usize, rng: &mut Rng| {
            let mut chosen: Vec<Node> = Vec::new();
            let mut w: Vec<u64> = cands.iter().map(|c| weight(t, *c)).collect();
            for _ in 0..k {
                let Some(i) = rng.weighted(&w) else { break };
                chosen.push(cands[i]);
                w[i] = 0;
            }
            chosen
        };
        let mut upper: Vec<Node> = (0..t1 as Node).collect();
        for i in 0..transit {
            let level = if i < large { 2 } else { 3 };
            let a = pick_asn(2000, 11, i as u64, rng);
            let node = t.add_node(a, level);
            let k = 1 + usize::from(rng.chance(0.6)) + usize::from(rng.chance(0.3));
            for prov in choose_providers(&t, &upper, k, rng) {
                t.add_p2c(prov, node);
            }
            upper.push(node);
        }
        // Transit peering: similar tiers, preferential by degree.
        let transit_nodes: Vec<Node> = (t1 as Node..(t1 + transit) as Node).collect();
        for &x in &transit_nodes {
            let mut k = 0;
            let mean = p.transit_peers.max(0.0);
            while k < 20 && rng.chance(mean / (mean + 1.0)) {
                k += 1;
            }
            for _ in 0..k {
                let w: Vec<u64> = transit_nodes
                    .iter()
                    .map(|&y| {
                        if t.linked(x, y) {
                            0
                        } else {
                            t.degree(y) as u64 + 1
                        }
                    })
                    .collect();
                if let Some(i) = rng.weighted(&w) {
                    t.add_p2p(x, transit_nodes[i]);
                }
            }
        }
        let stubs = n - t1 - transit;
        for i in 0..stubs {
            let a = if rng.chance(0.35) {
                pick_asn(200_000, 13, i as u64, rng)
            } else {
                pick_asn(10_000, 7, i as u64, rng)
            };
            let node = t.add_node(a, 4);
            let r = rng.unit();
            let k = if r < 0.55 {
                1
            } else if r < 0.9 {
                2
            } else {
                3
            };
            for prov in choose_providers(&t, &upper, k, rng) {
                t.add_p2c(prov, node);
            }
            if rng.chance(p.stub_peering) {
                let y = transit_nodes[rng.index(transit_nodes.len())];
                t.add_p2p(node, y);
            }
        }
        t.finish();
        Ok(t)
    }

    /// Loads a CAIDA serial-1 (or serial-2) relationship file:
    /// `a|b|-1` (a is b's provider) and `a|b|0` (peers); `#` lines are
    /// comments. Returns the topology and the number of skipped lines.
    pub fn from_caida(text: &str) -> Result<(Topology, usize), SimError> {
        let mut t = Topology::default();
        let mut skipped = 0;
        let mut asns = BTreeSet::new();
        let mut links = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let f: Vec<&str> = line.split('|').collect();
            let parsed = (f.len() >= 3).then(|| {
                (
                    f[0].parse::<u32>(),
                    f[1].parse::<u32>(),
                    f[2].parse::<i32>(),
                )
            });
            match parsed {
                Some((Ok(a), Ok(b), Ok(r))) if a != b && (r == -1 || r == 0) => {
                    asns.insert(a);
                    asns.insert(b);
                    links.push((a, b, r));
                }
                _ => {
                    skipped += 1;
                    if skipped == 1 && links.is_empty() && i > 1000 {
                        return Err(SimError::Topology(format!("line {}: not serial-1", i + 1)));
                    }
                }
            }
        }
        if links.is_empty() {
            return Err(SimError::Topology("no usable relationship lines".into()));
        }
        for a in &asns {
            t.add_node(*a, 4);
        }
        for (a, b, r) in links {
            let (Some(x), Some(y)) = (t.node(a), t.node(b)) else {
                continue;
            };
            if r == -1 {
                t.add_p2c(x, y)
            } else {
                t.add_p2p(x, y)
            }
        }
        // Tiers: no providers and peers only = tier-1; with customers = transit.
        for x in 0..t.len() {
            t.tier[x] = if t.providers[x].is_empty() && !t.customers[x].is_empty() {
                1
            } else if t.customers[x].len() >= 20 {
                2
            } else if !t.customers[x].is_empty() {
                3
            } else {
                4
            };
        }
        t.finish();
        Ok((t, skipped))
    }

    /// The topology as a CAIDA serial-1 file.
    pub fn to_caida(&self) -> String {
        let mut lines: Vec<(u32, u32, i32)> = self
            .edges
            .iter()
            .map(|e| {
                let (a, b) = (self.asn(e.a), self.asn(e.b));
                if e.peer {
                    (a.min(b), a.max(b), 0)
                } else {
                    (a, b, -1)
                }
            })
            .collect();
        lines.sort_unstable();
        let mut s = String::from(
            "# bgpsentry-sim topology, CAIDA serial-1: <provider>|<customer>|-1, <peer>|<peer>|0\n",
        );
        for (a, b, r) in lines {
            let _ = writeln!(s, "{a}|{b}|{r}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_topology_is_tiered_and_heavy_tailed() {
        let p = TopologyParams {
            ases: 600,
            ..Default::default()
        };
        let t = Topology::generate(&p, &mut Rng::new(3)).expect("generate");
        assert_eq!(t.len(), 600);
        let t1: Vec<usize> = (0..t.len()).filter(|&x| t.tier[x] == 1).collect();
        for &a in &t1 {
            assert!(t.providers[a].is_empty());
            for &b in &t1 {
                if a != b {
                    assert_eq!(t.rel(a as Node, b as Node), Some(Rel::Peer));
                }
            }
        }
        for x in 0..t.len() {
            if t.tier[x] != 1 {
                assert!(
                    !t.providers[x].is_empty(),
                    "AS {} has no provider",
                    t.asns[x]
                );
            }
        }
        let mut deg: Vec<usize> = (0..t.len()).map(|x| t.degree(x as Node)).collect();
        deg.sort_unstable();
        let max = deg[deg.len() - 1];
        let median = deg[deg.len() / 2];
        assert!(max >= 10 * median, "max {max} median {median}");
        let (back, skipped) = Topology::from_caida(&t.to_caida()).expect("load");
        assert_eq!(skipped, 0);
        assert_eq!(back.edges.len(), t.edges.len());
        assert_eq!(back.to_caida(), t.to_caida());
    }

    #[test]
    fn bad_relationship_file_is_an_error() {
        assert!(Topology::from_caida("hello\nworld\n").is_err());
        let (t, skipped) = Topology::from_caida("1|2|-1\n2|3|0\nx|y|z\n").expect("load");
        assert_eq!((t.len(), skipped), (3, 1));
    }
}

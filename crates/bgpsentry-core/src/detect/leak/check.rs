//! The per-path leak check: is there an AS on this path that took a route
//! from a provider or a peer and gave it to another provider or peer?
//!
//! The path is cleaned first (prepending collapsed, known route servers
//! removed), then read from the origin towards the collector peer, three
//! ASes at a time: `[to, by, from]` in AS-path order, the route having
//! flowed `from → by → to`. The first triple that breaks valley-free export
//! names the leaker; ASes after it only propagate what they were given.
//! Every rule that keeps a triple or a path out is counted in [`CheckStats`].

use smallvec::SmallVec;

use super::knowledge::{AsKnowledge, Rel};
use crate::model::{Asn, PathAttrs, leak_type};

/// A leak found on one path.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Finding {
    /// Where the leaker got the route (a provider or peer of `by`).
    pub from: Asn,
    /// The leaker.
    pub by: Asn,
    /// Where it sent it (a provider or peer of `by`).
    pub to: Asn,
    /// RFC 7908 type (see [`leak_type`]).
    pub leak_type: u8,
    /// True when the RFC 9234 OTC attribute proved the `from` edge.
    pub otc: bool,
    /// True when an edge is below the confidence threshold (but at least
    /// [`CheckConfig::weak_confidence`]): the detector raises such leaks
    /// only when they are large.
    pub weak: bool,
}

impl Finding {
    /// The segment as Radar's `leak_seg`: From, By, To (flow order).
    pub fn seg(&self) -> [Asn; 3] {
        [self.from, self.by, self.to]
    }
}

/// Thresholds of the check.
#[derive(Clone, Debug)]
pub struct CheckConfig {
    /// Relationships below this confidence count as unknown.
    pub min_confidence: f32,
    /// Route-server ASNs removed from paths before the check.
    pub route_servers: Vec<Asn>,
    /// Raise leaks whose leaker is in the transit-free clique.
    pub clique_leakers: bool,
    /// Research-and-education networks whose mutual edges are not checked
    /// ([`super::knowledge::KNOWN_RE_NETWORKS`] by default).
    pub re_networks: Vec<Asn>,
    /// Edges between this and `min_confidence` give weak findings
    /// ([`Finding::weak`]); below it they are unknown. Above
    /// `min_confidence`: no weak findings.
    pub weak_confidence: f32,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            min_confidence: 0.6,
            route_servers: super::knowledge::KNOWN_ROUTE_SERVERS
                .iter()
                .map(|a| Asn(*a))
                .collect(),
            clique_leakers: false,
            re_networks: super::knowledge::KNOWN_RE_NETWORKS
                .iter()
                .map(|a| Asn(*a))
                .collect(),
            weak_confidence: 0.5,
        }
    }
}

/// Why paths and triples were kept out, counted over the life of a detector.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CheckStats {
    /// Paths checked.
    pub paths: u64,
    /// Paths with a leak.
    pub leaks: u64,
    /// Paths whose only leak has an edge below `min_confidence` (weak).
    pub weak_leaks: u64,
    /// … of which proven by OTC.
    pub otc_leaks: u64,
    /// Paths with fewer than three distinct ASes after cleaning.
    pub short: u64,
    /// Paths with an AS_SET (order unknown, skipped).
    pub as_set: u64,
    /// Paths where an AS appears twice apart (poisoning or a loop).
    pub loop_or_poison: u64,
    /// Paths from which a route server was removed.
    pub route_server_removed: u64,
    /// Would-be leaks where an edge is a sibling edge.
    pub sibling: u64,
    /// Would-be leaks by a transit-free clique member.
    pub clique: u64,
    /// Would-be leaks over an edge between two R&E networks.
    pub research_education: u64,
    /// Would-be leaks with an edge below the confidence threshold.
    pub low_confidence: u64,
    /// Triples with an unknown edge next to an up or sideways edge.
    pub unknown: u64,
    /// Triples touching a reserved, private or AS_TRANS ASN.
    pub special_asn: u64,
}

/// True for an edge along which `by` must not re-export to a provider or peer.
fn up_or_side(r: Rel) -> bool {
    matches!(r, Rel::Provider | Rel::Peer)
}

fn type_of(from: Rel, to: Rel) -> u8 {
    match (from, to) {
        (Rel::Provider, Rel::Provider) => leak_type::HAIRPIN,
        (Rel::Peer, Rel::Peer) => leak_type::LATERAL,
        (Rel::Provider, _) => leak_type::PROVIDER_TO_PEER,
        _ => leak_type::PEER_TO_PROVIDER,
    }
}

/// Reusable scratch space and counters; one per detector.
#[derive(Debug, Default)]
pub struct Checker {
    path: SmallVec<[Asn; 16]>,
    /// What was kept out and why.
    pub stats: CheckStats,
}

/// The outcome of judging one edge.
enum Edge {
    Known(Rel),
    Unknown,
    /// Below `min_confidence`, at least `weak_confidence`: a weak finding.
    Weak(Rel),
    /// Below `weak_confidence`: counted as low confidence, no finding.
    Low,
}

impl Checker {
    /// A checker with empty counters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks one path; `Some` when it carries a leak.
    pub fn check(
        &mut self,
        attrs: &PathAttrs,
        k: &dyn AsKnowledge,
        cfg: &CheckConfig,
    ) -> Option<Finding> {
        self.stats.paths += 1;
        if !self.clean(attrs, cfg) {
            return None;
        }
        let found = match attrs.otc {
            Some(x) => self
                .check_otc(x, k, cfg)
                .or_else(|| self.check_valley(k, cfg)),
            None => self.check_valley(k, cfg),
        };
        if let Some(f) = &found {
            if f.weak {
                self.stats.weak_leaks += 1;
            } else {
                self.stats.leaks += 1;
            }
            if f.otc {
                self.stats.otc_leaks += 1;
            }
        }
        found
    }

    /// Fills `self.path` with the cleaned sequence; false when the path must
    /// be skipped as a whole.
    fn clean(&mut self, attrs: &PathAttrs, cfg: &CheckConfig) -> bool {
        self.path.clear();
        if attrs.as_path.has_set() {
            self.stats.as_set += 1;
            return false;
        }
        let mut removed = false;
        for a in attrs.as_path.iter() {
            if cfg.route_servers.contains(&a) {
                removed = true;
                continue;
            }
            if self.path.last() != Some(&a) {
                self.path.push(a);
            }
        }
        if removed {
            self.stats.route_server_removed += 1;
        }
        // Non-contiguous repeats: poisoning (`… X 4 X`) or a loop.
        for (i, a) in self.path.iter().enumerate() {
            if self.path[i + 1..].contains(a) {
                self.stats.loop_or_poison += 1;
                return false;
            }
        }
        if self.path.len() < 3 {
            self.stats.short += 1;
            return false;
        }
        true
    }

    fn edge(&mut self, a: Asn, by: Asn, k: &dyn AsKnowledge, cfg: &CheckConfig) -> Edge {
        if k.siblings(a, by) {
            return Edge::Known(Rel::Sibling);
        }
        match k.rel(a, by) {
            None => Edge::Unknown,
            Some((r, c)) if c < cfg.min_confidence => {
                if c >= cfg.weak_confidence {
                    Edge::Weak(r)
                } else {
                    Edge::Low
                }
            }
            Some((r, _)) => Edge::Known(r),
        }
    }

    /// Valley-free check, origin side first.
    fn check_valley(&mut self, k: &dyn AsKnowledge, cfg: &CheckConfig) -> Option<Finding> {
        let n = self.path.len();
        let mut weak = None;
        for i in (0..n - 2).rev() {
            let (to, by, from) = (self.path[i], self.path[i + 1], self.path[i + 2]);
            match self.judge(to, by, from, None, k, cfg) {
                Some(f) if !f.weak => return Some(f),
                Some(f) => weak = weak.or(Some(f)),
                None => {}
            }
        }
        weak
    }

    /// Judges one triple; `forced_from` replaces the `from` edge (OTC).
    fn judge(
        &mut self,
        to: Asn,
        by: Asn,
        from: Asn,
        forced_from: Option<Rel>,
        k: &dyn AsKnowledge,
        cfg: &CheckConfig,
    ) -> Option<Finding> {
        if k.is_special(to) || k.is_special(by) || k.is_special(from) {
            self.stats.special_asn += 1;
            return None;
        }
        let ef = match forced_from {
            Some(r) => Edge::Known(r),
            None => self.edge(from, by, k, cfg),
        };
        let et = self.edge(to, by, k, cfg);
        let (rf, rt, weak) = match (ef, et) {
            (Edge::Known(rf), Edge::Known(rt)) => (rf, rt, false),
            (Edge::Known(r), Edge::Unknown)
            | (Edge::Unknown, Edge::Known(r))
            | (Edge::Weak(r), Edge::Unknown)
            | (Edge::Unknown, Edge::Weak(r)) => {
                if up_or_side(r) {
                    self.stats.unknown += 1;
                }
                return None;
            }
            (Edge::Known(rf), Edge::Weak(rt))
            | (Edge::Weak(rf), Edge::Known(rt))
            | (Edge::Weak(rf), Edge::Weak(rt)) => {
                if up_or_side(rf) && up_or_side(rt) {
                    self.stats.low_confidence += 1;
                }
                (rf, rt, true)
            }
            (Edge::Known(r), Edge::Low)
            | (Edge::Low, Edge::Known(r))
            | (Edge::Weak(r), Edge::Low)
            | (Edge::Low, Edge::Weak(r)) => {
                if up_or_side(r) {
                    self.stats.low_confidence += 1;
                }
                return None;
            }
            (Edge::Unknown | Edge::Low, Edge::Unknown | Edge::Low) => {
                self.stats.unknown += 1;
                return None;
            }
        };
        if rf == Rel::Sibling || rt == Rel::Sibling {
            if up_or_side(rf) || up_or_side(rt) {
                self.stats.sibling += 1;
            }
            return None;
        }
        if !(up_or_side(rf) && up_or_side(rt)) {
            return None;
        }
        let re = |a: Asn| cfg.re_networks.contains(&a);
        if re(by) && (re(from) || re(to)) {
            self.stats.research_education += 1;
            return None;
        }
        if k.is_clique(by) && !cfg.clique_leakers {
            self.stats.clique += 1;
            return None;
        }
        // Over weak edges only the hairpin: provider edges are what
        // inference gets right most often; weak peer edges are guesses.
        if weak && !(rf == Rel::Provider && rt == Rel::Provider) {
            return None;
        }
        Some(Finding {
            from,
            by,
            to,
            leak_type: type_of(rf, rt),
            otc: forced_from.is_some(),
            weak,
        })
    }

    /// RFC 9234: OTC = X means X gave the route to a customer or a peer, so
    /// from X on the route may only go down. The first AS after X that sends
    /// it to a provider or peer leaked it. The edge into that AS is taken
    /// from the relationships when they say provider or peer, and otherwise
    /// (unknown, or contradicting OTC) as provider.
    fn check_otc(&mut self, x: Asn, k: &dyn AsKnowledge, cfg: &CheckConfig) -> Option<Finding> {
        let pos = self.path.iter().position(|a| *a == x)?;
        for i in (0..pos.saturating_sub(1)).rev() {
            let (to, by, from) = (self.path[i], self.path[i + 1], self.path[i + 2]);
            let forced = match k.rel(from, by) {
                Some((Rel::Peer, c)) if c >= cfg.min_confidence => Rel::Peer,
                _ => Rel::Provider,
            };
            match self.edge(to, by, k, cfg) {
                Edge::Known(Rel::Customer) | Edge::Known(Rel::Sibling) => continue,
                Edge::Known(_) => return self.judge(to, by, from, Some(forced), k, cfg),
                Edge::Unknown | Edge::Weak(_) | Edge::Low => return None,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::knowledge::RelTable;
    use super::*;
    use crate::model::AsPath;

    fn attrs(p: &[u32]) -> PathAttrs {
        PathAttrs::from_path(AsPath::from_sequence(p.iter().map(|a| Asn(*a))))
    }

    fn table() -> RelTable {
        let mut t = RelTable::new();
        // 1 and 2 are providers of 10; 3 peers with 10; 10 is provider of 20.
        t.p2c(1, 10)
            .p2c(2, 10)
            .p2p(3, 10)
            .p2p(5, 10)
            .p2c(10, 20)
            .p2p(1, 2)
            .p2c(1, 4);
        t
    }

    #[test]
    fn four_types() {
        let t = table();
        let cfg = CheckConfig::default();
        let mut c = Checker::new();
        let ty = |c: &mut Checker, p: &[u32]| {
            c.check(&attrs(p), &t, &cfg).map(|f| (f.seg(), f.leak_type))
        };
        let s = |a: u32, b: u32, d: u32| [Asn(a), Asn(b), Asn(d)];
        assert_eq!(
            ty(&mut c, &[2, 10, 1]),
            Some((s(1, 10, 2), leak_type::HAIRPIN))
        );
        assert_eq!(ty(&mut c, &[3, 10, 3]), None, "loop");
        assert_eq!(
            ty(&mut c, &[5, 10, 3]),
            Some((s(3, 10, 5), leak_type::LATERAL))
        );
        assert_eq!(
            ty(&mut c, &[2, 10, 3]),
            Some((s(3, 10, 2), leak_type::PEER_TO_PROVIDER))
        );
        assert_eq!(
            ty(&mut c, &[3, 10, 1]),
            Some((s(1, 10, 3), leak_type::PROVIDER_TO_PEER))
        );
        assert_eq!(ty(&mut c, &[1, 10, 20]), None, "customer route up is fine");
        assert_eq!(ty(&mut c, &[4, 1, 10, 20]), None);
        // The leaker is the first violation from the origin side.
        assert_eq!(ty(&mut c, &[4, 1, 2, 10, 1, 4]), None, "loop");
        assert_eq!(
            ty(&mut c, &[6, 2, 10, 1, 4]),
            Some((s(1, 10, 2), leak_type::HAIRPIN))
        );
        assert_eq!(c.stats.loop_or_poison, 2);
    }
}

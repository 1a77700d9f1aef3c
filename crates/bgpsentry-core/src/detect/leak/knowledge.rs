//! What the leak check needs to know about ASes, behind one small trait so
//! the check runs the same over loaded evidence (CAIDA / BGPKIT files),
//! relationships inferred from the data, or a hand-written test table.
//!
//! [`RelTable`] is the plain in-memory implementation: tests, benches and
//! callers without an [`crate::evidence::Evidence`] use it.

use crate::fasthash::{HashMap, HashSet};

use crate::evidence::{AsRelationships, Evidence};
use crate::model::{AS_TRANS, Asn};

/// What `a` is to `b` (the evidence module's relationship type).
pub use crate::evidence::Relationship as Rel;

/// Everything the leak check asks about ASes.
pub trait AsKnowledge {
    /// What `a` is to `b`, with a confidence in `0..=1`; `None` when unknown.
    fn rel(&self, a: Asn, b: Asn) -> Option<(Rel, f32)>;
    /// True when `a` is in the transit-free clique (tier-1).
    fn is_clique(&self, _a: Asn) -> bool {
        false
    }
    /// True when `a` and `b` belong to the same organisation.
    fn siblings(&self, _a: Asn, _b: Asn) -> bool {
        false
    }
    /// Country code (alpha-2) of `a`'s organisation.
    fn country(&self, _a: Asn) -> Option<&str> {
        None
    }
    /// True when `a` is reserved, private, documentation or AS_TRANS: no
    /// relationship data can be trusted for it.
    fn is_special(&self, a: Asn) -> bool {
        is_special_asn(a)
    }
    /// Every provider → customer edge as `(provider, customer, confidence)`,
    /// for customer cones; empty when the knowledge has no edge list.
    fn p2c_edges(&self) -> Vec<(Asn, Asn, f32)> {
        Vec::new()
    }
}

macro_rules! forward_knowledge {
    ($($t:ty),*) => {$(
        impl<T: AsKnowledge + ?Sized> AsKnowledge for $t {
            fn rel(&self, a: Asn, b: Asn) -> Option<(Rel, f32)> {
                (**self).rel(a, b)
            }
            fn is_clique(&self, a: Asn) -> bool {
                (**self).is_clique(a)
            }
            fn siblings(&self, a: Asn, b: Asn) -> bool {
                (**self).siblings(a, b)
            }
            fn country(&self, a: Asn) -> Option<&str> {
                (**self).country(a)
            }
            fn is_special(&self, a: Asn) -> bool {
                (**self).is_special(a)
            }
            fn p2c_edges(&self) -> Vec<(Asn, Asn, f32)> {
                (**self).p2c_edges()
            }
        }
    )*};
}

forward_knowledge!(&T, Box<T>, std::sync::Arc<T>);

impl AsKnowledge for AsRelationships {
    fn rel(&self, a: Asn, b: Asn) -> Option<(Rel, f32)> {
        AsRelationships::rel(self, a, b).map(|r| (r.rel, r.confidence))
    }
    fn is_clique(&self, a: Asn) -> bool {
        AsRelationships::is_clique(self, a)
    }
    fn p2c_edges(&self) -> Vec<(Asn, Asn, f32)> {
        p2c_of(self)
    }
}

/// The provider → customer edges of a relationship table.
fn p2c_of(t: &AsRelationships) -> Vec<(Asn, Asn, f32)> {
    let mut v: Vec<(Asn, Asn, f32)> = t
        .iter()
        .filter_map(|(a, b, i)| match i.rel {
            Rel::Provider => Some((a, b, i.confidence)),
            Rel::Customer => Some((b, a, i.confidence)),
            _ => None,
        })
        .collect();
    v.sort_unstable_by_key(|e| (e.0, e.1));
    v
}

/// The production knowledge: relationships (files or inferred), siblings
/// and countries from as2org, special ASNs from the bogon table.
impl AsKnowledge for Evidence {
    fn rel(&self, a: Asn, b: Asn) -> Option<(Rel, f32)> {
        self.asrel.rel(a, b).map(|r| (r.rel, r.confidence))
    }
    fn is_clique(&self, a: Asn) -> bool {
        self.asrel.is_clique(a)
    }
    fn siblings(&self, a: Asn, b: Asn) -> bool {
        self.orgs.siblings(a, b)
    }
    fn country(&self, a: Asn) -> Option<&str> {
        self.orgs.country(a)
    }
    fn is_special(&self, a: Asn) -> bool {
        is_special_asn(a) || self.bogons.asn_is_bogon(a)
    }
    fn p2c_edges(&self) -> Vec<(Asn, Asn, f32)> {
        p2c_of(&self.asrel)
    }
}

/// ASNs that never carry a meaningful relationship: 0, AS_TRANS,
/// documentation (RFC 5398), private (RFC 6996), reserved (RFC 7300) and
/// the last 16-bit / 32-bit values.
pub fn is_special_asn(a: Asn) -> bool {
    let v = a.0;
    v == 0
        || a == AS_TRANS
        || (64496..=64511).contains(&v)
        || (64512..=65535).contains(&v)
        || (65536..=65551).contains(&v)
        || (4_200_000_000..=u32::MAX).contains(&v)
}

/// IXP route-server ASNs that are well known to insert themselves into the
/// AS path (non-transparent route servers). They are removed from paths
/// before the check: a route server passes routes between its members by
/// design, so `member → RS → member` is peering, not a leak. Extend with
/// [`super::LeakConfig::route_servers`].
pub const KNOWN_ROUTE_SERVERS: &[u32] = &[
    6695,  // DE-CIX Frankfurt route servers
    6777,  // AMS-IX route servers
    8714,  // LINX route servers
    24115, // Equinix IX route servers
    34307, // NL-ix route servers
];

/// Research-and-education backbones and exchanges whose mutual edges are
/// not valley-checked (as route servers are removed). R&E networks pass
/// each other's (and their members') routes across a mesh of backbones —
/// an NREN's routes reach a US campus through GÉANT, TransPAC or APAN and
/// Internet2 — that neither provider/customer nor peer describes, and
/// inference from collector paths labels those links in every direction.
/// A triple whose `from` or `to` edge joins two of these raises nothing
/// (`research_education` in the counters). Extend with
/// [`super::CheckConfig::re_networks`]. Sources: the networks' own PeeringDB
/// and RIR registrations (2008 numbers still in use).
pub const KNOWN_RE_NETWORKS: &[u32] = &[
    20965, // GÉANT (pan-European R&E backbone)
    21320, // GÉANT IP
    11537, // Internet2 (Abilene)
    11164, // Internet2 TransitRail
    19401, // National LambdaRail
    293,   // ESnet (US DoE)
    27750, // RedCLARA (Latin America)
    22388, // TransPAC (US–Asia)
    7660,  // APAN-JP (Asia-Pacific Advanced Network)
    24287, // TEIN2 (Trans-Eurasia Information Network)
    24490, // TEIN2 (Trans-Eurasia Information Network)
    20080, // AMPATH (Americas exchange)
    6509,  // CANARIE (Canada)
    1103,  // SURFnet (NL)
    680,   // DFN (DE)
    786,   // JANET (UK)
    2200,  // RENATER (FR)
    137,   // GARR (IT)
    766,   // RedIRIS (ES)
    2603,  // NORDUnet (Nordic)
    2907,  // SINET (JP)
    7575,  // AARNet (AU)
    4538,  // CERNET (CN)
    17579, // KREONET2 (KR)
    2152,  // CENIC / CSUNet (US)
    3754,  // NYSERNet (US)
    559,   // SWITCH (CH)
    2852,  // CESNET (CZ)
    1853,  // ACOnet (AT)
    2611,  // BELNET (BE)
    5408,  // GRNET (GR)
    1930,  // FCCN (PT)
    8501,  // PIONIER (PL)
];

/// A plain relationship table (for tests, benches and fixtures).
#[derive(Clone, Debug, Default)]
pub struct RelTable {
    rels: HashMap<(Asn, Asn), (Rel, f32)>,
    clique: HashSet<Asn>,
    orgs: HashMap<Asn, u32>,
    countries: HashMap<Asn, String>,
}

impl RelTable {
    /// An empty table: every relationship unknown.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `a` is `rel` to `b` (and the reverse) with `confidence`.
    pub fn insert(&mut self, a: Asn, b: Asn, rel: Rel, confidence: f32) {
        self.rels.insert((a, b), (rel, confidence));
        self.rels.insert((b, a), (rel.flip(), confidence));
    }

    /// `provider` sells transit to `customer` (confidence 1).
    pub fn p2c(&mut self, provider: u32, customer: u32) -> &mut Self {
        self.insert(Asn(provider), Asn(customer), Rel::Provider, 1.0);
        self
    }

    /// `a` and `b` peer (confidence 1).
    pub fn p2p(&mut self, a: u32, b: u32) -> &mut Self {
        self.insert(Asn(a), Asn(b), Rel::Peer, 1.0);
        self
    }

    /// Marks `a` as a member of the transit-free clique.
    pub fn add_clique(&mut self, a: u32) -> &mut Self {
        self.clique.insert(Asn(a));
        self
    }

    /// Puts `a` in organisation `org` (ASes of one organisation are siblings).
    pub fn set_org(&mut self, a: u32, org: u32) -> &mut Self {
        self.orgs.insert(Asn(a), org);
        self
    }

    /// Sets the country code of `a`.
    pub fn set_country(&mut self, a: u32, cc: &str) -> &mut Self {
        self.countries.insert(Asn(a), cc.to_string());
        self
    }

    /// Number of directed relationship entries (two per edge).
    pub fn len(&self) -> usize {
        self.rels.len()
    }

    /// True when no relationship is known.
    pub fn is_empty(&self) -> bool {
        self.rels.is_empty()
    }

    /// Reads CAIDA serial-1 (`a|b|-1` provider-customer, `a|b|0` peers) or
    /// serial-2 (a fourth source column) text; `# input clique: a b c` lines
    /// fill the clique. Bad lines are skipped and counted in the result.
    pub fn parse_caida(&mut self, text: &str) -> usize {
        let mut bad = 0;
        for line in text.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("# input clique:") {
                for a in rest
                    .split_whitespace()
                    .filter_map(|s| s.parse::<u32>().ok())
                {
                    self.add_clique(a);
                }
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut it = line.split('|');
            let parsed = (|| {
                let a: u32 = it.next()?.trim().parse().ok()?;
                let b: u32 = it.next()?.trim().parse().ok()?;
                let r: i32 = it.next()?.trim().parse().ok()?;
                Some((a, b, r))
            })();
            match parsed {
                Some((a, b, -1)) => {
                    self.p2c(a, b);
                }
                Some((a, b, 0)) => {
                    self.p2p(a, b);
                }
                Some((a, b, 1)) => {
                    self.insert(Asn(a), Asn(b), Rel::Sibling, 1.0);
                }
                _ => bad += 1,
            }
        }
        bad
    }
}

impl AsKnowledge for RelTable {
    fn rel(&self, a: Asn, b: Asn) -> Option<(Rel, f32)> {
        self.rels.get(&(a, b)).copied()
    }
    fn is_clique(&self, a: Asn) -> bool {
        self.clique.contains(&a)
    }
    fn siblings(&self, a: Asn, b: Asn) -> bool {
        matches!((self.orgs.get(&a), self.orgs.get(&b)), (Some(x), Some(y)) if x == y)
    }
    fn country(&self, a: Asn) -> Option<&str> {
        self.countries.get(&a).map(String::as_str)
    }
    fn p2c_edges(&self) -> Vec<(Asn, Asn, f32)> {
        let mut v: Vec<(Asn, Asn, f32)> = self
            .rels
            .iter()
            .filter(|(_, (r, _))| *r == Rel::Provider)
            .map(|((a, b), (_, c))| (*a, *b, *c))
            .collect();
        v.sort_unstable_by_key(|e| (e.0, e.1));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caida_text_and_reverse_edges() {
        let mut t = RelTable::new();
        let bad = t.parse_caida(
            "# input clique: 701 1239\n701|100|-1\n100|200|0\n300|400|1|bgp\nnonsense\n",
        );
        assert_eq!(bad, 1);
        assert_eq!(t.rel(Asn(701), Asn(100)), Some((Rel::Provider, 1.0)));
        assert_eq!(t.rel(Asn(100), Asn(701)), Some((Rel::Customer, 1.0)));
        assert_eq!(t.rel(Asn(200), Asn(100)), Some((Rel::Peer, 1.0)));
        assert_eq!(t.rel(Asn(400), Asn(300)).map(|r| r.0), Some(Rel::Sibling));
        assert!(t.is_clique(Asn(1239)));
        assert!(t.rel(Asn(1), Asn(2)).is_none());
    }

    #[test]
    fn special_asns() {
        for a in [
            0,
            23456,
            64496,
            64512,
            65535,
            65551,
            4_200_000_000,
            u32::MAX,
        ] {
            assert!(is_special_asn(Asn(a)), "{a}");
        }
        for a in [1, 701, 64495, 65552, 4_199_999_999] {
            assert!(!is_special_asn(Asn(a)), "{a}");
        }
    }
}

//! RPKI route origin validation (RFC 6811) over validated ROA payloads.
//!
//! The table is a prefix trie of VRPs; validating a route walks only the
//! trie nodes that cover the route's prefix, so a lookup costs at most one
//! step per prefix length and allocates nothing. AS0 VRPs (RFC 6483 §4,
//! RFC 7607) cover address space but can never match an origin, so
//! everything they cover is invalid unless another VRP matches. Loading from
//! the common validator outputs lives in [`super::rpki_load`].

use ipnet::IpNet;
use prefix_trie::joint::map::JointPrefixMap;
use smallvec::SmallVec;

use crate::model::Asn;

/// One validated ROA payload: `asn` may originate `prefix` and its
/// more-specifics up to `max_len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Vrp {
    pub prefix: IpNet,
    pub max_len: u8,
    pub asn: Asn,
}

/// Route origin validation outcome (RFC 6811 §2), with "invalid" split by
/// cause as Radar and GRIP report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RovState {
    /// A VRP covers the prefix with this origin and a sufficient maxLength.
    Valid,
    /// VRPs cover the prefix but none names this origin (includes AS0 VRPs).
    InvalidAsn,
    /// A VRP names this origin but the prefix is longer than its maxLength.
    InvalidLength,
    /// No VRP covers the prefix.
    NotFound,
}

impl RovState {
    /// `valid`, `invalid`, `unknown` as used in Radar's tag names.
    pub fn radar_word(self) -> &'static str {
        match self {
            RovState::Valid => "valid",
            RovState::InvalidAsn | RovState::InvalidLength => "invalid",
            RovState::NotFound => "unknown",
        }
    }

    pub fn is_invalid(self) -> bool {
        matches!(self, RovState::InvalidAsn | RovState::InvalidLength)
    }
}

/// (origin AS, maxLength) of the VRPs sharing one prefix.
type Entries = SmallVec<[(Asn, u8); 2]>;

/// All VRPs, indexed by prefix.
#[derive(Debug, Clone, Default)]
pub struct RpkiTable {
    trie: JointPrefixMap<IpNet, Entries>,
    len: usize,
}

impl RpkiTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Build from VRPs; duplicates are kept once.
    pub fn from_vrps(vrps: impl IntoIterator<Item = Vrp>) -> Self {
        let mut t = Self::new();
        for v in vrps {
            t.insert(v);
        }
        t
    }

    /// Add one VRP. The prefix is normalised (host bits cleared); a
    /// maxLength shorter than the prefix is raised to the prefix length and
    /// one beyond the address width is clamped (validators reject both; we
    /// keep the ROA's intent rather than dropping it). Returns false for a
    /// duplicate.
    pub fn insert(&mut self, v: Vrp) -> bool {
        let prefix = v.prefix.trunc();
        let max_len = v
            .max_len
            .clamp(prefix.prefix_len(), prefix.max_prefix_len());
        let e = self.trie.entry(prefix).or_default();
        if e.iter().any(|&(a, m)| a == v.asn && m == max_len) {
            return false;
        }
        e.push((v.asn, max_len));
        self.len += 1;
        true
    }

    /// Route origin validation of (`prefix`, `origin`) per RFC 6811.
    pub fn validate(&self, prefix: &IpNet, origin: Asn) -> RovState {
        let route = prefix.trunc();
        let len = route.prefix_len();
        let mut covered = false;
        let mut asn_matched = false;
        for (_, entries) in self.trie.cover(&route) {
            covered = true;
            for &(asn, max_len) in entries {
                if asn == origin && asn.0 != 0 {
                    if len <= max_len {
                        return RovState::Valid;
                    }
                    asn_matched = true;
                }
            }
        }
        match (covered, asn_matched) {
            (false, _) => RovState::NotFound,
            (true, true) => RovState::InvalidLength,
            (true, false) => RovState::InvalidAsn,
        }
    }

    /// The VRPs covering `prefix` (the ones that decided [`Self::validate`]),
    /// least specific first. For explanations, not the hot path.
    pub fn covering(&self, prefix: &IpNet) -> Vec<Vrp> {
        let route = prefix.trunc();
        let mut out = Vec::new();
        for (p, entries) in self.trie.cover(&route) {
            for &(asn, max_len) in entries {
                out.push(Vrp {
                    prefix: p,
                    max_len,
                    asn,
                });
            }
        }
        out
    }

    /// Every VRP (unspecified order).
    pub fn iter(&self) -> impl Iterator<Item = Vrp> + '_ {
        self.trie.iter().flat_map(|(p, e)| {
            e.iter().map(move |&(asn, max_len)| Vrp {
                prefix: p,
                max_len,
                asn,
            })
        })
    }

    /// Number of distinct VRPs.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn vrp(p: &str, m: u8, a: u32) -> Vrp {
        Vrp {
            prefix: p.parse().unwrap(),
            max_len: m,
            asn: Asn(a),
        }
    }
    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn rfc6811_cases() {
        let t = RpkiTable::from_vrps([
            vrp("10.0.0.0/16", 20, 64500),
            vrp("10.0.0.0/16", 16, 64501),
            vrp("192.0.2.0/24", 24, 0),
            vrp("2001:db8::/32", 48, 64500),
        ]);
        assert_eq!(t.validate(&net("10.0.0.0/16"), Asn(64500)), RovState::Valid);
        assert_eq!(
            t.validate(&net("10.0.16.0/20"), Asn(64500)),
            RovState::Valid
        );
        assert_eq!(
            t.validate(&net("10.0.0.0/24"), Asn(64500)),
            RovState::InvalidLength
        );
        assert_eq!(
            t.validate(&net("10.0.0.0/24"), Asn(64501)),
            RovState::InvalidLength
        );
        assert_eq!(
            t.validate(&net("10.0.0.0/16"), Asn(64502)),
            RovState::InvalidAsn
        );
        assert_eq!(
            t.validate(&net("10.0.0.0/8"), Asn(64500)),
            RovState::NotFound
        );
        assert_eq!(
            t.validate(&net("192.0.2.0/24"), Asn(0)),
            RovState::InvalidAsn
        );
        assert_eq!(
            t.validate(&net("192.0.2.128/25"), Asn(64500)),
            RovState::InvalidAsn
        );
        assert_eq!(
            t.validate(&net("2001:db8:1::/48"), Asn(64500)),
            RovState::Valid
        );
        assert_eq!(
            t.validate(&net("2001:db8:1::/49"), Asn(64500)),
            RovState::InvalidLength
        );
        assert_eq!(t.len(), 4);
        assert_eq!(t.covering(&net("10.0.0.0/24")).len(), 2);
    }
}

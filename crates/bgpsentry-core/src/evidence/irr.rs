//! IRR route-object origin checks: does any `route` / `route6` object
//! registered in the IRR (RADB, RIPE, ARIN, ...) authorise this origin for
//! this prefix? Radar's `irr_new_origin_*` and `irr_old_origin_*` tags are
//! built on [`IrrTable::check`]. Parsing RPSL dumps is in
//! [`super::irr_load`].

use ipnet::IpNet;
use prefix_trie::joint::map::JointPrefixMap;
use smallvec::SmallVec;

use crate::model::Asn;

/// Outcome of an IRR origin check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IrrState {
    /// A route object for this prefix, or a covering one, names this origin.
    Valid,
    /// Route objects cover the prefix but none names this origin.
    Invalid,
    /// No route object covers the prefix.
    Unknown,
}

impl IrrState {
    /// `valid`, `invalid`, `unknown` as used in Radar's tag names.
    pub fn radar_word(self) -> &'static str {
        match self {
            IrrState::Valid => "valid",
            IrrState::Invalid => "invalid",
            IrrState::Unknown => "unknown",
        }
    }
}

/// One route object as far as origin checks care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteObject {
    pub prefix: IpNet,
    pub origin: Asn,
    /// IRR database (`source:` attribute), e.g. `RADB`, `RIPE`.
    pub source: String,
}

/// (origin, index into the source-name table) per prefix.
type Entries = SmallVec<[(Asn, u16); 2]>;

/// All route objects of all loaded IRR databases, indexed by prefix.
#[derive(Debug, Clone, Default)]
pub struct IrrTable {
    trie: JointPrefixMap<IpNet, Entries>,
    sources: Vec<String>,
    len: usize,
}

impl IrrTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add one object; the same (prefix, origin, source) is kept once.
    /// Returns false for a duplicate.
    pub fn insert(&mut self, prefix: IpNet, origin: Asn, source: &str) -> bool {
        let src = self.source_id(source);
        let e = self.trie.entry(prefix.trunc()).or_default();
        if e.iter().any(|&(a, s)| a == origin && s == src) {
            return false;
        }
        e.push((origin, src));
        self.len += 1;
        true
    }

    fn source_id(&mut self, source: &str) -> u16 {
        let upper = source.trim().to_ascii_uppercase();
        if let Some(i) = self.sources.iter().position(|s| *s == upper) {
            return i as u16;
        }
        // More than 65535 distinct IRR databases do not exist; fold any
        // hostile excess into the last slot rather than growing.
        if self.sources.len() >= u16::MAX as usize {
            return u16::MAX - 1;
        }
        self.sources.push(upper);
        (self.sources.len() - 1) as u16
    }

    /// Origin check of (`prefix`, `origin`) against every loaded object.
    pub fn check(&self, prefix: &IpNet, origin: Asn) -> IrrState {
        let mut covered = false;
        for (_, entries) in self.trie.cover(&prefix.trunc()) {
            covered = true;
            if entries.iter().any(|&(a, _)| a == origin) {
                return IrrState::Valid;
            }
        }
        if covered {
            IrrState::Invalid
        } else {
            IrrState::Unknown
        }
    }

    /// The objects covering `prefix`, least specific first (explanations).
    pub fn covering(&self, prefix: &IpNet) -> Vec<RouteObject> {
        let mut out = Vec::new();
        for (p, entries) in self.trie.cover(&prefix.trunc()) {
            for &(origin, s) in entries {
                let source = self.sources.get(s as usize).cloned().unwrap_or_default();
                out.push(RouteObject {
                    prefix: p,
                    origin,
                    source,
                });
            }
        }
        out
    }

    /// Names of the IRR databases loaded.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Number of distinct (prefix, origin, source) objects.
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

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn covering_objects_decide() {
        let mut t = IrrTable::new();
        t.insert(net("208.65.152.0/22"), Asn(36561), "RADB");
        t.insert(net("208.65.152.0/22"), Asn(36561), "radb");
        t.insert(net("10.0.0.0/8"), Asn(1), "RIPE");
        assert_eq!(t.len(), 2);
        assert_eq!(
            t.check(&net("208.65.153.0/24"), Asn(36561)),
            IrrState::Valid
        );
        assert_eq!(
            t.check(&net("208.65.153.0/24"), Asn(17557)),
            IrrState::Invalid
        );
        assert_eq!(
            t.check(&net("208.65.0.0/16"), Asn(36561)),
            IrrState::Unknown
        );
        assert_eq!(t.covering(&net("208.65.153.0/24"))[0].source, "RADB");
    }
}

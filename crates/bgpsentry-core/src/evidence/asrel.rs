//! AS relationships: who is whose provider, customer, peer or sibling.
//! The leak detector's valley-free test and Radar's `asrel_*` hijack tags
//! look relationships up here. A table comes from a CAIDA or BGPKIT file
//! ([`super::asrel_load`]) or is inferred from observed AS paths
//! ([`super::asrel_infer`]); either way each edge carries a confidence and
//! the table knows the clique of transit-free ASes.

use crate::fasthash::{HashMap, HashSet};
use std::io::{self, Write};

use crate::model::Asn;

/// What AS `a` is *to* AS `b` in [`AsRelationships::rel`]`(a, b)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relationship {
    /// `a` is a provider (transit seller) of `b`.
    Provider,
    /// `a` is a customer of `b`.
    Customer,
    /// Settlement-free peers.
    Peer,
    /// Same organisation.
    Sibling,
}

impl Relationship {
    /// The same relationship seen from the other side.
    pub fn flip(self) -> Self {
        match self {
            Relationship::Provider => Relationship::Customer,
            Relationship::Customer => Relationship::Provider,
            r => r,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Relationship::Provider => "provider",
            Relationship::Customer => "customer",
            Relationship::Peer => "peer",
            Relationship::Sibling => "sibling",
        }
    }
}

/// A relationship and how sure we are of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RelInfo {
    pub rel: Relationship,
    /// 0..=1; 1.0 for relationships given in a CAIDA file, lower for
    /// inferred ones and for BGPKIT edges with mixed evidence.
    pub confidence: f32,
}

fn key(a: Asn, b: Asn) -> (u64, bool) {
    if a.0 <= b.0 {
        ((u64::from(a.0) << 32) | u64::from(b.0), false)
    } else {
        ((u64::from(b.0) << 32) | u64::from(a.0), true)
    }
}

/// Relationship table. Lookups are one hash probe, allocation free.
#[derive(Debug, Clone, Default)]
pub struct AsRelationships {
    /// Keyed by (low ASN, high ASN); the value is what low is to high.
    edges: HashMap<u64, RelInfo>,
    clique: HashSet<Asn>,
}

impl AsRelationships {
    pub fn new() -> Self {
        Self::default()
    }

    /// Set what `a` is to `b` (replacing an earlier value). Self-loops are
    /// ignored. Confidence is clamped to 0..=1.
    pub fn insert(&mut self, a: Asn, b: Asn, rel: Relationship, confidence: f32) {
        if a == b {
            return;
        }
        let (k, swapped) = key(a, b);
        let rel = if swapped { rel.flip() } else { rel };
        let confidence = if confidence.is_finite() {
            confidence.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.edges.insert(k, RelInfo { rel, confidence });
    }

    /// What `a` is to `b`, if known.
    pub fn rel(&self, a: Asn, b: Asn) -> Option<RelInfo> {
        let (k, swapped) = key(a, b);
        let info = *self.edges.get(&k)?;
        Some(if swapped {
            RelInfo {
                rel: info.rel.flip(),
                ..info
            }
        } else {
            info
        })
    }

    /// True if `a` is in the clique of transit-free (tier-1) ASes.
    pub fn is_clique(&self, a: Asn) -> bool {
        self.clique.contains(&a)
    }

    /// The clique members, ascending.
    pub fn clique(&self) -> Vec<Asn> {
        let mut v: Vec<Asn> = self.clique.iter().copied().collect();
        v.sort_unstable();
        v
    }

    /// Replace the clique.
    pub fn set_clique(&mut self, members: impl IntoIterator<Item = Asn>) {
        self.clique = members.into_iter().collect();
    }

    /// Every edge once, as (a, b, what a is to b) with a < b; unordered.
    pub fn iter(&self) -> impl Iterator<Item = (Asn, Asn, RelInfo)> + '_ {
        self.edges
            .iter()
            .map(|(&k, &info)| (Asn((k >> 32) as u32), Asn(k as u32), info))
    }

    /// Number of edges.
    pub fn len(&self) -> usize {
        self.edges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    /// Write the table in CAIDA serial-1 format (`provider|customer|-1`,
    /// `peer|peer|0`), sorted, with the clique in a header comment as CAIDA
    /// does. Siblings have no serial-1 code and are written as comments.
    pub fn write_serial1<W: Write>(&self, mut w: W, comment: &str) -> io::Result<()> {
        for line in comment.lines() {
            writeln!(w, "# {line}")?;
        }
        let clique: Vec<String> = self.clique().iter().map(|a| a.to_string()).collect();
        writeln!(w, "# inferred clique: {}", clique.join(" "))?;
        let mut rows: Vec<(Asn, Asn, RelInfo)> = self.iter().collect();
        rows.sort_unstable_by_key(|&(a, b, _)| (a, b));
        for (a, b, info) in rows {
            match info.rel {
                Relationship::Provider => writeln!(w, "{a}|{b}|-1")?,
                Relationship::Customer => writeln!(w, "{b}|{a}|-1")?,
                Relationship::Peer => writeln!(w, "{a}|{b}|0")?,
                Relationship::Sibling => writeln!(w, "# sibling {a}|{b}|1")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lookups_are_symmetric() {
        let mut t = AsRelationships::new();
        t.insert(Asn(3491), Asn(17557), Relationship::Provider, 1.0);
        t.insert(Asn(701), Asn(1239), Relationship::Peer, 2.0);
        assert_eq!(
            t.rel(Asn(3491), Asn(17557)).map(|r| r.rel),
            Some(Relationship::Provider)
        );
        assert_eq!(
            t.rel(Asn(17557), Asn(3491)).map(|r| r.rel),
            Some(Relationship::Customer)
        );
        assert_eq!(t.rel(Asn(1239), Asn(701)).map(|r| r.confidence), Some(1.0));
        assert_eq!(t.rel(Asn(1), Asn(2)), None);
        let mut out = Vec::new();
        t.write_serial1(&mut out, "test").unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(
            s.contains("3491|17557|-1\n") && s.contains("701|1239|0\n"),
            "{s}"
        );
    }
}

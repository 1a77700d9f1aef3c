//! AS paths as the detectors need them: segments kept as received (so an
//! AS_SET stays visible instead of being flattened into a fake sequence), with
//! the questions detectors ask answered here once: who originated the route,
//! which ASes are on it, and the path with prepending removed.

use std::fmt;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::Asn;

/// One AS_PATH segment (RFC 4271 §4.3, RFC 5065 for confederations).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "asns", rename_all = "snake_case")]
pub enum Segment {
    /// AS_SEQUENCE: ordered, nearest AS first.
    Sequence(Vec<Asn>),
    /// AS_SET: unordered, the result of aggregation.
    Set(Vec<Asn>),
    /// AS_CONFED_SEQUENCE.
    ConfedSequence(Vec<Asn>),
    /// AS_CONFED_SET.
    ConfedSet(Vec<Asn>),
}

impl Segment {
    /// The ASNs of the segment in wire order.
    pub fn asns(&self) -> &[Asn] {
        match self {
            Segment::Sequence(v)
            | Segment::Set(v)
            | Segment::ConfedSequence(v)
            | Segment::ConfedSet(v) => v,
        }
    }

    fn is_confed(&self) -> bool {
        matches!(self, Segment::ConfedSequence(_) | Segment::ConfedSet(_))
    }
}

/// An AS path: its segments, nearest AS (the collector's peer) first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AsPath {
    /// The segments as received.
    pub segments: Vec<Segment>,
}

/// The origin of a route: the last AS of the path, or the members of a
/// trailing AS_SET, which RFC 6811 treats as "no single origin".
pub type Origins = SmallVec<[Asn; 2]>;

impl AsPath {
    /// A path of one AS_SEQUENCE.
    pub fn from_sequence(asns: impl IntoIterator<Item = Asn>) -> Self {
        AsPath {
            segments: vec![Segment::Sequence(asns.into_iter().collect())],
        }
    }

    /// True when the path has no ASNs at all (iBGP-learned or locally originated).
    pub fn is_empty(&self) -> bool {
        self.segments.iter().all(|s| s.asns().is_empty())
    }

    /// True when any segment is an AS_SET (or confederation set).
    pub fn has_set(&self) -> bool {
        self.segments
            .iter()
            .any(|s| matches!(s, Segment::Set(_) | Segment::ConfedSet(_)))
    }

    /// The origin ASNs: the last ASN of a trailing sequence, or every member of
    /// a trailing AS_SET. Confederation segments are skipped (RFC 6811 §2).
    pub fn origins(&self) -> Origins {
        for seg in self.segments.iter().rev() {
            if seg.is_confed() {
                continue;
            }
            match seg {
                Segment::Sequence(v) => {
                    if let Some(a) = v.last() {
                        return smallvec::smallvec![*a];
                    }
                }
                Segment::Set(v) if !v.is_empty() => {
                    let mut o: Origins = v.iter().copied().collect();
                    o.sort_unstable();
                    o.dedup();
                    return o;
                }
                _ => {}
            }
        }
        Origins::new()
    }

    /// The single origin, when the path ends in an AS_SEQUENCE.
    pub fn origin(&self) -> Option<Asn> {
        let o = self.origins();
        if o.len() == 1 && !self.ends_in_set() {
            o.first().copied()
        } else {
            None
        }
    }

    fn ends_in_set(&self) -> bool {
        self.segments
            .iter()
            .rev()
            .find(|s| !s.is_confed() && !s.asns().is_empty())
            .is_some_and(|s| matches!(s, Segment::Set(_)))
    }

    /// Every ASN on the path in order, sets included, confederations skipped.
    pub fn iter(&self) -> impl Iterator<Item = Asn> + '_ {
        self.segments
            .iter()
            .filter(|s| !s.is_confed())
            .flat_map(|s| s.asns().iter().copied())
    }

    /// True when `asn` appears anywhere on the path (outside confederations).
    pub fn contains(&self, asn: Asn) -> bool {
        self.iter().any(|a| a == asn)
    }

    /// The AS_SEQUENCE hops with prepending collapsed, nearest first; `None`
    /// when the path holds an AS_SET, since the order of a set is meaningless
    /// for relationship checks.
    pub fn dedup_sequence(&self) -> Option<SmallVec<[Asn; 12]>> {
        if self.has_set() {
            return None;
        }
        let mut out: SmallVec<[Asn; 12]> = SmallVec::new();
        for a in self.iter() {
            if out.last() != Some(&a) {
                out.push(a);
            }
        }
        Some(out)
    }

    /// Number of ASNs counted the way the BGP decision process does
    /// (a set counts as one).
    pub fn hop_count(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Sequence(v) => v.len(),
                Segment::Set(_) => 1,
                _ => 0,
            })
            .sum()
    }
}

impl fmt::Display for AsPath {
    /// bgpdump's text: sequences space separated, `{a,b}` sets,
    /// `(a b)` confederation sequences, `[a,b]` confederation sets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.segments {
            if seg.asns().is_empty() {
                continue;
            }
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            let join = |sep: &str| {
                seg.asns()
                    .iter()
                    .map(|a| a.0.to_string())
                    .collect::<Vec<_>>()
                    .join(sep)
            };
            match seg {
                Segment::Sequence(_) => f.write_str(&join(" "))?,
                Segment::Set(_) => write!(f, "{{{}}}", join(","))?,
                Segment::ConfedSequence(_) => write!(f, "({})", join(" "))?,
                Segment::ConfedSet(_) => write!(f, "[{}]", join(","))?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asns(v: &[u32]) -> Vec<Asn> {
        v.iter().copied().map(Asn).collect()
    }

    #[test]
    fn origin_of_sequence_and_set() {
        let p = AsPath::from_sequence(asns(&[3356, 3491, 17557, 17557]));
        assert_eq!(p.origin(), Some(Asn(17557)));
        assert_eq!(
            p.dedup_sequence().map(|v| v.to_vec()),
            Some(asns(&[3356, 3491, 17557]))
        );
        assert_eq!(p.to_string(), "3356 3491 17557 17557");

        let s = AsPath {
            segments: vec![
                Segment::Sequence(asns(&[701, 1239])),
                Segment::Set(asns(&[65001, 65000])),
            ],
        };
        assert_eq!(s.origin(), None);
        assert_eq!(s.origins().to_vec(), asns(&[65000, 65001]));
        assert!(s.dedup_sequence().is_none());
        assert_eq!(s.to_string(), "701 1239 {65001,65000}");
        assert_eq!(s.hop_count(), 3);
    }

    #[test]
    fn confederations_are_skipped_for_origin() {
        let p = AsPath {
            segments: vec![
                Segment::ConfedSequence(asns(&[65001])),
                Segment::Sequence(asns(&[1, 2])),
            ],
        };
        assert_eq!(p.origin(), Some(Asn(2)));
        assert_eq!(p.to_string(), "(65001) 1 2");
        assert!(AsPath::default().is_empty());
        assert_eq!(AsPath::default().origin(), None);
    }
}

//! Reading AS relationship files:
//!
//! * CAIDA serial-1 (`as-rel`): `a|b|-1` (a is a provider of b) and
//!   `a|b|0` (peers); the header comment `# inferred clique: ...` gives the
//!   transit-free clique. Older files use `1` / `2` for siblings.
//! * CAIDA serial-2 (`as-rel2`): the same with a fourth source column
//!   (`bgp`, `mlp` ...), which is ignored.
//! * BGPKIT as2rel JSON: an array of `{asn1, asn2, paths_count,
//!   peers_count, rel}` with `rel` 0 = peers, 1 = asn1 is a provider of
//!   asn2 (-1 = asn1 is a customer of asn2). A pair may appear with several
//!   `rel` values (seen differently by different peers); the one seen by
//!   most peers wins and its share of peers is the edge's confidence.
//!
//! Input may be gzip / bzip2 compressed (sniffed). Without a clique in the
//! file it is computed: ASes without providers, taken by customer count,
//! kept while they peer with every member so far.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read};

use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};

use super::asrel::{AsRelationships, Relationship};
use super::lines::{Line, Lines};
use super::report::{LoadError, LoadReport, Location};
use crate::model::Asn;
use crate::mrt::decompress;

/// Candidates scanned when computing a clique from relationships.
const CLIQUE_CANDIDATES: usize = 50;

/// Read an AS relationship file of any supported format into `table`.
pub fn read_asrel<R: Read + Send + 'static>(
    input: R,
    source: &str,
    table: &mut AsRelationships,
) -> Result<LoadReport, LoadError> {
    let (_, r) = decompress(input).map_err(|e| LoadError::io(source, e))?;
    let mut r = BufReader::with_capacity(1 << 16, r);
    let mut report = LoadReport::new(source);
    let first = loop {
        let buf = r.fill_buf().map_err(|e| LoadError::io(source, e))?;
        if buf.is_empty() {
            return Err(LoadError::format(source, "empty input"));
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => break buf[i],
            None => {
                let n = buf.len();
                r.consume(n);
            }
        }
    };
    let clique = if first == b'[' || first == b'{' {
        read_bgpkit(r, table, &mut report)?;
        None
    } else {
        read_caida(r, table, &mut report)?
    };
    match clique {
        Some(c) => table.set_clique(c),
        None => {
            let c = compute_clique(table);
            table.set_clique(c);
        }
    }
    Ok(report)
}

fn read_caida<R: BufRead>(
    r: R,
    table: &mut AsRelationships,
    report: &mut LoadReport,
) -> Result<Option<Vec<Asn>>, LoadError> {
    let source = report.source.clone();
    let mut lines = Lines::new(r);
    let mut clique = None;
    while let Some((n, line)) = lines.next_line().map_err(|e| LoadError::io(&source, e))? {
        let text = match line {
            Line::Text(t) => t,
            Line::TooLong => {
                report.skip(Location::Line(n), "line too long");
                continue;
            }
        };
        let t = text.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(c) = t.strip_prefix('#') {
            if let Some(list) = c.trim().strip_prefix("inferred clique:") {
                let members: Result<Vec<Asn>, _> =
                    list.split_whitespace().map(str::parse).collect();
                match members {
                    Ok(m) => clique = Some(m),
                    Err(e) => report.skip(Location::Line(n), format!("clique: {e}")),
                }
            }
            continue;
        }
        let mut f = t.split('|');
        let (Some(a), Some(b), Some(rel)) = (f.next(), f.next(), f.next()) else {
            report.skip(Location::Line(n), "expected a|b|rel");
            continue;
        };
        let (a, b) = match (a.trim().parse::<Asn>(), b.trim().parse::<Asn>()) {
            (Ok(a), Ok(b)) => (a, b),
            _ => {
                report.skip(Location::Line(n), format!("bad AS number in {t:.60?}"));
                continue;
            }
        };
        let rel = match rel.trim() {
            "-1" => Relationship::Provider,
            "0" => Relationship::Peer,
            "1" | "2" => Relationship::Sibling,
            other => {
                report.skip(
                    Location::Line(n),
                    format!("unknown relationship code {other:?}"),
                );
                continue;
            }
        };
        if a == b {
            report.skip(Location::Line(n), "relationship of an AS with itself");
            continue;
        }
        table.insert(a, b, rel, 1.0);
        report.accepted += 1;
    }
    Ok(clique)
}

/// Peer-weighted votes for one pair (low ASN, high ASN).
#[derive(Default, Clone, Copy)]
struct Votes {
    peer: u64,
    lo_provider: u64,
    hi_provider: u64,
}

#[derive(serde::Deserialize)]
struct RawRel {
    asn1: Option<u32>,
    asn2: Option<u32>,
    rel: Option<i64>,
    peers_count: Option<u64>,
}

struct RelList<'a> {
    votes: &'a mut HashMap<(u32, u32), Votes>,
    report: &'a mut LoadReport,
}

impl<'de> DeserializeSeed<'de> for RelList<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RelList<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of {asn1, asn2, rel} objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut idx = 0u64;
        // Elements are parsed leniently: a wrong type in one entry is
        // reported for that entry only.
        while let Some(v) = seq.next_element::<serde_json::Value>()? {
            let at = Location::Index("", idx);
            idx += 1;
            let raw: RawRel = match serde_json::from_value(v) {
                Ok(r) => r,
                Err(e) => {
                    self.report.skip(at, e.to_string());
                    continue;
                }
            };
            let (Some(a), Some(b), Some(rel)) = (raw.asn1, raw.asn2, raw.rel) else {
                self.report.skip(at, "missing asn1, asn2 or rel");
                continue;
            };
            if a == b {
                self.report.skip(at, "relationship of an AS with itself");
                continue;
            }
            let w = raw.peers_count.unwrap_or(1).max(1);
            let (lo, hi) = (a.min(b), a.max(b));
            let e = self.votes.entry((lo, hi)).or_default();
            let slot = match rel {
                0 => &mut e.peer,
                // asn1 provider of asn2
                1 if a == lo => &mut e.lo_provider,
                1 => &mut e.hi_provider,
                // asn1 customer of asn2
                -1 if a == lo => &mut e.hi_provider,
                -1 => &mut e.lo_provider,
                other => {
                    self.report.skip(at, format!("unknown rel {other}"));
                    continue;
                }
            };
            *slot = slot.saturating_add(w);
            self.report.accepted += 1;
        }
        Ok(())
    }
}

fn read_bgpkit<R: Read>(
    r: R,
    table: &mut AsRelationships,
    report: &mut LoadReport,
) -> Result<(), LoadError> {
    let source = report.source.clone();
    let mut votes: HashMap<(u32, u32), Votes> = HashMap::new();
    let mut de = serde_json::Deserializer::from_reader(r);
    RelList {
        votes: &mut votes,
        report,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end())
    .map_err(|e| LoadError::format(&source, format!("JSON: {e}")))?;
    for ((lo, hi), v) in votes {
        let total = (v.peer + v.lo_provider + v.hi_provider) as f64;
        let (rel, n) = if v.lo_provider >= v.hi_provider && v.lo_provider > v.peer {
            (Relationship::Provider, v.lo_provider)
        } else if v.hi_provider > v.lo_provider && v.hi_provider > v.peer {
            (Relationship::Customer, v.hi_provider)
        } else {
            (Relationship::Peer, v.peer)
        };
        table.insert(Asn(lo), Asn(hi), rel, (n as f64 / total) as f32);
    }
    Ok(())
}

/// Transit-free clique from a relationship table: ASes with no provider,
/// by number of customers, each kept if it peers with all kept so far.
pub fn compute_clique(table: &AsRelationships) -> Vec<Asn> {
    let mut customers: HashMap<Asn, u32> = HashMap::new();
    let mut has_provider: std::collections::HashSet<Asn> = Default::default();
    for (a, b, info) in table.iter() {
        let (p, c) = match info.rel {
            Relationship::Provider => (a, b),
            Relationship::Customer => (b, a),
            _ => continue,
        };
        *customers.entry(p).or_default() += 1;
        has_provider.insert(c);
    }
    let mut cands: Vec<(Asn, u32)> = customers
        .into_iter()
        .filter(|(a, _)| !has_provider.contains(a))
        .collect();
    cands.sort_unstable_by_key(|&(a, n)| (std::cmp::Reverse(n), a));
    let mut clique: Vec<Asn> = Vec::new();
    for &(a, _) in cands.iter().take(CLIQUE_CANDIDATES) {
        let peers_all = clique
            .iter()
            .all(|&m| table.rel(a, m).is_some_and(|r| r.rel == Relationship::Peer));
        if peers_all {
            clique.push(a);
        }
    }
    clique.sort_unstable();
    clique
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn load(text: &str) -> (AsRelationships, LoadReport) {
        let mut t = AsRelationships::new();
        let r = read_asrel(Cursor::new(text.as_bytes().to_vec()), "t", &mut t).unwrap();
        (t, r)
    }

    #[test]
    fn caida_serial1_and_2() {
        let (t, r) = load(
            "# source:topology|BGP|20080201\n# inferred clique: 701 1239 3356\n\
             701|1239|0\n3491|17557|-1\n174|1|-1|bgp\nx|2|0\n1|2|7\n1|2\n3|3|0\n",
        );
        assert_eq!((r.accepted, r.skipped), (3, 4));
        let lines: Vec<String> = r.problems.iter().map(|p| p.at.to_string()).collect();
        assert_eq!(lines, vec!["line 6", "line 7", "line 8", "line 9"]);
        assert_eq!(t.clique(), vec![Asn(701), Asn(1239), Asn(3356)]);
        assert_eq!(
            t.rel(Asn(17557), Asn(3491)).unwrap().rel,
            Relationship::Customer
        );
        assert_eq!(t.rel(Asn(1), Asn(174)).unwrap().rel, Relationship::Customer);
        assert_eq!(t.rel(Asn(701), Asn(1239)).unwrap().confidence, 1.0);
    }

    #[test]
    fn clique_computed_without_header() {
        let (t, _) = load("1|2|0\n1|3|0\n2|3|0\n1|10|-1\n2|20|-1\n3|30|-1\n10|100|-1\n10|20|0\n");
        assert_eq!(t.clique(), vec![Asn(1), Asn(2), Asn(3)]);
    }

    #[test]
    fn bgpkit_json() {
        let (t, r) = load(
            r#"[{"asn1":3491,"asn2":17557,"paths_count":100,"peers_count":30,"rel":1},
               {"asn1":3491,"asn2":17557,"paths_count":2,"peers_count":10,"rel":0},
               {"asn1":2914,"asn2":1299,"paths_count":9,"peers_count":9,"rel":0},
               {"asn1":"bad","asn2":1,"rel":0},
               {"asn1":5,"asn2":6}]"#,
        );
        assert_eq!((r.accepted, r.skipped), (3, 2));
        let x = t.rel(Asn(17557), Asn(3491)).unwrap();
        assert_eq!(x.rel, Relationship::Customer);
        assert!((x.confidence - 0.75).abs() < 1e-6);
        assert_eq!(t.rel(Asn(1299), Asn(2914)).unwrap().rel, Relationship::Peer);
    }
}

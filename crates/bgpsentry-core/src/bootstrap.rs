//! Reading prefix-to-origin tables that seed the hijack detector's baseline:
//! the established origins it knows before the first update arrives.
//!
//! Two text formats, recognised per line, gzip / bzip2 / plain by content:
//!
//! * **pyasn** (`pyasn_util_convert.py`): `;` comment header, then
//!   `prefix/len<TAB>asn`, e.g. `208.65.152.0/22 36561` (tab-separated).
//! * **RouteViews pfx2as** (CAIDA `routeviews-prefix2as`):
//!   `address<TAB>len<TAB>asns`, where MOAS origins are joined with `_`
//!   and AS-set members with `,` (`1.2.3.0 24 64500_64501,64502`, tab-separated).
//!
//! Every listed ASN becomes an established origin of the prefix. A line that
//! does not parse is counted and skipped, never fatal; the first few are
//! kept with their line number for the operator. MRT RIB dumps are the other
//! bootstrap source; [`looks_like_mrt`] tells the two apart so the service
//! can route a file to the right reader.

use std::io::{BufRead, BufReader, Read};
use std::net::IpAddr;

use ipnet::IpNet;
use smallvec::SmallVec;

use crate::model::Asn;

/// At most this many problem lines are kept in a report.
const MAX_PROBLEMS: usize = 20;

/// Why a table could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// Reading or decompressing failed.
    #[error("reading the prefix-to-AS table: {0}")]
    Io(#[from] std::io::Error),
    /// Not one line could be used.
    #[error("no prefix-to-AS line could be parsed ({skipped} lines skipped{first})")]
    Unusable {
        /// Lines skipped.
        skipped: u64,
        /// The first problem, formatted.
        first: String,
    },
}

/// What reading a table found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableReport {
    /// Lines read (comments included).
    pub lines: u64,
    /// (prefix, origins) entries delivered.
    pub entries: u64,
    /// Lines that did not parse.
    pub skipped: u64,
    /// The first few problems: (1-based line, message).
    pub problems: Vec<(u64, String)>,
}

/// The origins listed for one prefix.
pub type TableOrigins = SmallVec<[Asn; 2]>;

fn parse_asns(s: &str) -> Result<TableOrigins, String> {
    let mut v = TableOrigins::new();
    let cleaned = s.trim().trim_start_matches('{').trim_end_matches('}');
    for part in cleaned.split(['_', ',']) {
        let part = part.trim().trim_start_matches('{').trim_end_matches('}');
        if part.is_empty() {
            continue;
        }
        let a: Asn = part.parse().map_err(|_| format!("bad ASN {part:?}"))?;
        if !v.contains(&a) {
            v.push(a);
        }
    }
    if v.is_empty() {
        return Err("no ASN".into());
    }
    v.sort_unstable();
    Ok(v)
}

/// Parses one line of either format. `Ok(None)` for comments and blanks.
pub fn parse_line(line: &str) -> Result<Option<(IpNet, TableOrigins)>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
        return Ok(None);
    }
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (prefix, asns) = match fields.as_slice() {
        [pfx, asns] => {
            let p: IpNet = pfx.parse().map_err(|_| format!("bad prefix {pfx:?}"))?;
            (p, *asns)
        }
        [addr, len, asns] => {
            let a: IpAddr = addr.parse().map_err(|_| format!("bad address {addr:?}"))?;
            let l: u8 = len.parse().map_err(|_| format!("bad length {len:?}"))?;
            let p = IpNet::new(a, l).map_err(|_| format!("bad length {len:?} for {addr}"))?;
            (p, *asns)
        }
        _ => return Err(format!("expected 2 or 3 fields, found {}", fields.len())),
    };
    Ok(Some((prefix.trunc(), parse_asns(asns)?)))
}

/// True when the first bytes of a decompressed stream look like binary MRT
/// rather than a text table (MRT headers carry NUL bytes in their type and
/// length fields; the text formats never do).
pub fn looks_like_mrt(head: &[u8]) -> bool {
    head.iter().take(64).any(|b| *b == 0)
}

/// Reads a table (compressed or not) and hands every entry to `f`.
pub fn read_table<R: Read + Send + 'static>(
    input: R,
    mut f: impl FnMut(IpNet, &[Asn]),
) -> Result<TableReport, BootstrapError> {
    let (_, r) = crate::mrt::decompress(input)?;
    let mut r = BufReader::with_capacity(1 << 16, r);
    let mut rep = TableReport::default();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        rep.lines += 1;
        let line = String::from_utf8_lossy(&buf);
        match parse_line(&line) {
            Ok(Some((p, o))) => {
                rep.entries += 1;
                f(p, &o);
            }
            Ok(None) => {}
            Err(e) => {
                rep.skipped += 1;
                if rep.problems.len() < MAX_PROBLEMS {
                    rep.problems.push((rep.lines, e));
                }
            }
        }
    }
    if rep.entries == 0 && rep.skipped > 0 {
        let first = rep
            .problems
            .first()
            .map(|(l, m)| format!("; line {l}: {m}"))
            .unwrap_or_default();
        return Err(BootstrapError::Unusable {
            skipped: rep.skipped,
            first,
        });
    }
    Ok(rep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_moas_and_sets() {
        let (p, o) = parse_line("208.65.152.0/22\t36561")
            .expect("ok")
            .expect("entry");
        assert_eq!(
            (p.to_string(), o.to_vec()),
            ("208.65.152.0/22".into(), vec![Asn(36561)])
        );
        let (p, o) = parse_line("1.2.3.0\t24\t64501_64500,64502")
            .expect("ok")
            .expect("entry");
        assert_eq!(p.to_string(), "1.2.3.0/24");
        assert_eq!(o.to_vec(), vec![Asn(64500), Asn(64501), Asn(64502)]);
        let (p, _) = parse_line("2001:db8::\t32\t{64500}")
            .expect("ok")
            .expect("entry");
        assert_eq!(p.to_string(), "2001:db8::/32");
        assert_eq!(parse_line("; IP-ASN-DAT file"), Ok(None));
        assert!(parse_line("1.2.3.0/24 AS").is_err());
        assert!(parse_line("1.2.3.0 33 1").is_err());
        assert!(parse_line("x y z w").is_err());
    }

    #[test]
    fn reads_compressed_tables_and_reports_bad_lines() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"; head\n10.0.0.0/8\t1\ngarbage\n10.1.0.0/16\t2_3\n")
            .expect("write");
        let bytes = gz.finish().expect("gz");
        let mut got = Vec::new();
        let rep = read_table(std::io::Cursor::new(bytes), |p, o| {
            got.push((p, o.to_vec()))
        })
        .expect("read");
        assert_eq!(rep.entries, 2);
        assert_eq!(rep.skipped, 1);
        assert_eq!(rep.problems[0].0, 3);
        assert_eq!(got[1].1, vec![Asn(2), Asn(3)]);
        assert!(read_table(std::io::Cursor::new(b"junk\n".to_vec()), |_, _| {}).is_err());
        assert!(looks_like_mrt(&[0x47, 0xc1, 0, 0, 0, 0x10]));
        assert!(!looks_like_mrt(b"; IP-ASN-DAT"));
    }
}

//! Reading `route` / `route6` objects from RPSL database dumps (RADB,
//! RIPE, ARIN, APNIC, AFRINIC, LACNIC, NTTCOM ... `*.db` or `*.db.gz` split
//! files). RFC 2622 syntax: objects are separated by blank lines; an
//! attribute is `name: value`; a line starting with space, tab or `+`
//! continues the previous attribute; `#` starts a comment to the end of
//! the line and whole-line `#` / `%` comments (whois banners) are skipped.
//! Only `route`, `route6`, `origin` and `source` matter here; every other
//! object class is counted as ignored.

use std::io::{BufReader, Read};

use ipnet::IpNet;

use super::irr::IrrTable;
use super::lines::{Line, Lines};
use super::report::{LoadError, LoadReport, Location};
use crate::model::Asn;
use crate::mrt::decompress;

#[derive(Default)]
struct Object {
    start: u64,
    class: Option<String>,
    key: String,
    origin: Option<String>,
    origins: u32,
    source: Option<String>,
    /// Attribute the next continuation line belongs to.
    last: Attr,
}

#[derive(Default, Clone, Copy, PartialEq)]
enum Attr {
    #[default]
    Other,
    Key,
    Origin,
    Source,
}

/// Read an RPSL dump (compressed or not) into `table`. `default_source` is
/// used for objects without a `source:` attribute (e.g. `RADB`).
pub fn read_rpsl<R: Read + Send + 'static>(
    input: R,
    source_name: &str,
    default_source: &str,
    table: &mut IrrTable,
) -> Result<LoadReport, LoadError> {
    let (_, r) = decompress(input).map_err(|e| LoadError::io(source_name, e))?;
    let mut lines = Lines::new(BufReader::with_capacity(1 << 16, r));
    let mut report = LoadReport::new(source_name);
    let mut obj = Object::default();
    while let Some((n, line)) = lines
        .next_line()
        .map_err(|e| LoadError::io(source_name, e))?
    {
        let text = match line {
            Line::Text(t) => t,
            Line::TooLong => {
                report.skip(Location::Line(n), "line too long");
                continue;
            }
        };
        if text.trim().is_empty() {
            finish(&mut obj, default_source, table, &mut report);
            continue;
        }
        let first = text.as_bytes()[0];
        if first == b'#' || first == b'%' {
            continue;
        }
        let value_of = |v: &str| v.split('#').next().unwrap_or("").trim().to_string();
        if first == b' ' || first == b'\t' || first == b'+' {
            if obj.class.is_none() {
                report.skip(Location::Line(n), "continuation line outside an object");
                continue;
            }
            let more = value_of(&text[1..]);
            match obj.last {
                Attr::Key => append(&mut obj.key, &more),
                Attr::Origin => append(obj.origin.get_or_insert_default(), &more),
                Attr::Source => append(obj.source.get_or_insert_default(), &more),
                Attr::Other => {}
            }
            continue;
        }
        let Some((name, value)) = text.split_once(':') else {
            report.skip(
                Location::Line(n),
                format!("not an RPSL attribute: {:.60?}", text),
            );
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        let value = value_of(value);
        if obj.class.is_none() {
            obj.start = n;
            obj.last = Attr::Key;
            obj.key = value;
            obj.class = Some(name);
            continue;
        }
        obj.last = match name.as_str() {
            "origin" => {
                obj.origins += 1;
                obj.origin = Some(value);
                Attr::Origin
            }
            "source" => {
                obj.source = Some(value);
                Attr::Source
            }
            _ => Attr::Other,
        };
    }
    finish(&mut obj, default_source, table, &mut report);
    Ok(report)
}

fn append(s: &mut String, more: &str) {
    if !more.is_empty() {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(more);
    }
}

fn finish(obj: &mut Object, default_source: &str, table: &mut IrrTable, report: &mut LoadReport) {
    let o = std::mem::take(obj);
    let Some(class) = o.class else { return };
    let at = Location::Line(o.start);
    let v6 = match class.as_str() {
        "route" => false,
        "route6" => true,
        _ => {
            report.ignored += 1;
            return;
        }
    };
    let prefix: IpNet = match o.key.parse() {
        Ok(p @ IpNet::V4(_)) if !v6 => p,
        Ok(p @ IpNet::V6(_)) if v6 => p,
        _ => {
            report.skip(at, format!("{class}: bad prefix {:?}", o.key));
            return;
        }
    };
    if o.origins != 1 {
        report.skip(
            at,
            format!(
                "{class} {prefix}: {} origin attributes, expected 1",
                o.origins
            ),
        );
        return;
    }
    let origin_text = o.origin.unwrap_or_default();
    let origin: Asn = match origin_text.parse() {
        Ok(a) => a,
        Err(_) => {
            report.skip(at, format!("{class} {prefix}: bad origin {origin_text:?}"));
            return;
        }
    };
    let source = o
        .source
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| default_source.to_string());
    if table.insert(prefix, origin, &source) {
        report.accepted += 1;
    } else {
        report.ignored += 1;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::evidence::IrrState;
    use std::io::Cursor;

    #[test]
    fn continuation_comments_and_errors() {
        let dump = "\
% banner from whois
route:      208.65.152.0/22
descr:      YouTube,
            Inc. # a continued descr
+           still descr
origin:     AS36561 # comment
mnt-by:     MAINT-YOUTUBE
source:     RADB

route6:   2001:db8::/32
origin:
          AS64500
source:   RIPE

aut-num: AS1
as-name: X

route: not-a-prefix
origin: AS1

route: 10.0.0.0/8
origin: AS1
origin: AS2
garbage line
route: 192.0.2.0/24
origin: AS3";
        let mut t = IrrTable::new();
        let r = read_rpsl(
            Cursor::new(dump.as_bytes().to_vec()),
            "radb.db",
            "RADB",
            &mut t,
        )
        .unwrap();
        assert_eq!(
            (r.accepted, r.skipped, r.ignored),
            (2, 3, 1),
            "{:?}",
            r.problems
        );
        let at: Vec<String> = r.problems.iter().map(|p| p.at.to_string()).collect();
        assert_eq!(at, vec!["line 18", "line 24", "line 21"]);
        assert_eq!(
            t.check(&"208.65.153.0/24".parse().unwrap(), Asn(36561)),
            IrrState::Valid
        );
        assert_eq!(
            t.check(&"2001:db8:1::/48".parse().unwrap(), Asn(64500)),
            IrrState::Valid
        );
        assert_eq!(
            t.covering(&"2001:db8::/32".parse().unwrap())[0].source,
            "RIPE"
        );
    }
}

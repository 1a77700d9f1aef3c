//! Reading organisation data:
//!
//! * CAIDA as2org JSON-lines (`*.as-org2info.jsonl.gz`): records of
//!   `"type":"Organization"` (`organizationId`, `name`, `country`) and
//!   `"type":"ASN"` (`asn`, `organizationId`, `name`).
//! * CAIDA as2org pipe text (`*.as-org2info.txt.gz`), whose
//!   `# format:` comments say which record kind follows.
//! * AS-name lists as published by pyasn / RIPE's `asnames`:
//!   a JSON object `{"ASN": "NAME - description, CC"}`.
//!
//! Input may be compressed (sniffed). Bad lines / entries are counted and
//! skipped with their line number or key.

use std::fmt;
use std::io::{BufRead, BufReader, Read};

use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::lines::{Line, Lines};
use super::orgs::OrgTable;
use super::report::{LoadError, LoadReport, Location};
use crate::model::Asn;
use crate::mrt::decompress;

/// Read a CAIDA as2org file (jsonl or pipe format) into `table`.
pub fn read_as2org<R: Read + Send + 'static>(
    input: R,
    source: &str,
    table: &mut OrgTable,
) -> Result<LoadReport, LoadError> {
    let (_, r) = decompress(input).map_err(|e| LoadError::io(source, e))?;
    let mut lines = Lines::new(BufReader::with_capacity(1 << 16, r));
    let mut report = LoadReport::new(source);
    // Pipe format: which record kind the current section holds.
    let mut pipe_asn_section: Option<bool> = None;
    while let Some((n, line)) = lines.next_line().map_err(|e| LoadError::io(source, e))? {
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
            if let Some(fmt) = c.trim().strip_prefix("format:") {
                pipe_asn_section = Some(fmt.trim_start().starts_with("aut"));
            }
            continue;
        }
        let at = Location::Line(n);
        if t.starts_with('{') {
            json_line(t, at, table, &mut report);
        } else {
            pipe_line(t, pipe_asn_section, at, table, &mut report);
        }
    }
    if report.accepted == 0 {
        return Err(LoadError::format(source, "no as2org records found"));
    }
    Ok(report)
}

fn json_line(t: &str, at: Location, table: &mut OrgTable, report: &mut LoadReport) {
    let v: serde_json::Value = match serde_json::from_str(t) {
        Ok(v) => v,
        Err(e) => {
            report.skip(at, format!("JSON: {e}"));
            return;
        }
    };
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("");
    let org_id = s("organizationId");
    match s("type") {
        "Organization" => {
            if org_id.is_empty() {
                report.skip(at, "Organization without organizationId");
                return;
            }
            table.insert_org(org_id, s("name"), s("country"));
            report.accepted += 1;
        }
        "ASN" => {
            let asn = match v.get("asn") {
                Some(serde_json::Value::String(a)) => a.parse::<Asn>().ok(),
                Some(serde_json::Value::Number(a)) => {
                    a.as_u64().and_then(|a| u32::try_from(a).ok()).map(Asn)
                }
                _ => None,
            };
            let Some(asn) = asn else {
                report.skip(at, "ASN record with a missing or bad \"asn\"");
                return;
            };
            if org_id.is_empty() {
                report.skip(at, format!("AS{asn} without organizationId"));
                return;
            }
            table.insert_asn(asn, org_id, Some(s("name")));
            report.accepted += 1;
        }
        other => {
            report.ignored += 1;
            let _ = other;
        }
    }
}

fn pipe_line(
    t: &str,
    asn_section: Option<bool>,
    at: Location,
    table: &mut OrgTable,
    report: &mut LoadReport,
) {
    let f: Vec<&str> = t.split('|').collect();
    // Without a format comment, guess: ASN records start with a number.
    let is_asn = asn_section.unwrap_or_else(|| f[0].parse::<u32>().is_ok());
    if is_asn {
        // aut|changed|aut_name|org_id|opaque_id|source
        let (Some(a), Some(name), Some(org)) = (f.first(), f.get(2), f.get(3)) else {
            report.skip(at, "expected aut|changed|aut_name|org_id|...");
            return;
        };
        match a.parse::<Asn>() {
            Ok(asn) if !org.is_empty() => {
                table.insert_asn(asn, org, Some(name));
                report.accepted += 1;
            }
            _ => report.skip(at, format!("bad ASN record {t:.60?}")),
        }
    } else {
        // org_id|changed|org_name|country|source
        let (Some(id), Some(name), Some(cc)) = (f.first(), f.get(2), f.get(3)) else {
            report.skip(at, "expected org_id|changed|org_name|country|...");
            return;
        };
        if id.is_empty() {
            report.skip(at, "empty org_id");
            return;
        }
        table.insert_org(id, name, cc);
        report.accepted += 1;
    }
}

/// Split `"NAME - description, CC"` into (name, Some(CC)).
pub fn split_country(s: &str) -> (&str, Option<&str>) {
    if let Some((head, cc)) = s.rsplit_once(", ")
        && cc.len() == 2
        && cc.bytes().all(|b| b.is_ascii_uppercase())
    {
        return (head.trim(), Some(cc));
    }
    (s.trim(), None)
}

struct Names<'a> {
    table: &'a mut OrgTable,
    report: &'a mut LoadReport,
}

impl<'de> DeserializeSeed<'de> for Names<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Names<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object {\"ASN\": \"name, CC\"}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut idx = 0u64;
        while let Some(k) = map.next_key::<String>()? {
            let v: serde_json::Value = map.next_value()?;
            let at = Location::Index("asnames", idx);
            idx += 1;
            let (Ok(asn), Some(v)) = (k.parse::<Asn>(), v.as_str()) else {
                self.report.skip(at, format!("bad entry for key {k:.30?}"));
                continue;
            };
            let (name, cc) = split_country(v);
            self.table.insert_name(asn, name, cc);
            self.report.accepted += 1;
        }
        Ok(())
    }
}

/// Read an AS-name list (`{"ASN": "NAME - description, CC"}`).
pub fn read_asnames<R: Read + Send + 'static>(
    input: R,
    source: &str,
    table: &mut OrgTable,
) -> Result<LoadReport, LoadError> {
    let (_, r) = decompress(input).map_err(|e| LoadError::io(source, e))?;
    let r: Box<dyn BufRead> = Box::new(BufReader::with_capacity(1 << 16, r));
    let mut report = LoadReport::new(source);
    let mut de = serde_json::Deserializer::from_reader(r);
    Names {
        table,
        report: &mut report,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end())
    .map_err(|e| LoadError::format(source, format!("JSON: {e}")))?;
    Ok(report)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn pipe_format_and_bad_lines() {
        let text = "# format:aut|changed|aut_name|org_id|opaque_id|source\n\
                    701|20120224|UUNET|MCI-ARIN||ARIN\n702|x|AS702|MCI-ARIN||ARIN\nnope|1\n\
                    # format:org_id|changed|org_name|country|source\n\
                    MCI-ARIN|2012|MCI Communications|US|ARIN\n{\"type\":\"ASN\",\"asn\":\"x\"}\n";
        let mut t = OrgTable::new();
        let r = read_as2org(Cursor::new(text.as_bytes().to_vec()), "t", &mut t).unwrap();
        assert_eq!((r.accepted, r.skipped), (3, 2), "{:?}", r.problems);
        assert!(t.siblings(Asn(701), Asn(702)));
        assert_eq!(t.country(Asn(701)), Some("US"));
    }

    #[test]
    fn asnames() {
        let text = r#"{"36561": "YOUTUBE - YouTube, Inc., US", "x": "y", "1": 5, "17557": "PKTELECOM-AS-PK Pakistan Telecommunication Company Limited, PK"}"#;
        let mut t = OrgTable::new();
        let r = read_asnames(Cursor::new(text.as_bytes().to_vec()), "n", &mut t).unwrap();
        assert_eq!((r.accepted, r.skipped), (2, 2));
        assert_eq!(t.name(Asn(36561)), Some("YOUTUBE - YouTube, Inc."));
        assert_eq!(t.country(Asn(17557)), Some("PK"));
    }
}

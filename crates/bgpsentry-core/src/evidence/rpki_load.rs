//! Reading VRPs in the formats validators publish:
//!
//! * JSON with a `roas` (or `vrps`) array — rpki-client `json`, Routinator
//!   `json` / `jsonext`, Cloudflare's `rpki.json`, RIPE validator exports.
//!   Each entry needs `prefix`, `maxLength` and `asn` (a number, `"13335"`
//!   or `"AS13335"`); other fields (`ta`, `expires`, `source` ...) are
//!   ignored. A bare top-level array of such entries works too.
//! * CSV — Routinator `csv` / `csvcompat` / `csvext`, rpki-client `csv`:
//!   columns are found by header name (`ASN`, `IP Prefix`, `Max Length`),
//!   quotes are stripped; without a header the order ASN,prefix,maxLength.
//!
//! The input may be gzip or bzip2 compressed (sniffed). Malformed entries
//! are counted and skipped with their array index or line number; a JSON
//! syntax error fails the whole load (the file is truncated or not JSON).

use std::fmt;
use std::io::{BufReader, Read};

use ipnet::IpNet;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::lines::{Line, Lines};
use super::report::{LoadError, LoadReport, Location};
use super::rpki::{RpkiTable, Vrp};
use crate::model::Asn;
use crate::mrt::decompress;

/// Read VRPs from `input` (any supported format, compressed or not) into
/// `table`.
pub fn read_vrps<R: Read + Send + 'static>(
    input: R,
    source: &str,
    table: &mut RpkiTable,
) -> Result<LoadReport, LoadError> {
    let (_, r) = decompress(input).map_err(|e| LoadError::io(source, e))?;
    let mut r = BufReader::with_capacity(1 << 16, r);
    let first = first_non_space(&mut r).map_err(|e| LoadError::io(source, e))?;
    let mut report = LoadReport::new(source);
    match first {
        None => return Err(LoadError::format(source, "empty input")),
        Some(b'{' | b'[') => read_json(r, table, &mut report)?,
        Some(_) => read_csv(r, table, &mut report)?,
    }
    Ok(report)
}

fn first_non_space<R: std::io::BufRead>(r: &mut R) -> std::io::Result<Option<u8>> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => return Ok(Some(buf[i])),
            None => {
                let n = buf.len();
                r.consume(n);
            }
        }
    }
}

/// Turn the three raw fields into a VRP, or say what is wrong.
fn make_vrp(prefix: &str, max_len: Option<&str>, asn: &str) -> Result<Vrp, String> {
    let prefix: IpNet = prefix
        .trim()
        .parse()
        .map_err(|_| format!("bad prefix {:?}", prefix.trim()))?;
    let asn: Asn = asn
        .trim()
        .parse()
        .map_err(|e: crate::model::AsnParseError| e.to_string())?;
    let max_len = match max_len.map(str::trim).filter(|s| !s.is_empty()) {
        None => prefix.prefix_len(),
        Some(m) => m
            .parse::<u8>()
            .map_err(|_| format!("bad maxLength {m:?}"))?,
    };
    if max_len < prefix.prefix_len() || max_len > prefix.max_prefix_len() {
        return Err(format!(
            "maxLength {max_len} outside {}..={}",
            prefix.prefix_len(),
            prefix.max_prefix_len()
        ));
    }
    Ok(Vrp {
        prefix,
        max_len,
        asn,
    })
}

// ---------------------------------------------------------------- JSON

fn read_json<R: Read>(
    r: R,
    table: &mut RpkiTable,
    report: &mut LoadReport,
) -> Result<(), LoadError> {
    let source = report.source.clone();
    let mut de = serde_json::Deserializer::from_reader(r);
    let mut found = false;
    let seed = Doc {
        table,
        report,
        found: &mut found,
    };
    seed.deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| LoadError::format(&source, format!("JSON: {e}")))?;
    if !found {
        return Err(LoadError::format(&source, "JSON has no \"roas\" array"));
    }
    Ok(())
}

/// A JSON scalar of any type (numbers and strings kept, the rest dropped).
enum Scalar {
    Str(String),
    Num(String),
    Other,
}

impl Scalar {
    fn text(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) | Scalar::Num(s) => Some(s),
            Scalar::Other => None,
        }
    }
}

impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Num(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Num(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Num(v.to_string()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar::Str(v))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Scalar, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Scalar, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(serde::Deserialize)]
struct RawRoa {
    prefix: Option<Scalar>,
    #[serde(
        rename = "maxLength",
        alias = "max_length",
        alias = "maxlen",
        alias = "max-length"
    )]
    max_length: Option<Scalar>,
    #[serde(alias = "origin", alias = "ASN")]
    asn: Option<Scalar>,
}

/// An element of the roas array that may be anything.
enum Element {
    Roa(RawRoa),
    NotAnObject,
}

impl<'de> de::Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Element;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a ROA object")
            }
            fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<Element, A::Error> {
                let raw = de::Deserialize::deserialize(de::value::MapAccessDeserializer::new(a))?;
                Ok(Element::Roa(raw))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Element, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Element::NotAnObject)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Element, E> {
                Ok(Element::NotAnObject)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Element, E> {
                Ok(Element::NotAnObject)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Element, E> {
                Ok(Element::NotAnObject)
            }
            fn visit_str<E>(self, _: &str) -> Result<Element, E> {
                Ok(Element::NotAnObject)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Element, E> {
                Ok(Element::NotAnObject)
            }
            fn visit_unit<E>(self) -> Result<Element, E> {
                Ok(Element::NotAnObject)
            }
        }
        d.deserialize_any(V)
    }
}

struct RoaList<'a> {
    table: &'a mut RpkiTable,
    report: &'a mut LoadReport,
    field: &'static str,
}

impl<'de> DeserializeSeed<'de> for RoaList<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RoaList<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of ROAs")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut idx: u64 = 0;
        while let Some(el) = seq.next_element::<Element>()? {
            let at = Location::Index(self.field, idx);
            idx += 1;
            let raw = match el {
                Element::Roa(r) => r,
                Element::NotAnObject => {
                    self.report.skip(at, "not an object");
                    continue;
                }
            };
            let prefix = raw.prefix.as_ref().and_then(Scalar::text);
            let asn = raw.asn.as_ref().and_then(Scalar::text);
            let max = raw.max_length.as_ref().and_then(Scalar::text);
            let (Some(prefix), Some(asn)) = (prefix, asn) else {
                self.report.skip(at, "missing \"prefix\" or \"asn\"");
                continue;
            };
            match make_vrp(prefix, max, asn) {
                Ok(v) => {
                    if self.table.insert(v) {
                        self.report.accepted += 1;
                    } else {
                        self.report.ignored += 1;
                    }
                }
                Err(e) => self.report.skip(at, e),
            }
        }
        Ok(())
    }
}

struct Doc<'a> {
    table: &'a mut RpkiTable,
    report: &'a mut LoadReport,
    found: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for Doc<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Doc<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with a \"roas\" array")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let field = match key.as_str() {
                "roas" => "roas",
                "vrps" => "vrps",
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *self.found = true;
            map.next_value_seed(RoaList {
                table: self.table,
                report: self.report,
                field,
            })?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        *self.found = true;
        RoaList {
            table: self.table,
            report: self.report,
            field: "",
        }
        .visit_seq(seq)
    }
}

// ---------------------------------------------------------------- CSV

fn split_csv(line: &str) -> Vec<&str> {
    line.split(',')
        .map(|f| f.trim().trim_matches('"').trim())
        .collect()
}

fn read_csv<R: std::io::BufRead>(
    r: R,
    table: &mut RpkiTable,
    report: &mut LoadReport,
) -> Result<(), LoadError> {
    let source = report.source.clone();
    let mut lines = Lines::new(r);
    // Column indices of ASN, prefix, maxLength.
    let mut cols: Option<(usize, usize, Option<usize>)> = None;
    while let Some((n, line)) = lines.next_line().map_err(|e| LoadError::io(&source, e))? {
        let text = match line {
            Line::Text(t) => t,
            Line::TooLong => {
                report.skip(Location::Line(n), "line too long");
                continue;
            }
        };
        let t = text.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let fields = split_csv(t);
        if cols.is_none() {
            let lower: Vec<String> = fields.iter().map(|f| f.to_ascii_lowercase()).collect();
            let find = |want: &dyn Fn(&str) -> bool| lower.iter().position(|f| want(f));
            let asn = find(&|f| f == "asn" || f == "as" || f == "origin");
            let pfx = find(&|f| f.contains("prefix"));
            let max = find(&|f| f.contains("max"));
            if let (Some(a), Some(p)) = (asn, pfx) {
                cols = Some((a, p, max));
                continue;
            }
            cols = Some((0, 1, Some(2)));
        }
        let Some((a, p, m)) = cols else { continue };
        let (Some(asn), Some(prefix)) = (fields.get(a), fields.get(p)) else {
            report.skip(
                Location::Line(n),
                format!("expected at least {} fields", a.max(p) + 1),
            );
            continue;
        };
        let max = m.and_then(|m| fields.get(m).copied());
        match make_vrp(prefix, max, asn) {
            Ok(v) => {
                if table.insert(v) {
                    report.accepted += 1;
                } else {
                    report.ignored += 1;
                }
            }
            Err(e) => report.skip(Location::Line(n), e),
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::evidence::RovState;
    use std::io::Cursor;

    fn load(text: &str) -> (RpkiTable, LoadReport) {
        let mut t = RpkiTable::new();
        let r = read_vrps(Cursor::new(text.as_bytes().to_vec()), "test", &mut t).unwrap();
        (t, r)
    }

    #[test]
    fn cloudflare_and_rpki_client_json() {
        let (t, r) = load(
            r#"{"metadata":{"generated":1},"roas":[
            {"prefix":"1.0.0.0/24","maxLength":24,"asn":"AS13335","ta":"apnic"},
            {"prefix":"2606:4700::/32","maxLength":48,"asn":13335,"expires":1},
            {"prefix":"bogus","maxLength":24,"asn":1},
            {"prefix":"10.0.0.0/8","maxLength":7,"asn":1},
            {"maxLength":24,"asn":1},
            42,
            {"prefix":"1.0.0.0/24","maxLength":24,"asn":"13335","source":[{"type":"roa"}]}
            ],"aspas":[]}"#,
        );
        assert_eq!(
            (r.accepted, r.skipped, r.ignored),
            (2, 4, 1),
            "{:?}",
            r.problems
        );
        assert_eq!(
            r.problems[0].to_string(),
            "test: roas[2]: bad prefix \"bogus\""
        );
        assert_eq!(
            t.validate(&"1.0.0.0/24".parse().unwrap(), Asn(13335)),
            RovState::Valid
        );
    }

    #[test]
    fn truncated_json_fails_whole() {
        let mut t = RpkiTable::new();
        let e = read_vrps(
            Cursor::new(b"{\"roas\":[{\"prefix\":".to_vec()),
            "x",
            &mut t,
        );
        assert!(e.is_err());
        let e = read_vrps(Cursor::new(b"{\"foo\":1}".to_vec()), "x", &mut t);
        assert!(e.unwrap_err().to_string().contains("no \"roas\""));
    }

    #[test]
    fn routinator_csv_variants() {
        let (t, r) = load(
            "ASN,IP Prefix,Max Length,Trust Anchor\nAS13335,1.0.0.0/24,24,apnic\nAS1,nope,24,x\n",
        );
        assert_eq!((r.accepted, r.skipped), (1, 1));
        assert_eq!(r.problems[0].at, Location::Line(3));
        assert_eq!(t.len(), 1);
        let (_, r) = load(
            "\"ASN\",\"IP Prefix\",\"Max Length\",\"Trust Anchor\"\n\"AS13335\",\"1.0.0.0/24\",\"24\",\"apnic\"\n",
        );
        assert_eq!(r.accepted, 1);
        let (t, r) = load(
            "URI,ASN,IP Prefix,Max Length,Not Before,Not After\nrsync://x/a.roa,AS64500,192.0.2.0/24,24,2024,2025\n",
        );
        assert_eq!(r.accepted, 1);
        assert_eq!(
            t.validate(&"192.0.2.0/24".parse().unwrap(), Asn(64500)),
            RovState::Valid
        );
    }
}

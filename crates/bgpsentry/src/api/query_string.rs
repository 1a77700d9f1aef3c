//! The raw query string, parsed by hand so that nothing is lost: repeated
//! parameters, unknown names (with a "did you mean"), bad percent-encoding
//! and oversized input are all reported, never silently ignored.

use std::collections::BTreeMap;

use super::error::{ApiError, echo};

/// Longest query string accepted, in bytes.
pub const MAX_QUERY_LEN: usize = 4096;

/// Validated parameters: each known name at most once.
#[derive(Debug, Default)]
pub struct Params {
    map: BTreeMap<&'static str, String>,
}

impl Params {
    /// The value of a known parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }
}

/// Parses `query` against the `known` parameter names of an endpoint.
/// `elsewhere` are names another endpoint knows, for a clearer message.
pub fn parse(
    query: Option<&str>,
    known: &[&'static str],
    elsewhere: &[&'static str],
) -> Result<Params, ApiError> {
    let mut params = Params::default();
    let Some(query) = query else {
        return Ok(params);
    };
    if query.len() > MAX_QUERY_LEN {
        return Err(ApiError::param(
            "query",
            format!("the query string is longer than {MAX_QUERY_LEN} bytes"),
        ));
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(raw_name).ok_or_else(|| {
            ApiError::param(
                raw_name,
                format!(
                    "parameter name {:?} is not valid percent-encoded UTF-8",
                    echo(raw_name)
                ),
            )
        })?;
        let Some(known_name) = known.iter().copied().find(|k| *k == name) else {
            return Err(unknown(&name, known, elsewhere));
        };
        let value = decode(raw_value).ok_or_else(|| {
            ApiError::param(
                known_name,
                format!("{known_name}: value is not valid percent-encoded UTF-8"),
            )
        })?;
        if params.map.insert(known_name, value).is_some() {
            return Err(ApiError::param(
                known_name,
                format!("{known_name}: parameter given more than once; give it once"),
            ));
        }
    }
    Ok(params)
}

fn unknown(name: &str, known: &[&str], elsewhere: &[&str]) -> ApiError {
    let shown = echo(name);
    if elsewhere.contains(&name) {
        return ApiError::param(
            name,
            format!("{shown}: parameter is not supported by this endpoint"),
        );
    }
    let message = match suggest(name, known) {
        Some(s) => format!("{shown}: unknown parameter; did you mean {s}?"),
        None => format!(
            "{shown}: unknown parameter; known parameters: {}",
            known.join(", ")
        ),
    };
    ApiError::param(name, message)
}

/// The known name closest to `name`: same letters ignoring case, or within
/// two edits (insertions, deletions, substitutions, adjacent swaps).
pub fn suggest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    if name.chars().count() > 64 {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    if let Some(k) = known.iter().find(|k| k.to_ascii_lowercase() == lower) {
        return Some(k);
    }
    known
        .iter()
        .map(|k| (distance(&lower, &k.to_ascii_lowercase()), *k))
        .filter(|(d, k)| *d <= 2 && *d < k.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Optimal string alignment distance (Damerau-Levenshtein with adjacent
/// transpositions).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a
/// byte; the result must be UTF-8.
pub fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = hex(*bytes.get(i + 1)?)?;
                let lo = hex(*bytes.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let known = [
            "involvedAsn",
            "hijackerAsn",
            "victimAsn",
            "per_page",
            "page",
        ];
        assert_eq!(suggest("invlovedAsn", &known), Some("involvedAsn"));
        assert_eq!(suggest("involvedasn", &known), Some("involvedAsn"));
        assert_eq!(suggest("perpage", &known), Some("per_page"));
        assert_eq!(suggest("zzz", &known), None);
    }

    #[test]
    fn decoding() {
        assert_eq!(decode("1.1.1.0%2F24").as_deref(), Some("1.1.1.0/24"));
        assert_eq!(decode("a+b").as_deref(), Some("a b"));
        assert_eq!(decode("%zz"), None);
        assert_eq!(decode("%"), None);
        assert_eq!(decode("%ff"), None);
    }
}

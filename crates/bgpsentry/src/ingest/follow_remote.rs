//! Remote listings for MRT follow mode: what update files a RouteViews / RIS
//! archive's HTTP index page links to, or what a bgpkit-broker instance
//! knows about. Follow mode (`ingest::follow`) polls one of these instead
//! of a local directory and streams each new file over HTTP.
//!
//! * HTTP index: any autoindex page (Apache, nginx, RouteViews, RIS). The URL
//!   may name the month as `{YYYY}` / `{MM}` (RouteViews:
//!   `http://archive.routeviews.org/bgpdata/{YYYY}.{MM}/UPDATES/`, RIS:
//!   `https://data.ris.ripe.net/rrc00/{YYYY}.{MM}/`); then the current and
//!   the previous month are listed, so the files of a month's last hour are
//!   not missed at midnight. Which month is "current" is the one place
//!   where follow mode reads the wall clock; message time still comes from
//!   the MRT records.
//! * bgpkit-broker: `GET {broker}/search?data_type=updates&ts_start=..&ts_end=..`
//!   (optionally `collector_id=`), the REST API of BGPKIT's public broker
//!   (`https://api.bgpkit.com/v3/broker`) and of a self-hosted one; each
//!   item's `url` and `collector_id` are used.
//!
//! Both are bounded: at most `MAX_LISTING_BYTES` of index or JSON are read.

use std::io::Read;
use std::time::Duration;

use chrono::{Datelike, Utc};
use serde::Deserialize;

/// Largest index page or broker answer read.
pub const MAX_LISTING_BYTES: u64 = 16 << 20;

/// A file to ingest: its URL and, from a broker, its collector.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RemoteFile {
    /// Where to download it.
    pub url: String,
    /// The broker's `collector_id`, if known.
    pub collector: Option<String>,
}

fn client(timeout: Duration) -> Result<reqwest::blocking::Client, String> {
    reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(timeout)
        .user_agent(concat!("bgpsentry/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

fn get_text(url: &str, timeout: Duration) -> Result<String, String> {
    let resp = client(timeout)?
        .get(url)
        .send()
        .map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("{url}: HTTP {}", status.as_u16()));
    }
    let mut body = Vec::new();
    resp.take(MAX_LISTING_BYTES)
        .read_to_end(&mut body)
        .map_err(|e| format!("{url}: {e}"))?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// The URLs a month template stands for: itself without placeholders, else
/// the previous and the current month of `now`.
pub fn index_urls(template: &str, now: chrono::DateTime<Utc>) -> Vec<String> {
    if !template.contains("{YYYY}") && !template.contains("{MM}") {
        return vec![template.to_string()];
    }
    let (y, m) = (now.year(), now.month());
    let prev = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    [prev, (y, m)]
        .iter()
        .map(|(y, m)| {
            template
                .replace("{YYYY}", &format!("{y:04}"))
                .replace("{MM}", &format!("{m:02}"))
        })
        .collect()
}

/// The link targets of an HTML index page whose last path segment passes
/// `keep`, resolved against `base`; sorted, without duplicates.
pub fn links(base: &str, html: &str, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let base_dir = match base.rfind('/') {
        Some(i) if base[..i].contains("://") && i + 1 < base.len() => &base[..=i],
        _ => base,
    };
    let origin_end = base
        .find("://")
        .and_then(|s| base[s + 3..].find('/').map(|i| s + 3 + i))
        .unwrap_or(base.len());
    let mut out = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = lower[at..].find("href=") {
        let start = at + i + 5;
        at = start;
        let rest = &html[start..];
        let (quote, body) = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => (Some(q), &rest[1..]),
            _ => (None, rest),
        };
        let end = match quote {
            Some(q) => body.find(q),
            None => body.find(|c: char| c.is_whitespace() || c == '>'),
        };
        let Some(end) = end else { break };
        let href = &body[..end];
        if href.is_empty() || href.starts_with('?') || href.starts_with('#') {
            continue;
        }
        let name = href
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(href);
        if href.ends_with('/') || !keep(name) {
            continue;
        }
        let url = if href.contains("://") {
            href.to_string()
        } else if href.starts_with('/') {
            format!("{}{href}", &base[..origin_end])
        } else {
            let dir = if base_dir.ends_with('/') {
                base_dir.to_string()
            } else {
                format!("{base_dir}/")
            };
            format!("{dir}{href}")
        };
        out.push(url);
    }
    out.sort();
    out.dedup();
    out
}

/// Lists an HTTP index (template) for update files.
pub fn list_index(
    template: &str,
    keep: &dyn Fn(&str) -> bool,
    timeout: Duration,
) -> Result<Vec<RemoteFile>, String> {
    let urls = index_urls(template, Utc::now());
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for u in &urls {
        match get_text(u, timeout) {
            Ok(html) => out.extend(links(u, &html, keep).into_iter().map(|url| RemoteFile {
                url,
                collector: None,
            })),
            Err(e) => errors.push(e),
        }
    }
    // A month directory that does not exist yet (the 1st, before the first
    // file) is normal; every listing failing is an outage.
    if errors.len() == urls.len() {
        return Err(errors.join("; "));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[derive(Deserialize)]
struct BrokerAnswer {
    #[serde(default)]
    data: Vec<BrokerItem>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct BrokerItem {
    url: String,
    #[serde(default)]
    collector_id: Option<String>,
}

/// Parses a broker search answer.
pub fn parse_broker(json: &str) -> Result<Vec<RemoteFile>, String> {
    let a: BrokerAnswer = serde_json::from_str(json).map_err(|e| format!("broker answer: {e}"))?;
    if let Some(e) = a.error.filter(|e| !e.is_empty()) {
        return Err(format!("broker error: {e}"));
    }
    let mut out: Vec<RemoteFile> = a
        .data
        .into_iter()
        .filter(|i| i.url.starts_with("http://") || i.url.starts_with("https://"))
        .map(|i| RemoteFile {
            url: i.url,
            collector: i.collector_id,
        })
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// Asks a broker for the update files of the last `lookback_secs`.
pub fn list_broker(
    broker: &str,
    collector: Option<&str>,
    lookback_secs: i64,
    timeout: Duration,
) -> Result<Vec<RemoteFile>, String> {
    let now = Utc::now().timestamp();
    let mut url = format!(
        "{}/search?data_type=updates&ts_start={}&ts_end={now}&page=1&page_size=1000",
        broker.trim_end_matches('/'),
        now - lookback_secs.max(0)
    );
    if let Some(c) = collector {
        url.push_str("&collector_id=");
        url.push_str(c);
    }
    parse_broker(&get_text(&url, timeout)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_templates() {
        let t = chrono::DateTime::parse_from_rfc3339("2024-01-15T00:00:00Z")
            .expect("date")
            .with_timezone(&Utc);
        assert_eq!(
            index_urls("http://a/bgpdata/{YYYY}.{MM}/UPDATES/", t),
            vec![
                "http://a/bgpdata/2023.12/UPDATES/".to_string(),
                "http://a/bgpdata/2024.01/UPDATES/".to_string()
            ]
        );
        assert_eq!(
            index_urls("http://a/x/", t),
            vec!["http://a/x/".to_string()]
        );
    }

    #[test]
    fn index_links() {
        let html = r#"<a href="?C=N;O=D">Name</a> <a href="/icons/x.gif">
            <a href="updates.20240101.0000.bz2">u</a> <A HREF='updates.20240101.0015.bz2'>
            <a href="../">Parent</a> <a href="sub/">sub</a> <a href=updates.20240101.0030.bz2>
            <a href="http://mirror/updates.20240101.0045.bz2"> <a href="/abs/updates.x.bz2">
            <a href="bview.20240101.0000.bz2"> <a href="updates.20240101.0000.bz2">dup</a> <a href="unterminated"#;
        let got = links("http://h:8/bgpdata/2024.01/UPDATES/", html, |n| {
            n.starts_with("updates")
        });
        assert_eq!(
            got,
            vec![
                "http://h:8/abs/updates.x.bz2",
                "http://h:8/bgpdata/2024.01/UPDATES/updates.20240101.0000.bz2",
                "http://h:8/bgpdata/2024.01/UPDATES/updates.20240101.0015.bz2",
                "http://h:8/bgpdata/2024.01/UPDATES/updates.20240101.0030.bz2",
                "http://mirror/updates.20240101.0045.bz2",
            ]
        );
        assert!(links("http://h/", "<a href=", |_| true).is_empty());
    }

    #[test]
    fn broker_answers() {
        let ok = r#"{"count":2,"page":1,"page_size":1000,"error":null,"data":[
            {"ts_start":"2024-01-01T00:15:00","collector_id":"rrc00","data_type":"updates","url":"https://data.ris.ripe.net/rrc00/2024.01/updates.20240101.0015.gz"},
            {"ts_start":"2024-01-01T00:00:00","collector_id":"route-views2","data_type":"updates","url":"http://archive.routeviews.org/bgpdata/2024.01/UPDATES/updates.20240101.0000.bz2"},
            {"url":"file:///etc/passwd"}]}"#;
        let v = parse_broker(ok).expect("parses");
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].collector.as_deref(), Some("route-views2"));
        assert!(parse_broker(r#"{"error":"rate limited","data":[]}"#).is_err());
        assert!(parse_broker("<html>").is_err());
    }
}

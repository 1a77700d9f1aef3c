//! The parameters of the two list endpoints and their translation into
//! store queries. Names, types and values are Radar's; the few extensions
//! (`prefixMatch`, `minId`, `maxId`) are documented in `docs/api.md`.

use bgpsentry_core::model::Timestamp;

use super::error::ApiError;
use super::query_string::Params;
use super::values::{asn, choice, country, date, date_range, int, prefix};
use crate::store::{
    Common, HijackQuery, HijackSort, LeakQuery, LeakSort, PrefixFilter, PrefixMatch, SortDir,
};

/// Default `per_page`.
pub const DEFAULT_PER_PAGE: u32 = 100;
/// Largest `per_page`.
pub const MAX_PER_PAGE: u32 = 1000;
/// Largest `page`.
pub const MAX_PAGE: u32 = 1_000_000;
/// Confidence bounds accepted by `minConfidence` / `maxConfidence`.
pub const CONFIDENCE_RANGE: (i64, i64) = (-100, 100);

/// Parameters of `GET /client/v4/radar/bgp/hijacks/events`.
pub const HIJACK_PARAMS: &[&str] = &[
    "page",
    "per_page",
    "eventId",
    "hijackerAsn",
    "victimAsn",
    "involvedAsn",
    "involvedCountry",
    "prefix",
    "minConfidence",
    "maxConfidence",
    "dateRange",
    "dateStart",
    "dateEnd",
    "sortBy",
    "sortOrder",
    "format",
    "prefixMatch",
    "minId",
    "maxId",
];

/// Parameters of `GET /client/v4/radar/bgp/leaks/events`.
pub const LEAK_PARAMS: &[&str] = &[
    "page",
    "per_page",
    "eventId",
    "leakAsn",
    "involvedAsn",
    "involvedCountry",
    "dateRange",
    "dateStart",
    "dateEnd",
    "sortBy",
    "sortOrder",
    "format",
    "minId",
    "maxId",
];

const HIJACK_SORTS: &[&str] = &["ID", "TIME", "CONFIDENCE"];
const LEAK_SORTS: &[&str] = &["ID", "LEAKS", "PEERS", "PREFIXES", "ORIGINS", "TIME"];
const PREFIX_MATCHES: &[&str] = &["exact", "covering", "more-specific", "any"];

/// Response format.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// Radar's JSON envelope.
    Json,
    /// CSV with a header row.
    Csv,
}

/// Parses the hijack endpoint's parameters.
pub fn hijack_query(p: &Params, now: Timestamp) -> Result<(HijackQuery, Format), ApiError> {
    let (mut common, format) = common(p, now)?;
    if let Some(v) = p.get("prefix") {
        let net = prefix("prefix", v)?;
        let mode = match p.get("prefixMatch") {
            None => PrefixMatch::Exact,
            Some(v) => [
                PrefixMatch::Exact,
                PrefixMatch::Covering,
                PrefixMatch::MoreSpecific,
                PrefixMatch::Any,
            ][choice("prefixMatch", v, PREFIX_MATCHES)?],
        };
        common.prefix = Some(PrefixFilter { net, mode });
    } else if p.get("prefixMatch").is_some() {
        return Err(ApiError::param(
            "prefixMatch",
            "prefixMatch: only meaningful together with prefix",
        ));
    }
    let (lo, hi) = CONFIDENCE_RANGE;
    let min_confidence = p
        .get("minConfidence")
        .map(|v| int("minConfidence", v, lo, hi))
        .transpose()?;
    let max_confidence = p
        .get("maxConfidence")
        .map(|v| int("maxConfidence", v, lo, hi))
        .transpose()?;
    if let (Some(a), Some(b)) = (min_confidence, max_confidence)
        && a > b
    {
        return Err(ApiError::param(
            "maxConfidence",
            format!("maxConfidence: {b} is below minConfidence {a}"),
        ));
    }
    let sort = match p.get("sortBy") {
        None => HijackSort::Id,
        Some(v) => [HijackSort::Id, HijackSort::Time, HijackSort::Confidence]
            [choice("sortBy", v, HIJACK_SORTS)?],
    };
    let q = HijackQuery {
        common,
        hijacker: p
            .get("hijackerAsn")
            .map(|v| asn("hijackerAsn", v))
            .transpose()?,
        victim: p
            .get("victimAsn")
            .map(|v| asn("victimAsn", v))
            .transpose()?,
        min_confidence: min_confidence.map(|c| c as i32),
        max_confidence: max_confidence.map(|c| c as i32),
        sort,
    };
    Ok((q, format))
}

/// Parses the leak endpoint's parameters.
pub fn leak_query(p: &Params, now: Timestamp) -> Result<(LeakQuery, Format), ApiError> {
    let (common, format) = common(p, now)?;
    let sort = match p.get("sortBy") {
        None => LeakSort::Id,
        Some(v) => [
            LeakSort::Id,
            LeakSort::Leaks,
            LeakSort::Peers,
            LeakSort::Prefixes,
            LeakSort::Origins,
            LeakSort::Time,
        ][choice("sortBy", v, LEAK_SORTS)?],
    };
    let q = LeakQuery {
        common,
        leaker: p.get("leakAsn").map(|v| asn("leakAsn", v)).transpose()?,
        sort,
    };
    Ok((q, format))
}

fn common(p: &Params, now: Timestamp) -> Result<(Common, Format), ApiError> {
    let id = |name: &str| p.get(name).map(|v| int(name, v, 1, i64::MAX)).transpose();
    let mut c = Common {
        event_id: id("eventId")?,
        min_id: id("minId")?,
        max_id: id("maxId")?,
        involved: p
            .get("involvedAsn")
            .map(|v| asn("involvedAsn", v))
            .transpose()?,
        country: p
            .get("involvedCountry")
            .map(|v| country("involvedCountry", v))
            .transpose()?,
        page: match p.get("page") {
            None => 1,
            Some(v) => int("page", v, 1, i64::from(MAX_PAGE))? as u32,
        },
        per_page: match p.get("per_page") {
            None => DEFAULT_PER_PAGE,
            Some(v) => int("per_page", v, 1, i64::from(MAX_PER_PAGE))? as u32,
        },
        dir: match p.get("sortOrder") {
            None => SortDir::Desc,
            Some(v) => [SortDir::Asc, SortDir::Desc][choice("sortOrder", v, &["ASC", "DESC"])?],
        },
        ..Common::default()
    };
    if let Some(v) = p.get("dateRange") {
        if let Some(other) = ["dateStart", "dateEnd"]
            .into_iter()
            .find(|n| p.get(n).is_some())
        {
            return Err(ApiError::param(
                "dateRange",
                format!("dateRange: give either dateRange or {other}, not both"),
            ));
        }
        let (a, b) = date_range("dateRange", v, now)?;
        c.start = Some(a);
        c.end = Some(b);
    }
    if let Some(v) = p.get("dateStart") {
        c.start = Some(date("dateStart", v)?.0);
    }
    if let Some(v) = p.get("dateEnd") {
        let end = date("dateEnd", v)?.1;
        if let Some(start) = c.start
            && end < start
        {
            return Err(ApiError::param("dateEnd", "dateEnd: is before dateStart"));
        }
        c.end = Some(end);
    }
    if let (Some(a), Some(b)) = (c.min_id, c.max_id)
        && a > b
    {
        return Err(ApiError::param(
            "maxId",
            format!("maxId: {b} is below minId {a}"),
        ));
    }
    let format = match p.get("format") {
        None => Format::Json,
        Some(v) => [Format::Json, Format::Csv][choice("format", v, &["JSON", "CSV"])?],
    };
    Ok((c, format))
}

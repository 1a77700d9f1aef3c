//! The dashboard's own JSON endpoints, for what the Radar-compatible API
//! does not answer:
//!
//! * `GET /dashboard/api/{hijacks,leaks}/events`: the Radar list with every
//!   Radar parameter plus `state=ongoing|finished` (Radar has no such
//!   filter), in Radar's envelope;
//! * `GET /dashboard/api/overview[?days=N]`: events per day, ongoing counts,
//!   top hijackers and leakers, `total_monitors` and the live sources'
//!   health;
//! * `GET /dashboard/api/{hijacks,leaks}/events/{id}/timeline`: the event's
//!   stored history bucketed per minute: changes, announcements counted
//!   between reports, collector peers, prefixes still carried.
//!
//! All of it is read-only SQL over the store's tables (schema v2 added the
//! two `event_changes` counters the timeline uses), with parameters, never
//! formatted values. Times come from the stored message timestamps, so a
//! replay gives the same answers.

use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock};

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use bgpsentry_core::model::Timestamp;
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params, params_from_iter};
use serde::Serialize;
use serde_json::json;

use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::filters::{self, Format, HIJACK_PARAMS, LEAK_PARAMS};
use crate::api::query_string::{self, Params};
use crate::api::render;
use crate::api::values;
use crate::store::{AsnInfo, Page, Reader, Result as StoreResult};

/// `event_changes.kind` of hijacks (as the store writes it).
const KIND_HIJACK: i64 = 0;
/// `event_changes.kind` of leaks.
const KIND_LEAK: i64 = 1;
/// Most timeline buckets returned; longer events get wider buckets.
pub const MAX_BUCKETS: i64 = 1440;
/// Most days in the per-day series.
pub const MAX_DAYS: i64 = 366;
/// Entries in the top-ASN lists.
pub const TOP_N: i64 = 10;

const MINUTE_US: i64 = 60_000_000;
const DAY_US: i64 = 86_400_000_000;

static HIJACK_LIST_PARAMS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| with_state(HIJACK_PARAMS));
static LEAK_LIST_PARAMS: LazyLock<Vec<&'static str>> = LazyLock::new(|| with_state(LEAK_PARAMS));

fn with_state(names: &[&'static str]) -> Vec<&'static str> {
    let mut v = names.to_vec();
    v.push("state");
    v
}

/// `state`: `Some(false)` ongoing only, `Some(true)` finished only.
fn state_filter(p: &Params) -> Result<Option<bool>, ApiError> {
    match p.get("state") {
        None => Ok(None),
        Some(v) => Ok(
            match values::choice("state", v, &["ALL", "ONGOING", "FINISHED"])? {
                1 => Some(false),
                2 => Some(true),
                _ => None,
            },
        ),
    }
}

fn json_only(format: Format) -> Result<(), ApiError> {
    match format {
        Format::Json => Ok(()),
        Format::Csv => Err(ApiError::param(
            "format",
            "format: the dashboard endpoints answer JSON only; use the Radar endpoint for CSV",
        )),
    }
}

/// A page of events: the store's own WHERE/ORDER for the Radar filters,
/// plus the `finished` condition.
struct ListSql {
    count: (String, Vec<Value>),
    page: (String, Vec<Value>),
}

fn run_list(
    r: &Reader,
    sql: ListSql,
    docs: &str,
    page: u32,
    per_page: u32,
    asns_of: fn(&serde_json::Value, &mut Vec<u32>),
) -> StoreResult<Page> {
    let conn = r.connection();
    let total: i64 = conn
        .prepare_cached(&sql.count.0)?
        .query_row(params_from_iter(sql.count.1.iter()), |row| row.get(0))?;
    let (page_sql, mut params) = sql.page;
    params.push(Value::Integer(i64::from(per_page)));
    params.push(Value::Integer(
        i64::from(page.saturating_sub(1)) * i64::from(per_page),
    ));
    let ids: Vec<i64> = {
        let mut st = conn.prepare_cached(&format!("{page_sql} LIMIT ? OFFSET ?"))?;
        let rows = st.query_map(params_from_iter(params.iter()), |row| row.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut out = Page {
        total_count: total.max(0) as u64,
        ..Page::default()
    };
    let mut st = conn.prepare_cached(&format!("SELECT list_json FROM {docs} WHERE id = ?1"))?;
    let mut asns = Vec::new();
    for id in ids {
        if let Some(doc) = st
            .query_row(params![id], |row| row.get::<_, String>(0))
            .optional()?
        {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&doc) {
                asns_of(&v, &mut asns);
            }
            out.docs.push(doc);
        }
    }
    out.asn_info = r.asn_info(&asns)?;
    Ok(out)
}

fn push_asn(v: Option<&serde_json::Value>, out: &mut Vec<u32>) {
    if let Some(a) = v
        .and_then(serde_json::Value::as_u64)
        .and_then(|a| u32::try_from(a).ok())
        && !out.contains(&a)
    {
        out.push(a);
    }
}

fn hijack_asns(v: &serde_json::Value, out: &mut Vec<u32>) {
    push_asn(v.get("hijacker_asn"), out);
    if let Some(list) = v.get("victim_asns").and_then(serde_json::Value::as_array) {
        for a in list {
            push_asn(Some(a), out);
        }
    }
}

fn leak_asns(v: &serde_json::Value, out: &mut Vec<u32>) {
    push_asn(v.get("leak_asn"), out);
    if let Some(list) = v.get("leak_seg").and_then(serde_json::Value::as_array) {
        for a in list {
            push_asn(Some(a), out);
        }
    }
}

/// `GET /dashboard/api/hijacks/events`: Radar's hijack list plus `state`.
pub async fn list_hijacks(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let params = query_string::parse(q.as_deref(), &HIJACK_LIST_PARAMS, &LEAK_LIST_PARAMS)?;
    let finished = state_filter(&params)?;
    let (query, format) = filters::hijack_query(&params, st.now())?;
    json_only(format)?;
    let (page_no, per_page) = (query.common.page, query.common.per_page);
    let (page, monitors) = st
        .read(move |r| {
            let mut sql = query.to_sql();
            if let Some(f) = finished {
                sql.conds
                    .push(("e.finished = ?".into(), vec![Value::Integer(i64::from(f))]));
            }
            let list = ListSql {
                count: sql.count_query("hijacks"),
                page: sql.page_query("hijacks", &query.order_by(), query.by_id()),
            };
            let page = run_list(r, list, "hijack_docs", page_no, per_page, hijack_asns)?;
            Ok((page, r.total_monitors()?))
        })
        .await?;
    render::json_page(&page, page_no, per_page, Some(monitors))
}

/// `GET /dashboard/api/leaks/events`: Radar's leak list plus `state`.
pub async fn list_leaks(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let params = query_string::parse(q.as_deref(), &LEAK_LIST_PARAMS, &HIJACK_LIST_PARAMS)?;
    let finished = state_filter(&params)?;
    let (query, format) = filters::leak_query(&params, st.now())?;
    json_only(format)?;
    let (page_no, per_page) = (query.common.page, query.common.per_page);
    let page = st
        .read(move |r| {
            let mut sql = query.to_sql();
            if let Some(f) = finished {
                sql.conds
                    .push(("e.finished = ?".into(), vec![Value::Integer(i64::from(f))]));
            }
            let list = ListSql {
                count: sql.count_query("leaks"),
                page: sql.page_query("leaks", &query.order_by(), query.by_id()),
            };
            run_list(r, list, "leak_docs", page_no, per_page, leak_asns)
        })
        .await?;
    render::json_page(&page, page_no, per_page, None)
}

/// Events that started on one UTC day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DayCount {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Hijacks that started that day.
    pub hijacks: u64,
    /// Leaks that started that day.
    pub leaks: u64,
}

/// One AS of a top list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TopAsn {
    /// The ASN.
    pub asn: u32,
    /// Events it is the hijacker (leaker) of.
    pub events: u64,
    /// Of which ongoing.
    pub ongoing: u64,
    /// From `asn_info`; empty when unknown.
    pub country_code: String,
    /// From `asn_info`; empty when unknown.
    pub org_name: String,
}

/// What the overview shows, from the store.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StoreOverview {
    /// Hijack events stored.
    pub hijacks: u64,
    /// Of which ongoing.
    pub hijacks_ongoing: u64,
    /// Leak events stored.
    pub leaks: u64,
    /// Of which ongoing.
    pub leaks_ongoing: u64,
    /// Collector peers the detectors listen to.
    pub total_monitors: u32,
    /// Events per day (by start), oldest first, ending on the day of the
    /// latest event start.
    pub per_day: Vec<DayCount>,
    /// Most frequent hijackers among the events of the window.
    pub top_hijackers: Vec<TopAsn>,
    /// Most frequent leakers among the events of the window.
    pub top_leakers: Vec<TopAsn>,
    /// Start of the most recent event (Radar millisecond format).
    pub latest_event_ts: Option<String>,
}

/// The overview's store part: totals, and per-day counts and top ASes over
/// the last `days` days that end on the day of the most recent event start
/// (so a replay of old data shows its own days, not an empty "last 30
/// days").
pub fn store_overview(r: &Reader, days: i64) -> StoreResult<StoreOverview> {
    let c = r.counts()?;
    let conn = r.connection();
    let latest: Option<i64> = conn.query_row(
        "SELECT max(m) FROM (SELECT max(min_ts) AS m FROM hijacks UNION ALL SELECT max(min_ts) FROM leaks)",
        [],
        |row| row.get(0),
    )?;
    let mut per_day = Vec::new();
    let mut since = i64::MIN;
    if let Some(latest) = latest {
        let last_day = latest.div_euclid(DAY_US);
        let first_day = last_day - days.clamp(1, MAX_DAYS) + 1;
        since = first_day * DAY_US;
        let mut counts = vec![(0u64, 0u64); (last_day - first_day + 1) as usize];
        for (i, table) in ["hijacks", "leaks"].into_iter().enumerate() {
            let mut st = conn.prepare_cached(&format!(
                "SELECT (min_ts - ?1) / ?2 AS d, count(*) FROM {table}
                 WHERE min_ts >= ?1 GROUP BY d"
            ))?;
            let rows = st.query_map(params![first_day * DAY_US, DAY_US], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
            })?;
            for row in rows {
                let (d, n) = row?;
                if let Some(slot) = usize::try_from(d).ok().and_then(|d| counts.get_mut(d)) {
                    let n = n.max(0) as u64;
                    if i == 0 {
                        slot.0 = n;
                    } else {
                        slot.1 = n;
                    }
                }
            }
        }
        per_day = counts
            .into_iter()
            .enumerate()
            .map(|(i, (h, l))| DayCount {
                day: day_label(first_day + i as i64),
                hijacks: h,
                leaks: l,
            })
            .collect();
    }
    Ok(StoreOverview {
        hijacks: c.hijacks,
        hijacks_ongoing: c.hijacks_ongoing,
        leaks: c.leaks,
        leaks_ongoing: c.leaks_ongoing,
        total_monitors: r.total_monitors()?,
        per_day,
        top_hijackers: top(r, "hijacks", "hijacker_asn", since)?,
        top_leakers: top(r, "leaks", "leak_asn", since)?,
        latest_event_ts: latest.map(|t| Timestamp(t).to_radar_millis()),
    })
}

fn day_label(day: i64) -> String {
    Timestamp(day * DAY_US)
        .to_radar_millis()
        .get(..10)
        .unwrap_or_default()
        .to_string()
}

/// The ASes with the most events of `table` that started at or after
/// `since` (the overview's window, so the cost stays bounded). The time
/// index is forced: left alone, SQLite scans the whole ASN index instead
/// (2.8 s instead of 0.09 s for 30 days of the 1M-event bench store).
fn top(r: &Reader, table: &str, col: &str, since: i64) -> StoreResult<Vec<TopAsn>> {
    let rows: Vec<(i64, i64, i64)> = {
        let mut st = r.connection().prepare_cached(&format!(
            "SELECT {col}, count(*) AS n, sum(finished = 0) FROM {table}
             INDEXED BY {table}_time WHERE min_ts >= ?2
             GROUP BY {col} ORDER BY n DESC, {col} ASC LIMIT ?1"
        ))?;
        let it = st.query_map(params![TOP_N, since], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
        it.collect::<rusqlite::Result<_>>()?
    };
    let asns: Vec<u32> = rows
        .iter()
        .map(|(a, _, _)| u32::try_from(*a).unwrap_or(0))
        .collect();
    let info = r.asn_info(&asns)?;
    Ok(rows
        .into_iter()
        .zip(info)
        .map(
            |(
                (_, n, ongoing),
                AsnInfo {
                    asn,
                    country_code,
                    org_name,
                },
            )| TopAsn {
                asn,
                events: n.max(0) as u64,
                ongoing: ongoing.max(0) as u64,
                country_code,
                org_name,
            },
        )
        .collect())
}

/// `GET /dashboard/api/overview[?days=N]` (default 30, at most 366).
pub async fn overview(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let params = query_string::parse(q.as_deref(), &["days"], &[])?;
    let days = match params.get("days") {
        None => 30,
        Some(v) => values::int("days", v, 1, MAX_DAYS)?,
    };
    let store = st.read(move |r| store_overview(r, days)).await?;
    let sources = st.sources.lock().map(|s| s.clone()).unwrap_or_default();
    let now = crate::ingest::health::now_ts();
    let sources: Vec<serde_json::Value> = sources
        .iter()
        .map(|s| {
            let last_ts = s.last_message_ts.load(Ordering::Relaxed);
            json!({
                "name": s.name(),
                "type": s.kind(),
                "blind": s.is_blind(now),
                "silent_secs": s.silent_for(now).as_secs(),
                "messages": s.messages.load(Ordering::Relaxed),
                "announced": s.announced.load(Ordering::Relaxed),
                "withdrawn": s.withdrawn.load(Ordering::Relaxed),
                "peers_up": s.peers_up.load(Ordering::Relaxed),
                "connections": s.connections.load(Ordering::Relaxed),
                "reconnects": s.reconnects.load(Ordering::Relaxed),
                "errors": s.errors.load(Ordering::Relaxed),
                "last_message_ts": (last_ts != 0).then(|| Timestamp(last_ts).to_radar_millis()),
            })
        })
        .collect();
    let mut v = serde_json::to_value(&store).map_err(|e| ApiError::Internal(e.to_string()))?;
    v["sources"] = serde_json::Value::Array(sources);
    Ok(axum::response::IntoResponse::into_response(
        render::json_result(v),
    ))
}

/// One timeline bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Bucket {
    /// Bucket start (Radar millisecond format, UTC).
    pub ts: String,
    /// Changes reported in the bucket (opened, grown, confidence, ended).
    pub changes: u64,
    /// Hijack (leak) announcements counted since the previous reported
    /// change, placed in the bucket of the change that reported them;
    /// absent for history written before schema v2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub announcements: Option<u64>,
    /// Prefixes still carried by some collector peer at the end of the
    /// bucket (hijacks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ongoing: Option<i64>,
    /// Collector peers that had carried the event by the end of the bucket.
    pub peers: i64,
    /// Prefixes in the event by the end of the bucket.
    pub prefixes: i64,
    /// Confidence at the end of the bucket (hijacks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<i32>,
    /// The event ended in this bucket.
    pub ended: bool,
}

/// A stored change, as the timeline needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangeRow {
    /// Message time, microseconds.
    pub ts: i64,
    /// Confidence after it (hijacks).
    pub confidence: Option<i32>,
    /// Prefixes after it.
    pub prefixes: i64,
    /// Peers after it.
    pub peers: i64,
    /// Announcements counted up to it (`hijack_msgs_count`, `leak_count`).
    pub msgs: Option<i64>,
    /// Prefixes still carried after it (hijacks).
    pub ongoing: Option<i64>,
    /// It ended the event.
    pub ended: bool,
}

/// Buckets `changes` (oldest first) into dense per-minute buckets from the
/// first change to the last, widened to whole minutes so that there are at
/// most [`MAX_BUCKETS`]. Returns the bucket width in seconds and the
/// buckets; counters carry forward through empty buckets.
pub fn bucketize(changes: &[ChangeRow]) -> (i64, Vec<Bucket>) {
    let (Some(first), Some(last)) = (changes.first(), changes.last()) else {
        return (60, Vec::new());
    };
    let start = first.ts.div_euclid(MINUTE_US) * MINUTE_US;
    let minutes = (last.ts.max(first.ts) - start) / MINUTE_US + 1;
    let per = (minutes + MAX_BUCKETS - 1) / MAX_BUCKETS;
    let width = per.max(1) * MINUTE_US;
    let n = ((last.ts.max(first.ts) - start) / width + 1) as usize;
    let mut out: Vec<Bucket> = (0..n)
        .map(|i| Bucket {
            ts: Timestamp(start + i as i64 * width).to_radar_millis(),
            changes: 0,
            announcements: None,
            ongoing: None,
            peers: 0,
            prefixes: 0,
            confidence: None,
            ended: false,
        })
        .collect();
    let mut counted = 0i64;
    let with_msgs = changes.iter().any(|c| c.msgs.is_some());
    for c in changes {
        let i = ((c.ts.max(start) - start) / width) as usize;
        if let Some(b) = out.get_mut(i) {
            b.changes += 1;
            if let Some(m) = c.msgs {
                let new = m.saturating_sub(counted).max(0) as u64;
                counted = counted.max(m);
                b.announcements = Some(b.announcements.unwrap_or(0) + new);
            }
            b.ongoing = c.ongoing.or(b.ongoing);
            b.peers = b.peers.max(c.peers);
            b.prefixes = b.prefixes.max(c.prefixes);
            b.confidence = c.confidence.or(b.confidence);
            b.ended |= c.ended;
        }
    }
    let (mut peers, mut prefixes, mut confidence, mut ongoing) = (0, 0, None, None);
    for b in &mut out {
        if b.changes > 0 {
            peers = b.peers.max(peers);
            prefixes = b.prefixes.max(prefixes);
            confidence = b.confidence.or(confidence);
            ongoing = b.ongoing.or(ongoing);
        }
        b.peers = peers;
        b.prefixes = prefixes;
        b.confidence = confidence;
        b.ongoing = ongoing;
        if with_msgs && b.announcements.is_none() {
            b.announcements = Some(0);
        }
    }
    (width / 1_000_000, out)
}

/// `GET /dashboard/api/{hijacks|leaks}/events/{id}/timeline`.
pub async fn timeline(
    State(st): State<Arc<AppState>>,
    Path((kind, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    query_string::parse(q.as_deref(), &[], &[])?;
    let (code, table) = match kind.as_str() {
        "hijacks" => (KIND_HIJACK, "hijacks"),
        "leaks" => (KIND_LEAK, "leaks"),
        _ => {
            return Err(ApiError::NotFound(format!(
                "no such path: /dashboard/api/{}/events/…",
                crate::api::error::echo(&kind)
            )));
        }
    };
    let id = values::int("id", &id, 1, i64::MAX)?;
    let rows = st
        .read(move |r| {
            let conn = r.connection();
            let exists: Option<i64> = conn
                .prepare_cached(&format!("SELECT id FROM {table} WHERE id = ?1"))?
                .query_row(params![id], |row| row.get(0))
                .optional()?;
            if exists.is_none() {
                return Ok(None);
            }
            let mut st = conn.prepare_cached(
                "SELECT ts, confidence, prefix_count, peer_count, change, msgs, ongoing
                 FROM event_changes WHERE kind = ?1 AND event_id = ?2 ORDER BY seq",
            )?;
            let rows = st.query_map(params![code, id], |row| {
                Ok(ChangeRow {
                    ts: row.get(0)?,
                    confidence: row.get(1)?,
                    prefixes: row.get(2)?,
                    peers: row.get(3)?,
                    ended: row.get::<_, String>(4)? == "ended",
                    msgs: row.get(5)?,
                    ongoing: row.get(6)?,
                })
            })?;
            Ok(Some(rows.collect::<rusqlite::Result<Vec<_>>>()?))
        })
        .await?;
    let rows = rows.ok_or_else(|| ApiError::NotFound(format!("no {kind} event with id {id}")))?;
    let (bucket_secs, buckets) = bucketize(&rows);
    Ok(axum::response::IntoResponse::into_response(
        render::json_result(json!({
            "kind": kind,
            "id": id,
            "bucket_secs": bucket_secs,
            "buckets": buckets,
        })),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(secs: i64, peers: i64) -> ChangeRow {
        ChangeRow {
            ts: secs * 1_000_000,
            confidence: Some(4),
            prefixes: 1,
            peers,
            msgs: Some(peers * 10),
            ongoing: Some(1),
            ended: false,
        }
    }

    #[test]
    fn buckets_are_dense_per_minute_and_carry_forward() {
        let (w, b) = bucketize(&[row(119, 2), row(125, 5), row(300, 6)]);
        assert_eq!(w, 60);
        assert_eq!(b.len(), 5);
        assert_eq!(b[0].ts, "1970-01-01T00:01:00.000");
        assert_eq!((b[0].changes, b[0].peers), (1, 2));
        assert_eq!((b[1].changes, b[1].peers), (1, 5));
        assert_eq!((b[2].changes, b[2].peers), (0, 5));
        assert_eq!((b[4].changes, b[4].peers), (1, 6));
        // msgs 20, 50, 60: announcements counted since the previous change
        let ann: Vec<_> = b.iter().map(|b| b.announcements).collect();
        assert_eq!(ann, [Some(20), Some(30), Some(0), Some(0), Some(10)]);
        assert_eq!(b[2].ongoing, Some(1));
    }

    #[test]
    fn long_events_get_wider_buckets() {
        let (w, b) = bucketize(&[row(0, 1), row(10 * 86_400, 3)]);
        assert!(b.len() as i64 <= MAX_BUCKETS, "{}", b.len());
        assert_eq!(w % 60, 0);
        assert_eq!(b.last().map(|b| b.peers), Some(3));
        assert!(bucketize(&[]).1.is_empty());
    }
}

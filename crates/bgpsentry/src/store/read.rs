//! The read side: list pages, event details with history, `asn_info`,
//! settings and counts. A [`Reader`] is one read-only connection.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

use bgpsentry_core::model::{HijackEvent, LeakEvent, Timestamp};
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params, params_from_iter};
use serde::Serialize;

use super::error::Result;
use super::query::{HijackQuery, LeakQuery, SortDir, Sql};
use super::rows::{
    HijackExtra, KIND_HIJACK, KIND_LEAK, LeakExtra, ROLE_HIJACKER, ROLE_LEAKER, ROLE_SEGMENT,
    ROLE_VICTIM, sql_id,
};
use super::schema;
use super::write::META_TOTAL_MONITORS;

/// One `asn_info` entry, exactly Radar's shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AsnInfo {
    /// The ASN.
    pub asn: u32,
    /// Alpha-2 country code; empty when unknown.
    pub country_code: String,
    /// Organisation name; empty when unknown.
    pub org_name: String,
}

/// One page of a list query.
#[derive(Clone, Debug, Default)]
pub struct Page {
    /// Events matching the filters (all pages).
    pub total_count: u64,
    /// The events of this page as stored JSON documents, in order.
    pub docs: Vec<String>,
    /// `asn_info` for the ASNs of this page's events.
    pub asn_info: Vec<AsnInfo>,
}

/// One entry of an event's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChangeRecord {
    /// Message time of the change (Radar millisecond format).
    pub ts: String,
    /// `opened`, `grown`, `confidence_changed` or `ended`.
    pub change: String,
    /// Confidence after the change (hijacks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence_score: Option<i32>,
    /// Prefixes after the change.
    pub prefix_count: i64,
    /// Collector peers after the change.
    pub peer_count: i64,
    /// Finished after the change.
    pub finished: bool,
}

/// An event with its history.
#[derive(Clone, Debug)]
pub struct Detail<E> {
    /// The latest state, extras included.
    pub event: E,
    /// Every change, oldest first.
    pub changes: Vec<ChangeRecord>,
    /// `asn_info` for the event's ASNs.
    pub asn_info: Vec<AsnInfo>,
}

/// Sizes for `/metrics` and `/healthz`.
#[derive(Copy, Clone, Debug, Default, Serialize)]
pub struct Counts {
    /// Hijack events stored.
    pub hijacks: u64,
    /// Of which not finished.
    pub hijacks_ongoing: u64,
    /// Leak events stored.
    pub leaks: u64,
    /// Of which not finished.
    pub leaks_ongoing: u64,
    /// Changes stored.
    pub changes: u64,
}

/// A read-only connection to the store.
pub struct Reader {
    conn: Connection,
    counts: RefCell<CountCache>,
    cache_counts: bool,
}

/// `total_count`s of recent queries, valid while `PRAGMA data_version`
/// (which changes whenever another connection commits) stays the same.
#[derive(Default)]
struct CountCache {
    version: i64,
    map: HashMap<String, i64>,
}

/// Entries kept before the cache starts over.
const COUNT_CACHE_MAX: usize = 1024;

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reader")
    }
}

impl Reader {
    /// Opens a reader on an existing store (the writer must have created
    /// and migrated it).
    pub fn open(path: impl AsRef<Path>) -> Result<Reader> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags)?;
        schema::configure(&conn)?;
        conn.pragma_update(None, "query_only", "ON")?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Reader {
            conn,
            counts: RefCell::default(),
            cache_counts: true,
        })
    }

    /// Turns the `total_count` cache on (the default) or off (to measure
    /// worst-case latency).
    pub fn set_count_cache(&mut self, on: bool) {
        self.cache_counts = on;
    }

    fn count(&self, sql: &str, params: &[Value]) -> Result<i64> {
        let run = || -> Result<i64> {
            Ok(self
                .conn
                .prepare_cached(sql)?
                .query_row(params_from_iter(params.iter()), |r| r.get(0))?)
        };
        if !self.cache_counts {
            return run();
        }
        let version: i64 = self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?;
        let key = format!("{sql}\u{0}{params:?}");
        if let Ok(mut c) = self.counts.try_borrow_mut() {
            if c.version != version {
                c.map.clear();
                c.version = version;
            }
            if let Some(n) = c.map.get(&key) {
                return Ok(*n);
            }
        }
        let n = run()?;
        if let Ok(mut c) = self.counts.try_borrow_mut() {
            if c.map.len() >= COUNT_CACHE_MAX {
                c.map.clear();
            }
            c.map.insert(key, n);
        }
        Ok(n)
    }

    /// The connection, for diagnostics.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// A page of hijack events.
    pub fn list_hijacks(&self, q: &HijackQuery) -> Result<Page> {
        let sql = q.to_sql();
        let c = &q.common;
        self.list(
            "hijacks",
            "hijack_docs",
            KIND_HIJACK,
            &sql,
            &q.order_by(),
            q.by_id(),
            c.page,
            c.per_page,
        )
    }

    /// A page of leak events.
    pub fn list_leaks(&self, q: &LeakQuery) -> Result<Page> {
        let sql = q.to_sql();
        let c = &q.common;
        self.list(
            "leaks",
            "leak_docs",
            KIND_LEAK,
            &sql,
            &q.order_by(),
            q.by_id(),
            c.page,
            c.per_page,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn list(
        &self,
        table: &str,
        docs: &str,
        kind: i64,
        sql: &Sql,
        order: &str,
        by_id: Option<SortDir>,
        page: u32,
        per_page: u32,
    ) -> Result<Page> {
        let (count_sql, count_params) = sql.count_query(table);
        let total = self.count(&count_sql, &count_params)?;
        let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
        let (page_sql, mut params) = sql.page_query(table, order, by_id);
        params.push(Value::Integer(i64::from(per_page)));
        params.push(Value::Integer(offset));
        let ids: Vec<i64> = {
            let mut st = self
                .conn
                .prepare_cached(&format!("{page_sql} LIMIT ? OFFSET ?"))?;
            let rows = st.query_map(params_from_iter(params.iter()), |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut out = Page {
            total_count: total.max(0) as u64,
            ..Page::default()
        };
        let mut doc_st = self
            .conn
            .prepare_cached(&format!("SELECT list_json FROM {docs} WHERE id = ?1"))?;
        let mut asns = Vec::new();
        for id in &ids {
            if let Some(doc) = doc_st
                .query_row(params![id], |r| r.get::<_, String>(0))
                .optional()?
            {
                out.docs.push(doc);
            }
            self.event_asns(kind, *id, &mut asns)?;
        }
        out.asn_info = self.asn_info(&asns)?;
        Ok(out)
    }

    /// Appends the displayed ASNs of an event (hijacker and victims, or the
    /// leak segment), without duplicates.
    fn event_asns(&self, kind: i64, id: i64, out: &mut Vec<u32>) -> Result<()> {
        let mask = if kind == KIND_HIJACK {
            ROLE_HIJACKER | ROLE_VICTIM
        } else {
            ROLE_LEAKER | ROLE_SEGMENT
        };
        let mut st = self.conn.prepare_cached(
            "SELECT asn FROM event_asns INDEXED BY event_asns_event
             WHERE kind = ?1 AND event_id = ?2 AND role & ?3 != 0 ORDER BY role & ?3, asn",
        )?;
        let rows = st.query_map(params![kind, id, mask], |r| r.get::<_, i64>(0))?;
        for asn in rows {
            let asn = u32::try_from(asn?).unwrap_or(0);
            if !out.contains(&asn) {
                out.push(asn);
            }
        }
        Ok(())
    }

    /// `asn_info` for these ASNs, in the order given; unknown ASNs get
    /// empty strings so that every event's ASNs are listed.
    pub fn asn_info(&self, asns: &[u32]) -> Result<Vec<AsnInfo>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT country_code, org_name FROM asn_info WHERE asn = ?1")?;
        let mut out = Vec::with_capacity(asns.len());
        for asn in asns {
            let row = st
                .query_row(params![i64::from(*asn)], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .optional()?;
            let (country_code, org_name) = row.unwrap_or_default();
            out.push(AsnInfo {
                asn: *asn,
                country_code,
                org_name,
            });
        }
        Ok(out)
    }

    /// `total_monitors` as last set; 0 when never set.
    pub fn total_monitors(&self) -> Result<u32> {
        let v: Option<String> = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row(params![META_TOTAL_MONITORS], |r| r.get(0))
            .optional()?;
        Ok(v.and_then(|s| s.parse().ok()).unwrap_or(0))
    }

    /// One hijack with extras and history.
    pub fn hijack(&self, id: u64) -> Result<Option<Detail<HijackEvent>>> {
        let Some((list, extra)) = self.docs("hijack_docs", id)? else {
            return Ok(None);
        };
        let mut event: HijackEvent = serde_json::from_str(&list)?;
        let extra: HijackExtra = serde_json::from_str(&extra)?;
        event.sample_paths = extra.sample_paths;
        let sid = sql_id(id)?;
        let mut asns = Vec::new();
        self.event_asns(KIND_HIJACK, sid, &mut asns)?;
        Ok(Some(Detail {
            event,
            changes: self.changes(KIND_HIJACK, sid)?,
            asn_info: self.asn_info(&asns)?,
        }))
    }

    /// One leak with extras and history.
    pub fn leak(&self, id: u64) -> Result<Option<Detail<LeakEvent>>> {
        let Some((list, extra)) = self.docs("leak_docs", id)? else {
            return Ok(None);
        };
        let mut event: LeakEvent = serde_json::from_str(&list)?;
        let extra: LeakExtra = serde_json::from_str(&extra)?;
        event.prefixes = extra.prefixes;
        event.origins = extra.origins;
        event.sample_paths = extra.sample_paths;
        let sid = sql_id(id)?;
        let mut asns = Vec::new();
        self.event_asns(KIND_LEAK, sid, &mut asns)?;
        Ok(Some(Detail {
            event,
            changes: self.changes(KIND_LEAK, sid)?,
            asn_info: self.asn_info(&asns)?,
        }))
    }

    fn docs(&self, table: &str, id: u64) -> Result<Option<(String, String)>> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT list_json, extra_json FROM {table} WHERE id = ?1"
            ))?
            .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn changes(&self, kind: i64, id: i64) -> Result<Vec<ChangeRecord>> {
        let mut st = self.conn.prepare_cached(
            "SELECT ts, change, confidence, prefix_count, peer_count, finished FROM event_changes
             WHERE kind = ?1 AND event_id = ?2 ORDER BY seq",
        )?;
        let rows = st.query_map(params![kind, id], |r| {
            Ok(ChangeRecord {
                ts: Timestamp(r.get(0)?).to_radar_millis(),
                change: r.get(1)?,
                confidence_score: r.get(2)?,
                prefix_count: r.get(3)?,
                peer_count: r.get(4)?,
                finished: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Sizes of the store.
    pub fn counts(&self) -> Result<Counts> {
        let one = |sql: &str| -> Result<u64> {
            let n: i64 = self.conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?;
            Ok(n.max(0) as u64)
        };
        Ok(Counts {
            hijacks: one("SELECT count(*) FROM hijacks")?,
            hijacks_ongoing: one("SELECT count(*) FROM hijacks WHERE finished = 0")?,
            leaks: one("SELECT count(*) FROM leaks")?,
            leaks_ongoing: one("SELECT count(*) FROM leaks WHERE finished = 0")?,
            changes: one("SELECT coalesce(max(seq), 0) FROM event_changes")?,
        })
    }
}

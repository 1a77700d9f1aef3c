//! Store ids for detector events, so that runs never overwrite each other's
//! events and a re-run of the same inputs rewrites the same rows.
//!
//! A detector numbers its events per run (1, 2, … in publication order, or
//! onwards from a restored checkpoint). Those *local* ids are not the
//! store's: [`IdMap`] gives each event of a run its *store id*:
//!
//! * an event already in the store with the same **natural key** keeps its
//!   row; the key is what the detectors fix when an event is born and never
//!   change afterwards: for a hijack the hijacker, the event type and the
//!   first hijack announcement (`min_hijack_ts`, µs); for a
//!   leak the segment, the leak type and the first leaked announcement.
//!   Replaying the same inputs again (after a crash, or by a daemon whose
//!   checkpoint was lost) therefore finds every event's old row;
//! * any other event gets a fresh id above every id in the store.
//!
//! Within a run a local id keeps the store id it got first, whatever the
//! event's later state, and one store row is claimed by one event at most.
//!
//! [`DupCounter`] numbers identical history rows (same event, time, change
//! and announcement count) in the order a run produces them; together they
//! are the `event_changes` key that makes rewriting the history idempotent.

use std::collections::{HashMap, HashSet};

use bgpsentry_core::model::{ChangeKind, Event, EventChange, HijackEvent, LeakEvent, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

use super::error::Result;
use super::rows::{KIND_HIJACK, KIND_LEAK, sql_id};
use super::write::change_name;

/// The natural key of a hijack (see the module doc).
/// The victim set is not part of it: it grows while a hijacker's
/// announcements against other victims join its event (`--group-secs`).
pub fn hijack_key(e: &HijackEvent) -> String {
    format!(
        "h|{}|{}|{}",
        e.hijacker_asn.0, e.event_type, e.min_hijack_ts.0
    )
}

/// The natural key of a leak (see the module doc).
pub fn leak_key(e: &LeakEvent) -> String {
    let seg: Vec<String> = e.leak_seg.iter().map(|a| a.0.to_string()).collect();
    format!("l|{}|{}|{}", seg.join(","), e.leak_type, e.min_ts.0)
}

/// The natural key of either kind.
pub fn natural_key(e: &Event) -> String {
    match e {
        Event::Hijack(h) => hijack_key(h),
        Event::Leak(l) => leak_key(l),
    }
}

/// `kind` code and local id of an event.
fn kind_id(e: &Event) -> (i64, u64) {
    match e {
        Event::Hijack(h) => (KIND_HIJACK, h.id),
        Event::Leak(l) => (KIND_LEAK, l.id),
    }
}

fn table(kind: i64) -> &'static str {
    if kind == KIND_HIJACK {
        "hijacks"
    } else {
        "leaks"
    }
}

fn set_id(e: &mut Event, id: u64) {
    match e {
        Event::Hijack(h) => h.id = id,
        Event::Leak(l) => l.id = id,
    }
}

/// Local ids of one run → store ids.
#[derive(Debug, Default)]
pub struct IdMap {
    /// (kind, local id) → store id.
    local: HashMap<(i64, u64), u64>,
    /// (kind, store id) claimed by an event of this run.
    claimed: HashSet<(i64, u64)>,
    /// Lowest id not yet handed out by this run, per kind (hijack, leak).
    next: [u64; 2],
    /// Events found in the store by their natural key.
    pub reused: u64,
    /// Events given a fresh id.
    pub fresh: u64,
}

impl IdMap {
    /// An empty map.
    pub fn new() -> Self {
        IdMap::default()
    }

    /// The store id of a local id, if this run has seen the event.
    pub fn get(&self, e: &Event) -> Option<u64> {
        self.local.get(&kind_id(e)).copied()
    }

    /// True when the event `(kind, store id)` belongs to this run.
    pub fn is_claimed(&self, kind: i64, id: u64) -> bool {
        self.claimed.contains(&(kind, id))
    }

    /// Rewrites the change's event id to its store id, finding or
    /// allocating it on the event's first change of this run.
    pub fn assign(&mut self, conn: &Connection, change: &mut EventChange) -> Result<()> {
        let key = kind_id(&change.event);
        let id = match self.local.get(&key) {
            Some(id) => *id,
            None => {
                let id = match self.find(conn, key.0, &natural_key(&change.event))? {
                    Some(id) => {
                        self.reused += 1;
                        id
                    }
                    None => {
                        if change.kind != ChangeKind::Opened {
                            tracing::warn!(
                                kind = table(key.0),
                                local_id = key.1,
                                change = change_name(change.kind),
                                "an event continued from earlier state is not in the store; stored under a new id"
                            );
                        }
                        self.fresh += 1;
                        self.allocate(conn, key.0)?
                    }
                };
                self.local.insert(key, id);
                self.claimed.insert((key.0, id));
                id
            }
        };
        set_id(&mut change.event, id);
        Ok(())
    }

    /// The oldest unclaimed stored event with this natural key.
    fn find(&self, conn: &Connection, kind: i64, nkey: &str) -> Result<Option<u64>> {
        let mut st = conn.prepare_cached(&format!(
            "SELECT id FROM {} WHERE nkey = ?1 ORDER BY id",
            table(kind)
        ))?;
        let rows = st.query_map(params![nkey], |r| r.get::<_, i64>(0))?;
        for r in rows {
            let id = u64::try_from(r?).unwrap_or(0);
            if id > 0 && !self.claimed.contains(&(kind, id)) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// A fresh id: above every id in the store and every id this run
    /// handed out (some may not be committed yet).
    fn allocate(&mut self, conn: &Connection, kind: i64) -> Result<u64> {
        let max: i64 = conn.query_row(
            &format!("SELECT COALESCE(MAX(id), 0) FROM {}", table(kind)),
            [],
            |r| r.get(0),
        )?;
        let slot = usize::from(kind == KIND_LEAK);
        let id = self.next[slot].max(u64::try_from(max).unwrap_or(0) + 1);
        self.next[slot] = id + 1;
        sql_id(id)?;
        Ok(id)
    }
}

/// Numbers history rows that would otherwise be identical: the `dup`
/// column of `event_changes`. Only rows at the same message time can be
/// identical, so it remembers the current time's rows only.
#[derive(Debug, Default)]
pub struct DupCounter {
    ts: Option<Timestamp>,
    seen: HashMap<(i64, u64, ChangeKind, u64), u32>,
}

impl DupCounter {
    /// The `dup` number of this (already id-mapped) change.
    pub fn next(&mut self, c: &EventChange) -> u32 {
        if self.ts != Some(c.ts) {
            self.ts = Some(c.ts);
            self.seen.clear();
        }
        let (kind, id) = kind_id(&c.event);
        let msgs = match &c.event {
            Event::Hijack(h) => h.hijack_msgs_count,
            Event::Leak(l) => l.leak_count,
        };
        let n = self.seen.entry((kind, id, c.kind, msgs)).or_insert(0);
        let dup = *n;
        *n += 1;
        dup
    }
}

/// Fills `nkey` of rows written before the column existed (schema v3),
/// from their stored documents and first-announcement column.
pub fn backfill(conn: &Connection) -> Result<usize> {
    let mut n = 0;
    for (kind, docs) in [(KIND_HIJACK, "hijack_docs"), (KIND_LEAK, "leak_docs")] {
        let t = table(kind);
        let rows: Vec<(i64, i64, String)> = {
            let mut st = conn.prepare(&format!(
                "SELECT e.id, e.min_ts, d.list_json FROM {t} e JOIN {docs} d ON d.id = e.id
                 WHERE e.nkey IS NULL"
            ))?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut up = conn.prepare(&format!("UPDATE {t} SET nkey = ?2 WHERE id = ?1"))?;
        for (id, min_ts, json) in rows {
            let key = if kind == KIND_HIJACK {
                serde_json::from_str::<HijackEvent>(&json)
                    .ok()
                    .map(|mut e| {
                        e.min_hijack_ts = Timestamp(min_ts);
                        hijack_key(&e)
                    })
            } else {
                serde_json::from_str::<LeakEvent>(&json).ok().map(|mut e| {
                    e.min_ts = Timestamp(min_ts);
                    leak_key(&e)
                })
            };
            // An unreadable document keeps NULL: never matched, never lost.
            if let Some(key) = key {
                up.execute(params![id, key])?;
                n += 1;
            }
        }
    }
    Ok(n)
}

/// An open stored event as the store last wrote it, for closing.
pub fn stored_event(conn: &Connection, kind: i64, id: u64) -> Result<Option<Event>> {
    let id = sql_id(id)?;
    let (docs, t) = if kind == KIND_HIJACK {
        ("hijack_docs", "hijacks")
    } else {
        ("leak_docs", "leaks")
    };
    let row: Option<(String, String, i64, i64)> = conn
        .query_row(
            &format!(
                "SELECT d.list_json, d.extra_json, e.min_ts, e.max_ts FROM {t} e
                 JOIN {docs} d ON d.id = e.id WHERE e.id = ?1"
            ),
            params![id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((list, extra, min_ts, max_ts)) = row else {
        return Ok(None);
    };
    let ev = if kind == KIND_HIJACK {
        let Ok(mut e) = serde_json::from_str::<HijackEvent>(&list) else {
            return Ok(None);
        };
        let x: super::rows::HijackExtra = serde_json::from_str(&extra).unwrap_or_default();
        e.sample_paths = x.sample_paths;
        // The exact times (the document keeps milliseconds).
        e.min_hijack_ts = Timestamp(min_ts);
        e.max_hijack_ts = Timestamp(max_ts);
        Event::Hijack(e)
    } else {
        let Ok(mut e) = serde_json::from_str::<LeakEvent>(&list) else {
            return Ok(None);
        };
        let x: super::rows::LeakExtra = serde_json::from_str(&extra).unwrap_or_default();
        e.prefixes = x.prefixes;
        e.origins = x.origins;
        e.sample_paths = x.sample_paths;
        e.min_ts = Timestamp(min_ts);
        e.max_ts = Timestamp(max_ts);
        Event::Leak(e)
    };
    Ok(Some(ev))
}

/// Ids of the stored events of `kind` that are not finished.
pub fn open_ids(conn: &Connection, kind: i64) -> Result<Vec<u64>> {
    let mut st = conn.prepare(&format!(
        "SELECT id FROM {} WHERE finished = 0 ORDER BY id",
        table(kind)
    ))?;
    let rows = st.query_map([], |r| r.get::<_, i64>(0))?;
    let mut out = Vec::new();
    for r in rows {
        out.push(u64::try_from(r?).unwrap_or(0));
    }
    Ok(out)
}

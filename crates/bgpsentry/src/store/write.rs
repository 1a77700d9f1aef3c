//! The write side: applying event changes (batched, one transaction per
//! batch), `asn_info`, settings and retention.

use std::collections::BTreeSet;

use bgpsentry_core::model::{
    Asn, ChangeKind, Event, EventChange, HijackEvent, LeakEvent, Timestamp,
};
use rusqlite::{Transaction, params};

use super::Store;
use super::error::Result;
use super::ids::{DupCounter, hijack_key, leak_key};
use super::rows::{
    KIND_HIJACK, KIND_LEAK, PrefixKey, ROLE_HIJACKER, ROLE_LEAKER, ROLE_ORIGIN, ROLE_SEGMENT,
    ROLE_VICTIM, country_key, hijack_docs, leak_docs, sql_id,
};

/// `meta` key of the number of collector peers (`total_monitors`).
pub const META_TOTAL_MONITORS: &str = "total_monitors";

impl Store {
    /// Applies one change in its own transaction. Prefer
    /// [`Store::apply_batch`] for streams.
    pub fn apply(&mut self, change: &EventChange) -> Result<()> {
        self.apply_batch(std::slice::from_ref(change))
    }

    /// Applies a batch of changes in one transaction: all or nothing. The
    /// latest state of each event replaces the stored one and every change
    /// is added to the event's history, or rewrites the history row it
    /// equals (same event, time, change and announcement count: the same
    /// change written again), so applying the same changes twice leaves
    /// the same rows. Ids are taken as given (see [`StoreSink`] for
    /// detector events).
    ///
    /// [`StoreSink`]: super::StoreSink
    pub fn apply_batch(&mut self, changes: &[EventChange]) -> Result<()> {
        let mut dups = DupCounter::default();
        let keyed: Vec<(EventChange, u32)> =
            changes.iter().map(|c| (c.clone(), dups.next(c))).collect();
        self.apply_numbered(&keyed)
    }

    /// [`Store::apply_batch`] with each change's `dup` number given (the
    /// how-many-th identical change of its run it is).
    pub fn apply_numbered(&mut self, changes: &[(EventChange, u32)]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for (c, dup) in changes {
            write_change(&tx, c, *dup)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Inserts or replaces `asn_info` rows: (ASN, country code, org name).
    pub fn upsert_asn_info(&mut self, rows: &[(Asn, String, String)]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO asn_info(asn, country_code, org_name) VALUES (?1, ?2, ?3)
                 ON CONFLICT(asn) DO UPDATE SET country_code = excluded.country_code,
                 org_name = excluded.org_name",
            )?;
            for (asn, cc, org) in rows {
                st.execute(params![i64::from(asn.0), country_key(cc), org])?;
            }
        }
        tx.commit()?;
        Ok(rows.len())
    }

    /// Sets `total_monitors`, the number of collector peers the detectors
    /// listen to.
    pub fn set_total_monitors(&self, n: u32) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![META_TOTAL_MONITORS, n.to_string()],
        )?;
        Ok(())
    }

    /// Retention: deletes finished events whose last message is older than
    /// `cutoff`, with their history. Ongoing events are never deleted.
    /// Returns the number of events removed.
    pub fn prune(&mut self, cutoff: Timestamp) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let mut removed = 0;
        for (kind, table, docs) in [
            (KIND_HIJACK, "hijacks", "hijack_docs"),
            (KIND_LEAK, "leaks", "leak_docs"),
        ] {
            let ids: Vec<i64> = {
                let mut st = tx.prepare(&format!(
                    "SELECT id FROM {table} WHERE finished = 1 AND max_ts < ?1"
                ))?;
                let rows = st.query_map(params![cutoff.0], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            for id in &ids {
                tx.execute(&format!("DELETE FROM {table} WHERE id = ?1"), params![id])?;
                tx.execute(&format!("DELETE FROM {docs} WHERE id = ?1"), params![id])?;
                clear_joins(&tx, kind, *id)?;
                tx.execute(
                    "DELETE FROM event_changes WHERE kind = ?1 AND event_id = ?2",
                    params![kind, id],
                )?;
            }
            removed += ids.len();
        }
        tx.commit()?;
        Ok(removed)
    }
}

fn write_change(tx: &Transaction<'_>, c: &EventChange, dup: u32) -> Result<()> {
    match &c.event {
        Event::Hijack(e) => write_hijack(tx, c.ts, e)?,
        Event::Leak(e) => write_leak(tx, c.ts, e)?,
    }
    let (kind, id, conf, prefixes, peers, msgs, ongoing) = match &c.event {
        Event::Hijack(e) => (
            KIND_HIJACK,
            e.id,
            Some(e.confidence_score),
            e.prefixes.len() as i64,
            i64::from(e.peer_ip_count),
            e.hijack_msgs_count,
            Some(i64::from(e.on_going_count)),
        ),
        Event::Leak(e) => (
            KIND_LEAK,
            e.id,
            None,
            i64::from(e.prefix_count),
            i64::from(e.peer_count),
            e.leak_count,
            None,
        ),
    };
    let msgs = i64::try_from(msgs).unwrap_or(i64::MAX);
    let mut st = tx.prepare_cached(
        "INSERT INTO event_changes(kind, event_id, ts, change, confidence, prefix_count,
         peer_count, finished, msgs, ongoing, dup)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT(kind, event_id, ts, change, msgs, dup) DO UPDATE SET
         confidence = excluded.confidence, prefix_count = excluded.prefix_count,
         peer_count = excluded.peer_count, finished = excluded.finished,
         ongoing = excluded.ongoing",
    )?;
    st.execute(params![
        kind,
        sql_id(id)?,
        c.ts.0,
        change_name(c.kind),
        conf,
        prefixes,
        peers,
        c.event.finished(),
        msgs,
        ongoing,
        dup
    ])?;
    Ok(())
}

/// The stored name of a change kind (its serde name).
pub fn change_name(k: ChangeKind) -> &'static str {
    match k {
        ChangeKind::Opened => "opened",
        ChangeKind::Grown => "grown",
        ChangeKind::ConfidenceChanged => "confidence_changed",
        ChangeKind::Ended => "ended",
    }
}

fn write_hijack(tx: &Transaction<'_>, ts: Timestamp, e: &HijackEvent) -> Result<()> {
    let id = sql_id(e.id)?;
    let (list, extra) = hijack_docs(e)?;
    tx.prepare_cached(
        "INSERT INTO hijacks(id, confidence, min_ts, max_ts, hijacker_asn, finished, updated_ts,
         nkey) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(id) DO UPDATE SET confidence = excluded.confidence,
         min_ts = excluded.min_ts, max_ts = excluded.max_ts,
         hijacker_asn = excluded.hijacker_asn, finished = excluded.finished,
         updated_ts = excluded.updated_ts, nkey = excluded.nkey",
    )?
    .execute(params![
        id,
        e.confidence_score,
        e.min_hijack_ts.0,
        e.max_hijack_ts.0,
        i64::from(e.hijacker_asn.0),
        e.finished,
        ts.0,
        hijack_key(e)
    ])?;
    tx.prepare_cached(
        "INSERT OR REPLACE INTO hijack_docs(id, list_json, extra_json) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![id, list, extra])?;
    clear_joins(tx, KIND_HIJACK, id)?;
    let mut asns = vec![(e.hijacker_asn, ROLE_HIJACKER)];
    asns.extend(e.victim_asns.iter().map(|a| (*a, ROLE_VICTIM)));
    let countries = std::iter::once(&e.hijacker_country).chain(e.victim_countries.iter());
    write_joins(tx, KIND_HIJACK, id, &asns, countries, e.prefixes.iter())
}

fn write_leak(tx: &Transaction<'_>, ts: Timestamp, e: &LeakEvent) -> Result<()> {
    let id = sql_id(e.id)?;
    let (list, extra) = leak_docs(e)?;
    tx.prepare_cached(
        "INSERT INTO leaks(id, leak_asn, min_ts, max_ts, leak_count, peer_count, prefix_count,
         origin_count, finished, updated_ts, nkey)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT(id) DO UPDATE SET leak_asn = excluded.leak_asn, min_ts = excluded.min_ts,
         max_ts = excluded.max_ts, leak_count = excluded.leak_count,
         peer_count = excluded.peer_count, prefix_count = excluded.prefix_count,
         origin_count = excluded.origin_count, finished = excluded.finished,
         updated_ts = excluded.updated_ts, nkey = excluded.nkey",
    )?
    .execute(params![
        id,
        i64::from(e.leak_asn.0),
        e.min_ts.0,
        e.max_ts.0,
        i64::try_from(e.leak_count).unwrap_or(i64::MAX),
        e.peer_count,
        e.prefix_count,
        e.origin_count,
        e.finished,
        ts.0,
        leak_key(e)
    ])?;
    tx.prepare_cached(
        "INSERT OR REPLACE INTO leak_docs(id, list_json, extra_json) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![id, list, extra])?;
    clear_joins(tx, KIND_LEAK, id)?;
    let mut asns = vec![(e.leak_asn, ROLE_LEAKER)];
    asns.extend(
        e.leak_seg
            .iter()
            .filter(|a| **a != e.leak_asn)
            .map(|a| (*a, ROLE_SEGMENT)),
    );
    asns.extend(e.origins.iter().map(|a| (*a, ROLE_ORIGIN)));
    write_joins(
        tx,
        KIND_LEAK,
        id,
        &asns,
        e.countries.iter(),
        e.prefixes.iter(),
    )
}

fn clear_joins(tx: &Transaction<'_>, kind: i64, id: i64) -> Result<()> {
    // INDEXED BY: without statistics the planner may scan the primary key
    // on `kind` alone, which would make every write O(events).
    for table in ["event_asns", "event_countries", "event_prefixes"] {
        tx.prepare_cached(&format!(
            "DELETE FROM {table} INDEXED BY {table}_event WHERE kind = ?1 AND event_id = ?2"
        ))?
        .execute(params![kind, id])?;
    }
    Ok(())
}

fn write_joins<'a>(
    tx: &Transaction<'_>,
    kind: i64,
    id: i64,
    asns: &[(Asn, i64)],
    countries: impl Iterator<Item = &'a String>,
    prefixes: impl Iterator<Item = &'a String>,
) -> Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO event_asns(kind, asn, event_id, role) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(kind, asn, event_id) DO UPDATE SET role = role | excluded.role",
    )?;
    for (asn, role) in asns {
        st.execute(params![kind, i64::from(asn.0), id, role])?;
    }
    let ccs: BTreeSet<String> = countries
        .map(|c| country_key(c))
        .filter(|c| !c.is_empty())
        .collect();
    let mut st = tx.prepare_cached(
        "INSERT OR IGNORE INTO event_countries(kind, cc, event_id) VALUES (?1, ?2, ?3)",
    )?;
    for cc in ccs {
        st.execute(params![kind, cc, id])?;
    }
    let mut st = tx.prepare_cached(
        "INSERT OR IGNORE INTO event_prefixes(kind, prefix, event_id, fam, lo, hi)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for p in prefixes {
        let k = PrefixKey::of_text(p);
        st.execute(params![kind, k.text, id, k.fam, k.lo, k.hi])?;
    }
    Ok(())
}

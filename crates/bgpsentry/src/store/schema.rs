//! The schema and its migrations, applied on open and tracked with
//! `PRAGMA user_version`. Each migration runs in its own transaction, so a
//! crash mid-migration leaves the previous version intact.
//!
//! Layout (see `docs/api.md` for why):
//!
//! * `hijacks`, `leaks`: one narrow row per event with the columns the API
//!   filters and sorts on, each indexed together with `id` so that every
//!   sort order is an index scan and ties break by id.
//! * `hijack_docs`, `leak_docs`: the event as served (`list_json`, Radar's
//!   fields plus small extras) and the bulky extras (`extra_json`: sample
//!   paths, leaked prefixes and origins) for the detail endpoint.
//! * `event_asns(kind, asn, event_id, role flags)`, `event_countries`,
//!   `event_prefixes`: join tables for the many-valued filters.
//! * `event_changes`: the history of every event (v2: with the announcement
//!   count and carried prefixes after each change, for the dashboard).
//! * `asn_info`, `meta`.
//! * v3: `hijacks.nkey`, `leaks.nkey`, the natural key that finds an event
//!   again in a later run (`ids.rs`), and `event_changes.dup`: a change is
//!   identified by (kind, event, time, change, announcements, dup), unique,
//!   so writing the same history again updates rows instead of adding them.
//! * v4: the routing snapshot (`route_origins`, `route_ases`), `asn_rels`,
//!   and AS names / organisation ids / registries in `asn_info`.

use rusqlite::Connection;

use super::error::{Result, StoreError};

/// Migrations in order; index + 1 is the schema version.
const MIGRATIONS: &[&str] = &[
    // 1: initial schema
    r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE hijacks (
    id INTEGER PRIMARY KEY,
    confidence INTEGER NOT NULL,
    min_ts INTEGER NOT NULL,
    max_ts INTEGER NOT NULL,
    hijacker_asn INTEGER NOT NULL,
    finished INTEGER NOT NULL,
    updated_ts INTEGER NOT NULL
);
CREATE INDEX hijacks_confidence ON hijacks(confidence, id);
CREATE INDEX hijacks_time ON hijacks(min_ts, id);
CREATE INDEX hijacks_hijacker ON hijacks(hijacker_asn, id);
CREATE INDEX hijacks_narrow ON hijacks(id, confidence, min_ts, hijacker_asn);
CREATE INDEX hijacks_retention ON hijacks(max_ts) WHERE finished = 1;
CREATE TABLE hijack_docs (
    id INTEGER PRIMARY KEY,
    list_json TEXT NOT NULL,
    extra_json TEXT NOT NULL
);

CREATE TABLE leaks (
    id INTEGER PRIMARY KEY,
    leak_asn INTEGER NOT NULL,
    min_ts INTEGER NOT NULL,
    max_ts INTEGER NOT NULL,
    leak_count INTEGER NOT NULL,
    peer_count INTEGER NOT NULL,
    prefix_count INTEGER NOT NULL,
    origin_count INTEGER NOT NULL,
    finished INTEGER NOT NULL,
    updated_ts INTEGER NOT NULL
);
CREATE INDEX leaks_leaker ON leaks(leak_asn, id);
CREATE INDEX leaks_time ON leaks(min_ts, id);
CREATE INDEX leaks_leak_count ON leaks(leak_count, id);
CREATE INDEX leaks_peer_count ON leaks(peer_count, id);
CREATE INDEX leaks_prefix_count ON leaks(prefix_count, id);
CREATE INDEX leaks_origin_count ON leaks(origin_count, id);
CREATE INDEX leaks_narrow ON leaks(id, leak_asn, min_ts);
CREATE INDEX leaks_retention ON leaks(max_ts) WHERE finished = 1;
CREATE TABLE leak_docs (
    id INTEGER PRIMARY KEY,
    list_json TEXT NOT NULL,
    extra_json TEXT NOT NULL
);

CREATE TABLE event_asns (
    kind INTEGER NOT NULL,
    asn INTEGER NOT NULL,
    event_id INTEGER NOT NULL,
    role INTEGER NOT NULL,
    PRIMARY KEY (kind, asn, event_id)
) WITHOUT ROWID;
CREATE INDEX event_asns_event ON event_asns(kind, event_id);

CREATE TABLE event_countries (
    kind INTEGER NOT NULL,
    cc TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    PRIMARY KEY (kind, cc, event_id)
) WITHOUT ROWID;
CREATE INDEX event_countries_event ON event_countries(kind, event_id);

CREATE TABLE event_prefixes (
    kind INTEGER NOT NULL,
    prefix TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    fam INTEGER NOT NULL,
    lo BLOB NOT NULL,
    hi BLOB NOT NULL,
    PRIMARY KEY (kind, prefix, event_id)
) WITHOUT ROWID;
CREATE INDEX event_prefixes_range ON event_prefixes(kind, fam, lo, hi);
CREATE INDEX event_prefixes_event ON event_prefixes(kind, event_id);

CREATE TABLE event_changes (
    seq INTEGER PRIMARY KEY,
    kind INTEGER NOT NULL,
    event_id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    change TEXT NOT NULL,
    confidence INTEGER,
    prefix_count INTEGER NOT NULL,
    peer_count INTEGER NOT NULL,
    finished INTEGER NOT NULL
);
CREATE INDEX event_changes_event ON event_changes(kind, event_id, seq);

CREATE TABLE asn_info (
    asn INTEGER PRIMARY KEY,
    country_code TEXT NOT NULL,
    org_name TEXT NOT NULL
);
"#,
    // 2: per-change counters for the dashboard's timeline (NULL on rows
    // written before): announcements so far, prefixes still carried
    r#"
ALTER TABLE event_changes ADD COLUMN msgs INTEGER;
ALTER TABLE event_changes ADD COLUMN ongoing INTEGER;
"#,
    // 3: natural keys of events, and a unique key of every history row
    // (`dup` numbered, the unique index created, in `after_sql`)
    r#"
ALTER TABLE hijacks ADD COLUMN nkey TEXT;
ALTER TABLE leaks ADD COLUMN nkey TEXT;
CREATE INDEX hijacks_nkey ON hijacks(nkey) WHERE nkey IS NOT NULL;
CREATE INDEX leaks_nkey ON leaks(nkey) WHERE nkey IS NOT NULL;
ALTER TABLE event_changes ADD COLUMN dup INTEGER NOT NULL DEFAULT 0;
"#,
    // 4: the published routing snapshot (`routes.rs`): current origins per
    // prefix with their peer counts, per-AS aggregates (rows of generation
    // `meta.routes_gen` are the published ones), AS relationships,
    // and AS names, organisation ids and registries for `entities/asns`
    r#"
CREATE TABLE route_origins (
    gen INTEGER NOT NULL,
    prefix TEXT NOT NULL,
    origin INTEGER NOT NULL,
    fam INTEGER NOT NULL,
    lo BLOB NOT NULL,
    hi BLOB NOT NULL,
    peer_count INTEGER NOT NULL,
    rpki TEXT NOT NULL,
    n_origins INTEGER NOT NULL,
    PRIMARY KEY (gen, prefix, origin)
) WITHOUT ROWID;
CREATE INDEX route_origins_origin ON route_origins(gen, origin, prefix);
CREATE INDEX route_origins_range ON route_origins(gen, fam, lo, hi);
CREATE INDEX route_origins_moas ON route_origins(gen, prefix) WHERE n_origins > 1;
CREATE TABLE route_ases (
    gen INTEGER NOT NULL,
    asn INTEGER NOT NULL,
    cone INTEGER NOT NULL,
    pfxs INTEGER NOT NULL,
    ipv4 INTEGER NOT NULL,
    ipv6 TEXT NOT NULL,
    ipv6_sort REAL NOT NULL,
    rpki_valid INTEGER NOT NULL,
    rpki_invalid INTEGER NOT NULL,
    rpki_unknown INTEGER NOT NULL,
    PRIMARY KEY (gen, asn)
) WITHOUT ROWID;
CREATE TABLE asn_rels (
    asn1 INTEGER NOT NULL,
    asn2 INTEGER NOT NULL,
    rel TEXT NOT NULL,
    PRIMARY KEY (asn1, asn2)
) WITHOUT ROWID;
ALTER TABLE asn_info ADD COLUMN as_name TEXT NOT NULL DEFAULT '';
ALTER TABLE asn_info ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
ALTER TABLE asn_info ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE asn_info ADD COLUMN organization TEXT NOT NULL DEFAULT '';
CREATE INDEX asn_info_country ON asn_info(country_code, asn);
CREATE INDEX asn_info_org ON asn_info(org_id) WHERE org_id != '';
"#,
];

/// What a migration does beyond its SQL, in the same transaction.
fn after_sql(version: i64, tx: &rusqlite::Transaction<'_>) -> Result<()> {
    if version == 3 {
        let keyed = super::ids::backfill(tx)?;
        // Rows already identical (e.g. a history written twice by a re-run
        // before this version) are kept, numbered in their order.
        tx.execute_batch(
            "UPDATE event_changes SET dup = d.rn - 1
             FROM (SELECT seq, ROW_NUMBER() OVER (
                     PARTITION BY kind, event_id, ts, change, msgs ORDER BY seq) AS rn
                   FROM event_changes) AS d
             WHERE event_changes.seq = d.seq AND d.rn > 1;
             CREATE UNIQUE INDEX event_changes_key
                 ON event_changes(kind, event_id, ts, change, msgs, dup);",
        )?;
        tracing::info!(events = keyed, "natural keys of stored events filled in");
    }
    Ok(())
}

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Connection settings every connection gets.
pub fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", -32_000)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

/// Puts the file in WAL mode and applies pending migrations.
pub fn migrate(conn: &mut Connection) -> Result<i64> {
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "could not switch the database to WAL mode");
    }
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let version = i as i64 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        after_sql(version, &tx)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "applied store migration");
    }
    Ok(SCHEMA_VERSION)
}

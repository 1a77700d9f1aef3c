//! The published routing snapshot and the AS registry behind Radar's
//! `routes/*` and `entities/asns*` endpoints.
//!
//! `serve` has no detectors, so what they know of routing is written here:
//! at the end of a `replay --db` and periodically by `run`, the current
//! (prefix, origin, peer count, RPKI) rows of the routing state replace the
//! previous snapshot, together with per-AS aggregates and the time of the
//! newest message they reflect. Rows carry a *generation*: a new snapshot
//! is written as generation n+1 in short transactions of
//! [`PUBLISH_CHUNK`] rows (so the event writer, which shares the file,
//! never waits long for the lock), then one small transaction makes n+1
//! the published generation (`meta.routes_gen`), then the old rows are
//! deleted in chunks. Every read runs in one read transaction over the
//! published generation, so a reader sees the old snapshot or the new one,
//! never a mix. The snapshot is bounded by the
//! routing state itself and by [`MAX_SNAPSHOT_ROUTES`]. AS relationships
//! (`asn_rels`, both directions) and AS names, organisations and
//! registries (`asn_info`) are stored next to it.

use bgpsentry_core::model::Timestamp;
use ipnet::IpNet;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::error::Result;
use super::rows::{PrefixKey, country_key};
use super::{Reader, Store};

/// Most (prefix, origin) rows a snapshot holds; the rest of a larger state
/// is left out (and logged). A full table from hundreds of peers has about
/// 1.2 million.
pub const MAX_SNAPSHOT_ROUTES: usize = 5_000_000;
/// Most rows one routing answer returns.
pub const MAX_ANSWER_ROWS: usize = 100_000;

/// Rows per write transaction while publishing.
pub const PUBLISH_CHUNK: usize = 5_000;

const META_ROUTES_GEN: &str = "routes_gen";
const META_ROUTES_TIME: &str = "routes_data_time";
const META_ROUTES_PEERS: &str = "routes_total_peers";
const META_ROUTES_STATS: &str = "routes_stats";
const META_ASREL_SOURCE: &str = "asrel_source";

/// One current (prefix, origin) of the routing state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteRow {
    /// The prefix (host bits clear).
    pub prefix: IpNet,
    /// The origin AS.
    pub origin: u32,
    /// Distinct collector peers announcing it.
    pub peer_count: u32,
    /// `valid`, `invalid` or `unknown`.
    pub rpki: &'static str,
}

/// Per-AS figures of a snapshot (`routes/ases`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AsAggregate {
    /// The AS.
    pub asn: u32,
    /// Customer cone size (the AS itself included).
    pub cone: u64,
    /// Prefixes originated.
    pub pfxs: u64,
    /// IPv4 addresses originated (overlaps counted once).
    pub ipv4: u64,
    /// IPv6 addresses originated (overlaps counted once).
    pub ipv6: u128,
    /// Originated prefixes by RPKI state.
    pub rpki_valid: u64,
    /// RPKI invalid.
    pub rpki_invalid: u64,
    /// RPKI unknown.
    pub rpki_unknown: u64,
}

/// A whole snapshot, as published.
#[derive(Clone, Debug, Default)]
pub struct RoutingSnapshot {
    /// Newest message time the state reflects (`meta.data_time`).
    pub data_time: Timestamp,
    /// Collector peers the state was built from (`meta.total_peers`).
    pub total_peers: u32,
    /// Current routes.
    pub routes: Vec<RouteRow>,
    /// Per-AS aggregates.
    pub ases: Vec<AsAggregate>,
}

/// One AS of the registry (`entities/asns`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AsnEntity {
    /// The AS.
    pub asn: u32,
    /// Alpha-2 country; empty when unknown.
    pub country: String,
    /// `asn_info.org_name`, the name the event lists show (the as2org AS
    /// name); empty when unknown.
    pub org_name: String,
    /// The organisation's name (as2org `org_name`); empty when unknown.
    pub organization: String,
    /// AS name (as2org `aut_name`); empty when unknown.
    pub as_name: String,
    /// Organisation id (`YOUTU-ARIN`); empty when unknown.
    pub org_id: String,
    /// Registry (`ARIN`, `RIPE`, …); empty when unknown.
    pub source: String,
}

/// `meta` of the routing answers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoutesMeta {
    /// Newest message time of the snapshot; `None` before any publication.
    pub data_time: Option<Timestamp>,
    /// Collector peers.
    pub total_peers: u32,
}

/// `routes/stats` counters, by family.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RouteStats {
    /// `[all, ipv4, ipv6]` distinct origins.
    pub origins: [u64; 3],
    /// Distinct prefixes.
    pub prefixes: [u64; 3],
    /// (prefix, origin) routes.
    pub total: [u64; 3],
    /// RPKI valid routes.
    pub valid: [u64; 3],
    /// RPKI invalid routes.
    pub invalid: [u64; 3],
    /// RPKI unknown routes.
    pub unknown: [u64; 3],
}

/// A `routes/ases` sort column.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AsSort {
    /// `cone`.
    Cone,
    /// `pfxs`.
    Pfxs,
    /// `ipv4`.
    Ipv4,
    /// `ipv6`.
    Ipv6,
    /// `rpki_valid`.
    RpkiValid,
    /// `rpki_invalid`.
    RpkiInvalid,
    /// `rpki_unknown`.
    RpkiUnknown,
}

impl AsSort {
    fn column(self) -> &'static str {
        match self {
            AsSort::Cone => "r.cone",
            AsSort::Pfxs => "r.pfxs",
            AsSort::Ipv4 => "r.ipv4",
            AsSort::Ipv6 => "r.ipv6_sort",
            AsSort::RpkiValid => "r.rpki_valid",
            AsSort::RpkiInvalid => "r.rpki_invalid",
            AsSort::RpkiUnknown => "r.rpki_unknown",
        }
    }
}

/// One `routes/ases` row: the aggregate with the AS's country and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsRow {
    /// Figures.
    pub agg: AsAggregate,
    /// Country; empty when unknown.
    pub country: String,
    /// AS name, else the organisation name; empty when unknown.
    pub name: String,
}

/// One relationship row of `entities/asns/{asn}/rel`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelRow {
    /// The other AS.
    pub asn2: u32,
    /// `P2C` (asn1 is a provider of asn2), `C2P`, `P2P` or `S2S` (siblings).
    pub rel: String,
}

fn stats_of(routes: &[RouteRow]) -> RouteStats {
    use std::collections::HashSet;
    let mut st = RouteStats::default();
    let mut origins: [HashSet<u32>; 3] = Default::default();
    let mut prefixes: [HashSet<IpNet>; 3] = Default::default();
    for r in routes {
        let f = if r.prefix.addr().is_ipv4() { 1 } else { 2 };
        for i in [0, f] {
            origins[i].insert(r.origin);
            prefixes[i].insert(r.prefix);
            st.total[i] += 1;
            match r.rpki {
                "valid" => st.valid[i] += 1,
                "invalid" => st.invalid[i] += 1,
                _ => st.unknown[i] += 1,
            }
        }
    }
    for i in 0..3 {
        st.origins[i] = origins[i].len() as u64;
        st.prefixes[i] = prefixes[i].len() as u64;
    }
    st
}

fn set_meta(tx: &rusqlite::Transaction<'_>, key: &str, value: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

impl Store {
    /// Publishes `snap` as the new routing snapshot (see the module docs
    /// for how readers never see a mix). Rows beyond
    /// [`MAX_SNAPSHOT_ROUTES`] are left out.
    pub fn publish_routes(&mut self, snap: &RoutingSnapshot) -> Result<()> {
        let routes = &snap.routes[..snap.routes.len().min(MAX_SNAPSHOT_ROUTES)];
        if routes.len() < snap.routes.len() {
            tracing::warn!(
                kept = routes.len(),
                total = snap.routes.len(),
                "routing snapshot larger than its bound; the rest is not published"
            );
        }
        let mut n_origins: std::collections::HashMap<IpNet, i64> = Default::default();
        for r in routes {
            *n_origins.entry(r.prefix).or_default() += 1;
        }
        let stats = serde_json::to_string(&stats_of(routes))?;
        let current: i64 = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                params![META_ROUTES_GEN],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let gen_no = current + 1;
        // Leftovers of an interrupted publication of this generation.
        delete_generations(&mut self.conn, |g| g == gen_no)?;
        for chunk in routes.chunks(PUBLISH_CHUNK) {
            let tx = self.conn.transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT OR REPLACE INTO route_origins(gen, prefix, origin, fam, lo, hi, peer_count, rpki, n_origins)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?;
                for r in chunk {
                    let k = PrefixKey::of_net(&r.prefix);
                    let n = n_origins.get(&r.prefix).copied().unwrap_or(1);
                    st.execute(params![
                        gen_no,
                        k.text,
                        i64::from(r.origin),
                        k.fam,
                        k.lo,
                        k.hi,
                        i64::from(r.peer_count),
                        r.rpki,
                        n
                    ])?;
                }
            }
            tx.commit()?;
        }
        for chunk in snap.ases.chunks(PUBLISH_CHUNK) {
            let tx = self.conn.transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT OR REPLACE INTO route_ases(gen, asn, cone, pfxs, ipv4, ipv6, ipv6_sort,
                     rpki_valid, rpki_invalid, rpki_unknown) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )?;
                for a in chunk {
                    st.execute(params![
                        gen_no,
                        i64::from(a.asn),
                        sat(a.cone),
                        sat(a.pfxs),
                        sat(a.ipv4),
                        a.ipv6.to_string(),
                        a.ipv6 as f64,
                        sat(a.rpki_valid),
                        sat(a.rpki_invalid),
                        sat(a.rpki_unknown)
                    ])?;
                }
            }
            tx.commit()?;
        }
        let tx = self.conn.transaction()?;
        set_meta(&tx, META_ROUTES_GEN, &gen_no.to_string())?;
        set_meta(&tx, META_ROUTES_TIME, &snap.data_time.0.to_string())?;
        set_meta(&tx, META_ROUTES_PEERS, &snap.total_peers.to_string())?;
        set_meta(&tx, META_ROUTES_STATS, &stats)?;
        tx.commit()?;
        delete_generations(&mut self.conn, |g| g != gen_no)?;
        Ok(())
    }

    /// Replaces the AS relationships: `(a, b, what a is to b)` with
    /// `P2C`/`C2P`/`P2P`/`S2S`, stored in both directions; `source` says
    /// where they come from (a file, or inference from the inputs).
    pub fn replace_asn_rels(
        &mut self,
        rels: &[(u32, u32, &'static str)],
        source: &str,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM asn_rels", [])?;
        {
            let mut st = tx.prepare_cached(
                "INSERT OR REPLACE INTO asn_rels(asn1, asn2, rel) VALUES (?1, ?2, ?3)",
            )?;
            for (a, b, rel) in rels {
                st.execute(params![i64::from(*a), i64::from(*b), rel])?;
                st.execute(params![i64::from(*b), i64::from(*a), flip(rel)])?;
            }
        }
        set_meta(&tx, META_ASREL_SOURCE, source)?;
        tx.commit()?;
        Ok(())
    }

    /// Inserts or replaces AS registry rows (country, organisation, AS
    /// name, organisation id, registry) in `asn_info`.
    pub fn upsert_asn_entities(&mut self, rows: &[AsnEntity]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO asn_info(asn, country_code, org_name, as_name, org_id, source, organization)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(asn) DO UPDATE SET country_code = excluded.country_code,
                 org_name = excluded.org_name, as_name = excluded.as_name,
                 org_id = excluded.org_id, source = excluded.source,
                 organization = excluded.organization",
            )?;
            for e in rows {
                st.execute(params![
                    i64::from(e.asn),
                    country_key(&e.country),
                    e.org_name,
                    e.as_name,
                    e.org_id,
                    e.source,
                    e.organization
                ])?;
            }
        }
        tx.commit()?;
        Ok(rows.len())
    }
}

/// Deletes the rows of every generation `drop` selects, [`PUBLISH_CHUNK`] rows per transaction.
fn delete_generations(conn: &mut rusqlite::Connection, drop: impl Fn(i64) -> bool) -> Result<()> {
    let gens: Vec<i64> = {
        let mut st = conn.prepare(
            "SELECT DISTINCT gen FROM route_origins UNION SELECT DISTINCT gen FROM route_ases",
        )?;
        let rows = st.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for g in gens.into_iter().filter(|g| drop(*g)) {
        for sql in [
            "DELETE FROM route_origins WHERE gen = ?1 AND prefix IN
             (SELECT prefix FROM route_origins WHERE gen = ?1 LIMIT ?2)",
            "DELETE FROM route_ases WHERE gen = ?1 AND asn IN
             (SELECT asn FROM route_ases WHERE gen = ?1 LIMIT ?2)",
        ] {
            loop {
                let n = conn.execute(sql, params![g, PUBLISH_CHUNK as i64])?;
                if n == 0 {
                    break;
                }
            }
        }
    }
    Ok(())
}

fn sat(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn flip(rel: &str) -> &'static str {
    match rel {
        "P2C" => "C2P",
        "C2P" => "P2C",
        "P2P" => "P2P",
        _ => "S2S",
    }
}

fn route_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, u32, u32, String)> {
    Ok((
        r.get::<_, String>(0)?,
        u32::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
        u32::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
        r.get::<_, String>(3)?,
    ))
}

/// One `pfx2as` / `moas` row as read: (prefix, origin, peer count, RPKI).
pub type PrefixOrigin = (String, u32, u32, String);

impl Reader {
    fn meta_value(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .connection()
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row(params![key], |r| r.get(0))
            .optional()?)
    }

    /// The published generation (0: none yet).
    fn published_gen(&self) -> Result<i64> {
        Ok(self
            .meta_value(META_ROUTES_GEN)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Runs `f` with the published generation inside one read transaction,
    /// so everything it reads belongs to one snapshot.
    pub fn in_routes_snapshot<T>(&self, f: impl FnOnce(&Reader, i64) -> Result<T>) -> Result<T> {
        let tx = self.connection().unchecked_transaction()?;
        let g = self.published_gen()?;
        let out = f(self, g)?;
        tx.commit()?;
        Ok(out)
    }

    /// The snapshot's time and peer count.
    pub fn routes_meta(&self) -> Result<RoutesMeta> {
        Ok(RoutesMeta {
            data_time: self
                .meta_value(META_ROUTES_TIME)?
                .and_then(|v| v.parse().ok())
                .map(Timestamp),
            total_peers: self
                .meta_value(META_ROUTES_PEERS)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        })
    }

    /// Where the relationships come from; empty when none were stored.
    pub fn asrel_source(&self) -> Result<String> {
        Ok(self.meta_value(META_ASREL_SOURCE)?.unwrap_or_default())
    }

    /// `routes/pfx2as`: the origins of exactly `prefix` (or, with
    /// `longest`, of the most specific stored prefix covering it) and/or
    /// every prefix of `origin`, optionally of one RPKI state; at most
    /// [`MAX_ANSWER_ROWS`].
    pub fn pfx2as(
        &self,
        g: i64,
        prefix: Option<IpNet>,
        origin: Option<u32>,
        rpki: Option<&str>,
        longest: bool,
    ) -> Result<Vec<PrefixOrigin>> {
        let conn = self.connection();
        let keep = |row: &PrefixOrigin| {
            origin.is_none_or(|o| row.1 == o) && rpki.is_none_or(|s| row.3 == s)
        };
        let mut st = conn.prepare_cached(
            "SELECT prefix, origin, peer_count, rpki FROM route_origins WHERE gen = ?1 AND prefix = ?2 ORDER BY origin",
        )?;
        let mut out = Vec::new();
        match prefix {
            Some(p) => {
                let lens: Vec<u8> = if longest {
                    (0..=p.prefix_len()).rev().collect()
                } else {
                    vec![p.prefix_len()]
                };
                for len in lens {
                    let Ok(net) = IpNet::new(p.addr(), len) else {
                        continue;
                    };
                    let text = net.trunc().to_string();
                    let rows: Vec<PrefixOrigin> = st
                        .query_map(params![g, text], route_row)?
                        .collect::<rusqlite::Result<_>>()?;
                    if !rows.is_empty() {
                        out.extend(rows.into_iter().filter(keep));
                        break;
                    }
                }
            }
            None => {
                let mut st = conn.prepare_cached(
                    "SELECT prefix, origin, peer_count, rpki FROM route_origins WHERE gen = ?1 AND origin = ?2
                     ORDER BY fam, lo, hi DESC LIMIT ?3",
                )?;
                let o = origin.map_or(-1, i64::from);
                let rows = st.query_map(params![g, o, MAX_ANSWER_ROWS as i64], route_row)?;
                for r in rows {
                    let r = r?;
                    if keep(&r) {
                        out.push(r);
                    }
                }
            }
        }
        Ok(out)
    }

    /// `routes/moas`: prefixes with more than one current origin,
    /// optionally only `prefix`, only those where `origin` is one of the
    /// origins, only those with an RPKI-invalid origin; at most
    /// [`MAX_ANSWER_ROWS`] rows.
    pub fn moas(
        &self,
        g: i64,
        prefix: Option<IpNet>,
        origin: Option<u32>,
        invalid_only: bool,
    ) -> Result<Vec<(String, Vec<PrefixOrigin>)>> {
        let conn = self.connection();
        let mut sql = String::from(
            "SELECT prefix, origin, peer_count, rpki FROM route_origins r WHERE gen = ? AND n_origins > 1",
        );
        let mut args: Vec<rusqlite::types::Value> = vec![g.into()];
        if let Some(p) = prefix {
            sql.push_str(" AND prefix = ?");
            args.push(p.trunc().to_string().into());
        }
        if let Some(o) = origin {
            sql.push_str(
                " AND prefix IN (SELECT prefix FROM route_origins WHERE gen = ? AND origin = ? AND n_origins > 1)",
            );
            args.push(g.into());
            args.push(i64::from(o).into());
        }
        sql.push_str(" ORDER BY fam, lo, hi DESC, prefix, origin LIMIT ?");
        args.push((MAX_ANSWER_ROWS as i64).into());
        let mut st = conn.prepare_cached(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args), route_row)?;
        let mut out: Vec<(String, Vec<PrefixOrigin>)> = Vec::new();
        for r in rows {
            let r = r?;
            match out.last_mut() {
                Some((p, v)) if *p == r.0 => v.push(r),
                _ => out.push((r.0.clone(), vec![r])),
            }
        }
        if invalid_only {
            out.retain(|(_, v)| v.iter().any(|r| r.3 == "invalid"));
        }
        Ok(out)
    }

    /// `routes/stats`, for all routes or those of one origin and/or of
    /// origins registered in one country.
    pub fn route_stats(
        &self,
        g: i64,
        asn: Option<u32>,
        country: Option<&str>,
    ) -> Result<RouteStats> {
        if asn.is_none() && country.is_none() {
            return Ok(self
                .meta_value(META_ROUTES_STATS)?
                .and_then(|v| serde_json::from_str(&v).ok())
                .unwrap_or_default());
        }
        let mut sql =
            String::from("SELECT r.prefix, r.origin, r.peer_count, r.rpki FROM route_origins r");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(cc) = country {
            sql.push_str(" JOIN asn_info a ON a.asn = r.origin AND a.country_code = ?");
            args.push(country_key(cc).into());
        }
        sql.push_str(" WHERE r.gen = ?");
        args.push(g.into());
        if let Some(a) = asn {
            sql.push_str(" AND r.origin = ?");
            args.push(i64::from(a).into());
        }
        let mut st = self.connection().prepare(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args), route_row)?;
        let mut routes = Vec::new();
        for r in rows {
            let (p, origin, peer_count, rpki) = r?;
            let Ok(prefix) = p.parse::<IpNet>() else {
                continue;
            };
            let rpki = match rpki.as_str() {
                "valid" => "valid",
                "invalid" => "invalid",
                _ => "unknown",
            };
            routes.push(RouteRow {
                prefix,
                origin,
                peer_count,
                rpki,
            });
        }
        Ok(stats_of(&routes))
    }

    /// `routes/ases`: per-AS figures, optionally of one country, sorted.
    pub fn route_ases(
        &self,
        g: i64,
        country: Option<&str>,
        sort: AsSort,
        desc: bool,
        limit: u32,
    ) -> Result<Vec<AsRow>> {
        let dir = if desc { "DESC" } else { "ASC" };
        let mut sql = String::from(
            "SELECT r.asn, r.cone, r.pfxs, r.ipv4, r.ipv6, r.rpki_valid, r.rpki_invalid, r.rpki_unknown,
             COALESCE(a.country_code, ''), COALESCE(a.as_name, ''), COALESCE(a.organization, '')
             FROM route_ases r LEFT JOIN asn_info a ON a.asn = r.asn",
        );
        sql.push_str(" WHERE r.gen = ?");
        let mut args: Vec<rusqlite::types::Value> = vec![g.into()];
        if let Some(cc) = country {
            sql.push_str(" AND a.country_code = ?");
            args.push(country_key(cc).into());
        }
        sql.push_str(&format!(
            " ORDER BY {} {dir}, r.asn {dir} LIMIT ?",
            sort.column()
        ));
        args.push(i64::from(limit).into());
        let mut st = self.connection().prepare(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args), |r| {
            let u = |i: usize| r.get::<_, i64>(i).map(|v| u64::try_from(v).unwrap_or(0));
            let as_name: String = r.get(9)?;
            let org_name: String = r.get(10)?;
            Ok(AsRow {
                agg: AsAggregate {
                    asn: u32::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    cone: u(1)?,
                    pfxs: u(2)?,
                    ipv4: u(3)?,
                    ipv6: r.get::<_, String>(4)?.parse().unwrap_or(0),
                    rpki_valid: u(5)?,
                    rpki_invalid: u(6)?,
                    rpki_unknown: u(7)?,
                },
                country: r.get(8)?,
                name: if as_name.is_empty() {
                    org_name
                } else {
                    as_name
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One AS of the registry; `None` when neither the registry nor the
    /// routing snapshot knows it.
    pub fn asn_entity(&self, asn: u32) -> Result<Option<AsnEntity>> {
        let conn = self.connection();
        let e = conn
            .prepare_cached(
                "SELECT country_code, org_name, as_name, org_id, source, organization FROM asn_info WHERE asn = ?1",
            )?
            .query_row(params![i64::from(asn)], |r| {
                Ok(AsnEntity {
                    asn,
                    country: r.get(0)?,
                    org_name: r.get(1)?,
                    as_name: r.get(2)?,
                    org_id: r.get(3)?,
                    source: r.get(4)?,
                    organization: r.get(5)?,
                })
            })
            .optional()?;
        if e.is_some() {
            return Ok(e);
        }
        let routed: Option<i64> = conn
            .prepare_cached("SELECT asn FROM route_ases WHERE asn = ?1 LIMIT 1")?
            .query_row(params![i64::from(asn)], |r| r.get(0))
            .optional()?;
        Ok(routed.map(|_| AsnEntity {
            asn,
            ..AsnEntity::default()
        }))
    }

    /// Other ASes of the same organisation (at most `limit`), ascending.
    pub fn asn_siblings(&self, org_id: &str, asn: u32, limit: u32) -> Result<Vec<AsnEntity>> {
        if org_id.is_empty() {
            return Ok(Vec::new());
        }
        self.entities_where("org_id = ?1 AND asn != ?2 ORDER BY asn LIMIT ?3", |st| {
            st.query_map(
                params![org_id, i64::from(asn), i64::from(limit)],
                entity_row,
            )
            .and_then(|rows| rows.collect())
        })
    }

    /// `entities/asns`: registry rows, optionally only `asns` and/or one
    /// country, by ASN, `limit` after `offset`.
    pub fn asn_list(
        &self,
        asns: Option<&[u32]>,
        country: Option<&str>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<AsnEntity>> {
        let mut sql = String::from(
            "SELECT asn, country_code, org_name, as_name, org_id, source, organization FROM asn_info WHERE 1",
        );
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(list) = asns {
            sql.push_str(" AND asn IN (SELECT value FROM json_each(?))");
            let json = serde_json::to_string(list)?;
            args.push(json.into());
        }
        if let Some(cc) = country {
            sql.push_str(" AND country_code = ?");
            args.push(country_key(cc).into());
        }
        sql.push_str(" ORDER BY asn LIMIT ? OFFSET ?");
        args.push(i64::from(limit).into());
        args.push(sat(offset).into());
        let mut st = self.connection().prepare(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args), entity_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn entities_where(
        &self,
        cond: &str,
        run: impl FnOnce(&mut rusqlite::CachedStatement<'_>) -> rusqlite::Result<Vec<AsnEntity>>,
    ) -> Result<Vec<AsnEntity>> {
        let sql = format!(
            "SELECT asn, country_code, org_name, as_name, org_id, source, organization FROM asn_info WHERE {cond}"
        );
        let mut st = self.connection().prepare_cached(&sql)?;
        Ok(run(&mut st)?)
    }

    /// `entities/asns/{asn}/rel`: the relationships of `asn` (with one
    /// other AS only, if given), by the other ASN; at most
    /// [`MAX_ANSWER_ROWS`].
    pub fn asn_rels(&self, asn: u32, other: Option<u32>) -> Result<Vec<RelRow>> {
        let conn = self.connection();
        let map = |r: &rusqlite::Row<'_>| {
            Ok(RelRow {
                asn2: u32::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                rel: r.get(1)?,
            })
        };
        let rows: Vec<RelRow> = match other {
            Some(b) => conn
                .prepare_cached("SELECT asn2, rel FROM asn_rels WHERE asn1 = ?1 AND asn2 = ?2")?
                .query_map(params![i64::from(asn), i64::from(b)], map)?
                .collect::<rusqlite::Result<_>>()?,
            None => conn
                .prepare_cached(
                    "SELECT asn2, rel FROM asn_rels WHERE asn1 = ?1 ORDER BY asn2 LIMIT ?2",
                )?
                .query_map(params![i64::from(asn), MAX_ANSWER_ROWS as i64], map)?
                .collect::<rusqlite::Result<_>>()?,
        };
        Ok(rows)
    }
}

fn entity_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AsnEntity> {
    Ok(AsnEntity {
        asn: u32::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
        country: r.get(1)?,
        org_name: r.get(2)?,
        as_name: r.get(3)?,
        org_id: r.get(4)?,
        source: r.get(5)?,
        organization: r.get(6)?,
    })
}

//! Typed list queries and their translation to parameterised SQL. The API
//! layer validates user input into these; nothing here trusts a string to
//! be SQL.

use ipnet::IpNet;
use rusqlite::types::Value;

use super::rows::{KIND_HIJACK, KIND_LEAK, PrefixKey, ROLE_VICTIM};

/// Sort direction; ties always break by id in the same direction.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum SortDir {
    /// Smallest first.
    Asc,
    /// Largest first (the default: newest events first).
    #[default]
    Desc,
}

impl SortDir {
    fn sql(self) -> &'static str {
        match self {
            SortDir::Asc => "ASC",
            SortDir::Desc => "DESC",
        }
    }
}

/// Hijack sort keys (Radar's `sortBy`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum HijackSort {
    /// Event id.
    #[default]
    Id,
    /// `min_hijack_ts`, the start of the event.
    Time,
    /// `confidence_score`.
    Confidence,
}

/// Leak sort keys (Radar's `sortBy`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum LeakSort {
    /// Event id.
    #[default]
    Id,
    /// `leak_count`.
    Leaks,
    /// `peer_count`.
    Peers,
    /// `prefix_count`.
    Prefixes,
    /// `origin_count`.
    Origins,
    /// `min_ts`, the start of the event.
    Time,
}

/// How `prefix` matches an event's prefixes.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum PrefixMatch {
    /// The same prefix only (Radar's documented behaviour).
    #[default]
    Exact,
    /// Event prefixes equal to or covering (less specific than) the query.
    Covering,
    /// Event prefixes equal to or inside (more specific than) the query.
    MoreSpecific,
    /// Covering or more specific.
    Any,
}

/// A prefix filter.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PrefixFilter {
    /// The queried network (host bits cleared).
    pub net: IpNet,
    /// How it matches.
    pub mode: PrefixMatch,
}

/// Filters and paging common to both endpoints.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Common {
    /// `eventId`.
    pub event_id: Option<i64>,
    /// `involvedAsn`.
    pub involved: Option<u32>,
    /// `involvedCountry`, upper case.
    pub country: Option<String>,
    /// `prefix` (hijacks; on leaks an extension over the sample of leaked
    /// prefixes).
    pub prefix: Option<PrefixFilter>,
    /// Inclusive lower bound on the event start, microseconds.
    pub start: Option<i64>,
    /// Inclusive upper bound on the event start, microseconds.
    pub end: Option<i64>,
    /// Extension `minId`: only ids at or above.
    pub min_id: Option<i64>,
    /// Extension `maxId`: only ids at or below (pins a view for paging).
    pub max_id: Option<i64>,
    /// Sort direction.
    pub dir: SortDir,
    /// Page, from 1.
    pub page: u32,
    /// Page size.
    pub per_page: u32,
}

/// A hijack list query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HijackQuery {
    /// Shared filters and paging.
    pub common: Common,
    /// `hijackerAsn`.
    pub hijacker: Option<u32>,
    /// `victimAsn`.
    pub victim: Option<u32>,
    /// `minConfidence`.
    pub min_confidence: Option<i32>,
    /// `maxConfidence`.
    pub max_confidence: Option<i32>,
    /// `sortBy`.
    pub sort: HijackSort,
}

/// A leak list query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeakQuery {
    /// Shared filters and paging.
    pub common: Common,
    /// `leakAsn`.
    pub leaker: Option<u32>,
    /// `sortBy`.
    pub sort: LeakSort,
}

/// A join-table lookup that can drive a query: its rows are unique per
/// event and its primary key lists them in `event_id` order.
#[derive(Debug, Clone)]
pub struct Driver {
    from: String,
    cond: String,
    params: Vec<Value>,
    at: usize,
}

/// A WHERE clause over table alias `e` with its parameters.
#[derive(Debug, Default)]
pub struct Sql {
    /// The conditions, joined with AND, each with its parameters.
    pub conds: Vec<(String, Vec<Value>)>,
    /// A cheaper way to count the matches when the only condition is one
    /// join-table lookup: the count straight from that table's index.
    join_count: Option<(String, Vec<Value>)>,
    /// The first join-table lookup with one row per event.
    driver: Option<Driver>,
}

impl Sql {
    fn push(&mut self, cond: impl Into<String>, params: impl IntoIterator<Item = Value>) {
        self.conds.push((cond.into(), params.into_iter().collect()));
    }

    /// A join-table condition `e.id IN (SELECT event_id FROM <from> WHERE
    /// <cond>)`; `distinct` when an event can match on several rows.
    fn push_join(&mut self, from: &str, cond: &str, params: Vec<Value>, distinct: bool) {
        let count = if distinct {
            "count(DISTINCT event_id)"
        } else {
            "count(*)"
        };
        self.join_count = Some((
            format!("SELECT {count} FROM {from} WHERE {cond}"),
            params.clone(),
        ));
        if !distinct && self.driver.is_none() {
            self.driver = Some(Driver {
                from: from.to_string(),
                cond: cond.to_string(),
                params: params.clone(),
                at: self.conds.len(),
            });
        }
        self.push(
            format!("e.id IN (SELECT event_id FROM {from} WHERE {cond})"),
            params,
        );
    }

    /// All conditions and parameters, except the one at `skip`.
    fn parts(&self, skip: Option<usize>) -> (Vec<&str>, Vec<Value>) {
        let mut conds = Vec::new();
        let mut params = Vec::new();
        for (i, (c, p)) in self.conds.iter().enumerate() {
            if Some(i) != skip {
                conds.push(c.as_str());
                params.extend(p.iter().cloned());
            }
        }
        (conds, params)
    }

    /// `WHERE ...` (or nothing) and its parameters.
    pub fn where_clause(&self) -> (String, Vec<Value>) {
        let (conds, params) = self.parts(None);
        if conds.is_empty() {
            (String::new(), params)
        } else {
            (format!("WHERE {}", conds.join(" AND ")), params)
        }
    }

    /// The driver's FROM, WHERE and parameters, with the other conditions.
    fn driven(&self, table: &str) -> Option<(String, Vec<Value>)> {
        let d = self.driver.as_ref()?;
        let (rest, rest_params) = self.parts(Some(d.at));
        let mut conds = vec![d.cond.as_str()];
        conds.extend(rest);
        let mut params = d.params.clone();
        params.extend(rest_params);
        Some((
            format!(
                "FROM {} j CROSS JOIN {table} e ON e.id = j.event_id WHERE {}",
                d.from,
                conds.join(" AND ")
            ),
            params,
        ))
    }

    /// The count query: from the join table's index alone when it is the
    /// only condition; driven by it when there is one; else over the event
    /// table.
    pub fn count_query(&self, table: &str) -> (String, Vec<Value>) {
        if let Some((sql, params)) = &self.join_count
            && self.conds.len() == 1
        {
            return (sql.clone(), params.clone());
        }
        if let Some((from, params)) = self.driven(table) {
            return (format!("SELECT count(*) {from}"), params);
        }
        let (w, params) = self.where_clause();
        (format!("SELECT count(*) FROM {table} e {w}"), params)
    }

    /// The page query (`LIMIT ? OFFSET ?` appended by the caller). Sorted
    /// by id with a join lookup, the join table's primary key drives it in
    /// id order, so the scan stops after the page instead of collecting
    /// every match first.
    pub fn page_query(
        &self,
        table: &str,
        order: &str,
        by_id: Option<SortDir>,
    ) -> (String, Vec<Value>) {
        if let Some(dir) = by_id
            && let Some((from, params)) = self.driven(table)
        {
            return (
                format!("SELECT e.id {from} ORDER BY j.event_id {}", dir.sql()),
                params,
            );
        }
        let (w, params) = self.where_clause();
        (format!("SELECT e.id FROM {table} e {w} {order}"), params)
    }
}

fn common_sql(kind: i64, c: &Common, sql: &mut Sql) {
    if let Some(id) = c.event_id {
        sql.push("e.id = ?", [Value::Integer(id)]);
    }
    if let Some(id) = c.min_id {
        sql.push("e.id >= ?", [Value::Integer(id)]);
    }
    if let Some(id) = c.max_id {
        sql.push("e.id <= ?", [Value::Integer(id)]);
    }
    if let Some(asn) = c.involved {
        sql.push_join(
            "event_asns",
            "kind = ? AND asn = ?",
            vec![Value::Integer(kind), Value::Integer(i64::from(asn))],
            false,
        );
    }
    if let Some(cc) = &c.country {
        sql.push_join(
            "event_countries",
            "kind = ? AND cc = ?",
            vec![Value::Integer(kind), Value::Text(cc.clone())],
            false,
        );
    }
    if let Some(p) = &c.prefix {
        prefix_sql(kind, p, sql);
    }
    if let Some(t) = c.start {
        sql.push("e.min_ts >= ?", [Value::Integer(t)]);
    }
    if let Some(t) = c.end {
        sql.push("e.min_ts <= ?", [Value::Integer(t)]);
    }
}

fn prefix_sql(kind: i64, p: &PrefixFilter, sql: &mut Sql) {
    let key = PrefixKey::of_net(&p.net);
    let covering = || {
        let supernets: Vec<Value> = (0..=p.net.prefix_len())
            .filter_map(|len| IpNet::new(p.net.network(), len).ok())
            .map(|n| Value::Text(n.trunc().to_string()))
            .collect();
        let marks = vec!["?"; supernets.len()].join(", ");
        (format!("prefix IN ({marks})"), supernets)
    };
    let inside = || {
        (
            "(fam = ? AND lo >= ? AND lo <= ? AND hi <= ?)".to_string(),
            vec![
                Value::Integer(key.fam),
                Value::Blob(key.lo.clone()),
                Value::Blob(key.hi.clone()),
                Value::Blob(key.hi.clone()),
            ],
        )
    };
    let exact = || {
        (
            "prefix = ?".to_string(),
            vec![Value::Text(key.text.clone())],
        )
    };
    // The address-range lookup names its index: without statistics the
    // planner may prefer scanning the primary key on `kind` alone. An event
    // can have several prefixes in a range, hence DISTINCT counts there.
    let with_kind = |cond: String, params: Vec<Value>| {
        let mut all = vec![Value::Integer(kind)];
        all.extend(params);
        (format!("kind = ? AND {cond}"), all)
    };
    let range = "event_prefixes INDEXED BY event_prefixes_range";
    match p.mode {
        PrefixMatch::Exact => {
            let (c, v) = exact();
            let (c, v) = with_kind(c, v);
            sql.push_join("event_prefixes", &c, v, false);
        }
        PrefixMatch::Covering => {
            let (c, v) = covering();
            let (c, v) = with_kind(c, v);
            sql.push_join("event_prefixes", &c, v, true);
        }
        PrefixMatch::MoreSpecific => {
            let (c, v) = inside();
            let (c, v) = with_kind(c, v);
            sql.push_join(range, &c, v, true);
        }
        PrefixMatch::Any => {
            let (a, pa) = covering();
            let (a, pa) = with_kind(a, pa);
            let (b, pb) = inside();
            let (b, pb) = with_kind(b, pb);
            let mut all = pa;
            all.extend(pb);
            sql.push(
                format!(
                    "(e.id IN (SELECT event_id FROM event_prefixes WHERE {a}) OR e.id IN (SELECT event_id FROM {range} WHERE {b}))"
                ),
                all,
            );
        }
    }
}

impl HijackQuery {
    /// The WHERE clause.
    pub fn to_sql(&self) -> Sql {
        let mut sql = Sql::default();
        common_sql(KIND_HIJACK, &self.common, &mut sql);
        if let Some(asn) = self.hijacker {
            sql.push("e.hijacker_asn = ?", [Value::Integer(i64::from(asn))]);
        }
        if let Some(asn) = self.victim {
            sql.push_join(
                "event_asns",
                "kind = ? AND asn = ? AND role & ? != 0",
                vec![
                    Value::Integer(KIND_HIJACK),
                    Value::Integer(i64::from(asn)),
                    Value::Integer(ROLE_VICTIM),
                ],
                false,
            );
        }
        if let Some(c) = self.min_confidence {
            sql.push("e.confidence >= ?", [Value::Integer(i64::from(c))]);
        }
        if let Some(c) = self.max_confidence {
            sql.push("e.confidence <= ?", [Value::Integer(i64::from(c))]);
        }
        sql
    }

    /// The direction when sorted by id.
    pub fn by_id(&self) -> Option<SortDir> {
        (self.sort == HijackSort::Id).then_some(self.common.dir)
    }

    /// The ORDER BY clause.
    pub fn order_by(&self) -> String {
        let d = self.common.dir.sql();
        match self.sort {
            HijackSort::Id => format!("ORDER BY e.id {d}"),
            HijackSort::Time => format!("ORDER BY e.min_ts {d}, e.id {d}"),
            HijackSort::Confidence => format!("ORDER BY e.confidence {d}, e.id {d}"),
        }
    }
}

impl LeakQuery {
    /// The WHERE clause.
    pub fn to_sql(&self) -> Sql {
        let mut sql = Sql::default();
        common_sql(KIND_LEAK, &self.common, &mut sql);
        if let Some(asn) = self.leaker {
            sql.push("e.leak_asn = ?", [Value::Integer(i64::from(asn))]);
        }
        sql
    }

    /// The direction when sorted by id.
    pub fn by_id(&self) -> Option<SortDir> {
        (self.sort == LeakSort::Id).then_some(self.common.dir)
    }

    /// The ORDER BY clause.
    pub fn order_by(&self) -> String {
        let d = self.common.dir.sql();
        let col = match self.sort {
            LeakSort::Id => return format!("ORDER BY e.id {d}"),
            LeakSort::Leaks => "leak_count",
            LeakSort::Peers => "peer_count",
            LeakSort::Prefixes => "prefix_count",
            LeakSort::Origins => "origin_count",
            LeakSort::Time => "min_ts",
        };
        format!("ORDER BY e.{col} {d}, e.id {d}")
    }
}

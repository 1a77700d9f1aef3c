//! Radar's routing and AS-entity endpoints over the published routing
//! snapshot and AS registry (`store::routes`): `routes/pfx2as`,
//! `routes/moas`, `routes/stats`, `routes/ases`, `entities/asns`,
//! `entities/asns/{asn}` and `entities/asns/{asn}/rel`. Parameters, field
//! names and envelopes are Radar's (the official SDKs' response models);
//! every parameter is checked as for the event lists (unknown, repeated,
//! empty or malformed values are a 400 naming the parameter).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::Uri;
use axum::response::Response;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::query_string::{self, Params};
use super::render;
use super::values::{asn, boolean, choice, country, int, prefix};
use crate::store::{AsSort, AsnEntity, PrefixOrigin, RouteStats, RoutesMeta};

/// Query parameters of `routes/pfx2as`.
pub const PFX2AS_PARAMS: &[&str] = &[
    "prefix",
    "origin",
    "rpkiStatus",
    "longestPrefixMatch",
    "format",
];
/// Query parameters of `routes/moas`.
pub const MOAS_PARAMS: &[&str] = &["origin", "prefix", "invalid_only", "format"];
/// Query parameters of `routes/stats`.
pub const STATS_PARAMS: &[&str] = &["asn", "location", "format"];
/// Query parameters of `routes/ases`.
pub const ASES_PARAMS: &[&str] = &["location", "limit", "sortBy", "sortOrder", "format"];
/// Query parameters of `entities/asns/{asn}`.
pub const ENTITY_PARAMS: &[&str] = &["format"];
/// Query parameters of `entities/asns`.
pub const ENTITY_LIST_PARAMS: &[&str] =
    &["asn", "location", "limit", "offset", "orderBy", "format"];
/// Query parameters of `entities/asns/{asn}/rel`.
pub const REL_PARAMS: &[&str] = &["asn2", "format"];

/// Default and largest `limit` of `routes/ases` and `entities/asns`.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest `limit`.
pub const MAX_LIMIT: u32 = 10_000;
/// Most ASNs in one `entities/asns?asn=` list.
pub const MAX_ASN_LIST: usize = 100;
/// Most siblings listed in an entity's `related`.
const MAX_RELATED: u32 = 100;

const AS_SORTS: &[&str] = &[
    "cone",
    "pfxs",
    "ipv4",
    "ipv6",
    "rpki_valid",
    "rpki_invalid",
    "rpki_unknown",
];

fn csv_wanted(p: &Params) -> Result<bool, ApiError> {
    Ok(match p.get("format") {
        None => false,
        Some(v) => choice("format", v, &["JSON", "CSV"])? == 1,
    })
}

fn meta(st: &AppState, m: &RoutesMeta) -> Value {
    json!({
        "data_time": m.data_time.map(|t| t.to_radar_secs()).unwrap_or_default(),
        "query_time": st.now().to_radar_secs(),
        "total_peers": m.total_peers,
    })
}

fn origin_value(r: &PrefixOrigin) -> Value {
    json!({"origin": r.1, "peer_count": r.2, "prefix": r.0, "rpki_validation": r.3})
}

/// `GET /client/v4/radar/bgp/routes/pfx2as`.
pub async fn pfx2as(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = query_string::parse(q.as_deref(), PFX2AS_PARAMS, &[])?;
    let csv = csv_wanted(&p)?;
    let pfx = p.get("prefix").map(|v| prefix("prefix", v)).transpose()?;
    let origin = p.get("origin").map(|v| asn("origin", v)).transpose()?;
    let rpki = p
        .get("rpkiStatus")
        .map(|v| choice("rpkiStatus", v, &["VALID", "INVALID", "UNKNOWN"]))
        .transpose()?
        .map(|i| ["valid", "invalid", "unknown"][i]);
    let longest = p
        .get("longestPrefixMatch")
        .map(|v| boolean("longestPrefixMatch", v))
        .transpose()?
        .unwrap_or(false);
    if pfx.is_none() && origin.is_none() {
        return Err(ApiError::param(
            "prefix",
            "prefix: give a prefix or an origin to look up",
        ));
    }
    if longest && pfx.is_none() {
        return Err(ApiError::param(
            "longestPrefixMatch",
            "longestPrefixMatch: only meaningful together with prefix",
        ));
    }
    let (rows, m) = st
        .read(move |r| {
            r.in_routes_snapshot(|r, g| {
                Ok((r.pfx2as(g, pfx, origin, rpki, longest)?, r.routes_meta()?))
            })
        })
        .await?;
    if csv {
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| vec![r.1.to_string(), r.2.to_string(), r.0.clone(), r.3.clone()])
            .collect();
        return Ok(render::csv_rows(
            &["origin", "peer_count", "prefix", "rpki_validation"],
            &rows,
        ));
    }
    let origins: Vec<Value> = rows.iter().map(origin_value).collect();
    Ok(render::json_result(
        json!({"meta": meta(&st, &m), "prefix_origins": origins}),
    ))
}

/// `GET /client/v4/radar/bgp/routes/moas`.
pub async fn moas(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = query_string::parse(q.as_deref(), MOAS_PARAMS, &[])?;
    let csv = csv_wanted(&p)?;
    let pfx = p.get("prefix").map(|v| prefix("prefix", v)).transpose()?;
    let origin = p.get("origin").map(|v| asn("origin", v)).transpose()?;
    let invalid_only = p
        .get("invalid_only")
        .map(|v| boolean("invalid_only", v))
        .transpose()?
        .unwrap_or(false);
    let (groups, m) = st
        .read(move |r| {
            r.in_routes_snapshot(|r, g| {
                Ok((r.moas(g, pfx, origin, invalid_only)?, r.routes_meta()?))
            })
        })
        .await?;
    if csv {
        let rows: Vec<Vec<String>> = groups
            .iter()
            .flat_map(|(_, v)| v.iter())
            .map(|r| vec![r.0.clone(), r.1.to_string(), r.2.to_string(), r.3.clone()])
            .collect();
        return Ok(render::csv_rows(
            &["prefix", "origin", "peer_count", "rpki_validation"],
            &rows,
        ));
    }
    let moas: Vec<Value> = groups
        .iter()
        .map(|(prefix, v)| {
            let origins: Vec<Value> = v
                .iter()
                .map(|r| json!({"origin": r.1, "peer_count": r.2, "rpki_validation": r.3}))
                .collect();
            json!({"origins": origins, "prefix": prefix})
        })
        .collect();
    Ok(render::json_result(
        json!({"meta": meta(&st, &m), "moas": moas}),
    ))
}

fn stats_fields(s: &RouteStats) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let groups: [(&str, &[u64; 3]); 6] = [
        ("distinct_origins", &s.origins),
        ("distinct_prefixes", &s.prefixes),
        ("routes_invalid", &s.invalid),
        ("routes_total", &s.total),
        ("routes_unknown", &s.unknown),
        ("routes_valid", &s.valid),
    ];
    for (name, v) in groups {
        out.push((name.to_string(), v[0]));
        out.push((format!("{name}_ipv4"), v[1]));
        out.push((format!("{name}_ipv6"), v[2]));
    }
    out
}

/// `GET /client/v4/radar/bgp/routes/stats`.
pub async fn stats(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = query_string::parse(q.as_deref(), STATS_PARAMS, &[])?;
    let csv = csv_wanted(&p)?;
    let a = p.get("asn").map(|v| asn("asn", v)).transpose()?;
    let cc = p
        .get("location")
        .map(|v| country("location", v))
        .transpose()?;
    let (s, m) = st
        .read(move |r| {
            r.in_routes_snapshot(|r, g| Ok((r.route_stats(g, a, cc.as_deref())?, r.routes_meta()?)))
        })
        .await?;
    let fields = stats_fields(&s);
    if csv {
        let cols: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        let row: Vec<String> = fields.iter().map(|(_, v)| v.to_string()).collect();
        return Ok(render::csv_rows(&cols, &[row]));
    }
    let stats: serde_json::Map<String, Value> =
        fields.into_iter().map(|(n, v)| (n, json!(v))).collect();
    Ok(render::json_result(
        json!({"meta": meta(&st, &m), "stats": stats}),
    ))
}

fn limit(p: &Params) -> Result<u32, ApiError> {
    Ok(p.get("limit")
        .map(|v| int("limit", v, 1, i64::from(MAX_LIMIT)))
        .transpose()?
        .map_or(DEFAULT_LIMIT, |n| n as u32))
}

/// `GET /client/v4/radar/bgp/routes/ases`.
pub async fn ases(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = query_string::parse(q.as_deref(), ASES_PARAMS, &[])?;
    let csv = csv_wanted(&p)?;
    let cc = p
        .get("location")
        .map(|v| country("location", v))
        .transpose()?;
    let limit = limit(&p)?;
    let sort = match p.get("sortBy") {
        None => AsSort::Cone,
        Some(v) => [
            AsSort::Cone,
            AsSort::Pfxs,
            AsSort::Ipv4,
            AsSort::Ipv6,
            AsSort::RpkiValid,
            AsSort::RpkiInvalid,
            AsSort::RpkiUnknown,
        ][choice("sortBy", v, AS_SORTS)?],
    };
    let desc = match p.get("sortOrder") {
        None => true,
        Some(v) => choice("sortOrder", v, &["ASC", "DESC"])? == 1,
    };
    let (rows, m) = st
        .read(move |r| {
            r.in_routes_snapshot(|r, g| {
                Ok((
                    r.route_ases(g, cc.as_deref(), sort, desc, limit)?,
                    r.routes_meta()?,
                ))
            })
        })
        .await?;
    let cols = [
        "asn",
        "coneSize",
        "country",
        "ipv4Count",
        "ipv6Count",
        "name",
        "pfxsCount",
        "rpkiInvalid",
        "rpkiUnknown",
        "rpkiValid",
    ];
    if csv {
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                vec![
                    r.agg.asn.to_string(),
                    r.agg.cone.to_string(),
                    r.country.clone(),
                    r.agg.ipv4.to_string(),
                    r.agg.ipv6.to_string(),
                    r.name.clone(),
                    r.agg.pfxs.to_string(),
                    r.agg.rpki_invalid.to_string(),
                    r.agg.rpki_unknown.to_string(),
                    r.agg.rpki_valid.to_string(),
                ]
            })
            .collect();
        return Ok(render::csv_rows(&cols, &rows));
    }
    let asns: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "asn": r.agg.asn,
                "coneSize": r.agg.cone,
                "country": r.country,
                "ipv4Count": r.agg.ipv4,
                "ipv6Count": r.agg.ipv6.to_string(),
                "name": r.name,
                "pfxsCount": r.agg.pfxs,
                "rpkiInvalid": r.agg.rpki_invalid,
                "rpkiUnknown": r.agg.rpki_unknown,
                "rpkiValid": r.agg.rpki_valid,
            })
        })
        .collect();
    let meta = json!({
        "dataTime": m.data_time.map(|t| t.to_radar_secs()).unwrap_or_default(),
        "queryTime": st.now().to_radar_secs(),
        "totalPeers": m.total_peers,
    });
    Ok(render::json_result(json!({"asns": asns, "meta": meta})))
}

/// The ASN segment of `/entities/asns/{asn}[/rel]`.
fn path_asn(uri: &Uri) -> Result<u32, ApiError> {
    let seg = uri
        .path()
        .trim_start_matches("/client/v4/radar/entities/asns/")
        .split('/')
        .next()
        .unwrap_or("");
    let seg = query_string::decode(seg).unwrap_or_default();
    asn("asn", &seg)
}

fn display_name(e: &AsnEntity) -> String {
    if e.as_name.is_empty() {
        e.organization.clone()
    } else {
        e.as_name.clone()
    }
}

fn org_name(e: &AsnEntity) -> String {
    if e.organization.is_empty() {
        e.org_name.clone()
    } else {
        e.organization.clone()
    }
}

/// `GET /client/v4/radar/entities/asns/{asn}`.
pub async fn asn_get(
    State(st): State<Arc<AppState>>,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = query_string::parse(q.as_deref(), ENTITY_PARAMS, &[])?;
    let csv = csv_wanted(&p)?;
    let a = path_asn(&uri)?;
    let (e, related) = st
        .read(move |r| {
            let e = r.asn_entity(a)?;
            let related = match &e {
                Some(e) => r.asn_siblings(&e.org_id, a, MAX_RELATED)?,
                None => Vec::new(),
            };
            Ok((e, related))
        })
        .await?;
    let e = e.ok_or_else(|| ApiError::NotFound(format!("no data for AS{a}")))?;
    if csv {
        return Ok(render::csv_rows(
            &["asn", "country", "name", "orgName", "source"],
            &[vec![
                e.asn.to_string(),
                e.country.clone(),
                display_name(&e),
                org_name(&e),
                e.source.clone(),
            ]],
        ));
    }
    let related: Vec<Value> = related
        .iter()
        .map(|s| json!({"asn": s.asn, "name": display_name(s)}))
        .collect();
    Ok(render::json_result(json!({"asn": {
        "asn": e.asn,
        "confidenceLevel": 0,
        "country": e.country,
        "countryName": "",
        "estimatedUsers": {"locations": []},
        "name": display_name(&e),
        "orgName": org_name(&e),
        "related": related,
        "source": e.source,
        "website": "",
    }})))
}

/// `GET /client/v4/radar/entities/asns`.
pub async fn asn_list(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = query_string::parse(q.as_deref(), ENTITY_LIST_PARAMS, &[])?;
    let csv = csv_wanted(&p)?;
    let asns = match p.get("asn") {
        None => None,
        Some(v) => {
            let list: Vec<u32> = v
                .split(',')
                .map(|a| asn("asn", a))
                .collect::<Result<_, _>>()?;
            if list.len() > MAX_ASN_LIST {
                return Err(ApiError::param(
                    "asn",
                    format!("asn: at most {MAX_ASN_LIST} ASNs per request"),
                ));
            }
            Some(list)
        }
    };
    let cc = p
        .get("location")
        .map(|v| country("location", v))
        .transpose()?;
    let limit = limit(&p)?;
    let offset = p
        .get("offset")
        .map(|v| int("offset", v, 0, 1_000_000_000))
        .transpose()?
        .unwrap_or(0) as u64;
    if let Some(v) = p.get("orderBy") {
        // No population estimates: both orders are by ASN.
        choice("orderBy", v, &["ASN", "POPULATION"])?;
    }
    let rows = st
        .read(move |r| r.asn_list(asns.as_deref(), cc.as_deref(), limit, offset))
        .await?;
    if csv {
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|e| {
                vec![
                    e.asn.to_string(),
                    e.country.clone(),
                    display_name(e),
                    org_name(e),
                ]
            })
            .collect();
        return Ok(render::csv_rows(
            &["asn", "country", "name", "orgName"],
            &rows,
        ));
    }
    let asns: Vec<Value> = rows
        .iter()
        .map(|e| {
            json!({
                "asn": e.asn,
                "country": e.country,
                "countryName": "",
                "estimatedUsers": {},
                "name": display_name(e),
                "orgName": org_name(e),
            })
        })
        .collect();
    Ok(render::json_result(json!({"asns": asns})))
}

/// `GET /client/v4/radar/entities/asns/{asn}/rel`.
pub async fn asn_rel(
    State(st): State<Arc<AppState>>,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = query_string::parse(q.as_deref(), REL_PARAMS, &[])?;
    let csv = csv_wanted(&p)?;
    let a = path_asn(&uri)?;
    let other = p.get("asn2").map(|v| asn("asn2", v)).transpose()?;
    let (rels, names, m, source) = st
        .read(move |r| {
            let rels = r.asn_rels(a, other)?;
            let mut asns: Vec<u32> = rels.iter().map(|x| x.asn2).collect();
            asns.push(a);
            let names = r.asn_info(&asns)?;
            Ok((rels, names, r.routes_meta()?, r.asrel_source()?))
        })
        .await?;
    let info = |asn: u32| {
        names
            .iter()
            .find(|i| i.asn == asn)
            .map(|i| (i.country_code.clone(), i.org_name.clone()))
            .unwrap_or_default()
    };
    let (c1, n1) = info(a);
    let rows: Vec<(u32, String, String, String)> = rels
        .iter()
        .map(|x| {
            let (c, n) = info(x.asn2);
            (x.asn2, c, n, x.rel.clone())
        })
        .collect();
    if csv {
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|(b, c, n, rel)| {
                vec![
                    a.to_string(),
                    c1.clone(),
                    n1.clone(),
                    b.to_string(),
                    c.clone(),
                    n.clone(),
                    rel.clone(),
                ]
            })
            .collect();
        return Ok(render::csv_rows(
            &[
                "asn1",
                "asn1_country",
                "asn1_name",
                "asn2",
                "asn2_country",
                "asn2_name",
                "rel",
            ],
            &rows,
        ));
    }
    let rels: Vec<Value> = rows
        .iter()
        .map(|(b, c, n, rel)| {
            json!({
                "asn1": a, "asn1_country": c1, "asn1_name": n1,
                "asn2": b, "asn2_country": c, "asn2_name": n, "rel": rel,
            })
        })
        .collect();
    let mut meta = meta(&st, &m);
    meta["source"] = json!(source);
    Ok(render::json_result(json!({"meta": meta, "rels": rels})))
}

//! Response bodies: Radar's success envelope around stored event documents
//! (spliced in as they are, without re-parsing), and CSV with a header row.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use crate::store::{AsnInfo, Page};

/// Radar's hijack fields, in the order of Radar's schema; the CSV columns.
pub const HIJACK_COLUMNS: &[&str] = &[
    "id",
    "confidence_score",
    "duration",
    "event_type",
    "hijack_msgs_count",
    "hijacker_asn",
    "hijacker_country",
    "is_stale",
    "max_hijack_ts",
    "max_msg_ts",
    "min_hijack_ts",
    "on_going_count",
    "peer_asns",
    "peer_ip_count",
    "prefixes",
    "tags",
    "victim_asns",
    "victim_countries",
];

/// Radar's leak fields; the CSV columns.
pub const LEAK_COLUMNS: &[&str] = &[
    "id",
    "countries",
    "detected_ts",
    "finished",
    "leak_asn",
    "leak_count",
    "leak_seg",
    "leak_type",
    "max_ts",
    "min_ts",
    "origin_count",
    "peer_count",
    "prefix_count",
];

/// The list envelope. `total_monitors` is present for hijacks only.
pub fn json_page(
    page: &Page,
    page_no: u32,
    per_page: u32,
    total_monitors: Option<u32>,
) -> Result<Response, ApiError> {
    let asn_info =
        serde_json::to_string(&page.asn_info).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut body = String::with_capacity(256 + page.docs.iter().map(String::len).sum::<usize>());
    body.push_str(r#"{"success":true,"errors":[],"messages":[],"result":{"asn_info":"#);
    body.push_str(&asn_info);
    body.push_str(r#","events":["#);
    for (i, doc) in page.docs.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(doc);
    }
    body.push(']');
    if let Some(n) = total_monitors {
        body.push_str(&format!(r#","total_monitors":{n}"#));
    }
    body.push_str(&format!(
        r#"}},"result_info":{{"count":{},"page":{page_no},"per_page":{per_page},"total_count":{}}}}}"#,
        page.docs.len(),
        page.total_count
    ));
    Ok(with_type(body, "application/json"))
}

/// A success envelope around any result.
pub fn json_result(result: Value) -> Response {
    let body = serde_json::json!({"success": true, "errors": [], "messages": [], "result": result});
    axum::Json(body).into_response()
}

/// CSV: a header row of `columns`, then one row per event. Lists are
/// space-separated within their cell (tags as `name:score`).
pub fn csv_page(page: &Page, columns: &[&str]) -> Result<Response, ApiError> {
    let mut out = columns.join(",");
    out.push_str("\r\n");
    for doc in &page.docs {
        let v: Value = serde_json::from_str(doc).map_err(|e| ApiError::Internal(e.to_string()))?;
        let cells: Vec<String> = columns
            .iter()
            .map(|c| csv_cell(&cell_text(v.get(*c))))
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    Ok(with_type(out, "text/csv; charset=utf-8"))
}

fn cell_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(xs)) => xs.iter().map(item_text).collect::<Vec<_>>().join(" "),
        Some(other) => other.to_string(),
    }
}

fn item_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => match (o.get("name"), o.get("score")) {
            (Some(Value::String(n)), Some(s)) => format!("{n}:{s}"),
            _ => v.to_string(),
        },
        other => other.to_string(),
    }
}

/// Quotes a cell when it holds a comma, quote or line break; cells that a
/// spreadsheet would run as a formula get a leading quote.
pub fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '@']) || (s.starts_with('-') && s.parse::<f64>().is_err()) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// CSV of plain rows under a header of `columns` (the routing and entity
/// endpoints), quoted as [`csv_page`] quotes.
pub fn csv_rows(columns: &[&str], rows: &[Vec<String>]) -> Response {
    let mut out = columns.join(",");
    out.push_str("\r\n");
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    with_type(out, "text/csv; charset=utf-8")
}

fn with_type(body: String, content_type: &'static str) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// `asn_info` as a JSON value.
pub fn asn_info_value(info: &[AsnInfo]) -> Value {
    serde_json::to_value(info).unwrap_or(Value::Array(Vec::new()))
}

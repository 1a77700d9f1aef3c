//! Request handlers: the two Radar list endpoints, event details, health,
//! metrics, the OpenAPI document and the 404 fallback.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::filters::{self, Format, HIJACK_PARAMS, LEAK_PARAMS};
use super::query_string;
use super::render::{self, HIJACK_COLUMNS, LEAK_COLUMNS};
use super::values;
use crate::store::SCHEMA_VERSION;

/// The OpenAPI document (also at `docs/openapi.json`).
pub const OPENAPI: &str = include_str!("../../../../docs/openapi.json");

/// `GET /client/v4/radar/bgp/hijacks/events`.
pub async fn list_hijacks(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let params = query_string::parse(q.as_deref(), HIJACK_PARAMS, LEAK_PARAMS)?;
    let (query, format) = filters::hijack_query(&params, st.now())?;
    let (page_no, per_page) = (query.common.page, query.common.per_page);
    let (page, monitors) = st
        .read(move |r| Ok((r.list_hijacks(&query)?, r.total_monitors()?)))
        .await?;
    match format {
        Format::Json => render::json_page(&page, page_no, per_page, Some(monitors)),
        Format::Csv => render::csv_page(&page, HIJACK_COLUMNS),
    }
}

/// `GET /client/v4/radar/bgp/leaks/events`.
pub async fn list_leaks(
    State(st): State<Arc<AppState>>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let params = query_string::parse(q.as_deref(), LEAK_PARAMS, HIJACK_PARAMS)?;
    let (query, format) = filters::leak_query(&params, st.now())?;
    let (page_no, per_page) = (query.common.page, query.common.per_page);
    let page = st.read(move |r| r.list_leaks(&query)).await?;
    match format {
        Format::Json => render::json_page(&page, page_no, per_page, None),
        Format::Csv => render::csv_page(&page, LEAK_COLUMNS),
    }
}

/// The id at the end of a detail path; no query parameters are accepted.
fn detail_id(uri: &Uri, q: Option<&str>) -> Result<u64, ApiError> {
    query_string::parse(q, &[], &[])?;
    let seg = uri.path().rsplit('/').next().unwrap_or("");
    let seg = query_string::decode(seg).unwrap_or_default();
    Ok(values::int("id", &seg, 1, i64::MAX)? as u64)
}

/// `GET /client/v4/radar/bgp/hijacks/events/{id}`: the event with sample
/// paths and its change history.
pub async fn hijack_detail(
    State(st): State<Arc<AppState>>,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let id = detail_id(&uri, q.as_deref())?;
    let d = st.read(move |r| r.hijack(id)).await?;
    let d = d.ok_or_else(|| ApiError::NotFound(format!("no hijack event with id {id}")))?;
    Ok(render::json_result(json!({
        "event": d.event,
        "changes": d.changes,
        "asn_info": render::asn_info_value(&d.asn_info),
    })))
}

/// `GET /client/v4/radar/bgp/leaks/events/{id}`.
pub async fn leak_detail(
    State(st): State<Arc<AppState>>,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let id = detail_id(&uri, q.as_deref())?;
    let d = st.read(move |r| r.leak(id)).await?;
    let d = d.ok_or_else(|| ApiError::NotFound(format!("no leak event with id {id}")))?;
    Ok(render::json_result(json!({
        "event": d.event,
        "changes": d.changes,
        "asn_info": render::asn_info_value(&d.asn_info),
    })))
}

/// `GET /healthz`: 200 when the store answers, 503 otherwise.
pub async fn healthz(State(st): State<Arc<AppState>>) -> Response {
    let ok = st
        .read(|r| {
            r.connection().query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await;
    match ok {
        Ok(()) => {
            axum::Json(json!({"status": "ok", "schema_version": SCHEMA_VERSION})).into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "store unavailable"})),
        )
            .into_response(),
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    let store = st
        .read(|r| Ok((r.counts()?, r.total_monitors()?)))
        .await
        .ok();
    let mut body = st.metrics.render(
        store.map(|s| s.0),
        store.map(|s| s.1),
        st.started.elapsed().as_secs_f64(),
    );
    let sources = st.sources.lock().map(|s| s.clone()).unwrap_or_default();
    if !sources.is_empty() {
        body.push_str(&crate::ingest::health::render_prometheus(&sources));
    }
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

/// `GET /openapi.json` and `GET /client/v4/radar/openapi.json`.
pub async fn openapi() -> Response {
    let mut resp = OPENAPI.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// A known path with a method it does not serve: 405 in the error envelope
/// (axum adds the `Allow` header).
pub async fn method_not_allowed(method: axum::http::Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "method {} is not allowed on {}",
        super::error::echo(method.as_str()),
        super::error::echo(uri.path())
    ))
}

/// Anything else: 404 in the error envelope.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no such path: {}", super::error::echo(uri.path())))
}

//! The web dashboard (`/dashboard/`): an event list with the API's filters,
//! event pages and an overview, for operators who look before they read.
//!
//! It exists so that `serve` and `run` need nothing else to be useful in a
//! browser: the page, its CSS and its JavaScript are embedded in the binary
//! (`include_str!`, no build step, no CDN, works offline), and the page
//! reads the same Radar-compatible JSON API every other client uses. The
//! few things that API cannot answer (state filter, events per day, top
//! ASNs, feed health, per-minute timeline, tag meanings) are small JSON
//! endpoints under `/dashboard/api/`, see [`data`].
//!
//! Auth: the static assets and the tag catalogue are public (they contain no
//! data); every `/dashboard/api/...` data endpoint sits behind the same
//! bearer-token middleware as the Radar endpoints. The page asks for a token
//! only when the API answers 401 and keeps it in the browser's
//! `localStorage` (see `docs/dashboard.md`).

pub mod data;
pub mod tags;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::api::{AppState, auth};

/// The page.
pub const INDEX_HTML: &str = include_str!("assets/index.html");
/// Its style sheet.
pub const APP_CSS: &str = include_str!("assets/app.css");
/// Its script.
pub const APP_JS: &str = include_str!("assets/app.js");
/// The icon.
pub const FAVICON_SVG: &str = include_str!("assets/favicon.svg");

/// Content security policy of the page: everything from this origin only.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The dashboard's routes, to be merged into [`crate::api::router`].
pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    let data = Router::new()
        .route("/dashboard/api/overview", get(data::overview))
        .route("/dashboard/api/hijacks/events", get(data::list_hijacks))
        .route("/dashboard/api/leaks/events", get(data::list_leaks))
        .route(
            "/dashboard/api/{kind}/events/{id}/timeline",
            get(data::timeline),
        )
        .route_layer(middleware::from_fn_with_state(state, auth::require_token));
    Router::new()
        .merge(data)
        .route("/", get(root))
        .route("/dashboard", get(root))
        .route("/dashboard/", get(index))
        .route("/dashboard/index.html", get(index))
        .route("/dashboard/app.css", get(css))
        .route("/dashboard/app.js", get(js))
        .route("/dashboard/favicon.svg", get(favicon))
        .route("/dashboard/api/tags", get(tags::catalogue))
}

/// `/` and `/dashboard`: to the page.
async fn root() -> Redirect {
    Redirect::temporary("/dashboard/")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

async fn index() -> Response {
    let mut resp = asset(INDEX_HTML, "text/html; charset=utf-8");
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

async fn css() -> Response {
    asset(APP_CSS, "text/css; charset=utf-8")
}

async fn js() -> Response {
    asset(APP_JS, "text/javascript; charset=utf-8")
}

async fn favicon() -> Response {
    asset(FAVICON_SVG, "image/svg+xml")
}

//! The Cloudflare Radar compatible HTTP API (axum): the hijack and leak
//! list endpoints with every Radar parameter, event details with history,
//! the routing and AS-entity endpoints over the published snapshot
//! (`routing`),
//! `/healthz`, Prometheus `/metrics` and the OpenAPI document. See
//! `docs/api.md` for the semantics of every parameter.
//!
//! ```text
//! request ─► metrics::track ─► auth::require_token ─► handlers
//!                                   (bearer tokens)      │ query_string::parse (unknown / repeated names)
//!                                                        │ filters (values ─► HijackQuery / LeakQuery)
//!                                                        ▼
//!                                           spawn_blocking ─► ReadPool ─► SQLite (WAL)
//! ```

pub mod auth;
pub mod bench;
pub mod cmd;
pub mod error;
pub mod filters;
mod handlers;
pub mod metrics;
pub mod query_string;
pub mod render;
pub mod routing;
pub mod server;
pub mod values;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::middleware;
use axum::routing::get;
use bgpsentry_core::model::Timestamp;

pub use auth::Tokens;
pub use error::ApiError;
pub use handlers::OPENAPI;

use crate::store::{ReadPool, Reader, Result as StoreResult};

/// Where "now" comes from for `dateRange`.
#[derive(Copy, Clone, Debug, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    Wall,
    /// A fixed instant (tests, replays of old data).
    Fixed(Timestamp),
}

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    /// Store readers.
    pub pool: Arc<ReadPool>,
    /// Accepted bearer tokens; empty means open.
    pub tokens: Tokens,
    /// Request metrics.
    pub metrics: metrics::Metrics,
    /// The clock for `dateRange`.
    pub clock: Clock,
    /// Start time, for uptime.
    pub started: Instant,
    /// Health of the daemon's live sources, exported on `/metrics`
    /// (empty for `serve`).
    pub sources: std::sync::Mutex<Vec<Arc<crate::ingest::health::SourceHealth>>>,
}

impl AppState {
    /// State over a reader pool.
    pub fn new(pool: ReadPool, tokens: Tokens, clock: Clock) -> Arc<AppState> {
        Arc::new(AppState {
            pool: Arc::new(pool),
            tokens,
            metrics: metrics::Metrics::default(),
            clock,
            started: Instant::now(),
            sources: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        match self.clock {
            Clock::Fixed(t) => t,
            Clock::Wall => Timestamp(chrono::Utc::now().timestamp_micros()),
        }
    }

    /// Runs a store read on a blocking thread.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Reader) -> StoreResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || pool.with(f))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map_err(ApiError::from)
    }
}

/// The router with every route; tests drive it with `oneshot`.
pub fn router(state: Arc<AppState>) -> Router {
    let protected = Router::new()
        .route(
            "/client/v4/radar/bgp/hijacks/events",
            get(handlers::list_hijacks),
        )
        .route(
            "/client/v4/radar/bgp/hijacks/events/{id}",
            get(handlers::hijack_detail),
        )
        .route(
            "/client/v4/radar/bgp/leaks/events",
            get(handlers::list_leaks),
        )
        .route(
            "/client/v4/radar/bgp/leaks/events/{id}",
            get(handlers::leak_detail),
        )
        .route("/client/v4/radar/bgp/routes/pfx2as", get(routing::pfx2as))
        .route("/client/v4/radar/bgp/routes/moas", get(routing::moas))
        .route("/client/v4/radar/bgp/routes/stats", get(routing::stats))
        .route("/client/v4/radar/bgp/routes/ases", get(routing::ases))
        .route("/client/v4/radar/entities/asns", get(routing::asn_list))
        .route(
            "/client/v4/radar/entities/asns/{asn}",
            get(routing::asn_get),
        )
        .route(
            "/client/v4/radar/entities/asns/{asn}/rel",
            get(routing::asn_rel),
        )
        .route("/metrics", get(handlers::metrics))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    Router::new()
        .merge(protected)
        .merge(crate::dashboard::router(state.clone()))
        .route("/healthz", get(handlers::healthz))
        .route("/openapi.json", get(handlers::openapi))
        .route("/client/v4/radar/openapi.json", get(handlers::openapi))
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .fallback(handlers::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
}

/// Serves on `listener` with the default [`server::HttpLimits`] until
/// `shutdown` completes.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_limited(listener, state, &server::HttpLimits::default(), shutdown).await
}

/// Serves on `listener` within `limits` until `shutdown` completes (see
/// [`server`]).
pub async fn serve_limited(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    limits: &server::HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    server::serve(listener, router(state), limits, shutdown).await
}

//! Prometheus metrics in the text exposition format, written by hand:
//! request counts by route and status class, a latency histogram per route,
//! and store sizes read at scrape time.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use crate::store::Counts;

/// Routes reported separately; anything else is `other`.
const ROUTES: &[&str] = &[
    "/client/v4/radar/bgp/hijacks/events",
    "/client/v4/radar/bgp/hijacks/events/{id}",
    "/client/v4/radar/bgp/leaks/events",
    "/client/v4/radar/bgp/leaks/events/{id}",
    "/healthz",
    "/metrics",
    "/openapi.json",
    "/client/v4/radar/openapi.json",
    "other",
];
const CLASSES: &[&str] = &["2xx", "3xx", "4xx", "5xx"];
/// Histogram bucket upper bounds, seconds.
const BUCKETS: &[f64] = &[0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct RouteStats {
    status: [AtomicU64; 4],
    buckets: [AtomicU64; 10],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

/// Counters shared by all requests.
#[derive(Default)]
pub struct Metrics {
    routes: [RouteStats; 9],
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    fn record(&self, route: &str, status: u16, micros: u64) {
        let i = ROUTES
            .iter()
            .position(|r| *r == route)
            .unwrap_or(ROUTES.len() - 1);
        let Some(s) = self.routes.get(i) else { return };
        let class = usize::from(status / 100).clamp(2, 5) - 2;
        if let Some(c) = s.status.get(class) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let secs = micros as f64 / 1e6;
        for (b, bound) in s.buckets.iter().zip(BUCKETS) {
            if secs <= *bound {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
        s.sum_micros.fetch_add(micros, Ordering::Relaxed);
        s.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition text.
    pub fn render(
        &self,
        counts: Option<Counts>,
        total_monitors: Option<u32>,
        uptime_secs: f64,
    ) -> String {
        let mut o = String::with_capacity(8192);
        let _ = writeln!(
            o,
            "# HELP bgpsentry_http_requests_total HTTP requests by route and status class."
        );
        let _ = writeln!(o, "# TYPE bgpsentry_http_requests_total counter");
        for (route, s) in ROUTES.iter().zip(&self.routes) {
            for (class, c) in CLASSES.iter().zip(&s.status) {
                let _ = writeln!(
                    o,
                    "bgpsentry_http_requests_total{{route=\"{route}\",status=\"{class}\"}} {}",
                    c.load(Ordering::Relaxed)
                );
            }
        }
        let _ = writeln!(
            o,
            "# HELP bgpsentry_http_request_duration_seconds Time to answer, by route."
        );
        let _ = writeln!(
            o,
            "# TYPE bgpsentry_http_request_duration_seconds histogram"
        );
        for (route, s) in ROUTES.iter().zip(&self.routes) {
            for (b, bound) in s.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(
                    o,
                    "bgpsentry_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                    b.load(Ordering::Relaxed)
                );
            }
            let count = s.count.load(Ordering::Relaxed);
            let _ = writeln!(
                o,
                "bgpsentry_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                o,
                "bgpsentry_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                s.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                o,
                "bgpsentry_http_request_duration_seconds_count{{route=\"{route}\"}} {count}"
            );
        }
        if let Some(c) = counts {
            let _ = writeln!(
                o,
                "# HELP bgpsentry_events Events in the store by kind and state."
            );
            let _ = writeln!(o, "# TYPE bgpsentry_events gauge");
            for (kind, total, ongoing) in [
                ("hijack", c.hijacks, c.hijacks_ongoing),
                ("leak", c.leaks, c.leaks_ongoing),
            ] {
                let _ = writeln!(
                    o,
                    "bgpsentry_events{{kind=\"{kind}\",state=\"ongoing\"}} {ongoing}"
                );
                let _ = writeln!(
                    o,
                    "bgpsentry_events{{kind=\"{kind}\",state=\"finished\"}} {}",
                    total.saturating_sub(ongoing)
                );
            }
            let _ = writeln!(o, "# HELP bgpsentry_event_changes Event changes stored.");
            let _ = writeln!(o, "# TYPE bgpsentry_event_changes gauge");
            let _ = writeln!(o, "bgpsentry_event_changes {}", c.changes);
        }
        if let Some(n) = total_monitors {
            let _ = writeln!(
                o,
                "# HELP bgpsentry_total_monitors Collector peers the detectors listen to."
            );
            let _ = writeln!(o, "# TYPE bgpsentry_total_monitors gauge");
            let _ = writeln!(o, "bgpsentry_total_monitors {n}");
        }
        let _ = writeln!(
            o,
            "# HELP bgpsentry_store_up 1 when the store answered this scrape."
        );
        let _ = writeln!(o, "# TYPE bgpsentry_store_up gauge");
        let _ = writeln!(o, "bgpsentry_store_up {}", u8::from(counts.is_some()));
        let _ = writeln!(
            o,
            "# HELP bgpsentry_uptime_seconds Seconds since the server started."
        );
        let _ = writeln!(o, "# TYPE bgpsentry_uptime_seconds gauge");
        let _ = writeln!(o, "bgpsentry_uptime_seconds {uptime_secs:.3}");
        o
    }
}

/// Middleware: times every request and counts it by route and status.
pub async fn track(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let start = Instant::now();
    let resp = next.run(req).await;
    let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    st.metrics.record(
        route.as_deref().unwrap_or("other"),
        resp.status().as_u16(),
        micros,
    );
    resp
}

//! The HTTP/1.1 server under the API and the dashboard (`serve` and the
//! daemon's `run`), with the limits a socket facing hostile clients needs:
//!
//! * **connection cap** — at most [`HttpLimits::max_connections`] are served
//!   at once (lowered to what the process's open-file limit allows). One more
//!   is answered `503` with the Radar error envelope and closed; when even
//!   those answers pile up (a flood), further connections are closed at once.
//! * **header timeout** — a request's head (request line and headers) must
//!   arrive within [`HttpLimits::header_timeout_secs`]: counted from the
//!   accept for the first request, from its first byte for the next ones on a
//!   kept-alive connection. A client that trickles its headers is cut.
//! * **idle timeout** — a kept-alive connection with no request in progress
//!   and no bytes moving for [`HttpLimits::idle_timeout_secs`] is closed (as
//!   is a client that stops reading its response).
//! * **bounded graceful shutdown** — on the shutdown signal the listener is
//!   closed, idle connections are closed, requests in progress are finished;
//!   whatever is still open after [`HttpLimits::shutdown_grace_secs`] is
//!   dropped.
//!
//! ```text
//! accept ─► permit? ── yes ─► hyper http1 ─► Router   (watchdog: header / idle deadline)
//!              │ no
//!              └─► reject slot? ── yes ─► 503 envelope, Connection: close
//!                        │ no
//!                        └─► close
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, Request, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::{Service as _, service_fn};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::ApiError;

/// Over-cap connections being answered `503` at once; beyond this they are
/// closed without an answer, so a flood cannot use more descriptors.
const MAX_REJECTING: usize = 64;
/// Longest time spent answering one over-cap connection.
const REJECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Descriptors kept free of connections for the store, logs and rejections.
const FD_RESERVE: u64 = 64 + MAX_REJECTING as u64;

/// The limits of the HTTP server: `serve`'s flags, the daemon's `[http]`
/// table (same names).
#[derive(Clone, Debug, PartialEq, Eq, clap::Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpLimits {
    /// Most connections served at once; one more is answered 503 and
    /// closed. Lowered to fit the open-file limit (`ulimit -n`).
    #[arg(long, default_value_t = 1024, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,
    /// Seconds a client has to send a request's headers (from the accept,
    /// or from the first byte of a later request on the same connection).
    #[arg(long, default_value_t = 10, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_secs: u64,
    /// Seconds a kept-alive connection may sit with no request and no
    /// bytes moving before it is closed.
    #[arg(long, default_value_t = 60, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_secs: u64,
    /// Seconds requests in progress get to finish at shutdown (SIGTERM,
    /// Ctrl-C) before their connections are dropped.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub shutdown_grace_secs: u64,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_connections: 1024,
            header_timeout_secs: 10,
            idle_timeout_secs: 60,
            shutdown_grace_secs: 5,
        }
    }
}

/// Limits in the form the server uses.
#[derive(Clone, Copy, Debug)]
struct Limits {
    max_connections: usize,
    header: Duration,
    idle: Duration,
    grace: Duration,
}

impl HttpLimits {
    /// Checks values that cannot work (a configuration file bypasses the
    /// flags' ranges).
    pub fn validate(&self) -> Result<(), String> {
        if self.max_connections == 0 {
            return Err("max_connections must be at least 1".into());
        }
        if self.header_timeout_secs == 0 || self.idle_timeout_secs == 0 {
            return Err("header_timeout_secs and idle_timeout_secs must be at least 1".into());
        }
        Ok(())
    }

    fn effective(&self) -> Limits {
        let mut max = self.max_connections.max(1);
        if let Some(fds) = open_file_limit() {
            let budget = fds.saturating_sub(FD_RESERVE).max(fds / 2).max(1);
            if budget < max {
                tracing::warn!(
                    configured = max,
                    open_file_limit = fds,
                    effective = budget,
                    "max_connections lowered to fit the open-file limit (raise `ulimit -n` for more)"
                );
                max = budget;
            }
        }
        Limits {
            max_connections: usize::try_from(max).unwrap_or(usize::MAX),
            header: Duration::from_secs(self.header_timeout_secs.max(1)),
            idle: Duration::from_secs(self.idle_timeout_secs.max(1)),
            grace: Duration::from_secs(self.shutdown_grace_secs),
        }
    }
}

/// The soft limit on open files (Linux `/proc/self/limits`), if known.
fn open_file_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// What a connection is doing, shared by its byte stream, its request
/// handler and its watchdog.
struct Activity {
    origin: Instant,
    /// Milliseconds since `origin` of the last byte read or written.
    last: AtomicU64,
    /// 1 + milliseconds since `origin` when the current request head began;
    /// 0 while no head is being read.
    head: AtomicU64,
    /// Requests being handled.
    busy: AtomicUsize,
    /// Wakes the watchdog when a head begins (its deadline moved closer).
    wake: Notify,
}

/// Why a connection was cut.
#[derive(Debug)]
enum Cut {
    HeaderTimeout,
    Idle,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity {
            origin: Instant::now(),
            last: AtomicU64::new(0),
            // The first request's head is due from the accept.
            head: AtomicU64::new(1),
            busy: AtomicUsize::new(0),
            wake: Notify::new(),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn read_progress(&self) {
        let now = self.now_ms();
        self.last.store(now, Ordering::Relaxed);
        if self.busy.load(Ordering::Relaxed) == 0 && self.head.load(Ordering::Relaxed) == 0 {
            self.head.store(now.saturating_add(1), Ordering::Relaxed);
            self.wake.notify_one();
        }
    }

    fn write_progress(&self) {
        self.last.store(self.now_ms(), Ordering::Relaxed);
    }

    /// When to look again, or why the connection must go now.
    fn check(&self, limits: &Limits) -> Result<Instant, Cut> {
        let now = self.now_ms();
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let at = |due: u64| self.origin + Duration::from_millis(due);
        if self.busy.load(Ordering::Relaxed) > 0 {
            return Ok(at(now.saturating_add(ms(limits.idle))));
        }
        let head = self.head.load(Ordering::Relaxed);
        if head > 0 {
            let due = (head - 1).saturating_add(ms(limits.header));
            return if now >= due {
                Err(Cut::HeaderTimeout)
            } else {
                Ok(at(due))
            };
        }
        let due = self
            .last
            .load(Ordering::Relaxed)
            .saturating_add(ms(limits.idle));
        if now >= due {
            Err(Cut::Idle)
        } else {
            Ok(at(due))
        }
    }
}

/// Marks a request in progress for as long as it lives.
struct Busy(Arc<Activity>);

impl Busy {
    fn new(a: Arc<Activity>) -> Busy {
        a.busy.fetch_add(1, Ordering::Relaxed);
        a.head.store(0, Ordering::Relaxed);
        a.write_progress();
        Busy(a)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
        self.0.write_progress();
    }
}

/// A TCP stream that reports its progress to [`Activity`].
struct Tracked {
    stream: TcpStream,
    act: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.act.read_progress();
        }
        r
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.stream).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.act.write_progress();
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.act.write_progress();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown`
/// completes, then shuts down within the grace period. Accept errors (such
/// as running out of descriptors) are logged and retried, never fatal.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let limits = limits.effective();
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let rejecting = Arc::new(Semaphore::new(MAX_REJECTING));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut last_warn: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        while tasks.try_join_next().is_some() {}
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            r = listener.accept() => r,
        };
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(e) => {
                if !is_connection_error(&e) {
                    if last_warn.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                        tracing::warn!(error = %e, "accepting a connection failed; retrying");
                        last_warn = Some(Instant::now());
                    }
                    // Out of descriptors: let connections finish or time out.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        if let Ok(permit) = permits.clone().try_acquire_owned() {
            let router = router.clone();
            let stop = stop_rx.clone();
            tasks.spawn(async move {
                connection(stream, router, limits, stop).await;
                drop(permit);
            });
        } else if let Ok(slot) = rejecting.clone().try_acquire_owned() {
            tasks.spawn(async move {
                reject(stream, limits.header.min(REJECT_TIMEOUT)).await;
                drop(slot);
            });
        } else {
            drop(stream);
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(limits.grace, async {
        while tasks.join_next().await.is_some() {}
    })
    .await
    .is_ok();
    if !drained {
        tracing::warn!(
            connections = tasks.len(),
            "connections still open after the shutdown grace period are dropped"
        );
        tasks.shutdown().await;
    }
    Ok(())
}

/// Errors of one connection that say nothing about the listener.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Serves one connection until it ends, times out or is stopped.
async fn connection(
    stream: TcpStream,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let act = Activity::new();
    let io = TokioIo::new(Tracked {
        stream,
        act: act.clone(),
    });
    let svc_act = act.clone();
    let tower = TowerToHyperService::new(router);
    let svc = service_fn(move |req: Request<Incoming>| {
        let busy = Busy::new(svc_act.clone());
        let fut = tower.call(req);
        async move {
            let resp: Result<Response, Infallible> = fut.await;
            drop(busy);
            resp
        }
    });
    let mut builder = http1::Builder::new();
    // Timeouts are the watchdog's: hyper's would also cut idle keep-alives.
    builder.header_read_timeout(None).keep_alive(true);
    let conn = builder.serve_connection(io, svc);
    tokio::pin!(conn);
    let mut stopping = *stop.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let wake = match act.check(&limits) {
            Ok(at) => at,
            Err(why) => {
                tracing::debug!(?why, "closing a connection");
                return;
            }
        };
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = tokio::time::sleep_until(wake) => {}
            () = act.wake.notified() => {}
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Answers an over-cap connection's request with `503` and closes it.
async fn reject(stream: TcpStream, within: Duration) {
    let svc = service_fn(|_req: Request<Incoming>| async { Ok::<_, Infallible>(overloaded()) });
    let mut builder = http1::Builder::new();
    builder.header_read_timeout(None).keep_alive(false);
    let conn = builder.serve_connection(TokioIo::new(stream), svc);
    let _ = tokio::time::timeout(within, conn).await;
}

/// The answer to a connection beyond the cap.
fn overloaded() -> Response {
    let mut resp = ApiError::Unavailable(
        "too many connections: the server is at its connection limit; retry shortly".into(),
    )
    .into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}

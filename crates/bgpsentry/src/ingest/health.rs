//! Feed health: one [`SourceHealth`] per live source, updated with relaxed
//! atomics on the hot path and read by `/metrics` and the "monitoring
//! blind" check.
//!
//! The operators' top complaint about existing monitors is a feed that goes
//! quiet without anyone noticing (RIS Live 1006 disconnects, streams that stay
//! connected but deliver nothing). So every source counts what it decodes,
//! remembers when it last heard a message, how many peers/routers are up, how
//! often it reconnected and every gap it recorded, and [`SourceHealth::is_blind`]
//! turns that into one yes/no answer.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bgpsentry_core::model::Timestamp;

/// Wall-clock now as a [`Timestamp`].
pub fn now_ts() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    Timestamp(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Health counters of one source. Cheap to update from any task.
#[derive(Debug)]
pub struct SourceHealth {
    name: String,
    kind: &'static str,
    blind_after: Option<Duration>,
    started: Timestamp,
    /// Decoded route messages (UPDATEs and peer state changes) handed on.
    pub messages: AtomicU64,
    /// Prefixes announced in those messages.
    pub announced: AtomicU64,
    /// Prefixes withdrawn in those messages.
    pub withdrawn: AtomicU64,
    /// Protocol messages received of any kind (keepalives, OPENs, statistics...).
    pub frames: AtomicU64,
    /// Wall clock (µs) of the last protocol message received; 0 = never.
    pub last_frame_us: AtomicI64,
    /// Wall clock (µs) of the last route message decoded; 0 = never.
    pub last_message_us: AtomicI64,
    /// Message time (µs) of the last route message decoded; 0 = never.
    pub last_message_ts: AtomicI64,
    /// BGP peers currently up (BMP: peers reported up; BGP: sessions Established;
    /// RIS Live: peers seen up minus peers seen down, never below 0).
    pub peers_up: AtomicI64,
    /// Connections currently up (RIS Live: the websocket; BMP: routers; BGP:
    /// TCP sessions; MRT follow: 1 while the last poll worked).
    pub connections: AtomicI64,
    /// Reconnection attempts (RIS Live) or accepted connections after the first.
    pub reconnects: AtomicU64,
    /// Outages recorded as gaps.
    pub gaps: AtomicU64,
    /// Total length of the recorded gaps, µs.
    pub gap_us: AtomicU64,
    /// Malformed input (bad frames, undecodable messages, RFC 7606 cases).
    pub malformed: AtomicU64,
    /// Routes handled as withdrawn because their UPDATE was malformed (RFC 7606).
    pub treat_as_withdraw: AtomicU64,
    /// Errors of the source itself (connect failures, I/O errors, protocol errors).
    pub errors: AtomicU64,
    /// Messages deliberately not forwarded (other RIB views, filtered types).
    pub filtered: AtomicU64,
    /// Files ingested (MRT follow).
    pub files: AtomicU64,
    rate: Mutex<Rate>,
    listening: std::sync::OnceLock<std::net::SocketAddr>,
}

#[derive(Debug)]
struct Rate {
    at: Instant,
    count: u64,
    per_sec: f64,
}

fn us(t: Timestamp) -> i64 {
    t.0
}

impl SourceHealth {
    /// Health for the source `name` of kind `kind` (`ris-live`, `bmp`, ...).
    /// `blind_after`: silence longer than this makes the source blind
    /// (`None`: only a lost connection does).
    pub fn new(name: &str, kind: &'static str, blind_after: Option<Duration>) -> Self {
        SourceHealth {
            name: name.to_string(),
            kind,
            blind_after,
            started: now_ts(),
            messages: AtomicU64::new(0),
            announced: AtomicU64::new(0),
            withdrawn: AtomicU64::new(0),
            frames: AtomicU64::new(0),
            last_frame_us: AtomicI64::new(0),
            last_message_us: AtomicI64::new(0),
            last_message_ts: AtomicI64::new(0),
            peers_up: AtomicI64::new(0),
            connections: AtomicI64::new(0),
            reconnects: AtomicU64::new(0),
            gaps: AtomicU64::new(0),
            gap_us: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
            treat_as_withdraw: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            filtered: AtomicU64::new(0),
            files: AtomicU64::new(0),
            rate: Mutex::new(Rate {
                at: Instant::now(),
                count: 0,
                per_sec: 0.0,
            }),
            listening: std::sync::OnceLock::new(),
        }
    }

    /// Records the address a listener (BMP, BGP) actually bound: with
    /// `listen = "127.0.0.1:0"` the kernel picks the port.
    pub fn set_listening(&self, addr: std::net::SocketAddr) {
        let _ = self.listening.set(addr);
    }

    /// The address the source's listener is bound to, once it is up.
    pub fn listening(&self) -> Option<std::net::SocketAddr> {
        self.listening.get().copied()
    }

    /// The source's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The source's kind.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// A protocol message arrived (of any type).
    pub fn frame(&self) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        self.last_frame_us.store(us(now_ts()), Ordering::Relaxed);
    }

    /// A route message was decoded and handed on.
    pub fn message(&self, ts: Timestamp, announced: usize, withdrawn: usize) {
        self.messages.fetch_add(1, Ordering::Relaxed);
        self.announced
            .fetch_add(announced as u64, Ordering::Relaxed);
        self.withdrawn
            .fetch_add(withdrawn as u64, Ordering::Relaxed);
        self.last_message_us.store(us(now_ts()), Ordering::Relaxed);
        self.last_message_ts.store(us(ts), Ordering::Relaxed);
    }

    /// A gap of `len` was recorded.
    pub fn gap(&self, len: Duration) {
        self.gaps.fetch_add(1, Ordering::Relaxed);
        self.gap_us.fetch_add(
            u64::try_from(len.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Adds `d` (may be negative) to a gauge, never going below zero.
    pub fn add_gauge(gauge: &AtomicI64, d: i64) {
        let _ = gauge.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
            Some(v.saturating_add(d).max(0))
        });
    }

    /// Seconds since the last route message (since start when none yet).
    pub fn silent_for(&self, now: Timestamp) -> Duration {
        let last = match self.last_message_us.load(Ordering::Relaxed) {
            0 => self.started.0,
            v => v,
        };
        Duration::from_micros(u64::try_from(now.0.saturating_sub(last)).unwrap_or(0))
    }

    /// True when the source cannot currently see the routing system: no
    /// connection is up, or it has been silent longer than `blind_after`.
    pub fn is_blind(&self, now: Timestamp) -> bool {
        self.blind_reason(now).is_some()
    }

    /// Why the source is blind at `now` (`not connected`, `silent for more
    /// than 60 s`); `None` when it is not.
    pub fn blind_reason(&self, now: Timestamp) -> Option<String> {
        if self.connections.load(Ordering::Relaxed) <= 0 {
            return Some("not connected".to_string());
        }
        match self.blind_after {
            Some(limit) if self.silent_for(now) > limit => {
                Some(format!("silent for more than {} s", limit.as_secs()))
            }
            _ => None,
        }
    }

    /// Wall-clock time of the last route message, if any.
    pub fn last_message(&self) -> Option<Timestamp> {
        match self.last_message_us.load(Ordering::Relaxed) {
            0 => None,
            v => Some(Timestamp(v)),
        }
    }

    /// Route messages per second, measured over the time since the previous
    /// call (at least one second apart; a faster caller sees the last value).
    pub fn messages_per_sec(&self) -> f64 {
        let count = self.messages.load(Ordering::Relaxed);
        let Ok(mut r) = self.rate.lock() else {
            return 0.0;
        };
        let el = r.at.elapsed();
        if el >= Duration::from_secs(1) {
            r.per_sec = count.saturating_sub(r.count) as f64 / el.as_secs_f64();
            r.count = count;
            r.at = Instant::now();
        }
        r.per_sec
    }
}

/// A blind / recovered transition of one source (see [`BlindTracker`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlindTransition {
    /// True: went blind; false: recovered.
    pub blind: bool,
    /// Why it is (or was) blind.
    pub reason: String,
    /// Blind: silence so far. Recovered: how long the silence lasted.
    pub silent_for: Duration,
    /// Wall-clock time of the last route message (blind: before the
    /// silence; recovered: the newest).
    pub last_message: Option<Timestamp>,
}

/// Turns a source's health into blind / recovered *transitions*, each
/// reported once ("monitoring blind" notices are sent per transition, never
/// per check). A source that is blind while checks are not yet `armed`
/// (the daemon's start-up grace, while connections come up) is reported
/// once they are, if it is still blind then.
#[derive(Debug, Default)]
pub struct BlindTracker {
    /// Reported blind: the reason and the last message time (µs, 0 = none)
    /// at that moment.
    reported: Option<(String, i64)>,
}

impl BlindTracker {
    /// Checks `h` at `now`; returns a transition not reported before.
    pub fn check(
        &mut self,
        h: &SourceHealth,
        now: Timestamp,
        armed: bool,
    ) -> Option<BlindTransition> {
        let reason = h.blind_reason(now);
        match (&self.reported, reason) {
            (None, Some(reason)) if armed => {
                let last = h.last_message_us.load(Ordering::Relaxed);
                self.reported = Some((reason.clone(), last));
                Some(BlindTransition {
                    blind: true,
                    reason,
                    silent_for: h.silent_for(now),
                    last_message: h.last_message(),
                })
            }
            (Some(_), None) => {
                let (reason, before) = self.reported.take()?;
                let from = if before == 0 { h.started.0 } else { before };
                let to = h.last_message().map_or(now.0, |t| t.0);
                Some(BlindTransition {
                    blind: false,
                    reason,
                    silent_for: Duration::from_micros(
                        u64::try_from(to.saturating_sub(from)).unwrap_or(0),
                    ),
                    last_message: h.last_message(),
                })
            }
            _ => None,
        }
    }
}

/// Renders the health of every source as Prometheus text exposition lines
/// (`bgpsentry_source_*{source="..",type=".."}`), grouped by metric.
pub fn render_prometheus(sources: &[std::sync::Arc<SourceHealth>]) -> String {
    let now = now_ts();
    let mut out = String::new();
    type Getter = fn(&SourceHealth, Timestamp) -> f64;
    let metrics: &[(&str, &str, &str, Getter)] = &[
        (
            "messages_total",
            "counter",
            "Route messages (UPDATEs, peer state changes) decoded.",
            |h, _| h.messages.load(Ordering::Relaxed) as f64,
        ),
        (
            "prefixes_announced_total",
            "counter",
            "Prefixes announced.",
            |h, _| h.announced.load(Ordering::Relaxed) as f64,
        ),
        (
            "prefixes_withdrawn_total",
            "counter",
            "Prefixes withdrawn.",
            |h, _| h.withdrawn.load(Ordering::Relaxed) as f64,
        ),
        (
            "frames_total",
            "counter",
            "Protocol messages received of any type.",
            |h, _| h.frames.load(Ordering::Relaxed) as f64,
        ),
        (
            "messages_per_second",
            "gauge",
            "Route messages per second since the previous scrape.",
            |h, _| h.messages_per_sec(),
        ),
        (
            "last_message_timestamp_seconds",
            "gauge",
            "Wall-clock time of the last route message (0 = never).",
            |h, _| h.last_message_us.load(Ordering::Relaxed) as f64 / 1e6,
        ),
        (
            "last_message_age_seconds",
            "gauge",
            "Seconds since the last route message (since start when none).",
            |h, now| h.silent_for(now).as_secs_f64(),
        ),
        ("peers_up", "gauge", "BGP peers currently up.", |h, _| {
            h.peers_up.load(Ordering::Relaxed) as f64
        }),
        (
            "connections",
            "gauge",
            "Connections currently up (websocket, BMP routers, BGP sessions).",
            |h, _| h.connections.load(Ordering::Relaxed) as f64,
        ),
        ("reconnects_total", "counter", "Reconnections.", |h, _| {
            h.reconnects.load(Ordering::Relaxed) as f64
        }),
        (
            "gaps_total",
            "counter",
            "Outages recorded as gaps in the feed.",
            |h, _| h.gaps.load(Ordering::Relaxed) as f64,
        ),
        (
            "gap_seconds_total",
            "counter",
            "Total length of the recorded gaps.",
            |h, _| h.gap_us.load(Ordering::Relaxed) as f64 / 1e6,
        ),
        (
            "malformed_total",
            "counter",
            "Malformed input received.",
            |h, _| h.malformed.load(Ordering::Relaxed) as f64,
        ),
        (
            "treat_as_withdraw_total",
            "counter",
            "UPDATEs handled as withdrawals (RFC 7606).",
            |h, _| h.treat_as_withdraw.load(Ordering::Relaxed) as f64,
        ),
        (
            "errors_total",
            "counter",
            "Connection and protocol errors.",
            |h, _| h.errors.load(Ordering::Relaxed) as f64,
        ),
        (
            "filtered_total",
            "counter",
            "Messages deliberately not forwarded.",
            |h, _| h.filtered.load(Ordering::Relaxed) as f64,
        ),
        ("files_total", "counter", "MRT files ingested.", |h, _| {
            h.files.load(Ordering::Relaxed) as f64
        }),
        (
            "blind",
            "gauge",
            "1 when the source is not connected or silent longer than its limit.",
            |h, now| if h.is_blind(now) { 1.0 } else { 0.0 },
        ),
    ];
    for (name, ty, help, get) in metrics {
        let _ = writeln!(out, "# HELP bgpsentry_source_{name} {help}");
        let _ = writeln!(out, "# TYPE bgpsentry_source_{name} {ty}");
        for h in sources {
            let _ = writeln!(
                out,
                "bgpsentry_source_{name}{{source=\"{}\",type=\"{}\"}} {}",
                escape_label(&h.name),
                h.kind,
                get(h, now)
            );
        }
    }
    out
}

fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn blind_when_disconnected_or_silent() {
        let h = SourceHealth::new("ris", "ris-live", Some(Duration::from_secs(60)));
        let now = now_ts();
        assert!(h.is_blind(now), "no connection yet");
        h.connections.store(1, Ordering::Relaxed);
        assert!(!h.is_blind(now));
        assert!(h.is_blind(now.add_secs(61)), "silent for 61 s");
        h.message(now, 1, 0);
        assert!(!h.is_blind(now.add_secs(30)));
        SourceHealth::add_gauge(&h.peers_up, -5);
        assert_eq!(h.peers_up.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn one_transition_each_way() {
        let h = SourceHealth::new("f", "mrt-follow", Some(Duration::from_secs(10)));
        let mut t = BlindTracker::default();
        let now = now_ts();
        assert_eq!(t.check(&h, now, false), None, "not armed yet");
        let b = t.check(&h, now, true).expect("blind: not connected");
        assert!(b.blind);
        assert_eq!(b.reason, "not connected");
        assert_eq!(
            t.check(&h, now.add_secs(1), true),
            None,
            "once per transition"
        );
        h.connections.store(1, Ordering::Relaxed);
        h.message(now, 1, 0);
        let r = t.check(&h, now.add_secs(2), true).expect("recovered");
        assert!(!r.blind);
        assert_eq!(t.check(&h, now.add_secs(3), true), None);
        let b = t.check(&h, now.add_secs(60), true).expect("silent");
        assert!(
            b.reason.starts_with("silent for more than 10 s"),
            "{}",
            b.reason
        );
    }

    #[test]
    fn prometheus_text_groups_by_metric() {
        let a = Arc::new(SourceHealth::new("a\"b", "bmp", None));
        let b = Arc::new(SourceHealth::new("c", "bgp", None));
        a.message(now_ts(), 3, 1);
        let text = render_prometheus(&[a, b]);
        assert!(
            text.contains("bgpsentry_source_messages_total{source=\"a\\\"b\",type=\"bmp\"} 1\n")
        );
        assert!(
            text.contains(
                "bgpsentry_source_prefixes_announced_total{source=\"c\",type=\"bgp\"} 0\n"
            )
        );
        assert!(text.contains("bgpsentry_source_blind{source=\"c\",type=\"bgp\"} 1\n"));
        assert_eq!(
            text.matches("# TYPE bgpsentry_source_messages_total")
                .count(),
            1
        );
    }
}

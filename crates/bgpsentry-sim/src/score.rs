//! Scoring detector events against the ground truth.
//!
//! * An event **matches** an incident when they are of the same family
//!   (hijack or leak), their times overlap (the incident's end extended by
//!   a grace period), and — hijacks — a prefix overlaps and the event's
//!   hijacker is the incident's hijacker (for forged origins, the forged
//!   victim among the event's victims counts too); — leaks — the event's
//!   leaker is the incident's leaker.
//! * **Recall** per incident type: matched incidents over incidents seen by
//!   at least one collector peer (others cannot be detected).
//!   **Precision** per reported type: events matching some incident over
//!   all events of that type. F1 from the two.
//! * Hijack **confidence buckets**: recall and precision counting only
//!   events at or above 1 / 4 / 8, over incidents seen by ≥ 10% of peers.
//! * **Delay**: first detection (the event's first change) minus the
//!   incident start, per matched incident.
//! * **False alarms**: events matching no incident, classified by the
//!   legitimate change they overlap (multihoming, anycast, delegation, DDoS
//!   mitigation) or `other`, and counted per simulated day.

use std::collections::BTreeMap;

use bgpsentry_core::model::{Event, Timestamp};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::scenario::IncidentKind;
use crate::truth::{Incident, Truth};

/// Seconds after an incident's end during which events still match it.
pub const GRACE_SECS: i64 = 900;
/// Confidence thresholds reported for hijacks.
pub const BUCKETS: [i32; 3] = [1, 4, 8];
/// Peer share from which an incident counts as "widely seen".
pub const WIDE_SHARE: f64 = 0.10;

/// An event as the pipeline left it, with when it was first raised.
#[derive(Clone, Debug)]
pub struct Detected {
    /// The final state.
    pub event: Event,
    /// Message time of its first change.
    pub opened: Timestamp,
}

/// Counts for one type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TypeScore {
    /// Incidents of this type.
    pub incidents: u64,
    /// Seen by at least one collector peer.
    pub visible: u64,
    /// Visible incidents matched by an event.
    pub detected: u64,
    /// Events reported as this type.
    pub events: u64,
    /// Of those, events matching an incident.
    pub true_events: u64,
    /// Matched events that reported this very type (of `detected`).
    pub type_agrees: u64,
    /// Detection delays (seconds).
    pub delays: Vec<i64>,
    /// Recall.
    pub recall: Option<f64>,
    /// Precision.
    pub precision: Option<f64>,
    /// F1.
    pub f1: Option<f64>,
    /// Median delay.
    pub delay_median: Option<i64>,
    /// 90th percentile delay.
    pub delay_p90: Option<i64>,
}

/// Hijack recall and precision at one confidence threshold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Minimum confidence.
    pub min_confidence: i32,
    /// Exact + more-specific incidents seen by ≥ 10% of peers.
    pub wide_incidents: u64,
    /// Of those, matched by an event at this confidence.
    pub wide_detected: u64,
    /// Hijack events at this confidence.
    pub events: u64,
    /// Of those, matching an incident.
    pub true_events: u64,
    /// Recall (wide exact + more-specific hijacks).
    pub recall: Option<f64>,
    /// Precision (all hijack events at this confidence).
    pub precision: Option<f64>,
}

/// Per incident: was it found, by what, how fast.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentResult {
    /// Scenario.
    pub scenario: String,
    /// Incident id.
    pub id: u32,
    /// Type name.
    pub kind: String,
    /// Share of collector peers that saw it.
    pub peer_share: f64,
    /// Ids of matching events.
    pub events: Vec<u64>,
    /// Highest confidence among matching hijack events.
    pub max_confidence: Option<i32>,
    /// Seconds from start to first detection.
    pub delay: Option<i64>,
}

/// A scored run (one scenario, or several merged).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Scenario names.
    pub scenarios: Vec<String>,
    /// Simulated days.
    pub days: f64,
    /// Per type (truth types for recall, reported types for precision).
    pub types: BTreeMap<String, TypeScore>,
    /// Hijack confidence buckets.
    pub buckets: Vec<Bucket>,
    /// False alarms by cause.
    pub false_alarms: BTreeMap<String, u64>,
    /// All false alarms.
    pub false_alarms_total: u64,
    /// False alarms per simulated day.
    pub false_alarms_per_day: f64,
    /// Every incident.
    pub incidents: Vec<IncidentResult>,
    /// Every false alarm, to see why it was raised.
    #[serde(default)]
    pub false_alarm_events: Vec<FalseAlarm>,
}

/// One event that matches no incident.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FalseAlarm {
    /// Scenario.
    pub scenario: String,
    /// Event type (as in the per-type table).
    pub kind: String,
    /// Event id.
    pub id: u64,
    /// The legitimate change or anycast prefix it overlaps, else `other_*`.
    pub cause: String,
    /// Hijacker or leaker.
    pub asn: u32,
    /// Prefixes (hijacks) or leak segment count (leaks: empty).
    pub prefixes: Vec<String>,
    /// Hijack confidence.
    pub confidence: Option<i32>,
    /// Hijack tags with scores.
    pub tags: Vec<String>,
}

/// The type name of an incident.
pub fn incident_type(i: &Incident) -> String {
    match (i.kind, i.leak_type) {
        (IncidentKind::RouteLeak, Some(t)) => format!("route_leak_type{t}"),
        (k, _) => k.name().to_string(),
    }
}

/// The type name an event reports.
pub fn event_type(e: &Event) -> String {
    match e {
        Event::Hijack(h) => match h.event_type {
            0 => "exact_hijack".into(),
            1 => "more_specific_hijack".into(),
            2 => "forged_origin".into(),
            n => format!("hijack_type{n}"),
        },
        Event::Leak(l) => format!("route_leak_type{}", l.leak_type),
    }
}

fn nets(v: &[String]) -> Vec<IpNet> {
    v.iter().filter_map(|s| s.parse().ok()).collect()
}

fn overlap(a: &[IpNet], b: &[IpNet]) -> bool {
    a.iter()
        .any(|x| b.iter().any(|y| x.contains(y) || y.contains(x)))
}

fn span(e: &Event) -> (i64, i64) {
    match e {
        Event::Hijack(h) => {
            let end = h.ended_ts.unwrap_or(h.max_msg_ts.max(h.max_hijack_ts));
            (h.min_hijack_ts.secs(), end.secs())
        }
        Event::Leak(l) => (l.min_ts.secs(), l.ended_ts.unwrap_or(l.max_ts).secs()),
    }
}

/// True when an event matches an incident.
pub fn matches(e: &Event, i: &Incident) -> bool {
    let (s, t) = span(e);
    if t < i.start || s > i.end + GRACE_SECS {
        return false;
    }
    match e {
        Event::Hijack(h) => {
            if i.kind == IncidentKind::RouteLeak {
                return false;
            }
            let who = Some(h.hijacker_asn.0) == i.hijacker
                || (i.kind == IncidentKind::ForgedOrigin
                    && h.event_type == 2
                    && i.victims
                        .iter()
                        .any(|v| h.victim_asns.iter().any(|a| a.0 == *v)));
            who && overlap(&nets(&h.prefixes), &nets(&i.prefixes))
        }
        Event::Leak(l) => i.kind == IncidentKind::RouteLeak && Some(l.leak_asn.0) == i.leaker,
    }
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn percentile(v: &[i64], p: f64) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_unstable();
    let idx = ((s.len() - 1) as f64 * p).round() as usize;
    s.get(idx).copied()
}

fn confidence(e: &Event) -> Option<i32> {
    match e {
        Event::Hijack(h) => Some(h.confidence_score),
        Event::Leak(_) => None,
    }
}

fn false_alarm_cause(truth: &Truth, e: &Event) -> String {
    let (s, t) = span(e);
    if let Event::Hijack(h) = e {
        let ps = nets(&h.prefixes);
        for l in &truth.legit_changes {
            let lp = nets(std::slice::from_ref(&l.prefix));
            if overlap(&ps, &lp) && t >= l.start && s <= l.end + GRACE_SECS {
                return serde_json::to_value(l.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| "legit".into());
            }
        }
        for a in &truth.anycast {
            if overlap(&ps, &nets(std::slice::from_ref(&a.prefix))) {
                return "anycast".into();
            }
        }
        return "other_hijack".into();
    }
    "other_leak".into()
}

/// Scores one scenario's events.
pub fn score(truth: &Truth, detected: &[Detected]) -> Report {
    let mut r = Report {
        scenarios: vec![truth.scenario.clone()],
        days: truth.days(),
        ..Default::default()
    };
    let mut matched_event = vec![false; detected.len()];
    for inc in &truth.incidents {
        let ty = incident_type(inc);
        let ts = r.types.entry(ty.clone()).or_default();
        ts.incidents += 1;
        let visible = inc.seen_by_peers > 0;
        let mut res = IncidentResult {
            scenario: truth.scenario.clone(),
            id: inc.id,
            kind: ty.clone(),
            peer_share: inc.peer_share,
            events: Vec::new(),
            max_confidence: None,
            delay: None,
        };
        let mut agrees = false;
        for (k, d) in detected.iter().enumerate() {
            if matches(&d.event, inc) {
                matched_event[k] = true;
                res.events.push(d.event.id());
                if let Some(c) = confidence(&d.event) {
                    res.max_confidence = Some(res.max_confidence.map_or(c, |m| m.max(c)));
                }
                let delay = (d.opened.secs() - inc.start).max(0);
                res.delay = Some(res.delay.map_or(delay, |m| m.min(delay)));
                agrees |= event_type(&d.event) == ty;
            }
        }
        if visible {
            ts.visible += 1;
            if !res.events.is_empty() {
                ts.detected += 1;
                ts.type_agrees += u64::from(agrees);
                ts.delays.extend(res.delay);
            }
        }
        r.incidents.push(res);
    }
    for (k, d) in detected.iter().enumerate() {
        let ts = r.types.entry(event_type(&d.event)).or_default();
        ts.events += 1;
        if matched_event[k] {
            ts.true_events += 1;
        } else {
            let cause = false_alarm_cause(truth, &d.event);
            *r.false_alarms.entry(cause.clone()).or_default() += 1;
            let (asn, prefixes, tags) = match &d.event {
                Event::Hijack(h) => (
                    h.hijacker_asn.0,
                    h.prefixes.clone(),
                    h.tags
                        .iter()
                        .map(|t| format!("{}:{}", t.name, t.score))
                        .collect(),
                ),
                Event::Leak(l) => (l.leak_asn.0, Vec::new(), Vec::new()),
            };
            r.false_alarm_events.push(FalseAlarm {
                scenario: truth.scenario.clone(),
                kind: event_type(&d.event),
                id: d.event.id(),
                cause,
                asn,
                prefixes,
                confidence: confidence(&d.event),
                tags,
            });
        }
    }
    for &min in &BUCKETS {
        let mut b = Bucket {
            min_confidence: min,
            ..Default::default()
        };
        for (inc, res) in truth.incidents.iter().zip(&r.incidents) {
            let wide = matches!(
                inc.kind,
                IncidentKind::ExactHijack | IncidentKind::MoreSpecificHijack
            ) && inc.peer_share >= WIDE_SHARE;
            if wide {
                b.wide_incidents += 1;
                if res.max_confidence.is_some_and(|c| c >= min) {
                    b.wide_detected += 1;
                }
            }
        }
        for (k, d) in detected.iter().enumerate() {
            if confidence(&d.event).is_some_and(|c| c >= min) {
                b.events += 1;
                b.true_events += u64::from(matched_event[k]);
            }
        }
        r.buckets.push(b);
    }
    r.finish();
    r
}

impl Report {
    /// Merges several reports (sums, then recomputes the ratios).
    pub fn merge(reports: &[Report]) -> Report {
        let mut r = Report::default();
        for x in reports {
            r.scenarios.extend(x.scenarios.iter().cloned());
            r.days += x.days;
            for (k, t) in &x.types {
                let m = r.types.entry(k.clone()).or_default();
                m.incidents += t.incidents;
                m.visible += t.visible;
                m.detected += t.detected;
                m.events += t.events;
                m.true_events += t.true_events;
                m.type_agrees += t.type_agrees;
                m.delays.extend(&t.delays);
            }
            for (i, b) in x.buckets.iter().enumerate() {
                if r.buckets.len() <= i {
                    r.buckets.push(Bucket {
                        min_confidence: b.min_confidence,
                        ..Default::default()
                    });
                }
                let m = &mut r.buckets[i];
                m.wide_incidents += b.wide_incidents;
                m.wide_detected += b.wide_detected;
                m.events += b.events;
                m.true_events += b.true_events;
            }
            for (k, n) in &x.false_alarms {
                *r.false_alarms.entry(k.clone()).or_default() += n;
            }
            r.incidents.extend(x.incidents.iter().cloned());
            r.false_alarm_events
                .extend(x.false_alarm_events.iter().cloned());
        }
        r.finish();
        r
    }

    fn finish(&mut self) {
        for t in self.types.values_mut() {
            t.recall = ratio(t.detected, t.visible);
            t.precision = ratio(t.true_events, t.events);
            t.f1 = match (t.recall, t.precision) {
                (Some(r), Some(p)) if r + p > 0.0 => Some(2.0 * r * p / (r + p)),
                (Some(_), Some(_)) => Some(0.0),
                _ => None,
            };
            t.delay_median = percentile(&t.delays, 0.5);
            t.delay_p90 = percentile(&t.delays, 0.9);
        }
        for b in &mut self.buckets {
            b.recall = ratio(b.wide_detected, b.wide_incidents);
            b.precision = ratio(b.true_events, b.events);
        }
        self.false_alarms_total = self.false_alarms.values().sum();
        self.false_alarms_per_day = if self.days > 0.0 {
            self.false_alarms_total as f64 / self.days
        } else {
            0.0
        };
    }

    /// A table for a terminal.
    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.3}"));
        let d = |x: Option<i64>| x.map_or("-".to_string(), |v| format!("{v}s"));
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<22} {:>5} {:>5} {:>5} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
            "type",
            "inc",
            "vis",
            "det",
            "recall",
            "events",
            "true",
            "prec",
            "F1",
            "delay50",
            "delay90"
        );
        for (k, t) in &self.types {
            let _ = writeln!(
                s,
                "{:<22} {:>5} {:>5} {:>5} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
                k,
                t.incidents,
                t.visible,
                t.detected,
                f(t.recall),
                t.events,
                t.true_events,
                f(t.precision),
                f(t.f1),
                d(t.delay_median),
                d(t.delay_p90)
            );
        }
        let _ = writeln!(
            s,
            "\nhijacks by confidence (recall: exact + more-specific seen by >= 10% of peers)"
        );
        let _ = writeln!(
            s,
            "{:<8} {:>6} {:>6} {:>8} {:>7} {:>6} {:>9}",
            "conf>=", "wide", "found", "recall", "events", "true", "precision"
        );
        for b in &self.buckets {
            let _ = writeln!(
                s,
                "{:<8} {:>6} {:>6} {:>8} {:>7} {:>6} {:>9}",
                b.min_confidence,
                b.wide_incidents,
                b.wide_detected,
                f(b.recall),
                b.events,
                b.true_events,
                f(b.precision)
            );
        }
        let _ = writeln!(
            s,
            "\nfalse alarms: {} over {:.2} simulated days = {:.1}/day",
            self.false_alarms_total, self.days, self.false_alarms_per_day
        );
        for (k, n) in &self.false_alarms {
            let _ = writeln!(s, "  {n:>6}  {k}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use bgpsentry_core::model::{Asn, HijackEvent, LeakEvent};

    use super::*;
    use crate::truth::{Counts, Files, LegitChange, LegitKind};

    fn inc(
        id: u32,
        kind: IncidentKind,
        prefix: &str,
        hijacker: Option<u32>,
        leaker: Option<u32>,
    ) -> Incident {
        Incident {
            id,
            kind,
            leak_type: leaker.map(|_| 1),
            prefixes: vec![prefix.into()],
            victim_prefixes: vec![],
            hijacker,
            victims: vec![65010],
            leaker,
            leak_segments: vec![],
            announced_path: None,
            start: 1000,
            end: 2000,
            share: 1.0,
            seen_by_peers: 5,
            peer_share: 0.5,
            first_seen: Some(1001),
            last_seen: Some(1990),
            announcements: 10,
        }
    }

    fn hijack(id: u64, hijacker: u32, prefix: &str, conf: i32, t: i64) -> Detected {
        let ts = Timestamp::from_secs(t);
        Detected {
            event: Event::Hijack(HijackEvent {
                id,
                confidence_score: conf,
                duration: 0,
                event_type: 0,
                hijack_msgs_count: 1,
                hijacker_asn: Asn(hijacker),
                hijacker_country: String::new(),
                is_stale: false,
                max_hijack_ts: ts,
                max_msg_ts: ts,
                min_hijack_ts: ts,
                on_going_count: 1,
                peer_asns: vec![],
                peer_ip_count: 1,
                prefixes: vec![prefix.into()],
                tags: vec![],
                victim_asns: vec![Asn(65010)],
                victim_countries: vec![],
                finished: false,
                ended_ts: None,
                sample_paths: vec![],
            }),
            opened: ts,
        }
    }

    fn leak(id: u64, leaker: u32, t: i64) -> Detected {
        let ts = Timestamp::from_secs(t);
        Detected {
            event: Event::Leak(LeakEvent {
                id,
                countries: vec![],
                detected_ts: ts,
                finished: false,
                leak_asn: Asn(leaker),
                leak_count: 1,
                leak_seg: vec![],
                leak_type: 1,
                max_ts: ts,
                min_ts: ts,
                origin_count: 1,
                peer_count: 1,
                prefix_count: 1,
                confidence_score: 0,
                tags: Vec::new(),
                leak_segs: Vec::new(),
                ended_ts: None,
                prefixes: vec![],
                origins: vec![],
                sample_paths: vec![],
            }),
            opened: ts,
        }
    }

    fn truth() -> Truth {
        Truth {
            scenario: "t".into(),
            seed: 1,
            start: 0,
            end: 86_400,
            collectors: vec![],
            files: Files::default(),
            counts: Counts::default(),
            incidents: vec![
                inc(
                    1,
                    IncidentKind::ExactHijack,
                    "24.0.0.0/22",
                    Some(65001),
                    None,
                ),
                inc(
                    2,
                    IncidentKind::MoreSpecificHijack,
                    "24.1.0.0/24",
                    Some(65002),
                    None,
                ),
                inc(3, IncidentKind::RouteLeak, "24.2.0.0/24", None, Some(65003)),
            ],
            legit_changes: vec![LegitChange {
                id: 4,
                kind: LegitKind::DdosMitigation,
                prefix: "24.9.0.0/22".into(),
                covering: None,
                new_origin: 65099,
                old_origins: vec![65098],
                relation: None,
                start: 5000,
                end: 6000,
            }],
            anycast: vec![],
        }
    }

    #[test]
    fn matching_recall_precision_buckets_and_false_alarms() {
        let t = truth();
        let events = vec![
            hijack(1, 65001, "24.0.0.0/22", 12, 1010), // finds incident 1
            hijack(2, 65002, "24.1.0.0/24", 4, 1030),  // finds incident 2 at medium confidence
            hijack(3, 65001, "24.0.0.0/22", 8, 9000),  // too late: false alarm
            hijack(4, 65099, "24.9.0.0/22", 2, 5100),  // DDoS mitigation: false alarm, classified
            leak(5, 65003, 1200),                      // finds incident 3
            leak(6, 65077, 1200),                      // wrong leaker
        ];
        let r = score(&t, &events);
        let ex = &r.types["exact_hijack"];
        assert_eq!(
            (ex.visible, ex.detected, ex.events, ex.true_events),
            (1, 1, 4, 2)
        );
        assert_eq!(ex.delays, vec![10]);
        let ms = &r.types["more_specific_hijack"];
        assert_eq!((ms.detected, ms.type_agrees), (1, 0));
        let lk = &r.types["route_leak_type1"];
        assert_eq!((lk.detected, lk.events, lk.true_events), (1, 2, 1));
        assert_eq!(lk.recall, Some(1.0));
        assert_eq!(lk.precision, Some(0.5));
        assert_eq!(r.buckets[1].recall, Some(1.0));
        assert_eq!(r.buckets[2].recall, Some(0.5));
        assert_eq!(r.buckets[2].precision, Some(0.5));
        assert_eq!(r.false_alarms.get("ddos_mitigation"), Some(&1));
        assert_eq!(r.false_alarms.get("other_hijack"), Some(&1));
        assert_eq!(r.false_alarms.get("other_leak"), Some(&1));
        assert_eq!(r.false_alarms_total, 3);
        let m = Report::merge(&[r.clone(), r.clone()]);
        assert_eq!(m.types["exact_hijack"].detected, 2);
        assert_eq!(m.false_alarms_total, 6);
        assert!(m.table().contains("route_leak_type1"));
    }
}

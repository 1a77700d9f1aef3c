//! The text report `replay` prints for people: hijack and leak events, the
//! most confident first, the top few of each with a count of the rest, and a
//! one-line legend under each table. A replay of a busy day raises hundreds
//! of events; sorted by id the incident is buried (issue 20, item 4).
//! `--json` and `--db` keep every event; this is only the reading view.

use std::cmp::Reverse;
use std::fmt::Write as _;

use bgpsentry_core::model::{Event, HijackEvent, LeakEvent, Tag};

/// Events shown per kind unless `--top` says otherwise.
pub const DEFAULT_TOP: usize = 20;

/// The legend under the hijack table.
pub const HIJACK_LEGEND: &str = "legend: score = confidence, the sum of the tags' (+n) (high >= 8, docs/tags.md); \
type 0 = the prefix itself had another established origin (MOAS), 1 = only a covering prefix had (sub-prefix), \
2 = forged origin; more_specific(+2) = inside a victim's larger block (with type 0 too); \
victims = established origins; peers = collector peers that carried it";

/// The legend under the leak table.
pub const LEAK_LEGEND: &str = "legend: score = confidence, the sum of the tags' (+n) (docs/leaks.md); \
type = RFC 7908 (1 hairpin, 2 lateral, 3 provider->peer, 4 peer->provider); \
segment = from>leaker>to; peers = collector peers that carried it";

/// Both tables, each sorted by confidence (highest first) then start time,
/// at most `top` rows each (0: all).
pub fn events_text(events: &[Event], top: usize) -> String {
    let hijacks: Vec<&HijackEvent> = events
        .iter()
        .filter_map(|e| match e {
            Event::Hijack(h) => Some(h),
            Event::Leak(_) => None,
        })
        .collect();
    let leaks: Vec<&LeakEvent> = events
        .iter()
        .filter_map(|e| match e {
            Event::Leak(l) => Some(l),
            Event::Hijack(_) => None,
        })
        .collect();
    let mut out = hijack_table(hijacks, top);
    out.push_str(&leak_table(leaks, top));
    out
}

/// `n prefix` / `n prefixes`, `n event` / `n events`, ...
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn heading(out: &mut String, what: &str, total: usize, top: usize) {
    let shown = if top == 0 { total } else { total.min(top) };
    let order = "by confidence, then start time";
    if shown < total {
        let _ = writeln!(out, "{what}: {total} ({order}; top {shown} shown)");
    } else {
        let _ = writeln!(out, "{what}: {total} ({order})");
    }
}

fn more_line(out: &mut String, total: usize, top: usize) {
    if top != 0 && total > top {
        let _ = writeln!(out, "  ... and {} more (use --json or --db)", total - top);
    }
}

fn tags(tags: &[Tag]) -> String {
    let v: Vec<String> = tags
        .iter()
        .map(|t| format!("{}({:+})", t.name, t.score))
        .collect();
    v.join(" ")
}

fn hijack_table(mut hijacks: Vec<&HijackEvent>, top: usize) -> String {
    let mut out = String::new();
    if hijacks.is_empty() {
        return out;
    }
    hijacks.sort_by_key(|h| (Reverse(h.confidence_score), h.min_hijack_ts, h.id));
    let total = hijacks.len();
    heading(&mut out, "hijack events", total, top);
    let _ = writeln!(
        out,
        "{:>6} {:>5} {:>4} {:>10} {:>18} {:<20} {:<23} {:<23} {:>5}  tags",
        "id", "score", "type", "hijacker", "victims", "prefixes", "start", "end", "peers"
    );
    let n = if top == 0 { total } else { top };
    for h in hijacks.iter().take(n) {
        let victims: Vec<String> = h.victim_asns.iter().map(|a| a.to_string()).collect();
        let prefixes = match h.prefixes.len() {
            0 => String::new(),
            1 => h.prefixes[0].clone(),
            n => format!("{} +{}", h.prefixes[0], n - 1),
        };
        let end = match h.ended_ts {
            Some(t) => t.to_radar_millis(),
            None if h.is_stale => "ongoing (stale)".into(),
            None => "ongoing".into(),
        };
        let _ = writeln!(
            out,
            "{:>6} {:>5} {:>4} {:>10} {:>18} {:<20} {:<23} {:<23} {:>5}  {}",
            h.id,
            h.confidence_score,
            h.event_type,
            format!("AS{}", h.hijacker_asn),
            victims.join(","),
            prefixes,
            h.min_hijack_ts.to_radar_millis(),
            end,
            h.peer_ip_count,
            tags(&h.tags)
        );
    }
    more_line(&mut out, total, top);
    let _ = writeln!(out, "{HIJACK_LEGEND}");
    out
}

fn leak_table(mut leaks: Vec<&LeakEvent>, top: usize) -> String {
    let mut out = String::new();
    if leaks.is_empty() {
        return out;
    }
    leaks.sort_by_key(|l| (Reverse(l.confidence_score), l.min_ts, l.id));
    let total = leaks.len();
    heading(&mut out, "leak events", total, top);
    let _ = writeln!(
        out,
        "{:>6} {:>5} {:>4} {:>10} {:<26} {:>8} {:<23} {:<23} {:>5}  tags",
        "id", "score", "type", "leaker", "segment", "prefixes", "start", "end", "peers"
    );
    let n = if top == 0 { total } else { top };
    for l in leaks.iter().take(n) {
        let seg: Vec<String> = l.leak_seg.iter().map(|a| a.to_string()).collect();
        let end = match (l.ended_ts, l.finished) {
            (Some(t), _) => t.to_radar_millis(),
            (None, true) => l.max_ts.to_radar_millis(),
            (None, false) => "ongoing".into(),
        };
        let _ = writeln!(
            out,
            "{:>6} {:>5} {:>4} {:>10} {:<26} {:>8} {:<23} {:<23} {:>5}  {}",
            l.id,
            l.confidence_score,
            l.leak_type,
            format!("AS{}", l.leak_asn),
            seg.join(">"),
            l.prefix_count,
            l.min_ts.to_radar_millis(),
            end,
            l.peer_count,
            tags(&l.tags)
        );
    }
    more_line(&mut out, total, top);
    let _ = writeln!(out, "{LEAK_LEGEND}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgpsentry_core::model::Timestamp;

    fn hijack(id: u64, score: i32, start: i64) -> Event {
        let ts = Timestamp::from_secs(start).to_radar_millis();
        let v = serde_json::json!({
            "kind": "hijack", "id": id, "confidence_score": score, "duration": 0,
            "event_type": 0, "hijack_msgs_count": 1, "hijacker_asn": 17557,
            "hijacker_country": "PK", "is_stale": false, "max_hijack_ts": ts,
            "max_msg_ts": ts, "min_hijack_ts": ts, "on_going_count": 1,
            "peer_asns": [3356], "peer_ip_count": 2, "prefixes": ["208.65.153.0/24"],
            "tags": [], "victim_asns": [36561], "victim_countries": ["US"]
        });
        match serde_json::from_value(v) {
            Ok(e) => e,
            Err(e) => panic!("test event: {e}"),
        }
    }

    #[test]
    fn most_confident_first_then_earliest_and_the_rest_counted() {
        let evs = vec![
            hijack(1, 2, 100),
            hijack(2, 8, 300),
            hijack(3, 8, 200),
            hijack(4, -1, 50),
        ];
        let t = events_text(&evs, 2);
        let ids: Vec<&str> = t
            .lines()
            .filter(|l| l.contains("AS17557"))
            .map(|l| l.split_whitespace().next().unwrap_or(""))
            .collect();
        assert_eq!(ids, ["3", "2"]);
        assert!(t.contains("hijack events: 4 (by confidence, then start time; top 2 shown)"));
        assert!(t.contains("  ... and 2 more (use --json or --db)"), "{t}");
        assert!(t.contains(HIJACK_LEGEND));
        let all = events_text(&evs, 0);
        assert!(!all.contains("more (use"), "{all}");
        assert_eq!(all.lines().filter(|l| l.contains("AS17557")).count(), 4);
    }

    #[test]
    fn plural_says_one_prefix() {
        assert_eq!(plural(1, "prefix", "prefixes"), "1 prefix");
        assert_eq!(plural(2, "prefix", "prefixes"), "2 prefixes");
        assert_eq!(plural(0, "prefix", "prefixes"), "0 prefixes");
    }
}

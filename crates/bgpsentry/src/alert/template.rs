//! Message templates: plain text with `{{field}}` placeholders. Field names
//! are checked when the configuration loads, so a typo is an error, not a
//! message with a hole in it. Values come from hostile data (API answers),
//! so rendering never evaluates anything: it only substitutes strings.

use std::collections::BTreeMap;

use bgpsentry_core::model::{ConfidenceLevel, Event};
use serde::Deserialize;

use super::notification::{Notification, Scope, Stage};

/// Default text of a hijack message: what the seed's message carries, plus
/// confidence, status and a link.
pub const HIJACK_TEXT: &str = "{{stage_title}} BGP hijack event ({{id}}):
Detected time: {{time}} UTC
Detected ASN: AS{{detected_origin}} {{detected_country}}
Expected ASN(s): {{expected_origins}}
Prefixes ({{prefix_count}}): {{prefixes}}
Tags: {{tags}}
Peer count: {{peer_count}}
Confidence: {{confidence}} ({{confidence_level}})
Status: {{status}}
{{link}}";

/// Default title (email subject, PagerDuty summary, card title) of a hijack.
pub const HIJACK_TITLE: &str = "[bgpsentry] {{stage_title}} BGP hijack {{id}}: AS{{detected_origin}} announced {{prefix_count}} prefix(es) of {{expected_origins}} ({{confidence_level}})";

/// Default text of a leak message.
pub const LEAK_TEXT: &str = "{{stage_title}} BGP route leak event ({{id}}):
Detected time: {{time}} UTC
Leaking ASN: AS{{leak_asn}}
Segment (from, by, to): {{leak_seg}}
Leak type: {{leak_type}}
Prefixes ({{prefix_count}}): {{prefixes}}
Origins: {{origin_count}}
Peer count: {{peer_count}}
Status: {{status}}
{{link}}";

/// Default title of a leak.
pub const LEAK_TITLE: &str = "[bgpsentry] {{stage_title}} BGP route leak {{id}} by AS{{leak_asn}} ({{prefix_count}} prefixes)";

/// Every field a template may use.
pub const FIELDS: &[&str] = &[
    "stage",
    "stage_title",
    "kind",
    "kind_title",
    "id",
    "time",
    "end_time",
    "status",
    "detected_origin",
    "detected_country",
    "expected_origins",
    "expected_countries",
    "prefixes",
    "prefix_count",
    "tags",
    "peer_count",
    "peer_asns",
    "confidence",
    "confidence_level",
    "hijack_msgs_count",
    "leak_asn",
    "leak_seg",
    "leak_type",
    "leak_count",
    "origin_count",
    "countries",
    "link",
    "watch",
    "channel",
    "idempotency_key",
    "api",
    "kind_plural",
];

/// Template overrides (`[templates]` or a channel's `templates`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Templates {
    /// Hijack message text.
    pub hijack: Option<String>,
    /// Hijack title / subject / summary.
    pub hijack_title: Option<String>,
    /// Leak message text.
    pub leak: Option<String>,
    /// Leak title.
    pub leak_title: Option<String>,
}

impl Templates {
    /// Checks every placeholder names a known field.
    pub fn validate(&self) -> Result<(), String> {
        for t in [
            &self.hijack,
            &self.hijack_title,
            &self.leak,
            &self.leak_title,
        ]
        .into_iter()
        .flatten()
        {
            check_fields(t)?;
        }
        Ok(())
    }

    /// Per-channel overrides over global ones over defaults.
    pub fn resolve(channel: &Templates, global: &Templates) -> Resolved {
        let pick = |c: &Option<String>, g: &Option<String>, d: &str| {
            c.clone()
                .or_else(|| g.clone())
                .unwrap_or_else(|| d.to_string())
        };
        Resolved {
            hijack: pick(&channel.hijack, &global.hijack, HIJACK_TEXT),
            hijack_title: pick(&channel.hijack_title, &global.hijack_title, HIJACK_TITLE),
            leak: pick(&channel.leak, &global.leak, LEAK_TEXT),
            leak_title: pick(&channel.leak_title, &global.leak_title, LEAK_TITLE),
        }
    }
}

/// The templates one channel uses.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Hijack text.
    pub hijack: String,
    /// Hijack title.
    pub hijack_title: String,
    /// Leak text.
    pub leak: String,
    /// Leak title.
    pub leak_title: String,
}

impl Default for Resolved {
    fn default() -> Self {
        Templates::resolve(&Templates::default(), &Templates::default())
    }
}

impl Resolved {
    /// `(title, text)` of a notification.
    pub fn render(&self, n: &Notification, fields: &Fields) -> (String, String) {
        match n.event {
            Event::Hijack(_) => (
                render(&self.hijack_title, fields),
                render(&self.hijack, fields),
            ),
            Event::Leak(_) => (render(&self.leak_title, fields), render(&self.leak, fields)),
        }
    }
}

/// Checks that every `{{name}}` in `t` is a known field.
pub fn check_fields(t: &str) -> Result<(), String> {
    let mut rest = t;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(format!("unclosed `{{{{` in template {t:?}"));
        };
        let name = after[..end].trim();
        if !FIELDS.contains(&name) {
            return Err(format!(
                "unknown template field {{{{{name}}}}}; known: {}",
                FIELDS.join(", ")
            ));
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

/// Substitutes `{{field}}`s; unknown fields render empty.
pub fn render(t: &str, fields: &Fields) -> String {
    let mut out = String::with_capacity(t.len() + 256);
    let mut rest = t;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = after[..end].trim();
                if let Some(v) = fields.get(name) {
                    out.push_str(v);
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    // Trailing blank lines (e.g. an empty {{link}}) are noise.
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out
}

/// Field values of one notification.
pub type Fields = BTreeMap<&'static str, String>;

fn join<T: ToString>(v: &[T], sep: &str) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

fn list_prefixes(p: &[String], max: usize, total: usize) -> String {
    let shown: Vec<&str> = p.iter().take(max).map(String::as_str).collect();
    let mut s = shown.join(" ");
    if total > shown.len() {
        s.push_str(&format!(" (and {} more)", total - shown.len()));
    }
    s
}

fn level_str(l: ConfidenceLevel) -> &'static str {
    match l {
        ConfidenceLevel::Low => "low",
        ConfidenceLevel::Medium => "medium",
        ConfidenceLevel::High => "high",
    }
}

/// Computes every field of a notification. `max_prefixes` caps the listed
/// prefixes (Rostelecom 2020 touched 8,870; nobody reads that in a chat).
pub fn fields(n: &Notification, max_prefixes: usize, api: &str) -> Fields {
    let mut f = Fields::new();
    let scope = Scope::of(&n.event);
    f.insert("stage", n.stage.as_str().to_string());
    f.insert("stage_title", n.stage.title().to_string());
    f.insert("id", n.event.id().to_string());
    f.insert("link", n.link.clone());
    f.insert("watch", n.watch.clone());
    f.insert("channel", n.channel.clone());
    f.insert("idempotency_key", n.idempotency_key.clone());
    f.insert("api", api.to_string());
    f.insert("peer_count", scope.peers.to_string());
    let ended = n.stage == Stage::Resolved || n.event.finished();
    f.insert(
        "status",
        if ended { "ended" } else { "ongoing" }.to_string(),
    );
    match &n.event {
        Event::Hijack(h) => {
            f.insert("kind", "hijack".into());
            f.insert("kind_plural", "hijacks".into());
            f.insert("kind_title", "BGP hijack".into());
            f.insert("time", h.min_hijack_ts.to_radar_millis());
            f.insert(
                "end_time",
                h.ended_ts.map(|t| t.to_radar_millis()).unwrap_or_default(),
            );
            f.insert("detected_origin", h.hijacker_asn.to_string());
            f.insert("detected_country", h.hijacker_country.clone());
            f.insert(
                "expected_origins",
                join(
                    &h.victim_asns
                        .iter()
                        .map(|a| format!("AS{a}"))
                        .collect::<Vec<_>>(),
                    " ",
                ),
            );
            f.insert("expected_countries", join(&h.victim_countries, " "));
            f.insert(
                "prefixes",
                list_prefixes(&h.prefixes, max_prefixes, h.prefixes.len()),
            );
            f.insert("prefix_count", h.prefixes.len().to_string());
            f.insert(
                "tags",
                join(
                    &h.tags.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
                    " ",
                ),
            );
            f.insert("peer_asns", join(&h.peer_asns, " "));
            f.insert("confidence", h.confidence_score.to_string());
            f.insert("confidence_level", level_str(scope.level()).to_string());
            f.insert("hijack_msgs_count", h.hijack_msgs_count.to_string());
        }
        Event::Leak(l) => {
            f.insert("kind", "leak".into());
            f.insert("kind_plural", "leaks".into());
            f.insert("kind_title", "BGP route leak".into());
            f.insert("time", l.detected_ts.to_radar_secs());
            f.insert(
                "end_time",
                l.ended_ts.map(|t| t.to_radar_millis()).unwrap_or_default(),
            );
            f.insert("leak_asn", l.leak_asn.to_string());
            f.insert("detected_origin", l.leak_asn.to_string());
            f.insert(
                "leak_seg",
                join(
                    &l.leak_seg
                        .iter()
                        .map(|a| format!("AS{a}"))
                        .collect::<Vec<_>>(),
                    " ",
                ),
            );
            f.insert("leak_type", l.leak_type.to_string());
            f.insert("leak_count", l.leak_count.to_string());
            f.insert("origin_count", l.origin_count.to_string());
            f.insert("countries", join(&l.countries, " "));
            let total = usize::try_from(l.prefix_count)
                .unwrap_or(usize::MAX)
                .max(l.prefixes.len());
            f.insert("prefixes", list_prefixes(&l.prefixes, max_prefixes, total));
            f.insert("prefix_count", l.prefix_count.to_string());
            f.insert("confidence", String::new());
            f.insert("confidence_level", String::new());
        }
    }
    f
}

/// Escapes text for HTML.
pub fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Truncates to at most `max` characters (chat APIs reject longer texts),
/// marking the cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(1);
    let mut o: String = s.chars().take(keep).collect();
    o.push('…');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_and_renders() {
        assert!(check_fields("a {{id}} b").is_ok());
        assert!(check_fields("a {{idd}} b").is_err());
        assert!(check_fields("a {{id").is_err());
        let mut f = Fields::new();
        f.insert("id", "7".into());
        assert_eq!(render("x{{ id }}y{{link}}\n", &f), "x7y");
        assert_eq!(render("{{id", &f), "{{id");
        assert_eq!(truncate_chars("abcdef", 4), "abc…");
    }
}

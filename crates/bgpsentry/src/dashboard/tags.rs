//! The hijack tag catalogue for the event page: every tag's name, score
//! and meaning, read from `docs/tags.md` at compile time so that the page
//! and the documentation can never disagree.
//!
//! `GET /dashboard/api/tags` serves it as JSON. It is public: it is the
//! documentation, not data.

use std::sync::LazyLock;

use axum::Json;
use serde::Serialize;

/// The documentation the catalogue is parsed from.
const TAGS_MD: &str = include_str!("../../../../docs/tags.md");

/// One documented tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TagDoc {
    /// Tag name, e.g. `rpki_new_origin_invalid`.
    pub name: String,
    /// Its fixed score.
    pub score: i32,
    /// When it is set.
    pub meaning: String,
    /// Why it has this score (bgpsentry's own tags); empty for Radar's.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub why: String,
    /// `radar` (Radar's catalogue) or `bgpsentry` (our own).
    pub source: &'static str,
}

/// The catalogue, parsed once.
pub static CATALOGUE: LazyLock<Vec<TagDoc>> = LazyLock::new(|| parse(TAGS_MD));

/// `GET /dashboard/api/tags`.
pub async fn catalogue() -> Json<&'static [TagDoc]> {
    Json(CATALOGUE.as_slice())
}

/// Parses the tag tables of `docs/tags.md`: rows whose first cell names
/// tags in backticks. A row `` `irr_old_origin_valid` / `_unknown` `` with
/// scores `0 / 0` stands for several tags sharing a stem.
pub fn parse(md: &str) -> Vec<TagDoc> {
    let mut out = Vec::new();
    let mut source = "radar";
    for line in md.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            source = if h.to_ascii_lowercase().starts_with("bgpsentry") {
                "bgpsentry"
            } else {
                "radar"
            };
            continue;
        }
        if !line.starts_with("| `") {
            continue;
        }
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        let [names, scores, meaning, rest @ ..] = cells.as_slice() else {
            continue;
        };
        let names = tag_names(names);
        let scores: Vec<i32> = scores.split('/').filter_map(score).collect();
        if names.is_empty() || scores.is_empty() {
            continue;
        }
        for (i, name) in names.into_iter().enumerate() {
            let score = scores.get(i).or(scores.first()).copied().unwrap_or(0);
            out.push(TagDoc {
                name,
                score,
                meaning: plain(meaning),
                why: rest.first().map(|w| plain(w)).unwrap_or_default(),
                source,
            });
        }
    }
    out
}

/// The backticked names of a cell; `_suffix` names share the first name's
/// stem (everything before its last `_`).
fn tag_names(cell: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (i, part) in cell.split('`').enumerate() {
        if i % 2 == 0 || part.is_empty() {
            continue;
        }
        if part.starts_with('_') {
            let Some(first) = names.first() else { continue };
            let stem = first.rsplit_once('_').map_or(first.as_str(), |(s, _)| s);
            names.push(format!("{stem}{part}"));
        } else {
            names.push(part.to_string());
        }
    }
    names
}

/// `+8`, `0`, `−2` (Unicode minus) or `-2`.
fn score(s: &str) -> Option<i32> {
    let s = s.trim().replace('\u{2212}', "-");
    s.strip_prefix('+').unwrap_or(&s).parse().ok()
}

/// Markdown emphasis and code marks removed.
fn plain(s: &str) -> String {
    s.replace("**", "").replace('`', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_radar_and_own_tags_with_scores() {
        let c = &*CATALOGUE;
        let get = |n: &str| c.iter().find(|t| t.name == n);
        let t = get("rpki_new_origin_invalid").expect("rpki tag");
        assert_eq!((t.score, t.source), (8, "radar"));
        assert!(t.meaning.contains("RPKI-invalid"));
        let t = get("irr_old_origin_invalid").expect("stem expansion");
        assert_eq!(t.score, -2);
        assert_eq!(get("irr_old_origin_unknown").map(|t| t.score), Some(0));
        let t = get("more_specific").expect("own tag");
        assert_eq!((t.score, t.source), (2, "bgpsentry"));
        assert!(!t.why.is_empty());
        assert_eq!(get("dps_new_origin").map(|t| t.score), Some(-4));
        assert!(c.len() >= 28, "{}", c.len());
    }

    #[test]
    fn rows_without_tags_are_skipped() {
        let md = "## Radar\n| tag | score | x |\n|---|---|---|\n| `a_b` | x | y |\n| `c` | +1 | **d** `e` |\n";
        let c = parse(md);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].meaning, "d e");
    }
}

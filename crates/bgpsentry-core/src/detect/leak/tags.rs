//! Evidence tags of a leak event and its `confidence_score` (their sum).
//! Radar lists no evidence for leaks; these are ours, in the shape of the
//! hijack tags (`{name, score}`, positive = more likely a real leak), and
//! each is documented with its reason in `docs/leaks.md` § Evidence tags.

use crate::model::{Tag, leak_type};

/// Relationship confidence at or above which an edge counts as firm.
pub const FIRM_EDGE: f32 = 0.9;
/// Prefix count of `many_prefixes`.
pub const MANY_PREFIXES: usize = 10;
/// Share of the active collector peers of `high_peer_share`.
pub const HIGH_PEER_SHARE: f64 = 0.25;
/// Seconds carried of `long_lived`.
pub const LONG_LIVED_SECS: i64 = 3600;

/// What the tags are computed from.
#[derive(Clone, Debug, Default)]
pub struct TagInput {
    /// RFC 7908 type.
    pub leak_type: u8,
    /// The OTC attribute proved the `from` edge.
    pub otc: bool,
    /// Confidence of the `from`–`by` edge (`None`: unknown, e.g. OTC-forced).
    pub from_conf: Option<f32>,
    /// Confidence of the `to`–`by` edge.
    pub to_conf: Option<f32>,
    /// Origins outside the leaker's customer cone, out of those judged.
    pub cone: Option<(usize, usize)>,
    /// Distinct prefixes.
    pub prefixes: usize,
    /// Distinct collector peers.
    pub peers: usize,
    /// Collector peers active (announcing) when computed.
    pub active_peers: usize,
    /// Seconds from the first leaked announcement to now (or the end).
    pub duration_secs: i64,
    /// The segment was carried during the warm-up before judging began.
    pub seen_in_warmup: bool,
    /// Prefix count that makes a leak large on its own.
    pub large_prefixes: usize,
    /// Customer-cone sizes of `from`, `by` and `to`.
    pub cone_sizes: Option<[usize; 3]>,
    /// `from` is `by`'s provider (not a peer); `to` likewise.
    pub providers: [bool; 2],
}

/// The tags, in a fixed order.
pub fn tags(i: &TagInput) -> Vec<Tag> {
    let mut t = Vec::new();
    if i.otc {
        t.push(Tag::new("otc_attribute", 4));
    }
    let firm = |c: Option<f32>| c.is_some_and(|c| c >= FIRM_EDGE);
    if (i.otc || firm(i.from_conf)) && firm(i.to_conf) {
        t.push(Tag::new("relationships_firm", 2));
    } else {
        t.push(Tag::new("relationships_uncertain", 0));
    }
    if i.leak_type == leak_type::HAIRPIN {
        t.push(Tag::new("hairpin", 1));
    }
    // A provider's cone holds its customer's, so compare what the provider
    // reaches beyond the leaker: little beyond it means the "provider" is
    // more likely a customer whose edge the knowledge has backwards.
    if let Some([cf, cb, ct]) = i.cone_sizes {
        let beyond = |c: usize| c.saturating_sub(cb);
        let small = (i.providers[0] && beyond(cf) < cb) || (i.providers[1] && beyond(ct) < cb);
        if small {
            t.push(Tag::new("provider_cone_small", -3));
        } else if beyond(cf) >= 10 * cb && beyond(ct) >= 10 * cb {
            t.push(Tag::new("leaker_cone_smallest", 1));
        }
    }
    match i.cone {
        Some((out, judged)) if judged > 0 && out * 2 > judged => {
            t.push(Tag::new("origins_outside_cone", 3));
        }
        Some((0, judged)) if judged > 0 => t.push(Tag::new("origins_inside_cone", -3)),
        _ => {}
    }
    if i.large_prefixes > 0 && i.prefixes >= i.large_prefixes {
        t.push(Tag::new("large_leak", 3));
    } else if i.prefixes >= MANY_PREFIXES {
        t.push(Tag::new("many_prefixes", 1));
    }
    if i.peers >= 2
        && i.active_peers > 0
        && i.peers as f64 >= HIGH_PEER_SHARE * i.active_peers as f64
    {
        t.push(Tag::new("high_peer_share", 2));
    } else if i.peers <= 1 {
        t.push(Tag::new("single_peer", -1));
    }
    if i.duration_secs >= LONG_LIVED_SECS {
        t.push(Tag::new("long_lived", 1));
    }
    if i.seen_in_warmup {
        t.push(Tag::new("seen_in_warmup", -3));
    }
    t
}

/// The sum of the scores.
pub fn score(t: &[Tag]) -> i32 {
    t.iter().map(|t| t.score).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &[Tag]) -> Vec<&str> {
        t.iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn strong_and_weak_leaks() {
        let strong = tags(&TagInput {
            leak_type: 1,
            from_conf: Some(1.0),
            to_conf: Some(1.0),
            cone: Some((5, 5)),
            prefixes: 2000,
            peers: 20,
            active_peers: 40,
            duration_secs: 7200,
            large_prefixes: 1000,
            ..TagInput::default()
        });
        assert_eq!(
            names(&strong),
            [
                "relationships_firm",
                "hairpin",
                "origins_outside_cone",
                "large_leak",
                "high_peer_share",
                "long_lived"
            ]
        );
        assert_eq!(score(&strong), 12);
        let weak = tags(&TagInput {
            leak_type: 2,
            from_conf: Some(0.7),
            to_conf: Some(1.0),
            cone: Some((0, 3)),
            prefixes: 1,
            peers: 1,
            active_peers: 40,
            seen_in_warmup: true,
            ..TagInput::default()
        });
        assert_eq!(
            names(&weak),
            [
                "relationships_uncertain",
                "origins_inside_cone",
                "single_peer",
                "seen_in_warmup"
            ]
        );
        assert_eq!(score(&weak), -7);
    }
}

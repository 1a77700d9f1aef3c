//! The evidence tags of a hijack event and their scores.
//!
//! Radar's catalogue (`radar-reference.md` §2.1) is reproduced with its exact
//! names and scores; our own tags follow in one table. `confidence_score` is
//! the sum of the scores, as in Radar. `docs/tags.md` explains each tag:
//! what triggers it and why it carries its score.
//!
//! Tags are computed from [`TagInputs`], a plain snapshot of what the
//! detector knows about the event, so the rules are testable on their own.

use ipnet::IpNet;

use crate::evidence::{Evidence, IrrState, Relationship, RovState};
use crate::model::{Asn, Tag};

/// Radar's tags: (name, score), exactly as observed on Radar.
pub mod radar {
    /// New origin is RPKI-invalid for the prefix.
    pub const RPKI_NEW_ORIGIN_INVALID: (&str, i32) = ("rpki_new_origin_invalid", 8);
    /// No ROA covers the prefix (for the new origin).
    pub const RPKI_NEW_ORIGIN_UNKNOWN: (&str, i32) = ("rpki_new_origin_unknown", 0);
    /// The expected origin is RPKI-valid.
    pub const RPKI_OLD_ORIGIN_VALID: (&str, i32) = ("rpki_old_origin_valid", 0);
    /// No ROA covers the prefix (for the expected origin).
    pub const RPKI_OLD_ORIGIN_UNKNOWN: (&str, i32) = ("rpki_old_origin_unknown", 0);
    /// The expected origin was itself RPKI-invalid.
    pub const RPKI_OLD_ORIGIN_INVALID: (&str, i32) = ("rpki_old_origin_invalid", -2);
    /// Route objects cover the prefix, none for the new origin.
    pub const IRR_NEW_ORIGIN_INVALID: (&str, i32) = ("irr_new_origin_invalid", 4);
    /// No route object covers the prefix (new origin).
    pub const IRR_NEW_ORIGIN_UNKNOWN: (&str, i32) = ("irr_new_origin_unknown", 0);
    /// The new origin is registered in the IRR.
    pub const IRR_NEW_ORIGIN_VALID: (&str, i32) = ("irr_new_origin_valid", -4);
    /// The expected origin is registered.
    pub const IRR_OLD_ORIGIN_VALID: (&str, i32) = ("irr_old_origin_valid", 0);
    /// No route object covers the prefix (expected origin).
    pub const IRR_OLD_ORIGIN_UNKNOWN: (&str, i32) = ("irr_old_origin_unknown", 0);
    /// Route objects cover the prefix, none for the expected origin.
    pub const IRR_OLD_ORIGIN_INVALID: (&str, i32) = ("irr_old_origin_invalid", -2);
    /// The new origin is a provider of the expected origin.
    pub const ASREL_NEW_ORIGIN_PROVIDER: (&str, i32) = ("asrel_new_origin_provider", -4);
    /// Same organisation.
    pub const ASREL_SIBLING_ORIGINS: (&str, i32) = ("asrel_sibling_origins", -4);
    /// The new origin is a customer of the expected origin.
    pub const ASREL_NEW_ORIGIN_CUSTOMER: (&str, i32) = ("asrel_new_origin_customer", -2);
    /// The new origin is a peer of the expected origin.
    pub const ASREL_NEW_ORIGIN_PEER: (&str, i32) = ("asrel_new_origin_peer", -2);
    /// Bogon expected origin or prefix.
    pub const BOGON_OLD_ORIGIN: (&str, i32) = ("bogon_old_origin", -1);
}

/// bgpsentry's own tags: (name, score). See `docs/tags.md`.
pub mod own {
    /// The prefix is more specific than a prefix the victim is established on.
    pub const MORE_SPECIFIC: (&str, i32) = ("more_specific", 2);
    /// Hijacker and victims are registered in different countries.
    pub const ORIGIN_COUNTRIES_DIFFER: (&str, i32) = ("origin_countries_differ", 2);
    /// Hijacker and a victim are registered in the same country.
    pub const ORIGIN_COUNTRIES_SAME: (&str, i32) = ("origin_countries_same", 0);
    /// No relationship known or ever observed between the origins.
    pub const NO_KNOWN_RELATIONSHIP: (&str, i32) = ("no_known_relationship", 2);
    /// The origins were seen as direct neighbours on an AS path.
    pub const ORIGINS_ADJACENT: (&str, i32) = ("origins_adjacent", -2);
    /// The origins were seen behind a common upstream (not a large transit AS).
    pub const ORIGINS_SHARE_UPSTREAM: (&str, i32) = ("origins_share_upstream", -2);
    /// One AS suddenly originates prefixes of several unrelated networks.
    pub const REORIGINATION: (&str, i32) = ("reorigination", 4);
    /// The new origin was widely carried for (at least half of) these
    /// prefixes before — by three or more route slots, for two minutes or on
    /// two occasions — and went away: a recurring failover or maintenance
    /// origin, not a stranger.
    pub const ORIGIN_SEEN_BEFORE: (&str, i32) = ("origin_seen_before", -3);
    /// The prefix is a keyboard slip away from one the new origin already
    /// announces (same length, one octet within two keystrokes): a typo'd
    /// prefix, a misconfiguration that takes the victim's space.
    pub const TYPO_OF_OWN_PREFIX: (&str, i32) = ("typo_of_own_prefix", 4);
    /// At its peak, at least half of the collector peers carried it.
    pub const HIGH_VISIBILITY: (&str, i32) = ("high_visibility", 2);
    /// At its peak, under a tenth of the collector peers carried it.
    pub const LOW_VISIBILITY: (&str, i32) = ("low_visibility", -2);
    /// The new origin had never originated any prefix before.
    pub const NEW_ORIGIN_NEWCOMER: (&str, i32) = ("new_origin_newcomer", 1);
    /// The new origin is established on a less-specific covering prefix.
    pub const NEW_ORIGIN_ON_COVERING: (&str, i32) = ("new_origin_on_covering", -3);
    /// IPv4 longer than /24 or IPv6 longer than /48.
    pub const LONG_PREFIX: (&str, i32) = ("long_prefix", -2);
    /// The new origin is a private, reserved or AS_TRANS ASN.
    pub const BOGON_NEW_ORIGIN: (&str, i32) = ("bogon_new_origin", -3);
    /// The new origin is a known DDoS-mitigation service.
    pub const DPS_NEW_ORIGIN: (&str, i32) = ("dps_new_origin", -4);
}

/// ASNs of DDoS-protection services that announce customer prefixes from
/// their own ASN during on-demand mitigation (extendable by configuration).
pub const DEFAULT_DPS_ASNS: &[u32] = &[
    32787,  // Akamai Prolexic
    13335,  // Cloudflare (Magic Transit)
    209242, // Cloudflare (Spectrum / Magic Transit)
    19551,  // Imperva Incapsula
    55002,  // F5 Silverline (Defense.Net)
    19905,  // Neustar UltraDDoS (Vercara)
    34309,  // Link11
];

/// What the detector knows about an event when tagging it.
#[derive(Clone, Debug, Default)]
pub struct TagInputs<'a> {
    /// The new origin.
    pub hijacker: Asn,
    /// The expected origins.
    pub victims: &'a [Asn],
    /// The hijacked prefixes.
    pub prefixes: &'a [IpNet],
    /// Some prefix is more specific than one the victims are established on.
    pub more_specific: bool,
    /// The hijacker is established on a less-specific covering prefix.
    pub hijacker_on_covering: bool,
    /// The hijacker had never originated anything before the event.
    pub newcomer: bool,
    /// Hijacker and a victim were seen adjacent on some AS path.
    pub adjacent: bool,
    /// Hijacker and a victim were seen behind a common upstream.
    pub shared_upstream: bool,
    /// The hijacker was a past origin of at least half of the prefixes.
    pub seen_before: bool,
    /// A hijacked prefix and the hijacker's own prefix it is a typo of, when
    /// at least half of the prefixes are such typos.
    pub typo_of: Option<(IpNet, IpNet)>,
    /// Peak share of collector peers carrying the event (0..=1).
    pub peak_share: f64,
    /// Known DDoS-protection ASNs.
    pub dps_asns: &'a [Asn],
}

/// Share of peers at or above which `high_visibility` applies.
pub const HIGH_VISIBILITY_SHARE: f64 = 0.5;
/// Share of peers below which `low_visibility` applies.
pub const LOW_VISIBILITY_SHARE: f64 = 0.1;

fn push(out: &mut Vec<Tag>, t: (&str, i32)) {
    out.push(Tag::new(t.0, t.1));
}

/// The worst ROV state of `origin` over the prefixes (invalid beats unknown
/// beats valid).
fn rov_worst(ev: &Evidence, prefixes: &[IpNet], origin: Asn) -> RovState {
    let mut worst = RovState::Valid;
    for p in prefixes {
        match ev.rpki.validate(p, origin) {
            s if s.is_invalid() => return s,
            RovState::NotFound => worst = RovState::NotFound,
            _ => {}
        }
    }
    worst
}

/// The best ROV state any victim has (valid beats unknown beats invalid).
fn rov_best_victim(ev: &Evidence, prefixes: &[IpNet], victims: &[Asn]) -> RovState {
    let mut best = RovState::InvalidAsn;
    for v in victims {
        match rov_worst(ev, prefixes, *v) {
            RovState::Valid => return RovState::Valid,
            RovState::NotFound => best = RovState::NotFound,
            _ => {}
        }
    }
    best
}

fn irr_worst(ev: &Evidence, prefixes: &[IpNet], origin: Asn) -> IrrState {
    let mut worst = IrrState::Valid;
    for p in prefixes {
        match ev.irr.check(p, origin) {
            IrrState::Invalid => return IrrState::Invalid,
            IrrState::Unknown => worst = IrrState::Unknown,
            IrrState::Valid => {}
        }
    }
    worst
}

fn irr_best_victim(ev: &Evidence, prefixes: &[IpNet], victims: &[Asn]) -> IrrState {
    let mut best = IrrState::Invalid;
    for v in victims {
        match irr_worst(ev, prefixes, *v) {
            IrrState::Valid => return IrrState::Valid,
            IrrState::Unknown => best = IrrState::Unknown,
            IrrState::Invalid => {}
        }
    }
    best
}

/// Minimum confidence of a relationship to be used.
const MIN_REL_CONFIDENCE: f32 = 0.5;

/// The relationship tag between the hijacker and one victim, if any.
fn asrel_one(ev: &Evidence, hijacker: Asn, v: Asn) -> Option<(&'static str, i32)> {
    if ev.orgs.siblings(hijacker, v) {
        return Some(radar::ASREL_SIBLING_ORIGINS);
    }
    let r = ev.asrel.rel(hijacker, v)?;
    if r.confidence < MIN_REL_CONFIDENCE {
        return None;
    }
    Some(match r.rel {
        Relationship::Sibling => radar::ASREL_SIBLING_ORIGINS,
        Relationship::Provider => radar::ASREL_NEW_ORIGIN_PROVIDER,
        Relationship::Customer => radar::ASREL_NEW_ORIGIN_CUSTOMER,
        Relationship::Peer => radar::ASREL_NEW_ORIGIN_PEER,
    })
}

/// The relationship tag between the hijacker and its victims, if any: the
/// most exculpatory one, provided it explains at least half of the victims
/// (one customer among ten re-originated networks does not explain the
/// other nine; an event has several victims when one hijacker takes the
/// space of several networks at once).
fn asrel_tag(ev: &Evidence, hijacker: Asn, victims: &[Asn]) -> Option<(&'static str, i32)> {
    let mut best: Option<(&'static str, i32)> = None;
    let mut explained = 0usize;
    for v in victims {
        let Some(t) = asrel_one(ev, hijacker, *v) else {
            continue;
        };
        explained += 1;
        // keep the most exculpatory relationship
        if best.is_none_or(|b| t.1 < b.1) {
            best = Some(t);
        }
    }
    best.filter(|_| 2 * explained >= victims.len())
}

/// Victims at and above which one event is a re-origination.
pub const REORIGINATION_MIN_VICTIMS: usize = 3;

/// The tags of an event, in a fixed order (Radar's first).
pub fn compute(ev: &Evidence, i: &TagInputs<'_>) -> Vec<Tag> {
    let mut out = Vec::new();
    // RPKI: omitted entirely when no VRPs are loaded (nothing to say, e.g.
    // for 2008); `unknown` means VRPs are loaded and none covers the prefix.
    if !ev.rpki.is_empty() {
        match rov_worst(ev, i.prefixes, i.hijacker) {
            s if s.is_invalid() => push(&mut out, radar::RPKI_NEW_ORIGIN_INVALID),
            RovState::NotFound => push(&mut out, radar::RPKI_NEW_ORIGIN_UNKNOWN),
            _ => {}
        }
        match rov_best_victim(ev, i.prefixes, i.victims) {
            RovState::Valid => push(&mut out, radar::RPKI_OLD_ORIGIN_VALID),
            RovState::NotFound => push(&mut out, radar::RPKI_OLD_ORIGIN_UNKNOWN),
            _ => push(&mut out, radar::RPKI_OLD_ORIGIN_INVALID),
        }
    }
    if !ev.irr.is_empty() {
        push(
            &mut out,
            match irr_worst(ev, i.prefixes, i.hijacker) {
                IrrState::Invalid => radar::IRR_NEW_ORIGIN_INVALID,
                IrrState::Unknown => radar::IRR_NEW_ORIGIN_UNKNOWN,
                IrrState::Valid => radar::IRR_NEW_ORIGIN_VALID,
            },
        );
        push(
            &mut out,
            match irr_best_victim(ev, i.prefixes, i.victims) {
                IrrState::Valid => radar::IRR_OLD_ORIGIN_VALID,
                IrrState::Unknown => radar::IRR_OLD_ORIGIN_UNKNOWN,
                IrrState::Invalid => radar::IRR_OLD_ORIGIN_INVALID,
            },
        );
    }
    let rel = asrel_tag(ev, i.hijacker, i.victims);
    if let Some(t) = rel {
        push(&mut out, t);
    }
    if i.victims.iter().any(|v| ev.bogons.asn_is_bogon(*v))
        || i.prefixes.iter().any(|p| ev.bogons.prefix_is_bogon(p))
    {
        push(&mut out, radar::BOGON_OLD_ORIGIN);
    }

    // ---- our own ----
    if i.more_specific {
        push(&mut out, own::MORE_SPECIFIC);
    }
    let hc = ev.orgs.country(i.hijacker).filter(|c| !c.is_empty());
    let vcs: Vec<&str> = i
        .victims
        .iter()
        .filter_map(|v| ev.orgs.country(*v))
        .filter(|c| !c.is_empty())
        .collect();
    if let Some(hc) = hc.filter(|_| vcs.len() == i.victims.len() && !vcs.is_empty()) {
        if vcs.iter().all(|c| !c.eq_ignore_ascii_case(hc)) {
            push(&mut out, own::ORIGIN_COUNTRIES_DIFFER);
        } else {
            push(&mut out, own::ORIGIN_COUNTRIES_SAME);
        }
    }
    if rel.is_none() {
        if i.adjacent {
            push(&mut out, own::ORIGINS_ADJACENT);
        } else if i.shared_upstream {
            push(&mut out, own::ORIGINS_SHARE_UPSTREAM);
        } else {
            push(&mut out, own::NO_KNOWN_RELATIONSHIP);
        }
    }
    let unrelated_victims = i
        .victims
        .iter()
        .filter(|v| asrel_one(ev, i.hijacker, **v).is_none())
        .count();
    if rel.is_none() && !i.hijacker_on_covering && unrelated_victims >= REORIGINATION_MIN_VICTIMS {
        push(&mut out, own::REORIGINATION);
    }
    // a typo takes a stranger's space: not when the space is the new
    // origin's own covering block
    if i.typo_of.is_some() && !i.hijacker_on_covering {
        push(&mut out, own::TYPO_OF_OWN_PREFIX);
    }
    if i.seen_before {
        push(&mut out, own::ORIGIN_SEEN_BEFORE);
    }
    if i.peak_share >= HIGH_VISIBILITY_SHARE {
        push(&mut out, own::HIGH_VISIBILITY);
    } else if i.peak_share < LOW_VISIBILITY_SHARE {
        push(&mut out, own::LOW_VISIBILITY);
    }
    if i.newcomer {
        push(&mut out, own::NEW_ORIGIN_NEWCOMER);
    }
    if i.hijacker_on_covering {
        push(&mut out, own::NEW_ORIGIN_ON_COVERING);
    }
    if i.prefixes.iter().all(|p| match p {
        IpNet::V4(p) => p.prefix_len() > 24,
        IpNet::V6(p) => p.prefix_len() > 48,
    }) && !i.prefixes.is_empty()
    {
        push(&mut out, own::LONG_PREFIX);
    }
    if ev.bogons.asn_is_bogon(i.hijacker) {
        push(&mut out, own::BOGON_NEW_ORIGIN);
    }
    if i.dps_asns.contains(&i.hijacker) {
        push(&mut out, own::DPS_NEW_ORIGIN);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{RpkiTable, Vrp};

    fn p(s: &str) -> IpNet {
        s.parse().expect("p")
    }

    #[test]
    fn empty_evidence_gives_only_own_tags() {
        let ev = Evidence::default();
        let prefixes = [p("208.65.153.0/24")];
        let victims = [Asn(36561)];
        let i = TagInputs {
            hijacker: Asn(17557),
            victims: &victims,
            prefixes: &prefixes,
            more_specific: true,
            peak_share: 0.8,
            ..Default::default()
        };
        let tags = compute(&ev, &i);
        let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["more_specific", "no_known_relationship", "high_visibility"]
        );
    }

    #[test]
    fn rpki_invalid_and_dps() {
        let ev = Evidence {
            rpki: RpkiTable::from_vrps([Vrp {
                prefix: p("1.1.1.0/24"),
                max_len: 24,
                asn: Asn(13335),
            }]),
            ..Default::default()
        };
        let prefixes = [p("1.1.1.1/32")];
        let victims = [Asn(13335)];
        let dps = [Asn(32787)];
        let i = TagInputs {
            hijacker: Asn(32787),
            victims: &victims,
            prefixes: &prefixes,
            adjacent: true,
            peak_share: 0.05,
            dps_asns: &dps,
            ..Default::default()
        };
        let tags = compute(&ev, &i);
        let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "rpki_new_origin_invalid",
                "rpki_old_origin_invalid",
                "origins_adjacent",
                "low_visibility",
                "long_prefix",
                "dps_new_origin"
            ]
        );
    }
}

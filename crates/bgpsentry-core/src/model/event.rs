//! The events bgpsentry raises, in exactly the shape Cloudflare Radar serves
//! them (field names, types and timestamp formats of `radar-reference.md` §1),
//! plus the extras an operator needs to act, which Radar clients ignore.
//!
//! This is the contract between the detectors, the store, the API and the
//! alerter: each of them reads and writes these types and nothing else.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::time::{radar_millis, radar_secs};
use super::{Asn, Timestamp};

/// One evidence tag: Radar's `{name, score}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tag {
    /// Tag name, e.g. `rpki_new_origin_invalid`.
    pub name: String,
    /// Signed score: positive means more likely a hijack.
    pub score: i32,
}

impl Tag {
    /// A tag with a name and score.
    pub fn new(name: impl Into<String>, score: i32) -> Self {
        Tag {
            name: name.into(),
            score,
        }
    }
}

/// Radar's confidence buckets (docs page: 1-3 low, 4-7 medium, 8+ high).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfidenceLevel {
    /// Below 4.
    Low,
    /// 4 to 7.
    Medium,
    /// 8 and above.
    High,
}

impl ConfidenceLevel {
    /// The bucket of a score.
    pub fn of(score: i32) -> Self {
        match score {
            i32::MIN..=3 => ConfidenceLevel::Low,
            4..=7 => ConfidenceLevel::Medium,
            _ => ConfidenceLevel::High,
        }
    }
}

/// An AS path as seen by one collector peer, kept as evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplePath {
    /// Collector name.
    pub collector: String,
    /// Collector peer address.
    pub peer_ip: IpAddr,
    /// Collector peer ASN.
    pub peer_asn: Asn,
    /// The prefix the path was for.
    pub prefix: String,
    /// The AS path in bgpdump text form.
    pub as_path: String,
    /// When it was received.
    #[serde(with = "radar_millis")]
    pub ts: Timestamp,
}

/// What kind of hijack an event is (Radar's undocumented `event_type`; ours
/// is documented in `docs/events.md`).
pub mod hijack_type {
    /// The same prefix announced by a new origin (MOAS).
    pub const EXACT_PREFIX: u8 = 0;
    /// A more-specific of an established prefix from a foreign origin.
    pub const MORE_SPECIFIC: u8 = 1;
    /// A new AS adjacency next to the legitimate origin (forged origin).
    pub const FORGED_ORIGIN: u8 = 2;
}

/// A hijack event with Radar's fields (first block) and our extras.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HijackEvent {
    /// Stable, increasing id.
    pub id: u64,
    /// Sum of `tags[].score`.
    pub confidence_score: i32,
    /// Seconds from `min_hijack_ts` to `max_hijack_ts` (or to the end).
    pub duration: i64,
    /// See [`hijack_type`].
    pub event_type: u8,
    /// Hijack announcements seen from all collector peers.
    pub hijack_msgs_count: u64,
    /// The detected (new) origin.
    pub hijacker_asn: Asn,
    /// Its country code (alpha-2), empty when unknown.
    pub hijacker_country: String,
    /// Ongoing, but no hijack message for longer than the stale time.
    pub is_stale: bool,
    /// Last hijack announcement.
    #[serde(with = "radar_millis")]
    pub max_hijack_ts: Timestamp,
    /// Last message of any kind about the event's prefixes.
    #[serde(with = "radar_millis")]
    pub max_msg_ts: Timestamp,
    /// First hijack announcement.
    #[serde(with = "radar_millis")]
    pub min_hijack_ts: Timestamp,
    /// Prefixes still carried by at least one collector peer.
    pub on_going_count: u32,
    /// ASNs of the collector peers that saw it.
    pub peer_asns: Vec<Asn>,
    /// Number of collector peer addresses that saw it.
    pub peer_ip_count: u32,
    /// The hijacked prefixes.
    pub prefixes: Vec<String>,
    /// Evidence tags.
    pub tags: Vec<Tag>,
    /// The expected (established) origins.
    pub victim_asns: Vec<Asn>,
    /// Their country codes.
    pub victim_countries: Vec<String>,

    // ---- extras beyond Radar ----
    /// True once no collector peer carries any hijacked route.
    #[serde(default)]
    pub finished: bool,
    /// When the last peer withdrew or moved away.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_radar_millis"
    )]
    pub ended_ts: Option<Timestamp>,
    /// A few AS paths that carried the hijack.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sample_paths: Vec<SamplePath>,
}

impl HijackEvent {
    /// Recomputes `confidence_score` from the tags.
    pub fn rescore(&mut self) {
        self.confidence_score = self.tags.iter().map(|t| t.score).sum();
    }

    /// Every ASN involved (hijacker and victims).
    pub fn involved(&self) -> impl Iterator<Item = Asn> + '_ {
        std::iter::once(self.hijacker_asn).chain(self.victim_asns.iter().copied())
    }
}

/// RFC 7908 route-leak types as Radar's `leak_type` carries them.
pub mod leak_type {
    /// Provider → customer → provider (hairpin); the one Radar reports.
    pub const HAIRPIN: u8 = 1;
    /// Peer → customer → peer (lateral).
    pub const LATERAL: u8 = 2;
    /// Provider → customer → peer.
    pub const PROVIDER_TO_PEER: u8 = 3;
    /// Peer → customer → provider.
    pub const PEER_TO_PROVIDER: u8 = 4;
}

/// A route-leak event with Radar's fields (first block) and our extras.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeakEvent {
    /// Stable, increasing id.
    pub id: u64,
    /// Country codes of the ASes in the segment.
    pub countries: Vec<String>,
    /// When the event was raised.
    #[serde(with = "radar_secs")]
    pub detected_ts: Timestamp,
    /// True once no collector peer carries a leaked route, or after the quiet time.
    pub finished: bool,
    /// The leaking AS (`by`).
    pub leak_asn: Asn,
    /// Leak announcements seen.
    pub leak_count: u64,
    /// The segment in AS-path order: [to, by, from]... as Radar: From, By, To.
    pub leak_seg: Vec<Asn>,
    /// See [`leak_type`].
    pub leak_type: u8,
    /// Last leak announcement.
    #[serde(with = "radar_secs")]
    pub max_ts: Timestamp,
    /// First leak announcement.
    #[serde(with = "radar_secs")]
    pub min_ts: Timestamp,
    /// Distinct origins of leaked prefixes.
    pub origin_count: u32,
    /// Collector peers that saw a leaked route.
    pub peer_count: u32,
    /// Distinct leaked prefixes.
    pub prefix_count: u32,

    // ---- extras beyond Radar ----
    /// Our evidence score for the leak, the sum of `tags[].score` (Radar
    /// lists no leak evidence; `docs/leaks.md` § Evidence tags).
    #[serde(default)]
    pub confidence_score: i32,
    /// Evidence tags (`docs/leaks.md`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// Every segment `[from, by, to]` of this leaker in the event (first
    /// 10, in the order seen; `leak_seg` is the first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leak_segs: Vec<Vec<Asn>>,
    /// When it finished.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_radar_millis"
    )]
    pub ended_ts: Option<Timestamp>,
    /// A sample of leaked prefixes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefixes: Vec<String>,
    /// A sample of origins of leaked prefixes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<Asn>,
    /// A few AS paths that carried the leak.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sample_paths: Vec<SamplePath>,
}

/// Either kind of event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Event {
    /// An origin hijack.
    Hijack(HijackEvent),
    /// A route leak.
    Leak(LeakEvent),
}

impl Event {
    /// The event id.
    pub fn id(&self) -> u64 {
        match self {
            Event::Hijack(e) => e.id,
            Event::Leak(e) => e.id,
        }
    }

    /// True when finished.
    pub fn finished(&self) -> bool {
        match self {
            Event::Hijack(e) => e.finished,
            Event::Leak(e) => e.finished,
        }
    }
}

/// What changed in an event; the alerter maps these to new / escalated /
/// resolved notifications.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// First seen.
    Opened,
    /// More prefixes or peers joined.
    Grown,
    /// The confidence score changed.
    ConfidenceChanged,
    /// No collector peer carries it any more.
    Ended,
}

/// One change of one event, with the event's state after the change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventChange {
    /// Message time at which the change happened.
    #[serde(with = "radar_millis")]
    pub ts: Timestamp,
    /// What changed.
    pub kind: ChangeKind,
    /// The event after the change.
    pub event: Event,
}

mod opt_radar_millis {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::model::Timestamp;

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&t.to_radar_millis()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        match s {
            None => Ok(None),
            Some(s) => Timestamp::parse(&s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("bad timestamp {s:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hijack_serializes_with_radar_field_names() {
        let e = HijackEvent {
            id: 7,
            confidence_score: 12,
            duration: 0,
            event_type: hijack_type::MORE_SPECIFIC,
            hijack_msgs_count: 3,
            hijacker_asn: Asn(17557),
            hijacker_country: "PK".into(),
            is_stale: false,
            max_hijack_ts: Timestamp::from_secs(1_203_878_877),
            max_msg_ts: Timestamp::from_secs(1_203_878_877),
            min_hijack_ts: Timestamp::from_secs(1_203_878_877),
            on_going_count: 1,
            peer_asns: vec![Asn(3356)],
            peer_ip_count: 1,
            prefixes: vec!["208.65.153.0/24".into()],
            tags: vec![
                Tag::new("rpki_new_origin_invalid", 8),
                Tag::new("irr_new_origin_invalid", 4),
            ],
            victim_asns: vec![Asn(36561)],
            victim_countries: vec!["US".into()],
            finished: false,
            ended_ts: None,
            sample_paths: vec![],
        };
        let v = serde_json::to_value(Event::Hijack(e.clone())).expect("json");
        assert_eq!(v["kind"], "hijack");
        assert_eq!(v["hijacker_asn"], 17557);
        assert_eq!(v["min_hijack_ts"], "2008-02-24T18:47:57.000");
        assert_eq!(v["tags"][0]["name"], "rpki_new_origin_invalid");
        let back: Event = serde_json::from_value(v).expect("round trip");
        assert_eq!(back, Event::Hijack(e));
        assert_eq!(ConfidenceLevel::of(12), ConfidenceLevel::High);
        assert_eq!(ConfidenceLevel::of(4), ConfidenceLevel::Medium);
    }
}

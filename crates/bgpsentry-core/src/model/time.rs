//! Time as the core sees it: taken from BGP messages, never from the wall
//! clock, so that replaying the same input yields the same events. Stored as
//! microseconds since the Unix epoch (MRT BGP4MP_ET carries microseconds).

use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// Microseconds since 1970-01-01T00:00:00Z.
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// From whole seconds and microseconds, as MRT headers carry them.
    pub const fn from_secs_micros(secs: i64, micros: u32) -> Self {
        Timestamp(secs * 1_000_000 + micros as i64)
    }

    /// From whole seconds.
    pub const fn from_secs(secs: i64) -> Self {
        Timestamp(secs * 1_000_000)
    }

    /// Whole seconds (floor).
    pub const fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// The sub-second part in microseconds.
    pub const fn subsec_micros(self) -> u32 {
        self.0.rem_euclid(1_000_000) as u32
    }

    /// `self - other` in whole seconds (floor), never negative.
    pub fn secs_since(self, other: Timestamp) -> i64 {
        (self.0 - other.0).max(0) / 1_000_000
    }

    /// Add whole seconds.
    pub const fn add_secs(self, secs: i64) -> Self {
        Timestamp(self.0 + secs * 1_000_000)
    }

    fn naive(self) -> Option<NaiveDateTime> {
        DateTime::<Utc>::from_timestamp(self.secs(), self.subsec_micros() * 1000)
            .map(|d| d.naive_utc())
    }

    /// Radar's hijack timestamp format: `2023-04-27T14:01:55.952` (UTC,
    /// milliseconds, no zone suffix).
    pub fn to_radar_millis(self) -> String {
        match self.naive() {
            Some(d) => d.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
            None => String::new(),
        }
    }

    /// Radar's leak timestamp format: `2023-04-21T23:10:06` (UTC, seconds).
    pub fn to_radar_secs(self) -> String {
        match self.naive() {
            Some(d) => d.format("%Y-%m-%dT%H:%M:%S").to_string(),
            None => String::new(),
        }
    }

    /// RFC 3339 with a `Z` suffix, for logs and our own extensions.
    pub fn to_rfc3339(self) -> String {
        match self.naive() {
            Some(d) => d.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            None => String::new(),
        }
    }

    /// Parses Radar's formats and RFC 3339 (`2024-01-01`, `2024-01-01T10:00:00`,
    /// `2024-01-01T10:00:00.123`, `2024-01-01T10:00:00Z`, with offsets).
    pub fn parse(s: &str) -> Option<Timestamp> {
        let s = s.trim();
        if let Ok(d) = DateTime::parse_from_rfc3339(s) {
            return Some(Timestamp(d.timestamp_micros()));
        }
        let s = s.strip_suffix('Z').unwrap_or(s);
        for f in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
        ] {
            if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
                return Some(Timestamp(d.and_utc().timestamp_micros()));
            }
        }
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| Timestamp(d.and_utc().timestamp_micros()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// Serde helpers that write a [`Timestamp`] in Radar's millisecond format.
pub mod radar_millis {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Timestamp;

    /// Serialize as `2023-04-27T14:01:55.952`.
    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_radar_millis())
    }

    /// Deserialize any format [`Timestamp::parse`] accepts.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("bad timestamp {s:?}")))
    }
}

/// Serde helpers that write a [`Timestamp`] in Radar's second format.
pub mod radar_secs {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Timestamp;

    /// Serialize as `2023-04-21T23:10:06`.
    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_radar_secs())
    }

    /// Deserialize any format [`Timestamp::parse`] accepts.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("bad timestamp {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radar_formats_round_trip() {
        let t = Timestamp::from_secs_micros(1_203_878_877, 952_000);
        assert_eq!(t.to_radar_millis(), "2008-02-24T18:47:57.952");
        assert_eq!(t.to_radar_secs(), "2008-02-24T18:47:57");
        assert_eq!(Timestamp::parse("2008-02-24T18:47:57.952"), Some(t));
        assert_eq!(Timestamp::parse("2008-02-24T18:47:57.952Z"), Some(t));
        assert_eq!(
            Timestamp::parse("2008-02-24"),
            Some(Timestamp::from_secs(1_203_811_200))
        );
        assert_eq!(Timestamp::parse("yesterday"), None);
    }
}

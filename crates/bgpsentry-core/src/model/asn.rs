//! Autonomous system numbers: one newtype so that an ASN is never confused
//! with a count, a peer index or a timestamp, and so that parsing the many
//! spellings operators use (`13335`, `AS13335`, `as13335`, `1.2` asdot) lives
//! in one place.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A 32-bit autonomous system number (RFC 6793).
#[derive(
    Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Asn(pub u32);

/// AS_TRANS (RFC 6793): what 2-byte speakers see in place of a 4-byte ASN.
pub const AS_TRANS: Asn = Asn(23456);

impl Asn {
    /// The number as a plain integer.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl From<u32> for Asn {
    fn from(v: u32) -> Self {
        Asn(v)
    }
}

impl From<Asn> for u32 {
    fn from(v: Asn) -> Self {
        v.0
    }
}

impl fmt::Display for Asn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a string is not an ASN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an AS number: {0:?} (expected 13335, AS13335 or asdot 1.10)")]
pub struct AsnParseError(pub String);

impl FromStr for Asn {
    type Err = AsnParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = t
            .strip_prefix("AS")
            .or_else(|| t.strip_prefix("as"))
            .or_else(|| t.strip_prefix("As"))
            .unwrap_or(t);
        let err = || AsnParseError(s.to_string());
        if let Some((hi, lo)) = t.split_once('.') {
            let hi: u16 = hi.parse().map_err(|_| err())?;
            let lo: u16 = lo.parse().map_err(|_| err())?;
            return Ok(Asn((u32::from(hi) << 16) | u32::from(lo)));
        }
        t.parse::<u32>().map(Asn).map_err(|_| err())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_spellings() {
        assert_eq!("13335".parse::<Asn>(), Ok(Asn(13335)));
        assert_eq!("AS13335".parse::<Asn>(), Ok(Asn(13335)));
        assert_eq!("as64512".parse::<Asn>(), Ok(Asn(64512)));
        assert_eq!("1.10".parse::<Asn>(), Ok(Asn(65546)));
        assert!("AS".parse::<Asn>().is_err());
        assert!("4294967296".parse::<Asn>().is_err());
        assert!("-1".parse::<Asn>().is_err());
    }
}

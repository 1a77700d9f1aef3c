//! How an event maps to rows: the kind and role codes, the canonical prefix
//! key with its address range, and the two JSON documents stored per event.

use std::net::IpAddr;

use bgpsentry_core::model::{Asn, HijackEvent, LeakEvent, SamplePath};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::error::{Result, StoreError};

/// `kind` column value of hijack rows.
pub const KIND_HIJACK: i64 = 0;
/// `kind` column value of leak rows.
pub const KIND_LEAK: i64 = 1;

// `event_asns.role` is a set of these flags: one row per (event, ASN), so
// that counting an ASN's events is a plain index range count.

/// Role flag: the hijacker.
pub const ROLE_HIJACKER: i64 = 1;
/// Role flag: a victim (expected origin).
pub const ROLE_VICTIM: i64 = 2;
/// Role flag: the leaker (`by` of the segment).
pub const ROLE_LEAKER: i64 = 4;
/// Role flag: `from` or `to` of the leak segment.
pub const ROLE_SEGMENT: i64 = 8;
/// Role flag: an origin of a leaked prefix.
pub const ROLE_ORIGIN: i64 = 16;

/// A prefix as stored in `event_prefixes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixKey {
    /// Canonical text (`1.1.1.0/24`, `2001:db8::/32`); the raw text when it
    /// does not parse.
    pub text: String,
    /// 4, 6, or 0 for unparsable text.
    pub fam: i64,
    /// First address, big-endian bytes (4 or 16).
    pub lo: Vec<u8>,
    /// Last address.
    pub hi: Vec<u8>,
}

impl PrefixKey {
    /// The key of a parsed network (host bits are cleared).
    pub fn of_net(net: &IpNet) -> PrefixKey {
        let net = net.trunc();
        let (fam, lo, hi) = match (net.network(), net.broadcast()) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (4, a.octets().to_vec(), b.octets().to_vec()),
            (a, b) => (6, ip16(a).to_vec(), ip16(b).to_vec()),
        };
        PrefixKey {
            text: net.to_string(),
            fam,
            lo,
            hi,
        }
    }

    /// The key of prefix text as a detector wrote it.
    pub fn of_text(s: &str) -> PrefixKey {
        match s.trim().parse::<IpNet>() {
            Ok(net) => PrefixKey::of_net(&net),
            Err(_) => PrefixKey {
                text: s.to_string(),
                fam: 0,
                lo: Vec::new(),
                hi: Vec::new(),
            },
        }
    }
}

fn ip16(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// An id as SQLite stores it.
pub fn sql_id(id: u64) -> Result<i64> {
    i64::try_from(id).map_err(|_| StoreError::Range(format!("event id {id}")))
}

/// The extras of a hijack that only the detail endpoint shows.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct HijackExtra {
    /// Sample AS paths.
    #[serde(default)]
    pub sample_paths: Vec<SamplePath>,
}

/// The extras of a leak that only the detail endpoint shows.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct LeakExtra {
    /// Sample of leaked prefixes.
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// Sample of origins of leaked prefixes.
    #[serde(default)]
    pub origins: Vec<Asn>,
    /// Sample AS paths.
    #[serde(default)]
    pub sample_paths: Vec<SamplePath>,
}

/// Splits a hijack into its list document and its extras document.
pub fn hijack_docs(e: &HijackEvent) -> Result<(String, String)> {
    let mut list = e.clone();
    let extra = HijackExtra {
        sample_paths: std::mem::take(&mut list.sample_paths),
    };
    Ok((
        serde_json::to_string(&list)?,
        serde_json::to_string(&extra)?,
    ))
}

/// Splits a leak into its list document and its extras document.
pub fn leak_docs(e: &LeakEvent) -> Result<(String, String)> {
    let mut list = e.clone();
    let extra = LeakExtra {
        prefixes: std::mem::take(&mut list.prefixes),
        origins: std::mem::take(&mut list.origins),
        sample_paths: std::mem::take(&mut list.sample_paths),
    };
    Ok((
        serde_json::to_string(&list)?,
        serde_json::to_string(&extra)?,
    ))
}

/// Normalises a country code for storage and lookup (upper case, trimmed).
pub fn country_key(cc: &str) -> String {
    cc.trim().to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_keys_are_canonical() {
        let k = PrefixKey::of_text("1.1.1.7/24");
        assert_eq!(k.text, "1.1.1.0/24");
        assert_eq!(
            (k.fam, k.lo.clone(), k.hi.clone()),
            (4, vec![1, 1, 1, 0], vec![1, 1, 1, 255])
        );
        let k = PrefixKey::of_text("2001:DB8::/32");
        assert_eq!(k.text, "2001:db8::/32");
        assert_eq!(k.fam, 6);
        assert_eq!(PrefixKey::of_text("nonsense").fam, 0);
    }
}

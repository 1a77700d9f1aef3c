//! Built-in bogons: address space and AS numbers that must never appear in
//! the global routing table. An announcement of such a prefix, or an AS path
//! through such an ASN, is a misconfiguration or an attack, and Radar's
//! `bogon_old_origin` tag depends on it.
//!
//! Sources: IANA IPv4 / IPv6 Special-Purpose Address Registries (RFC 6890
//! and updates) restricted to the entries that are not globally reachable,
//! the NLNOG / Team Cymru bogon lists (which add 224/4, 240/4 and everything
//! outside 2000::/3), and the IANA "Special-Purpose AS Numbers" registry.

use ipnet::IpNet;
use prefix_trie::joint::map::JointPrefixMap;

use crate::model::Asn;

/// IPv4 prefixes that are bogons, with the reason.
const V4: &[(&str, &str)] = &[
    ("0.0.0.0/8", "\"this network\" (RFC 791)"),
    ("10.0.0.0/8", "private use (RFC 1918)"),
    ("100.64.0.0/10", "shared address space / CGN (RFC 6598)"),
    ("127.0.0.0/8", "loopback (RFC 1122)"),
    ("169.254.0.0/16", "link local (RFC 3927)"),
    ("172.16.0.0/12", "private use (RFC 1918)"),
    ("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
    ("192.0.2.0/24", "documentation TEST-NET-1 (RFC 5737)"),
    ("192.88.99.0/24", "deprecated 6to4 relay anycast (RFC 7526)"),
    ("192.168.0.0/16", "private use (RFC 1918)"),
    ("198.18.0.0/15", "benchmarking (RFC 2544)"),
    ("198.51.100.0/24", "documentation TEST-NET-2 (RFC 5737)"),
    ("203.0.113.0/24", "documentation TEST-NET-3 (RFC 5737)"),
    ("224.0.0.0/4", "multicast (RFC 5771)"),
    (
        "240.0.0.0/4",
        "reserved, incl. limited broadcast (RFC 1112, RFC 919)",
    ),
];

/// IPv6 prefixes that are bogons inside 2000::/3, plus the space outside it.
const V6: &[(&str, &str)] = &[
    (
        "::/8",
        "outside global unicast 2000::/3 (loopback, unspecified, v4-mapped ...)",
    ),
    ("100::/64", "discard-only (RFC 6666)"),
    ("2001:2::/48", "benchmarking (RFC 5180)"),
    ("2001:10::/28", "deprecated ORCHID (RFC 4843)"),
    ("2001:db8::/32", "documentation (RFC 3849)"),
    ("3ffe::/16", "former 6bone (RFC 3701)"),
    ("fc00::/7", "unique local (RFC 4193)"),
    ("fe80::/10", "link local (RFC 4291)"),
    ("fec0::/10", "deprecated site local (RFC 3879)"),
    ("ff00::/8", "multicast (RFC 4291)"),
];

/// Everything that is not in 2000::/3 is not global unicast.
const V6_NOT_GLOBAL: &[&str] = &["0000::/3", "4000::/2", "8000::/1"];

/// The bogon tables. Cheap to build; [`Default`] gives the built-in IANA
/// tables.
#[derive(Debug, Clone)]
pub struct Bogons {
    prefixes: JointPrefixMap<IpNet, &'static str>,
}

impl Default for Bogons {
    fn default() -> Self {
        let mut prefixes = JointPrefixMap::new();
        for s in V6_NOT_GLOBAL {
            if let Ok(p) = s.parse::<IpNet>() {
                prefixes.insert(p, "outside global unicast 2000::/3 (RFC 4291)");
            }
        }
        for (s, why) in V4.iter().chain(V6) {
            if let Ok(p) = s.parse::<IpNet>() {
                prefixes.insert(p, *why);
            }
        }
        Bogons { prefixes }
    }
}

impl Bogons {
    /// True if `p` lies inside bogon space, or is a default route.
    pub fn prefix_is_bogon(&self, p: &IpNet) -> bool {
        self.prefix_reason(p).is_some()
    }

    /// Why `p` is a bogon, or `None`.
    pub fn prefix_reason(&self, p: &IpNet) -> Option<&'static str> {
        if p.prefix_len() == 0 {
            return Some("default route");
        }
        self.prefixes.get_lpm(&p.trunc()).map(|(_, why)| *why)
    }

    /// True if `a` must never appear in a public AS path.
    pub fn asn_is_bogon(&self, a: Asn) -> bool {
        asn_reason(a).is_some()
    }

    /// Why `a` is a bogon ASN, or `None`.
    pub fn asn_reason(&self, a: Asn) -> Option<&'static str> {
        asn_reason(a)
    }

    /// True for the private-use ranges of RFC 6996 (a subset of bogons).
    pub fn asn_is_private(&self, a: Asn) -> bool {
        matches!(a.0, 64512..=65534 | 4_200_000_000..=4_294_967_294)
    }
}

fn asn_reason(a: Asn) -> Option<&'static str> {
    Some(match a.0 {
        0 => "reserved AS0 (RFC 7607)",
        23456 => "AS_TRANS (RFC 6793)",
        64496..=64511 => "documentation (RFC 5398)",
        64512..=65534 => "private use (RFC 6996)",
        65535 => "reserved last 16-bit ASN (RFC 7300)",
        65536..=65551 => "documentation (RFC 5398)",
        65552..=131071 => "IANA reserved",
        4_200_000_000..=4_294_967_294 => "private use (RFC 6996)",
        4_294_967_295 => "reserved last 32-bit ASN (RFC 7300)",
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn p(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn prefixes() {
        let b = Bogons::default();
        assert!(b.prefix_is_bogon(&p("10.1.0.0/16")));
        assert!(b.prefix_is_bogon(&p("192.168.1.0/24")));
        assert!(b.prefix_is_bogon(&p("0.0.0.0/0")));
        assert!(b.prefix_is_bogon(&p("2001:db8:1::/48")));
        assert!(b.prefix_is_bogon(&p("fd00::/8")));
        assert!(b.prefix_is_bogon(&p("4000::/16")));
        assert!(!b.prefix_is_bogon(&p("1.1.1.0/24")));
        assert!(!b.prefix_is_bogon(&p("208.65.152.0/22")));
        assert!(!b.prefix_is_bogon(&p("2a00:1450::/32")));
        assert!(!b.prefix_is_bogon(&p("8.0.0.0/7")));
    }

    #[test]
    fn asns() {
        let b = Bogons::default();
        for a in [
            0,
            23456,
            64496,
            64512,
            65000,
            65535,
            65536,
            70000,
            4_200_000_000,
            u32::MAX,
        ] {
            assert!(b.asn_is_bogon(Asn(a)), "{a}");
        }
        for a in [1, 13335, 64495, 131072, 396982, 4_199_999_999] {
            assert!(!b.asn_is_bogon(Asn(a)), "{a}");
        }
        assert!(b.asn_is_private(Asn(65000)));
        assert!(!b.asn_is_private(Asn(65535)));
        assert!(b.asn_is_private(Asn(4_200_000_001)));
    }
}

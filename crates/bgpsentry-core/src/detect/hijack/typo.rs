//! Typo'd prefixes: a new origin announcing a prefix that differs from one
//! of its *own* established prefixes by a slip of the keyboard.
//!
//! A classic misconfiguration (the operator meant `210.98.34.0/24`, typed
//! `210.138.34.0/24`) takes a stranger's space out of the Internet for every
//! network that prefers the more specific or the wrong origin. It looks like
//! a routine origin change to the other tags (one prefix, often a /24), but
//! it has a signature no legitimate change has: the hijacker already
//! announces a prefix of the same length that is identical except for one
//! octet, and that octet's decimal text is within two keystrokes
//! (Damerau–Levenshtein distance ≤ 2) of the one typed.
//!
//! The octet that may differ is never the last significant one (for a /24
//! the third): neighbouring allocations (`210.98.33.0/24`,
//! `210.98.34.0/24`) differ there, and a network that received the next
//! block is not a typo. IPv4 only; for IPv6 the same test on hextets would
//! need the operators' (hex) spelling habits, which we have no data on.

use ipnet::{IpNet, Ipv4Net};

/// Most keystrokes between the typed octet and the intended one.
pub const MAX_TYPO_DISTANCE: usize = 2;

/// One octet position of `prefix` that a typo could have changed: every
/// prefix that differs from it there only (`all`, 255 of them), and which of
/// those are within [`MAX_TYPO_DISTANCE`] keystrokes (`near`).
#[derive(Debug, Default)]
pub struct Position {
    /// Every other value of the octet.
    pub all: Vec<IpNet>,
    /// The values a slip of the keyboard could have turned into the typed one.
    pub near: Vec<IpNet>,
}

/// The octet positions a typo could have changed: every octet but the last
/// significant one, same length. Empty for IPv6 and for prefixes of one
/// significant octet or less.
pub fn positions(prefix: &IpNet) -> Vec<Position> {
    let IpNet::V4(p) = prefix.trunc() else {
        return Vec::new();
    };
    let len = p.prefix_len();
    // octets the mask touches; the last of them may not be the one changed
    let significant = usize::from(len.div_ceil(8));
    if significant < 2 {
        return Vec::new();
    }
    let octets = p.addr().octets();
    let mut out = Vec::new();
    for i in 0..significant - 1 {
        let typed = octets[i].to_string();
        let mut pos = Position::default();
        for v in 0..=255u8 {
            if v == octets[i] {
                continue;
            }
            let mut o = octets;
            o[i] = v;
            let Ok(n) = Ipv4Net::new(o.into(), len) else {
                continue;
            };
            let n = IpNet::V4(n.trunc());
            if distance(&typed, &v.to_string()) <= MAX_TYPO_DISTANCE {
                pos.near.push(n);
            }
            pos.all.push(n);
        }
        out.push(pos);
    }
    out
}

/// Most prefixes of the same shape (same length, same octets but one) the
/// new origin may hold for a near one to count as the intended prefix: a
/// network holding several `203.X.33.0/24` (AS1221 holds 598 prefixes,
/// most of them /24s in 203/8) matches a "typo" by chance.
pub const MAX_SAME_SHAPE: usize = 1;

/// The prefix `prefix` is a typo of, if `owns` (does the new origin hold
/// this prefix?) finds one near prefix among at most [`MAX_SAME_SHAPE`] of
/// the same shape.
pub fn typo_of(prefix: &IpNet, owns: impl Fn(&IpNet) -> bool) -> Option<IpNet> {
    for pos in positions(prefix) {
        let Some(near) = pos.near.iter().find(|n| owns(n)) else {
            continue;
        };
        if pos.all.iter().filter(|n| owns(n)).count() <= MAX_SAME_SHAPE {
            return Some(*near);
        }
    }
    None
}

/// Damerau–Levenshtein (optimal string alignment) distance of two short
/// ASCII strings.
fn distance(a: &str, b: &str) -> usize {
    let a = a.as_bytes();
    let b = b.as_bytes();
    // at most 3 digits each: a fixed table
    let mut d = [[0usize; 4]; 4];
    if a.len() > 3 || b.len() > 3 {
        return usize::MAX;
    }
    for (i, row) in d.iter_mut().enumerate().take(a.len() + 1) {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate().take(b.len() + 1) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> IpNet {
        s.parse().expect("prefix")
    }

    #[test]
    fn keystroke_distance() {
        assert_eq!(distance("98", "138"), 2);
        assert_eq!(distance("183", "138"), 1);
        assert_eq!(distance("12", "21"), 1);
        assert_eq!(distance("5", "55"), 1);
        assert_eq!(distance("200", "17"), 3);
    }

    fn near(prefix: &str) -> Vec<IpNet> {
        positions(&p(prefix))
            .into_iter()
            .flat_map(|pos| pos.near)
            .collect()
    }

    #[test]
    fn real_typo_of_2008_is_a_candidate() {
        // AS9708 held 210.98.34.0/24 and announced 210.138.34.0/24
        // (IIJ's space) on 2008-02-21.
        let c = near("210.138.34.0/24");
        assert!(c.contains(&p("210.98.34.0/24")));
        assert!(c.contains(&p("210.183.34.0/24")));
        // neighbouring allocations are not typos: the third octet is the
        // last significant one of a /24 and never changed
        assert!(!c.contains(&p("210.138.35.0/24")));
        // the length never changes
        assert!(c.iter().all(|n| n.prefix_len() == 24));
        assert!(!c.contains(&p("210.138.34.0/24")));
    }

    #[test]
    fn short_and_v6_prefixes_have_none() {
        assert!(near("12.0.0.0/8").is_empty());
        assert!(near("2001:db8::/32").is_empty());
        // a /16: only the first octet may differ
        let c = near("12.5.0.0/16");
        assert!(c.contains(&p("21.5.0.0/16")));
        assert!(c.iter().all(|n| n.to_string().ends_with(".5.0.0/16")));
    }

    #[test]
    fn a_holder_of_many_same_shape_prefixes_is_no_typo() {
        let own = [p("210.98.34.0/24")];
        assert_eq!(
            typo_of(&p("210.138.34.0/24"), |n| own.contains(n)),
            Some(p("210.98.34.0/24"))
        );
        // a large network holding 203.X.33.0/24 for many X matches by chance
        let two = [p("203.18.33.0/24"), p("203.5.33.0/24")];
        assert_eq!(typo_of(&p("203.8.33.0/24"), |n| two.contains(n)), None);
        let many: Vec<IpNet> = (1..40u8).map(|x| p(&format!("203.{x}.33.0/24"))).collect();
        assert_eq!(typo_of(&p("203.8.33.0/24"), |n| many.contains(n)), None);
        // nothing near: nothing
        assert_eq!(typo_of(&p("192.0.2.0/24"), |n| own.contains(n)), None);
    }
}

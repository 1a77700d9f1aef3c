//! AS_PATH text and the AS4 merge exactly as bgpdump does them.
//!
//! * Text: sequences space-separated, `{a,b}` for AS_SET, `(a b)` for
//!   AS_CONFED_SEQUENCE, `[a,b]` for AS_CONFED_SET; a path longer than
//!   bgpdump's 8000-byte buffer is cut after the ASN that passes 7900 bytes
//!   and ends in `...`.
//! * Merge (2-octet sessions only, RFC 6793 §4.2.3 as bgpdump implements it):
//!   when AS4_PATH is present and not longer than AS_PATH, the first
//!   `count(AS_PATH) - count(AS4_PATH)` ASNs are taken from AS_PATH and
//!   AS4_PATH is appended. bgpdump's copy loop re-reads the *first* segment
//!   every round (it never advances its segment pointer); this is reproduced.

use bgpkit_parser::models::{AsPath, AsPathSegment, Asn};

use super::fmt::u32_dec;

/// bgpdump's `MAX_ASPATH_LEN`.
const MAX_TEXT: usize = 8000;

/// bgpdump's path "count": a sequence counts its ASNs, a set counts one.
pub fn count(p: &AsPath) -> usize {
    p.segments
        .iter()
        .map(|s| match s {
            AsPathSegment::AsSequence(v) | AsPathSegment::ConfedSequence(v) => v.len(),
            AsPathSegment::AsSet(_) | AsPathSegment::ConfedSet(_) => 1,
        })
        .sum()
}

/// The merged path bgpdump prints for a 2-octet session carrying both
/// AS_PATH and AS4_PATH, or `None` when it prints AS_PATH unchanged.
pub fn merge_quirk(path: &AsPath, new: &AsPath) -> Option<AsPath> {
    let (have, want_new) = (count(path), count(new));
    if have < want_new {
        return None;
    }
    let target = have - want_new;
    let mut merged: Vec<AsPathSegment> = Vec::new();
    let mut got = 0usize;
    if let Some(first) = path.segments.first() {
        while got < target {
            let mut seg = first.clone();
            match &mut seg {
                AsPathSegment::AsSet(_) | AsPathSegment::ConfedSet(_) => got += 1,
                AsPathSegment::AsSequence(v) | AsPathSegment::ConfedSequence(v) => {
                    if v.is_empty() {
                        // bgpdump loops forever here; we stop.
                        break;
                    }
                    got += v.len();
                    if got > target {
                        let keep = v.len() - (got - target);
                        v.truncate(keep);
                    }
                }
            }
            merged.push(seg);
        }
    }
    merged.extend(new.segments.iter().cloned());
    Some(AsPath {
        segments: merged.into_iter().collect(),
    })
}

fn kind(s: &AsPathSegment) -> (u8, &[Asn]) {
    match s {
        AsPathSegment::AsSet(v) => (1, v),
        AsPathSegment::AsSequence(v) => (2, v),
        AsPathSegment::ConfedSequence(v) => (3, v),
        AsPathSegment::ConfedSet(v) => (4, v),
    }
}

fn open(k: u8) -> u8 {
    match k {
        1 => b'{',
        3 => b'(',
        4 => b'[',
        _ => b' ',
    }
}

fn close(k: u8) -> u8 {
    match k {
        1 => b'}',
        3 => b')',
        4 => b']',
        _ => b' ',
    }
}

/// Appends the path as bgpdump's `process_attr_aspath_string` renders it.
pub fn write(out: &mut Vec<u8>, p: &AsPath) {
    let start = out.len();
    let mut prev = 2u8;
    let mut space = false;
    let mut last = None;
    for seg in &p.segments {
        let (k, asns) = kind(seg);
        if prev != 2 {
            out.push(close(prev));
        }
        if space {
            out.push(b' ');
        }
        if k != 2 {
            out.push(open(k));
        }
        space = false;
        let sep = if k == 1 || k == 4 { b',' } else { b' ' };
        for a in asns {
            if space {
                out.push(sep);
            } else {
                space = true;
            }
            u32_dec(out, a.to_u32());
            if out.len() - start > MAX_TEXT - 100 {
                out.extend_from_slice(b"...");
                return;
            }
        }
        prev = k;
        last = Some(k);
    }
    if let Some(k) = last
        && k != 2
    {
        out.push(close(k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(v: &[u32]) -> AsPathSegment {
        AsPathSegment::AsSequence(v.iter().map(|&a| Asn::new_32bit(a)).collect())
    }
    fn set(v: &[u32]) -> AsPathSegment {
        AsPathSegment::AsSet(v.iter().map(|&a| Asn::new_32bit(a)).collect())
    }
    fn path(s: Vec<AsPathSegment>) -> AsPath {
        AsPath {
            segments: s.into_iter().collect(),
        }
    }
    fn text(p: &AsPath) -> String {
        let mut v = Vec::new();
        write(&mut v, p);
        String::from_utf8(v).expect("utf8")
    }

    #[test]
    fn renders_segments() {
        let p = path(vec![
            seq(&[1, 2]),
            set(&[3, 4]),
            AsPathSegment::ConfedSequence([5u32, 6].iter().map(|&a| Asn::new_32bit(a)).collect()),
            AsPathSegment::ConfedSet([7u32].iter().map(|&a| Asn::new_32bit(a)).collect()),
            seq(&[8]),
        ]);
        assert_eq!(text(&p), "1 2 {3,4} (5 6) [7] 8");
        assert_eq!(text(&path(vec![seq(&[1]), set(&[2, 3])])), "1 {2,3}");
        assert_eq!(text(&path(vec![])), "");
    }

    #[test]
    fn long_paths_are_cut_like_bgpdump() {
        let p = path(vec![seq(&vec![4_000_000_000; 2000])]);
        let t = text(&p);
        assert!(t.ends_with("..."));
        assert!(t.len() <= MAX_TEXT);
    }

    #[test]
    fn merge_follows_bgpdump() {
        // AS_PATH 1 2 23456 23456, AS4_PATH 70000 80000 -> 1 2 70000 80000
        let old = path(vec![seq(&[1, 2, 23456, 23456])]);
        let new = path(vec![seq(&[70000, 80000])]);
        assert_eq!(
            text(&merge_quirk(&old, &new).expect("merge")),
            "1 2 70000 80000"
        );
        // Re-copies the first segment: AS_PATH 1 2 {3} 23456, AS4_PATH 70000
        // -> count 4-1 = 3: copies "1 2" (2), then "1 2" again truncated to 1.
        let old = path(vec![seq(&[1, 2]), set(&[3]), seq(&[23456])]);
        let new = path(vec![seq(&[70000])]);
        assert_eq!(
            text(&merge_quirk(&old, &new).expect("merge")),
            "1 2 1 70000"
        );
        // AS4_PATH longer than AS_PATH: AS_PATH unchanged.
        let new = path(vec![seq(&[1, 2, 3, 4, 5, 6])]);
        assert!(merge_quirk(&old, &new).is_none());
    }
}

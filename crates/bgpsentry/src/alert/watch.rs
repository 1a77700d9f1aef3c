//! Does an event match a watch? Used in-process (the only filter there) and
//! after polling (an API, ours or not, is not trusted to have filtered).

use bgpsentry_core::model::Event;

use super::config::{Kind, WatchConfig};
use super::notification::kind_of;

/// True when every filter of the watch holds for the event.
pub fn matches(w: &WatchConfig, e: &Event) -> bool {
    if !w.effective_kinds().contains(&kind_of(e)) {
        return false;
    }
    match e {
        Event::Hijack(h) => {
            if let Some(a) = w.involved_asn
                && !h.involved().any(|x| x == a)
            {
                return false;
            }
            if let Some(a) = w.hijacker_asn
                && h.hijacker_asn != a
            {
                return false;
            }
            if let Some(a) = w.victim_asn
                && !h.victim_asns.contains(&a)
            {
                return false;
            }
            if let Some(min) = w.min_confidence
                && h.confidence_score < min
            {
                return false;
            }
            if let Some(p) = w.prefix
                && !h.prefixes.iter().any(|s| overlaps(&p, s))
            {
                return false;
            }
            true
        }
        Event::Leak(l) => {
            if let Some(a) = w.involved_asn
                && l.leak_asn != a
                && !l.leak_seg.contains(&a)
            {
                return false;
            }
            if let Some(a) = w.leak_asn
                && l.leak_asn != a
            {
                return false;
            }
            // Hijack-only filters make a watch hijack-only (config validation).
            w.hijacker_asn.is_none()
                && w.victim_asn.is_none()
                && w.prefix.is_none()
                && w.min_confidence.is_none()
        }
    }
}

/// The kinds `w` covers.
pub fn kinds(w: &WatchConfig) -> Vec<Kind> {
    w.effective_kinds()
}

fn overlaps(p: &ipnet::IpNet, s: &str) -> bool {
    match s.trim().parse::<ipnet::IpNet>() {
        Ok(q) => p.contains(&q) || q.contains(p),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_overlap() {
        let p: ipnet::IpNet = "208.65.152.0/22".parse().expect("net");
        assert!(overlaps(&p, "208.65.153.0/24"));
        assert!(overlaps(&p, "208.0.0.0/8"));
        assert!(!overlaps(&p, "1.1.1.0/24"));
        assert!(!overlaps(&p, "garbage"));
    }
}

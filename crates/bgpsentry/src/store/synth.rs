//! Synthetic events for tests, demos and the API benchmark: deterministic
//! (a seeded xorshift), with Radar-like distributions — a few busy ASNs and
//! a long tail, Radar's observed confidence values, IPv4 and IPv6 prefixes.

use bgpsentry_core::model::{
    Asn, ChangeKind, Event, EventChange, HijackEvent, LeakEvent, SamplePath, Tag, Timestamp,
};

use super::Store;
use super::error::Result;

/// Confidence scores Radar was observed to publish, and tags that sum to them.
const SCORES: &[(i32, &[(&str, i32)])] = &[
    (
        1,
        &[
            ("irr_new_origin_invalid", 4),
            ("irr_old_origin_invalid", -2),
            ("bogon_old_origin", -1),
        ],
    ),
    (
        2,
        &[
            ("irr_new_origin_invalid", 4),
            ("irr_old_origin_invalid", -2),
        ],
    ),
    (
        4,
        &[("irr_new_origin_invalid", 4), ("irr_old_origin_valid", 0)],
    ),
    (
        6,
        &[
            ("rpki_new_origin_invalid", 8),
            ("rpki_old_origin_invalid", -2),
        ],
    ),
    (
        8,
        &[("rpki_new_origin_invalid", 8), ("rpki_old_origin_valid", 0)],
    ),
    (
        10,
        &[
            ("rpki_new_origin_invalid", 8),
            ("irr_new_origin_invalid", 4),
            ("irr_old_origin_invalid", -2),
        ],
    ),
    (
        12,
        &[
            ("rpki_new_origin_invalid", 8),
            ("irr_new_origin_invalid", 4),
            ("rpki_old_origin_valid", 0),
        ],
    ),
];
const COUNTRIES: &[&str] = &[
    "US", "DE", "BR", "RU", "CN", "IN", "GB", "FR", "JP", "NL", "ID", "ZA", "AU", "PK", "AF", "UA",
];

/// A seeded pseudo-random source (xorshift64*).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator; the same seed gives the same sequence.
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// An ASN from a pool of 60k with a heavy head: the lowest ranks are
    /// drawn far more often (squared uniform).
    pub fn asn(&mut self) -> Asn {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        Asn(64_512 + 1000 + ((u * u * u) * 60_000.0) as u32)
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// The country of a synthetic ASN (fixed per ASN).
pub fn country_of(asn: Asn) -> &'static str {
    COUNTRIES[(asn.0 as usize * 7) % COUNTRIES.len()]
}

/// A prefix: mostly IPv4 /24s (some /22, /23), one in ten IPv6 /48.
pub fn prefix(rng: &mut Rng) -> String {
    if rng.below(10) == 0 {
        format!("2001:db8:{:x}::/48", rng.below(0x1_0000))
    } else {
        let len = [22u8, 23, 24, 24, 24][rng.below(5) as usize];
        let a = 1 + rng.below(222);
        let b = rng.below(256);
        let c = rng.below(256) & !((1u64 << (24 - len)) - 1);
        format!("{a}.{b}.{c}.0/{len}")
    }
}

/// A hijack event with id `id` starting at `start`.
pub fn hijack(rng: &mut Rng, id: u64, start: Timestamp) -> HijackEvent {
    let (score, tags) = rng.pick(SCORES);
    let hijacker = rng.asn();
    let victims: Vec<Asn> = (0..1 + rng.below(2)).map(|_| rng.asn()).collect();
    let prefixes: Vec<String> = (0..1 + rng.below(3)).map(|_| prefix(rng)).collect();
    let peers: Vec<Asn> = (0..1 + rng.below(5))
        .map(|_| Asn(100 + rng.below(200) as u32))
        .collect();
    let duration = rng.below(7200) as i64;
    let end = start.add_secs(duration);
    let finished = rng.below(10) != 0;
    let sample_paths = vec![SamplePath {
        collector: "rrc00".into(),
        peer_ip: std::net::IpAddr::from([192, 0, 2, peers.len() as u8]),
        peer_asn: peers[0],
        prefix: prefixes[0].clone(),
        as_path: format!("{} 3356 {}", peers[0], hijacker),
        ts: start,
    }];
    HijackEvent {
        id,
        confidence_score: *score,
        duration: if finished { duration } else { 0 },
        event_type: (rng.below(2)) as u8,
        hijack_msgs_count: 1 + rng.below(50),
        hijacker_asn: hijacker,
        hijacker_country: country_of(hijacker).into(),
        is_stale: false,
        max_hijack_ts: end,
        max_msg_ts: end,
        min_hijack_ts: start,
        on_going_count: if finished { 0 } else { prefixes.len() as u32 },
        peer_ip_count: peers.len() as u32,
        peer_asns: peers,
        prefixes,
        tags: tags.iter().map(|(n, s)| Tag::new(*n, *s)).collect(),
        victim_countries: victims.iter().map(|a| country_of(*a).to_string()).collect(),
        victim_asns: victims,
        finished,
        ended_ts: finished.then_some(end),
        sample_paths,
    }
}

/// A leak event with id `id` starting at `start`.
pub fn leak(rng: &mut Rng, id: u64, start: Timestamp) -> LeakEvent {
    let seg = vec![rng.asn(), rng.asn(), rng.asn()];
    let prefixes: Vec<String> = (0..1 + rng.below(4)).map(|_| prefix(rng)).collect();
    let origins: Vec<Asn> = (0..1 + rng.below(3)).map(|_| rng.asn()).collect();
    let end = start.add_secs(rng.below(3600) as i64);
    let finished = rng.below(10) != 0;
    LeakEvent {
        id,
        countries: seg.iter().map(|a| country_of(*a).to_string()).collect(),
        detected_ts: start,
        finished,
        leak_asn: seg[1],
        leak_count: 1 + rng.below(500),
        leak_type: 1,
        max_ts: end,
        min_ts: start,
        origin_count: origins.len() as u32,
        peer_count: 1 + rng.below(100) as u32,
        prefix_count: prefixes.len() as u32 + rng.below(20) as u32,
        confidence_score: 0,
        tags: Vec::new(),
        leak_segs: Vec::new(),
        leak_seg: seg,
        ended_ts: finished.then_some(end),
        prefixes,
        origins,
        sample_paths: Vec::new(),
    }
}

/// Fills a store with `hijacks` and `leaks` events (ids from 1) spread
/// evenly over the `span_secs` seconds before `end`, plus `asn_info` for
/// the synthetic ASN pool and `total_monitors`. Returns the changes written.
pub fn fill(
    store: &mut Store,
    hijacks: u64,
    leaks: u64,
    end: Timestamp,
    span_secs: i64,
    seed: u64,
) -> Result<u64> {
    let mut rng = Rng::new(seed);
    let mut batch = Vec::with_capacity(10_000);
    let mut written = 0;
    let step = |n: u64| (span_secs.max(1) * 1_000_000) / n.max(1) as i64;
    for (n, is_hijack) in [(hijacks, true), (leaks, false)] {
        let start = Timestamp(end.0 - span_secs * 1_000_000);
        for i in 0..n {
            let ts = Timestamp(start.0 + step(n) * i as i64);
            let event = if is_hijack {
                Event::Hijack(hijack(&mut rng, i + 1, ts))
            } else {
                Event::Leak(leak(&mut rng, i + 1, ts))
            };
            batch.push(EventChange {
                ts,
                kind: ChangeKind::Opened,
                event,
            });
            if batch.len() == batch.capacity() {
                store.apply_batch(&batch)?;
                written += batch.len() as u64;
                batch.clear();
            }
        }
    }
    store.apply_batch(&batch)?;
    written += batch.len() as u64;
    let info: Vec<(Asn, String, String)> = (64_512 + 1000..64_512 + 61_001)
        .map(|a| {
            (
                Asn(a),
                country_of(Asn(a)).to_string(),
                format!("Synthetic Org {a}"),
            )
        })
        .collect();
    store.upsert_asn_info(&info)?;
    store.set_total_monitors(272)?;
    Ok(written)
}

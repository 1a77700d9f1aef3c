//! Turns what the detectors know into what the store publishes for the
//! routing endpoints: the routing state's current (prefix, origin, peer
//! count) rows — origins carried by a peer now, and established origins
//! (bootstrap table, RIB, learned) with the peers carrying them now,
//! possibly none — with their RPKI state and per-AS aggregates
//! ([`build`]), and the evidence's AS registry and relationships
//! ([`publish_context`]). `replay --db` publishes once at the end; `run`
//! builds a snapshot on its detector thread at the checkpoint cadence and
//! hands it to a writer thread, so detection never waits for SQLite.

use std::collections::{HashMap, HashSet};

use bgpsentry_core::detect::state::RoutingState;
use bgpsentry_core::evidence::{Evidence, Relationship};
use bgpsentry_core::model::{Asn, Timestamp};
use ipnet::IpNet;

use crate::store::{AsAggregate, AsnEntity, RouteRow, RoutingSnapshot, Store};

/// A snapshot of `state` at message time `now`, from `total_peers`
/// collector peers, at most [`crate::store::MAX_SNAPSHOT_ROUTES`] routes.
pub fn build(
    state: &RoutingState,
    evidence: &Evidence,
    now: Timestamp,
    total_peers: usize,
) -> RoutingSnapshot {
    let routes: Vec<RouteRow> = state
        .current_origins()
        .take(crate::store::MAX_SNAPSHOT_ROUTES)
        .map(|(prefix, origin, peers)| RouteRow {
            prefix,
            origin: origin.0,
            peer_count: u32::try_from(peers).unwrap_or(u32::MAX),
            rpki: evidence.rpki.validate(&prefix, origin).radar_word(),
        })
        .collect();
    let ases = aggregates(&routes, evidence);
    RoutingSnapshot {
        data_time: now,
        total_peers: u32::try_from(total_peers).unwrap_or(u32::MAX),
        routes,
        ases,
    }
}

/// Per-AS counts: prefixes, addresses (a prefix inside another of the same
/// AS counted once), RPKI states, customer cone size.
fn aggregates(routes: &[RouteRow], evidence: &Evidence) -> Vec<AsAggregate> {
    let mut by_as: HashMap<u32, Vec<&RouteRow>> = HashMap::new();
    for r in routes {
        by_as.entry(r.origin).or_default().push(r);
    }
    let cones = Cones::new(evidence);
    let mut out: Vec<AsAggregate> = by_as
        .into_iter()
        .map(|(asn, mut rs)| {
            rs.sort_by_key(|r| (r.prefix.addr(), r.prefix.prefix_len()));
            let mut a = AsAggregate {
                asn,
                cone: cones.size(Asn(asn)),
                pfxs: rs.len() as u64,
                ..AsAggregate::default()
            };
            let mut last: Option<IpNet> = None;
            for r in &rs {
                match r.rpki {
                    "valid" => a.rpki_valid += 1,
                    "invalid" => a.rpki_invalid += 1,
                    _ => a.rpki_unknown += 1,
                }
                if last.is_some_and(|l| l.contains(&r.prefix)) {
                    continue;
                }
                last = Some(r.prefix);
                match r.prefix {
                    IpNet::V4(p) => a.ipv4 += 1u64 << (32 - u32::from(p.prefix_len())),
                    IpNet::V6(p) => {
                        let bits = 128 - u32::from(p.prefix_len());
                        a.ipv6 = a
                            .ipv6
                            .saturating_add(1u128.checked_shl(bits).unwrap_or(u128::MAX));
                    }
                }
            }
            a
        })
        .collect();
    out.sort_by_key(|a| a.asn);
    out
}

/// Customer cones over the provider→customer edges of the relationships.
struct Cones {
    customers: HashMap<Asn, Vec<Asn>>,
}

impl Cones {
    fn new(evidence: &Evidence) -> Cones {
        let mut customers: HashMap<Asn, Vec<Asn>> = HashMap::new();
        for (a, b, info) in evidence.asrel.iter() {
            match info.rel {
                Relationship::Provider => customers.entry(a).or_default().push(b),
                Relationship::Customer => customers.entry(b).or_default().push(a),
                _ => {}
            }
        }
        Cones { customers }
    }

    /// The AS and every AS reachable from it over customer edges.
    fn size(&self, a: Asn) -> u64 {
        let mut seen: HashSet<Asn> = HashSet::from([a]);
        let mut todo = vec![a];
        while let Some(x) = todo.pop() {
            for c in self.customers.get(&x).into_iter().flatten() {
                if seen.insert(*c) {
                    todo.push(*c);
                }
            }
        }
        seen.len() as u64
    }
}

/// The registry suffix of an as2org organisation id (`YOUTU-ARIN` → `ARIN`).
fn registry(org_id: &str) -> &str {
    const RIRS: &[&str] = &[
        "AFRINIC", "APNIC", "ARIN", "LACNIC", "RIPE", "JPNIC", "KRNIC",
    ];
    let tail = org_id.rsplit('-').next().unwrap_or("");
    RIRS.iter()
        .find(|r| r.eq_ignore_ascii_case(tail))
        .copied()
        .unwrap_or("")
}

/// Radar's relationship word for what `a` is to `b`.
fn rel_word(r: Relationship) -> &'static str {
    match r {
        Relationship::Provider => "P2C",
        Relationship::Customer => "C2P",
        Relationship::Peer => "P2P",
        Relationship::Sibling => "S2S",
    }
}

/// Stores the evidence's AS registry (every AS the organisation tables
/// know) and relationships (`source` names where they come from).
pub fn publish_context(store: &mut Store, evidence: &Evidence, source: &str) -> anyhow::Result<()> {
    let mut entities: Vec<AsnEntity> = evidence
        .orgs
        .asns()
        .map(|a| {
            let org_id = evidence.orgs.org_id(a).unwrap_or("").to_string();
            AsnEntity {
                asn: a.0,
                country: evidence.orgs.country(a).unwrap_or("").to_string(),
                org_name: evidence.orgs.name(a).unwrap_or("").to_string(),
                organization: evidence.orgs.org_name(a).unwrap_or("").to_string(),
                as_name: evidence.orgs.name(a).unwrap_or("").to_string(),
                source: registry(&org_id).to_string(),
                org_id,
            }
        })
        .collect();
    entities.sort_by_key(|e| e.asn);
    store.upsert_asn_entities(&entities)?;
    let rels: Vec<(u32, u32, &'static str)> = evidence
        .asrel
        .iter()
        .map(|(a, b, info)| (a.0, b.0, rel_word(info.rel)))
        .collect();
    store.replace_asn_rels(&rels, source)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_suffix() {
        assert_eq!(registry("YOUTU-ARIN"), "ARIN");
        assert_eq!(registry("ORG-YA13-RIPE"), "RIPE");
        assert_eq!(registry("LPL-141-ARIN"), "ARIN");
        assert_eq!(registry("@aut-1-LACNIC"), "LACNIC");
        assert_eq!(registry("nothing"), "");
    }

    #[test]
    fn addresses_count_nested_prefixes_once() {
        let r = |p: &str, o: u32| RouteRow {
            prefix: p.parse().expect("prefix"),
            origin: o,
            peer_count: 1,
            rpki: "unknown",
        };
        let routes = vec![
            r("208.65.152.0/22", 36561),
            r("208.65.153.0/24", 36561),
            r("10.0.0.0/24", 36561),
            r("208.65.153.0/24", 17557),
        ];
        let ases = aggregates(&routes, &Evidence::default());
        assert_eq!(ases.len(), 2);
        assert_eq!(ases[0].asn, 17557);
        assert_eq!((ases[0].pfxs, ases[0].ipv4), (1, 256));
        assert_eq!(
            (ases[1].pfxs, ases[1].ipv4, ases[1].cone),
            (3, 1024 + 256, 1)
        );
    }
}

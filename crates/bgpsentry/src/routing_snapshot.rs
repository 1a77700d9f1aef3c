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

/// Seconds (wall clock) between routing snapshots while `run` is live.
pub const PUBLISH_SECS: u64 = 60;

/// `run`'s snapshot writer: a thread with its own store connection. The
/// detector thread builds a snapshot and [`Publisher::offer`]s it; when the
/// writer is still busy with the previous one the new one is dropped (the
/// next offer brings a fresher one), so detection never waits.
pub struct Publisher {
    tx: Option<std::sync::mpsc::SyncSender<RoutingSnapshot>>,
    handle: Option<std::thread::JoinHandle<()>>,
    last: std::time::Instant,
}

impl Publisher {
    /// Opens the store at `db` on a new thread, which first writes the AS
    /// registry and relationships of `evidence`.
    pub fn start(
        db: &std::path::Path,
        evidence: std::sync::Arc<Evidence>,
        source: String,
    ) -> anyhow::Result<Publisher> {
        let mut store = Store::open(db)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<RoutingSnapshot>(1);
        let handle = std::thread::Builder::new()
            .name("routes-publisher".into())
            .spawn(move || {
                if let Err(e) = publish_context(&mut store, &evidence, &source) {
                    tracing::error!("writing the AS registry to the store failed: {e:#}");
                }
                drop(evidence);
                for snap in rx {
                    let started = std::time::Instant::now();
                    match store.publish_routes(&snap) {
                        Ok(()) => tracing::info!(
                            routes = snap.routes.len(),
                            until = %snap.data_time.to_radar_secs(),
                            ms = started.elapsed().as_millis() as u64,
                            "routing snapshot published"
                        ),
                        Err(e) => tracing::error!("publishing the routing snapshot failed: {e}"),
                    }
                }
            })?;
        Ok(Publisher {
            tx: Some(tx),
            handle: Some(handle),
            last: std::time::Instant::now(),
        })
    }

    /// True when [`PUBLISH_SECS`] have passed since the last offer.
    pub fn due(&self) -> bool {
        self.last.elapsed() >= std::time::Duration::from_secs(PUBLISH_SECS)
    }

    /// Hands a snapshot to the writer; false when it was busy (dropped).
    pub fn offer(&mut self, snap: RoutingSnapshot) -> bool {
        self.last = std::time::Instant::now();
        match &self.tx {
            Some(tx) => tx.try_send(snap).is_ok(),
            None => false,
        }
    }

    /// Writes `last` (waiting for the writer) and stops the thread.
    pub fn finish(mut self, last: Option<RoutingSnapshot>) {
        if let (Some(tx), Some(snap)) = (self.tx.take(), last) {
            let _ = tx.send(snap);
        }
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
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

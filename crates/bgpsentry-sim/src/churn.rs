//! Background churn: link failures and restorations (path changes), prefix
//! flaps, and legitimate origin changes — provider-originated MOAS
//! (multihoming), anycast (from the start, and new sites), delegation of a
//! more-specific to a customer announced through the old origin, and
//! DDoS-mitigation diversion (a scrubbing AS originates the victim's prefix
//! while the victim withdraws it). Legitimate changes go into the truth so
//! that false alarms on them can be told apart.

use std::collections::BTreeMap;

use crate::engine::{ActionKind, Sim};
use crate::error::SimError;
use crate::prefixes;
use crate::rng::Rng;
use crate::routing::{Ann, Filter};
use crate::topology::{Node, Rel};
use crate::truth::{Anycast, LegitChange, LegitKind};

/// A time inside the run, away from its edges.
pub fn some_time(sim: &Sim, rng: &mut Rng) -> i64 {
    let span = (sim.end - sim.start).max(1) as u64;
    let margin = (span / 20).min(300);
    sim.start + (margin + rng.below(span.saturating_sub(2 * margin).max(1))) as i64
}

fn rel_name(r: Option<Rel>) -> Option<String> {
    r.map(|r| match r {
        Rel::Customer => "customer".to_string(),
        Rel::Peer => "peer".to_string(),
        Rel::Provider => "provider".to_string(),
    })
}

fn legit_ann(at: Node, id: u32) -> Ann {
    Ann::Originate {
        at,
        claimed: vec![],
        filter: Some(Filter { id, permille: 1000 }),
    }
}

/// Schedules all churn.
pub fn plan(sim: &mut Sim, rng: &mut Rng) -> Result<(), SimError> {
    let ch = sim.scenario.churn.clone();
    let days = (sim.end - sim.start) as f64 / 86_400.0;
    let n = sim.topo.len();
    // Link failures, never two overlapping on one link.
    let failures = (ch.link_failures_per_day * days).round() as usize;
    let mut busy: BTreeMap<u32, Vec<(i64, i64)>> = BTreeMap::new();
    for _ in 0..failures {
        if sim.topo.edges.is_empty() {
            break;
        }
        let e = rng.index(sim.topo.edges.len()) as u32;
        let t = some_time(sim, rng);
        let d = rng.range(ch.link_down_min.0, ch.link_down_max.0.max(1)) as i64;
        let spans = busy.entry(e).or_default();
        if spans.iter().any(|(a, b)| t < *b + 60 && *a < t + d + 60) {
            continue;
        }
        spans.push((t, t + d));
        sim.at(t, ActionKind::LinkDown(e));
        sim.at(t + d, ActionKind::LinkUp(e));
        sim.counts.link_failures += 1;
    }
    // Flaps.
    let flaps = (ch.flaps_per_day * days).round() as usize;
    let owned: Vec<usize> = (0..sim.prefixes.len())
        .filter(|p| sim.prefixes[*p].owner.is_some())
        .collect();
    for _ in 0..flaps {
        if owned.is_empty() {
            break;
        }
        let p = owned[rng.index(owned.len())];
        let Some(owner) = sim.prefixes[p].owner else {
            continue;
        };
        let ann = Ann::Originate {
            at: owner,
            claimed: vec![],
            filter: None,
        };
        let t = some_time(sim, rng);
        let d = rng.range(30, 600) as i64;
        sim.at(t, ActionKind::Remove(p, ann.clone()));
        sim.at(t + d, ActionKind::Add(p, ann));
        sim.counts.flaps += 1;
    }
    // Long-standing anycast.
    for _ in 0..ch.anycast {
        let prefix = sim.alloc.v4(24)?;
        let k = rng.range(2, 4) as usize;
        let mut sites: Vec<Node> = Vec::new();
        while sites.len() < k.min(n) {
            let x = rng.index(n) as Node;
            if !sites.contains(&x) {
                sites.push(x);
            }
        }
        let mut anns: Vec<Ann> = sites
            .iter()
            .map(|s| Ann::Originate {
                at: *s,
                claimed: vec![],
                filter: None,
            })
            .collect();
        anns.sort();
        sim.add_prefix(prefix, None, anns);
        sim.anycast.push(Anycast {
            prefix: prefix.to_string(),
            origins: sites.iter().map(|s| sim.topo.asn(*s)).collect(),
        });
    }
    // New anycast sites.
    for i in 0..ch.anycast_new_sites {
        if sim.anycast.is_empty() {
            break;
        }
        let a = sim.anycast[i % sim.anycast.len()].clone();
        let Some(p) = a
            .prefix
            .parse()
            .ok()
            .and_then(|x| sim.index.get(&x).copied())
        else {
            continue;
        };
        let mut site = rng.index(n) as Node;
        for _ in 0..20 {
            if !a.origins.contains(&sim.topo.asn(site)) {
                break;
            }
            site = rng.index(n) as Node;
        }
        if a.origins.contains(&sim.topo.asn(site)) {
            continue;
        }
        let id = sim.next_id();
        let t = some_time(sim, rng);
        sim.at(t, ActionKind::Add(p, legit_ann(site, id)));
        sim.legit.push(LegitChange {
            id,
            kind: LegitKind::AnycastNewSite,
            prefix: a.prefix.clone(),
            covering: None,
            new_origin: sim.topo.asn(site),
            old_origins: a.origins.clone(),
            relation: None,
            start: t,
            end: sim.end,
        });
    }
    // Multihoming: a provider originates its stub customer's prefix too.
    let stubs: Vec<Node> = (0..n as Node)
        .filter(|x| sim.topo.tier[*x as usize] == 4 && !sim.owned[*x as usize].is_empty())
        .filter(|x| !sim.topo.providers[*x as usize].is_empty())
        .collect();
    for _ in 0..ch.multihoming {
        if stubs.is_empty() {
            break;
        }
        let v = stubs[rng.index(stubs.len())];
        let provs = &sim.topo.providers[v as usize];
        let (pv, _) = provs[rng.index(provs.len())];
        let own = &sim.owned[v as usize];
        let p = own[rng.index(own.len())];
        let id = sim.next_id();
        let t = some_time(sim, rng);
        let end = (t + rng.range(3600, 6 * 3600) as i64).min(sim.end);
        sim.at(t, ActionKind::Add(p, legit_ann(pv, id)));
        if end < sim.end {
            sim.at(end, ActionKind::Remove(p, legit_ann(pv, id)));
        }
        sim.legit.push(LegitChange {
            id,
            kind: LegitKind::Multihoming,
            prefix: sim.prefixes[p].prefix.to_string(),
            covering: None,
            new_origin: sim.topo.asn(pv),
            old_origins: vec![sim.topo.asn(v)],
            relation: rel_name(sim.topo.rel(v, pv)),
            start: t,
            end,
        });
    }
    // Delegations: a transit AS gives a more-specific to a stub customer,
    // which announces it only through that provider.
    let delegators: Vec<Node> = (0..n as Node)
        .filter(|x| {
            let x = *x as usize;
            sim.topo.tier[x] >= 2
                && sim.topo.customers[x]
                    .iter()
                    .any(|(c, _)| sim.topo.tier[*c as usize] == 4)
                && sim.owned[x]
                    .iter()
                    .any(|p| sim.prefixes[*p].prefix.prefix_len() <= 23)
        })
        .collect();
    for _ in 0..ch.delegations {
        if delegators.is_empty() {
            break;
        }
        let v = delegators[rng.index(delegators.len())];
        let custs: Vec<Node> = sim.topo.customers[v as usize]
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| sim.topo.tier[*c as usize] == 4)
            .collect();
        let c = custs[rng.index(custs.len())];
        let covers: Vec<usize> = sim.owned[v as usize]
            .iter()
            .copied()
            .filter(|p| sim.prefixes[*p].prefix.prefix_len() <= 23)
            .collect();
        let cover = covers[rng.index(covers.len())];
        let cover_prefix = sim.prefixes[cover].prefix;
        let Some(sub) = prefixes::more_specific(&cover_prefix, rng.next_u64()) else {
            continue;
        };
        if sim.index.contains_key(&sub) {
            continue;
        }
        let p = sim.add_prefix(sub, None, Vec::new());
        let id = sim.next_id();
        let t = some_time(sim, rng);
        sim.at(t, ActionKind::Add(p, Ann::Only { at: c, to: v }));
        sim.legit.push(LegitChange {
            id,
            kind: LegitKind::Delegation,
            prefix: sub.to_string(),
            covering: Some(cover_prefix.to_string()),
            new_origin: sim.topo.asn(c),
            old_origins: vec![sim.topo.asn(v)],
            relation: Some("customer".into()),
            start: t,
            end: sim.end,
        });
    }
    // DDoS-mitigation diversions.
    let mut scrubbers: Vec<Node> = ch
        .scrubbers
        .iter()
        .filter_map(|a| sim.topo.node(*a))
        .collect();
    if scrubbers.is_empty() && ch.ddos_diversions > 0 {
        let best = (0..n as Node)
            .filter(|x| sim.topo.tier[*x as usize] == 2)
            .max_by_key(|x| (sim.topo.degree(*x), std::cmp::Reverse(*x)));
        scrubbers.extend(best);
    }
    let victims: Vec<Node> = (0..n as Node)
        .filter(|x| sim.topo.tier[*x as usize] >= 3 && !sim.owned[*x as usize].is_empty())
        .filter(|x| !scrubbers.contains(x))
        .collect();
    for _ in 0..ch.ddos_diversions {
        if victims.is_empty() || scrubbers.is_empty() {
            break;
        }
        let v = victims[rng.index(victims.len())];
        let s = scrubbers[rng.index(scrubbers.len())];
        let own = &sim.owned[v as usize];
        let p = own[rng.index(own.len())];
        let id = sim.next_id();
        let t = some_time(sim, rng);
        let end = (t + rng.range(1200, 7200) as i64).min(sim.end);
        let victim_ann = Ann::Originate {
            at: v,
            claimed: vec![],
            filter: None,
        };
        sim.at(t, ActionKind::Add(p, legit_ann(s, id)));
        sim.at(t, ActionKind::Remove(p, victim_ann.clone()));
        if end < sim.end {
            sim.at(end, ActionKind::Add(p, victim_ann));
            sim.at(end, ActionKind::Remove(p, legit_ann(s, id)));
        }
        sim.legit.push(LegitChange {
            id,
            kind: LegitKind::DdosMitigation,
            prefix: sim.prefixes[p].prefix.to_string(),
            covering: None,
            new_origin: sim.topo.asn(s),
            old_origins: vec![sim.topo.asn(v)],
            relation: rel_name(sim.topo.rel(v, s)),
            start: t,
            end,
        });
    }
    Ok(())
}

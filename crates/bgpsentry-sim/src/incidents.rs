//! Injected incidents: exact-prefix hijacks, more-specific hijacks,
//! forged-origin (type-1) hijacks and RFC 7908 type 1–4 route leaks, each
//! with a start, an end and the share of ASes that accept the bad route.
//! Participants not named in the scenario are drawn from the seed; victims,
//! hijackers and leakers are never reused across incidents so that each
//! incident is attributable on its own.

use std::collections::{BTreeSet, HashMap};

use crate::engine::{ActionKind, Sim};
use crate::error::SimError;
use crate::prefixes;
use crate::rng::Rng;
use crate::routing::{Ann, Filter, class};
use crate::scenario::{Dur, IncidentKind, IncidentSpec};
use crate::topology::{Node, Rel};
use crate::truth::Incident;

/// The neighbour classes of a leak type: (learned from, exported to).
pub fn leak_rels(leak_type: u8) -> Option<(Rel, Rel)> {
    match leak_type {
        1 => Some((Rel::Provider, Rel::Provider)),
        2 => Some((Rel::Peer, Rel::Peer)),
        3 => Some((Rel::Provider, Rel::Peer)),
        4 => Some((Rel::Peer, Rel::Provider)),
        _ => None,
    }
}

fn random_specs(sim: &Sim, rng: &mut Rng) -> Vec<IncidentSpec> {
    let r = sim.scenario.random_incidents.clone();
    let mut kinds: Vec<(IncidentKind, u8, bool)> = Vec::new();
    for _ in 0..r.exact_hijack {
        kinds.push((IncidentKind::ExactHijack, 1, false));
    }
    for _ in 0..r.more_specific_hijack {
        kinds.push((IncidentKind::MoreSpecificHijack, 1, false));
    }
    for i in 0..r.forged_origin {
        kinds.push((IncidentKind::ForgedOrigin, 1, i % 2 == 1));
    }
    for (t, n) in [
        (1, r.leak_type1),
        (2, r.leak_type2),
        (3, r.leak_type3),
        (4, r.leak_type4),
    ] {
        for _ in 0..n {
            kinds.push((IncidentKind::RouteLeak, t, false));
        }
    }
    let span = (sim.end - sim.start).max(1) as u64;
    kinds
        .into_iter()
        .map(|(kind, leak_type, more_specific)| {
            let dur = rng
                .range(r.duration_min.0, r.duration_max.0)
                .min(span / 2)
                .max(1);
            let latest = span.saturating_sub(dur + span / 20).max(1);
            let earliest = (span / 20).min(latest - 1);
            let start = rng.range(earliest, latest);
            let share = r.share_min + (r.share_max - r.share_min) * rng.unit();
            let prefixes = if kind == IncidentKind::RouteLeak {
                r.leak_prefixes
            } else {
                rng.range(1, r.max_prefixes.max(1) as u64) as usize
            };
            IncidentSpec {
                kind,
                start: Dur(start),
                duration: Dur(dur),
                share: (share * 100.0).round() / 100.0,
                prefixes,
                hijacker: None,
                victim: None,
                leaker: None,
                leak_type,
                more_specific,
            }
        })
        .collect()
}

/// Schedules every incident of the scenario.
pub fn plan(sim: &mut Sim, rng: &mut Rng) -> Result<(), SimError> {
    let mut specs = sim.scenario.incidents.clone();
    specs.extend(random_specs(sim, rng));
    let mut used: BTreeSet<Node> = BTreeSet::new();
    for (i, spec) in specs.iter().enumerate() {
        let r = match spec.kind {
            IncidentKind::RouteLeak => leak(sim, spec, rng, &mut used),
            _ => hijack(sim, spec, rng, &mut used),
        };
        r.map_err(|e| SimError::Scenario(format!("incident {i} ({}): {e}", spec.kind.name())))?;
    }
    Ok(())
}

fn node_of(sim: &Sim, asn: Option<u32>, what: &str) -> Result<Option<Node>, String> {
    match asn {
        None => Ok(None),
        Some(a) => sim
            .topo
            .node(a)
            .map(Some)
            .ok_or_else(|| format!("{what} AS{a} is not in the topology")),
    }
}

fn pick(rng: &mut Rng, cands: &[Node]) -> Option<Node> {
    (!cands.is_empty()).then(|| cands[rng.index(cands.len())])
}

fn eligible_prefix(sim: &Sim, p: usize, more_specific: bool) -> bool {
    !more_specific || prefixes::more_specific(&sim.prefixes[p].prefix, 0).is_some()
}

fn hijack(
    sim: &mut Sim,
    spec: &IncidentSpec,
    rng: &mut Rng,
    used: &mut BTreeSet<Node>,
) -> Result<(), String> {
    let n = sim.topo.len() as Node;
    let sub = spec.kind == IncidentKind::MoreSpecificHijack
        || (spec.kind == IncidentKind::ForgedOrigin && spec.more_specific);
    let victim = match node_of(sim, spec.victim, "victim")? {
        Some(v) => v,
        None => {
            let cands: Vec<Node> = (0..n)
                .filter(|x| sim.topo.tier[*x as usize] >= 2 && !used.contains(x))
                .filter(|x| {
                    sim.owned[*x as usize]
                        .iter()
                        .any(|p| eligible_prefix(sim, *p, sub))
                })
                .collect();
            pick(rng, &cands).ok_or("no AS can be a victim")?
        }
    };
    let hijacker = match node_of(sim, spec.hijacker, "hijacker")? {
        Some(h) => h,
        None => {
            let cands: Vec<Node> = (0..n)
                .filter(|x| *x != victim && sim.topo.tier[*x as usize] >= 2 && !used.contains(x))
                .filter(|x| sim.topo.rel(*x, victim).is_none())
                .collect();
            pick(rng, &cands).ok_or("no AS can be a hijacker")?
        }
    };
    if hijacker == victim {
        return Err("hijacker and victim are the same AS".into());
    }
    used.insert(victim);
    used.insert(hijacker);
    let mut own: Vec<usize> = sim.owned[victim as usize]
        .iter()
        .copied()
        .filter(|p| eligible_prefix(sim, *p, sub))
        .collect();
    if own.is_empty() {
        return Err(format!(
            "AS{} has no prefix to hijack",
            sim.topo.asn(victim)
        ));
    }
    rng.shuffle(&mut own);
    own.truncate(spec.prefixes.max(1));
    own.sort_unstable();
    let id = sim.next_id();
    let permille = (spec.share * 1000.0).round() as u16;
    let claimed = if spec.kind == IncidentKind::ForgedOrigin {
        vec![sim.topo.asn(victim)]
    } else {
        vec![]
    };
    let ann = Ann::Originate {
        at: hijacker,
        claimed: claimed.clone(),
        filter: Some(Filter { id, permille }),
    };
    let start = sim.start + spec.start.secs();
    let end = (start + spec.duration.secs()).min(sim.end);
    let mut announced = Vec::new();
    let mut covering = Vec::new();
    for p in own {
        let cover = sim.prefixes[p].prefix;
        let target = if sub {
            let mut found = None;
            for k in 0..8 {
                if let Some(s) = prefixes::more_specific(&cover, rng.next_u64().wrapping_add(k))
                    && !sim.index.contains_key(&s)
                {
                    found = Some(s);
                    break;
                }
            }
            let Some(s) = found else { continue };
            sim.add_prefix(s, None, Vec::new())
        } else {
            p
        };
        sim.at(start, ActionKind::Add(target, ann.clone()));
        if end < sim.end {
            sim.at(end, ActionKind::Remove(target, ann.clone()));
        }
        announced.push(sim.prefixes[target].prefix.to_string());
        covering.push(cover.to_string());
    }
    if announced.is_empty() {
        return Err("no free more-specific prefix".into());
    }
    let hj = sim.topo.asn(hijacker);
    sim.incidents.push(Incident {
        id,
        kind: spec.kind,
        leak_type: None,
        prefixes: announced,
        victim_prefixes: covering,
        hijacker: Some(hj),
        victims: vec![sim.topo.asn(victim)],
        leaker: None,
        leak_segments: Vec::new(),
        announced_path: (!claimed.is_empty()).then(|| [vec![hj], claimed].concat()),
        start,
        end,
        share: spec.share,
        seen_by_peers: 0,
        peer_share: 0.0,
        first_seen: None,
        last_seen: None,
        announcements: 0,
    });
    Ok(())
}

fn leak(
    sim: &mut Sim,
    spec: &IncidentSpec,
    rng: &mut Rng,
    used: &mut BTreeSet<Node>,
) -> Result<(), String> {
    let (from, to) = leak_rels(spec.leak_type).ok_or("leak_type must be 1..4")?;
    let n = sim.topo.len() as Node;
    let has = |sim: &Sim, x: Node| {
        let f = sim.topo.neighbours(x, from).len();
        let t = sim.topo.neighbours(x, to).len();
        if from == to { f >= 2 } else { f >= 1 && t >= 1 }
    };
    let cands: Vec<Node> = match node_of(sim, spec.leaker, "leaker")? {
        Some(l) => vec![l],
        None => {
            let mut cands: Vec<Node> = (0..n)
                .filter(|x| sim.topo.tier[*x as usize] >= 2 && !used.contains(x) && has(sim, *x))
                .collect();
            if cands.is_empty() {
                cands = (0..n)
                    .filter(|x| !used.contains(x) && has(sim, *x))
                    .collect();
            }
            rng.shuffle(&mut cands);
            cands
        }
    };
    // Prefer a leaker whose leak some collector peer would see.
    let mut last_err = String::from("no AS has the neighbours this leak type needs");
    for (k, leaker) in cands.iter().take(12).enumerate() {
        let fallback = k + 1 == cands.len().min(12);
        match leak_by(sim, spec, rng, *leaker, from, to, fallback) {
            Ok(true) => {
                used.insert(*leaker);
                return Ok(());
            }
            Ok(false) => {}
            Err(e) => last_err = e,
        }
    }
    Err(last_err)
}

/// Schedules a leak by `leaker`; returns Ok(false) without scheduling when
/// no collector peer would see it (unless `force`).
#[allow(clippy::too_many_arguments)]
fn leak_by(
    sim: &mut Sim,
    spec: &IncidentSpec,
    rng: &mut Rng,
    leaker: Node,
    from: Rel,
    to: Rel,
    force: bool,
) -> Result<bool, String> {
    let want = if from == Rel::Provider {
        class::PROVIDER
    } else {
        class::PEER
    };
    let mut order: Vec<usize> = (0..sim.prefixes.len())
        .filter(|p| sim.prefixes[*p].owner.is_some())
        .collect();
    rng.shuffle(&mut order);
    let limit = if spec.prefixes == 0 {
        usize::MAX
    } else {
        spec.prefixes
    };
    let la = sim.topo.asn(leaker);
    let targets: Vec<Node> = sim
        .topo
        .neighbours(leaker, to)
        .iter()
        .map(|(t, _)| *t)
        .collect();
    let mut cache: HashMap<Vec<Ann>, Option<Vec<u32>>> = HashMap::new();
    let mut chosen = Vec::new();
    let mut segments = BTreeSet::new();
    let mut origins = BTreeSet::new();
    for (tries, p) in order.into_iter().enumerate() {
        if chosen.len() >= limit || (tries >= 400 && spec.prefixes != 0) {
            break;
        }
        let anns = sim.prefixes[p].anns.clone();
        let path = cache
            .entry(anns.clone())
            .or_insert_with(|| {
                let r = sim.routing(&anns);
                (r.route(leaker).class == want)
                    .then(|| r.path(&sim.topo, leaker))
                    .flatten()
            })
            .clone();
        let Some(path) = path else { continue };
        let Some(&learned_from) = path.get(1) else {
            continue;
        };
        let tos: Vec<u32> = targets
            .iter()
            .map(|t| sim.topo.asn(*t))
            .filter(|a| !path.contains(a))
            .collect();
        if tos.is_empty() {
            continue;
        }
        for t in tos {
            segments.insert([learned_from, la, t]);
        }
        if let Some(o) = path.last() {
            origins.insert(*o);
        }
        chosen.push(p);
    }
    if chosen.is_empty() {
        return Err(format!(
            "AS{la} has no route it could leak as type {}",
            spec.leak_type
        ));
    }
    chosen.sort_unstable();
    let permille = (spec.share * 1000.0).round() as u16;
    let probe = Ann::Leak {
        leaker,
        from,
        to,
        filter: Some(Filter {
            id: u32::MAX,
            permille,
        }),
    };
    let visible = chosen.iter().take(5).any(|p| {
        let mut anns = sim.prefixes[*p].anns.clone();
        anns.push(probe.clone());
        let r = sim.routing(&anns);
        sim.peers.iter().any(|cp| {
            let route = r.route(cp.node);
            r.ann_of(cp.node) == Some(anns.len() - 1)
                && (cp.full_feed || route.class <= class::CUSTOMER)
        })
    });
    if !visible && !force {
        return Ok(false);
    }
    let id = sim.next_id();
    let ann = Ann::Leak {
        leaker,
        from,
        to,
        filter: Some(Filter { id, permille }),
    };
    let start = sim.start + spec.start.secs();
    let end = (start + spec.duration.secs()).min(sim.end);
    for p in &chosen {
        sim.at(start, ActionKind::Add(*p, ann.clone()));
        if end < sim.end {
            sim.at(end, ActionKind::Remove(*p, ann.clone()));
        }
    }
    sim.incidents.push(Incident {
        id,
        kind: IncidentKind::RouteLeak,
        leak_type: Some(spec.leak_type),
        prefixes: chosen
            .iter()
            .map(|p| sim.prefixes[*p].prefix.to_string())
            .collect(),
        victim_prefixes: Vec::new(),
        hijacker: None,
        victims: origins.into_iter().take(100).collect(),
        leaker: Some(la),
        leak_segments: segments.into_iter().take(100).collect(),
        announced_path: None,
        start,
        end,
        share: spec.share,
        seen_by_peers: 0,
        peer_share: 0.0,
        first_seen: None,
        last_seen: None,
        announcements: 0,
    });
    Ok(true)
}

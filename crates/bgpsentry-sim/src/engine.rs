//! The simulation: a world (topology, prefix table, collector peers), a
//! timeline of actions (announcements added and removed, links failing and
//! coming back), and the run that turns it into what collector peers say.
//!
//! Routing is computed per *configuration* — the set of announcements of a
//! prefix — and shared by all prefixes with the same configuration (every
//! prefix of one AS, normally). A link failure recomputes only the
//! configurations whose routes used the link; its restoration, those
//! computed while it was down. Each change of a collector peer's best route
//! becomes an update after a small, deterministic propagation delay.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnet::IpNet;

use crate::error::SimError;
use crate::mrt_writer::MrtPeer;
use crate::prefixes::{self, Allocator};
use crate::rng::{Rng, hash};
use crate::routing::{Ann, Ctx, Filter, Routing, class};
use crate::scenario::Scenario;
use crate::topology::{Node, Topology};
use crate::truth::{Anycast, Counts, Incident, LegitChange};

/// A prefix and its current announcements.
#[derive(Clone, Debug)]
pub struct PrefixEntry {
    /// The prefix.
    pub prefix: IpNet,
    /// Its legitimate owner (None for anycast and incident-only prefixes).
    pub owner: Option<Node>,
    /// Announcements at the start.
    pub anns: Vec<Ann>,
}

/// A collector peer.
#[derive(Clone, Debug)]
pub struct CollectorPeer {
    /// Its AS.
    pub node: Node,
    /// Index of its collector.
    pub collector: usize,
    /// Its MRT identity.
    pub mrt: MrtPeer,
    /// Full table, or customer routes only.
    pub full_feed: bool,
}

/// Something that happens at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionKind {
    /// An announcement of a prefix starts.
    Add(usize, Ann),
    /// An announcement of a prefix ends.
    Remove(usize, Ann),
    /// A link fails.
    LinkDown(u32),
    /// A link comes back.
    LinkUp(u32),
}

/// An action at a time (Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    /// When.
    pub t: i64,
    /// What.
    pub kind: ActionKind,
}

/// A collector peer's view of a prefix: the AS path it exports, and the
/// incident or legitimate change the route derives from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    /// AS path, peer first.
    pub path: Arc<Vec<u32>>,
    /// Id of the incident (or legitimate change) behind the route.
    pub tag: Option<u32>,
}

/// Every collector peer's view of one prefix.
pub type Views = Vec<Option<View>>;

/// One change at one collector peer.
#[derive(Clone, Debug)]
pub struct UpdateRec {
    /// Receive time at the collector, microseconds.
    pub ts: i64,
    /// Peer index.
    pub peer: u32,
    /// Prefix index.
    pub prefix: u32,
    /// New route, or None for a withdrawal.
    pub view: Option<View>,
}

/// The world before the run.
pub struct Sim {
    /// The scenario.
    pub scenario: Scenario,
    /// The AS graph.
    pub topo: Topology,
    /// Start, Unix seconds.
    pub start: i64,
    /// End, Unix seconds.
    pub end: i64,
    /// The prefix table (grows with incident and delegation prefixes).
    pub prefixes: Vec<PrefixEntry>,
    /// Prefix → index.
    pub index: HashMap<IpNet, usize>,
    /// Prefixes owned by each node.
    pub owned: Vec<Vec<usize>>,
    /// Collector peers.
    pub peers: Vec<CollectorPeer>,
    /// Collector names.
    pub collectors: Vec<String>,
    /// The timeline (stable-sorted by time before the run).
    pub actions: Vec<Action>,
    /// Injected incidents.
    pub incidents: Vec<Incident>,
    /// Legitimate origin changes.
    pub legit: Vec<LegitChange>,
    /// Anycast prefixes.
    pub anycast: Vec<Anycast>,
    /// Counts so far.
    pub counts: Counts,
    /// IPv4/IPv6 allocator for extra prefixes.
    pub alloc: Allocator,
    next_id: u32,
}

impl Sim {
    /// Builds the world: topology, prefixes, collector peers, anycast, churn
    /// and incidents.
    pub fn build(scenario: &Scenario) -> Result<Sim, SimError> {
        scenario.validate()?;
        let seed = scenario.seed;
        let start = scenario.start_secs()?;
        let end = start + scenario.duration.secs();
        let topo = match &scenario.topology.file {
            Some(f) => {
                let path = match &scenario.base_dir {
                    Some(d) => d.join(f),
                    None => f.into(),
                };
                let text = std::fs::read_to_string(&path).map_err(|e| SimError::io(&path, e))?;
                Topology::from_caida(&text)?.0
            }
            None => Topology::generate(&scenario.topology, &mut Rng::derive(seed, "topology"))?,
        };
        let mut alloc = Allocator::default();
        let owned_list = prefixes::plan(
            &topo,
            scenario.v6_share,
            &mut alloc,
            &mut Rng::derive(seed, "prefixes"),
        )?;
        let mut sim = Sim {
            scenario: scenario.clone(),
            start,
            end,
            prefixes: Vec::new(),
            index: HashMap::new(),
            owned: vec![Vec::new(); topo.len()],
            peers: Vec::new(),
            collectors: Vec::new(),
            actions: Vec::new(),
            incidents: Vec::new(),
            legit: Vec::new(),
            anycast: Vec::new(),
            counts: Counts::default(),
            alloc,
            next_id: 1,
            topo,
        };
        for o in owned_list {
            let anns = vec![Ann::Originate {
                at: o.owner,
                claimed: vec![],
                filter: None,
            }];
            sim.add_prefix(o.prefix, Some(o.owner), anns);
        }
        sim.choose_peers(&mut Rng::derive(seed, "collectors"));
        crate::churn::plan(&mut sim, &mut Rng::derive(seed, "churn"))?;
        crate::incidents::plan(&mut sim, &mut Rng::derive(seed, "incidents"))?;
        sim.counts.ases = sim.topo.len();
        sim.counts.links = sim.topo.edges.len();
        sim.counts.peers = sim.peers.len();
        Ok(sim)
    }

    /// Adds a prefix to the table (or returns the existing index).
    pub fn add_prefix(&mut self, prefix: IpNet, owner: Option<Node>, anns: Vec<Ann>) -> usize {
        if let Some(i) = self.index.get(&prefix) {
            return *i;
        }
        let i = self.prefixes.len();
        self.prefixes.push(PrefixEntry {
            prefix,
            owner,
            anns,
        });
        self.index.insert(prefix, i);
        if let Some(o) = owner {
            self.owned[o as usize].push(i);
        }
        i
    }

    /// A fresh id for an incident or legitimate change.
    pub fn next_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Schedules an action.
    pub fn at(&mut self, t: i64, kind: ActionKind) {
        self.actions.push(Action { t, kind });
    }

    /// The routing of a set of announcements with every link up.
    pub fn routing(&self, anns: &[Ann]) -> Routing {
        let down = vec![false; self.topo.edges.len()];
        Ctx {
            topo: &self.topo,
            down: &down,
            seed: self.scenario.seed,
        }
        .compute(anns)
    }

    fn choose_peers(&mut self, rng: &mut Rng) {
        let c = &self.scenario.collectors;
        let ncol = c.count;
        self.collectors = (0..ncol).map(|i| format!("sim{i:02}")).collect();
        let mut chosen: Vec<Node> = Vec::new();
        for a in &c.peer_asns {
            if let Some(n) = self.topo.node(*a)
                && !chosen.contains(&n)
            {
                chosen.push(n);
            }
        }
        let want = c.peers.min(self.topo.len());
        let mut w: Vec<u64> = (0..self.topo.len() as Node)
            .map(|n| {
                if chosen.contains(&n) {
                    0
                } else {
                    self.topo.degree(n) as u64 + 3
                }
            })
            .collect();
        while chosen.len() < want {
            let Some(i) = rng.weighted(&w) else { break };
            w[i] = 0;
            chosen.push(i as Node);
        }
        let full_share = c.full_feed_share;
        for (k, node) in chosen.into_iter().enumerate() {
            let collector = k % ncol;
            let j = k / ncol;
            let ip = Ipv4Addr::new(
                185,
                1 + (j / 250) as u8,
                collector as u8,
                (j % 250 + 1) as u8,
            );
            let ip6 = Ipv6Addr::new(
                0x2001,
                0x7f8,
                collector as u16,
                0,
                0,
                0,
                (j >> 16) as u16,
                j as u16 + 1,
            );
            let full_feed = rng.chance(full_share);
            self.peers.push(CollectorPeer {
                node,
                collector,
                mrt: MrtPeer {
                    asn: self.topo.asn(node),
                    ip,
                    ip6,
                },
                full_feed,
            });
        }
    }

    /// Runs the timeline.
    pub fn run(mut self) -> Result<Run, SimError> {
        let mut actions = std::mem::take(&mut self.actions);
        actions.retain(|a| a.t >= self.start && a.t < self.end);
        actions.sort_by_key(|a| a.t);
        let mut st = State::new(&self);
        let mut anns: Vec<Vec<Ann>> = self.prefixes.iter().map(|p| p.anns.clone()).collect();
        let mut cfg_of: Vec<usize> = Vec::with_capacity(anns.len());
        for a in &anns {
            let c = st.config(&self, a);
            cfg_of.push(c);
        }
        for (p, c) in cfg_of.iter().enumerate() {
            st.configs[*c].members.insert(p);
        }
        let rib: Vec<Vec<Option<View>>> = cfg_of
            .iter()
            .map(|c| st.configs[*c].views.clone())
            .collect();
        self.counts.prefixes = rib.iter().filter(|v| v.iter().any(Option::is_some)).count();
        self.counts.rib_entries = rib
            .iter()
            .map(|v| v.iter().filter(|x| x.is_some()).count() as u64)
            .sum();
        let mut updates = Vec::new();
        let mut last_emit: HashMap<(u32, u32), i64> = HashMap::new();
        let mut i = 0;
        while i < actions.len() {
            let t = actions[i].t;
            let mut dirty_prefixes = BTreeSet::new();
            let mut dirty_cfgs = BTreeSet::new();
            while i < actions.len() && actions[i].t == t {
                match &actions[i].kind {
                    ActionKind::Add(p, a) => {
                        if let Some(list) = anns.get_mut(*p) {
                            if !list.contains(a) {
                                list.push(a.clone());
                                list.sort();
                            }
                            dirty_prefixes.insert(*p);
                        }
                    }
                    ActionKind::Remove(p, a) => {
                        if let Some(list) = anns.get_mut(*p) {
                            list.retain(|x| x != a);
                            dirty_prefixes.insert(*p);
                        }
                    }
                    ActionKind::LinkDown(e) => {
                        if let Some(d) = st.down.get_mut(*e as usize) {
                            *d = true;
                        }
                        for (ci, c) in st.configs.iter_mut().enumerate() {
                            if c.edges.binary_search(e).is_ok() {
                                if c.members.is_empty() {
                                    c.fresh = false;
                                } else {
                                    dirty_cfgs.insert(ci);
                                }
                            }
                        }
                    }
                    ActionKind::LinkUp(e) => {
                        if let Some(d) = st.down.get_mut(*e as usize) {
                            *d = false;
                        }
                        for (ci, c) in st.configs.iter_mut().enumerate() {
                            if c.down.contains(e) {
                                if c.members.is_empty() {
                                    c.fresh = false;
                                } else {
                                    dirty_cfgs.insert(ci);
                                }
                            }
                        }
                    }
                }
                i += 1;
            }
            let mut changes: Vec<(usize, Views, Views)> = Vec::new();
            // Old views of prefixes whose announcements changed.
            let old_pv: BTreeMap<usize, Vec<Option<View>>> = dirty_prefixes
                .iter()
                .map(|p| (*p, st.configs[cfg_of[*p]].views.clone()))
                .collect();
            for ci in &dirty_cfgs {
                let old = st.configs[*ci].views.clone();
                st.recompute(&self, *ci);
                let new = st.configs[*ci].views.clone();
                if old != new {
                    for p in st.configs[*ci].members.iter() {
                        if !dirty_prefixes.contains(p) {
                            changes.push((*p, old.clone(), new.clone()));
                        }
                    }
                }
            }
            for (p, old) in old_pv {
                let oc = cfg_of[p];
                st.configs[oc].members.remove(&p);
                let nc = st.config(&self, &anns[p]);
                st.configs[nc].members.insert(p);
                cfg_of[p] = nc;
                changes.push((p, old, st.configs[nc].views.clone()));
            }
            changes.sort_by_key(|c| c.0);
            for (p, old, new) in changes {
                for (k, (o, n)) in old.iter().zip(new.iter()).enumerate() {
                    let same = match (o, n) {
                        (Some(a), Some(b)) => a.path == b.path,
                        (None, None) => true,
                        _ => false,
                    };
                    if same {
                        continue;
                    }
                    let h = hash(&[self.scenario.seed, k as u64, t as u64]);
                    let hops = n.as_ref().map_or(3, |v| v.path.len()) as i64;
                    let delay = 1_000_000
                        + (h % 20_000_000) as i64
                        + hops * 400_000
                        + ((h >> 32) % 1000) as i64;
                    let key = (k as u32, p as u32);
                    let mut ts = t * 1_000_000 + delay;
                    if let Some(last) = last_emit.get(&key) {
                        ts = ts.max(last + 1);
                    }
                    last_emit.insert(key, ts);
                    updates.push(UpdateRec {
                        ts,
                        peer: k as u32,
                        prefix: p as u32,
                        view: n.clone(),
                    });
                }
            }
        }
        updates.sort_by_key(|a| (a.ts, a.peer, a.prefix));
        updates.retain(|u| u.ts < self.end * 1_000_000);
        // What the collectors saw of each incident.
        let pos: HashMap<u32, usize> = self
            .incidents
            .iter()
            .enumerate()
            .map(|(i, x)| (x.id, i))
            .collect();
        let mut seen: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); self.incidents.len()];
        for u in &updates {
            if let Some(i) = u
                .view
                .as_ref()
                .and_then(|v| v.tag)
                .and_then(|t| pos.get(&t))
            {
                let inc = &mut self.incidents[*i];
                let s = u.ts.div_euclid(1_000_000);
                inc.announcements += 1;
                inc.first_seen = Some(inc.first_seen.map_or(s, |f| f.min(s)));
                inc.last_seen = Some(inc.last_seen.map_or(s, |f| f.max(s)));
                seen[*i].insert(u.peer);
            }
        }
        let total = self.peers.len().max(1);
        for (inc, s) in self.incidents.iter_mut().zip(seen) {
            inc.seen_by_peers = s.len();
            inc.peer_share = (s.len() as f64 / total as f64 * 1000.0).round() / 1000.0;
        }
        Ok(Run {
            sim: self,
            rib,
            updates,
        })
    }
}

/// The result of a run.
pub struct Run {
    /// The world (with truth observations filled in).
    pub sim: Sim,
    /// Each prefix's view per peer at the start.
    pub rib: Vec<Vec<Option<View>>>,
    /// Every change, in time order.
    pub updates: Vec<UpdateRec>,
}

struct Config {
    anns: Vec<Ann>,
    views: Vec<Option<View>>,
    edges: Vec<u32>,
    down: Vec<u32>,
    members: BTreeSet<usize>,
    fresh: bool,
}

struct State {
    down: Vec<bool>,
    configs: Vec<Config>,
    by_anns: HashMap<Vec<Ann>, usize>,
}

impl State {
    fn new(sim: &Sim) -> Self {
        State {
            down: vec![false; sim.topo.edges.len()],
            configs: Vec::new(),
            by_anns: HashMap::new(),
        }
    }

    fn config(&mut self, sim: &Sim, anns: &[Ann]) -> usize {
        if let Some(c) = self.by_anns.get(anns) {
            let c = *c;
            if !self.configs[c].fresh {
                self.recompute(sim, c);
            }
            return c;
        }
        let c = self.configs.len();
        self.configs.push(Config {
            anns: anns.to_vec(),
            views: Vec::new(),
            edges: Vec::new(),
            down: Vec::new(),
            members: BTreeSet::new(),
            fresh: false,
        });
        self.by_anns.insert(anns.to_vec(), c);
        self.recompute(sim, c);
        c
    }

    fn recompute(&mut self, sim: &Sim, c: usize) {
        let ctx = Ctx {
            topo: &sim.topo,
            down: &self.down,
            seed: sim.scenario.seed,
        };
        let anns = &self.configs[c].anns;
        let r = ctx.compute(anns);
        let views = sim
            .peers
            .iter()
            .map(|p| {
                let route = r.route(p.node);
                if route.class == class::NONE || !(p.full_feed || route.class <= class::CUSTOMER) {
                    return None;
                }
                let path = r.path(&sim.topo, p.node)?;
                let tag = r
                    .ann_of(p.node)
                    .and_then(|i| anns.get(i))
                    .and_then(Ann::filter)
                    .map(|f: Filter| f.id);
                Some(View {
                    path: Arc::new(path),
                    tag,
                })
            })
            .collect();
        let down: Vec<u32> = self
            .down
            .iter()
            .enumerate()
            .filter(|(_, d)| **d)
            .map(|(e, _)| e as u32)
            .collect();
        let cfg = &mut self.configs[c];
        cfg.views = views;
        cfg.edges = r.used_edges();
        cfg.down = down;
        cfg.fresh = true;
    }
}

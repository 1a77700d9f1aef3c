//! Writing a run to a directory:
//!
//! ```text
//! DIR/mrt/<collector>/bview.YYYYMMDD.HHMM     TABLE_DUMP_V2 RIB at the start
//! DIR/mrt/<collector>/updates.YYYYMMDD.HHMM   BGP4MP_ET updates, one file per split
//! DIR/as-rel.txt                              CAIDA serial-1 relationships
//! DIR/rpki.json                               ROAs (rpki-client / Cloudflare layout)
//! DIR/sim.db                                  IRR route objects (RPSL, source SIM)
//! DIR/truth.json                              ground truth
//! DIR/scenario.toml                           the scenario as run
//! ```
//!
//! `DIR/mrt` is what to replay: file names sort RIB before updates.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ipnet::IpNet;

use crate::engine::{Run, Sim, UpdateRec};
use crate::error::SimError;
use crate::mrt_writer::{MAX_PREFIXES_PER_UPDATE, RibEntry, write_rib, write_update};
use crate::scenario::Scenario;
use crate::truth::{CollectorTruth, Files, PeerTruth, Truth};

/// What [`generate_to_dir`] wrote.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The output directory.
    pub dir: PathBuf,
    /// The directory to replay (RIB and updates of every collector).
    pub mrt_dir: PathBuf,
    /// The relationship file.
    pub relationships: PathBuf,
    /// The ROAs.
    pub rpki: PathBuf,
    /// The IRR dump.
    pub irr: PathBuf,
    /// `truth.json`.
    pub truth_path: PathBuf,
    /// The truth.
    pub truth: Truth,
}

/// Builds and runs a scenario in memory.
pub fn simulate(scenario: &Scenario) -> Result<Run, SimError> {
    Sim::build(scenario)?.run()
}

fn stamp(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.format("%Y%m%d.%H%M").to_string())
        .unwrap_or_else(|| secs.to_string())
}

fn collector_ip(c: usize) -> Ipv4Addr {
    Ipv4Addr::new(193, 0, 4, (c % 200) as u8 + 28)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), SimError> {
    std::fs::write(path, bytes).map_err(|e| SimError::io(path, e))
}

/// Encodes one collector's updates: records of one peer at one instant are
/// grouped into UPDATEs by path (withdrawals first).
fn encode_updates(
    run: &Run,
    recs: &[&UpdateRec],
    local: &[u16],
    peers: &[crate::mrt_writer::MrtPeer],
    lip: Ipv4Addr,
    out: &mut Vec<u8>,
    counts: &mut (u64, u64, u64),
) -> Result<(), SimError> {
    let mut i = 0;
    while i < recs.len() {
        let (ts, peer) = (recs[i].ts, recs[i].peer);
        let mut j = i;
        let mut withdrawn: Vec<IpNet> = Vec::new();
        let mut by_path: BTreeMap<Arc<Vec<u32>>, Vec<IpNet>> = BTreeMap::new();
        while j < recs.len() && recs[j].ts == ts && recs[j].peer == peer {
            let prefix = run.sim.prefixes[recs[j].prefix as usize].prefix;
            match &recs[j].view {
                None => withdrawn.push(prefix),
                Some(v) => by_path.entry(v.path.clone()).or_default().push(prefix),
            }
            j += 1;
        }
        let mp = &peers[usize::from(local[peer as usize])];
        for chunk in withdrawn.chunks(MAX_PREFIXES_PER_UPDATE) {
            write_update(out, ts, mp, lip, chunk, &[], &[])?;
            counts.0 += 1;
            counts.2 += chunk.len() as u64;
        }
        for (path, ps) in &by_path {
            for chunk in ps.chunks(MAX_PREFIXES_PER_UPDATE) {
                write_update(out, ts, mp, lip, &[], chunk, path)?;
                counts.0 += 1;
                counts.1 += chunk.len() as u64;
            }
        }
        i = j;
    }
    Ok(())
}

/// Runs a scenario and writes everything to `dir`.
pub fn generate_to_dir(scenario: &Scenario, dir: &Path) -> Result<Generated, SimError> {
    let run = simulate(scenario)?;
    write_run(&run, dir)
}

/// Writes a finished run to `dir`.
pub fn write_run(run: &Run, dir: &Path) -> Result<Generated, SimError> {
    let sim = &run.sim;
    let mrt_dir = dir.join("mrt");
    let truth_path = dir.join("truth.json");
    if mrt_dir.exists() {
        if truth_path.exists() {
            std::fs::remove_dir_all(&mrt_dir).map_err(|e| SimError::io(&mrt_dir, e))?;
        } else {
            return Err(SimError::Scenario(format!(
                "{} exists and is not simulator output; choose another --out",
                mrt_dir.display()
            )));
        }
    }
    let mut files = Files {
        mrt_dir: "mrt".into(),
        relationships: "as-rel.txt".into(),
        rpki: "rpki.json".into(),
        irr: "sim.db".into(),
        ..Default::default()
    };
    let mut counts = sim.counts.clone();
    let mut order: Vec<usize> = (0..sim.prefixes.len()).collect();
    order.sort_by_key(|p| sim.prefixes[*p].prefix);
    // Local (per collector) peer indices.
    let mut local = vec![0u16; sim.peers.len()];
    let mut collectors = Vec::new();
    for (c, name) in sim.collectors.iter().enumerate() {
        let cdir = mrt_dir.join(name);
        std::fs::create_dir_all(&cdir).map_err(|e| SimError::io(&cdir, e))?;
        let mine: Vec<usize> = (0..sim.peers.len())
            .filter(|k| sim.peers[*k].collector == c)
            .collect();
        let mrt_peers: Vec<_> = mine.iter().map(|k| sim.peers[*k].mrt.clone()).collect();
        for (li, k) in mine.iter().enumerate() {
            local[*k] = u16::try_from(li).map_err(|_| SimError::Encode("too many peers".into()))?;
        }
        let lip = collector_ip(c);
        // RIB.
        let mut entries: Vec<RibEntry<'_>> = Vec::new();
        for p in &order {
            let routes: Vec<(u16, &[u32])> = mine
                .iter()
                .filter_map(|k| {
                    run.rib[*p][*k]
                        .as_ref()
                        .map(|v| (local[*k], v.path.as_slice()))
                })
                .collect();
            if !routes.is_empty() {
                entries.push((sim.prefixes[*p].prefix, routes));
            }
        }
        let mut bytes = Vec::new();
        let ts =
            u32::try_from(sim.start).map_err(|_| SimError::Encode("start out of range".into()))?;
        write_rib(&mut bytes, ts, lip, &mrt_peers, &entries)?;
        let rib_name = format!("{name}/bview.{}", stamp(sim.start));
        write(&mrt_dir.join(&rib_name), &bytes)?;
        files.ribs.push(format!("mrt/{rib_name}"));
        // Updates, split into files.
        let split = sim.scenario.split.secs();
        let mut buckets: BTreeMap<i64, Vec<&UpdateRec>> = BTreeMap::new();
        for u in &run.updates {
            if sim.peers[u.peer as usize].collector == c {
                let s = u.ts.div_euclid(1_000_000);
                let b = if split > 0 {
                    sim.start + (s - sim.start).div_euclid(split) * split
                } else {
                    sim.start
                };
                buckets.entry(b).or_default().push(u);
            }
        }
        let mut c3 = (0u64, 0u64, 0u64);
        for (b, recs) in buckets {
            let mut bytes = Vec::new();
            encode_updates(run, &recs, &local, &mrt_peers, lip, &mut bytes, &mut c3)?;
            let fname = format!("{name}/updates.{}", stamp(b));
            write(&mrt_dir.join(&fname), &bytes)?;
            files.updates.push(format!("mrt/{fname}"));
        }
        counts.update_messages += c3.0;
        counts.announcements += c3.1;
        counts.withdrawals += c3.2;
        collectors.push(CollectorTruth {
            name: name.clone(),
            peers: mine
                .iter()
                .map(|k| PeerTruth {
                    asn: sim.peers[*k].mrt.asn,
                    ip: sim.peers[*k].mrt.ip.to_string(),
                    full_feed: sim.peers[*k].full_feed,
                })
                .collect(),
        });
    }
    let rel_path = dir.join("as-rel.txt");
    write(&rel_path, sim.topo.to_caida().as_bytes())?;
    let registries = crate::registries::Registries::build(sim);
    let rpki_path = dir.join("rpki.json");
    write(&rpki_path, &registries.rpki_json()?)?;
    let irr_path = dir.join("sim.db");
    write(&irr_path, registries.rpsl().as_bytes())?;
    let truth = Truth {
        scenario: sim.scenario.name.clone(),
        seed: sim.scenario.seed,
        start: sim.start,
        end: sim.end,
        collectors,
        files,
        counts,
        incidents: sim.incidents.clone(),
        legit_changes: sim.legit.clone(),
        anycast: sim.anycast.clone(),
    };
    let mut json = serde_json::to_vec_pretty(&truth)?;
    json.push(b'\n');
    write(&truth_path, &json)?;
    let scen = toml::to_string(&sim.scenario).map_err(|e| SimError::Encode(e.to_string()))?;
    write(&dir.join("scenario.toml"), scen.as_bytes())?;
    Ok(Generated {
        dir: dir.to_path_buf(),
        mrt_dir,
        relationships: rel_path,
        rpki: rpki_path,
        irr: irr_path,
        truth_path,
        truth,
    })
}

/// Generates the built-in demo scenario (a few hundred ASes, ten minutes,
/// one hijack and one leak) into `dir`.
pub fn demo(dir: &Path) -> Result<Generated, SimError> {
    generate_to_dir(&Scenario::demo(), dir)
}

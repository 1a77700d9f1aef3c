//! RPKI and IRR data for a simulated run, so that the detectors' evidence
//! tags and confidence scores (Radar's `rpki_*` and `irr_*` tags) mean in
//! the benchmark what they mean on the Internet: a share of ASes publish
//! ROAs and route objects for their prefixes; legitimate new origins
//! (multihoming, anycast sites, delegations, DDoS scrubbing) are usually,
//! not always, authorised by the owner; hijackers are never authorised for
//! their victims' prefixes (a forged-origin path ends at the victim, so it
//! validates — as it does in reality).
//!
//! Output: `rpki.json` (the `{"roas": [{prefix, maxLength, asn}]}` layout of
//! rpki-client and Cloudflare's `rpki.json`) and `sim.db` (RPSL `route` /
//! `route6` objects, source `SIM`). Decisions are stateless hashes of the
//! seed and the ASN or change id: same seed, same bytes.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::engine::Sim;
use crate::rng::hash;

/// `[registries]` in a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryParams {
    /// Share of ASes whose prefixes are covered by ROAs.
    pub rpki_share: f64,
    /// Share of ASes with IRR route objects for their prefixes.
    pub irr_share: f64,
    /// Chance that a legitimate new origin of a registered prefix is also
    /// registered (ROA / route object) by the time it appears.
    pub legit_authorised: f64,
    /// Share of ROA-publishing ASes whose ROAs allow more-specifics
    /// (maxLength /24 or /48) instead of the exact prefix length.
    pub loose_max_length: f64,
}

impl Default for RegistryParams {
    fn default() -> Self {
        RegistryParams {
            rpki_share: 0.5,
            irr_share: 0.8,
            legit_authorised: 0.8,
            loose_max_length: 0.1,
        }
    }
}

/// The registries of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registries {
    /// (prefix, maxLength, origin ASN), sorted.
    pub roas: BTreeSet<(IpNet, u8, u32)>,
    /// (prefix, origin ASN), sorted.
    pub routes: BTreeSet<(IpNet, u32)>,
}

fn unit(words: &[u64]) -> f64 {
    (hash(words) >> 11) as f64 / (1u64 << 53) as f64
}

const ROA: u64 = 0x0052_4f41;
const IRR: u64 = 0x0049_5252;
const LOOSE: u64 = 0x4c4f_4f53;
const LEGIT: u64 = 0x4c45_4749;

impl Registries {
    /// Builds the registries of `sim` after its run (it knows every legitimate
    /// change and anycast prefix by then).
    pub fn build(sim: &Sim) -> Registries {
        let p = &sim.scenario.registries;
        let seed = sim.scenario.seed;
        let has_roa = |asn: u32| unit(&[seed, ROA, u64::from(asn)]) < p.rpki_share;
        let has_irr = |asn: u32| unit(&[seed, IRR, u64::from(asn)]) < p.irr_share;
        let max_len = |prefix: &IpNet, asn: u32| {
            if unit(&[seed, LOOSE, u64::from(asn)]) < p.loose_max_length {
                match prefix {
                    IpNet::V4(n) => n.prefix_len().max(24),
                    IpNet::V6(n) => n.prefix_len().max(48),
                }
            } else {
                prefix.prefix_len()
            }
        };
        let mut r = Registries::default();
        let add = |r: &mut Registries, prefix: IpNet, owner: u32, origin: u32| {
            if has_roa(owner) {
                r.roas.insert((prefix, max_len(&prefix, owner), origin));
            }
            if has_irr(owner) {
                r.routes.insert((prefix, origin));
            }
        };
        for e in &sim.prefixes {
            if let Some(owner) = e.owner {
                let Some(&asn) = sim.topo.asns.get(owner as usize) else {
                    continue;
                };
                add(&mut r, e.prefix, asn, asn);
            }
        }
        for a in &sim.anycast {
            let (Ok(prefix), Some(first)) = (a.prefix.parse::<IpNet>(), a.origins.first()) else {
                continue;
            };
            for o in &a.origins {
                add(&mut r, prefix, *first, *o);
            }
        }
        for c in &sim.legit {
            let (Ok(prefix), Some(owner)) = (c.prefix.parse::<IpNet>(), c.old_origins.first())
            else {
                continue;
            };
            if unit(&[seed, LEGIT, u64::from(c.id)]) < p.legit_authorised {
                add(&mut r, prefix, *owner, c.new_origin);
            }
        }
        r
    }

    /// `rpki.json`.
    pub fn rpki_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        let roas: Vec<serde_json::Value> = self
            .roas
            .iter()
            .map(|(p, m, a)| {
                serde_json::json!({ "prefix": p.to_string(), "maxLength": m, "asn": a, "ta": "sim" })
            })
            .collect();
        let mut v = serde_json::to_vec_pretty(&serde_json::json!({ "roas": roas }))?;
        v.push(b'\n');
        Ok(v)
    }

    /// RPSL route objects.
    pub fn rpsl(&self) -> String {
        let mut s = String::from("% bgpsentry-sim route objects\n\n");
        for (p, a) in &self.routes {
            let class = if p.addr().is_ipv4() {
                "route"
            } else {
                "route6"
            };
            let _ = write!(
                s,
                "{class}: {p}\norigin: AS{a}\ndescr: simulated\nmnt-by: MAINT-AS{a}\nsource: SIM\n\n"
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    #[test]
    fn shares_determinism_and_no_authorised_hijacker() {
        let s = Scenario::demo();
        let run = crate::output::simulate(&s).expect("demo runs");
        let r = Registries::build(&run.sim);
        assert_eq!(r, Registries::build(&run.sim), "same run, same registries");
        let owners: BTreeSet<u32> = run
            .sim
            .prefixes
            .iter()
            .filter_map(|e| e.owner)
            .map(|o| run.sim.topo.asns[o as usize])
            .collect();
        let with_roa: BTreeSet<u32> = r.roas.iter().map(|x| x.2).collect();
        let with_irr: BTreeSet<u32> = r.routes.iter().map(|x| x.1).collect();
        let share = |set: &BTreeSet<u32>| {
            owners.iter().filter(|a| set.contains(a)).count() as f64 / owners.len() as f64
        };
        let (roa, irr) = (share(&with_roa), share(&with_irr));
        assert!((0.35..0.65).contains(&roa), "ROA share {roa}");
        assert!((0.65..0.95).contains(&irr), "IRR share {irr}");
        for i in &run.sim.incidents {
            let Some(h) = i.hijacker else { continue };
            for p in i.prefixes.iter().chain(&i.victim_prefixes) {
                let p: IpNet = p.parse().expect("prefix");
                assert!(!r.roas.iter().any(|x| x.0 == p && x.2 == h));
                assert!(!r.routes.contains(&(p, h)));
            }
        }
        let json = r.rpki_json().expect("json");
        let v: serde_json::Value = serde_json::from_slice(&json).expect("parses");
        assert_eq!(v["roas"].as_array().map(Vec::len), Some(r.roas.len()));
        assert_eq!(r.rpsl().matches("\nsource: SIM\n").count(), r.routes.len());
    }
}

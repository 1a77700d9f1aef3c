//! End-to-end tests of the simulator: determinism, MRT output read by
//! `bgpdump` and by our own decoder with matching counts, Gao–Rexford
//! sanity, and every incident type present as specified.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;
use std::process::Command;

use bgpsentry_core::model::RouteEvent;
use bgpsentry_core::mrt::{RecordReader, StreamDecoder};
use bgpsentry_sim::engine::Run;
use bgpsentry_sim::output::{simulate, write_run};
use bgpsentry_sim::routing::valleys;
use bgpsentry_sim::scenario::IncidentKind;
use bgpsentry_sim::{Scenario, generate_to_dir};

fn all_kinds() -> Scenario {
    let text = r#"
name = "all-kinds"
seed = 7
duration = "2h"
split = "15m"
[topology]
ases = 300
[collectors]
count = 2
peers = 30
[churn]
link_failures_per_day = 120
flaps_per_day = 200
multihoming = 1
anycast = 2
anycast_new_sites = 1
delegations = 1
ddos_diversions = 1
[[incident]]
type = "exact_hijack"
start = "20m"
duration = "30m"
share = 0.8
prefixes = 2
[[incident]]
type = "more_specific_hijack"
start = "30m"
duration = "20m"
[[incident]]
type = "forged_origin"
start = "40m"
duration = "20m"
more_specific = true
[[incident]]
type = "route_leak"
leak_type = 1
start = "50m"
duration = "20m"
prefixes = 10
[[incident]]
type = "route_leak"
leak_type = 2
start = "60m"
duration = "20m"
[[incident]]
type = "route_leak"
leak_type = 3
start = "70m"
duration = "20m"
[[incident]]
type = "route_leak"
leak_type = 4
start = "80m"
duration = "20m"
"#;
    Scenario::from_toml(text, Path::new("all-kinds.toml")).expect("scenario")
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("prefix").display().to_string();
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

#[test]
fn same_seed_gives_identical_bytes_and_other_seed_differs() {
    let a = tempfile::tempdir().expect("tmp");
    let b = tempfile::tempdir().expect("tmp");
    let c = tempfile::tempdir().expect("tmp");
    bgpsentry_sim::demo(a.path()).expect("demo a");
    bgpsentry_sim::demo(b.path()).expect("demo b");
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert!(fa.len() >= 5, "{:?}", fa.keys());
    assert_eq!(fa, fb);
    let mut s = Scenario::demo();
    s.seed += 1;
    generate_to_dir(&s, c.path()).expect("demo c");
    assert_ne!(fa.get("truth.json"), files(c.path()).get("truth.json"));
}

#[test]
fn decoders_read_the_output_with_matching_counts() {
    let dir = tempfile::tempdir().expect("tmp");
    let g = generate_to_dir(&all_kinds(), dir.path()).expect("generate");
    let t = &g.truth;
    assert!(
        t.counts.rib_entries > 1000 && t.counts.announcements > 100 && t.counts.withdrawals > 0,
        "{:?}",
        t.counts
    );
    // Our decoder.
    let (mut rib, mut ann, mut wd) = (0u64, 0u64, 0u64);
    for f in t.files.ribs.iter().chain(t.files.updates.iter()) {
        let bytes = std::fs::read(dir.path().join(f)).expect("read");
        let mut dec = StreamDecoder::new();
        for r in RecordReader::new(Cursor::new(bytes)) {
            let out = dec.decode(r.expect("no damage"));
            assert!(out.damage.is_empty(), "{f}: {:?}", out.damage);
            for m in out.messages {
                if let RouteEvent::Update {
                    withdrawn,
                    announced,
                    from_rib,
                    ..
                } = m.event
                {
                    if from_rib {
                        rib += announced.len() as u64;
                    } else {
                        ann += announced.len() as u64;
                    }
                    wd += withdrawn.len() as u64;
                }
            }
        }
    }
    assert_eq!(
        (rib, ann, wd),
        (
            t.counts.rib_entries,
            t.counts.announcements,
            t.counts.withdrawals
        )
    );
    // bgpdump.
    if Command::new("bgpdump").arg("-T").output().is_err() {
        eprintln!("SKIPPED bgpdump check: `bgpdump` is not installed (apt-get install bgpdump)");
        return;
    }
    let (mut b, mut a, mut w) = (0u64, 0u64, 0u64);
    for f in t.files.ribs.iter().chain(t.files.updates.iter()) {
        let out = Command::new("bgpdump")
            .arg("-m")
            .arg(dir.path().join(f))
            .output()
            .expect("bgpdump");
        assert!(out.status.success(), "bgpdump failed on {f}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.to_lowercase().contains("error"),
            "bgpdump on {f}: {err}"
        );
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            match line.split('|').nth(2) {
                Some("B") => b += 1,
                Some("A") => a += 1,
                Some("W") => w += 1,
                other => panic!("unexpected bgpdump line {other:?}: {line}"),
            }
        }
    }
    assert_eq!(
        (b, a, w),
        (
            t.counts.rib_entries,
            t.counts.announcements,
            t.counts.withdrawals
        )
    );
}

fn views(run: &Run) -> impl Iterator<Item = (&bgpsentry_sim::engine::View, usize)> {
    run.rib
        .iter()
        .enumerate()
        .flat_map(|(p, v)| v.iter().flatten().map(move |x| (x, p)))
        .chain(
            run.updates
                .iter()
                .filter_map(|u| u.view.as_ref().map(|v| (v, u.prefix as usize))),
        )
}

#[test]
fn routes_are_valley_free_except_injected_leaks() {
    let run = simulate(&all_kinds()).expect("run");
    let sim = &run.sim;
    let leaks: BTreeMap<u32, u32> = sim
        .incidents
        .iter()
        .filter(|i| i.kind == IncidentKind::RouteLeak)
        .filter_map(|i| i.leaker.map(|l| (i.id, l)))
        .collect();
    let hijacks: Vec<u32> = sim
        .incidents
        .iter()
        .filter(|i| i.kind != IncidentKind::RouteLeak)
        .map(|i| i.id)
        .collect();
    let (mut normal, mut leaked) = (0, 0);
    for (v, _) in views(&run) {
        match v.tag {
            Some(id) if leaks.contains_key(&id) => {
                assert_eq!(
                    valleys(&sim.topo, &v.path),
                    vec![leaks[&id]],
                    "leak path {:?}",
                    v.path
                );
                leaked += 1;
            }
            Some(id) if hijacks.contains(&id) => {}
            _ => {
                assert!(
                    valleys(&sim.topo, &v.path).is_empty(),
                    "valley in {:?}",
                    v.path
                );
                normal += 1;
            }
        }
    }
    assert!(normal > 1000 && leaked > 0, "{normal} {leaked}");
}

#[test]
fn every_incident_type_appears_as_specified() {
    let run = simulate(&all_kinds()).expect("run");
    let sim = &run.sim;
    assert_eq!(sim.incidents.len(), 7);
    for inc in &sim.incidents {
        assert!(
            inc.seen_by_peers > 0,
            "incident {} ({:?}) not seen",
            inc.id,
            inc.kind
        );
        let first = inc.first_seen.expect("seen");
        assert!(first >= inc.start && first < inc.start + 60, "{inc:?}");
        let mine: Vec<_> = views(&run).filter(|(v, _)| v.tag == Some(inc.id)).collect();
        assert!(!mine.is_empty());
        for (v, p) in mine {
            let prefix = sim.prefixes[p].prefix.to_string();
            assert!(
                inc.prefixes.contains(&prefix),
                "{prefix} not in {:?}",
                inc.prefixes
            );
            let origin = *v.path.last().expect("path");
            match inc.kind {
                IncidentKind::ExactHijack => {
                    assert_eq!(Some(origin), inc.hijacker);
                    assert_eq!(inc.prefixes, inc.victim_prefixes);
                }
                IncidentKind::MoreSpecificHijack => {
                    assert_eq!(Some(origin), inc.hijacker);
                    let sub: ipnet::IpNet = prefix.parse().expect("p");
                    let cover: ipnet::IpNet = inc.victim_prefixes[0].parse().expect("p");
                    assert!(cover.contains(&sub) && sub.prefix_len() > cover.prefix_len());
                }
                IncidentKind::ForgedOrigin => {
                    let n = v.path.len();
                    assert_eq!(origin, inc.victims[0]);
                    assert_eq!(Some(v.path[n - 2]), inc.hijacker);
                    assert_eq!(inc.announced_path.as_deref(), Some(&v.path[n - 2..]));
                }
                IncidentKind::RouteLeak => {
                    assert!(v.path.contains(&inc.leaker.expect("leaker")));
                }
            }
        }
        // Withdrawn or replaced at the end.
        let after: Vec<_> = run
            .updates
            .iter()
            .filter(|u| u.ts / 1_000_000 > inc.end + 120)
            .filter(|u| u.view.as_ref().is_some_and(|v| v.tag == Some(inc.id)))
            .collect();
        assert!(
            after.is_empty(),
            "incident {} still announced after its end",
            inc.id
        );
    }
    let leak_types: Vec<u8> = sim.incidents.iter().filter_map(|i| i.leak_type).collect();
    assert_eq!(leak_types, vec![1, 2, 3, 4]);
    assert!(sim.legit.len() >= 4, "{:?}", sim.legit);
    let dir = tempfile::tempdir().expect("tmp");
    let g = write_run(&run, dir.path()).expect("write");
    let back: bgpsentry_sim::truth::Truth =
        serde_json::from_slice(&std::fs::read(&g.truth_path).expect("read")).expect("json");
    assert_eq!(back, g.truth);
}

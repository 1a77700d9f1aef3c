//! The detection-quality regression benchmark (issue #9): runs the real
//! `bgpsentry eval` on the fixed suite in `scenarios/` (seeds in the files)
//! with forged-origin detection on, writes the report to
//! `target/tmp/eval/results.json`, and compares every headline number with
//! `scenarios/baseline.json`: no recall or precision may fall and false
//! alarms per day may not rise. The simulator and the replay are
//! deterministic, so the numbers are exact; an improvement passes and says
//! so. After a deliberate change, regenerate the baseline with
//! `BGPSENTRY_UPDATE_BASELINE=1 cargo test -p bgpsentry --test eval_suite`
//! and commit it with the change that moved it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios");
const BASELINE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/baseline.json");

/// Whether larger is better for a metric.
fn higher_is_better(name: &str) -> bool {
    !name.starts_with("false_alarms") && !name.contains("delay")
}

/// The headline numbers of a report, flattened to `name → value`.
fn headline(results: &Value) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    let total = &results["total"];
    if let Some(types) = total["types"].as_object() {
        for (ty, t) in types {
            for k in ["recall", "precision"] {
                if let Some(v) = t[k].as_f64() {
                    m.insert(format!("{ty}.{k}"), v);
                }
            }
            if let Some(v) = t["delay_p90"].as_f64() {
                m.insert(format!("{ty}.delay_p90"), v);
            }
        }
    }
    if let Some(buckets) = total["buckets"].as_array() {
        for b in buckets {
            let c = b["min_confidence"].as_i64().unwrap_or(-1);
            for k in ["recall", "precision"] {
                if let Some(v) = b[k].as_f64() {
                    m.insert(format!("hijack_conf_ge_{c}.{k}"), v);
                }
            }
        }
    }
    if let Some(v) = total["false_alarms_per_day"].as_f64() {
        m.insert("false_alarms_per_day".into(), v);
    }
    m
}

fn run_eval(work: &Path, results: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_bgpsentry"))
        .args(["eval", SCENARIOS, "--forged-origin", "--json", "--work"])
        .arg(work)
        .arg("--results")
        .arg(results)
        .output()
        .expect("run bgpsentry eval");
    assert!(
        out.status.success(),
        "bgpsentry eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(results).expect("results file written");
    serde_json::from_str(&text).expect("results are JSON")
}

#[test]
fn suite_does_not_regress() {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("eval");
    let results_path = tmp.join("results.json");
    let results = run_eval(&tmp.join("work"), &results_path);
    assert_eq!(results["registries"], Value::Bool(true));
    assert_eq!(results["forged_origin"], Value::Bool(true));
    let now = headline(&results);
    assert!(
        now.contains_key("exact_hijack.recall") && now.contains_key("route_leak_type1.recall"),
        "the suite scored hijacks and leaks: {now:?}"
    );

    if std::env::var_os("BGPSENTRY_UPDATE_BASELINE").is_some() {
        let mut text = serde_json::to_string_pretty(&now).expect("json");
        text.push('\n');
        std::fs::write(BASELINE, text).expect("write baseline");
        eprintln!("baseline written to {BASELINE}");
        return;
    }
    let base: BTreeMap<String, f64> =
        serde_json::from_str(&std::fs::read_to_string(BASELINE).expect("scenarios/baseline.json"))
            .expect("baseline is a JSON object of numbers");

    let mut worse = Vec::new();
    let mut better = Vec::new();
    for (k, b) in &base {
        let Some(n) = now.get(k) else {
            worse.push(format!("{k}: {b} → missing"));
            continue;
        };
        let eps = 1e-9;
        let (regressed, improved) = if higher_is_better(k) {
            (*n < b - eps, *n > b + eps)
        } else {
            (*n > b + eps, *n < b - eps)
        };
        if regressed {
            worse.push(format!("{k}: {b:.3} → {n:.3}"));
        } else if improved {
            better.push(format!("{k}: {b:.3} → {n:.3}"));
        }
    }
    for k in now.keys().filter(|k| !base.contains_key(*k)) {
        better.push(format!("{k}: new, {:.3}", now[k]));
    }
    if !better.is_empty() {
        eprintln!(
            "improved (update scenarios/baseline.json with BGPSENTRY_UPDATE_BASELINE=1):\n  {}",
            better.join("\n  ")
        );
    }
    assert!(
        worse.is_empty(),
        "detection quality regressed against scenarios/baseline.json (report: {}):\n  {}",
        results_path.display(),
        worse.join("\n  ")
    );
}

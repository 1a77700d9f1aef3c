//! The scenario file (TOML): what to simulate, from which seed. Every field
//! has a default, so `seed = 1` alone is a valid scenario; unknown keys are
//! errors so typos do not silently fall back to defaults.
//!
//! ```toml
//! name = "exact-hijack"
//! seed = 42
//! start = "2024-01-01T00:00:00Z"
//! duration = "6h"            # "90s", "15m", "6h", "1d" or seconds
//! split = "15m"              # update file length; "0" = one file
//! v6_share = 0.3
//! [topology]
//! ases = 1000                # or: file = "as-rel.txt" (CAIDA serial-1)
//! [collectors]
//! count = 1
//! peers = 40
//! full_feed_share = 0.7
//! [churn]
//! link_failures_per_day = 24
//! [[incident]]
//! type = "exact_hijack"      # more_specific_hijack | forged_origin | route_leak
//! start = "1h"
//! duration = "30m"
//! share = 0.6
//! [random_incidents]
//! exact_hijack = 3
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::topology::TopologyParams;

/// A duration in seconds, written as `"90s"`, `"15m"`, `"6h"`, `"1d"` or a
/// plain number of seconds.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "DurRepr", into = "String")]
pub struct Dur(pub u64);

#[derive(Deserialize)]
#[serde(untagged)]
enum DurRepr {
    Secs(u64),
    Text(String),
}

impl TryFrom<DurRepr> for Dur {
    type Error = String;
    fn try_from(r: DurRepr) -> Result<Self, String> {
        match r {
            DurRepr::Secs(s) => Ok(Dur(s)),
            DurRepr::Text(t) => Dur::parse(&t),
        }
    }
}

impl From<Dur> for String {
    fn from(d: Dur) -> String {
        d.to_string()
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if s > 0 && s.is_multiple_of(86_400) {
            write!(f, "{}d", s / 86_400)
        } else if s > 0 && s.is_multiple_of(3600) {
            write!(f, "{}h", s / 3600)
        } else if s > 0 && s.is_multiple_of(60) {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

impl Dur {
    /// Parses `"90s"`, `"15m"`, `"6h"`, `"1d"`, `"1.5h"` or `"120"`.
    pub fn parse(t: &str) -> Result<Dur, String> {
        let t = t.trim();
        let (num, mult) = match t.chars().last() {
            Some('s') => (&t[..t.len() - 1], 1.0),
            Some('m') => (&t[..t.len() - 1], 60.0),
            Some('h') => (&t[..t.len() - 1], 3600.0),
            Some('d') => (&t[..t.len() - 1], 86_400.0),
            _ => (t, 1.0),
        };
        let v: f64 = num
            .trim()
            .parse()
            .map_err(|_| format!("bad duration {t:?} (use 90s, 15m, 6h, 1d)"))?;
        if !v.is_finite() || v < 0.0 || v * mult > 3.2e8 {
            return Err(format!("duration {t:?} out of range"));
        }
        Ok(Dur((v * mult).round() as u64))
    }

    /// Seconds as i64.
    pub fn secs(self) -> i64 {
        self.0 as i64
    }
}

/// Collector set-up.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectorParams {
    /// Number of collectors (each writes its own files).
    pub count: usize,
    /// Collector peers in total (spread over the collectors).
    pub peers: usize,
    /// Share of peers that send a full table (the rest send customer routes only).
    pub full_feed_share: f64,
    /// ASNs that must be collector peers (if they exist).
    pub peer_asns: Vec<u32>,
}

impl Default for CollectorParams {
    fn default() -> Self {
        CollectorParams {
            count: 1,
            peers: 40,
            full_feed_share: 0.7,
            peer_asns: Vec::new(),
        }
    }
}

/// Background churn.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChurnParams {
    /// Link failures per simulated day (each restored later).
    pub link_failures_per_day: f64,
    /// Shortest link outage.
    pub link_down_min: Dur,
    /// Longest link outage.
    pub link_down_max: Dur,
    /// Prefix flaps (withdraw, re-announce by the same origin) per day.
    pub flaps_per_day: f64,
    /// Provider starts originating a customer's prefix too (multihoming MOAS).
    pub multihoming: usize,
    /// Long-standing anycast prefixes (several origins from the start).
    pub anycast: usize,
    /// New sites added to an anycast prefix during the run.
    pub anycast_new_sites: usize,
    /// More-specifics delegated to a customer, announced through the old origin.
    pub delegations: usize,
    /// DDoS-mitigation diversions: a scrubbing AS originates a victim's prefix.
    pub ddos_diversions: usize,
    /// ASNs of scrubbing providers (default: the best-connected transit AS).
    pub scrubbers: Vec<u32>,
}

impl Default for ChurnParams {
    fn default() -> Self {
        ChurnParams {
            link_failures_per_day: 24.0,
            link_down_min: Dur(60),
            link_down_max: Dur(7200),
            flaps_per_day: 48.0,
            multihoming: 2,
            anycast: 3,
            anycast_new_sites: 1,
            delegations: 2,
            ddos_diversions: 1,
            scrubbers: Vec::new(),
        }
    }
}

/// Kinds of injected incidents.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// A foreign origin announces the victim's exact prefix.
    ExactHijack,
    /// A foreign origin announces a more-specific of the victim's prefix.
    MoreSpecificHijack,
    /// Type-1 forged origin: the hijacker announces path `hijacker victim`.
    ForgedOrigin,
    /// An RFC 7908 route leak (type in `leak_type`).
    RouteLeak,
}

impl IncidentKind {
    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            IncidentKind::ExactHijack => "exact_hijack",
            IncidentKind::MoreSpecificHijack => "more_specific_hijack",
            IncidentKind::ForgedOrigin => "forged_origin",
            IncidentKind::RouteLeak => "route_leak",
        }
    }
}

fn one() -> f64 {
    1.0
}
fn one_usize() -> usize {
    1
}
fn leak1() -> u8 {
    1
}

/// One injected incident.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentSpec {
    /// What happens.
    #[serde(rename = "type")]
    pub kind: IncidentKind,
    /// Offset from the scenario start.
    pub start: Dur,
    /// How long it lasts.
    pub duration: Dur,
    /// Share of ASes that accept the bad route (0..1).
    #[serde(default = "one")]
    pub share: f64,
    /// Hijacks: how many of the victim's prefixes; leaks: how many prefixes
    /// are leaked (0 = every eligible route).
    #[serde(default = "one_usize")]
    pub prefixes: usize,
    /// The hijacker (default: chosen from the seed).
    #[serde(default)]
    pub hijacker: Option<u32>,
    /// The victim (default: chosen from the seed).
    #[serde(default)]
    pub victim: Option<u32>,
    /// The leaker (default: chosen from the seed).
    #[serde(default)]
    pub leaker: Option<u32>,
    /// RFC 7908 type 1–4 for route leaks.
    #[serde(default = "leak1")]
    pub leak_type: u8,
    /// Forged origin: announce a more-specific (as in KlaySwap 2022).
    #[serde(default)]
    pub more_specific: bool,
}

/// Incidents drawn from the seed: counts per kind.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RandomIncidents {
    /// Exact-prefix hijacks.
    pub exact_hijack: usize,
    /// More-specific hijacks.
    pub more_specific_hijack: usize,
    /// Forged-origin hijacks (half of them on a more-specific).
    pub forged_origin: usize,
    /// Type-1 leaks (provider → customer → provider).
    pub leak_type1: usize,
    /// Type-2 leaks (peer → customer → peer).
    pub leak_type2: usize,
    /// Type-3 leaks (provider → customer → peer).
    pub leak_type3: usize,
    /// Type-4 leaks (peer → customer → provider).
    pub leak_type4: usize,
    /// Smallest acceptance share.
    pub share_min: f64,
    /// Largest acceptance share.
    pub share_max: f64,
    /// Shortest incident.
    pub duration_min: Dur,
    /// Longest incident.
    pub duration_max: Dur,
    /// Most prefixes per hijack.
    pub max_prefixes: usize,
    /// Prefixes per leak.
    pub leak_prefixes: usize,
}

impl Default for RandomIncidents {
    fn default() -> Self {
        RandomIncidents {
            exact_hijack: 0,
            more_specific_hijack: 0,
            forged_origin: 0,
            leak_type1: 0,
            leak_type2: 0,
            leak_type3: 0,
            leak_type4: 0,
            share_min: 0.3,
            share_max: 1.0,
            duration_min: Dur(600),
            duration_max: Dur(3 * 3600),
            max_prefixes: 3,
            leak_prefixes: 30,
        }
    }
}

/// A whole scenario.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Short name (used in reports and file names).
    pub name: String,
    /// What it tests.
    pub description: String,
    /// The seed: same seed, same bytes.
    pub seed: u64,
    /// Start of simulated time (RFC 3339, UTC).
    pub start: String,
    /// Simulated time span.
    pub duration: Dur,
    /// Length of one update file (0 = a single file).
    pub split: Dur,
    /// Share of ASes with an IPv6 prefix.
    pub v6_share: f64,
    /// The AS graph.
    pub topology: TopologyParams,
    /// Route collectors.
    pub collectors: CollectorParams,
    /// Background churn.
    pub churn: ChurnParams,
    /// Explicit incidents.
    #[serde(rename = "incident")]
    pub incidents: Vec<IncidentSpec>,
    /// Incidents drawn from the seed.
    pub random_incidents: RandomIncidents,
    /// RPKI and IRR coverage.
    pub registries: crate::registries::RegistryParams,
    /// Where the scenario file was (to resolve relative paths); not in the file.
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            name: "scenario".into(),
            description: String::new(),
            seed: 1,
            start: "2024-01-01T00:00:00Z".into(),
            duration: Dur(86_400),
            split: Dur(900),
            v6_share: 0.3,
            topology: TopologyParams::default(),
            collectors: CollectorParams::default(),
            churn: ChurnParams::default(),
            incidents: Vec::new(),
            random_incidents: RandomIncidents::default(),
            registries: crate::registries::RegistryParams::default(),
            base_dir: None,
        }
    }
}

impl Scenario {
    /// Parses a scenario from TOML text.
    pub fn from_toml(text: &str, path: &Path) -> Result<Scenario, SimError> {
        let mut s: Scenario = toml::from_str(text).map_err(|source| SimError::Toml {
            path: path.to_path_buf(),
            source,
        })?;
        s.base_dir = path.parent().map(Path::to_path_buf);
        if s.name == "scenario"
            && let Some(stem) = path.file_stem()
        {
            s.name = stem.to_string_lossy().into_owned();
        }
        s.validate()?;
        Ok(s)
    }

    /// Reads and parses a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, SimError> {
        let text = std::fs::read_to_string(path).map_err(|e| SimError::io(path, e))?;
        Scenario::from_toml(&text, path)
    }

    /// The start as Unix seconds.
    pub fn start_secs(&self) -> Result<i64, SimError> {
        chrono::DateTime::parse_from_rfc3339(&self.start)
            .map(|d| d.timestamp())
            .map_err(|e| SimError::Scenario(format!("start {:?}: {e}", self.start)))
    }

    /// Checks values that the types cannot.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |m: String| Err(SimError::Scenario(m));
        let start = self.start_secs()?;
        if !(0..4_000_000_000).contains(&start) {
            return bad("start must be between 1970 and 2096 (MRT time is 32-bit)".into());
        }
        if self.duration.0 == 0 || self.duration.0 > 30 * 86_400 {
            return bad("duration must be between 1s and 30d".into());
        }
        if !(0.0..=1.0).contains(&self.v6_share) {
            return bad("v6_share must be in 0..1".into());
        }
        let c = &self.collectors;
        if c.count == 0 || c.count > 100 || c.peers == 0 || c.peers > 5000 || c.peers < c.count {
            return bad("collectors: need 1..100 collectors and count..5000 peers".into());
        }
        if !(0.0..=1.0).contains(&c.full_feed_share) {
            return bad("collectors.full_feed_share must be in 0..1".into());
        }
        let ch = &self.churn;
        if ch.link_down_min > ch.link_down_max
            || !(0.0..=100_000.0).contains(&ch.link_failures_per_day)
            || !(0.0..=100_000.0).contains(&ch.flaps_per_day)
        {
            return bad(
                "churn: rates must be in 0..100000 and link_down_min <= link_down_max".into(),
            );
        }
        for (i, inc) in self.incidents.iter().enumerate() {
            if !(0.0..=1.0).contains(&inc.share) {
                return bad(format!("incident {i}: share must be in 0..1"));
            }
            if inc.kind == IncidentKind::RouteLeak && !(1..=4).contains(&inc.leak_type) {
                return bad(format!("incident {i}: leak_type must be 1..4"));
            }
            if inc.start >= self.duration {
                return bad(format!("incident {i}: starts after the scenario ends"));
            }
            if inc.duration.0 == 0 {
                return bad(format!("incident {i}: duration must be positive"));
            }
        }
        let r = &self.random_incidents;
        if !(0.0..=1.0).contains(&r.share_min) || !(r.share_min..=1.0).contains(&r.share_max) {
            return bad("random_incidents: need 0 <= share_min <= share_max <= 1".into());
        }
        if r.duration_min > r.duration_max || r.duration_min.0 == 0 {
            return bad("random_incidents: need 0 < duration_min <= duration_max".into());
        }
        Ok(())
    }

    /// The built-in demo: a few hundred ASes, a few minutes, one hijack and
    /// one leak.
    pub fn demo() -> Scenario {
        Scenario {
            name: "demo".into(),
            description: "built-in demo: one exact-prefix hijack and one type-1 route leak".into(),
            seed: 2024,
            duration: Dur(600),
            split: Dur(300),
            topology: TopologyParams {
                ases: 300,
                ..Default::default()
            },
            collectors: CollectorParams {
                peers: 24,
                ..Default::default()
            },
            churn: ChurnParams {
                link_failures_per_day: 288.0,
                flaps_per_day: 576.0,
                multihoming: 0,
                anycast: 1,
                anycast_new_sites: 0,
                delegations: 0,
                ddos_diversions: 0,
                ..Default::default()
            },
            incidents: vec![
                IncidentSpec {
                    kind: IncidentKind::ExactHijack,
                    start: Dur(120),
                    duration: Dur(240),
                    share: 0.8,
                    prefixes: 1,
                    hijacker: None,
                    victim: None,
                    leaker: None,
                    leak_type: 1,
                    more_specific: false,
                },
                IncidentSpec {
                    kind: IncidentKind::RouteLeak,
                    start: Dur(240),
                    duration: Dur(240),
                    share: 0.8,
                    prefixes: 20,
                    hijacker: None,
                    victim: None,
                    leaker: None,
                    leak_type: 1,
                    more_specific: false,
                },
            ],
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(Dur::parse("90s"), Ok(Dur(90)));
        assert_eq!(Dur::parse("15m"), Ok(Dur(900)));
        assert_eq!(Dur::parse("1.5h"), Ok(Dur(5400)));
        assert_eq!(Dur::parse("2d"), Ok(Dur(172_800)));
        assert_eq!(Dur::parse("120"), Ok(Dur(120)));
        assert!(Dur::parse("soon").is_err());
        assert!(Dur::parse("-1h").is_err());
    }

    #[test]
    fn scenario_parses_and_rejects_bad_input() {
        let p = Path::new("scenarios/x.toml");
        let s = Scenario::from_toml(
            "seed = 5\nduration = \"2h\"\n[[incident]]\ntype = \"route_leak\"\nleak_type = 3\nstart = \"1h\"\nduration = \"10m\"\n",
            p,
        )
        .expect("parse");
        assert_eq!(s.name, "x");
        assert_eq!(s.duration, Dur(7200));
        assert_eq!(s.incidents[0].leak_type, 3);
        assert!(Scenario::from_toml("sed = 5\n", p).is_err());
        assert!(Scenario::from_toml("duration = \"forever\"\n", p).is_err());
        assert!(
            Scenario::from_toml(
                "[[incident]]\ntype = \"route_leak\"\nleak_type = 9\nstart = 1\nduration = 1\n",
                p
            )
            .is_err()
        );
        assert!(Scenario::from_toml("start = \"yesterday\"\n", p).is_err());
        Scenario::demo().validate().expect("demo is valid");
    }
}

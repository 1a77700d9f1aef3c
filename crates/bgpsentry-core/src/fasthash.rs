//! Hash maps and sets for the detectors' and the inference's hot paths.
//!
//! The standard library's SipHash was a fifth of a replay's instructions
//! (callgrind, docs/performance.md); foldhash is several times cheaper per
//! key and still seeds every map randomly, so a peer that crafts ASNs or
//! prefixes cannot aim at one bucket sequence across runs. Iteration order
//! stays unspecified, as with the standard maps: nothing may depend on it.
pub use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

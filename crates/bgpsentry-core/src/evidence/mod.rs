//! Outside knowledge the detectors and the confidence score need
//! (`radar-reference.md` §2): RPKI VRPs, IRR route objects, AS
//! relationships, organisations and bogons, each in an immutable table with
//! indexed, allocation-free lookups. An [`Evidence`] is one consistent
//! snapshot; the service builds a new one off-thread and swaps it in
//! atomically, so detectors never see a half-loaded table.
//!
//! Loaders (`*_load`) read the formats operators already have and report
//! malformed records with file and line in a [`LoadReport`] instead of
//! failing the whole file.

pub mod asrel;
pub mod asrel_infer;
pub mod asrel_load;
pub mod bogons;
pub mod irr;
pub mod irr_load;
mod lines;
pub mod orgs;
pub mod orgs_load;
pub mod report;
pub mod rpki;
pub mod rpki_load;

pub use asrel::{AsRelationships, RelInfo, Relationship};
pub use asrel_infer::{AsRelInference, InferenceStats};
pub use asrel_load::read_asrel;
pub use bogons::Bogons;
pub use irr::{IrrState, IrrTable, RouteObject};
pub use irr_load::read_rpsl;
pub use orgs::{Org, OrgTable};
pub use orgs_load::{read_as2org, read_asnames};
pub use report::{LoadError, LoadReport, Location, Problem};
pub use rpki::{RovState, RpkiTable, Vrp};
pub use rpki_load::read_vrps;

/// One consistent snapshot of all evidence.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub rpki: RpkiTable,
    pub irr: IrrTable,
    pub asrel: AsRelationships,
    pub orgs: OrgTable,
    pub bogons: Bogons,
}

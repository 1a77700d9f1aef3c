//! The data model shared by every part of bgpsentry: ASNs, time, AS paths,
//! decoded BGP messages, collector peers and the events we raise.

mod asn;
pub mod event;
pub mod fasthash;
mod path;
mod peer;
mod route;
pub mod time;

pub use asn::{AS_TRANS, Asn, AsnParseError};
pub use event::{
    ChangeKind, ConfidenceLevel, Event, EventChange, HijackEvent, LeakEvent, SamplePath, Tag,
    hijack_type, leak_type,
};
pub use path::{AsPath, Origins, Segment};
pub use peer::{CollectorId, PeerId, PeerInfo, PeerTable};
pub use route::{BGP_STATE_ESTABLISHED, Community, Nlri, PathAttrs, RouteEvent, RouteMessage};
pub use time::Timestamp;

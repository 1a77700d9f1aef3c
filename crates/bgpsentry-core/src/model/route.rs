//! The decoded form of one BGP message as the detectors consume it. A message
//! is decoded once: its path attributes sit behind one `Arc` shared by every
//! prefix it announces, so a 500-prefix UPDATE costs one path, not 500.

use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::{AsPath, Asn, Origins, PeerId, Timestamp};

/// A prefix in an UPDATE or RIB entry, with its ADD-PATH identifier (RFC 7911).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Nlri {
    /// The prefix, host bits as received.
    pub prefix: IpNet,
    /// The ADD-PATH path identifier, when the session negotiated it.
    pub path_id: Option<u32>,
}

/// A BGP community in any of its three forms.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Community {
    /// RFC 1997 `asn:value`.
    Standard(u16, u16),
    /// RFC 8092 `global:local1:local2`.
    Large(u32, u32, u32),
}

/// The path attributes the detectors and the operator need.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathAttrs {
    /// The AS path (AS4_PATH already merged where the message was 2-byte).
    pub as_path: AsPath,
    /// The origin AS(es) of `as_path`.
    pub origins: Origins,
    /// Communities of all kinds.
    pub communities: Vec<Community>,
    /// RFC 9234 Only-to-Customer attribute: the ASN that set it.
    pub otc: Option<Asn>,
    /// The next hop (NEXT_HOP or the MP_REACH next hop).
    pub next_hop: Option<IpAddr>,
    /// ATOMIC_AGGREGATE was present.
    pub atomic_aggregate: bool,
    /// AGGREGATOR (AS4_AGGREGATOR where applicable).
    pub aggregator: Option<(Asn, IpAddr)>,
}

impl PathAttrs {
    /// Builds attributes from a path, computing the origins.
    pub fn from_path(as_path: AsPath) -> Self {
        let origins = as_path.origins();
        PathAttrs {
            as_path,
            origins,
            ..Default::default()
        }
    }
}

/// What happened, per message.
///
/// Nearly every message is an `Update`, so its prefixes stay inline rather
/// than behind a `Box` (which would cost an allocation per message).
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum RouteEvent {
    /// An UPDATE (or one RIB entry of a table dump): withdrawals first, then
    /// announcements sharing `attrs`.
    Update {
        /// Prefixes withdrawn.
        withdrawn: SmallVec<[Nlri; 4]>,
        /// Prefixes announced with `attrs`.
        announced: SmallVec<[Nlri; 4]>,
        /// The attributes of the announced prefixes (`None` when only withdrawing).
        attrs: Option<Arc<PathAttrs>>,
        /// True when this came from a RIB dump rather than an UPDATE stream.
        from_rib: bool,
    },
    /// A BGP FSM transition of the collector's session with the peer
    /// (BGP4MP STATE_CHANGE; numbering of RFC 6396 §4.4.1, 6 = Established).
    PeerState {
        /// State before.
        old: u16,
        /// State after.
        new: u16,
    },
}

/// The BGP FSM state number of Established.
pub const BGP_STATE_ESTABLISHED: u16 = 6;

/// One decoded BGP message from one collector peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteMessage {
    /// When the collector received it.
    pub ts: Timestamp,
    /// The collector peer that sent it.
    pub peer: PeerId,
    /// What it said.
    pub event: RouteEvent,
}

impl RouteMessage {
    /// True when this is a session transition out of Established, which
    /// implicitly withdraws every route the peer had sent.
    pub fn is_session_down(&self) -> bool {
        matches!(self.event, RouteEvent::PeerState { old, new } if old == BGP_STATE_ESTABLISHED && new != BGP_STATE_ESTABLISHED)
    }

    /// Count of prefixes announced and withdrawn.
    pub fn counts(&self) -> (usize, usize) {
        match &self.event {
            RouteEvent::Update {
                withdrawn,
                announced,
                ..
            } => (announced.len(), withdrawn.len()),
            RouteEvent::PeerState { .. } => (0, 0),
        }
    }
}

//! Interning of collectors and collector peers into small integer ids, so
//! the routing state keys on `u32`s instead of (string, address, ASN) triples.
//! Ids are assigned in order of first appearance: the same input order gives
//! the same ids, which keeps replays deterministic.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::Asn;
use super::fasthash::FxHashMap;

/// Index of a collector (a RouteViews or RIS box, a BMP router, a BGP listener).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CollectorId(pub u16);

/// Index of a collector peer: (collector, peer address, peer ASN).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PeerId(pub u32);

/// What we know of one collector peer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PeerInfo {
    /// The collector it peers with.
    pub collector: CollectorId,
    /// The peer's address on that session.
    pub ip: IpAddr,
    /// The peer's ASN.
    pub asn: Asn,
}

/// Interning table for collectors and peers.
#[derive(Clone, Debug, Default)]
pub struct PeerTable {
    collectors: Vec<String>,
    collector_ids: FxHashMap<String, CollectorId>,
    peers: Vec<PeerInfo>,
    peer_ids: FxHashMap<PeerInfo, PeerId>,
}

impl PeerTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of collector `name`, assigning the next one if new.
    /// More than 65,535 collectors fold into the last id rather than panic.
    pub fn collector(&mut self, name: &str) -> CollectorId {
        if let Some(id) = self.collector_ids.get(name) {
            return *id;
        }
        let id = CollectorId(u16::try_from(self.collectors.len()).unwrap_or(u16::MAX));
        self.collectors.push(name.to_string());
        self.collector_ids.insert(name.to_string(), id);
        id
    }

    /// The id of a peer, assigning the next one if new.
    pub fn peer(&mut self, collector: CollectorId, ip: IpAddr, asn: Asn) -> PeerId {
        let info = PeerInfo { collector, ip, asn };
        if let Some(id) = self.peer_ids.get(&info) {
            return *id;
        }
        let id = PeerId(u32::try_from(self.peers.len()).unwrap_or(u32::MAX));
        self.peers.push(info.clone());
        self.peer_ids.insert(info, id);
        id
    }

    /// Looks a peer up by id.
    pub fn info(&self, id: PeerId) -> Option<&PeerInfo> {
        self.peers.get(id.0 as usize)
    }

    /// The name of a collector.
    pub fn collector_name(&self, id: CollectorId) -> &str {
        self.collectors
            .get(usize::from(id.0))
            .map(String::as_str)
            .unwrap_or("?")
    }

    /// Number of distinct peers seen.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// True when no peer was seen.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Every peer with its id, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (PeerId, &PeerInfo)> {
        self.peers
            .iter()
            .enumerate()
            .map(|(i, p)| (PeerId(i as u32), p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_first_appearance() {
        let mut t = PeerTable::new();
        let c = t.collector("rrc00");
        let a = t.peer(c, "192.0.2.1".parse().expect("ip"), Asn(1));
        let b = t.peer(c, "192.0.2.2".parse().expect("ip"), Asn(2));
        assert_eq!((a, b), (PeerId(0), PeerId(1)));
        assert_eq!(t.peer(c, "192.0.2.1".parse().expect("ip"), Asn(1)), a);
        assert_eq!(t.collector("rrc00"), c);
        assert_eq!(t.collector_name(c), "rrc00");
        assert_eq!(t.len(), 2);
    }
}

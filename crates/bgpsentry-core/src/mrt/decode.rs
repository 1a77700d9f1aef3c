//! Decoding framed MRT records into the model the detectors consume.
//!
//! One [`StreamDecoder`] per input stream: it remembers the TABLE_DUMP_V2
//! PEER_INDEX_TABLE so RIB entries can name their peer. Output messages name
//! their peer by address and ASN; interning into [`PeerId`]s happens where
//! streams are merged, so ids stay deterministic however many threads decode.
//!
//! [`PeerId`]: crate::model::PeerId

use std::net::IpAddr;
use std::sync::Arc;

use bgpkit_parser::models::{
    AsPath as KitPath, AsPathSegment, Asn as KitAsn, AttributeValue, Attributes, Bgp4MpEnum,
    Bgp4MpType, BgpMessage, Community as KitCommunity, MrtMessage, NetworkPrefix, NextHopAddress,
    PeerIndexTable, Safi, TableDumpMessage, TableDumpV2Message,
};
use smallvec::SmallVec;

use super::reader::{DamageKind, FramedRecord};
use crate::model::{AsPath, Asn, Community, Nlri, PathAttrs, RouteEvent, Segment, Timestamp};

/// A decoded message, its peer named by address and ASN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// Receive time.
    pub ts: Timestamp,
    /// The collector peer's address.
    pub peer_ip: IpAddr,
    /// The collector peer's ASN.
    pub peer_asn: Asn,
    /// What it said.
    pub event: RouteEvent,
}

/// Per-stream decoding state.
#[derive(Default)]
pub struct StreamDecoder {
    peer_table: Option<PeerIndexTable>,
}

/// What decoding one record produced.
#[derive(Debug, Default)]
pub struct RecordOutput {
    /// Messages, in the order of the record.
    pub messages: Vec<Decoded>,
    /// Problems inside the record that did not stop decoding it.
    pub damage: Vec<DamageKind>,
}

fn asn(a: KitAsn) -> Asn {
    Asn(a.to_u32())
}

/// Converts a bgpkit path into ours.
pub fn convert_path(p: &KitPath) -> AsPath {
    let conv = |v: &SmallVec<[KitAsn; 6]>| v.iter().map(|a| asn(*a)).collect::<Vec<_>>();
    AsPath {
        segments: p
            .segments
            .iter()
            .map(|s| match s {
                AsPathSegment::AsSequence(v) => Segment::Sequence(conv(v)),
                AsPathSegment::AsSet(v) => Segment::Set(conv(v)),
                AsPathSegment::ConfedSequence(v) => Segment::ConfedSequence(conv(v)),
                AsPathSegment::ConfedSet(v) => Segment::ConfedSet(conv(v)),
            })
            .collect(),
    }
}

fn next_hop_ip(n: &NextHopAddress) -> IpAddr {
    match n {
        NextHopAddress::Ipv4(a) => IpAddr::V4(*a),
        NextHopAddress::Ipv6(a)
        | NextHopAddress::Ipv6LinkLocal(a, _)
        | NextHopAddress::VpnIpv6(_, a) => IpAddr::V6(*a),
        NextHopAddress::VpnIpv6LinkLocal(_, a, _, _) => IpAddr::V6(*a),
    }
}

/// Builds the model's attributes. `two_byte` selects the RFC 6793 merge of
/// AS_PATH and AS4_PATH, which only applies to 2-octet sessions.
pub fn convert_attrs(a: &Attributes, two_byte: bool) -> PathAttrs {
    let path = if two_byte {
        a.effective_as_path().map(|p| convert_path(&p))
    } else {
        a.as_path().map(convert_path)
    }
    .unwrap_or_default();
    let mut communities = Vec::new();
    let mut aggregator = None;
    let mut as4_aggregator = None;
    for v in a.iter() {
        match v {
            AttributeValue::Communities(cs) => {
                for c in cs {
                    communities.push(match c {
                        KitCommunity::NoExport => Community::Standard(0xffff, 0xff01),
                        KitCommunity::NoAdvertise => Community::Standard(0xffff, 0xff02),
                        KitCommunity::NoExportSubConfed => Community::Standard(0xffff, 0xff03),
                        KitCommunity::Custom(asn, v) => {
                            Community::Standard(u16::try_from(asn.to_u32()).unwrap_or(u16::MAX), *v)
                        }
                    });
                }
            }
            AttributeValue::LargeCommunities(ls) => {
                for l in ls {
                    communities.push(Community::Large(
                        l.global_admin,
                        l.local_data[0],
                        l.local_data[1],
                    ));
                }
            }
            AttributeValue::Aggregator { asn: x, id } => {
                aggregator = Some((asn(*x), IpAddr::V4(*id)))
            }
            AttributeValue::As4Aggregator { asn: x, id } => {
                as4_aggregator = Some((asn(*x), IpAddr::V4(*id)))
            }
            _ => {}
        }
    }
    if two_byte
        && aggregator.is_some_and(|(a, _)| a == crate::model::AS_TRANS)
        && as4_aggregator.is_some()
    {
        aggregator = as4_aggregator;
    }
    let next_hop = a
        .get_reachable_nlri()
        .and_then(|n| n.next_hop.as_ref())
        .map(next_hop_ip)
        .or_else(|| a.next_hop());
    let origins = path.origins();
    PathAttrs {
        as_path: path,
        origins,
        communities,
        otc: a.only_to_customer().map(asn),
        next_hop,
        atomic_aggregate: a.atomic_aggregate(),
        aggregator,
    }
}

fn nlri(p: &NetworkPrefix) -> Nlri {
    Nlri {
        prefix: p.prefix,
        path_id: p.path_id,
    }
}

/// True for the BGP4MP subtypes whose ASNs are 2 octets wide.
fn is_two_byte(t: Bgp4MpType) -> bool {
    matches!(
        t,
        Bgp4MpType::Message
            | Bgp4MpType::MessageLocal
            | Bgp4MpType::MessageAddpath
            | Bgp4MpType::MessageLocalAddpath
    )
}

impl StreamDecoder {
    /// A decoder with no PEER_INDEX_TABLE yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one framed record.
    pub fn decode(&mut self, rec: FramedRecord) -> RecordOutput {
        let hdr = rec.raw.common_header;
        let ts = Timestamp::from_secs_micros(
            i64::from(hdr.timestamp),
            hdr.microsecond_timestamp.unwrap_or(0),
        );
        let mut out = RecordOutput::default();
        let record = match super::salvage::parse_record(rec.raw) {
            Ok((r, salvaged)) => {
                out.damage.extend(salvaged.map(|s| s.damage()));
                r
            }
            Err(e) => {
                out.damage.push(DamageKind::Undecodable(e.to_string()));
                return out;
            }
        };
        match record.message {
            MrtMessage::TableDumpMessage(m) => self.table_dump(ts, &m, &mut out),
            MrtMessage::TableDumpMessageBatch(v) => {
                for m in &v {
                    self.table_dump(ts, m, &mut out);
                }
            }
            MrtMessage::TableDumpV2Message(m) => match m {
                TableDumpV2Message::PeerIndexTable(t) => self.peer_table = Some(t),
                TableDumpV2Message::RibAfi(rib) => {
                    let Some(table) = &self.peer_table else {
                        out.damage.push(DamageKind::Undecodable(
                            "RIB entry before any PEER_INDEX_TABLE".into(),
                        ));
                        return out;
                    };
                    for e in &rib.rib_entries {
                        let Some(peer) = table.id_peer_map.get(&e.peer_index) else {
                            out.damage.push(DamageKind::Undecodable(format!(
                                "RIB entry names peer index {} not in the PEER_INDEX_TABLE",
                                e.peer_index
                            )));
                            continue;
                        };
                        let mut announced = SmallVec::new();
                        announced.push(Nlri {
                            prefix: rib.prefix.prefix,
                            path_id: e.path_id,
                        });
                        out.messages.push(Decoded {
                            ts,
                            peer_ip: peer.peer_ip,
                            peer_asn: asn(peer.peer_asn),
                            event: RouteEvent::Update {
                                withdrawn: SmallVec::new(),
                                announced,
                                attrs: Some(Arc::new(convert_attrs(&e.attributes, false))),
                                from_rib: true,
                            },
                        });
                    }
                }
                TableDumpV2Message::RibGeneric(_) => out
                    .damage
                    .push(DamageKind::Unsupported("TABLE_DUMP_V2 RIB_GENERIC".into())),
                TableDumpV2Message::GeoPeerTable(_) => {}
            },
            MrtMessage::Bgp4Mp(Bgp4MpEnum::StateChange(sc)) => out.messages.push(Decoded {
                ts,
                peer_ip: sc.peer_ip,
                peer_asn: asn(sc.peer_asn),
                event: RouteEvent::PeerState {
                    old: sc.old_state as u16,
                    new: sc.new_state as u16,
                },
            }),
            MrtMessage::Bgp4Mp(Bgp4MpEnum::Message(m)) => {
                if let BgpMessage::Update(u) = &m.bgp_message {
                    let two_byte = is_two_byte(m.msg_type);
                    let mut withdrawn: SmallVec<[Nlri; 4]> =
                        u.withdrawn_prefixes.iter().map(nlri).collect();
                    let mut announced: SmallVec<[Nlri; 4]> =
                        u.announced_prefixes.iter().map(nlri).collect();
                    if let Some(n) = u.attributes.get_unreachable_nlri()
                        && n.safi == Safi::Unicast
                    {
                        withdrawn.extend(n.prefixes.iter().map(nlri));
                    }
                    if let Some(n) = u.attributes.get_reachable_nlri()
                        && n.safi == Safi::Unicast
                    {
                        announced.extend(n.prefixes.iter().map(nlri));
                    }
                    if withdrawn.is_empty() && announced.is_empty() {
                        return out;
                    }
                    let attrs = (!announced.is_empty())
                        .then(|| Arc::new(convert_attrs(&u.attributes, two_byte)));
                    out.messages.push(Decoded {
                        ts,
                        peer_ip: m.peer_ip,
                        peer_asn: asn(m.peer_asn),
                        event: RouteEvent::Update {
                            withdrawn,
                            announced,
                            attrs,
                            from_rib: false,
                        },
                    });
                }
            }
            MrtMessage::LegacyBgp(_) => out
                .damage
                .push(DamageKind::Unsupported("legacy MRT type BGP (5)".into())),
        }
        out
    }

    fn table_dump(&mut self, ts: Timestamp, m: &TableDumpMessage, out: &mut RecordOutput) {
        let mut announced = SmallVec::new();
        announced.push(nlri(&m.prefix));
        out.messages.push(Decoded {
            ts,
            peer_ip: m.peer_ip,
            peer_asn: asn(m.peer_asn),
            event: RouteEvent::Update {
                withdrawn: SmallVec::new(),
                announced,
                attrs: Some(Arc::new(convert_attrs(&m.attributes, true))),
                from_rib: true,
            },
        });
    }
}

//! A `bgpdump -m` compatible printer: one line per route, byte for byte what
//! RIPE NCC's bgpdump (upstream HEAD, see `docs/bgpdump-compat.md`) prints.
//!
//! It works on bgpkit-parser's [`MrtRecord`] (not on `BgpElem`, which loses
//! STATE records, the RIB header time and Add-Path ids, and reorders
//! announcements and withdrawals) and re-implements bgpdump's print rules:
//!
//! * `TABLE_DUMP|ts|B|…`, `TABLE_DUMP2[_AP]|ts|B|…` (unicast RIBs only, and
//!   only once a PEER_INDEX_TABLE has been seen), `BGP4MP[_ET][_LOCAL][_AP]|
//!   ts[.usec]|A/W|…` and `BGP4MP[_ET]|ts|STATE|peer|as|old|new`; OPEN,
//!   KEEPALIVE, NOTIFICATION and ROUTE-REFRESH print nothing.
//! * Inside one UPDATE: classic withdrawals, MP_UNREACH, classic
//!   announcements, MP_REACH (AFI 1/2, SAFI 1/2/3 only).
//! * NLRI host bits are masked (`11.13.0.0/13` prints as `11.8.0.0/13`), and a
//!   truncated classic NLRI list prints the prefixes before the cut (bgpkit
//!   drops the list and keeps its bytes in a `MalformedNlri` warning, which
//!   is re-read here).
//! * 2-octet contexts (BGP4MP subtypes 1, 6, 8, 10 and TABLE_DUMP) merge
//!   AS4_PATH and use AS4_AGGREGATOR the way bgpdump does, quirks included
//!   ([`aspath`]).
//! * IPv6 text follows bgpdump's own formatter ([`fmt`]).
//!
//! Lines are written straight into the caller's buffer without per-field
//! allocation: the part of a line before the prefix and the part after it are
//! built once per record and shared by all of its prefixes.

pub mod aspath;
pub mod fmt;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgpkit_parser::error::BgpValidationWarning;
use bgpkit_parser::models::{
    Afi, AsPath, AttributeValue, Attributes, Bgp4MpEnum, Bgp4MpMessage, Bgp4MpStateChange,
    Bgp4MpType, BgpMessage, BgpUpdateMessage, Community, EntryType, MrtMessage, MrtRecord,
    NetworkPrefix, NextHopAddress, Nlri, Origin, PeerIndexTable, RibAfiEntries, Safi,
    TableDumpMessage, TableDumpV2Message, TableDumpV2Type,
};
use ipnet::IpNet;

use self::fmt::{i32_dec, ip, ipv4, ipv6, u32_dec, u32_dec6};

/// bgpdump's AS_TRANS test value.
const AS_TRANS: u32 = 23456;
/// bgpdump's "no address" sentinel (`INADDR_NONE`).
const NONE_V4: Ipv4Addr = Ipv4Addr::BROADCAST;

/// Prints MRT records as `bgpdump -m` does, one line per route. Use one per
/// input file: it remembers the file's TABLE_DUMP_V2 PEER_INDEX_TABLE.
#[derive(Debug, Default)]
pub struct Printer {
    /// Peers of the last PEER_INDEX_TABLE, by index.
    peers: Vec<Option<(IpAddr, u32)>>,
    /// True once a PEER_INDEX_TABLE was seen.
    have_peers: bool,
    /// Scratch: the part of a line before the prefix.
    head: Vec<u8>,
    /// Scratch: the part of a line after the prefix (and path id).
    tail: Vec<u8>,
}

/// Where the attributes of a line come from and how to read them.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Ctx {
    /// 2-octet ASN session: AS4 merge rules apply.
    TwoByte,
    /// 4-octet session or TABLE_DUMP_V2: attributes as they are.
    FourByte,
}

impl Printer {
    /// A printer with no PEER_INDEX_TABLE seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the lines for `rec` to `out` (zero or more, each ending in
    /// `\n`). Never panics, whatever the record holds.
    pub fn write_record(&mut self, rec: &MrtRecord, out: &mut Vec<u8>) {
        let h = &rec.common_header;
        match &rec.message {
            MrtMessage::TableDumpMessage(m) => self.table_dump(h.timestamp, m, out),
            // bgpdump reads one entry per TABLE_DUMP record and ignores the rest.
            MrtMessage::TableDumpMessageBatch(ms) => {
                if let Some(m) = ms.first() {
                    self.table_dump(h.timestamp, m, out);
                }
            }
            MrtMessage::TableDumpV2Message(TableDumpV2Message::PeerIndexTable(t)) => {
                self.peer_table(t)
            }
            MrtMessage::TableDumpV2Message(TableDumpV2Message::RibAfi(r)) => {
                self.rib(h.timestamp, r, out)
            }
            MrtMessage::TableDumpV2Message(_) => {}
            MrtMessage::Bgp4Mp(b) => {
                let et = h.entry_type == EntryType::BGP4MP_ET;
                let usec = if et {
                    Some(h.microsecond_timestamp.unwrap_or(0))
                } else {
                    None
                };
                match b {
                    Bgp4MpEnum::StateChange(s) => self.state(h.timestamp, usec, s, out),
                    Bgp4MpEnum::Message(m) => {
                        if let BgpMessage::Update(u) = &m.bgp_message {
                            self.update(h.timestamp, usec, m, u, out);
                        }
                    }
                }
            }
            MrtMessage::LegacyBgp(_) => {}
        }
    }

    fn peer_table(&mut self, t: &PeerIndexTable) {
        self.have_peers = true;
        self.peers.clear();
        let n = t
            .id_peer_map
            .keys()
            .copied()
            .max()
            .map_or(0, |m| usize::from(m) + 1);
        self.peers.resize(n, None);
        for (&i, p) in &t.id_peer_map {
            if let Some(slot) = self.peers.get_mut(usize::from(i)) {
                *slot = Some((p.peer_ip, p.peer_asn.to_u32()));
            }
        }
    }

    fn table_dump(&mut self, ts: u32, m: &TableDumpMessage, out: &mut Vec<u8>) {
        let a = &m.attributes;
        self.head.clear();
        self.head.extend_from_slice(b"TABLE_DUMP|");
        u32_dec(&mut self.head, ts);
        self.head.extend_from_slice(b"|B|");
        ip(&mut self.head, m.peer_ip);
        self.head.push(b'|');
        u32_dec(&mut self.head, m.peer_asn.to_u32());
        self.head.push(b'|');
        // TABLE_DUMP v1 IPv6 takes its next hop from MP_REACH.
        let nh = match mp_next_hop(a) {
            Some(IpAddr::V6(v6)) => NextHop::V6(v6),
            _ => classic_next_hop(a),
        };
        self.tail.clear();
        write_attrs(&mut self.tail, a, Ctx::TwoByte, nh, false);
        out.extend_from_slice(&self.head);
        write_prefix(out, &m.prefix.prefix, false);
        out.extend_from_slice(&self.tail);
    }

    fn rib(&mut self, ts: u32, r: &RibAfiEntries, out: &mut Vec<u8>) {
        let add_path = match r.rib_type {
            TableDumpV2Type::RibIpv4Unicast | TableDumpV2Type::RibIpv6Unicast => false,
            TableDumpV2Type::RibIpv4UnicastAddPath | TableDumpV2Type::RibIpv6UnicastAddPath => true,
            _ => return,
        };
        if !self.have_peers {
            return;
        }
        for e in &r.rib_entries {
            let Some(Some((peer_ip, peer_as))) = self.peers.get(usize::from(e.peer_index)).copied()
            else {
                continue;
            };
            let a = &e.attributes;
            out.extend_from_slice(if add_path {
                b"TABLE_DUMP2_AP|"
            } else {
                b"TABLE_DUMP2|"
            });
            u32_dec(out, ts);
            out.extend_from_slice(b"|B|");
            ip(out, peer_ip);
            out.push(b'|');
            u32_dec(out, peer_as);
            out.push(b'|');
            write_prefix(out, &r.prefix.prefix, false);
            out.push(b'|');
            if add_path {
                u32_dec(out, e.path_id.unwrap_or(0));
                out.push(b'|');
            }
            let nh = match mp_next_hop(a) {
                Some(IpAddr::V6(v6)) => NextHop::V6(v6),
                _ => classic_next_hop(a),
            };
            write_attrs_after_prefix(out, a, Ctx::FourByte, nh, false);
        }
    }

    fn state(&mut self, ts: u32, usec: Option<u32>, s: &Bgp4MpStateChange, out: &mut Vec<u8>) {
        out.extend_from_slice(if usec.is_some() {
            b"BGP4MP_ET|"
        } else {
            b"BGP4MP|"
        });
        write_ts(out, ts, usec);
        out.extend_from_slice(b"|STATE|");
        ip(out, s.peer_ip);
        out.push(b'|');
        u32_dec(out, s.peer_asn.to_u32());
        out.push(b'|');
        u32_dec(out, s.old_state as u32);
        out.push(b'|');
        u32_dec(out, s.new_state as u32);
        out.push(b'\n');
    }

    fn update(
        &mut self,
        ts: u32,
        usec: Option<u32>,
        m: &Bgp4MpMessage,
        u: &BgpUpdateMessage,
        out: &mut Vec<u8>,
    ) {
        use Bgp4MpType as T;
        let t = m.msg_type;
        let add_path = matches!(
            t,
            T::MessageAddpath
                | T::MessageAs4Addpath
                | T::MessageLocalAddpath
                | T::MessageLocalAs4Addpath
        );
        // bgpdump only treats subtypes 6 and 7 as "sent by the collector";
        // for the LOCAL_ADDPATH subtypes it prints the second address.
        let local = matches!(t, T::MessageLocal | T::MessageAs4Local);
        let second = matches!(t, T::MessageLocalAddpath | T::MessageLocalAs4Addpath);
        let ctx = if matches!(
            t,
            T::Message | T::MessageLocal | T::MessageAddpath | T::MessageLocalAddpath
        ) {
            Ctx::TwoByte
        } else {
            Ctx::FourByte
        };
        let (peer_ip, peer_as) = if second {
            (m.local_ip, m.local_asn.to_u32())
        } else {
            (m.peer_ip, m.peer_asn.to_u32())
        };
        let a = &u.attributes;

        // The line start shared by W and A lines, up to the type letter.
        self.head.clear();
        self.head
            .extend_from_slice(match (usec.is_some(), local, add_path) {
                (false, false, false) => b"BGP4MP|".as_slice(),
                (false, false, true) => b"BGP4MP_AP|",
                (false, true, false) => b"BGP4MP_LOCAL|",
                (false, true, true) => b"BGP4MP_LOCAL_AP|",
                (true, false, false) => b"BGP4MP_ET|",
                (true, false, true) => b"BGP4MP_ET_AP|",
                (true, true, false) => b"BGP4MP_ET_LOCAL|",
                (true, true, true) => b"BGP4MP_ET_LOCAL_AP|",
            });
        write_ts(&mut self.head, ts, usec);
        let type_at = self.head.len() + 1;
        self.head.extend_from_slice(b"|W|");
        ip(&mut self.head, peer_ip);
        self.head.push(b'|');
        u32_dec(&mut self.head, peer_as);
        self.head.push(b'|');

        // Withdrawals: classic, then MP_UNREACH.
        let withdrawn_cut = malformed(a, "withdrawn");
        let mp_unreach = a.iter().find_map(|v| match v {
            AttributeValue::MpUnreachNlri(n) if printable(n) => Some(n),
            _ => None,
        });
        let classic_w: &[NetworkPrefix] = &u.withdrawn_prefixes;
        let cut_w = withdrawn_cut
            .map(|raw| reread_nlri(raw, add_path))
            .unwrap_or_default();
        for p in classic_w
            .iter()
            .chain(cut_w.iter())
            .chain(mp_unreach.map(|n| n.prefixes.as_slice()).unwrap_or(&[]))
        {
            out.extend_from_slice(&self.head);
            write_prefix(out, &p.prefix, true);
            if add_path {
                out.push(b'|');
                u32_dec(out, p.path_id.unwrap_or(0));
            }
            out.push(b'\n');
        }

        // Announcements: classic, then MP_REACH.
        let announced_cut = malformed(a, "announced");
        let cut_a = announced_cut
            .map(|raw| reread_nlri(raw, add_path))
            .unwrap_or_default();
        let mp_reach = a.iter().find_map(|v| match v {
            AttributeValue::MpReachNlri(n) if printable(n) => Some(n),
            _ => None,
        });
        let classic_a: &[NetworkPrefix] = &u.announced_prefixes;
        if classic_a.is_empty()
            && cut_a.is_empty()
            && mp_reach.is_none_or(|n| n.prefixes.is_empty())
        {
            return;
        }
        self.head[type_at] = b'A';
        if !(classic_a.is_empty() && cut_a.is_empty()) {
            self.tail.clear();
            write_attrs_after_prefix(&mut self.tail, a, ctx, classic_next_hop(a), false);
            for p in classic_a.iter().chain(cut_a.iter()) {
                self.announce(out, p, add_path);
            }
        }
        if let Some(n) = mp_reach
            && !n.prefixes.is_empty()
        {
            // MP IPv6 prints the MP next hop in IPv6 text; MP IPv4 prints it
            // dotted, with LOCAL_PREF and MED as signed `%d` (a bgpdump quirk).
            let v6 = n.afi == Afi::Ipv6;
            let nh = match n.next_hop.as_ref().map(first_addr) {
                Some(IpAddr::V6(x)) => NextHop::V6(x),
                Some(IpAddr::V4(x)) => NextHop::V4(x),
                None if v6 => NextHop::V6(Ipv6Addr::UNSPECIFIED),
                None => NextHop::V4(Ipv4Addr::UNSPECIFIED),
            };
            self.tail.clear();
            write_attrs_after_prefix(&mut self.tail, a, ctx, nh, !v6);
            for p in &n.prefixes {
                self.announce(out, p, add_path);
            }
        }
    }

    fn announce(&self, out: &mut Vec<u8>, p: &NetworkPrefix, add_path: bool) {
        out.extend_from_slice(&self.head);
        write_prefix(out, &p.prefix, true);
        out.push(b'|');
        if add_path {
            u32_dec(out, p.path_id.unwrap_or(0));
            out.push(b'|');
        }
        out.extend_from_slice(&self.tail);
    }
}

/// A next hop as bgpdump prints it.
#[derive(Copy, Clone)]
enum NextHop {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

fn write_ts(out: &mut Vec<u8>, ts: u32, usec: Option<u32>) {
    u32_dec(out, ts);
    if let Some(us) = usec {
        out.push(b'.');
        u32_dec6(out, us);
    }
}

/// The prefix, host bits masked when it came from an NLRI list (bgpdump
/// HEAD masks there; its TABLE_DUMP prefixes are printed as stored).
fn write_prefix(out: &mut Vec<u8>, p: &IpNet, mask: bool) {
    match p {
        IpNet::V4(n) => ipv4(out, if mask { n.network() } else { n.addr() }),
        IpNet::V6(n) => ipv6(out, if mask { n.network() } else { n.addr() }),
    }
    out.push(b'/');
    u32_dec(out, u32::from(p.prefix_len()));
}

/// Only AFI 1/2 with SAFI 1/2/3 are printed by bgpdump.
fn printable(n: &Nlri) -> bool {
    matches!(n.afi, Afi::Ipv4 | Afi::Ipv6)
        && matches!(
            n.safi,
            Safi::Unicast | Safi::Multicast | Safi::UnicastMulticast
        )
}

/// The first address of an MP next hop: bgpdump prints the first 16 bytes
/// of a 32-byte next hop, whichever of the two is link-local.
fn first_addr(h: &NextHopAddress) -> IpAddr {
    match *h {
        NextHopAddress::Ipv4(a) => IpAddr::V4(a),
        NextHopAddress::Ipv6(a)
        | NextHopAddress::Ipv6LinkLocal(a, _)
        | NextHopAddress::VpnIpv6(_, a) => IpAddr::V6(a),
        NextHopAddress::VpnIpv6LinkLocal(_, a, _, _) => IpAddr::V6(a),
    }
}

fn mp_next_hop(a: &Attributes) -> Option<IpAddr> {
    a.iter().find_map(|v| match v {
        AttributeValue::MpReachNlri(n) => n.next_hop.as_ref().map(first_addr),
        _ => None,
    })
}

/// NEXT_HOP, or bgpdump's `255.255.255.255` when there is none.
fn classic_next_hop(a: &Attributes) -> NextHop {
    match a.next_hop() {
        Some(IpAddr::V4(v4)) => NextHop::V4(v4),
        Some(IpAddr::V6(v6)) => NextHop::V6(v6),
        None => NextHop::V4(NONE_V4),
    }
}

/// The raw bytes of a classic NLRI list bgpkit could not parse.
fn malformed<'a>(a: &'a Attributes, which: &str) -> Option<&'a [u8]> {
    a.validation_warnings().iter().find_map(|w| match w {
        BgpValidationWarning::MalformedNlri {
            nlri_type,
            raw_bytes,
            ..
        } if *nlri_type == which => Some(raw_bytes.as_slice()),
        _ => None,
    })
}

/// Reads an IPv4 NLRI list the way bgpdump does: prefix after prefix until
/// the bytes run out; a prefix cut short ends the list (it is not printed).
/// A length above 32 ends it too (bgpdump would print stack bytes).
fn reread_nlri(mut b: &[u8], add_path: bool) -> Vec<NetworkPrefix> {
    let mut v = Vec::new();
    loop {
        if b.is_empty() {
            break;
        }
        let mut path_id = None;
        if add_path {
            let Some((id, rest)) = b.split_first_chunk::<4>() else {
                break;
            };
            path_id = Some(u32::from_be_bytes(*id));
            b = rest;
        }
        let Some((&len, rest)) = b.split_first() else {
            break;
        };
        let n = usize::from(len).div_ceil(8);
        if len > 32 || rest.len() < n {
            break;
        }
        let mut o = [0u8; 4];
        o[..n].copy_from_slice(&rest[..n]);
        b = &rest[n..];
        if let Ok(net) = ipnet::Ipv4Net::new(Ipv4Addr::from(o), len) {
            v.push(NetworkPrefix {
                prefix: IpNet::V4(net),
                path_id,
            });
        }
    }
    v
}

/// The aggregator bgpdump prints, if any.
fn aggregator(a: &Attributes, ctx: Ctx) -> (Option<(u32, Ipv4Addr)>, bool) {
    let mut agg = None;
    let mut agg4 = None;
    for v in a.iter() {
        match v {
            AttributeValue::Aggregator { asn, id } if agg.is_none() => {
                agg = Some((asn.to_u32(), *id))
            }
            AttributeValue::As4Aggregator { asn, id } if agg4.is_none() => {
                agg4 = Some((asn.to_u32(), *id))
            }
            _ => {}
        }
    }
    // bgpdump skips the AS4_PATH merge when AGGREGATOR is not AS_TRANS and
    // AS4_AGGREGATOR is present.
    let mut merge_path = true;
    if ctx == Ctx::TwoByte
        && let (Some((as2, _)), Some(a4)) = (agg, agg4)
    {
        if as2 == AS_TRANS {
            agg = Some(a4);
        } else {
            merge_path = false;
        }
    }
    (agg.filter(|(_, id)| *id != NONE_V4), merge_path)
}

/// The attribute fields of an A or B line, from the AS path to the end,
/// for a line whose prefix field (and path id) has just been written.
fn write_attrs_after_prefix(
    out: &mut Vec<u8>,
    a: &Attributes,
    ctx: Ctx,
    nh: NextHop,
    signed: bool,
) {
    write_attrs_inner(out, a, ctx, nh, signed);
}

/// Same as [`write_attrs_after_prefix`] but starting with the `|` that
/// follows the prefix (TABLE_DUMP v1 builds its tail before the prefix).
fn write_attrs(out: &mut Vec<u8>, a: &Attributes, ctx: Ctx, nh: NextHop, signed: bool) {
    out.push(b'|');
    write_attrs_inner(out, a, ctx, nh, signed);
}

fn write_attrs_inner(out: &mut Vec<u8>, a: &Attributes, ctx: Ctx, nh: NextHop, signed: bool) {
    let mut origin = None;
    let mut path: Option<&AsPath> = None;
    let mut path4: Option<&AsPath> = None;
    let mut lp = None;
    let mut med = None;
    let mut atomic = false;
    let mut comms = None;
    for v in a.iter() {
        match v {
            AttributeValue::Origin(o) if origin.is_none() => origin = Some(*o),
            AttributeValue::AsPath(p) if path.is_none() => path = Some(p),
            AttributeValue::As4Path(p) if path4.is_none() => path4 = Some(p),
            AttributeValue::LocalPreference(x) if lp.is_none() => lp = Some(*x),
            AttributeValue::MultiExitDiscriminator(x) if med.is_none() => med = Some(*x),
            AttributeValue::AtomicAggregate => atomic = true,
            AttributeValue::Communities(c) if comms.is_none() => comms = Some(c.as_slice()),
            _ => {}
        }
    }
    let (agg, merge_path) = aggregator(a, ctx);
    if let Some(p) = path {
        match (ctx, path4) {
            (Ctx::TwoByte, Some(p4)) if merge_path => match aspath::merge_quirk(p, p4) {
                Some(m) => aspath::write(out, &m),
                None => aspath::write(out, p),
            },
            _ => aspath::write(out, p),
        }
    }
    out.push(b'|');
    out.extend_from_slice(match origin {
        Some(Origin::IGP) => b"IGP".as_slice(),
        Some(Origin::EGP) => b"EGP",
        _ => b"INCOMPLETE",
    });
    out.push(b'|');
    match nh {
        NextHop::V4(v4) => ipv4(out, v4),
        NextHop::V6(v6) => ipv6(out, v6),
    }
    out.push(b'|');
    let num = if signed { i32_dec } else { u32_dec };
    num(out, lp.unwrap_or(0));
    out.push(b'|');
    num(out, med.unwrap_or(0));
    out.push(b'|');
    if let Some(cs) = comms {
        let mut first = true;
        for c in cs {
            if !first {
                out.push(b' ');
            }
            first = false;
            match c {
                Community::NoExport => out.extend_from_slice(b"no-export"),
                Community::NoAdvertise => out.extend_from_slice(b"no-advertise"),
                Community::NoExportSubConfed => out.extend_from_slice(b"local-AS"),
                Community::Custom(asn, val) => {
                    u32_dec(out, asn.to_u32() & 0xffff);
                    out.push(b':');
                    u32_dec(out, u32::from(*val));
                }
            }
        }
    }
    out.push(b'|');
    out.extend_from_slice(if atomic { b"AG|" } else { b"NAG|" });
    if let Some((asn, id)) = agg {
        u32_dec(out, asn);
        out.push(b' ');
        ipv4(out, id);
    }
    out.extend_from_slice(b"|\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rereads_truncated_nlri_like_bgpdump() {
        // 11.13.0.0/13 (host bits set) then a /11 cut after one byte.
        let v = reread_nlri(&[13, 11, 13, 11, 13], false);
        assert_eq!(v.len(), 1);
        let mut out = Vec::new();
        write_prefix(&mut out, &v[0].prefix, true);
        assert_eq!(out, b"11.8.0.0/13");
        assert!(reread_nlri(&[0, 0, 0], true).is_empty());
        assert_eq!(reread_nlri(&[0, 0, 0, 7, 8, 10], true)[0].path_id, Some(7));
        assert!(reread_nlri(&[40, 1, 2, 3, 4, 5], false).is_empty());
    }
}

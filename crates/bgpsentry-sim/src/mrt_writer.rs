//! A small MRT encoder (RFC 6396, RFC 4271, RFC 4760, RFC 6793) for what the
//! simulator writes: BGP4MP_ET MESSAGE_AS4 UPDATEs with microsecond
//! timestamps, and TABLE_DUMP_V2 RIB dumps (PEER_INDEX_TABLE plus
//! RIB_IPV4_UNICAST / RIB_IPV6_UNICAST). Written by hand rather than through
//! bgpkit's encoder so that the bytes are fully determined by the input
//! (no hash-map order) and every field is under our control.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::error::SimError;

/// MRT type BGP4MP_ET.
pub const BGP4MP_ET: u16 = 17;
/// MRT type TABLE_DUMP_V2.
pub const TABLE_DUMP_V2: u16 = 13;
/// BGP4MP subtype MESSAGE_AS4.
pub const MESSAGE_AS4: u16 = 4;
/// Largest BGP message (RFC 4271).
pub const MAX_BGP_MESSAGE: usize = 4096;
/// The collector's own ASN in BGP4MP records (RIPE RIS's).
pub const COLLECTOR_ASN: u32 = 12654;

/// A collector peer as the MRT files name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MrtPeer {
    /// Peer ASN.
    pub asn: u32,
    /// Peer address (IPv4 session; IPv6 routes ride on it with MP-BGP).
    pub ip: Ipv4Addr,
    /// IPv6 next hop used for IPv6 routes.
    pub ip6: Ipv6Addr,
}

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}
fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn len16(n: usize, what: &str) -> Result<u16, SimError> {
    u16::try_from(n).map_err(|_| SimError::Encode(format!("{what} too long ({n} bytes)")))
}

fn put_prefix(out: &mut Vec<u8>, p: &IpNet) {
    let len = p.prefix_len();
    out.push(len);
    let n = usize::from(len).div_ceil(8);
    match p.network() {
        IpAddr::V4(a) => out.extend_from_slice(&a.octets()[..n]),
        IpAddr::V6(a) => out.extend_from_slice(&a.octets()[..n]),
    }
}

fn put_attr(out: &mut Vec<u8>, flags: u8, typ: u8, value: &[u8]) -> Result<(), SimError> {
    if value.len() > 255 {
        out.push(flags | 0x10);
        out.push(typ);
        put_u16(out, len16(value.len(), "attribute")?);
    } else {
        out.push(flags);
        out.push(typ);
        out.push(value.len() as u8);
    }
    out.extend_from_slice(value);
    Ok(())
}

/// ORIGIN (IGP) and AS_PATH with 4-octet ASNs.
fn put_origin_path(out: &mut Vec<u8>, path: &[u32]) -> Result<(), SimError> {
    put_attr(out, 0x40, 1, &[0])?;
    let mut v = Vec::with_capacity(2 + path.len() * 4);
    for chunk in path.chunks(255) {
        v.push(2); // AS_SEQUENCE
        v.push(chunk.len() as u8);
        for a in chunk {
            put_u32(&mut v, *a);
        }
    }
    put_attr(out, 0x40, 2, &v)
}

fn split_afi(ps: &[IpNet]) -> (Vec<IpNet>, Vec<IpNet>) {
    ps.iter().partition(|p| matches!(p, IpNet::V4(_)))
}

/// The body of a BGP UPDATE (without the 19-byte header).
fn update_body(
    peer: &MrtPeer,
    withdrawn: &[IpNet],
    announced: &[IpNet],
    path: &[u32],
) -> Result<Vec<u8>, SimError> {
    let (w4, w6) = split_afi(withdrawn);
    let (a4, a6) = split_afi(announced);
    let mut wbytes = Vec::new();
    for p in &w4 {
        put_prefix(&mut wbytes, p);
    }
    let mut attrs = Vec::new();
    if !announced.is_empty() {
        put_origin_path(&mut attrs, path)?;
        if !a4.is_empty() {
            put_attr(&mut attrs, 0x40, 3, &peer.ip.octets())?;
        }
    }
    if !a6.is_empty() {
        let mut v = Vec::new();
        put_u16(&mut v, 2);
        v.push(1);
        v.push(16);
        v.extend_from_slice(&peer.ip6.octets());
        v.push(0);
        for p in &a6 {
            put_prefix(&mut v, p);
        }
        put_attr(&mut attrs, 0x80, 14, &v)?;
    }
    if !w6.is_empty() {
        let mut v = Vec::new();
        put_u16(&mut v, 2);
        v.push(1);
        for p in &w6 {
            put_prefix(&mut v, p);
        }
        put_attr(&mut attrs, 0x80, 15, &v)?;
    }
    let mut body = Vec::new();
    put_u16(&mut body, len16(wbytes.len(), "withdrawn routes")?);
    body.extend_from_slice(&wbytes);
    put_u16(&mut body, len16(attrs.len(), "path attributes")?);
    body.extend_from_slice(&attrs);
    for p in &a4 {
        put_prefix(&mut body, p);
    }
    Ok(body)
}

/// Appends one BGP4MP_ET MESSAGE_AS4 record holding one UPDATE. The caller
/// keeps the prefix lists small enough for a 4096-byte message
/// (see [`MAX_PREFIXES_PER_UPDATE`]).
pub fn write_update(
    out: &mut Vec<u8>,
    ts_micros: i64,
    peer: &MrtPeer,
    local_ip: Ipv4Addr,
    withdrawn: &[IpNet],
    announced: &[IpNet],
    path: &[u32],
) -> Result<(), SimError> {
    let body = update_body(peer, withdrawn, announced, path)?;
    let msg_len = 19 + body.len();
    if msg_len > MAX_BGP_MESSAGE {
        return Err(SimError::Encode(format!(
            "UPDATE of {msg_len} bytes exceeds 4096"
        )));
    }
    let secs = u32::try_from(ts_micros.div_euclid(1_000_000))
        .map_err(|_| SimError::Encode("timestamp outside 1970..2106".into()))?;
    let micros = ts_micros.rem_euclid(1_000_000) as u32;
    let mut rec = Vec::with_capacity(msg_len + 40);
    put_u32(&mut rec, micros);
    put_u32(&mut rec, peer.asn);
    put_u32(&mut rec, COLLECTOR_ASN);
    put_u16(&mut rec, 0); // interface index
    put_u16(&mut rec, 1); // AFI of the session addresses: IPv4
    rec.extend_from_slice(&peer.ip.octets());
    rec.extend_from_slice(&local_ip.octets());
    rec.extend_from_slice(&[0xff; 16]);
    put_u16(&mut rec, msg_len as u16);
    rec.push(2); // UPDATE
    rec.extend_from_slice(&body);
    put_u32(out, secs);
    put_u16(out, BGP4MP_ET);
    put_u16(out, MESSAGE_AS4);
    put_u32(out, rec.len() as u32);
    out.extend_from_slice(&rec);
    Ok(())
}

/// Prefixes per UPDATE so that a message stays far below 4096 bytes even
/// with long paths (17 bytes per IPv6 /128 at worst).
pub const MAX_PREFIXES_PER_UPDATE: usize = 150;

/// One RIB prefix: (prefix, [(peer index, AS path)]).
pub type RibEntry<'a> = (IpNet, Vec<(u16, &'a [u32])>);

/// Writes a TABLE_DUMP_V2 RIB: `entries` are (prefix, [(peer index, path)]),
/// already in the order to write.
pub fn write_rib(
    out: &mut Vec<u8>,
    ts: u32,
    collector_id: Ipv4Addr,
    peers: &[MrtPeer],
    entries: &[RibEntry<'_>],
) -> Result<(), SimError> {
    let mut body = Vec::new();
    body.extend_from_slice(&collector_id.octets());
    put_u16(&mut body, 0); // view name length
    put_u16(&mut body, len16(peers.len(), "peer table")?);
    for p in peers {
        body.push(0x02); // AS4, IPv4 address
        body.extend_from_slice(&p.ip.octets());
        body.extend_from_slice(&p.ip.octets());
        put_u32(&mut body, p.asn);
    }
    put_u32(out, ts);
    put_u16(out, TABLE_DUMP_V2);
    put_u16(out, 1);
    put_u32(out, body.len() as u32);
    out.extend_from_slice(&body);
    for (seq, (prefix, routes)) in entries.iter().enumerate() {
        let mut body = Vec::new();
        put_u32(&mut body, seq as u32);
        put_prefix(&mut body, prefix);
        put_u16(&mut body, len16(routes.len(), "RIB entry count")?);
        for (idx, path) in routes {
            let peer = peers
                .get(usize::from(*idx))
                .ok_or_else(|| SimError::Encode(format!("peer index {idx} not in the table")))?;
            let mut attrs = Vec::new();
            put_origin_path(&mut attrs, path)?;
            match prefix {
                IpNet::V4(_) => put_attr(&mut attrs, 0x40, 3, &peer.ip.octets())?,
                IpNet::V6(_) => {
                    // RFC 6396 §4.3.4: only the next-hop length and address.
                    let mut v = vec![16u8];
                    v.extend_from_slice(&peer.ip6.octets());
                    put_attr(&mut attrs, 0x80, 14, &v)?;
                }
            }
            put_u16(&mut body, *idx);
            put_u32(&mut body, ts);
            put_u16(&mut body, len16(attrs.len(), "RIB attributes")?);
            body.extend_from_slice(&attrs);
        }
        let subtype = if matches!(prefix, IpNet::V4(_)) { 2 } else { 4 };
        put_u32(out, ts);
        put_u16(out, TABLE_DUMP_V2);
        put_u16(out, subtype);
        put_u32(out, body.len() as u32);
        out.extend_from_slice(&body);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use bgpsentry_core::model::RouteEvent;
    use bgpsentry_core::mrt::{RecordReader, StreamDecoder};

    use super::*;

    fn peer() -> MrtPeer {
        MrtPeer {
            asn: 4_200_000,
            ip: Ipv4Addr::new(185, 1, 0, 1),
            ip6: "2001:7f8::1".parse().expect("v6"),
        }
    }

    #[test]
    fn our_decoder_reads_updates_and_ribs() {
        let mut b = Vec::new();
        let p4: IpNet = "24.0.0.0/22".parse().expect("p");
        let p6: IpNet = "2a00:1000::/32".parse().expect("p");
        write_update(
            &mut b,
            1_704_067_200_123_456,
            &peer(),
            Ipv4Addr::new(193, 0, 4, 28),
            &[],
            &[p4, p6],
            &[4_200_000, 3356, 13335],
        )
        .expect("write");
        write_update(
            &mut b,
            1_704_067_201_000_000,
            &peer(),
            Ipv4Addr::new(193, 0, 4, 28),
            &[p4, p6],
            &[],
            &[],
        )
        .expect("write");
        let path: Vec<u32> = vec![4_200_000, 174];
        write_rib(
            &mut b,
            1_704_067_200,
            Ipv4Addr::new(193, 0, 4, 28),
            &[peer()],
            &[(p4, vec![(0, &path)]), (p6, vec![(0, &path)])],
        )
        .expect("rib");
        let mut dec = StreamDecoder::new();
        let mut msgs = Vec::new();
        for r in RecordReader::new(Cursor::new(b)) {
            let out = dec.decode(r.expect("framed"));
            assert!(out.damage.is_empty(), "{:?}", out.damage);
            msgs.extend(out.messages);
        }
        assert_eq!(msgs.len(), 4);
        assert_eq!(msgs[0].ts.0, 1_704_067_200_123_456);
        match &msgs[0].event {
            RouteEvent::Update {
                announced, attrs, ..
            } => {
                assert_eq!(announced.len(), 2);
                let a = attrs.as_ref().expect("attrs");
                assert_eq!(a.as_path.to_string(), "4200000 3356 13335");
            }
            e => panic!("{e:?}"),
        }
        match &msgs[1].event {
            RouteEvent::Update {
                withdrawn,
                announced,
                ..
            } => {
                assert_eq!((withdrawn.len(), announced.len()), (2, 0));
            }
            e => panic!("{e:?}"),
        }
        match &msgs[3].event {
            RouteEvent::Update {
                announced,
                from_rib,
                ..
            } => {
                assert!(*from_rib);
                assert_eq!(announced[0].prefix, p6);
            }
            e => panic!("{e:?}"),
        }
    }
}

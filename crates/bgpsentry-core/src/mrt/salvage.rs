//! Recovering BGP UPDATEs that a collector wrote truncated.
//!
//! Some collectors (route-views2 in 2008 among them, see `shared/data/SOURCES.md` 1b)
//! wrote BGP UPDATEs longer than 4,096 bytes cut to their buffer: the BGP header's
//! length field says 4,069-4,096 bytes while the MRT record holds fewer. Each such
//! record carries about a thousand withdrawn or announced prefixes. A decoder that
//! drops the record loses all of them and leaves stale routes behind; `bgpdump -m`
//! prints every prefix that fits whole. This module does the same: it rebuilds the
//! record with consistent lengths, keeping every complete withdrawn prefix and, when
//! the path attributes are complete, every complete NLRI prefix, and reports what
//! was kept so the caller can count the record as partial damage.

use bgpkit_parser::ParserError;
use bgpkit_parser::models::{EntryType, MrtRecord};
use bgpkit_parser::parser::mrt::mrt_record::RawMrtRecord;
use bytes::{BufMut, Bytes, BytesMut};

use super::reader::DamageKind;

/// BGP message header: 16-byte marker, 2-byte length, 1-byte type.
const BGP_HEADER: usize = 19;
/// BGP message type UPDATE.
const BGP_UPDATE: u8 = 2;

/// What was recovered from a truncated UPDATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Salvaged {
    /// Length the BGP header announced.
    pub declared: u64,
    /// BGP message bytes the record actually holds.
    pub present: u64,
    /// Complete withdrawn prefixes kept.
    pub withdrawn: u64,
    /// Complete announced (NLRI) prefixes kept.
    pub announced: u64,
}

impl Salvaged {
    /// The damage to report for the record.
    pub fn damage(&self) -> DamageKind {
        DamageKind::PartialUpdate(*self)
    }
}

/// Parses a framed record; when it fails only because its BGP UPDATE was
/// truncated by the collector, parses what fits and says what was kept.
pub fn parse_record(raw: RawMrtRecord) -> Result<(MrtRecord, Option<Salvaged>), ParserError> {
    let header = raw.common_header;
    let header_bytes = raw.header_bytes.clone();
    let body = raw.message_bytes.clone();
    match raw.parse() {
        Ok(r) => Ok((r, None)),
        Err(e) => {
            let Some((repaired, salvaged)) = repair(header.entry_type, header.entry_subtype, &body)
            else {
                return Err(e);
            };
            let mut common_header = header;
            common_header.length = u32::try_from(repaired.len()).unwrap_or(u32::MAX);
            let record = RawMrtRecord {
                common_header,
                header_bytes,
                message_bytes: repaired,
            }
            .parse()
            // The repaired record failing too means the damage was not (only) the cut:
            // report the original error.
            .map_err(|_| e)?;
            Ok((record, Some(salvaged)))
        }
    }
}

/// Width of the ASNs in a BGP4MP message subtype without ADD-PATH, or `None`
/// for subtypes that carry no plain BGP message.
fn asn_width(subtype: u16) -> Option<usize> {
    match subtype {
        1 | 6 => Some(2), // MESSAGE, MESSAGE_LOCAL
        4 | 7 => Some(4), // MESSAGE_AS4, MESSAGE_AS4_LOCAL
        _ => None,
    }
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 2)?;
    Some(usize::from(u16::from_be_bytes([s[0], s[1]])))
}

/// Bytes of the complete IPv4 prefixes at the start of `b`, and their count.
/// `None` when a prefix length is impossible (the damage is not a cut).
fn complete_prefixes(b: &[u8]) -> Option<(usize, u64)> {
    let (mut i, mut n) = (0usize, 0u64);
    while let Some(&len) = b.get(i) {
        if len > 32 {
            return None;
        }
        let end = i + 1 + usize::from(len).div_ceil(8);
        if end > b.len() {
            break;
        }
        i = end;
        n += 1;
    }
    Some((i, n))
}

/// Rebuilds a BGP4MP body whose UPDATE is shorter than its BGP header says,
/// keeping what fits whole. `None` when the record is not such a cut.
fn repair(entry_type: EntryType, subtype: u16, body: &[u8]) -> Option<(Bytes, Salvaged)> {
    if !matches!(entry_type, EntryType::BGP4MP | EntryType::BGP4MP_ET) {
        return None;
    }
    let asn = asn_width(subtype)?;
    let afi_at = 2 * asn + 2;
    let ip_len = match be16(body, afi_at)? {
        1 => 4,
        2 => 16,
        _ => return None,
    };
    let bgp_at = afi_at + 2 + 2 * ip_len;
    let bgp = body.get(bgp_at..)?;
    if bgp.len() < BGP_HEADER + 2 || bgp[18] != BGP_UPDATE || bgp[..16].iter().any(|&b| b != 0xff) {
        return None;
    }
    let declared = be16(bgp, 16)?;
    if declared <= bgp.len() {
        return None;
    }
    let withdrawn_len = be16(bgp, BGP_HEADER)?;
    let w_start = BGP_HEADER + 2;
    let w_end = w_start + withdrawn_len;
    let (w_keep, withdrawn, attrs, nlri) = if w_end > bgp.len() {
        // Cut inside the withdrawn routes: keep those that fit, nothing else.
        let (keep, n) = complete_prefixes(&bgp[w_start..])?;
        (keep, n, &[][..], &[][..])
    } else {
        let (keep, n) = complete_prefixes(&bgp[w_start..w_end])?;
        if keep != withdrawn_len {
            return None;
        }
        match be16(bgp, w_end) {
            Some(attr_len) if w_end + 2 + attr_len <= bgp.len() => {
                let a_start = w_end + 2;
                let n_start = a_start + attr_len;
                let (n_keep, _) = complete_prefixes(&bgp[n_start..])?;
                (
                    keep,
                    n,
                    &bgp[a_start..n_start],
                    &bgp[n_start..n_start + n_keep],
                )
            }
            // Cut inside the path attributes: the announcements cannot be read.
            _ => (keep, n, &[][..], &[][..]),
        }
    };
    let announced = complete_prefixes(nlri).map_or(0, |(_, n)| n);
    let new_len = BGP_HEADER + 2 + w_keep + 2 + attrs.len() + nlri.len();
    let mut out = BytesMut::with_capacity(bgp_at + new_len);
    out.put_slice(&body[..bgp_at]);
    out.put_slice(&bgp[..16]);
    out.put_u16(u16::try_from(new_len).ok()?);
    out.put_u8(BGP_UPDATE);
    out.put_u16(u16::try_from(w_keep).ok()?);
    out.put_slice(&bgp[w_start..w_start + w_keep]);
    out.put_u16(u16::try_from(attrs.len()).ok()?);
    out.put_slice(attrs);
    out.put_slice(nlri);
    Some((
        out.freeze(),
        Salvaged {
            declared: declared as u64,
            present: bgp.len() as u64,
            withdrawn,
            announced,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A BGP4MP MESSAGE (2-byte ASNs, IPv4) body around `bgp`.
    fn body(bgp: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 1, 0, 2, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2];
        b.extend_from_slice(bgp);
        b
    }

    fn update(declared: u16, rest: &[u8]) -> Vec<u8> {
        let mut m = vec![0xff; 16];
        m.extend_from_slice(&declared.to_be_bytes());
        m.push(BGP_UPDATE);
        m.extend_from_slice(rest);
        m
    }

    #[test]
    fn withdrawals_cut_mid_prefix_keep_the_complete_ones() {
        // withdrawn length 12 announces 10.0.0.0/8, 10.1.0.0/16, 10.2.3.0/24 + more;
        // the record stops inside the third prefix.
        let rest = [0, 12, 8, 10, 16, 10, 1, 24, 10, 2];
        let b = body(&update(40, &rest));
        let (repaired, s) = repair(EntryType::BGP4MP, 1, &b).expect("a cut");
        assert_eq!((s.withdrawn, s.announced, s.declared), (2, 0, 40));
        let bgp = &repaired[16..];
        assert_eq!(be16(bgp, 16), Some(bgp.len()));
        assert_eq!(&bgp[19..], &[0, 5, 8, 10, 16, 10, 1, 0, 0]);
    }

    #[test]
    fn announcements_cut_keep_attributes_and_complete_nlri() {
        // no withdrawals, 3 bytes of attributes, NLRI 10.0.0.0/8 then a cut /24.
        let rest = [0, 0, 0, 3, 0x40, 1, 0, 8, 10, 24, 10];
        let b = body(&update(60, &rest));
        let (repaired, s) = repair(EntryType::BGP4MP, 1, &b).expect("a cut");
        assert_eq!((s.withdrawn, s.announced), (0, 1));
        assert_eq!(&repaired[16 + 19..], &[0, 0, 0, 3, 0x40, 1, 0, 8, 10]);
    }

    #[test]
    fn complete_or_corrupt_messages_are_not_repaired() {
        let whole = update(19 + 4, &[0, 0, 0, 0]);
        assert_eq!(repair(EntryType::BGP4MP, 1, &body(&whole)), None);
        let bad_prefix = update(40, &[0, 12, 99, 10]);
        assert_eq!(repair(EntryType::BGP4MP, 1, &body(&bad_prefix)), None);
        let add_path = update(40, &[0, 12, 8, 10]);
        assert_eq!(repair(EntryType::BGP4MP, 8, &body(&add_path)), None);
        assert_eq!(repair(EntryType::TABLE_DUMP_V2, 1, &body(&add_path)), None);
        assert_eq!(repair(EntryType::BGP4MP, 1, &[0, 1]), None);
    }
}

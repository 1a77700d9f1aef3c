//! MRT framing with byte offsets and resynchronisation.
//!
//! Archives arrive damaged: cut off mid-record by an interrupted download,
//! with a corrupt record in the middle, or with garbage spliced in. This
//! reader frames records itself so that every problem is reported with the
//! byte offset where it sits, every valid record before the damage is
//! delivered, and — when a header makes no sense — it scans forward for the
//! next plausible header (one that is followed by another plausible header,
//! or by the exact end of the stream) instead of giving up on the file.
//!
//! A header's length is trusted only when what it points to makes sense:
//! at `offset + 12 + length` there must be another plausible header (known
//! type, sane length, a timestamp within a day) or the exact end of the
//! stream. Otherwise, when a plausible chain of records starts inside the
//! body the header announces, the length is damage
//! ([`DamageKind::BadLength`]): the record is skipped up to that chain, so a
//! corrupted length costs that one record, not the megabytes it announces.
//! Without such a chain the record is whole and garbage follows it (skipped
//! next), or the stream was cut inside it (truncated).
//!
//! Record bodies are not decoded here (see [`super::decode`]); the reader
//! hands out [`RawMrtRecord`]s so decoding can happen on another thread.

use std::fmt;
use std::io::{self, Read};

use bgpkit_parser::ParserError;
use bgpkit_parser::models::EntryType;
use bgpkit_parser::parser::mrt::mrt_record::{RawMrtRecord, chunk_mrt_record};

use super::salvage::Salvaged;

/// Largest record body we accept, as bgpkit-parser does (16 MiB).
pub const MAX_RECORD_LEN: u32 = 16 * 1024 * 1024;
/// Largest body accepted for a header found while resynchronising.
const MAX_RESYNC_LEN: u32 = 1024 * 1024;
/// While resynchronising, a header's timestamp must be this close to the last
/// good one (seconds), when there was one.
const RESYNC_TS_WINDOW: i64 = 86_400;
/// Timestamps a real header may carry: 1995-01-01 .. 2100-01-01.
const PLAUSIBLE_TS: std::ops::Range<u32> = 788_918_400..4_102_444_800;

/// One framed record and where it started in the decompressed stream.
#[derive(Debug, Clone)]
pub struct FramedRecord {
    /// Byte offset of the record's header in the decompressed stream.
    pub offset: u64,
    /// The record, body not yet decoded.
    pub raw: RawMrtRecord,
}

/// What went wrong at one place in a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DamageKind {
    /// The stream ended inside a record.
    Truncated {
        /// Bytes the header announced (header included).
        expected: u64,
        /// Bytes actually present.
        got: u64,
    },
    /// A record's length does not lead to another record: the record was
    /// skipped and the reader resynchronised on the next plausible header.
    BadLength {
        /// The body length its header announced.
        announced: u32,
        /// Bytes skipped: the damaged record, up to the next record.
        skipped: u64,
    },
    /// Bytes that are not MRT were skipped.
    Garbage {
        /// How many bytes were skipped.
        skipped: u64,
        /// True when a plausible record followed; false when the stream ended.
        resynced: bool,
    },
    /// The record is framed correctly but its body does not decode.
    Undecodable(String),
    /// A valid MRT record of a type or subtype bgpsentry does not use.
    Unsupported(String),
    /// Reading the stream failed (decompression error, I/O error).
    Io(String),
    /// The input holds no bytes at all. Not reported by [`RecordReader`]
    /// (a file being followed may be empty for now); `dump` and `replay`
    /// report it for an input they were asked to read.
    Empty,
    /// A BGP UPDATE the collector wrote truncated: what fitted whole was decoded,
    /// the rest of the message is lost.
    PartialUpdate(Salvaged),
}

impl DamageKind {
    /// A short, stable reason used to count damage by kind.
    pub fn reason(&self) -> String {
        match self {
            DamageKind::Truncated { .. } => "truncated record".into(),
            DamageKind::Garbage { .. } => "garbage bytes skipped".into(),
            DamageKind::BadLength { .. } => "record with an implausible length skipped".into(),
            DamageKind::Undecodable(m) => format!("undecodable record: {}", first_words(m)),
            DamageKind::Unsupported(m) => format!("unsupported: {m}"),
            DamageKind::Io(m) => format!("read error: {}", first_words(m)),
            DamageKind::PartialUpdate(_) => "partial update (truncated by the collector)".into(),
            DamageKind::Empty => "empty input".into(),
        }
    }

    /// True when nothing after this point can be read.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            DamageKind::Truncated { .. } | DamageKind::Io(_) | DamageKind::Empty
        ) || matches!(
            self,
            DamageKind::Garbage {
                resynced: false,
                ..
            }
        )
    }
}

fn first_words(m: &str) -> String {
    m.split_whitespace().take(8).collect::<Vec<_>>().join(" ")
}

impl fmt::Display for DamageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DamageKind::Truncated { expected, got } => {
                write!(
                    f,
                    "truncated record: header announces {expected} bytes, stream ends after {got}"
                )
            }
            DamageKind::Garbage {
                skipped,
                resynced: true,
            } => {
                write!(
                    f,
                    "{skipped} bytes of garbage skipped, resynchronised on the next record"
                )
            }
            DamageKind::Garbage {
                skipped,
                resynced: false,
            } => {
                write!(f, "{skipped} bytes of garbage up to the end of the stream")
            }
            DamageKind::BadLength { announced, skipped } => write!(
                f,
                "record header announces a {announced}-byte body but no MRT record follows it: \
                 skipped 1 record ({skipped} bytes), resynchronised on the next record"
            ),
            DamageKind::Undecodable(m) => write!(f, "record does not decode: {m}"),
            DamageKind::Unsupported(m) => write!(f, "unsupported record: {m}"),
            DamageKind::Io(m) => write!(f, "read error: {m}"),
            DamageKind::Empty => f.write_str("empty input, no MRT records"),
            DamageKind::PartialUpdate(s) => write!(
                f,
                "BGP UPDATE truncated by the collector: its header says {} bytes, the record holds {}; \
                 kept {} withdrawn and {} announced prefixes that fit whole, the rest is lost",
                s.declared, s.present, s.withdrawn, s.announced
            ),
        }
    }
}

/// Damage at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// Byte offset in the decompressed stream.
    pub offset: u64,
    /// What is wrong there.
    pub kind: DamageKind,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}: {}", self.offset, self.kind)
    }
}

impl std::error::Error for Damage {}

/// A buffered reader with arbitrary look-ahead, so headers can be checked
/// before they are consumed.
struct Lookahead<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    eof: bool,
    error: Option<io::Error>,
}

const CHUNK: usize = 256 * 1024;

impl<R: Read> Lookahead<R> {
    fn new(inner: R) -> Self {
        Lookahead {
            inner,
            buf: Vec::with_capacity(CHUNK),
            pos: 0,
            base: 0,
            eof: false,
            error: None,
        }
    }

    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Makes at least `n` bytes available after `pos`, unless the stream ends.
    fn fill(&mut self, n: usize) {
        while self.buf.len() - self.pos < n && !self.eof {
            if self.pos > 0 && self.pos >= self.buf.len() / 2 {
                self.buf.drain(..self.pos);
                self.base += self.pos as u64;
                self.pos = 0;
            }
            let old = self.buf.len();
            let want = CHUNK.max(n - (old - self.pos));
            self.buf.resize(old + want, 0);
            match self.inner.read(&mut self.buf[old..]) {
                Ok(0) => {
                    self.buf.truncate(old);
                    self.eof = true;
                }
                Ok(k) => self.buf.truncate(old + k),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.buf.truncate(old),
                Err(e) => {
                    self.buf.truncate(old);
                    self.eof = true;
                    self.error = Some(e);
                }
            }
        }
    }

    fn peek(&mut self, n: usize) -> &[u8] {
        self.fill(n);
        let end = (self.pos + n).min(self.buf.len());
        &self.buf[self.pos..end]
    }

    /// Bytes available from `pos` up to `n`, looking ahead from `at` bytes past `pos`.
    fn peek_at(&mut self, at: usize, n: usize) -> &[u8] {
        self.fill(at + n);
        let start = (self.pos + at).min(self.buf.len());
        let end = (self.pos + at + n).min(self.buf.len());
        &self.buf[start..end]
    }

    fn skip(&mut self, n: usize) {
        self.fill(n);
        self.pos = (self.pos + n).min(self.buf.len());
    }

    fn at_end(&mut self) -> bool {
        self.peek(1).is_empty()
    }
}

impl<R: Read> Read for Lookahead<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.buf.len() {
            if self.eof {
                return match self.error.take() {
                    Some(e) => Err(e),
                    None => Ok(0),
                };
            }
            // Large reads bypass the buffer once it is drained.
            if out.len() >= CHUNK {
                self.base += self.buf.len() as u64;
                self.buf.clear();
                self.pos = 0;
                let k = self.inner.read(out)?;
                self.base += k as u64;
                return Ok(k);
            }
            self.fill(1);
        }
        let k = out.len().min(self.buf.len() - self.pos);
        out[..k].copy_from_slice(&self.buf[self.pos..self.pos + k]);
        self.pos += k;
        Ok(k)
    }
}

/// A parsed view of the 12 fixed header bytes.
#[derive(Copy, Clone, Debug)]
struct HeaderView {
    ts: u32,
    etype: u16,
    subtype: u16,
    len: u32,
}

impl HeaderView {
    fn parse(b: &[u8]) -> Option<HeaderView> {
        if b.len() < 12 {
            return None;
        }
        Some(HeaderView {
            ts: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            etype: u16::from_be_bytes([b[4], b[5]]),
            subtype: u16::from_be_bytes([b[6], b[7]]),
            len: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
        })
    }

    /// True for the types bgpsentry decodes, with a subtype in range.
    fn is_supported(&self) -> bool {
        match self.etype {
            12 => (1..=2).contains(&self.subtype),
            13 => (1..=13).contains(&self.subtype),
            16 => self.subtype <= 11,
            17 => self.subtype <= 11 && self.len >= 4,
            _ => false,
        }
    }

    /// True for a valid MRT type (RFC 6396) we do not decode. Type 0 (the
    /// deprecated NULL) is not one: it is what a run of zero bytes looks like.
    fn is_other_mrt(&self) -> bool {
        self.etype != 0
            && EntryType::try_from(self.etype).is_ok()
            && !matches!(self.etype, 12 | 13 | 16 | 17)
    }
}

/// A read error: a compressed stream that ends early (the decompressor's
/// `UnexpectedEof`, as for a cut `.bz2`) is a truncation, anything else an
/// I/O failure.
fn read_failure(e: io::Error, expected: u64, got: u64) -> DamageKind {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        DamageKind::Truncated { expected, got }
    } else {
        DamageKind::Io(e.to_string())
    }
}

/// Iterator of framed records and damage reports over one decompressed stream.
pub struct RecordReader<R> {
    src: Lookahead<R>,
    last_ts: Option<u32>,
    done: bool,
}

impl<R: Read> RecordReader<R> {
    /// Frames records from a decompressed MRT stream.
    pub fn new(inner: R) -> Self {
        RecordReader {
            src: Lookahead::new(inner),
            last_ts: None,
            done: false,
        }
    }

    /// Current byte offset in the decompressed stream.
    pub fn offset(&self) -> u64 {
        self.src.offset()
    }

    fn plausible_resync(&mut self, at: usize) -> bool {
        let Some(h) = HeaderView::parse(self.src.peek_at(at, 12)) else {
            return false;
        };
        if !h.is_supported() || h.len > MAX_RESYNC_LEN {
            return false;
        }
        match self.last_ts {
            Some(last) => (i64::from(h.ts) - i64::from(last)).abs() <= RESYNC_TS_WINDOW,
            None => PLAUSIBLE_TS.contains(&h.ts),
        }
    }

    /// True when `at` bytes ahead sits a plausible header followed by another
    /// plausible header (or by the exact end of the stream).
    fn chained(&mut self, at: usize) -> bool {
        if !self.plausible_resync(at) {
            return false;
        }
        let Some(h) = HeaderView::parse(self.src.peek_at(at, 12)) else {
            return false;
        };
        let next = at + 12 + h.len as usize;
        if self.src.peek_at(next, 1).is_empty() {
            // The record must be complete to end the stream exactly.
            self.src.peek_at(next - 1, 1).len() == 1
        } else {
            self.plausible_resync(next)
        }
    }

    /// Skips bytes until a header that is plausible and followed by another
    /// plausible header (or the exact end of the stream).
    fn resync(&mut self, start: u64) -> Damage {
        let mut skipped: u64 = 0;
        loop {
            self.src.skip(1);
            skipped += 1;
            if self.src.at_end() {
                return Damage {
                    offset: start,
                    kind: DamageKind::Garbage {
                        skipped,
                        resynced: false,
                    },
                };
            }
            if self.chained(0) {
                return Damage {
                    offset: start,
                    kind: DamageKind::Garbage {
                        skipped,
                        resynced: true,
                    },
                };
            }
        }
    }

    /// Whether the header `h` at the current position is followed by what its
    /// length promises.
    fn follows(&mut self, h: &HeaderView) -> Follows {
        let next = 12 + h.len as usize;
        let after = self.src.peek_at(next, 12);
        if after.is_empty() {
            return if self.src.peek_at(next - 1, 1).len() == 1 {
                Follows::Ok
            } else {
                Follows::PastEnd
            };
        }
        // A header cut by the end of the stream is reported as such next.
        let Some(n) = HeaderView::parse(after) else {
            return Follows::Ok;
        };
        // Files concatenated across days are fine: a timestamp far from this
        // record's must still be a real date.
        let ts_ok = (i64::from(n.ts) - i64::from(h.ts)).abs() <= RESYNC_TS_WINDOW
            || PLAUSIBLE_TS.contains(&n.ts);
        let plausible = n.len <= MAX_RECORD_LEN && (n.is_supported() || n.is_other_mrt()) && ts_ok;
        if plausible {
            Follows::Ok
        } else {
            Follows::Implausible
        }
    }
}

/// What a header's length leads to.
enum Follows {
    /// Another plausible header, or the exact end of the stream.
    Ok,
    /// Bytes that are no MRT header.
    Implausible,
    /// The stream ends before the record does.
    PastEnd,
}

impl<R: Read> Iterator for RecordReader<R> {
    type Item = Result<FramedRecord, Damage>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let offset = self.src.offset();
        let head = self.src.peek(12);
        if head.is_empty() {
            self.done = true;
            if let Some(e) = self.src.error.take() {
                return Some(Err(Damage {
                    offset,
                    kind: read_failure(e, 12, 0),
                }));
            }
            return None;
        }
        let Some(h) = HeaderView::parse(head) else {
            let got = head.len() as u64;
            self.done = true;
            if let Some(e) = self.src.error.take() {
                return Some(Err(Damage {
                    offset,
                    kind: read_failure(e, 12, got),
                }));
            }
            return Some(Err(Damage {
                offset,
                kind: DamageKind::Truncated { expected: 12, got },
            }));
        };
        if h.len > MAX_RECORD_LEN || !(h.is_supported() || h.is_other_mrt()) {
            let d = self.resync(offset);
            if d.kind.is_fatal() {
                self.done = true;
            }
            return Some(Err(d));
        }
        if !matches!(self.follows(&h), Follows::Ok) && self.src.error.is_none() {
            // The length leads nowhere. If a chain of records starts inside
            // the body it announces, the length is the damage: skip to that
            // chain. Otherwise the record is whole and what follows it is
            // garbage (reported next), or the stream was cut (truncated).
            let avail = self.src.peek(12 + h.len as usize).len();
            if let Some(at) = (1..avail).find(|&at| self.chained(at)) {
                self.src.skip(at);
                return Some(Err(Damage {
                    offset,
                    kind: DamageKind::BadLength {
                        announced: h.len,
                        skipped: at as u64,
                    },
                }));
            }
        }
        let total = 12 + u64::from(h.len);
        match chunk_mrt_record(&mut self.src) {
            Ok(raw) => {
                self.last_ts = Some(h.ts);
                if h.is_other_mrt() {
                    return Some(Err(Damage {
                        offset,
                        kind: DamageKind::Unsupported(format!(
                            "MRT type {} subtype {}",
                            h.etype, h.subtype
                        )),
                    }));
                }
                Some(Ok(FramedRecord { offset, raw }))
            }
            Err(e) => {
                let got = self.src.offset() - offset;
                self.done = true;
                let kind = match e.error {
                    ParserError::IoError(ref io) | ParserError::EofError(ref io)
                        if io.kind() != io::ErrorKind::UnexpectedEof =>
                    {
                        DamageKind::Io(io.to_string())
                    }
                    _ => match self.src.error.take() {
                        Some(e) => read_failure(e, total, got),
                        None => DamageKind::Truncated {
                            expected: total,
                            got,
                        },
                    },
                };
                Some(Err(Damage { offset, kind }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    /// A minimal BGP4MP STATE_CHANGE record (AS2, IPv4).
    fn state_change(ts: u32) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&65001u16.to_be_bytes()); // peer as
        body.extend_from_slice(&65000u16.to_be_bytes()); // local as
        body.extend_from_slice(&0u16.to_be_bytes()); // ifindex
        body.extend_from_slice(&1u16.to_be_bytes()); // afi ipv4
        body.extend_from_slice(&[192, 0, 2, 1]);
        body.extend_from_slice(&[192, 0, 2, 2]);
        body.extend_from_slice(&6u16.to_be_bytes());
        body.extend_from_slice(&1u16.to_be_bytes());
        let mut rec = Vec::new();
        rec.extend_from_slice(&ts.to_be_bytes());
        rec.extend_from_slice(&16u16.to_be_bytes());
        rec.extend_from_slice(&0u16.to_be_bytes());
        rec.extend_from_slice(&(body.len() as u32).to_be_bytes());
        rec.extend_from_slice(&body);
        rec
    }

    fn collect(bytes: Vec<u8>) -> (Vec<u64>, Vec<Damage>) {
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        for item in RecordReader::new(Cursor::new(bytes)) {
            match item {
                Ok(r) => ok.push(r.offset),
                Err(d) => bad.push(d),
            }
        }
        (ok, bad)
    }

    #[test]
    fn frames_records_with_offsets() {
        let mut b = state_change(1_203_878_877);
        let n = b.len() as u64;
        b.extend(state_change(1_203_878_878));
        let (ok, bad) = collect(b);
        assert_eq!(ok, vec![0, n]);
        assert!(bad.is_empty());
    }

    #[test]
    fn truncation_is_reported_after_valid_records() {
        let mut b = state_change(1_203_878_877);
        let n = b.len() as u64;
        let second = state_change(1_203_878_878);
        b.extend_from_slice(&second[..20]);
        let (ok, bad) = collect(b);
        assert_eq!(ok, vec![0]);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].offset, n);
        assert_eq!(
            bad[0].kind,
            DamageKind::Truncated {
                expected: second.len() as u64,
                got: 20
            }
        );
    }

    #[test]
    fn garbage_is_skipped_and_stream_resynchronised() {
        let mut b = state_change(1_203_878_877);
        let n = b.len() as u64;
        b.extend_from_slice(&[
            0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 7,
        ]);
        let resume = b.len() as u64;
        b.extend(state_change(1_203_878_879));
        b.extend(state_change(1_203_878_880));
        let (ok, bad) = collect(b);
        assert_eq!(ok, vec![0, resume, resume + n]);
        assert_eq!(
            bad,
            vec![Damage {
                offset: n,
                kind: DamageKind::Garbage {
                    skipped: 13,
                    resynced: true
                }
            }]
        );
    }

    #[test]
    fn pure_garbage_and_empty_input_do_not_hang() {
        let (ok, bad) = collect(vec![0xffu8; 5000]);
        assert!(ok.is_empty());
        assert_eq!(bad.len(), 1);
        assert!(bad[0].kind.is_fatal());
        let (ok, bad) = collect(Vec::new());
        assert!(ok.is_empty() && bad.is_empty());
    }
}

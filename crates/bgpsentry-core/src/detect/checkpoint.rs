//! Checkpoints of detector state, so a restarted daemon neither forgets what
//! is normal (the learned baseline, the routing state) nor alerts twice
//! (open events keep their ids and lifecycle).
//!
//! The format is a gzip stream holding two JSON documents: a [`Header`]
//! (magic, format version, the fingerprint of what the state depends on,
//! message time) and then the body the caller chose (the daemon's: peers,
//! detector snapshots, pipeline clock). The header is checked before the
//! body is parsed, so an incompatible checkpoint is refused cheaply. Any
//! damage (truncation, a flipped bit caught by gzip's CRC, bad JSON) is a
//! [`CheckpointError`] naming where it was found; callers start fresh.
//!
//! Like the rest of the core this module does no I/O of its own: it reads
//! from a `Read` and writes to a `Write` that the caller opens (and makes
//! durable: temp file, fsync, rename).

use std::cell::Cell;
use std::io::{BufReader, Read, Write};
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::model::Timestamp;

/// First field of every checkpoint.
pub const MAGIC: &str = "bgpsentry-checkpoint";

/// Version of the body layout; bumped on any incompatible change.
/// 2: the leak detector's active peers carry their last message time
/// (one `ActivePeers` tracker for both detectors).
pub const FORMAT_VERSION: u32 = 2;

/// What precedes the body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`MAGIC`].
    pub magic: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub version: u32,
    /// What the state depends on (detector settings, baseline sources): a
    /// process with another fingerprint must not restore it.
    pub fingerprint: String,
    /// Message time of the newest message folded into the state.
    pub message_time: Timestamp,
}

impl Header {
    /// A header of the current version.
    pub fn new(fingerprint: impl Into<String>, message_time: Timestamp) -> Self {
        Header {
            magic: MAGIC.to_string(),
            version: FORMAT_VERSION,
            fingerprint: fingerprint.into(),
            message_time,
        }
    }
}

/// Why a checkpoint could not be written or used.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Writing (or compressing) failed.
    #[error("writing the checkpoint: {0}")]
    Write(#[source] std::io::Error),
    /// Encoding the state failed.
    #[error("encoding the checkpoint: {0}")]
    Encode(#[source] serde_json::Error),
    /// The file is something else.
    #[error("not a bgpsentry checkpoint (magic {found:?})")]
    NotACheckpoint {
        /// What the header said.
        found: String,
    },
    /// Written by an incompatible version.
    #[error("checkpoint format version {found}; this build reads version {expected}")]
    Version {
        /// In the file.
        found: u32,
        /// This build's.
        expected: u32,
    },
    /// Written under other settings.
    #[error(
        "checkpoint was made with other detector settings or baseline (fingerprint {found}; this configuration has {expected})"
    )]
    Fingerprint {
        /// In the file.
        found: String,
        /// This process's.
        expected: String,
    },
    /// Decompresses to more than the reader allows (a gzip bomb, or a
    /// checkpoint far larger than its file suggests).
    #[error(
        "checkpoint decompresses to more than {limit} bytes (from {compressed} compressed bytes read); refused"
    )]
    TooLarge {
        /// The bound on decompressed bytes.
        limit: u64,
        /// Compressed bytes consumed when the bound was hit.
        compressed: u64,
    },
    /// Damaged: truncated, failed its CRC, or not the expected JSON.
    #[error(
        "checkpoint is corrupt or truncated near compressed byte {compressed_offset} ({part}{}): {message}",
        json_position(*.line, *.column)
    )]
    Corrupt {
        /// Compressed bytes consumed when the damage was found.
        compressed_offset: u64,
        /// `gzip`, `header`, `body` or `end`.
        part: &'static str,
        /// Line of the decompressed JSON (1: header, 2: body; 0: the gzip
        /// stream itself is damaged).
        line: usize,
        /// Column in that line (the byte offset for a one-line body); for
        /// line 0, the bytes decompressed before the damage.
        column: usize,
        /// The decoder's message (names the field when the JSON is wrong).
        message: String,
    },
}

/// `, JSON line 2 column 17`; for damage found by gzip itself (line 0),
/// how many bytes decompressed before it.
fn json_position(line: usize, column: usize) -> String {
    if line == 0 {
        format!(" after {column} decompressed bytes")
    } else {
        format!(", JSON line {line} column {column}")
    }
}

/// Writes `header` and `body` as one gzip stream to `w`; returns `w` after
/// the gzip trailer so the caller can sync it.
pub fn write<W: Write, T: Serialize>(
    w: W,
    header: &Header,
    body: &T,
) -> Result<W, CheckpointError> {
    // Buffered in front of the compressor: serde writes many tiny pieces.
    let mut out = std::io::BufWriter::with_capacity(
        1 << 16,
        flate2::write::GzEncoder::new(w, flate2::Compression::fast()),
    );
    serde_json::to_writer(&mut out, header).map_err(CheckpointError::Encode)?;
    out.write_all(b"\n").map_err(CheckpointError::Write)?;
    serde_json::to_writer(&mut out, body).map_err(CheckpointError::Encode)?;
    out.write_all(b"\n").map_err(CheckpointError::Write)?;
    let gz = out
        .into_inner()
        .map_err(|e| CheckpointError::Write(e.into_error()))?;
    gz.finish().map_err(CheckpointError::Write)
}

/// Counts the bytes read through it (the compressed offset in errors).
struct Counting<R> {
    inner: R,
    n: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.set(self.n.get() + k as u64);
        Ok(k)
    }
}

/// Reads a checkpoint: checks the header (magic, version, `fingerprint`)
/// before decoding the body, and the whole gzip stream (CRC, length) to
/// its end. The stream is decompressed into memory first (transiently
/// about 6 bytes per byte of checkpoint): parsing from a slice is several
/// times faster than from a reader. Unbounded: for files from anywhere use
/// [`read_limited`].
pub fn read<R: Read, T: DeserializeOwned>(
    r: R,
    fingerprint: &str,
) -> Result<(Header, T), CheckpointError> {
    read_limited(r, fingerprint, u64::MAX)
}

/// The decompressed size [`read_limited`] allows for a checkpoint file of
/// `compressed` bytes: 64 times the file (real checkpoints inflate about
/// 6 times) and at least 64 MiB, so a gzip bomb is refused long before it
/// costs memory.
pub fn decompressed_limit(compressed: u64) -> u64 {
    compressed.saturating_mul(64).max(64 << 20)
}

/// [`read`], refusing ([`CheckpointError::TooLarge`]) once more than
/// `max_json` bytes have been decompressed; memory stays below about
/// `max_json` (plus the decoded state).
pub fn read_limited<R: Read, T: DeserializeOwned>(
    r: R,
    fingerprint: &str,
    max_json: u64,
) -> Result<(Header, T), CheckpointError> {
    let n = Rc::new(Cell::new(0u64));
    let mut gz = flate2::read::GzDecoder::new(BufReader::with_capacity(
        1 << 16,
        Counting {
            inner: r,
            n: n.clone(),
        },
    ));
    let mut json = Vec::new();
    let damaged = (&mut gz)
        .take(max_json.saturating_add(1))
        .read_to_end(&mut json)
        .err();
    if json.len() as u64 > max_json {
        return Err(CheckpointError::TooLarge {
            limit: max_json,
            compressed: n.get(),
        });
    }
    let corrupt = |part: &'static str, e: serde_json::Error| CheckpointError::Corrupt {
        compressed_offset: n.get(),
        part,
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    };
    let mut de = serde_json::Deserializer::from_slice(&json);
    let header = Header::deserialize(&mut de).map_err(|e| corrupt("header", e))?;
    if header.magic != MAGIC {
        return Err(CheckpointError::NotACheckpoint {
            found: header.magic,
        });
    }
    if header.version != FORMAT_VERSION {
        return Err(CheckpointError::Version {
            found: header.version,
            expected: FORMAT_VERSION,
        });
    }
    if header.fingerprint != fingerprint {
        return Err(CheckpointError::Fingerprint {
            found: header.fingerprint,
            expected: fingerprint.to_string(),
        });
    }
    // Damage found by gzip (truncation, CRC) is reported even when the JSON
    // before it happens to parse.
    if let Some(e) = damaged {
        return Err(CheckpointError::Corrupt {
            compressed_offset: n.get(),
            part: "gzip",
            line: 0,
            column: json.len(),
            message: e.to_string(),
        });
    }
    let body = T::deserialize(&mut de).map_err(|e| corrupt("body", e))?;
    de.end().map_err(|e| corrupt("end", e))?;
    Ok((header, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Body {
        words: Vec<String>,
    }

    fn sample() -> (Vec<u8>, Body) {
        let body = Body {
            words: (0..2000).map(|i| format!("w{i}")).collect(),
        };
        let h = Header::new("fp", Timestamp::from_secs(7));
        let out = write(Vec::new(), &h, &body).expect("write");
        (out, body)
    }

    #[test]
    fn round_trip() {
        let (bytes, body) = sample();
        let (h, back): (Header, Body) = read(&bytes[..], "fp").expect("read");
        assert_eq!(h.message_time, Timestamp::from_secs(7));
        assert_eq!(back, body);
    }

    #[test]
    fn refuses_other_fingerprint_and_damage() {
        let (bytes, _) = sample();
        let e = read::<_, Body>(&bytes[..], "other").expect_err("fingerprint");
        assert!(matches!(e, CheckpointError::Fingerprint { .. }), "{e}");
        for cut in [0, 10, bytes.len() / 2, bytes.len() - 4] {
            let e = read::<_, Body>(&bytes[..cut], "fp").expect_err("truncated");
            assert!(matches!(e, CheckpointError::Corrupt { .. }), "{cut}: {e}");
        }
        let e = read_limited::<_, Body>(&bytes[..], "fp", 1000).expect_err("bounded");
        assert!(
            matches!(e, CheckpointError::TooLarge { limit: 1000, .. }),
            "{e}"
        );
        let mut flipped = bytes.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x55;
        assert!(read::<_, Body>(&flipped[..], "fp").is_err());
    }

    #[test]
    fn a_gzip_bomb_is_refused_at_the_bound() {
        // 16 MiB of zeros compress to about 16 KiB: far past 64x.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b' '; 16 << 20]).expect("compress");
        let bomb = gz.finish().expect("finish");
        let limit = 64 * bomb.len() as u64;
        let e = read_limited::<_, Body>(&bomb[..], "fp", limit).expect_err("bomb");
        assert!(matches!(e, CheckpointError::TooLarge { .. }), "{e}");
        assert_eq!(decompressed_limit(1 << 20), 64 << 20);
        assert_eq!(decompressed_limit(1 << 30), 64 << 30);
    }
}

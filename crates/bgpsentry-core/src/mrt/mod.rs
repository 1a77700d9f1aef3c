//! Reading MRT archives (RFC 6396): RouteViews and RIPE RIS RIB dumps and
//! update files, raw, gzip or bzip2.
//!
//! * [`input`] — recognise compression by magic bytes.
//! * [`reader`] — frame records with byte offsets; report and skip damage.
//! * [`decode`] — records to [`crate::model`] messages.
//! * [`bgpdump`] — a `bgpdump -m` compatible printer.

pub mod bgpdump;
pub mod decode;
pub mod input;
pub mod reader;

pub use decode::{Decoded, RecordOutput, StreamDecoder};
pub use input::{Compression, decompress};
pub use reader::{Damage, DamageKind, FramedRecord, RecordReader};

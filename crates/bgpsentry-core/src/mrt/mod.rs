//! Reading MRT archives (RFC 6396): RouteViews and RIPE RIS RIB dumps and
//! update files, raw, gzip or bzip2.
//!
//! * [`input`] — recognise compression by magic bytes.
//! * [`reader`] — frame records with byte offsets; report and skip damage.
//! * [`salvage`] — decode what fits of UPDATEs the collector wrote truncated.
//! * [`decode`] — records to [`crate::model`] messages.
//! * [`bgpdump`] — a `bgpdump -m` compatible printer.

pub mod bgpdump;
pub mod decode;
pub mod input;
pub mod reader;
pub mod salvage;

pub use decode::{Decoded, RecordOutput, StreamDecoder};
pub use input::{Compression, decompress};
pub use reader::{Damage, DamageKind, FramedRecord, RecordReader};
pub use salvage::{Salvaged, parse_record};

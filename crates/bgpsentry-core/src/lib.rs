//! # bgpsentry-core
//!
//! The pure, synchronous and deterministic heart of bgpsentry. Nothing here
//! touches the network, a database or the wall clock; input arrives through
//! `std::io::Read`, time comes from the BGP messages themselves. The pipeline:
//!
//! ```text
//!  MRT / RIS Live / BMP bytes ─► mrt::decode ─► RouteMessage ─► detect ─► EventChange
//!                                                 ▲
//!                                 evidence (RPKI, IRR, AS relationships, as2org, bogons)
//! ```
//!
//! * [`model`] — ASNs, timestamps, AS paths, decoded messages, events.
//! * [`detect`] — detectors turning messages into events.
//! * [`mrt`] — opening (gzip / bzip2 by magic bytes), framing with byte
//!   offsets and resynchronisation, decoding to the model, and a `bgpdump -m`
//!   compatible printer.

pub mod bootstrap;
pub mod detect;
pub mod evidence;
pub mod fasthash;
pub mod model;
pub mod mrt;

//! Getting BGP into the core: MRT archives (files, directories, URLs) now;
//! RIS Live, BMP and BGP sessions join here as sources.

pub mod bgp_speaker;
pub mod bmp;
pub mod firehose;
pub mod follow;
pub mod follow_remote;
pub mod health;
pub mod inputs;
pub mod live;
pub mod mrt;
pub mod rislive;

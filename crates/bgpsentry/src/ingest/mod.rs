//! Getting BGP into the core: MRT archives (files, directories, URLs) now;
//! RIS Live, BMP and BGP sessions join here as sources.

pub mod inputs;
pub mod mrt;

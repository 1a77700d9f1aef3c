//! The evidence flags, one struct so any command can `#[command(flatten)]`
//! them and get the same spelling and help everywhere.

use std::time::Duration;

use clap::Args;

/// Where evidence comes from. Every option takes a file path or an
/// http(s) URL; files may be gzip or bzip2 compressed (recognised by
/// content).
#[derive(Debug, Args, Clone, Default)]
pub struct EvidenceArgs {
    /// RPKI VRPs: rpki-client / Routinator JSON or CSV, Cloudflare rpki.json (repeatable).
    #[arg(long = "rpki", visible_alias = "vrps", value_name = "FILE|URL")]
    pub rpki: Vec<String>,
    /// IRR database dump with route/route6 objects, e.g. radb.db.gz (repeatable).
    #[arg(long = "irr", value_name = "FILE|URL")]
    pub irr: Vec<String>,
    /// AS relationships: CAIDA serial-1/serial-2 or BGPKIT as2rel JSON.
    #[arg(long = "asrel", value_name = "FILE|URL")]
    pub asrel: Option<String>,
    /// CAIDA as2org (jsonl or pipe format).
    #[arg(long = "as2org", value_name = "FILE|URL")]
    pub as2org: Option<String>,
    /// AS names, {"ASN": "NAME - description, CC"} (pyasn asnames.json).
    #[arg(long = "asnames", value_name = "FILE|URL")]
    pub asnames: Option<String>,
    /// Give up on a URL that sends nothing for this many seconds.
    #[arg(long = "evidence-timeout", default_value_t = 60, value_name = "SECS")]
    pub timeout_secs: u64,
}

impl EvidenceArgs {
    /// The per-read stall timeout for URLs.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }

    /// True if no dataset was named (the snapshot is bogons only).
    pub fn is_empty(&self) -> bool {
        self.rpki.is_empty()
            && self.irr.is_empty()
            && self.asrel.is_none()
            && self.as2org.is_none()
            && self.asnames.is_none()
    }
}

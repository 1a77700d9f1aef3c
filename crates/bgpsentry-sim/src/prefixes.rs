//! Address plans: each AS gets a few IPv4 prefixes (heavier for transit and
//! tier-1s) and some get an IPv6 prefix, carved from public, non-bogon space
//! (IPv4 from 24.0.0.0 upwards in /20 blocks, IPv6 from 2a00::/12), so that
//! detectors do not discard them as bogons.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::error::SimError;
use crate::rng::Rng;
use crate::topology::{Node, Topology};

/// First IPv4 block.
const V4_START: u32 = 24 << 24;
/// End of the IPv4 pool (exclusive): 100.0.0.0, below 100.64/10.
const V4_END: u32 = 100 << 24;
/// Size of a block.
const V4_BLOCK: u32 = 1 << 12;

/// One originated prefix and its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owned {
    /// The prefix.
    pub prefix: IpNet,
    /// The AS that owns and normally originates it.
    pub owner: Node,
}

/// Allocates prefixes.
#[derive(Clone, Debug)]
pub struct Allocator {
    next_v4: u32,
    next_v6: u32,
}

impl Default for Allocator {
    fn default() -> Self {
        Allocator {
            next_v4: V4_START,
            next_v6: 0x100,
        }
    }
}

impl Allocator {
    /// A fresh IPv4 prefix of length `len` (16..=24) at the start of a new block.
    pub fn v4(&mut self, len: u8) -> Result<IpNet, SimError> {
        let len = len.clamp(12, 24);
        let size = (1u32 << (32 - u32::from(len))).max(V4_BLOCK);
        // Align to the prefix size.
        let start = self.next_v4.div_ceil(size) * size;
        if start >= V4_END || start + size > V4_END {
            return Err(SimError::Scenario(
                "IPv4 address pool exhausted: fewer ASes or prefixes".into(),
            ));
        }
        self.next_v4 = start + size;
        Ipv4Net::new(Ipv4Addr::from(start), len)
            .map(IpNet::V4)
            .map_err(|e| SimError::Scenario(e.to_string()))
    }

    /// A fresh IPv6 prefix: /32 or /48.
    pub fn v6(&mut self, len: u8) -> Result<IpNet, SimError> {
        let k = self.next_v6;
        if k > 0xffff {
            return Err(SimError::Scenario("IPv6 address pool exhausted".into()));
        }
        self.next_v6 += 1;
        let k16 = k as u16;
        let addr = if len <= 32 {
            Ipv6Addr::new(0x2a00 | (k16 >> 12), k16 << 4, 0, 0, 0, 0, 0, 0)
        } else {
            Ipv6Addr::new(0x2a0e, k16, 0, 0, 0, 0, 0, 0)
        };
        Ipv6Net::new(addr, if len <= 32 { 32 } else { 48 })
            .map(IpNet::V6)
            .map_err(|e| SimError::Scenario(e.to_string()))
    }
}

/// Plans the prefixes of every AS.
pub fn plan(
    topo: &Topology,
    v6_share: f64,
    alloc: &mut Allocator,
    rng: &mut Rng,
) -> Result<Vec<Owned>, SimError> {
    let mut out = Vec::new();
    for x in 0..topo.len() as Node {
        let tier = topo.tier[x as usize];
        let base = match tier {
            1 => 6,
            2 => 4,
            3 => 2,
            _ => 1,
        };
        // Heavy tail: geometric extra prefixes.
        let mut k = base;
        while k < 40 && rng.chance(0.4) {
            k += 1;
        }
        for _ in 0..k {
            let r = rng.unit();
            let len = if r < 0.40 {
                24
            } else if r < 0.55 {
                23
            } else if r < 0.80 {
                22
            } else if r < 0.90 {
                21
            } else if tier <= 2 && r < 0.95 {
                16
            } else {
                20
            };
            out.push(Owned {
                prefix: alloc.v4(len)?,
                owner: x,
            });
        }
        if rng.chance(v6_share) {
            let len = if tier <= 3 { 32 } else { 48 };
            out.push(Owned {
                prefix: alloc.v6(len)?,
                owner: x,
            });
        }
    }
    Ok(out)
}

/// A more-specific of `p`: the first /24 (IPv4) or /48 (IPv6) inside it, or
/// a half when `p` is already that long. `None` for /25 and longer.
pub fn more_specific(p: &IpNet, pick: u64) -> Option<IpNet> {
    let (want, max) = match p {
        IpNet::V4(_) => (24u8, 24u8),
        IpNet::V6(_) => (48, 48),
    };
    let target = if p.prefix_len() < want {
        want
    } else {
        p.prefix_len() + 1
    };
    if target > max {
        return None;
    }
    let subs: Vec<IpNet> = p.subnets(target).ok()?.take(256).collect();
    if subs.is_empty() {
        return None;
    }
    subs.get((pick % subs.len() as u64) as usize).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_are_disjoint_and_public() {
        let mut a = Allocator::default();
        let p1 = a.v4(24).expect("v4");
        let p2 = a.v4(16).expect("v4");
        let p3 = a.v4(22).expect("v4");
        assert_eq!(p1.to_string(), "24.0.0.0/24");
        assert_eq!(p2.to_string(), "24.1.0.0/16");
        assert!(!p2.contains(&p3) && !p3.contains(&p1));
        assert_eq!(a.v6(32).expect("v6").to_string(), "2a00:1000::/32");
        assert_eq!(a.v6(48).expect("v6").to_string(), "2a0e:101::/48");
        let ms = more_specific(&"24.1.0.0/16".parse().expect("p"), 3).expect("ms");
        assert_eq!(ms.to_string(), "24.1.3.0/24");
        assert_eq!(more_specific(&"24.0.0.0/24".parse().expect("p"), 0), None);
    }
}

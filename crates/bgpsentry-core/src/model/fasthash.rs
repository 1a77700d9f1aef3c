//! A fast, non-cryptographic hasher for the hot maps keyed by data we
//! produce ourselves (peer keys, prefixes). The standard SipHash guards
//! against hash flooding, which matters for maps keyed by strings from the
//! network; these keys are fixed-size values and the maps are bounded by the
//! routing table, so the FxHash multiply-rotate scheme (as in rustc) is
//! enough and several times faster.

use std::hash::{BuildHasherDefault, Hasher};

/// FxHash: `hash = (hash.rotate_left(5) ^ word) * K` per word.
#[derive(Default, Clone, Copy, Debug)]
pub struct FxHasher {
    hash: u64,
}

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// `BuildHasher` for [`FxHasher`].
pub type FxBuild = BuildHasherDefault<FxHasher>;
/// A `HashMap` with [`FxHasher`].
pub type FxHashMap<K, V> = std::collections::HashMap<K, V, FxBuild>;
/// A `HashSet` with [`FxHasher`].
pub type FxHashSet<K> = std::collections::HashSet<K, FxBuild>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_keys_hash_apart() {
        let mut s: FxHashSet<ipnet::IpNet> = FxHashSet::default();
        for i in 0..1000u32 {
            let net =
                ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(i << 8), 24).map(ipnet::IpNet::V4);
            if let Ok(n) = net {
                s.insert(n);
            }
        }
        assert_eq!(s.len(), 1000);
    }
}

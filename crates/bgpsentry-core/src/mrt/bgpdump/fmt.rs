//! Allocation-free text formatting for the `bgpdump -m` printer: decimal
//! numbers and IP addresses written straight into the output buffer.
//!
//! IPv6 follows bgpdump's own `fmt_ipv6`, which is not RFC 5952: a run of a
//! *single* zero group is compressed to `::` too, the leftmost longest run
//! wins, and v4-mapped (`::ffff:a.b.c.d`) and v4-compatible (`::a.b.c.d`,
//! anything above `::1`) addresses end in dotted quads.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Appends `v` in decimal.
#[inline]
pub fn u32_dec(out: &mut Vec<u8>, mut v: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `v` as C's `%d` prints a `u32` reinterpreted as `int`.
#[inline]
pub fn i32_dec(out: &mut Vec<u8>, v: u32) {
    let s = v as i32;
    if s < 0 {
        out.push(b'-');
        u32_dec(out, s.unsigned_abs());
    } else {
        u32_dec(out, v);
    }
}

/// Appends `v` zero-padded to at least 6 digits (`%06u`).
#[inline]
pub fn u32_dec6(out: &mut Vec<u8>, v: u32) {
    let mut n = 1;
    let mut x = v;
    while x >= 10 {
        x /= 10;
        n += 1;
    }
    for _ in n..6 {
        out.push(b'0');
    }
    u32_dec(out, v);
}

/// Appends a dotted quad.
#[inline]
pub fn ipv4(out: &mut Vec<u8>, a: Ipv4Addr) {
    let o = a.octets();
    u32_dec(out, u32::from(o[0]));
    out.push(b'.');
    u32_dec(out, u32::from(o[1]));
    out.push(b'.');
    u32_dec(out, u32::from(o[2]));
    out.push(b'.');
    u32_dec(out, u32::from(o[3]));
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends an IPv6 address the way bgpdump's `fmt_ipv6` does.
pub fn ipv6(out: &mut Vec<u8>, a: Ipv6Addr) {
    let o = a.octets();
    let g = a.segments();
    if g[..5].iter().all(|&x| x == 0) && g[5] == 0xffff {
        out.extend_from_slice(b"::ffff:");
        ipv4(out, Ipv4Addr::new(o[12], o[13], o[14], o[15]));
        return;
    }
    let low = u32::from_be_bytes([o[12], o[13], o[14], o[15]]);
    if g[..6].iter().all(|&x| x == 0) && low > 1 {
        out.extend_from_slice(b"::");
        ipv4(out, Ipv4Addr::new(o[12], o[13], o[14], o[15]));
        return;
    }
    // Leftmost longest run of zero groups, even a run of one.
    let (mut best, mut best_len) = (usize::MAX, 0usize);
    let mut i = 0;
    while i < 8 {
        if g[i] == 0 {
            let start = i;
            while i < 8 && g[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    let mut i = 0;
    while i < 8 {
        if i == best {
            if i == 0 {
                out.push(b':');
            }
            out.push(b':');
            i += best_len;
            continue;
        }
        let x = g[i];
        let mut started = false;
        for shift in [12u16, 8, 4] {
            let n = (x >> shift) & 0xf;
            if started || n != 0 {
                out.push(HEX[n as usize]);
                started = true;
            }
        }
        out.push(HEX[(x & 0xf) as usize]);
        if i != 7 {
            out.push(b':');
        }
        i += 1;
    }
}

/// Appends an address: dotted quad or bgpdump IPv6 text.
#[inline]
pub fn ip(out: &mut Vec<u8>, a: IpAddr) {
    match a {
        IpAddr::V4(v4) => ipv4(out, v4),
        IpAddr::V6(v6) => ipv6(out, v6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s6(a: &str) -> String {
        let mut v = Vec::new();
        ipv6(&mut v, a.parse().expect("addr"));
        String::from_utf8(v).expect("utf8")
    }

    #[test]
    fn ipv6_like_bgpdump() {
        for (inp, want) in [
            ("fe80::", "fe80::"),
            ("2001:db8::1", "2001:db8::1"),
            ("::ffff:192.168.2.1", "::ffff:192.168.2.1"),
            ("::192.168.1.2", "::192.168.1.2"),
            ("2001:7f8:30:0:2:1:0:8447", "2001:7f8:30::2:1:0:8447"),
            ("::", "::"),
            ("::1", "::1"),
            ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"),
            ("1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7::"),
            ("2001:db8:0:1::", "2001:db8:0:1::"),
            ("a:b:c:d:e:f:1:2", "a:b:c:d:e:f:1:2"),
            ("0:1:2:3:4:5:6:7", "::1:2:3:4:5:6:7"),
        ] {
            assert_eq!(s6(inp), want, "{inp}");
        }
    }

    #[test]
    fn numbers() {
        let mut v = Vec::new();
        u32_dec(&mut v, 0);
        v.push(b' ');
        u32_dec(&mut v, u32::MAX);
        v.push(b' ');
        i32_dec(&mut v, u32::MAX);
        v.push(b' ');
        u32_dec6(&mut v, 42);
        v.push(b' ');
        u32_dec6(&mut v, 1_234_567);
        assert_eq!(v, b"0 4294967295 -1 000042 1234567");
    }
}

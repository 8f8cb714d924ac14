//! Allocation-free text output for the bgpdump line format: decimal
//! numbers, IPv4 and IPv6 addresses as bgpdump writes them.

use std::net::IpAddr;

/// Appends `v` in decimal.
#[inline]
pub(crate) fn push_u32(out: &mut Vec<u8>, v: u32) {
    if v < 10 {
        out.push(b'0' + v as u8);
        return;
    }
    if v < 100 {
        out.extend_from_slice(&[b'0' + (v / 10) as u8, b'0' + (v % 10) as u8]);
        return;
    }
    let n = match v {
        0..1_000 => 3,
        1_000..10_000 => 4,
        10_000..100_000 => 5,
        100_000..1_000_000 => 6,
        1_000_000..10_000_000 => 7,
        10_000_000..100_000_000 => 8,
        100_000_000..1_000_000_000 => 9,
        _ => 10,
    };
    let start = out.len();
    out.resize(start + n, b'0');
    let mut v = v;
    for d in out.get_mut(start..).unwrap_or_default().iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Appends an octet in decimal.
#[inline]
fn push_u8(out: &mut Vec<u8>, v: u8) {
    if v < 10 {
        out.push(b'0' + v);
    } else if v < 100 {
        out.extend_from_slice(&[b'0' + v / 10, b'0' + v % 10]);
    } else {
        out.extend_from_slice(&[b'0' + v / 100, b'0' + v / 10 % 10, b'0' + v % 10]);
    }
}

/// Appends `v` in decimal, at least six digits wide with leading zeros
/// (the microseconds of BGP4MP_ET timestamps).
pub(crate) fn push_u32_06(out: &mut Vec<u8>, v: u32) {
    let mut n = 100_000u32;
    while n > 1 && v < n {
        out.push(b'0');
        n /= 10;
    }
    push_u32(out, v);
}

/// Appends an IPv4 address in dotted-quad form.
#[inline]
pub(crate) fn push_ipv4(out: &mut Vec<u8>, a: [u8; 4]) {
    let [a, b, c, d] = a;
    push_u8(out, a);
    out.push(b'.');
    push_u8(out, b);
    out.push(b'.');
    push_u8(out, c);
    out.push(b'.');
    push_u8(out, d);
}

/// Appends an IPv6 address the way bgpdump's own formatter does: an
/// IPv4-mapped address as `::ffff:a.b.c.d`, an IPv4-compatible one (96 zero
/// bits, then a value above 1) as `::a.b.c.d`, otherwise lower-case groups
/// without leading zeros where the first longest run of zero groups, even a
/// single one, becomes `::`.
pub(crate) fn push_ipv6(out: &mut Vec<u8>, a: [u8; 16]) {
    let groups: [u16; 8] = std::array::from_fn(|i| {
        u16::from_be_bytes([
            a.get(2 * i).copied().unwrap_or(0),
            a.get(2 * i + 1).copied().unwrap_or(0),
        ])
    });
    let [g0, g1, g2, g3, g4, g5, g6, g7] = groups;
    let tail = [a.get(12), a.get(13), a.get(14), a.get(15)].map(|o| o.copied().unwrap_or(0));
    if g0 == 0 && g1 == 0 && g2 == 0 && g3 == 0 && g4 == 0 {
        if g5 == 0xffff {
            out.extend_from_slice(b"::ffff:");
            push_ipv4(out, tail);
            return;
        }
        if g5 == 0 && ((u32::from(g6) << 16) | u32::from(g7)) > 1 {
            out.extend_from_slice(b"::");
            push_ipv4(out, tail);
            return;
        }
    }
    // The first longest run of zero groups.
    let (mut best_start, mut best_len) = (8usize, 0usize);
    let mut i = 0;
    while i < 8 {
        if groups.get(i) == Some(&0) {
            let start = i;
            while groups.get(i) == Some(&0) {
                i += 1;
            }
            if i - start > best_len {
                best_start = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    let mut i = 0;
    while i < 8 {
        if i == best_start {
            if i == 0 {
                out.push(b':');
            }
            out.push(b':');
            i += best_len;
            continue;
        }
        push_hex16(out, groups.get(i).copied().unwrap_or(0));
        if i != 7 {
            out.push(b':');
        }
        i += 1;
    }
}

fn push_hex16(out: &mut Vec<u8>, g: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut started = false;
    for shift in [12u16, 8, 4, 0] {
        let d = usize::from((g >> shift) & 0xf);
        if d != 0 || started || shift == 0 {
            started = true;
            out.push(HEX.get(d).copied().unwrap_or(b'0'));
        }
    }
}

/// Appends an address of either family.
pub(crate) fn push_ip(out: &mut Vec<u8>, ip: &IpAddr) {
    match ip {
        IpAddr::V4(a) => push_ipv4(out, a.octets()),
        IpAddr::V6(a) => push_ipv6(out, a.octets()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    fn v6(s: &str) -> String {
        let mut out = Vec::new();
        push_ipv6(&mut out, s.parse::<Ipv6Addr>().unwrap().octets());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers() {
        for v in [
            0u32,
            7,
            10,
            99,
            100,
            255,
            999,
            1000,
            99_999,
            100_000,
            999_999_999,
            1_000_000_000,
            4_294_967_295,
        ] {
            let mut out = Vec::new();
            push_u32(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes());
        }
        for (v, s) in [
            (0u32, "000000"),
            (509_481, "509481"),
            (42, "000042"),
            (1_234_567, "1234567"),
        ] {
            let mut out = Vec::new();
            push_u32_06(&mut out, v);
            assert_eq!(out, s.as_bytes());
        }
    }

    #[test]
    fn ipv4() {
        for a in [
            [0u8, 0, 0, 0],
            [255, 255, 255, 255],
            [192, 0, 2, 1],
            [10, 99, 100, 9],
        ] {
            let mut out = Vec::new();
            push_ipv4(&mut out, a);
            assert_eq!(out, std::net::Ipv4Addr::from(a).to_string().as_bytes());
        }
    }

    #[test]
    fn ipv6_like_bgpdump() {
        // The cases of bgpdump's own self test, and the differences from
        // RFC 5952 text: a single zero group is compressed too.
        for s in [
            "fe80::",
            "2001:db8::1",
            "::ffff:192.168.2.1",
            "::192.168.1.2",
            "2001:7f8:30::2:1:0:8447",
            "::",
            "::1",
        ] {
            assert_eq!(v6(s), s);
        }
        assert_eq!(v6("2001:0:1:2:3:4:5:6"), "2001::1:2:3:4:5:6");
        assert_eq!(v6("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");
        assert_eq!(v6("2001:0:0:1:1:0:0:1"), "2001::1:1:0:0:1");
        assert_eq!(v6("1:2:3:4:5:6:7:0"), "1:2:3:4:5:6:7::");
    }
}

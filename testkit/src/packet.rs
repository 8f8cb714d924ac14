//! From a captured frame to its TCP segment: link layers (Ethernet with VLAN
//! tags, raw IP, BSD loopback, Linux cooked v1/v2, PPP, Cisco HDLC, Frame
//! Relay, Juniper Ethernet), MPLS label stacks, IPv4 (first fragments only)
//! and IPv6 with its extension headers, then TCP.
//!
//! Lengths come from the IP header, cut to what was captured: a packet
//! truncated by the snap length yields a segment with fewer payload octets
//! than it had on the wire ([`TcpSegment::missing`] says how many).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::capture::{Packet, link_type};

/// One endpoint of a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// The IP address.
    pub addr: IpAddr,
    /// The TCP port.
    pub port: u16,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

/// One direction of a TCP connection: the 4-tuple, source first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Flow {
    /// The sender.
    pub src: Endpoint,
    /// The receiver.
    pub dst: Endpoint,
}

impl Flow {
    /// The other direction of the same connection.
    pub fn reversed(&self) -> Flow {
        Flow {
            src: self.dst,
            dst: self.src,
        }
    }

    /// The connection regardless of direction: the smaller endpoint first.
    pub fn connection(&self) -> (Endpoint, Endpoint) {
        if self.src <= self.dst {
            (self.src, self.dst)
        } else {
            (self.dst, self.src)
        }
    }

    /// Whether either port is `port`.
    pub fn has_port(&self, port: u16) -> bool {
        self.src.port == port || self.dst.port == port
    }
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} > {}", self.src, self.dst)
    }
}

/// TCP header flags.
pub mod tcp_flags {
    /// No more data from the sender.
    pub const FIN: u8 = 0x01;
    /// Synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push.
    pub const PSH: u8 = 0x08;
    /// The acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
}

/// A TCP segment taken out of a captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSegment {
    /// The frame number of the packet it came in.
    pub packet: usize,
    /// Sender and receiver.
    pub flow: Flow,
    /// The sequence number.
    pub seq: u32,
    /// The flags octet (see [`tcp_flags`]).
    pub flags: u8,
    /// The payload octets that were captured.
    pub payload: Vec<u8>,
    /// Payload octets the IP header announces but the capture lacks
    /// (snap length, truncated file).
    pub missing: u32,
}

impl TcpSegment {
    /// Whether the SYN flag is set.
    pub fn syn(&self) -> bool {
        self.flags & tcp_flags::SYN != 0
    }
}

/// Why a frame yielded no TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// A link type this module does not read.
    UnsupportedLinkType(u32),
    /// A network protocol other than IPv4, IPv6 or MPLS (ARP, LLDP, ...).
    NotIp(u16),
    /// An IP packet of another transport protocol.
    NotTcp(u8),
    /// A non-first IP fragment (its TCP header is in the first one).
    Fragment,
    /// Headers shorter than they claim, or cut by the capture.
    Truncated,
    /// A header field with an impossible value.
    Malformed,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::UnsupportedLinkType(t) => write!(f, "unsupported link type {t}"),
            Skip::NotIp(e) => write!(f, "not IP (ethertype 0x{e:04x})"),
            Skip::NotTcp(p) => write!(f, "not TCP (protocol {p})"),
            Skip::Fragment => f.write_str("non-first IP fragment"),
            Skip::Truncated => f.write_str("headers truncated"),
            Skip::Malformed => f.write_str("malformed header"),
        }
    }
}

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86dd;
const ETH_VLAN: u16 = 0x8100;
const ETH_QINQ: u16 = 0x88a8;
const ETH_QINQ_OLD: u16 = 0x9100;
const ETH_MPLS: u16 = 0x8847;
const ETH_MPLS_MC: u16 = 0x8848;
const ETH_PPPOE: u16 = 0x8864;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..)?
        .first_chunk::<2>()
        .map(|a| u16::from_be_bytes(*a))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..)?
        .first_chunk::<4>()
        .map(|a| u32::from_be_bytes(*a))
}

/// The network layer of a frame: (ethertype-like protocol, payload).
fn link_payload(link: u32, d: &[u8]) -> Result<(u16, &[u8]), Skip> {
    let rest = |n: usize| d.get(n..).ok_or(Skip::Truncated);
    match link {
        link_type::ETHERNET => ethernet(d),
        link_type::RAW | link_type::RAW_BSD | link_type::IPV4 | link_type::IPV6 => {
            Ok((ip_version(d)?, d))
        }
        link_type::NULL | link_type::LOOP => {
            let fam = d.first_chunk::<4>().ok_or(Skip::Truncated)?;
            // The family is in the writer's byte order for NULL: accept both.
            let v = u32::from_le_bytes(*fam).min(u32::from_be_bytes(*fam));
            match v {
                2 => Ok((ETH_IPV4, rest(4)?)),
                24 | 28 | 30 => Ok((ETH_IPV6, rest(4)?)),
                _ => Err(Skip::NotIp(u16::try_from(v).unwrap_or(u16::MAX))),
            }
        }
        link_type::LINUX_SLL => Ok((be16(d, 14).ok_or(Skip::Truncated)?, rest(16)?)),
        link_type::LINUX_SLL2 => Ok((be16(d, 0).ok_or(Skip::Truncated)?, rest(20)?)),
        link_type::PPP | link_type::PPP_HDLC => {
            let d = if d.starts_with(&[0xff, 0x03]) {
                rest(2)?
            } else {
                d
            };
            ppp(d)
        }
        link_type::C_HDLC => Ok((be16(d, 2).ok_or(Skip::Truncated)?, rest(4)?)),
        link_type::FRELAY => frame_relay(d),
        link_type::JUNIPER_ETHER => juniper(d),
        other => Err(Skip::UnsupportedLinkType(other)),
    }
}

fn ip_version(d: &[u8]) -> Result<u16, Skip> {
    match d.first().map(|b| b >> 4) {
        Some(4) => Ok(ETH_IPV4),
        Some(6) => Ok(ETH_IPV6),
        Some(_) => Err(Skip::Malformed),
        None => Err(Skip::Truncated),
    }
}

fn ethernet(d: &[u8]) -> Result<(u16, &[u8]), Skip> {
    let ty = be16(d, 12).ok_or(Skip::Truncated)?;
    let rest = d.get(14..).ok_or(Skip::Truncated)?;
    if ty <= 1500 {
        // 802.3 length field: LLC/SNAP carries the ethertype.
        if rest.starts_with(&[0xaa, 0xaa, 0x03]) {
            let ty = be16(rest, 6).ok_or(Skip::Truncated)?;
            return Ok((ty, rest.get(8..).ok_or(Skip::Truncated)?));
        }
        return Err(Skip::NotIp(ty));
    }
    Ok((ty, rest))
}

fn ppp(d: &[u8]) -> Result<(u16, &[u8]), Skip> {
    // The protocol field is 1 octet when its low bit is set (compressed).
    let first = *d.first().ok_or(Skip::Truncated)?;
    let (proto, n) = if first & 1 == 1 {
        (u16::from(first), 1)
    } else {
        (be16(d, 0).ok_or(Skip::Truncated)?, 2)
    };
    let rest = d.get(n..).ok_or(Skip::Truncated)?;
    match proto {
        0x0021 => Ok((ETH_IPV4, rest)),
        0x0057 => Ok((ETH_IPV6, rest)),
        0x0281 => Ok((ETH_MPLS, rest)),
        other => Err(Skip::NotIp(other)),
    }
}

fn frame_relay(d: &[u8]) -> Result<(u16, &[u8]), Skip> {
    // Q.922 address: 2 octets (the EA bit ends it), then either the RFC 2427
    // control 0x03 and an NLPID, or (Cisco) an ethertype.
    let mut n = 0;
    while d.get(n).is_some_and(|b| b & 1 == 0) && n < 4 {
        n += 1;
    }
    let rest = d.get(n + 1..).ok_or(Skip::Truncated)?;
    if rest.first() == Some(&0x03) {
        let nlpid = *rest.get(1).ok_or(Skip::Truncated)?;
        let after = rest.get(2..).ok_or(Skip::Truncated)?;
        return match nlpid {
            0xcc => Ok((ETH_IPV4, after)),
            0x8e => Ok((ETH_IPV6, after)),
            0x80 => {
                // SNAP: OUI (3) and ethertype (2).
                let ty = be16(after, 3).ok_or(Skip::Truncated)?;
                Ok((ty, after.get(5..).ok_or(Skip::Truncated)?))
            }
            other => Err(Skip::NotIp(u16::from(other))),
        };
    }
    let ty = be16(rest, 0).ok_or(Skip::Truncated)?;
    Ok((ty, rest.get(2..).ok_or(Skip::Truncated)?))
}

fn juniper(d: &[u8]) -> Result<(u16, &[u8]), Skip> {
    // "MGC", flags, then (if the extension flag is set) a 2-octet length
    // and that many octets of TLVs.
    if !d.starts_with(b"MGC") {
        return Err(Skip::Malformed);
    }
    let flags = *d.get(3).ok_or(Skip::Truncated)?;
    let mut n = 4;
    if flags & 0x80 != 0 {
        n += 2 + usize::from(be16(d, 4).ok_or(Skip::Truncated)?);
    }
    let rest = d.get(n..).ok_or(Skip::Truncated)?;
    if flags & 0x02 != 0 {
        // No layer 2 header: the packet starts at the network layer.
        return Ok((ip_version(rest)?, rest));
    }
    ethernet(rest)
}

/// Decodes a frame down to its TCP segment.
pub fn tcp_segment(packet: &Packet) -> Result<TcpSegment, Skip> {
    let (mut proto, mut d) = link_payload(packet.link_type, &packet.data)?;
    // VLAN tags, PPPoE and MPLS, a bounded number of times.
    for _ in 0..16 {
        match proto {
            ETH_VLAN | ETH_QINQ | ETH_QINQ_OLD => {
                proto = be16(d, 2).ok_or(Skip::Truncated)?;
                d = d.get(4..).ok_or(Skip::Truncated)?;
            }
            ETH_PPPOE => {
                let (p, r) = ppp(d.get(6..).ok_or(Skip::Truncated)?)?;
                proto = p;
                d = r;
            }
            ETH_MPLS | ETH_MPLS_MC => {
                let mut n = 0;
                loop {
                    let e = be32(d, n).ok_or(Skip::Truncated)?;
                    n += 4;
                    if e & 0x100 != 0 || n >= 64 {
                        break;
                    }
                }
                d = d.get(n..).ok_or(Skip::Truncated)?;
                proto = ip_version(d)?;
            }
            _ => break,
        }
    }
    let (src, dst, transport, declared) = match proto {
        ETH_IPV4 => ipv4(d)?,
        ETH_IPV6 => ipv6(d)?,
        other => return Err(Skip::NotIp(other)),
    };
    tcp(packet.number, src, dst, transport, declared)
}

/// IPv4: (source, destination, transport octets captured, transport length
/// announced).
fn ipv4(d: &[u8]) -> Result<(IpAddr, IpAddr, &[u8], usize), Skip> {
    let first = *d.first().ok_or(Skip::Truncated)?;
    if first >> 4 != 4 {
        return Err(Skip::Malformed);
    }
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < 20 {
        return Err(Skip::Malformed);
    }
    let total = usize::from(be16(d, 2).ok_or(Skip::Truncated)?);
    let frag = be16(d, 6).ok_or(Skip::Truncated)?;
    let proto = *d.get(9).ok_or(Skip::Truncated)?;
    let s: [u8; 4] = *d
        .get(12..)
        .and_then(|x| x.first_chunk())
        .ok_or(Skip::Truncated)?;
    let t: [u8; 4] = *d
        .get(16..)
        .and_then(|x| x.first_chunk())
        .ok_or(Skip::Truncated)?;
    let src = IpAddr::V4(Ipv4Addr::from(s));
    let dst = IpAddr::V4(Ipv4Addr::from(t));
    if frag & 0x1fff != 0 {
        return Err(Skip::Fragment);
    }
    if proto != 6 {
        return Err(Skip::NotTcp(proto));
    }
    // A total length of 0 happens with TCP segmentation offload: take what
    // was captured.
    let declared = if total == 0 {
        d.len().saturating_sub(ihl)
    } else {
        total.checked_sub(ihl).ok_or(Skip::Malformed)?
    };
    let body = d.get(ihl..).ok_or(Skip::Truncated)?;
    let body = body.get(..declared.min(body.len())).unwrap_or(body);
    Ok((src, dst, body, declared))
}

/// IPv6 and its extension headers.
fn ipv6(d: &[u8]) -> Result<(IpAddr, IpAddr, &[u8], usize), Skip> {
    if d.first().map(|b| b >> 4) != Some(6) {
        return Err(Skip::Malformed);
    }
    let plen = usize::from(be16(d, 4).ok_or(Skip::Truncated)?);
    let mut next = *d.get(6).ok_or(Skip::Truncated)?;
    let s: [u8; 16] = *d
        .get(8..)
        .and_then(|x| x.first_chunk())
        .ok_or(Skip::Truncated)?;
    let t: [u8; 16] = *d
        .get(24..)
        .and_then(|x| x.first_chunk())
        .ok_or(Skip::Truncated)?;
    let body = d.get(40..).ok_or(Skip::Truncated)?;
    // A payload length of 0 is a jumbogram or offload: take what was captured.
    let mut declared = if plen == 0 { body.len() } else { plen };
    let mut body = body.get(..declared.min(body.len())).unwrap_or(body);
    for _ in 0..16 {
        let len = match next {
            // Hop-by-hop, routing, destination options, mobility, HIP, shim6.
            0 | 43 | 60 | 135 | 139 | 140 => {
                usize::from(*body.get(1).ok_or(Skip::Truncated)?) * 8 + 8
            }
            44 => {
                let off = be16(body, 2).ok_or(Skip::Truncated)?;
                if off & 0xfff8 != 0 {
                    return Err(Skip::Fragment);
                }
                8
            }
            // Authentication header: length in 4-octet units, minus 2.
            51 => usize::from(*body.get(1).ok_or(Skip::Truncated)?) * 4 + 8,
            _ => break,
        };
        next = *body.first().ok_or(Skip::Truncated)?;
        body = body.get(len..).ok_or(Skip::Truncated)?;
        declared = declared.checked_sub(len).ok_or(Skip::Malformed)?;
    }
    if next != 6 {
        return Err(Skip::NotTcp(next));
    }
    Ok((
        IpAddr::V6(Ipv6Addr::from(s)),
        IpAddr::V6(Ipv6Addr::from(t)),
        body,
        declared,
    ))
}

fn tcp(
    packet: usize,
    src: IpAddr,
    dst: IpAddr,
    d: &[u8],
    declared: usize,
) -> Result<TcpSegment, Skip> {
    let sport = be16(d, 0).ok_or(Skip::Truncated)?;
    let dport = be16(d, 2).ok_or(Skip::Truncated)?;
    let seq = be32(d, 4).ok_or(Skip::Truncated)?;
    let off = usize::from(*d.get(12).ok_or(Skip::Truncated)? >> 4) * 4;
    let flags = *d.get(13).ok_or(Skip::Truncated)?;
    if off < 20 {
        return Err(Skip::Malformed);
    }
    let payload = d.get(off..).ok_or(Skip::Truncated)?;
    let announced = declared.saturating_sub(off);
    let missing = announced.saturating_sub(payload.len());
    Ok(TcpSegment {
        packet,
        flow: Flow {
            src: Endpoint {
                addr: src,
                port: sport,
            },
            dst: Endpoint {
                addr: dst,
                port: dport,
            },
        },
        seq,
        flags,
        payload: payload.to_vec(),
        missing: u32::try_from(missing).unwrap_or(u32::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4_tcp(payload: &[u8]) -> Vec<u8> {
        let total = 40 + payload.len();
        let mut v = vec![
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            1,
            0x40,
            0,
            64,
            6,
            0,
            0,
        ];
        v.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        v.extend_from_slice(&179u16.to_be_bytes());
        v.extend_from_slice(&40000u16.to_be_bytes());
        v.extend_from_slice(&1000u32.to_be_bytes());
        v.extend_from_slice(&0u32.to_be_bytes());
        v.extend_from_slice(&[0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
        v.extend_from_slice(payload);
        v
    }

    fn packet(link: u32, data: Vec<u8>) -> Packet {
        Packet {
            number: 1,
            timestamp_ns: 0,
            link_type: link,
            original_len: data.len() as u32,
            data,
        }
    }

    #[test]
    fn ethernet_vlan_ipv4() {
        let mut f = vec![0; 12];
        f.extend_from_slice(&[0x81, 0x00, 0, 5, 0x08, 0x00]);
        f.extend(ipv4_tcp(b"hello"));
        let s = tcp_segment(&packet(link_type::ETHERNET, f)).unwrap();
        assert_eq!(s.payload, b"hello");
        assert_eq!(s.seq, 1000);
        assert_eq!(s.flow.src.port, 179);
        assert_eq!(s.flow.to_string(), "10.0.0.1:179 > 10.0.0.2:40000");
        assert_eq!(s.missing, 0);
    }

    #[test]
    fn truncated_payload_is_counted_missing() {
        let mut f = ipv4_tcp(b"hello world");
        f.truncate(f.len() - 6);
        let s = tcp_segment(&packet(link_type::RAW, f)).unwrap();
        assert_eq!(s.payload, b"hello");
        assert_eq!(s.missing, 6);
    }

    #[test]
    fn ipv6_with_extension_header() {
        let tcp4 = ipv4_tcp(b"xy");
        let tcp_part = &tcp4[20..];
        let mut v = vec![0x60, 0, 0, 0];
        v.extend_from_slice(&((8 + tcp_part.len()) as u16).to_be_bytes());
        v.extend_from_slice(&[0, 64]);
        v.extend_from_slice(&[0; 15]);
        v.push(1);
        v.extend_from_slice(&[0; 15]);
        v.push(2);
        v.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
        v.extend_from_slice(tcp_part);
        let mut sll = vec![0; 14];
        sll.extend_from_slice(&[0x86, 0xdd]);
        sll.extend(v);
        let s = tcp_segment(&packet(link_type::LINUX_SLL, sll)).unwrap();
        assert_eq!(s.payload, b"xy");
        assert_eq!(s.flow.src.to_string(), "[::1]:179");
    }

    #[test]
    fn other_links() {
        let ip = ipv4_tcp(b"z");
        let mut hdlc = vec![0x0f, 0, 0x08, 0];
        hdlc.extend(&ip);
        assert!(tcp_segment(&packet(link_type::C_HDLC, hdlc)).is_ok());
        let mut ppp = vec![0xff, 0x03, 0, 0x21];
        ppp.extend(&ip);
        assert!(tcp_segment(&packet(link_type::PPP, ppp)).is_ok());
        let mut fr = vec![0x18, 0x61, 0x08, 0x00];
        fr.extend(&ip);
        assert!(tcp_segment(&packet(link_type::FRELAY, fr)).is_ok());
        let mut fr = vec![0x18, 0x61, 0x03, 0xcc];
        fr.extend(&ip);
        assert!(tcp_segment(&packet(link_type::FRELAY, fr)).is_ok());
        let mut null = vec![2, 0, 0, 0];
        null.extend(&ip);
        assert!(tcp_segment(&packet(link_type::NULL, null)).is_ok());
        let mut jun = b"MGC\x80\x00\x02\x01\x00".to_vec();
        jun.extend_from_slice(&[0; 12]);
        jun.extend_from_slice(&[0x08, 0x00]);
        jun.extend(&ip);
        assert!(tcp_segment(&packet(link_type::JUNIPER_ETHER, jun)).is_ok());
        let mut sll2 = vec![0x08, 0x00];
        sll2.extend_from_slice(&[0; 18]);
        sll2.extend(&ip);
        assert!(tcp_segment(&packet(link_type::LINUX_SLL2, sll2)).is_ok());
        let mut mpls = vec![0; 12];
        mpls.extend_from_slice(&[0x88, 0x47, 0, 0, 0x11, 0xff]);
        mpls.extend(&ip);
        assert!(tcp_segment(&packet(link_type::ETHERNET, mpls)).is_ok());
    }

    #[test]
    fn no_panic_on_any_prefix() {
        let mut f = vec![0; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend(ipv4_tcp(b"payload"));
        for link in [0, 1, 9, 101, 104, 107, 113, 178, 276] {
            for n in 0..f.len() {
                let _ = tcp_segment(&packet(link, f[..n].to_vec()));
            }
        }
    }
}

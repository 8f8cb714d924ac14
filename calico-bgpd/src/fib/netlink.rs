//! Netlink I/O: one `NETLINK_ROUTE` socket, the encoding of our requests
//! and the decoding of what the kernel sends.
//!
//! Message types and their wire form come from `netlink-packet-route` and
//! `netlink-packet-core`; the socket is `netlink-sys`'s, driven by tokio's
//! readiness. `rtnetlink` (built on the same crates) is not used: its
//! connection forwards multicast events through an unbounded channel, and it
//! sends one request per datagram; here requests are packed many to a
//! datagram, and events are read straight from the socket, so memory is
//! bounded by the socket buffer and an overflow shows as `ENOBUFS`, which
//! the engine answers with a re-dump.
//!
//! One socket carries requests, their acknowledgements, dumps and the
//! multicast events (route, link and address groups). The kernel handles
//! the requests of a datagram in order while it is being sent, answers a
//! failed one at once, and queues the event of each change before the
//! next answer; only the last request of a batch asks for an
//! acknowledgement. So once that acknowledgement is read, the failures of
//! the batch and the events of its changes have been read too: the mirror
//! is fed by events only, in the kernel's order, and answers are only used
//! for errors.

use std::io;
use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST,
    NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteNextHop,
    RouteNextHopFlags, RouteProtocol, RouteScope, RouteType, RouteVia,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{AsyncSocket, AsyncSocketExt, SocketAddr, TokioSocket, protocols::NETLINK_ROUTE};

use super::reconcile::Op;
use super::route::{Family, KernelKind, KernelNextHop, KernelRoute, ResolvedRoute};

/// Multicast groups (`RTNLGRP_*`).
const RTNLGRP_LINK: u32 = 1;
const RTNLGRP_IPV4_IFADDR: u32 = 5;
const RTNLGRP_IPV4_ROUTE: u32 = 7;
const RTNLGRP_IPV6_IFADDR: u32 = 9;
const RTNLGRP_IPV6_ROUTE: u32 = 11;

/// `NLMSGERR_ATTR_MSG`: the text of an extended acknowledgement.
const NLMSGERR_ATTR_MSG: u16 = 1;
/// `NLM_F_CAPPED` on an acknowledgement: the request is cut to its header.
const NLM_F_CAPPED: u16 = 0x100;
/// `NLM_F_ACK_TLVS` on an acknowledgement: TLVs follow the request.
const NLM_F_ACK_TLVS: u16 = 0x200;

/// Largest datagram read: dumps are cut by the kernel at 32 KiB.
const RECV_BUF: usize = 64 << 10;

/// An error the kernel answered a request with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KernelError {
    /// The errno (positive).
    pub(crate) errno: i32,
    /// The extended acknowledgement's text, if the kernel gave one.
    pub(crate) message: Option<String>,
}

/// What one received netlink message says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Incoming {
    /// The acknowledgement of request `seq`: `None` for success.
    Ack {
        seq: u32,
        error: Option<KernelError>,
    },
    /// The end of dump `seq`.
    Done { seq: u32, interrupted: bool },
    /// A route, from a dump (`seq` is the dump's) or an event (`seq` 0 or
    /// the request's that caused it).
    NewRoute {
        seq: u32,
        interrupted: bool,
        replace: bool,
        route: KernelRoute,
    },
    /// A route deleted.
    DelRoute { route: KernelRoute },
    /// A link, from the link dump or an event.
    NewLink {
        seq: u32,
        index: u32,
        name: Option<String>,
        up: bool,
    },
    /// A link removed.
    DelLink { index: u32 },
    /// An address added on interface `index`.
    NewAddr { family: Option<Family>, index: u32 },
    /// An address removed from interface `index`.
    DelAddr { family: Option<Family>, index: u32 },
    /// Something else, or a route of a family we do not manage.
    Other,
    /// A message that could not be read.
    Malformed(String),
}

/// The socket.
pub(crate) struct NlSocket {
    sock: TokioSocket,
    buf: Vec<u8>,
    rcvbuf: usize,
}

impl NlSocket {
    /// Opens the socket in the current network namespace, joined to the
    /// route, link and address groups, asking for a receive buffer of
    /// `rcvbuf` bytes (the kernel caps it at `net.core.rmem_max`).
    pub(crate) fn open(rcvbuf: usize) -> io::Result<NlSocket> {
        let mut sock = TokioSocket::new(NETLINK_ROUTE)?;
        let s = sock.socket_mut();
        s.bind_auto()?;
        for g in [
            RTNLGRP_LINK,
            RTNLGRP_IPV4_IFADDR,
            RTNLGRP_IPV4_ROUTE,
            RTNLGRP_IPV6_IFADDR,
            RTNLGRP_IPV6_ROUTE,
        ] {
            s.add_membership(g)?;
        }
        // Best effort: each only improves things where the kernel has it.
        let _ = s.set_rx_buf_sz(rcvbuf);
        let _ = s.set_ext_ack(true);
        let _ = s.set_cap_ack(true);
        let _ = s.set_netlink_get_strict_chk(true);
        let rcvbuf = s.get_rx_buf_sz().unwrap_or(212_992);
        Ok(NlSocket {
            sock,
            buf: Vec::with_capacity(RECV_BUF),
            rcvbuf,
        })
    }

    /// The receive buffer the kernel granted, in bytes (already doubled).
    pub(crate) fn rcvbuf(&self) -> usize {
        self.rcvbuf
    }

    /// Sends one datagram of requests to the kernel.
    pub(crate) async fn send(&self, data: &[u8]) -> io::Result<()> {
        let kernel = SocketAddr::new(0, 0);
        let n = self.sock.send_to(data, &kernel).await?;
        if n != data.len() {
            return Err(io::Error::other(format!(
                "netlink send cut short: {n} of {} bytes",
                data.len()
            )));
        }
        Ok(())
    }

    /// Receives one datagram and decodes its messages. `ENOBUFS` (events
    /// were lost) comes back as an error of that errno.
    pub(crate) async fn recv(&mut self) -> io::Result<Vec<Incoming>> {
        self.buf.clear();
        self.sock.recv(&mut self.buf).await?;
        Ok(decode_datagram(&self.buf))
    }
}

/// Whether `e` is `ENOBUFS`.
pub(crate) fn is_overrun(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENOBUFS)
}

// ---------------------------------------------------------------------------
// Encoding

fn address_family(family: Family) -> AddressFamily {
    match family {
        Family::V4 => AddressFamily::Inet,
        Family::V6 => AddressFamily::Inet6,
    }
}

fn push_message(out: &mut Vec<u8>, flags: u16, seq: u32, msg: RouteNetlinkMessage) {
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut m = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
    m.finalize();
    let start = out.len();
    let len = m.buffer_len();
    out.resize(start + len, 0);
    if let Some(slot) = out.get_mut(start..) {
        m.serialize(slot);
    }
}

fn route_header(prefix: &IpNet, table: u32, protocol: u8) -> RouteHeader {
    RouteHeader {
        address_family: address_family(Family::of(prefix)),
        destination_prefix_length: prefix.prefix_len(),
        table: u8::try_from(table).unwrap_or(RouteHeader::RT_TABLE_UNSPEC),
        protocol: RouteProtocol::from(protocol),
        ..RouteHeader::default()
    }
}

fn base_attributes(prefix: &IpNet, table: u32, metric: u32) -> Vec<RouteAttribute> {
    vec![
        RouteAttribute::Destination(RouteAddress::from(prefix.network())),
        RouteAttribute::Table(table),
        RouteAttribute::Priority(metric),
    ]
}

/// Appends the request for `op` to `out`, without `NLM_F_ACK`: the kernel
/// answers a failed request anyway, and a batch asks for an
/// acknowledgement of its last request only ([`set_ack`]), which then
/// stands for all of them (requests are handled in order).
pub(crate) fn encode_op(op: &Op, seq: u32, table: u32, protocol: u8, out: &mut Vec<u8>) {
    let mut msg = RouteMessage::default();
    let (flags, kind) = match op {
        Op::Add {
            prefix,
            metric,
            route,
        }
        | Op::Replace {
            prefix,
            metric,
            route,
        } => {
            msg.header = route_header(prefix, table, protocol);
            msg.header.scope = RouteScope::Universe;
            msg.attributes = base_attributes(prefix, table, *metric);
            match route {
                ResolvedRoute::Blackhole => msg.header.kind = RouteType::BlackHole,
                ResolvedRoute::Unicast(hops) => {
                    msg.header.kind = RouteType::Unicast;
                    match hops.as_slice() {
                        [one] => {
                            msg.attributes
                                .push(RouteAttribute::Gateway(RouteAddress::from(one.gateway)));
                            if let Some(oif) = one.oif {
                                msg.attributes.push(RouteAttribute::Oif(oif));
                            }
                            if one.onlink {
                                msg.header.flags |= RouteFlags::Onlink;
                            }
                        }
                        many => {
                            let nhs = many
                                .iter()
                                .map(|h| {
                                    let mut nh = RouteNextHop::default();
                                    nh.interface_index = h.oif.unwrap_or(0);
                                    if h.onlink {
                                        nh.flags |= RouteNextHopFlags::Onlink;
                                    }
                                    nh.attributes = vec![RouteAttribute::Gateway(
                                        RouteAddress::from(h.gateway),
                                    )];
                                    nh
                                })
                                .collect();
                            msg.attributes.push(RouteAttribute::MultiPath(nhs));
                        }
                    }
                }
            }
            let f = if matches!(op, Op::Add { .. }) {
                NLM_F_CREATE | NLM_F_EXCL
            } else {
                NLM_F_CREATE | NLM_F_REPLACE
            };
            (
                f,
                RouteNetlinkMessage::NewRoute as fn(RouteMessage) -> RouteNetlinkMessage,
            )
        }
        Op::Delete { prefix, metric } => {
            msg.header = route_header(prefix, table, protocol);
            // Any scope and type: the protocol and metric select the route.
            msg.header.scope = RouteScope::NoWhere;
            msg.header.kind = RouteType::Unspec;
            msg.attributes = base_attributes(prefix, table, *metric);
            (
                0,
                RouteNetlinkMessage::DelRoute as fn(RouteMessage) -> RouteNetlinkMessage,
            )
        }
    };
    push_message(out, NLM_F_REQUEST | flags, seq, kind(msg));
}

/// Adds `NLM_F_ACK` to the message that starts `msg`.
pub(crate) fn set_ack(msg: &mut [u8]) {
    if let Ok(mut b) = NetlinkBuffer::new_checked(msg) {
        let f = b.flags();
        b.set_flags(f | NLM_F_ACK);
    }
}

/// Appends a dump request for `family`'s routes of `table`.
pub(crate) fn encode_route_dump(family: Family, table: u32, seq: u32, out: &mut Vec<u8>) {
    let mut msg = RouteMessage::default();
    msg.header.address_family = address_family(family);
    // With strict checking, the kernel dumps only this table.
    msg.header.table = u8::try_from(table).unwrap_or(RouteHeader::RT_TABLE_UNSPEC);
    msg.attributes = vec![RouteAttribute::Table(table)];
    push_message(
        out,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        RouteNetlinkMessage::GetRoute(msg),
    );
}

/// Appends a dump request for all links.
pub(crate) fn encode_link_dump(seq: u32, out: &mut Vec<u8>) {
    push_message(
        out,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        RouteNetlinkMessage::GetLink(LinkMessage::default()),
    );
}

// ---------------------------------------------------------------------------
// Decoding

/// Decodes every message of a datagram; what cannot be read is reported as
/// [`Incoming::Malformed`] and the rest still decoded.
pub(crate) fn decode_datagram(data: &[u8]) -> Vec<Incoming> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    // Bounded: each step moves forward by at least a header.
    while let Some(rest) = data.get(offset..) {
        if rest.len() < 16 {
            break;
        }
        let len = match NetlinkBuffer::new_checked(rest) {
            Ok(b) => b.length() as usize,
            Err(e) => {
                out.push(Incoming::Malformed(format!("netlink header: {e}")));
                break;
            }
        };
        if len < 16 {
            out.push(Incoming::Malformed(format!("netlink length {len}")));
            break;
        }
        let Some(one) = rest.get(..len) else {
            out.push(Incoming::Malformed(format!(
                "netlink length {len} beyond the datagram"
            )));
            break;
        };
        out.push(decode_message(one));
        offset += (len + 3) & !3;
    }
    out
}

fn decode_message(bytes: &[u8]) -> Incoming {
    let msg = match NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes) {
        Ok(m) => m,
        Err(e) => {
            // Types we did not ask about fail to decode; only report routes.
            let ty = NetlinkBuffer::new_checked(bytes)
                .map(|b| b.message_type())
                .unwrap_or(0);
            return if matches!(ty, 24 | 25) {
                Incoming::Malformed(format!("route message: {e}"))
            } else {
                Incoming::Other
            };
        }
    };
    let header = msg.header;
    let interrupted = header.flags & NLM_F_DUMP_INTR != 0;
    let seq = header.sequence_number;
    match msg.payload {
        NetlinkPayload::Error(e) => {
            let error = e.code.map(|code| KernelError {
                errno: code.get().saturating_abs(),
                message: ack_message(header.flags, &e.header),
            });
            Incoming::Ack { seq, error }
        }
        NetlinkPayload::Done(_) => Incoming::Done { seq, interrupted },
        NetlinkPayload::InnerMessage(inner) => match inner {
            RouteNetlinkMessage::NewRoute(m) => match kernel_route(&m) {
                Some(route) => Incoming::NewRoute {
                    seq,
                    interrupted,
                    replace: header.flags & NLM_F_REPLACE != 0,
                    route,
                },
                None => Incoming::Other,
            },
            RouteNetlinkMessage::DelRoute(m) => match kernel_route(&m) {
                Some(route) => Incoming::DelRoute { route },
                None => Incoming::Other,
            },
            RouteNetlinkMessage::NewLink(m) => Incoming::NewLink {
                seq,
                index: m.header.index,
                name: m.attributes.iter().find_map(|a| match a {
                    LinkAttribute::IfName(n) => Some(n.clone()),
                    _ => None,
                }),
                up: m.header.flags.contains(LinkFlags::Up),
            },
            RouteNetlinkMessage::DelLink(m) => Incoming::DelLink {
                index: m.header.index,
            },
            RouteNetlinkMessage::NewAddress(m) => Incoming::NewAddr {
                family: family_of(m.header.family),
                index: m.header.index,
            },
            RouteNetlinkMessage::DelAddress(m) => Incoming::DelAddr {
                family: family_of(m.header.family),
                index: m.header.index,
            },
            _ => Incoming::Other,
        },
        _ => Incoming::Other,
    }
}

fn family_of(af: AddressFamily) -> Option<Family> {
    match af {
        AddressFamily::Inet => Some(Family::V4),
        AddressFamily::Inet6 => Some(Family::V6),
        _ => None,
    }
}

/// The text of an extended acknowledgement: after the echoed request (its
/// header only if capped), TLVs, of which `NLMSGERR_ATTR_MSG` is a
/// NUL-terminated string.
fn ack_message(ack_flags: u16, echoed: &[u8]) -> Option<String> {
    if ack_flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let skip = if ack_flags & NLM_F_CAPPED != 0 {
        16
    } else {
        let len = echoed.get(..4)?;
        u32::from_ne_bytes(len.try_into().ok()?) as usize
    };
    let mut tlvs = echoed.get(((skip + 3) & !3)..)?;
    // Bounded: each step consumes at least four bytes.
    while tlvs.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([*tlvs.first()?, *tlvs.get(1)?]));
        let ty = u16::from_ne_bytes([*tlvs.get(2)?, *tlvs.get(3)?]) & 0x3fff;
        if len < 4 {
            return None;
        }
        let value = tlvs.get(4..len)?;
        if ty == NLMSGERR_ATTR_MSG {
            let text = value.split(|b| *b == 0).next().unwrap_or(value);
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        tlvs = tlvs.get(((len + 3) & !3).min(tlvs.len())..)?;
    }
    None
}

fn addr(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn via(v: &RouteVia) -> Option<IpAddr> {
    match v {
        RouteVia::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteVia::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn gateway_of(attrs: &[RouteAttribute]) -> Option<IpAddr> {
    attrs.iter().find_map(|a| match a {
        RouteAttribute::Gateway(g) => addr(g),
        RouteAttribute::Via(v) => via(v),
        _ => None,
    })
}

/// A kernel route from a route message; `None` for families other than
/// IPv4 and IPv6 or an unreadable destination.
pub(crate) fn kernel_route(m: &RouteMessage) -> Option<KernelRoute> {
    let family = family_of(m.header.address_family)?;
    let len = m.header.destination_prefix_length;
    let dst = m.attributes.iter().find_map(|a| match a {
        RouteAttribute::Destination(d) => addr(d),
        _ => None,
    });
    let dst = match (dst, family) {
        (Some(d), _) => d,
        (None, Family::V4) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        (None, Family::V6) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
    };
    if Family::of_addr(&dst) != family {
        return None;
    }
    let prefix = IpNet::new(dst, len).ok()?.trunc();
    let mut table = u32::from(m.header.table);
    let mut metric = 0;
    let mut oif = 0;
    let mut multipath = None;
    for a in &m.attributes {
        match a {
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Priority(p) => metric = *p,
            RouteAttribute::Oif(o) => oif = *o,
            RouteAttribute::MultiPath(nhs) => multipath = Some(nhs),
            _ => {}
        }
    }
    let kind = match m.header.kind {
        RouteType::Unicast => {
            let hops = match multipath {
                Some(nhs) => nhs
                    .iter()
                    .map(|nh| KernelNextHop {
                        gateway: gateway_of(&nh.attributes),
                        oif: nh.interface_index,
                        onlink: nh.flags.contains(RouteNextHopFlags::Onlink),
                        hops: nh.hops,
                    })
                    .collect(),
                None => vec![KernelNextHop {
                    gateway: gateway_of(&m.attributes),
                    oif,
                    onlink: m.header.flags.contains(RouteFlags::Onlink),
                    hops: 0,
                }],
            };
            KernelKind::Unicast(hops)
        }
        RouteType::BlackHole => KernelKind::Blackhole,
        other => KernelKind::Other(u8::from(other)),
    };
    Some(KernelRoute {
        prefix,
        table,
        protocol: u8::from(m.header.protocol),
        metric,
        tos: m.header.tos,
        src_len: m.header.source_prefix_length,
        cloned: m.header.flags.contains(RouteFlags::Cloned),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::super::route::ResolvedHop;
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn hop(gw: &str, oif: Option<u32>, onlink: bool) -> ResolvedHop {
        ResolvedHop {
            gateway: gw.parse().unwrap(),
            oif,
            onlink,
        }
    }

    /// Encodes `op`, decodes the bytes as the kernel would echo them in an
    /// event, and returns the route.
    fn round_trip(op: &Op) -> (u16, KernelRoute) {
        let mut buf = Vec::new();
        encode_op(op, 7, 254, 12, &mut buf);
        let nl = NetlinkBuffer::new_checked(&buf[..]).unwrap();
        assert_eq!(nl.length() as usize, buf.len());
        assert_eq!(nl.sequence_number(), 7);
        let flags = nl.flags();
        let msg = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf).unwrap();
        let NetlinkPayload::InnerMessage(
            RouteNetlinkMessage::NewRoute(m) | RouteNetlinkMessage::DelRoute(m),
        ) = msg.payload
        else {
            panic!("not a route message");
        };
        (flags, kernel_route(&m).unwrap())
    }

    #[test]
    fn add_onlink_single_hop() {
        let op = Op::Add {
            prefix: net("198.19.4.0/26"),
            metric: 1024,
            route: ResolvedRoute::Unicast(vec![hop("198.18.0.12", Some(9), true)]),
        };
        let (flags, r) = round_trip(&op);
        assert_eq!(flags, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL);
        assert_eq!(r.prefix, net("198.19.4.0/26"));
        assert_eq!((r.table, r.protocol, r.metric), (254, 12, 1024));
        assert_eq!(
            r.kind,
            KernelKind::Unicast(vec![KernelNextHop {
                gateway: Some("198.18.0.12".parse().unwrap()),
                oif: 9,
                onlink: true,
                hops: 0
            }])
        );
    }

    #[test]
    fn replace_multipath_and_blackhole_and_delete() {
        let op = Op::Replace {
            prefix: net("2001:db8:5::/64"),
            metric: 1024,
            route: ResolvedRoute::Unicast(vec![
                hop("2001:db8::1", None, false),
                hop("2001:db8::3", Some(4), true),
            ]),
        };
        let (flags, r) = round_trip(&op);
        assert_eq!(flags, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE);
        let KernelKind::Unicast(hops) = &r.kind else {
            panic!("{r:?}")
        };
        assert_eq!(hops.len(), 2);
        assert_eq!(hops[0].oif, 0);
        assert!(hops[1].onlink && hops[1].oif == 4);

        let bh = Op::Add {
            prefix: net("198.19.9.0/26"),
            metric: 0,
            route: ResolvedRoute::Blackhole,
        };
        assert_eq!(round_trip(&bh).1.kind, KernelKind::Blackhole);

        let del = Op::Delete {
            prefix: net("198.19.9.0/26"),
            metric: 1024,
        };
        let (flags, r) = round_trip(&del);
        assert_eq!(flags, NLM_F_REQUEST);
        let mut buf = Vec::new();
        encode_op(&del, 9, 254, 12, &mut buf);
        set_ack(&mut buf);
        let nl = NetlinkBuffer::new_checked(&buf[..]).unwrap();
        assert_eq!(nl.flags(), NLM_F_REQUEST | NLM_F_ACK);
        assert_eq!((r.protocol, r.metric), (12, 1024));
    }

    #[test]
    fn datagrams_with_several_messages_and_garbage() {
        let mut buf = Vec::new();
        for (i, p) in ["198.19.0.0/24", "198.19.1.0/24"].iter().enumerate() {
            encode_op(
                &Op::Add {
                    prefix: net(p),
                    metric: 1,
                    route: ResolvedRoute::Blackhole,
                },
                i as u32 + 1,
                254,
                12,
                &mut buf,
            );
        }
        let got = decode_datagram(&buf);
        assert_eq!(got.len(), 2);
        assert!(
            matches!(&got[1], Incoming::NewRoute { seq: 2, route, .. } if route.prefix == net("198.19.1.0/24"))
        );
        // A length pointing past the end: reported, no panic.
        let mut bad = buf.clone();
        bad[0] = 0xff;
        bad[1] = 0xff;
        assert!(matches!(decode_datagram(&bad)[0], Incoming::Malformed(_)));
        // Truncated and empty datagrams.
        assert!(decode_datagram(&buf[..10]).is_empty());
        assert!(decode_datagram(&[]).is_empty());
        for cut in 16..buf.len() {
            let _ = decode_datagram(&buf[..cut]);
        }
    }

    #[test]
    fn acknowledgements_with_extended_text() {
        // NLMSG_ERROR, flags CAPPED|ACK_TLVS, seq 5, error -101, the echoed
        // request header, then NLMSGERR_ATTR_MSG "Nexthop has invalid gateway".
        let text = b"Nexthop has invalid gateway\0";
        let tlv_len = 4 + text.len();
        let mut payload = Vec::new();
        payload.extend_from_slice(&(-101i32).to_ne_bytes());
        let mut echoed = vec![0u8; 16];
        echoed[..4].copy_from_slice(&40u32.to_ne_bytes());
        payload.extend_from_slice(&echoed);
        payload.extend_from_slice(&(tlv_len as u16).to_ne_bytes());
        payload.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        payload.extend_from_slice(text);
        while payload.len() % 4 != 0 {
            payload.push(0);
        }
        let mut msg = Vec::new();
        msg.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
        msg.extend_from_slice(&2u16.to_ne_bytes());
        msg.extend_from_slice(&(NLM_F_CAPPED | NLM_F_ACK_TLVS).to_ne_bytes());
        msg.extend_from_slice(&5u32.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(&payload);
        let got = decode_datagram(&msg);
        assert_eq!(
            got,
            vec![Incoming::Ack {
                seq: 5,
                error: Some(KernelError {
                    errno: 101,
                    message: Some("Nexthop has invalid gateway".into())
                })
            }]
        );
        // A success acknowledgement.
        let mut ok = msg[..16].to_vec();
        ok[..4].copy_from_slice(&36u32.to_ne_bytes());
        ok[6..8].copy_from_slice(&NLM_F_CAPPED.to_ne_bytes());
        ok.extend_from_slice(&0i32.to_ne_bytes());
        ok.extend_from_slice(&echoed);
        assert_eq!(
            decode_datagram(&ok),
            vec![Incoming::Ack {
                seq: 5,
                error: None
            }]
        );
    }
}

//! Decodes the BGP messages of every packet capture of the shared corpus
//! (`pcap/**` under [`testkit::corpus_dir`]): reads the file (pcap, pcapng,
//! gzip), reassembles the TCP streams, splits them into messages and
//! decodes each with bgp-wire, tracking the OPENs of every connection so
//! that what follows decodes with the negotiated context.
//!
//! The expected counts are in [`ROWS`], one row per file, next to tshark's
//! from `SOURCES.md`; where ours differ, the row says why and which is
//! right. On fuzzer inputs tshark stops dissecting a segment at the first
//! message it cannot frame, while we (like tcpdump) resynchronise on the
//! next marker, so we find more messages. Run with `cargo test -p bgp-wire --test pcap_corpus`
//! (`BGP_CORPUS=/path/to/corpus` when the default path does not resolve).

// Helpers outside #[test] functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use bgp_wire::attribute::DecodedAttributes;
use bgp_wire::message::notification::ShutdownCommunication;
use bgp_wire::{
    AfiSafi, Capability, DecodeError, Direction, Message, Open, PeerType, SessionContext,
};
use bytes::{Bytes, BytesMut};
use testkit::bgp::{FrameEvent, MAX_EXTENDED_LEN, MAX_LEN, events_in_order};
use testkit::packet::{Endpoint, Flow};
use testkit::reassembly::Stream;

/// One capture: tshark's counts as SOURCES.md gives them, ours when they
/// differ (with the reason), and the problems we meet, by kind.
struct Row {
    file: &'static str,
    /// The "tshark BGP counts" column of SOURCES.md.
    tshark: &'static str,
    /// Our counts, when they differ from tshark's.
    ours: Option<&'static str>,
    /// Why they differ, and which is right.
    why: &'static str,
    /// What could not be framed or decoded, `kind=count` joined by "; ",
    /// empty for a clean capture. Kinds: `skip` (octets up to the next
    /// marker), `badlen` (header length below 19 or above the maximum),
    /// `cut-gap` / `cut-end` (message cut by a hole or the end of the
    /// capture), `TYPE c/s` (message rejected by bgp-wire with that
    /// NOTIFICATION code/subcode), `attrs c/s` (UPDATE whose attributes
    /// force a session reset), `7606 ACTION aT 3/s` (a problem with
    /// attribute type T that RFC 7606 handles without a reset).
    problems: &'static str,
}

const fn row(file: &'static str, tshark: &'static str) -> Row {
    Row {
        file,
        tshark,
        ours: None,
        why: "",
        problems: "",
    }
}

const fn bad(file: &'static str, tshark: &'static str, problems: &'static str) -> Row {
    Row {
        file,
        tshark,
        ours: None,
        why: "",
        problems,
    }
}

const fn differs(
    file: &'static str,
    tshark: &'static str,
    ours: &'static str,
    why: &'static str,
    problems: &'static str,
) -> Row {
    Row {
        file,
        tshark,
        ours: Some(ours),
        why,
        problems,
    }
}

/// tshark's mp_reach_v6 column leaves out the prefixes of IPv6 L3VPN NLRI
/// (AFI 2, SAFI 128; its mp_reach_v4 equals our count of the IPv4 L3VPN
/// ones). We count them, and NetGauze's expected decoding lists them
/// (Ipv6MplsVpnUnicast, see [`netgauze_announced_prefixes`]): ours is
/// right.
const VPNV6: &str = "mp_reach_v6 counts the IPv6 L3VPN prefixes tshark leaves out";

const ROWS: &[Row] = &[
    row(
        "bgp-rs/4-byte_AS_numbers_Full_Support.pcap",
        "KEEPALIVE=5 OPEN=2 UPDATE=9 ipv4_nlri=7",
    ),
    row(
        "bgp-rs/4-byte_AS_numbers_Mixed_Scenario.pcap",
        "KEEPALIVE=2 UPDATE=2 ipv4_nlri=2",
    ),
    row("bgp-rs/BGP_flowspec_dscp.pcap", "UPDATE=1"),
    row(
        "bgp-rs/BGP_flowspec_redirect.pcap",
        "KEEPALIVE=4 OPEN=2 UPDATE=6 mp_reach_v6=2",
    ),
    row("bgp-rs/BGP_flowspec_v4.pcap", "UPDATE=1"),
    row("bgp-rs/BGP_flowspec_v6.pcap", "KEEPALIVE=1 OPEN=1 UPDATE=2"),
    row("bgp-rs/BGP_notification_msg.pcap", "NOTIFICATION=1 OPEN=2"),
    row(
        "bgp-rs/bgp_withdraw.pcap",
        "UPDATE=2 ipv4_withdrawn=1 mp_unreach_v6=1",
    ),
    row(
        "netgauze/multiple-sessions.pcap",
        "KEEPALIVE=171 OPEN=20 UPDATE=100 ipv4_nlri=68 mp_reach_v6=60",
    ),
    differs(
        "netgauze/pmacct-300-BGP-IPv6-CISCO-extNH_enc_traffic-00.pcap",
        "KEEPALIVE=1 OPEN=1 UPDATE=45 mp_reach_v4=104",
        "KEEPALIVE=1 OPEN=1 UPDATE=45 mp_reach_v4=104 mp_reach_v6=59",
        VPNV6,
        "",
    ),
    // The capture ends inside the 6th UPDATE: neither tool counts it.
    bad(
        "netgauze/pmacct-301-BGP-CISCO-pretag_traffic-00.pcap",
        "KEEPALIVE=1 OPEN=1 UPDATE=20 mp_reach_v4=38",
        "cut-end=1",
    ),
    differs(
        "netgauze/pmacct-302-BGP-IPv6-multiple-sources_traffic-00.pcap",
        "KEEPALIVE=1 OPEN=1 UPDATE=24 mp_reach_v4=65",
        "KEEPALIVE=1 OPEN=1 UPDATE=24 mp_reach_v4=65 mp_reach_v6=12",
        VPNV6,
        "cut-end=1",
    ),
    bad(
        "netgauze/pmacct-302-BGP-IPv6-multiple-sources_traffic-01.pcap",
        "KEEPALIVE=1 OPEN=1 UPDATE=26 mp_reach_v4=43",
        "cut-end=1",
    ),
    differs(
        "netgauze/pmacct-302-BGP-IPv6-multiple-sources_traffic-02.pcap",
        "KEEPALIVE=1 OPEN=1 UPDATE=8 mp_reach_v4=16",
        "KEEPALIVE=1 OPEN=1 UPDATE=8 mp_reach_v4=16 mp_reach_v6=2",
        VPNV6,
        "",
    ),
    differs(
        "netgauze/pmacct-302-BGP-IPv6-multiple-sources_traffic-03.pcap",
        "KEEPALIVE=1 OPEN=1 UPDATE=8 mp_reach_v4=16",
        "KEEPALIVE=1 OPEN=1 UPDATE=8 mp_reach_v4=16 mp_reach_v6=2",
        VPNV6,
        "",
    ),
    differs(
        "netgauze/pmacct-303-BGP-high-availability_traffic-00.pcap",
        "KEEPALIVE=1 OPEN=1 UPDATE=45 mp_reach_v4=104",
        "KEEPALIVE=1 OPEN=1 UPDATE=45 mp_reach_v4=104 mp_reach_v6=59",
        VPNV6,
        "",
    ),
    row(
        "netgauze/pmacct-305-BGP-mem-leak-test_bgp-multi-sources-open.pcap",
        "OPEN=8",
    ),
    differs(
        "netgauze/pmacct-305-BGP-mem-leak-test_bgp-multi-sources-update-keepalive.pcap",
        "KEEPALIVE=32 UPDATE=416 mp_reach_v4=328",
        "KEEPALIVE=32 UPDATE=416 mp_reach_v4=328 mp_reach_v6=198",
        VPNV6,
        "",
    ),
    row(
        "packetlife/BGP_AS_set.pcap",
        "KEEPALIVE=7 OPEN=2 UPDATE=1 ipv4_nlri=1",
    ),
    row("packetlife/BGP_MD5.pcap", "KEEPALIVE=8 OPEN=2"),
    row(
        "packetlife/BGP_MP_NLRI.pcap",
        "KEEPALIVE=16 OPEN=4 UPDATE=4 ipv4_nlri=6 mp_reach_v6=6",
    ),
    row(
        "packetlife/BGP_hard_reset.pcap",
        "KEEPALIVE=12 OPEN=2 UPDATE=12 ipv4_nlri=26",
    ),
    row("packetlife/BGP_notification.pcap", "NOTIFICATION=1 OPEN=1"),
    row("packetlife/BGP_redist.pcap", "UPDATE=2 mp_reach_v4=2"),
    row(
        "packetlife/BGP_soft_reset.pcap",
        "KEEPALIVE=8 ROUTE-REFRESH=1 UPDATE=12 ipv4_nlri=26",
    ),
    row(
        "packetlife/EBGP_adjacency.pcap",
        "KEEPALIVE=12 OPEN=2 UPDATE=12 ipv4_nlri=26",
    ),
    row(
        "packetlife/bgp-add-path.pcap",
        "KEEPALIVE=4 OPEN=2 ROUTE-REFRESH=2 UPDATE=4 ipv4_nlri=4",
    ),
    row(
        "packetlife/bgp_as_confed_sequence.pcapng",
        "UPDATE=3 ipv4_nlri=3",
    ),
    row("packetlife/bgp_med.pcapng", "UPDATE=2 ipv4_nlri=3"),
    row("packetlife/bgp_orf_capabilty_negotitation.pcapng", "OPEN=1"),
    row(
        "packetlife/bgp_orf_prefix_advertisement.pcapng",
        "KEEPALIVE=1 ROUTE-REFRESH=1",
    ),
    row(
        "packetlife/bgplu.pcap",
        "KEEPALIVE=3 OPEN=2 UPDATE=4 ipv4_nlri=1 mp_reach_v4=1",
    ),
    row(
        "packetlife/no-advertise_community.pcapng",
        "ROUTE-REFRESH=1 UPDATE=1 ipv4_nlri=1",
    ),
    row("scapy/bgp_fragmented.pcap.gz", "UPDATE=1 ipv4_nlri=512"),
    row(
        "tcpdump/bgp-4byte-asn.pcap",
        "KEEPALIVE=16 NOTIFICATION=1 OPEN=8 UPDATE=10 ipv4_nlri=35 ipv4_withdrawn=15",
    ),
    // No OPEN: decoded with ADD-PATH for the IP unicast families, the only
    // context in which the NLRI fields parse. The crafted UPDATE carries
    // MP_REACH_NLRI twice (IPv4 and IPv6) and MP_UNREACH_NLRI twice: a
    // session reset with Malformed Attribute List (RFC 7606 3.g), so its
    // attributes are not decoded (its NEXT_HOP of length 0 would be a
    // treat-as-withdraw); the prefixes are counted from the raw fields, as
    // tshark does.
    bad(
        "tcpdump/bgp-addpath.pcap",
        "UPDATE=1 ipv4_nlri=2 ipv4_withdrawn=2 mp_reach_v4=2 mp_reach_v6=2 mp_unreach_v4=2 mp_unreach_v6=2",
        "attrs 3/1=1",
    ),
    row("tcpdump/bgp-aigp-2.pcap", "UPDATE=1 mp_reach_v4=1"),
    differs(
        "tcpdump/bgp-aigp-oobr.pcap",
        "UPDATE=9 mp_reach_v4=16",
        "UPDATE=449 mp_reach_v4=783",
        "fuzzer input; tcpdump (which resynchronises too) also finds 449 UPDATEs: ours is right",
        "7606 AttributeDiscard a2 3/1=1; 7606 AttributeDiscard a26 3/9=2; 7606 TreatAsWithdraw a9 3/5=2; attrs 3/2=112; cut-end=1; skip=112",
    ),
    row("tcpdump/bgp-aigp.pcap", "UPDATE=2 mp_reach_v4=1"),
    differs(
        "tcpdump/bgp-as-path-oobr.pcap",
        "UPDATE=13 ipv4_withdrawn=1 mp_reach_v4=16",
        "UPDATE=334 mp_reach_v4=903",
        "fuzzer input; tcpdump finds 330 (it reads each packet alone, we drop the octets of the overlapping segments that repeat what we have and put conflicting ones in a stream of their own); tshark 13: it stops at the first bad frame. Ours is the reassembled truth",
        "7606 TreatAsWithdraw a1 3/5=1; 7606 TreatAsWithdraw a10 3/5=1; 7606 TreatAsWithdraw a16 3/5=64; 7606 TreatAsWithdraw a73 3/5=1; UPDATE 3/1=1; attrs 3/2=131; badlen=1; cut-end=3; skip=136",
    ),
    row("tcpdump/bgp-bfd-cease.pcap", "NOTIFICATION=1"),
    bad(
        "tcpdump/bgp-bgp_capabilities_print-oobr-1.pcap",
        "OPEN=1",
        "OPEN 2/1=1; skip=2",
    ),
    bad(
        "tcpdump/bgp-bgp_capabilities_print-oobr-2.pcap",
        "OPEN=1",
        "OPEN 2/1=1; skip=2",
    ),
    row(
        "tcpdump/bgp-bgpsec.pcap",
        "KEEPALIVE=4 OPEN=4 UPDATE=24 mp_reach_v4=20",
    ),
    row("tcpdump/bgp-cease-hard-reset.pcap", "NOTIFICATION=1 OPEN=2"),
    row("tcpdump/bgp-encap.pcap", "UPDATE=1"),
    row(
        "tcpdump/bgp-enhanced-route-refresh-subtype.pcapng",
        "ROUTE-REFRESH=3 UPDATE=5 ipv4_nlri=12",
    ),
    row("tcpdump/bgp-enhanced-route-refresh.pcapng", "OPEN=1"),
    row("tcpdump/bgp-evpn.pcap", "OPEN=1"),
    row("tcpdump/bgp-extended-msg.pcapng", "OPEN=1"),
    row(
        "tcpdump/bgp-extended-optional-parameters-length.pcapng",
        "OPEN=1",
    ),
    row("tcpdump/bgp-extended-shutdown-msg.pcapng", "NOTIFICATION=1"),
    // Four UPDATEs of length 19 (Bad Message Length, RFC 4271 6.1), each
    // followed by 15 octets of garbage. Frame 5 repeats frame 4 octet for
    // octet (same sequence number, same IP id): a duplicate, which tcpdump
    // prints again (Update=5) and we, like tshark, count once.
    bad(
        "tcpdump/bgp-infinite-loop.pcap",
        "UPDATE=4",
        "UPDATE 1/2=4; skip=4",
    ),
    row("tcpdump/bgp-large-community.pcap", "UPDATE=5 ipv4_nlri=5"),
    row(
        "tcpdump/bgp-link-bw-extcommunity.pcapng",
        "UPDATE=6 ipv4_nlri=7",
    ),
    row(
        "tcpdump/bgp-lu-multiple-labels.pcap",
        "KEEPALIVE=8 NOTIFICATION=1 OPEN=4 UPDATE=7 mp_reach_v4=2 mp_unreach_v4=1",
    ),
    row("tcpdump/bgp-malformed-hard-reset.pcap", "NOTIFICATION=1"),
    row("tcpdump/bgp-orf.pcapng", "ROUTE-REFRESH=2"),
    row("tcpdump/bgp-ovs.pcapng", "UPDATE=4 ipv4_nlri=4"),
    row(
        "tcpdump/bgp-role.pcapng",
        "KEEPALIVE=2 OPEN=1 UPDATE=9 ipv4_nlri=11",
    ),
    row("tcpdump/bgp-rt-prefix.pcap", "UPDATE=8"),
    differs(
        "tcpdump/bgp-shutdown-communication.pcapng",
        "NOTIFICATION=1",
        "NOTIFICATION=2",
        "the two packets share sequence number and IP id but differ in the Cease subcode (2, then 4): not a retransmission but two crafted messages; tcpdump also shows 2: ours is right",
        "",
    ),
    differs(
        "tcpdump/bgp-shutdown-msg-variations.pcap",
        "NOTIFICATION=1",
        "NOTIFICATION=3",
        "three SYN segments with sequence number 0, each carrying another NOTIFICATION: three connection attempts; tcpdump also shows 3: ours is right",
        "",
    ),
    differs(
        "tcpdump/bgp-ub.pcap",
        "UPDATE=4 ipv4_withdrawn=1 mp_reach_v4=6 type0=1",
        "UPDATE=22 ipv4_nlri=2 mp_reach_v4=8",
        "fuzzer input, 4708 octets in one SYN segment starting with garbage; tcpdump also finds 22 UPDATEs: ours is right (tshark frames a type-0 message where we find markers)",
        "7606 TreatAsWithdraw a10 3/5=2; 7606 TreatAsWithdraw a21 3/5=2; 7606 TreatAsWithdraw a32 3/4=2; 7606 TreatAsWithdraw a73 3/5=2; UPDATE 3/1=2; UPDATE 3/10=2; attrs 3/2=6; badlen=1; skip=15",
    ),
    differs(
        "tcpdump/bgp_mp_reach_nlri-oobr.pcap",
        "UPDATE=1",
        "UPDATE=6",
        "fuzzer input; tcpdump also finds 6 UPDATEs: ours is right",
        "UPDATE 3/1=6; skip=7",
    ),
    differs(
        "tcpdump/bgp_mvpn_6_and_7_oobr.pcap",
        "UPDATE=1 ipv4_withdrawn=1 type20=1",
        "UPDATE=1",
        "fuzzer input: the UPDATE's Total Path Attribute Length (50098) runs past the message, Malformed Attribute List: we count no prefix of a message we reject, tshark counts the withdrawn prefix it dissected before the bad length; and the 22 octets after the message hold no marker where tshark sees a type-20 message. Ours is right for a receiver, which must reset the session",
        "UPDATE 3/1=1; skip=1",
    ),
    row(
        "tcpdump/bgp_notification_rr_msg_error.pcap",
        "NOTIFICATION=1",
    ),
    differs(
        "tcpdump/bgp_pmsi_tunnel-oobr.pcap",
        "UPDATE=1 ipv4_withdrawn=1",
        "UPDATE=1",
        "fuzzer input: the UPDATE's Total Path Attribute Length (1714) runs past the message, Malformed Attribute List: we count no prefix of a message we reject, tshark counts the withdrawn prefix it dissected before the bad length. Ours is right for a receiver, which must reset the session",
        "UPDATE 3/1=1; skip=1",
    ),
    row("tcpdump/bgp_vpn_attrset.pcap", "UPDATE=1 mp_reach_v4=1"),
    differs(
        "tcpdump/bgp_vpn_rt-oobr.pcap",
        "UPDATE=1",
        "UPDATE=3",
        "fuzzer input (the 37 other frames are empty); tcpdump also finds 3 UPDATEs: ours is right",
        "UPDATE 3/1=3; skip=3",
    ),
    row(
        "tcpdump/bgpsec_invalid_signature_block_length.pcap",
        "UPDATE=1 mp_reach_v4=2",
    ),
    row(
        "tcpdump/mpbgp-linklocal-nexthop.pcap",
        "UPDATE=1 mp_reach_v6=1",
    ),
];

type Conn = (Endpoint, Endpoint);

/// One framed message and what decoding it gave.
struct Decoded {
    packet: usize,
    flow: Flow,
    bytes: Bytes,
    /// The context it was decoded with (from the receiver's point of view).
    ctx: SessionContext,
    message: Result<Message, DecodeError>,
    /// For an UPDATE: its attributes.
    attributes: Option<Result<DecodedAttributes, DecodeError>>,
    /// Whether the context came from both OPENs of the session.
    negotiated: bool,
}

impl Decoded {
    /// Decoded without an error nor an RFC 7606 problem.
    fn is_clean(&self) -> bool {
        self.message.is_ok()
            && match &self.attributes {
                None => true,
                Some(Ok(d)) => d.report.is_empty(),
                Some(Err(_)) => false,
            }
    }
}

/// Everything one capture gave.
#[derive(Default)]
struct Outcome {
    counts: BTreeMap<String, u64>,
    problems: BTreeMap<String, u64>,
    messages: Vec<Decoded>,
}

fn type_name(t: u8) -> String {
    match t {
        1 => "OPEN".into(),
        2 => "UPDATE".into(),
        3 => "NOTIFICATION".into(),
        4 => "KEEPALIVE".into(),
        5 => "ROUTE-REFRESH".into(),
        t => format!("type{t}"),
    }
}

/// Walks the NLRI of a family the way tshark's prefix fields count them:
/// IP unicast and multicast, labeled unicast (RFC 8277) and L3VPN
/// (RFC 4364); other families count 0. Returns the prefixes as text
/// (without label or route distinguisher), `None` if malformed.
fn walk_nlri(afi: u16, safi: u8, mut b: &[u8], add_path: bool) -> Option<Vec<String>> {
    let mut out = Vec::new();
    if !matches!(safi, 1 | 2 | 4 | 128) || !matches!(afi, 1 | 2) {
        return Some(out);
    }
    while !b.is_empty() {
        if add_path {
            b = b.get(4..)?;
        }
        let mut bits = usize::from(*b.first()?);
        b = &b[1..];
        if matches!(safi, 4 | 128) {
            // Labels until the bottom-of-stack bit (or a withdrawal label).
            loop {
                let l = b.get(..3)?;
                b = &b[3..];
                bits = bits.checked_sub(24)?;
                if l[2] & 1 == 1 || l == [0x80, 0, 0] || l == [0, 0, 0] {
                    break;
                }
            }
            if safi == 128 {
                b = b.get(8..)?;
                bits = bits.checked_sub(64)?;
            }
        }
        let octets = bits.div_ceil(8);
        let p = b.get(..octets)?;
        b = &b[octets..];
        out.push(if afi == 2 {
            let mut a = [0u8; 16];
            a.get_mut(..octets)?.copy_from_slice(p);
            if bits > 128 {
                return None;
            }
            format!("{}/{bits}", Ipv6Addr::from(a))
        } else {
            let mut a = [0u8; 4];
            a.get_mut(..octets)?.copy_from_slice(p);
            if bits > 32 {
                return None;
            }
            format!("{}/{bits}", Ipv4Addr::from(a))
        });
    }
    Some(out)
}

/// The AFI and the prefixes of an MP_REACH_NLRI or MP_UNREACH_NLRI value.
fn mp_prefixes(value: &[u8], reach: bool, ctx: &SessionContext) -> Option<(u16, Vec<String>)> {
    let afi = u16::from_be_bytes([*value.first()?, *value.get(1)?]);
    let safi = *value.get(2)?;
    let nlri = if reach {
        let nh = usize::from(*value.get(3)?);
        value.get(4 + nh + 1..)?
    } else {
        value.get(3..)?
    };
    let ap = ctx.add_path_receive(AfiSafi::new(afi.into(), safi.into()));
    Some((afi, walk_nlri(afi, safi, nlri, ap)?))
}

/// The last OPEN of each side of each connection.
type Opens = HashMap<Conn, HashMap<Endpoint, Open>>;

/// The context of the messages of `flow`, from both OPENs of its session.
fn negotiated(opens: &Opens, flow: &Flow) -> Option<SessionContext> {
    let s = opens.get(&flow.connection())?;
    Some(Open::negotiate(s.get(&flow.dst)?, s.get(&flow.src)?))
}

/// Contexts to try when the capture lacks an OPEN of the session: 4-octet
/// AS numbers or not (only what the one OPEN captured says, if any), then
/// the same with ADD-PATH received for every IP unicast family.
fn guesses(opens: &Opens, flow: &Flow) -> Vec<SessionContext> {
    let one = opens
        .get(&flow.connection())
        .and_then(|s| s.get(&flow.src).or_else(|| s.get(&flow.dst)));
    let widths: Vec<bool> = match one {
        Some(o) => vec![o.four_octet_as().is_some()],
        None => vec![true, false],
    };
    let mut v: Vec<SessionContext> = widths
        .iter()
        .map(|&f| SessionContext::default().with_four_octet_as(f))
        .collect();
    for &f in &widths {
        let mut c = SessionContext::default().with_four_octet_as(f);
        for fam in [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST] {
            c = c.with_add_path(fam, Direction::Receive);
        }
        v.push(c);
    }
    v
}

fn decode(bytes: &Bytes, ctx: &SessionContext) -> Decoded {
    let message = Message::from_bytes(bytes.clone(), ctx);
    let attributes = match &message {
        Ok(Message::Update(u)) => Some(u.attributes(ctx, PeerType::Oad)),
        _ => None,
    };
    Decoded {
        packet: 0,
        flow: Flow {
            src: Endpoint {
                addr: Ipv4Addr::UNSPECIFIED.into(),
                port: 0,
            },
            dst: Endpoint {
                addr: Ipv4Addr::UNSPECIFIED.into(),
                port: 0,
            },
        },
        bytes: bytes.clone(),
        ctx: ctx.clone(),
        message,
        attributes,
        negotiated: false,
    }
}

/// How good a guess is: clean, with RFC 7606 problems only, with an
/// attribute error only, or not decoded (the lowest wins, the first of
/// equals).
fn rank(d: &Decoded) -> u8 {
    match (&d.message, &d.attributes) {
        (Err(_), _) => 3,
        (Ok(_), Some(Err(_))) => 2,
        (Ok(_), Some(Ok(a))) if !a.report.is_empty() => 1,
        (Ok(_), _) => 0,
    }
}

/// A short name for a problem, the key of [`Row::problems`].
fn problem_kind(ev: &FrameEvent<'_>) -> Option<String> {
    Some(match ev {
        FrameEvent::Message(_) => return None,
        FrameEvent::Skipped { .. } => "skip".into(),
        FrameEvent::BadLength { .. } => "badlen".into(),
        FrameEvent::Truncated { by_gap: true, .. } => "cut-gap".into(),
        FrameEvent::Truncated { by_gap: false, .. } => "cut-end".into(),
    })
}

fn pair(e: &DecodeError) -> String {
    let (c, s) = e.code().to_pair();
    format!("{c}/{s}")
}

fn analyse(streams: &[Stream]) -> Outcome {
    let mut out = Outcome::default();
    // Pass 1: the OPENs, to find the sessions with extended messages.
    let mut ext: HashMap<Conn, HashMap<Endpoint, bool>> = HashMap::new();
    for (i, ev) in events_in_order(streams, |_| MAX_LEN) {
        if let FrameEvent::Message(f) = ev {
            let b = Bytes::copy_from_slice(f.bytes);
            if let Ok(Message::Open(o)) = Message::from_bytes(b, &SessionContext::default()) {
                let flow = streams[i].flow;
                ext.entry(flow.connection()).or_default().insert(
                    flow.src,
                    o.has_capability(bgp_wire::capability::extended_message::CODE),
                );
            }
        }
    }
    let max_len = |i: usize| {
        let c = streams[i].flow.connection();
        let both = ext
            .get(&c)
            .is_some_and(|m| m.len() == 2 && m.values().all(|&e| e));
        if both { MAX_EXTENDED_LEN } else { MAX_LEN }
    };
    // Pass 2: every message in capture order.
    let mut opens: Opens = HashMap::new();
    for (i, ev) in events_in_order(streams, max_len) {
        let flow = streams[i].flow;
        if let Some(kind) = problem_kind(&ev) {
            *out.problems.entry(kind).or_default() += 1;
            continue;
        }
        let FrameEvent::Message(f) = ev else { continue };
        *out.counts.entry(type_name(f.message_type)).or_default() += 1;
        let bytes = Bytes::copy_from_slice(f.bytes);
        let mut d = match negotiated(&opens, &flow) {
            Some(ctx) => {
                let mut d = decode(&bytes, &ctx);
                d.negotiated = true;
                d
            }
            None => guesses(&opens, &flow)
                .iter()
                .map(|c| decode(&bytes, c))
                .min_by_key(rank)
                .unwrap(),
        };
        d.packet = f.last_packet;
        d.flow = flow;
        let name = type_name(f.message_type);
        match &d.message {
            Err(e) => {
                *out.problems
                    .entry(format!("{name} {}", pair(e)))
                    .or_default() += 1
            }
            Ok(Message::Open(o)) => {
                opens
                    .entry(flow.connection())
                    .or_default()
                    .insert(flow.src, o.clone());
            }
            Ok(Message::Update(u)) => {
                let pc = u.prefix_counts(&d.ctx);
                *out.counts.entry("ipv4_nlri".into()).or_default() += pc.announced as u64;
                *out.counts.entry("ipv4_withdrawn".into()).or_default() += pc.withdrawn as u64;
                for a in u.raw_attributes() {
                    let reach = match a.type_code {
                        14 => true,
                        15 => false,
                        _ => continue,
                    };
                    if let Some((afi, p)) = mp_prefixes(&a.value, reach, &d.ctx) {
                        let k = format!(
                            "mp_{}_v{}",
                            if reach { "reach" } else { "unreach" },
                            if afi == 2 { 6 } else { 4 }
                        );
                        *out.counts.entry(k).or_default() += p.len() as u64;
                    }
                }
                match &d.attributes {
                    Some(Ok(a)) => {
                        for p in &a.report.problems {
                            let k = format!(
                                "7606 {:?} a{} 3/{}",
                                p.action,
                                p.type_code,
                                p.subcode.to_u8()
                            );
                            *out.problems.entry(k).or_default() += 1;
                        }
                    }
                    Some(Err(e)) => {
                        *out.problems
                            .entry(format!("attrs {}", pair(e)))
                            .or_default() += 1;
                    }
                    None => {}
                }
            }
            Ok(_) => {}
        }
        out.messages.push(d);
    }
    out.counts.retain(|_, v| *v > 0);
    out
}

fn join(c: &BTreeMap<String, u64>, sep: &str) -> String {
    c.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(sep)
}

/// Every capture analysed once, shared by the tests.
fn outcomes() -> &'static BTreeMap<String, Outcome> {
    static CELL: OnceLock<BTreeMap<String, Outcome>> = OnceLock::new();
    CELL.get_or_init(|| {
        let dir = testkit::corpus_dir().join("pcap");
        testkit::capture_files(&dir)
            .into_iter()
            .map(|f| {
                let (streams, _) =
                    testkit::read_bgp_capture(dir.join(&f)).unwrap_or_else(|e| panic!("{f}: {e}"));
                (f, analyse(&streams))
            })
            .collect()
    })
}

fn outcome(file: &str) -> &'static Outcome {
    outcomes()
        .get(file)
        .unwrap_or_else(|| panic!("{file} not in the corpus"))
}

#[test]
fn every_capture_has_a_row() {
    let files: BTreeSet<&str> = outcomes().keys().map(String::as_str).collect();
    let rows: BTreeSet<&str> = ROWS.iter().map(|r| r.file).collect();
    assert_eq!(rows.len(), ROWS.len(), "a file has two rows");
    let missing: Vec<_> = files.difference(&rows).collect();
    let stale: Vec<_> = rows.difference(&files).collect();
    assert!(missing.is_empty(), "captures without a row: {missing:?}");
    assert!(stale.is_empty(), "rows without a capture: {stale:?}");
    assert!(files.len() >= 72, "only {} captures found", files.len());
}

#[test]
fn tshark_column_is_that_of_sources_md() {
    let text = std::fs::read_to_string(testkit::corpus_dir().join("SOURCES.md")).unwrap();
    let mut listed = BTreeMap::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        if let Some(f) = cols.get(1).and_then(|c| c.strip_prefix("pcap/")) {
            listed.insert(f.to_string(), cols[7].to_string());
        }
    }
    for r in ROWS {
        assert_eq!(
            listed.get(r.file).map(String::as_str),
            Some(r.tshark),
            "{}",
            r.file
        );
        assert_eq!(r.ours.is_some(), !r.why.is_empty(), "{}: reason", r.file);
        assert_ne!(r.ours, Some(r.tshark), "{}: same as tshark", r.file);
    }
}

#[test]
fn counts_and_problems_match_the_table() {
    let mut wrong = Vec::new();
    for r in ROWS {
        let o = outcome(r.file);
        let counts = join(&o.counts, " ");
        let problems = join(&o.problems, "; ");
        let want = r.ours.unwrap_or(r.tshark);
        if counts != want {
            wrong.push(format!(
                "{}\n  counts   {counts}\n  expected {want}",
                r.file
            ));
        }
        if problems != r.problems {
            wrong.push(format!(
                "{}\n  problems {problems}\n  expected {}",
                r.file, r.problems
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// The type codes of an attribute field, in order.
fn codes(b: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    let mut i = 0;
    while let (Some(&f), Some(&c)) = (b.get(i), b.get(i + 1)) {
        v.push(c);
        let (l, h) = if f & 0x10 != 0 {
            match (b.get(i + 2), b.get(i + 3)) {
                (Some(&x), Some(&y)) => (usize::from(u16::from_be_bytes([x, y])), 4),
                _ => break,
            }
        } else {
            match b.get(i + 2) {
                Some(&x) => (usize::from(x), 3),
                None => break,
            }
        };
        i += h + l;
    }
    v
}

/// The captures whose senders do not order path attributes by type code
/// (RFC 4271 5 says they SHOULD): how many clean UPDATEs each has. Those
/// re-encode to the same attributes in ascending order, which is what
/// bgp-wire writes; everything else re-encodes octet for octet.
const REORDERED: &[(&str, usize, &str)] = &[
    (
        "bgp-rs/4-byte_AS_numbers_Mixed_Scenario.pcap",
        1,
        "AS4_PATH (17) before AS_PATH",
    ),
    ("bgp-rs/BGP_flowspec_dscp.pcap", 1, "MP_REACH_NLRI first"),
    (
        "bgp-rs/BGP_flowspec_redirect.pcap",
        2,
        "EXTENDED COMMUNITIES before MP_REACH_NLRI",
    ),
    (
        "bgp-rs/BGP_flowspec_v4.pcap",
        1,
        "EXTENDED COMMUNITIES before MP_REACH_NLRI",
    ),
    (
        "bgp-rs/BGP_flowspec_v6.pcap",
        1,
        "EXTENDED COMMUNITIES before MP_REACH_NLRI",
    ),
    (
        "netgauze/pmacct-300-BGP-IPv6-CISCO-extNH_enc_traffic-00.pcap",
        43,
        "Cisco puts MP_REACH_NLRI first",
    ),
    (
        "netgauze/pmacct-301-BGP-CISCO-pretag_traffic-00.pcap",
        20,
        "Cisco puts MP_REACH_NLRI first",
    ),
    (
        "netgauze/pmacct-302-BGP-IPv6-multiple-sources_traffic-00.pcap",
        23,
        "MP_REACH_NLRI first",
    ),
    (
        "netgauze/pmacct-302-BGP-IPv6-multiple-sources_traffic-01.pcap",
        26,
        "MP_REACH_NLRI first",
    ),
    (
        "netgauze/pmacct-302-BGP-IPv6-multiple-sources_traffic-02.pcap",
        7,
        "MP_REACH_NLRI first",
    ),
    (
        "netgauze/pmacct-302-BGP-IPv6-multiple-sources_traffic-03.pcap",
        7,
        "MP_REACH_NLRI first",
    ),
    (
        "netgauze/pmacct-303-BGP-high-availability_traffic-00.pcap",
        43,
        "Cisco puts MP_REACH_NLRI first",
    ),
    (
        "netgauze/pmacct-305-BGP-mem-leak-test_bgp-multi-sources-update-keepalive.pcap",
        400,
        "MP_REACH_NLRI first",
    ),
    (
        "packetlife/BGP_redist.pcap",
        2,
        "EXTENDED COMMUNITIES before MP_REACH_NLRI",
    ),
    (
        "packetlife/bgp-add-path.pcap",
        2,
        "CLUSTER_LIST before ORIGINATOR_ID",
    ),
    (
        "tcpdump/bgp-aigp-oobr.pcap",
        335,
        "EXTENDED COMMUNITIES and CLUSTER_LIST out of order",
    ),
    ("tcpdump/bgp-aigp.pcap", 1, "AIGP before MP_REACH_NLRI"),
    (
        "tcpdump/bgp-as-path-oobr.pcap",
        136,
        "EXTENDED COMMUNITIES and CLUSTER_LIST out of order",
    ),
    ("tcpdump/bgp-bgpsec.pcap", 20, "MP_REACH_NLRI first"),
    (
        "tcpdump/bgp-encap.pcap",
        1,
        "EXTENDED COMMUNITIES before MP_REACH_NLRI",
    ),
    (
        "tcpdump/bgp-ub.pcap",
        5,
        "EXTENDED COMMUNITIES before MP_REACH_NLRI",
    ),
    (
        "tcpdump/bgp_vpn_attrset.pcap",
        1,
        "ATTR_SET (128) before MP_REACH_NLRI",
    ),
    (
        "tcpdump/bgpsec_invalid_signature_block_length.pcap",
        1,
        "MP_REACH_NLRI first",
    ),
];

/// The received attributes, each as received, in ascending type-code order
/// (stable).
fn sorted_attributes(u: &bgp_wire::Update) -> Vec<u8> {
    let mut attrs: Vec<_> = u.raw_attributes().collect();
    attrs.sort_by_key(|a| a.type_code);
    let mut buf = BytesMut::new();
    for a in attrs {
        a.encode(&mut buf);
    }
    buf.to_vec()
}

#[test]
fn clean_messages_reencode() {
    let mut wrong = Vec::new();
    let mut reordered: BTreeMap<&str, usize> = BTreeMap::new();
    for (f, o) in outcomes() {
        for d in o.messages.iter().filter(|d| d.is_clean()) {
            let m = d.message.as_ref().unwrap();
            let ctx = d.ctx.reversed();
            // The message as bgp-wire writes it.
            let mut buf = BytesMut::new();
            m.encode(&ctx, &mut buf).unwrap();
            if buf[..] != d.bytes[..] {
                wrong.push(format!("{f} #{}: message differs", d.packet));
            }
            // The decoded attribute set written again.
            let (Message::Update(u), Some(Ok(a))) = (m, &d.attributes) else {
                continue;
            };
            let mut attrs = BytesMut::new();
            a.attributes
                .encode_with_mp(&ctx, a.mp_reach.as_ref(), a.mp_unreach.as_ref(), &mut attrs)
                .unwrap();
            if attrs[..] == u.attribute_bytes()[..] {
                continue;
            }
            let received = codes(u.attribute_bytes());
            if received.is_sorted() || attrs[..] != sorted_attributes(u)[..] {
                wrong.push(format!("{f} #{}: attributes {received:?} differ", d.packet));
            } else {
                *reordered.entry(f.as_str()).or_default() += 1;
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    let want: BTreeMap<&str, usize> = REORDERED.iter().map(|(f, n, _)| (*f, *n)).collect();
    assert_eq!(reordered, want);
}

/// The prefixes announced by the UPDATEs of a capture (NLRI field and
/// MP_REACH_NLRI of the families [`walk_nlri`] reads), as text.
fn announced(o: &Outcome) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for d in &o.messages {
        let Ok(Message::Update(u)) = &d.message else {
            continue;
        };
        let ap = d.ctx.add_path_receive(AfiSafi::IPV4_UNICAST);
        out.extend(walk_nlri(1, 1, u.nlri_bytes(), ap).unwrap_or_default());
        for a in u.raw_attributes().filter(|a| a.type_code == 14) {
            if let Some((_, p)) = mp_prefixes(&a.value, true, &d.ctx) {
                out.extend(p);
            }
        }
    }
    out
}

/// The prefixes NetGauze's expected decoding announces: the `network` of
/// every NLRI of the Update lines, outside MpUnreach and withdrawn_routes.
fn netgauze_announced(text: &str) -> (BTreeSet<String>, usize) {
    fn collect(v: &testkit::json::Value, out: &mut BTreeSet<String>) {
        for (k, m) in v.members() {
            match k.as_str() {
                "MpUnreach" | "withdrawn_routes" => {}
                "network" => out.extend(m.as_str().map(String::from)),
                _ => collect(m, out),
            }
        }
        for e in v.elements() {
            collect(e, out);
        }
    }
    let mut out = BTreeSet::new();
    let mut updates = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v = testkit::json::parse(line).unwrap();
        if let Some(u) = v.get("Update") {
            updates += 1;
            collect(u, &mut out);
        }
    }
    (out, updates)
}

/// NetGauze's expected decodings: (capture, UPDATE lines, whether the file
/// lists every UPDATE of the capture). multiple-sessions' file is a sample
/// of the capture's messages (SOURCES.md), so its prefixes must be among
/// ours; the others must be exactly ours.
const NETGAUZE: &[(&str, usize, bool)] = &[
    ("multiple-sessions", 36, false),
    ("pmacct-300-BGP-IPv6-CISCO-extNH_enc_traffic-00", 45, true),
    ("pmacct-301-BGP-CISCO-pretag_traffic-00", 20, true),
    ("pmacct-302-BGP-IPv6-multiple-sources_traffic-00", 24, true),
    ("pmacct-302-BGP-IPv6-multiple-sources_traffic-01", 26, true),
    ("pmacct-302-BGP-IPv6-multiple-sources_traffic-02", 8, true),
    ("pmacct-302-BGP-IPv6-multiple-sources_traffic-03", 8, true),
    ("pmacct-303-BGP-high-availability_traffic-00", 45, true),
    (
        "pmacct-305-BGP-mem-leak-test_bgp-multi-sources-open",
        0,
        true,
    ),
    (
        "pmacct-305-BGP-mem-leak-test_bgp-multi-sources-update-keepalive",
        416,
        true,
    ),
];

#[test]
fn netgauze_announced_prefixes() {
    let dir = testkit::corpus_dir().join("pcap").join("netgauze");
    let mut listed = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".expected.jsonl") {
            assert!(
                NETGAUZE.iter().any(|(s, _, _)| *s == stem),
                "{name} not in NETGAUZE"
            );
            listed += 1;
        }
    }
    assert_eq!(listed, NETGAUZE.len());
    for (stem, updates, complete) in NETGAUZE {
        let text = std::fs::read_to_string(dir.join(format!("{stem}.expected.jsonl"))).unwrap();
        let (want, n) = netgauze_announced(&text);
        assert_eq!(n, *updates, "{stem}: Update lines");
        assert_eq!(want.is_empty(), n == 0, "{stem}: no prefix");
        let ours = announced(outcome(&format!("netgauze/{stem}.pcap")));
        if *complete {
            assert_eq!(ours, want, "{stem}");
        } else {
            let missing: Vec<_> = want.difference(&ours).collect();
            assert!(missing.is_empty(), "{stem}: not found {missing:?}");
        }
    }
}

fn tcpdump_out(name: &str) -> String {
    let p = testkit::corpus_dir()
        .join("pcap/tcpdump/expected")
        .join(name);
    std::fs::read_to_string(p).unwrap()
}

fn notifications(file: &str) -> Vec<&'static bgp_wire::Notification> {
    outcome(file)
        .messages
        .iter()
        .filter_map(|d| match &d.message {
            Ok(Message::Notification(n)) => Some(n),
            _ => None,
        })
        .collect()
}

fn updates(file: &str) -> Vec<(&'static Decoded, &'static DecodedAttributes)> {
    outcome(file)
        .messages
        .iter()
        .filter_map(|d| match &d.attributes {
            Some(Ok(a)) => Some((d, a)),
            _ => None,
        })
        .collect()
}

fn opens(file: &str) -> Vec<&'static Open> {
    outcome(file)
        .messages
        .iter()
        .filter_map(|d| match &d.message {
            Ok(Message::Open(o)) => Some(o),
            _ => None,
        })
        .collect()
}

#[test]
fn shutdown_communications_as_tcpdump_prints_them() {
    let text = "This is a test of the shutdown communication system.";
    let n = notifications("tcpdump/bgp-shutdown-communication.pcapng");
    let got: Vec<_> = n
        .iter()
        .map(|n| (n.code.to_pair(), n.shutdown_communication()))
        .collect();
    let msg = Some(ShutdownCommunication::Message {
        text,
        trailing: &[],
    });
    assert_eq!(got, [((6, 2), msg), ((6, 4), msg)]);
    assert!(tcpdump_out("bgp-shutdown-communication.out").contains(text));

    let n = notifications("tcpdump/bgp-shutdown-msg-variations.pcap");
    let got: Vec<_> = n
        .iter()
        .map(|n| match n.shutdown_communication() {
            Some(ShutdownCommunication::Message { text, trailing }) => {
                format!("{:?} {text:?} +{}", n.code.to_pair(), trailing.len())
            }
            other => format!("{:?} {other:?}", n.code.to_pair()),
        })
        .collect();
    // tcpdump: "0123456789", Data: (length: 9); empty; invalid length.
    assert_eq!(
        got,
        [
            "(6, 4) \"0123456789\" +9",
            "(6, 4) \"\" +0",
            "(6, 4) Some(InvalidLength)"
        ]
    );

    let n = notifications("tcpdump/bgp-extended-shutdown-msg.pcapng");
    let Some(ShutdownCommunication::Message { text, trailing }) = n[0].shutdown_communication()
    else {
        panic!("{:?}", n[0]);
    };
    assert_eq!(
        (n[0].code.to_pair(), text.len(), trailing.len()),
        ((6, 2), 210, 0)
    );
    assert!(tcpdump_out("bgp-extended-shutdown-msg.out").contains(text));
}

#[test]
fn four_octet_as_paths_as_tcpdump_prints_them() {
    let out = tcpdump_out("bgp-4byte-asn.out");
    let field = |name: &str| -> BTreeSet<String> {
        out.lines()
            .filter_map(|l| l.trim().strip_prefix(name))
            .filter_map(|l| l.split_once("]: ").map(|(_, p)| p.trim().to_string()))
            .collect()
    };
    let file = "tcpdump/bgp-4byte-asn.pcap";
    let mut paths = BTreeSet::new();
    let mut paths4 = BTreeSet::new();
    for (_, a) in updates(file) {
        paths.extend(a.attributes.as_path.as_ref().map(|p| p.to_string()));
        paths4.extend(a.attributes.as4_path.as_ref().map(|p| p.to_string()));
    }
    assert_eq!(paths, field("AS Path (2)"));
    assert_eq!(paths4, field("AS4 Path (17)"));
    assert!(paths.contains("2764334674 200 1 222222 333333 4294967290"));
    let asns: BTreeSet<u32> = opens(file)
        .iter()
        .filter_map(|o| o.four_octet_as())
        .collect();
    let want: BTreeSet<u32> = out
        .lines()
        .filter_map(|l| l.trim().strip_prefix("4 Byte AS "))
        .map(|n| n.trim().parse().unwrap())
        .collect();
    assert_eq!(asns, want);
}

#[test]
fn large_communities_and_aigp_as_tcpdump_prints_them() {
    let out = tcpdump_out("bgp-large-community.out");
    let lines: Vec<&str> = out.lines().collect();
    let want: Vec<String> = lines
        .windows(2)
        .filter(|w| w[0].contains("Large Community (32)"))
        .map(|w| w[1].trim().to_string())
        .collect();
    let got: Vec<String> = updates("tcpdump/bgp-large-community.pcap")
        .iter()
        .filter_map(|(_, a)| a.attributes.large_communities.as_ref())
        .map(|l| {
            l.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    assert_eq!(got, want);

    for (pcap, expected) in [
        ("bgp-aigp.pcap", "bgp-aigp.out"),
        ("bgp-aigp-2.pcap", "bgp-aigp-2.out"),
    ] {
        let want: Vec<u64> = tcpdump_out(expected)
            .lines()
            .filter_map(|l| l.split_once("AIGP TLV (1), length 11, metric "))
            .map(|(_, m)| m.trim().parse().unwrap())
            .collect();
        let got: Vec<u64> = updates(&format!("tcpdump/{pcap}"))
            .iter()
            .filter_map(|(_, a)| a.attributes.aigp.as_ref())
            .filter_map(|a| a.metric())
            .collect();
        assert_eq!(got, want, "{pcap}");
        assert!(!got.is_empty());
    }
}

#[test]
fn notification_codes_as_tcpdump_prints_them() {
    use bgp_wire::error::{CeaseSubcode, ErrorCode};
    let code =
        |f: &str| -> Vec<(u8, u8)> { notifications(f).iter().map(|n| n.code.to_pair()).collect() };
    // "Cease (6), subcode Hard Reset (9)", with data too short for a cause.
    assert_eq!(code("tcpdump/bgp-malformed-hard-reset.pcap"), [(6, 9)]);
    assert_eq!(
        notifications("tcpdump/bgp-malformed-hard-reset.pcap")[0].hard_reset_cause(),
        None
    );
    // "Hard Reset (9), Cease (6), subcode Peer Unconfigured (3)".
    let n = notifications("tcpdump/bgp-cease-hard-reset.pcap");
    assert_eq!(
        n[0].hard_reset_cause().map(|c| c.code),
        Some(ErrorCode::Cease(CeaseSubcode::PeerDeconfigured))
    );
    assert_eq!(code("tcpdump/bgp_notification_rr_msg_error.pcap"), [(7, 1)]);
    assert_eq!(code("tcpdump/bgp-bfd-cease.pcap"), [(6, 10)]);
}

#[test]
fn role_capability_as_tcpdump_prints_it() {
    assert!(tcpdump_out("bgp-role.out").contains("Role name Customer (3)"));
    let o = opens("tcpdump/bgp-role.pcapng");
    assert_eq!(o.len(), 1);
    assert_eq!(
        o[0].role(),
        Ok(Some(bgp_wire::capability::BgpRole::Customer))
    );
    assert!(
        o[0].capabilities()
            .any(|c| matches!(c, Capability::Role(_)))
    );
}

#[test]
fn update_spanning_two_segments_is_reassembled() {
    let dir = testkit::corpus_dir().join("pcap");
    let (streams, _) = testkit::read_bgp_capture(dir.join("scapy/bgp_fragmented.pcap.gz")).unwrap();
    let ev: Vec<_> = events_in_order(&streams, |_| MAX_LEN);
    let [(_, FrameEvent::Message(f))] = ev[..] else {
        panic!("{ev:?}");
    };
    assert_eq!((f.first_packet, f.last_packet), (1, 2));
    let d = &outcome("scapy/bgp_fragmented.pcap.gz").messages[0];
    assert!(d.is_clean());
}

#[test]
fn captures_without_their_first_segment_resynchronise() {
    // bgp_withdraw.pcap (port 1179) starts after the connection's first
    // segment: no SYN, and the stream starts with a marker all the same.
    let dir = testkit::corpus_dir().join("pcap");
    let (streams, _) = testkit::read_bgp_capture(dir.join("bgp-rs/bgp_withdraw.pcap")).unwrap();
    assert_eq!(streams.len(), 1);
    assert!(!streams[0].syn_seen);
    assert!(streams[0].flow.has_port(1179));
    // The fuzzed bgp-as-path-oobr.pcap has segments that overlap and
    // conflict: split into streams, none of them panics the decoder.
    let (streams, _) =
        testkit::read_bgp_capture(dir.join("tcpdump/bgp-as-path-oobr.pcap")).unwrap();
    assert_eq!(streams.len(), 3);
    assert!(streams.iter().map(|s| s.conflicting_octets).sum::<u64>() > 0);
}

/// Cuts and flips octets of every capture and runs the whole path (read,
/// reassemble, frame, decode): nothing may panic.
#[test]
fn damaged_captures_do_not_panic() {
    let dir = testkit::corpus_dir().join("pcap");
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for f in testkit::capture_files(&dir) {
        let raw = std::fs::read(dir.join(&f)).unwrap();
        let cap = testkit::capture::parse_capture(&raw).unwrap();
        let plain = if raw.starts_with(&[0x1f, 0x8b]) {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&raw[..]), &mut v)
                .unwrap();
            v
        } else {
            raw.clone()
        };
        assert!(!cap.packets.is_empty() || plain.len() < 100, "{f}");
        for _ in 0..8 {
            let mut m = plain.clone();
            if m.is_empty() {
                break;
            }
            let cut = (next() as usize) % m.len();
            if next() % 2 == 0 {
                m.truncate(cut.max(24));
            }
            for _ in 0..(1 + next() % 16) {
                let i = (next() as usize) % m.len();
                m[i] ^= (next() % 255 + 1) as u8;
            }
            if let Ok(c) = testkit::capture::parse_capture(&m) {
                let (streams, _) = testkit::bgp_streams(&c);
                let _ = analyse(&streams);
            }
        }
    }
}

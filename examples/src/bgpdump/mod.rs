//! The one-line-per-route text format of `bgpdump -m` (RIPE NCC bgpdump
//! 1.6), written from MRT records decoded by [`bgp_wire::mrt`].
//!
//! # Lines
//!
//! ```text
//! TABLE_DUMP|time|B|peer ip|peer AS|prefix|AS path|origin|next hop|local pref|MED|communities|AG or NAG|aggregator|
//! TABLE_DUMP2|time|B|peer ip|peer AS|prefix|AS path|origin|next hop|local pref|MED|communities|AG or NAG|aggregator|
//! TABLE_DUMP2_AP|time|B|peer ip|peer AS|prefix|path id|AS path|...|
//! BGP4MP|time|A|peer ip|peer AS|prefix|AS path|origin|next hop|local pref|MED|communities|AG or NAG|aggregator|
//! BGP4MP|time|W|peer ip|peer AS|prefix
//! BGP4MP|time|STATE|peer ip|peer AS|old state|new state
//! ```
//!
//! - `time` is the record's Unix timestamp; for BGP4MP_ET records it has
//!   the microseconds after a dot (`1445565678.509481`), and the line
//!   starts `BGP4MP_ET`. Messages the collector sent (`_LOCAL` subtypes)
//!   start `BGP4MP_LOCAL` (`BGP4MP_ET_LOCAL`); route lines whose prefixes
//!   carry ADD-PATH identifiers end the name with `_AP` and have the
//!   identifier after the prefix (`BGP4MP_AP|...|prefix|path id|AS path|...`,
//!   `BGP4MP_AP|...|W|...|prefix|path id`).
//! - Peer IP and AS are the MRT record's Peer fields, whichever way the
//!   message went.
//! - One UPDATE gives its withdrawals first (Withdrawn Routes field, then
//!   MP_UNREACH_NLRI), then its announcements (NLRI field, then
//!   MP_REACH_NLRI), each MP family in the order IPv4 unicast, multicast,
//!   both, IPv6 unicast, multicast, both. Other families (VPN, Flow Spec,
//!   ...) are not printed. Other BGP messages print nothing.
//! - AS path: AS numbers separated by spaces, `{a,b}` for an AS_SET,
//!   `(a b)` for an AS_CONFED_SEQUENCE, `[a,b]` for an AS_CONFED_SET,
//!   `! Error !` when malformed, empty when absent. For 2-octet AS records
//!   (BGP4MP_MESSAGE, TABLE_DUMP) AS4_PATH and AS4_AGGREGATOR are folded
//!   in as RFC 6793 4.2.3 says.
//! - Origin `IGP`, `EGP` or `INCOMPLETE` (also when absent); local pref
//!   and MED 0 when absent; communities as `AS:value` separated by spaces,
//!   with `no-export`, `no-advertise` and `local-AS`; `AG` when
//!   ATOMIC_AGGREGATE is present, `NAG` otherwise; the aggregator as
//!   `AS address`, empty when absent.
//! - Next hop: NEXT_HOP for prefixes of the NLRI field, the MP_REACH_NLRI
//!   next hop for its prefixes (the global address of a 32-octet IPv6 next
//!   hop), 255.255.255.255 when there is none. A RIB entry (TABLE_DUMP,
//!   TABLE_DUMP_V2) shows the next hop of its shortened (RFC 6396 4.3.4)
//!   or IPv6 unicast MP_REACH_NLRI, else NEXT_HOP, else that of any other
//!   MP_REACH_NLRI (where bgpdump prints 255.255.255.255).
//! - IPv6 addresses are written as bgpdump writes them: IPv4-mapped and
//!   IPv4-compatible addresses in dotted form (`::ffff:192.0.2.1`), and a
//!   single zero group compressed too (`2001::1:2:3:4:5:6`).
//! - Prefixes have their host bits cleared (11.13.0.0/13 is 11.8.0.0/13).
//! - Multicast TABLE_DUMP_V2 RIB records print nothing (the line cannot
//!   say multicast), as in bgpdump; MP_REACH_NLRI of multicast families in
//!   BGP4MP records is printed, as in bgpdump.
//!
//! # Where bgpdump is not followed
//!
//! bgpdump 1.6 misreads some inputs; this module reads them right instead
//! (`tests/data/synthetic.md` has a case of each):
//!
//! - ADD-PATH NLRI in plain BGP4MP_MESSAGE_AS4 records (BIRD writes
//!   them): the session's OPEN, earlier in the file
//!   ([`bgp_wire::mrt::MrtSessions`]), offers ADD-PATH, and the first
//!   UPDATE that parses one way only settles whether the offer was taken
//!   (BIRD takes it, Quagga never does). The lines are those of an
//!   ADD-PATH record (`BGP4MP_AP`, path identifier after the prefix);
//!   bgpdump prints garbage prefixes.
//! - The `_LOCAL_ADDPATH` subtypes (10, 11) are named `BGP4MP_LOCAL_AP`
//!   and show the peer, as subtypes 6 and 7 do; bgpdump names them
//!   `BGP4MP_AP` and shows the local address and AS.
//! - Local pref and MED are unsigned; bgpdump prints those of IPv4
//!   MP_REACH_NLRI lines as signed numbers.
//! - An AGGREGATOR of 6 or 8 octets is read with 2- or 4-octet AS numbers
//!   whatever the record type (OpenBGPD writes 8-octet ones in
//!   TABLE_DUMP); bgpdump goes by the record type and prints garbage.
//! - RFC 6793 reconciliation walks the AS_PATH segments in order (bgpdump
//!   repeats the first segment when it is shorter than the part of the
//!   path to keep) and ignores a malformed AS4_PATH.
//! - A prefix field stops at the first invalid prefix (length beyond 32 or
//!   128); bgpdump prints it (`1.2.3.4/33`).
//! - A RIB entry whose peer index is not in the peer table is skipped
//!   ([`Stats::unknown_peers`]); bgpdump aborts.
//! - RIB_GENERIC records of IPv4 or IPv6 unicast are printed like the
//!   AFI-specific RIB records; bgpdump skips every RIB_GENERIC record.
//! - Host bits of prefixes are cleared, as the current bgpdump does and
//!   its expected test output shows (bgpdump 1.6.2 prints `11.13.0.0/13`).

mod attrs;
mod text;

use std::fmt;
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::Path;

use bgp_wire::message::update::Update;
use bgp_wire::mrt::{
    self, Bgp4mpMessage, Bgp4mpStateChange, MrtBody, MrtError, MrtRecord, MrtSessions,
    PeerIndexTable, RibAfi, RibEntry, RibGeneric, TableDump,
};
use bgp_wire::nlri::NlriIter;
use bgp_wire::{Afi, AfiSafi, Direction, Safi, SessionContext};
use bytes::Bytes;
use ipnet::IpNet;

use attrs::{Attrs, NextHop, family_of};
use text::{push_ip, push_u32, push_u32_06};

/// What one file gave.
#[derive(Debug, Default)]
pub struct Stats {
    /// MRT records read (decoded or not).
    pub records: u64,
    /// Lines written.
    pub lines: u64,
    /// Records whose body could not be decoded (skipped).
    pub decode_errors: u64,
    /// UPDATE messages that were not well-formed and were read leniently
    /// (as far as their fields go).
    pub lenient_updates: u64,
    /// BGP4MP messages skipped for a bad marker or length.
    pub bad_messages: u64,
    /// RIB entries skipped because their peer index is not in the peer
    /// table.
    pub unknown_peers: u64,
    /// The error that stopped reading before the end of the file
    /// (truncated record, I/O error), if any.
    pub read_error: Option<MrtError>,
}

/// Why a file could not be dumped.
#[derive(Debug)]
pub enum DumpError {
    /// The file could not be opened.
    Open(MrtError),
    /// The output could not be written.
    Write(io::Error),
}

impl fmt::Display for DumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DumpError::Open(e) => write!(f, "cannot open: {e}"),
            DumpError::Write(e) => write!(f, "cannot write: {e}"),
        }
    }
}

impl std::error::Error for DumpError {}

impl From<io::Error> for DumpError {
    fn from(e: io::Error) -> Self {
        DumpError::Write(e)
    }
}

/// Writes the `bgpdump -m` lines of one MRT file (plain, gzip or bzip2)
/// to `out`.
///
/// Records that do not decode are skipped and counted; a truncated file
/// gives the lines of the records before the truncation and the error in
/// [`Stats::read_error`].
///
/// ```no_run
/// let mut out = std::io::stdout().lock();
/// let stats = bgp_examples::bgpdump::dump_path("updates.20190101.0000.gz", &mut out)?;
/// eprintln!("{} lines", stats.lines);
/// # Ok::<(), bgp_examples::bgpdump::DumpError>(())
/// ```
pub fn dump_path<W: Write>(path: impl AsRef<Path>, out: &mut W) -> Result<Stats, DumpError> {
    let reader = mrt::open_path(path).map_err(DumpError::Open)?;
    let mut dumper = Dumper::new();
    for record in reader {
        match record {
            Ok(record) => dumper.record(record, out)?,
            Err(MrtError::Decode { .. }) => dumper.stats.decode_errors += 1,
            Err(e) => {
                dumper.stats.read_error = Some(e);
                break;
            }
        }
    }
    Ok(dumper.finish(out)?)
}

/// Flush the line buffer to the output beyond this size.
const FLUSH_AT: usize = 1 << 16;

/// Turns the records of one MRT file, in order, into `bgpdump -m` lines.
///
/// It keeps what later records depend on: the last PEER_INDEX_TABLE and
/// the OPEN messages of each BGP4MP session. Lines are buffered; call
/// [`Dumper::finish`] at the end.
#[derive(Debug)]
pub struct Dumper {
    peers: Option<PeerIndexTable>,
    sessions: MrtSessions,
    /// Decoding context of UPDATEs without and with IPv4 path identifiers.
    plain: SessionContext,
    ipv4_add_path: SessionContext,
    out: Vec<u8>,
    head: Vec<u8>,
    tail: Vec<u8>,
    scratch: Vec<u8>,
    stats: Stats,
}

impl Default for Dumper {
    fn default() -> Self {
        Self::new()
    }
}

impl Dumper {
    /// A dumper for a new file.
    pub fn new() -> Self {
        Dumper {
            peers: None,
            sessions: MrtSessions::new(),
            plain: SessionContext::default().with_extended_message(true),
            ipv4_add_path: SessionContext::default()
                .with_extended_message(true)
                .with_add_path(AfiSafi::IPV4_UNICAST, Direction::Receive),
            out: Vec::with_capacity(FLUSH_AT + 4096),
            head: Vec::new(),
            tail: Vec::new(),
            scratch: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// What the records so far gave.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Formats one record, writing buffered lines to `out` now and then.
    pub fn record<W: Write>(&mut self, record: MrtRecord, out: &mut W) -> io::Result<()> {
        self.stats.records += 1;
        self.sessions.observe(&record);
        let ts = record.timestamp;
        let us = record.microseconds;
        match record.body {
            MrtBody::PeerIndexTable(t) => self.peers = Some(t),
            MrtBody::TableDump(t) => self.table_dump(ts, &t),
            MrtBody::RibAfi(r) => self.rib_afi(ts, &r),
            MrtBody::RibGeneric(r) => self.rib_generic(ts, &r),
            MrtBody::Bgp4mpStateChange(c) => self.state_change(ts, us, &c),
            MrtBody::Bgp4mpMessage(m) => self.message(ts, us, &m),
            MrtBody::Unknown(_) => {}
        }
        if self.out.len() >= FLUSH_AT {
            out.write_all(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }

    /// Writes the lines still buffered and returns the statistics.
    pub fn finish<W: Write>(mut self, out: &mut W) -> io::Result<Stats> {
        out.write_all(&self.out)?;
        out.flush()?;
        self.out.clear();
        Ok(self.stats)
    }

    /// The route line text after the prefix (or path identifier) for
    /// these attributes and next hop, into `self.tail`.
    fn route_tail(&mut self, a: &Attrs<'_>, width: usize, next_hop: NextHop) {
        self.tail.clear();
        a.push_before_next_hop(&mut self.tail, width, &mut self.scratch);
        next_hop.push(&mut self.tail);
        a.push_after_next_hop(&mut self.tail, width);
    }

    /// One route line: `self.head`, the prefix, the path identifier if
    /// any, `self.tail`.
    fn route_line(&mut self, prefix: &IpNet, path_id: Option<u32>) {
        self.out.extend_from_slice(&self.head);
        push_prefix(&mut self.out, prefix);
        if let Some(id) = path_id {
            self.out.push(b'|');
            push_u32(&mut self.out, id);
        }
        self.out.extend_from_slice(&self.tail);
        self.stats.lines += 1;
    }

    /// `name|time|B|peer ip|peer AS|` into `self.head`.
    fn rib_head(&mut self, name: &[u8], ts: u32, peer_ip: &IpAddr, peer_as: u32) {
        self.head.clear();
        self.head.extend_from_slice(name);
        self.head.push(b'|');
        push_u32(&mut self.head, ts);
        self.head.extend_from_slice(b"|B|");
        push_ip(&mut self.head, peer_ip);
        self.head.push(b'|');
        push_u32(&mut self.head, peer_as);
        self.head.push(b'|');
    }

    fn table_dump(&mut self, ts: u32, t: &TableDump) {
        let a = Attrs::parse(&t.attributes, true);
        self.rib_head(b"TABLE_DUMP", ts, &t.peer_ip, u32::from(t.peer_as));
        self.route_tail(&a, 2, a.rib_next_hop());
        self.route_line(&t.prefix, None);
    }

    fn rib_entries(
        &mut self,
        ts: u32,
        prefix: &IpNet,
        rib_path_id: Option<u32>,
        entries: &[RibEntry],
        add_path: bool,
    ) {
        let name: &[u8] = if add_path {
            b"TABLE_DUMP2_AP"
        } else {
            b"TABLE_DUMP2"
        };
        for e in entries {
            let Some(peer) = self
                .peers
                .as_ref()
                .and_then(|p| p.peer(e.peer_index))
                .copied()
            else {
                self.stats.unknown_peers += 1;
                continue;
            };
            let a = Attrs::parse(&e.attributes, true);
            self.rib_head(name, ts, &peer.ip, peer.asn);
            self.route_tail(&a, 4, a.rib_next_hop());
            let path_id = if add_path {
                Some(e.path_id.or(rib_path_id).unwrap_or(0))
            } else {
                None
            };
            self.route_line(prefix, path_id);
        }
    }

    fn rib_afi(&mut self, ts: u32, r: &RibAfi) {
        // bgpdump prints unicast RIBs only; the line cannot say multicast.
        if r.multicast {
            return;
        }
        self.rib_entries(ts, &r.prefix, None, &r.entries, r.add_path);
    }

    fn rib_generic(&mut self, ts: u32, r: &RibGeneric) {
        if r.safi != Safi::Unicast || !matches!(r.afi, Afi::Ipv4 | Afi::Ipv6) {
            return;
        }
        let Some(n) = NlriIter::new(&r.nlri, r.afi, false)
            .ok()
            .and_then(|mut i| i.next())
        else {
            self.stats.decode_errors += 1;
            return;
        };
        self.rib_entries(ts, &n.prefix, r.path_id, &r.entries, r.add_path);
    }

    fn state_change(&mut self, ts: u32, us: Option<u32>, c: &Bgp4mpStateChange) {
        let o = &mut self.out;
        o.extend_from_slice(if us.is_some() {
            b"BGP4MP_ET|"
        } else {
            b"BGP4MP|"
        });
        push_time(o, ts, us);
        o.extend_from_slice(b"|STATE|");
        push_ip(o, &c.peering.peer_ip);
        o.push(b'|');
        push_u32(o, c.peering.peer_as);
        o.push(b'|');
        push_u32(o, u32::from(c.old_state));
        o.push(b'|');
        push_u32(o, u32::from(c.new_state));
        o.push(b'\n');
        self.stats.lines += 1;
    }

    /// `BGP4MP[_ET][_LOCAL][_AP]|time|kind|peer ip|peer AS|` into
    /// `self.head`.
    fn message_head(
        &mut self,
        ts: u32,
        us: Option<u32>,
        m: &Bgp4mpMessage,
        kind: u8,
        add_path: bool,
    ) {
        let h = &mut self.head;
        h.clear();
        h.extend_from_slice(b"BGP4MP");
        if us.is_some() {
            h.extend_from_slice(b"_ET");
        }
        if m.local {
            h.extend_from_slice(b"_LOCAL");
        }
        if add_path {
            h.extend_from_slice(b"_AP");
        }
        h.push(b'|');
        push_time(h, ts, us);
        h.push(b'|');
        h.push(kind);
        h.push(b'|');
        push_ip(h, &m.peering.peer_ip);
        h.push(b'|');
        push_u32(h, m.peering.peer_as);
        h.push(b'|');
    }

    fn message(&mut self, ts: u32, us: Option<u32>, m: &Bgp4mpMessage) {
        let msg = &m.message;
        if msg.get(18) != Some(&2) {
            return;
        }
        let len = msg
            .get(16..)
            .and_then(|l| l.first_chunk::<2>())
            .map_or(0, |l| usize::from(u16::from_be_bytes(*l)));
        if msg.get(..16) != Some(&[0xff; 16][..]) || len < 19 {
            self.stats.bad_messages += 1;
            return;
        }
        let body = msg.slice(19..len.min(msg.len()));
        // The ADD-PATH subtypes put path identifiers on every family (as
        // bgpdump reads them); otherwise the session's OPENs tell.
        let ids = if m.add_path {
            ALL_FAMILIES
        } else {
            families_with_ids(&self.sessions.decode_context(m))
        };
        let ipv4_ids = ids & 1 != 0;
        let ctx = if ipv4_ids {
            &self.ipv4_add_path
        } else {
            &self.plain
        };
        let update = Update::decode(body.clone(), ctx);
        let lenient;
        let (withdrawn, attributes, nlri): (&[u8], &[u8], &[u8]) = match &update {
            Ok(u) => (u.withdrawn_bytes(), u.attribute_bytes(), u.nlri_bytes()),
            Err(_) => {
                self.stats.lenient_updates += 1;
                lenient = frame_leniently(&body);
                (&lenient.0, &lenient.1, &lenient.2)
            }
        };
        let a = Attrs::parse(attributes, false);

        // Withdrawals: the Withdrawn Routes field, then MP_UNREACH_NLRI.
        let withdrawals = [(0usize, Some(withdrawn))]
            .into_iter()
            .chain((0..6).map(|i| (i, a.mp_unreach.get(i).copied().flatten())));
        for (i, field) in withdrawals {
            let Some(field) = field.filter(|f| !f.is_empty()) else {
                continue;
            };
            let (afi, _) = family_of(i);
            let with_ids = ids & (1 << i) != 0;
            self.message_head(ts, us, m, b'W', with_ids);
            for n in prefixes(field, afi, with_ids) {
                self.out.extend_from_slice(&self.head);
                push_prefix(&mut self.out, &n.prefix);
                if let Some(id) = n.path_id {
                    self.out.push(b'|');
                    push_u32(&mut self.out, id);
                }
                self.out.push(b'\n');
                self.stats.lines += 1;
            }
        }

        // Announcements: the NLRI field, then MP_REACH_NLRI.
        let width = if m.as4 { 4 } else { 2 };
        let classic_next_hop = a.next_hop.map_or(NextHop::NONE, NextHop::V4);
        let announcements = [(0usize, Some((nlri, classic_next_hop)))]
            .into_iter()
            .chain((0..6).map(|i| {
                (
                    i,
                    a.mp_reach
                        .get(i)
                        .copied()
                        .flatten()
                        .map(|r| (r.nlri, r.next_hop)),
                )
            }));
        for (i, field) in announcements {
            let Some((field, next_hop)) = field.filter(|(f, _)| !f.is_empty()) else {
                continue;
            };
            let (afi, _) = family_of(i);
            let with_ids = ids & (1 << i) != 0;
            self.message_head(ts, us, m, b'A', with_ids);
            self.route_tail(&a, width, next_hop);
            for n in prefixes(field, afi, with_ids) {
                self.route_line(&n.prefix, n.path_id);
            }
        }
    }
}

/// Every family index.
const ALL_FAMILIES: u8 = 0b11_1111;

/// The family of a family index.
fn family(i: usize) -> AfiSafi {
    let (afi, safi) = family_of(i);
    AfiSafi::new(Afi::from(afi), Safi::from(safi))
}

/// The family indexes with path identifiers in a decoding context, as bits.
fn families_with_ids(ctx: &SessionContext) -> u8 {
    (0..6)
        .filter(|&i| ctx.add_path_receive(family(i)))
        .fold(0, |bits, i| bits | (1 << i))
}

/// The three fields of an UPDATE body that [`Update::decode`] rejected,
/// cut as bgpdump cuts them: each length bounded by what is there.
fn frame_leniently(body: &Bytes) -> (Bytes, Bytes, Bytes) {
    let len_at = |pos: usize| {
        let b = |i: usize| body.get(pos + i).copied().unwrap_or(0);
        usize::from(u16::from_be_bytes([b(0), b(1)]))
    };
    let end = body.len();
    let w_start = 2.min(end);
    let w_end = (w_start + len_at(0)).min(end);
    let a_start = (w_end + 2).min(end);
    let a_end = (a_start + len_at(w_end)).min(end);
    (
        body.slice(w_start..w_end),
        body.slice(a_start..a_end),
        body.slice(a_end..),
    )
}

/// The prefixes of a field of the family `afi` (1 IPv4, 2 IPv6), as far
/// as they are well-formed.
fn prefixes(field: &[u8], afi: u16, path_ids: bool) -> NlriIter<'_> {
    let afi = if afi == 2 { Afi::Ipv6 } else { Afi::Ipv4 };
    NlriIter::new_validated(field, afi, path_ids, usize::MAX)
}

fn push_prefix(out: &mut Vec<u8>, p: &IpNet) {
    match p {
        IpNet::V4(p) => text::push_ipv4(out, p.network().octets()),
        IpNet::V6(p) => text::push_ipv6(out, p.network().octets()),
    }
    out.push(b'/');
    push_u32(out, u32::from(p.prefix_len()));
}

fn push_time(out: &mut Vec<u8>, ts: u32, us: Option<u32>) {
    push_u32(out, ts);
    if let Some(us) = us {
        out.push(b'.');
        push_u32_06(out, us);
    }
}

#[cfg(test)]
mod tests {
    use super::attrs::family_index;
    use super::*;

    #[test]
    fn lenient_framing() {
        let body = Bytes::from_static(&[0, 2, 8, 10, 0, 9, 1]);
        let (w, a, n) = frame_leniently(&body);
        assert_eq!(
            (&w[..], &a[..], &n[..]),
            (&[8u8, 10][..], &[1u8][..], &[][..])
        );
        let (w, a, n) = frame_leniently(&Bytes::from_static(&[0]));
        assert!(w.is_empty() && a.is_empty() && n.is_empty());
    }

    #[test]
    fn family_indexes() {
        for i in 0..6 {
            let (afi, safi) = family_of(i);
            assert_eq!(family_index(afi, safi), Some(i));
        }
        assert_eq!(family_index(1, 128), None);
    }
}

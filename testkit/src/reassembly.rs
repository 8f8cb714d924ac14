//! TCP stream reassembly, one byte stream per direction of a connection.
//!
//! The reassembler works offline: it collects every segment of the capture,
//! then builds each stream ordered by sequence number. That makes it
//! indifferent to segments captured out of order, and lets it decide what is
//! missing only once everything has been seen.
//!
//! - Sequence numbers are unwrapped relative to the previous segment of the
//!   same direction, so a stream may cross the 2^32 boundary.
//! - Retransmissions and overlaps keep the first copy, in sequence order
//!   then capture order. A later copy whose octets differ from those kept
//!   cannot be a retransmission (crafted captures reuse sequence numbers
//!   for unrelated test messages): it goes to a new stream of the same
//!   4-tuple, with the other conflicting segments (at most 64 such streams;
//!   after that conflicting copies are dropped). The octets that differed
//!   are counted in [`Stream::conflicting_octets`].
//! - A hole in the sequence space (a segment the capture lacks, or the tail
//!   of a packet cut by the snap length) is recorded as a [`Gap`] at the
//!   offset where the data resumes. Without a SYN, the stream starts at the
//!   lowest sequence number seen: a capture whose first segments are missing
//!   starts in the middle of the byte stream ([`Stream::syn_seen`] is false).
//! - A SYN starts the stream at ISN + 1. A SYN carrying data whose next
//!   segment follows it at ISN + length (as some crafted captures do) has
//!   its data placed at the ISN. A second SYN with another sequence number
//!   or other data on the same 4-tuple starts a new stream (a new
//!   connection, numbered by [`Stream::incarnation`]); an identical one is a
//!   retransmission.

use std::collections::HashMap;
use std::ops::Range;

use crate::packet::{Flow, TcpSegment};

/// Where the data of one stream resumes after a hole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// Offset in [`Stream::data`] of the first octet after the hole.
    pub offset: usize,
    /// How many sequence numbers are missing.
    pub missing: u64,
}

/// The octets of one stream that came from one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Offset in [`Stream::data`].
    pub offset: usize,
    /// Number of octets.
    pub len: usize,
    /// Frame number of the packet.
    pub packet: usize,
}

/// The reassembled bytes of one direction of one TCP connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// Sender and receiver.
    pub flow: Flow,
    /// 0 for the first stream of this 4-tuple, then 1, 2, ... for each new
    /// SYN and each stream split off by conflicting copies.
    pub incarnation: usize,
    /// Whether the stream starts with the connection's SYN (otherwise the
    /// capture may have missed its beginning).
    pub syn_seen: bool,
    /// The octets, in sequence order, holes left out.
    pub data: Vec<u8>,
    /// Which packet each run of octets came from, by offset.
    pub pieces: Vec<Piece>,
    /// The holes, by offset.
    pub gaps: Vec<Gap>,
    /// Sequence numbers after the last octet that the last segments
    /// announced but the capture lacks (snap length).
    pub missing_at_end: u64,
    /// Octets received more than once (retransmissions, overlaps).
    pub duplicate_octets: u64,
    /// Of those, octets whose later copy differed from the one kept.
    pub conflicting_octets: u64,
}

impl Stream {
    /// Frame number of the packet that carried the octet at `offset`.
    pub fn packet_at(&self, offset: usize) -> Option<usize> {
        let i = self.pieces.partition_point(|p| p.offset + p.len <= offset);
        self.pieces
            .get(i)
            .filter(|p| p.offset <= offset)
            .map(|p| p.packet)
    }

    /// The lowest and highest frame numbers of the packets that carried
    /// octets of `range` (`None` for an empty or out-of-range range).
    pub fn packets_in(&self, range: Range<usize>) -> Option<(usize, usize)> {
        let i = self
            .pieces
            .partition_point(|p| p.offset + p.len <= range.start);
        let mut it = self
            .pieces
            .get(i..)?
            .iter()
            .take_while(|p| p.offset < range.end)
            .map(|p| p.packet);
        let first = it.next()?;
        Some(it.fold((first, first), |(lo, hi), p| (lo.min(p), hi.max(p))))
    }

    /// The first gap strictly inside `range` (after its first octet, at or
    /// before its end), that is one that breaks a message occupying it.
    pub fn gap_within(&self, range: Range<usize>) -> Option<Gap> {
        let i = self.gaps.partition_point(|g| g.offset <= range.start);
        self.gaps.get(i).filter(|g| g.offset < range.end).copied()
    }

    /// End of the contiguous run of octets that contains `offset`: the
    /// offset of the next gap, or the length of the data.
    pub fn contiguous_end(&self, offset: usize) -> usize {
        let i = self.gaps.partition_point(|g| g.offset <= offset);
        self.gaps
            .get(i)
            .map_or(self.data.len(), |g| g.offset.min(self.data.len()))
    }
}

/// Collects TCP segments and builds the streams.
#[derive(Debug, Default)]
pub struct Reassembler {
    flows: HashMap<Flow, Vec<Incarnation>>,
    order: Vec<Flow>,
}

#[derive(Debug, Default)]
struct Incarnation {
    /// The SYN: sequence number and payload.
    syn: Option<(u32, Vec<u8>)>,
    segments: Vec<TcpSegment>,
}

impl Reassembler {
    /// An empty reassembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one segment, in capture order.
    pub fn push(&mut self, seg: TcpSegment) {
        let flow = seg.flow;
        let list = self.flows.entry(flow).or_insert_with(|| {
            self.order.push(flow);
            Vec::new()
        });
        if seg.syn() {
            let same_syn = list
                .last()
                .and_then(|inc| inc.syn.as_ref())
                .is_some_and(|(s, p)| *s == seg.seq && *p == seg.payload);
            if same_syn {
                return;
            }
            let reuse = list
                .last()
                .is_some_and(|inc| inc.syn.is_none() && inc.segments.is_empty());
            if !reuse {
                list.push(Incarnation::default());
            }
            if let Some(inc) = list.last_mut() {
                inc.syn = Some((seg.seq, seg.payload.clone()));
                if !seg.payload.is_empty() || seg.missing > 0 {
                    inc.segments.push(seg);
                }
            }
            return;
        }
        if seg.payload.is_empty() && seg.missing == 0 {
            return;
        }
        if list.is_empty() {
            list.push(Incarnation::default());
        }
        if let Some(inc) = list.last_mut() {
            inc.segments.push(seg);
        }
    }

    /// Builds every stream that carries data, ordered by the frame number of
    /// its first segment.
    pub fn finish(self) -> Vec<Stream> {
        let mut out = Vec::new();
        let mut flows = self.flows;
        for flow in self.order {
            let Some(incs) = flows.remove(&flow) else {
                continue;
            };
            let mut n = 0;
            for inc in incs {
                for mut s in build(flow, inc) {
                    s.incarnation = n;
                    n += 1;
                    out.push(s);
                }
            }
        }
        out.sort_by_key(|s| (s.pieces.first().map_or(usize::MAX, |p| p.packet), s.flow));
        out
    }
}

/// Reassembles the streams of a list of segments given in capture order.
pub fn reassemble(segments: impl IntoIterator<Item = TcpSegment>) -> Vec<Stream> {
    let mut r = Reassembler::new();
    for s in segments {
        r.push(s);
    }
    r.finish()
}

/// Most streams one incarnation is split into because of conflicting copies.
const MAX_SPLITS: usize = 64;

/// Builds the streams of one incarnation: the first from the first copies,
/// then one more from the segments that conflicted with it, and so on.
fn build(flow: Flow, inc: Incarnation) -> Vec<Stream> {
    let mut out = Vec::new();
    if inc.segments.is_empty() {
        return out;
    }
    // Unwrap sequence numbers in capture order, relative to the SYN if
    // there is one (the SYN comes first in an incarnation).
    let (mut prev_seq, mut prev_pos) = match &inc.syn {
        Some((isn, _)) => (*isn, 0i64),
        None => (inc.segments.first().map_or(0, |s| s.seq), 0i64),
    };
    let mut segs: Vec<(i64, TcpSegment)> = Vec::with_capacity(inc.segments.len());
    for s in inc.segments {
        // The signed distance from the previous segment.
        let delta = i64::from(s.seq.wrapping_sub(prev_seq) as i32);
        let pos = prev_pos + delta;
        prev_seq = s.seq;
        prev_pos = pos;
        segs.push((pos, s));
    }
    let syn_base = inc.syn.as_ref().map(|(_, payload)| {
        // Data of a SYN starts at ISN + 1, unless the next segment shows
        // that the sender put it at the ISN.
        let len = i64::try_from(payload.len()).unwrap_or(i64::MAX);
        let crafted = len > 0 && segs.iter().any(|(p, s)| *p == len && !s.syn());
        for (p, s) in &mut segs {
            if s.syn() && !crafted {
                *p += 1;
            }
        }
        if crafted { 0 } else { 1 }
    });
    segs.sort_by_key(|(p, s)| (*p, s.packet));
    let mut split = 0;
    while !segs.is_empty() {
        let base = match syn_base {
            Some(b) if split == 0 => b,
            _ => segs.iter().map(|(p, _)| *p).min().unwrap_or(0),
        };
        let keep_conflicts = split + 1 >= MAX_SPLITS;
        let (stream, rest) = build_one(
            flow,
            split,
            syn_base.is_some() && split == 0,
            base,
            segs,
            keep_conflicts,
        );
        out.extend(stream);
        segs = rest;
        split += 1;
    }
    out
}

/// Builds one stream from segments sorted by position; returns the
/// segments whose overlapping octets conflicted with those kept (unless
/// `keep_conflicts`, which drops them as duplicates).
fn build_one(
    flow: Flow,
    incarnation: usize,
    syn_seen: bool,
    base: i64,
    segs: Vec<(i64, TcpSegment)>,
    keep_conflicts: bool,
) -> (Option<Stream>, Vec<(i64, TcpSegment)>) {
    let mut st = Stream {
        flow,
        incarnation,
        syn_seen,
        data: Vec::new(),
        pieces: Vec::new(),
        gaps: Vec::new(),
        missing_at_end: 0,
        duplicate_octets: 0,
        conflicting_octets: 0,
    };
    let mut rest = Vec::new();
    let mut next = base;
    // Where the current contiguous run started, in sequence space and in
    // the data, to compare overlapping copies.
    let (mut run_pos, mut run_off) = (base, 0usize);
    let mut announced_end = base;
    for (pos, s) in segs {
        let len = i64::try_from(s.payload.len()).unwrap_or(i64::MAX);
        let end = pos + len;
        let overlap = usize::try_from((next.min(end) - pos).max(0)).unwrap_or(0);
        if overlap > 0 && pos >= base {
            let differ = conflicts(
                &st.data,
                run_pos,
                run_off,
                pos,
                s.payload.get(..overlap).unwrap_or(&[]),
            );
            if differ > 0 {
                st.conflicting_octets += differ;
                if !keep_conflicts {
                    rest.push((pos, s));
                    continue;
                }
            }
        }
        announced_end = announced_end.max(end + i64::from(s.missing));
        if end <= next {
            // Entirely a copy of octets we have (or before the ISN).
            st.duplicate_octets += u64::try_from(len).unwrap_or(0);
            continue;
        }
        if pos > next {
            st.gaps.push(Gap {
                offset: st.data.len(),
                missing: u64::try_from(pos - next).unwrap_or(0),
            });
            run_pos = pos;
            run_off = st.data.len();
        }
        st.duplicate_octets += u64::try_from(overlap).unwrap_or(0);
        let fresh = s.payload.get(overlap..).unwrap_or(&[]);
        st.pieces.push(Piece {
            offset: st.data.len(),
            len: fresh.len(),
            packet: s.packet,
        });
        st.data.extend_from_slice(fresh);
        next = end;
    }
    st.missing_at_end = u64::try_from(announced_end - next).unwrap_or(0);
    if st.data.is_empty() && st.gaps.is_empty() && st.missing_at_end == 0 {
        return (None, rest);
    }
    (Some(st), rest)
}

/// How many octets of `copy` (at sequence position `pos`) differ from the
/// octets kept, looking only inside the current contiguous run.
fn conflicts(data: &[u8], run_pos: i64, run_off: usize, pos: i64, copy: &[u8]) -> u64 {
    if pos < run_pos {
        return 0;
    }
    let Some(off) = usize::try_from(pos - run_pos)
        .ok()
        .and_then(|d| d.checked_add(run_off))
    else {
        return 0;
    };
    let kept = data.get(off..).unwrap_or(&[]);
    kept.iter()
        .zip(copy)
        .filter(|(a, b)| a != b)
        .count()
        .try_into()
        .unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{Endpoint, tcp_flags};
    use std::net::{IpAddr, Ipv4Addr};

    fn flow(sport: u16) -> Flow {
        Flow {
            src: Endpoint {
                addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
                port: sport,
            },
            dst: Endpoint {
                addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
                port: 179,
            },
        }
    }

    fn seg(packet: usize, seq: u32, flags: u8, payload: &[u8]) -> TcpSegment {
        TcpSegment {
            packet,
            flow: flow(1000),
            seq,
            flags,
            payload: payload.to_vec(),
            missing: 0,
        }
    }

    #[test]
    fn in_order_out_of_order_and_retransmitted() {
        let s = reassemble([
            seg(1, 100, tcp_flags::SYN, b""),
            seg(2, 101, 0, b"abc"),
            seg(3, 107, 0, b"ghi"),
            seg(4, 104, 0, b"def"),
            seg(5, 101, 0, b"abc"),
            seg(6, 105, 0, b"efgh"),
        ]);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].data, b"abcdefghi");
        assert!(s[0].gaps.is_empty());
        assert!(s[0].syn_seen);
        assert_eq!(s[0].duplicate_octets, 7);
        assert_eq!(s[0].conflicting_octets, 0);
        assert_eq!(s[0].packet_at(4), Some(4));
        assert_eq!(s[0].packets_in(2..6), Some((2, 4)));
        assert_eq!(s[0].packets_in(2..7), Some((2, 6)));
    }

    #[test]
    fn conflicting_copies_make_a_new_stream() {
        let s = reassemble([
            seg(1, 100, 0, b"abcdef"),
            seg(2, 100, 0, b"abXdef"),
            seg(3, 106, 0, b"gh"),
            seg(4, 103, 0, b"dYf"),
        ]);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].data, b"abcdefgh");
        assert_eq!(s[0].conflicting_octets, 2);
        assert_eq!(s[1].data, b"abXdef");
        assert_eq!(s[1].incarnation, 1);
        // The third copy conflicts with the second stream: a third one.
        assert_eq!(s[1].conflicting_octets, 1);
        assert_eq!(s[2].data, b"dYf");
    }

    #[test]
    fn gaps_and_missing_start() {
        let s = reassemble([
            seg(1, 5000, 0, b"xyz"),
            seg(2, 5010, 0, b"uvw"),
            seg(3, 4990, 0, b"a"),
        ]);
        assert_eq!(s[0].data, b"axyzuvw");
        assert!(!s[0].syn_seen);
        assert_eq!(
            s[0].gaps,
            vec![
                Gap {
                    offset: 1,
                    missing: 9
                },
                Gap {
                    offset: 4,
                    missing: 7
                }
            ]
        );
        assert_eq!(
            s[0].gap_within(0..2),
            Some(Gap {
                offset: 1,
                missing: 9
            })
        );
        assert_eq!(s[0].gap_within(1..4), None);
        assert_eq!(s[0].contiguous_end(2), 4);
    }

    #[test]
    fn sequence_wraps() {
        let s = reassemble([seg(1, u32::MAX - 1, 0, b"ab"), seg(2, 0, 0, b"cd")]);
        assert_eq!(s[0].data, b"abcd");
        assert!(s[0].gaps.is_empty());
    }

    #[test]
    fn syn_with_data_and_new_incarnations() {
        // RFC layout: data at ISN + 1.
        let s = reassemble([seg(1, 10, tcp_flags::SYN, b"ab"), seg(2, 13, 0, b"cd")]);
        assert_eq!(s[0].data, b"abcd");
        // Crafted layout: data at the ISN, next segment at ISN + 2.
        let s = reassemble([seg(1, 10, tcp_flags::SYN, b"ab"), seg(2, 12, 0, b"cd")]);
        assert_eq!(s[0].data, b"abcd");
        // Three different SYNs with the same ISN: three connections; a
        // repeated identical SYN is a retransmission.
        let s = reassemble([
            seg(1, 0, tcp_flags::SYN, b"one"),
            seg(2, 0, tcp_flags::SYN, b"two"),
            seg(3, 0, tcp_flags::SYN, b"two"),
            seg(4, 0, tcp_flags::SYN, b"three"),
        ]);
        assert_eq!(s.len(), 3);
        assert_eq!(s[2].data, b"three");
        assert_eq!(s[2].incarnation, 2);
    }

    #[test]
    fn truncated_tail_is_missing() {
        let mut a = seg(1, 0, 0, b"abc");
        a.missing = 5;
        let s = reassemble([a.clone()]);
        assert_eq!(s[0].missing_at_end, 5);
        let s = reassemble([a, seg(2, 8, 0, b"z")]);
        assert_eq!(
            s[0].gaps,
            vec![Gap {
                offset: 3,
                missing: 5
            }]
        );
        assert_eq!(s[0].missing_at_end, 0);
    }
}

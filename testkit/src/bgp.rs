//! BGP framing over a reassembled TCP stream: the 19-octet header (16-octet
//! marker, 2-octet length, 1-octet type) splits the stream into messages.
//!
//! The splitter does not decode messages; it yields each frame's octets
//! with the packets they came in, and reports what it could not frame:
//! octets before a marker ([`FrameEvent::Skipped`], for example a capture
//! that starts in the middle of a message), a header whose length is below
//! 19 or above the maximum ([`FrameEvent::BadLength`]), and a message cut by
//! a hole in the stream or by its end ([`FrameEvent::Truncated`]). After
//! each of these it resynchronises on the next marker. Every step moves
//! forward, so a stream of `n` octets yields at most `n + 1` events.

use std::ops::Range;

use crate::packet::Flow;
use crate::reassembly::Stream;

/// The marker: sixteen octets of ones.
pub const MARKER: [u8; 16] = [0xff; 16];
/// Length of the message header.
pub const HEADER_LEN: usize = 19;
/// Largest message without the extended message capability (RFC 4271).
pub const MAX_LEN: usize = 4096;
/// Largest message with the extended message capability (RFC 8654).
pub const MAX_EXTENDED_LEN: usize = 65535;
/// The ports BGP is found on: 179, and 1179 which some test captures use.
pub const BGP_PORTS: [u16; 2] = [179, 1179];

/// Whether a stream looks like BGP: either port is one of [`BGP_PORTS`], or
/// its data starts with a marker.
pub fn is_bgp_stream(stream: &Stream) -> bool {
    BGP_PORTS.iter().any(|p| stream.flow.has_port(*p)) || stream.data.starts_with(&MARKER)
}

/// One framed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Offset of the marker in [`Stream::data`].
    pub offset: usize,
    /// The whole message, header included.
    pub bytes: &'a [u8],
    /// The type octet of the header (not checked).
    pub message_type: u8,
    /// Frame number of the packet of the message's first octet.
    pub first_packet: usize,
    /// The highest frame number among the packets the message came in:
    /// when the message was complete.
    pub last_packet: usize,
}

impl Frame<'_> {
    /// The octets' place in the stream.
    pub fn range(&self) -> Range<usize> {
        self.offset..self.offset + self.bytes.len()
    }
}

/// What the splitter found next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameEvent<'a> {
    /// A complete message.
    Message(Frame<'a>),
    /// Octets that do not start with a marker, up to the next marker, hole
    /// or end of stream.
    Skipped {
        /// Offset in the stream.
        offset: usize,
        /// Number of octets.
        len: usize,
        /// Frame number of the packet of the first octet.
        packet: usize,
    },
    /// A header whose length field is below 19 or above the maximum; the
    /// splitter searches the next marker from the octet after this one.
    BadLength {
        /// Offset of the marker.
        offset: usize,
        /// The length field.
        length: u16,
        /// The type octet.
        message_type: u8,
        /// Frame number of the packet of the marker.
        packet: usize,
    },
    /// A message (or a header) that a hole or the end of the stream cuts.
    Truncated {
        /// Offset of the marker.
        offset: usize,
        /// The length field, when the header is complete.
        length: Option<u16>,
        /// Octets available before the hole or the end.
        available: usize,
        /// Whether a hole (rather than the end of the stream) cuts it.
        by_gap: bool,
        /// Frame number of the packet of the marker.
        packet: usize,
    },
}

/// Splits a stream into BGP messages; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Splitter<'a> {
    stream: &'a Stream,
    pos: usize,
    max_len: usize,
}

impl<'a> Splitter<'a> {
    /// A splitter accepting messages of up to [`MAX_LEN`] octets.
    pub fn new(stream: &'a Stream) -> Self {
        Splitter {
            stream,
            pos: 0,
            max_len: MAX_LEN,
        }
    }

    /// Sets the largest acceptable length (at least 19, at most 65535).
    pub fn with_max_len(mut self, max_len: usize) -> Self {
        self.set_max_len(max_len);
        self
    }

    /// Changes the largest acceptable length from the next message on (when
    /// the extended message capability has been negotiated).
    pub fn set_max_len(&mut self, max_len: usize) {
        self.max_len = max_len.clamp(HEADER_LEN, MAX_EXTENDED_LEN);
    }

    /// The stream being split.
    pub fn stream(&self) -> &'a Stream {
        self.stream
    }

    fn packet(&self, offset: usize) -> usize {
        self.stream.packet_at(offset).unwrap_or(0)
    }
}

/// Offset of the first marker in `hay`, or of a run of 0xff octets that
/// the end of `hay` cuts (a marker the capture may have truncated).
fn find_marker(hay: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(rel) = hay.get(i..).and_then(|h| h.iter().position(|&b| b == 0xff)) {
        let at = i + rel;
        let run = hay
            .get(at..)
            .map_or(0, |h| h.iter().take(16).take_while(|&&b| b == 0xff).count());
        if run == 16 {
            return Some(at);
        }
        if at + run >= hay.len() {
            return Some(at);
        }
        i = at + run + 1;
    }
    None
}

impl<'a> Iterator for Splitter<'a> {
    type Item = FrameEvent<'a>;

    fn next(&mut self) -> Option<FrameEvent<'a>> {
        let data = &self.stream.data;
        let pos = self.pos;
        if pos >= data.len() {
            return None;
        }
        let end = self.stream.contiguous_end(pos);
        let region = data.get(pos..end).unwrap_or(&[]);
        let packet = self.packet(pos);
        if !region.starts_with(&MARKER) {
            // A partial header at the end of the run.
            if region.len() < MARKER.len() && region.iter().all(|&b| b == 0xff) {
                self.pos = end;
                return Some(FrameEvent::Truncated {
                    offset: pos,
                    length: None,
                    available: region.len(),
                    by_gap: end < data.len(),
                    packet,
                });
            }
            let skip = find_marker(region).unwrap_or(region.len()).max(1);
            self.pos = pos + skip;
            return Some(FrameEvent::Skipped {
                offset: pos,
                len: skip,
                packet,
            });
        }
        let (Some(&l0), Some(&l1), Some(&ty)) = (region.get(16), region.get(17), region.get(18))
        else {
            self.pos = end;
            return Some(FrameEvent::Truncated {
                offset: pos,
                length: None,
                available: region.len(),
                by_gap: end < data.len(),
                packet,
            });
        };
        let length = u16::from_be_bytes([l0, l1]);
        let len = usize::from(length);
        if !(HEADER_LEN..=self.max_len).contains(&len) {
            self.pos = pos + 1;
            return Some(FrameEvent::BadLength {
                offset: pos,
                length,
                message_type: ty,
                packet,
            });
        }
        let Some(bytes) = region.get(..len) else {
            self.pos = end;
            return Some(FrameEvent::Truncated {
                offset: pos,
                length: Some(length),
                available: region.len(),
                by_gap: end < data.len(),
                packet,
            });
        };
        self.pos = pos + len;
        let (first_packet, last_packet) = self
            .stream
            .packets_in(pos..pos + len)
            .unwrap_or((packet, packet));
        Some(FrameEvent::Message(Frame {
            offset: pos,
            bytes,
            message_type: ty,
            first_packet,
            last_packet,
        }))
    }
}

/// A message of a capture with the stream it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureMessage<'a> {
    /// Index of the stream in the list given to [`messages_in_order`].
    pub stream: usize,
    /// The stream's flow.
    pub flow: Flow,
    /// The message.
    pub frame: Frame<'a>,
}

/// The messages and framing problems of several streams, merged in the
/// order the messages completed in the capture (frame number of their last
/// packet, then stream, then offset), each stream split with the maximum
/// length `max_len(stream index)`.
pub fn events_in_order<'a>(
    streams: &'a [Stream],
    max_len: impl Fn(usize) -> usize,
) -> Vec<(usize, FrameEvent<'a>)> {
    let mut all = Vec::new();
    for (i, s) in streams.iter().enumerate() {
        for ev in Splitter::new(s).with_max_len(max_len(i)) {
            all.push((i, ev));
        }
    }
    all.sort_by_key(|(i, ev)| (event_packet(ev), *i, event_offset(ev)));
    all
}

/// The complete messages only, in capture order (see [`events_in_order`]).
pub fn messages_in_order<'a>(
    streams: &'a [Stream],
    max_len: impl Fn(usize) -> usize,
) -> Vec<CaptureMessage<'a>> {
    events_in_order(streams, max_len)
        .into_iter()
        .filter_map(|(i, ev)| match ev {
            FrameEvent::Message(frame) => streams.get(i).map(|s| CaptureMessage {
                stream: i,
                flow: s.flow,
                frame,
            }),
            _ => None,
        })
        .collect()
}

/// The frame number an event is ordered by.
pub fn event_packet(ev: &FrameEvent<'_>) -> usize {
    match ev {
        FrameEvent::Message(f) => f.last_packet,
        FrameEvent::Skipped { packet, .. }
        | FrameEvent::BadLength { packet, .. }
        | FrameEvent::Truncated { packet, .. } => *packet,
    }
}

/// The stream offset of an event.
pub fn event_offset(ev: &FrameEvent<'_>) -> usize {
    match ev {
        FrameEvent::Message(f) => f.offset,
        FrameEvent::Skipped { offset, .. }
        | FrameEvent::BadLength { offset, .. }
        | FrameEvent::Truncated { offset, .. } => *offset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{Endpoint, TcpSegment};
    use crate::reassembly::reassemble;
    use std::net::{IpAddr, Ipv4Addr};

    fn msg(ty: u8, body: &[u8]) -> Vec<u8> {
        let mut v = MARKER.to_vec();
        v.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
        v.push(ty);
        v.extend_from_slice(body);
        v
    }

    fn stream(segs: &[(u32, Vec<u8>)]) -> Vec<Stream> {
        let flow = crate::packet::Flow {
            src: Endpoint {
                addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
                port: 5000,
            },
            dst: Endpoint {
                addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
                port: 1179,
            },
        };
        reassemble(segs.iter().enumerate().map(|(i, (seq, p))| TcpSegment {
            packet: i + 1,
            flow,
            seq: *seq,
            flags: 0,
            payload: p.clone(),
            missing: 0,
        }))
    }

    fn kinds(s: &Stream) -> Vec<String> {
        Splitter::new(s)
            .map(|e| match e {
                FrameEvent::Message(f) => format!("M{}@{}", f.message_type, f.offset),
                FrameEvent::Skipped { offset, len, .. } => format!("S{len}@{offset}"),
                FrameEvent::BadLength { offset, length, .. } => format!("B{length}@{offset}"),
                FrameEvent::Truncated { offset, by_gap, .. } => {
                    format!("T{}@{offset}", if by_gap { "g" } else { "e" })
                }
            })
            .collect()
    }

    #[test]
    fn splits_and_spans_segments() {
        let mut all = msg(4, b"");
        all.extend(msg(2, &[0, 0, 0, 0]));
        let (a, b) = all.split_at(30);
        let s = stream(&[(1, a.to_vec()), (31, b.to_vec())]);
        assert!(is_bgp_stream(&s[0]));
        assert_eq!(kinds(&s[0]), ["M4@0", "M2@19"]);
        let ev: Vec<_> = Splitter::new(&s[0]).collect();
        let FrameEvent::Message(f) = ev[1] else {
            panic!()
        };
        assert_eq!((f.first_packet, f.last_packet), (1, 2));
        assert_eq!(f.bytes.len(), 23);
    }

    #[test]
    fn resynchronises() {
        // Garbage, a bad length, a message cut by a gap, a good message, a
        // message cut by the end.
        let mut a = b"junk".to_vec();
        let mut bad = msg(4, b"");
        bad[17] = 5;
        a.extend(&bad);
        a.extend(&msg(2, &[0, 0, 0, 0, 1, 2])[..10]);
        let mut b = b"xx".to_vec();
        b.extend(msg(4, b""));
        b.extend(&msg(3, &[6, 2])[..20]);
        let s = stream(&[(0, a.clone()), (a.len() as u32 + 100, b)]);
        assert_eq!(
            kinds(&s[0]),
            ["S4@0", "B5@4", "S18@5", "Tg@23", "S2@33", "M4@35", "Te@54"]
        );
    }

    #[test]
    fn max_len_and_find_marker() {
        let m = msg(2, &[0u8; 5000]);
        let s = stream(&[(0, m)]);
        assert_eq!(kinds(&s[0])[0], "B5019@0");
        let ev: Vec<_> = Splitter::new(&s[0])
            .with_max_len(MAX_EXTENDED_LEN)
            .collect();
        assert!(matches!(ev[..], [FrameEvent::Message(_)]));
        let mut h = vec![1, 0xff, 0xff, 2];
        h.extend([0xff; 17]);
        assert_eq!(find_marker(&h), Some(4));
        assert_eq!(find_marker(&[0xff; 15]), Some(0));
        assert_eq!(find_marker(&[1, 2, 3]), None);
    }

    #[test]
    fn ordering_across_streams() {
        let s = stream(&[(0, msg(4, b""))]);
        let m = messages_in_order(&s, |_| MAX_LEN);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].frame.last_packet, 1);
    }
}

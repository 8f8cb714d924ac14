//! Reading packet capture files: classic pcap (both byte orders, micro- and
//! nanosecond timestamps), pcapng (section header, interface description,
//! enhanced, simple and obsolete packet blocks) and either of them
//! gzip-compressed.
//!
//! The reader never panics on a malformed file. Reading stops at the first
//! record that does not fit the file; the packets read until then are kept
//! and the problem is recorded in [`Capture::problems`].

use std::fmt;
use std::io::Read;
use std::path::Path;

/// Largest capture, after decompression, that [`read_capture`] accepts.
pub const MAX_CAPTURE_LEN: u64 = 512 * 1024 * 1024;

/// Link-layer header types (the LINKTYPE_ registry of pcap and pcapng).
pub mod link_type {
    /// BSD loopback: a 4-octet address family in the writer's byte order.
    pub const NULL: u32 = 0;
    /// Ethernet (DIX or 802.3).
    pub const ETHERNET: u32 = 1;
    /// PPP, with or without the HDLC-like address and control octets.
    pub const PPP: u32 = 9;
    /// Raw IP on some BSDs.
    pub const RAW_BSD: u32 = 12;
    /// PPP in HDLC-like framing (RFC 1662).
    pub const PPP_HDLC: u32 = 50;
    /// Raw IPv4 or IPv6.
    pub const RAW: u32 = 101;
    /// Cisco HDLC.
    pub const C_HDLC: u32 = 104;
    /// Frame Relay (RFC 2427 or Cisco encapsulation).
    pub const FRELAY: u32 = 107;
    /// OpenBSD loopback: a 4-octet address family in network byte order.
    pub const LOOP: u32 = 108;
    /// Linux cooked capture, version 1.
    pub const LINUX_SLL: u32 = 113;
    /// Juniper Ethernet (the Juniper meta header, then Ethernet).
    pub const JUNIPER_ETHER: u32 = 178;
    /// Raw IPv4.
    pub const IPV4: u32 = 228;
    /// Raw IPv6.
    pub const IPV6: u32 = 229;
    /// Linux cooked capture, version 2.
    pub const LINUX_SLL2: u32 = 276;
}

/// One captured packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Frame number, counting from 1 as Wireshark does.
    pub number: usize,
    /// Timestamp in nanoseconds since the Unix epoch (0 when unknown).
    pub timestamp_ns: u64,
    /// The link-layer header type of the packet's interface.
    pub link_type: u32,
    /// The captured octets (possibly fewer than were on the wire).
    pub data: Vec<u8>,
    /// The length of the packet on the wire.
    pub original_len: u32,
}

impl Packet {
    /// Whether fewer octets were captured than were on the wire.
    pub fn is_truncated(&self) -> bool {
        u64::try_from(self.data.len()).unwrap_or(u64::MAX) < u64::from(self.original_len)
    }
}

/// The file formats [`read_capture`] recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic libpcap format.
    Pcap,
    /// pcapng.
    PcapNg,
}

/// The packets of a capture file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capture {
    /// The packets in file order.
    pub packets: Vec<Packet>,
    /// What was wrong with the file, if anything (a truncated last record,
    /// a block of unknown interface, ...). Packets before the problem are
    /// kept.
    pub problems: Vec<String>,
}

/// Why a capture could not be read at all.
#[derive(Debug)]
pub enum CaptureError {
    /// The file could not be read or decompressed.
    Io(std::io::Error),
    /// The file starts with no known magic number.
    UnknownFormat,
    /// The file is larger than [`MAX_CAPTURE_LEN`] once decompressed.
    TooLarge,
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::Io(e) => write!(f, "cannot read capture: {e}"),
            CaptureError::UnknownFormat => f.write_str("not a pcap or pcapng file"),
            CaptureError::TooLarge => f.write_str("capture too large"),
        }
    }
}

impl std::error::Error for CaptureError {}

impl From<std::io::Error> for CaptureError {
    fn from(e: std::io::Error) -> Self {
        CaptureError::Io(e)
    }
}

/// Reads a pcap or pcapng file, gzip-compressed or not (told by the magic
/// number, not the file name).
pub fn read_capture(path: impl AsRef<Path>) -> Result<Capture, CaptureError> {
    let file = std::fs::File::open(path)?;
    let mut raw = Vec::new();
    file.take(MAX_CAPTURE_LEN + 1).read_to_end(&mut raw)?;
    parse_capture(&raw)
}

/// Parses the bytes of a capture file (gzip-compressed or not).
pub fn parse_capture(bytes: &[u8]) -> Result<Capture, CaptureError> {
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_CAPTURE_LEN {
        return Err(CaptureError::TooLarge);
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .take(MAX_CAPTURE_LEN + 1)
            .read_to_end(&mut out)?;
        if u64::try_from(out.len()).unwrap_or(u64::MAX) > MAX_CAPTURE_LEN {
            return Err(CaptureError::TooLarge);
        }
        return parse_uncompressed(&out);
    }
    parse_uncompressed(bytes)
}

/// The format of an uncompressed capture, from its magic number.
pub fn detect_format(bytes: &[u8]) -> Option<Format> {
    match bytes.first_chunk::<4>()? {
        [0xd4, 0xc3, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0xc3, 0xd4]
        | [0x4d, 0x3c, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0x3c, 0x4d] => Some(Format::Pcap),
        [0x0a, 0x0d, 0x0d, 0x0a] => Some(Format::PcapNg),
        _ => None,
    }
}

fn parse_uncompressed(bytes: &[u8]) -> Result<Capture, CaptureError> {
    match detect_format(bytes) {
        Some(Format::Pcap) => Ok(parse_pcap(bytes)),
        Some(Format::PcapNg) => Ok(parse_pcapng(bytes)),
        None => Err(CaptureError::UnknownFormat),
    }
}

/// A byte order for reading integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endian {
    Little,
    Big,
}

impl Endian {
    fn u16(self, b: &[u8], at: usize) -> Option<u16> {
        let a = *b.get(at..)?.first_chunk::<2>()?;
        Some(match self {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        })
    }

    fn u32(self, b: &[u8], at: usize) -> Option<u32> {
        let a = *b.get(at..)?.first_chunk::<4>()?;
        Some(match self {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        })
    }
}

fn to_usize(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn parse_pcap(b: &[u8]) -> Capture {
    let mut cap = Capture::default();
    let (endian, nanos) = match b.first_chunk::<4>() {
        Some([0xd4, 0xc3, 0xb2, 0xa1]) => (Endian::Little, false),
        Some([0x4d, 0x3c, 0xb2, 0xa1]) => (Endian::Little, true),
        Some([0xa1, 0xb2, 0x3c, 0x4d]) => (Endian::Big, true),
        _ => (Endian::Big, false),
    };
    let Some(network) = endian.u32(b, 20) else {
        cap.problems.push("pcap file header truncated".into());
        return cap;
    };
    // The upper bits of the link-type field may carry an FCS length.
    let link_type = network & 0x0fff_ffff;
    let mut off = 24usize;
    while off < b.len() {
        let (Some(sec), Some(frac), Some(incl), Some(orig)) = (
            endian.u32(b, off),
            endian.u32(b, off + 4),
            endian.u32(b, off + 8),
            endian.u32(b, off + 12),
        ) else {
            cap.problems
                .push(format!("record header truncated at offset {off}"));
            break;
        };
        let start = off + 16;
        let Some(data) = start
            .checked_add(to_usize(incl))
            .and_then(|end| b.get(start..end))
        else {
            cap.problems.push(format!(
                "record at offset {off} claims {incl} octets, more than the file holds"
            ));
            break;
        };
        let frac_ns = if nanos {
            u64::from(frac)
        } else {
            u64::from(frac) * 1000
        };
        cap.packets.push(Packet {
            number: cap.packets.len() + 1,
            timestamp_ns: u64::from(sec) * 1_000_000_000 + frac_ns,
            link_type,
            data: data.to_vec(),
            original_len: orig,
        });
        off = start + data.len();
    }
    cap
}

/// pcapng block types.
const SHB: u32 = 0x0a0d_0d0a;
const IDB: u32 = 1;
const OBSOLETE_PB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;

/// What pcapng says about one interface.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: u32,
    snap_len: u32,
    /// Timestamp units per second.
    ts_per_sec: u64,
}

fn parse_pcapng(b: &[u8]) -> Capture {
    let mut cap = Capture::default();
    let mut endian = Endian::Little;
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut off = 0usize;
    while off < b.len() {
        // The section header block sets the byte order for what follows.
        let is_shb = b.get(off..off + 4) == Some(&[0x0a, 0x0d, 0x0d, 0x0a][..]);
        if is_shb {
            endian = match b.get(off + 8..off + 12) {
                Some([0x4d, 0x3c, 0x2b, 0x1a]) => Endian::Little,
                Some([0x1a, 0x2b, 0x3c, 0x4d]) => Endian::Big,
                _ => {
                    cap.problems.push(format!(
                        "section header at offset {off} has a bad byte-order magic"
                    ));
                    break;
                }
            };
            interfaces.clear();
        }
        let (Some(block_type), Some(len)) = (endian.u32(b, off), endian.u32(b, off + 4)) else {
            cap.problems
                .push(format!("block header truncated at offset {off}"));
            break;
        };
        let len = to_usize(len);
        let Some(block) = off
            .checked_add(len)
            .filter(|_| len >= 12 && len % 4 == 0)
            .and_then(|end| b.get(off..end))
        else {
            cap.problems.push(format!(
                "block at offset {off} has a bad length {len} for the file"
            ));
            break;
        };
        // The body: between the 8-octet header and the 4-octet trailer.
        let body = block.get(8..len - 4).unwrap_or(&[]);
        match block_type {
            SHB => {}
            IDB => interfaces.push(parse_idb(body, endian)),
            EPB | OBSOLETE_PB => {
                let (iface, ts_hi, ts_lo, cap_len, orig) = if block_type == EPB {
                    (
                        endian.u32(body, 0),
                        endian.u32(body, 4),
                        endian.u32(body, 8),
                        endian.u32(body, 12),
                        endian.u32(body, 16),
                    )
                } else {
                    (
                        endian.u16(body, 0).map(u32::from),
                        endian.u32(body, 4),
                        endian.u32(body, 8),
                        endian.u32(body, 12),
                        endian.u32(body, 16),
                    )
                };
                let (Some(iface), Some(hi), Some(lo), Some(cap_len), Some(orig)) =
                    (iface, ts_hi, ts_lo, cap_len, orig)
                else {
                    cap.problems
                        .push(format!("packet block at offset {off} truncated"));
                    break;
                };
                let Some(info) = interfaces.get(to_usize(iface)).copied() else {
                    cap.problems.push(format!(
                        "packet block at offset {off} names unknown interface {iface}"
                    ));
                    off += len;
                    continue;
                };
                let Some(data) = body.get(20..).and_then(|d| d.get(..to_usize(cap_len))) else {
                    cap.problems.push(format!(
                        "packet block at offset {off} claims {cap_len} octets, more than the block holds"
                    ));
                    off += len;
                    continue;
                };
                let ts = (u64::from(hi) << 32) | u64::from(lo);
                cap.packets.push(Packet {
                    number: cap.packets.len() + 1,
                    timestamp_ns: ts_to_ns(ts, info.ts_per_sec),
                    link_type: info.link_type,
                    data: data.to_vec(),
                    original_len: orig,
                });
            }
            SPB => {
                let Some(info) = interfaces.first().copied() else {
                    cap.problems.push(format!(
                        "simple packet block at offset {off} before any interface"
                    ));
                    off += len;
                    continue;
                };
                let orig = endian.u32(body, 0).unwrap_or(0);
                let avail = body.get(4..).unwrap_or(&[]);
                let mut take = avail.len().min(to_usize(orig));
                if info.snap_len != 0 {
                    take = take.min(to_usize(info.snap_len));
                }
                cap.packets.push(Packet {
                    number: cap.packets.len() + 1,
                    timestamp_ns: 0,
                    link_type: info.link_type,
                    data: avail.get(..take).unwrap_or(&[]).to_vec(),
                    original_len: orig,
                });
            }
            _ => {}
        }
        off += len;
    }
    cap
}

fn ts_to_ns(ts: u64, per_sec: u64) -> u64 {
    if per_sec == 0 {
        return 0;
    }
    let secs = ts / per_sec;
    let rem = ts % per_sec;
    secs.saturating_mul(1_000_000_000).saturating_add(
        u64::try_from(u128::from(rem) * 1_000_000_000 / u128::from(per_sec)).unwrap_or(0),
    )
}

fn parse_idb(body: &[u8], endian: Endian) -> Interface {
    let link_type = endian.u16(body, 0).map(u32::from).unwrap_or(u32::MAX);
    let snap_len = endian.u32(body, 4).unwrap_or(0);
    let mut ts_per_sec = 1_000_000u64;
    // Options: code (2), length (2), value padded to 4.
    let mut off = 8usize;
    while let (Some(code), Some(len)) = (endian.u16(body, off), endian.u16(body, off + 2)) {
        if code == 0 {
            break;
        }
        let len = usize::from(len);
        if code == 9 {
            if let Some(&v) = body.get(off + 4) {
                let exp = u32::from(v & 0x7f);
                ts_per_sec = if v & 0x80 == 0 {
                    10u64.checked_pow(exp).unwrap_or(0)
                } else {
                    2u64.checked_pow(exp).unwrap_or(0)
                };
            }
        }
        off += 4 + len.div_ceil(4) * 4;
    }
    Interface {
        link_type,
        snap_len,
        ts_per_sec,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap_le(link: u32, records: &[&[u8]]) -> Vec<u8> {
        let mut v = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&65535u32.to_le_bytes());
        v.extend_from_slice(&link.to_le_bytes());
        for (i, r) in records.iter().enumerate() {
            v.extend_from_slice(&(i as u32).to_le_bytes());
            v.extend_from_slice(&5u32.to_le_bytes());
            v.extend_from_slice(&(r.len() as u32).to_le_bytes());
            v.extend_from_slice(&(r.len() as u32 + 1).to_le_bytes());
            v.extend_from_slice(r);
        }
        v
    }

    #[test]
    fn pcap_records_and_truncation() {
        let mut v = pcap_le(101, &[b"abc", b"de"]);
        let cap = parse_capture(&v).unwrap();
        assert_eq!(cap.packets.len(), 2);
        assert_eq!(cap.packets[1].data, b"de");
        assert_eq!(cap.packets[1].number, 2);
        assert_eq!(cap.packets[1].timestamp_ns, 1_000_005_000);
        assert!(cap.packets[0].is_truncated());
        assert!(cap.problems.is_empty());
        v.truncate(v.len() - 1);
        let cap = parse_capture(&v).unwrap();
        assert_eq!(cap.packets.len(), 1);
        assert_eq!(cap.problems.len(), 1);
        assert!(matches!(
            parse_capture(b"nope"),
            Err(CaptureError::UnknownFormat)
        ));
    }

    #[test]
    fn pcap_gzip() {
        use std::io::Write;
        let v = pcap_le(1, &[b"xyz"]);
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&v).unwrap();
        let gz = e.finish().unwrap();
        let cap = parse_capture(&gz).unwrap();
        assert_eq!(cap.packets[0].data, b"xyz");
        assert_eq!(cap.packets[0].link_type, 1);
    }

    fn block(t: u32, body: &[u8]) -> Vec<u8> {
        let len = 12 + body.len().div_ceil(4) * 4;
        let mut v = t.to_le_bytes().to_vec();
        v.extend_from_slice(&(len as u32).to_le_bytes());
        v.extend_from_slice(body);
        v.resize(len - 4, 0);
        v.extend_from_slice(&(len as u32).to_le_bytes());
        v
    }

    #[test]
    fn pcapng_blocks() {
        let mut f = block(
            SHB,
            &[
                0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
        );
        let mut idb = vec![113, 0, 0, 0, 0, 0, 0, 0];
        idb.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
        f.extend(block(IDB, &idb));
        let mut epb = Vec::new();
        for x in [0u32, 0, 2_000_000_000, 3, 3] {
            epb.extend_from_slice(&x.to_le_bytes());
        }
        epb.extend_from_slice(b"abc");
        f.extend(block(EPB, &epb));
        f.extend(block(SPB, &[5, 0, 0, 0, b'h', b'e', b'l', b'l', b'o']));
        let mut bad = epb.clone();
        bad[0] = 7;
        f.extend(block(EPB, &bad));
        let cap = parse_capture(&f).unwrap();
        assert_eq!(cap.packets.len(), 2);
        assert_eq!(cap.packets[0].link_type, 113);
        assert_eq!(cap.packets[0].data, b"abc");
        assert_eq!(cap.packets[0].timestamp_ns, 2_000_000_000);
        assert_eq!(cap.packets[1].data, b"hello");
        assert_eq!(cap.problems.len(), 1);
        // A bad block length stops the walk without a panic.
        let mut g = f.clone();
        g.extend_from_slice(&[6, 0, 0, 0, 5, 0, 0, 0]);
        assert_eq!(parse_capture(&g).unwrap().packets.len(), 2);
    }

    #[test]
    fn never_panics_on_prefixes() {
        let v = pcap_le(1, &[b"abcdef", b"gh"]);
        for n in 0..v.len() {
            let _ = parse_capture(&v[..n]);
        }
    }
}

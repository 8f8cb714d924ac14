//! Reads every MRT file of the shared corpus and checks the counts against
//! those of `/work/shared/corpus/SOURCES.md` (the `mrtparse counts` column;
//! where mrtparse failed on a file, a raw walk over the record headers).
//!
//! Run with `BGP_CORPUS=/path/to/corpus` when the default path does not
//! resolve.

// Helpers outside #[test] functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bgp_wire::mrt::{self, MrtBody, MrtParser, MrtRecord};
use bytes::{Bytes, BytesMut};

struct Expect {
    file: &'static str,
    /// (type, subtype, count)
    records: &'static [(u16, u16, u64)],
    td1_entries: u64,
    td2_peers: u64,
    td2_prefixes: u64,
    td2_rib_entries: u64,
    /// (BGP message type, count)
    bgp: &'static [(u8, u64)],
}

const fn bgp(
    file: &'static str,
    records: &'static [(u16, u16, u64)],
    bgp: &'static [(u8, u64)],
) -> Expect {
    Expect {
        file,
        records,
        td1_entries: 0,
        td2_peers: 0,
        td2_prefixes: 0,
        td2_rib_entries: 0,
        bgp,
    }
}

const fn td2(
    file: &'static str,
    records: &'static [(u16, u16, u64)],
    peers: u64,
    prefixes: u64,
    entries: u64,
) -> Expect {
    Expect {
        file,
        records,
        td1_entries: 0,
        td2_peers: peers,
        td2_prefixes: prefixes,
        td2_rib_entries: entries,
        bgp: &[],
    }
}

const fn td1(file: &'static str, records: &'static [(u16, u16, u64)], entries: u64) -> Expect {
    Expect {
        file,
        records,
        td1_entries: entries,
        td2_peers: 0,
        td2_prefixes: 0,
        td2_rib_entries: 0,
        bgp: &[],
    }
}

const BIRD_BGP: &[(u8, u64)] = &[(1, 2), (2, 6), (3, 1), (4, 5), (5, 1)];
const BIRD_BGP_PLAIN: &[(u8, u64)] = &[(1, 2), (2, 8), (3, 1), (4, 5), (5, 1)];

/// Expected counts, from SOURCES.md.
const EXPECTED: &[Expect] = &[
    td1(
        "mrt/ripe-bgpdump/bview.20020722.2337.gz",
        &[(12, 1, 115521)],
        115521,
    ),
    td2(
        "mrt/ripe-bgpdump/bview.64k_stream_overflow.gz",
        &[(13, 1, 1), (13, 4, 1)],
        54,
        1,
        23,
    ),
    td2(
        "mrt/ripe-bgpdump/bview.ipv4_unicast_add_path.gz",
        &[(13, 1, 1), (13, 8, 31)],
        3,
        31,
        62,
    ),
    td2(
        "mrt/ripe-bgpdump/bview.ipv6_unicast_add_path.gz",
        &[(13, 1, 1), (13, 10, 31)],
        3,
        31,
        62,
    ),
    // mrtparse fails on this file: counts from a raw header walk (SOURCES.md
    // notes: 1121 records, 1028 x 16/1, 93 x 16/0), message types likewise.
    bgp(
        "mrt/ripe-bgpdump/updates.20020722.2238.gz",
        &[(16, 0, 93), (16, 1, 1028)],
        &[(1, 13), (2, 393), (3, 7), (4, 615)],
    ),
    bgp(
        "mrt/ripe-bgpdump/updates.20070211.0141.gz",
        &[(16, 1, 23394)],
        &[(2, 23394)],
    ),
    bgp(
        "mrt/ripe-bgpdump/updates.20071015.1505.gz",
        &[(16, 1, 4256), (16, 4, 41)],
        &[(2, 4222), (4, 75)],
    ),
    bgp(
        "mrt/ripe-bgpdump/updates.20100722.2015.gz",
        &[(16, 1, 789), (16, 4, 1364), (16, 5, 40)],
        &[(2, 1822), (4, 331)],
    ),
    bgp(
        "mrt/ripe-bgpdump/updates.et-header.2015.gz",
        &[(17, 1, 1), (17, 4, 89681), (17, 5, 4)],
        &[(1, 1), (2, 89679), (4, 2)],
    ),
    bgp(
        "mrt/ripe-bgpdump/updates.long_withdrawal.gz",
        &[(16, 4, 1)],
        &[(2, 1)],
    ),
    // mrtparse fails on this file: raw header walk.
    bgp(
        "mrt/ripe-bgpdump/updates.nlri_mask_trailing_bits.gz",
        &[(16, 1, 1)],
        &[(2, 1)],
    ),
    bgp(
        "mrt/caida-libbgpstream/ris.rrc06.updates.1427846400.gz",
        &[(16, 4, 791), (16, 5, 4)],
        &[(2, 761), (4, 30)],
    ),
    bgp(
        "mrt/caida-libbgpstream/routeviews.route-views.jinx.updates.1427846400.bz2",
        &[(16, 4, 1756)],
        &[(2, 1756)],
    ),
    bgp(
        "mrt/bgp-rs/updates.20190101.0000.gz",
        &[(16, 4, 54471), (16, 5, 43)],
        &[(2, 54107), (4, 364)],
    ),
    td1("mrt/fgbgp/rib.20030503.1429.bz2", &[(12, 2, 375)], 375),
    bgp("mrt/bgpkit-parser/updates.bz2", &[(17, 4, 85)], &[(2, 85)]),
    bgp(
        "mrt/mrtparse-samples/bird-mrtdump_bgp.mrt",
        &[(16, 1, 1), (16, 5, 12), (16, 9, 14)],
        BIRD_BGP,
    ),
    td2(
        "mrt/mrtparse-samples/bird-mrtdump_rib.mrt",
        &[(13, 1, 2), (13, 2, 4), (13, 8, 8)],
        4,
        12,
        18,
    ),
    bgp(
        "mrt/mrtparse-samples/bird6-mrtdump_bgp.mrt",
        &[(16, 1, 1), (16, 5, 12), (16, 9, 14)],
        BIRD_BGP,
    ),
    td2(
        "mrt/mrtparse-samples/bird6-mrtdump_rib.mrt",
        &[(13, 1, 2), (13, 4, 2), (13, 10, 5)],
        3,
        7,
        10,
    ),
    bgp(
        "mrt/mrtparse-samples/bird6_bgp.mrt",
        &[(16, 1, 1), (16, 4, 16), (16, 5, 12)],
        BIRD_BGP_PLAIN,
    ),
    bgp(
        "mrt/mrtparse-samples/bird_bgp.mrt",
        &[(16, 1, 1), (16, 4, 16), (16, 5, 12)],
        BIRD_BGP_PLAIN,
    ),
    bgp(
        "mrt/mrtparse-samples/openbgpd_bgp.mrt",
        &[(16, 0, 8), (16, 1, 4), (16, 4, 67), (16, 5, 8)],
        &[(1, 4), (2, 48), (3, 2), (4, 13), (5, 4)],
    ),
    // mrtparse rejects the deprecated BGP4MP_ENTRY: raw header walk; they
    // are Unknown records.
    bgp(
        "mrt/mrtparse-samples/openbgpd_rib_table-mp.mrt",
        &[(16, 2, 31)],
        &[],
    ),
    td2(
        "mrt/mrtparse-samples/openbgpd_rib_table-v2.mrt",
        &[(13, 1, 1), (13, 2, 11), (13, 4, 10), (13, 6, 2)],
        3,
        23,
        33,
    ),
    td1(
        "mrt/mrtparse-samples/openbgpd_rib_table.mrt",
        &[(12, 1, 11), (12, 2, 20)],
        31,
    ),
    bgp(
        "mrt/mrtparse-samples/quagga_bgp.mrt",
        &[(16, 1, 4), (16, 4, 43), (16, 5, 20)],
        &[(1, 4), (2, 24), (3, 2), (4, 10), (5, 7)],
    ),
    td2(
        "mrt/mrtparse-samples/quagga_rib.mrt",
        &[(13, 1, 1), (13, 2, 3), (13, 4, 3)],
        2,
        6,
        9,
    ),
];

#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    records: BTreeMap<(u16, u16), u64>,
    td1_entries: u64,
    td2_peers: u64,
    td2_prefixes: u64,
    td2_rib_entries: u64,
    bgp: BTreeMap<u8, u64>,
    unknown: u64,
}

impl Counts {
    fn add(&mut self, r: &MrtRecord) {
        *self.records.entry((r.mrt_type(), r.subtype())).or_default() += 1;
        match &r.body {
            MrtBody::TableDump(_) => self.td1_entries += 1,
            MrtBody::PeerIndexTable(t) => self.td2_peers += t.peers.len() as u64,
            MrtBody::RibAfi(rib) => {
                self.td2_prefixes += 1;
                self.td2_rib_entries += rib.entries.len() as u64;
            }
            MrtBody::RibGeneric(rib) => {
                self.td2_prefixes += 1;
                self.td2_rib_entries += rib.entries.len() as u64;
            }
            MrtBody::Bgp4mpMessage(m) => {
                *self.bgp.entry(m.message_type().unwrap()).or_default() += 1;
            }
            MrtBody::Bgp4mpStateChange(_) => {}
            MrtBody::Unknown(_) => self.unknown += 1,
        }
    }

    fn expected(e: &Expect) -> Self {
        let records: BTreeMap<_, _> = e.records.iter().map(|&(t, s, n)| ((t, s), n)).collect();
        let known = |t: u16, s: u16| match t {
            12 => matches!(s, 1 | 2),
            13 => matches!(s, 1..=6 | 8..=12),
            16 | 17 => matches!(s, 0 | 1 | 4..=11),
            _ => false,
        };
        Counts {
            unknown: records
                .iter()
                .filter(|((t, s), _)| !known(*t, *s))
                .map(|(_, n)| n)
                .sum(),
            records,
            td1_entries: e.td1_entries,
            td2_peers: e.td2_peers,
            td2_prefixes: e.td2_prefixes,
            td2_rib_entries: e.td2_rib_entries,
            bgp: e.bgp.iter().copied().collect(),
        }
    }
}

fn mrt_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            // expected/ holds bgpdump's text output, not MRT.
            if path.file_name().unwrap() != "expected" {
                mrt_files(&path, out);
            }
        } else {
            out.push(path);
        }
    }
}

fn decompressed(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let raw = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    if raw.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
    } else if raw.starts_with(b"BZh") {
        bzip2::read::MultiBzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
    } else {
        out = raw;
    }
    out
}

#[test]
fn every_corpus_file_is_listed() {
    let root = testkit::corpus_dir();
    let mut files = Vec::new();
    mrt_files(&root.join("mrt"), &mut files);
    let mut names: Vec<String> = files
        .iter()
        .map(|p| {
            p.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    names.sort();
    let mut listed: Vec<&str> = EXPECTED.iter().map(|e| e.file).collect();
    listed.sort();
    assert_eq!(names, listed);
}

#[test]
fn corpus_counts_match_sources() {
    let root = testkit::corpus_dir();
    for e in EXPECTED {
        let path = root.join(e.file);
        let mut counts = Counts::default();
        for r in mrt::open_path(&path).unwrap() {
            match r {
                Ok(r) => counts.add(&r),
                Err(err) => panic!("{}: {err}", e.file),
            }
        }
        assert_eq!(counts, Counts::expected(e), "{}", e.file);
    }
}

/// The in-memory parser finds the same records as the stream reader, and
/// encoding every decoded record gives back its bytes, except where
/// decoding normalises (host bits beyond a prefix length).
#[test]
fn corpus_parser_and_reencoding() {
    let root = testkit::corpus_dir();
    for e in EXPECTED {
        let data = Bytes::from(decompressed(&root.join(e.file)));
        assert_eq!(mrt::read_decompressed(root.join(e.file)).unwrap(), data);
        let mut parser = MrtParser::new(data.clone());
        let mut from_reader = mrt::MrtReader::new(&data[..]);
        let mut counts = Counts::default();
        let mut differ = 0u64;
        let mut buf = BytesMut::new();
        while let Some(raw) = parser.next_raw() {
            let (header, body) = raw.unwrap();
            let r = MrtRecord::decode(&header, body.clone()).unwrap();
            assert_eq!(from_reader.next().unwrap().unwrap(), r, "{}", e.file);
            counts.add(&r);
            buf.clear();
            r.encode(&mut buf).unwrap();
            if buf[12..] != body[..] || buf[..12] != header_bytes(&header)[..] {
                differ += 1;
                // Only a normalised prefix may differ, and the result must
                // decode to the same record.
                let mut again = MrtParser::new(buf.clone().freeze());
                assert_eq!(again.next().unwrap().unwrap(), r, "{}", e.file);
            }
        }
        assert!(from_reader.next().is_none());
        assert_eq!(counts, Counts::expected(e), "{}", e.file);
        assert_eq!(
            differ, 0,
            "{}: {differ} records re-encode differently",
            e.file
        );
    }
}

fn header_bytes(h: &mrt::CommonHeader) -> Vec<u8> {
    let mut b = BytesMut::new();
    h.encode(&mut b);
    b.to_vec()
}

/// Walks a path attribute block; returns the (type, value) pairs, or `None`
/// when the lengths do not add up to the block exactly.
fn attributes(mut block: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !block.is_empty() {
        let flags = *block.first()?;
        let ty = *block.get(1)?;
        let (len, head) = if flags & 0x10 != 0 {
            (
                usize::from(u16::from_be_bytes([*block.get(2)?, *block.get(3)?])),
                4,
            )
        } else {
            (usize::from(*block.get(2)?), 3)
        };
        out.push((ty, block.get(head..head + len)?));
        block = &block[head + len..];
    }
    Some(out)
}

/// The raw parts the records carry are cut at the right places: every BGP
/// message has a marker and a length field equal to its size, every
/// attribute block is a whole number of attributes. Also counts the two
/// forms of MP_REACH_NLRI found in TABLE_DUMP_V2 entries (RFC 6396 4.3.4
/// short form: next hop length and next hop only).
#[test]
fn corpus_raw_parts_are_well_framed() {
    let root = testkit::corpus_dir();
    let (mut short, mut full) = (0u64, 0u64);
    for e in EXPECTED {
        for r in mrt::open_path(root.join(e.file)).unwrap() {
            let r = r.unwrap();
            let blocks: Vec<Bytes> = match &r.body {
                MrtBody::Bgp4mpMessage(m) => {
                    assert_eq!(&m.message[..16], &[0xff; 16], "{}", e.file);
                    let len = u16::from_be_bytes([m.message[16], m.message[17]]);
                    assert_eq!(usize::from(len), m.message.len(), "{}", e.file);
                    vec![]
                }
                MrtBody::TableDump(t) => vec![t.attributes.clone()],
                MrtBody::RibAfi(rib) => rib.entries.iter().map(|x| x.attributes.clone()).collect(),
                MrtBody::RibGeneric(rib) => {
                    rib.entries.iter().map(|x| x.attributes.clone()).collect()
                }
                _ => vec![],
            };
            for block in blocks {
                let attrs = attributes(&block)
                    .unwrap_or_else(|| panic!("{}: attribute block badly framed", e.file));
                if matches!(r.body, MrtBody::RibAfi(_) | MrtBody::RibGeneric(_)) {
                    for (ty, value) in attrs {
                        if ty == 14 {
                            if usize::from(value[0]) + 1 == value.len() {
                                short += 1;
                            } else {
                                // RFC 4760 form: AFI, SAFI, next hop length
                                // and next hop, reserved octet, NLRI.
                                assert!(matches!(value[..3], [0, 1 | 2, 1 | 2]), "{}", e.file);
                                assert!(usize::from(value[3]) + 5 <= value.len(), "{}", e.file);
                                full += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    // Both forms occur: most writers use the RFC 6396 short form, Quagga
    // (quagga_rib.mrt) and the RIPE 64k test file the full RFC 4760 form.
    assert!(short > 0);
    assert_eq!(full, 29);
}

/// BIRD files: every UPDATE belongs to a session whose OPEN the session
/// table has seen, so the later decoding step can find its ADD-PATH state.
#[test]
fn bird_sessions_find_their_opens() {
    let root = testkit::corpus_dir();
    for file in [
        "mrt/mrtparse-samples/bird_bgp.mrt",
        "mrt/mrtparse-samples/bird6_bgp.mrt",
    ] {
        let mut sessions = mrt::MrtSessions::new();
        let mut updates = 0;
        for r in mrt::open_path(root.join(file)).unwrap() {
            let r = r.unwrap();
            sessions.observe(&r);
            if let MrtBody::Bgp4mpMessage(m) = &r.body {
                if m.message_type() == Some(2) {
                    updates += 1;
                    let s = sessions.get(&m.session_key()).unwrap();
                    assert!(s.received_open.is_some(), "{file}");
                    // No ADD-PATH subtype here: only the OPEN can tell.
                    assert!(!m.add_path);
                }
            }
        }
        assert_eq!(updates, 8, "{file}");
    }
}

//! Benchmarks of the BGP stack; see `benches/README.md` for how to run them
//! and the figures.
//!
//! This library holds the work the benchmarks time, so that the benchmark
//! binaries and the tests of this package run the same code:
//!
//! - [`frame`]: MRT framing only (record headers, bodies as slices);
//! - [`decode_full`]: every record, every BGP message decoded with its
//!   session context, every path attribute decoded, every prefix of the
//!   four places (NLRI, Withdrawn Routes, MP_REACH_NLRI, MP_UNREACH_NLRI)
//!   iterated and folded into a checksum;
//! - [`decode_owned`]: the same, then every prefix collected into a `Vec`
//!   and every attribute set copied out of the input buffer, which is what
//!   a parser that returns owned values does;
//! - [`routes`] and [`encode_routes`]: the decoded routes grouped per
//!   attribute set and packed into UPDATE messages by the builder;
//! - [`decoded_updates`] and [`reencode`]: decoded UPDATEs written back to
//!   bytes.
//!
//! [`bgperf`] is the macro benchmark of whole speakers (the `bgperf`
//! binary): calico-bgpd, BIRD, FRR and GoBGP in network namespaces.

pub mod bgperf;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use bgp_wire::attribute::{DecodedAttributes, MpNextHop, PathAttributes, PeerType};
use bgp_wire::message::update::builder;
use bgp_wire::mrt::{MrtBody, MrtError, MrtParser, MrtSessions};
use bgp_wire::nlri::{Nlri, NlriIter};
use bgp_wire::{AfiSafi, Message, SessionContext, Update};
use bytes::{Bytes, BytesMut};
use ipnet::IpNet;

/// The BGP4MP update file of the corpus with IPv4 and IPv6 (54k records).
pub const BGP_RS_UPDATES: &str = "mrt/bgp-rs/updates.20190101.0000.gz";
/// The BGP4MP_ET update file of the corpus (90k records, 578k prefixes).
pub const ET_HEADER_UPDATES: &str = "mrt/ripe-bgpdump/updates.et-header.2015.gz";

/// Prefix counts that the corpus's SOURCES.md gives for a file: classic
/// NLRI, Withdrawn Routes, MP_REACH_NLRI, MP_UNREACH_NLRI (the "mrtparse
/// counts" column: `v4_announced`, `v4_withdrawn`, `mp_announced`,
/// `mp_withdrawn`), and the number of BGP messages (`bgp_typeN` summed).
pub fn expected_counts(file: &str) -> Option<(PrefixTally, u64)> {
    match file {
        BGP_RS_UPDATES => Some((
            PrefixTally {
                announced: 150_389,
                withdrawn: 2_173,
                mp_announced: 9_559,
                mp_withdrawn: 453,
            },
            54_107 + 364,
        )),
        ET_HEADER_UPDATES => Some((
            PrefixTally {
                announced: 577_737,
                withdrawn: 3,
                mp_announced: 0,
                mp_withdrawn: 0,
            },
            1 + 89_679 + 2,
        )),
        _ => None,
    }
}

/// The path of a corpus file.
pub fn corpus_path(file: &str) -> PathBuf {
    testkit::corpus_dir().join(file)
}

/// Reads and decompresses a corpus file into memory.
pub fn load(file: &str) -> Result<Bytes, MrtError> {
    bgp_wire::mrt::read_decompressed(corpus_path(file))
}

/// Prefixes by where an UPDATE carries them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrefixTally {
    /// NLRI field (IPv4 unicast).
    pub announced: u64,
    /// Withdrawn Routes field (IPv4 unicast).
    pub withdrawn: u64,
    /// MP_REACH_NLRI.
    pub mp_announced: u64,
    /// MP_UNREACH_NLRI.
    pub mp_withdrawn: u64,
}

impl PrefixTally {
    /// All prefixes.
    pub fn total(&self) -> u64 {
        self.announced + self.withdrawn + self.mp_announced + self.mp_withdrawn
    }
}

/// What a decoding pass found; `checksum` folds in every prefix and the
/// decoded attribute values so that none of the work can be optimised away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// MRT records.
    pub records: u64,
    /// BGP messages (in BGP4MP message records).
    pub messages: u64,
    /// UPDATE messages.
    pub updates: u64,
    /// Path attributes decoded.
    pub attributes: u64,
    /// Prefixes by place.
    pub prefixes: PrefixTally,
    /// Records, messages or attribute blocks that failed to decode.
    pub errors: u64,
    /// A fold of the values seen.
    pub checksum: u64,
}

fn mix(sum: u64, v: u64) -> u64 {
    sum.rotate_left(5) ^ v.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

fn prefix_key(n: &Nlri) -> u64 {
    let (addr, len) = match n.prefix {
        IpNet::V4(p) => (u64::from(u32::from(p.addr())), p.prefix_len()),
        IpNet::V6(p) => {
            let a = u128::from(p.addr());
            ((a >> 64) as u64 ^ a as u64, p.prefix_len())
        }
    };
    addr ^ (u64::from(len) << 56) ^ u64::from(n.path_id.unwrap_or(0))
}

fn fold_prefixes(sum: &mut u64, it: NlriIter<'_>) -> u64 {
    let mut count = 0;
    for n in it {
        *sum = mix(*sum, prefix_key(&n));
        count += 1;
    }
    count
}

/// Folds the decoded attribute values into `sum` and returns how many
/// attributes the set holds. Every AS number, community, extended and large
/// community is read, as a parser that builds lists of them reads them.
fn fold_attributes(sum: &mut u64, a: &PathAttributes) -> u64 {
    let mut n = 0u64;
    let mut s = *sum;
    if let Some(o) = a.origin {
        s = mix(s, u64::from(o.to_u8()));
        n += 1;
    }
    if let Some(p) = &a.as_path {
        for asn in p.asns() {
            s = mix(s, u64::from(asn));
        }
        n += 1;
    }
    if let Some(h) = a.next_hop {
        s = mix(s, u64::from(u32::from(h)));
        n += 1;
    }
    for v in [a.multi_exit_disc, a.local_pref, a.otc]
        .into_iter()
        .flatten()
    {
        s = mix(s, u64::from(v));
        n += 1;
    }
    if a.atomic_aggregate {
        s = mix(s, 6);
        n += 1;
    }
    for g in [a.aggregator, a.as4_aggregator].into_iter().flatten() {
        s = mix(s, u64::from(g.asn) ^ u64::from(u32::from(g.address)));
        n += 1;
    }
    if let Some(c) = &a.communities {
        for x in c.iter() {
            s = mix(s, u64::from(x.0));
        }
        n += 1;
    }
    if let Some(id) = a.originator_id {
        s = mix(s, u64::from(u32::from(id)));
        n += 1;
    }
    if let Some(c) = &a.cluster_list {
        for x in c.iter() {
            s = mix(s, u64::from(u32::from(x)));
        }
        n += 1;
    }
    if let Some(c) = &a.extended_communities {
        for x in c.iter() {
            s = mix(s, u64::from_be_bytes(x.0));
        }
        n += 1;
    }
    if let Some(p) = &a.as4_path {
        for asn in p.asns() {
            s = mix(s, u64::from(asn));
        }
        n += 1;
    }
    if let Some(c) = &a.ipv6_extended_communities {
        s = mix(s, c.len() as u64);
        n += 1;
    }
    if let Some(c) = &a.aigp {
        s = mix(s, c.as_bytes().len() as u64);
        n += 1;
    }
    if let Some(c) = &a.large_communities {
        for x in c.iter() {
            s = mix(s, u64::from(x.global_admin ^ x.local_data1 ^ x.local_data2));
        }
        n += 1;
    }
    for u in &a.unknown {
        s = mix(s, u64::from(u.type_code) ^ u.value.len() as u64);
        n += 1;
    }
    *sum = s;
    n
}

/// MRT framing only: walks the record headers, each body a slice of the
/// buffer. Returns the records and the body octets.
pub fn frame(data: &Bytes) -> (u64, u64) {
    let mut parser = MrtParser::new(data.clone());
    let (mut records, mut octets) = (0u64, 0u64);
    while let Some(Ok((_, body))) = parser.next_raw() {
        records += 1;
        octets += body.len() as u64;
    }
    (records, octets)
}

/// Calls `f` with every UPDATE of the file, its context and its decoded
/// attributes; decodes every other BGP message too. Returns the counts of
/// records, messages, UPDATEs and errors (prefixes and attributes are left
/// to `f`).
pub fn for_each_update(
    data: &Bytes,
    mut f: impl FnMut(&mut Tally, &Update, &SessionContext, DecodedAttributes),
) -> Tally {
    let mut t = Tally::default();
    let mut sessions = MrtSessions::new();
    for record in MrtParser::new(data.clone()) {
        t.records += 1;
        let record = match record {
            Ok(r) => r,
            Err(_) => {
                t.errors += 1;
                continue;
            }
        };
        sessions.observe(&record);
        let MrtBody::Bgp4mpMessage(m) = record.body else {
            continue;
        };
        t.messages += 1;
        let ctx = sessions.decode_context(&m);
        match Message::from_bytes(m.message, &ctx) {
            Ok(Message::Update(u)) => {
                t.updates += 1;
                match u.attributes(&ctx, PeerType::Oad) {
                    Ok(d) => f(&mut t, &u, &ctx, d),
                    Err(_) => t.errors += 1,
                }
            }
            Ok(other) => t.checksum = mix(t.checksum, other.message_type().to_u8().into()),
            Err(_) => t.errors += 1,
        }
    }
    t
}

/// Full decode (see the crate documentation): borrowed values, every prefix
/// and every attribute value read.
pub fn decode_full(data: &Bytes) -> Tally {
    for_each_update(data, |t, u, _, d| {
        let mut sum = t.checksum;
        t.prefixes.withdrawn += fold_prefixes(&mut sum, u.withdrawn());
        t.prefixes.announced += fold_prefixes(&mut sum, u.nlri());
        t.attributes += fold_attributes(&mut sum, &d.attributes);
        if let Some(m) = &d.mp_reach {
            t.attributes += 1;
            t.prefixes.mp_announced += fold_prefixes(&mut sum, m.prefixes());
        }
        if let Some(m) = &d.mp_unreach {
            t.attributes += 1;
            t.prefixes.mp_withdrawn += fold_prefixes(&mut sum, m.prefixes());
        }
        t.checksum = sum;
    })
}

/// One UPDATE as owned values: what [`decode_owned`] builds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedUpdate {
    /// Withdrawn IPv4 unicast prefixes.
    pub withdrawn: Vec<Nlri>,
    /// Announced IPv4 unicast prefixes.
    pub announced: Vec<Nlri>,
    /// MP_REACH_NLRI family, next hop and prefixes.
    pub mp_reach: Option<(AfiSafi, MpNextHop, Vec<Nlri>)>,
    /// MP_UNREACH_NLRI family and prefixes.
    pub mp_unreach: Option<(AfiSafi, Vec<Nlri>)>,
    /// The path attributes, copied out of the message buffer.
    pub attributes: PathAttributes,
}

/// Converts one decoded UPDATE to owned values.
pub fn to_owned(u: &Update, d: DecodedAttributes) -> OwnedUpdate {
    let mut attributes = d.attributes;
    attributes.unshare();
    OwnedUpdate {
        withdrawn: u.withdrawn().collect(),
        announced: u.nlri().collect(),
        mp_reach: d.mp_reach.map(|m| {
            let nh = match &m.next_hop {
                MpNextHop::Opaque(b) => MpNextHop::Opaque(Bytes::copy_from_slice(b)),
                other => other.clone(),
            };
            (m.family, nh, m.prefixes().collect())
        }),
        mp_unreach: d.mp_unreach.map(|m| (m.family, m.prefixes().collect())),
        attributes,
    }
}

/// The full decode with owned results: every UPDATE becomes an
/// [`OwnedUpdate`] (prefix vectors, attributes unshared), handed to `sink`.
pub fn decode_owned(data: &Bytes, mut sink: impl FnMut(OwnedUpdate)) -> Tally {
    for_each_update(data, |t, u, _, d| {
        let o = to_owned(u, d);
        let mut sum = t.checksum;
        for n in &o.withdrawn {
            sum = mix(sum, prefix_key(n));
        }
        for n in &o.announced {
            sum = mix(sum, prefix_key(n));
        }
        t.prefixes.withdrawn += o.withdrawn.len() as u64;
        t.prefixes.announced += o.announced.len() as u64;
        t.attributes += fold_attributes(&mut sum, &o.attributes);
        if let Some((_, _, p)) = &o.mp_reach {
            t.attributes += 1;
            t.prefixes.mp_announced += p.len() as u64;
            for n in p {
                sum = mix(sum, prefix_key(n));
            }
        }
        if let Some((_, p)) = &o.mp_unreach {
            t.attributes += 1;
            t.prefixes.mp_withdrawn += p.len() as u64;
            for n in p {
                sum = mix(sum, prefix_key(n));
            }
        }
        t.checksum = sum;
        sink(o);
    })
}

/// An attribute set with the family and MP next hop its prefixes go with:
/// the key routes are grouped by for packing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteKey {
    /// The family.
    pub family: AfiSafi,
    /// The MP_REACH_NLRI next hop (`None` for the classic NLRI field).
    pub mp_next_hop: Option<MpNextHop>,
    /// The path attributes.
    pub attributes: PathAttributes,
}

/// The routes of a file, grouped for the UPDATE builder: announcements per
/// attribute set (in order of first appearance), withdrawals per family.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    /// Attribute sets and their prefixes.
    pub announce: Vec<(RouteKey, Vec<Nlri>)>,
    /// Withdrawn prefixes per family.
    pub withdraw: Vec<(AfiSafi, Vec<Nlri>)>,
}

impl Routes {
    /// Announced prefixes.
    pub fn announced(&self) -> usize {
        self.announce.iter().map(|(_, p)| p.len()).sum()
    }

    /// Withdrawn prefixes.
    pub fn withdrawn(&self) -> usize {
        self.withdraw.iter().map(|(_, p)| p.len()).sum()
    }
}

/// Decodes the file and groups its routes (see [`Routes`]). Path
/// identifiers are dropped: the builder writes them only for ADD-PATH
/// sessions.
pub fn routes(data: &Bytes) -> Routes {
    let mut index: HashMap<RouteKey, usize> = HashMap::new();
    let mut out = Routes::default();
    let mut withdrawn: Vec<(AfiSafi, Vec<Nlri>)> = Vec::new();
    let strip =
        |v: Vec<Nlri>| -> Vec<Nlri> { v.into_iter().map(|n| Nlri::new(n.prefix)).collect() };
    let mut add_withdrawn = |family: AfiSafi, p: Vec<Nlri>| {
        if p.is_empty() {
            return;
        }
        match withdrawn.iter_mut().find(|(f, _)| *f == family) {
            Some((_, v)) => v.extend(strip(p)),
            None => withdrawn.push((family, strip(p))),
        }
    };
    decode_owned(data, |o| {
        add_withdrawn(AfiSafi::IPV4_UNICAST, o.withdrawn);
        if let Some((family, p)) = o.mp_unreach {
            add_withdrawn(family, p);
        }
        let mut attributes = o.attributes;
        attributes.clear_received_flags();
        let mut groups = Vec::new();
        if !o.announced.is_empty() {
            groups.push((AfiSafi::IPV4_UNICAST, None, o.announced));
        }
        if let Some((family, nh, p)) = o.mp_reach
            && !p.is_empty()
        {
            groups.push((family, Some(nh), p));
        }
        for (family, mp_next_hop, p) in groups {
            let mut attributes = attributes.clone();
            if mp_next_hop.is_some() {
                attributes.next_hop = None;
            }
            let key = RouteKey {
                family,
                mp_next_hop,
                attributes,
            };
            let slot = match index.get(&key) {
                Some(&i) => i,
                None => {
                    index.insert(key.clone(), out.announce.len());
                    out.announce.push((key, Vec::new()));
                    out.announce.len() - 1
                }
            };
            if let Some((_, v)) = out.announce.get_mut(slot) {
                v.extend(strip(p));
            }
        }
    });
    out.withdraw = withdrawn;
    out
}

/// What an encoding pass wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EncodeTally {
    /// Messages written.
    pub messages: u64,
    /// Prefixes written.
    pub prefixes: u64,
    /// Octets written.
    pub octets: u64,
    /// Groups the builder refused (attributes too large).
    pub errors: u64,
}

/// The session the encoding benchmarks write for: 4-octet AS, no ADD-PATH,
/// 4,096-octet messages.
pub fn encode_context() -> SessionContext {
    SessionContext::default().with_four_octet_as(true)
}

/// Packs every group of `routes` into UPDATE messages with the builder
/// (announcements, then withdrawals), and hands each message to `sink`.
pub fn encode_routes(
    routes: &Routes,
    ctx: &SessionContext,
    mut sink: impl FnMut(&Bytes),
) -> EncodeTally {
    let mut t = EncodeTally::default();
    let mut take = |t: &mut EncodeTally, r: Result<Vec<Bytes>, _>, n: usize| match r {
        Ok(msgs) => {
            t.messages += msgs.len() as u64;
            t.prefixes += n as u64;
            for m in &msgs {
                t.octets += m.len() as u64;
                sink(m);
            }
        }
        Err(bgp_wire::EncodeError::MessageTooLong { .. }) | Err(_) => t.errors += 1,
    };
    for (k, p) in &routes.announce {
        let r = builder::announce(ctx, k.family, &k.attributes, k.mp_next_hop.as_ref(), p);
        take(&mut t, r, p.len());
    }
    for (family, p) in &routes.withdraw {
        take(&mut t, builder::withdraw(ctx, *family, p), p.len());
    }
    t
}

/// A decoded UPDATE with what re-encoding it needs.
#[derive(Debug, Clone)]
pub struct DecodedUpdate {
    /// The message.
    pub update: Update,
    /// The context it was decoded with.
    pub ctx: SessionContext,
    /// Its decoded attributes.
    pub attributes: DecodedAttributes,
}

/// Every UPDATE of the file, decoded.
pub fn decoded_updates(data: &Bytes) -> Vec<DecodedUpdate> {
    let mut out = Vec::new();
    for_each_update(data, |_, u, ctx, d| {
        out.push(DecodedUpdate {
            update: u.clone(),
            ctx: ctx.clone(),
            attributes: d,
        })
    });
    out
}

/// Writes decoded UPDATEs back to bytes into `buf` (cleared first): with
/// `from_values`, the attribute field is encoded from the decoded values
/// (MP_REACH_NLRI and MP_UNREACH_NLRI included) and the prefixes from the
/// iterators; otherwise [`Update::encode`] writes the fields as received.
/// Returns messages and octets written.
pub fn reencode(updates: &[DecodedUpdate], from_values: bool, buf: &mut BytesMut) -> (u64, u64) {
    buf.clear();
    let mut messages = 0u64;
    for d in updates {
        let ok = if from_values {
            encode_from_values(d, buf).is_ok()
        } else {
            d.update.encode(&d.ctx.reversed(), buf).is_ok()
        };
        messages += u64::from(ok);
    }
    (messages, buf.len() as u64)
}

fn encode_from_values(d: &DecodedUpdate, buf: &mut BytesMut) -> Result<(), bgp_wire::EncodeError> {
    use bytes::BufMut;
    let ctx = d.ctx.reversed();
    let start = buf.len();
    buf.put_slice(&[0xff; 16]);
    buf.put_u16(0);
    buf.put_u8(2);
    let wpos = buf.len();
    buf.put_u16(0);
    for n in d.update.withdrawn() {
        n.encode(buf);
    }
    let wlen = buf.len() - wpos - 2;
    let apos = buf.len();
    buf.put_u16(0);
    let a = &d.attributes;
    a.attributes
        .encode_with_mp(&ctx, a.mp_reach.as_ref(), a.mp_unreach.as_ref(), buf)?;
    let alen = buf.len() - apos - 2;
    for n in d.update.nlri() {
        n.encode(buf);
    }
    let total = buf.len() - start;
    let set = |buf: &mut BytesMut, at: usize, v: usize| {
        if let Some(f) = buf.get_mut(at..at + 2) {
            f.copy_from_slice(&u16::try_from(v).unwrap_or(u16::MAX).to_be_bytes());
        }
    };
    set(buf, start + 16, total);
    set(buf, wpos, wlen);
    set(buf, apos, alen);
    Ok(())
}

/// The folder criterion writes its results to for these benchmarks:
/// `CRITERION_HOME` if set, else `target/criterion` for a benchmark binary
/// in `target/<profile>/deps/` (criterion's own default). The benchmarks set
/// it explicitly so that [`median_ns`] reads back what they wrote.
pub fn criterion_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join("criterion")))
        .unwrap_or_else(|| PathBuf::from("target").join("criterion"))
}

/// Criterion's median estimate, in nanoseconds per iteration, of the last
/// run of `function` in `group` (read from its `estimates.json`).
pub fn median_ns(dir: &std::path::Path, group: &str, function: &str) -> Option<f64> {
    let path = dir
        .join(group.replace('/', "_"))
        .join(function.replace('/', "_"))
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let median = text.get(text.find("\"median\"")?..)?;
    let key = "\"point_estimate\":";
    let value = median.get(median.find(key)? + key.len()..)?;
    let end = value
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+')))
        .unwrap_or(value.len());
    value.get(..end)?.parse().ok()
}

/// A hash of a byte string (to compare encodings without keeping them).
pub fn hash_bytes(b: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    b.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]
    use super::*;

    #[test]
    fn bgp_rs_counts_match_sources() {
        let data = load(BGP_RS_UPDATES).unwrap();
        let (prefixes, messages) = expected_counts(BGP_RS_UPDATES).unwrap();
        let full = decode_full(&data);
        assert_eq!(full.prefixes, prefixes);
        assert_eq!(full.messages, messages);
        assert_eq!(full.errors, 0);
        let owned = decode_owned(&data, |_| {});
        assert_eq!(owned.prefixes, prefixes);
        assert_eq!(owned.checksum, full.checksum);
        assert_eq!(owned.attributes, full.attributes);
        assert_eq!(frame(&data).0, full.records);
    }

    #[test]
    fn add_path_from_the_opens() {
        // BIRD's ADD-PATH NLRI in plain MESSAGE_AS4 records: readable only
        // with the context the recorded OPENs negotiated (SOURCES.md: 14
        // prefixes, each with a path identifier).
        let data = load("mrt/mrtparse-samples/bird_bgp.mrt").unwrap();
        let t = decode_full(&data);
        assert_eq!(t.errors, 0);
        assert_eq!(t.prefixes.announced, 14);
        let mut ids = 0;
        decode_owned(&data, |o| {
            ids += o.announced.iter().filter(|n| n.path_id.is_some()).count()
        });
        assert_eq!(ids, 14);
    }

    #[test]
    fn builder_writes_every_route() {
        let data = load(BGP_RS_UPDATES).unwrap();
        let routes = routes(&data);
        let (p, _) = expected_counts(BGP_RS_UPDATES).unwrap();
        assert_eq!(routes.announced() as u64, p.announced + p.mp_announced);
        assert_eq!(routes.withdrawn() as u64, p.withdrawn + p.mp_withdrawn);
        let ctx = encode_context();
        let mut back = 0u64;
        let t = encode_routes(&routes, &ctx, |m| {
            assert!(m.len() <= 4096);
            let u = Update::decode(m.slice(19..), &ctx).unwrap();
            back += u.prefix_counts(&ctx.reversed()).announced as u64;
        });
        assert_eq!(t.errors, 0);
        assert_eq!(t.prefixes, p.total());
        assert!(back > 0);
    }

    #[test]
    fn reencoding_gives_back_the_messages() {
        let data = load(BGP_RS_UPDATES).unwrap();
        let updates = decoded_updates(&data);
        let mut original = Vec::new();
        for r in MrtParser::new(data.clone()) {
            if let MrtBody::Bgp4mpMessage(m) = r.unwrap().body
                && m.message_type() == Some(2)
            {
                original.extend_from_slice(&m.message);
            }
        }
        let mut raw = BytesMut::new();
        let a = reencode(&updates, false, &mut raw);
        assert_eq!(a.0, updates.len() as u64);
        assert_eq!(&raw[..], &original[..]);
        // From the decoded values: the attributes come out in type-code
        // order, so compare decoded again rather than byte for byte.
        let mut values = BytesMut::new();
        let b = reencode(&updates, true, &mut values);
        assert_eq!(a, b);
        let mut rest = values.freeze();
        for d in &updates {
            let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
            let msg = rest.split_to(len);
            let Message::Update(u) = Message::from_bytes(msg, &d.ctx).unwrap() else {
                panic!("not an UPDATE");
            };
            let again = u.attributes(&d.ctx, PeerType::Oad).unwrap();
            assert_eq!(again, d.attributes);
            assert!(u.nlri().eq(d.update.nlri()));
            assert!(u.withdrawn().eq(d.update.withdrawn()));
        }
        assert!(rest.is_empty());
    }
}

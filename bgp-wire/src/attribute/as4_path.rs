//! AS4_PATH (type code 17, RFC 6793 3): optional transitive, the AS path
//! with 4-octet AS numbers that a 2-octet-AS speaker passes along beside
//! AS_PATH, and the reconciliation of the two (RFC 6793 4.2.3).

use bytes::Bytes;

use super::Malformed;
use super::aggregator::Aggregator;
use super::as_path::{AS_TRANS, AsPath, SegmentType};

/// Decodes the attribute value: AS_PATH segments with 4-octet AS numbers.
/// A malformed AS4_PATH is discarded (RFC 6793 6), hence the Optional
/// Attribute Error subcode.
pub fn decode(value: &Bytes) -> Result<AsPath, Malformed> {
    decode_value(value.clone())
}

/// [`decode`], keeping `value` itself.
pub(crate) fn decode_value(value: Bytes) -> Result<AsPath, Malformed> {
    AsPath::decode_four_octet(value).map_err(|m| Malformed::optional(m.reason))
}

/// What [`reconcile`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconciliation {
    /// AS4_PATH was merged into AS_PATH.
    Merged,
    /// There was no AS4_PATH (or no AS_PATH).
    NoAs4Path,
    /// AS4_PATH was ignored because AGGREGATOR is not AS_TRANS while
    /// AS4_AGGREGATOR is present.
    IgnoredAggregator,
    /// AS4_PATH was ignored because it is longer than AS_PATH.
    IgnoredLonger,
}

/// Merges AS4_PATH into AS_PATH and AS4_AGGREGATOR into AGGREGATOR, for
/// attributes received from a 2-octet-AS speaker, as RFC 6793 4.2.3
/// prescribes:
///
/// - if AGGREGATOR holds an AS other than AS_TRANS while AS4_AGGREGATOR is
///   present, both AS4_AGGREGATOR and AS4_PATH are ignored;
/// - otherwise, if AGGREGATOR holds AS_TRANS, AS4_AGGREGATOR replaces it;
/// - confederation segments in AS4_PATH are discarded;
/// - if AS4_PATH then has more AS numbers (path length as RFC 4271
///   9.1.2.2 counts it) than AS_PATH, it is ignored;
/// - otherwise the result is the leading AS numbers of AS_PATH (those that
///   AS4_PATH does not cover, with any confederation segments among them)
///   followed by AS4_PATH.
///
/// Returns the new AS_PATH and AGGREGATOR and what was done. The inputs are
/// the four attributes as decoded (`as_path` in its 4-octet form).
pub fn reconcile(
    as_path: Option<&AsPath>,
    as4_path: Option<&AsPath>,
    aggregator: Option<Aggregator>,
    as4_aggregator: Option<Aggregator>,
) -> (Option<AsPath>, Option<Aggregator>, Reconciliation) {
    if let (Some(agg), Some(_)) = (aggregator, as4_aggregator) {
        if agg.asn != AS_TRANS {
            return (
                as_path.cloned(),
                aggregator,
                Reconciliation::IgnoredAggregator,
            );
        }
    }
    let aggregator = match (aggregator, as4_aggregator) {
        (Some(_), Some(a4)) => Some(a4),
        (a, _) => a,
    };
    let (Some(path), Some(as4)) = (as_path, as4_path) else {
        return (as_path.cloned(), aggregator, Reconciliation::NoAs4Path);
    };
    let as4 = as4.without_confed();
    let (n, n4) = (path.len(), as4.len());
    if n4 > n {
        return (
            Some(path.clone()),
            aggregator,
            Reconciliation::IgnoredLonger,
        );
    }
    let mut keep = n - n4;
    let mut segments: Vec<(SegmentType, Vec<u32>)> = Vec::new();
    for s in path.segments() {
        let kind = s.kind();
        if kind.is_confed() {
            segments.push((kind, s.asns().collect()));
            continue;
        }
        if keep == 0 {
            break;
        }
        match kind {
            SegmentType::AsSet => {
                segments.push((kind, s.asns().collect()));
                keep -= 1;
            }
            _ => {
                let take = keep.min(s.len());
                segments.push((kind, s.asns().take(take).collect()));
                keep -= take;
            }
        }
    }
    for s in as4.segments() {
        let asns: Vec<u32> = s.asns().collect();
        match (segments.last_mut(), s.kind()) {
            (Some((SegmentType::AsSequence, prev)), SegmentType::AsSequence)
                if prev.len() + asns.len() <= 255 =>
            {
                prev.extend(asns);
            }
            _ => segments.push((s.kind(), asns)),
        }
    }
    let merged = AsPath::from_segments(segments.iter().map(|(k, a)| (*k, &a[..])));
    (Some(merged), aggregator, Reconciliation::Merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn p(s: &[(SegmentType, &[u32])]) -> AsPath {
        AsPath::from_segments(s.iter().copied())
    }
    use SegmentType::*;

    #[test]
    fn merge_replaces_trans() {
        let path = p(&[(AsSequence, &[1, AS_TRANS, AS_TRANS, 3])]);
        let as4 = p(&[(AsSequence, &[70000, 70001, 3])]);
        let (m, _, r) = reconcile(Some(&path), Some(&as4), None, None);
        assert_eq!(r, Reconciliation::Merged);
        assert_eq!(m.unwrap().to_string(), "1 70000 70001 3");
    }

    #[test]
    fn longer_as4_path_ignored() {
        let path = p(&[(AsSequence, &[1, 2])]);
        let as4 = p(&[(AsSequence, &[70000, 70001, 3])]);
        let (m, _, r) = reconcile(Some(&path), Some(&as4), None, None);
        assert_eq!(r, Reconciliation::IgnoredLonger);
        assert_eq!(m.unwrap(), path);
    }

    #[test]
    fn aggregator_rules() {
        let path = p(&[(AsSequence, &[1, AS_TRANS])]);
        let as4 = p(&[(AsSequence, &[70000])]);
        let agg = Aggregator {
            asn: 5,
            address: Ipv4Addr::new(1, 1, 1, 1),
        };
        let agg4 = Aggregator {
            asn: 70000,
            address: Ipv4Addr::new(2, 2, 2, 2),
        };
        let (m, a, r) = reconcile(Some(&path), Some(&as4), Some(agg), Some(agg4));
        assert_eq!(r, Reconciliation::IgnoredAggregator);
        assert_eq!(m.unwrap(), path);
        assert_eq!(a, Some(agg));
        let trans = Aggregator {
            asn: AS_TRANS,
            ..agg
        };
        let (m, a, r) = reconcile(Some(&path), Some(&as4), Some(trans), Some(agg4));
        assert_eq!(r, Reconciliation::Merged);
        assert_eq!(m.unwrap().to_string(), "1 70000");
        assert_eq!(a, Some(agg4));
    }

    #[test]
    fn confed_segments() {
        let path = p(&[(AsConfedSequence, &[65000]), (AsSequence, &[1, AS_TRANS])]);
        let as4 = p(&[(AsConfedSequence, &[65001]), (AsSequence, &[70000])]);
        let (m, _, _) = reconcile(Some(&path), Some(&as4), None, None);
        assert_eq!(m.unwrap().to_string(), "(65000) 1 70000");
        let path = p(&[(AsConfedSequence, &[65000]), (AsSequence, &[AS_TRANS])]);
        let as4 = p(&[(AsSequence, &[70000])]);
        let (m, _, _) = reconcile(Some(&path), Some(&as4), None, None);
        assert_eq!(m.unwrap().to_string(), "(65000) 70000");
        let path = p(&[(AsSequence, &[1]), (AsSet, &[AS_TRANS, 2])]);
        let as4 = p(&[(AsSet, &[70000, 2])]);
        let (m, _, _) = reconcile(Some(&path), Some(&as4), None, None);
        assert_eq!(m.unwrap().to_string(), "1 {70000,2}");
    }
}

//! AS4_AGGREGATOR (type code 18, RFC 6793 3): optional transitive, the
//! 4-octet AS of the aggregator when AGGREGATOR had to carry AS_TRANS.
//!
//! The value is an [`Aggregator`] in its 4-octet form. Merging it into
//! AGGREGATOR is [`super::as4_path::reconcile`]'s job.

use super::Malformed;
use super::aggregator::Aggregator;

/// Decodes the attribute value: exactly 8 octets (RFC 6793 6: a malformed
/// one is discarded).
pub fn decode(value: &[u8]) -> Result<Aggregator, Malformed> {
    Aggregator::decode(value, true)
        .map_err(|_| Malformed::optional("AS4_AGGREGATOR length is not 8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length() {
        assert_eq!(decode(&[0, 1, 0, 0, 192, 0, 2, 1]).unwrap().asn, 65536);
        assert!(decode(&[0, 1, 0, 0, 192, 0, 2]).is_err());
    }
}

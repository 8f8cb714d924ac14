//! LOCAL_PREF (type code 5, RFC 4271 4.3 and 5.1.5).

use super::Malformed;

/// Decodes the attribute value: exactly four octets (RFC 7606 7.5). LOCAL_PREF
/// is well-known and sent to internal peers only (RFC 4271 5.1.5).
pub fn decode(value: &[u8]) -> Result<u32, Malformed> {
    super::four_octets(value, "LOCAL_PREF length is not 4").map(u32::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lengths() {
        assert!(decode(&[0, 0, 0]).is_err());
        assert!(decode(&[0, 0, 0, 0, 0]).is_err());
        assert!(decode(&[0, 0, 0, 100]).is_ok());
    }

    proptest! {
        #[test]
        fn round_trip(v in any::<u32>()) {
            prop_assert_eq!(decode(&v.to_be_bytes()), Ok(v));
        }
    }
}

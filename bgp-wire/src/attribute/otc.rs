//! OTC (type code 35, RFC 9234 4).

use super::Malformed;

/// Decodes the attribute value: exactly four octets (RFC 9234 5), the AS that
/// set Only to Customer; the attribute is optional transitive.
pub fn decode(value: &[u8]) -> Result<u32, Malformed> {
    super::four_octets(value, "OTC length is not 4").map(u32::from_be_bytes)
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

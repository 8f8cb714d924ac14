//! OTC (type code 35, RFC 9234 4).

use super::Malformed;

/// Decodes the attribute value: exactly four octets (RFC  Only to Customer, optional transitive, the AS that set it:9234 5).
pub fn decode(value: &[u8]) -> Result<u32, Malformed> {
    match value.first_chunk::<4>() {
        Some(a) if value.len() == 4 => Ok(u32::from_be_bytes(*a)),
        _ => Err(Malformed::length("OTC length is not 4")),
    }
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

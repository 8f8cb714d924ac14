//! ORIGINATOR_ID (type code 9, RFC 4456 8).

use super::Malformed;
use std::net::Ipv4Addr;

/// Decodes the attribute value: exactly four octets (RFC 7606 7.9), the BGP
/// Identifier of the route's originator in the reflecting AS (RFC 4456 8).
pub fn decode(value: &[u8]) -> Result<Ipv4Addr, Malformed> {
    super::four_octets(value, "ORIGINATOR_ID length is not 4").map(Ipv4Addr::from)
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
        fn round_trip(v in any::<u32>().prop_map(Ipv4Addr::from)) {
            prop_assert_eq!(decode(&v.octets()), Ok(v));
        }
    }
}

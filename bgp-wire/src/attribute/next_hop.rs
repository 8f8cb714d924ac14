//! NEXT_HOP (type code 3, RFC 4271 4.3 and 5.1.3): well-known, mandatory
//! when the UPDATE's NLRI field is not empty.

use std::net::Ipv4Addr;

use super::Malformed;

/// Decodes the attribute value: exactly four octets (RFC 7606 7.3). Whether
/// the address is usable (not 0.0.0.0, not the receiver's own address, on a
/// shared subnet) is for the session layer to judge.
pub fn decode(value: &[u8]) -> Result<Ipv4Addr, Malformed> {
    match value.first_chunk::<4>() {
        Some(a) if value.len() == 4 => Ok(Ipv4Addr::from(*a)),
        _ => Err(Malformed::length("NEXT_HOP length is not 4")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lengths() {
        assert_eq!(decode(&[10, 0, 0, 2]), Ok(Ipv4Addr::new(10, 0, 0, 2)));
        assert!(decode(&[10, 0, 0]).is_err());
        assert!(decode(&[10, 0, 0, 2, 0]).is_err());
        assert!(decode(&[]).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(a in any::<u32>()) {
            let ip = Ipv4Addr::from(a);
            prop_assert_eq!(decode(&ip.octets()), Ok(ip));
        }
    }
}

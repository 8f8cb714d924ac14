//! NEXT_HOP (type code 3, RFC 4271 4.3 and 5.1.3): well-known, mandatory
//! when the UPDATE's NLRI field is not empty.

use std::net::Ipv4Addr;

use super::Malformed;
use crate::error::UpdateMessageSubcode;

/// Decodes the attribute value: exactly four octets (RFC 7606 7.3).
pub fn decode(value: &[u8]) -> Result<Ipv4Addr, Malformed> {
    match value.first_chunk::<4>() {
        Some(a) if value.len() == 4 => Ok(Ipv4Addr::from(*a)),
        _ => Err(Malformed::length("NEXT_HOP length is not 4")),
    }
}

/// Checks that a NEXT_HOP is a valid IP host address (RFC 4271 6.3: not
/// 0.0.0.0, not the limited broadcast address, not multicast), which
/// matters only when the UPDATE has NLRI in its NLRI field (with only
/// MP_REACH_NLRI, NEXT_HOP is ignored, RFC 4760 3, and senders often put
/// 0.0.0.0 there). The semantic checks of RFC 4271 6.3 (not the receiver's
/// own address, on a shared subnet for eBGP) are for the session layer.
pub fn check_host(ip: Ipv4Addr) -> Result<(), Malformed> {
    if ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast() {
        Err(Malformed {
            subcode: UpdateMessageSubcode::InvalidNextHopAttribute,
            reason: "NEXT_HOP is not a valid host address",
        })
    } else {
        Ok(())
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
        assert_eq!(
            check_host(Ipv4Addr::UNSPECIFIED).unwrap_err().subcode,
            UpdateMessageSubcode::InvalidNextHopAttribute
        );
        assert!(check_host(Ipv4Addr::new(224, 0, 0, 1)).is_err());
        assert!(check_host(Ipv4Addr::new(10, 0, 0, 1)).is_ok());
    }

    proptest! {
        #[test]
        fn round_trip(a in any::<u32>()) {
            let ip = Ipv4Addr::from(a);
            prop_assert_eq!(decode(&ip.octets()), Ok(ip));
        }
    }
}

//! ORIGIN (type code 1, RFC 4271 4.3 and 5.1.1): well-known mandatory.

use std::fmt;

use super::Malformed;
use crate::error::UpdateMessageSubcode;

/// Where the route's information came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// IGP (0): interior to the originating AS.
    Igp,
    /// EGP (1): learned through the EGP protocol.
    Egp,
    /// INCOMPLETE (2): learned by some other means.
    Incomplete,
}

impl Origin {
    /// The on-wire value.
    pub const fn to_u8(self) -> u8 {
        match self {
            Origin::Igp => 0,
            Origin::Egp => 1,
            Origin::Incomplete => 2,
        }
    }

    /// Decodes the attribute value: exactly one octet of 0, 1 or 2
    /// (RFC 7606 7.1).
    pub fn decode(value: &[u8]) -> Result<Origin, Malformed> {
        match value {
            [0] => Ok(Origin::Igp),
            [1] => Ok(Origin::Egp),
            [2] => Ok(Origin::Incomplete),
            [_] => Err(Malformed {
                subcode: UpdateMessageSubcode::InvalidOriginAttribute,
                reason: "undefined ORIGIN value",
            }),
            _ => Err(Malformed::length("ORIGIN length is not 1")),
        }
    }
}

impl fmt::Display for Origin {
    /// The `bgpdump -m` spelling: `IGP`, `EGP`, `INCOMPLETE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Igp => "IGP",
            Origin::Egp => "EGP",
            Origin::Incomplete => "INCOMPLETE",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc_values() {
        assert_eq!(Origin::decode(&[0]), Ok(Origin::Igp));
        assert_eq!(Origin::decode(&[2]), Ok(Origin::Incomplete));
        assert_eq!(
            Origin::decode(&[3]).unwrap_err().subcode,
            UpdateMessageSubcode::InvalidOriginAttribute
        );
        assert_eq!(
            Origin::decode(&[0, 0]).unwrap_err().subcode,
            UpdateMessageSubcode::AttributeLengthError
        );
    }

    proptest! {
        #[test]
        fn round_trip(v in 0u8..3) {
            prop_assert_eq!(Origin::decode(&[v]).unwrap().to_u8(), v);
        }
    }
}

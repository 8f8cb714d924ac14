//! Attributes kept raw: those this crate does not decode (kept so that
//! optional transitive ones pass on unchanged, RFC 4271 5 and 9.1.2), and
//! the borrowed view of every attribute that [`crate::message::update::Update::raw_attributes`]
//! yields.

use bytes::{BufMut, Bytes, BytesMut};

use super::{Flags, put_header};

/// One attribute as it was on the wire: flags, type code, value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RawAttribute {
    /// The flags octet as received.
    pub flags: Flags,
    /// The type code.
    pub type_code: u8,
    /// The value (shares the message's buffer when decoded).
    pub value: Bytes,
}

impl PartialOrd for Flags {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Flags {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl RawAttribute {
    /// Octets the encoded attribute takes, header included.
    pub fn encoded_len(&self) -> usize {
        super::header_len(self.flags, self.value.len()) + self.value.len()
    }

    /// Appends the attribute: header (with the flags as they are, the
    /// Extended Length bit added if the value needs it) and value.
    pub fn encode(&self, buf: &mut BytesMut) {
        put_header(self.flags, self.type_code, self.value.len(), buf);
        buf.put_slice(&self.value);
    }

    /// The attribute as it should be passed on to another peer (RFC 4271
    /// 5 and 9.1.2): an unrecognised optional transitive attribute is kept
    /// with the Partial bit set; an unrecognised optional non-transitive one
    /// is dropped (`None`). Well-known attributes are returned unchanged.
    pub fn for_readvertisement(&self) -> Option<RawAttribute> {
        match (self.flags.optional(), self.flags.transitive()) {
            (true, true) => Some(RawAttribute {
                flags: self.flags.with(Flags::PARTIAL),
                ..self.clone()
            }),
            (true, false) => None,
            (false, _) => Some(self.clone()),
        }
    }

    /// The whole attribute (header and value) as the NOTIFICATION data of
    /// RFC 4271 6.3.
    pub fn to_notification_data(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut b);
        b.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn readvertisement() {
        let t = RawAttribute {
            flags: Flags::OPTIONAL_TRANSITIVE,
            type_code: 99,
            value: Bytes::from_static(&[1]),
        };
        assert_eq!(t.for_readvertisement().unwrap().flags, Flags(0xe0));
        let n = RawAttribute {
            flags: Flags::OPTIONAL_NON_TRANSITIVE,
            ..t.clone()
        };
        assert!(n.for_readvertisement().is_none());
    }

    proptest! {
        #[test]
        fn round_trip(flags in any::<u8>(), code in any::<u8>(), v in prop::collection::vec(any::<u8>(), 0..300)) {
            let a = RawAttribute { flags: Flags(flags), type_code: code, value: Bytes::from(v) };
            let mut buf = BytesMut::new();
            a.encode(&mut buf);
            prop_assert_eq!(buf.len(), a.encoded_len());
            let (got, rest) = super::super::path_attributes::split_attribute(&buf.freeze()).unwrap();
            prop_assert!(rest.is_empty());
            let want_flags = if a.value.len() > 255 { a.flags.with(Flags::EXTENDED_LENGTH) } else { a.flags };
            prop_assert_eq!(got, RawAttribute { flags: want_flags, ..a });
        }
    }
}

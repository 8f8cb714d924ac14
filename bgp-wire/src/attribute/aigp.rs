//! AIGP (type code 26, RFC 7311): optional non-transitive, TLVs of which
//! type 1 carries the accumulated IGP metric.

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

use super::Malformed;

/// The AIGP attribute value, kept as its TLVs so that unknown TLVs survive.
#[derive(Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Aigp(Bytes);

impl Aigp {
    /// TLV type of the accumulated IGP metric.
    pub const TLV_AIGP: u8 = 1;

    /// An AIGP attribute with only the metric TLV.
    pub fn from_metric(metric: u64) -> Self {
        let mut b = BytesMut::with_capacity(11);
        b.put_u8(Self::TLV_AIGP);
        b.put_u16(11);
        b.put_u64(metric);
        Aigp(b.freeze())
    }

    /// Decodes the value: TLVs of type (1 octet), length (2 octets, covering
    /// the whole TLV) and value; the AIGP TLV must be 11 octets and appear
    /// once (RFC 7311 3). A malformed AIGP is discarded.
    pub fn decode(value: &Bytes) -> Result<Aigp, Malformed> {
        Self::decode_value(value.clone())
    }

    /// [`Aigp::decode`], keeping `value` itself.
    pub(crate) fn decode_value(value: Bytes) -> Result<Aigp, Malformed> {
        let mut rest: &[u8] = value.as_ref();
        let mut seen = false;
        while !rest.is_empty() {
            let (&[t, l0, l1], _) = rest
                .split_first_chunk::<3>()
                .ok_or(Malformed::optional("AIGP TLV header truncated"))?;
            let len = usize::from(u16::from_be_bytes([l0, l1]));
            if len < 3 {
                return Err(Malformed::optional("AIGP TLV length below 3"));
            }
            if t == Self::TLV_AIGP {
                if len != 11 || seen {
                    return Err(Malformed::optional("bad AIGP TLV"));
                }
                seen = true;
            }
            rest = rest
                .get(len..)
                .ok_or(Malformed::optional("AIGP TLV overruns the attribute"))?;
        }
        Ok(Aigp(value))
    }

    /// The accumulated IGP metric, if the AIGP TLV is present.
    pub fn metric(&self) -> Option<u64> {
        let mut rest: &[u8] = self.0.as_ref();
        while let Some((&[t, l0, l1], _)) = rest.split_first_chunk::<3>() {
            let len = usize::from(u16::from_be_bytes([l0, l1]));
            if t == Self::TLV_AIGP {
                return rest
                    .get(3..11)
                    .and_then(|m| m.first_chunk::<8>())
                    .map(|m| u64::from_be_bytes(*m));
            }
            rest = rest.get(len.max(3)..)?;
        }
        None
    }

    /// The wire form of the value.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    pub(crate) fn rehome(&self, arena: &Bytes, offset: &mut usize) -> Self {
        Aigp(super::rehome(&self.0, arena, offset))
    }
}

impl fmt::Debug for Aigp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Aigp({:?})", self.metric())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc_layout() {
        let v = Bytes::from_static(&[1, 0, 11, 0, 0, 0, 0, 0, 0, 0, 10]);
        assert_eq!(Aigp::decode(&v).unwrap().metric(), Some(10));
        assert!(Aigp::decode(&v.slice(..10)).is_err());
        assert!(Aigp::decode(&Bytes::from_static(&[1, 0, 10, 0, 0, 0, 0, 0, 0, 0])).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(m in any::<u64>()) {
            let a = Aigp::from_metric(m);
            prop_assert_eq!(Aigp::decode(a.as_bytes()).unwrap().metric(), Some(m));
        }

        #[test]
        fn never_panics(v in prop::collection::vec(any::<u8>(), 0..40)) {
            let _ = Aigp::decode(&Bytes::from(v)).map(|a| a.metric());
        }
    }
}

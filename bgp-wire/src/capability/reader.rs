//! A bounds-checked reader over a `Bytes` value, shared by the capability and
//! OPEN decoders. Every read returns `None` instead of panicking when the
//! input is too short.

use bytes::{Buf, Bytes};

/// Reads fields off the front of a `Bytes` value without panicking.
#[derive(Debug, Clone)]
pub(crate) struct Reader {
    buf: Bytes,
}

impl Reader {
    /// A reader over `buf`.
    pub(crate) fn new(buf: Bytes) -> Self {
        Reader { buf }
    }

    /// Octets left.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Whether every octet was read.
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// One octet.
    pub(crate) fn u8(&mut self) -> Option<u8> {
        (!self.buf.is_empty()).then(|| self.buf.get_u8())
    }

    /// A big-endian 16-bit value.
    pub(crate) fn u16(&mut self) -> Option<u16> {
        (self.buf.len() >= 2).then(|| self.buf.get_u16())
    }

    /// A big-endian 24-bit value.
    pub(crate) fn u24(&mut self) -> Option<u32> {
        (self.buf.len() >= 3).then(|| {
            let hi = u32::from(self.buf.get_u8());
            (hi << 16) | u32::from(self.buf.get_u16())
        })
    }

    /// A big-endian 32-bit value.
    pub(crate) fn u32(&mut self) -> Option<u32> {
        (self.buf.len() >= 4).then(|| self.buf.get_u32())
    }

    /// The next `n` octets, sharing the input's memory.
    pub(crate) fn take(&mut self, n: usize) -> Option<Bytes> {
        (self.buf.len() >= n).then(|| self.buf.split_to(n))
    }

    /// Everything left.
    pub(crate) fn rest(&mut self) -> Bytes {
        std::mem::take(&mut self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded() {
        let mut r = Reader::new(Bytes::from_static(&[1, 2, 3, 4, 5, 6]));
        assert_eq!(r.u8(), Some(1));
        assert_eq!(r.u24(), Some(0x020304));
        assert_eq!(r.u32(), None);
        assert_eq!(r.u16(), Some(0x0506));
        assert_eq!(r.u8(), None);
        assert_eq!(r.take(1), None);
        assert_eq!(r.take(0), Some(Bytes::new()));
        assert!(r.is_empty());
    }
}

//! Network Layer Reachability Information: IP prefixes as they appear in the
//! UPDATE message's Withdrawn Routes and NLRI fields (RFC 4271 4.3), in
//! MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760), and in MRT RIB records, with
//! the optional ADD-PATH path identifier of RFC 7911.
//!
//! # Host bits beyond the prefix length
//!
//! RFC 4271 4.3 says the trailing bits of the last prefix octet are
//! irrelevant. A prefix received as `11.13.0.0/13` therefore decodes as
//! `11.8.0.0/13`: host bits are cleared, the prefix is accepted, and it is
//! stored, compared and printed in its normalised form. Re-encoding writes
//! the normalised bytes, so such an input is the one case where decode and
//! encode are not byte-exact inverses.

use bytes::{BufMut, BytesMut};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::afi::Afi;

/// An ADD-PATH path identifier (RFC 7911 3).
pub type PathId = u32;

/// One prefix, with the path identifier it was sent with on an ADD-PATH
/// session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nlri {
    /// The ADD-PATH path identifier, present exactly when the session
    /// negotiated ADD-PATH for this family and direction.
    pub path_id: Option<PathId>,
    /// The prefix, with host bits cleared.
    pub prefix: IpNet,
}

impl Nlri {
    /// A prefix without path identifier.
    pub fn new(prefix: IpNet) -> Self {
        Nlri {
            path_id: None,
            prefix: prefix.trunc(),
        }
    }

    /// A prefix with a path identifier.
    pub fn with_path_id(prefix: IpNet, path_id: PathId) -> Self {
        Nlri {
            path_id: Some(path_id),
            prefix: prefix.trunc(),
        }
    }

    /// Octets this NLRI takes on the wire.
    pub fn encoded_len(&self) -> usize {
        let id = if self.path_id.is_some() { 4 } else { 0 };
        id + 1 + usize::from(self.prefix.prefix_len()).div_ceil(8)
    }

    /// Appends the wire form: the path identifier if any, the length in
    /// bits, and the significant octets of the address.
    pub fn encode(&self, buf: &mut BytesMut) {
        if let Some(id) = self.path_id {
            buf.put_u32(id);
        }
        encode_prefix(&self.prefix, buf);
    }
}

impl fmt::Display for Nlri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path_id {
            Some(id) => write!(f, "{} (path id {id})", self.prefix),
            None => write!(f, "{}", self.prefix),
        }
    }
}

/// Appends the length-and-octets encoding of one prefix (no path identifier).
pub fn encode_prefix(prefix: &IpNet, buf: &mut BytesMut) {
    let len = prefix.prefix_len();
    let n = usize::from(len).div_ceil(8);
    buf.put_u8(len);
    match prefix {
        IpNet::V4(p) => buf.put_slice(p.network().octets().get(..n).unwrap_or_default()),
        IpNet::V6(p) => buf.put_slice(p.network().octets().get(..n).unwrap_or_default()),
    }
}

/// Why a sequence of encoded prefixes is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NlriError {
    /// A prefix length larger than the address family allows.
    #[error("prefix length {len} exceeds {max}")]
    PrefixTooLong {
        /// The length field.
        len: u8,
        /// The family's maximum.
        max: u8,
    },
    /// The field ends in the middle of a prefix or path identifier.
    #[error("NLRI truncated")]
    Truncated,
    /// The family is not IPv4 or IPv6.
    #[error("address family {0} has no IP prefixes")]
    NotIp(Afi),
}

/// Checks that `buf` is a well-formed sequence of prefixes of family `afi`,
/// each preceded by a path identifier when `add_path` is set, and returns how
/// many there are.
pub fn validate(buf: &[u8], afi: Afi, add_path: bool) -> Result<usize, NlriError> {
    let max = afi.max_prefix_len().ok_or(NlriError::NotIp(afi))?;
    let id = if add_path { 4 } else { 0 };
    let mut pos = 0usize;
    let mut count = 0usize;
    while pos < buf.len() {
        let len = *buf.get(pos + id).ok_or(NlriError::Truncated)?;
        if len > max {
            return Err(NlriError::PrefixTooLong { len, max });
        }
        pos += id + 1 + usize::from(len).div_ceil(8);
        if pos > buf.len() {
            return Err(NlriError::Truncated);
        }
        count += 1;
    }
    Ok(count)
}

/// An allocation-free iterator over prefixes that were checked by
/// [`validate`] (or built by [`NlriIter::new`], which checks them).
///
/// ```
/// use bgp_wire::{Afi, nlri::NlriIter};
///
/// // 10.0.0.0/8 and 192.0.2.0/24
/// let bytes = [8, 10, 24, 192, 0, 2];
/// let prefixes: Vec<String> = NlriIter::new(&bytes, Afi::Ipv4, false)
///     .unwrap()
///     .map(|n| n.prefix.to_string())
///     .collect();
/// assert_eq!(prefixes, ["10.0.0.0/8", "192.0.2.0/24"]);
/// ```
#[derive(Debug, Clone)]
pub struct NlriIter<'a> {
    buf: &'a [u8],
    v6: bool,
    add_path: bool,
    remaining: usize,
}

impl<'a> NlriIter<'a> {
    /// Validates `buf` and returns an iterator over its prefixes.
    pub fn new(buf: &'a [u8], afi: Afi, add_path: bool) -> Result<Self, NlriError> {
        let remaining = validate(buf, afi, add_path)?;
        Ok(NlriIter {
            buf,
            v6: afi == Afi::Ipv6,
            add_path,
            remaining,
        })
    }

    /// An iterator over bytes that the caller has validated before with the
    /// same `afi` and `add_path`. Malformed bytes end the iteration early;
    /// they never panic.
    pub fn new_validated(buf: &'a [u8], afi: Afi, add_path: bool, count: usize) -> Self {
        NlriIter {
            buf,
            v6: afi == Afi::Ipv6,
            add_path,
            remaining: count,
        }
    }

    fn next_inner(&mut self) -> Option<Nlri> {
        let mut buf = self.buf;
        let path_id = if self.add_path {
            let (id, rest) = buf.split_first_chunk::<4>()?;
            buf = rest;
            Some(u32::from_be_bytes(*id))
        } else {
            None
        };
        let (&len, rest) = buf.split_first()?;
        let n = usize::from(len).div_ceil(8);
        let octets = rest.get(..n)?;
        self.buf = rest.get(n..)?;
        let prefix = if self.v6 {
            let mut a = [0u8; 16];
            a.get_mut(..n)?.copy_from_slice(octets);
            IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), len).ok()?.trunc())
        } else {
            let mut a = [0u8; 4];
            a.get_mut(..n)?.copy_from_slice(octets);
            IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), len).ok()?.trunc())
        };
        Some(Nlri { path_id, prefix })
    }
}

impl Iterator for NlriIter<'_> {
    type Item = Nlri;

    #[inline]
    fn next(&mut self) -> Option<Nlri> {
        if self.remaining == 0 {
            return None;
        }
        match self.next_inner() {
            Some(n) => {
                self.remaining -= 1;
                Some(n)
            }
            None => {
                self.remaining = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for NlriIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bits_are_cleared() {
        let bytes = [13, 11, 13];
        let v: Vec<_> = NlriIter::new(&bytes, Afi::Ipv4, false).unwrap().collect();
        assert_eq!(v[0].prefix.to_string(), "11.8.0.0/13");
    }

    #[test]
    fn bad_lengths_are_rejected() {
        assert_eq!(
            validate(&[33, 1, 2, 3, 4, 5], Afi::Ipv4, false),
            Err(NlriError::PrefixTooLong { len: 33, max: 32 })
        );
        assert_eq!(
            validate(&[24, 1, 2], Afi::Ipv4, false),
            Err(NlriError::Truncated)
        );
        assert_eq!(
            validate(&[0, 0, 0], Afi::Ipv4, true),
            Err(NlriError::Truncated)
        );
        assert_eq!(validate(&[0, 0, 0, 1, 0], Afi::Ipv4, true), Ok(1));
        assert_eq!(
            validate(&[129], Afi::Ipv6, false),
            Err(NlriError::PrefixTooLong { len: 129, max: 128 })
        );
        assert_eq!(validate(&[], Afi::Ipv6, false), Ok(0));
    }

    #[test]
    fn encode_decode() {
        let mut buf = BytesMut::new();
        let a = Nlri::with_path_id("2001:db8::/33".parse().unwrap(), 7);
        a.encode(&mut buf);
        assert_eq!(buf.len(), a.encoded_len());
        let v: Vec<_> = NlriIter::new(&buf, Afi::Ipv6, true).unwrap().collect();
        assert_eq!(v, [a]);
    }
}

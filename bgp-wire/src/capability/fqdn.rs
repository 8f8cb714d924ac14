//! The FQDN capability (code 73, draft-walton-bgp-hostname-capability).
//!
//! Value: Hostname Length (1 octet), Hostname, Domain Name Length (1 octet),
//! Domain Name. The names are meant to be ASCII (UTF-8 in practice); they are
//! kept as octets so that any value re-encodes as received, with
//! [`Fqdn::hostname_str`] and [`Fqdn::domain_name_str`] for text. A value
//! whose lengths do not add up to the capability length is malformed.

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

use super::{malformed, reader::Reader};
use crate::error::{DecodeError, EncodeError};

/// The capability code.
pub const CODE: u8 = 73;

/// An FQDN capability.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Fqdn {
    /// The host name, as received.
    pub hostname: Bytes,
    /// The domain name, as received (often empty).
    pub domain_name: Bytes,
}

impl Fqdn {
    /// The capability for a host and domain name.
    pub fn new(hostname: &str, domain_name: &str) -> Self {
        Fqdn {
            hostname: Bytes::copy_from_slice(hostname.as_bytes()),
            domain_name: Bytes::copy_from_slice(domain_name.as_bytes()),
        }
    }

    /// The host name as text, if it is UTF-8.
    pub fn hostname_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.hostname).ok()
    }

    /// The domain name as text, if it is UTF-8.
    pub fn domain_name_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.domain_name).ok()
    }

    /// Decodes the capability value.
    pub fn decode(value: Bytes) -> Result<Self, DecodeError> {
        let mut r = Reader::new(value);
        let fqdn = (|| {
            let n = r.u8()?;
            let hostname = r.take(usize::from(n))?;
            let n = r.u8()?;
            let domain_name = r.take(usize::from(n))?;
            Some(Fqdn {
                hostname,
                domain_name,
            })
        })()
        .ok_or_else(|| malformed("FQDN capability lengths run past the capability"))?;
        if !r.is_empty() {
            return Err(malformed(
                "FQDN capability has octets after the domain name",
            ));
        }
        Ok(fqdn)
    }

    /// Appends the capability value. Fails if a name is longer than 255
    /// octets.
    pub fn encode_value(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        for name in [&self.hostname, &self.domain_name] {
            let n = u8::try_from(name.len())
                .map_err(|_| EncodeError::FieldTooLong { what: "FQDN name" })?;
            buf.put_u8(n);
            buf.put_slice(name);
        }
        Ok(())
    }
}

impl fmt::Display for Fqdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = String::from_utf8_lossy(&self.hostname);
        if self.domain_name.is_empty() {
            write!(f, "{host:?}")
        } else {
            write!(
                f,
                "{:?}",
                format!("{host}.{}", String::from_utf8_lossy(&self.domain_name))
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exabgp_hostname() {
        let mut v = vec![12];
        v.extend_from_slice(b"my-host-name");
        v.push(18);
        v.extend_from_slice(b"my-domain-name.com");
        let f = Fqdn::decode(Bytes::from(v.clone())).unwrap();
        assert_eq!(f, Fqdn::new("my-host-name", "my-domain-name.com"));
        assert_eq!(f.to_string(), "\"my-host-name.my-domain-name.com\"");
        let mut buf = BytesMut::new();
        f.encode_value(&mut buf).unwrap();
        assert_eq!(&buf[..], &v[..]);
        assert!(Fqdn::decode(Bytes::from(v[..v.len() - 1].to_vec())).is_err());
        v.push(0);
        assert!(Fqdn::decode(Bytes::from(v)).is_err());
        assert!(Fqdn::decode(Bytes::from_static(&[0])).is_err());
        assert_eq!(
            Fqdn::decode(Bytes::from_static(&[0, 0])).unwrap(),
            Fqdn::default()
        );
    }
}

//! ATOMIC_AGGREGATE (type code 6, RFC 4271 4.3 and 5.1.6): well-known
//! discretionary, no value.

use super::Malformed;

/// Checks the attribute value: it must be empty (RFC 7606 7.6; a non-empty
/// one is discarded).
pub fn decode(value: &[u8]) -> Result<(), Malformed> {
    if value.is_empty() {
        Ok(())
    } else {
        Err(Malformed::length("ATOMIC_AGGREGATE length is not 0"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert!(decode(&[]).is_ok());
        assert!(decode(&[0]).is_err());
    }
}

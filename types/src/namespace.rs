//! 29-byte namespaces in Celestia's format (`specs/01-data-model.md` §Namespaces).
//!
//! `namespace = version (1 byte) ‖ id (28 bytes)`. Blobs may only use version 0 whose id starts
//! with 18 zero bytes; everything up to `0x00…00FF` and every version-`0xFF` namespace is reserved.

use std::fmt;

use crate::error::{Error, Result};

/// Size of a namespace in bytes.
pub const NAMESPACE_SIZE: usize = 29;
/// Size of the namespace id in bytes.
pub const NAMESPACE_ID_SIZE: usize = 28;
/// Zero bytes that start every version-0 id.
pub const NAMESPACE_V0_PREFIX_SIZE: usize = 18;
/// User-chosen bytes of a version-0 id.
pub const NAMESPACE_V0_ID_SIZE: usize = 10;

/// A 29-byte namespace; ordered as a byte string.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Namespace([u8; NAMESPACE_SIZE]);

impl Namespace {
    /// The largest primary reserved namespace, `0x00…00FF`; all namespaces `<=` it are reserved.
    pub const MAX_PRIMARY_RESERVED: Self = Self::primary_reserved(0xff);
    /// The namespace of the square index (reserved).
    pub const INDEX: Self = Self::primary_reserved(0x03);
    /// The namespace of parity data (reserved, all `0xFF`).
    pub const PARITY: Self = Self([0xff; NAMESPACE_SIZE]);

    const fn primary_reserved(last: u8) -> Self {
        let mut b = [0u8; NAMESPACE_SIZE];
        b[NAMESPACE_SIZE - 1] = last;
        Self(b)
    }

    /// Builds a version-0 namespace from a user id of at most 10 bytes (left-padded with zeros),
    /// rejecting reserved results.
    pub fn new_v0(sub_id: &[u8]) -> Result<Self> {
        if sub_id.len() > NAMESPACE_V0_ID_SIZE {
            return Err(Error::NamespaceLength {
                got: sub_id.len(),
                expected: NAMESPACE_V0_ID_SIZE,
            });
        }
        let mut b = [0u8; NAMESPACE_SIZE];
        b[NAMESPACE_SIZE - sub_id.len()..].copy_from_slice(sub_id);
        Self::new_blob(&b)
    }

    /// Parses 29 bytes as a namespace that a blob may use.
    pub fn new_blob(bytes: &[u8]) -> Result<Self> {
        let ns = Self::from_raw(bytes)?;
        ns.validate_for_blob()?;
        Ok(ns)
    }

    /// Parses 29 bytes without the blob rules (reserved namespaces are accepted).
    pub fn from_raw(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; NAMESPACE_SIZE] = bytes.try_into().map_err(|_| Error::NamespaceLength {
            got: bytes.len(),
            expected: NAMESPACE_SIZE,
        })?;
        Ok(Self(arr))
    }

    /// Checks the rules for namespaces that carry blobs: version 0, 18-byte zero prefix, not
    /// reserved.
    pub fn validate_for_blob(&self) -> Result<()> {
        if self.version() != 0 {
            return Err(Error::NamespaceVersion {
                version: self.version(),
            });
        }
        if self.0[1..1 + NAMESPACE_V0_PREFIX_SIZE]
            .iter()
            .any(|b| *b != 0)
        {
            return Err(Error::NamespacePrefix);
        }
        if *self <= Self::MAX_PRIMARY_RESERVED {
            return Err(Error::NamespaceReserved(hex::encode(self.0)));
        }
        Ok(())
    }

    /// The version byte.
    pub fn version(&self) -> u8 {
        self.0[0]
    }

    /// The 29 raw bytes.
    pub fn as_bytes(&self) -> &[u8; NAMESPACE_SIZE] {
        &self.0
    }
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Namespace(0x{})", hex::encode(self.0))
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn celestia_valid_example_parses() {
        let bytes =
            hex::decode("0000000000000000000000000000000000000001010101010101010101").expect("hex");
        let ns = Namespace::new_blob(&bytes).expect("valid");
        assert_eq!(ns, Namespace::new_v0(&[1; 10]).expect("v0"));
    }

    #[test]
    fn rejects_bad_namespaces() {
        assert!(matches!(
            Namespace::new_blob(&[0; 28]),
            Err(Error::NamespaceLength {
                got: 28,
                expected: 29
            })
        ));
        let mut v1 = [0u8; 29];
        v1[0] = 1;
        v1[28] = 0x42;
        assert_eq!(
            Namespace::new_blob(&v1),
            Err(Error::NamespaceVersion { version: 1 })
        );
        let mut prefix = [0u8; 29];
        prefix[5] = 1;
        assert_eq!(Namespace::new_blob(&prefix), Err(Error::NamespacePrefix));
        for last in [0x00, 0x01, 0x04, 0xff] {
            assert!(matches!(
                Namespace::new_v0(&[last]),
                Err(Error::NamespaceReserved(_))
            ));
        }
        assert!(Namespace::new_blob(Namespace::PARITY.as_bytes()).is_err());
        assert!(Namespace::new_v0(&[1, 0]).is_ok());
        assert!(Namespace::new_v0(&[0; 11]).is_err());
    }
}

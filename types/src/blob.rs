//! Blobs and their content-derived ids.

use crate::{
    error::{Error, Result},
    namespace::Namespace,
};

/// `blake3(namespace ‖ u64_be(len) ‖ data)`: computable before submission, so submission is
/// idempotent.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlobId(pub [u8; 32]);

impl BlobId {
    /// Computes the id of `data` under `namespace`.
    pub fn compute(namespace: &Namespace, data: &[u8]) -> Self {
        let mut h = blake3::Hasher::new();
        h.update(namespace.as_bytes());
        h.update(&(data.len() as u64).to_be_bytes());
        h.update(data);
        Self(*h.finalize().as_bytes())
    }
}

impl std::fmt::Debug for BlobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobId(0x{})", hex::encode(self.0))
    }
}

impl std::fmt::Display for BlobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

/// A rollup's batch: a namespace and non-empty data.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Blob {
    namespace: Namespace,
    data: Vec<u8>,
    id: BlobId,
}

impl Blob {
    /// Validates the namespace for blob use and that `data` is non-empty.
    pub fn new(namespace: Namespace, data: Vec<u8>) -> Result<Self> {
        namespace.validate_for_blob()?;
        if data.is_empty() {
            return Err(Error::EmptyBlob);
        }
        let id = BlobId::compute(&namespace, &data);
        Ok(Self {
            namespace,
            data,
            id,
        })
    }

    /// The blob's namespace.
    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// The blob's bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The blob's id.
    pub fn id(&self) -> BlobId {
        self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_depends_on_namespace_length_and_data() {
        let a = Namespace::new_v0(b"ra").expect("ns");
        let b = Namespace::new_v0(b"rb").expect("ns");
        let x = Blob::new(a, b"hello".to_vec()).expect("blob");
        assert_eq!(x.id(), BlobId::compute(&a, b"hello"));
        assert_ne!(x.id(), BlobId::compute(&b, b"hello"));
        assert_ne!(x.id(), BlobId::compute(&a, b"hellp"));
        assert_eq!(Blob::new(a, vec![]), Err(Error::EmptyBlob));
        assert!(Blob::new(Namespace::INDEX, vec![1]).is_err());
    }
}

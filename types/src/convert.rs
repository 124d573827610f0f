//! Validating conversions between `da.v1` messages and the domain types of this crate (headers,
//! namespaces, blob ids), and [`ConvertError`], which every conversion from a message returns
//! (`da_kzg::convert` uses it for cells and proofs). Lengths and domain rules are checked here;
//! signatures are checked by their verifiers.

use da_proto::v1 as pb;

use crate::{BlobId, Namespace, SignedHeader};

/// Why a message does not convert to a domain value.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// A fixed-size field has the wrong length.
    #[error("{what} must be {expected} bytes, got {got}")]
    Length {
        /// Field name.
        what: &'static str,
        /// Required length.
        expected: usize,
        /// Length received.
        got: usize,
    },
    /// A value is out of its range.
    #[error("{0}")]
    Range(String),
    /// A domain rule is broken (namespace, header fields).
    #[error(transparent)]
    Types(#[from] crate::Error),
}

/// Result with [`ConvertError`].
pub type Result<T, E = ConvertError> = std::result::Result<T, E>;

/// Exactly `N` bytes, or a [`ConvertError::Length`] naming the field.
pub fn fixed<const N: usize>(what: &'static str, b: &[u8]) -> Result<[u8; N]> {
    b.try_into().map_err(|_| ConvertError::Length {
        what,
        expected: N,
        got: b.len(),
    })
}

impl From<&SignedHeader> for pb::Header {
    fn from(h: &SignedHeader) -> Self {
        Self {
            chain_id: h.header.chain_id.clone(),
            height: h.header.height,
            parent_hash: h.header.parent_hash.to_vec(),
            timestamp_ms: h.header.timestamp_ms,
            k: u32::from(h.header.k),
            commitments: h.header.commitments.iter().map(|c| c.to_vec()).collect(),
            blob_count: h.header.blob_count,
            data_root: h.header.data_root().to_vec(),
            producer: h.producer.to_vec(),
            signature: h.signature.to_vec(),
            hash: h.hash().to_vec(),
        }
    }
}

/// A message as a signed header (fields checked, signature not).
impl TryFrom<&pb::Header> for SignedHeader {
    type Error = ConvertError;

    fn try_from(h: &pb::Header) -> Result<Self> {
        let k =
            u16::try_from(h.k).map_err(|_| ConvertError::Range(format!("k={} too large", h.k)))?;
        let commitments = h
            .commitments
            .iter()
            .map(|c| fixed::<48>("commitment", c))
            .collect::<Result<Vec<_>>>()?;
        let header = crate::Header {
            chain_id: h.chain_id.clone(),
            height: h.height,
            parent_hash: fixed("parent_hash", &h.parent_hash)?,
            timestamp_ms: h.timestamp_ms,
            k,
            commitments,
            blob_count: h.blob_count,
        };
        header.validate()?;
        Ok(Self {
            header,
            producer: fixed("producer", &h.producer)?,
            signature: fixed("signature", &h.signature)?,
        })
    }
}

/// Parses a namespace field (29 bytes; reserved ones allowed for reads).
pub fn namespace(b: &[u8]) -> Result<Namespace> {
    Ok(Namespace::from_raw(b)?)
}

/// Parses a blob id field (32 bytes).
pub fn blob_id(b: &[u8]) -> Result<BlobId> {
    Ok(BlobId(fixed("blob_id", b)?))
}

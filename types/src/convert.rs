//! Validating conversions between `da.v1` messages and the domain types of this crate
//! (certified headers, namespaces, blob ids), and [`ConvertError`], which every conversion from a
//! message returns (`da_kzg::convert` uses it for cells and proofs). Lengths and domain rules are
//! checked here; certificates are checked by their verifiers ([`crate::Trust`]).

use da_proto::v1 as pb;

use crate::{certificate::CertificateError, BlobId, CertifiedHeader, Namespace};

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
    /// A domain rule is broken (namespace).
    #[error(transparent)]
    Types(#[from] crate::Error),
    /// A certified header does not decode, or its block header is invalid.
    #[error("certified header: {0}")]
    Header(#[from] CertificateError),
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

/// The message of a certified header: its canonical bytes and the informative decoded fields.
impl From<&CertifiedHeader> for pb::Header {
    fn from(h: &CertifiedHeader) -> Self {
        let b = &h.block;
        Self {
            certified: h.to_bytes(),
            height: b.header.height,
            header_id: h.id().to_vec(),
            data_root: b.header.data_root.to_vec(),
            timestamp_ms: b.header.timestamp_ms,
            k: u32::from(b.k),
            blob_count: b.blob_count,
            round: h.certificate.round,
            signers: h.certificate.signers.count() as u32,
        }
    }
}

/// A message as a certified header: `certified` decoded with [`CertifiedHeader::from_bytes`]
/// (block header checked, certificate not: see [`crate::Trust::verify`]). The informative
/// fields are ignored.
impl TryFrom<&pb::Header> for CertifiedHeader {
    type Error = ConvertError;

    fn try_from(h: &pb::Header) -> Result<Self> {
        Ok(Self::from_bytes(&h.certified)?)
    }
}

/// Parses a namespace field that names blob data, for a write or a read alike: 29 bytes,
/// version 0, the zero prefix, not reserved (`specs/01-data-model.md` §Namespaces). Every path
/// that takes a namespace from a client or a peer (gRPC, p2p, the light client's API) checks it
/// here, so a reserved namespace is refused the same way everywhere.
pub fn namespace(b: &[u8]) -> Result<Namespace> {
    Ok(Namespace::new_blob(b)?)
}

/// Parses a blob id field (32 bytes).
pub fn blob_id(b: &[u8]) -> Result<BlobId> {
    Ok(BlobId(fixed("blob_id", b)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        bls::BlsSecretKey,
        certificate::Certificate,
        header_v2::{
            chain_hash, data_root, vote_sign_bytes, BlockHeader, ConsensusHeader, VoteKind,
        },
        validators::{Validator, ValidatorSet},
    };

    fn certified() -> CertifiedHeader {
        let key = BlsSecretKey::from_ikm(&[4; 32]);
        let set = ValidatorSet::new(vec![Validator {
            public_key: key.public_key(),
            power: 1,
        }])
        .expect("set");
        let chain = chain_hash("convert");
        let commitments = vec![[0xc0; 48]; 4];
        let block = BlockHeader {
            header: ConsensusHeader {
                chain,
                height: 7,
                parent: [3; 32],
                timestamp_ms: 1_000,
                proposer: 0,
                validators_hash: set.hash(),
                next_validators_hash: set.hash(),
                data_root: data_root(2, 1, &commitments),
                tuple_root: [0; 32],
            },
            k: 2,
            blob_count: 1,
            commitments,
        };
        let id = block.id();
        let sig = key.sign(&vote_sign_bytes(
            VoteKind::Precommit,
            &chain,
            7,
            2,
            Some(&id),
        ));
        let certificate =
            Certificate::aggregate(&set, &chain, 7, 2, &id, &[(0, sig)]).expect("aggregate");
        CertifiedHeader { block, certificate }
    }

    #[test]
    fn header_messages_carry_the_certified_bytes_and_informative_fields() {
        let h = certified();
        let m = pb::Header::from(&h);
        assert_eq!(m.certified, h.to_bytes());
        assert_eq!(
            (m.height, m.k, m.blob_count, m.round, m.signers),
            (7, 2, 1, 2, 1)
        );
        assert_eq!(m.header_id, h.id().to_vec());
        assert_eq!(m.data_root, h.block.header.data_root.to_vec());
        assert_eq!(m.timestamp_ms, 1_000);
        assert_eq!(CertifiedHeader::try_from(&m).expect("decode"), h);
        // Only `certified` counts: informative fields are never trusted.
        let lying = pb::Header {
            height: 99,
            ..m.clone()
        };
        assert_eq!(
            CertifiedHeader::try_from(&lying).expect("decode").height(),
            7
        );
        let mut bad = m;
        bad.certified.pop();
        assert!(matches!(
            CertifiedHeader::try_from(&bad),
            Err(ConvertError::Header(_))
        ));
        assert!(CertifiedHeader::try_from(&pb::Header::default()).is_err());
    }

    #[test]
    fn namespace_fields_are_checked_as_blob_namespaces() {
        let ok = Namespace::new_v0(b"ours").expect("ns");
        assert_eq!(namespace(ok.as_bytes()).expect("valid"), ok);
        let mut reserved = [0u8; 29];
        reserved[28] = 0x03;
        let mut v1 = *ok.as_bytes();
        v1[0] = 1;
        let mut prefix = *ok.as_bytes();
        prefix[3] = 9;
        for bad in [
            reserved.to_vec(),
            Namespace::MAX_PRIMARY_RESERVED.as_bytes().to_vec(),
            Namespace::PARITY.as_bytes().to_vec(),
            vec![0xff; 29],
            v1.to_vec(),
            prefix.to_vec(),
            vec![0; 28],
            Vec::new(),
        ] {
            assert!(
                matches!(namespace(&bad), Err(ConvertError::Types(_))),
                "{bad:02x?}"
            );
        }
    }
}

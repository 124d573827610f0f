//! Domain types of the DA layer, shared by every other crate, with no I/O.
//!
//! This crate owns:
//! - the protocol constants ([`consts`]): row, cell and square sizes;
//! - [`Namespace`], [`Blob`] and [`BlobId`], and the block body that carries blobs ([`body`]);
//! - the original-square layout ([`layout`]): how blobs and the square index are packed into
//!   cells and rows, byte for byte (`specs/01-data-model.md`);
//! - block headers and what certifies them, shared by full nodes, validators and light clients
//!   (`specs/05-header.md`): BLS12-381 validator keys and signatures ([`bls`]), the validator
//!   set, quorum rule, proposer selection and genesis file ([`validators`]), RFC 6962 SHA-256
//!   Merkle trees ([`merkle`]), the fixed-size consensus header, its `data_root` and the vote and
//!   proposal sign bytes ([`header_v2`]), commit certificates and the certified header every
//!   node stores, gossips and serves ([`certificate`]), and the genesis trust that accepts one
//!   ([`trust`]);
//! - attestation windows and the `tuple_root` an L1 contract proves `data_root`s against
//!   ([`attestation`], `specs/12-attestation.md`);
//! - the sampling bound and confidence ([`sampling`], `specs/04-sampling.md`);
//! - validating conversions from and to the `da.v1` messages of `da-proto` ([`convert`]).
//!
//! Erasure coding lives in `da-erasure`, cryptography in `da-kzg`.

pub mod attestation;
pub mod blob;
pub mod bls;
pub mod body;
pub mod certificate;
pub mod consts;
pub mod convert;
pub mod error;
pub mod header_v2;
pub mod layout;
pub mod merkle;
pub mod namespace;
pub mod sampling;
pub mod trust;
pub mod validators;

pub use attestation::DataRootTuple;
pub use blob::{Blob, BlobId};
pub use bls::{BlsError, BlsPublicKey, BlsSecretKey, BlsSignature};
pub use certificate::{Certificate, CertificateError, CertifiedHeader, SignerBitmap};
pub use convert::ConvertError;
pub use error::{Error, Result};
pub use header_v2::{
    chain_hash, data_root, proposal_sign_bytes, vote_sign_bytes, BlockHeader, ConsensusHeader,
    HeaderV2Error, VoteKind, HEADER_V2_LEN, HEADER_V2_VERSION,
};
pub use layout::{CellIndex, IndexEntry, OriginalSquare, SquareLayout};
pub use merkle::MerkleProof;
pub use namespace::Namespace;
pub use sampling::{confidence, min_unrecoverable_cells, samples_for_confidence};
pub use trust::{Trust, TrustError};
pub use validators::{
    Genesis, GenesisError, GenesisValidator, Validator, ValidatorSet, ValidatorSetError,
    DEFAULT_DEDUP_WINDOW,
};

//! Domain types of the DA layer, shared by every other crate, with no I/O.
//!
//! This crate owns:
//! - the protocol constants ([`consts`]): row, cell and square sizes;
//! - [`Namespace`], [`Blob`] and [`BlobId`];
//! - the original-square layout ([`layout`]): how blobs and the square index are packed into
//!   cells and rows, byte for byte (`specs/01-data-model.md`);
//! - block headers, their encoding, hash and signature ([`header`]);
//! - the sampling bound and confidence ([`sampling`], `specs/04-sampling.md`);
//! - validating conversions from and to the `da.v1` messages of `da-proto` ([`convert`]).
//!
//! Erasure coding lives in `da-erasure`, cryptography in `da-kzg`.

pub mod blob;
pub mod consts;
pub mod convert;
pub mod error;
pub mod header;
pub mod layout;
pub mod namespace;
pub mod sampling;

pub use blob::{Blob, BlobId};
pub use convert::ConvertError;
pub use error::{Error, Result};
pub use header::{Header, HeaderVerifier, ProducerSet, SignedHeader};
pub use layout::{CellIndex, IndexEntry, OriginalSquare, SquareLayout};
pub use namespace::Namespace;
pub use sampling::{confidence, min_unrecoverable_cells, samples_for_confidence};

//! Reed-Solomon over the BLS12-381 scalar field for the 2D square (`specs/02-erasure.md`).
//!
//! This crate owns the *data* side of the square, with no cryptography:
//! - [`field`]: `Fr`, canonical (de)serialization of cells, bit-reversal;
//! - [`column`]: the column code `[2k, k]` on the `2k`th roots of unity (systematic, bit-reversed),
//!   usable over `Fr` and over G1 (commitments and proofs extend by the same linear map);
//! - [`batch_mul`]: many G1 points times one public scalar in batched affine arithmetic;
//! - [`g1fft`]: G1 FFTs that skip unit twiddles and identity inputs (commitment and proof
//!   extension, FK20);
//! - [`row`]: the EIP-7594 row code `[8192, 4096]` split into 128 cells of 64 elements;
//! - [`square`]: the extended square's data and the iterative 2D repair.
//!
//! The FFTs come from `ekzg-polynomial` and row erasure decoding from `ekzg-erasure-codes`
//! (rust-eth-kzg's maintained crates), so our encoding is the one Ethereum clients verify.

pub mod batch_mul;
pub mod column;
pub mod error;
pub mod field;
pub mod g1fft;
pub mod row;
pub mod square;

pub use column::ColumnCodec;
pub use error::{ErasureError, Result};
pub use field::{Fr, G1};
pub use g1fft::G1Fft;
pub use square::{ExtendedData, PartialData};

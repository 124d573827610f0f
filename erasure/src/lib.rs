//! Reed-Solomon over the BLS12-381 scalar field for the 2D square (`specs/02-erasure.md`).
//!
//! This crate owns the *data* side of the square, with no cryptography:
//! - [`field`]: `Fr`, canonical (de)serialization of cells, bit-reversal;
//! - [`column`]: the column code `[2k, k]` on the `2k`th roots of unity (systematic, bit-reversed)
//!   over `Fr` (`da-kzg` applies the same linear map to commitments and proofs in G1), and
//!   [`ParityRow`], a parity row's cells from the original rows' bytes;
//! - [`row`]: the EIP-7594 row code `[8192, 4096]` split into 128 cells of 64 elements;
//! - [`square`]: the extended square's data and the iterative 2D repair.
//!
//! The FFTs come from `ekzg-polynomial` and row erasure decoding from `ekzg-erasure-codes`
//! (rust-eth-kzg's maintained crates), so our encoding is the one Ethereum clients verify.

pub mod column;
pub mod error;
pub mod field;
pub mod row;
pub mod square;

pub use column::{ColumnCodec, ParityRow};
pub use error::{ErasureError, Result};
pub use field::Fr;
pub use square::{ExtendedData, PartialData};

//! Conversions between our byte-level types and c-kzg's, and the length checks every operation
//! runs before deserializing (crate-private).

use da_types::consts::{BYTES_PER_CELL, BYTES_PER_ROW};

use crate::{
    error::{KzgError, Result},
    types::{Cell, Proof},
};

/// c-kzg's error as ours.
pub(crate) fn ck_err(e: c_kzg::Error) -> KzgError {
    KzgError::Backend {
        backend: "c-kzg",
        message: format!("{e:?}"),
    }
}

/// Converts c-kzg's cells and proofs into ours.
pub(crate) fn from_ckzg(
    cells: &[c_kzg::Cell],
    proofs: &[c_kzg::KzgProof],
) -> (Vec<Cell>, Vec<Proof>) {
    (
        cells.iter().map(|c| Cell(Box::new(c.to_bytes()))).collect(),
        proofs
            .iter()
            .map(|p| Proof(p.to_bytes().into_inner()))
            .collect(),
    )
}

/// Requires `b` to be `expected` bytes long.
pub(crate) fn check_len(what: &'static str, b: &[u8], expected: usize) -> Result<()> {
    if b.len() != expected {
        return Err(KzgError::InvalidLength {
            what,
            got: b.len(),
            expected,
        });
    }
    Ok(())
}

/// A blob's 131072 bytes.
pub(crate) fn blob_ref(b: &[u8]) -> Result<&[u8; BYTES_PER_ROW]> {
    b.try_into().map_err(|_| KzgError::InvalidLength {
        what: "blob",
        got: b.len(),
        expected: BYTES_PER_ROW,
    })
}

/// A cell's 2048 bytes.
pub(crate) fn cell_ref(b: &[u8]) -> Result<&[u8; BYTES_PER_CELL]> {
    b.try_into().map_err(|_| KzgError::InvalidLength {
        what: "cell",
        got: b.len(),
        expected: BYTES_PER_CELL,
    })
}

/// A 48-byte commitment or proof.
pub(crate) fn b48<'a>(what: &'static str, b: &'a [u8]) -> Result<&'a [u8; 48]> {
    b.try_into().map_err(|_| KzgError::InvalidLength {
        what,
        got: b.len(),
        expected: 48,
    })
}

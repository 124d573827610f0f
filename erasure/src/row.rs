//! The EIP-7594 row code: a 4096-element blob (evaluations on the 4096th roots in bit-reversed
//! order) extended to 8192 evaluations, cut into 128 cells of 64 consecutive elements.
//!
//! In natural order of the 8192-point domain, cell `c` holds the positions `≡ brp_7(c) (mod 128)`,
//! so erasures of whole cells are *block-synchronised* erasures for `ekzg-erasure-codes`.

use std::sync::OnceLock;

use da_types::consts::{
    CELLS_PER_ROW, FIELD_ELEMENTS_PER_CELL, FIELD_ELEMENTS_PER_EXT_ROW, FIELD_ELEMENTS_PER_ROW,
    ORIGINAL_CELLS_PER_ROW,
};
use ekzg_erasure_codes::{BlockErasureIndices, ReedSolomon};
use ekzg_polynomial::domain::Domain;

use crate::{
    error::{ErasureError, Result},
    field::{bit_reverse, reverse_bits, Fr},
};

/// Encoder and decoder of the row code; build once with [`row_codec`].
#[derive(Debug)]
pub struct RowCodec {
    blob_domain: Domain,
    ext_domain: Domain,
    rs: ReedSolomon,
}

/// The process-wide row codec (its domains take a few milliseconds to build).
pub fn row_codec() -> &'static RowCodec {
    static CODEC: OnceLock<RowCodec> = OnceLock::new();
    CODEC.get_or_init(|| RowCodec {
        blob_domain: Domain::new(FIELD_ELEMENTS_PER_ROW),
        ext_domain: Domain::new(FIELD_ELEMENTS_PER_EXT_ROW),
        rs: ReedSolomon::new(FIELD_ELEMENTS_PER_ROW, 2, CELLS_PER_ROW),
    })
}

impl RowCodec {
    /// Extends a blob's 4096 elements to the 8192 elements of its 128 cells.
    pub fn extend(&self, blob: &[Fr]) -> Result<Vec<Fr>> {
        if blob.len() != FIELD_ELEMENTS_PER_ROW {
            return Err(ErasureError::WrongLength {
                what: "row",
                got: blob.len(),
                expected: FIELD_ELEMENTS_PER_ROW,
            });
        }
        let mut natural = blob.to_vec();
        bit_reverse(&mut natural);
        let coeffs = self.blob_domain.ifft_scalars(natural);
        Ok(self.eval_coeffs(coeffs.0))
    }

    fn eval_coeffs(&self, mut coeffs: Vec<Fr>) -> Vec<Fr> {
        coeffs.truncate(FIELD_ELEMENTS_PER_ROW);
        let mut evals = self.ext_domain.fft_scalars(coeffs.into());
        bit_reverse(&mut evals);
        evals
    }

    /// Recovers a full extended row from at least 64 of its 128 cells (`cells[c]` is cell `c`'s
    /// 64 elements, or `None`).
    pub fn recover(&self, cells: &[Option<&[Fr]>]) -> Result<Vec<Fr>> {
        if cells.len() != CELLS_PER_ROW {
            return Err(ErasureError::WrongLength {
                what: "row cells",
                got: cells.len(),
                expected: CELLS_PER_ROW,
            });
        }
        let known = cells.iter().filter(|c| c.is_some()).count();
        if known < ORIGINAL_CELLS_PER_ROW {
            return Err(ErasureError::NotEnoughCells {
                line: "row".into(),
                known,
                needed: ORIGINAL_CELLS_PER_ROW,
            });
        }
        let mut evals = vec![Fr::from(0u64); FIELD_ELEMENTS_PER_EXT_ROW];
        let mut missing = Vec::new();
        for (c, cell) in cells.iter().enumerate() {
            match cell {
                Some(v) if v.len() == FIELD_ELEMENTS_PER_CELL => {
                    let at = c * FIELD_ELEMENTS_PER_CELL;
                    evals[at..at + FIELD_ELEMENTS_PER_CELL].copy_from_slice(v);
                }
                Some(v) => {
                    return Err(ErasureError::WrongLength {
                        what: "cell",
                        got: v.len(),
                        expected: FIELD_ELEMENTS_PER_CELL,
                    })
                }
                None => missing.push(reverse_bits(c, CELLS_PER_ROW.trailing_zeros())),
            }
        }
        if missing.is_empty() {
            return Ok(evals);
        }
        bit_reverse(&mut evals);
        let coeffs = self
            .rs
            .recover_polynomial_coefficient(evals, BlockErasureIndices(missing))
            .map_err(|e| ErasureError::Decoder(format!("{e:?}")))?;
        Ok(self.eval_coeffs(coeffs.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systematic_and_recoverable_from_any_half() {
        let blob: Vec<Fr> = (0..FIELD_ELEMENTS_PER_ROW as u64)
            .map(|i| Fr::from(i * 31 + 5))
            .collect();
        let codec = row_codec();
        let ext = codec.extend(&blob).expect("extend");
        assert_eq!(&ext[..FIELD_ELEMENTS_PER_ROW], &blob[..]);
        let cells: Vec<&[Fr]> = ext.chunks(FIELD_ELEMENTS_PER_CELL).collect();
        // Keep odd cells only, then the second half only.
        for keep in [|c: usize| c % 2 == 1, |c: usize| c >= 64] {
            let partial: Vec<Option<&[Fr]>> = (0..CELLS_PER_ROW)
                .map(|c| keep(c).then_some(cells[c]))
                .collect();
            assert_eq!(codec.recover(&partial).expect("recover"), ext);
        }
        let too_few: Vec<Option<&[Fr]>> = (0..CELLS_PER_ROW)
            .map(|c| (c < 63).then_some(cells[c]))
            .collect();
        assert!(matches!(
            codec.recover(&too_few),
            Err(ErasureError::NotEnoughCells { known: 63, .. })
        ));
    }
}

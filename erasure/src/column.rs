//! The column code: `k` original rows extended to `2k` on the `2k`th roots of unity.
//!
//! Row `r` of the extended square sits at `x_r = ω_{2k}^{brp_{2k}(r)}` (bit-reversed order), so
//! rows `0..k` are the `k`th roots in bit-reversed order (systematic) and rows `k..2k` the coset
//! `ω_{2k}·H_k`. Extension is interpolation on `H_k` then evaluation on the coset: one inverse
//! FFT and one coset FFT of size `k` over `Fr`. The map is linear, so `da-kzg` applies it to
//! commitments and proofs in G1 (`C_r = Σ λ_{r,i} C_i`) with the same points.
//!
//! [`ParityRow`] gives one parity row's cells from the original rows' cell bytes (`Σ λ_{r,i}`
//! over a column), for callers that keep only original rows and work in bytes.

use ekzg_bls12_381::{batch_inversion::batch_inverse, ff::Field};
use ekzg_polynomial::{domain::Domain, CosetFFT};

use da_types::consts::{BYTES_PER_CELL, FIELD_ELEMENTS_PER_CELL};

use crate::{
    error::{ErasureError, Result},
    field::{bit_reverse, frs_from_bytes, frs_to_bytes, reverse_bits, root_of_unity, Fr},
};

/// Encoder and decoder of the `[2k, k]` column code.
#[derive(Debug, Clone)]
pub struct ColumnCodec {
    k: usize,
    domain: Option<Domain>,
    coset: CosetFFT,
    points: Vec<Fr>,
}

impl ColumnCodec {
    /// Builds the codec for `k` original rows (a power of two in `1..=K_MAX`).
    pub fn new(k: usize) -> Result<Self> {
        da_types::layout::check_k(k)?;
        let n = 2 * k;
        let w = root_of_unity(n);
        let bits = n.trailing_zeros();
        let points = (0..n)
            .map(|r| w.pow_vartime([reverse_bits(r, bits) as u64]))
            .collect();
        Ok(Self {
            k,
            domain: (k > 1).then(|| Domain::new(k)),
            coset: CosetFFT::new(w),
            points,
        })
    }

    /// Number of original rows.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The evaluation points `x_r` of all `2k` rows, in row order.
    pub fn points(&self) -> &[Fr] {
        &self.points
    }

    fn check_len(&self, got: usize) -> Result<()> {
        if got != self.k {
            return Err(ErasureError::WrongLength {
                what: "column",
                got,
                expected: self.k,
            });
        }
        Ok(())
    }

    /// Extends `k` field elements (rows `0..k` of a column) to the `k` parity values (rows
    /// `k..2k`).
    pub fn extend_fr(&self, original: &[Fr]) -> Result<Vec<Fr>> {
        self.check_len(original.len())?;
        let Some(domain) = &self.domain else {
            return Ok(original.to_vec());
        };
        let mut natural = original.to_vec();
        bit_reverse(&mut natural);
        let coeffs = domain.ifft_scalars(natural);
        let mut parity = domain.coset_fft_scalars(coeffs, &self.coset);
        bit_reverse(&mut parity);
        Ok(parity)
    }

    /// Lagrange coefficients that give each row in `missing` from the values at `known` (exactly
    /// `k` distinct rows): `value[m] = Σ_j out[m][j] · value[known[j]]`.
    pub fn recovery_matrix(&self, known: &[usize], missing: &[usize]) -> Result<Vec<Vec<Fr>>> {
        self.check_len(known.len())?;
        let xs: Vec<Fr> = known.iter().map(|&r| self.points[r]).collect();
        // Barycentric weights w_j = 1 / Π_{i≠j} (x_j − x_i).
        let mut w: Vec<Fr> = xs
            .iter()
            .enumerate()
            .map(|(j, xj)| {
                xs.iter()
                    .enumerate()
                    .filter(|(i, _)| *i != j)
                    .fold(Fr::ONE, |acc, (_, xi)| acc * (*xj - xi))
            })
            .collect();
        batch_inverse(&mut w);
        missing
            .iter()
            .map(|&m| {
                let xm = self.points[m];
                let mut diffs: Vec<Fr> = xs.iter().map(|xj| xm - xj).collect();
                let ell = diffs.iter().fold(Fr::ONE, |acc, d| acc * d);
                batch_inverse(&mut diffs);
                Ok(diffs
                    .iter()
                    .zip(&w)
                    .map(|(inv, wj)| ell * wj * inv)
                    .collect())
            })
            .collect()
    }
}

/// The Lagrange weights of one parity row: its cells from the `k` original rows' cells of the
/// same column, in bytes (`cell(r, c) = Σ_i λ_{r,i}·cell(i, c)`, `specs/02-erasure.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParityRow {
    row: usize,
    weights: Vec<Fr>,
}

impl ParityRow {
    /// The weights of row `row` (`k ≤ row < 2k`) of a square with `k` original rows.
    pub fn new(k: usize, row: usize) -> Result<Self> {
        let codec = ColumnCodec::new(k)?;
        if !(k..2 * k).contains(&row) {
            return Err(da_types::Error::CellOutOfRange {
                row,
                col: 0,
                rows: 2 * k,
                cols: da_types::consts::CELLS_PER_ROW,
            }
            .into());
        }
        let known: Vec<usize> = (0..k).collect();
        let weights = codec
            .recovery_matrix(&known, &[row])?
            .into_iter()
            .next()
            .unwrap_or_default();
        Ok(Self { row, weights })
    }

    /// The parity row this computes.
    pub fn row(&self) -> usize {
        self.row
    }

    /// The parity row's cell from the original rows' cells of one column: `column[i]` is the
    /// 2048 bytes of row `i`'s cell, `None` for an all-zero (padding) cell. Fails with
    /// [`ErasureError::Cell`] naming the original row whose cell is malformed.
    pub fn cell(&self, column: &[Option<&[u8]>]) -> Result<Vec<u8>> {
        if column.len() != self.weights.len() {
            return Err(ErasureError::WrongLength {
                what: "column of original cells",
                got: column.len(),
                expected: self.weights.len(),
            });
        }
        let mut acc = vec![Fr::ZERO; FIELD_ELEMENTS_PER_CELL];
        for (row, (cell, w)) in column.iter().zip(&self.weights).enumerate() {
            let Some(bytes) = cell else {
                continue; // zero padding contributes nothing
            };
            let bad = |e: ErasureError| ErasureError::Cell {
                row,
                source: Box::new(e),
            };
            if bytes.len() != BYTES_PER_CELL {
                return Err(bad(ErasureError::WrongLength {
                    what: "cell bytes",
                    got: bytes.len(),
                    expected: BYTES_PER_CELL,
                }));
            }
            for (a, f) in acc.iter_mut().zip(frs_from_bytes(bytes).map_err(bad)?) {
                *a += *w * f;
            }
        }
        let mut out = Vec::with_capacity(BYTES_PER_CELL);
        frs_to_bytes(&acc, &mut out);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(coeffs: &[Fr], x: Fr) -> Fr {
        coeffs.iter().rev().fold(Fr::ZERO, |acc, c| acc * x + c)
    }

    #[test]
    fn extension_evaluates_the_interpolant_on_the_coset() {
        for k in [1usize, 2, 4, 16] {
            let codec = ColumnCodec::new(k).expect("codec");
            let poly: Vec<Fr> = (0..k as u64).map(|i| Fr::from(i * 7 + 3)).collect();
            let all: Vec<Fr> = codec.points().iter().map(|x| eval(&poly, *x)).collect();
            assert_eq!(
                codec.extend_fr(&all[..k]).expect("extend"),
                all[k..].to_vec()
            );
            // The first k points are the kth roots of unity (systematic layout), the rest are not.
            for (r, x) in codec.points().iter().enumerate() {
                assert_eq!(x.pow_vartime([k as u64]) == Fr::ONE, r < k, "row {r}");
            }
        }
    }

    #[test]
    fn recovery_matrix_interpolates_any_k_rows() {
        let k = 4;
        let codec = ColumnCodec::new(k).expect("codec");
        let vals: Vec<Fr> = (0..k as u64).map(|i| Fr::from(100 + i)).collect();
        let mut all = vals.clone();
        all.extend(codec.extend_fr(&vals).expect("extend"));
        let known = [1, 4, 6, 7];
        let missing = [0, 2, 3, 5];
        let m = codec.recovery_matrix(&known, &missing).expect("matrix");
        for (row, &mi) in m.iter().zip(&missing) {
            let v = row
                .iter()
                .zip(&known)
                .fold(Fr::ZERO, |acc, (c, &j)| acc + *c * all[j]);
            assert_eq!(v, all[mi]);
        }
        assert!(codec.recovery_matrix(&known[..3], &missing).is_err());
        assert!(ColumnCodec::new(3).is_err());
        assert!(codec.extend_fr(&vals[..3]).is_err());
    }

    #[test]
    fn parity_row_cells_equal_the_column_extension() {
        let k = 4;
        let codec = ColumnCodec::new(k).expect("codec");
        // One cell column: 64 element positions, each extended on its own.
        let original: Vec<Vec<Fr>> = (0..k as u64)
            .map(|r| (0..64u64).map(|p| Fr::from(r * 1000 + p * 7 + 1)).collect())
            .collect();
        let mut bytes: Vec<Vec<u8>> = original
            .iter()
            .map(|c| {
                let mut b = Vec::new();
                frs_to_bytes(c, &mut b);
                b
            })
            .collect();
        // Row 2 is zero padding, given as `None`.
        bytes[2] = vec![0; BYTES_PER_CELL];
        let mut with_zero = original;
        with_zero[2] = vec![Fr::ZERO; 64];
        let parity: Vec<Vec<Fr>> = (0..64)
            .map(|p| {
                codec
                    .extend_fr(&with_zero.iter().map(|c| c[p]).collect::<Vec<_>>())
                    .expect("extend")
            })
            .collect();
        let column: Vec<Option<&[u8]>> = bytes
            .iter()
            .enumerate()
            .map(|(i, b)| (i != 2).then_some(&b[..]))
            .collect();
        for r in k..2 * k {
            let got = ParityRow::new(k, r)
                .expect("weights")
                .cell(&column)
                .expect("cell");
            let mut want = Vec::new();
            frs_to_bytes(
                &parity.iter().map(|e| e[r - k]).collect::<Vec<_>>(),
                &mut want,
            );
            assert_eq!(got, want, "row {r}");
        }
        assert!(ParityRow::new(k, 1).is_err());
        assert!(ParityRow::new(3, 4).is_err());
        let row = ParityRow::new(k, 5).expect("weights");
        assert!(row.cell(&column[..3]).is_err());
        let short = [None, Some(&[0u8; 5][..]), None, None];
        assert!(matches!(
            row.cell(&short),
            Err(ErasureError::Cell { row: 1, .. })
        ));
    }
}

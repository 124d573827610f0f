//! The extended square's field data and its iterative 2D repair.
//!
//! # Flow (`ExtendedData::encode`)
//! 1. Each of the `k` original rows is row-extended to 128 cells (rayon over rows).
//! 2. Each of the 8192 element positions is column-extended from `k` to `2k` rows (rayon over
//!    positions). Both maps are linear, so the order does not change the result.
//!
//! # Flow (`PartialData::repair`)
//! Repeat until complete: decode every row with at least 64 cells, then every column with at
//! least `k` cells; stop with [`ErasureError::Unrecoverable`] when a pass makes no progress.

use std::collections::HashMap;

use da_types::consts::{
    CELLS_PER_ROW, FIELD_ELEMENTS_PER_CELL, FIELD_ELEMENTS_PER_EXT_ROW, FIELD_ELEMENTS_PER_ROW,
    ORIGINAL_CELLS_PER_ROW,
};
use rayon::prelude::*;

use crate::{
    column::ColumnCodec,
    error::{ErasureError, Result},
    field::Fr,
    row::row_codec,
};

/// A repaired column: its index and the `(row, cell)` pairs it filled.
type RecoveredColumn = (usize, Vec<(usize, Vec<Fr>)>);

/// All `2k × 8192` field elements of an extended square, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtendedData {
    k: usize,
    data: Vec<Fr>,
}

impl ExtendedData {
    /// Extends `k` original rows (`k × 4096` elements, each row a blob in evaluation form).
    pub fn encode(codec: &ColumnCodec, original: &[Fr]) -> Result<Self> {
        let k = codec.k();
        if original.len() != k * FIELD_ELEMENTS_PER_ROW {
            return Err(ErasureError::WrongLength {
                what: "original rows",
                got: original.len(),
                expected: k * FIELD_ELEMENTS_PER_ROW,
            });
        }
        let rows: Vec<Vec<Fr>> = original
            .par_chunks(FIELD_ELEMENTS_PER_ROW)
            .map(|r| row_codec().extend(r))
            .collect::<Result<_>>()?;
        let mut data = Vec::with_capacity(2 * k * FIELD_ELEMENTS_PER_EXT_ROW);
        for r in &rows {
            data.extend_from_slice(r);
        }
        data.resize(2 * k * FIELD_ELEMENTS_PER_EXT_ROW, Fr::from(0u64));
        let mut sq = Self { k, data };
        sq.extend_columns(codec)?;
        Ok(sq)
    }

    /// Fills rows `k..2k` from rows `0..k`, position by position.
    fn extend_columns(&mut self, codec: &ColumnCodec) -> Result<()> {
        let k = self.k;
        let (orig, parity) = self.data.split_at_mut(k * FIELD_ELEMENTS_PER_EXT_ROW);
        let columns: Vec<Vec<Fr>> = (0..FIELD_ELEMENTS_PER_EXT_ROW)
            .into_par_iter()
            .map(|p| {
                let col: Vec<Fr> = (0..k)
                    .map(|r| orig[r * FIELD_ELEMENTS_PER_EXT_ROW + p])
                    .collect();
                codec.extend_fr(&col)
            })
            .collect::<Result<_>>()?;
        parity
            .par_chunks_mut(FIELD_ELEMENTS_PER_EXT_ROW)
            .enumerate()
            .for_each(|(i, row)| {
                for (p, v) in row.iter_mut().enumerate() {
                    *v = columns[p][i];
                }
            });
        Ok(())
    }

    /// Number of original rows.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Extended row `r` (8192 elements, 128 cells).
    pub fn row(&self, r: usize) -> &[Fr] {
        &self.data[r * FIELD_ELEMENTS_PER_EXT_ROW..(r + 1) * FIELD_ELEMENTS_PER_EXT_ROW]
    }

    /// Row `r` as a blob: its first 4096 elements (cells 0..64).
    pub fn row_blob(&self, r: usize) -> &[Fr] {
        &self.row(r)[..FIELD_ELEMENTS_PER_ROW]
    }

    /// Cell `(r, c)`: 64 elements.
    pub fn cell(&self, r: usize, c: usize) -> &[Fr] {
        let at = r * FIELD_ELEMENTS_PER_EXT_ROW + c * FIELD_ELEMENTS_PER_CELL;
        &self.data[at..at + FIELD_ELEMENTS_PER_CELL]
    }
}

/// An extended square with some cells missing, to be repaired.
#[derive(Clone, Debug)]
pub struct PartialData {
    k: usize,
    data: Vec<Fr>,
    present: Vec<bool>,
}

impl PartialData {
    /// An empty square of `k` original rows.
    pub fn new(k: usize) -> Result<Self> {
        da_types::layout::check_k(k)?;
        Ok(Self {
            k,
            data: vec![Fr::from(0u64); 2 * k * FIELD_ELEMENTS_PER_EXT_ROW],
            present: vec![false; 2 * k * CELLS_PER_ROW],
        })
    }

    /// Copies the cells of `full` for which `keep(row, col)` holds.
    pub fn from_extended(full: &ExtendedData, keep: impl Fn(usize, usize) -> bool) -> Self {
        let k = full.k;
        let mut present = vec![false; 2 * k * CELLS_PER_ROW];
        let mut data = vec![Fr::from(0u64); full.data.len()];
        for r in 0..2 * k {
            for c in 0..CELLS_PER_ROW {
                if keep(r, c) {
                    present[r * CELLS_PER_ROW + c] = true;
                    let at = r * FIELD_ELEMENTS_PER_EXT_ROW + c * FIELD_ELEMENTS_PER_CELL;
                    data[at..at + FIELD_ELEMENTS_PER_CELL]
                        .copy_from_slice(&full.data[at..at + FIELD_ELEMENTS_PER_CELL]);
                }
            }
        }
        Self { k, data, present }
    }

    /// Number of original rows.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Sets cell `(r, c)`.
    pub fn insert(&mut self, r: usize, c: usize, cell: &[Fr]) -> Result<()> {
        if r >= 2 * self.k || c >= CELLS_PER_ROW {
            return Err(da_types::Error::CellOutOfRange {
                row: r,
                col: c,
                rows: 2 * self.k,
                cols: CELLS_PER_ROW,
            }
            .into());
        }
        if cell.len() != FIELD_ELEMENTS_PER_CELL {
            return Err(ErasureError::WrongLength {
                what: "cell",
                got: cell.len(),
                expected: FIELD_ELEMENTS_PER_CELL,
            });
        }
        let at = r * FIELD_ELEMENTS_PER_EXT_ROW + c * FIELD_ELEMENTS_PER_CELL;
        self.data[at..at + FIELD_ELEMENTS_PER_CELL].copy_from_slice(cell);
        self.present[r * CELLS_PER_ROW + c] = true;
        Ok(())
    }

    /// Whether cell `(r, c)` is known.
    pub fn is_present(&self, r: usize, c: usize) -> bool {
        self.present[r * CELLS_PER_ROW + c]
    }

    /// Number of missing cells.
    pub fn missing(&self) -> usize {
        self.present.iter().filter(|p| !**p).count()
    }

    fn row_known(&self, r: usize) -> usize {
        self.present[r * CELLS_PER_ROW..(r + 1) * CELLS_PER_ROW]
            .iter()
            .filter(|p| **p)
            .count()
    }

    fn col_known_rows(&self, c: usize) -> Vec<usize> {
        (0..2 * self.k).filter(|r| self.is_present(*r, c)).collect()
    }

    /// Repairs every missing cell by iterative row and column decoding.
    pub fn repair(mut self, codec: &ColumnCodec) -> Result<ExtendedData> {
        if codec.k() != self.k {
            return Err(ErasureError::WrongLength {
                what: "column codec k",
                got: codec.k(),
                expected: self.k,
            });
        }
        loop {
            if self.missing() == 0 {
                return Ok(ExtendedData {
                    k: self.k,
                    data: self.data,
                });
            }
            let rows_done = self.repair_rows()?;
            let cols_done = self.repair_columns(codec)?;
            if rows_done + cols_done == 0 {
                return Err(self.stuck());
            }
        }
    }

    fn repair_rows(&mut self) -> Result<usize> {
        let todo: Vec<usize> = (0..2 * self.k)
            .filter(|r| (ORIGINAL_CELLS_PER_ROW..CELLS_PER_ROW).contains(&self.row_known(*r)))
            .collect();
        let recovered: Vec<(usize, Vec<Fr>)> = todo
            .par_iter()
            .map(|&r| {
                let row =
                    &self.data[r * FIELD_ELEMENTS_PER_EXT_ROW..][..FIELD_ELEMENTS_PER_EXT_ROW];
                let cells: Vec<Option<&[Fr]>> = (0..CELLS_PER_ROW)
                    .map(|c| {
                        self.is_present(r, c)
                            .then(|| &row[c * FIELD_ELEMENTS_PER_CELL..][..FIELD_ELEMENTS_PER_CELL])
                    })
                    .collect();
                row_codec().recover(&cells).map(|v| (r, v))
            })
            .collect::<Result<_>>()?;
        for (r, row) in &recovered {
            self.data[r * FIELD_ELEMENTS_PER_EXT_ROW..][..FIELD_ELEMENTS_PER_EXT_ROW]
                .copy_from_slice(row);
            self.present[r * CELLS_PER_ROW..(r + 1) * CELLS_PER_ROW].fill(true);
        }
        Ok(recovered.len())
    }

    fn repair_columns(&mut self, codec: &ColumnCodec) -> Result<usize> {
        let k = self.k;
        // Columns sharing an erasure pattern share one Lagrange matrix (whole rows lost is the
        // common case).
        let mut matrices: HashMap<Vec<usize>, Vec<Vec<Fr>>> = HashMap::new();
        let mut todo = Vec::new();
        for c in 0..CELLS_PER_ROW {
            let known = self.col_known_rows(c);
            if known.len() < k || known.len() == 2 * k {
                continue;
            }
            if !matrices.contains_key(&known) {
                let missing: Vec<usize> = (0..2 * k).filter(|r| !known.contains(r)).collect();
                let m = codec.recovery_matrix(&known[..k], &missing)?;
                matrices.insert(known.clone(), m);
            }
            todo.push((c, known));
        }
        let data = &self.data;
        let recovered: Vec<RecoveredColumn> =
            todo.par_iter()
                .map(|(c, known)| {
                    let matrix = &matrices[known];
                    let missing = (0..2 * k).filter(|r| !known.contains(r));
                    let cells = missing
                        .zip(matrix)
                        .map(|(m, coeffs)| {
                            let mut out = vec![Fr::from(0u64); FIELD_ELEMENTS_PER_CELL];
                            for (coef, &j) in coeffs.iter().zip(&known[..k]) {
                                let src = &data[j * FIELD_ELEMENTS_PER_EXT_ROW
                                    + c * FIELD_ELEMENTS_PER_CELL..][..FIELD_ELEMENTS_PER_CELL];
                                for (o, s) in out.iter_mut().zip(src) {
                                    *o += *coef * s;
                                }
                            }
                            (m, out)
                        })
                        .collect();
                    (*c, cells)
                })
                .collect();
        let n = recovered.len();
        for (c, cells) in recovered {
            for (r, cell) in cells {
                self.insert(r, c, &cell)?;
            }
        }
        Ok(n)
    }

    fn stuck(&self) -> ErasureError {
        let k = self.k;
        ErasureError::Unrecoverable {
            missing: self.missing(),
            stuck_rows: (0..2 * k)
                .filter(|r| self.row_known(*r) < ORIGINAL_CELLS_PER_ROW)
                .collect(),
            stuck_cols: (0..CELLS_PER_ROW)
                .filter(|c| self.col_known_rows(*c).len() < k)
                .collect(),
        }
    }
}

//! Parity-row cells, shared by every backend: a memory cache of the newest blocks' parity rows
//! (what the writer had in memory) and their recomputation from a column's `k` original cells,
//! `cell(r ≥ k, c) = Σ_i λ_{r,i}·cell(i, c)`. The arithmetic is the erasure layer's
//! ([`da_erasure::ParityRow`], bytes in, bytes out); this module caches its weights per `(k, r)`.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, PoisonError},
};

use da_erasure::{ErasureError, ParityRow};
use da_types::consts::CELLS_PER_ROW;

use super::{cell_key, corrupt, BlockData, Result};

/// Newest blocks whose parity rows stay in memory after their write: they are what light
/// clients sample and syncing full nodes fetch right after a block appears.
pub const PARITY_CACHE_BLOCKS: usize = 2;
/// Largest `k` whose parity rows are cached (`k × 128 × 2048` bytes: 16 MiB at 64, 64 MiB at
/// 128); parity cells of other blocks are recomputed from their column on every read.
pub const PARITY_CACHE_MAX_K: usize = 128;

/// Lagrange rows `λ_{r,·}` by `(k, r)`.
type LambdaCache = HashMap<(usize, usize), Arc<ParityRow>>;
/// Parity rows of recent blocks by height (`k × 128` cells each, row-major).
type ParityCache = VecDeque<(u64, Arc<Vec<Vec<u8>>>)>;

/// The parity-row cache and the recomputation of parity cells from their column.
#[derive(Default)]
pub struct ParityCells {
    lambdas: Mutex<LambdaCache>,
    rows: Mutex<ParityCache>,
}

impl std::fmt::Debug for ParityCells {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParityCells").finish_non_exhaustive()
    }
}

impl ParityCells {
    /// Keeps the parity rows of a block just written, if its writer had them.
    pub fn remember(&self, block: &BlockData) {
        let (h, k) = (block.height(), block.k());
        if k <= PARITY_CACHE_MAX_K && block.parity.len() == k * CELLS_PER_ROW {
            let mut cache = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
            cache.retain(|(x, _)| *x != h);
            cache.push_back((h, Arc::new(block.parity.clone())));
            while cache.len() > PARITY_CACHE_BLOCKS {
                cache.pop_front();
            }
        }
    }

    /// Forgets the cached rows of heights below `keep_from` (pruned).
    pub fn forget_below(&self, keep_from: u64) {
        self.rows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(h, _)| *h >= keep_from);
    }

    /// Whether the parity rows of `height` are cached.
    pub fn is_cached(&self, height: u64) -> bool {
        self.rows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|(h, _)| *h == height)
    }

    /// Parity cell `(row, col)` (`row ≥ k`) of `height` from the cache.
    pub fn cached(&self, height: u64, k: usize, row: usize, col: usize) -> Option<Vec<u8>> {
        let rows = {
            let cache = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
            cache.iter().find(|(h, _)| *h == height)?.1.clone()
        };
        rows.get(row.checked_sub(k)? * CELLS_PER_ROW + col).cloned()
    }

    /// Parity cell `(row, col)` (`row ≥ k`) of `height` from the column's `k` original cells
    /// (`None` for an unstored zero cell), each 2048 bytes.
    pub fn recompute(
        &self,
        height: u64,
        k: usize,
        row: usize,
        col: usize,
        column: Vec<Option<Vec<u8>>>,
    ) -> Result<Vec<u8>> {
        let lambda = self.lambda(k, row)?;
        let refs: Vec<Option<&[u8]>> = column.iter().map(Option::as_deref).collect();
        lambda.cell(&refs).map_err(|e| {
            let i = match &e {
                ErasureError::Cell { row: i, .. } => *i,
                _ => 0,
            };
            corrupt("cells", &cell_key(height, i, col), e.to_string())
        })
    }

    /// Lagrange weights giving parity row `row` from rows `0..k` (cached).
    fn lambda(&self, k: usize, row: usize) -> Result<Arc<ParityRow>> {
        let mut cache = self.lambdas.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(l) = cache.get(&(k, row)) {
            return Ok(l.clone());
        }
        let l =
            Arc::new(ParityRow::new(k, row).map_err(|e| corrupt("blocks", b"", e.to_string()))?);
        cache.insert((k, row), l.clone());
        Ok(l)
    }
}

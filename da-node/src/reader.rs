//! The read side for serving (gRPC and libp2p): a cloneable [`Reader`] over the store that
//! assembles proven cells, blobs and namespace proofs, and runs every read off the async
//! runtime ([`Reader::run`], on tokio's blocking pool). It owns nothing but a store handle.

use std::sync::Arc;

use da_kzg::{Cell, NamespaceProof, Proof, ProvenCell};
use da_types::{
    consts::PAYLOAD_BYTES_PER_CELL,
    layout::{index_cells, unpack_cell, CellIndex, IndexEntry},
    Namespace,
};

use crate::{
    error::{NodeError, Result},
    store::Store,
};

/// Reads of stored blocks for serving; cheap to clone.
#[derive(Clone, Debug)]
pub struct Reader {
    store: Arc<dyn Store>,
}

impl Reader {
    /// A reader over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The store (blocking reads).
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Runs blocking reads `f` on the blocking pool, never on a runtime thread.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Self) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || f(&me))
            .await
            .map_err(|e| NodeError::Internal(format!("read task failed: {e}")))?
    }

    /// `NotFound` for `height`, naming the stored range.
    pub fn not_stored(&self, height: u64) -> NodeError {
        let lowest = self.store.lowest().ok().flatten();
        let head = self.store.head().ok().flatten();
        NodeError::NotFound(format!(
            "height {height} is not stored (stored: {})",
            match (lowest, head) {
                (Some(l), Some(h)) => format!("{l}..={h}"),
                _ => "none yet".into(),
            }
        ))
    }

    /// `k` and the index of `height`, or `NotFound`.
    pub fn k_of(&self, height: u64) -> Result<(usize, Vec<IndexEntry>)> {
        self.store
            .block_index(height)?
            .ok_or_else(|| self.not_stored(height))
    }

    /// Cell `(row, col)` of `height` with its proof, read from the store.
    pub fn proven(&self, height: u64, k: usize, row: usize, col: usize) -> Result<ProvenCell> {
        let missing = || NodeError::Internal(format!("cell ({row}, {col}) of {height} missing"));
        let cell = self.store.cell(height, k, row, col)?.ok_or_else(missing)?;
        let proof = self.store.proof(height, row, col)?;
        Ok(ProvenCell {
            index: CellIndex {
                row: row as u32,
                col: col as u32,
            },
            cell: Cell::from_slice(&cell)?,
            proof: Proof(proof),
        })
    }

    /// Original cells by number (`CellIndex::of_original`) with their proofs.
    pub fn original_cells(
        &self,
        height: u64,
        k: usize,
        cells: impl IntoIterator<Item = usize>,
    ) -> Result<Vec<ProvenCell>> {
        cells
            .into_iter()
            .map(|n| {
                let p = CellIndex::of_original(n);
                self.proven(height, k, p.row as usize, p.col as usize)
            })
            .collect()
    }

    /// The bytes of the blob `e` of `height`.
    pub fn blob_bytes(&self, height: u64, k: usize, e: &IndexEntry) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(e.cells().len() * PAYLOAD_BYTES_PER_CELL);
        for c in self.original_cells(height, k, e.cells())? {
            unpack_cell(c.cell.as_bytes(), &mut out)?;
        }
        out.truncate(e.len as usize);
        Ok(out)
    }

    /// Every blob of `height` in square order (what a block's body holds), or `NotFound`.
    pub fn blobs(&self, height: u64) -> Result<Vec<da_types::Blob>> {
        let (k, index) = self.k_of(height)?;
        index
            .iter()
            .map(|e| {
                Ok(da_types::Blob::new(
                    e.namespace,
                    self.blob_bytes(height, k, e)?,
                )?)
            })
            .collect()
    }

    /// The completeness proof of `namespace` at `height` with the block's `k` and index, or
    /// `None` when the block is not stored.
    pub fn namespace_proof(
        &self,
        height: u64,
        namespace: &Namespace,
    ) -> Result<Option<(usize, Vec<IndexEntry>, NamespaceProof)>> {
        let Some((k, index)) = self.store.block_index(height)? else {
            return Ok(None);
        };
        let mine = index
            .iter()
            .filter(|e| e.namespace == *namespace)
            .flat_map(|e| e.cells());
        let proof = NamespaceProof {
            index_cells: self.original_cells(height, k, 0..index_cells(index.len()))?,
            blob_cells: self.original_cells(height, k, mine)?,
        };
        Ok(Some((k, index, proof)))
    }
}

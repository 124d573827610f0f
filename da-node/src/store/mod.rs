//! Block storage (`specs/07-storage.md`): the [`Store`] trait, what a block adds to it
//! ([`BlockData`]) and two backends with the same semantics: [`RocksStore`] (embedded RocksDB,
//! what nodes run) and [`MemoryStore`] (in memory, for tests and tools).
//!
//! This module owns the storage contract and the helpers both backends share (keys' height
//! prefix, blob keccaks, the parity-row cache and recomputation in [`parity`]); it knows nothing
//! of the network, the API or block production.
//!
//! # Format
//! A RocksDB store records its format version under `meta/format` ([`FORMAT_VERSION`], 2:
//! headers stored as `CertifiedHeader::to_bytes()`). Opening a store of another format fails
//! with [`StoreError::Format`] and touches nothing; a store holding blocks but no version is
//! format 1 (ed25519-signed headers).
//!
//! # Guarantees every backend gives
//! - [`Store::put_block`] is atomic: after a crash or an error a block is stored whole or not at
//!   all, with its blob-id and keccak lookups, the removal of its blobs from the persisted
//!   mempool, and the new head.
//! - Parity-row cells are never stored: they come from the write-time cache of the newest blocks
//!   or are recomputed from their column ([`parity`]), so both backends return the same bytes.
//! - A stored block's unstored original cell reads as zeros and its unstored row of proofs as
//!   the G1 identity (the padding that rounds `k` up).
//! - [`Store::prune_below`] drops whole heights, moves `lowest` up and keeps a keccak record that
//!   points at a newer block.

use da_types::{
    consts::{BYTES_PER_G1, CELLS_PER_ROW, PAYLOAD_BYTES_PER_CELL},
    layout::{unpack_cell, IndexEntry},
    Blob, BlobId, CellIndex, CertifiedHeader,
};
use sha3::{Digest, Keccak256};

pub use crate::error::StoreError;

mod memory;
pub mod parity;
mod rocks;
#[cfg(test)]
pub(crate) mod tests;

pub use memory::MemoryStore;
pub use parity::{PARITY_CACHE_BLOCKS, PARITY_CACHE_MAX_K};
pub use rocks::RocksStore;

/// Result with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The storage format this node reads and writes: 2, certified headers
/// (`CertifiedHeader::to_bytes()`). Format 1 held ed25519-signed v1 headers and had no version
/// record.
pub const FORMAT_VERSION: u32 = 2;

/// The compressed identity of G1: the proof of every cell of an all-zero row.
pub const G1_IDENTITY: [u8; BYTES_PER_G1] = {
    let mut p = [0u8; BYTES_PER_G1];
    p[0] = 0xc0;
    p
};

/// The node's block storage. Implementations are shared between threads (`Arc<dyn Store>`);
/// every method blocks, so async callers run them off the runtime (`spawn_blocking`).
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// Writes a whole block atomically and makes it the head.
    fn put_block(&self, block: &BlockData) -> Result<()>;
    /// The highest stored height.
    fn head(&self) -> Result<Option<u64>>;
    /// The lowest height still stored (pruning moves it up).
    fn lowest(&self) -> Result<Option<u64>>;
    /// The certified header at `height`.
    fn header(&self, height: u64) -> Result<Option<CertifiedHeader>>;
    /// The stored bytes of the header at `height` (`CertifiedHeader::to_bytes()`), for serving
    /// without decoding.
    fn header_bytes(&self, height: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.header(height)?.map(|h| h.to_bytes()))
    }
    /// `k` and the index of the block at `height`.
    fn block_index(&self, height: u64) -> Result<Option<(usize, Vec<IndexEntry>)>>;
    /// The bytes of cell `(row, col)` of the stored block at `height` with `k` original rows
    /// (the caller has checked the block is stored); parity rows are recomputed from their
    /// column, and unstored original cells are the zero padding.
    fn cell(&self, height: u64, k: usize, row: usize, col: usize) -> Result<Option<Vec<u8>>>;
    /// The proof of cell `(row, col)` of the stored block at `height` (the caller has checked
    /// the block is stored; an unstored row of proofs is a padding row's identities).
    fn proof(&self, height: u64, row: usize, col: usize) -> Result<[u8; BYTES_PER_G1]>;
    /// The height that includes a blob, if stored.
    fn blob_height(&self, id: &BlobId) -> Result<Option<u64>>;
    /// The newest stored blob whose data hashes to `hash` (keccak-256): `(height, id)`.
    fn blob_by_keccak(&self, hash: &[u8; 32]) -> Result<Option<(u64, BlobId)>>;
    /// Persists a pending blob (before it is acknowledged).
    fn mempool_put(&self, blob: &Blob) -> Result<()>;
    /// Every persisted pending blob (after a restart), by id.
    fn mempool_all(&self) -> Result<Vec<Blob>>;
    /// Records the consensus engine's commit signatures of a stored height (what value sync
    /// serves to validators that fall behind); pruned with the height.
    fn put_commit(&self, height: u64, commit: &[u8]) -> Result<()>;
    /// The commit signatures of `height`, if recorded.
    fn commit(&self, height: u64) -> Result<Option<Vec<u8>>>;
    /// Deletes every height below `keep_from` (one atomic step) and moves the lowest height up.
    /// Returns how many heights were dropped.
    fn prune_below(&self, keep_from: u64) -> Result<usize>;
    /// Approximate bytes held, over all tables.
    fn storage_bytes(&self) -> u64 {
        self.storage_bytes_by_cf().iter().map(|(_, b)| b).sum()
    }
    /// Approximate bytes held per table (RocksDB column family).
    fn storage_bytes_by_cf(&self) -> Vec<(&'static str, u64)>;
    /// Makes deletions take effect on disk (no-op in memory).
    fn compact(&self) -> Result<()> {
        Ok(())
    }
    /// Flushes buffered writes (for accurate size measurements; no-op in memory).
    fn flush(&self) -> Result<()> {
        Ok(())
    }
}

/// Everything a block adds to the store.
#[derive(Clone, Debug)]
pub struct BlockData {
    /// The certified header.
    pub header: CertifiedHeader,
    /// The square index.
    pub index: Vec<IndexEntry>,
    /// The 128 cells of each original row, row-major (`k × 128` cells of 2048 bytes).
    pub cells: Vec<Vec<u8>>,
    /// The proofs of all `2k × 128` cells, row-major.
    pub proofs: Vec<[u8; BYTES_PER_G1]>,
    /// The cells of parity rows `k..2k` (row-major) when the writer has them in memory, else
    /// empty. Never stored (they are recomputed from columns); kept in a memory cache for the
    /// newest blocks so serving them costs nothing.
    pub parity: Vec<Vec<u8>>,
}

impl BlockData {
    /// Collects what the store keeps of a proven square.
    pub fn from_square(
        header: CertifiedHeader,
        index: Vec<IndexEntry>,
        square: &da_kzg::ExtendedSquare,
    ) -> Self {
        let k = square.k();
        Self {
            header,
            index,
            cells: (0..k)
                .flat_map(|r| (0..CELLS_PER_ROW).map(move |c| (r, c)))
                .map(|(r, c)| square.committed().cell(r, c).as_bytes().to_vec())
                .collect(),
            proofs: square.proofs().iter().map(|p| p.0).collect(),
            parity: (k..2 * k)
                .flat_map(|r| (0..CELLS_PER_ROW).map(move |c| (r, c)))
                .map(|(r, c)| square.committed().cell(r, c).as_bytes().to_vec())
                .collect(),
        }
    }

    /// The block's height.
    pub fn height(&self) -> u64 {
        self.header.height()
    }

    /// The block's `k`.
    pub fn k(&self) -> usize {
        usize::from(self.header.block.k)
    }
}

/// A height as a big-endian key prefix (keys sort numerically).
pub(crate) fn h8(height: u64) -> [u8; 8] {
    height.to_be_bytes()
}

/// Key of cell `(row, col)` of `height`: `height ‖ u16 row ‖ u8 col`.
pub(crate) fn cell_key(height: u64, row: usize, col: usize) -> [u8; 11] {
    let mut k = [0u8; 11];
    k[..8].copy_from_slice(&h8(height));
    k[8..10].copy_from_slice(&(row as u16).to_be_bytes());
    k[10] = col as u8;
    k
}

/// A corruption error for the record `key` of table `cf`.
pub(crate) fn corrupt(cf: &'static str, key: &[u8], why: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        cf,
        key: hex::encode(key),
        why: why.into(),
    }
}

/// `keccak256` of each blob's bytes, in index order, from the block's original cells.
pub(crate) fn blob_keccaks(block: &BlockData) -> Result<Vec<[u8; 32]>> {
    let k = block.k();
    let bad = |why: String| corrupt("blocks", &h8(block.height()), why);
    block
        .index
        .iter()
        .map(|e| {
            let mut data = Vec::with_capacity(e.cells().len() * PAYLOAD_BYTES_PER_CELL);
            for n in e.cells() {
                let c = CellIndex::of_original(n);
                let cell = block
                    .cells
                    .get(c.row as usize * CELLS_PER_ROW + c.col as usize)
                    .filter(|_| (c.row as usize) < k)
                    .ok_or_else(|| bad(format!("blob {} runs past the square", e.blob_id)))?;
                unpack_cell(cell, &mut data).map_err(|e| bad(e.to_string()))?;
            }
            data.truncate(e.len as usize);
            Ok(Keccak256::digest(&data).into())
        })
        .collect()
}

//! The in-memory backend of [`Store`]: the same contract as [`super::RocksStore`] (atomic
//! per-block writes, head and lowest, pruning, mempool persistence for the life of the value,
//! blob-id and keccak lookups, parity cells from the same cache and recomputation), for tests
//! and tools. It owns one state behind a lock: a block becomes visible whole, under one write.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard},
};

use da_types::{
    consts::{BYTES_PER_CELL, BYTES_PER_G1, CELLS_PER_ROW},
    layout::IndexEntry,
    Blob, BlobId, CertifiedHeader,
};

use super::{blob_keccaks, parity::ParityCells, BlockData, Result, Store, G1_IDENTITY};

/// A stored block's index with its blobs' keccaks (for pruning the keccak records).
#[derive(Debug)]
struct Block {
    k: usize,
    index: Vec<IndexEntry>,
    keccaks: Vec<[u8; 32]>,
}

#[derive(Debug, Default)]
struct State {
    headers: BTreeMap<u64, CertifiedHeader>,
    blocks: BTreeMap<u64, Block>,
    /// Non-zero original cells by `(height, row, col)`.
    cells: BTreeMap<(u64, usize, usize), Vec<u8>>,
    /// Rows of proofs that are not all identities, by `(height, row)`.
    proofs: BTreeMap<(u64, usize), Vec<[u8; BYTES_PER_G1]>>,
    blobs: HashMap<BlobId, u64>,
    keccaks: HashMap<[u8; 32], (u64, BlobId)>,
    /// Pending blobs by id bytes (the order RocksDB iterates them in).
    mempool: BTreeMap<[u8; 32], Blob>,
    /// Commit signatures by height.
    commits: BTreeMap<u64, Vec<u8>>,
    head: Option<u64>,
    lowest: Option<u64>,
}

/// A [`Store`] held in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<State>,
    parity: ParityCells,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Store for MemoryStore {
    fn put_block(&self, block: &BlockData) -> Result<()> {
        let (h, k) = (block.height(), block.k());
        // Everything that can fail happens before the state is touched: the write is atomic.
        let keccaks = blob_keccaks(block)?;
        let cells: Vec<_> = block
            .cells
            .iter()
            .enumerate()
            .filter(|(_, c)| c.iter().any(|b| *b != 0))
            .map(|(i, c)| ((h, i / CELLS_PER_ROW, i % CELLS_PER_ROW), c.clone()))
            .collect();
        let proofs: Vec<_> = block
            .proofs
            .chunks(CELLS_PER_ROW)
            .enumerate()
            .filter(|(_, row)| row.iter().any(|p| *p != G1_IDENTITY))
            .map(|(r, row)| ((h, r), row.to_vec()))
            .collect();
        {
            let mut s = self.write();
            s.headers.insert(h, block.header.clone());
            s.cells.extend(cells);
            s.proofs.extend(proofs);
            for (e, kh) in block.index.iter().zip(&keccaks) {
                s.blobs.insert(e.blob_id, h);
                s.keccaks.insert(*kh, (h, e.blob_id));
                s.mempool.remove(&e.blob_id.0);
            }
            s.blocks.insert(
                h,
                Block {
                    k,
                    index: block.index.clone(),
                    keccaks,
                },
            );
            s.head = Some(h);
            if s.lowest.is_none() {
                s.lowest = Some(h);
            }
        }
        self.parity.remember(block);
        Ok(())
    }

    fn head(&self) -> Result<Option<u64>> {
        Ok(self.read().head)
    }

    fn lowest(&self) -> Result<Option<u64>> {
        Ok(self.read().lowest)
    }

    fn header(&self, height: u64) -> Result<Option<CertifiedHeader>> {
        Ok(self.read().headers.get(&height).cloned())
    }

    fn block_index(&self, height: u64) -> Result<Option<(usize, Vec<IndexEntry>)>> {
        Ok(self
            .read()
            .blocks
            .get(&height)
            .map(|b| (b.k, b.index.clone())))
    }

    fn cell(&self, height: u64, k: usize, row: usize, col: usize) -> Result<Option<Vec<u8>>> {
        let zero = || vec![0u8; BYTES_PER_CELL];
        if row < k {
            let s = self.read();
            return Ok(Some(
                s.cells
                    .get(&(height, row, col))
                    .cloned()
                    .unwrap_or_else(zero),
            ));
        }
        if let Some(c) = self.parity.cached(height, k, row, col) {
            return Ok(Some(c));
        }
        let column = {
            let s = self.read();
            (0..k)
                .map(|i| s.cells.get(&(height, i, col)).cloned())
                .collect()
        };
        self.parity.recompute(height, k, row, col, column).map(Some)
    }

    fn proof(&self, height: u64, row: usize, col: usize) -> Result<[u8; BYTES_PER_G1]> {
        let s = self.read();
        let Some(v) = s.proofs.get(&(height, row)) else {
            return Ok(G1_IDENTITY);
        };
        v.get(col).copied().ok_or_else(|| {
            super::corrupt(
                "proofs",
                &super::cell_key(height, row, col),
                "short row of proofs",
            )
        })
    }

    fn blob_height(&self, id: &BlobId) -> Result<Option<u64>> {
        Ok(self.read().blobs.get(id).copied())
    }

    fn blob_by_keccak(&self, hash: &[u8; 32]) -> Result<Option<(u64, BlobId)>> {
        Ok(self.read().keccaks.get(hash).copied())
    }

    fn mempool_put(&self, blob: &Blob) -> Result<()> {
        self.write().mempool.insert(blob.id().0, blob.clone());
        Ok(())
    }

    fn mempool_all(&self) -> Result<Vec<Blob>> {
        Ok(self.read().mempool.values().cloned().collect())
    }

    fn put_commit(&self, height: u64, commit: &[u8]) -> Result<()> {
        self.write().commits.insert(height, commit.to_vec());
        Ok(())
    }

    fn commit(&self, height: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.read().commits.get(&height).cloned())
    }

    fn prune_below(&self, keep_from: u64) -> Result<usize> {
        let mut s = self.write();
        let Some(lowest) = s.lowest else {
            return Ok(0);
        };
        if keep_from <= lowest {
            return Ok(0);
        }
        let kept = s.blocks.split_off(&keep_from);
        let dropped = std::mem::replace(&mut s.blocks, kept);
        for b in dropped.values() {
            for e in &b.index {
                s.blobs.remove(&e.blob_id);
            }
            for kh in &b.keccaks {
                // The same bytes may be in a newer block (another namespace): keep that record.
                if matches!(s.keccaks.get(kh), Some((at, _)) if *at < keep_from) {
                    s.keccaks.remove(kh);
                }
            }
        }
        s.headers = s.headers.split_off(&keep_from);
        s.commits = s.commits.split_off(&keep_from);
        s.cells = s.cells.split_off(&(keep_from, 0, 0));
        s.proofs = s.proofs.split_off(&(keep_from, 0));
        s.lowest = Some(keep_from);
        drop(s);
        self.parity.forget_below(keep_from);
        Ok((keep_from - lowest) as usize)
    }

    fn storage_bytes_by_cf(&self) -> Vec<(&'static str, u64)> {
        let s = self.read();
        let sum = |n: usize| n as u64;
        vec![
            (
                "headers",
                sum(s.headers.values().map(|h| h.to_bytes().len()).sum()),
            ),
            (
                "cells",
                sum(s.cells.values().map(Vec::len).sum::<usize>() + s.cells.len() * 11),
            ),
            (
                "proofs",
                sum(s.proofs.values().map(|r| r.len() * BYTES_PER_G1).sum()),
            ),
            (
                "mempool",
                sum(s.mempool.values().map(|b| b.data().len() + 29).sum()),
            ),
        ]
    }
}

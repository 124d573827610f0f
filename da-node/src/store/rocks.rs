//! The RocksDB backend of [`Store`] (`specs/07-storage.md`): owns the database handle and the
//! on-disk encoding (column families, packed cells, elided padding).
//!
//! # Format
//! `meta/format` holds [`FORMAT_VERSION`] (`u32_be`), written when an empty database is first
//! opened. [`RocksStore::open`] refuses a database of another format ([`StoreError::Format`]),
//! and one that holds blocks without a version record (format 1, ed25519 headers, which a v2
//! header decoder must never be pointed at).
//!
//! # What is stored
//! Per block, in **one atomic write batch**: the certified header (`CertifiedHeader::to_bytes()`); the block's index; the 128 cells
//! of each *original* row; the 128 proofs of every one of the `2k` rows; the blob-id and keccak
//! lookups; the new head; and the removal of the included blobs from the persisted mempool.
//! Nothing that is cheaper to recompute than to read is stored:
//! - cells of parity rows: `cell(r ≥ k, c) = Σ_i λ_{r,i} cell(i, c)` from the `k` stored cells
//!   of its column (`k` point reads and `64k` multiply-adds);
//! - the zero top byte of each element of a data cell (stored packed, 1984 bytes);
//! - all-zero cells and all-identity rows of proofs (the padding that rounds `k` up);
//!
//! which keeps storage at ~2.12 bytes per payload byte instead of ~4.3.
//!
//! A crash at any point leaves either the whole block or none of it; restart resumes from the
//! stored head.

use std::path::Path;

use da_types::{
    consts::{BYTES_PER_CELL, BYTES_PER_G1, CELLS_PER_ROW},
    layout::{check_entries, IndexEntry, INDEX_ENTRY_SIZE},
    Blob, BlobId, CertifiedHeader, Namespace,
};
use rocksdb::{ColumnFamilyDescriptor, Options, WriteBatch, DB};

use super::{
    blob_keccaks, cell_key, corrupt, h8, parity::ParityCells, BlockData, Result, Store, StoreError,
    FORMAT_VERSION, G1_IDENTITY,
};

const CF_HEADERS: &str = "headers";
const CF_BLOCKS: &str = "blocks";
const CF_CELLS: &str = "cells";
const CF_PROOFS: &str = "proofs";
const CF_BLOBS: &str = "blobs";
const CF_MEMPOOL: &str = "mempool";
const CF_META: &str = "meta";
const ALL_CFS: [&str; 7] = [
    CF_HEADERS, CF_BLOCKS, CF_CELLS, CF_PROOFS, CF_BLOBS, CF_MEMPOOL, CF_META,
];
/// Prefix of `keccak256(data) → height ‖ blob id` keys in the blobs CF (33 bytes, so they never
/// collide with the 32-byte blob-id keys).
const KECCAK_PREFIX: u8 = b'k';
/// Suffix of a height's commit-signature record in the blocks CF.
const COMMIT_PREFIX: u8 = b'c';
const KEY_HEAD: &[u8] = b"head";
/// Key of the format version in the meta CF.
const KEY_FORMAT: &[u8] = b"format";
/// A cell whose 64 elements all have a zero top byte (every data cell) is stored packed: the 31
/// low bytes of each element, 1984 bytes.
const PACKED_CELL: usize = BYTES_PER_CELL / 32 * 31;

/// The stored form of a cell: packed when every element's top byte is zero.
fn pack_for_store(cell: &[u8]) -> Vec<u8> {
    if cell.chunks(32).all(|e| e[0] == 0) {
        cell.chunks(32).flat_map(|e| &e[1..]).copied().collect()
    } else {
        cell.to_vec()
    }
}

/// A stored cell back as its 2048 bytes.
fn unpack_from_store(key: &[u8], v: Vec<u8>) -> Result<Vec<u8>> {
    match v.len() {
        BYTES_PER_CELL => Ok(v),
        PACKED_CELL => Ok(v
            .chunks(31)
            .flat_map(|e| std::iter::once(0u8).chain(e.iter().copied()))
            .collect()),
        n => Err(corrupt(
            CF_CELLS,
            key,
            format!("cell record is {n} bytes (expected {BYTES_PER_CELL} or {PACKED_CELL})"),
        )),
    }
}
const KEY_LOWEST: &[u8] = b"lowest";

/// The node's database (embedded RocksDB).
pub struct RocksStore {
    db: DB,
    parity: ParityCells,
}

impl std::fmt::Debug for RocksStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

fn row_key(height: u64, row: usize) -> [u8; 10] {
    let mut k = [0u8; 10];
    k[..8].copy_from_slice(&h8(height));
    k[8..10].copy_from_slice(&(row as u16).to_be_bytes());
    k
}

fn keccak_key(hash: &[u8; 32]) -> [u8; 33] {
    let mut k = [KECCAK_PREFIX; 33];
    k[1..].copy_from_slice(hash);
    k
}

/// Key of a block's list of blob keccaks in the blocks CF (`h8 ‖ 'k'`, inside the height range).
fn block_keccaks_key(height: u64) -> [u8; 9] {
    let mut k = [KECCAK_PREFIX; 9];
    k[..8].copy_from_slice(&h8(height));
    k
}

/// Key of a height's commit signatures in the blocks CF: `h8 ‖ 'c'` (pruned with the height's
/// range).
fn commit_key(height: u64) -> [u8; 9] {
    let mut k = [COMMIT_PREFIX; 9];
    k[..8].copy_from_slice(&h8(height));
    k
}

fn u64_of(cf: &'static str, key: &[u8], v: &[u8]) -> Result<u64> {
    let arr: [u8; 8] = v.try_into().map_err(|_| corrupt(cf, key, "not 8 bytes"))?;
    Ok(u64::from_be_bytes(arr))
}

impl RocksStore {
    /// Opens (creating if needed) the database under `path` and checks its format: an empty
    /// database is marked [`FORMAT_VERSION`]; one of another format is refused
    /// ([`StoreError::Format`]) before anything is read from it.
    pub fn open(path: &Path) -> Result<Self> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
        // Open every column family the database has (a newer format may have more), so the
        // format record is reached and reported instead of an opening error.
        let mut names: Vec<String> = ALL_CFS.iter().map(|n| (*n).to_string()).collect();
        for n in DB::list_cf(&opts, path).unwrap_or_default() {
            if !names.contains(&n) && n != rocksdb::DEFAULT_COLUMN_FAMILY_NAME {
                names.push(n);
            }
        }
        let cfs = names
            .iter()
            .map(|n| ColumnFamilyDescriptor::new(n, Options::default()));
        let db = DB::open_cf_descriptors(&opts, path, cfs)?;
        let store = Self {
            db,
            parity: ParityCells::default(),
        };
        store.check_format(path)?;
        Ok(store)
    }

    /// The format check of [`open`](Self::open).
    fn check_format(&self, path: &Path) -> Result<()> {
        let refuse = |found| StoreError::Format {
            path: path.display().to_string(),
            found,
            expected: FORMAT_VERSION,
        };
        match self.get(CF_META, KEY_FORMAT)? {
            Some(v) => {
                let found = <[u8; 4]>::try_from(v.as_slice())
                    .map(u32::from_be_bytes)
                    .map_err(|_| corrupt(CF_META, KEY_FORMAT, "format record is not 4 bytes"))?;
                if found != FORMAT_VERSION {
                    return Err(refuse(found));
                }
            }
            None => {
                // Format 1 had no version record: a database with blocks and none is format 1.
                let headers = self.cf(CF_HEADERS)?;
                let any_header = self
                    .db
                    .iterator_cf(headers, rocksdb::IteratorMode::Start)
                    .next()
                    .transpose()?
                    .is_some();
                if any_header || self.get(CF_META, KEY_HEAD)?.is_some() {
                    return Err(refuse(1));
                }
                self.db
                    .put_cf(self.cf(CF_META)?, KEY_FORMAT, FORMAT_VERSION.to_be_bytes())?;
            }
        }
        Ok(())
    }

    fn cf(&self, name: &'static str) -> Result<&rocksdb::ColumnFamily> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| corrupt(name, b"", "column family missing"))
    }

    fn get(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get_cf(self.cf(cf)?, key)?)
    }
}

impl Store for RocksStore {
    /// Writes a whole block atomically and makes it the head.
    fn put_block(&self, block: &BlockData) -> Result<()> {
        let h = block.height();
        let k = block.k();
        let mut b = WriteBatch::default();
        b.put_cf(self.cf(CF_HEADERS)?, h8(h), block.header.to_bytes());
        let mut idx = Vec::with_capacity(2 + block.index.len() * INDEX_ENTRY_SIZE);
        idx.extend_from_slice(&(k as u16).to_be_bytes());
        for e in &block.index {
            e.encode(&mut idx);
        }
        b.put_cf(self.cf(CF_BLOCKS)?, h8(h), idx);
        let cells = self.cf(CF_CELLS)?;
        for (i, cell) in block.cells.iter().enumerate() {
            // All-zero cells (the padding that rounds k up to a power of two) are not stored; a
            // stored block's missing cell reads as zeros.
            if cell.iter().any(|b| *b != 0) {
                b.put_cf(
                    cells,
                    cell_key(h, i / CELLS_PER_ROW, i % CELLS_PER_ROW),
                    pack_for_store(cell),
                );
            }
        }
        let proofs = self.cf(CF_PROOFS)?;
        for (r, row) in block.proofs.chunks(CELLS_PER_ROW).enumerate() {
            // Rows of identity proofs (all-zero padding rows) are not stored either.
            if row.iter().any(|p| *p != G1_IDENTITY) {
                b.put_cf(proofs, row_key(h, r), row.concat());
            }
        }
        let blobs = self.cf(CF_BLOBS)?;
        let mempool = self.cf(CF_MEMPOOL)?;
        let keccaks = blob_keccaks(block)?;
        for (e, kh) in block.index.iter().zip(&keccaks) {
            b.put_cf(blobs, e.blob_id.0, h8(h));
            let mut v = h8(h).to_vec();
            v.extend_from_slice(&e.blob_id.0);
            b.put_cf(blobs, keccak_key(kh), v);
            b.delete_cf(mempool, e.blob_id.0);
        }
        b.put_cf(self.cf(CF_BLOCKS)?, block_keccaks_key(h), keccaks.concat());
        let meta = self.cf(CF_META)?;
        b.put_cf(meta, KEY_HEAD, h8(h));
        if self.lowest()?.is_none() {
            b.put_cf(meta, KEY_LOWEST, h8(h));
        }
        self.db.write(b)?;
        self.parity.remember(block);
        Ok(())
    }

    /// The highest stored height.
    fn head(&self) -> Result<Option<u64>> {
        self.get(CF_META, KEY_HEAD)?
            .map(|v| u64_of(CF_META, KEY_HEAD, &v))
            .transpose()
    }

    /// The lowest height still stored (pruning moves it up).
    fn lowest(&self) -> Result<Option<u64>> {
        self.get(CF_META, KEY_LOWEST)?
            .map(|v| u64_of(CF_META, KEY_LOWEST, &v))
            .transpose()
    }

    /// The certified header at `height`.
    fn header(&self, height: u64) -> Result<Option<CertifiedHeader>> {
        self.get(CF_HEADERS, &h8(height))?
            .map(|v| {
                CertifiedHeader::from_bytes(&v)
                    .map_err(|e| corrupt(CF_HEADERS, &h8(height), e.to_string()))
            })
            .transpose()
    }

    /// The stored bytes of the header at `height`, as written (`CertifiedHeader::to_bytes()`).
    fn header_bytes(&self, height: u64) -> Result<Option<Vec<u8>>> {
        self.get(CF_HEADERS, &h8(height))
    }

    /// `k` and the index of the block at `height`.
    fn block_index(&self, height: u64) -> Result<Option<(usize, Vec<IndexEntry>)>> {
        let key = h8(height);
        let Some(v) = self.get(CF_BLOCKS, &key)? else {
            return Ok(None);
        };
        if v.len() < 2 || (v.len() - 2) % INDEX_ENTRY_SIZE != 0 {
            return Err(corrupt(CF_BLOCKS, &key, "bad length"));
        }
        let k = u16::from_be_bytes([v[0], v[1]]) as usize;
        let entries = v[2..]
            .chunks(INDEX_ENTRY_SIZE)
            .map(IndexEntry::decode)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| corrupt(CF_BLOCKS, &key, e.to_string()))?;
        check_entries(&entries, k).map_err(|e| corrupt(CF_BLOCKS, &key, e.to_string()))?;
        Ok(Some((k, entries)))
    }

    /// The proof of cell `(row, col)` of the stored block at `height` (the caller has checked
    /// the block is stored; an unstored row of proofs is a padding row's identities).
    fn proof(&self, height: u64, row: usize, col: usize) -> Result<[u8; BYTES_PER_G1]> {
        let key = row_key(height, row);
        let Some(v) = self.get(CF_PROOFS, &key)? else {
            return Ok(G1_IDENTITY);
        };
        let at = col * BYTES_PER_G1;
        let p = v
            .get(at..at + BYTES_PER_G1)
            .ok_or_else(|| corrupt(CF_PROOFS, &key, "short row of proofs"))?;
        let mut out = [0u8; BYTES_PER_G1];
        out.copy_from_slice(p);
        Ok(out)
    }

    /// The bytes of cell `(row, col)` of the stored block at `height` with `k` original rows
    /// (the caller has checked the block is stored); parity rows are recomputed from their
    /// column, and unstored original cells are the zero padding.
    fn cell(&self, height: u64, k: usize, row: usize, col: usize) -> Result<Option<Vec<u8>>> {
        if row < k {
            let key = cell_key(height, row, col);
            return Ok(Some(match self.get(CF_CELLS, &key)? {
                Some(v) => unpack_from_store(&key, v)?,
                None => vec![0u8; BYTES_PER_CELL],
            }));
        }
        if let Some(c) = self.parity.cached(height, k, row, col) {
            return Ok(Some(c));
        }
        let keys: Vec<[u8; 11]> = (0..k).map(|i| cell_key(height, i, col)).collect();
        let cf = self.cf(CF_CELLS)?;
        let column = self
            .db
            .multi_get_cf(keys.iter().map(|key| (cf, &key[..])))
            .into_iter()
            .zip(&keys)
            .map(|(got, key)| got?.map(|v| unpack_from_store(key, v)).transpose())
            .collect::<Result<Vec<_>>>()?;
        self.parity.recompute(height, k, row, col, column).map(Some)
    }

    /// The height that includes a blob, if stored.
    fn blob_height(&self, id: &BlobId) -> Result<Option<u64>> {
        self.get(CF_BLOBS, &id.0)?
            .map(|v| u64_of(CF_BLOBS, &id.0, &v))
            .transpose()
    }

    /// Persists a pending blob (before it is acknowledged).
    fn mempool_put(&self, blob: &Blob) -> Result<()> {
        let mut v = blob.namespace().as_bytes().to_vec();
        v.extend_from_slice(blob.data());
        self.db.put_cf(self.cf(CF_MEMPOOL)?, blob.id().0, v)?;
        Ok(())
    }

    /// Every persisted pending blob (after a restart).
    fn mempool_all(&self) -> Result<Vec<Blob>> {
        let cf = self.cf(CF_MEMPOOL)?;
        let mut out = Vec::new();
        for item in self.db.iterator_cf(cf, rocksdb::IteratorMode::Start) {
            let (k, v) = item?;
            let ns = Namespace::from_raw(v.get(..29).unwrap_or_default())
                .map_err(|e| corrupt(CF_MEMPOOL, &k, e.to_string()))?;
            let blob = Blob::new(ns, v[29..].to_vec())
                .map_err(|e| corrupt(CF_MEMPOOL, &k, e.to_string()))?;
            out.push(blob);
        }
        Ok(out)
    }

    /// The newest stored blob whose data hashes to `hash` (keccak-256): `(height, id)`.
    fn blob_by_keccak(&self, hash: &[u8; 32]) -> Result<Option<(u64, BlobId)>> {
        let key = keccak_key(hash);
        let Some(v) = self.get(CF_BLOBS, &key)? else {
            return Ok(None);
        };
        if v.len() != 40 {
            return Err(corrupt(CF_BLOBS, &key, "keccak record is not 40 bytes"));
        }
        let height = u64_of(CF_BLOBS, &key, &v[..8])?;
        let mut id = [0u8; 32];
        id.copy_from_slice(&v[8..]);
        Ok(Some((height, BlobId(id))))
    }

    /// Deletes every height below `keep_from` (one batch) and moves the lowest height up.
    fn put_commit(&self, height: u64, commit: &[u8]) -> Result<()> {
        self.db
            .put_cf(self.cf(CF_BLOCKS)?, commit_key(height), commit)?;
        Ok(())
    }

    fn commit(&self, height: u64) -> Result<Option<Vec<u8>>> {
        self.get(CF_BLOCKS, &commit_key(height))
    }

    fn prune_below(&self, keep_from: u64) -> Result<usize> {
        let Some(lowest) = self.lowest()? else {
            return Ok(0);
        };
        if keep_from <= lowest {
            return Ok(0);
        }
        let mut b = WriteBatch::default();
        let blobs = self.cf(CF_BLOBS)?;
        for h in lowest..keep_from {
            if let Some((_, index)) = self.block_index(h)? {
                for e in index {
                    b.delete_cf(blobs, e.blob_id.0);
                }
            }
            let Some(ks) = self.get(CF_BLOCKS, &block_keccaks_key(h))? else {
                continue;
            };
            for kh in ks.chunks_exact(32) {
                let mut hash = [0u8; 32];
                hash.copy_from_slice(kh);
                // The same bytes may be in a newer block (another namespace): keep that record.
                if matches!(self.blob_by_keccak(&hash)?, Some((at, _)) if at < keep_from) {
                    b.delete_cf(blobs, keccak_key(&hash));
                }
            }
        }
        for cf in [CF_HEADERS, CF_BLOCKS] {
            b.delete_range_cf(self.cf(cf)?, h8(lowest), h8(keep_from));
        }
        for cf in [CF_CELLS, CF_PROOFS] {
            b.delete_range_cf(self.cf(cf)?, h8(lowest), h8(keep_from));
        }
        b.put_cf(self.cf(CF_META)?, KEY_LOWEST, h8(keep_from));
        self.db.write(b)?;
        self.parity.forget_below(keep_from);
        Ok((keep_from - lowest) as usize)
    }

    /// Approximate bytes on disk and in memtables, per column family.
    fn storage_bytes_by_cf(&self) -> Vec<(&'static str, u64)> {
        ALL_CFS
            .iter()
            .filter_map(|n| Some((*n, self.db.cf_handle(n)?)))
            .map(|(n, cf)| {
                let prop = |p: &str| {
                    self.db
                        .property_int_value_cf(cf, p)
                        .ok()
                        .flatten()
                        .unwrap_or(0)
                };
                (
                    n,
                    prop("rocksdb.live-sst-files-size") + prop("rocksdb.cur-size-all-mem-tables"),
                )
            })
            .collect()
    }

    /// Compacts every column family, dropping deleted records (mempool entries of included
    /// blobs, pruned heights) from disk.
    fn compact(&self) -> Result<()> {
        for n in ALL_CFS {
            self.db
                .compact_range_cf(self.cf(n)?, None::<&[u8]>, None::<&[u8]>);
        }
        Ok(())
    }

    /// Flushes memtables to SST files (for accurate size measurements).
    fn flush(&self) -> Result<()> {
        for n in ALL_CFS {
            self.db.flush_cf(self.cf(n)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::padded_block;

    /// Rows past the data are zero padding (no cells and no proofs stored), data cells are
    /// stored packed, and after a reopen (empty parity cache) every cell and proof of the
    /// extended square still reads back, recomputed; rewriting the block fills the cache again.
    #[test]
    fn packs_data_cells_skips_padding_and_reads_everything_back_after_reopen() {
        let (block, full) = padded_block();
        let k = block.k();
        let dir = tempfile::tempdir().expect("tmp");
        let store = RocksStore::open(dir.path()).expect("open");
        store.put_block(&block).expect("put");

        let identity_rows = (0..2 * k)
            .filter(|&r| (0..CELLS_PER_ROW).all(|c| full.proof(r, c).0 == G1_IDENTITY))
            .count();
        assert!(identity_rows > 0, "the test needs padding rows (k = {k})");
        let cf = store.cf(CF_PROOFS).expect("cf");
        let stored_rows = store
            .db
            .iterator_cf(cf, rocksdb::IteratorMode::Start)
            .count();
        assert_eq!(stored_rows, 2 * k - identity_rows);
        let cf = store.cf(CF_CELLS).expect("cf");
        let mut packed = 0;
        for item in store.db.iterator_cf(cf, rocksdb::IteratorMode::Start) {
            let (key, v) = item.expect("item");
            let col = key[10] as usize;
            if col < CELLS_PER_ROW / 2 {
                assert_eq!(v.len(), PACKED_CELL, "data cells are stored packed");
                packed += 1;
            }
        }
        assert!(packed > 0);
        assert!(
            store.parity.is_cached(1),
            "the writer's parity rows are cached"
        );
        let reopened = {
            drop(store);
            RocksStore::open(dir.path()).expect("reopen")
        };
        assert!(!reopened.parity.is_cached(1));
        for r in 0..2 * k {
            for c in 0..CELLS_PER_ROW {
                let want = full.committed().cell(r, c).as_bytes().to_vec();
                assert_eq!(
                    reopened.cell(1, k, r, c).expect("cell").expect("some"),
                    want
                );
                assert_eq!(reopened.proof(1, r, c).expect("proof"), full.proof(r, c).0);
            }
        }
        let store = reopened;
        store
            .put_block(&BlockData {
                header: store.header(1).expect("read").expect("header"),
                ..block
            })
            .expect("rewrite caches");
        assert!(store.parity.is_cached(1));
        for r in 0..2 * k {
            for c in 0..CELLS_PER_ROW {
                let cell = store.cell(1, k, r, c).expect("cell").expect("some");
                assert_eq!(
                    cell,
                    full.committed().cell(r, c).as_bytes().to_vec(),
                    "({r}, {c})"
                );
                assert_eq!(store.proof(1, r, c).expect("proof"), full.proof(r, c).0);
            }
        }
    }

    /// A head, the blobs' lookups and the pending blobs survive a reopen.
    #[test]
    fn blocks_and_pending_blobs_survive_a_reopen() {
        let (block, _) = padded_block();
        let pending = Blob::new(
            Namespace::new_v0(b"pending").expect("ns"),
            b"pending".to_vec(),
        )
        .expect("blob");
        let dir = tempfile::tempdir().expect("tmp");
        {
            let store = RocksStore::open(dir.path()).expect("open");
            store.mempool_put(&pending).expect("persist");
            store.put_block(&block).expect("put");
        }
        let store = RocksStore::open(dir.path()).expect("reopen");
        assert_eq!(store.head().expect("head"), Some(1));
        assert_eq!(store.lowest().expect("lowest"), Some(1));
        assert_eq!(
            store.blob_height(&block.index[0].blob_id).expect("read"),
            Some(1)
        );
        let left: Vec<BlobId> = store
            .mempool_all()
            .expect("read")
            .iter()
            .map(Blob::id)
            .collect();
        assert_eq!(left, vec![pending.id()]);
    }
    /// A data dir written by the ed25519 node (format 1: blocks, no version record) is refused
    /// with a message saying what it holds and what to do; a new store records format 2 and
    /// reopens; a store of an unknown newer format is refused too.
    #[test]
    fn stores_of_another_format_are_refused_never_misread() {
        let dir = tempfile::tempdir().expect("tmp");
        {
            // What a v1 node left: a head and a v1 header record (starts with its u32 length).
            let db = DB::open_cf_descriptors(
                &{
                    let mut o = Options::default();
                    o.create_if_missing(true);
                    o.create_missing_column_families(true);
                    o
                },
                dir.path(),
                ALL_CFS
                    .iter()
                    .map(|n| ColumnFamilyDescriptor::new(*n, Options::default())),
            )
            .expect("v1 db");
            let headers = db.cf_handle(CF_HEADERS).expect("cf");
            db.put_cf(headers, h8(1), [0, 0, 0, 7, 1, 0, 6])
                .expect("put");
            db.put_cf(db.cf_handle(CF_META).expect("cf"), KEY_HEAD, h8(1))
                .expect("put");
        }
        let err = RocksStore::open(dir.path()).expect_err("format 1");
        let msg = err.to_string();
        assert!(
            matches!(
                err,
                StoreError::Format {
                    found: 1,
                    expected: 2,
                    ..
                }
            ),
            "{msg}"
        );
        assert!(
            msg.contains("holds format 1 (ed25519 headers); this node needs format 2; move it away or re-init")
                && msg.contains(&dir.path().display().to_string()),
            "{msg}"
        );

        let fresh = tempfile::tempdir().expect("tmp");
        {
            let store = RocksStore::open(fresh.path()).expect("new store");
            assert_eq!(
                store.get(CF_META, KEY_FORMAT).expect("read"),
                Some(2u32.to_be_bytes().to_vec())
            );
            store.put_block(&padded_block().0).expect("put");
        }
        let store = RocksStore::open(fresh.path()).expect("format 2 reopens");
        assert_eq!(store.head().expect("head"), Some(1));
        assert!(store.header(1).expect("read").is_some());
        store
            .db
            .put_cf(
                store.cf(CF_META).expect("cf"),
                KEY_FORMAT,
                3u32.to_be_bytes(),
            )
            .expect("put");
        drop(store);
        let err = RocksStore::open(fresh.path()).expect_err("format 3");
        assert!(matches!(err, StoreError::Format { found: 3, .. }), "{err}");
    }

    #[test]
    fn bad_cell_records_are_reported_not_misread() {
        assert!(unpack_from_store(b"key", vec![0; 100]).is_err());
        let raw: Vec<u8> = (0..BYTES_PER_CELL)
            .map(|i| if i % 32 == 0 { 0 } else { i as u8 })
            .collect();
        let packed = pack_for_store(&raw);
        assert_eq!(packed.len(), PACKED_CELL);
        assert_eq!(unpack_from_store(b"key", packed).expect("unpack"), raw);
        let mut full = raw;
        full[32] = 1;
        assert_eq!(
            pack_for_store(&full),
            full,
            "a cell with a non-zero top byte stays raw"
        );
    }
}

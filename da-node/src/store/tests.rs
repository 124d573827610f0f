//! One storage test suite, run against every backend ([`store_suite!`]). Tests of the on-disk
//! encoding and of reopening are RocksDB-only and live in `rocks.rs`.

use std::sync::OnceLock;

use da_kzg::{ExtendedSquare, KzgProver, ProofStrategy, ProverConfig};
use da_types::{
    consts::{BYTES_PER_G1, CELLS_PER_ROW},
    data_root,
    layout::IndexEntry,
    Blob, BlobId, BlockHeader, CertifiedHeader, ConsensusHeader, Namespace, SquareLayout,
};
use sha3::{Digest, Keccak256};

use super::*;

fn ctx() -> &'static KzgProver {
    static CTX: OnceLock<KzgProver> = OnceLock::new();
    CTX.get_or_init(|| KzgProver::new(ProverConfig::DEFAULT))
}

/// A proven square of `blobs` at `height` (any parent: the store does not check links).
pub(crate) fn block(height: u64, blobs: &[Blob]) -> (BlockData, ExtendedSquare) {
    let ctx = ctx();
    let square = SquareLayout::build(blobs).expect("layout");
    let committed = ctx.commit_square(&square).expect("commit");
    let validator = crate::testing::solo("t");
    let set = validator.trust().set();
    let (k, blob_count) = (square.k() as u16, square.index().len() as u32);
    let commitments: Vec<[u8; 48]> = committed.commitments().iter().map(|c| c.0).collect();
    let header = validator
        .certify(BlockHeader {
            header: ConsensusHeader {
                chain: validator.trust().chain(),
                height,
                parent: if height == 1 { [0; 32] } else { [9; 32] },
                timestamp_ms: height,
                proposer: 0,
                validators_hash: set.hash(),
                next_validators_hash: set.hash(),
                data_root: data_root(k, blob_count, &commitments),
                tuple_root: [0; 32],
            },
            k,
            blob_count,
            commitments,
        })
        .expect("certify");
    let full = committed.prove(ctx, ProofStrategy::Linear).expect("prove");
    (
        BlockData::from_square(header, square.index().to_vec(), &full),
        full,
    )
}

pub(crate) fn blob(ns: &[u8], data: &[u8]) -> Blob {
    // Short sub-ids fall among the reserved namespaces: prefix them.
    let ns = [b"st".as_slice(), ns].concat();
    Blob::new(Namespace::new_v0(&ns).expect("ns"), data.to_vec()).expect("blob")
}

/// Two rows of data and the index cell: `k = 4`, and row 3 is zero padding.
pub(super) fn padded_block() -> (BlockData, ExtendedSquare) {
    let (b, full) = block(1, &[blob(b"-test", &[7u8; 2 * 126_976])]);
    assert_eq!(b.k(), 4);
    (b, full)
}

/// Every cell and proof of the extended square reads back: parity rows from the write-time
/// cache, and recomputed from their columns when the writer had none; padding reads as zeros
/// and identities.
pub(super) fn reads_back_every_cell_and_proof<S: Store>(make: impl Fn() -> S) {
    let (with_parity, full) = padded_block();
    let k = with_parity.k();
    let identity_rows = (0..2 * k)
        .filter(|&r| (0..CELLS_PER_ROW).all(|c| full.proof(r, c).0 == G1_IDENTITY))
        .count();
    assert!(identity_rows > 0, "the test needs padding rows (k = {k})");
    let without_parity = BlockData {
        parity: Vec::new(),
        ..with_parity.clone()
    };
    for (block, cached) in [(with_parity, true), (without_parity, false)] {
        let store = make();
        store.put_block(&block).expect("put");
        for r in 0..2 * k {
            for c in 0..CELLS_PER_ROW {
                let want = full.committed().cell(r, c).as_bytes().to_vec();
                let got = store.cell(1, k, r, c).expect("cell").expect("some");
                assert_eq!(got, want, "({r}, {c}), parity cached: {cached}");
                assert_eq!(store.proof(1, r, c).expect("proof"), full.proof(r, c).0);
            }
        }
    }
}

/// Head, lowest, headers, indexes and blob lookups before and after two blocks.
pub(super) fn head_lowest_and_lookups<S: Store>(make: impl Fn() -> S) {
    let store = make();
    assert_eq!(store.head().expect("head"), None);
    assert_eq!(store.lowest().expect("lowest"), None);
    assert_eq!(store.header(1).expect("header"), None);
    assert!(store.block_index(1).expect("index").is_none());
    let a = blob(b"a", b"first");
    let b = blob(b"b", b"second");
    assert_eq!(store.blob_height(&a.id()).expect("read"), None);
    let (b1, _) = block(1, std::slice::from_ref(&a));
    let (b2, _) = block(2, std::slice::from_ref(&b));
    store.put_block(&b1).expect("put 1");
    store.put_block(&b2).expect("put 2");
    assert_eq!(store.head().expect("head"), Some(2));
    assert_eq!(store.lowest().expect("lowest"), Some(1));
    assert_eq!(store.header(2).expect("header").as_ref(), Some(&b2.header));
    assert_eq!(
        store.header_bytes(2).expect("header bytes"),
        Some(b2.header.to_bytes())
    );
    assert_eq!(store.header_bytes(3).expect("header bytes"), None);
    let (k, index) = store.block_index(1).expect("read").expect("stored");
    assert_eq!(k, b1.k());
    assert_eq!(index, b1.index);
    assert_eq!(store.blob_height(&a.id()).expect("read"), Some(1));
    assert_eq!(store.blob_height(&b.id()).expect("read"), Some(2));
    let kh: [u8; 32] = Keccak256::digest(b"second").into();
    assert_eq!(store.blob_by_keccak(&kh).expect("read"), Some((2, b.id())));
    assert_eq!(store.blob_by_keccak(&[9; 32]).expect("read"), None);
}

/// The newest blob with given bytes wins the keccak lookup, and pruning keeps a keccak record
/// that points at a block it keeps.
pub(super) fn pruning_drops_heights_and_keeps_newer_keccaks<S: Store>(make: impl Fn() -> S) {
    let store = make();
    let old = blob(b"old", b"same bytes");
    let new = blob(b"new", b"same bytes");
    let gone = blob(b"gone", b"only in block 1");
    store
        .put_block(&block(1, &[old.clone(), gone.clone()]).0)
        .expect("put 1");
    store
        .put_block(&block(2, std::slice::from_ref(&new)).0)
        .expect("put 2");
    store
        .put_block(&block(3, &[blob(b"c", b"c")]).0)
        .expect("put 3");
    let same: [u8; 32] = Keccak256::digest(b"same bytes").into();
    let only: [u8; 32] = Keccak256::digest(b"only in block 1").into();
    assert_eq!(
        store.blob_by_keccak(&same).expect("read"),
        Some((2, new.id()))
    );
    assert_eq!(store.prune_below(1).expect("prune"), 0, "nothing below 1");
    assert_eq!(store.prune_below(2).expect("prune"), 1);
    assert_eq!(store.lowest().expect("lowest"), Some(2));
    assert_eq!(store.head().expect("head"), Some(3));
    assert_eq!(store.header(1).expect("read"), None);
    assert!(store.block_index(1).expect("read").is_none());
    assert_eq!(store.blob_height(&old.id()).expect("read"), None);
    assert_eq!(store.blob_height(&gone.id()).expect("read"), None);
    assert_eq!(store.blob_by_keccak(&only).expect("read"), None);
    assert_eq!(
        store.blob_by_keccak(&same).expect("read"),
        Some((2, new.id())),
        "the record points at a kept block"
    );
    assert_eq!(store.prune_below(2).expect("prune"), 0, "idempotent");
    assert_eq!(store.prune_below(3).expect("prune"), 1);
    assert_eq!(store.blob_by_keccak(&same).expect("read"), None);
    assert_eq!(store.blob_height(&new.id()).expect("read"), None);
    assert!(store.header(3).expect("read").is_some());
}

/// Pending blobs persist until a block includes them, which removes them in its write.
pub(super) fn mempool_persists_until_included<S: Store>(make: impl Fn() -> S) {
    let store = make();
    assert!(store.mempool_all().expect("read").is_empty());
    let a = blob(b"a", b"pending a");
    let b = blob(b"b", b"pending b");
    for x in [&a, &b, &a] {
        store.mempool_put(x).expect("put");
    }
    let mut ids: Vec<BlobId> = store
        .mempool_all()
        .expect("read")
        .iter()
        .map(Blob::id)
        .collect();
    ids.sort_by_key(|i| i.0);
    let mut want = vec![a.id(), b.id()];
    want.sort_by_key(|i| i.0);
    assert_eq!(ids, want, "each pending blob once");
    store
        .put_block(&block(1, std::slice::from_ref(&a)).0)
        .expect("put");
    let left: Vec<BlobId> = store
        .mempool_all()
        .expect("read")
        .iter()
        .map(Blob::id)
        .collect();
    assert_eq!(left, vec![b.id()]);
}

/// Commit signatures are stored per height, read back, and pruned with their height.
pub(super) fn commits_are_kept_and_pruned_with_their_height<S: Store>(make: impl Fn() -> S) {
    let store = make();
    for h in 1..=3 {
        store
            .put_block(&block(h, &[blob(&[b'c', h as u8], &[h as u8; 10])]).0)
            .expect("put");
        store.put_commit(h, &[h as u8; 7]).expect("commit");
    }
    assert_eq!(store.commit(2).expect("read"), Some(vec![2; 7]));
    assert_eq!(store.commit(9).expect("read"), None);
    store.prune_below(3).expect("prune");
    assert_eq!(store.commit(1).expect("read"), None);
    assert_eq!(store.commit(2).expect("read"), None);
    assert_eq!(store.commit(3).expect("read"), Some(vec![3; 7]));
    // The block record of a kept height is untouched by its commit record.
    assert!(store.block_index(3).expect("read").is_some());
}

/// Instantiates the suite for one backend: `store_suite!(name, || make_store())`.
macro_rules! store_suite {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn reads_back_every_cell_and_proof() {
                super::reads_back_every_cell_and_proof($make);
            }

            #[test]
            fn head_lowest_and_lookups() {
                super::head_lowest_and_lookups($make);
            }

            #[test]
            fn pruning_drops_heights_and_keeps_newer_keccaks() {
                super::pruning_drops_heights_and_keeps_newer_keccaks($make);
            }

            #[test]
            fn mempool_persists_until_included() {
                super::mempool_persists_until_included($make);
            }

            #[test]
            fn commits_are_kept_and_pruned_with_their_height() {
                super::commits_are_kept_and_pruned_with_their_height($make);
            }
        }
    };
}

/// A RocksDB store in a temporary directory that lives as long as the store.
pub(super) struct TempRocks {
    store: RocksStore,
    _dir: tempfile::TempDir,
}

impl TempRocks {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        Self {
            store: RocksStore::open(dir.path()).expect("open"),
            _dir: dir,
        }
    }
}

impl std::fmt::Debug for TempRocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.store.fmt(f)
    }
}

/// Delegates every method to the RocksDB store inside.
impl Store for TempRocks {
    fn put_block(&self, block: &BlockData) -> Result<()> {
        self.store.put_block(block)
    }
    fn head(&self) -> Result<Option<u64>> {
        self.store.head()
    }
    fn lowest(&self) -> Result<Option<u64>> {
        self.store.lowest()
    }
    fn header(&self, height: u64) -> Result<Option<CertifiedHeader>> {
        self.store.header(height)
    }
    fn header_bytes(&self, height: u64) -> Result<Option<Vec<u8>>> {
        self.store.header_bytes(height)
    }
    fn block_index(&self, height: u64) -> Result<Option<(usize, Vec<IndexEntry>)>> {
        self.store.block_index(height)
    }
    fn cell(&self, height: u64, k: usize, row: usize, col: usize) -> Result<Option<Vec<u8>>> {
        self.store.cell(height, k, row, col)
    }
    fn proof(&self, height: u64, row: usize, col: usize) -> Result<[u8; BYTES_PER_G1]> {
        self.store.proof(height, row, col)
    }
    fn blob_height(&self, id: &BlobId) -> Result<Option<u64>> {
        self.store.blob_height(id)
    }
    fn blob_by_keccak(&self, hash: &[u8; 32]) -> Result<Option<(u64, BlobId)>> {
        self.store.blob_by_keccak(hash)
    }
    fn mempool_put(&self, blob: &Blob) -> Result<()> {
        self.store.mempool_put(blob)
    }
    fn mempool_all(&self) -> Result<Vec<Blob>> {
        self.store.mempool_all()
    }
    fn put_commit(&self, height: u64, commit: &[u8]) -> Result<()> {
        self.store.put_commit(height, commit)
    }
    fn commit(&self, height: u64) -> Result<Option<Vec<u8>>> {
        self.store.commit(height)
    }
    fn prune_below(&self, keep_from: u64) -> Result<usize> {
        self.store.prune_below(keep_from)
    }
    fn storage_bytes_by_cf(&self) -> Vec<(&'static str, u64)> {
        self.store.storage_bytes_by_cf()
    }
}

store_suite!(rocks, TempRocks::new);
store_suite!(memory, MemoryStore::new);

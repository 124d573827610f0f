//! The write side of the node: the one path every block takes into the store.
//!
//! [`Chain`] owns the header checks (trusted signature, `verify_extension`) and the import:
//! the producer's own block, a block synced over libp2p (fetched or repaired) and a block
//! followed over gRPC all end in [`Chain::import`], which checks that the block extends the
//! stored head, decodes the index, checks every blob against its id, writes one atomic batch,
//! updates the block metrics and notifies subscribers ([`BlockEvent`]).
//!
//! Cells reach it only as a [`VerifiedBlock`], which the crate builds from cells verified
//! against the header's commitments, from a repaired square (every proof recomputed and checked)
//! or from this node's own proven square.
//!
//! # Flow
//! header → [`Chain::check_header`] (signature, parent link, extension) → cells verified →
//! [`VerifiedBlock`] → [`Chain::import`] → store → metrics → subscribers.

use std::sync::{Arc, Mutex, PoisonError};

use da_kzg::{Cell, Commitment, KzgProver, Proof, VerifiedCell};
use da_types::{
    consts::{BYTES_PER_G1, CELLS_PER_ROW, PAYLOAD_BYTES_PER_CELL},
    layout::{decode_index, decode_index_count, index_cells, unpack_cell, CellIndex, IndexEntry},
    BlobId, HeaderVerifier, ProducerSet, SignedHeader,
};
use tokio::sync::broadcast;
use tracing::{info, instrument};

use crate::{
    error::{NodeError, Result},
    metrics::Metrics,
    store::{BlockData, Store},
};

/// Blocks buffered for slow subscribers before they are told they fell behind.
pub const SUBSCRIBER_BUFFER: usize = 64;

/// A stored block as subscribers see it.
#[derive(Debug)]
pub struct BlockEvent {
    /// Its header.
    pub header: SignedHeader,
    /// Its blobs, in square order.
    pub blobs: Vec<(IndexEntry, Vec<u8>)>,
}

/// The cells and proofs of one block, verified against its header's commitments (or
/// recomputed by repair, or proven by this node): built only from [`VerifiedCell`]s or a
/// proven [`da_kzg::ExtendedSquare`].
#[derive(Debug)]
pub struct VerifiedBlock {
    /// The `k × 128` cells of the original rows, row-major.
    cells: Vec<Vec<u8>>,
    /// All `2k × 128` proofs, row-major.
    proofs: Vec<[u8; BYTES_PER_G1]>,
    /// The parity rows' cells if at hand (cached for serving, never stored).
    parity: Vec<Vec<u8>>,
}

impl VerifiedBlock {
    /// From the `2k × 128` cells of a square, row-major, each verified against its row's
    /// commitment.
    pub fn from_verified_cells(k: usize, cells: Vec<VerifiedCell>) -> Self {
        let proofs = cells.iter().map(|v| v.proof().0).collect();
        let split = (k * CELLS_PER_ROW).min(cells.len());
        let bytes = |v: &[VerifiedCell]| -> Vec<Vec<u8>> {
            v.iter().map(|c| c.cell().as_bytes().to_vec()).collect()
        };
        let (data, parity) = cells.split_at(split);
        Self {
            cells: bytes(data),
            proofs,
            parity: bytes(parity),
        }
    }

    /// From a proven extended square: this node's own block, or one it repaired (repair
    /// recomputes every proof and checks the result against the commitments).
    pub fn from_square(square: &da_kzg::ExtendedSquare) -> Self {
        let k = square.k();
        let mut proofs = Vec::with_capacity(2 * k * CELLS_PER_ROW);
        let mut cells = Vec::with_capacity(k * CELLS_PER_ROW);
        let mut parity = Vec::with_capacity(k * CELLS_PER_ROW);
        for r in 0..2 * k {
            for c in 0..CELLS_PER_ROW {
                proofs.push(square.proof(r, c).0);
                let bytes = square.committed().cell(r, c).as_bytes().to_vec();
                if r < k {
                    cells.push(bytes);
                } else {
                    parity.push(bytes);
                }
            }
        }
        Self {
            cells,
            proofs,
            parity,
        }
    }
}

/// The header checks and the import path, shared by production, sync and follow.
#[derive(Debug)]
pub struct Chain {
    store: Arc<dyn Store>,
    kzg: Arc<KzgProver>,
    verifier: ProducerSet,
    metrics: Arc<Metrics>,
    blocks: broadcast::Sender<Arc<BlockEvent>>,
    /// Serialises imports: the head a block extends is the head it is written on.
    writing: Mutex<()>,
}

impl Chain {
    /// A chain over `store` whose headers must be signed by one of `verifier`'s producers.
    pub fn new(
        store: Arc<dyn Store>,
        kzg: Arc<KzgProver>,
        verifier: ProducerSet,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (blocks, _) = broadcast::channel(SUBSCRIBER_BUFFER);
        Self {
            store,
            kzg,
            verifier,
            metrics,
            blocks,
            writing: Mutex::new(()),
        }
    }

    /// New blocks, as they are imported.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<BlockEvent>> {
        self.blocks.subscribe()
    }

    /// The stored head (blocking read).
    pub fn head(&self) -> Result<Option<u64>> {
        Ok(self.store.head()?)
    }

    /// The header at `height`, if stored (blocking read).
    pub fn header(&self, height: u64) -> Result<Option<SignedHeader>> {
        Ok(self.store.header(height)?)
    }

    /// The KZG context the checks use.
    pub fn kzg(&self) -> &Arc<KzgProver> {
        &self.kzg
    }

    /// Checks only the header's signature against the trusted producers (cheap).
    pub fn verify_signature(&self, header: &SignedHeader) -> Result<()> {
        Ok(self.verifier.verify(header)?)
    }

    /// Checks a gossiped header before it is forwarded: a trusted signature and commitments
    /// that are a valid extension (the parent link is checked at import).
    pub fn check_gossiped(&self, header: &SignedHeader) -> Result<()> {
        self.verifier.verify(header)?;
        self.check_extension(header).map(drop)
    }

    /// Checks a header a full node is about to fetch and import: trusted signature, link to
    /// the stored parent, and commitments that are a valid extension. Returns the commitments.
    pub fn check_header(&self, header: &SignedHeader) -> Result<Vec<Commitment>> {
        self.verifier.verify(header)?;
        let h = header.header.height;
        if h > 1 {
            if let Some(parent) = self.store.header(h - 1)? {
                if parent.hash() != header.header.parent_hash {
                    return Err(NodeError::InvalidArgument(format!(
                        "header {h} does not link to the stored header {}",
                        h - 1
                    )));
                }
            }
        }
        self.check_extension(header)
    }

    fn check_extension(&self, header: &SignedHeader) -> Result<Vec<Commitment>> {
        let commitments = Commitment::of_header(&header.header);
        if !self.kzg.verify_extension(&commitments)? {
            return Err(NodeError::InvalidArgument(format!(
                "header {}: commitments are not a valid extension",
                header.header.height
            )));
        }
        Ok(commitments)
    }

    /// Checks `header` and verifies a block's `2k` full rows (`rows[r]` holds row `r`'s 128
    /// cells, as an upstream node served them), then imports it.
    #[instrument(skip_all, name = "chain.import_rows", fields(height = header.header.height))]
    pub fn import_rows(
        &self,
        header: SignedHeader,
        rows: Vec<Vec<(CellIndex, Cell, Proof)>>,
    ) -> Result<Arc<BlockEvent>> {
        let commitments = self.check_header(&header)?;
        let h = header.header.height;
        let k = header.header.k as usize;
        if rows.len() != 2 * k || rows.iter().any(|r| r.len() != CELLS_PER_ROW) {
            return Err(NodeError::InvalidArgument(format!(
                "block {h}: expected {} full rows",
                2 * k
            )));
        }
        let all: Vec<(CellIndex, Cell, Proof)> = rows.into_iter().flatten().collect();
        for (i, (idx, _, _)) in all.iter().enumerate() {
            if (idx.row as usize, idx.col as usize) != (i / CELLS_PER_ROW, i % CELLS_PER_ROW) {
                return Err(NodeError::InvalidArgument(format!(
                    "block {h}: cell {i} is labelled ({}, {})",
                    idx.row, idx.col
                )));
            }
        }
        let verified = self.kzg.verify_cells(&commitments, all)?;
        self.import(header, VerifiedBlock::from_verified_cells(k, verified))
    }

    /// The import path (blocking): checks that `header` extends the stored head (height and
    /// parent hash), decodes the index from the verified cells and checks it against the
    /// header, checks every blob against its id, writes the block in one atomic batch, updates
    /// the block metrics and notifies subscribers. The header's signature and extension were
    /// checked by the caller ([`Chain::check_header`]) or it is this node's own block.
    #[instrument(skip_all, name = "chain.import", fields(height = header.header.height))]
    pub fn import(&self, header: SignedHeader, block: VerifiedBlock) -> Result<Arc<BlockEvent>> {
        let h = header.header.height;
        let k = header.header.k as usize;
        let VerifiedBlock {
            cells,
            proofs,
            parity,
        } = block;
        if cells.len() != k * CELLS_PER_ROW || proofs.len() != 2 * k * CELLS_PER_ROW {
            return Err(NodeError::Internal(format!(
                "block {h}: {} cells and {} proofs for k = {k}",
                cells.len(),
                proofs.len()
            )));
        }
        let (index, blobs) = decode_blobs(&header, &cells)?;
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        self.check_extends_head(&header)?;
        let block = BlockData {
            header,
            index,
            cells,
            proofs,
            parity,
        };
        self.store.put_block(&block)?;
        info!(height = h, k, blobs = blobs.len(), "block imported");
        let m = &self.metrics;
        m.blocks.inc();
        m.blobs_included.inc_by(blobs.len() as u64);
        m.square_k.set(k as i64);
        m.block_bytes
            .set(blobs.iter().map(|(_, d)| d.len() as i64).sum());
        self.refresh_gauges();
        let event = Arc::new(BlockEvent {
            header: block.header,
            blobs,
        });
        let _ = self.blocks.send(event.clone());
        Ok(event)
    }

    /// The block must be the next height on the stored head and name it as its parent.
    fn check_extends_head(&self, header: &SignedHeader) -> Result<()> {
        let h = header.header.height;
        let next = self.store.head()?.map_or(1, |head| head + 1);
        if h != next {
            return Err(NodeError::InvalidArgument(format!(
                "block {h} does not extend the stored chain (next height is {next})"
            )));
        }
        if h > 1 {
            let parent = self
                .store
                .header(h - 1)?
                .ok_or_else(|| NodeError::Internal(format!("head {} has no header", h - 1)))?;
            if parent.hash() != header.header.parent_hash {
                return Err(NodeError::InvalidArgument(format!(
                    "header {h} does not link to the stored header {}",
                    h - 1
                )));
            }
        }
        Ok(())
    }

    /// Sets the head, lowest and storage gauges from the store.
    pub fn refresh_gauges(&self) {
        let m = &self.metrics;
        m.storage_bytes.set(self.store.storage_bytes() as i64);
        if let Ok(Some(h)) = self.store.head() {
            m.head_height.set(h as i64);
        }
        if let Ok(Some(h)) = self.store.lowest() {
            m.lowest_height.set(h as i64);
        }
    }
}

/// A block's index and its blobs in square order.
type Decoded = (Vec<IndexEntry>, Vec<(IndexEntry, Vec<u8>)>);

/// Decodes the index from a block's original cells, checks it against the header and every
/// blob against its id.
fn decode_blobs(header: &SignedHeader, cells: &[Vec<u8>]) -> Result<Decoded> {
    let h = header.header.height;
    let k = header.header.k as usize;
    let original = |n: usize| -> Result<&Vec<u8>> {
        let p = CellIndex::of_original(n);
        cells
            .get(p.row as usize * CELLS_PER_ROW + p.col as usize)
            .ok_or_else(|| NodeError::InvalidArgument(format!("block {h}: cell {n} is missing")))
    };
    let mut payload = Vec::new();
    unpack_cell(original(0)?, &mut payload)?;
    let count = decode_index_count(&payload)?;
    for n in 1..index_cells(count) {
        unpack_cell(original(n)?, &mut payload)?;
    }
    let index = decode_index(&payload, k)?;
    if index.len() != header.header.blob_count as usize {
        return Err(NodeError::InvalidArgument(format!(
            "block {h}: index has {} blobs, header says {}",
            index.len(),
            header.header.blob_count
        )));
    }
    let mut blobs = Vec::with_capacity(index.len());
    for e in &index {
        let mut data = Vec::with_capacity(e.cells().len() * PAYLOAD_BYTES_PER_CELL);
        for n in e.cells() {
            unpack_cell(original(n)?, &mut data)?;
        }
        data.truncate(e.len as usize);
        if BlobId::compute(&e.namespace, &data) != e.blob_id {
            return Err(NodeError::InvalidArgument(format!(
                "block {h}: blob {} does not match its id",
                e.blob_id
            )));
        }
        blobs.push((*e, data));
    }
    Ok((index, blobs))
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use da_kzg::ProverConfig;
    use da_types::{Blob, Namespace};
    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::{
        producer::{BlockProducer, Parent, SingleSigner},
        store::MemoryStore,
    };

    fn kzg() -> Arc<KzgProver> {
        static KZG: OnceLock<Arc<KzgProver>> = OnceLock::new();
        KZG.get_or_init(|| Arc::new(KzgProver::new(ProverConfig::DEFAULT)))
            .clone()
    }

    /// A chain on an in-memory store and the producer it trusts.
    fn setup() -> (Arc<dyn Store>, Chain, SingleSigner) {
        let key = SigningKey::from_bytes(&[5; 32]);
        let metrics = Arc::new(Metrics::new());
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let trusted = ProducerSet::new("t", vec![key.verifying_key().to_bytes()]);
        let chain = Chain::new(store.clone(), kzg(), trusted, metrics.clone());
        (
            store,
            chain,
            SingleSigner::new("t".into(), key, kzg(), metrics),
        )
    }

    fn blob(data: &[u8]) -> Blob {
        Blob::new(Namespace::new_v0(b"chain").expect("ns"), data.to_vec()).expect("blob")
    }

    /// "Build a proposal" and "commit a decided block" are separate steps: the built block
    /// passes a peer's header checks, and its import stores it, counts it and notifies.
    #[test]
    fn a_built_block_passes_the_header_checks_and_is_imported_once() {
        let (store, chain, producer) = setup();
        let mut events = chain.subscribe();
        let built = producer
            .build(Parent(None), &[blob(b"one")])
            .expect("build");
        chain.check_header(&built.header).expect("a valid header");
        let header = built.header.clone();
        let ev = chain.import(built.header, built.block).expect("import");
        assert_eq!(ev.blobs.len(), 1);
        assert_eq!(ev.blobs[0].1, b"one".to_vec());
        assert_eq!(store.head().expect("head"), Some(1));
        assert_eq!(events.try_recv().expect("notified").header, header);
        assert_eq!(chain.metrics.blocks.get(), 1);
        let parent = store.header(1).expect("read");
        let second = producer.build(Parent(parent.as_ref()), &[]).expect("build");
        let again = producer.build(Parent(parent.as_ref()), &[]).expect("build");
        assert_eq!(second.header.header.height, 2);
        chain.import(second.header, second.block).expect("import 2");
        let err = chain
            .import(again.header, again.block)
            .expect_err("height 2 is stored already");
        assert!(err.to_string().contains("does not extend"), "{err}");
        assert_eq!(store.head().expect("head"), Some(2));
        assert_eq!(chain.metrics.blocks.get(), 2);
    }

    /// A block past the head, or on a parent that is not the stored head, is not imported.
    #[test]
    fn a_block_that_does_not_extend_the_head_is_refused() {
        let (store, chain, producer) = setup();
        let first = producer.build(Parent(None), &[]).expect("build");
        let fork = producer
            .build(Parent(None), &[blob(b"fork")])
            .expect("build");
        let on_fork = || {
            producer
                .build(Parent(Some(&fork.header)), &[])
                .expect("build")
        };
        let early = on_fork();
        let err = chain
            .import(early.header, early.block)
            .expect_err("height 2 on an empty store");
        assert!(err.to_string().contains("next height is 1"), "{err}");
        chain.import(first.header, first.block).expect("import 1");
        let late = on_fork();
        let err = chain
            .import(late.header, late.block)
            .expect_err("parent is not the head");
        assert!(err.to_string().contains("does not link"), "{err}");
        assert_eq!(store.head().expect("head"), Some(1));
        assert_eq!(store.header(2).expect("read"), None);
    }
}

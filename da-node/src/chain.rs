//! The write side of the node: the one path every block takes into the store.
//!
//! [`Chain`] owns the header checks (the certificate against the genesis validator set,
//! `verify_extension`) and the import: the solo validator's own block, a block synced over
//! libp2p (fetched or repaired) and a block followed over gRPC all end in [`Chain::import`],
//! which checks the certified header, that the block extends the stored head (height, parent
//! id, timestamp), decodes the index, checks every blob against its id, writes one atomic batch,
//! updates the block metrics and notifies subscribers ([`BlockEvent`]).
//!
//! Cells reach it only as a [`VerifiedBlock`], which the crate builds from cells verified
//! against the header's commitments, from a repaired square (every proof recomputed and checked)
//! or from this node's own proven square.
//!
//! # Flow
//! header → [`Chain::check_header`] (certificate, parent link, extension) → cells verified →
//! [`VerifiedBlock`] → [`Chain::import`] (the same header checks again, then the block) → store
//! → metrics → subscribers.

use std::sync::{Arc, Mutex, PoisonError};

use da_kzg::{Cell, Commitment, KzgProver, Proof, VerifiedCell};
use da_types::{
    consts::{BYTES_PER_G1, CELLS_PER_ROW, PAYLOAD_BYTES_PER_CELL},
    layout::{decode_index, decode_index_count, index_cells, unpack_cell, CellIndex, IndexEntry},
    BlobId, CertifiedHeader, Trust,
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
    /// Its certified header.
    pub header: CertifiedHeader,
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
    trust: Trust,
    metrics: Arc<Metrics>,
    blocks: broadcast::Sender<Arc<BlockEvent>>,
    /// Serialises imports: the head a block extends is the head it is written on.
    writing: Mutex<()>,
}

impl Chain {
    /// A chain over `store` whose headers must be certified by `trust`'s validator set.
    pub fn new(
        store: Arc<dyn Store>,
        kzg: Arc<KzgProver>,
        trust: Trust,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (blocks, _) = broadcast::channel(SUBSCRIBER_BUFFER);
        Self {
            store,
            kzg,
            trust,
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
    pub fn header(&self, height: u64) -> Result<Option<CertifiedHeader>> {
        Ok(self.store.header(height)?)
    }

    /// The stored `data_root`s of heights `from..=to` in order (empty when `from > to`); an
    /// error if one is missing (pruned, or not synced yet).
    pub fn data_roots(&self, from: u64, to: u64) -> Result<Vec<[u8; 32]>> {
        (from..=to)
            .map(|h| {
                self.store
                    .header(h)?
                    .map(|c| c.block.header.data_root)
                    .ok_or_else(|| {
                        NodeError::Internal(format!(
                            "no header at {h}: cannot compute the attestation window's tuple_root"
                        ))
                    })
            })
            .collect()
    }

    /// The `data_root`s of the heights before `height` in its attestation window when `height`
    /// ends one (the `tuple_root` of its header needs them); empty otherwise.
    pub fn window_roots(&self, height: u64) -> Result<Vec<[u8; 32]>> {
        let w = self.trust.attestation_window();
        if !da_types::attestation::is_window_end(height, w) {
            return Ok(Vec::new());
        }
        self.data_roots(height + 1 - w, height - 1)
    }

    /// The KZG context the checks use.
    pub fn kzg(&self) -> &Arc<KzgProver> {
        &self.kzg
    }

    /// The genesis validator set and chain this node trusts.
    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    /// The node's metrics (block counters, rejected headers).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Checks only the header's certificate (and `k` bound) against the genesis validator set:
    /// one aggregate signature check. A failure is counted by rule in
    /// `da_headers_rejected_total{reason}`.
    pub fn verify_certificate(&self, header: &CertifiedHeader) -> Result<()> {
        self.trust.verify(header).map(drop).map_err(|source| {
            self.metrics.header_rejected(source.reason());
            NodeError::Untrusted {
                height: header.height(),
                source,
            }
        })
    }

    /// Checks a gossiped header before it is forwarded: a certificate of the genesis set and
    /// commitments that are a valid extension (the parent link is checked at import).
    pub fn check_gossiped(&self, header: &CertifiedHeader) -> Result<()> {
        self.verify_certificate(header)?;
        self.check_extension(header).map(drop)
    }

    /// Checks a header a full node is about to fetch and import: a certificate of the genesis
    /// set, the link to the stored parent (its id), and commitments that are a valid extension.
    /// Returns the commitments.
    pub fn check_header(&self, header: &CertifiedHeader) -> Result<Vec<Commitment>> {
        self.verify_certificate(header)?;
        let h = header.height();
        if h > 1 {
            if let Some(parent) = self.store.header(h - 1)? {
                check_link(&parent, header)?;
            }
        }
        self.check_extension(header)
    }

    fn check_extension(&self, header: &CertifiedHeader) -> Result<Vec<Commitment>> {
        let commitments = Commitment::of_header(&header.block);
        if !self.kzg.verify_extension(&commitments)? {
            return Err(NodeError::InvalidArgument(format!(
                "header {}: commitments are not a valid extension",
                header.height()
            )));
        }
        Ok(commitments)
    }

    /// Checks `header` and verifies a block's `2k` full rows (`rows[r]` holds row `r`'s 128
    /// cells, as an upstream node served them), then imports it.
    #[instrument(skip_all, name = "chain.import_rows", fields(height = header.height()))]
    pub fn import_rows(
        &self,
        header: CertifiedHeader,
        rows: Vec<Vec<(CellIndex, Cell, Proof)>>,
    ) -> Result<Arc<BlockEvent>> {
        let commitments = self.check_header(&header)?;
        let h = header.height();
        let k = usize::from(header.block.k);
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

    /// The import path (blocking), the commit of a decided block: checks the certified header
    /// (its certificate against the genesis validator set and chain, `k` within the genesis
    /// bound, `verify_extension` of the commitments), that it extends the stored head (height,
    /// parent id, timestamp not below the parent's), decodes the index from the verified cells
    /// and checks it against the header, checks every blob against its id, writes the block in
    /// one atomic batch, updates the block metrics and notifies subscribers.
    #[instrument(skip_all, name = "chain.import", fields(height = header.height()))]
    pub fn import(&self, header: CertifiedHeader, block: VerifiedBlock) -> Result<Arc<BlockEvent>> {
        let h = header.height();
        let k = usize::from(header.block.k);
        self.verify_certificate(&header)?;
        self.check_extension(&header)?;
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
    fn check_extends_head(&self, header: &CertifiedHeader) -> Result<()> {
        let h = header.height();
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
            check_link(&parent, header)?;
        } else if header.block.header.timestamp_ms < self.trust.genesis_time_ms() {
            return Err(NodeError::InvalidArgument(format!(
                "header 1 is timestamped {} ms, before the genesis time {} ms",
                header.block.header.timestamp_ms,
                self.trust.genesis_time_ms()
            )));
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

/// `header` must name `parent` (the stored header one below) by its id and not be older.
fn check_link(parent: &CertifiedHeader, header: &CertifiedHeader) -> Result<()> {
    let h = header.height();
    if parent.id() != header.block.header.parent {
        return Err(NodeError::InvalidArgument(format!(
            "header {h} does not link to the stored header {}",
            h - 1
        )));
    }
    if header.block.header.timestamp_ms < parent.block.header.timestamp_ms {
        return Err(NodeError::InvalidArgument(format!(
            "header {h} is timestamped {} ms, before its parent's {} ms",
            header.block.header.timestamp_ms, parent.block.header.timestamp_ms
        )));
    }
    Ok(())
}

/// A block's index and its blobs in square order.
type Decoded = (Vec<IndexEntry>, Vec<(IndexEntry, Vec<u8>)>);

/// Decodes the index from a block's original cells, checks it against the header and every
/// blob against its id.
fn decode_blobs(header: &CertifiedHeader, cells: &[Vec<u8>]) -> Result<Decoded> {
    let h = header.height();
    let k = usize::from(header.block.k);
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
    if index.len() != header.block.blob_count as usize {
        return Err(NodeError::InvalidArgument(format!(
            "block {h}: index has {} blobs, header says {}",
            index.len(),
            header.block.blob_count
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
    use da_types::{Blob, Namespace, Trust};

    use super::*;
    use crate::{
        producer::{BlockProducer, Parent, SoloValidator},
        store::MemoryStore,
        testing::{genesis, key, kzg, solo},
    };

    /// A chain on an in-memory store, trusting the one-validator set of the producer.
    fn setup() -> (Arc<dyn Store>, Chain, SoloValidator) {
        let producer = solo("t");
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let chain = Chain::new(
            store.clone(),
            kzg(),
            producer.trust().clone(),
            Arc::new(Metrics::new()),
        );
        (store, chain, producer)
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
            .build(Parent(None), &[], &[blob(b"one")])
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
        let second = producer
            .build(Parent(parent.as_ref()), &[], &[])
            .expect("build");
        let again = producer
            .build(Parent(parent.as_ref()), &[], &[])
            .expect("build");
        assert_eq!(second.header.height(), 2);
        assert_eq!(second.header.block.header.parent, header.id());
        chain.import(second.header, second.block).expect("import 2");
        let err = chain
            .import(again.header, again.block)
            .expect_err("height 2 is stored already");
        assert!(err.to_string().contains("does not extend"), "{err}");
        assert_eq!(store.head().expect("head"), Some(2));
        assert_eq!(chain.metrics.blocks.get(), 2);
    }

    /// Every 4th header (the test genesis's attestation window) commits to the window's
    /// `(height, data_root)` tuples, computed from the stored headers; the producer refuses to
    /// build such a header without the earlier roots.
    #[test]
    fn a_window_end_header_carries_the_tuple_root_of_the_stored_window() {
        let (store, chain, producer) = setup();
        assert_eq!(chain.trust().attestation_window(), 4);
        let mut roots = Vec::new();
        for height in 1..=4u64 {
            let parent = store.header(height - 1).expect("read");
            let window = chain.window_roots(height).expect("stored roots");
            assert_eq!(window.len(), if height == 4 { 3 } else { 0 });
            if height == 4 {
                let e = producer
                    .build(Parent(parent.as_ref()), &window[1..], &[])
                    .expect_err("two roots for a window of four");
                assert!(e.to_string().contains("earlier data"), "{e}");
            }
            let built = producer
                .build(Parent(parent.as_ref()), &window, &[blob(&[height as u8])])
                .expect("build");
            roots.push(built.header.block.header.data_root);
            let tuple = built.header.block.header.tuple_root;
            if height < 4 {
                assert_eq!(tuple, [0; 32], "height {height}");
            } else {
                assert_eq!(tuple, da_types::attestation::tuple_root(1, &roots));
            }
            chain.import(built.header, built.block).expect("import");
        }
        assert_eq!(chain.data_roots(1, 4).expect("roots"), roots);
        assert!(chain.data_roots(1, 5).is_err(), "height 5 is not stored");
    }

    /// The solo validator builds headers by the consensus rules: round-0 proposer, both set
    /// hashes, `data_root`, a zero tuple root, timestamps never below the parent's (the genesis
    /// time at height 1), and one signer in its certificate.
    #[test]
    fn headers_follow_the_consensus_build_rules() {
        let (_, _, producer) = setup();
        let trust = producer.trust().clone();
        let first = producer.build(Parent(None), &[], &[]).expect("build");
        let h = &first.header.block.header;
        assert_eq!(h.chain, da_types::chain_hash("t"));
        assert_eq!((h.height, h.parent, h.proposer), (1, [0; 32], 0));
        assert_eq!(h.validators_hash, trust.set().hash());
        assert_eq!(h.next_validators_hash, trust.set().hash());
        assert_eq!(h.tuple_root, [0; 32]);
        assert_eq!(h.data_root, first.header.block.computed_data_root());
        assert!(h.timestamp_ms >= trust.genesis_time_ms());
        assert_eq!(first.header.certificate.round, 0);
        assert_eq!(first.header.certificate.signers.count(), 1);
        assert_eq!(trust.verify(&first.header), Ok(1));
        // A parent from the future: the child takes its timestamp.
        let mut future = first.header.clone();
        future.block.header.timestamp_ms = u64::MAX / 2;
        let child = producer
            .header(
                Parent(Some(&future)),
                &[],
                1,
                0,
                first.header.block.commitments.clone(),
            )
            .expect("height 2 ends no window");
        assert_eq!(child.header.timestamp_ms, u64::MAX / 2);
    }

    /// A header whose certificate does not verify against the genesis set is refused by every
    /// check, and import stores nothing: another set's validator, a certificate of another
    /// header, and a square over the genesis bound.
    #[test]
    fn headers_without_a_valid_certificate_are_not_imported() {
        let (store, chain, _) = setup();
        // A validator of another genesis (another key) for the same chain.
        let stranger = SoloValidator::new(
            key(2),
            Trust::from_genesis(&genesis("t", &[(2, 1)])).expect("genesis"),
            kzg(),
            Arc::new(Metrics::new()),
        )
        .expect("stranger");
        let forged = stranger.build(Parent(None), &[], &[]).expect("build");
        for err in [
            chain.check_header(&forged.header).expect_err("check"),
            chain.check_gossiped(&forged.header).expect_err("gossip"),
        ] {
            assert!(
                matches!(
                    &err,
                    NodeError::Untrusted {
                        source: da_types::TrustError::Certificate(
                            da_types::CertificateError::WrongValidatorSet { .. }
                        ),
                        ..
                    }
                ),
                "{err}"
            );
        }
        let err = chain
            .import(forged.header, forged.block)
            .expect_err("import");
        assert!(matches!(err, NodeError::Untrusted { .. }), "{err}");
        assert_eq!(store.head().expect("head"), None);
        let text = chain.metrics.render();
        assert!(
            text.contains("da_headers_rejected_total{reason=\"wrong_validator_set\"} 3"),
            "{text}"
        );

        // The honest validator's certificate moved onto another header.
        let (_, _, producer) = setup();
        let a = producer
            .build(Parent(None), &[], &[blob(b"a")])
            .expect("build");
        let mut b = producer
            .build(Parent(None), &[], &[blob(b"b")])
            .expect("build");
        b.header.certificate = a.header.certificate;
        let err = chain.import(b.header, b.block).expect_err("import");
        assert!(
            err.to_string().contains("certificate is for header"),
            "{err}"
        );
        assert_eq!(store.head().expect("head"), None);
    }

    /// A block past the head, or on a parent that is not the stored head, is not imported.
    #[test]
    fn a_block_that_does_not_extend_the_head_is_refused() {
        let (store, chain, producer) = setup();
        let first = producer.build(Parent(None), &[], &[]).expect("build");
        let fork = producer
            .build(Parent(None), &[], &[blob(b"fork")])
            .expect("build");
        let on_fork = || {
            producer
                .build(Parent(Some(&fork.header)), &[], &[])
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

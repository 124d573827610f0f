//! Block production behind a seam: a [`BlockProducer`] builds the next block (square,
//! certified header, proofs) from blobs on a parent; the [`driver`] decides when (every
//! `block_time`, or early when the mempool fills a square) and hands the built block to the
//! import path ([`crate::chain::Chain::import`]).
//!
//! Today's producer is the [`SoloValidator`]: a one-validator BFT chain. It builds the v2 header
//! exactly as the consensus engine's proposer does (`da-consensus`, `app.rs` `build_value`) and
//! certifies it itself (its precommit, aggregated into a certificate that is valid because its
//! power alone is more than 2/3 of the genesis set's). The steps stay separate so the engine can
//! take over: lay out, commit and prove the data ([`BlockData::build`]), the header on a parent
//! ([`SoloValidator::header`]), the vote ([`SoloValidator::certify`]), and the commit
//! ([`crate::chain::Chain::import`]).
//!
//! This module owns the validator key's use for signing and the production metrics.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use da_kzg::{KzgProver, ProofStrategy};
use da_types::{
    attestation::{is_window_end, tuple_root},
    data_root, vote_sign_bytes, Blob, BlockHeader, BlsPublicKey, BlsSecretKey, Certificate,
    CertifiedHeader, ConsensusHeader, SquareLayout, Trust, VoteKind,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, instrument, warn};

use crate::{
    chain::{Chain, VerifiedBlock},
    clock::now_ms,
    error::{NodeError, Result},
    mempool::Mempool,
    metrics::Metrics,
};

/// The round a solo validator decides every height in.
pub const SOLO_ROUND: u32 = 0;

/// A block built on a parent, not imported yet: what a proposer proposes.
#[derive(Debug)]
pub struct BuiltBlock {
    /// The certified header.
    pub header: CertifiedHeader,
    /// Its cells and proofs.
    pub block: VerifiedBlock,
}

/// The parent a block is built on: `None` for the first block.
#[derive(Clone, Copy, Debug)]
pub struct Parent<'a>(pub Option<&'a CertifiedHeader>);

impl Parent<'_> {
    /// The height of the block built on this parent.
    pub fn next_height(&self) -> u64 {
        self.0.map_or(1, |p| p.height() + 1)
    }
}

/// Builds the next block from blobs: "build a proposal at height `h` on parent `p`".
pub trait BlockProducer: Send + Sync + std::fmt::Debug + 'static {
    /// Lays out `blobs` (mempool order), commits, certifies and proves block
    /// `parent.next_height()` on `parent` (blocking: run it off the runtime). `window` holds
    /// the `data_root`s of the earlier heights of the attestation window the new height ends
    /// ([`Chain::window_roots`]); empty when it ends none.
    fn build(&self, parent: Parent<'_>, window: &[[u8; 32]], blobs: &[Blob]) -> Result<BuiltBlock>;
}

/// The data of a block, before any header: what a proposer hands consensus (`k`, blob count,
/// commitments: `da_consensus::BlockData` without the body). [`prove`](Self::prove) adds every
/// cell proof, what the node stores once the block is decided.
#[derive(Debug)]
pub struct BlockData {
    /// Original rows of the square.
    pub k: u16,
    /// Entries in the square index.
    pub blob_count: u32,
    /// The `2k` row commitments.
    pub commitments: Vec<[u8; 48]>,
    square: da_kzg::CommittedSquare,
}

impl BlockData {
    /// Lays out `blobs` (in order) and commits the `2k` rows (blocking): everything a header
    /// needs.
    pub fn commit(kzg: &KzgProver, blobs: &[Blob]) -> Result<Self> {
        let layout = SquareLayout::build(blobs)?;
        let square = kzg.commit_square(&layout)?;
        Ok(Self {
            k: u16::try_from(layout.k())
                .map_err(|_| NodeError::Internal(format!("k = {} overflows", layout.k())))?,
            blob_count: u32::try_from(layout.index().len())
                .map_err(|_| NodeError::Internal("blob count overflows".into()))?,
            commitments: square.commitments().iter().map(|c| c.0).collect(),
            square,
        })
    }

    /// Computes every cell proof (blocking): the block as the store keeps it.
    pub fn prove(self, kzg: &KzgProver) -> Result<VerifiedBlock> {
        let full = self.square.prove(kzg, ProofStrategy::Linear)?;
        Ok(VerifiedBlock::from_square(&full))
    }
}

/// The only validator that signs: builds every header by the consensus rules and certifies it
/// with its own precommit.
#[derive(Debug)]
pub struct SoloValidator {
    key: BlsSecretKey,
    index: usize,
    trust: Trust,
    kzg: Arc<KzgProver>,
    metrics: Arc<Metrics>,
}

impl SoloValidator {
    /// The validator holding `key` in `trust`'s set. Fails (`NodeError::ValidatorKey`) when the
    /// key is not in the set, or its power alone is not more than 2/3 of the total: its
    /// certificates would not verify (several validators need the consensus engine).
    pub fn new(
        key: BlsSecretKey,
        trust: Trust,
        kzg: Arc<KzgProver>,
        metrics: Arc<Metrics>,
    ) -> Result<Self> {
        let pk = key.public_key();
        let set = trust.set();
        let index = set.index_of(&pk).ok_or_else(|| {
            NodeError::ValidatorKey(format!(
                "validator key {pk} is not in the genesis validator set of {:?} ({} \
                 validators); run as a full node (role = full) or use the genesis this key made",
                trust.chain_id(),
                set.len()
            ))
        })?;
        let power = set.get(index).map_or(0, |v| v.power);
        if !set.has_quorum(power) {
            return Err(NodeError::ValidatorKey(format!(
                "validator {pk} holds {power} of {} power: a solo validator needs more than 2/3 \
                 (several validators need the consensus engine)",
                set.total_power()
            )));
        }
        Ok(Self {
            key,
            index,
            trust,
            kzg,
            metrics,
        })
    }

    /// This validator's public key.
    pub fn public_key(&self) -> BlsPublicKey {
        self.key.public_key()
    }

    /// The trusted set and chain it certifies for.
    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    /// The v2 header of a block on `parent`, as `da-consensus` builds a proposal in round 0:
    /// chain hash, height, parent id (zero at height 1), timestamp `max(now, parent's)` (the
    /// genesis time at height 1), proposer `set.proposer(height, 0)`, both validator-set hashes
    /// the genesis set's, `data_root` over `k`, the blob count and the commitments, and the
    /// `tuple_root`: zero unless the height ends an attestation window, else the root over the
    /// window's tuples (`window`: the earlier heights' roots, then this one's).
    pub fn header(
        &self,
        parent: Parent<'_>,
        window: &[[u8; 32]],
        k: u16,
        blob_count: u32,
        commitments: Vec<[u8; 48]>,
    ) -> Result<BlockHeader> {
        let height = parent.next_height();
        let root = data_root(k, blob_count, &commitments);
        let w = self.trust.attestation_window();
        let tuple_root = if is_window_end(height, w) {
            if window.len() as u64 != w - 1 {
                return Err(NodeError::Internal(format!(
                    "height {height} ends an attestation window of {w}: got {} earlier data \
                     roots",
                    window.len()
                )));
            }
            let mut roots = window.to_vec();
            roots.push(root);
            tuple_root(height + 1 - w, &roots)
        } else {
            [0; 32]
        };
        let (parent_id, floor) = parent
            .0
            .map_or(([0u8; 32], self.trust.genesis_time_ms()), |p| {
                (p.id(), p.block.header.timestamp_ms)
            });
        let set = self.trust.set();
        Ok(BlockHeader {
            header: ConsensusHeader {
                chain: self.trust.chain(),
                height,
                parent: parent_id,
                timestamp_ms: now_ms().max(floor),
                proposer: set.proposer(height, SOLO_ROUND) as u32,
                validators_hash: set.hash(),
                next_validators_hash: set.hash(),
                data_root: root,
                tuple_root,
            },
            k,
            blob_count,
            commitments,
        })
    }

    /// Certifies `block` alone: signs the precommit
    /// `vote_sign_bytes(Precommit, chain, height, 0, Some(id))` and aggregates it into a
    /// certificate with this validator's bit (checked once, by `Certificate::aggregate`).
    pub fn certify(&self, block: BlockHeader) -> Result<CertifiedHeader> {
        let chain = self.trust.chain();
        let (height, id) = (block.header.height, block.id());
        let vote = vote_sign_bytes(VoteKind::Precommit, &chain, height, SOLO_ROUND, Some(&id));
        let signature = self.key.sign(&vote);
        let certificate = Certificate::aggregate(
            self.trust.set(),
            &chain,
            height,
            SOLO_ROUND,
            &id,
            &[(self.index, signature)],
        )
        .map_err(|e| NodeError::Internal(format!("certifying block {height}: {e}")))?;
        Ok(CertifiedHeader { block, certificate })
    }
}

impl BlockProducer for SoloValidator {
    #[instrument(skip_all, name = "producer.build", fields(blobs = blobs.len()))]
    fn build(&self, parent: Parent<'_>, window: &[[u8; 32]], blobs: &[Blob]) -> Result<BuiltBlock> {
        let t0 = Instant::now();
        let data = BlockData::commit(&self.kzg, blobs)?;
        let block = self.header(
            parent,
            window,
            data.k,
            data.blob_count,
            data.commitments.clone(),
        )?;
        let header = self.certify(block)?;
        self.metrics
            .time_to_header
            .observe(t0.elapsed().as_secs_f64());
        let block = data.prove(&self.kzg)?;
        self.metrics
            .time_to_proofs
            .observe(t0.elapsed().as_secs_f64());
        Ok(BuiltBlock { header, block })
    }
}

/// Builds one block from `blobs` on the stored head and imports it (blocking).
fn produce_one(producer: &dyn BlockProducer, chain: &Chain, blobs: &[Blob]) -> Result<()> {
    let t0 = Instant::now();
    let parent = match chain.head()? {
        Some(h) => Some(
            chain
                .header(h)?
                .ok_or_else(|| NodeError::Internal(format!("head {h} has no header")))?,
        ),
        None => None,
    };
    let next = parent.as_ref().map_or(1, |p| p.height() + 1);
    let window = chain.window_roots(next)?;
    let built = producer.build(Parent(parent.as_ref()), &window, blobs)?;
    let (height, k) = (built.header.height(), built.header.block.k);
    chain.import(built.header, built.block)?;
    info!(
        height,
        k,
        blobs = blobs.len(),
        ms = t0.elapsed().as_millis() as u64,
        "block produced"
    );
    Ok(())
}

/// What the production driver needs.
#[derive(Debug)]
pub struct Driver {
    /// Builds blocks.
    pub producer: Arc<dyn BlockProducer>,
    /// Imports them.
    pub chain: Arc<Chain>,
    /// Where blobs wait.
    pub mempool: Arc<Mempool>,
    /// Notified when the mempool fills a square.
    pub wake: Arc<Notify>,
    /// Time between blocks.
    pub block_time: Duration,
    /// Mempool gauges.
    pub metrics: Arc<Metrics>,
}

/// Produces a block every `block_time` (or when woken) until `cancel`; a block that fails puts
/// its blobs back in the mempool.
pub async fn driver(d: Driver, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(d.block_time);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            _ = tick.tick() => {}
            () = d.wake.notified() => {}
        }
        let blobs = d.mempool.take_for_block();
        let (producer, chain) = (d.producer.clone(), d.chain.clone());
        let result = tokio::task::spawn_blocking(move || {
            let r = produce_one(producer.as_ref(), &chain, &blobs);
            (r, blobs)
        })
        .await;
        match result {
            Ok((Ok(()), _)) => {}
            Ok((Err(e), blobs)) => {
                warn!("block production failed, blobs return to the mempool: {e}");
                d.mempool.restore(blobs);
            }
            Err(e) => warn!("block production task failed: {e}"),
        }
        d.metrics.mempool_blobs.set(d.mempool.len() as i64);
        d.metrics.mempool_bytes.set(d.mempool.bytes() as i64);
        if d.mempool.fills_square() {
            d.wake.notify_one();
        }
    }
}

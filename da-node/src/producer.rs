//! Block production behind a seam: a [`BlockProducer`] builds the next block (square, signed
//! header, proofs) from blobs on a parent; the [`driver`] decides when (every `block_time`, or
//! early when the mempool fills a square) and hands the built block to the import path
//! ([`crate::chain::Chain::import`]). A consensus engine will call "build a proposal"
//! ([`BlockProducer::build`]) and "commit a decided block" ([`crate::chain::Chain::import`])
//! separately; today's single signer ([`SingleSigner`]) does both back to back.
//!
//! This module owns the producer key's use for signing and the production metrics.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use da_kzg::{KzgProver, ProofStrategy};
use da_types::{Blob, Header, SignedHeader, SquareLayout};
use ed25519_dalek::SigningKey;
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

/// A block built on a parent, not imported yet: what a proposer proposes.
#[derive(Debug)]
pub struct BuiltBlock {
    /// The signed header.
    pub header: SignedHeader,
    /// Its cells and proofs.
    pub block: VerifiedBlock,
}

/// The parent a block is built on: `None` for the first block.
#[derive(Clone, Copy, Debug)]
pub struct Parent<'a>(pub Option<&'a SignedHeader>);

impl Parent<'_> {
    /// The height of the block built on this parent.
    pub fn next_height(&self) -> u64 {
        self.0.map_or(1, |p| p.header.height + 1)
    }
}

/// Builds the next block from blobs: "build a proposal at height `h` on parent `p`".
pub trait BlockProducer: Send + Sync + std::fmt::Debug + 'static {
    /// Lays out `blobs` (mempool order), commits, signs and proves block
    /// `parent.next_height()` on `parent` (blocking: run it off the runtime).
    fn build(&self, parent: Parent<'_>, blobs: &[Blob]) -> Result<BuiltBlock>;
}

/// Today's producer: one ed25519 key signs every header.
#[derive(Debug)]
pub struct SingleSigner {
    chain_id: String,
    key: SigningKey,
    kzg: Arc<KzgProver>,
    metrics: Arc<Metrics>,
}

impl SingleSigner {
    /// A producer for `chain_id` signing with `key`.
    pub fn new(
        chain_id: String,
        key: SigningKey,
        kzg: Arc<KzgProver>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            chain_id,
            key,
            kzg,
            metrics,
        }
    }
}

impl BlockProducer for SingleSigner {
    #[instrument(skip_all, name = "producer.build", fields(blobs = blobs.len()))]
    fn build(&self, parent: Parent<'_>, blobs: &[Blob]) -> Result<BuiltBlock> {
        let t0 = Instant::now();
        let square = SquareLayout::build(blobs)?;
        let committed = self.kzg.commit_square(&square)?;
        let (parent_hash, parent_ts) = parent
            .0
            .map_or(([0u8; 32], 0), |p| (p.hash(), p.header.timestamp_ms));
        let header = Header {
            chain_id: self.chain_id.clone(),
            height: parent.next_height(),
            parent_hash,
            timestamp_ms: now_ms().max(parent_ts),
            k: square.k() as u16,
            commitments: committed.commitments().iter().map(|c| c.0).collect(),
            blob_count: square.index().len() as u32,
        }
        .sign(&self.key)?;
        self.metrics
            .time_to_header
            .observe(t0.elapsed().as_secs_f64());
        let full = committed.prove(&self.kzg, ProofStrategy::Linear)?;
        self.metrics
            .time_to_proofs
            .observe(t0.elapsed().as_secs_f64());
        Ok(BuiltBlock {
            header,
            block: VerifiedBlock::from_square(&full),
        })
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
    let built = producer.build(Parent(parent.as_ref()), blobs)?;
    let (height, k) = (built.header.header.height, built.header.header.k);
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

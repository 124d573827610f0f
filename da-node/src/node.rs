//! The node: shared state, startup, pruning.
//!
//! # Flow (producer)
//! every `block_time` (or when the mempool fills a square): take blobs → build the block
//! (`crate::producer`: square, commitments, signed header, proofs) → import it
//! (`crate::chain`: one atomic store write, notify subscribers).
//!
//! # Flow (full node)
//! Over libp2p (`crate::sync`, the default) or, with `follow` set, over gRPC from one node
//! (`crate::follow`): fetch headers → check signature, parent link and `verify_extension` →
//! fetch every row with proofs and verify every cell in a batch (over libp2p: repair what peers
//! withheld) → import (`crate::chain`: decode and check the index, one atomic store write,
//! notify subscribers).

use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use da_kzg::{Cell, KzgConfig, KzgContext, NamespaceProof, Proof, ProvenCell};
use da_types::{
    layout::{index_cells, CellIndex, IndexEntry},
    ProducerSet,
};
use ed25519_dalek::SigningKey;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub use crate::grpc::MAX_MESSAGE_BYTES;
use crate::{
    chain::Chain,
    clock::now_ms,
    config::{NodeConfig, Role},
    error::{NodeError, Result},
    mempool::Mempool,
    metrics::{self, Metrics},
    producer::{BlockProducer, Driver, SingleSigner},
    store::{RocksStore, Store},
};

/// State shared by the API, the producer or follower, and the pruner.
#[derive(Debug)]
pub struct NodeInner {
    /// The configuration in force.
    pub config: NodeConfig,
    /// The database.
    pub store: Arc<dyn Store>,
    /// Pending blobs.
    pub mempool: Arc<Mempool>,
    /// KZG operations.
    pub kzg: Arc<KzgContext>,
    /// Exported metrics.
    pub metrics: Arc<Metrics>,
    /// Header checks and the import path; new blocks for subscriptions and inclusion waits.
    pub chain: Arc<Chain>,
    /// This node's public key (hex), its identity until the p2p network gives it a peer id.
    pub node_id: String,
    /// Cancelled when the node stops; long-lived streams end on it.
    pub shutdown: CancellationToken,
    key: SigningKey,
    wake: Arc<Notify>,
}

/// A running node; dropping it stops it.
#[derive(Debug)]
pub struct NodeHandle {
    /// The bound gRPC address.
    pub grpc_addr: SocketAddr,
    /// The bound metrics address.
    pub metrics_addr: SocketAddr,
    /// Shared state (for in-process tests and the devnet).
    pub inner: Arc<NodeInner>,
    /// The libp2p network, when `p2p_listen` is set.
    pub p2p: Option<da_network::NetworkClient>,
    cancel: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl NodeHandle {
    /// Stops every task and waits for them.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for NodeHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Reads the node key from `path`, creating a random one if the file does not exist.
pub fn load_or_create_key(path: &Path) -> Result<SigningKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes: [u8; 32] = hex::decode(text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    NodeError::Startup(format!("{}: not 32 bytes of hex", path.display()))
                })?;
            Ok(SigningKey::from_bytes(&bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| NodeError::Startup(format!("{}: {e}", dir.display())))?;
            }
            std::fs::write(path, hex::encode(key.to_bytes()))
                .map_err(|e| NodeError::Startup(format!("{}: {e}", path.display())))?;
            Ok(key)
        }
        Err(e) => Err(NodeError::Startup(format!("{}: {e}", path.display()))),
    }
}

/// Starts a node with its own KZG context.
pub async fn start(config: NodeConfig) -> Result<NodeHandle> {
    let precompute = config.precompute && config.role == Role::Producer;
    let kzg = tokio::task::spawn_blocking(move || {
        Arc::new(KzgContext::new(
            KzgConfig::DEFAULT.with_precompute(precompute),
        ))
    })
    .await
    .map_err(|e| NodeError::Internal(e.to_string()))?;
    start_with(config, kzg).await
}

/// Starts a node sharing a KZG context (several nodes in one process).
pub async fn start_with(config: NodeConfig, kzg: Arc<KzgContext>) -> Result<NodeHandle> {
    config
        .validate()
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    let dir = config.data_dir();
    std::fs::create_dir_all(&dir)
        .map_err(|e| NodeError::Startup(format!("{}: {e}", dir.display())))?;
    let key = load_or_create_key(&dir.join("node.key"))?;
    let store: Arc<dyn Store> = Arc::new(RocksStore::open(&dir.join("db"))?);
    let mempool = Arc::new(
        Mempool::new(config.mempool_max_bytes, config.mempool_max_blobs)
            .with_max_square_k(config.max_square_k),
    );
    let mut restored = 0;
    for blob in store.mempool_all()? {
        if store.blob_height(&blob.id())?.is_none() && mempool.insert(blob).is_ok() {
            restored += 1;
        }
    }
    let mut trusted: Vec<[u8; 32]> = config
        .trusted_producers
        .iter()
        .filter_map(|k| hex::decode(k).ok()?.try_into().ok())
        .collect();
    if config.role == Role::Producer {
        trusted.push(key.verifying_key().to_bytes());
    }
    let cancel = CancellationToken::new();
    let metrics = Arc::new(Metrics::new());
    let chain = Arc::new(Chain::new(
        store.clone(),
        kzg.clone(),
        ProducerSet::new(config.chain_id.clone(), trusted),
        metrics.clone(),
    ));
    let inner = Arc::new(NodeInner {
        shutdown: cancel.clone(),
        node_id: hex::encode(key.verifying_key().to_bytes()),
        key,
        store,
        mempool,
        kzg,
        metrics,
        chain,
        wake: Arc::new(Notify::new()),
        config,
    });
    inner.refresh_gauges();
    let head = inner.store.head()?;
    info!(
        role = %inner.config.role,
        chain = %inner.config.chain_id,
        data_dir = %dir.display(),
        ?head,
        restored_mempool = restored,
        "node starting"
    );

    let grpc = metrics::bind(inner.config.grpc_addr, "gRPC")
        .await
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    let metrics_listener = metrics::bind(inner.config.metrics_addr, "metrics")
        .await
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    let grpc_addr = grpc
        .local_addr()
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    let metrics_addr = metrics_listener
        .local_addr()
        .map_err(|e| NodeError::Startup(e.to_string()))?;

    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(crate::grpc::serve(
        inner.clone(),
        grpc,
        cancel.clone(),
    )));
    let m = inner.metrics.clone();
    let c = cancel.clone();
    tasks.push(tokio::spawn(async move {
        if let Err(e) = metrics::serve(metrics_listener, m, c).await {
            warn!("metrics server stopped: {e}");
        }
    }));
    match inner.config.role {
        Role::Producer => {
            let producer: Arc<dyn BlockProducer> = Arc::new(SingleSigner::new(
                inner.config.chain_id.clone(),
                inner.key.clone(),
                inner.kzg.clone(),
                inner.metrics.clone(),
            ));
            let driver = Driver {
                producer,
                chain: inner.chain.clone(),
                mempool: inner.mempool.clone(),
                wake: inner.wake.clone(),
                block_time: inner.config.block_time(),
                metrics: inner.metrics.clone(),
            };
            tasks.push(tokio::spawn(crate::producer::driver(
                driver,
                cancel.clone(),
            )));
        }
        // Without `follow`, a full node syncs over libp2p (started with the network below).
        Role::Full => {
            if let Some(url) = inner.config.follow.clone() {
                tasks.push(tokio::spawn(crate::follow::run(
                    inner.chain.clone(),
                    url,
                    cancel.clone(),
                )));
            }
        }
    }
    if !inner.config.archival {
        tasks.push(tokio::spawn(prune_loop(inner.clone(), cancel.clone())));
    }
    let p2p = if inner.config.p2p_listen.is_empty() {
        None
    } else {
        let (client, task) = crate::p2p::start(inner.clone(), cancel.clone()).await?;
        tasks.push(task);
        Some(client)
    };
    info!(%grpc_addr, %metrics_addr, "node listening");
    Ok(NodeHandle {
        grpc_addr,
        metrics_addr,
        p2p,
        inner,
        cancel,
        tasks,
    })
}

impl NodeInner {
    /// The node key's secret bytes (also the node's libp2p identity).
    pub(crate) fn secret_key_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The producer's public key (this node's key).
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// Wakes the producer early (the mempool fills a square).
    pub fn wake_producer(&self) {
        self.wake.notify_one();
    }

    fn refresh_gauges(&self) {
        let m = &self.metrics;
        m.mempool_blobs.set(self.mempool.len() as i64);
        m.mempool_bytes.set(self.mempool.bytes() as i64);
        self.chain.refresh_gauges();
    }

    /// Cell `(row, col)` of `height` with its proof, read from the store.
    pub(crate) fn proven(
        &self,
        height: u64,
        k: usize,
        row: usize,
        col: usize,
    ) -> Result<ProvenCell> {
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
    pub(crate) fn original_cells(
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

    /// The completeness proof of `namespace` at `height` with the block's `k` and index, or
    /// `None` when the block is not stored.
    pub(crate) fn namespace_proof(
        &self,
        height: u64,
        namespace: &da_types::Namespace,
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

async fn prune_loop(inner: Arc<NodeInner>, cancel: CancellationToken) {
    let every = Duration::from_secs((inner.config.retention_secs / 4).clamp(1, 60));
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(every) => {}
        }
        let worker = inner.clone();
        match tokio::task::spawn_blocking(move || worker.prune()).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => info!(heights = n, "pruned"),
            Ok(Err(e)) => warn!("pruning failed: {e}"),
            Err(e) => warn!("pruning task failed: {e}"),
        }
    }
}

impl NodeInner {
    /// Deletes heights older than the retention window (never the head). Returns how many.
    pub fn prune(&self) -> Result<usize> {
        let (Some(lowest), Some(head)) = (self.store.lowest()?, self.store.head()?) else {
            return Ok(0);
        };
        let cutoff = now_ms().saturating_sub(self.config.retention_secs.saturating_mul(1000));
        let mut keep_from = lowest;
        while keep_from < head {
            match self.store.header(keep_from)? {
                Some(h) if h.header.timestamp_ms < cutoff => keep_from += 1,
                _ => break,
            }
        }
        let n = self.store.prune_below(keep_from)?;
        if n > 0 {
            self.refresh_gauges();
        }
        Ok(n)
    }
}

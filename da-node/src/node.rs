//! Startup: builds the node's components from its configuration, wires them together and hands
//! back a [`NodeHandle`]. It owns nothing at run time but the tasks it spawned.
//!
//! # Components
//! - the store ([`crate::store`]) and the [`Chain`] (header checks and the one import path);
//! - a producer ([`crate::producer`]: the [`SingleSigner`] and its driver) or a full node's
//!   source of blocks: libp2p sync ([`crate::sync`], the default) or a gRPC upstream
//!   ([`crate::follow`], with `follow` set);
//! - the API ([`crate::grpc`]) and p2p serving (`crate::p2p`), reading through a [`Reader`];
//! - the [`Pruner`] (unless archival) and the metrics endpoint.
//!
//! Components share handles (the store behind `Arc<dyn Store>`, the chain, metrics) and talk
//! over bounded channels (validated gossip to sync, new blocks to subscribers); none reaches
//! into another's state.

use std::{net::SocketAddr, path::Path, sync::Arc};

use da_kzg::{KzgProver, ProverConfig};
use da_types::ProducerSet;
use ed25519_dalek::SigningKey;
use tokio::sync::{broadcast, mpsc, Notify};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub use crate::grpc::MAX_MESSAGE_BYTES;
use crate::{
    chain::{BlockEvent, Chain},
    config::{NodeConfig, Role},
    error::{NodeError, Result},
    grpc::{Api, ApiConfig},
    mempool::Mempool,
    metrics::{self, Metrics},
    p2p::{P2pConfig, P2pParts, ServingPeers},
    producer::{BlockProducer, Driver, SingleSigner},
    prune::Pruner,
    reader::Reader,
    store::{RocksStore, Store},
};

/// Validated gossiped headers buffered for sync.
const GOSSIP_BUFFER: usize = 64;

/// A running node; dropping it stops it.
#[derive(Debug)]
pub struct NodeHandle {
    /// The bound gRPC address.
    pub grpc_addr: SocketAddr,
    /// The bound metrics address.
    pub metrics_addr: SocketAddr,
    /// The libp2p network, when `p2p_listen` is set.
    pub p2p: Option<da_network::NetworkClient>,
    config: Arc<NodeConfig>,
    store: Arc<dyn Store>,
    chain: Arc<Chain>,
    metrics: Arc<Metrics>,
    pruner: Pruner,
    public_key: [u8; 32],
    cancel: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl NodeHandle {
    /// The node's store (blocking reads; for tests, tools and the devnet).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The node's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// This node's public key (the producer's key on a producer).
    pub fn public_key(&self) -> [u8; 32] {
        self.public_key
    }

    /// This node's public key, hex (its identity in `Info`).
    pub fn node_id(&self) -> String {
        hex::encode(self.public_key)
    }

    /// The configuration in force.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The node's chain: header checks and the import path.
    pub fn chain(&self) -> &Arc<Chain> {
        &self.chain
    }

    /// New blocks as they are stored.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<BlockEvent>> {
        self.chain.subscribe()
    }

    /// Deletes heights past the retention window now (blocking). Returns how many.
    pub fn prune(&self) -> Result<usize> {
        self.pruner.prune()
    }

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
        Arc::new(KzgProver::new(
            ProverConfig::DEFAULT.with_precompute(precompute),
        ))
    })
    .await
    .map_err(|e| NodeError::Internal(e.to_string()))?;
    start_with(config, kzg).await
}

/// Starts a node sharing a KZG context (several nodes in one process).
pub async fn start_with(config: NodeConfig, kzg: Arc<KzgProver>) -> Result<NodeHandle> {
    config
        .validate()
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    let dir = config.data_dir();
    std::fs::create_dir_all(&dir)
        .map_err(|e| NodeError::Startup(format!("{}: {e}", dir.display())))?;
    let key = load_or_create_key(&dir.join("node.key"))?;
    let public_key = key.verifying_key().to_bytes();
    let db = dir.join("db");
    let store: Arc<dyn Store> = tokio::task::spawn_blocking(move || RocksStore::open(&db))
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))?
        .map(Arc::new)?;
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
        trusted.push(public_key);
    }
    let metrics = Arc::new(Metrics::new());
    let chain = Arc::new(Chain::new(
        store.clone(),
        kzg.clone(),
        ProducerSet::new(config.chain_id.clone(), trusted),
        metrics.clone(),
    ));
    chain.refresh_gauges();
    metrics.mempool_blobs.set(mempool.len() as i64);
    metrics.mempool_bytes.set(mempool.bytes() as i64);
    let head = store.head()?;
    info!(
        role = %config.role,
        chain = %config.chain_id,
        data_dir = %dir.display(),
        ?head,
        restored_mempool = restored,
        "node starting"
    );

    let grpc = metrics::bind(config.grpc_addr, "gRPC")
        .await
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    let metrics_listener = metrics::bind(config.metrics_addr, "metrics")
        .await
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    let grpc_addr = grpc
        .local_addr()
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    let metrics_addr = metrics_listener
        .local_addr()
        .map_err(|e| NodeError::Startup(e.to_string()))?;

    let cancel = CancellationToken::new();
    let reader = Reader::new(store.clone());
    let wake = Arc::new(Notify::new());
    let mut tasks = Vec::new();
    let api = Api::new(
        ApiConfig::from_node(&config, hex::encode(public_key)),
        reader.clone(),
        chain.clone(),
        mempool.clone(),
        wake.clone(),
        metrics.clone(),
        cancel.clone(),
    );
    tasks.push(tokio::spawn(crate::grpc::serve(api, grpc, cancel.clone())));
    let (m, c) = (metrics.clone(), cancel.clone());
    tasks.push(tokio::spawn(async move {
        if let Err(e) = metrics::serve(metrics_listener, m, c).await {
            warn!("metrics server stopped: {e}");
        }
    }));
    let secret_key = key.to_bytes();
    match config.role {
        Role::Producer => {
            let producer: Arc<dyn BlockProducer> = Arc::new(SingleSigner::new(
                config.chain_id.clone(),
                key,
                kzg,
                metrics.clone(),
            ));
            let driver = Driver {
                producer,
                chain: chain.clone(),
                mempool,
                wake,
                block_time: config.block_time(),
                metrics: metrics.clone(),
            };
            tasks.push(tokio::spawn(crate::producer::driver(
                driver,
                cancel.clone(),
            )));
        }
        // Without `follow`, a full node syncs over libp2p (started with the network below).
        Role::Full => {
            if let Some(url) = config.follow.clone() {
                tasks.push(tokio::spawn(crate::follow::run(
                    chain.clone(),
                    url,
                    cancel.clone(),
                )));
            }
        }
    }
    let pruner = Pruner::new(store.clone(), metrics.clone(), config.retention_secs);
    if !config.archival {
        tasks.push(tokio::spawn(pruner.clone().run(cancel.clone())));
    }
    let p2p = if config.p2p_listen.is_empty() {
        None
    } else {
        let peers = ServingPeers::default();
        let syncing = config.role == Role::Full && config.follow.is_none();
        let (gossip_tx, gossip_rx) = mpsc::channel(GOSSIP_BUFFER);
        let parts = P2pParts {
            config: P2pConfig::from_node(&config),
            secret_key,
            reader,
            chain: chain.clone(),
            peers: peers.clone(),
            gossip: syncing.then_some(gossip_tx),
        };
        let (client, task) = crate::p2p::start(parts, cancel.clone()).await?;
        metrics.attach_network(client.clone());
        tasks.push(task);
        if syncing {
            // Not awaited at shutdown: it stops at its next cancellation point.
            tokio::spawn(crate::sync::run(
                chain.clone(),
                metrics.clone(),
                client.clone(),
                peers,
                gossip_rx,
                cancel.clone(),
            ));
        }
        Some(client)
    };
    info!(%grpc_addr, %metrics_addr, "node listening");
    Ok(NodeHandle {
        grpc_addr,
        metrics_addr,
        p2p,
        config: Arc::new(config),
        store,
        chain,
        metrics,
        pruner,
        public_key,
        cancel,
        tasks,
    })
}

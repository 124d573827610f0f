//! Startup: builds the node's components from its configuration, wires them together and hands
//! back a [`NodeHandle`]. It owns nothing at run time but the tasks it spawned.
//!
//! # Components
//! - the genesis trust ([`crate::genesis`]: `genesis.json`, and the `validator_key` of a
//!   producer);
//! - the store ([`crate::store`], its format checked first) and the [`Chain`] (header checks
//!   against the genesis validator set, and the one import path);
//! - a producer ([`crate::producer`]: the [`SoloValidator`] and its driver) or a full node's
//!   source of blocks: libp2p sync ([`crate::sync`], the default) or a gRPC upstream
//!   ([`crate::follow`], with `follow` set);
//! - the API ([`crate::grpc`]) and p2p serving (`crate::p2p`), reading through a [`Reader`],
//!   with the blob relay (`crate::relay`) between them: blobs `Submit` pooled are announced,
//!   announced blobs are pulled into the pool;
//! - the [`Pruner`] (unless archival) and the metrics endpoint.
//!
//! Components share handles (the store behind `Arc<dyn Store>`, the chain, metrics) and talk
//! over bounded channels (validated gossip to sync, new blocks to subscribers); none reaches
//! into another's state.

use std::{net::SocketAddr, path::Path, sync::Arc};

use da_kzg::{KzgProver, ProverConfig};
use da_types::{BlsPublicKey, Trust};
use ed25519_dalek::SigningKey;
use tokio::sync::{broadcast, mpsc, Notify};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub use crate::grpc::MAX_MESSAGE_BYTES;
use crate::{
    chain::{BlockEvent, Chain},
    config::{NodeConfig, Role},
    error::{NodeError, Result},
    genesis::{read_trust, read_validator_key, VALIDATOR_KEY_FILE},
    grpc::{Api, ApiConfig},
    mempool::Mempool,
    metrics::{self, Metrics},
    p2p::{P2pConfig, P2pParts, ServingPeers},
    producer::{BlockProducer, Driver, SoloValidator},
    prune::Pruner,
    reader::Reader,
    relay::Announcer,
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
    validator: Option<BlsPublicKey>,
    cancel: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The consensus engine, for a validator that decides with others.
    engine: Option<da_consensus::Engine>,
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

    /// This node's ed25519 public key (its libp2p identity).
    pub fn public_key(&self) -> [u8; 32] {
        self.public_key
    }

    /// The BLS key this node certifies blocks with (a producer), if any.
    pub fn validator_key(&self) -> Option<BlsPublicKey> {
        self.validator
    }

    /// The genesis validator set and chain this node trusts.
    pub fn trust(&self) -> &Trust {
        self.chain.trust()
    }

    /// This node's ed25519 public key, hex (its identity in `Info`).
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
        if let Some(e) = self.engine.take() {
            e.stop().await;
        }
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

/// The genesis trust of `config`: its genesis file, whose chain id must be the configured one
/// (and whose `max_square_k` bounds a producer's).
fn load_trust(config: &NodeConfig) -> Result<Trust> {
    let path = config.genesis_path();
    let trust = read_trust(&path)?;
    if trust.chain_id() != config.chain_id {
        return Err(NodeError::Genesis(format!(
            "genesis file {} is for chain {:?}, the node is configured for {:?}",
            path.display(),
            trust.chain_id(),
            config.chain_id
        )));
    }
    if config.role == Role::Producer && config.max_square_k > usize::from(trust.max_square_k()) {
        return Err(NodeError::Genesis(format!(
            "max_square_k = {} exceeds the genesis bound {} of {}",
            config.max_square_k,
            trust.max_square_k(),
            path.display()
        )));
    }
    Ok(trust)
}

/// Opens (or creates) the RocksDB store at `db` off the runtime, checking its format.
async fn open_store(db: std::path::PathBuf) -> Result<Arc<dyn Store>> {
    let store = tokio::task::spawn_blocking(move || RocksStore::open(&db))
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))??;
    Ok(Arc::new(store))
}

/// Starts a node sharing a KZG context (several nodes in one process).
pub async fn start_with(config: NodeConfig, kzg: Arc<KzgProver>) -> Result<NodeHandle> {
    config
        .validate()
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    let dir = config.data_dir();
    std::fs::create_dir_all(&dir)
        .map_err(|e| NodeError::Startup(format!("{}: {e}", dir.display())))?;
    // An existing store's format first: a data dir of another format is refused before
    // anything else. A new store is created only once the genesis is known to be usable.
    let db = dir.join("db");
    let existing = if db.exists() {
        Some(open_store(db.clone()).await?)
    } else {
        None
    };
    let trust = load_trust(&config)?;
    let validator_key = match config.role {
        Role::Producer => Some(read_validator_key(&dir.join(VALIDATOR_KEY_FILE))?),
        Role::Full => None,
    };
    let key = load_or_create_key(&dir.join("node.key"))?;
    let public_key = key.verifying_key().to_bytes();
    let store = match existing {
        Some(s) => s,
        None => open_store(db).await?,
    };
    let mempool = Arc::new(
        Mempool::new(config.mempool_max_bytes, config.mempool_max_blobs)
            .with_namespace_share(config.mempool_max_namespace_bytes)
            .with_max_square_k(config.max_square_k),
    );
    let mut restored = 0;
    for blob in store.mempool_all()? {
        if store.blob_height(&blob.id())?.is_none() && mempool.insert(blob).is_ok() {
            restored += 1;
        }
    }
    let metrics = Arc::new(Metrics::new());
    // With a consensus address the engine decides (any share of the power); without, the key
    // must certify alone (more than 2/3 of the power).
    let (producer, bft_key) = match validator_key {
        Some(k) if config.consensus_listen.is_some() => (None, Some(k)),
        Some(k) => (
            Some(SoloValidator::new(
                k,
                trust.clone(),
                kzg.clone(),
                metrics.clone(),
            )?),
            None,
        ),
        None => (None, None),
    };
    let validator = producer
        .as_ref()
        .map(SoloValidator::public_key)
        .or_else(|| bft_key.as_ref().map(|k| k.public_key()));
    let chain = Arc::new(Chain::new(
        store.clone(),
        kzg.clone(),
        trust.clone(),
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
        validators = trust.set().len(),
        validator = ?validator.map(|k| k.to_string()),
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
    let censored = config
        .censored_namespaces()
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    // Submitted blobs are announced to peers by the relay (with libp2p only).
    let (announcer, announcements) = if config.p2p_listen.is_empty() {
        (Announcer::default(), None)
    } else {
        let (a, rx) = Announcer::channel();
        (a, Some(rx))
    };
    let api = Api::new(
        ApiConfig::from_node(&config, hex::encode(public_key)),
        reader.clone(),
        chain.clone(),
        mempool.clone(),
        wake.clone(),
        metrics.clone(),
        cancel.clone(),
    )
    .with_announcer(announcer);
    tasks.push(tokio::spawn(crate::grpc::serve(
        api,
        grpc,
        config.limits.clone(),
        cancel.clone(),
    )));
    let (m, c, limits) = (metrics.clone(), cancel.clone(), config.limits.clone());
    tasks.push(tokio::spawn(async move {
        if let Err(e) = metrics::serve(metrics_listener, m, limits, c).await {
            warn!("metrics server stopped: {e}");
        }
    }));
    let secret_key = key.to_bytes();
    match producer {
        Some(solo) => {
            let producer: Arc<dyn BlockProducer> = Arc::new(solo);
            let driver = Driver {
                producer,
                chain: chain.clone(),
                mempool: mempool.clone(),
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
        None => {
            if let Some(url) = config.follow.clone() {
                tasks.push(tokio::spawn(crate::follow::run(
                    chain.clone(),
                    url,
                    cancel.clone(),
                )));
            }
        }
    }
    let pruner = Pruner::new(store.clone(), metrics.clone(), config.retention_secs)
        .keeping_heights(trust.dedup_window().max(trust.attestation_window()));
    if !config.archival {
        tasks.push(tokio::spawn(pruner.clone().run(cancel.clone())));
    }
    let mut serving = None;
    let p2p = if let Some(announcements) = announcements {
        let peers = ServingPeers::default();
        serving = Some(peers.clone());
        let syncing = config.role == Role::Full && config.follow.is_none();
        let (gossip_tx, gossip_rx) = mpsc::channel(GOSSIP_BUFFER);
        let parts = P2pParts {
            config: P2pConfig::from_node(&config),
            secret_key,
            reader,
            chain: chain.clone(),
            peers: peers.clone(),
            gossip: syncing.then_some(gossip_tx),
            mempool: mempool.clone(),
            announcements,
            censored: censored.clone(),
            metrics: metrics.clone(),
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
    } else {
        None
    };
    let mut engine = None;
    if let Some(key) = bft_key {
        // The BFT engine decides; the node is its block layer. With libp2p it proves only the
        // blocks it proposed and takes the others' proven rows from its peers.
        let mut app = crate::validator::NodeApp::new(
            chain.clone(),
            store.clone(),
            mempool.clone(),
            kzg.clone(),
        )
        .censoring(censored)
        .repeating_included(config.fault_repeat_included);
        let index = trust.set().index_of(&key.public_key());
        if let (Some(client), Some(peers), Some(index)) = (&p2p, serving, index) {
            let fetcher = crate::sync::RowFetcher::new(client.clone(), kzg.clone());
            app = app.with_proven_rows(
                u32::try_from(index).map_err(|e| NodeError::Internal(e.to_string()))?,
                crate::validator::ProvenRows::new(fetcher, peers),
            );
        }
        let app = Arc::new(app);
        engine = Some(crate::validator::start_engine(app, &config, &dir, &trust, key).await?);
    }
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
        validator,
        cancel,
        tasks,
        engine,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        error::StoreError,
        genesis::{write_genesis, write_validator_key, GENESIS_FILE},
        testing::{genesis, key, kzg},
    };

    fn config(dir: &Path, role: Role) -> NodeConfig {
        NodeConfig {
            chain_id: "start".into(),
            role,
            data_dir: Some(dir.to_path_buf()),
            grpc_addr: "127.0.0.1:0".parse().expect("addr"),
            metrics_addr: "127.0.0.1:0".parse().expect("addr"),
            precompute: false,
            follow: Some("http://127.0.0.1:1".into()),
            ..NodeConfig::default()
        }
    }

    async fn fails(config: NodeConfig) -> NodeError {
        start_with(config, kzg()).await.expect_err("must not start")
    }

    /// Every way the genesis or the validator key can be wrong stops the node with an error
    /// that names the file and says what to do.
    #[tokio::test]
    async fn startup_refuses_missing_or_unusable_genesis_and_keys() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path();
        let e = fails(config(d, Role::Full)).await;
        assert!(
            matches!(&e, NodeError::Genesis(m) if m.contains("not found") && m.contains("da-node init")),
            "{e}"
        );
        write_genesis(&d.join(GENESIS_FILE), &genesis("other", &[(1, 1)])).expect("write");
        let e = fails(config(d, Role::Full)).await;
        assert!(
            matches!(&e, NodeError::Genesis(m) if m.contains("is for chain \"other\"")),
            "{e}"
        );
        std::fs::remove_file(d.join(GENESIS_FILE)).expect("rm");
        // Validator 1 holds 1 of 4: not a quorum alone.
        write_genesis(&d.join(GENESIS_FILE), &genesis("start", &[(1, 1), (2, 3)])).expect("write");
        let e = fails(config(d, Role::Producer)).await;
        assert!(
            matches!(&e, NodeError::ValidatorKey(m) if m.contains("not found")),
            "{e}"
        );
        write_validator_key(&d.join(VALIDATOR_KEY_FILE), &key(1)).expect("key");
        let e = fails(config(d, Role::Producer)).await;
        assert!(
            matches!(&e, NodeError::ValidatorKey(m) if m.contains("more than 2/3")),
            "{e}"
        );
        std::fs::remove_file(d.join(VALIDATOR_KEY_FILE)).expect("rm");
        write_validator_key(&d.join(VALIDATOR_KEY_FILE), &key(3)).expect("key");
        let e = fails(config(d, Role::Producer)).await;
        assert!(
            matches!(&e, NodeError::ValidatorKey(m) if m.contains("not in the genesis validator set")),
            "{e}"
        );
        // A full node needs no key and starts on the same files.
        let full = start_with(config(d, Role::Full), kzg())
            .await
            .expect("a full node starts");
        assert!(full.validator_key().is_none());
        assert_eq!(full.trust().set().len(), 2);
        full.shutdown().await;
        // A producer whose square limit exceeds the genesis bound.
        let big = NodeConfig {
            max_square_k: 128,
            ..config(d, Role::Producer)
        };
        std::fs::remove_file(d.join(GENESIS_FILE)).expect("rm");
        let mut g = genesis("start", &[(3, 1)]);
        g.max_square_k = 64;
        write_genesis(&d.join(GENESIS_FILE), &g).expect("write");
        let e = fails(big).await;
        assert!(
            matches!(&e, NodeError::Genesis(m) if m.contains("exceeds the genesis bound 64")),
            "{e}"
        );
    }

    /// A data dir of the ed25519 node (store format 1) is refused before anything else.
    #[tokio::test]
    async fn startup_refuses_a_data_dir_of_the_old_format() {
        let dir = tempfile::tempdir().expect("tmp");
        drop(RocksStore::open(&dir.path().join("db")).expect("empty db opens"));
        // What a v1 node leaves: a head record and no format record.
        {
            let o = rocksdb::Options::default();
            let cfs = rocksdb::DB::list_cf(&o, dir.path().join("db")).expect("cfs");
            let db = rocksdb::DB::open_cf(&o, dir.path().join("db"), &cfs).expect("db");
            let meta = db.cf_handle("meta").expect("meta");
            db.delete_cf(meta, b"format").expect("delete");
            db.put_cf(meta, b"head", 1u64.to_be_bytes()).expect("put");
        }
        let e = fails(config(dir.path(), Role::Full)).await;
        assert!(
            matches!(&e, NodeError::Store(StoreError::Format { found: 1, .. })),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("holds format 1 (ed25519 headers); this node needs format 2"),
            "{e}"
        );
    }
}

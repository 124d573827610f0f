//! In-process nodes on 127.0.0.1: a [`Cluster`] hands out configs for producers, full nodes and
//! light clients of one chain (ephemeral ports, a temporary data dir each, libp2p on) and starts
//! them with one shared KZG context. The chain has a genesis file the cluster owns: by default
//! one validator whose key every producer of the cluster holds ([`Cluster::new`]), or any set in
//! which the producers' key holds more than 2/3 of the power ([`Cluster::with_genesis`]). Tests
//! change what they need in a config before starting it.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock, PoisonError},
};

use da_kzg::{KzgProver, KzgVerifier, ProverConfig};
use da_light::{LightClient, LightConfig, SamplerConfig};
use da_network::Multiaddr;
use da_node::{
    config::Role,
    genesis::{init_solo, write_genesis, write_validator_key, GENESIS_FILE, VALIDATOR_KEY_FILE},
    NodeConfig, NodeHandle,
};
use da_types::{consts::K_MAX, BlsSecretKey, Genesis, Trust};
use tempfile::TempDir;

/// One KZG prover (no window tables) for every node of the test binary.
pub fn kzg() -> Arc<KzgProver> {
    static K: OnceLock<Arc<KzgProver>> = OnceLock::new();
    K.get_or_init(|| Arc::new(KzgProver::new(ProverConfig::DEFAULT)))
        .clone()
}

/// The shared prover's verifier, for light clients and other verifying components.
pub fn verifier() -> Arc<KzgVerifier> {
    Arc::new(kzg().verifier().clone())
}

/// A producer of chain `chain` under `dir`: ephemeral gRPC, metrics and libp2p ports on
/// 127.0.0.1, 300 ms blocks, no prover tables. Unless `dir` has a `genesis.json` already, a
/// fresh validator key and a one-validator genesis (`max_square_k` = `K_MAX`) are written into
/// it, as `da-node init` does.
pub fn producer_config(chain: &str, dir: &Path) -> NodeConfig {
    if !dir.join(GENESIS_FILE).exists() {
        init_solo(dir, chain, K_MAX as u16).expect("a one-validator genesis in the data dir");
    }
    node_config(chain, dir)
}

/// [`producer_config`] without writing anything: the node needs a genesis file (`genesis`, or
/// `genesis.json` in `dir`), and a producer its validator key.
pub fn node_config(chain: &str, dir: &Path) -> NodeConfig {
    NodeConfig {
        chain_id: chain.into(),
        role: Role::Producer,
        data_dir: Some(dir.to_path_buf()),
        grpc_addr: "127.0.0.1:0".parse().expect("addr"),
        metrics_addr: "127.0.0.1:0".parse().expect("addr"),
        block_time_ms: 300,
        precompute: false,
        p2p_listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
        ..NodeConfig::default()
    }
}

/// Starts a node in-process with the shared KZG context.
pub async fn start(config: NodeConfig) -> NodeHandle {
    da_node::start_with(config, kzg())
        .await
        .expect("node starts")
}

/// A chain's worth of in-process nodes; owns their data dirs and the genesis file (removed when
/// it drops).
#[derive(Debug)]
pub struct Cluster {
    chain: String,
    dirs: Mutex<Vec<TempDir>>,
    genesis_dir: TempDir,
    key: BlsSecretKey,
    trust: Trust,
}

impl Cluster {
    /// A cluster for chain `chain` whose genesis has one validator (a fresh key, power 1,
    /// `max_square_k` = `K_MAX`).
    pub fn new(chain: &str) -> Self {
        let key = BlsSecretKey::generate(&mut rand::rngs::OsRng);
        let genesis = da_node::genesis::solo_genesis(chain, &key, K_MAX as u16);
        Self::with_genesis(genesis, key)
    }

    /// A cluster for `genesis`'s chain whose producers certify with `key` (its validator must
    /// hold more than 2/3 of the power, or producers refuse to start).
    pub fn with_genesis(genesis: Genesis, key: BlsSecretKey) -> Self {
        let genesis_dir = tempfile::tempdir().expect("temporary genesis dir");
        write_genesis(&genesis_dir.path().join(GENESIS_FILE), &genesis).expect("write genesis");
        let trust = Trust::from_genesis(&genesis).expect("a valid genesis");
        Self {
            chain: genesis.chain_id,
            dirs: Mutex::new(Vec::new()),
            genesis_dir,
            key,
            trust,
        }
    }

    /// The chain id.
    pub fn chain(&self) -> &str {
        &self.chain
    }

    /// The genesis file every node of the cluster reads.
    pub fn genesis_path(&self) -> PathBuf {
        self.genesis_dir.path().join(GENESIS_FILE)
    }

    /// The genesis validator set and chain.
    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    /// The key producers certify with.
    pub fn validator_key(&self) -> &BlsSecretKey {
        &self.key
    }

    /// The shared KZG prover.
    pub fn kzg(&self) -> Arc<KzgProver> {
        kzg()
    }

    /// A fresh temporary data dir, removed with the cluster.
    pub fn dir(&self) -> PathBuf {
        let d = tempfile::tempdir().expect("temporary data dir");
        let path = d.path().to_path_buf();
        self.dirs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(d);
        path
    }

    /// A producer in a fresh data dir holding the cluster's validator key, reading the
    /// cluster's genesis.
    pub fn producer_config(&self) -> NodeConfig {
        let dir = self.dir();
        write_validator_key(&dir.join(VALIDATOR_KEY_FILE), &self.key).expect("validator key");
        NodeConfig {
            genesis: Some(self.genesis_path()),
            ..node_config(&self.chain, &dir)
        }
    }

    /// A full node of the cluster's genesis (no validator key), bootstrapped from `bootstrap`.
    pub fn full_config(&self, bootstrap: &[Multiaddr]) -> NodeConfig {
        NodeConfig {
            role: Role::Full,
            genesis: Some(self.genesis_path()),
            p2p_bootstrap: bootstrap.iter().map(ToString::to_string).collect(),
            ..node_config(&self.chain, &self.dir())
        }
    }

    /// Starts a node with the shared KZG context.
    pub async fn start(&self, config: NodeConfig) -> NodeHandle {
        start(config).await
    }

    /// Starts a producer with `producer_config`.
    pub async fn producer(&self) -> NodeHandle {
        self.start(self.producer_config()).await
    }

    /// Starts a full node bootstrapped from `via`'s listen addresses.
    pub async fn full(&self, via: &NodeHandle) -> NodeHandle {
        let bootstrap = p2p_addrs(via).await;
        self.start(self.full_config(&bootstrap)).await
    }

    /// A light client trusting the cluster's genesis, bootstrapped from `bootstrap`, sampling
    /// with `seed`, not listening.
    pub fn light_config(&self, bootstrap: Vec<Multiaddr>, seed: u64) -> LightConfig {
        LightConfig {
            trust: self.trust.clone(),
            bootstrap,
            listen: Vec::new(),
            sampler: SamplerConfig::default(),
            seed: Some(seed),
        }
    }

    /// Starts a light client with the shared prover's verifier.
    pub async fn start_light(&self, config: LightConfig) -> LightClient {
        LightClient::start(config, verifier())
            .await
            .expect("light client starts")
    }
}

/// A node's libp2p listen addresses (panics if its p2p is off).
pub async fn p2p_addrs(node: &NodeHandle) -> Vec<Multiaddr> {
    node.p2p
        .as_ref()
        .expect("p2p on")
        .listen_addrs()
        .await
        .expect("listen addresses")
}

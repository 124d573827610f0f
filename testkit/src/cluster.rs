//! In-process nodes on 127.0.0.1: a [`Cluster`] hands out configs for producers, full nodes and
//! light clients of one chain (ephemeral ports, a temporary data dir each, libp2p on) and starts
//! them with one shared KZG context. Tests change what they need in a config before starting it.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock, PoisonError},
};

use da_kzg::{KzgProver, KzgVerifier, ProverConfig};
use da_light::{LightClient, LightConfig, SamplerConfig};
use da_network::Multiaddr;
use da_node::{config::Role, NodeConfig, NodeHandle};
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
/// 127.0.0.1, 300 ms blocks, no prover tables.
pub fn producer_config(chain: &str, dir: &Path) -> NodeConfig {
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

/// A chain's worth of in-process nodes; owns their data dirs (removed when it drops).
#[derive(Debug)]
pub struct Cluster {
    chain: String,
    dirs: Mutex<Vec<TempDir>>,
}

impl Cluster {
    /// A cluster for chain `chain`.
    pub fn new(chain: &str) -> Self {
        Self {
            chain: chain.into(),
            dirs: Mutex::new(Vec::new()),
        }
    }

    /// The chain id.
    pub fn chain(&self) -> &str {
        &self.chain
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

    /// A [`producer_config`] in a fresh data dir.
    pub fn producer_config(&self) -> NodeConfig {
        producer_config(&self.chain, &self.dir())
    }

    /// A full node trusting `producer`'s key and bootstrapped from `bootstrap`.
    pub fn full_config(&self, producer: &NodeHandle, bootstrap: &[Multiaddr]) -> NodeConfig {
        NodeConfig {
            role: Role::Full,
            trusted_producers: vec![hex::encode(producer.public_key())],
            p2p_bootstrap: bootstrap.iter().map(ToString::to_string).collect(),
            ..self.producer_config()
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

    /// Starts a full node trusting `producer` and bootstrapped from `via`'s listen addresses.
    pub async fn full(&self, producer: &NodeHandle, via: &NodeHandle) -> NodeHandle {
        let bootstrap = p2p_addrs(via).await;
        self.start(self.full_config(producer, &bootstrap)).await
    }

    /// A light client trusting `producer`, bootstrapped from `bootstrap`, sampling with `seed`,
    /// not listening.
    pub fn light_config(
        &self,
        producer: &NodeHandle,
        bootstrap: Vec<Multiaddr>,
        seed: u64,
    ) -> LightConfig {
        LightConfig {
            chain_id: self.chain.clone(),
            producers: vec![producer.public_key()],
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

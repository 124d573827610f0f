//! An in-memory block layer ([`MemoryApp`]) and a local validator network on 127.0.0.1
//! ([`LocalNet`]): what the engine's tests and the `rate` example run, and a reference for
//! implementing [`Application`].
//!
//! Not for production: blocks live in memory, the "data rule" is a hash of the body.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use da_types::{
    bls::BlsSecretKey,
    certificate::Certificate,
    header_v2::{chain_hash, BlockHeader},
    validators::{Validator, ValidatorSet},
};
use malachitebft_app_channel::app::types::core::LinearTimeouts;
use sha2::{Digest, Sha256};

use crate::app::{AppError, Application, BlockData, DecidedBlock, Params, Rejection, Tip};
use crate::engine::{start, Engine, EngineConfig, EngineError};
use crate::metrics::ConsensusMetrics;

/// Commitment 0 of a block is SHA-256 of its body (padded): the data rule this app checks.
pub fn commitment_of(body: &[u8]) -> [u8; 48] {
    let mut c = [0u8; 48];
    c[..32].copy_from_slice(&Sha256::digest(body));
    c
}

#[derive(Default)]
struct Chain {
    blocks: BTreeMap<u64, (DecidedBlock, Certificate)>,
    /// When each height was committed here.
    committed_at: BTreeMap<u64, Instant>,
}

/// An in-memory block layer; `lie` makes it propose a block whose commitment is wrong.
pub struct MemoryApp {
    chain: Mutex<Chain>,
    genesis_ms: u64,
    lie: bool,
    name: String,
    /// Blocks built so far (each `build` call).
    builds: std::sync::atomic::AtomicU64,
}

impl MemoryApp {
    /// A block layer named `name` (in its bodies), genesis at `genesis_ms`.
    pub fn new(name: &str, genesis_ms: u64, lie: bool) -> Arc<Self> {
        Arc::new(Self {
            chain: Mutex::new(Chain::default()),
            genesis_ms,
            lie,
            name: name.into(),
            builds: Default::default(),
        })
    }

    /// How many times consensus asked this layer to build a block.
    pub fn builds(&self) -> u64 {
        self.builds.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn chain(&self) -> std::sync::MutexGuard<'_, Chain> {
        self.chain.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Highest committed height.
    pub fn height(&self) -> u64 {
        self.chain().blocks.keys().next_back().copied().unwrap_or(0)
    }

    /// Header id and decision round per committed height.
    pub fn ids(&self) -> BTreeMap<u64, ([u8; 32], u32)> {
        self.chain()
            .blocks
            .iter()
            .map(|(h, (b, c))| (*h, (b.header.id(), c.round)))
            .collect()
    }
}

#[async_trait]
impl Application for MemoryApp {
    async fn tip(&self) -> Result<Tip, AppError> {
        let c = self.chain();
        Ok(match c.blocks.iter().next_back() {
            Some((h, (b, _))) => Tip {
                height: *h,
                id: b.header.id(),
                timestamp_ms: b.header.header.timestamp_ms,
            },
            None => Tip {
                height: 0,
                id: [0; 32],
                timestamp_ms: self.genesis_ms,
            },
        })
    }

    async fn history_min(&self) -> u64 {
        1
    }

    async fn build(&self, height: u64, _max_k: u16) -> Result<BlockData, AppError> {
        self.builds
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let body = Bytes::from(format!("block {height} by {}", self.name).into_bytes());
        let mut c0 = commitment_of(&body);
        if self.lie {
            c0[0] ^= 1;
        }
        Ok(BlockData {
            k: 1,
            blob_count: 0,
            commitments: vec![c0, [7u8; 48]],
            body,
        })
    }

    async fn check(&self, header: &BlockHeader, body: &Bytes) -> Result<(), Rejection> {
        if header.commitments.first() != Some(&commitment_of(body)) {
            return Err(Rejection::new(
                "commitments",
                "commitment 0 is not the body's",
            ));
        }
        Ok(())
    }

    async fn commit(&self, block: DecidedBlock, certificate: Certificate) -> Result<(), AppError> {
        let mut c = self.chain();
        let height = block.header.header.height;
        c.blocks.insert(height, (block, certificate));
        c.committed_at.insert(height, Instant::now());
        Ok(())
    }

    async fn decided(&self, height: u64) -> Result<Option<DecidedBlock>, AppError> {
        Ok(self.chain().blocks.get(&height).map(|(b, _)| b.clone()))
    }

    async fn data_roots(&self, from: u64, to: u64) -> Result<Vec<[u8; 32]>, AppError> {
        let c = self.chain();
        (from..=to)
            .map(|h| {
                c.blocks
                    .get(&h)
                    .map(|(b, _)| b.header.header.data_root)
                    .ok_or_else(|| AppError(format!("no block at {h}")))
            })
            .collect()
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// `n` validator keys from fixed seeds.
pub fn keys(n: usize) -> Vec<BlsSecretKey> {
    (0..n)
        .map(|i| BlsSecretKey::from_ikm(&[i as u8 + 1; 32]))
        .collect()
}

/// Parameters of a local chain of `keys` (power 10 each), blocks every `block_time`.
pub fn params(keys: &[BlsSecretKey], block_time: Duration) -> Params {
    let set = ValidatorSet::new(
        keys.iter()
            .map(|k| Validator {
                public_key: k.public_key(),
                power: 10,
            })
            .collect(),
    )
    .expect("distinct keys of power 10 make a set");
    Params {
        chain: chain_hash("consensus-test"),
        validators: set,
        max_square_k: 64,
        genesis_time_ms: 1,
        block_time,
        timeouts: LinearTimeouts {
            propose: Duration::from_millis(1500),
            prevote: Duration::from_millis(500),
            precommit: Duration::from_millis(500),
            ..LinearTimeouts::default()
        },
        attestation_window: 4,
    }
}

/// Validators on 127.0.0.1, each with a [`MemoryApp`], a WAL under its own directory and the
/// other validators as persistent peers.
pub struct LocalNet {
    engines: Vec<Option<Engine>>,
    keys: Vec<BlsSecretKey>,
    cfgs: Vec<EngineConfig>,
    /// The chain's parameters.
    pub params: Params,
    /// Each validator's block layer.
    pub apps: Vec<Arc<MemoryApp>>,
    /// Each validator's metrics.
    pub metrics: Vec<ConsensusMetrics>,
}

impl LocalNet {
    /// Configures `n` validators under `dir` (`dir/v0`, ...); `liars` propose wrong data.
    /// Nothing runs until [`LocalNet::start`].
    pub fn new(n: usize, liars: &[usize], dir: &Path, block_time: Duration) -> Self {
        let keys = keys(n);
        let params = params(&keys, block_time);
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let addr = |p: u16| {
            format!("/ip4/127.0.0.1/tcp/{p}")
                .parse()
                .expect("a TCP multiaddr parses")
        };
        let cfgs = (0..n)
            .map(|i| EngineConfig {
                moniker: format!("v{i}"),
                home: PathBuf::from(dir).join(format!("v{i}")),
                listen: addr(ports[i]),
                peers: (0..n).filter(|j| *j != i).map(|j| addr(ports[j])).collect(),
                network_seed: [i as u8 + 100; 32],
            })
            .collect();
        Self {
            engines: (0..n).map(|_| None).collect(),
            apps: (0..n)
                .map(|i| MemoryApp::new(&format!("v{i}"), 1, liars.contains(&i)))
                .collect(),
            metrics: (0..n).map(|_| ConsensusMetrics::default()).collect(),
            keys,
            cfgs,
            params,
        }
    }

    /// Starts every validator not running.
    pub async fn start(&mut self) -> Result<(), EngineError> {
        for i in 0..self.engines.len() {
            if self.engines[i].is_none() {
                self.restart(i).await?;
            }
        }
        Ok(())
    }

    /// Starts validator `i` as a Byzantine one (feature `byzantine`).
    #[cfg(feature = "byzantine")]
    pub async fn start_byzantine(
        &mut self,
        i: usize,
        byzantine: malachitebft_engine_byzantine::ByzantineConfig,
    ) -> Result<(), EngineError> {
        let engine = crate::engine::start_byzantine(
            self.apps[i].clone(),
            self.params.clone(),
            self.keys[i].clone(),
            self.cfgs[i].clone(),
            self.metrics[i].clone(),
            byzantine,
        )
        .await?;
        self.engines[i] = Some(engine);
        Ok(())
    }

    /// Stops validator `i` (its actors and app loop; its blocks and WAL stay).
    pub async fn kill(&mut self, i: usize) {
        if let Some(e) = self.engines[i].take() {
            e.stop().await;
        }
    }

    /// Starts validator `i` (again) on its blocks, WAL and ports.
    pub async fn restart(&mut self, i: usize) -> Result<(), EngineError> {
        let engine = start(
            self.apps[i].clone(),
            self.params.clone(),
            Some(self.keys[i].clone()),
            self.cfgs[i].clone(),
            self.metrics[i].clone(),
        )
        .await?;
        self.engines[i] = Some(engine);
        Ok(())
    }

    /// Each validator's committed height.
    pub fn heights(&self) -> Vec<u64> {
        self.apps.iter().map(|a| a.height()).collect()
    }

    /// The first height at which two validators hold different headers, if any.
    pub fn fork(&self) -> Option<u64> {
        let chains: Vec<_> = self.apps.iter().map(|a| a.ids()).collect();
        for (h, (id, _)) in &chains[0] {
            for c in chains.iter().skip(1) {
                if c.get(h).is_some_and(|(other, _)| other != id) {
                    return Some(*h);
                }
            }
        }
        None
    }

    /// Stops every validator.
    pub async fn stop_all(mut self) {
        for i in 0..self.engines.len() {
            self.kill(i).await;
        }
    }
}

impl MemoryApp {
    /// Verifies every stored certificate against `params`; the first failure.
    pub fn check_certificates(&self, params: &Params) -> Result<(), String> {
        let c = self.chain();
        for (h, (b, cert)) in &c.blocks {
            let power = cert
                .verify(&params.validators, &params.chain, &b.header.header)
                .map_err(|e| format!("certificate at {h}: {e}"))?;
            if !params.validators.has_quorum(power) {
                return Err(format!("certificate at {h} without quorum"));
            }
        }
        Ok(())
    }

    /// Header proposer index and certificate round per committed height.
    pub fn proposers(&self) -> BTreeMap<u64, (u32, u32)> {
        self.chain()
            .blocks
            .iter()
            .map(|(h, (b, c))| (*h, (b.header.header.proposer, c.round)))
            .collect()
    }

    /// The full header stored at `height`.
    pub fn header(&self, height: u64) -> Option<BlockHeader> {
        self.chain()
            .blocks
            .get(&height)
            .map(|(b, _)| b.header.clone())
    }

    /// When each height was committed here.
    pub fn commit_times(&self) -> BTreeMap<u64, Instant> {
        self.chain().committed_at.clone()
    }
}

//! Starting and stopping the engine: Malachite's actors (consensus, its own libp2p network,
//! value sync, WAL under the node's data dir) plus the app loop of [`crate::app`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytesize::ByteSize;
use da_types::bls::BlsSecretKey;
use malachitebft_app_channel::app::config::{
    ConsensusConfig, DiscoveryConfig, NodeConfig, P2pConfig, PubSubProtocol, ValueSyncConfig,
};
use malachitebft_app_channel::app::net::Multiaddr;
use malachitebft_app_channel::app::types::Keypair;
use malachitebft_app_channel::{
    ConsensusContext, EngineBuilder, EngineHandle, NetworkContext, NetworkIdentity, RequestContext,
    Signer, SyncContext, WalContext,
};
use malachitebft_codec::Codec;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{error, Instrument};

use crate::app::{AppState, Application, Decision, Params};
use crate::codec::WireCodec;
use crate::context::{Address, DaContext};
use crate::metrics::ConsensusMetrics;
use crate::signing::{BlsSigner, BlsVerifier};

/// Why the engine did not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The validator key is not in the genesis set (it could never vote).
    #[error("the validator key {0} is not in the genesis validator set")]
    NotAValidator(String),
    /// The engine's actors failed to start.
    #[error("consensus engine: {0}")]
    Start(String),
    /// The WAL directory could not be created.
    #[error("consensus WAL directory {path}: {source}")]
    Wal {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Where the engine listens, whom it dials and where its WAL lives.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Name in logs.
    pub moniker: String,
    /// Directory of the WAL (`<data dir>/consensus`).
    pub home: PathBuf,
    /// Address the consensus network listens on (`/ip4/127.0.0.1/tcp/PORT`).
    pub listen: Multiaddr,
    /// The other validators' consensus addresses.
    pub peers: Vec<Multiaddr>,
    /// Seed of the consensus network's ed25519 identity.
    pub network_seed: [u8; 32],
}

#[derive(Clone, Debug)]
struct Config {
    moniker: String,
    consensus: ConsensusConfig,
    value_sync: ValueSyncConfig,
}

impl NodeConfig for Config {
    fn moniker(&self) -> &str {
        &self.moniker
    }

    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }

    fn consensus_mut(&mut self) -> &mut ConsensusConfig {
        &mut self.consensus
    }

    fn value_sync(&self) -> &ValueSyncConfig {
        &self.value_sync
    }

    fn value_sync_mut(&mut self) -> &mut ValueSyncConfig {
        &mut self.value_sync
    }
}

fn config(cfg: &EngineConfig) -> Config {
    let p2p = P2pConfig {
        listen_addr: cfg.listen.clone(),
        persistent_peers: cfg.peers.clone(),
        discovery: DiscoveryConfig::default(),
        protocol: PubSubProtocol::default(),
        // A proposal part carries at most one 1 MiB body chunk.
        pubsub_max_size: ByteSize::mib(4),
        // A synced block carries a whole square's blobs.
        rpc_max_size: ByteSize::mib(80),
        ..P2pConfig::default()
    };
    let value_sync = ValueSyncConfig {
        enabled: true,
        status_update_interval: Duration::from_secs(2),
        request_timeout: Duration::from_secs(20),
        max_response_size: ByteSize::mib(80),
        batch_size: 1,
        ..ValueSyncConfig::default()
    };
    Config {
        moniker: cfg.moniker.clone(),
        consensus: ConsensusConfig {
            p2p,
            ..ConsensusConfig::default()
        },
        value_sync,
    }
}

/// A running engine.
pub struct Engine {
    handle: EngineHandle,
    app: JoinHandle<()>,
    decisions: watch::Receiver<Option<Decision>>,
    address: Address,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// The latest decision (updated after it is committed).
    pub fn decisions(&self) -> watch::Receiver<Option<Decision>> {
        self.decisions.clone()
    }

    /// This node's validator address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Stops the actors and the app loop.
    pub async fn stop(self) {
        let _ = self.handle.actor.kill_and_wait(None).await;
        self.app.abort();
        self.handle.handle.abort();
    }
}

/// What both the honest and the Byzantine start share: the context, the network identity,
/// the consensus role and (for a validator) its signer.
struct Prepared {
    ctx: DaContext,
    address: Address,
    identity: NetworkIdentity,
    consensus: ConsensusContext<DaContext>,
    /// The validator's signer (the Byzantine start hands it to the network proxy).
    #[cfg_attr(not(feature = "byzantine"), allow(dead_code))]
    signer: Option<BlsSigner>,
    wal: PathBuf,
}

async fn prepare(
    params: &Params,
    key: Option<BlsSecretKey>,
    cfg: &EngineConfig,
) -> Result<Prepared, EngineError> {
    let wal_dir = cfg.home.join("wal");
    std::fs::create_dir_all(&wal_dir).map_err(|source| EngineError::Wal {
        path: wal_dir.clone(),
        source,
    })?;
    let ctx = DaContext::new(params.chain);
    let keypair = Keypair::ed25519_from_bytes(cfg.network_seed)
        .map_err(|e| EngineError::Start(format!("network key: {e}")))?;
    let verifier = BlsVerifier::new(params.chain);
    let prepared = match key {
        Some(key) => {
            let public = key.public_key();
            if params.validators.index_of(&public).is_none() {
                return Err(EngineError::NotAValidator(hex::encode(public.to_bytes())));
            }
            let address = Address::of(&public);
            let signer = BlsSigner::new(key, params.chain);
            let peer = keypair.public().to_peer_id().to_bytes();
            let proof = signer
                .sign_validator_proof(public.to_bytes().to_vec(), peer)
                .await
                .map_err(|e| EngineError::Start(format!("validator proof: {e}")))?;
            let proof_bytes = WireCodec
                .encode(&proof)
                .map_err(|e| EngineError::Start(format!("validator proof: {e}")))?;
            let identity = NetworkIdentity::new_validator(
                cfg.moniker.clone(),
                keypair,
                address.to_string(),
                proof_bytes,
            );
            let consensus = ConsensusContext::new_validator(
                address,
                Box::new(verifier),
                Box::new(signer.clone()),
            );
            Prepared {
                ctx,
                address,
                identity,
                consensus,
                signer: Some(signer),
                wal: wal_dir.join("consensus.wal"),
            }
        }
        None => {
            let address = Address([0u8; 20]);
            Prepared {
                ctx,
                address,
                identity: NetworkIdentity::new(cfg.moniker.clone(), keypair, None),
                consensus: ConsensusContext::new_full_node(address, Box::new(verifier)),
                signer: None,
                wal: wal_dir.join("consensus.wal"),
            }
        }
    };
    Ok(prepared)
}

/// Spawns the app loop on the engine's channels: the running [`Engine`].
fn spawn_app<A: Application>(
    app: Arc<A>,
    params: Params,
    address: Address,
    metrics: ConsensusMetrics,
    mut channels: malachitebft_app_channel::Channels<DaContext>,
    handle: EngineHandle,
    moniker: &str,
) -> Engine {
    let (tx, decisions) = watch::channel(None);
    let mut state = AppState::new(app, params, address, metrics, tx);
    let span = tracing::info_span!("consensus", node = %moniker);
    let app = tokio::spawn(
        async move {
            if let Err(e) = crate::app::run(&mut state, &mut channels).await {
                error!(%e, "consensus app loop stopped");
            }
        }
        .instrument(span),
    );
    Engine {
        handle,
        app,
        decisions,
        address,
    }
}

/// Starts consensus for `app`: as a validator when `key` is given, else as a full node that
/// follows decisions.
pub async fn start<A: Application>(
    app: Arc<A>,
    params: Params,
    key: Option<BlsSecretKey>,
    cfg: EngineConfig,
    metrics: ConsensusMetrics,
) -> Result<Engine, EngineError> {
    let p = prepare(&params, key, &cfg).await?;
    let (channels, handle) = EngineBuilder::new(p.ctx, config(&cfg))
        .with_default_wal(WalContext::new(p.wal, WireCodec))
        .with_default_network(NetworkContext::new(p.identity, WireCodec))
        .with_default_consensus(p.consensus)
        .with_default_sync(SyncContext::new(WireCodec))
        .with_default_request(RequestContext::new(64))
        .build()
        .await
        .map_err(|e| EngineError::Start(e.to_string()))?;
    Ok(spawn_app(
        app,
        params,
        p.address,
        metrics,
        channels,
        handle,
        &cfg.moniker,
    ))
}

/// Starts a **Byzantine** validator for tests (feature `byzantine`): Malachite's network proxy
/// signs and sends what `byzantine` asks (two proposals or two votes per step, ...); a
/// conflicting proposal differs from the honest one in its timestamp.
#[cfg(feature = "byzantine")]
pub async fn start_byzantine<A: Application>(
    app: Arc<A>,
    params: Params,
    key: BlsSecretKey,
    cfg: EngineConfig,
    metrics: ConsensusMetrics,
    byzantine: malachitebft_engine_byzantine::ByzantineConfig,
) -> Result<Engine, EngineError> {
    use malachitebft_app_channel::ByzantineContext;

    use crate::context::{HeaderId, HeaderValue};

    let p = prepare(&params, Some(key), &cfg).await?;
    let signer = p
        .signer
        .clone()
        .ok_or_else(|| EngineError::Start("a Byzantine node needs a key".into()))?;
    let (channels, handle) = EngineBuilder::new(p.ctx, config(&cfg))
        .with_default_wal(WalContext::new(p.wal, WireCodec))
        .with_byzantine_network(ByzantineContext {
            identity: p.identity,
            codec: WireCodec,
            config: byzantine,
            signer: Box::new(signer),
            address: p.address,
            conflicting_value_fn: Some(Box::new(|v: &HeaderValue| {
                let mut h = v.0;
                h.timestamp_ms = h.timestamp_ms.wrapping_add(1);
                HeaderValue(h)
            })),
            conflicting_vote_value_fn: Some(Box::new(|id: Option<&HeaderId>| {
                let mut b = id.map_or([0u8; 32], |i| i.0);
                b[31] ^= 1;
                HeaderId(b)
            })),
        })
        .await
        .map_err(|e| EngineError::Start(e.to_string()))?
        .with_default_consensus(p.consensus)
        .with_default_sync(SyncContext::new(WireCodec))
        .with_default_request(RequestContext::new(64))
        .build()
        .await
        .map_err(|e| EngineError::Start(e.to_string()))?;
    Ok(spawn_app(
        app,
        params,
        p.address,
        metrics,
        channels,
        handle,
        &cfg.moniker,
    ))
}

//! `da-node devnet`: a producer (the solo validator of the devnet's genesis) and a full node on
//! 127.0.0.1 under one data dir, light clients, a posting adapter, an optional demo load, and
//! `devnet.json` listing every endpoint and the genesis file.
//!
//! The genesis lives at `<data dir>/genesis.json` and the producer's validator key at
//! `<data dir>/producer/validator_key`; both are made on the first start and reused after
//! (a restarted devnet continues its chain). Every node, light client and the adapter trusts
//! that genesis.

use std::{path::PathBuf, sync::Arc, time::Duration};

use da_kzg::{KzgProver, KzgVerifier, ProverConfig};
use da_proto::v1 as pb;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use da_node::{
    config::{NodeConfig, Role},
    genesis::{
        create_validator_key, read_trust, read_validator_key, solo_genesis, write_genesis,
        GENESIS_FILE, VALIDATOR_KEY_FILE,
    },
    node::{start_with, NodeHandle, MAX_MESSAGE_BYTES},
    NodeError, Result,
};
use da_types::Trust;

/// Options of the devnet.
#[derive(Clone, Debug)]
pub struct DevnetOptions {
    /// Root data dir (producer and full node live in subdirectories).
    pub data_dir: PathBuf,
    /// Chain id.
    pub chain_id: String,
    /// Block time in milliseconds.
    pub block_time_ms: u64,
    /// First port: producer gRPC = base, metrics = base+10; full node base+1 / base+11;
    /// posting adapter base+20.
    pub base_port: u16,
    /// Demo load in MiB/s (0 = none).
    pub demo_load_mib_s: f64,
    /// Bearer token for Submit.
    pub token: String,
    /// Sampling light clients to run (over libp2p, bootstrapped from both nodes).
    pub light_clients: usize,
    /// Fault injection: fraction of each extended square the producer withholds over libp2p,
    /// as one rectangle (the data withholding attack). Up to 1/4 the full node repairs it and
    /// serves everything; above 1/4 nobody can, and light clients must say unavailable.
    pub withhold: f64,
    /// The heights `withhold` applies to (empty = every height).
    pub withhold_heights: Vec<u64>,
    /// Fault injection: the full node serves corrupted proofs (the producer stays honest).
    pub corrupt_proofs: bool,
    /// Sampling settings of the light clients.
    pub light_sampler: da_light::SamplerConfig,
}

impl DevnetOptions {
    /// A devnet under `data_dir` on ephemeral ports: 300 ms blocks, no demo load, no light
    /// clients, no faults, token `devnet`. Tests and benchmarks override what they need.
    pub fn local(data_dir: PathBuf, chain_id: &str) -> Self {
        Self {
            data_dir,
            chain_id: chain_id.into(),
            block_time_ms: 300,
            base_port: 0,
            demo_load_mib_s: 0.0,
            token: "devnet".into(),
            light_clients: 0,
            withhold: 0.0,
            withhold_heights: Vec::new(),
            corrupt_proofs: false,
            light_sampler: da_light::SamplerConfig::default(),
        }
    }
}

/// Endpoints of one devnet node.
#[derive(Debug, Serialize)]
pub struct Endpoint {
    /// Role.
    pub role: String,
    /// gRPC URL.
    pub grpc: String,
    /// Metrics URL.
    pub metrics: String,
    /// Node public key (hex): its libp2p identity.
    pub node_key: String,
    /// The BLS public key it certifies blocks with (hex), if it is a validator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validator_key: Option<String>,
    /// libp2p addresses (with `/p2p/<peer id>`).
    pub p2p: Vec<String>,
}

/// The posting adapter's endpoint.
#[derive(Debug, Serialize)]
pub struct AdapterEndpoint {
    /// Base URL of the OP Stack Alt-DA API (`--altda.da-server`).
    pub url: String,
    /// Metrics URL.
    pub metrics: String,
    /// The namespace it posts to (hex).
    pub namespace: String,
}

/// What `devnet.json` holds.
#[derive(Debug, Serialize)]
pub struct DevnetInfo {
    /// Chain id.
    pub chain_id: String,
    /// The genesis file every node, light client and the adapter trusts (absolute path).
    pub genesis: String,
    /// Bearer token for Submit on the producer.
    pub token: String,
    /// The nodes.
    pub nodes: Vec<Endpoint>,
    /// The posting adapter (OP Stack Alt-DA server) in front of the producer.
    pub posting_adapter: AdapterEndpoint,
    /// libp2p peer ids of the light clients.
    pub light_clients: Vec<String>,
}

/// Namespace the devnet's posting adapter posts to (version-0 id `op-rollup`).
pub const DEVNET_ROLLUP_NAMESPACE: &[u8] = b"op-rollup";

/// A running devnet.
#[derive(Debug)]
pub struct Devnet {
    /// The producer.
    pub producer: NodeHandle,
    /// The full node.
    pub full: NodeHandle,
    /// The posting adapter's HTTP address.
    pub adapter_addr: std::net::SocketAddr,
    /// The light clients.
    pub light: Vec<da_light::LightClient>,
    /// Where `devnet.json` was written.
    pub info_path: PathBuf,
    /// The genesis file every participant trusts.
    pub genesis: PathBuf,
    cancel: CancellationToken,
    adapter_task: tokio::task::JoinHandle<()>,
}

/// The devnet's genesis: `<data dir>/genesis.json` with the producer as its only validator,
/// made (with the producer's `validator_key`) on the first start and reused after.
fn devnet_genesis(opts: &DevnetOptions) -> Result<(std::path::PathBuf, Trust)> {
    let path = opts.data_dir.join(GENESIS_FILE);
    let key_path = opts.data_dir.join("producer").join(VALIDATOR_KEY_FILE);
    if !path.exists() {
        std::fs::create_dir_all(&opts.data_dir)
            .map_err(|e| NodeError::Startup(format!("{}: {e}", opts.data_dir.display())))?;
        move_aside_pre_genesis_state(&opts.data_dir)?;
        let key = if key_path.exists() {
            read_validator_key(&key_path)?
        } else {
            create_validator_key(&key_path)?
        };
        // The genesis bound on k is the protocol's; the producer cuts at most its own
        // `max_square_k` (64 by default).
        let genesis = solo_genesis(&opts.chain_id, &key, da_types::consts::K_MAX as u16);
        write_genesis(&path, &genesis)?;
    }
    let trust = read_trust(&path)?;
    if trust.chain_id() != opts.chain_id {
        return Err(NodeError::Genesis(format!(
            "{} is for chain {:?}, the devnet runs {:?}; use another --data-dir",
            path.display(),
            trust.chain_id(),
            opts.chain_id
        )));
    }
    let path = std::fs::canonicalize(&path)
        .map_err(|e| NodeError::Startup(format!("{}: {e}", path.display())))?;
    Ok((path, trust))
}

/// A devnet data dir without `genesis.json` but with node databases was made before genesis
/// files (store format 1, ed25519 headers): that chain cannot continue under validators. Its
/// node dirs are moved aside (never deleted) so the one command keeps working, and it is said.
fn move_aside_pre_genesis_state(dir: &std::path::Path) -> Result<()> {
    for sub in ["producer", "full"] {
        let d = dir.join(sub);
        if !d.join("db").exists() {
            continue;
        }
        let mut target = dir.join(format!("{sub}.format1"));
        let mut n = 1;
        while target.exists() {
            n += 1;
            target = dir.join(format!("{sub}.format1.{n}"));
        }
        std::fs::rename(&d, &target).map_err(|e| {
            NodeError::Startup(format!(
                "{} holds a chain of the old format and could not be moved to {}: {e}; \
                 remove it or pass another --data-dir",
                d.display(),
                target.display()
            ))
        })?;
        warn!(
            from = %d.display(),
            to = %target.display(),
            "devnet: state from before genesis files (ed25519 headers, store format 1) moved \
             aside; a new chain starts"
        );
    }
    Ok(())
}

impl Devnet {
    /// Starts the producer, then the full node syncing from it over libp2p, the light clients
    /// and the posting adapter, and writes `devnet.json`.
    pub async fn start(opts: DevnetOptions) -> Result<Self> {
        let (genesis, trust) = devnet_genesis(&opts)?;
        let kzg = tokio::task::spawn_blocking(|| {
            Arc::new(KzgProver::new(ProverConfig::DEFAULT.with_precompute(true)))
        })
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))?;
        // Ports at fixed offsets from the base, or all ephemeral with base 0.
        let port = |off: u16| {
            if opts.base_port == 0 {
                0
            } else {
                opts.base_port + off
            }
        };
        let addr = |off: u16| std::net::SocketAddr::from(([127, 0, 0, 1], port(off)));
        let p2p_addr = |off: u16| format!("/ip4/127.0.0.1/tcp/{}", port(off));
        let producer_cfg = NodeConfig {
            chain_id: opts.chain_id.clone(),
            role: Role::Producer,
            data_dir: Some(opts.data_dir.join("producer")),
            genesis: Some(genesis.clone()),
            grpc_addr: addr(0),
            metrics_addr: addr(10),
            block_time_ms: opts.block_time_ms,
            auth_token: Some(opts.token.clone()),
            p2p_listen: vec![p2p_addr(30)],
            fault_withhold: opts.withhold,
            fault_withhold_heights: opts.withhold_heights.clone(),
            ..NodeConfig::default()
        };
        let producer = start_with(producer_cfg, kzg.clone()).await?;
        let producer_p2p = p2p_addrs(&producer).await;
        let full_cfg = NodeConfig {
            chain_id: opts.chain_id.clone(),
            role: Role::Full,
            data_dir: Some(opts.data_dir.join("full")),
            genesis: Some(genesis.clone()),
            grpc_addr: addr(1),
            metrics_addr: addr(11),
            auth_token: Some(opts.token.clone()),
            precompute: false,
            p2p_listen: vec![p2p_addr(31)],
            p2p_bootstrap: producer_p2p.clone(),
            fault_corrupt_proofs: opts.corrupt_proofs,
            ..NodeConfig::default()
        };
        let full = start_with(full_cfg, kzg.clone()).await?;
        let full_p2p = p2p_addrs(&full).await;
        // Light clients and the adapter only verify: they share the prover's verifier.
        let verifier = Arc::new(kzg.verifier().clone());
        let mut light = Vec::with_capacity(opts.light_clients);
        for _ in 0..opts.light_clients {
            let bootstrap = producer_p2p
                .iter()
                .chain(&full_p2p)
                .filter_map(|a| a.parse().ok())
                .collect();
            let lc = da_light::LightClient::start(
                da_light::LightConfig {
                    trust: trust.clone(),
                    bootstrap,
                    listen: Vec::new(),
                    sampler: opts.light_sampler.clone(),
                    seed: None,
                },
                verifier.clone(),
            )
            .await
            .map_err(|e| NodeError::Startup(format!("light client: {e}")))?;
            light.push(lc);
        }
        let cancel = CancellationToken::new();
        let namespace = da_types::Namespace::new_v0(DEVNET_ROLLUP_NAMESPACE)?;
        let (adapter_addr, adapter_task) = start_adapter(
            addr(20),
            &producer,
            &opts,
            (namespace, trust),
            verifier,
            cancel.clone(),
        )
        .await?;
        let info = DevnetInfo {
            chain_id: opts.chain_id.clone(),
            genesis: genesis.display().to_string(),
            token: opts.token.clone(),
            nodes: [(&producer, "producer"), (&full, "full")]
                .iter()
                .map(|(n, role)| Endpoint {
                    role: (*role).into(),
                    grpc: format!("http://{}", n.grpc_addr),
                    metrics: format!("http://{}/metrics", n.metrics_addr),
                    node_key: n.node_id(),
                    validator_key: n.validator_key().map(|k| k.to_string()),
                    p2p: if *role == "producer" {
                        producer_p2p.clone()
                    } else {
                        full_p2p.clone()
                    },
                })
                .collect(),
            light_clients: light
                .iter()
                .map(|l| l.network().peer_id().to_string())
                .collect(),
            posting_adapter: AdapterEndpoint {
                url: format!("http://{adapter_addr}"),
                metrics: format!("http://{adapter_addr}/metrics"),
                namespace: hex::encode(namespace.as_bytes()),
            },
        };
        let info_path = opts.data_dir.join("devnet.json");
        let json =
            serde_json::to_string_pretty(&info).map_err(|e| NodeError::Internal(e.to_string()))?;
        std::fs::write(&info_path, json)
            .map_err(|e| NodeError::Startup(format!("{}: {e}", info_path.display())))?;
        if opts.demo_load_mib_s > 0.0 {
            tokio::spawn(demo_load(
                format!("http://{}", producer.grpc_addr),
                opts.token.clone(),
                opts.demo_load_mib_s,
                cancel.clone(),
            ));
        }
        Ok(Self {
            producer,
            full,
            adapter_addr,
            light,
            info_path,
            genesis,
            cancel,
            adapter_task,
        })
    }

    /// Stops everything.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        for l in &self.light {
            l.shutdown();
        }
        let _ = self.adapter_task.await;
        self.full.shutdown().await;
        self.producer.shutdown().await;
    }
}

/// A node's libp2p addresses as strings (empty when p2p is off).
async fn p2p_addrs(node: &NodeHandle) -> Vec<String> {
    match &node.p2p {
        Some(p) => p
            .listen_addrs()
            .await
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect(),
        None => Vec::new(),
    }
}

/// Starts the posting adapter in front of the producer, trusting the devnet's genesis.
async fn start_adapter(
    addr: std::net::SocketAddr,
    producer: &NodeHandle,
    opts: &DevnetOptions,
    (namespace, trust): (da_types::Namespace, Trust),
    kzg: Arc<KzgVerifier>,
    cancel: CancellationToken,
) -> Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>)> {
    let mut cc = da_client::ClientConfig::new(format!("http://{}", producer.grpc_addr));
    cc.token = Some(opts.token.clone());
    cc.trust = da_client::HeaderTrust::Genesis(Arc::new(trust));
    let client = da_client::DaClient::new(cc)
        .map_err(|e| NodeError::Startup(format!("posting adapter: {e}")))?
        .with_kzg(kzg);
    let adapter =
        posting_adapter::Adapter::new(client, posting_adapter::AdapterConfig::new(namespace));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| NodeError::Startup(format!("posting adapter on {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    let task = tokio::spawn(async move {
        let m = Arc::new(posting_adapter::metrics::Metrics::new());
        if let Err(e) = posting_adapter::http::serve(listener, Arc::new(adapter), m, cancel).await {
            warn!("posting adapter stopped: {e}");
        }
    });
    Ok((bound, task))
}

/// Submits random blobs over gRPC at `mib_s`, one 256 KiB blob at a time, spread over 4 namespaces.
async fn demo_load(url: String, token: String, mib_s: f64, cancel: CancellationToken) {
    use pb::blob_service_client::BlobServiceClient;
    const BLOB: usize = 256 * 1024;
    let period = Duration::from_secs_f64(BLOB as f64 / (mib_s * 1024.0 * 1024.0));
    let mut client = loop {
        match BlobServiceClient::connect(url.clone()).await {
            Ok(c) => break c.max_encoding_message_size(MAX_MESSAGE_BYTES),
            Err(e) => {
                warn!("demo load: cannot connect yet: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    };
    let mut tick = tokio::time::interval(period);
    let mut n = 0u64;
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = tick.tick() => {}
        }
        n += 1;
        let mut data = vec![0u8; BLOB];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut data);
        let mut ns = vec![0u8; 29];
        ns[27] = 0xde;
        ns[28] = (n % 4) as u8;
        let mut req = tonic::Request::new(pb::SubmitRequest {
            blobs: vec![pb::submit_request::Item {
                namespace: ns,
                data,
            }],
            wait_for_inclusion: false,
        });
        if let Ok(v) = format!("Bearer {token}").parse() {
            req.metadata_mut().insert("authorization", v);
        }
        if let Err(e) = client.submit(req).await {
            warn!("demo load: submit failed: {}", e.message());
        } else if n % 16 == 0 {
            info!(blobs = n, "demo load");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The devnet makes its genesis and the producer's key once and reuses them (a restarted
    /// devnet continues its chain); state from before genesis files is moved aside, not read;
    /// a genesis of another chain is refused.
    #[test]
    fn the_devnet_genesis_is_made_once_and_old_state_moved_aside() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("net");
        // A devnet of the ed25519 era: node dirs with databases, no genesis.json.
        for sub in ["producer", "full"] {
            std::fs::create_dir_all(dir.join(sub).join("db")).expect("mkdir");
        }
        let opts = DevnetOptions::local(dir.clone(), "devnet-g");
        let (path, trust) = devnet_genesis(&opts).expect("genesis");
        assert_eq!(
            path,
            std::fs::canonicalize(dir.join(GENESIS_FILE)).expect("path")
        );
        assert!(dir.join("producer.format1").join("db").exists());
        assert!(dir.join("full.format1").join("db").exists());
        assert!(!dir.join("full").exists());
        let key = read_validator_key(&dir.join("producer").join(VALIDATOR_KEY_FILE)).expect("key");
        assert_eq!(trust.set().index_of(&key.public_key()), Some(0));
        assert_eq!(trust.chain_id(), "devnet-g");
        // Again: the same genesis, nothing moved.
        std::fs::create_dir_all(dir.join("producer").join("db")).expect("mkdir");
        let (_, again) = devnet_genesis(&opts).expect("genesis");
        assert_eq!(again, trust);
        assert!(dir.join("producer").join("db").exists());
        // Another chain id on the same data dir.
        let other = DevnetOptions::local(dir, "devnet-h");
        let e = devnet_genesis(&other).expect_err("another chain");
        assert!(matches!(e, NodeError::Genesis(_)), "{e}");
    }
}

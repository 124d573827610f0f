//! `da-node devnet`: validators and a non-validator full node on 127.0.0.1 under one data dir,
//! light clients, a posting adapter, an optional demo load, and `devnet.json` listing every
//! endpoint, the validators' process ids and the genesis file.
//!
//! The validators run as [`Validators::Processes`]: each is its own `da-node run` OS process
//! (config, log, store and consensus WAL in `<data dir>/validator-<i>`) deciding blocks with the
//! others through the BFT engine, so an operator can `kill -9` one and watch the chain go on.
//! Library tests use [`Validators::InProcess`]: one validator (the solo validator of a
//! one-validator genesis) inside the caller's process. The full node, the light clients and the
//! adapter always run in the devnet's own process.
//!
//! The genesis lives at `<data dir>/genesis.json` and validator `i`'s key at
//! `<data dir>/validator-<i>/validator_key`; both are made on the first start and reused after
//! (a restarted devnet continues its chain). A data dir made for another validator count (or
//! before genesis files) is moved aside into `<data dir>/previous.<n>`, never deleted. Every
//! node, light client and the adapter trusts that genesis.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::Arc,
    time::Duration,
};

use da_kzg::{KzgProver, KzgVerifier, ProverConfig};
use da_proto::v1 as pb;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use da_node::{
    config::{NodeConfig, Role},
    genesis::{
        create_validator_key, read_trust, read_validator_key, write_genesis, GENESIS_FILE,
        VALIDATOR_KEY_FILE,
    },
    node::{load_or_create_key, start_with, NodeHandle, MAX_MESSAGE_BYTES},
    NodeError, Result,
};
use da_types::{Genesis, GenesisValidator, Trust};

/// Most validators a devnet runs (their ports sit between the fixed offsets of the others).
pub const MAX_VALIDATORS: usize = 8;

/// How the devnet's validators run.
#[derive(Clone, Debug)]
pub enum Validators {
    /// One validator inside the devnet's process: the solo validator of a one-validator
    /// genesis (library tests and benchmarks).
    InProcess,
    /// `count` validators (1 to [`MAX_VALIDATORS`]), each a `da-node run` process of `exe`,
    /// deciding every block with the BFT engine.
    Processes {
        /// How many.
        count: usize,
        /// The `da-node` binary to run them with.
        exe: PathBuf,
    },
}

impl Validators {
    fn count(&self) -> usize {
        match self {
            Self::InProcess => 1,
            Self::Processes { count, .. } => *count,
        }
    }
}

/// Options of the devnet.
#[derive(Clone, Debug)]
pub struct DevnetOptions {
    /// Root data dir (validators and the full node live in subdirectories).
    pub data_dir: PathBuf,
    /// The validators and how they run.
    pub validators: Validators,
    /// Chain id.
    pub chain_id: String,
    /// Block time in milliseconds.
    pub block_time_ms: u64,
    /// First port: validator 0's gRPC = base, metrics base+10, libp2p base+30, consensus
    /// base+40; the full node's base+1, base+11, base+31; validator `i > 0`'s base+1+i,
    /// base+11+i, base+31+i, base+40+i; the posting adapter base+20 (0 = free ports).
    pub base_port: u16,
    /// Demo load in MiB/s (0 = none).
    pub demo_load_mib_s: f64,
    /// Bearer token for Submit.
    pub token: String,
    /// Sampling light clients to run (over libp2p, bootstrapped from both nodes).
    pub light_clients: usize,
    /// Fault injection: fraction of each extended square the validators withhold over libp2p,
    /// as one rectangle (the data withholding attack). Up to 1/4 the full node repairs it and
    /// serves everything; above 1/4 nobody can, and light clients must say unavailable.
    pub withhold: f64,
    /// The heights `withhold` applies to (empty = every height).
    pub withhold_heights: Vec<u64>,
    /// Fault injection: the full node serves corrupted proofs (the validators stay honest).
    pub corrupt_proofs: bool,
    /// Fault injection: validator 0 never proposes blobs of these namespaces (58 hex digits
    /// each); the other validators include them, so censorship only delays them. Applies to
    /// validator processes ([`Validators::Processes`]); the in-process solo validator ignores it.
    pub censor_namespaces: Vec<String>,
    /// Sampling settings of the light clients.
    pub light_sampler: da_light::SamplerConfig,
}

impl DevnetOptions {
    /// A devnet under `data_dir` on ephemeral ports: one in-process validator, 300 ms blocks,
    /// no demo load, no light clients, no faults, token `devnet`. Tests and benchmarks override
    /// what they need.
    pub fn local(data_dir: PathBuf, chain_id: &str) -> Self {
        Self {
            data_dir,
            validators: Validators::InProcess,
            chain_id: chain_id.into(),
            block_time_ms: 300,
            base_port: 0,
            demo_load_mib_s: 0.0,
            token: "devnet".into(),
            light_clients: 0,
            withhold: 0.0,
            withhold_heights: Vec::new(),
            corrupt_proofs: false,
            censor_namespaces: Vec::new(),
            light_sampler: da_light::SamplerConfig::default(),
        }
    }
}

/// Endpoints of one devnet node.
#[derive(Debug, Serialize)]
pub struct Endpoint {
    /// Role: `validator` or `full`.
    pub role: String,
    /// gRPC URL.
    pub grpc: String,
    /// Metrics URL.
    pub metrics: String,
    /// Node public key (hex): its libp2p identity.
    pub node_key: String,
    /// The BLS public key it votes with (hex), if it is a validator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validator_key: Option<String>,
    /// libp2p addresses (with `/p2p/<peer id>`).
    pub p2p: Vec<String>,
    /// The consensus engine's address, if it is a validator process.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consensus: Option<String>,
    /// Its OS process id, if it runs in a process of its own (`kill -9` it to crash it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Its data dir.
    pub data_dir: String,
    /// Its log file, if it runs in a process of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// The command that restarts it after a crash, if it runs in a process of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<String>,
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
    /// Bearer token for Submit on every node.
    pub token: String,
    /// The validators (in genesis order of their data dirs), then the full node.
    pub nodes: Vec<Endpoint>,
    /// The posting adapter (OP Stack Alt-DA server) in front of the full node (failing over to the validators).
    pub posting_adapter: AdapterEndpoint,
    /// The light clients: their peer ids and HTTP APIs.
    pub light_clients: Vec<LightEndpoint>,
    /// The L1 oracle the devnet relays its windows to, on an in-process EVM (none when the
    /// genesis attests nothing).
    pub l1: Option<L1Endpoint>,
}

/// One of the devnet's sampling light clients.
#[derive(Clone, Debug, Serialize)]
pub struct LightEndpoint {
    /// Its libp2p peer id.
    pub peer_id: String,
    /// Its HTTP API (`specs/10-light-client.md`: `/status`, `/heights/N`, `/subscribe`, …).
    pub api: String,
}

/// Light client `i`'s API port offset from the base (`50..60`; later ones get free ports).
fn light_api_offset(i: usize) -> Option<u16> {
    u16::try_from(i).ok().filter(|&i| i < 10).map(|i| 50 + i)
}

/// The devnet's L1 oracle (`specs/12-attestation.md`): `DAOracle` on an in-process revm chain
/// of the devnet process, to which it relays every window's certified header.
#[derive(Clone, Debug, Serialize)]
pub struct L1Endpoint {
    /// The oracle's address on that chain.
    pub oracle: String,
    /// Heights per attested window.
    pub window: u64,
}

/// A line of the relayer's work for the console.
#[derive(Clone, Debug)]
pub enum RelayEvent {
    /// A window committed on the in-process L1.
    Attested(da_l1::Attested),
    /// A window that could not be committed (the devnet goes on).
    Failed {
        /// The window's last height.
        height: u64,
        /// Why.
        error: String,
    },
}

/// Namespace the devnet's posting adapter posts to (version-0 id `op-rollup`).
pub const DEVNET_ROLLUP_NAMESPACE: &[u8] = b"op-rollup";

/// A validator of the devnet.
#[derive(Debug)]
pub enum DevnetValidator {
    /// Inside the devnet's process.
    InProcess(NodeHandle),
    /// A `da-node run` process of its own.
    Process(ValidatorProcess),
}

impl DevnetValidator {
    /// Its gRPC address.
    pub fn grpc_addr(&self) -> SocketAddr {
        match self {
            Self::InProcess(n) => n.grpc_addr,
            Self::Process(p) => p.grpc_addr,
        }
    }

    /// Its metrics address.
    pub fn metrics_addr(&self) -> SocketAddr {
        match self {
            Self::InProcess(n) => n.metrics_addr,
            Self::Process(p) => p.metrics_addr,
        }
    }

    /// The node, if it runs in this process.
    pub fn node(&self) -> Option<&NodeHandle> {
        match self {
            Self::InProcess(n) => Some(n),
            Self::Process(_) => None,
        }
    }

    /// Its OS process id, if it runs in a process of its own.
    pub fn pid(&self) -> Option<u32> {
        match self {
            Self::InProcess(_) => None,
            Self::Process(p) => Some(p.pid),
        }
    }
}

/// A validator running as a `da-node run` process; killed (SIGKILL) if dropped while running.
#[derive(Debug)]
pub struct ValidatorProcess {
    /// OS process id.
    pub pid: u32,
    /// gRPC address.
    pub grpc_addr: SocketAddr,
    /// Metrics address.
    pub metrics_addr: SocketAddr,
    /// libp2p address with its peer id.
    pub p2p: String,
    /// The consensus engine's address.
    pub consensus: String,
    /// Its data dir (config, log, store, WAL).
    pub dir: PathBuf,
    /// Its node key (hex): the libp2p identity.
    pub node_key: String,
    /// Its BLS public key.
    pub validator_key: da_types::BlsPublicKey,
    /// The command that runs it (again after a crash).
    pub command: String,
    child: Child,
}

impl ValidatorProcess {
    /// `Some(status)` once the process has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Asks the process to stop (SIGINT: its clean shutdown) and waits up to `grace` before
    /// killing it.
    async fn stop(&mut self, grace: Duration) {
        if self.exited().is_some() {
            return;
        }
        #[cfg(unix)]
        if let Ok(pid) = i32::try_from(self.pid) {
            // SAFETY: kill only sends a signal to the process id this devnet started.
            unsafe {
                libc::kill(pid, libc::SIGINT);
            }
        }
        let deadline = tokio::time::Instant::now() + grace;
        while tokio::time::Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        warn!(
            pid = self.pid,
            "validator did not stop in {grace:?}: killing it"
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ValidatorProcess {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A running devnet.
#[derive(Debug)]
pub struct Devnet {
    /// The validators, validator 0 first (the adapter and the demo load submit to it).
    pub validators: Vec<DevnetValidator>,
    /// The non-validator full node.
    pub full: NodeHandle,
    /// The posting adapter's HTTP address.
    pub adapter_addr: std::net::SocketAddr,
    /// The light clients.
    pub light: Vec<da_light::LightClient>,
    /// Their peer ids and HTTP APIs, in the same order.
    pub light_endpoints: Vec<LightEndpoint>,
    /// Where `devnet.json` was written.
    pub info_path: PathBuf,
    /// The genesis file every participant trusts.
    pub genesis: PathBuf,
    /// The relayer's windows, as it commits them to the in-process L1.
    pub relay_events: Option<mpsc::Receiver<RelayEvent>>,
    cancel: CancellationToken,
    adapter_task: tokio::task::JoinHandle<()>,
}

/// Validator `i`'s data dir.
fn validator_dir(root: &Path, i: usize) -> PathBuf {
    root.join(format!("validator-{i}"))
}

/// The devnet's genesis: `<data dir>/genesis.json` with `n` validators of equal power, made
/// (with each validator's `validator_key`) on the first start and reused after. State made for
/// another validator count, or before genesis files, is moved aside.
fn devnet_genesis(opts: &DevnetOptions) -> Result<(PathBuf, Trust)> {
    let n = opts.validators.count();
    if n == 0 || n > MAX_VALIDATORS {
        return Err(NodeError::Startup(format!(
            "a devnet runs 1 to {MAX_VALIDATORS} validators, not {n}"
        )));
    }
    let path = opts.data_dir.join(GENESIS_FILE);
    std::fs::create_dir_all(&opts.data_dir)
        .map_err(|e| NodeError::Startup(format!("{}: {e}", opts.data_dir.display())))?;
    if path.exists() {
        let trust = read_trust(&path)?;
        if trust.chain_id() != opts.chain_id {
            return Err(NodeError::Genesis(format!(
                "{} is for chain {:?}, the devnet runs {:?}; use another --data-dir",
                path.display(),
                trust.chain_id(),
                opts.chain_id
            )));
        }
        let ours = (0..n).all(|i| {
            read_validator_key(&validator_dir(&opts.data_dir, i).join(VALIDATOR_KEY_FILE))
                .is_ok_and(|k| trust.set().index_of(&k.public_key()).is_some())
        });
        if trust.set().len() != n || !ours {
            move_aside(
                &opts.data_dir,
                &format!(
                    "its genesis has {} validator(s), this devnet runs {n}",
                    trust.set().len()
                ),
            )?;
        }
    } else if has_node_state(&opts.data_dir) {
        move_aside(
            &opts.data_dir,
            "state from before genesis files (ed25519 headers, store format 1)",
        )?;
    }
    if !path.exists() {
        let mut validators = Vec::with_capacity(n);
        for i in 0..n {
            let key_path = validator_dir(&opts.data_dir, i).join(VALIDATOR_KEY_FILE);
            let key = if key_path.exists() {
                read_validator_key(&key_path)?
            } else {
                create_validator_key(&key_path)?
            };
            validators.push(GenesisValidator::new(&key, 1));
        }
        let genesis = Genesis {
            chain_id: opts.chain_id.clone(),
            genesis_time_ms: now_ms(),
            validators,
            // The protocol's bound on k; a validator cuts at most its own `max_square_k`.
            max_square_k: da_types::consts::K_MAX as u16,
            dedup_window: da_types::DEFAULT_DEDUP_WINDOW,
            attestation_window: DEVNET_ATTESTATION_WINDOW,
        };
        write_genesis(&path, &genesis)?;
    }
    let trust = read_trust(&path)?;
    let path = std::fs::canonicalize(&path)
        .map_err(|e| NodeError::Startup(format!("{}: {e}", path.display())))?;
    Ok((path, trust))
}

/// `attestation_window` of a devnet genesis: short, so that the relayer attests a window every
/// half minute at the devnet's 2 s blocks.
const DEVNET_ATTESTATION_WINDOW: u64 = 16;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Whether `dir` holds a node database in one of its subdirectories.
fn has_node_state(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.path().join("db").exists() && !is_previous(&e.path()))
    })
}

fn is_previous(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("previous."))
}

/// Moves everything in the devnet's data dir (but earlier `previous.*` dirs) into a new
/// `previous.<n>` beside it, and says why: the chain there cannot continue as asked, and
/// nothing is deleted.
fn move_aside(dir: &Path, why: &str) -> Result<()> {
    let mut n = 1;
    let mut target = dir.join(format!("previous.{n}"));
    while target.exists() {
        n += 1;
        target = dir.join(format!("previous.{n}"));
    }
    let fail = |p: &Path, e: std::io::Error| {
        NodeError::Startup(format!(
            "{} could not be moved into {}: {e}; remove it or pass another --data-dir",
            p.display(),
            target.display()
        ))
    };
    std::fs::create_dir_all(&target).map_err(|e| fail(dir, e))?;
    let entries = std::fs::read_dir(dir).map_err(|e| fail(dir, e))?;
    for entry in entries.flatten() {
        let p = entry.path();
        if is_previous(&p) {
            continue;
        }
        if let Some(name) = p.file_name() {
            std::fs::rename(&p, target.join(name)).map_err(|e| fail(&p, e))?;
        }
    }
    warn!(
        from = %dir.display(),
        to = %target.display(),
        "devnet: {why}; the old state was moved aside and a new chain starts"
    );
    Ok(())
}

/// Ports of one node.
#[derive(Clone, Copy, Debug)]
struct Ports {
    grpc: u16,
    metrics: u16,
    p2p: u16,
    consensus: u16,
}

/// A free TCP port on 127.0.0.1 (for processes that must be told their ports in advance).
fn free_port() -> Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| NodeError::Startup(format!("finding a free port: {e}")))
}

/// Validator `i`'s ports (see [`DevnetOptions::base_port`]).
fn validator_ports(base: u16, i: usize) -> Result<Ports> {
    if base == 0 {
        return Ok(Ports {
            grpc: free_port()?,
            metrics: free_port()?,
            p2p: free_port()?,
            consensus: free_port()?,
        });
    }
    let at = |off: usize| {
        u16::try_from(usize::from(base) + off)
            .map_err(|_| NodeError::Startup(format!("--base-port {base} leaves no room")))
    };
    Ok(if i == 0 {
        Ports {
            grpc: at(0)?,
            metrics: at(10)?,
            p2p: at(30)?,
            consensus: at(40)?,
        }
    } else {
        Ports {
            grpc: at(1 + i)?,
            metrics: at(11 + i)?,
            p2p: at(31 + i)?,
            consensus: at(40 + i)?,
        }
    })
}

fn tcp_addr(port: u16) -> String {
    format!("/ip4/127.0.0.1/tcp/{port}")
}

/// The libp2p peer id of the node key stored at `path` (made if missing).
fn peer_id_of(path: &Path) -> Result<(String, String)> {
    let key = load_or_create_key(path)?;
    let keypair = da_network::Keypair::ed25519_from_bytes(key.to_bytes())
        .map_err(|e| NodeError::Startup(format!("{}: {e}", path.display())))?;
    Ok((
        keypair.public().to_peer_id().to_string(),
        hex::encode(key.verifying_key().to_bytes()),
    ))
}

/// Starts the `n` validator processes of `exe` and waits until each answers on gRPC.
async fn start_validator_processes(
    opts: &DevnetOptions,
    exe: &Path,
    genesis: &Path,
) -> Result<Vec<DevnetValidator>> {
    let n = opts.validators.count();
    let mut plans = Vec::with_capacity(n);
    for i in 0..n {
        let dir = validator_dir(&opts.data_dir, i);
        std::fs::create_dir_all(&dir)
            .map_err(|e| NodeError::Startup(format!("{}: {e}", dir.display())))?;
        let ports = validator_ports(opts.base_port, i)?;
        let (peer, node_key) = peer_id_of(&dir.join("node.key"))?;
        let key = read_validator_key(&dir.join(VALIDATOR_KEY_FILE))?;
        plans.push((dir, ports, peer, node_key, key.public_key()));
    }
    let p2p: Vec<String> = plans
        .iter()
        .map(|(_, ports, peer, ..)| format!("{}/p2p/{peer}", tcp_addr(ports.p2p)))
        .collect();
    let consensus: Vec<String> = plans
        .iter()
        .map(|(_, ports, ..)| tcp_addr(ports.consensus))
        .collect();
    let mut validators = Vec::with_capacity(n);
    for (i, (dir, ports, _, node_key, validator_key)) in plans.into_iter().enumerate() {
        let config = NodeConfig {
            chain_id: opts.chain_id.clone(),
            role: Role::Producer,
            data_dir: Some(dir.clone()),
            genesis: Some(genesis.to_path_buf()),
            grpc_addr: SocketAddr::from(([127, 0, 0, 1], ports.grpc)),
            metrics_addr: SocketAddr::from(([127, 0, 0, 1], ports.metrics)),
            block_time_ms: opts.block_time_ms,
            auth_token: Some(opts.token.clone()),
            p2p_listen: vec![tcp_addr(ports.p2p)],
            p2p_bootstrap: others_of(&p2p, i),
            consensus_listen: Some(consensus[i].clone()),
            consensus_peers: others_of(&consensus, i),
            fault_withhold: opts.withhold,
            fault_withhold_heights: opts.withhold_heights.clone(),
            fault_censor_namespaces: if i == 0 {
                opts.censor_namespaces.clone()
            } else {
                Vec::new()
            },
            ..NodeConfig::default()
        };
        let path = dir.join("config.toml");
        let text = toml::to_string(&config).map_err(|e| NodeError::Internal(e.to_string()))?;
        std::fs::write(
            &path,
            format!("# Written by `da-node devnet` at every start: validator {i} of {n}.\n{text}"),
        )
        .map_err(|e| NodeError::Startup(format!("{}: {e}", path.display())))?;
        let child = spawn_validator(exe, &dir, &path)?;
        let command = format!(
            "{} run --config {} >> {} 2>&1",
            exe.display(),
            path.display(),
            dir.join("node.log").display()
        );
        validators.push(ValidatorProcess {
            pid: child.id(),
            grpc_addr: config.grpc_addr,
            metrics_addr: config.metrics_addr,
            p2p: p2p[i].clone(),
            consensus: consensus[i].clone(),
            dir,
            node_key,
            validator_key,
            command,
            child,
        });
    }
    // Each must come up (its gRPC port answers) or say why not.
    for v in &mut validators {
        wait_until_listening(v).await?;
    }
    Ok(validators
        .into_iter()
        .map(DevnetValidator::Process)
        .collect())
}

/// `v` without its element `i`.
fn others_of(v: &[String], i: usize) -> Vec<String> {
    v.iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .map(|(_, a)| a.clone())
        .collect()
}

/// Spawns `exe run --config CONFIG` with its output appended to `<dir>/node.log`. On Linux the
/// process gets SIGINT (its clean shutdown) if the devnet dies.
fn spawn_validator(exe: &Path, dir: &Path, config: &Path) -> Result<Child> {
    let log_path = dir.join("node.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| NodeError::Startup(format!("{}: {e}", log_path.display())))?;
    let err = log
        .try_clone()
        .map_err(|e| NodeError::Startup(format!("{}: {e}", log_path.display())))?;
    let mut cmd = Command::new(exe);
    cmd.arg("run")
        .arg("--config")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err);
    // The config file is the whole configuration: no `DA_NODE_*` variable of the devnet's
    // environment (its data dir, say) may override it.
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("DA_NODE_") {
            cmd.env_remove(k);
        }
    }
    if std::env::var_os("RUST_LOG").is_none() {
        cmd.env("RUST_LOG", "info");
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT);
                Ok(())
            });
        }
    }
    cmd.spawn()
        .map_err(|e| NodeError::Startup(format!("starting {}: {e}", exe.display())))
}

/// Waits until `v`'s gRPC port accepts connections; an exit before that is an error naming its
/// log.
async fn wait_until_listening(v: &mut ValidatorProcess) -> Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = v.exited() {
            return Err(NodeError::Startup(format!(
                "validator in {} exited ({status}) at start; see {}",
                v.dir.display(),
                v.dir.join("node.log").display()
            )));
        }
        if tokio::net::TcpStream::connect(v.grpc_addr).await.is_ok() {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(NodeError::Startup(format!(
                "validator in {} is not listening on {} after 120 s; see {}",
                v.dir.display(),
                v.grpc_addr,
                v.dir.join("node.log").display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Devnet {
    /// Starts the validators, then the full node syncing from them over libp2p, the light
    /// clients and the posting adapter, and writes `devnet.json`.
    pub async fn start(opts: DevnetOptions) -> Result<Self> {
        let (genesis, trust) = devnet_genesis(&opts)?;
        // Only an in-process validator proves in this process: it wants the prover tables.
        let precompute = matches!(opts.validators, Validators::InProcess);
        let kzg = tokio::task::spawn_blocking(move || {
            Arc::new(KzgProver::new(
                ProverConfig::DEFAULT.with_precompute(precompute),
            ))
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
        let validators = match &opts.validators {
            Validators::InProcess => {
                let config = NodeConfig {
                    chain_id: opts.chain_id.clone(),
                    role: Role::Producer,
                    data_dir: Some(validator_dir(&opts.data_dir, 0)),
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
                vec![DevnetValidator::InProcess(
                    start_with(config, kzg.clone()).await?,
                )]
            }
            Validators::Processes { exe, .. } => {
                start_validator_processes(&opts, exe, &genesis).await?
            }
        };
        let mut validator_p2p = Vec::with_capacity(validators.len());
        for v in &validators {
            validator_p2p.push(match v {
                DevnetValidator::InProcess(n) => p2p_addrs(n).await,
                DevnetValidator::Process(p) => vec![p.p2p.clone()],
            });
        }
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
            p2p_bootstrap: validator_p2p.iter().flatten().cloned().collect(),
            fault_corrupt_proofs: opts.corrupt_proofs,
            ..NodeConfig::default()
        };
        let full = start_with(full_cfg, kzg.clone()).await?;
        let full_p2p = p2p_addrs(&full).await;
        // Light clients and the adapter only verify: they share the prover's verifier.
        let verifier = Arc::new(kzg.verifier().clone());
        let cancel = CancellationToken::new();
        let mut light = Vec::with_capacity(opts.light_clients);
        let mut light_endpoints = Vec::with_capacity(opts.light_clients);
        for i in 0..opts.light_clients {
            let bootstrap = validator_p2p
                .iter()
                .flatten()
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
            // Its HTTP API, so that a newcomer sees verdicts without starting another client.
            let api_addr = match light_api_offset(i) {
                Some(off) => addr(off),
                None => std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            };
            let listener = da_light::api::bind(api_addr)
                .await
                .map_err(|e| NodeError::Startup(format!("light client {i} API: {e}")))?;
            let bound = listener
                .local_addr()
                .map_err(|e| NodeError::Startup(format!("light client {i} API: {e}")))?;
            tokio::spawn(da_light::api::serve(
                listener,
                lc.clone(),
                da_http::ServerLimits::default(),
                cancel.clone(),
            ));
            light_endpoints.push(LightEndpoint {
                peer_id: lc.network().peer_id().to_string(),
                api: format!("http://{bound}"),
            });
            light.push(lc);
        }
        let namespace = da_types::Namespace::new_v0(DEVNET_ROLLUP_NAMESPACE)?;
        let submit_urls: Vec<String> = validators
            .iter()
            .map(|v| format!("http://{}", v.grpc_addr()))
            .collect();
        // The adapter posts through the full node, which relays to the validators, and fails
        // over to the validators when it cannot reach it.
        let (adapter_addr, adapter_task) = start_adapter(
            addr(20),
            std::iter::once(format!("http://{}", full.grpc_addr))
                .chain(submit_urls.iter().cloned())
                .collect(),
            &opts,
            (namespace, trust.clone()),
            verifier,
            cancel.clone(),
        )
        .await?;
        let mut nodes: Vec<Endpoint> = validators
            .iter()
            .zip(&validator_p2p)
            .map(|(v, p2p)| match v {
                DevnetValidator::InProcess(n) => node_endpoint(n, "validator", p2p.clone()),
                DevnetValidator::Process(p) => Endpoint {
                    role: "validator".into(),
                    grpc: format!("http://{}", p.grpc_addr),
                    metrics: format!("http://{}/metrics", p.metrics_addr),
                    node_key: p.node_key.clone(),
                    validator_key: Some(p.validator_key.to_string()),
                    p2p: p2p.clone(),
                    consensus: Some(p.consensus.clone()),
                    pid: Some(p.pid),
                    data_dir: p.dir.display().to_string(),
                    log: Some(p.dir.join("node.log").display().to_string()),
                    restart: Some(p.command.clone()),
                },
            })
            .collect();
        nodes.push(node_endpoint(&full, "full", full_p2p.clone()));
        let info = DevnetInfo {
            chain_id: opts.chain_id.clone(),
            genesis: genesis.display().to_string(),
            token: opts.token.clone(),
            nodes,
            light_clients: light_endpoints.clone(),
            posting_adapter: AdapterEndpoint {
                url: format!("http://{adapter_addr}"),
                metrics: format!("http://{adapter_addr}/metrics"),
                namespace: hex::encode(namespace.as_bytes()),
            },
            l1: None,
        };
        let (l1, relay_events) = match start_relayer(&full, &trust, cancel.clone()).await? {
            Some((endpoint, events)) => (Some(endpoint), Some(events)),
            None => (None, None),
        };
        let info = DevnetInfo { l1, ..info };
        let info_path = opts.data_dir.join("devnet.json");
        let json =
            serde_json::to_string_pretty(&info).map_err(|e| NodeError::Internal(e.to_string()))?;
        std::fs::write(&info_path, json)
            .map_err(|e| NodeError::Startup(format!("{}: {e}", info_path.display())))?;
        if opts.demo_load_mib_s > 0.0 {
            tokio::spawn(demo_load(
                submit_urls,
                opts.token.clone(),
                opts.demo_load_mib_s,
                cancel.clone(),
            ));
        }
        Ok(Self {
            validators,
            full,
            adapter_addr,
            light,
            light_endpoints,
            info_path,
            genesis,
            relay_events,
            cancel,
            adapter_task,
        })
    }

    /// Validator 0 when it runs in this process (an [`Validators::InProcess`] devnet).
    pub fn producer(&self) -> Option<&NodeHandle> {
        self.validators.first().and_then(DevnetValidator::node)
    }

    /// The gRPC address the adapter and clients submit to: validator 0's.
    pub fn submit_addr(&self) -> SocketAddr {
        match self.validators.first() {
            Some(v) => v.grpc_addr(),
            None => self.full.grpc_addr,
        }
    }

    /// The validator processes that exited since the last call: (index, pid, status).
    pub fn exited(&mut self) -> Vec<(usize, u32, ExitStatus)> {
        let mut out = Vec::new();
        for (i, v) in self.validators.iter_mut().enumerate() {
            if let DevnetValidator::Process(p) = v {
                if let Some(status) = p.exited() {
                    out.push((i, p.pid, status));
                }
            }
        }
        out
    }

    /// Stops everything: the adapter, light clients and full node, then every validator
    /// (SIGINT to a process, up to 15 s to stop cleanly).
    pub async fn shutdown(self) {
        self.cancel.cancel();
        for l in &self.light {
            l.shutdown();
        }
        let _ = self.adapter_task.await;
        self.full.shutdown().await;
        for v in self.validators {
            match v {
                DevnetValidator::InProcess(n) => n.shutdown().await,
                DevnetValidator::Process(mut p) => p.stop(Duration::from_secs(15)).await,
            }
        }
    }
}

/// Deploys the chain's oracle on an in-process L1 and relays every window's last header, read
/// from the full node's store as it verifies blocks (a window missed while the subscription
/// lagged is relayed on the next block). `None` when the genesis attests nothing.
async fn start_relayer(
    full: &NodeHandle,
    trust: &Trust,
    cancel: CancellationToken,
) -> Result<Option<(L1Endpoint, mpsc::Receiver<RelayEvent>)>> {
    if trust.attestation_window() == 0 {
        return Ok(None);
    }
    // The EVM is not `Send`: the relayer lives on its own thread, fed the verified heights.
    let (heights_tx, heights_rx) = std::sync::mpsc::sync_channel::<u64>(256);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (tx, rx) = mpsc::channel(64);
    let (t, store) = (trust.clone(), full.store().clone());
    std::thread::Builder::new()
        .name("l1-relayer".into())
        .spawn(move || {
            let mut relayer = match da_l1::Relayer::deploy(&t) {
                Ok(r) => {
                    let _ = ready_tx.send(Ok(L1Endpoint {
                        oracle: r.oracle().0.to_string(),
                        window: r.window(),
                    }));
                    r
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return;
                }
            };
            while let Ok(height) = heights_rx.recv() {
                while relayer.next_height() <= height {
                    let end = relayer.next_height();
                    let result = match store.header(end) {
                        Ok(Some(h)) => relayer.relay(&h).map_err(|e| e.to_string()),
                        Ok(None) => Err(format!("no header at {end} in the full node's store")),
                        Err(e) => Err(e.to_string()),
                    };
                    let event = match result {
                        Ok(a) => RelayEvent::Attested(a),
                        Err(error) => {
                            // Later windows do not depend on it: skip it and go on.
                            relayer.skip();
                            RelayEvent::Failed { height: end, error }
                        }
                    };
                    if tx.blocking_send(event).is_err() {
                        return;
                    }
                }
            }
        })
        .map_err(|e| NodeError::Startup(format!("relayer thread: {e}")))?;
    let endpoint = ready_rx
        .await
        .map_err(|_| NodeError::Startup("the relayer thread stopped".into()))?
        .map_err(|e| NodeError::Startup(format!("L1 oracle: {e}")))?;
    let mut blocks = full.subscribe();
    tokio::spawn(async move {
        loop {
            let height = tokio::select! {
                () = cancel.cancelled() => return,
                ev = blocks.recv() => match ev {
                    Ok(ev) => ev.header.height(),
                    // A window missed here is relayed on the next block.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return,
                },
            };
            // Full: the relayer is behind; the next height covers this one.
            if let Err(std::sync::mpsc::TrySendError::Disconnected(_)) = heights_tx.try_send(height)
            {
                warn!("the relayer stopped");
                return;
            }
        }
    });
    Ok(Some((endpoint, rx)))
}

/// The endpoint of an in-process node.
fn node_endpoint(n: &NodeHandle, role: &str, p2p: Vec<String>) -> Endpoint {
    Endpoint {
        role: role.into(),
        grpc: format!("http://{}", n.grpc_addr),
        metrics: format!("http://{}/metrics", n.metrics_addr),
        node_key: n.node_id(),
        validator_key: n.validator_key().map(|k| k.to_string()),
        p2p,
        consensus: None,
        pid: None,
        data_dir: n.config().data_dir().display().to_string(),
        log: None,
        restart: None,
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

/// Starts the posting adapter in front of the nodes at `node_urls` (the first, then the others
/// on failure), trusting the devnet's genesis.
async fn start_adapter(
    addr: std::net::SocketAddr,
    node_urls: Vec<String>,
    opts: &DevnetOptions,
    (namespace, trust): (da_types::Namespace, Trust),
    kzg: Arc<KzgVerifier>,
    cancel: CancellationToken,
) -> Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>)> {
    let mut urls = node_urls.into_iter();
    let mut cc = da_client::ClientConfig::new(urls.next().unwrap_or_default());
    cc.failover = urls.collect();
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
        if let Err(e) = posting_adapter::http::serve(
            listener,
            Arc::new(adapter),
            m,
            da_http::ServerLimits::default(),
            cancel,
        )
        .await
        {
            warn!("posting adapter stopped: {e}");
        }
    });
    Ok((bound, task))
}

/// Submits random blobs over gRPC at `mib_s`, one 256 KiB blob at a time, spread over 4
/// namespaces and over the validators at `urls` in turn (each proposes what its own mempool
/// holds, so every block carries a share); a validator that refuses (killed by an operator,
/// say) passes its turn to the next.
async fn demo_load(urls: Vec<String>, token: String, mib_s: f64, cancel: CancellationToken) {
    use pb::blob_service_client::BlobServiceClient;
    const BLOB: usize = 256 * 1024;
    let period = Duration::from_secs_f64(BLOB as f64 / (mib_s * 1024.0 * 1024.0));
    let mut clients = Vec::with_capacity(urls.len());
    for url in &urls {
        match tonic::transport::Endpoint::from_shared(url.clone()) {
            Ok(e) => clients.push(
                BlobServiceClient::new(e.connect_lazy())
                    .max_encoding_message_size(MAX_MESSAGE_BYTES),
            ),
            Err(e) => warn!("demo load: bad node URL {url}: {e}"),
        }
    }
    if clients.is_empty() {
        return;
    }
    let mut tick = tokio::time::interval(period);
    let (mut n, mut at) = (0u64, 0usize);
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
        let mut last_error = None;
        for _ in 0..clients.len() {
            let mut req = tonic::Request::new(pb::SubmitRequest {
                blobs: vec![pb::submit_request::Item {
                    namespace: ns.clone(),
                    data: data.clone(),
                }],
                wait_for_inclusion: false,
            });
            if let Ok(v) = format!("Bearer {token}").parse() {
                req.metadata_mut().insert("authorization", v);
            }
            match clients[at].submit(req).await {
                Ok(_) => {
                    last_error = None;
                    break;
                }
                Err(e) => {
                    last_error = Some(format!("{}: {}", urls[at], e.message()));
                    at = (at + 1) % clients.len();
                }
            }
        }
        at = (at + 1) % clients.len();
        match last_error {
            Some(e) => warn!("demo load: no node took a blob (last: {e})"),
            None if n % 16 == 0 => info!(blobs = n, "demo load"),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The devnet makes its genesis and the validators' keys once and reuses them (a restarted
    /// devnet continues its chain); state from before genesis files, or made for another
    /// validator count, is moved aside, not read; a genesis of another chain is refused.
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
        assert!(dir.join("previous.1/producer/db").exists());
        assert!(dir.join("previous.1/full/db").exists());
        assert!(!dir.join("full").exists());
        let key =
            read_validator_key(&validator_dir(&dir, 0).join(VALIDATOR_KEY_FILE)).expect("key");
        assert_eq!(trust.set().index_of(&key.public_key()), Some(0));
        assert_eq!(trust.chain_id(), "devnet-g");
        // Again: the same genesis, nothing moved.
        std::fs::create_dir_all(validator_dir(&dir, 0).join("db")).expect("mkdir");
        let (_, again) = devnet_genesis(&opts).expect("genesis");
        assert_eq!(again, trust);
        assert!(validator_dir(&dir, 0).join("db").exists());
        // Four validators on the same data dir: the one-validator chain is moved aside.
        let four = DevnetOptions {
            validators: Validators::Processes {
                count: 4,
                exe: PathBuf::from("da-node"),
            },
            ..opts.clone()
        };
        let (_, bigger) = devnet_genesis(&four).expect("genesis");
        assert_eq!(bigger.set().len(), 4);
        assert!(dir.join("previous.2/validator-0/db").exists());
        assert!(dir.join("previous.2").join(GENESIS_FILE).exists());
        assert!(dir.join("previous.1/producer/db").exists());
        for i in 0..4 {
            let key =
                read_validator_key(&validator_dir(&dir, i).join(VALIDATOR_KEY_FILE)).expect("key");
            assert!(bigger.set().index_of(&key.public_key()).is_some());
        }
        let (_, same) = devnet_genesis(&four).expect("genesis");
        assert_eq!(same, bigger);
        // Too many validators, and another chain id on the same data dir.
        let nine = DevnetOptions {
            validators: Validators::Processes {
                count: MAX_VALIDATORS + 1,
                exe: PathBuf::from("da-node"),
            },
            ..opts
        };
        assert!(matches!(devnet_genesis(&nine), Err(NodeError::Startup(_))));
        let other = DevnetOptions::local(dir, "devnet-h");
        let e = devnet_genesis(&other).expect_err("another chain");
        assert!(matches!(e, NodeError::Genesis(_)), "{e}");
    }

    /// Fixed ports never collide: validators, the full node and the adapter.
    #[test]
    fn devnet_ports_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        // The full node's and the adapter's offsets.
        for off in [1u16, 11, 31, 20] {
            assert!(seen.insert(26650 + off));
        }
        for i in 0..10 {
            let off = light_api_offset(i).expect("a fixed port");
            assert!(
                seen.insert(26650 + off),
                "light client {i}'s API port is taken"
            );
        }
        assert_eq!(light_api_offset(10), None);
        for i in 0..MAX_VALIDATORS {
            let p = validator_ports(26650, i).expect("ports");
            for port in [p.grpc, p.metrics, p.p2p, p.consensus] {
                assert!(seen.insert(port), "port {port} used twice (validator {i})");
            }
        }
        assert!(validator_ports(65530, 1).is_err());
    }
}

//! `da-node`: `init`, `run` and `devnet`. Parses flags, sets up logging, calls the library.
//!
//! Exit codes: 0 success (or Ctrl-C); 2 bad arguments or configuration; 3 the genesis file is
//! missing, invalid or does not fit the configuration; 4 the validator key is missing, invalid
//! or not usable with the genesis; 5 the data dir holds another storage format; 1 anything else.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context;
use clap::{Parser, Subcommand};
use da_cli::devnet::{Devnet, DevnetOptions, DevnetValidator, Validators};
use da_node::{
    config::{ConfigError, NodeConfig, Role},
    genesis::{
        create_validator_key, read_genesis, write_genesis, GENESIS_FILE, VALIDATOR_KEY_FILE,
    },
    NodeError, StoreError,
};
use tracing::info;

#[derive(Parser, Debug)]
#[command(
    name = "da-node",
    version,
    about = "DA layer node: validator, full node, devnet"
)]
struct Cli {
    /// Log format.
    #[arg(
        long,
        global = true,
        env = "DA_NODE_LOG_FORMAT",
        default_value = "human"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    cmd: Command,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Writes into the data dir a commented default config.toml, a node key (libp2p identity),
    /// a BLS validator key (`validator_key`, mode 0600) and, unless --genesis gives one, a
    /// `genesis.json` in which this node is the only validator.
    Init {
        /// Data dir (default ~/.da-node/<chain-id>).
        #[arg(long, env = "DA_NODE_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// Chain id (default: the --genesis file's, else da-devnet).
        #[arg(long, env = "DA_NODE_CHAIN_ID")]
        chain_id: Option<String>,
        /// An existing genesis file to join (copied into the data dir) instead of a new
        /// one-validator chain. Unless it lists this node's new validator key, the node is
        /// configured as a full node.
        #[arg(long, value_name = "PATH")]
        genesis: Option<PathBuf>,
        /// The new genesis's bound on k (a power of two up to 256).
        #[arg(long, default_value_t = da_types::consts::K_MAX as u16)]
        max_square_k: u16,
    },
    /// Runs a validator (role producer) or a full node.
    Run(Box<RunArgs>),
    /// Runs a local devnet on 127.0.0.1: validators (each its own process, deciding with the
    /// BFT engine), a full node, sampling light clients and a posting adapter.
    Devnet {
        /// Root data dir (default ~/.da-node/devnet).
        #[arg(long, env = "DA_NODE_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// Validators, each a `da-node run` process of its own (1 to 8).
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(1..=8))]
        validators: u8,
        /// Block time in milliseconds.
        #[arg(long, default_value_t = da_node::config::DEFAULT_BLOCK_TIME_MS)]
        block_time_ms: u64,
        /// Validator 0's gRPC port; the full node uses +1, metrics +10 and +11, the posting
        /// adapter +20, libp2p +30 and +31, consensus +40; validator i > 0 uses +1+i, +11+i,
        /// +31+i, +40+i (0 = any free ports).
        #[arg(long, default_value_t = 26650)]
        base_port: u16,
        /// Post a steady demo load of this many MiB/s.
        #[arg(long, default_value_t = 0.0)]
        demo_load: f64,
        /// Bearer token for Submit (default: random, printed and written to devnet.json).
        #[arg(long, env = "DA_NODE_TOKEN")]
        token: Option<String>,
        /// Sampling light clients to run over libp2p.
        #[arg(long, default_value_t = 2)]
        light_clients: usize,
        /// Fault injection: the validators withhold this fraction of every extended square over
        /// libp2p (one rectangle). Up to 0.25 the full node repairs it and light clients find
        /// every block available; above 0.25 blocks are unrecoverable and reported unavailable.
        #[arg(long, default_value_t = 0.0)]
        withhold: f64,
        /// Only at these heights (comma-separated; default every height).
        #[arg(long, value_delimiter = ',')]
        withhold_heights: Vec<u64>,
        /// Fault injection: the full node serves corrupted proofs (light clients penalise it
        /// and sample from the validators).
        #[arg(long)]
        corrupt_proofs: bool,
        /// Fault injection: validator 0 never proposes blobs of this namespace (58 hex digits;
        /// repeat or comma-separate for several). The other validators include them: censorship
        /// only delays a blob to the next honest proposer.
        #[arg(long, value_delimiter = ',')]
        censor_namespace: Vec<String>,
    },
}

/// Flags of `run`; each overrides the config file and its `DA_NODE_*` variable.
#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Config file (default <data-dir>/config.toml if it exists).
    #[arg(long, env = "DA_NODE_CONFIG")]
    config: Option<PathBuf>,
    #[arg(long, env = "DA_NODE_ROLE")]
    role: Option<Role>,
    #[arg(long, env = "DA_NODE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[arg(long, env = "DA_NODE_CHAIN_ID")]
    chain_id: Option<String>,
    #[arg(long, env = "DA_NODE_GRPC_ADDR")]
    grpc_addr: Option<std::net::SocketAddr>,
    #[arg(long, env = "DA_NODE_METRICS_ADDR")]
    metrics_addr: Option<std::net::SocketAddr>,
    #[arg(long, env = "DA_NODE_BLOCK_TIME_MS")]
    block_time_ms: Option<u64>,
    #[arg(long, env = "DA_NODE_MAX_BLOB_BYTES")]
    max_blob_bytes: Option<usize>,
    /// Producer: largest square to cut (k, a power of two up to 256).
    #[arg(long, env = "DA_NODE_MAX_SQUARE_K")]
    max_square_k: Option<usize>,
    #[arg(long, env = "DA_NODE_AUTH_TOKEN")]
    auth_token: Option<String>,
    #[arg(long, env = "DA_NODE_RETENTION_SECS")]
    retention_secs: Option<u64>,
    /// Keep every height.
    #[arg(long, env = "DA_NODE_ARCHIVAL")]
    archival: bool,
    /// Full node: gRPC URL of the node to follow.
    #[arg(long, env = "DA_NODE_FOLLOW")]
    follow: Option<String>,
    /// The genesis file (default <data-dir>/genesis.json): the validator set whose
    /// certificates the node accepts.
    #[arg(long, env = "DA_NODE_GENESIS", value_name = "PATH")]
    genesis: Option<PathBuf>,
    /// Validator: decide blocks with the other validators (BFT engine) listening here
    /// (`/ip4/127.0.0.1/tcp/PORT`); without it a validator must hold over 2/3 of the power.
    #[arg(long, env = "DA_NODE_CONSENSUS_LISTEN", value_name = "MULTIADDR")]
    consensus_listen: Option<String>,
    /// Validator: another validator's consensus address (repeat for each).
    #[arg(long = "consensus-peer", value_name = "MULTIADDR")]
    consensus_peers: Vec<String>,
}

/// Where the devnet's log goes: its console is for the human lines (blocks, verdicts,
/// endpoints), so unless `RUST_LOG` asks for the log on the console it goes to `devnet.log` in
/// the data dir.
fn devnet_log_file(cli: &Cli) -> Option<PathBuf> {
    let Command::Devnet { data_dir, .. } = &cli.cmd else {
        return None;
    };
    if std::env::var_os("RUST_LOG").is_some() {
        return None;
    }
    Some(devnet_data_dir(data_dir.clone()).join("devnet.log"))
}

/// The devnet's data dir: the flag's, or the default under the home directory.
fn devnet_data_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.unwrap_or_else(|| {
        NodeConfig {
            chain_id: "devnet".into(),
            ..NodeConfig::default()
        }
        .data_dir()
    })
}

/// Logs to stdout, or appends to `file` (created with its directory) when given.
fn init_logging(format: LogFormat, file: Option<&Path>) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let b = tracing_subscriber::fmt().with_env_filter(filter);
    match file {
        Some(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening the log file {}", path.display()))?;
            let b = b.with_ansi(false).with_writer(std::sync::Mutex::new(f));
            match format {
                LogFormat::Human => b.init(),
                LogFormat::Json => b.json().init(),
            }
        }
        None => {
            // No colour codes when stdout is redirected to a file or a pipe.
            let b = b.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
            match format {
                LogFormat::Human => b.init(),
                LogFormat::Json => b.json().init(),
            }
        }
    }
    Ok(())
}

fn merged_config(a: RunArgs) -> Result<NodeConfig, ConfigError> {
    let chain_hint = a
        .chain_id
        .clone()
        .unwrap_or_else(|| da_node::config::DEFAULT_CHAIN_ID.into());
    let default_file = a
        .data_dir
        .clone()
        .unwrap_or_else(|| {
            NodeConfig {
                chain_id: chain_hint,
                ..NodeConfig::default()
            }
            .data_dir()
        })
        .join("config.toml");
    let mut c = match &a.config {
        Some(p) => NodeConfig::from_file(p)?,
        None if default_file.exists() => NodeConfig::from_file(&default_file)?,
        None => NodeConfig::default(),
    };
    if let Some(v) = a.role {
        c.role = v;
    }
    if a.data_dir.is_some() {
        c.data_dir = a.data_dir;
    }
    if let Some(v) = a.chain_id {
        c.chain_id = v;
    }
    if let Some(v) = a.grpc_addr {
        c.grpc_addr = v;
    }
    if let Some(v) = a.metrics_addr {
        c.metrics_addr = v;
    }
    if let Some(v) = a.block_time_ms {
        c.block_time_ms = v;
    }
    if let Some(v) = a.max_blob_bytes {
        c.max_blob_bytes = v;
    }
    if let Some(v) = a.max_square_k {
        c.max_square_k = v;
    }
    if a.auth_token.is_some() {
        c.auth_token = a.auth_token;
    }
    if let Some(v) = a.retention_secs {
        c.retention_secs = v;
    }
    c.archival |= a.archival;
    if a.follow.is_some() {
        c.follow = a.follow;
    }
    if a.genesis.is_some() {
        c.genesis = a.genesis;
    }
    if a.consensus_listen.is_some() {
        c.consensus_listen = a.consensus_listen;
    }
    if !a.consensus_peers.is_empty() {
        c.consensus_peers = a.consensus_peers;
    }
    c.validate()?;
    Ok(c)
}

/// The exit code of a failure (see the crate docs).
fn exit_code(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<ConfigError>().is_some() {
        return 2;
    }
    match e.downcast_ref::<NodeError>() {
        Some(NodeError::Genesis(_)) => 3,
        Some(NodeError::ValidatorKey(_)) => 4,
        Some(NodeError::Store(StoreError::Format { .. })) => 5,
        Some(NodeError::Startup(_)) => 2,
        _ => 1,
    }
}

/// `da-node init`.
fn init(
    data_dir: Option<PathBuf>,
    chain_id: Option<String>,
    genesis: Option<PathBuf>,
    max_square_k: u16,
) -> anyhow::Result<()> {
    let joined = genesis.as_deref().map(read_genesis).transpose()?;
    let chain_id = match (&joined, chain_id) {
        (Some(g), Some(c)) if g.chain_id != c => {
            return Err(NodeError::Genesis(format!(
                "the genesis file is for chain {:?}, not {c:?}",
                g.chain_id
            ))
            .into())
        }
        (Some(g), _) => g.chain_id.clone(),
        (None, Some(c)) => c,
        (None, None) => da_node::config::DEFAULT_CHAIN_ID.into(),
    };
    let c = NodeConfig {
        chain_id: chain_id.clone(),
        data_dir,
        ..NodeConfig::default()
    };
    c.validate()?;
    let dir = c.data_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let cfg = dir.join("config.toml");
    let genesis_path = dir.join(GENESIS_FILE);
    for existing in [&cfg, &genesis_path, &dir.join(VALIDATOR_KEY_FILE)] {
        if existing.exists() {
            return Err(NodeError::Startup(format!(
                "{} exists; not overwriting (init a fresh data dir)",
                existing.display()
            ))
            .into());
        }
    }
    let key = create_validator_key(&dir.join(VALIDATOR_KEY_FILE))?;
    let genesis = match joined {
        Some(g) => g,
        None => da_node::genesis::solo_genesis(&chain_id, &key, max_square_k),
    };
    genesis
        .validator_set()
        .map_err(|e| NodeError::Genesis(format!("new genesis: {e}")))?;
    write_genesis(&genesis_path, &genesis)?;
    let validator = genesis
        .validators
        .iter()
        .any(|v| v.public_key == key.public_key());
    let mut text = NodeConfig::commented_default(&chain_id);
    if !validator {
        text = text.replace("role = \"producer\"", "role = \"full\"");
    }
    std::fs::write(&cfg, text).with_context(|| format!("writing {}", cfg.display()))?;
    let node_key = da_node::node::load_or_create_key(&dir.join("node.key"))?;
    println!("wrote {}", cfg.display());
    println!(
        "node key {} (libp2p identity {})",
        dir.join("node.key").display(),
        hex::encode(node_key.verifying_key().to_bytes())
    );
    println!(
        "validator key {} (BLS public key {})",
        dir.join(VALIDATOR_KEY_FILE).display(),
        key.public_key()
    );
    println!(
        "genesis {} (chain {chain_id:?}, {} validator(s); this node {})",
        genesis_path.display(),
        genesis.validators.len(),
        if validator {
            "is a validator: role = producer"
        } else {
            "is not a validator: role = full (set p2p_bootstrap or follow in config.toml)"
        }
    );
    Ok(())
}

/// Waits for Ctrl-C (SIGINT) or, on Unix, SIGTERM: both stop the node cleanly.
async fn wait_for_ctrl_c() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                r = tokio::signal::ctrl_c() => if r.is_err() {
                    term.recv().await;
                },
                _ = term.recv() => {}
            }
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let log_file = devnet_log_file(&cli);
    if let Err(e) = init_logging(cli.log_format, log_file.as_deref()) {
        eprintln!("da-node: {e:#}");
        return ExitCode::from(1);
    }
    if let Some(path) = &log_file {
        println!(
            "log: {} (RUST_LOG=info puts it on the console instead)",
            path.display()
        );
    }
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("da-node: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.cmd {
        Command::Init {
            data_dir,
            chain_id,
            genesis,
            max_square_k,
        } => init(data_dir, chain_id, genesis, max_square_k)?,
        Command::Run(args) => {
            let config = merged_config(*args)?;
            let node = da_node::start(config).await?;
            info!(grpc = %node.grpc_addr, metrics = %node.metrics_addr, "running; Ctrl-C to stop");
            wait_for_ctrl_c().await;
            info!("shutting down");
            node.shutdown().await;
        }
        Command::Devnet {
            data_dir,
            validators,
            block_time_ms,
            base_port,
            demo_load,
            token,
            light_clients,
            withhold,
            withhold_heights,
            corrupt_proofs,
            censor_namespace,
        } => {
            let data_dir = devnet_data_dir(data_dir);
            NodeConfig {
                fault_censor_namespaces: censor_namespace.clone(),
                ..NodeConfig::default()
            }
            .censored_namespaces()
            .context("--censor-namespace")?;
            let token = token.unwrap_or_else(|| hex::encode(rand::random::<[u8; 16]>()));
            let exe = std::env::current_exe().context("locating the da-node binary")?;
            let mut devnet = Devnet::start(DevnetOptions {
                data_dir,
                validators: Validators::Processes {
                    count: usize::from(validators),
                    exe,
                },
                chain_id: "devnet".into(),
                block_time_ms,
                base_port,
                demo_load_mib_s: demo_load,
                token: token.clone(),
                light_clients,
                withhold,
                withhold_heights,
                corrupt_proofs,
                censor_namespaces: censor_namespace,
                light_sampler: Default::default(),
            })
            .await?;
            println!("devnet up; endpoints in {}", devnet.info_path.display());
            println!(
                "  genesis  {} ({} validators, equal power: more than 2/3 must vote for a block)",
                devnet.genesis.display(),
                devnet.validators.len()
            );
            for (i, v) in devnet.validators.iter().enumerate() {
                let pid = v
                    .pid()
                    .map_or_else(String::new, |p| format!("pid {p:<7}  "));
                println!(
                    "  validator {i}  {pid}gRPC http://{}  metrics http://{}/metrics",
                    v.grpc_addr(),
                    v.metrics_addr()
                );
            }
            println!(
                "  full node    gRPC http://{}  metrics http://{}/metrics",
                devnet.full.grpc_addr, devnet.full.metrics_addr
            );
            println!(
                "  posting adapter (OP Alt-DA server) http://{}  (--altda.da-server), submits to validator 0",
                devnet.adapter_addr
            );
            for (i, l) in devnet.light_endpoints.iter().enumerate() {
                println!(
                    "  light client {i}  API {}  (/status, /heights/N, /subscribe; sampling over libp2p)",
                    l.api
                );
            }
            println!("  submit token: {token}");
            if let Some(pid) = devnet.validators.get(1).and_then(DevnetValidator::pid) {
                println!(
                    "kill -9 {pid} crashes validator 1: the others go on; devnet.json has the \
                     command that restarts it"
                );
            }
            println!("Ctrl-C to stop");
            let mut blocks = devnet.full.subscribe();
            // One channel for every light client's verdicts.
            let (verdicts_tx, mut verdicts) = tokio::sync::mpsc::channel(256);
            for (i, lc) in devnet.light.iter().enumerate() {
                let mut sub = lc.subscribe();
                let tx = verdicts_tx.clone();
                tokio::spawn(async move {
                    while let Ok((h, st)) = sub.recv().await {
                        if st.is_final() && tx.send((i, h, st)).await.is_err() {
                            break;
                        }
                    }
                });
            }
            let mut relay_events = devnet.relay_events.take();
            if let Some(l1) = devnet_l1(&devnet) {
                println!("{l1}");
            }
            let mut reported = std::collections::HashSet::new();
            let mut watch = tokio::time::interval(std::time::Duration::from_secs(1));
            let stop = wait_for_ctrl_c();
            tokio::pin!(stop);
            loop {
                tokio::select! {
                    () = &mut stop => break,
                    _ = watch.tick() => {
                        for (i, pid, status) in devnet.exited() {
                            if reported.insert(pid) {
                                println!("validator {i} (pid {pid}) exited: {status}; the chain goes on while more than 2/3 of the power votes");
                            }
                        }
                    },
                    ev = blocks.recv() => if let Ok(ev) = ev {
                        let bytes: usize = ev.blobs.iter().map(|(_, d)| d.len()).sum();
                        println!("height {:>6}  k={:<3} blobs={:<4} payload={:>9} B  proposer {}  signed by {} of {}  verified by full node", ev.header.height(), ev.header.block.k, ev.blobs.len(), bytes, ev.header.block.header.proposer, ev.header.certificate.signers.count(), devnet.validators.len());
                    },
                    Some(ev) = next_relay_event(&mut relay_events) => match ev {
                        da_cli::devnet::RelayEvent::Attested(a) => println!(
                            "L1: window {} (heights {}..={}) attested by the oracle in revm: tuple_root {}…, commitHeader {} gas",
                            a.nonce,
                            a.heights.0,
                            a.heights.1,
                            hex::encode(&a.tuple_root[..6]),
                            a.gas
                        ),
                        da_cli::devnet::RelayEvent::Failed { height, error } => println!(
                            "L1: the window ending at height {height} could not be committed: {error}"
                        ),
                    },
                    Some((i, h, st)) = verdicts.recv() => match st {
                        da_light::sampler::HeightStatus::Available { confidence, samples, latency, .. } => println!(
                            "height {h:>6}  light client {i}: available, confidence {:.4}% ({samples} samples, {} ms)",
                            confidence * 100.0,
                            latency.as_millis()
                        ),
                        da_light::sampler::HeightStatus::Unavailable { cell, done, failed, latency } => println!(
                            "height {h:>6}  light client {i}: UNAVAILABLE, cell ({}, {}) served by no peer ({done} samples verified, {failed} failed, {} ms)",
                            cell.row,
                            cell.col,
                            latency.as_millis()
                        ),
                        other => println!("height {h:>6}  light client {i}: {other:?}"),
                    },
                }
            }
            println!("shutting down");
            devnet.shutdown().await;
        }
    }
    Ok(())
}

/// The devnet's L1 oracle line for the console, when it attests windows.
fn devnet_l1(devnet: &Devnet) -> Option<String> {
    let text = std::fs::read_to_string(&devnet.info_path).ok()?;
    let info: serde_json::Value = serde_json::from_str(&text).ok()?;
    let l1 = info.get("l1")?;
    Some(format!(
        "L1 (in-process revm, Prague): DAOracle at {}, one window every {} heights is relayed to it",
        l1.get("oracle")?.as_str()?,
        l1.get("window")?.as_u64()?
    ))
}

/// The next relayer event, or never when the devnet relays nothing.
async fn next_relay_event(
    events: &mut Option<tokio::sync::mpsc::Receiver<da_cli::devnet::RelayEvent>>,
) -> Option<da_cli::devnet::RelayEvent> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

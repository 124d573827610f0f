//! `posting-adapter`: the OP Stack Alt-DA DA server (`serve`) and a posting CLI (`post`, `get`,
//! `prove`).
//!
//! Exit codes: 0 success; 2 bad usage or input; 3 the DA layer does not have the data; 4 the data
//! failed verification; 5 the DA layer is unreachable or timed out; 6 not yet (`prove` before
//! the blob's attestation window has ended); 1 anything else.

use std::{
    io::{Read, Write},
    net::SocketAddr,
    path::PathBuf,
    process::ExitCode,
    sync::Arc,
};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use da_client::{ClientConfig, DaClient, HeaderTrust};
use da_types::{Genesis, Namespace, Trust};
use posting_adapter::{
    cost::CostReport, http, metrics::Metrics, Adapter, AdapterConfig, AdapterError, Commitment,
    VerifyMode,
};
use tokio_util::sync::CancellationToken;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Post rollup batches to the DA layer; serve the OP Stack Alt-DA API"
)]
struct Cli {
    /// The DA node's gRPC URL; several, comma-separated (or the flag repeated), to fail over
    /// between nodes of the same chain in that order when one is unreachable.
    #[arg(
        long,
        env = "DA_ADAPTER_NODE",
        default_value = "http://127.0.0.1:26650",
        value_delimiter = ',',
        num_args = 1..,
        global = true
    )]
    node: Vec<String>,
    /// Bearer token for the node's Submit.
    #[arg(long, env = "DA_ADAPTER_TOKEN", global = true)]
    token: Option<String>,
    /// The rollup's namespace: up to 10 bytes of text (a version-0 namespace id) or 0x + 58 hex
    /// digits (a raw 29-byte namespace).
    #[arg(
        long,
        env = "DA_ADAPTER_NAMESPACE",
        default_value = "op-rollup",
        global = true
    )]
    namespace: String,
    /// The chain's genesis file: headers are accepted only with a certificate of its validator
    /// set. Without it headers are only checked to be well formed (commitments match the data
    /// root), not certified.
    #[arg(long, env = "DA_ADAPTER_GENESIS", value_name = "PATH", global = true)]
    genesis: Option<PathBuf>,
    /// Largest batch accepted, in bytes (larger ones get 413; ones over the node's blob limit
    /// are split).
    #[arg(long, env = "DA_ADAPTER_MAX_BATCH_BYTES", default_value_t = posting_adapter::adapter::DEFAULT_MAX_BATCH_BYTES, global = true)]
    max_batch_bytes: usize,
    /// What reads check: `inclusion` (KZG proofs against the certified header) or `id` (bytes
    /// hash to the committed blob id).
    #[arg(long, env = "DA_ADAPTER_VERIFY", value_enum, default_value_t = Verify::Inclusion, global = true)]
    verify: Verify,
    /// Log format.
    #[arg(long, env = "DA_ADAPTER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Verify {
    Inclusion,
    Id,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Serve the Alt-DA HTTP API (POST /put, GET /get/0x…, /health, /metrics).
    Serve {
        /// Listen address.
        #[arg(long, env = "DA_ADAPTER_LISTEN", default_value = "127.0.0.1:3100")]
        listen: SocketAddr,
        /// Connection, time and size limits of the server (`specs/08-posting-adapter.md`).
        #[command(flatten)]
        limits: da_http::ServerLimits,
    },
    /// Post a batch from FILE (or stdin with `-` or nothing); prints the commitment and its cost.
    Post {
        /// The batch file; `-` or absent = stdin.
        file: Option<PathBuf>,
    },
    /// Fetch and verify the batch of a commitment (0x-hex); writes it to stdout or --out.
    Get {
        /// The commitment, 0x-prefixed hex.
        commitment: String,
        /// Write the batch here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Prove on L1 that a commitment's blob is published: prints, as JSON, the arguments of
    /// `DAOracle.verifyBlobElement` for the blob's field element holding byte --byte (blob id →
    /// the square's index entry → the element → row commitments → data_root → tuple → the
    /// window's attested tuple_root). Needs --genesis. A manifest commitment proves its
    /// manifest blob.
    Prove {
        /// The commitment, 0x-prefixed hex.
        commitment: String,
        /// The byte of the blob to open.
        #[arg(long, default_value_t = 0)]
        byte: u64,
        /// If the blob's attestation window has not ended, wait up to this many seconds for it
        /// instead of exiting with code 6.
        #[arg(long, value_name = "SECS", default_value_t = 0)]
        wait: u64,
        /// Write the JSON here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Parses a namespace flag: text (v0 id) or 0x + raw hex.
fn parse_namespace(s: &str) -> anyhow::Result<Namespace> {
    let ns = if let Some(h) = s.strip_prefix("0x") {
        let raw = hex::decode(h).context("namespace hex")?;
        Namespace::from_raw(&raw)?
    } else {
        Namespace::new_v0(s.as_bytes())?
    };
    ns.validate_for_blob()
        .with_context(|| format!("namespace {s:?} cannot hold blobs"))?;
    Ok(ns)
}

fn adapter(cli: &Cli) -> anyhow::Result<Adapter> {
    let namespace = parse_namespace(&cli.namespace)?;
    let (first, failover) = cli
        .node
        .split_first()
        .context("--node needs at least one URL")?;
    let mut cc = ClientConfig::new(first.clone());
    cc.failover = failover.to_vec();
    cc.token = cli.token.clone();
    if let Some(path) = &cli.genesis {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading genesis file {}", path.display()))?;
        let genesis = Genesis::from_json(&text)
            .with_context(|| format!("genesis file {}", path.display()))?;
        let trust = Trust::from_genesis(&genesis)
            .with_context(|| format!("genesis file {}", path.display()))?;
        cc.trust = HeaderTrust::Genesis(Arc::new(trust));
    }
    let client = DaClient::new(cc)?;
    let mut ac = AdapterConfig::new(namespace);
    ac.max_batch_bytes = cli.max_batch_bytes;
    ac.verify = match cli.verify {
        Verify::Inclusion => VerifyMode::Inclusion,
        Verify::Id => VerifyMode::Id,
    };
    Ok(Adapter::new(client, ac))
}

fn exit_code(e: &AdapterError) -> u8 {
    match e {
        AdapterError::BadRequest(_) | AdapterError::TooLarge { .. } => 2,
        AdapterError::NotFound(_) => 3,
        AdapterError::Upstream(_) => 4,
        AdapterError::Unavailable(_) | AdapterError::Timeout(_) => 5,
        AdapterError::Config(_) => 1,
        AdapterError::NotYet(_) => 6,
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let a = adapter(&cli)?;
    match &cli.cmd {
        Cmd::Serve { listen, limits } => {
            limits
                .validate()
                .context("the server limits")
                .map_err(|e| anyhow::anyhow!("{e:#}"))?;
            if cli.genesis.is_none() {
                tracing::warn!(
                    "no --genesis: headers are only checked to be well formed, not certified"
                );
            }
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            let shutdown = CancellationToken::new();
            let s = shutdown.clone();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                tracing::info!("shutting down");
                s.cancel();
            });
            http::serve(
                listener,
                Arc::new(a),
                Arc::new(Metrics::new()),
                limits.clone(),
                shutdown,
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Post { file } => {
            let batch = match file.as_deref() {
                Some(p) if p.as_os_str() != "-" => {
                    std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?
                }
                _ => {
                    let mut b = Vec::new();
                    std::io::stdin()
                        .read_to_end(&mut b)
                        .context("cannot read stdin")?;
                    b
                }
            };
            match a.put(&batch).await {
                Ok(c) => {
                    println!("{}", c.to_hex());
                    if let Some(h) = c.height() {
                        eprintln!("included at height {h} ({} bytes)", batch.len());
                    }
                    eprintln!("{}", CostReport::new(&batch, &c.l1_calldata()).line());
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(exit_code(&e)))
                }
            }
        }
        Cmd::Get { commitment, out } => {
            let c = match Commitment::from_hex(commitment.trim()) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            match a.get(&c).await {
                Ok(data) => {
                    match out {
                        Some(p) => std::fs::write(p, &data)
                            .with_context(|| format!("cannot write {}", p.display()))?,
                        None => std::io::stdout().write_all(&data)?,
                    }
                    eprintln!("verified {} bytes", data.len());
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(exit_code(&e)))
                }
            }
        }
        Cmd::Prove {
            commitment,
            byte,
            wait,
            out,
        } => {
            if cli.genesis.is_none() {
                eprintln!(
                    "error: prove needs --genesis: the attestation window and the validators \
                     that certify it come from the chain's genesis"
                );
                return Ok(ExitCode::from(2));
            }
            let c = match Commitment::from_hex(commitment.trim()) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(*wait);
            let p = loop {
                match a.prove(&c, *byte).await {
                    Ok(p) => break p,
                    Err(AdapterError::NotYet(why)) if std::time::Instant::now() < deadline => {
                        tracing::info!("{why}");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        return Ok(ExitCode::from(exit_code(&e)));
                    }
                }
            };
            let json = serde_json::to_string_pretty(&posting_adapter::proof_json::to_json(&p))?;
            match out {
                Some(path) => std::fs::write(path, format!("{json}\n"))
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => println!("{json}"),
            }
            eprintln!(
                "byte {} of blob {} (0x{:02x}) at height {}: its element {}, index entry {}, {} \
                 openings, in attestation window {} (tuple_root 0x{})",
                p.offset,
                p.blob_id,
                p.byte,
                p.proof.tuple.height,
                p.proof.element,
                p.proof.entry,
                p.proof.openings.len(),
                p.proof.nonce,
                hex::encode(p.tuple_root)
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let sub = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // No colour codes when the log is redirected to a file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Human => sub.init(),
        LogFormat::Json => sub.json().init(),
    }
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

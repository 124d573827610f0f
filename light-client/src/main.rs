//! `light-client`: joins a DA network over libp2p, verifies headers, samples every height to a
//! target confidence, catches up the window behind the head, and serves the results over an
//! HTTP JSON API with Prometheus metrics (`specs/10-light-client.md`). No RocksDB, no node code.
//!
//! Exit codes: 0 after Ctrl-C, 2 bad arguments or `devnet.json`, 3 a missing or invalid genesis
//! file, 1 start-up failure.

use std::{
    io::{IsTerminal, Write},
    net::SocketAddr,
    path::PathBuf,
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{anyhow, Context};
use clap::Parser;
use da_kzg::KzgVerifier;
use da_light::{api, LightClient, LightConfig, SamplerConfig};
use da_network::Multiaddr;
use da_types::{Genesis, Trust};
use tokio_util::sync::CancellationToken;
use tracing::info;

/// Sampling light client of the DA layer.
#[derive(Debug, Parser)]
#[command(name = "light-client", version)]
struct Args {
    /// Read the genesis file and bootstrap peers from a devnet's `devnet.json` (its data dir,
    /// default `~/.da-node/devnet`, or the file itself).
    #[arg(long, value_name = "DIR|FILE")]
    devnet: Option<PathBuf>,
    /// The chain's genesis file (chain id and the validator set whose certificates are
    /// accepted); with --bootstrap instead of --devnet.
    #[arg(long, env = "DA_LIGHT_GENESIS", value_name = "PATH")]
    genesis: Option<PathBuf>,
    /// Peer to dial at start, a multiaddr ending in `/p2p/<peer id>` (repeatable).
    #[arg(long, env = "DA_LIGHT_BOOTSTRAP", value_delimiter = ',')]
    bootstrap: Vec<String>,
    /// Address to listen on for peers (optional: a light client needs none to sample).
    #[arg(long, env = "DA_LIGHT_LISTEN")]
    listen: Vec<String>,
    /// HTTP API and metrics address.
    #[arg(long, env = "DA_LIGHT_API", default_value = "127.0.0.1:26720")]
    api: SocketAddr,
    /// Target confidence per height, in (0, 1).
    #[arg(long, default_value_t = da_light::sampler::DEFAULT_TARGET_CONFIDENCE)]
    confidence: f64,
    /// Heights below the head that are sampled (catch-up) and kept.
    #[arg(long, default_value_t = da_light::sampler::DEFAULT_WINDOW)]
    window: u64,
    /// RNG seed (reproducible sampling); default from the OS.
    #[arg(long)]
    seed: Option<u64>,
    /// No catch-up progress line on stderr.
    #[arg(long)]
    quiet: bool,
    /// Log format.
    #[arg(long, value_enum, default_value = "human")]
    log_format: LogFormat,
    /// Connection, time and size limits of the API (`specs/10-light-client.md`).
    #[command(flatten)]
    limits: da_http::ServerLimits,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

/// Why the arguments do not make a configuration (exit code 2, or 3 for the genesis file).
#[derive(Debug, thiserror::Error)]
enum ConfigError {
    #[error("{0:#}")]
    Usage(anyhow::Error),
    #[error("{0:#}")]
    Genesis(anyhow::Error),
}

impl From<anyhow::Error> for ConfigError {
    fn from(e: anyhow::Error) -> Self {
        Self::Usage(e)
    }
}

/// The genesis path and bootstrap peers from a devnet's `devnet.json` (a relative genesis path
/// is relative to the file's directory).
fn from_devnet(path: &std::path::Path) -> anyhow::Result<(PathBuf, Vec<String>)> {
    let file = if path.is_dir() {
        path.join("devnet.json")
    } else {
        path.to_path_buf()
    };
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let v: serde_json::Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not JSON", file.display()))?;
    let genesis = v["genesis"]
        .as_str()
        .ok_or_else(|| anyhow!("{}: no genesis path", file.display()))?;
    let genesis = file
        .parent()
        .map_or_else(|| PathBuf::from(genesis), |d| d.join(genesis));
    let nodes = v["nodes"]
        .as_array()
        .ok_or_else(|| anyhow!("{}: no nodes", file.display()))?;
    let bootstrap = nodes
        .iter()
        .flat_map(|n| n["p2p"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    Ok((genesis, bootstrap))
}

/// Reads and checks a genesis file (every proof of possession).
fn read_trust(path: &std::path::Path) -> anyhow::Result<Trust> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading genesis file {}", path.display()))?;
    let genesis =
        Genesis::from_json(&text).with_context(|| format!("genesis file {}", path.display()))?;
    Trust::from_genesis(&genesis).with_context(|| format!("genesis file {}", path.display()))
}

fn config(a: &Args) -> Result<LightConfig, ConfigError> {
    let (mut genesis, mut bootstrap) = (a.genesis.clone(), a.bootstrap.clone());
    if let Some(d) = &a.devnet {
        let (g, b) = from_devnet(d)?;
        genesis.get_or_insert(g);
        bootstrap.extend(b);
    }
    let genesis = genesis.ok_or_else(|| anyhow!("give --genesis PATH (or --devnet DIR)"))?;
    if bootstrap.is_empty() {
        return Err(anyhow!("give at least one --bootstrap peer (or --devnet DIR)").into());
    }
    let trust = read_trust(&genesis).map_err(ConfigError::Genesis)?;
    let addrs = |what: &str, v: &[String]| {
        v.iter()
            .map(|s| {
                s.parse::<Multiaddr>()
                    .map_err(|e| anyhow!("{what} address {s:?}: {e}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()
    };
    let sampler = SamplerConfig {
        target_confidence: a.confidence,
        window: a.window,
        ..SamplerConfig::default()
    };
    sampler.validate().map_err(|e| anyhow!("{e}"))?;
    a.limits.validate().map_err(|e| anyhow!("{e}"))?;
    Ok(LightConfig {
        trust,
        bootstrap: addrs("bootstrap", &bootstrap)?,
        listen: addrs("listen", &a.listen)?,
        sampler,
        seed: a.seed,
    })
}

/// Prints catch-up progress on stderr: one line redrawn on a terminal, a line every 5 s
/// otherwise, and a summary when done.
async fn progress(client: LightClient, cancel: CancellationToken) {
    let tty = std::io::stderr().is_terminal();
    let every = if tty {
        Duration::from_millis(500)
    } else {
        Duration::from_secs(5)
    };
    let started = Instant::now();
    let mut finished = false;
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(every) => {}
        }
        let p = client.progress();
        if p.total == 0 || finished {
            continue;
        }
        let secs = started.elapsed().as_secs_f64();
        let rate = p.done as f64 / secs.max(0.001);
        let mut err = std::io::stderr();
        if p.done >= p.total {
            finished = true;
            let _ = writeln!(
                err,
                "{}catch-up done: heights {}..={} sampled in {secs:.1} s ({rate:.1} heights/s)",
                if tty { "\r\x1b[2K" } else { "" },
                p.from,
                p.to
            );
            continue;
        }
        let width = 30usize;
        let filled = (p.done as usize * width) / p.total.max(1) as usize;
        let eta = if rate > 0.0 {
            format!("{:.0} s", (p.total - p.done) as f64 / rate)
        } else {
            "?".into()
        };
        let line = format!(
            "catch-up [{}{}] {}/{} heights ({:.0}%) {rate:.1} h/s ETA {eta} · head {}",
            "#".repeat(filled),
            ".".repeat(width - filled),
            p.done,
            p.total,
            100.0 * p.done as f64 / p.total as f64,
            p.head.map_or("-".into(), |h| h.to_string())
        );
        let _ = if tty {
            write!(err, "\r\x1b[2K{line}")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
    }
}

async fn run(a: Args, config: LightConfig) -> anyhow::Result<()> {
    // Verification only, no prover state: returns at once while the trusted setup loads in the
    // background, overlapped with connecting to peers (the first cell check waits for it).
    let kzg = Arc::new(KzgVerifier::new());
    let listener = api::bind(a.api).await?;
    let api_addr = listener.local_addr()?;
    let client = LightClient::start(config, kzg)
        .await
        .context("starting the light client")?;
    let cancel = CancellationToken::new();
    info!(
        peer_id = %client.network().peer_id(),
        api = %format!("http://{api_addr}"),
        "light client running; Ctrl-C to stop"
    );
    let server = tokio::spawn(api::serve(
        listener,
        client.clone(),
        a.limits.clone(),
        cancel.clone(),
    ));
    if !a.quiet {
        tokio::spawn(progress(client.clone(), cancel.clone()));
    }
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    info!("shutting down");
    cancel.cancel();
    client.shutdown();
    let _ = server.await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let a = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // No colour codes when the log (stdout) is redirected to a file or a pipe.
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    match a.log_format {
        LogFormat::Human => b.init(),
        LogFormat::Json => b.json().init(),
    }
    let config = match config(&a) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("light-client: {e}");
            return ExitCode::from(match e {
                ConfigError::Usage(_) => 2,
                ConfigError::Genesis(_) => 3,
            });
        }
    };
    match run(a, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("light-client: {e:#}");
            ExitCode::from(1)
        }
    }
}

//! Node configuration: defaults, then a TOML file, then `DA_NODE_*` environment variables, then
//! command-line flags (the last three are merged in `main.rs`).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use serde::{Deserialize, Serialize};

/// Default chain id.
pub const DEFAULT_CHAIN_ID: &str = "da-devnet";
/// Default block time.
pub const DEFAULT_BLOCK_TIME_MS: u64 = 2_000;
/// Default gRPC listen address.
pub const DEFAULT_GRPC_ADDR: &str = "127.0.0.1:26650";
/// Default metrics listen address.
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:26660";
/// Default largest blob (2 MiB, like Celestia's practical blob limit).
pub const DEFAULT_MAX_BLOB_BYTES: usize = 2 * 1024 * 1024;
/// Default largest square a producer cuts: `k = 64` (8.1 MB of payload). Bigger squares are
/// allowed by the protocol (up to `K_MAX`) but cost more per byte and, on a small producer,
/// take longer to prove than a block time: under load a backlog would turn into partly filled
/// `k = 128` squares that prove slower per byte than full `k = 64` ones (`benches/RESULTS.md`).
pub const DEFAULT_MAX_SQUARE_K: usize = 64;
/// Default mempool byte bound (two full squares).
pub const DEFAULT_MEMPOOL_BYTES: usize = 64 * 1024 * 1024;
/// Default mempool blob-count bound.
pub const DEFAULT_MEMPOOL_BLOBS: usize = 16_384;
/// Default bytes one namespace may have pending: half the pool (four full `k = 64` squares).
pub const DEFAULT_MEMPOOL_NAMESPACE_BYTES: usize = DEFAULT_MEMPOOL_BYTES / 2;
/// Default retention window: 7 days.
pub const DEFAULT_RETENTION_SECS: u64 = 7 * 24 * 3600;

/// What the node does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The solo validator: cuts every block, certifies it with its BLS key (`validator_key` in
    /// the data dir, which must hold more than 2/3 of the genesis power), stores and serves it.
    Producer,
    /// Follows the chain, accepts only headers certified by the genesis validator set,
    /// verifies, stores and serves.
    Full,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Producer => "producer",
            Self::Full => "full",
        })
    }
}

/// Everything a node needs to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// Chain identifier; must equal the genesis file's (headers carry its SHA-256).
    pub chain_id: String,
    /// Producer or full node.
    pub role: Role,
    /// Where RocksDB, the node key, the validator key and `genesis.json` live (default
    /// `~/.da-node/<chain-id>`).
    pub data_dir: Option<PathBuf>,
    /// The genesis file (default `<data_dir>/genesis.json`): the validator set whose
    /// certificates this node accepts.
    pub genesis: Option<PathBuf>,
    /// gRPC listen address (`:0` picks a free port).
    pub grpc_addr: SocketAddr,
    /// Prometheus metrics listen address.
    pub metrics_addr: SocketAddr,
    /// Time between blocks, milliseconds (a full mempool cuts a block sooner).
    pub block_time_ms: u64,
    /// Largest accepted blob.
    pub max_blob_bytes: usize,
    /// Mempool bound in bytes.
    pub mempool_max_bytes: usize,
    /// Mempool bound in blobs.
    pub mempool_max_blobs: usize,
    /// Bytes one namespace may have pending (its share of the mempool).
    pub mempool_max_namespace_bytes: usize,
    /// Producers: the largest square to cut (`k`, a power of two up to the genesis
    /// `max_square_k`).
    pub max_square_k: usize,
    /// Bearer token required by write methods, if set.
    pub auth_token: Option<String>,
    /// Keep heights for this long (ignored when archival).
    pub retention_secs: u64,
    /// Keep everything.
    pub archival: bool,
    /// Full nodes: the gRPC URL of the node to follow (`http://host:port`).
    pub follow: Option<String>,
    /// Precompute prover tables (producers only; ~400 MB, ~6% faster squares).
    pub precompute: bool,
    /// libp2p listen addresses (empty = no p2p), e.g. `/ip4/0.0.0.0/tcp/26656`.
    pub p2p_listen: Vec<String>,
    /// libp2p addresses dialled at start (`/ip4/…/tcp/…/p2p/<peer id>`).
    pub p2p_bootstrap: Vec<String>,
    /// Validators: the consensus engine's listen address (`/ip4/127.0.0.1/tcp/PORT`). Set, the
    /// validator decides blocks with the BFT engine (`specs/11-consensus.md`); unset, a
    /// validator holding more than 2/3 of the power certifies alone (`SoloValidator`).
    pub consensus_listen: Option<String>,
    /// Validators: the other validators' consensus addresses.
    pub consensus_peers: Vec<String>,
    /// Fault injection for tests and demos: the fraction of every extended square (one
    /// rectangle, `specs/09-p2p.md`) this node refuses to serve over libp2p. 0 = honest.
    pub fault_withhold: f64,
    /// Fault injection: the heights `fault_withhold` applies to (empty = every height).
    pub fault_withhold_heights: Vec<u64>,
    /// Fault injection: serve corrupted proofs over libp2p.
    pub fault_corrupt_proofs: bool,
    /// Fault injection for validators: namespaces (58 hex digits each) whose blobs this
    /// validator never proposes (a censoring proposer; the others include them).
    pub fault_censor_namespaces: Vec<String>,
    /// Fault injection for validators (tests): every block this validator proposes also holds
    /// a blob the previous block included, which the dedup rule makes invalid (the other
    /// validators vote nil).
    pub fault_repeat_included: bool,
    /// Connection, time and size limits of the gRPC API and the metrics address: the
    /// `[limits]` table (`specs/06-grpc.md` §"Server limits").
    pub limits: da_http::ServerLimits,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            chain_id: DEFAULT_CHAIN_ID.into(),
            role: Role::Producer,
            data_dir: None,
            genesis: None,
            grpc_addr: DEFAULT_GRPC_ADDR
                .parse()
                .unwrap_or_else(|_| ([127, 0, 0, 1], 26650).into()),
            metrics_addr: DEFAULT_METRICS_ADDR
                .parse()
                .unwrap_or_else(|_| ([127, 0, 0, 1], 26660).into()),
            block_time_ms: DEFAULT_BLOCK_TIME_MS,
            max_blob_bytes: DEFAULT_MAX_BLOB_BYTES,
            mempool_max_bytes: DEFAULT_MEMPOOL_BYTES,
            mempool_max_blobs: DEFAULT_MEMPOOL_BLOBS,
            mempool_max_namespace_bytes: DEFAULT_MEMPOOL_NAMESPACE_BYTES,
            max_square_k: DEFAULT_MAX_SQUARE_K,
            auth_token: None,
            retention_secs: DEFAULT_RETENTION_SECS,
            archival: false,
            follow: None,
            precompute: true,
            p2p_listen: Vec::new(),
            p2p_bootstrap: Vec::new(),
            consensus_listen: None,
            consensus_peers: Vec::new(),
            fault_withhold: 0.0,
            fault_withhold_heights: Vec::new(),
            fault_corrupt_proofs: false,
            fault_censor_namespaces: Vec::new(),
            fault_repeat_included: false,
            limits: da_http::ServerLimits::default(),
        }
    }
}

/// Why a configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A field has an unusable value.
    #[error("config field `{field}`: {why}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong and what is allowed.
        why: String,
    },
    /// The config file cannot be read or parsed.
    #[error("config file {path}: {why}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        why: String,
    },
}

impl NodeConfig {
    /// Reads a TOML file over the defaults.
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.into(),
            why: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::File {
            path: path.into(),
            why: e.to_string(),
        })
    }

    /// The data directory, defaulting to `~/.da-node/<chain-id>`.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| {
            let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
            home.join(".da-node").join(&self.chain_id)
        })
    }

    /// The genesis file: `genesis`, or `genesis.json` in the data dir.
    pub fn genesis_path(&self) -> PathBuf {
        self.genesis
            .clone()
            .unwrap_or_else(|| self.data_dir().join(crate::genesis::GENESIS_FILE))
    }

    /// Block time as a duration.
    pub fn block_time(&self) -> Duration {
        Duration::from_millis(self.block_time_ms)
    }

    /// The namespaces of `fault_censor_namespaces`, decoded.
    pub fn censored_namespaces(&self) -> Result<Vec<da_types::Namespace>, ConfigError> {
        self.fault_censor_namespaces
            .iter()
            .map(|h| {
                let invalid = |e: &dyn std::fmt::Display| ConfigError::Invalid {
                    field: "fault_censor_namespaces",
                    why: format!("{h:?}: {e}"),
                };
                let raw = hex::decode(h).map_err(|e| invalid(&e))?;
                da_types::Namespace::from_raw(&raw).map_err(|e| invalid(&e))
            })
            .collect()
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, why: String| Err(ConfigError::Invalid { field, why });
        if let Err(e) = self.limits.validate() {
            return invalid("limits", e.to_string());
        }
        if self.chain_id.is_empty() || self.chain_id.len() > da_types::header_v2::MAX_CHAIN_ID_LEN {
            return invalid("chain_id", "must be 1..=64 bytes".into());
        }
        if !(10..=600_000).contains(&self.block_time_ms) {
            return invalid(
                "block_time_ms",
                format!("{} not in 10..=600000", self.block_time_ms),
            );
        }
        if !self.max_square_k.is_power_of_two() || self.max_square_k > da_types::consts::K_MAX {
            return invalid(
                "max_square_k",
                format!(
                    "{} is not a power of two in 1..={}",
                    self.max_square_k,
                    da_types::consts::K_MAX
                ),
            );
        }
        let square = crate::mempool::square_cells(self.max_square_k)
            * da_types::consts::PAYLOAD_BYTES_PER_CELL;
        if self.max_blob_bytes == 0 || self.max_blob_bytes > square / 2 {
            return invalid(
                "max_blob_bytes",
                format!("{} not in 1..={}", self.max_blob_bytes, square / 2),
            );
        }
        if self.mempool_max_bytes < self.max_blob_bytes || self.mempool_max_blobs == 0 {
            return invalid(
                "mempool_max_bytes",
                "must hold at least one blob of max_blob_bytes".into(),
            );
        }
        if self.mempool_max_namespace_bytes < self.max_blob_bytes {
            return invalid(
                "mempool_max_namespace_bytes",
                "must hold at least one blob of max_blob_bytes".into(),
            );
        }
        self.censored_namespaces()?;
        if !(0.0..=1.0).contains(&self.fault_withhold) {
            return invalid(
                "fault_withhold",
                format!("{} not in 0..=1", self.fault_withhold),
            );
        }
        if self.role == Role::Full {
            let p2p = !self.p2p_listen.is_empty() && !self.p2p_bootstrap.is_empty();
            if self.follow.is_none() && !p2p {
                return invalid(
                    "follow",
                    "a full node syncs over libp2p (set p2p_listen and p2p_bootstrap) or \
                     follows a node over gRPC (set follow)"
                        .into(),
                );
            }
        }
        Ok(())
    }

    /// A commented TOML file with every field at its default.
    pub fn commented_default(chain_id: &str) -> String {
        format!(
            r#"# da-node configuration. Precedence: flags > DA_NODE_* environment > this file > defaults.

# Chain identifier; must equal genesis.json's (headers carry its SHA-256).
chain_id = "{chain_id}"
# "producer" is the solo validator: it cuts every block and certifies it with the BLS key in
# <data dir>/validator_key (which must hold more than 2/3 of the genesis power). "full" syncs
# over libp2p from `p2p_bootstrap` peers (or over gRPC from `follow`), accepts only headers
# certified by the genesis validator set, verifies, repairs and serves.
role = "producer"
# The genesis file (chain id, genesis time, validator set, max_square_k); default
# <data dir>/genesis.json, which `da-node init` writes.
# genesis = "/path/to/genesis.json"
# gRPC API (package da.v1, reflection and grpc.health.v1 on).
grpc_addr = "{DEFAULT_GRPC_ADDR}"
# Prometheus text at http://<metrics_addr>/metrics.
metrics_addr = "{DEFAULT_METRICS_ADDR}"
# Milliseconds between blocks; a full mempool cuts a block sooner.
block_time_ms = {DEFAULT_BLOCK_TIME_MS}
# Largest blob accepted, bytes.
max_blob_bytes = {DEFAULT_MAX_BLOB_BYTES}
# Mempool bounds, and the bytes one namespace may have pending (its share, so one rollup
# cannot fill the pool; blocks are also cut fairly between namespaces).
mempool_max_bytes = {DEFAULT_MEMPOOL_BYTES}
mempool_max_blobs = {DEFAULT_MEMPOOL_BLOBS}
mempool_max_namespace_bytes = {DEFAULT_MEMPOOL_NAMESPACE_BYTES}
# Producers: the largest square to cut (k rows of original data; a power of two up to the
# genesis max_square_k).
# Bigger squares hold more per block but prove slower per byte; raise it on a bigger machine.
# max_blob_bytes must fit in half of such a square.
max_square_k = {DEFAULT_MAX_SQUARE_K}
# Bearer token for Submit; leave unset for an open node.
# auth_token = "change-me"
# Retention window in seconds (7 days); `archival = true` keeps everything.
retention_secs = {DEFAULT_RETENTION_SECS}
archival = false
# Full nodes: `follow` = sync over gRPC from that node instead of over libp2p.
# follow = "http://127.0.0.1:26650"
# Precompute prover tables (producers only: ~400 MB in 2 MiB pages, ~6% faster squares).
precompute = true
# libp2p: listen addresses (empty = no p2p) and peers to dial at start.
p2p_listen = []
p2p_bootstrap = []
# Validators deciding with others (BFT, specs/11-consensus.md): this validator's consensus
# address and the other validators'. Unset, a validator must hold over 2/3 of the power alone.
# consensus_listen = "/ip4/127.0.0.1/tcp/26670"
consensus_peers = []
# Fault injection for demos and tests (never on a real node): withhold this fraction of every
# square over libp2p (at the listed heights; empty = all), and/or serve corrupted proofs.
fault_withhold = 0.0
fault_withhold_heights = []
fault_corrupt_proofs = false
# Validators: never propose blobs of these namespaces (58 hex digits each; a censoring proposer).
fault_censor_namespaces = []
# Validators (tests): propose a blob the previous block included in every block (nil votes).
fault_repeat_included = false

# Bounds of the gRPC API and the metrics address (specs/06-grpc.md "Server limits").
[limits]
# Connections served at once; one more is refused at once.
max_connections = {max_connections}
# Seconds to send a request head (gRPC: the HTTP/2 preface); also closes idle HTTP connections.
header_timeout_secs = {header_timeout_secs}
# Largest request head or HTTP/2 header list, bytes (at least 8192).
max_header_bytes = {max_header_bytes}
# Seconds an HTTP request body may take to arrive.
body_timeout_secs = {body_timeout_secs}
# gRPC requests in flight per connection, and seconds between HTTP/2 keepalive pings.
grpc_concurrency_per_connection = {grpc_concurrency_per_connection}
grpc_keepalive_secs = {grpc_keepalive_secs}
"#,
            max_connections = da_http::DEFAULT_MAX_CONNECTIONS,
            header_timeout_secs = da_http::DEFAULT_HEADER_TIMEOUT_SECS,
            max_header_bytes = da_http::DEFAULT_MAX_HEADER_BYTES,
            body_timeout_secs = da_http::DEFAULT_BODY_TIMEOUT_SECS,
            grpc_concurrency_per_connection = da_http::DEFAULT_GRPC_CONCURRENCY_PER_CONNECTION,
            grpc_keepalive_secs = da_http::DEFAULT_GRPC_KEEPALIVE_SECS,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commented_default_parses_to_the_defaults() {
        let parsed: NodeConfig =
            toml::from_str(&NodeConfig::commented_default(DEFAULT_CHAIN_ID)).expect("parse");
        assert_eq!(parsed, NodeConfig::default());
        parsed.validate().expect("valid");
    }

    #[test]
    fn bad_values_are_named() {
        let c = NodeConfig {
            block_time_ms: 1,
            ..NodeConfig::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("block_time_ms"));
        let c = NodeConfig {
            role: Role::Full,
            ..NodeConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("follow"));
        assert!(toml::from_str::<NodeConfig>("nonsense = 1").is_err());
    }

    #[test]
    fn limits_are_read_from_their_table_and_checked() {
        let c: NodeConfig =
            toml::from_str("[limits]\nmax_connections = 7\nbody_timeout_secs = 3\n")
                .expect("parse");
        assert_eq!(c.limits.max_connections, 7);
        assert_eq!(c.limits.body_timeout_secs, 3);
        assert_eq!(
            c.limits.header_timeout_secs,
            da_http::DEFAULT_HEADER_TIMEOUT_SECS
        );
        c.validate().expect("valid");
        let c: NodeConfig = toml::from_str("[limits]\nmax_header_bytes = 100\n").expect("parse");
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("limits") && e.contains("max_header_bytes"),
            "{e}"
        );
        assert!(toml::from_str::<NodeConfig>("[limits]\nmax_conections = 7\n").is_err());
    }
}

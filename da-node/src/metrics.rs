//! Prometheus metrics of the node, served as text on `GET /metrics`, and the node's status on the
//! same address: `GET /status` (JSON, read from the same metrics) and `GET /` (a page that shows
//! that JSON, `status_page.html`, embedded).

use std::{net::SocketAddr, sync::Arc};

use da_network::{DroppedEventsCollector, NetworkClient};
use prometheus_client::{
    encoding::text::encode,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Every metric the node exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// `da_p2p_dropped_events_total{kind}`, once the network is attached.
    network: DroppedEventsCollector,
    /// Highest stored height.
    pub head_height: Gauge,
    /// Lowest stored height.
    pub lowest_height: Gauge,
    /// Payload bytes of the last block.
    pub block_bytes: Gauge,
    /// `k` of the last block.
    pub square_k: Gauge,
    /// Blocks stored.
    pub blocks: Counter,
    /// Blobs included.
    pub blobs_included: Counter,
    /// Blocks a full node rebuilt from partial rows (cells withheld by every peer).
    pub blocks_repaired: Counter,
    /// Sync attempts of a height that ended without importing it (unavailable, unrepairable).
    pub sync_failures: Counter,
    /// Headers refused under the genesis trust, by rule broken (`reason` of `TrustError`).
    pub headers_rejected: Family<Vec<(String, String)>, Counter>,
    /// Seconds from cutting a block to its certified header.
    pub time_to_header: Histogram,
    /// Seconds from cutting a block to all its proofs.
    pub time_to_proofs: Histogram,
    /// Pending blobs.
    pub mempool_blobs: Gauge,
    /// Pending bytes.
    pub mempool_bytes: Gauge,
    /// Seconds a Submit call took.
    pub submit_latency: Histogram,
    /// Bytes in RocksDB (SST files and memtables).
    pub storage_bytes: Gauge,
    /// RPC errors by method and gRPC code.
    pub rpc_errors: Family<Vec<(String, String)>, Counter>,
    /// Blocks a validator stored after a decision, by where their proofs came from
    /// (`proofs` = `proved` here or `fetched` from the validator that proved them).
    pub decided_blocks: Family<Vec<(String, String)>, Counter>,
    /// Proposals this validator built, by the path of their commitments.
    pub proposals_built: Family<Vec<(String, String)>, Counter>,
    /// Blobs the relay moved, by `event`: `announced` (ids published), `pulled` (blobs taken
    /// from a peer into the pool), `served` (blobs sent to a peer).
    pub relay_blobs: Family<Vec<(String, String)>, Counter>,
    /// Bytes the relay moved, by `event` (`announced`: gossip payload; `pulled`, `served`:
    /// blob payload).
    pub relay_bytes: Family<Vec<(String, String)>, Counter>,
    /// The consensus engine's metrics (`da_consensus_*`), handed to the engine of a validator.
    pub consensus: da_consensus::ConsensusMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric under the `da_` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("da");
        let m = Self {
            head_height: Gauge::default(),
            lowest_height: Gauge::default(),
            block_bytes: Gauge::default(),
            square_k: Gauge::default(),
            blocks: Counter::default(),
            blobs_included: Counter::default(),
            blocks_repaired: Counter::default(),
            sync_failures: Counter::default(),
            headers_rejected: Family::default(),
            time_to_header: Histogram::new(exponential_buckets(0.005, 2.0, 14)),
            time_to_proofs: Histogram::new(exponential_buckets(0.005, 2.0, 14)),
            mempool_blobs: Gauge::default(),
            mempool_bytes: Gauge::default(),
            submit_latency: Histogram::new(exponential_buckets(0.0005, 2.0, 18)),
            storage_bytes: Gauge::default(),
            rpc_errors: Family::default(),
            decided_blocks: Family::default(),
            proposals_built: Family::default(),
            relay_blobs: Family::default(),
            relay_bytes: Family::default(),
            consensus: da_consensus::ConsensusMetrics::default(),
            registry: Registry::default(),
            network: DroppedEventsCollector::default(),
        };
        registry.register_collector(Box::new(m.network.clone()));
        registry.register(
            "blocks_repaired",
            "Blocks a full node rebuilt from partial rows",
            m.blocks_repaired.clone(),
        );
        registry.register(
            "sync_failures",
            "Sync attempts of a height that ended without importing it (retried with backoff)",
            m.sync_failures.clone(),
        );
        registry.register(
            "headers_rejected",
            "Headers refused (gossip, ranges, follow) by the rule they broke: a certificate \
             under 2/3 power, a bad signature, another chain or validator set, a bad header",
            m.headers_rejected.clone(),
        );
        registry.register(
            "head_height",
            "Highest stored height",
            m.head_height.clone(),
        );
        registry.register(
            "lowest_height",
            "Lowest stored height",
            m.lowest_height.clone(),
        );
        registry.register(
            "block_payload_bytes",
            "Payload bytes of the last block",
            m.block_bytes.clone(),
        );
        registry.register(
            "square_k",
            "Original rows of the last square",
            m.square_k.clone(),
        );
        registry.register("blocks", "Blocks stored", m.blocks.clone());
        registry.register(
            "blobs_included",
            "Blobs included in stored blocks",
            m.blobs_included.clone(),
        );
        registry.register(
            "time_to_header_seconds",
            "Block cut to certified header",
            m.time_to_header.clone(),
        );
        registry.register(
            "time_to_proofs_seconds",
            "Block cut to all cell proofs",
            m.time_to_proofs.clone(),
        );
        registry.register("mempool_blobs", "Pending blobs", m.mempool_blobs.clone());
        registry.register("mempool_bytes", "Pending bytes", m.mempool_bytes.clone());
        registry.register(
            "submit_latency_seconds",
            "Submit call duration",
            m.submit_latency.clone(),
        );
        registry.register(
            "storage_bytes",
            "RocksDB bytes (SST + memtables)",
            m.storage_bytes.clone(),
        );
        registry.register(
            "rpc_errors",
            "RPC errors by method and code",
            m.rpc_errors.clone(),
        );
        registry.register(
            "decided_blocks",
            "Blocks a validator stored after a decision, by where their cell proofs came from: \
             proved here (its own proposals, or a proposer that did not serve them) or fetched \
             and verified",
            m.decided_blocks.clone(),
        );
        registry.register(
            "proposals_built",
            "Proposals this validator built, by how it computed their commitments: `msm` (one MSM \
             per row, the header soonest) or `prover` (the prover's own path, reused by the \
             proofs after the decision; a validator that is the whole set)",
            m.proposals_built.clone(),
        );
        registry.register(
            "relay_blobs",
            "Blobs the relay moved: ids announced on gossip, blobs pulled from a peer into the \
             pool, blobs served to a peer",
            m.relay_blobs.clone(),
        );
        registry.register(
            "relay_bytes",
            "Bytes the relay moved: announcement payloads, and the blob payloads pulled and served",
            m.relay_bytes.clone(),
        );
        m.consensus.register(&mut registry);
        Self { registry, ..m }
    }

    /// Exports `network`'s dropped-event counters from now on (the first call wins).
    pub fn attach_network(&self, network: NetworkClient) {
        self.network.attach(network);
    }

    /// The attached network, if any.
    pub fn network(&self) -> Option<&NetworkClient> {
        self.network.client()
    }

    /// The node's status as JSON, from these metrics (and the peer count of the network).
    pub async fn status_json(&self) -> serde_json::Value {
        let peers = match self.network() {
            Some(n) => n.peers().await.ok().map(|p| p.len()),
            None => None,
        };
        let head = self.head_height.get().max(0) as u64;
        let lowest = (self.lowest_height.get().max(0) as u64).max(1);
        serde_json::json!({
            "head": head,
            "lowest": if head == 0 { 0 } else { lowest },
            "blocks_stored": if head == 0 { 0 } else { head.saturating_sub(lowest) + 1 },
            "blocks_imported": self.blocks.get(),
            "blobs_included": self.blobs_included.get(),
            "last_block": { "k": self.square_k.get(), "payload_bytes": self.block_bytes.get() },
            "mempool": { "blobs": self.mempool_blobs.get(), "bytes": self.mempool_bytes.get() },
            "repairs": self.blocks_repaired.get(),
            "sync_failures": self.sync_failures.get(),
            "peers": peers,
            "storage_bytes": self.storage_bytes.get(),
        })
    }

    /// Counts one failed RPC.
    pub fn rpc_error(&self, method: &str, code: tonic::Code) {
        self.rpc_errors
            .get_or_create(&vec![
                ("method".into(), method.into()),
                ("code".into(), format!("{code:?}")),
            ])
            .inc();
    }

    /// Counts one header refused for `reason`.
    pub fn header_rejected(&self, reason: &str) {
        self.headers_rejected
            .get_or_create(&vec![("reason".into(), reason.into())])
            .inc();
    }

    /// Counts one decided block stored with proofs `how` (`proved` or `fetched`).
    pub fn decided_block(&self, how: &str) {
        self.decided_blocks
            .get_or_create(&vec![("proofs".into(), how.into())])
            .inc();
    }

    /// Blocks stored after a decision with proofs `how` (`proved` or `fetched`).
    pub fn decided_blocks(&self, how: &str) -> u64 {
        self.decided_blocks
            .get_or_create(&vec![("proofs".into(), how.into())])
            .get()
    }

    /// Counts one proposal built with its commitments on `path` (`msm` or `prover`).
    pub fn proposal_built(&self, path: &str) {
        self.proposals_built
            .get_or_create(&vec![("commitments".into(), path.into())])
            .inc();
    }

    /// Proposals built with their commitments on `path` (`msm` or `prover`).
    pub fn proposals_built(&self, path: &str) -> u64 {
        self.proposals_built
            .get_or_create(&vec![("commitments".into(), path.into())])
            .get()
    }

    /// Counts `blobs` blobs of `bytes` bytes the relay moved in `event` (`announced`, `pulled`,
    /// `served`).
    pub fn relayed(&self, event: &str, blobs: u64, bytes: u64) {
        let label = vec![("event".into(), event.into())];
        self.relay_blobs.get_or_create(&label).inc_by(blobs);
        self.relay_bytes.get_or_create(&label).inc_by(bytes);
    }

    /// Bytes the relay moved in `event`.
    pub fn relay_bytes_of(&self, event: &str) -> u64 {
        self.relay_bytes
            .get_or_create(&vec![("event".into(), event.into())])
            .get()
    }

    /// Blobs the relay moved in `event`.
    pub fn relayed_blobs(&self, event: &str) -> u64 {
        self.relay_blobs
            .get_or_create(&vec![("event".into(), event.into())])
            .get()
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// The status page served at `/`: one HTML file, styles and script inline, reading `/status`.
pub const STATUS_PAGE: &str = include_str!("status_page.html");

/// Serves `GET /metrics`, `GET /status` and the status page at `/` within `limits` until
/// cancelled.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    limits: da_http::ServerLimits,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    use axum::{http::header, routing::get};
    let (m1, m2) = (metrics.clone(), metrics);
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let m = m1.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        m.render(),
                    )
                }
            }),
        )
        .route(
            "/status",
            get(move || {
                let m = m2.clone();
                async move { axum::Json(m.status_json().await) }
            }),
        )
        .route(
            "/",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                        (header::CACHE_CONTROL, "no-cache"),
                    ],
                    STATUS_PAGE,
                )
            }),
        );
    da_http::serve(listener, app, limits, cancel).await
}

/// Binds a listener, mapping the error to a message that names the address.
pub async fn bind(addr: SocketAddr, what: &str) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot listen for {what} on {addr}: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dropped_network_events_are_exported_once_the_network_is_attached() {
        let m = Metrics::new();
        let text = m.render();
        assert!(
            text.contains("da_p2p_dropped_events_total{kind=\"header\"} 0"),
            "{text}"
        );
        let (client, _events) = da_network::start(da_network::NetworkConfig::local("m", false))
            .await
            .expect("network");
        m.attach_network(client.clone());
        let text = m.render();
        for kind in ["header", "request", "peer_notice"] {
            assert!(
                text.contains(&format!("da_p2p_dropped_events_total{{kind=\"{kind}\"}} 0")),
                "{kind}: {text}"
            );
        }
        client.shutdown();
    }
}

//! Prometheus metrics of the light client (`da_light_*`), encoded as text for `GET /metrics`.

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

use std::sync::atomic::AtomicU64;

/// Every metric the light client exports.
#[derive(Debug)]
pub struct LightMetrics {
    registry: Registry,
    /// Newest verified header.
    pub head: Gauge,
    /// Newest height with a final verdict.
    pub sampled_head: Gauge,
    /// Confidence reached by the last available height.
    pub confidence: Gauge<f64, AtomicU64>,
    /// Cells verified.
    pub samples_verified: Counter,
    /// Sample requests that failed (timeout, missing cells, bad data).
    pub samples_failed: Counter,
    /// Verdicts by outcome (`available`, `unavailable`).
    pub verdicts: Family<Vec<(String, String)>, Counter>,
    /// Seconds from header to verdict.
    pub latency: Histogram,
    /// Bytes of cells and proofs received.
    pub bytes_received: Counter,
    /// Connected peers that serve samples.
    pub peers: Gauge,
    /// Heights still to sample in the catch-up range.
    pub catchup_remaining: Gauge,
    /// Headers refused by the rule they broke (`reason`: `insufficient_power`, `bad_signature`,
    /// `wrong_chain`, `wrong_validator_set`, `malformed`, ...).
    pub headers_rejected: Family<Vec<(String, String)>, Counter>,
}

impl Default for LightMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl LightMetrics {
    /// Creates and registers every metric under the `da_light_` prefix.
    pub fn new() -> Self {
        Self::build(None)
    }

    /// [`LightMetrics::new`] plus the dropped-event counters of `network`.
    pub fn with_network(network: NetworkClient) -> Self {
        Self::build(Some(network))
    }

    fn build(network: Option<NetworkClient>) -> Self {
        let mut registry = Registry::with_prefix("da_light");
        let m = Self {
            head: Gauge::default(),
            sampled_head: Gauge::default(),
            confidence: Gauge::default(),
            samples_verified: Counter::default(),
            samples_failed: Counter::default(),
            verdicts: Family::default(),
            latency: Histogram::new(exponential_buckets(0.002, 2.0, 14)),
            bytes_received: Counter::default(),
            peers: Gauge::default(),
            catchup_remaining: Gauge::default(),
            headers_rejected: Family::default(),
            registry: Registry::default(),
        };
        registry.register("head", "Newest verified header", m.head.clone());
        registry.register(
            "sampled_head",
            "Newest height with a final verdict",
            m.sampled_head.clone(),
        );
        registry.register(
            "confidence",
            "Confidence reached by the last available height",
            m.confidence.clone(),
        );
        registry.register(
            "samples_verified",
            "Cells verified",
            m.samples_verified.clone(),
        );
        registry.register(
            "samples_failed",
            "Sample requests that failed",
            m.samples_failed.clone(),
        );
        registry.register("verdicts", "Verdicts by outcome", m.verdicts.clone());
        registry.register(
            "latency_seconds",
            "Seconds from header to verdict",
            m.latency.clone(),
        );
        registry.register(
            "received_bytes",
            "Bytes of cells and proofs received",
            m.bytes_received.clone(),
        );
        registry.register(
            "peers",
            "Connected peers that serve samples",
            m.peers.clone(),
        );
        registry.register(
            "catchup_remaining",
            "Heights still to sample in the catch-up range",
            m.catchup_remaining.clone(),
        );
        registry.register(
            "headers_rejected",
            "Headers refused by the rule they broke (certificate, chain, set, encoding)",
            m.headers_rejected.clone(),
        );
        if let Some(network) = network {
            registry.register_collector(Box::new(DroppedEventsCollector::of(network)));
        }
        Self { registry, ..m }
    }

    /// Counts one header refused for `reason`.
    pub fn header_rejected(&self, reason: &str) {
        self.headers_rejected
            .get_or_create(&vec![("reason".into(), reason.into())])
            .inc();
    }

    /// Headers refused so far for `reason`.
    pub fn headers_rejected_for(&self, reason: &str) -> u64 {
        self.headers_rejected
            .get_or_create(&vec![("reason".into(), reason.into())])
            .get()
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

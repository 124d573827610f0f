//! Prometheus metrics of the adapter (`posting_adapter_*`), served on its own `GET /metrics`.

use prometheus_client::{
    encoding::text::encode,
    metrics::{
        counter::Counter,
        family::Family,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};

/// Labels of a request: operation and HTTP status.
type OpStatus = Vec<(String, String)>;
/// Labels of an operation.
type Op = Vec<(String, String)>;

/// Every metric the adapter exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Requests by operation (`put`, `get`, `health`, `other`) and HTTP status.
    pub requests: Family<OpStatus, Counter>,
    /// Seconds per request by operation.
    pub latency: Family<Op, Histogram>,
    /// Batch bytes accepted by successful puts.
    pub put_bytes: Counter,
    /// Batch bytes returned by successful gets.
    pub get_bytes: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("posting_adapter");
        let m = Self {
            requests: Family::default(),
            latency: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.001, 2.0, 18))
            }),
            put_bytes: Counter::default(),
            get_bytes: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "requests",
            "HTTP requests by operation and status",
            m.requests.clone(),
        );
        registry.register(
            "request_seconds",
            "Seconds per HTTP request by operation",
            m.latency.clone(),
        );
        registry.register(
            "put_bytes",
            "Batch bytes accepted by successful puts",
            m.put_bytes.clone(),
        );
        registry.register(
            "get_bytes",
            "Batch bytes returned by successful gets",
            m.get_bytes.clone(),
        );
        Self { registry, ..m }
    }

    /// Records one finished request.
    pub fn observe(&self, op: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&vec![
                ("op".to_string(), op.to_string()),
                ("status".to_string(), status.to_string()),
            ])
            .inc();
        self.latency
            .get_or_create(&vec![("op".to_string(), op.to_string())])
            .observe(seconds);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

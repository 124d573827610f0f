//! The network's Prometheus collector: its dropped-event counters, read at each scrape, for the
//! node and the light client to register under their own prefix.

use std::sync::{Arc, OnceLock};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric},
    metrics::counter::ConstCounter,
};

use crate::NetworkClient;

/// `p2p_dropped_events_total{kind="header|blob_ids|request|peer_notice"}`: events the event loop dropped
/// because the application's queue was full; all 0 until a client is attached.
#[derive(Clone, Debug, Default)]
pub struct DroppedEventsCollector(Arc<OnceLock<NetworkClient>>);

impl DroppedEventsCollector {
    /// A collector reading `client` from the start.
    pub fn of(client: NetworkClient) -> Self {
        let c = Self::default();
        c.attach(client);
        c
    }

    /// Reads `client` from now on (the first call wins).
    pub fn attach(&self, client: NetworkClient) {
        let _ = self.0.set(client);
    }

    /// The attached network, if any.
    pub fn client(&self) -> Option<&NetworkClient> {
        self.0.get()
    }
}

impl Collector for DroppedEventsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let d = self
            .0
            .get()
            .map(NetworkClient::dropped_events)
            .unwrap_or_default();
        let mut family = encoder.encode_descriptor(
            "p2p_dropped_events",
            "Network events dropped because the application was busy, by kind",
            None,
            ConstCounter::new(0u64).metric_type(),
        )?;
        for (kind, n) in [
            ("header", d.headers),
            ("blob_ids", d.blob_ids),
            ("request", d.requests),
            ("peer_notice", d.peer_notices),
        ] {
            ConstCounter::new(n).encode(family.encode_family(&[("kind", kind)])?)?;
        }
        Ok(())
    }
}

//! Pruning: a background task that deletes heights whose header is older than the retention
//! window (`specs/07-storage.md`, "Retention"), never the head. It owns the retention setting
//! and writes to the store only through [`Store::prune_below`].

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{clock::now_ms, error::Result, metrics::Metrics, store::Store};

/// Deletes heights past the retention window.
#[derive(Clone, Debug)]
pub struct Pruner {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    retention_secs: u64,
}

impl Pruner {
    /// A pruner keeping `retention_secs` of headers' time.
    pub fn new(store: Arc<dyn Store>, metrics: Arc<Metrics>, retention_secs: u64) -> Self {
        Self {
            store,
            metrics,
            retention_secs,
        }
    }

    /// Deletes heights older than the retention window (never the head), blocking. Returns
    /// how many.
    pub fn prune(&self) -> Result<usize> {
        let (Some(lowest), Some(head)) = (self.store.lowest()?, self.store.head()?) else {
            return Ok(0);
        };
        let cutoff = now_ms().saturating_sub(self.retention_secs.saturating_mul(1000));
        let mut keep_from = lowest;
        while keep_from < head {
            match self.store.header(keep_from)? {
                Some(h) if h.block.header.timestamp_ms < cutoff => keep_from += 1,
                _ => break,
            }
        }
        let n = self.store.prune_below(keep_from)?;
        if n > 0 {
            self.metrics
                .storage_bytes
                .set(self.store.storage_bytes() as i64);
            if let Ok(Some(h)) = self.store.lowest() {
                self.metrics.lowest_height.set(h as i64);
            }
        }
        Ok(n)
    }

    /// Prunes every `retention / 4` (between 1 s and 60 s) until `cancel`.
    pub async fn run(self, cancel: CancellationToken) {
        let every = Duration::from_secs((self.retention_secs / 4).clamp(1, 60));
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(every) => {}
            }
            let me = self.clone();
            match tokio::task::spawn_blocking(move || me.prune()).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => info!(heights = n, "pruned"),
                Ok(Err(e)) => warn!("pruning failed: {e}"),
                Err(e) => warn!("pruning task failed: {e}"),
            }
        }
    }
}

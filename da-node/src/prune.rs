//! Pruning: a background task that deletes heights whose header is older than the retention
//! window (`specs/07-storage.md`, "Retention"), never the head nor the chain's dedup window (the
//! blob index a validator checks exactly-once inclusion against). It owns the retention setting
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
    /// Heights below the head always kept, whatever their age.
    keep_heights: u64,
}

impl Pruner {
    /// A pruner keeping `retention_secs` of headers' time.
    pub fn new(store: Arc<dyn Store>, metrics: Arc<Metrics>, retention_secs: u64) -> Self {
        Self {
            store,
            metrics,
            retention_secs,
            keep_heights: 1,
        }
    }

    /// Also keeps the newest `heights` heights whatever their age (the chain's dedup window:
    /// the next block is checked against the blobs of the `heights` before it).
    pub fn keeping_heights(mut self, heights: u64) -> Self {
        self.keep_heights = heights.max(1);
        self
    }

    /// Deletes heights older than the retention window (never the head), blocking. Returns
    /// how many.
    pub fn prune(&self) -> Result<usize> {
        let (Some(lowest), Some(head)) = (self.store.lowest()?, self.store.head()?) else {
            return Ok(0);
        };
        let cutoff = now_ms().saturating_sub(self.retention_secs.saturating_mul(1000));
        // The next height's dedup window starts at `head + 1 - keep_heights`.
        let floor = (head + 1).saturating_sub(self.keep_heights).min(head);
        let mut keep_from = lowest;
        while keep_from < floor {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{
        tests::{blob, block},
        MemoryStore,
    };

    /// Headers of 1970 are all past any retention: only the dedup window (and the head) stay.
    #[test]
    fn pruning_keeps_the_dedup_window_whatever_its_age() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let ids: Vec<_> = (1..=6u64)
            .map(|h| {
                let b = blob(&h.to_be_bytes(), b"x");
                store
                    .put_block(&block(h, std::slice::from_ref(&b)).0)
                    .expect("put");
                b.id()
            })
            .collect();
        let metrics = Arc::new(Metrics::new());
        let windowed = Pruner::new(store.clone(), metrics.clone(), 1).keeping_heights(3);
        // The next block (7) is checked against heights 4, 5 and 6.
        assert_eq!(windowed.prune().expect("prune"), 3);
        assert_eq!(store.lowest().expect("lowest"), Some(4));
        assert_eq!(store.blob_height(&ids[3]).expect("read"), Some(4));
        assert_eq!(store.blob_height(&ids[2]).expect("read"), None);
        assert_eq!(windowed.prune().expect("prune"), 0);
        // Without a window only the head stays.
        let plain = Pruner::new(store.clone(), metrics, 1);
        assert_eq!(plain.prune().expect("prune"), 2);
        assert_eq!(store.lowest().expect("lowest"), Some(6));
    }
}

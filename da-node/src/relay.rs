//! The blob relay (`specs/09-p2p.md`, "Blob relay"): a blob submitted to any node — validator
//! or not — reaches whoever proposes next.
//!
//! It owns:
//! - **announcing**: ids newly pooled through `Submit` (handed over by an [`Announcer`]) go out
//!   on the blob-id gossip topic at once, and every [`REANNOUNCE_EVERY`] the oldest pending ids
//!   go out again (peers that joined later, or an announcement nobody heard);
//! - **pulling**: an announcement with ids this node has neither pooled nor stored makes it ask
//!   the peer that forwarded it for those blobs (`/blobs/1`); each blob's id is recomputed from
//!   its bytes, checked like a submission, pooled and persisted. Only an announcement that
//!   brought something new is forwarded, so a re-announcement stops at nodes that already know
//!   it; a peer that answers with bytes that are not a blob it was asked for is rejected and
//!   penalised;
//! - **serving** pooled blobs by id, within the response bound;
//! - **forgetting**: blobs a stored block included leave the pool on every node (a full node's
//!   pool too, which no block building empties), when the block is stored and, for any that
//!   slipped past that, at the next re-announcement.
//!
//! Fault injection: a validator censoring namespaces neither announces nor serves their blobs.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use da_network::{
    protocol::{MAX_BLOBS_RESPONSE_PAYLOAD, MAX_BLOB_IDS_PER_MESSAGE},
    NetworkClient, PeerId, Request, Response, Verdict,
};
use da_proto::v1 as pb;
use da_types::{Blob, BlobId, Namespace};
use tokio::sync::{mpsc, Semaphore};
use tracing::{debug, warn};

use crate::{
    mempool::{Inserted, Mempool},
    metrics::Metrics,
    reader::Reader,
};

/// How often the oldest pending ids are announced again.
pub const REANNOUNCE_EVERY: Duration = Duration::from_secs(10);
/// Most ids announced again per [`REANNOUNCE_EVERY`].
pub const REANNOUNCE_MAX: usize = 16 * MAX_BLOB_IDS_PER_MESSAGE;
/// Announcements handled at once; past it, new ones are ignored (their publishers announce
/// again).
pub const MAX_CONCURRENT_PULLS: usize = 16;
/// Batches of newly pooled ids waiting to be announced.
const ANNOUNCE_QUEUE: usize = 256;

/// Hands ids newly pooled by `Submit` to the relay; a node without libp2p has none and
/// announces nothing.
#[derive(Clone, Debug, Default)]
pub struct Announcer(Option<mpsc::Sender<Vec<BlobId>>>);

impl Announcer {
    /// An announcer and the queue the relay reads.
    pub(crate) fn channel() -> (Self, mpsc::Receiver<Vec<BlobId>>) {
        let (tx, rx) = mpsc::channel(ANNOUNCE_QUEUE);
        (Self(Some(tx)), rx)
    }

    /// Queues `ids` for announcement; when the queue is full they wait for the next
    /// re-announcement instead.
    pub fn announce(&self, ids: Vec<BlobId>) {
        if let (Some(tx), false) = (&self.0, ids.is_empty()) {
            if tx.try_send(ids).is_err() {
                debug!("announcement queue full: the ids go out with the next re-announcement");
            }
        }
    }
}

/// The relay's state, shared by its tasks.
pub(crate) struct Relay {
    mempool: Arc<Mempool>,
    reader: Reader,
    client: NetworkClient,
    metrics: Arc<Metrics>,
    /// Largest blob this node pools (its `max_blob_bytes`).
    max_blob_bytes: usize,
    /// Fault injection: namespaces never announced nor served.
    censored: Vec<Namespace>,
    /// Ids being pulled now (a second announcement of them waits for nothing).
    inflight: Mutex<HashSet<BlobId>>,
    pulls: Arc<Semaphore>,
}

impl Relay {
    /// The relay over this node's pool, store and network.
    pub(crate) fn new(
        mempool: Arc<Mempool>,
        reader: Reader,
        client: NetworkClient,
        metrics: Arc<Metrics>,
        max_blob_bytes: usize,
        censored: Vec<Namespace>,
    ) -> Self {
        Self {
            mempool,
            reader,
            client,
            metrics,
            max_blob_bytes,
            censored,
            inflight: Mutex::new(HashSet::new()),
            pulls: Arc::new(Semaphore::new(MAX_CONCURRENT_PULLS)),
        }
    }

    fn inflight(&self) -> std::sync::MutexGuard<'_, HashSet<BlobId>> {
        self.inflight.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Announces `ids` (those still pending and not censored).
    pub(crate) async fn announce(&self, ids: Vec<BlobId>) {
        let ids: Vec<[u8; 32]> = self
            .mempool
            .get(&ids)
            .iter()
            .filter(|b| !self.censored.contains(b.namespace()))
            .map(|b| b.id().0)
            .collect();
        self.publish(ids).await;
    }

    /// Announces the oldest pending ids again. Those a stored block already included leave
    /// the pool instead: a pull that raced the block's import, or a block this node's
    /// subscription lagged behind, would otherwise keep them pooled for good.
    pub(crate) async fn reannounce(&self) {
        let oldest = self.mempool.oldest(REANNOUNCE_MAX);
        let ids: Vec<BlobId> = oldest.iter().map(|(id, _)| *id).collect();
        let included = self
            .reader
            .run(move |rd| {
                let mut out = Vec::new();
                for id in ids {
                    if rd.store().blob_height(&id)?.is_some() {
                        out.push(id);
                    }
                }
                Ok(out)
            })
            .await
            .unwrap_or_else(|e| {
                warn!("blob relay: store lookup failed: {e}");
                Vec::new()
            });
        if !included.is_empty() {
            debug!(blobs = included.len(), "included blobs left the pool");
            self.included(&included);
        }
        let ids = oldest
            .into_iter()
            .filter(|(id, ns)| !self.censored.contains(ns) && !included.contains(id))
            .map(|(id, _)| id.0)
            .collect();
        self.publish(ids).await;
    }

    async fn publish(&self, ids: Vec<[u8; 32]>) {
        if ids.is_empty() {
            return;
        }
        let (n, bytes) = (ids.len() as u64, ids.len() as u64 * 32);
        match self.client.announce_blobs(ids).await {
            Ok(()) => self.metrics.relayed("announced", n, bytes),
            Err(e) => debug!("blob ids not announced (announced again later): {e}"),
        }
    }

    /// Answers a `/blobs/1` request from the pool: the blobs it holds among those asked, in
    /// order, while they fit in the response bound.
    pub(crate) fn serve(&self, request: &pb::BlobsRequest) -> Response {
        let ids: Vec<BlobId> = request
            .ids
            .iter()
            .filter_map(|i| <[u8; 32]>::try_from(i.as_slice()).ok().map(BlobId))
            .collect();
        let mut out = Vec::new();
        let mut bytes = 0;
        for b in self.mempool.get(&ids) {
            if self.censored.contains(b.namespace()) {
                continue;
            }
            if bytes + b.data().len() > MAX_BLOBS_RESPONSE_PAYLOAD {
                break;
            }
            bytes += b.data().len();
            out.push(pb::PooledBlob {
                namespace: b.namespace().as_bytes().to_vec(),
                data: b.data().to_vec(),
            });
        }
        self.metrics
            .relayed("served", out.len() as u64, bytes as u64);
        Response::Blobs(pb::BlobsResponse { blobs: out })
    }

    /// Handles one announcement: pulls what is new from `from` and judges the message (spawned
    /// per announcement; at most [`MAX_CONCURRENT_PULLS`] at once).
    pub(crate) fn on_announcement(
        self: &Arc<Self>,
        from: PeerId,
        id: da_network::MessageId,
        ids: Vec<[u8; 32]>,
    ) {
        let Ok(permit) = self.pulls.clone().try_acquire_owned() else {
            let client = self.client.clone();
            tokio::spawn(async move {
                let _ = client.judge(id, from, Verdict::Ignore).await;
            });
            return;
        };
        let relay = self.clone();
        tokio::spawn(async move {
            let verdict = relay
                .pull(from, ids.into_iter().map(BlobId).collect())
                .await;
            drop(permit);
            let _ = relay.client.judge(id, from, verdict).await;
        });
    }

    /// Pulls the announced blobs this node lacks from `from` into the pool: `Accept` when at
    /// least one was new, `Ignore` when nothing was (or it could not be had), `Reject` when the
    /// peer answered with bytes that are not a blob it was asked for.
    async fn pull(&self, from: PeerId, ids: Vec<BlobId>) -> Verdict {
        // Not pooled and not already being pulled...
        let wanted: Vec<BlobId> = {
            let mut inflight = self.inflight();
            ids.into_iter()
                .filter(|id| !self.mempool.contains(id) && inflight.insert(*id))
                .collect()
        };
        if wanted.is_empty() {
            return Verdict::Ignore;
        }
        let verdict = self.pull_new(from, &wanted).await;
        let mut inflight = self.inflight();
        for id in &wanted {
            inflight.remove(id);
        }
        verdict
    }

    async fn pull_new(&self, from: PeerId, wanted: &[BlobId]) -> Verdict {
        // ...and not included in a stored block.
        let ids = wanted.to_vec();
        let missing = self
            .reader
            .run(move |rd| {
                let mut out = Vec::new();
                for id in ids {
                    if rd.store().blob_height(&id)?.is_none() {
                        out.push(id);
                    }
                }
                Ok(out)
            })
            .await;
        let mut missing = match missing {
            Ok(m) => m,
            Err(e) => {
                warn!("blob relay: store lookup failed: {e}");
                return Verdict::Ignore;
            }
        };
        let mut pooled = Vec::new();
        // The peer answers in order with as many as fit; ask again for the rest.
        while !missing.is_empty() {
            let request = pb::BlobsRequest {
                ids: missing.iter().map(|id| id.0.to_vec()).collect(),
            };
            let blobs = match self.client.request(from, Request::Blobs(request)).await {
                Ok(Response::Blobs(r)) => r.blobs,
                Ok(_) => return Verdict::Reject,
                Err(e) => {
                    debug!(peer = %from, "announced blobs not served: {e}");
                    break;
                }
            };
            if blobs.is_empty() {
                break;
            }
            for p in blobs {
                let Some(blob) = Namespace::new_blob(&p.namespace)
                    .ok()
                    .and_then(|ns| Blob::new(ns, p.data).ok())
                else {
                    warn!(peer = %from, "peer served bytes that are not a blob");
                    return Verdict::Reject;
                };
                let Some(at) = missing.iter().position(|id| *id == blob.id()) else {
                    warn!(peer = %from, "peer served a blob it was not asked for");
                    return Verdict::Reject;
                };
                missing.remove(at);
                // Another node's larger limit is not an offence: the blob just is not pooled
                // here.
                if blob.data().len() <= self.max_blob_bytes {
                    pooled.push(blob);
                }
            }
        }
        if pooled.is_empty() {
            return Verdict::Ignore;
        }
        let (mempool, n) = (self.mempool.clone(), pooled.len());
        let added = self
            .reader
            .run(move |rd| {
                let (mut added, mut bytes) = (0u64, 0u64);
                for blob in pooled {
                    // Persisted before it can be proposed, as a submission is.
                    let persist = blob.clone();
                    match mempool.insert(blob) {
                        Ok(Inserted::Added) => {
                            rd.store().mempool_put(&persist)?;
                            added += 1;
                            bytes += persist.data().len() as u64;
                        }
                        Ok(Inserted::AlreadyPending) => {}
                        Err(e) => {
                            debug!("pulled blob not pooled: {e}");
                            break;
                        }
                    }
                }
                Ok((added, bytes))
            })
            .await;
        match added {
            Ok((0, _)) => Verdict::Ignore,
            Ok((added, bytes)) => {
                debug!(peer = %from, added, of = n, "pulled announced blobs into the pool");
                self.metrics.relayed("pulled", added, bytes);
                self.metrics.mempool_blobs.set(self.mempool.len() as i64);
                self.metrics.mempool_bytes.set(self.mempool.bytes() as i64);
                Verdict::Accept
            }
            Err(e) => {
                warn!("blob relay: pooling failed: {e}");
                Verdict::Ignore
            }
        }
    }

    /// Drops blobs a stored block included from the pool.
    pub(crate) fn included(&self, ids: &[BlobId]) {
        self.mempool.remove(ids);
        self.metrics.mempool_blobs.set(self.mempool.len() as i64);
        self.metrics.mempool_bytes.set(self.mempool.bytes() as i64);
    }
}

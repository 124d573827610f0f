//! The node on the libp2p network (`specs/09-p2p.md`): the producer publishes every new
//! certified header on the gossip topic; every node verifies gossiped headers before they are
//! forwarded (a certificate of the genesis validator set, a valid commitment extension) and
//! penalises the peer that sent one that fails, answers sample, header-range, row and
//! namespace requests from its store, and keeps the set of peers that serve data. A full node
//! without a gRPC upstream also runs `crate::sync` on top (wired by the node: this module hands
//! it validated headers over a bounded channel and the [`ServingPeers`]). Reads run off the async
//! runtime; a request for data the node does not have gets an empty answer.
//!
//! It owns the network's event loop and its slice of the configuration ([`P2pConfig`]); it
//! reads through a [`Reader`] and checks headers and learns of new blocks through the [`Chain`].
//! Blob ids and pooled blobs go to the [`Relay`] it runs (`crate::relay`).

use std::sync::{Arc, Mutex, PoisonError};

use da_network::{NetworkClient, NetworkConfig, NetworkEvent, Offence, PeerId, Request, Response};
use da_proto::v1 as pb;
use da_types::{
    consts::{BYTES_PER_G1, CELLS_PER_ROW},
    BlobId, Namespace,
};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::{
    chain::Chain,
    config::{NodeConfig, Role},
    error::{NodeError, Result},
    mempool::Mempool,
    metrics::Metrics,
    reader::Reader,
    relay::{Relay, REANNOUNCE_EVERY},
};

/// What the p2p component needs of the node's configuration.
#[derive(Clone, Debug)]
pub(crate) struct P2pConfig {
    chain_id: String,
    listen: Vec<String>,
    bootstrap: Vec<String>,
    /// Only the producer publishes headers.
    publishes: bool,
    /// Largest blob pooled (pulled blobs too).
    max_blob_bytes: usize,
    faults: Faults,
}

impl P2pConfig {
    /// The p2p slice of `config`.
    pub(crate) fn from_node(config: &NodeConfig) -> Self {
        Self {
            chain_id: config.chain_id.clone(),
            listen: config.p2p_listen.clone(),
            bootstrap: config.p2p_bootstrap.clone(),
            publishes: config.role == Role::Producer,
            max_blob_bytes: config.max_blob_bytes,
            faults: Faults {
                withhold: config.fault_withhold,
                withhold_heights: config.fault_withhold_heights.clone(),
                corrupt_proofs: config.fault_corrupt_proofs,
            },
        }
    }
}

/// Injected faults (tests and demos only, `specs/09-p2p.md`).
#[derive(Clone, Debug)]
struct Faults {
    withhold: f64,
    withhold_heights: Vec<u64>,
    corrupt_proofs: bool,
}

impl Faults {
    /// The fraction withheld at `height`.
    fn withhold(&self, height: u64) -> f64 {
        if self.withhold_heights.is_empty() || self.withhold_heights.contains(&height) {
            self.withhold
        } else {
            0.0
        }
    }
}

/// The handles the p2p component runs on (no `Debug`: it holds the secret key).
pub(crate) struct P2pParts {
    /// Its configuration slice.
    pub(crate) config: P2pConfig,
    /// The node key's secret bytes (the libp2p identity).
    pub(crate) secret_key: [u8; 32],
    /// Stored blocks, for serving.
    pub(crate) reader: Reader,
    /// Header checks and new blocks.
    pub(crate) chain: Arc<Chain>,
    /// Updated as peers that serve come and go.
    pub(crate) peers: ServingPeers,
    /// Where validated gossiped headers go (a syncing full node).
    pub(crate) gossip: Option<mpsc::Sender<da_types::CertifiedHeader>>,
    /// The pool the relay feeds and serves.
    pub(crate) mempool: Arc<Mempool>,
    /// Ids newly pooled by `Submit`, to announce.
    pub(crate) announcements: mpsc::Receiver<Vec<BlobId>>,
    /// Fault injection: namespaces whose blobs are neither proposed nor relayed.
    pub(crate) censored: Vec<Namespace>,
    /// The node's metrics (the relay's counters).
    pub(crate) metrics: Arc<Metrics>,
}

/// Peers that serve data (identify says they speak the sample protocol), in arrival order.
#[derive(Clone, Debug, Default)]
pub(crate) struct ServingPeers(Arc<Mutex<Vec<PeerId>>>);

impl ServingPeers {
    /// A snapshot of the serving peers.
    pub(crate) fn list(&self) -> Vec<PeerId> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn add(&self, p: PeerId) {
        let mut v = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !v.contains(&p) {
            v.push(p);
        }
    }

    fn remove(&self, p: &PeerId) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|q| q != p);
    }
}

/// Starts the network with the node's key and spawns the serving and publishing task.
pub(crate) async fn start(
    parts: P2pParts,
    cancel: CancellationToken,
) -> Result<(NetworkClient, tokio::task::JoinHandle<()>)> {
    let c = &parts.config;
    let keypair = da_network::Keypair::ed25519_from_bytes(parts.secret_key)
        .map_err(|e| NodeError::Startup(format!("p2p key: {e}")))?;
    let parse = |what: &str, v: &[String]| {
        v.iter()
            .map(|a| {
                a.parse()
                    .map_err(|e| NodeError::Startup(format!("{what} address {a:?}: {e}")))
            })
            .collect::<Result<Vec<_>>>()
    };
    let config = NetworkConfig {
        chain_id: c.chain_id.clone(),
        keypair,
        listen: parse("p2p listen", &c.listen)?,
        bootstrap: parse("p2p bootstrap", &c.bootstrap)?,
        serve: true,
        request_timeout: std::time::Duration::from_secs(5),
        discover: true,
    };
    let (client, events) = da_network::start(config)
        .await
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    let task = tokio::spawn(run(parts, client.clone(), events, cancel));
    Ok((client, task))
}

async fn run(
    parts: P2pParts,
    client: NetworkClient,
    mut events: mpsc::Receiver<NetworkEvent>,
    cancel: CancellationToken,
) {
    let P2pParts {
        config,
        reader,
        chain,
        peers,
        gossip,
        mempool,
        mut announcements,
        censored,
        metrics,
        ..
    } = parts;
    let faults = Arc::new(config.faults);
    let relay = Arc::new(Relay::new(
        mempool,
        reader.clone(),
        client.clone(),
        metrics,
        config.max_blob_bytes,
        censored,
    ));
    let mut blocks = chain.subscribe();
    let mut reannounce = tokio::time::interval(REANNOUNCE_EVERY);
    reannounce.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            Some(ids) = announcements.recv() => relay.announce(ids).await,
            _ = reannounce.tick() => {
                // Off the loop: it reads the store for up to 1 024 ids.
                let relay = relay.clone();
                tokio::spawn(async move { relay.reannounce().await });
            }
            b = blocks.recv() => match b {
                Ok(ev) => {
                    let included: Vec<BlobId> = ev.blobs.iter().map(|(e, _)| e.blob_id).collect();
                    relay.included(&included);
                    // The producer publishes; other nodes relay through gossip itself.
                    if config.publishes {
                        if let Err(e) = client.publish_header(ev.header.to_bytes()).await {
                            debug!(height = ev.header.height(), "header not gossiped: {e}");
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => warn!("p2p publisher skipped {n} headers"),
                Err(broadcast::error::RecvError::Closed) => break,
            },
            ev = events.recv() => match ev {
                Some(NetworkEvent::Inbound(da_network::InboundRequest {
                    request: Request::Blobs(b),
                    respond,
                    ..
                })) => {
                    let _ = respond.send(relay.serve(&b));
                }
                Some(NetworkEvent::BlobIds { from, id, ids }) => relay.on_announcement(from, id, ids),
                Some(NetworkEvent::Inbound(r)) => {
                    let (reader, faults, client) = (reader.clone(), faults.clone(), client.clone());
                    tokio::spawn(async move {
                        let request = r.request;
                        let answer = tokio::task::spawn_blocking(move || {
                            let t = std::time::Instant::now();
                            let r = serve(&reader, &faults, request);
                            debug!(us = t.elapsed().as_micros() as u64, "p2p request served");
                            r
                        })
                        .await;
                        match answer {
                            Ok(Ok(resp)) => {
                                let _ = r.respond.send(resp);
                            }
                            // A request no honest peer sends (a reserved or malformed
                            // namespace) is unanswered and costs the peer a malformed offence.
                            Ok(Err(e @ NodeError::InvalidArgument(_))) => {
                                debug!(peer = %r.peer, "malformed p2p request: {e}");
                                let _ = client.report(r.peer, Offence::Malformed).await;
                            }
                            Ok(Err(e)) => warn!(peer = %r.peer, "p2p request failed: {e}"),
                            Err(e) => warn!("p2p serving task failed: {e}"),
                        }
                    });
                }
                Some(NetworkEvent::Header { from, id, data }) => {
                    let (chain, client, gossip) = (chain.clone(), client.clone(), gossip.clone());
                    tokio::spawn(async move {
                        let checked = tokio::task::spawn_blocking(move || {
                            let h = da_types::CertifiedHeader::from_bytes(&data).map_err(|e| {
                                chain.metrics().header_rejected(e.reason());
                                (Offence::Malformed, NodeError::InvalidArgument(e.to_string()))
                            })?;
                            chain
                                .check_gossiped(&h)
                                .map(|()| h)
                                .map_err(|e| (Offence::InvalidData, e))
                        })
                        .await;
                        match checked {
                            Ok(Ok(h)) => {
                                let _ = client.validate(id, from, true).await;
                                if let Some(tx) = gossip {
                                    let _ = tx.try_send(h);
                                }
                            }
                            Ok(Err((offence, e))) => {
                                // Rejecting costs the forwarder an invalid-data offence; bytes
                                // that are not a certified header at all cost a malformed one too.
                                warn!(peer = %from, "rejected gossiped header: {e}");
                                let _ = client.validate(id, from, false).await;
                                if offence == Offence::Malformed {
                                    let _ = client.report(from, offence).await;
                                }
                            }
                            Err(e) => warn!("header check task failed: {e}"),
                        }
                    });
                }
                Some(NetworkEvent::PeerServes(p)) => peers.add(p),
                Some(NetworkEvent::PeerDisconnected(p)) => peers.remove(&p),
                Some(_) => {}
                None => break,
            },
        }
    }
    client.shutdown();
}

/// Whether fault injection withholds cell `(row, col)` of a square of `k` original rows: the
/// top-left rectangle of `⌈√f·2k⌉` rows by `⌈√f·128⌉` columns, a fraction `f` of the extended
/// square. It is unrecoverable exactly when `f > 1/4` (more than `k` rows and 64 columns: the
/// minimal withholding pattern of `specs/04-sampling.md`); below, peers can repair it.
pub(crate) fn withheld(fraction: f64, k: usize, row: usize, col: usize) -> bool {
    if fraction <= 0.0 {
        return false;
    }
    let side = fraction.min(1.0).sqrt();
    let rows = (side * (2 * k) as f64).ceil() as usize;
    let cols = (side * CELLS_PER_ROW as f64).ceil() as usize;
    row < rows && col < cols
}

/// Answers one request from the store (blocking), applying configured faults.
fn serve(reader: &Reader, faults: &Faults, request: Request) -> Result<Response> {
    let store = reader.store();
    let corrupt = faults.corrupt_proofs;
    let withhold = |height: u64| faults.withhold(height);
    let cell = |height: u64, k: usize, row: usize, col: usize| -> Result<Option<pb::Sample>> {
        if row >= 2 * k || col >= CELLS_PER_ROW || withheld(withhold(height), k, row, col) {
            return Ok(None);
        }
        let Some(bytes) = store.cell(height, k, row, col)? else {
            return Ok(None);
        };
        let mut proof = store.proof(height, row, col)?.to_vec();
        if corrupt {
            // One flipped bit: a different point or no point at all, never the right proof.
            proof[BYTES_PER_G1 - 1] ^= 1;
        }
        Ok(Some(pb::Sample {
            row: row as u32,
            col: col as u32,
            cell: bytes,
            proof,
        }))
    };
    Ok(match request {
        Request::Samples(r) => {
            let mut samples = Vec::new();
            let index = store.block_index(r.height)?;
            if let Some((k, _)) = index {
                for c in &r.cells {
                    if let Some(s) = cell(r.height, k, c.row as usize, c.col as usize)? {
                        samples.push(s);
                    }
                }
            }
            Response::Samples(pb::SampleResponse {
                samples,
                has_height: index.is_some(),
            })
        }
        Request::Headers(r) => {
            let mut headers = Vec::new();
            // `from = 0` asks for the newest `count` headers.
            let from = match (r.from, store.head()?) {
                (0, Some(head)) => head
                    .saturating_sub(u64::from(r.count).saturating_sub(1))
                    .max(1),
                (0, None) => 1,
                (f, _) => f,
            };
            for h in from..from.saturating_add(u64::from(r.count)) {
                match store.header_bytes(h)? {
                    Some(x) => headers.push(x),
                    None => break,
                }
            }
            Response::Headers(pb::HeaderRangeResponse { headers })
        }
        Request::Row(r) => {
            let mut cells = Vec::new();
            if let Some((k, _)) = store.block_index(r.height)? {
                for col in 0..CELLS_PER_ROW {
                    if let Some(s) = cell(r.height, k, r.row as usize, col)? {
                        cells.push(s);
                    }
                }
            }
            Response::Row(pb::RowResponse { cells })
        }
        // Answered from the pool by the relay, never from the store.
        Request::Blobs(_) => Response::Blobs(pb::BlobsResponse::default()),
        Request::Namespace(r) => {
            let ns = da_types::convert::namespace(&r.namespace)
                .map_err(|e| NodeError::InvalidArgument(e.to_string()))?;
            let proof = reader.namespace_proof(r.height, &ns)?;
            Response::Namespace(pb::NamespaceResponse {
                has_height: proof.is_some(),
                proof: proof.map(|(_, _, p)| pb::NamespaceProof::from(&p)),
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withholding_is_unrecoverable_exactly_above_a_quarter() {
        for k in [1usize, 2, 8, 64] {
            let rect = |f: f64| {
                let rows = (0..2 * k).filter(|&r| withheld(f, k, r, 0)).count();
                let cols = (0..CELLS_PER_ROW).filter(|&c| withheld(f, k, 0, c)).count();
                (rows, cols)
            };
            assert_eq!(rect(0.0), (0, 0));
            let (r, c) = rect(0.25);
            assert!(
                r <= k && c <= 64,
                "k={k}: 25% must stay recoverable ({r}x{c})"
            );
            for f in [0.2501, 0.3, 0.5, 1.0] {
                let (r, c) = rect(f);
                assert!(
                    r > k && c > 64,
                    "k={k} f={f}: must be unrecoverable ({r}x{c})"
                );
            }
        }
    }
}

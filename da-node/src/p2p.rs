//! The node on the libp2p network (`specs/09-p2p.md`): the producer publishes every new signed
//! header on the gossip topic; every node verifies gossiped headers before they are forwarded
//! (trusted signature, valid commitment extension), answers sample, header-range, row and
//! namespace requests from its store, and keeps the set of peers that serve data. A full node
//! without a gRPC upstream also runs [`crate::sync`] on top. Reads run off the async runtime; a
//! request for data the node does not have gets an empty answer.

use std::sync::{Arc, Mutex, PoisonError};

use da_network::{NetworkClient, NetworkConfig, NetworkEvent, PeerId, Request, Response};
use da_proto::v1 as pb;
use da_types::consts::{BYTES_PER_G1, CELLS_PER_ROW};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::{
    config::Role,
    error::{NodeError, Result},
    node::NodeInner,
};

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
    inner: Arc<NodeInner>,
    cancel: CancellationToken,
) -> Result<(NetworkClient, tokio::task::JoinHandle<()>)> {
    let c = &inner.config;
    let keypair = da_network::Keypair::ed25519_from_bytes(inner.secret_key_bytes())
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
        listen: parse("p2p listen", &c.p2p_listen)?,
        bootstrap: parse("p2p bootstrap", &c.p2p_bootstrap)?,
        serve: true,
        request_timeout: std::time::Duration::from_secs(5),
        discover: true,
    };
    let (client, events) = da_network::start(config)
        .await
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    let peers = ServingPeers::default();
    let syncing = inner.config.role == Role::Full && inner.config.follow.is_none();
    let (gossip_tx, gossip_rx) = mpsc::channel(64);
    if syncing {
        tokio::spawn(crate::sync::run(
            inner.chain.clone(),
            inner.metrics.clone(),
            client.clone(),
            peers.clone(),
            gossip_rx,
            cancel.clone(),
        ));
    }
    let gossip = syncing.then_some(gossip_tx);
    let task = tokio::spawn(run(
        inner.clone(),
        client.clone(),
        events,
        peers,
        gossip,
        cancel,
    ));
    Ok((client, task))
}

async fn run(
    inner: Arc<NodeInner>,
    client: NetworkClient,
    mut events: mpsc::Receiver<NetworkEvent>,
    peers: ServingPeers,
    gossip: Option<mpsc::Sender<da_types::SignedHeader>>,
    cancel: CancellationToken,
) {
    let mut blocks = inner.chain.subscribe();
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            b = blocks.recv() => match b {
                // The producer publishes; other nodes relay through gossip itself.
                Ok(ev) if inner.config.role == crate::config::Role::Producer => {
                    if let Err(e) = client.publish_header(ev.header.to_bytes()).await {
                        debug!(height = ev.header.header.height, "header not gossiped: {e}");
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => warn!("p2p publisher skipped {n} headers"),
                Err(broadcast::error::RecvError::Closed) => break,
            },
            ev = events.recv() => match ev {
                Some(NetworkEvent::Inbound(r)) => {
                    let inner = inner.clone();
                    tokio::spawn(async move {
                        let request = r.request;
                        let answer = tokio::task::spawn_blocking(move || {
                            let t = std::time::Instant::now();
                            let r = serve(&inner, request);
                            debug!(us = t.elapsed().as_micros() as u64, "p2p request served");
                            r
                        })
                        .await;
                        match answer {
                            Ok(Ok(resp)) => {
                                let _ = r.respond.send(resp);
                            }
                            Ok(Err(e)) => warn!(peer = %r.peer, "p2p request failed: {e}"),
                            Err(e) => warn!("p2p serving task failed: {e}"),
                        }
                    });
                }
                Some(NetworkEvent::Header { from, id, data }) => {
                    let (inner, client, gossip) = (inner.clone(), client.clone(), gossip.clone());
                    tokio::spawn(async move {
                        let checked = tokio::task::spawn_blocking(move || {
                            let h = da_types::SignedHeader::from_bytes(&data)
                                .map_err(|e| NodeError::InvalidArgument(e.to_string()))?;
                            inner.chain.check_gossiped(&h).map(|()| h)
                        })
                        .await;
                        match checked {
                            Ok(Ok(h)) => {
                                let _ = client.validate(id, from, true).await;
                                if let Some(tx) = gossip {
                                    let _ = tx.try_send(h);
                                }
                            }
                            Ok(Err(e)) => {
                                warn!(peer = %from, "rejected gossiped header: {e}");
                                let _ = client.validate(id, from, false).await;
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
fn serve(inner: &NodeInner, request: Request) -> Result<Response> {
    let store = &inner.store;
    let c = &inner.config;
    let corrupt = c.fault_corrupt_proofs;
    let withhold = |height: u64| {
        if c.fault_withhold_heights.is_empty() || c.fault_withhold_heights.contains(&height) {
            c.fault_withhold
        } else {
            0.0
        }
    };
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
                match store.header(h)? {
                    Some(x) => headers.push(pb::Header::from(&x)),
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
        Request::Namespace(r) => {
            let ns = da_types::convert::namespace(&r.namespace)
                .map_err(|e| NodeError::InvalidArgument(e.to_string()))?;
            let proof = inner.namespace_proof(r.height, &ns)?;
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

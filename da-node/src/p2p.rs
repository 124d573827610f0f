//! The node on the libp2p network (`specs/09-p2p.md`): publishes every new signed header on the
//! gossip topic and answers sample, header-range and row requests from its store. Reads run off
//! the async runtime; a request for data the node does not have gets an empty answer.

use std::sync::Arc;

use da_network::{NetworkClient, NetworkConfig, NetworkEvent, Request, Response};
use da_proto::v1 as pb;
use da_types::consts::{BYTES_PER_G1, CELLS_PER_ROW};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::{
    error::{NodeError, Result},
    node::NodeInner,
};

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
    };
    let (client, events) = da_network::start(config)
        .await
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    let task = tokio::spawn(run(inner.clone(), client.clone(), events, cancel));
    Ok((client, task))
}

async fn run(
    inner: Arc<NodeInner>,
    client: NetworkClient,
    mut events: mpsc::Receiver<NetworkEvent>,
    cancel: CancellationToken,
) {
    let mut blocks = inner.blocks.subscribe();
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
                        let answer = tokio::task::spawn_blocking(move || serve(&inner, request)).await;
                        match answer {
                            Ok(Ok(resp)) => {
                                let _ = r.respond.send(resp);
                            }
                            Ok(Err(e)) => warn!(peer = %r.peer, "p2p request failed: {e}"),
                            Err(e) => warn!("p2p serving task failed: {e}"),
                        }
                    });
                }
                Some(_) => {}
                None => break,
            },
        }
    }
    client.shutdown();
}

/// Whether fault injection withholds cell `(row, col)` of `height`: a fixed pseudo-random
/// `fraction` of the square, the same on every request.
fn withheld(fraction: f64, height: u64, row: usize, col: usize) -> bool {
    if fraction <= 0.0 {
        return false;
    }
    let mut h = blake3::Hasher::new();
    h.update(b"da/fault/withhold");
    h.update(&height.to_be_bytes());
    h.update(&(row as u64).to_be_bytes());
    h.update(&(col as u64).to_be_bytes());
    let mut x = [0u8; 8];
    x.copy_from_slice(&h.finalize().as_bytes()[..8]);
    (u64::from_be_bytes(x) as f64) < fraction * u64::MAX as f64
}

/// Answers one request from the store (blocking), applying configured faults.
fn serve(inner: &NodeInner, request: Request) -> Result<Response> {
    let store = &inner.store;
    let (withhold, corrupt) = (
        inner.config.fault_withhold,
        inner.config.fault_corrupt_proofs,
    );
    let cell = |height: u64, k: usize, row: usize, col: usize| -> Result<Option<pb::Sample>> {
        if row >= 2 * k || col >= CELLS_PER_ROW || withheld(withhold, height, row, col) {
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
            for h in r.from..r.from.saturating_add(u64::from(r.count)) {
                match store.header(h)? {
                    Some(x) => headers.push(crate::convert::header_to_pb(&x)),
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
    })
}

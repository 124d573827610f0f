//! The light client: joins the libp2p network, verifies gossiped headers (producer signature,
//! chain, commitment extension), and drives the [`Sampler`] over the network, verifying every
//! batch of returned cells against the header's commitments before the sampler sees it.
//!
//! # Flow
//! - A gossiped header that does not decode, is not signed by a trusted producer, or whose
//!   commitments are not a valid extension is dropped and its forwarding peer reported.
//! - Peers enter the sampler when identify says they serve samples, and leave on disconnect.
//! - Each sampler request becomes a network request; the answer's cells are checked in one KZG
//!   batch off the runtime: all good → verified, any bad → the whole answer is invalid and the
//!   peer penalised; cells left out count as missing.
//! - Status changes are kept per height and broadcast to subscribers.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex, PoisonError},
    time::Instant,
};

use da_kzg::{Commitment, KzgContext};
use da_network::{
    Multiaddr, NetworkClient, NetworkConfig, NetworkEvent, Offence, PeerId, Request, Response,
};
use da_proto::{convert, v1 as pb};
use da_types::{CellIndex, HeaderVerifier, ProducerSet, SignedHeader};
use rand::{rngs::StdRng, SeedableRng};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::sampler::{Action, Event, HeightStatus, Sampler, SamplerConfig, SamplerError};

/// Why the light client could not start.
#[derive(Debug, thiserror::Error)]
pub enum LightError {
    /// The sampler settings are unusable.
    #[error(transparent)]
    Sampler(#[from] SamplerError),
    /// The network could not start.
    #[error(transparent)]
    Network(#[from] da_network::NetworkError),
    /// No producer key is trusted.
    #[error("no trusted producer key: give at least one")]
    NoProducer,
}

/// Settings of a [`LightClient`].
#[derive(Clone, Debug)]
pub struct LightConfig {
    /// Chain id.
    pub chain_id: String,
    /// Trusted producer keys (ed25519).
    pub producers: Vec<[u8; 32]>,
    /// Peers to dial at start (`…/p2p/<peer id>`).
    pub bootstrap: Vec<Multiaddr>,
    /// Listen addresses (may be empty: a light client needs none to sample).
    pub listen: Vec<Multiaddr>,
    /// Sampling settings.
    pub sampler: SamplerConfig,
    /// RNG seed for reproducible runs (`None` = from the OS).
    pub seed: Option<u64>,
}

#[derive(Debug, Default)]
struct State {
    statuses: BTreeMap<u64, HeightStatus>,
    head: Option<u64>,
}

/// A running light client.
#[derive(Debug, Clone)]
pub struct LightClient {
    network: NetworkClient,
    state: Arc<Mutex<State>>,
    updates: broadcast::Sender<(u64, HeightStatus)>,
    cancel: CancellationToken,
}

impl LightClient {
    /// Starts the network and the sampling loop.
    pub async fn start(config: LightConfig, kzg: Arc<KzgContext>) -> Result<Self, LightError> {
        if config.producers.is_empty() {
            return Err(LightError::NoProducer);
        }
        let sampler = Sampler::new(config.sampler.clone())?;
        let mut net = NetworkConfig::local(config.chain_id.clone(), false);
        net.listen = config.listen.clone();
        net.bootstrap = config.bootstrap.clone();
        let (network, events) = da_network::start(net).await?;
        let (updates, _) = broadcast::channel(1024);
        let cancel = CancellationToken::new();
        let state = Arc::new(Mutex::new(State::default()));
        let rng = match config.seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_entropy(),
        };
        let driver = Driver {
            verifier: ProducerSet::new(config.chain_id.clone(), config.producers.clone()),
            kzg,
            network: network.clone(),
            sampler,
            rng,
            headers: BTreeMap::new(),
            state: state.clone(),
            updates: updates.clone(),
            window: config.sampler.window,
        };
        tokio::spawn(driver.run(events, cancel.clone()));
        Ok(Self {
            network,
            state,
            updates,
            cancel,
        })
    }

    /// The status of `height`.
    pub fn status(&self, height: u64) -> Option<HeightStatus> {
        self.lock().statuses.get(&height).cloned()
    }

    /// The newest verified header's height.
    pub fn head(&self) -> Option<u64> {
        self.lock().head
    }

    /// Every known height's status, oldest first.
    pub fn statuses(&self) -> Vec<(u64, HeightStatus)> {
        self.lock()
            .statuses
            .iter()
            .map(|(h, s)| (*h, s.clone()))
            .collect()
    }

    /// Status changes as they happen.
    pub fn subscribe(&self) -> broadcast::Receiver<(u64, HeightStatus)> {
        self.updates.subscribe()
    }

    /// The network handle (peers, scores, dialing).
    pub fn network(&self) -> &NetworkClient {
        &self.network
    }

    /// Stops sampling and the network.
    pub fn shutdown(&self) {
        self.cancel.cancel();
        self.network.shutdown();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct Driver {
    verifier: ProducerSet,
    kzg: Arc<KzgContext>,
    network: NetworkClient,
    sampler: Sampler<PeerId>,
    rng: StdRng,
    headers: BTreeMap<u64, Arc<Vec<Commitment>>>,
    state: Arc<Mutex<State>>,
    updates: broadcast::Sender<(u64, HeightStatus)>,
    window: u64,
}

impl Driver {
    async fn run(mut self, mut events: mpsc::Receiver<NetworkEvent>, cancel: CancellationToken) {
        let (results_tx, mut results) = mpsc::channel::<Event<PeerId>>(1024);
        loop {
            let deadline = self.sampler.next_deadline();
            let event = tokio::select! {
                () = cancel.cancelled() => break,
                ev = events.recv() => match ev {
                    Some(ev) => match self.network_event(ev).await {
                        Some(e) => e,
                        None => continue,
                    },
                    None => break,
                },
                Some(e) = results.recv() => e,
                () = sleep_until(deadline), if deadline.is_some() => Event::Tick,
            };
            let actions = self.sampler.handle(Instant::now(), &mut self.rng, event);
            for a in actions {
                self.act(a, &results_tx).await;
            }
        }
        self.network.shutdown();
    }

    /// Turns a network event into a sampler event (verifying headers on the way).
    async fn network_event(&mut self, ev: NetworkEvent) -> Option<Event<PeerId>> {
        match ev {
            NetworkEvent::PeerServes(p) => Some(Event::PeerUp(p)),
            NetworkEvent::PeerDisconnected(p) => Some(Event::PeerDown(p)),
            NetworkEvent::Header { from, id, data } => {
                let header = match self.verify_header(&data).await {
                    Ok(h) => {
                        let _ = self.network.validate(id, from, true).await;
                        h
                    }
                    Err((offence, why)) => {
                        warn!(peer = %from, "rejected gossiped header: {why}");
                        let _ = self.network.validate(id, from, false).await;
                        if offence != Offence::InvalidData {
                            let _ = self.network.report(from, offence).await;
                        }
                        return None;
                    }
                };
                let height = header.header.height;
                if self.headers.contains_key(&height) {
                    return None;
                }
                let commitments = Commitment::of_header(&header.header);
                self.headers.insert(height, Arc::new(commitments));
                let floor = height.saturating_sub(self.window);
                self.headers = self.headers.split_off(&floor);
                {
                    let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                    st.head = Some(st.head.map_or(height, |h| h.max(height)));
                }
                debug!(height, k = header.header.k, "header verified");
                Some(Event::Header {
                    height,
                    k: usize::from(header.header.k),
                })
            }
            NetworkEvent::PeerConnected(_) | NetworkEvent::Inbound(_) => None,
        }
    }

    async fn verify_header(&self, data: &[u8]) -> Result<SignedHeader, (Offence, String)> {
        let header =
            SignedHeader::from_bytes(data).map_err(|e| (Offence::Malformed, e.to_string()))?;
        self.verifier
            .verify(&header)
            .map_err(|e| (Offence::InvalidData, e.to_string()))?;
        let commitments = Commitment::of_header(&header.header);
        let kzg = self.kzg.clone();
        let ok = tokio::task::spawn_blocking(move || kzg.verify_extension(&commitments))
            .await
            .map_err(|e| (Offence::InvalidData, e.to_string()))?
            .map_err(|e| (Offence::InvalidData, e.to_string()))?;
        if !ok {
            return Err((
                Offence::InvalidData,
                "commitments are not a valid extension".into(),
            ));
        }
        Ok(header)
    }

    async fn act(&mut self, a: Action<PeerId>, results: &mpsc::Sender<Event<PeerId>>) {
        match a {
            Action::Request {
                id,
                peer,
                height,
                cells,
                ..
            } => {
                let Some(commitments) = self.headers.get(&height).cloned() else {
                    let _ = results.send(Event::Failed(id)).await;
                    return;
                };
                let (network, kzg, results) =
                    (self.network.clone(), self.kzg.clone(), results.clone());
                tokio::spawn(async move {
                    let req = pb::SampleRequest {
                        height,
                        cells: cells
                            .iter()
                            .map(|c| pb::P2pCell {
                                row: c.row,
                                col: c.col,
                            })
                            .collect(),
                    };
                    let ev = match network.request(peer, Request::Samples(req)).await {
                        // The peer has not imported the block yet: ask again later.
                        Ok(Response::Samples(r)) if !r.has_height => Event::Failed(id),
                        Ok(Response::Samples(r)) => {
                            check_samples(id, &cells, r.samples, commitments, kzg).await
                        }
                        Ok(_) => Event::Response {
                            id,
                            verified: Vec::new(),
                            missing: cells,
                            invalid: true,
                        },
                        Err(e) => {
                            debug!(%peer, "sample request failed: {e}");
                            Event::Failed(id)
                        }
                    };
                    let _ = results.send(ev).await;
                });
            }
            Action::Penalize { peer, height } => {
                warn!(%peer, height, "peer served invalid samples");
                let _ = self.network.report(peer, Offence::InvalidData).await;
            }
            Action::Status { height, status } => {
                match &status {
                    HeightStatus::Available {
                        confidence,
                        samples,
                        latency,
                        ..
                    } => info!(height, confidence, samples, ?latency, "available"),
                    HeightStatus::Unavailable { cell, latency, .. } => {
                        warn!(height, ?cell, ?latency, "UNAVAILABLE")
                    }
                    _ => {}
                }
                let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                st.statuses.insert(height, status.clone());
                let floor = height.saturating_sub(self.window);
                st.statuses = st.statuses.split_off(&floor);
                drop(st);
                let _ = self.updates.send((height, status));
            }
        }
    }
}

/// Checks a sample answer: only requested cells count; one batch verification decides.
async fn check_samples(
    id: crate::sampler::RequestId,
    asked: &[CellIndex],
    samples: Vec<pb::Sample>,
    commitments: Arc<Vec<Commitment>>,
    kzg: Arc<KzgContext>,
) -> Event<PeerId> {
    let wanted: HashSet<CellIndex> = asked.iter().copied().collect();
    let mut seen = HashSet::new();
    let mut cells = Vec::new();
    let mut malformed = false;
    for s in &samples {
        match convert::sample_from_pb(s) {
            Ok(p) if wanted.contains(&p.index) && seen.insert(p.index) => {
                cells.push((p.index, p.cell, p.proof));
            }
            Ok(_) => {} // unrequested or duplicate cells are ignored
            Err(_) => malformed = true,
        }
    }
    let invalid = |missing: Vec<CellIndex>| Event::Response {
        id,
        verified: Vec::new(),
        missing,
        invalid: true,
    };
    if malformed {
        return invalid(asked.to_vec());
    }
    let verified: Vec<CellIndex> = cells.iter().map(|(i, _, _)| *i).collect();
    if !cells.is_empty() {
        let ok = tokio::task::spawn_blocking(move || kzg.verify_cells(&commitments, cells).is_ok())
            .await
            .unwrap_or(false);
        if !ok {
            return invalid(asked.to_vec());
        }
    }
    let missing = asked
        .iter()
        .copied()
        .filter(|c| !verified.contains(c))
        .collect();
    Event::Response {
        id,
        verified,
        missing,
        invalid: false,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

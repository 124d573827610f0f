//! The light client: joins the libp2p network, verifies gossiped headers (the certificate of the
//! genesis validator set, which binds the chain, and the commitment extension), and drives the
//! [`Sampler`] over the network, verifying every batch of returned cells against the header's
//! commitments before the sampler sees it.
//!
//! # Flow
//! - A header (gossiped or in a range) that does not decode, whose certificate does not verify
//!   against the genesis validator set and chain (one aggregate signature check: under 2/3 of
//!   the power, a forged bitmap, a signature over another header, another set, another chain),
//!   or whose commitments are not a valid extension is dropped, its sender reported and the rule
//!   it broke counted (`da_light_headers_rejected_total{reason}`).
//! - Peers enter the sampler when identify says they serve samples, and leave on disconnect.
//! - Each sampler request becomes a network request; the answer's cells are checked in one KZG
//!   batch off the runtime: all good → verified, any bad → the whole answer is invalid and the
//!   peer penalised; cells left out count as missing.
//! - Status changes are kept per height and broadcast to subscribers.
//! - Catch-up: once a serving peer is known, the newest header is asked for and the heights of
//!   the sampling window below it fetched in ranges (newest first) and verified like gossip; the
//!   sampler samples them behind the live head. Gaps in gossip are fetched the same way. A
//!   range (or the head) no peer answered is asked again, of the peers serving then, after a
//!   pause that doubles from 1 s to 4 s, until it arrives or the client stops.
//! - Namespace reads: [`LightClient::namespace_blobs`] fetches a namespace's completeness proof
//!   from a serving peer and verifies it against the header.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use da_kzg::{Commitment, KzgVerifier, NamespaceProof, ProvenBlob, ProvenCell};
use da_network::{
    protocol::MAX_HEADERS_PER_RANGE, Multiaddr, NetworkClient, NetworkConfig, NetworkEvent,
    Offence, PeerId, Request, Response,
};
use da_proto::v1 as pb;
use da_types::{CellIndex, CertifiedHeader, Namespace, Trust};
use rand::{rngs::StdRng, SeedableRng};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::{
    metrics::LightMetrics,
    sampler::{Action, CellVerdict, Event, HeightStatus, Sampler, SamplerConfig, SamplerError},
};

/// Why the light client could not start.
#[derive(Debug, thiserror::Error)]
pub enum LightError {
    /// The sampler settings are unusable.
    #[error(transparent)]
    Sampler(#[from] SamplerError),
    /// The network could not start.
    #[error(transparent)]
    Network(#[from] da_network::NetworkError),
}

/// Settings of a [`LightClient`].
#[derive(Clone, Debug)]
pub struct LightConfig {
    /// The genesis validator set and chain: headers are accepted only with a certificate of
    /// this set (the chain id is the genesis file's).
    pub trust: Trust,
    /// Peers to dial at start (`…/p2p/<peer id>`).
    pub bootstrap: Vec<Multiaddr>,
    /// Listen addresses (may be empty: a light client needs none to sample).
    pub listen: Vec<Multiaddr>,
    /// Sampling settings.
    pub sampler: SamplerConfig,
    /// RNG seed for reproducible runs (`None` = from the OS).
    pub seed: Option<u64>,
}

/// Traffic and verification work spent on one height.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HeightStats {
    /// Bytes of cells and proofs received.
    pub bytes: u64,
    /// Time spent verifying its cells' proofs (CPU of one core).
    pub verify: Duration,
    /// Sample requests sent.
    pub requests: u32,
}

/// What a height's verified header says: its square and who certified it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderInfo {
    /// Original rows of the square (the extended square is `2k × 128` cells).
    pub k: u16,
    /// Blobs in the block.
    pub blob_count: u32,
    /// The certificate's round.
    pub round: u32,
    /// Validators that signed the certificate.
    pub signers: usize,
    /// Validators in the set.
    pub validators: usize,
    /// Voting power of the signers.
    pub signed_power: u64,
    /// Voting power of the set.
    pub total_power: u64,
}

/// The cells drawn for a height and what sampling learned of each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeightCells {
    /// Original rows of the square.
    pub k: usize,
    /// Every drawn cell, in cell order.
    pub cells: Vec<(CellIndex, CellVerdict)>,
}

/// Progress of the catch-up of older heights inside the sampling window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Newest verified header.
    pub head: Option<u64>,
    /// First height of the catch-up range (0 = no catch-up yet).
    pub from: u64,
    /// Last height of the catch-up range.
    pub to: u64,
    /// Heights of the range with a final verdict.
    pub done: u64,
    /// Heights in the range.
    pub total: u64,
}

/// Why a namespace could not be fetched and verified.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The namespace cannot hold blobs (reserved, or not version 0 with the zero prefix):
    /// refused before any peer is asked, as peers refuse such a request.
    #[error("namespace {namespace}: {why}")]
    Namespace {
        /// The namespace asked for.
        namespace: Namespace,
        /// The rule it breaks.
        why: da_types::Error,
    },
    /// No serving peer is connected.
    #[error("no peer that serves data is connected")]
    NoPeers,
    /// No peer has the height, or none could prove its header.
    #[error("no peer has height {0}")]
    NotFound(u64),
    /// Peers answered, but no answer verified.
    #[error("no peer gave a namespace proof for height {height} that verifies: {why}")]
    Unverified {
        /// Height.
        height: u64,
        /// The last failure.
        why: String,
    },
}

#[derive(Debug, Default)]
struct State {
    statuses: BTreeMap<u64, HeightStatus>,
    headers: BTreeMap<u64, Arc<Vec<Commitment>>>,
    stats: BTreeMap<u64, HeightStats>,
    info: BTreeMap<u64, HeaderInfo>,
    cells: BTreeMap<u64, HeightCells>,
    head: Option<u64>,
    serving: Vec<PeerId>,
    catchup: Option<(u64, u64)>,
}

impl State {
    /// Keeps only heights inside the window below `newest`.
    fn trim(&mut self, window: u64) {
        let Some(newest) = self.head else { return };
        let floor = newest.saturating_sub(window);
        self.statuses = self.statuses.split_off(&floor);
        self.headers = self.headers.split_off(&floor);
        self.stats = self.stats.split_off(&floor);
        self.info = self.info.split_off(&floor);
        self.cells = self.cells.split_off(&floor);
    }
}

/// A running light client.
#[derive(Debug, Clone)]
pub struct LightClient {
    network: NetworkClient,
    state: Arc<Mutex<State>>,
    updates: broadcast::Sender<(u64, HeightStatus)>,
    cancel: CancellationToken,
    kzg: Arc<KzgVerifier>,
    trust: Trust,
    metrics: Arc<LightMetrics>,
    window: u64,
}

impl LightClient {
    /// Starts the network and the sampling loop; older heights inside the window are caught up
    /// from the first serving peer's header ranges.
    pub async fn start(config: LightConfig, kzg: Arc<KzgVerifier>) -> Result<Self, LightError> {
        let sampler = Sampler::new(config.sampler.clone())?;
        let mut net = NetworkConfig::local(config.trust.chain_id(), false);
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
        let metrics = Arc::new(LightMetrics::with_network(network.clone()));
        let client = Self {
            network,
            state,
            updates,
            cancel: cancel.clone(),
            kzg: kzg.clone(),
            trust: config.trust.clone(),
            metrics,
            window: config.sampler.window,
        };
        let driver = Driver {
            client: client.clone(),
            sampler,
            rng,
            catchup_started: false,
        };
        tokio::spawn(driver.run(events, cancel));
        Ok(client)
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

    /// Bytes received and verification time spent on `height`.
    pub fn stats(&self, height: u64) -> Option<HeightStats> {
        self.lock().stats.get(&height).copied()
    }

    /// What `height`'s verified header says (its square, its certificate's signers).
    pub fn header_info(&self, height: u64) -> Option<HeaderInfo> {
        self.lock().info.get(&height).copied()
    }

    /// The cells sampled at `height` and their verdicts, once sampling has started.
    pub fn cells(&self, height: u64) -> Option<HeightCells> {
        self.lock().cells.get(&height).cloned()
    }

    /// The genesis trust headers are checked against.
    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    /// Catch-up progress.
    pub fn progress(&self) -> Progress {
        let st = self.lock();
        let Some((from, to)) = st.catchup else {
            return Progress {
                head: st.head,
                ..Progress::default()
            };
        };
        let done = st
            .statuses
            .range(from..=to)
            .filter(|(_, s)| s.is_final())
            .count() as u64;
        Progress {
            head: st.head,
            from,
            to,
            done,
            total: to + 1 - from,
        }
    }

    /// Connected peers that serve data.
    pub fn serving_peers(&self) -> Vec<PeerId> {
        self.lock().serving.clone()
    }

    /// Status changes as they happen.
    pub fn subscribe(&self) -> broadcast::Receiver<(u64, HeightStatus)> {
        self.updates.subscribe()
    }

    /// The network handle (peers, scores, dialing).
    pub fn network(&self) -> &NetworkClient {
        &self.network
    }

    /// How many heights below the head are sampled and kept.
    pub fn window(&self) -> u64 {
        self.window
    }

    /// The metrics.
    pub fn metrics(&self) -> &LightMetrics {
        &self.metrics
    }

    /// Fetches every blob of `namespace` at `height` from a serving peer and verifies it against
    /// the height's header: each cell's proof, the index, and completeness (no blob of the
    /// namespace left out). A peer whose proof fails is penalised and the next one asked.
    pub async fn namespace_blobs(
        &self,
        height: u64,
        namespace: Namespace,
    ) -> Result<Vec<ProvenBlob>, FetchError> {
        namespace
            .validate_for_blob()
            .map_err(|why| FetchError::Namespace { namespace, why })?;
        let peers = self.serving_peers();
        if peers.is_empty() {
            return Err(FetchError::NoPeers);
        }
        let known = self.lock().headers.get(&height).cloned();
        let commitments = match known {
            Some(c) => c,
            None => {
                let h = fetch_headers(self, &peers, height, 1)
                    .await
                    .into_iter()
                    .find(|h| h.height() == height)
                    .ok_or(FetchError::NotFound(height))?;
                Arc::new(Commitment::of_header(&h.block))
            }
        };
        let mut why = None;
        for peer in peers {
            let req = Request::Namespace(pb::NamespaceRequest {
                height,
                namespace: namespace.as_bytes().to_vec(),
            });
            let r = match self.network.request(peer, req).await {
                Ok(Response::Namespace(r)) if r.has_height => r,
                Ok(_) => continue,
                Err(e) => {
                    debug!(%peer, "namespace request failed: {e}");
                    continue;
                }
            };
            let proof = match r.proof.as_ref().map(NamespaceProof::try_from) {
                Some(Ok(p)) => p,
                Some(Err(e)) => {
                    let _ = self.network.report(peer, Offence::Malformed).await;
                    why = Some(e.to_string());
                    continue;
                }
                None => {
                    let _ = self.network.report(peer, Offence::Malformed).await;
                    why = Some("answer without a proof".into());
                    continue;
                }
            };
            let (kzg, c) = (self.kzg.clone(), commitments.clone());
            let verified =
                tokio::task::spawn_blocking(move || proof.verify(&kzg, &c, &namespace)).await;
            match verified {
                Ok(Ok(blobs)) => return Ok(blobs),
                Ok(Err(e)) => {
                    warn!(%peer, height, "namespace proof failed: {e}");
                    let _ = self.network.report(peer, Offence::InvalidData).await;
                    why = Some(e.to_string());
                }
                Err(e) => why = Some(e.to_string()),
            }
        }
        Err(match why {
            Some(why) => FetchError::Unverified { height, why },
            None => FetchError::NotFound(height),
        })
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

/// A verified header and where it came from.
enum Incoming {
    /// The range catch-up will cover (set once the head is known).
    CatchUpRange(u64, u64),
    /// A header fetched in a range (already verified; boxed: a certified header is large).
    Header(Box<CertifiedHeader>),
}

/// What a finished sample request reports.
struct Done {
    event: Event<PeerId>,
    height: u64,
    bytes: u64,
    verify: Duration,
}

struct Driver {
    client: LightClient,
    sampler: Sampler<PeerId>,
    rng: StdRng,
    catchup_started: bool,
}

impl Driver {
    async fn run(mut self, mut events: mpsc::Receiver<NetworkEvent>, cancel: CancellationToken) {
        let (results_tx, mut results) = mpsc::channel::<Done>(1024);
        let (fetched_tx, mut fetched) = mpsc::channel::<Incoming>(256);
        loop {
            let deadline = self.sampler.next_deadline();
            let event = tokio::select! {
                () = cancel.cancelled() => break,
                ev = events.recv() => match ev {
                    Some(ev) => match self.network_event(ev, &fetched_tx).await {
                        Some(e) => e,
                        None => continue,
                    },
                    None => break,
                },
                Some(d) = results.recv() => self.finished(d),
                Some(f) = fetched.recv() => match f {
                    Incoming::CatchUpRange(from, to) => {
                        self.client.lock().catchup = Some((from, to));
                        self.client.metrics.catchup_remaining.set((to + 1 - from) as i64);
                        continue;
                    }
                    Incoming::Header(h) => match self.register(*h, &fetched_tx) {
                        Some(e) => e,
                        None => continue,
                    },
                },
                () = sleep_until(deadline), if deadline.is_some() => Event::Tick,
            };
            let actions = self.sampler.handle(Instant::now(), &mut self.rng, event);
            for a in actions {
                self.act(a, &results_tx).await;
            }
        }
        self.client.network.shutdown();
    }

    /// Accounts a finished request and hands its event to the sampler.
    fn finished(&mut self, d: Done) -> Event<PeerId> {
        let m = &self.client.metrics;
        match &d.event {
            Event::Response {
                verified, invalid, ..
            } => {
                m.samples_verified.inc_by(verified.len() as u64);
                if *invalid {
                    m.samples_failed.inc();
                }
            }
            Event::Failed(_) => {
                m.samples_failed.inc();
            }
            _ => {}
        }
        m.bytes_received.inc_by(d.bytes);
        let mut st = self.client.lock();
        let s = st.stats.entry(d.height).or_default();
        s.bytes += d.bytes;
        s.verify += d.verify;
        d.event
    }

    /// Turns a network event into a sampler event (verifying headers on the way).
    async fn network_event(
        &mut self,
        ev: NetworkEvent,
        fetched: &mpsc::Sender<Incoming>,
    ) -> Option<Event<PeerId>> {
        match ev {
            NetworkEvent::PeerServes(p) => {
                let peers = {
                    let mut st = self.client.lock();
                    if !st.serving.contains(&p) {
                        st.serving.push(p);
                    }
                    st.serving.clone()
                };
                self.client.metrics.peers.set(peers.len() as i64);
                if !self.catchup_started {
                    self.catchup_started = true;
                    tokio::spawn(catch_up(self.client.clone(), peers, fetched.clone()));
                }
                Some(Event::PeerUp(p))
            }
            NetworkEvent::PeerDisconnected(p) => {
                let n = {
                    let mut st = self.client.lock();
                    st.serving.retain(|q| *q != p);
                    st.serving.len()
                };
                self.client.metrics.peers.set(n as i64);
                Some(Event::PeerDown(p))
            }
            NetworkEvent::Header { from, id, data } => {
                let c = &self.client;
                let checked = verify_header(c, data).await;
                let header = match checked {
                    Ok(h) => {
                        let _ = c.network.validate(id, from, true).await;
                        h
                    }
                    Err((offence, why)) => {
                        warn!(peer = %from, "rejected gossiped header: {why}");
                        let _ = c.network.validate(id, from, false).await;
                        if offence != Offence::InvalidData {
                            let _ = c.network.report(from, offence).await;
                        }
                        return None;
                    }
                };
                self.register(header, fetched)
            }
            // A light client neither serves nor takes the blob-id topic.
            NetworkEvent::PeerConnected(_)
            | NetworkEvent::Inbound(_)
            | NetworkEvent::BlobIds { .. } => None,
        }
    }

    /// Records a verified header; asks for the heights a jump in gossip skipped.
    fn register(
        &mut self,
        header: CertifiedHeader,
        fetched: &mpsc::Sender<Incoming>,
    ) -> Option<Event<PeerId>> {
        let height = header.height();
        let c = &self.client;
        let (gap, peers) = {
            let mut st = c.lock();
            if st.headers.contains_key(&height) {
                return None;
            }
            let commitments = Commitment::of_header(&header.block);
            st.headers.insert(height, Arc::new(commitments));
            let set = c.trust.set();
            let cert = &header.certificate;
            st.info.insert(
                height,
                HeaderInfo {
                    k: header.block.k,
                    blob_count: header.block.blob_count,
                    round: cert.round,
                    signers: cert.signers.count(),
                    validators: set.len(),
                    signed_power: cert
                        .signers
                        .iter_set()
                        .filter_map(|i| set.get(i))
                        .map(|v| v.power)
                        .sum(),
                    total_power: set.total_power(),
                },
            );
            let prev = st.head;
            st.head = Some(prev.map_or(height, |h| h.max(height)));
            st.trim(c.window);
            // Gossip jumped (missed headers): fetch the skipped ones inside the window.
            let gap = prev
                .filter(|&p| height > p + 1 && self.catchup_started)
                .map(|p| ((p + 1).max(height.saturating_sub(c.window)), height - 1));
            (gap, st.serving.clone())
        };
        c.metrics.head.set(c.lock().head.unwrap_or(0) as i64);
        if let Some((from, to)) = gap {
            let (client, tx) = (c.clone(), fetched.clone());
            tokio::spawn(async move { fetch_range(&client, &peers, from, to, &tx).await });
        }
        debug!(height, k = header.block.k, "header verified");
        Some(Event::Header {
            height,
            k: usize::from(header.block.k),
        })
    }

    async fn act(&mut self, a: Action<PeerId>, results: &mpsc::Sender<Done>) {
        match a {
            Action::Request {
                id,
                peer,
                height,
                cells,
                ..
            } => {
                let commitments = self.client.lock().headers.get(&height).cloned();
                let Some(commitments) = commitments else {
                    let _ = results
                        .send(Done {
                            event: Event::Failed(id),
                            height,
                            bytes: 0,
                            verify: Duration::ZERO,
                        })
                        .await;
                    return;
                };
                self.client.lock().stats.entry(height).or_default().requests += 1;
                let (network, kzg, results) = (
                    self.client.network.clone(),
                    self.client.kzg.clone(),
                    results.clone(),
                );
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
                    let (mut bytes, mut verify) = (0, Duration::ZERO);
                    let event = match network.request(peer, Request::Samples(req)).await {
                        // The peer has not imported the block yet: ask again later.
                        Ok(Response::Samples(r)) if !r.has_height => Event::Failed(id),
                        Ok(Response::Samples(r)) => {
                            bytes = r
                                .samples
                                .iter()
                                .map(|s| (s.cell.len() + s.proof.len()) as u64)
                                .sum();
                            let (ev, took) =
                                check_samples(id, &cells, r.samples, commitments, kzg).await;
                            verify = took;
                            ev
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
                    let _ = results
                        .send(Done {
                            event,
                            height,
                            bytes,
                            verify,
                        })
                        .await;
                });
            }
            Action::Penalize { peer, height } => {
                warn!(%peer, height, "peer served invalid samples");
                let _ = self.client.network.report(peer, Offence::InvalidData).await;
            }
            Action::Status { height, status } => self.status(height, status),
        }
    }

    fn status(&mut self, height: u64, status: HeightStatus) {
        let m = &self.client.metrics;
        match &status {
            HeightStatus::Available {
                confidence,
                samples,
                latency,
                ..
            } => {
                info!(height, confidence, samples, ?latency, "available");
                m.confidence.set(*confidence);
                m.latency.observe(latency.as_secs_f64());
                m.verdicts
                    .get_or_create(&vec![("outcome".into(), "available".into())])
                    .inc();
            }
            HeightStatus::Unavailable { cell, latency, .. } => {
                warn!(height, ?cell, ?latency, "UNAVAILABLE");
                m.latency.observe(latency.as_secs_f64());
                m.verdicts
                    .get_or_create(&vec![("outcome".into(), "unavailable".into())])
                    .inc();
            }
            _ => {}
        }
        if status.is_final() && height as i64 > m.sampled_head.get() {
            m.sampled_head.set(height as i64);
        }
        let cells = self
            .sampler
            .cells(height)
            .map(|(k, cells)| HeightCells { k, cells });
        let mut st = self.client.lock();
        st.statuses.insert(height, status.clone());
        if let Some(cells) = cells {
            st.cells.insert(height, cells);
        }
        st.trim(self.client.window);
        if let Some((from, to)) = st.catchup {
            let done = st
                .statuses
                .range(from..=to)
                .filter(|(_, s)| s.is_final())
                .count() as u64;
            m.catchup_remaining.set((to + 1 - from - done) as i64);
        }
        drop(st);
        let _ = self.client.updates.send((height, status));
    }
}

/// Decodes a header a peer sent and checks it (off the runtime): its certificate against the
/// genesis validator set and chain (one aggregate signature check), then the commitment
/// extension. A failure names the offence of the sender (malformed bytes, or invalid data) and
/// is counted by rule.
async fn verify_header(
    client: &LightClient,
    bytes: Vec<u8>,
) -> Result<CertifiedHeader, (Offence, String)> {
    let (trust, kzg, metrics) = (
        client.trust.clone(),
        client.kzg.clone(),
        client.metrics.clone(),
    );
    tokio::task::spawn_blocking(move || {
        let header = CertifiedHeader::from_bytes(&bytes).map_err(|e| {
            metrics.header_rejected(e.reason());
            (Offence::Malformed, format!("undecodable header: {e}"))
        })?;
        let height = header.height();
        trust.verify(&header).map_err(|e| {
            metrics.header_rejected(e.reason());
            (Offence::InvalidData, format!("header {height}: {e}"))
        })?;
        let commitments = Commitment::of_header(&header.block);
        match kzg.verify_extension(&commitments) {
            Ok(true) => Ok(header),
            Ok(false) | Err(_) => {
                metrics.header_rejected("extension");
                Err((
                    Offence::InvalidData,
                    format!("header {height}: commitments are not a valid extension"),
                ))
            }
        }
    })
    .await
    .map_err(|e| (Offence::InvalidData, e.to_string()))?
}

/// Headers `from .. from + count` (`from = 0`: the newest `count`) from the first peer that has
/// them, each verified; a peer sending a bad header is reported and the next one asked.
async fn fetch_headers(
    client: &LightClient,
    peers: &[PeerId],
    from: u64,
    count: u32,
) -> Vec<CertifiedHeader> {
    let network = &client.network;
    'peers: for &peer in peers {
        let req = Request::Headers(pb::HeaderRangeRequest { from, count });
        let Ok(Response::Headers(r)) = network.request(peer, req).await else {
            continue;
        };
        let mut out = Vec::with_capacity(r.headers.len());
        for bytes in r.headers {
            let checked = match verify_header(client, bytes).await {
                Ok(s) if from == 0 || (from..from + u64::from(count)).contains(&s.height()) => {
                    Ok(s)
                }
                Ok(s) => Err((
                    Offence::Malformed,
                    format!("header {} outside the range asked", s.height()),
                )),
                Err(e) => Err(e),
            };
            match checked {
                Ok(s) => out.push(s),
                Err((offence, why)) => {
                    warn!(%peer, "bad header in a range: {why}");
                    let _ = network.report(peer, offence).await;
                    continue 'peers;
                }
            }
        }
        if !out.is_empty() {
            return out;
        }
    }
    Vec::new()
}

/// First pause before asking again for headers no peer answered; doubles up to
/// [`MAX_HEADER_RETRY`].
const HEADER_RETRY: Duration = Duration::from_secs(1);
/// Longest pause between two attempts at the same headers.
const MAX_HEADER_RETRY: Duration = Duration::from_secs(4);

/// Asks for `count` headers from `from` (0 = the newest) until some peer serving at the time
/// answers with valid ones; empty only when the driver has stopped (`tx` closed).
async fn fetch_headers_until(
    client: &LightClient,
    peers: &[PeerId],
    from: u64,
    count: u32,
    tx: &mpsc::Sender<Incoming>,
) -> Vec<CertifiedHeader> {
    let mut peers = peers.to_vec();
    let mut pause = HEADER_RETRY;
    loop {
        let got = fetch_headers(client, &peers, from, count).await;
        if !got.is_empty() || tx.is_closed() {
            return got;
        }
        debug!(
            from,
            count,
            ?pause,
            "no peer had these headers; asking again"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_HEADER_RETRY);
        let serving = client.lock().serving.clone();
        if !serving.is_empty() {
            peers = serving;
        }
    }
}

/// Fetches heights `from..=to`, newest range first, and hands them to the driver.
async fn fetch_range(
    client: &LightClient,
    peers: &[PeerId],
    from: u64,
    to: u64,
    tx: &mpsc::Sender<Incoming>,
) {
    let mut hi = to;
    while hi >= from && hi > 0 {
        let lo = hi
            .saturating_sub(u64::from(MAX_HEADERS_PER_RANGE) - 1)
            .max(from);
        let count = (hi - lo + 1) as u32;
        for h in fetch_headers_until(client, peers, lo, count, tx).await {
            if tx.send(Incoming::Header(Box::new(h))).await.is_err() {
                return;
            }
        }
        if lo == from {
            break;
        }
        hi = lo - 1;
    }
}

/// Learns the head from the serving peers, then fetches the window below it.
async fn catch_up(client: LightClient, peers: Vec<PeerId>, tx: mpsc::Sender<Incoming>) {
    let newest = fetch_headers_until(&client, &peers, 0, 1, &tx).await;
    let Some(head) = newest.into_iter().last() else {
        return; // the client stopped
    };
    let top = head.height();
    if tx.send(Incoming::Header(Box::new(head))).await.is_err() {
        return;
    }
    if top <= 1 {
        return;
    }
    let from = top.saturating_sub(client.window).max(1);
    let to = top - 1;
    info!(from, to, "catching up older heights");
    if tx.send(Incoming::CatchUpRange(from, to)).await.is_err() {
        return;
    }
    fetch_range(&client, &peers, from, to, &tx).await;
}

/// Checks a sample answer: only requested cells count; one batch verification decides.
async fn check_samples(
    id: crate::sampler::RequestId,
    asked: &[CellIndex],
    samples: Vec<pb::Sample>,
    commitments: Arc<Vec<Commitment>>,
    kzg: Arc<KzgVerifier>,
) -> (Event<PeerId>, Duration) {
    let wanted: HashSet<CellIndex> = asked.iter().copied().collect();
    let mut seen = HashSet::new();
    let mut cells = Vec::new();
    let mut malformed = false;
    for s in &samples {
        match ProvenCell::try_from(s) {
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
        return (invalid(asked.to_vec()), Duration::ZERO);
    }
    let verified: Vec<CellIndex> = cells.iter().map(|(i, _, _)| *i).collect();
    let mut took = Duration::ZERO;
    if !cells.is_empty() {
        // The verifying thread's CPU time: what the batch costs, not queueing or contention.
        let (ok, t) = tokio::task::spawn_blocking(move || {
            let started = cpu_time::ThreadTime::now();
            let ok = kzg.verify_cells(&commitments, cells).is_ok();
            (ok, started.elapsed())
        })
        .await
        .unwrap_or((false, Duration::ZERO));
        took = t;
        if !ok {
            return (invalid(asked.to_vec()), took);
        }
    }
    let missing = asked
        .iter()
        .copied()
        .filter(|c| !verified.contains(c))
        .collect();
    (
        Event::Response {
            id,
            verified,
            missing,
            invalid: false,
        },
        took,
    )
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

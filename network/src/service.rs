//! The network as a handle and an event loop (`specs/09-p2p.md`).
//!
//! # Flow
//! - [`start`] builds the swarm (TCP + noise + yamux, and QUIC), listens, dials the bootstrap
//!   addresses and spawns the event loop (`EventLoop`), which alone owns the swarm.
//! - The cloneable [`NetworkClient`] sends bounded commands (dial, request, publish, report,
//!   peers) and awaits their answers on oneshot channels.
//! - What the network produces arrives on a bounded [`NetworkEvent`] channel: gossiped headers,
//!   peers coming and going, and inbound requests, each with a oneshot to answer on (a request
//!   left unanswered is dropped and the peer sees the stream close). The event loop never waits
//!   for the application: when the channel is full, headers and requests are dropped and
//!   counted ([`NetworkClient::dropped_events`]), peer notifications wait in a bounded backlog
//!   (`crate::outbox`).
//! - Offences go to the [`PeerBook`], which scores peers with decay and decides bans; the event
//!   loop enforces a ban with libp2p's block list (connections closed and refused, requests
//!   fail with [`NetworkError::Banned`]) and lifts it when a periodic tick expires it.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use da_proto::v1 as pb;
use futures::{stream::FuturesUnordered, StreamExt};
use libp2p::{
    gossipsub, identify,
    identity::Keypair,
    kad,
    multiaddr::Protocol,
    noise,
    request_response::{self, OutboundRequestId, ResponseChannel},
    swarm::SwarmEvent,
    tcp, yamux, Multiaddr, PeerId, Swarm,
};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::{
    behaviour::{Behaviour, BehaviourEvent},
    codec::Decoded,
    error::{NetworkError, Result},
    outbox::{DropCounters, DroppedEvents, Outbox},
    peer_book::{Offence, PeerBook, PeerBookConfig},
    protocol::{
        Protocols, BLOB_ID_BYTES, MAX_BLOB_IDS_PER_MESSAGE, MAX_CELLS_PER_SAMPLE_REQUEST,
        MAX_HEADERS_PER_RANGE,
    },
};

/// Bound of the command and event channels.
pub const CHANNEL_BOUND: usize = 256;
/// Peers discovered through Kademlia are dialled while fewer than this many are connected.
pub const DISCOVERY_TARGET_PEERS: usize = 32;
/// How often a Kademlia bootstrap refreshes the routing table.
const KAD_REFRESH: Duration = Duration::from_secs(60);
/// How often bans are expired (a ban ends at most this late).
const EXPIRY_TICK: Duration = Duration::from_secs(1);

/// Settings of a node's network.
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// Chain id (part of every protocol id).
    pub chain_id: String,
    /// The node's identity.
    pub keypair: Keypair,
    /// Addresses to listen on (`/ip4/127.0.0.1/tcp/0`, `/ip4/0.0.0.0/udp/0/quic-v1`...).
    pub listen: Vec<Multiaddr>,
    /// Addresses to dial at start.
    pub bootstrap: Vec<Multiaddr>,
    /// Answer sample, header, row, namespace and blob requests, and relay pooled blob ids on
    /// their gossip topic (full nodes and validators).
    pub serve: bool,
    /// Timeout of an outbound request.
    pub request_timeout: Duration,
    /// Run Kademlia queries and dial the peers they find (up to [`DISCOVERY_TARGET_PEERS`]);
    /// off = talk only to the bootstrap peers and whoever dials in.
    pub discover: bool,
}

impl NetworkConfig {
    /// A config for `chain_id` with a fresh identity, listening on a free TCP port of 127.0.0.1.
    pub fn local(chain_id: impl Into<String>, serve: bool) -> Self {
        Self {
            chain_id: chain_id.into(),
            keypair: Keypair::generate_ed25519(),
            listen: vec!["/ip4/127.0.0.1/tcp/0".parse().expect("static multiaddr")],
            bootstrap: Vec::new(),
            serve,
            request_timeout: Duration::from_secs(5),
            discover: true,
        }
    }
}

/// A request to a peer.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// Cells with proofs.
    Samples(pb::SampleRequest),
    /// A range of headers.
    Headers(pb::HeaderRangeRequest),
    /// One extended row.
    Row(pb::RowRequest),
    /// A namespace's blobs with their completeness proof.
    Namespace(pb::NamespaceRequest),
    /// Pooled blobs by id.
    Blobs(pb::BlobsRequest),
}

/// A peer's answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Response {
    /// Cells with proofs (the ones the peer has).
    Samples(pb::SampleResponse),
    /// Headers.
    Headers(pb::HeaderRangeResponse),
    /// A row.
    Row(pb::RowResponse),
    /// A namespace's completeness proof.
    Namespace(pb::NamespaceResponse),
    /// Pooled blobs (those the peer holds).
    Blobs(pb::BlobsResponse),
}

/// A request from a peer; answer on `respond` with the matching [`Response`] variant.
#[derive(Debug)]
pub struct InboundRequest {
    /// Who asks.
    pub peer: PeerId,
    /// What.
    pub request: Request,
    /// Where the answer goes.
    pub respond: oneshot::Sender<Response>,
}

/// What the network produces.
#[derive(Debug)]
pub enum NetworkEvent {
    /// A gossiped header (bytes as published). It is forwarded to other peers only once the
    /// application verified it and called [`NetworkClient::validate`] with `accept = true`;
    /// rejecting it penalises the forwarding peer.
    Header {
        /// The peer that forwarded it.
        from: PeerId,
        /// The gossip message id, for [`NetworkClient::validate`].
        id: gossipsub::MessageId,
        /// The payload.
        data: Vec<u8>,
    },
    /// Gossiped ids of blobs a peer pooled (a well-formed announcement: 1 to 64 ids of 32
    /// bytes; others are rejected here and their forwarder penalised). The application pulls
    /// the blobs it lacks from `from` and then judges the message with
    /// [`NetworkClient::judge`]: accepted announcements are forwarded.
    BlobIds {
        /// The peer that forwarded it (it holds the blobs if it follows the protocol).
        from: PeerId,
        /// The gossip message id, for [`NetworkClient::judge`].
        id: gossipsub::MessageId,
        /// The announced ids.
        ids: Vec<[u8; BLOB_ID_BYTES]>,
    },
    /// A connection to a peer was established.
    PeerConnected(PeerId),
    /// The last connection to a peer closed.
    PeerDisconnected(PeerId),
    /// Identify says the peer serves samples (a full node or validator, not a light client).
    PeerServes(PeerId),
    /// A peer asks for data (only when serving).
    Inbound(InboundRequest),
}

/// The application's verdict on a gossiped message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Valid and useful: forward it to the mesh.
    Accept,
    /// Neither forwarded nor held against the forwarder (nothing new, or no room).
    Ignore,
    /// Invalid: dropped, and the forwarder penalised as [`Offence::InvalidData`].
    Reject,
}

enum Command {
    Dial(Multiaddr, oneshot::Sender<Result<()>>),
    Request(PeerId, Request, oneshot::Sender<Result<Response>>),
    Publish(Vec<u8>, oneshot::Sender<Result<()>>),
    Announce(Vec<[u8; BLOB_ID_BYTES]>, oneshot::Sender<Result<()>>),
    Report(PeerId, Offence),
    Validate(gossipsub::MessageId, PeerId, Verdict),
    Peers(oneshot::Sender<Vec<PeerId>>),
    Listening(oneshot::Sender<Vec<Multiaddr>>),
    Score(PeerId, oneshot::Sender<i32>),
    HeaderTopicPeers(oneshot::Sender<Vec<PeerId>>),
}

/// Cloneable handle to a running network.
#[derive(Clone, Debug)]
pub struct NetworkClient {
    peer_id: PeerId,
    commands: mpsc::Sender<Command>,
    cancel: CancellationToken,
    dropped: Arc<DropCounters>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

impl NetworkClient {
    /// This node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| NetworkError::Stopped)?;
        rx.await.map_err(|_| NetworkError::Stopped)
    }

    /// Dials `addr` and waits until connected.
    pub async fn dial(&self, addr: Multiaddr) -> Result<()> {
        self.ask(|tx| Command::Dial(addr, tx)).await?
    }

    /// Sends `request` to `peer` and waits for the answer (bounded by the request timeout).
    pub async fn request(&self, peer: PeerId, request: Request) -> Result<Response> {
        self.ask(|tx| Command::Request(peer, request, tx)).await?
    }

    /// Publishes a header on the gossip topic.
    pub async fn publish_header(&self, data: Vec<u8>) -> Result<()> {
        self.ask(|tx| Command::Publish(data, tx)).await?
    }

    /// Announces pooled blob ids on the blob topic, in messages of at most
    /// [`MAX_BLOB_IDS_PER_MESSAGE`]; an announcement identical to one seen recently is not sent
    /// again. Fails when no peer is subscribed (nobody would hear it; announce again later).
    pub async fn announce_blobs(&self, ids: Vec<[u8; BLOB_ID_BYTES]>) -> Result<()> {
        self.ask(|tx| Command::Announce(ids, tx)).await?
    }

    /// Reports an offence by `peer` (lowers its score; bans it at [`BAN_SCORE`](crate::BAN_SCORE), see
    /// [`PeerBook`]).
    pub async fn report(&self, peer: PeerId, offence: Offence) -> Result<()> {
        self.commands
            .send(Command::Report(peer, offence))
            .await
            .map_err(|_| NetworkError::Stopped)
    }

    /// The verdict on a gossiped header: accepted headers are forwarded to the mesh, rejected
    /// ones are dropped and their forwarder penalised as [`Offence::InvalidData`].
    pub async fn validate(
        &self,
        id: gossipsub::MessageId,
        from: PeerId,
        accept: bool,
    ) -> Result<()> {
        let verdict = if accept {
            Verdict::Accept
        } else {
            Verdict::Reject
        };
        self.judge(id, from, verdict).await
    }

    /// The verdict on any gossiped message (headers: [`validate`](Self::validate)).
    pub async fn judge(
        &self,
        id: gossipsub::MessageId,
        from: PeerId,
        verdict: Verdict,
    ) -> Result<()> {
        self.commands
            .send(Command::Validate(id, from, verdict))
            .await
            .map_err(|_| NetworkError::Stopped)
    }

    /// Connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerId>> {
        self.ask(Command::Peers).await
    }

    /// Connected peers known to be subscribed to the header topic (those a published header
    /// reaches directly).
    pub async fn header_topic_peers(&self) -> Result<Vec<PeerId>> {
        self.ask(Command::HeaderTopicPeers).await
    }

    /// Addresses this node listens on (with its `/p2p/<id>` suffix).
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>> {
        self.ask(Command::Listening).await
    }

    /// A peer's current score (0 when unknown).
    pub async fn score(&self, peer: PeerId) -> Result<i32> {
        self.ask(|tx| Command::Score(peer, tx)).await
    }

    /// Events dropped so far because the application's event queue was full, by kind (a
    /// counter for metrics; it never decreases).
    pub fn dropped_events(&self) -> DroppedEvents {
        self.dropped.snapshot()
    }

    /// Stops the event loop.
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }
}

/// Starts the network: builds the swarm, listens, dials the bootstrap addresses and spawns the
/// event loop. Returns the handle and the event stream.
pub async fn start(config: NetworkConfig) -> Result<(NetworkClient, mpsc::Receiver<NetworkEvent>)> {
    start_with(config, PeerBookConfig::default()).await
}

/// [`start`] with other scoring and ban parameters (tests of ban expiry).
pub async fn start_with(
    config: NetworkConfig,
    scoring: PeerBookConfig,
) -> Result<(NetworkClient, mpsc::Receiver<NetworkEvent>)> {
    let protocols = Protocols::for_chain(&config.chain_id)?;
    let setup = |e: &dyn std::fmt::Display| NetworkError::Setup(e.to_string());
    let timeout = config.request_timeout;
    let serve = config.serve;
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(config.keypair.clone())
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| setup(&e))?
        .with_quic()
        .with_behaviour(|key| {
            Behaviour::new(key, &protocols, timeout, serve)
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        })
        .map_err(|e| setup(&e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    let topic = gossipsub::IdentTopic::new(protocols.header_topic.clone());
    swarm
        .behaviour_mut()
        .gossipsub
        .subscribe(&topic)
        .map_err(|e| setup(&e))?;
    // Only nodes that pool blobs relay their ids.
    let blob_topic = gossipsub::IdentTopic::new(protocols.blob_topic.clone());
    if serve {
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(&blob_topic)
            .map_err(|e| setup(&e))?;
    }
    let mut listening = Vec::new();
    for addr in &config.listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|e| NetworkError::Setup(format!("listen on {addr}: {e}")))?;
    }
    // Wait for the listeners to report their addresses, so callers can hand them out.
    while listening.len() < config.listen.len() {
        match tokio::time::timeout(Duration::from_secs(5), swarm.select_next_some()).await {
            Ok(SwarmEvent::NewListenAddr { address, .. }) => listening.push(address),
            Ok(SwarmEvent::ListenerError { error, .. }) => return Err(setup(&error)),
            Ok(_) => {}
            Err(_) => {
                return Err(NetworkError::Setup(
                    "listeners did not start within 5 s".into(),
                ))
            }
        }
    }
    for addr in &config.bootstrap {
        if let Err(e) = swarm.dial(addr.clone()) {
            warn!(%addr, "bootstrap dial failed: {e}");
        }
    }
    let (cmd_tx, cmd_rx) = mpsc::channel(CHANNEL_BOUND);
    let (ev_tx, ev_rx) = mpsc::channel(CHANNEL_BOUND);
    let cancel = CancellationToken::new();
    let peer_id = *swarm.local_peer_id();
    info!(%peer_id, addrs = ?listening, "network started");
    let dropped = Arc::new(DropCounters::default());
    let ev = EventLoop {
        swarm,
        topic,
        blob_topic,
        commands: cmd_rx,
        outbox: Outbox::new(ev_tx, dropped.clone()),
        cancel: cancel.clone(),
        listening,
        pending_dials: HashMap::new(),
        pending: HashMap::new(),
        answers: FuturesUnordered::new(),
        answer_timeout: timeout,
        book: PeerBook::new(scoring),
        sample_protocol: protocols.sample.clone(),
        kad_bootstrapped: false,
        discover: config.discover,
    };
    tokio::spawn(ev.run());
    Ok((
        NetworkClient {
            peer_id,
            commands: cmd_tx,
            cancel,
            dropped,
        },
        ev_rx,
    ))
}

/// Which protocol an outbound request id belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Samples,
    Headers,
    Row,
    Namespace,
    Blobs,
}

enum Channel {
    Samples(ResponseChannel<pb::SampleResponse>),
    Headers(ResponseChannel<pb::HeaderRangeResponse>),
    Row(ResponseChannel<pb::RowResponse>),
    Namespace(ResponseChannel<pb::NamespaceResponse>),
    Blobs(ResponseChannel<pb::BlobsResponse>),
}

type Answer = futures::future::BoxFuture<'static, (Channel, Option<Response>)>;
/// An outbound request waiting for its answer.
type Pending = (PeerId, oneshot::Sender<Result<Response>>);

/// Owns the swarm; driven by commands and swarm events until cancelled.
struct EventLoop {
    swarm: Swarm<Behaviour>,
    topic: gossipsub::IdentTopic,
    blob_topic: gossipsub::IdentTopic,
    commands: mpsc::Receiver<Command>,
    outbox: Outbox,
    cancel: CancellationToken,
    listening: Vec<Multiaddr>,
    pending_dials: HashMap<PeerId, Vec<oneshot::Sender<Result<()>>>>,
    pending: HashMap<(Kind, OutboundRequestId), Pending>,
    /// Answers the application owes; each gives up after `answer_timeout`, when the requester
    /// has timed out anyway, so an application that never answers cannot pile them up.
    answers: FuturesUnordered<Answer>,
    answer_timeout: Duration,
    book: PeerBook,
    sample_protocol: libp2p::StreamProtocol,
    kad_bootstrapped: bool,
    discover: bool,
}

impl EventLoop {
    async fn run(mut self) {
        let mut refresh = tokio::time::interval(KAD_REFRESH);
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut expiry = tokio::time::interval(EXPIRY_TICK);
        expiry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Nothing below awaits the application: events go out with `try_send` (`Outbox`), its
        // answers are polled in `answers`, and held-back peer notices wait for `room`.
        loop {
            tokio::select! {
                () = self.cancel.cancelled() => break,
                _ = refresh.tick() => self.kad_bootstrap(),
                _ = expiry.tick() => self.expire_bans(),
                cmd = self.commands.recv() => match cmd {
                    Some(c) => self.command(c),
                    None => break,
                },
                ev = self.swarm.select_next_some() => self.swarm_event(ev),
                Some((channel, answer)) = self.answers.next(), if !self.answers.is_empty() => {
                    self.answer(channel, answer);
                }
                () = self.outbox.room(), if self.outbox.has_backlog() => self.outbox.flush(),
            }
        }
        debug!("network event loop stopped");
    }

    /// Asks the network for peers close to us (needs at least one known peer).
    fn kad_bootstrap(&mut self) {
        if self.discover && self.swarm.connected_peers().next().is_some() {
            self.kad_bootstrapped = self.swarm.behaviour_mut().kad.bootstrap().is_ok();
        }
    }

    fn local_addrs(&self) -> Vec<Multiaddr> {
        let me = *self.swarm.local_peer_id();
        self.listening
            .iter()
            .map(|a| a.clone().with(Protocol::P2p(me)))
            .collect()
    }

    fn command(&mut self, c: Command) {
        match c {
            Command::Dial(addr, tx) => {
                let peer = addr.iter().find_map(|p| match p {
                    Protocol::P2p(id) => Some(id),
                    _ => None,
                });
                if let Some(p) = peer.filter(|p| self.book.is_banned(p)) {
                    let _ = tx.send(Err(NetworkError::Banned(p.to_string())));
                    return;
                }
                match (self.swarm.dial(addr.clone()), peer) {
                    (Err(e), _) => {
                        let _ = tx.send(Err(NetworkError::Dial {
                            addr: addr.to_string(),
                            why: e.to_string(),
                        }));
                    }
                    (Ok(()), Some(p)) if self.swarm.is_connected(&p) => {
                        let _ = tx.send(Ok(()));
                    }
                    (Ok(()), Some(p)) => self.pending_dials.entry(p).or_default().push(tx),
                    (Ok(()), None) => {
                        let _ = tx.send(Ok(()));
                    }
                }
            }
            Command::Request(peer, req, tx) => {
                if self.book.is_banned(&peer) {
                    let _ = tx.send(Err(NetworkError::Banned(peer.to_string())));
                    return;
                }
                let (kind, id) = match req {
                    Request::Samples(r) => {
                        if r.cells.len() > MAX_CELLS_PER_SAMPLE_REQUEST {
                            let _ = tx.send(Err(NetworkError::Request {
                                peer: peer.to_string(),
                                why: format!(
                                    "{} cells, the bound is {MAX_CELLS_PER_SAMPLE_REQUEST}",
                                    r.cells.len()
                                ),
                            }));
                            return;
                        }
                        (
                            Kind::Samples,
                            self.swarm
                                .behaviour_mut()
                                .samples
                                .send_request(&peer, Decoded::Message(r)),
                        )
                    }
                    Request::Headers(r) => (
                        Kind::Headers,
                        self.swarm
                            .behaviour_mut()
                            .headers
                            .send_request(&peer, Decoded::Message(r)),
                    ),
                    Request::Row(r) => (
                        Kind::Row,
                        self.swarm
                            .behaviour_mut()
                            .rows
                            .send_request(&peer, Decoded::Message(r)),
                    ),
                    Request::Namespace(r) => (
                        Kind::Namespace,
                        self.swarm
                            .behaviour_mut()
                            .namespaces
                            .send_request(&peer, Decoded::Message(r)),
                    ),
                    Request::Blobs(r) => {
                        if !blob_ids_ok(&r.ids) {
                            let _ = tx.send(Err(NetworkError::Request {
                                peer: peer.to_string(),
                                why: format!(
                                    "{} ids, the bound is {MAX_BLOB_IDS_PER_MESSAGE} of \
                                     {BLOB_ID_BYTES} bytes",
                                    r.ids.len()
                                ),
                            }));
                            return;
                        }
                        (
                            Kind::Blobs,
                            self.swarm
                                .behaviour_mut()
                                .blobs
                                .send_request(&peer, Decoded::Message(r)),
                        )
                    }
                };
                self.pending.insert((kind, id), (peer, tx));
            }
            Command::Publish(data, tx) => {
                let r = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .publish(self.topic.clone(), data)
                    .map(|_| ())
                    .map_err(|e| NetworkError::Publish(e.to_string()));
                let _ = tx.send(r);
            }
            Command::Announce(ids, tx) => {
                let mut r = Ok(());
                for chunk in ids.chunks(MAX_BLOB_IDS_PER_MESSAGE) {
                    let msg = pb::BlobAnnounce {
                        ids: chunk.iter().map(|id| id.to_vec()).collect(),
                    };
                    let published = self
                        .swarm
                        .behaviour_mut()
                        .gossipsub
                        .publish(self.blob_topic.clone(), prost::Message::encode_to_vec(&msg));
                    match published {
                        Ok(_) | Err(gossipsub::PublishError::Duplicate) => {}
                        Err(e) => r = Err(NetworkError::Publish(e.to_string())),
                    }
                }
                let _ = tx.send(r);
            }
            Command::Report(peer, offence) => self.penalise(peer, offence),
            Command::Validate(id, from, verdict) => {
                let acceptance = match verdict {
                    Verdict::Accept => gossipsub::MessageAcceptance::Accept,
                    Verdict::Ignore => gossipsub::MessageAcceptance::Ignore,
                    Verdict::Reject => gossipsub::MessageAcceptance::Reject,
                };
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&id, &from, acceptance);
                if verdict == Verdict::Reject {
                    self.penalise(from, Offence::InvalidData);
                }
            }
            Command::Peers(tx) => {
                let _ = tx.send(self.swarm.connected_peers().copied().collect());
            }
            Command::Listening(tx) => {
                let _ = tx.send(self.local_addrs());
            }
            Command::Score(peer, tx) => {
                let _ = tx.send(self.book.score(&peer, Instant::now()));
            }
            Command::HeaderTopicPeers(tx) => {
                let topic = self.topic.hash();
                let peers = self
                    .swarm
                    .behaviour()
                    .gossipsub
                    .all_peers()
                    .filter(|(_, topics)| topics.contains(&&topic))
                    .map(|(peer, _)| *peer)
                    .collect();
                let _ = tx.send(peers);
            }
        }
    }

    /// Records an offence; a ban it causes is enforced by the block list, which closes the
    /// peer's connections and refuses new ones until [`EventLoop::expire_bans`] lifts it.
    fn penalise(&mut self, peer: PeerId, offence: Offence) {
        let now = Instant::now();
        let ban = self.book.report(peer, offence, now);
        let score = self.book.score(&peer, now);
        debug!(%peer, ?offence, score, "peer penalised");
        if let Some(ban) = ban {
            warn!(%peer, score, nth = ban.nth, secs = ban.duration.as_secs(), "banning peer");
            self.swarm.behaviour_mut().blocked.block_peer(peer);
        }
    }

    /// A gossiped blob announcement: a malformed one is rejected here (gossipsub's own
    /// penalty, and a malformed offence in the peer book), a well-formed one goes to the
    /// application, or is ignored when the application is busy.
    fn blob_ids(&mut self, from: PeerId, id: gossipsub::MessageId, data: &[u8]) {
        let ids = crate::protocol::decode_blob_announce(data);
        let gossip = &mut self.swarm.behaviour_mut().gossipsub;
        let Some(ids) = ids else {
            debug!(peer = %from, "malformed blob announcement");
            gossip.report_message_validation_result(
                &id,
                &from,
                gossipsub::MessageAcceptance::Reject,
            );
            self.penalise(from, Offence::Malformed);
            return;
        };
        if let Some(NetworkEvent::BlobIds { from, id, .. }) =
            self.outbox.offer(NetworkEvent::BlobIds { from, id, ids })
        {
            debug!(peer = %from, "blob announcement dropped: the application is busy");
            self.swarm
                .behaviour_mut()
                .gossipsub
                .report_message_validation_result(&id, &from, gossipsub::MessageAcceptance::Ignore);
        }
    }

    /// Lifts the bans the peer book ends now.
    fn expire_bans(&mut self) {
        for peer in self.book.expire(Instant::now()) {
            info!(%peer, "ban expired");
            self.swarm.behaviour_mut().blocked.unblock_peer(peer);
        }
    }

    fn answer(&mut self, channel: Channel, answer: Option<Response>) {
        let b = self.swarm.behaviour_mut();
        // A missing or mismatched answer drops the channel: the peer sees the stream close.
        let _ = match (channel, answer) {
            (Channel::Samples(ch), Some(Response::Samples(r))) => {
                b.samples.send_response(ch, r).is_ok()
            }
            (Channel::Headers(ch), Some(Response::Headers(r))) => {
                b.headers.send_response(ch, r).is_ok()
            }
            (Channel::Row(ch), Some(Response::Row(r))) => b.rows.send_response(ch, r).is_ok(),
            (Channel::Namespace(ch), Some(Response::Namespace(r))) => {
                b.namespaces.send_response(ch, r).is_ok()
            }
            (Channel::Blobs(ch), Some(Response::Blobs(r))) => b.blobs.send_response(ch, r).is_ok(),
            _ => false,
        };
    }

    /// Hands an inbound request to the application; its answer comes back through `answers`.
    fn inbound(&mut self, peer: PeerId, request: Request, channel: Channel) {
        if self.book.is_banned(&peer) {
            return;
        }
        let (tx, rx) = oneshot::channel();
        let ev = NetworkEvent::Inbound(InboundRequest {
            peer,
            request,
            respond: tx,
        });
        if self.outbox.offer(ev).is_some() {
            // Dropping `channel` closes the stream: the requester asks elsewhere.
            debug!(%peer, "inbound request dropped: the application is busy");
            return;
        }
        let timeout = self.answer_timeout;
        self.answers.push(Box::pin(async move {
            (
                channel,
                tokio::time::timeout(timeout, rx)
                    .await
                    .ok()
                    .and_then(|r| r.ok()),
            )
        }));
    }

    fn outbound_done(&mut self, kind: Kind, id: OutboundRequestId, r: Result<Response, String>) {
        let Some((peer, tx)) = self.pending.remove(&(kind, id)) else {
            return;
        };
        let _ = tx.send(r.map_err(|why| NetworkError::Request {
            peer: peer.to_string(),
            why,
        }));
    }

    fn rr_failure(
        &mut self,
        kind: Kind,
        peer: PeerId,
        id: OutboundRequestId,
        error: request_response::OutboundFailure,
    ) {
        match &error {
            request_response::OutboundFailure::Io(e)
                if e.kind() == std::io::ErrorKind::InvalidData =>
            {
                self.penalise(peer, Offence::Malformed);
            }
            request_response::OutboundFailure::Timeout => self.penalise(peer, Offence::Timeout),
            _ => {}
        }
        self.outbound_done(kind, id, Err(error.to_string()));
    }

    fn inbound_failure(&mut self, peer: PeerId, error: &request_response::InboundFailure) {
        if let request_response::InboundFailure::Io(e) = error {
            if e.kind() == std::io::ErrorKind::InvalidData {
                self.penalise(peer, Offence::Malformed);
            }
        }
    }

    /// One request-response event of any protocol: `valid` checks an inbound request's count
    /// bounds, the `wrap_*` functions lift the protocol's types into the common enums.
    fn rr_event<Req, Resp>(
        &mut self,
        kind: Kind,
        event: request_response::Event<Decoded<Req>, Resp>,
        valid: fn(&Req) -> bool,
        wrap_req: fn(Req) -> Request,
        wrap_resp: fn(Resp) -> Response,
        wrap_channel: fn(ResponseChannel<Resp>) -> Channel,
    ) {
        use request_response::{Event as Rr, Message as M};
        match event {
            Rr::Message {
                peer,
                message: M::Request {
                    request, channel, ..
                },
                ..
            } => {
                // A malformed frame (the codec hands it up, see `Decoded`) or a request over a
                // count bound: penalised, and left unanswered (the channel is dropped).
                let request = match request {
                    Decoded::Message(r) => r,
                    Decoded::Malformed(why) => {
                        debug!(%peer, ?kind, "malformed request: {why}");
                        self.penalise(peer, Offence::Malformed);
                        return;
                    }
                };
                if !valid(&request) {
                    self.penalise(peer, Offence::Malformed);
                    return;
                }
                self.inbound(peer, wrap_req(request), wrap_channel(channel));
            }
            Rr::Message {
                message:
                    M::Response {
                        request_id,
                        response,
                    },
                ..
            } => self.outbound_done(kind, request_id, Ok(wrap_resp(response))),
            Rr::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => self.rr_failure(kind, peer, request_id, error),
            Rr::InboundFailure { peer, error, .. } => self.inbound_failure(peer, &error),
            Rr::ResponseSent { .. } => {}
        }
    }

    fn swarm_event(&mut self, ev: SwarmEvent<BehaviourEvent>) {
        match ev {
            SwarmEvent::NewListenAddr { address, .. } if !self.listening.contains(&address) => {
                self.listening.push(address);
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                // Banned peers never get here: the block list denies their connections.
                self.swarm
                    .behaviour_mut()
                    .kad
                    .add_address(&peer_id, endpoint.get_remote_address().clone());
                for tx in self.pending_dials.remove(&peer_id).unwrap_or_default() {
                    let _ = tx.send(Ok(()));
                }
                if num_established.get() == 1 {
                    self.outbox.notify(NetworkEvent::PeerConnected(peer_id));
                }
                if !self.kad_bootstrapped {
                    self.kad_bootstrap();
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => self.outbox.notify(NetworkEvent::PeerDisconnected(peer_id)),
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(p),
                error,
                ..
            } => {
                for tx in self.pending_dials.remove(&p).unwrap_or_default() {
                    let _ = tx.send(Err(NetworkError::Dial {
                        addr: p.to_string(),
                        why: error.to_string(),
                    }));
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                for a in info.listen_addrs {
                    self.swarm.behaviour_mut().kad.add_address(&peer_id, a);
                }
                if info.protocols.contains(&self.sample_protocol) && !self.book.is_banned(&peer_id)
                {
                    self.outbox.notify(NetworkEvent::PeerServes(peer_id));
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            })) if message.topic == self.blob_topic.hash() => {
                self.blob_ids(propagation_source, message_id, &message.data);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            })) => {
                let ev = NetworkEvent::Header {
                    from: propagation_source,
                    id: message_id,
                    data: message.data,
                };
                if let Some(NetworkEvent::Header { from, id, .. }) = self.outbox.offer(ev) {
                    // Not validated, so not forwarded; nobody is blamed, and header sync
                    // fetches it by range.
                    debug!(peer = %from, "gossiped header dropped: the application is busy");
                    self.swarm
                        .behaviour_mut()
                        .gossipsub
                        .report_message_validation_result(
                            &id,
                            &from,
                            gossipsub::MessageAcceptance::Ignore,
                        );
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Samples(e)) => self.rr_event(
                Kind::Samples,
                e,
                |r| r.cells.len() <= MAX_CELLS_PER_SAMPLE_REQUEST,
                Request::Samples,
                Response::Samples,
                Channel::Samples,
            ),
            SwarmEvent::Behaviour(BehaviourEvent::Headers(e)) => self.rr_event(
                Kind::Headers,
                e,
                |r| r.count <= MAX_HEADERS_PER_RANGE,
                Request::Headers,
                Response::Headers,
                Channel::Headers,
            ),
            SwarmEvent::Behaviour(BehaviourEvent::Rows(e)) => self.rr_event(
                Kind::Row,
                e,
                |_| true,
                Request::Row,
                Response::Row,
                Channel::Row,
            ),
            SwarmEvent::Behaviour(BehaviourEvent::Namespaces(e)) => self.rr_event(
                Kind::Namespace,
                e,
                |r| r.namespace.len() <= 64,
                Request::Namespace,
                Response::Namespace,
                Channel::Namespace,
            ),
            SwarmEvent::Behaviour(BehaviourEvent::Blobs(e)) => self.rr_event(
                Kind::Blobs,
                e,
                |r| blob_ids_ok(&r.ids),
                Request::Blobs,
                Response::Blobs,
                Channel::Blobs,
            ),
            SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::RoutingUpdated {
                peer, ..
            })) => {
                debug!(%peer, "kademlia routing updated");
                // Discovery: connect to peers we learn about, up to a bound.
                let connected = self.swarm.connected_peers().count();
                if self.discover
                    && connected < DISCOVERY_TARGET_PEERS
                    && peer != *self.swarm.local_peer_id()
                    && !self.book.is_banned(&peer)
                    && !self.swarm.is_connected(&peer)
                {
                    debug!(%peer, "dialling a discovered peer");
                    let _ = self.swarm.dial(peer);
                }
            }
            _ => {}
        }
    }
}

/// Whether a list of blob ids is within the bounds of announcements and `/blobs/1` requests.
fn blob_ids_ok(ids: &[Vec<u8>]) -> bool {
    ids.len() <= MAX_BLOB_IDS_PER_MESSAGE && ids.iter().all(|i| i.len() == BLOB_ID_BYTES)
}

//! A hostile libp2p peer for tests: it speaks the chain's request-response protocols below
//! their codec, so it can send what no honest implementation would: raw frames (garbage, a
//! length prefix over the protocol's bound, a body that never comes), paced byte by byte, or in
//! floods. It also serves the sample protocol (and announces it over identify, so light clients
//! count it as a serving peer) with answers chosen by [`Serve`].

use std::{io, time::Duration};

use da_network::protocol::Protocols;
use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::{
    identify, noise,
    request_response::{self, OutboundRequestId, ProtocolSupport},
    swarm::{NetworkBehaviour, SwarmEvent},
    tcp, yamux, Multiaddr, PeerId, StreamProtocol,
};
use tokio::sync::{mpsc, oneshot};

/// Bytes written on a stream, paced if `pace` is set (one byte per `pace`), and then, if
/// `hold` is set, the stream kept open that long before it is closed.
#[derive(Clone, Debug, Default)]
pub struct Raw {
    /// The bytes, written as they are (length prefix included).
    pub bytes: Vec<u8>,
    /// Delay between two bytes.
    pub pace: Option<Duration>,
    /// Time the stream stays open after the bytes.
    pub hold: Option<Duration>,
}

impl Raw {
    /// `bytes` sent at once.
    pub fn now(bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            ..Self::default()
        }
    }
}

/// How the hostile peer answers sample requests.
#[derive(Clone, Debug)]
pub enum Serve {
    /// A frame whose body is not a protobuf message.
    Garbage,
    /// A length prefix one byte over the sample protocol's response bound.
    Oversized,
    /// A length prefix of the whole bound, then a byte per `pace`.
    Trickle(Duration),
}

/// An unsigned-varint length prefix (the codec's own).
pub fn varint(n: usize) -> Vec<u8> {
    da_network::codec::length_prefix(n)
}

/// Most bytes the hostile peer reads of any message.
const READ_CAP: u64 = 4 << 20;

#[derive(Clone, Default)]
struct RawCodec;

async fn write_raw<T: futures::AsyncWrite + Unpin + Send>(io: &mut T, raw: Raw) -> io::Result<()> {
    match raw.pace {
        None => io.write_all(&raw.bytes).await?,
        Some(pace) => {
            for b in raw.bytes {
                io.write_all(&[b]).await?;
                io.flush().await?;
                tokio::time::sleep(pace).await;
            }
        }
    }
    io.flush().await?;
    if let Some(hold) = raw.hold {
        tokio::time::sleep(hold).await;
    }
    io.close().await
}

#[async_trait::async_trait]
impl request_response::Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = Raw;
    type Response = Raw;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Raw>
    where
        T: futures::AsyncRead + Unpin + Send,
    {
        // An honest requester closes its side after the request.
        let mut buf = Vec::new();
        io.take(READ_CAP).read_to_end(&mut buf).await?;
        Ok(Raw::now(buf))
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Raw>
    where
        T: futures::AsyncRead + Unpin + Send,
    {
        let mut buf = Vec::new();
        io.take(READ_CAP).read_to_end(&mut buf).await?;
        Ok(Raw::now(buf))
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, req: Raw) -> io::Result<()>
    where
        T: futures::AsyncWrite + Unpin + Send,
    {
        write_raw(io, req).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        resp: Raw,
    ) -> io::Result<()>
    where
        T: futures::AsyncWrite + Unpin + Send,
    {
        write_raw(io, resp).await
    }
}

#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
struct Behaviour {
    identify: identify::Behaviour,
    sample: request_response::Behaviour<RawCodec>,
    headers: request_response::Behaviour<RawCodec>,
    namespace: request_response::Behaviour<RawCodec>,
}

/// The protocol a raw request goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// `/sample/1`.
    Sample,
    /// `/headers/2`.
    Headers,
    /// `/namespace/1`.
    Namespace,
}

/// What a raw request came to.
pub type Outcome = Result<Vec<u8>, String>;

enum Cmd {
    Dial(Multiaddr, oneshot::Sender<Result<(), String>>),
    Send(PeerId, Proto, Raw, oneshot::Sender<Outcome>),
    Connected(PeerId, oneshot::Sender<bool>),
}

/// A running hostile peer.
pub struct Hostile {
    /// Its peer id.
    pub peer_id: PeerId,
    commands: mpsc::Sender<Cmd>,
    /// Sample requests it has received (and answered with [`Serve`]).
    pub served: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Hostile {
    /// Starts a hostile peer of `chain` answering sample requests with `serve`.
    pub async fn start(chain: &str, serve: Serve) -> Self {
        let protocols = Protocols::for_chain(chain).expect("chain id");
        let rr = |p: &StreamProtocol| {
            request_response::Behaviour::with_codec(
                RawCodec,
                [(p.clone(), ProtocolSupport::Full)],
                request_response::Config::default()
                    .with_request_timeout(Duration::from_secs(60))
                    .with_max_concurrent_streams(10_000),
            )
        };
        let mut swarm = libp2p::SwarmBuilder::with_new_identity()
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )
            .expect("tcp")
            .with_behaviour(|key| Behaviour {
                identify: identify::Behaviour::new(identify::Config::new(
                    protocols.identify.clone(),
                    key.public(),
                )),
                sample: rr(&protocols.sample),
                headers: rr(&protocols.headers),
                namespace: rr(&protocols.namespace),
            })
            .expect("behaviour")
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
            .build();
        swarm
            .listen_on("/ip4/127.0.0.1/tcp/0".parse().expect("addr"))
            .expect("listen");
        let peer_id = *swarm.local_peer_id();
        let (tx, mut rx) = mpsc::channel::<Cmd>(1024);
        let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = served.clone();
        tokio::spawn(async move {
            let mut pending: std::collections::HashMap<
                OutboundRequestId,
                oneshot::Sender<Outcome>,
            > = std::collections::HashMap::new();
            let mut dials: Vec<(PeerId, oneshot::Sender<Result<(), String>>)> = Vec::new();
            loop {
                tokio::select! {
                    cmd = rx.recv() => match cmd {
                        None => break,
                        Some(Cmd::Dial(addr, done)) => {
                            let peer = addr.iter().find_map(|p| match p {
                                libp2p::multiaddr::Protocol::P2p(id) => Some(id),
                                _ => None,
                            });
                            match (swarm.dial(addr), peer) {
                                (Err(e), _) => { let _ = done.send(Err(e.to_string())); }
                                (Ok(()), Some(p)) if swarm.is_connected(&p) => { let _ = done.send(Ok(())); }
                                (Ok(()), Some(p)) => dials.push((p, done)),
                                (Ok(()), None) => { let _ = done.send(Ok(())); }
                            }
                        }
                        Some(Cmd::Send(peer, proto, raw, done)) => {
                            let b = swarm.behaviour_mut();
                            let rr = match proto {
                                Proto::Sample => &mut b.sample,
                                Proto::Headers => &mut b.headers,
                                Proto::Namespace => &mut b.namespace,
                            };
                            let id = rr.send_request(&peer, raw);
                            pending.insert(id, done);
                        }
                        Some(Cmd::Connected(peer, done)) => {
                            let _ = done.send(swarm.is_connected(&peer));
                        }
                    },
                    ev = swarm.select_next_some() => match ev {
                        SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                            let (ready, waiting): (Vec<_>, Vec<_>) =
                                std::mem::take(&mut dials).into_iter().partition(|(p, _)| *p == peer_id);
                            dials = waiting;
                            for (_, done) in ready { let _ = done.send(Ok(())); }
                        }
                        SwarmEvent::OutgoingConnectionError { peer_id: Some(p), error, .. } => {
                            let (failed, waiting): (Vec<_>, Vec<_>) =
                                std::mem::take(&mut dials).into_iter().partition(|(q, _)| *q == p);
                            dials = waiting;
                            for (_, done) in failed { let _ = done.send(Err(error.to_string())); }
                        }
                        SwarmEvent::Behaviour(ev) => {
                            let (event, which) = match ev {
                                BehaviourEvent::Sample(e) => (e, Proto::Sample),
                                BehaviourEvent::Headers(e) => (e, Proto::Headers),
                                BehaviourEvent::Namespace(e) => (e, Proto::Namespace),
                                BehaviourEvent::Identify(_) => continue,
                            };
                            match event {
                                request_response::Event::Message { message, .. } => match message {
                                    request_response::Message::Response { request_id, response } => {
                                        if let Some(done) = pending.remove(&request_id) {
                                            let _ = done.send(Ok(response.bytes));
                                        }
                                    }
                                    request_response::Message::Request { channel, .. } => {
                                        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                        let answer = answer(&serve);
                                        let b = swarm.behaviour_mut();
                                        let rr = match which {
                                            Proto::Sample => &mut b.sample,
                                            Proto::Headers => &mut b.headers,
                                            Proto::Namespace => &mut b.namespace,
                                        };
                                        let _ = rr.send_response(channel, answer);
                                    }
                                },
                                request_response::Event::OutboundFailure { request_id, error, .. } => {
                                    if let Some(done) = pending.remove(&request_id) {
                                        let _ = done.send(Err(error.to_string()));
                                    }
                                }
                                _ => {}
                            }
                        }
                        _ => {}
                    }
                }
            }
        });
        Self {
            peer_id,
            commands: tx,
            served,
        }
    }

    /// Dials `addr` (which must end in `/p2p/<peer id>`) and waits until connected.
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Cmd::Dial(addr, tx))
            .await
            .map_err(|_| "hostile peer stopped".to_string())?;
        rx.await.map_err(|_| "hostile peer stopped".to_string())?
    }

    /// Sends `raw` as a request on `proto` to `peer` and waits for what comes back (the raw
    /// answer, or why none came).
    pub async fn send(&self, peer: PeerId, proto: Proto, raw: Raw) -> Outcome {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Cmd::Send(peer, proto, raw, tx))
            .await
            .map_err(|_| "hostile peer stopped".to_string())?;
        rx.await.map_err(|_| "hostile peer stopped".to_string())?
    }

    /// Sends `raw` without waiting for the outcome (for floods and slow streams).
    pub async fn fire(&self, peer: PeerId, proto: Proto, raw: Raw) -> oneshot::Receiver<Outcome> {
        let (tx, rx) = oneshot::channel();
        let _ = self.commands.send(Cmd::Send(peer, proto, raw, tx)).await;
        rx
    }

    /// Whether a connection to `peer` is open.
    pub async fn is_connected(&self, peer: PeerId) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Cmd::Connected(peer, tx)).await.is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }
}

fn answer(serve: &Serve) -> Raw {
    let bound = da_network::protocol::SAMPLE_LIMITS.response;
    match serve {
        Serve::Garbage => {
            let mut out = varint(64);
            out.extend((0..64u8).map(|i| i.wrapping_mul(37) | 0x80));
            Raw::now(out)
        }
        Serve::Oversized => {
            let mut out = varint(bound + 1);
            out.extend_from_slice(&[0u8; 32]);
            Raw::now(out)
        }
        Serve::Trickle(pace) => {
            let mut bytes = varint(bound);
            bytes.extend_from_slice(&[0u8; 4096]);
            Raw {
                bytes,
                pace: Some(*pace),
                hold: None,
            }
        }
    }
}

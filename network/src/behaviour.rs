//! The composed libp2p behaviour: identify, ping, Kademlia, gossipsub for headers and pooled
//! blob ids, and the request-response protocols (samples, header ranges, rows, namespaces,
//! pooled blobs), each with its own codec bounds.

use std::time::Duration;

use da_proto::v1 as pb;
use libp2p::{
    allow_block_list, gossipsub, identify, identity::Keypair, kad, ping, request_response,
    request_response::ProtocolSupport, swarm::NetworkBehaviour, StreamProtocol,
};

use crate::{
    codec::ProtoCodec,
    error::{NetworkError, Result},
    protocol::{
        gossip_message_id, Protocols, BLOB_LIMITS, HEADER_LIMITS, MAX_GOSSIP_BYTES,
        NAMESPACE_LIMITS, ROW_LIMITS, SAMPLE_LIMITS,
    },
};

/// Codec of `/sample/1`.
pub(crate) type SampleCodec = ProtoCodec<pb::SampleRequest, pb::SampleResponse>;
/// Codec of `/headers/1`.
pub(crate) type HeaderCodec = ProtoCodec<pb::HeaderRangeRequest, pb::HeaderRangeResponse>;
/// Codec of `/row/1`.
pub(crate) type RowCodec = ProtoCodec<pb::RowRequest, pb::RowResponse>;
/// Codec of `/namespace/1`.
pub(crate) type NamespaceCodec = ProtoCodec<pb::NamespaceRequest, pb::NamespaceResponse>;
/// Codec of `/blobs/1`.
pub(crate) type BlobCodec = ProtoCodec<pb::BlobsRequest, pb::BlobsResponse>;

/// Every protocol a node speaks.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    /// Bans: first, so a banned peer's connection is denied before any other behaviour sees it.
    pub(crate) blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    pub(crate) identify: identify::Behaviour,
    pub(crate) ping: ping::Behaviour,
    pub(crate) kad: kad::Behaviour<kad::store::MemoryStore>,
    pub(crate) gossipsub: gossipsub::Behaviour,
    pub(crate) samples: request_response::Behaviour<SampleCodec>,
    pub(crate) headers: request_response::Behaviour<HeaderCodec>,
    pub(crate) rows: request_response::Behaviour<RowCodec>,
    pub(crate) namespaces: request_response::Behaviour<NamespaceCodec>,
    pub(crate) blobs: request_response::Behaviour<BlobCodec>,
}

fn rr<C>(
    proto: &StreamProtocol,
    codec: C,
    timeout: Duration,
    serve: bool,
) -> request_response::Behaviour<C>
where
    C: request_response::Codec<Protocol = StreamProtocol> + Clone + Send + 'static,
{
    let support = if serve {
        ProtocolSupport::Full
    } else {
        ProtocolSupport::Outbound
    };
    request_response::Behaviour::with_codec(
        codec,
        [(proto.clone(), support)],
        request_response::Config::default()
            .with_request_timeout(timeout)
            .with_max_concurrent_streams(64),
    )
}

impl Behaviour {
    /// Builds the behaviour for `key` on `protocols`; `serve` = answer requests (full nodes).
    pub(crate) fn new(
        key: &Keypair,
        protocols: &Protocols,
        request_timeout: Duration,
        serve: bool,
    ) -> Result<Self> {
        let peer = key.public().to_peer_id();
        let gossip_cfg = gossipsub::ConfigBuilder::default()
            .heartbeat_interval(Duration::from_millis(500))
            .max_transmit_size(MAX_GOSSIP_BYTES)
            .validation_mode(gossipsub::ValidationMode::Strict)
            // Headers are forwarded only after the application verified them.
            .validate_messages()
            // The same header from two publishers is one message; every node must compute the
            // same id (IHAVE/IWANT), so it is a specified hash.
            .message_id_fn(|m: &gossipsub::Message| {
                gossipsub::MessageId::from(gossip_message_id(m.topic.as_str(), &m.data).to_vec())
            })
            .build()
            .map_err(|e| NetworkError::Config(format!("gossipsub: {e}")))?;
        let gossipsub = gossipsub::Behaviour::new(
            gossipsub::MessageAuthenticity::Signed(key.clone()),
            gossip_cfg,
        )
        .map_err(|e| NetworkError::Config(format!("gossipsub: {e}")))?;
        let mut kad_cfg = kad::Config::new(protocols.kad.clone());
        kad_cfg.set_query_timeout(Duration::from_secs(30));
        let mut kad =
            kad::Behaviour::with_config(peer, kad::store::MemoryStore::new(peer), kad_cfg);
        kad.set_mode(Some(kad::Mode::Server));
        Ok(Self {
            blocked: allow_block_list::Behaviour::default(),
            identify: identify::Behaviour::new(identify::Config::new(
                protocols.identify.clone(),
                key.public(),
            )),
            ping: ping::Behaviour::new(ping::Config::new()),
            kad,
            gossipsub,
            samples: rr(
                &protocols.sample,
                SampleCodec::new(SAMPLE_LIMITS),
                request_timeout,
                serve,
            ),
            headers: rr(
                &protocols.headers,
                HeaderCodec::new(HEADER_LIMITS),
                request_timeout,
                serve,
            ),
            rows: rr(
                &protocols.row,
                RowCodec::new(ROW_LIMITS),
                request_timeout,
                serve,
            ),
            namespaces: rr(
                &protocols.namespace,
                NamespaceCodec::new(NAMESPACE_LIMITS),
                request_timeout,
                serve,
            ),
            blobs: rr(
                &protocols.blobs,
                BlobCodec::new(BLOB_LIMITS),
                request_timeout,
                serve,
            ),
        })
    }
}

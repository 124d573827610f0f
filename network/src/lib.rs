//! libp2p networking of the DA layer (`specs/09-p2p.md`): TCP + noise + yamux and QUIC
//! transports, identify, ping, Kademlia discovery, gossipsub for certified headers and pooled blob
//! ids, and bounded request-response protocols for samples, header ranges, rows, namespaces and
//! pooled blobs, with peer scoring.
//!
//! The crate owns transport and protocol mechanics only: it moves bytes within bounds and
//! scores peers on what it is told or can see (malformed frames, timeouts). Verifying cells and
//! headers, and deciding what to sample, belong to the node and the light client.

pub mod codec;
pub mod error;
pub mod metrics;
pub mod outbox;
pub mod peer_book;
pub mod protocol;
pub mod service;

mod behaviour;

pub use error::{NetworkError, Result};
pub use libp2p::{gossipsub::MessageId, identity::Keypair, Multiaddr, PeerId};
pub use metrics::DroppedEventsCollector;
pub use outbox::DroppedEvents;
pub use peer_book::{Offence, PeerBook, PeerBookConfig, BAN_SCORE};
pub use service::{
    start, start_with, InboundRequest, NetworkClient, NetworkConfig, NetworkEvent, Request,
    Response, Verdict,
};

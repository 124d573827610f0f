//! Protocol identifiers, bounds and the gossip message id (`specs/09-p2p.md`). Every id carries
//! the chain id and a version, so nodes of different chains or incompatible versions never talk
//! past each other.

use libp2p::StreamProtocol;
use sha2::{Digest, Sha256};

use da_types::{
    certificate::MAX_CERTIFIED_HEADER_LEN,
    consts::{BYTES_PER_CELL, K_MAX, ORIGINAL_CELLS_PER_ROW, PAYLOAD_BYTES_PER_ROW},
};

use crate::{codec::Limits, error::NetworkError};

/// Largest number of cells in one sample request.
pub const MAX_CELLS_PER_SAMPLE_REQUEST: usize = 256;
/// Largest number of headers in one range request.
pub const MAX_HEADERS_PER_RANGE: u32 = 64;
/// Largest gossiped header: a certified header is at most
/// [`MAX_CERTIFIED_HEADER_LEN`] (33,130 bytes: 512 commitments of a `K_MAX` square and the
/// bitmap of 65,535 validators); 64 KiB leaves room for gossipsub's framing.
pub const MAX_GOSSIP_BYTES: usize = 64 * 1024;

/// Bounds of `/sample/1`: 256 coordinates in, 256 cells with proofs out.
pub const SAMPLE_LIMITS: Limits = Limits {
    request: 8 * 1024,
    response: 1024 * 1024,
};
/// Bounds of `/headers/2`: 64 certified headers of at most [`MAX_CERTIFIED_HEADER_LEN`] bytes
/// (2.02 MiB with their framing), so 3 MiB.
pub const HEADER_LIMITS: Limits = Limits {
    request: 64,
    response: 3 * 1024 * 1024,
};

// The bound holds 64 of the largest certified headers with their protobuf framing.
const _: () = assert!(
    MAX_HEADERS_PER_RANGE as usize * (MAX_CERTIFIED_HEADER_LEN + 4) <= HEADER_LIMITS.response
);
const _: () = assert!(MAX_CERTIFIED_HEADER_LEN + 1024 <= MAX_GOSSIP_BYTES);
/// Bounds of `/row/1`: 128 cells with proofs.
pub const ROW_LIMITS: Limits = Limits {
    request: 64,
    response: 512 * 1024,
};

/// Bounds of `/namespace/1`: a namespace may fill a whole `K_MAX` square (its data cells with
/// proofs, plus the index cells), so the bound is that square's original cells with framing.
pub const NAMESPACE_LIMITS: Limits = Limits {
    request: 128,
    response: K_MAX * ORIGINAL_CELLS_PER_ROW * (BYTES_PER_CELL + 64) + 64 * 1024,
};

/// Most blob ids in one announcement or one `/blobs/1` request.
pub const MAX_BLOB_IDS_PER_MESSAGE: usize = 64;
/// Length of a blob id.
pub const BLOB_ID_BYTES: usize = 32;
/// Payload bytes a `/blobs/1` answer carries at most: the largest blob any node accepts (half a
/// `K_MAX` square, the bound of `max_blob_bytes`). A server stops adding blobs before it would
/// pass it; the requester asks again for the rest.
pub const MAX_BLOBS_RESPONSE_PAYLOAD: usize = K_MAX / 2 * PAYLOAD_BYTES_PER_ROW;
/// Bounds of `/blobs/1`: 64 ids in, [`MAX_BLOBS_RESPONSE_PAYLOAD`] bytes of blobs out plus
/// their framing (at most 64 blobs, 64 bytes each).
pub const BLOB_LIMITS: Limits = Limits {
    request: MAX_BLOB_IDS_PER_MESSAGE * (BLOB_ID_BYTES + 2) + 16,
    response: MAX_BLOBS_RESPONSE_PAYLOAD + 64 * 1024,
};

/// Length of a gossip message id in bytes.
pub const GOSSIP_ID_BYTES: usize = 20;

/// The gossip message id of `data` published on `topic`: the first 20 bytes of
/// `SHA-256(u64_be(len(topic)) ‖ topic ‖ data)`. It depends on the payload, not on the
/// publisher or sequence number, so the same header from two publishers is one message.
pub fn gossip_message_id(topic: &str, data: &[u8]) -> [u8; GOSSIP_ID_BYTES] {
    let mut h = Sha256::new();
    h.update((topic.len() as u64).to_be_bytes());
    h.update(topic.as_bytes());
    h.update(data);
    let digest = h.finalize();
    let mut id = [0u8; GOSSIP_ID_BYTES];
    id.copy_from_slice(&digest[..GOSSIP_ID_BYTES]);
    id
}

/// Version of the header protocol and gossip topic: 2 since headers are certified
/// (`specs/05-header.md`); a node of version 1 (ed25519 headers) neither hears nor answers them.
pub const HEADERS_VERSION: u8 = 2;

/// The protocol ids of one chain.
#[derive(Clone, Debug)]
pub struct Protocols {
    /// `/da/<chain>/sample/1`.
    pub sample: StreamProtocol,
    /// `/da/<chain>/headers/2` (certified headers; version 1 carried ed25519-signed ones).
    pub headers: StreamProtocol,
    /// `/da/<chain>/row/1`.
    pub row: StreamProtocol,
    /// `/da/<chain>/namespace/1`.
    pub namespace: StreamProtocol,
    /// `/da/<chain>/blobs/1` (pooled blobs by id).
    pub blobs: StreamProtocol,
    /// `/da/<chain>/kad/1`.
    pub kad: StreamProtocol,
    /// `/da/<chain>/id/1` (identify).
    pub identify: String,
    /// Gossipsub topic of certified headers: `/da/<chain>/headers/2`.
    pub header_topic: String,
    /// Gossipsub topic of pooled blob ids: `/da/<chain>/blob-ids/1`.
    pub blob_topic: String,
}

impl Protocols {
    /// The ids of `chain` (letters, digits, `-`, `_`, `.`; 1 to 64 characters).
    pub fn for_chain(chain: &str) -> Result<Self, NetworkError> {
        let ok = !chain.is_empty()
            && chain.len() <= 64
            && chain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            return Err(NetworkError::Config(format!(
                "chain id {chain:?} is not usable in protocol ids (1-64 of [A-Za-z0-9._-])"
            )));
        }
        let p = |name: &str, version: u8| {
            StreamProtocol::try_from_owned(format!("/da/{chain}/{name}/{version}"))
                .map_err(|e| NetworkError::Config(e.to_string()))
        };
        Ok(Self {
            sample: p("sample", 1)?,
            headers: p("headers", HEADERS_VERSION)?,
            row: p("row", 1)?,
            namespace: p("namespace", 1)?,
            blobs: p("blobs", 1)?,
            kad: p("kad", 1)?,
            identify: format!("/da/{chain}/id/1"),
            header_topic: format!("/da/{chain}/headers/{HEADERS_VERSION}"),
            blob_topic: format!("/da/{chain}/blob-ids/1"),
        })
    }
}

/// The blob ids of a gossiped `BlobAnnounce`, or `None` if the bytes are not one this node
/// accepts: not the message, no id, more than [`MAX_BLOB_IDS_PER_MESSAGE`] ids or one that is
/// not [`BLOB_ID_BYTES`] long.
pub fn decode_blob_announce(data: &[u8]) -> Option<Vec<[u8; BLOB_ID_BYTES]>> {
    let a = <da_proto::v1::BlobAnnounce as prost::Message>::decode(data).ok()?;
    if a.ids.is_empty() || a.ids.len() > MAX_BLOB_IDS_PER_MESSAGE {
        return None;
    }
    a.ids
        .iter()
        .map(|i| <[u8; BLOB_ID_BYTES]>::try_from(i.as_slice()).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_versioned_per_chain_and_bad_chains_refused() {
        let p = Protocols::for_chain("devnet").expect("ok");
        assert_eq!(p.sample.as_ref(), "/da/devnet/sample/1");
        assert_eq!(p.headers.as_ref(), "/da/devnet/headers/2");
        assert_eq!(p.header_topic, "/da/devnet/headers/2");
        assert_eq!(p.blobs.as_ref(), "/da/devnet/blobs/1");
        assert_eq!(p.blob_topic, "/da/devnet/blob-ids/1");
        for bad in ["", "a/b", "white space", &"x".repeat(65)] {
            assert!(Protocols::for_chain(bad).is_err(), "{bad:?}");
        }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Golden values, computed outside Rust:
    /// `printf '\x00\x00\x00\x00\x00\x00\x00\x14/da/devnet/headers/1signed header bytes'
    /// | sha256sum | cut -c1-40` (and without the payload for the empty message). The check
    /// values are those of the version-1 topic string; the rule is the same for every topic.
    #[test]
    fn gossip_message_id_matches_its_specification() {
        let topic = "/da/devnet/headers/1";
        assert_eq!(
            hex(&gossip_message_id(topic, b"signed header bytes")),
            "93c6a27410f019750f682cc4e112452c5e362eca"
        );
        assert_eq!(
            hex(&gossip_message_id(topic, b"")),
            "9567ba0d3339cfdf460d9d67abfbe39e28b06bca"
        );
        // The topic is length-prefixed: moving bytes between topic and payload changes the id.
        assert_ne!(
            gossip_message_id("/da/devnet/headers/1s", b"igned header bytes"),
            gossip_message_id(topic, b"signed header bytes")
        );
        // The topic in use now: printf '\x00\x00\x00\x00\x00\x00\x00\x14/da/devnet/headers/2'
        // followed by the payload.
        let v2 = Protocols::for_chain("devnet").expect("ok").header_topic;
        assert_eq!(
            hex(&gossip_message_id(&v2, b"certified header bytes")),
            "db979b8014075c1bba1899334b221a49d90bb67d"
        );
    }
}

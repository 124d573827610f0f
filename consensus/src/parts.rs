//! Proposal parts and their reassembly (sans-IO).
//!
//! A proposal travels as one stream per (publisher, height, round): `Init` (who proposes what
//! round), `Header` (the full v2 header with its `2k` commitments), the block body in `Body`
//! chunks, and `Fin` (the body's length and SHA-256). [`Streams`] collects the parts of every
//! stream, bounded in streams per peer, parts per stream and bytes per stream, and yields a
//! [`ReceivedProposal`] once a stream is complete and consistent. Whether the proposal is *valid*
//! is decided elsewhere (`crate::app`).

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use da_types::header_v2::BlockHeader;
use malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_app_channel::app::types::core::{self as core, Round};
use malachitebft_app_channel::app::types::PeerId;
use sha2::{Digest, Sha256};

use crate::context::{Address, DaContext, Height};

/// Size of one body chunk.
pub const BODY_CHUNK: usize = 1 << 20;

/// First part: who proposes at which height and round, and its proof-of-lock round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartInit {
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// Proof-of-lock round (`Nil` for a fresh value).
    pub pol_round: Round,
    /// The proposer.
    pub proposer: Address,
}

/// Last part: what the body chunks must add up to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartFin {
    /// Total body length.
    pub body_len: u64,
    /// SHA-256 of the body.
    pub body_hash: [u8; 32],
}

/// One part of a proposal stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposalPart {
    /// Height, round, proposer.
    Init(PartInit),
    /// The full header (consensus header plus commitments).
    Header(Box<BlockHeader>),
    /// A chunk of the block body.
    Body(Bytes),
    /// Length and hash of the body.
    Fin(PartFin),
}

impl core::ProposalPart<DaContext> for ProposalPart {
    fn is_first(&self) -> bool {
        matches!(self, Self::Init(_))
    }

    fn is_last(&self) -> bool {
        matches!(self, Self::Fin(_))
    }
}

/// A complete proposal as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedProposal {
    /// Height, round, proposer.
    pub init: PartInit,
    /// The full header.
    pub header: BlockHeader,
    /// The block body.
    pub body: Bytes,
}

/// The stream id of a proposal: `u64_be(height) ‖ u32_be(round)`.
pub fn stream_id(height: Height, round: Round) -> StreamId {
    let mut b = Vec::with_capacity(12);
    b.extend_from_slice(&height.0.to_be_bytes());
    b.extend_from_slice(&round.as_u32().unwrap_or(u32::MAX).to_be_bytes());
    StreamId::new(Bytes::from(b))
}

/// Splits a proposal into its stream messages (parts then the stream's end marker).
pub fn split(
    init: PartInit,
    header: BlockHeader,
    body: &Bytes,
) -> Vec<StreamMessage<ProposalPart>> {
    let id = stream_id(init.height, init.round);
    let mut parts = vec![
        ProposalPart::Init(init),
        ProposalPart::Header(Box::new(header)),
    ];
    let mut offset = 0;
    while offset < body.len() {
        let end = (offset + BODY_CHUNK).min(body.len());
        parts.push(ProposalPart::Body(body.slice(offset..end)));
        offset = end;
    }
    parts.push(ProposalPart::Fin(PartFin {
        body_len: body.len() as u64,
        body_hash: Sha256::digest(body).into(),
    }));
    let n = parts.len() as u64;
    let mut msgs: Vec<_> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| StreamMessage::new(id.clone(), i as u64, StreamContent::Data(p)))
        .collect();
    msgs.push(StreamMessage::new(id, n, StreamContent::Fin));
    msgs
}

/// Why a stream was dropped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// More parts or bytes than any valid proposal has.
    #[error("stream over its bound: {0}")]
    TooLarge(&'static str),
    /// The same sequence number twice with different content.
    #[error("sequence {0} sent twice with different content")]
    Conflict(u64),
    /// Parts out of shape (no init first, two headers, body length or hash mismatch...).
    #[error("malformed stream: {0}")]
    Malformed(String),
}

/// Limits of the reassembly buffers.
#[derive(Clone, Copy, Debug)]
pub struct StreamLimits {
    /// Open streams kept per publisher.
    pub streams_per_peer: usize,
    /// Largest body accepted.
    pub max_body: u64,
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self {
            streams_per_peer: 8,
            // The largest square: 256 rows of 128 KiB.
            max_body: 256 * 128 * 1024 + 64 * 1024,
        }
    }
}

impl StreamLimits {
    fn max_parts(&self) -> u64 {
        self.max_body.div_ceil(BODY_CHUNK as u64) + 4
    }
}

#[derive(Default)]
struct Partial {
    parts: BTreeMap<u64, StreamContent<ProposalPart>>,
    bytes: u64,
    end: Option<u64>,
    height: u64,
}

/// Reassembles proposal streams.
pub struct Streams {
    limits: StreamLimits,
    open: HashMap<(PeerId, StreamId), Partial>,
}

impl Streams {
    /// Empty buffers with `limits`.
    pub fn new(limits: StreamLimits) -> Self {
        Self {
            limits,
            open: HashMap::new(),
        }
    }

    /// Streams currently buffered.
    pub fn open_streams(&self) -> usize {
        self.open.len()
    }

    /// Drops every stream for a height below `height`.
    pub fn prune_below(&mut self, height: u64) {
        self.open.retain(|_, p| p.height == 0 || p.height >= height);
    }

    /// Adds one message from `publisher`; returns the proposal once its stream is complete.
    pub fn insert(
        &mut self,
        publisher: PeerId,
        msg: StreamMessage<ProposalPart>,
    ) -> Result<Option<ReceivedProposal>, StreamError> {
        let key = (publisher, msg.stream_id.clone());
        if !self.open.contains_key(&key) {
            let from_peer = self.open.keys().filter(|(p, _)| *p == publisher).count();
            if from_peer >= self.limits.streams_per_peer {
                // Forget the peer's oldest-height stream to make room.
                if let Some(oldest) = self
                    .open
                    .iter()
                    .filter(|((p, _), _)| *p == publisher)
                    .min_by_key(|(_, s)| s.height)
                    .map(|(k, _)| k.clone())
                {
                    self.open.remove(&oldest);
                }
            }
        }
        let max_parts = self.limits.max_parts();
        let max_body = self.limits.max_body;
        let result = {
            let partial = self.open.entry(key.clone()).or_default();
            Self::add(partial, msg, max_parts, max_body)
        };
        match result {
            Ok(true) => {
                let partial = self.open.remove(&key).unwrap_or_default();
                Self::assemble(partial).map(Some)
            }
            Ok(false) => Ok(None),
            Err(e) => {
                self.open.remove(&key);
                Err(e)
            }
        }
    }

    /// Records a message; `Ok(true)` when the stream is complete.
    fn add(
        partial: &mut Partial,
        msg: StreamMessage<ProposalPart>,
        max_parts: u64,
        max_body: u64,
    ) -> Result<bool, StreamError> {
        if msg.sequence > max_parts {
            return Err(StreamError::TooLarge("sequence"));
        }
        if let StreamContent::Fin = msg.content {
            if partial.end.is_some_and(|e| e != msg.sequence) {
                return Err(StreamError::Conflict(msg.sequence));
            }
            if partial.parts.keys().any(|s| *s > msg.sequence) {
                return Err(StreamError::Malformed("parts after the end".into()));
            }
            partial.end = Some(msg.sequence);
        }
        if partial.end.is_some_and(|e| msg.sequence > e) {
            return Err(StreamError::Malformed("part after the end".into()));
        }
        if let StreamContent::Data(ProposalPart::Body(b)) = &msg.content {
            partial.bytes += b.len() as u64;
            if partial.bytes > max_body {
                return Err(StreamError::TooLarge("body"));
            }
        }
        if let StreamContent::Data(ProposalPart::Init(init)) = &msg.content {
            partial.height = init.height.0;
        }
        if let Some(existing) = partial.parts.get(&msg.sequence) {
            if *existing != msg.content {
                return Err(StreamError::Conflict(msg.sequence));
            }
            return Ok(false);
        }
        partial.parts.insert(msg.sequence, msg.content);
        Ok(partial
            .end
            .is_some_and(|e| partial.parts.len() as u64 == e + 1))
    }

    fn assemble(partial: Partial) -> Result<ReceivedProposal, StreamError> {
        let mut init = None;
        let mut header = None;
        let mut fin = None;
        let mut body = Vec::with_capacity(partial.bytes as usize);
        let malformed = |m: &str| Err(StreamError::Malformed(m.into()));
        for (seq, content) in partial.parts {
            match content {
                StreamContent::Data(ProposalPart::Init(i)) => {
                    if seq != 0 {
                        return malformed("init is not the first part");
                    }
                    init = Some(i);
                }
                StreamContent::Data(ProposalPart::Header(h)) => {
                    if init.is_none() || header.is_some() || fin.is_some() {
                        return malformed("header out of place");
                    }
                    header = Some(*h);
                }
                StreamContent::Data(ProposalPart::Body(b)) => {
                    if header.is_none() || fin.is_some() {
                        return malformed("body out of place");
                    }
                    body.extend_from_slice(&b);
                }
                StreamContent::Data(ProposalPart::Fin(f)) => {
                    if header.is_none() || fin.is_some() {
                        return malformed("fin out of place");
                    }
                    fin = Some(f);
                }
                StreamContent::Fin => {}
            }
        }
        let (Some(init), Some(header), Some(fin)) = (init, header, fin) else {
            return malformed("missing init, header or fin");
        };
        if fin.body_len != body.len() as u64 {
            return malformed("body length differs from fin");
        }
        let hash: [u8; 32] = Sha256::digest(&body).into();
        if hash != fin.body_hash {
            return malformed("body hash differs from fin");
        }
        Ok(ReceivedProposal {
            init,
            header,
            body: Bytes::from(body),
        })
    }
}

/// A well-formed `k = 1` header at `height` (unit tests).
#[cfg(test)]
pub(crate) fn test_header(height: u64) -> BlockHeader {
    use da_types::header_v2::{data_root, ConsensusHeader};

    let commitments = vec![[0xc0; 48], [0xc0; 48]];
    BlockHeader {
        header: ConsensusHeader {
            chain: [1; 32],
            height,
            parent: [2; 32],
            timestamp_ms: 1,
            proposer: 0,
            validators_hash: [3; 32],
            next_validators_hash: [3; 32],
            data_root: data_root(1, 0, &commitments),
            tuple_root: [0; 32],
        },
        k: 1,
        blob_count: 0,
        commitments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> BlockHeader {
        test_header(5)
    }

    fn init(round: u32) -> PartInit {
        PartInit {
            height: Height(5),
            round: Round::new(round),
            pol_round: Round::Nil,
            proposer: Address([1; 20]),
        }
    }

    fn peer_id(seed: u8) -> PeerId {
        let key = malachitebft_app_channel::app::types::Keypair::ed25519_from_bytes([seed; 32])
            .expect("key");
        PeerId::from_bytes(&key.public().to_peer_id().to_bytes()).expect("peer id")
    }

    fn body(len: usize) -> Bytes {
        Bytes::from((0..len).map(|i| (i * 7) as u8).collect::<Vec<_>>())
    }

    #[test]
    fn a_stream_in_any_order_assembles_once_complete() {
        let b = body(2 * BODY_CHUNK + 123);
        let mut msgs = split(init(0), header(), &b);
        assert_eq!(
            msgs.len(),
            2 + 3 + 1 + 1,
            "init, header, 3 chunks, fin, end"
        );
        msgs.reverse();
        let peer = peer_id(1);
        let mut streams = Streams::new(StreamLimits::default());
        let last = msgs.pop().expect("a message");
        for m in msgs {
            assert_eq!(streams.insert(peer, m).expect("accepted"), None);
        }
        let got = streams
            .insert(peer, last)
            .expect("accepted")
            .expect("complete");
        assert_eq!(got.body, b);
        assert_eq!(got.header, header());
        assert_eq!(got.init, init(0));
        assert_eq!(streams.open_streams(), 0);
    }

    #[test]
    fn a_duplicate_part_is_harmless_but_a_conflicting_one_drops_the_stream() {
        let b = body(10);
        let msgs = split(init(0), header(), &b);
        let peer = peer_id(1);
        let mut streams = Streams::new(StreamLimits::default());
        streams.insert(peer, msgs[0].clone()).expect("init");
        streams
            .insert(peer, msgs[0].clone())
            .expect("same init again");
        let mut other = msgs[2].clone();
        other.content = StreamContent::Data(ProposalPart::Body(Bytes::from_static(b"x")));
        streams.insert(peer, msgs[2].clone()).expect("body");
        assert!(matches!(
            streams.insert(peer, other),
            Err(StreamError::Conflict(2))
        ));
        assert_eq!(streams.open_streams(), 0);
    }

    #[test]
    fn a_body_that_differs_from_fin_or_overflows_is_refused() {
        let b = body(100);
        let mut msgs = split(init(0), header(), &b);
        // Tamper with the body chunk: hash mismatch at assembly.
        msgs[2].content = StreamContent::Data(ProposalPart::Body(body(99).slice(..)));
        let peer = peer_id(1);
        let mut streams = Streams::new(StreamLimits::default());
        let mut result = Ok(None);
        for m in msgs {
            result = streams.insert(peer, m);
        }
        assert!(
            matches!(result, Err(StreamError::Malformed(_))),
            "{result:?}"
        );

        let limits = StreamLimits {
            streams_per_peer: 8,
            max_body: 1000,
        };
        let mut streams = Streams::new(limits);
        let msgs = split(init(0), header(), &body(5000));
        let mut err = None;
        for m in msgs {
            if let Err(e) = streams.insert(peer, m) {
                err = Some(e);
                break;
            }
        }
        assert_eq!(err, Some(StreamError::TooLarge("body")));
        // A sequence number beyond any valid stream.
        let mut far = split(init(1), header(), &body(1)).remove(0);
        far.sequence = 1_000_000;
        assert_eq!(
            streams.insert(peer, far),
            Err(StreamError::TooLarge("sequence"))
        );
    }

    #[test]
    fn a_peer_keeps_a_bounded_number_of_open_streams() {
        let peer = peer_id(1);
        let limits = StreamLimits {
            streams_per_peer: 3,
            max_body: 1 << 20,
        };
        let mut streams = Streams::new(limits);
        for round in 0..10 {
            let first = split(init(round), header(), &body(10)).remove(0);
            streams.insert(peer, first).expect("accepted");
        }
        assert_eq!(streams.open_streams(), 3);
        // Another peer has its own allowance.
        let other = peer_id(2);
        let first = split(init(0), header(), &body(10)).remove(0);
        streams.insert(other, first).expect("accepted");
        assert_eq!(streams.open_streams(), 4);
        streams.prune_below(6);
        assert_eq!(streams.open_streams(), 0);
    }
}

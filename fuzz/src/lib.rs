//! Fuzz targets: one function per family of decoders that read bytes a peer, a client or a
//! file controls. Each takes arbitrary bytes, must never panic, and checks what a correct
//! decoder guarantees: whatever decodes re-encodes to the same bytes where the encoding is
//! canonical (headers, certificates, consensus messages, commitments, bodies), and converts back
//! to an equal value where it is not (protobuf, which tolerates unknown fields and any field
//! order). A target's first byte picks the decoder inside its family, so one corpus serves each.
//!
//! The targets run three ways: over the committed seed corpus (`fuzz/corpus/<target>/`) plus a
//! fixed number of seeded mutations per seed in `cargo test` (`tests/corpus.rs`, every CI run);
//! coverage-guided under AFL++ (`fuzz/run.sh`, the `da-fuzz-afl` binary, feature `afl`); and
//! by hand through [`run`]. Findings and figures are in `fuzz/README.md`.

use axum::http::Method;
use bytes::Bytes;
use da_consensus::{
    codec::{decode_commit, decode_synced, encode_commit, encode_synced, WireCodec},
    context::{DaContext, HeaderValue},
    parts::ProposalPart,
};
use da_kzg::{BlobProof, NamespaceProof, ProvenCell};
use da_network::{codec::Limits, protocol};
use da_proto::v1 as pb;
use da_types::{
    body::{decode_body, encode_body},
    convert,
    header_v2::{BlockHeader, ConsensusHeader},
    layout::{decode_index, decode_index_count},
    Certificate, CertifiedHeader, IndexEntry, SignerBitmap,
};
use futures::io::Cursor;
use malachitebft_app_channel::app::{
    consensus::{LivenessMsg, SignedConsensusMsg},
    streaming::StreamMessage,
    types::{
        core::{PolkaCertificate, ValidatorProof},
        sync::{Request, Response, Status},
        ProposedValue,
    },
};
use malachitebft_codec::Codec;
use posting_adapter::{http::Route, Commitment, Manifest};
use prost::Message;

/// A fuzz target: arbitrary bytes in, a panic on a broken invariant.
pub type Target = fn(&[u8]);

/// Every target by name, in the order `fuzz/run.sh` runs them.
pub const TARGETS: &[(&str, Target)] = &[
    ("p2p_request", p2p_request),
    ("p2p_response", p2p_response),
    ("gossip", gossip),
    ("header", header),
    ("proto", proto),
    ("index", index),
    ("body", body),
    ("consensus", consensus),
    ("commitment", commitment),
    ("http_route", http_route),
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Runs `name` on `data` (the entry point of the AFL harness).
pub fn run(name: &str, data: &[u8]) -> bool {
    match target(name) {
        Some(t) => {
            t(data);
            true
        }
        None => false,
    }
}

/// The selector byte and the rest.
fn split(data: &[u8]) -> Option<(u8, &[u8])> {
    data.split_first().map(|(s, rest)| (*s, rest))
}

/// Reads one framed message the way the p2p codec reads it off a stream, within `max` bytes.
fn framed<M: Message + Default>(bytes: &[u8], max: usize) -> Option<M> {
    futures::executor::block_on(da_network::codec::read_message::<M, _>(
        &mut Cursor::new(bytes),
        max,
    ))
    .ok()
}

/// A decoded protobuf message re-encodes to bytes that decode to an equal message.
fn proto_round_trip<M: Message + Default + PartialEq + std::fmt::Debug>(m: &M) {
    let again = M::decode(m.encode_to_vec().as_slice()).expect("a re-encoded message decodes");
    assert_eq!(&again, m, "protobuf round trip changed the message");
}

/// A certified header decoded from bytes re-encodes to exactly those bytes (its id and the
/// certificate's message are computed from them, so two encodings of one header would be two
/// headers).
fn certified(bytes: &[u8]) {
    if let Ok(h) = CertifiedHeader::from_bytes(bytes) {
        assert_eq!(
            h.to_bytes(),
            bytes,
            "certified header encoding not canonical"
        );
        let pb = pb::Header::from(&h);
        let back = CertifiedHeader::try_from(&pb).expect("own message converts");
        assert_eq!(back, h);
    }
}

fn sample(s: &pb::Sample) {
    if let Ok(cell) = ProvenCell::try_from(s) {
        let back = ProvenCell::try_from(&pb::Sample::from(&cell)).expect("own sample converts");
        assert_eq!(back, cell);
    }
}

fn namespace_proof(p: &pb::NamespaceProof) {
    if let Ok(proof) = NamespaceProof::try_from(p) {
        let back = NamespaceProof::try_from(&pb::NamespaceProof::from(&proof))
            .expect("own namespace proof converts");
        assert_eq!(back, proof);
    }
}

fn blob_proof(p: &pb::BlobProof) {
    if let Ok(proof) = BlobProof::try_from(p) {
        let back = BlobProof::try_from(&proof.to_pb(p.height)).expect("own blob proof converts");
        assert_eq!(back, proof);
    }
}

fn namespace_field(b: &[u8]) {
    if let Ok(ns) = convert::namespace(b) {
        assert_eq!(
            ns.as_bytes(),
            b,
            "a namespace converts from exactly its bytes"
        );
    }
}

/// A p2p request frame (length prefix and protobuf) of one of the five protocols, read within
/// that protocol's request bound, then the fields a server converts.
pub fn p2p_request(data: &[u8]) {
    let Some((sel, bytes)) = split(data) else {
        return;
    };
    match sel % 5 {
        0 => {
            if let Some(m) = framed::<pb::SampleRequest>(bytes, protocol::SAMPLE_LIMITS.request) {
                proto_round_trip(&m);
            }
        }
        1 => {
            if let Some(m) =
                framed::<pb::HeaderRangeRequest>(bytes, protocol::HEADER_LIMITS.request)
            {
                proto_round_trip(&m);
            }
        }
        2 => {
            if let Some(m) = framed::<pb::RowRequest>(bytes, protocol::ROW_LIMITS.request) {
                proto_round_trip(&m);
            }
        }
        3 => {
            if let Some(m) =
                framed::<pb::NamespaceRequest>(bytes, protocol::NAMESPACE_LIMITS.request)
            {
                proto_round_trip(&m);
                namespace_field(&m.namespace);
            }
        }
        _ => {
            if let Some(m) = framed::<pb::BlobsRequest>(bytes, protocol::BLOB_LIMITS.request) {
                proto_round_trip(&m);
                for id in &m.ids {
                    let _ = convert::blob_id(id);
                }
            }
        }
    }
}

/// A p2p response frame of one of the five protocols within its response bound, then every
/// conversion a client makes of it: samples and rows to proven cells, headers to certified
/// headers, namespace proofs, pooled blobs (namespace and id).
pub fn p2p_response(data: &[u8]) {
    let Some((sel, bytes)) = split(data) else {
        return;
    };
    let limit = |l: Limits| l.response;
    match sel % 5 {
        0 => {
            if let Some(m) = framed::<pb::SampleResponse>(bytes, limit(protocol::SAMPLE_LIMITS)) {
                proto_round_trip(&m);
                m.samples.iter().for_each(sample);
            }
        }
        1 => {
            if let Some(m) =
                framed::<pb::HeaderRangeResponse>(bytes, limit(protocol::HEADER_LIMITS))
            {
                proto_round_trip(&m);
                m.headers.iter().for_each(|h| certified(h));
            }
        }
        2 => {
            if let Some(m) = framed::<pb::RowResponse>(bytes, limit(protocol::ROW_LIMITS)) {
                proto_round_trip(&m);
                m.cells.iter().for_each(sample);
            }
        }
        3 => {
            if let Some(m) =
                framed::<pb::NamespaceResponse>(bytes, limit(protocol::NAMESPACE_LIMITS))
            {
                proto_round_trip(&m);
                if let Some(p) = &m.proof {
                    namespace_proof(p);
                }
            }
        }
        _ => {
            if let Some(m) = framed::<pb::BlobsResponse>(bytes, limit(protocol::BLOB_LIMITS)) {
                proto_round_trip(&m);
                for b in &m.blobs {
                    namespace_field(&b.namespace);
                }
            }
        }
    }
}

/// Gossip payloads: a blob-id announcement, or a certified header (the header topic carries
/// its canonical bytes).
pub fn gossip(data: &[u8]) {
    let Some((sel, bytes)) = split(data) else {
        return;
    };
    if sel % 2 == 0 {
        if let Some(ids) = protocol::decode_blob_announce(bytes) {
            assert!(ids.len() <= protocol::MAX_BLOB_IDS_PER_MESSAGE);
            let again = pb::BlobAnnounce {
                ids: ids.iter().map(|i| i.to_vec()).collect(),
            }
            .encode_to_vec();
            assert_eq!(protocol::decode_blob_announce(&again), Some(ids));
        }
    } else {
        certified(bytes);
    }
}

/// Header and certificate encodings (`specs/05-header.md`): certified header, block header,
/// consensus header, certificate, signer bitmap; each canonical.
pub fn header(data: &[u8]) {
    let Some((sel, bytes)) = split(data) else {
        return;
    };
    match sel % 5 {
        0 => certified(bytes),
        1 => {
            if let Ok(h) = BlockHeader::from_bytes(bytes) {
                assert_eq!(h.to_bytes(), bytes, "block header encoding not canonical");
            }
        }
        2 => {
            if let Ok(h) = ConsensusHeader::decode(bytes) {
                assert_eq!(&h.encode()[..], bytes, "consensus header not canonical");
            }
        }
        3 => {
            if let Ok(c) = Certificate::decode(bytes) {
                assert_eq!(c.encode(), bytes, "certificate encoding not canonical");
            }
        }
        _ => {
            if let Ok(b) = SignerBitmap::decode(bytes) {
                assert_eq!(b.encode(), bytes, "signer bitmap encoding not canonical");
            }
        }
    }
}

/// gRPC and shared `da.v1` messages (no length prefix) and their domain conversions: header,
/// sample, blob proof, namespace proof, and the namespace and id fields of a read request.
pub fn proto(data: &[u8]) {
    let Some((sel, bytes)) = split(data) else {
        return;
    };
    match sel % 5 {
        0 => {
            if let Ok(m) = pb::Header::decode(bytes) {
                if let Ok(h) = CertifiedHeader::try_from(&m) {
                    assert_eq!(h.to_bytes(), m.certified);
                }
            }
        }
        1 => {
            if let Ok(m) = pb::Sample::decode(bytes) {
                sample(&m);
            }
        }
        2 => {
            if let Ok(m) = pb::BlobProof::decode(bytes) {
                blob_proof(&m);
            }
        }
        3 => {
            if let Ok(m) = pb::NamespaceProof::decode(bytes) {
                namespace_proof(&m);
            }
        }
        _ => {
            if let Ok(m) = pb::GetBlobRequest::decode(bytes) {
                namespace_field(&m.namespace);
                let _ = convert::blob_id(&m.blob_id);
            }
        }
    }
}

/// The square's index (`specs/01-data-model.md`) as a light client reads it out of a peer's
/// index cells: the first byte picks `k`.
pub fn index(data: &[u8]) {
    let Some((sel, bytes)) = split(data) else {
        return;
    };
    let k = 1usize << (sel % 10);
    let _ = decode_index_count(bytes);
    if let Ok(entries) = decode_index(bytes, k) {
        for e in entries {
            let mut out = Vec::new();
            e.encode(&mut out);
            assert_eq!(IndexEntry::decode(&out).expect("own entry decodes"), e);
        }
    }
}

/// A block body (what a proposal streams and value sync carries): canonical.
pub fn body(data: &[u8]) {
    if let Ok(blobs) = decode_body(data) {
        assert_eq!(
            encode_body(&blobs),
            data,
            "block body encoding not canonical"
        );
    }
}

/// Decodes with the consensus codec and checks the encoding is canonical.
fn wire<T>(bytes: &[u8])
where
    WireCodec: Codec<T>,
{
    if let Ok(v) = Codec::<T>::decode(&WireCodec, Bytes::copy_from_slice(bytes)) {
        let again = Codec::<T>::encode(&WireCodec, &v).expect("a decoded message encodes");
        assert_eq!(&again[..], bytes, "consensus encoding not canonical");
    }
}

/// Consensus wire and WAL messages (`specs/11-consensus.md` §Wire): every type the engine
/// decodes from peers or its WAL, the stored commit certificate and value sync's block.
pub fn consensus(data: &[u8]) {
    let Some((sel, bytes)) = split(data) else {
        return;
    };
    match sel % 13 {
        0 => wire::<HeaderValue>(bytes),
        1 => wire::<ProposalPart>(bytes),
        2 => wire::<SignedConsensusMsg<DaContext>>(bytes),
        3 => wire::<StreamMessage<ProposalPart>>(bytes),
        4 => wire::<PolkaCertificate<DaContext>>(bytes),
        5 => wire::<ProposedValue<DaContext>>(bytes),
        6 => wire::<Response<DaContext>>(bytes),
        7 => wire::<LivenessMsg<DaContext>>(bytes),
        8 => wire::<ValidatorProof<DaContext>>(bytes),
        9 => wire::<Status<DaContext>>(bytes),
        10 => wire::<Request<DaContext>>(bytes),
        11 => {
            if let Ok(c) = decode_commit(bytes) {
                assert_eq!(&encode_commit(&c)[..], bytes, "commit not canonical");
            }
        }
        _ => {
            if let Ok((h, body)) = decode_synced(bytes) {
                assert_eq!(&encode_synced(&h, &body)[..], bytes, "synced not canonical");
            }
        }
    }
}

/// Alt-DA commitments (raw and hex, `specs/08-posting-adapter.md`) and manifests.
pub fn commitment(data: &[u8]) {
    let Some((sel, bytes)) = split(data) else {
        return;
    };
    match sel % 3 {
        0 => {
            if let Ok(c) = Commitment::decode(bytes) {
                assert_eq!(c.encode(), bytes, "commitment not canonical");
                assert_eq!(Commitment::from_hex(&c.to_hex()).ok(), Some(c));
            }
        }
        1 => {
            let text = String::from_utf8_lossy(bytes);
            if let Ok(c) = Commitment::from_hex(&text) {
                assert_eq!(Commitment::from_hex(&c.to_hex()).ok(), Some(c));
            }
        }
        _ => {
            if let Ok(m) = Manifest::decode(bytes) {
                assert_eq!(m.encode(), bytes, "manifest not canonical");
            }
        }
    }
}

/// The posting adapter's request routing: any method, any path. A routed commitment routes
/// again from its own hex.
pub fn http_route(data: &[u8]) {
    let Some((sel, bytes)) = split(data) else {
        return;
    };
    let method = match sel % 6 {
        0 => Method::GET,
        1 => Method::POST,
        2 => Method::PUT,
        3 => Method::DELETE,
        4 => Method::HEAD,
        _ => Method::OPTIONS,
    };
    let path = String::from_utf8_lossy(bytes);
    let route = Route::parse(&method, &path);
    let _ = route.op();
    if let Route::Get(c) = route {
        let again = Route::parse(&Method::GET, &format!("/get/{}", c.to_hex()));
        assert!(matches!(again, Route::Get(d) if d == c));
    }
}

//! Headers and certificates built by hand, valid or not, for tests that check who accepts what:
//! a block header of any height on any chain and set, precommit signatures, and certificates
//! assembled without the checks `Certificate::aggregate` makes (so a forged one can be built).

use da_types::{
    data_root, vote_sign_bytes, BlockHeader, BlsSecretKey, BlsSignature, Certificate,
    CertifiedHeader, ConsensusHeader, SignerBitmap, Trust, ValidatorSet, VoteKind,
};

/// A `k = 1` block header at `height` on `chain` (a chain hash) naming `set`, with stand-in
/// commitments (the G1 identity, a valid extension) and the right `data_root`.
pub fn block_header(
    chain: [u8; 32],
    set: &ValidatorSet,
    height: u64,
    parent: [u8; 32],
    timestamp_ms: u64,
) -> BlockHeader {
    let mut identity = [0u8; 48];
    identity[0] = 0xc0;
    let commitments = vec![identity; 2];
    BlockHeader {
        header: ConsensusHeader {
            chain,
            height,
            parent: if height == 1 { [0; 32] } else { parent },
            timestamp_ms,
            proposer: set.proposer(height, 0) as u32,
            validators_hash: set.hash(),
            next_validators_hash: set.hash(),
            data_root: data_root(1, 0, &commitments),
            tuple_root: [0; 32],
        },
        k: 1,
        blob_count: 0,
        commitments,
    }
}

/// [`block_header`] on `trust`'s chain and set.
pub fn block_header_for(trust: &Trust, height: u64, timestamp_ms: u64) -> BlockHeader {
    block_header(trust.chain(), trust.set(), height, [1; 32], timestamp_ms)
}

/// `key`'s precommit for `header_id` at `(height, round 0)` on `chain`.
pub fn precommit(
    key: &BlsSecretKey,
    chain: &[u8; 32],
    height: u64,
    header_id: &[u8; 32],
) -> BlsSignature {
    key.sign(&vote_sign_bytes(
        VoteKind::Precommit,
        chain,
        height,
        0,
        Some(header_id),
    ))
}

/// A round-0 certificate for `header_id` at `height` claiming the signers `bits` of a set of
/// `n` validators, with the aggregate of `signatures`, unchecked (it may well not verify).
pub fn certificate(
    n: u16,
    height: u64,
    header_id: [u8; 32],
    bits: &[usize],
    signatures: &[BlsSignature],
) -> Certificate {
    let mut signers = SignerBitmap::new(n);
    for &b in bits {
        signers.set(b).expect("a bit inside the bitmap");
    }
    Certificate {
        height,
        round: 0,
        header_id,
        signers,
        signature: BlsSignature::aggregate(signatures).expect("at least one signature"),
    }
}

/// `block` certified by `keys` (each must be in `set`): a valid certificate when their power
/// is more than 2/3 of the set's.
pub fn certify(
    block: BlockHeader,
    chain: &[u8; 32],
    set: &ValidatorSet,
    keys: &[&BlsSecretKey],
) -> CertifiedHeader {
    let (height, id) = (block.header.height, block.id());
    let bits: Vec<usize> = keys
        .iter()
        .map(|k| {
            set.index_of(&k.public_key())
                .expect("a validator of the set")
        })
        .collect();
    let sigs: Vec<BlsSignature> = keys
        .iter()
        .map(|k| precommit(k, chain, height, &id))
        .collect();
    let n = u16::try_from(set.len()).expect("at most 65535 validators");
    CertifiedHeader {
        certificate: certificate(n, height, id, &bits, &sigs),
        block,
    }
}

/// Runs a serving peer that answers every header range request with `headers` (forged ones,
/// or none) and every other request with an empty answer: the lying or empty peer of the
/// sync and light-client tests. It runs until `events` closes.
pub fn serve_only_headers(
    mut events: tokio::sync::mpsc::Receiver<da_network::NetworkEvent>,
    headers: Vec<Vec<u8>>,
) -> tokio::task::JoinHandle<()> {
    use da_network::{NetworkEvent, Request, Response};
    use da_proto::v1 as pb;
    tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            if let NetworkEvent::Inbound(r) = ev {
                let resp = match r.request {
                    Request::Headers(_) => Response::Headers(pb::HeaderRangeResponse {
                        headers: headers.clone(),
                    }),
                    Request::Row(_) => Response::Row(pb::RowResponse::default()),
                    Request::Samples(_) => Response::Samples(pb::SampleResponse::default()),
                    Request::Namespace(_) => Response::Namespace(pb::NamespaceResponse::default()),
                    Request::Blobs(_) => Response::Blobs(pb::BlobsResponse::default()),
                };
                let _ = r.respond.send(resp);
            }
        }
    })
}

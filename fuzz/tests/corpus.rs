//! Every fuzz target over the committed seed corpus, then over a fixed number of seeded
//! mutations of each corpus file (bit flips, interesting values, cuts, inserts, splices, length
//! prefix tweaks): the bounded run every CI does. The seeds are built here from real
//! encodings; `DA_FUZZ_WRITE_SEEDS=1 cargo test -p da-fuzz --test corpus` rewrites them after a
//! format change, and the test fails while the committed ones are stale.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use bytes::Bytes;
use da_consensus::{
    codec::{encode_commit, encode_synced, WireCodec},
    context::{Address, DaContext, HeaderId, HeaderValue, Height, Proposal, Sig, Vote},
    parts::{PartFin, PartInit, ProposalPart},
};
use da_proto::v1 as pb;
use da_testkit::forge;
use da_types::{
    body::encode_body, chain_hash, Blob, BlsSecretKey, Namespace, SquareLayout, Validator,
    ValidatorSet,
};
use malachitebft_app_channel::app::{
    consensus::{LivenessMsg, SignedConsensusMsg},
    streaming::{StreamContent, StreamId, StreamMessage},
    types::{
        core::{
            ExtendedCommitCertificate, ExtendedCommitSignature, NilOrVal, PolkaCertificate,
            PolkaSignature, Round, SignedMessage, VoteType,
        },
        sync::{RawDecidedValue, Request, Response},
    },
};
use malachitebft_codec::Codec;
use malachitebft_sync::{ValueRequest, ValueResponse};
use posting_adapter::{Commitment, Manifest};
use prost::Message;

/// Mutations run per corpus file and target in `cargo test`.
const MUTATIONS_PER_FILE: usize = 300;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// A length-prefixed p2p frame, as the codec writes it.
fn frame(m: &impl Message) -> Vec<u8> {
    let body = m.encode_to_vec();
    let mut out = da_network::codec::length_prefix(body.len());
    out.extend_from_slice(&body);
    out
}

fn with(sel: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![sel];
    out.extend_from_slice(bytes);
    out
}

fn ns(tag: &[u8]) -> Namespace {
    Namespace::new_v0(tag).expect("a version-0 namespace")
}

fn sample(row: u32, col: u32, fill: u8) -> pb::Sample {
    pb::Sample {
        row,
        col,
        cell: vec![fill; 2048],
        proof: {
            let mut p = vec![0u8; 48];
            p[0] = 0xc0;
            p
        },
    }
}

fn wire<T>(v: &T) -> Vec<u8>
where
    WireCodec: Codec<T>,
{
    Codec::<T>::encode(&WireCodec, v)
        .unwrap_or_else(|_| panic!("encodes"))
        .to_vec()
}

/// The seed corpus: target → (file name, bytes), each a valid input of one decoder.
fn seeds() -> BTreeMap<&'static str, Vec<(&'static str, Vec<u8>)>> {
    let keys: Vec<BlsSecretKey> = (1..=4u8)
        .map(|i| BlsSecretKey::from_ikm(&[i; 32]))
        .collect();
    let set = ValidatorSet::new(
        keys.iter()
            .map(|k| Validator {
                public_key: k.public_key(),
                power: 10,
            })
            .collect(),
    )
    .expect("set");
    let chain = chain_hash("fuzz-seeds");
    let block = forge::block_header(chain, &set, 7, [1; 32], 1_700_000_000_000);
    let refs: Vec<&BlsSecretKey> = keys.iter().take(3).collect();
    let certified = forge::certify(block.clone(), &chain, &set, &refs);
    let cert_bytes = certified.to_bytes();
    let ns_a = ns(b"rollup-a");
    let blobs = vec![
        Blob::new(ns_a, b"first batch".to_vec()).expect("blob"),
        Blob::new(ns(b"rollup-b"), vec![7; 3000]).expect("blob"),
    ];
    let id = blobs[0].id();

    let mut s: BTreeMap<&'static str, Vec<(&'static str, Vec<u8>)>> = BTreeMap::new();
    s.insert(
        "p2p_request",
        vec![
            (
                "sample",
                with(
                    0,
                    &frame(&pb::SampleRequest {
                        height: 7,
                        cells: vec![
                            pb::P2pCell { row: 0, col: 0 },
                            pb::P2pCell { row: 3, col: 127 },
                        ],
                    }),
                ),
            ),
            (
                "headers",
                with(1, &frame(&pb::HeaderRangeRequest { from: 1, count: 64 })),
            ),
            (
                "row",
                with(2, &frame(&pb::RowRequest { height: 7, row: 1 })),
            ),
            (
                "namespace",
                with(
                    3,
                    &frame(&pb::NamespaceRequest {
                        height: 7,
                        namespace: ns_a.as_bytes().to_vec(),
                    }),
                ),
            ),
            (
                "blobs",
                with(
                    4,
                    &frame(&pb::BlobsRequest {
                        ids: vec![id.0.to_vec(), blobs[1].id().0.to_vec()],
                    }),
                ),
            ),
        ],
    );
    s.insert(
        "p2p_response",
        vec![
            (
                "samples",
                with(
                    0,
                    &frame(&pb::SampleResponse {
                        samples: vec![sample(0, 0, 1), sample(1, 64, 2)],
                        has_height: true,
                    }),
                ),
            ),
            (
                "headers",
                with(
                    1,
                    &frame(&pb::HeaderRangeResponse {
                        headers: vec![cert_bytes.clone()],
                    }),
                ),
            ),
            (
                "row",
                with(
                    2,
                    &frame(&pb::RowResponse {
                        cells: vec![sample(2, 0, 3)],
                    }),
                ),
            ),
            (
                "namespace",
                with(
                    3,
                    &frame(&pb::NamespaceResponse {
                        has_height: true,
                        proof: Some(pb::NamespaceProof {
                            index_cells: vec![sample(0, 0, 4)],
                            blob_cells: vec![sample(0, 1, 5)],
                        }),
                    }),
                ),
            ),
            (
                "blobs",
                with(
                    4,
                    &frame(&pb::BlobsResponse {
                        blobs: vec![pb::PooledBlob {
                            namespace: ns_a.as_bytes().to_vec(),
                            data: b"first batch".to_vec(),
                        }],
                    }),
                ),
            ),
        ],
    );
    s.insert(
        "gossip",
        vec![
            (
                "announce",
                with(
                    0,
                    &pb::BlobAnnounce {
                        ids: vec![id.0.to_vec()],
                    }
                    .encode_to_vec(),
                ),
            ),
            ("header", with(1, &cert_bytes)),
        ],
    );
    s.insert(
        "header",
        vec![
            ("certified", with(0, &cert_bytes)),
            ("block", with(1, &block.to_bytes())),
            ("consensus", with(2, &block.header.encode())),
            ("certificate", with(3, &certified.certificate.encode())),
            ("bitmap", with(4, &certified.certificate.signers.encode())),
        ],
    );
    let header_pb = pb::Header::from(&certified);
    s.insert(
        "proto",
        vec![
            ("header", with(0, &header_pb.encode_to_vec())),
            ("sample", with(1, &sample(0, 3, 9).encode_to_vec())),
            (
                "blob_proof",
                with(
                    2,
                    &pb::BlobProof {
                        entry: 0,
                        index_cells: vec![sample(0, 0, 1)],
                        blob_cells: vec![sample(0, 1, 2)],
                        height: 7,
                    }
                    .encode_to_vec(),
                ),
            ),
            (
                "namespace_proof",
                with(
                    3,
                    &pb::NamespaceProof {
                        index_cells: vec![sample(0, 0, 1)],
                        blob_cells: vec![],
                    }
                    .encode_to_vec(),
                ),
            ),
            (
                "get_blob",
                with(
                    4,
                    &pb::GetBlobRequest {
                        namespace: ns_a.as_bytes().to_vec(),
                        blob_id: id.0.to_vec(),
                        ..Default::default()
                    }
                    .encode_to_vec(),
                ),
            ),
        ],
    );
    let square = SquareLayout::build(&blobs).expect("square");
    let mut index = (square.index().len() as u32).to_be_bytes().to_vec();
    for e in square.index() {
        e.encode(&mut index);
    }
    s.insert(
        "index",
        vec![("two_blobs", with(square.k().trailing_zeros() as u8, &index))],
    );
    s.insert("body", vec![("two_blobs", encode_body(&blobs))]);

    let sig = |i: usize| Sig(keys[i].sign(b"seed"));
    let hid = HeaderId(block.id());
    let vote = Vote {
        kind: VoteType::Precommit,
        height: Height(7),
        round: Round::new(1),
        value: NilOrVal::Val(hid),
        validator: Address([9; 20]),
        extension: None,
    };
    let cert = ExtendedCommitCertificate {
        height: Height(7),
        round: Round::new(0),
        value_id: hid,
        commit_signatures: vec![ExtendedCommitSignature::new(Address([1; 20]), sig(0), None)],
    };
    let polka = PolkaCertificate {
        height: Height(7),
        round: Round::new(1),
        value_id: hid,
        polka_signatures: vec![PolkaSignature {
            address: Address([1; 20]),
            signature: sig(1),
        }],
    };
    let value = HeaderValue(block.header);
    s.insert(
        "consensus",
        vec![
            ("value", with(0, &wire(&value))),
            (
                "part_init",
                with(
                    1,
                    &wire(&ProposalPart::Init(PartInit {
                        height: Height(7),
                        round: Round::new(0),
                        pol_round: Round::Nil,
                        proposer: Address([4; 20]),
                    })),
                ),
            ),
            (
                "part_header",
                with(1, &wire(&ProposalPart::Header(Box::new(block.clone())))),
            ),
            (
                "part_fin",
                with(
                    1,
                    &wire(&ProposalPart::Fin(PartFin {
                        body_len: 10,
                        body_hash: [8; 32],
                    })),
                ),
            ),
            (
                "vote",
                with(
                    2,
                    &wire(&SignedConsensusMsg::<DaContext>::Vote(SignedMessage::new(
                        vote.clone(),
                        sig(2),
                    ))),
                ),
            ),
            (
                "proposal",
                with(
                    2,
                    &wire(&SignedConsensusMsg::<DaContext>::Proposal(
                        SignedMessage::new(
                            Proposal {
                                height: Height(7),
                                round: Round::new(0),
                                value: value.clone(),
                                pol_round: Round::Nil,
                                proposer: Address([4; 20]),
                            },
                            sig(3),
                        ),
                    )),
                ),
            ),
            (
                "stream",
                with(
                    3,
                    &wire(&StreamMessage::new(
                        StreamId::new(Bytes::from_static(b"stream")),
                        3,
                        StreamContent::Data(ProposalPart::Body(Bytes::from(encode_body(&blobs)))),
                    )),
                ),
            ),
            ("polka", with(4, &wire(&polka))),
            (
                "response",
                with(
                    6,
                    &wire(&Response::<DaContext>::ValueResponse(ValueResponse::new(
                        Height(7),
                        vec![RawDecidedValue::new(
                            encode_synced(&block, &encode_body(&blobs)),
                            cert.clone(),
                        )],
                    ))),
                ),
            ),
            (
                "liveness",
                with(
                    7,
                    &wire(&LivenessMsg::<DaContext>::Vote(SignedMessage::new(
                        vote,
                        sig(0),
                    ))),
                ),
            ),
            (
                "request",
                with(
                    10,
                    &wire(&Request::<DaContext>::ValueRequest(ValueRequest::new(
                        Height(3)..=Height(9),
                    ))),
                ),
            ),
            ("commit", with(11, &encode_commit(&cert))),
            (
                "synced",
                with(12, &encode_synced(&block, &encode_body(&blobs))),
            ),
        ],
    );
    let generic = Commitment::Blob { height: 7, id };
    let manifest = Manifest {
        total_len: 3011,
        parts: vec![(7, id), (8, blobs[1].id())],
    };
    s.insert(
        "commitment",
        vec![
            ("generic", with(0, &generic.encode())),
            ("generic_hex", with(1, generic.to_hex().as_bytes())),
            (
                "keccak_hex",
                with(1, Commitment::Keccak([0xab; 32]).to_hex().as_bytes()),
            ),
            ("manifest", with(2, &manifest.encode())),
        ],
    );
    s.insert(
        "http_route",
        vec![
            ("put", with(1, b"//put/")),
            (
                "get",
                with(0, format!("/get/{}", generic.to_hex()).as_bytes()),
            ),
            (
                "put_keccak",
                with(
                    1,
                    format!("/put/{}", Commitment::Keccak([0xab; 32]).to_hex()).as_bytes(),
                ),
            ),
            ("health", with(0, b"/health")),
        ],
    );
    s
}

/// xorshift64*: a fixed, dependency-free stream of mutation choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation of `input` (never of its selector byte alone: the selector is mutated like
/// any byte, which moves the input to a sibling decoder too).
fn mutate(input: &[u8], other: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = input.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = b.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                b[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                b[i] = [0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x40][rng.below(7)];
            }
            2 if len > 0 => {
                // A big-endian u32 or u64 at a random place set to an extreme (lengths, counts).
                let i = rng.below(len);
                let v: [u8; 8] = [u64::MAX, u64::from(u32::MAX), 0, 1 << 31, (len as u64) * 2]
                    [rng.below(5)]
                .to_be_bytes();
                let w = if rng.below(2) == 0 { 4 } else { 8 };
                for (j, byte) in v[8 - w..].iter().enumerate() {
                    if let Some(slot) = b.get_mut(i + j) {
                        *slot = *byte;
                    }
                }
            }
            3 if len > 1 => b.truncate(rng.below(len)),
            4 if len > 1 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(64)).min(len);
                b.drain(start..end);
            }
            5 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(32);
                let fill: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                b.splice(at..at, fill);
            }
            6 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(256)).min(len);
                let chunk = b[start..end].to_vec();
                let at = rng.below(len + 1);
                b.splice(at..at, chunk);
            }
            7 if !other.is_empty() => {
                let cut = rng.below(len + 1);
                let from = rng.below(other.len());
                b.truncate(cut);
                b.extend_from_slice(&other[from..]);
            }
            8 if len > 1 => {
                // The frame's length prefix (after the selector) set to a varint of any size.
                let n = [0usize, 1, len, len * 4, 1 << 20, 1 << 31][rng.below(6)];
                b.splice(1..2, da_network::codec::length_prefix(n));
            }
            _ => {}
        }
    }
    b
}

fn read_corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir().join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus of {target} at {}: {e}", dir.display()))
        .map(|e| {
            let e = e.expect("dir entry");
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).expect("read seed"))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn committed_seeds_are_current_and_every_target_has_some() {
    let write = std::env::var_os("DA_FUZZ_WRITE_SEEDS").is_some();
    let seeds = seeds();
    for (target, _) in da_fuzz::TARGETS {
        let list = seeds
            .get(target)
            .unwrap_or_else(|| panic!("no seeds built for {target}"));
        assert!(!list.is_empty());
        for (name, bytes) in list {
            let path = corpus_dir().join(target).join(name);
            if write {
                std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
                std::fs::write(&path, bytes).expect("write seed");
            } else {
                let committed = std::fs::read(&path).unwrap_or_else(|e| {
                    panic!(
                        "{}: {e}; run DA_FUZZ_WRITE_SEEDS=1 cargo test -p da-fuzz --test corpus",
                        path.display()
                    )
                });
                assert!(
                    committed == *bytes,
                    "{} is stale (an encoding changed); run DA_FUZZ_WRITE_SEEDS=1 cargo test -p da-fuzz --test corpus",
                    path.display()
                );
            }
        }
    }
    assert_eq!(
        seeds.len(),
        da_fuzz::TARGETS.len(),
        "seeds for unknown targets"
    );
}

#[test]
fn seeds_decode_where_they_should() {
    // The seeds are valid inputs: a few direct checks that they reach the decoders' success
    // paths (a seed that fails at its first byte would fuzz nothing).
    let seeds = seeds();
    let get = |t: &str, n: &str| {
        seeds[t]
            .iter()
            .find(|(name, _)| *name == n)
            .map(|(_, b)| b.clone())
            .expect("seed")
    };
    assert!(da_types::CertifiedHeader::from_bytes(&get("header", "certified")[1..]).is_ok());
    assert!(da_types::body::decode_body(&get("body", "two_blobs")).is_ok());
    let idx = get("index", "two_blobs");
    assert_eq!(
        da_types::layout::decode_index(&idx[1..], 1 << idx[0])
            .expect("index")
            .len(),
        2
    );
    assert!(Commitment::decode(&get("commitment", "generic")[1..]).is_ok());
    assert!(Manifest::decode(&get("commitment", "manifest")[1..]).is_ok());
    assert!(da_consensus::codec::decode_commit(&get("consensus", "commit")[1..]).is_ok());
    assert!(da_network::protocol::decode_blob_announce(&get("gossip", "announce")[1..]).is_some());
}

#[test]
fn every_target_survives_its_corpus_and_seeded_mutations() {
    let mut total = 0usize;
    for (target, run) in da_fuzz::TARGETS {
        let corpus = read_corpus(target);
        assert!(!corpus.is_empty(), "empty corpus for {target}");
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ target.len() as u64);
        for (i, (_, input)) in corpus.iter().enumerate() {
            run(input);
            let other = &corpus[(i + 1) % corpus.len()].1;
            for _ in 0..MUTATIONS_PER_FILE {
                let m = mutate(input, other, &mut rng);
                run(&m);
                total += 1;
            }
        }
        // Degenerate inputs.
        run(&[]);
        for sel in 0..=255u8 {
            run(&[sel]);
        }
    }
    eprintln!(
        "fuzz corpus run: {total} mutated inputs over {} targets",
        da_fuzz::TARGETS.len()
    );
}

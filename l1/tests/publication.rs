//! A rollup's proof of publication, end to end in revm: a real square of three blobs, its header
//! ending an attested window, and for bytes of one blob (first, in a later row, last) the proof
//! chain blob byte → its cell and field element → row commitment (EIP-4844 point evaluation) →
//! `data_root` → tuple → the `tuple_root` the contract stored; then the same for elements named
//! by blob id, the square's index entry opened on chain too. The Rust verifier and the contract
//! agree, and a changed value, element, row proof, nonce, blob id, entry or opening fails both.

use std::collections::BTreeMap;

use da_attest::{
    evm::{validator_keys, CommitHeader},
    publication::{
        blob_element_rows, element_of_byte, evaluation_point, index_elements, open_element,
        prove_blob_element, prove_field_element, square_element, BlobElementProof, ElementOpening,
        FieldElementProof, PublicationError, Window,
    },
};
use da_kzg::{KzgProver, ProverConfig};
use da_l1::L1;
use da_types::{
    attestation::tuple_root,
    data_root,
    header_v2::{data_root_proof, params_leaf},
    merkle, vote_sign_bytes, Blob, BlockHeader, BlsSecretKey, Certificate, ConsensusHeader,
    MerkleProof, Namespace, OriginalSquare, SquareLayout, Validator, ValidatorSet, VoteKind,
};

fn blob(ns: u8, len: usize, seed: u8) -> Blob {
    let data = (0..len).map(|j| (seed as usize + j) as u8).collect();
    Blob::new(Namespace::new_v0(&[ns; 4]).expect("namespace"), data).expect("blob")
}

/// A square of three blobs as height 4, the end of window 1 (length 4), committed on a fresh L1.
struct Fixture {
    blobs: Vec<Blob>,
    square: OriginalSquare,
    kzg: KzgProver,
    /// The last (parity) row's bytes, as an EIP-4844 blob.
    last_row: Vec<u8>,
    commitments: Vec<[u8; 48]>,
    roots: Vec<[u8; 32]>,
    block: BlockHeader,
    l1: L1,
    oracle: da_l1::OracleAddress,
    stored: [u8; 32],
}

impl Fixture {
    fn window(&self) -> Window<'_> {
        Window {
            nonce: 1,
            first_height: 1,
            data_roots: &self.roots,
        }
    }

    fn rows(&self, rows: &[u32]) -> BTreeMap<u32, Vec<u8>> {
        rows.iter()
            .map(|&r| (r, self.square.row(r as usize).to_vec()))
            .collect()
    }
}

fn fixture() -> Fixture {
    let blobs = vec![blob(1, 5_000, 1), blob(2, 150_000, 2), blob(3, 40, 3)];
    let square = SquareLayout::build(&blobs).expect("layout");
    let kzg = KzgProver::new(ProverConfig::DEFAULT);
    let committed = kzg.commit_square(&square).expect("commit");
    let commitments: Vec<[u8; 48]> = committed.commitments().iter().map(|c| c.0).collect();
    let k = square.k() as u16;
    let blob_count = square.index().len() as u32;

    // A set of four; window 4 ends at height 4, whose block is this square.
    let keys: Vec<BlsSecretKey> = (1..=4u8)
        .map(|i| BlsSecretKey::from_ikm(&[i; 32]))
        .collect();
    let set = ValidatorSet::new(
        keys.iter()
            .map(|k| Validator {
                public_key: k.public_key(),
                power: 1,
            })
            .collect(),
    )
    .expect("set");
    let chain = da_types::chain_hash("publication");
    let mut roots: Vec<[u8; 32]> = (1..=3u8).map(|i| [i; 32]).collect();
    roots.push(data_root(k, blob_count, &commitments));
    let header = ConsensusHeader {
        chain,
        height: 4,
        parent: [9; 32],
        timestamp_ms: 1,
        proposer: 3,
        validators_hash: set.hash(),
        next_validators_hash: set.hash(),
        data_root: roots[3],
        tuple_root: tuple_root(1, &roots),
    };
    let block = BlockHeader {
        header,
        k,
        blob_count,
        commitments: commitments.clone(),
    };
    block.check().expect("a valid block header");
    let id = header.id();
    let msg = vote_sign_bytes(VoteKind::Precommit, &chain, 4, 0, Some(&id));
    let precommits: Vec<_> = (0..4)
        .map(|i| {
            let pk = set.get(i).expect("i").public_key;
            let key = keys.iter().find(|k| k.public_key() == pk).expect("key");
            (i, key.sign(&msg))
        })
        .collect();
    let cert = Certificate::aggregate(&set, &chain, 4, 0, &id, &precommits).expect("cert");

    let mut l1 = L1::new();
    let oracle = l1
        .deploy_oracle(chain, 4, &validator_keys(&set))
        .expect("deploy")
        .value;
    l1.commit_header(oracle, &CommitHeader::new(&header, &cert))
        .expect("commit");
    let stored = l1.tuple_root(oracle, 1).expect("root");
    assert_eq!(stored, header.tuple_root);
    let last_row = committed.row_blob(2 * usize::from(k) - 1);
    Fixture {
        blobs,
        square,
        kzg,
        last_row,
        commitments,
        roots,
        block,
        l1,
        oracle,
        stored,
    }
}

#[test]
fn one_field_element_of_a_blob_is_proven_published_on_l1() {
    let Fixture {
        blobs,
        square,
        kzg,
        last_row,
        commitments,
        roots,
        block,
        mut l1,
        oracle,
        stored,
    } = fixture();
    let (k, blob_count) = (block.k, block.blob_count);
    let entry = *square
        .index()
        .iter()
        .find(|e| e.blob_id == blobs[1].id())
        .expect("the blob is in the index");
    let data = blobs[1].data();
    let mut proofs: Vec<FieldElementProof> = Vec::new();
    for offset in [0u64, 1984 * 70 + 5, data.len() as u64 - 1] {
        let (row, position) = element_of_byte(entry.first_cell, offset);
        let window = Window {
            nonce: 1,
            first_height: 1,
            data_roots: &roots,
        };
        let p = prove_field_element(
            &kzg,
            &window,
            &block,
            row,
            square.row(row as usize),
            position,
        )
        .expect("prove");
        // The opened element holds the blob's byte.
        assert_eq!(p.opening.value[0], 0, "a canonical element");
        assert_eq!(
            p.opening.value[1 + (offset % 31) as usize],
            data[offset as usize],
            "byte {offset}"
        );
        assert_eq!(p.opening.row(), u64::from(row));
        assert!(p.verify(&stored, 4), "Rust verifier, byte {offset}");
        let r = l1.verify_field_element(oracle, &p).expect("call");
        assert!(r.value, "contract, byte {offset}");
        println!(
            "verifyFieldElement, byte {offset} (row {row}, element {position}): gas {} execution {} calldata {}",
            r.gas,
            r.execution_gas(),
            r.calldata_len
        );
        proofs.push(p);
    }
    assert_ne!(
        proofs[0].opening.row(),
        proofs[1].opening.row(),
        "the bytes span two rows"
    );

    let p = &proofs[1];
    let mut cases: Vec<(&str, FieldElementProof)> = Vec::new();
    let mut v = p.clone();
    v.opening.value[31] ^= 1;
    cases.push(("another value", v));
    let mut v = p.clone();
    v.opening.position += 1;
    cases.push(("another element", v));
    let mut v = p.clone();
    v.opening.row_proof = data_root_proof(k, blob_count, &commitments, 0).expect("row 0");
    cases.push(("the proof of another row", v));
    let mut v = p.clone();
    v.opening.commitment = commitments[0];
    cases.push(("another row's commitment", v));
    // The last row's commitment also verifies as key 1 of a two-leaf tree whose other leaf is
    // the root of the first 2k leaves: the RFC 6962 proof does not bind its key unless the
    // tree's size is bound, which the params leaf does. Without it the parity row, opened for
    // real, would pass for row 0.
    let last = 2 * usize::from(k) - 1;
    let params = params_leaf(k, blob_count);
    let mut leaves: Vec<&[u8]> = vec![&params[..]];
    leaves.extend(commitments.iter().map(|c| &c[..]));
    let short = MerkleProof {
        index: 1,
        total: 2,
        siblings: vec![merkle::root(&leaves[..last + 1])],
    };
    assert!(
        short.verify(&block.header.data_root, &commitments[last]),
        "the ambiguity this guards against"
    );
    let z = evaluation_point(0);
    let (kzg_proof, value) = kzg.compute_kzg_proof(&last_row, &z).expect("open");
    let mut v = p.clone();
    v.opening = ElementOpening {
        commitment: commitments[last],
        row_proof: short,
        position: 0,
        value,
        kzg_proof: kzg_proof.0,
    };
    assert!(
        da_kzg::pure::verify_point_opening(
            &da_kzg::Commitment(commitments[last]),
            &z,
            &value,
            &kzg_proof
        )
        .expect("verify"),
        "a real opening of the parity row"
    );
    cases.push(("the last parity row passed off as row 0", v));
    let mut v = p.clone();
    v.params.k *= 2;
    cases.push(("another k", v));
    let mut v = p.clone();
    v.params.blob_count += 1;
    cases.push(("another blob count", v));
    let mut v = p.clone();
    v.nonce = 2;
    cases.push(("a nonce never attested", v));
    let mut v = p.clone();
    v.tuple.data_root = roots[0];
    cases.push(("another height's data root", v));
    for (why, bad) in cases {
        assert!(!bad.verify(&stored, 4), "Rust verifier accepted {why}");
        let r = l1.verify_field_element(oracle, &bad).expect("call");
        assert!(!r.value, "contract accepted {why}");
    }
}

#[test]
fn an_element_named_by_its_blob_id_is_proven_published_on_l1() {
    let mut f = fixture();
    let (oracle, stored) = (f.oracle, f.stored);
    let index = f.square.index().to_vec();
    // Entry 0 shares element 0 with the count; entries 1 and 2 do not. Elements: the first, one
    // in a later row and the last of each blob.
    let mut proven: Vec<BlobElementProof> = Vec::new();
    for (entry, e) in index.iter().enumerate() {
        let entry = entry as u32;
        let data = f
            .blobs
            .iter()
            .find(|b| b.id() == e.blob_id)
            .expect("blob")
            .data()
            .to_vec();
        let elements = (data.len() as u32).div_ceil(31);
        let mut picks = vec![0, elements - 1];
        if elements > 64 * 70 {
            picks.push(64 * 70 + 3);
        }
        for element in picks {
            let rows = blob_element_rows(entry, e.first_cell, element);
            let p = prove_blob_element(
                &f.kzg,
                &f.window(),
                &f.block,
                entry,
                e.first_cell,
                element,
                &f.rows(&rows),
            )
            .expect("prove");
            assert_eq!(p.blob_id, e.blob_id.0);
            let payload = p.payload().expect("an element");
            for (j, b) in payload.iter().enumerate() {
                let q = 31 * element as usize + j;
                assert_eq!(
                    *b,
                    data.get(q).copied().unwrap_or(0),
                    "entry {entry} byte {q}"
                );
            }
            assert!(
                p.verify(&stored, 4),
                "Rust verifier, entry {entry} element {element}"
            );
            let r = f.l1.verify_blob_element(oracle, &p).expect("call");
            assert!(r.value, "contract, entry {entry} element {element}");
            println!(
                "verifyBlobElement, entry {entry} element {element} ({} openings, rows {rows:?}): \
                 gas {} execution {} calldata {}",
                p.openings.len(),
                r.gas,
                r.execution_gas(),
                r.calldata_len
            );
            proven.push(p);
        }
    }
    assert_eq!(
        index_elements(0),
        vec![0, 1, 2],
        "entry 0 starts in element 0"
    );
    assert_eq!(index_elements(1), vec![0, 2, 3, 4]);

    // Past the blob's end: the prover refuses, and a proof built by hand fails both verifiers.
    let last = index.len() as u32 - 1;
    let e = index[last as usize];
    let past = e.len.div_ceil(31);
    let rows = blob_element_rows(last, e.first_cell, past);
    match prove_blob_element(
        &f.kzg,
        &f.window(),
        &f.block,
        last,
        e.first_cell,
        past,
        &f.rows(&rows),
    ) {
        Err(PublicationError::NotInBlob { .. }) => {}
        other => panic!("an element past the blob's end: {other:?}"),
    }
    let by_hand = |f: &Fixture, entry: u32, places: Vec<u64>, element: u32, id: [u8; 32]| {
        let openings = places
            .into_iter()
            .map(|n| {
                let (row, position) = square_element(n);
                open_element(
                    &f.kzg,
                    &f.block,
                    row as u32,
                    f.square.row(row as usize),
                    position as u32,
                )
                .expect("open")
            })
            .collect();
        let (tuple, tuple_proof) = (proven[0].tuple, proven[0].tuple_proof.clone());
        BlobElementProof {
            nonce: 1,
            tuple,
            tuple_proof,
            params: proven[0].params.clone(),
            blob_id: id,
            entry,
            element,
            openings,
        }
    };
    let mut places = index_elements(last);
    places.push(64 * u64::from(e.first_cell) + u64::from(past));
    let past_end = by_hand(&f, last, places, past, e.blob_id.0);

    // An entry past the index's count: its bytes are the zeros after the index.
    let mut places = index_elements(last + 1);
    places.push(0);
    let past_count = by_hand(&f, last + 1, places, 0, [0; 32]);

    let p = proven[2].clone(); // entry 1 (count element apart), its first element
    assert_eq!(p.entry, 1);
    let mut cases: Vec<(&str, BlobElementProof)> = vec![
        ("an element past the blob's end", past_end),
        ("an entry past the count", past_count),
    ];
    let mut v = p.clone();
    v.blob_id[0] ^= 1;
    cases.push(("another blob id", v));
    let mut v = p.clone();
    v.entry = 0;
    cases.push(("another entry", v));
    let mut v = p.clone();
    v.element += 1;
    cases.push(("another element", v));
    let mut v = p.clone();
    v.openings.last_mut().expect("data").value[31] ^= 1;
    cases.push(("another value", v));
    let mut v = p.clone();
    v.openings[1].value[20] ^= 1;
    cases.push(("a changed index element", v));
    let mut v = p.clone();
    v.openings.swap(1, 2);
    cases.push(("index openings out of order", v));
    let mut v = p.clone();
    v.openings.remove(0);
    cases.push(("no count opening", v));
    let mut v = p.clone();
    let other = proven
        .last()
        .expect("entry 2")
        .openings
        .last()
        .expect("data")
        .clone();
    *v.openings.last_mut().expect("data") = other;
    cases.push(("another blob's element", v));
    let mut v = p.clone();
    v.params.blob_count += 1;
    cases.push(("another blob count", v));
    let mut v = p.clone();
    v.nonce = 2;
    cases.push(("a nonce never attested", v));
    let mut v = p;
    v.tuple.data_root = f.roots[0];
    cases.push(("another height's data root", v));
    for (why, bad) in cases {
        assert!(!bad.verify(&stored, 4), "Rust verifier accepted {why}");
        let r = f.l1.verify_blob_element(oracle, &bad).expect("call");
        assert!(!r.value, "contract accepted {why}");
    }
}

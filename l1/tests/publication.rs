//! A rollup's proof of publication, end to end in revm: a real square of three blobs, its header
//! ending an attested window, and for bytes of one blob (first, in a later row, last) the proof
//! chain blob byte → its cell and field element → row commitment (EIP-4844 point evaluation) →
//! `data_root` → tuple → the `tuple_root` the contract stored. The Rust verifier and the
//! contract agree, and a changed value, element, row proof or nonce fails both.

use da_attest::{
    evm::{validator_keys, CommitHeader},
    publication::{element_of_byte, prove_field_element, FieldElementProof, Window},
};
use da_kzg::{KzgProver, ProverConfig};
use da_l1::L1;
use da_types::{
    attestation::tuple_root, data_root, header_v2::data_root_proof, vote_sign_bytes, Blob,
    BlockHeader, BlsSecretKey, Certificate, ConsensusHeader, Namespace, SquareLayout, Validator,
    ValidatorSet, VoteKind,
};

fn blob(ns: u8, len: usize, seed: u8) -> Blob {
    let data = (0..len).map(|j| (seed as usize + j) as u8).collect();
    Blob::new(Namespace::new_v0(&[ns; 4]).expect("namespace"), data).expect("blob")
}

#[test]
fn one_field_element_of_a_blob_is_proven_published_on_l1() {
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
        assert_eq!(p.value[0], 0, "a canonical element");
        assert_eq!(
            p.value[1 + (offset % 31) as usize],
            data[offset as usize],
            "byte {offset}"
        );
        assert_eq!(p.row(), u64::from(row));
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
    assert_ne!(proofs[0].row(), proofs[1].row(), "the bytes span two rows");

    let p = &proofs[1];
    let mut cases: Vec<(&str, FieldElementProof)> = Vec::new();
    let mut v = p.clone();
    v.value[31] ^= 1;
    cases.push(("another value", v));
    let mut v = p.clone();
    v.position += 1;
    cases.push(("another element", v));
    let mut v = p.clone();
    v.row_proof = data_root_proof(k, blob_count, &commitments, 0).expect("row 0");
    cases.push(("the proof of another row", v));
    let mut v = p.clone();
    v.commitment = commitments[0];
    cases.push(("another row's commitment", v));
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

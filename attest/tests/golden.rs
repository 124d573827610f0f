//! `specs/vectors/attestation.json`: a fresh oracle, a sequence of `commitHeader` calls each
//! with the nonce it returns or the error it refuses with, then `verifyAttestation` queries with
//! their answers, and hash-to-G2 points. The Rust state machine is checked here; `da-l1`'s
//! `golden` test runs the Solidity contract on the same file.
//!
//! Regenerate: `DA_WRITE_VECTORS=1 cargo test -p da-attest --test golden -- --ignored`.

use std::path::PathBuf;

#[path = "common/vectors.rs"]
mod vectors;

use da_attest::{
    evm::{g1, validator_keys, CommitHeader, ValidatorKey},
    Oracle,
};
use da_types::{
    attestation::{tuple_proof, tuple_root},
    vote_sign_bytes, BlsSecretKey, Certificate, ConsensusHeader, MerkleProof, Validator,
    ValidatorSet, VoteKind,
};
use serde_json::{json, Value};

const CHAIN_ID: &str = "attest-golden";
const WINDOW: u64 = 4;

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(vectors::FILE)
}

struct Fixture {
    keys: Vec<BlsSecretKey>,
    set: ValidatorSet,
    chain: [u8; 32],
}

impl Fixture {
    fn new() -> Self {
        let keys: Vec<BlsSecretKey> = (0..4u8)
            .map(|i| {
                let label = format!("attestation/validator/{i}");
                BlsSecretKey::from_ikm(blake3::hash(label.as_bytes()).as_bytes())
            })
            .collect();
        let set = ValidatorSet::new(
            keys.iter()
                .zip([10u64, 20, 30, 40])
                .map(|(k, power)| Validator {
                    public_key: k.public_key(),
                    power,
                })
                .collect(),
        )
        .expect("set");
        Self {
            keys,
            set,
            chain: da_types::chain_hash(CHAIN_ID),
        }
    }

    fn roots(&self, nonce: u64) -> Vec<[u8; 32]> {
        (0..WINDOW)
            .map(|i| {
                let label = format!("attestation/data_root/{}", (nonce - 1) * WINDOW + i + 1);
                *blake3::hash(label.as_bytes()).as_bytes()
            })
            .collect()
    }

    fn header(&self, height: u64) -> ConsensusHeader {
        let nonce = height.div_ceil(WINDOW);
        let roots = self.roots(nonce);
        let end = height % WINDOW == 0;
        ConsensusHeader {
            chain: self.chain,
            height,
            parent: [0x11; 32],
            timestamp_ms: 1_700_000_000_000 + height,
            proposer: (height % 4) as u32,
            validators_hash: self.set.hash(),
            next_validators_hash: self.set.hash(),
            data_root: roots[((height - 1) % WINDOW) as usize],
            tuple_root: if end {
                tuple_root((nonce - 1) * WINDOW + 1, &roots)
            } else {
                [0; 32]
            },
        }
    }

    /// Signatures of the validators at canonical `indices` over the precommit of `header` in
    /// `round`, aggregated (no quorum required).
    fn certify(&self, header: &ConsensusHeader, round: u32, indices: &[usize]) -> Certificate {
        let id = header.id();
        let msg = vote_sign_bytes(
            VoteKind::Precommit,
            &header.chain,
            header.height,
            round,
            Some(&id),
        );
        let precommits: Vec<_> = indices
            .iter()
            .map(|&i| {
                let pk = self.set.get(i).expect("index").public_key;
                let key = self
                    .keys
                    .iter()
                    .find(|k| k.public_key() == pk)
                    .expect("key");
                (i, key.sign(&msg))
            })
            .collect();
        Certificate::aggregate(
            &self.set,
            &header.chain,
            header.height,
            round,
            &id,
            &precommits,
        )
        .expect("aggregate")
    }

    fn args(&self, header: &ConsensusHeader, round: u32, indices: &[usize]) -> CommitHeader {
        CommitHeader::new(header, &self.certify(header, round, indices))
    }
}

fn commit_json(why: &str, args: &CommitHeader, expect: Value) -> Value {
    json!({
        "why": why,
        "header": hex::encode(&args.header),
        "round": args.round,
        "signers": hex::encode(&args.signers),
        "signature": hex::encode(&args.signature),
        "expect": expect,
    })
}

fn proof_json(p: &MerkleProof) -> Value {
    json!({
        "side_nodes": p.siblings.iter().map(hex::encode).collect::<Vec<_>>(),
        "key": p.index,
        "num_leaves": p.total,
    })
}

fn build() -> Value {
    let f = Fixture::new();
    let h4 = f.header(4);
    let good = f.args(&h4, 1, &[1, 2, 3]);
    let mut commits = Vec::new();
    let mut short = good.clone();
    short.header.pop();
    commits.push(commit_json(
        "header of 212 bytes",
        &short,
        json!({"error": "BadHeader"}),
    ));
    let other = ConsensusHeader {
        chain: da_types::chain_hash("another-chain"),
        ..h4
    };
    commits.push(commit_json(
        "a header of another chain, validly signed",
        &f.args(&other, 1, &[1, 2, 3]),
        json!({"error": "WrongChain"}),
    ));
    commits.push(commit_json(
        "height 3 ends no window of 4",
        &f.args(&f.header(3), 0, &[0, 1, 2, 3]),
        json!({"error": "NotWindowEnd"}),
    ));
    let next = ConsensusHeader {
        next_validators_hash: [0x55; 32],
        ..h4
    };
    commits.push(commit_json(
        "a header announcing another next validator set, validly signed",
        &f.args(&next, 1, &[1, 2, 3]),
        json!({"error": "WrongValidatorSet"}),
    ));
    let mut long = good.clone();
    long.signers.push(0);
    commits.push(commit_json(
        "a bitmap of 2 bytes for 4 validators",
        &long,
        json!({"error": "BadBitmap"}),
    ));
    let mut beyond = good.clone();
    beyond.signers[0] |= 0x20;
    commits.push(commit_json(
        "bit 5 set in a bitmap of 4 validators",
        &beyond,
        json!({"error": "BadBitmap"}),
    ));
    commits.push(commit_json(
        "validators 2 and 3 (power 30 + 40 = 70 of 100) sign: not more than 2/3",
        &f.args(&h4, 1, &[2, 3]),
        json!({"error": "InsufficientPower"}),
    ));
    let mut forged = f.args(&h4, 1, &[0, 2, 3]);
    forged.signers[0] |= 0x02;
    commits.push(commit_json(
        "forged bitmap: claims validator 1 whose signature is not in the aggregate",
        &forged,
        json!({"error": "BadSignature"}),
    ));
    let mut round = good.clone();
    round.round = 2;
    commits.push(commit_json(
        "signed in round 1, presented as round 2",
        &round,
        json!({"error": "BadSignature"}),
    ));
    let other_header = ConsensusHeader {
        tuple_root: [0x77; 32],
        ..h4
    };
    let mut swapped = good.clone();
    swapped.header = other_header.encode().to_vec();
    commits.push(commit_json(
        "the certificate of height 4 under a header with another tuple_root",
        &swapped,
        json!({"error": "BadSignature"}),
    ));
    commits.push(commit_json(
        "height 4 certified by validators 1, 2, 3 (90 of 100) in round 1",
        &good,
        json!({"nonce": 1}),
    ));
    commits.push(commit_json(
        "height 4 again, by all four",
        &f.args(&h4, 0, &[0, 1, 2, 3]),
        json!({"error": "AlreadyCommitted"}),
    ));
    commits.push(commit_json(
        "height 12 (window 3) certified by all four in round 0, window 2 skipped",
        &f.args(&f.header(12), 0, &[0, 1, 2, 3]),
        json!({"nonce": 3}),
    ));
    commits.push(commit_json(
        "height 8 (window 2) committed after window 3",
        &f.args(&f.header(8), 0, &[0, 1, 2]),
        json!({"nonce": 2}),
    ));

    let mut attestations = Vec::new();
    let r1 = f.roots(1);
    let r2 = f.roots(2);
    for h in 1..=4u64 {
        let p = tuple_proof(1, &r1, h).expect("proof");
        attestations.push(json!({
            "why": format!("height {h} in window 1"),
            "nonce": 1, "height": h, "data_root": hex::encode(r1[h as usize - 1]),
            "proof": proof_json(&p), "valid": true,
        }));
    }
    let p6 = tuple_proof(5, &r2, 6).expect("proof");
    attestations.push(json!({
        "why": "height 6 in window 2",
        "nonce": 2, "height": 6, "data_root": hex::encode(r2[1]),
        "proof": proof_json(&p6), "valid": true,
    }));
    let p2 = tuple_proof(1, &r1, 2).expect("proof");
    attestations.push(json!({
        "why": "wrong tuple: height 2 with height 3's data_root",
        "nonce": 1, "height": 2, "data_root": hex::encode(r1[2]),
        "proof": proof_json(&p2), "valid": false,
    }));
    attestations.push(json!({
        "why": "wrong nonce: window 1's tuple and proof under nonce 2",
        "nonce": 2, "height": 2, "data_root": hex::encode(r1[1]),
        "proof": proof_json(&p2), "valid": false,
    }));
    attestations.push(json!({
        "why": "a nonce never committed",
        "nonce": 4, "height": 2, "data_root": hex::encode(r1[1]),
        "proof": proof_json(&p2), "valid": false,
    }));
    attestations.push(json!({
        "why": "a proof for another window: height 6 and its window-2 proof under nonce 1",
        "nonce": 1, "height": 6, "data_root": hex::encode(r2[1]),
        "proof": proof_json(&p6), "valid": false,
    }));
    let mut lying = p2.clone();
    lying.total = 5;
    attestations.push(json!({
        "why": "numLeaves 5 in a window of 4",
        "nonce": 1, "height": 2, "data_root": hex::encode(r1[1]),
        "proof": proof_json(&lying), "valid": false,
    }));
    let mut moved = p2;
    moved.index = 0;
    attestations.push(json!({
        "why": "key 0 for height 2 (key 1)",
        "nonce": 1, "height": 2, "data_root": hex::encode(r1[1]),
        "proof": proof_json(&moved), "valid": false,
    }));

    let windows: Vec<Value> = [1u64, 2]
        .iter()
        .map(|&n| {
            json!({
                "nonce": n,
                "first_height": (n - 1) * WINDOW + 1,
                "data_roots": f.roots(n).iter().map(hex::encode).collect::<Vec<_>>(),
                "tuple_root": hex::encode(tuple_root((n - 1) * WINDOW + 1, &f.roots(n))),
            })
        })
        .collect();
    let keys_json = |keys: &[ValidatorKey]| {
        keys.iter()
            .map(|v| json!({"key": hex::encode(v.key), "power": v.power}))
            .collect::<Vec<_>>()
    };
    let good_keys = validator_keys(&f.set);
    let mut off_curve = good_keys.clone();
    off_curve[1].key[127] ^= 1;
    let mut padded = good_keys.clone();
    padded[3].key[0] = 1;
    let mut zero = good_keys.clone();
    zero[2].power = 0;
    let deployments = vec![
        json!({"why": "the genesis set", "validators": keys_json(&good_keys), "expect": {"ok": true}}),
        json!({"why": "validator 1's y changed: off the curve", "validators": keys_json(&off_curve), "expect": {"error": "BadKey"}}),
        json!({"why": "validator 3's x padding byte set", "validators": keys_json(&padded), "expect": {"error": "BadKey"}}),
        json!({"why": "validator 2 of power 0", "validators": keys_json(&zero), "expect": {"error": "BadValidatorSet"}}),
        json!({"why": "no validators", "validators": [], "expect": {"error": "BadValidatorSet"}}),
    ];
    json!({
        "description": "DAOracle golden vectors (specs/12-attestation.md): each of `deployments` deploys (chain, window, validators) or reverts with `expect.error`; on the first (the genesis set, whose hash is `validators_hash`) apply `commits` in order (each returns `expect.nonce` or reverts with `expect.error`), then answer `attestations`. Keys: EIP-2537 G1 points (x ‖ y, 64 bytes each); signatures: EIP-2537 G2 points (x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1); signers: the bitmap bytes, bit i of byte i/8 least significant first.",
        "chain_id": CHAIN_ID,
        "chain": hex::encode(f.chain),
        "window": WINDOW,
        "validators": f.set.validators().iter().map(|v| json!({
            "public_key": hex::encode(v.public_key.to_bytes()),
            "key": hex::encode(g1(&v.public_key)),
            "power": v.power,
        })).collect::<Vec<_>>(),
        "validators_hash": hex::encode(f.set.hash()),
        "deployments": deployments,
        "windows": windows,
        "commits": commits,
        "attestations": attestations,
    })
}

#[test]
fn the_rust_oracle_gives_every_answer_of_the_file() {
    let text = std::fs::read_to_string(path()).expect("specs/vectors/attestation.json");
    let v: Value = serde_json::from_str(&text).expect("json");
    assert!(v == build(), "the file is not what the generator writes");
    let vectors = vectors::parse(&v);
    for d in &vectors.deployments {
        let result = Oracle::new(vectors.chain, vectors.window, &d.validators)
            .map(|_| ())
            .map_err(|e| e.contract_error().to_string());
        assert_eq!(result, d.expect, "{}", d.why);
    }
    let mut oracle = Oracle::new(
        vectors.chain,
        vectors.window,
        &vectors.deployments[0].validators,
    )
    .expect("the genesis set");
    assert_eq!(oracle.validators_hash(), vectors.validators_hash);
    assert!(!vectors.tuple_roots.is_empty());
    for c in &vectors.commits {
        let result = oracle
            .commit_header(&c.args)
            .map_err(|e| e.contract_error().to_string());
        assert_eq!(result, c.expect, "{}", c.why);
    }
    for (nonce, root) in &vectors.tuple_roots {
        assert_eq!(oracle.tuple_root(*nonce), Some(*root), "window {nonce}");
    }
    for a in &vectors.attestations {
        assert_eq!(
            oracle.verify_attestation(a.nonce, &a.tuple, &a.proof),
            a.valid,
            "{}",
            a.why
        );
    }
}

#[test]
#[ignore = "writes specs/vectors/attestation.json; run with DA_WRITE_VECTORS=1"]
fn write_vectors() {
    let text = serde_json::to_string_pretty(&build()).expect("json") + "\n";
    if std::env::var("DA_WRITE_VECTORS").as_deref() == Ok("1") {
        std::fs::write(path(), text).expect("write");
    } else {
        let stored = std::fs::read_to_string(path()).expect("read");
        assert_eq!(stored, text, "the generator would change the file");
    }
}

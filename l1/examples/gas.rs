//! Gas of the attestation contract, exact (revm under Prague rules, receipt gas): `commitHeader`
//! for 4, 16 and 100 validators (all signing, and just over 2/3 signing) and the one-time
//! deployment; `verifyAttestation` for windows of 64 and 1 024. Prints a Markdown table for `benches/RESULTS.md`.
//!
//! `cargo run --release -p da-l1 --example gas`

use da_attest::evm::{validator_keys, CommitHeader};
use da_l1::{OracleAddress, Receipt, L1};
use da_types::{
    attestation::{tuple_proof, tuple_root},
    vote_sign_bytes, BlsSecretKey, Certificate, ConsensusHeader, DataRootTuple, Validator,
    ValidatorSet, VoteKind,
};

struct Chain {
    keys: Vec<BlsSecretKey>,
    set: ValidatorSet,
    chain: [u8; 32],
    window: u64,
}

impl Chain {
    fn new(n: usize, window: u64) -> Self {
        let keys: Vec<BlsSecretKey> = (0..n)
            .map(|i| {
                let mut ikm = [0u8; 32];
                ikm[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
                BlsSecretKey::from_ikm(&ikm)
            })
            .collect();
        let set = ValidatorSet::new(
            keys.iter()
                .map(|k| Validator {
                    public_key: k.public_key(),
                    power: 100,
                })
                .collect(),
        )
        .expect("set");
        Self {
            keys,
            set,
            chain: da_types::chain_hash("gas"),
            window,
        }
    }

    fn roots(&self, nonce: u64) -> Vec<[u8; 32]> {
        (0..self.window)
            .map(|i| {
                let mut r = [0u8; 32];
                r[..8].copy_from_slice(&((nonce - 1) * self.window + i + 1).to_be_bytes());
                r[31] = 0xda;
                r
            })
            .collect()
    }

    /// The commit of window `nonce` signed by the first `signers` validators.
    fn commit(&self, nonce: u64, signers: usize) -> CommitHeader {
        let height = nonce * self.window;
        let roots = self.roots(nonce);
        let header = ConsensusHeader {
            chain: self.chain,
            height,
            parent: [0x11; 32],
            timestamp_ms: 1_700_000_000_000 + height,
            proposer: 0,
            validators_hash: self.set.hash(),
            next_validators_hash: self.set.hash(),
            data_root: roots[roots.len() - 1],
            tuple_root: tuple_root(height + 1 - self.window, &roots),
        };
        let id = header.id();
        let msg = vote_sign_bytes(VoteKind::Precommit, &self.chain, height, 0, Some(&id));
        let precommits: Vec<_> = (0..signers)
            .map(|i| {
                let pk = self.set.get(i).expect("index").public_key;
                let key = self
                    .keys
                    .iter()
                    .find(|k| k.public_key() == pk)
                    .expect("key");
                (i, key.sign(&msg))
            })
            .collect();
        let cert = Certificate::aggregate(&self.set, &self.chain, height, 0, &id, &precommits)
            .expect("aggregate");
        CommitHeader::new(&header, &cert)
    }

    fn deploy(&self, l1: &mut L1) -> Receipt<OracleAddress> {
        l1.deploy_oracle(self.chain, self.window, &validator_keys(&self.set))
            .expect("deploy")
    }
}

fn row<T>(what: &str, r: &Receipt<T>) {
    println!(
        "| {what} | {} | {} | {} |",
        r.gas,
        r.execution_gas(),
        r.calldata_len
    );
}

fn main() {
    println!(
        "| call | receipt gas | execution gas (receipt − 21 000 − calldata) | calldata bytes |"
    );
    println!("| --- | ---: | ---: | ---: |");
    for n in [4usize, 16, 100] {
        let quorum = 2 * n / 3 + 1;
        for signers in [n, quorum] {
            if signers == quorum && quorum == n {
                continue;
            }
            let chain = Chain::new(n, 64);
            let mut l1 = L1::new();
            let deployed = chain.deploy(&mut l1);
            if signers == n {
                row(&format!("deployment, {n} validators (once)"), &deployed);
            }
            let oracle = deployed.value;
            let first = l1
                .commit_header(oracle, &chain.commit(1, signers))
                .expect("first");
            let second = l1
                .commit_header(oracle, &chain.commit(2, signers))
                .expect("second");
            assert_eq!((first.value, second.value), (1, 2));
            row(
                &format!("commitHeader, {n} validators, {signers} sign (window 1)"),
                &first,
            );
            row(
                &format!("commitHeader, {n} validators, {signers} sign (window 2)"),
                &second,
            );
        }
    }
    for window in [64u64, 1024] {
        let chain = Chain::new(4, window);
        let mut l1 = L1::new();
        let oracle = chain.deploy(&mut l1).value;
        l1.commit_header(oracle, &chain.commit(1, 4))
            .expect("commit");
        let roots = chain.roots(1);
        let height = window / 2 + 1;
        let tuple = DataRootTuple {
            height,
            data_root: roots[(height - 1) as usize],
        };
        let proof = tuple_proof(1, &roots, height).expect("proof");
        let r = l1
            .verify_attestation(oracle, 1, &tuple, &proof)
            .expect("verify");
        assert!(r.value, "a valid attestation");
        row(
            &format!(
                "verifyAttestation, window {window} ({} side nodes)",
                proof.siblings.len()
            ),
            &r,
        );
    }
}

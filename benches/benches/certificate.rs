//! Commit-certificate verification against one BLS signature check, same run
//! (`benches/RESULTS.md`, `specs/05-header.md` §Certificate).
//!
//! Names follow `group/op/signers=N`. `n` validators of equal power, all of them sign, `k = 64`
//! commitments in the header:
//! - `certificate/verify`: `Certificate::verify` of a certified header's certificate (heights,
//!   id, chain, set hash, bitmap, power, the sum of `n` keys and one pairing check);
//! - `certificate/certified_header_from_bytes_and_verify`: what a light client does per header:
//!   decode the certified-header bytes (the signature's subgroup check among them), recompute
//!   `data_root` over 129 leaves, verify the certificate;
//! - baseline `bls/verify_single`: one `BlsPublicKey::verify` of one signature.

use criterion::{criterion_main, Criterion};
use da_types::{
    chain_hash, data_root, vote_sign_bytes, BlockHeader, BlsSecretKey, Certificate,
    CertifiedHeader, ConsensusHeader, Validator, ValidatorSet, VoteKind,
};

/// `n` equal-power validators (secret keys in canonical order) and a certified header all of
/// them signed.
fn certified(n: usize) -> (ValidatorSet, [u8; 32], CertifiedHeader) {
    let mut keys: Vec<BlsSecretKey> = (0..n)
        .map(|i| {
            let mut ikm = [0u8; 32];
            ikm[..8].copy_from_slice(&(i as u64).to_be_bytes());
            BlsSecretKey::from_ikm(&ikm)
        })
        .collect();
    keys.sort_by_cached_key(BlsSecretKey::public_key);
    let set = ValidatorSet::new(
        keys.iter()
            .map(|k| Validator {
                public_key: k.public_key(),
                power: 1,
            })
            .collect(),
    )
    .expect("set");
    let chain = chain_hash("bench");
    let k = 64u16;
    let commitments: Vec<[u8; 48]> = (0..2 * k).map(|i| [i as u8; 48]).collect();
    let block = BlockHeader {
        header: ConsensusHeader {
            chain,
            height: 10,
            parent: [1; 32],
            timestamp_ms: 1_700_000_000_000,
            proposer: set.proposer(10, 0) as u32,
            validators_hash: set.hash(),
            next_validators_hash: set.hash(),
            data_root: data_root(k, 100, &commitments),
            tuple_root: [0; 32],
        },
        k,
        blob_count: 100,
        commitments,
    };
    let id = block.id();
    let msg = vote_sign_bytes(VoteKind::Precommit, &chain, 10, 0, Some(&id));
    let precommits: Vec<_> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| (i, key.sign(&msg)))
        .collect();
    let certificate =
        Certificate::aggregate(&set, &chain, 10, 0, &id, &precommits).expect("aggregate");
    (set, chain, CertifiedHeader { block, certificate })
}

fn bench_certificate(c: &mut Criterion) {
    let mut g = c.benchmark_group("bls");
    g.sample_size(50);
    let key = BlsSecretKey::from_ikm(&[7; 32]);
    let pk = key.public_key();
    let msg = vote_sign_bytes(VoteKind::Precommit, &[3; 32], 10, 0, Some(&[4; 32]));
    let sig = key.sign(&msg);
    g.bench_function("verify_single", |b| {
        b.iter(|| pk.verify(&msg, &sig).expect("valid"))
    });
    g.finish();

    let mut g = c.benchmark_group("certificate");
    g.sample_size(50);
    for n in [4usize, 100] {
        let (set, chain, ch) = certified(n);
        assert_eq!(ch.verify(&set, &chain), Ok(n as u64));
        g.bench_function(format!("verify/signers={n}"), |b| {
            b.iter(|| {
                ch.certificate
                    .verify(&set, &chain, &ch.block.header)
                    .expect("valid")
            })
        });
        let bytes = ch.to_bytes();
        g.bench_function(
            format!("certified_header_from_bytes_and_verify/signers={n}"),
            |b| {
                b.iter(|| {
                    CertifiedHeader::from_bytes(&bytes)
                        .expect("decode")
                        .verify(&set, &chain)
                        .expect("valid")
                })
            },
        );
    }
    g.finish();
}

mod group {
    #![allow(missing_docs)]
    use super::bench_certificate;
    criterion::criterion_group!(benches, bench_certificate);
}

criterion_main!(group::benches);

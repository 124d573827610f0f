//! The contract's hash to G2 equals blst's (RFC 9380 through the EIP-2537 map precompile), and
//! a header certified by three of four validators commits.

use da_attest::evm::{validator_keys, CommitHeader};
use da_l1::L1;
use da_types::{
    attestation::tuple_root, bls::SIGNATURE_DST, vote_sign_bytes, BlsSecretKey, Certificate,
    ConsensusHeader, Validator, ValidatorSet, VoteKind,
};

fn blst_hash_to_g2(msg: &[u8]) -> Vec<u8> {
    // SAFETY: blst's C API with valid pointers and lengths.
    let raw = unsafe {
        let mut p = blst::blst_p2::default();
        blst::blst_hash_to_g2(
            &mut p,
            msg.as_ptr(),
            msg.len(),
            SIGNATURE_DST.as_ptr(),
            SIGNATURE_DST.len(),
            std::ptr::null(),
            0,
        );
        let mut a = blst::blst_p2_affine::default();
        blst::blst_p2_to_affine(&mut a, &p);
        let mut out = [0u8; 192];
        blst::blst_p2_affine_serialize(out.as_mut_ptr(), &a);
        out
    };
    let mut out = vec![0u8; 256];
    for (slot, from) in [(0, 48), (1, 0), (2, 144), (3, 96)] {
        out[slot * 64 + 16..(slot + 1) * 64].copy_from_slice(&raw[from..from + 48]);
    }
    out
}

#[test]
fn hash_to_g2_matches_blst_and_a_header_commits() {
    let mut l1 = L1::new();
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
    let chain = da_types::chain_hash("smoke");
    let deployed = l1
        .deploy_oracle(chain, 4, &validator_keys(&set))
        .expect("deploy");
    let oracle = deployed.value;
    for msg in [&b""[..], b"abc", &[7u8; 88]] {
        assert_eq!(
            l1.hash_to_g2(oracle, msg).expect("hash").value,
            blst_hash_to_g2(msg),
            "message {msg:?}"
        );
    }
    let h = l1.hash_to_g2(oracle, &[7u8; 88]).expect("hash");
    println!(
        "hashToG2(88 bytes) gas {} execution {}",
        h.gas,
        h.execution_gas()
    );
    let roots: Vec<[u8; 32]> = (1..=4u8).map(|i| [i; 32]).collect();
    let header = ConsensusHeader {
        chain,
        height: 4,
        parent: [1; 32],
        timestamp_ms: 1,
        proposer: 0,
        validators_hash: set.hash(),
        next_validators_hash: set.hash(),
        data_root: roots[3],
        tuple_root: tuple_root(1, &roots),
    };
    let id = header.id();
    let msg = vote_sign_bytes(VoteKind::Precommit, &chain, 4, 0, Some(&id));
    let precommits: Vec<_> = (0..3)
        .map(|i| {
            let pk = set.get(i).expect("i").public_key;
            let k = keys.iter().find(|k| k.public_key() == pk).expect("key");
            (i, k.sign(&msg))
        })
        .collect();
    let cert = Certificate::aggregate(&set, &chain, 4, 0, &id, &precommits).expect("cert");
    let r = l1
        .commit_header(oracle, &CommitHeader::new(&header, &cert))
        .expect("commit");
    assert_eq!(r.value, 1);
    println!(
        "commitHeader gas {} execution {} calldata {}",
        r.gas,
        r.execution_gas(),
        r.calldata_len
    );
    assert_eq!(l1.tuple_root(oracle, 1).expect("root"), header.tuple_root);
}

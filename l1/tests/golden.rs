//! The Solidity `DAOracle`, run in revm, gives every answer of `specs/vectors/attestation.json`:
//! the same nonces and the same errors as the Rust state machine (`da-attest`'s golden test),
//! and the same attestation verdicts.

#[path = "../../attest/tests/common/vectors.rs"]
mod vectors;

use da_l1::{L1Error, L1};

#[test]
fn the_contract_gives_every_answer_of_the_file() {
    let v = vectors::load(env!("CARGO_MANIFEST_DIR"));
    let mut l1 = L1::new();
    for d in &v.deployments {
        let result = match l1.deploy_oracle(v.chain, v.window, &d.validators) {
            Ok(_) => Ok(()),
            Err(L1Error::Reverted { error, .. }) => Err(error),
            Err(e) => panic!("{}: {e}", d.why),
        };
        assert_eq!(result, d.expect, "{}", d.why);
    }
    let oracle = l1
        .deploy_oracle(v.chain, v.window, &v.deployments[0].validators)
        .expect("deploy")
        .value;
    assert_eq!(l1.validators_hash(oracle).expect("hash"), v.validators_hash);
    for c in &v.commits {
        let result = match l1.commit_header(oracle, &c.args) {
            Ok(r) => Ok(r.value),
            Err(L1Error::Reverted { error, .. }) => Err(error),
            Err(e) => panic!("{}: {e}", c.why),
        };
        assert_eq!(result, c.expect, "{}", c.why);
    }
    for (nonce, root) in &v.tuple_roots {
        assert_eq!(l1.tuple_root(oracle, *nonce).expect("root"), *root);
    }
    for a in &v.attestations {
        let r = l1
            .verify_attestation(oracle, a.nonce, &a.tuple, &a.proof)
            .expect("a view call does not revert");
        assert_eq!(r.value, a.valid, "{}", a.why);
    }
}

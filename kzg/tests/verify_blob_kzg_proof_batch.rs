//! Spec vectors for `verify_blob_kzg_proof_batch` (c-kzg for EIP-4844 operations).
mod common;

#[test]
fn verify_blob_kzg_proof_batch_vectors() {
    let ctx = da_kzg::KzgVerifier::shared();
    for (name, case) in common::cases("verify_blob_kzg_proof_batch") {
        let input = &case["input"];
        let blobs = common::bytes_list(&input["blobs"]);
        let coms = common::bytes_list(&input["commitments"]);
        let proofs = common::bytes_list(&input["proofs"]);
        let got = ctx.verify_blob_kzg_proof_batch(
            &common::refs(&blobs),
            &common::refs(&coms),
            &common::refs(&proofs),
        );
        match case["output"].as_bool() {
            None => assert!(got.is_err(), "{name}: expected error"),
            Some(want) => assert_eq!(
                got.unwrap_or_else(|e| panic!("{name}: {e}")),
                want,
                "{name}"
            ),
        }
    }
}

//! Spec vectors for `verify_cell_kzg_proof_batch` (c-kzg, the verifier's only path).
mod common;

#[test]
fn verify_cell_kzg_proof_batch_vectors() {
    let cases = common::cases("verify_cell_kzg_proof_batch");
    let ctx = da_kzg::KzgVerifier::new();
    for (name, case) in &cases {
        let input = &case["input"];
        let coms = common::bytes_list(&input["commitments"]);
        let idx = common::u64_list(&input["cell_indices"]);
        let cells = common::bytes_list(&input["cells"]);
        let proofs = common::bytes_list(&input["proofs"]);
        let got = ctx.verify_cell_kzg_proof_batch(
            &common::refs(&coms),
            &idx,
            &common::refs(&cells),
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

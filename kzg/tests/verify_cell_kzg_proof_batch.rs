//! Spec vectors for `verify_cell_kzg_proof_batch` on every cell backend: c-kzg, the light
//! verifier (verification key only) and the default (whichever is ready).
use da_kzg::CellBackend;

mod common;

#[test]
fn verify_cell_kzg_proof_batch_vectors() {
    let cases = common::cases("verify_cell_kzg_proof_batch");
    let ctx = da_kzg::KzgVerifier::new();
    for backend in [CellBackend::Light, CellBackend::CKzg, CellBackend::Auto] {
        for (name, case) in &cases {
            let input = &case["input"];
            let coms = common::bytes_list(&input["commitments"]);
            let idx = common::u64_list(&input["cell_indices"]);
            let cells = common::bytes_list(&input["cells"]);
            let proofs = common::bytes_list(&input["proofs"]);
            let got = ctx.verify_cell_kzg_proof_batch_on(
                backend,
                &common::refs(&coms),
                &idx,
                &common::refs(&cells),
                &common::refs(&proofs),
            );
            match case["output"].as_bool() {
                None => assert!(got.is_err(), "{backend:?} {name}: expected error"),
                Some(want) => assert_eq!(
                    got.unwrap_or_else(|e| panic!("{backend:?} {name}: {e}")),
                    want,
                    "{backend:?} {name}"
                ),
            }
        }
    }
}

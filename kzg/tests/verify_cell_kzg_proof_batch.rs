//! Spec vectors for `verify_cell_kzg_proof_batch`, on both backends.
mod common;

#[test]
fn verify_cell_kzg_proof_batch_vectors() {
    let cases = common::cases("verify_cell_kzg_proof_batch");
    for ctx in common::contexts() {
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
                None => assert!(
                    got.is_err(),
                    "{name} on {:?}: expected error",
                    ctx.backend()
                ),
                Some(want) => assert_eq!(
                    got.unwrap_or_else(|e| panic!("{name} on {:?}: {e}", ctx.backend())),
                    want,
                    "{name} on {:?}",
                    ctx.backend()
                ),
            }
        }
    }
}

//! Spec vectors for `recover_cells_and_kzg_proofs`, on both backends.
mod common;

#[test]
fn recover_cells_and_kzg_proofs_vectors() {
    let cases = common::cases("recover_cells_and_kzg_proofs");
    for ctx in common::provers() {
        for (name, case) in &cases {
            let idx = common::u64_list(&case["input"]["cell_indices"]);
            let cells = common::bytes_list(&case["input"]["cells"]);
            let got = ctx.recover_cells_and_kzg_proofs(&idx, &common::refs(&cells));
            if case["output"].is_null() {
                assert!(
                    got.is_err(),
                    "{name} on {:?}: expected error",
                    ctx.backend()
                );
                continue;
            }
            let (cells, proofs) =
                got.unwrap_or_else(|e| panic!("{name} on {:?}: {e}", ctx.backend()));
            let want_cells = common::bytes_list(&case["output"][0]);
            let want_proofs = common::bytes_list(&case["output"][1]);
            let got_cells: Vec<Vec<u8>> = cells.iter().map(|c| c.as_bytes().to_vec()).collect();
            let got_proofs: Vec<Vec<u8>> = proofs.iter().map(|p| p.0.to_vec()).collect();
            assert_eq!(got_cells, want_cells, "{name} on {:?}", ctx.backend());
            assert_eq!(got_proofs, want_proofs, "{name} on {:?}", ctx.backend());
        }
    }
}

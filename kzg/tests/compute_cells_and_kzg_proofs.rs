//! Spec vectors for `compute_cells_and_kzg_proofs`, on both backends and through the square path.
mod common;

use da_erasure::{field::frs_from_bytes, row::row_codec};

#[test]
fn compute_cells_and_kzg_proofs_vectors() {
    let cases = common::cases("compute_cells_and_kzg_proofs");
    for ctx in common::provers() {
        for (name, case) in &cases {
            let blob = common::bytes(&case["input"]["blob"]);
            let got = ctx.compute_cells_and_kzg_proofs(&blob);
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
            assert_eq!(cells.len(), 128);
            for (i, (c, w)) in cells.iter().zip(&want_cells).enumerate() {
                assert_eq!(c.as_bytes(), &w[..], "{name} cell {i}");
            }
            for (i, (p, w)) in proofs.iter().zip(&want_proofs).enumerate() {
                assert_eq!(&p.0[..], &w[..], "{name} proof {i}");
            }
        }
    }
}

/// Our own row code (`da-erasure`) produces exactly the spec's cells.
#[test]
fn erasure_row_code_matches_spec_cells() {
    for (name, case) in common::cases("compute_cells_and_kzg_proofs") {
        if case["output"].is_null() {
            continue;
        }
        let blob = frs_from_bytes(&common::bytes(&case["input"]["blob"])).expect("canonical");
        let ext = row_codec().extend(&blob).expect("extend");
        let want: Vec<u8> = common::bytes_list(&case["output"][0]).concat();
        let mut got = Vec::new();
        da_erasure::field::frs_to_bytes(&ext, &mut got);
        assert_eq!(got, want, "{name}");
    }
}

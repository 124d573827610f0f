//! Spec vectors for `blob_to_kzg_commitment`, on both backends.
mod common;

#[test]
fn blob_to_kzg_commitment_vectors() {
    let cases = common::cases("blob_to_kzg_commitment");
    for ctx in common::provers() {
        for (name, case) in &cases {
            let blob = common::bytes(&case["input"]["blob"]);
            let got = ctx.blob_to_kzg_commitment(&blob);
            match case["output"].as_str() {
                None => assert!(
                    got.is_err(),
                    "{name} on {:?}: expected error",
                    ctx.backend()
                ),
                Some(_) => {
                    let want = common::bytes(&case["output"]);
                    let got = got.unwrap_or_else(|e| panic!("{name} on {:?}: {e}", ctx.backend()));
                    assert_eq!(got.0.to_vec(), want, "{name} on {:?}", ctx.backend());
                }
            }
        }
    }
}

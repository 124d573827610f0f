//! The KZG reference vectors the repository carries are the published ones: every case file is
//! listed in `tests/vectors/MANIFEST.sha256` with its SHA-256, and every listed file is there.

mod common;

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

/// The five operations and 52 cases the README of `tests/vectors` lists.
const OPERATIONS: [(&str, usize); 5] = [
    ("blob_to_kzg_commitment", 9),
    ("compute_cells_and_kzg_proofs", 8),
    ("recover_cells_and_kzg_proofs", 10),
    ("verify_blob_kzg_proof_batch", 8),
    ("verify_cell_kzg_proof_batch", 17),
];

#[test]
fn every_case_matches_the_manifest() {
    let dir = common::vectors_dir();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.sha256"))
        .unwrap_or_else(|e| panic!("manifest missing in {}: {e}", dir.display()));
    let mut listed = BTreeSet::new();
    for line in manifest.lines().filter(|l| !l.trim().is_empty()) {
        let (digest, path) = line.split_once("  ").expect("`<sha256>  <path>` lines");
        let path = path.trim_start_matches("./");
        let bytes = std::fs::read(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            digest,
            "{path} differs from upstream"
        );
        listed.insert(path.to_owned());
    }
    let mut on_disk = BTreeSet::new();
    for (op, count) in OPERATIONS {
        let cases = common::cases(op);
        assert_eq!(cases.len(), count, "{op}: case count");
        on_disk.extend(
            cases
                .into_iter()
                .map(|(name, _)| format!("{op}/{name}/data.yaml")),
        );
    }
    assert_eq!(on_disk, listed, "cases on disk and in the manifest differ");
    assert_eq!(listed.len(), 52);
}

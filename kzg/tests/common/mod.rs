//! Loads the consensus-spec KZG vectors the repository carries in `kzg/tests/vectors` (their
//! provenance and manifest are in its README; `$DA_KZG_VECTORS` points elsewhere).
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use da_kzg::{KzgProver, ProverBackend, ProverConfig};

/// Where the vectors live.
pub fn vectors_dir() -> PathBuf {
    std::env::var_os("DA_KZG_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors"),
        PathBuf::from,
    )
}

/// Every case of one operation: (case name, parsed YAML).
pub fn cases(op: &str) -> Vec<(String, serde_yaml::Value)> {
    let dir = vectors_dir().join(op);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("vectors missing at {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .map(|p| {
            let text = std::fs::read_to_string(p.join("data.yaml")).expect("data.yaml");
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, serde_yaml::from_str(&text).expect("yaml"))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!out.is_empty(), "no cases for {op}");
    out
}

/// Decodes a `0x…` string.
pub fn bytes(v: &serde_yaml::Value) -> Vec<u8> {
    let s = v.as_str().expect("hex string");
    hex::decode(s.trim_start_matches("0x")).expect("hex")
}

/// Decodes a list of `0x…` strings.
pub fn bytes_list(v: &serde_yaml::Value) -> Vec<Vec<u8>> {
    v.as_sequence().expect("list").iter().map(bytes).collect()
}

/// Decodes a list of integers.
pub fn u64_list(v: &serde_yaml::Value) -> Vec<u64> {
    v.as_sequence()
        .expect("list")
        .iter()
        .map(|x| x.as_u64().expect("u64"))
        .collect()
}

/// One prover per backend, both from the mainnet setup.
pub fn provers() -> Vec<KzgProver> {
    [ProverBackend::CKzg, ProverBackend::Fk20]
        .into_iter()
        .map(|b| KzgProver::new(ProverConfig::DEFAULT.with_backend(b)))
        .collect()
}

/// Refs of owned byte strings.
pub fn refs(v: &[Vec<u8>]) -> Vec<&[u8]> {
    v.iter().map(Vec::as_slice).collect()
}

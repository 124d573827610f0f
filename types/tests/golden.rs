//! Golden vectors of the formats `da-types` owns, read from `specs/vectors/` (see its README):
//! header v2 with its BLS genesis, validator set, certificates and certified-header bytes
//! (`header_v2.json`, `specs/05-header.md`) and the original square and its index
//! (`square.json`, `specs/01-data-model.md`).
//!
//! The checked-in files are the truth: every test here rebuilds values from the inputs in a file
//! and compares what the code produces with the outputs in the same file, and checks that every
//! invalid case is rejected with the expected error kind. A format change makes them fail.
//!
//! The files were written once by the ignored `generate` tests:
//! `DA_WRITE_VECTORS=1 cargo test -p da-types --test golden -- --ignored`. Without
//! `DA_WRITE_VECTORS=1` those tests only compare what they would write with the files.

#[path = "golden/header_v2.rs"]
mod header_v2;
#[path = "golden/layout.rs"]
mod layout;

use std::{fs, path::PathBuf};

use da_types::Error;
use serde_json::Value;

/// `specs/vectors/` of this checkout.
fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors")
}

/// Parses a vector file.
fn load(name: &str) -> Value {
    let path = vectors_dir().join(name);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Writes `value` to `name` when `DA_WRITE_VECTORS=1`; otherwise asserts the file already holds
/// exactly `value`, so running the generator never changes a file silently.
fn write_or_compare(name: &str, value: &Value) {
    if std::env::var("DA_WRITE_VECTORS").as_deref() == Ok("1") {
        let path = vectors_dir().join(name);
        let mut text = serde_json::to_string_pretty(value).expect("json");
        text.push('\n');
        fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("wrote {}", path.display());
    } else {
        assert_eq!(
            &load(name),
            value,
            "{name}: the generator no longer produces the checked-in file; if the format \
             changed on purpose, regenerate with DA_WRITE_VECTORS=1 and review the diff"
        );
    }
}

/// Lowercase hex without a prefix.
fn hx(b: &[u8]) -> String {
    hex::encode(b)
}

/// Bytes of a hex string field.
fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap_or_else(|| panic!("not a string: {v}")))
        .unwrap_or_else(|e| panic!("bad hex {v}: {e}"))
}

/// A fixed-size byte array from a hex string field.
fn array<const N: usize>(v: &Value) -> [u8; N] {
    bytes(v)
        .try_into()
        .unwrap_or_else(|b: Vec<u8>| panic!("{v}: {} bytes, expected {N}", b.len()))
}

/// An unsigned integer field.
fn num(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not an unsigned integer: {v}"))
}

/// A string field.
fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// An array field.
fn list(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}"))
}

/// The name of an error variant, as the vector files spell expected errors.
fn kind(e: &Error) -> &'static str {
    match e {
        Error::NamespaceLength { .. } => "NamespaceLength",
        Error::NamespaceVersion { .. } => "NamespaceVersion",
        Error::NamespacePrefix => "NamespacePrefix",
        Error::NamespaceReserved(_) => "NamespaceReserved",
        Error::EmptyBlob => "EmptyBlob",
        Error::SquareTooLarge { .. } => "SquareTooLarge",
        Error::InvalidSquareSize { .. } => "InvalidSquareSize",
        Error::MalformedIndex(_) => "MalformedIndex",
        Error::CellOutOfRange { .. } => "CellOutOfRange",
        Error::InvalidConfidence(_) => "InvalidConfidence",
    }
}

/// Deterministic filler bytes for generated inputs: the BLAKE3 XOF of `label`.
fn filler(label: &str, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    blake3::Hasher::new()
        .update(label.as_bytes())
        .finalize_xof()
        .fill(&mut out);
    out
}

/// The storage form of a v1 header (ed25519, the format before certified headers), written by
/// hand from the old `specs/05-header.md` §v1 so that v2 decoding can be shown to refuse it:
/// `u32_be(len) ‖ encode ‖ producer (32) ‖ signature (64)`, where
/// `encode = 1 ‖ u16_be(len) ‖ chain id ‖ u64_be height ‖ parent ‖ u64_be timestamp ‖ u16_be k ‖
/// u32_be blob count ‖ commitments` and the producer signs
/// `"da/header/v1" ‖ blake3(encode ‖ blake3("da/data-root/v1" ‖ encode) ‖ producer)`.
fn v1_storage_bytes(
    chain_id: &str,
    height: u64,
    timestamp_ms: u64,
    commitments: &[[u8; 48]],
    seed: [u8; 32],
) -> Vec<u8> {
    use ed25519_dalek::Signer;
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let producer = key.verifying_key().to_bytes();
    let mut enc = vec![1u8];
    enc.extend_from_slice(&(chain_id.len() as u16).to_be_bytes());
    enc.extend_from_slice(chain_id.as_bytes());
    enc.extend_from_slice(&height.to_be_bytes());
    enc.extend_from_slice(&[0u8; 32]);
    enc.extend_from_slice(&timestamp_ms.to_be_bytes());
    enc.extend_from_slice(&(commitments.len() as u16 / 2).to_be_bytes());
    enc.extend_from_slice(&0u32.to_be_bytes());
    for c in commitments {
        enc.extend_from_slice(c);
    }
    let mut root = blake3::Hasher::new();
    root.update(b"da/data-root/v1");
    root.update(&enc);
    let root = *root.finalize().as_bytes();
    let mut hash = blake3::Hasher::new();
    hash.update(&enc);
    hash.update(&root);
    hash.update(&producer);
    let mut msg = b"da/header/v1".to_vec();
    msg.extend_from_slice(hash.finalize().as_bytes());
    let signature = key.sign(&msg).to_bytes();
    let mut out = (enc.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&enc);
    out.extend_from_slice(&producer);
    out.extend_from_slice(&signature);
    out
}

//! The JSON form of a proof of publication (`posting-adapter prove`): the arguments of
//! `DAOracle.verifyBlobElement` under their Solidity names, hex as `0x…` strings and integers
//! as JSON numbers, beside what the proof is about (blob, byte, window).
//!
//! ```json
//! { "blobId": "0x…", "offset": 7, "byte": 42, "window": 16, "tupleRoot": "0x…",
//!   "verifyBlobElement": { "nonce": 1, "tuple": { "height": 5, "dataRoot": "0x…" },
//!     "tupleProof": { "sideNodes": ["0x…"], "key": 4, "numLeaves": 16 },
//!     "params": { "k": 4, "blobCount": 3, "proof": { "sideNodes": […], "key": 0, "numLeaves": 9 } },
//!     "blobId": "0x…", "entry": 0, "element": 0,
//!     "openings": [ { "commitment": "0x…", "rowProof": { … }, "position": 3,
//!                     "value": "0x…", "kzgProof": "0x…" }, … ] } }
//! ```

use da_client::{BlobElementProof, ElementOpening, Publication, SquareParams};
use da_types::{attestation::DataRootTuple, BlobId, MerkleProof};
use serde_json::{json, Value};

/// Why JSON is not a proof of publication.
#[derive(Debug, thiserror::Error)]
#[error("proof JSON: {0}")]
pub struct ProofJsonError(String);

fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

fn merkle(p: &MerkleProof) -> Value {
    json!({
        "sideNodes": p.siblings.iter().map(|s| hex0x(&s[..])).collect::<Vec<_>>(),
        "key": p.index,
        "numLeaves": p.total,
    })
}

/// The JSON of `p`.
pub fn to_json(p: &Publication) -> Value {
    let f = &p.proof;
    json!({
        "blobId": hex0x(&p.blob_id.0),
        "offset": p.offset,
        "byte": p.byte,
        "window": p.window,
        "tupleRoot": hex0x(&p.tuple_root),
        "verifyBlobElement": {
            "nonce": f.nonce,
            "tuple": { "height": f.tuple.height, "dataRoot": hex0x(&f.tuple.data_root) },
            "tupleProof": merkle(&f.tuple_proof),
            "params": {
                "k": f.params.k,
                "blobCount": f.params.blob_count,
                "proof": merkle(&f.params.proof),
            },
            "blobId": hex0x(&f.blob_id),
            "entry": f.entry,
            "element": f.element,
            "openings": f.openings.iter().map(opening).collect::<Vec<_>>(),
        },
    })
}

fn opening(o: &ElementOpening) -> Value {
    json!({
        "commitment": hex0x(&o.commitment),
        "rowProof": merkle(&o.row_proof),
        "position": o.position,
        "value": hex0x(&o.value),
        "kzgProof": hex0x(&o.kzg_proof),
    })
}

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, ProofJsonError> {
    v.get(name)
        .ok_or_else(|| ProofJsonError(format!("missing {name:?}")))
}

fn uint(v: &Value, name: &str) -> Result<u64, ProofJsonError> {
    field(v, name)?
        .as_u64()
        .ok_or_else(|| ProofJsonError(format!("{name:?} is not an unsigned integer")))
}

fn bytes<const N: usize>(v: &Value, name: &str) -> Result<[u8; N], ProofJsonError> {
    bytes_of(field(v, name)?, name)
}

fn bytes_of<const N: usize>(x: &Value, name: &str) -> Result<[u8; N], ProofJsonError> {
    let s = x
        .as_str()
        .ok_or_else(|| ProofJsonError(format!("{name:?} is not a string")))?;
    let raw = s
        .strip_prefix("0x")
        .and_then(|h| hex::decode(h).ok())
        .ok_or_else(|| ProofJsonError(format!("{name:?} is not 0x-prefixed hex")))?;
    raw.try_into()
        .map_err(|r: Vec<u8>| ProofJsonError(format!("{name:?} is {} bytes, not {N}", r.len())))
}

fn merkle_from(v: &Value, name: &str) -> Result<MerkleProof, ProofJsonError> {
    let p = field(v, name)?;
    let siblings = field(p, "sideNodes")?
        .as_array()
        .ok_or_else(|| ProofJsonError(format!("{name}.sideNodes is not an array")))?
        .iter()
        .map(|s| bytes_of::<32>(s, "sideNodes[]"))
        .collect::<Result<_, _>>()?;
    Ok(MerkleProof {
        index: uint(p, "key")?,
        total: uint(p, "numLeaves")?,
        siblings,
    })
}

fn narrow(name: &str, x: u64) -> Result<u32, ProofJsonError> {
    u32::try_from(x).map_err(|_| ProofJsonError(format!("{name:?} is out of range")))
}

/// Reads the JSON [`to_json`] writes.
pub fn from_json(v: &Value) -> Result<Publication, ProofJsonError> {
    let f = field(v, "verifyBlobElement")?;
    let tuple = field(f, "tuple")?;
    let params = field(f, "params")?;
    let params = SquareParams {
        k: u16::try_from(uint(params, "k")?)
            .map_err(|_| ProofJsonError("\"k\" is out of range".into()))?,
        blob_count: narrow("blobCount", uint(params, "blobCount")?)?,
        proof: merkle_from(params, "proof")?,
    };
    let openings = field(f, "openings")?
        .as_array()
        .ok_or_else(|| ProofJsonError("\"openings\" is not an array".into()))?
        .iter()
        .map(|o| {
            Ok(ElementOpening {
                commitment: bytes(o, "commitment")?,
                row_proof: merkle_from(o, "rowProof")?,
                position: narrow("position", uint(o, "position")?)?,
                value: bytes(o, "value")?,
                kzg_proof: bytes(o, "kzgProof")?,
            })
        })
        .collect::<Result<Vec<_>, ProofJsonError>>()?;
    let byte = uint(v, "byte")?;
    Ok(Publication {
        blob_id: BlobId(bytes(v, "blobId")?),
        offset: uint(v, "offset")?,
        byte: u8::try_from(byte).map_err(|_| ProofJsonError("\"byte\" is over 255".into()))?,
        window: uint(v, "window")?,
        tuple_root: bytes(v, "tupleRoot")?,
        proof: BlobElementProof {
            nonce: uint(f, "nonce")?,
            tuple: DataRootTuple {
                height: uint(tuple, "height")?,
                data_root: bytes(tuple, "dataRoot")?,
            },
            tuple_proof: merkle_from(f, "tupleProof")?,
            params,
            blob_id: bytes(f, "blobId")?,
            entry: narrow("entry", uint(f, "entry")?)?,
            element: narrow("element", uint(f, "element")?)?,
            openings,
        },
    })
}

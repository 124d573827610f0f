//! Reads `specs/vectors/attestation.json` (shared by `da-attest`'s and `da-l1`'s golden tests).

use da_attest::evm::{CommitHeader, ValidatorKey};
use da_types::{DataRootTuple, MerkleProof};
use serde_json::Value;

/// The file, relative to a crate directory of the workspace.
pub(crate) const FILE: &str = "../specs/vectors/attestation.json";

/// One `commitHeader` call and what it must give: the nonce, or the contract error's name.
pub(crate) struct Commit {
    pub(crate) why: String,
    pub(crate) args: CommitHeader,
    pub(crate) expect: Result<u64, String>,
}

/// One `verifyAttestation` query and its answer.
pub(crate) struct Attestation {
    pub(crate) why: String,
    pub(crate) nonce: u64,
    pub(crate) tuple: DataRootTuple,
    pub(crate) proof: MerkleProof,
    pub(crate) valid: bool,
}

/// One deployment and its outcome: deployed, or the contract error's name.
pub(crate) struct Deployment {
    pub(crate) why: String,
    pub(crate) validators: Vec<ValidatorKey>,
    pub(crate) expect: Result<(), String>,
}

/// The deployments and the two sequences run on the first.
pub(crate) struct Vectors {
    pub(crate) chain: [u8; 32],
    pub(crate) window: u64,
    pub(crate) validators_hash: [u8; 32],
    pub(crate) deployments: Vec<Deployment>,
    /// `(nonce, tuple_root)` of the windows the file lists.
    pub(crate) tuple_roots: Vec<(u64, [u8; 32])>,
    pub(crate) commits: Vec<Commit>,
    pub(crate) attestations: Vec<Attestation>,
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("hex")
}

fn array32(v: &Value) -> [u8; 32] {
    bytes(v).try_into().expect("32 bytes")
}

fn text(v: &Value) -> String {
    v.as_str().expect("string").to_string()
}

/// Parses the file's JSON.
pub(crate) fn parse(v: &Value) -> Vectors {
    let commits = v["commits"]
        .as_array()
        .expect("commits")
        .iter()
        .map(|c| Commit {
            why: text(&c["why"]),
            args: CommitHeader {
                header: bytes(&c["header"]),
                round: c["round"].as_u64().expect("round") as u32,
                signers: bytes(&c["signers"]),
                signature: bytes(&c["signature"]),
            },
            expect: match c["expect"]["nonce"].as_u64() {
                Some(n) => Ok(n),
                None => Err(text(&c["expect"]["error"])),
            },
        })
        .collect();
    let attestations = v["attestations"]
        .as_array()
        .expect("attestations")
        .iter()
        .map(|a| {
            let p = &a["proof"];
            Attestation {
                why: text(&a["why"]),
                nonce: a["nonce"].as_u64().expect("nonce"),
                tuple: DataRootTuple {
                    height: a["height"].as_u64().expect("height"),
                    data_root: array32(&a["data_root"]),
                },
                proof: MerkleProof {
                    index: p["key"].as_u64().expect("key"),
                    total: p["num_leaves"].as_u64().expect("num_leaves"),
                    siblings: p["side_nodes"]
                        .as_array()
                        .expect("side nodes")
                        .iter()
                        .map(array32)
                        .collect(),
                },
                valid: a["valid"].as_bool().expect("valid"),
            }
        })
        .collect();
    let deployments = v["deployments"]
        .as_array()
        .expect("deployments")
        .iter()
        .map(|d| Deployment {
            why: text(&d["why"]),
            validators: d["validators"]
                .as_array()
                .expect("validators")
                .iter()
                .map(|v| ValidatorKey {
                    key: bytes(&v["key"]).try_into().expect("128 bytes"),
                    power: v["power"].as_u64().expect("power"),
                })
                .collect(),
            expect: match d["expect"]["error"].as_str() {
                Some(e) => Err(e.to_string()),
                None => Ok(()),
            },
        })
        .collect();
    let tuple_roots = v["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .map(|w| {
            (
                w["nonce"].as_u64().expect("nonce"),
                array32(&w["tuple_root"]),
            )
        })
        .collect();
    Vectors {
        chain: array32(&v["chain"]),
        deployments,
        tuple_roots,
        window: v["window"].as_u64().expect("window"),
        validators_hash: array32(&v["validators_hash"]),
        commits,
        attestations,
    }
}

/// Reads and parses the file from a crate directory.
#[allow(dead_code)]
pub(crate) fn load(manifest_dir: &str) -> Vectors {
    let path = std::path::Path::new(manifest_dir).join(FILE);
    let text = std::fs::read_to_string(&path).expect("specs/vectors/attestation.json");
    parse(&serde_json::from_str(&text).expect("json"))
}

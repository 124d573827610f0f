//! The Alt-DA commitment this adapter issues and parses (`specs/08-posting-adapter.md`).
//!
//! ```text
//! encoded = 0x01 (generic commitment) ‖ DA_LAYER_BYTE ‖ version ‖ body
//!   version 0x00  one blob:        height u64 BE ‖ blob id (32)       → 43 bytes in all
//!   version 0x01  split batch:     height u64 BE ‖ manifest blob id   → 43 bytes in all
//! L1 calldata = 0x01 (TxDataVersion1) ‖ encoded                       → 44 bytes
//! ```
//! Keccak commitments (`0x00 ‖ keccak256(batch)`, op-batcher's default mode) are accepted too:
//! the node indexes every blob by the keccak-256 of its bytes.
//!
//! A manifest blob lists the parts of a batch larger than one blob:
//! `"DAMF" ‖ 0x01 ‖ total_len u64 BE ‖ count u32 BE ‖ count × (height u64 BE ‖ blob id)`.

use da_types::BlobId;

/// OP Alt-DA commitment type byte of generic (DA-service) commitments.
pub const GENERIC_COMMITMENT: u8 = 0x01;
/// OP Alt-DA commitment type byte of keccak commitments.
pub const KECCAK_COMMITMENT: u8 = 0x00;
/// Our DA-layer byte: not EigenDA's 0x00, Avail's 0x0a, Celestia's 0x0c or the reference
/// server's 0xff; below 0x7f as the spec asks. Provisional until registered upstream.
pub const DA_LAYER_BYTE: u8 = 0x44;
/// Version of a commitment to one blob.
pub const VERSION_BLOB: u8 = 0x00;
/// Version of a commitment to a manifest of parts.
pub const VERSION_MANIFEST: u8 = 0x01;
/// Length of an encoded commitment.
pub const ENCODED_LEN: usize = 3 + 8 + 32;

const MANIFEST_MAGIC: &[u8; 5] = b"DAMF\x01";
const MANIFEST_HEADER: usize = 5 + 8 + 4;
const MANIFEST_ENTRY: usize = 8 + 32;

/// Why bytes are not a commitment this adapter can serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitmentError {
    /// Not `0x`-prefixed hex.
    #[error("commitment must be 0x-prefixed hex, got {0:?}")]
    Hex(String),
    /// No bytes.
    #[error("commitment is empty")]
    Empty,
    /// A keccak commitment whose hash is not 32 bytes.
    #[error("keccak commitment is {0} bytes, it must be 33 (0x00 ‖ keccak256)")]
    KeccakLength(usize),
    /// Neither a keccak nor a generic commitment.
    #[error("unknown commitment type 0x{0:02x} (expected 0x01, generic)")]
    Type(u8),
    /// A generic commitment of another DA layer.
    #[error("commitment is for DA layer 0x{0:02x}, this is DA layer 0x{DA_LAYER_BYTE:02x}")]
    DaLayer(u8),
    /// A version this adapter does not know.
    #[error("unknown commitment version 0x{0:02x}")]
    Version(u8),
    /// Wrong length for the version.
    #[error("commitment is {got} bytes, version 0x{version:02x} needs {ENCODED_LEN}")]
    Length {
        /// Version byte.
        version: u8,
        /// Bytes received.
        got: usize,
    },
    /// Height 0 does not exist.
    #[error("commitment names height 0")]
    ZeroHeight,
}

/// What a commitment points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Commitment {
    /// The batch is one blob.
    Blob {
        /// Block height.
        height: u64,
        /// Blob id.
        id: BlobId,
    },
    /// The batch was split; this blob is its [`Manifest`].
    Manifest {
        /// Block height of the manifest.
        height: u64,
        /// The manifest's blob id.
        id: BlobId,
    },
    /// op-batcher's keccak mode: the batch is the blob whose bytes hash to this.
    Keccak([u8; 32]),
}

impl Commitment {
    /// The encoded commitment (what `/put` returns and `/get/0x…` takes).
    pub fn encode(&self) -> Vec<u8> {
        let (version, height, id) = match self {
            Self::Blob { height, id } => (VERSION_BLOB, height, id),
            Self::Manifest { height, id } => (VERSION_MANIFEST, height, id),
            Self::Keccak(hash) => {
                let mut out = vec![KECCAK_COMMITMENT];
                out.extend_from_slice(hash);
                return out;
            }
        };
        let mut out = Vec::with_capacity(ENCODED_LEN);
        out.extend_from_slice(&[GENERIC_COMMITMENT, DA_LAYER_BYTE, version]);
        out.extend_from_slice(&height.to_be_bytes());
        out.extend_from_slice(&id.0);
        out
    }

    /// The L1 batcher-inbox calldata: `0x01 ‖ encoded`.
    pub fn l1_calldata(&self) -> Vec<u8> {
        let mut out = vec![0x01];
        out.extend_from_slice(&self.encode());
        out
    }

    /// `0x`-prefixed lowercase hex of the encoding (the `/get/` path segment).
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.encode()))
    }

    /// Parses an encoded commitment.
    pub fn decode(b: &[u8]) -> Result<Self, CommitmentError> {
        let (&ty, rest) = b.split_first().ok_or(CommitmentError::Empty)?;
        match ty {
            GENERIC_COMMITMENT => {}
            KECCAK_COMMITMENT => {
                return rest
                    .try_into()
                    .map(Self::Keccak)
                    .map_err(|_| CommitmentError::KeccakLength(b.len()))
            }
            t => return Err(CommitmentError::Type(t)),
        }
        let (&layer, rest) = rest.split_first().ok_or(CommitmentError::Length {
            version: VERSION_BLOB,
            got: b.len(),
        })?;
        if layer != DA_LAYER_BYTE {
            return Err(CommitmentError::DaLayer(layer));
        }
        let (&version, body) = rest.split_first().ok_or(CommitmentError::Length {
            version: VERSION_BLOB,
            got: b.len(),
        })?;
        if version != VERSION_BLOB && version != VERSION_MANIFEST {
            return Err(CommitmentError::Version(version));
        }
        if b.len() != ENCODED_LEN {
            return Err(CommitmentError::Length {
                version,
                got: b.len(),
            });
        }
        let (h, id) = body.split_at(8);
        let mut hb = [0u8; 8];
        hb.copy_from_slice(h);
        let height = u64::from_be_bytes(hb);
        if height == 0 {
            return Err(CommitmentError::ZeroHeight);
        }
        let mut idb = [0u8; 32];
        idb.copy_from_slice(id);
        let id = BlobId(idb);
        Ok(if version == VERSION_BLOB {
            Self::Blob { height, id }
        } else {
            Self::Manifest { height, id }
        })
    }

    /// Parses `0x`-prefixed hex (either case), as op-node puts it in `/get/` paths.
    pub fn from_hex(s: &str) -> Result<Self, CommitmentError> {
        let digits = s
            .strip_prefix("0x")
            .or_else(|| s.strip_prefix("0X"))
            .ok_or_else(|| CommitmentError::Hex(truncate(s)))?;
        let bytes = hex::decode(digits).map_err(|_| CommitmentError::Hex(truncate(s)))?;
        Self::decode(&bytes)
    }

    /// Height of the blob the commitment names (keccak commitments name none).
    pub fn height(&self) -> Option<u64> {
        match self {
            Self::Blob { height, .. } | Self::Manifest { height, .. } => Some(*height),
            Self::Keccak(_) => None,
        }
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Why manifest bytes do not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed manifest: {0}")]
pub struct ManifestError(String);

/// The parts of a batch split over several blobs, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// Length of the whole batch.
    pub total_len: u64,
    /// `(height, blob id)` of each part.
    pub parts: Vec<(u64, BlobId)>,
}

impl Manifest {
    /// Serializes the manifest (the manifest blob's bytes).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MANIFEST_HEADER + self.parts.len() * MANIFEST_ENTRY);
        out.extend_from_slice(MANIFEST_MAGIC);
        out.extend_from_slice(&self.total_len.to_be_bytes());
        out.extend_from_slice(&(self.parts.len() as u32).to_be_bytes());
        for (h, id) in &self.parts {
            out.extend_from_slice(&h.to_be_bytes());
            out.extend_from_slice(&id.0);
        }
        out
    }

    /// Parses manifest bytes (from a blob already checked against its id).
    pub fn decode(b: &[u8]) -> Result<Self, ManifestError> {
        let bad = |why: &str| ManifestError(why.to_string());
        if b.len() < MANIFEST_HEADER || &b[..5] != MANIFEST_MAGIC {
            return Err(bad("no manifest header"));
        }
        let mut u64b = [0u8; 8];
        u64b.copy_from_slice(&b[5..13]);
        let total_len = u64::from_be_bytes(u64b);
        let mut u32b = [0u8; 4];
        u32b.copy_from_slice(&b[13..17]);
        let count = u32::from_be_bytes(u32b) as usize;
        let body = &b[MANIFEST_HEADER..];
        if count == 0 || body.len() != count.saturating_mul(MANIFEST_ENTRY) {
            return Err(bad("part count does not match its length"));
        }
        let parts = body
            .chunks_exact(MANIFEST_ENTRY)
            .map(|c| {
                let mut h = [0u8; 8];
                h.copy_from_slice(&c[..8]);
                let mut id = [0u8; 32];
                id.copy_from_slice(&c[8..]);
                (u64::from_be_bytes(h), BlobId(id))
            })
            .collect();
        Ok(Self { total_len, parts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn layout_is_the_documented_one() {
        let c = Commitment::Blob {
            height: 0x0102,
            id: BlobId([0xab; 32]),
        };
        let e = c.encode();
        assert_eq!(e.len(), ENCODED_LEN);
        assert_eq!(&e[..3], &[0x01, DA_LAYER_BYTE, 0x00]);
        assert_eq!(&e[3..11], &[0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(c.l1_calldata()[..2], [0x01, 0x01]);
        assert!(![0x00, 0x0a, 0x0c, 0xff].contains(&DA_LAYER_BYTE) && DA_LAYER_BYTE < 0x7f);
    }

    #[test]
    fn rejects_what_is_not_ours() {
        let good = Commitment::Blob {
            height: 5,
            id: BlobId([1; 32]),
        }
        .encode();
        assert_eq!(Commitment::decode(&[]), Err(CommitmentError::Empty));
        let mut k = vec![0x00];
        k.extend([7; 32]);
        assert_eq!(Commitment::decode(&k), Ok(Commitment::Keccak([7; 32])));
        assert_eq!(
            Commitment::decode(&k[..32]),
            Err(CommitmentError::KeccakLength(32))
        );
        assert_eq!(Commitment::Keccak([7; 32]).encode(), k);
        assert_eq!(
            Commitment::decode(&[0x02, 1]),
            Err(CommitmentError::Type(2))
        );
        let mut other = good.clone();
        other[1] = 0x0c;
        assert_eq!(
            Commitment::decode(&other),
            Err(CommitmentError::DaLayer(0x0c))
        );
        let mut ver = good.clone();
        ver[2] = 9;
        assert_eq!(Commitment::decode(&ver), Err(CommitmentError::Version(9)));
        assert!(matches!(
            Commitment::decode(&good[..good.len() - 1]),
            Err(CommitmentError::Length { .. })
        ));
        assert!(matches!(
            Commitment::decode(&[0x01]),
            Err(CommitmentError::Length { .. })
        ));
        let mut zero = good;
        zero[3..11].fill(0);
        assert_eq!(Commitment::decode(&zero), Err(CommitmentError::ZeroHeight));
        for s in ["zz", "0x0", "0xzz", "", "01440000"] {
            assert!(Commitment::from_hex(s).is_err(), "{s}");
        }
    }

    #[test]
    fn hex_in_either_case() {
        let c = Commitment::Manifest {
            height: 77,
            id: BlobId([0xcd; 32]),
        };
        assert_eq!(Commitment::from_hex(&c.to_hex()), Ok(c));
        assert_eq!(Commitment::from_hex(&c.to_hex().to_uppercase()), Ok(c));
    }

    #[test]
    fn manifest_rejects_truncation() {
        let m = Manifest {
            total_len: 10,
            parts: vec![(1, BlobId([2; 32])), (3, BlobId([4; 32]))],
        };
        let b = m.encode();
        assert_eq!(Manifest::decode(&b), Ok(m));
        assert!(Manifest::decode(&b[..b.len() - 1]).is_err());
        assert!(Manifest::decode(&b[..17]).is_err());
        assert!(Manifest::decode(b"DAMX\x01").is_err());
    }

    proptest! {
        #[test]
        fn round_trips(height in 1u64.., id in any::<[u8; 32]>(), manifest in any::<bool>()) {
            let id = BlobId(id);
            let c = if manifest { Commitment::Manifest { height, id } } else { Commitment::Blob { height, id } };
            prop_assert_eq!(Commitment::decode(&c.encode()), Ok(c));
        }

        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = Commitment::decode(&b);
            let _ = Manifest::decode(&b);
        }
    }
}

//! Header v2, the value validators vote on (`specs/05-header.md` §Header v2): the fixed-size
//! [`ConsensusHeader`], its id, the `data_root` over the row commitments, the full
//! [`BlockHeader`] that travels on gossip and gRPC, and the bytes validators sign for votes and
//! proposals.
//!
//! Everything is SHA-256 so that an EVM contract can recompute it with the precompile.

use sha2::{Digest, Sha256};

use crate::{
    consts::BYTES_PER_G1,
    layout::check_k,
    merkle::{self, MerkleProof},
};

/// Version byte of the consensus header encoding.
pub const HEADER_V2_VERSION: u8 = 2;
/// Bytes of an encoded [`ConsensusHeader`].
pub const HEADER_V2_LEN: usize = 1 + 32 + 8 + 32 + 8 + 4 + 32 * 4;
/// Domain tag of the header id.
pub const HEADER_ID_DOMAIN: &[u8] = b"da/header/v2";
/// Version of the square layout committed in the `data_root` params leaf.
pub const LAYOUT_VERSION: u8 = 1;
/// Bytes of the `data_root` params leaf.
pub const PARAMS_LEAF_LEN: usize = 7;
/// Domain tag of vote sign bytes.
pub const VOTE_DOMAIN: &[u8] = b"da/vote/v2";
/// Domain tag of proposal sign bytes.
pub const PROPOSAL_DOMAIN: &[u8] = b"da/proposal/v2";
/// Longest chain id, in bytes.
pub const MAX_CHAIN_ID_LEN: usize = 64;

/// What is wrong with a v2 header's bytes or fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderV2Error {
    /// The bytes have the wrong length.
    #[error("{what}: expected {expected} bytes, got {got}")]
    Length {
        /// What was being decoded.
        what: &'static str,
        /// Bytes required.
        expected: usize,
        /// Bytes received.
        got: usize,
    },
    /// The version byte is not [`HEADER_V2_VERSION`].
    #[error("header version {0} is not supported (expected {HEADER_V2_VERSION})")]
    UnsupportedVersion(u8),
    /// Heights start at 1.
    #[error("height 0 is reserved")]
    ZeroHeight,
    /// The first block has no parent: its `parent` must be zero.
    #[error("the header at height 1 must have a zero parent")]
    GenesisParent,
    /// `k` must be a power of two in `1..=K_MAX`.
    #[error("invalid square size k={k}")]
    InvalidK {
        /// The rejected value.
        k: u16,
    },
    /// A block header carries exactly `2k` commitments.
    #[error("{got} commitments for k={k} (need {expected})")]
    CommitmentCount {
        /// `k` of the header.
        k: u16,
        /// `2k`.
        expected: usize,
        /// Commitments present.
        got: usize,
    },
    /// The commitments do not hash to the header's `data_root`.
    #[error("data_root {claimed} does not match the commitments ({computed})")]
    DataRootMismatch {
        /// Hex of the header's `data_root`.
        claimed: String,
        /// Hex of the recomputed root.
        computed: String,
    },
}

/// SHA-256 of the chain id's UTF-8 bytes: the `chain` field of headers and sign bytes.
pub fn chain_hash(chain_id: &str) -> [u8; 32] {
    Sha256::digest(chain_id.as_bytes()).into()
}

/// The fixed-size header the validators vote on; its [`id`](Self::id) is the consensus value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConsensusHeader {
    /// [`chain_hash`] of the chain id.
    pub chain: [u8; 32],
    /// Height, starting at 1.
    pub height: u64,
    /// Id of the header at `height − 1`; zero at height 1.
    pub parent: [u8; 32],
    /// Proposer's clock, milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// Index of the proposer in the validator set's canonical order.
    pub proposer: u32,
    /// Hash of the validator set that decides this height.
    pub validators_hash: [u8; 32],
    /// Hash of the validator set of the next height.
    pub next_validators_hash: [u8; 32],
    /// RFC 6962 root over the square parameters and the `2k` row commitments ([`data_root`]).
    pub data_root: [u8; 32],
    /// Root of the `(height, data_root)` tuples of the attestation window (zero when none).
    pub tuple_root: [u8; 32],
}

impl ConsensusHeader {
    /// `version ‖ chain ‖ u64_be height ‖ parent ‖ u64_be timestamp ‖ u32_be proposer ‖
    /// validators_hash ‖ next_validators_hash ‖ data_root ‖ tuple_root`.
    pub fn encode(&self) -> [u8; HEADER_V2_LEN] {
        let mut out = [0u8; HEADER_V2_LEN];
        let mut w = Writer(&mut out[..]);
        w.put(&[HEADER_V2_VERSION]);
        w.put(&self.chain);
        w.put(&self.height.to_be_bytes());
        w.put(&self.parent);
        w.put(&self.timestamp_ms.to_be_bytes());
        w.put(&self.proposer.to_be_bytes());
        w.put(&self.validators_hash);
        w.put(&self.next_validators_hash);
        w.put(&self.data_root);
        w.put(&self.tuple_root);
        out
    }

    /// Decodes exactly [`HEADER_V2_LEN`] bytes and checks the version and
    /// [`validate`](Self::validate).
    pub fn decode(bytes: &[u8]) -> Result<Self, HeaderV2Error> {
        if bytes.len() != HEADER_V2_LEN {
            return Err(HeaderV2Error::Length {
                what: "consensus header",
                expected: HEADER_V2_LEN,
                got: bytes.len(),
            });
        }
        let mut r = Reader::new(bytes, "consensus header");
        let version = r.array::<1>()?[0];
        if version != HEADER_V2_VERSION {
            return Err(HeaderV2Error::UnsupportedVersion(version));
        }
        let header = Self {
            chain: r.array()?,
            height: u64::from_be_bytes(r.array()?),
            parent: r.array()?,
            timestamp_ms: u64::from_be_bytes(r.array()?),
            proposer: u32::from_be_bytes(r.array()?),
            validators_hash: r.array()?,
            next_validators_hash: r.array()?,
            data_root: r.array()?,
            tuple_root: r.array()?,
        };
        header.validate()?;
        Ok(header)
    }

    /// Field rules: height ≥ 1, and a zero parent at height 1.
    pub fn validate(&self) -> Result<(), HeaderV2Error> {
        if self.height == 0 {
            return Err(HeaderV2Error::ZeroHeight);
        }
        if self.height == 1 && self.parent != [0; 32] {
            return Err(HeaderV2Error::GenesisParent);
        }
        Ok(())
    }

    /// `SHA-256("da/header/v2" ‖ encode())`: the header id, what validators vote for.
    pub fn id(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(HEADER_ID_DOMAIN);
        h.update(self.encode());
        h.finalize().into()
    }
}

/// The first leaf of the `data_root` tree: `u16_be(k) ‖ u32_be(blob_count) ‖ u8(layout
/// version)`.
pub fn params_leaf(k: u16, blob_count: u32) -> [u8; PARAMS_LEAF_LEN] {
    let mut out = [0u8; PARAMS_LEAF_LEN];
    out[..2].copy_from_slice(&k.to_be_bytes());
    out[2..6].copy_from_slice(&blob_count.to_be_bytes());
    out[6] = LAYOUT_VERSION;
    out
}

fn data_root_leaves<'a>(
    params: &'a [u8; PARAMS_LEAF_LEN],
    commitments: &'a [[u8; BYTES_PER_G1]],
) -> Vec<&'a [u8]> {
    let mut leaves: Vec<&[u8]> = Vec::with_capacity(1 + commitments.len());
    leaves.push(params);
    leaves.extend(commitments.iter().map(|c| &c[..]));
    leaves
}

/// RFC 6962 SHA-256 root over `[params_leaf(k, blob_count), C_0, …, C_{2k−1}]` (row commitments
/// in row order). Hashes whatever it is given: [`BlockHeader::check`] checks the count.
pub fn data_root(k: u16, blob_count: u32, commitments: &[[u8; BYTES_PER_G1]]) -> [u8; 32] {
    let params = params_leaf(k, blob_count);
    merkle::root(&data_root_leaves(&params, commitments))
}

/// Inclusion proof of row `row`'s commitment in the `data_root` tree (leaf `row + 1`); `None`
/// if `row` is out of range.
pub fn data_root_proof(
    k: u16,
    blob_count: u32,
    commitments: &[[u8; BYTES_PER_G1]],
    row: usize,
) -> Option<MerkleProof> {
    if row >= commitments.len() {
        return None;
    }
    let params = params_leaf(k, blob_count);
    merkle::prove(&data_root_leaves(&params, commitments), row + 1)
}

/// Inclusion proof of the params leaf (leaf 0) in the `data_root` tree: what binds `k`, and so
/// the tree's size `2k + 1`, for a verifier that has only the root (`12-attestation.md`).
pub fn params_proof(
    k: u16,
    blob_count: u32,
    commitments: &[[u8; BYTES_PER_G1]],
) -> Option<MerkleProof> {
    let params = params_leaf(k, blob_count);
    merkle::prove(&data_root_leaves(&params, commitments), 0)
}

/// The full header: the consensus header plus what its `data_root` commits to. This is what
/// travels on gossip, header ranges and gRPC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockHeader {
    /// The voted fields.
    pub header: ConsensusHeader,
    /// Original rows of the square.
    pub k: u16,
    /// Entries in the square index.
    pub blob_count: u32,
    /// The `2k` row commitments, rows `0..2k`.
    pub commitments: Vec<[u8; BYTES_PER_G1]>,
}

impl BlockHeader {
    /// Checks `k`, the commitment count, that the commitments hash to `data_root`, and the
    /// consensus header's field rules.
    pub fn check(&self) -> Result<(), HeaderV2Error> {
        self.header.validate()?;
        check_k(usize::from(self.k)).map_err(|_| HeaderV2Error::InvalidK { k: self.k })?;
        let expected = 2 * usize::from(self.k);
        if self.commitments.len() != expected {
            return Err(HeaderV2Error::CommitmentCount {
                k: self.k,
                expected,
                got: self.commitments.len(),
            });
        }
        let computed = self.computed_data_root();
        if computed != self.header.data_root {
            return Err(HeaderV2Error::DataRootMismatch {
                claimed: hex::encode(self.header.data_root),
                computed: hex::encode(computed),
            });
        }
        Ok(())
    }

    /// [`data_root`] of this header's `k`, blob count and commitments.
    pub fn computed_data_root(&self) -> [u8; 32] {
        data_root(self.k, self.blob_count, &self.commitments)
    }

    /// The header id ([`ConsensusHeader::id`]).
    pub fn id(&self) -> [u8; 32] {
        self.header.id()
    }

    /// Bytes of [`to_bytes`](Self::to_bytes).
    pub fn encoded_len(&self) -> usize {
        HEADER_V2_LEN + 2 + 4 + self.commitments.len() * BYTES_PER_G1
    }

    /// `ConsensusHeader (213) ‖ u16_be k ‖ u32_be blob_count ‖ 2k × 48 commitments`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.write(&mut out);
        out
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.header.encode());
        out.extend_from_slice(&self.k.to_be_bytes());
        out.extend_from_slice(&self.blob_count.to_be_bytes());
        for c in &self.commitments {
            out.extend_from_slice(c);
        }
    }

    /// Decodes exactly [`to_bytes`](Self::to_bytes) output and runs [`check`](Self::check).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, HeaderV2Error> {
        let (block, used) = Self::read(bytes)?;
        if used != bytes.len() {
            return Err(HeaderV2Error::Length {
                what: "block header",
                expected: used,
                got: bytes.len(),
            });
        }
        block.check()?;
        Ok(block)
    }

    /// Decodes a block header at the start of `bytes` (bounds only, not
    /// [`check`](Self::check)); returns it and the bytes it used.
    pub(crate) fn read(bytes: &[u8]) -> Result<(Self, usize), HeaderV2Error> {
        const WHAT: &str = "block header";
        let fixed = HEADER_V2_LEN + 6;
        if bytes.len() < fixed {
            // The version is checked first so that other formats get the clearer error.
            if let Some(&v) = bytes.first() {
                if v != HEADER_V2_VERSION {
                    return Err(HeaderV2Error::UnsupportedVersion(v));
                }
            }
            return Err(HeaderV2Error::Length {
                what: WHAT,
                expected: fixed,
                got: bytes.len(),
            });
        }
        let header = ConsensusHeader::decode(&bytes[..HEADER_V2_LEN])?;
        let mut r = Reader::new(&bytes[HEADER_V2_LEN..], WHAT);
        let k = u16::from_be_bytes(r.array()?);
        let blob_count = u32::from_be_bytes(r.array()?);
        // Bound k before sizing anything by it.
        check_k(usize::from(k)).map_err(|_| HeaderV2Error::InvalidK { k })?;
        let count = 2 * usize::from(k);
        let len = fixed + count * BYTES_PER_G1;
        if bytes.len() < len {
            return Err(HeaderV2Error::Length {
                what: WHAT,
                expected: len,
                got: bytes.len(),
            });
        }
        let commitments = (0..count)
            .map(|_| r.array::<BYTES_PER_G1>())
            .collect::<Result<Vec<_>, _>>()?;
        let block = Self {
            header,
            k,
            blob_count,
            commitments,
        };
        Ok((block, len))
    }
}

/// The two vote types of Tendermint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VoteKind {
    /// First-phase vote (byte 1 in sign bytes).
    Prevote,
    /// Second-phase vote; a quorum of them decides (byte 2 in sign bytes).
    Precommit,
}

impl VoteKind {
    /// The byte in sign bytes: 1 for prevote, 2 for precommit.
    pub fn tag(self) -> u8 {
        match self {
            Self::Prevote => 1,
            Self::Precommit => 2,
        }
    }
}

/// What a validator signs for a vote: `"da/vote/v2" ‖ kind ‖ chain ‖ u64_be height ‖
/// u32_be round ‖ (0x00 for nil | 0x01 ‖ header id)`. The voter is not part of it, so
/// precommits for one value aggregate into a certificate.
pub fn vote_sign_bytes(
    kind: VoteKind,
    chain: &[u8; 32],
    height: u64,
    round: u32,
    value: Option<&[u8; 32]>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(VOTE_DOMAIN.len() + 1 + 32 + 8 + 4 + 33);
    out.extend_from_slice(VOTE_DOMAIN);
    out.push(kind.tag());
    out.extend_from_slice(chain);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&round.to_be_bytes());
    match value {
        None => out.push(0),
        Some(id) => {
            out.push(1);
            out.extend_from_slice(id);
        }
    }
    out
}

/// What a proposer signs: `"da/proposal/v2" ‖ chain ‖ u64_be height ‖ u32_be round ‖
/// (0x00 | 0x01 ‖ u32_be pol_round) ‖ header id`.
pub fn proposal_sign_bytes(
    chain: &[u8; 32],
    height: u64,
    round: u32,
    pol_round: Option<u32>,
    value: &[u8; 32],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(PROPOSAL_DOMAIN.len() + 32 + 8 + 4 + 5 + 32);
    out.extend_from_slice(PROPOSAL_DOMAIN);
    out.extend_from_slice(chain);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&round.to_be_bytes());
    match pol_round {
        None => out.push(0),
        Some(r) => {
            out.push(1);
            out.extend_from_slice(&r.to_be_bytes());
        }
    }
    out.extend_from_slice(value);
    out
}

/// Fills a fixed buffer front to back.
struct Writer<'a>(&'a mut [u8]);

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let buf = std::mem::take(&mut self.0);
        let (head, tail) = buf.split_at_mut(bytes.len());
        head.copy_from_slice(bytes);
        self.0 = tail;
    }
}

/// Reads fixed-size fields front to back; running out is a [`HeaderV2Error::Length`].
struct Reader<'a> {
    rest: &'a [u8],
    total: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Self {
            rest: bytes,
            total: bytes.len(),
            what,
        }
    }

    fn slice(&mut self, n: usize) -> Result<&'a [u8], HeaderV2Error> {
        if self.rest.len() < n {
            return Err(HeaderV2Error::Length {
                what: self.what,
                expected: self.total - self.rest.len() + n,
                got: self.total,
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], HeaderV2Error> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.slice(N)?);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn commitments(k: u16) -> Vec<[u8; 48]> {
        (0..2 * k)
            .map(|i| {
                let mut c = [0xc0; 48];
                c[46..].copy_from_slice(&i.to_be_bytes());
                c
            })
            .collect()
    }

    fn block(height: u64, k: u16) -> BlockHeader {
        let commitments = commitments(k);
        BlockHeader {
            header: ConsensusHeader {
                chain: chain_hash("devnet"),
                height,
                parent: if height == 1 { [0; 32] } else { [7; 32] },
                timestamp_ms: 1_700_000_000_123,
                proposer: 3,
                validators_hash: [8; 32],
                next_validators_hash: [9; 32],
                data_root: data_root(k, 5, &commitments),
                tuple_root: [0; 32],
            },
            k,
            blob_count: 5,
            commitments,
        }
    }

    #[test]
    fn encoding_layout_is_the_spec_table() {
        assert_eq!(HEADER_V2_LEN, 213);
        let h = ConsensusHeader {
            chain: [0x11; 32],
            height: 0x0102030405060708,
            parent: [0x22; 32],
            timestamp_ms: 0x1112131415161718,
            proposer: 0xa1a2a3a4,
            validators_hash: [0x33; 32],
            next_validators_hash: [0x44; 32],
            data_root: [0x55; 32],
            tuple_root: [0x66; 32],
        };
        let e = h.encode();
        let mut expected = vec![2u8];
        expected.extend([0x11; 32]);
        expected.extend([1, 2, 3, 4, 5, 6, 7, 8]);
        expected.extend([0x22; 32]);
        expected.extend([0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18]);
        expected.extend([0xa1, 0xa2, 0xa3, 0xa4]);
        for b in [0x33, 0x44, 0x55, 0x66] {
            expected.extend([b; 32]);
        }
        assert_eq!(e.to_vec(), expected);
        assert_eq!(ConsensusHeader::decode(&e), Ok(h));
        let mut tagged = b"da/header/v2".to_vec();
        tagged.extend_from_slice(&e);
        assert_eq!(h.id(), <[u8; 32]>::from(Sha256::digest(&tagged)));
        assert_eq!(
            hex::encode(chain_hash("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn decode_rejects_every_wrong_length_version_and_field() {
        let e = block(2, 1).header.encode();
        for len in 0..e.len() {
            assert!(matches!(
                ConsensusHeader::decode(&e[..len]),
                Err(HeaderV2Error::Length { got, .. }) if got == len
            ));
        }
        let mut long = e.to_vec();
        long.push(0);
        assert!(matches!(
            ConsensusHeader::decode(&long),
            Err(HeaderV2Error::Length { .. })
        ));
        for v in [0u8, 1, 3, 255] {
            let mut b = e;
            b[0] = v;
            assert_eq!(
                ConsensusHeader::decode(&b),
                Err(HeaderV2Error::UnsupportedVersion(v))
            );
        }
        let mut zero = block(2, 1).header;
        zero.height = 0;
        assert_eq!(
            ConsensusHeader::decode(&zero.encode()),
            Err(HeaderV2Error::ZeroHeight)
        );
        let mut orphan = block(1, 1).header;
        orphan.parent = [1; 32];
        assert_eq!(
            ConsensusHeader::decode(&orphan.encode()),
            Err(HeaderV2Error::GenesisParent)
        );
    }

    #[test]
    fn id_covers_every_field() {
        let h = block(5, 2).header;
        let id = h.id();
        let mut variants = vec![];
        let mut x = h;
        x.chain[0] ^= 1;
        variants.push(x);
        let mut x = h;
        x.height += 1;
        variants.push(x);
        let mut x = h;
        x.parent[31] ^= 1;
        variants.push(x);
        let mut x = h;
        x.timestamp_ms += 1;
        variants.push(x);
        let mut x = h;
        x.proposer += 1;
        variants.push(x);
        let mut x = h;
        x.validators_hash[0] ^= 1;
        variants.push(x);
        let mut x = h;
        x.next_validators_hash[0] ^= 1;
        variants.push(x);
        let mut x = h;
        x.data_root[0] ^= 1;
        variants.push(x);
        let mut x = h;
        x.tuple_root[0] ^= 1;
        variants.push(x);
        for v in variants {
            assert_ne!(v.id(), id, "{v:?}");
        }
    }

    #[test]
    fn data_root_is_rfc6962_over_params_and_commitments() {
        let c = commitments(2);
        let params = params_leaf(2, 5);
        assert_eq!(params, [0, 2, 0, 0, 0, 5, 1]);
        // 5 leaves: ((p, c0), (c1, c2)), c3, by hand.
        let l = |b: &[u8]| merkle::leaf_hash(b);
        let n = |a: &[u8; 32], b: &[u8; 32]| merkle::node_hash(a, b);
        let left = n(&n(&l(&params), &l(&c[0])), &n(&l(&c[1]), &l(&c[2])));
        assert_eq!(data_root(2, 5, &c), n(&left, &l(&c[3])));
        // Every input matters.
        assert_ne!(data_root(2, 6, &c), data_root(2, 5, &c));
        assert_ne!(data_root(4, 5, &c), data_root(2, 5, &c));
        let mut swapped = c.clone();
        swapped.swap(0, 1);
        assert_ne!(data_root(2, 5, &swapped), data_root(2, 5, &c));
        // Row proofs.
        let root = data_root(2, 5, &c);
        for (row, cm) in c.iter().enumerate() {
            let proof = data_root_proof(2, 5, &c, row).expect("row");
            assert_eq!(proof.index, row as u64 + 1);
            assert!(proof.verify(&root, cm));
            assert!(!proof.verify(&root, &[0; 48]));
        }
        assert_eq!(data_root_proof(2, 5, &c, 4), None);
    }

    #[test]
    fn block_header_check() {
        for k in [1u16, 2, 8, 256] {
            block(3, k).check().expect("valid");
        }
        let mut b = block(3, 2);
        b.commitments.pop();
        assert_eq!(
            b.check(),
            Err(HeaderV2Error::CommitmentCount {
                k: 2,
                expected: 4,
                got: 3
            })
        );
        let mut b = block(3, 2);
        b.k = 3;
        assert_eq!(b.check(), Err(HeaderV2Error::InvalidK { k: 3 }));
        let mut b = block(3, 2);
        b.blob_count += 1;
        assert!(matches!(
            b.check(),
            Err(HeaderV2Error::DataRootMismatch { .. })
        ));
        let mut b = block(3, 2);
        b.commitments[3][47] ^= 1;
        assert!(matches!(
            b.check(),
            Err(HeaderV2Error::DataRootMismatch { .. })
        ));
        let mut b = block(3, 2);
        b.header.height = 0;
        assert_eq!(b.check(), Err(HeaderV2Error::ZeroHeight));
        assert_eq!(block(3, 2).id(), block(3, 2).header.id());
    }

    #[test]
    fn block_header_bytes_round_trip_and_every_prefix_is_rejected() {
        let b = block(9, 2);
        let bytes = b.to_bytes();
        assert_eq!(bytes.len(), b.encoded_len());
        assert_eq!(bytes.len(), 213 + 6 + 4 * 48);
        assert_eq!(BlockHeader::from_bytes(&bytes), Ok(b));
        for len in 0..bytes.len() {
            assert!(
                BlockHeader::from_bytes(&bytes[..len]).is_err(),
                "prefix {len}"
            );
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(BlockHeader::from_bytes(&long).is_err());
        // A huge k is refused before anything is sized by it.
        let mut huge = bytes.clone();
        huge[213..215].copy_from_slice(&u16::MAX.to_be_bytes());
        assert_eq!(
            BlockHeader::from_bytes(&huge),
            Err(HeaderV2Error::InvalidK { k: u16::MAX })
        );
        let mut tampered = bytes;
        tampered[215] ^= 1;
        assert!(matches!(
            BlockHeader::from_bytes(&tampered),
            Err(HeaderV2Error::DataRootMismatch { .. })
        ));
    }

    #[test]
    fn sign_bytes_layout() {
        let chain = [0xcc; 32];
        let id = [0xdd; 32];
        let v = vote_sign_bytes(VoteKind::Precommit, &chain, 7, 2, Some(&id));
        let mut expected = b"da/vote/v2".to_vec();
        expected.push(2);
        expected.extend(chain);
        expected.extend(7u64.to_be_bytes());
        expected.extend(2u32.to_be_bytes());
        expected.push(1);
        expected.extend(id);
        assert_eq!(v, expected);
        let nil = vote_sign_bytes(VoteKind::Prevote, &chain, 7, 2, None);
        assert_eq!(nil.len(), 10 + 1 + 32 + 8 + 4 + 1);
        assert_eq!(nil[10], 1);
        assert_eq!(*nil.last().expect("byte"), 0);
        assert_ne!(
            vote_sign_bytes(VoteKind::Prevote, &chain, 7, 2, Some(&id)),
            v
        );

        let p = proposal_sign_bytes(&chain, 7, 2, Some(1), &id);
        let mut expected = b"da/proposal/v2".to_vec();
        expected.extend(chain);
        expected.extend(7u64.to_be_bytes());
        expected.extend(2u32.to_be_bytes());
        expected.push(1);
        expected.extend(1u32.to_be_bytes());
        expected.extend(id);
        assert_eq!(p, expected);
        let fresh = proposal_sign_bytes(&chain, 7, 2, None, &id);
        assert_eq!(fresh.len(), 14 + 32 + 8 + 4 + 1 + 32);
        assert_ne!(fresh, p);
    }

    proptest! {
        #[test]
        fn consensus_header_round_trips(
            chain in any::<[u8; 32]>(),
            height in 2u64..,
            parent in any::<[u8; 32]>(),
            timestamp_ms in any::<u64>(),
            proposer in any::<u32>(),
            hashes in any::<[[u8; 32]; 4]>(),
        ) {
            let h = ConsensusHeader {
                chain,
                height,
                parent,
                timestamp_ms,
                proposer,
                validators_hash: hashes[0],
                next_validators_hash: hashes[1],
                data_root: hashes[2],
                tuple_root: hashes[3],
            };
            prop_assert_eq!(ConsensusHeader::decode(&h.encode()), Ok(h));
        }
    }
}

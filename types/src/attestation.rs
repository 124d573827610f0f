//! Attestation windows and the `tuple_root` (`specs/12-attestation.md`): what a header commits to
//! so that an L1 contract, having checked one certificate per window, can prove any height's
//! `data_root` with a Merkle proof.
//!
//! Every `W` heights (the genesis `attestation_window`) the header at height `n·W` carries the
//! root of the window `n` (the heights `(n − 1)·W + 1 ..= n·W`, its own included): an RFC 6962
//! SHA-256 tree ([`merkle`](crate::merkle)) whose leaves are Blobstream's `DataRootTuple`,
//! ABI-encoded (`uint256 height ‖ bytes32 data_root`, 64 bytes). The window number `n` is the
//! contract's nonce. Other headers carry a zero `tuple_root`; with `W = 0` none commits to one.

use crate::merkle::{self, MerkleProof};

/// `attestation_window` of a chain that `da-node init` and the devnet create.
pub const DEFAULT_ATTESTATION_WINDOW: u64 = 64;
/// Largest `attestation_window` (Blobstream's largest data-commitment window).
pub const MAX_ATTESTATION_WINDOW: u64 = 10_000;
/// Bytes of an ABI-encoded [`DataRootTuple`].
pub const TUPLE_LEN: usize = 64;

/// Blobstream's `DataRootTuple`: a height and its header's `data_root`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DataRootTuple {
    /// Height of the header.
    pub height: u64,
    /// Its `data_root`.
    pub data_root: [u8; 32],
}

impl DataRootTuple {
    /// `abi.encode(tuple)`: the height as a big-endian `uint256`, then the root. The leaf of the
    /// tuple tree.
    pub fn abi_encode(&self) -> [u8; TUPLE_LEN] {
        let mut out = [0u8; TUPLE_LEN];
        out[24..32].copy_from_slice(&self.height.to_be_bytes());
        out[32..].copy_from_slice(&self.data_root);
        out
    }
}

/// Whether the header at `height` carries a `tuple_root` under window length `window` (`0` =
/// never).
pub fn is_window_end(height: u64, window: u64) -> bool {
    window != 0 && height != 0 && height % window == 0
}

/// The window (the contract's nonce) that holds `height`: `⌈height / W⌉`; `None` for `W = 0` or
/// height 0.
pub fn window_of(height: u64, window: u64) -> Option<u64> {
    if window == 0 || height == 0 {
        return None;
    }
    Some(height.div_ceil(window))
}

/// First and last height of window `nonce` (`nonce ≥ 1`); `None` if out of range.
pub fn window_heights(nonce: u64, window: u64) -> Option<(u64, u64)> {
    if window == 0 || nonce == 0 {
        return None;
    }
    let last = nonce.checked_mul(window)?;
    Some((last - window + 1, last))
}

/// The tuples of a window: `data_roots[i]` is the root of height `first + i`.
fn leaves(first: u64, data_roots: &[[u8; 32]]) -> Vec<[u8; TUPLE_LEN]> {
    data_roots
        .iter()
        .zip(first..)
        .map(|(root, height)| {
            DataRootTuple {
                height,
                data_root: *root,
            }
            .abi_encode()
        })
        .collect()
}

/// RFC 6962 root over the tuples of heights `first, first + 1, …` with these data roots.
pub fn tuple_root(first: u64, data_roots: &[[u8; 32]]) -> [u8; 32] {
    let leaves = leaves(first, data_roots);
    let refs: Vec<&[u8]> = leaves.iter().map(|l| &l[..]).collect();
    merkle::root(&refs)
}

/// Inclusion proof of the tuple at `height` among the tuples of `first ..` (`None` if `height`
/// is outside them). Its `index` is Blobstream's `key`, its `total` the `numLeaves`, its
/// siblings the `sideNodes` (leaf level first).
pub fn tuple_proof(first: u64, data_roots: &[[u8; 32]], height: u64) -> Option<MerkleProof> {
    let index = usize::try_from(height.checked_sub(first)?).ok()?;
    let leaves = leaves(first, data_roots);
    let refs: Vec<&[u8]> = leaves.iter().map(|l| &l[..]).collect();
    merkle::prove(&refs, index)
}

/// Whether `proof` puts `tuple` in window `nonce` of length `window` with root `root`: the
/// proof's key and leaf count must be the tuple's place in that window, so a proof from
/// another window or position fails even when its hashes match.
pub fn verify_tuple(
    root: &[u8; 32],
    nonce: u64,
    window: u64,
    tuple: &DataRootTuple,
    proof: &MerkleProof,
) -> bool {
    let Some((first, last)) = window_heights(nonce, window) else {
        return false;
    };
    if tuple.height < first || tuple.height > last {
        return false;
    }
    proof.index == tuple.height - first
        && proof.total == window
        && proof.verify(root, &tuple.abi_encode())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(n: usize) -> Vec<[u8; 32]> {
        (0..n).map(|i| [i as u8 + 1; 32]).collect()
    }

    #[test]
    fn windows_are_numbered_from_one_and_end_on_multiples() {
        assert_eq!(window_of(1, 4), Some(1));
        assert_eq!(window_of(4, 4), Some(1));
        assert_eq!(window_of(5, 4), Some(2));
        assert_eq!(window_of(5, 0), None);
        assert_eq!(window_of(0, 4), None);
        assert_eq!(window_heights(2, 4), Some((5, 8)));
        assert_eq!(window_heights(0, 4), None);
        assert_eq!(window_heights(u64::MAX, 4), None);
        assert!(is_window_end(8, 4));
        assert!(!is_window_end(7, 4));
        assert!(!is_window_end(8, 0));
    }

    #[test]
    fn the_leaf_is_the_abi_encoding_of_the_tuple() {
        let t = DataRootTuple {
            height: 0x0102,
            data_root: [7; 32],
        };
        let enc = t.abi_encode();
        assert_eq!(&enc[..30], &[0u8; 30]);
        assert_eq!(&enc[30..32], &[1, 2]);
        assert_eq!(&enc[32..], &[7; 32]);
    }

    #[test]
    fn proofs_verify_only_at_their_place_in_their_window() {
        let w = 5;
        let r = roots(5);
        // Window 2 holds heights 6..=10.
        let root = tuple_root(6, &r);
        for h in 6..=10 {
            let p = tuple_proof(6, &r, h).expect("in the window");
            let t = DataRootTuple {
                height: h,
                data_root: r[(h - 6) as usize],
            };
            assert!(verify_tuple(&root, 2, w, &t, &p), "height {h}");
            // Another nonce, another height or another root fails.
            assert!(!verify_tuple(&root, 1, w, &t, &p));
            assert!(!verify_tuple(&root, 3, w, &t, &p));
            let moved = DataRootTuple { height: h + 1, ..t };
            assert!(!verify_tuple(&root, 2, w, &moved, &p));
            let wrong = DataRootTuple {
                data_root: [0xee; 32],
                ..t
            };
            assert!(!verify_tuple(&root, 2, w, &wrong, &p));
            // A proof claiming a larger tree is refused even though the window is the same.
            let mut lying = p.clone();
            lying.total = 6;
            assert!(!verify_tuple(&root, 2, w, &t, &lying));
        }
        assert!(tuple_proof(6, &r, 5).is_none());
        assert!(tuple_proof(6, &r, 11).is_none());
    }

    #[test]
    fn the_root_depends_on_every_height_and_root() {
        let r = roots(4);
        let base = tuple_root(1, &r);
        assert_ne!(base, tuple_root(5, &r), "heights are in the leaves");
        let mut changed = r.clone();
        changed[3][0] ^= 1;
        assert_ne!(base, tuple_root(1, &changed));
        assert_ne!(base, tuple_root(1, &r[..3]));
    }
}

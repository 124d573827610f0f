//! SHA-256 binary Merkle trees of RFC 6962 (Certificate Transparency, §2.1), as Celestia's and
//! Blobstream's `BinaryMerkleTree` build them: roots and inclusion proofs
//! (`specs/05-header.md` §data_root).
//!
//! - leaf hash `SHA-256(0x00 ‖ leaf)`, node hash `SHA-256(0x01 ‖ left ‖ right)`;
//! - a tree of `n > 1` leaves splits at the largest power of two below `n`;
//! - the empty tree's root is `SHA-256("")`.
//!
//! SHA-256 because the EVM has a precompile for it, so an L1 contract can check our proofs.

use sha2::{Digest, Sha256};

/// `SHA-256(0x00 ‖ leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(leaf);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> [u8; 32] {
    Sha256::digest([]).into()
}

/// The parent level: pairs hashed left to right, a last unpaired node promoted unchanged. Level
/// by level this builds the same tree as RFC 6962's split at the largest power of two.
fn next_level(level: &[[u8; 32]]) -> Vec<[u8; 32]> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [l, r] => node_hash(l, r),
            [single] => *single,
            _ => unreachable!("chunks(2) yields one or two nodes"),
        })
        .collect()
}

/// Root over already hashed leaves ([`leaf_hash`] of each).
pub fn root_of_leaf_hashes(hashes: &[[u8; 32]]) -> [u8; 32] {
    if hashes.is_empty() {
        return empty_root();
    }
    let mut level = hashes.to_vec();
    while level.len() > 1 {
        level = next_level(&level);
    }
    level[0]
}

/// Root of the tree over `leaves`.
pub fn root(leaves: &[&[u8]]) -> [u8; 32] {
    let hashes: Vec<[u8; 32]> = leaves.iter().map(|l| leaf_hash(l)).collect();
    root_of_leaf_hashes(&hashes)
}

/// Inclusion proof of leaf `index` among `leaves` (RFC 6962 audit path); `None` if `index` is
/// out of range.
pub fn prove(leaves: &[&[u8]], index: usize) -> Option<MerkleProof> {
    if index >= leaves.len() {
        return None;
    }
    let mut level: Vec<[u8; 32]> = leaves.iter().map(|l| leaf_hash(l)).collect();
    let mut siblings = Vec::new();
    let mut i = index;
    while level.len() > 1 {
        let sibling = i ^ 1;
        // An unpaired last node is promoted: no sibling at this level.
        if sibling < level.len() {
            siblings.push(level[sibling]);
        }
        level = next_level(&level);
        i /= 2;
    }
    Some(MerkleProof {
        index: index as u64,
        total: leaves.len() as u64,
        siblings,
    })
}

/// An RFC 6962 inclusion proof: the leaf's position, the tree size and the sibling hashes from
/// the leaf up to the root.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MerkleProof {
    /// Position of the leaf, `< total`.
    pub index: u64,
    /// Number of leaves in the tree.
    pub total: u64,
    /// Sibling hashes, leaf level first.
    pub siblings: Vec<[u8; 32]>,
}

impl MerkleProof {
    /// The root this proof yields for `leaf`, or `None` if the path does not fit the tree size
    /// (RFC 9162 §2.1.3.2).
    pub fn compute_root(&self, leaf: &[u8]) -> Option<[u8; 32]> {
        if self.index >= self.total {
            return None;
        }
        let mut f = self.index;
        let mut s = self.total - 1;
        let mut r = leaf_hash(leaf);
        for p in &self.siblings {
            if s == 0 {
                return None;
            }
            if f & 1 == 1 || f == s {
                r = node_hash(p, &r);
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            } else {
                r = node_hash(&r, p);
            }
            f >>= 1;
            s >>= 1;
        }
        (s == 0).then_some(r)
    }

    /// Whether `leaf` sits at `index` of the tree with this `root`. This binds `index` only if
    /// `total` is the tree's real size: the caller must check `total` against what the root
    /// commits to (the last leaf of 2k + 1 also verifies as index 1 of a tree of 2), except for
    /// index 0, whose proof retraces the left edge whatever `total` says.
    pub fn verify(&self, root: &[u8; 32], leaf: &[u8]) -> bool {
        self.compute_root(leaf).as_ref() == Some(root)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sha(parts: &[&[u8]]) -> [u8; 32] {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().into()
    }

    /// RFC 6962 §2.1 `MTH`, transcribed literally: recursive, splitting at the largest power of
    /// two below `n`, hashing straight from the leaves.
    fn mth(d: &[&[u8]]) -> [u8; 32] {
        match d.len() {
            0 => sha(&[]),
            1 => sha(&[&[0], d[0]]),
            n => {
                let mut k = 1;
                while k * 2 < n {
                    k *= 2;
                }
                sha(&[&[1], &mth(&d[..k]), &mth(&d[k..])])
            }
        }
    }

    /// RFC 6962 §2.1.1 `PATH(m, D[n])`, transcribed literally.
    fn path(m: usize, d: &[&[u8]]) -> Vec<[u8; 32]> {
        let n = d.len();
        if n <= 1 {
            return vec![];
        }
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        if m < k {
            let mut p = path(m, &d[..k]);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = path(m - k, &d[k..]);
            p.push(mth(&d[..k]));
            p
        }
    }

    /// The leaves of Certificate Transparency's reference tests.
    const CT_LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    /// Their roots for 0..=8 leaves (the RFC 6962 reference values CT and Trillian test).
    const CT_ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn ct_leaves() -> Vec<Vec<u8>> {
        CT_LEAVES
            .iter()
            .map(|h| hex::decode(h).expect("hex"))
            .collect()
    }

    #[test]
    fn reference_roots() {
        let owned = ct_leaves();
        let leaves: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        for (n, expected) in CT_ROOTS.iter().enumerate() {
            assert_eq!(hex::encode(root(&leaves[..n])), *expected, "{n} leaves");
            assert_eq!(
                hex::encode(mth(&leaves[..n])),
                *expected,
                "{n} leaves (MTH)"
            );
        }
        assert_eq!(root(&[]), empty_root());
        assert_eq!(root(&[b"x"]), leaf_hash(b"x"));
    }

    #[test]
    fn reference_inclusion_proofs() {
        // Audit paths of leaves 0 and 5 in the 8-leaf tree (CT's reference tests).
        let owned = ct_leaves();
        let leaves: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let root8: [u8; 32] = hex::decode(CT_ROOTS[8])
            .expect("hex")
            .try_into()
            .expect("32");
        for (index, expected) in [
            (
                0,
                [
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                [
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
        ] {
            let proof = prove(&leaves, index).expect("in range");
            let got: Vec<String> = proof.siblings.iter().map(hex::encode).collect();
            assert_eq!(got, expected, "leaf {index}");
            assert!(proof.verify(&root8, leaves[index]));
        }
    }

    #[test]
    fn matches_the_literal_recursive_definition() {
        for n in [3usize, 5, 7, 2, 4, 6, 8, 9, 13, 16, 17, 33] {
            let owned: Vec<Vec<u8>> = (0..n).map(|i| vec![i as u8; i % 5]).collect();
            let leaves: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
            assert_eq!(root(&leaves), mth(&leaves), "{n} leaves");
        }
    }

    #[test]
    fn every_proof_of_trees_up_to_20_leaves() {
        for n in 1..=20usize {
            let owned: Vec<Vec<u8>> = (0..n).map(|i| format!("leaf {i}").into_bytes()).collect();
            let leaves: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
            let r = root(&leaves);
            for i in 0..n {
                let proof = prove(&leaves, i).expect("in range");
                assert_eq!(proof.siblings, path(i, &leaves), "n={n} i={i}");
                assert_eq!((proof.index, proof.total), (i as u64, n as u64));
                assert!(proof.verify(&r, leaves[i]), "n={n} i={i}");
                // Another leaf, another position, another size, a truncated or extended path,
                // or a changed sibling all fail.
                assert!(!proof.verify(&r, b"not a leaf"));
                let other = (i + 1) % n;
                if other != i {
                    assert!(!proof.verify(&r, leaves[other]));
                    let moved = MerkleProof {
                        index: other as u64,
                        ..proof.clone()
                    };
                    assert!(!moved.verify(&r, leaves[i]), "n={n} i={i} moved");
                }
                // A size that cannot hold the index. (Another size with the same path shape
                // yields the same root: RFC 6962 proofs assume the verifier knows the size.)
                let shrunk = MerkleProof {
                    total: i as u64,
                    ..proof.clone()
                };
                assert_eq!(shrunk.compute_root(leaves[i]), None);
                if !proof.siblings.is_empty() {
                    let mut short = proof.clone();
                    short.siblings.pop();
                    assert!(!short.verify(&r, leaves[i]));
                    let mut bent = proof.clone();
                    bent.siblings[0][0] ^= 1;
                    assert!(!bent.verify(&r, leaves[i]));
                }
                let mut long = proof.clone();
                long.siblings.push([0; 32]);
                assert!(!long.verify(&r, leaves[i]));
            }
            assert_eq!(prove(&leaves, n), None);
        }
        let out = MerkleProof {
            index: 3,
            total: 3,
            siblings: vec![],
        };
        assert_eq!(out.compute_root(b""), None);
    }

    proptest! {
        #[test]
        fn proofs_verify_and_roots_match_mth(
            leaves in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..8), 1..40),
            pick in any::<usize>(),
        ) {
            let refs: Vec<&[u8]> = leaves.iter().map(Vec::as_slice).collect();
            let r = root(&refs);
            prop_assert_eq!(r, mth(&refs));
            let i = pick % refs.len();
            let proof = prove(&refs, i).expect("in range");
            prop_assert!(proof.verify(&r, refs[i]));
        }
    }
}

//! The `DAOracle` contract's state machine (`specs/12-attestation.md` §Contract), rule for rule
//! and in the contract's order, so that the Rust and Solidity implementations accept and refuse
//! the same inputs with the same error (the golden vectors check both).
//!
//! State: the chain hash and window length (fixed at deployment), the hash of the validator set
//! that certifies the next window, the last committed height, and one `tuple_root` per nonce.

use std::collections::BTreeMap;

use da_types::{
    attestation::{is_window_end, verify_tuple, DataRootTuple},
    header_v2::{vote_sign_bytes, VoteKind},
    validators::VALIDATOR_SET_DOMAIN,
    BlsPublicKey, BlsSignature, ConsensusHeader, MerkleProof, Trust,
};
use sha2::{Digest, Sha256};

use crate::evm::{compress_g1, g1, g2_to_zcash, CommitHeader, G2_LEN};

/// Why `commit_header` refuses (the contract reverts with the error of the same name).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OracleError {
    /// The header is not 213 bytes of a v2 header with height ≥ 1 (and a zero parent at 1).
    #[error("not a v2 consensus header")]
    BadHeader,
    /// The header is another chain's.
    #[error("header of another chain")]
    WrongChain,
    /// The height does not end an attestation window.
    #[error("height {height} does not end a window of {window}")]
    NotWindowEnd {
        /// The header's height.
        height: u64,
        /// The window length.
        window: u64,
    },
    /// A header at or below the last committed height.
    #[error("height {height} is not above the last committed {last}")]
    StaleHeight {
        /// The header's height.
        height: u64,
        /// The last committed height.
        last: u64,
    },
    /// The header's or the supplied validators' hash is not the stored set's.
    #[error("the validator set is not the one the oracle trusts")]
    WrongValidatorSet,
    /// The bitmap is not `ceil(n/8)` bytes or sets a bit at or beyond `n`.
    #[error("signer bitmap does not fit the validator set")]
    BadBitmap,
    /// The signers hold at most 2/3 of the power.
    #[error("signers hold {signed} of {total} power (more than 2/3 needed)")]
    InsufficientPower {
        /// Signers' power.
        signed: u64,
        /// The set's power.
        total: u64,
    },
    /// A point does not decode or the aggregate signature does not verify.
    #[error("the aggregate signature does not verify")]
    BadSignature,
}

impl OracleError {
    /// The name of the contract's custom error for this refusal.
    pub fn contract_error(&self) -> &'static str {
        match self {
            Self::BadHeader => "BadHeader",
            Self::WrongChain => "WrongChain",
            Self::NotWindowEnd { .. } => "NotWindowEnd",
            Self::StaleHeight { .. } => "StaleHeight",
            Self::WrongValidatorSet => "WrongValidatorSet",
            Self::BadBitmap => "BadBitmap",
            Self::InsufficientPower { .. } => "InsufficientPower",
            Self::BadSignature => "BadSignature",
        }
    }
}

/// The oracle's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Oracle {
    chain: [u8; 32],
    window: u64,
    validators_hash: [u8; 32],
    last_height: u64,
    roots: BTreeMap<u64, [u8; 32]>,
}

impl Oracle {
    /// A freshly deployed oracle (the contract's constructor arguments).
    pub fn new(chain: [u8; 32], window: u64, validators_hash: [u8; 32]) -> Self {
        Self {
            chain,
            window,
            validators_hash,
            last_height: 0,
            roots: BTreeMap::new(),
        }
    }

    /// An oracle of the chain `trust` describes, trusting its genesis set; `None` when the
    /// chain attests nothing (`attestation_window = 0`).
    pub fn from_trust(trust: &Trust) -> Option<Self> {
        let window = trust.attestation_window();
        (window != 0).then(|| Self::new(trust.chain(), window, trust.set().hash()))
    }

    /// The window length.
    pub fn window(&self) -> u64 {
        self.window
    }

    /// The hash of the set that must certify the next window.
    pub fn validators_hash(&self) -> [u8; 32] {
        self.validators_hash
    }

    /// The last committed height (0 before the first commit).
    pub fn last_height(&self) -> u64 {
        self.last_height
    }

    /// The `tuple_root` stored under `nonce`.
    pub fn tuple_root(&self, nonce: u64) -> Option<[u8; 32]> {
        self.roots.get(&nonce).copied()
    }

    /// Checks a window's certified header and stores its `tuple_root` under its nonce
    /// (`height / W`), which it returns. The checks, in order: header bytes, chain, window end,
    /// height above the last, the header's and the supplied validators' hashes equal to the
    /// stored one, bitmap, more than 2/3 of the power, the aggregate signature over the
    /// precommit sign bytes. Then the next window's set becomes the header's
    /// `next_validators_hash`.
    pub fn commit_header(&mut self, args: &CommitHeader) -> Result<u64, OracleError> {
        let header = ConsensusHeader::decode(&args.header).map_err(|_| OracleError::BadHeader)?;
        if header.chain != self.chain {
            return Err(OracleError::WrongChain);
        }
        if !is_window_end(header.height, self.window) {
            return Err(OracleError::NotWindowEnd {
                height: header.height,
                window: self.window,
            });
        }
        if header.height <= self.last_height {
            return Err(OracleError::StaleHeight {
                height: header.height,
                last: self.last_height,
            });
        }
        if header.validators_hash != self.validators_hash || set_hash(args) != self.validators_hash
        {
            return Err(OracleError::WrongValidatorSet);
        }
        let n = args.validators.len();
        let signers = signer_indices(&args.signers, n).ok_or(OracleError::BadBitmap)?;
        let total: u128 = args.validators.iter().map(|v| u128::from(v.power)).sum();
        let signed: u128 = signers
            .iter()
            .map(|&i| u128::from(args.validators[i].power))
            .sum();
        if 3 * signed <= 2 * total {
            return Err(OracleError::InsufficientPower {
                signed: signed as u64,
                total: total as u64,
            });
        }
        let keys = signers
            .iter()
            .map(|&i| signer_key(&args.validators[i].key))
            .collect::<Option<Vec<_>>>()
            .ok_or(OracleError::BadSignature)?;
        let signature = <&[u8; G2_LEN]>::try_from(args.signature.as_slice())
            .ok()
            .and_then(g2_to_zcash)
            .and_then(|raw| BlsSignature::from_uncompressed(&raw).ok())
            .ok_or(OracleError::BadSignature)?;
        let id = header.id();
        let message = vote_sign_bytes(
            VoteKind::Precommit,
            &header.chain,
            header.height,
            args.round,
            Some(&id),
        );
        signature
            .verify_aggregate(&message, keys.iter())
            .map_err(|_| OracleError::BadSignature)?;
        let nonce = header.height / self.window;
        self.roots.insert(nonce, header.tuple_root);
        self.last_height = header.height;
        self.validators_hash = header.next_validators_hash;
        Ok(nonce)
    }

    /// Blobstream's `verifyAttestation`: whether `proof` puts `tuple` in the window committed
    /// under `nonce` (false for a nonce never committed).
    pub fn verify_attestation(
        &self,
        nonce: u64,
        tuple: &DataRootTuple,
        proof: &MerkleProof,
    ) -> bool {
        self.roots
            .get(&nonce)
            .is_some_and(|root| verify_tuple(root, nonce, self.window, tuple, proof))
    }
}

/// `SHA-256("da/validator-set/v2" ‖ u32_be(n) ‖ for each: compress(key) ‖ u64_be(power))` of
/// the supplied validators, the keys compressed as the contract does.
fn set_hash(args: &CommitHeader) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(VALIDATOR_SET_DOMAIN);
    h.update((args.validators.len() as u32).to_be_bytes());
    for v in &args.validators {
        h.update(compress_g1(&v.key));
        h.update(v.power.to_be_bytes());
    }
    h.finalize().into()
}

/// The set bits of a bitmap of `n` validators, or `None` if it has the wrong length or a bit at
/// or beyond `n`.
fn signer_indices(bitmap: &[u8], n: usize) -> Option<Vec<usize>> {
    if bitmap.len() != n.div_ceil(8) {
        return None;
    }
    let mut out = Vec::new();
    for (byte, b) in bitmap.iter().enumerate() {
        for bit in 0..8 {
            if b & (1 << bit) != 0 {
                let i = byte * 8 + bit;
                if i >= n {
                    return None;
                }
                out.push(i);
            }
        }
    }
    Some(out)
}

/// A signer's key: the point must be exactly the EIP-2537 encoding of a valid key (the
/// contract feeds it to the precompiles, which refuse anything else).
fn signer_key(point: &[u8; 128]) -> Option<BlsPublicKey> {
    let key = BlsPublicKey::from_bytes(&compress_g1(point)).ok()?;
    (g1(&key) == *point).then_some(key)
}

#[cfg(test)]
mod tests {
    use da_types::{
        attestation::{tuple_proof, tuple_root},
        BlsSecretKey, Certificate, Validator, ValidatorSet,
    };

    use super::*;

    struct Chain {
        keys: Vec<BlsSecretKey>,
        set: ValidatorSet,
        chain: [u8; 32],
    }

    fn chain() -> Chain {
        let keys: Vec<BlsSecretKey> = (1..=4u8)
            .map(|i| BlsSecretKey::from_ikm(&[i; 32]))
            .collect();
        let set = ValidatorSet::new(
            keys.iter()
                .map(|k| Validator {
                    public_key: k.public_key(),
                    power: 10,
                })
                .collect(),
        )
        .expect("set");
        Chain {
            keys,
            set,
            chain: da_types::chain_hash("oracle"),
        }
    }

    impl Chain {
        fn header(&self, height: u64, roots: &[[u8; 32]]) -> ConsensusHeader {
            ConsensusHeader {
                chain: self.chain,
                height,
                parent: [1; 32],
                timestamp_ms: height,
                proposer: 0,
                validators_hash: self.set.hash(),
                next_validators_hash: self.set.hash(),
                data_root: *roots.last().expect("a root"),
                tuple_root: tuple_root(height + 1 - roots.len() as u64, roots),
            }
        }

        /// A certificate signed by the validators at `signers` (canonical indices).
        fn certify(&self, header: &ConsensusHeader, signers: &[usize]) -> Certificate {
            let id = header.id();
            let msg = vote_sign_bytes(
                VoteKind::Precommit,
                &self.chain,
                header.height,
                2,
                Some(&id),
            );
            let precommits: Vec<_> = signers
                .iter()
                .map(|&i| {
                    let pk = self.set.get(i).expect("index").public_key;
                    let key = self
                        .keys
                        .iter()
                        .find(|k| k.public_key() == pk)
                        .expect("key");
                    (i, key.sign(&msg))
                })
                .collect();
            Certificate::aggregate(&self.set, &self.chain, header.height, 2, &id, &precommits)
                .expect("aggregate")
        }
    }

    fn roots(first: u8, n: usize) -> Vec<[u8; 32]> {
        (0..n).map(|i| [first + i as u8; 32]).collect()
    }

    #[test]
    fn commits_windows_and_verifies_their_tuples() {
        let c = chain();
        let mut oracle = Oracle::new(c.chain, 4, c.set.hash());
        let r1 = roots(1, 4);
        let h4 = c.header(4, &r1);
        let nonce = oracle
            .commit_header(&CommitHeader::new(&h4, &c.certify(&h4, &[0, 1, 2]), &c.set))
            .expect("three of four");
        assert_eq!(nonce, 1);
        assert_eq!(oracle.last_height(), 4);
        for h in 1..=4u64 {
            let tuple = DataRootTuple {
                height: h,
                data_root: r1[h as usize - 1],
            };
            let proof = tuple_proof(1, &r1, h).expect("proof");
            assert!(oracle.verify_attestation(1, &tuple, &proof), "height {h}");
            assert!(
                !oracle.verify_attestation(2, &tuple, &proof),
                "no window 2 yet"
            );
        }
        // Window 2 skips nothing; window 3 may be committed after skipping none or some.
        let r3 = roots(20, 4);
        let h12 = c.header(12, &r3);
        assert_eq!(
            oracle.commit_header(&CommitHeader::new(
                &h12,
                &c.certify(&h12, &[0, 1, 2, 3]),
                &c.set
            )),
            Ok(3)
        );
        // Going back is refused.
        let h8 = c.header(8, &roots(10, 4));
        assert_eq!(
            oracle.commit_header(&CommitHeader::new(&h8, &c.certify(&h8, &[0, 1, 2]), &c.set)),
            Err(OracleError::StaleHeight {
                height: 8,
                last: 12
            })
        );
    }

    #[test]
    fn each_rule_refuses_with_the_contract_s_error() {
        let c = chain();
        let fresh = Oracle::new(c.chain, 4, c.set.hash());
        let r = roots(1, 4);
        let h4 = c.header(4, &r);
        let good = CommitHeader::new(&h4, &c.certify(&h4, &[0, 1, 2]), &c.set);
        let refuse = |args: &CommitHeader| fresh.clone().commit_header(args).expect_err("refused");

        let mut a = good.clone();
        a.header.truncate(212);
        assert_eq!(refuse(&a), OracleError::BadHeader);
        let mut a = good.clone();
        a.header[0] = 3;
        assert_eq!(refuse(&a), OracleError::BadHeader);

        let other = ConsensusHeader {
            chain: [9; 32],
            ..h4
        };
        let a = CommitHeader::new(&other, &c.certify(&other, &[0, 1, 2]), &c.set);
        assert_eq!(refuse(&a), OracleError::WrongChain);

        let h3 = c.header(3, &roots(1, 3));
        let a = CommitHeader::new(&h3, &c.certify(&h3, &[0, 1, 2]), &c.set);
        assert!(matches!(
            refuse(&a),
            OracleError::NotWindowEnd { height: 3, .. }
        ));

        let mut a = good.clone();
        a.validators[3].power = 11;
        assert_eq!(refuse(&a), OracleError::WrongValidatorSet);
        let mut a = good.clone();
        a.validators.swap(0, 1);
        assert_eq!(refuse(&a), OracleError::WrongValidatorSet);

        let mut a = good.clone();
        a.signers.push(0);
        assert_eq!(refuse(&a), OracleError::BadBitmap);
        let mut a = good.clone();
        a.signers[0] |= 0x10;
        assert_eq!(refuse(&a), OracleError::BadBitmap);

        // Two of four: not a quorum.
        let a = CommitHeader::new(&h4, &c.certify(&h4, &[0, 1]), &c.set);
        assert_eq!(
            refuse(&a),
            OracleError::InsufficientPower {
                signed: 20,
                total: 40
            }
        );
        // A forged bitmap: claims a fourth signer whose signature is not in the aggregate.
        let mut a = good.clone();
        a.signers[0] |= 0x08;
        assert_eq!(refuse(&a), OracleError::BadSignature);
        // A signature over another round.
        let mut a = good.clone();
        a.round = 3;
        assert_eq!(refuse(&a), OracleError::BadSignature);
        // A signer key with its y negated (same x, other sign): the set hash changes.
        let mut a = good.clone();
        a.validators[0].key[64 + 16] ^= 1;
        assert!(matches!(
            refuse(&a),
            OracleError::WrongValidatorSet | OracleError::BadSignature
        ));
        // A padding byte in the signature.
        let mut a = good.clone();
        a.signature[0] = 1;
        assert_eq!(refuse(&a), OracleError::BadSignature);

        assert_eq!(fresh.clone().commit_header(&good), Ok(1));
        assert_eq!(OracleError::BadSignature.contract_error(), "BadSignature");
    }

    #[test]
    fn attestations_fail_for_a_wrong_tuple_nonce_or_window() {
        let c = chain();
        let mut oracle = Oracle::new(c.chain, 4, c.set.hash());
        let r1 = roots(1, 4);
        let h4 = c.header(4, &r1);
        oracle
            .commit_header(&CommitHeader::new(&h4, &c.certify(&h4, &[0, 1, 2]), &c.set))
            .expect("commit");
        let r2 = roots(50, 4);
        let h8 = c.header(8, &r2);
        oracle
            .commit_header(&CommitHeader::new(&h8, &c.certify(&h8, &[1, 2, 3]), &c.set))
            .expect("commit");
        let t2 = DataRootTuple {
            height: 2,
            data_root: r1[1],
        };
        let p2 = tuple_proof(1, &r1, 2).expect("proof");
        assert!(oracle.verify_attestation(1, &t2, &p2));
        // Wrong root.
        let bad = DataRootTuple {
            data_root: [0; 32],
            ..t2
        };
        assert!(!oracle.verify_attestation(1, &bad, &p2));
        // Wrong nonce (another window, and one never committed).
        assert!(!oracle.verify_attestation(2, &t2, &p2));
        assert!(!oracle.verify_attestation(7, &t2, &p2));
        // A proof from window 2 for a tuple of window 2, presented under nonce 1.
        let t6 = DataRootTuple {
            height: 6,
            data_root: r2[1],
        };
        let p6 = tuple_proof(5, &r2, 6).expect("proof");
        assert!(oracle.verify_attestation(2, &t6, &p6));
        assert!(!oracle.verify_attestation(1, &t6, &p6));
    }
}

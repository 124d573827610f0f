//! The `DAOracle` contract's state machine (`specs/12-attestation.md` §Contract), rule for rule
//! and in the contract's order, so that the Rust and Solidity implementations accept and refuse
//! the same inputs with the same error (the golden vectors check both).
//!
//! State: the chain hash, the window length and the validator set (fixed at deployment: the
//! chain's validator set cannot change yet, a voting rule), and one `tuple_root` per nonce.

use std::collections::BTreeMap;

use da_types::{
    attestation::{is_window_end, verify_tuple, DataRootTuple},
    header_v2::{vote_sign_bytes, VoteKind},
    validators::VALIDATOR_SET_DOMAIN,
    BlsPublicKey, BlsSignature, ConsensusHeader, MerkleProof, ValidatorSet,
};
use sha2::{Digest, Sha256};

use crate::evm::{
    compress_g1, g1, g2_to_zcash, validator_keys, CommitHeader, ValidatorKey, G2_LEN,
};

/// Most validators one oracle holds (its data contract's code-size limit).
pub const MAX_ORACLE_VALIDATORS: usize = 236;
/// Largest total power the oracle accepts.
pub const MAX_ORACLE_POWER: u64 = 1 << 62;

/// Why the oracle refuses (the contract reverts with the error of the same name).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OracleError {
    /// Deployment: validator `index`'s key is not a canonical point of G1 (or of the subgroup).
    #[error("validator {0}: not a valid key")]
    BadKey(usize),
    /// Deployment: no validators, more than [`MAX_ORACLE_VALIDATORS`], a zero power or a total
    /// over [`MAX_ORACLE_POWER`].
    #[error("the validator set is empty, too large or has a zero or too large power")]
    BadValidatorSet,
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
    /// The window's `tuple_root` is already stored.
    #[error("window {0} is already committed")]
    AlreadyCommitted(u64),
    /// The header's validator-set hash or next validator-set hash is not the oracle's set's.
    #[error("the header's validator set is not the oracle's")]
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
    /// The signature is not a valid G2 point or the aggregate signature does not verify.
    #[error("the aggregate signature does not verify")]
    BadSignature,
}

impl OracleError {
    /// The name of the contract's custom error for this refusal.
    pub fn contract_error(&self) -> &'static str {
        match self {
            Self::BadKey(_) => "BadKey",
            Self::BadValidatorSet => "BadValidatorSet",
            Self::BadHeader => "BadHeader",
            Self::WrongChain => "WrongChain",
            Self::NotWindowEnd { .. } => "NotWindowEnd",
            Self::AlreadyCommitted(_) => "AlreadyCommitted",
            Self::WrongValidatorSet => "WrongValidatorSet",
            Self::BadBitmap => "BadBitmap",
            Self::InsufficientPower { .. } => "InsufficientPower",
            Self::BadSignature => "BadSignature",
        }
    }
}

/// The oracle's state.
#[derive(Clone, Debug)]
pub struct Oracle {
    chain: [u8; 32],
    window: u64,
    keys: Vec<(BlsPublicKey, u64)>,
    total_power: u64,
    validators_hash: [u8; 32],
    roots: BTreeMap<u64, [u8; 32]>,
}

impl Oracle {
    /// A freshly deployed oracle: the contract's constructor `(chain, window, validators)`,
    /// validators in canonical order as [`validator_keys`] gives them.
    pub fn new(
        chain: [u8; 32],
        window: u64,
        validators: &[ValidatorKey],
    ) -> Result<Self, OracleError> {
        let n = validators.len();
        if n == 0 || n > MAX_ORACLE_VALIDATORS {
            return Err(OracleError::BadValidatorSet);
        }
        let mut keys = Vec::with_capacity(n);
        let mut total: u64 = 0;
        let mut h = Sha256::new();
        h.update(VALIDATOR_SET_DOMAIN);
        h.update((n as u32).to_be_bytes());
        for (i, v) in validators.iter().enumerate() {
            if v.power == 0 {
                return Err(OracleError::BadValidatorSet);
            }
            total = total.saturating_add(v.power);
            // The contract checks the encoding and the curve; the key's hash then fixes the
            // point (x and the sign of y) to the chain's key, which is in the subgroup.
            let key = BlsPublicKey::from_bytes(&compress_g1(&v.key))
                .ok()
                .filter(|k| g1(k) == v.key)
                .ok_or(OracleError::BadKey(i))?;
            h.update(key.as_bytes());
            h.update(v.power.to_be_bytes());
            keys.push((key, v.power));
        }
        if total > MAX_ORACLE_POWER {
            return Err(OracleError::BadValidatorSet);
        }
        Ok(Self {
            chain,
            window,
            keys,
            total_power: total,
            validators_hash: h.finalize().into(),
            roots: BTreeMap::new(),
        })
    }

    /// An oracle of the chain with this chain hash, window and validator set.
    pub fn for_set(chain: [u8; 32], window: u64, set: &ValidatorSet) -> Result<Self, OracleError> {
        Self::new(chain, window, &validator_keys(set))
    }

    /// The window length.
    pub fn window(&self) -> u64 {
        self.window
    }

    /// The chain's hash of the oracle's validator set.
    pub fn validators_hash(&self) -> [u8; 32] {
        self.validators_hash
    }

    /// The `tuple_root` stored under `nonce`.
    pub fn tuple_root(&self, nonce: u64) -> Option<[u8; 32]> {
        self.roots.get(&nonce).copied()
    }

    /// Checks a window's certified header and stores its `tuple_root` under its nonce
    /// (`height / W`), which it returns. The checks, in order: header bytes, chain, window end,
    /// window not yet committed, both validator-set hashes equal to the oracle's, bitmap, more
    /// than 2/3 of the power, the aggregate signature over the precommit sign bytes. Windows
    /// may be committed in any order.
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
        let nonce = header.height / self.window;
        if self.roots.contains_key(&nonce) {
            return Err(OracleError::AlreadyCommitted(nonce));
        }
        if header.validators_hash != self.validators_hash
            || header.next_validators_hash != self.validators_hash
        {
            return Err(OracleError::WrongValidatorSet);
        }
        let signers =
            signer_indices(&args.signers, self.keys.len()).ok_or(OracleError::BadBitmap)?;
        let signed: u64 = signers.iter().map(|&i| self.keys[i].1).sum();
        if 3 * u128::from(signed) <= 2 * u128::from(self.total_power) {
            return Err(OracleError::InsufficientPower {
                signed,
                total: self.total_power,
            });
        }
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
            .verify_aggregate(&message, signers.iter().map(|&i| &self.keys[i].0))
            .map_err(|_| OracleError::BadSignature)?;
        self.roots.insert(nonce, header.tuple_root);
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

#[cfg(test)]
mod tests {
    use da_types::{
        attestation::{tuple_proof, tuple_root},
        BlsSecretKey, Certificate, Validator,
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
        fn oracle(&self) -> Oracle {
            Oracle::for_set(self.chain, 4, &self.set).expect("oracle")
        }

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

        /// The commit of `header` signed by the validators at `signers` (canonical indices).
        fn commit(&self, header: &ConsensusHeader, signers: &[usize]) -> CommitHeader {
            let id = header.id();
            let msg = vote_sign_bytes(
                VoteKind::Precommit,
                &header.chain,
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
            let cert = Certificate::aggregate(
                &self.set,
                &header.chain,
                header.height,
                2,
                &id,
                &precommits,
            )
            .expect("aggregate");
            CommitHeader::new(header, &cert)
        }
    }

    fn roots(first: u8, n: usize) -> Vec<[u8; 32]> {
        (0..n).map(|i| [first + i as u8; 32]).collect()
    }

    #[test]
    fn the_oracle_hashes_its_set_as_the_chain_does_and_refuses_bad_keys() {
        let c = chain();
        assert_eq!(c.oracle().validators_hash(), c.set.hash());
        let mut keys = validator_keys(&c.set);
        keys[2].key[127] ^= 1;
        assert_eq!(
            Oracle::new(c.chain, 4, &keys).err(),
            Some(OracleError::BadKey(2))
        );
        let mut keys = validator_keys(&c.set);
        keys[0].power = 0;
        assert_eq!(
            Oracle::new(c.chain, 4, &keys).err(),
            Some(OracleError::BadValidatorSet)
        );
        assert_eq!(
            Oracle::new(c.chain, 4, &[]).err(),
            Some(OracleError::BadValidatorSet)
        );
    }

    #[test]
    fn commits_windows_in_any_order_once_and_verifies_their_tuples() {
        let c = chain();
        let mut oracle = c.oracle();
        let r1 = roots(1, 4);
        let h4 = c.header(4, &r1);
        assert_eq!(oracle.commit_header(&c.commit(&h4, &[0, 1, 2])), Ok(1));
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
        let h12 = c.header(12, &roots(20, 4));
        assert_eq!(oracle.commit_header(&c.commit(&h12, &[0, 1, 2, 3])), Ok(3));
        // A skipped window can be committed later; a committed one not again.
        let h8 = c.header(8, &roots(10, 4));
        assert_eq!(oracle.commit_header(&c.commit(&h8, &[1, 2, 3])), Ok(2));
        assert_eq!(
            oracle.commit_header(&c.commit(&h8, &[0, 1, 2, 3])),
            Err(OracleError::AlreadyCommitted(2))
        );
    }

    #[test]
    fn each_rule_refuses_with_the_contract_s_error() {
        let c = chain();
        let fresh = c.oracle();
        let h4 = c.header(4, &roots(1, 4));
        let good = c.commit(&h4, &[0, 1, 2]);
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
        assert_eq!(
            refuse(&c.commit(&other, &[0, 1, 2])),
            OracleError::WrongChain
        );
        let h3 = c.header(3, &roots(1, 3));
        assert!(matches!(
            refuse(&c.commit(&h3, &[0, 1, 2])),
            OracleError::NotWindowEnd { height: 3, .. }
        ));
        let next = ConsensusHeader {
            next_validators_hash: [5; 32],
            ..h4
        };
        assert_eq!(
            refuse(&c.commit(&next, &[0, 1, 2])),
            OracleError::WrongValidatorSet
        );
        let mut a = good.clone();
        a.signers.push(0);
        assert_eq!(refuse(&a), OracleError::BadBitmap);
        let mut a = good.clone();
        a.signers[0] |= 0x10;
        assert_eq!(refuse(&a), OracleError::BadBitmap);
        assert_eq!(
            refuse(&c.commit(&h4, &[0, 1])),
            OracleError::InsufficientPower {
                signed: 20,
                total: 40
            }
        );
        // A forged bitmap: claims a fourth signer whose signature is not in the aggregate.
        let mut a = good.clone();
        a.signers[0] |= 0x08;
        assert_eq!(refuse(&a), OracleError::BadSignature);
        let mut a = good.clone();
        a.round = 3;
        assert_eq!(refuse(&a), OracleError::BadSignature);
        let mut a = good.clone();
        a.signature[0] = 1;
        assert_eq!(refuse(&a), OracleError::BadSignature);
        assert_eq!(fresh.clone().commit_header(&good), Ok(1));
        assert_eq!(OracleError::BadSignature.contract_error(), "BadSignature");
    }

    #[test]
    fn attestations_fail_for_a_wrong_tuple_nonce_or_window() {
        let c = chain();
        let mut oracle = c.oracle();
        let r1 = roots(1, 4);
        let h4 = c.header(4, &r1);
        oracle
            .commit_header(&c.commit(&h4, &[0, 1, 2]))
            .expect("commit");
        let r2 = roots(50, 4);
        let h8 = c.header(8, &r2);
        oracle
            .commit_header(&c.commit(&h8, &[1, 2, 3]))
            .expect("commit");
        let t2 = DataRootTuple {
            height: 2,
            data_root: r1[1],
        };
        let p2 = tuple_proof(1, &r1, 2).expect("proof");
        assert!(oracle.verify_attestation(1, &t2, &p2));
        let bad = DataRootTuple {
            data_root: [0; 32],
            ..t2
        };
        assert!(!oracle.verify_attestation(1, &bad, &p2));
        assert!(!oracle.verify_attestation(2, &t2, &p2));
        assert!(!oracle.verify_attestation(7, &t2, &p2));
        let t6 = DataRootTuple {
            height: 6,
            data_root: r2[1],
        };
        let p6 = tuple_proof(5, &r2, 6).expect("proof");
        assert!(oracle.verify_attestation(2, &t6, &p6));
        assert!(!oracle.verify_attestation(1, &t6, &p6));
    }
}

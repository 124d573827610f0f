//! Validators, the validator set and the genesis file (`specs/05-header.md` §Header v2).
//!
//! This module owns the canonical order of a validator set (ascending public-key bytes), its
//! hash, the quorum rule (strictly more than 2/3 of the voting power), the proposer selection
//! and the genesis file (JSON) from which the first set is built after every proof of possession
//! is checked.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    attestation::MAX_ATTESTATION_WINDOW,
    bls::{BlsError, BlsPublicKey, BlsSecretKey, BlsSignature, PUBLIC_KEY_LEN},
    consts::K_MAX,
    header_v2::{chain_hash, MAX_CHAIN_ID_LEN},
    layout::check_k,
};

/// Domain tag of the validator-set hash.
pub const VALIDATOR_SET_DOMAIN: &[u8] = b"da/validator-set/v2";
/// Largest total voting power: `3 · total` must not overflow a `u64`.
pub const MAX_TOTAL_POWER: u64 = u64::MAX / 4;
/// Most validators in a set: a certificate's signer bitmap carries its length as a `u16`.
pub const MAX_VALIDATORS: usize = u16::MAX as usize;

/// Why a list of validators is not a valid set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    /// A set needs at least one validator.
    #[error("a validator set needs at least one validator")]
    Empty,
    /// More validators than a signer bitmap can index.
    #[error("{got} validators, at most {max}")]
    TooMany {
        /// Validators given.
        got: usize,
        /// The limit.
        max: usize,
    },
    /// Every validator needs power ≥ 1.
    #[error("validator {} has zero power", hex::encode(.public_key))]
    ZeroPower {
        /// The validator's key.
        public_key: [u8; PUBLIC_KEY_LEN],
    },
    /// A key appears twice.
    #[error("validator {} appears twice", hex::encode(.public_key))]
    Duplicate {
        /// The repeated key.
        public_key: [u8; PUBLIC_KEY_LEN],
    },
    /// The powers sum to more than [`MAX_TOTAL_POWER`].
    #[error("total power exceeds {max}")]
    TotalPowerTooLarge {
        /// The limit.
        max: u64,
    },
}

/// One validator: its BLS key and voting power.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Validator {
    /// The validator's BLS public key (its proof of possession was checked at genesis).
    pub public_key: BlsPublicKey,
    /// Voting power, at least 1.
    pub power: u64,
}

/// A valid validator set in canonical order (ascending public-key bytes), with its total power
/// and hash computed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    total_power: u64,
    hash: [u8; 32],
}

impl ValidatorSet {
    /// Sorts `validators` into canonical order and checks the set: not empty, at most
    /// [`MAX_VALIDATORS`], no key twice, every power ≥ 1, total ≤ [`MAX_TOTAL_POWER`].
    ///
    /// It does not check proofs of possession: build sets from a checked [`Genesis`] (or from
    /// keys whose proofs were checked).
    pub fn new(mut validators: Vec<Validator>) -> Result<Self, ValidatorSetError> {
        if validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        if validators.len() > MAX_VALIDATORS {
            return Err(ValidatorSetError::TooMany {
                got: validators.len(),
                max: MAX_VALIDATORS,
            });
        }
        validators.sort_by_key(|v| v.public_key);
        if let Some(w) = validators
            .windows(2)
            .find(|w| w[0].public_key == w[1].public_key)
        {
            return Err(ValidatorSetError::Duplicate {
                public_key: w[0].public_key.to_bytes(),
            });
        }
        let mut total: u64 = 0;
        for v in &validators {
            if v.power == 0 {
                return Err(ValidatorSetError::ZeroPower {
                    public_key: v.public_key.to_bytes(),
                });
            }
            total = total
                .checked_add(v.power)
                .filter(|t| *t <= MAX_TOTAL_POWER)
                .ok_or(ValidatorSetError::TotalPowerTooLarge {
                    max: MAX_TOTAL_POWER,
                })?;
        }
        let hash = set_hash(&validators);
        Ok(Self {
            validators,
            total_power: total,
            hash,
        })
    }

    /// The validators in canonical order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// Number of validators (at least 1).
    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Always false: a set has at least one validator.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// Sum of the powers.
    pub fn total_power(&self) -> u64 {
        self.total_power
    }

    /// Position of `key` in canonical order.
    pub fn index_of(&self, key: &BlsPublicKey) -> Option<usize> {
        self.validators
            .binary_search_by(|v| v.public_key.cmp(key))
            .ok()
    }

    /// The validator at `index` in canonical order.
    pub fn get(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }

    /// `SHA-256("da/validator-set/v2" ‖ u32_be(n) ‖ for each: pubkey(48) ‖ u64_be(power))`, in
    /// canonical order.
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }

    /// Whether `power` is a quorum: strictly more than 2/3 of the total (`3·power > 2·total`).
    pub fn has_quorum(&self, power: u64) -> bool {
        3 * u128::from(power) > 2 * u128::from(self.total_power)
    }

    /// The proposer of `(height, round)`: index `((height − 1) + round) mod n` in canonical
    /// order. Round-robin by position, not weighted by power. Heights start at 1; height 0 is
    /// treated as 1. This is the engine's proposer selection and a voting rule: a validator
    /// refuses a proposal from anyone else.
    pub fn proposer(&self, height: u64, round: u32) -> usize {
        let step = u128::from(height.saturating_sub(1)) + u128::from(round);
        // The remainder is below n ≤ MAX_VALIDATORS, so it fits a usize.
        (step % self.validators.len() as u128) as usize
    }
}

fn set_hash(validators: &[Validator]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(VALIDATOR_SET_DOMAIN);
    h.update((validators.len() as u32).to_be_bytes());
    for v in validators {
        h.update(v.public_key.as_bytes());
        h.update(v.power.to_be_bytes());
    }
    h.finalize().into()
}

/// Why a genesis file is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// Not JSON of the genesis shape (or a key or signature that does not decode).
    #[error("genesis JSON: {0}")]
    Json(String),
    /// The chain id must be 1..=64 bytes of UTF-8.
    #[error("chain id must be 1..={MAX_CHAIN_ID_LEN} bytes, got {len}")]
    ChainIdLength {
        /// Bytes of the chain id.
        len: usize,
    },
    /// `max_square_k` must be a power of two in `1..=K_MAX`.
    #[error("max_square_k = {k} must be a power of two in 1..={K_MAX}")]
    MaxSquareK {
        /// The rejected value.
        k: u16,
    },
    /// `dedup_window` must be at least 1.
    #[error("dedup_window must be at least 1 height")]
    DedupWindow,
    /// `attestation_window` is above [`MAX_ATTESTATION_WINDOW`].
    #[error("attestation_window = {0} is above the maximum {MAX_ATTESTATION_WINDOW}")]
    AttestationWindow(u64),
    /// A validator's proof of possession does not verify for its key.
    #[error("validator {index} ({}): {source}", hex::encode(.public_key))]
    BadProofOfPossession {
        /// Position of the validator in the file.
        index: usize,
        /// Its key.
        public_key: [u8; PUBLIC_KEY_LEN],
        /// What failed.
        source: BlsError,
    },
    /// The validators do not form a valid set.
    #[error("genesis validators: {0}")]
    ValidatorSet(#[from] ValidatorSetError),
}

/// One validator of the genesis file, with the proof of possession of its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// BLS public key (hex of the 48 compressed bytes).
    pub public_key: BlsPublicKey,
    /// Voting power, at least 1.
    pub power: u64,
    /// Signature over the key's 48 bytes under the PoP tag (hex of 96 bytes).
    pub proof_of_possession: BlsSignature,
}

impl GenesisValidator {
    /// The entry of the holder of `key`, with a fresh proof of possession.
    pub fn new(key: &BlsSecretKey, power: u64) -> Self {
        Self {
            public_key: key.public_key(),
            power,
            proof_of_possession: key.proof_of_possession(),
        }
    }
}

/// The genesis file: what every node, validator and light client of a chain starts from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// Chain identifier, 1..=64 bytes of UTF-8; headers carry its SHA-256 ([`chain_hash`]).
    pub chain_id: String,
    /// Time of genesis, milliseconds since the Unix epoch.
    pub genesis_time_ms: u64,
    /// The first validator set, in any order.
    pub validators: Vec<GenesisValidator>,
    /// Consensus limit on `k`: a power of two in `1..=K_MAX`.
    pub max_square_k: u16,
    /// Consensus rule of exactly-once inclusion: a block at height `h` is invalid if it holds a
    /// blob id included at any of the heights `h - dedup_window .. h` (`specs/11-consensus.md`);
    /// nodes keep their blob index at least that long. At least 1; absent from a file =
    /// [`DEFAULT_DEDUP_WINDOW`].
    #[serde(default = "default_dedup_window")]
    pub dedup_window: u64,
    /// Every `attestation_window` heights the header commits to the window's
    /// `(height, data_root)` tuples in its `tuple_root`, for the L1 contract
    /// (`specs/12-attestation.md`). At most [`MAX_ATTESTATION_WINDOW`]; `0` (and absent from a
    /// file, as in files written before attestation existed) = no header carries one.
    #[serde(default)]
    pub attestation_window: u64,
}

/// The dedup window of a genesis file that does not set one: 100 000 heights (a day or more
/// at this chain's block times).
pub const DEFAULT_DEDUP_WINDOW: u64 = 100_000;

fn default_dedup_window() -> u64 {
    DEFAULT_DEDUP_WINDOW
}

impl Genesis {
    /// Parses and [`validate`](Self::validate)s a genesis file.
    pub fn from_json(text: &str) -> Result<Self, GenesisError> {
        let genesis: Self =
            serde_json::from_str(text).map_err(|e| GenesisError::Json(e.to_string()))?;
        genesis.validate()?;
        Ok(genesis)
    }

    /// Pretty JSON; keys and signatures as lowercase hex without `0x`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a genesis has only string keys")
    }

    /// Checks the chain id, `max_square_k`, `dedup_window`, `attestation_window`, the set rules and every proof of possession (one
    /// pairing check per validator).
    pub fn validate(&self) -> Result<(), GenesisError> {
        self.checked_set().map(|_| ())
    }

    /// The checked first validator set (runs [`validate`](Self::validate)).
    pub fn validator_set(&self) -> Result<ValidatorSet, GenesisError> {
        self.checked_set()
    }

    /// SHA-256 of the chain id, the `chain` field of every header.
    pub fn chain_hash(&self) -> [u8; 32] {
        chain_hash(&self.chain_id)
    }

    fn checked_set(&self) -> Result<ValidatorSet, GenesisError> {
        let len = self.chain_id.len();
        if len == 0 || len > MAX_CHAIN_ID_LEN {
            return Err(GenesisError::ChainIdLength { len });
        }
        check_k(usize::from(self.max_square_k)).map_err(|_| GenesisError::MaxSquareK {
            k: self.max_square_k,
        })?;
        if self.dedup_window == 0 {
            return Err(GenesisError::DedupWindow);
        }
        if self.attestation_window > MAX_ATTESTATION_WINDOW {
            return Err(GenesisError::AttestationWindow(self.attestation_window));
        }
        // The cheap structural checks first, then one pairing check per validator.
        let set = ValidatorSet::new(
            self.validators
                .iter()
                .map(|v| Validator {
                    public_key: v.public_key,
                    power: v.power,
                })
                .collect(),
        )?;
        for (index, v) in self.validators.iter().enumerate() {
            v.public_key
                .verify_pop(&v.proof_of_possession)
                .map_err(|source| GenesisError::BadProofOfPossession {
                    index,
                    public_key: v.public_key.to_bytes(),
                    source,
                })?;
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u8) -> BlsSecretKey {
        BlsSecretKey::from_ikm(&[i; 32])
    }

    fn validator(i: u8, power: u64) -> Validator {
        Validator {
            public_key: key(i).public_key(),
            power,
        }
    }

    fn genesis(n: u8) -> Genesis {
        Genesis {
            chain_id: "devnet".into(),
            genesis_time_ms: 1_700_000_000_000,
            validators: (1..=n)
                .map(|i| GenesisValidator::new(&key(i), u64::from(i)))
                .collect(),
            max_square_k: 64,
            dedup_window: crate::validators::DEFAULT_DEDUP_WINDOW,
            attestation_window: 0,
        }
    }

    #[test]
    fn canonical_order_hash_and_lookup() {
        let vs: Vec<Validator> = (1..=5).map(|i| validator(i, u64::from(i))).collect();
        let set = ValidatorSet::new(vs.clone()).expect("set");
        let mut reversed = vs.clone();
        reversed.reverse();
        let again = ValidatorSet::new(reversed).expect("set");
        assert_eq!(set, again);
        assert_eq!(set.hash(), again.hash());
        assert!(set
            .validators()
            .windows(2)
            .all(|w| w[0].public_key.as_bytes() < w[1].public_key.as_bytes()));
        assert_eq!(set.len(), 5);
        assert!(!set.is_empty());
        assert_eq!(set.total_power(), 15);
        for v in &vs {
            let i = set.index_of(&v.public_key).expect("member");
            assert_eq!(set.get(i), Some(v));
        }
        assert_eq!(set.index_of(&key(9).public_key()), None);
        assert_eq!(set.get(5), None);

        // The hash, recomputed by hand from its definition.
        let mut h = Sha256::new();
        h.update(b"da/validator-set/v2");
        h.update(5u32.to_be_bytes());
        for v in set.validators() {
            h.update(v.public_key.to_bytes());
            h.update(v.power.to_be_bytes());
        }
        assert_eq!(set.hash(), <[u8; 32]>::from(h.finalize()));
        // Any change of power or membership changes it.
        let mut more = vs.clone();
        more[0].power += 1;
        assert_ne!(ValidatorSet::new(more).expect("set").hash(), set.hash());
        assert_ne!(
            ValidatorSet::new(vs[..4].to_vec()).expect("set").hash(),
            set.hash()
        );
    }

    #[test]
    fn invalid_sets_are_rejected() {
        assert_eq!(ValidatorSet::new(vec![]), Err(ValidatorSetError::Empty));
        let pk = key(1).public_key().to_bytes();
        assert_eq!(
            ValidatorSet::new(vec![validator(1, 1), validator(2, 1), validator(1, 5)]),
            Err(ValidatorSetError::Duplicate { public_key: pk })
        );
        assert_eq!(
            ValidatorSet::new(vec![validator(2, 1), validator(1, 0)]),
            Err(ValidatorSetError::ZeroPower { public_key: pk })
        );
        let max = MAX_TOTAL_POWER;
        assert!(ValidatorSet::new(vec![validator(1, max)]).is_ok());
        assert!(ValidatorSet::new(vec![validator(1, max - 1), validator(2, 1)]).is_ok());
        for vs in [
            vec![validator(1, max + 1)],
            vec![validator(1, max), validator(2, 1)],
            vec![validator(1, u64::MAX), validator(2, u64::MAX)],
        ] {
            assert_eq!(
                ValidatorSet::new(vs),
                Err(ValidatorSetError::TotalPowerTooLarge { max })
            );
        }
    }

    #[test]
    fn quorum_is_strictly_more_than_two_thirds() {
        let set = ValidatorSet::new((1..=3).map(|i| validator(i, 1)).collect()).expect("set");
        assert!(!set.has_quorum(2));
        assert!(set.has_quorum(3));
        let set = ValidatorSet::new((1..=4).map(|i| validator(i, 1)).collect()).expect("set");
        assert!(!set.has_quorum(2));
        assert!(set.has_quorum(3));
        // 100 of 150 is exactly 2/3: no quorum; 101 is.
        let set = ValidatorSet::new(vec![validator(1, 100), validator(2, 50)]).expect("set");
        assert!(!set.has_quorum(100));
        assert!(set.has_quorum(101));
        // No overflow at the power limit, even for powers beyond the total.
        let set = ValidatorSet::new(vec![validator(1, MAX_TOTAL_POWER)]).expect("set");
        assert!(set.has_quorum(MAX_TOTAL_POWER));
        assert!(!set.has_quorum(MAX_TOTAL_POWER / 3 * 2));
        assert!(set.has_quorum(u64::MAX));
    }

    #[test]
    fn proposer_rotates_by_height_and_round() {
        let set = ValidatorSet::new((1..=4).map(|i| validator(i, 1)).collect()).expect("set");
        assert_eq!(set.proposer(1, 0), 0);
        assert_eq!(set.proposer(2, 0), 1);
        assert_eq!(set.proposer(1, 1), 1);
        assert_eq!(set.proposer(4, 0), 3);
        assert_eq!(set.proposer(5, 0), 0);
        assert_eq!(set.proposer(3, 2), 0);
        assert_eq!(set.proposer(0, 0), 0);
        assert_eq!(
            set.proposer(u64::MAX, u32::MAX),
            ((u128::from(u64::MAX - 1) + u128::from(u32::MAX)) % 4) as usize
        );
    }

    #[test]
    fn genesis_json_round_trip() {
        let g = genesis(4);
        let json = g.to_json();
        let parsed = Genesis::from_json(&json).expect("valid");
        assert_eq!(parsed, g);
        assert_eq!(parsed.to_json(), json);
        let v: serde_json::Value = serde_json::from_str(&json).expect("json");
        let first = &v["validators"][0];
        assert_eq!(
            first["public_key"].as_str(),
            Some(hex::encode(key(1).public_key().to_bytes()).as_str())
        );
        assert_eq!(first["power"].as_u64(), Some(1));
        let set = parsed.validator_set().expect("set");
        assert_eq!(set.len(), 4);
        assert_eq!(set.total_power(), 10);
        assert_eq!(g.chain_hash(), chain_hash("devnet"));
    }

    #[test]
    fn genesis_with_a_bad_proof_of_possession_names_the_validator() {
        let mut g = genesis(4);
        // Validator 2 presents validator 3's proof.
        g.validators[2].proof_of_possession = g.validators[3].proof_of_possession;
        let err = Genesis::from_json(&g.to_json()).expect_err("bad PoP");
        assert_eq!(
            err,
            GenesisError::BadProofOfPossession {
                index: 2,
                public_key: g.validators[2].public_key.to_bytes(),
                source: BlsError::BadProofOfPossession,
            }
        );
        assert!(err
            .to_string()
            .contains(&g.validators[2].public_key.to_string()));
        assert_eq!(g.validator_set(), Err(err));
        // A plain signature over the key bytes is not a proof either.
        let mut g = genesis(2);
        let pk = g.validators[0].public_key.to_bytes();
        g.validators[0].proof_of_possession = key(1).sign(&pk);
        assert!(matches!(
            g.validate(),
            Err(GenesisError::BadProofOfPossession { index: 0, .. })
        ));
    }

    #[test]
    fn genesis_field_rules() {
        let mut g = genesis(1);
        g.chain_id = String::new();
        assert_eq!(g.validate(), Err(GenesisError::ChainIdLength { len: 0 }));
        g.chain_id = "é".repeat(33);
        assert_eq!(g.validate(), Err(GenesisError::ChainIdLength { len: 66 }));
        g.chain_id = "x".repeat(64);
        assert!(g.validate().is_ok());
        for k in [0u16, 3, 512, 1024] {
            g.max_square_k = k;
            assert_eq!(g.validate(), Err(GenesisError::MaxSquareK { k }));
        }
        g.max_square_k = 256;
        assert!(g.validate().is_ok());
        g.dedup_window = 0;
        assert_eq!(g.validate(), Err(GenesisError::DedupWindow));
        g.dedup_window = 1;
        assert!(g.validate().is_ok());
        g.validators.push(g.validators[0]);
        assert!(matches!(
            g.validate(),
            Err(GenesisError::ValidatorSet(
                ValidatorSetError::Duplicate { .. }
            ))
        ));
        g.validators.clear();
        assert_eq!(
            g.validate(),
            Err(GenesisError::ValidatorSet(ValidatorSetError::Empty))
        );
    }

    /// Genesis files written before the dedup window existed still read, with the default.
    #[test]
    fn a_genesis_without_a_dedup_window_gets_the_default() {
        let mut g = genesis(1);
        g.dedup_window = 7;
        let text = g.to_json();
        assert!(text.contains("\"dedup_window\": 7"), "{text}");
        assert_eq!(Genesis::from_json(&text).expect("reads").dedup_window, 7);
        let old = text.replace(",\n  \"dedup_window\": 7", "");
        assert!(!old.contains("dedup_window"), "{old}");
        let read = Genesis::from_json(&old).expect("an older file reads");
        assert_eq!(read.dedup_window, DEFAULT_DEDUP_WINDOW);
    }

    #[test]
    fn malformed_genesis_json_is_rejected() {
        let good = genesis(1).to_json();
        for bad in [
            String::new(),
            "{}".to_string(),
            good.replace("\"max_square_k\"", "\"extra\": 1, \"max_square_k\""),
            good.replace("\"power\": 1", "\"power\": -1"),
            good.replace("\"public_key\": \"", "\"public_key\": \"0x"),
            good.replace(
                "\"proof_of_possession\": \"",
                "\"proof_of_possession\": \"00",
            ),
        ] {
            assert!(
                matches!(Genesis::from_json(&bad), Err(GenesisError::Json(_))),
                "accepted {bad}"
            );
        }
    }
}

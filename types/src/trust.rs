//! What a node, light client or API client trusts (`specs/05-header.md` §Certificate): the
//! genesis validator set and chain. [`Trust`] accepts a [`CertifiedHeader`] iff its block header
//! is valid and its certificate verifies against that set and chain, and bounds `k` by the
//! genesis `max_square_k`.
//!
//! The set never changes yet (`next_validators_hash` = `validators_hash`); when it does, this is
//! where the set of a height will be looked up.

use std::sync::Arc;

use crate::{
    certificate::{CertificateError, CertifiedHeader},
    validators::{Genesis, GenesisError, ValidatorSet},
};

/// Why a certified header is not accepted under a [`Trust`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    /// The header's certificate (or block header) is rejected.
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    /// The header hands the next height to another validator set: set changes are not
    /// supported yet, so no later header could be checked.
    #[error("header's next validator set is {}, the trusted set is {}", hex::encode(.next), hex::encode(.set))]
    SetChange {
        /// The header's `next_validators_hash`.
        next: [u8; 32],
        /// Hash of the trusted set.
        set: [u8; 32],
    },
    /// The square is larger than the chain allows.
    #[error("k = {k} exceeds the chain's max_square_k = {max}")]
    SquareTooLarge {
        /// The header's `k`.
        k: u16,
        /// The genesis bound.
        max: u16,
    },
}

impl TrustError {
    /// A short fixed label of the broken rule, for metrics and logs (`insufficient_power`,
    /// `bad_signature`, `wrong_chain`, ...).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Certificate(e) => e.reason(),
            Self::SetChange { .. } => "set_change",
            Self::SquareTooLarge { .. } => "square_too_large",
        }
    }
}

/// The trusted validator set of a chain, from its genesis file. Cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trust {
    chain_id: String,
    chain: [u8; 32],
    set: Arc<ValidatorSet>,
    genesis_time_ms: u64,
    max_square_k: u16,
    dedup_window: u64,
    attestation_window: u64,
}

impl Trust {
    /// Checks `genesis` (every proof of possession) and trusts its validator set.
    pub fn from_genesis(genesis: &Genesis) -> Result<Self, GenesisError> {
        let set = genesis.validator_set()?;
        Ok(Self {
            chain_id: genesis.chain_id.clone(),
            chain: genesis.chain_hash(),
            set: Arc::new(set),
            genesis_time_ms: genesis.genesis_time_ms,
            max_square_k: genesis.max_square_k,
            dedup_window: genesis.dedup_window,
            attestation_window: genesis.attestation_window,
        })
    }

    /// The chain id.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// SHA-256 of the chain id (the `chain` of every header).
    pub fn chain(&self) -> [u8; 32] {
        self.chain
    }

    /// The validator set that certifies every height.
    pub fn set(&self) -> &ValidatorSet {
        &self.set
    }

    /// The genesis time: the lowest timestamp of the first block.
    pub fn genesis_time_ms(&self) -> u64 {
        self.genesis_time_ms
    }

    /// The largest `k` of a block.
    pub fn max_square_k(&self) -> u16 {
        self.max_square_k
    }

    /// Heights within which a blob id may be included only once.
    pub fn dedup_window(&self) -> u64 {
        self.dedup_window
    }

    /// The genesis `attestation_window` (`0` = headers carry no `tuple_root`).
    pub fn attestation_window(&self) -> u64 {
        self.attestation_window
    }

    /// Accepts `header` iff [`CertifiedHeader::verify`] holds against this set and chain, its
    /// `next_validators_hash` is this set's (the set never changes yet) and
    /// `k ≤ max_square_k`; returns the signers' power. One aggregate signature check.
    pub fn verify(&self, header: &CertifiedHeader) -> Result<u64, TrustError> {
        let power = header.verify(&self.set, &self.chain)?;
        let next = header.block.header.next_validators_hash;
        if next != self.set.hash() {
            return Err(TrustError::SetChange {
                next,
                set: self.set.hash(),
            });
        }
        if header.block.k > self.max_square_k {
            return Err(TrustError::SquareTooLarge {
                k: header.block.k,
                max: self.max_square_k,
            });
        }
        Ok(power)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        bls::{BlsSecretKey, BlsSignature},
        certificate::Certificate,
        header_v2::{data_root, vote_sign_bytes, BlockHeader, ConsensusHeader, VoteKind},
        validators::GenesisValidator,
    };

    fn key(i: u8) -> BlsSecretKey {
        BlsSecretKey::from_ikm(&[i; 32])
    }

    fn genesis(max_square_k: u16) -> Genesis {
        Genesis {
            chain_id: "trust".into(),
            genesis_time_ms: 5,
            validators: vec![GenesisValidator::new(&key(1), 3)],
            max_square_k,
            dedup_window: crate::validators::DEFAULT_DEDUP_WINDOW,
            attestation_window: 0,
        }
    }

    fn certified(trust: &Trust, k: u16) -> CertifiedHeader {
        certified_with_next(trust, k, trust.set().hash())
    }

    fn certified_with_next(trust: &Trust, k: u16, next: [u8; 32]) -> CertifiedHeader {
        let commitments = vec![[0xc0; 48]; 2 * usize::from(k)];
        let block = BlockHeader {
            header: ConsensusHeader {
                chain: trust.chain(),
                height: 1,
                parent: [0; 32],
                timestamp_ms: 9,
                proposer: 0,
                validators_hash: trust.set().hash(),
                next_validators_hash: next,
                data_root: data_root(k, 0, &commitments),
                tuple_root: [0; 32],
            },
            k,
            blob_count: 0,
            commitments,
        };
        let id = block.id();
        let msg = vote_sign_bytes(VoteKind::Precommit, &trust.chain(), 1, 0, Some(&id));
        let sig: BlsSignature = key(1).sign(&msg);
        let certificate =
            Certificate::aggregate(trust.set(), &trust.chain(), 1, 0, &id, &[(0, sig)])
                .expect("aggregate");
        CertifiedHeader { block, certificate }
    }

    #[test]
    fn accepts_certified_headers_and_bounds_k() {
        let trust = Trust::from_genesis(&genesis(2)).expect("genesis");
        assert_eq!(trust.chain_id(), "trust");
        assert_eq!(trust.genesis_time_ms(), 5);
        assert_eq!(trust.set().len(), 1);
        assert_eq!(trust.verify(&certified(&trust, 2)), Ok(3));
        let err = trust.verify(&certified(&trust, 4)).expect_err("k = 4 > 2");
        assert_eq!(err, TrustError::SquareTooLarge { k: 4, max: 2 });
        assert_eq!(err.reason(), "square_too_large");
        // Another chain's trust refuses it.
        let other = Trust::from_genesis(&Genesis {
            chain_id: "other".into(),
            ..genesis(2)
        })
        .expect("genesis");
        let err = other
            .verify(&certified(&trust, 1))
            .expect_err("wrong chain");
        assert_eq!(err.reason(), "wrong_chain");
    }

    #[test]
    fn a_bad_genesis_is_refused() {
        let mut g = genesis(2);
        g.validators[0].proof_of_possession = key(2).proof_of_possession();
        assert!(matches!(
            Trust::from_genesis(&g),
            Err(GenesisError::BadProofOfPossession { .. })
        ));
    }
}

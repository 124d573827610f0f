//! Malachite's `Context` for the DA layer: heights, validator addresses, the consensus value (a
//! fixed-size v2 header, identified by its SHA-256 id), proposals, votes, the validator set and
//! the BLS12-381 signing scheme (`specs/11-consensus.md`).
//!
//! The value the validators vote on is the header only; the blobs travel as proposal parts
//! ([`crate::parts`]) and are held by the application.

use std::{cmp::Ordering, fmt, sync::Arc};

use da_types::{
    bls::{BlsError, BlsPublicKey, BlsSecretKey, BlsSignature},
    header_v2::ConsensusHeader,
    validators::ValidatorSet as DaValidatorSet,
};
use malachitebft_app_channel::app::types::core::{
    self as core, LinearTimeouts, NilOrVal, Round, SignedExtension, VoteType,
};
use sha2::{Digest, Sha256};

/// A block height (the first block is 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl core::Height for Height {
    const ZERO: Self = Self(0);
    const INITIAL: Self = Self(1);

    fn increment_by(&self, n: u64) -> Self {
        Self(self.0.saturating_add(n))
    }

    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Self)
    }

    fn as_u64(&self) -> u64 {
        self.0
    }
}

/// A validator's address: the first 20 bytes of SHA-256 over its compressed BLS public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// The address of `key`.
    pub fn of(key: &BlsPublicKey) -> Self {
        let digest = Sha256::digest(key.to_bytes());
        let mut a = [0u8; 20];
        a.copy_from_slice(&digest[..20]);
        Self(a)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl core::Address for Address {}

/// The id of a consensus value: the header id, SHA-256 over the domain tag and the encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HeaderId(pub [u8; 32]);

impl fmt::Display for HeaderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0[..8]))
    }
}

/// The consensus value: a fixed-size v2 header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderValue(pub ConsensusHeader);

impl HeaderValue {
    /// The header's id.
    pub fn header_id(&self) -> HeaderId {
        HeaderId(self.0.id())
    }
}

impl PartialOrd for HeaderValue {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for HeaderValue {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.encode().cmp(&other.0.encode())
    }
}

impl core::Value for HeaderValue {
    type Id = HeaderId;

    fn id(&self) -> HeaderId {
        self.header_id()
    }
}

/// A BLS signature with the total order Malachite asks for (by its compressed bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sig(pub BlsSignature);

impl PartialOrd for Sig {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Sig {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.to_bytes().cmp(&other.0.to_bytes())
    }
}

/// A secret key shared by the signer's clones.
#[derive(Clone)]
pub struct SecretKey(pub Arc<BlsSecretKey>);

/// BLS12-381 `min_pk` as Malachite's signing scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bls;

impl core::SigningScheme for Bls {
    type DecodingError = BlsError;
    type Signature = Sig;
    type PublicKey = BlsPublicKey;
    type PrivateKey = SecretKey;

    fn decode_signature(bytes: &[u8]) -> Result<Sig, BlsError> {
        BlsSignature::from_bytes(bytes).map(Sig)
    }

    fn encode_signature(signature: &Sig) -> Vec<u8> {
        signature.0.to_bytes().to_vec()
    }

    fn decode_public_key(bytes: &[u8]) -> Result<BlsPublicKey, BlsError> {
        BlsPublicKey::from_bytes(bytes)
    }

    fn encode_public_key(public_key: &BlsPublicKey) -> Vec<u8> {
        public_key.to_bytes().to_vec()
    }
}

/// A signed proposal: the header proposed at (height, round), with its proof-of-lock round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// The proposed header.
    pub value: HeaderValue,
    /// Round of the proof of lock (`Nil` for a fresh value).
    pub pol_round: Round,
    /// The proposer.
    pub proposer: Address,
}

impl core::Proposal<DaContext> for Proposal {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &HeaderValue {
        &self.value
    }

    fn take_value(self) -> HeaderValue {
        self.value
    }

    fn pol_round(&self) -> Round {
        self.pol_round
    }

    fn validator_address(&self) -> &Address {
        &self.proposer
    }
}

/// A prevote or precommit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vote {
    /// Prevote or precommit.
    pub kind: VoteType,
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// The header voted for, or nil.
    pub value: NilOrVal<HeaderId>,
    /// The voter.
    pub validator: Address,
    /// Vote extensions are not used; the field exists for the engine's interface.
    pub extension: Option<SignedExtension<DaContext>>,
}

impl core::Vote<DaContext> for Vote {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &NilOrVal<HeaderId> {
        &self.value
    }

    fn take_value(self) -> NilOrVal<HeaderId> {
        self.value
    }

    fn vote_type(&self) -> VoteType {
        self.kind
    }

    fn validator_address(&self) -> &Address {
        &self.validator
    }

    fn extension(&self) -> Option<&SignedExtension<DaContext>> {
        self.extension.as_ref()
    }

    fn take_extension(&mut self) -> Option<SignedExtension<DaContext>> {
        self.extension.take()
    }

    fn extend(self, extension: SignedExtension<DaContext>) -> Self {
        Self {
            extension: Some(extension),
            ..self
        }
    }
}

/// Vote extensions carry no data in this protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoExtension;

impl core::Extension for NoExtension {
    fn size_bytes(&self) -> usize {
        0
    }
}

/// A validator as the engine sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    /// Its address (derived from the key).
    pub address: Address,
    /// Its BLS public key.
    pub public_key: BlsPublicKey,
    /// Its voting power.
    pub power: u64,
}

impl core::Validator<DaContext> for Validator {
    fn address(&self) -> &Address {
        &self.address
    }

    fn public_key(&self) -> &BlsPublicKey {
        &self.public_key
    }

    fn voting_power(&self) -> u64 {
        self.power
    }
}

/// The validator set, in the canonical order of `da_types::validators::ValidatorSet` (the
/// certificate bitmap's order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    set: Arc<DaValidatorSet>,
    validators: Arc<Vec<Validator>>,
}

impl ValidatorSet {
    /// Wraps the protocol's validator set.
    pub fn new(set: DaValidatorSet) -> Self {
        let validators = set
            .validators()
            .iter()
            .map(|v| Validator {
                address: Address::of(&v.public_key),
                public_key: v.public_key,
                power: v.power,
            })
            .collect();
        Self {
            set: Arc::new(set),
            validators: Arc::new(validators),
        }
    }

    /// The protocol's validator set.
    pub fn inner(&self) -> &DaValidatorSet {
        &self.set
    }

    /// The index (bitmap position) of `address`.
    pub fn index_of(&self, address: &Address) -> Option<usize> {
        self.validators.iter().position(|v| &v.address == address)
    }
}

impl core::ValidatorSet<DaContext> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }

    fn total_voting_power(&self) -> u64 {
        self.set.total_power()
    }

    fn get_by_address(&self, address: &Address) -> Option<&Validator> {
        self.validators.iter().find(|v| &v.address == address)
    }

    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }
}

/// Proposal, prevote and precommit parts of a stream.
pub use crate::parts::ProposalPart;

/// The DA layer's consensus context.
#[derive(Clone, Debug)]
pub struct DaContext {
    /// SHA-256 of the chain id: every signed message is bound to it.
    pub chain: [u8; 32],
}

impl DaContext {
    /// A context for the chain whose id hashes to `chain`.
    pub fn new(chain: [u8; 32]) -> Self {
        Self { chain }
    }
}

impl core::Context for DaContext {
    type Address = Address;
    type Height = Height;
    type ProposalPart = ProposalPart;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Timeouts = LinearTimeouts;
    type Value = HeaderValue;
    type Vote = Vote;
    type Extension = NoExtension;
    type SigningScheme = Bls;

    fn select_proposer<'a>(
        &self,
        validator_set: &'a ValidatorSet,
        height: Height,
        round: Round,
    ) -> &'a Validator {
        let round = round.as_u32().unwrap_or(0);
        let index = validator_set.set.proposer(height.0.max(1), round);
        // `proposer` returns an index below the set's length, and a set is never empty.
        &validator_set.validators[index % validator_set.validators.len()]
    }

    fn new_proposal(
        &self,
        height: Height,
        round: Round,
        value: HeaderValue,
        pol_round: Round,
        address: Address,
    ) -> Proposal {
        Proposal {
            height,
            round,
            value,
            pol_round,
            proposer: address,
        }
    }

    fn new_prevote(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<HeaderId>,
        address: Address,
    ) -> Vote {
        Vote {
            kind: VoteType::Prevote,
            height,
            round,
            value: value_id,
            validator: address,
            extension: None,
        }
    }

    fn new_precommit(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<HeaderId>,
        address: Address,
    ) -> Vote {
        Vote {
            kind: VoteType::Precommit,
            height,
            round,
            value: value_id,
            validator: address,
            extension: None,
        }
    }
}

//! BLS12-381 signing and verification of votes, proposals and validator proofs, over the
//! domain-separated bytes of `da_types::header_v2` (`specs/05-header.md`).
//!
//! A precommit signs `vote_sign_bytes(Precommit, chain, height, round, id)`, which names no voter:
//! every precommit for one header signs the same message, so a decision's signatures aggregate
//! into one 96-byte certificate checked with one pairing equation.

use std::sync::Arc;

use async_trait::async_trait;
use da_types::{
    bls::{BlsPublicKey, BlsSecretKey},
    header_v2::{proposal_sign_bytes, vote_sign_bytes, VoteKind},
};
use malachitebft_app_channel::app::types::core::{
    NilOrVal, Round, SignedMessage, ValidatorProof, VoteExtensionScope, VoteType,
};
use malachitebft_app_channel::{Signer, Verifier};
use malachitebft_signing::{Error as SigningError, VerificationResult};

use crate::context::{DaContext, NoExtension, Proposal, SecretKey, Sig, Vote};

const VALIDATOR_PROOF_DOMAIN: &[u8] = b"da/validator-proof/v2";

/// Why a message cannot be signed or checked.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// Votes and proposals always carry a defined round.
    #[error("a {0} with no round cannot be signed")]
    NoRound(&'static str),
    /// Vote extensions are not part of this protocol.
    #[error("vote extensions are not used")]
    Extension,
}

fn round_of(round: Round, what: &'static str) -> Result<u32, SignError> {
    round.as_u32().ok_or(SignError::NoRound(what))
}

/// The bytes a vote's signature covers.
pub fn vote_bytes(chain: &[u8; 32], vote: &Vote) -> Result<Vec<u8>, SignError> {
    let kind = match vote.kind {
        VoteType::Prevote => VoteKind::Prevote,
        VoteType::Precommit => VoteKind::Precommit,
    };
    let round = round_of(vote.round, "vote")?;
    let id = match &vote.value {
        NilOrVal::Nil => None,
        NilOrVal::Val(id) => Some(&id.0),
    };
    Ok(vote_sign_bytes(kind, chain, vote.height.0, round, id))
}

/// The bytes a proposal's signature covers.
pub fn proposal_bytes(chain: &[u8; 32], proposal: &Proposal) -> Result<Vec<u8>, SignError> {
    let round = round_of(proposal.round, "proposal")?;
    Ok(proposal_sign_bytes(
        chain,
        proposal.height.0,
        round,
        proposal.pol_round.as_u32(),
        &proposal.value.header_id().0,
    ))
}

fn proof_bytes(chain: &[u8; 32], public_key: &[u8], peer_id: &[u8]) -> Vec<u8> {
    let mut m = VALIDATOR_PROOF_DOMAIN.to_vec();
    m.extend_from_slice(chain);
    m.extend_from_slice(&ValidatorProof::<DaContext>::signing_bytes(
        public_key, peer_id,
    ));
    m
}

/// Signs this validator's consensus messages.
#[derive(Clone)]
pub struct BlsSigner {
    key: SecretKey,
    public: BlsPublicKey,
    chain: [u8; 32],
}

impl BlsSigner {
    /// A signer with `key` on the chain whose id hashes to `chain`.
    pub fn new(key: BlsSecretKey, chain: [u8; 32]) -> Self {
        let public = key.public_key();
        Self {
            key: SecretKey(Arc::new(key)),
            public,
            chain,
        }
    }

    /// The signer's public key.
    pub fn public_key(&self) -> BlsPublicKey {
        self.public
    }

    fn sign(&self, bytes: &[u8]) -> Sig {
        Sig(self.key.0.sign(bytes))
    }
}

#[async_trait]
impl Signer<DaContext> for BlsSigner {
    async fn sign_vote(&self, vote: Vote) -> Result<SignedMessage<DaContext, Vote>, SigningError> {
        let bytes = vote_bytes(&self.chain, &vote).map_err(SigningError::from_source)?;
        let signature = self.sign(&bytes);
        Ok(SignedMessage::new(vote, signature))
    }

    async fn sign_proposal(
        &self,
        proposal: Proposal,
    ) -> Result<SignedMessage<DaContext, Proposal>, SigningError> {
        let bytes = proposal_bytes(&self.chain, &proposal).map_err(SigningError::from_source)?;
        let signature = self.sign(&bytes);
        Ok(SignedMessage::new(proposal, signature))
    }

    async fn sign_vote_extension(
        &self,
        _scope: VoteExtensionScope<DaContext>,
        _extension: NoExtension,
    ) -> Result<SignedMessage<DaContext, NoExtension>, SigningError> {
        Err(SigningError::from_source(SignError::Extension))
    }

    async fn sign_validator_proof(
        &self,
        public_key: Vec<u8>,
        peer_id: Vec<u8>,
    ) -> Result<ValidatorProof<DaContext>, SigningError> {
        let signature = self.sign(&proof_bytes(&self.chain, &public_key, &peer_id));
        Ok(ValidatorProof::new(public_key, peer_id, signature))
    }
}

/// Checks other validators' consensus messages.
#[derive(Clone, Debug)]
pub struct BlsVerifier {
    chain: [u8; 32],
}

impl BlsVerifier {
    /// A verifier for the chain whose id hashes to `chain`.
    pub fn new(chain: [u8; 32]) -> Self {
        Self { chain }
    }
}

fn verdict(ok: bool) -> Result<VerificationResult, SigningError> {
    Ok(VerificationResult::from_bool(ok))
}

#[async_trait]
impl Verifier<DaContext> for BlsVerifier {
    async fn verify_signed_vote(
        &self,
        vote: &Vote,
        signature: &Sig,
        public_key: &BlsPublicKey,
    ) -> Result<VerificationResult, SigningError> {
        match vote_bytes(&self.chain, vote) {
            Ok(bytes) => verdict(public_key.verify(&bytes, &signature.0).is_ok()),
            Err(_) => verdict(false),
        }
    }

    async fn verify_signed_proposal(
        &self,
        proposal: &Proposal,
        signature: &Sig,
        public_key: &BlsPublicKey,
    ) -> Result<VerificationResult, SigningError> {
        match proposal_bytes(&self.chain, proposal) {
            Ok(bytes) => verdict(public_key.verify(&bytes, &signature.0).is_ok()),
            Err(_) => verdict(false),
        }
    }

    async fn verify_signed_vote_extension(
        &self,
        _scope: &VoteExtensionScope<DaContext>,
        _extension: &NoExtension,
        _signature: &Sig,
        _public_key: &BlsPublicKey,
    ) -> Result<VerificationResult, SigningError> {
        verdict(false)
    }

    async fn verify_validator_proof(
        &self,
        proof: &ValidatorProof<DaContext>,
    ) -> Result<VerificationResult, SigningError> {
        let Ok(key) = BlsPublicKey::from_bytes(&proof.public_key) else {
            return verdict(false);
        };
        let bytes = proof_bytes(&self.chain, &proof.public_key, &proof.peer_id);
        verdict(key.verify(&bytes, &proof.signature.0).is_ok())
    }
}

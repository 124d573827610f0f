//! Commit certificates (`specs/05-header.md` §Certificate): proof that validators holding more
//! than 2/3 of the voting power precommitted a header.
//!
//! This module owns the [`SignerBitmap`], the [`Certificate`] (height, round, header id, signers,
//! one aggregate BLS signature), its encoding and acceptance rule, and the [`CertifiedHeader`]
//! (a block header with its certificate), the versioned form nodes store and serve. Verifying a
//! certificate costs one aggregation of the signers' keys (cheap point additions) and one
//! two-pairing check, whatever the number of validators.

use crate::{
    bls::{BlsError, BlsPublicKey, BlsSignature, SIGNATURE_LEN},
    header_v2::{vote_sign_bytes, BlockHeader, ConsensusHeader, HeaderV2Error, VoteKind},
    validators::ValidatorSet,
};

/// Version byte of [`CertifiedHeader::to_bytes`].
pub const CERTIFIED_HEADER_VERSION: u8 = 2;
/// Bytes of a certificate before its bitmap: `u64 height ‖ u32 round ‖ header id`.
const CERT_PREFIX_LEN: usize = 8 + 4 + 32;
/// Longest [`CertifiedHeader::to_bytes`]: a `K_MAX` square (512 commitments) certified by a set
/// of [`MAX_VALIDATORS`](crate::validators::MAX_VALIDATORS) (33,130 bytes). Bounds gossip and
/// header ranges.
pub const MAX_CERTIFIED_HEADER_LEN: usize = 1
    + crate::header_v2::HEADER_V2_LEN
    + 2
    + 4
    + 2 * crate::consts::K_MAX * crate::consts::BYTES_PER_G1
    + CERT_PREFIX_LEN
    + 2
    + crate::validators::MAX_VALIDATORS.div_ceil(8)
    + SIGNATURE_LEN;

/// Why a certificate (or a certified header) is rejected. Each check has its own variant so a
/// node can tell which rule a peer broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// The certificate is for another height than the header.
    #[error("certificate is for height {certificate}, header has height {header}")]
    WrongHeight {
        /// Height in the certificate.
        certificate: u64,
        /// Height of the header.
        header: u64,
    },
    /// The certificate is for another header (its id differs from the header's).
    #[error("certificate is for header {}, not {}", hex::encode(.certificate), hex::encode(.header))]
    WrongHeader {
        /// Header id in the certificate.
        certificate: [u8; 32],
        /// Id of the header presented.
        header: [u8; 32],
    },
    /// The header belongs to another chain.
    #[error("header is for chain {}, expected {}", hex::encode(.header), hex::encode(.expected))]
    WrongChain {
        /// The header's `chain`.
        header: [u8; 32],
        /// The verifier's chain hash.
        expected: [u8; 32],
    },
    /// The header names another validator set than the one the certificate is checked against.
    #[error("header's validator set is {}, the verifier's is {}", hex::encode(.header), hex::encode(.set))]
    WrongValidatorSet {
        /// The header's `validators_hash`.
        header: [u8; 32],
        /// Hash of the set presented.
        set: [u8; 32],
    },
    /// The bitmap has a bit per validator of another set size.
    #[error("signer bitmap has {bitmap} bits, the validator set has {set} validators")]
    BitmapLength {
        /// Bits in the bitmap.
        bitmap: usize,
        /// Validators in the set.
        set: usize,
    },
    /// The signers hold at most 2/3 of the power.
    #[error("signers hold {signed} of {total} power, not more than 2/3")]
    InsufficientPower {
        /// Power of the signers.
        signed: u64,
        /// Total power of the set.
        total: u64,
    },
    /// The aggregate signature does not verify for the signers' keys over the precommit bytes.
    #[error("aggregate signature does not verify")]
    BadSignature,
    /// A signer index is not a validator of the set (or beyond the bitmap).
    #[error("signer {index} is out of range (set of {len})")]
    SignerOutOfRange {
        /// The index.
        index: usize,
        /// Validators in the set (bits in the bitmap).
        len: usize,
    },
    /// The same validator's precommit appears twice.
    #[error("signer {index} appears twice")]
    DuplicateSigner {
        /// The index.
        index: usize,
    },
    /// A certificate needs at least one precommit.
    #[error("no precommits to aggregate")]
    NoSigners,
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
    /// A bitmap sets bits past its length.
    #[error("signer bitmap of {len} bits sets bits beyond it")]
    BitsBeyondLength {
        /// Bits in the bitmap.
        len: usize,
    },
    /// The signature bytes are not a valid signature.
    #[error("certificate signature: {0}")]
    Signature(BlsError),
    /// A certified header's first byte is not [`CERTIFIED_HEADER_VERSION`] (v1 storage bytes
    /// start with a length prefix, so with 0).
    #[error("certified header version {0} is not supported (expected {CERTIFIED_HEADER_VERSION})")]
    UnsupportedVersion(u8),
    /// The block header is malformed or its commitments do not match its `data_root`.
    #[error("block header: {0}")]
    Header(#[from] HeaderV2Error),
}

impl CertificateError {
    /// A short fixed label of the broken rule, for metrics and logs: `wrong_height`,
    /// `wrong_header`, `wrong_chain`, `wrong_validator_set`, `bitmap_length`,
    /// `insufficient_power`, `bad_signature`, `malformed` (anything that does not decode or
    /// build) or `invalid_header` (a block header whose fields or `data_root` are wrong).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::WrongHeight { .. } => "wrong_height",
            Self::WrongHeader { .. } => "wrong_header",
            Self::WrongChain { .. } => "wrong_chain",
            Self::WrongValidatorSet { .. } => "wrong_validator_set",
            Self::BitmapLength { .. } => "bitmap_length",
            Self::InsufficientPower { .. } => "insufficient_power",
            Self::BadSignature => "bad_signature",
            Self::Header(_) => "invalid_header",
            Self::SignerOutOfRange { .. }
            | Self::DuplicateSigner { .. }
            | Self::NoSigners
            | Self::Length { .. }
            | Self::BitsBeyondLength { .. }
            | Self::Signature(_)
            | Self::UnsupportedVersion(_) => "malformed",
        }
    }
}

/// One bit per validator of a set, in canonical order: bit `i` set means validator `i` signed.
/// Encoding: `u16_be(n) ‖ ceil(n/8)` bytes, bit `i` in byte `i / 8` at bit `i % 8` (LSB first).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SignerBitmap {
    len: u16,
    bytes: Vec<u8>,
}

impl SignerBitmap {
    /// `n` clear bits.
    pub fn new(n: u16) -> Self {
        Self {
            len: n,
            bytes: vec![0; usize::from(n).div_ceil(8)],
        }
    }

    /// Clear bits, one per validator of `set`.
    pub fn for_set(set: &ValidatorSet) -> Self {
        // A set has at most MAX_VALIDATORS = u16::MAX validators.
        Self::new(u16::try_from(set.len()).unwrap_or(u16::MAX))
    }

    /// Number of bits `n`.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether `n` is 0.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sets bit `i`; fails if `i ≥ n`.
    pub fn set(&mut self, i: usize) -> Result<(), CertificateError> {
        if i >= self.len() {
            return Err(CertificateError::SignerOutOfRange {
                index: i,
                len: self.len(),
            });
        }
        self.bytes[i / 8] |= 1 << (i % 8);
        Ok(())
    }

    /// Bit `i` (false beyond `n`).
    pub fn get(&self, i: usize) -> bool {
        i < self.len() && self.bytes[i / 8] & (1 << (i % 8)) != 0
    }

    /// Number of set bits.
    pub fn count(&self) -> usize {
        self.bytes.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// Indices of the set bits, ascending.
    pub fn iter_set(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).filter(|&i| self.get(i))
    }

    /// Bytes of [`encode`](Self::encode): `2 + ceil(n/8)`.
    pub fn encoded_len(&self) -> usize {
        2 + self.bytes.len()
    }

    /// `u16_be(n) ‖ ceil(n/8)` bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.len.to_be_bytes());
        out.extend_from_slice(&self.bytes);
    }

    /// Decodes exactly [`encode`](Self::encode) output; bits set beyond `n` are rejected.
    pub fn decode(bytes: &[u8]) -> Result<Self, CertificateError> {
        let (bitmap, used) = Self::read(bytes)?;
        if used != bytes.len() {
            return Err(CertificateError::Length {
                what: "signer bitmap",
                expected: used,
                got: bytes.len(),
            });
        }
        Ok(bitmap)
    }

    /// Decodes a bitmap at the start of `bytes`; returns it and the bytes it used.
    fn read(bytes: &[u8]) -> Result<(Self, usize), CertificateError> {
        let short = |expected| CertificateError::Length {
            what: "signer bitmap",
            expected,
            got: bytes.len(),
        };
        let (n, rest) = match bytes {
            [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
            _ => return Err(short(2)),
        };
        let byte_len = usize::from(n).div_ceil(8);
        let body = rest.get(..byte_len).ok_or_else(|| short(2 + byte_len))?;
        let len = usize::from(n);
        if len % 8 != 0 {
            if let Some(last) = body.last() {
                if last >> (len % 8) != 0 {
                    return Err(CertificateError::BitsBeyondLength { len });
                }
            }
        }
        Ok((
            Self {
                len: n,
                bytes: body.to_vec(),
            },
            2 + byte_len,
        ))
    }
}

/// A commit certificate: validators with more than 2/3 of the power precommitted `header_id` at
/// `(height, round)`; `signature` aggregates their precommit signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    /// Height of the certified header.
    pub height: u64,
    /// Round in which the precommits were cast.
    pub round: u32,
    /// Id of the certified header ([`ConsensusHeader::id`]).
    pub header_id: [u8; 32],
    /// Who signed, in validator-set order.
    pub signers: SignerBitmap,
    /// Aggregate of the signers' signatures over the precommit sign bytes.
    pub signature: BlsSignature,
}

impl Certificate {
    /// Builds a certificate from precommits `(validator index, signature)` for `header_id`, then
    /// checks the aggregate once (one pairing check), so a bad precommit is caught here and not
    /// by every receiver. It does not require a quorum; [`verify`](Self::verify) does.
    pub fn aggregate(
        set: &ValidatorSet,
        chain: &[u8; 32],
        height: u64,
        round: u32,
        header_id: &[u8; 32],
        precommits: &[(usize, BlsSignature)],
    ) -> Result<Self, CertificateError> {
        if precommits.is_empty() {
            return Err(CertificateError::NoSigners);
        }
        let mut signers = SignerBitmap::for_set(set);
        for &(index, _) in precommits {
            if signers.get(index) {
                return Err(CertificateError::DuplicateSigner { index });
            }
            signers.set(index)?;
        }
        let signatures: Vec<BlsSignature> = precommits.iter().map(|(_, s)| *s).collect();
        let signature =
            BlsSignature::aggregate(&signatures).map_err(CertificateError::Signature)?;
        let cert = Self {
            height,
            round,
            header_id: *header_id,
            signers,
            signature,
        };
        cert.check_signature(set, chain)?;
        Ok(cert)
    }

    /// The precommit bytes every signer signed:
    /// `vote_sign_bytes(Precommit, chain, height, round, Some(header_id))`.
    pub fn sign_bytes(&self, chain: &[u8; 32]) -> Vec<u8> {
        vote_sign_bytes(
            VoteKind::Precommit,
            chain,
            self.height,
            self.round,
            Some(&self.header_id),
        )
    }

    /// Accepts the certificate for `header` under `set` and returns the signers' power.
    ///
    /// Checks, in this order: the heights agree ([`WrongHeight`](CertificateError::WrongHeight));
    /// `header.id() == header_id` (`WrongHeader`); `header.chain == chain` (`WrongChain`);
    /// `header.validators_hash == set.hash()` (`WrongValidatorSet`); one bit per validator
    /// (`BitmapLength`); the signers hold strictly more than 2/3 of the power
    /// (`InsufficientPower`); then one aggregate check of the signature over
    /// [`sign_bytes`](Self::sign_bytes) with the sum of the signers' keys (`BadSignature`).
    pub fn verify(
        &self,
        set: &ValidatorSet,
        chain: &[u8; 32],
        header: &ConsensusHeader,
    ) -> Result<u64, CertificateError> {
        if header.height != self.height {
            return Err(CertificateError::WrongHeight {
                certificate: self.height,
                header: header.height,
            });
        }
        let id = header.id();
        if id != self.header_id {
            return Err(CertificateError::WrongHeader {
                certificate: self.header_id,
                header: id,
            });
        }
        if header.chain != *chain {
            return Err(CertificateError::WrongChain {
                header: header.chain,
                expected: *chain,
            });
        }
        if header.validators_hash != set.hash() {
            return Err(CertificateError::WrongValidatorSet {
                header: header.validators_hash,
                set: set.hash(),
            });
        }
        if self.signers.len() != set.len() {
            return Err(CertificateError::BitmapLength {
                bitmap: self.signers.len(),
                set: set.len(),
            });
        }
        // Bounded by the total power, which is at most MAX_TOTAL_POWER: no overflow.
        let signed: u64 = self.signer_keys_and_powers(set).map(|(_, p)| p).sum();
        if !set.has_quorum(signed) {
            return Err(CertificateError::InsufficientPower {
                signed,
                total: set.total_power(),
            });
        }
        self.check_signature(set, chain)?;
        Ok(signed)
    }

    fn signer_keys_and_powers<'a>(
        &'a self,
        set: &'a ValidatorSet,
    ) -> impl Iterator<Item = (&'a BlsPublicKey, u64)> + 'a {
        self.signers
            .iter_set()
            .filter_map(|i| set.get(i))
            .map(|v| (&v.public_key, v.power))
    }

    fn check_signature(
        &self,
        set: &ValidatorSet,
        chain: &[u8; 32],
    ) -> Result<(), CertificateError> {
        self.signature
            .verify_aggregate(
                &self.sign_bytes(chain),
                self.signer_keys_and_powers(set).map(|(k, _)| k),
            )
            .map_err(|_| CertificateError::BadSignature)
    }

    /// Bytes of [`encode`](Self::encode).
    pub fn encoded_len(&self) -> usize {
        CERT_PREFIX_LEN + self.signers.encoded_len() + SIGNATURE_LEN
    }

    /// `u64_be height ‖ u32_be round ‖ header id ‖ bitmap ‖ signature (96)`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(&self.round.to_be_bytes());
        out.extend_from_slice(&self.header_id);
        self.signers.write(out);
        out.extend_from_slice(self.signature.as_bytes());
    }

    /// Decodes exactly [`encode`](Self::encode) output; the signature must be a valid point.
    pub fn decode(bytes: &[u8]) -> Result<Self, CertificateError> {
        const WHAT: &str = "certificate";
        let short = |expected| CertificateError::Length {
            what: WHAT,
            expected,
            got: bytes.len(),
        };
        // The bitmap length fixes the total length: check it before reading anything else.
        let n = bytes
            .get(CERT_PREFIX_LEN..CERT_PREFIX_LEN + 2)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map(u16::from_be_bytes)
            .ok_or(short(CERT_PREFIX_LEN + 2 + SIGNATURE_LEN))?;
        let expected = CERT_PREFIX_LEN + 2 + usize::from(n).div_ceil(8) + SIGNATURE_LEN;
        if bytes.len() != expected {
            return Err(short(expected));
        }
        let (prefix, rest) = bytes.split_at(CERT_PREFIX_LEN);
        let (signers, used) = SignerBitmap::read(rest)?;
        let mut height = [0u8; 8];
        height.copy_from_slice(&prefix[..8]);
        let mut round = [0u8; 4];
        round.copy_from_slice(&prefix[8..12]);
        let mut header_id = [0u8; 32];
        header_id.copy_from_slice(&prefix[12..]);
        let signature =
            BlsSignature::from_bytes(&rest[used..]).map_err(CertificateError::Signature)?;
        Ok(Self {
            height: u64::from_be_bytes(height),
            round: u32::from_be_bytes(round),
            header_id,
            signers,
            signature,
        })
    }
}

/// A block header with the certificate that decided it: what nodes store, gossip and serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertifiedHeader {
    /// The full header.
    pub block: BlockHeader,
    /// Its commit certificate.
    pub certificate: Certificate,
}

impl CertifiedHeader {
    /// The header id.
    pub fn id(&self) -> [u8; 32] {
        self.block.id()
    }

    /// The header's height.
    pub fn height(&self) -> u64 {
        self.block.header.height
    }

    /// `u8 version = 2 ‖ ConsensusHeader (213) ‖ u16_be k ‖ u32_be blob_count ‖ 2k × 48
    /// commitments ‖ certificate`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(1 + self.block.encoded_len() + self.certificate.encoded_len());
        out.push(CERTIFIED_HEADER_VERSION);
        self.block.write(&mut out);
        self.certificate.write(&mut out);
        out
    }

    /// Decodes exactly [`to_bytes`](Self::to_bytes) output and runs [`BlockHeader::check`]
    /// (not the certificate: that needs the validator set, see [`verify`](Self::verify)).
    /// Any first byte other than 2 (v1 storage bytes among them) is `UnsupportedVersion`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CertificateError> {
        let (&version, rest) = bytes.split_first().ok_or(CertificateError::Length {
            what: "certified header",
            expected: 1,
            got: 0,
        })?;
        if version != CERTIFIED_HEADER_VERSION {
            return Err(CertificateError::UnsupportedVersion(version));
        }
        let (block, used) = BlockHeader::read(rest)?;
        let certificate = Certificate::decode(&rest[used..])?;
        block.check()?;
        Ok(Self { block, certificate })
    }

    /// [`BlockHeader::check`], then [`Certificate::verify`] against `set` and `chain`; returns
    /// the signers' power.
    pub fn verify(&self, set: &ValidatorSet, chain: &[u8; 32]) -> Result<u64, CertificateError> {
        self.block.check()?;
        self.certificate.verify(set, chain, &self.block.header)
    }
}

#[cfg(test)]
mod tests;

//! BLS12-381 validator keys and signatures (`specs/05-header.md` §Header v2): secret and public
//! keys, signatures, proofs of possession and aggregation.
//!
//! This module owns the `min_pk` variant on `blst`: public keys in G1 (48 bytes compressed),
//! signatures in G2 (96 bytes compressed), messages hashed to G2 with the proof-of-possession
//! ciphersuite of the IETF BLS draft ([`SIGNATURE_DST`], [`POP_DST`]).
//!
//! Every point is checked once, when it is decoded (canonical compressed encoding, on the curve,
//! in the prime-order subgroup, not the identity), and kept decoded, so verification never
//! decompresses or group-checks again. Aggregate verification
//! ([`BlsSignature::verify_aggregate`]) is sound only for keys whose proof of possession was
//! checked (at genesis): that is what rules out rogue-key attacks.

use std::{
    cmp::Ordering,
    fmt,
    hash::{Hash, Hasher},
};

use blst::{blst_p1_affine, blst_p2_affine, min_pk, Pairing, BLST_ERROR};
use rand::{CryptoRng, RngCore};
use serde::{de::Error as _, Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroize;

/// Domain separation tag of validator signatures (votes, proposals).
pub const SIGNATURE_DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
/// Domain separation tag of proofs of possession (a signature over the compressed public key).
pub const POP_DST: &[u8] = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
/// Bytes of a compressed public key (a G1 point).
pub const PUBLIC_KEY_LEN: usize = 48;
/// Bytes of a compressed signature (a G2 point).
pub const SIGNATURE_LEN: usize = 96;
/// Bytes of a serialized secret key (a big-endian scalar).
pub const SECRET_KEY_LEN: usize = 32;

/// Why BLS bytes or a BLS check were rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BlsError {
    /// The bytes have the wrong length.
    #[error("{what} must be {expected} bytes, got {got}")]
    Length {
        /// `"public key"` or `"signature"`.
        what: &'static str,
        /// Bytes required.
        expected: usize,
        /// Bytes received.
        got: usize,
    },
    /// The bytes are not a canonical compressed point encoding (flags, or a coordinate `≥ p`).
    #[error("{what} is not a canonical compressed point encoding")]
    Encoding {
        /// `"public key"` or `"signature"`.
        what: &'static str,
    },
    /// No point of the curve has this x coordinate.
    #[error("{what} is not a point on the curve")]
    NotOnCurve {
        /// `"public key"` or `"signature"`.
        what: &'static str,
    },
    /// The point is on the curve but outside the prime-order subgroup.
    #[error("{what} is not in the prime-order subgroup")]
    NotInSubgroup {
        /// `"public key"` or `"signature"`.
        what: &'static str,
    },
    /// The point is the identity (the point at infinity).
    #[error("{what} is the point at infinity")]
    Infinity {
        /// `"public key"` or `"signature"`.
        what: &'static str,
    },
    /// A secret key must be a non-zero scalar below the group order.
    #[error("secret key is zero or not below the group order")]
    InvalidSecretKey,
    /// Aggregation needs at least one signature or key.
    #[error("nothing to aggregate")]
    EmptyAggregate,
    /// The signature does not verify for this key (or aggregate key) and message.
    #[error("signature does not verify")]
    BadSignature,
    /// The proof of possession does not verify for this key.
    #[error("proof of possession does not verify")]
    BadProofOfPossession,
}

const WHAT_KEY: &str = "public key";
const WHAT_SIG: &str = "signature";

fn point_error(e: BLST_ERROR, what: &'static str) -> BlsError {
    match e {
        BLST_ERROR::BLST_POINT_NOT_ON_CURVE => BlsError::NotOnCurve { what },
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP => BlsError::NotInSubgroup { what },
        BLST_ERROR::BLST_PK_IS_INFINITY => BlsError::Infinity { what },
        _ => BlsError::Encoding { what },
    }
}

/// One two-pairing check `e(pk, H(msg)) = e(g1, sig)` on already validated points, on the
/// calling thread (blst's `Signature::verify` hands the work to its thread pool).
fn core_verify(pk: &min_pk::PublicKey, sig: &min_pk::Signature, msg: &[u8], dst: &[u8]) -> bool {
    let pk: &blst_p1_affine = pk.into();
    let sig: &blst_p2_affine = sig.into();
    let mut pairing = Pairing::new(true, dst);
    if pairing.aggregate(pk, false, sig, false, msg, &[]) != BLST_ERROR::BLST_SUCCESS {
        return false;
    }
    pairing.commit();
    pairing.finalverify(None)
}

/// A validator's secret key (a scalar). Its `Debug` never prints the scalar; the memory is zeroed
/// on drop.
#[derive(Clone)]
pub struct BlsSecretKey(min_pk::SecretKey);

impl BlsSecretKey {
    /// Derives a key from 32 bytes of input keying material (the IETF draft's `KeyGen`).
    pub fn from_ikm(ikm: &[u8; 32]) -> Self {
        // `KeyGen` refuses only IKM shorter than 32 bytes, which the type rules out.
        Self(min_pk::SecretKey::key_gen(ikm, &[]).expect("32 bytes of IKM are enough"))
    }

    /// Draws a fresh key from a cryptographic RNG.
    pub fn generate<R: RngCore + CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut ikm = [0u8; 32];
        rng.fill_bytes(&mut ikm);
        let key = Self::from_ikm(&ikm);
        ikm.zeroize();
        key
    }

    /// Parses a big-endian scalar, which must be non-zero and below the group order.
    pub fn from_bytes(bytes: &[u8; SECRET_KEY_LEN]) -> Result<Self, BlsError> {
        min_pk::SecretKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| BlsError::InvalidSecretKey)
    }

    /// The big-endian scalar (keep it secret; zero it when done).
    pub fn to_bytes(&self) -> [u8; SECRET_KEY_LEN] {
        self.0.to_bytes()
    }

    /// The public key `sk · g1`.
    pub fn public_key(&self) -> BlsPublicKey {
        BlsPublicKey::from_point(self.0.sk_to_pk())
    }

    /// Signs `msg` under [`SIGNATURE_DST`].
    pub fn sign(&self, msg: &[u8]) -> BlsSignature {
        BlsSignature::from_point(self.0.sign(msg, SIGNATURE_DST, &[]))
    }

    /// Proof of possession: a signature over the 48-byte compressed public key under
    /// [`POP_DST`].
    pub fn proof_of_possession(&self) -> BlsSignature {
        let pk = self.public_key().to_bytes();
        BlsSignature::from_point(self.0.sign(&pk, POP_DST, &[]))
    }
}

impl fmt::Debug for BlsSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlsSecretKey(<secret>)")
    }
}

/// A validated public key: its canonical 48 bytes and the decoded G1 point. Equality, hashing
/// and order are those of the bytes (the validator-set order).
#[derive(Clone, Copy)]
pub struct BlsPublicKey {
    bytes: [u8; PUBLIC_KEY_LEN],
    point: min_pk::PublicKey,
}

impl BlsPublicKey {
    fn from_point(point: min_pk::PublicKey) -> Self {
        Self {
            bytes: point.compress(),
            point,
        }
    }

    /// Decodes 48 compressed bytes, rejecting a wrong length, a non-canonical encoding, a point
    /// off the curve or outside the subgroup, and the identity.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        if bytes.len() != PUBLIC_KEY_LEN {
            return Err(BlsError::Length {
                what: WHAT_KEY,
                expected: PUBLIC_KEY_LEN,
                got: bytes.len(),
            });
        }
        let point = min_pk::PublicKey::uncompress(bytes).map_err(|e| point_error(e, WHAT_KEY))?;
        point.validate().map_err(|e| point_error(e, WHAT_KEY))?;
        let key = Self::from_point(point);
        if key.bytes[..] != *bytes {
            return Err(BlsError::Encoding { what: WHAT_KEY });
        }
        Ok(key)
    }

    /// The 48-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.bytes
    }

    /// The 48-byte compressed encoding, borrowed.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.bytes
    }

    /// The affine point, uncompressed: `x ‖ y`, 48 big-endian bytes each (what an EVM contract
    /// feeds the EIP-2537 precompiles, padded).
    pub fn to_uncompressed(&self) -> [u8; 96] {
        self.point.serialize()
    }

    /// Checks `signature` over `msg` under [`SIGNATURE_DST`] (one two-pairing check).
    pub fn verify(&self, msg: &[u8], signature: &BlsSignature) -> Result<(), BlsError> {
        if core_verify(&self.point, &signature.point, msg, SIGNATURE_DST) {
            Ok(())
        } else {
            Err(BlsError::BadSignature)
        }
    }

    /// Checks a proof of possession: `proof` signs this key's 48 bytes under [`POP_DST`].
    pub fn verify_pop(&self, proof: &BlsSignature) -> Result<(), BlsError> {
        if core_verify(&self.point, &proof.point, &self.bytes, POP_DST) {
            Ok(())
        } else {
            Err(BlsError::BadProofOfPossession)
        }
    }
}

impl PartialEq for BlsPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for BlsPublicKey {}

impl Hash for BlsPublicKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl PartialOrd for BlsPublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BlsPublicKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.bytes.cmp(&other.bytes)
    }
}

impl fmt::Debug for BlsPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlsPublicKey({})", hex::encode(self.bytes))
    }
}

/// Lowercase hex of the 48 bytes, without `0x`.
impl fmt::Display for BlsPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.bytes))
    }
}

/// A validated signature (or aggregate signature): its canonical 96 bytes and the decoded G2
/// point. Equality and hashing are those of the bytes.
#[derive(Clone, Copy)]
pub struct BlsSignature {
    bytes: [u8; SIGNATURE_LEN],
    point: min_pk::Signature,
}

impl BlsSignature {
    fn from_point(point: min_pk::Signature) -> Self {
        Self {
            bytes: point.compress(),
            point,
        }
    }

    /// Decodes 96 compressed bytes, rejecting a wrong length, a non-canonical encoding, a point
    /// off the curve or outside the subgroup, and the identity (no signature of ours is it).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        if bytes.len() != SIGNATURE_LEN {
            return Err(BlsError::Length {
                what: WHAT_SIG,
                expected: SIGNATURE_LEN,
                got: bytes.len(),
            });
        }
        let point = min_pk::Signature::uncompress(bytes).map_err(|e| point_error(e, WHAT_SIG))?;
        point.validate(true).map_err(|e| point_error(e, WHAT_SIG))?;
        let sig = Self::from_point(point);
        if sig.bytes[..] != *bytes {
            return Err(BlsError::Encoding { what: WHAT_SIG });
        }
        Ok(sig)
    }

    /// The 96-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_LEN] {
        self.bytes
    }

    /// The 96-byte compressed encoding, borrowed.
    pub fn as_bytes(&self) -> &[u8; SIGNATURE_LEN] {
        &self.bytes
    }

    /// The affine point, uncompressed in the ZCash order: `x.c1 ‖ x.c0 ‖ y.c1 ‖ y.c0`, 48
    /// big-endian bytes each.
    pub fn to_uncompressed(&self) -> [u8; 192] {
        self.point.serialize()
    }

    /// Decodes [`to_uncompressed`](Self::to_uncompressed) bytes, rejecting a point off the
    /// curve or outside the subgroup and the identity.
    pub fn from_uncompressed(bytes: &[u8; 192]) -> Result<Self, BlsError> {
        let point = min_pk::Signature::deserialize(bytes).map_err(|e| point_error(e, WHAT_SIG))?;
        point.validate(true).map_err(|e| point_error(e, WHAT_SIG))?;
        Ok(Self::from_point(point))
    }

    /// Sums signatures (in any order) into one; fails on an empty slice or if they cancel out.
    pub fn aggregate(signatures: &[Self]) -> Result<Self, BlsError> {
        let points: Vec<&min_pk::Signature> = signatures.iter().map(|s| &s.point).collect();
        let sum = min_pk::AggregateSignature::aggregate(&points, false)
            .map_err(|_| BlsError::EmptyAggregate)?;
        let sig = Self::from_point(sum.to_signature());
        if sig.bytes[0] & 0x40 != 0 {
            return Err(BlsError::Infinity { what: WHAT_SIG });
        }
        Ok(sig)
    }

    /// Checks this aggregate signature of `signers` over one message (`FastAggregateVerify`):
    /// sums the already decoded keys, then one two-pairing check, whatever their number.
    ///
    /// Sound only for keys whose proof of possession was checked.
    pub fn verify_aggregate<'a, I>(&self, msg: &[u8], signers: I) -> Result<(), BlsError>
    where
        I: IntoIterator<Item = &'a BlsPublicKey>,
    {
        let mut signers = signers.into_iter();
        let first = signers.next().ok_or(BlsError::EmptyAggregate)?;
        let mut sum = min_pk::AggregatePublicKey::from_public_key(&first.point);
        for key in signers {
            sum.add_public_key(&key.point, false)
                .map_err(|_| BlsError::BadSignature)?;
        }
        if core_verify(&sum.to_public_key(), &self.point, msg, SIGNATURE_DST) {
            Ok(())
        } else {
            Err(BlsError::BadSignature)
        }
    }
}

impl PartialEq for BlsSignature {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for BlsSignature {}

impl Hash for BlsSignature {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl fmt::Debug for BlsSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlsSignature({})", hex::encode(self.bytes))
    }
}

/// Lowercase hex of the 96 bytes, without `0x`.
impl fmt::Display for BlsSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.bytes))
    }
}

/// Serialized as a lowercase hex string without `0x` (as in the genesis file).
impl Serialize for BlsPublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.bytes))
    }
}

/// Parsed from a hex string without `0x`, then validated like [`BlsPublicKey::from_bytes`].
impl<'de> Deserialize<'de> for BlsPublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(&text).map_err(|e| D::Error::custom(format!("{WHAT_KEY}: {e}")))?;
        Self::from_bytes(&bytes).map_err(D::Error::custom)
    }
}

/// Serialized as a lowercase hex string without `0x` (as in the genesis file).
impl Serialize for BlsSignature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.bytes))
    }
}

/// Parsed from a hex string without `0x`, then validated like [`BlsSignature::from_bytes`].
impl<'de> Deserialize<'de> for BlsSignature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(&text).map_err(|e| D::Error::custom(format!("{WHAT_SIG}: {e}")))?;
        Self::from_bytes(&bytes).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand::{rngs::StdRng, SeedableRng};

    use super::*;

    fn key(seed: u8) -> BlsSecretKey {
        BlsSecretKey::from_ikm(&[seed; 32])
    }

    /// blst's own (thread-pooled) verification, to check [`core_verify`] against.
    fn blst_verifies(pk: &BlsPublicKey, sig: &BlsSignature, msg: &[u8], dst: &[u8]) -> bool {
        sig.point.verify(true, msg, dst, &[], &pk.point, true) == BLST_ERROR::BLST_SUCCESS
    }

    #[test]
    fn sign_verify_round_trip() {
        let sk = key(1);
        let pk = sk.public_key();
        let sig = sk.sign(b"hello");
        pk.verify(b"hello", &sig).expect("verifies");
        assert!(blst_verifies(&pk, &sig, b"hello", SIGNATURE_DST));
        assert_eq!(pk.verify(b"hellp", &sig), Err(BlsError::BadSignature));
        assert!(!blst_verifies(&pk, &sig, b"hellp", SIGNATURE_DST));
        assert_eq!(
            key(2).public_key().verify(b"hello", &sig),
            Err(BlsError::BadSignature)
        );
        // Deterministic signatures, and bytes round trip.
        assert_eq!(sk.sign(b"hello"), sig);
        assert_eq!(BlsSignature::from_bytes(&sig.to_bytes()), Ok(sig));
        assert_eq!(BlsPublicKey::from_bytes(&pk.to_bytes()), Ok(pk));
        let again = BlsSecretKey::from_bytes(&sk.to_bytes()).expect("scalar");
        assert_eq!(again.public_key(), pk);
    }

    #[test]
    fn keys_are_deterministic_in_the_ikm_and_generate_draws_fresh_ones() {
        assert_eq!(key(7).to_bytes(), key(7).to_bytes());
        assert_ne!(key(7).public_key(), key(8).public_key());
        let mut rng = StdRng::seed_from_u64(1);
        let a = BlsSecretKey::generate(&mut rng);
        let b = BlsSecretKey::generate(&mut rng);
        assert_ne!(a.public_key(), b.public_key());
    }

    #[test]
    fn secret_key_debug_hides_the_scalar() {
        let sk = key(3);
        let shown = format!("{sk:?}");
        assert!(!shown.contains(&hex::encode(sk.to_bytes())));
        assert!(!shown.contains(&hex::encode(&sk.to_bytes()[..4])));
    }

    #[test]
    fn invalid_secret_keys_are_rejected() {
        assert_eq!(
            BlsSecretKey::from_bytes(&[0; 32]).err(),
            Some(BlsError::InvalidSecretKey)
        );
        // The group order r and anything above it.
        let r = hex::decode("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001")
            .expect("hex");
        let r: [u8; 32] = r.try_into().expect("32");
        assert_eq!(
            BlsSecretKey::from_bytes(&r).err(),
            Some(BlsError::InvalidSecretKey)
        );
        assert_eq!(
            BlsSecretKey::from_bytes(&[0xff; 32]).err(),
            Some(BlsError::InvalidSecretKey)
        );
        let mut below = r;
        below[31] = 0;
        assert!(BlsSecretKey::from_bytes(&below).is_ok());
    }

    #[test]
    fn proofs_of_possession() {
        let sk = key(1);
        let pk = sk.public_key();
        let pop = sk.proof_of_possession();
        pk.verify_pop(&pop).expect("own proof");
        assert!(blst_verifies(&pk, &pop, &pk.to_bytes(), POP_DST));
        // A proof made by another key for its own key, or presented for this key.
        let other = key(2);
        assert_eq!(
            pk.verify_pop(&other.proof_of_possession()),
            Err(BlsError::BadProofOfPossession)
        );
        // Another key signing this key's bytes under the PoP tag is not this key's proof.
        let forged = BlsSignature::from_point(other.0.sign(&pk.to_bytes(), POP_DST, &[]));
        assert_eq!(pk.verify_pop(&forged), Err(BlsError::BadProofOfPossession));
        // A plain signature over the key bytes (signature tag) is not a proof, and a proof is
        // not a signature: the tags separate them.
        let plain = sk.sign(&pk.to_bytes());
        assert_eq!(pk.verify_pop(&plain), Err(BlsError::BadProofOfPossession));
        assert_eq!(pk.verify(&pk.to_bytes(), &pop), Err(BlsError::BadSignature));
    }

    #[test]
    fn aggregate_signatures_verify_against_the_sum_of_keys() {
        let keys: Vec<BlsSecretKey> = (1..=5).map(key).collect();
        let pks: Vec<BlsPublicKey> = keys.iter().map(BlsSecretKey::public_key).collect();
        let sigs: Vec<BlsSignature> = keys.iter().map(|k| k.sign(b"block")).collect();
        let agg = BlsSignature::aggregate(&sigs).expect("aggregate");
        agg.verify_aggregate(b"block", &pks).expect("all five");
        // Order does not matter.
        let mut reversed = sigs.clone();
        reversed.reverse();
        assert_eq!(BlsSignature::aggregate(&reversed), Ok(agg));
        agg.verify_aggregate(b"block", pks.iter().rev())
            .expect("any order");
        // A missing, extra or repeated signer, or another message, fails.
        assert_eq!(
            agg.verify_aggregate(b"block", &pks[..4]),
            Err(BlsError::BadSignature)
        );
        let extra = key(9).public_key();
        assert_eq!(
            agg.verify_aggregate(b"block", pks.iter().chain([&extra])),
            Err(BlsError::BadSignature)
        );
        assert_eq!(
            agg.verify_aggregate(b"block", pks.iter().chain([&pks[0]])),
            Err(BlsError::BadSignature)
        );
        assert_eq!(
            agg.verify_aggregate(b"other", &pks),
            Err(BlsError::BadSignature)
        );
        // One signer: the aggregate is the signature itself.
        assert_eq!(BlsSignature::aggregate(&sigs[..1]), Ok(sigs[0]));
        sigs[0]
            .verify_aggregate(b"block", &pks[..1])
            .expect("one signer");
        // Round trip of the aggregate bytes.
        assert_eq!(BlsSignature::from_bytes(&agg.to_bytes()), Ok(agg));
        assert_eq!(BlsSignature::aggregate(&[]), Err(BlsError::EmptyAggregate));
        assert_eq!(
            agg.verify_aggregate(b"block", &[]),
            Err(BlsError::EmptyAggregate)
        );
    }

    /// `0x80`-flagged (compressed) encodings of the small x coordinates `1, 2, ...` (in the last
    /// bytes; for G2 the `c0` half, which comes last), with their blst decoding result.
    fn small_x_candidates(len: usize) -> impl Iterator<Item = Vec<u8>> {
        (1u32..1000).map(move |x| {
            let mut b = vec![0u8; len];
            b[len - 4..].copy_from_slice(&x.to_be_bytes());
            b[0] |= 0x80;
            b
        })
    }

    #[test]
    fn invalid_public_key_bytes_are_rejected() {
        let what = WHAT_KEY;
        let good = key(1).public_key().to_bytes();
        for len in [0, 1, 47, 49, 96] {
            let b = vec![0x80; len];
            assert_eq!(
                BlsPublicKey::from_bytes(&b),
                Err(BlsError::Length {
                    what,
                    expected: 48,
                    got: len
                })
            );
        }
        // All zero: no compression flag.
        assert_eq!(
            BlsPublicKey::from_bytes(&[0; 48]),
            Err(BlsError::Encoding { what })
        );
        // The uncompressed flag on a valid key's x.
        let mut flagless = good;
        flagless[0] &= 0x7f;
        assert_eq!(
            BlsPublicKey::from_bytes(&flagless),
            Err(BlsError::Encoding { what })
        );
        // Infinity, canonical and with stray bits.
        let mut inf = [0u8; 48];
        inf[0] = 0xc0;
        assert_eq!(
            BlsPublicKey::from_bytes(&inf),
            Err(BlsError::Infinity { what })
        );
        let mut inf_sign = inf;
        inf_sign[0] = 0xe0;
        assert!(BlsPublicKey::from_bytes(&inf_sign).is_err());
        let mut inf_dirty = inf;
        inf_dirty[47] = 1;
        assert!(BlsPublicKey::from_bytes(&inf_dirty).is_err());
        // x = p (not reduced) and x all ones.
        let p = hex::decode(
            "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab",
        )
        .expect("hex");
        let mut at_p = [0u8; 48];
        at_p.copy_from_slice(&p);
        at_p[0] |= 0x80;
        assert_eq!(
            BlsPublicKey::from_bytes(&at_p),
            Err(BlsError::Encoding { what })
        );
        let mut ones = [0xffu8; 48];
        ones[0] = 0x9f;
        assert!(BlsPublicKey::from_bytes(&ones).is_err());
        // Off the curve, and on the curve but outside the subgroup (E1 has cofactor
        // 0x396c8c005555e1568c00aaab0000aaab; a point with a small x is in the subgroup with
        // negligible probability).
        let mut off = 0;
        let mut outside = 0;
        for b in small_x_candidates(48) {
            match min_pk::PublicKey::uncompress(&b) {
                Ok(_) => {
                    assert_eq!(
                        BlsPublicKey::from_bytes(&b),
                        Err(BlsError::NotInSubgroup { what })
                    );
                    outside += 1;
                }
                Err(_) => {
                    assert_eq!(
                        BlsPublicKey::from_bytes(&b),
                        Err(BlsError::NotOnCurve { what })
                    );
                    off += 1;
                }
            }
            if off > 3 && outside > 3 {
                break;
            }
        }
        assert!(
            off > 3 && outside > 3,
            "found {off} off and {outside} outside"
        );
        // A valid key with its sign bit flipped is the negated key: valid, but another key.
        let mut neg = good;
        neg[0] ^= 0x20;
        let negated = BlsPublicKey::from_bytes(&neg).expect("the negation is a key");
        assert_ne!(negated, key(1).public_key());
    }

    #[test]
    fn invalid_signature_bytes_are_rejected() {
        let what = WHAT_SIG;
        for len in [0, 48, 95, 97, 192] {
            assert_eq!(
                BlsSignature::from_bytes(&vec![0x80; len]),
                Err(BlsError::Length {
                    what,
                    expected: 96,
                    got: len
                })
            );
        }
        assert_eq!(
            BlsSignature::from_bytes(&[0; 96]),
            Err(BlsError::Encoding { what })
        );
        let mut inf = [0u8; 96];
        inf[0] = 0xc0;
        assert_eq!(
            BlsSignature::from_bytes(&inf),
            Err(BlsError::Infinity { what })
        );
        let mut off = 0;
        let mut outside = 0;
        for b in small_x_candidates(96) {
            match min_pk::Signature::uncompress(&b) {
                Ok(_) => {
                    assert_eq!(
                        BlsSignature::from_bytes(&b),
                        Err(BlsError::NotInSubgroup { what })
                    );
                    outside += 1;
                }
                Err(_) => {
                    assert_eq!(
                        BlsSignature::from_bytes(&b),
                        Err(BlsError::NotOnCurve { what })
                    );
                    off += 1;
                }
            }
            if off > 3 && outside > 3 {
                break;
            }
        }
        assert!(
            off > 3 && outside > 3,
            "found {off} off and {outside} outside"
        );
    }

    #[test]
    fn hex_serde_round_trip() {
        let sk = key(4);
        let pk = sk.public_key();
        let sig = sk.sign(b"x");
        let json = serde_json::to_string(&pk).expect("json");
        assert_eq!(json, format!("\"{}\"", hex::encode(pk.to_bytes())));
        assert_eq!(
            serde_json::from_str::<BlsPublicKey>(&json).expect("parse"),
            pk
        );
        let json = serde_json::to_string(&sig).expect("json");
        assert_eq!(
            serde_json::from_str::<BlsSignature>(&json).expect("parse"),
            sig
        );
        assert!(serde_json::from_str::<BlsPublicKey>(&format!("\"0x{pk}\"")).is_err());
        assert!(serde_json::from_str::<BlsPublicKey>("\"c0\"").is_err());
        assert!(serde_json::from_str::<BlsSignature>(&format!("\"{pk}\"")).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn signatures_bind_key_and_message(
            ikm in any::<[u8; 32]>(),
            msg in proptest::collection::vec(any::<u8>(), 0..64),
            flip in any::<usize>(),
        ) {
            let sk = BlsSecretKey::from_ikm(&ikm);
            let pk = sk.public_key();
            let sig = sk.sign(&msg);
            prop_assert_eq!(pk.verify(&msg, &sig), Ok(()));
            let mut other = msg;
            if other.is_empty() {
                other.push(0);
            } else {
                let i = flip % other.len();
                other[i] ^= 1 << (flip % 8);
            }
            prop_assert_eq!(pk.verify(&other, &sig), Err(BlsError::BadSignature));
            prop_assert_eq!(BlsSignature::from_bytes(&sig.to_bytes()), Ok(sig));
        }
    }
}

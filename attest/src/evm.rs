//! What the `DAOracle` contract reads, byte for byte (`specs/12-attestation.md` §Contract): BLS
//! points in the EIP-2537 encoding, the validator set its constructor takes as (point, power),
//! and the arguments of `commitHeader` built from a certified header.
//!
//! EIP-2537 encodes a base-field element as 64 big-endian bytes (16 zero bytes, then the 48 of
//! the element); a G1 point as `x ‖ y` (128 bytes); an `Fp2` element as `c0 ‖ c1` and a G2
//! point as `x ‖ y` (256 bytes). The ZCash encoding `blst` uses puts `c1` first: [`g2`] swaps.

use da_types::{
    bls::PUBLIC_KEY_LEN, BlsPublicKey, BlsSignature, Certificate, ConsensusHeader, ValidatorSet,
};

/// Bytes of an EIP-2537 base-field element.
pub const FP_LEN: usize = 64;
/// Bytes of an EIP-2537 G1 point.
pub const G1_LEN: usize = 2 * FP_LEN;
/// Bytes of an EIP-2537 G2 point.
pub const G2_LEN: usize = 4 * FP_LEN;

/// The base field modulus `p` of BLS12-381, big-endian.
pub const P: [u8; 48] = hex_48(
    b"1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab",
);

const fn hex_48(text: &[u8; 96]) -> [u8; 48] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not lowercase hex"),
        }
    }
    let mut out = [0u8; 48];
    let mut i = 0;
    while i < 48 {
        out[i] = nibble(text[2 * i]) << 4 | nibble(text[2 * i + 1]);
        i += 1;
    }
    out
}

fn pad(element: &[u8]) -> [u8; FP_LEN] {
    let mut out = [0u8; FP_LEN];
    out[FP_LEN - element.len()..].copy_from_slice(element);
    out
}

/// A validator key as the EIP-2537 G1 point `pad(x) ‖ pad(y)`.
pub fn g1(key: &BlsPublicKey) -> [u8; G1_LEN] {
    let raw = key.to_uncompressed();
    let mut out = [0u8; G1_LEN];
    out[..FP_LEN].copy_from_slice(&pad(&raw[..48]));
    out[FP_LEN..].copy_from_slice(&pad(&raw[48..]));
    out
}

/// A signature as the EIP-2537 G2 point `pad(x.c0) ‖ pad(x.c1) ‖ pad(y.c0) ‖ pad(y.c1)`.
pub fn g2(signature: &BlsSignature) -> [u8; G2_LEN] {
    let raw = signature.to_uncompressed();
    let mut out = [0u8; G2_LEN];
    // ZCash order: x.c1, x.c0, y.c1, y.c0.
    for (slot, from) in [(0, 48), (1, 0), (2, 144), (3, 96)] {
        out[slot * FP_LEN..(slot + 1) * FP_LEN].copy_from_slice(&pad(&raw[from..from + 48]));
    }
    out
}

/// The inverse of [`g2`] into `blst`'s order, or `None` if a padding byte is set.
pub fn g2_to_zcash(point: &[u8; G2_LEN]) -> Option<[u8; 192]> {
    let mut out = [0u8; 192];
    for (slot, to) in [(0, 48), (1, 0), (2, 144), (3, 96)] {
        let fp = &point[slot * FP_LEN..(slot + 1) * FP_LEN];
        if fp[..16] != [0u8; 16] {
            return None;
        }
        out[to..to + 48].copy_from_slice(&fp[16..]);
    }
    Some(out)
}

/// The 48-byte compressed key the contract derives from an EIP-2537 point, as it does: `x`
/// (the low 48 bytes of its first 64) with the compression flag `0x80`, and `0x20` when `y`
/// (the low 48 bytes of the last 64) is above `(p − 1) / 2`. Padding bytes are ignored here;
/// the precompiles refuse them where the point is used.
pub fn compress_g1(point: &[u8; G1_LEN]) -> [u8; PUBLIC_KEY_LEN] {
    let mut out = [0u8; PUBLIC_KEY_LEN];
    out.copy_from_slice(&point[16..FP_LEN]);
    let y = &point[FP_LEN + 16..];
    out[0] |= 0x80;
    if y_is_larger(y) {
        out[0] |= 0x20;
    }
    out
}

/// Whether `y > p − 1 − y`, i.e. `y > (p − 1) / 2` (big-endian, 48 bytes).
fn y_is_larger(y: &[u8]) -> bool {
    // (p − 1) / 2: shift p − 1 right by one bit (p is odd, so p − 1 only clears the last bit).
    let mut half = [0u8; 48];
    let mut carry = 0u8;
    for (i, b) in P.iter().enumerate() {
        half[i] = (b >> 1) | (carry << 7);
        carry = b & 1;
    }
    y > &half[..]
}

/// One validator as `commitHeader` takes it: its EIP-2537 key and its power.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorKey {
    /// [`g1`] of its key.
    pub key: [u8; G1_LEN],
    /// Voting power.
    pub power: u64,
}

/// The validator set as the contract's constructor takes it: canonical order, [`g1`] keys.
pub fn validator_keys(set: &ValidatorSet) -> Vec<ValidatorKey> {
    set.validators()
        .iter()
        .map(|v| ValidatorKey {
            key: g1(&v.public_key),
            power: v.power,
        })
        .collect()
}

/// The arguments of `DAOracle.commitHeader`: a window's last header, and the round, signers
/// and aggregate signature (an EIP-2537 G2 point) of its certificate. The validator set is the
/// contract's own (given at deployment).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitHeader {
    /// `ConsensusHeader::encode()`, 213 bytes.
    pub header: Vec<u8>,
    /// The certificate's round.
    pub round: u32,
    /// The signer bitmap's bytes (bit `i` of byte `i / 8`, least significant first), without
    /// its length prefix: the contract takes the length from the validator count.
    pub signers: Vec<u8>,
    /// [`g2`] of the aggregate signature.
    pub signature: Vec<u8>,
}

impl CommitHeader {
    /// The arguments relaying `header` certified by `certificate`.
    pub fn new(header: &ConsensusHeader, certificate: &Certificate) -> Self {
        let bitmap = certificate.signers.encode();
        Self {
            header: header.encode().to_vec(),
            round: certificate.round,
            signers: bitmap[2..].to_vec(),
            signature: g2(&certificate.signature).to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use da_types::BlsSecretKey;

    use super::*;

    #[test]
    fn the_contract_s_compression_gives_back_the_key() {
        for i in 1..=20u8 {
            let key = BlsSecretKey::from_ikm(&[i; 32]).public_key();
            assert_eq!(compress_g1(&g1(&key)), key.to_bytes(), "key {i}");
        }
    }

    #[test]
    fn g2_round_trips_and_pads() {
        let sig = BlsSecretKey::from_ikm(&[3; 32]).sign(b"m");
        let point = g2(&sig);
        for slot in 0..4 {
            assert_eq!(&point[slot * FP_LEN..slot * FP_LEN + 16], &[0u8; 16]);
        }
        let back = g2_to_zcash(&point).expect("padded");
        assert_eq!(BlsSignature::from_uncompressed(&back).expect("valid"), sig);
        let mut bad = point;
        bad[0] = 1;
        assert_eq!(g2_to_zcash(&bad), None);
    }

    #[test]
    fn half_p_splits_y_and_minus_y() {
        // For any key, exactly one of y and p − y is "larger".
        let key = BlsSecretKey::from_ikm(&[9; 32]).public_key();
        let y = &g1(&key)[FP_LEN + 16..];
        let mut neg = [0u8; 48];
        let mut borrow = 0i16;
        for i in (0..48).rev() {
            let d = i16::from(P[i]) - i16::from(y[i]) - borrow;
            borrow = i16::from(d < 0);
            neg[i] = (d + 256 * borrow) as u8;
        }
        assert_ne!(y_is_larger(y), y_is_larger(&neg));
    }
}

//! The scalar field, its canonical byte form and bit-reversal permutations.

use ekzg_bls12_381::ff::{Field, PrimeField};

use crate::error::{ErasureError, Result};

/// An element of the BLS12-381 scalar field (for `da-kzg`; other crates use the byte-level API).
pub type Fr = ekzg_bls12_381::Scalar;

/// Parses big-endian 32-byte field elements, rejecting non-canonical ones.
pub fn frs_from_bytes(bytes: &[u8]) -> Result<Vec<Fr>> {
    if bytes.len() % 32 != 0 {
        return Err(ErasureError::WrongLength {
            what: "field-element bytes",
            got: bytes.len(),
            expected: bytes.len().next_multiple_of(32),
        });
    }
    bytes
        .chunks_exact(32)
        .enumerate()
        .map(|(index, c)| {
            let mut be = [0u8; 32];
            be.copy_from_slice(c);
            Option::from(Fr::from_bytes_be(&be)).ok_or(ErasureError::NonCanonical { index })
        })
        .collect()
}

/// Serializes field elements as big-endian 32-byte strings, appending to `out`.
pub fn frs_to_bytes(frs: &[Fr], out: &mut Vec<u8>) {
    out.reserve(frs.len() * 32);
    for f in frs {
        out.extend_from_slice(&f.to_bytes_be());
    }
}

/// Reverses the low `bits` bits of `n`.
pub const fn reverse_bits(n: usize, bits: u32) -> usize {
    if bits == 0 {
        return 0;
    }
    n.reverse_bits() >> (usize::BITS - bits)
}

/// Permutes `a` (length a power of two) into bit-reversed order; an involution.
pub fn bit_reverse<T>(a: &mut [T]) {
    let n = a.len();
    if n <= 2 {
        return;
    }
    let bits = n.trailing_zeros();
    for i in 0..n {
        let j = reverse_bits(i, bits);
        if i < j {
            a.swap(i, j);
        }
    }
}

/// A primitive `n`th root of unity (`n` a power of two up to `2^32`).
pub fn root_of_unity(n: usize) -> Fr {
    debug_assert!(n.is_power_of_two() && n.trailing_zeros() <= Fr::S);
    let mut w = Fr::ROOT_OF_UNITY;
    for _ in n.trailing_zeros()..Fr::S {
        w = w.square();
    }
    w
}

#[cfg(test)]
mod tests {
    use ekzg_bls12_381::ff::Field;

    use super::*;

    #[test]
    fn roots_have_exact_order() {
        for n in [2usize, 4, 128, 8192] {
            let w = root_of_unity(n);
            assert_eq!(w.pow_vartime([n as u64]), Fr::ONE);
            assert_ne!(w.pow_vartime([(n / 2) as u64]), Fr::ONE);
        }
    }

    #[test]
    fn bytes_round_trip_and_reject_modulus() {
        let frs: Vec<Fr> = (0..5u64).map(Fr::from).collect();
        let mut b = Vec::new();
        frs_to_bytes(&frs, &mut b);
        assert_eq!(frs_from_bytes(&b).expect("parse"), frs);
        let modulus =
            hex_literal("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001");
        assert_eq!(
            frs_from_bytes(&modulus),
            Err(ErasureError::NonCanonical { index: 0 })
        );
        assert!(frs_from_bytes(&[0u8; 31]).is_err());
    }

    fn hex_literal(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn bit_reverse_is_an_involution() {
        let mut v: Vec<usize> = (0..16).collect();
        bit_reverse(&mut v);
        assert_eq!(v[1], 8);
        assert_eq!(v[3], 12);
        bit_reverse(&mut v);
        assert_eq!(v, (0..16).collect::<Vec<_>>());
    }
}

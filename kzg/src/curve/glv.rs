//! Many G1 points times one public scalar (GLV + width-5 NAF), in batched affine arithmetic.
//!
//! A G1 FFT multiplies whole layers of points by the same twiddle. Doing those multiplications
//! together lets every doubling and addition run in affine coordinates with one shared field
//! inversion per step (Montgomery's trick): ~6–7 field multiplications per operation instead
//! of 7–11 in Jacobian coordinates. The scalar is split with the GLV endomorphism
//! (`k = k1 + λ·k2`, both ~128 bits, `φ(x, y) = (βx, y) = λ·P`) and recoded in width-5 NAF, so
//! a multiplication is ~128 doublings and ~43 additions. The scalars here are public (roots of
//! unity), so variable time is fine.
//!
//! Exceptional cases of the affine formulas (an addition of a point to itself or to its
//! negation) are detected and the point is recomputed with an ordinary scalar multiplication,
//! so the result is always exact.

use std::sync::OnceLock;

use blstrs::Fp;
use ekzg_bls12_381::{
    batch_inversion::batch_inverse,
    ff::{Field, PrimeField},
    g1_batch_normalize,
    group::{prime::PrimeCurveAffine, Curve, Group},
};

use super::{
    affine::{chord_point, tangent_slope},
    Fr, G1Point as G1Affine, G1,
};

/// NAF window (odd multiples `1, 3, …, 15` in the table).
const W: u32 = 5;
/// Table entries per point: the odd multiples below `2^(W−1)`.
const TABLE: usize = 1 << (W - 2);
/// Below this many points the batched path is not worth its bookkeeping.
const MIN_BATCH: usize = 4;

/// `λ = z² − 1` for the BLS12-381 parameter `z = −0xd201000000010000`: a cube root of unity in
/// `Fr`, the eigenvalue of the endomorphism `φ`.
const LAMBDA: u128 = 0xac45_a401_0001_a402_0000_0000_ffff_ffff;

/// `β` with `φ(x, y) = (βx, y) = λ·(x, y)`, derived once from the generator.
fn beta() -> Fp {
    static BETA: OnceLock<Fp> = OnceLock::new();
    *BETA.get_or_init(|| {
        let g = G1Affine::generator();
        let lg = (G1::generator() * Fr::from_u128(LAMBDA)).to_affine();
        // λ·G shares G's y and has x multiplied by a cube root of unity.
        debug_assert_eq!(lg.y(), g.y());
        lg.x() * g.x().invert().unwrap_or(Fp::ONE)
    })
}

/// `k = k1 + λ·k2` with `0 ≤ k1 < λ` and `k2 ≤ r/λ` (both below 2^129).
pub(crate) fn glv_split(k: &Fr) -> (u128, u128) {
    let bytes = k.to_bytes_le();
    let mut words = [0u64; 4];
    for (w, c) in words.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        *w = u64::from_le_bytes(b);
    }
    // Long division of the 256-bit k by the 128-bit λ, one bit at a time (runs once per call).
    let mut rem: u128 = 0;
    let mut quo = [0u64; 4];
    for bit in (0..256).rev() {
        let top = rem >> 127;
        rem = (rem << 1) | u128::from((words[bit / 64] >> (bit % 64)) & 1);
        if top == 1 || rem >= LAMBDA {
            rem = rem.wrapping_sub(LAMBDA);
            quo[bit / 64] |= 1 << (bit % 64);
        }
    }
    debug_assert!(quo[2] == 0 && quo[3] == 0, "k / λ wider than 128 bits");
    (rem, u128::from(quo[0]) | (u128::from(quo[1]) << 64))
}

/// Width-`W` NAF digits of `k`, least significant first (odd digits in `(−2^(W−1), 2^(W−1))`).
/// `k < λ + 2 < 2^128 − 16`, so `k + 15` never overflows.
pub(crate) fn wnaf(mut k: u128) -> Vec<i8> {
    let modulus = 1i32 << W;
    let mut out = Vec::with_capacity(130);
    while k != 0 {
        let mut d = 0i32;
        if k & 1 == 1 {
            d = (k % modulus as u128) as i32;
            if d >= modulus / 2 {
                d -= modulus;
            }
            if d < 0 {
                k += u128::from(d.unsigned_abs());
            } else {
                k -= d as u128;
            }
        }
        out.push(d as i8);
        k >>= 1;
    }
    out
}

/// What a batched step needs for one point.
#[derive(Clone, Copy)]
enum Step {
    Double,
    Add(G1Affine),
}

/// One batched step: `acc[i] ← 2·acc[i]` or `acc[i] + addend`, marking points whose formula
/// would divide by zero (they are recomputed at the end).
fn batch_step(
    acc: &mut [G1Affine],
    bad: &mut [bool],
    den: &mut Vec<Fp>,
    step: impl Fn(usize) -> Step,
) {
    den.clear();
    for (i, a) in acc.iter().enumerate() {
        let d = match step(i) {
            Step::Double => a.y().double(),
            Step::Add(q) => q.x() - a.x(),
        };
        if bool::from(d.is_zero()) {
            bad[i] = true;
            den.push(Fp::ONE);
        } else {
            den.push(d);
        }
    }
    batch_inverse(den);
    for (i, a) in acc.iter_mut().enumerate() {
        if bad[i] {
            continue;
        }
        let (lambda, qx) = match step(i) {
            Step::Double => (tangent_slope(a, &den[i]), a.x()),
            Step::Add(q) => ((q.y() - a.y()) * den[i], q.x()),
        };
        *a = chord_point(lambda, a, &qx);
    }
}

/// Multiplies every point by `k`, in place.
pub(crate) fn mul_many(points: &mut [G1], k: &Fr) {
    if bool::from(k.is_zero()) {
        points.iter_mut().for_each(|p| *p = G1::identity());
        return;
    }
    if *k == Fr::ONE {
        return;
    }
    let live: Vec<usize> = (0..points.len())
        .filter(|&i| !bool::from(points[i].is_identity()))
        .collect();
    if live.len() < MIN_BATCH {
        for &i in &live {
            points[i] *= k;
        }
        return;
    }
    let originals: Vec<G1> = live.iter().map(|&i| points[i]).collect();
    let base = g1_batch_normalize(&originals);
    let n = base.len();
    let mut bad = vec![false; n];
    let mut den = Vec::with_capacity(n);

    // Odd multiples P, 3P, …, 15P of every point (affine, batched).
    let mut twice = base.clone();
    batch_step(&mut twice, &mut bad, &mut den, |_| Step::Double);
    let mut table: Vec<Vec<G1Affine>> = vec![base];
    for _ in 1..TABLE {
        let mut next = table[table.len() - 1].clone();
        batch_step(&mut next, &mut bad, &mut den, |i| Step::Add(twice[i]));
        table.push(next);
    }
    let beta = beta();
    let entry = |i: usize, d: i8, endo: bool| -> G1Affine {
        let p = table[(d.unsigned_abs() as usize - 1) / 2][i];
        let p = if endo {
            G1Affine::from_raw_unchecked(p.x() * beta, p.y(), false)
        } else {
            p
        };
        if d < 0 {
            -p
        } else {
            p
        }
    };

    let (k1, k2) = glv_split(k);
    let (n1, n2) = (wnaf(k1), wnaf(k2));
    let len = n1.len().max(n2.len());
    let mut acc: Vec<G1Affine> = Vec::new();
    for bit in (0..len).rev() {
        if !acc.is_empty() {
            batch_step(&mut acc, &mut bad, &mut den, |_| Step::Double);
        }
        for (digits, endo) in [(&n1, false), (&n2, true)] {
            let d = digits.get(bit).copied().unwrap_or(0);
            if d == 0 {
                continue;
            }
            if acc.is_empty() {
                acc = (0..n).map(|i| entry(i, d, endo)).collect();
            } else {
                batch_step(&mut acc, &mut bad, &mut den, |i| {
                    Step::Add(entry(i, d, endo))
                });
            }
        }
    }
    for (j, &i) in live.iter().enumerate() {
        points[i] = if bad[j] {
            originals[j] * k
        } else {
            G1::from(acc[j])
        };
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;

    #[test]
    fn lambda_is_the_endomorphism_eigenvalue() {
        let l = Fr::from_u128(LAMBDA);
        assert_ne!(l, Fr::ONE);
        assert_eq!(l * l * l, Fr::ONE);
        let g = G1Affine::generator();
        let phi = G1Affine::from_raw_unchecked(g.x() * beta(), g.y(), false);
        assert_eq!(G1::from(phi), G1::generator() * l);
    }

    #[test]
    fn glv_split_and_naf_recompose() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let l = Fr::from_u128(LAMBDA);
        let mut ks = vec![Fr::ONE, -Fr::ONE, Fr::from(15), Fr::from_u128(LAMBDA)];
        ks.extend((0..50).map(|_| Fr::random(&mut rng)));
        for k in ks {
            let (k1, k2) = glv_split(&k);
            assert_eq!(Fr::from_u128(k1) + l * Fr::from_u128(k2), k);
            for half in [k1, k2] {
                let back = wnaf(half).iter().rev().fold(Fr::ZERO, |acc, &d| {
                    let v = Fr::from(u64::from(d.unsigned_abs()));
                    acc.double() + if d < 0 { -v } else { v }
                });
                assert_eq!(back, Fr::from_u128(half));
            }
        }
    }

    #[test]
    fn mul_many_equals_scalar_multiplication() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let p = G1::random(&mut rng);
        // Duplicates, negations and identities in one batch; then small batches.
        let mut points: Vec<G1> = (0..20).map(|_| G1::random(&mut rng)).collect();
        points.extend([p, p, -p, G1::identity(), p.double()]);
        let w = da_erasure::field::root_of_unity(128);
        let scalars = [
            Fr::ZERO,
            Fr::ONE,
            -Fr::ONE,
            Fr::from(2),
            Fr::from(16),
            w,
            w.pow_vartime([37]),
            Fr::random(&mut rng),
        ];
        for k in scalars {
            for n in [points.len(), 3] {
                let mut got = points[..n].to_vec();
                mul_many(&mut got, &k);
                let want: Vec<G1> = points[..n].iter().map(|q| *q * k).collect();
                assert_eq!(got, want, "k = {k:?}, n = {n}");
            }
        }
    }
}

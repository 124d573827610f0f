//! Radix-2 FFTs over G1 that skip the scalar multiplications which do nothing.
//!
//! A G1 butterfly costs one full scalar multiplication (~80 µs on the reference machine), so a
//! size-`n` transform is dominated by its `(n/2)·log n` multiplications. The library FFT
//! (`ekzg-polynomial`) multiplies by every twiddle, including the `n − 1` that are one, and by
//! the identity; this one skips both (28% fewer multiplications at `n = 128`), and leaves the
//! `1/n` of the inverse transform to the caller, who can usually fold it into a scalar it
//! multiplies anyway. Outputs are equal to the library's, point for point (tests below).

use da_erasure::field::{bit_reverse, root_of_unity};
use ekzg_bls12_381::{ff::Field, group::Group};

use super::{glv::mul_many, Fr, G1};

/// Twiddles for G1 transforms of one power-of-two size.
#[derive(Debug, Clone)]
pub(crate) struct G1Fft {
    n: usize,
    /// `ω^i` for `i < n/2`.
    forward: Vec<Fr>,
    /// `ω^{-i}` for `i < n/2`.
    inverse: Vec<Fr>,
}

impl G1Fft {
    /// Twiddles for size `n` (a power of two, at least 1).
    pub(crate) fn new(n: usize) -> Self {
        assert!(n.is_power_of_two(), "G1 FFT size must be a power of two");
        let w = root_of_unity(n);
        let w_inv = w.invert().unwrap_or(Fr::ONE);
        let powers = |base: Fr| {
            std::iter::successors(Some(Fr::ONE), move |p| Some(*p * base))
                .take((n / 2).max(1))
                .collect()
        };
        Self {
            n,
            forward: powers(w),
            inverse: powers(w_inv),
        }
    }

    /// In place: `v[j] ← Σ_i v[i]·ω^{ij}` (natural order in and out).
    pub(crate) fn fft(&self, v: &mut [G1]) {
        self.transform(v, &self.forward);
    }

    /// In place: `v[j] ← Σ_i v[i]·ω^{-ij}`, **without** the `1/n` factor.
    pub(crate) fn ifft_unscaled(&self, v: &mut [G1]) {
        self.transform(v, &self.inverse);
    }

    /// [`fft`](Self::fft) of many vectors at once: each layer's multiplications by the same
    /// twiddle run as one batch ([`mul_many`]), ~35% cheaper than one by one.
    pub(crate) fn fft_many(&self, vs: &mut [Vec<G1>]) {
        self.transform_many(vs, &self.forward);
    }

    /// [`ifft_unscaled`](Self::ifft_unscaled) of many vectors at once.
    pub(crate) fn ifft_unscaled_many(&self, vs: &mut [Vec<G1>]) {
        self.transform_many(vs, &self.inverse);
    }

    fn transform_many(&self, vs: &mut [Vec<G1>], twiddles: &[Fr]) {
        for v in vs.iter_mut() {
            assert_eq!(v.len(), self.n, "G1 FFT input of the wrong size");
            bit_reverse(v);
        }
        let mut half = 1;
        let mut batch = Vec::new();
        while half < self.n {
            let step = self.n / (2 * half);
            // Twiddle j ≥ 1 multiplies element `start + half + j` of every block of every vector.
            for j in 1..half {
                batch.clear();
                for v in vs.iter() {
                    for start in (0..self.n).step_by(2 * half) {
                        batch.push(v[start + half + j]);
                    }
                }
                mul_many(&mut batch, &twiddles[j * step]);
                let mut it = batch.iter();
                for v in vs.iter_mut() {
                    for start in (0..self.n).step_by(2 * half) {
                        if let Some(p) = it.next() {
                            v[start + half + j] = *p;
                        }
                    }
                }
            }
            for v in vs.iter_mut() {
                for block in v.chunks_exact_mut(2 * half) {
                    let (lo, hi) = block.split_at_mut(half);
                    for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
                        let t = *b;
                        *b = *a - t;
                        *a += t;
                    }
                }
            }
            half *= 2;
        }
    }

    fn transform(&self, v: &mut [G1], twiddles: &[Fr]) {
        assert_eq!(v.len(), self.n, "G1 FFT input of the wrong size");
        bit_reverse(v);
        let mut half = 1;
        while half < self.n {
            let step = self.n / (2 * half);
            for block in v.chunks_exact_mut(2 * half) {
                let (lo, hi) = block.split_at_mut(half);
                for (j, (a, b)) in lo.iter_mut().zip(hi.iter_mut()).enumerate() {
                    let t = if j == 0 || bool::from(b.is_identity()) {
                        *b
                    } else {
                        *b * twiddles[j * step]
                    };
                    *b = *a - t;
                    *a += t;
                }
            }
            half *= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use ekzg_polynomial::domain::Domain;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;

    fn points(n: usize, seed: u64) -> Vec<G1> {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        (0..n).map(|_| G1::random(&mut rng)).collect()
    }

    #[test]
    fn matches_the_library_fft_and_inverse() {
        for n in [1usize, 2, 4, 8, 64] {
            let d = Domain::new(n);
            let f = G1Fft::new(n);
            let mut p = points(n, n as u64);
            // Zero padding (identity inputs) takes the skipping path.
            if n >= 4 {
                p[n - 1] = G1::identity();
            }
            let mut got = p.clone();
            f.fft(&mut got);
            assert_eq!(got, d.fft_g1(p.clone()), "fft n={n}");
            let mut back = got.clone();
            f.ifft_unscaled(&mut back);
            let scaled: Vec<G1> = back.iter().map(|x| *x * d.domain_size_inv).collect();
            assert_eq!(scaled, p, "round trip n={n}");
            assert_eq!(scaled, d.ifft_g1(got.clone()), "ifft n={n}");
            // Batched over several vectors: the same results.
            let mut many = vec![p.clone(), got.clone(), p.clone()];
            f.fft_many(&mut many);
            assert_eq!(many[0], got, "fft_many n={n}");
            assert_eq!(many[1], d.fft_g1(got.clone()), "fft_many n={n}");
            let mut inv = vec![got.clone(), got];
            f.ifft_unscaled_many(&mut inv);
            assert_eq!(inv[1], back, "ifft_unscaled_many n={n}");
        }
    }
}

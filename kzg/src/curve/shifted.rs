//! One MSM over a fixed set of bases with every window's shift precomputed (the proposer's
//! row commitments, `specs/03-kzg.md` "Row commitments").
//!
//! Pippenger's method splits each scalar into `W` signed `c`-bit windows and, per window, adds
//! every base into one of `2^(c−1)` buckets, reduces the buckets, then doubles `c` times
//! between windows. Here the table holds `2^(c·j)·B` for every base `B` and window `j`, so all
//! `W` windows fall into one set of buckets: one bucket pass over `n·W` points, one reduction,
//! no doublings. The bucket sums are batched affine additions ([`batch_sums_at`]), one field
//! inversion per tree level across all buckets. Against c-kzg's Pippenger (one bucket pass and
//! one reduction per window, XYZZ additions) this is fewer and cheaper additions for the price
//! of a table of `n·W` points (8.6 MiB for the 4096 monomial points at `c = 12`).

use ekzg_bls12_381::{
    g1_batch_normalize,
    group::{prime::PrimeCurveAffine, Group},
};
use rayon::prelude::*;

use super::{affine::batch_sums_at, tables::signed_digits, Fr, G1Point, G1};

/// The fixed bases with their window shifts: `table[base·W + j] = 2^(c·j)·B`.
pub(crate) struct ShiftedBases {
    wbits: usize,
    windows: usize,
    bases: usize,
    table: Vec<G1Point>,
}

impl ShiftedBases {
    /// Builds the shifts of every base for `wbits`-bit signed windows (`2 ≤ wbits ≤ 16`).
    pub(crate) fn new(bases: &[G1Point], wbits: usize) -> Self {
        assert!((2..=16).contains(&wbits), "window of {wbits} bits");
        let windows = 256usize.div_ceil(wbits);
        let table = bases
            .par_iter()
            .flat_map_iter(|b| {
                let mut p = G1::from(*b);
                let mut shifts = Vec::with_capacity(windows);
                for _ in 0..windows {
                    shifts.push(p);
                    for _ in 0..wbits {
                        p = p.double();
                    }
                }
                shifts
            })
            .collect::<Vec<G1>>();
        Self {
            wbits,
            windows,
            bases: bases.len(),
            table: g1_batch_normalize(&table),
        }
    }

    /// How many bases the table covers.
    pub(crate) fn len(&self) -> usize {
        self.bases
    }

    /// `Σ scalars[i] · B_i` over the first `scalars.len()` bases.
    pub(crate) fn msm(&self, scalars: &[Fr]) -> G1 {
        assert!(scalars.len() <= self.bases, "more scalars than bases");
        let (w, windows) = (self.wbits, self.windows);
        let mut digits = vec![0i32; scalars.len() * windows];
        for (s, d) in scalars.iter().zip(digits.chunks_exact_mut(windows)) {
            signed_digits(s, w, d);
        }
        // Bucket `m` collects the points whose digit is `±(m + 1)`: count, then place.
        let buckets = 1usize << (w - 1);
        let mut lens = vec![0usize; buckets];
        for &d in &digits {
            if d != 0 {
                lens[d.unsigned_abs() as usize - 1] += 1;
            }
        }
        let mut starts = Vec::with_capacity(buckets);
        let mut total = 0;
        for &n in &lens {
            starts.push(total);
            total += n;
        }
        let mut points = vec![G1Point::default(); total];
        let mut fill = starts.clone();
        for (i, ds) in digits.chunks_exact(windows).enumerate() {
            let shifts = &self.table[i * windows..][..windows];
            for (p, &d) in shifts.iter().zip(ds) {
                if d == 0 || bool::from(p.is_identity()) {
                    continue;
                }
                let m = d.unsigned_abs() as usize - 1;
                points[fill[m]] = if d < 0 { -*p } else { *p };
                fill[m] += 1;
            }
        }
        for (n, (&start, &end)) in lens.iter_mut().zip(starts.iter().zip(&fill)) {
            *n = end - start;
        }
        let sums = batch_sums_at(&mut points, &starts, &mut lens);
        // Σ (m + 1)·S_m by running sums, from the top bucket down.
        let (mut running, mut acc) = (G1::identity(), G1::identity());
        for s in sums.iter().rev() {
            running += s;
            acc += running;
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use ekzg_bls12_381::ff::Field;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;

    #[test]
    fn equals_plain_scalar_multiplication_with_extreme_scalars() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let p = G1::random(&mut rng);
        // Repeated and negated bases so that buckets see `P + P` and `P + (−P)`.
        let bases: Vec<G1> = vec![p, p, -p, G1::identity(), G1::random(&mut rng), p.double()];
        let affine = g1_batch_normalize(&bases);
        let scalars = [
            Fr::ONE,
            -Fr::ONE,
            Fr::from(u64::MAX),
            Fr::random(&mut rng),
            Fr::ZERO,
            -Fr::from(2u64),
        ];
        for wbits in [2, 5, 12, 16] {
            let t = ShiftedBases::new(&affine, wbits);
            let want = bases
                .iter()
                .zip(&scalars)
                .fold(G1::identity(), |acc, (b, s)| acc + *b * s);
            assert_eq!(t.msm(&scalars), want, "w = {wbits}");
            assert_eq!(
                t.msm(&scalars[..3]),
                bases[0] * scalars[0] + bases[1] * scalars[1] + bases[2] * scalars[2]
            );
            assert_eq!(t.msm(&[]), G1::identity());
        }
    }
}

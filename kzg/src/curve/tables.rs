//! Fixed-base MSMs with signed-window tables, summed in batched affine additions (FK20's MSM
//! stage, `specs/03-kzg.md` "Proving" 2).
//!
//! For every base `B` the table holds `B, 2B, …, 2^(w−1)·B`; a scalar is recoded in signed
//! base-`2^w` digits, so each window of each MSM is a plain sum of looked-up (possibly negated)
//! points. All windows of a few MSMs are summed together by [`batch_sums`], and the windows are
//! then combined with `w` doublings each.

use ekzg_bls12_381::group::{prime::PrimeCurveAffine, Group};
use rayon::prelude::*;

use super::{
    affine::{batch_sums, multiples},
    Fr, G1Point, G1,
};

/// Bases whose table rows are built together (one inversion per step per chunk).
const TABLE_BUILD_CHUNK: usize = 512;
/// MSMs gathered and summed together.
const SETS_PER_BATCH: usize = 4;

/// Signed-window tables for `sets × per_set` fixed bases: one MSM per set.
pub(crate) struct FixedBaseTables {
    wbits: usize,
    /// Bases per MSM (every set has as many).
    per_set: usize,
    /// Entries per base: `(m + 1)·B` for `m < 2^(wbits − 1)`.
    per_base: usize,
    /// `[set][base][m]`, flattened.
    table: Vec<G1Point>,
    /// `[set][base]`: the base is the identity (contributes nothing).
    identity: Vec<bool>,
}

impl FixedBaseTables {
    /// Builds the tables of `w`-bit signed windows (`2 ≤ w ≤ 16`) for every base of every set
    /// (all sets the same length), all bases stepping together.
    pub(crate) fn new(sets: &[Vec<G1Point>], wbits: usize) -> Self {
        assert!((2..=16).contains(&wbits), "window of {wbits} bits");
        let per_set = sets.first().map_or(0, Vec::len);
        assert!(
            sets.iter().all(|s| s.len() == per_set),
            "MSM sets of different lengths"
        );
        let per_base = 1usize << (wbits - 1);
        let bases: Vec<G1Point> = sets.iter().flatten().copied().collect();
        let identity = bases.iter().map(|b| bool::from(b.is_identity())).collect();
        let mut table: Vec<G1Point> = Vec::with_capacity(bases.len() * per_base);
        advise_huge_pages(&table);
        table.resize(bases.len() * per_base, G1Point::identity());
        let chunk = TABLE_BUILD_CHUNK.min(bases.len().max(1));
        table
            .par_chunks_mut(chunk * per_base)
            .zip(bases.par_chunks(chunk))
            .for_each(|(t, b)| multiples(b, per_base, t));
        Self {
            wbits,
            per_set,
            per_base,
            table,
            identity,
        }
    }

    /// The window width in bits.
    pub(crate) fn window_bits(&self) -> usize {
        self.wbits
    }

    /// Number of signed windows of a scalar below `2^255`: `⌈256 / w⌉`. The top window holds at
    /// most `w − 1` of the scalar's bits, so with the carry from below it stays `≤ 2^(w−1)`.
    fn windows(&self) -> usize {
        256usize.div_ceil(self.wbits)
    }

    /// One MSM per set: `Σ_l scalars[set][l] · B[set][l]` (`scalars` may cover a prefix of the
    /// sets; each entry holds one scalar per base).
    pub(crate) fn msms(&self, scalars: &[Vec<Fr>]) -> Vec<G1> {
        let (windows, per_set) = (self.windows(), self.per_set);
        assert!(
            scalars.len() * per_set <= self.identity.len()
                && scalars.iter().all(|s| s.len() == per_set),
            "scalars do not match the tables"
        );
        // Every scalar's digits first (they are reused by each chunk's gather).
        let mut digits = vec![0i32; scalars.len() * per_set * windows];
        for (i, s) in scalars.iter().flatten().enumerate() {
            signed_digits(s, self.wbits, &mut digits[i * windows..][..windows]);
        }
        // A few sets per batch: the gathered points stay in cache (one batch of four FK20 slots
        // is ~0.8 MB) and each tree level still shares its inversion over ~4 000 additions.
        let mut points = vec![G1Point::default(); SETS_PER_BATCH * windows * per_set];
        let mut lens = vec![0usize; SETS_PER_BATCH * windows];
        let mut out = Vec::with_capacity(scalars.len());
        for first in (0..scalars.len()).step_by(SETS_PER_BATCH) {
            let sets = (scalars.len() - first).min(SETS_PER_BATCH);
            lens.iter_mut().for_each(|n| *n = 0);
            for s in 0..sets {
                for l in 0..per_set {
                    let base = (first + s) * per_set + l;
                    if self.identity[base] {
                        continue;
                    }
                    let ds = &digits[base * windows..][..windows];
                    let entries = &self.table[base * self.per_base..][..self.per_base];
                    for (w, &d) in ds.iter().enumerate() {
                        if d == 0 {
                            continue;
                        }
                        let p = entries[d.unsigned_abs() as usize - 1];
                        let set = s * windows + w;
                        points[set * per_set + lens[set]] = if d < 0 { -p } else { p };
                        lens[set] += 1;
                    }
                }
            }
            let sums = batch_sums(&mut points, &mut lens[..sets * windows], per_set);
            out.extend(sums.chunks_exact(windows).map(|per_window| {
                let mut acc = G1::identity();
                for s in per_window.iter().rev() {
                    for _ in 0..self.wbits {
                        acc = acc.double();
                    }
                    acc += s;
                }
                acc
            }));
        }
        out
    }
}

/// Asks the kernel to back `v`'s allocation with 2 MiB pages (transparent huge pages in
/// `madvise` mode, the common default). The tables are read at random: with 4 KiB pages nearly
/// every lookup also misses the TLB. Best effort; must run before the memory is first touched.
fn advise_huge_pages<T>(v: &Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = v.as_ptr() as usize;
        let end = start + v.capacity() * std::mem::size_of::<T>();
        let (lo, hi) = (start.next_multiple_of(HUGE), end / HUGE * HUGE);
        if hi > lo {
            // SAFETY: [lo, hi) lies inside `v`'s live allocation; MADV_HUGEPAGE only changes how
            // the kernel backs those pages, never their contents or validity.
            let _ = unsafe { libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = v;
}

/// Signed base-`2^w` digits of `s`, least significant first, each in `(−2^(w−1), 2^(w−1)]`.
pub(crate) fn signed_digits(s: &Fr, wbits: usize, out: &mut [i32]) {
    let bytes = s.to_bytes_le();
    let mut limbs = [0u64; 5];
    for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *limb = u64::from_le_bytes(b);
    }
    let bits_at = |i: usize| -> u32 {
        // `wbits` ≤ 16 bits from bit `i`, spanning at most two limbs (the fifth is zero).
        let (q, r) = (i / 64, i % 64);
        let lo = limbs.get(q).copied().unwrap_or(0) >> r;
        let hi = if r == 0 {
            0
        } else {
            limbs.get(q + 1).copied().unwrap_or(0) << (64 - r)
        };
        ((lo | hi) & ((1u64 << wbits) - 1)) as u32
    };
    let full = 1i32 << wbits;
    let half = full / 2;
    let mut carry = 0;
    for (w, d) in out.iter_mut().enumerate() {
        let mut v = bits_at(w * wbits) as i32 + carry;
        carry = 0;
        if v > half {
            v -= full;
            carry = 1;
        }
        *d = v;
    }
    debug_assert_eq!(carry, 0, "scalar wider than the windows");
}

#[cfg(test)]
mod tests {
    use ekzg_bls12_381::ff::Field;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;

    fn rng(seed: u64) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(seed)
    }

    #[test]
    fn signed_digits_recompose_the_scalar() {
        let mut r = rng(1);
        for wbits in [2usize, 5, 8, 10, 11, 12, 16] {
            // As many windows as the tables use (`Tables::windows`).
            let windows = 256usize.div_ceil(wbits);
            let mut d = vec![0; windows];
            for s in [
                Fr::ZERO,
                Fr::ONE,
                -Fr::ONE,
                Fr::random(&mut r),
                Fr::random(&mut r),
            ] {
                signed_digits(&s, wbits, &mut d);
                let half = 1i32 << (wbits - 1);
                assert!(d.iter().all(|&x| x > -half && x <= half));
                let radix = Fr::from(1u64 << wbits);
                let back = d.iter().rev().fold(Fr::ZERO, |acc, &x| {
                    let digit = Fr::from(u64::from(x.unsigned_abs()));
                    acc * radix + if x < 0 { -digit } else { digit }
                });
                assert_eq!(back, s, "w={wbits}");
            }
        }
    }
}

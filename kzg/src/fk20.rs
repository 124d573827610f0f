//! FK20: all 128 EIP-7594 cell proofs of one row at once (`specs/03-kzg.md`, "Proving").
//!
//! The algorithm is the one `rust_eth_kzg` (`ekzg-multi-open`) implements, and the proofs are
//! equal to its and to c-kzg's, point for point (tests below). Three things differ, all for
//! speed on the producer's hot path:
//! - **The fixed-base MSM stage** (128 MSMs of 64 points per row, two thirds of the library's
//!   time) sums every window of every slot of the row in one batch of affine additions, so one
//!   field inversion per tree level is shared by ~270 000 additions instead of ~2 000. The sum
//!   handles `P + P` and `P + (−P)` exactly, where the library assumes they never occur.
//! - **G1 FFTs** skip unit twiddles and identity inputs ([`G1Fft`]).
//! - The circulant IFFT's `1/128` is folded into the scalars (free in `Fr`) instead of 64
//!   G1 scalar multiplications, and the cells' coset evaluations are only computed on request.

use da_erasure::{field::bit_reverse, Fr, G1Fft, G1};
use ekzg_bls12_381::{
    batch_inversion::batch_inverse,
    ff::Field,
    g1_batch_normalize,
    group::{prime::PrimeCurveAffine, Group},
    lincomb::g1_lincomb,
    G1Point,
};
use ekzg_polynomial::domain::Domain;
use rayon::prelude::*;

use blstrs::Fp;

/// Field elements per row (polynomial coefficients).
const N: usize = da_types::consts::FIELD_ELEMENTS_PER_ROW;
/// Field elements per cell (points per proof, FK20's `ℓ`).
const L: usize = da_types::consts::FIELD_ELEMENTS_PER_CELL;
/// Proofs per row.
const PROOFS: usize = da_types::consts::CELLS_PER_ROW;
/// Dimension of each Toeplitz matrix (`N / L`), and the length of `h`.
const M: usize = N / L;
/// Size of the circulant embedding, the number of MSM slots.
const SLOTS: usize = 2 * M;

/// Below this many pairs a tree level is cheaper in projective additions than with one inversion.
const BATCH_MIN_PAIRS: usize = 16;
/// Bases whose table rows are built together (one inversion per step per chunk).
const TABLE_BUILD_CHUNK: usize = 512;
/// MSM slots gathered and summed together.
const SLOTS_PER_BATCH: usize = 4;

/// The FK20 prover for one row size, with its fixed bases (optionally with window tables).
pub(crate) struct Fk20 {
    poly_domain: Domain,
    circulant: Domain,
    eval_domain: Domain,
    g1fft: G1Fft,
    bases: Bases,
    /// `[τ^t]` for the top `L` coefficients, `t ∈ N − L .. N` (the part of the commitment the
    /// circulant product leaves out).
    top_srs: Vec<G1Point>,
}

enum Bases {
    /// `[slot][l]`: one Pippenger MSM per slot (verifiers and tests; no tables to build).
    Plain(Vec<Vec<G1Point>>),
    /// Signed-window tables for every base, summed in batched affine additions.
    Tables(Tables),
}

struct Tables {
    wbits: usize,
    /// Entries per base: `(m + 1)·B` for `m < 2^(wbits − 1)`.
    per_base: usize,
    /// `[slot][l][m]`, flattened.
    table: Vec<G1Point>,
    /// `[slot][l]`: the base is the identity (contributes nothing).
    identity: Vec<bool>,
}

impl std::fmt::Debug for Fk20 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tables = match &self.bases {
            Bases::Plain(_) => None,
            Bases::Tables(t) => Some(t.wbits),
        };
        f.debug_struct("Fk20")
            .field("window_bits", &tables)
            .finish()
    }
}

impl Fk20 {
    /// Builds the prover from the monomial SRS (`N` points); `window_bits` builds the fixed-base
    /// tables (`Some(10)`: ~400 MB, about a second on two cores), `None` keeps only the bases.
    pub(crate) fn new(g1_monomial: &[G1Point], window_bits: Option<usize>) -> Self {
        assert!(g1_monomial.len() >= N, "the SRS is shorter than a row");
        let circulant = Domain::new(SLOTS);
        // The vectors the Toeplitz matrices multiply: the SRS reversed, without its last `L`
        // points, split into `L` strided vectors of `M − 1` points, padded to `M`.
        let reversed: Vec<G1Point> = g1_monomial[..N].iter().rev().skip(L).copied().collect();
        let vectors: Vec<Vec<G1Point>> = (0..L)
            .into_par_iter()
            .map(|l| {
                let mut v: Vec<G1> = reversed
                    .iter()
                    .skip(l)
                    .step_by(L)
                    .map(|p| G1::from(*p))
                    .collect();
                v.resize(M, G1::identity());
                g1_batch_normalize(&circulant.fft_g1(v))
            })
            .collect();
        // Transposed: slot `i` holds the `i`th FFT output of every vector.
        let per_slot: Vec<Vec<G1Point>> = (0..SLOTS)
            .map(|i| vectors.iter().map(|v| v[i]).collect())
            .collect();
        let bases = match window_bits {
            None => Bases::Plain(per_slot),
            Some(wbits) => Bases::Tables(Tables::new(&per_slot, wbits)),
        };
        Self {
            poly_domain: Domain::new(N),
            circulant,
            eval_domain: Domain::new(2 * N),
            g1fft: G1Fft::new(PROOFS),
            bases,
            top_srs: g1_monomial[N - L..N].to_vec(),
        }
    }

    /// The polynomial's coefficients from a row's `N` evaluations (blob order).
    pub(crate) fn coefficients(&self, data: &[Fr]) -> Vec<Fr> {
        let mut d = data.to_vec();
        bit_reverse(&mut d);
        self.poly_domain.ifft_scalars(d).0
    }

    /// The row's `2N` evaluations grouped into its 128 cells (EIP-7594 order).
    pub(crate) fn cells(&self, coefficients: Vec<Fr>) -> Vec<Vec<Fr>> {
        let mut evals = self.eval_domain.fft_scalars(coefficients.into());
        bit_reverse(&mut evals);
        evals.chunks_exact(L).map(<[Fr]>::to_vec).collect()
    }

    /// Whether the fixed-base tables were built (the fast path for producers).
    pub(crate) fn has_tables(&self) -> bool {
        matches!(self.bases, Bases::Tables(_))
    }

    /// The 128 cell proofs of a row given by its `N` evaluations, in cell order.
    pub(crate) fn prove(&self, data: &[Fr]) -> Vec<G1> {
        assert_eq!(data.len(), N, "FK20 row of the wrong length");
        self.prove_coefficients(self.coefficients(data))
    }

    /// The 128 cell proofs of a polynomial in coefficient form.
    pub(crate) fn prove_coefficients(&self, coeffs: Vec<Fr>) -> Vec<G1> {
        let (_, h) = self.commit_and_h(coeffs);
        self.proofs_from_h(h)
    }

    /// FK20's first phase for a polynomial in coefficient form: its commitment and `h`, the
    /// `M` points whose FFT are the proofs.
    ///
    /// The commitment comes almost free: output `SLOTS − 1` of the circulant product, which FK20
    /// discards, is `Σ_{t < N − L} c_t·[τ^t]` (the Toeplitz row above the first), so only the top
    /// `L` coefficients need their own (64-point) MSM. This replaces a 4096-point MSM per row
    /// (`specs/03-kzg.md`).
    pub(crate) fn commit_and_h(&self, coeffs: Vec<Fr>) -> (G1, Vec<G1>) {
        let (top, mut h) = self.h_hat(coeffs);
        self.g1fft.ifft_unscaled(&mut h);
        Self::finish_h(top, h)
    }

    /// [`commit_and_h`](Self::commit_and_h) for many rows: the MSM stages in parallel, then
    /// the inverse FFTs batched (`G1Fft::ifft_unscaled_many`) in one chunk per thread.
    pub(crate) fn commit_and_h_many(&self, rows: Vec<Vec<Fr>>) -> Vec<(G1, Vec<G1>)> {
        let (tops, mut hats): (Vec<G1>, Vec<Vec<G1>>) =
            rows.into_par_iter().map(|c| self.h_hat(c)).unzip();
        let chunk = hats.len().div_ceil(rayon::current_num_threads()).max(1);
        hats.par_chunks_mut(chunk)
            .for_each(|c| self.g1fft.ifft_unscaled_many(c));
        tops.into_iter()
            .zip(hats)
            .map(|(top, h)| Self::finish_h(top, h))
            .collect()
    }

    /// The commitment (spare output plus the top coefficients' part) and `h`.
    fn finish_h(top: G1, mut h: Vec<G1>) -> (G1, Vec<G1>) {
        let commitment = h[SLOTS - 1] + top;
        h.truncate(M);
        (commitment, h)
    }

    /// The MSM stage: the top coefficients' part of the commitment and `ĥ` (before the inverse
    /// FFT, whose `1/SLOTS` is already applied).
    fn h_hat(&self, mut coeffs: Vec<Fr>) -> (G1, Vec<G1>) {
        assert_eq!(coeffs.len(), N, "FK20 polynomial of the wrong length");
        let top = g1_lincomb(&self.top_srs, &coeffs[N - L..]).unwrap_or(G1::identity());
        // The circulant product ends with an inverse FFT whose 1/SLOTS is applied here, in Fr.
        let inv = Fr::from(SLOTS as u64).invert().unwrap_or(Fr::ONE);
        for c in &mut coeffs {
            *c *= inv;
        }
        coeffs.reverse();
        // Toeplitz matrix `l` has first row `coeffs[l], coeffs[l + L], ...` and first column
        // `(coeffs[l], 0, ..., 0)`; its circulant embedding's defining vector is FFT'd.
        let ffts: Vec<Vec<Fr>> = (0..L)
            .map(|l| {
                let row: Vec<Fr> = coeffs.iter().skip(l).step_by(L).copied().collect();
                let mut circ = vec![Fr::ZERO; SLOTS];
                circ[0] = row[0];
                // Second half: the row rotated left by one and reversed, first entry zero.
                for j in 1..M {
                    circ[M + j] = row[M - j];
                }
                self.circulant.fft_scalars(circ.into())
            })
            .collect();
        let scalars: Vec<Vec<Fr>> = (0..SLOTS)
            .map(|i| ffts.iter().map(|f| f[i]).collect())
            .collect();
        let h = match &self.bases {
            Bases::Plain(per_slot) => per_slot
                .iter()
                .zip(&scalars)
                .map(|(b, s)| g1_lincomb(b, s).unwrap_or(G1::identity()))
                .collect(),
            Bases::Tables(t) => t.msms(&scalars),
        };
        (top, h)
    }

    /// [`proofs_from_h`](Self::proofs_from_h) for many rows, the FFTs batched in one chunk per
    /// thread.
    pub(crate) fn proofs_from_h_many(&self, mut hs: Vec<Vec<G1>>) -> Vec<Vec<G1>> {
        for h in &mut hs {
            h.resize(PROOFS, G1::identity());
        }
        let chunk = hs.len().div_ceil(rayon::current_num_threads()).max(1);
        hs.par_chunks_mut(chunk).for_each(|c| {
            self.g1fft.fft_many(c);
            for h in c {
                bit_reverse(h);
            }
        });
        hs
    }

    /// FK20's second phase: the 128 cell proofs (cell order) from `h`.
    pub(crate) fn proofs_from_h(&self, mut h: Vec<G1>) -> Vec<G1> {
        h.resize(PROOFS, G1::identity());
        self.g1fft.fft(&mut h);
        bit_reverse(&mut h);
        h
    }
}

impl Tables {
    fn new(per_slot: &[Vec<G1Point>], wbits: usize) -> Self {
        assert!((2..=16).contains(&wbits), "window of {wbits} bits");
        let per_base = 1usize << (wbits - 1);
        let bases: Vec<G1Point> = per_slot.iter().flatten().copied().collect();
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
            per_base,
            table,
            identity,
        }
    }

    /// Number of signed windows of a scalar below `2^255`: `⌈256 / w⌉`. The top window holds at
    /// most `w − 1` of the scalar's bits, so with the carry from below it stays `≤ 2^(w−1)`.
    fn windows(&self) -> usize {
        256usize.div_ceil(self.wbits)
    }

    /// One MSM per slot: `Σ_l scalars[slot][l] · B[slot][l]`.
    fn msms(&self, scalars: &[Vec<Fr>]) -> Vec<G1> {
        let windows = self.windows();
        // Every scalar's digits first (they are reused by each chunk's gather).
        let mut digits = vec![0i32; scalars.len() * M * windows];
        for (i, s) in scalars.iter().flatten().enumerate() {
            signed_digits(s, self.wbits, &mut digits[i * windows..][..windows]);
        }
        // A few slots per batch: the gathered points stay in cache (one batch of four slots is
        // ~0.8 MB) and each tree level still shares its inversion over ~4 000 additions.
        let mut points = vec![G1Point::default(); SLOTS_PER_BATCH * windows * M];
        let mut lens = vec![0usize; SLOTS_PER_BATCH * windows];
        let mut out = Vec::with_capacity(scalars.len());
        for first in (0..scalars.len()).step_by(SLOTS_PER_BATCH) {
            let slots = (scalars.len() - first).min(SLOTS_PER_BATCH);
            lens.iter_mut().for_each(|n| *n = 0);
            for s in 0..slots {
                for l in 0..M {
                    let base = (first + s) * M + l;
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
                        points[set * M + lens[set]] = if d < 0 { -p } else { p };
                        lens[set] += 1;
                    }
                }
            }
            let sums = batch_sums(&mut points, &mut lens[..slots * windows], M);
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

/// Writes `(m + 1)·B` for `m < per_base` of every base `B` into `out` (`[base][m]`), all bases
/// stepping together so that each step's additions share one field inversion. The identity's
/// multiples are the identity.
fn multiples(bases: &[G1Point], per_base: usize, out: &mut [G1Point]) {
    let live: Vec<usize> = (0..bases.len())
        .filter(|&b| !bool::from(bases[b].is_identity()))
        .collect();
    for &b in &live {
        out[b * per_base] = bases[b];
    }
    let mut inv: Vec<Fp> = Vec::with_capacity(live.len());
    for m in 1..per_base {
        // Step `m`: `(m + 1)·B = m·B + B`. For `m = 1` that is a doubling; for `m ≥ 2` the two
        // x-coordinates differ (`m·B = ±B` would need `m ∓ 1 ≡ 0` modulo the group order).
        inv.clear();
        inv.extend(live.iter().map(|&b| {
            let (p, q) = (out[b * per_base + m - 1], bases[b]);
            if m == 1 {
                p.y().double()
            } else {
                q.x() - p.x()
            }
        }));
        batch_inverse(&mut inv);
        for (&b, i) in live.iter().zip(&inv) {
            let (p, q) = (out[b * per_base + m - 1], bases[b]);
            let lambda = if m == 1 {
                let xx = p.x().square();
                (xx.double() + xx) * i
            } else {
                (q.y() - p.y()) * i
            };
            out[b * per_base + m] = chord_point(lambda, &p, &q.x());
        }
    }
}

/// The affine sum (or double) of `p` and a point with x-coordinate `qx`, from the slope
/// `lambda` of the line through them (the tangent for a doubling, where `qx = p.x`).
#[inline]
fn chord_point(lambda: Fp, p: &G1Point, qx: &Fp) -> G1Point {
    let x = lambda.square() - p.x() - qx;
    let y = lambda * (p.x() - x) - p.y();
    G1Point::from_raw_unchecked(x, y, false)
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
}

/// Signed base-`2^w` digits of `s`, least significant first, each in `(−2^(w−1), 2^(w−1)]`.
fn signed_digits(s: &Fr, wbits: usize, out: &mut [i32]) {
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

/// What a pair of affine points adds up to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pair {
    Add,
    Double,
    Cancel,
}

/// Sums sets of affine points at once: set `i` is `points[i·stride ..][..lens[i]]`. Each level
/// of the pairwise tree shares one field inversion across every set. `P + P` doubles, `P + (−P)`
/// vanishes; identity points must not be passed. `points` and `lens` are consumed as scratch.
fn batch_sums(points: &mut [G1Point], lens: &mut [usize], stride: usize) -> Vec<G1> {
    let mut kinds: Vec<Pair> = Vec::new();
    let mut denominators: Vec<Fp> = Vec::new();
    loop {
        kinds.clear();
        denominators.clear();
        for (set, &len) in lens.iter().enumerate() {
            let pts = &points[set * stride..][..len];
            for pair in pts.chunks_exact(2) {
                let (p, q) = (pair[0], pair[1]);
                let (kind, d) = if p.x() != q.x() {
                    (Pair::Add, q.x() - p.x())
                } else if p.y() == q.y() {
                    (Pair::Double, p.y().double())
                } else {
                    (Pair::Cancel, Fp::ONE)
                };
                kinds.push(kind);
                denominators.push(d);
            }
        }
        if kinds.len() < BATCH_MIN_PAIRS {
            break;
        }
        batch_inverse(&mut denominators);
        let mut pair = 0;
        for (set, len) in lens.iter_mut().enumerate() {
            let pts = &mut points[set * stride..][..*len];
            let mut out = 0;
            for i in 0..*len / 2 {
                let (p, q) = (pts[2 * i], pts[2 * i + 1]);
                let (kind, inv) = (kinds[pair], denominators[pair]);
                pair += 1;
                let lambda = match kind {
                    Pair::Cancel => continue,
                    Pair::Add => (q.y() - p.y()) * inv,
                    Pair::Double => {
                        let xx = p.x().square();
                        (xx.double() + xx) * inv
                    }
                };
                pts[out] = chord_point(lambda, &p, &q.x());
                out += 1;
            }
            if *len % 2 == 1 {
                pts[out] = pts[*len - 1];
                out += 1;
            }
            *len = out;
        }
    }
    lens.iter()
        .enumerate()
        .map(|(set, &len)| {
            points[set * stride..][..len]
                .iter()
                .fold(G1::identity(), |acc, p| acc + p)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use ekzg_bls12_381::fixed_base_msm::UsePrecomp;
    use ekzg_multi_open::{commit_key::CommitKey, Prover, ProverInput};
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

    #[test]
    fn table_rows_are_the_multiples_of_their_base() {
        let mut r = rng(4);
        let p = G1::random(&mut r);
        let bases = g1_batch_normalize(&[p, G1::identity(), -p, G1::random(&mut r)]);
        let per_base = 9;
        let mut out = vec![G1Point::default(); bases.len() * per_base];
        multiples(&bases, per_base, &mut out);
        for (b, base) in bases.iter().enumerate() {
            for m in 0..per_base {
                let want = G1::from(*base) * Fr::from(m as u64 + 1);
                assert_eq!(
                    G1::from(out[b * per_base + m]),
                    want,
                    "base {b}, {}·B",
                    m + 1
                );
            }
        }
    }

    #[test]
    fn batch_sums_handle_doubling_cancelling_and_odd_sets() {
        let mut r = rng(2);
        let p = G1::random(&mut r);
        let q = G1::random(&mut r);
        let aff = |v: &[G1]| g1_batch_normalize(v);
        // Sets: P+P (doubling), P+(−P) (cancels), a random odd set, empty, one point, and
        // enough random pairs to take the batched path.
        let mut sets: Vec<Vec<G1Point>> = vec![
            aff(&[p, p]),
            aff(&[p, -p]),
            aff(&[p, q, p, -q, q]),
            vec![],
            aff(&[q]),
            aff(&[p, -p, q, q, p, p, -q, -q]),
        ];
        for _ in 0..20 {
            sets.push(aff(&(0..9).map(|_| G1::random(&mut r)).collect::<Vec<_>>()));
        }
        let stride = 9;
        let mut points = vec![G1Point::default(); sets.len() * stride];
        let mut lens: Vec<usize> = sets.iter().map(Vec::len).collect();
        for (i, s) in sets.iter().enumerate() {
            points[i * stride..][..s.len()].copy_from_slice(s);
        }
        let got = batch_sums(&mut points, &mut lens, stride);
        for (i, s) in sets.iter().enumerate() {
            let want = s.iter().fold(G1::identity(), |acc, x| acc + x);
            assert_eq!(got[i], want, "set {i}");
        }
    }

    #[test]
    fn proofs_equal_the_libraries() {
        let setup = rust_eth_kzg::TrustedSetup::default();
        let reference = Prover::new(
            CommitKey::new(setup.g1_monomial.clone()),
            N,
            L,
            2 * N,
            UsePrecomp::No,
        );
        let plain = Fk20::new(&setup.g1_monomial, None);
        let tables = Fk20::new(&setup.g1_monomial, Some(4));
        let odd_tables = Fk20::new(&setup.g1_monomial, Some(7));
        let mut r = rng(3);
        let random: Vec<Fr> = (0..N).map(|_| Fr::random(&mut r)).collect();
        let mut sparse = vec![Fr::ZERO; N];
        sparse[7] = Fr::ONE;
        sparse[N - 1] = -Fr::ONE;
        for data in [random, sparse, vec![Fr::ZERO; N]] {
            let (want, want_cells) =
                reference.compute_multi_opening_proofs(ProverInput::Data(data.clone()));
            let want: Vec<G1> = want.iter().map(|p| G1::from(*p)).collect();
            assert_eq!(plain.prove(&data), want);
            assert_eq!(tables.prove(&data), want);
            assert_eq!(odd_tables.prove(&data), want);
            assert_eq!(plain.cells(plain.coefficients(&data)), want_cells);
            let commitment = G1::from(reference.commit(ProverInput::Data(data.clone())));
            for fk in [&plain, &tables] {
                let (c, h) = fk.commit_and_h(fk.coefficients(&data));
                assert_eq!(
                    c, commitment,
                    "commitment from the circulant's spare output"
                );
                assert_eq!(fk.proofs_from_h(h.clone()), want);
                let many = fk.commit_and_h_many(vec![fk.coefficients(&data); 3]);
                assert!(many.iter().all(|(c2, h2)| *c2 == c && *h2 == h));
                let proofs = fk.proofs_from_h_many(vec![h; 3]);
                assert!(proofs.iter().all(|p| *p == want));
            }
        }
    }
}

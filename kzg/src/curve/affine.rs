//! Affine G1 additions that share one field inversion across many independent sums.
//!
//! An affine addition costs one inversion; Montgomery's trick turns `n` inversions into one
//! inversion and `3(n − 1)` multiplications, so sums computed side by side (every set of a
//! batch, every level of a pairwise tree) cost ~6 field multiplications per addition instead of
//! ~11 in projective coordinates. The chord formula has exceptional cases (`P + P`, `P + (−P)`,
//! the identity) that are detected and handled exactly here.

use blstrs::Fp;
use ekzg_bls12_381::{
    batch_inversion::batch_inverse,
    ff::Field,
    group::{prime::PrimeCurveAffine, Group},
};

use super::{G1Point, G1};

/// Below this many pairs a tree level is cheaper in projective additions than with one inversion.
const BATCH_MIN_PAIRS: usize = 16;

/// The affine sum (or double) of `p` and a point with x-coordinate `qx`, from the slope
/// `lambda` of the line through them (the tangent for a doubling, where `qx = p.x`).
#[inline]
pub(crate) fn chord_point(lambda: Fp, p: &G1Point, qx: &Fp) -> G1Point {
    let x = lambda.square() - p.x() - qx;
    let y = lambda * (p.x() - x) - p.y();
    G1Point::from_raw_unchecked(x, y, false)
}

/// The tangent's slope at `p` given `1 / (2·p.y)`: `3x² / 2y`.
#[inline]
pub(crate) fn tangent_slope(p: &G1Point, inv_2y: &Fp) -> Fp {
    let xx = p.x().square();
    (xx.double() + xx) * inv_2y
}

/// What a pair of affine points adds up to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pair {
    Add,
    Double,
    Cancel,
}

/// Sums sets of affine points at once: set `i` is `points[i·stride ..][..lens[i]]`. Each level
/// of the pairwise tree shares one field inversion across every set. `P + P` doubles,
/// `P + (−P)` vanishes and identity points are skipped, so every sum is exact. `points` and
/// `lens` are consumed as scratch.
pub(crate) fn batch_sums(points: &mut [G1Point], lens: &mut [usize], stride: usize) -> Vec<G1> {
    let starts: Vec<usize> = (0..lens.len()).map(|set| set * stride).collect();
    batch_sums_at(points, &starts, lens)
}

/// [`batch_sums`] with sets of any size: set `i` is `points[starts[i] ..][..lens[i]]` (the sets
/// must not overlap).
pub(crate) fn batch_sums_at(
    points: &mut [G1Point],
    starts: &[usize],
    lens: &mut [usize],
) -> Vec<G1> {
    assert_eq!(starts.len(), lens.len(), "one start per set");
    // The chord formula has no representation for the identity: drop it up front (one pass; the
    // tree itself only ever produces the identity through `Cancel`, which drops it too).
    for (set, len) in lens.iter_mut().enumerate() {
        let pts = &mut points[starts[set]..][..*len];
        let mut out = 0;
        for i in 0..pts.len() {
            if !bool::from(pts[i].is_identity()) {
                pts[out] = pts[i];
                out += 1;
            }
        }
        *len = out;
    }
    let mut kinds: Vec<Pair> = Vec::new();
    let mut denominators: Vec<Fp> = Vec::new();
    loop {
        kinds.clear();
        denominators.clear();
        for (set, &len) in lens.iter().enumerate() {
            let pts = &points[starts[set]..][..len];
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
            let pts = &mut points[starts[set]..][..*len];
            let mut out = 0;
            for i in 0..*len / 2 {
                let (p, q) = (pts[2 * i], pts[2 * i + 1]);
                let (kind, inv) = (kinds[pair], denominators[pair]);
                pair += 1;
                let lambda = match kind {
                    Pair::Cancel => continue,
                    Pair::Add => (q.y() - p.y()) * inv,
                    Pair::Double => tangent_slope(&p, &inv),
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
            points[starts[set]..][..len]
                .iter()
                .fold(G1::identity(), |acc, p| acc + p)
        })
        .collect()
}

/// Writes `(m + 1)·B` for `m < per_base` of every base `B` into `out` (`[base][m]`), all bases
/// stepping together so that each step's additions share one field inversion. The identity's
/// multiples are the identity.
pub(crate) fn multiples(bases: &[G1Point], per_base: usize, out: &mut [G1Point]) {
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
                tangent_slope(&p, i)
            } else {
                (q.y() - p.y()) * i
            };
            out[b * per_base + m] = chord_point(lambda, &p, &q.x());
        }
    }
}

#[cfg(test)]
mod tests {
    use ekzg_bls12_381::g1_batch_normalize;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;
    use crate::curve::Fr;

    fn rng(seed: u64) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(seed)
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
}

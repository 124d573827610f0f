//! Property tests of the curve module against plain projective arithmetic: batched affine sums
//! vs `+`, GLV/wNAF batches vs `P * s`, fixed-base tables vs `Σ s·B`, G1 FFTs vs a naive DFT,
//! shifted-base MSMs vs `Σ s·B`, and the G1 column code vs its Lagrange weights. Inputs mix the
//! identity, repeated points (`P + P`) and negations (`P + (−P)`).

use da_erasure::{field::root_of_unity, ColumnCodec};
use ekzg_bls12_381::{
    ff::{Field, PrimeField},
    g1_batch_normalize,
    group::Group,
};
use proptest::prelude::*;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::{
    affine::batch_sums,
    glv::{glv_split, mul_many, wnaf},
    shifted::ShiftedBases,
    FixedBaseTables, Fr, G1ColumnCode, G1Fft, G1Point, G1,
};

/// A small pool of points with the identity, a point, its double and sums, so that random
/// picks (with random signs) hit `P + P`, `P + (−P)` and identities often.
fn pool(seed: u64) -> Vec<G1> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (p, q) = (G1::random(&mut rng), G1::random(&mut rng));
    vec![
        G1::identity(),
        p,
        q,
        p.double(),
        p + q,
        G1::random(&mut rng),
    ]
}

/// `(pool index, negate)` picks.
fn picks(max_len: usize) -> impl Strategy<Value = Vec<(usize, bool)>> {
    prop::collection::vec((0usize..6, any::<bool>()), 0..=max_len)
}

fn pick(pool: &[G1], (i, neg): (usize, bool)) -> G1 {
    if neg {
        -pool[i]
    } else {
        pool[i]
    }
}

/// A scalar: one of the special values or a random one.
fn scalar() -> impl Strategy<Value = Fr> {
    (0u8..10, any::<u64>()).prop_map(|(kind, seed)| match kind {
        0 => Fr::ZERO,
        1 => Fr::ONE,
        2 => -Fr::ONE,
        3 => Fr::from(2u64),
        4 => root_of_unity(128).pow_vartime([seed % 128]),
        5 => Fr::from(seed),
        _ => Fr::random(&mut ChaCha20Rng::seed_from_u64(seed)),
    })
}

fn naive_dft(v: &[G1], w: Fr) -> Vec<G1> {
    let n = v.len() as u64;
    (0..n)
        .map(|j| {
            v.iter().enumerate().fold(G1::identity(), |acc, (i, p)| {
                acc + *p * w.pow_vartime([(i as u64 * j) % n.max(1)])
            })
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn batch_sums_equal_plain_addition(
        seed in any::<u64>(),
        sets in prop::collection::vec(picks(12), 0..24),
    ) {
        let pool = pool(seed);
        let stride = 12;
        let mut points = vec![G1Point::default(); sets.len() * stride];
        let mut lens: Vec<usize> = sets.iter().map(Vec::len).collect();
        for (s, set) in sets.iter().enumerate() {
            let proj: Vec<G1> = set.iter().map(|&p| pick(&pool, p)).collect();
            points[s * stride..][..set.len()].copy_from_slice(&g1_batch_normalize(&proj));
        }
        let got = batch_sums(&mut points, &mut lens, stride);
        for (s, set) in sets.iter().enumerate() {
            let want = set.iter().fold(G1::identity(), |acc, &p| acc + pick(&pool, p));
            prop_assert_eq!(got[s], want, "set {}", s);
        }
    }

    #[test]
    fn mul_many_equals_plain_multiplication(
        seed in any::<u64>(),
        set in picks(24),
        k in scalar(),
    ) {
        let pool = pool(seed);
        let points: Vec<G1> = set.iter().map(|&p| pick(&pool, p)).collect();
        let mut got = points.clone();
        mul_many(&mut got, &k);
        let want: Vec<G1> = points.iter().map(|p| *p * k).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn glv_split_and_wnaf_recompose_the_scalar(k in scalar()) {
        let lambda = Fr::from_u128(0xac45_a401_0001_a402_0000_0000_ffff_ffff);
        let (k1, k2) = glv_split(&k);
        prop_assert_eq!(Fr::from_u128(k1) + lambda * Fr::from_u128(k2), k);
        for half in [k1, k2] {
            let digits = wnaf(half);
            prop_assert!(digits.iter().all(|d| *d == 0 || (d % 2 != 0 && d.abs() < 16)));
            let back = digits.iter().rev().fold(Fr::ZERO, |acc, &d| {
                let v = Fr::from(u64::from(d.unsigned_abs()));
                acc.double() + if d < 0 { -v } else { v }
            });
            prop_assert_eq!(back, Fr::from_u128(half));
        }
    }

    #[test]
    fn fixed_base_msms_equal_plain_sums(
        seed in any::<u64>(),
        wbits in 2usize..=9,
        sets in 1usize..4,
        per_set in 1usize..5,
        scalar_seed in any::<u64>(),
    ) {
        let pool = pool(seed);
        let mut rng = ChaCha20Rng::seed_from_u64(scalar_seed);
        let bases: Vec<Vec<G1>> = (0..sets)
            .map(|s| (0..per_set).map(|l| pool[(s * 5 + l * 3 + seed as usize) % pool.len()]).collect())
            .collect();
        let affine: Vec<Vec<G1Point>> = bases.iter().map(|b| g1_batch_normalize(b)).collect();
        let tables = FixedBaseTables::new(&affine, wbits);
        let specials = [Fr::ZERO, Fr::ONE, -Fr::ONE];
        let scalars: Vec<Vec<Fr>> = (0..sets)
            .map(|_| {
                (0..per_set)
                    .map(|_| {
                        let pick = rng.next_u32() % 4;
                        if pick < 3 { specials[pick as usize] } else { Fr::random(&mut rng) }
                    })
                    .collect()
            })
            .collect();
        let got = tables.msms(&scalars);
        for s in 0..sets {
            let want = bases[s]
                .iter()
                .zip(&scalars[s])
                .fold(G1::identity(), |acc, (b, x)| acc + *b * x);
            prop_assert_eq!(got[s], want, "set {} (w = {})", s, wbits);
        }
    }

    #[test]
    fn shifted_base_msm_equals_the_plain_sum(
        seed in any::<u64>(),
        wbits in 2usize..=13,
        set in picks(40),
        scalars in prop::collection::vec(scalar(), 40),
    ) {
        let pool = pool(seed);
        let bases: Vec<G1> = set.iter().map(|&p| pick(&pool, p)).collect();
        let shifted = ShiftedBases::new(&g1_batch_normalize(&bases), wbits);
        let want = bases
            .iter()
            .zip(&scalars)
            .fold(G1::identity(), |acc, (b, x)| acc + *b * x);
        prop_assert_eq!(shifted.msm(&scalars[..bases.len()]), want, "w = {}", wbits);
    }

    #[test]
    fn g1_fft_equals_a_naive_dft(seed in any::<u64>(), log_n in 0u32..=4, set in picks(16)) {
        let n = 1usize << log_n;
        let pool = pool(seed);
        let mut v: Vec<G1> = (0..n)
            .map(|i| set.get(i).map_or(pool[1] * Fr::from(i as u64 + 1), |&p| pick(&pool, p)))
            .collect();
        let w = root_of_unity(n);
        let fft = G1Fft::new(n);
        let want = naive_dft(&v, w);
        let want_inv = naive_dft(&v, w.invert().unwrap_or(Fr::ONE));
        let mut many = vec![v.clone(), want.clone()];
        let mut inv = v.clone();
        fft.fft(&mut v);
        prop_assert_eq!(&v, &want);
        fft.ifft_unscaled(&mut inv);
        prop_assert_eq!(&inv, &want_inv);
        fft.fft_many(&mut many);
        prop_assert_eq!(&many[0], &want);
        prop_assert_eq!(&many[1], &naive_dft(&want, w));
    }

    #[test]
    fn g1_column_extension_equals_the_lagrange_weights(
        seed in any::<u64>(),
        log_k in 0u32..=3,
        set in picks(8),
    ) {
        let k = 1usize << log_k;
        let pool = pool(seed);
        let column: Vec<G1> = (0..k)
            .map(|i| set.get(i).map_or(pool[2] * Fr::from(i as u64 + 7), |&p| pick(&pool, p)))
            .collect();
        let code = G1ColumnCode::new(k).expect("code");
        let weights = ColumnCodec::new(k)
            .expect("codec")
            .recovery_matrix(&(0..k).collect::<Vec<_>>(), &(k..2 * k).collect::<Vec<_>>())
            .expect("weights");
        let want: Vec<G1> = weights
            .iter()
            .map(|row| row.iter().zip(&column).fold(G1::identity(), |acc, (l, p)| acc + *p * l))
            .collect();
        prop_assert_eq!(&code.extend(&column).expect("extend"), &want);
        let mut many = vec![column.clone(), column];
        code.extend_many(&mut many).expect("extend many");
        prop_assert_eq!(&many[0], &want);
        prop_assert_eq!(&many[1], &want);
    }
}

//! Property tests of the 2D code: erase, repair, compare byte for byte.

use da_erasure::{field::Fr, ColumnCodec, ErasureError, ExtendedData, PartialData};
use da_types::{
    consts::{CELLS_PER_ROW, FIELD_ELEMENTS_PER_ROW},
    min_unrecoverable_cells,
};
use proptest::prelude::*;
use rand::{seq::index::sample, Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn square(k: usize, seed: u64) -> (ColumnCodec, ExtendedData) {
    let codec = ColumnCodec::new(k).expect("codec");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let orig: Vec<Fr> = (0..k * FIELD_ELEMENTS_PER_ROW)
        .map(|_| Fr::from(rng.gen::<u64>()))
        .collect();
    let ext = ExtendedData::encode(&codec, &orig).expect("encode");
    (codec, ext)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any pattern with fewer missing cells than the product code's distance repairs exactly.
    #[test]
    fn random_patterns_within_bound_repair(kexp in 0u32..3, seed in any::<u64>(), frac in 0.0f64..1.0) {
        let k = 1usize << kexp;
        let (codec, ext) = square(k, seed);
        let total = 2 * k * CELLS_PER_ROW;
        let max_missing = min_unrecoverable_cells(k).expect("k") - 1;
        let n_missing = (frac * max_missing as f64) as usize;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xabcd);
        let gone: std::collections::HashSet<usize> = sample(&mut rng, total, n_missing).into_iter().collect();
        let partial = PartialData::from_extended(&ext, |r, c| !gone.contains(&(r * CELLS_PER_ROW + c)));
        prop_assert_eq!(partial.repair(&codec).expect("repair"), ext);
    }

    /// A (k+1) x 65 rectangle missing less one cell is still recoverable; the full rectangle, plus
    /// any other losses, is not, and the error names its rows and columns.
    #[test]
    fn rectangle_at_the_bound(kexp in 0u32..3, seed in any::<u64>(), extra in 0usize..50) {
        let k = 1usize << kexp;
        let (codec, ext) = square(k, seed);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut rows: Vec<usize> = sample(&mut rng, 2 * k, k + 1).into_vec();
        let mut cols: Vec<usize> = sample(&mut rng, CELLS_PER_ROW, 65).into_vec();
        rows.sort_unstable();
        cols.sort_unstable();
        let spared = (rows[0], cols[0]);
        let hole = |r: usize, c: usize| rows.contains(&r) && cols.contains(&c);
        let almost = PartialData::from_extended(&ext, |r, c| !hole(r, c) || (r, c) == spared);
        prop_assert!(almost.repair(&codec).expect("repair") == ext);

        let extra_cells: Vec<usize> = sample(&mut rng, 2 * k * CELLS_PER_ROW, extra).into_vec();
        let partial = PartialData::from_extended(&ext, |r, c| !hole(r, c) && !extra_cells.contains(&(r * CELLS_PER_ROW + c)));
        match partial.repair(&codec) {
            Err(ErasureError::Unrecoverable { stuck_rows, stuck_cols, missing }) => {
                prop_assert!(missing >= (k + 1) * 65);
                for r in &rows { prop_assert!(stuck_rows.contains(r)); }
                for c in &cols { prop_assert!(stuck_cols.contains(c)); }
            }
            other => prop_assert!(false, "expected Unrecoverable, got {:?}", other.map(|_| ())),
        }
    }
}

#[test]
fn half_the_rows_missing_repairs_by_columns() {
    let k = 8;
    let (codec, ext) = square(k, 7);
    for keep_rows in [
        (0..k).collect::<Vec<_>>(),
        (k..2 * k).collect(),
        (0..2 * k).step_by(2).collect(),
    ] {
        let partial = PartialData::from_extended(&ext, |r, _| keep_rows.contains(&r));
        assert_eq!(partial.repair(&codec).expect("repair"), ext);
    }
    let partial = PartialData::from_extended(&ext, |r, _| r < k - 1);
    assert!(matches!(
        partial.repair(&codec),
        Err(ErasureError::Unrecoverable { .. })
    ));
}

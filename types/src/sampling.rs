//! The sampling bound and per-block confidence (`specs/04-sampling.md`).
//!
//! The extended square is the product of a `[128, 64]` row code and a `[2k, k]` column code, both
//! MDS. Iterative row/column decoding gets stuck only on a *stopping set*: rows each missing at
//! least 65 cells and columns each missing at least `k + 1`. The smallest is a `(k+1) × 65`
//! rectangle, and it equals the product code's minimum distance, so no decoder recovers it:
//! `(k+1)·65` withheld cells is the exact minimum that makes a square unrecoverable.
//!
//! A light client samples `s` *distinct* cells uniformly. Against the least withholding that
//! hides data, every sample succeeds with probability
//! `Π_{i<s} (N − m − i)/(N − i)` (`N = 256k`, `m = 65(k+1)`); confidence is one minus that.
//! Withholding more only lowers the adversary's chance, so this is the bound for every attack.

use crate::{
    consts::{CELLS_PER_ROW, ORIGINAL_CELLS_PER_ROW},
    error::{Error, Result},
    layout::check_k,
};

/// Cells in the extended square of `k` original rows.
pub fn extended_cells(k: usize) -> usize {
    2 * k * CELLS_PER_ROW
}

/// The exact minimum number of withheld cells that makes a `2k × 128` square unrecoverable.
pub fn min_unrecoverable_cells(k: usize) -> Result<usize> {
    check_k(k)?;
    Ok((k + 1) * (ORIGINAL_CELLS_PER_ROW + 1))
}

/// Probability that `s` distinct uniform samples all succeed while the least unrecoverable set
/// of cells is withheld.
pub fn false_positive_rate(k: usize, s: usize) -> Result<f64> {
    let n = extended_cells(k);
    let m = min_unrecoverable_cells(k)?;
    if s > n - m {
        return Ok(0.0);
    }
    let mut p = 1.0f64;
    for i in 0..s {
        p *= (n - m - i) as f64 / (n - i) as f64;
    }
    Ok(p)
}

/// Confidence that a square of `k` rows is recoverable after `s` distinct successful samples.
pub fn confidence(k: usize, s: usize) -> Result<f64> {
    Ok(1.0 - false_positive_rate(k, s)?)
}

/// The fewest distinct samples that reach `target` confidence for a square of `k` rows.
pub fn samples_for_confidence(k: usize, target: f64) -> Result<usize> {
    if !(0.0..1.0).contains(&target) {
        return Err(Error::InvalidConfidence(target));
    }
    let n = extended_cells(k);
    let mut p = 1.0f64;
    let m = min_unrecoverable_cells(k)?;
    for s in 0..=n {
        if 1.0 - p >= target {
            return Ok(s);
        }
        if s >= n - m {
            return Ok(s + 1);
        }
        p *= (n - m - s) as f64 / (n - s) as f64;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_unrecoverable_is_a_k_plus_one_by_65_rectangle() {
        assert_eq!(min_unrecoverable_cells(1).expect("k"), 130);
        assert_eq!(min_unrecoverable_cells(64).expect("k"), 65 * 65);
        assert!(min_unrecoverable_cells(3).is_err());
        // Always more than a quarter of the square.
        for k in [1, 2, 4, 8, 16, 32, 64, 128, 256] {
            let m = min_unrecoverable_cells(k).expect("k");
            assert!(4 * m > extended_cells(k), "k={k}");
        }
    }

    #[test]
    fn confidence_is_exact_hypergeometric_and_beats_three_quarters_bound() {
        // k = 1: N = 256, m = 130; one sample hits a withheld cell with probability 130/256.
        let c1 = confidence(1, 1).expect("c");
        assert!((c1 - 130.0 / 256.0).abs() < 1e-12);
        let c2 = confidence(1, 2).expect("c");
        assert!((c2 - (1.0 - (126.0 / 256.0) * (125.0 / 255.0))).abs() < 1e-12);
        for k in [1, 2, 8, 64, 256] {
            for s in 1..64 {
                let c = confidence(k, s).expect("c");
                assert!(c >= 1.0 - 0.75f64.powi(s as i32), "k={k} s={s}");
            }
        }
        // Sampling every cell a withholder could leave available gives certainty.
        assert_eq!(confidence(1, 126).expect("c"), 1.0);
    }

    #[test]
    fn samples_for_confidence_is_minimal() {
        for k in [1, 4, 64, 256] {
            for target in [0.5, 0.99, 0.9999, 0.999_999] {
                let s = samples_for_confidence(k, target).expect("s");
                assert!(confidence(k, s).expect("c") >= target);
                assert!(s == 0 || confidence(k, s - 1).expect("c") < target);
            }
        }
        // The headline numbers: 16 samples reach 99%, and 99.99% needs at most 32.
        assert!(samples_for_confidence(64, 0.99).expect("s") <= 16);
        assert!(samples_for_confidence(64, 0.9999).expect("s") <= 32);
        // Cross-checked against an independent evaluation of the formula (specs/04-sampling.md).
        for (k, want) in [(1, [7, 13, 19]), (8, [14, 28, 41]), (64, [16, 31, 47])] {
            let got = [0.99, 0.9999, 0.999_999].map(|t| samples_for_confidence(k, t).expect("s"));
            assert_eq!(got, want, "k={k}");
        }
        assert!(samples_for_confidence(64, 1.0).is_err());
        assert!(samples_for_confidence(64, f64::NAN).is_err());
    }
}

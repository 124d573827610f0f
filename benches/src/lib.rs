//! Shared fixtures of the benchmarks: deterministic squares of a given `k`.

use da_types::{consts::PAYLOAD_BYTES_PER_CELL, Blob, Namespace, OriginalSquare, SquareLayout};

/// A full square of `k` rows: `k` blobs of just under a row each, pseudo-random bytes.
pub fn full_square(k: usize, seed: u64) -> OriginalSquare {
    let mut x = seed | 1;
    let per_blob = 63 * PAYLOAD_BYTES_PER_CELL;
    let blobs: Vec<Blob> = (0..k)
        .map(|i| {
            let data = (0..per_blob)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let ns = Namespace::new_v0(&[1, (i % 200) as u8]).expect("valid namespace");
            Blob::new(ns, data).expect("non-empty blob")
        })
        .collect();
    let sq = SquareLayout::build(&blobs).expect("fits");
    assert_eq!(sq.k(), k);
    sq
}

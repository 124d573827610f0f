//! The square the KZG examples share: one blob of 15 × 64 cells of seeded pseudo-random bytes,
//! a `k = 16` square, extended and proved by the prover context.

use da_kzg::{KzgProver, ProofStrategy, ProverConfig};
use da_types::{consts::PAYLOAD_BYTES_PER_CELL, Blob, Namespace, SquareLayout};

/// The shared `k = 16` square, extended, with every cell proof.
pub(crate) fn proved_square_k16() -> Result<da_kzg::ExtendedSquare, Box<dyn std::error::Error>> {
    let ns = Namespace::new_v0(&[0xda, 1])?;
    let mut x = 0x1234_5678u64;
    let data = (0..15 * 64 * PAYLOAD_BYTES_PER_CELL)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let sq = SquareLayout::build(&[Blob::new(ns, data)?])?;
    let prover = KzgProver::new(ProverConfig::DEFAULT);
    Ok(prover
        .commit_square(&sq)?
        .prove(&prover, ProofStrategy::Linear)?)
}

//! The square against its baselines, same data, same run (`benches/RESULTS.md`).
//!
//! Names follow `group/op/k=K`. Baselines: `naive_ckzg` and `naive_fk20` push every one of the
//! `2k` rows through `blob_to_kzg_commitment` + `compute_cells_and_kzg_proofs` of a
//! [`ProverBackend`] (rayon over rows); `rs_erasure` and `rs_simd` extend the same payload bytes
//! in 2D with byte-level codes. (Runs before the prover/verifier split called `naive_fk20` and
//! `backend=fk20` by `naive_rust_eth_kzg` and `backend=rust_eth_kzg`: the same code, our FK20.)

use criterion::{criterion_main, BatchSize, Criterion};
use da_benches::full_square;
use da_erasure::{ColumnCodec, PartialData};
use da_kzg::{KzgProver, ProofStrategy, ProverBackend, ProverConfig};
use da_types::{consts::BYTES_PER_CELL, CellIndex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn ks() -> Vec<usize> {
    std::env::var("DA_BENCH_K").map_or_else(
        |_| vec![8, 32, 64],
        |v| v.split(',').filter_map(|s| s.parse().ok()).collect(),
    )
}

/// 2D byte-level extension of `k` rows of 64 cells: rows 64 -> 128 shards, columns k -> 2k.
fn rs_erasure_2d(k: usize, shards: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let row = reed_solomon_erasure::galois_8::ReedSolomon::new(64, 64).expect("row code");
    let col = reed_solomon_erasure::galois_8::ReedSolomon::new(k, k).expect("col code");
    let mut square: Vec<Vec<u8>> = Vec::with_capacity(2 * k * 128);
    for r in 0..k {
        let mut line: Vec<Vec<u8>> = shards[r * 64..(r + 1) * 64].to_vec();
        line.extend((0..64).map(|_| vec![0u8; BYTES_PER_CELL]));
        row.encode(&mut line).expect("encode row");
        square.extend(line);
    }
    square.resize(2 * k * 128, vec![0u8; BYTES_PER_CELL]);
    for c in 0..128 {
        let mut line: Vec<Vec<u8>> = (0..2 * k).map(|r| square[r * 128 + c].clone()).collect();
        col.encode(&mut line).expect("encode col");
        for (r, s) in line.into_iter().enumerate().skip(k) {
            square[r * 128 + c] = s;
        }
    }
    square
}

fn rs_simd_2d(k: usize, shards: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut square: Vec<Vec<u8>> = Vec::with_capacity(2 * k * 128);
    for r in 0..k {
        let orig = &shards[r * 64..(r + 1) * 64];
        let parity = reed_solomon_simd::encode(64, 64, orig).expect("encode row");
        square.extend(orig.iter().cloned());
        square.extend(parity);
    }
    let mut parity_rows = vec![Vec::new(); k * 128];
    for c in 0..128 {
        let col: Vec<&Vec<u8>> = (0..k).map(|r| &square[r * 128 + c]).collect();
        let parity = reed_solomon_simd::encode(k, k, col).expect("encode col");
        for (i, p) in parity.into_iter().enumerate() {
            parity_rows[i * 128 + c] = p;
        }
    }
    square.extend(parity_rows);
    square
}

fn bench_square(c: &mut Criterion) {
    let ours = KzgProver::new(ProverConfig::DEFAULT.with_precompute(true));
    let ckzg = KzgProver::new(
        ProverConfig::DEFAULT
            .with_precompute(true)
            .with_backend(ProverBackend::CKzg),
    );
    for k in ks() {
        let sq = full_square(k, 42);
        let mut g = c.benchmark_group("square");
        g.sample_size(10);
        let kk = format!("k={k}");

        g.bench_function(format!("naive_ckzg/{kk}"), |b| {
            b.iter(|| ckzg.naive_square(&sq).expect("naive"))
        });
        g.bench_function(format!("naive_fk20/{kk}"), |b| {
            b.iter(|| ours.naive_square(&sq).expect("naive"))
        });
        let shards: Vec<Vec<u8>> = sq
            .rows()
            .chunks(BYTES_PER_CELL)
            .map(<[u8]>::to_vec)
            .collect();
        g.bench_function(format!("rs_erasure/{kk}"), |b| {
            b.iter(|| rs_erasure_2d(k, &shards))
        });
        g.bench_function(format!("rs_simd/{kk}"), |b| {
            b.iter(|| rs_simd_2d(k, &shards))
        });

        g.bench_function(format!("header_ready/{kk}"), |b| {
            b.iter(|| ours.commit_square(&sq).expect("commit"))
        });
        let committed = ours.commit_square(&sq).expect("commit");
        g.bench_function(format!("all_proofs_linear/{kk}"), |b| {
            b.iter_batched(
                || committed.clone(),
                |sqc| sqc.prove(&ours, ProofStrategy::Linear).expect("prove"),
                BatchSize::LargeInput,
            )
        });
        g.bench_function(format!("all_proofs_per_row/{kk}"), |b| {
            b.iter_batched(
                || committed.clone(),
                |sqc| sqc.prove(&ours, ProofStrategy::PerRow).expect("prove"),
                BatchSize::LargeInput,
            )
        });
        let full = committed
            .clone()
            .prove(&ours, ProofStrategy::Linear)
            .expect("prove");
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let rows = rand::seq::index::sample(&mut rng, 2 * k, 16.min(2 * k)).into_vec();
        let samples: Vec<_> = rows
            .iter()
            .map(|&r| {
                let idx = CellIndex::new(r, rng.gen_range(0..128), k).expect("index");
                let (cell, proof) = full.sample(idx).expect("sample");
                (idx, cell, proof)
            })
            .collect();
        g.bench_function(format!("verify_16_cells/{kk}"), |b| {
            b.iter(|| {
                ours.verify_cells(full.commitments(), samples.clone())
                    .expect("verify")
            })
        });
        g.bench_function(format!("verify_extension/{kk}"), |b| {
            b.iter(|| ours.verify_extension(full.commitments()).expect("verify"))
        });
        let codec = ColumnCodec::new(k).expect("codec");
        let lost: Vec<usize> = rand::seq::index::sample(&mut rng, 2 * k, k).into_vec();
        let partial = PartialData::from_extended(committed.data(), |r, _| !lost.contains(&r));
        g.bench_function(format!("repair_half_rows_data/{kk}"), |b| {
            b.iter_batched(
                || partial.clone(),
                |p| p.repair(&codec).expect("repair"),
                BatchSize::LargeInput,
            )
        });
        g.finish();
    }
}

/// One row through each backend: the per-row costs behind the square figures.
fn bench_backends(c: &mut Criterion) {
    let sq = full_square(1, 42);
    let row = sq.row(0);
    let mut g = c.benchmark_group("kzg");
    g.sample_size(10);
    for (name, backend) in [("ckzg", ProverBackend::CKzg), ("fk20", ProverBackend::Fk20)] {
        let ctx = KzgProver::new(
            ProverConfig::DEFAULT
                .with_precompute(true)
                .with_backend(backend),
        );
        g.bench_function(format!("blob_to_kzg_commitment/backend={name}"), |b| {
            b.iter(|| ctx.blob_to_kzg_commitment(row).expect("commit"))
        });
        g.bench_function(
            format!("compute_cells_and_kzg_proofs/backend={name}"),
            |b| b.iter(|| ctx.compute_cells_and_kzg_proofs(row).expect("prove")),
        );
    }
    g.finish();
}

mod group {
    #![allow(missing_docs)]
    use super::{bench_backends, bench_square};
    criterion::criterion_group!(benches, bench_backends, bench_square);
}

criterion_main!(group::benches);

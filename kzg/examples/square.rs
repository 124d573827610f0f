//! Builds a square from random rollup blobs, commits and proves it, checks the extension like a
//! light client, samples cells, and verifies a blob inclusion proof. Prints timings.
//!
//! `cargo run --release -p da-kzg --example square -- [BLOBS] [BLOB_KIB]`

use std::time::Instant;

use da_kzg::{KzgProver, KzgVerifier, ProofStrategy, ProverConfig};
use da_types::{samples_for_confidence, Blob, CellIndex, Namespace, SquareLayout};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(32), |a| a.parse())?;
    let kib: usize = args.next().map_or(Ok(200), |a| a.parse())?;
    let mut seed = 0x1234_5678u64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let blobs = (0..n)
        .map(|i| {
            let ns = Namespace::new_v0(&[0xda, (i % 4) as u8 + 1])?;
            let data = (0..kib * 1024).map(|_| rand() as u8).collect();
            Blob::new(ns, data)
        })
        .collect::<Result<Vec<_>, da_types::Error>>()?;

    let t = Instant::now();
    let ctx = KzgProver::new(ProverConfig::DEFAULT.with_precompute(true));
    println!("trusted setup + prover tables: {:.2?}", t.elapsed());

    let t = Instant::now();
    let cpu = cpu_time::ProcessTime::now();
    let square = SquareLayout::build(&blobs)?;
    let committed = ctx.commit_square(&square)?;
    let header_ready = t.elapsed();
    let t = Instant::now();
    let full = committed.prove(&ctx, ProofStrategy::Linear)?;
    let k = full.k();
    let proofs = t.elapsed();
    let busy = cpu.elapsed().as_secs_f64() / (header_ready + proofs).as_secs_f64();
    println!(
        "{n} blobs x {kib} KiB -> k = {k} ({} x 128 cells): header-ready {header_ready:.2?}, all proofs {proofs:.2?} (cores busy {busy:.2} of {})",
        2 * k,
        rayon::current_num_threads()
    );

    // A light client holds only a verifier (no prover state).
    let t = Instant::now();
    let light = KzgVerifier::new();
    println!("light client verifier: {:.2?}", t.elapsed());
    let t = Instant::now();
    let ok = light.verify_extension(full.commitments())?;
    println!(
        "light client: commitment extension valid = {ok} ({:.2?})",
        t.elapsed()
    );
    let s = samples_for_confidence(k, 0.9999)?;
    let cells = (0..s)
        .map(|_| {
            let idx = CellIndex::new(rand() as usize % (2 * k), rand() as usize % 128, k)?;
            let (cell, proof) = full.sample(idx)?;
            Ok((idx, cell, proof))
        })
        .collect::<Result<Vec<_>, da_kzg::KzgError>>()?;
    let t = Instant::now();
    let verified = light.verify_cells(full.commitments(), cells)?;
    println!(
        "light client: {} samples verified in one batch ({:.2?}) -> confidence {:.6}",
        verified.len(),
        t.elapsed(),
        da_types::confidence(k, s)?
    );

    let b = &blobs[n / 2];
    if let Some(proof) = full.blob_proof(b.namespace(), &b.id())? {
        let got = proof.verify(&light, full.commitments(), b.namespace(), &b.id())?;
        println!(
            "blob {} in {}: inclusion proof of {} cells verified, {} bytes match = {}",
            b.id(),
            b.namespace(),
            proof.index_cells.len() + proof.blob_cells.len(),
            got.data.len(),
            got.data == b.data()
        );
    }
    Ok(())
}

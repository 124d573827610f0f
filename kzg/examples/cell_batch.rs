//! Per-batch time of the two cell verifiers ([`CellBackend::Light`]: `ekzg-multi-open` on the
//! verification key; [`CellBackend::CKzg`]) on batches of 31 cells from 31 different rows of a
//! `k = 16` square, alternating, after one warm-up call each. Prints the median and spread of
//! wall time and of process CPU time per batch (CPU above wall means helper threads: blst's
//! multi-scalar multiplication uses its own pool unless the process is pinned to one core,
//! e.g. `taskset -c 0`).
//!
//! `cargo run --release -p da-kzg --example cell_batch -- [ROUNDS]` (default 50).

use std::time::Instant;

use da_kzg::{CellBackend, KzgVerifier};
use da_types::CellIndex;

mod common;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = std::env::args().nth(1).map_or(Ok(50), |a| a.parse())?;
    // What the light verifier's start costs, before anything else runs in this process.
    let v = KzgVerifier::new();
    let t = Instant::now();
    v.warm_light()?;
    println!(
        "light verifier built (65 G1 + 65 G2 points decompressed, subgroup-checked) in {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let setup = rust_eth_kzg::TrustedSetup::default();
    println!(
        "for comparison, rust_eth_kzg::TrustedSetup::default() (JSON, {} G1 + {} G2 points): {:.0} ms",
        setup.g1_monomial.len(),
        setup.g2_monomial.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    drop(setup);
    v.wait_ready();
    let full = common::proved_square_k16()?;
    let k = full.k();
    let coms = full.commitments();
    // Batches of 31 cells, each from a different row, different columns per round.
    let batches = (0..rounds)
        .map(|b| {
            let mut c = Vec::new();
            let mut ix = Vec::new();
            let mut cs = Vec::new();
            let mut ps = Vec::new();
            for (r, com) in coms.iter().enumerate().take(31) {
                let idx = CellIndex::new(r, (5 * r + 7 * b) % 128, k)?;
                let (cell, proof) = full.sample(idx)?;
                c.push(com.0.to_vec());
                ix.push(u64::from(idx.col));
                cs.push(cell.as_bytes().to_vec());
                ps.push(proof.0.to_vec());
            }
            Ok((c, ix, cs, ps))
        })
        .collect::<Result<Vec<_>, da_kzg::KzgError>>()?;
    let backends = [CellBackend::Light, CellBackend::CKzg];
    let mut wall = [Vec::new(), Vec::new()];
    let mut cpu = [Vec::new(), Vec::new()];
    for (round, (c, ix, cs, ps)) in batches.iter().enumerate() {
        let c: Vec<&[u8]> = c.iter().map(Vec::as_slice).collect();
        let cs: Vec<&[u8]> = cs.iter().map(Vec::as_slice).collect();
        let ps: Vec<&[u8]> = ps.iter().map(Vec::as_slice).collect();
        for (i, b) in backends.iter().enumerate() {
            if round == 0 {
                // Warm-up: builds the light verifier / waits for c-kzg.
                v.verify_cell_kzg_proof_batch_on(*b, &c, ix, &cs, &ps)?;
            }
            let t = Instant::now();
            let p = cpu_time::ProcessTime::now();
            let ok = v.verify_cell_kzg_proof_batch_on(*b, &c, ix, &cs, &ps)?;
            cpu[i].push(p.elapsed().as_secs_f64() * 1e3);
            wall[i].push(t.elapsed().as_secs_f64() * 1e3);
            if !ok {
                return Err(format!("{b:?}: round {round} does not verify").into());
            }
        }
    }
    for (i, b) in backends.iter().enumerate() {
        let stats = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            (v[0], v[v.len() / 2], v[v.len() - 1])
        };
        let (wmin, wmed, wmax) = stats(&mut wall[i]);
        let (_, cmed, _) = stats(&mut cpu[i]);
        println!(
            "{b:>6?}: 31 cells / 31 rows, {rounds} batches: wall median {wmed:.2} ms (min {wmin:.2}, max {wmax:.2}), CPU median {cmed:.2} ms"
        );
    }
    Ok(())
}

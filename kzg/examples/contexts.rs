//! How long each KZG context takes to build and how much resident memory it adds: the light
//! client's [`KzgVerifier`] (returned at once; `ready` is when its background setup load is done
//! and the first check can run) against the node's [`KzgProver`] without and with window tables.
//! Each context is built in a fresh child process (c-kzg caches its settings process-wide).
//!
//! `cargo run --release -p da-kzg --example contexts -- [verifier|prover|prover-tables]`
//! (no argument: all three, each in its own process, `RUNS` times; default 3).

use std::{process::Command, time::Instant};

use da_kzg::{KzgProver, KzgVerifier, ProverConfig};

/// Resident set size of this process in KiB (Linux; 0 elsewhere).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn measure(which: &str) -> Result<(), Box<dyn std::error::Error>> {
    let before = rss_kib();
    let t = Instant::now();
    let held: Box<dyn std::any::Any> = match which {
        "verifier" => {
            let v = KzgVerifier::new();
            let returned = t.elapsed();
            v.wait_ready();
            println!(
                "{which:>14}: new() returned in {:.1} ms",
                returned.as_secs_f64() * 1e3
            );
            Box::new(v)
        }
        "prover" => Box::new(KzgProver::new(ProverConfig::DEFAULT)),
        "prover-tables" => Box::new(KzgProver::new(ProverConfig::DEFAULT.with_precompute(true))),
        other => return Err(format!("unknown context {other:?}").into()),
    };
    let built = t.elapsed();
    let after = rss_kib();
    println!(
        "{which:>14}: ready in {:>6.0} ms, RSS +{:>4} MiB ({} MiB total)",
        built.as_secs_f64() * 1e3,
        after.saturating_sub(before) / 1024,
        after / 1024
    );
    drop(held);
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Some(which) = std::env::args().nth(1) {
        return measure(&which);
    }
    let runs: usize = std::env::var("RUNS").map_or(Ok(3), |r| r.parse())?;
    let exe = std::env::current_exe()?;
    for which in ["verifier", "prover", "prover-tables"] {
        for _ in 0..runs {
            let status = Command::new(&exe).arg(which).status()?;
            if !status.success() {
                return Err(format!("{which}: {status}").into());
            }
        }
    }
    Ok(())
}

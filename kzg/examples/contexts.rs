//! How long each KZG context takes to build and how much resident memory it adds: the light
//! client's [`KzgVerifier`] (returned at once; `ready` is when its background setup load is done
//! and the first check can run) against the node's [`KzgProver`] without and with window tables.
//! Each context is built in a fresh child process (c-kzg caches its settings process-wide).
//!
//! `cargo run --release -p da-kzg --example contexts -- [verifier|prover|prover-tables]`
//! (no argument: all three, each in its own process, `RUNS` times; default 3).
//!
//! `... --example contexts -- first [OTHER_EXE]`: the light client's start-up, from process
//! start to the first successful `KzgVerifier::verify_cells` on 31 cells of 31 different rows of
//! a `k = 16` square (built once by this process, handed to the children in a file), then when
//! c-kzg's settings are ready. With `OTHER_EXE` (this example built from another commit), its
//! runs alternate with this binary's, `RUNS` times each. Uses only API both sides have.

use std::{process::Command, sync::OnceLock, time::Instant};

use da_kzg::{Cell, Commitment, KzgProver, KzgVerifier, ProverConfig};
use da_types::CellIndex;

mod common;

/// When `main` started (the closest this process gets to its own start).
static START: OnceLock<Instant> = OnceLock::new();

/// Cells in the start-up batch (each from a different row).
const CELLS: usize = 31;

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

/// Builds a `k = 16` square and writes its 32 commitments and 31 cells (row `r`, column
/// `5r mod 128`, with proofs) to `path`.
fn write_fixture(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let full = common::proved_square_k16()?;
    let k = full.k();
    if 2 * k <= CELLS {
        return Err(format!("square has k = {k}, need {} rows", CELLS + 1).into());
    }
    let mut out = Vec::new();
    out.extend((2 * k as u32).to_le_bytes());
    for c in full.commitments() {
        out.extend(c.0);
    }
    for r in 0..CELLS {
        let idx = CellIndex::new(r, (5 * r) % 128, k)?;
        let (cell, proof) = full.sample(idx)?;
        out.extend(idx.row.to_le_bytes());
        out.extend(idx.col.to_le_bytes());
        out.extend(cell.as_bytes());
        out.extend(proof.0);
    }
    std::fs::write(path, out)?;
    Ok(())
}

/// The commitments and cells [`write_fixture`] wrote.
type Fixture = (Vec<Commitment>, Vec<(CellIndex, Cell, da_kzg::Proof)>);

/// Reads what [`write_fixture`] wrote.
fn read_fixture(path: &str) -> Result<Fixture, Box<dyn std::error::Error>> {
    let b = std::fs::read(path)?;
    let u32_at = |at: usize| -> Result<u32, Box<dyn std::error::Error>> {
        Ok(u32::from_le_bytes(
            b.get(at..at + 4).ok_or("short")?.try_into()?,
        ))
    };
    let rows = u32_at(0)? as usize;
    let mut at = 4;
    let mut coms = Vec::with_capacity(rows);
    for _ in 0..rows {
        coms.push(Commitment(b.get(at..at + 48).ok_or("short")?.try_into()?));
        at += 48;
    }
    let mut cells = Vec::new();
    while at < b.len() {
        let (row, col) = (u32_at(at)?, u32_at(at + 4)?);
        at += 8;
        let cell = Cell(Box::new(b.get(at..at + 2048).ok_or("short")?.try_into()?));
        at += 2048;
        let proof = da_kzg::Proof(b.get(at..at + 48).ok_or("short")?.try_into()?);
        at += 48;
        cells.push((CellIndex { row, col }, cell, proof));
    }
    Ok((coms, cells))
}

/// A light client's start: verifier, then the first 31-cell batch, then c-kzg ready.
fn first_cells(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let start = *START.get_or_init(Instant::now);
    let rss0 = rss_kib();
    let (coms, cells) = read_fixture(path)?;
    let n = cells.len();
    let v = KzgVerifier::new();
    let t = Instant::now();
    let verified = v.verify_cells(&coms, cells)?;
    let batch = t.elapsed();
    let first = start.elapsed();
    let rss1 = rss_kib();
    v.wait_ready();
    let ready = start.elapsed();
    let rss2 = rss_kib();
    println!(
        "first-cells: {} of {n} cells verified {:>6.1} ms after start (batch {:.1} ms), RSS {} MiB (+{} KiB); c-kzg ready after {:>6.0} ms, RSS {} MiB",
        verified.len(),
        first.as_secs_f64() * 1e3,
        batch.as_secs_f64() * 1e3,
        rss1 / 1024,
        rss1.saturating_sub(rss0),
        ready.as_secs_f64() * 1e3,
        rss2 / 1024,
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    START.get_or_init(Instant::now);
    let mut args = std::env::args().skip(1);
    let runs: usize = std::env::var("RUNS").map_or(Ok(3), |r| r.parse())?;
    let exe = std::env::current_exe()?;
    match args.next().as_deref() {
        Some("first-cells") => return first_cells(&args.next().ok_or("fixture path")?),
        Some("first") => {
            let path =
                std::env::temp_dir().join(format!("da-kzg-first-{}.bin", std::process::id()));
            write_fixture(&path)?;
            let other = args.next();
            for _ in 0..runs {
                for (label, bin) in other
                    .iter()
                    .map(|o| ("other", std::path::PathBuf::from(o)))
                    .chain([("this", exe.clone())])
                {
                    print!("{label:>5} ");
                    std::io::Write::flush(&mut std::io::stdout())?;
                    let t = Instant::now();
                    let status = Command::new(&bin).arg("first-cells").arg(&path).status()?;
                    println!(
                        "      (spawn to exit {:.0} ms)",
                        t.elapsed().as_secs_f64() * 1e3
                    );
                    if !status.success() {
                        return Err(format!("{label}: {status}").into());
                    }
                }
            }
            std::fs::remove_file(&path)?;
            return Ok(());
        }
        Some(which) => return measure(which),
        None => {}
    }
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

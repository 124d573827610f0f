//! The engine's own pace and cost: `N` validators on 127.0.0.1 in this process, deciding tiny
//! blocks of an in-memory block layer for `SECONDS`, paced at `BLOCK_MS` (0 = as fast as the
//! engine goes). Prints heights decided, the block time (mean, p50, p99 of the gaps between
//! commits at validator 0) and the CPU the whole process used per second and per validator.
//! This isolates consensus (votes, signatures, certificates) from squares and proofs.
//!
//! `cargo run --release -p da-consensus --example rate -- [N] [SECONDS] [BLOCK_MS]`

use std::time::{Duration, Instant};

use da_consensus::local::LocalNet;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(4), |a| a.parse())?;
    let seconds: u64 = args.next().map_or(Ok(20), |a| a.parse())?;
    let block_ms: u64 = args.next().map_or(Ok(0), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let mut net = LocalNet::new(n, &[], dir.path(), Duration::from_millis(block_ms));
    net.start().await?;
    // Warm up: the network forms and the first heights pass.
    let warm = Instant::now();
    while net.heights().iter().any(|h| *h < 3) {
        if warm.elapsed() > Duration::from_secs(60) {
            return Err("no progress in 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let from = net.apps[0].height();
    let cpu = cpu_time::ProcessTime::now();
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let wall = t.elapsed().as_secs_f64();
    let busy = cpu.elapsed().as_secs_f64();
    let to = net.apps[0].height();
    let times = net.apps[0].commit_times();
    let mut gaps: Vec<f64> = times
        .range(from..=to)
        .zip(times.range(from + 1..=to))
        .map(|((_, a), (_, b))| b.duration_since(*a).as_secs_f64() * 1000.0)
        .collect();
    gaps.sort_by(|a, b| a.total_cmp(b));
    let mean = gaps.iter().sum::<f64>() / gaps.len().max(1) as f64;
    let fork = net.fork();
    let rounds: u32 = net.apps[0]
        .proposers()
        .range(from..=to)
        .map(|(_, (_, r))| *r)
        .max()
        .unwrap_or(0);
    println!(
        "{n} validators, pace {block_ms} ms, {wall:.1} s: {} heights ({:.1}/s); block time mean {mean:.1} ms, p50 {:.1} ms, p99 {:.1} ms; highest round {rounds}; CPU {:.2} cores ({:.3} per validator); fork: {fork:?}",
        to - from,
        (to - from) as f64 / wall,
        percentile(&gaps, 0.5),
        percentile(&gaps, 0.99),
        busy / wall,
        busy / wall / n as f64,
    );
    net.stop_all().await;
    Ok(())
}

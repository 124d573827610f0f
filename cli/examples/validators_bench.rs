//! N validator processes on this machine (the devnet's layout: each a `da-node run` process,
//! the BFT engine deciding, the proposer proving, a non-validator full node following): achieved
//! block time p50/p99 from the certified headers' timestamps, submit→finalized p50/p99 for blobs
//! submitted with `wait_for_inclusion` to each validator in turn (as the devnet's demo load
//! does), and CPU per validator process (from `/proc/<pid>/stat`) over the measured window.
//!
//! ```sh
//! cargo build --release --bin da-node --example validators_bench -p da-cli
//! target/release/examples/validators_bench [VALIDATORS] [MIB_PER_S] [SECONDS] [BLOCK_MS] [BLOB_KIB]
//! ```
//! (defaults 4, 0.25, 120, 2000, 256: the README devnet's layout and demo load).
//!
//! A blob waits in the mempool of the validator it was submitted to until that validator
//! proposes (blobs are not forwarded between validators yet), so its latency includes on average
//! half a turn of the `N` proposers.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use da_cli::devnet::{Devnet, DevnetOptions, DevnetValidator, Validators};
use da_client::{ClientConfig, DaClient};
use da_testkit::gen;

/// CPU seconds (user + system) the process has used.
fn cpu_secs(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks: f64 = f.get(11..13).map_or(0.0, |v| {
        v.iter().filter_map(|x| x.parse::<f64>().ok()).sum()
    });
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks / hz.max(1.0)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(4), |a| a.parse())?;
    let rate: f64 = args.next().map_or(Ok(0.25), |a| a.parse())?;
    let secs: u64 = args.next().map_or(Ok(120), |a| a.parse())?;
    let block_ms: u64 = args.next().map_or(Ok(2000), |a| a.parse())?;
    let kib: usize = args.next().map_or(Ok(256), |a| a.parse())?;
    let exe = std::env::current_exe()?
        .parent()
        .and_then(|d| d.parent())
        .map(|d| d.join("da-node"))
        .unwrap_or_else(|| PathBuf::from("da-node"));
    anyhow::ensure!(
        exe.exists(),
        "{} is missing: cargo build --release --bin da-node",
        exe.display()
    );
    let dir = tempfile::tempdir()?;
    let net = Devnet::start(DevnetOptions {
        validators: Validators::Processes { count: n, exe },
        block_time_ms: block_ms,
        token: "bench".into(),
        ..DevnetOptions::local(dir.path().join("net"), "bench")
    })
    .await?;
    let urls: Vec<String> = net
        .validators
        .iter()
        .map(|v| format!("http://{}", v.grpc_addr()))
        .collect();
    let pids: Vec<u32> = net
        .validators
        .iter()
        .filter_map(DevnetValidator::pid)
        .collect();
    let full = DaClient::new(ClientConfig::new(format!("http://{}", net.full.grpc_addr)))?;
    // Warm up: the chain runs.
    let t = Instant::now();
    while full.head().await.map_or(0, |h| h.height()) < 3 {
        anyhow::ensure!(t.elapsed() < Duration::from_secs(120), "no blocks");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let h0 = full.head().await?.height();
    let cpu0: Vec<f64> = pids.iter().map(|&p| cpu_secs(p)).collect();
    let devnet_cpu0 = cpu_secs(std::process::id());
    let start = Instant::now();
    let blob = kib * 1024;
    let period = Duration::from_secs_f64(blob as f64 / (rate * 1024.0 * 1024.0));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<f64>(100_000);
    let mut tick = tokio::time::interval(period);
    let mut i = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        tick.tick().await;
        i += 1;
        let target = (i as usize) % urls.len();
        let mut cc = ClientConfig::new(urls[target].clone());
        cc.token = Some("bench".into());
        let tx = tx.clone();
        tokio::spawn(async move {
            let Ok(c) = DaClient::new(cc) else { return };
            let ns = gen::namespace(format!("b{}", i % 8).as_bytes());
            let t = Instant::now();
            if c.submit(&[(ns, gen::bytes(i, blob))], true).await.is_ok() {
                let _ = tx.send(t.elapsed().as_secs_f64()).await;
            }
        });
    }
    drop(tx);
    let mut lat = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while let Ok(Some(s)) = tokio::time::timeout_at(deadline.into(), rx.recv()).await {
        lat.push(s);
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu: Vec<f64> = pids
        .iter()
        .zip(&cpu0)
        .map(|(&p, c0)| (cpu_secs(p) - c0) / wall)
        .collect();
    let devnet_cpu = (cpu_secs(std::process::id()) - devnet_cpu0) / wall;
    let h1 = full.head().await?.height();
    let mut gaps = Vec::new();
    let mut prev = None;
    let mut signers = 0;
    for h in h0..=h1 {
        let hd = full.header(h).await?;
        signers += hd.certificate.signers.count();
        let ts = hd.block.header.timestamp_ms;
        if let Some(p) = prev {
            gaps.push((ts as f64 - p as f64) / 1000.0);
        }
        prev = Some(ts);
    }
    let blocks = h1 - h0;
    println!(
        "{n} validator processes, {rate} MiB/s offered in {kib} KiB blobs for {secs} s, block time {block_ms} ms"
    );
    println!(
        "blocks {blocks} in {wall:.1} s; block time p50 {:.3} s p99 {:.3} s; signers per certificate {:.2}",
        pct(&mut gaps, 0.5),
        pct(&mut gaps, 0.99),
        signers as f64 / (blocks + 1) as f64
    );
    println!(
        "submit->finalized (each validator in turn): n={} of {i} p50 {:.2} s p99 {:.2} s",
        lat.len(),
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99)
    );
    println!(
        "CPU per validator (cores): {:?}; the bench process (full node, client): {devnet_cpu:.2}",
        cpu.iter().map(|c| format!("{c:.2}")).collect::<Vec<_>>()
    );
    net.shutdown().await;
    Ok(())
}

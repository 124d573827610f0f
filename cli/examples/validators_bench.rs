//! N validator processes on this machine (the devnet's layout: each a `da-node run` process,
//! the BFT engine deciding, the proposer proving, a non-validator full node following): achieved
//! block time p50/p99 from the certified headers' timestamps, submit→finalized p50/p99 for blobs
//! submitted with `wait_for_inclusion`, in the same run, to three kinds of node in turn: the
//! validator that proposes the next height, a validator that proposes neither of the next two,
//! and the full node; the blob relay's bytes per blob (announcements and pulled copies, from
//! every node's metrics); and CPU per validator process (from `/proc/<pid>/stat`) over the
//! measured window.
//!
//! ```sh
//! cargo build --release --bin da-node --example validators_bench -p da-cli
//! target/release/examples/validators_bench [VALIDATORS] [MIB_PER_S] [SECONDS] [BLOCK_MS] [BLOB_KIB]
//! ```
//! (defaults 4, 0.25, 120, 2000, 256: the README devnet's layout and demo load).
//!
//! Every node relays what it pools (`specs/09-p2p.md`, "Blob relay"), so a blob submitted
//! anywhere is in every validator's pool within a round trip or two, and the next proposer that
//! has not cut its block yet includes it.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use da_cli::devnet::{Devnet, DevnetOptions, DevnetValidator, Validators};
use da_client::{ClientConfig, DaClient};
use da_testkit::gen;

/// Where a blob was submitted.
const TARGETS: [&str; 3] = ["next proposer", "other validator", "full node"];

/// The sum of a counter family's samples whose labels contain `label` in a Prometheus text
/// exposition.
fn counter(text: &str, name: &str, label: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The relay's `announced` and `pulled` bytes at a metrics address.
async fn relay_bytes(addr: std::net::SocketAddr) -> (f64, f64) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut text = String::new();
    if let Ok(mut s) = tokio::net::TcpStream::connect(addr).await {
        let _ = s
            .write_all(b"GET /metrics HTTP/1.0\r\nHost: bench\r\n\r\n")
            .await;
        let _ = s.read_to_string(&mut text).await;
    }
    (
        counter(&text, "da_relay_bytes_total", "event=\"announced\""),
        counter(&text, "da_relay_bytes_total", "event=\"pulled\""),
    )
}

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
    // Each process's place in the validator set (its key in its data dir).
    let trust = net.full.trust().clone();
    let set_index: Vec<usize> = (0..n)
        .map(|i| {
            let key = da_node::genesis::read_validator_key(
                &dir.path().join(format!("net/validator-{i}/validator_key")),
            )?;
            trust
                .set()
                .index_of(&key.public_key())
                .ok_or_else(|| anyhow::anyhow!("validator {i} is not in the set"))
        })
        .collect::<anyhow::Result<_>>()?;
    let process_of = |index: usize| set_index.iter().position(|&s| s == index).unwrap_or(0);
    let full_url = format!("http://{}", net.full.grpc_addr);
    let metrics: Vec<std::net::SocketAddr> = net
        .validators
        .iter()
        .map(DevnetValidator::metrics_addr)
        .collect();
    // Warm up: the chain runs.
    let t = Instant::now();
    while full.head().await.map_or(0, |h| h.height()) < 3 {
        anyhow::ensure!(t.elapsed() < Duration::from_secs(120), "no blocks");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let h0 = full.head().await?.height();
    let cpu0: Vec<f64> = pids.iter().map(|&p| cpu_secs(p)).collect();
    let mut relay0 = (0.0, 0.0);
    for a in &metrics {
        let (x, y) = relay_bytes(*a).await;
        relay0 = (relay0.0 + x, relay0.1 + y);
    }
    let full0 = net.full.metrics();
    let full_relay0 = (
        full0.relay_bytes_of("announced") as f64,
        full0.relay_bytes_of("pulled") as f64,
    );
    let devnet_cpu0 = cpu_secs(std::process::id());
    let start = Instant::now();
    let blob = kib * 1024;
    let period = Duration::from_secs_f64(blob as f64 / (rate * 1024.0 * 1024.0));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(usize, f64)>(100_000);
    let mut tick = tokio::time::interval(period);
    let mut i = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        tick.tick().await;
        i += 1;
        let kind = (i as usize) % TARGETS.len();
        let head = full.head().await.map_or(0, |h| h.height());
        let url = match kind {
            0 => urls[process_of(trust.set().proposer(head + 1, 0))].clone(),
            1 => urls[process_of(trust.set().proposer(head + 3, 0))].clone(),
            _ => full_url.clone(),
        };
        let mut cc = ClientConfig::new(url);
        cc.token = Some("bench".into());
        let tx = tx.clone();
        tokio::spawn(async move {
            let Ok(c) = DaClient::new(cc) else { return };
            let ns = gen::namespace(format!("b{}", i % 8).as_bytes());
            let t = Instant::now();
            if c.submit(&[(ns, gen::bytes(i, blob))], true).await.is_ok() {
                let _ = tx.send((kind, t.elapsed().as_secs_f64())).await;
            }
        });
    }
    drop(tx);
    let mut lat: Vec<Vec<f64>> = vec![Vec::new(); TARGETS.len()];
    let deadline = Instant::now() + Duration::from_secs(120);
    while let Ok(Some((kind, s))) = tokio::time::timeout_at(deadline.into(), rx.recv()).await {
        lat[kind].push(s);
    }
    let mut relay1 = (0.0, 0.0);
    for a in &metrics {
        let (x, y) = relay_bytes(*a).await;
        relay1 = (relay1.0 + x, relay1.1 + y);
    }
    let full1 = net.full.metrics();
    let announced = relay1.0 - relay0.0 + full1.relay_bytes_of("announced") as f64 - full_relay0.0;
    let pulled = relay1.1 - relay0.1 + full1.relay_bytes_of("pulled") as f64 - full_relay0.1;
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
    for (kind, l) in lat.iter_mut().enumerate() {
        println!(
            "submit->finalized via {}: n={} p50 {:.2} s p99 {:.2} s",
            TARGETS[kind],
            l.len(),
            pct(l, 0.5),
            pct(l, 0.99)
        );
    }
    let sent = i as f64;
    println!(
        "relay per blob ({} nodes): announcements {:.0} B published, pulled copies {:.2} of the blob ({:.0} B)",
        n + 1,
        announced / sent,
        pulled / sent / blob as f64,
        pulled / sent
    );
    println!(
        "CPU per validator (cores): {:?}; the bench process (full node, client): {devnet_cpu:.2}",
        cpu.iter().map(|c| format!("{c:.2}")).collect::<Vec<_>>()
    );
    net.shutdown().await;
    Ok(())
}

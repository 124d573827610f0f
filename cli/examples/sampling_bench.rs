//! Light-client sampling on a devnet (producer, full node syncing over libp2p, N light clients,
//! all on 127.0.0.1 in one process).
//!
//! `cargo run --release -p da-cli --example sampling_bench -- latency [LCS] [BLOCKS] [BLOCK_MS]`
//! (defaults 10, 5, 15000): every block is a full `k = 64` square (~7.6 MB of blobs); reports,
//! over every (height, light client) pair, the latency from header arrival to the verdict
//! (p50/p99), the bytes of cells and proofs a light client downloaded against the block's
//! payload, and the CPU its cell verification took.
//!
//! `cargo run --release -p da-cli --example sampling_bench -- miss [K] [S] [HEIGHTS] [LCS]`
//! (defaults 8, 8, 30, 10): the producer withholds exactly the minimal unrecoverable rectangle
//! (`(k+1) × 65` cells) of every square, light clients take `S` samples per height; reports how
//! often a light client still said "available" against the exact hypergeometric rate and the
//! `0.75^S` rule of thumb.

use std::time::{Duration, Instant};

use da_cli::devnet::{Devnet, DevnetOptions};
use da_client::{ClientConfig, DaClient};
use da_light::{sampler::HeightStatus, SamplerConfig};
use da_testkit::gen::bytes as demo_bytes;
use da_types::Namespace;

fn arg<T: std::str::FromStr>(i: usize, default: T) -> T {
    std::env::args()
        .nth(i)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn devnet(lcs: usize, block_ms: u64, withhold: f64, sampler: SamplerConfig) -> Devnet {
    let dir = std::env::temp_dir().join(format!("sampling-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let net = Devnet::start(DevnetOptions {
        block_time_ms: block_ms,
        token: "bench".into(),
        light_clients: lcs,
        withhold,
        light_sampler: sampler,
        ..DevnetOptions::local(dir, "bench")
    })
    .await
    .expect("devnet starts");
    for lc in &net.light {
        for _ in 0..200 {
            if lc.serving_peers().len() >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    net
}

/// `k` of the producer's block at `h`.
fn k_of(net: &Devnet, h: u64) -> usize {
    net.producer()
        .expect("an in-process validator")
        .store()
        .block_index(h)
        .expect("read")
        .expect("stored")
        .0
}

fn client(net: &Devnet) -> DaClient {
    let mut c = ClientConfig::new(format!("http://{}", net.submit_addr()));
    c.token = Some("bench".into());
    DaClient::new(c).expect("client")
}

/// Waits until every light client has a final verdict for `height`.
async fn verdicts(net: &Devnet, height: u64, within: Duration) -> Vec<Option<HeightStatus>> {
    let t0 = Instant::now();
    loop {
        let v: Vec<Option<HeightStatus>> = net
            .light
            .iter()
            .map(|lc| lc.status(height).filter(HeightStatus::is_final))
            .collect();
        if v.iter().all(Option::is_some) || t0.elapsed() > within {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn latency() {
    let lcs = arg(2, 10usize);
    let blocks = arg(3, 5usize);
    let block_ms = arg(4, 15_000u64);
    let net = devnet(lcs, block_ms, 0.0, SamplerConfig::default()).await;
    let c = client(&net);
    let ns = Namespace::new_v0(b"bench").expect("ns");
    println!("sampling latency: {lcs} light clients, {blocks} blocks of k = 64, block time {block_ms} ms");
    let (mut lat, mut ratio, mut cpu) = (Vec::new(), Vec::new(), Vec::new());
    for b in 0..blocks {
        // 58 blobs of 128 KiB: 3886 cells plus the index, a full k = 64 square.
        let blobs: Vec<(Namespace, Vec<u8>)> = (0..58)
            .map(|i| (ns, demo_bytes((b * 100 + i) as u64, 131_072)))
            .collect();
        let payload: usize = blobs.iter().map(|(_, d)| d.len()).sum();
        let s = c.submit(&blobs, true).await.expect("submit");
        let h = s.heights[0].expect("included");
        let k = k_of(&net, h);
        let v = verdicts(&net, h, Duration::from_secs(60)).await;
        let mut line = Vec::new();
        for (lc, st) in net.light.iter().zip(&v) {
            match st {
                Some(HeightStatus::Available {
                    latency, samples, ..
                }) => {
                    let stats = lc.stats(h).unwrap_or_default();
                    lat.push(latency.as_secs_f64() * 1000.0);
                    ratio.push(stats.bytes as f64 / payload as f64);
                    cpu.push(stats.verify.as_secs_f64() * 1000.0);
                    line.push(format!("{:.0}ms/{samples}", latency.as_secs_f64() * 1000.0));
                }
                other => line.push(format!("{other:?}")),
            }
        }
        println!("height {h} k={k} payload {payload} B: {}", line.join(" "));
    }
    let n = lat.len();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    println!(
        "n={n} latency p50 {:.1} ms p99 {:.1} ms | bytes/payload mean {:.4}% max {:.4}% | verify CPU per block per light client mean {:.1} ms",
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99),
        100.0 * mean(&ratio),
        100.0 * ratio.iter().copied().fold(0.0, f64::max),
        mean(&cpu)
    );
    net.shutdown().await;
}

async fn miss() {
    let k = arg(2, 8usize);
    let s = arg(3, 8usize);
    let heights = arg(4, 30usize);
    let lcs = arg(5, 10usize);
    let exact = 1.0 - da_types::sampling::confidence(k, s).expect("k");
    let sampler = SamplerConfig {
        // The smallest target that asks for exactly `s` samples at this k.
        target_confidence: 1.0 - exact - 1e-12,
        patience: Duration::from_secs(2),
        ..SamplerConfig::default()
    };
    // Just over 1/4: the rectangle is exactly (k+1) rows × 65 columns.
    let net = devnet(lcs, 1000, 0.2501, sampler).await;
    let c = client(&net);
    let ns = Namespace::new_v0(b"bench").expect("ns");
    // Blobs that make k-row squares: between half and all of a k-row square's payload.
    let bytes = (k * 64 * 1984) * 3 / 4;
    let (mut trials, mut missed) = (0usize, 0usize);
    let mut done = 0;
    let mut seed = 0u64;
    while done < heights {
        seed += 1;
        let r = c
            .submit(&[(ns, demo_bytes(seed, bytes))], true)
            .await
            .expect("submit");
        let h = r.heights[0].expect("included");
        let got_k = k_of(&net, h);
        if got_k != k {
            continue;
        }
        done += 1;
        for st in verdicts(&net, h, Duration::from_secs(30))
            .await
            .into_iter()
            .flatten()
        {
            trials += 1;
            if matches!(st, HeightStatus::Available { .. }) {
                missed += 1;
            }
        }
    }
    let rate = missed as f64 / trials.max(1) as f64;
    println!(
        "k={k} s={s}: {missed} of {trials} verdicts said available on the minimal withholding \
         → empirical {:.4} vs exact hypergeometric {exact:.4} ({:.1} expected) vs 0.75^s {:.4}",
        rate,
        exact * trials as f64,
        0.75f64.powi(s as i32)
    );
    net.shutdown().await;
}

#[tokio::main]
async fn main() {
    // Logs only when asked (`RUST_LOG=...`): they would disturb the timings.
    if let Ok(f) = tracing_subscriber::EnvFilter::try_from_default_env() {
        tracing_subscriber::fmt().with_env_filter(f).init();
    }
    match std::env::args().nth(1).as_deref() {
        Some("miss") => miss().await,
        _ => latency().await,
    }
}

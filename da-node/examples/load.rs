//! End-to-end load on an in-process producer over gRPC on 127.0.0.1: submits blobs at a target
//! rate with `wait_for_inclusion`, and reports submit→header latency p50/p99, the payload rate
//! the producer kept up with, bytes stored per payload byte and peak RSS.
//!
//! `cargo run --release -p da-node --example load -- [MIB_PER_S] [SECONDS] [BLOB_KIB] [solo|engine]`
//!
//! `solo` (the default) is the solo validator that certifies alone; `engine` runs the same
//! one-validator chain through the BFT engine (`consensus_listen`), so the two compare under the
//! same load.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use da_kzg::{KzgProver, ProverConfig};
use da_node::NodeConfig;
use da_proto::v1::{self as pb, blob_service_client::BlobServiceClient};

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let rate: f64 = args.next().map_or(Ok(1.0), |a| a.parse())?;
    let secs: u64 = args.next().map_or(Ok(60), |a| a.parse())?;
    let kib: usize = args.next().map_or(Ok(512), |a| a.parse())?;
    let engine = match args.next().as_deref() {
        None | Some("solo") => false,
        Some("engine") => true,
        Some(other) => anyhow::bail!("the fourth argument is solo or engine, not {other:?}"),
    };
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    let dir = tempfile::tempdir()?;
    // A one-validator chain, as `da-node init` makes it.
    da_node::genesis::init_solo(dir.path(), da_node::config::DEFAULT_CHAIN_ID, 256)?;
    let kzg = tokio::task::spawn_blocking(|| {
        Arc::new(KzgProver::new(ProverConfig::DEFAULT.with_precompute(true)))
    })
    .await?;
    let node = da_node::start_with(
        NodeConfig {
            data_dir: Some(dir.path().to_path_buf()),
            grpc_addr: "127.0.0.1:0".parse()?,
            metrics_addr: "127.0.0.1:0".parse()?,
            max_blob_bytes: kib * 1024,
            mempool_max_bytes: 256 << 20,
            consensus_listen: engine.then(|| "/ip4/127.0.0.1/tcp/0".to_string()),
            ..NodeConfig::default()
        },
        kzg,
    )
    .await?;
    let client = BlobServiceClient::connect(format!("http://{}", node.grpc_addr))
        .await?
        .max_encoding_message_size(64 << 20);
    let blob = kib * 1024;
    let period = Duration::from_secs_f64(blob as f64 / (rate * 1024.0 * 1024.0));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Duration, u64)>(100_000);
    let start = Instant::now();
    let mut tick = tokio::time::interval(period);
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        tick.tick().await;
        n += 1;
        let mut c = client.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let data = da_testkit::gen::bytes(n, blob);
            let mut ns = vec![0u8; 29];
            ns[27] = 0x10;
            ns[28] = (n % 8) as u8;
            let t = Instant::now();
            let req = pb::SubmitRequest {
                blobs: vec![pb::submit_request::Item {
                    namespace: ns,
                    data,
                }],
                wait_for_inclusion: true,
            };
            if let Ok(r) = c.submit(req).await {
                let _ = tx.send((t.elapsed(), r.into_inner().height)).await;
            }
        });
    }
    drop(tx);
    let submitted_secs = start.elapsed().as_secs_f64();
    let mut lat = Vec::new();
    let mut max_h = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    while let Ok(Some((d, h))) = tokio::time::timeout_at(deadline.into(), rx.recv()).await {
        lat.push(d);
        max_h = max_h.max(h);
    }
    let drained_secs = start.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or_default()
    };
    let included = lat.len() as f64 * blob as f64 / (1024.0 * 1024.0);
    node.store().flush()?;
    node.store().compact()?;
    let stored = node.store().storage_bytes() as f64;
    println!(
        "stored by column family: {:?}",
        node.store().storage_bytes_by_cf()
    );
    if std::env::var_os("LOAD_DEBUG").is_some() {
        for h in 1..=max_h {
            if let Some((k, idx)) = node.store().block_index(h)? {
                let used = idx.last().map_or(0, |e| e.cells().end);
                println!("height {h}: k={k} blobs={} used cells={used}", idx.len());
            }
        }
    }
    // The producer's own pace: payload of whole blocks over the time between their cuts, from the
    // headers. Skips the first two blocks (warm-up) and the last (it may be a partial drain).
    let mut cuts = Vec::new();
    for h in 1..=max_h {
        if let Some(sh) = node.store().header(h)? {
            cuts.push((
                sh.block.header.timestamp_ms,
                u64::from(sh.block.blob_count),
                sh.block.k,
            ));
        }
    }
    if cuts.len() >= 5 {
        let window = &cuts[2..cuts.len() - 1];
        let (first, last) = (window[0].0, window[window.len() - 1].0);
        let blobs: u64 = window[..window.len() - 1].iter().map(|c| c.1).sum();
        let secs = (last.saturating_sub(first)) as f64 / 1000.0;
        let mib = blobs as f64 * blob as f64 / (1024.0 * 1024.0);
        println!(
            "producer pace: {:.3} MiB/s ({mib:.1} MiB in {} blocks over {secs:.1} s between cuts; k of those blocks: {:?})",
            mib / secs.max(1e-9),
            window.len() - 1,
            window[..window.len() - 1].iter().map(|c| c.2).collect::<Vec<_>>()
        );
    }
    println!("offered {rate} MiB/s for {secs} s in {kib} KiB blobs: {n} submitted, {} included in {max_h} blocks", lat.len());
    println!(
        "submit->inclusion latency p50 {:.2?} p99 {:.2?} max {:.2?}",
        pct(0.5),
        pct(0.99),
        lat.last().copied().unwrap_or_default()
    );
    println!(
        "sustained: {:.3} MiB/s included over {:.1} s (submission took {:.1} s; the rest is draining)",
        included / drained_secs,
        drained_secs,
        submitted_secs
    );
    println!(
        "stored {:.3} bytes per payload byte; peak RSS {:.0} MiB",
        stored / (included * 1024.0 * 1024.0),
        peak_rss_mib()
    );
    node.shutdown().await;
    Ok(())
}

//! Posting-adapter overhead on a devnet: put and get latency p50/p99 and throughput through the
//! adapter's HTTP API against calling the node's gRPC directly with `da-client`, in the same run.
//!
//! `cargo run --release -p da-cli --example adapter_bench -- [N] [BATCH_BYTES] [CONCURRENCY] [BLOCK_MS]`
//! (defaults 40, 130672 (op-node's MaxInputSize), 4, 500).
//!
//! Puts wait for inclusion, so their latency is mostly the block time; the ratio is the point.
//! Gets: the adapter verifies every cell proof against the certified header (`--verify inclusion`);
//! the direct baselines are `get` (id check only) and `get_verified` (the same checks).

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use da_cli::devnet::{Devnet, DevnetOptions};
use da_client::{ClientConfig, DaClient, HeaderTrust};
use da_testkit::gen::bytes as demo_bytes;
use da_types::Namespace;
use posting_adapter::{http_client, Commitment};

const T: Duration = Duration::from_secs(300);

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

struct Run {
    lat_ms: Vec<f64>,
    wall: Duration,
    bytes: usize,
}

impl Run {
    fn line(&mut self, what: &str) -> (f64, f64) {
        let p50 = pct(&mut self.lat_ms, 0.5);
        let p99 = pct(&mut self.lat_ms, 0.99);
        let mib_s = self.bytes as f64 / 1048576.0 / self.wall.as_secs_f64();
        println!(
            "{what:<34} n={:<4} p50 {p50:>9.2} ms  p99 {p99:>9.2} ms  {mib_s:>7.3} MiB/s",
            self.lat_ms.len()
        );
        (p50, mib_s)
    }
}

/// Runs `n` calls of `f(i)` with `conc` in flight; each returns the bytes it moved.
async fn drive<F, Fut>(n: usize, conc: usize, f: F) -> Run
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = usize> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (f, next) = (f.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return out;
                }
                let t = Instant::now();
                let b = f(i).await;
                out.push((t.elapsed().as_secs_f64() * 1e3, b));
            }
        }));
    }
    let mut lat_ms = Vec::new();
    let mut bytes = 0;
    for t in tasks {
        for (l, b) in t.await.expect("task") {
            lat_ms.push(l);
            bytes += b;
        }
    }
    Run {
        lat_ms,
        wall: t0.elapsed(),
        bytes,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(40), |a| a.parse())?;
    let size: usize = args.next().map_or(Ok(130_672), |a| a.parse())?;
    let conc: usize = args.next().map_or(Ok(4), |a| a.parse())?;
    let block_ms: u64 = args.next().map_or(Ok(500), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let net = Devnet::start(DevnetOptions {
        block_time_ms: block_ms,
        token: "t".into(),
        ..DevnetOptions::local(dir.path().to_path_buf(), "bench")
    })
    .await?;
    let adapter: SocketAddr = net.adapter_addr;
    let mut cc = ClientConfig::new(format!("http://{}", net.submit_addr()));
    cc.token = Some("t".into());
    cc.trust = HeaderTrust::Genesis(Arc::new(net.full.trust().clone()));
    let client = Arc::new(DaClient::new(cc)?);
    let ns = Namespace::new_v0(da_cli::devnet::DEVNET_ROLLUP_NAMESPACE)?;
    println!("n={n} batch={size} B concurrency={conc} block_time={block_ms} ms");

    // Puts: distinct batches each (seeds differ per run so nothing is deduplicated).
    let mut direct_put = {
        let client = client.clone();
        drive(n, conc, move |i| {
            let client = client.clone();
            async move {
                let data = demo_bytes(10_000 + i as u64, size);
                client.submit(&[(ns, data)], true).await.expect("submit");
                size
            }
        })
        .await
    };
    let commitments = Arc::new(std::sync::Mutex::new(vec![Vec::new(); n]));
    let mut adapter_put = {
        let commitments = commitments.clone();
        drive(n, conc, move |i| {
            let commitments = commitments.clone();
            async move {
                let data = demo_bytes(20_000 + i as u64, size);
                let r = http_client::request(adapter, "POST", "/put", &[], Some(&data), false, T)
                    .await
                    .expect("put");
                assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
                commitments.lock().expect("lock")[i] = r.body;
                size
            }
        })
        .await
    };
    let cs: Arc<Vec<Commitment>> = Arc::new(
        commitments
            .lock()
            .expect("lock")
            .iter()
            .map(|c| Commitment::decode(c))
            .collect::<Result<_, _>>()?,
    );
    let ids = |c: &Commitment| match *c {
        Commitment::Blob { height, id } | Commitment::Manifest { height, id } => (height, id),
        Commitment::Keccak(_) => unreachable!("/put returns generic commitments"),
    };
    // Warm-up (untimed): the direct client builds its verification context on first use.
    let (h0, id0) = ids(&cs[0]);
    client.get_verified(Some(h0), None, &id0).await?;
    let warm = format!("/get/{}", cs[0].to_hex());
    http_client::request(adapter, "GET", &warm, &[], None, false, T).await?;
    let mut direct_get = {
        let (cs, client) = (cs.clone(), client.clone());
        drive(n, conc, move |i| {
            let (h, id) = ids(&cs[i]);
            let client = client.clone();
            async move {
                client
                    .get(Some(h), None, &id)
                    .await
                    .expect("get")
                    .data
                    .len()
            }
        })
        .await
    };
    let mut direct_verified = {
        let (cs, client) = (cs.clone(), client.clone());
        drive(n, conc, move |i| {
            let (h, id) = ids(&cs[i]);
            let client = client.clone();
            async move {
                client
                    .get_verified(Some(h), None, &id)
                    .await
                    .expect("get_verified")
                    .data
                    .len()
            }
        })
        .await
    };
    // Gets of the batches the adapter posted.
    let mut adapter_get = {
        let cs = cs.clone();
        drive(n, conc, move |i| {
            let path = format!("/get/{}", cs[i].to_hex());
            async move {
                let r = http_client::request(adapter, "GET", &path, &[], None, false, T)
                    .await
                    .expect("get");
                assert_eq!(r.status, 200);
                r.body.len()
            }
        })
        .await
    };
    let (dp, dt) = direct_put.line("put   direct gRPC (wait)");
    let (ap, at) = adapter_put.line("put   adapter HTTP");
    let (dg, dgt) = direct_get.line("get   direct gRPC (id check)");
    let (dv, dvt) = direct_verified.line("get   direct gRPC (proofs verified)");
    let (ag, agt) = adapter_get.line("get   adapter HTTP (proofs verified)");
    println!(
        "ratios adapter/direct: put p50 {:.3}, put MiB/s {:.3}; get p50 vs verified {:.3} (vs id-only {:.3}); get MiB/s vs verified {:.3} (vs id-only {:.3})",
        ap / dp,
        at / dt,
        ag / dv,
        ag / dg,
        agt / dvt,
        agt / dgt
    );
    net.shutdown().await;
    Ok(())
}

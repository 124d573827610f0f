//! Kill the node process (SIGKILL) during heavy submission, restart it, and check that no
//! acknowledged (included) blob is lost and no stored block is torn. Seeded, several rounds.

mod common;

use common::{free_port, init};

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use da_kzg::{Commitment, ProvenCell};
use da_proto::v1 as pb;
use da_testkit::{
    cluster::kzg,
    gen::namespace_bytes as ns,
    grpc::{clients_on, submit},
};
use da_types::CertifiedHeader;
use rand::{Rng, SeedableRng};

fn spawn(dir: &Path, port: u16) -> Child {
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "chain_id = \"crash\"\ngrpc_addr = \"127.0.0.1:{port}\"\nmetrics_addr = \"127.0.0.1:0\"\nblock_time_ms = 100\nprecompute = false\n"
        ),
    )
    .expect("config");
    Command::new(env!("CARGO_BIN_EXE_da-node"))
        .args(["run", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn da-node")
}

async fn connect(port: u16) -> tonic::transport::Channel {
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    for _ in 0..600 {
        if let Ok(ch) = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .expect("url")
            .connect()
            .await
        {
            return ch;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("node on {addr} never came up");
}

/// The seeds to run: `DA_CRASH_SEEDS` as `A-B` (inclusive range) or a comma list; default 1-3.
/// The soak outside CI: `DA_CRASH_SEEDS=1-200 cargo test --release -p da-cli --test crash`.
fn seeds() -> Vec<u64> {
    let Ok(spec) = std::env::var("DA_CRASH_SEEDS") else {
        return vec![1, 2, 3];
    };
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .unwrap_or_else(|e| panic!("DA_CRASH_SEEDS={spec:?}: {s:?} is not a seed: {e}"))
    };
    match spec.split_once('-') {
        Some((a, b)) => (parse(a)..=parse(b)).collect(),
        None => spec.split(',').map(parse).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_submission_restarts_without_loss_or_torn_blocks() {
    let seeds = seeds();
    assert!(!seeds.is_empty(), "DA_CRASH_SEEDS selects no seed");
    let mut acked_total = 0usize;
    let mut blocks_total = 0u64;
    for seed in seeds.iter().copied() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let dir = tempfile::tempdir().expect("tmp");
        let port = free_port();
        init(dir.path(), "crash");
        let trust =
            da_node::genesis::read_trust(&dir.path().join("genesis.json")).expect("genesis");
        let mut child = spawn(dir.path(), port);
        let ch = connect(port).await;
        let (mut blobs, _, _) = clients_on(ch);

        // Submit concurrently; remember what was acknowledged with its height.
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        let mut tasks = Vec::new();
        // The seed picks the number of writers, their blob sizes and the moment of the kill.
        let writers = rng.gen_range(2..=6u8);
        for w in 0..writers {
            let mut c = blobs.clone();
            let tx = tx.clone();
            let (step, offset) = (rng.gen_range(1..4096usize), rng.gen_range(0..60_000usize));
            tasks.push(tokio::spawn(async move {
                for i in 0..10_000u32 {
                    let mut data = vec![w; 4 + (offset + i as usize * step) % 60_000];
                    data[..4].copy_from_slice(&i.to_be_bytes());
                    let n = ns(w);
                    match c.submit(submit(&[(n.clone(), data.clone())], true)).await {
                        Ok(r) => {
                            let r = r.into_inner();
                            let _ = tx.send((n, data, r.blob_ids[0].clone(), r.height)).await;
                        }
                        Err(_) => break,
                    }
                }
            }));
        }
        drop(tx);
        let delay = rng.gen_range(800..2500);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        child.kill().expect("kill");
        let _ = child.wait();
        for t in tasks {
            let _ = t.await;
        }
        let mut acked = Vec::new();
        while let Ok(a) = rx.try_recv() {
            acked.push(a);
        }
        assert!(
            !acked.is_empty(),
            "seed {seed}: nothing was acknowledged before the kill"
        );

        let mut child = spawn(dir.path(), port);
        let ch = connect(port).await;
        let (_, mut headers, mut shares) = clients_on(ch);
        blobs = clients_on(connect(port).await).0;
        for (n, data, id, height) in &acked {
            let got = blobs
                .get(pb::GetBlobRequest {
                    height: *height,
                    namespace: n.clone(),
                    blob_id: id.clone(),
                    keccak256: Vec::new(),
                })
                .await
                .unwrap_or_else(|e| panic!("seed {seed}: acknowledged blob lost at {height}: {e}"));
            assert_eq!(&got.into_inner().data, data);
        }
        // Every stored block is whole: every row of every height verifies.
        let head = headers
            .head(pb::HeadRequest {})
            .await
            .expect("head")
            .into_inner();
        let ctx = kzg();
        for h in 1..=head.height {
            let header = headers
                .get_by_height(pb::GetByHeightRequest { height: h })
                .await
                .expect("header")
                .into_inner();
            // Every stored header is certified by the genesis validator (the node itself).
            let certified = CertifiedHeader::try_from(&header).expect("certified header");
            trust
                .verify(&certified)
                .unwrap_or_else(|e| panic!("seed {seed}: header {h} is not certified: {e}"));
            let coms: Vec<Commitment> = Commitment::of_header(&certified.block);
            let mut batch = Vec::new();
            for r in 0..2 * header.k {
                let row = shares
                    .get_row(pb::GetRowRequest { height: h, row: r })
                    .await
                    .unwrap_or_else(|e| panic!("seed {seed}: torn block {h} row {r}: {e}"))
                    .into_inner();
                for s in &row.cells {
                    let p = ProvenCell::try_from(s).expect("decode");
                    batch.push((p.index, p.cell, p.proof));
                }
            }
            ctx.verify_cells(&coms, batch)
                .unwrap_or_else(|e| panic!("seed {seed}: block {h} does not verify: {e}"));
        }
        child.kill().expect("kill");
        let _ = child.wait();
        acked_total += acked.len();
        blocks_total += head.height;
        eprintln!(
            "seed {seed}: killed after {delay} ms; {} acknowledged blobs found, {} blocks whole",
            acked.len(),
            head.height
        );
    }
    eprintln!(
        "{} seeds: {acked_total} acknowledged blobs found, {blocks_total} blocks whole",
        seeds.len()
    );
}

//! Four validators as four `da-node run` processes deciding with the BFT engine. One is killed
//! with SIGKILL: the other three (75% of the power) go on; restarted on its data dir (store and
//! consensus WAL), it catches up and holds the same chain. Every header is certified.

mod common;

use common::{free_port, init};

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use da_client::{ClientConfig, DaClient};
use da_node::genesis::{read_validator_key, write_genesis};
use da_types::{Genesis, GenesisValidator, Trust};

const CHAIN: &str = "bft-kill";

struct Validator {
    dir: PathBuf,
    grpc: u16,
    child: Option<Child>,
}

impl Validator {
    fn spawn(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_da-node"))
            .args(["run", "--data-dir"])
            .arg(&self.dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn da-node");
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SIGKILL: no shutdown path runs.
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn client(&self) -> DaClient {
        DaClient::new(ClientConfig::new(format!("http://127.0.0.1:{}", self.grpc))).expect("client")
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The validator's head height (0 when it does not answer or holds nothing).
async fn head(v: &Validator) -> u64 {
    match tokio::time::timeout(Duration::from_secs(2), v.client().head()).await {
        Ok(Ok(h)) => h.height(),
        _ => 0,
    }
}

async fn until_heights(vs: &[&Validator], height: u64, what: &str) {
    for _ in 0..600 {
        let mut all = true;
        for v in vs {
            all &= head(v).await >= height;
        }
        if all {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out waiting for {what} (height {height})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_killed_with_sigkill_restarts_and_catches_up_while_the_chain_goes_on() {
    let root = tempfile::tempdir().expect("tmp");
    let dirs: Vec<PathBuf> = (0..4).map(|i| root.path().join(format!("v{i}"))).collect();
    for d in &dirs {
        init(d, CHAIN);
    }
    let genesis = Genesis {
        chain_id: CHAIN.into(),
        genesis_time_ms: 1,
        validators: dirs
            .iter()
            .map(|d| {
                let key = read_validator_key(&d.join("validator_key")).expect("validator key");
                GenesisValidator::new(&key, 1)
            })
            .collect(),
        max_square_k: 4,
    };
    let trust = Trust::from_genesis(&genesis).expect("genesis");
    let consensus: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let addr = |p: u16| format!("\"/ip4/127.0.0.1/tcp/{p}\"");
    let genesis_path = root.path().join("genesis.json");
    write_genesis(&genesis_path, &genesis).expect("genesis");
    let mut validators: Vec<Validator> = Vec::new();
    for (i, d) in dirs.iter().enumerate() {
        let grpc = free_port();
        let peers: Vec<String> = (0..4)
            .filter(|j| *j != i)
            .map(|j| addr(consensus[j]))
            .collect();
        std::fs::write(
            d.join("config.toml"),
            format!(
                "chain_id = \"{CHAIN}\"\ngenesis = \"{}\"\ngrpc_addr = \"127.0.0.1:{grpc}\"\nmetrics_addr = \"127.0.0.1:0\"\nblock_time_ms = 300\nprecompute = false\nmax_square_k = 4\nmax_blob_bytes = 200000\nconsensus_listen = {}\nconsensus_peers = [{}]\n",
                genesis_path.display(),
                addr(consensus[i]),
                peers.join(", ")
            ),
        )
        .expect("config");
        let mut v = Validator {
            dir: d.clone(),
            grpc,
            child: None,
        };
        v.spawn();
        validators.push(v);
    }
    until_heights(
        &validators.iter().collect::<Vec<_>>(),
        3,
        "all four validators",
    )
    .await;

    // SIGKILL one; the others go on.
    validators[3].kill();
    let at_kill = head(&validators[0]).await;
    until_heights(
        &validators[..3].iter().collect::<Vec<_>>(),
        at_kill + 4,
        "three validators without the killed one",
    )
    .await;

    // Restarted on its data dir, it catches up with the others.
    validators[3].spawn();
    let target = head(&validators[0]).await + 2;
    until_heights(
        &validators.iter().collect::<Vec<_>>(),
        target,
        "the restarted validator",
    )
    .await;

    // One chain, every header certified by more than 2/3 of the set.
    for h in 1..=target {
        let first = validators[0].client().header(h).await.expect("header");
        let power = trust.verify(&first).expect("a valid certificate");
        assert!(trust.set().has_quorum(power));
        for (i, v) in validators.iter().enumerate().skip(1) {
            let other = v.client().header(h).await.expect("header");
            assert_eq!(
                other.id(),
                first.id(),
                "validator {i} differs at height {h}"
            );
        }
    }
}

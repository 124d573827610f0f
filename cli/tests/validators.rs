//! Four validators as four `da-node run` processes deciding with the BFT engine. One is killed
//! with SIGKILL: the other three (75% of the power) go on; restarted on its data dir (store and
//! consensus WAL), it catches up and holds the same chain. Every header is certified.
//!
//! The soak: 20 random SIGKILLs (and restarts) of validators while clients submit blobs and
//! wait for their inclusion; then two of four down at once (no decision, no fork) and back (the
//! chain resumes). At the end every validator holds the same certified chain and every blob
//! whose inclusion was acknowledged is stored at the acknowledged height with its bytes.

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

/// The tests here each run four validator processes; on a 2-core machine they take turns (and
/// never race for the free ports they pick).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Validator {
    dir: PathBuf,
    grpc: u16,
    child: Option<Child>,
}

impl Validator {
    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("node.log"))
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_da-node"))
            .args(["run", "--data-dir"])
            .arg(&self.dir)
            .env("RUST_LOG", "warn,arc_malachitebft=error")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn da-node");
        self.child = Some(child);
    }

    /// The last lines of its log (for a failure message).
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("node.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
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
    let mut logs = String::new();
    for v in vs {
        logs.push_str(&format!(
            "\n--- {} (head {}):\n{}",
            v.dir.display(),
            head(v).await,
            v.log_tail()
        ));
    }
    panic!("timed out waiting for {what} (height {height}){logs}");
}

/// Four validators of chain `chain` under `root`, started: `da-node init` each, one genesis
/// of equal powers, configs naming each other's consensus addresses.
fn start_four(root: &std::path::Path, chain: &str) -> (Vec<Validator>, Trust) {
    let dirs: Vec<PathBuf> = (0..4).map(|i| root.join(format!("v{i}"))).collect();
    for d in &dirs {
        init(d, chain);
    }
    let genesis = Genesis {
        chain_id: chain.into(),
        genesis_time_ms: 1,
        validators: dirs
            .iter()
            .map(|d| {
                let key = read_validator_key(&d.join("validator_key")).expect("validator key");
                GenesisValidator::new(&key, 1)
            })
            .collect(),
        max_square_k: 4,
        dedup_window: da_types::DEFAULT_DEDUP_WINDOW,
        attestation_window: 4,
    };
    let trust = Trust::from_genesis(&genesis).expect("genesis");
    let consensus: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let addr = |p: u16| format!("\"/ip4/127.0.0.1/tcp/{p}\"");
    let genesis_path = root.join("genesis.json");
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
                "chain_id = \"{chain}\"\ngenesis = \"{}\"\ngrpc_addr = \"127.0.0.1:{grpc}\"\nmetrics_addr = \"127.0.0.1:0\"\nblock_time_ms = 300\nprecompute = false\nmax_square_k = 4\nmax_blob_bytes = 200000\nconsensus_listen = {}\nconsensus_peers = [{}]\n",
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
    (validators, trust)
}

/// Every height up to `target` is the same certified header at every validator.
async fn one_certified_chain(validators: &[Validator], trust: &Trust, target: u64) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_killed_with_sigkill_restarts_and_catches_up_while_the_chain_goes_on() {
    let _turn = SERIAL.lock().await;
    let root = tempfile::tempdir().expect("tmp");
    let (mut validators, trust) = start_four(root.path(), CHAIN);
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
    one_certified_chain(&validators, &trust, target).await;
}

/// A blob whose inclusion a validator acknowledged: its id, height and bytes.
type Acked = (da_types::BlobId, u64, Vec<u8>);

/// Kills of the soak (`DA_SOAK_KILLS`, default 20) and its seed (`DA_SOAK_SEED`, default 7).
fn soak_settings() -> (usize, u64) {
    let get = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    (get("DA_SOAK_KILLS", 20) as usize, get("DA_SOAK_SEED", 7))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soak_of_random_validator_kills_loses_no_finalized_blob_and_never_forks() {
    use rand::{Rng, SeedableRng};
    use std::sync::{Arc, Mutex};

    let _turn = SERIAL.lock().await;
    let (kills, seed) = soak_settings();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let root = tempfile::tempdir().expect("tmp");
    let (mut validators, trust) = start_four(root.path(), "bft-soak");
    until_heights(
        &validators.iter().collect::<Vec<_>>(),
        2,
        "all four validators",
    )
    .await;

    // Two writers submit small blobs to random validators and wait for inclusion; what was
    // acknowledged (id, height, bytes) is kept.
    let ports: Vec<u16> = validators.iter().map(|v| v.grpc).collect();
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let stop = tokio_util::sync::CancellationToken::new();
    let mut writers = Vec::new();
    for w in 0..2u64 {
        let (ports, acked, stop) = (ports.clone(), acked.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed * 100 + w);
            let mut n = 0u64;
            while !stop.is_cancelled() {
                n += 1;
                let port = ports[rng.gen_range(0..ports.len())];
                let mut cc = ClientConfig::new(format!("http://127.0.0.1:{port}"));
                cc.retries = 0;
                cc.inclusion_timeout = Duration::from_secs(20);
                let Ok(c) = DaClient::new(cc) else { continue };
                let ns = da_types::Namespace::new_v0(format!("soak{w}").as_bytes()).expect("ns");
                let data = da_testkit::gen::bytes(
                    seed * 1_000_000 + w * 100_000 + n,
                    rng.gen_range(1_000..40_000),
                );
                match c.submit(&[(ns, data.clone())], true).await {
                    Ok(s) => {
                        if let (Some(id), Some(Some(h))) = (s.ids.first(), s.heights.first()) {
                            acked.lock().expect("acked").push((*id, *h, data));
                        }
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        }));
    }

    // The kills: one validator at a time, SIGKILL, down for a random while, restarted; the
    // next kill comes once it has caught up (so three of four can always decide).
    let first = head(&validators[0]).await;
    for k in 0..kills {
        let i = rng.gen_range(0..validators.len());
        tokio::time::sleep(Duration::from_millis(rng.gen_range(200..1200))).await;
        validators[i].kill();
        tokio::time::sleep(Duration::from_millis(rng.gen_range(100..1500))).await;
        validators[i].spawn();
        let other = &validators[(i + 1) % validators.len()];
        let caught = head(other).await;
        until_heights(&[&validators[i]], caught, "the restarted validator").await;
        eprintln!(
            "soak: kill {} of {kills}: validator {i}, back at height {caught}",
            k + 1
        );
    }

    // Two of four down at once: no decision (and no fork), then back: the chain resumes.
    let (a, b) = (0, 1 + rng.gen_range(0..3));
    until_heights(
        &validators.iter().collect::<Vec<_>>(),
        head(&validators[0]).await.max(1),
        "every validator back after the kills",
    )
    .await;
    validators[a].kill();
    validators[b].kill();
    let up: Vec<&Validator> = (0..4)
        .filter(|j| *j != a && *j != b)
        .map(|j| &validators[j])
        .collect();
    // Give in-flight decisions a moment, then nothing moves.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stalled = head(up[0]).await.max(head(up[1]).await);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        head(up[0]).await.max(head(up[1]).await),
        stalled,
        "two validators of four decided without a quorum"
    );
    validators[a].spawn();
    validators[b].spawn();
    let target = stalled + 3;
    until_heights(
        &validators.iter().collect::<Vec<_>>(),
        target,
        "the chain after two validators returned",
    )
    .await;
    stop.cancel();
    for w in writers {
        let _ = w.await;
    }

    // One chain everywhere; every acknowledged blob at its height, with its bytes, at every
    // validator.
    let end = head(&validators[0]).await;
    until_heights(
        &validators.iter().collect::<Vec<_>>(),
        end,
        "every validator at the end",
    )
    .await;
    one_certified_chain(&validators, &trust, end).await;
    let acked = acked.lock().expect("acked").clone();
    assert!(acked.len() >= 10, "only {} blobs acknowledged", acked.len());
    for v in &validators {
        let c = v.client();
        for (id, h, data) in &acked {
            let got = c.get(None, None, id).await.expect("an acknowledged blob");
            assert_eq!(got.height, *h, "blob {id:?} moved");
            assert_eq!(&got.data, data);
        }
    }
    eprintln!(
        "soak: {kills} kills (seed {seed}), {} blobs acknowledged, chain from {first} to {end}",
        acked.len()
    );
}

/// A validator killed with SIGKILL while blobs it acknowledged wait in its pool (the chain
/// stalled: two of four validators down) proposes them after its restart: every acknowledged
/// blob is finalized, and each is in exactly one block.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_pooled_at_a_killed_validator_are_finalized_once_after_its_restart() {
    let _turn = SERIAL.lock().await;
    let root = tempfile::tempdir().expect("tmp");
    let (mut validators, _trust) = start_four(root.path(), "bft-pool");
    until_heights(
        &validators.iter().collect::<Vec<_>>(),
        2,
        "all four validators",
    )
    .await;
    // Two of four down: nothing is decided, so what validator 0 acknowledges stays pooled.
    validators[2].kill();
    validators[3].kill();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stalled = head(&validators[0]).await;
    let ns = da_types::Namespace::new_v0(b"pooled").expect("ns");
    let c = validators[0].client();
    let mut acked = Vec::new();
    for i in 0..20u64 {
        let data = da_testkit::gen::bytes(9_000 + i, 3_000);
        let s = c.submit(&[(ns, data)], false).await.expect("acknowledged");
        assert_eq!(
            s.heights,
            vec![None],
            "included while the chain was stalled"
        );
        acked.push(s.ids[0]);
    }
    assert_eq!(head(&validators[0]).await, stalled, "the chain moved");
    // SIGKILL with a full pool, then everyone back.
    validators[0].kill();
    for i in [0, 2, 3] {
        validators[i].spawn();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let mut heights = std::collections::HashMap::new();
    let reader = validators[1].client();
    while heights.len() < acked.len() {
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {} acknowledged blobs finalized after the restart\n{}",
            heights.len(),
            acked.len(),
            validators[0].log_tail()
        );
        for id in &acked {
            if let Ok(b) = reader.get(None, Some(&ns), id).await {
                heights.insert(*id, b.height);
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Exactly once: each id in one block of the chain.
    let top = heights.values().copied().max().expect("heights");
    let mut seen = std::collections::HashMap::new();
    for h in stalled..=top {
        for b in reader.get_all(h, &[ns]).await.expect("get_all") {
            assert!(seen.insert(b.id, h).is_none(), "{:?} twice", b.id);
        }
    }
    for id in &acked {
        assert_eq!(seen.get(id), heights.get(id), "blob {id:?}");
    }
}

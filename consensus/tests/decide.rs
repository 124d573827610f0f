//! Real engines on 127.0.0.1 deciding over an in-memory block layer: one validator alone, four
//! validators agreeing at every node, a lying proposer voted down (its heights are decided in a
//! later round by another proposer), a stopped validator restarting from its WAL and catching
//! up by value sync, and two of four down stopping decisions until they return. (Crashes of
//! real processes by SIGKILL are tested with the node binary in `cli/tests`.)

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use da_consensus::{
    app::{AppError, Application, BlockData, DecidedBlock, Params, Rejection, Tip},
    engine::{start, start_byzantine, Engine, EngineConfig},
    ConsensusMetrics,
};
use da_types::{
    bls::BlsSecretKey,
    certificate::Certificate,
    header_v2::{chain_hash, BlockHeader},
    validators::{Validator, ValidatorSet},
};
use malachitebft_app_channel::app::types::core::LinearTimeouts;
use malachitebft_engine_byzantine::{ByzantineConfig, Trigger};
use sha2::{Digest, Sha256};

/// Commitment 0 of a block is SHA-256 of its body (padded): the data rule this app checks.
fn commitment_of(body: &[u8]) -> [u8; 48] {
    let mut c = [0u8; 48];
    c[..32].copy_from_slice(&Sha256::digest(body));
    c
}

#[derive(Default)]
struct Chain {
    blocks: BTreeMap<u64, (DecidedBlock, Certificate)>,
}

/// An in-memory block layer; `lie` makes it propose a block whose commitment is wrong.
struct MemApp {
    chain: Mutex<Chain>,
    genesis_ms: u64,
    lie: bool,
    name: String,
}

impl MemApp {
    fn new(name: &str, genesis_ms: u64, lie: bool) -> Arc<Self> {
        Arc::new(Self {
            chain: Mutex::new(Chain::default()),
            genesis_ms,
            lie,
            name: name.into(),
        })
    }

    fn height(&self) -> u64 {
        self.chain
            .lock()
            .expect("chain lock")
            .blocks
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0)
    }

    fn ids(&self) -> BTreeMap<u64, ([u8; 32], u32)> {
        self.chain
            .lock()
            .expect("chain lock")
            .blocks
            .iter()
            .map(|(h, (b, c))| (*h, (b.header.id(), c.round)))
            .collect()
    }
}

#[async_trait]
impl Application for MemApp {
    async fn tip(&self) -> Result<Tip, AppError> {
        let c = self.chain.lock().expect("chain lock");
        Ok(match c.blocks.iter().next_back() {
            Some((h, (b, _))) => Tip {
                height: *h,
                id: b.header.id(),
                timestamp_ms: b.header.header.timestamp_ms,
            },
            None => Tip {
                height: 0,
                id: [0; 32],
                timestamp_ms: self.genesis_ms,
            },
        })
    }

    async fn history_min(&self) -> u64 {
        1
    }

    async fn build(&self, height: u64, _max_k: u16) -> Result<BlockData, AppError> {
        let body = Bytes::from(format!("block {height} by {}", self.name).into_bytes());
        let mut c0 = commitment_of(&body);
        if self.lie {
            c0[0] ^= 1;
        }
        Ok(BlockData {
            k: 1,
            blob_count: 0,
            commitments: vec![c0, [7u8; 48]],
            body,
        })
    }

    async fn check(&self, header: &BlockHeader, body: &Bytes) -> Result<(), Rejection> {
        if header.commitments.first() != Some(&commitment_of(body)) {
            return Err(Rejection::new(
                "commitments",
                "commitment 0 is not the body's",
            ));
        }
        Ok(())
    }

    async fn commit(&self, block: DecidedBlock, certificate: Certificate) -> Result<(), AppError> {
        let mut c = self.chain.lock().expect("chain lock");
        c.blocks
            .insert(block.header.header.height, (block, certificate));
        Ok(())
    }

    async fn decided(&self, height: u64) -> Result<Option<DecidedBlock>, AppError> {
        Ok(self
            .chain
            .lock()
            .expect("chain lock")
            .blocks
            .get(&height)
            .map(|(b, _)| b.clone()))
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("local addr")
        .port()
}

fn keys(n: usize) -> Vec<BlsSecretKey> {
    (0..n)
        .map(|i| BlsSecretKey::from_ikm(&[i as u8 + 1; 32]))
        .collect()
}

fn params(keys: &[BlsSecretKey]) -> Params {
    let set = ValidatorSet::new(
        keys.iter()
            .map(|k| Validator {
                public_key: k.public_key(),
                power: 10,
            })
            .collect(),
    )
    .expect("validator set");
    Params {
        chain: chain_hash("consensus-test"),
        validators: set,
        max_square_k: 64,
        genesis_time_ms: 1,
        block_time: Duration::from_millis(200),
        timeouts: LinearTimeouts {
            propose: Duration::from_millis(1500),
            prevote: Duration::from_millis(500),
            precommit: Duration::from_millis(500),
            ..LinearTimeouts::default()
        },
    }
}

struct Net {
    engines: Vec<Option<Engine>>,
    keys: Vec<BlsSecretKey>,
    cfgs: Vec<EngineConfig>,
    params: Params,
    apps: Vec<Arc<MemApp>>,
    metrics: Vec<ConsensusMetrics>,
    _dirs: Vec<tempfile::TempDir>,
}

async fn network(n: usize, liars: &[usize]) -> (Net, Params) {
    network_with(n, liars, None).await
}

/// `n` validators; `liars` propose wrong data; `byzantine` = (validator, what its network
/// proxy does: equivocate, drop, ...).
async fn network_with(
    n: usize,
    liars: &[usize],
    mut byzantine: Option<(usize, ByzantineConfig)>,
) -> (Net, Params) {
    let keys = keys(n);
    let params = params(&keys);
    let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let addr = |p: u16| {
        format!("/ip4/127.0.0.1/tcp/{p}")
            .parse()
            .expect("multiaddr")
    };
    let mut net = Net {
        engines: vec![],
        keys: keys.clone(),
        cfgs: vec![],
        params: params.clone(),
        apps: vec![],
        metrics: vec![],
        _dirs: vec![],
    };
    for (i, key) in keys.into_iter().enumerate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let app = MemApp::new(&format!("v{i}"), 1, liars.contains(&i));
        let metrics = ConsensusMetrics::default();
        let cfg = EngineConfig {
            moniker: format!("v{i}"),
            home: dir.path().to_path_buf(),
            listen: addr(ports[i]),
            peers: (0..n).filter(|j| *j != i).map(|j| addr(ports[j])).collect(),
            network_seed: [i as u8 + 100; 32],
        };
        let engine = match byzantine.take_if(|(b, _)| *b == i) {
            Some((_, byz)) => start_byzantine(
                app.clone(),
                params.clone(),
                key,
                cfg.clone(),
                metrics.clone(),
                byz,
            )
            .await
            .expect("Byzantine engine starts"),
            None => start(
                app.clone(),
                params.clone(),
                Some(key),
                cfg.clone(),
                metrics.clone(),
            )
            .await
            .expect("engine starts"),
        };
        net.engines.push(Some(engine));
        net.cfgs.push(cfg);
        net.apps.push(app);
        net.metrics.push(metrics);
        net._dirs.push(dir);
    }
    (net, params)
}

impl Net {
    /// Stops node `i` (its actors and app loop; its store and WAL stay).
    async fn kill(&mut self, i: usize) {
        if let Some(e) = self.engines[i].take() {
            e.stop().await;
        }
    }

    /// Starts node `i` again on its store, WAL and ports.
    async fn restart(&mut self, i: usize) {
        let engine = start(
            self.apps[i].clone(),
            self.params.clone(),
            Some(self.keys[i].clone()),
            self.cfgs[i].clone(),
            self.metrics[i].clone(),
        )
        .await
        .expect("engine restarts");
        self.engines[i] = Some(engine);
    }

    fn heights(&self) -> Vec<u64> {
        self.apps.iter().map(|a| a.height()).collect()
    }

    /// The chains agree wherever two nodes both hold a height.
    fn assert_one_chain(&self) {
        let chains: Vec<_> = self.apps.iter().map(|a| a.ids()).collect();
        for (h, (id, _)) in &chains[0] {
            for (j, c) in chains.iter().enumerate().skip(1) {
                if let Some((other, _)) = c.get(h) {
                    assert_eq!(other, id, "node {j} differs at height {h}");
                }
            }
        }
    }

    async fn stop_all(mut self) {
        for i in 0..self.engines.len() {
            self.kill(i).await;
        }
    }
}

async fn until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn check_certificates(app: &MemApp, params: &Params) {
    let c = app.chain.lock().expect("chain lock");
    for (h, (b, cert)) in &c.blocks {
        let power = cert
            .verify(&params.validators, &params.chain, &b.header.header)
            .unwrap_or_else(|e| panic!("certificate at {h}: {e}"));
        assert!(params.validators.has_quorum(power));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_validator_decides_alone() {
    let (net, params) = network(1, &[]).await;
    until("height 5", 60, || net.apps[0].height() >= 5).await;
    check_certificates(&net.apps[0], &params);
    // Every block extends the previous one.
    {
        let c = net.apps[0].chain.lock().expect("chain lock");
        let mut parent = [0u8; 32];
        for (h, (b, _)) in &c.blocks {
            assert_eq!(b.header.header.parent, parent, "parent at {h}");
            parent = b.header.id();
        }
    }
    net.stop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_validators_decide_the_same_chain() {
    let (net, params) = network(4, &[]).await;
    until("height 6 everywhere", 120, || {
        net.apps.iter().all(|a| a.height() >= 6)
    })
    .await;
    let first = net.apps[0].ids();
    for app in &net.apps[1..] {
        let ids = app.ids();
        for h in 1..=6 {
            assert_eq!(ids[&h].0, first[&h].0, "height {h} differs at {}", app.name);
        }
        check_certificates(app, &params);
    }
    net.stop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_proposer_gets_nil_votes_and_another_decides() {
    // Validator index order is by public key; find which set index the liar (key 0) holds.
    let (net, params) = network(4, &[0]).await;
    until("height 8 everywhere", 180, || {
        net.apps.iter().all(|a| a.height() >= 8)
    })
    .await;
    let liar_key = keys(1)[0].public_key();
    let liar_index = params.validators.index_of(&liar_key).expect("liar in set") as u32;
    let mut liar_rounds = 0;
    {
        let ids = net.apps[1].chain.lock().expect("chain lock");
        for (h, (b, cert)) in ids.blocks.iter().take(8) {
            // No block the liar proposed is ever decided: its data is wrong.
            assert_ne!(
                b.header.header.proposer, liar_index,
                "liar's block decided at {h}"
            );
            if params.validators.proposer(*h, 0) == liar_index as usize {
                assert!(
                    cert.round > 0,
                    "height {h} decided in round 0 though the liar proposed"
                );
                liar_rounds += 1;
            }
        }
    }
    assert!(
        liar_rounds > 0,
        "the liar never was first proposer in 8 heights"
    );
    let refused: u64 = net.metrics[1..]
        .iter()
        .map(|m| m.refused("commitments"))
        .sum();
    assert!(refused > 0, "no honest validator counted a refusal");
    net.stop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_validator_restarts_from_its_wal_catches_up_and_votes_again() {
    let (mut net, params) = network(4, &[]).await;
    until("height 3 everywhere", 120, || {
        net.heights().iter().all(|h| *h >= 3)
    })
    .await;
    net.kill(3).await;
    let stopped_at = net.apps[3].height();
    // Three of four (75% of the power) go on without it.
    until("the others 4 heights further", 120, || {
        net.heights()[..3].iter().all(|h| *h >= stopped_at + 4)
    })
    .await;
    assert!(
        net.apps[3].height() <= stopped_at + 1,
        "a stopped node kept deciding"
    );
    net.restart(3).await;
    until("the restarted node caught up", 120, || {
        net.apps[3].height() >= net.apps[0].height().saturating_sub(1)
            && net.apps[3].height() >= stopped_at + 4
    })
    .await;
    // It votes again: with another validator down, progress needs it (3 of 4).
    net.kill(2).await;
    let h = net.heights()[0];
    until("progress with the restarted node voting", 120, || {
        [0, 1, 3].iter().all(|i| net.apps[*i].height() >= h + 3)
    })
    .await;
    net.assert_one_chain();
    check_certificates(&net.apps[3], &params);
    net.stop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_four_down_stops_decisions_and_the_chain_resumes_when_they_return() {
    let (mut net, _params) = network(4, &[]).await;
    until("height 2 everywhere", 120, || {
        net.heights().iter().all(|h| *h >= 2)
    })
    .await;
    net.kill(2).await;
    net.kill(3).await;
    // Let in-flight heights settle, then nothing may be decided with half the power.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stalled = net.heights();
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        net.heights()[..2],
        stalled[..2],
        "decided with 2 of 4 validators"
    );
    net.restart(2).await;
    net.restart(3).await;
    let top = stalled[..2].iter().copied().max().unwrap_or(0);
    until("the chain resumes", 180, || {
        net.heights().iter().all(|h| *h >= top + 3)
    })
    .await;
    net.assert_one_chain();
    net.stop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_equivocating_proposer_cannot_make_two_certified_headers_and_is_reported() {
    // Validator 0 signs two different proposals every time it proposes.
    let byz = ByzantineConfig::new(Some(7)).with_equivocate_proposals(Trigger::Always);
    let (net, params) = network_with(4, &[], Some((0, byz))).await;
    until("height 8 everywhere", 180, || {
        net.heights().iter().all(|h| *h >= 8)
    })
    .await;
    // One chain: no height decided twice, every certificate valid.
    net.assert_one_chain();
    for app in &net.apps {
        check_certificates(app, &params);
    }
    // The honest validators saw the equivocation and reported it.
    until("evidence reported", 60, || {
        net.metrics[1..].iter().any(|m| m.evidence_count() > 0)
    })
    .await;
    net.stop_all().await;
}

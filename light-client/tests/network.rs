//! A producer and light clients over libp2p on 127.0.0.1: headers arrive by gossip, every height
//! is sampled to the target confidence, a peer gossiping or serving headers whose certificate
//! fails (under 2/3 of the power, a forged bitmap, a signature over another header, a validator
//! outside the set, another chain) is penalised and banned, and the honest chain is still
//! accepted.

use std::time::Duration;

use da_client::{ClientConfig, DaClient};
use da_light::{sampler::HeightStatus, LightClient, LightConfig, SamplerConfig};
use da_network::{NetworkClient, NetworkConfig, BAN_SCORE};
use da_node::NodeHandle;
use da_testkit::{forge, Cluster};
use da_types::{
    chain_hash, BlsSecretKey, CertifiedHeader, Genesis, GenesisValidator, Namespace, Trust,
    ValidatorSet,
};

const CHAIN: &str = "lc-test";

async fn light(c: &Cluster, node: &NodeHandle, seed: u64, listen: bool) -> LightClient {
    let mut config = c.light_config(da_testkit::p2p_addrs(node).await, seed);
    if listen {
        config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().expect("addr")];
    }
    c.start_light(config).await
}

async fn wait_final(lc: &LightClient, height: u64) -> HeightStatus {
    for _ in 0..300 {
        if let Some(s) = lc.status(height).filter(HeightStatus::is_final) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("height {height} never finished: {:?}", lc.status(height));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn light_clients_sample_every_new_height_to_the_target_confidence() {
    let c = Cluster::new(CHAIN);
    let node = c.producer().await;
    let lcs = [
        light(&c, &node, 1, false).await,
        light(&c, &node, 2, false).await,
    ];
    let client =
        DaClient::new(ClientConfig::new(format!("http://{}", node.grpc_addr))).expect("client");
    let ns = Namespace::new_v0(b"lc-test").expect("ns");
    // Wait until the light clients are connected and see headers, then post data.
    for lc in &lcs {
        for _ in 0..100 {
            if lc.head().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(lc.head().is_some(), "no header reached the light client");
    }
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let s = client.submit(&[(ns, data)], true).await.expect("submit");
    let h = s.heights[0].expect("included");
    for lc in &lcs {
        match wait_final(lc, h).await {
            HeightStatus::Available {
                confidence,
                samples,
                ..
            } => {
                assert!(confidence >= 0.9999, "{confidence}");
                let k = node
                    .store()
                    .block_index(h)
                    .expect("read")
                    .expect("stored")
                    .0;
                assert_eq!(
                    samples,
                    da_types::samples_for_confidence(k, 0.9999).expect("s")
                );
            }
            other => panic!("height {h}: {other:?}"),
        }
    }
    // Every height a light client saw is available (nothing is withheld here).
    for lc in &lcs {
        for (height, st) in lc.statuses() {
            assert!(
                !matches!(st, HeightStatus::Unavailable { .. }),
                "height {height}: {st:?}"
            );
        }
        lc.shutdown();
    }
    node.shutdown().await;
}

/// A far-future header certified by `stranger` alone, for its own one-validator set of this
/// chain id: a validator outside the trusted set.
fn outsider_header(stranger: &BlsSecretKey, height: u64) -> Vec<u8> {
    let set = ValidatorSet::new(vec![da_types::Validator {
        public_key: stranger.public_key(),
        power: 1,
    }])
    .expect("set");
    let chain = chain_hash(CHAIN);
    forge::certify(
        forge::block_header(chain, &set, height, [1; 32], 0),
        &chain,
        &set,
        &[stranger],
    )
    .to_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_headers_are_rejected_and_their_sender_banned() {
    let c = Cluster::new(CHAIN);
    let node = c.producer().await;
    let lc = light(&c, &node, 3, true).await;
    let (forger, _events) = da_network::start(NetworkConfig::local(CHAIN, true))
        .await
        .expect("forger");
    let lc_addr = lc.network().listen_addrs().await.expect("addrs").remove(0);
    forger.dial(lc_addr).await.expect("dial");
    // Well-formed headers for far-future heights, certified by a validator nobody trusts.
    let stranger = BlsSecretKey::from_ikm(&[9; 32]);
    let mut sent = 0;
    for i in 0..100u64 {
        if forger
            .publish_header(outsider_header(&stranger, 1_000_000 + i))
            .await
            .is_ok()
        {
            sent += 1;
        }
        if lc.network().score(forger.peer_id()).await.expect("score") <= BAN_SCORE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(sent >= 2, "forged headers were never published");
    assert!(lc.network().score(forger.peer_id()).await.expect("score") <= BAN_SCORE);
    assert!(lc.metrics().headers_rejected_for("wrong_validator_set") >= 2);
    // The ban disconnects the forger; the connection close may land a moment after the score.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while lc
        .network()
        .peers()
        .await
        .expect("peers")
        .contains(&forger.peer_id())
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!lc
        .network()
        .peers()
        .await
        .expect("peers")
        .contains(&forger.peer_id()));
    assert!(
        lc.statuses().iter().all(|(h, _)| *h < 1_000_000),
        "a forged height was sampled"
    );
    // The honest producer is still a peer and its heights are still sampled.
    assert!(lc
        .network()
        .peers()
        .await
        .expect("peers")
        .contains(&node.p2p.as_ref().expect("p2p").peer_id()));
    let before = lc.head().unwrap_or(0);
    let next = before + 2;
    let st = wait_final(&lc, next).await;
    assert!(matches!(st, HeightStatus::Available { .. }), "{st:?}");
    lc.shutdown();
    forger.shutdown();
    node.shutdown().await;
}

/// The validators of the forgery tests: `A` (the producer) holds 10 of 13 power, `B`, `C`, `D`
/// one each; `O` is outside the set.
struct Keys {
    a: BlsSecretKey,
    b: BlsSecretKey,
    c: BlsSecretKey,
    d: BlsSecretKey,
    o: BlsSecretKey,
}

fn keys() -> Keys {
    let k = |i: u8| BlsSecretKey::from_ikm(&[i; 32]);
    Keys {
        a: k(10),
        b: k(11),
        c: k(12),
        d: k(13),
        o: k(14),
    }
}

/// A cluster whose genesis is A (10), B, C, D (1 each): A alone is a quorum, so the producer
/// (holding A's key) certifies every block by itself; B, C and D together are not.
fn four_validators(k: &Keys) -> Cluster {
    let genesis = Genesis {
        chain_id: CHAIN.into(),
        genesis_time_ms: 0,
        validators: vec![
            GenesisValidator::new(&k.a, 10),
            GenesisValidator::new(&k.b, 1),
            GenesisValidator::new(&k.c, 1),
            GenesisValidator::new(&k.d, 1),
        ],
        max_square_k: 256,
        dedup_window: da_types::DEFAULT_DEDUP_WINDOW,
        attestation_window: 0,
    };
    Cluster::with_genesis(genesis, k.a.clone())
}

/// One kind of forged certificate: its name, the rejection reason the light client must count,
/// and how to build one at a height.
type Forgery = (
    &'static str,
    &'static str,
    Box<dyn Fn(u64) -> CertifiedHeader>,
);

fn forgeries(trust: &Trust, k: &Keys) -> Vec<Forgery> {
    let (chain, set) = (trust.chain(), trust.set().clone());
    let n = set.len() as u16;
    let index = |key: &BlsSecretKey| set.index_of(&key.public_key()).expect("in the set");
    let header = {
        let set = set.clone();
        move |height: u64| forge::block_header(chain, &set, height, [1; 32], height)
    };
    let mut out: Vec<Forgery> = Vec::new();
    {
        // B, C and D sign: 3 of 13, not more than 2/3.
        let (header, set) = (header.clone(), set.clone());
        let (b, c, d) = (k.b.clone(), k.c.clone(), k.d.clone());
        out.push((
            "under 2/3 of the power",
            "insufficient_power",
            Box::new(move |h| forge::certify(header(h), &chain, &set, &[&b, &c, &d])),
        ));
    }
    {
        // B signs; the bitmap claims all four (13 of 13): the aggregate key is not B's.
        let header = header.clone();
        let b = k.b.clone();
        let all = [index(&k.a), index(&k.b), index(&k.c), index(&k.d)];
        out.push((
            "a forged bitmap",
            "bad_signature",
            Box::new(move |h| {
                let block = header(h);
                let id = block.id();
                let sig = forge::precommit(&b, &chain, h, &id);
                CertifiedHeader {
                    certificate: forge::certificate(n, h, id, &all, &[sig]),
                    block,
                }
            }),
        ));
    }
    {
        // A (a quorum alone) signs another header; the certificate names this one.
        let a = k.a.clone();
        let ia = index(&k.a);
        out.push((
            "a signature over another header",
            "bad_signature",
            Box::new(move |h| {
                let block = header(h);
                let mut other = block.header;
                other.timestamp_ms += 1;
                let sig = forge::precommit(&a, &chain, h, &other.id());
                CertifiedHeader {
                    certificate: forge::certificate(n, h, block.id(), &[ia], &[sig]),
                    block,
                }
            }),
        ));
    }
    {
        // O, outside the set, certifies a header naming its own one-validator set.
        let o = k.o.clone();
        let own = ValidatorSet::new(vec![da_types::Validator {
            public_key: o.public_key(),
            power: 1,
        }])
        .expect("set");
        out.push((
            "a validator outside the set",
            "wrong_validator_set",
            Box::new(move |h| {
                forge::certify(
                    forge::block_header(chain, &own, h, [1; 32], h),
                    &chain,
                    &own,
                    &[&o],
                )
            }),
        ));
    }
    {
        // A certifies a header of another chain (the signature is valid there).
        let a = k.a.clone();
        let other = chain_hash("another-chain");
        let set = set.clone();
        out.push((
            "a wrong chain",
            "wrong_chain",
            Box::new(move |h| {
                forge::certify(
                    forge::block_header(other, &set, h, [1; 32], h),
                    &other,
                    &set,
                    &[&a],
                )
            }),
        ));
    }
    out
}

/// A fresh peer that dials `lc` (to gossip at it).
async fn forger_at(lc: &LightClient) -> NetworkClient {
    let (forger, _events) = da_network::start(NetworkConfig::local(CHAIN, true))
        .await
        .expect("forger");
    let lc_addr = lc.network().listen_addrs().await.expect("addrs").remove(0);
    forger.dial(lc_addr).await.expect("dial");
    forger
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_forged_certificate_is_rejected_its_sender_penalised_and_the_chain_kept() {
    let k = keys();
    let c = four_validators(&k);
    let node = c.producer().await;
    let lc = light(&c, &node, 21, true).await;
    let trust = c.trust().clone();
    // Sanity: the forgeries are well formed, and only their certificates fail, for the
    // intended rule.
    for (what, reason, make) in forgeries(&trust, &k) {
        let h = make(2_000_000);
        let back = CertifiedHeader::from_bytes(&h.to_bytes()).expect(what);
        assert_eq!(
            trust.verify(&back).expect_err(what).reason(),
            reason,
            "{what}"
        );
    }
    for (i, (what, reason, make)) in forgeries(&trust, &k).into_iter().enumerate() {
        // Each kind from its own peer, so each penalty is that forgery's.
        let forger = forger_at(&lc).await;
        let before = lc.metrics().headers_rejected_for(reason);
        let mut rejected = false;
        for j in 0..100u64 {
            let height = 1_000_000 + 1_000 * i as u64 + j;
            let _ = forger.publish_header(make(height).to_bytes()).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            if lc.metrics().headers_rejected_for(reason) > before
                && lc.network().score(forger.peer_id()).await.expect("score") < 0
            {
                rejected = true;
                break;
            }
        }
        assert!(
            rejected,
            "{what}: not rejected as {reason} with its sender penalised (score {})",
            lc.network().score(forger.peer_id()).await.expect("score")
        );
        forger.shutdown();
    }
    assert!(
        lc.statuses().iter().all(|(h, _)| *h < 1_000_000),
        "a forged height was sampled"
    );
    // The honest chain, certified by A alone, is still accepted and sampled.
    let next = lc.head().unwrap_or(0) + 2;
    let st = wait_final(&lc, next).await;
    assert!(matches!(st, HeightStatus::Available { .. }), "{st:?}");
    let producer = node.p2p.as_ref().expect("p2p").peer_id();
    assert_eq!(lc.network().score(producer).await.expect("score"), 0);
    lc.shutdown();
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_serving_an_uncertified_head_is_penalised_and_the_real_chain_caught_up() {
    let k = keys();
    let c = four_validators(&k);
    let node = c.producer().await;
    da_testkit::wait::height(&node, 3).await;
    // A serving peer whose every header range is one header certified by B, C and D only.
    let (liar, events) = da_network::start(NetworkConfig::local(CHAIN, true))
        .await
        .expect("network");
    let forged = forgeries(c.trust(), &k)
        .into_iter()
        .next()
        .map(|(_, _, make)| make(500).to_bytes())
        .expect("a forgery");
    da_testkit::forge::serve_only_headers(events, vec![forged]);
    let lc = c
        .start_light(c.light_config(liar.listen_addrs().await.expect("addrs"), 9))
        .await;
    let mut penalised = false;
    for _ in 0..100 {
        if lc.network().score(liar.peer_id()).await.expect("score") < 0 {
            penalised = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        penalised,
        "the peer serving an uncertified head was not penalised"
    );
    assert!(lc.metrics().headers_rejected_for("insufficient_power") >= 1);
    assert_eq!(lc.head(), None, "an uncertified head was accepted");
    // Given the honest producer, the light client follows the real chain.
    for a in da_testkit::p2p_addrs(&node).await {
        lc.network().dial(a).await.expect("dial the producer");
    }
    let h = da_testkit::wait::head(&node) + 1;
    let st = wait_final(&lc, h).await;
    assert!(matches!(st, HeightStatus::Available { .. }), "{st:?}");
    lc.shutdown();
    liar.shutdown();
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_devnet_runs_light_clients_that_sample_from_both_nodes() {
    let dir = tempfile::tempdir().expect("tmp");
    let net = da_cli::devnet::Devnet::start(da_cli::devnet::DevnetOptions {
        block_time_ms: 300,
        token: "t".into(),
        light_clients: 2,
        ..da_cli::devnet::DevnetOptions::local(dir.path().to_path_buf(), "devnet-lc")
    })
    .await
    .expect("devnet");
    assert_eq!(net.light.len(), 2);
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&net.info_path).expect("devnet.json")).expect("json");
    assert_eq!(info["light_clients"].as_array().map(Vec::len), Some(2));
    // Each light client's API answers at the URL devnet.json gives, as that light client.
    for (i, lc) in net.light.iter().enumerate() {
        let entry = &info["light_clients"][i];
        assert_eq!(
            entry["peer_id"].as_str(),
            Some(lc.network().peer_id().to_string().as_str())
        );
        let api = entry["api"].as_str().expect("an API URL");
        assert_eq!(api, net.light_endpoints[i].api);
        let addr: std::net::SocketAddr = api
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .expect("http://IP:PORT");
        let (code, body) = http_get(addr, "/status").await;
        assert_eq!(code, 200, "{api}/status: {body}");
        let status: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(status["peer_id"], entry["peer_id"], "{status}");
    }
    assert!(info["nodes"][0]["p2p"][0]
        .as_str()
        .is_some_and(|a| a.contains("/p2p/")));
    // devnet.json lists the genesis every participant trusts: the producer is its one validator.
    let genesis_path = info["genesis"].as_str().expect("genesis path");
    assert_eq!(std::path::Path::new(genesis_path), net.genesis.as_path());
    let genesis =
        Genesis::from_json(&std::fs::read_to_string(genesis_path).expect("read")).expect("genesis");
    let trust = Trust::from_genesis(&genesis).expect("valid");
    assert_eq!(trust.chain_id(), "devnet-lc");
    assert_eq!(trust.set().len(), 1);
    let validator = net
        .producer()
        .expect("an in-process validator")
        .validator_key()
        .expect("the producer is a validator");
    assert_eq!(trust.set().index_of(&validator), Some(0));
    assert_eq!(
        info["nodes"][0]["validator_key"].as_str(),
        Some(validator.to_string().as_str())
    );
    assert!(info["nodes"][1].get("validator_key").is_none());
    assert_eq!(net.full.trust(), &trust);
    for lc in &net.light {
        let mut available = false;
        for _ in 0..200 {
            if lc
                .statuses()
                .iter()
                .any(|(_, s)| matches!(s, HeightStatus::Available { .. }))
            {
                available = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            available,
            "a devnet light client never marked a height available"
        );
        // It samples from the producer and the full node.
        let peers = lc.network().peers().await.expect("peers");
        assert!(peers.contains(&producer_peer(&net)));
        assert!(peers.contains(&net.full.p2p.as_ref().expect("p2p").peer_id()));
    }
    net.shutdown().await;
}

/// The libp2p peer id of the devnet's in-process validator.
fn producer_peer(net: &da_cli::devnet::Devnet) -> da_network::PeerId {
    net.producer()
        .expect("an in-process validator")
        .p2p
        .as_ref()
        .expect("p2p")
        .peer_id()
}

async fn faulty_devnet(
    dir: &std::path::Path,
    withhold: f64,
    corrupt: bool,
) -> da_cli::devnet::Devnet {
    faulty_devnet_at(dir, withhold, Vec::new(), corrupt).await
}

async fn faulty_devnet_at(
    dir: &std::path::Path,
    withhold: f64,
    heights: Vec<u64>,
    corrupt: bool,
) -> da_cli::devnet::Devnet {
    da_cli::devnet::Devnet::start(da_cli::devnet::DevnetOptions {
        token: "t".into(),
        light_clients: 2,
        withhold,
        corrupt_proofs: corrupt,
        withhold_heights: heights,
        // A full node that cannot repair a block says "not yet" forever: give up sooner.
        light_sampler: da_light::SamplerConfig {
            patience: Duration::from_secs(3),
            ..Default::default()
        },
        ..da_cli::devnet::DevnetOptions::local(dir.to_path_buf(), "devnet-faults")
    })
    .await
    .expect("devnet")
}

/// Waits until every light client has `n` final verdicts; returns them.
async fn verdicts(net: &da_cli::devnet::Devnet, n: usize) -> Vec<Vec<(u64, HeightStatus)>> {
    for _ in 0..300 {
        let all: Vec<Vec<(u64, HeightStatus)>> = net
            .light
            .iter()
            .map(|lc| {
                lc.statuses()
                    .into_iter()
                    .filter(|(_, s)| s.is_final())
                    .collect()
            })
            .collect();
        if all.iter().all(|v| v.len() >= n) {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("light clients did not reach {n} verdicts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withholding_half_the_cells_is_reported_unavailable_never_available() {
    let dir = tempfile::tempdir().expect("tmp");
    let net = faulty_devnet(dir.path(), 0.5, false).await;
    for (i, v) in verdicts(&net, 4).await.iter().enumerate() {
        for (h, st) in v {
            assert!(
                matches!(st, HeightStatus::Unavailable { .. }),
                "light client {i} marked withheld height {h} {st:?}"
            );
        }
    }
    // Withholding is not misbehaviour the network can see: the nodes are not banned.
    let lc = &net.light[0];
    let producer = producer_peer(&net);
    assert!(lc.network().score(producer).await.expect("score") > da_network::BAN_SCORE);
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_proofs_are_rejected_the_peer_penalised_and_the_honest_node_used() {
    let dir = tempfile::tempdir().expect("tmp");
    let net = faulty_devnet(dir.path(), 0.0, true).await;
    for (i, v) in verdicts(&net, 3).await.iter().enumerate() {
        for (h, st) in v {
            assert!(
                matches!(st, HeightStatus::Available { .. }),
                "light client {i}, height {h}: {st:?} (the producer is honest)"
            );
        }
    }
    // Live sampling may finish on the producer before the full node has imported a block; a
    // light client joining now catches up heights both nodes have, and meets the corruption.
    let producer = producer_peer(&net);
    let full = net.full.p2p.as_ref().expect("p2p").peer_id();
    let mut bootstrap = net
        .producer()
        .expect("an in-process validator")
        .p2p
        .as_ref()
        .expect("p2p")
        .listen_addrs()
        .await
        .expect("a");
    bootstrap.extend(
        net.full
            .p2p
            .as_ref()
            .expect("p2p")
            .listen_addrs()
            .await
            .expect("a"),
    );
    let late = LightClient::start(
        LightConfig {
            trust: net.full.trust().clone(),
            bootstrap,
            listen: Vec::new(),
            sampler: SamplerConfig::default(),
            seed: Some(7),
        },
        da_testkit::cluster::verifier(),
    )
    .await
    .expect("late light client");
    let mut penalised = false;
    for _ in 0..300 {
        if late.network().score(full).await.expect("score") < 0 {
            penalised = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(penalised, "the corrupting full node was not penalised");
    let p = da_testkit::wait::caught_up(&late).await;
    for h in p.from..=p.to {
        match late.status(h) {
            Some(HeightStatus::Available { .. }) => {}
            other => panic!("late light client, height {h}: {other:?}"),
        }
    }
    assert_eq!(late.network().score(producer).await.expect("score"), 0);
    late.shutdown();
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withholding_below_the_bound_is_repaired_by_the_full_node_and_available() {
    let dir = tempfile::tempdir().expect("tmp");
    // The producer withholds 20% of every square (recoverable): the full node syncs over libp2p,
    // repairs, and serves every cell, so light clients find every height available.
    let net = faulty_devnet(dir.path(), 0.2, false).await;
    for (i, v) in verdicts(&net, 3).await.iter().enumerate() {
        for (h, st) in v {
            assert!(
                matches!(st, HeightStatus::Available { .. }),
                "light client {i}, height {h}: {st:?} (recoverable withholding)"
            );
        }
    }
    // The full node stored every cell of what it imported, the withheld ones included.
    let store = &net.full.store();
    let head = store
        .head()
        .expect("head")
        .expect("the full node imported blocks");
    for h in 1..=head {
        let (k, _) = store.block_index(h).expect("read").expect("stored");
        for r in 0..2 * k {
            for c in 0..da_types::consts::CELLS_PER_ROW {
                assert!(
                    store.cell(h, k, r, c).expect("read").is_some(),
                    "height {h}: cell ({r}, {c}) missing at the full node"
                );
            }
        }
    }
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_light_client_catches_up_the_window_behind_the_head() {
    let c = Cluster::new(CHAIN);
    let node = c.producer().await;
    // Let the chain grow before the light client exists: it hears none of it by gossip.
    da_testkit::wait::height(&node, 8).await;
    let lc = c
        .start_light(LightConfig {
            sampler: SamplerConfig {
                window: 5,
                ..SamplerConfig::default()
            },
            ..c.light_config(da_testkit::p2p_addrs(&node).await, 3)
        })
        .await;
    let p = da_testkit::wait::caught_up(&lc).await;
    assert!(
        p.to >= 7,
        "catch-up must reach below the head it found: {p:?}"
    );
    assert_eq!(p.total, 5, "the window bounds the catch-up: {p:?}");
    assert_eq!(p.from, p.to - 4);
    for h in p.from..=p.to {
        match lc.status(h) {
            Some(HeightStatus::Available { .. }) => {}
            other => panic!("height {h}: {other:?}"),
        }
        let stats = lc.stats(h).expect("stats");
        assert!(stats.bytes > 0 && stats.requests > 0, "{stats:?}");
    }
    // Heights below the window are not sampled.
    assert!(lc.status(p.from - 1).is_none());
    lc.shutdown();
    node.shutdown().await;
}

/// A raw HTTP/1.1 GET; returns status and body.
/// Serves `lc`'s HTTP API on an ephemeral port until the token is cancelled.
async fn serve_api(
    lc: &LightClient,
) -> (std::net::SocketAddr, tokio_util::sync::CancellationToken) {
    let listener = da_light::api::bind("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let cancel = tokio_util::sync::CancellationToken::new();
    tokio::spawn(da_light::api::serve(
        listener,
        lc.clone(),
        da_http::ServerLimits::default(),
        cancel.clone(),
    ));
    (addr, cancel)
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let a = da_testkit::http::get(addr, path).await;
    (a.status, a.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_serves_status_heights_verified_namespaces_and_metrics() {
    let c = Cluster::new(CHAIN);
    let node = c.producer().await;
    let lc = light(&c, &node, 11, false).await;
    let (addr, cancel) = serve_api(&lc).await;
    let client =
        DaClient::new(ClientConfig::new(format!("http://{}", node.grpc_addr))).expect("client");
    let ns = Namespace::new_v0(b"api-test").expect("ns");
    let other = Namespace::new_v0(b"elsewhere").expect("ns");
    for _ in 0..100 {
        if !lc.serving_peers().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let blobs = vec![
        (ns, b"first blob of the namespace".to_vec()),
        (ns, vec![7u8; 5000]),
        (other, b"not ours".to_vec()),
    ];
    let s = client.submit(&blobs, true).await.expect("submit");
    let h = s.heights[0].expect("included");
    wait_final(&lc, h).await;

    // Namespace fetch-and-verify, in the library and over HTTP.
    let got = lc.namespace_blobs(h, ns).await.expect("namespace");
    let datas: Vec<&[u8]> = got.iter().map(|b| b.data.as_slice()).collect();
    assert_eq!(datas.len(), 2);
    assert!(datas.contains(&&b"first blob of the namespace"[..]));
    assert!(datas.contains(&&vec![7u8; 5000][..]));
    let empty = Namespace::new_v0(b"nobody").expect("ns");
    assert!(lc
        .namespace_blobs(h, empty)
        .await
        .expect("empty ns")
        .is_empty());
    let (code, body) = http_get(
        addr,
        &format!("/namespaces/{h}/{}", hex::encode(ns.as_bytes())),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["blobs"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["availability"]["state"], "available");

    let (code, body) = http_get(addr, "/status").await;
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert!(v["head"].as_u64().is_some_and(|x| x >= h), "{v}");
    assert!(
        v["heights"]["available"].as_u64().is_some_and(|x| x >= 1),
        "{v}"
    );
    let (code, body) = http_get(addr, &format!("/heights/{h}")).await;
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["state"], "available");
    assert!(v["confidence"].as_f64().is_some_and(|c| c >= 0.9999));
    assert!(v["bytes_received"].as_u64().is_some_and(|b| b > 0));
    let one = v;

    // The page's data: /heights lists what /heights/{h} says, newest first.
    let (code, body) = http_get(addr, "/heights?limit=1000").await;
    assert_eq!(code, 200, "{body}");
    let list: serde_json::Value = serde_json::from_str(&body).expect("json");
    let hs = list["heights"].as_array().expect("heights");
    let listed = hs.iter().find(|x| x["height"] == h).expect("h listed");
    assert_eq!(listed["state"], one["state"]);
    assert_eq!(listed["confidence"], one["confidence"]);
    assert_eq!(listed["samples_done"], one["samples_done"]);
    let order: Vec<u64> = hs.iter().filter_map(|x| x["height"].as_u64()).collect();
    assert!(
        order.windows(2).all(|w| w[0] > w[1]),
        "newest first: {order:?}"
    );
    let (_, body) = http_get(addr, "/heights?limit=2").await;
    let two: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        two["heights"].as_array().map(Vec::len),
        Some(2.min(hs.len()))
    );
    // Its sampled cells, the bound they are checked against and the certificate's signers.
    let (code, body) = http_get(addr, &format!("/heights/{h}/samples")).await;
    assert_eq!(code, 200, "{body}");
    let d: serde_json::Value = serde_json::from_str(&body).expect("json");
    let header = client.header(h).await.expect("header");
    let k = u64::from(header.block.k);
    assert_eq!(d["k"].as_u64(), Some(k));
    assert_eq!(d["rows"].as_u64(), Some(2 * k));
    assert_eq!(d["cols"].as_u64(), Some(128));
    assert_eq!(d["state"], "available");
    let cells = d["cells"].as_array().expect("cells");
    assert_eq!(Some(cells.len() as u64), one["samples_done"].as_u64());
    assert_eq!(d["counts"]["verified"], one["samples_done"]);
    assert_eq!(d["counts"]["missing"], 0);
    assert!(cells
        .iter()
        .all(|c| c[0].as_u64() < Some(2 * k) && c[1].as_u64() < Some(128) && c[2] == "verified"));
    assert_eq!(d["bound"]["min_withheld"].as_u64(), Some((k + 1) * 65));
    assert_eq!(d["bound"]["extended_cells"].as_u64(), Some(256 * k));
    assert_eq!(d["bound"]["confidence"], one["confidence"]);
    let cert = &d["certificate"];
    let signed = cert["signed_power"].as_u64().expect("signed power");
    let total = cert["total_power"].as_u64().expect("total power");
    assert!(3 * signed > 2 * total, "{cert}");
    assert_eq!(
        cert["signers"].as_u64(),
        Some(header.certificate.signers.count() as u64)
    );
    assert_eq!(
        cert["blob_count"].as_u64(),
        Some(u64::from(header.block.blob_count))
    );
    // Peers with their scores: the producer serves and has not misbehaved.
    let (code, body) = http_get(addr, "/peers").await;
    assert_eq!(code, 200, "{body}");
    let p: serde_json::Value = serde_json::from_str(&body).expect("json");
    let producer = node.p2p.as_ref().expect("p2p").peer_id().to_string();
    let me = p["peers"]
        .as_array()
        .expect("peers")
        .iter()
        .find(|x| x["peer_id"] == producer.as_str())
        .expect("the producer is a peer");
    assert_eq!(me["serving"], true);
    assert!(me["score"]
        .as_i64()
        .is_some_and(|s| s > da_network::BAN_SCORE as i64));
    // The page itself: HTML that reads only this API's endpoints and loads nothing from
    // elsewhere.
    let (code, page) = http_get(addr, "/").await;
    assert_eq!(code, 200);
    assert!(
        page.starts_with("<!doctype html>"),
        "{}",
        &page[..80.min(page.len())]
    );
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "an external load"
    );
    for endpoint in [
        "/status",
        "/heights?limit=",
        "/heights/",
        "/samples",
        "/peers",
        "/subscribe",
    ] {
        assert!(
            page.contains(&format!("\"{endpoint}")),
            "the page reads {endpoint}"
        );
    }

    let (code, body) = http_get(addr, "/metrics").await;
    assert_eq!(code, 200);
    for m in [
        "da_light_head",
        "da_light_samples_verified_total",
        "da_light_latency_seconds_bucket",
        "da_light_peers",
        "da_light_p2p_dropped_events_total{kind=\"header\"}",
    ] {
        assert!(body.contains(m), "{m} missing from /metrics");
    }
    // Bad input gets a clear error with the right status.
    for (path, want) in [
        ("/heights/abc".to_string(), 400),
        ("/heights/99999999".to_string(), 404),
        ("/heights?limit=0".to_string(), 400),
        ("/heights?limit=x".to_string(), 400),
        ("/heights/abc/samples".to_string(), 400),
        ("/heights/99999999/samples".to_string(), 404),
        (format!("/namespaces/{h}/zz"), 400),
        (format!("/namespaces/{h}/00ff"), 400),
        (
            format!("/namespaces/99999999/{}", hex::encode(ns.as_bytes())),
            404,
        ),
        ("/nope".to_string(), 404),
    ] {
        let (code, body) = http_get(addr, &path).await;
        assert_eq!(code, want, "{path}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("json error body");
        assert!(
            v["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{path}: {body}"
        );
    }
    // The subscription streams verdicts as server-sent events.
    let (code, body) = {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /subscribe HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let mut buf = vec![0u8; 4096];
        let mut text = String::new();
        for _ in 0..50 {
            let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
                .await
                .expect("an event within 10 s")
                .expect("read");
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
            if text.contains("event: status") {
                break;
            }
        }
        (text[9..12].parse::<u16>().expect("status"), text)
    };
    assert_eq!(code, 200);
    assert!(
        body.contains("event: status") && body.contains("\"state\""),
        "{body}"
    );
    cancel.cancel();
    lc.shutdown();
    node.shutdown().await;
}

/// Namespaces no blob may use, as raw bytes: reserved ones (the index's, the largest primary
/// reserved, parity), another version, a broken zero prefix, and wrong lengths.
fn bad_namespaces() -> Vec<Vec<u8>> {
    let ok = *Namespace::new_v0(b"fine").expect("ns").as_bytes();
    let mut v1 = ok;
    v1[0] = 1;
    let mut prefix = ok;
    prefix[5] = 1;
    vec![
        Namespace::INDEX.as_bytes().to_vec(),
        Namespace::MAX_PRIMARY_RESERVED.as_bytes().to_vec(),
        Namespace::PARITY.as_bytes().to_vec(),
        v1.to_vec(),
        prefix.to_vec(),
        vec![0xff; 28],
        vec![0; 30],
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_and_malformed_namespaces_are_refused_on_every_read_path() {
    let c = Cluster::new(CHAIN);
    let node = c.producer().await;
    let lc = light(&c, &node, 13, false).await;
    let (addr, cancel) = serve_api(&lc).await;
    let h = 1;
    wait_final(&lc, h).await;
    // The light client's API and library.
    for bad in bad_namespaces() {
        let (code, body) = http_get(addr, &format!("/namespaces/{h}/{}", hex::encode(&bad))).await;
        assert_eq!(code, 400, "{bad:02x?}: {body}");
        if let Ok(ns) = Namespace::from_raw(&bad) {
            assert!(
                matches!(
                    lc.namespace_blobs(h, ns).await,
                    Err(da_light::client::FetchError::Namespace { .. })
                ),
                "{ns}"
            );
        }
    }
    // The node's p2p server: a peer asking for one is not answered and is penalised as
    // malformed, repeatedly until banned; the light client's honest requests are still served.
    let node_net = node.p2p.as_ref().expect("p2p");
    let (peer, _events) = da_network::start(NetworkConfig::local(CHAIN, false))
        .await
        .expect("peer");
    peer.dial(node_net.listen_addrs().await.expect("addrs").remove(0))
        .await
        .expect("dial");
    let mut last = 0;
    for (i, bad) in bad_namespaces().into_iter().enumerate() {
        let asked = peer
            .request(
                node_net.peer_id(),
                da_network::Request::Namespace(da_proto::v1::NamespaceRequest {
                    height: h,
                    namespace: bad.clone(),
                }),
            )
            .await;
        assert!(asked.is_err(), "{bad:02x?} was answered: {asked:?}");
        let mut score = 0;
        for _ in 0..50 {
            score = node_net.score(peer.peer_id()).await.expect("score");
            if score < last || score <= BAN_SCORE {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            score < last || score <= BAN_SCORE,
            "request {i} ({bad:02x?}) cost nothing: score {score}"
        );
        last = score;
        if score <= BAN_SCORE {
            break;
        }
    }
    assert!(last <= BAN_SCORE, "never banned: score {last}");
    let ns = Namespace::new_v0(b"nobody").expect("ns");
    assert!(lc.namespace_blobs(h, ns).await.expect("served").is_empty());
    peer.shutdown();
    cancel.cancel();
    lc.shutdown();
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_withheld_heights_are_unavailable() {
    let dir = tempfile::tempdir().expect("tmp");
    // Heights 3 and 4 lose half of every square (unrecoverable); the rest is served whole.
    let net = faulty_devnet_at(dir.path(), 0.5, vec![3, 4], false).await;
    for _ in 0..300 {
        let done = net
            .light
            .iter()
            .all(|lc| (1..=6).all(|h| lc.status(h).is_some_and(|s| s.is_final())));
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (i, lc) in net.light.iter().enumerate() {
        for h in 1..=6u64 {
            let st = lc.status(h);
            let withheld = h == 3 || h == 4;
            match st {
                Some(HeightStatus::Unavailable { .. }) if withheld => {}
                Some(HeightStatus::Available { .. }) if !withheld => {}
                other => panic!("light client {i}, height {h} (withheld: {withheld}): {other:?}"),
            }
        }
    }
    net.shutdown().await;
}

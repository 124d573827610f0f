//! Validators deciding blocks with the BFT engine: real nodes (RocksDB stores, gRPC, libp2p,
//! the engine's own network) on 127.0.0.1. Four validators decide the same chain of real
//! squares with certificates of more than 2/3 of the power; a blob submitted to one validator
//! is included; a full node follows them over libp2p and verifies every certificate. Each
//! decided block is proven by its proposer only: the other validators take its proven rows over
//! libp2p. The chain's window headers commit to the L1 oracle in revm, every height's data root
//! is attested, and a byte of the submitted blob is proven published on L1.

use std::time::Duration;

use da_client::{ClientConfig, DaClient};
use da_node::{genesis::write_validator_key, NodeConfig, NodeHandle};
use da_testkit::{gen, wait, Cluster};
use da_types::{BlsSecretKey, Genesis, GenesisValidator};

const CHAIN: &str = "bft-test";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn consensus_addr(port: u16) -> String {
    format!("/ip4/127.0.0.1/tcp/{port}")
}

/// Four validators of equal power on 127.0.0.1, each with its own store, gRPC, libp2p and
/// consensus address; validator 0's configuration goes through `faulty` (fault injection). Also
/// returns validator 0's index in the set (the header's `proposer` when it proposed).
async fn four_validators(
    faulty: impl Fn(NodeConfig) -> NodeConfig,
) -> (Cluster, Vec<NodeHandle>, u32) {
    let keys: Vec<BlsSecretKey> = (0..4)
        .map(|_| BlsSecretKey::generate(&mut rand::rngs::OsRng))
        .collect();
    let genesis = Genesis {
        chain_id: CHAIN.into(),
        genesis_time_ms: 1,
        validators: keys.iter().map(|k| GenesisValidator::new(k, 1)).collect(),
        max_square_k: 8,
        dedup_window: da_types::DEFAULT_DEDUP_WINDOW,
        attestation_window: 4,
    };
    let cluster = Cluster::with_genesis(genesis, keys[0].clone());
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let mut validators: Vec<NodeHandle> = Vec::new();
    let mut bootstrap: Vec<String> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let dir = cluster.dir();
        write_validator_key(&dir.join("validator_key"), key).expect("validator key");
        let config = NodeConfig {
            genesis: Some(cluster.genesis_path()),
            max_square_k: 8,
            max_blob_bytes: 400_000,
            block_time_ms: 500,
            consensus_listen: Some(consensus_addr(ports[i])),
            consensus_peers: (0..4)
                .filter(|j| *j != i)
                .map(|j| consensus_addr(ports[j]))
                .collect(),
            p2p_bootstrap: bootstrap.clone(),
            ..da_testkit::cluster::node_config(CHAIN, &dir)
        };
        let config = if i == 0 { faulty(config) } else { config };
        let v = cluster.start(config).await;
        bootstrap.extend(
            da_testkit::cluster::p2p_addrs(&v)
                .await
                .iter()
                .map(ToString::to_string),
        );
        validators.push(v);
    }
    let first = cluster
        .trust()
        .set()
        .index_of(&keys[0].public_key())
        .expect("in the set");
    (cluster, validators, first as u32)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_validators_decide_one_chain_and_a_full_node_follows() {
    let (cluster, validators, _) = four_validators(|c| c).await;
    let full = cluster.full(&validators[0]).await;

    // A blob submitted to validator 0 is included once it proposes.
    let client = DaClient::new(ClientConfig::new(format!(
        "http://{}",
        validators[0].grpc_addr
    )))
    .expect("client");
    let ns = gen::namespace(b"bft");
    let blob = gen::bytes(7, 100_000);
    let submitted = tokio::time::timeout(
        Duration::from_secs(120),
        client.submit(&[(ns, blob.clone())], true),
    )
    .await
    .expect("included within 120 s")
    .expect("submit");
    let included_at = submitted.heights[0].expect("an inclusion height");

    // Past the end of the attestation window (4 heights) that holds the blob.
    let target = included_at.div_ceil(4) * 4 + 1;
    for v in &validators {
        wait::until(
            &format!("validator at height {target}"),
            Duration::from_secs(120),
            || (wait::head(v) >= target).then_some(()),
        )
        .await;
    }
    wait::until(
        &format!("full node at height {target}"),
        Duration::from_secs(120),
        || (wait::head(&full) >= target).then_some(()),
    )
    .await;

    // One chain everywhere, every header certified by more than 2/3 of the set.
    let trust = cluster.trust();
    for h in 1..=target {
        let first = validators[0]
            .store()
            .header(h)
            .expect("read")
            .expect("stored");
        let power = trust.verify(&first).expect("a valid certificate");
        assert!(trust.set().has_quorum(power));
        for (i, v) in validators.iter().enumerate().skip(1) {
            let other = v.store().header(h).expect("read").expect("stored");
            assert_eq!(other.id(), first.id(), "validator {i} differs at {h}");
        }
        let followed = full.store().header(h).expect("read").expect("stored");
        assert_eq!(followed.id(), first.id(), "full node differs at {h}");
    }
    // Height 4 ends the first attestation window (4 heights): its header commits to the
    // window's tuples; the others carry none.
    let roots: Vec<[u8; 32]> = (1..=target)
        .map(|h| {
            let c = full.store().header(h).expect("read").expect("stored");
            c.block.header.data_root
        })
        .collect();
    for h in 1..=target {
        let c = full.store().header(h).expect("read").expect("stored");
        let expected = if h % 4 == 0 {
            da_types::attestation::tuple_root(h - 3, &roots[(h - 4) as usize..h as usize])
        } else {
            [0; 32]
        };
        assert_eq!(c.block.header.tuple_root, expected, "tuple_root at {h}");
    }
    relay_and_prove(
        &full,
        trust,
        target,
        included_at,
        &da_types::Blob::new(ns, blob.clone()).expect("blob"),
    );
    // The blob is stored at every validator at the same height.
    let id = da_types::Blob::new(ns, blob).expect("blob").id();
    for v in &validators {
        assert_eq!(v.store().blob_height(&id).expect("read"), Some(included_at));
    }
    // Each block was proven once, by its proposer; the others fetched and verified its rows.
    let proved: u64 = validators
        .iter()
        .map(|v| v.metrics().decided_blocks("proved"))
        .sum();
    let fetched: u64 = validators
        .iter()
        .map(|v| v.metrics().decided_blocks("fetched"))
        .sum();
    assert!(
        fetched >= 2 * target,
        "validators proved {proved} blocks and fetched {fetched} (target height {target})"
    );
    assert!(proved < fetched, "proved {proved}, fetched {fetched}");
    // In a set of four, proposals compute their commitments by MSMs (the header soonest).
    let msm: u64 = validators
        .iter()
        .map(|v| v.metrics().proposals_built("msm"))
        .sum();
    let prover: u64 = validators
        .iter()
        .map(|v| v.metrics().proposals_built("prover"))
        .sum();
    assert!(msm >= target && prover == 0, "msm {msm}, prover {prover}");
    full.shutdown().await;
    for v in validators {
        v.shutdown().await;
    }
}

/// Relays the full node's window headers up to `target` into an oracle in revm, checks every
/// height's attestation there, and proves a byte of `blob` (included at `at`) published.
fn relay_and_prove(
    full: &NodeHandle,
    trust: &da_types::Trust,
    target: u64,
    at: u64,
    blob: &da_types::Blob,
) {
    use da_attest::publication::{blob_element_rows, prove_blob_element, Window};
    use da_types::attestation::{tuple_proof, window_heights, window_of, DataRootTuple};
    use std::collections::BTreeMap;

    let store = full.store();
    let header = |h: u64| store.header(h).expect("read").expect("stored");
    let mut relayer = da_l1::Relayer::deploy(trust).expect("deploy the oracle");
    while relayer.next_height() < target {
        let end = relayer.next_height();
        let attested = relayer
            .relay(&header(end))
            .expect("the certificate commits on L1");
        assert_eq!(attested.nonce, end / 4);
    }
    let last = relayer.attested().last().expect("a window").heights.1;
    let oracle = relayer.oracle();
    let roots: Vec<[u8; 32]> = (1..=last)
        .map(|h| header(h).block.header.data_root)
        .collect();
    for h in 1..=last {
        let nonce = window_of(h, 4).expect("window");
        let (first, end) = window_heights(nonce, 4).expect("heights");
        let window = &roots[(first - 1) as usize..end as usize];
        let tuple = DataRootTuple {
            height: h,
            data_root: roots[(h - 1) as usize],
        };
        let proof = tuple_proof(first, window, h).expect("proof");
        let r = relayer
            .l1()
            .verify_attestation(oracle, nonce, &tuple, &proof)
            .expect("call");
        assert!(r.value, "height {h} attested on L1");
    }
    // The element holding a byte in the middle of the blob, proven published under its blob id.
    let (k, index) = store.block_index(at).expect("read").expect("stored");
    let entry = index
        .iter()
        .position(|e| e.blob_id == blob.id())
        .expect("indexed") as u32;
    let first_cell = index[entry as usize].first_cell;
    let offset = blob.data().len() as u64 / 2;
    let element = (offset / 31) as u32;
    let rows: BTreeMap<u32, Vec<u8>> = blob_element_rows(entry, first_cell, element)
        .into_iter()
        .map(|row| {
            let bytes = (0..64)
                .flat_map(|col| {
                    store
                        .cell(at, k, row as usize, col)
                        .expect("read")
                        .expect("cell")
                })
                .collect();
            (row, bytes)
        })
        .collect();
    let nonce = window_of(at, 4).expect("window");
    let (first, end) = window_heights(nonce, 4).expect("heights");
    let kzg = da_kzg::KzgProver::new(da_kzg::ProverConfig::DEFAULT);
    let p = prove_blob_element(
        &kzg,
        &Window {
            nonce,
            first_height: first,
            data_roots: &roots[(first - 1) as usize..end as usize],
        },
        &header(at).block,
        entry,
        first_cell,
        element,
        &rows,
    )
    .expect("prove");
    assert_eq!(p.blob_id, blob.id().0);
    assert_eq!(
        p.payload().expect("element")[(offset % 31) as usize],
        blob.data()[offset as usize]
    );
    let r = relayer.l1().verify_blob_element(oracle, &p).expect("call");
    assert!(r.value, "the blob's byte is proven published on L1");
}

/// A validator that is the whole set runs the engine alone: it commits each proposal on the
/// prover's path and proves the decided square from that work, and a full node following it
/// verifies every cell of every row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_validator_proposes_on_the_prover_path_and_its_proofs_verify() {
    let key = BlsSecretKey::generate(&mut rand::rngs::OsRng);
    let genesis = Genesis {
        chain_id: CHAIN.into(),
        genesis_time_ms: 1,
        validators: vec![GenesisValidator::new(&key, 1)],
        max_square_k: 8,
        dedup_window: da_types::DEFAULT_DEDUP_WINDOW,
        attestation_window: 4,
    };
    let cluster = Cluster::with_genesis(genesis, key.clone());
    let dir = cluster.dir();
    write_validator_key(&dir.join("validator_key"), &key).expect("validator key");
    let config = NodeConfig {
        genesis: Some(cluster.genesis_path()),
        max_square_k: 8,
        max_blob_bytes: 400_000,
        block_time_ms: 300,
        consensus_listen: Some(consensus_addr(free_port())),
        ..da_testkit::cluster::node_config(CHAIN, &dir)
    };
    let v = cluster.start(config).await;
    let full = cluster.full(&v).await;
    let client =
        DaClient::new(ClientConfig::new(format!("http://{}", v.grpc_addr))).expect("client");
    let ns = gen::namespace(b"lone");
    let blobs: Vec<_> = (0..3).map(|i| (ns, gen::bytes(20 + i, 150_000))).collect();
    let submitted = tokio::time::timeout(Duration::from_secs(120), client.submit(&blobs, true))
        .await
        .expect("included within 120 s")
        .expect("submit");
    let last = submitted
        .heights
        .iter()
        .map(|h| h.expect("an inclusion height"))
        .max()
        .expect("three blobs");
    let target = last + 1;
    wait::until(
        &format!("full node at height {target}"),
        Duration::from_secs(120),
        || (wait::head(&full) >= target).then_some(()),
    )
    .await;
    for (h, (ns, data)) in submitted.heights.iter().zip(&blobs) {
        let id = da_types::Blob::new(*ns, data.clone()).expect("blob").id();
        assert_eq!(full.store().blob_height(&id).expect("read"), *h);
    }
    let m = v.metrics();
    assert!(
        m.proposals_built("prover") >= target && m.proposals_built("msm") == 0,
        "prover {}, msm {}",
        m.proposals_built("prover"),
        m.proposals_built("msm")
    );
    assert!(m.decided_blocks("proved") >= target);
    full.shutdown().await;
    v.shutdown().await;
}

/// The same blobs submitted to all four validators at once are each included exactly once, and
/// a validator censoring a namespace only delays it: another proposer includes its blobs, none
/// in a block the censor proposed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_sent_to_every_validator_land_once_and_a_censor_only_delays_them() {
    let censored = gen::namespace(b"censored");
    let (_cluster, validators, censor) = four_validators(|c| NodeConfig {
        fault_censor_namespaces: vec![hex::encode(censored.as_bytes())],
        ..c
    })
    .await;
    let clients: Vec<DaClient> = validators
        .iter()
        .map(|v| {
            DaClient::new(ClientConfig::new(format!("http://{}", v.grpc_addr))).expect("client")
        })
        .collect();
    let free = gen::namespace(b"free");
    let blobs: Vec<_> = (0..6u64)
        .map(|i| {
            let ns = if i % 2 == 0 { censored } else { free };
            (ns, gen::bytes(100 + i, 20_000))
        })
        .collect();
    // First only the censor holds the censored blobs: it proposes blocks without them.
    for b in blobs.iter().filter(|(ns, _)| *ns == censored) {
        clients[0]
            .submit(std::slice::from_ref(b), false)
            .await
            .expect("pooled at the censor");
    }
    let from = wait::head(&validators[0]) + 2;
    let proposed = wait::until(
        "a block proposed by the censor",
        Duration::from_secs(60),
        || {
            (from..=wait::head(&validators[0])).find(|h| {
                validators[0]
                    .store()
                    .header(*h)
                    .ok()
                    .flatten()
                    .is_some_and(|c| c.block.header.proposer == censor)
            })
        },
    )
    .await;
    for (ns, data) in blobs.iter().filter(|(ns, _)| *ns == censored) {
        let id = da_types::Blob::new(*ns, data.clone()).expect("blob").id();
        assert_eq!(
            validators[0].store().blob_height(&id).expect("read"),
            None,
            "the censor proposed {proposed} and included a censored blob"
        );
    }
    // Then every validator gets every blob, all at once, each waiting for inclusion.
    let submitted_at = validators.iter().map(wait::head).max().expect("four");
    let mut calls = Vec::new();
    for c in &clients {
        for b in &blobs {
            let (c, b) = (c.clone(), b.clone());
            calls.push(tokio::spawn(async move {
                tokio::time::timeout(Duration::from_secs(120), c.submit(&[b], true)).await
            }));
        }
    }
    let mut heights: std::collections::HashMap<da_types::BlobId, u64> = Default::default();
    for call in calls {
        let s = call
            .await
            .expect("join")
            .expect("finalized within 120 s")
            .expect("submit");
        let h = s.heights[0].expect("an inclusion height");
        // Every node reports the same one height for a blob.
        assert_eq!(*heights.entry(s.ids[0]).or_insert(h), h);
    }
    assert_eq!(heights.len(), blobs.len());
    // Within N = 4 heights: the next block may be cut already and the one after may be the
    // censor's, so the third is an honest proposer's holding them (one more for slack).
    for (id, h) in &heights {
        assert!(
            *h <= submitted_at + 4,
            "blob {id} included at {h}, submitted at height {submitted_at}"
        );
    }
    let top = heights.values().copied().max().expect("heights") + 1;
    for v in &validators {
        wait::until(
            "every validator at the top",
            Duration::from_secs(60),
            || (wait::head(v) >= top).then_some(()),
        )
        .await;
    }
    // Exactly once: across every block, each id appears once; the censored namespace's blobs
    // are never in a block validator 0 proposed.
    let store = validators[1].store();
    let mut seen: std::collections::HashMap<da_types::BlobId, u64> = Default::default();
    for h in 1..=top {
        let header = store.header(h).expect("read").expect("stored");
        let (_, index) = store.block_index(h).expect("read").expect("stored");
        for e in index {
            assert!(seen.insert(e.blob_id, h).is_none(), "{} twice", e.blob_id);
            if e.namespace == censored {
                assert_ne!(
                    header.block.header.proposer, censor,
                    "the censor included it at {h}"
                );
            }
        }
    }
    for (id, h) in &heights {
        assert_eq!(seen.get(id), Some(h), "blob {id}");
    }
    for v in validators {
        v.shutdown().await;
    }
}

/// Any node takes blobs: one submitted to a full node that decides nothing is relayed to the
/// validators and finalized, with its certificate served; then 1 000 concurrent submissions —
/// ten of each of 100 distinct blobs, spread over three validators and the full node — each
/// return the one height at which their blob is included, and every blob is in exactly one
/// block.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_node_takes_blobs_and_a_thousand_duplicates_land_once_each() {
    let (cluster, validators, _) = four_validators(|c| c).await;
    let full = cluster.full(&validators[0]).await;
    let client_of = |addr: std::net::SocketAddr| {
        DaClient::new(ClientConfig::new(format!("http://{addr}"))).expect("client")
    };
    let via_full = client_of(full.grpc_addr);
    let ns = gen::namespace(b"relay");
    let first = (ns, gen::bytes(500, 30_000));
    let s = tokio::time::timeout(
        Duration::from_secs(120),
        via_full.submit(std::slice::from_ref(&first), true),
    )
    .await
    .expect("finalized within 120 s")
    .expect("submit");
    let h = s.heights[0].expect("an inclusion height");
    // Finalized means decided and stored with its certificate, which the API serves.
    let certified = via_full.header(h).await.expect("certified header");
    let power = cluster
        .trust()
        .verify(&certified)
        .expect("a valid certificate");
    assert!(cluster.trust().set().has_quorum(power));
    for v in &validators {
        wait::height(v, h).await;
        assert_eq!(v.store().blob_height(&s.ids[0]).expect("read"), Some(h));
    }
    // It got there by the relay: the full node announced it and validators pulled it.
    assert!(full.metrics().relayed_blobs("announced") >= 1);
    let pulled: u64 = validators
        .iter()
        .map(|v| v.metrics().relayed_blobs("pulled"))
        .sum();
    assert!(pulled >= 1, "no validator pulled the blob");

    let entry = [
        validators[1].grpc_addr,
        validators[2].grpc_addr,
        validators[3].grpc_addr,
        full.grpc_addr,
    ];
    let clients: Vec<DaClient> = entry.iter().map(|a| client_of(*a)).collect();
    let blobs: Vec<_> = (0..100u64)
        .map(|i| (ns, gen::bytes(1_000 + i, 2_000)))
        .collect();
    let mut calls = Vec::new();
    for copy in 0..10usize {
        for (i, b) in blobs.iter().enumerate() {
            let c = clients[(i + copy) % clients.len()].clone();
            let b = b.clone();
            calls.push(tokio::spawn(async move {
                tokio::time::timeout(Duration::from_secs(180), c.submit(&[b], true)).await
            }));
        }
    }
    assert_eq!(calls.len(), 1_000);
    let mut heights: std::collections::HashMap<da_types::BlobId, u64> = Default::default();
    for call in calls {
        let s = call
            .await
            .expect("join")
            .expect("finalized within 180 s")
            .expect("submit");
        let h = s.heights[0].expect("an inclusion height");
        assert_eq!(
            *heights.entry(s.ids[0]).or_insert(h),
            h,
            "two heights for one blob"
        );
    }
    assert_eq!(heights.len(), 100);
    let top = heights.values().copied().max().expect("heights");
    wait::height(&full, top).await;
    let mut seen: std::collections::HashMap<da_types::BlobId, u64> = Default::default();
    for h in 1..=top {
        let (_, index) = full.store().block_index(h).expect("read").expect("stored");
        for e in index {
            assert!(seen.insert(e.blob_id, h).is_none(), "{} twice", e.blob_id);
        }
    }
    for (id, h) in &heights {
        assert_eq!(seen.get(id), Some(h), "blob {id}");
    }
    full.shutdown().await;
    for v in validators {
        v.shutdown().await;
    }
}

/// A proposer that puts a blob of the previous block into its own gets nil votes from the
/// honest validators (rule `duplicate`, the dedup window): its heights are decided in a later
/// round with another proposer's block, and no blob is ever in two blocks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposer_repeating_an_included_blob_gets_nil_votes() {
    let (cluster, validators, faulty) = four_validators(|c| NodeConfig {
        fault_repeat_included: true,
        ..c
    })
    .await;
    // A steady stream of blobs, so that most blocks include some.
    let client = DaClient::new(ClientConfig::new(format!(
        "http://{}",
        validators[1].grpc_addr
    )))
    .expect("client");
    let stop = tokio_util::sync::CancellationToken::new();
    let feeder = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let ns = gen::namespace(b"again");
            for i in 0u64.. {
                if stop.is_cancelled() {
                    break;
                }
                let _ = client
                    .submit(&[(ns, gen::bytes(2_000 + i, 5_000))], false)
                    .await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let set = cluster.trust().set().clone();
    let store = validators[1].store().clone();
    // A height whose first-round proposer is the faulty validator, after a block with blobs.
    let tested = wait::until(
        "a height the faulty validator was first to propose, after a block with blobs",
        Duration::from_secs(180),
        || {
            let head = store.head().ok().flatten()?;
            (3..=head).find(|h| {
                set.proposer(*h, 0) as u32 == faulty
                    && store
                        .block_index(h - 1)
                        .ok()
                        .flatten()
                        .is_some_and(|(_, index)| !index.is_empty())
            })
        },
    )
    .await;
    stop.cancel();
    let _ = feeder.await;
    let header = store.header(tested).expect("read").expect("stored");
    assert_ne!(
        header.block.header.proposer, faulty,
        "the block repeating an included blob was decided at {tested}"
    );
    let refused: u64 = validators[1..]
        .iter()
        .map(|v| v.metrics().consensus.refused("duplicate"))
        .sum();
    assert!(
        refused >= 2,
        "honest validators refused {refused} proposals as duplicates"
    );
    let head = store.head().expect("read").expect("a head");
    let mut seen: std::collections::HashMap<da_types::BlobId, u64> = Default::default();
    for h in 1..=head {
        let (_, index) = store.block_index(h).expect("read").expect("stored");
        for e in index {
            assert!(seen.insert(e.blob_id, h).is_none(), "{} twice", e.blob_id);
        }
    }
    for v in validators {
        v.shutdown().await;
    }
}

//! Full nodes syncing over libp2p on 127.0.0.1: a node that joins late catches up every height
//! from header ranges, repairs the cells the producer withholds (below the recovery bound) and
//! then holds the same square as the producer; above the bound it imports nothing.

use std::time::Duration;

use da_client::{ClientConfig, DaClient};
use da_node::{NodeConfig, NodeHandle};
use da_testkit::{gen, wait, Cluster};
use da_types::consts::CELLS_PER_ROW;

const CHAIN: &str = "sync-test";

/// A producer that withholds a rectangle covering `withhold` of every square over libp2p.
async fn producer(c: &Cluster, withhold: f64) -> NodeHandle {
    c.start(NodeConfig {
        fault_withhold: withhold,
        ..c.producer_config()
    })
    .await
}

/// Posts a few blobs so blocks have data, and waits until the producer has `height` blocks.
async fn grow(node: &NodeHandle, height: u64) {
    let client =
        DaClient::new(ClientConfig::new(format!("http://{}", node.grpc_addr))).expect("client");
    let ns = gen::namespace(b"sync");
    for i in 0..3u64 {
        client
            .submit(&[(ns, gen::bytes(i, 150_000))], true)
            .await
            .expect("submit");
    }
    wait::height(node, height).await;
}

/// Waits (at most 30 s) until `node` stores `height`; returns whether it did.
async fn reaches(node: &NodeHandle, height: u64) -> bool {
    for _ in 0..300 {
        if wait::head(node) >= height {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_full_node_catches_up_and_repairs_withheld_cells() {
    let c = Cluster::new(CHAIN);
    // The producer serves only 80% of every square over libp2p: recoverable, not complete.
    let producer = producer(&c, 0.2).await;
    grow(&producer, 6).await;
    let target = wait::head(&producer);
    let late = c.full(&producer).await;
    assert!(
        reaches(&late, target).await,
        "the late full node did not catch up to {target}"
    );
    // Every height, every cell and proof equals the producer's (the withheld ones repaired).
    let (a, b) = (&producer.store(), &late.store());
    let mut had_data = false;
    for h in 1..=target {
        assert_eq!(a.header(h).expect("read"), b.header(h).expect("read"));
        let (k, index) = a.block_index(h).expect("read").expect("stored");
        assert_eq!(
            b.block_index(h).expect("read").map(|x| x.1),
            Some(index.clone())
        );
        had_data |= !index.is_empty();
        for r in 0..2 * k {
            for c in 0..CELLS_PER_ROW {
                assert_eq!(
                    a.cell(h, k, r, c).expect("read"),
                    b.cell(h, k, r, c).expect("read"),
                    "height {h} cell ({r}, {c})"
                );
                assert_eq!(
                    a.proof(h, r, c).expect("read"),
                    b.proof(h, r, c).expect("read"),
                    "height {h} proof ({r}, {c})"
                );
            }
        }
    }
    assert!(
        had_data,
        "the chain carried no blob: the test proves nothing"
    );
    assert!(
        late.metrics().blocks_repaired.get() >= target,
        "every block had withheld cells and must have been repaired"
    );
    late.shutdown().await;
    producer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_node_imports_nothing_it_cannot_repair() {
    let c = Cluster::new(CHAIN);
    // Height 2 is withheld above the bound: no node can rebuild it from what the producer
    // serves. Height 1 is served whole, so a working sync imports it and then stalls at 2.
    let producer = c
        .start(NodeConfig {
            fault_withhold: 0.3,
            fault_withhold_heights: vec![2],
            ..c.producer_config()
        })
        .await;
    grow(&producer, 3).await;
    let late = c.full(&producer).await;
    assert!(
        reaches(&late, 1).await,
        "the late full node did not import the complete height 1: sync is broken"
    );
    // It must have tried height 2 (and failed) more than once, and imported nothing from it on.
    for _ in 0..300 {
        if late.metrics().sync_failures.get() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        late.metrics().sync_failures.get() >= 2,
        "the node never attempted the unrecoverable height 2"
    );
    assert_eq!(
        wait::head(&late),
        1,
        "a block that cannot be repaired was imported"
    );
    assert_eq!(late.store().header(2).expect("read"), None);
    late.shutdown().await;
    producer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_full_nodes_one_late_sync_from_any_peer() {
    let c = Cluster::new(CHAIN);
    let producer = producer(&c, 0.2).await;
    let first = c.full(&producer).await;
    grow(&producer, 4).await;
    let target = wait::head(&producer);
    // The late node knows only the first full node: everything comes from it or from peers
    // it discovers through it.
    let late = c.full(&first).await;
    assert!(
        reaches(&late, target).await,
        "the late node did not catch up to {target}"
    );
    for h in 1..=target {
        let (k, _) = producer
            .store()
            .block_index(h)
            .expect("read")
            .expect("stored");
        for r in 0..2 * k {
            for c in 0..CELLS_PER_ROW {
                assert_eq!(
                    producer.store().cell(h, k, r, c).expect("read"),
                    late.store().cell(h, k, r, c).expect("read"),
                    "height {h} cell ({r}, {c})"
                );
            }
        }
    }
    late.shutdown().await;
    first.shutdown().await;
    producer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_claiming_a_head_the_validators_never_certified_is_penalised_and_ignored() {
    use da_network::NetworkConfig;
    let c = Cluster::new(CHAIN);
    let producer = producer(&c, 0.0).await;
    // A serving peer whose "newest header" is a far-future one certified by a validator of
    // another set (its own one-validator genesis of the same chain id).
    let stranger = da_types::BlsSecretKey::from_ikm(&[9; 32]);
    let other =
        da_types::Trust::from_genesis(&da_node::genesis::solo_genesis(CHAIN, &stranger, 64))
            .expect("genesis");
    let forged = da_testkit::forge::certify(
        da_testkit::forge::block_header_for(&other, 1_000_000, 0),
        &other.chain(),
        other.set(),
        &[&stranger],
    )
    .to_bytes();
    let (liar, events) = da_network::start(NetworkConfig::local(CHAIN, true))
        .await
        .expect("network");
    da_testkit::forge::serve_only_headers(events, vec![forged]);
    // The full node knows only the liar at first.
    let liar_addrs = liar.listen_addrs().await.expect("addrs");
    let late = c.start(c.full_config(&liar_addrs)).await;
    let late_p2p = late.p2p.as_ref().expect("p2p");
    let mut penalised = false;
    for _ in 0..100 {
        if late_p2p.score(liar.peer_id()).await.expect("score") < 0 {
            penalised = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        penalised,
        "the peer sending an uncertified head was not penalised"
    );
    assert_eq!(late.store().head().expect("head"), None);
    assert!(late
        .metrics()
        .render()
        .contains("da_headers_rejected_total{reason=\"wrong_validator_set\"}"));
    // Given an honest peer, the node follows the real chain.
    for a in da_testkit::p2p_addrs(&producer).await {
        late_p2p.dial(a).await.expect("dial the producer");
    }
    grow(&producer, 3).await;
    let target = wait::head(&producer);
    assert!(
        reaches(&late, target).await,
        "the node did not follow the real chain"
    );
    liar.shutdown();
    late.shutdown().await;
    producer.shutdown().await;
}

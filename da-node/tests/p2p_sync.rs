//! Full nodes syncing over libp2p on 127.0.0.1: a node that joins late catches up every height
//! from header ranges, repairs the cells the producer withholds (below the recovery bound) and
//! then holds the same square as the producer; above the bound it imports nothing.

use std::{sync::Arc, time::Duration};

use da_client::{ClientConfig, DaClient};
use da_kzg::{KzgProver, ProverConfig};
use da_node::{config::Role, NodeConfig, NodeHandle};
use da_types::{consts::CELLS_PER_ROW, Namespace};

const CHAIN: &str = "sync-test";

async fn producer(dir: &std::path::Path, kzg: Arc<KzgProver>, withhold: f64) -> NodeHandle {
    da_node::start_with(
        NodeConfig {
            chain_id: CHAIN.into(),
            role: Role::Producer,
            data_dir: Some(dir.to_path_buf()),
            grpc_addr: "127.0.0.1:0".parse().expect("addr"),
            metrics_addr: "127.0.0.1:0".parse().expect("addr"),
            block_time_ms: 300,
            precompute: false,
            p2p_listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
            fault_withhold: withhold,
            ..NodeConfig::default()
        },
        kzg,
    )
    .await
    .expect("producer starts")
}

/// A full node trusting `producer`'s key and bootstrapped from `via`.
async fn full(
    dir: &std::path::Path,
    kzg: Arc<KzgProver>,
    producer: &NodeHandle,
    via: &NodeHandle,
) -> NodeHandle {
    let addrs = via
        .p2p
        .as_ref()
        .expect("p2p on")
        .listen_addrs()
        .await
        .expect("addrs");
    full_from(dir, kzg, producer, &addrs).await
}

/// A full node trusting `producer`'s key and bootstrapped from `bootstrap`.
async fn full_from(
    dir: &std::path::Path,
    kzg: Arc<KzgProver>,
    producer: &NodeHandle,
    bootstrap: &[da_network::Multiaddr],
) -> NodeHandle {
    da_node::start_with(
        NodeConfig {
            chain_id: CHAIN.into(),
            role: Role::Full,
            data_dir: Some(dir.to_path_buf()),
            grpc_addr: "127.0.0.1:0".parse().expect("addr"),
            metrics_addr: "127.0.0.1:0".parse().expect("addr"),
            trusted_producers: vec![hex::encode(producer.inner.public_key())],
            precompute: false,
            p2p_listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
            p2p_bootstrap: bootstrap.iter().map(ToString::to_string).collect(),
            ..NodeConfig::default()
        },
        kzg,
    )
    .await
    .expect("full node starts")
}

/// Posts a few blobs so blocks have data, and waits until the producer has `height` blocks.
async fn grow(node: &NodeHandle, height: u64) {
    let client =
        DaClient::new(ClientConfig::new(format!("http://{}", node.grpc_addr))).expect("client");
    let ns = Namespace::new_v0(b"sync").expect("ns");
    for i in 0..3u8 {
        let data: Vec<u8> = (0..150_000u32).map(|j| (j as u8) ^ i).collect();
        client.submit(&[(ns, data)], true).await.expect("submit");
    }
    for _ in 0..200 {
        if node.inner.store.head().expect("head").unwrap_or(0) >= height {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the producer did not reach height {height}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_full_node_catches_up_and_repairs_withheld_cells() {
    let (pd, fd) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let kzg = Arc::new(KzgProver::new(ProverConfig::DEFAULT));
    // The producer serves only 80% of every square over libp2p: recoverable, not complete.
    let producer = producer(pd.path(), kzg.clone(), 0.2).await;
    grow(&producer, 6).await;
    let target = producer.inner.store.head().expect("head").expect("blocks");
    let late = full(fd.path(), kzg, &producer, &producer).await;
    for _ in 0..300 {
        if late.inner.store.head().expect("head").unwrap_or(0) >= target {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        late.inner.store.head().expect("head").unwrap_or(0) >= target,
        "the late full node did not catch up to {target}"
    );
    // Every height, every cell and proof equals the producer's (the withheld ones repaired).
    let (a, b) = (&producer.inner.store, &late.inner.store);
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
        late.inner.metrics.blocks_repaired.get() >= target,
        "every block had withheld cells and must have been repaired"
    );
    late.shutdown().await;
    producer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_node_imports_nothing_it_cannot_repair() {
    let (pd, fd) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let kzg = Arc::new(KzgProver::new(ProverConfig::DEFAULT));
    // Above the bound: no node can rebuild these squares from what the producer serves.
    let producer = producer(pd.path(), kzg.clone(), 0.3).await;
    grow(&producer, 2).await;
    let late = full(fd.path(), kzg, &producer, &producer).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        late.inner.store.head().expect("head"),
        None,
        "a block that cannot be repaired was imported"
    );
    late.shutdown().await;
    producer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_full_nodes_one_late_sync_from_any_peer() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().expect("tmp")).collect();
    let kzg = Arc::new(KzgProver::new(ProverConfig::DEFAULT));
    let producer = producer(dirs[0].path(), kzg.clone(), 0.2).await;
    let first = full(dirs[1].path(), kzg.clone(), &producer, &producer).await;
    grow(&producer, 4).await;
    let target = producer.inner.store.head().expect("head").expect("blocks");
    // The late node knows only the first full node: everything comes from it or from peers
    // it discovers through it.
    let late = full(dirs[2].path(), kzg, &producer, &first).await;
    for _ in 0..300 {
        if late.inner.store.head().expect("head").unwrap_or(0) >= target {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for h in 1..=target {
        let (k, _) = producer
            .inner
            .store
            .block_index(h)
            .expect("read")
            .expect("stored");
        for r in 0..2 * k {
            for c in 0..CELLS_PER_ROW {
                assert_eq!(
                    producer.inner.store.cell(h, k, r, c).expect("read"),
                    late.inner.store.cell(h, k, r, c).expect("read"),
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
async fn a_peer_claiming_a_head_the_producer_never_signed_is_penalised_and_ignored() {
    use da_network::{NetworkConfig, NetworkEvent, Request, Response};
    use da_proto::v1 as pb;
    let (pd, fd) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let kzg = Arc::new(KzgProver::new(ProverConfig::DEFAULT));
    let producer = producer(pd.path(), kzg.clone(), 0.0).await;
    // A serving peer whose "newest header" is a far-future one signed by someone else.
    let forged = da_types::Header {
        chain_id: CHAIN.into(),
        height: 1_000_000,
        parent_hash: [0; 32],
        timestamp_ms: 0,
        k: 1,
        commitments: vec![[0xc0; 48]; 2],
        blob_count: 0,
    }
    .sign(&ed25519_dalek::SigningKey::from_bytes(&[9; 32]))
    .expect("sign");
    let (liar, mut events) = da_network::start(NetworkConfig::local(CHAIN, true))
        .await
        .expect("network");
    tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            if let NetworkEvent::Inbound(r) = ev {
                let resp = match r.request {
                    Request::Headers(_) => Response::Headers(pb::HeaderRangeResponse {
                        headers: vec![da_proto::convert::header_to_pb(&forged)],
                    }),
                    Request::Row(_) => Response::Row(pb::RowResponse::default()),
                    Request::Samples(_) => Response::Samples(pb::SampleResponse::default()),
                    Request::Namespace(_) => Response::Namespace(pb::NamespaceResponse::default()),
                };
                let _ = r.respond.send(resp);
            }
        }
    });
    // The full node knows only the liar at first.
    let liar_addrs = liar.listen_addrs().await.expect("addrs");
    let late = full_from(fd.path(), kzg, &producer, &liar_addrs).await;
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
        "the peer sending an unsigned head was not penalised"
    );
    assert_eq!(late.inner.store.head().expect("head"), None);
    // Given an honest peer, the node follows the real chain.
    for a in producer
        .p2p
        .as_ref()
        .expect("p2p")
        .listen_addrs()
        .await
        .expect("addrs")
    {
        late_p2p.dial(a).await.expect("dial the producer");
    }
    grow(&producer, 3).await;
    let target = producer.inner.store.head().expect("head").expect("blocks");
    for _ in 0..200 {
        if late.inner.store.head().expect("head").unwrap_or(0) >= target {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(late.inner.store.head().expect("head").unwrap_or(0) >= target);
    liar.shutdown();
    late.shutdown().await;
    producer.shutdown().await;
}

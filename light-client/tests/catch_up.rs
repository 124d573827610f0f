//! A light client whose only peer at first has no headers: catch-up must ask again on its own
//! once a peer with the chain appears. Its own test binary, so it runs alone: `cargo test` runs
//! test binaries one after another, and beside `network.rs`'s other tests on two cores its
//! catch-up heights starved behind their producers' proving.

use std::time::Duration;

use da_light::{LightConfig, SamplerConfig};
use da_network::NetworkConfig;
use da_testkit::Cluster;

const CHAIN: &str = "lc-catch-up";

/// Fails on the code before the retry: catch-up never started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_asks_again_when_no_peer_answered_and_finishes_once_one_does() {
    let c = Cluster::new(CHAIN);
    let node = c.producer().await;
    da_testkit::wait::height(&node, 6).await;
    // A serving peer that has no headers at all: the light client's only peer at first, so its
    // first head and range requests come back empty.
    let (empty, events) = da_network::start(NetworkConfig::local(CHAIN, true))
        .await
        .expect("network");
    da_testkit::forge::serve_only_headers(events, Vec::new());
    let lc = c
        .start_light(LightConfig {
            sampler: SamplerConfig {
                window: 3,
                ..SamplerConfig::default()
            },
            ..c.light_config(empty.listen_addrs().await.expect("addrs"), 5)
        })
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(lc.progress().total, 0, "nobody could have answered yet");
    // Only now does it meet a peer with the chain: catch-up must get there on its own.
    for a in da_testkit::p2p_addrs(&node).await {
        lc.network().dial(a).await.expect("dial the producer");
    }
    let p = da_testkit::wait::caught_up(&lc).await;
    assert_eq!(p.total, 3, "{p:?}");
    lc.shutdown();
    empty.shutdown();
    node.shutdown().await;
}

//! The client library against a real node on 127.0.0.1: submissions checked and idempotent,
//! reads checked against ids and proofs, header trust, retries while the node comes up, and
//! timeouts against a peer that never answers.

use std::{sync::Arc, time::Duration};

use da_client::{ClientConfig, ClientError, Code, DaClient, HeaderTrust};
use da_node::{NodeConfig, NodeHandle};
use da_types::{BlobId, BlsSecretKey, Namespace, Trust};

fn config(dir: &std::path::Path, port: u16) -> NodeConfig {
    NodeConfig {
        grpc_addr: format!("127.0.0.1:{port}").parse().expect("addr"),
        block_time_ms: 150,
        p2p_listen: Vec::new(),
        auth_token: Some("tok".into()),
        ..da_testkit::cluster::producer_config("client", dir)
    }
}

async fn node(dir: &std::path::Path, port: u16) -> NodeHandle {
    da_testkit::cluster::start(config(dir, port)).await
}

fn client(node: &NodeHandle, trust: HeaderTrust) -> DaClient {
    let mut c = ClientConfig::new(format!("http://{}", node.grpc_addr));
    c.token = Some("tok".into());
    c.trust = trust;
    DaClient::new(c).expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_get_verify_and_trust() {
    let dir = tempfile::tempdir().expect("tmp");
    let n = node(dir.path(), 0).await;
    // The genesis the node runs (its data dir's genesis.json, as `da-node init` wrote it).
    let c = client(&n, HeaderTrust::Genesis(Arc::new(n.trust().clone())));
    let info = c.info().await.expect("info");
    assert_eq!(info.max_blob_bytes, 2 * 1024 * 1024);

    let (a, b) = (
        Namespace::new_v0(b"alpha").expect("ns"),
        Namespace::new_v0(b"beta").expect("ns"),
    );
    let blobs = vec![(a, vec![1u8; 5000]), (b, vec![2u8; 70_000])];
    let s = c.submit(&blobs, true).await.expect("submit");
    assert_eq!(
        s.ids,
        vec![
            BlobId::compute(&a, &blobs[0].1),
            BlobId::compute(&b, &blobs[1].1)
        ]
    );
    let h = s.heights[0].expect("included");
    assert!(s.heights.iter().all(Option::is_some));
    // Idempotent: the same blobs again report the same ids and heights.
    assert_eq!(c.submit(&blobs, false).await.expect("again"), s);

    // Reads by height or by id alone, with or without the namespace.
    let got = c.get(Some(h), Some(&a), &s.ids[0]).await.expect("get");
    assert_eq!(got.data, blobs[0].1);
    let located = c.get(None, None, &s.ids[1]).await.expect("get by id");
    assert_eq!(
        (located.height, located.namespace),
        (s.heights[1].expect("h"), b)
    );
    let v = c
        .get_verified(None, None, &s.ids[1])
        .await
        .expect("verified");
    assert_eq!(v.data, blobs[1].1);
    let all = c.get_all(h, &[a]).await.expect("get all");
    assert_eq!(all.len(), 1);
    let head = c.head().await.expect("head");
    assert!(head.height() >= h);

    // Not found and wrong namespace are statuses, not panics.
    let e = c
        .get(Some(h), None, &BlobId([9; 32]))
        .await
        .expect_err("unknown");
    assert_eq!(e.code(), Some(Code::NotFound));
    assert!(!e.is_transient());
    let e = c
        .get(Some(h), Some(&b), &s.ids[0])
        .await
        .expect_err("wrong ns");
    assert_eq!(e.code(), Some(Code::NotFound));

    // A client that trusts another validator set rejects this node's headers and proofs.
    let stranger = BlsSecretKey::from_ikm(&[7; 32]);
    let other_genesis = da_node::genesis::solo_genesis("client", &stranger, 64);
    let other = client(
        &n,
        HeaderTrust::Genesis(Arc::new(
            Trust::from_genesis(&other_genesis).expect("genesis"),
        )),
    );
    match other.get_verified(Some(h), None, &s.ids[0]).await {
        Err(ClientError::Verification(why)) => {
            assert!(why.contains("validator set"), "{why}")
        }
        x => panic!("accepted a header of another validator set: {x:?}"),
    }
    assert!(matches!(
        other.head().await,
        Err(ClientError::Verification(_))
    ));
    // Well-formed-only trust accepts it (it cannot check certificates).
    let loose = client(&n, HeaderTrust::WellFormed);
    assert_eq!(loose.header(h).await.expect("header").height(), h);
    // A wrong token is a permanent error.
    let mut cfg = c.config().clone();
    cfg.token = Some("nope".into());
    let e = DaClient::new(cfg)
        .expect("client")
        .submit(&blobs, false)
        .await
        .expect_err("token");
    assert_eq!(e.code(), Some(Code::PermissionDenied));
    assert!(!e.is_transient());
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_until_the_node_is_up() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut cfg = ClientConfig::new(format!("http://127.0.0.1:{port}"));
    cfg.token = Some("tok".into());
    cfg.retries = 8;
    cfg.backoff = Duration::from_millis(100);
    let c = DaClient::new(cfg.clone()).expect("lazy client while the node is down");
    // With no retries, the failure is reported as unreachable and transient.
    let mut once = cfg;
    once.retries = 0;
    let e = DaClient::new(once)
        .expect("client")
        .info()
        .await
        .expect_err("down");
    assert!(matches!(e, ClientError::Unavailable { .. }), "{e}");
    assert!(e.is_transient());
    let d = dir.path().to_path_buf();
    let starter = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        node(&d, port).await
    });
    let ns = Namespace::new_v0(b"retry").expect("ns");
    let s = c
        .submit(&[(ns, b"late".to_vec())], true)
        .await
        .expect("retried");
    assert!(s.heights[0].is_some());
    starter.await.expect("node").shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_never_answers_times_out() {
    let mut cfg = ClientConfig::new(silent_peer().await);
    cfg.request_timeout = Duration::from_millis(300);
    cfg.retries = 1;
    cfg.backoff = Duration::from_millis(10);
    let t0 = std::time::Instant::now();
    let e = DaClient::new(cfg)
        .expect("client")
        .info()
        .await
        .expect_err("silent");
    assert!(matches!(e, ClientError::Timeout { .. }), "{e}");
    assert!(e.is_transient());
    assert!(t0.elapsed() < Duration::from_secs(5));
}

/// A listener that accepts TCP connections and never speaks HTTP/2; returns its URL.
async fn silent_peer() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    format!("http://{addr}")
}

/// A URL nothing listens on.
fn dead_endpoint() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fails_over_past_dead_and_silent_nodes_and_when_its_node_stops() {
    let c = da_testkit::Cluster::new("failover");
    let producer = c.producer().await;
    let full = c.full(&producer).await;
    da_testkit::wait::height(&full, 2).await;
    let live = format!("http://{}", producer.grpc_addr);

    // Submission goes past a refused connection and a node that never answers, to the producer,
    // with no retry budget of its own: each other node gets one attempt.
    let mut cfg = ClientConfig::new(dead_endpoint());
    cfg.failover = vec![silent_peer().await, live.clone()];
    cfg.retries = 0;
    cfg.request_timeout = Duration::from_millis(500);
    let client = DaClient::new(cfg).expect("client");
    let ns = Namespace::new_v0(b"failover").expect("ns");
    let s = client
        .submit(&[(ns, b"past two bad nodes".to_vec())], false)
        .await
        .expect("submitted at the third node");
    assert_eq!(client.current_endpoint(), live);
    // It stays there: the next call does not try the bad nodes again.
    let t0 = std::time::Instant::now();
    client.info().await.expect("info");
    assert!(
        t0.elapsed() < Duration::from_millis(400),
        "{:?}",
        t0.elapsed()
    );
    // Resubmitting at the same node is idempotent.
    let again = client
        .submit(&[(ns, b"past two bad nodes".to_vec())], true)
        .await
        .expect("resubmitted");
    assert_eq!(again.ids, s.ids);
    let height = again.heights[0].expect("included");

    // A client of the full node first: reads go there until it stops, then to the producer.
    let mut cfg = ClientConfig::new(format!("http://{}", full.grpc_addr));
    cfg.failover = vec![live.clone()];
    cfg.retries = 0;
    let reader = DaClient::new(cfg).expect("client");
    da_testkit::wait::height(&full, height).await;
    let before = reader
        .get(Some(height), Some(&ns), &s.ids[0])
        .await
        .expect("read at the full node");
    assert_eq!(
        reader.current_endpoint(),
        format!("http://{}", full.grpc_addr)
    );
    full.shutdown().await;
    let after = reader
        .get(Some(height), Some(&ns), &s.ids[0])
        .await
        .expect("read failed over to the producer");
    assert_eq!(after, before);
    assert_eq!(reader.current_endpoint(), live);
    producer.shutdown().await;
}

/// A proof of publication needs the genesis, a byte inside the blob, and an ended attestation
/// window: each missing piece is its own error, before any proving work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_of_publication_waits_for_its_attestation_window() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), 0);
    // A window of the maximum length: it cannot end while the test runs.
    let path = dir.path().join(da_node::genesis::GENESIS_FILE);
    let mut genesis = da_types::Genesis::from_json(&std::fs::read_to_string(&path).expect("read"))
        .expect("genesis");
    genesis.attestation_window = da_types::attestation::MAX_ATTESTATION_WINDOW;
    std::fs::remove_file(&path).expect("rm");
    da_node::genesis::write_genesis(&path, &genesis).expect("write");
    let n = da_testkit::cluster::start(cfg).await;
    let c = client(&n, HeaderTrust::Genesis(Arc::new(n.trust().clone())));
    let ns = Namespace::new_v0(b"rollup").expect("ns");
    let s = c
        .submit(&[(ns, vec![3u8; 1000])], true)
        .await
        .expect("submit");
    let (id, at) = (s.ids[0], s.heights[0].expect("included"));
    match c.prove_publication(Some(at), &id, 10).await {
        Err(ClientError::WindowOpen {
            height,
            nonce,
            end,
            head,
        }) => {
            assert_eq!((height, nonce, end), (at, 1, genesis.attestation_window));
            assert!(head >= at && head < end, "head {head}");
        }
        x => panic!("a proof before the window ended: {x:?}"),
    }
    assert!(matches!(
        c.prove_publication(None, &id, 1000).await,
        Err(ClientError::InvalidRequest(why)) if why.contains("past the end")
    ));
    let loose = client(&n, HeaderTrust::WellFormed);
    assert!(matches!(
        loose.prove_publication(Some(at), &id, 0).await,
        Err(ClientError::NotConfigured(_))
    ));
    // The row of the blob comes back verified against the header: its 64 original cells.
    let header = c.header(at).await.expect("header");
    let row = c.get_row(&header, 0).await.expect("row 0");
    assert_eq!(row.len(), 64);
    assert!(row
        .iter()
        .enumerate()
        .all(|(i, cell)| cell.index().col as usize == i));
    n.shutdown().await;
}

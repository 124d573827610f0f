//! Real libp2p nodes on 127.0.0.1: request-response within bounds, header gossip, blob-id
//! gossip among serving nodes with the blobs pulled by id, peer bans and
//! their expiry, light (non-serving) nodes refusing to serve, and an application that stops
//! reading events without stalling the network.

use std::time::Duration;

use da_network::{
    peer_book::PROBATION_SCORE, service::CHANNEL_BOUND, start, start_with, NetworkClient,
    NetworkConfig, NetworkError, NetworkEvent, Offence, PeerBookConfig, PeerId, Request, Response,
    Verdict,
};
use da_proto::v1 as pb;
use tokio::sync::mpsc;

fn sample(row: u32, col: u32) -> pb::Sample {
    pb::Sample {
        row,
        col,
        cell: vec![row as u8; 2048],
        proof: vec![col as u8; 48],
    }
}

/// Serves requests like a full node that has every cell of height 1 and nothing else; accepts
/// gossiped headers unless they start with `bad`.
fn serve(
    client: NetworkClient,
    mut events: mpsc::Receiver<NetworkEvent>,
    headers: mpsc::Sender<(PeerId, Vec<u8>)>,
) {
    tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            match ev {
                NetworkEvent::Inbound(r) => {
                    let resp = match r.request {
                        Request::Samples(s) => Response::Samples(pb::SampleResponse {
                            samples: if s.height == 1 {
                                s.cells.iter().map(|c| sample(c.row, c.col)).collect()
                            } else {
                                Vec::new()
                            },
                            has_height: s.height == 1,
                        }),
                        Request::Headers(h) => Response::Headers(pb::HeaderRangeResponse {
                            // Stand-in bytes: the network moves headers, the node checks them.
                            headers: (h.from..h.from + u64::from(h.count))
                                .map(|height| height.to_be_bytes().to_vec())
                                .collect(),
                        }),
                        // Far over the row bound: the server refuses to send it.
                        Request::Row(_) => Response::Row(pb::RowResponse {
                            cells: (0..400).map(|c| sample(0, c)).collect(),
                        }),
                        Request::Namespace(n) => Response::Namespace(pb::NamespaceResponse {
                            has_height: n.height == 1,
                            proof: Some(pb::NamespaceProof {
                                index_cells: vec![sample(0, 0)],
                                blob_cells: vec![sample(0, 1), sample(0, 2)],
                            }),
                        }),
                        // Holds every blob: its bytes are its id.
                        Request::Blobs(b) => Response::Blobs(pb::BlobsResponse {
                            blobs: b
                                .ids
                                .iter()
                                .map(|id| pb::PooledBlob {
                                    namespace: id.clone(),
                                    data: id.clone(),
                                })
                                .collect(),
                        }),
                    };
                    let _ = r.respond.send(resp);
                }
                // Announced ids come out on the same channel as headers, concatenated.
                NetworkEvent::BlobIds { from, id, ids } => {
                    let _ = client.judge(id, from, Verdict::Accept).await;
                    let _ = headers.send((from, ids.concat())).await;
                }
                NetworkEvent::Header { from, id, data } => {
                    let ok = !data.starts_with(b"bad");
                    let _ = client.validate(id, from, ok).await;
                    let _ = headers.send((from, data)).await;
                }
                _ => {}
            }
        }
    });
}

async fn node(serve_requests: bool) -> (NetworkClient, mpsc::Receiver<(PeerId, Vec<u8>)>) {
    node_with(NetworkConfig::local("nettest", serve_requests)).await
}

async fn node_with(config: NetworkConfig) -> (NetworkClient, mpsc::Receiver<(PeerId, Vec<u8>)>) {
    let (client, events) = start(config).await.expect("network starts");
    let (tx, rx) = mpsc::channel(16);
    serve(client.clone(), events, tx);
    (client, rx)
}

async fn connect(a: &NetworkClient, b: &NetworkClient) {
    let addr = b.listen_addrs().await.expect("addrs").remove(0);
    a.dial(addr).await.expect("dial");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_headers_and_rows_within_bounds() {
    let (full, _) = node(true).await;
    let (light, _) = node(false).await;
    connect(&light, &full).await;
    let cells = vec![
        pb::P2pCell { row: 3, col: 100 },
        pb::P2pCell { row: 0, col: 5 },
    ];
    let Response::Samples(r) = light
        .request(
            full.peer_id(),
            Request::Samples(pb::SampleRequest { height: 1, cells }),
        )
        .await
        .expect("samples")
    else {
        panic!("wrong response kind");
    };
    assert_eq!(r.samples.len(), 2);
    assert_eq!((r.samples[0].row, r.samples[0].col), (3, 100));
    assert_eq!(r.samples[0].cell.len(), 2048);
    // A height the peer lacks: an empty answer, not an error.
    let Response::Samples(r) = light
        .request(
            full.peer_id(),
            Request::Samples(pb::SampleRequest {
                height: 9,
                cells: vec![pb::P2pCell { row: 0, col: 0 }],
            }),
        )
        .await
        .expect("samples")
    else {
        panic!("wrong response kind");
    };
    assert!(r.samples.is_empty());
    let Response::Headers(h) = light
        .request(
            full.peer_id(),
            Request::Headers(pb::HeaderRangeRequest { from: 5, count: 3 }),
        )
        .await
        .expect("headers")
    else {
        panic!("wrong response kind");
    };
    assert_eq!(
        h.headers,
        [5u64, 6, 7].map(|x| x.to_be_bytes().to_vec()).to_vec()
    );
    // Over the request bound: refused before sending.
    let too_many = (0..300).map(|c| pb::P2pCell { row: 0, col: c }).collect();
    let e = light
        .request(
            full.peer_id(),
            Request::Samples(pb::SampleRequest {
                height: 1,
                cells: too_many,
            }),
        )
        .await
        .expect_err("over the bound");
    assert!(matches!(e, NetworkError::Request { .. }), "{e}");
    // A response over its bound is never sent: the requester gets an error, nobody crashes.
    let e = light
        .request(
            full.peer_id(),
            Request::Row(pb::RowRequest { height: 1, row: 0 }),
        )
        .await
        .expect_err("oversized row");
    assert!(e.is_transient(), "{e}");
    // Light nodes do not serve.
    let e = full
        .request(
            light.peer_id(),
            Request::Samples(pb::SampleRequest {
                height: 1,
                cells: vec![],
            }),
        )
        .await
        .expect_err("light nodes do not serve");
    assert!(e.to_string().contains("protocol"), "{e}");
    // The network keeps working after all of that.
    assert!(matches!(
        light
            .request(
                full.peer_id(),
                Request::Headers(pb::HeaderRangeRequest { from: 1, count: 1 })
            )
            .await,
        Ok(Response::Headers(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_are_gossiped_to_every_node() {
    let (producer, _) = node(true).await;
    let (full, mut full_headers) = node(true).await;
    let (light, mut light_headers) = node(false).await;
    connect(&full, &producer).await;
    connect(&light, &full).await;
    connect(&light, &producer).await;
    let header = b"signed header bytes".to_vec();
    // Subscriptions travel over a heartbeat or two; publish once the producer knows both nodes
    // take the topic, so the header reaches each directly (flood publish) and not only by
    // the lazy gossip of a mesh still forming.
    let mut subscribed = false;
    for _ in 0..100 {
        let peers = producer.header_topic_peers().await.expect("topic peers");
        if peers.contains(&full.peer_id()) && peers.contains(&light.peer_id()) {
            subscribed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(subscribed, "the producer never saw both subscriptions");
    let published = producer.publish_header(header.clone()).await.is_ok();
    assert!(published, "no peer subscribed to the header topic");
    for rx in [&mut full_headers, &mut light_headers] {
        let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("header arrives")
            .expect("channel");
        assert_eq!(got.1, header);
    }
}

/// Pooled blob ids travel only among serving nodes (light nodes do not take the topic), and
/// the blobs behind them are pulled by id within the bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_ids_reach_serving_nodes_and_blobs_are_pulled_by_id() {
    let (a, _) = node(true).await;
    let (b, mut b_heard) = node(true).await;
    let (light, mut light_heard) = node(false).await;
    connect(&b, &a).await;
    connect(&light, &a).await;
    let ids: Vec<[u8; 32]> = (0..70u8).map(|i| [i; 32]).collect();
    // Announcing fails until a serving peer's subscription has arrived.
    let mut announced = false;
    for _ in 0..50 {
        if a.announce_blobs(ids.clone()).await.is_ok() {
            announced = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(announced, "no serving peer took the blob topic");
    // Seventy ids go out as two messages: 64 and 6.
    let mut heard = Vec::new();
    while heard.len() < ids.len() {
        let (from, data) = tokio::time::timeout(Duration::from_secs(10), b_heard.recv())
            .await
            .expect("b hears the ids")
            .expect("channel");
        assert_eq!(from, a.peer_id());
        assert!(
            data.len() == 64 * 32 || data.len() == 6 * 32,
            "{}",
            data.len()
        );
        heard.extend(
            data.chunks(32)
                .map(|c| <[u8; 32]>::try_from(c).expect("32")),
        );
    }
    heard.sort_unstable();
    assert_eq!(heard, ids);
    let Ok(Response::Blobs(r)) = b
        .request(
            a.peer_id(),
            Request::Blobs(pb::BlobsRequest {
                ids: ids[..64].iter().map(|i| i.to_vec()).collect(),
            }),
        )
        .await
    else {
        panic!("no blobs answer");
    };
    assert_eq!(r.blobs.len(), 64);
    assert_eq!(r.blobs[3].data, ids[3].to_vec());
    // Past the bound the request is refused before it leaves.
    let r = b
        .request(
            a.peer_id(),
            Request::Blobs(pb::BlobsRequest {
                ids: ids.iter().map(|i| i.to_vec()).collect(),
            }),
        )
        .await;
    assert!(matches!(r, Err(NetworkError::Request { .. })), "{r:?}");
    // The light node never subscribed: it heard nothing.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), light_heard.recv())
            .await
            .is_err(),
        "a light node received blob ids"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_offences_ban_a_peer_and_honest_peers_stay() {
    let (bad, _) = node(true).await;
    let (good, _) = node(true).await;
    let (light, _) = node(false).await;
    connect(&light, &bad).await;
    connect(&light, &good).await;
    light
        .report(bad.peer_id(), Offence::Timeout)
        .await
        .expect("report");
    assert_eq!(light.score(bad.peer_id()).await.expect("score"), -5);
    light
        .report(bad.peer_id(), Offence::InvalidData)
        .await
        .expect("report");
    light
        .report(bad.peer_id(), Offence::InvalidData)
        .await
        .expect("report");
    // Banned: disconnected, requests refused, reconnection refused.
    for _ in 0..50 {
        if !light.peers().await.expect("peers").contains(&bad.peer_id()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let peers = light.peers().await.expect("peers");
    assert!(
        !peers.contains(&bad.peer_id()),
        "banned peer still connected"
    );
    assert!(peers.contains(&good.peer_id()), "honest peer dropped");
    let e = light
        .request(
            bad.peer_id(),
            Request::Headers(pb::HeaderRangeRequest { from: 1, count: 1 }),
        )
        .await
        .expect_err("banned");
    assert_eq!(e, NetworkError::Banned(bad.peer_id().to_string()));
    connect(&bad, &light).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!light.peers().await.expect("peers").contains(&bad.peer_id()));
    assert!(light
        .request(
            good.peer_id(),
            Request::Headers(pb::HeaderRangeRequest { from: 1, count: 1 })
        )
        .await
        .is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bans_expire_and_the_peer_may_return() {
    let (bad, _) = node(true).await;
    let scoring = PeerBookConfig {
        first_ban: Duration::from_secs(2),
        ..PeerBookConfig::default()
    };
    let (light, events) = start_with(NetworkConfig::local("nettest", false), scoring)
        .await
        .expect("starts");
    let (tx, _rx) = mpsc::channel(16);
    serve(light.clone(), events, tx);
    connect(&light, &bad).await;
    let headers = || Request::Headers(pb::HeaderRangeRequest { from: 1, count: 1 });
    for _ in 0..2 {
        light
            .report(bad.peer_id(), Offence::InvalidData)
            .await
            .expect("report");
    }
    assert_eq!(
        light.request(bad.peer_id(), headers()).await,
        Err(NetworkError::Banned(bad.peer_id().to_string()))
    );
    let bad_addr = bad.listen_addrs().await.expect("addrs").remove(0);
    assert_eq!(
        light.dial(bad_addr.clone()).await,
        Err(NetworkError::Banned(bad.peer_id().to_string()))
    );
    // Lifted within a second of its end (the expiry tick): the peer may connect and is asked
    // again, on probation.
    let mut back = false;
    for _ in 0..100 {
        if light.dial(bad_addr.clone()).await.is_ok() {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "the ban never ended");
    assert_eq!(
        light.score(bad.peer_id()).await.expect("score"),
        PROBATION_SCORE
    );
    assert!(matches!(
        light.request(bad.peer_id(), headers()).await,
        Ok(Response::Headers(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_application_never_stalls_the_network() {
    let (producer, _) = node(true).await;
    let (full, _) = node(true).await;
    // An application that never reads its events.
    let (stalled, _events) = start(NetworkConfig::local("nettest", false))
        .await
        .expect("starts");
    connect(&stalled, &producer).await;
    connect(&stalled, &full).await;
    publish_until_meshed(&producer, b"header 0").await;
    let mut dropped = false;
    for i in 1..=4 * CHANNEL_BOUND {
        let _ = producer
            .publish_header(format!("header {i}").into_bytes())
            .await;
        if i % 64 == 0 && stalled.dropped_events().headers > 0 {
            dropped = true;
            break;
        }
    }
    for _ in 0..100 {
        if dropped {
            break;
        }
        dropped = stalled.dropped_events().headers > 0;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(dropped, "the event queue never overflowed");
    assert_eq!(stalled.dropped_events().requests, 0);
    // The event loop still runs: commands are answered and requests go out and come back.
    let peers = tokio::time::timeout(Duration::from_secs(5), stalled.peers())
        .await
        .expect("the event loop answers commands")
        .expect("peers");
    assert!(peers.contains(&full.peer_id()));
    let r = tokio::time::timeout(
        Duration::from_secs(5),
        stalled.request(
            full.peer_id(),
            Request::Headers(pb::HeaderRangeRequest { from: 1, count: 1 }),
        ),
    )
    .await
    .expect("the event loop carries requests");
    assert!(matches!(r, Ok(Response::Headers(_))), "{r:?}");
}

async fn publish_until_meshed(producer: &NetworkClient, header: &[u8]) {
    // The mesh forms over a few heartbeats; publishing fails until a peer has subscribed.
    for _ in 0..50 {
        if producer.publish_header(header.to_vec()).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no peer subscribed to the header topic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_forward_only_headers_they_validated() {
    // producer -- relay -- light: the light node hears only what the relay forwards.
    // No discovery, or the light node and the producer would find each other.
    let fixed = |serve| NetworkConfig {
        discover: false,
        ..NetworkConfig::local("nettest", serve)
    };
    let (producer, _) = node_with(fixed(true)).await;
    let (relay, mut relay_headers) = node_with(fixed(true)).await;
    let (light, mut light_headers) = node_with(fixed(false)).await;
    connect(&relay, &producer).await;
    connect(&light, &relay).await;
    // Good headers until the light node hears one through the relay: the path is meshed.
    publish_until_meshed(&producer, b"good header 0").await;
    let mut meshed = false;
    for i in 1..50 {
        if let Ok(Some(_)) =
            tokio::time::timeout(Duration::from_millis(200), light_headers.recv()).await
        {
            meshed = true;
            break;
        }
        let _ = producer
            .publish_header(format!("good header {i}").into_bytes())
            .await;
    }
    assert!(
        meshed,
        "the light node never heard a header through the relay"
    );
    producer
        .publish_header(b"bad header".to_vec())
        .await
        .expect("publish");
    // The relay hears it, rejects it and penalises its forwarder...
    loop {
        let (_, data) = tokio::time::timeout(Duration::from_secs(10), relay_headers.recv())
            .await
            .expect("the relay hears the bad header")
            .expect("channel");
        if data == b"bad header" {
            break;
        }
    }
    let mut penalised = false;
    for _ in 0..50 {
        if relay.score(producer.peer_id()).await.expect("score") < 0 {
            penalised = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        penalised,
        "the relay did not penalise the forwarder of a bad header"
    );
    // ...and never forwards it: the light node hears the next good header and nothing bad.
    producer
        .publish_header(b"good header last".to_vec())
        .await
        .expect("publish");
    loop {
        let (_, data) = tokio::time::timeout(Duration::from_secs(10), light_headers.recv())
            .await
            .expect("the light node hears the last good header")
            .expect("channel");
        assert_ne!(
            data, b"bad header",
            "the relay forwarded a header it rejected"
        );
        if data == b"good header last" {
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_carries_requests() {
    let quic = |serve| {
        let mut c = NetworkConfig::local("nettest", serve);
        c.listen = vec!["/ip4/127.0.0.1/udp/0/quic-v1".parse().expect("addr")];
        c
    };
    let (full, events) = start(quic(true)).await.expect("starts");
    let (tx, _rx) = mpsc::channel(16);
    serve(full.clone(), events, tx);
    let (light, _) = start(quic(false)).await.expect("starts");
    let addr = full.listen_addrs().await.expect("addrs").remove(0);
    assert!(addr.to_string().contains("/quic-v1/"), "{addr}");
    light.dial(addr).await.expect("dial over QUIC");
    let r = light
        .request(
            full.peer_id(),
            Request::Namespace(pb::NamespaceRequest {
                height: 1,
                namespace: vec![0; 29],
            }),
        )
        .await
        .expect("answer over QUIC");
    let Response::Namespace(r) = r else {
        panic!("wrong response kind")
    };
    assert!(r.has_height);
    assert_eq!(r.proof.expect("proof").blob_cells.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kademlia_discovers_peers_beyond_the_bootstrap_node() {
    let (a, _) = node(true).await;
    let (b, _) = node(true).await;
    connect(&b, &a).await;
    // The newcomer knows only `a`; it must find and connect to `b` by itself.
    let mut config = NetworkConfig::local("nettest", false);
    config.bootstrap = a.listen_addrs().await.expect("addrs");
    let (newcomer, _events) = start(config).await.expect("starts");
    let mut found = false;
    for _ in 0..100 {
        if newcomer
            .peers()
            .await
            .expect("peers")
            .contains(&b.peer_id())
        {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        found,
        "the newcomer never connected to the peer it could only discover"
    );
}

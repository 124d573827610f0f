//! A hostile libp2p peer (`da_testkit::hostile`, below the codec) against a producer and a
//! light client on 127.0.0.1. Against the node it holds slow streams open, floods it with
//! requests, then sends garbage frames and length prefixes over the protocol's bound: it is
//! penalised for each malformed frame until banned and disconnected. Against the light client it
//! serves samples with garbage, oversized prefixes or a trickle: the garbage and oversized
//! servers are banned, the trickler only costs timeouts. Throughout, the honest light client
//! keeps getting verdicts from the node, and the process's memory stays bounded.

use std::time::Duration;

use da_light::{sampler::HeightStatus, LightClient};
use da_network::{protocol::SAMPLE_LIMITS, BAN_SCORE};
use da_node::NodeHandle;
use da_proto::v1 as pb;
use da_testkit::{
    hostile::{varint, Hostile, Proto, Raw, Serve},
    Cluster,
};
use libp2p::{multiaddr::Protocol, Multiaddr};
use prost::Message;

const CHAIN: &str = "hostile-test";

/// The process's resident memory in bytes (Linux).
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .expect("VmRSS")
}

/// Waits until the light client has a final verdict for a height above `after`, and returns
/// that height; every such verdict must be `available` (the node is honest).
async fn next_verdict(lc: &LightClient, after: u64) -> u64 {
    for _ in 0..600 {
        let head = lc.head().unwrap_or(0);
        for h in (after + 1..=head).rev() {
            if let Some(s) = lc.status(h).filter(HeightStatus::is_final) {
                assert!(
                    matches!(s, HeightStatus::Available { .. }),
                    "height {h}: {s:?}"
                );
                return h;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no verdict above height {after} within 60 s");
}

fn frame(m: &impl Message) -> Vec<u8> {
    let body = m.encode_to_vec();
    let mut out = varint(body.len());
    out.extend_from_slice(&body);
    out
}

async fn node_addr(node: &NodeHandle) -> Multiaddr {
    let net = node.p2p.as_ref().expect("p2p");
    da_testkit::p2p_addrs(node)
        .await
        .remove(0)
        .with(Protocol::P2p(net.peer_id()))
}

/// Waits until `score()` is at or below the ban score; returns the last score seen.
async fn until_banned<F, Fut>(mut score: F) -> i32
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = i32>,
{
    let mut last = 0;
    for _ in 0..300 {
        last = score().await;
        if last <= BAN_SCORE {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_peer_is_banned_and_honest_peers_keep_being_served() {
    let c = Cluster::new(CHAIN);
    let node = c.producer().await;
    let mut config = c.light_config(da_testkit::p2p_addrs(&node).await, 31);
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().expect("addr")];
    let lc = c.start_light(config).await;
    let node_net = node.p2p.as_ref().expect("p2p").clone();
    let node_peer = node_net.peer_id();
    let mut seen = next_verdict(&lc, 0).await;
    let rss_before = rss();

    // Against the node. A flood of 2000 well-formed sample requests at once.
    let hostile = Hostile::start(CHAIN, Serve::Garbage).await;
    hostile
        .dial(node_addr(&node).await)
        .await
        .expect("dial node");
    let request = frame(&pb::SampleRequest {
        height: seen,
        cells: vec![pb::P2pCell { row: 0, col: 0 }],
    });
    let mut flood = Vec::new();
    for _ in 0..2000 {
        flood.push(
            hostile
                .fire(node_peer, Proto::Sample, Raw::now(request.clone()))
                .await,
        );
    }
    // The honest light client keeps getting verdicts meanwhile.
    for _ in 0..3 {
        seen = next_verdict(&lc, seen).await;
    }
    let mut answered = 0;
    for f in flood {
        if let Ok(Ok(bytes)) = f.await {
            if !bytes.is_empty() {
                answered += 1;
            }
        }
    }
    assert!(answered > 0, "no request of the flood was served");
    eprintln!("flood: {answered} of 2000 sample requests answered");
    // Slow streams: 100 requests declaring the whole request bound, then a byte a second (the
    // node times each out; they take only this peer's stream slots).
    let mut slow = Vec::new();
    for _ in 0..100 {
        let mut bytes = varint(SAMPLE_LIMITS.request);
        bytes.extend_from_slice(&[0u8; 64]);
        slow.push(
            hostile
                .fire(
                    node_peer,
                    Proto::Sample,
                    Raw {
                        bytes,
                        pace: Some(Duration::from_secs(1)),
                        hold: None,
                    },
                )
                .await,
        );
    }
    for _ in 0..2 {
        seen = next_verdict(&lc, seen).await;
    }
    // Each slow stream ends when the node times it out (or, past its stream slots, at once).
    for s in slow {
        let _ = s.await;
    }
    // Floods and slow streams are not offences (they are bounded instead); garbage is.
    assert!(
        node_net.score(hostile.peer_id).await.expect("score") > BAN_SCORE,
        "well-formed requests were punished"
    );
    // Garbage frames and oversized length prefixes, alternately, until banned.
    let garbage = {
        let mut b = varint(40);
        b.extend(std::iter::repeat_n(0xffu8, 40));
        b
    };
    let oversized = {
        let mut b = varint(SAMPLE_LIMITS.request + 1);
        b.extend_from_slice(&[0u8; 16]);
        b
    };
    let mut last = 0;
    for i in 0..8 {
        let raw = if i % 2 == 0 { &garbage } else { &oversized };
        let asked = hostile
            .send(node_peer, Proto::Sample, Raw::now(raw.clone()))
            .await;
        assert!(
            asked.as_ref().map_or(true, Vec::is_empty),
            "malformed frame {i} was answered: {asked:?}"
        );
        let mut score = last;
        for _ in 0..50 {
            score = node_net.score(hostile.peer_id).await.expect("score");
            if score < last {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            score < last,
            "malformed frame {i} cost nothing (score {score}, answer {asked:?}, connected {})",
            hostile.is_connected(node_peer).await
        );
        last = score;
        if score <= BAN_SCORE {
            break;
        }
    }
    assert!(last <= BAN_SCORE, "never banned: score {last}");
    // Banned: disconnected, and dialing again does not get it served.
    for _ in 0..50 {
        if !hostile.is_connected(node_peer).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !hostile.is_connected(node_peer).await,
        "a banned peer is still connected"
    );
    let _ = hostile.dial(node_addr(&node).await).await;
    let again = hostile
        .send(node_peer, Proto::Sample, Raw::now(request.clone()))
        .await;
    assert!(
        again.as_ref().map_or(true, Vec::is_empty),
        "a banned peer was served: {again:?}"
    );
    seen = next_verdict(&lc, seen).await;

    // Against the light client: peers that serve samples badly.
    let lc_addr = lc
        .network()
        .listen_addrs()
        .await
        .expect("addrs")
        .remove(0)
        .with(Protocol::P2p(lc.network().peer_id()));
    for serve in [Serve::Garbage, Serve::Oversized] {
        let bad = Hostile::start(CHAIN, serve.clone()).await;
        bad.dial(lc_addr.clone()).await.expect("dial light client");
        let score =
            until_banned(|| async { lc.network().score(bad.peer_id).await.unwrap_or(0) }).await;
        assert!(
            score <= BAN_SCORE,
            "{serve:?}: not banned (score {score}, {} requests served)",
            bad.served.load(std::sync::atomic::Ordering::Relaxed)
        );
        seen = next_verdict(&lc, seen).await;
    }
    // A trickler declares the whole response bound and sends a byte every 200 ms: it costs
    // the light client timeouts, never memory, and never its verdicts.
    let trickler = Hostile::start(CHAIN, Serve::Trickle(Duration::from_millis(200))).await;
    trickler
        .dial(lc_addr.clone())
        .await
        .expect("dial light client");
    for _ in 0..100 {
        if trickler.served.load(std::sync::atomic::Ordering::Relaxed) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        trickler.served.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "the light client never asked the trickler"
    );
    for _ in 0..3 {
        seen = next_verdict(&lc, seen).await;
    }
    let grown = rss().saturating_sub(rss_before);
    eprintln!("resident memory grew by {} MiB", grown >> 20);
    assert!(
        grown < 256 << 20,
        "resident memory grew by {} MiB under the hostile peers",
        grown >> 20
    );
    lc.shutdown();
    node.shutdown().await;
}

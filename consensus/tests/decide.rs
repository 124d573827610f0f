//! Real engines on 127.0.0.1 deciding over an in-memory block layer: one validator alone, four
//! validators agreeing at every node, a lying proposer voted down (its heights are decided in a
//! later round by another proposer), a stopped validator restarting from its WAL and catching
//! up by value sync, and two of four down stopping decisions until they return. (Crashes of
//! real processes by SIGKILL are tested with the node binary in `cli/tests`.)

use std::time::Duration;

use da_consensus::local::LocalNet;
use da_types::attestation::{is_window_end, tuple_root};
use malachitebft_engine_byzantine::{ByzantineConfig, Trigger};

const BLOCK_TIME: Duration = Duration::from_millis(200);

/// `n` validators started under a temporary directory; `liars` propose wrong data.
async fn network(n: usize, liars: &[usize]) -> (LocalNet, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut net = LocalNet::new(n, liars, dir.path(), BLOCK_TIME);
    net.start().await.expect("validators start");
    (net, dir)
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

/// No fork, every certificate valid, and every header's `tuple_root` the root of its
/// attestation window (zero off a window's last height).
fn assert_sound(net: &LocalNet) {
    assert_eq!(net.fork(), None, "two headers at one height");
    let w = net.params.attestation_window;
    assert!(w > 0, "the local chain attests windows");
    for (i, app) in net.apps.iter().enumerate() {
        if let Err(e) = app.check_certificates(&net.params) {
            panic!("validator {i}: {e}");
        }
        for h in app.ids().keys().copied() {
            let header = app.header(h).expect("stored").header;
            if !is_window_end(h, w) {
                assert_eq!(header.tuple_root, [0; 32], "validator {i}, height {h}");
                continue;
            }
            let roots: Option<Vec<[u8; 32]>> = (h + 1 - w..=h)
                .map(|x| app.header(x).map(|b| b.header.data_root))
                .collect();
            if let Some(roots) = roots {
                assert_eq!(
                    header.tuple_root,
                    tuple_root(h + 1 - w, &roots),
                    "validator {i}, height {h}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_validator_decides_alone() {
    let (net, _dir) = network(1, &[]).await;
    // Past the end of the first attestation window (4 heights).
    until("height 5", 60, || net.apps[0].height() >= 5).await;
    assert_sound(&net);
    // Every block extends the previous one.
    let ids = net.apps[0].ids();
    let mut parent = [0u8; 32];
    for (h, (id, _)) in &ids {
        let header = net.apps[0].header(*h).expect("stored");
        assert_eq!(header.header.parent, parent, "parent at {h}");
        parent = *id;
    }
    net.stop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_validators_decide_the_same_chain() {
    let (net, _dir) = network(4, &[]).await;
    until("height 6 everywhere", 120, || {
        net.apps.iter().all(|a| a.height() >= 6)
    })
    .await;
    let first = net.apps[0].ids();
    for (i, app) in net.apps.iter().enumerate().skip(1) {
        let ids = app.ids();
        for h in 1..=6 {
            assert_eq!(
                ids[&h].0, first[&h].0,
                "height {h} differs at validator {i}"
            );
        }
    }
    assert_sound(&net);
    net.stop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_proposer_gets_nil_votes_and_another_decides() {
    // Validator index order is by public key; find which set index the liar (key 0) holds.
    let (net, _dir) = network(4, &[0]).await;
    until("height 8 everywhere", 180, || {
        net.apps.iter().all(|a| a.height() >= 8)
    })
    .await;
    let params = &net.params;
    let liar_key = da_consensus::local::keys(1)[0].public_key();
    let liar_index = params.validators.index_of(&liar_key).expect("liar in set") as u32;
    let mut liar_rounds = 0;
    for (h, (proposer, round)) in net.apps[1].proposers().into_iter().take(8) {
        // No block the liar proposed is ever decided: its data is wrong.
        assert_ne!(proposer, liar_index, "liar's block decided at {h}");
        if params.validators.proposer(h, 0) == liar_index as usize {
            assert!(
                round > 0,
                "height {h} decided in round 0 though the liar proposed"
            );
            liar_rounds += 1;
        }
    }
    assert_sound(&net);
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
    let (mut net, _dir) = network(4, &[]).await;
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
    net.restart(3).await.expect("restarts");
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
    assert_sound(&net);
    net.stop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_four_down_stops_decisions_and_the_chain_resumes_when_they_return() {
    let (mut net, _dir) = network(4, &[]).await;
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
    net.restart(2).await.expect("restarts");
    net.restart(3).await.expect("restarts");
    let top = stalled[..2].iter().copied().max().unwrap_or(0);
    until("the chain resumes", 180, || {
        net.heights().iter().all(|h| *h >= top + 3)
    })
    .await;
    assert_sound(&net);
    net.stop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_equivocating_proposer_cannot_make_two_certified_headers_and_is_reported() {
    // Validator 0 signs two different proposals every time it proposes.
    let byz = ByzantineConfig::new(Some(7)).with_equivocate_proposals(Trigger::Always);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut net = LocalNet::new(4, &[], dir.path(), BLOCK_TIME);
    net.start_byzantine(0, byz)
        .await
        .expect("Byzantine validator starts");
    net.start().await.expect("validators start");
    until("height 8 everywhere", 180, || {
        net.heights().iter().all(|h| *h >= 8)
    })
    .await;
    // One chain: no height decided twice, every certificate valid.
    assert_sound(&net);
    // The honest validators saw the equivocation and reported it.
    until("evidence reported", 60, || {
        net.metrics[1..].iter().any(|m| m.evidence_count() > 0)
    })
    .await;
    net.stop_all().await;
}

//! The sans-IO sampler driven by simulated peers: seeded RNG, injected time, no sockets.
//! Honest, withholding, corrupting and silent peers; catch-up behind the head; determinism.

use std::{
    collections::{HashSet, VecDeque},
    time::{Duration, Instant},
};

use da_light::{Action, CellVerdict, Event, HeightStatus, Sampler, SamplerConfig, SamplerError};
use da_types::CellIndex;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[derive(Clone, Debug, PartialEq)]
enum Peer {
    /// Serves every cell not in the withheld set.
    Honest,
    /// Serves nothing valid: every answer carries a bad proof.
    Corrupt,
    /// Never answers.
    Silent,
    /// Has not imported the block yet ("ask again later").
    Behind,
}

struct Sim {
    sampler: Sampler<u32>,
    rng: ChaCha8Rng,
    now: Instant,
    peers: Vec<Peer>,
    withheld: HashSet<CellIndex>,
    log: Vec<Action<u32>>,
}

impl Sim {
    fn new(config: SamplerConfig, peers: Vec<Peer>, seed: u64) -> Self {
        let mut s = Self {
            sampler: Sampler::new(config).expect("config"),
            rng: ChaCha8Rng::seed_from_u64(seed),
            now: Instant::now(),
            peers,
            withheld: HashSet::new(),
            log: Vec::new(),
        };
        for p in 0..s.peers.len() as u32 {
            s.feed(Event::PeerUp(p));
        }
        s
    }

    fn feed(&mut self, e: Event<u32>) {
        let mut queue = VecDeque::from([e]);
        while let Some(e) = queue.pop_front() {
            let actions = self.sampler.handle(self.now, &mut self.rng, e);
            for a in actions {
                if let Action::Request {
                    id, peer, cells, ..
                } = &a
                {
                    match self.peers[*peer as usize] {
                        Peer::Honest => {
                            let (missing, verified): (Vec<_>, Vec<_>) =
                                cells.iter().partition(|c| self.withheld.contains(c));
                            queue.push_back(Event::Response {
                                id: *id,
                                verified,
                                missing,
                                invalid: false,
                            });
                        }
                        Peer::Corrupt => queue.push_back(Event::Response {
                            id: *id,
                            verified: Vec::new(),
                            missing: Vec::new(),
                            invalid: true,
                        }),
                        Peer::Silent => {}
                        Peer::Behind => queue.push_back(Event::Failed(*id)),
                    }
                }
                self.log.push(a);
            }
        }
    }

    /// Advances time to each deadline until `height` has a final status.
    fn run(&mut self, height: u64) -> HeightStatus {
        for _ in 0..1000 {
            if let Some(s) = self.sampler.status(height).filter(|s| s.is_final()) {
                return s.clone();
            }
            let Some(d) = self.sampler.next_deadline() else {
                panic!("height {height} stuck at {:?}", self.sampler.status(height));
            };
            self.now = self.now.max(d);
            self.feed(Event::Tick);
        }
        panic!("no verdict for {height}");
    }

    fn requests(&self) -> impl Iterator<Item = (u32, u64, &Vec<CellIndex>)> {
        self.log.iter().filter_map(|a| match a {
            Action::Request {
                peer,
                height,
                cells,
                ..
            } => Some((*peer, *height, cells)),
            _ => None,
        })
    }
}

fn cfg() -> SamplerConfig {
    SamplerConfig {
        max_cells_per_request: 8,
        ..SamplerConfig::default()
    }
}

#[test]
fn honest_peers_make_a_height_available_at_the_target_confidence() {
    let mut sim = Sim::new(cfg(), vec![Peer::Honest; 3], 1);
    sim.feed(Event::Header { height: 5, k: 64 });
    let HeightStatus::Available {
        confidence,
        samples,
        failed,
        ..
    } = sim.run(5)
    else {
        panic!("not available");
    };
    assert_eq!(samples, 31, "99.99% at k = 64 (specs/04-sampling.md)");
    assert!(confidence >= 0.9999);
    assert_eq!(failed, 0);
    let cells: Vec<CellIndex> = sim.requests().flat_map(|(_, _, c)| c.clone()).collect();
    let distinct: HashSet<_> = cells.iter().collect();
    assert_eq!(
        (cells.len(), distinct.len()),
        (31, 31),
        "distinct, each asked once"
    );
    assert!(cells.iter().all(|c| c.row < 128 && c.col < 128));
    let peers: HashSet<u32> = sim.requests().map(|(p, _, _)| p).collect();
    assert_eq!(peers.len(), 3, "spread over every peer");
    assert!(sim.requests().all(|(_, _, c)| c.len() <= 8));
}

#[test]
fn withholding_a_quarter_is_never_available_and_misses_stay_under_the_bound() {
    // The smallest unrecoverable withholding: a (k+1) x 65 rectangle of the 2k x 128 square.
    let k = 64usize;
    let rect: HashSet<CellIndex> = (0..=k as u32)
        .flat_map(|row| (0..65u32).map(move |col| CellIndex { row, col }))
        .collect();
    // At 99.99% (s = 31) no seed of 300 may call it available.
    for seed in 0..300 {
        let mut sim = Sim::new(cfg(), vec![Peer::Honest; 4], seed);
        sim.withheld = rect.clone();
        sim.feed(Event::Header { height: 1, k });
        assert!(
            matches!(sim.run(1), HeightStatus::Unavailable { .. }),
            "seed {seed}: withheld block marked available"
        );
    }
    // At 99% (s = 16) the empirical miss rate matches the theory: ≤ 1% (plus sampling slack).
    let mut misses = 0;
    let runs = 2000;
    for seed in 0..runs {
        let mut sim = Sim::new(
            SamplerConfig {
                target_confidence: 0.99,
                ..cfg()
            },
            vec![Peer::Honest; 2],
            10_000 + seed,
        );
        sim.withheld = rect.clone();
        sim.feed(Event::Header { height: 1, k });
        if matches!(sim.run(1), HeightStatus::Available { .. }) {
            misses += 1;
        }
    }
    let bound = da_types::sampling::false_positive_rate(k, 16).expect("rate");
    eprintln!(
        "{misses} misses in {runs} runs, theory {:.2}",
        bound * runs as f64
    );
    assert!(bound <= 0.01);
    assert!(
        (misses as f64) <= bound * runs as f64 * 2.5 + 5.0,
        "{misses} misses in {runs}, theory {:.1}",
        bound * runs as f64
    );
}

#[test]
fn corrupt_peer_is_penalised_and_honest_peers_finish() {
    let mut sim = Sim::new(cfg(), vec![Peer::Corrupt, Peer::Honest, Peer::Honest], 3);
    sim.feed(Event::Header { height: 2, k: 16 });
    assert!(matches!(sim.run(2), HeightStatus::Available { .. }));
    let penalised: Vec<u32> = sim
        .log
        .iter()
        .filter_map(|a| match a {
            Action::Penalize { peer, .. } => Some(*peer),
            _ => None,
        })
        .collect();
    assert!(!penalised.is_empty() && penalised.iter().all(|p| *p == 0));
    // The corrupt peer is never asked again for a cell it failed.
    let mut refused = HashSet::new();
    for (peer, _, cells) in sim.requests() {
        for c in cells {
            if peer == 0 {
                assert!(refused.insert(*c), "asked the corrupt peer twice for {c:?}");
            }
        }
    }
}

#[test]
fn a_single_withholding_peer_is_unavailable_at_once_and_timeouts_retry_elsewhere() {
    let mut sim = Sim::new(cfg(), vec![Peer::Honest], 4);
    sim.withheld = (0..128).map(|col| CellIndex { row: 0, col }).collect();
    sim.withheld
        .extend((0..2).flat_map(|row| (0..128).map(move |col| CellIndex { row, col })));
    sim.withheld
        .extend((0..4).flat_map(|row| (0..128).map(move |col| CellIndex { row, col })));
    // k = 2: 4 x 128 square, every cell withheld.
    sim.feed(Event::Header { height: 1, k: 2 });
    let t0 = sim.now;
    assert!(matches!(sim.run(1), HeightStatus::Unavailable { .. }));
    assert_eq!(sim.now, t0, "a refusal needs no timeout");

    let timeout = Duration::from_millis(500);
    let mut sim = Sim::new(
        SamplerConfig {
            request_timeout: timeout,
            ..cfg()
        },
        vec![Peer::Silent, Peer::Honest],
        5,
    );
    sim.feed(Event::Header { height: 9, k: 8 });
    let t0 = sim.now;
    let HeightStatus::Available {
        failed, latency, ..
    } = sim.run(9)
    else {
        panic!("not available");
    };
    assert!(failed > 0, "the silent peer's cells failed once");
    assert!(latency >= timeout && sim.now - t0 >= timeout);
}

#[test]
fn silent_peers_only_end_unavailable_after_max_attempts() {
    let mut sim = Sim::new(cfg(), vec![Peer::Silent; 2], 6);
    sim.feed(Event::Header { height: 3, k: 4 });
    let t0 = sim.now;
    let HeightStatus::Unavailable { failed, .. } = sim.run(3) else {
        panic!("silent peers cannot make a block available");
    };
    assert!(failed >= 3);
    assert!(sim.now - t0 >= 3 * SamplerConfig::default().request_timeout);
}

#[test]
fn catch_up_runs_behind_the_head_with_bounded_concurrency() {
    let mut sim = Sim::new(
        SamplerConfig {
            max_catchup: 2,
            ..cfg()
        },
        vec![Peer::Silent; 2],
        7,
    );
    sim.feed(Event::Header { height: 100, k: 8 });
    for h in 90..100 {
        sim.feed(Event::Header { height: h, k: 8 });
    }
    let sampling: Vec<u64> = sim
        .sampler
        .statuses()
        .filter(|(_, s)| matches!(s, HeightStatus::Sampling { .. }))
        .map(|(h, _)| h)
        .collect();
    assert_eq!(
        sampling.len(),
        3,
        "the head and two catch-up heights: {sampling:?}"
    );
    assert_eq!(sampling[0], 100);
    let pending = sim
        .sampler
        .statuses()
        .filter(|(_, s)| matches!(s, HeightStatus::Pending))
        .count();
    assert_eq!(pending, 8);
    // A new head starts at once although the catch-up slots are full, and is asked first.
    let before = sim.log.len();
    sim.feed(Event::Header { height: 101, k: 8 });
    assert!(matches!(
        sim.sampler.status(101),
        Some(HeightStatus::Sampling { .. })
    ));
    let first = sim.log[before..].iter().find_map(|a| match a {
        Action::Request { height, .. } => Some(*height),
        _ => None,
    });
    assert_eq!(first, Some(101));
}

#[test]
fn no_peers_waits_then_samples_and_lost_peers_are_retried_elsewhere() {
    let mut sim = Sim::new(cfg(), Vec::new(), 8);
    sim.feed(Event::Header { height: 1, k: 4 });
    assert_eq!(sim.sampler.inflight(), 0);
    assert!(matches!(
        sim.sampler.status(1),
        Some(HeightStatus::Sampling { .. })
    ));
    sim.peers = vec![Peer::Silent, Peer::Honest];
    sim.feed(Event::PeerUp(0));
    assert!(sim.sampler.inflight() > 0);
    // Peer 0 goes away with requests in flight; they go to peer 1, which answers.
    sim.feed(Event::PeerUp(1));
    sim.feed(Event::PeerDown(0));
    assert!(matches!(sim.run(1), HeightStatus::Available { .. }));
}

#[test]
fn same_seed_same_decisions() {
    let digest = |seed| {
        let mut sim = Sim::new(cfg(), vec![Peer::Honest, Peer::Corrupt, Peer::Silent], seed);
        let start = sim.now;
        sim.withheld = (0..64).map(|col| CellIndex { row: 3, col }).collect();
        for h in 1..=4 {
            sim.feed(Event::Header { height: h, k: 16 });
        }
        for h in 1..=4 {
            sim.run(h);
        }
        // Deadlines relative to the start, so that runs compare.
        sim.log
            .iter()
            .map(|a| match a {
                Action::Request {
                    id,
                    peer,
                    height,
                    cells,
                    deadline,
                } => format!("{id:?} {peer} {height} {cells:?} {:?}", *deadline - start),
                other => format!("{other:?}"),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(digest(42), digest(42));
    assert_ne!(digest(42), digest(43));
}

#[test]
fn bad_configs_are_refused() {
    for (c, want) in [
        (
            SamplerConfig {
                target_confidence: 1.0,
                ..cfg()
            },
            SamplerError::Confidence(1.0),
        ),
        (
            SamplerConfig {
                max_attempts: 0,
                ..cfg()
            },
            SamplerError::Zero("max_attempts"),
        ),
    ] {
        assert_eq!(Sampler::<u32>::new(c).expect_err("bad"), want);
    }
}

#[test]
fn a_peer_that_is_behind_is_asked_again_and_patience_bounds_the_wait() {
    let patience = Duration::from_secs(3);
    let config = SamplerConfig { patience, ..cfg() };
    // Behind for a while (2.5 s), then caught up: available, without using up attempts.
    let mut sim = Sim::new(
        SamplerConfig {
            patience: Duration::from_secs(10),
            ..config
        },
        vec![Peer::Behind],
        9,
    );
    sim.feed(Event::Header { height: 1, k: 4 });
    let t0 = sim.now;
    for _ in 0..5 {
        let d = sim.sampler.next_deadline().expect("a retry is scheduled");
        sim.now = d;
        sim.feed(Event::Tick);
    }
    assert!(matches!(
        sim.sampler.status(1),
        Some(HeightStatus::Sampling { .. })
    ));
    sim.peers[0] = Peer::Honest;
    let st = sim.run(1);
    assert!(matches!(st, HeightStatus::Available { .. }), "{st:?}");
    assert!(sim.now - t0 >= 5 * SamplerConfig::default().retry_delay);
    // Never caught up: unavailable once the patience is spent, not before.
    let mut sim = Sim::new(config, vec![Peer::Behind], 10);
    sim.feed(Event::Header { height: 1, k: 4 });
    let t0 = sim.now;
    assert!(matches!(sim.run(1), HeightStatus::Unavailable { .. }));
    assert!(sim.now - t0 >= patience);
}

#[test]
fn each_sampled_cell_reports_what_was_learned_of_it() {
    let count = |cells: &[(CellIndex, CellVerdict)], v: CellVerdict| {
        cells.iter().filter(|(_, x)| *x == v).count()
    };
    // Available: every drawn cell verified, as many as the verdict's samples.
    let mut sim = Sim::new(cfg(), vec![Peer::Corrupt, Peer::Honest, Peer::Honest], 11);
    assert!(sim.sampler.cells(3).is_none(), "an unknown height");
    sim.feed(Event::Header { height: 3, k: 16 });
    let HeightStatus::Available { samples, .. } = sim.run(3) else {
        panic!("not available");
    };
    let (k, cells) = sim.sampler.cells(3).expect("known");
    assert_eq!(k, 16);
    assert_eq!(cells.len(), samples);
    assert_eq!(count(&cells, CellVerdict::Verified), samples);
    assert!(cells.iter().all(|(c, _)| c.row < 32 && c.col < 128));

    // Unavailable: the cell that decided it is missing, nothing withheld is verified.
    let mut sim = Sim::new(cfg(), vec![Peer::Honest], 12);
    sim.withheld = (0..4)
        .flat_map(|row| (0..128).map(move |col| CellIndex { row, col }))
        .collect();
    sim.feed(Event::Header { height: 1, k: 2 });
    let HeightStatus::Unavailable { cell, .. } = sim.run(1) else {
        panic!("not unavailable");
    };
    let (_, cells) = sim.sampler.cells(1).expect("known");
    assert!(cells.contains(&(cell, CellVerdict::Missing)));
    assert_eq!(count(&cells, CellVerdict::Verified), 0);

    // Only a lying peer: its cells are bad (no evidence of withholding) until patience ends
    // the height on a cell nobody served, which is then missing.
    let mut sim = Sim::new(cfg(), vec![Peer::Corrupt], 13);
    sim.feed(Event::Header { height: 5, k: 4 });
    let (_, during) = sim.sampler.cells(5).expect("known");
    assert!(count(&during, CellVerdict::Bad) > 0, "{during:?}");
    assert_eq!(count(&during, CellVerdict::Missing), 0);
    let HeightStatus::Unavailable { cell, .. } = sim.run(5) else {
        panic!("not unavailable");
    };
    let (_, after) = sim.sampler.cells(5).expect("known");
    assert!(after.contains(&(cell, CellVerdict::Missing)));
    assert_eq!(count(&after, CellVerdict::Verified), 0);
}

//! The sans-IO sampler: decides which cells to sample for each height, which peer to ask, when to
//! retry, and when a height is available or unavailable. It performs no I/O and reads no clock:
//! the driver feeds it [`Event`]s with the current time and an injected RNG, and carries out the
//! [`Action`]s it returns (send a request, penalise a peer, publish a status).
//!
//! # Flow
//! 1. [`Event::Header`]: a header whose signature and commitment extension were verified. The
//!    height becomes `Pending`; a live height (newer than any seen) starts at once, a catch-up
//!    height waits for one of `max_catchup` slots and leaves one request slot per peer free, so
//!    old heights never starve the head.
//! 2. Starting a height draws `s` distinct uniform cells of the `2k × 128` square (`s` from the
//!    target confidence, `specs/04-sampling.md`) and spreads them over peers in batches of at
//!    most `max_cells_per_request`, at most `max_inflight_per_peer` requests per peer.
//! 3. [`Event::Response`] (the driver has verified the cells' proofs in one batch): verified cells
//!    count; cells the peer lacked are retried on another peer; a response with an invalid proof
//!    or malformed data penalises the peer and retries all its cells elsewhere.
//! 4. [`Event::Tick`]: requests past their deadline are retried elsewhere.
//! 5. A height is `Available` when all `s` cells verified, `Unavailable` as soon as one cell has
//!    failed `max_attempts` times or every peer that did not send bad data answered without it:
//!    a withheld cell is exactly what sampling is looking for. Bad data is no evidence either
//!    way: it costs the peer, consumes no attempt, and the cell waits for an honest peer.

use std::{
    collections::{BTreeMap, HashMap, HashSet, VecDeque},
    hash::Hash,
    time::{Duration, Instant},
};

use da_types::{consts::CELLS_PER_ROW, sampling, CellIndex};
use rand::Rng;

/// Default target confidence per height (99.99%).
pub const DEFAULT_TARGET_CONFIDENCE: f64 = 0.9999;
/// Default time a peer has to answer a sample request.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// Default peers a cell is tried on before the height is declared unavailable.
pub const DEFAULT_MAX_ATTEMPTS: usize = 3;
/// Default cells per request (the network's sample-request bound is larger).
pub const DEFAULT_MAX_CELLS_PER_REQUEST: usize = 16;
/// Default concurrent requests per peer.
pub const DEFAULT_MAX_INFLIGHT_PER_PEER: usize = 4;
/// Default concurrently sampled catch-up heights.
pub const DEFAULT_MAX_CATCHUP: usize = 2;
/// Default number of heights whose status is kept.
pub const DEFAULT_WINDOW: u64 = 1024;
/// Default wait before retrying cells whose request failed without an answer (a peer that has
/// not imported the block yet says so; it is asked again after this).
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_millis(500);
/// Default time after its header within which a height must reach a verdict; past it, cells
/// nobody has served make it unavailable.
pub const DEFAULT_PATIENCE: Duration = Duration::from_secs(30);

/// Settings of a [`Sampler`].
#[derive(Clone, Debug, PartialEq)]
pub struct SamplerConfig {
    /// Confidence to reach per height; decides `s` for each `k`.
    pub target_confidence: f64,
    /// Deadline of one request.
    pub request_timeout: Duration,
    /// Distinct peers a cell is tried on before the height is unavailable.
    pub max_attempts: usize,
    /// Cells per request.
    pub max_cells_per_request: usize,
    /// Requests in flight per peer.
    pub max_inflight_per_peer: usize,
    /// Catch-up heights sampled at the same time (live heights always start).
    pub max_catchup: usize,
    /// Heights below `newest − window` are forgotten.
    pub window: u64,
    /// Wait before retrying cells of a request that failed without an answer.
    pub retry_delay: Duration,
    /// Time from a header to its verdict at most (failures without an answer, like a peer
    /// that has not imported the block yet, are retried until then).
    pub patience: Duration,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        Self {
            target_confidence: DEFAULT_TARGET_CONFIDENCE,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            max_cells_per_request: DEFAULT_MAX_CELLS_PER_REQUEST,
            max_inflight_per_peer: DEFAULT_MAX_INFLIGHT_PER_PEER,
            max_catchup: DEFAULT_MAX_CATCHUP,
            window: DEFAULT_WINDOW,
            retry_delay: DEFAULT_RETRY_DELAY,
            patience: DEFAULT_PATIENCE,
        }
    }
}

/// Why a [`SamplerConfig`] is unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SamplerError {
    /// The target confidence is not in `(0, 1)`.
    #[error("target confidence must be in (0, 1), got {0}")]
    Confidence(f64),
    /// A count that must be positive is zero.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
}

impl SamplerConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), SamplerError> {
        if !(self.target_confidence > 0.0 && self.target_confidence < 1.0) {
            return Err(SamplerError::Confidence(self.target_confidence));
        }
        for (v, name) in [
            (self.max_attempts, "max_attempts"),
            (self.max_cells_per_request, "max_cells_per_request"),
            (self.max_inflight_per_peer, "max_inflight_per_peer"),
            (self.max_catchup, "max_catchup"),
        ] {
            if v == 0 {
                return Err(SamplerError::Zero(name));
            }
        }
        Ok(())
    }
}

/// Identifies a request the sampler asked the driver to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// Where a height stands.
#[derive(Clone, Debug, PartialEq)]
pub enum HeightStatus {
    /// Header verified, waiting for a sampling slot.
    Pending,
    /// Samples in progress.
    Sampling {
        /// Cells verified so far.
        done: usize,
        /// Cells to verify.
        total: usize,
        /// Failed attempts so far (timeouts, missing cells, bad data).
        failed: usize,
    },
    /// Every sample verified.
    Available {
        /// Probability that the square is recoverable given the samples.
        confidence: f64,
        /// Cells verified.
        samples: usize,
        /// Failed attempts on the way.
        failed: usize,
        /// From the header to the last verified sample.
        latency: Duration,
    },
    /// A sampled cell could not be obtained from any peer.
    Unavailable {
        /// The cell that failed.
        cell: CellIndex,
        /// Cells verified before the failure.
        done: usize,
        /// Failed attempts.
        failed: usize,
        /// From the header to the verdict.
        latency: Duration,
    },
}

impl HeightStatus {
    /// Whether the verdict is final.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Available { .. } | Self::Unavailable { .. })
    }
}

/// What sampling has learned of one sampled cell (the page's grid, `GET /heights/{h}/samples`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CellVerdict {
    /// Not verified yet (queued, in flight, or the height ended first).
    Pending,
    /// A peer served it and its proof verified.
    Verified,
    /// A peer that sent no bad data answered without it, or it is the cell that made the
    /// height unavailable: evidence of withholding.
    Missing,
    /// Only peers that sent bad data (a failing proof, malformed cells) answered for it.
    Bad,
}

impl CellVerdict {
    /// The verdict's name in the API: `pending | verified | missing | bad`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Verified => "verified",
            Self::Missing => "missing",
            Self::Bad => "bad",
        }
    }
}

/// What the driver tells the sampler.
#[derive(Clone, Debug)]
pub enum Event<P> {
    /// A header was verified (signature, chain, commitment extension).
    Header {
        /// Height.
        height: u64,
        /// Original rows of its square.
        k: usize,
    },
    /// A peer can be asked for samples.
    PeerUp(P),
    /// A peer went away (its in-flight requests are retried elsewhere).
    PeerDown(P),
    /// The answer to a request, after the driver verified its cells' proofs in one batch.
    Response {
        /// Which request.
        id: RequestId,
        /// Cells whose proofs verified against the header.
        verified: Vec<CellIndex>,
        /// Cells the peer said it does not have (or left out).
        missing: Vec<CellIndex>,
        /// The response was malformed or a proof failed: the peer is penalised.
        invalid: bool,
    },
    /// A request failed without an answer (connection closed, stream error, the peer does not
    /// have the height yet): its cells are retried after `retry_delay`, the peer may be asked
    /// again.
    Failed(RequestId),
    /// Time passed: expire requests.
    Tick,
}

/// What the sampler asks the driver to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action<P> {
    /// Ask `peer` for `cells` of `height`, answer with [`Event::Response`] for `id`, or let it
    /// time out.
    Request {
        /// Request id.
        id: RequestId,
        /// The peer.
        peer: P,
        /// Height.
        height: u64,
        /// Cells (at most `max_cells_per_request`).
        cells: Vec<CellIndex>,
        /// When the sampler stops waiting.
        deadline: Instant,
    },
    /// The peer sent invalid data: lower its score.
    Penalize {
        /// The peer.
        peer: P,
        /// Height of the offending response.
        height: u64,
    },
    /// A height's status changed.
    Status {
        /// Height.
        height: u64,
        /// The new status.
        status: HeightStatus,
    },
}

#[derive(Debug)]
struct CellState<P> {
    /// Peers that answered without the cell or with bad data: never asked for it again.
    refused: HashSet<P>,
    /// Of those, the peers that sent bad data: their refusal is no evidence of withholding.
    invalid: HashSet<P>,
    /// The peer asked last (a retry prefers another one).
    last: Option<P>,
    /// Not to be asked for before this (after a failure without an answer).
    not_before: Option<Instant>,
    attempts: usize,
    done: bool,
}

#[derive(Debug)]
struct Height<P> {
    k: usize,
    seen_at: Instant,
    started: bool,
    live: bool,
    cells: BTreeMap<CellIndex, CellState<P>>,
    queue: VecDeque<CellIndex>,
    done: usize,
    failed: usize,
    status: HeightStatus,
}

#[derive(Debug)]
struct Inflight<P> {
    peer: P,
    height: u64,
    cells: Vec<CellIndex>,
    deadline: Instant,
}

/// The sampling state machine. `P` identifies a peer.
#[derive(Debug)]
pub struct Sampler<P> {
    config: SamplerConfig,
    peers: Vec<P>,
    next_peer: usize,
    heights: BTreeMap<u64, Height<P>>,
    /// Ordered, so that expiry and retries happen in the same order on every run.
    inflight: BTreeMap<RequestId, Inflight<P>>,
    next_id: u64,
    newest: u64,
}

impl<P: Clone + Eq + Hash + std::fmt::Debug> Sampler<P> {
    /// A sampler with `config` (validated).
    pub fn new(config: SamplerConfig) -> Result<Self, SamplerError> {
        config.validate()?;
        Ok(Self {
            config,
            peers: Vec::new(),
            next_peer: 0,
            heights: BTreeMap::new(),
            inflight: BTreeMap::new(),
            next_id: 0,
            newest: 0,
        })
    }

    /// The settings.
    pub fn config(&self) -> &SamplerConfig {
        &self.config
    }

    /// The status of `height`, if it is known.
    pub fn status(&self, height: u64) -> Option<&HeightStatus> {
        self.heights.get(&height).map(|h| &h.status)
    }

    /// Every known height and its status, newest first.
    pub fn statuses(&self) -> impl Iterator<Item = (u64, &HeightStatus)> {
        self.heights.iter().rev().map(|(h, s)| (*h, &s.status))
    }

    /// The `k` of `height`'s square and the cells drawn for it with what is known of each, in
    /// cell order (empty until the height starts).
    pub fn cells(&self, height: u64) -> Option<(usize, Vec<(CellIndex, CellVerdict)>)> {
        let h = self.heights.get(&height)?;
        let failed = match &h.status {
            HeightStatus::Unavailable { cell, .. } => Some(*cell),
            _ => None,
        };
        let cells = h
            .cells
            .iter()
            .map(|(c, st)| {
                let verdict = if st.done {
                    CellVerdict::Verified
                } else if Some(*c) == failed || st.refused.len() > st.invalid.len() {
                    CellVerdict::Missing
                } else if !st.invalid.is_empty() {
                    CellVerdict::Bad
                } else {
                    CellVerdict::Pending
                };
                (*c, verdict)
            })
            .collect();
        Some((h.k, cells))
    }

    /// Requests in flight.
    pub fn inflight(&self) -> usize {
        self.inflight.len()
    }

    /// The earliest request deadline: when the driver should send [`Event::Tick`].
    pub fn next_deadline(&self) -> Option<Instant> {
        let waiting = self
            .heights
            .values()
            .filter(|h| !h.status.is_final())
            .flat_map(|h| h.queue.iter().filter_map(|c| h.cells.get(c)?.not_before));
        let patience = self
            .heights
            .values()
            .filter(|h| h.started && !h.status.is_final())
            .map(|h| h.seen_at + self.config.patience);
        self.inflight
            .values()
            .map(|r| r.deadline)
            .chain(waiting)
            .chain(patience)
            .min()
    }

    /// Samples `s` for a square of `k` rows at the configured confidence.
    pub fn samples_for(&self, k: usize) -> usize {
        sampling::samples_for_confidence(k, self.config.target_confidence)
            .unwrap_or(sampling::extended_cells(k.max(1)))
            .min(sampling::extended_cells(k.max(1)))
    }

    /// Feeds one event; returns what to do.
    pub fn handle<R: Rng>(&mut self, now: Instant, rng: &mut R, event: Event<P>) -> Vec<Action<P>> {
        let mut out = Vec::new();
        match event {
            Event::Header { height, k } => self.on_header(now, height, k, &mut out),
            Event::PeerUp(p) => {
                if !self.peers.contains(&p) {
                    self.peers.push(p);
                }
            }
            Event::PeerDown(p) => {
                self.peers.retain(|q| *q != p);
                let gone: Vec<RequestId> = self
                    .inflight
                    .iter()
                    .filter(|(_, r)| r.peer == p)
                    .map(|(id, _)| *id)
                    .collect();
                for id in gone {
                    self.fail_request(now, id, false, &mut out);
                }
            }
            Event::Response {
                id,
                verified,
                missing,
                invalid,
            } => self.on_response(now, id, verified, missing, invalid, &mut out),
            Event::Failed(id) => {
                let delay = self.config.retry_delay;
                if let Some(r) = self.inflight.get(&id) {
                    if let Some(h) = self.heights.get_mut(&r.height) {
                        for c in &r.cells {
                            if let Some(st) = h.cells.get_mut(c) {
                                // No answer is no evidence: retried later, no attempt used.
                                st.not_before = Some(now + delay);
                                st.attempts = st.attempts.saturating_sub(1);
                            }
                        }
                    }
                }
                self.fail_request(now, id, false, &mut out);
            }
            Event::Tick => {
                let expired: Vec<RequestId> = self
                    .inflight
                    .iter()
                    .filter(|(_, r)| r.deadline <= now)
                    .map(|(id, _)| *id)
                    .collect();
                for id in expired {
                    self.fail_request(now, id, false, &mut out);
                }
                self.expire_heights(now, &mut out);
            }
        }
        self.start_heights(now, rng, &mut out);
        self.dispatch(now, &mut out);
        out
    }

    fn on_header(&mut self, now: Instant, height: u64, k: usize, out: &mut Vec<Action<P>>) {
        if self.heights.contains_key(&height) || height + self.config.window < self.newest || k == 0
        {
            return;
        }
        let live = height > self.newest;
        self.newest = self.newest.max(height);
        self.heights.insert(
            height,
            Height {
                k,
                seen_at: now,
                started: false,
                live,
                cells: BTreeMap::new(),
                queue: VecDeque::new(),
                done: 0,
                failed: 0,
                status: HeightStatus::Pending,
            },
        );
        out.push(Action::Status {
            height,
            status: HeightStatus::Pending,
        });
        // Forget heights that fell out of the window (their requests are dropped too).
        let floor = self.newest.saturating_sub(self.config.window);
        let old: Vec<u64> = self.heights.range(..floor).map(|(h, _)| *h).collect();
        for h in old {
            self.heights.remove(&h);
        }
        self.inflight.retain(|_, r| r.height >= floor);
    }

    fn start_heights<R: Rng>(&mut self, now: Instant, rng: &mut R, out: &mut Vec<Action<P>>) {
        let running_catchup = self
            .heights
            .values()
            .filter(|h| h.started && !h.live && !h.status.is_final())
            .count();
        let mut slots = self.config.max_catchup.saturating_sub(running_catchup);
        // Live heights first, then catch-up heights newest first.
        let mut order: Vec<u64> = self
            .heights
            .iter()
            .filter(|(_, h)| !h.started)
            .map(|(n, _)| *n)
            .collect();
        order.sort_by_key(|n| {
            let live = self.heights.get(n).is_some_and(|h| h.live);
            (!live, std::cmp::Reverse(*n))
        });
        for n in order {
            let Some(h) = self.heights.get(&n) else {
                continue;
            };
            if !h.live {
                if slots == 0 {
                    continue;
                }
                slots -= 1;
            }
            let s = self.samples_for(h.k);
            let total = sampling::extended_cells(h.k);
            let picks = rand::seq::index::sample(rng, total, s);
            let Some(h) = self.heights.get_mut(&n) else {
                continue;
            };
            h.started = true;
            for i in picks.iter() {
                let cell = CellIndex {
                    row: (i / CELLS_PER_ROW) as u32,
                    col: (i % CELLS_PER_ROW) as u32,
                };
                h.cells.insert(
                    cell,
                    CellState {
                        refused: HashSet::new(),
                        invalid: HashSet::new(),
                        last: None,
                        not_before: None,
                        attempts: 0,
                        done: false,
                    },
                );
                h.queue.push_back(cell);
            }
            h.status = HeightStatus::Sampling {
                done: 0,
                total: s,
                failed: 0,
            };
            let _ = now;
            out.push(Action::Status {
                height: n,
                status: h.status.clone(),
            });
        }
    }

    /// Sends queued cells to peers, live heights first.
    fn dispatch(&mut self, now: Instant, out: &mut Vec<Action<P>>) {
        if self.peers.is_empty() {
            return;
        }
        let mut load: HashMap<P, usize> = self.peers.iter().map(|p| (p.clone(), 0)).collect();
        for r in self.inflight.values() {
            if let Some(l) = load.get_mut(&r.peer) {
                *l += 1;
            }
        }
        let mut order: Vec<u64> = self
            .heights
            .iter()
            .filter(|(_, h)| h.started && !h.status.is_final() && !h.queue.is_empty())
            .map(|(n, _)| *n)
            .collect();
        order.sort_by_key(|n| {
            let live = self.heights.get(n).is_some_and(|h| h.live);
            (!live, std::cmp::Reverse(*n))
        });
        let max_cells = self.config.max_cells_per_request;
        let max_inflight = self.config.max_inflight_per_peer;
        for n in order {
            let Some(h) = self.heights.get_mut(&n) else {
                continue;
            };
            // Catch-up heights leave one request slot per peer to live heights.
            let limit = if h.live {
                max_inflight
            } else {
                max_inflight.saturating_sub(1).max(1)
            };
            // Group queued cells by the first peer (round robin) that has capacity and has not
            // failed them yet.
            let mut batches: HashMap<P, Vec<CellIndex>> = HashMap::new();
            let mut keep = VecDeque::new();
            while let Some(cell) = h.queue.pop_front() {
                let Some(state) = h.cells.get(&cell) else {
                    continue;
                };
                // A cell whose last peer did not have the block yet goes to another peer at
                // once, and back to that one only after the retry delay.
                let waiting = state.not_before.is_some_and(|t| t > now);
                let np = self.peers.len();
                let mut chosen = None;
                // First pass avoids the peer asked last; the second allows it.
                let passes: &[bool] = if waiting { &[true] } else { &[true, false] };
                'passes: for &avoid_last in passes {
                    for step in 0..np {
                        let p = &self.peers[(self.next_peer + step) % np];
                        let in_batch = batches.get(p).map_or(0, Vec::len);
                        let fits = if in_batch > 0 {
                            in_batch < max_cells
                        } else {
                            load.get(p).copied().unwrap_or(0) < limit
                        };
                        let was_last = avoid_last && state.last.as_ref() == Some(p);
                        let usable = !(state.refused.contains(p) || was_last);
                        if fits && usable {
                            chosen = Some(p.clone());
                            self.next_peer = (self.next_peer + step + 1) % np;
                            break 'passes;
                        }
                    }
                }
                match chosen {
                    Some(p) => batches.entry(p).or_default().push(cell),
                    None => keep.push_back(cell),
                }
            }
            h.queue = keep;
            let mut batches: Vec<(P, Vec<CellIndex>)> = batches.into_iter().collect();
            batches.sort_by_key(|(_, cells)| cells.first().copied());
            for (peer, cells) in batches {
                for c in &cells {
                    if let Some(st) = h.cells.get_mut(c) {
                        st.last = Some(peer.clone());
                        st.attempts += 1;
                    }
                }
                if let Some(l) = load.get_mut(&peer) {
                    *l += 1;
                }
                let id = RequestId(self.next_id);
                self.next_id += 1;
                let deadline = now + self.config.request_timeout;
                self.inflight.insert(
                    id,
                    Inflight {
                        peer: peer.clone(),
                        height: n,
                        cells: cells.clone(),
                        deadline,
                    },
                );
                out.push(Action::Request {
                    id,
                    peer,
                    height: n,
                    cells,
                    deadline,
                });
            }
        }
    }

    fn on_response(
        &mut self,
        now: Instant,
        id: RequestId,
        verified: Vec<CellIndex>,
        missing: Vec<CellIndex>,
        invalid: bool,
        out: &mut Vec<Action<P>>,
    ) {
        if invalid {
            if let Some(r) = self.inflight.get(&id) {
                out.push(Action::Penalize {
                    peer: r.peer.clone(),
                    height: r.height,
                });
            }
            self.fail_request(now, id, true, out);
            return;
        }
        let _ = missing; // cells asked for and not verified count as missing, listed or not
        let Some(req) = self.inflight.remove(&id) else {
            return; // late answer to a request already retried elsewhere
        };
        let Some(h) = self.heights.get_mut(&req.height) else {
            return;
        };
        let asked: HashSet<CellIndex> = req.cells.iter().copied().collect();
        for c in verified.iter().filter(|c| asked.contains(c)) {
            if let Some(st) = h.cells.get_mut(c) {
                if !st.done {
                    st.done = true;
                    h.done += 1;
                }
            }
        }
        let got: HashSet<CellIndex> = verified.into_iter().collect();
        let lacking: Vec<CellIndex> = req
            .cells
            .iter()
            .copied()
            .filter(|c| !got.contains(c))
            .collect();
        self.retry_cells(now, req.height, &lacking, Some((&req.peer, false)), out);
        self.update(now, req.height, out);
    }

    /// A request failed as a whole: retry its cells; after invalid data the peer is never asked
    /// for them again (a timeout or a lost peer may be retried).
    fn fail_request(
        &mut self,
        now: Instant,
        id: RequestId,
        invalid: bool,
        out: &mut Vec<Action<P>>,
    ) {
        let Some(req) = self.inflight.remove(&id) else {
            return;
        };
        let refused = invalid.then_some((&req.peer, true));
        self.retry_cells(now, req.height, &req.cells, refused, out);
        self.update(now, req.height, out);
    }

    /// Queues `cells` again, or declares the height unavailable when one of them has run out of
    /// attempts, or every peer that did not send bad data has answered without it.
    fn retry_cells(
        &mut self,
        now: Instant,
        height: u64,
        cells: &[CellIndex],
        refused_by: Option<(&P, bool)>,
        out: &mut Vec<Action<P>>,
    ) {
        let max_attempts = self.config.max_attempts;
        let peers = self.peers.clone();
        let Some(h) = self.heights.get_mut(&height) else {
            return;
        };
        if h.status.is_final() {
            return;
        }
        for c in cells {
            let Some(st) = h.cells.get_mut(c) else {
                continue;
            };
            if st.done {
                continue;
            }
            if let Some((p, invalid)) = refused_by {
                st.refused.insert(p.clone());
                if invalid {
                    // A lie is no evidence about the data and consumes no attempt.
                    st.invalid.insert(p.clone());
                    st.attempts = st.attempts.saturating_sub(1);
                }
            }
            h.failed += 1;
            // Evidence of withholding: every peer that did not lie says it lacks the cell. Peers
            // that sent bad data prove nothing; with only such peers the cell waits for others.
            let mut witnesses = peers.iter().filter(|p| !st.invalid.contains(*p)).peekable();
            let all_refused =
                witnesses.peek().is_some() && witnesses.all(|p| st.refused.contains(p));
            if st.attempts >= max_attempts || all_refused {
                h.status = HeightStatus::Unavailable {
                    cell: *c,
                    done: h.done,
                    failed: h.failed,
                    latency: now.saturating_duration_since(h.seen_at),
                };
                out.push(Action::Status {
                    height,
                    status: h.status.clone(),
                });
                h.queue.clear();
                self.inflight.retain(|_, r| r.height != height);
                return;
            }
            h.queue.push_back(*c);
        }
    }

    /// Heights past their patience with cells nobody served are unavailable.
    fn expire_heights(&mut self, now: Instant, out: &mut Vec<Action<P>>) {
        let patience = self.config.patience;
        let late: Vec<u64> = self
            .heights
            .iter()
            .filter(|(_, h)| h.started && !h.status.is_final() && h.seen_at + patience <= now)
            .map(|(n, _)| *n)
            .collect();
        for n in late {
            let Some(h) = self.heights.get_mut(&n) else {
                continue;
            };
            let Some(cell) = h.cells.iter().find(|(_, st)| !st.done).map(|(c, _)| *c) else {
                continue;
            };
            h.status = HeightStatus::Unavailable {
                cell,
                done: h.done,
                failed: h.failed,
                latency: now.saturating_duration_since(h.seen_at),
            };
            h.queue.clear();
            out.push(Action::Status {
                height: n,
                status: h.status.clone(),
            });
            self.inflight.retain(|_, r| r.height != n);
        }
    }

    fn update(&mut self, now: Instant, height: u64, out: &mut Vec<Action<P>>) {
        let Some(h) = self.heights.get_mut(&height) else {
            return;
        };
        if h.status.is_final() {
            return;
        }
        let total = h.cells.len();
        let next = if h.done == total {
            HeightStatus::Available {
                confidence: sampling::confidence(h.k, total).unwrap_or(0.0),
                samples: total,
                failed: h.failed,
                latency: now.saturating_duration_since(h.seen_at),
            }
        } else {
            HeightStatus::Sampling {
                done: h.done,
                total,
                failed: h.failed,
            }
        };
        if next != h.status {
            h.status = next;
            out.push(Action::Status {
                height,
                status: h.status.clone(),
            });
        }
    }
}

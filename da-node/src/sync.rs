//! Full-node sync over libp2p (`specs/09-p2p.md`, "Full-node sync").
//!
//! # Flow
//! - The target height is the newest verified header heard by gossip, or asked of a serving
//!   peer (`/headers/2` with `from = 0`) when gossip is quiet (a node joining late).
//! - Heights are imported in order. Headers come from gossip or from `/headers/2` ranges, and are
//!   checked (a certificate of the genesis validator set, link to the stored parent,
//!   `verify_extension`) before any row is fetched. A peer that sends a header whose certificate
//!   fails is penalised (invalid data); one that sends bytes that are no certified header,
//!   as malformed.
//! - The `2k` rows are fetched with `/row/1`, spread over the serving peers, a bounded number in
//!   flight. Each answer's cells are verified in one batch against the row's commitment; a peer
//!   whose answer fails is penalised and the row asked of another peer. Cells a peer withholds
//!   are asked of the next peer.
//! - When every row is complete the block is stored as fetched. When peers withheld cells, the
//!   verified cells are repaired (rows and columns, `da_kzg::KzgProver::repair`, which also
//!   recomputes every proof and checks the result against the commitments) and the repaired block
//!   stored, so the node serves every cell from then on. A block that cannot be repaired yet is
//!   retried after a pause.
//!
//! The CPU work (header checks, row verification, repair) runs on a small pool of threads at a
//! lower OS priority (nice 10), half the cores: a node catching up never starves serving.
//!
//! The syncer owns its header buffer, target height and verification pool; it reaches the
//! network through a [`NetworkClient`], hears validated gossip over a bounded channel from
//! `crate::p2p`, and imports through the [`Chain`] (the same path every block takes).
//!
//! [`BlockFetch`] holds the per-block decisions (which row to ask of which peer, when a block is
//! done) without I/O, so they are tested without sockets.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use da_kzg::{Commitment, PartialSquare, ProvenCell, VerifiedCell};
use da_network::{NetworkClient, Offence, PeerId, Request, Response};
use da_proto::v1 as pb;
use da_types::{consts::CELLS_PER_ROW, CellIndex, CertifiedHeader};
use futures::{stream::FuturesUnordered, StreamExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::{
    chain::{Chain, VerifiedBlock},
    error::{NodeError, Result},
    metrics::Metrics,
    p2p::ServingPeers,
};

/// Row requests in flight per block.
pub const MAX_ROWS_IN_FLIGHT: usize = 16;
/// First pause before retrying a block that could not be completed or repaired; it doubles on
/// each failure of the same height up to [`MAX_RETRY_PAUSE`].
pub const RETRY_PAUSE: Duration = Duration::from_secs(1);
/// Longest pause between retries of one height.
pub const MAX_RETRY_PAUSE: Duration = Duration::from_secs(30);
/// How often the head is asked of a peer when gossip brings nothing.
pub const HEAD_POLL: Duration = Duration::from_secs(2);
/// Headers asked for in one range request.
const RANGE: u32 = 32;

/// Threads of the sync's verification pool: half the cores (at least one).
fn verify_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// Nice value of the verification threads: a full node's own catch-up yields the CPU to what
/// others wait for (serving samples, rows and namespaces; producing blocks).
const VERIFY_NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// A small pool of threads at a lower OS priority that runs the sync's CPU work: row batch
/// verification, header checks and repair. The threads end when the pool is dropped.
pub(crate) struct Background {
    jobs: mpsc::Sender<Job>,
}

impl Background {
    fn new(threads: usize) -> Self {
        let (jobs, rx) = mpsc::channel::<Job>(4 * threads);
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("da-sync-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = rx
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .blocking_recv();
                        match job {
                            Some(j) => j(),
                            None => break,
                        }
                    }
                });
            if let Err(e) = spawned {
                warn!("sync: could not start a verification thread: {e}");
            }
        }
        Self { jobs }
    }

    /// Runs `f` on the pool and waits for its result.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        let gone = || NodeError::Internal("sync verification pool stopped".into());
        self.jobs.send(job).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())
    }
}

/// Lowers the calling thread's scheduling priority (Linux: the nice value is per thread).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no preconditions; setpriority only reads its integer arguments.
        let r = unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::setpriority(libc::PRIO_PROCESS, tid, VERIFY_NICE)
        };
        if r != 0 {
            debug!("sync: could not lower the verification threads' priority");
        }
    }
}

/// Row-fetching decisions for one block.
#[derive(Clone, Debug)]
pub struct BlockFetch<P> {
    peers: Vec<P>,
    rows: Vec<RowState<P>>,
    inflight: usize,
}

#[derive(Clone, Debug)]
struct RowState<P> {
    have: [bool; CELLS_PER_ROW],
    count: usize,
    tried: HashSet<P>,
    inflight: bool,
}

/// How a block's fetch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchOutcome {
    /// Every cell of every row arrived verified.
    Complete,
    /// Every peer was asked for every incomplete row; `missing` cells are still missing.
    Partial {
        /// Cells no peer gave.
        missing: usize,
    },
}

impl<P: Clone + Eq + std::hash::Hash> BlockFetch<P> {
    /// A fetch of `rows` rows from `peers`.
    pub fn new(rows: usize, peers: Vec<P>) -> Self {
        Self {
            peers,
            rows: (0..rows)
                .map(|_| RowState {
                    have: [false; CELLS_PER_ROW],
                    count: 0,
                    tried: HashSet::new(),
                    inflight: false,
                })
                .collect(),
            inflight: 0,
        }
    }

    /// Rows of which no cell has arrived yet.
    pub fn rows_without_cells(&self) -> usize {
        self.rows.iter().filter(|r| r.count == 0).count()
    }

    /// Starts another pass over the incomplete rows with `peers` (the verified cells are kept):
    /// for a block that peers did not hold yet when first asked.
    pub fn retry(&mut self, peers: Vec<P>) {
        self.peers = peers;
        for row in &mut self.rows {
            row.tried.clear();
        }
    }

    /// The next `(row, peer)` requests, keeping at most `max_inflight` in flight. Rows are spread
    /// over peers (row `r` starts at peer `r mod n`); a row is never asked twice of one peer.
    pub fn next_requests(&mut self, max_inflight: usize) -> Vec<(usize, P)> {
        let mut out = Vec::new();
        let n = self.peers.len();
        if n == 0 {
            return out;
        }
        for (r, row) in self.rows.iter_mut().enumerate() {
            if self.inflight >= max_inflight {
                break;
            }
            if row.inflight || row.count == CELLS_PER_ROW {
                continue;
            }
            let pick = (0..n)
                .map(|i| &self.peers[(r + i) % n])
                .find(|p| !row.tried.contains(*p));
            if let Some(p) = pick {
                row.inflight = true;
                row.tried.insert(p.clone());
                self.inflight += 1;
                out.push((r, p.clone()));
            }
        }
        out
    }

    /// An answer for `row`: the columns whose cells verified (an invalid or failed answer gives
    /// none).
    pub fn on_answer(&mut self, row: usize, verified_cols: &[usize]) {
        let Some(state) = self.rows.get_mut(row) else {
            return;
        };
        if state.inflight {
            state.inflight = false;
            self.inflight -= 1;
        }
        for &c in verified_cols {
            if c < CELLS_PER_ROW && !state.have[c] {
                state.have[c] = true;
                state.count += 1;
            }
        }
    }

    /// `Some` once nothing is in flight and every row is complete or was asked of every peer.
    pub fn outcome(&self) -> Option<FetchOutcome> {
        if self.inflight > 0 {
            return None;
        }
        let mut missing = 0;
        for row in &self.rows {
            if row.count < CELLS_PER_ROW {
                if self.peers.iter().any(|p| !row.tried.contains(p)) {
                    return None;
                }
                missing += CELLS_PER_ROW - row.count;
            }
        }
        Some(if missing == 0 {
            FetchOutcome::Complete
        } else {
            FetchOutcome::Partial { missing }
        })
    }
}

/// Runs the sync loop until `cancel`.
pub(crate) async fn run(
    chain: Arc<Chain>,
    metrics: Arc<Metrics>,
    client: NetworkClient,
    peers: ServingPeers,
    mut gossip: mpsc::Receiver<CertifiedHeader>,
    cancel: CancellationToken,
) {
    let mut sync = Syncer {
        chain,
        metrics,
        client,
        peers,
        headers: BTreeMap::new(),
        target: 0,
        pool: Arc::new(Background::new(verify_threads())),
    };
    let mut failing: Option<(u64, Duration)> = None;
    loop {
        // Take in whatever gossip brought.
        while let Ok(h) = gossip.try_recv() {
            sync.heard(h);
        }
        let chain = sync.chain.clone();
        let head = tokio::task::spawn_blocking(move || chain.head())
            .await
            .map_err(|e| NodeError::Internal(format!("head read task failed: {e}")))
            .and_then(|r| r);
        let next = match head {
            Ok(h) => h.map_or(1, |h| h + 1),
            Err(e) => {
                warn!("sync: reading the head failed: {e}");
                1
            }
        };
        sync.headers = sync.headers.split_off(&next);
        if next > sync.target {
            tokio::select! {
                () = cancel.cancelled() => break,
                h = gossip.recv() => match h {
                    Some(h) => sync.heard(h),
                    None => break,
                },
                () = tokio::time::sleep(HEAD_POLL) => sync.poll_head().await,
            }
            continue;
        }
        let step = tokio::select! {
            () = cancel.cancelled() => break,
            r = sync.sync_height(next) => r,
        };
        match step {
            Ok(()) => failing = None,
            Err(e) => {
                let pause = match failing {
                    Some((h, p)) if h == next => (p * 2).min(MAX_RETRY_PAUSE),
                    _ => RETRY_PAUSE,
                };
                failing = Some((next, pause));
                sync.metrics.sync_failures.inc();
                warn!(height = next, "sync: {e}; retrying in {pause:?}");
                tokio::select! {
                    () = cancel.cancelled() => break,
                    () = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
    debug!("sync stopped");
}

struct Syncer {
    chain: Arc<Chain>,
    metrics: Arc<Metrics>,
    client: NetworkClient,
    peers: ServingPeers,
    /// Headers known but not imported yet (certificate checked; from gossip, extension too).
    headers: BTreeMap<u64, CertifiedHeader>,
    /// The newest height known to exist.
    target: u64,
    /// Where the CPU work runs (low priority).
    pool: Arc<Background>,
}

impl Syncer {
    fn heard(&mut self, h: CertifiedHeader) {
        let height = h.height();
        self.target = self.target.max(height);
        self.headers.entry(height).or_insert(h);
    }

    /// Decodes a header a peer sent and checks its certificate against the genesis set (off the
    /// runtime); on failure the peer is reported: malformed bytes as [`Offence::Malformed`], a
    /// certificate that fails as [`Offence::InvalidData`].
    async fn checked(&self, peer: PeerId, bytes: Vec<u8>) -> Option<CertifiedHeader> {
        let chain = self.chain.clone();
        let verdict = self
            .pool
            .run(move || match CertifiedHeader::from_bytes(&bytes) {
                Ok(h) => match chain.verify_certificate(&h) {
                    Ok(()) => Ok(h),
                    Err(e) => Err((Offence::InvalidData, e.to_string())),
                },
                Err(e) => {
                    chain.metrics().header_rejected(e.reason());
                    Err((Offence::Malformed, e.to_string()))
                }
            })
            .await;
        match verdict {
            Ok(Ok(h)) => Some(h),
            Ok(Err((offence, why))) => {
                warn!(%peer, "sync: rejected a header from a peer: {why}");
                let _ = self.client.report(peer, offence).await;
                None
            }
            Err(e) => {
                warn!("sync: header check failed: {e}");
                None
            }
        }
    }

    /// Asks a serving peer for its newest header (gossip may have nothing for a late joiner).
    async fn poll_head(&mut self) {
        for peer in self.peers.list() {
            let req = Request::Headers(pb::HeaderRangeRequest { from: 0, count: 1 });
            if let Ok(Response::Headers(r)) = self.client.request(peer, req).await {
                // Only a header certified by the genesis set moves the target: a peer cannot
                // send the node chasing heights that do not exist.
                if let Some(bytes) = r.headers.into_iter().last() {
                    if let Some(h) = self.checked(peer, bytes).await {
                        self.heard(h);
                        return;
                    }
                }
            }
        }
    }

    /// The header of `height`: known, or fetched in a range from a serving peer.
    async fn header(&mut self, height: u64) -> Result<CertifiedHeader> {
        if let Some(h) = self.headers.get(&height) {
            return Ok(h.clone());
        }
        for peer in self.peers.list() {
            let req = Request::Headers(pb::HeaderRangeRequest {
                from: height,
                count: RANGE,
            });
            let Ok(Response::Headers(r)) = self.client.request(peer, req).await else {
                continue;
            };
            for bytes in r.headers {
                // A bad header ends this peer's range: the rest is asked of the next peer.
                let Some(h) = self.checked(peer, bytes).await else {
                    break;
                };
                if h.height() >= height {
                    self.target = self.target.max(h.height());
                    self.headers.entry(h.height()).or_insert(h);
                }
            }
            if let Some(h) = self.headers.get(&height) {
                return Ok(h.clone());
            }
        }
        Err(NodeError::Unavailable(format!(
            "no serving peer has header {height}"
        )))
    }

    /// Fetches, verifies (and repairs if needed) and stores block `height`.
    async fn sync_height(&mut self, height: u64) -> Result<()> {
        let header = self.header(height).await?;
        let chain = self.chain.clone();
        let h2 = header.clone();
        let checked = self.pool.run(move || chain.check_header(&h2)).await?;
        let commitments = match checked {
            Ok(c) => Arc::new(c),
            Err(e) => {
                // A bad header (or one that does not link): forget it and ask again.
                self.headers.remove(&height);
                return Err(e);
            }
        };
        let k = usize::from(header.block.k);
        let peers = self.peers.list();
        if peers.is_empty() {
            return Err(NodeError::Unavailable("no serving peer connected".into()));
        }
        let mut plan = BlockFetch::new(2 * k, peers);
        let mut cells = HashMap::new();
        let fetcher = RowFetcher {
            client: self.client.clone(),
            kzg: self.chain.kzg().clone(),
            pool: self.pool.clone(),
        };
        let outcome = fetcher
            .fetch(height, &commitments, &mut plan, &mut cells)
            .await;
        let (chain, metrics) = (self.chain.clone(), self.metrics.clone());
        self.pool
            .run(move || store_fetched(&chain, &metrics, header, &commitments, cells, outcome))
            .await?
    }
}

/// Fetches and verifies rows of one block over libp2p: the sync's loop, shared with a validator
/// that takes a decided block's proven rows from the validator that proved them.
#[derive(Clone)]
pub(crate) struct RowFetcher {
    pub(crate) client: NetworkClient,
    pub(crate) kzg: Arc<da_kzg::KzgProver>,
    pub(crate) pool: Arc<Background>,
}

impl RowFetcher {
    /// A fetcher whose verification runs on its own low-priority pool.
    pub(crate) fn new(client: NetworkClient, kzg: Arc<da_kzg::KzgProver>) -> Self {
        Self {
            client,
            kzg,
            pool: Arc::new(Background::new(verify_threads())),
        }
    }

    /// Runs `plan` until it has an outcome: rows asked of its peers, at most
    /// [`MAX_ROWS_IN_FLIGHT`] at a time, each answer verified against `commitments` in one batch
    /// and its cells added to `cells`. A peer whose answer fails verification is reported.
    pub(crate) async fn fetch(
        &self,
        height: u64,
        commitments: &Arc<Vec<Commitment>>,
        plan: &mut BlockFetch<PeerId>,
        cells: &mut HashMap<CellIndex, VerifiedCell>,
    ) -> FetchOutcome {
        let mut inflight = FuturesUnordered::new();
        loop {
            for (row, peer) in plan.next_requests(MAX_ROWS_IN_FLIGHT) {
                let (client, kzg, commitments, pool) = (
                    self.client.clone(),
                    self.kzg.clone(),
                    commitments.clone(),
                    self.pool.clone(),
                );
                inflight.push(async move {
                    let got = fetch_row(&client, &kzg, &pool, peer, height, row, commitments).await;
                    (row, peer, got)
                });
            }
            if let Some(o) = plan.outcome() {
                return o;
            }
            let Some((row, peer, got)) = inflight.next().await else {
                return plan
                    .outcome()
                    .unwrap_or(FetchOutcome::Partial { missing: 0 });
            };
            let cols: Vec<usize> = match got {
                RowAnswer::Cells(v) => {
                    let cols = v.iter().map(|c| c.index().col as usize).collect();
                    for c in v {
                        cells.insert(c.index(), c);
                    }
                    cols
                }
                RowAnswer::Invalid(why) => {
                    warn!(%peer, height, row, "invalid row from a peer: {why}");
                    let _ = self.client.report(peer, Offence::InvalidData).await;
                    Vec::new()
                }
                RowAnswer::Failed => Vec::new(),
            };
            plan.on_answer(row, &cols);
        }
    }
}

/// A complete fetched block's cells in row-major order (`None` when one is missing).
pub(crate) fn ordered_cells(
    k: usize,
    cells: &mut HashMap<CellIndex, VerifiedCell>,
) -> Option<Vec<VerifiedCell>> {
    let mut ordered = Vec::with_capacity(2 * k * CELLS_PER_ROW);
    for r in 0..2 * k {
        for c in 0..CELLS_PER_ROW {
            let at = CellIndex {
                row: r as u32,
                col: c as u32,
            };
            ordered.push(cells.remove(&at)?);
        }
    }
    Some(ordered)
}

enum RowAnswer {
    Cells(Vec<VerifiedCell>),
    Invalid(String),
    Failed,
}

/// Asks `peer` for one row and verifies what it sends (cells of other rows or duplicates make
/// the answer invalid).
async fn fetch_row(
    client: &NetworkClient,
    kzg: &Arc<da_kzg::KzgProver>,
    pool: &Background,
    peer: PeerId,
    height: u64,
    row: usize,
    commitments: Arc<Vec<Commitment>>,
) -> RowAnswer {
    let req = Request::Row(pb::RowRequest {
        height,
        row: row as u32,
    });
    let cells = match client.request(peer, req).await {
        Ok(Response::Row(r)) => r.cells,
        Ok(_) => return RowAnswer::Invalid("wrong response kind".into()),
        Err(e) => {
            debug!(%peer, height, row, "row request failed: {e}");
            return RowAnswer::Failed;
        }
    };
    if cells.is_empty() {
        return RowAnswer::Cells(Vec::new());
    }
    let mut seen = HashSet::new();
    let mut batch = Vec::with_capacity(cells.len());
    for s in &cells {
        match ProvenCell::try_from(s) {
            Ok(p) if p.index.row as usize == row && seen.insert(p.index.col) => {
                batch.push((p.index, p.cell, p.proof));
            }
            Ok(p) => {
                return RowAnswer::Invalid(format!(
                    "cell ({}, {}) in an answer for row {row}",
                    p.index.row, p.index.col
                ))
            }
            Err(e) => return RowAnswer::Invalid(e.to_string()),
        }
    }
    let kzg = kzg.clone();
    match pool
        .run(move || kzg.verify_cells(&commitments, batch))
        .await
    {
        Ok(Ok(v)) => RowAnswer::Cells(v),
        Ok(Err(e)) => RowAnswer::Invalid(e.to_string()),
        Err(_) => RowAnswer::Failed,
    }
}

/// Imports a fetched block: as fetched when complete, repaired otherwise (blocking).
fn store_fetched(
    chain: &Chain,
    metrics: &Metrics,
    header: CertifiedHeader,
    commitments: &[Commitment],
    mut cells: HashMap<CellIndex, VerifiedCell>,
    outcome: FetchOutcome,
) -> Result<()> {
    let height = header.height();
    let k = usize::from(header.block.k);
    if outcome == FetchOutcome::Complete && cells.len() == 2 * k * CELLS_PER_ROW {
        let ordered = ordered_cells(k, &mut cells)
            .ok_or_else(|| NodeError::Internal(format!("block {height}: a cell was lost")))?;
        chain.import(header, VerifiedBlock::from_verified_cells(k, ordered))?;
        return Ok(());
    }
    let have = cells.len();
    let mut partial = PartialSquare::new(k)?;
    for v in cells.values() {
        partial.insert(v)?;
    }
    let square = chain.kzg().repair(partial, commitments).map_err(|e| {
        NodeError::Unavailable(format!(
            "block {height}: {have} of {} cells from peers and repair failed: {e}",
            2 * k * CELLS_PER_ROW
        ))
    })?;
    chain.import(header, VerifiedBlock::from_square(&square))?;
    metrics.blocks_repaired.inc();
    info!(
        height,
        fetched = have,
        repaired = 2 * k * CELLS_PER_ROW - have,
        "block repaired from partial rows"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_cols() -> Vec<usize> {
        (0..CELLS_PER_ROW).collect()
    }

    #[test]
    fn rows_spread_over_peers_and_bounded() {
        let mut f = BlockFetch::new(8, vec!['a', 'b', 'c']);
        let first = f.next_requests(4);
        assert_eq!(first, vec![(0, 'a'), (1, 'b'), (2, 'c'), (3, 'a')]);
        assert!(f.next_requests(4).is_empty(), "bound of 4 in flight");
        f.on_answer(1, &all_cols());
        assert_eq!(f.next_requests(4), vec![(4, 'b')]);
        assert_eq!(f.outcome(), None);
    }

    #[test]
    fn withheld_cells_go_to_the_next_peer_and_complete() {
        let mut f = BlockFetch::new(1, vec!['a', 'b']);
        assert_eq!(f.next_requests(8), vec![(0, 'a')]);
        f.on_answer(0, &(0..100).collect::<Vec<_>>());
        assert_eq!(f.outcome(), None, "b was not asked yet");
        assert_eq!(f.next_requests(8), vec![(0, 'b')]);
        f.on_answer(0, &(90..128).collect::<Vec<_>>());
        assert_eq!(f.outcome(), Some(FetchOutcome::Complete));
        assert!(f.next_requests(8).is_empty());
    }

    #[test]
    fn a_row_no_peer_completes_ends_partial_and_is_never_asked_twice() {
        let mut f = BlockFetch::new(2, vec!['a', 'b']);
        for _ in 0..3 {
            for (r, _) in f.next_requests(8) {
                // Row 0 comes back complete, row 1 always lacks 10 cells (or fails).
                let cols: Vec<usize> = if r == 0 {
                    all_cols()
                } else {
                    (10..128).collect()
                };
                f.on_answer(r, &cols);
            }
        }
        assert_eq!(f.outcome(), Some(FetchOutcome::Partial { missing: 10 }));
        assert!(f.next_requests(8).is_empty());
    }

    #[test]
    fn a_retry_asks_only_incomplete_rows_again_of_the_new_peers() {
        let mut f = BlockFetch::new(2, vec!["a"]);
        let first = f.next_requests(8);
        assert_eq!(first, vec![(0, "a"), (1, "a")]);
        f.on_answer(0, &all_cols());
        f.on_answer(1, &[]);
        assert_eq!(
            f.outcome(),
            Some(FetchOutcome::Partial {
                missing: CELLS_PER_ROW
            })
        );
        assert_eq!(f.rows_without_cells(), 1);
        f.retry(vec!["a", "b"]);
        assert_eq!(f.outcome(), None);
        // Row 0 is complete and never asked again; row 1 goes to each peer once more.
        let again = f.next_requests(8);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].0, 1);
        f.on_answer(1, &all_cols());
        assert_eq!(f.outcome(), Some(FetchOutcome::Complete));
    }

    #[test]
    fn no_peers_means_no_requests_and_a_partial_outcome() {
        let mut f: BlockFetch<char> = BlockFetch::new(2, Vec::new());
        assert!(f.next_requests(8).is_empty());
        // With nobody to ask, every row counts as asked of everyone: the block ends partial.
        assert_eq!(
            f.outcome(),
            Some(FetchOutcome::Partial {
                missing: 2 * CELLS_PER_ROW
            })
        );
    }
}

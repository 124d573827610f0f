//! The node as the consensus engine's block layer: [`NodeApp`] implements
//! [`da_consensus::Application`] over the node's chain, store and mempool
//! (`specs/11-consensus.md`).
//!
//! - `build`: takes blobs from the mempool that fit `max_square_k`, lays them out and computes
//!   the `2k` commitments only ([`crate::proposal::propose`]); the blobs are held for the round
//!   and go back to the mempool if another block is decided. A validator that is the whole
//!   set commits on the prover's path instead ([`crate::proposal::propose_committed`]), which
//!   its proving after the decision reuses: no commitment is computed twice, and with no other
//!   proposer to fail over to, a later header costs nothing ([`LONE_PROPOSE_TIMEOUT`]).
//! - `check`: the data rules ([`crate::proposal::check`]) with "already included" answered by
//!   the store and fresh local randomness for the commitment check.
//! - `commit`: the decided block's proposer proves the square; every other validator takes its
//!   proven rows over libp2p (each row's cells verified in one batch against the decided
//!   commitments) and proves the square itself only when no peer serves them within
//!   [`proven_rows_wait`] (a proposer that crashed after the decision) or they come with cells
//!   withheld.
//!   The block is imported through [`Chain::import`] with its certificate (the one import
//!   path), the engine's commit signatures are stored for value sync, and the included blobs
//!   leave the mempool.
//! - `decided`: a stored height's header, blobs and commit signatures, for validators that sync.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use da_consensus::{AppError, Application, BlockData, DecidedBlock, Rejection, Tip};
use da_kzg::{Commitment, KzgProver, ProofStrategy, VerifiedCell};
use da_types::{
    header_v2::BlockHeader, Blob, BlobId, Certificate, CertifiedHeader, OriginalSquare,
};
use tracing::{debug, info, warn};

use crate::{
    chain::{Chain, VerifiedBlock},
    mempool::Mempool,
    p2p::ServingPeers,
    proposal,
    store::Store,
    sync::{ordered_cells, BlockFetch, FetchOutcome, RowFetcher},
};

/// How long a validator that did not propose a decided block waits for its proven rows from
/// peers before it proves the square itself, at least: [`proven_rows_wait`] adds time for the
/// proposer's proving, which grows with the square.
pub const PROVEN_ROWS_WAIT: Duration = Duration::from_secs(5);
/// The wait added per original row of the square (proving a `k = 64` square takes about 8 s
/// of this 2-core machine alone, twice that when its validators share it).
pub const PROVEN_ROWS_WAIT_PER_ROW: Duration = Duration::from_millis(300);

/// How long to wait for the proven rows of a square of `k` original rows.
pub fn proven_rows_wait(k: usize) -> Duration {
    PROVEN_ROWS_WAIT + PROVEN_ROWS_WAIT_PER_ROW * u32::try_from(k).unwrap_or(u32::MAX)
}
/// Pause between passes over the peers while the proposer is still proving.
const PROVEN_ROWS_POLL: Duration = Duration::from_millis(100);

/// Where a validator takes the proven rows of blocks it did not propose: its libp2p peers.
pub struct ProvenRows {
    fetcher: RowFetcher,
    peers: ServingPeers,
}

impl ProvenRows {
    /// Rows from the serving `peers` of the node's network.
    pub(crate) fn new(fetcher: RowFetcher, peers: ServingPeers) -> Self {
        Self { fetcher, peers }
    }

    /// The decided block's `2k` rows with their proofs, verified against `header`'s
    /// commitments, from peers within `wait`; `None` when they could not all be had.
    async fn fetch(&self, header: &BlockHeader, wait: Duration) -> Option<Vec<VerifiedCell>> {
        let height = header.header.height;
        let k = usize::from(header.k);
        let commitments = Arc::new(Commitment::of_header(header));
        let deadline = Instant::now() + wait;
        let mut plan = BlockFetch::new(2 * k, self.peers.list());
        let mut cells = HashMap::new();
        loop {
            let outcome = self
                .fetcher
                .fetch(height, &commitments, &mut plan, &mut cells)
                .await;
            if outcome == FetchOutcome::Complete {
                return ordered_cells(k, &mut cells);
            }
            // Every row came in part from some peer, none whole from any: cells are being
            // withheld, not still being proven; waiting will not bring them.
            if plan.rows_without_cells() == 0 {
                debug!(height, "proven rows served with cells withheld");
                return None;
            }
            if Instant::now() + PROVEN_ROWS_POLL >= deadline {
                return None;
            }
            tokio::time::sleep(PROVEN_ROWS_POLL).await;
            plan.retry(self.peers.list());
        }
    }
}

/// A square this node proposed or checked, kept until its height is decided.
struct Held {
    height: u64,
    blobs: Vec<Blob>,
    square: OriginalSquare,
    /// The committed square of this node's own proposal, when it was built on the prover's
    /// path (proving reuses it).
    committed: Option<da_kzg::CommittedSquare>,
    /// This node took the blobs out of its mempool to propose them.
    ours: bool,
}

/// The node's side of consensus.
pub struct NodeApp {
    chain: Arc<Chain>,
    store: Arc<dyn Store>,
    mempool: Arc<Mempool>,
    kzg: Arc<KzgProver>,
    /// Squares by `data_root` (a decided header names its data by it).
    held: Mutex<HashMap<[u8; 32], Held>>,
    /// This validator's index in the set (it proves the blocks it proposed).
    index: Option<u32>,
    /// Where proven rows of others' blocks come from (none: prove every block).
    rows: Option<ProvenRows>,
    /// Fault injection: namespaces this validator never proposes.
    censored: Vec<da_types::Namespace>,
    /// Fault injection: every proposal repeats a blob of the previous block.
    repeat_included: bool,
}

fn app_err(e: impl std::fmt::Display) -> AppError {
    AppError(e.to_string())
}

impl NodeApp {
    /// The block layer over `chain` (and its store) and `mempool`.
    pub fn new(
        chain: Arc<Chain>,
        store: Arc<dyn Store>,
        mempool: Arc<Mempool>,
        kzg: Arc<KzgProver>,
    ) -> Self {
        Self {
            chain,
            store,
            mempool,
            kzg,
            held: Mutex::new(HashMap::new()),
            index: None,
            rows: None,
            censored: Vec::new(),
            repeat_included: false,
        }
    }

    /// Fault injection: every block this validator proposes also holds a blob the previous
    /// block included (when it included any), which honest validators refuse.
    pub fn repeating_included(mut self, on: bool) -> Self {
        self.repeat_included = on;
        self
    }

    /// Fault injection: never proposes blobs of `namespaces` (they stay in the mempool).
    pub fn censoring(mut self, namespaces: Vec<da_types::Namespace>) -> Self {
        self.censored = namespaces;
        self
    }

    /// Proves only the blocks validator `index` proposed and takes the others' proven rows
    /// from `rows`.
    pub fn with_proven_rows(mut self, index: u32, rows: ProvenRows) -> Self {
        self.index = Some(index);
        self.rows = Some(rows);
        self
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Held>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets squares of heights up to `height`; blobs this node took for a block that was
    /// not decided go back to the mempool unless they were included.
    fn release_up_to(&self, height: u64, included: &[BlobId]) {
        let mut back = Vec::new();
        self.held().retain(|_, h| {
            if h.height > height {
                return true;
            }
            if h.ours {
                back.extend(
                    h.blobs
                        .iter()
                        .filter(|b| !included.contains(&b.id()))
                        .cloned(),
                );
            }
            false
        });
        if !back.is_empty() {
            self.mempool.restore(back);
        }
    }
}

#[async_trait]
impl Application for NodeApp {
    async fn tip(&self) -> Result<Tip, AppError> {
        let chain = self.chain.clone();
        tokio::task::spawn_blocking(move || {
            let trust = chain.trust();
            match chain.head().map_err(app_err)? {
                None => Ok(Tip {
                    height: 0,
                    id: [0; 32],
                    timestamp_ms: trust.genesis_time_ms(),
                }),
                Some(h) => {
                    let header = chain
                        .header(h)
                        .map_err(app_err)?
                        .ok_or_else(|| AppError(format!("head {h} has no header")))?;
                    Ok(Tip {
                        height: h,
                        id: header.id(),
                        timestamp_ms: header.block.header.timestamp_ms,
                    })
                }
            }
        })
        .await
        .map_err(app_err)?
    }

    async fn history_min(&self) -> u64 {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.lowest().ok().flatten().unwrap_or(1))
            .await
            .unwrap_or(1)
    }

    async fn build(&self, height: u64, max_k: u16) -> Result<BlockData, AppError> {
        // The mempool cuts squares of at most the node's `max_square_k`, which the node's
        // configuration keeps within the genesis bound the engine passes as `max_k`.
        let _ = max_k;
        let mut blobs = self.mempool.take_for_block();
        if !self.censored.is_empty() {
            let (left, kept): (Vec<Blob>, Vec<Blob>) = blobs
                .into_iter()
                .partition(|b| self.censored.contains(b.namespace()));
            if !left.is_empty() {
                warn!(
                    height,
                    blobs = left.len(),
                    "fault injection: censoring blobs"
                );
                self.mempool.restore(left);
            }
            blobs = kept;
        }
        // Alone, this validator proves every block it proposes and nobody waits for its
        // header, so it commits on the prover's path (a later header, no commitment computed
        // twice); in a larger set the fast MSMs keep the header within the propose timeout.
        let alone = self.chain.trust().set().len() == 1;
        let (kzg, store) = (self.kzg.clone(), self.store.clone());
        let repeat = self.repeat_included;
        let (blobs, built) = tokio::task::spawn_blocking(move || {
            // A blob pooled again while a block including it was being stored (a relay's pull
            // or a submission racing the import) is dropped here: proposing it would get nil
            // votes.
            let before = blobs.len();
            let blobs: Vec<Blob> = blobs
                .into_iter()
                .filter(|b| !matches!(store.blob_height(&b.id()), Ok(Some(_))))
                .collect();
            if blobs.len() < before {
                debug!(height, dropped = before - blobs.len(), "already included blobs left the pool");
            }
            let mut blobs = blobs;
            if repeat {
                let previous = height
                    .checked_sub(1)
                    .and_then(|h| crate::reader::Reader::new(store.clone()).blobs(h).ok());
                if let Some(b) = previous.and_then(|p| p.into_iter().next()) {
                    warn!(height, id = %b.id(), "fault injection: proposing an included blob again");
                    blobs.push(b);
                }
            }
            let r = if alone {
                proposal::propose_committed(&kzg, &blobs)
            } else {
                proposal::propose(&kzg, &blobs)
            };
            (blobs, r)
        })
        .await
        .map_err(app_err)?;
        let data = match built {
            Ok(d) => {
                let path = if alone { "prover" } else { "msm" };
                self.chain.metrics().proposal_built(path);
                d
            }
            Err(e) => {
                self.mempool.restore(blobs);
                return Err(AppError(e.to_string()));
            }
        };
        let k = data.square.k() as u16;
        let blob_count = data.square.index().len() as u32;
        let root = da_types::header_v2::data_root(k, blob_count, &data.commitments);
        let out = BlockData {
            k,
            blob_count,
            commitments: data.commitments,
            body: Bytes::from(data.body),
        };
        self.held().insert(
            root,
            Held {
                height,
                blobs,
                square: data.square,
                committed: data.committed,
                ours: true,
            },
        );
        Ok(out)
    }

    async fn check(&self, header: &BlockHeader, body: &Bytes) -> Result<(), Rejection> {
        let (kzg, store) = (self.kzg.clone(), self.store.clone());
        let window = self.chain.trust().dedup_window();
        let (h, b) = (header.clone(), body.clone());
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
        let (blobs, square) = tokio::task::spawn_blocking(move || {
            proposal::check(
                &kzg,
                &h,
                &b,
                |id| store.blob_height(id).ok().flatten(),
                window,
                &seed,
            )
        })
        .await
        .map_err(|e| Rejection::new("local", e.to_string()))??;
        self.held().entry(header.header.data_root).or_insert(Held {
            height: header.header.height,
            blobs,
            square,
            committed: None,
            ours: false,
        });
        Ok(())
    }

    async fn commit(&self, block: DecidedBlock, certificate: Certificate) -> Result<(), AppError> {
        let height = block.header.header.height;
        let root = block.header.header.data_root;
        let held = self.held().remove(&root);
        let (blobs, square, committed) = match held {
            Some(h) => (h.blobs, h.square, h.committed),
            None => {
                // Decided without this node holding it (synced): rebuild from the body.
                let blobs = proposal::decode_body(&block.body).map_err(app_err)?;
                let square = da_types::SquareLayout::build(&blobs).map_err(app_err)?;
                (blobs, square, None)
            }
        };
        let included: Vec<BlobId> = blobs.iter().map(Blob::id).collect();
        let header = CertifiedHeader {
            block: block.header,
            certificate,
        };
        let t = Instant::now();
        // The proposer proves; the others take its proven rows (and prove themselves when
        // they cannot have them in time).
        let fetched = match &self.rows {
            Some(rows) if self.index != Some(header.block.header.proposer) => {
                let wait = proven_rows_wait(usize::from(header.block.k));
                let got = rows.fetch(&header.block, wait).await;
                if got.is_none() {
                    warn!(
                        height,
                        proposer = header.block.header.proposer,
                        "proven rows not served whole by any peer (within {wait:?}): proving the \
                         block here"
                    );
                }
                got
            }
            _ => None,
        };
        let how = if fetched.is_some() {
            "fetched"
        } else {
            "proved"
        };
        let (chain, kzg, store) = (self.chain.clone(), self.kzg.clone(), self.store.clone());
        let commit = block.commit;
        let k = usize::from(header.block.k);
        tokio::task::spawn_blocking(move || -> Result<(), AppError> {
            let verified = match fetched {
                Some(cells) => VerifiedBlock::from_verified_cells(k, cells),
                None => {
                    let committed = match committed {
                        Some(c) => c,
                        None => kzg.commit_square(&square).map_err(app_err)?,
                    };
                    let full = committed
                        .prove(&kzg, ProofStrategy::Linear)
                        .map_err(app_err)?;
                    VerifiedBlock::from_square(&full)
                }
            };
            chain.import(header, verified).map_err(app_err)?;
            store.put_commit(height, &commit).map_err(app_err)?;
            Ok(())
        })
        .await
        .map_err(app_err)??;
        self.chain.metrics().decided_block(how);
        self.mempool.remove(&included);
        self.release_up_to(height, &included);
        info!(
            height,
            ms = t.elapsed().as_millis() as u64,
            proofs = how,
            "decided block stored"
        );
        Ok(())
    }

    async fn data_roots(&self, from: u64, to: u64) -> Result<Vec<[u8; 32]>, AppError> {
        let chain = self.chain.clone();
        tokio::task::spawn_blocking(move || chain.data_roots(from, to).map_err(app_err))
            .await
            .map_err(app_err)?
    }

    async fn decided(&self, height: u64) -> Result<Option<DecidedBlock>, AppError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || -> Result<Option<DecidedBlock>, AppError> {
            let Some(header) = store.header(height).map_err(app_err)? else {
                return Ok(None);
            };
            let Some(commit) = store.commit(height).map_err(app_err)? else {
                warn!(
                    height,
                    "no commit signatures stored: cannot serve it to syncing validators"
                );
                return Ok(None);
            };
            let blobs = crate::reader::Reader::new(store.clone())
                .blobs(height)
                .map_err(app_err)?;
            Ok(Some(DecidedBlock {
                header: header.block,
                body: Bytes::from(proposal::encode_body(&blobs)),
                commit: Bytes::from(commit),
            }))
        })
        .await
        .map_err(app_err)?
    }
}

/// The propose timeout of a validator that is the whole set. It proposes on the prover's path,
/// whose header at `k = 64` takes longer than the default 3 s on two busy cores; with no other
/// proposer to fail over to, the timeout only cuts its own proposal short, so it is generous.
pub const LONE_PROPOSE_TIMEOUT: Duration = Duration::from_secs(20);

/// Starts the consensus engine for the validator holding `key`, with its WAL under
/// `<data dir>/consensus`.
pub async fn start_engine(
    app: Arc<NodeApp>,
    config: &crate::config::NodeConfig,
    dir: &std::path::Path,
    trust: &da_types::Trust,
    key: da_types::BlsSecretKey,
) -> crate::error::Result<da_consensus::Engine> {
    use crate::error::NodeError;
    use sha2::{Digest, Sha256};

    let parse = |a: &str| {
        a.parse()
            .map_err(|e| NodeError::Startup(format!("consensus address {a:?}: {e}")))
    };
    let listen = config
        .consensus_listen
        .as_deref()
        .ok_or_else(|| NodeError::Startup("consensus_listen is not set".into()))
        .and_then(parse)?;
    let peers = config
        .consensus_peers
        .iter()
        .map(|a| parse(a))
        .collect::<crate::error::Result<Vec<_>>>()?;
    let mut seed = Sha256::new();
    seed.update(b"da/consensus-network-key/v1");
    seed.update(key.to_bytes());
    let params = da_consensus::Params {
        chain: trust.chain(),
        validators: trust.set().clone(),
        max_square_k: trust
            .max_square_k()
            .min(u16::try_from(config.max_square_k).unwrap_or(u16::MAX)),
        genesis_time_ms: trust.genesis_time_ms(),
        block_time: config.block_time(),
        timeouts: Default::default(),
        attestation_window: trust.attestation_window(),
    };
    let params = if trust.set().len() == 1 {
        params.with_propose_timeout(LONE_PROPOSE_TIMEOUT)
    } else {
        params
    };
    let cfg = da_consensus::EngineConfig {
        moniker: dir
            .file_name()
            .map_or_else(|| "validator".into(), |n| n.to_string_lossy().into_owned()),
        home: dir.join("consensus"),
        listen,
        peers,
        network_seed: seed.finalize().into(),
    };
    let metrics = app.chain.metrics().consensus.clone();
    da_consensus::start(app, params, Some(key), cfg, metrics)
        .await
        .map_err(|e| NodeError::Startup(e.to_string()))
}

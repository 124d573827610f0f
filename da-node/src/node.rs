//! The node: shared state, startup, block production, following a producer, pruning.
//!
//! # Flow (producer)
//! every `block_time` (or when the mempool fills a square): take blobs → lay out the square →
//! commitments → signed header → all proofs → one atomic store write → notify subscribers.
//!
//! # Flow (full node)
//! Over libp2p (`crate::sync`, the default) or, with `follow` set, over gRPC from one node:
//! fetch headers → check signature, parent link and `verify_extension` → fetch every row with
//! proofs and verify every cell in a batch (over libp2p: repair what peers withheld) → decode and
//! check the index → one atomic store write → notify subscribers.

use std::{
    net::SocketAddr,
    path::Path,
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use da_kzg::{
    Cell, Commitment, KzgConfig, KzgContext, NamespaceProof, Proof, ProofStrategy, ProvenCell,
};
use da_proto::v1 as pb;
use da_types::{
    consts::{CELLS_PER_ROW, PAYLOAD_BYTES_PER_CELL},
    layout::{decode_index, decode_index_count, index_cells, unpack_cell, CellIndex, IndexEntry},
    Blob, Header, HeaderVerifier, ProducerSet, SignedHeader, SquareLayout,
};
use ed25519_dalek::SigningKey;
use tokio::sync::{broadcast, Notify};
use tokio_util::sync::CancellationToken;
use tracing::{info, instrument, warn};

use crate::{
    config::{NodeConfig, Role},
    error::{NodeError, Result},
    mempool::Mempool,
    metrics::{self, Metrics},
    store::{BlockData, RocksStore, Store},
};

/// A stored block as subscribers see it.
#[derive(Debug)]
pub struct BlockEvent {
    /// Its header.
    pub header: SignedHeader,
    /// Its blobs, in square order.
    pub blobs: Vec<(IndexEntry, Vec<u8>)>,
}

/// State shared by the API, the producer or follower, and the pruner.
#[derive(Debug)]
pub struct NodeInner {
    /// The configuration in force.
    pub config: NodeConfig,
    /// The database.
    pub store: Arc<dyn Store>,
    /// Pending blobs.
    pub mempool: Mempool,
    /// KZG operations.
    pub kzg: Arc<KzgContext>,
    /// Exported metrics.
    pub metrics: Arc<Metrics>,
    /// New blocks, for subscriptions and inclusion waits.
    pub blocks: broadcast::Sender<Arc<BlockEvent>>,
    /// This node's public key (hex), its identity until the p2p network gives it a peer id.
    pub node_id: String,
    /// Cancelled when the node stops; long-lived streams end on it.
    pub shutdown: CancellationToken,
    key: SigningKey,
    verifier: ProducerSet,
    wake: Notify,
}

/// A running node; dropping it stops it.
#[derive(Debug)]
pub struct NodeHandle {
    /// The bound gRPC address.
    pub grpc_addr: SocketAddr,
    /// The bound metrics address.
    pub metrics_addr: SocketAddr,
    /// Shared state (for in-process tests and the devnet).
    pub inner: Arc<NodeInner>,
    /// The libp2p network, when `p2p_listen` is set.
    pub p2p: Option<da_network::NetworkClient>,
    cancel: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl NodeHandle {
    /// Stops every task and waits for them.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for NodeHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Reads the node key from `path`, creating a random one if the file does not exist.
pub fn load_or_create_key(path: &Path) -> Result<SigningKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes: [u8; 32] = hex::decode(text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    NodeError::Startup(format!("{}: not 32 bytes of hex", path.display()))
                })?;
            Ok(SigningKey::from_bytes(&bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| NodeError::Startup(format!("{}: {e}", dir.display())))?;
            }
            std::fs::write(path, hex::encode(key.to_bytes()))
                .map_err(|e| NodeError::Startup(format!("{}: {e}", path.display())))?;
            Ok(key)
        }
        Err(e) => Err(NodeError::Startup(format!("{}: {e}", path.display()))),
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Starts a node with its own KZG context.
pub async fn start(config: NodeConfig) -> Result<NodeHandle> {
    let precompute = config.precompute && config.role == Role::Producer;
    let kzg = tokio::task::spawn_blocking(move || {
        Arc::new(KzgContext::new(
            KzgConfig::DEFAULT.with_precompute(precompute),
        ))
    })
    .await
    .map_err(|e| NodeError::Internal(e.to_string()))?;
    start_with(config, kzg).await
}

/// Starts a node sharing a KZG context (several nodes in one process).
pub async fn start_with(config: NodeConfig, kzg: Arc<KzgContext>) -> Result<NodeHandle> {
    config
        .validate()
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    let dir = config.data_dir();
    std::fs::create_dir_all(&dir)
        .map_err(|e| NodeError::Startup(format!("{}: {e}", dir.display())))?;
    let key = load_or_create_key(&dir.join("node.key"))?;
    let store: Arc<dyn Store> = Arc::new(RocksStore::open(&dir.join("db"))?);
    let mempool = Mempool::new(config.mempool_max_bytes, config.mempool_max_blobs)
        .with_max_square_k(config.max_square_k);
    let mut restored = 0;
    for blob in store.mempool_all()? {
        if store.blob_height(&blob.id())?.is_none() && mempool.insert(blob).is_ok() {
            restored += 1;
        }
    }
    let mut trusted: Vec<[u8; 32]> = config
        .trusted_producers
        .iter()
        .filter_map(|k| hex::decode(k).ok()?.try_into().ok())
        .collect();
    if config.role == Role::Producer {
        trusted.push(key.verifying_key().to_bytes());
    }
    let (blocks, _) = broadcast::channel(64);
    let cancel = CancellationToken::new();
    let inner = Arc::new(NodeInner {
        shutdown: cancel.clone(),
        verifier: ProducerSet::new(config.chain_id.clone(), trusted),
        node_id: hex::encode(key.verifying_key().to_bytes()),
        key,
        store,
        mempool,
        kzg,
        metrics: Arc::new(Metrics::new()),
        blocks,
        wake: Notify::new(),
        config,
    });
    inner.refresh_gauges();
    let head = inner.store.head()?;
    info!(
        role = %inner.config.role,
        chain = %inner.config.chain_id,
        data_dir = %dir.display(),
        ?head,
        restored_mempool = restored,
        "node starting"
    );

    let grpc = metrics::bind(inner.config.grpc_addr, "gRPC")
        .await
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    let metrics_listener = metrics::bind(inner.config.metrics_addr, "metrics")
        .await
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    let grpc_addr = grpc
        .local_addr()
        .map_err(|e| NodeError::Startup(e.to_string()))?;
    let metrics_addr = metrics_listener
        .local_addr()
        .map_err(|e| NodeError::Startup(e.to_string()))?;

    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(crate::grpc::serve(
        inner.clone(),
        grpc,
        cancel.clone(),
    )));
    let m = inner.metrics.clone();
    let c = cancel.clone();
    tasks.push(tokio::spawn(async move {
        if let Err(e) = metrics::serve(metrics_listener, m, c).await {
            warn!("metrics server stopped: {e}");
        }
    }));
    match inner.config.role {
        Role::Producer => tasks.push(tokio::spawn(producer_loop(inner.clone(), cancel.clone()))),
        // Without `follow`, a full node syncs over libp2p (started with the network below).
        Role::Full if inner.config.follow.is_some() => {
            tasks.push(tokio::spawn(follow_loop(inner.clone(), cancel.clone())));
        }
        Role::Full => {}
    }
    if !inner.config.archival {
        tasks.push(tokio::spawn(prune_loop(inner.clone(), cancel.clone())));
    }
    let p2p = if inner.config.p2p_listen.is_empty() {
        None
    } else {
        let (client, task) = crate::p2p::start(inner.clone(), cancel.clone()).await?;
        tasks.push(task);
        Some(client)
    };
    info!(%grpc_addr, %metrics_addr, "node listening");
    Ok(NodeHandle {
        grpc_addr,
        metrics_addr,
        p2p,
        inner,
        cancel,
        tasks,
    })
}

impl NodeInner {
    /// The node key's secret bytes (also the node's libp2p identity).
    pub(crate) fn secret_key_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The producer's public key (this node's key).
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// Wakes the producer early (the mempool fills a square).
    pub fn wake_producer(&self) {
        self.wake.notify_one();
    }

    fn refresh_gauges(&self) {
        let m = &self.metrics;
        m.mempool_blobs.set(self.mempool.len() as i64);
        m.mempool_bytes.set(self.mempool.bytes() as i64);
        m.storage_bytes.set(self.store.storage_bytes() as i64);
        if let Ok(Some(h)) = self.store.head() {
            m.head_height.set(h as i64);
        }
        if let Ok(Some(h)) = self.store.lowest() {
            m.lowest_height.set(h as i64);
        }
    }

    /// Builds, signs, proves and stores one block from `blobs` (blocking; run off the runtime).
    #[instrument(skip_all, name = "producer.produce", fields(blobs = blobs.len()))]
    fn produce(&self, blobs: &[Blob]) -> Result<()> {
        let t0 = Instant::now();
        let square = SquareLayout::build(blobs)?;
        let committed = self.kzg.commit_square(&square)?;
        let (height, parent_hash, parent_ts) = match self.store.head()? {
            Some(h) => {
                let parent = self
                    .store
                    .header(h)?
                    .ok_or_else(|| NodeError::Internal(format!("head {h} has no header")))?;
                (h + 1, parent.hash(), parent.header.timestamp_ms)
            }
            None => (1, [0u8; 32], 0),
        };
        let header = Header {
            chain_id: self.config.chain_id.clone(),
            height,
            parent_hash,
            timestamp_ms: now_ms().max(parent_ts),
            k: square.k() as u16,
            commitments: committed.commitments().iter().map(|c| c.0).collect(),
            blob_count: square.index().len() as u32,
        }
        .sign(&self.key)?;
        self.metrics
            .time_to_header
            .observe(t0.elapsed().as_secs_f64());
        let full = committed.prove(&self.kzg, ProofStrategy::Linear)?;
        self.metrics
            .time_to_proofs
            .observe(t0.elapsed().as_secs_f64());
        let k = square.k();
        let block = BlockData::from_square(header, square.index().to_vec(), &full);
        self.store.put_block(&block)?;
        let payload: Vec<(IndexEntry, Vec<u8>)> = square
            .index()
            .iter()
            .zip(sorted_like_index(blobs, square.index()))
            .map(|(e, b)| (*e, b.data().to_vec()))
            .collect();
        info!(
            height,
            k,
            blobs = blobs.len(),
            ms = t0.elapsed().as_millis() as u64,
            "block produced"
        );
        self.after_block(block.header, payload);
        Ok(())
    }

    fn after_block(&self, header: SignedHeader, blobs: Vec<(IndexEntry, Vec<u8>)>) {
        let m = &self.metrics;
        m.blocks.inc();
        m.blobs_included.inc_by(blobs.len() as u64);
        m.square_k.set(i64::from(header.header.k));
        m.block_bytes
            .set(blobs.iter().map(|(_, d)| d.len() as i64).sum());
        self.refresh_gauges();
        let _ = self.blocks.send(Arc::new(BlockEvent { header, blobs }));
    }

    /// Cell `(row, col)` of `height` with its proof, read from the store.
    pub(crate) fn proven(
        &self,
        height: u64,
        k: usize,
        row: usize,
        col: usize,
    ) -> Result<ProvenCell> {
        let missing = || NodeError::Internal(format!("cell ({row}, {col}) of {height} missing"));
        let cell = self.store.cell(height, k, row, col)?.ok_or_else(missing)?;
        let proof = self.store.proof(height, row, col)?;
        Ok(ProvenCell {
            index: CellIndex {
                row: row as u32,
                col: col as u32,
            },
            cell: Cell::from_slice(&cell)?,
            proof: Proof(proof),
        })
    }

    /// Original cells by number (`CellIndex::of_original`) with their proofs.
    pub(crate) fn original_cells(
        &self,
        height: u64,
        k: usize,
        cells: impl IntoIterator<Item = usize>,
    ) -> Result<Vec<ProvenCell>> {
        cells
            .into_iter()
            .map(|n| {
                let p = CellIndex::of_original(n);
                self.proven(height, k, p.row as usize, p.col as usize)
            })
            .collect()
    }

    /// The completeness proof of `namespace` at `height` with the block's `k` and index, or
    /// `None` when the block is not stored.
    pub(crate) fn namespace_proof(
        &self,
        height: u64,
        namespace: &da_types::Namespace,
    ) -> Result<Option<(usize, Vec<IndexEntry>, NamespaceProof)>> {
        let Some((k, index)) = self.store.block_index(height)? else {
            return Ok(None);
        };
        let mine = index
            .iter()
            .filter(|e| e.namespace == *namespace)
            .flat_map(|e| e.cells());
        let proof = NamespaceProof {
            index_cells: self.original_cells(height, k, 0..index_cells(index.len()))?,
            blob_cells: self.original_cells(height, k, mine)?,
        };
        Ok(Some((k, index, proof)))
    }

    /// Checks only the header's signature against the trusted producers (cheap).
    pub(crate) fn verify_signature(&self, header: &SignedHeader) -> Result<()> {
        Ok(self.verifier.verify(header)?)
    }

    /// Checks a gossiped header before it is forwarded: a trusted signature and commitments
    /// that are a valid extension (the parent link is checked at import).
    pub(crate) fn check_gossiped(&self, header: &SignedHeader) -> Result<()> {
        self.verifier.verify(header)?;
        if !self
            .kzg
            .verify_extension(&Commitment::of_header(&header.header))?
        {
            return Err(NodeError::InvalidArgument(format!(
                "header {}: commitments are not a valid extension",
                header.header.height
            )));
        }
        Ok(())
    }

    /// Checks a header a full node is about to import: trusted signature, link to the stored
    /// parent, and commitments that are a valid extension. Returns the commitments.
    pub(crate) fn check_header(&self, header: &SignedHeader) -> Result<Vec<Commitment>> {
        self.verifier.verify(header)?;
        let h = header.header.height;
        if h > 1 {
            if let Some(parent) = self.store.header(h - 1)? {
                if parent.hash() != header.header.parent_hash {
                    return Err(NodeError::InvalidArgument(format!(
                        "header {h} does not link to the stored header {}",
                        h - 1
                    )));
                }
            }
        }
        let commitments = Commitment::of_header(&header.header);
        if !self.kzg.verify_extension(&commitments)? {
            return Err(NodeError::InvalidArgument(format!(
                "header {h}: commitments are not a valid extension"
            )));
        }
        Ok(commitments)
    }

    /// Verifies and stores a block fetched from upstream: `rows[r]` holds row `r`'s 128 cells.
    #[instrument(skip_all, name = "follower.import", fields(height = header.header.height))]
    fn import(&self, header: SignedHeader, rows: Vec<Vec<(CellIndex, Cell, Proof)>>) -> Result<()> {
        let commitments = self.check_header(&header)?;
        let h = header.header.height;
        let k = header.header.k as usize;
        if rows.len() != 2 * k || rows.iter().any(|r| r.len() != CELLS_PER_ROW) {
            return Err(NodeError::InvalidArgument(format!(
                "block {h}: expected {} full rows",
                2 * k
            )));
        }
        let all: Vec<(CellIndex, Cell, Proof)> = rows.into_iter().flatten().collect();
        for (i, (idx, _, _)) in all.iter().enumerate() {
            if (idx.row as usize, idx.col as usize) != (i / CELLS_PER_ROW, i % CELLS_PER_ROW) {
                return Err(NodeError::InvalidArgument(format!(
                    "block {h}: cell {i} is labelled ({}, {})",
                    idx.row, idx.col
                )));
            }
        }
        let verified = self.kzg.verify_cells(&commitments, all)?;
        let proofs = verified.iter().map(|v| v.proof().0).collect();
        let (data, parity) = verified.split_at(k * CELLS_PER_ROW);
        let bytes = |v: &[da_kzg::VerifiedCell]| -> Vec<Vec<u8>> {
            v.iter().map(|c| c.cell().as_bytes().to_vec()).collect()
        };
        self.store_verified(header, bytes(data), proofs, bytes(parity))
    }

    /// Stores a block whose header was checked and whose cells and proofs were verified against
    /// it (or recomputed by repair): decodes the index, checks every blob against its id, writes
    /// the block in one batch and notifies subscribers. `cells` are the `k × 128` cells of the
    /// original rows, `proofs` all `2k × 128` proofs, `parity` the parity rows' cells if at
    /// hand (cached for serving, not stored), all row-major.
    pub(crate) fn store_verified(
        &self,
        header: SignedHeader,
        cells: Vec<Vec<u8>>,
        proofs: Vec<[u8; da_types::consts::BYTES_PER_G1]>,
        parity: Vec<Vec<u8>>,
    ) -> Result<()> {
        let h = header.header.height;
        let k = header.header.k as usize;
        if cells.len() != k * CELLS_PER_ROW || proofs.len() != 2 * k * CELLS_PER_ROW {
            return Err(NodeError::Internal(format!(
                "block {h}: {} cells and {} proofs for k = {k}",
                cells.len(),
                proofs.len()
            )));
        }
        let original = |n: usize| {
            let p = CellIndex::of_original(n);
            &cells[p.row as usize * CELLS_PER_ROW + p.col as usize]
        };
        let mut payload = Vec::new();
        unpack_cell(original(0), &mut payload)?;
        let count = decode_index_count(&payload)?;
        for n in 1..index_cells(count) {
            unpack_cell(original(n), &mut payload)?;
        }
        let index = decode_index(&payload, k)?;
        if index.len() != header.header.blob_count as usize {
            return Err(NodeError::InvalidArgument(format!(
                "block {h}: index has {} blobs, header says {}",
                index.len(),
                header.header.blob_count
            )));
        }
        let mut blobs = Vec::with_capacity(index.len());
        for e in &index {
            let mut data = Vec::with_capacity(e.cells().len() * PAYLOAD_BYTES_PER_CELL);
            for n in e.cells() {
                unpack_cell(original(n), &mut data)?;
            }
            data.truncate(e.len as usize);
            if da_types::BlobId::compute(&e.namespace, &data) != e.blob_id {
                return Err(NodeError::InvalidArgument(format!(
                    "block {h}: blob {} does not match its id",
                    e.blob_id
                )));
            }
            blobs.push((*e, data));
        }
        let block = BlockData {
            header,
            index,
            cells,
            proofs,
            parity,
        };
        self.store.put_block(&block)?;
        info!(height = h, k, blobs = blobs.len(), "block imported");
        self.after_block(block.header, blobs);
        Ok(())
    }
}

/// The blobs in the order the layout put them (stable sort by namespace).
fn sorted_like_index<'a>(blobs: &'a [Blob], index: &[IndexEntry]) -> Vec<&'a Blob> {
    let mut v: Vec<&Blob> = blobs.iter().collect();
    v.sort_by(|a, b| a.namespace().cmp(b.namespace()));
    debug_assert!(v.iter().zip(index).all(|(b, e)| b.id() == e.blob_id));
    v
}

async fn producer_loop(inner: Arc<NodeInner>, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(inner.config.block_time());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            _ = tick.tick() => {}
            () = inner.wake.notified() => {}
        }
        let blobs = inner.mempool.take_for_block();
        let worker = inner.clone();
        let result = tokio::task::spawn_blocking(move || {
            let r = worker.produce(&blobs);
            (r, blobs)
        })
        .await;
        match result {
            Ok((Ok(()), _)) => {}
            Ok((Err(e), blobs)) => {
                warn!("block production failed, blobs return to the mempool: {e}");
                inner.mempool.restore(blobs);
            }
            Err(e) => warn!("block production task failed: {e}"),
        }
        if inner.mempool.fills_square() {
            inner.wake_producer();
        }
    }
}

async fn follow_loop(inner: Arc<NodeInner>, cancel: CancellationToken) {
    let Some(url) = inner.config.follow.clone() else {
        return;
    };
    while !cancel.is_cancelled() {
        if let Err(e) = follow_once(&inner, &url, &cancel).await {
            warn!(upstream = %url, "following failed, retrying in 1s: {e}");
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }
}

/// Largest gRPC message the node sends or accepts.
pub const MAX_MESSAGE_BYTES: usize = 96 * 1024 * 1024;

async fn follow_once(inner: &Arc<NodeInner>, url: &str, cancel: &CancellationToken) -> Result<()> {
    use pb::{
        header_service_client::HeaderServiceClient, share_service_client::ShareServiceClient,
    };
    let channel = tonic::transport::Endpoint::from_shared(url.to_string())
        .map_err(|e| NodeError::Startup(format!("follow URL {url:?}: {e}")))?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| NodeError::Unavailable(format!("connect {url}: {e}")))?;
    let mut headers =
        HeaderServiceClient::new(channel.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES);
    let mut shares = ShareServiceClient::new(channel).max_decoding_message_size(MAX_MESSAGE_BYTES);
    let unavailable = |e: tonic::Status| NodeError::Unavailable(format!("upstream: {e}"));
    loop {
        if cancel.is_cancelled() {
            return Ok(());
        }
        let next = inner.store.head()?.map_or(1, |h| h + 1);
        let head = match headers.head(pb::HeadRequest {}).await {
            Ok(h) => h.into_inner().height,
            Err(s) if s.code() == tonic::Code::NotFound => 0,
            Err(s) => return Err(unavailable(s)),
        };
        if head < next {
            tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
            continue;
        }
        let to = head.min(next + 63);
        let range = headers
            .get_range(pb::GetRangeRequest { from: next, to })
            .await
            .map_err(unavailable)?
            .into_inner();
        for h in range.headers {
            let header = SignedHeader::try_from(&h)?;
            let height = header.header.height;
            let k = header.header.k as usize;
            let mut rows = Vec::with_capacity(2 * k);
            for r in 0..2 * k {
                let row = shares
                    .get_row(pb::GetRowRequest {
                        height,
                        row: r as u32,
                    })
                    .await
                    .map_err(unavailable)?
                    .into_inner();
                let cells = row
                    .cells
                    .iter()
                    .map(|s| ProvenCell::try_from(s).map(|p| (p.index, p.cell, p.proof)))
                    .collect::<Result<Vec<_>, _>>()?;
                rows.push(cells);
            }
            let worker = inner.clone();
            tokio::task::spawn_blocking(move || worker.import(header, rows))
                .await
                .map_err(|e| NodeError::Internal(e.to_string()))??;
        }
    }
}

async fn prune_loop(inner: Arc<NodeInner>, cancel: CancellationToken) {
    let every = Duration::from_secs((inner.config.retention_secs / 4).clamp(1, 60));
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(every) => {}
        }
        let worker = inner.clone();
        match tokio::task::spawn_blocking(move || worker.prune()).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => info!(heights = n, "pruned"),
            Ok(Err(e)) => warn!("pruning failed: {e}"),
            Err(e) => warn!("pruning task failed: {e}"),
        }
    }
}

impl NodeInner {
    /// Deletes heights older than the retention window (never the head). Returns how many.
    pub fn prune(&self) -> Result<usize> {
        let (Some(lowest), Some(head)) = (self.store.lowest()?, self.store.head()?) else {
            return Ok(0);
        };
        let cutoff = now_ms().saturating_sub(self.config.retention_secs.saturating_mul(1000));
        let mut keep_from = lowest;
        while keep_from < head {
            match self.store.header(keep_from)? {
                Some(h) if h.header.timestamp_ms < cutoff => keep_from += 1,
                _ => break,
            }
        }
        let n = self.store.prune_below(keep_from)?;
        if n > 0 {
            self.refresh_gauges();
        }
        Ok(n)
    }
}

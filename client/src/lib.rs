//! Typed gRPC client of a DA node (`da.v1`), the library Rust rollups embed and the posting
//! adapter is built on.
//!
//! It owns the client side of the API: connection settings, bearer-token auth, per-attempt
//! timeouts, retries with exponential backoff for transient failures (submission is idempotent
//! by blob id, so retrying it never creates a second copy), and the verification of what the node
//! returns: every blob is checked against its id, and [`DaClient::get_verified`] checks the
//! blob's inclusion proof against a header whose certificate was checked against the genesis
//! validator set ([`HeaderTrust::Genesis`]).

use std::{
    collections::BTreeMap,
    future::Future,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use da_attest::publication::{blob_element_rows, prove_blob_element, Window};
pub use da_attest::publication::{BlobElementProof, ElementOpening, SquareParams};
use da_kzg::{inclusion::ProvenBlob, BlobProof, Commitment, KzgVerifier, ProvenCell, VerifiedCell};
use da_proto::v1::{
    self as pb, blob_service_client::BlobServiceClient, header_service_client::HeaderServiceClient,
    node_service_client::NodeServiceClient, share_service_client::ShareServiceClient,
};
use da_types::{
    attestation::{tuple_root, window_heights, window_of},
    consts::ORIGINAL_CELLS_PER_ROW,
    convert, BlobId, CertifiedHeader, Namespace, Trust,
};
pub use tonic::Code;
use tonic::{transport::Channel, Request, Status};
use tracing::debug;

/// Largest gRPC message the client sends or accepts.
pub const MAX_MESSAGE_BYTES: usize = 96 * 1024 * 1024;

/// Everything a [`DaClient`] call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The endpoint URL is not usable.
    #[error("invalid endpoint {endpoint:?}: {why}")]
    Endpoint {
        /// The URL given.
        endpoint: String,
        /// What is wrong with it.
        why: String,
    },
    /// The node could not be reached (connection refused, reset, shutting down).
    #[error("node at {endpoint} is unreachable: {message}")]
    Unavailable {
        /// The node's URL.
        endpoint: String,
        /// What the transport said.
        message: String,
    },
    /// An attempt did not finish within the configured timeout.
    #[error("{what} timed out after {after:?}")]
    Timeout {
        /// The call.
        what: &'static str,
        /// The timeout.
        after: Duration,
    },
    /// The node answered with an error status.
    #[error("{what}: node returned {code:?}: {message}")]
    Status {
        /// The call.
        what: &'static str,
        /// The gRPC status code.
        code: Code,
        /// The node's message.
        message: String,
    },
    /// The node's answer does not decode or is inconsistent with the request.
    #[error("malformed answer from the node: {0}")]
    Malformed(String),
    /// The node's data failed verification (wrong id, bad proof, uncertified header).
    #[error("verification failed: {0}")]
    Verification(String),
    /// The request is outside what the data allows (a byte past a blob's end).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The call needs a setting the client was not given (the genesis, for proofs on L1).
    #[error("not configured: {0}")]
    NotConfigured(String),
    /// The height's attestation window has not ended yet: its `tuple_root` is in the header at
    /// `end`, which the chain has not reached.
    #[error(
        "height {height} is in attestation window {nonce}, which ends at height {end}; \
         the chain is at {head}: try again once it has reached {end}"
    )]
    WindowOpen {
        /// The height asked about.
        height: u64,
        /// Its window.
        nonce: u64,
        /// The window's last height.
        end: u64,
        /// The chain's head.
        head: u64,
    },
}

impl ClientError {
    /// The gRPC code this error carries, if the node answered.
    pub fn code(&self) -> Option<Code> {
        match self {
            Self::Status { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether the same request may succeed later (the node was unreachable, busy or slow).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unavailable { .. } | Self::Timeout { .. } => true,
            Self::Status { code, .. } => matches!(
                code,
                Code::Unavailable
                    | Code::ResourceExhausted
                    | Code::DeadlineExceeded
                    | Code::Aborted
                    | Code::Internal
                    | Code::Unknown
            ),
            _ => false,
        }
    }
}

impl From<convert::ConvertError> for ClientError {
    fn from(e: convert::ConvertError) -> Self {
        Self::Malformed(e.to_string())
    }
}

/// Result with [`ClientError`].
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// How the client trusts headers.
#[derive(Clone, Debug)]
pub enum HeaderTrust {
    /// Accept headers whose certificate verifies against the genesis validator set and chain
    /// (one aggregate signature check; read the set with `Genesis::from_json` and
    /// `Trust::from_genesis`).
    Genesis(Arc<Trust>),
    /// Check only that a header is well formed: it decodes and its commitments hash to its
    /// `data_root`. The certificate is not checked (that needs the validator set): this protects
    /// against corruption, not against a node that forges headers; use
    /// [`HeaderTrust::Genesis`] when the genesis file is at hand.
    WellFormed,
}

/// Connection and retry settings.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The node's gRPC URL, e.g. `http://127.0.0.1:26650`.
    pub endpoint: String,
    /// Other nodes of the same chain, tried in turn when the current one is unreachable or
    /// times out. Submission is idempotent by blob id, so retrying it at another node never
    /// creates a second copy. Submit to validators: a non-validator full node pools a blob but
    /// does not forward it to the validators yet.
    pub failover: Vec<String>,
    /// Bearer token for `Submit`, if the node requires one.
    pub token: Option<String>,
    /// Timeout of establishing a connection.
    pub connect_timeout: Duration,
    /// Timeout of one attempt of a read call.
    pub request_timeout: Duration,
    /// Timeout of one attempt of a submission that waits for inclusion.
    pub inclusion_timeout: Duration,
    /// Attempts after the first for transient failures.
    pub retries: u32,
    /// Delay before the first retry; doubles on each further one (capped at 8×).
    pub backoff: Duration,
    /// How headers are trusted by the verifying calls.
    pub trust: HeaderTrust,
}

impl ClientConfig {
    /// Defaults for `endpoint`: 5 s connect, 30 s reads, 120 s inclusion, 3 retries from 200 ms.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            failover: Vec::new(),
            token: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            inclusion_timeout: Duration::from_secs(120),
            retries: 3,
            backoff: Duration::from_millis(200),
            trust: HeaderTrust::WellFormed,
        }
    }
}

/// A blob as the node returned it, already checked against its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedBlob {
    /// Block height.
    pub height: u64,
    /// Namespace.
    pub namespace: Namespace,
    /// Blob id (`blake3(namespace ‖ len ‖ data)`, checked).
    pub id: BlobId,
    /// The bytes.
    pub data: Vec<u8>,
}

/// What a submission returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submitted {
    /// Id of each blob, in request order.
    pub ids: Vec<BlobId>,
    /// Height of inclusion of each blob (`None` = still pending).
    pub heights: Vec<Option<u64>>,
}

/// A rollup's proof that one byte of a blob is published, checkable on L1 by `DAOracle`'s
/// `verifyBlobElement` once window `proof.nonce` is attested (`specs/12-attestation.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publication {
    /// The blob.
    pub blob_id: BlobId,
    /// The byte's offset in the blob.
    pub offset: u64,
    /// The byte (`proof.payload()[offset mod 31]`).
    pub byte: u8,
    /// The blob's field element holding it (`offset / 31`), tied to the blob id by the square's
    /// index and proven up to the window's `tuple_root`.
    pub proof: BlobElementProof,
    /// The window's `tuple_root`, from the certified header at its last height: what the
    /// oracle stores under `proof.nonce` once the window is relayed.
    pub tuple_root: [u8; 32],
    /// The window's length (the genesis `attestation_window`).
    pub window: u64,
}

/// The node's self-description.
pub type NodeInfo = pb::InfoResponse;

/// One node's gRPC stubs on one lazily connected channel.
#[derive(Clone, Debug)]
struct Conn {
    endpoint: String,
    blob: BlobServiceClient<Channel>,
    header: HeaderServiceClient<Channel>,
    share: ShareServiceClient<Channel>,
    node: NodeServiceClient<Channel>,
}

impl Conn {
    fn new(endpoint: &str, connect_timeout: Duration) -> Result<Self> {
        let channel = tonic::transport::Endpoint::from_shared(endpoint.to_string())
            .map_err(|e| ClientError::Endpoint {
                endpoint: endpoint.to_string(),
                why: e.to_string(),
            })?
            .connect_timeout(connect_timeout)
            .tcp_nodelay(true)
            .connect_lazy();
        Ok(Self {
            endpoint: endpoint.to_string(),
            blob: BlobServiceClient::new(channel.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
            header: HeaderServiceClient::new(channel.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
            share: ShareServiceClient::new(channel.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
            node: NodeServiceClient::new(channel),
        })
    }
}

/// A typed, retrying client of a DA node, failing over to the configured other nodes.
#[derive(Clone, Debug)]
pub struct DaClient {
    config: ClientConfig,
    /// `config.endpoint`, then `config.failover`.
    conns: Arc<[Conn]>,
    /// Index of the node calls go to; moves on when it is unreachable (shared by clones).
    current: Arc<AtomicUsize>,
    /// `None` = the process-wide [`KzgVerifier::shared`], built on first verification.
    kzg: Option<Arc<KzgVerifier>>,
}

impl DaClient {
    /// A client of `config.endpoint` (and `config.failover`). Connections are made lazily, so
    /// this succeeds while the nodes are down; calls then fail with
    /// [`ClientError::Unavailable`] until one is up.
    pub fn new(config: ClientConfig) -> Result<Self> {
        let conns = std::iter::once(&config.endpoint)
            .chain(&config.failover)
            .map(|e| Conn::new(e, config.connect_timeout))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            conns: conns.into(),
            current: Arc::new(AtomicUsize::new(0)),
            kzg: None,
            config,
        })
    }

    /// The URL of the node calls go to now.
    pub fn current_endpoint(&self) -> &str {
        &self.conns[self.current.load(Ordering::Relaxed) % self.conns.len()].endpoint
    }

    /// Uses `kzg` for proof verification instead of the process-wide shared context.
    pub fn with_kzg(mut self, kzg: Arc<KzgVerifier>) -> Self {
        self.kzg = Some(kzg);
        self
    }

    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    fn status(endpoint: &str, what: &'static str, s: Status) -> ClientError {
        // Transport failures surface as Unavailable (or Unknown with a transport source).
        let transport = s.code() == Code::Unavailable
            || (s.code() == Code::Unknown && std::error::Error::source(&s).is_some());
        if transport {
            ClientError::Unavailable {
                endpoint: endpoint.to_string(),
                message: s.message().to_string(),
            }
        } else {
            ClientError::Status {
                what,
                code: s.code(),
                message: s.message().to_string(),
            }
        }
    }

    /// Runs `call` against the current node with a per-attempt timeout, retrying transient
    /// failures with backoff. A node that is unreachable or times out hands the next attempt to
    /// the next configured node (at once while some node has not been tried for this call), and
    /// every node gets at least one attempt.
    async fn call<T, F, Fut>(&self, what: &'static str, timeout: Duration, mut call: F) -> Result<T>
    where
        F: FnMut(&Conn) -> Fut,
        Fut: Future<Output = std::result::Result<tonic::Response<T>, Status>>,
    {
        let n = self.conns.len();
        let mut delay = self.config.backoff;
        let mut attempt = 0;
        let mut untried = n - 1;
        loop {
            let i = self.current.load(Ordering::Relaxed) % n;
            let conn = &self.conns[i];
            let r = match tokio::time::timeout(timeout, call(conn)).await {
                Ok(Ok(resp)) => return Ok(resp.into_inner()),
                Ok(Err(s)) => Self::status(&conn.endpoint, what, s),
                Err(_) => ClientError::Timeout {
                    what,
                    after: timeout,
                },
            };
            let node_down = matches!(
                r,
                ClientError::Unavailable { .. } | ClientError::Timeout { .. }
            );
            if node_down && untried > 0 {
                untried -= 1;
                let next = self.move_on(i);
                debug!(what, endpoint = %conn.endpoint, next = %self.conns[next].endpoint, error = %r, "failing over");
                continue;
            }
            if attempt >= self.config.retries || !r.is_transient() {
                return Err(r);
            }
            attempt += 1;
            debug!(what, attempt, error = %r, "retrying");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.config.backoff * 8);
            if node_down {
                self.move_on(i);
            }
        }
    }

    /// Moves calls from node `i` to the next one and returns its index. Another call may have
    /// moved on already: only a failure of the current node moves it.
    fn move_on(&self, i: usize) -> usize {
        let next = (i + 1) % self.conns.len();
        let _ = self
            .current
            .compare_exchange(i, next, Ordering::Relaxed, Ordering::Relaxed);
        next
    }

    /// The node's version, chain, role, heights and limits.
    pub async fn info(&self) -> Result<NodeInfo> {
        self.call("Info", self.config.request_timeout, |conn| {
            let mut c = conn.node.clone();
            async move { c.info(pb::InfoRequest {}).await }
        })
        .await
    }

    /// Submits blobs (idempotent by id). With `wait`, returns once every blob is included.
    pub async fn submit(&self, blobs: &[(Namespace, Vec<u8>)], wait: bool) -> Result<Submitted> {
        let req = pb::SubmitRequest {
            blobs: blobs
                .iter()
                .map(|(ns, data)| pb::submit_request::Item {
                    namespace: ns.as_bytes().to_vec(),
                    data: data.clone(),
                })
                .collect(),
            wait_for_inclusion: wait,
        };
        let timeout = if wait {
            self.config.inclusion_timeout
        } else {
            self.config.request_timeout
        };
        let auth = self
            .config
            .token
            .as_ref()
            .map(|t| format!("Bearer {t}").parse())
            .transpose()
            .map_err(|_| ClientError::Endpoint {
                endpoint: self.config.endpoint.clone(),
                why: "the token is not a valid header value".into(),
            })?;
        let resp = self
            .call("Submit", timeout, |conn| {
                let mut c = conn.blob.clone();
                let mut r = Request::new(req.clone());
                if let Some(a) = &auth {
                    r.metadata_mut().insert("authorization", Clone::clone(a));
                }
                async move { c.submit(r).await }
            })
            .await?;
        if resp.blob_ids.len() != blobs.len() {
            return Err(ClientError::Malformed(format!(
                "{} blob ids for {} blobs",
                resp.blob_ids.len(),
                blobs.len()
            )));
        }
        let mut ids = Vec::with_capacity(blobs.len());
        for ((ns, data), got) in blobs.iter().zip(&resp.blob_ids) {
            let id = BlobId::compute(ns, data);
            if convert::blob_id(got)? != id {
                return Err(ClientError::Verification(format!(
                    "node acknowledged blob id {} for a blob whose id is {id}",
                    hex(got)
                )));
            }
            ids.push(id);
        }
        let heights = if resp.heights.len() == blobs.len() {
            resp.heights
                .iter()
                .map(|&h| (h != 0).then_some(h))
                .collect()
        } else {
            vec![(resp.height != 0).then_some(resp.height); blobs.len()]
        };
        if wait && heights.iter().any(Option::is_none) {
            return Err(ClientError::Malformed(
                "node returned from a waiting submission with blobs still pending".into(),
            ));
        }
        Ok(Submitted { ids, heights })
    }

    /// One blob, checked against its id. `height` `None` lets the node look it up by id;
    /// `namespace` `None` matches any namespace.
    pub async fn get(
        &self,
        height: Option<u64>,
        namespace: Option<&Namespace>,
        id: &BlobId,
    ) -> Result<FetchedBlob> {
        let req = pb::GetBlobRequest {
            height: height.unwrap_or(0),
            namespace: namespace.map(|n| n.as_bytes().to_vec()).unwrap_or_default(),
            blob_id: id.0.to_vec(),
            keccak256: Vec::new(),
        };
        let blob = self.get_req(req).await?;
        if blob.id != *id
            || height.is_some_and(|h| h != blob.height)
            || namespace.is_some_and(|n| *n != blob.namespace)
        {
            return Err(ClientError::Verification(format!(
                "asked for blob {id}, the node returned blob {} in {} at {}",
                blob.id, blob.namespace, blob.height
            )));
        }
        Ok(blob)
    }

    /// The newest blob whose data hashes to `hash` (keccak-256), checked against its id and the
    /// hash.
    pub async fn get_by_keccak(&self, hash: &[u8; 32]) -> Result<FetchedBlob> {
        let req = pb::GetBlobRequest {
            keccak256: hash.to_vec(),
            ..Default::default()
        };
        let blob = self.get_req(req).await?;
        if keccak256(&blob.data) != *hash {
            return Err(ClientError::Verification(format!(
                "blob {} returned for keccak256 0x{} does not hash to it",
                blob.id,
                hex(hash)
            )));
        }
        Ok(blob)
    }

    async fn get_req(&self, req: pb::GetBlobRequest) -> Result<FetchedBlob> {
        let b = self
            .call("Get", self.config.request_timeout, |conn| {
                let mut c = conn.blob.clone();
                let r = req.clone();
                async move { c.get(r).await }
            })
            .await?;
        fetched(b)
    }

    /// Every blob of `namespaces` at `height`, each checked against its id.
    pub async fn get_all(&self, height: u64, namespaces: &[Namespace]) -> Result<Vec<FetchedBlob>> {
        let req = pb::GetAllRequest {
            height,
            namespaces: namespaces.iter().map(|n| n.as_bytes().to_vec()).collect(),
        };
        let all = self
            .call("GetAll", self.config.request_timeout, |conn| {
                let mut c = conn.blob.clone();
                let r = req.clone();
                async move { c.get_all(r).await }
            })
            .await?;
        all.blobs
            .into_iter()
            .map(|b| {
                let b = fetched(b)?;
                if b.height != height || !namespaces.contains(&b.namespace) {
                    return Err(ClientError::Verification(format!(
                        "GetAll({height}) returned blob {} in {} at {}",
                        b.id, b.namespace, b.height
                    )));
                }
                Ok(b)
            })
            .collect()
    }

    /// The inclusion proof of a blob and the height it is against.
    pub async fn get_proof(
        &self,
        height: Option<u64>,
        namespace: Option<&Namespace>,
        id: &BlobId,
    ) -> Result<(u64, BlobProof)> {
        let req = pb::GetBlobRequest {
            height: height.unwrap_or(0),
            namespace: namespace.map(|n| n.as_bytes().to_vec()).unwrap_or_default(),
            blob_id: id.0.to_vec(),
            keccak256: Vec::new(),
        };
        let p = self
            .call("GetProof", self.config.request_timeout, |conn| {
                let mut c = conn.blob.clone();
                let r = req.clone();
                async move { c.get_proof(r).await }
            })
            .await?;
        let at = match (height, p.height) {
            (Some(h), 0) => h,
            (Some(h), got) if got != h => {
                return Err(ClientError::Malformed(format!(
                    "proof for height {h} says it is for {got}"
                )))
            }
            (_, 0) => {
                return Err(ClientError::Malformed(
                    "proof of a located blob names no height".into(),
                ))
            }
            (_, got) => got,
        };
        Ok((at, BlobProof::try_from(&p)?))
    }

    /// The certified header at `height`, accepted under the configured [`HeaderTrust`].
    pub async fn header(&self, height: u64) -> Result<CertifiedHeader> {
        let h = self
            .call("GetByHeight", self.config.request_timeout, |conn| {
                let mut c = conn.header.clone();
                async move { c.get_by_height(pb::GetByHeightRequest { height }).await }
            })
            .await?;
        let h = CertifiedHeader::try_from(&h)?;
        if h.height() != height {
            return Err(ClientError::Malformed(format!(
                "asked for header {height}, got {}",
                h.height()
            )));
        }
        self.trust(&h)?;
        Ok(h)
    }

    /// The newest header, accepted under the configured [`HeaderTrust`].
    pub async fn head(&self) -> Result<CertifiedHeader> {
        let h = self
            .call("Head", self.config.request_timeout, |conn| {
                let mut c = conn.header.clone();
                async move { c.head(pb::HeadRequest {}).await }
            })
            .await?;
        let h = CertifiedHeader::try_from(&h)?;
        self.trust(&h)?;
        Ok(h)
    }

    /// The original half of row `row` at the height of `header` (64 cells), each cell's KZG
    /// proof checked against the header's row commitment.
    pub async fn get_row(&self, header: &CertifiedHeader, row: u32) -> Result<Vec<VerifiedCell>> {
        let height = header.height();
        let r = self
            .call("GetRow", self.config.request_timeout, |conn| {
                let mut c = conn.share.clone();
                async move { c.get_row(pb::GetRowRequest { height, row }).await }
            })
            .await?;
        let cells = r
            .cells
            .iter()
            .map(ProvenCell::try_from)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut original: Vec<_> = cells
            .into_iter()
            .filter(|c| (c.index.col as usize) < ORIGINAL_CELLS_PER_ROW)
            .map(|c| (c.index, c.cell, c.proof))
            .collect();
        original.sort_by_key(|(i, _, _)| i.col);
        original.dedup_by_key(|(i, _, _)| i.col);
        if original.len() != ORIGINAL_CELLS_PER_ROW || original.iter().any(|(i, _, _)| i.row != row)
        {
            return Err(ClientError::Malformed(format!(
                "GetRow({height}, {row}) did not return the row's {ORIGINAL_CELLS_PER_ROW} \
                 original cells"
            )));
        }
        let commitments = Commitment::of_header(&header.block);
        let kzg = self.kzg.clone();
        tokio::task::spawn_blocking(move || {
            kzg.unwrap_or_else(KzgVerifier::shared)
                .verify_cells(&commitments, original)
        })
        .await
        .map_err(|e| ClientError::Verification(format!("verifier task failed: {e}")))?
        .map_err(|e| ClientError::Verification(format!("row {row} at {height}: {e}")))
    }

    /// A proof that byte `offset` of blob `id` is published, for a rollup's L1 contract
    /// (`specs/12-attestation.md` §Proof of publication): the blob is located by its verified
    /// inclusion proof, the window's headers are fetched and checked under the genesis
    /// (their `data_root`s must hash to the `tuple_root` the window's last header commits to),
    /// the byte's row is fetched and checked against its commitment, and the row is opened at
    /// the byte's field element. Needs [`HeaderTrust::Genesis`] (the attestation window and the
    /// validators); fails with [`ClientError::WindowOpen`] until the window has ended.
    pub async fn prove_publication(
        &self,
        height: Option<u64>,
        id: &BlobId,
        offset: u64,
    ) -> Result<Publication> {
        let HeaderTrust::Genesis(trust) = &self.config.trust else {
            return Err(ClientError::NotConfigured(
                "a proof of publication needs the chain's genesis (HeaderTrust::Genesis)".into(),
            ));
        };
        let w = trust.attestation_window();
        if w == 0 {
            return Err(ClientError::NotConfigured(
                "this chain's genesis sets no attestation_window: nothing is attested on L1".into(),
            ));
        }
        let (at, proof) = self.get_proof(height, None, id).await?;
        let header = self.header(at).await?;
        let blob = self.verify_proof(&header, &proof, None, id).await?;
        let byte = *blob
            .data
            .get(usize::try_from(offset).unwrap_or(usize::MAX))
            .ok_or_else(|| {
                ClientError::InvalidRequest(format!(
                    "byte {offset} is past the end of blob {id} ({} bytes)",
                    blob.data.len()
                ))
            })?;
        let malformed = |what: &str| ClientError::Malformed(format!("height {at}: {what}"));
        let nonce = window_of(at, w).ok_or_else(|| malformed("no attestation window"))?;
        let (first, end) = window_heights(nonce, w).ok_or_else(|| malformed("window overflows"))?;
        let head = self.head().await?.height();
        if head < end {
            return Err(ClientError::WindowOpen {
                height: at,
                nonce,
                end,
                head,
            });
        }
        let mut roots = Vec::with_capacity(w as usize);
        let mut last = None;
        for h in first..=end {
            let hdr = if h == at {
                header.clone()
            } else {
                self.header(h).await?
            };
            roots.push(hdr.block.header.data_root);
            last = Some(hdr);
        }
        let last = last.ok_or_else(|| malformed("empty window"))?;
        let committed = last.block.header.tuple_root;
        if tuple_root(first, &roots) != committed {
            return Err(ClientError::Verification(format!(
                "the data roots of heights {first}..={end} do not hash to the tuple_root of \
                 header {end}"
            )));
        }
        // The blob's element holding the byte, tied to the blob id by its index entry: the
        // rows of the index elements and of the blob's element, each checked cell by cell.
        let (entry, first_cell) = (proof.entry, blob.entry.first_cell);
        let element = u32::try_from(offset / 31)
            .map_err(|_| ClientError::InvalidRequest(format!("byte {offset} is out of range")))?;
        let mut rows = BTreeMap::new();
        for row in blob_element_rows(entry, first_cell, element) {
            let cells = self.get_row(&header, row).await?;
            let bytes: Vec<u8> = cells
                .iter()
                .flat_map(|c| c.cell().as_bytes().iter().copied())
                .collect();
            rows.insert(row, bytes);
        }
        let kzg = self.kzg.clone();
        let block = header.block.clone();
        let proof = tokio::task::spawn_blocking(move || {
            let kzg = kzg.unwrap_or_else(KzgVerifier::shared);
            let window = Window {
                nonce,
                first_height: first,
                data_roots: &roots,
            };
            prove_blob_element(&kzg, &window, &block, entry, first_cell, element, &rows)
        })
        .await
        .map_err(|e| ClientError::Verification(format!("prover task failed: {e}")))?
        .map_err(|e| ClientError::Verification(e.to_string()))?;
        if proof.blob_id != id.0 || proof.payload().map(|p| p[(offset % 31) as usize]) != Some(byte)
        {
            return Err(ClientError::Verification(format!(
                "the opened element does not hold byte {offset} of blob {id}"
            )));
        }
        Ok(Publication {
            blob_id: *id,
            offset,
            byte,
            proof,
            tuple_root: committed,
            window: w,
        })
    }

    /// Accepts `h` under the configured trust (decoding already checked it is well formed).
    fn trust(&self, h: &CertifiedHeader) -> Result<()> {
        match &self.config.trust {
            HeaderTrust::Genesis(t) => t
                .verify(h)
                .map(drop)
                .map_err(|e| ClientError::Verification(format!("header {}: {e}", h.height()))),
            HeaderTrust::WellFormed => Ok(()),
        }
    }

    /// A blob proven available and included: fetches its proof and the header, checks the header
    /// under the configured trust, then every cell's KZG proof against the header's commitments,
    /// the committed index entry and the blob id. Returns the proven bytes.
    pub async fn get_verified(
        &self,
        height: Option<u64>,
        namespace: Option<&Namespace>,
        id: &BlobId,
    ) -> Result<FetchedBlob> {
        let (at, proof) = self.get_proof(height, namespace, id).await?;
        let header = self.header(at).await?;
        let proven = self.verify_proof(&header, &proof, namespace, id).await?;
        Ok(FetchedBlob {
            height: at,
            namespace: proven.entry.namespace,
            id: *id,
            data: proven.data,
        })
    }

    /// Verifies a blob proof against a trusted header (CPU work runs off the async runtime).
    pub async fn verify_proof(
        &self,
        header: &CertifiedHeader,
        proof: &BlobProof,
        namespace: Option<&Namespace>,
        id: &BlobId,
    ) -> Result<ProvenBlob> {
        let commitments = Commitment::of_header(&header.block);
        let (kzg, proof, id, ns) = (self.kzg.clone(), proof.clone(), *id, namespace.copied());
        tokio::task::spawn_blocking(move || {
            let kzg = kzg.unwrap_or_else(KzgVerifier::shared);
            match ns {
                Some(ns) => proof.verify(&kzg, &commitments, &ns, &id),
                None => proof.verify_by_id(&kzg, &commitments, &id),
            }
        })
        .await
        .map_err(|e| ClientError::Verification(format!("verifier task failed: {e}")))?
        .map_err(|e| ClientError::Verification(e.to_string()))
    }
}

fn fetched(b: pb::BlobData) -> Result<FetchedBlob> {
    let namespace = convert::namespace(&b.namespace)?;
    let id = convert::blob_id(&b.blob_id)?;
    if BlobId::compute(&namespace, &b.data) != id {
        return Err(ClientError::Verification(format!(
            "the bytes returned for blob {id} do not hash to its id"
        )));
    }
    Ok(FetchedBlob {
        height: b.height,
        namespace,
        id,
        data: b.data,
    })
}

/// Keccak-256 (the EVM's hash) of `data`.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    use sha3::Digest;
    sha3::Keccak256::digest(data).into()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

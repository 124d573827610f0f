//! The posting logic without HTTP: a batch in, a commitment out, and back. Splits batches larger
//! than one blob into parts listed by a manifest blob, verifies everything it reads, and maps
//! every failure to the HTTP status op-batcher and op-node need (`specs/08-posting-adapter.md`).

use da_client::{ClientError, Code, DaClient, FetchedBlob, Publication};
use da_types::{BlobId, Namespace};
use tokio::sync::OnceCell;
use tracing::{debug, info};

use crate::commitment::{Commitment, CommitmentError, Manifest};

/// Default largest batch accepted by `/put` (split into blobs of the node's limit).
pub const DEFAULT_MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;

/// How much of what the node returns is checked before `/get` answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VerifyMode {
    /// The bytes hash to the committed blob id, and their cells' KZG proofs open the signed
    /// header's commitments (proves inclusion in the block, not just integrity).
    #[default]
    Inclusion,
    /// Only the blob-id check (integrity; cheaper; trusts the node for inclusion).
    Id,
}

/// Settings of an [`Adapter`].
#[derive(Clone, Debug)]
pub struct AdapterConfig {
    /// The rollup's namespace: where its batches are posted.
    pub namespace: Namespace,
    /// Largest batch accepted.
    pub max_batch_bytes: usize,
    /// Bytes per blob when splitting; `None` = the node's `max_blob_bytes`.
    pub part_bytes: Option<usize>,
    /// Read verification.
    pub verify: VerifyMode,
}

impl AdapterConfig {
    /// Defaults for `namespace`.
    pub fn new(namespace: Namespace) -> Self {
        Self {
            namespace,
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
            part_bytes: None,
            verify: VerifyMode::Inclusion,
        }
    }
}

/// Every failure of a put or get, each with its HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    /// Malformed request: empty body, bad commitment, unsupported mode. `400`.
    #[error("{0}")]
    BadRequest(String),
    /// The batch is over the limit. `413`.
    #[error("batch is {size} bytes, the limit is {limit} bytes")]
    TooLarge {
        /// Bytes received.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A well-formed commitment whose data the DA layer does not have. `404`.
    #[error("{0}")]
    NotFound(String),
    /// The DA layer cannot be reached or cannot take data now (fork batchers fail over to L1).
    /// `503`.
    #[error("DA layer unavailable: {0}")]
    Unavailable(String),
    /// The DA layer did not answer in time. `504`.
    #[error("DA layer timed out: {0}")]
    Timeout(String),
    /// The DA layer answered with data that failed verification, or with an error. `502`.
    #[error("DA layer answer rejected: {0}")]
    Upstream(String),
    /// The adapter is misconfigured (its token is refused). `500`.
    #[error("adapter misconfigured: {0}")]
    Config(String),
    /// What was asked for exists but is not ready yet (a proof of publication before its
    /// attestation window has ended). `425`.
    #[error("not yet: {0}")]
    NotYet(String),
}

impl AdapterError {
    /// The HTTP status of this error.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::TooLarge { .. } => 413,
            Self::NotFound(_) => 404,
            Self::Unavailable(_) => 503,
            Self::Timeout(_) => 504,
            Self::Upstream(_) => 502,
            Self::Config(_) => 500,
            Self::NotYet(_) => 425,
        }
    }

    /// Whether the caller should retry later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Unavailable(_) | Self::Timeout(_) | Self::Upstream(_) | Self::NotYet(_)
        )
    }
}

impl From<CommitmentError> for AdapterError {
    fn from(e: CommitmentError) -> Self {
        Self::BadRequest(e.to_string())
    }
}

/// Result with [`AdapterError`].
pub type Result<T, E = AdapterError> = std::result::Result<T, E>;

fn from_client(e: ClientError) -> AdapterError {
    let msg = e.to_string();
    match &e {
        ClientError::Unavailable { .. } | ClientError::Endpoint { .. } => {
            AdapterError::Unavailable(msg)
        }
        ClientError::Timeout { .. } => AdapterError::Timeout(msg),
        ClientError::Malformed(_) | ClientError::Verification(_) => AdapterError::Upstream(msg),
        ClientError::InvalidRequest(_) => AdapterError::BadRequest(msg),
        ClientError::NotConfigured(_) => AdapterError::Config(msg),
        ClientError::WindowOpen { .. } => AdapterError::NotYet(msg),
        ClientError::Status { code, .. } => match code {
            Code::NotFound => AdapterError::NotFound(msg),
            Code::InvalidArgument => AdapterError::BadRequest(msg),
            Code::OutOfRange => AdapterError::BadRequest(msg),
            Code::ResourceExhausted | Code::Unavailable => AdapterError::Unavailable(msg),
            Code::DeadlineExceeded => AdapterError::Timeout(msg),
            Code::Unauthenticated | Code::PermissionDenied => AdapterError::Config(msg),
            _ => AdapterError::Upstream(msg),
        },
    }
}

/// A DA server for one rollup namespace, on top of a node client. Stores nothing.
#[derive(Debug)]
pub struct Adapter {
    client: DaClient,
    config: AdapterConfig,
    part_bytes: OnceCell<usize>,
}

impl Adapter {
    /// An adapter posting to `config.namespace` through `client`.
    pub fn new(client: DaClient, config: AdapterConfig) -> Self {
        Self {
            client,
            config,
            part_bytes: OnceCell::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &AdapterConfig {
        &self.config
    }

    /// The node client.
    pub fn client(&self) -> &DaClient {
        &self.client
    }

    async fn part_bytes(&self) -> Result<usize> {
        if let Some(p) = self.config.part_bytes {
            return Ok(p);
        }
        self.part_bytes
            .get_or_try_init(|| async {
                let info = self.client.info().await.map_err(from_client)?;
                let p = usize::try_from(info.max_blob_bytes).unwrap_or(usize::MAX);
                if p == 0 {
                    return Err(AdapterError::Upstream(
                        "node reports a blob limit of 0 bytes".into(),
                    ));
                }
                Ok(p)
            })
            .await
            .copied()
    }

    /// Posts a batch and waits for its inclusion; returns the commitment. Re-posting the same
    /// batch returns the same commitment (submission is idempotent by blob id).
    pub async fn put(&self, batch: &[u8]) -> Result<Commitment> {
        if batch.is_empty() {
            return Err(AdapterError::BadRequest("empty batch".into()));
        }
        if batch.len() > self.config.max_batch_bytes {
            return Err(AdapterError::TooLarge {
                size: batch.len(),
                limit: self.config.max_batch_bytes,
            });
        }
        let ns = self.config.namespace;
        let part = self.part_bytes().await?;
        if batch.len() <= part {
            let s = self
                .client
                .submit(&[(ns, batch.to_vec())], true)
                .await
                .map_err(from_client)?;
            let (height, id) = included(&s, 0)?;
            debug!(height, %id, bytes = batch.len(), "batch included");
            return Ok(Commitment::Blob { height, id });
        }
        let parts: Vec<(Namespace, Vec<u8>)> =
            batch.chunks(part).map(|c| (ns, c.to_vec())).collect();
        let s = self
            .client
            .submit(&parts, true)
            .await
            .map_err(from_client)?;
        let manifest = Manifest {
            total_len: batch.len() as u64,
            parts: (0..parts.len())
                .map(|i| included(&s, i))
                .collect::<Result<_>>()?,
        };
        let m = self
            .client
            .submit(&[(ns, manifest.encode())], true)
            .await
            .map_err(from_client)?;
        let (height, id) = included(&m, 0)?;
        info!(height, %id, parts = parts.len(), bytes = batch.len(), "split batch included");
        Ok(Commitment::Manifest { height, id })
    }

    /// op-batcher's keccak mode: checks `keccak256(batch) == hash`, posts the batch as one blob
    /// and waits for its inclusion. Batches over one blob are refused (`413`): op-node never
    /// reads keccak inputs over 130 672 bytes anyway.
    pub async fn put_keccak(&self, hash: &[u8; 32], batch: &[u8]) -> Result<()> {
        if batch.is_empty() {
            return Err(AdapterError::BadRequest("empty batch".into()));
        }
        let got = da_client::keccak256(batch);
        if got != *hash {
            return Err(AdapterError::BadRequest(format!(
                "the body hashes to keccak256 0x{}, the commitment says 0x{}",
                hex::encode(got),
                hex::encode(hash)
            )));
        }
        let limit = self.part_bytes().await?.min(self.config.max_batch_bytes);
        if batch.len() > limit {
            return Err(AdapterError::TooLarge {
                size: batch.len(),
                limit,
            });
        }
        let s = self
            .client
            .submit(&[(self.config.namespace, batch.to_vec())], true)
            .await
            .map_err(from_client)?;
        let (height, id) = included(&s, 0)?;
        debug!(height, %id, bytes = batch.len(), "keccak batch included");
        Ok(())
    }

    /// The exact batch a commitment names, verified (see [`VerifyMode`]).
    pub async fn get(&self, c: &Commitment) -> Result<Vec<u8>> {
        match *c {
            Commitment::Keccak(hash) => {
                let b = match self.client.get_by_keccak(&hash).await {
                    Ok(b) => b,
                    Err(e) if e.code() == Some(Code::NotFound) => {
                        return Err(AdapterError::NotFound(format!(
                            "no blob hashes to keccak256 0x{}",
                            hex::encode(hash)
                        )))
                    }
                    Err(e) => return Err(from_client(e)),
                };
                if self.config.verify == VerifyMode::Inclusion {
                    return Ok(self.fetch(b.height, &b.id).await?.data);
                }
                Ok(b.data)
            }
            Commitment::Blob { height, id } => Ok(self.fetch(height, &id).await?.data),
            Commitment::Manifest { height, id } => {
                let m = self.fetch(height, &id).await?;
                let manifest = Manifest::decode(&m.data).map_err(|e| {
                    AdapterError::BadRequest(format!(
                        "commitment names blob {id} at {height}, which is not a manifest ({e})"
                    ))
                })?;
                if manifest.total_len > self.config.max_batch_bytes as u64 {
                    return Err(AdapterError::BadRequest(format!(
                        "manifest announces {} bytes, over this adapter's {} byte limit",
                        manifest.total_len, self.config.max_batch_bytes
                    )));
                }
                let mut out = Vec::with_capacity(manifest.total_len as usize);
                for (h, pid) in &manifest.parts {
                    out.extend_from_slice(&self.fetch(*h, pid).await?.data);
                    if out.len() as u64 > manifest.total_len {
                        break;
                    }
                }
                if out.len() as u64 != manifest.total_len {
                    return Err(AdapterError::Upstream(format!(
                        "parts of manifest {id} join to {} bytes, it announces {}",
                        out.len(),
                        manifest.total_len
                    )));
                }
                Ok(out)
            }
        }
    }

    /// A proof for the rollup's L1 contracts that byte `offset` of the blob a commitment names
    /// is published (`DAOracle.verifyBlobElement`; `specs/12-attestation.md`). A manifest
    /// commitment names its manifest blob: prove that, or a part by its own commitment. Needs
    /// the client to trust the genesis; [`AdapterError::NotYet`] until the blob's attestation
    /// window has ended.
    pub async fn prove(&self, c: &Commitment, offset: u64) -> Result<Publication> {
        let (height, id) = match *c {
            Commitment::Blob { height, id } | Commitment::Manifest { height, id } => {
                (Some(height), id)
            }
            Commitment::Keccak(hash) => match self.client.get_by_keccak(&hash).await {
                Ok(b) => (Some(b.height), b.id),
                Err(e) if e.code() == Some(Code::NotFound) => {
                    return Err(AdapterError::NotFound(format!(
                        "no blob hashes to keccak256 0x{}",
                        hex::encode(hash)
                    )))
                }
                Err(e) => return Err(from_client(e)),
            },
        };
        self.client
            .prove_publication(height, &id, offset)
            .await
            .map_err(from_client)
    }

    async fn fetch(&self, height: u64, id: &BlobId) -> Result<FetchedBlob> {
        let r = match self.config.verify {
            VerifyMode::Inclusion => self.client.get_verified(Some(height), None, id).await,
            VerifyMode::Id => self.client.get(Some(height), None, id).await,
        };
        match r {
            Ok(b) => Ok(b),
            Err(e) if e.code() == Some(Code::NotFound) => {
                // A height the node has not reached yet is "not yet", not "never": 503 keeps
                // op-node retrying instead of treating the data as missing.
                let head = self.client.info().await.map_err(from_client)?;
                if height > head.head_height {
                    Err(AdapterError::Unavailable(format!(
                        "the node is at height {}, the commitment names height {height}",
                        head.head_height
                    )))
                } else if height < head.lowest_height {
                    Err(AdapterError::NotFound(format!(
                        "height {height} is pruned (the node keeps {}..={})",
                        head.lowest_height, head.head_height
                    )))
                } else {
                    Err(AdapterError::NotFound(format!(
                        "blob {id} is not in block {height}"
                    )))
                }
            }
            Err(e) => Err(from_client(e)),
        }
    }
}

fn included(s: &da_client::Submitted, i: usize) -> Result<(u64, BlobId)> {
    match (s.heights.get(i).copied().flatten(), s.ids.get(i)) {
        (Some(h), Some(id)) => Ok((h, *id)),
        _ => Err(AdapterError::Upstream(format!(
            "node acknowledged blob {i} without an inclusion height"
        ))),
    }
}

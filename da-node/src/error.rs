//! The node's error type and its single mapping to gRPC status codes.

use tonic::{Code, Status};

/// Result with [`NodeError`].
pub type Result<T, E = NodeError> = std::result::Result<T, E>;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// RocksDB failed.
    #[error("rocksdb: {0}")]
    Rocks(#[from] rocksdb::Error),
    /// The database was written in another storage format (`specs/07-storage.md` §Format).
    #[error(
        "data dir {path} holds format {found}{}; this node needs format {expected}; move it \
         away or re-init",
        format_note(*.found)
    )]
    Format {
        /// The database directory.
        path: String,
        /// The format it holds.
        found: u32,
        /// The format this node reads and writes.
        expected: u32,
    },
    /// Stored bytes do not decode: the database is corrupt or from another version.
    #[error("corrupt record in {cf} at {key}: {why}")]
    Corrupt {
        /// Column family.
        cf: &'static str,
        /// Key, hex.
        key: String,
        /// What is wrong.
        why: String,
    },
}

/// What a known storage format held, for the [`StoreError::Format`] message.
fn format_note(found: u32) -> &'static str {
    match found {
        1 => " (ed25519 headers)",
        2 => " (certified headers)",
        _ => "",
    }
}

/// Everything the node's API can fail with.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The request is malformed (bad namespace, empty blob, bad cell index...).
    #[error("{0}")]
    InvalidArgument(String),
    /// A value is outside the allowed range (blob larger than the limit...).
    #[error("{0}")]
    OutOfRange(String),
    /// The requested data is not stored (unknown height, pruned, unknown blob).
    #[error("{0}")]
    NotFound(String),
    /// A bounded resource is full (mempool).
    #[error("{0}")]
    ResourceExhausted(String),
    /// No bearer token was sent to a write method that requires one.
    #[error("{0}")]
    Unauthenticated(String),
    /// The bearer token is wrong.
    #[error("{0}")]
    PermissionDenied(String),
    /// Waiting for inclusion took too long.
    #[error("{0}")]
    DeadlineExceeded(String),
    /// The node is shutting down or an upstream is unreachable.
    #[error("{0}")]
    Unavailable(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Cryptography or proof failure.
    #[error(transparent)]
    Kzg(#[from] da_kzg::KzgError),
    /// A domain rule was broken.
    #[error(transparent)]
    Types(#[from] da_types::Error),
    /// The node could not start (bad config, port in use, unreadable key...).
    #[error("{0}")]
    Startup(String),
    /// The genesis file is missing, unreadable or invalid, or does not fit the configuration.
    #[error("{0}")]
    Genesis(String),
    /// The validator key is missing, unreadable or invalid, or not usable with the genesis set.
    #[error("{0}")]
    ValidatorKey(String),
    /// A header is not accepted under the trusted validator set (its certificate, or `k`).
    #[error("header {height}: {source}")]
    Untrusted {
        /// The header's height.
        height: u64,
        /// Which rule it broke.
        source: da_types::TrustError,
    },
    /// A bug or unexpected state.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<da_types::ConvertError> for NodeError {
    fn from(e: da_types::ConvertError) -> Self {
        Self::InvalidArgument(e.to_string())
    }
}

impl From<NodeError> for Status {
    fn from(e: NodeError) -> Self {
        let code = match &e {
            NodeError::InvalidArgument(_) | NodeError::Types(_) | NodeError::Untrusted { .. } => {
                Code::InvalidArgument
            }
            NodeError::Kzg(k) if k.is_proof_invalid() => Code::InvalidArgument,
            NodeError::OutOfRange(_) => Code::OutOfRange,
            NodeError::NotFound(_) => Code::NotFound,
            NodeError::ResourceExhausted(_) => Code::ResourceExhausted,
            NodeError::Unauthenticated(_) => Code::Unauthenticated,
            NodeError::PermissionDenied(_) => Code::PermissionDenied,
            NodeError::DeadlineExceeded(_) => Code::DeadlineExceeded,
            NodeError::Unavailable(_) => Code::Unavailable,
            NodeError::Store(_)
            | NodeError::Kzg(_)
            | NodeError::Startup(_)
            | NodeError::Genesis(_)
            | NodeError::ValidatorKey(_)
            | NodeError::Internal(_) => Code::Internal,
        };
        Self::new(code, e.to_string())
    }
}

//! Errors of the network layer.

/// Everything the network layer can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// The configuration is unusable (bad chain id, bad address).
    #[error("network config: {0}")]
    Config(String),
    /// Setting up transports or listening failed.
    #[error("network setup: {0}")]
    Setup(String),
    /// A dial failed.
    #[error("dial {addr}: {why}")]
    Dial {
        /// Address dialled.
        addr: String,
        /// What failed.
        why: String,
    },
    /// A request failed (timeout, connection closed, unsupported protocol, I/O, malformed).
    #[error("request to {peer} failed: {why}")]
    Request {
        /// The peer.
        peer: String,
        /// What failed.
        why: String,
    },
    /// The peer is banned for repeated offences.
    #[error("peer {0} is banned")]
    Banned(String),
    /// Publishing a gossip message failed (no peers on the topic yet, too large...).
    #[error("publish: {0}")]
    Publish(String),
    /// The network task has stopped.
    #[error("the network task has stopped")]
    Stopped,
}

impl NetworkError {
    /// Whether retrying (later or elsewhere) may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Request { .. } | Self::Dial { .. } | Self::Publish(_)
        )
    }
}

/// Result with [`NetworkError`].
pub type Result<T, E = NetworkError> = std::result::Result<T, E>;

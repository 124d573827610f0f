//! Errors of the KZG layer.

/// Result with [`KzgError`].
pub type Result<T, E = KzgError> = std::result::Result<T, E>;

/// What can go wrong in KZG operations and proof checks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KzgError {
    /// An input has the wrong byte length.
    #[error("{what} is {got} bytes, expected {expected}")]
    InvalidLength {
        /// What was measured.
        what: &'static str,
        /// Bytes received.
        got: usize,
        /// Bytes required.
        expected: usize,
    },
    /// Parallel inputs have different lengths.
    #[error("length mismatch: {what}")]
    LengthMismatch {
        /// Which lists disagree, with their lengths.
        what: String,
    },
    /// A 48-byte string is not a point of G1's prime-order subgroup.
    #[error("{what} is not a valid compressed G1 point")]
    InvalidPoint {
        /// Which input.
        what: &'static str,
    },
    /// A cell index is outside the square or row.
    #[error("cell index {index} out of range (max {max})")]
    CellIndexOutOfRange {
        /// The index received.
        index: u64,
        /// The bound.
        max: u64,
    },
    /// Cell indices that must be strictly ascending are not.
    #[error("cell index {index} at position {at} does not follow {previous} in ascending order")]
    UnsortedCellIndices {
        /// Position of the offending index.
        at: usize,
        /// The index there.
        index: u64,
        /// The index before it.
        previous: u64,
    },
    /// Well-formed inputs whose proof does not verify.
    #[error("proof does not verify: {0}")]
    InvalidProof(String),
    /// A proof's contents contradict what it claims (wrong cells, missing index, bad blob id).
    #[error("malformed proof: {0}")]
    MalformedProof(String),
    /// The backend rejected the input (non-canonical field element, bad point, too few cells...).
    #[error("{backend} rejected the input: {message}")]
    Backend {
        /// Which backend.
        backend: &'static str,
        /// Its message.
        message: String,
    },
    /// An erasure-coding failure.
    #[error(transparent)]
    Erasure(#[from] da_erasure::ErasureError),
    /// A domain-type failure (bad square size, malformed index...).
    #[error(transparent)]
    Types(#[from] da_types::Error),
}

impl KzgError {
    /// Whether the input was at fault (malformed or failing data, so a peer that sent it is to be
    /// penalised), as opposed to a local failure of the decoder.
    pub fn is_proof_invalid(&self) -> bool {
        !matches!(self, Self::Erasure(da_erasure::ErasureError::Decoder(_)))
    }
}

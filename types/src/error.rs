//! Errors of the domain types.

use crate::consts::K_MAX;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can be wrong with a namespace, a blob, a layout or a sampling parameter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A namespace must be exactly 29 bytes.
    #[error("namespace must be {expected} bytes, got {got}")]
    NamespaceLength {
        /// Bytes received.
        got: usize,
        /// Bytes required.
        expected: usize,
    },
    /// Only namespace version 0 may carry blobs.
    #[error("namespace version {version} is not supported for blobs (only version 0)")]
    NamespaceVersion {
        /// Version byte received.
        version: u8,
    },
    /// Version-0 namespaces must start their id with 18 zero bytes.
    #[error("version-0 namespace id must start with 18 zero bytes")]
    NamespacePrefix,
    /// The namespace is reserved by the protocol.
    #[error("namespace 0x{0} is reserved")]
    NamespaceReserved(String),
    /// A blob must carry at least one byte.
    #[error("blob data is empty")]
    EmptyBlob,
    /// The blobs need more rows than a square may have.
    #[error("blobs need {needed_cells} original cells ({needed_rows} rows) but a square holds at most {K_MAX} rows ({max_cells} cells)")]
    SquareTooLarge {
        /// Original cells the blobs and index need.
        needed_cells: usize,
        /// Rows that would be needed.
        needed_rows: usize,
        /// Original cells in a `K_MAX` square.
        max_cells: usize,
    },
    /// `k` must be a power of two in `1..=K_MAX`.
    #[error("invalid square size k={k}: must be a power of two in 1..={K_MAX}")]
    InvalidSquareSize {
        /// The rejected value.
        k: usize,
    },
    /// The bytes of an index are malformed.
    #[error("malformed square index: {0}")]
    MalformedIndex(String),
    /// A cell index lies outside the square.
    #[error("cell ({row}, {col}) is outside a square with {rows} rows and {cols} columns")]
    CellOutOfRange {
        /// Row of the cell.
        row: usize,
        /// Column of the cell.
        col: usize,
        /// Rows in the square.
        rows: usize,
        /// Columns in the square.
        cols: usize,
    },
    /// A confidence target must lie in `[0, 1)`.
    #[error("confidence target {0} must be in [0, 1)")]
    InvalidConfidence(f64),
}

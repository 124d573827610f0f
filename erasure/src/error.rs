//! Errors of the erasure layer.

/// Result with [`ErasureError`].
pub type Result<T, E = ErasureError> = std::result::Result<T, E>;

/// What can go wrong while encoding or decoding.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ErasureError {
    /// `k` must be a power of two in `1..=K_MAX`.
    #[error(transparent)]
    InvalidSquare(#[from] da_types::Error),
    /// A buffer has the wrong length.
    #[error("{what} has {got} elements, expected {expected}")]
    WrongLength {
        /// What was measured.
        what: &'static str,
        /// Elements received.
        got: usize,
        /// Elements required.
        expected: usize,
    },
    /// A 32-byte string is not a canonical field element (`>= r`).
    #[error("field element {index} is not canonical (>= the BLS12-381 scalar modulus)")]
    NonCanonical {
        /// Position of the element in its buffer.
        index: usize,
    },
    /// A line has too few known cells to decode.
    #[error("{line} has {known} known cells, needs {needed}")]
    NotEnoughCells {
        /// Which row or column.
        line: String,
        /// Cells known.
        known: usize,
        /// Cells needed.
        needed: usize,
    },
    /// Iterative 2D decoding got stuck: every listed row misses more than 64 cells and every listed
    /// column more than `k`.
    #[error("square is unrecoverable: {missing} cells missing; stuck rows {stuck_rows:?}, stuck columns {stuck_cols:?}")]
    Unrecoverable {
        /// Cells still missing.
        missing: usize,
        /// Rows that cannot be decoded.
        stuck_rows: Vec<usize>,
        /// Columns that cannot be decoded.
        stuck_cols: Vec<usize>,
    },
    /// A cell of an input column is malformed (wrong length or a non-canonical element).
    #[error("cell of original row {row}: {source}")]
    Cell {
        /// The original row the cell belongs to.
        row: usize,
        /// What is wrong with it.
        source: Box<Self>,
    },
    /// The underlying Reed-Solomon decoder failed.
    #[error("row decoder: {0}")]
    Decoder(String),
}

//! Protocol constants (`specs/01-data-model.md`). Row and cell sizes are EIP-4844/EIP-7594's.

/// Bytes of one serialized BLS12-381 scalar (big-endian).
pub const BYTES_PER_FIELD_ELEMENT: usize = 32;
/// Payload bytes packed into one field element (its top byte stays zero, so it is always `< r`).
pub const PAYLOAD_BYTES_PER_FIELD_ELEMENT: usize = 31;
/// Field elements in one original row (an EIP-4844 blob).
pub const FIELD_ELEMENTS_PER_ROW: usize = 4096;
/// Field elements in one cell.
pub const FIELD_ELEMENTS_PER_CELL: usize = 64;
/// Cells in one extended row (EIP-7594 `CELLS_PER_EXT_BLOB`).
pub const CELLS_PER_ROW: usize = 128;
/// Cells of one row that carry original data (the systematic half).
pub const ORIGINAL_CELLS_PER_ROW: usize = CELLS_PER_ROW / 2;
/// Field elements in one extended row.
pub const FIELD_ELEMENTS_PER_EXT_ROW: usize = FIELD_ELEMENTS_PER_CELL * CELLS_PER_ROW;
/// Bytes of one serialized cell.
pub const BYTES_PER_CELL: usize = FIELD_ELEMENTS_PER_CELL * BYTES_PER_FIELD_ELEMENT;
/// Payload bytes carried by one original cell.
pub const PAYLOAD_BYTES_PER_CELL: usize = FIELD_ELEMENTS_PER_CELL * PAYLOAD_BYTES_PER_FIELD_ELEMENT;
/// Bytes of one serialized original row (an EIP-4844 blob).
pub const BYTES_PER_ROW: usize = FIELD_ELEMENTS_PER_ROW * BYTES_PER_FIELD_ELEMENT;
/// Payload bytes carried by one original row.
pub const PAYLOAD_BYTES_PER_ROW: usize = PAYLOAD_BYTES_PER_CELL * ORIGINAL_CELLS_PER_ROW;
/// Bytes of a compressed G1 point (commitment or proof).
pub const BYTES_PER_G1: usize = 48;
/// Largest number of original rows `k` in a square.
pub const K_MAX: usize = 256;

//! The original square: how blobs and the index are packed into cells and rows
//! (`specs/01-data-model.md` §Layout, byte for byte).
//!
//! # Flow
//! 1. Blobs are sorted by namespace (stable: arrival order breaks ties).
//! 2. The index `u32_be(count) ‖ entry*` starts at original cell 0.
//! 3. Each blob starts on the next free cell boundary and runs over consecutive cells.
//! 4. Original cell `n` is cell `n % 64` of row `n / 64`; each cell packs 1984 payload bytes as 64
//!    field elements `0x00 ‖ 31 bytes`; unused space is zero.
//! 5. `k` is the smallest power of two whose `k` rows hold every cell.

use std::ops::Range;

use crate::{
    blob::{Blob, BlobId},
    consts::*,
    error::{Error, Result},
    namespace::{Namespace, NAMESPACE_SIZE},
};

/// Bytes of one encoded [`IndexEntry`].
pub const INDEX_ENTRY_SIZE: usize = NAMESPACE_SIZE + 32 + 4 + 4;
/// Bytes of the index header (the entry count).
pub const INDEX_HEADER_SIZE: usize = 4;

/// A cell of the extended `2k × 128` square.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellIndex {
    /// Row, `0..2k`.
    pub row: u32,
    /// Column, `0..128`.
    pub col: u32,
}

impl CellIndex {
    /// Builds a cell index checked against a square of `k` original rows.
    pub fn new(row: usize, col: usize, k: usize) -> Result<Self> {
        if row >= 2 * k || col >= CELLS_PER_ROW {
            return Err(Error::CellOutOfRange {
                row,
                col,
                rows: 2 * k,
                cols: CELLS_PER_ROW,
            });
        }
        Ok(Self {
            row: row as u32,
            col: col as u32,
        })
    }

    /// The position of original cell number `n` (row-major over the 64 systematic columns).
    pub fn of_original(n: usize) -> Self {
        Self {
            row: (n / ORIGINAL_CELLS_PER_ROW) as u32,
            col: (n % ORIGINAL_CELLS_PER_ROW) as u32,
        }
    }
}

/// One index record: which blob lives where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    /// The blob's namespace.
    pub namespace: Namespace,
    /// The blob's id.
    pub blob_id: BlobId,
    /// Original cell number where the blob starts.
    pub first_cell: u32,
    /// Length of the blob in bytes.
    pub len: u32,
}

impl IndexEntry {
    /// The original cells the blob occupies.
    pub fn cells(&self) -> Range<usize> {
        let first = self.first_cell as usize;
        first..first + cells_for_bytes(self.len as usize)
    }

    /// Encodes the entry (`namespace ‖ blob_id ‖ u32_be(first_cell) ‖ u32_be(len)`).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.namespace.as_bytes());
        out.extend_from_slice(&self.blob_id.0);
        out.extend_from_slice(&self.first_cell.to_be_bytes());
        out.extend_from_slice(&self.len.to_be_bytes());
    }

    /// Decodes one entry from exactly [`INDEX_ENTRY_SIZE`] bytes.
    pub fn decode(b: &[u8]) -> Result<Self> {
        if b.len() != INDEX_ENTRY_SIZE {
            return Err(Error::MalformedIndex(format!(
                "entry is {} bytes, expected {INDEX_ENTRY_SIZE}",
                b.len()
            )));
        }
        let namespace = Namespace::from_raw(&b[..NAMESPACE_SIZE])?;
        let mut id = [0u8; 32];
        id.copy_from_slice(&b[NAMESPACE_SIZE..NAMESPACE_SIZE + 32]);
        let first_cell = u32::from_be_bytes(word(&b[NAMESPACE_SIZE + 32..]));
        let len = u32::from_be_bytes(word(&b[NAMESPACE_SIZE + 36..]));
        Ok(Self {
            namespace,
            blob_id: BlobId(id),
            first_cell,
            len,
        })
    }
}

fn word(b: &[u8]) -> [u8; 4] {
    [b[0], b[1], b[2], b[3]]
}

/// Original cells needed for `len` payload bytes.
pub fn cells_for_bytes(len: usize) -> usize {
    len.div_ceil(PAYLOAD_BYTES_PER_CELL)
}

/// Original cells the index of `count` blobs occupies (at least one).
pub fn index_cells(count: usize) -> usize {
    cells_for_bytes(INDEX_HEADER_SIZE + count * INDEX_ENTRY_SIZE).max(1)
}

/// Byte range of entry `i` within the index bytes.
pub fn entry_byte_range(i: usize) -> Range<usize> {
    let start = INDEX_HEADER_SIZE + i * INDEX_ENTRY_SIZE;
    start..start + INDEX_ENTRY_SIZE
}

/// Original cells holding the index bytes in `bytes` (a range within the index).
pub fn cells_for_byte_range(bytes: Range<usize>) -> Range<usize> {
    if bytes.is_empty() {
        return 0..0;
    }
    bytes.start / PAYLOAD_BYTES_PER_CELL..(bytes.end - 1) / PAYLOAD_BYTES_PER_CELL + 1
}

/// Checks `k` is a power of two in `1..=K_MAX`.
pub fn check_k(k: usize) -> Result<()> {
    if k == 0 || !k.is_power_of_two() || k > K_MAX {
        return Err(Error::InvalidSquareSize { k });
    }
    Ok(())
}

/// Packs 1984 payload bytes (or fewer, zero-padded) into a 2048-byte cell.
pub fn pack_cell(payload: &[u8], cell: &mut [u8]) {
    debug_assert!(payload.len() <= PAYLOAD_BYTES_PER_CELL && cell.len() == BYTES_PER_CELL);
    cell.fill(0);
    for (e, chunk) in payload.chunks(PAYLOAD_BYTES_PER_FIELD_ELEMENT).enumerate() {
        let at = e * BYTES_PER_FIELD_ELEMENT + 1;
        cell[at..at + chunk.len()].copy_from_slice(chunk);
    }
}

/// Unpacks the 1984 payload bytes of an original cell; errors if a field element's top byte is
/// not zero (no honest producer writes one).
pub fn unpack_cell(cell: &[u8], out: &mut Vec<u8>) -> Result<()> {
    if cell.len() != BYTES_PER_CELL {
        return Err(Error::MalformedIndex(format!(
            "cell is {} bytes, expected {BYTES_PER_CELL}",
            cell.len()
        )));
    }
    for fe in cell.chunks(BYTES_PER_FIELD_ELEMENT) {
        if fe[0] != 0 {
            return Err(Error::MalformedIndex(
                "field element with non-zero top byte in an original cell".into(),
            ));
        }
        out.extend_from_slice(&fe[1..]);
    }
    Ok(())
}

/// Parses the index from its leading payload bytes, checking order and placement against a
/// square of `k` rows. `bytes` may be longer than the index (trailing padding is ignored).
pub fn decode_index(bytes: &[u8], k: usize) -> Result<Vec<IndexEntry>> {
    let count = decode_index_count(bytes)?;
    let need = INDEX_HEADER_SIZE + count * INDEX_ENTRY_SIZE;
    if bytes.len() < need {
        return Err(Error::MalformedIndex(format!(
            "index of {count} entries needs {need} bytes, got {}",
            bytes.len()
        )));
    }
    let entries = (0..count)
        .map(|i| IndexEntry::decode(&bytes[entry_byte_range(i)]))
        .collect::<Result<Vec<_>>>()?;
    check_entries(&entries, k)?;
    Ok(entries)
}

/// Reads the entry count (first 4 bytes of the index) and bounds it by what a square can hold.
pub fn decode_index_count(bytes: &[u8]) -> Result<usize> {
    if bytes.len() < INDEX_HEADER_SIZE {
        return Err(Error::MalformedIndex(
            "index shorter than its header".into(),
        ));
    }
    let count = u32::from_be_bytes(word(bytes)) as usize;
    let max = K_MAX * ORIGINAL_CELLS_PER_ROW;
    if count > max {
        return Err(Error::MalformedIndex(format!(
            "index claims {count} blobs, a square holds at most {max}"
        )));
    }
    Ok(count)
}

/// Checks that entries are sorted by namespace, use blob namespaces, do not overlap the index or
/// each other, and fit in `k` rows.
pub fn check_entries(entries: &[IndexEntry], k: usize) -> Result<()> {
    check_k(k)?;
    let total = k * ORIGINAL_CELLS_PER_ROW;
    let mut next_free = index_cells(entries.len());
    let mut prev: Option<&Namespace> = None;
    for (i, e) in entries.iter().enumerate() {
        e.namespace
            .validate_for_blob()
            .map_err(|err| Error::MalformedIndex(format!("entry {i}: {err}")))?;
        if prev.is_some_and(|p| *p > e.namespace) {
            return Err(Error::MalformedIndex(format!(
                "entry {i} is out of namespace order"
            )));
        }
        if e.len == 0 {
            return Err(Error::MalformedIndex(format!("entry {i} has length 0")));
        }
        let cells = e.cells();
        if cells.start < next_free || cells.end > total {
            return Err(Error::MalformedIndex(format!(
                "entry {i} occupies cells {cells:?}, allowed {next_free}..{total}"
            )));
        }
        next_free = cells.end;
        prev = Some(&e.namespace);
    }
    Ok(())
}

/// The square layout rules; see the module docs.
#[derive(Debug, Default, Clone, Copy)]
pub struct SquareLayout;

impl SquareLayout {
    /// Lays out `blobs` into the smallest square that holds them.
    pub fn build(blobs: &[Blob]) -> Result<OriginalSquare> {
        let mut order: Vec<&Blob> = blobs.iter().collect();
        order.sort_by(|a, b| a.namespace().cmp(b.namespace()));

        let mut next = index_cells(order.len());
        let mut index = Vec::with_capacity(order.len());
        for b in &order {
            let len = u32::try_from(b.data().len()).map_err(|_| Error::SquareTooLarge {
                needed_cells: cells_for_bytes(b.data().len()),
                needed_rows: cells_for_bytes(b.data().len()).div_ceil(ORIGINAL_CELLS_PER_ROW),
                max_cells: K_MAX * ORIGINAL_CELLS_PER_ROW,
            })?;
            index.push(IndexEntry {
                namespace: *b.namespace(),
                blob_id: b.id(),
                first_cell: next as u32,
                len,
            });
            next += cells_for_bytes(b.data().len());
        }
        let rows = next.div_ceil(ORIGINAL_CELLS_PER_ROW).max(1);
        let k = rows.next_power_of_two();
        if k > K_MAX {
            return Err(Error::SquareTooLarge {
                needed_cells: next,
                needed_rows: rows,
                max_cells: K_MAX * ORIGINAL_CELLS_PER_ROW,
            });
        }

        let mut sq = OriginalSquare {
            k,
            data: vec![0u8; k * BYTES_PER_ROW],
            index,
        };
        let mut index_bytes =
            Vec::with_capacity(INDEX_HEADER_SIZE + order.len() * INDEX_ENTRY_SIZE);
        index_bytes.extend_from_slice(&(order.len() as u32).to_be_bytes());
        for e in &sq.index {
            e.encode(&mut index_bytes);
        }
        sq.write_payload(0, &index_bytes);
        for (b, e) in order.iter().zip(sq.index.clone()) {
            sq.write_payload(e.first_cell as usize, b.data());
        }
        Ok(sq)
    }
}

/// The `k` original rows of a square, serialized as EIP-4844 blobs, with its index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginalSquare {
    k: usize,
    data: Vec<u8>,
    index: Vec<IndexEntry>,
}

impl OriginalSquare {
    /// Number of original rows.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Original row `r` as a 131072-byte blob.
    pub fn row(&self, r: usize) -> &[u8] {
        &self.data[r * BYTES_PER_ROW..(r + 1) * BYTES_PER_ROW]
    }

    /// All rows, concatenated.
    pub fn rows(&self) -> &[u8] {
        &self.data
    }

    /// The index entries, in square order.
    pub fn index(&self) -> &[IndexEntry] {
        &self.index
    }

    /// Original cell number `n` (2048 bytes).
    pub fn cell(&self, n: usize) -> &[u8] {
        let at = Self::cell_offset(n);
        &self.data[at..at + BYTES_PER_CELL]
    }

    fn cell_offset(n: usize) -> usize {
        let p = CellIndex::of_original(n);
        p.row as usize * BYTES_PER_ROW + p.col as usize * BYTES_PER_CELL
    }

    fn write_payload(&mut self, first_cell: usize, bytes: &[u8]) {
        for (i, chunk) in bytes.chunks(PAYLOAD_BYTES_PER_CELL).enumerate() {
            let at = Self::cell_offset(first_cell + i);
            pack_cell(chunk, &mut self.data[at..at + BYTES_PER_CELL]);
        }
    }

    /// Reads back a blob's bytes from its entry.
    pub fn blob_data(&self, e: &IndexEntry) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(e.cells().len() * PAYLOAD_BYTES_PER_CELL);
        for n in e.cells() {
            unpack_cell(self.cell(n), &mut out)?;
        }
        out.truncate(e.len as usize);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(b: u8) -> Namespace {
        Namespace::new_v0(&[1, b]).expect("ns")
    }

    #[test]
    fn empty_square_has_one_row_and_an_index() {
        let sq = SquareLayout::build(&[]).expect("build");
        assert_eq!(sq.k(), 1);
        let mut payload = Vec::new();
        unpack_cell(sq.cell(0), &mut payload).expect("unpack");
        assert_eq!(decode_index(&payload, 1).expect("index"), vec![]);
    }

    #[test]
    fn blobs_sorted_on_cell_boundaries_and_round_trip() {
        let blobs = vec![
            Blob::new(ns(9), vec![7; 5000]).expect("blob"),
            Blob::new(ns(2), vec![1; 1]).expect("blob"),
            Blob::new(ns(2), vec![3; 1984]).expect("blob"),
        ];
        let sq = SquareLayout::build(&blobs).expect("build");
        let idx = sq.index();
        assert_eq!(idx.len(), 3);
        assert_eq!(idx[0].blob_id, blobs[1].id());
        assert_eq!(idx[1].blob_id, blobs[2].id());
        assert_eq!(idx[2].blob_id, blobs[0].id());
        assert_eq!(idx[0].first_cell, 1);
        assert_eq!(idx[1].first_cell, 2);
        assert_eq!(idx[2].first_cell, 3);
        assert_eq!(idx[2].cells(), 3..6);
        for (e, b) in idx.iter().zip([&blobs[1], &blobs[2], &blobs[0]]) {
            assert_eq!(sq.blob_data(e).expect("data"), b.data());
        }
        let mut payload = Vec::new();
        unpack_cell(sq.cell(0), &mut payload).expect("unpack");
        assert_eq!(decode_index(&payload, sq.k()).expect("index"), idx);
        // Every field element's top byte is zero, so each row is a valid EIP-4844 blob.
        assert!(sq.rows().chunks(32).all(|fe| fe[0] == 0));
    }

    #[test]
    fn k_is_smallest_power_of_two_and_overflow_is_an_error() {
        let one_row = Blob::new(ns(1), vec![1; 63 * PAYLOAD_BYTES_PER_CELL]).expect("blob");
        assert_eq!(SquareLayout::build(&[one_row]).expect("build").k(), 1);
        let two_rows = Blob::new(ns(1), vec![1; 64 * PAYLOAD_BYTES_PER_CELL]).expect("blob");
        assert_eq!(SquareLayout::build(&[two_rows]).expect("build").k(), 2);
        let three = Blob::new(ns(1), vec![1; 130 * PAYLOAD_BYTES_PER_CELL]).expect("blob");
        assert_eq!(SquareLayout::build(&[three]).expect("build").k(), 4);
        let max = K_MAX * ORIGINAL_CELLS_PER_ROW;
        let too_big = Blob::new(ns(1), vec![1; max * PAYLOAD_BYTES_PER_CELL]).expect("blob");
        assert!(matches!(
            SquareLayout::build(&[too_big]),
            Err(Error::SquareTooLarge { needed_cells, .. }) if needed_cells == max + 1
        ));
    }

    #[test]
    fn malformed_indexes_are_rejected() {
        let blobs = vec![
            Blob::new(ns(1), vec![1; 10]).expect("blob"),
            Blob::new(ns(2), vec![2; 10]).expect("blob"),
        ];
        let sq = SquareLayout::build(&blobs).expect("build");
        let good = sq.index().to_vec();
        let mut swapped = good.clone();
        swapped.swap(0, 1);
        swapped[0].first_cell = 1;
        swapped[1].first_cell = 2;
        assert!(check_entries(&swapped, 1).is_err());
        let mut overlap = good.clone();
        overlap[1].first_cell = 1;
        assert!(check_entries(&overlap, 1).is_err());
        let mut outside = good.clone();
        outside[1].first_cell = 64;
        assert!(check_entries(&outside, 1).is_err());
        let mut on_index = good;
        on_index[0].first_cell = 0;
        assert!(check_entries(&on_index, 1).is_err());
        assert!(decode_index(&u32::MAX.to_be_bytes(), 1).is_err());
        assert!(decode_index(&[0, 0, 0, 5, 1, 2], 1).is_err());
        assert!(decode_index(&[0, 0], 1).is_err());
    }

    #[test]
    fn entry_cells_cover_straddling_entries() {
        // Entry 28 of the index starts at byte 4 + 28*69 = 1936 and ends at 2005: cells 0 and 1.
        assert_eq!(cells_for_byte_range(entry_byte_range(28)), 0..2);
        assert_eq!(cells_for_byte_range(entry_byte_range(0)), 0..1);
        assert_eq!(index_cells(0), 1);
        assert_eq!(index_cells(28), 1);
        assert_eq!(index_cells(29), 2);
    }
}

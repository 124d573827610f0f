//! The bounded mempool: blobs waiting for a block, deduplicated by id, in arrival order.

use std::collections::{HashMap, VecDeque};

use da_types::{
    consts::{K_MAX, ORIGINAL_CELLS_PER_ROW},
    layout::{cells_for_bytes, index_cells},
    Blob, BlobId,
};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// What [`Mempool::insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// The blob is new.
    Added,
    /// The same blob (same id) is already waiting.
    AlreadyPending,
}

/// Why a blob was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    /// The mempool is at its byte or count limit.
    #[error("mempool full: {pending_bytes} bytes in {pending_blobs} blobs pending, limit {max_bytes} bytes / {max_blobs} blobs; retry after the next block")]
    Full {
        /// Bytes pending.
        pending_bytes: usize,
        /// Blobs pending.
        pending_blobs: usize,
        /// Byte limit.
        max_bytes: usize,
        /// Count limit.
        max_blobs: usize,
    },
}

#[derive(Debug, Default)]
struct Inner {
    blobs: HashMap<BlobId, Blob>,
    order: VecDeque<BlobId>,
    bytes: usize,
}

/// Blobs waiting for inclusion.
#[derive(Debug)]
pub struct Mempool {
    inner: Mutex<Inner>,
    max_bytes: usize,
    max_blobs: usize,
    /// Original cells of the largest square this producer cuts.
    square_cells: usize,
}

/// Original cells the largest square (`K_MAX`) can hold.
pub const SQUARE_CELLS: usize = square_cells(K_MAX);

/// Original cells a square of `k` rows can hold.
pub const fn square_cells(k: usize) -> usize {
    k * ORIGINAL_CELLS_PER_ROW
}

impl Mempool {
    /// An empty mempool with the given limits.
    pub fn new(max_bytes: usize, max_blobs: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            max_bytes,
            max_blobs,
            square_cells: SQUARE_CELLS,
        }
    }

    /// Caps the squares [`take_for_block`](Self::take_for_block) fills at `k` rows.
    pub fn with_max_square_k(mut self, k: usize) -> Self {
        self.square_cells = square_cells(k.clamp(1, K_MAX));
        self
    }

    /// Locks the state; a poisoned lock is recovered (the collections stay consistent because
    /// every mutation completes before anything can panic).
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a blob unless it is already pending or the mempool is full.
    pub fn insert(&self, blob: Blob) -> Result<Inserted, MempoolError> {
        let mut g = self.lock();
        if g.blobs.contains_key(&blob.id()) {
            return Ok(Inserted::AlreadyPending);
        }
        if g.bytes + blob.data().len() > self.max_bytes || g.blobs.len() >= self.max_blobs {
            return Err(MempoolError::Full {
                pending_bytes: g.bytes,
                pending_blobs: g.blobs.len(),
                max_bytes: self.max_bytes,
                max_blobs: self.max_blobs,
            });
        }
        g.bytes += blob.data().len();
        g.order.push_back(blob.id());
        g.blobs.insert(blob.id(), blob);
        Ok(Inserted::Added)
    }

    /// Takes blobs in arrival order while they fit in one square; a blob that does not fit
    /// waits for the next block (blobs behind it may still be taken).
    pub fn take_for_block(&self) -> Vec<Blob> {
        let mut g = self.lock();
        let mut taken = Vec::new();
        let mut data_cells = 0;
        let mut keep = VecDeque::new();
        while let Some(id) = g.order.pop_front() {
            let Some(len) = g.blobs.get(&id).map(|b| b.data().len()) else {
                continue;
            };
            let cells = cells_for_bytes(len);
            if index_cells(taken.len() + 1) + data_cells + cells <= self.square_cells {
                data_cells += cells;
                if let Some(b) = g.blobs.remove(&id) {
                    g.bytes -= len;
                    taken.push(b);
                }
            } else {
                keep.push_back(id);
            }
        }
        g.order = keep;
        taken
    }

    /// Drops pending blobs that a decided block included.
    pub fn remove(&self, ids: &[BlobId]) {
        let mut g = self.lock();
        for id in ids {
            if let Some(b) = g.blobs.remove(id) {
                g.bytes -= b.data().len();
            }
        }
        let Inner { order, blobs, .. } = &mut *g;
        order.retain(|id| blobs.contains_key(id));
    }

    /// Puts blobs back at the front (a block failed to be stored).
    pub fn restore(&self, blobs: Vec<Blob>) {
        let mut g = self.lock();
        for b in blobs.into_iter().rev() {
            if !g.blobs.contains_key(&b.id()) {
                g.bytes += b.data().len();
                g.order.push_front(b.id());
                g.blobs.insert(b.id(), b);
            }
        }
    }

    /// Whether pending blobs would fill a whole square.
    pub fn fills_square(&self) -> bool {
        let g = self.lock();
        let cells: usize = g
            .blobs
            .values()
            .map(|b| cells_for_bytes(b.data().len()))
            .sum();
        cells + index_cells(g.blobs.len()) >= self.square_cells
    }

    /// Number of pending blobs.
    pub fn len(&self) -> usize {
        self.lock().blobs.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pending bytes.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use da_types::Namespace;

    use super::*;

    fn blob(i: u8, len: usize) -> Blob {
        Blob::new(Namespace::new_v0(&[1, i]).expect("ns"), vec![i; len]).expect("blob")
    }

    #[test]
    fn dedupes_bounds_and_takes_what_fits() {
        let m = Mempool::new(1000, 3);
        assert_eq!(m.insert(blob(1, 400)), Ok(Inserted::Added));
        assert_eq!(m.insert(blob(1, 400)), Ok(Inserted::AlreadyPending));
        assert_eq!(m.insert(blob(2, 500)), Ok(Inserted::Added));
        assert!(matches!(
            m.insert(blob(3, 200)),
            Err(MempoolError::Full { .. })
        ));
        assert_eq!(m.insert(blob(4, 100)), Ok(Inserted::Added));
        assert_eq!(m.bytes(), 1000);
        let taken = m.take_for_block();
        assert_eq!(taken.len(), 3);
        assert!(m.is_empty());
        m.restore(taken);
        assert_eq!(m.len(), 3);
        assert_eq!(m.take_for_block()[0].id(), blob(1, 400).id());
    }

    #[test]
    fn a_square_never_overflows() {
        let big = 100 * 1984 * 64; // 100 rows
        let m = Mempool::new(usize::MAX, 100);
        for i in 0..4u8 {
            m.insert(blob(i + 1, big)).expect("insert");
        }
        assert!(m.fills_square());
        let taken = m.take_for_block();
        assert_eq!(taken.len(), 2);
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn a_capped_square_takes_only_what_fits_in_k_rows() {
        let rows = 1984 * 64; // one row of payload
        let m = Mempool::new(usize::MAX, 100).with_max_square_k(64);
        for i in 0..3u8 {
            m.insert(blob(i + 1, 30 * rows)).expect("insert");
        }
        assert!(m.fills_square());
        // Two 30-row blobs fit in 64 rows with their index; the third waits.
        let taken = m.take_for_block();
        assert_eq!(taken.len(), 2);
        assert!(!m.fills_square());
        let layout = da_types::SquareLayout::build(&taken).expect("layout");
        assert_eq!(layout.k(), 64);
    }
}

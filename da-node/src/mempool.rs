//! The bounded mempool: blobs waiting for a block, deduplicated by id, fair between
//! namespaces.
//!
//! - **Bounded**: a byte and a count limit for the whole pool, and a byte share per namespace,
//!   so one rollup cannot fill the pool and lock the others out (`specs/05-header.md`, the
//!   producer's cut).
//! - **Fair**: a block takes blobs in order of how much of its namespace's share they use:
//!   each namespace's blobs in arrival order, and between namespaces the blob whose namespace
//!   has had the fewest cells so far in this block first (fair queuing by cells). A namespace
//!   alone may fill the whole block; two busy namespaces get about half each.

use std::collections::{HashMap, VecDeque};

use da_types::{
    consts::{K_MAX, ORIGINAL_CELLS_PER_ROW},
    layout::{cells_for_bytes, index_cells},
    Blob, BlobId, Namespace,
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
    /// The blob's namespace is at its share of the pool.
    #[error("mempool share of namespace {namespace} full: {pending_bytes} bytes pending, limit {max_bytes} bytes per namespace; retry after the next block")]
    NamespaceFull {
        /// The namespace.
        namespace: Namespace,
        /// Its bytes pending.
        pending_bytes: usize,
        /// The per-namespace limit.
        max_bytes: usize,
    },
}

#[derive(Debug, Default)]
struct Inner {
    blobs: HashMap<BlobId, Blob>,
    order: VecDeque<BlobId>,
    bytes: usize,
    /// Bytes pending per namespace (namespaces with none are absent).
    ns_bytes: HashMap<Namespace, usize>,
}

impl Inner {
    fn add(&mut self, b: Blob, front: bool) {
        let len = b.data().len();
        self.bytes += len;
        *self.ns_bytes.entry(*b.namespace()).or_default() += len;
        if front {
            self.order.push_front(b.id());
        } else {
            self.order.push_back(b.id());
        }
        self.blobs.insert(b.id(), b);
    }

    /// Takes `id` out of the map and the byte counts (not out of `order`).
    fn take(&mut self, id: &BlobId) -> Option<Blob> {
        let b = self.blobs.remove(id)?;
        let len = b.data().len();
        self.bytes -= len;
        if let Some(n) = self.ns_bytes.get_mut(b.namespace()) {
            *n -= len;
            if *n == 0 {
                self.ns_bytes.remove(b.namespace());
            }
        }
        Some(b)
    }
}

/// Blobs waiting for inclusion.
#[derive(Debug)]
pub struct Mempool {
    inner: Mutex<Inner>,
    max_bytes: usize,
    max_blobs: usize,
    /// Bytes one namespace may have pending.
    max_namespace_bytes: usize,
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
    /// An empty mempool with the given limits (a namespace may use all of it until
    /// [`with_namespace_share`](Self::with_namespace_share)).
    pub fn new(max_bytes: usize, max_blobs: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            max_bytes,
            max_blobs,
            max_namespace_bytes: max_bytes,
            square_cells: SQUARE_CELLS,
        }
    }

    /// Caps the bytes one namespace may have pending.
    pub fn with_namespace_share(mut self, max_bytes: usize) -> Self {
        self.max_namespace_bytes = max_bytes;
        self
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

    /// Adds a blob unless it is already pending, the mempool is full or its namespace is at
    /// its share.
    pub fn insert(&self, blob: Blob) -> Result<Inserted, MempoolError> {
        let mut g = self.lock();
        if g.blobs.contains_key(&blob.id()) {
            return Ok(Inserted::AlreadyPending);
        }
        let len = blob.data().len();
        if g.bytes + len > self.max_bytes || g.blobs.len() >= self.max_blobs {
            return Err(MempoolError::Full {
                pending_bytes: g.bytes,
                pending_blobs: g.blobs.len(),
                max_bytes: self.max_bytes,
                max_blobs: self.max_blobs,
            });
        }
        let ns = g.ns_bytes.get(blob.namespace()).copied().unwrap_or(0);
        if ns + len > self.max_namespace_bytes {
            return Err(MempoolError::NamespaceFull {
                namespace: *blob.namespace(),
                pending_bytes: ns,
                max_bytes: self.max_namespace_bytes,
            });
        }
        g.add(blob, false);
        Ok(Inserted::Added)
    }

    /// Takes blobs while they fit in one square, fairly between namespaces (module docs): each
    /// namespace's blobs in arrival order, the namespace with the fewest cells taken so far
    /// first. A blob that does not fit waits for the next block (others may still be taken).
    pub fn take_for_block(&self) -> Vec<Blob> {
        let mut g = self.lock();
        // Fair queuing by cells: a blob's key is its namespace's cells up to and including it
        // (arrival order within the namespace); ties go to the earlier arrival.
        let mut used: HashMap<Namespace, usize> = HashMap::new();
        let mut keyed: Vec<(usize, usize, BlobId, usize)> = Vec::with_capacity(g.order.len());
        for (arrival, id) in g.order.iter().enumerate() {
            let Some(b) = g.blobs.get(id) else {
                continue;
            };
            let cells = cells_for_bytes(b.data().len());
            let u = used.entry(*b.namespace()).or_default();
            *u += cells;
            keyed.push((*u, arrival, *id, cells));
        }
        keyed.sort_unstable_by_key(|&(key, arrival, _, _)| (key, arrival));
        let mut taken = Vec::new();
        let mut data_cells = 0;
        for (_, _, id, cells) in keyed {
            if index_cells(taken.len() + 1) + data_cells + cells <= self.square_cells {
                if let Some(b) = g.take(&id) {
                    data_cells += cells;
                    taken.push(b);
                }
            }
        }
        let Inner { order, blobs, .. } = &mut *g;
        order.retain(|id| blobs.contains_key(id));
        taken
    }

    /// Drops pending blobs that a decided block included.
    pub fn remove(&self, ids: &[BlobId]) {
        let mut g = self.lock();
        for id in ids {
            g.take(id);
        }
        let Inner { order, blobs, .. } = &mut *g;
        order.retain(|id| blobs.contains_key(id));
    }

    /// Puts blobs back at the front (a block failed to be stored).
    pub fn restore(&self, blobs: Vec<Blob>) {
        let mut g = self.lock();
        for b in blobs.into_iter().rev() {
            if !g.blobs.contains_key(&b.id()) {
                g.add(b, true);
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

    /// Whether `id` is pending (not counting blobs taken for a block that is not decided yet).
    pub fn contains(&self, id: &BlobId) -> bool {
        self.lock().blobs.contains_key(id)
    }

    /// Copies of the pending blobs among `ids`, in the order asked, skipping the others.
    pub fn get(&self, ids: &[BlobId]) -> Vec<Blob> {
        let g = self.lock();
        ids.iter()
            .filter_map(|id| g.blobs.get(id).cloned())
            .collect()
    }

    /// The ids and namespaces of the oldest `limit` pending blobs, in arrival order.
    pub fn oldest(&self, limit: usize) -> Vec<(BlobId, Namespace)> {
        let g = self.lock();
        g.order
            .iter()
            .filter_map(|id| g.blobs.get(id).map(|b| (*id, *b.namespace())))
            .take(limit)
            .collect()
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

    #[test]
    fn a_busy_namespace_does_not_crowd_out_a_later_one() {
        let rows = 1984 * 64; // one row of payload
        let m = Mempool::new(usize::MAX, 100).with_max_square_k(64);
        // Namespace 1 queues ten 10-row blobs first; namespace 2 then queues three.
        for i in 0..10u8 {
            let b = Blob::new(
                Namespace::new_v0(&[1, 1]).expect("ns"),
                vec![i; 10 * rows - 100],
            )
            .expect("blob");
            m.insert(b).expect("insert");
        }
        for i in 0..3u8 {
            m.insert(blob(2, 10 * rows - 200 - i as usize))
                .expect("insert");
        }
        // In arrival order six of namespace 1's blobs would fill the square; fairly, the two
        // alternate until namespace 2 runs out.
        let taken = m.take_for_block();
        let of = |tag: u8| {
            taken
                .iter()
                .filter(|b| *b.namespace() == Namespace::new_v0(&[1, tag]).expect("ns"))
                .count()
        };
        assert_eq!((of(1), of(2)), (3, 3), "{} taken", taken.len());
        assert_eq!(da_types::SquareLayout::build(&taken).expect("fits").k(), 64);
        // Namespace 1's blobs left behind keep their arrival order, and alone it fills a square.
        let next = m.take_for_block();
        assert_eq!(next.len(), 6);
        assert!(next.windows(2).all(|w| w[0].data()[0] < w[1].data()[0]));
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn a_namespace_cannot_take_more_than_its_share_of_the_pool() {
        let m = Mempool::new(1000, 10).with_namespace_share(600);
        assert_eq!(m.insert(blob(1, 400)), Ok(Inserted::Added));
        assert!(matches!(
            m.insert(Blob::new(*blob(1, 1).namespace(), vec![9; 300]).expect("blob")),
            Err(MempoolError::NamespaceFull {
                pending_bytes: 400,
                max_bytes: 600,
                ..
            })
        ));
        // Other namespaces still get in, up to the pool's own limit.
        assert_eq!(m.insert(blob(2, 500)), Ok(Inserted::Added));
        assert!(matches!(
            m.insert(blob(3, 200)),
            Err(MempoolError::Full { .. })
        ));
        // Once namespace 1's blob is taken, its share is free again.
        m.remove(&[blob(1, 400).id()]);
        assert_eq!(
            m.insert(Blob::new(*blob(1, 1).namespace(), vec![9; 300]).expect("blob")),
            Ok(Inserted::Added)
        );
        let taken = m.take_for_block();
        m.restore(taken);
        assert_eq!(m.bytes(), 800);
    }
}

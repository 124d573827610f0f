//! Blob inclusion and namespace completeness proofs (`specs/03-kzg.md` §Proofs).
//!
//! A blob's bytes are a run of original cells, each with its own KZG proof, so the cells *are* the
//! inclusion proof. The index (original cells `0..`) says which blob sits where:
//! - a [`BlobProof`] carries the index cells holding the entry count and the blob's entry, plus
//!   the blob's cells;
//! - a [`NamespaceProof`] carries the whole index (so order and placement of every entry are
//!   checked, not just a neighbour's) plus every cell of the namespace's blobs.

use std::collections::{BTreeMap, BTreeSet};

use da_types::{
    consts::{ORIGINAL_CELLS_PER_ROW, PAYLOAD_BYTES_PER_CELL},
    layout::{
        cells_for_byte_range, decode_index, decode_index_count, entry_byte_range, index_cells,
        unpack_cell, INDEX_HEADER_SIZE,
    },
    BlobId, CellIndex, IndexEntry, Namespace,
};

use crate::{
    error::{KzgError, Result},
    square::ExtendedSquare,
    types::{Cell, Commitment, Proof},
    verifier::KzgVerifier,
};

/// A cell of the square with its position and proof, as sent on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenCell {
    /// Position in the extended square.
    pub index: CellIndex,
    /// The cell's bytes.
    pub cell: Cell,
    /// Its KZG proof against the row commitment.
    pub proof: Proof,
}

/// Proof that one blob is in a square.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobProof {
    /// Position of the blob's entry in the index.
    pub entry: u32,
    /// Index cells: cell 0 (entry count) and the cells holding the entry.
    pub index_cells: Vec<ProvenCell>,
    /// The blob's cells, in order.
    pub blob_cells: Vec<ProvenCell>,
}

/// Proof of every blob of a namespace in a square (possibly none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespaceProof {
    /// All cells of the index, in order.
    pub index_cells: Vec<ProvenCell>,
    /// Every cell of the namespace's blobs, in order.
    pub blob_cells: Vec<ProvenCell>,
}

/// A blob as proven: its index entry and bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenBlob {
    /// The entry from the committed index.
    pub entry: IndexEntry,
    /// The blob's bytes (their id matches `entry.blob_id`).
    pub data: Vec<u8>,
}

impl ExtendedSquare {
    fn proven(&self, n: usize) -> Result<ProvenCell> {
        let index = CellIndex::of_original(n);
        let (cell, proof) = self.sample(index)?;
        Ok(ProvenCell { index, cell, proof })
    }

    fn proven_run(&self, cells: impl IntoIterator<Item = usize>) -> Result<Vec<ProvenCell>> {
        cells.into_iter().map(|n| self.proven(n)).collect()
    }

    /// The inclusion proof of the blob with id `blob_id`, if the square holds it.
    pub fn blob_proof(&self, namespace: &Namespace, blob_id: &BlobId) -> Result<Option<BlobProof>> {
        let index = self.committed().index();
        let Some(i) = index
            .iter()
            .position(|e| e.namespace == *namespace && e.blob_id == *blob_id)
        else {
            return Ok(None);
        };
        let mut idx_cells: BTreeSet<usize> = cells_for_byte_range(entry_byte_range(i)).collect();
        idx_cells.insert(0);
        Ok(Some(BlobProof {
            entry: i as u32,
            index_cells: self.proven_run(idx_cells)?,
            blob_cells: self.proven_run(index[i].cells())?,
        }))
    }

    /// The completeness proof of `namespace`.
    pub fn namespace_proof(&self, namespace: &Namespace) -> Result<NamespaceProof> {
        let index = self.committed().index();
        let blob_cells = index
            .iter()
            .filter(|e| e.namespace == *namespace)
            .flat_map(IndexEntry::cells);
        Ok(NamespaceProof {
            index_cells: self.proven_run(0..index_cells(index.len()))?,
            blob_cells: self.proven_run(blob_cells)?,
        })
    }
}

/// Original cell number of a cell position, if it is an original (systematic) cell of row < k.
fn original_number(i: &CellIndex, k: usize) -> Result<usize> {
    let (r, c) = (i.row as usize, i.col as usize);
    if r >= k || c >= ORIGINAL_CELLS_PER_ROW {
        return Err(KzgError::MalformedProof(format!(
            "cell ({r}, {c}) is not an original cell of a square with k={k}"
        )));
    }
    Ok(r * ORIGINAL_CELLS_PER_ROW + c)
}

fn square_k(commitments: &[Commitment]) -> Result<usize> {
    let k = commitments.len() / 2;
    da_types::layout::check_k(k)?;
    if commitments.len() != 2 * k {
        return Err(KzgError::LengthMismatch {
            what: format!("{} commitments is not 2k", commitments.len()),
        });
    }
    Ok(k)
}

/// Verifies every cell in one batch and returns each original cell's payload by cell number.
fn verified_payloads(
    ctx: &KzgVerifier,
    commitments: &[Commitment],
    k: usize,
    cells: &[&ProvenCell],
) -> Result<BTreeMap<usize, Vec<u8>>> {
    let batch = cells
        .iter()
        .map(|c| (c.index, c.cell.clone(), c.proof))
        .collect();
    let verified = ctx.verify_cells(commitments, batch)?;
    let mut out = BTreeMap::new();
    for v in verified {
        let n = original_number(&v.index(), k)?;
        let mut payload = Vec::with_capacity(PAYLOAD_BYTES_PER_CELL);
        unpack_cell(v.cell().as_bytes(), &mut payload)?;
        out.insert(n, payload);
    }
    Ok(out)
}

/// Reads `range` of the index bytes out of proven cell payloads.
fn index_bytes(
    payloads: &BTreeMap<usize, Vec<u8>>,
    range: std::ops::Range<usize>,
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(range.len());
    for n in cells_for_byte_range(range.clone()) {
        let p = payloads.get(&n).ok_or_else(|| {
            KzgError::MalformedProof(format!("index cell {n} is missing from the proof"))
        })?;
        let start = n * PAYLOAD_BYTES_PER_CELL;
        let lo = range.start.max(start) - start;
        let hi = range.end.min(start + PAYLOAD_BYTES_PER_CELL) - start;
        out.extend_from_slice(&p[lo..hi]);
    }
    Ok(out)
}

/// Checks the blob cells are exactly `entry`'s run and returns its bytes, checking the id.
fn blob_from_cells(
    entry: &IndexEntry,
    cells: &[ProvenCell],
    payloads: &BTreeMap<usize, Vec<u8>>,
    k: usize,
) -> Result<Vec<u8>> {
    let expected: Vec<usize> = entry.cells().collect();
    let got = cells
        .iter()
        .map(|c| original_number(&c.index, k))
        .collect::<Result<Vec<_>>>()?;
    if got != expected {
        return Err(KzgError::MalformedProof(format!(
            "blob {} occupies cells {:?}, proof has {} cells starting at {:?}",
            entry.blob_id,
            entry.cells(),
            got.len(),
            got.first()
        )));
    }
    let mut data = Vec::with_capacity(expected.len() * PAYLOAD_BYTES_PER_CELL);
    for n in &expected {
        data.extend_from_slice(&payloads[n]);
    }
    data.truncate(entry.len as usize);
    if BlobId::compute(&entry.namespace, &data) != entry.blob_id {
        return Err(KzgError::MalformedProof(format!(
            "blob bytes do not hash to the indexed id {}",
            entry.blob_id
        )));
    }
    Ok(data)
}

impl BlobProof {
    /// Verifies the proof against a header's `2k` commitments and returns the blob, which has
    /// the given namespace and id.
    pub fn verify(
        &self,
        ctx: &KzgVerifier,
        commitments: &[Commitment],
        namespace: &Namespace,
        blob_id: &BlobId,
    ) -> Result<ProvenBlob> {
        self.verify_inner(ctx, commitments, Some(namespace), blob_id)
    }

    /// Like [`BlobProof::verify`] for a blob known only by id (the id binds its namespace, which
    /// the returned entry names).
    pub fn verify_by_id(
        &self,
        ctx: &KzgVerifier,
        commitments: &[Commitment],
        blob_id: &BlobId,
    ) -> Result<ProvenBlob> {
        self.verify_inner(ctx, commitments, None, blob_id)
    }

    fn verify_inner(
        &self,
        ctx: &KzgVerifier,
        commitments: &[Commitment],
        namespace: Option<&Namespace>,
        blob_id: &BlobId,
    ) -> Result<ProvenBlob> {
        let k = square_k(commitments)?;
        let all: Vec<&ProvenCell> = self.index_cells.iter().chain(&self.blob_cells).collect();
        let payloads = verified_payloads(ctx, commitments, k, &all)?;
        let count = decode_index_count(&index_bytes(&payloads, 0..INDEX_HEADER_SIZE)?)?;
        let i = self.entry as usize;
        if i >= count {
            return Err(KzgError::MalformedProof(format!(
                "entry {i} is past the index's {count} entries"
            )));
        }
        let entry = IndexEntry::decode(&index_bytes(&payloads, entry_byte_range(i))?)?;
        if namespace.is_some_and(|n| entry.namespace != *n) || entry.blob_id != *blob_id {
            return Err(KzgError::MalformedProof(format!(
                "index entry {i} is blob {} in {}, not {blob_id}{}",
                entry.blob_id,
                entry.namespace,
                namespace.map(|n| format!(" in {n}")).unwrap_or_default()
            )));
        }
        if (entry.first_cell as usize) < index_cells(count) {
            return Err(KzgError::MalformedProof("blob overlaps the index".into()));
        }
        let data = blob_from_cells(&entry, &self.blob_cells, &payloads, k)?;
        Ok(ProvenBlob { entry, data })
    }
}

impl NamespaceProof {
    /// Verifies the proof against a header's `2k` commitments and returns every blob of
    /// `namespace` in the square, in square order.
    pub fn verify(
        &self,
        ctx: &KzgVerifier,
        commitments: &[Commitment],
        namespace: &Namespace,
    ) -> Result<Vec<ProvenBlob>> {
        let k = square_k(commitments)?;
        let all: Vec<&ProvenCell> = self.index_cells.iter().chain(&self.blob_cells).collect();
        let payloads = verified_payloads(ctx, commitments, k, &all)?;
        let count = decode_index_count(&index_bytes(&payloads, 0..INDEX_HEADER_SIZE)?)?;
        let n_index = index_cells(count);
        let got: Vec<usize> = self
            .index_cells
            .iter()
            .map(|c| original_number(&c.index, k))
            .collect::<Result<_>>()?;
        if got != (0..n_index).collect::<Vec<_>>() {
            return Err(KzgError::MalformedProof(format!(
                "namespace proof must carry index cells 0..{n_index}, has {} cells",
                got.len()
            )));
        }
        let bytes = index_bytes(&payloads, 0..n_index * PAYLOAD_BYTES_PER_CELL)?;
        let entries = decode_index(&bytes, k)?;
        let mut rest = &self.blob_cells[..];
        let mut out = Vec::new();
        for e in entries.iter().filter(|e| e.namespace == *namespace) {
            let n = e.cells().len();
            if rest.len() < n {
                return Err(KzgError::MalformedProof(format!(
                    "namespace proof is missing cells of blob {}",
                    e.blob_id
                )));
            }
            let (mine, tail) = rest.split_at(n);
            out.push(ProvenBlob {
                entry: *e,
                data: blob_from_cells(e, mine, &payloads, k)?,
            });
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(KzgError::MalformedProof(format!(
                "{} cells in the proof belong to no blob of {namespace}",
                rest.len()
            )));
        }
        Ok(out)
    }
}

//! Proofs of publication for rollups (`specs/12-attestation.md` §Proof of publication): field
//! elements of a square, each opened against its row's KZG commitment (the EIP-4844
//! point-evaluation check) with the commitment proven into the header's `data_root`, and the
//! `data_root` into an attested window's `tuple_root`. [`FieldElementProof`] opens one element
//! (the contract's `verifyFieldElement`); [`BlobElementProof`] ties an element to a blob id by
//! also opening the square's index entry for it (`verifyBlobElement`).
//!
//! Where a blob's bytes lie (`specs/01-data-model.md`): payload byte `q` of a blob starting at
//! original cell `c` is in cell `c + q / 1984`, field element `(q mod 1984) / 31` of that cell,
//! byte `1 + q mod 31` of the element; original cell `n` is cell `n mod 64` of row `n / 64`, i.e.
//! elements `64·(n mod 64) ..` of that row. Row element `i` is the row polynomial's value at
//! `ω^{brp_4096(i)}`, `ω = 7^((r − 1)/4096)`, as in EIP-4844.

use std::collections::BTreeMap;

use da_erasure::field::{reverse_bits, root_of_unity, Fr};
use da_kzg::{Commitment, KzgVerifier, Proof};
use da_types::{
    attestation::{tuple_proof, tuple_root, verify_tuple, DataRootTuple},
    consts::{
        BYTES_PER_FIELD_ELEMENT, FIELD_ELEMENTS_PER_CELL, FIELD_ELEMENTS_PER_ROW, K_MAX,
        ORIGINAL_CELLS_PER_ROW, PAYLOAD_BYTES_PER_CELL, PAYLOAD_BYTES_PER_FIELD_ELEMENT,
    },
    header_v2::{data_root_proof, params_leaf, params_proof},
    layout::{INDEX_ENTRY_SIZE, INDEX_HEADER_SIZE},
    namespace::NAMESPACE_SIZE,
    BlockHeader, MerkleProof,
};
use ekzg_bls12_381::ff::{Field, PrimeField};

/// Why a proof of publication cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum PublicationError {
    /// The height is not in the window whose data roots were given.
    #[error("height {height} is not among the window's heights")]
    NotInWindow {
        /// The height.
        height: u64,
    },
    /// The row or element is outside the square.
    #[error("row {row}, element {position} is outside a square of k = {k}")]
    OutOfSquare {
        /// Row.
        row: u32,
        /// Element in the row.
        position: u32,
        /// The square's `k`.
        k: u16,
    },
    /// A row the proof opens was not given.
    #[error("row {row} is needed but was not given")]
    MissingRow {
        /// The row.
        row: u32,
    },
    /// The square's index does not put the element in the entry's blob.
    #[error("entry {entry} of the square's index holds no element {element}")]
    NotInBlob {
        /// The index entry.
        entry: u32,
        /// The element in the blob.
        element: u32,
    },
    /// The row's bytes are not the row the header commits to.
    #[error("the row's bytes do not open to the header's commitment")]
    WrongRow,
    /// The KZG backend failed.
    #[error("kzg: {0}")]
    Kzg(#[from] da_kzg::KzgError),
}

/// A square's shape as its `data_root` commits to it (the contract's `SquareParams`): the params
/// leaf proven at key 0. Binding `k` fixes the tree's size `2k + 1`; without it an RFC 6962
/// proof does not bind its key (the last row's commitment also verifies as key 1 of a two-leaf
/// tree), and a parity row could pass for row 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SquareParams {
    /// Original rows.
    pub k: u16,
    /// Entries in the square's index.
    pub blob_count: u32,
    /// The params leaf at key 0 of the `2k + 1` leaves.
    pub proof: MerkleProof,
}

impl SquareParams {
    /// The params of `block`'s square and their proof.
    pub fn of(block: &BlockHeader) -> Option<Self> {
        Some(Self {
            k: block.k,
            blob_count: block.blob_count,
            proof: params_proof(block.k, block.blob_count, &block.commitments)?,
        })
    }

    /// Leaves of the `data_root` tree: `2k + 1`.
    pub fn leaves(&self) -> u64 {
        2 * u64::from(self.k) + 1
    }

    /// Whether these are the params of the square whose `data_root` is `data_root`: `k` a power
    /// of two up to 256, the leaf at key 0 of `2k + 1` (a key-0 proof binds its leaf whatever
    /// size it claims: it retraces the tree's left edge).
    pub fn verify(&self, data_root: &[u8; 32]) -> bool {
        let k = usize::from(self.k);
        k.is_power_of_two()
            && k <= K_MAX
            && self.proof.index == 0
            && self.proof.total == self.leaves()
            && self
                .proof
                .verify(data_root, &params_leaf(self.k, self.blob_count))
    }
}

/// One field element of a square opened against its row (the contract's `ElementOpening`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementOpening {
    /// The row's KZG commitment.
    pub commitment: [u8; 48],
    /// The commitment in the `data_root` tree: leaf `row + 1` of `2k + 1`.
    pub row_proof: MerkleProof,
    /// The element's index in the row, `0..4096`.
    pub position: u32,
    /// Its value (32 bytes, big-endian, `< r`).
    pub value: [u8; 32],
    /// The EIP-4844 proof that the row polynomial takes `value` at the element's point.
    pub kzg_proof: [u8; 48],
}

impl ElementOpening {
    /// The row (`row_proof.index − 1`).
    pub fn row(&self) -> u64 {
        self.row_proof.index.saturating_sub(1)
    }

    /// Whether this opens element `position` of row `row` of the square whose `data_root` is
    /// `data_root`, a tree of `leaves` leaves (`2k + 1`, from [`SquareParams`]): its place, the
    /// commitment at leaf `row + 1`, then the point evaluation at `ω^{brp(position)}` (the
    /// contract's `_opens`).
    pub fn opens(&self, data_root: &[u8; 32], leaves: u64, row: u64, position: u64) -> bool {
        (position as usize) < FIELD_ELEMENTS_PER_ROW
            && u64::from(self.position) == position
            && row.checked_add(1) == Some(self.row_proof.index)
            && self.row_proof.total == leaves
            && self.row_proof.verify(data_root, &self.commitment)
            && da_kzg::pure::verify_point_opening(
                &Commitment(self.commitment),
                &evaluation_point(self.position),
                &self.value,
                &Proof(self.kzg_proof),
            )
            .unwrap_or(false)
    }

    /// The element's 31 payload bytes (bytes `1..32` of its value).
    pub fn payload(&self) -> [u8; PAYLOAD_BYTES_PER_FIELD_ELEMENT] {
        let mut out = [0u8; PAYLOAD_BYTES_PER_FIELD_ELEMENT];
        out.copy_from_slice(&self.value[1..]);
        out
    }
}

/// One field element of a row, proven up to the `tuple_root` stored under `nonce`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldElementProof {
    /// The attested window.
    pub nonce: u64,
    /// The height and its `data_root`.
    pub tuple: DataRootTuple,
    /// The tuple in the window's tree.
    pub tuple_proof: MerkleProof,
    /// The square's shape, proven in the tuple's `data_root`.
    pub params: SquareParams,
    /// The element, opened against its row.
    pub opening: ElementOpening,
}

impl FieldElementProof {
    /// Checks the proof against the `tuple_root` of window `nonce` (length `window`), as the
    /// contract's `verifyFieldElement` does: the tuple in the window, the square's params in the
    /// tuple's `data_root`, the commitment at a row leaf (row `< 2k`), then the opening at
    /// `ω^{brp(position)}`.
    pub fn verify(&self, tuple_root: &[u8; 32], window: u64) -> bool {
        let o = &self.opening;
        verify_tuple(
            tuple_root,
            self.nonce,
            window,
            &self.tuple,
            &self.tuple_proof,
        ) && self.params.verify(&self.tuple.data_root)
            && o.row_proof.index >= 1
            && o.row() < 2 * u64::from(self.params.k)
            && o.opens(
                &self.tuple.data_root,
                self.params.leaves(),
                o.row(),
                u64::from(o.position),
            )
    }
}

/// One field element of a blob, tied to the blob's id by the square's index and proven up to
/// the `tuple_root` stored under `nonce` (the contract's `verifyBlobElement`).
///
/// `openings` are, in order: square element 0 (the index's entry count), the elements holding
/// index entry `entry` ([`index_elements`], element 0 not repeated), then the blob's element
/// `64·first_cell + element`. Square element `n` is element `n mod 4096` of row `n / 4096`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobElementProof {
    /// The attested window.
    pub nonce: u64,
    /// The height and its `data_root`.
    pub tuple: DataRootTuple,
    /// The tuple in the window's tree.
    pub tuple_proof: MerkleProof,
    /// The square's shape, proven in the tuple's `data_root`.
    pub params: SquareParams,
    /// The blob.
    pub blob_id: [u8; 32],
    /// The blob's entry in the square's index.
    pub entry: u32,
    /// The element in the blob: its payload bytes `[31·element, 31·element + 31)`.
    pub element: u32,
    /// The opened square elements (above).
    pub openings: Vec<ElementOpening>,
}

/// An index entry as [`BlobElementProof`] reads it from its openings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenedEntry {
    /// The index's entry count.
    pub count: u32,
    /// The entry's blob id.
    pub blob_id: [u8; 32],
    /// The blob's first original cell.
    pub first_cell: u32,
    /// The blob's length in bytes.
    pub len: u32,
}

impl BlobElementProof {
    /// The blob element's 31 payload bytes (those of the last opening).
    pub fn payload(&self) -> Option<[u8; PAYLOAD_BYTES_PER_FIELD_ELEMENT]> {
        self.openings.last().map(ElementOpening::payload)
    }

    /// The index entry the openings hold, read as the contract reads it (the openings are not
    /// checked; [`Self::verify`] does that).
    pub fn opened_entry(&self) -> Option<OpenedEntry> {
        let (lo, hi) = entry_elements(self.entry);
        let first = usize::from(lo != 0);
        if self.openings.len() != first + (hi - lo) as usize + 2 {
            return None;
        }
        let count = u32::from_be_bytes(self.openings[0].payload()[..4].try_into().ok()?);
        let mut payload = Vec::with_capacity(PAYLOAD_BYTES_PER_FIELD_ELEMENT * 4);
        for o in &self.openings[first..first + (hi - lo) as usize + 1] {
            payload.extend_from_slice(&o.payload());
        }
        let at = (INDEX_HEADER_SIZE + INDEX_ENTRY_SIZE * self.entry as usize)
            - PAYLOAD_BYTES_PER_FIELD_ELEMENT * lo as usize
            + NAMESPACE_SIZE;
        let word = |i: usize| -> Option<u32> {
            Some(u32::from_be_bytes(payload.get(i..i + 4)?.try_into().ok()?))
        };
        Some(OpenedEntry {
            count,
            blob_id: payload.get(at..at + 32)?.try_into().ok()?,
            first_cell: word(at + 32)?,
            len: word(at + 36)?,
        })
    }

    /// Checks the proof against the `tuple_root` of window `nonce` (length `window`), as the
    /// contract's `verifyBlobElement` does: the tuple in the window; the square's params in its
    /// `data_root`; every opening at its place among the square's original rows; `entry < count`; the entry's blob id is `blob_id`; `element <
    /// ⌈len/31⌉`; and the last opening is square element `64·first_cell + element`.
    pub fn verify(&self, tuple_root: &[u8; 32], window: u64) -> bool {
        if !verify_tuple(
            tuple_root,
            self.nonce,
            window,
            &self.tuple,
            &self.tuple_proof,
        ) {
            return false;
        }
        let Some(e) = self.opened_entry() else {
            return false;
        };
        let root = &self.tuple.data_root;
        if !self.params.verify(root) {
            return false;
        }
        let (k, leaves) = (u64::from(self.params.k), self.params.leaves());
        let mut places = index_elements(self.entry);
        let data = 64 * u64::from(e.first_cell) + u64::from(self.element);
        places.push(data);
        e.count > self.entry
            && e.blob_id == self.blob_id
            && u64::from(self.element)
                < u64::from(e.len).div_ceil(PAYLOAD_BYTES_PER_FIELD_ELEMENT as u64)
            && places.len() == self.openings.len()
            && places.iter().zip(&self.openings).all(|(&n, o)| {
                let (row, position) = square_element(n);
                row < k && o.opens(root, leaves, row, position)
            })
    }
}

/// The first and last square elements holding index entry `entry` (index payload bytes
/// `[4 + 69·entry, 73 + 69·entry)`; the index starts at square element 0).
fn entry_elements(entry: u32) -> (u64, u64) {
    let per = PAYLOAD_BYTES_PER_FIELD_ELEMENT as u64;
    let start = INDEX_HEADER_SIZE as u64 + INDEX_ENTRY_SIZE as u64 * u64::from(entry);
    (start / per, (start + INDEX_ENTRY_SIZE as u64 - 1) / per)
}

/// Row and position of square element `n` (element `n mod 4096` of row `n / 4096`).
pub fn square_element(n: u64) -> (u64, u64) {
    let per_row = FIELD_ELEMENTS_PER_ROW as u64;
    (n / per_row, n % per_row)
}

/// The square elements a [`BlobElementProof`] for index entry `entry` opens before the blob's
/// own: element 0 (the count), then those holding the entry's 69 bytes, ascending, 0 once.
pub fn index_elements(entry: u32) -> Vec<u64> {
    let (lo, hi) = entry_elements(entry);
    let mut out = Vec::with_capacity(5);
    if lo != 0 {
        out.push(0);
    }
    out.extend(lo..=hi);
    out
}

/// The point at which row element `position` is the row polynomial's value:
/// `ω^{brp_4096(position)}`, big-endian.
pub fn evaluation_point(position: u32) -> [u8; 32] {
    let w = root_of_unity(FIELD_ELEMENTS_PER_ROW);
    let e = reverse_bits(position as usize, FIELD_ELEMENTS_PER_ROW.trailing_zeros());
    let z: Fr = w.pow_vartime([e as u64]);
    let mut out = z.to_repr();
    // `to_repr` is little-endian for this field.
    out.as_mut().reverse();
    let mut be = [0u8; 32];
    be.copy_from_slice(out.as_ref());
    be
}

/// Row and element of payload byte `offset` of a blob that starts at original cell
/// `first_cell`.
pub fn element_of_byte(first_cell: u32, offset: u64) -> (u32, u32) {
    let cell = u64::from(first_cell) + offset / PAYLOAD_BYTES_PER_CELL as u64;
    let element = (offset % PAYLOAD_BYTES_PER_CELL as u64) / PAYLOAD_BYTES_PER_FIELD_ELEMENT as u64;
    let row = cell / ORIGINAL_CELLS_PER_ROW as u64;
    let position =
        (cell % ORIGINAL_CELLS_PER_ROW as u64) * FIELD_ELEMENTS_PER_CELL as u64 + element;
    (row as u32, position as u32)
}

/// An attestation window: its nonce and the `data_root`s of its heights from the first.
#[derive(Clone, Copy, Debug)]
pub struct Window<'a> {
    /// The window's nonce.
    pub nonce: u64,
    /// Its first height.
    pub first_height: u64,
    /// The `data_root` of each of its heights, in order.
    pub data_roots: &'a [[u8; 32]],
}

impl Window<'_> {
    /// The window's length.
    pub fn len(&self) -> u64 {
        self.data_roots.len() as u64
    }

    /// Whether the window has no heights.
    pub fn is_empty(&self) -> bool {
        self.data_roots.is_empty()
    }

    /// The `tuple_root` of the window's data roots.
    pub fn tuple_root(&self) -> [u8; 32] {
        tuple_root(self.first_height, self.data_roots)
    }

    /// `block`'s tuple and its proof in the window.
    fn tuple_of(
        &self,
        block: &BlockHeader,
    ) -> Result<(DataRootTuple, MerkleProof), PublicationError> {
        let height = block.header.height;
        let proof = tuple_proof(self.first_height, self.data_roots, height)
            .ok_or(PublicationError::NotInWindow { height })?;
        let tuple = DataRootTuple {
            height,
            data_root: block.header.data_root,
        };
        Ok((tuple, proof))
    }
}

/// The params of `block`'s square, or why there are none (no commitments).
fn params_of(block: &BlockHeader) -> Result<SquareParams, PublicationError> {
    SquareParams::of(block).ok_or(PublicationError::OutOfSquare {
        row: 0,
        position: 0,
        k: block.k,
    })
}

/// Opens element `position` of original row `row` of `block`, whose row bytes are
/// `row_bytes` (131 072): the proof is computed and checked against the header's commitment.
pub fn open_element(
    kzg: &KzgVerifier,
    block: &BlockHeader,
    row: u32,
    row_bytes: &[u8],
    position: u32,
) -> Result<ElementOpening, PublicationError> {
    let out = || PublicationError::OutOfSquare {
        row,
        position,
        k: block.k,
    };
    if position as usize >= FIELD_ELEMENTS_PER_ROW {
        return Err(out());
    }
    let commitment = *block.commitments.get(row as usize).ok_or_else(out)?;
    let row_proof = data_root_proof(block.k, block.blob_count, &block.commitments, row as usize)
        .ok_or_else(out)?;
    let z = evaluation_point(position);
    let (proof, value) = kzg.compute_kzg_proof(row_bytes, &z)?;
    let p = position as usize * BYTES_PER_FIELD_ELEMENT;
    if row_bytes.get(p..p + BYTES_PER_FIELD_ELEMENT) != Some(&value[..])
        || !da_kzg::pure::verify_point_opening(&Commitment(commitment), &z, &value, &proof)?
    {
        return Err(PublicationError::WrongRow);
    }
    Ok(ElementOpening {
        commitment,
        row_proof,
        position,
        value,
        kzg_proof: proof.0,
    })
}

/// Builds the proof of element `position` of original row `row` of `block`, whose row bytes
/// are `row_bytes` (131 072), in `window`.
pub fn prove_field_element(
    kzg: &KzgVerifier,
    window: &Window<'_>,
    block: &BlockHeader,
    row: u32,
    row_bytes: &[u8],
    position: u32,
) -> Result<FieldElementProof, PublicationError> {
    let (tuple, tuple_proof) = window.tuple_of(block)?;
    Ok(FieldElementProof {
        nonce: window.nonce,
        tuple,
        tuple_proof,
        params: params_of(block)?,
        opening: open_element(kzg, block, row, row_bytes, position)?,
    })
}

/// The original rows a [`BlobElementProof`] opens, ascending: those of the index elements of
/// entry `entry` and the row of element `element` of a blob starting at cell `first_cell`.
pub fn blob_element_rows(entry: u32, first_cell: u32, element: u32) -> Vec<u32> {
    let mut places = index_elements(entry);
    places.push(64 * u64::from(first_cell) + u64::from(element));
    let mut rows: Vec<u32> = places
        .into_iter()
        .map(|n| square_element(n).0 as u32)
        .collect();
    rows.dedup();
    rows
}

/// Builds the proof that element `element` of the blob at index entry `entry` (starting at
/// original cell `first_cell`) is published in `block`, given the bytes of the rows
/// [`blob_element_rows`] names. The proof is checked as the contract would check it before it
/// is returned; its `blob_id` is the entry's.
pub fn prove_blob_element(
    kzg: &KzgVerifier,
    window: &Window<'_>,
    block: &BlockHeader,
    entry: u32,
    first_cell: u32,
    element: u32,
    rows: &BTreeMap<u32, Vec<u8>>,
) -> Result<BlobElementProof, PublicationError> {
    let (tuple, tuple_proof) = window.tuple_of(block)?;
    let mut places = index_elements(entry);
    places.push(64 * u64::from(first_cell) + u64::from(element));
    let openings = places
        .into_iter()
        .map(|n| {
            let (row, position) = square_element(n);
            let row =
                u32::try_from(row).map_err(|_| PublicationError::MissingRow { row: u32::MAX })?;
            let bytes = rows.get(&row).ok_or(PublicationError::MissingRow { row })?;
            open_element(kzg, block, row, bytes, position as u32)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut proof = BlobElementProof {
        nonce: window.nonce,
        tuple,
        tuple_proof,
        params: params_of(block)?,
        blob_id: [0; 32],
        entry,
        element,
        openings,
    };
    let not_in_blob = || PublicationError::NotInBlob { entry, element };
    let opened = proof.opened_entry().ok_or_else(not_in_blob)?;
    proof.blob_id = opened.blob_id;
    if opened.first_cell != first_cell || !proof.verify(&window.tuple_root(), window.len()) {
        return Err(not_in_blob());
    }
    Ok(proof)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_entries_open_the_count_and_their_own_elements() {
        // Entry 0 is index bytes 4..73: elements 0, 1, 2 (the count shares element 0).
        assert_eq!(index_elements(0), vec![0, 1, 2]);
        // Entry 1 is bytes 73..142: elements 2..=4, after the count's element 0.
        assert_eq!(index_elements(1), vec![0, 2, 3, 4]);
        // Entry 17 starts at byte 1177 = 31·37 + 30, an element's last byte: four elements.
        assert_eq!(index_elements(17), vec![0, 37, 38, 39, 40]);
        // Entries past 4 096 elements of index live in row 1 and beyond; the count stays in row 0.
        let far = 2_000u32; // bytes 138_004.. : element 4 451
        assert_eq!(blob_element_rows(far, 10_000, 0), vec![0, 1, 156]);
        assert_eq!(square_element(4_451), (1, 355));
    }
}

//! Proofs of publication for rollups (`specs/12-attestation.md` §Proof of publication): one
//! field element of a row, opened against the row's KZG commitment (the EIP-4844
//! point-evaluation check), the commitment proven into the header's `data_root`, and the
//! `data_root` into an attested window's `tuple_root`. The contract's `verifyFieldElement` runs
//! the same checks on L1.
//!
//! Where a blob's bytes lie (`specs/01-data-model.md`): payload byte `q` of a blob starting at
//! original cell `c` is in cell `c + q / 1984`, field element `(q mod 1984) / 31` of that cell,
//! byte `1 + q mod 31` of the element; original cell `n` is cell `n mod 64` of row `n / 64`, i.e.
//! elements `64·(n mod 64) ..` of that row. Row element `i` is the row polynomial's value at
//! `ω^{brp_4096(i)}`, `ω = 7^((r − 1)/4096)`, as in EIP-4844.

use da_erasure::field::{reverse_bits, root_of_unity, Fr};
use da_kzg::{Commitment, KzgVerifier, Proof};
use da_types::{
    attestation::{tuple_proof, verify_tuple, DataRootTuple},
    consts::{
        BYTES_PER_FIELD_ELEMENT, FIELD_ELEMENTS_PER_CELL, FIELD_ELEMENTS_PER_ROW,
        ORIGINAL_CELLS_PER_ROW, PAYLOAD_BYTES_PER_CELL, PAYLOAD_BYTES_PER_FIELD_ELEMENT,
    },
    header_v2::data_root_proof,
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
    /// The row's bytes are not the row the header commits to.
    #[error("the row's bytes do not open to the header's commitment")]
    WrongRow,
    /// The KZG backend failed.
    #[error("kzg: {0}")]
    Kzg(#[from] da_kzg::KzgError),
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

impl FieldElementProof {
    /// The row (`row_proof.index − 1`).
    pub fn row(&self) -> u64 {
        self.row_proof.index.saturating_sub(1)
    }

    /// Checks the proof against the `tuple_root` of window `nonce` (length `window`), as the
    /// contract's `verifyFieldElement` does: the tuple in the window, the commitment in the
    /// tuple's `data_root` at a row leaf, then the opening at `ω^{brp(position)}`.
    pub fn verify(&self, tuple_root: &[u8; 32], window: u64) -> bool {
        verify_tuple(
            tuple_root,
            self.nonce,
            window,
            &self.tuple,
            &self.tuple_proof,
        ) && self.row_proof.index >= 1
            && self
                .row_proof
                .verify(&self.tuple.data_root, &self.commitment)
            && (self.position as usize) < FIELD_ELEMENTS_PER_ROW
            && da_kzg::pure::verify_point_opening(
                &Commitment(self.commitment),
                &evaluation_point(self.position),
                &self.value,
                &Proof(self.kzg_proof),
            )
            .unwrap_or(false)
    }
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
    let height = block.header.height;
    let tuple_proof = tuple_proof(window.first_height, window.data_roots, height)
        .ok_or(PublicationError::NotInWindow { height })?;
    let out = PublicationError::OutOfSquare {
        row,
        position,
        k: block.k,
    };
    if position as usize >= FIELD_ELEMENTS_PER_ROW {
        return Err(out);
    }
    let commitment = *block.commitments.get(row as usize).ok_or(out)?;
    let row_proof = data_root_proof(block.k, block.blob_count, &block.commitments, row as usize)
        .ok_or(PublicationError::OutOfSquare {
            row,
            position,
            k: block.k,
        })?;
    let z = evaluation_point(position);
    let (proof, value) = kzg.compute_kzg_proof(row_bytes, &z)?;
    let p = position as usize * BYTES_PER_FIELD_ELEMENT;
    if row_bytes.get(p..p + BYTES_PER_FIELD_ELEMENT) != Some(&value[..])
        || !da_kzg::pure::verify_point_opening(&Commitment(commitment), &z, &value, &proof)?
    {
        return Err(PublicationError::WrongRow);
    }
    Ok(FieldElementProof {
        nonce: window.nonce,
        tuple: DataRootTuple {
            height,
            data_root: block.header.data_root,
        },
        tuple_proof,
        commitment,
        row_proof,
        position,
        value,
        kzg_proof: proof.0,
    })
}

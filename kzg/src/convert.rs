//! Validating conversions between `da.v1` messages and this crate's proof types: samples
//! ([`ProvenCell`]), blob proofs and namespace proofs. Lengths are checked here (as
//! [`ConvertError`]s); proofs are checked by their verifiers.

use da_proto::v1 as pb;
use da_types::{
    consts::{BYTES_PER_CELL, BYTES_PER_G1},
    convert::{fixed, ConvertError, Result},
    CellIndex,
};

use crate::{BlobProof, Cell, NamespaceProof, Proof, ProvenCell};

impl From<&ProvenCell> for pb::Sample {
    fn from(c: &ProvenCell) -> Self {
        Self {
            row: c.index.row,
            col: c.index.col,
            cell: c.cell.as_bytes().to_vec(),
            proof: c.proof.0.to_vec(),
        }
    }
}

/// A message as a proven cell (lengths checked; the proof is checked by the verifier).
impl TryFrom<&pb::Sample> for ProvenCell {
    type Error = ConvertError;

    fn try_from(s: &pb::Sample) -> Result<Self> {
        Ok(Self {
            index: CellIndex {
                row: s.row,
                col: s.col,
            },
            cell: Cell(Box::new(fixed::<BYTES_PER_CELL>("cell", &s.cell)?)),
            proof: Proof(fixed::<BYTES_PER_G1>("proof", &s.proof)?),
        })
    }
}

fn samples_to_pb(cells: &[ProvenCell]) -> Vec<pb::Sample> {
    cells.iter().map(pb::Sample::from).collect()
}

fn samples_from_pb(samples: &[pb::Sample]) -> Result<Vec<ProvenCell>> {
    samples.iter().map(ProvenCell::try_from).collect()
}

impl BlobProof {
    /// The proof against the header at `height`, as a message.
    pub fn to_pb(&self, height: u64) -> pb::BlobProof {
        pb::BlobProof {
            height,
            entry: self.entry,
            index_cells: samples_to_pb(&self.index_cells),
            blob_cells: samples_to_pb(&self.blob_cells),
        }
    }
}

/// A message as a blob proof (its `height` is the caller's to check).
impl TryFrom<&pb::BlobProof> for BlobProof {
    type Error = ConvertError;

    fn try_from(p: &pb::BlobProof) -> Result<Self> {
        Ok(Self {
            entry: p.entry,
            index_cells: samples_from_pb(&p.index_cells)?,
            blob_cells: samples_from_pb(&p.blob_cells)?,
        })
    }
}

impl From<&NamespaceProof> for pb::NamespaceProof {
    fn from(p: &NamespaceProof) -> Self {
        Self {
            index_cells: samples_to_pb(&p.index_cells),
            blob_cells: samples_to_pb(&p.blob_cells),
        }
    }
}

/// A message as a namespace proof.
impl TryFrom<&pb::NamespaceProof> for NamespaceProof {
    type Error = ConvertError;

    fn try_from(p: &pb::NamespaceProof) -> Result<Self> {
        Ok(Self {
            index_cells: samples_from_pb(&p.index_cells)?,
            blob_cells: samples_from_pb(&p.blob_cells)?,
        })
    }
}

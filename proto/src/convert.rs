//! Validating conversions between `da.v1` messages and domain types, shared by the node, the
//! client library and the light client. Lengths and domain rules are checked here; proofs and
//! signatures are checked by their verifiers.

use da_kzg::{BlobProof, Cell, NamespaceProof, Proof, ProvenCell};
use da_types::{BlobId, CellIndex, Namespace, SignedHeader};

use crate::v1 as pb;

/// Why a message does not convert to a domain value.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// A fixed-size field has the wrong length.
    #[error("{what} must be {expected} bytes, got {got}")]
    Length {
        /// Field name.
        what: &'static str,
        /// Required length.
        expected: usize,
        /// Length received.
        got: usize,
    },
    /// A value is out of its range.
    #[error("{0}")]
    Range(String),
    /// A domain rule is broken (namespace, header fields).
    #[error(transparent)]
    Types(#[from] da_types::Error),
    /// A cell or proof is malformed.
    #[error(transparent)]
    Kzg(#[from] da_kzg::KzgError),
}

/// Result with [`ConvertError`].
pub type Result<T, E = ConvertError> = std::result::Result<T, E>;

/// A signed header as a message.
pub fn header_to_pb(h: &SignedHeader) -> pb::Header {
    pb::Header {
        chain_id: h.header.chain_id.clone(),
        height: h.header.height,
        parent_hash: h.header.parent_hash.to_vec(),
        timestamp_ms: h.header.timestamp_ms,
        k: u32::from(h.header.k),
        commitments: h.header.commitments.iter().map(|c| c.to_vec()).collect(),
        blob_count: h.header.blob_count,
        data_root: h.header.data_root().to_vec(),
        producer: h.producer.to_vec(),
        signature: h.signature.to_vec(),
        hash: h.hash().to_vec(),
    }
}

fn fixed<const N: usize>(what: &'static str, b: &[u8]) -> Result<[u8; N]> {
    b.try_into().map_err(|_| ConvertError::Length {
        what,
        expected: N,
        got: b.len(),
    })
}

/// A message as a signed header (fields checked, signature not).
pub fn header_from_pb(h: &pb::Header) -> Result<SignedHeader> {
    let k = u16::try_from(h.k).map_err(|_| ConvertError::Range(format!("k={} too large", h.k)))?;
    let commitments = h
        .commitments
        .iter()
        .map(|c| fixed::<48>("commitment", c))
        .collect::<Result<Vec<_>>>()?;
    let header = da_types::Header {
        chain_id: h.chain_id.clone(),
        height: h.height,
        parent_hash: fixed("parent_hash", &h.parent_hash)?,
        timestamp_ms: h.timestamp_ms,
        k,
        commitments,
        blob_count: h.blob_count,
    };
    header.validate()?;
    Ok(SignedHeader {
        header,
        producer: fixed("producer", &h.producer)?,
        signature: fixed("signature", &h.signature)?,
    })
}

/// Parses a namespace (29 bytes; reserved ones allowed for reads).
pub fn namespace(b: &[u8]) -> Result<Namespace> {
    Ok(Namespace::from_raw(b)?)
}

/// Parses a blob id.
pub fn blob_id(b: &[u8]) -> Result<BlobId> {
    Ok(BlobId(fixed("blob_id", b)?))
}

/// A proven cell as a message.
pub fn sample_to_pb(c: &ProvenCell) -> pb::Sample {
    pb::Sample {
        row: c.index.row,
        col: c.index.col,
        cell: c.cell.as_bytes().to_vec(),
        proof: c.proof.0.to_vec(),
    }
}

/// A message as a proven cell (lengths checked; the proof is checked by the verifier).
pub fn sample_from_pb(s: &pb::Sample) -> Result<ProvenCell> {
    Ok(ProvenCell {
        index: CellIndex {
            row: s.row,
            col: s.col,
        },
        cell: Cell::from_slice(&s.cell)?,
        proof: Proof::from_slice(&s.proof)?,
    })
}

fn samples_to_pb(cells: &[ProvenCell]) -> Vec<pb::Sample> {
    cells.iter().map(sample_to_pb).collect()
}

fn samples_from_pb(samples: &[pb::Sample]) -> Result<Vec<ProvenCell>> {
    samples.iter().map(sample_from_pb).collect()
}

/// A blob proof against the header at `height` as a message.
pub fn blob_proof_to_pb(p: &BlobProof, height: u64) -> pb::BlobProof {
    pb::BlobProof {
        height,
        entry: p.entry,
        index_cells: samples_to_pb(&p.index_cells),
        blob_cells: samples_to_pb(&p.blob_cells),
    }
}

/// A message as a blob proof.
pub fn blob_proof_from_pb(p: &pb::BlobProof) -> Result<BlobProof> {
    Ok(BlobProof {
        entry: p.entry,
        index_cells: samples_from_pb(&p.index_cells)?,
        blob_cells: samples_from_pb(&p.blob_cells)?,
    })
}

/// A namespace proof as a message.
pub fn namespace_proof_to_pb(p: &NamespaceProof) -> pb::NamespaceProof {
    pb::NamespaceProof {
        index_cells: samples_to_pb(&p.index_cells),
        blob_cells: samples_to_pb(&p.blob_cells),
    }
}

/// A message as a namespace proof.
pub fn namespace_proof_from_pb(p: &pb::NamespaceProof) -> Result<NamespaceProof> {
    Ok(NamespaceProof {
        index_cells: samples_from_pb(&p.index_cells)?,
        blob_cells: samples_from_pb(&p.blob_cells)?,
    })
}

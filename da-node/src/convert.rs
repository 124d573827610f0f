//! Validating conversions between `da.v1` messages and domain types.

use da_kzg::{BlobProof, Cell, NamespaceProof, Proof, ProvenCell};
use da_proto::v1 as pb;
use da_types::{BlobId, CellIndex, Namespace, SignedHeader};

use crate::error::{NodeError, Result};

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

fn fixed<const N: usize>(what: &str, b: &[u8]) -> Result<[u8; N]> {
    b.try_into().map_err(|_| {
        NodeError::InvalidArgument(format!("{what} must be {N} bytes, got {}", b.len()))
    })
}

/// A message as a signed header (fields checked, signature not).
pub fn header_from_pb(h: &pb::Header) -> Result<SignedHeader> {
    let k = u16::try_from(h.k)
        .map_err(|_| NodeError::InvalidArgument(format!("k={} too large", h.k)))?;
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
    Namespace::from_raw(b).map_err(|e| NodeError::InvalidArgument(e.to_string()))
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

/// A blob proof as a message.
pub fn blob_proof_to_pb(p: &BlobProof) -> pb::BlobProof {
    pb::BlobProof {
        entry: p.entry,
        index_cells: p.index_cells.iter().map(sample_to_pb).collect(),
        blob_cells: p.blob_cells.iter().map(sample_to_pb).collect(),
    }
}

/// A message as a blob proof.
pub fn blob_proof_from_pb(p: &pb::BlobProof) -> Result<BlobProof> {
    Ok(BlobProof {
        entry: p.entry,
        index_cells: p
            .index_cells
            .iter()
            .map(sample_from_pb)
            .collect::<Result<_>>()?,
        blob_cells: p
            .blob_cells
            .iter()
            .map(sample_from_pb)
            .collect::<Result<_>>()?,
    })
}

/// A namespace proof as a message.
pub fn namespace_proof_to_pb(p: &NamespaceProof) -> pb::NamespaceProof {
    pb::NamespaceProof {
        index_cells: p.index_cells.iter().map(sample_to_pb).collect(),
        blob_cells: p.blob_cells.iter().map(sample_to_pb).collect(),
    }
}

/// A message as a namespace proof.
pub fn namespace_proof_from_pb(p: &pb::NamespaceProof) -> Result<NamespaceProof> {
    Ok(NamespaceProof {
        index_cells: p
            .index_cells
            .iter()
            .map(sample_from_pb)
            .collect::<Result<_>>()?,
        blob_cells: p
            .blob_cells
            .iter()
            .map(sample_from_pb)
            .collect::<Result<_>>()?,
    })
}

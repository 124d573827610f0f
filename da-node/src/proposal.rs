//! The data of a proposal (`specs/11-consensus.md`, "Block body" and the data rules): the
//! body's encoding (the blobs in square order, [`da_types::body`]), what a proposer computes before proposing (the
//! square's `2k` commitments only; proofs come after the decision), and the checks a validator
//! runs before voting for a proposal (`CONSENSUS.md` §4.2–4.5): it holds every blob, each blob
//! is valid with a recomputed id, no id twice in the block or already included recently, the
//! layout rebuilt from the blobs matches the header, and the commitments are the rows'.
//!
//! No I/O: the caller supplies "already included" lookups and local randomness.

use std::collections::HashSet;

use da_consensus::Rejection;
use da_kzg::{Commitment, KzgProver};
use da_types::{
    consts::BYTES_PER_G1, header_v2::BlockHeader, Blob, BlobId, OriginalSquare, SquareLayout,
};

pub use da_types::body::{decode_body, encode_body, BodyError};

/// What a proposer hands consensus: the square's parameters, commitments and body.
#[derive(Debug)]
pub struct ProposalData {
    /// The original square (kept to prove it after the decision).
    pub square: OriginalSquare,
    /// The `2k` row commitments.
    pub commitments: Vec<[u8; BYTES_PER_G1]>,
    /// The encoded blobs.
    pub body: Vec<u8>,
    /// The extended, committed square when the commitments came from the prover's own path
    /// ([`propose_committed`]): proving it after the decision reuses that work.
    pub committed: Option<da_kzg::CommittedSquare>,
}

/// Lays out `blobs` and computes the `2k` commitments (no proofs): the proposer's critical path.
pub fn propose(kzg: &KzgProver, blobs: &[Blob]) -> Result<ProposalData, Rejection> {
    let square = SquareLayout::build(blobs).map_err(|e| Rejection::new("layout", e.to_string()))?;
    let commitments = kzg
        .square_commitments(&square)
        .map_err(|e| Rejection::new("commitments", e.to_string()))?
        .into_iter()
        .map(|c| c.0)
        .collect();
    Ok(ProposalData {
        square,
        commitments,
        body: encode_body(blobs),
        committed: None,
    })
}

/// Like [`propose`], but the commitments come from the prover's own path
/// (`KzgProver::commit_square`: the data extended and, with prover tables, FK20's first phase),
/// which the proofs after the decision reuse. The header is ready later than with [`propose`]'s
/// MSMs, and no commitment is computed twice: the path of a validator that is the whole set
/// (`validator.rs`), which nobody waits for.
pub fn propose_committed(kzg: &KzgProver, blobs: &[Blob]) -> Result<ProposalData, Rejection> {
    let square = SquareLayout::build(blobs).map_err(|e| Rejection::new("layout", e.to_string()))?;
    let committed = kzg
        .commit_square(&square)
        .map_err(|e| Rejection::new("commitments", e.to_string()))?;
    let commitments = committed.commitments().iter().map(|c| c.0).collect();
    Ok(ProposalData {
        square,
        commitments,
        body: encode_body(blobs),
        committed: Some(committed),
    })
}

/// The data rules a validator checks before voting (the header rules are checked by the
/// consensus crate first). `included` answers at which height a blob id was included, if it
/// was; an id included within the last `dedup_window` heights before the header's makes the
/// block invalid. `seed` is local randomness for the commitment check. Returns the blobs and
/// the rebuilt square.
pub fn check(
    kzg: &KzgProver,
    header: &BlockHeader,
    body: &[u8],
    included: impl Fn(&BlobId) -> Option<u64>,
    dedup_window: u64,
    seed: &[u8; 32],
) -> Result<(Vec<Blob>, OriginalSquare), Rejection> {
    let height = header.header.height;
    let blobs = decode_body(body).map_err(|e| Rejection::new("body", e.to_string()))?;
    let mut seen = HashSet::with_capacity(blobs.len());
    for b in &blobs {
        let id = b.id();
        if !seen.insert(id) {
            return Err(Rejection::new(
                "duplicate",
                format!("blob {id} twice in the block"),
            ));
        }
        if let Some(at) = included(&id) {
            if at < height && height - at <= dedup_window {
                return Err(Rejection::new(
                    "duplicate",
                    format!(
                        "blob {id} already included at height {at}, within the dedup window of \
                         {dedup_window} heights"
                    ),
                ));
            }
        }
    }
    let square =
        SquareLayout::build(&blobs).map_err(|e| Rejection::new("layout", e.to_string()))?;
    if square.k() != usize::from(header.k) || square.index().len() != header.blob_count as usize {
        return Err(Rejection::new(
            "layout",
            format!(
                "blobs lay out as k = {} with {} entries; the header says k = {} with {}",
                square.k(),
                square.index().len(),
                header.k,
                header.blob_count
            ),
        ));
    }
    let commitments: Vec<Commitment> = header.commitments.iter().map(|c| Commitment(*c)).collect();
    match kzg.check_square_commitments(&square, &commitments, seed) {
        Ok(true) => Ok((blobs, square)),
        Ok(false) => Err(Rejection::new(
            "commitments",
            "the commitments are not the rows'",
        )),
        Err(e) => Err(Rejection::new("commitments", e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use da_types::{
        header_v2::{data_root, ConsensusHeader},
        Namespace,
    };

    use super::*;

    fn blobs(seed: u8, n: usize) -> Vec<Blob> {
        (0..n)
            .map(|i| {
                let ns = Namespace::new_v0(&[seed, i as u8 + 1]).expect("namespace");
                Blob::new(ns, vec![seed ^ i as u8; 70_000 + 1000 * i]).expect("blob")
            })
            .collect()
    }

    fn header_for(p: &ProposalData) -> BlockHeader {
        let k = p.square.k() as u16;
        let blob_count = p.square.index().len() as u32;
        BlockHeader {
            header: ConsensusHeader {
                chain: [1; 32],
                height: 1,
                parent: [0; 32],
                timestamp_ms: 1,
                proposer: 0,
                validators_hash: [2; 32],
                next_validators_hash: [2; 32],
                data_root: data_root(k, blob_count, &p.commitments),
                tuple_root: [0; 32],
            },
            k,
            blob_count,
            commitments: p.commitments.clone(),
        }
    }

    /// The dedup window of the tests (any window covers height 1's past).
    const W: u64 = 100;

    #[test]
    fn both_proposer_paths_give_the_same_commitments_and_the_committed_one_proves() {
        let kzg = KzgProver::new(da_kzg::ProverConfig::default());
        let b = blobs(4, 2);
        let fast = propose(&kzg, &b).expect("proposal");
        let committed = propose_committed(&kzg, &b).expect("proposal");
        assert!(fast.committed.is_none());
        assert_eq!(committed.commitments, fast.commitments);
        assert_eq!(committed.body, fast.body);
        let h = header_for(&committed);
        let never = |_: &BlobId| None;
        check(&kzg, &h, &committed.body, never, W, &[7; 32]).expect("voters accept it");
        let square = committed
            .committed
            .expect("the committed square")
            .prove(&kzg, da_kzg::ProofStrategy::Linear)
            .expect("proves");
        let want: Vec<_> = square
            .committed()
            .commitments()
            .iter()
            .map(|c| c.0)
            .collect();
        assert_eq!(want, fast.commitments);
    }

    #[test]
    fn an_honest_proposal_passes_and_each_lie_is_refused_with_its_rule() {
        let kzg = KzgProver::new(da_kzg::ProverConfig::default());
        let b = blobs(5, 3);
        let p = propose(&kzg, &b).expect("proposal");
        let h = header_for(&p);
        let never = |_: &BlobId| None;
        assert!(check(&kzg, &h, &p.body, never, W, &[9; 32]).is_ok());

        // One wrong commitment.
        let mut lie = h.clone();
        lie.commitments[1] = lie.commitments[0];
        let e = check(&kzg, &lie, &p.body, never, W, &[9; 32]).expect_err("wrong commitment");
        assert_eq!(e.kind, "commitments");

        // A layout that differs from its blobs.
        let mut lie = h.clone();
        lie.blob_count += 1;
        let e = check(&kzg, &lie, &p.body, never, W, &[9; 32]).expect_err("layout");
        assert_eq!(e.kind, "layout");

        // A blob it does not send: the body lacks one blob.
        let short = encode_body(&b[..2]);
        let e = check(&kzg, &h, &short, never, W, &[9; 32]).expect_err("missing blob");
        assert_eq!(e.kind, "layout");

        // A bad blob id cannot be claimed (ids are recomputed), but one blob twice is refused.
        let twice = encode_body(&[b[0].clone(), b[0].clone()]);
        let e = check(&kzg, &h, &twice, never, W, &[9; 32]).expect_err("duplicate");
        assert_eq!(e.kind, "duplicate");

        // Blobs of the same sizes but other bytes (so other ids in the index): same layout,
        // but the commitments are not those of the square these blobs build.
        let other: Vec<Blob> = b
            .iter()
            .map(|x| {
                let mut d = x.data().to_vec();
                d[0] ^= 0xff;
                Blob::new(*x.namespace(), d).expect("blob")
            })
            .collect();
        let e = check(&kzg, &h, &encode_body(&other), never, W, &[9; 32]).expect_err("other ids");
        assert_eq!(e.kind, "commitments");

        // A blob already included, within the dedup window and past it.
        let first = b[0].id();
        let mut later = h.clone();
        later.header.height = 100;
        let at_90 = |id: &BlobId| (*id == first).then_some(90);
        let e = check(&kzg, &later, &p.body, at_90, 10, &[9; 32]).expect_err("included");
        assert_eq!(e.kind, "duplicate");
        assert!(e.detail.contains("at height 90"), "{}", e.detail);
        assert!(check(&kzg, &later, &p.body, at_90, 9, &[9; 32]).is_ok());

        // A body that does not decode.
        let e = check(&kzg, &h, &p.body[..10], never, W, &[9; 32]).expect_err("truncated");
        assert_eq!(e.kind, "body");
    }
}

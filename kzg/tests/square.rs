//! The committed square: linear proofs match per-row FK20 and c-kzg, the extension check, cell
//! verification, repair, inclusion and completeness proofs, and point openings.

use std::sync::OnceLock;

use da_kzg::{
    pure, CellBackend, Commitment, KzgError, KzgProver, PartialSquare, Proof, ProofStrategy,
    ProvenCell, ProverBackend, ProverConfig,
};
use da_types::{
    consts::{CELLS_PER_ROW, PAYLOAD_BYTES_PER_CELL},
    Blob, CellIndex, Namespace, SquareLayout,
};

fn ctx() -> &'static KzgProver {
    static C: OnceLock<KzgProver> = OnceLock::new();
    C.get_or_init(|| KzgProver::new(ProverConfig::DEFAULT.with_backend(ProverBackend::CKzg)))
}

fn ns(b: u8) -> Namespace {
    Namespace::new_v0(&[7, b]).expect("namespace")
}

/// Pseudo-random bytes, different per seed.
fn data(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// 40 small blobs over 5 namespaces (index spans two cells) plus one of 30 cells: k = 2.
fn blobs() -> Vec<Blob> {
    let mut v: Vec<Blob> = (0..40u64)
        .map(|i| Blob::new(ns((i % 5) as u8), data(i, 100 + 37 * i as usize)).expect("blob"))
        .collect();
    v.push(Blob::new(ns(9), data(99, 30 * PAYLOAD_BYTES_PER_CELL - 5)).expect("blob"));
    v
}

#[test]
fn linear_and_per_row_proofs_match_c_kzg_on_every_row() {
    // The third square is k = 4 with its last row all padding.
    let padded = vec![Blob::new(ns(3), data(5, 129 * PAYLOAD_BYTES_PER_CELL)).expect("blob")];
    for blobs in [vec![], blobs(), padded] {
        let sq = SquareLayout::build(&blobs).expect("layout");
        let committed = ctx().commit_square(&sq).expect("commit");
        let (naive_coms, naive_proofs) = ctx().naive_square(&sq).expect("naive");
        assert_eq!(committed.commitments(), &naive_coms[..]);
        // Every extended row is itself a blob whose cells are the square's cells.
        for r in 0..2 * sq.k() {
            let (cells, _) = ctx()
                .compute_cells_and_kzg_proofs(&committed.row_blob(r))
                .expect("cells");
            for (c, cell) in cells.iter().enumerate() {
                assert_eq!(cell, &committed.cell(r, c), "cell ({r}, {c})");
            }
        }
        let linear = committed
            .clone()
            .prove(ctx(), ProofStrategy::Linear)
            .expect("linear");
        let per_row = committed
            .prove(ctx(), ProofStrategy::PerRow)
            .expect("per row");
        assert_eq!(linear.proofs(), &naive_proofs[..]);
        assert_eq!(per_row.proofs(), &naive_proofs[..]);
    }
}

#[test]
fn prover_tables_give_the_same_commitments_and_proofs() {
    // With tables, commitments come out of FK20's first phase and `prove` runs only its second
    // phase: both must equal c-kzg's per-row results (`naive_square`), padding rows included.
    let tables = KzgProver::new(ProverConfig::DEFAULT.with_precompute(true));
    let padded = vec![Blob::new(ns(3), data(5, 129 * PAYLOAD_BYTES_PER_CELL)).expect("blob")];
    for blobs in [blobs(), padded] {
        let sq = SquareLayout::build(&blobs).expect("layout");
        let (naive_coms, naive_proofs) = ctx().naive_square(&sq).expect("naive");
        let committed = tables.commit_square(&sq).expect("commit");
        assert_eq!(committed.commitments(), &naive_coms[..]);
        let proven = committed
            .prove(&tables, ProofStrategy::Linear)
            .expect("linear");
        assert_eq!(proven.proofs(), &naive_proofs[..]);
        // Repair takes the same path and must agree too.
        let mut partial = PartialSquare::new(sq.k()).expect("partial");
        let original: Vec<_> = (0..sq.k() * CELLS_PER_ROW)
            .map(|n| {
                let idx =
                    CellIndex::new(n / CELLS_PER_ROW, n % CELLS_PER_ROW, sq.k()).expect("index");
                let (cell, proof) = proven.sample(idx).expect("sample");
                (idx, cell, proof)
            })
            .collect();
        for v in tables
            .verify_cells(proven.commitments(), original)
            .expect("verify")
        {
            partial.insert(&v).expect("insert");
        }
        let repaired = tables
            .repair(partial, proven.commitments())
            .expect("repair");
        assert_eq!(repaired.proofs(), &naive_proofs[..]);
    }
}

#[test]
fn verify_extension_accepts_valid_and_rejects_any_tampered_commitment() {
    let sq = SquareLayout::build(&blobs()).expect("layout");
    let coms = ctx()
        .commit_square(&sq)
        .expect("commit")
        .commitments()
        .to_vec();
    assert!(ctx().verify_extension(&coms).expect("verify"));
    assert_eq!(ctx().extend_commitments(&coms[..2]).expect("extend"), coms);
    let other = ctx()
        .commit_square(&SquareLayout::build(&[]).expect("layout"))
        .expect("commit")
        .commitments()[0];
    for i in 0..coms.len() {
        let mut bad = coms.clone();
        bad[i] = other;
        assert!(
            !ctx().verify_extension(&bad).expect("verify"),
            "tampered {i}"
        );
    }
    let mut swapped = coms.clone();
    swapped.swap(0, 3);
    assert!(!ctx().verify_extension(&swapped).expect("verify"));
    assert!(ctx().verify_extension(&coms[..3]).is_err());
    let mut garbage = coms;
    garbage[1] = Commitment([0x11; 48]);
    assert!(matches!(
        ctx().verify_extension(&garbage),
        Err(KzgError::InvalidPoint { .. })
    ));
    // k = 1: the parity row must equal the original.
    let one = ctx()
        .commit_square(&SquareLayout::build(&[]).expect("layout"))
        .expect("commit")
        .commitments()
        .to_vec();
    assert!(ctx().verify_extension(&one).expect("verify"));
    assert!(!ctx()
        .verify_extension(&[one[0], other_than(one[0])])
        .expect("verify"));
}

fn other_than(c: Commitment) -> Commitment {
    let sq = SquareLayout::build(&[Blob::new(ns(1), vec![1]).expect("blob")]).expect("layout");
    let d = ctx().commit_square(&sq).expect("commit").commitments()[0];
    assert_ne!(c, d);
    d
}

#[test]
fn cells_verify_and_forgeries_are_rejected_and_repair_restores_proofs() {
    let sq = SquareLayout::build(&blobs()).expect("layout");
    let full = ctx()
        .commit_square(&sq)
        .expect("commit")
        .prove(ctx(), ProofStrategy::Linear)
        .expect("prove");
    let coms = full.commitments();
    let at = |r: usize, c: usize| {
        let i = CellIndex::new(r, c, 2).expect("index");
        let (cell, proof) = full.sample(i).expect("sample");
        (i, cell, proof)
    };
    let good = vec![at(0, 0), at(3, 127), at(2, 64)];
    assert_eq!(ctx().verify_cells(coms, good).expect("verify").len(), 3);

    let (i, _, p) = at(1, 5);
    let (_, other_cell, _) = at(1, 6);
    assert!(matches!(
        ctx().verify_cells(coms, vec![(i, other_cell, p)]),
        Err(KzgError::InvalidProof(_))
    ));
    let (i, c, _) = at(3, 9);
    let (_, _, other_proof) = at(3, 10);
    assert!(matches!(
        ctx().verify_cells(coms, vec![at(0, 1), (i, c, other_proof)]),
        Err(KzgError::InvalidProof(_))
    ));
    let (_, c, p) = at(0, 0);
    let outside = CellIndex { row: 4, col: 0 };
    assert!(ctx().verify_cells(coms, vec![(outside, c, p)]).is_err());
    let (i, c, _) = at(0, 0);
    assert!(ctx()
        .verify_cells(coms, vec![(i, c, Proof([0xff; 48]))])
        .is_err());

    // Repair from the parity half only (rows 2 and 3).
    let mut partial = PartialSquare::new(2).expect("partial");
    let kept: Vec<_> = (2..4)
        .flat_map(|r| (0..CELLS_PER_ROW).map(move |c| (r, c)))
        .map(|(r, c)| at(r, c))
        .collect();
    for v in ctx().verify_cells(coms, kept).expect("verify") {
        partial.insert(&v).expect("insert");
    }
    assert_eq!(partial.missing(), 2 * CELLS_PER_ROW);
    let repaired = ctx().repair(partial, coms).expect("repair");
    assert_eq!(repaired.proofs(), full.proofs());
    // Against the wrong commitments, repair refuses.
    let mut partial = PartialSquare::new(2).expect("partial");
    for v in ctx()
        .verify_cells(coms, (0..CELLS_PER_ROW).map(|c| at(0, c)).collect())
        .expect("verify")
    {
        partial.insert(&v).expect("insert");
    }
    assert!(matches!(
        ctx().repair(partial, coms),
        Err(KzgError::Erasure(
            da_erasure::ErasureError::Unrecoverable { .. }
        ))
    ));
}

#[test]
fn light_and_c_kzg_cell_verifiers_agree_on_random_valid_and_corrupted_batches() {
    use rand::{Rng, SeedableRng};
    let sq = SquareLayout::build(&blobs()).expect("layout");
    let full = ctx()
        .commit_square(&sq)
        .expect("commit")
        .prove(ctx(), ProofStrategy::Linear)
        .expect("prove");
    let coms = full.commitments();
    let rows = coms.len();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut seen = [0usize; 3]; // true, false, error
    for round in 0..40 {
        let n = rng.gen_range(0..=33);
        let mut com_b: Vec<Vec<u8>> = Vec::new();
        let mut idx: Vec<u64> = Vec::new();
        let mut cells: Vec<Vec<u8>> = Vec::new();
        let mut proofs: Vec<Vec<u8>> = Vec::new();
        for _ in 0..n {
            let (r, c) = (rng.gen_range(0..rows), rng.gen_range(0..CELLS_PER_ROW));
            let (cell, proof) = full
                .sample(CellIndex::new(r, c, rows / 2).expect("index"))
                .expect("sample");
            com_b.push(coms[r].0.to_vec());
            idx.push(c as u64);
            cells.push(cell.as_bytes().to_vec());
            proofs.push(proof.0.to_vec());
        }
        // Round 0 mod 4 stays valid; the others corrupt one entry in one of several ways.
        if n > 0 && round % 4 != 0 {
            let at = rng.gen_range(0..n);
            match rng.gen_range(0..6) {
                0 => {
                    // A field element changed (kept canonical: its top byte stays small).
                    let b = rng.gen_range(0..cells[at].len() / 32) * 32 + 31;
                    cells[at][b] ^= 1;
                }
                1 => idx[at] = (idx[at] + 1) % CELLS_PER_ROW as u64,
                2 => {
                    proofs[at] = full
                        .sample(CellIndex::new(0, 0, rows / 2).expect("index"))
                        .expect("s")
                        .1
                         .0
                        .to_vec()
                }
                3 => {
                    com_b[at] = coms[(rng.gen_range(1..rows) + com_b.len()) % rows]
                        .0
                        .to_vec()
                }
                4 => cells[at][0] = 0xff, // non-canonical field element: an error
                _ => proofs[at][0] ^= 0x01, // usually not a point: an error
            }
        }
        let call = |b| {
            ctx().verify_cell_kzg_proof_batch_on(
                b,
                &com_b.iter().map(Vec::as_slice).collect::<Vec<_>>(),
                &idx,
                &cells.iter().map(Vec::as_slice).collect::<Vec<_>>(),
                &proofs.iter().map(Vec::as_slice).collect::<Vec<_>>(),
            )
        };
        let (light, ckzg) = (call(CellBackend::Light), call(CellBackend::CKzg));
        match (&light, &ckzg) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b, "round {round}");
                seen[usize::from(!a)] += 1;
            }
            (Err(_), Err(_)) => seen[2] += 1,
            _ => panic!("round {round}: light {light:?}, c-kzg {ckzg:?}"),
        }
        if round % 4 == 0 {
            assert_eq!(light, Ok(true), "round {round}: valid batch");
        }
    }
    assert!(
        seen.iter().all(|&n| n > 0),
        "true/false/error seen {seen:?}"
    );
}

#[test]
fn blob_inclusion_proofs_verify_and_reject_tampering() {
    let blobs = blobs();
    let sq = SquareLayout::build(&blobs).expect("layout");
    let full = ctx()
        .commit_square(&sq)
        .expect("commit")
        .prove(ctx(), ProofStrategy::Linear)
        .expect("prove");
    let coms = full.commitments();
    for b in &blobs {
        let proof = full
            .blob_proof(b.namespace(), &b.id())
            .expect("proof")
            .expect("present");
        let got = proof
            .verify(ctx(), coms, b.namespace(), &b.id())
            .expect("verify");
        assert_eq!(got.data, b.data());
    }
    // Entry 28 straddles index cells 0 and 1.
    let e28 = full.committed().index()[28];
    let p = full
        .blob_proof(&e28.namespace, &e28.blob_id)
        .expect("proof")
        .expect("present");
    assert_eq!(p.index_cells.len(), 2);

    let b = &blobs[40];
    let proof = full
        .blob_proof(b.namespace(), &b.id())
        .expect("proof")
        .expect("present");
    let missing = Blob::new(ns(3), b"not there".to_vec()).expect("blob");
    assert!(full
        .blob_proof(missing.namespace(), &missing.id())
        .expect("lookup")
        .is_none());
    // Claiming the proof is for another blob.
    assert!(proof
        .verify(ctx(), coms, missing.namespace(), &missing.id())
        .is_err());
    // A swapped cell: two blob cells exchanged (each still valid at its own position).
    let mut swapped = proof.clone();
    swapped.blob_cells.swap(0, 1);
    assert!(swapped.verify(ctx(), coms, b.namespace(), &b.id()).is_err());
    // A cell moved to another position keeps its proof: KZG rejects it.
    let mut moved = proof.clone();
    let c1 = moved.blob_cells[1].cell.clone();
    moved.blob_cells[0].cell = c1;
    assert!(matches!(
        moved.verify(ctx(), coms, b.namespace(), &b.id()),
        Err(KzgError::InvalidProof(_))
    ));
    // A forged proof.
    let mut forged = proof.clone();
    forged.blob_cells[2].proof = forged.blob_cells[3].proof;
    assert!(forged.verify(ctx(), coms, b.namespace(), &b.id()).is_err());
    // A dropped cell.
    let mut short = proof.clone();
    short.blob_cells.pop();
    assert!(short.verify(ctx(), coms, b.namespace(), &b.id()).is_err());
    // Missing index cell.
    let mut no_index = proof.clone();
    no_index.index_cells.clear();
    assert!(no_index
        .verify(ctx(), coms, b.namespace(), &b.id())
        .is_err());
    // Pointing at another entry.
    let mut wrong_entry = proof;
    wrong_entry.entry = 0;
    assert!(wrong_entry
        .verify(ctx(), coms, b.namespace(), &b.id())
        .is_err());
}

#[test]
fn namespace_completeness_proofs_verify_and_reject_omissions() {
    let blobs = blobs();
    let sq = SquareLayout::build(&blobs).expect("layout");
    let full = ctx()
        .commit_square(&sq)
        .expect("commit")
        .prove(ctx(), ProofStrategy::Linear)
        .expect("prove");
    let coms = full.commitments();
    let target = ns(2);
    let proof = full.namespace_proof(&target).expect("proof");
    let got = proof.verify(ctx(), coms, &target).expect("verify");
    let want: Vec<&[u8]> = blobs
        .iter()
        .filter(|b| *b.namespace() == target)
        .map(Blob::data)
        .collect();
    assert_eq!(got.len(), 8);
    assert_eq!(got.iter().map(|b| &b.data[..]).collect::<Vec<_>>(), want);

    let empty_ns = ns(200);
    let none = full.namespace_proof(&empty_ns).expect("proof");
    assert!(none
        .verify(ctx(), coms, &empty_ns)
        .expect("verify")
        .is_empty());
    // An empty proof for a namespace that has blobs is rejected.
    assert!(none.verify(ctx(), coms, &target).is_err());
    // Omitting a blob's cells.
    let first_len = got[0].entry.cells().len();
    let mut omitted = proof.clone();
    omitted.blob_cells.drain(..first_len);
    assert!(omitted.verify(ctx(), coms, &target).is_err());
    // Omitting an index cell.
    let mut no_index: da_kzg::NamespaceProof = proof.clone();
    no_index.index_cells.pop();
    assert!(no_index.verify(ctx(), coms, &target).is_err());
    // Extra cells that belong to no blob of the namespace.
    let mut extra = proof.clone();
    let stray: ProvenCell = full
        .namespace_proof(&ns(9))
        .expect("proof")
        .blob_cells
        .remove(0);
    extra.blob_cells.push(stray);
    assert!(extra.verify(ctx(), coms, &target).is_err());
    // Against another square's commitments.
    let other = ctx()
        .commit_square(&SquareLayout::build(&blobs[..41]).expect("layout"))
        .expect("commit");
    let _ = other;
    let mut other_coms = coms.to_vec();
    other_coms.swap(0, 1);
    assert!(proof.verify(ctx(), &other_coms, &target).is_err());
}

#[test]
fn point_openings_of_extended_rows_verify_in_c_kzg_and_pure_rust() {
    let sq = SquareLayout::build(&blobs()).expect("layout");
    let committed = ctx().commit_square(&sq).expect("commit");
    let mut z = [0u8; 32];
    z[31] = 0x2a;
    z[5] = 0x77;
    for r in [0, 3] {
        let com = committed.commitments()[r];
        let (proof, y) = ctx()
            .compute_kzg_proof(&committed.row_blob(r), &z)
            .expect("open");
        assert!(ctx().verify_kzg_proof(&com, &z, &y, &proof).expect("c-kzg"));
        assert!(pure::verify_point_opening(&com, &z, &y, &proof).expect("kzg-rs"));
        let mut bad_y = y;
        bad_y[31] ^= 1;
        assert!(!ctx()
            .verify_kzg_proof(&com, &z, &bad_y, &proof)
            .expect("c-kzg"));
        assert!(!pure::verify_point_opening(&com, &z, &bad_y, &proof).expect("kzg-rs"));
    }
    assert!(pure::verify_point_opening(&Commitment([0; 48]), &z, &z, &Proof([0; 48])).is_err());
}

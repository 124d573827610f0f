//! Proposal-ready time (`specs/11-consensus.md`): what a proposer computes before its header can
//! be proposed (the `2k` commitments, no data extension, no proofs), and what a voter checks
//! (one random linear combination + `verify_extension`), against the naive square (every row
//! of the extended square committed and proven by the backend) measured in the same run, and
//! our full header-ready + proofs path. Prints one line per path and the ratios, then one row's
//! commitment on the proposer's path (shifted bases, `curve::shifted`) against c-kzg's
//! `blob_to_kzg_commitment` of the same row, one thread each, median of 10.
//!
//! `cargo run --release -p da-kzg --example proposal -- [K] [REPEATS]`

use std::time::{Duration, Instant};

use da_kzg::{KzgProver, ProofStrategy, ProverBackend, ProverConfig};
use da_types::{consts::BYTES_PER_ROW, Blob, Namespace, SquareLayout};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(
    repeats: usize,
    mut f: impl FnMut() -> Result<T, Box<dyn std::error::Error>>,
) -> Result<Duration, Box<dyn std::error::Error>> {
    let mut v = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let t = Instant::now();
        f()?;
        v.push(t.elapsed());
    }
    Ok(median(v))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let k: usize = args.next().map_or(Ok(64), |a| a.parse())?;
    let repeats: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let mut seed = 0x9e37_79b9u64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // Blobs that fill about k rows (the index takes a little room).
    let per_blob = BYTES_PER_ROW * 3 / 4;
    let n = (k * BYTES_PER_ROW * 9 / 10) / per_blob;
    let blobs = (0..n.max(1))
        .map(|i| {
            let ns = Namespace::new_v0(&[0xda, (i % 4) as u8 + 1])?;
            Blob::new(ns, (0..per_blob).map(|_| rand() as u8).collect())
        })
        .collect::<Result<Vec<_>, da_types::Error>>()?;
    let square = SquareLayout::build(&blobs)?;
    let k = square.k();
    let ctx = KzgProver::new(ProverConfig::DEFAULT.with_precompute(true));
    let threads = rayon::current_num_threads();
    println!(
        "k = {k}, {} blobs, {repeats} repeats (median), {threads} threads",
        blobs.len()
    );

    let commitments = ctx.square_commitments(&square)?;
    let proposal = time(repeats, || Ok(ctx.square_commitments(&square)?))?;
    let check = time(repeats, || {
        let ok = ctx.check_square_commitments(&square, &commitments, &[5; 32])?;
        assert!(ok, "the voter's check refused honest commitments");
        Ok(())
    })?;
    let header_ready = time(repeats, || Ok(ctx.commit_square(&square)?))?;
    let full = time(repeats, || {
        Ok(ctx
            .commit_square(&square)?
            .prove(&ctx, ProofStrategy::Linear)?)
    })?;
    let naive = time(1, || Ok(ctx.naive_square(&square)?))?;

    let r = |d: Duration| d.as_secs_f64() / naive.as_secs_f64();
    println!("naive square (baseline, 1 run) {naive:>10.2?}  1.000x");
    println!(
        "proposal-ready (commitments)   {proposal:>10.2?}  {:.3}x",
        r(proposal)
    );
    println!(
        "voter check (RLC + extension)  {check:>10.2?}  {:.3}x",
        r(check)
    );
    println!(
        "header-ready (data extended)   {header_ready:>10.2?}  {:.3}x",
        r(header_ready)
    );
    println!(
        "square with all proofs         {full:>10.2?}  {:.3}x",
        r(full)
    );

    // One row: a square of one row (k = 1) on the proposer's path, against c-kzg on that row.
    let one = SquareLayout::build(&blobs[..1])?;
    let row = &one.rows()[..BYTES_PER_ROW];
    let ckzg = KzgProver::new(ProverConfig::DEFAULT.with_backend(ProverBackend::CKzg));
    assert_eq!(
        ctx.square_commitments(&one)?[0],
        ckzg.blob_to_kzg_commitment(row)?,
        "the two row commitments differ"
    );
    let ours = time(10, || Ok(ctx.square_commitments(&one)?))?;
    let theirs = time(10, || Ok(ckzg.blob_to_kzg_commitment(row)?))?;
    println!(
        "one row: shifted bases {ours:.2?}, c-kzg {theirs:.2?} ({:.2}x)",
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
    Ok(())
}

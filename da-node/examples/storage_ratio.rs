//! Measures bytes stored per payload byte: full squares of `k` rows of random blobs, written
//! through the node's store, flushed, sized. `cargo run --release -p da-node --example storage_ratio -- [K] [BLOCKS]`

use std::{sync::Arc, time::Instant};

use da_kzg::{KzgProver, ProofStrategy, ProverConfig};
use da_node::{
    genesis::solo_genesis,
    metrics::Metrics,
    producer::{Parent, SoloValidator},
    store::{BlockData, RocksStore, Store},
};
use da_types::{Blob, BlsSecretKey, Namespace, SquareLayout, Trust};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let k: usize = args.next().map_or(Ok(64), |a| a.parse())?;
    let blocks: u64 = args.next().map_or(Ok(3), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let store = RocksStore::open(dir.path())?;
    let ctx = Arc::new(KzgProver::new(ProverConfig::DEFAULT.with_precompute(true)));
    let key = BlsSecretKey::from_ikm(&[1; 32]);
    let trust = Trust::from_genesis(&solo_genesis("ratio", &key, 256))?;
    let validator = SoloValidator::new(key, trust, ctx.clone(), Arc::new(Metrics::new()))?;
    let mut parent = None;
    // The data roots of the current attestation window so far (its last header needs them).
    let mut window = Vec::new();
    let mut payload = 0usize;
    for height in 1..=blocks {
        // k blobs of 63 cells: the index fits in the one spare cell, so the square is full.
        let blobs = (0..k)
            .map(|i| {
                let data = da_testkit::gen::bytes(height * 1000 + i as u64, 63 * 1984);
                Blob::new(Namespace::new_v0(&[9, (i % 250) as u8])?, data)
            })
            .collect::<Result<Vec<_>, _>>()?;
        payload += blobs.iter().map(|b| b.data().len()).sum::<usize>();
        let t = Instant::now();
        let square = SquareLayout::build(&blobs)?;
        let committed = ctx.commit_square(&square)?;
        let header = validator.certify(validator.header(
            Parent(parent.as_ref()),
            &window,
            k as u16,
            blobs.len() as u32,
            committed.commitments().iter().map(|c| c.0).collect(),
        )?)?;
        if header.block.header.tuple_root == [0; 32] {
            window.push(header.block.header.data_root);
        } else {
            window.clear();
        }
        assert_eq!(header.height(), height);
        let full = committed.prove(&ctx, ProofStrategy::Linear)?;
        let block = BlockData::from_square(header.clone(), square.index().to_vec(), &full);
        store.put_block(&block)?;
        parent = Some(header);
        println!(
            "block {height}: k={k} built and stored in {:.2?}",
            t.elapsed()
        );
    }
    store.flush()?;
    store.compact()?;
    let stored = store.storage_bytes();
    println!(
        "payload {payload} B, stored {stored} B -> {:.3} bytes stored per payload byte (naive extended square with proofs: {:.3})",
        stored as f64 / payload as f64,
        (2 * k * 128 * (2048 + 48)) as f64 * blocks as f64 / payload as f64
    );
    Ok(())
}

//! Pure-Rust verification of EIP-4844 point openings of a row with `kzg-rs`: the same check as
//! the L1 point-evaluation precompile, usable in no_std provers and zkVMs.

use std::sync::OnceLock;

use crate::{
    error::{KzgError, Result},
    types::{Commitment, Proof},
};

fn settings() -> Result<&'static kzg_rs::KzgSettings> {
    static S: OnceLock<std::result::Result<kzg_rs::KzgSettings, String>> = OnceLock::new();
    S.get_or_init(|| kzg_rs::KzgSettings::load_trusted_setup_file().map_err(|e| format!("{e:?}")))
        .as_ref()
        .map_err(|e| KzgError::Backend {
            backend: "kzg-rs",
            message: e.clone(),
        })
}

fn err(e: kzg_rs::KzgError) -> KzgError {
    KzgError::Backend {
        backend: "kzg-rs",
        message: format!("{e:?}"),
    }
}

/// Checks `p(z) = y` for the row committed to by `commitment`, without C code.
pub fn verify_point_opening(
    commitment: &Commitment,
    z: &[u8],
    y: &[u8],
    proof: &Proof,
) -> Result<bool> {
    let c = kzg_rs::Bytes48::from_slice(&commitment.0).map_err(err)?;
    let z = kzg_rs::Bytes32::from_slice(z).map_err(err)?;
    let y = kzg_rs::Bytes32::from_slice(y).map_err(err)?;
    let p = kzg_rs::Bytes48::from_slice(&proof.0).map_err(err)?;
    kzg_rs::KzgProof::verify_kzg_proof(&c, &z, &y, &p, settings()?).map_err(err)
}

//! Test support inside the crate: one shared KZG prover and a deterministic one-validator chain.

use std::sync::{Arc, OnceLock};

use da_kzg::{KzgProver, ProverConfig};
use da_types::{BlsSecretKey, Genesis, GenesisValidator, Trust};

use crate::{metrics::Metrics, producer::SoloValidator};

/// One KZG prover (no window tables) for every test of the crate.
pub(crate) fn kzg() -> Arc<KzgProver> {
    static KZG: OnceLock<Arc<KzgProver>> = OnceLock::new();
    KZG.get_or_init(|| Arc::new(KzgProver::new(ProverConfig::DEFAULT)))
        .clone()
}

/// The key of test validator `i` (fixed IKM).
pub(crate) fn key(i: u8) -> BlsSecretKey {
    BlsSecretKey::from_ikm(&[i; 32])
}

/// A genesis of `chain` whose validators are `(key index, power)`.
pub(crate) fn genesis(chain: &str, validators: &[(u8, u64)]) -> Genesis {
    Genesis {
        chain_id: chain.into(),
        genesis_time_ms: 1_000,
        validators: validators
            .iter()
            .map(|&(i, p)| GenesisValidator::new(&key(i), p))
            .collect(),
        max_square_k: 64,
        dedup_window: da_types::DEFAULT_DEDUP_WINDOW,
        attestation_window: 4,
    }
}

/// The trust of `chain` with validator 1 alone.
pub(crate) fn solo_trust(chain: &str) -> Trust {
    Trust::from_genesis(&genesis(chain, &[(1, 1)])).expect("genesis")
}

/// Validator 1 of [`solo_trust`], building and certifying blocks.
pub(crate) fn solo(chain: &str) -> SoloValidator {
    SoloValidator::new(key(1), solo_trust(chain), kzg(), Arc::new(Metrics::new()))
        .expect("solo validator")
}

//! Seeded generators: reproducible bytes and namespaces for tests and benchmarks.

use da_types::Namespace;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `len` pseudo-random bytes, the same for the same `seed` (ChaCha8).
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    ChaCha8Rng::seed_from_u64(seed).fill_bytes(&mut out);
    out
}

/// A version-0 user namespace from a tag of 2 to 10 bytes (a 1-byte tag lands in the reserved
/// range and panics).
pub fn namespace(tag: &[u8]) -> Namespace {
    Namespace::new_v0(tag).expect("a user namespace: a tag of 2 to 10 bytes")
}

/// The 29 raw bytes of the version-0 user namespace `…42 b` (for requests built by hand).
pub fn namespace_bytes(b: u8) -> Vec<u8> {
    let mut v = vec![0u8; 29];
    v[27] = 0x42;
    v[28] = b;
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_depend_on_the_seed_only() {
        assert_eq!(bytes(7, 1000), bytes(7, 1000));
        assert_ne!(bytes(7, 1000), bytes(8, 1000));
        assert_eq!(bytes(7, 10), bytes(7, 1000)[..10]);
    }

    #[test]
    fn namespaces_are_valid_user_namespaces() {
        assert_eq!(namespace(b"alpha"), namespace(b"alpha"));
        assert_ne!(namespace(b"alpha"), namespace(b"beta"));
        assert!(Namespace::new_blob(&namespace_bytes(3)).is_ok());
    }
}

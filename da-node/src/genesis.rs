//! The files a node's trust and validator identity come from (`specs/05-header.md` §Genesis
//! file, `specs/07-storage.md` §Data dir): `genesis.json` (the chain id, genesis time, validator
//! set and `max_square_k`) and `validator_key` (a BLS12-381 secret key, 32 bytes as hex or raw,
//! mode 0600), and how `da-node init`, the devnet and tests create a one-validator chain.
//!
//! It owns reading, checking and writing these files; every failure names the file and is a
//! [`NodeError::Genesis`] or [`NodeError::ValidatorKey`], so the CLI can tell them apart.

use std::{
    io::Write,
    path::Path,
    time::{SystemTime, UNIX_EPOCH},
};

use da_types::{bls::SECRET_KEY_LEN, BlsSecretKey, Genesis, GenesisValidator, Trust};
use tracing::warn;
use zeroize::Zeroize;

use crate::error::{NodeError, Result};

/// Name of the genesis file in a data dir.
pub const GENESIS_FILE: &str = "genesis.json";
/// Name of the validator key file in a data dir (next to the p2p `node.key`).
pub const VALIDATOR_KEY_FILE: &str = "validator_key";

/// Reads and checks a genesis file (JSON, every proof of possession verified).
pub fn read_genesis(path: &Path) -> Result<Genesis> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(NodeError::Genesis(format!(
                "genesis file {} not found: run `da-node init` or pass --genesis PATH",
                path.display()
            )))
        }
        Err(e) => {
            return Err(NodeError::Genesis(format!(
                "genesis file {}: {e}",
                path.display()
            )))
        }
    };
    Genesis::from_json(&text)
        .map_err(|e| NodeError::Genesis(format!("genesis file {}: {e}", path.display())))
}

/// Reads a genesis file and builds the [`Trust`] it defines.
pub fn read_trust(path: &Path) -> Result<Trust> {
    let genesis = read_genesis(path)?;
    Trust::from_genesis(&genesis)
        .map_err(|e| NodeError::Genesis(format!("genesis file {}: {e}", path.display())))
}

/// Writes `genesis` as JSON to `path`, refusing to replace an existing file.
pub fn write_genesis(path: &Path, genesis: &Genesis) -> Result<()> {
    let mut text = genesis.to_json();
    text.push('\n');
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| NodeError::Genesis(format!("writing {}: {e}", path.display())))?;
    f.write_all(text.as_bytes())
        .map_err(|e| NodeError::Genesis(format!("writing {}: {e}", path.display())))
}

/// Reads a validator key: 32 bytes, either raw or as hex (64 digits, an optional `0x`, and
/// surrounding whitespace allowed). Warns when the file is readable by others than its owner.
pub fn read_validator_key(path: &Path) -> Result<BlsSecretKey> {
    let bad =
        |why: String| NodeError::ValidatorKey(format!("validator key {}: {why}", path.display()));
    let mut raw = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(bad(
                "not found: run `da-node init`, or run as a full node (role = full)".into(),
            ))
        }
        Err(e) => return Err(bad(e.to_string())),
    };
    warn_if_shared(path);
    let parsed = parse_secret(&raw);
    raw.zeroize();
    let mut bytes = parsed.ok_or_else(|| {
        bad(format!(
            "not a {SECRET_KEY_LEN}-byte secret key (raw, or {} hex digits)",
            2 * SECRET_KEY_LEN
        ))
    })?;
    let key = BlsSecretKey::from_bytes(&bytes).map_err(|e| bad(e.to_string()));
    bytes.zeroize();
    key
}

/// The 32 secret bytes of a key file's content: exactly 32 raw bytes, or hex.
fn parse_secret(raw: &[u8]) -> Option<[u8; SECRET_KEY_LEN]> {
    if raw.len() == SECRET_KEY_LEN {
        let mut out = [0u8; SECRET_KEY_LEN];
        out.copy_from_slice(raw);
        return Some(out);
    }
    let text = std::str::from_utf8(raw).ok()?.trim();
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let mut bytes = hex::decode(digits).ok()?;
    let out = <[u8; SECRET_KEY_LEN]>::try_from(bytes.as_slice()).ok();
    bytes.zeroize();
    out
}

#[cfg(unix)]
fn warn_if_shared(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = std::fs::metadata(path) {
        let mode = m.permissions().mode();
        if mode & 0o077 != 0 {
            warn!(
                path = %path.display(),
                mode = format!("{:o}", mode & 0o777),
                "the validator key is readable by others than its owner; chmod 600 it"
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_path: &Path) {}

/// Creates a fresh validator key at `path` (hex, mode 0600), refusing to replace a file.
pub fn create_validator_key(path: &Path) -> Result<BlsSecretKey> {
    let key = BlsSecretKey::generate(&mut rand::rngs::OsRng);
    write_validator_key(path, &key)?;
    Ok(key)
}

/// Writes `key` to `path` as hex with mode 0600, refusing to replace a file.
pub fn write_validator_key(path: &Path, key: &BlsSecretKey) -> Result<()> {
    let bad = |e: std::io::Error| {
        NodeError::ValidatorKey(format!("writing validator key {}: {e}", path.display()))
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(bad)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(bad)?;
    let mut secret = key.to_bytes();
    let mut text = hex::encode(secret);
    secret.zeroize();
    text.push('\n');
    let written = f.write_all(text.as_bytes());
    text.zeroize();
    written.map_err(bad)
}

/// Milliseconds since the Unix epoch, now.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A genesis in which `key`'s holder is the only validator (power 1), starting now.
pub fn solo_genesis(chain_id: &str, key: &BlsSecretKey, max_square_k: u16) -> Genesis {
    Genesis {
        chain_id: chain_id.into(),
        genesis_time_ms: now_ms(),
        validators: vec![GenesisValidator::new(key, 1)],
        max_square_k,
        dedup_window: da_types::DEFAULT_DEDUP_WINDOW,
        attestation_window: da_types::attestation::DEFAULT_ATTESTATION_WINDOW,
    }
}

/// What [`init_solo`] made.
#[derive(Debug)]
pub struct SoloChain {
    /// The new validator key (written to `validator_key`).
    pub key: BlsSecretKey,
    /// The genesis (written to `genesis.json`).
    pub genesis: Genesis,
}

/// Writes a fresh `validator_key` and a one-validator `genesis.json` for `chain_id` into `dir`,
/// refusing to replace either file. `max_square_k` is the genesis bound on `k`.
pub fn init_solo(dir: &Path, chain_id: &str, max_square_k: u16) -> Result<SoloChain> {
    let genesis_path = dir.join(GENESIS_FILE);
    if genesis_path.exists() {
        return Err(NodeError::Genesis(format!(
            "{} exists; not overwriting",
            genesis_path.display()
        )));
    }
    let key = create_validator_key(&dir.join(VALIDATOR_KEY_FILE))?;
    let genesis = solo_genesis(chain_id, &key, max_square_k);
    genesis
        .validate()
        .map_err(|e| NodeError::Genesis(format!("new genesis for {chain_id:?}: {e}")))?;
    write_genesis(&genesis_path, &genesis)?;
    Ok(SoloChain { key, genesis })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_writes_a_private_key_and_a_genesis_that_read_back() {
        let dir = tempfile::tempdir().expect("tmp");
        let made = init_solo(dir.path(), "gen-test", 64).expect("init");
        let key = read_validator_key(&dir.path().join(VALIDATOR_KEY_FILE)).expect("key");
        assert_eq!(key.public_key(), made.key.public_key());
        let trust = read_trust(&dir.path().join(GENESIS_FILE)).expect("genesis");
        assert_eq!(trust.chain_id(), "gen-test");
        assert_eq!(trust.max_square_k(), 64);
        assert_eq!(trust.set().index_of(&key.public_key()), Some(0));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(VALIDATOR_KEY_FILE))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Neither file is ever replaced.
        let again = init_solo(dir.path(), "gen-test", 64).expect_err("exists");
        assert!(again.to_string().contains("not overwriting"), "{again}");
        let again = create_validator_key(&dir.path().join(VALIDATOR_KEY_FILE)).expect_err("exists");
        assert!(matches!(again, NodeError::ValidatorKey(_)), "{again}");
    }

    #[test]
    fn keys_are_read_as_raw_or_hex_and_bad_ones_named() {
        let dir = tempfile::tempdir().expect("tmp");
        let key = BlsSecretKey::from_ikm(&[7; 32]);
        let secret = key.to_bytes();
        for (name, content) in [
            ("raw", secret.to_vec()),
            ("hex", hex::encode(secret).into_bytes()),
            ("0x", format!("  0x{}\n", hex::encode(secret)).into_bytes()),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, content).expect("write");
            let got = read_validator_key(&p).expect(name);
            assert_eq!(got.public_key(), key.public_key(), "{name}");
        }
        for (name, content) in [
            ("short", vec![1u8; 31]),
            ("long_hex", hex::encode([1u8; 33]).into_bytes()),
            ("not_hex", b"zz".repeat(32)),
            ("zero", vec![0u8; 32]),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, content).expect("write");
            let e = read_validator_key(&p).expect_err(name);
            assert!(matches!(e, NodeError::ValidatorKey(_)), "{name}: {e}");
            assert!(e.to_string().contains(&p.display().to_string()), "{e}");
        }
        let missing = read_validator_key(&dir.path().join("none")).expect_err("missing");
        assert!(missing.to_string().contains("not found"), "{missing}");
    }

    #[test]
    fn missing_and_invalid_genesis_files_are_named() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join(GENESIS_FILE);
        let e = read_genesis(&p).expect_err("missing");
        assert!(matches!(e, NodeError::Genesis(_)));
        assert!(e.to_string().contains("not found"), "{e}");
        std::fs::write(&p, "{}").expect("write");
        let e = read_genesis(&p).expect_err("invalid");
        assert!(e.to_string().contains(&p.display().to_string()), "{e}");
        // A proof of possession that is not the key's is refused.
        let mut g = solo_genesis("gen-test", &BlsSecretKey::from_ikm(&[1; 32]), 64);
        g.validators[0].proof_of_possession =
            BlsSecretKey::from_ikm(&[2; 32]).proof_of_possession();
        std::fs::write(&p, g.to_json()).expect("write");
        let e = read_genesis(&p).expect_err("bad pop");
        assert!(e.to_string().contains("proof of possession"), "{e}");
    }
}

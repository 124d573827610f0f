//! What the process tests share: free ports and `da-node init`.

use std::{net::TcpListener, path::Path, process::Command};

/// A free TCP port on 127.0.0.1.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// `da-node init --chain-id CHAIN` in `dir`: a validator key and a one-validator genesis.
pub(crate) fn init(dir: &Path, chain: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_da-node"))
        .args(["init", "--chain-id", chain, "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run da-node init");
    assert!(
        out.status.success(),
        "init failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

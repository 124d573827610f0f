//! The `da-node` binary's `init` and `run` start-up paths: what `init` writes (config, node key,
//! a private validator key, a one-validator genesis, or a copy of a given genesis), and the clear
//! errors and exit codes of `run` for a missing or invalid genesis, an unusable validator key and
//! a data dir of the old storage format, and a redirected log free of colour codes. No node runs
//! for long here.

use std::{
    path::Path,
    process::{Command, Output},
};

use da_types::{Genesis, Trust};

fn da_node(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_da-node"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env("RUST_LOG", "warn")
        .env_remove("DA_NODE_CHAIN_ID")
        .env_remove("DA_NODE_GENESIS")
        .output()
        .expect("run da-node")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn genesis_of(dir: &Path) -> Genesis {
    Genesis::from_json(&std::fs::read_to_string(dir.join("genesis.json")).expect("read"))
        .expect("a valid genesis")
}

#[test]
fn init_writes_a_private_validator_key_and_a_one_validator_genesis() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("node");
    let out = da_node(&["init", "--chain-id", "cli-init"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("role = producer"), "{stdout}");
    for f in ["config.toml", "node.key", "validator_key", "genesis.json"] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("validator_key"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "validator_key mode {mode:o}");
    }
    let genesis = genesis_of(&dir);
    assert_eq!(genesis.chain_id, "cli-init");
    assert_eq!(genesis.validators.len(), 1);
    assert_eq!(genesis.validators[0].power, 1);
    let key = da_node::genesis::read_validator_key(&dir.join("validator_key")).expect("key");
    assert_eq!(genesis.validators[0].public_key, key.public_key());
    Trust::from_genesis(&genesis).expect("proof of possession verifies");
    // A second init refuses to overwrite anything.
    let again = da_node(&["init", "--chain-id", "cli-init"], &dir);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("not overwriting"),
        "{}",
        stderr(&again)
    );

    // Joining that chain: init with its genesis copies it, and the new node (not a validator)
    // is configured as a full node.
    let other = tmp.path().join("joiner");
    let path = dir.join("genesis.json");
    let out = da_node(&["init", "--genesis", path.to_str().expect("utf8")], &other);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(genesis_of(&other), genesis);
    let config = std::fs::read_to_string(other.join("config.toml")).expect("config");
    assert!(config.contains("role = \"full\""), "{config}");
    assert!(other.join("validator_key").exists());
    // A genesis of another chain than the one asked for is refused.
    let out = da_node(
        &[
            "init",
            "--chain-id",
            "elsewhere",
            "--genesis",
            path.to_str().expect("utf8"),
        ],
        &tmp.path().join("third"),
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

#[test]
fn run_fails_clearly_without_a_usable_genesis_or_validator_key() {
    let tmp = tempfile::tempdir().expect("tmp");
    let run = |dir: &Path, extra: &[&str]| {
        let mut args = vec![
            "run",
            "--chain-id",
            "cli-run",
            "--grpc-addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(extra);
        da_node(&args, dir)
    };

    // No genesis at all.
    let empty = tmp.path().join("empty");
    let out = run(&empty, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("genesis file") && stderr(&out).contains("not found"),
        "{}",
        stderr(&out)
    );
    // An invalid genesis, given by path.
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, "{\"chain_id\": 1}").expect("write");
    let out = run(&empty, &["--genesis", bad.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("bad.json"), "{}", stderr(&out));

    // A producer whose validator key is garbage, or missing.
    let node = tmp.path().join("node");
    let out = da_node(&["init", "--chain-id", "cli-run"], &node);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(node.join("validator_key"), "not a key").expect("write");
    let out = run(&node, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("validator key"), "{}", stderr(&out));
    std::fs::remove_file(node.join("validator_key")).expect("rm");
    let out = run(&node, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
    // A key that is valid but not in the genesis set.
    let stranger = da_types::BlsSecretKey::from_ikm(&[3; 32]);
    da_node::genesis::write_validator_key(&node.join("validator_key"), &stranger).expect("write");
    let out = run(&node, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not in the genesis validator set"),
        "{}",
        stderr(&out)
    );
    // The genesis of another chain.
    let out = da_node(
        &[
            "run",
            "--chain-id",
            "not-cli-run",
            "--grpc-addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
        ],
        &node,
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("is for chain"), "{}", stderr(&out));
}

#[test]
fn run_refuses_a_data_dir_of_the_old_storage_format() {
    let tmp = tempfile::tempdir().expect("tmp");
    let node = tmp.path().join("node");
    let out = da_node(&["init", "--chain-id", "cli-old"], &node);
    assert!(out.status.success(), "{}", stderr(&out));
    // What an ed25519 (format 1) node left in its data dir: blocks and no format record.
    {
        let db_path = node.join("db");
        drop(da_node::store::RocksStore::open(&db_path).expect("db"));
        let opts = rocksdb::Options::default();
        let cfs = rocksdb::DB::list_cf(&opts, &db_path).expect("cfs");
        let db = rocksdb::DB::open_cf(&opts, &db_path, &cfs).expect("db");
        let meta = db.cf_handle("meta").expect("meta");
        db.delete_cf(meta, b"format").expect("delete");
        db.put_cf(meta, b"head", 7u64.to_be_bytes()).expect("put");
    }
    let out = da_node(
        &[
            "run",
            "--chain-id",
            "cli-old",
            "--grpc-addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
        ],
        &node,
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "holds format 1 (ed25519 headers); this node needs format 2; move it away or re-init"
        ),
        "{err}"
    );
}

/// `da-node run` with its log redirected to a file writes plain text: no ANSI colour codes.
#[test]
fn a_redirected_log_carries_no_colour_codes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("node");
    let out = da_node(&["init", "--chain-id", "cli-log"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(
        dir.join("config.toml"),
        "chain_id = \"cli-log\"\ngrpc_addr = \"127.0.0.1:0\"\nmetrics_addr = \"127.0.0.1:0\"\n\
         block_time_ms = 100\nprecompute = false\n",
    )
    .expect("config");
    let log_path = tmp.path().join("node.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_da-node"))
        .args(["run", "--data-dir"])
        .arg(&dir)
        .env("RUST_LOG", "info")
        .env_remove("DA_NODE_CHAIN_ID")
        .env_remove("DA_NODE_GENESIS")
        .stdout(log.try_clone().expect("clone"))
        .stderr(log)
        .spawn()
        .expect("spawn da-node");
    let mut text = String::new();
    for _ in 0..600 {
        text = std::fs::read_to_string(&log_path).expect("read log");
        if text.matches("INFO").count() >= 5 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        text.matches("INFO").count() >= 5,
        "too little logged: {text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "escape sequences in a redirected log: {text:?}"
    );
}

//! The `posting-adapter` binary against an in-process devnet: `post FILE` and `post` from stdin
//! print the commitment and a cost line; `get` fetches and verifies; `prove` makes a proof of
//! publication the oracle contract accepts in revm; errors exit with their codes.

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

use da_cli::devnet::{Devnet, DevnetOptions};
use da_testkit::gen::bytes as demo_bytes;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_posting-adapter"))
}

async fn run(mut cmd: Command, stdin: Option<Vec<u8>>) -> Output {
    tokio::task::spawn_blocking(move || {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn posting-adapter");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(&input)
                .expect("write stdin");
        }
        child.wait_with_output().expect("wait")
    })
    .await
    .expect("join")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_and_get_through_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    let net = Devnet::start(DevnetOptions {
        block_time_ms: 200,
        token: "secret".into(),
        ..DevnetOptions::local(dir.path().join("net"), "cli")
    })
    .await
    .expect("devnet");
    let node = format!("http://{}", net.submit_addr());
    let genesis = net.genesis.to_str().expect("utf8").to_string();
    let with_node = |args: &[&str]| {
        let mut c = bin();
        c.args([
            "--node",
            &node,
            "--token",
            "secret",
            "--namespace",
            "cli-test",
        ]);
        c.args(["--genesis", &genesis]);
        c.args(args);
        c
    };

    // post FILE
    let batch = demo_bytes(3, 50_000);
    let file = dir.path().join("batch.bin");
    std::fs::write(&file, &batch).expect("write");
    let out = run(with_node(&["post", file.to_str().expect("utf8")]), None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let commitment = text(&out.stdout).trim().to_string();
    assert!(commitment.starts_with("0x0144"), "{commitment}");
    let err = text(&out.stderr);
    assert!(err.contains("cost: L1 commitment 44 bytes"), "{err}");
    assert!(err.contains("as EIP-4844: 1 blob(s)"), "{err}");

    // get COMMITMENT --out F, verified against a header certified by the genesis validators
    let back = dir.path().join("back.bin");
    let out = run(
        with_node(&["get", &commitment, "--out", back.to_str().expect("utf8")]),
        None,
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&back).expect("read"), batch);

    // post from stdin, get to stdout
    let small = b"\x00hello".to_vec();
    let out = run(with_node(&["post", "-"]), Some(small.clone())).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let c2 = text(&out.stdout).trim().to_string();
    let out = run(with_node(&["get", &c2]), None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(out.stdout, small);

    // Several nodes: the first is down, the adapter fails over to the next one.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        format!("http://127.0.0.1:{port}")
    };
    let mut both = bin();
    both.args([
        "--node",
        &format!("{dead},{node}"),
        "--token",
        "secret",
        "--namespace",
        "cli-test",
        "post",
        "-",
    ]);
    let out = run(both, Some(b"\x00failover".to_vec())).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let c3 = text(&out.stdout).trim().to_string();
    let out = run(with_node(&["get", &c3]), None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(out.stdout, b"\x00failover");

    // prove COMMITMENT: a proof of publication of one byte of the first batch, waiting for its
    // attestation window to end; checked by the oracle contract in revm after relaying the
    // window's certified header, as a rollup's L1 contract would call it.
    let offset = 40_000u64;
    let proof_file = dir.path().join("proof.json");
    let out = run(
        with_node(&[
            "prove",
            &commitment,
            "--byte",
            &offset.to_string(),
            "--wait",
            "120",
            "--out",
            proof_file.to_str().expect("utf8"),
        ]),
        None,
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("attestation window"),
        "{}",
        text(&out.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&proof_file).expect("read proof"))
            .expect("proof JSON");
    let p = posting_adapter::proof_json::from_json(&json).expect("a proof");
    assert_eq!(posting_adapter::proof_json::to_json(&p), json);
    assert_eq!(p.byte, batch[offset as usize]);
    assert!(p.proof.verify(&p.tuple_root, p.window));
    let trust = da_types::Trust::from_genesis(
        &da_types::Genesis::from_json(&std::fs::read_to_string(&net.genesis).expect("genesis"))
            .expect("genesis"),
    )
    .expect("trust");
    let headers =
        da_client::DaClient::new(da_client::ClientConfig::new(node.clone())).expect("client");
    let mut relayer = da_l1::Relayer::deploy(&trust).expect("deploy the oracle");
    let (_, window_end) =
        da_types::attestation::window_heights(p.proof.nonce, p.window).expect("window");
    while relayer.next_height() <= window_end {
        let h = headers
            .header(relayer.next_height())
            .await
            .expect("window header");
        relayer.relay(&h).expect("relayed");
    }
    let oracle = relayer.oracle();
    let on_l1 = relayer
        .l1()
        .verify_blob_element(oracle, &p.proof)
        .expect("call");
    assert!(on_l1.value, "the oracle accepts the CLI's proof");
    let mut forged = p.proof.clone();
    forged.openings.last_mut().expect("the element").value[31] ^= 1;
    let on_l1 = relayer
        .l1()
        .verify_blob_element(oracle, &forged)
        .expect("call");
    assert!(!on_l1.value, "the oracle rejects a changed value");
    // prove's errors: no genesis (2), a byte past the blob's end (2).
    let mut no_trust = bin();
    no_trust.args([
        "--node",
        &node,
        "--namespace",
        "cli-test",
        "prove",
        &commitment,
    ]);
    let out = run(no_trust, None).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("prove needs --genesis"),
        "{}",
        text(&out.stderr)
    );
    let out = run(with_node(&["prove", &commitment, "--byte", "50000"]), None).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("past the end"),
        "{}",
        text(&out.stderr)
    );

    // Errors and their exit codes.
    let out = run(with_node(&["get", "0xzz"]), None).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("hex"));
    let unknown = format!("0x0144000000000000000001{}", "77".repeat(32));
    let out = run(with_node(&["get", &unknown]), None).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let out = run(with_node(&["post", "-"]), Some(Vec::new())).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let mut wrong_token = bin();
    wrong_token.args(["--node", &node, "--token", "nope", "post", "-"]);
    let out = run(wrong_token, Some(b"x".to_vec())).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("misconfigured"));
    let mut bad_ns = bin();
    bad_ns.args([
        "--node",
        &node,
        "--namespace",
        "this-is-too-long",
        "post",
        "-",
    ]);
    let out = run(bad_ns, Some(b"x".to_vec())).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("namespace"));
    // A missing genesis file is named.
    let mut no_genesis = bin();
    no_genesis.args([
        "--node",
        &node,
        "--genesis",
        "/nonexistent/genesis.json",
        "get",
        &c2,
    ]);
    let out = run(no_genesis, None).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("/nonexistent/genesis.json"));
    // The genesis of another validator set: the node's headers are not certified by it, so
    // the data fails verification (exit 4) although its bytes match the commitment.
    let other = dir.path().join("other-genesis.json");
    let stranger = da_types::BlsSecretKey::from_ikm(&[5; 32]);
    let other_genesis = da_types::Genesis {
        chain_id: "cli".into(),
        genesis_time_ms: 0,
        validators: vec![da_types::GenesisValidator::new(&stranger, 1)],
        max_square_k: 64,
        dedup_window: da_types::DEFAULT_DEDUP_WINDOW,
        attestation_window: 0,
    };
    std::fs::write(&other, other_genesis.to_json()).expect("write");
    let mut untrusted = bin();
    untrusted.args([
        "--node",
        &node,
        "--namespace",
        "cli-test",
        "--genesis",
        other.to_str().expect("utf8"),
        "get",
        &c2,
    ]);
    let out = run(untrusted, None).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("validator set"),
        "{}",
        text(&out.stderr)
    );
    net.shutdown().await;

    let mut down = bin();
    down.args(["--node", &node, "--token", "secret", "post", "-"]);
    let out = run(down, Some(b"x".to_vec())).await;
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
}

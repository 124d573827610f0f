//! `da-node devnet --validators 4` as an operator meets it: four validator processes, a full
//! node, a light client and the demo load; `devnet.json` lists each validator's pid, and
//! `kill -9` of one leaves the chain going on (three of four still decide, every header
//! certified by more than 2/3 of the power). The restart command written in `devnet.json`
//! brings the killed validator back, and it catches up. Ctrl-C (SIGINT) stops the devnet and
//! every validator process it started.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use da_client::{ClientConfig, DaClient};
use da_types::{Genesis, Trust};

/// The devnet process; killed if the test fails before it stops it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as i32, 0) == 0 }
}

async fn head(url: &str) -> u64 {
    let Ok(c) = DaClient::new(ClientConfig::new(url.to_string())) else {
        return 0;
    };
    match tokio::time::timeout(Duration::from_secs(2), c.head()).await {
        Ok(Ok(h)) => h.height(),
        _ => 0,
    }
}

async fn until_head(url: &str, height: u64, what: &str) {
    for _ in 0..900 {
        if head(url).await >= height {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out waiting for {what} to reach height {height}");
}

fn read_info(dir: &Path) -> Option<serde_json::Value> {
    let bytes = std::fs::read(dir.join("devnet.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_devnet_of_four_validator_processes_survives_a_kill_9_and_stops_cleanly() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("devnet");
    let mut child = Command::new(env!("CARGO_BIN_EXE_da-node"))
        .args([
            "devnet",
            "--validators",
            "4",
            "--base-port",
            "0",
            "--block-time-ms",
            "500",
            "--light-clients",
            "1",
            "--demo-load",
            "0.05",
            "--token",
            "t",
            "--data-dir",
        ])
        .arg(&dir)
        // Without RUST_LOG the log goes to devnet.log and the console holds the human lines.
        .env_remove("RUST_LOG")
        .env_remove("DA_NODE_DATA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the devnet");
    // The console, kept for the assertions.
    let console = Arc::new(Mutex::new(String::new()));
    let stdout = child.stdout.take().expect("stdout");
    let sink = console.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let mut c = sink.lock().expect("console");
            c.push_str(&line);
            c.push('\n');
        }
    });
    let devnet = Running(child);
    let console_has = |s: &str| console.lock().expect("console").contains(s);

    // devnet.json appears once everything is up.
    let mut info = None;
    for _ in 0..900 {
        if console_has("Ctrl-C to stop") {
            info = read_info(&dir);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let info = info.unwrap_or_else(|| {
        panic!(
            "the devnet did not come up:\n{}",
            console.lock().expect("console")
        )
    });
    let nodes = info["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 5, "{info}");
    let validators: Vec<&serde_json::Value> =
        nodes.iter().filter(|n| n["role"] == "validator").collect();
    assert_eq!(validators.len(), 4);
    let pids: Vec<u32> = validators
        .iter()
        .map(|v| v["pid"].as_u64().expect("a pid") as u32)
        .collect();
    let own = std::process::id();
    for &pid in &pids {
        assert!(alive(pid), "validator pid {pid} is not running");
        assert_ne!(pid, own);
    }
    let full = nodes
        .iter()
        .find(|n| n["role"] == "full")
        .expect("a full node");
    assert!(
        full.get("pid").is_none(),
        "the full node runs in the devnet"
    );
    let full_url = full["grpc"].as_str().expect("url").to_string();
    let genesis = Genesis::from_json(
        &std::fs::read_to_string(info["genesis"].as_str().expect("genesis")).expect("read"),
    )
    .expect("genesis");
    let trust = Trust::from_genesis(&genesis).expect("valid genesis");
    assert_eq!(trust.set().len(), 4);

    until_head(&full_url, 3, "the full node").await;

    // kill -9 validator 1: the chain goes on.
    let killed = pids[1];
    // SAFETY: sends SIGKILL to a process this test's devnet started.
    assert_eq!(unsafe { libc::kill(killed as i32, libc::SIGKILL) }, 0);
    let at_kill = head(&full_url).await;
    until_head(&full_url, at_kill + 4, "the chain without validator 1").await;
    for _ in 0..50 {
        if console_has(&format!("(pid {killed}) exited")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        console_has(&format!("validator 1 (pid {killed}) exited")),
        "the console did not report the crash:\n{}",
        console.lock().expect("console")
    );
    // Every header the full node holds is certified by more than 2/3 of the power; those
    // decided without validator 1 carry at most three signatures.
    let client = DaClient::new(ClientConfig::new(full_url.clone())).expect("client");
    let now = head(&full_url).await;
    let mut without = 0;
    for h in 1..=now {
        let header = client.header(h).await.expect("header");
        let power = trust.verify(&header).expect("a valid certificate");
        assert!(trust.set().has_quorum(power));
        if h > at_kill + 1 {
            assert!(header.certificate.signers.count() <= 3);
            without += 1;
        }
    }
    assert!(
        without >= 2,
        "{without} heights decided without validator 1"
    );

    // The restart command of devnet.json brings it back; it catches up.
    let restart = validators[1]["restart"]
        .as_str()
        .expect("a restart command");
    let mut back = Running(
        Command::new("sh")
            .args(["-c", &format!("exec {restart}")])
            .env("RUST_LOG", "warn")
            .spawn()
            .expect("restart validator 1"),
    );
    let v1_url = validators[1]["grpc"].as_str().expect("url");
    let target = head(&full_url).await + 2;
    until_head(v1_url, target, "the restarted validator 1").await;
    let restarted = DaClient::new(ClientConfig::new(v1_url.to_string())).expect("client");
    for h in 1..=target {
        assert_eq!(
            restarted.header(h).await.expect("header").id(),
            client.header(h).await.expect("header").id(),
            "validator 1 differs at height {h}"
        );
    }
    let _ = back.0.kill();
    let _ = back.0.wait();

    // A light client found blocks available.
    assert!(
        console_has("light client 0: available"),
        "no light-client verdict on the console:\n{}",
        console.lock().expect("console")
    );

    // The console is for people: no log lines, no escape codes. The log is in devnet.log, as
    // plain text; the light client's API URL is on the console and in devnet.json.
    let text = console.lock().expect("console").clone();
    assert!(
        !text.contains(" INFO ") && !text.contains('\u{1b}'),
        "log lines on the console:\n{text}"
    );
    let log_path = dir.join("devnet.log");
    assert!(
        text.contains(&format!("log: {}", log_path.display())),
        "{text}"
    );
    let log = std::fs::read_to_string(&log_path).expect("devnet.log");
    assert!(log.contains(" INFO "), "devnet.log: {log}");
    assert!(!log.contains('\u{1b}'), "escape codes in devnet.log");
    let api = info["light_clients"][0]["api"]
        .as_str()
        .expect("the light client's API URL");
    assert!(
        text.contains(&format!("light client 0  API {api}")),
        "{text}"
    );

    // The devnet relays every window (16 heights) to its L1 oracle in revm.
    let window = info["l1"]["window"]
        .as_u64()
        .expect("an L1 oracle in devnet.json");
    assert_eq!(window, trust.attestation_window());
    assert!(info["l1"]["oracle"]
        .as_str()
        .is_some_and(|a| a.starts_with("0x")));
    until_head(&full_url, window + 1, "the end of the first window").await;
    let attested = format!("L1: window 1 (heights 1..={window}) attested");
    for _ in 0..100 {
        if console_has(&attested) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        console_has(&attested),
        "the first window was not relayed:\n{}",
        console.lock().expect("console")
    );

    // Ctrl-C: the devnet stops, and with it every validator it started.
    let mut devnet = devnet;
    // SAFETY: sends SIGINT to the devnet process this test started.
    unsafe {
        libc::kill(devnet.0.id() as i32, libc::SIGINT);
    }
    let mut status = None;
    for _ in 0..300 {
        if let Ok(Some(s)) = devnet.0.try_wait() {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = status.expect("the devnet stops within 30 s of Ctrl-C");
    assert!(status.success(), "devnet exit status {status}");
    for (i, &pid) in pids.iter().enumerate() {
        assert!(
            !alive(pid) || i == 1,
            "validator {i} (pid {pid}) still runs"
        );
    }
}

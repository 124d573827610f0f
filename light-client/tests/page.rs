//! The light client's page in a real browser: headless Chromium driven over WebDriver
//! (Debian's `chromium` and `chromium-driver`; `.ci/run` installs them) against a real devnet
//! whose validators withhold half of heights 3 and 4. The page loads without console errors,
//! its head advances, recent heights show available, exactly the withheld heights show
//! unavailable, the square of a withheld height marks a missing cell, and it fits a phone's
//! width; the full node's status page (on its metrics address) too. Screenshots go to
//! `target/tmp/page/` (the README's is `page.png` from there).
//!
//! `DA_CHROMIUM` and `DA_CHROMEDRIVER` override `/usr/bin/chromium` and `/usr/bin/chromedriver`.

use std::{path::PathBuf, process::Stdio, time::Duration};

use serde_json::{json, Value};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// A WebDriver session over plain HTTP/1.1 (one connection per command).
struct Driver {
    port: u16,
    session: String,
}

async fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(60), http_once(port, method, path, body))
        .await
        .unwrap_or_else(|_| panic!("chromedriver did not answer {method} {path} in 60 s"))
}

async fn http_once(port: u16, method: &str, path: &str, body: Option<&Value>) -> Value {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to chromedriver");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    // Read the head, then exactly Content-Length bytes (chromedriver may keep the connection).
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let (head_len, body_len) = loop {
        let n = s.read(&mut chunk).await.expect("read");
        assert!(
            n > 0,
            "{method} {path}: connection closed before the response ended"
        );
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or_else(|| panic!("{method} {path}: no Content-Length in {head}"));
            break (end + 4, len);
        }
    };
    while buf.len() < head_len + body_len {
        let n = s.read(&mut chunk).await.expect("read");
        assert!(
            n > 0,
            "{method} {path}: connection closed before the body ended"
        );
        buf.extend_from_slice(&chunk[..n]);
    }
    let payload = String::from_utf8_lossy(&buf[head_len..head_len + body_len]);
    serde_json::from_str(&payload).unwrap_or_else(|e| panic!("{method} {path}: {e}: {payload}"))
}

impl Driver {
    async fn start(port: u16, chromium: &str) -> Self {
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,1000"],
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        }}});
        let v = http(port, "POST", "/session", Some(&caps)).await;
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        Self { port, session }
    }

    async fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let p = format!("/session/{}{path}", self.session);
        let v = http(self.port, method, &p, body.as_ref()).await;
        if v["value"]["error"].is_string() {
            panic!("{method} {path}: {v}");
        }
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url }))).await;
    }

    async fn js(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    async fn window(&self, width: u32, height: u32) {
        self.cmd(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await;
    }

    async fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine;
        let v = self.cmd("GET", "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("base64"))
            .expect("png");
        std::fs::write(path, png).expect("write screenshot");
    }

    /// Browser console entries since the last call (`SEVERE` is an error).
    async fn console(&self) -> Vec<Value> {
        let v = self
            .cmd("POST", "/se/log", Some(json!({ "type": "browser" })))
            .await;
        v.as_array().cloned().unwrap_or_default()
    }

    async fn quit(self) {
        let p = format!("/session/{}", self.session);
        http(self.port, "DELETE", &p, None).await;
    }
}

/// The page's strip as `(height, state)` pairs, oldest first.
const STRIP: &str = "return [...document.querySelectorAll('#strip .h')]\
     .map(b => [Number(b.dataset.height), b.dataset.state]);";

fn strip(v: &Value) -> Vec<(u64, String)> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|p| {
            (
                p[0].as_u64().expect("height"),
                p[1].as_str().expect("state").to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_a_live_chain_and_exactly_the_withheld_heights_unavailable() {
    let chromium = std::env::var("DA_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let chromedriver =
        std::env::var("DA_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    for bin in [&chromium, &chromedriver] {
        assert!(
            std::path::Path::new(bin).exists(),
            "{bin} is missing: install Debian's chromium and chromium-driver (.ci/run does)"
        );
    }
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("page");
    std::fs::create_dir_all(&shots).expect("screenshot dir");

    let dir = tempfile::tempdir().expect("tmp");
    let net = da_cli::devnet::Devnet::start(da_cli::devnet::DevnetOptions {
        light_clients: 1,
        withhold: 0.5,
        withhold_heights: vec![3, 4],
        light_sampler: da_light::SamplerConfig {
            patience: Duration::from_secs(3),
            ..Default::default()
        },
        ..da_cli::devnet::DevnetOptions::local(dir.path().to_path_buf(), "devnet-page")
    })
    .await
    .expect("devnet");
    let url = net.light_endpoints[0].api.clone();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut driver_proc = tokio::process::Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .arg(format!(
            "--log-path={}",
            shots.join("chromedriver.log").display()
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver");
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("devnet up, its light client's page at {url}; chromedriver on {port}");
    let d = Driver::start(port, &chromium).await;
    d.goto(&url).await;
    eprintln!("page loaded");

    // The head advances while the page is open (updated from /status).
    let head = |v: Value| v.as_str().and_then(|s| s.parse::<u64>().ok());
    let mut first = None;
    let mut advanced = false;
    for _ in 0..200 {
        let h = head(
            d.js("return document.getElementById('head').textContent")
                .await,
        );
        match (first, h) {
            (None, Some(h)) => first = Some(h),
            (Some(f), Some(h)) if h > f => {
                advanced = true;
                break;
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(advanced, "the page's head did not advance from {first:?}");

    // The strip fills live with verdicts: every final height on it is available, except the
    // withheld 3 and 4, unavailable if the strip still shows them (it shows the newest 64
    // heights, and a slow machine may open the page late).
    let withheld = |h: u64| h == 3 || h == 4;
    let is_final = |s: &str| s == "available" || s == "unavailable";
    let mut last = Vec::new();
    for _ in 0..600 {
        last = strip(&d.js(STRIP).await);
        if last.iter().filter(|(_, s)| is_final(s)).count() >= 8 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        last.iter().filter(|(_, s)| is_final(s)).count() >= 8,
        "fewer than 8 verdicts on the strip: {last:?}"
    );
    for (h, s) in &last {
        if is_final(s) {
            let want = if withheld(*h) {
                "unavailable"
            } else {
                "available"
            };
            assert_eq!(s, want, "height {h} on the strip: {last:?}");
        }
    }
    // The strip's verdicts are what the API says (one source of truth; a height still sampling
    // when the strip was read may have its verdict since, so only verdicts are compared).
    let lc = &net.light[0];
    for (h, s) in last.iter().filter(|(_, s)| is_final(s)) {
        if let Some(st) = lc.status(*h) {
            let api = da_light::api::status_json(*h, &st, None);
            assert_eq!(api["state"], s.as_str(), "height {h}");
        }
    }

    // Each withheld height, opened by its link (`#h=N`): unavailable, its square marks missing
    // cells, the bound in words.
    let detail_js = "const g = document.getElementById('grid'); \
         return [document.getElementById('detail-title').textContent, \
                 document.getElementById('verdict').dataset.state || '', \
                 g.dataset.missing || '', document.getElementById('bound').textContent]";
    for h in [3u64, 4] {
        d.goto("about:blank").await;
        d.goto(&format!("{url}/#h={h}")).await;
        let title = format!("Height {h}");
        let mut detail = Value::Null;
        for _ in 0..100 {
            detail = d.js(detail_js).await;
            if detail[0] == title.as_str()
                && detail[1] == "unavailable"
                && detail[2].as_str().is_some_and(|m| !m.is_empty())
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(detail[0], title.as_str(), "{detail}");
        assert_eq!(detail[1], "unavailable", "height {h}: {detail}");
        let missing: u64 = detail[2].as_str().unwrap_or("0").parse().unwrap_or(0);
        assert!(missing >= 1, "no missing cell drawn at {h}: {detail}");
        assert!(
            detail[3]
                .as_str()
                .is_some_and(|b| b.contains("unrecoverable only if at least")),
            "{detail}"
        );
        if h == 3 {
            d.screenshot(&shots.join("page-withheld.png")).await;
        }
    }
    // An available height, with its bound and signatures in words: the README's screenshot.
    d.goto("about:blank").await;
    d.goto(&url).await;
    let mut avail = None;
    for _ in 0..100 {
        avail = strip(&d.js(STRIP).await)
            .iter()
            .rev()
            .find(|(_, s)| s == "available")
            .map(|(h, _)| *h);
        if avail.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let avail = avail.expect("an available height on the strip");
    d.js(&format!(
        "document.querySelector('#strip .h[data-height=\"{avail}\"]').click(); return null"
    ))
    .await;
    let title = format!("Height {avail}");
    let mut words = Value::Null;
    for _ in 0..100 {
        words = d
            .js(
                "return [document.getElementById('detail-title').textContent, \
                         document.getElementById('verdict').dataset.state || '', \
                         document.getElementById('bound').textContent, \
                         document.getElementById('signatures').textContent]",
            )
            .await;
        if words[0] == title.as_str() && words[1] == "available" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(words[1], "available", "{words}");
    assert!(
        words[2].as_str().is_some_and(|b| b.contains("I checked")),
        "{words}"
    );
    assert!(
        words[3]
            .as_str()
            .is_some_and(|s| s.contains("voting power")),
        "{words}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await; // peers and catch-up polled
    d.screenshot(&shots.join("page.png")).await;

    // A phone's width: nothing wider than the screen.
    d.window(390, 900).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let fits = d
        .js("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    d.screenshot(&shots.join("page-narrow.png")).await;
    assert_eq!(
        fits,
        Value::Bool(true),
        "the page scrolls sideways at 390 px"
    );

    // The full node's status page on its metrics address: the same rules.
    d.window(1280, 1000).await;
    d.goto(&format!("http://{}/", net.full.metrics_addr)).await;
    let mut node = Value::Null;
    for _ in 0..100 {
        node = d
            .js("return [document.getElementById('head').textContent, \
                         document.getElementById('blocks').textContent, \
                         document.getElementById('peers').textContent]")
            .await;
        if node[0]
            .as_str()
            .and_then(|h| h.parse::<u64>().ok())
            .is_some_and(|h| h > 0)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let node_head: u64 = node[0].as_str().and_then(|h| h.parse().ok()).unwrap_or(0);
    assert!(node_head > 0, "the node's page shows no head: {node}");
    assert!(
        node[2]
            .as_str()
            .and_then(|p| p.parse::<u64>().ok())
            .is_some_and(|p| p >= 1),
        "the full node has peers: {node}"
    );
    d.screenshot(&shots.join("node-status.png")).await;
    d.window(390, 900).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fits = d
        .js("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(
        fits,
        Value::Bool(true),
        "the node's page scrolls sideways at 390 px"
    );

    let errors: Vec<Value> = d
        .console()
        .await
        .into_iter()
        .filter(|e| e["level"] == "SEVERE")
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    d.quit().await;
    let _ = driver_proc.kill().await;
    net.shutdown().await;
}

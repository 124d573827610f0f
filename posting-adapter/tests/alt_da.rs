//! Conformance of the posting adapter (the OP Stack Alt-DA DA server) on a real devnet, replaying
//! what op-batcher and op-node send (`../shared/reference/op-alt-da.md` §5): request shapes, raw
//! bodies, status handling; round trips from 1 byte to the largest batch (split over blobs); every
//! error path; a tampered backend; the adapter restarted mid-stream losing nothing acknowledged.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use da_cli::devnet::{Devnet, DevnetOptions};
use da_client::{ClientConfig, DaClient, HeaderTrust};
use da_proto::v1::{
    self as pb,
    blob_service_client::BlobServiceClient,
    blob_service_server::{BlobService, BlobServiceServer},
    header_service_client::HeaderServiceClient,
    header_service_server::{HeaderService, HeaderServiceServer},
    node_service_client::NodeServiceClient,
    node_service_server::{NodeService, NodeServiceServer},
};
use da_testkit::gen::bytes as demo_bytes;
use da_types::{BlsSecretKey, Genesis, GenesisValidator, Namespace, Trust};
use posting_adapter::{
    commitment::{DA_LAYER_BYTE, ENCODED_LEN},
    http, http_client,
    metrics::Metrics,
    Adapter, AdapterConfig, Commitment, VerifyMode,
};
use tokio_util::sync::CancellationToken;
use tonic::{transport::Channel, Request, Response, Status};

const T: Duration = Duration::from_secs(120);
const OCTETS: (&str, &str) = ("Content-Type", "application/octet-stream");

async fn devnet(dir: &std::path::Path) -> Devnet {
    Devnet::start(DevnetOptions {
        block_time_ms: 200,
        token: "tok".into(),
        ..DevnetOptions::local(dir.to_path_buf(), "altda")
    })
    .await
    .expect("devnet starts")
}

async fn put(addr: SocketAddr, path: &str, body: &[u8]) -> http_client::RawResponse {
    http_client::request(addr, "POST", path, &[OCTETS], Some(body), false, T)
        .await
        .expect("put")
}

async fn get(addr: SocketAddr, path: &str) -> http_client::RawResponse {
    http_client::request(addr, "GET", path, &[], None, false, T)
        .await
        .expect("get")
}

/// `0x00 ‖ frame`-shaped payload of `len` bytes, as op-batcher sends.
fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut p = demo_bytes(seed, len);
    p[0] = 0x00;
    p
}

/// Decodes a /put answer the way op-node's `DecodeCommitmentData` does, plus our own checks.
fn commitment_of(r: &http_client::RawResponse) -> Vec<u8> {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let c = r.body.clone();
    assert!(c.len() > 1 && c[0] <= 1, "op-node would reject {c:02x?}");
    assert_eq!(c[0], 0x01, "generic commitment");
    assert_eq!(c[1], DA_LAYER_BYTE);
    assert_eq!(c.len(), ENCODED_LEN);
    c
}

fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

fn adapter_on(
    endpoint: String,
    token: Option<&str>,
    trust: HeaderTrust,
    cfg: AdapterConfig,
) -> Arc<Adapter> {
    let mut cc = ClientConfig::new(endpoint);
    cc.token = token.map(str::to_string);
    cc.trust = trust;
    cc.retries = 1;
    cc.connect_timeout = Duration::from_secs(2);
    Arc::new(Adapter::new(DaClient::new(cc).expect("client"), cfg))
}

async fn serve(
    adapter: Arc<Adapter>,
) -> (SocketAddr, CancellationToken, tokio::task::JoinHandle<()>) {
    serve_within(adapter, da_http::ServerLimits::default()).await
}

async fn serve_within(
    adapter: Arc<Adapter>,
    limits: da_http::ServerLimits,
) -> (SocketAddr, CancellationToken, tokio::task::JoinHandle<()>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    let task = tokio::spawn(async move {
        http::serve(l, adapter, Arc::new(Metrics::new()), limits, c)
            .await
            .expect("serve");
    });
    (addr, cancel, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_mode_as_op_batcher_and_op_node_use_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let net = devnet(dir.path()).await;
    let a = net.adapter_addr;

    // devnet.json lists the adapter.
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&net.info_path).expect("devnet.json")).expect("json");
    assert_eq!(info["posting_adapter"]["url"], format!("http://{a}"));

    // 1. Happy path and 2. round trip, with op-node's query parameter and uppercase hex.
    let p = payload(1, 2001);
    let c = commitment_of(&put(a, "/put", &p).await);
    for path in [
        format!("/get/{}", hex0x(&c)),
        format!("/get/{}?l1_inclusion_block_number=12345", hex0x(&c)),
        format!("/get/0x{}", hex::encode_upper(&c)),
        format!("/get/{}/", hex0x(&c)),
    ] {
        let r = get(a, &path).await;
        assert_eq!(
            r.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.body, p, "{path}");
        assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    }
    // Re-posting the same batch is idempotent: same commitment, no second copy.
    assert_eq!(commitment_of(&put(a, "/put", &p).await), c);

    // 3. Size extremes: 1 byte, the batcher default, op-node's MaxInputSize.
    for (seed, len) in [(2, 1), (3, 120_000), (4, 130_672)] {
        let p = payload(seed, len);
        let c = commitment_of(&put(a, "/put", &p).await);
        let r = get(a, &format!("/get/{}", hex0x(&c))).await;
        assert_eq!((r.status, r.body.len()), (200, len));
        assert_eq!(r.body, p);
    }

    // 7. PUT /put and //put (a base URL with a trailing slash) behave like POST /put.
    let p = payload(5, 777);
    let r = http_client::request(a, "PUT", "/put", &[OCTETS], Some(&p), false, T)
        .await
        .expect("put");
    let c = commitment_of(&r);
    assert_eq!(commitment_of(&put(a, "//put", &p).await), c);
    assert_eq!(commitment_of(&put(a, "/put/", &p).await), c);
    // Chunked uploads work too.
    let r = http_client::request(a, "POST", "/put", &[OCTETS], Some(&p), true, T)
        .await
        .expect("put");
    assert_eq!(commitment_of(&r), c);
    assert_ne!(get(a, "/put").await.status, 200);

    // 4. Empty body.
    assert_eq!(put(a, "/put", b"").await.status, 400);

    // 5. Unknown commitment: a well-formed one naming a stored height → 404; a height the node
    // has not reached → 503 (op-node retries instead of treating the data as missing).
    let unknown = Commitment::Blob {
        height: 1,
        id: da_types::BlobId([0x5a; 32]),
    };
    let r = get(a, &format!("/get/{}", unknown.to_hex())).await;
    assert_eq!(r.status, 404, "{}", String::from_utf8_lossy(&r.body));
    let future = Commitment::Blob {
        height: 1 << 40,
        id: da_types::BlobId([0x5a; 32]),
    };
    let r = get(a, &format!("/get/{}", future.to_hex())).await;
    assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.header("retry-after").is_some());

    // 6. Malformed commitments and routes: 400, never 200 or 500.
    let mut other_layer = c.clone();
    other_layer[1] = 0xff;
    let mut bad_version = c.clone();
    bad_version[2] = 0x7e;
    for path in [
        "/get/zz".to_string(),
        "/get/0x0".to_string(),
        "/get/".to_string(),
        "/get".to_string(),
        format!("/get/{}", hex0x(&other_layer)),
        format!("/get/{}", hex0x(&bad_version)),
        format!("/get/{}", hex0x(&c[..c.len() - 1])),
        format!("/get/{}", hex::encode(&c)),
        format!("/get/0x00{}", "ab".repeat(31)),
        format!("/put/{}", hex0x(&c)),
    ] {
        let r = if path.starts_with("/put") {
            put(a, &path, b"x").await
        } else {
            get(a, &path).await
        };
        assert_eq!(
            r.status,
            400,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(!r.body.is_empty(), "{path}: the error says why");
    }
    // 11. Keccak mode, with the reference's worked example: POST /put/0x00<keccak> → 200 with
    // an empty body; GET returns the same bytes, whose keccak is the commitment.
    let hello = b"\x00hello".to_vec();
    let kc = "0x00aa872873635ad305d25327a952b25396b95b3ddfcfd661ab26241a853f70451c";
    assert_eq!(
        format!("0x00{}", hex::encode(da_client::keccak256(&hello))),
        kc
    );
    let r = put(a, &format!("/put/{kc}"), &hello).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.body.is_empty());
    let r = get(a, &format!("/get/{kc}?l1_inclusion_block_number=7")).await;
    assert_eq!((r.status, &r.body), (200, &hello));
    let r = get(
        a,
        &format!("/get/{}", kc.to_uppercase().replace("0X", "0x")),
    )
    .await;
    assert_eq!((r.status, &r.body), (200, &hello));
    // 12. A wrong keccak is rejected and nothing is posted; an unknown one is 404.
    let r = put(a, &format!("/put/0x00{}", "ab".repeat(32)), &p).await;
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains("hashes to"));
    let r = get(a, &format!("/get/0x00{}", "ab".repeat(32))).await;
    assert_eq!(r.status, 404, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(get(a, "/nope").await.status, 404);
    assert_eq!(get(a, "/health").await.status, 200);

    // 10. Concurrency: distinct batches in parallel get distinct commitments that round-trip.
    let mut tasks = Vec::new();
    for i in 0..6u64 {
        tasks.push(tokio::spawn(async move {
            let p = payload(100 + i, 5_000 + i as usize);
            (p.clone(), commitment_of(&put(a, "/put", &p).await))
        }));
    }
    let mut seen = std::collections::HashSet::new();
    for t in tasks {
        let (p, c) = t.await.expect("task");
        assert!(seen.insert(c.clone()), "duplicate commitment");
        assert_eq!(get(a, &format!("/get/{}", hex0x(&c))).await.body, p);
    }

    // Metrics count puts and gets by status.
    let m = String::from_utf8(get(a, "/metrics").await.body).expect("utf8");
    assert!(
        m.contains("posting_adapter_requests_total{op=\"put\",status=\"200\"}"),
        "{m}"
    );
    assert!(m.contains("status=\"404\""), "{m}");
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_over_one_blob_are_split_and_rejoined_and_the_limit_is_413() {
    let dir = tempfile::tempdir().expect("tmp");
    let net = devnet(dir.path()).await;
    let node = format!("http://{}", net.submit_addr());
    let ns = Namespace::new_v0(b"split").expect("ns");
    let mut cfg = AdapterConfig::new(ns);
    // Over axum's default 2 MB body limit, to show the adapter's own limit is the one applied.
    cfg.part_bytes = Some(500_000);
    cfg.max_batch_bytes = 2_200_000;
    let (a, cancel, task) =
        serve(adapter_on(node, Some("tok"), HeaderTrust::WellFormed, cfg)).await;

    // The largest batch this adapter accepts: 5 parts and a manifest.
    let p = payload(7, 2_200_000);
    let c = commitment_of(&put(a, "/put", &p).await);
    assert_eq!(c[2], 0x01, "a manifest commitment");
    let r = get(a, &format!("/get/{}", hex0x(&c))).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.body, p);
    // One byte over the limit: 413 whether the length is declared or chunked.
    let over = payload(8, 2_200_001);
    let r = put(a, "/put", &over).await;
    assert_eq!(r.status, 413);
    assert!(String::from_utf8_lossy(&r.body).contains("2200000"));
    let r = http_client::request(a, "POST", "/put", &[OCTETS], Some(&over), true, T)
        .await
        .expect("put");
    assert_eq!(r.status, 413);
    // A commitment that names a blob that is not a manifest is malformed.
    let single = commitment_of(&put(a, "/put", &payload(9, 10)).await);
    let mut as_manifest = single.clone();
    as_manifest[2] = 0x01;
    assert_eq!(
        get(a, &format!("/get/{}", hex0x(&as_manifest)))
            .await
            .status,
        400
    );

    cancel.cancel();
    task.await.expect("adapter stops");
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_down_is_503_and_no_commitment_is_returned() {
    // A port with nothing listening.
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = l.local_addr().expect("addr");
    drop(l);
    let ns = Namespace::new_v0(b"down").expect("ns");
    let (a, cancel, _task) = serve(adapter_on(
        format!("http://{dead}"),
        None,
        HeaderTrust::WellFormed,
        AdapterConfig::new(ns),
    ))
    .await;
    let r = put(a, "/put", &payload(1, 100)).await;
    assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.header("retry-after").is_some());
    let c = Commitment::Blob {
        height: 3,
        id: da_types::BlobId([1; 32]),
    };
    assert_eq!(get(a, &format!("/get/{}", c.to_hex())).await.status, 503);
    assert_eq!(get(a, "/health").await.status, 200);
    cancel.cancel();
}

/// Serves an adapter on a runtime of its own, so that killing it drops every connection and
/// in-flight request at once, as a crash of the adapter process would.
fn serve_killable(
    mk: impl FnOnce() -> Arc<Adapter> + Send + 'static,
) -> (SocketAddr, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.set_nonblocking(true).expect("nonblocking");
    let addr = l.local_addr().expect("addr");
    rt.spawn(async move {
        let l = tokio::net::TcpListener::from_std(l).expect("listener");
        let _ = http::serve(
            l,
            mk(),
            Arc::new(Metrics::new()),
            da_http::ServerLimits::default(),
            CancellationToken::new(),
        )
        .await;
    });
    (addr, rt)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adapter_restarted_mid_stream_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("tmp");
    let net = devnet(dir.path()).await;
    let node = format!("http://{}", net.submit_addr());
    let ns = Namespace::new_v0(b"restart").expect("ns");
    let mk = move || {
        adapter_on(
            node,
            Some("tok"),
            HeaderTrust::WellFormed,
            AdapterConfig::new(ns),
        )
    };
    let (a1, rt1) = serve_killable(mk.clone());
    // Three batchers post back to back; the adapter is killed once a few puts were acknowledged,
    // with a put of each batcher in flight.
    let acked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for w in 0..3u64 {
        let acked = acked.clone();
        workers.push(tokio::spawn(async move {
            for i in 0.. {
                let p = payload(1000 * (w + 1) + i, 3000);
                match http_client::request(a1, "POST", "/put", &[OCTETS], Some(&p), false, T).await
                {
                    Ok(r) if r.status == 200 => acked.lock().expect("lock").push((p, r.body)),
                    _ => return p,
                }
            }
            unreachable!()
        }));
    }
    while acked.lock().expect("lock").len() < 4 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    rt1.shutdown_background();
    let mut unacked = Vec::new();
    for w in workers {
        unacked.push(w.await.expect("worker"));
    }
    // The restarted adapter takes the retried batches; everything acknowledged before the kill
    // is still served byte for byte.
    let (a2, rt2) = serve_killable(mk);
    let mut acked = std::mem::take(&mut *acked.lock().expect("lock"));
    eprintln!(
        "{} acknowledged before the kill, {} in flight",
        acked.len(),
        unacked.len()
    );
    for p in unacked {
        let r = put(a2, "/put", &p).await;
        acked.push((p, commitment_of(&r)));
    }
    for (p, c) in &acked {
        let r = get(a2, &format!("/get/{}", hex0x(c))).await;
        assert_eq!(r.status, 200, "acknowledged commitment {} lost", hex0x(c));
        assert_eq!(&r.body, p);
    }
    rt2.shutdown_background();
    net.shutdown().await;
}

/// A node proxy that serves tampered blob bytes and proofs.
#[derive(Clone)]
struct Tamper {
    blob: BlobServiceClient<Channel>,
    header: HeaderServiceClient<Channel>,
    node: NodeServiceClient<Channel>,
}

fn flip(b: &mut [u8]) {
    if let Some(x) = b.last_mut() {
        *x ^= 1;
    }
}

#[tonic::async_trait]
impl BlobService for Tamper {
    async fn submit(
        &self,
        r: Request<pb::SubmitRequest>,
    ) -> Result<Response<pb::SubmitResponse>, Status> {
        self.blob.clone().submit(r.into_inner()).await
    }
    async fn get(&self, r: Request<pb::GetBlobRequest>) -> Result<Response<pb::BlobData>, Status> {
        let mut b = self.blob.clone().get(r.into_inner()).await?.into_inner();
        flip(&mut b.data);
        Ok(Response::new(b))
    }
    async fn get_all(
        &self,
        r: Request<pb::GetAllRequest>,
    ) -> Result<Response<pb::GetAllResponse>, Status> {
        self.blob.clone().get_all(r.into_inner()).await
    }
    async fn get_proof(
        &self,
        r: Request<pb::GetBlobRequest>,
    ) -> Result<Response<pb::BlobProof>, Status> {
        let mut p = self
            .blob
            .clone()
            .get_proof(r.into_inner())
            .await?
            .into_inner();
        if let Some(c) = p.blob_cells.first_mut() {
            c.cell[100] ^= 1;
        }
        Ok(Response::new(p))
    }
    async fn included(
        &self,
        r: Request<pb::IncludedRequest>,
    ) -> Result<Response<pb::IncludedResponse>, Status> {
        self.blob.clone().included(r.into_inner()).await
    }
    type SubscribeStream = tokio_stream::wrappers::ReceiverStream<Result<pb::BlobData, Status>>;
    async fn subscribe(
        &self,
        _: Request<pb::SubscribeBlobsRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        Err(Status::unimplemented("not proxied"))
    }
}

#[tonic::async_trait]
impl HeaderService for Tamper {
    async fn head(&self, r: Request<pb::HeadRequest>) -> Result<Response<pb::Header>, Status> {
        self.header.clone().head(r.into_inner()).await
    }
    async fn get_by_height(
        &self,
        r: Request<pb::GetByHeightRequest>,
    ) -> Result<Response<pb::Header>, Status> {
        self.header.clone().get_by_height(r.into_inner()).await
    }
    async fn get_range(
        &self,
        r: Request<pb::GetRangeRequest>,
    ) -> Result<Response<pb::GetRangeResponse>, Status> {
        self.header.clone().get_range(r.into_inner()).await
    }
    type SubscribeStream = tokio_stream::wrappers::ReceiverStream<Result<pb::Header, Status>>;
    async fn subscribe(
        &self,
        _: Request<pb::SubscribeHeadersRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        Err(Status::unimplemented("not proxied"))
    }
}

#[tonic::async_trait]
impl NodeService for Tamper {
    async fn info(
        &self,
        r: Request<pb::InfoRequest>,
    ) -> Result<Response<pb::InfoResponse>, Status> {
        self.node.clone().info(r.into_inner()).await
    }
    async fn peers(
        &self,
        r: Request<pb::PeersRequest>,
    ) -> Result<Response<pb::PeersResponse>, Status> {
        self.node.clone().peers(r.into_inner()).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_backend_never_yields_200() {
    let dir = tempfile::tempdir().expect("tmp");
    let net = devnet(dir.path()).await;
    let a = net.adapter_addr;
    let p = payload(42, 4000);
    let c = commitment_of(&put(a, "/put", &p).await);

    let ch = tonic::transport::Endpoint::from_shared(format!("http://{}", net.submit_addr()))
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let tamper = Tamper {
        blob: BlobServiceClient::new(ch.clone()).max_decoding_message_size(96 << 20),
        header: HeaderServiceClient::new(ch.clone()),
        node: NodeServiceClient::new(ch),
    };
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let proxy = l.local_addr().expect("addr");
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(BlobServiceServer::new(tamper.clone()).max_encoding_message_size(96 << 20))
            .add_service(HeaderServiceServer::new(tamper.clone()))
            .add_service(NodeServiceServer::new(tamper))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(l)),
    );
    let trusted = HeaderTrust::Genesis(Arc::new(net.full.trust().clone()));
    let ns = Namespace::new_v0(b"op-rollup").expect("ns");
    for verify in [VerifyMode::Inclusion, VerifyMode::Id] {
        let mut cfg = AdapterConfig::new(ns);
        cfg.verify = verify;
        let (pa, cancel, _t) = serve(adapter_on(
            format!("http://{proxy}"),
            None,
            trusted.clone(),
            cfg,
        ))
        .await;
        let r = get(pa, &format!("/get/{}", hex0x(&c))).await;
        assert_eq!(
            r.status,
            502,
            "{verify:?}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_ne!(r.body, p);
        cancel.cancel();
    }
    // An adapter that trusts another validator set rejects the honest node's headers too.
    let stranger = BlsSecretKey::from_ikm(&[9; 32]);
    let other = HeaderTrust::Genesis(Arc::new(
        Trust::from_genesis(&Genesis {
            chain_id: "altda".into(),
            genesis_time_ms: 0,
            validators: vec![GenesisValidator::new(&stranger, 1)],
            max_square_k: 64,
            dedup_window: da_types::DEFAULT_DEDUP_WINDOW,
            attestation_window: 0,
        })
        .expect("genesis"),
    ));
    let (pa, cancel, _t) = serve(adapter_on(
        format!("http://{}", net.submit_addr()),
        None,
        other,
        AdapterConfig::new(ns),
    ))
    .await;
    assert_eq!(get(pa, &format!("/get/{}", hex0x(&c))).await.status, 502);
    cancel.cancel();
    net.shutdown().await;
}

/// The process's virtual size, from `/proc/self/status` (what a reservation from a declared
/// `Content-Length` grows: untouched pages count here, not in the resident size).
fn virtual_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmSize:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmSize")
        * 1024
}

/// Reads until the server answers or closes; the status line's code, or `None` for a close
/// without an answer. Fails the test if neither happens within `within`.
async fn answer_or_close(s: &mut tokio::net::TcpStream, within: Duration) -> Option<u16> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        match tokio::time::timeout(within, s.read(&mut chunk)).await {
            Err(_) => panic!("the server neither answered nor closed within {within:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
    }
    let text = String::from_utf8_lossy(&buf);
    text.strip_prefix("HTTP/1.1 ")
        .and_then(|t| t.get(..3))
        .and_then(|c| c.parse().ok())
}

/// 200 slow clients (the issue's `Content-Length: 17000000` with no body, and heads sent by
/// halves) neither stop others being answered nor hold memory: the server reserves nothing from a
/// declared length, and closes each slow client at its timeout (408 for a body, a close for a
/// head). A 200 KB head is refused with 431, and a connection over the limit gets 503 at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_oversized_clients_are_bounded_in_time_and_memory() {
    use tokio::io::AsyncWriteExt;
    // No DA node behind it: nothing here reaches one.
    let adapter = || {
        adapter_on(
            "http://127.0.0.1:9".into(),
            None,
            HeaderTrust::WellFormed,
            AdapterConfig::new(Namespace::new_v0(b"limits").expect("ns")),
        )
    };
    let limits = da_http::ServerLimits {
        header_timeout_secs: 3,
        body_timeout_secs: 4,
        ..da_http::ServerLimits::default()
    };
    let (addr, cancel, _task) = serve_within(adapter(), limits).await;
    let before = virtual_bytes();
    let mut bodies = Vec::new();
    let mut heads = Vec::new();
    for i in 0..200 {
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        if i % 4 == 3 {
            s.write_all(b"POST /put HTTP/1.1\r\nHost: x\r\n")
                .await
                .expect("half a head");
            heads.push(s);
        } else {
            s.write_all(b"POST /put HTTP/1.1\r\nHost: x\r\nContent-Length: 17000000\r\n\r\n")
                .await
                .expect("head");
            bodies.push(s);
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let grown = virtual_bytes().saturating_sub(before);
    // The reservation this replaced took 16 MiB for each of the 150 bodies (2.4 GiB).
    assert!(
        grown < 512 << 20,
        "150 declared bodies grew the process by {} MiB",
        grown >> 20
    );
    // Others are still answered while the 200 are held.
    for _ in 0..5 {
        let r = http_client::request(addr, "GET", "/health", &[], None, false, T)
            .await
            .expect("health");
        assert_eq!(r.status, 200);
    }
    // A 200 KB head is refused: 431 (or a close, if the reset beats the answer), never served.
    let big = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(200_000)
    );
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let _ = s.write_all(big.as_bytes()).await;
    let got = answer_or_close(&mut s, Duration::from_secs(10)).await;
    assert!(matches!(got, Some(431) | None), "{got:?}");
    // Every slow client is let go at its timeout.
    for s in &mut bodies {
        assert_eq!(answer_or_close(s, Duration::from_secs(15)).await, Some(408));
    }
    for s in &mut heads {
        let got = answer_or_close(s, Duration::from_secs(15)).await;
        assert!(matches!(got, None | Some(408)), "{got:?}");
    }
    cancel.cancel();

    // Over the connection limit: answered 503 at once, and served again once a slot frees.
    let limits = da_http::ServerLimits {
        max_connections: 4,
        ..da_http::ServerLimits::default()
    };
    let (addr, cancel, _task) = serve_within(adapter(), limits).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        assert_eq!(
            answer_or_close(&mut s, Duration::from_secs(10)).await,
            Some(200)
        );
        held.push(s);
    }
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    assert_eq!(
        answer_or_close(&mut s, Duration::from_secs(10)).await,
        Some(503)
    );
    drop(held);
    let mut ok = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Ok(r) = http_client::request(addr, "GET", "/health", &[], None, false, T).await {
            if r.status == 200 {
                ok = true;
                break;
            }
        }
    }
    assert!(ok, "not served again after the held connections closed");
    cancel.cancel();
}

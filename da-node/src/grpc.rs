//! The gRPC API (`da.v1`): blob, header, share and node services, plus server reflection and
//! `grpc.health.v1`. Every error goes through `From<NodeError> for Status` and is counted.
//!
//! The API owns its slice of the configuration ([`ApiConfig`]) and handles: a [`Reader`] for
//! stored blocks (every store read runs on the blocking pool, never on a runtime thread), the
//! [`Chain`]'s block subscription and KZG context, the mempool and the producer's wake-up.

use std::{net::SocketAddr, pin::Pin, sync::Arc, time::Duration};

use da_kzg::{BlobProof, Commitment};
use da_proto::v1::{
    self as pb, blob_service_server::BlobServiceServer, header_service_server::HeaderServiceServer,
    node_service_server::NodeServiceServer, share_service_server::ShareServiceServer,
};
use da_types::{
    consts::CELLS_PER_ROW,
    convert,
    layout::{cells_for_byte_range, entry_byte_range, CellIndex, IndexEntry},
    Blob, BlobId, Namespace,
};
use tokio::{net::TcpListener, sync::Notify};
use tokio_stream::Stream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::warn;

use crate::{
    chain::{BlockEvent, Chain},
    config::{NodeConfig, Role},
    error::{NodeError, Result},
    mempool::{Inserted, Mempool, MempoolError},
    metrics::Metrics,
    reader::Reader,
    relay::Announcer,
};

/// Largest gRPC message the node sends or accepts.
pub const MAX_MESSAGE_BYTES: usize = 96 * 1024 * 1024;

/// Most blobs in one Submit.
pub const MAX_BLOBS_PER_SUBMIT: usize = 1024;
/// Most cells in one GetSamples.
pub const MAX_SAMPLES_PER_REQUEST: usize = 256;
/// Most headers in one GetRange.
pub const MAX_HEADERS_PER_RANGE: u64 = 256;

/// What the API needs of the node's configuration.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// The chain served.
    pub chain_id: String,
    /// Producer or full node.
    pub role: Role,
    /// This node's public key (hex).
    pub node_id: String,
    /// The configured gRPC address (reported by `Info`).
    pub grpc_addr: SocketAddr,
    /// Largest blob accepted.
    pub max_blob_bytes: usize,
    /// Bearer token required by `Submit`, if any.
    pub auth_token: Option<String>,
    /// Time between blocks (bounds inclusion waits).
    pub block_time: Duration,
    /// The upstream a full node follows over gRPC, if any (its only `Peers` entry).
    pub follow: Option<String>,
}

impl ApiConfig {
    /// The API's slice of `config`, for the node whose public key is `node_id`.
    pub fn from_node(config: &NodeConfig, node_id: String) -> Self {
        Self {
            chain_id: config.chain_id.clone(),
            role: config.role,
            node_id,
            grpc_addr: config.grpc_addr,
            max_blob_bytes: config.max_blob_bytes,
            auth_token: config.auth_token.clone(),
            block_time: config.block_time(),
            follow: config.follow.clone(),
        }
    }
}

/// The API's handles: what it reads, where submitted blobs go, what it streams.
#[derive(Clone, Debug)]
pub struct Api {
    config: Arc<ApiConfig>,
    reader: Reader,
    chain: Arc<Chain>,
    mempool: Arc<Mempool>,
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    announcer: Announcer,
}

impl Api {
    /// The API over these handles; long-lived streams end when `shutdown` is cancelled.
    pub fn new(
        config: ApiConfig,
        reader: Reader,
        chain: Arc<Chain>,
        mempool: Arc<Mempool>,
        wake: Arc<Notify>,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            config: Arc::new(config),
            reader,
            chain,
            mempool,
            wake,
            metrics,
            shutdown,
            announcer: Announcer::default(),
        }
    }

    /// Hands newly pooled blob ids to the relay, which announces them to peers.
    pub fn with_announcer(mut self, announcer: Announcer) -> Self {
        self.announcer = announcer;
        self
    }
}

type Stream2<T> = Pin<Box<dyn Stream<Item = std::result::Result<T, Status>> + Send>>;

/// Serves `api` on `listener` until cancelled.
pub async fn serve(
    api: Api,
    listener: TcpListener,
    limits: da_http::ServerLimits,
    cancel: CancellationToken,
) {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<BlobServiceServer<Api>>().await;
    health.set_serving::<HeaderServiceServer<Api>>().await;
    health.set_serving::<ShareServiceServer<Api>>().await;
    health.set_serving::<NodeServiceServer<Api>>().await;
    // Reflection in both versions clients speak: `v1` (grpcurl ≥ 1.9) and `v1alpha` (older
    // grpcurl, Postman, Python's grpcio-reflection). A descriptor set that does not load costs
    // reflection only, never the API.
    let descriptors = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = descriptors()
        .build_v1()
        .map_err(|e| warn!("gRPC reflection v1 unavailable: {e}"))
        .ok();
    let reflection_v1alpha = descriptors()
        .build_v1alpha()
        .map_err(|e| warn!("gRPC reflection v1alpha unavailable: {e}"))
        .ok();
    let incoming = da_http::grpc::incoming(listener, &limits, cancel.clone());
    let result = da_http::grpc::configure(tonic::transport::Server::builder(), &limits)
        .add_service(health_service)
        .add_optional_service(reflection_v1)
        .add_optional_service(reflection_v1alpha)
        .add_service(
            BlobServiceServer::new(api.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(HeaderServiceServer::new(api.clone()))
        .add_service(
            ShareServiceServer::new(api.clone()).max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(NodeServiceServer::new(api))
        .serve_with_incoming_shutdown(incoming, cancel.cancelled())
        .await;
    if let Err(e) = result {
        warn!("gRPC server stopped: {e}");
    }
}

impl Api {
    fn done<T>(&self, method: &str, r: Result<T>) -> std::result::Result<Response<T>, Status> {
        r.map(Response::new).map_err(|e| {
            let s = Status::from(e);
            self.metrics.rpc_error(method, s.code());
            s
        })
    }

    fn check_auth<T>(&self, req: &Request<T>) -> Result<()> {
        let Some(token) = &self.config.auth_token else {
            return Ok(());
        };
        let got = req
            .metadata()
            .get("authorization")
            .ok_or_else(|| {
                NodeError::Unauthenticated(
                    "Submit requires `authorization: Bearer <token>` on this node".into(),
                )
            })?
            .to_str()
            .map_err(|_| NodeError::Unauthenticated("authorization header is not ASCII".into()))?;
        match got.strip_prefix("Bearer ") {
            Some(t) if constant_time_eq(t.as_bytes(), token.as_bytes()) => Ok(()),
            Some(_) => Err(NodeError::PermissionDenied(
                "bearer token is not valid".into(),
            )),
            None => Err(NodeError::Unauthenticated(
                "authorization must be `Bearer <token>`".into(),
            )),
        }
    }

    /// A bounded stream of items derived from each new block; it ends when the client goes away
    /// or the node shuts down (graceful shutdown waits for open streams), and with `DATA_LOSS`
    /// if the subscriber falls behind.
    fn block_stream<T: Send + 'static>(
        &self,
        lagged: &'static str,
        items: impl Fn(&BlockEvent) -> Vec<T> + Send + 'static,
    ) -> Stream2<T> {
        let mut rx = self.chain.subscribe();
        let (tx, out) = tokio::sync::mpsc::channel(64);
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            loop {
                let ev = tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tx.closed() => return,
                    ev = rx.recv() => ev,
                };
                match ev {
                    Ok(ev) => {
                        for item in items(&ev) {
                            if tx.send(Ok(item)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        let _ = tx.send(Err(Status::data_loss(lagged))).await;
                        return;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        Box::pin(tokio_stream::wrappers::ReceiverStream::new(out))
    }

    async fn submit_inner(&self, req: Request<pb::SubmitRequest>) -> Result<pb::SubmitResponse> {
        let t0 = std::time::Instant::now();
        self.check_auth(&req)?;
        let req = req.into_inner();
        if req.blobs.is_empty() {
            return Err(NodeError::InvalidArgument("no blobs in the request".into()));
        }
        if req.blobs.len() > MAX_BLOBS_PER_SUBMIT {
            return Err(NodeError::InvalidArgument(format!(
                "{} blobs in one request, the limit is {MAX_BLOBS_PER_SUBMIT}",
                req.blobs.len()
            )));
        }
        let max = self.config.max_blob_bytes;
        let mut blobs = Vec::with_capacity(req.blobs.len());
        for (i, item) in req.blobs.into_iter().enumerate() {
            let ns = Namespace::new_blob(&item.namespace)
                .map_err(|e| NodeError::InvalidArgument(format!("blob {i}: {e}")))?;
            if item.data.is_empty() {
                return Err(NodeError::InvalidArgument(format!(
                    "blob {i}: data is empty"
                )));
            }
            if item.data.len() > max {
                return Err(NodeError::OutOfRange(format!(
                    "blob {i} is {} bytes, the limit is {max} bytes",
                    item.data.len()
                )));
            }
            blobs.push(Blob::new(ns, item.data)?);
        }
        let mut events = self.chain.subscribe();
        let ids: Vec<BlobId> = blobs.iter().map(Blob::id).collect();
        let mempool = self.mempool.clone();
        // Store reads and the mempool's persistence run on the blocking pool.
        let (mut heights, added) = self
            .reader
            .run(move |rd| {
                let mut heights = vec![None; blobs.len()];
                let mut added = Vec::new();
                for (i, blob) in blobs.into_iter().enumerate() {
                    if let Some(h) = rd.store().blob_height(&blob.id())? {
                        heights[i] = Some(h);
                        continue;
                    }
                    let persist = blob.clone();
                    match mempool.insert(blob) {
                        Ok(Inserted::Added) => {
                            rd.store().mempool_put(&persist)?;
                            added.push(persist.id());
                        }
                        Ok(Inserted::AlreadyPending) => {}
                        Err(
                            e @ (MempoolError::Full { .. } | MempoolError::NamespaceFull { .. }),
                        ) => return Err(NodeError::ResourceExhausted(e.to_string())),
                    }
                }
                Ok((heights, added))
            })
            .await?;
        self.announcer.announce(added);
        if self.mempool.fills_square() {
            self.wake.notify_one();
        }
        self.metrics.mempool_blobs.set(self.mempool.len() as i64);
        self.metrics.mempool_bytes.set(self.mempool.bytes() as i64);
        if req.wait_for_inclusion {
            let limit = (self.config.block_time * 20).max(Duration::from_secs(60));
            let wait = async {
                while heights.iter().any(Option::is_none) {
                    match events.recv().await {
                        Ok(ev) => {
                            for (i, id) in ids.iter().enumerate() {
                                if ev.blobs.iter().any(|(e, _)| e.blob_id == *id) {
                                    heights[i] = Some(ev.header.height());
                                }
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            let (ids, known) = (ids.clone(), heights.clone());
                            heights = self
                                .reader
                                .run(move |rd| {
                                    ids.iter()
                                        .zip(known)
                                        .map(|(id, h)| -> Result<Option<u64>> {
                                            match h {
                                                Some(h) => Ok(Some(h)),
                                                None => Ok(rd.store().blob_height(id)?),
                                            }
                                        })
                                        .collect()
                                })
                                .await?;
                        }
                        Err(_) => {
                            return Err(NodeError::Unavailable("node is shutting down".into()))
                        }
                    }
                }
                Ok(())
            };
            tokio::time::timeout(limit, wait).await.map_err(|_| {
                NodeError::DeadlineExceeded(format!(
                    "blobs not included within {limit:?}; they stay pending"
                ))
            })??;
        }
        self.metrics
            .submit_latency
            .observe(t0.elapsed().as_secs_f64());
        let height = if heights.iter().all(Option::is_some) {
            heights.iter().flatten().copied().max().unwrap_or(0)
        } else {
            0
        };
        Ok(pb::SubmitResponse {
            blob_ids: ids.iter().map(|i| i.0.to_vec()).collect(),
            height,
            heights: heights.iter().map(|h| h.unwrap_or(0)).collect(),
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Finds a blob: `height` 0 looks the height up by id, an empty `ns` matches any namespace,
/// an empty `id` looks the blob up by the keccak-256 of its data.
/// Returns `(height, k, entry number, entry)`.
fn find(rd: &Reader, r: &pb::GetBlobRequest) -> Result<(u64, usize, usize, IndexEntry)> {
    let (height, ns, id) = (r.height, &r.namespace, &r.blob_id);
    let ns = if ns.is_empty() {
        None
    } else {
        Some(convert::namespace(ns)?)
    };
    if id.is_empty() {
        let hash: [u8; 32] = r.keccak256.as_slice().try_into().map_err(|_| {
            NodeError::InvalidArgument(format!(
                "give a 32-byte blob_id or keccak256 (keccak256 is {} bytes)",
                r.keccak256.len()
            ))
        })?;
        let (at, id) = rd
            .store()
            .blob_by_keccak(&hash)?
            .filter(|(at, _)| height == 0 || *at == height)
            .ok_or_else(|| {
                NodeError::NotFound(format!(
                    "no stored blob has keccak256 0x{}{}",
                    hex::encode(hash),
                    if height == 0 {
                        String::new()
                    } else {
                        format!(" at {height}")
                    }
                ))
            })?;
        let req = pb::GetBlobRequest {
            height: at,
            namespace: r.namespace.clone(),
            blob_id: id.0.to_vec(),
            keccak256: Vec::new(),
        };
        return find(rd, &req);
    }
    let id = convert::blob_id(id)?;
    let height = match height {
        0 => rd
            .store()
            .blob_height(&id)?
            .ok_or_else(|| NodeError::NotFound(format!("blob {id} is not stored")))?,
        h => h,
    };
    let (k, index) = rd.k_of(height)?;
    let i = index
        .iter()
        .position(|e| e.blob_id == id && ns.is_none_or(|n| e.namespace == n))
        .ok_or_else(|| {
            NodeError::NotFound(match ns {
                Some(ns) => format!("blob {id} in namespace {ns} is not in block {height}"),
                None => format!("blob {id} is not in block {height}"),
            })
        })?;
    Ok((height, k, i, index[i]))
}

fn blob_data(rd: &Reader, height: u64, k: usize, e: &IndexEntry) -> Result<pb::BlobData> {
    Ok(pb::BlobData {
        namespace: e.namespace.as_bytes().to_vec(),
        data: rd.blob_bytes(height, k, e)?,
        blob_id: e.blob_id.0.to_vec(),
        height,
    })
}

fn commitments(rd: &Reader, height: u64) -> Result<Vec<Commitment>> {
    let h = rd
        .store()
        .header(height)?
        .ok_or_else(|| rd.not_stored(height))?;
    Ok(Commitment::of_header(&h.block))
}

#[tonic::async_trait]
impl pb::blob_service_server::BlobService for Api {
    async fn submit(
        &self,
        req: Request<pb::SubmitRequest>,
    ) -> std::result::Result<Response<pb::SubmitResponse>, Status> {
        let r = self.submit_inner(req).await;
        self.done("Submit", r)
    }

    async fn get(
        &self,
        req: Request<pb::GetBlobRequest>,
    ) -> std::result::Result<Response<pb::BlobData>, Status> {
        let r = req.into_inner();
        let out = self
            .reader
            .run(move |rd| find(rd, &r).and_then(|(h, k, _, e)| blob_data(rd, h, k, &e)))
            .await;
        self.done("Get", out)
    }

    async fn get_all(
        &self,
        req: Request<pb::GetAllRequest>,
    ) -> std::result::Result<Response<pb::GetAllResponse>, Status> {
        let r = req.into_inner();
        let out = self
            .reader
            .run(move |rd| {
                let nss = r
                    .namespaces
                    .iter()
                    .map(|n| convert::namespace(n))
                    .collect::<Result<Vec<_>, _>>()?;
                let (k, index) = rd.k_of(r.height)?;
                let blobs = index
                    .iter()
                    .filter(|e| nss.contains(&e.namespace))
                    .map(|e| blob_data(rd, r.height, k, e))
                    .collect::<Result<_>>()?;
                Ok(pb::GetAllResponse { blobs })
            })
            .await;
        self.done("GetAll", out)
    }

    async fn get_proof(
        &self,
        req: Request<pb::GetBlobRequest>,
    ) -> std::result::Result<Response<pb::BlobProof>, Status> {
        let r = req.into_inner();
        let out = self
            .reader
            .run(move |rd| {
                let (height, k, i, e) = find(rd, &r)?;
                let mut idx: Vec<usize> = cells_for_byte_range(entry_byte_range(i)).collect();
                if idx.first() != Some(&0) {
                    idx.insert(0, 0);
                }
                let proof = BlobProof {
                    entry: i as u32,
                    index_cells: rd.original_cells(height, k, idx)?,
                    blob_cells: rd.original_cells(height, k, e.cells())?,
                };
                Ok(proof.to_pb(height))
            })
            .await;
        self.done("GetProof", out)
    }

    async fn included(
        &self,
        req: Request<pb::IncludedRequest>,
    ) -> std::result::Result<Response<pb::IncludedResponse>, Status> {
        let r = req.into_inner();
        let kzg = self.chain.kzg().clone();
        let out = self
            .reader
            .run(move |rd| {
                let ns = convert::namespace(&r.namespace)?;
                let id = convert::blob_id(&r.blob_id)?;
                let proof = r
                    .proof
                    .as_ref()
                    .ok_or_else(|| NodeError::InvalidArgument("proof is missing".into()))?;
                let proof = BlobProof::try_from(proof)?;
                let commitments = commitments(rd, r.height)?;
                let included = proof.verify(&kzg, &commitments, &ns, &id).is_ok();
                Ok(pb::IncludedResponse { included })
            })
            .await;
        self.done("Included", out)
    }

    type SubscribeStream = Stream2<pb::BlobData>;

    async fn subscribe(
        &self,
        req: Request<pb::SubscribeBlobsRequest>,
    ) -> std::result::Result<Response<Self::SubscribeStream>, Status> {
        let ns = match convert::namespace(&req.into_inner().namespace) {
            Ok(ns) => ns,
            Err(e) => return self.done("Subscribe", Err(e.into())),
        };
        let stream = self.block_stream(
            "subscriber fell behind; resubscribe and fetch missed heights with GetAll",
            move |ev: &BlockEvent| {
                let h = ev.header.height();
                ev.blobs
                    .iter()
                    .filter(|(e, _)| e.namespace == ns)
                    .map(|(e, d)| pb::BlobData {
                        namespace: e.namespace.as_bytes().to_vec(),
                        data: d.clone(),
                        blob_id: e.blob_id.0.to_vec(),
                        height: h,
                    })
                    .collect()
            },
        );
        Ok(Response::new(stream))
    }
}

#[tonic::async_trait]
impl pb::header_service_server::HeaderService for Api {
    async fn head(
        &self,
        _req: Request<pb::HeadRequest>,
    ) -> std::result::Result<Response<pb::Header>, Status> {
        let out = self
            .reader
            .run(|rd| {
                let h = rd
                    .store()
                    .head()?
                    .ok_or_else(|| NodeError::NotFound("no block yet".into()))?;
                let header = rd.store().header(h)?.ok_or_else(|| rd.not_stored(h))?;
                Ok(pb::Header::from(&header))
            })
            .await;
        self.done("Head", out)
    }

    async fn get_by_height(
        &self,
        req: Request<pb::GetByHeightRequest>,
    ) -> std::result::Result<Response<pb::Header>, Status> {
        let height = req.into_inner().height;
        let out = self
            .reader
            .run(move |rd| {
                rd.store()
                    .header(height)
                    .map_err(NodeError::from)
                    .and_then(|h| h.ok_or_else(|| rd.not_stored(height)))
                    .map(|h| pb::Header::from(&h))
            })
            .await;
        self.done("GetByHeight", out)
    }

    async fn get_range(
        &self,
        req: Request<pb::GetRangeRequest>,
    ) -> std::result::Result<Response<pb::GetRangeResponse>, Status> {
        let r = req.into_inner();
        if r.from == 0 || r.to < r.from || r.to - r.from >= MAX_HEADERS_PER_RANGE {
            let e = NodeError::InvalidArgument(format!(
                "range [{}, {}] must satisfy 1 <= from <= to < from + {MAX_HEADERS_PER_RANGE}",
                r.from, r.to
            ));
            return self.done("GetRange", Err(e));
        }
        let out = self
            .reader
            .run(move |rd| {
                let mut headers = Vec::new();
                for h in r.from..=r.to {
                    match rd.store().header(h)? {
                        Some(x) => headers.push(pb::Header::from(&x)),
                        None if headers.is_empty() && h == r.from => return Err(rd.not_stored(h)),
                        None => break,
                    }
                }
                Ok(pb::GetRangeResponse { headers })
            })
            .await;
        self.done("GetRange", out)
    }

    type SubscribeStream = Stream2<pb::Header>;

    async fn subscribe(
        &self,
        _req: Request<pb::SubscribeHeadersRequest>,
    ) -> std::result::Result<Response<Self::SubscribeStream>, Status> {
        let stream = self.block_stream(
            "subscriber fell behind; resubscribe and fetch missed heights with GetRange",
            |ev: &BlockEvent| vec![pb::Header::from(&ev.header)],
        );
        Ok(Response::new(stream))
    }
}

#[tonic::async_trait]
impl pb::share_service_server::ShareService for Api {
    async fn get_samples(
        &self,
        req: Request<pb::GetSamplesRequest>,
    ) -> std::result::Result<Response<pb::GetSamplesResponse>, Status> {
        let r = req.into_inner();
        if r.cells.len() > MAX_SAMPLES_PER_REQUEST {
            let e = NodeError::InvalidArgument(format!(
                "{} cells requested, the limit is {MAX_SAMPLES_PER_REQUEST}",
                r.cells.len()
            ));
            return self.done("GetSamples", Err(e));
        }
        let out = self
            .reader
            .run(move |rd| {
                let (k, _) = rd.k_of(r.height)?;
                let samples = r
                    .cells
                    .iter()
                    .map(|c| {
                        let i = CellIndex::new(c.row as usize, c.col as usize, k)?;
                        rd.proven(r.height, k, i.row as usize, i.col as usize)
                            .map(|p| pb::Sample::from(&p))
                    })
                    .collect::<Result<_>>()?;
                Ok(pb::GetSamplesResponse { samples })
            })
            .await;
        self.done("GetSamples", out)
    }

    async fn get_row(
        &self,
        req: Request<pb::GetRowRequest>,
    ) -> std::result::Result<Response<pb::GetRowResponse>, Status> {
        let r = req.into_inner();
        let out = self
            .reader
            .run(move |rd| {
                let (k, _) = rd.k_of(r.height)?;
                let row = r.row as usize;
                CellIndex::new(row, 0, k)?;
                let cells = (0..CELLS_PER_ROW)
                    .map(|c| rd.proven(r.height, k, row, c).map(|p| pb::Sample::from(&p)))
                    .collect::<Result<_>>()?;
                Ok(pb::GetRowResponse { cells })
            })
            .await;
        self.done("GetRow", out)
    }

    async fn get_namespace_data(
        &self,
        req: Request<pb::GetNamespaceDataRequest>,
    ) -> std::result::Result<Response<pb::GetNamespaceDataResponse>, Status> {
        let r = req.into_inner();
        let out = self
            .reader
            .run(move |rd| {
                let ns = convert::namespace(&r.namespace)?;
                let (k, index, proof) = rd
                    .namespace_proof(r.height, &ns)?
                    .ok_or_else(|| rd.not_stored(r.height))?;
                let blobs = index
                    .iter()
                    .filter(|e| e.namespace == ns)
                    .map(|e| blob_data(rd, r.height, k, e))
                    .collect::<Result<_>>()?;
                Ok(pb::GetNamespaceDataResponse {
                    blobs,
                    proof: Some(pb::NamespaceProof::from(&proof)),
                })
            })
            .await;
        self.done("GetNamespaceData", out)
    }
}

#[tonic::async_trait]
impl pb::node_service_server::NodeService for Api {
    async fn info(
        &self,
        _req: Request<pb::InfoRequest>,
    ) -> std::result::Result<Response<pb::InfoResponse>, Status> {
        let c = self.config.clone();
        let out = self
            .reader
            .run(move |rd| {
                Ok(pb::InfoResponse {
                    version: env!("CARGO_PKG_VERSION").into(),
                    chain_id: c.chain_id.clone(),
                    role: c.role.to_string(),
                    peer_id: c.node_id.clone(),
                    head_height: rd.store().head()?.unwrap_or(0),
                    lowest_height: rd.store().lowest()?.unwrap_or(0),
                    listen_addresses: vec![format!("http://{}", c.grpc_addr)],
                    max_blob_bytes: c.max_blob_bytes as u64,
                })
            })
            .await;
        self.done("Info", out)
    }

    async fn peers(
        &self,
        _req: Request<pb::PeersRequest>,
    ) -> std::result::Result<Response<pb::PeersResponse>, Status> {
        // Until the p2p network lands, a full node's only peer is the node it follows.
        let peers = self.config.follow.iter().cloned().collect();
        Ok(Response::new(pb::PeersResponse { peers }))
    }
}

//! The OP Stack Alt-DA DA-server HTTP API (`../shared/reference/op-alt-da.md`, §2):
//! `POST|PUT /put` (also `//put`) → raw commitment bytes; `GET /get/0x<hex>` → the exact batch,
//! verified; `GET /health`; `GET /metrics`. Query strings are ignored. Routing is done by hand so
//! that repeated slashes, trailing slashes and every malformed path get a deliberate status.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    http::{header, HeaderValue, Method, Request, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
use da_http::{BodyError, ServerLimits};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{
    adapter::{Adapter, AdapterError},
    commitment::Commitment,
    metrics::Metrics,
};

/// Shared state of the HTTP server.
#[derive(Debug)]
pub struct Server {
    adapter: Arc<Adapter>,
    metrics: Arc<Metrics>,
    body_timeout: Duration,
}

/// The router of the DA-server API; a request body must arrive within `body_timeout`.
pub fn router(adapter: Arc<Adapter>, metrics: Arc<Metrics>, body_timeout: Duration) -> Router {
    let state = Arc::new(Server {
        adapter,
        metrics,
        body_timeout,
    });
    Router::new().fallback(move |req: Request<Body>| {
        let state = state.clone();
        async move { state.handle(req).await }
    })
}

/// Serves the API on `listener` within `limits` (`specs/08-posting-adapter.md` §Limits) until
/// `shutdown` fires (in-flight requests get a few seconds to finish).
pub async fn serve(
    listener: TcpListener,
    adapter: Arc<Adapter>,
    metrics: Arc<Metrics>,
    limits: ServerLimits,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    if let Ok(a) = listener.local_addr() {
        info!(addr = %a, "posting adapter listening");
    }
    let router = router(adapter, metrics, limits.body_timeout());
    da_http::serve(listener, router, limits, shutdown).await
}

fn text(status: u16, msg: impl Into<String>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (code, format!("{}\n", msg.into())).into_response();
    if matches!(status, 503 | 504) {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    }
    r
}

fn octets(body: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/octet-stream")],
        body,
    )
        .into_response()
}

fn error(e: &AdapterError) -> Response {
    let status = e.http_status();
    if status >= 500 {
        warn!(status, error = %e, "request failed");
    }
    text(status, e.to_string())
}

impl Server {
    async fn handle(&self, req: Request<Body>) -> Response {
        let t0 = Instant::now();
        let (op, resp) = self.route(req).await;
        self.metrics
            .observe(op, resp.status().as_u16(), t0.elapsed().as_secs_f64());
        resp
    }

    async fn route(&self, req: Request<Body>) -> (&'static str, Response) {
        let route = Route::parse(req.method(), req.uri().path());
        let op = route.op();
        let resp = match route {
            Route::Put => self.put(req).await,
            Route::PutKeccak(hash) => match self.read_body(req).await {
                Ok(body) => match self.adapter.put_keccak(&hash, &body).await {
                    Ok(()) => {
                        self.metrics.put_bytes.inc_by(body.len() as u64);
                        info!(
                            commitment = %Commitment::Keccak(hash).to_hex(),
                            bytes = body.len(),
                            "put (keccak)"
                        );
                        octets(Vec::new())
                    }
                    Err(e) => error(&e),
                },
                Err(r) => r,
            },
            Route::Get(c) => self.get(&c).await,
            Route::Health => text(200, "OK"),
            Route::Metrics => (
                StatusCode::OK,
                [(
                    header::CONTENT_TYPE,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                )],
                self.metrics.render(),
            )
                .into_response(),
            Route::Refused { status, why, .. } => text(status, why),
        };
        (op, resp)
    }

    async fn put(&self, req: Request<Body>) -> Response {
        let body = match self.read_body(req).await {
            Ok(b) => b,
            Err(r) => return r,
        };
        match self.adapter.put(&body).await {
            Ok(c) => {
                self.metrics.put_bytes.inc_by(body.len() as u64);
                info!(commitment = %c.to_hex(), bytes = body.len(), "put");
                octets(c.encode())
            }
            Err(e) => error(&e),
        }
    }

    /// Reads a body of at most `max_batch_bytes` within the body timeout, buffered as it
    /// arrives, or answers `413`/`408`/`400`.
    async fn read_body(&self, req: Request<Body>) -> Result<Vec<u8>, Response> {
        let limit = self.adapter.config().max_batch_bytes;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        da_http::read_body(req.into_body(), declared, limit, self.body_timeout)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge { size, limit } => {
                    error(&AdapterError::TooLarge { size, limit })
                }
                e => text(e.http_status(), e.to_string()),
            })
    }

    async fn get(&self, c: &Commitment) -> Response {
        match self.adapter.get(c).await {
            Ok(data) => {
                self.metrics.get_bytes.inc_by(data.len() as u64);
                octets(data)
            }
            Err(e) => error(&e),
        }
    }
}

/// What a request asks for, decided from its method and path alone (no body, no I/O): the
/// part of the server every client byte reaches first, so it is fuzzed (`fuzz/`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `POST|PUT /put`: store a batch, answer its generic commitment.
    Put,
    /// `POST|PUT /put/0x00<keccak256>`: store a batch under its keccak commitment.
    PutKeccak([u8; 32]),
    /// `GET /get/0x<commitment>`.
    Get(Commitment),
    /// `GET /health`.
    Health,
    /// `GET /metrics`.
    Metrics,
    /// Answered at once with `status` (`400`, `404`, `405`).
    Refused {
        /// The metrics label of the route asked for.
        op: &'static str,
        /// The HTTP status.
        status: u16,
        /// What was wrong and what to send instead.
        why: String,
    },
}

impl Route {
    /// Routes a request: leading slashes (`//put`) and trailing ones are ignored, query
    /// strings never reach here (they are not part of the path).
    pub fn parse(method: &Method, path: &str) -> Self {
        let path = path.trim_start_matches('/');
        let (route, arg) = match path.split_once('/') {
            Some((r, a)) => (r, a.trim_end_matches('/')),
            None => (path, ""),
        };
        let refused = |op, status, why: String| Self::Refused { op, status, why };
        let is_put = method == Method::POST || method == Method::PUT;
        match route {
            "put" if !is_put => refused("put", 405, "use POST /put".into()),
            "put" if arg.is_empty() => Self::Put,
            "put" => match Commitment::from_hex(arg) {
                Err(e) => refused("put", 400, e.to_string()),
                Ok(Commitment::Keccak(hash)) => Self::PutKeccak(hash),
                Ok(_) => refused(
                    "put",
                    400,
                    "this DA server computes generic commitments: POST /put without one".into(),
                ),
            },
            "get" if method != Method::GET => {
                refused("get", 405, "use GET /get/0x<commitment>".into())
            }
            "get" if arg.is_empty() => {
                refused("get", 400, "missing commitment: GET /get/0x<hex>".into())
            }
            "get" => match Commitment::from_hex(arg) {
                Ok(c) => Self::Get(c),
                Err(e) => refused("get", 400, e.to_string()),
            },
            "health" if arg.is_empty() => Self::Health,
            "metrics" if arg.is_empty() => Self::Metrics,
            _ => {
                let shown: String = path.chars().take(200).collect();
                refused(
                    "other",
                    404,
                    format!(
                        "no route {method} /{shown}; routes: POST /put, GET /get/0x<hex>, GET /health"
                    ),
                )
            }
        }
    }

    /// The metrics label of the route.
    pub fn op(&self) -> &'static str {
        match self {
            Self::Put | Self::PutKeccak(_) => "put",
            Self::Get(_) => "get",
            Self::Health => "health",
            Self::Metrics => "metrics",
            Self::Refused { op, .. } => op,
        }
    }
}

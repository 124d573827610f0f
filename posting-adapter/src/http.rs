//! The OP Stack Alt-DA DA-server HTTP API (`../shared/reference/op-alt-da.md`, §2):
//! `POST|PUT /put` (also `//put`) → raw commitment bytes; `GET /get/0x<hex>` → the exact batch,
//! verified; `GET /health`; `GET /metrics`. Query strings are ignored. Routing is done by hand so
//! that repeated slashes, trailing slashes and every malformed path get a deliberate status.

use std::{sync::Arc, time::Instant};

use axum::{
    body::Body,
    http::{header, HeaderValue, Method, Request, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{
    adapter::{Adapter, AdapterError},
    commitment::Commitment,
    metrics::Metrics,
};

/// Bytes past the limit still read (and dropped) before a `413`, so that the client gets the
/// answer instead of a connection reset.
const DRAIN_BYTES: usize = 1 << 20;

/// Shared state of the HTTP server.
#[derive(Debug)]
pub struct Server {
    adapter: Arc<Adapter>,
    metrics: Arc<Metrics>,
}

/// The router of the DA-server API.
pub fn router(adapter: Arc<Adapter>, metrics: Arc<Metrics>) -> Router {
    let state = Arc::new(Server { adapter, metrics });
    Router::new().fallback(move |req: Request<Body>| {
        let state = state.clone();
        async move { state.handle(req).await }
    })
}

/// Serves the API on `listener` until `shutdown` fires (in-flight requests finish first).
pub async fn serve(
    listener: TcpListener,
    adapter: Arc<Adapter>,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    if let Ok(a) = listener.local_addr() {
        info!(addr = %a, "posting adapter listening");
    }
    axum::serve(listener, router(adapter, metrics))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
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
        let method = req.method().clone();
        let path = req.uri().path().trim_start_matches('/').to_string();
        let (route, arg) = match path.split_once('/') {
            Some((r, a)) => (r, a.trim_end_matches('/')),
            None => (path.as_str(), ""),
        };
        let is_put = method == Method::POST || method == Method::PUT;
        match route {
            "put" if !is_put => ("put", text(405, "use POST /put")),
            "put" if arg.is_empty() => ("put", self.put(req).await),
            "put" => (
                "put",
                match Commitment::from_hex(arg) {
                    Err(e) => text(400, e.to_string()),
                    Ok(Commitment::Keccak(hash)) => match self.read_body(req).await {
                        Ok(body) => match self.adapter.put_keccak(&hash, &body).await {
                            Ok(()) => {
                                self.metrics.put_bytes.inc_by(body.len() as u64);
                                info!(commitment = %arg, bytes = body.len(), "put (keccak)");
                                octets(Vec::new())
                            }
                            Err(e) => error(&e),
                        },
                        Err(r) => r,
                    },
                    Ok(_) => text(
                        400,
                        "this DA server computes generic commitments: POST /put without one",
                    ),
                },
            ),
            "get" if method != Method::GET => ("get", text(405, "use GET /get/0x<commitment>")),
            "get" if arg.is_empty() => ("get", text(400, "missing commitment: GET /get/0x<hex>")),
            "get" => ("get", self.get(arg).await),
            "health" if arg.is_empty() => ("health", text(200, "OK")),
            "metrics" if arg.is_empty() => (
                "metrics",
                (
                    StatusCode::OK,
                    [(
                        header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    self.metrics.render(),
                )
                    .into_response(),
            ),
            _ => (
                "other",
                text(
                    404,
                    format!("no route {method} /{path}; routes: POST /put, GET /get/0x<hex>, GET /health"),
                ),
            ),
        }
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

    /// Reads a body of at most `max_batch_bytes`, or answers `413`/`400`.
    async fn read_body(&self, req: Request<Body>) -> Result<Vec<u8>, Response> {
        let limit = self.adapter.config().max_batch_bytes;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        // Far over the limit: answer at once. Slightly over: read (and drop) the rest first, so
        // the client is not reset before it reads the 413.
        if let Some(size) = declared.filter(|&n| n > limit.saturating_add(DRAIN_BYTES)) {
            return Err(error(&AdapterError::TooLarge { size, limit }));
        }
        let mut stream = req.into_body().into_data_stream();
        let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit));
        let mut total = 0usize;
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => return Err(text(400, format!("could not read the body: {e}"))),
            };
            total = total.saturating_add(chunk.len());
            if total <= limit {
                body.extend_from_slice(&chunk);
            } else if total > limit.saturating_add(DRAIN_BYTES) {
                break;
            }
        }
        if total > limit {
            return Err(error(&AdapterError::TooLarge {
                size: declared.unwrap_or(total),
                limit,
            }));
        }
        Ok(body)
    }

    async fn get(&self, arg: &str) -> Response {
        let c = match Commitment::from_hex(arg) {
            Ok(c) => c,
            Err(e) => return text(400, e.to_string()),
        };
        match self.adapter.get(&c).await {
            Ok(data) => {
                self.metrics.get_bytes.inc_by(data.len() as u64);
                octets(data)
            }
            Err(e) => error(&e),
        }
    }
}

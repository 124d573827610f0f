//! The light client's HTTP JSON API (`specs/10-light-client.md`): status, per-height results
//! and sampled cells, a server-sent-event stream of verdicts, peers, verified namespace reads,
//! health and Prometheus metrics, and at `/` the page that shows them (`page.html`, embedded;
//! it reads nothing but these endpoints). Every error is a JSON body `{"error": "..."}` with a
//! matching HTTP status.

use std::{convert::Infallible, net::SocketAddr, time::Duration};

use axum::{
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{
        sse::{Event as SseEvent, KeepAlive, Sse},
        IntoResponse, Response,
    },
    routing::get,
    Json, Router,
};
use da_types::sampling;
use futures::{Stream, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_stream::wrappers::BroadcastStream;
use tokio_util::sync::CancellationToken;

use crate::{
    client::FetchError,
    sampler::{CellVerdict, HeightStatus},
    HeaderInfo, HeightCells, HeightStats, LightClient,
};

/// The page served at `/`: one HTML file, styles and script inline, nothing from elsewhere.
pub const PAGE: &str = include_str!("page.html");

/// Heights `/heights` returns when no `limit` is given.
pub const DEFAULT_HEIGHTS_LIMIT: usize = 64;

/// A height's status as JSON: `state` is `pending | sampling | available | unavailable`.
pub fn status_json(height: u64, status: &HeightStatus, stats: Option<HeightStats>) -> Value {
    let mut v = match status {
        HeightStatus::Pending => json!({ "state": "pending" }),
        HeightStatus::Sampling {
            done,
            total,
            failed,
        } => json!({ "state": "sampling", "samples_done": done, "samples_total": total,
                     "samples_failed": failed }),
        HeightStatus::Available {
            confidence,
            samples,
            failed,
            latency,
        } => json!({ "state": "available", "confidence": confidence, "samples_done": samples,
                     "samples_failed": failed, "latency_ms": ms(*latency) }),
        HeightStatus::Unavailable {
            cell,
            done,
            failed,
            latency,
        } => json!({ "state": "unavailable", "missing_cell": [cell.row, cell.col],
                     "samples_done": done, "samples_failed": failed,
                     "latency_ms": ms(*latency) }),
    };
    v["height"] = json!(height);
    if let Some(s) = stats {
        v["bytes_received"] = json!(s.bytes);
        v["verify_ms"] = json!(ms(s.verify));
        v["requests"] = json!(s.requests);
    }
    v
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// An API error: status and message.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn bad_request(what: String) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, what)
}

/// The router over a running light client.
pub fn router(client: LightClient) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/health", get(|| async { "ok" }))
        .route("/status", get(status))
        .route("/heights", get(heights))
        .route("/heights/{height}", get(height))
        .route("/heights/{height}/samples", get(samples))
        .route("/peers", get(peers))
        .route("/subscribe", get(subscribe))
        .route("/namespaces/{height}/{namespace}", get(namespace))
        .route("/metrics", get(metrics))
        .fallback(|| async {
            ApiError(
                StatusCode::NOT_FOUND,
                "no such endpoint: see / (the page), /status, /heights, /heights/{height}, \
                 /heights/{height}/samples, /subscribe, /peers, \
                 /namespaces/{height}/{namespace hex}, /metrics, /health"
                    .into(),
            )
        })
        .with_state(client)
}

/// Serves the API on `listener` within `limits` (connections, head size and time:
/// `specs/10-light-client.md`) until `cancel`.
pub async fn serve(
    listener: TcpListener,
    client: LightClient,
    limits: da_http::ServerLimits,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    da_http::serve(listener, router(client), limits, cancel).await
}

/// Binds the API address (an error names the address).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("bind {addr}: {e}")))
}

async fn status(State(c): State<LightClient>) -> Json<Value> {
    let statuses = c.statuses();
    let count = |f: fn(&HeightStatus) -> bool| statuses.iter().filter(|(_, s)| f(s)).count();
    let sampled_head = statuses
        .iter()
        .rev()
        .find(|(_, s)| s.is_final())
        .map(|(h, _)| *h);
    let p = c.progress();
    let latest = statuses
        .last()
        .map(|(h, s)| status_json(*h, s, c.stats(*h)));
    Json(json!({
        "peer_id": c.network().peer_id().to_string(),
        "head": p.head,
        "sampled_head": sampled_head,
        "serving_peers": c.serving_peers().len(),
        "heights": {
            "pending": count(|s| matches!(s, HeightStatus::Pending)),
            "sampling": count(|s| matches!(s, HeightStatus::Sampling { .. })),
            "available": count(|s| matches!(s, HeightStatus::Available { .. })),
            "unavailable": count(|s| matches!(s, HeightStatus::Unavailable { .. })),
        },
        "catch_up": { "from": p.from, "to": p.to, "done": p.done, "total": p.total },
        "latest": latest,
    }))
}

async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PAGE,
    )
}

/// `/heights?limit=N`: the newest `N` known heights (default 64, at most the window), newest
/// first, each as `/heights/{height}` shows it.
async fn heights(
    State(c): State<LightClient>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let limit = match q.get("limit") {
        None => DEFAULT_HEIGHTS_LIMIT,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| bad_request(format!("limit {l:?} is not a positive number")))?,
    };
    let list: Vec<Value> = c
        .statuses()
        .iter()
        .rev()
        .take(limit)
        .map(|(h, s)| status_json(*h, s, c.stats(*h)))
        .collect();
    Ok(Json(json!({ "head": c.head(), "heights": list })))
}

/// The withholding bound and what was checked against it, for a square of `k` rows.
pub fn samples_json(
    height: u64,
    status: Option<&HeightStatus>,
    info: Option<HeaderInfo>,
    cells: Option<&HeightCells>,
) -> Value {
    let k = info
        .map(|i| usize::from(i.k))
        .or(cells.map(|c| c.k))
        .unwrap_or(0);
    let count =
        |v: CellVerdict| cells.map_or(0, |c| c.cells.iter().filter(|(_, x)| *x == v).count());
    let verified = count(CellVerdict::Verified);
    let bound = sampling::min_unrecoverable_cells(k).ok().map(|m| {
        json!({
            "extended_cells": sampling::extended_cells(k),
            "min_withheld": m,
            "sampled": cells.map_or(0, |c| c.cells.len()),
            "verified": verified,
            "confidence": sampling::confidence(k, verified).unwrap_or(0.0),
        })
    });
    json!({
        "height": height,
        "k": k,
        "rows": 2 * k,
        "cols": da_types::consts::CELLS_PER_ROW,
        "state": status.map(|s| status_json(height, s, None)["state"].clone()),
        "cells": cells.map_or_else(Vec::new, |c| c.cells.iter()
            .map(|(i, v)| json!([i.row, i.col, v.as_str()])).collect()),
        "counts": {
            "verified": verified,
            "missing": count(CellVerdict::Missing),
            "bad": count(CellVerdict::Bad),
            "pending": count(CellVerdict::Pending),
        },
        "bound": bound,
        "certificate": info.map(|i| json!({
            "round": i.round,
            "signers": i.signers,
            "validators": i.validators,
            "signed_power": i.signed_power,
            "total_power": i.total_power,
            "blob_count": i.blob_count,
        })),
    })
}

async fn samples(
    State(c): State<LightClient>,
    Path(h): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let h = parse_height(&h)?;
    let status = c.status(h);
    let info = c.header_info(h);
    if status.is_none() && info.is_none() {
        return Err(unknown_height(&c, h));
    }
    Ok(Json(samples_json(
        h,
        status.as_ref(),
        info,
        c.cells(h).as_ref(),
    )))
}

/// `/peers`: connected peers, their scores (0 is neutral, lower is worse) and whether they
/// serve samples.
async fn peers(State(c): State<LightClient>) -> Result<Json<Value>, ApiError> {
    let net = c.network();
    let connected = net
        .peers()
        .await
        .map_err(|e| ApiError(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    let serving = c.serving_peers();
    let mut list = Vec::with_capacity(connected.len());
    for p in connected {
        let score = net.score(p).await.unwrap_or(0);
        list.push(json!({
            "peer_id": p.to_string(),
            "score": score,
            "serving": serving.contains(&p),
        }));
    }
    Ok(Json(json!({ "peers": list })))
}

/// A height from the path, or 400.
fn parse_height(h: &str) -> Result<u64, ApiError> {
    h.parse()
        .map_err(|_| bad_request(format!("height {h:?} is not a number")))
}

/// The 404 of a height this light client does not know.
fn unknown_height(c: &LightClient, h: u64) -> ApiError {
    ApiError(
        StatusCode::NOT_FOUND,
        format!(
            "height {h} is unknown to this light client (head {:?}, window {})",
            c.head(),
            c.window()
        ),
    )
}

async fn height(
    State(c): State<LightClient>,
    Path(h): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let h = parse_height(&h)?;
    let s = c.status(h).ok_or_else(|| unknown_height(&c, h))?;
    Ok(Json(status_json(h, &s, c.stats(h))))
}

async fn subscribe(
    State(c): State<LightClient>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let events = BroadcastStream::new(c.subscribe()).map(move |item| {
        Ok(match item {
            Ok((h, s)) => SseEvent::default()
                .event("status")
                .data(status_json(h, &s, c.stats(h)).to_string()),
            Err(_) => SseEvent::default()
                .event("lagged")
                .data(r#"{"error":"the subscriber fell behind; some updates were skipped"}"#),
        })
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

async fn namespace(
    State(c): State<LightClient>,
    Path((h, ns)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let height = parse_height(&h)?;
    let bytes = hex::decode(ns.trim_start_matches("0x"))
        .map_err(|e| bad_request(format!("namespace {ns:?} is not hex: {e}")))?;
    let namespace = da_types::convert::namespace(&bytes)
        .map_err(|e| bad_request(format!("namespace {ns:?}: {e}")))?;
    let blobs = c
        .namespace_blobs(height, namespace)
        .await
        .map_err(|e| match e {
            FetchError::Namespace { .. } => bad_request(e.to_string()),
            FetchError::NoPeers => ApiError(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
            FetchError::NotFound(_) => ApiError(StatusCode::NOT_FOUND, e.to_string()),
            FetchError::Unverified { .. } => ApiError(StatusCode::BAD_GATEWAY, e.to_string()),
        })?;
    let availability = c
        .status(height)
        .map(|s| status_json(height, &s, c.stats(height)));
    Ok(Json(json!({
        "height": height,
        "namespace": hex::encode(namespace.as_bytes()),
        "verified": "every cell's proof, the index and completeness against the certified header",
        "availability": availability,
        "blobs": blobs.iter().map(|b| json!({
            "blob_id": b.entry.blob_id.to_string(),
            "len": b.data.len(),
            "data_hex": hex::encode(&b.data),
        })).collect::<Vec<_>>(),
    })))
}

async fn metrics(State(c): State<LightClient>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        c.metrics().encode(),
    )
}

//! Bounded serving, shared by every server of the project: the posting adapter's DA-server API,
//! the light client's API, the node's metrics address ([`serve`], HTTP/1.1) and the node's gRPC
//! API ([`grpc`], HTTP/2). It owns the limits of `specs/06-grpc.md` §"Server limits": how many
//! connections are served at once, how long a client may take to send a request head (which
//! also bounds an idle keep-alive connection) or a body, and how large a request head may be.
//! A body is buffered as it arrives ([`read_body`]), never reserved from a declared length.

use std::{io, net::SocketAddr, sync::Arc, time::Duration};

use axum::{body::Body, Router};
use bytes::Bytes;
use futures::StreamExt;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use serde::{Deserialize, Serialize};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore},
};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

#[cfg(feature = "grpc")]
pub mod grpc;

/// Default connections served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Default time to send a request head (or, for gRPC, the HTTP/2 preface), seconds.
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
/// Default largest request head: 16 KiB (nginx and Go's servers allow 8 KiB to 1 MiB; no client
/// of these APIs sends more than a few hundred bytes).
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;
/// Default time a request body may take to arrive, seconds (the largest batch, 16 MiB, at 280 KB/s).
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 60;
/// Default gRPC requests in flight per connection.
pub const DEFAULT_GRPC_CONCURRENCY_PER_CONNECTION: usize = 64;
/// Default interval of the gRPC server's HTTP/2 keepalive pings, seconds.
pub const DEFAULT_GRPC_KEEPALIVE_SECS: u64 = 30;
/// The smallest head limit: hyper's smallest read buffer.
pub const MIN_HEADER_BYTES: usize = 8 * 1024;
/// Time in-flight requests get to finish at shutdown before their connections are dropped.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The limits of one server (`specs/06-grpc.md` §"Server limits"); [`Default`] is the constants
/// above. In a node's TOML file they are the `[limits]` table.
/// As command-line flags (the HTTP servers' binaries flatten it), the gRPC fields are not
/// offered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
#[serde(default, deny_unknown_fields)]
pub struct ServerLimits {
    /// Connections served at once; one more is answered `503` (HTTP) or closed (gRPC) at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Seconds a client has to send a whole request head (HTTP) or the HTTP/2 preface (gRPC);
    /// it also closes an HTTP keep-alive connection idle that long.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_HEADER_TIMEOUT_SECS)]
    pub header_timeout_secs: u64,
    /// Largest request head in bytes (request line and headers; HTTP/2: the header list); a
    /// larger one is answered `431`. At least 8192.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_HEADER_BYTES)]
    pub max_header_bytes: usize,
    /// Seconds a request body may take to arrive in full; a slower one is answered `408`.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_BODY_TIMEOUT_SECS)]
    pub body_timeout_secs: u64,
    /// gRPC: requests in flight on one connection (more wait for a slot).
    #[arg(skip = DEFAULT_GRPC_CONCURRENCY_PER_CONNECTION)]
    pub grpc_concurrency_per_connection: usize,
    /// gRPC: seconds between HTTP/2 keepalive pings; a client that does not answer one within
    /// the same time is disconnected.
    #[arg(skip = DEFAULT_GRPC_KEEPALIVE_SECS)]
    pub grpc_keepalive_secs: u64,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout_secs: DEFAULT_HEADER_TIMEOUT_SECS,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            body_timeout_secs: DEFAULT_BODY_TIMEOUT_SECS,
            grpc_concurrency_per_connection: DEFAULT_GRPC_CONCURRENCY_PER_CONNECTION,
            grpc_keepalive_secs: DEFAULT_GRPC_KEEPALIVE_SECS,
        }
    }
}

/// Why a set of limits cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LimitsError {
    /// A limit is zero or below its floor.
    #[error("{what} must be at least {min}, got {got}")]
    TooSmall {
        /// The limit.
        what: &'static str,
        /// Its floor.
        min: u64,
        /// The value given.
        got: u64,
    },
}

impl ServerLimits {
    /// Checks every limit against its floor (a zero timeout would close every connection).
    pub fn validate(&self) -> Result<(), LimitsError> {
        let checks = [
            ("max_connections", 1, self.max_connections as u64),
            ("header_timeout_secs", 1, self.header_timeout_secs),
            (
                "max_header_bytes",
                MIN_HEADER_BYTES as u64,
                self.max_header_bytes as u64,
            ),
            ("body_timeout_secs", 1, self.body_timeout_secs),
            (
                "grpc_concurrency_per_connection",
                1,
                self.grpc_concurrency_per_connection as u64,
            ),
            ("grpc_keepalive_secs", 1, self.grpc_keepalive_secs),
        ];
        for (what, min, got) in checks {
            if got < min {
                return Err(LimitsError::TooSmall { what, min, got });
            }
        }
        Ok(())
    }

    /// [`Self::header_timeout_secs`] as a duration.
    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_secs)
    }

    /// [`Self::body_timeout_secs`] as a duration.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs)
    }

    /// The head limit as hyper takes it (never below its floor).
    pub(crate) fn head_bytes(&self) -> usize {
        self.max_header_bytes.max(MIN_HEADER_BYTES)
    }
}

/// Counts the connections being served and refuses one over the limit.
#[derive(Clone, Debug)]
pub struct ConnectionGate {
    slots: Arc<Semaphore>,
    max: usize,
}

impl ConnectionGate {
    /// A gate of `max` connections.
    pub fn new(max: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// A slot for one more connection, or `None` when all are taken.
    pub fn enter(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }

    /// Connections being served now.
    pub fn open(&self) -> usize {
        self.max - self.slots.available_permits()
    }
}

/// Accepts the next connection, retrying transient errors (a full file table, a connection
/// reset before it was accepted) after a pause instead of stopping the server.
async fn accept(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(c) => return c,
            Err(e) => {
                warn!("accept failed: {e}; retrying in 100 ms");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// What a client over the connection limit reads before the connection closes.
const TOO_MANY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n\
Retry-After: 1\r\nConnection: close\r\nContent-Length: 42\r\n\r\n\
too many connections; retry in a second\r\n\r\n";

/// Serves `router` over HTTP/1.1 on `listener` within `limits` until `shutdown` fires; requests
/// in flight then get a few seconds to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: CancellationToken,
) -> io::Result<()> {
    limits
        .validate()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let gate = ConnectionGate::new(limits.max_connections);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout())
        .max_buf_size(limits.head_bytes());
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            c = accept(&listener) => c,
        };
        let Some(permit) = gate.enter() else {
            // Non-blocking and at most once: a refused client costs no task and no wait.
            let _ = stream.try_write(TOO_MANY);
            debug!(%peer, open = gate.open(), "connection refused: at the limit");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                debug!(%peer, "connection closed: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        info!("connections still open after {SHUTDOWN_GRACE:?}; dropping them");
    }
    Ok(())
}

/// Why a request body was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body is larger than allowed (`413`).
    #[error("the body is {size} bytes or more, over the limit of {limit}")]
    TooLarge {
        /// Bytes declared or received.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The body did not arrive in time (`408`).
    #[error("the body did not arrive within {0:?}")]
    Timeout(Duration),
    /// The connection failed or the framing was invalid (`400`).
    #[error("could not read the body: {0}")]
    Read(String),
}

impl BodyError {
    /// The HTTP status that answers it.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } => 413,
            Self::Timeout(_) => 408,
            Self::Read(_) => 400,
        }
    }
}

/// Bytes past the limit still read (and dropped) before a `413`, so that the client gets the
/// answer instead of a connection reset.
const DRAIN_BYTES: usize = 1 << 20;

/// Reads a body of at most `limit` bytes within `timeout`, buffering only what has arrived: a
/// declared `Content-Length` is checked against the limit but never reserved, so a client that
/// declares 16 MB and sends nothing holds no memory. A body far over the limit by its declared
/// length is refused before a byte is read.
pub async fn read_body(
    body: Body,
    declared: Option<usize>,
    limit: usize,
    timeout: Duration,
) -> Result<Vec<u8>, BodyError> {
    if let Some(size) = declared.filter(|&n| n > limit.saturating_add(DRAIN_BYTES)) {
        return Err(BodyError::TooLarge { size, limit });
    }
    let read = async {
        let mut stream = body.into_data_stream();
        let mut out: Vec<u8> = Vec::new();
        let mut total = 0usize;
        while let Some(chunk) = stream.next().await {
            let chunk: Bytes = chunk.map_err(|e| BodyError::Read(e.to_string()))?;
            total = total.saturating_add(chunk.len());
            if total <= limit {
                out.extend_from_slice(&chunk);
            } else if total > limit.saturating_add(DRAIN_BYTES) {
                break;
            }
        }
        if total > limit {
            return Err(BodyError::TooLarge {
                size: declared.unwrap_or(total).max(total),
                limit,
            });
        }
        Ok(out)
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(r) => r,
        Err(_) => Err(BodyError::Timeout(timeout)),
    }
}

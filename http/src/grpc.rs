//! The gRPC server's incoming connections within [`ServerLimits`]: at most `max_connections`
//! at once (one more is closed at once), and each must send the HTTP/2 preface within
//! `header_timeout_secs` or be closed. HTTP/2 itself (keepalive, streams, header list size,
//! requests per connection) is bounded by the tonic builder ([`configure`]), and every
//! request's body by `body_timeout_secs` ([`BodyDeadlineLayer`]).

use std::{
    future::Future,
    io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use futures::Stream;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{mpsc, OwnedSemaphorePermit},
};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::{Connected, TcpConnectInfo};
use tracing::debug;

use crate::{accept, ConnectionGate, ServerLimits};

/// The HTTP/2 client preface every gRPC connection starts with.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A served connection: the stream and its slot, freed when the connection is dropped.
#[derive(Debug)]
pub struct GatedStream {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
}

impl Connected for GatedStream {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream.connect_info()
    }
}

impl AsyncRead for GatedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for GatedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Waits until the whole preface has arrived (peeked, not consumed), or fails: `Ok(false)`
/// when the bytes are not a preface (an HTTP/1 client: tonic answers it itself).
async fn preface(stream: &TcpStream) -> io::Result<bool> {
    let mut buf = [0u8; PREFACE.len()];
    loop {
        let n = stream.peek(&mut buf).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if buf[..n] != PREFACE[..n] {
            return Ok(false);
        }
        if n == PREFACE.len() {
            return Ok(true);
        }
        // Part of the preface is here: `peek` would return at once again, so wait a little.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Accepts connections on `listener` within `limits` until `shutdown` fires, yielding each once
/// it has sent its preface in time; for `serve_with_incoming_shutdown`.
pub fn incoming(
    listener: TcpListener,
    limits: &ServerLimits,
    shutdown: CancellationToken,
) -> impl Stream<Item = io::Result<GatedStream>> {
    let gate = ConnectionGate::new(limits.max_connections.max(1));
    let wait = limits.header_timeout();
    // Ready connections wait here for the server; the gate bounds how many exist at all.
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let (stream, peer) = tokio::select! {
                () = shutdown.cancelled() => break,
                () = tx.closed() => break,
                c = accept(&listener) => c,
            };
            let Some(slot) = gate.enter() else {
                debug!(%peer, open = gate.open(), "gRPC connection refused: at the limit");
                continue;
            };
            let _ = stream.set_nodelay(true);
            let tx = tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(wait, preface(&stream)).await {
                    Ok(Ok(_)) => {
                        let _ = tx
                            .send(Ok(GatedStream {
                                stream,
                                _slot: slot,
                            }))
                            .await;
                    }
                    Ok(Err(e)) => debug!(%peer, "gRPC connection closed before its preface: {e}"),
                    Err(_) => debug!(%peer, "gRPC connection closed: no preface within {wait:?}"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

/// Applies the HTTP/2 limits of `limits` to a tonic server builder, and the body timeout to
/// every request ([`BodyDeadlineLayer`]).
pub fn configure(
    builder: tonic::transport::Server,
    limits: &ServerLimits,
) -> tonic::transport::Server<
    tower::layer::util::Stack<BodyDeadlineLayer, tower::layer::util::Identity>,
> {
    let keepalive = Duration::from_secs(limits.grpc_keepalive_secs.max(1));
    builder
        .concurrency_limit_per_connection(limits.grpc_concurrency_per_connection.max(1))
        .max_concurrent_streams(
            u32::try_from(limits.grpc_concurrency_per_connection)
                .unwrap_or(u32::MAX)
                .saturating_mul(2),
        )
        .http2_keepalive_interval(Some(keepalive))
        .http2_keepalive_timeout(Some(keepalive))
        .http2_max_header_list_size(u32::try_from(limits.head_bytes()).unwrap_or(u32::MAX))
        .layer(BodyDeadlineLayer(limits.body_timeout()))
}

/// Bounds the time a gRPC request's body may take to arrive: a client that announces a message
/// and then sends it slowly, or not at all, gets `DEADLINE_EXCEEDED` when the time is up
/// instead of holding its stream (and the buffer tonic reserved for the message) forever. The
/// clock starts when the request's headers arrive and stops at the body's end, so a unary
/// call's handler (a `Submit` waiting for inclusion, a subscription) is never cut short.
#[derive(Clone, Copy, Debug)]
pub struct BodyDeadlineLayer(pub Duration);

impl<S> tower::Layer<S> for BodyDeadlineLayer {
    type Service = BodyDeadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyDeadline {
            inner,
            limit: self.0,
        }
    }
}

/// The service of [`BodyDeadlineLayer`].
#[derive(Clone, Debug)]
pub struct BodyDeadline<S> {
    inner: S,
    limit: Duration,
}

impl<S> tower::Service<http::Request<tonic::body::Body>> for BodyDeadline<S>
where
    S: tower::Service<http::Request<tonic::body::Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        let limit = self.limit;
        self.inner.call(req.map(|body| {
            tonic::body::Body::new(TimedBody {
                inner: body,
                deadline: Box::pin(tokio::time::sleep(limit)),
                limit,
            })
        }))
    }
}

/// A request body that fails once its deadline passes before its end.
struct TimedBody {
    inner: tonic::body::Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
}

impl http_body::Body for TimedBody {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Pending => {
                if self.deadline.as_mut().poll(cx).is_ready() {
                    let limit = self.limit;
                    Poll::Ready(Some(Err(tonic::Status::deadline_exceeded(format!(
                        "the request body did not arrive within {limit:?}"
                    )))))
                } else {
                    Poll::Pending
                }
            }
            ready => ready,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

//! The bounds of [`da_http::serve`] and `da_http::grpc` against real sockets on 127.0.0.1: an
//! oversized head is answered 431, a slow head is closed at its timeout, a connection over the
//! limit is answered 503 and the server serves again once one closes; a body is read within its
//! limit and time; a gRPC connection that never sends its preface is closed.

use std::{net::SocketAddr, time::Duration};

use axum::{body::Body, routing::get, Router};
use da_http::{read_body, BodyError, ServerLimits};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use tokio_util::sync::CancellationToken;

async fn server(limits: ServerLimits) -> (SocketAddr, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let cancel = CancellationToken::new();
    let router = Router::new().route("/", get(|| async { "ok" }));
    tokio::spawn(da_http::serve(listener, router, limits, cancel.clone()));
    (addr, cancel)
}

/// The status code of the answer, or `None` if the server closed without one; panics if it does
/// neither within `within`.
async fn answer(s: &mut TcpStream, within: Duration) -> Option<u16> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        match tokio::time::timeout(within, s.read(&mut chunk)).await {
            Err(_) => panic!("neither answered nor closed within {within:?}"),
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&buf)
        .strip_prefix("HTTP/1.1 ")
        .and_then(|t| t.get(..3))
        .and_then(|c| c.parse().ok())
}

async fn get_root(addr: SocketAddr) -> Option<u16> {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .ok()?;
    answer(&mut s, Duration::from_secs(10)).await
}

#[tokio::test]
async fn heads_are_bounded_in_size_and_time() {
    let (addr, cancel) = server(ServerLimits {
        header_timeout_secs: 1,
        ..ServerLimits::default()
    })
    .await;
    assert_eq!(get_root(addr).await, Some(200));
    // A head over 16 KiB: 431 (or a close, if the reset beats the answer), never served.
    let big = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(200_000)
    );
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let _ = s.write_all(big.as_bytes()).await;
    let got = answer(&mut s, Duration::from_secs(10)).await;
    assert!(matches!(got, Some(431) | None), "{got:?}");
    // Half a head, then silence: closed at the timeout. An idle keep-alive connection too.
    let mut half = TcpStream::connect(addr).await.expect("connect");
    half.write_all(b"GET / HTTP/1.1\r\nHost:")
        .await
        .expect("write");
    let mut idle = TcpStream::connect(addr).await.expect("connect");
    let t = std::time::Instant::now();
    let got = answer(&mut half, Duration::from_secs(10)).await;
    assert!(matches!(got, Some(408) | None), "{got:?}");
    assert!(answer(&mut idle, Duration::from_secs(10)).await.is_none());
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    cancel.cancel();
}

#[tokio::test]
async fn a_connection_over_the_limit_gets_503_and_a_freed_slot_serves_again() {
    let (addr, cancel) = server(ServerLimits {
        max_connections: 2,
        ..ServerLimits::default()
    })
    .await;
    let a = TcpStream::connect(addr).await.expect("connect");
    let b = TcpStream::connect(addr).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(get_root(addr).await, Some(503));
    drop((a, b));
    let mut served = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if get_root(addr).await == Some(200) {
            served = true;
            break;
        }
    }
    assert!(served);
    cancel.cancel();
}

#[tokio::test]
async fn bodies_are_read_within_their_limit_and_time() {
    let t = Duration::from_secs(5);
    let body = |parts: Vec<&'static [u8]>| {
        Body::from_stream(futures::stream::iter(
            parts
                .into_iter()
                .map(|p| Ok::<_, std::io::Error>(bytes::Bytes::from_static(p))),
        ))
    };
    let got = read_body(body(vec![b"ab", b"cd"]), None, 4, t)
        .await
        .expect("fits");
    assert_eq!(got, b"abcd");
    let over = read_body(body(vec![b"ab", b"cde"]), None, 4, t).await;
    assert!(matches!(
        over,
        Err(BodyError::TooLarge { size: 5, limit: 4 })
    ));
    // Declared far over the limit: refused before a byte is read.
    let declared = read_body(body(vec![]), Some(usize::MAX), 4, t).await;
    assert!(matches!(declared, Err(BodyError::TooLarge { .. })));
    // Declared within the limit but never sent: a timeout.
    let (_tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
    let never = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let slow = read_body(never, Some(4), 4, Duration::from_millis(200)).await;
    assert!(matches!(slow, Err(BodyError::Timeout(_))), "{slow:?}");
    assert_eq!(BodyError::Timeout(t).http_status(), 408);
    let failing = Body::from_stream(futures::stream::iter([Err::<bytes::Bytes, _>(
        std::io::Error::other("reset"),
    )]));
    assert_eq!(
        read_body(failing, None, 4, t)
            .await
            .expect_err("read error")
            .http_status(),
        400
    );
}

#[test]
fn limits_are_validated() {
    assert!(ServerLimits::default().validate().is_ok());
    for bad in [
        ServerLimits {
            max_connections: 0,
            ..ServerLimits::default()
        },
        ServerLimits {
            header_timeout_secs: 0,
            ..ServerLimits::default()
        },
        ServerLimits {
            max_header_bytes: 100,
            ..ServerLimits::default()
        },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
    }
}

#[cfg(feature = "grpc")]
#[tokio::test]
async fn a_grpc_connection_without_its_preface_is_closed_and_one_over_the_limit_at_once() {
    use futures::StreamExt;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let cancel = CancellationToken::new();
    let limits = ServerLimits {
        max_connections: 3,
        header_timeout_secs: 1,
        ..ServerLimits::default()
    };
    let mut incoming = Box::pin(da_http::grpc::incoming(listener, &limits, cancel.clone()));
    // One sends the preface: it is yielded. One sends nothing: closed at the timeout.
    let mut good = TcpStream::connect(addr).await.expect("connect");
    good.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .expect("preface");
    let served = tokio::time::timeout(Duration::from_secs(5), incoming.next())
        .await
        .expect("yielded")
        .expect("open")
        .expect("stream");
    let mut silent = TcpStream::connect(addr).await.expect("connect");
    let t = std::time::Instant::now();
    assert!(answer(&mut silent, Duration::from_secs(10)).await.is_none());
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    // Three slots: the served one and two silent ones fill them; a fourth is closed at once.
    let _s1 = TcpStream::connect(addr).await.expect("connect");
    let _s2 = TcpStream::connect(addr).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut over = TcpStream::connect(addr).await.expect("connect");
    let t = std::time::Instant::now();
    assert!(answer(&mut over, Duration::from_secs(10)).await.is_none());
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    drop(served);
    cancel.cancel();
}

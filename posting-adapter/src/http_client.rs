//! A minimal HTTP/1.1 client of the DA-server API that sends exactly what it is given (method,
//! raw path, headers, body), as op-batcher's and op-node's `DAClient` would. For conformance
//! tests, benchmarks and tools; not a general-purpose client.

use std::{net::SocketAddr, time::Duration};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// A response: status, headers (lowercased names) and body.
#[derive(Clone, Debug)]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Body bytes (de-chunked).
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first header named `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request on a fresh connection (`Connection: close`) and reads the whole response.
/// `body` `None` sends no body headers; `Some` sends `Content-Length` unless `chunked`.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
    chunked: bool,
    timeout: Duration,
) -> std::io::Result<RawResponse> {
    tokio::time::timeout(timeout, async {
        let mut s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (n, v) in headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        match (body, chunked) {
            (Some(b), false) => head.push_str(&format!("Content-Length: {}\r\n", b.len())),
            (Some(_), true) => head.push_str("Transfer-Encoding: chunked\r\n"),
            (None, _) => {}
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).await?;
        if let Some(b) = body {
            // A server may answer early (413) and close: a failed write still reads the answer,
            // as Go's HTTP client does.
            let sent: std::io::Result<()> = async {
                if chunked {
                    for c in b.chunks(64 * 1024) {
                        s.write_all(format!("{:x}\r\n", c.len()).as_bytes()).await?;
                        s.write_all(c).await?;
                        s.write_all(b"\r\n").await?;
                    }
                    s.write_all(b"0\r\n\r\n").await
                } else {
                    s.write_all(b).await
                }
            }
            .await;
            if let Err(e) = sent {
                let mut raw = Vec::new();
                let _ = s.read_to_end(&mut raw).await;
                return if raw.is_empty() { Err(e) } else { parse(&raw) };
            }
        }
        let mut raw = Vec::new();
        // The server may answer (e.g. 413) and close before reading the whole body.
        let _ = s.read_to_end(&mut raw).await;
        parse(&raw)
    })
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "request timed out"))?
}

fn invalid(why: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_string())
}

fn parse(raw: &[u8]) -> std::io::Result<RawResponse> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| invalid("no end of headers"))?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| invalid("headers not utf-8"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| invalid("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body)?;
    } else if let Some(len) = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut b: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| invalid("bad chunk"))?;
        let size = std::str::from_utf8(&b[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .ok_or_else(|| invalid("bad chunk size"))?;
        b = &b[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if b.len() < size + 2 {
            return Err(invalid("short chunk"));
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

//! Framing of the request-response protocols: one unsigned-varint length-prefixed protobuf
//! message per direction, with a size bound per protocol and direction checked *before* the
//! body is read, so a peer cannot make us buffer more than the bound.

use std::{io, marker::PhantomData};

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;

/// Byte bounds of one protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body.
    pub request: usize,
    /// Largest response body.
    pub response: usize,
}

/// A request-response codec of protobuf messages `Req`/`Resp` within [`Limits`].
#[derive(Debug)]
pub struct ProtoCodec<Req, Resp> {
    limits: Limits,
    _types: PhantomData<fn() -> (Req, Resp)>,
}

impl<Req, Resp> Clone for ProtoCodec<Req, Resp> {
    fn clone(&self) -> Self {
        Self::new(self.limits)
    }
}

impl<Req, Resp> ProtoCodec<Req, Resp> {
    /// A codec with these bounds.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            _types: PhantomData,
        }
    }
}

/// Reads an unsigned LEB128 length (at most 5 bytes, so at most `u32::MAX`).
async fn read_len<T: AsyncRead + Unpin>(io: &mut T) -> io::Result<usize> {
    let mut value = 0usize;
    for i in 0..5 {
        let mut b = [0u8; 1];
        io.read_exact(&mut b).await?;
        value |= usize::from(b[0] & 0x7f) << (7 * i);
        if b[0] & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "length prefix too long",
    ))
}

fn write_len(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Reads one bounded message.
pub async fn read_message<M: prost::Message + Default, T: AsyncRead + Unpin>(
    io: &mut T,
    max: usize,
) -> io::Result<M> {
    let len = read_len(io).await?;
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("message of {len} bytes, the bound is {max}"),
        ));
    }
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    M::decode(buf.as_slice()).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Writes one bounded message (refusing to send what the peer would refuse to read).
pub async fn write_message<M: prost::Message, T: AsyncWrite + Unpin>(
    io: &mut T,
    msg: &M,
    max: usize,
) -> io::Result<()> {
    let len = msg.encoded_len();
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("message of {len} bytes, the bound is {max}"),
        ));
    }
    let mut out = Vec::with_capacity(len + 5);
    write_len(len, &mut out);
    msg.encode(&mut out)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    io.write_all(&out).await?;
    io.close().await
}

#[async_trait::async_trait]
impl<Req, Resp> libp2p::request_response::Codec for ProtoCodec<Req, Resp>
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    type Protocol = StreamProtocol;
    type Request = Req;
    type Response = Resp;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Req>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_message(io, self.limits.request).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Resp>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_message(io, self.limits.response).await
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, req: Req) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_message(io, &req, self.limits.request).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        resp: Resp,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_message(io, &resp, self.limits.response).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use da_proto::v1 as pb;
    use futures::io::Cursor;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        futures::executor::block_on(f)
    }

    #[test]
    fn round_trips_and_enforces_bounds_before_reading() {
        let msg = pb::RowRequest {
            height: 300,
            row: 7,
        };
        let mut buf = Cursor::new(Vec::new());
        block_on(write_message(&mut buf, &msg, 64)).expect("write");
        let bytes = buf.into_inner();
        let back: pb::RowRequest =
            block_on(read_message(&mut Cursor::new(bytes.clone()), 64)).expect("read");
        assert_eq!(back, msg);
        // The reader refuses a declared length over its bound without reading the body.
        let e = block_on(read_message::<pb::RowRequest, _>(
            &mut Cursor::new(bytes),
            2,
        ))
        .expect_err("over the bound");
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        // A huge declared length with no body is refused, not allocated.
        let mut huge = Vec::new();
        write_len(usize::MAX >> 40, &mut huge);
        assert!(block_on(read_message::<pb::RowRequest, _>(
            &mut Cursor::new(huge),
            1 << 20
        ))
        .is_err());
        // Too many continuation bytes, truncated bodies and garbage are errors.
        for bad in [vec![0xff; 6], vec![5, 1, 2], vec![3, 0xff, 0xff, 0xff]] {
            assert!(
                block_on(read_message::<pb::RowRequest, _>(&mut Cursor::new(bad), 64)).is_err()
            );
        }
        // The writer refuses what the peer would refuse.
        let mut sink = Cursor::new(Vec::new());
        assert!(block_on(write_message(&mut sink, &msg, 1)).is_err());
    }
}

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

/// The unsigned-varint length prefix of a `len`-byte message, as [`write_message`] writes it
/// (for tests and tools that build frames by hand).
pub fn length_prefix(len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    write_len(len, &mut out);
    out
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

/// Bytes reserved before a message's body arrives; more is allocated only as bytes come.
const INITIAL_READ_CAPACITY: usize = 64 * 1024;

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
    // Buffered as it arrives, never reserved from the declared length: a peer that declares
    // the bound and then trickles (or sends nothing) holds only what it has sent.
    let mut buf = Vec::with_capacity(len.min(INITIAL_READ_CAPACITY));
    (&mut *io).take(len as u64).read_to_end(&mut buf).await?;
    if buf.len() < len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("message of {len} bytes ended after {}", buf.len()),
        ));
    }
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

/// A request as the codec read it off an inbound stream: the message, or why its frame is
/// malformed (a length prefix over the bound or too long, bytes that are not the message).
///
/// libp2p's request-response (0.29) drops a failed inbound read without telling the behaviour
/// which peer sent it ("inbound failure reported for an unknown request_id"), so a peer sending
/// garbage would never be penalised. The codec therefore hands a malformed frame up as a value;
/// the event loop penalises its sender and leaves it unanswered. A stream that merely ends or
/// resets early is still an I/O error (a network fault, not an offence).
#[derive(Clone, Debug, PartialEq)]
pub enum Decoded<M> {
    /// A well-formed message.
    Message(M),
    /// A malformed frame, and why.
    Malformed(String),
}

#[async_trait::async_trait]
impl<Req, Resp> libp2p::request_response::Codec for ProtoCodec<Req, Resp>
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    type Protocol = StreamProtocol;
    type Request = Decoded<Req>;
    type Response = Resp;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Decoded<Req>>
    where
        T: AsyncRead + Unpin + Send,
    {
        match read_message(io, self.limits.request).await {
            Ok(m) => Ok(Decoded::Message(m)),
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                Ok(Decoded::Malformed(e.to_string()))
            }
            Err(e) => Err(e),
        }
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Resp>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_message(io, self.limits.response).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Decoded<Req>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match req {
            Decoded::Message(m) => write_message(io, &m, self.limits.request).await,
            Decoded::Malformed(why) => Err(io::Error::new(io::ErrorKind::InvalidInput, why)),
        }
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
        // Within the bound, the declared length is not reserved: 32 GiB (the largest prefix,
        // more than this machine's memory) declared under an unlimited bound, then the stream
        // ends: an early end, not an allocation of 32 GiB.
        let mut declared = Vec::new();
        write_len((1 << 35) - 1, &mut declared);
        declared.extend_from_slice(&[0x08, 0x01]);
        let e = block_on(read_message::<pb::RowRequest, _>(
            &mut Cursor::new(declared),
            usize::MAX,
        ))
        .expect_err("the body ends early");
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        // Too many continuation bytes, truncated bodies and garbage are errors.
        for bad in [vec![0xff; 6], vec![5, 1, 2], vec![3, 0xff, 0xff, 0xff]] {
            assert!(
                block_on(read_message::<pb::RowRequest, _>(&mut Cursor::new(bad), 64)).is_err()
            );
        }
        // The request-response codec hands a malformed inbound frame up as a value (so its
        // sender can be penalised), and an early end as an error.
        use libp2p::request_response::Codec as _;
        let mut codec = ProtoCodec::<pb::RowRequest, pb::RowResponse>::new(Limits {
            request: 64,
            response: 64,
        });
        let proto = StreamProtocol::new("/t/1");
        for bad in [vec![0xff; 6], vec![3, 0xff, 0xff, 0xff], vec![65, 0]] {
            let got = block_on(codec.read_request(&proto, &mut Cursor::new(bad.clone())));
            assert!(matches!(got, Ok(Decoded::Malformed(_))), "{bad:?}: {got:?}");
        }
        let got = block_on(codec.read_request(&proto, &mut Cursor::new(vec![5, 1, 2])));
        assert_eq!(
            got.expect_err("early end").kind(),
            io::ErrorKind::UnexpectedEof
        );
        let mut good = Cursor::new(Vec::new());
        block_on(write_message(&mut good, &msg, 64)).expect("write");
        assert_eq!(
            block_on(codec.read_request(&proto, &mut Cursor::new(good.into_inner()))).expect("ok"),
            Decoded::Message(msg)
        );
        // The writer refuses what the peer would refuse.
        let mut sink = Cursor::new(Vec::new());
        assert!(block_on(write_message(&mut sink, &msg, 1)).is_err());
    }
}

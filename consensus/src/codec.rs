//! The binary encoding of every consensus message on the wire and in the WAL
//! (`specs/11-consensus.md`, "Wire").
//!
//! Big-endian integers, `u32_be` length prefixes, one tag byte per enum variant. Decoding
//! never trusts a length: every read is bounded by the bytes left, unknown tags and trailing
//! bytes are errors, and signatures and keys are checked points.

use bytes::Bytes;
use da_types::{bls::BlsSignature, header_v2::BlockHeader};
use malachitebft_app_channel::app::consensus::{LivenessMsg, SignedConsensusMsg};
use malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_app_channel::app::types::core::{
    CommitCertificate, CommitSignature, ExtendedCommitCertificate, ExtendedCommitSignature,
    NilOrVal, PolkaCertificate, PolkaSignature, Round, RoundCertificate, RoundCertificateType,
    RoundSignature, SignedMessage, ValidatorProof, Validity, VoteType,
};
use malachitebft_app_channel::app::types::sync::{RawDecidedValue, Request, Response, Status};
use malachitebft_app_channel::app::types::{PeerId, ProposedValue};
use malachitebft_codec::{Codec, HasEncodedLen};
use malachitebft_sync::{ValueRequest, ValueResponse};

use crate::context::{Address, DaContext, HeaderId, HeaderValue, Height, Proposal, Sig, Vote};
use crate::parts::{PartFin, PartInit, ProposalPart};

/// Why bytes do not decode.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// Fewer bytes than the message needs.
    #[error("truncated message")]
    Truncated,
    /// Bytes left over after the message.
    #[error("{0} trailing bytes")]
    Trailing(usize),
    /// An unknown enum tag.
    #[error("unknown {what} tag {tag}")]
    Tag {
        /// What was being decoded.
        what: &'static str,
        /// The tag.
        tag: u8,
    },
    /// A field that does not decode (a point off the curve, a bad header, ...).
    #[error("invalid {0}")]
    Invalid(String),
}

type Result<T> = std::result::Result<T, CodecError>;

/// Writes the wire encoding.
#[derive(Default)]
struct W(Vec<u8>);

impl W {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn raw(&mut self, v: &[u8]) {
        self.0.extend_from_slice(v);
    }
    fn bytes(&mut self, v: &[u8]) {
        self.u32(v.len() as u32);
        self.raw(v);
    }
    fn round(&mut self, r: Round) {
        match r.as_u32() {
            None => self.u8(0),
            Some(r) => {
                self.u8(1);
                self.u32(r);
            }
        }
    }
    fn height(&mut self, h: Height) {
        self.u64(h.0);
    }
    fn address(&mut self, a: &Address) {
        self.raw(&a.0);
    }
    fn sig(&mut self, s: &Sig) {
        self.raw(&s.0.to_bytes());
    }
    fn value_id(&mut self, id: &HeaderId) {
        self.raw(&id.0);
    }
    fn nil_or_val(&mut self, v: &NilOrVal<HeaderId>) {
        match v {
            NilOrVal::Nil => self.u8(0),
            NilOrVal::Val(id) => {
                self.u8(1);
                self.value_id(id);
            }
        }
    }
    fn vote_type(&mut self, t: VoteType) {
        self.u8(match t {
            VoteType::Prevote => 1,
            VoteType::Precommit => 2,
        });
    }
    fn count(&mut self, n: usize) {
        self.u32(n as u32);
    }
}

/// Reads the wire encoding.
struct R<'a>(&'a [u8]);

impl<'a> R<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(CodecError::Truncated);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn fixed<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.fixed()?))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.fixed()?))
    }
    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    /// A count of items each at least `min` bytes long: bounded by what is left.
    fn count(&mut self, min: usize) -> Result<usize> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min.max(1)) > self.0.len() {
            return Err(CodecError::Truncated);
        }
        Ok(n)
    }
    fn round(&mut self) -> Result<Round> {
        match self.u8()? {
            0 => Ok(Round::Nil),
            1 => Ok(Round::Some(self.u32()?)),
            tag => Err(CodecError::Tag { what: "round", tag }),
        }
    }
    fn height(&mut self) -> Result<Height> {
        Ok(Height(self.u64()?))
    }
    fn address(&mut self) -> Result<Address> {
        Ok(Address(self.fixed()?))
    }
    fn sig(&mut self) -> Result<Sig> {
        let b: [u8; 96] = self.fixed()?;
        BlsSignature::from_bytes(&b)
            .map(Sig)
            .map_err(|e| CodecError::Invalid(format!("signature: {e}")))
    }
    fn value_id(&mut self) -> Result<HeaderId> {
        Ok(HeaderId(self.fixed()?))
    }
    fn nil_or_val(&mut self) -> Result<NilOrVal<HeaderId>> {
        match self.u8()? {
            0 => Ok(NilOrVal::Nil),
            1 => Ok(NilOrVal::Val(self.value_id()?)),
            tag => Err(CodecError::Tag {
                what: "vote value",
                tag,
            }),
        }
    }
    fn vote_type(&mut self) -> Result<VoteType> {
        match self.u8()? {
            1 => Ok(VoteType::Prevote),
            2 => Ok(VoteType::Precommit),
            tag => Err(CodecError::Tag {
                what: "vote type",
                tag,
            }),
        }
    }
    fn peer_id(&mut self) -> Result<PeerId> {
        PeerId::from_bytes(self.bytes()?).map_err(|e| CodecError::Invalid(format!("peer id: {e}")))
    }
    fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(CodecError::Trailing(self.0.len()))
        }
    }
}

const SIG: usize = 96;
const ADDR: usize = 20;

fn header_value(w: &mut W, v: &HeaderValue) {
    w.raw(&v.0.encode());
}

fn read_header_value(r: &mut R<'_>) -> Result<HeaderValue> {
    let b = r.take(da_types::header_v2::HEADER_V2_LEN)?;
    da_types::header_v2::ConsensusHeader::decode(b)
        .map(HeaderValue)
        .map_err(|e| CodecError::Invalid(format!("header: {e}")))
}

fn vote(w: &mut W, v: &Vote) {
    w.vote_type(v.kind);
    w.height(v.height);
    w.round(v.round);
    w.nil_or_val(&v.value);
    w.address(&v.validator);
}

fn read_vote(r: &mut R<'_>) -> Result<Vote> {
    Ok(Vote {
        kind: r.vote_type()?,
        height: r.height()?,
        round: r.round()?,
        value: r.nil_or_val()?,
        validator: r.address()?,
        extension: None,
    })
}

fn proposal(w: &mut W, p: &Proposal) {
    w.height(p.height);
    w.round(p.round);
    header_value(w, &p.value);
    w.round(p.pol_round);
    w.address(&p.proposer);
}

fn read_proposal(r: &mut R<'_>) -> Result<Proposal> {
    Ok(Proposal {
        height: r.height()?,
        round: r.round()?,
        value: read_header_value(r)?,
        pol_round: r.round()?,
        proposer: r.address()?,
    })
}

fn signed_msg(w: &mut W, m: &SignedConsensusMsg<DaContext>) {
    match m {
        SignedConsensusMsg::Vote(v) => {
            w.u8(1);
            vote(w, &v.message);
            w.sig(&v.signature);
        }
        SignedConsensusMsg::Proposal(p) => {
            w.u8(2);
            proposal(w, &p.message);
            w.sig(&p.signature);
        }
    }
}

fn read_signed_msg(r: &mut R<'_>) -> Result<SignedConsensusMsg<DaContext>> {
    match r.u8()? {
        1 => {
            let v = read_vote(r)?;
            Ok(SignedConsensusMsg::Vote(SignedMessage::new(v, r.sig()?)))
        }
        2 => {
            let p = read_proposal(r)?;
            Ok(SignedConsensusMsg::Proposal(SignedMessage::new(
                p,
                r.sig()?,
            )))
        }
        tag => Err(CodecError::Tag {
            what: "consensus message",
            tag,
        }),
    }
}

fn polka(w: &mut W, c: &PolkaCertificate<DaContext>) {
    w.height(c.height);
    w.round(c.round);
    w.value_id(&c.value_id);
    w.count(c.polka_signatures.len());
    for s in &c.polka_signatures {
        w.address(&s.address);
        w.sig(&s.signature);
    }
}

fn read_polka(r: &mut R<'_>) -> Result<PolkaCertificate<DaContext>> {
    let height = r.height()?;
    let round = r.round()?;
    let value_id = r.value_id()?;
    let n = r.count(ADDR + SIG)?;
    let mut polka_signatures = Vec::with_capacity(n);
    for _ in 0..n {
        polka_signatures.push(PolkaSignature {
            address: r.address()?,
            signature: r.sig()?,
        });
    }
    Ok(PolkaCertificate {
        height,
        round,
        value_id,
        polka_signatures,
    })
}

fn round_cert(w: &mut W, c: &RoundCertificate<DaContext>) {
    w.height(c.height);
    w.round(c.round);
    w.u8(match c.cert_type {
        RoundCertificateType::Skip => 1,
        RoundCertificateType::Precommit => 2,
    });
    w.count(c.round_signatures.len());
    for s in &c.round_signatures {
        w.vote_type(s.vote_type);
        w.nil_or_val(&s.value_id);
        w.address(&s.address);
        w.sig(&s.signature);
    }
}

fn read_round_cert(r: &mut R<'_>) -> Result<RoundCertificate<DaContext>> {
    let height = r.height()?;
    let round = r.round()?;
    let cert_type = match r.u8()? {
        1 => RoundCertificateType::Skip,
        2 => RoundCertificateType::Precommit,
        tag => {
            return Err(CodecError::Tag {
                what: "round certificate",
                tag,
            })
        }
    };
    let n = r.count(2 + ADDR + SIG)?;
    let mut round_signatures = Vec::with_capacity(n);
    for _ in 0..n {
        round_signatures.push(RoundSignature {
            vote_type: r.vote_type()?,
            value_id: r.nil_or_val()?,
            address: r.address()?,
            signature: r.sig()?,
        });
    }
    Ok(RoundCertificate {
        height,
        round,
        cert_type,
        round_signatures,
    })
}

fn commit_cert(w: &mut W, c: &ExtendedCommitCertificate<DaContext>) {
    w.height(c.height);
    w.round(c.round);
    w.value_id(&c.value_id);
    w.count(c.commit_signatures.len());
    for s in &c.commit_signatures {
        w.address(&s.address);
        w.sig(&s.signature);
    }
}

fn read_commit_cert(r: &mut R<'_>) -> Result<ExtendedCommitCertificate<DaContext>> {
    let height = r.height()?;
    let round = r.round()?;
    let value_id = r.value_id()?;
    let n = r.count(ADDR + SIG)?;
    let mut commit_signatures = Vec::with_capacity(n);
    for _ in 0..n {
        commit_signatures.push(ExtendedCommitSignature {
            address: r.address()?,
            signature: r.sig()?,
            extension: None,
        });
    }
    Ok(ExtendedCommitCertificate {
        height,
        round,
        value_id,
        commit_signatures,
    })
}

/// A commit certificate without extensions (what `Decided` hands the application).
pub fn plain_commit(c: &ExtendedCommitCertificate<DaContext>) -> CommitCertificate<DaContext> {
    CommitCertificate {
        height: c.height,
        round: c.round,
        value_id: c.value_id,
        commit_signatures: c
            .commit_signatures
            .iter()
            .map(|s| CommitSignature::new(s.address, s.signature.clone()))
            .collect(),
    }
}

fn part(w: &mut W, p: &ProposalPart) {
    match p {
        ProposalPart::Init(i) => {
            w.u8(1);
            w.height(i.height);
            w.round(i.round);
            w.round(i.pol_round);
            w.address(&i.proposer);
        }
        ProposalPart::Header(h) => {
            w.u8(2);
            w.bytes(&h.to_bytes());
        }
        ProposalPart::Body(b) => {
            w.u8(3);
            w.bytes(b);
        }
        ProposalPart::Fin(f) => {
            w.u8(4);
            w.u64(f.body_len);
            w.raw(&f.body_hash);
        }
    }
}

fn read_part(r: &mut R<'_>) -> Result<ProposalPart> {
    match r.u8()? {
        1 => Ok(ProposalPart::Init(PartInit {
            height: r.height()?,
            round: r.round()?,
            pol_round: r.round()?,
            proposer: r.address()?,
        })),
        2 => {
            let b = r.bytes()?;
            let h = BlockHeader::from_bytes(b)
                .map_err(|e| CodecError::Invalid(format!("block header: {e}")))?;
            Ok(ProposalPart::Header(Box::new(h)))
        }
        3 => Ok(ProposalPart::Body(Bytes::copy_from_slice(r.bytes()?))),
        4 => Ok(ProposalPart::Fin(PartFin {
            body_len: r.u64()?,
            body_hash: r.fixed()?,
        })),
        tag => Err(CodecError::Tag {
            what: "proposal part",
            tag,
        }),
    }
}

fn stream_msg(w: &mut W, m: &StreamMessage<ProposalPart>) {
    w.bytes(&m.stream_id.to_bytes());
    w.u64(m.sequence);
    match &m.content {
        StreamContent::Data(p) => {
            w.u8(1);
            part(w, p);
        }
        StreamContent::Fin => w.u8(2),
    }
}

fn read_stream_msg(r: &mut R<'_>) -> Result<StreamMessage<ProposalPart>> {
    let id = StreamId::new(Bytes::copy_from_slice(r.bytes()?));
    let sequence = r.u64()?;
    let content = match r.u8()? {
        1 => StreamContent::Data(read_part(r)?),
        2 => StreamContent::Fin,
        tag => {
            return Err(CodecError::Tag {
                what: "stream",
                tag,
            })
        }
    };
    Ok(StreamMessage::new(id, sequence, content))
}

fn proposed_value(w: &mut W, v: &ProposedValue<DaContext>) {
    w.height(v.height);
    w.round(v.round);
    w.round(v.valid_round);
    w.address(&v.proposer);
    header_value(w, &v.value);
    w.u8(u8::from(v.validity.is_valid()));
}

fn read_proposed_value(r: &mut R<'_>) -> Result<ProposedValue<DaContext>> {
    Ok(ProposedValue {
        height: r.height()?,
        round: r.round()?,
        valid_round: r.round()?,
        proposer: r.address()?,
        value: read_header_value(r)?,
        validity: match r.u8()? {
            0 => Validity::Invalid,
            1 => Validity::Valid,
            tag => {
                return Err(CodecError::Tag {
                    what: "validity",
                    tag,
                })
            }
        },
    })
}

fn response(w: &mut W, m: &Response<DaContext>) {
    let Response::ValueResponse(v) = m;
    w.height(v.start_height);
    w.count(v.values.len());
    for d in &v.values {
        w.bytes(&d.value_bytes);
        commit_cert(w, &d.certificate);
    }
}

fn read_response(r: &mut R<'_>) -> Result<Response<DaContext>> {
    let start = r.height()?;
    let n = r.count(4)?;
    let mut values = Vec::with_capacity(n);
    for _ in 0..n {
        let value_bytes = Bytes::copy_from_slice(r.bytes()?);
        let certificate = read_commit_cert(r)?;
        values.push(RawDecidedValue::new(value_bytes, certificate));
    }
    Ok(Response::ValueResponse(ValueResponse::new(start, values)))
}

/// The codec of consensus, liveness, proposal-part, sync and WAL messages.
#[derive(Clone, Copy, Debug, Default)]
pub struct WireCodec;

fn decode_with<T>(bytes: &[u8], f: impl FnOnce(&mut R<'_>) -> Result<T>) -> Result<T> {
    let mut r = R(bytes);
    let v = f(&mut r)?;
    r.finish()?;
    Ok(v)
}

fn encode_with(f: impl FnOnce(&mut W)) -> Bytes {
    let mut w = W::default();
    f(&mut w);
    Bytes::from(w.0)
}

macro_rules! codec {
    ($t:ty, $enc:expr, $dec:expr) => {
        impl Codec<$t> for WireCodec {
            type Error = CodecError;

            fn decode(&self, bytes: Bytes) -> Result<$t> {
                decode_with(&bytes, $dec)
            }

            fn encode(&self, msg: &$t) -> Result<Bytes> {
                Ok(encode_with(|w| $enc(w, msg)))
            }
        }
    };
}

codec!(HeaderValue, header_value, read_header_value);
codec!(ProposalPart, part, read_part);
codec!(SignedConsensusMsg<DaContext>, signed_msg, read_signed_msg);
codec!(StreamMessage<ProposalPart>, stream_msg, read_stream_msg);
codec!(PolkaCertificate<DaContext>, polka, read_polka);
codec!(
    ProposedValue<DaContext>,
    proposed_value,
    read_proposed_value
);
codec!(Response<DaContext>, response, read_response);

codec!(
    LivenessMsg<DaContext>,
    |w: &mut W, m: &LivenessMsg<DaContext>| match m {
        LivenessMsg::Vote(v) => {
            w.u8(1);
            vote(w, &v.message);
            w.sig(&v.signature);
        }
        LivenessMsg::PolkaCertificate(c) => {
            w.u8(2);
            polka(w, c);
        }
        LivenessMsg::SkipRoundCertificate(c) => {
            w.u8(3);
            round_cert(w, c);
        }
    },
    |r: &mut R<'_>| match r.u8()? {
        1 => {
            let v = read_vote(r)?;
            Ok(LivenessMsg::Vote(SignedMessage::new(v, r.sig()?)))
        }
        2 => Ok(LivenessMsg::PolkaCertificate(read_polka(r)?)),
        3 => Ok(LivenessMsg::SkipRoundCertificate(read_round_cert(r)?)),
        tag => Err(CodecError::Tag {
            what: "liveness message",
            tag,
        }),
    }
);

codec!(
    ValidatorProof<DaContext>,
    |w: &mut W, p: &ValidatorProof<DaContext>| {
        w.bytes(&p.public_key);
        w.bytes(&p.peer_id);
        w.sig(&p.signature);
    },
    |r: &mut R<'_>| {
        let public_key = r.bytes()?.to_vec();
        let peer_id = r.bytes()?.to_vec();
        Ok(ValidatorProof::new(public_key, peer_id, r.sig()?))
    }
);

codec!(
    Status<DaContext>,
    |w: &mut W, s: &Status<DaContext>| {
        w.bytes(&s.peer_id.to_bytes());
        w.height(s.tip_height);
        w.height(s.history_min_height);
    },
    |r: &mut R<'_>| {
        Ok(Status {
            peer_id: r.peer_id()?,
            tip_height: r.height()?,
            history_min_height: r.height()?,
        })
    }
);

codec!(
    Request<DaContext>,
    |w: &mut W, m: &Request<DaContext>| {
        let Request::ValueRequest(v) = m;
        w.height(*v.range.start());
        w.height(*v.range.end());
    },
    |r: &mut R<'_>| {
        let start = r.height()?;
        let end = r.height()?;
        Ok(Request::ValueRequest(ValueRequest::new(start..=end)))
    }
);

impl HasEncodedLen<Response<DaContext>> for WireCodec {
    fn encoded_len(&self, msg: &Response<DaContext>) -> Result<usize> {
        let Response::ValueResponse(v) = msg;
        Ok(12
            + v.values
                .iter()
                .map(|d| {
                    4 + d.value_bytes.len()
                        + 8
                        + 5
                        + 32
                        + 4
                        + d.certificate.commit_signatures.len() * (ADDR + SIG)
                })
                .sum::<usize>())
    }
}

/// Encodes a commit certificate for storage (what value sync serves).
pub fn encode_commit(c: &ExtendedCommitCertificate<DaContext>) -> Bytes {
    encode_with(|w| commit_cert(w, c))
}

/// Decodes a stored commit certificate.
pub fn decode_commit(bytes: &[u8]) -> Result<ExtendedCommitCertificate<DaContext>> {
    decode_with(bytes, read_commit_cert)
}

/// A decided block as value sync carries it: the full header, then the body.
pub fn encode_synced(header: &BlockHeader, body: &[u8]) -> Bytes {
    encode_with(|w| {
        w.bytes(&header.to_bytes());
        w.bytes(body);
    })
}

/// Decodes [`encode_synced`].
pub fn decode_synced(bytes: &[u8]) -> Result<(BlockHeader, Bytes)> {
    decode_with(bytes, |r| {
        let header = BlockHeader::from_bytes(r.bytes()?)
            .map_err(|e| CodecError::Invalid(format!("block header: {e}")))?;
        Ok((header, Bytes::copy_from_slice(r.bytes()?)))
    })
}

#[cfg(test)]
mod tests {
    use da_types::bls::BlsSecretKey;
    use malachitebft_app_channel::app::types::core::SignedMessage;

    use super::*;

    fn sig(i: u8) -> Sig {
        Sig(BlsSecretKey::from_ikm(&[i; 32]).sign(b"msg"))
    }

    fn header() -> BlockHeader {
        crate::parts::test_header(7)
    }

    fn vote(kind: VoteType, value: NilOrVal<HeaderId>) -> Vote {
        Vote {
            kind,
            height: Height(7),
            round: Round::new(2),
            value,
            validator: Address([9; 20]),
            extension: None,
        }
    }

    /// Encodes, decodes, compares; then every strict prefix and one extra byte must fail.
    fn round_trip<T>(msg: T)
    where
        T: PartialEq + std::fmt::Debug,
        WireCodec: Codec<T, Error = CodecError>,
    {
        let bytes = WireCodec.encode(&msg).expect("encodes");
        let back = WireCodec.decode(bytes.clone()).expect("decodes");
        assert_eq!(back, msg);
        for cut in 0..bytes.len() {
            assert!(
                WireCodec.decode(bytes.slice(..cut)).is_err(),
                "a {cut}-byte prefix of {} decoded",
                bytes.len()
            );
        }
        let mut long = bytes.to_vec();
        long.push(0);
        assert!(matches!(
            WireCodec.decode(Bytes::from(long)),
            Err(CodecError::Trailing(1))
        ));
    }

    #[test]
    fn every_message_round_trips_and_rejects_truncation_and_trailing_bytes() {
        let id = HeaderId([5; 32]);
        let value = HeaderValue(header().header);
        round_trip::<SignedConsensusMsg<DaContext>>(SignedConsensusMsg::Vote(SignedMessage::new(
            vote(VoteType::Precommit, NilOrVal::Val(id)),
            sig(1),
        )));
        round_trip::<SignedConsensusMsg<DaContext>>(SignedConsensusMsg::Vote(SignedMessage::new(
            vote(VoteType::Prevote, NilOrVal::Nil),
            sig(2),
        )));
        round_trip::<SignedConsensusMsg<DaContext>>(SignedConsensusMsg::Proposal(
            SignedMessage::new(
                Proposal {
                    height: Height(7),
                    round: Round::new(0),
                    value: value.clone(),
                    pol_round: Round::Nil,
                    proposer: Address([4; 20]),
                },
                sig(3),
            ),
        ));
        round_trip(value);
        let polka = PolkaCertificate {
            height: Height(7),
            round: Round::new(1),
            value_id: id,
            polka_signatures: vec![PolkaSignature {
                address: Address([1; 20]),
                signature: sig(4),
            }],
        };
        round_trip::<LivenessMsg<DaContext>>(LivenessMsg::PolkaCertificate(polka.clone()));
        round_trip(polka);
        round_trip::<LivenessMsg<DaContext>>(LivenessMsg::SkipRoundCertificate(RoundCertificate {
            height: Height(7),
            round: Round::new(3),
            cert_type: RoundCertificateType::Skip,
            round_signatures: vec![RoundSignature {
                vote_type: VoteType::Prevote,
                value_id: NilOrVal::Nil,
                address: Address([2; 20]),
                signature: sig(5),
            }],
        }));
        for part in [
            ProposalPart::Init(PartInit {
                height: Height(7),
                round: Round::new(0),
                pol_round: Round::new(0),
                proposer: Address([4; 20]),
            }),
            ProposalPart::Header(Box::new(header())),
            ProposalPart::Body(Bytes::from_static(b"blob bytes")),
            ProposalPart::Fin(PartFin {
                body_len: 10,
                body_hash: [8; 32],
            }),
        ] {
            round_trip(StreamMessage::new(
                StreamId::new(Bytes::from_static(b"stream")),
                3,
                StreamContent::Data(part.clone()),
            ));
            round_trip(part);
        }
        round_trip::<StreamMessage<ProposalPart>>(StreamMessage::new(
            StreamId::new(Bytes::from_static(b"s")),
            9,
            StreamContent::Fin,
        ));
        round_trip(ProposedValue::<DaContext> {
            height: Height(7),
            round: Round::new(1),
            valid_round: Round::Nil,
            proposer: Address([4; 20]),
            value: HeaderValue(header().header),
            validity: Validity::Invalid,
        });
        round_trip::<Request<DaContext>>(Request::ValueRequest(ValueRequest::new(
            Height(3)..=Height(9),
        )));
        let cert = ExtendedCommitCertificate {
            height: Height(7),
            round: Round::new(0),
            value_id: id,
            commit_signatures: vec![ExtendedCommitSignature::new(Address([1; 20]), sig(6), None)],
        };
        round_trip::<Response<DaContext>>(Response::ValueResponse(ValueResponse::new(
            Height(7),
            vec![RawDecidedValue::new(
                encode_synced(&header(), b"body"),
                cert.clone(),
            )],
        )));
        assert_eq!(decode_commit(&encode_commit(&cert)).expect("commit"), cert);
        let (h, body) = decode_synced(&encode_synced(&header(), b"body")).expect("synced");
        assert_eq!((h, &body[..]), (header(), &b"body"[..]));
    }

    #[test]
    fn bad_points_tags_and_huge_counts_are_errors_not_panics() {
        let good = WireCodec
            .encode(&SignedConsensusMsg::<DaContext>::Vote(SignedMessage::new(
                vote(VoteType::Prevote, NilOrVal::Nil),
                sig(1),
            )))
            .expect("encodes");
        // An unknown message tag.
        let mut b = good.to_vec();
        b[0] = 9;
        assert!(matches!(
            Codec::<SignedConsensusMsg<DaContext>>::decode(&WireCodec, Bytes::from(b)),
            Err(CodecError::Tag { .. })
        ));
        // A signature that is not a curve point.
        let mut b = good.to_vec();
        let n = b.len();
        b[n - 96..].fill(0x11);
        assert!(matches!(
            Codec::<SignedConsensusMsg<DaContext>>::decode(&WireCodec, Bytes::from(b)),
            Err(CodecError::Invalid(_))
        ));
        // A count far beyond the bytes left is refused before allocating.
        let mut b = Vec::new();
        b.extend_from_slice(&7u64.to_be_bytes());
        b.push(1);
        b.extend_from_slice(&0u32.to_be_bytes());
        b.extend_from_slice(&[5; 32]);
        b.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            Codec::<PolkaCertificate<DaContext>>::decode(&WireCodec, Bytes::from(b)),
            Err(CodecError::Truncated)
        ));
    }
}

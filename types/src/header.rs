//! Block headers: canonical encoding, data root, hash and the producer's ed25519 signature
//! (`specs/05-header.md`).
//!
//! Header verification sits behind [`HeaderVerifier`] so that a committee engine can replace the
//! single configured producer later.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use crate::{
    consts::{BYTES_PER_G1, K_MAX},
    error::{Error, Result},
    layout::check_k,
};

/// Longest chain id, in bytes.
pub const MAX_CHAIN_ID_LEN: usize = 64;
/// Version byte of the canonical encoding.
pub const HEADER_VERSION: u8 = 1;
const SIGNING_DOMAIN: &[u8] = b"da/header/v1";

/// The unsigned fields of a header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Chain identifier (at most 64 bytes of UTF-8).
    pub chain_id: String,
    /// Height, starting at 1.
    pub height: u64,
    /// Hash of the previous header (zero for height 1).
    pub parent_hash: [u8; 32],
    /// Producer's clock, milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// Original rows of the square.
    pub k: u16,
    /// The `2k` row commitments.
    pub commitments: Vec<[u8; BYTES_PER_G1]>,
    /// Number of blobs in the square index.
    pub blob_count: u32,
}

impl Header {
    /// Checks field bounds: chain id length, `k`, commitment count, height.
    pub fn validate(&self) -> Result<()> {
        if self.chain_id.is_empty() || self.chain_id.len() > MAX_CHAIN_ID_LEN {
            return Err(Error::MalformedHeader(format!(
                "chain id must be 1..={MAX_CHAIN_ID_LEN} bytes, got {}",
                self.chain_id.len()
            )));
        }
        check_k(self.k as usize)?;
        if self.commitments.len() != 2 * self.k as usize {
            return Err(Error::MalformedHeader(format!(
                "{} commitments for k={} (need {})",
                self.commitments.len(),
                self.k,
                2 * self.k
            )));
        }
        if self.height == 0 {
            return Err(Error::MalformedHeader("height 0 is reserved".into()));
        }
        Ok(())
    }

    /// The canonical encoding of every field (big-endian, length-prefixed chain id).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.commitments.len() * BYTES_PER_G1);
        out.push(HEADER_VERSION);
        out.extend_from_slice(&(self.chain_id.len() as u16).to_be_bytes());
        out.extend_from_slice(self.chain_id.as_bytes());
        out.extend_from_slice(&self.height.to_be_bytes());
        out.extend_from_slice(&self.parent_hash);
        out.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        out.extend_from_slice(&self.k.to_be_bytes());
        out.extend_from_slice(&self.blob_count.to_be_bytes());
        for c in &self.commitments {
            out.extend_from_slice(c);
        }
        out
    }

    /// `blake3("da/data-root/v1" ‖ encode())`.
    pub fn data_root(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(b"da/data-root/v1");
        h.update(&self.encode());
        *h.finalize().as_bytes()
    }

    /// `blake3(encode() ‖ data_root ‖ producer)`: the header hash, what the producer signs.
    pub fn hash(&self, producer: &[u8; 32]) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(&self.encode());
        h.update(&self.data_root());
        h.update(producer);
        *h.finalize().as_bytes()
    }

    /// Signs the header with the producer key.
    pub fn sign(self, key: &SigningKey) -> Result<SignedHeader> {
        self.validate()?;
        let producer = key.verifying_key().to_bytes();
        let hash = self.hash(&producer);
        let signature = key.sign(&signing_message(&hash)).to_bytes();
        Ok(SignedHeader {
            header: self,
            producer,
            signature,
        })
    }
}

fn signing_message(hash: &[u8; 32]) -> Vec<u8> {
    let mut m = SIGNING_DOMAIN.to_vec();
    m.extend_from_slice(hash);
    m
}

/// A header with its producer's key and signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHeader {
    /// The signed fields.
    pub header: Header,
    /// The producer's ed25519 public key.
    pub producer: [u8; 32],
    /// ed25519 signature over `"da/header/v1" ‖ hash`.
    pub signature: [u8; 64],
}

impl SignedHeader {
    /// The header hash.
    pub fn hash(&self) -> [u8; 32] {
        self.header.hash(&self.producer)
    }

    /// Checks the fields and the signature (not whether the producer is trusted).
    pub fn verify_signature(&self) -> Result<()> {
        self.header.validate()?;
        let key = VerifyingKey::from_bytes(&self.producer)
            .map_err(|e| Error::BadSignature(format!("producer key: {e}")))?;
        key.verify(
            &signing_message(&self.hash()),
            &Signature::from_bytes(&self.signature),
        )
        .map_err(|e| Error::BadSignature(e.to_string()))
    }

    /// Serializes for storage: `u32_be(len) ‖ encode() ‖ producer ‖ signature`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let enc = self.header.encode();
        let mut out = Vec::with_capacity(4 + enc.len() + 96);
        out.extend_from_slice(&(enc.len() as u32).to_be_bytes());
        out.extend_from_slice(&enc);
        out.extend_from_slice(&self.producer);
        out.extend_from_slice(&self.signature);
        out
    }

    /// Parses [`to_bytes`](Self::to_bytes) output, checking every bound (not the signature).
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        let bad = |m: &str| Error::MalformedHeader(m.to_string());
        let mut r = Reader(b);
        let len = u32::from_be_bytes(r.take::<4>()?) as usize;
        if r.0.len() != len + 96 {
            return Err(bad("length prefix does not match"));
        }
        if r.take::<1>()?[0] != HEADER_VERSION {
            return Err(bad("unknown header version"));
        }
        let id_len = u16::from_be_bytes(r.take::<2>()?) as usize;
        if id_len > MAX_CHAIN_ID_LEN {
            return Err(bad("chain id too long"));
        }
        let chain_id = String::from_utf8(r.slice(id_len)?.to_vec())
            .map_err(|_| bad("chain id is not UTF-8"))?;
        let height = u64::from_be_bytes(r.take::<8>()?);
        let parent_hash = r.take::<32>()?;
        let timestamp_ms = u64::from_be_bytes(r.take::<8>()?);
        let k = u16::from_be_bytes(r.take::<2>()?);
        if k as usize > K_MAX {
            return Err(bad("k too large"));
        }
        let blob_count = u32::from_be_bytes(r.take::<4>()?);
        let commitments = (0..2 * k as usize)
            .map(|_| r.take::<BYTES_PER_G1>())
            .collect::<Result<Vec<_>>>()?;
        let producer = r.take::<32>()?;
        let signature = r.take::<64>()?;
        if !r.0.is_empty() {
            return Err(bad("trailing bytes"));
        }
        let header = Header {
            chain_id,
            height,
            parent_hash,
            timestamp_ms,
            k,
            commitments,
            blob_count,
        };
        header.validate()?;
        Ok(Self {
            header,
            producer,
            signature,
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn slice(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(Error::MalformedHeader("truncated".into()));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.slice(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
}

/// Decides which signed headers a node accepts.
pub trait HeaderVerifier: Send + Sync {
    /// Accepts the header or says why not.
    fn verify(&self, header: &SignedHeader) -> Result<()>;
}

/// v1: accept headers of one chain signed by any key of a configured set.
#[derive(Clone, Debug)]
pub struct ProducerSet {
    chain_id: String,
    keys: Vec<[u8; 32]>,
}

impl ProducerSet {
    /// Trusts `keys` on `chain_id`.
    pub fn new(chain_id: impl Into<String>, keys: Vec<[u8; 32]>) -> Self {
        Self {
            chain_id: chain_id.into(),
            keys,
        }
    }
}

impl HeaderVerifier for ProducerSet {
    fn verify(&self, h: &SignedHeader) -> Result<()> {
        if h.header.chain_id != self.chain_id {
            return Err(Error::BadSignature(format!(
                "header is for chain {:?}, expected {:?}",
                h.header.chain_id, self.chain_id
            )));
        }
        if !self.keys.contains(&h.producer) {
            return Err(Error::BadSignature("producer key is not trusted".into()));
        }
        h.verify_signature()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            chain_id: "devnet".into(),
            height: 7,
            parent_hash: [3; 32],
            timestamp_ms: 1_700_000_000_000,
            k: 1,
            commitments: vec![[0xc0; 48], [0xc0; 48]],
            blob_count: 2,
        }
    }

    #[test]
    fn sign_verify_round_trip_and_forgeries() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let signed = header().sign(&key).expect("sign");
        let set = ProducerSet::new("devnet", vec![key.verifying_key().to_bytes()]);
        set.verify(&signed).expect("valid");
        let decoded = SignedHeader::from_bytes(&signed.to_bytes()).expect("decode");
        assert_eq!(decoded, signed);

        let mut forged = signed.clone();
        forged.header.blob_count = 3;
        assert!(set.verify(&forged).is_err());
        let mut other_chain = signed;
        other_chain.header.chain_id = "other".into();
        assert!(set.verify(&other_chain).is_err());
        let stranger = header()
            .sign(&SigningKey::from_bytes(&[8; 32]))
            .expect("sign");
        assert!(stranger.verify_signature().is_ok());
        assert!(set.verify(&stranger).is_err());
    }

    const GOLDEN_DATA_ROOT: &str =
        "423fc8be42ead075e2fecd8207fc054fd10f592fa79ddf9fe9bab94e35500158";
    const GOLDEN_HASH: &str = "81d8969a8156ab7119a935e77520550813d5577f784cc84c949b09cfaf60fadc";

    #[test]
    fn golden_hash_of_the_encoding() {
        // Changes only when the wire format changes on purpose.
        let h = header();
        let key = SigningKey::from_bytes(&[9; 32]);
        let signed = h.clone().sign(&key).expect("sign");
        assert_eq!(hex::encode(h.data_root()), GOLDEN_DATA_ROOT);
        assert_eq!(hex::encode(signed.hash()), GOLDEN_HASH);
        assert_eq!(h.encode().len(), 1 + 2 + 6 + 8 + 32 + 8 + 2 + 4 + 96);
    }

    #[test]
    fn malformed_bytes_are_errors() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let bytes = header().sign(&key).expect("sign").to_bytes();
        for cut in [0, 3, 10, bytes.len() - 1] {
            assert!(SignedHeader::from_bytes(&bytes[..cut]).is_err());
        }
        let mut extra = bytes;
        extra.push(0);
        assert!(SignedHeader::from_bytes(&extra).is_err());
        let mut bad_k = header();
        bad_k.k = 3;
        assert!(bad_k.sign(&key).is_err());
    }
}

//! `header.json`: headers, their encoding, data root, hash, signature and storage form
//! (`specs/05-header.md`), and storage encodings that must be rejected.

use da_types::{
    header::{Header, SignedHeader},
    HeaderVerifier, ProducerSet,
};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde_json::{json, Value};

use super::{array, bytes, filler, hx, kind, list, load, num, text, write_or_compare};

const FILE: &str = "header.json";

/// RFC 8032 §7.1 TEST 1 secret key: its public key is published there, which checks the key
/// derivation independently.
const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
/// RFC 8032 §7.1 TEST 2 public key: a valid key that did not sign the vectors.
const OTHER_PRODUCER: &str = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";

fn key(v: &Value) -> SigningKey {
    SigningKey::from_bytes(&array::<32>(&v["signing_key_seed"]))
}

fn header_of(v: &Value) -> Header {
    Header {
        chain_id: text(&v["chain_id"]).to_string(),
        height: num(&v["height"]),
        parent_hash: array(&v["parent_hash"]),
        timestamp_ms: num(&v["timestamp_ms"]),
        k: u16::try_from(num(&v["k"])).expect("k fits u16"),
        commitments: list(&v["commitments"]).iter().map(array).collect(),
        blob_count: u32::try_from(num(&v["blob_count"])).expect("blob count fits u32"),
    }
}

#[test]
fn producer_key_is_the_rfc8032_one() {
    let file = load(FILE);
    let producer = key(&file).verifying_key().to_bytes();
    assert_eq!(hx(&producer), text(&file["producer"]));
}

#[test]
fn valid_headers_encode_hash_and_sign_as_recorded() {
    let file = load(FILE);
    let key = key(&file);
    let producer = array::<32>(&file["producer"]);
    let cases = list(&file["valid"]);
    assert!(cases.len() >= 4, "the file lost cases");
    for case in cases {
        let name = text(&case["name"]);
        let header = header_of(&case["header"]);
        header.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            hx(&header.encode()),
            text(&case["encoding"]),
            "{name}: encode"
        );
        assert_eq!(hx(&header.data_root()), text(&case["data_root"]), "{name}");
        assert_eq!(hx(&header.hash(&producer)), text(&case["hash"]), "{name}");

        let signed = header.clone().sign(&key).expect("sign");
        assert_eq!(signed.producer, producer, "{name}");
        assert_eq!(hx(&signed.signature), text(&case["signature"]), "{name}");
        assert_eq!(
            hx(&signed.to_bytes()),
            text(&case["signed_bytes"]),
            "{name}"
        );

        let decoded = SignedHeader::from_bytes(&bytes(&case["signed_bytes"]))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded, signed, "{name}: from_bytes");
        decoded
            .verify_signature()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        ProducerSet::new(header.chain_id.clone(), vec![producer])
            .verify(&decoded)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn invalid_encodings_are_rejected_with_the_recorded_kind() {
    let file = load(FILE);
    let cases = list(&file["invalid"]);
    assert!(cases.len() >= 10, "the file lost cases");
    for case in cases {
        let name = text(&case["name"]);
        let b = bytes(&case["bytes"]);
        let got = match text(&case["stage"]) {
            "from_bytes" => SignedHeader::from_bytes(&b).map(|_| ()),
            "verify_signature" => SignedHeader::from_bytes(&b)
                .unwrap_or_else(|e| panic!("{name}: must decode, got {e}"))
                .verify_signature(),
            other => panic!("{name}: unknown stage {other}"),
        };
        let err = got.expect_err(name);
        assert_eq!(kind(&err), text(&case["error"]), "{name}: {err}");
    }
}

/// The fields of a valid case, as the file spells them.
fn header_json(h: &Header) -> Value {
    json!({
        "chain_id": h.chain_id,
        "height": h.height,
        "parent_hash": hx(&h.parent_hash),
        "timestamp_ms": h.timestamp_ms,
        "k": h.k,
        "blob_count": h.blob_count,
        "commitments": h.commitments.iter().map(|c| hx(c)).collect::<Vec<_>>(),
    })
}

fn commitments(label: &str, k: u16) -> Vec<[u8; 48]> {
    (0..2 * k)
        .map(|i| {
            filler(&format!("{label}/commitment/{i}"), 48)
                .try_into()
                .expect("48")
        })
        .collect()
}

fn generated_headers() -> Vec<(&'static str, &'static str, Header)> {
    let genesis = Header {
        chain_id: "devnet".into(),
        height: 1,
        parent_hash: [0; 32],
        timestamp_ms: 1_700_000_000_000,
        k: 1,
        commitments: commitments("k1_genesis_empty", 1),
        blob_count: 0,
    };
    let two_blobs = Header {
        chain_id: "devnet".into(),
        height: 7,
        parent_hash: filler("k1_two_blobs/parent", 32).try_into().expect("32"),
        timestamp_ms: 1_700_000_014_000,
        k: 1,
        commitments: commitments("k1_two_blobs", 1),
        blob_count: 2,
    };
    let k16 = Header {
        chain_id: "da-testnet-1".into(),
        // 2^53 - 1: the largest integer every JSON reader keeps exact, seven non-zero bytes.
        height: (1 << 53) - 1,
        parent_hash: filler("k16/parent", 32).try_into().expect("32"),
        timestamp_ms: 0x0102_0304_0506,
        k: 16,
        commitments: commitments("k16", 16),
        blob_count: 0x0001_0203,
    };
    // 64 bytes of UTF-8 in 40 characters: the bound counts bytes, not characters.
    let chain = format!("{}-{}", "é".repeat(20), "x".repeat(23));
    assert_eq!(chain.len(), 64);
    let utf8 = Header {
        chain_id: chain,
        height: 256,
        parent_hash: filler("utf8/parent", 32).try_into().expect("32"),
        timestamp_ms: 1,
        k: 2,
        commitments: commitments("utf8_chain_id_64_bytes", 2),
        blob_count: 1,
    };
    vec![
        (
            "k1_genesis_empty",
            "height 1, zero parent hash, no blobs",
            genesis,
        ),
        ("k1_two_blobs", "k = 1 with two blobs", two_blobs),
        (
            "k16_large_fields",
            "k = 16 (32 commitments), a large height, blob count and timestamp",
            k16,
        ),
        (
            "utf8_chain_id_64_bytes",
            "k = 2, a 64-byte (maximum) chain id with two-byte UTF-8 characters",
            utf8,
        ),
    ]
}

/// Storage bytes `u32_be(len) ‖ enc ‖ producer ‖ signature` with a hand-made `enc`.
fn framed(enc: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut out = (enc.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(enc);
    out.extend_from_slice(tail);
    out
}

fn generated_invalid(valid: &SignedHeader) -> Vec<Value> {
    let good = valid.to_bytes();
    let enc = valid.header.encode();
    let tail = &good[4 + enc.len()..];
    let id_len = valid.header.chain_id.len();
    // Offsets inside `enc`.
    let height_at = 3 + id_len;
    let k_at = height_at + 8 + 32 + 8;
    let commitments_at = k_at + 2 + 4;
    let with = |at: usize, new: &[u8]| {
        let mut e = enc.clone();
        e[at..at + new.len()].copy_from_slice(new);
        framed(&e, tail)
    };
    let with_chain_id = |id: &[u8]| {
        let mut e = vec![enc[0]];
        e.extend_from_slice(&(id.len() as u16).to_be_bytes());
        e.extend_from_slice(id);
        e.extend_from_slice(&enc[3 + id_len..]);
        framed(&e, tail)
    };
    let with_k_and_commitments = |k: u16, n: usize| {
        let mut e = enc[..k_at].to_vec();
        e.extend_from_slice(&k.to_be_bytes());
        e.extend_from_slice(&enc[k_at + 2..commitments_at]);
        for i in 0..n {
            e.extend_from_slice(&filler(&format!("invalid/commitment/{i}"), 48));
        }
        framed(&e, tail)
    };
    let mut prefix_plus_one = good.clone();
    prefix_plus_one[3] += 1;
    let mut trailing = good.clone();
    trailing.push(0);
    let mut flipped_sig = good.clone();
    *flipped_sig.last_mut().expect("non-empty") ^= 0x01;
    let mut other_producer = framed(&enc, tail);
    other_producer[4 + enc.len()..4 + enc.len() + 32]
        .copy_from_slice(&hex::decode(OTHER_PRODUCER).expect("hex"));
    // The first all-`b` key that is not a curve point.
    let not_a_point = (0u8..=255)
        .map(|b| [b; 32])
        .find(|p| VerifyingKey::from_bytes(p).is_err())
        .expect("some byte string is not a point");
    let mut bad_point = framed(&enc, tail);
    bad_point[4 + enc.len()..4 + enc.len() + 32].copy_from_slice(&not_a_point);

    let mf = "from_bytes";
    let vs = "verify_signature";
    let cases: Vec<(&str, &str, Vec<u8>, &str, &str)> = vec![
        ("empty", "no bytes", vec![], mf, "MalformedHeader"),
        (
            "prefix_only",
            "only the length prefix",
            good[..4].to_vec(),
            mf,
            "MalformedHeader",
        ),
        (
            "truncated_by_one",
            "the signature's last byte is missing",
            good[..good.len() - 1].to_vec(),
            mf,
            "MalformedHeader",
        ),
        (
            "trailing_byte",
            "one byte after the signature",
            trailing,
            mf,
            "MalformedHeader",
        ),
        (
            "length_prefix_off_by_one",
            "the length prefix is one more than the encoding",
            prefix_plus_one,
            mf,
            "MalformedHeader",
        ),
        (
            "version_0",
            "version byte 0",
            with(0, &[0]),
            mf,
            "MalformedHeader",
        ),
        (
            "version_2",
            "version byte 2",
            with(0, &[2]),
            mf,
            "MalformedHeader",
        ),
        (
            "chain_id_empty",
            "a chain id of 0 bytes",
            with_chain_id(b""),
            mf,
            "MalformedHeader",
        ),
        (
            "chain_id_65_bytes",
            "a chain id of 65 bytes",
            with_chain_id(&[b'a'; 65]),
            mf,
            "MalformedHeader",
        ),
        (
            "chain_id_not_utf8",
            "chain id bytes ff fe",
            with_chain_id(&[0xff, 0xfe]),
            mf,
            "MalformedHeader",
        ),
        (
            "height_0",
            "height 0 is reserved",
            with(height_at, &[0; 8]),
            mf,
            "MalformedHeader",
        ),
        (
            "k_0",
            "k = 0 with no commitments",
            with_k_and_commitments(0, 0),
            mf,
            "InvalidSquareSize",
        ),
        (
            "k_3",
            "k = 3 (not a power of two) with 6 commitments",
            with_k_and_commitments(3, 6),
            mf,
            "InvalidSquareSize",
        ),
        (
            "k_512",
            "k = 512 > K_MAX, rejected before any commitment",
            with_k_and_commitments(512, 2),
            mf,
            "MalformedHeader",
        ),
        (
            "k_2_with_2_commitments",
            "k = 2, 2 commitments: producer and signature read as commitments",
            with_k_and_commitments(2, 2),
            mf,
            "MalformedHeader",
        ),
        (
            "k_1_with_3_commitments",
            "k = 1 followed by 3 commitments: bytes left over",
            with_k_and_commitments(1, 3),
            mf,
            "MalformedHeader",
        ),
        (
            "signature_bit_flipped",
            "decodes; the signature's last bit is flipped",
            flipped_sig,
            vs,
            "BadSignature",
        ),
        (
            "blob_count_changed",
            "decodes; the blob count differs from what was signed",
            with(commitments_at - 4, &[0, 0, 0, 3]),
            vs,
            "BadSignature",
        ),
        (
            "other_producer",
            "decodes; names RFC 8032 TEST 2's key, which did not sign",
            other_producer,
            vs,
            "BadSignature",
        ),
        (
            "producer_not_a_point",
            "decodes; the producer key is not a curve point",
            bad_point,
            vs,
            "BadSignature",
        ),
    ];
    cases
        .into_iter()
        .map(|(name, why, b, stage, error)| {
            json!({"name": name, "why": why, "stage": stage, "error": error, "bytes": hx(&b)})
        })
        .collect()
}

#[test]
#[ignore = "generator: DA_WRITE_VECTORS=1 cargo test -p da-types --test golden -- --ignored"]
fn generate_header_vectors() {
    let key = SigningKey::from_bytes(&hex::decode(SEED).expect("hex").try_into().expect("32"));
    let producer = key.verifying_key().to_bytes();
    let mut valid = Vec::new();
    let mut signed_two_blobs = None;
    for (name, why, h) in generated_headers() {
        let signed = h.clone().sign(&key).expect("valid header");
        valid.push(json!({
            "name": name,
            "why": why,
            "header": header_json(&h),
            "encoding": hx(&h.encode()),
            "data_root": hx(&h.data_root()),
            "hash": hx(&h.hash(&producer)),
            "signature": hx(&signed.signature),
            "signed_bytes": hx(&signed.to_bytes()),
        }));
        if name == "k1_two_blobs" {
            signed_two_blobs = Some(signed);
        }
    }
    let invalid = generated_invalid(&signed_two_blobs.expect("case exists"));
    let file = json!({
        "spec": "specs/05-header.md",
        "signing_key_seed": SEED,
        "producer": hx(&producer),
        "valid": valid,
        "invalid": invalid,
    });
    write_or_compare(FILE, &file);
}

//! Golden vectors of the request-response wire format (`specs/vectors/p2p.json`,
//! `specs/09-p2p.md`): protocol ids, bounds, exact frames (unsigned-varint length ‖ protobuf
//! message of `proto/da/v1/p2p.proto`) and frames a reader must reject.
//!
//! The checked-in file is the truth: each test builds the messages from the file's fields and
//! compares the frames the codec writes with the file, reads the file's frames back, and checks
//! that every invalid frame is refused with the recorded `io::ErrorKind`.
//!
//! Written once by the ignored generator:
//! `DA_WRITE_VECTORS=1 cargo test -p da-network --test golden -- --ignored`; without
//! `DA_WRITE_VECTORS=1` it only compares what it would write with the file.

use std::{fs, io, path::PathBuf};

use da_network::{
    codec::{read_message, write_message, Limits},
    protocol::{
        Protocols, BLOB_LIMITS, HEADER_LIMITS, MAX_BLOB_IDS_PER_MESSAGE,
        MAX_CELLS_PER_SAMPLE_REQUEST, MAX_GOSSIP_BYTES, MAX_HEADERS_PER_RANGE, NAMESPACE_LIMITS,
        ROW_LIMITS, SAMPLE_LIMITS,
    },
};
use da_proto::v1 as pb;
use futures::{executor::block_on, io::Cursor};
use serde_json::{json, Value};

const FILE: &str = "p2p.json";

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors")
}

fn load(name: &str) -> Value {
    let path = dir().join(name);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("json")
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(text(v)).unwrap_or_else(|e| panic!("bad hex {v}: {e}"))
}

fn num(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not an unsigned integer: {v}"))
}

fn small(v: &Value) -> u32 {
    u32::try_from(num(v)).expect("fits u32")
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn list(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}"))
}

fn flag(v: &Value) -> bool {
    v.as_bool().unwrap_or_else(|| panic!("not a bool: {v}"))
}

/// One message of one protocol and direction.
#[derive(Clone, Debug, PartialEq)]
enum Msg {
    SampleRequest(pb::SampleRequest),
    SampleResponse(pb::SampleResponse),
    HeaderRangeRequest(pb::HeaderRangeRequest),
    HeaderRangeResponse(pb::HeaderRangeResponse),
    RowRequest(pb::RowRequest),
    RowResponse(pb::RowResponse),
    NamespaceRequest(pb::NamespaceRequest),
    NamespaceResponse(pb::NamespaceResponse),
    BlobsRequest(pb::BlobsRequest),
    BlobsResponse(pb::BlobsResponse),
}

/// The protocol's bound for a message type (the protocol name and direction in the file).
fn limit(protocol: &str, direction: &str) -> usize {
    let l: Limits = match protocol {
        "sample" => SAMPLE_LIMITS,
        "headers" => HEADER_LIMITS,
        "row" => ROW_LIMITS,
        "namespace" => NAMESPACE_LIMITS,
        "blobs" => BLOB_LIMITS,
        other => panic!("unknown protocol {other}"),
    };
    match direction {
        "request" => l.request,
        "response" => l.response,
        other => panic!("unknown direction {other}"),
    }
}

fn sample_of(v: &Value) -> pb::Sample {
    pb::Sample {
        row: small(&v["row"]),
        col: small(&v["col"]),
        cell: bytes(&v["cell"]),
        proof: bytes(&v["proof"]),
    }
}

fn sample_json(s: &pb::Sample) -> Value {
    json!({
        "row": s.row,
        "col": s.col,
        "cell": hex::encode(&s.cell),
        "proof": hex::encode(&s.proof),
    })
}

fn msg_of(v: &Value) -> Msg {
    let samples = |v: &Value| list(v).iter().map(sample_of).collect::<Vec<_>>();
    match text(&v["type"]) {
        "SampleRequest" => Msg::SampleRequest(pb::SampleRequest {
            height: num(&v["height"]),
            cells: list(&v["cells"])
                .iter()
                .map(|c| pb::P2pCell {
                    row: small(&c["row"]),
                    col: small(&c["col"]),
                })
                .collect(),
        }),
        "SampleResponse" => Msg::SampleResponse(pb::SampleResponse {
            samples: samples(&v["samples"]),
            has_height: flag(&v["has_height"]),
        }),
        "HeaderRangeRequest" => Msg::HeaderRangeRequest(pb::HeaderRangeRequest {
            from: num(&v["from"]),
            count: small(&v["count"]),
        }),
        "HeaderRangeResponse" => Msg::HeaderRangeResponse(pb::HeaderRangeResponse {
            headers: list(&v["headers"]).iter().map(bytes).collect(),
        }),
        "RowRequest" => Msg::RowRequest(pb::RowRequest {
            height: num(&v["height"]),
            row: small(&v["row"]),
        }),
        "RowResponse" => Msg::RowResponse(pb::RowResponse {
            cells: samples(&v["cells"]),
        }),
        "NamespaceRequest" => Msg::NamespaceRequest(pb::NamespaceRequest {
            height: num(&v["height"]),
            namespace: bytes(&v["namespace"]),
        }),
        "NamespaceResponse" => Msg::NamespaceResponse(pb::NamespaceResponse {
            has_height: flag(&v["has_height"]),
            proof: v["proof"].as_object().map(|_| pb::NamespaceProof {
                index_cells: samples(&v["proof"]["index_cells"]),
                blob_cells: samples(&v["proof"]["blob_cells"]),
            }),
        }),
        "BlobsRequest" => Msg::BlobsRequest(pb::BlobsRequest {
            ids: list(&v["ids"]).iter().map(bytes).collect(),
        }),
        "BlobsResponse" => Msg::BlobsResponse(pb::BlobsResponse {
            blobs: list(&v["blobs"])
                .iter()
                .map(|b| pb::PooledBlob {
                    namespace: bytes(&b["namespace"]),
                    data: bytes(&b["data"]),
                })
                .collect(),
        }),
        other => panic!("unknown message {other}"),
    }
}

fn msg_json(m: &Msg) -> Value {
    let samples = |s: &[pb::Sample]| s.iter().map(sample_json).collect::<Vec<_>>();
    match m {
        Msg::SampleRequest(r) => json!({
            "type": "SampleRequest",
            "height": r.height,
            "cells": r
                .cells
                .iter()
                .map(|c| json!({"row": c.row, "col": c.col}))
                .collect::<Vec<_>>(),
        }),
        Msg::SampleResponse(r) => json!({
            "type": "SampleResponse",
            "samples": samples(&r.samples),
            "has_height": r.has_height,
        }),
        Msg::HeaderRangeRequest(r) => {
            json!({"type": "HeaderRangeRequest", "from": r.from, "count": r.count})
        }
        Msg::HeaderRangeResponse(r) => json!({
            "type": "HeaderRangeResponse",
            "headers": r.headers.iter().map(hex::encode).collect::<Vec<_>>(),
        }),
        Msg::RowRequest(r) => json!({"type": "RowRequest", "height": r.height, "row": r.row}),
        Msg::RowResponse(r) => json!({"type": "RowResponse", "cells": samples(&r.cells)}),
        Msg::NamespaceRequest(r) => json!({
            "type": "NamespaceRequest",
            "height": r.height,
            "namespace": hex::encode(&r.namespace),
        }),
        Msg::NamespaceResponse(r) => json!({
            "type": "NamespaceResponse",
            "has_height": r.has_height,
            "proof": r.proof.as_ref().map(|p| json!({
                "index_cells": samples(&p.index_cells),
                "blob_cells": samples(&p.blob_cells),
            })),
        }),
        Msg::BlobsRequest(r) => json!({
            "type": "BlobsRequest",
            "ids": r.ids.iter().map(hex::encode).collect::<Vec<_>>(),
        }),
        Msg::BlobsResponse(r) => json!({
            "type": "BlobsResponse",
            "blobs": r.blobs.iter().map(|b| json!({
                "namespace": hex::encode(&b.namespace),
                "data": hex::encode(&b.data),
            })).collect::<Vec<_>>(),
        }),
    }
}

/// The frame the codec writes for `m` under `max`.
fn write(m: &Msg, max: usize) -> io::Result<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    block_on(async {
        match m {
            Msg::SampleRequest(x) => write_message(&mut out, x, max).await,
            Msg::SampleResponse(x) => write_message(&mut out, x, max).await,
            Msg::HeaderRangeRequest(x) => write_message(&mut out, x, max).await,
            Msg::HeaderRangeResponse(x) => write_message(&mut out, x, max).await,
            Msg::RowRequest(x) => write_message(&mut out, x, max).await,
            Msg::RowResponse(x) => write_message(&mut out, x, max).await,
            Msg::NamespaceRequest(x) => write_message(&mut out, x, max).await,
            Msg::NamespaceResponse(x) => write_message(&mut out, x, max).await,
            Msg::BlobsRequest(x) => write_message(&mut out, x, max).await,
            Msg::BlobsResponse(x) => write_message(&mut out, x, max).await,
        }
    })?;
    Ok(out.into_inner())
}

/// Reads one frame as the message type `ty` under `max`.
fn read(ty: &str, frame: &[u8], max: usize) -> io::Result<Msg> {
    let mut io = Cursor::new(frame.to_vec());
    block_on(async {
        Ok(match ty {
            "SampleRequest" => Msg::SampleRequest(read_message(&mut io, max).await?),
            "SampleResponse" => Msg::SampleResponse(read_message(&mut io, max).await?),
            "HeaderRangeRequest" => Msg::HeaderRangeRequest(read_message(&mut io, max).await?),
            "HeaderRangeResponse" => Msg::HeaderRangeResponse(read_message(&mut io, max).await?),
            "RowRequest" => Msg::RowRequest(read_message(&mut io, max).await?),
            "RowResponse" => Msg::RowResponse(read_message(&mut io, max).await?),
            "NamespaceRequest" => Msg::NamespaceRequest(read_message(&mut io, max).await?),
            "NamespaceResponse" => Msg::NamespaceResponse(read_message(&mut io, max).await?),
            "BlobsRequest" => Msg::BlobsRequest(read_message(&mut io, max).await?),
            "BlobsResponse" => Msg::BlobsResponse(read_message(&mut io, max).await?),
            other => panic!("unknown message {other}"),
        })
    })
}

fn kind_name(k: io::ErrorKind) -> &'static str {
    match k {
        io::ErrorKind::InvalidData => "InvalidData",
        io::ErrorKind::InvalidInput => "InvalidInput",
        io::ErrorKind::UnexpectedEof => "UnexpectedEof",
        other => panic!("unexpected error kind {other:?}"),
    }
}

#[test]
fn protocol_ids_and_bounds_are_the_recorded_ones() {
    let file = load(FILE);
    for case in list(&file["protocol_ids"]) {
        let p = Protocols::for_chain(text(&case["chain"])).expect("valid chain");
        assert_eq!(p.sample.as_ref(), text(&case["sample"]));
        assert_eq!(p.headers.as_ref(), text(&case["headers"]));
        assert_eq!(p.row.as_ref(), text(&case["row"]));
        assert_eq!(p.namespace.as_ref(), text(&case["namespace"]));
        assert_eq!(p.kad.as_ref(), text(&case["kad"]));
        assert_eq!(p.identify, text(&case["identify"]));
        assert_eq!(p.header_topic, text(&case["header_topic"]));
        assert_eq!(p.blobs.as_ref(), text(&case["blobs"]));
        assert_eq!(p.blob_topic, text(&case["blob_topic"]));
    }
    for chain in list(&file["invalid_chain_ids"]) {
        assert!(Protocols::for_chain(text(chain)).is_err(), "{chain}");
    }
    let bounds = &file["bounds"];
    assert_eq!(
        num(&bounds["max_blob_ids_per_message"]) as usize,
        MAX_BLOB_IDS_PER_MESSAGE
    );
    for protocol in ["sample", "headers", "row", "namespace", "blobs"] {
        for direction in ["request", "response"] {
            let want = num(&bounds[protocol][direction]) as usize;
            assert_eq!(limit(protocol, direction), want, "{protocol} {direction}");
        }
    }
    assert_eq!(
        num(&bounds["max_cells_per_sample_request"]) as usize,
        MAX_CELLS_PER_SAMPLE_REQUEST
    );
    assert_eq!(
        num(&bounds["max_headers_per_range"]),
        u64::from(MAX_HEADERS_PER_RANGE)
    );
    assert_eq!(num(&bounds["max_gossip_bytes"]) as usize, MAX_GOSSIP_BYTES);
}

#[test]
fn frames_are_written_and_read_as_recorded() {
    let file = load(FILE);
    let cases = list(&file["frames"]);
    assert!(cases.len() >= 10, "the file lost cases");
    for case in cases {
        let name = text(&case["name"]);
        let max = limit(text(&case["protocol"]), text(&case["direction"]));
        let msg = msg_of(&case["message"]);
        let frame = bytes(&case["frame"]);
        assert_eq!(
            hex::encode(write(&msg, max).expect(name)),
            text(&case["frame"]),
            "{name}"
        );
        let back = read(text(&case["message"]["type"]), &frame, max).expect(name);
        assert_eq!(back, msg, "{name}");
    }
}

#[test]
fn invalid_frames_are_refused_with_the_recorded_kind() {
    let file = load(FILE);
    let cases = list(&file["invalid_frames"]);
    assert!(cases.len() >= 8, "the file lost cases");
    for case in cases {
        let name = text(&case["name"]);
        let max = limit(text(&case["protocol"]), text(&case["direction"]));
        let err = read(text(&case["type"]), &bytes(&case["frame"]), max).expect_err(name);
        assert_eq!(kind_name(err.kind()), text(&case["error"]), "{name}: {err}");
    }
    for case in list(&file["unwritable"]) {
        let name = text(&case["name"]);
        let max = limit(text(&case["protocol"]), text(&case["direction"]));
        let err = write(&msg_of(&case["message"]), max).expect_err(name);
        assert_eq!(kind_name(err.kind()), text(&case["error"]), "{name}: {err}");
    }
}

// ---- generator ----

/// Deterministic stand-in bytes (not real cells or proofs: the codec does not look inside).
fn filler(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(37).wrapping_add(seed))
        .collect()
}

fn sample(row: u32, col: u32, seed: u8) -> pb::Sample {
    pb::Sample {
        row,
        col,
        cell: filler(seed, 2048),
        proof: filler(seed.wrapping_add(1), 48),
    }
}

/// The certified header of `header_v2.json`'s block `name`, as the headers protocol carries it
/// (`CertifiedHeader::to_bytes`).
fn golden_header(name: &str) -> Vec<u8> {
    let file = load("header_v2.json");
    let case = list(&file["blocks"])
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("header_v2.json has {name}"));
    bytes(&case["certified_header"])
}

/// `(name, protocol, direction, message type, why, frame, io::ErrorKind)`.
type InvalidFrame = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Vec<u8>,
    &'static str,
);

#[test]
#[ignore = "generator: DA_WRITE_VECTORS=1 cargo test -p da-network --test golden -- --ignored"]
fn generate_p2p_vectors() {
    let mut namespace = vec![0u8; 29];
    namespace[24..].copy_from_slice(b"alpha");
    let cell = |row, col| pb::P2pCell { row, col };
    let frames: Vec<(&str, &str, &str, &str, Msg)> = vec![
        (
            "sample_request",
            "sample",
            "request",
            "three cells at height 300",
            Msg::SampleRequest(pb::SampleRequest {
                height: 300,
                cells: vec![cell(0, 0), cell(3, 127), cell(255, 64)],
            }),
        ),
        (
            "sample_response_one_cell",
            "sample",
            "response",
            "one 2048-byte cell and 48-byte proof: a two-byte length prefix",
            Msg::SampleResponse(pb::SampleResponse {
                samples: vec![sample(3, 127, 1)],
                has_height: true,
            }),
        ),
        (
            "sample_response_not_yet",
            "sample",
            "response",
            "has_height false, no samples: every field is default, the body is empty",
            Msg::SampleResponse(pb::SampleResponse {
                samples: vec![],
                has_height: false,
            }),
        ),
        (
            "headers_request_newest",
            "headers",
            "request",
            "from 0: the newest header",
            Msg::HeaderRangeRequest(pb::HeaderRangeRequest { from: 0, count: 1 }),
        ),
        (
            "headers_request_range",
            "headers",
            "request",
            "32 headers from height 5",
            Msg::HeaderRangeRequest(pb::HeaderRangeRequest { from: 5, count: 32 }),
        ),
        (
            "headers_response_one",
            "headers",
            "response",
            "header_v2.json's two certified headers (heights 1 and 2)",
            Msg::HeaderRangeResponse(pb::HeaderRangeResponse {
                headers: vec![
                    golden_header("height_1_all_sign"),
                    golden_header("height_2_three_of_four"),
                ],
            }),
        ),
        (
            "headers_response_none",
            "headers",
            "response",
            "no headers",
            Msg::HeaderRangeResponse(pb::HeaderRangeResponse { headers: vec![] }),
        ),
        (
            "row_request",
            "row",
            "request",
            "row 7 at height 300",
            Msg::RowRequest(pb::RowRequest {
                height: 300,
                row: 7,
            }),
        ),
        (
            "row_response_two_cells",
            "row",
            "response",
            "two cells of row 1",
            Msg::RowResponse(pb::RowResponse {
                cells: vec![sample(1, 0, 2), sample(1, 64, 3)],
            }),
        ),
        (
            "row_response_none",
            "row",
            "response",
            "the peer lacks the row",
            Msg::RowResponse(pb::RowResponse { cells: vec![] }),
        ),
        (
            "namespace_request",
            "namespace",
            "request",
            "namespace \"alpha\" at height 12",
            Msg::NamespaceRequest(pb::NamespaceRequest {
                height: 12,
                namespace: namespace.clone(),
            }),
        ),
        (
            "namespace_response_proof",
            "namespace",
            "response",
            "an index cell and one blob cell",
            Msg::NamespaceResponse(pb::NamespaceResponse {
                has_height: true,
                proof: Some(pb::NamespaceProof {
                    index_cells: vec![sample(0, 0, 4)],
                    blob_cells: vec![sample(0, 1, 5)],
                }),
            }),
        ),
        (
            "namespace_response_no_block",
            "namespace",
            "response",
            "has_height false and no proof",
            Msg::NamespaceResponse(pb::NamespaceResponse {
                has_height: false,
                proof: None,
            }),
        ),
        (
            "blobs_request",
            "blobs",
            "request",
            "two blob ids",
            Msg::BlobsRequest(pb::BlobsRequest {
                ids: vec![vec![0x11; 32], vec![0x22; 32]],
            }),
        ),
        (
            "blobs_response",
            "blobs",
            "response",
            "one pooled blob of namespace \"alpha\"",
            Msg::BlobsResponse(pb::BlobsResponse {
                blobs: vec![pb::PooledBlob {
                    namespace: namespace.clone(),
                    data: b"rollup batch".to_vec(),
                }],
            }),
        ),
        (
            "blobs_response_none",
            "blobs",
            "response",
            "the peer holds none of the blobs asked",
            Msg::BlobsResponse(pb::BlobsResponse { blobs: vec![] }),
        ),
    ];
    let frames: Vec<Value> = frames
        .into_iter()
        .map(|(name, protocol, direction, why, m)| {
            let frame = write(&m, limit(protocol, direction)).expect(name);
            json!({
                "name": name, "why": why, "protocol": protocol, "direction": direction,
                "message": msg_json(&m), "frame": hex::encode(frame),
            })
        })
        .collect();

    let row_frame = write(
        &Msg::RowRequest(pb::RowRequest {
            height: 300,
            row: 7,
        }),
        64,
    )
    .expect("row");
    let varint = |mut n: u64| {
        let mut out = Vec::new();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    };
    let sample_over = varint(SAMPLE_LIMITS.response as u64 + 1);
    let invalid: Vec<InvalidFrame> = vec![
        (
            "empty",
            "row",
            "request",
            "RowRequest",
            "no bytes",
            vec![],
            "UnexpectedEof",
        ),
        (
            "prefix_cut",
            "row",
            "request",
            "RowRequest",
            "a continued length byte, then nothing",
            vec![0x80],
            "UnexpectedEof",
        ),
        (
            "body_cut",
            "row",
            "request",
            "RowRequest",
            "row_request's frame without its last byte",
            row_frame[..row_frame.len() - 1].to_vec(),
            "UnexpectedEof",
        ),
        (
            "over_request_bound",
            "row",
            "request",
            "RowRequest",
            "declares 65 > 64 bytes and sends none: refused before reading (not UnexpectedEof)",
            varint(65),
            "InvalidData",
        ),
        (
            "over_response_bound",
            "sample",
            "response",
            "SampleResponse",
            "declares 1 MiB + 1 bytes, sends none",
            sample_over,
            "InvalidData",
        ),
        (
            "prefix_u32_max",
            "namespace",
            "response",
            "NamespaceResponse",
            "declares 2^32 - 1 bytes",
            vec![0xff, 0xff, 0xff, 0xff, 0x0f],
            "InvalidData",
        ),
        (
            "prefix_six_bytes",
            "namespace",
            "response",
            "NamespaceResponse",
            "a length prefix longer than 5 bytes",
            vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
            "InvalidData",
        ),
        (
            "garbage_body",
            "row",
            "request",
            "RowRequest",
            "3 bytes that are not protobuf",
            vec![0x03, 0xff, 0xff, 0xff],
            "InvalidData",
        ),
        (
            "wrong_wire_type",
            "row",
            "request",
            "RowRequest",
            "field 1 (height, varint) sent length-delimited",
            vec![0x03, 0x0a, 0x01, 0x00],
            "InvalidData",
        ),
        (
            "truncated_field",
            "row",
            "request",
            "RowRequest",
            "body ends inside field 1's varint",
            vec![0x02, 0x08, 0xac],
            "InvalidData",
        ),
    ];
    let invalid: Vec<Value> = invalid
        .into_iter()
        .map(|(name, protocol, direction, ty, why, frame, error)| {
            let err = read(ty, &frame, limit(protocol, direction)).expect_err(name);
            assert_eq!(kind_name(err.kind()), error, "{name}");
            json!({
                "name": name, "why": why, "protocol": protocol, "direction": direction,
                "type": ty, "frame": hex::encode(frame), "error": error,
            })
        })
        .collect();
    let too_big = Msg::NamespaceRequest(pb::NamespaceRequest {
        height: 1,
        namespace: vec![0; 200],
    });
    let err = write(&too_big, NAMESPACE_LIMITS.request).expect_err("over the bound");
    let unwritable = vec![json!({
        "name": "namespace_request_over_bound",
        "why": "a 200-byte namespace makes the request 205 bytes > 128: the writer refuses it",
        "protocol": "namespace", "direction": "request",
        "message": msg_json(&too_big), "error": kind_name(err.kind()),
    })];

    let ids: Vec<Value> = ["devnet", "da-mainnet_1.2"]
        .into_iter()
        .map(|chain| {
            let p = Protocols::for_chain(chain).expect("valid");
            json!({
                "chain": chain, "sample": p.sample.as_ref(), "headers": p.headers.as_ref(),
                "row": p.row.as_ref(), "namespace": p.namespace.as_ref(), "kad": p.kad.as_ref(),
                "identify": p.identify, "header_topic": p.header_topic,
                "blobs": p.blobs.as_ref(), "blob_topic": p.blob_topic,
            })
        })
        .collect();
    let bound = |l: Limits| json!({"request": l.request, "response": l.response});
    let file = json!({
        "spec": "specs/09-p2p.md",
        "protocol_ids": ids,
        "invalid_chain_ids": ["", "a/b", "white space", "é", "x".repeat(65)],
        "bounds": {
            "sample": bound(SAMPLE_LIMITS),
            "headers": bound(HEADER_LIMITS),
            "row": bound(ROW_LIMITS),
            "namespace": bound(NAMESPACE_LIMITS),
            "blobs": bound(BLOB_LIMITS),
            "max_blob_ids_per_message": MAX_BLOB_IDS_PER_MESSAGE,
            "max_cells_per_sample_request": MAX_CELLS_PER_SAMPLE_REQUEST,
            "max_headers_per_range": MAX_HEADERS_PER_RANGE,
            "max_gossip_bytes": MAX_GOSSIP_BYTES,
        },
        "frames": frames,
        "invalid_frames": invalid,
        "unwritable": unwritable,
    });
    if std::env::var("DA_WRITE_VECTORS").as_deref() == Ok("1") {
        let mut text = serde_json::to_string_pretty(&file).expect("json");
        text.push('\n');
        fs::write(dir().join(FILE), text).expect("write");
    } else {
        assert_eq!(
            load(FILE),
            file,
            "regenerate with DA_WRITE_VECTORS=1 and review the diff"
        );
    }
}

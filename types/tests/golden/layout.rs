//! `square.json`: original squares laid out from fixed blobs, the index bytes and entries, cell
//! packing, and malformed indexes and cells (`specs/01-data-model.md`).

use da_types::{
    consts::{BYTES_PER_CELL, PAYLOAD_BYTES_PER_CELL},
    layout::{
        decode_index, decode_index_count, index_cells, pack_cell, unpack_cell, INDEX_ENTRY_SIZE,
    },
    Blob, BlobId, IndexEntry, Namespace, SquareLayout,
};
use serde_json::{json, Value};

use super::{array, bytes, hx, kind, list, load, num, text, write_or_compare};

const FILE: &str = "square.json";

/// Blob data as the file gives it: `data` (hex) or `data_pattern` (`data[j] = (seed + j) mod
/// 251`, for blobs too long to spell out).
fn blob_data(v: &Value) -> Vec<u8> {
    if let Some(p) = v.get("data_pattern") {
        pattern(num(&p["len"]) as usize, num(&p["seed"]))
    } else {
        bytes(&v["data"])
    }
}

fn pattern(len: usize, seed: u64) -> Vec<u8> {
    (0..len as u64).map(|j| ((seed + j) % 251) as u8).collect()
}

fn entry_of(v: &Value) -> IndexEntry {
    IndexEntry {
        namespace: Namespace::from_raw(&bytes(&v["namespace"])).expect("29 bytes"),
        blob_id: BlobId(array(&v["blob_id"])),
        first_cell: u32::try_from(num(&v["first_cell"])).expect("u32"),
        len: u32::try_from(num(&v["len"])).expect("u32"),
    }
}

fn entry_json(e: &IndexEntry) -> Value {
    json!({
        "namespace": hx(e.namespace.as_bytes()),
        "blob_id": hx(&e.blob_id.0),
        "first_cell": e.first_cell,
        "len": e.len,
    })
}

fn blake3_hex(b: &[u8]) -> String {
    hx(blake3::hash(b).as_bytes())
}

#[test]
fn squares_are_laid_out_as_recorded() {
    let file = load(FILE);
    let cases = list(&file["squares"]);
    assert!(cases.len() >= 4, "the file lost cases");
    for case in cases {
        let name = text(&case["name"]);
        let blobs: Vec<Blob> = list(&case["blobs"])
            .iter()
            .map(|b| {
                let ns = Namespace::new_blob(&bytes(&b["namespace"])).expect("blob namespace");
                let blob = Blob::new(ns, blob_data(b)).expect("blob");
                assert_eq!(hx(&blob.id().0), text(&b["blob_id"]), "{name}: blob id");
                blob
            })
            .collect();
        let sq = SquareLayout::build(&blobs).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = &case["expected"];
        assert_eq!(sq.k() as u64, num(&want["k"]), "{name}: k");

        let entries: Vec<IndexEntry> = list(&want["entries"]).iter().map(entry_of).collect();
        assert_eq!(sq.index(), entries.as_slice(), "{name}: entries");
        let n_index = index_cells(entries.len());
        assert_eq!(n_index as u64, num(&want["index_cells"]), "{name}");

        // The index bytes, entry by entry, and the cells that carry them.
        let index_bytes = bytes(&want["index_bytes"]);
        let mut encoded = (entries.len() as u32).to_be_bytes().to_vec();
        for (i, e) in entries.iter().enumerate() {
            e.encode(&mut encoded);
            let at = 4 + i * INDEX_ENTRY_SIZE;
            assert_eq!(
                IndexEntry::decode(&index_bytes[at..at + INDEX_ENTRY_SIZE]).expect("entry"),
                *e
            );
        }
        assert_eq!(
            hx(&encoded),
            text(&want["index_bytes"]),
            "{name}: index bytes"
        );
        let index_cells_hex = list(&want["index_cell_bytes"]);
        assert_eq!(index_cells_hex.len(), n_index, "{name}");
        let mut payload = Vec::new();
        for (n, cell) in index_cells_hex.iter().enumerate() {
            assert_eq!(hx(sq.cell(n)), text(cell), "{name}: index cell {n}");
            unpack_cell(&bytes(cell), &mut payload).expect("unpack");
        }
        assert_eq!(&payload[..index_bytes.len()], index_bytes.as_slice());
        assert!(payload[index_bytes.len()..].iter().all(|b| *b == 0));
        assert_eq!(decode_index(&payload, sq.k()).expect("index"), entries);

        // Every used cell, then every row (which also covers the zero cells after them).
        let cells = list(&want["cell_blake3"]);
        let used = entries
            .last()
            .map_or(n_index, |e| e.cells().end)
            .max(n_index);
        assert_eq!(cells.len(), used, "{name}: used cells");
        for (n, h) in cells.iter().enumerate() {
            assert_eq!(blake3_hex(sq.cell(n)), text(h), "{name}: cell {n}");
        }
        let rows = list(&want["row_blake3"]);
        assert_eq!(rows.len(), sq.k(), "{name}");
        for (r, h) in rows.iter().enumerate() {
            assert_eq!(blake3_hex(sq.row(r)), text(h), "{name}: row {r}");
        }
        for (e, b) in entries.iter().zip(list(&case["sorted_blobs"])) {
            let i = num(b) as usize;
            assert_eq!(sq.blob_data(e).expect("data"), blobs[i].data(), "{name}");
        }
    }
}

#[test]
fn index_cells_formula_matches() {
    let file = load(FILE);
    for row in list(&file["index_cells"]) {
        let count = num(&row["count"]) as usize;
        assert_eq!(
            index_cells(count) as u64,
            num(&row["cells"]),
            "count {count}"
        );
    }
}

#[test]
fn indexes_decode_or_are_rejected_as_recorded() {
    let file = load(FILE);
    let valid = list(&file["index_valid"]);
    assert!(valid.len() >= 3, "the file lost cases");
    for case in valid {
        let name = text(&case["name"]);
        let b = bytes(&case["index_bytes"]);
        let k = num(&case["k"]) as usize;
        let want: Vec<IndexEntry> = list(&case["entries"]).iter().map(entry_of).collect();
        assert_eq!(decode_index_count(&b).expect(name), want.len(), "{name}");
        assert_eq!(decode_index(&b, k).expect(name), want, "{name}");
    }
    let invalid = list(&file["index_invalid"]);
    assert!(invalid.len() >= 10, "the file lost cases");
    for case in invalid {
        let name = text(&case["name"]);
        let b = bytes(&case["index_bytes"]);
        let err = decode_index(&b, num(&case["k"]) as usize).expect_err(name);
        assert_eq!(kind(&err), text(&case["error"]), "{name}: {err}");
    }
}

#[test]
fn cells_pack_and_unpack_as_recorded() {
    let file = load(FILE);
    for case in list(&file["cell_valid"]) {
        let name = text(&case["name"]);
        let payload = bytes(&case["payload"]);
        let mut cell = vec![0u8; BYTES_PER_CELL];
        pack_cell(&payload, &mut cell);
        assert_eq!(hx(&cell), text(&case["cell"]), "{name}: pack");
        let mut out = Vec::new();
        unpack_cell(&bytes(&case["cell"]), &mut out).expect(name);
        assert_eq!(out.len(), PAYLOAD_BYTES_PER_CELL);
        assert_eq!(&out[..payload.len()], payload.as_slice(), "{name}: unpack");
        assert!(out[payload.len()..].iter().all(|b| *b == 0), "{name}");
    }
    for case in list(&file["cell_invalid"]) {
        let name = text(&case["name"]);
        let err = unpack_cell(&bytes(&case["cell"]), &mut Vec::new()).expect_err(name);
        assert_eq!(kind(&err), text(&case["error"]), "{name}: {err}");
    }
}

// ---- generator ----

fn ns(sub_id: &[u8]) -> Namespace {
    Namespace::new_v0(sub_id).expect("namespace")
}

/// A blob of the file: small data as hex, long data as a pattern.
enum Data {
    Hex(Vec<u8>),
    Pattern(usize, u64),
}

fn square_case(name: &str, why: &str, blobs: Vec<(Namespace, Data)>) -> Value {
    let built: Vec<Blob> = blobs
        .iter()
        .map(|(n, d)| {
            let data = match d {
                Data::Hex(b) => b.clone(),
                Data::Pattern(len, seed) => pattern(*len, *seed),
            };
            Blob::new(*n, data).expect("blob")
        })
        .collect();
    let sq = SquareLayout::build(&built).expect("build");
    let entries = sq.index();
    let n_index = index_cells(entries.len());
    let mut index_bytes = (entries.len() as u32).to_be_bytes().to_vec();
    for e in entries {
        e.encode(&mut index_bytes);
    }
    let used = entries
        .last()
        .map_or(n_index, |e| e.cells().end)
        .max(n_index);
    // Which input blob each entry is (the layout sorts stably by namespace).
    let sorted: Vec<usize> = entries
        .iter()
        .map(|e| {
            built
                .iter()
                .position(|b| b.id() == e.blob_id)
                .expect("entry of an input blob")
        })
        .collect();
    let blobs_json: Vec<Value> = blobs
        .iter()
        .zip(&built)
        .map(|((n, d), b)| {
            let mut v = json!({"namespace": hx(n.as_bytes()), "blob_id": hx(&b.id().0)});
            match d {
                Data::Hex(data) => v["data"] = json!(hx(data)),
                Data::Pattern(len, seed) => v["data_pattern"] = json!({"len": len, "seed": seed}),
            }
            v
        })
        .collect();
    json!({
        "name": name,
        "why": why,
        "blobs": blobs_json,
        "sorted_blobs": sorted,
        "expected": {
            "k": sq.k(),
            "index_cells": n_index,
            "entries": entries.iter().map(entry_json).collect::<Vec<_>>(),
            "index_bytes": hx(&index_bytes),
            "index_cell_bytes": (0..n_index).map(|n| hx(sq.cell(n))).collect::<Vec<_>>(),
            "cell_blake3": (0..used).map(|n| blake3_hex(sq.cell(n))).collect::<Vec<_>>(),
            "row_blake3": (0..sq.k()).map(|r| blake3_hex(sq.row(r))).collect::<Vec<_>>(),
        },
    })
}

fn generated_squares() -> Vec<Value> {
    let (a, b, c) = (ns(b"alpha"), ns(b"beta"), ns(&[0x01, 0x00]));
    let many: Vec<(Namespace, Data)> = (0..29u8)
        .map(|i| (ns(&[0x02, i % 10]), Data::Hex(vec![i; usize::from(i) + 1])))
        .collect();
    vec![
        square_case("empty", "no blobs: k = 1, an index of count 0", vec![]),
        square_case(
            "five_blobs_sorted_stably",
            "namespaces sort as bytes (0x..0100 < \"beta\" < \"alpha\"), ties keep arrival order; \
             blobs of 1, 31, 1984 (one full cell), 1985 (two cells) and 5000 bytes",
            vec![
                (a, Data::Pattern(5000, 1)),
                (b, Data::Hex(vec![0x2a])),
                (c, Data::Pattern(1985, 2)),
                (b, Data::Pattern(PAYLOAD_BYTES_PER_CELL, 3)),
                (a, Data::Hex((0..31).collect())),
            ],
        ),
        square_case(
            "index_spans_two_cells",
            "29 blobs: the index is 4 + 29 * 69 = 2005 bytes, two cells; entry 28 straddles them",
            many,
        ),
        square_case(
            "k4_from_three_rows",
            "a blob of 129 * 1984 + 1 bytes (130 cells) and a 10-byte blob need 132 cells, 3 rows, \
             so k = 4 and row 3 is zero",
            vec![
                (ns(b"zz"), Data::Hex((0..10).collect())),
                (ns(b"big"), Data::Pattern(129 * PAYLOAD_BYTES_PER_CELL + 1, 7)),
            ],
        ),
    ]
}

fn with_count(count: u32, body: &[u8]) -> Vec<u8> {
    let mut out = count.to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

fn index_of(entries: &[IndexEntry]) -> Vec<u8> {
    let mut out = (entries.len() as u32).to_be_bytes().to_vec();
    for e in entries {
        e.encode(&mut out);
    }
    out
}

fn generated_index_cases() -> (Vec<Value>, Vec<Value>) {
    let base = vec![
        IndexEntry {
            namespace: ns(b"beta"),
            blob_id: BlobId([0x11; 32]),
            first_cell: 1,
            len: 10,
        },
        IndexEntry {
            namespace: ns(b"alpha"),
            blob_id: BlobId([0x22; 32]),
            first_cell: 2,
            len: 1985,
        },
    ];
    let edit = |f: &dyn Fn(&mut Vec<IndexEntry>)| {
        let mut e = base.clone();
        f(&mut e);
        e
    };
    let raw_ns = |b: &[u8; 29]| Namespace::from_raw(b).expect("29 bytes");
    let mut v1 = [0u8; 29];
    v1[0] = 1;
    v1[28] = 0x42;
    let mut prefix = [0u8; 29];
    prefix[1] = 1;
    prefix[28] = 0x42;
    let past_end = edit(&|e| e[1].first_cell = 64);
    let mut padded = index_of(&base);
    padded.extend_from_slice(&[0; 100]);

    let valid = vec![
        ("count_0", "an empty index", index_of(&[]), 1, vec![]),
        (
            "two_entries",
            "two blobs after a one-cell index",
            index_of(&base),
            1,
            base.clone(),
        ),
        (
            "trailing_padding",
            "bytes after the last entry are ignored",
            padded,
            1,
            base.clone(),
        ),
        (
            "past_row_0_with_k_2",
            "entry 1 at cell 64 fits a square of k = 2",
            index_of(&past_end),
            2,
            past_end.clone(),
        ),
    ];
    let one_entry = {
        let mut b = index_of(&base);
        b.truncate(4 + INDEX_ENTRY_SIZE);
        b
    };
    let mi = "MalformedIndex";
    let invalid: Vec<(&str, &str, Vec<u8>, usize, &str)> = vec![
        ("empty", "no bytes", vec![], 1, mi),
        ("shorter_than_count", "two bytes", vec![0, 0], 1, mi),
        (
            "count_over_max",
            "count 16385 > K_MAX * 64",
            with_count(16_385, &[]),
            256,
            mi,
        ),
        (
            "count_u32_max",
            "count 2^32 - 1",
            with_count(u32::MAX, &[]),
            256,
            mi,
        ),
        (
            "count_max_without_entries",
            "count 16384 (allowed) but no entry bytes",
            with_count(16_384, &[]),
            256,
            mi,
        ),
        (
            "entry_missing",
            "count 2 but one entry",
            {
                let mut b = one_entry;
                b[3] = 2;
                b
            },
            1,
            mi,
        ),
        (
            "namespace_version_1",
            "entry 0 has a version-1 namespace",
            index_of(&edit(&|e| e[0].namespace = raw_ns(&v1))),
            1,
            mi,
        ),
        (
            "namespace_prefix_not_zero",
            "entry 0's id does not start with 18 zero bytes",
            index_of(&edit(&|e| e[0].namespace = raw_ns(&prefix))),
            1,
            mi,
        ),
        (
            "namespace_reserved",
            "entry 0 uses 0x00..03 (reserved)",
            index_of(&edit(&|e| e[0].namespace = Namespace::INDEX)),
            1,
            mi,
        ),
        (
            "namespace_parity",
            "entry 1 uses 0xff..ff",
            index_of(&edit(&|e| e[1].namespace = Namespace::PARITY)),
            1,
            mi,
        ),
        (
            "namespaces_out_of_order",
            "alpha first, but beta (..62657461) < alpha (..616c706861)",
            index_of(&edit(&|e| {
                e.swap(0, 1);
                e[0].first_cell = 1;
                e[1].first_cell = 3;
            })),
            1,
            mi,
        ),
        (
            "len_0",
            "entry 0 has length 0",
            index_of(&edit(&|e| e[0].len = 0)),
            1,
            mi,
        ),
        (
            "first_cell_on_index",
            "entry 0 starts in the index cell",
            index_of(&edit(&|e| e[0].first_cell = 0)),
            1,
            mi,
        ),
        (
            "overlaps_previous",
            "entry 1 starts in entry 0's cell",
            index_of(&edit(&|e| e[1].first_cell = 1)),
            1,
            mi,
        ),
        (
            "past_square_end",
            "entry 1 at cell 64 does not fit k = 1",
            index_of(&past_end),
            1,
            mi,
        ),
        (
            "runs_past_square_end",
            "entry 1's two cells 63..65 do not fit k = 1",
            index_of(&edit(&|e| e[1].first_cell = 63)),
            1,
            mi,
        ),
        (
            "k_3",
            "a valid index against k = 3",
            index_of(&base),
            3,
            "InvalidSquareSize",
        ),
        (
            "k_512",
            "a valid index against k = 512",
            index_of(&base),
            512,
            "InvalidSquareSize",
        ),
    ];
    let entries = |e: &[IndexEntry]| e.iter().map(entry_json).collect::<Vec<_>>();
    (
        valid
            .into_iter()
            .map(|(name, why, b, k, e)| {
                json!({
                    "name": name, "why": why, "k": k,
                    "index_bytes": hx(&b), "entries": entries(&e),
                })
            })
            .collect(),
        invalid
            .into_iter()
            .map(|(name, why, b, k, error)| {
                json!({"name": name, "why": why, "k": k, "index_bytes": hx(&b), "error": error})
            })
            .collect(),
    )
}

fn generated_cells() -> (Vec<Value>, Vec<Value>) {
    let packed = |payload: &[u8]| {
        let mut cell = vec![0u8; BYTES_PER_CELL];
        pack_cell(payload, &mut cell);
        cell
    };
    let full: Vec<u8> = pattern(PAYLOAD_BYTES_PER_CELL, 5);
    let valid = [
        ("empty_payload", "an all-zero cell", vec![]),
        (
            "one_element_and_a_byte",
            "32 bytes: element 0 full, element 1 holds one byte",
            (1..=32).collect(),
        ),
        ("full", "1984 bytes fill all 64 elements", full.clone()),
    ];
    let mut top_byte = packed(&full);
    top_byte[63 * 32] = 0x01;
    let invalid = [
        (
            "top_byte_set",
            "element 63's top byte is 0x01",
            top_byte,
            "MalformedIndex",
        ),
        (
            "short",
            "2047 bytes",
            vec![0; BYTES_PER_CELL - 1],
            "MalformedIndex",
        ),
        (
            "long",
            "2049 bytes",
            vec![0; BYTES_PER_CELL + 1],
            "MalformedIndex",
        ),
    ];
    (
        valid
            .into_iter()
            .map(|(name, why, p)| {
                json!({"name": name, "why": why, "payload": hx(&p), "cell": hx(&packed(&p))})
            })
            .collect(),
        invalid
            .into_iter()
            .map(|(name, why, c, error)| {
                json!({"name": name, "why": why, "cell": hx(&c), "error": error})
            })
            .collect(),
    )
}

#[test]
#[ignore = "generator: DA_WRITE_VECTORS=1 cargo test -p da-types --test golden -- --ignored"]
fn generate_square_vectors() {
    let (index_valid, index_invalid) = generated_index_cases();
    let (cell_valid, cell_invalid) = generated_cells();
    let index_table: Vec<Value> = [0usize, 1, 28, 29, 57, 58, 16_384]
        .into_iter()
        .map(|count| json!({"count": count, "cells": index_cells(count)}))
        .collect();
    let file = json!({
        "spec": "specs/01-data-model.md",
        "squares": generated_squares(),
        "index_cells": index_table,
        "index_valid": index_valid,
        "index_invalid": index_invalid,
        "cell_valid": cell_valid,
        "cell_invalid": cell_invalid,
    });
    write_or_compare(FILE, &file);
}

//! The gRPC API against real nodes on 127.0.0.1: submit → include → get → proofs verified against
//! the header, completeness, idempotence, every bad input, auth, following, restart, pruning.

use std::path::Path;

use da_kzg::{BlobProof, Commitment, NamespaceProof, ProvenCell};
use da_node::NodeHandle;
use da_node::{config::Role, NodeConfig};
use da_proto::v1 as pb;
use da_testkit::{
    cluster::{kzg, start},
    gen::namespace_bytes as ns,
    grpc::{clients, submit},
    wait,
};
use da_types::{BlobId, CertifiedHeader, Namespace};
use tonic::Code;

/// A producer under `dir` with 150 ms blocks and no libp2p (the API is all these tests use).
fn producer_config(dir: &Path) -> NodeConfig {
    NodeConfig {
        block_time_ms: 150,
        p2p_listen: Vec::new(),
        ..da_testkit::cluster::producer_config("test", dir)
    }
}

async fn wait_for_height(node: &NodeHandle, height: u64) {
    wait::height(node, height).await;
}

/// The certified header a message carries (its informative fields match it).
fn certified(h: &pb::Header) -> CertifiedHeader {
    let c = CertifiedHeader::try_from(h).expect("certified header bytes");
    assert_eq!(
        (h.height, h.k, h.blob_count, h.timestamp_ms),
        (
            c.height(),
            u32::from(c.block.k),
            c.block.blob_count,
            c.block.header.timestamp_ms
        )
    );
    assert_eq!(h.header_id, c.id().to_vec());
    assert_eq!(h.data_root, c.block.header.data_root.to_vec());
    assert_eq!((h.round, h.signers), (0, 1));
    c
}

fn commitments(h: &pb::Header) -> Vec<Commitment> {
    Commitment::of_header(&certified(h).block)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_include_get_prove_and_complete() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = start(producer_config(dir.path())).await;
    let (mut blobs, mut headers, mut shares) = clients(&node).await;
    let items = vec![
        (ns(1), b"first batch".to_vec()),
        (ns(2), vec![7u8; 5000]),
        (ns(1), vec![9u8; 2100]),
    ];
    let resp = blobs
        .submit(submit(&items, true))
        .await
        .expect("submit")
        .into_inner();
    assert!(resp.height > 0);
    assert_eq!(resp.blob_ids.len(), 3);
    let header = headers
        .get_by_height(pb::GetByHeightRequest {
            height: resp.height,
        })
        .await
        .expect("header")
        .into_inner();
    // The header verifies against the genesis the node runs (one validator: the node).
    assert_eq!(node.trust().verify(&certified(&header)), Ok(1));
    let coms = commitments(&header);
    let ctx = kzg();
    assert!(ctx.verify_extension(&coms).expect("extension"));

    for ((n, data), id) in items.iter().zip(&resp.blob_ids) {
        let req = pb::GetBlobRequest {
            height: resp.height,
            namespace: n.clone(),
            blob_id: id.clone(),
            keccak256: Vec::new(),
        };
        let got = blobs.get(req.clone()).await.expect("get").into_inner();
        assert_eq!(&got.data, data);
        let proof = blobs.get_proof(req).await.expect("proof").into_inner();
        let p = BlobProof::try_from(&proof).expect("decode");
        let ns_ = Namespace::new_blob(n).expect("ns");
        let bid = BlobId(id.clone().try_into().expect("32"));
        let proven = p.verify(&ctx, &coms, &ns_, &bid).expect("verifies");
        assert_eq!(&proven.data, data);
        let included = blobs
            .included(pb::IncludedRequest {
                height: resp.height,
                namespace: n.clone(),
                blob_id: id.clone(),
                proof: Some(proof.clone()),
            })
            .await
            .expect("included")
            .into_inner();
        assert!(included.included);
        let mut forged = proof;
        forged.blob_cells[0].proof = forged.index_cells[0].proof.clone();
        let included = blobs
            .included(pb::IncludedRequest {
                height: resp.height,
                namespace: n.clone(),
                blob_id: id.clone(),
                proof: Some(forged),
            })
            .await
            .expect("included")
            .into_inner();
        assert!(!included.included);
    }

    let all = blobs
        .get_all(pb::GetAllRequest {
            height: resp.height,
            namespaces: vec![ns(1)],
        })
        .await
        .expect("get all")
        .into_inner();
    assert_eq!(all.blobs.len(), 2);
    let none = blobs
        .get_all(pb::GetAllRequest {
            height: resp.height,
            namespaces: vec![ns(99)],
        })
        .await
        .expect("get all")
        .into_inner();
    assert!(none.blobs.is_empty());

    let nsd = shares
        .get_namespace_data(pb::GetNamespaceDataRequest {
            height: resp.height,
            namespace: ns(1),
        })
        .await
        .expect("namespace data")
        .into_inner();
    let proof = NamespaceProof::try_from(&nsd.proof.expect("proof")).expect("decode");
    let proven = proof
        .verify(&ctx, &coms, &Namespace::new_blob(&ns(1)).expect("ns"))
        .expect("complete");
    assert_eq!(proven.len(), 2);
    assert_eq!(proven[0].data, items[0].1);
    assert_eq!(proven[1].data, items[2].1);

    // Idempotent: same ids, same height, one copy.
    let again = blobs
        .submit(submit(&items[..1], true))
        .await
        .expect("resubmit")
        .into_inner();
    assert_eq!(again.blob_ids[0], resp.blob_ids[0]);
    assert_eq!(again.height, resp.height);
    assert_eq!(
        node.store().head().expect("head").map(|h| h >= resp.height),
        Some(true)
    );
    let later = node.store().head().expect("head").unwrap_or(0);
    for h in resp.height + 1..=later {
        let all = blobs
            .get_all(pb::GetAllRequest {
                height: h,
                namespaces: vec![ns(1)],
            })
            .await
            .expect("get all")
            .into_inner();
        assert!(all.blobs.is_empty(), "blob included twice (height {h})");
    }

    // Samples from every quadrant verify against the header.
    let k = header.k;
    let cells: Vec<pb::CellCoord> = [(0, 0), (0, 127), (2 * k - 1, 5), (k, 100)]
        .iter()
        .map(|&(row, col)| pb::CellCoord { row, col })
        .collect();
    let samples = shares
        .get_samples(pb::GetSamplesRequest {
            height: resp.height,
            cells,
        })
        .await
        .expect("samples")
        .into_inner()
        .samples;
    let batch = samples
        .iter()
        .map(|s| {
            let p = ProvenCell::try_from(s).expect("decode");
            (p.index, p.cell, p.proof)
        })
        .collect();
    assert_eq!(ctx.verify_cells(&coms, batch).expect("verify").len(), 4);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_get_distinct_codes() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = NodeConfig {
        max_blob_bytes: 10_000,
        mempool_max_bytes: 25_000,
        mempool_max_namespace_bytes: 12_000,
        block_time_ms: 60_000,
        ..producer_config(dir.path())
    };
    let node = start(cfg).await;
    let (mut blobs, mut headers, mut shares) = clients(&node).await;
    let code = |r: Result<tonic::Response<pb::SubmitResponse>, tonic::Status>| {
        r.map(|_| Code::Ok).unwrap_or_else(|s| s.code())
    };
    let mut reserved = vec![0u8; 29];
    reserved[28] = 0x04;
    assert_eq!(
        code(blobs.submit(submit(&[(reserved, vec![1])], false)).await),
        Code::InvalidArgument
    );
    assert_eq!(
        code(blobs.submit(submit(&[(vec![0; 28], vec![1])], false)).await),
        Code::InvalidArgument
    );
    let mut v1 = ns(1);
    v1[0] = 1;
    assert_eq!(
        code(blobs.submit(submit(&[(v1, vec![1])], false)).await),
        Code::InvalidArgument
    );
    assert_eq!(
        code(blobs.submit(submit(&[(ns(1), vec![])], false)).await),
        Code::InvalidArgument
    );
    assert_eq!(
        code(blobs.submit(submit(&[], false)).await),
        Code::InvalidArgument
    );
    let over = blobs
        .submit(submit(&[(ns(1), vec![1; 10_001])], false))
        .await;
    let s = over.expect_err("oversize");
    assert_eq!(s.code(), Code::OutOfRange);
    assert!(
        s.message().contains("10001") && s.message().contains("10000"),
        "{}",
        s.message()
    );
    for i in 0..2u8 {
        blobs
            .submit(submit(&[(ns(i), vec![i; 10_000])], false))
            .await
            .expect("fits");
    }
    // Namespace 0 is at its share (10 000 of 12 000 bytes), though the pool has room.
    let share = blobs
        .submit(submit(&[(ns(0), vec![7; 4_000])], false))
        .await
        .expect_err("over the namespace's share");
    assert_eq!(share.code(), Code::ResourceExhausted);
    assert!(
        share.message().contains("share of namespace"),
        "{}",
        share.message()
    );
    let full = blobs
        .submit(submit(&[(ns(3), vec![3; 10_000])], false))
        .await;
    assert_eq!(full.expect_err("full").code(), Code::ResourceExhausted);

    let nf = headers
        .get_by_height(pb::GetByHeightRequest { height: 999 })
        .await;
    assert_eq!(nf.expect_err("missing").code(), Code::NotFound);
    let range = headers
        .get_range(pb::GetRangeRequest { from: 5, to: 2 })
        .await;
    assert_eq!(range.expect_err("bad range").code(), Code::InvalidArgument);
    let bad_id = blobs
        .get(pb::GetBlobRequest {
            height: 1,
            namespace: ns(1),
            blob_id: vec![1, 2, 3],
            keccak256: Vec::new(),
        })
        .await;
    assert_eq!(bad_id.expect_err("bad id").code(), Code::InvalidArgument);
    let samples = shares
        .get_samples(pb::GetSamplesRequest {
            height: 999,
            cells: vec![],
        })
        .await;
    assert_eq!(samples.expect_err("missing").code(), Code::NotFound);
    let too_many = shares
        .get_samples(pb::GetSamplesRequest {
            height: 1,
            cells: vec![pb::CellCoord { row: 0, col: 0 }; 257],
        })
        .await;
    assert_eq!(
        too_many.expect_err("too many").code(),
        Code::InvalidArgument
    );
    // The node still serves after all of this: a small blob still fits the mempool.
    blobs
        .submit(submit(&[(ns(1), vec![1; 10])], false))
        .await
        .expect("still accepting");
    node.shutdown().await;
}

/// Namespaces no blob may use: reserved ones (the index's, the largest primary reserved, parity),
/// another version, a broken zero prefix, and a wrong length. Every gRPC path that takes a
/// namespace answers each with `INVALID_ARGUMENT` (`specs/06-grpc.md`), never `NOT_FOUND`,
/// an empty answer or an open stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_and_malformed_namespaces_are_invalid_on_every_path() {
    use tokio_stream::StreamExt;
    let dir = tempfile::tempdir().expect("tmp");
    let node = start(producer_config(dir.path())).await;
    let (mut blobs, _, mut shares) = clients(&node).await;
    let resp = blobs
        .submit(submit(&[(ns(1), b"a blob".to_vec())], true))
        .await
        .expect("submit")
        .into_inner();
    let (height, id) = (resp.height, resp.blob_ids[0].clone());
    let proof = blobs
        .get_proof(pb::GetBlobRequest {
            height,
            namespace: ns(1),
            blob_id: id.clone(),
            keccak256: Vec::new(),
        })
        .await
        .expect("proof")
        .into_inner();
    let mut v1 = ns(1);
    v1[0] = 1;
    let mut prefix = ns(1);
    prefix[4] = 1;
    let bad = [
        Namespace::INDEX.as_bytes().to_vec(),
        Namespace::MAX_PRIMARY_RESERVED.as_bytes().to_vec(),
        Namespace::PARITY.as_bytes().to_vec(),
        v1,
        prefix,
        vec![0; 28],
    ];
    let code = |r: Result<Code, tonic::Status>| r.unwrap_or_else(|s| s.code());
    for n in bad {
        let get = pb::GetBlobRequest {
            height,
            namespace: n.clone(),
            blob_id: id.clone(),
            keccak256: Vec::new(),
        };
        let mut answers = vec![
            ("Get", code(blobs.get(get.clone()).await.map(|_| Code::Ok))),
            (
                "GetProof",
                code(blobs.get_proof(get).await.map(|_| Code::Ok)),
            ),
            (
                "GetAll",
                code(
                    blobs
                        .get_all(pb::GetAllRequest {
                            height,
                            namespaces: vec![ns(1), n.clone()],
                        })
                        .await
                        .map(|_| Code::Ok),
                ),
            ),
            (
                "Included",
                code(
                    blobs
                        .included(pb::IncludedRequest {
                            height,
                            namespace: n.clone(),
                            blob_id: id.clone(),
                            proof: Some(proof.clone()),
                        })
                        .await
                        .map(|_| Code::Ok),
                ),
            ),
            (
                "GetNamespaceData",
                code(
                    shares
                        .get_namespace_data(pb::GetNamespaceDataRequest {
                            height,
                            namespace: n.clone(),
                        })
                        .await
                        .map(|_| Code::Ok),
                ),
            ),
        ];
        // A stream that opens is a wrong answer too, even if it would never carry a blob.
        let sub = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            blobs.subscribe(pb::SubscribeBlobsRequest {
                namespace: n.clone(),
            }),
        )
        .await
        .expect("Subscribe answers");
        let sub = match sub {
            Err(s) => s.code(),
            Ok(r) => {
                let mut stream = r.into_inner();
                match tokio::time::timeout(std::time::Duration::from_secs(1), stream.next()).await {
                    Ok(Some(Err(s))) => s.code(),
                    _ => Code::Ok,
                }
            }
        };
        answers.push(("Subscribe", sub));
        for (call, got) in answers {
            assert_eq!(got, Code::InvalidArgument, "{call} with {n:02x?}");
        }
    }
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_requires_the_token_when_configured() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = NodeConfig {
        auth_token: Some("s3cret".into()),
        ..producer_config(dir.path())
    };
    let node = start(cfg).await;
    let (mut blobs, mut headers, _) = clients(&node).await;
    let no = blobs.submit(submit(&[(ns(1), vec![1])], false)).await;
    assert_eq!(no.expect_err("no token").code(), Code::Unauthenticated);
    let mut wrong = tonic::Request::new(submit(&[(ns(1), vec![1])], false));
    wrong
        .metadata_mut()
        .insert("authorization", "Bearer nope".parse().expect("ascii"));
    assert_eq!(
        blobs.submit(wrong).await.expect_err("wrong").code(),
        Code::PermissionDenied
    );
    let mut right = tonic::Request::new(submit(&[(ns(1), vec![1])], true));
    right
        .metadata_mut()
        .insert("authorization", "Bearer s3cret".parse().expect("ascii"));
    let h = blobs
        .submit(right)
        .await
        .expect("authorized")
        .into_inner()
        .height;
    // Reads stay open.
    headers
        .get_by_height(pb::GetByHeightRequest { height: h })
        .await
        .expect("open read");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_node_follows_verifies_and_serves_the_same_cells() {
    let pdir = tempfile::tempdir().expect("tmp");
    let fdir = tempfile::tempdir().expect("tmp");
    let producer = start(producer_config(pdir.path())).await;
    let (mut blobs, mut pheaders, mut pshares) = clients(&producer).await;
    let resp = blobs
        .submit(submit(&[(ns(5), vec![0xab; 140_000])], true))
        .await
        .expect("submit")
        .into_inner();
    let full_cfg = NodeConfig {
        role: Role::Full,
        follow: Some(format!("http://{}", producer.grpc_addr)),
        genesis: Some(pdir.path().join(da_node::genesis::GENESIS_FILE)),
        block_time_ms: 150,
        p2p_listen: Vec::new(),
        ..da_testkit::cluster::node_config("test", fdir.path())
    };
    let full = start(full_cfg).await;
    wait_for_height(&full, resp.height).await;
    let (mut fblobs, mut fheaders, mut fshares) = clients(&full).await;
    let ph = pheaders
        .get_by_height(pb::GetByHeightRequest {
            height: resp.height,
        })
        .await
        .expect("header")
        .into_inner();
    let fh = fheaders
        .get_by_height(pb::GetByHeightRequest {
            height: resp.height,
        })
        .await
        .expect("header")
        .into_inner();
    assert_eq!(ph, fh);
    assert!(ph.k >= 2);
    let cells: Vec<pb::CellCoord> = (0..2 * ph.k)
        .map(|r| pb::CellCoord {
            row: r,
            col: (r * 37) % 128,
        })
        .collect();
    let req = pb::GetSamplesRequest {
        height: resp.height,
        cells,
    };
    let a = pshares
        .get_samples(req.clone())
        .await
        .expect("p")
        .into_inner();
    let b = fshares.get_samples(req).await.expect("f").into_inner();
    assert_eq!(a, b);
    let got = fblobs
        .get(pb::GetBlobRequest {
            height: resp.height,
            namespace: ns(5),
            blob_id: resp.blob_ids[0].clone(),
            keccak256: Vec::new(),
        })
        .await
        .expect("get from full node")
        .into_inner();
    assert_eq!(got.data, vec![0xab; 140_000]);
    full.shutdown().await;
    producer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_resumes_the_chain() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = start(producer_config(dir.path())).await;
    let (mut blobs, _, _) = clients(&node).await;
    let first = blobs
        .submit(submit(&[(ns(1), b"durable".to_vec())], true))
        .await
        .expect("submit")
        .into_inner();
    node.shutdown().await;

    let node = start(producer_config(dir.path())).await;
    let (mut blobs, mut headers, _) = clients(&node).await;
    let got = blobs
        .get(pb::GetBlobRequest {
            height: first.height,
            namespace: ns(1),
            blob_id: first.blob_ids[0].clone(),
            keccak256: Vec::new(),
        })
        .await
        .expect("still there")
        .into_inner();
    assert_eq!(got.data, b"durable");
    let second = blobs
        .submit(submit(&[(ns(1), b"after restart".to_vec())], true))
        .await
        .expect("submit")
        .into_inner();
    assert!(second.height > first.height);
    let parent = headers
        .get_by_height(pb::GetByHeightRequest {
            height: second.height - 1,
        })
        .await
        .expect("parent")
        .into_inner();
    let child = headers
        .get_by_height(pb::GetByHeightRequest {
            height: second.height,
        })
        .await
        .expect("child")
        .into_inner();
    assert_eq!(
        certified(&child).block.header.parent,
        certified(&parent).id()
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_drops_heights_past_the_retention_window() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = NodeConfig {
        retention_secs: 1,
        ..producer_config(dir.path())
    };
    // A dedup window and an attestation window of one height: only the head is kept from pruning
    // by them (the node keeps max(dedup_window, attestation_window) heights whatever their age).
    let path = dir.path().join(da_node::genesis::GENESIS_FILE);
    let mut genesis = da_types::Genesis::from_json(&std::fs::read_to_string(&path).expect("read"))
        .expect("genesis");
    genesis.dedup_window = 1;
    genesis.attestation_window = 1;
    std::fs::remove_file(&path).expect("rm");
    da_node::genesis::write_genesis(&path, &genesis).expect("write");
    let node = start(cfg).await;
    let (mut blobs, mut headers, _) = clients(&node).await;
    let data = b"pruned soon".to_vec();
    let resp = blobs
        .submit(submit(&[(ns(3), data.clone())], true))
        .await
        .expect("submit")
        .into_inner();
    let by_keccak = pb::GetBlobRequest {
        keccak256: da_client::keccak256(&data).to_vec(),
        ..Default::default()
    };
    let by_id = pb::GetBlobRequest {
        blob_id: resp.blob_ids[0].clone(),
        ..Default::default()
    };
    assert_eq!(
        blobs
            .get(by_keccak.clone())
            .await
            .expect("by keccak")
            .into_inner()
            .data,
        data
    );
    assert_eq!(
        blobs
            .get(by_id.clone())
            .await
            .expect("by id")
            .into_inner()
            .height,
        resp.height
    );
    wait_for_height(&node, resp.height + 2).await;
    let mut pruned = false;
    for _ in 0..100 {
        if node.store().lowest().expect("lowest").unwrap_or(0) > resp.height {
            pruned = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(pruned, "old heights were not pruned");
    let gone = headers
        .get_by_height(pb::GetByHeightRequest { height: 1 })
        .await;
    assert_eq!(gone.expect_err("pruned").code(), Code::NotFound);
    // The blob's lookups by id and by keccak went with its height (records deleted, not just
    // pointing at a missing height).
    let hash = da_client::keccak256(&data);
    assert_eq!(node.store().blob_by_keccak(&hash).expect("read"), None);
    for req in [by_keccak, by_id] {
        assert_eq!(
            blobs.get(req).await.expect_err("pruned").code(),
            Code::NotFound
        );
    }
    assert!(headers.head(pb::HeadRequest {}).await.is_ok());
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_stream_new_blobs_of_a_namespace_and_new_headers() {
    use tokio_stream::StreamExt;
    let dir = tempfile::tempdir().expect("tmp");
    let node = start(producer_config(dir.path())).await;
    let (mut blobs, mut headers, _) = clients(&node).await;
    // Open both streams concurrently with the submission: a server-streaming call resolves when
    // the server sends its response headers, which may wait for the first message.
    let mut sub_blobs = blobs.clone();
    let blob_stream = tokio::spawn(async move {
        sub_blobs
            .subscribe(pb::SubscribeBlobsRequest { namespace: ns(7) })
            .await
            .map(tonic::Response::into_inner)
    });
    let header_stream = tokio::spawn(async move {
        headers
            .subscribe(pb::SubscribeHeadersRequest {})
            .await
            .map(tonic::Response::into_inner)
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let resp = blobs
        .submit(submit(
            &[
                (ns(8), b"other namespace".to_vec()),
                (ns(7), b"mine".to_vec()),
            ],
            true,
        ))
        .await
        .expect("submit")
        .into_inner();
    let mut blob_stream = tokio::time::timeout(std::time::Duration::from_secs(10), blob_stream)
        .await
        .expect("blob subscription answers")
        .expect("task")
        .expect("subscribe blobs");
    let mut header_stream = tokio::time::timeout(std::time::Duration::from_secs(10), header_stream)
        .await
        .expect("header subscription answers")
        .expect("task")
        .expect("subscribe headers");
    let got = tokio::time::timeout(std::time::Duration::from_secs(10), blob_stream.next())
        .await
        .expect("a blob arrives")
        .expect("stream open")
        .expect("ok item");
    assert_eq!(got.data, b"mine");
    assert_eq!(got.namespace, ns(7));
    assert_eq!(got.height, resp.height);
    assert_eq!(got.blob_id, resp.blob_ids[1]);
    let h = tokio::time::timeout(std::time::Duration::from_secs(10), header_stream.next())
        .await
        .expect("a header arrives")
        .expect("stream open")
        .expect("ok item");
    assert!(h.height >= 1);
    let bad = blobs
        .subscribe(pb::SubscribeBlobsRequest {
            namespace: vec![1, 2],
        })
        .await;
    assert_eq!(
        bad.expect_err("bad namespace").code(),
        Code::InvalidArgument
    );
    node.shutdown().await;
}

/// Reflection answers in both protocol versions clients speak: `v1` and `v1alpha` list the
/// `da.v1` services and describe them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_answers_v1_and_v1alpha() {
    use tokio_stream::StreamExt;
    use tonic_reflection::pb::{v1, v1alpha};

    let dir = tempfile::tempdir().expect("tmp");
    let node = start(producer_config(dir.path())).await;
    let url = format!("http://{}", node.grpc_addr);
    let channel = tonic::transport::Endpoint::from_shared(url)
        .expect("url")
        .connect()
        .await
        .expect("connect");

    let mut alpha = v1alpha::server_reflection_client::ServerReflectionClient::new(channel.clone());
    let req = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut answers = alpha
        .server_reflection_info(tokio_stream::iter([req]))
        .await
        .expect("v1alpha answers")
        .into_inner();
    let answer = answers.next().await.expect("an answer").expect("ok");
    let names: Vec<String> = match answer.message_response {
        Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(l)) => {
            l.service.into_iter().map(|s| s.name).collect()
        }
        x => panic!("v1alpha: not a service list: {x:?}"),
    };
    for want in [
        "da.v1.BlobService",
        "da.v1.HeaderService",
        "da.v1.ShareService",
    ] {
        assert!(names.iter().any(|n| n == want), "v1alpha lists {names:?}");
    }

    let mut v1c = v1::server_reflection_client::ServerReflectionClient::new(channel);
    let req = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1::server_reflection_request::MessageRequest::FileContainingSymbol(
                "da.v1.BlobService".into(),
            ),
        ),
    };
    let mut answers = v1c
        .server_reflection_info(tokio_stream::iter([req]))
        .await
        .expect("v1 answers")
        .into_inner();
    let answer = answers.next().await.expect("an answer").expect("ok");
    assert!(
        matches!(
            answer.message_response,
            Some(v1::server_reflection_response::MessageResponse::FileDescriptorResponse(ref f))
                if !f.file_descriptor_proto.is_empty()
        ),
        "v1 describes da.v1.BlobService: {:?}",
        answer.message_response
    );
    node.shutdown().await;
}

/// A raw HTTP/1.1 GET; returns status, content type and body.
async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String, String) {
    let a = da_testkit::http::get(addr, path).await;
    (a.status, a.content_type, a.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_address_serves_a_status_page_and_its_json() {
    let dir = tempfile::tempdir().expect("tmp");
    // With libp2p, so the status has a peer count.
    let node = start(NodeConfig {
        block_time_ms: 150,
        ..da_testkit::cluster::producer_config("test", dir.path())
    })
    .await;
    let (mut blobs, _, _) = clients(&node).await;
    let at = blobs
        .submit(submit(&[(ns(3), vec![5u8; 3000])], true))
        .await
        .expect("submit")
        .into_inner()
        .height;
    wait_for_height(&node, at + 1).await;

    let (code, kind, body) = http_get(node.metrics_addr, "/status").await;
    assert_eq!(code, 200, "{body}");
    assert!(kind.starts_with("application/json"), "{kind}");
    let s: serde_json::Value = serde_json::from_str(&body).expect("json");
    let head = s["head"].as_u64().expect("head");
    assert!(head > at, "{s}");
    assert_eq!(s["lowest"].as_u64(), Some(1), "{s}");
    assert_eq!(s["blocks_stored"].as_u64(), Some(head), "{s}");
    assert!(s["blobs_included"].as_u64().is_some_and(|n| n >= 1), "{s}");
    assert!(s["storage_bytes"].as_i64().is_some_and(|n| n > 0), "{s}");
    assert_eq!(s["mempool"]["blobs"].as_i64(), Some(0), "{s}");
    assert_eq!(s["repairs"].as_u64(), Some(0), "{s}");
    assert_eq!(s["peers"].as_u64(), Some(0), "a lone node: {s}");
    // The same numbers as the Prometheus text.
    let (_, _, metrics) = http_get(node.metrics_addr, "/metrics").await;
    let gauge = |name: &str| -> Option<i64> {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
    };
    assert_eq!(gauge("da_storage_bytes").map(|_| ()), Some(()), "{metrics}");
    assert!(gauge("da_head_height").is_some_and(|h| h as u64 >= head));
    // The page: HTML that reads /status and loads nothing from elsewhere.
    let (code, kind, page) = http_get(node.metrics_addr, "/").await;
    assert_eq!(code, 200);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(page.contains("fetch(\"/status\""));
    assert!(!page.contains("http://") && !page.contains("https://"));
    node.shutdown().await;
}

/// The gRPC server within its limits (`specs/06-grpc.md` §"Server limits"): a message announced
/// and never sent fails with `DEADLINE_EXCEEDED` after the body timeout, a connection that never
/// sends the HTTP/2 preface is closed after the head timeout, one over the connection limit is
/// closed at once, and a well-behaved client is served throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_slow_bodies_silent_connections_and_excess_connections_are_bounded() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = NodeConfig {
        limits: da_http::ServerLimits {
            max_connections: 6,
            header_timeout_secs: 2,
            body_timeout_secs: 2,
            ..da_http::ServerLimits::default()
        },
        ..producer_config(dir.path())
    };
    let node = start(cfg).await;
    let addr = node.grpc_addr;
    // A Submit whose 5-byte prefix announces 48 MiB, and nothing after it.
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (client, conn) = h2::client::handshake(tcp).await.expect("h2 handshake");
    tokio::spawn(conn);
    let mut client = client.ready().await.expect("ready");
    let request = http::Request::post(format!("http://{addr}/da.v1.BlobService/Submit"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .expect("request");
    let (response, mut send) = client.send_request(request, false).expect("send");
    send.send_data(bytes::Bytes::from_static(&[0, 0x03, 0, 0, 0]), false)
        .expect("prefix");
    let started = std::time::Instant::now();
    let response = tokio::time::timeout(std::time::Duration::from_secs(10), response)
        .await
        .expect("answered within the body timeout, not held open")
        .expect("a response");
    let status = match response.headers().get("grpc-status") {
        Some(s) => s.clone(),
        None => {
            let mut body = response.into_body();
            while body.data().await.is_some() {}
            body.trailers()
                .await
                .expect("trailers")
                .and_then(|t| t.get("grpc-status").cloned())
                .expect("grpc-status")
        }
    };
    assert_eq!(status, "4", "DEADLINE_EXCEEDED expected");
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(1500),
        "answered before the deadline: {waited:?}"
    );
    // Connections that never send the preface: closed after the head timeout.
    let mut silent = Vec::new();
    for _ in 0..5 {
        silent.push(tokio::net::TcpStream::connect(addr).await.expect("connect"));
    }
    // The sixth over the limit (the h2 client above holds one): closed at once.
    let mut extra = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(std::time::Duration::from_secs(1), extra.read(&mut buf))
        .await
        .expect("closed at once");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    for mut s in silent {
        let n = tokio::time::timeout(std::time::Duration::from_secs(6), s.read(&mut buf))
            .await
            .expect("closed after the head timeout");
        assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
        let _ = s.shutdown().await;
    }
    drop(client);
    // Served again once the silent ones are gone.
    let mut served = false;
    for _ in 0..50 {
        let (_, mut headers, _) = clients(&node).await;
        if headers.head(pb::HeadRequest {}).await.is_ok() {
            served = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        served,
        "a well-behaved client was not served after the others left"
    );
    node.shutdown().await;
}

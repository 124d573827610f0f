//! Shared helpers: in-process nodes on 127.0.0.1:0 with one KZG context.
#![allow(dead_code, unreachable_pub)]

use std::{
    path::Path,
    sync::{Arc, OnceLock},
    time::Duration,
};

use da_kzg::{KzgProver, ProverConfig};
use da_node::{config::Role, NodeConfig, NodeHandle};
use da_proto::v1::{
    self as pb, blob_service_client::BlobServiceClient, header_service_client::HeaderServiceClient,
    share_service_client::ShareServiceClient,
};
use tonic::transport::Channel;

/// One verification-oriented context for every node of the test binary.
pub fn kzg() -> Arc<KzgProver> {
    static K: OnceLock<Arc<KzgProver>> = OnceLock::new();
    K.get_or_init(|| Arc::new(KzgProver::new(ProverConfig::DEFAULT)))
        .clone()
}

/// A producer config on ephemeral ports under `dir`.
pub fn producer_config(dir: &Path) -> NodeConfig {
    NodeConfig {
        chain_id: "test".into(),
        role: Role::Producer,
        data_dir: Some(dir.to_path_buf()),
        grpc_addr: "127.0.0.1:0".parse().expect("addr"),
        metrics_addr: "127.0.0.1:0".parse().expect("addr"),
        block_time_ms: 150,
        precompute: false,
        ..NodeConfig::default()
    }
}

/// Starts a node in-process.
pub async fn start(config: NodeConfig) -> NodeHandle {
    da_node::start_with(config, kzg())
        .await
        .expect("node starts")
}

/// A channel to a gRPC address.
pub async fn channel_to(addr: std::net::SocketAddr) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("url")
        .connect()
        .await
        .expect("connect")
}

/// Clients with generous message limits.
pub fn clients_on(
    ch: Channel,
) -> (
    BlobServiceClient<Channel>,
    HeaderServiceClient<Channel>,
    ShareServiceClient<Channel>,
) {
    (
        BlobServiceClient::new(ch.clone()).max_decoding_message_size(96 << 20),
        HeaderServiceClient::new(ch.clone()).max_decoding_message_size(96 << 20),
        ShareServiceClient::new(ch).max_decoding_message_size(96 << 20),
    )
}

/// Clients of an in-process node.
pub async fn clients(
    node: &NodeHandle,
) -> (
    BlobServiceClient<Channel>,
    HeaderServiceClient<Channel>,
    ShareServiceClient<Channel>,
) {
    clients_on(channel_to(node.grpc_addr).await)
}

/// A valid user namespace.
pub fn ns(b: u8) -> Vec<u8> {
    let mut v = vec![0u8; 29];
    v[27] = 0x42;
    v[28] = b;
    v
}

/// A submit request.
pub fn submit(items: &[(Vec<u8>, Vec<u8>)], wait: bool) -> pb::SubmitRequest {
    pb::SubmitRequest {
        blobs: items
            .iter()
            .map(|(n, d)| pb::submit_request::Item {
                namespace: n.clone(),
                data: d.clone(),
            })
            .collect(),
        wait_for_inclusion: wait,
    }
}

/// Waits until `node` stores `height`.
pub async fn wait_for_height(node: &NodeHandle, height: u64) {
    for _ in 0..600 {
        if node.inner.store.head().expect("head").unwrap_or(0) >= height {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("node never reached height {height}");
}

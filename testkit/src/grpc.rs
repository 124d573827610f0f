//! gRPC helpers: channels to a node, clients with generous message limits, submit requests.

use std::net::SocketAddr;

use da_node::NodeHandle;
use da_proto::v1::{
    self as pb, blob_service_client::BlobServiceClient, header_service_client::HeaderServiceClient,
    share_service_client::ShareServiceClient,
};
use tonic::transport::Channel;

/// The largest message the test clients accept (a full square's worth).
const MAX_MESSAGE: usize = 96 << 20;

/// A channel to a gRPC address.
pub async fn channel_to(addr: SocketAddr) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("url")
        .connect()
        .await
        .expect("connect")
}

/// The blob, header and share clients over one channel.
pub fn clients_on(
    ch: Channel,
) -> (
    BlobServiceClient<Channel>,
    HeaderServiceClient<Channel>,
    ShareServiceClient<Channel>,
) {
    (
        BlobServiceClient::new(ch.clone()).max_decoding_message_size(MAX_MESSAGE),
        HeaderServiceClient::new(ch.clone()).max_decoding_message_size(MAX_MESSAGE),
        ShareServiceClient::new(ch).max_decoding_message_size(MAX_MESSAGE),
    )
}

/// The blob, header and share clients of an in-process node.
pub async fn clients(
    node: &NodeHandle,
) -> (
    BlobServiceClient<Channel>,
    HeaderServiceClient<Channel>,
    ShareServiceClient<Channel>,
) {
    clients_on(channel_to(node.grpc_addr).await)
}

/// A submit request for `(namespace bytes, data)` items.
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

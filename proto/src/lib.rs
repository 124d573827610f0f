//! Generated code of the DA node's gRPC API (`proto/da/v1/*.proto`); domain types and their
//! validating conversions live in `da-types` and the node.

/// Package `da.v1`.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("da.v1");

    /// Encoded file descriptor set, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("da_v1_descriptor");
}

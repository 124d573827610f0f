//! The DA node's gRPC API (`proto/da/v1/*.proto`): generated code in [`v1`], and the validating
//! conversions between its messages and the domain types of `da-types`/`da-kzg` in [`convert`].

pub mod convert;

/// Package `da.v1`.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("da.v1");

    /// Encoded file descriptor set, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("da_v1_descriptor");
}

//! Generated code only: the `da.v1` messages (`proto/da/v1/*.proto`) for the gRPC API and the p2p
//! protocols, and with feature `grpc` the tonic clients and servers. The validating conversions
//! to domain types live with those types (`da_types::convert`, `da_kzg::convert`).

/// Package `da.v1`.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/da.v1.rs"));

    /// Encoded file descriptor set, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/da_v1_descriptor.bin"));
}

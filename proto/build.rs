//! Generates the `da.v1` messages (always) and its gRPC clients and servers (feature `grpc`) with a
//! vendored `protoc` (no system install).

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY of intent: build scripts are single-threaded; tonic-prost-build reads PROTOC.
    env::set_var("PROTOC", protoc);
    let out = PathBuf::from(env::var("OUT_DIR")?);
    let grpc = env::var_os("CARGO_FEATURE_GRPC").is_some();
    tonic_prost_build::configure()
        .build_client(grpc)
        .build_server(grpc)
        .file_descriptor_set_path(out.join("da_v1_descriptor.bin"))
        .compile_protos(
            &[
                "proto/da/v1/types.proto",
                "proto/da/v1/node.proto",
                "proto/da/v1/p2p.proto",
            ],
            &["proto"],
        )?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}

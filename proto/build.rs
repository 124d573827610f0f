//! Generates the `da.v1` types, clients and servers with a vendored `protoc` (no system install).

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY of intent: build scripts are single-threaded; tonic-prost-build reads PROTOC.
    env::set_var("PROTOC", protoc);
    let out = PathBuf::from(env::var("OUT_DIR")?);
    tonic_prost_build::configure()
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

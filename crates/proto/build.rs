//! Generates the Rust code for every `.proto` under `proto/` with a vendored `protoc`,
//! plus one descriptor set that serves gRPC reflection and event decoding.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let protos = [
        "inburgering/common/v1/types.proto",
        "inburgering/trajectories/v1/types.proto",
        "inburgering/trajectories/v1/service.proto",
        "inburgering/trajectories/v1/events.proto",
        "inburgering/testing/v1/types.proto",
        "inburgering/testing/v1/service.proto",
        "inburgering/testing/v1/events.proto",
        "inburgering/municipalities/v1/types.proto",
        "inburgering/municipalities/v1/service.proto",
        "inburgering/municipalities/v1/events.proto",
        "inburgering/ceremonies/v1/types.proto",
        "inburgering/ceremonies/v1/service.proto",
        "inburgering/ceremonies/v1/events.proto",
        "inburgering/recruitment/v1/types.proto",
        "inburgering/recruitment/v1/service.proto",
        "inburgering/recruitment/v1/events.proto",
        "inburgering/interpreting/v1/types.proto",
        "inburgering/interpreting/v1/service.proto",
        "inburgering/interpreting/v1/events.proto",
    ];
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: a build script is single-threaded; prost-build reads PROTOC to find protoc.
    unsafe { env::set_var("PROTOC", protoc) };
    let out = PathBuf::from(env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("descriptor.bin"))
        .build_client(true)
        .build_server(true)
        .compile_with_config(
            {
                let mut config = prost_build::Config::new();
                // `prost::Name` gives each event its full name, the CloudEvents type.
                config.enable_type_names();
                config
            },
            &protos.map(|p| root.join(p)),
            &[root.clone(), protoc_bin_vendored::include_path()?],
        )?;
    println!("cargo:rerun-if-changed={}", root.display());
    Ok(())
}

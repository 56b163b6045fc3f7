//! Compiles the Factify protobuf contract into Rust with prost and tonic.
//!
//! `protox` parses the `.proto` files in pure Rust, so building this crate
//! needs no `protoc` on the machine. The descriptor set is also written to
//! `OUT_DIR`, for the Connect protocol's canonical JSON mapping (which reads
//! field and enum names from it at run time).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");

    let files = [
        "proto/factify/api/v1beta/common.proto",
        "proto/factify/api/v1beta/errors.proto",
        "proto/factify/api/v1beta/organization_invite.proto",
        "proto/factify/api/v1beta/organization_invite_service.proto",
        "proto/google/rpc/status.proto",
        "proto/google/rpc/error_details.proto",
    ];
    let descriptors = protox::compile(files, ["proto"])?;
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("factify_descriptor_set.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;

    tonic_prost_build::configure()
        .build_server(true)
        .server_mod_attribute("factify.api.v1beta", r#"#[cfg(feature = "server")]"#)
        .compile_fds(descriptors)?;
    Ok(())
}

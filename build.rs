//! Generates include/eve.h from src/ffi with cbindgen. The header is committed; the test
//! command fails if a build changed it (`git diff --exit-code include/`).

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=Cargo.toml");
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let version = |part: &str| std::env::var(format!("CARGO_PKG_VERSION_{part}")).unwrap();
    let macros = format!(
        "\n#define EVE_VERSION_MAJOR {}\n#define EVE_VERSION_MINOR {}\n#define EVE_VERSION_PATCH {}\n#define EVE_VERSION_STRING \"{}\"\n",
        version("MAJOR"),
        version("MINOR"),
        version("PATCH"),
        std::env::var("CARGO_PKG_VERSION").unwrap()
    );
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .with_after_include(macros)
        .generate()
        .expect("generating include/eve.h");
    // Writes only when the text changed, so unchanged builds leave the file alone.
    bindings.write_to_file(dir.join("include/eve.h"));
}

//! Reads the committed `include/eve.h` the way a foreign consumer would, so the tests can
//! hold it against `eve::ffi`:
//!
//! - bindgen pass A turns the header's types, enum constants and macros into Rust
//!   (`OUT_DIR/header.rs`): the C view of them, independent of the Rust definitions;
//! - bindgen pass B declares only the header's functions, but over eve's own types
//!   (`OUT_DIR/functions.rs`), so a signature that differs from the Rust one fails to
//!   compile instead of needing a hand-written comparison;
//! - the C compiler builds `c/layout.c`, whose layout table is what a real C consumer gets
//!   (bindgen's libclang could in principle disagree with the system compiler).

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let include = manifest.join("../../include");
    let header = include.join("eve.h");
    println!("cargo:rerun-if-changed={}", header.display());
    println!("cargo:rerun-if-changed=c/layout.c");

    // Pass A. Types, enum constants and macros only: pass B covers the functions, and the
    // same `extern` names declared twice with different types would trip rustc's
    // clashing_extern_declarations lint. Enum constants keep their C spelling (`EVE_OK`, not
    // `eve_status_EVE_OK`) so the tests name them exactly as C code does.
    bindgen::Builder::default()
        .header(header.to_str().unwrap())
        .allowlist_type("eve_.*")
        .allowlist_var("EVE_.*")
        .prepend_enum_name(false)
        .generate_comments(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .generate()
        .expect("bindgen pass A over include/eve.h")
        .write_to_file(out.join("header.rs"))
        .expect("writing header.rs");

    // Pass B. Leaving out every header type (eve_bytes, eve_status, eve_slab, ...) makes the
    // declarations name eve's own types instead, through the imports; a pattern rather than a
    // list, so a type added to the header later is covered too. cbindgen renames `EveStatus`
    // to `eve_status` in the header, hence the alias; the other types keep their Rust names.
    bindgen::Builder::default()
        .header(header.to_str().unwrap())
        .allowlist_function("eve_.*")
        .blocklist_type("eve_.*")
        .generate_comments(false)
        .raw_line("use eve::ffi::*;")
        .raw_line("use eve::ffi::EveStatus as eve_status;")
        .generate()
        .expect("bindgen pass B over include/eve.h")
        .write_to_file(out.join("functions.rs"))
        .expect("writing functions.rs");

    // -Werror: a header that draws warnings from a C11 compiler is a header bug too.
    cc::Build::new()
        .file("c/layout.c")
        .include(&include)
        .flag("-Wall")
        .flag("-Wextra")
        .flag("-Werror")
        .flag("-std=c11")
        .compile("eve_abi_layout");
}

//! Holds `eve::ffi` against what a C compiler makes of the committed `include/eve.h`
//! (`c/layout.c`, compiled with `-Wall -Wextra -Werror -std=c11`): bindgen reads the header
//! through libclang, which could disagree with the compiler C consumers actually use.

use eve_abi_check::{c, rust_layouts};

#[test]
fn c_compiler_layouts_equal_rust() {
    assert_eq!(c::layouts(), rust_layouts());
}

#[test]
fn c_program_drives_the_library_through_the_header() {
    assert_eq!(
        c::smoke(),
        0,
        "abi_smoke failed at this step (details on stderr)"
    );
}

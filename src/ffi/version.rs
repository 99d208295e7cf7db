//! Library version, kept equal to Cargo.toml (the header's `EVE_VERSION_*` macros come from
//! the same place at build time).

use std::ffi::c_char;

const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library version as a static NUL-terminated string, e.g. `"0.1.0"`. Compare it with
/// `EVE_VERSION_STRING` to detect a header/library mismatch.
#[no_mangle]
pub extern "C" fn eve_version() -> *const c_char {
    VERSION.as_ptr().cast()
}

/// The major part of the library version.
#[no_mangle]
pub extern "C" fn eve_version_major() -> u32 {
    env!("CARGO_PKG_VERSION_MAJOR").parse().unwrap_or(0)
}

/// The minor part of the library version.
#[no_mangle]
pub extern "C" fn eve_version_minor() -> u32 {
    env!("CARGO_PKG_VERSION_MINOR").parse().unwrap_or(0)
}

/// The patch part of the library version.
#[no_mangle]
pub extern "C" fn eve_version_patch() -> u32 {
    env!("CARGO_PKG_VERSION_PATCH").parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_matches_cargo() {
        // SAFETY: eve_version returns a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(eve_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
        let parts = format!(
            "{}.{}.{}",
            eve_version_major(),
            eve_version_minor(),
            eve_version_patch()
        );
        assert_eq!(parts, env!("CARGO_PKG_VERSION"));
    }
}

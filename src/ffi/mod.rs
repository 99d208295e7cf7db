//! The C ABI: the layer every other language (C, Java through Panama FFM, Node through
//! Node-API) calls. Conventions, in the manner of SQLite and wasmtime's C API: every
//! function returns an `eve_status`; on failure `eve_last_error_message()` explains it (per
//! thread); no panic crosses the boundary.
//!
//! This is the first slice of the ABI: versions, status codes and error reporting. Slab
//! handles, reads and transactions build on it.

mod error;
mod version;

pub use error::{eve_last_error_message, eve_status_name, EveStatus};
pub use version::{eve_version, eve_version_major, eve_version_minor, eve_version_patch};

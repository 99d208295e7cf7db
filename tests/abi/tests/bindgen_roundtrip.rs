//! Holds `eve::ffi` against bindgen's reading of the committed `include/eve.h` (see
//! `build.rs`): struct layouts, enum values and version macros against pass A, which knows
//! nothing of the Rust types, and function signatures through pass B, whose declarations
//! use eve's own types so that any difference is a type error.

use std::collections::BTreeSet;

use eve_abi_check::{layouts, rust_layouts, OPAQUE_STRUCTS};

/// Pass A: the header alone, as bindgen translates it.
#[allow(
    non_camel_case_types,
    non_upper_case_globals,
    dead_code,
    clippy::all,
    clippy::pedantic
)]
mod header {
    include!(concat!(env!("OUT_DIR"), "/header.rs"));
}

/// Pass B: the header's function declarations over eve's own types. In a module of its own
/// because the names are the same as those of `eve::ffi`.
///
/// improper_ctypes: eve's handle types (`eve_slab`, ...) are not `#[repr(C)]`, so rustc
/// flags pointers to them in an `extern` block. Only the pointers cross the boundary and C
/// sees the types as incomplete, so nothing depends on their layout; eve's own `extern "C"`
/// definitions pass them the same way.
#[allow(
    non_camel_case_types,
    dead_code,
    improper_ctypes,
    clippy::all,
    clippy::pedantic
)]
mod functions {
    include!(concat!(env!("OUT_DIR"), "/functions.rs"));
}

const HEADER_RS: &str = include_str!(concat!(env!("OUT_DIR"), "/header.rs"));
const FUNCTIONS_RS: &str = include_str!(concat!(env!("OUT_DIR"), "/functions.rs"));

/// The identifiers that follow `prefix` in bindgen's output, e.g. every `pub struct eve_*`.
/// bindgen writes each item on a line of its own, so a text scan is enough; it is what
/// catches items the explicit lists in these tests (and in `layouts!`) forgot.
fn names_after(text: &str, prefix: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.trim_start().strip_prefix(prefix))
        .map(|rest| {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            rest[..end].to_string()
        })
        .collect()
}

#[test]
fn struct_and_enum_layouts_equal_rust() {
    assert_eq!(layouts!(header), rust_layouts());
}

#[test]
fn every_header_struct_is_checked() {
    let table = rust_layouts();
    let checked: BTreeSet<String> = table
        .keys()
        .filter_map(|key| key.strip_prefix("sizeof struct "))
        .filter(|name| !name.contains('.'))
        .chain(OPAQUE_STRUCTS.iter().copied())
        .map(str::to_string)
        .collect();
    let found: BTreeSet<String> = names_after(HEADER_RS, "pub struct ")
        .into_iter()
        .filter(|name| name.starts_with("eve_"))
        .collect();
    assert_eq!(
        found, checked,
        "the header's structs differ from the ones eve_abi_check::layouts! and OPAQUE_STRUCTS list"
    );
}

#[test]
fn opaque_handles_stay_opaque() {
    // Handles are tokens, never dereferenced (src/ffi/handles.rs): both sides must declare
    // them without contents, or C could start relying on a layout Rust does not promise.
    let sizes = [
        (
            std::mem::size_of::<header::eve_slab>(),
            std::mem::size_of::<eve::ffi::eve_slab>(),
        ),
        (
            std::mem::size_of::<header::eve_read>(),
            std::mem::size_of::<eve::ffi::eve_read>(),
        ),
        (
            std::mem::size_of::<header::eve_iter>(),
            std::mem::size_of::<eve::ffi::eve_iter>(),
        ),
        (
            std::mem::size_of::<header::eve_cursor>(),
            std::mem::size_of::<eve::ffi::eve_cursor>(),
        ),
        (
            std::mem::size_of::<header::eve_answer>(),
            std::mem::size_of::<eve::ffi::eve_answer>(),
        ),
        (
            std::mem::size_of::<header::eve_yin>(),
            std::mem::size_of::<eve::ffi::eve_yin>(),
        ),
    ];
    assert_eq!(sizes, [(0, 0); 6]);
    assert_eq!(OPAQUE_STRUCTS.len(), sizes.len());
}

/// Pairs each header constant with the Rust enum variant of the same name.
macro_rules! constants {
    ($($ty:ident :: $name:ident),* $(,)?) => {
        [$((stringify!($name), header::$name as i64, eve::ffi::$ty::$name as i64)),*]
    };
}

#[test]
fn enum_constants_equal_rust() {
    let constants = constants![
        EveStatus::EVE_OK,
        EveStatus::EVE_ERR_INVALID_ARGUMENT,
        EveStatus::EVE_ERR_NULL_POINTER,
        EveStatus::EVE_ERR_IO,
        EveStatus::EVE_ERR_NOT_A_SLAB,
        EveStatus::EVE_ERR_VERSION,
        EveStatus::EVE_ERR_CORRUPT,
        EveStatus::EVE_ERR_FULL,
        EveStatus::EVE_ERR_BUSY,
        EveStatus::EVE_ERR_NOT_FOUND,
        EveStatus::EVE_ERR_READ_ONLY,
        EveStatus::EVE_ERR_WRONG_KIND,
        EveStatus::EVE_ERR_EXHAUSTED,
        EveStatus::EVE_ERR_INTERNAL,
        eve_op_kind::EVE_OP_PUT,
        eve_op_kind::EVE_OP_REMOVE,
        eve_open_flag::EVE_OPEN_READ_ONLY,
        eve_open_flag::EVE_OPEN_MUST_EXIST,
        eve_root_kind::EVE_ROOT_RAW,
        eve_root_kind::EVE_ROOT_MAP,
        eve_root_kind::EVE_ROOT_SET,
        eve_root_kind::EVE_ROOT_BTREE,
        eve_root_kind::EVE_ROOT_DATABASE,
        eve_index::EVE_INDEX_EAVT,
        eve_index::EVE_INDEX_AEVT,
        eve_index::EVE_INDEX_AVET,
        eve_index::EVE_INDEX_VAET,
        eve_view::EVE_VIEW_CURRENT,
        eve_view::EVE_VIEW_AS_OF,
        eve_view::EVE_VIEW_SINCE,
        eve_view::EVE_VIEW_HISTORY,
        eve_value_type::EVE_VALUE_NIL,
        eve_value_type::EVE_VALUE_BOOLEAN,
        eve_value_type::EVE_VALUE_LONG,
        eve_value_type::EVE_VALUE_DOUBLE,
        eve_value_type::EVE_VALUE_STRING,
        eve_value_type::EVE_VALUE_KEYWORD,
        eve_value_type::EVE_VALUE_SYMBOL,
        eve_value_type::EVE_VALUE_UUID,
        eve_value_type::EVE_VALUE_INSTANT,
        eve_value_type::EVE_VALUE_BYTES,
        eve_value_type::EVE_VALUE_REF,
        eve_value_type::EVE_VALUE_VECTOR,
        eve_value_type::EVE_VALUE_SET,
        eve_value_type::EVE_VALUE_MAP,
        eve_tx_flag::EVE_TX_SYNCED,
        eve_shape::EVE_SHAPE_RELATION,
        eve_shape::EVE_SHAPE_SCALAR,
        eve_shape::EVE_SHAPE_COLLECTION,
        eve_shape::EVE_SHAPE_TUPLE,
        eve_shape::EVE_SHAPE_MAPS,
        eve_shape::EVE_SHAPE_PULL,
        eve_yin_projection::EVE_YIN_WALKER,
        eve_yin_projection::EVE_YIN_STACK,
        eve_yin_state::EVE_YIN_RUNNABLE,
        eve_yin_state::EVE_YIN_RUNNING,
        eve_yin_state::EVE_YIN_PARKED,
        eve_yin_state::EVE_YIN_DONE,
        eve_yin_state::EVE_YIN_FAILED,
        eve_yin_wait::EVE_YIN_WAIT_NONE,
        eve_yin_wait::EVE_YIN_WAIT_RESUME,
        eve_yin_wait::EVE_YIN_WAIT_STREAM,
    ];
    for (name, in_header, in_rust) in constants {
        assert_eq!(
            in_header, in_rust,
            "{name}: header {in_header}, Rust {in_rust}"
        );
    }
    let checked: BTreeSet<String> = constants.iter().map(|c| c.0.to_string()).collect();
    let found: BTreeSet<String> = names_after(HEADER_RS, "pub const ")
        .into_iter()
        .filter(|name| name.starts_with("EVE_") && !name.starts_with("EVE_VERSION_"))
        .collect();
    assert_eq!(
        found, checked,
        "the header's constants differ from the ones checked here"
    );
}

#[test]
fn version_macros_equal_the_library_version() {
    // eve_version is eve's CARGO_PKG_VERSION; this crate's own env!() would be the wrong
    // package's version.
    // SAFETY: eve_version returns a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(eve::ffi::eve_version()) };
    assert_eq!(
        header::EVE_VERSION_STRING.as_slice(),
        version.to_bytes_with_nul()
    );
    let parts: Vec<u32> = version
        .to_str()
        .unwrap()
        .split('.')
        .map(|part| part.parse().unwrap())
        .collect();
    assert_eq!(
        parts,
        [
            header::EVE_VERSION_MAJOR,
            header::EVE_VERSION_MINOR,
            header::EVE_VERSION_PATCH
        ]
    );
    assert_eq!(
        [
            header::EVE_VERSION_MAJOR,
            header::EVE_VERSION_MINOR,
            header::EVE_VERSION_PATCH
        ],
        [
            eve::ffi::eve_version_major(),
            eve::ffi::eve_version_minor(),
            eve::ffi::eve_version_patch()
        ]
    );
}

/// `unsafe extern "C" fn(_, ..., _) -> _` with `$arity` parameters, every type left to
/// inference.
macro_rules! fn_ptr {
    (0) => { unsafe extern "C" fn() -> _ };
    (1) => { unsafe extern "C" fn(_) -> _ };
    (2) => { unsafe extern "C" fn(_, _) -> _ };
    (3) => { unsafe extern "C" fn(_, _, _) -> _ };
    (4) => { unsafe extern "C" fn(_, _, _, _) -> _ };
    (5) => { unsafe extern "C" fn(_, _, _, _, _) -> _ };
    (6) => { unsafe extern "C" fn(_, _, _, _, _, _) -> _ };
    (7) => { unsafe extern "C" fn(_, _, _, _, _, _, _) -> _ };
    (8) => { unsafe extern "C" fn(_, _, _, _, _, _, _, _) -> _ };
}

/// Checks at compile time that the header's declaration of each function has exactly the
/// type of the Rust definition, and returns the names checked. The two-element array
/// forces both pointers to one type, so inference cannot paper over a difference in any
/// parameter or the return type. Safe Rust fns (`eve_version`, ...) coerce to `unsafe`
/// pointers, which is what a C caller sees anyway.
macro_rules! same_fns {
    ($($name:ident / $arity:tt),* $(,)?) => {{
        $(
            let _: [fn_ptr!($arity); 2] = [
                functions::$name as fn_ptr!($arity),
                eve::ffi::$name as fn_ptr!($arity),
            ];
        )*
        [$(stringify!($name)),*]
    }};
}

#[test]
fn function_signatures_equal_rust() {
    let checked = same_fns![
        eve_last_error_message / 0,
        eve_db_open / 3,
        eve_db_transact / 6,
        eve_db_wait / 5,
        eve_db_ident / 4,
        eve_db_entity / 4,
        eve_db_datoms / 7,
        eve_db_log / 4,
        eve_db_range / 8,
        eve_db_query / 7,
        eve_db_pull / 5,
        eve_db_query_answer / 7,
        eve_db_pull_answer / 5,
        eve_answer_free / 1,
        eve_answer_shape / 2,
        eve_answer_nodes / 3,
        eve_answer_node / 3,
        eve_answer_child / 4,
        eve_answer_rows / 3,
        eve_answer_cell / 4,
        eve_answer_column_name / 3,
        eve_answer_long / 3,
        eve_answer_double / 3,
        eve_answer_text / 4,
        eve_answer_edn / 2,
        eve_cursor_next / 4,
        eve_cursor_close / 1,
        eve_status_name / 1,
        eve_iter_open / 3,
        eve_iter_next / 5,
        eve_iter_close / 1,
        eve_map_open / 3,
        eve_map_transact / 5,
        eve_read_begin / 2,
        eve_read_end / 1,
        eve_read_get / 5,
        eve_read_get_many / 5,
        eve_read_count / 3,
        eve_root_open / 3,
        eve_root_find / 4,
        eve_root_load / 3,
        eve_root_compare_exchange / 5,
        eve_root_wait / 5,
        eve_slab_open / 3,
        eve_slab_open_anonymous / 2,
        eve_slab_close / 1,
        eve_slab_stats / 2,
        eve_slab_reclaim / 2,
        eve_slab_recover / 2,
        eve_slab_check / 2,
        eve_slab_is_read_only / 2,
        eve_version / 0,
        eve_version_major / 0,
        eve_version_minor / 0,
        eve_version_patch / 0,
        eve_yin_open / 3,
        eve_yin_close / 1,
        eve_yin_compile / 3,
        eve_yin_run / 4,
        eve_yin_resume / 4,
        eve_yin_spawn / 4,
        eve_yin_wake / 3,
        eve_yin_work / 4,
        eve_yin_agent / 3,
        eve_yin_agents / 4,
        eve_yin_set_step_limit / 2,
        eve_yin_queued / 2,
        eve_yin_recover / 2,
        eve_yin_set_trace / 2,
        eve_yin_trace / 2,
        eve_yin_stream_make / 2,
        eve_yin_stream_put / 3,
        eve_yin_stream_cursor / 3,
        eve_yin_stream_next / 3,
        eve_yin_stream_closed / 3,
        eve_yin_stream_close / 2,
    ];
    let checked: BTreeSet<String> = checked.iter().map(|name| name.to_string()).collect();
    let declared: BTreeSet<String> = names_after(FUNCTIONS_RS, "pub fn ")
        .into_iter()
        .filter(|name| name.starts_with("eve_"))
        .collect();
    assert_eq!(
        declared, checked,
        "the header's functions differ from the ones checked here"
    );
}

//! Shared pieces of the ABI checks in `tests/`: the Rust side's layout table, built by one
//! macro for both eve's own types and bindgen's reading of the header, and the entry points
//! of `c/layout.c`, compiled by `build.rs` from the committed `include/eve.h`.

use std::collections::BTreeMap;

/// Measurements keyed the way `c/layout.c` spells them (`"sizeof struct eve_op"`,
/// `"offsetof struct eve_op.key"`, ...). A map rather than a list so that comparing two
/// tables reports exactly the keys that differ or are missing on one side.
pub type Layouts = BTreeMap<String, usize>;

/// `eve::ffi` under the header's names: cbindgen renames `EveStatus` to `eve_status`, and
/// with this alias [`layouts!`] can name the same items in this module and in bindgen's.
pub mod rust_abi {
    pub use eve::ffi::EveStatus as eve_status;
    pub use eve::ffi::*;
}

/// The size of the field `field` points at; `offset_of!` has no counterpart for sizes.
pub fn field_size<T, F>(_field: fn(&T) -> &F) -> usize {
    std::mem::size_of::<F>()
}

/// Measures every struct and enum of the C ABI as module `$m` defines it. The list is
/// written out (not derived) on purpose: the tests check it against the set of structs
/// bindgen finds in the header and against the C compiler's table, so a type added to the
/// header without being added here fails a test instead of going unchecked.
#[macro_export]
macro_rules! layouts {
    ($m:ident) => {
        $crate::layouts!(@table $m;
            struct eve_bytes { data, len }
            struct eve_op { kind, key, value }
            struct eve_commit { root, retries, changed }
            struct eve_open_options { flags, reader_slots, max_size }
            struct eve_stats {
                file_len, heap_bytes, bytes_in_use, blocks_in_use, free_bytes, live_readers,
                oldest_pinned_epoch, global_epoch, retired_blocks, reader_slots, roots,
                sweeps, max_size
            }
            struct eve_reclaim_report { freed_blocks, kept_blocks }
            struct eve_sweep_report { live_blocks, live_bytes, freed_blocks, freed_bytes }
            struct eve_datom { e, a, t, m, value_type, int_value, double_value, bytes }
            struct eve_tx_report { t, datoms, retries, tempids }
            struct eve_node { value_type, count, first, int_value, double_value, bytes }
            struct eve_yin_result { agent, cursor, steps, state, wait, value_edn }
            struct eve_yin_agent_info {
                agent, program, owner, cursor, state, projection, wait, result_edn, error
            }
            struct eve_yin_work_report { taken, finished, parked, failed }
            enum eve_status
            enum eve_op_kind
            enum eve_open_flag
            enum eve_root_kind
            enum eve_index
            enum eve_view
            enum eve_value_type
            enum eve_tx_flag
            enum eve_shape
            enum eve_yin_projection
            enum eve_yin_state
            enum eve_yin_wait
        )
    };
    (@table $m:ident; $(struct $s:ident { $($f:ident),* $(,)? })* $(enum $e:ident)*) => {{
        let mut table = $crate::Layouts::new();
        $(
            table.insert(
                concat!("sizeof struct ", stringify!($s)).to_string(),
                ::std::mem::size_of::<$m::$s>(),
            );
            table.insert(
                concat!("alignof struct ", stringify!($s)).to_string(),
                ::std::mem::align_of::<$m::$s>(),
            );
            $(
                table.insert(
                    concat!("offsetof struct ", stringify!($s), ".", stringify!($f)).to_string(),
                    ::std::mem::offset_of!($m::$s, $f),
                );
                table.insert(
                    concat!("sizeof struct ", stringify!($s), ".", stringify!($f)).to_string(),
                    $crate::field_size(|v: &$m::$s| &v.$f),
                );
            )*
        )*
        $(
            table.insert(
                concat!("sizeof enum ", stringify!($e)).to_string(),
                ::std::mem::size_of::<$m::$e>(),
            );
            table.insert(
                concat!("alignof enum ", stringify!($e)).to_string(),
                ::std::mem::align_of::<$m::$e>(),
            );
        )*
        table
    }};
}

/// The layout table of the struct and enum types, as the Rust definitions in `eve::ffi`
/// lay them out.
pub fn rust_layouts() -> Layouts {
    layouts!(rust_abi)
}

/// The header's structs that C only ever sees behind pointers (handles); they have no
/// layout to compare.
pub const OPAQUE_STRUCTS: &[&str] = &[
    "eve_answer",
    "eve_cursor",
    "eve_iter",
    "eve_read",
    "eve_slab",
    "eve_yin",
];

/// The C compiler's side, from `c/layout.c`.
pub mod c {
    use super::Layouts;
    use std::ffi::{c_char, c_int, CStr};

    /// `struct abi_layout_row` in `c/layout.c`.
    #[repr(C)]
    struct Row {
        name: *const c_char,
        value: usize,
    }

    extern "C" {
        fn abi_layouts(count: *mut usize) -> *const Row;
        fn abi_smoke() -> c_int;
    }

    /// The layout table as the C compiler computed it from `include/eve.h`.
    pub fn layouts() -> Layouts {
        let mut count = 0;
        // SAFETY: abi_layouts only writes the row count and returns a pointer to a static
        // array of that many rows.
        let rows = unsafe { std::slice::from_raw_parts(abi_layouts(&mut count), count) };
        rows.iter()
            .map(|row| {
                // SAFETY: every name in the C table is a string literal: static and
                // NUL-terminated.
                let name = unsafe { CStr::from_ptr(row.name) };
                (name.to_str().expect("ASCII key").to_string(), row.value)
            })
            .collect()
    }

    /// Runs `abi_smoke` from `c/layout.c`: 0 on success, else the number of the step that
    /// failed (the C side prints the details to stderr).
    pub fn smoke() -> i32 {
        // SAFETY: abi_smoke takes no arguments and opens, uses and closes its own slab.
        unsafe { abi_smoke() }
    }
}

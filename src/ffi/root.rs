//! Named roots: 64-bit words in the slab's root table, addressed by their index once found
//! by name. Raw roots belong to the application; map roots change only through
//! `eve_map_transact`, but anyone may read or wait on them.

use super::args::{self, Out};
use super::error::{run, Failure};
use super::handles::{self, eve_slab};
use super::EveStatus;
use crate::root::RootKind;
use std::ffi::c_char;
use std::time::Duration;

/// What a root holds.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum eve_root_kind {
    /// A plain 64-bit word owned by the application.
    EVE_ROOT_RAW = 0,
    /// The current version of a map.
    EVE_ROOT_MAP = 1,
    /// The current version of a set.
    EVE_ROOT_SET = 2,
    /// The current version of a B+tree (a sorted set; the storage of DaoDB's indexes).
    EVE_ROOT_BTREE = 3,
    /// A DaoDB database.
    EVE_ROOT_DATABASE = 4,
}

impl From<RootKind> for eve_root_kind {
    fn from(kind: RootKind) -> eve_root_kind {
        match kind {
            RootKind::Raw => eve_root_kind::EVE_ROOT_RAW,
            RootKind::HamtMap => eve_root_kind::EVE_ROOT_MAP,
            RootKind::HamtSet => eve_root_kind::EVE_ROOT_SET,
            RootKind::BTree => eve_root_kind::EVE_ROOT_BTREE,
            RootKind::Dao => eve_root_kind::EVE_ROOT_DATABASE,
        }
    }
}

/// Finds the raw root called `name` (1 to 80 bytes of UTF-8), creating it holding 0 if it
/// is missing, and stores its index in `*root`. Every process gets the same index for the
/// same name. Fails with `EVE_ERR_WRONG_KIND` if `name` is a map or set, and with
/// `EVE_ERR_NOT_FOUND` on a read-only handle when the root does not exist.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_root_open(
    slab: *mut eve_slab,
    name: *const c_char,
    root: *mut u32,
) -> EveStatus {
    run(|| {
        let out = Out::new(root, "root")?;
        // SAFETY: the header documents `name` as a NUL-terminated string.
        let name = unsafe { args::text(name, "name") }?;
        let slab = handles::slab(slab)?;
        out.write(slab.root(name)?.index() as u32);
        Ok(())
    })
}

/// Looks up the root called `name`, of any kind, without creating it: stores its index in
/// `*root` and its kind in `*kind` (which may be NULL). Fails with `EVE_ERR_NOT_FOUND` if
/// there is no such root.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_root_find(
    slab: *mut eve_slab,
    name: *const c_char,
    root: *mut u32,
    kind: *mut eve_root_kind,
) -> EveStatus {
    run(|| {
        let out = Out::new(root, "root")?;
        let kind_out = Out::optional(kind, "kind")?;
        // SAFETY: the header documents `name` as a NUL-terminated string.
        let name = unsafe { args::text(name, "name") }?;
        let slab = handles::slab(slab)?;
        let cell = slab
            .roots()?
            .into_iter()
            .find(|info| info.name == name)
            .ok_or_else(|| {
                Failure::new(
                    EveStatus::EVE_ERR_NOT_FOUND,
                    format!("no root named {name:?}"),
                )
            })?;
        out.write(cell.index as u32);
        if let Some(kind_out) = kind_out {
            kind_out.write(cell.kind.into());
        }
        Ok(())
    })
}

/// Stores the current value of the root at index `root` in `*value`. For a map root the
/// value is the offset of its current version (0 when empty); it changes on every commit.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_root_load(
    slab: *mut eve_slab,
    root: u32,
    value: *mut u64,
) -> EveStatus {
    run(|| {
        let out = Out::new(value, "value")?;
        let slab = handles::slab(slab)?;
        out.write(slab.root_at(root.into())?.load());
        Ok(())
    })
}

/// Atomically replaces the value of the raw root at index `root` with `desired` if it
/// holds `expected`, and stores the value it held in `*actual` (so the swap happened if
/// and only if `*actual == expected`). Wakes every process waiting on the root. Fails with
/// `EVE_ERR_WRONG_KIND` for map and set roots and `EVE_ERR_READ_ONLY` on read-only handles.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_root_compare_exchange(
    slab: *mut eve_slab,
    root: u32,
    expected: u64,
    desired: u64,
    actual: *mut u64,
) -> EveStatus {
    run(|| {
        let out = Out::new(actual, "actual")?;
        let slab = handles::slab(slab)?;
        let found = match slab
            .root_at(root.into())?
            .compare_exchange(expected, desired)?
        {
            Ok(previous) | Err(previous) => previous,
        };
        out.write(found);
        Ok(())
    })
}

/// Blocks the calling thread until the root at index `root` holds something other than
/// `seen`, or `timeout_ms` milliseconds pass (a negative timeout waits for ever), and
/// stores the value it saw last in `*value`: equal to `seen` only on timeout. Changes made
/// by any process wake it. Works on raw and map roots alike.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_root_wait(
    slab: *mut eve_slab,
    root: u32,
    seen: u64,
    timeout_ms: i64,
    value: *mut u64,
) -> EveStatus {
    run(|| {
        let out = Out::new(value, "value")?;
        let slab = handles::slab(slab)?;
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        out.write(slab.root_at(root.into())?.wait_for_change(seen, timeout));
        Ok(())
    })
}

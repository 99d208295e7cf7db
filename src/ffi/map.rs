//! Maps: finding them by name, and changing them with atomic batches.

use super::args::{self, eve_bytes, Out};
use super::error::{run, Failure};
use super::handles::{self, eve_slab};
use super::EveStatus;
use crate::Op;
use std::ffi::c_char;

/// What one `eve_op` does.
#[repr(u32)]
#[allow(non_camel_case_types)]
pub enum eve_op_kind {
    /// Set `key` to `value`, adding the key if it is missing.
    EVE_OP_PUT = 1,
    /// Remove `key` if present (`value` is ignored).
    EVE_OP_REMOVE = 2,
}

/// One change in a batch given to `eve_map_transact`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct eve_op {
    /// An `eve_op_kind`.
    pub kind: u32,
    pub key: eve_bytes,
    pub value: eve_bytes,
}

/// What a transaction did.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
#[allow(non_camel_case_types)]
pub struct eve_commit {
    /// The map's root word after the transaction: the new version, or the unchanged one.
    pub root: u64,
    /// How many times the batch was re-applied because another writer published first.
    pub retries: u64,
    /// False when the batch changed nothing; then nothing was published.
    pub changed: bool,
}

/// Finds the map called `name` (1 to 80 bytes of UTF-8), creating it empty if it is
/// missing and the handle is writable, and stores its root index in `*map`. Every process
/// gets the same index for the same name. Fails with `EVE_ERR_WRONG_KIND` if `name` is a
/// raw root or a set, and `EVE_ERR_NOT_FOUND` on a read-only handle when it is missing.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_map_open(
    slab: *mut eve_slab,
    name: *const c_char,
    map: *mut u32,
) -> EveStatus {
    run(|| {
        let out = Out::new(map, "map")?;
        // SAFETY: the header documents `name` as a NUL-terminated string.
        let name = unsafe { args::text(name, "name") }?;
        let slab = handles::slab(slab)?;
        out.write(slab.map(name)?.root_index() as u32);
        Ok(())
    })
}

/// Applies `count` changes to the map at root index `map` as one atomic transaction:
/// readers see all of them or none. The batch is applied to the current version and
/// published with one compare-and-swap; if another writer (in any process) publishes
/// first, it is applied again to the new version. Later changes to the same key win. The
/// keys and values are copied into the slab; `ops` may be NULL when `count` is 0. `out`
/// may be NULL. Nothing is changed when an error is returned.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_map_transact(
    slab: *mut eve_slab,
    map: u32,
    ops: *const eve_op,
    count: usize,
    out: *mut eve_commit,
) -> EveStatus {
    run(|| {
        let out = Out::optional(out, "out")?;
        // SAFETY: the header documents `ops` as `count` readable items.
        let ops = unsafe { args::array(ops, count, "ops") }?;
        let mut batch = Vec::with_capacity(ops.len());
        for (at, op) in ops.iter().enumerate() {
            // SAFETY: the header documents each op's key and value as readable bytes.
            let key = unsafe { args::view(&op.key, "ops[].key") }?;
            batch.push(match op.kind {
                k if k == eve_op_kind::EVE_OP_PUT as u32 => {
                    // SAFETY: as above.
                    Op::Insert(key, unsafe { args::view(&op.value, "ops[].value") }?)
                }
                k if k == eve_op_kind::EVE_OP_REMOVE as u32 => Op::Remove(key),
                other => {
                    return Err(Failure::invalid(format!(
                        "ops[{at}].kind is {other}, which is not an eve_op_kind"
                    )))
                }
            });
        }
        let slab = handles::slab(slab)?;
        let commit = slab.map_at(map.into())?.apply(&batch)?;
        if let Some(out) = out {
            out.write(eve_commit {
                root: commit.root,
                retries: commit.retries,
                changed: commit.changed,
            });
        }
        Ok(())
    })
}

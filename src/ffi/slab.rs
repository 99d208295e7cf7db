//! Opening and closing slabs, and what a slab handle can tell or do as a whole: statistics,
//! reclamation, checking and the recovery sweep.

use super::args::{self, Out};
use super::error::{run, Failure};
use super::handles::{self, eve_slab};
use super::EveStatus;
use crate::{OpenOptions, Slab};
use std::ffi::c_char;

/// Bits of `eve_open_options.flags`.
#[repr(u32)]
#[allow(non_camel_case_types)]
pub enum eve_open_flag {
    /// Map the slab without write permission: reads stay zero-copy, writes fail with
    /// `EVE_ERR_READ_ONLY`, and the file must exist.
    EVE_OPEN_READ_ONLY = 1,
    /// Fail with `EVE_ERR_IO` instead of creating the file when it does not exist.
    EVE_OPEN_MUST_EXIST = 2,
}

const KNOWN_FLAGS: u32 =
    eve_open_flag::EVE_OPEN_READ_ONLY as u32 | eve_open_flag::EVE_OPEN_MUST_EXIST as u32;

/// How to open a slab. All zero (`eve_open_options o = {0};`, or passing NULL) means: read
/// and write, create the file if it is missing (with mode 0600), the default number of
/// reader slots, and the largest address-space reservation available (up to 1 TiB).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
#[allow(non_camel_case_types)]
pub struct eve_open_options {
    /// `eve_open_flag` bits, or 0.
    pub flags: u32,
    /// Reader slots (threads reading at once, over all processes) of a newly created slab;
    /// 0 for the default. Ignored when the slab already exists.
    pub reader_slots: u32,
    /// The most the slab may grow to, in bytes, which is also the address range reserved
    /// in this process; 0 for the default.
    pub max_size: u64,
    /// Permission bits (at most 0777) of a file this open creates, before the umask; 0 for
    /// the default, 0600 (only the owner reads and writes: whoever can write a slab can
    /// change its data). Ignored when the file exists.
    pub mode: u32,
    /// Must be 0.
    pub reserved: u32,
}

fn options(given: *const eve_open_options) -> Result<OpenOptions, Failure> {
    // SAFETY: the header documents `options` as NULL or a pointer to a readable struct.
    let given = unsafe { args::input(given, "options") }?
        .copied()
        .unwrap_or_default();
    if given.flags & !KNOWN_FLAGS != 0 {
        return Err(Failure::invalid(format!(
            "options.flags has unknown bits {:#x}",
            given.flags & !KNOWN_FLAGS
        )));
    }
    let mut options = OpenOptions {
        read_only: given.flags & eve_open_flag::EVE_OPEN_READ_ONLY as u32 != 0,
        create: given.flags & eve_open_flag::EVE_OPEN_MUST_EXIST as u32 == 0,
        max_size: given.max_size,
        ..OpenOptions::default()
    };
    if given.reader_slots != 0 {
        options.reader_slots = given.reader_slots;
    }
    if given.mode != 0 {
        options.mode = given.mode;
    }
    if given.reserved != 0 {
        return Err(Failure::invalid("options.reserved must be 0"));
    }
    Ok(options)
}

/// Opens the slab in the file at `path` (a NUL-terminated path), creating it if missing
/// unless the options say otherwise, and stores a new handle in `*out`. `options` may be
/// NULL for the defaults. Any number of processes and handles may open the same file at
/// once. Close the handle with `eve_slab_close`.
///
/// Fails with `EVE_ERR_NOT_A_SLAB`, `EVE_ERR_VERSION` or `EVE_ERR_CORRUPT` for a file that
/// is not a slab this library can use; the file is left untouched.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_slab_open(
    path: *const c_char,
    options: *const eve_open_options,
    out: *mut *mut eve_slab,
) -> EveStatus {
    run(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: the header documents `path` as a NUL-terminated string.
        let path = unsafe { args::text(path, "path") }?;
        let options = self::options(options)?;
        let slab = Slab::open_with(path, &options)?;
        out.write(handles::register_slab(slab)?);
        Ok(())
    })
}

/// Creates a slab in anonymous shared memory and stores its handle in `*out`. Processes
/// forked from this one afterwards share it (and may keep using the handle). `options`
/// may be NULL; its read-only and must-exist flags are refused here.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_slab_open_anonymous(
    options: *const eve_open_options,
    out: *mut *mut eve_slab,
) -> EveStatus {
    run(|| {
        let out = Out::new(out, "out")?;
        let options = self::options(options)?;
        if options.read_only || !options.create {
            return Err(Failure::invalid(
                "an anonymous slab is always new and writable: drop the read-only and must-exist flags",
            ));
        }
        let slab = Slab::anonymous_with(&options)?;
        out.write(handles::register_slab(slab)?);
        Ok(())
    })
}

/// Closes a slab handle and unmaps the slab. Fails with `EVE_ERR_BUSY`, leaving the handle
/// open, while reads or iterators opened from it are still open or another thread is in
/// a call on it (for example waiting in `eve_root_wait`). After success the handle
/// is invalid: every use of it fails with `EVE_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_slab_close(slab: *mut eve_slab) -> EveStatus {
    run(|| handles::close_slab(slab))
}

/// Counters describing a slab at one moment (`eve_slab_stats`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
#[allow(non_camel_case_types)]
pub struct eve_stats {
    /// Bytes of file allocated.
    pub file_len: u64,
    /// Bytes of heap handed out as pages, used or free.
    pub heap_bytes: u64,
    /// Bytes in allocated blocks, including retired blocks not yet freed.
    pub bytes_in_use: u64,
    /// Allocated blocks, including retired ones not yet freed.
    pub blocks_in_use: u64,
    /// Allocated file bytes no block uses.
    pub free_bytes: u64,
    /// Threads pinned right now (open reads), over all processes.
    pub live_readers: u64,
    /// The oldest epoch a reader holds pinned, or 0 when nobody is pinned.
    pub oldest_pinned_epoch: u64,
    /// The global epoch now.
    pub global_epoch: u64,
    /// Blocks retired by writers and waiting for readers to move on.
    pub retired_blocks: u64,
    /// Reader slots in the slab.
    pub reader_slots: u64,
    /// Named roots in use.
    pub roots: u64,
    /// Recovery sweeps run on this slab so far.
    pub sweeps: u64,
    /// Address range reserved for the slab in this process.
    pub max_size: u64,
    /// Roots that recovery sweeps set back to their last synced value because the current
    /// one did not validate (a power loss after unsynced commits, or damage), so far.
    pub rolled_back_roots: u64,
}

/// Fills `*out` with the slab's counters.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_slab_stats(slab: *mut eve_slab, out: *mut eve_stats) -> EveStatus {
    run(|| {
        let out = Out::new(out, "out")?;
        let s = handles::slab(slab)?.stats();
        out.write(eve_stats {
            file_len: s.file_len,
            heap_bytes: s.heap_bytes,
            bytes_in_use: s.bytes_in_use,
            blocks_in_use: s.blocks_in_use,
            free_bytes: s.free_bytes,
            live_readers: s.live_readers,
            oldest_pinned_epoch: s.oldest_pinned_epoch.unwrap_or(0),
            global_epoch: s.global_epoch,
            retired_blocks: s.retired_blocks,
            reader_slots: s.reader_slots,
            roots: s.roots,
            sweeps: s.sweeps,
            max_size: s.max_size,
            rolled_back_roots: s.rolled_back_roots,
        });
        Ok(())
    })
}

/// What a reclamation pass did (`eve_slab_reclaim`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
#[allow(non_camel_case_types)]
pub struct eve_reclaim_report {
    /// Retired blocks freed by this pass.
    pub freed_blocks: u64,
    /// Retired blocks kept because a reader may still hold them.
    pub kept_blocks: u64,
}

/// Frees every retired block that no pinned reader in any process can still reach.
/// Writers do this by themselves every few commits; call it to reclaim eagerly. `out` may
/// be NULL. Fails with `EVE_ERR_READ_ONLY` on a read-only handle.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_slab_reclaim(
    slab: *mut eve_slab,
    out: *mut eve_reclaim_report,
) -> EveStatus {
    run(|| {
        let out = Out::optional(out, "out")?;
        let report = handles::slab(slab)?.reclaim()?;
        if let Some(out) = out {
            out.write(eve_reclaim_report {
                freed_blocks: report.freed_blocks,
                kept_blocks: report.kept_blocks,
            });
        }
        Ok(())
    })
}

/// What the recovery sweep did (`eve_slab_recover`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
#[allow(non_camel_case_types)]
pub struct eve_sweep_report {
    /// Blocks reachable from some root.
    pub live_blocks: u64,
    /// Bytes in those blocks.
    pub live_bytes: u64,
    /// Blocks that were allocated but unreachable (for example left by a writer that was
    /// killed mid-update), now free.
    pub freed_blocks: u64,
    /// Bytes in those blocks.
    pub freed_bytes: u64,
    /// Roots this sweep set back to their last synced value because the current one did
    /// not validate.
    pub rolled_back_roots: u64,
}

/// Runs the recovery sweep: validates every block reachable from the roots and gives every
/// unreachable one back to the free lists. It needs the slab alone: it fails with
/// `EVE_ERR_BUSY` while this handle has open reads or iterators, or while any other
/// handle, in this or another process, has the slab open. The first handle to open a slab
/// that was not closed cleanly runs it by itself. `out` may be NULL.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_slab_recover(
    slab: *mut eve_slab,
    out: *mut eve_sweep_report,
) -> EveStatus {
    run(|| {
        let out = Out::optional(out, "out")?;
        let report = handles::with_slab_alone(slab, |slab| Ok(slab.recover()?))?;
        if let Some(out) = out {
            out.write(eve_sweep_report {
                live_blocks: report.live_blocks,
                live_bytes: report.live_bytes,
                freed_blocks: report.freed_blocks,
                freed_bytes: report.freed_bytes,
                rolled_back_roots: report.rolled_back_roots,
            });
        }
        Ok(())
    })
}

/// Checks every block reachable from the roots without changing anything; stores the
/// number of reachable blocks in `*reachable_blocks` (which may be NULL). Fails with
/// `EVE_ERR_CORRUPT`, naming the block, if something is damaged.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_slab_check(
    slab: *mut eve_slab,
    reachable_blocks: *mut u64,
) -> EveStatus {
    run(|| {
        let out = Out::optional(reachable_blocks, "reachable_blocks")?;
        let report = handles::slab(slab)?.check()?;
        if let Some(out) = out {
            out.write(report.reachable_blocks);
        }
        Ok(())
    })
}

/// Stores in `*read_only` whether the handle was opened read-only.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_slab_is_read_only(
    slab: *mut eve_slab,
    read_only: *mut bool,
) -> EveStatus {
    run(|| {
        let out = Out::new(read_only, "read_only")?;
        out.write(handles::slab(slab)?.is_read_only());
        Ok(())
    })
}

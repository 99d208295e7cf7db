//! The public handle to an open slab: ties the layers together and is what users hold.

use crate::alloc::Allocator;
use crate::btree::BTree;
use crate::epoch::{Epochs, Guard, ReclaimReport};
use crate::error::{Error, ErrorKind, Result};
use crate::hamt::{HamtMap, HamtSet};
use crate::recovery::{self, Audit, SweepReport};
use crate::root::{self, RootCell, RootKind};
use crate::slab::header::*;
use crate::slab::{OpenOptions, OpenState, Region};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// An open slab. Share it between threads by reference (it is `Sync`); every process that
/// opens the same file, or inherits an anonymous slab over `fork`, sees the same data.
pub struct Slab {
    epochs: Epochs,
    region: Arc<Region>,
}

impl Slab {
    /// Opens the slab in the file at `path`, creating it if missing.
    pub fn open(path: impl AsRef<Path>) -> Result<Slab> {
        Slab::open_with(path, &OpenOptions::default())
    }

    pub fn open_with(path: impl AsRef<Path>, options: &OpenOptions) -> Result<Slab> {
        check_platform()?;
        let (region, state) = Region::open_file(path.as_ref(), options)?;
        Slab::finish_open(region, state)
    }

    /// Creates a slab in anonymous shared memory; processes forked afterwards share it.
    pub fn anonymous() -> Result<Slab> {
        Slab::anonymous_with(&OpenOptions::default())
    }

    pub fn anonymous_with(options: &OpenOptions) -> Result<Slab> {
        check_platform()?;
        let (region, state) = Region::anonymous(options)?;
        Slab::finish_open(region, state)
    }

    fn finish_open(region: Region, state: OpenState) -> Result<Slab> {
        let region = Arc::new(region);
        let slab = Slab {
            epochs: Epochs::new(region.clone()),
            region,
        };
        if state.exclusive {
            // First handle anywhere: recover from an unclean shutdown before anyone reads.
            if state.needs_sweep {
                if let Err(e) = recovery::sweep(&slab.region, &slab.epochs) {
                    slab.region.abandon(state.regrown_from);
                    return Err(e);
                }
            }
            slab.region.mark_in_use();
            slab.region.share()?;
        }
        Ok(slab)
    }

    pub(crate) fn region(&self) -> &Region {
        &self.region
    }

    pub fn is_read_only(&self) -> bool {
        !self.region.is_writable()
    }

    /// Pins the calling thread: blocks read while the guard lives are never freed, in any
    /// process. Re-entrant and cheap (tens of nanoseconds).
    #[inline]
    pub fn pin(&self) -> Result<Guard<'_>> {
        self.epochs.pin()
    }

    /// The raw root named `name`, created (holding 0) if missing.
    pub fn root(&self, name: &str) -> Result<Root<'_>> {
        Ok(Root {
            cell: RootCell::named(&self.region, name, RootKind::Raw, !self.is_read_only())?,
            region: &self.region,
        })
    }

    /// The root at `index` of the root table, whatever its kind.
    pub fn root_at(&self, index: u64) -> Result<Root<'_>> {
        Ok(Root {
            cell: RootCell::at(&self.region, index)?,
            region: &self.region,
        })
    }

    /// Every named root.
    pub fn roots(&self) -> Result<Vec<RootInfo>> {
        root::all(&self.region)?
            .into_iter()
            .map(|cell| {
                Ok(RootInfo {
                    index: cell.index(),
                    name: cell.name()?,
                    kind: cell.kind()?,
                    value: cell.load(),
                })
            })
            .collect()
    }

    /// The map named `name`, created empty if missing (and the handle is writable).
    pub fn map(&self, name: &str) -> Result<HamtMap<'_>> {
        HamtMap::open(self, name, RootKind::HamtMap, !self.is_read_only())
    }

    /// The map at `index` of the root table (see `HamtMap::root_index`).
    pub fn map_at(&self, index: u64) -> Result<HamtMap<'_>> {
        HamtMap::at(self, index, false)
    }

    /// The B+tree (a sorted set of byte strings) named `name`, created empty if missing
    /// (and the handle is writable).
    pub fn btree(&self, name: &str) -> Result<BTree<'_>> {
        BTree::open(self, name, !self.is_read_only())
    }

    /// The DaoDB database named `name`, created empty if missing (and the handle is
    /// writable).
    pub fn database(&self, name: &str) -> Result<crate::dao::Database<'_>> {
        crate::dao::Database::open(self, name, !self.is_read_only())
    }

    /// The set named `name`, created empty if missing (and the handle is writable).
    pub fn set(&self, name: &str) -> Result<HamtSet<'_>> {
        HamtSet::open(self, name, !self.is_read_only())
    }

    /// Frees every retired block that no pinned reader can reach any more. Writers call
    /// this on their own every few commits; call it to reclaim eagerly.
    pub fn reclaim(&self) -> Result<ReclaimReport> {
        if self.is_read_only() {
            return Err(self.region.read_only_error());
        }
        self.epochs.reclaim()
    }

    /// Returns once every root published before the call is on disk.
    pub(crate) fn sync_roots(&self) -> Result<()> {
        self.epochs.sync_roots()
    }

    /// Called by writers after a successful publish. Retirement failing (for example no
    /// space for the record) must not turn a committed update into an error, so the
    /// blocks are left for the next sweep instead.
    pub(crate) fn retire_after_publish(&self, unlinked: &[u64]) {
        if self.epochs.retire(unlinked).is_err() {
            self.region.meta(F_CRASH_SEEN).store(1, Ordering::Release);
        }
    }

    /// Runs the reachability sweep: every block no root reaches goes back to the free
    /// lists (for example blocks a writer allocated before it was killed). Needs the slab
    /// to itself: fails with `Busy` while any other handle, in any process, has it open.
    /// Runs by itself when the first handle opens a slab that was not closed cleanly.
    /// `&mut self` guarantees no guard of this handle is alive.
    pub fn recover(&mut self) -> Result<SweepReport> {
        if !self.region.try_exclusive()? {
            return Err(Error::new(
                ErrorKind::Busy,
                format!(
                    "{}: another handle has the slab open; recovery needs it alone",
                    self.region.name()
                ),
            ));
        }
        let result = recovery::sweep(&self.region, &self.epochs);
        if result.is_ok() {
            self.region.mark_in_use();
        }
        self.region.share()?;
        result
    }

    /// Like [`recover`](Self::recover), but also runs while other handles have the slab
    /// open, as long as no thread anywhere is pinned at that moment (no read or update in
    /// progress; slots of dead processes are reaped first). For operators who know the
    /// other handles are idle (`eve repair --force`): a handle that starts reading or
    /// writing while the sweep runs can lose blocks it uses. Fails with `Busy` if a thread
    /// is pinned.
    pub fn recover_forced(&mut self) -> Result<SweepReport> {
        if self.is_read_only() {
            return Err(self.region.read_only_error());
        }
        if self.region.try_exclusive()? {
            let result = recovery::sweep(&self.region, &self.epochs);
            if result.is_ok() {
                self.region.mark_in_use();
            }
            self.region.share()?;
            return result;
        }
        self.epochs.reap_dead();
        let (pinned, _) = self.epochs.census();
        if pinned > 0 {
            return Err(Error::new(
                ErrorKind::Busy,
                format!(
                    "{}: {pinned} thread(s) are reading or writing right now; even a forced sweep needs them idle",
                    self.region.name()
                ),
            ));
        }
        let result = recovery::sweep(&self.region, &self.epochs);
        if result.is_ok() {
            self.region.mark_in_use();
        }
        result
    }

    /// Does any other handle, in this process or another, have the slab open right now?
    /// Never blocks; read-only handles can ask too.
    pub fn others_attached(&self) -> Result<bool> {
        self.region.others_attached()
    }

    /// The claimed reader slots: which process holds each and whether it is pinned now.
    /// A slot stays claimed by a thread between reads (until the thread or handle ends),
    /// so idle readers appear with `pinned_epoch: None`. Does not reap dead owners.
    pub fn readers(&self) -> Vec<ReaderInfo> {
        self.epochs
            .claimed()
            .into_iter()
            .map(|(slot, owner, epoch)| ReaderInfo {
                slot,
                pid: owner.pid(),
                alive: crate::slab::process::is_alive(owner),
                pinned_epoch: (epoch != 0).then_some(epoch),
            })
            .collect()
    }

    /// What the retirement lists hold: blocks replaced by updates and waiting for readers
    /// to move on. Exact while no other process reclaims at the same moment (then it may
    /// miss records, or fail with `Corrupt`; try again).
    pub fn retired(&self) -> Result<RetiredReport> {
        let _guard = self.pin()?;
        let alloc = Allocator::new(&self.region);
        let mut report = RetiredReport::default();
        for (record, blocks) in self.epochs.retired_records()? {
            report.records += 1;
            report.record_bytes += alloc.block_info(record)?.size;
            for block in blocks {
                report.blocks += 1;
                report.bytes += alloc.block_info(block)?.size;
            }
        }
        Ok(report)
    }

    /// Walks the whole heap, changing nothing: validates every block reachable from the
    /// roots (as [`check`](Self::check) does) and the header of every other block, and
    /// sorts the allocated ones into reachable, retired and leaked. Leaks are exact only
    /// while no other handle writes (see [`others_attached`](Self::others_attached)):
    /// blocks a running writer has not published yet count as leaked.
    pub fn audit(&self) -> Result<Audit> {
        let _guard = self.pin()?;
        let retired = self.epochs.retired_records()?;
        recovery::audit(&self.region, &retired)
    }

    /// Checks every block reachable from the roots without changing anything.
    pub fn check(&self) -> Result<CheckReport> {
        let _guard = self.pin()?;
        let marks = recovery::mark_reachable(&self.region)?;
        let pages = Allocator::new(&self.region).pages()?;
        Ok(CheckReport {
            reachable_blocks: marks.count(),
            pages: pages.iter().map(|p| p.pages).sum(),
        })
    }

    /// A snapshot of the slab's counters.
    pub fn stats(&self) -> Stats {
        let r = &self.region;
        let load = |field| r.meta(field).load(Ordering::Acquire);
        let (live_readers, oldest_pinned_epoch) = self.epochs.census();
        let file_len = r.file_len();
        let heap_start = r.geometry().heap_start;
        let bytes_in_use = load(F_BYTES_IN_USE);
        Stats {
            file_len,
            heap_bytes: load(F_HEAP_TOP) - heap_start,
            bytes_in_use,
            blocks_in_use: load(F_BLOCKS_IN_USE),
            free_bytes: file_len.saturating_sub(heap_start + bytes_in_use),
            live_readers,
            oldest_pinned_epoch,
            global_epoch: load(F_GLOBAL_EPOCH),
            retired_blocks: load(F_RETIRED_BLOCKS),
            reader_slots: r.geometry().reader_count,
            roots: root::all(r).map_or(0, |roots| roots.len() as u64),
            sweeps: load(F_SWEEPS),
            rolled_back_roots: load(F_ROLLBACKS),
            max_size: r.reservation(),
        }
    }
}

impl Drop for Slab {
    fn drop(&mut self) {
        // Look for participants that died, so the clean-close decision is honest. Only a
        // writable handle can: reaping writes the reader table, which a read-only handle
        // maps without write permission (a dead reader's slot would fault it).
        if !self.is_read_only() {
            self.epochs.reap_dead();
        }
        self.region.close_session();
    }
}

fn check_platform() -> Result<()> {
    if !portable_atomic::AtomicU128::is_lock_free() {
        return Err(Error::new(
            ErrorKind::Io,
            "this CPU has no 16-byte compare-and-swap; eve's shared free lists need it",
        ));
    }
    Ok(())
}

/// A named 64-bit word in the slab.
#[derive(Clone, Copy)]
pub struct Root<'s> {
    cell: RootCell<'s>,
    region: &'s Region,
}

impl Root<'_> {
    pub fn index(&self) -> u64 {
        self.cell.index()
    }

    pub fn name(&self) -> Result<String> {
        self.cell.name()
    }

    pub fn kind(&self) -> Result<RootKind> {
        self.cell.kind()
    }

    pub fn load(&self) -> u64 {
        self.cell.load()
    }

    /// Replaces `current` with `new` if the root still holds `current`; otherwise returns
    /// `Ok(Err(actual))`. Only raw roots can be set this way: the roots of maps and sets
    /// change only through their updates, which keep the structure and the sweep sound.
    pub fn compare_exchange(
        &self,
        current: u64,
        new: u64,
    ) -> Result<std::result::Result<u64, u64>> {
        if !self.region.is_writable() {
            // The mapping has no write permission: a CAS on it would fault, not fail.
            return Err(self.region.read_only_error());
        }
        if self.cell.kind()? != RootKind::Raw {
            return Err(Error::new(
                ErrorKind::WrongKind,
                format!(
                    "root {:?} belongs to a map or set; update it through that",
                    self.name()?
                ),
            ));
        }
        Ok(self.cell.compare_exchange(current, new))
    }

    /// Blocks until the value differs from `seen` or the timeout passes; returns the value
    /// seen last (equal to `seen` only on timeout). Wakes on changes made by any process.
    pub fn wait_for_change(&self, seen: u64, timeout: Option<Duration>) -> u64 {
        self.cell.wait_for_change(seen, timeout)
    }
}

/// One entry of the root table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootInfo {
    pub index: u64,
    pub name: String,
    pub kind: RootKind,
    pub value: u64,
}

/// Counters describing a slab at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Bytes of file allocated.
    pub file_len: u64,
    /// Bytes of heap handed out as pages (used or free).
    pub heap_bytes: u64,
    /// Bytes in allocated blocks (by size class), including retired ones not yet freed.
    pub bytes_in_use: u64,
    pub blocks_in_use: u64,
    /// Allocated file bytes not in use by any block.
    pub free_bytes: u64,
    /// Threads pinned right now, in all processes.
    pub live_readers: u64,
    pub oldest_pinned_epoch: Option<u64>,
    pub global_epoch: u64,
    /// Blocks retired and waiting for readers to move on.
    pub retired_blocks: u64,
    pub reader_slots: u64,
    pub roots: u64,
    /// Recovery sweeps run on this file so far.
    pub sweeps: u64,
    /// Roots that recovery sweeps set back to their last synced value because the current
    /// one did not validate (a power loss after unsynced commits, or damage).
    pub rolled_back_roots: u64,
    /// The address range reserved for this slab in this process.
    pub max_size: u64,
}

/// A reader slot claimed by a thread of some process (see `Slab::readers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderInfo {
    /// Index of the slot in the reader table.
    pub slot: u64,
    /// The owning process.
    pub pid: u32,
    /// False when that process has exited (the slot is taken back the next time it
    /// would hold reclamation back).
    pub alive: bool,
    /// The epoch the thread is pinned at, or `None` while it is not reading.
    pub pinned_epoch: Option<u64>,
}

/// What the retirement lists hold (see `Slab::retired`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetiredReport {
    /// Retirement records, and the bytes of the records themselves.
    pub records: u64,
    pub record_bytes: u64,
    /// Blocks the records hold, and their bytes.
    pub blocks: u64,
    pub bytes: u64,
}

/// Result of `Slab::check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckReport {
    pub reachable_blocks: u64,
    pub pages: u64,
}

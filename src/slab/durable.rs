//! Durability: writing chosen parts of the mapping to the disk before a commit is
//! published, and the root table after it, with one sync serving every commit that
//! published before it started (group commit across processes).
//!
//! The root table is written back by the kernel whenever it likes, so after a power loss
//! a root may hold the value of an unsynced commit whose blocks never reached the disk.
//! Each root entry therefore also keeps a *synced value*: a value whose blocks are known
//! to be on disk, written only by a checkpoint (below) after its `fdatasync`. A recovery
//! sweep that finds a current value that does not validate falls back to it. For that
//! fallback to be sound, the blocks of every synced value must stay as they are until the
//! next checkpoint replaces it: retirement records stamped at or after the *sync floor*
//! (the global epoch when the synced values were read) are not freed by reclamation.

use super::header::{
    F_GLOBAL_EPOCH, F_SYNC_DONE, F_SYNC_FLOOR, F_SYNC_OWNER, F_SYNC_TICKETS, READER_TABLE_OFFSET,
    ROOT_COUNT, ROOT_ENTRY_SIZE, ROOT_F_SEAL, ROOT_F_STATE, ROOT_F_SYNCED, ROOT_F_VALUE,
    ROOT_STATE_READY, ROOT_TABLE_OFFSET,
};
use super::process::{self, OwnerWord};
use super::Region;
use crate::error::{Error, Result};
use std::sync::atomic::Ordering;

const OS_PAGE: u64 = 4096;

impl Region {
    /// Writes the pages holding the given byte ranges to the file and waits for the disk
    /// (`msync(MS_SYNC)`). Ranges are merged page by page first, so a transaction's many
    /// small blocks cost a few system calls, not one each.
    pub fn sync_ranges(&self, ranges: &mut [(u64, u64)]) -> Result<()> {
        let mut pages: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
        ranges.sort_unstable();
        for &(offset, len) in ranges.iter() {
            self.check(offset, len)?;
            let (start, end) = (
                offset / OS_PAGE * OS_PAGE,
                (offset + len).div_ceil(OS_PAGE) * OS_PAGE,
            );
            match pages.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => pages.push((start, end)),
            }
        }
        for (start, end) in pages {
            // SAFETY: `start..end` covers page-aligned whole pages around ranges checked to
            // lie inside the mapping; msync only writes back, it changes no memory.
            let rc = unsafe {
                libc::msync(
                    self.base.add(start as usize).cast(),
                    (end - start) as usize,
                    libc::MS_SYNC,
                )
            };
            if rc != 0 {
                return Err(Error::last_os(format!("{}: msync", self.name)));
            }
        }
        Ok(())
    }

    /// Writes everything written to the file so far to the disk (`fdatasync`): the blocks
    /// of a commit about to be published, and any earlier unsynced commit they share nodes
    /// with.
    pub fn sync_data(&self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(|e| Error::from_io(format!("{}: fdatasync", self.name), e))
    }

    /// Returns once every root published before this call is on disk. Each caller takes a
    /// ticket after its CAS; whoever holds the sync role runs one checkpoint for all
    /// tickets issued so far, so writers committing together share one disk write.
    pub fn sync_roots(&self) -> Result<()> {
        let tickets = self.meta(F_SYNC_TICKETS);
        let done = self.meta(F_SYNC_DONE);
        // SeqCst: the ticket is ordered after our root CAS, so a sync that covers the
        // ticket starts after the root holds our value.
        let mine = tickets.fetch_add(1, Ordering::SeqCst) + 1;
        let mut spins = 0u32;
        loop {
            if done.load(Ordering::Acquire) >= mine {
                return Ok(());
            }
            if self.try_sync_role() {
                // Every ticket issued so far belongs to a root already in memory, and the
                // checkpoint reads the roots after this load.
                let covered = tickets.load(Ordering::SeqCst);
                let result = self.checkpoint_as_owner();
                if result.is_ok() {
                    done.fetch_max(covered, Ordering::AcqRel);
                }
                self.meta(F_SYNC_OWNER).store(0, Ordering::Release);
                result?;
                continue;
            }
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::sleep(std::time::Duration::from_micros(20));
            }
        }
    }

    /// Takes the sync role if it is free (or its holder died). Never waits.
    fn try_sync_role(&self) -> bool {
        let owner = self.meta(F_SYNC_OWNER);
        let holder = owner.load(Ordering::Acquire);
        let free = holder == 0 || !process::is_alive(OwnerWord(holder));
        // AcqRel: acquires what the previous holder wrote (its synced words) and orders
        // our checkpoint after the hand-over.
        free && owner
            .compare_exchange(
                holder,
                process::current_owner().0,
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    /// Makes the current value of every typed root durable and records it as the root's
    /// synced value, if the sync role is free (`wait`: waiting for it). Returns whether a
    /// checkpoint ran. Used when retired blocks pile up behind the sync floor, and before
    /// an explicit reclamation.
    pub fn checkpoint(&self, wait: bool) -> Result<bool> {
        loop {
            if self.try_sync_role() {
                let result = self.checkpoint_as_owner();
                self.meta(F_SYNC_OWNER).store(0, Ordering::Release);
                return result.map(|()| true);
            }
            if !wait {
                return Ok(false);
            }
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
    }

    /// Is any checkpoint in force (so that reclamation respects a sync floor)?
    pub fn sync_floor(&self) -> u64 {
        // SeqCst: see `retire::reclaim`, which reads it after taking the records.
        self.meta(F_SYNC_FLOOR).load(Ordering::SeqCst)
    }

    /// The checkpoint itself; the caller holds the sync role (or the slab exclusively).
    ///
    /// 1. Raise the floor from 0 to the current epoch if no checkpoint ran before, then
    ///    read the epoch `e` and the value `v` of every typed root, all `SeqCst`. A block
    ///    reachable from `v` is retired only by a CAS that replaces `v`, hence after our
    ///    load of `v` in the single total order of `SeqCst` operations; the record that
    ///    holds it is stamped by a `fetch_add` after that CAS, so its stamp is `>= e`.
    /// 2. `fdatasync`: every block reachable from each `v` was written (in memory, by
    ///    whichever process) before the CAS that published `v`, which happened before our
    ///    load; the file's dirty pages at the call include them.
    /// 3. Store each `v` as the root's synced value and write the root table back
    ///    (`msync`, waiting for the disk). Only then is `v` a fallback on disk.
    /// 4. Raise the floor to `e`: records stamped before `e` hold no block of the new
    ///    synced values and may be freed; records from `e` on are kept until the next
    ///    checkpoint. Until step 4 the old floor (`<= e`) protects them already.
    pub(crate) fn checkpoint_as_owner(&self) -> Result<()> {
        let floor = self.meta(F_SYNC_FLOOR);
        let epoch = self.meta(F_GLOBAL_EPOCH);
        // SeqCst, before the epoch and root loads: a reclaimer that read the floor as 0
        // (and freed freely) did so before this store in the total order, hence before any
        // retirement of a block of the values read below.
        let first = epoch.load(Ordering::SeqCst);
        let _ = floor.compare_exchange(0, first, Ordering::SeqCst, Ordering::SeqCst);
        let e = epoch.load(Ordering::SeqCst);
        let mut values = Vec::new();
        for index in 0..ROOT_COUNT {
            let entry = ROOT_TABLE_OFFSET + index * ROOT_ENTRY_SIZE;
            // Acquire on the state: a ready entry's seal (and kind) are then visible.
            if self.meta(entry + ROOT_F_STATE).load(Ordering::Acquire) != ROOT_STATE_READY {
                continue;
            }
            let kind = self.meta(entry + ROOT_F_SEAL).load(Ordering::Acquire) & 0xFFFF;
            if kind == 0 {
                continue; // a raw root: application data, never followed or synced
            }
            let value = self.meta(entry + ROOT_F_VALUE).load(Ordering::SeqCst);
            values.push((entry, value));
        }
        self.sync_data()?;
        for &(entry, value) in &values {
            // Relaxed: the msync below is what publishes it (to the disk); other processes
            // read synced values only in a sweep, under the exclusive session lock.
            // Bit 0: a synced value is set; bit 1: a checkpoint recorded it.
            self.meta(entry + ROOT_F_SYNCED)
                .store(value | 0b11, Ordering::Relaxed);
        }
        let table_len = READER_TABLE_OFFSET - ROOT_TABLE_OFFSET;
        self.sync_ranges(&mut [(ROOT_TABLE_OFFSET, table_len)])?;
        // SeqCst: pairs with the reclaimer's load; never lowers the floor.
        floor.fetch_max(e, Ordering::SeqCst);
        Ok(())
    }
}

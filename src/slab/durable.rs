//! Durability: writing chosen parts of the mapping to the disk before a commit is
//! published, and the root table after it, with one sync serving every commit that
//! published before it started (group commit across processes).

use super::header::{
    F_SYNC_DONE, F_SYNC_OWNER, F_SYNC_TICKETS, READER_TABLE_OFFSET, ROOT_TABLE_OFFSET,
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
    /// ticket after its CAS; whoever holds the sync role writes the root table back once for
    /// all tickets issued so far, so writers committing together share one disk write.
    pub fn sync_roots(&self) -> Result<()> {
        let tickets = self.meta(F_SYNC_TICKETS);
        let done = self.meta(F_SYNC_DONE);
        let owner = self.meta(F_SYNC_OWNER);
        // SeqCst: the ticket is ordered after our root CAS, so a sync that covers the
        // ticket starts after the root holds our value.
        let mine = tickets.fetch_add(1, Ordering::SeqCst) + 1;
        let me = process::current_owner();
        let mut spins = 0u32;
        loop {
            if done.load(Ordering::Acquire) >= mine {
                return Ok(());
            }
            let holder = owner.load(Ordering::Acquire);
            let free = holder == 0 || !process::is_alive(OwnerWord(holder));
            if free
                && owner
                    .compare_exchange(holder, me.0, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            {
                // Every ticket issued so far belongs to a root already in memory.
                let covered = tickets.load(Ordering::SeqCst);
                let table_len = READER_TABLE_OFFSET - ROOT_TABLE_OFFSET;
                let result = self.sync_ranges(&mut [(ROOT_TABLE_OFFSET, table_len)]);
                if result.is_ok() {
                    done.fetch_max(covered, Ordering::AcqRel);
                }
                owner.store(0, Ordering::Release);
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
}

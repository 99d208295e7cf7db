//! Durability primitives: writing chosen parts of the mapping to the disk (`msync`), or
//! everything written so far (`fdatasync`), and the sync floor that reclamation reads.
//!
//! The root table is written back by the kernel whenever it likes, so after a power loss
//! a root may hold the value of an unsynced commit whose blocks never reached the disk.
//! Each root entry therefore also keeps a *synced value*: a value whose blocks are known
//! to be on disk, written only by a checkpoint after its `fdatasync`. A recovery sweep
//! that finds a current value that does not validate falls back to it. For that fallback
//! to be sound, the blocks of every synced value must stay as they are until the next
//! checkpoint replaces it: retirement records stamped at or after the *sync floor* (the
//! global epoch when the synced values were read) are not freed. The checkpoint protocol
//! itself, which also frees retired blocks, is in `epoch::checkpoint`.

use super::header::F_SYNC_FLOOR;
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

    /// Is any checkpoint in force (so that reclamation respects a sync floor)?
    pub fn sync_floor(&self) -> u64 {
        // SeqCst: see `epoch::checkpoint`, which raises it.
        self.meta(F_SYNC_FLOOR).load(Ordering::SeqCst)
    }
}

//! The reader registry: a table of slots in the slab, one per reading thread, in any process.
//!
//! Slot layout (one cache line each, so pins in different threads never share a line):
//!
//! | offset | word    | meaning                                                         |
//! |--------|---------|-----------------------------------------------------------------|
//! | 0      | epoch   | global epoch seen at the outermost pin; 0 when not pinned        |
//! | 8      | owner   | `OwnerWord` of the process that claimed the slot; 0 when free    |
//! | 16     | depth   | pin nesting depth; touched only by the owning thread             |
//!
//! A slot's owner is a process identity (pid + start time), so a slot whose process died
//! is recognised as such from the kernel's records and can be taken back by anyone.

use crate::error::{Error, ErrorKind, Result};
use crate::slab::header::{
    F_CRASH_SEEN, F_READERS_HIGH_WATER, READER_SLOT_SIZE, READER_TABLE_OFFSET,
};
use crate::slab::process::{self, OwnerWord};
use crate::slab::Region;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Slot<'r> {
    pub epoch: &'r AtomicU64,
    pub owner: &'r AtomicU64,
    pub depth: &'r AtomicU64,
}

pub fn slot(region: &Region, index: u64) -> Slot<'_> {
    let base = READER_TABLE_OFFSET + index * READER_SLOT_SIZE;
    Slot {
        epoch: region.meta(base),
        owner: region.meta(base + 8),
        depth: region.meta(base + 16),
    }
}

/// Slots at or above this index have never been claimed, so scans stop here.
pub fn high_water(region: &Region) -> u64 {
    region
        .meta(F_READERS_HIGH_WATER)
        .load(Ordering::Acquire)
        .min(region.geometry().reader_count)
}

/// Claims a free slot for `me`, reaping slots of dead processes if none is free.
pub fn claim(region: &Region, me: OwnerWord) -> Result<u64> {
    for pass in 0..2 {
        for index in 0..region.geometry().reader_count {
            let s = slot(region, index);
            if s.owner.load(Ordering::Relaxed) != 0 {
                continue;
            }
            if s.owner
                .compare_exchange(0, me.0, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                s.depth.store(0, Ordering::Relaxed);
                s.epoch.store(0, Ordering::Release);
                region
                    .meta(F_READERS_HIGH_WATER)
                    .fetch_max(index + 1, Ordering::AcqRel);
                return Ok(index);
            }
        }
        if pass == 0 {
            reap_dead(region, u64::MAX);
        }
    }
    Err(Error::new(
        ErrorKind::Exhausted,
        format!(
            "{}: all {} reader slots are held by live threads; create the slab with more reader_slots",
            region.name(),
            region.geometry().reader_count
        ),
    ))
}

/// Gives a slot back. `me` must be the owner that claimed it.
pub fn release(region: &Region, index: u64, me: OwnerWord) {
    let s = slot(region, index);
    s.depth.store(0, Ordering::Relaxed);
    // Release: the reader's last reads of the slab happen before anyone sees it unpinned.
    s.epoch.store(0, Ordering::Release);
    let _ = s
        .owner
        .compare_exchange(me.0, 0, Ordering::AcqRel, Ordering::Relaxed);
}

/// Frees the slot at `index` if its owner is dead. A dead owner that was pinned may have
/// been in the middle of an update, so its death is recorded for the next sweep.
fn reap_if_dead(region: &Region, index: u64, owner: u64) -> bool {
    if process::is_alive(OwnerWord(owner)) {
        return false;
    }
    let s = slot(region, index);
    if s.epoch.load(Ordering::Acquire) != 0 {
        region.meta(F_CRASH_SEEN).store(1, Ordering::Release);
    }
    s.epoch.store(0, Ordering::Release);
    // Only the exact dead identity is replaced; a slot re-claimed meanwhile keeps its owner.
    s.owner
        .compare_exchange(owner, 0, Ordering::AcqRel, Ordering::Relaxed)
        .is_ok()
}

/// Reaps every slot of a dead process that is pinned at or below `limit` (all dead slots
/// when `limit` is `u64::MAX`). Returns how many were reaped.
pub fn reap_dead(region: &Region, limit: u64) -> u64 {
    let mut reaped = 0;
    for index in 0..high_water(region) {
        let s = slot(region, index);
        let owner = s.owner.load(Ordering::Acquire);
        if owner == 0 {
            continue;
        }
        let epoch = s.epoch.load(Ordering::Acquire);
        let blocking = epoch != 0 && epoch <= limit;
        if (blocking || limit == u64::MAX) && reap_if_dead(region, index, owner) {
            reaped += 1;
        }
    }
    reaped
}

/// The oldest epoch any live reader is pinned at, ignoring (and reaping) dead readers that
/// would otherwise hold back blocks retired at or before `limit`. `u64::MAX` if none.
pub fn oldest_pinned(region: &Region, me: OwnerWord, limit: u64) -> u64 {
    let mut oldest = u64::MAX;
    for index in 0..high_water(region) {
        let s = slot(region, index);
        let epoch = s.epoch.load(Ordering::SeqCst);
        if epoch == 0 {
            continue;
        }
        if epoch <= limit {
            let owner = s.owner.load(Ordering::Acquire);
            // Our own process is alive by definition: skip the /proc lookup.
            if owner != me.0 && reap_if_dead(region, index, owner) {
                continue;
            }
        }
        oldest = oldest.min(epoch);
    }
    oldest
}

/// (pinned readers, oldest pinned epoch) for statistics; does not reap.
pub fn census(region: &Region) -> (u64, Option<u64>) {
    let mut pinned = 0;
    let mut oldest = None::<u64>;
    for index in 0..high_water(region) {
        let s = slot(region, index);
        let epoch = s.epoch.load(Ordering::Acquire);
        if epoch != 0 && s.owner.load(Ordering::Acquire) != 0 {
            pinned += 1;
            oldest = Some(oldest.map_or(epoch, |o| o.min(epoch)));
        }
    }
    (pinned, oldest)
}

/// Every claimed slot as (index, owner, pinned epoch or 0), for statistics; does not reap.
pub fn claimed(region: &Region) -> Vec<(u64, OwnerWord, u64)> {
    (0..high_water(region))
        .filter_map(|index| {
            let s = slot(region, index);
            let owner = s.owner.load(Ordering::Acquire);
            let epoch = s.epoch.load(Ordering::Acquire);
            (owner != 0).then_some((index, OwnerWord(owner), epoch))
        })
        .collect()
}

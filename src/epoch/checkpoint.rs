//! Checkpoints: where durability and reclamation meet.
//!
//! A checkpoint makes the current value of every typed root durable and records it as that
//! root's *synced value* (the fallback of a recovery after a power loss, see
//! `slab::durable`), and it is the only place where a slab on disk frees retired blocks.
//!
//! Why frees wait for a checkpoint: a node's seal (`alloc::seal`) proves that a block holds
//! the node some version wrote there, but a block freed and reused before its free header
//! reached the disk may still hold, on disk, its previous node — whole and matching its
//! seal. After a power loss, an unsynced commit whose new node there never reached the
//! disk would then look whole. So a checkpoint detaches the blocks it frees (writes their
//! free headers) *before* its `fdatasync` and hands them to the free lists only after it:
//! every block that is reused is known to read, on disk, as free or as its new contents.
//!
//! Only one process runs a checkpoint at a time: the holder of the *sync role* (an owner
//! word in the header; a dead holder's role is taken over). Durable commits share one:
//! each takes a ticket after its CAS, and whoever holds the role covers every ticket issued
//! before it read the roots (group commit across processes).

use super::retire::{self, ReclaimReport};
use crate::alloc::Allocator;
use crate::error::{Error, ErrorKind, Result};
use crate::slab::header::{
    F_CRASH_SEEN, F_GLOBAL_EPOCH, F_SYNC_DONE, F_SYNC_FLOOR, F_SYNC_OWNER, F_SYNC_TICKETS,
    READER_TABLE_OFFSET, ROOT_COUNT, ROOT_ENTRY_SIZE, ROOT_F_SEAL, ROOT_F_STATE, ROOT_F_SYNCED,
    ROOT_F_VALUE, ROOT_STATE_READY, ROOT_TABLE_OFFSET,
};
use crate::slab::process::{self, OwnerWord};
use crate::slab::Region;
use std::sync::atomic::Ordering;

/// Returns once every root published before this call is on disk. Each caller takes a
/// ticket after its CAS; whoever holds the sync role runs one checkpoint for all tickets
/// issued so far, so writers committing together share one disk write.
pub fn sync_roots(region: &Region, me: OwnerWord) -> Result<()> {
    let tickets = region.meta(F_SYNC_TICKETS);
    let done = region.meta(F_SYNC_DONE);
    // SeqCst: the ticket is ordered after our root CAS, so a sync that covers the ticket
    // starts after the root holds our value.
    let mine = tickets.fetch_add(1, Ordering::SeqCst) + 1;
    let mut spins = 0u32;
    let mut stuck = StuckHolder::new(DURABLE_COMMIT_PATIENCE);
    loop {
        let covered = done.load(Ordering::Acquire);
        if covered >= mine {
            return Ok(());
        }
        if try_sync_role(region, me) {
            // Every ticket issued so far belongs to a root already in memory, and the
            // checkpoint reads the roots after this load.
            let covered = tickets.load(Ordering::SeqCst);
            let result = checkpoint_as_owner(region, me, Freeing::BelowFloor);
            if result.is_ok() {
                done.fetch_max(covered, Ordering::AcqRel);
            }
            region.meta(F_SYNC_OWNER).store(0, Ordering::Release);
            result?;
            continue;
        }
        stuck.check(region, covered)?;
        spins += 1;
        if spins < 64 {
            std::hint::spin_loop();
        } else {
            std::thread::sleep(std::time::Duration::from_micros(20));
        }
    }
}

/// How long a durable commit waits for a sync role holder that makes no progress, and how
/// long `Slab::reclaim` waits for the role. A live holder is normally in the middle of a
/// checkpoint; one that stays for this long is stopped, or its owner word is damaged (a
/// small number passes for a live process whose start time could not be read).
const DURABLE_COMMIT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);
const RECLAIM_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// Notices a sync role held by the same owner word, with no checkpoint finishing, for
/// longer than its patience.
struct StuckHolder {
    patience: std::time::Duration,
    seen: (u64, u64),
    since: std::time::Instant,
}

impl StuckHolder {
    fn new(patience: std::time::Duration) -> StuckHolder {
        StuckHolder {
            patience,
            seen: (0, 0),
            since: std::time::Instant::now(),
        }
    }

    /// `progress`: a number that moves when a checkpoint finishes.
    fn check(&mut self, region: &Region, progress: u64) -> Result<()> {
        let holder = region.meta(F_SYNC_OWNER).load(Ordering::Acquire);
        if (holder, progress) != self.seen {
            self.seen = (holder, progress);
            self.since = std::time::Instant::now();
            return Ok(());
        }
        if self.since.elapsed() < self.patience {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Busy,
            format!(
                "{}: the sync role has been held by process {} for {} s without a checkpoint finishing (stopped, or the word is damaged)",
                region.name(),
                OwnerWord(holder).pid(),
                self.patience.as_secs()
            ),
        ))
    }
}

/// Takes the sync role for `me` if it is free (or its holder died). Never waits.
fn try_sync_role(region: &Region, me: OwnerWord) -> bool {
    let owner = region.meta(F_SYNC_OWNER);
    let holder = owner.load(Ordering::Acquire);
    let free = holder == 0 || !process::is_alive(OwnerWord(holder));
    // AcqRel: acquires what the previous holder wrote (its synced words and free lists)
    // and orders our checkpoint after the hand-over.
    free && owner
        .compare_exchange(holder, me.0, Ordering::AcqRel, Ordering::Relaxed)
        .is_ok()
}

/// What a checkpoint frees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freeing {
    /// Nothing (the sweep frees by rebuilding the free lists).
    Nothing,
    /// The records stamped below the floor the last checkpoint left: free with the one
    /// `fdatasync` the checkpoint makes anyway (a durable commit's, or the commit path's
    /// past the backlog).
    BelowFloor,
    /// Every record no reader holds, the ones stamped since the last checkpoint included,
    /// at the cost of a second `fdatasync` (`Slab::reclaim`).
    All,
}

/// Runs a checkpoint if the sync role is free (`wait`: waiting for it). Returns what it
/// freed, or `None` if no checkpoint ran.
pub fn checkpoint(
    region: &Region,
    me: OwnerWord,
    wait: bool,
    freeing: Freeing,
) -> Result<Option<ReclaimReport>> {
    with_sync_role(region, me, wait, || {
        checkpoint_as_owner(region, me, freeing)
    })
}

/// In a slab that never had a checkpoint: frees at once every retired block no reader
/// holds. Such a slab has no synced values, so nothing is promised after a power loss
/// beyond what validation finds, and there is no reason to sync before reuse. Holding the
/// sync role keeps the first checkpoint from starting meanwhile: every block freed here
/// has its free header in memory before that checkpoint's `fdatasync`. Returns `None` if a
/// checkpoint ran before (the floor is set) or, without `wait`, if the role is busy.
pub fn free_before_first_checkpoint(
    region: &Region,
    me: OwnerWord,
    wait: bool,
) -> Result<Option<ReclaimReport>> {
    with_sync_role(region, me, wait, || {
        if region.sync_floor() != 0 {
            return Ok(None);
        }
        let (detached, report, _) = retire::take_due(region, me, u64::MAX, true)?;
        Allocator::new(region).attach(&detached)?;
        Ok(Some(report))
    })
    .map(Option::flatten)
}

/// Runs `work` holding the sync role, if it is free (`wait`: waiting for it).
fn with_sync_role<T>(
    region: &Region,
    me: OwnerWord,
    wait: bool,
    work: impl FnOnce() -> Result<T>,
) -> Result<Option<T>> {
    let mut stuck = StuckHolder::new(RECLAIM_PATIENCE);
    loop {
        if try_sync_role(region, me) {
            let result = work();
            region.meta(F_SYNC_OWNER).store(0, Ordering::Release);
            return result.map(Some);
        }
        if !wait {
            return Ok(None);
        }
        stuck.check(region, region.meta(F_SYNC_DONE).load(Ordering::Acquire))?;
        std::thread::sleep(std::time::Duration::from_micros(50));
    }
}

/// The checkpoint itself; the caller holds the sync role (or the slab exclusively).
///
/// 1. Raise the floor from 0 to the current epoch if no checkpoint ran before, then read
///    the floor `f`, the epoch `e` and the value `v` of every typed root, all `SeqCst`. A
///    block reachable from `v` is retired only by a CAS that replaces `v`, hence after our
///    load of `v` in the single total order of `SeqCst` operations; the record that holds
///    it is stamped by a `fetch_add` after that CAS, so its stamp is `>= e`.
/// 2. (`BelowFloor`) Detach the blocks of the records stamped below `f` and below every
///    pinned epoch. They hold no block of any `v` (stamps `>= e >= f`) nor of the synced
///    values recorded by the last checkpoint (which raised the floor to `f` after reading
///    them), and no reader can reach them.
/// 3. `fdatasync`: every block reachable from each `v` was written (in memory, by
///    whichever process) before the CAS that published `v`, which happened before our
///    load; the file's dirty pages at the call include them, and the free headers of 2.
/// 4. Attach the detached blocks to the free lists: they may be reused now.
/// 5. Store each `v` as the root's synced value and write the root table back (`msync`,
///    waiting for the disk). Only then is `v` a fallback on disk.
/// 6. Raise the floor to `e`: records stamped before `e` hold no block of the new synced
///    values.
/// 7. (`All`) As 2–4 with the floor `e`: detach what is stamped below `e` and every
///    pinned epoch, `fdatasync`, attach.
fn checkpoint_as_owner(region: &Region, me: OwnerWord, freeing: Freeing) -> Result<ReclaimReport> {
    let floor = region.meta(F_SYNC_FLOOR);
    let epoch = region.meta(F_GLOBAL_EPOCH);
    let first = epoch.load(Ordering::SeqCst);
    let _ = floor.compare_exchange(0, first, Ordering::SeqCst, Ordering::SeqCst);
    let f = floor.load(Ordering::SeqCst);
    let e = epoch.load(Ordering::SeqCst);
    let mut values = Vec::new();
    for index in 0..ROOT_COUNT {
        let entry = ROOT_TABLE_OFFSET + index * ROOT_ENTRY_SIZE;
        // Acquire on the state: a ready entry's seal (and kind) are then visible.
        if region.meta(entry + ROOT_F_STATE).load(Ordering::Acquire) != ROOT_STATE_READY {
            continue;
        }
        let kind = region.meta(entry + ROOT_F_SEAL).load(Ordering::Acquire) & 0xFFFF;
        if kind == 0 {
            continue; // a raw root: application data, never followed or synced
        }
        let value = region.meta(entry + ROOT_F_VALUE).load(Ordering::SeqCst);
        values.push((entry, value));
    }
    let mut report = if freeing == Freeing::BelowFloor {
        free_below(region, me, f)?
    } else {
        region.sync_data()?;
        ReclaimReport::default()
    };
    for &(entry, value) in &values {
        // Relaxed: the msync below is what publishes it (to the disk); other processes read
        // synced values only in a sweep, under the exclusive session lock.
        // Bit 0: a synced value is set; bit 1: a checkpoint recorded it.
        region
            .meta(entry + ROOT_F_SYNCED)
            .store(value | 0b11, Ordering::Relaxed);
    }
    let table_len = READER_TABLE_OFFSET - ROOT_TABLE_OFFSET;
    region.sync_ranges(&mut [(ROOT_TABLE_OFFSET, table_len)])?;
    // SeqCst: never lowers the floor; read by the next checkpoint (step 1).
    floor.fetch_max(e, Ordering::SeqCst);
    if freeing == Freeing::All {
        report = free_below(region, me, e)?;
    }
    Ok(report)
}

/// Detaches the blocks of the records stamped below `floor` and every pinned epoch, makes
/// everything written so far durable, and attaches them.
fn free_below(region: &Region, me: OwnerWord, floor: u64) -> Result<ReclaimReport> {
    let (detached, report, _) = retire::take_due(region, me, floor, true)?;
    if let Err(e) = region.sync_data() {
        if !detached.is_empty() {
            // Their free headers may not be on disk, so they must not be reused: they
            // stay out of every list until a sweep, which the crash flag asks for.
            region.meta(F_CRASH_SEEN).store(1, Ordering::Release);
        }
        return Err(e);
    }
    Allocator::new(region).attach(&detached)?;
    Ok(report)
}

/// Frees the sync role whoever holds it. Only for the sweep, which has the slab to itself:
/// any holder is a process that died, or a damaged word.
pub fn clear_sync_role(region: &Region) {
    region.meta(F_SYNC_OWNER).store(0, Ordering::Release);
}

//! Retirement records: the shared-memory lists of blocks waiting for readers to move on.
//!
//! A record is an ordinary block of kind `RETIRED`:
//!
//! | payload offset | field                                        |
//! |----------------|----------------------------------------------|
//! | 0              | next record in the list (0 ends it)          |
//! | 8              | epoch stamped at retirement                  |
//! | 16             | number of retired block offsets that follow  |
//! | 24             | the offsets, 8 bytes each                    |
//!
//! The list head is a word in the header. Pushing is a CAS loop; taking is a `swap` of the
//! whole list with 0, so a reclaimer owns what it took and no pop can suffer ABA. A
//! reclaimer that dies holding a taken list only leaks it: the blocks are unreachable from
//! every root and the next sweep frees them.

use super::checkpoint::{self, Freeing};
use super::registry;
use crate::alloc::{kind, Allocator, Detached, BLOCK_HEADER_SIZE};
use crate::error::Result;
use crate::slab::header::{
    F_GLOBAL_EPOCH, F_RETIRED_BLOCKS, F_RETIRED_BYTES, F_RETIRED_HEAD, F_RETIRED_KEPT,
};
use crate::slab::process::OwnerWord;
use crate::slab::Region;
use std::sync::atomic::{fence, Ordering};

const R_NEXT: u64 = BLOCK_HEADER_SIZE;
const R_EPOCH: u64 = BLOCK_HEADER_SIZE + 8;
const R_COUNT: u64 = BLOCK_HEADER_SIZE + 16;
const R_BLOCKS: u64 = BLOCK_HEADER_SIZE + 24;

/// Reclamation runs on every this-many-th retirement (by epoch number), which keeps the
/// cost of scanning the registry off most commits while bounding the backlog.
const RECLAIM_EVERY: u64 = 16;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReclaimReport {
    pub freed_blocks: u64,
    pub kept_blocks: u64,
}

pub fn retire(region: &Region, blocks: &[u64], me: OwnerWord) -> Result<()> {
    if blocks.is_empty() {
        return Ok(());
    }
    let alloc = Allocator::new(region);
    let record = alloc.alloc(kind::RETIRED, 24 + 8 * blocks.len() as u64)?;
    let mut body = Vec::with_capacity(8 * blocks.len());
    for block in blocks {
        body.extend_from_slice(&block.to_le_bytes());
    }
    region.write(record + R_BLOCKS, &body)?;
    region
        .atomic(record + R_COUNT)?
        .store(blocks.len() as u64, Ordering::Relaxed);
    // The root CAS that unlinked these blocks happened before this (SeqCst) increment, so
    // every reader pinned at an epoch above `epoch` sees the new root.
    let epoch = region.meta(F_GLOBAL_EPOCH).fetch_add(1, Ordering::SeqCst);
    region
        .atomic(record + R_EPOCH)?
        .store(epoch, Ordering::Relaxed);
    push_chain(region, record, record)?;
    region
        .meta(F_RETIRED_BLOCKS)
        .fetch_add(blocks.len() as u64, Ordering::Relaxed);
    // The headers were read moments ago, by the edit that replaced these blocks.
    let bytes: u64 = blocks.iter().map(|&b| alloc.size_of(b)).sum();
    region
        .meta(F_RETIRED_BYTES)
        .fetch_add(bytes, Ordering::Relaxed);
    // A few large commits can retire a backlog's worth between two scheduled runs.
    if epoch % RECLAIM_EVERY == 0 || backlog_exceeded(region) {
        reclaim(region, me)?;
    }
    Ok(())
}

fn push_chain(region: &Region, first: u64, last: u64) -> Result<()> {
    let head = region.meta(F_RETIRED_HEAD);
    let last_next = region.atomic(last + R_NEXT)?;
    let mut current = head.load(Ordering::Acquire);
    loop {
        last_next.store(current, Ordering::Relaxed);
        match head.compare_exchange_weak(current, first, Ordering::Release, Ordering::Acquire) {
            Ok(_) => return Ok(()),
            Err(seen) => current = seen,
        }
    }
}

/// Bytes of retired blocks beyond those the last freeing checkpoint kept, before a
/// reclamation runs a checkpoint to free them: bounds the file's growth (a few large
/// B+tree nodes count as much as many small HAMT leaves) and the syncs it costs.
const FREE_BACKLOG: u64 = 1 << 20;

struct Record {
    offset: u64,
    epoch: u64,
}

/// Reclamation on the commit path (every `RECLAIM_EVERY`-th retirement, and any retirement
/// past the backlog), and `Slab::reclaim` on a slab in memory.
///
/// In a slab on disk that had a checkpoint, a block may only be reused once its free header
/// is on disk (see `alloc::seal`), so blocks are freed by checkpoints, just before an
/// `fdatasync`; here we only run one when `FREE_BACKLOG` bytes more were retired than the
/// last one that freed kept (so that blocks a stopped reader holds do not make every
/// reclamation run one); it frees what the checkpoint before it left due. A slab in memory has no
/// disk to wait for, and one that never had a checkpoint promises nothing after a power
/// loss: their blocks are freed here, as soon as no pinned reader can hold them.
pub fn reclaim(region: &Region, me: OwnerWord) -> Result<ReclaimReport> {
    if region.is_volatile() {
        let (detached, report, _) = take_due(region, me, u64::MAX, true)?;
        Allocator::new(region).attach(&detached)?;
        return Ok(report);
    }
    if region.sync_floor() == 0 {
        if let Some(report) = checkpoint::free_before_first_checkpoint(region, me, false)? {
            return Ok(report);
        }
    }
    if backlog_exceeded(region) {
        if let Some(freed) = checkpoint::checkpoint(region, me, false, Freeing::BelowFloor)? {
            return Ok(freed);
        }
    }
    Ok(ReclaimReport {
        freed_blocks: 0,
        kept_blocks: region.meta(F_RETIRED_BLOCKS).load(Ordering::Relaxed),
    })
}

/// In a slab on disk that had a checkpoint: were `FREE_BACKLOG` bytes more retired than
/// the last freeing checkpoint kept? Two loads, cheap enough for every retirement.
fn backlog_exceeded(region: &Region) -> bool {
    let retired = region.meta(F_RETIRED_BYTES).load(Ordering::Relaxed);
    let kept = region.meta(F_RETIRED_KEPT).load(Ordering::Relaxed);
    retired > kept.saturating_add(FREE_BACKLOG) && !region.is_volatile() && region.sync_floor() != 0
}

/// Takes the retirement list and detaches (see `Allocator::detach`) the blocks of every
/// record stamped below both `floor` and the oldest pinned epoch, if `detach`; puts the
/// other records back. Returns the detached blocks (the records' own blocks included),
/// what was freed and kept, and the blocks of kept records that no reader holds.
pub(super) fn take_due(
    region: &Region,
    me: OwnerWord,
    floor: u64,
    detach: bool,
) -> Result<(Vec<Detached>, ReclaimReport, u64)> {
    let mut report = ReclaimReport::default();
    let mut detached = Vec::new();
    // A read-only handle cannot announce its epoch, so while one is attached we assume it
    // could be reading anything and free nothing.
    if region.read_only_attached() {
        return Ok((detached, report, 0));
    }
    let head = region.meta(F_RETIRED_HEAD);
    let mut next = head.swap(0, Ordering::AcqRel);
    if next == 0 {
        return Ok((detached, report, 0));
    }
    // Orders the take before the registry scan (see the protocol in `epoch`).
    fence(Ordering::SeqCst);
    let mut records = Vec::new();
    while next != 0 {
        let offset = next;
        next = region.atomic(offset + R_NEXT)?.load(Ordering::Acquire);
        let epoch = region.atomic(offset + R_EPOCH)?.load(Ordering::Relaxed);
        records.push(Record { offset, epoch });
    }
    let newest = records.iter().map(|r| r.epoch).max().unwrap_or(0);
    let oldest_pinned = registry::oldest_pinned(region, me, newest);
    let limit = oldest_pinned.min(floor);
    let mut unpinned = 0u64;
    let alloc = Allocator::new(region);
    let mut kept: Vec<u64> = Vec::new();
    for record in records {
        let count = region
            .atomic(record.offset + R_COUNT)?
            .load(Ordering::Relaxed);
        if detach && record.epoch < limit {
            let body = region.bytes(record.offset + R_BLOCKS, 8 * count)?;
            let mut bytes = 0;
            for chunk in body.chunks_exact(8) {
                let block = alloc.detach(u64::from_le_bytes(chunk.try_into().unwrap()))?;
                bytes += block.size;
                detached.push(block);
            }
            // Saturating: damage could have made a header say less at retirement.
            let _ = region.meta(F_RETIRED_BYTES).fetch_update(
                Ordering::Relaxed,
                Ordering::Relaxed,
                |held| Some(held.saturating_sub(bytes)),
            );
            detached.push(alloc.detach(record.offset)?);
            region
                .meta(F_RETIRED_BLOCKS)
                .fetch_sub(count, Ordering::Relaxed);
            report.freed_blocks += count;
        } else {
            if record.epoch < oldest_pinned {
                unpinned += count;
            }
            report.kept_blocks += count;
            kept.push(record.offset);
        }
    }
    if detach {
        // Relaxed: a trigger for `reclaim`, not part of any protocol.
        let kept = region.meta(F_RETIRED_BYTES).load(Ordering::Relaxed);
        region.meta(F_RETIRED_KEPT).store(kept, Ordering::Relaxed);
    }
    if let (Some(&first), Some(&last)) = (kept.first(), kept.last()) {
        for pair in kept.windows(2) {
            region
                .atomic(pair[0] + R_NEXT)?
                .store(pair[1], Ordering::Relaxed);
        }
        push_chain(region, first, last)?;
    }
    Ok((detached, report, unpinned))
}

/// Drops the whole list without freeing anything (the sweep frees the blocks itself).
pub fn forget_all(region: &Region) {
    region.meta(F_RETIRED_HEAD).store(0, Ordering::Release);
    region.meta(F_RETIRED_BLOCKS).store(0, Ordering::Release);
    region.meta(F_RETIRED_BYTES).store(0, Ordering::Release);
    region.meta(F_RETIRED_KEPT).store(0, Ordering::Release);
}

/// The retirement records on the shared list and the blocks each one holds, read with
/// atomic loads only. Exact while no other process reclaims; a reclaimer running at the
/// same time may take records away mid-walk, which can end the walk early or make it
/// fail with `Corrupt` (a cycle, or a record that is no longer one): statistics, not
/// protocol.
pub fn records(region: &Region) -> Result<Vec<(u64, Vec<u64>)>> {
    let alloc = Allocator::new(region);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut next = region.meta(F_RETIRED_HEAD).load(Ordering::Acquire);
    while next != 0 {
        let record = next;
        if !seen.insert(record) || alloc.block_info(record)?.kind != kind::RETIRED {
            return Err(crate::error::Error::corrupt(format!(
                "{}: the retirement list leads to {record}, which is not a retirement record (or comes twice)",
                region.name()
            )));
        }
        next = region.atomic(record + R_NEXT)?.load(Ordering::Acquire);
        let count = region.atomic(record + R_COUNT)?.load(Ordering::Relaxed);
        // A record is one block: its count cannot exceed what the block holds.
        let room = alloc.block_info(record)?.size.saturating_sub(R_BLOCKS) / 8;
        let mut blocks = Vec::with_capacity(count.min(room) as usize);
        for i in 0..count.min(room) {
            blocks.push(
                region
                    .atomic(record + R_BLOCKS + 8 * i)?
                    .load(Ordering::Relaxed),
            );
        }
        out.push((record, blocks));
    }
    Ok(out)
}

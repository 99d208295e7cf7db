//! Recovery: a reachability sweep from every root that returns all other blocks to the
//! free lists. It is how memory leaked by a process killed mid-update (blocks allocated but
//! never published, retirement records taken but never freed) comes back.
//!
//! The sweep frees blocks no root reaches, including retired ones a reader elsewhere might
//! still be walking, so it only runs while the caller holds the slab exclusively: no other
//! handle, in any process. It first traces and validates everything and only then
//! rewrites the free lists, so a damaged slab is reported and left as it was.

use crate::alloc::classes::{blocks_per_page, CLASS_SIZES, PAGE_HEADER_SIZE};
use crate::alloc::{kind, Allocator, Marks, PageLayout};
use crate::epoch::Epochs;
use crate::error::{Error, Result};
use crate::root::{self, RootCell, RootKind};
use crate::slab::header::{F_ROLLBACKS, F_SWEEPS};
use crate::slab::{Region, PAGE_SIZE};
use crate::{btree, dao, hamt};
use std::sync::atomic::Ordering;

/// What a sweep found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Blocks reachable from some root.
    pub live_blocks: u64,
    pub live_bytes: u64,
    /// Blocks that were allocated but unreachable, now free.
    pub freed_blocks: u64,
    pub freed_bytes: u64,
    /// Roots set back to their last synced value because their current value did not
    /// validate (after a power loss, a commit whose root reached the disk before its
    /// blocks; or damage). Counted in `Stats::rolled_back_roots` too.
    pub rolled_back_roots: u64,
}

/// Marks every block reachable from a typed root, validating each one on the way.
pub fn mark_reachable(region: &Region) -> Result<Marks> {
    let mut marks = Marks::new(region);
    for cell in root::all(region)? {
        match cell.kind()? {
            RootKind::Raw => continue,
            RootKind::HamtMap | RootKind::HamtSet | RootKind::BTree | RootKind::Dao => {
                trace(region, &mut marks, cell.load())?;
            }
        }
    }
    Ok(marks)
}

/// Marks every block reachable from the root value `top` (0: none), validating each: its
/// header and place, its structure, and its seal (so a node torn by a power loss, or left
/// over from an earlier life of its block, is found).
fn trace(region: &Region, marks: &mut Marks, top: u64) -> Result<()> {
    let alloc = Allocator::new(region);
    let mut stack = Vec::new();
    if top != 0 {
        stack.push(top);
    }
    while let Some(block) = stack.pop() {
        let info = alloc.block_info(block)?;
        if !marks.mark(block) {
            continue;
        }
        let block_kind = info.kind;
        let is_node = matches!(block_kind, kind::HAMT_LEAF | kind::DAO_DATABASE)
            || hamt::is_node_kind(block_kind)
            || btree::is_node_kind(block_kind);
        if !is_node {
            return Err(Error::corrupt(format!(
                "{}: block {block} of kind {block_kind:#x} is reachable from a map root",
                region.name()
            )));
        }
        alloc.verify_seal(block)?;
        match block_kind {
            k if hamt::is_node_kind(k) => {
                let (leaves, nodes) = hamt::node_children(region, block)?;
                for leaf in leaves {
                    if alloc.block_info(leaf)?.kind != kind::HAMT_LEAF {
                        return Err(Error::corrupt(format!(
                            "{}: node {block} holds {leaf}, which is not a leaf",
                            region.name()
                        )));
                    }
                    if marks.mark(leaf) {
                        alloc.verify_seal(leaf)?;
                    }
                }
                stack.extend(nodes);
            }
            k if btree::is_node_kind(k) => stack.extend(btree::node_children(region, block)?),
            kind::DAO_DATABASE => stack.extend(dao::database_children(region, block)?),
            _ => {} // a HAMT leaf: no children
        }
    }
    Ok(())
}

/// Before a sweep: every typed root whose current value differs from its synced value
/// (commits since the last checkpoint) must validate; one that does not — after a power
/// loss, the root of an unsynced commit written back before its blocks — is set back to
/// its synced value, whose blocks the sync floor kept intact, if that validates. Returns
/// the roots set back, with the values they held, so that a sweep that fails afterwards
/// can leave the slab as it was. Needs the slab exclusively.
fn fall_back_to_synced(region: &Region) -> Result<Vec<(RootCell<'_>, u64)>> {
    let mut rolled_back = Vec::new();
    for cell in root::all(region)? {
        if cell.kind()? == RootKind::Raw {
            continue;
        }
        let (current, synced) = (cell.load(), cell.synced());
        let Some((synced, by_checkpoint)) = synced else {
            continue;
        };
        if synced == current {
            continue;
        }
        let Err(problem) = trace(region, &mut Marks::new(region), current) else {
            continue;
        };
        // A database that no checkpoint ever covered falls back only to "empty", and only
        // when its current top block was never written (a torn first commit): damage deeper
        // in a database nothing ever synced is reported, not turned into an empty one.
        let top_written = current != 0
            && Allocator::new(region)
                .block_info(current)
                .is_ok_and(|info| info.kind != kind::FREE);
        if (!by_checkpoint && top_written)
            || trace(region, &mut Marks::new(region), synced).is_err()
        {
            undo(&rolled_back);
            return Err(problem);
        }
        cell.set_after_power_loss(synced);
        rolled_back.push((cell, current));
    }
    Ok(rolled_back)
}

fn undo(rolled_back: &[(RootCell<'_>, u64)]) {
    for (cell, value) in rolled_back {
        cell.set_after_power_loss(*value);
    }
}

/// Runs the sweep. The caller must hold the slab exclusively.
pub fn sweep(region: &Region, epochs: &Epochs) -> Result<SweepReport> {
    let rolled = fall_back_to_synced(region)?;
    let rolled_back = rolled.len() as u64;
    let marks = match mark_reachable(region) {
        Ok(marks) => marks,
        Err(e) => {
            undo(&rolled);
            return Err(e);
        }
    };
    // The rebuild below frees the blocks of every synced value the roots no longer reach
    // (the retirement records that kept them go). So first make the values the roots hold
    // now, which the marks cover, the synced ones, on disk. Only values set by a checkpoint
    // have blocks to protect; before the first one, synced values are a new database's
    // "empty".
    epochs.take_back_sync_role();
    if region.sync_floor() != 0 {
        if let Err(e) = epochs.checkpoint_keeping_retired() {
            undo(&rolled);
            return Err(e);
        }
    }
    epochs.reap_dead();
    epochs.forget_retired();
    let rebuilt = Allocator::new(region).rebuild(&marks)?;
    if !region.is_volatile() {
        // The blocks just freed may hold whole old nodes on disk: their free headers must
        // be there before anyone reuses them (see `epoch::checkpoint`).
        region.sync_data()?;
    }
    region.meta(F_SWEEPS).fetch_add(1, Ordering::AcqRel);
    region
        .meta(F_ROLLBACKS)
        .fetch_add(rolled_back, Ordering::AcqRel);
    Ok(SweepReport {
        live_blocks: rebuilt.live_blocks,
        live_bytes: rebuilt.live_bytes,
        freed_blocks: rebuilt.freed_blocks,
        freed_bytes: rebuilt.freed_bytes,
        rolled_back_roots: rolled_back,
    })
}

/// What `Slab::audit` found: every allocated block of the heap, by what holds it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Audit {
    /// Blocks reachable from some root (each validated on the way), and their bytes.
    pub reachable_blocks: u64,
    pub reachable_bytes: u64,
    /// Blocks waiting in retirement records for readers to move on, the records included.
    pub retired_blocks: u64,
    pub retired_bytes: u64,
    /// Allocated blocks that no root reaches and no retirement record holds: leaked, for
    /// example by a writer killed mid-update, or in flight in a writer that is running
    /// now. `Slab::recover` frees them.
    pub leaked_blocks: u64,
    pub leaked_bytes: u64,
    /// Heap bytes in free blocks and free pages.
    pub free_bytes: u64,
    /// Pages of the heap.
    pub pages: u64,
}

/// Classifies every block of the heap against a reachability mark and the retirement
/// records `retired` (as `epoch::Epochs::retired_records` reads them). Changes nothing.
/// Exact when no other handle writes meanwhile; with writers running, their unpublished
/// blocks count as leaked.
pub fn audit(region: &Region, retired: &[(u64, Vec<u64>)]) -> Result<Audit> {
    let marks = mark_reachable(region)?;
    let alloc = Allocator::new(region);
    let mut held = Marks::new(region);
    for (record, blocks) in retired {
        held.mark(*record);
        for &block in blocks {
            held.mark(block);
        }
    }
    let mut audit = Audit::default();
    let classify = |audit: &mut Audit, block: u64, size: u64| {
        let (blocks, bytes) = if marks.is_marked(block) {
            (&mut audit.reachable_blocks, &mut audit.reachable_bytes)
        } else if held.is_marked(block) {
            (&mut audit.retired_blocks, &mut audit.retired_bytes)
        } else {
            (&mut audit.leaked_blocks, &mut audit.leaked_bytes)
        };
        *blocks += 1;
        *bytes += size;
    };
    for page in alloc.pages()? {
        audit.pages += page.pages;
        match page.layout {
            PageLayout::Free => audit.free_bytes += page.pages * PAGE_SIZE,
            PageLayout::Extent { order } => {
                let block = page.offset + PAGE_HEADER_SIZE;
                alloc.block_info(block)?;
                classify(&mut audit, block, PAGE_SIZE << order);
            }
            PageLayout::Small { class } => {
                let size = CLASS_SIZES[class];
                let first = page.offset + PAGE_HEADER_SIZE;
                for i in 0..blocks_per_page(class) {
                    let block = first + i * size;
                    // Validates the header of every block, free or not. A block whose
                    // header was never written lies in a page a writer died while carving:
                    // nothing reaches it, and recovery makes it free again — a leak.
                    match alloc.block_info(block) {
                        Ok(info) if info.kind == kind::FREE => audit.free_bytes += size,
                        Ok(_) => classify(&mut audit, block, size),
                        Err(_) if !marks.is_marked(block) && !held.is_marked(block) => {
                            audit.leaked_blocks += 1;
                            audit.leaked_bytes += size;
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }
    Ok(audit)
}

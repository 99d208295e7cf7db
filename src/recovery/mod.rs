//! Recovery: a reachability sweep from every root that returns all other blocks to the
//! free lists. It is how memory leaked by a process killed mid-update (blocks allocated but
//! never published, retirement records taken but never freed) comes back.
//!
//! The sweep frees blocks no root reaches, including retired ones a reader elsewhere might
//! still be walking, so it only runs while the caller holds the slab exclusively: no other
//! handle, in any process. It first traces and validates everything and only then
//! rewrites the free lists, so a damaged slab is reported and left as it was.

use crate::alloc::{kind, Allocator, Marks};
use crate::epoch::Epochs;
use crate::error::{Error, Result};
use crate::root::{self, RootKind};
use crate::slab::header::F_SWEEPS;
use crate::slab::Region;
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
}

/// Marks every block reachable from a typed root, validating each one on the way.
pub fn mark_reachable(region: &Region) -> Result<Marks> {
    let alloc = Allocator::new(region);
    let mut marks = Marks::new(region);
    let mut stack = Vec::new();
    for cell in root::all(region) {
        match cell.kind()? {
            RootKind::Raw => continue,
            RootKind::HamtMap | RootKind::HamtSet | RootKind::BTree | RootKind::Dao => {
                let top = cell.load();
                if top != 0 {
                    stack.push(top);
                }
            }
        }
    }
    while let Some(block) = stack.pop() {
        let info = alloc.block_info(block)?;
        if !marks.mark(block) {
            continue;
        }
        match info.kind {
            kind::HAMT_LEAF => {}
            k if hamt::is_node_kind(k) => {
                let (leaves, nodes) = hamt::node_children(region, block)?;
                for leaf in leaves {
                    if alloc.block_info(leaf)?.kind != kind::HAMT_LEAF {
                        return Err(Error::corrupt(format!(
                            "{}: node {block} holds {leaf}, which is not a leaf",
                            region.name()
                        )));
                    }
                    marks.mark(leaf);
                }
                stack.extend(nodes);
            }
            k if btree::is_node_kind(k) => stack.extend(btree::node_children(region, block)?),
            kind::DAO_DATABASE => stack.extend(dao::database_children(region, block)?),
            other => {
                return Err(Error::corrupt(format!(
                    "{}: block {block} of kind {other:#x} is reachable from a map root",
                    region.name()
                )))
            }
        }
    }
    Ok(marks)
}

/// Runs the sweep. The caller must hold the slab exclusively.
pub fn sweep(region: &Region, epochs: &Epochs) -> Result<SweepReport> {
    let marks = mark_reachable(region)?;
    epochs.reap_dead();
    epochs.forget_retired();
    let rebuilt = Allocator::new(region).rebuild(&marks)?;
    region.meta(F_SWEEPS).fetch_add(1, Ordering::AcqRel);
    Ok(SweepReport {
        live_blocks: rebuilt.live_blocks,
        live_bytes: rebuilt.live_bytes,
        freed_blocks: rebuilt.freed_blocks,
        freed_bytes: rebuilt.freed_bytes,
    })
}

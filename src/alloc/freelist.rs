//! Lock-free free lists in shared memory (Treiber stacks).
//!
//! The head is 128 bits: the offset of the first free item and a 64-bit tag that changes on
//! every push and pop. The tag is what makes a pop safe against ABA: a process that read
//! head = (A, t) and A.next = B, and was then paused while others popped A, popped B and
//! pushed A back, finds the head at (A, t+3) and its CAS fails instead of installing the
//! stale B. A 64-bit tag cannot wrap in the life of any machine.
//!
//! The link of an item lives inside the item (`link_at` tells where), so the lists need no
//! memory of their own, and a crash at any instruction leaves each list either with or
//! without the item — never broken; an item lost that way is found again by the sweep.

use crate::error::Result;
use crate::slab::Region;
use portable_atomic::AtomicU128;
use std::sync::atomic::Ordering;

#[inline]
fn split(head: u128) -> (u64, u64) {
    (head as u64, (head >> 64) as u64)
}

#[inline]
fn join(offset: u64, tag: u64) -> u128 {
    ((tag as u128) << 64) | offset as u128
}

/// A free list whose head word sits at `head` and whose items keep their link
/// `link_offset` bytes after their own offset.
pub struct FreeList<'r> {
    pub region: &'r Region,
    pub head: &'r AtomicU128,
    pub link_offset: u64,
}

impl FreeList<'_> {
    /// Pushes the chain `first ..= last` (already linked through their link words).
    pub fn push_chain(&self, first: u64, last: u64) -> Result<()> {
        let last_link = self.region.atomic(last + self.link_offset)?;
        let mut current = self.head.load(Ordering::Acquire);
        loop {
            let (top, tag) = split(current);
            // Relaxed is enough: the Release CAS below publishes this store with the chain.
            last_link.store(top, Ordering::Relaxed);
            match self.head.compare_exchange_weak(
                current,
                join(first, tag.wrapping_add(1)),
                Ordering::Release,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(seen) => current = seen,
            }
        }
    }

    pub fn push(&self, item: u64) -> Result<()> {
        self.push_chain(item, item)
    }

    /// Pops one item, or returns `None` when the list is empty.
    pub fn pop(&self) -> Result<Option<u64>> {
        let mut current = self.head.load(Ordering::Acquire);
        loop {
            let (top, tag) = split(current);
            if top == 0 {
                return Ok(None);
            }
            // The item may be popped and rewritten by someone else between our head load and
            // this read; then the value is garbage, but the tag makes the CAS below fail.
            // Acquire pairs with the Release CAS of the push that linked it.
            let next = self
                .region
                .atomic(top + self.link_offset)?
                .load(Ordering::Acquire);
            match self.head.compare_exchange_weak(
                current,
                join(next, tag.wrapping_add(1)),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(Some(top)),
                Err(seen) => current = seen,
            }
        }
    }

    /// Empties the list without looking at its items (used by the sweep, which rebuilds
    /// every list from scratch while it holds the slab exclusively).
    pub fn reset(&self) {
        let (_, tag) = split(self.head.load(Ordering::Acquire));
        self.head
            .store(join(0, tag.wrapping_add(1)), Ordering::Release);
    }
}

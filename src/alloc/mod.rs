//! The `alloc` layer: blocks inside the slab.
//!
//! The heap (from `heap_start` to `heap_top`) is a sequence of 64 KiB pages. A page either
//! holds small blocks of one size class, or starts an extent of 2^order pages holding one
//! large block, or is free. Every page starts with a 64-byte page header and every block
//! with an 8-byte block header, so the heap can be walked without any other index — which
//! is what the recovery sweep does.
//!
//! Free small blocks sit on one lock-free list per class, free page runs on one list per
//! order; both are Treiber stacks with tagged heads (see `freelist`). New pages come from
//! bumping `heap_top`, growing the file first when needed.

pub mod classes;
mod freelist;
mod seal;

use crate::error::{Error, Result};
use crate::slab::header::{
    ALLOC_TABLE_OFFSET, CACHE_LINE, F_BLOCKS_IN_USE, F_BYTES_IN_USE, F_HEAP_TOP,
};
use crate::slab::{Region, PAGE_SIZE};
use classes::*;
mod draft;

pub use draft::Draft;
pub use freelist::FreeList;

use std::sync::atomic::Ordering;

/// Block kinds, the first byte of every block header. The registry is in FORMAT.md.
pub mod kind {
    /// A small block sitting on its class's free list.
    pub const FREE: u8 = 0;
    /// A retirement record of the epoch layer.
    pub const RETIRED: u8 = 1;
    pub const HAMT_BRANCH: u8 = 0x10;
    pub const HAMT_COLLISION: u8 = 0x11;
    pub const HAMT_LEAF: u8 = 0x12;
    pub const BTREE_LEAF: u8 = 0x20;
    pub const BTREE_BRANCH: u8 = 0x21;
    pub const DAO_DATABASE: u8 = 0x22;
    pub const BTREE_KEY: u8 = 0x23;
}

/// Bytes before a block's payload.
pub const BLOCK_HEADER_SIZE: u64 = 8;
/// Class byte of a block that is the single block of an extent.
pub const EXTENT_CLASS: u8 = 0xFF;

const PAGE_UNFORMATTED: u32 = 0;
const PAGE_SMALL: u32 = 1;
const PAGE_EXTENT: u32 = 2;
const PAGE_FREE_RUN: u32 = 3;
/// Page header fields.
const P_KIND: u64 = 0; // u32 kind, u32 class or order
const P_LEN: u64 = 8; // payload length of an extent
const P_CHECK: u64 = 16; // page offset xor PAGE_CHECK
const P_NEXT: u64 = 24; // free-run list link
const P_NONCE: u64 = 32; // random per carving of a small-block page or extent; seals cover it
const PAGE_CHECK: u64 = 0x0005_EED0_FE7E_5A1B;

/// Encodes a block header word: kind, class, the payload length of a small block (an
/// extent keeps its length in its page header) and the seal (see `seal`).
#[inline]
fn block_header(kind: u8, class: u8, payload_len: u64, seal: u32) -> u64 {
    debug_assert!(payload_len <= 0xFFFF);
    kind as u64 | (class as u64) << 8 | (payload_len & 0xFFFF) << 16 | (seal as u64) << 32
}

/// The payload length a small block's header word records (0 for an extent, whose page
/// header keeps it).
#[inline]
pub fn header_len(header: u64) -> u64 {
    (header >> 16) & 0xFFFF
}

#[inline]
fn header_seal(header: u64) -> u32 {
    (header >> 32) as u32
}

/// The header of a free small block of `class`.
#[inline]
fn free_header(class: u8) -> u64 {
    block_header(kind::FREE, class, 0, seal::FREE_MARK)
}

/// Can `header` be a block header at all? Free blocks and retirement records carry fixed
/// marks, so a header that was never written (zero) or a stray word is told apart.
#[inline]
fn header_plausible(header: u64) -> bool {
    match header as u8 {
        kind::FREE => header_seal(header) == seal::FREE_MARK && header_len(header) == 0,
        kind::RETIRED => header_seal(header) == seal::RECORD_MARK,
        _ => true,
    }
}

/// A block taken out of use whose free header is written but which is not on a free list
/// yet: `Allocator::detach` makes one, `Allocator::attach` lets it be reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detached {
    offset: u64,
    list: FreeListId,
    /// Bytes the block occupied.
    pub size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FreeListId {
    Class(usize),
    Run(usize),
}

/// What a block header says about a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    pub kind: u8,
    /// Total bytes the block occupies (for accounting).
    pub size: u64,
}

/// The allocator of one slab. Cheap to create: it is a view of the shared tables.
#[derive(Clone, Copy)]
pub struct Allocator<'r> {
    region: &'r Region,
}

impl<'r> Allocator<'r> {
    pub fn new(region: &'r Region) -> Allocator<'r> {
        Allocator { region }
    }

    fn class_list(&self, class: usize) -> FreeList<'r> {
        FreeList {
            region: self.region,
            head: self
                .region
                .meta_u128(ALLOC_TABLE_OFFSET + CACHE_LINE * class as u64),
            link_offset: BLOCK_HEADER_SIZE,
        }
    }

    fn run_list(&self, order: usize) -> FreeList<'r> {
        FreeList {
            region: self.region,
            head: self
                .region
                .meta_u128(ALLOC_TABLE_OFFSET + CACHE_LINE * (NUM_CLASSES + order) as u64),
            link_offset: P_NEXT,
        }
    }

    /// Allocates a block of `kind` with room for `len` payload bytes and returns its offset.
    /// The payload starts `BLOCK_HEADER_SIZE` bytes after the offset and is not zeroed.
    pub fn alloc(&self, kind: u8, len: u64) -> Result<u64> {
        if !self.region.is_writable() {
            return Err(self.region.read_only_error());
        }
        let total = len
            .checked_add(BLOCK_HEADER_SIZE)
            .ok_or_else(|| Error::new(crate::ErrorKind::InvalidArgument, "block too large"))?;
        // A retirement record is rewritten after allocation and never sealed; every other
        // block stays unsealed until the version holding it is sealed before publication.
        let mark = if kind == kind::RETIRED {
            seal::RECORD_MARK
        } else {
            seal::UNSEALED
        };
        let (offset, size, header) = match class_for(total) {
            Some(class) => (
                self.alloc_small(class)?,
                CLASS_SIZES[class],
                block_header(kind, class as u8, len, mark),
            ),
            None => {
                // An extent's length lives in its page header.
                let (offset, size) = self.alloc_extent(len)?;
                (offset, size, block_header(kind, EXTENT_CLASS, 0, mark))
            }
        };
        self.region.atomic(offset)?.store(header, Ordering::Relaxed);
        self.region
            .meta(F_BYTES_IN_USE)
            .fetch_add(size, Ordering::Relaxed);
        self.region
            .meta(F_BLOCKS_IN_USE)
            .fetch_add(1, Ordering::Relaxed);
        Ok(offset)
    }

    fn alloc_small(&self, class: usize) -> Result<u64> {
        let list = self.class_list(class);
        if let Some(block) = list.pop()? {
            // A damaged link must not make us write somewhere that is not a free block.
            let header = self.region.atomic(block)?.load(Ordering::Relaxed);
            if header as u8 != kind::FREE
                || ((header >> 8) & 0xFF) as usize != class
                || !header_plausible(header)
            {
                return Err(Error::corrupt(format!(
                    "{}: free list of class {class} leads to {block}, which is not a free block",
                    self.region.name()
                )));
            }
            self.check_small_position(block, header)?;
            // Sealing the block reads its page's nonce: start loading it now.
            let heap_start = self.region.geometry().heap_start;
            self.region
                .prefetch(block - (block - heap_start) % PAGE_SIZE, 1);
            return Ok(block);
        }
        // Carve a fresh page: keep its first block, give the rest to the list at once.
        let page = self.alloc_pages(0)?;
        self.write_page_header(page, PAGE_SMALL, class as u32, 0)?;
        let size = CLASS_SIZES[class];
        let count = blocks_per_page(class);
        let first = page + PAGE_HEADER_SIZE;
        if count > 1 {
            let free = free_header(class as u8);
            for i in 1..count {
                let block = first + i * size;
                self.region.atomic(block)?.store(free, Ordering::Relaxed);
                if i + 1 < count {
                    self.region
                        .atomic(block + BLOCK_HEADER_SIZE)?
                        .store(block + size, Ordering::Relaxed);
                }
            }
            list.push_chain(first + size, first + (count - 1) * size)?;
        }
        Ok(first)
    }

    fn alloc_extent(&self, len: u64) -> Result<(u64, u64)> {
        let order = order_for(len + BLOCK_HEADER_SIZE).ok_or_else(|| {
            Error::new(
                crate::ErrorKind::InvalidArgument,
                format!("block of {len} bytes is too large"),
            )
        })?;
        let page = self.alloc_pages(order)?;
        self.write_page_header(page, PAGE_EXTENT, order as u32, len)?;
        Ok((page + PAGE_HEADER_SIZE, PAGE_SIZE << order))
    }

    /// A run of 2^order pages: reused from the order's free list, or bumped off the top.
    fn alloc_pages(&self, order: usize) -> Result<u64> {
        if let Some(run) = self.run_list(order).pop()? {
            let word = self.page_word(run)?;
            let heap_start = self.region.geometry().heap_start;
            let aligned = run >= heap_start && (run - heap_start) % PAGE_SIZE == 0;
            let checked = aligned
                && self.region.atomic(run + P_CHECK)?.load(Ordering::Relaxed) == run ^ PAGE_CHECK;
            if !checked || word as u32 != PAGE_FREE_RUN || (word >> 32) as usize != order {
                return Err(Error::corrupt(format!(
                    "{}: free page list of order {order} leads to {run}, which is not a free run",
                    self.region.name()
                )));
            }
            return Ok(run);
        }
        let top = self.region.meta(F_HEAP_TOP);
        let bytes = PAGE_SIZE << order;
        let mut current = top.load(Ordering::Acquire);
        loop {
            let end = current.checked_add(bytes).ok_or_else(|| {
                Error::new(crate::ErrorKind::Full, "slab address space exhausted")
            })?;
            // Grow first, so heap_top never points past the allocated file.
            self.region.grow_to(end)?;
            match top.compare_exchange_weak(current, end, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Ok(current),
                Err(seen) => current = seen,
            }
        }
    }

    fn write_page_header(
        &self,
        page: u64,
        page_kind: u32,
        class_or_order: u32,
        len: u64,
    ) -> Result<()> {
        let r = self.region;
        r.atomic(page + P_LEN)?.store(len, Ordering::Relaxed);
        // Each carving gets its own nonce, so blocks left over from the page's last life
        // no longer match their seals (see `seal`).
        let nonce = if page_kind == PAGE_FREE_RUN {
            0
        } else {
            seal::page_nonce()
        };
        r.atomic(page + P_NONCE)?.store(nonce, Ordering::Relaxed);
        r.atomic(page + P_CHECK)?
            .store(page ^ PAGE_CHECK, Ordering::Relaxed);
        r.atomic(page + P_KIND)?.store(
            page_kind as u64 | (class_or_order as u64) << 32,
            Ordering::Release,
        );
        Ok(())
    }

    /// Returns a block to its free list at once. The block must have been allocated by
    /// `alloc`, must not be reachable by any reader (the epoch layer decides when that is
    /// true), and — in a slab on disk — must never have been sealed: a sealed node may be
    /// on disk, and its block may be reused only once its free header is (`detach`, a
    /// sync, then `attach`).
    pub fn free(&self, offset: u64) -> Result<()> {
        debug_assert!(
            self.region.is_volatile()
                || self.region.atomic(offset).is_ok_and(|word| {
                    let header = word.load(Ordering::Relaxed);
                    header as u8 == kind::RETIRED || header_seal(header) == seal::UNSEALED
                }),
            "a sealed block of a slab on disk is freed only by a checkpoint"
        );
        let detached = self.detach(offset)?;
        self.attach(&[detached])
    }

    /// Takes a block out of use: writes its free header (a free page run's header for an
    /// extent) and the accounting, but does not make it available yet.
    pub fn detach(&self, offset: u64) -> Result<Detached> {
        let header = self.region.atomic(offset)?.load(Ordering::Relaxed);
        let class = (header >> 8) as u8;
        let (size, detached) = if class == EXTENT_CLASS {
            let info = self.block_info(offset)?;
            let page = offset - PAGE_HEADER_SIZE;
            let order = (self.page_word(page)? >> 32) as usize;
            self.write_page_header(page, PAGE_FREE_RUN, order as u32, 0)?;
            (
                info.size,
                Detached {
                    offset: page,
                    list: FreeListId::Run(order),
                    size: info.size,
                },
            )
        } else {
            // Validated from the block itself, not its page header: that would cost a
            // cache line per free on the commit path. `block_info` does the full check.
            self.check_small_position(offset, header)?;
            if header as u8 == kind::FREE {
                return Err(Error::corrupt(format!(
                    "{}: block {offset} freed twice",
                    self.region.name()
                )));
            }
            self.region
                .atomic(offset)?
                .store(free_header(class), Ordering::Relaxed);
            (
                CLASS_SIZES[class as usize],
                Detached {
                    offset,
                    list: FreeListId::Class(class as usize),
                    size: CLASS_SIZES[class as usize],
                },
            )
        };
        self.region
            .meta(F_BYTES_IN_USE)
            .fetch_sub(size, Ordering::Relaxed);
        self.region
            .meta(F_BLOCKS_IN_USE)
            .fetch_sub(1, Ordering::Relaxed);
        Ok(detached)
    }

    /// The bytes a valid block occupies, from its header alone for a small block (cheap on
    /// the commit path, where the header was just read); 0 if the header is not a block's.
    pub fn size_of(&self, block: u64) -> u64 {
        let Ok(word) = self.region.atomic(block) else {
            return 0;
        };
        match ((word.load(Ordering::Relaxed) >> 8) & 0xFF) as u8 {
            EXTENT_CLASS => self.block_info(block).map_or(0, |info| info.size),
            class if (class as usize) < NUM_CLASSES => CLASS_SIZES[class as usize],
            _ => 0,
        }
    }

    /// Puts detached blocks on their free lists, where `alloc` finds them.
    pub fn attach(&self, detached: &[Detached]) -> Result<()> {
        for d in detached {
            match d.list {
                FreeListId::Class(class) => self.class_list(class).push(d.offset)?,
                FreeListId::Run(order) => self.run_list(order).push(d.offset)?,
            }
        }
        Ok(())
    }

    /// Seals `block`: computes the checksum of its payload, place and page nonce into its
    /// header. The payload must be complete and must never change again.
    pub fn seal(&self, block: u64) -> Result<()> {
        let (header, nonce, payload) = self.sealed_parts(block)?;
        let sealed = seal::compute(block, nonce, header as u32, payload);
        // Release: a process that acquires the header sees the payload it covers.
        self.region.atomic(block)?.store(
            (header & 0xFFFF_FFFF) | (sealed as u64) << 32,
            Ordering::Release,
        );
        Ok(())
    }

    /// Checks that `block` is sealed and its payload matches its seal. A mismatch means the
    /// block was torn (part of it never reached the disk before a power loss), is left over
    /// from before its page was carved again, or was damaged.
    pub fn verify_seal(&self, block: u64) -> Result<()> {
        let (header, nonce, payload) = self.sealed_parts(block)?;
        let found = header_seal(header);
        if found == seal::UNSEALED {
            return Err(Error::corrupt(format!(
                "{}: block {block} of kind {:#x} was never sealed (a commit that did not reach the disk whole, or damage)",
                self.region.name(),
                header as u8
            )));
        }
        if found != seal::compute(block, nonce, header as u32, payload) {
            return Err(Error::corrupt(format!(
                "{}: block {block} of kind {:#x} does not match its seal (torn by a power loss, or damaged)",
                self.region.name(),
                header as u8
            )));
        }
        Ok(())
    }

    /// A valid block's header, its page's nonce and its payload.
    fn sealed_parts(&self, block: u64) -> Result<(u64, u64, &'r [u8])> {
        self.block_info(block)?;
        let heap_start = self.region.geometry().heap_start;
        let page = heap_start + (block - heap_start) / PAGE_SIZE * PAGE_SIZE;
        let header = self.region.atomic(block)?.load(Ordering::Acquire);
        let nonce = self.region.atomic(page + P_NONCE)?.load(Ordering::Relaxed);
        let len = if (header >> 8) as u8 == EXTENT_CLASS {
            self.region.atomic(page + P_LEN)?.load(Ordering::Relaxed)
        } else {
            header_len(header)
        };
        Ok((
            header,
            nonce,
            self.region.bytes(block + BLOCK_HEADER_SIZE, len)?,
        ))
    }

    /// Is `header` (read at `offset`) the header of a small block at a block boundary?
    fn check_small_position(&self, offset: u64, header: u64) -> Result<()> {
        let heap_start = self.region.geometry().heap_start;
        let class = ((header >> 8) & 0xFF) as usize;
        let bad = |why: &str| {
            Err(Error::corrupt(format!(
                "{}: offset {offset} is not a small block: {why}",
                self.region.name()
            )))
        };
        if !header_plausible(header) || class >= NUM_CLASSES || offset < heap_start {
            return bad("bad header");
        }
        let in_page = (offset - heap_start) % PAGE_SIZE;
        let size = CLASS_SIZES[class];
        if in_page < PAGE_HEADER_SIZE
            || (in_page - PAGE_HEADER_SIZE) % size != 0
            || (in_page - PAGE_HEADER_SIZE) / size >= blocks_per_page(class)
        {
            return bad("not at a block boundary");
        }
        Ok(())
    }

    fn page_word(&self, page: u64) -> Result<u64> {
        Ok(self.region.atomic(page + P_KIND)?.load(Ordering::Acquire))
    }

    /// Validates that `offset` is the start of a block and reads its header. Checks the
    /// page it lies in, its alignment within that page and the header (class, length and
    /// the marks of free blocks and records), so a damaged or foreign offset is reported
    /// instead of followed. Does not check the seal (`verify_seal` does).
    pub fn block_info(&self, offset: u64) -> Result<BlockInfo> {
        let region = self.region;
        let heap_start = region.geometry().heap_start;
        let top = region.meta(F_HEAP_TOP).load(Ordering::Acquire);
        let bad = |why: &str| {
            Error::corrupt(format!(
                "{}: offset {offset} is not a block ({why})",
                region.name()
            ))
        };
        if offset < heap_start + PAGE_HEADER_SIZE || offset >= top {
            return Err(bad("outside the heap"));
        }
        let page = heap_start + (offset - heap_start) / PAGE_SIZE * PAGE_SIZE;
        let page_word = self.page_word(page)?;
        let header = region.atomic(offset)?.load(Ordering::Acquire);
        if region.atomic(page + P_CHECK)?.load(Ordering::Relaxed) != page ^ PAGE_CHECK {
            return Err(bad("page header damaged"));
        }
        if !header_plausible(header) {
            return Err(bad("block header damaged"));
        }
        let class = (header >> 8) as u8;
        match page_word as u32 {
            PAGE_SMALL => {
                let page_class = (page_word >> 32) as usize;
                if page_class >= NUM_CLASSES || class as usize != page_class {
                    return Err(bad("size class mismatch"));
                }
                let size = CLASS_SIZES[page_class];
                let index = offset - page - PAGE_HEADER_SIZE;
                if index % size != 0 || index / size >= blocks_per_page(page_class) {
                    return Err(bad("not at a block boundary"));
                }
                let len = header_len(header);
                if len + BLOCK_HEADER_SIZE > size {
                    return Err(bad("length exceeds its class"));
                }
                Ok(BlockInfo {
                    kind: header as u8,
                    size,
                })
            }
            PAGE_EXTENT if offset == page + PAGE_HEADER_SIZE && class == EXTENT_CLASS => {
                let order = page_word >> 32;
                let len = region.atomic(page + P_LEN)?.load(Ordering::Relaxed);
                if order as usize >= NUM_ORDERS
                    || len + BLOCK_HEADER_SIZE + PAGE_HEADER_SIZE > PAGE_SIZE << order
                {
                    return Err(bad("extent header damaged"));
                }
                Ok(BlockInfo {
                    kind: header as u8,
                    size: PAGE_SIZE << order,
                })
            }
            _ => Err(bad("page is not allocated")),
        }
    }

    /// Walks every page of the heap; for the sweep and for `check`.
    pub fn pages(&self) -> Result<Vec<Page>> {
        let heap_start = self.region.geometry().heap_start;
        let top = self.region.meta(F_HEAP_TOP).load(Ordering::Acquire);
        let mut pages = Vec::new();
        let mut page = heap_start;
        while page < top {
            let word = self.page_word(page)?;
            let checked =
                self.region.atomic(page + P_CHECK)?.load(Ordering::Relaxed) == page ^ PAGE_CHECK;
            let arg = (word >> 32) as usize;
            let (layout, span) = match (word as u32, checked) {
                (PAGE_SMALL, true) if arg < NUM_CLASSES => (PageLayout::Small { class: arg }, 1),
                (PAGE_EXTENT, true) if arg < NUM_ORDERS => {
                    (PageLayout::Extent { order: arg }, 1 << arg)
                }
                (PAGE_FREE_RUN, true) if arg < NUM_ORDERS => (PageLayout::Free, 1 << arg),
                // A page bumped by a process that died before formatting it.
                (PAGE_UNFORMATTED, _) => (PageLayout::Free, 1),
                _ => {
                    return Err(Error::corrupt(format!(
                        "{}: page at {page} has a damaged header",
                        self.region.name()
                    )))
                }
            };
            if page + span * PAGE_SIZE > top {
                return Err(Error::corrupt(format!(
                    "{}: run at {page} extends past the heap top",
                    self.region.name()
                )));
            }
            pages.push(Page {
                offset: page,
                pages: span,
                layout,
            });
            page += span * PAGE_SIZE;
        }
        Ok(pages)
    }

    /// Rebuilds every free list from a reachability mark: every block not marked becomes
    /// free. Only sound while this handle holds the slab exclusively (no other process, no
    /// pinned reader, no writer). Returns (blocks freed, bytes freed, blocks live, bytes live).
    pub fn rebuild(&self, marks: &Marks) -> Result<RebuildReport> {
        let pages = self.pages()?;
        for class in 0..NUM_CLASSES {
            self.class_list(class).reset();
        }
        for order in 0..NUM_ORDERS {
            self.run_list(order).reset();
        }
        let mut report = RebuildReport::default();
        let free_run = |this: &Self, page: u64, pages: u64| -> Result<()> {
            // Split into the largest aligned power-of-two runs, so they can be reused as-is.
            let mut at = page;
            let end = page + pages * PAGE_SIZE;
            while at < end {
                let mut order = ((end - at) / PAGE_SIZE).ilog2() as usize;
                order = order.min(NUM_ORDERS - 1);
                this.write_page_header(at, PAGE_FREE_RUN, order as u32, 0)?;
                this.run_list(order).push(at)?;
                at += PAGE_SIZE << order;
            }
            Ok(())
        };
        for page in pages {
            match page.layout {
                PageLayout::Free => free_run(self, page.offset, page.pages)?,
                PageLayout::Extent { order } => {
                    let block = page.offset + PAGE_HEADER_SIZE;
                    if marks.is_marked(block) {
                        report.live_blocks += 1;
                        report.live_bytes += PAGE_SIZE << order;
                    } else {
                        report.freed_blocks += 1;
                        report.freed_bytes += PAGE_SIZE << order;
                        free_run(self, page.offset, page.pages)?;
                    }
                }
                PageLayout::Small { class } => {
                    let size = CLASS_SIZES[class];
                    let first = page.offset + PAGE_HEADER_SIZE;
                    let count = blocks_per_page(class);
                    let live = (0..count)
                        .filter(|i| marks.is_marked(first + i * size))
                        .count() as u64;
                    if live == 0 {
                        let freed = self.count_allocated(first, size, count)?;
                        report.freed_blocks += freed;
                        report.freed_bytes += freed * size;
                        free_run(self, page.offset, 1)?;
                        continue;
                    }
                    report.live_blocks += live;
                    report.live_bytes += live * size;
                    let free = free_header(class as u8);
                    for i in 0..count {
                        let block = first + i * size;
                        if marks.is_marked(block) {
                            continue;
                        }
                        if !self.is_free_block(block) {
                            report.freed_blocks += 1;
                            report.freed_bytes += size;
                        }
                        let word = self.region.atomic(block)?;
                        word.store(free, Ordering::Relaxed);
                        self.class_list(class).push(block)?;
                    }
                }
            }
        }
        self.region
            .meta(F_BYTES_IN_USE)
            .store(report.live_bytes, Ordering::Release);
        self.region
            .meta(F_BLOCKS_IN_USE)
            .store(report.live_blocks, Ordering::Release);
        Ok(report)
    }

    /// Blocks of a small-block page that are not valid free blocks: allocated ones, and
    /// ones whose header a writer killed while carving the page never wrote. The sweep
    /// counts both as freed, as `recovery::audit` counts both as leaked (or retired).
    fn count_allocated(&self, first: u64, size: u64, count: u64) -> Result<u64> {
        Ok((0..count)
            .filter(|i| !self.is_free_block(first + i * size))
            .count() as u64)
    }

    /// Is `block` a valid block header saying "free"? (The audit's test for free space.)
    fn is_free_block(&self, block: u64) -> bool {
        matches!(self.block_info(block), Ok(info) if info.kind == kind::FREE)
    }
}

/// How one page (or run of pages) of the heap is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageLayout {
    Small { class: usize },
    Extent { order: usize },
    Free,
}

#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub offset: u64,
    pub pages: u64,
    pub layout: PageLayout,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RebuildReport {
    pub live_blocks: u64,
    pub live_bytes: u64,
    pub freed_blocks: u64,
    pub freed_bytes: u64,
}

/// A mark bit per 16 bytes of heap: one bit per possible block start.
pub struct Marks {
    heap_start: u64,
    bits: Vec<u64>,
}

impl Marks {
    pub fn new(region: &Region) -> Marks {
        let heap_start = region.geometry().heap_start;
        let top = region.meta(F_HEAP_TOP).load(Ordering::Acquire);
        let slots = (top - heap_start) / 16;
        Marks {
            heap_start,
            bits: vec![0; slots.div_ceil(64) as usize],
        }
    }

    fn index(&self, offset: u64) -> Option<(usize, u64)> {
        let slot = offset.checked_sub(self.heap_start)? / 16;
        let word = (slot / 64) as usize;
        (word < self.bits.len()).then_some((word, 1 << (slot % 64)))
    }

    /// Marks `offset`; returns false if it was already marked (a block reached twice).
    pub fn mark(&mut self, offset: u64) -> bool {
        match self.index(offset) {
            Some((word, bit)) => {
                let fresh = self.bits[word] & bit == 0;
                self.bits[word] |= bit;
                fresh
            }
            None => false,
        }
    }

    /// Number of marked blocks.
    pub fn count(&self) -> u64 {
        self.bits.iter().map(|w| w.count_ones() as u64).sum()
    }

    pub fn is_marked(&self, offset: u64) -> bool {
        self.index(offset)
            .is_some_and(|(word, bit)| self.bits[word] & bit != 0)
    }
}

#[cfg(test)]
mod tests;

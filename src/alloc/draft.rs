//! The blocks of a version being built beside the published one. A writer allocates the
//! new version's blocks through a `Draft`, and tells it which blocks the new version stops
//! using. A block the draft allocated itself was never seen by anyone and is freed at once;
//! a published block may still be read and is kept for retirement. Publishing hands over
//! the list to retire; dropping an unpublished draft frees everything it allocated.

use super::Allocator;
use crate::error::Result;
use crate::slab::Region;
use std::collections::HashSet;
use std::hash::Hasher;

pub struct Draft<'r> {
    alloc: Allocator<'r>,
    /// Blocks allocated by this draft and still part of it.
    fresh: HashSet<u64, OffsetHashing>,
    /// Published blocks the draft no longer uses.
    unlinked: Vec<u64>,
}

impl<'r> Draft<'r> {
    pub fn new(region: &'r Region) -> Draft<'r> {
        Draft {
            alloc: Allocator::new(region),
            fresh: HashSet::default(),
            unlinked: Vec::new(),
        }
    }

    /// Allocates a block of the draft.
    pub fn alloc(&mut self, kind: u8, len: u64) -> Result<u64> {
        let block = self.alloc.alloc(kind, len)?;
        self.fresh.insert(block);
        Ok(block)
    }

    /// Did this draft allocate `block` (so nobody else can have seen it)?
    pub fn is_fresh(&self, block: u64) -> bool {
        self.fresh.contains(&block)
    }

    /// The draft stops using `block`.
    pub fn discard(&mut self, block: u64) -> Result<()> {
        if self.fresh.remove(&block) {
            self.alloc.free(block)
        } else {
            self.unlinked.push(block);
            Ok(())
        }
    }

    /// The draft was published: its blocks belong to the new version now. Returns the
    /// published blocks it stopped using, which the caller retires.
    pub fn published(&mut self) -> Vec<u64> {
        self.fresh.clear();
        std::mem::take(&mut self.unlinked)
    }

    /// Frees everything the draft allocated; the slab is as if it never ran.
    pub fn abandon(&mut self) -> Result<()> {
        let mut first_error = None;
        for block in self.fresh.drain() {
            if let Err(e) = self.alloc.free(block) {
                first_error.get_or_insert(e);
            }
        }
        self.unlinked.clear();
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for Draft<'_> {
    fn drop(&mut self) {
        // A draft dropped without being published (an error, a lost CAS, a panic in a
        // caller's closure) must not leak what it allocated.
        let _ = self.abandon();
    }
}

/// Block offsets are distinct multiples of 16: a multiplicative hash spreads them well, and
/// the default SipHash would cost more than the rest of a small edit.
#[derive(Default)]
struct OffsetHasher(u64);

/// Builds `OffsetHasher`s: `HashSet<u64, OffsetHashing>` is a cheap set of block offsets.
/// (A type alias of the whole set would trip cbindgen, which reads every alias.)
type OffsetHashing = std::hash::BuildHasherDefault<OffsetHasher>;

impl Hasher for OffsetHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

//! The blocks of a version being built beside the published one. A writer allocates the
//! new version's blocks through a `Draft`, and tells it which blocks the new version stops
//! using. A block the draft allocated itself was never seen by anyone and is freed at once;
//! a published block may still be read and is kept for retirement. Before its publishing
//! CAS the draft is sealed (every block it allocated gets its checksum). Publishing hands
//! over the list to retire; dropping an unpublished draft frees everything it allocated.
//!
//! Once sealed, the draft's blocks may be on disk as valid nodes, so a draft whose CAS then
//! lost cannot free them at once (see `seal`): `withdraw` hands them over for retirement,
//! and a sealed draft dropped without that leaks them to the next sweep.

use super::Allocator;
use crate::error::Result;
use crate::slab::header::F_CRASH_SEEN;
use crate::slab::Region;
use std::collections::HashSet;
use std::hash::Hasher;
use std::sync::atomic::Ordering;

pub struct Draft<'r> {
    alloc: Allocator<'r>,
    /// Blocks allocated by this draft and still part of it.
    fresh: HashSet<u64, OffsetHashing>,
    /// Published blocks the draft no longer uses.
    unlinked: Vec<u64>,
    /// Were the fresh blocks sealed (so they may be on disk as whole nodes)?
    sealed: bool,
}

impl<'r> Draft<'r> {
    pub fn new(region: &'r Region) -> Draft<'r> {
        Draft {
            alloc: Allocator::new(region),
            fresh: HashSet::default(),
            unlinked: Vec::new(),
            sealed: false,
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
        debug_assert!(!self.sealed, "a sealed draft is not edited");
        if self.fresh.remove(&block) {
            self.alloc.free(block)
        } else {
            self.unlinked.push(block);
            Ok(())
        }
    }

    /// Seals every block the draft allocated; they must be complete. Called just before
    /// the publishing CAS (and before the data sync of a durable commit).
    pub fn seal(&mut self) -> Result<()> {
        self.sealed = true;
        for &block in &self.fresh {
            self.alloc.seal(block)?;
        }
        Ok(())
    }

    /// The draft was published: its blocks belong to the new version now. Returns the
    /// published blocks it stopped using, which the caller retires.
    pub fn published(&mut self) -> Vec<u64> {
        self.fresh.clear();
        self.sealed = false;
        std::mem::take(&mut self.unlinked)
    }

    /// A sealed draft that will not be published (its CAS lost, or the sync before it
    /// failed): returns the blocks it allocated, which the caller retires like replaced
    /// ones, and leaves the draft empty.
    pub fn withdraw(&mut self) -> Vec<u64> {
        self.sealed = false;
        self.unlinked.clear();
        self.fresh.drain().collect()
    }

    /// Frees everything the draft allocated; the slab is as if it never ran.
    pub fn abandon(&mut self) -> Result<()> {
        if self.sealed {
            // Only `withdraw` may let these go (see the module comment); unreachable from
            // every root, they wait for the next sweep, which a crash flag asks for.
            self.fresh.clear();
            self.unlinked.clear();
            self.sealed = false;
            self.alloc
                .region
                .meta(F_CRASH_SEEN)
                .store(1, Ordering::Release);
            return Ok(());
        }
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

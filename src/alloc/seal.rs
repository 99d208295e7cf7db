//! Block seals: a 32-bit checksum in every node's header, and the page nonces it covers.
//!
//! Nodes are immutable once published, so a seal is computed once, when the version that
//! holds the node is sealed just before its publishing CAS, and never again. Nobody checks
//! seals on the read path; `check`, `audit` and the recovery sweep do, for every block
//! they reach. That is how recovery tells a torn unsynced commit (a node half written back
//! before a power loss) from a whole one and falls back to the last checkpoint.
//!
//! A seal covers the block's offset, its header's low half (kind, class, length) and the
//! nonce of the page it lies in, besides the payload, so a node copied to another place,
//! or left over in a page from before the page was freed and carved again, does not match.
//! (A node left over in a block freed and reused within one life of its page would match;
//! the allocator rules that out by never reusing a block before its free header is on disk,
//! see `epoch::checkpoint`.)

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// Seal word of a free block. Distinguishes a free block from a header never written
/// (all zero), which the sweep and the audit count as a leak.
pub const FREE_MARK: u32 = 0xF4EE_B10C;
/// Seal word of a retirement record, which is rewritten after allocation (its link) and
/// never reachable from a root, so it carries a mark instead of a checksum.
pub const RECORD_MARK: u32 = 0x4E71_B10C;
/// Seal word of a block allocated but not yet sealed: never valid in a published version.
pub const UNSEALED: u32 = 0;

/// The seal of a block at `offset` with header low half `header_low`, in a page carved
/// with `nonce`, holding `payload`. Never `UNSEALED`.
pub fn compute(offset: u64, nonce: u64, header_low: u32, payload: &[u8]) -> u32 {
    let mut place = [0u8; 24];
    place[..8].copy_from_slice(&offset.to_le_bytes());
    place[8..16].copy_from_slice(&nonce.to_le_bytes());
    place[16..20].copy_from_slice(&header_low.to_le_bytes());
    let h = xxh3_64_with_seed(payload, xxh3_64(&place));
    match (h ^ (h >> 32)) as u32 {
        UNSEALED => 1,
        seal => seal,
    }
}

/// A fresh page nonce: random, so that a page's new life never shares one with an old
/// life whose blocks may still be on disk (a counter in the slab could roll back with a
/// power loss and hand out a value again).
pub fn page_nonce() -> u64 {
    let mut bytes = [0u8; 8];
    // SAFETY: `bytes` is a valid, writable buffer of the length passed; getrandom writes
    // at most that many bytes into it.
    let got = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if got == bytes.len() as isize {
        return u64::from_le_bytes(bytes);
    }
    // No entropy source (a very old kernel or a seccomp filter): distinct enough per
    // process and call, which is all a nonce needs.
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut seed = [0u8; 24];
    seed[..8].copy_from_slice(&now.to_le_bytes());
    seed[8..16].copy_from_slice(&(std::process::id() as u64).to_le_bytes());
    seed[16..].copy_from_slice(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    xxh3_64(&seed)
}

//! The first 4 KiB of every slab: identity, geometry, and the shared counters everything
//! else hangs off. FORMAT.md is the normative description; this file must agree with it.

use crate::error::{Error, ErrorKind, Result};
use xxhash_rust::xxh3::xxh3_64;

/// `"EVESLAB1"`: a fully initialised slab. Written last, so no process ever maps a
/// half-written header as valid.
pub const MAGIC: u64 = u64::from_le_bytes(*b"EVESLAB1");
/// `"EVEINIT\0"`: written first while a creator initialises the file. Seeing it later means
/// the creator died mid-way and the file may be initialised again.
pub const INIT_MAGIC: u64 = u64::from_le_bytes(*b"EVEINIT\0");
/// 3: root entries carry a seal (kind, name length, checksum) and a synced value; the
/// header has a sync floor and a rollback counter. 2: B+tree key slots with heads.
pub const FORMAT_VERSION: u32 = 4;

pub const HEADER_SIZE: u64 = 4096;
/// The heap is carved into pages of this size; small blocks of one size class share a page.
pub const PAGE_SIZE: u64 = 64 * 1024;
pub const CACHE_LINE: u64 = 64;

/// Fixed geometry of the metadata area.
pub const ALLOC_TABLE_OFFSET: u64 = HEADER_SIZE;
pub const ALLOC_TABLE_SIZE: u64 = 8 * 1024;
pub const ROOT_TABLE_OFFSET: u64 = ALLOC_TABLE_OFFSET + ALLOC_TABLE_SIZE;
pub const ROOT_ENTRY_SIZE: u64 = 128;
pub const ROOT_COUNT: u64 = 256;
/// Fields of a root entry (see `root`), here because the durable path of the slab layer
/// walks the table too.
pub const ROOT_F_VALUE: u64 = 0;
pub const ROOT_F_STATE: u64 = 16;
pub const ROOT_F_CLAIMER: u64 = 24;
/// kind (bits 0–15), name length (bits 16–31), checksum (bits 32–63); 0 until sealed.
pub const ROOT_F_SEAL: u64 = 32;
/// The last value known to be on disk with everything it reaches, with bit 0 set; 0 if none.
pub const ROOT_F_SYNCED: u64 = 40;
pub const ROOT_F_NAME: u64 = 48;
pub const ROOT_STATE_READY: u64 = 2;
pub const READER_TABLE_OFFSET: u64 = ROOT_TABLE_OFFSET + ROOT_ENTRY_SIZE * ROOT_COUNT;
pub const READER_SLOT_SIZE: u64 = CACHE_LINE;
pub const DEFAULT_READER_SLOTS: u64 = 1024;
pub const MAX_READER_SLOTS: u64 = 1 << 16;

// Immutable fields, covered by the header checksum.
pub const F_MAGIC: u64 = 0;
pub const F_VERSION: u64 = 8; // u32
pub const F_HEADER_SIZE: u64 = 12; // u32
pub const F_PAGE_SIZE: u64 = 16;
pub const F_ALLOC_TABLE: u64 = 24;
pub const F_ROOT_TABLE: u64 = 32;
pub const F_ROOT_COUNT: u64 = 40;
pub const F_READER_TABLE: u64 = 48;
pub const F_READER_COUNT: u64 = 56;
pub const F_HEAP_START: u64 = 64;
pub const F_CHECKSUM: u64 = 120;
const CHECKSUMMED: std::ops::Range<usize> = 8..120;

// Mutable shared words. Each group sits on its own cache line so that, for example,
// writers bumping the heap do not slow down readers loading the epoch.
/// Bytes of the file that are allocated and may be touched. Only ever grows.
pub const F_FILE_LEN: u64 = 128;
/// End of the part of the heap that has been handed out as pages.
pub const F_HEAP_TOP: u64 = 192;
/// The global epoch: starts at 1, advanced once per retirement batch.
pub const F_GLOBAL_EPOCH: u64 = 256;
/// Head of the shared stack of retirement records, and how many blocks they hold.
pub const F_RETIRED_HEAD: u64 = 320;
pub const F_RETIRED_BLOCKS: u64 = 328;
/// Bytes of the retired blocks, and what of them the last freeing checkpoint had to keep
/// (readers or the sync floor held them): the commit path runs the next checkpoint when
/// retired bytes exceed the kept ones by a backlog.
pub const F_RETIRED_BYTES: u64 = 336;
pub const F_RETIRED_KEPT: u64 = 344;
/// 1 when the last process closed the slab cleanly; 0 while in use or after a crash.
pub const F_CLEAN: u64 = 384;
/// Set when any process finds a dead participant, so the next exclusive open sweeps.
pub const F_CRASH_SEEN: u64 = 392;
/// How many recovery sweeps have run on this file.
pub const F_SWEEPS: u64 = 400;
/// Roots that a recovery sweep set back to their synced value because the current one did
/// not validate (a commit whose root reached the disk before its data).
pub const F_ROLLBACKS: u64 = 408;
/// Allocation accounting, kept exact by alloc/free and recomputed by every sweep.
pub const F_BYTES_IN_USE: u64 = 448;
pub const F_BLOCKS_IN_USE: u64 = 456;
/// One past the highest reader slot ever claimed; scans stop here.
pub const F_READERS_HIGH_WATER: u64 = 512;
/// Group commit of durable roots: tickets taken by writers waiting for their published
/// root to reach the disk, the highest ticket known durable, and the owner of the sync in
/// progress (0 when none).
pub const F_SYNC_TICKETS: u64 = 576;
pub const F_SYNC_DONE: u64 = 584;
pub const F_SYNC_OWNER: u64 = 592;
/// Retirement records stamped at or after this epoch may hold blocks of a root's synced
/// value and are not freed; 0 (no checkpoint yet) protects nothing.
pub const F_SYNC_FLOOR: u64 = 600;

/// Geometry read from (or written to) a header, trusted only after `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub reader_count: u64,
    pub heap_start: u64,
}

impl Geometry {
    pub fn new(reader_count: u64) -> Geometry {
        let metadata_end = READER_TABLE_OFFSET + READER_SLOT_SIZE * reader_count;
        Geometry {
            reader_count,
            heap_start: metadata_end.div_ceil(PAGE_SIZE) * PAGE_SIZE,
        }
    }
}

fn put_u64(buf: &mut [u8], at: u64, v: u64) {
    buf[at as usize..at as usize + 8].copy_from_slice(&v.to_le_bytes());
}

fn get_u64(buf: &[u8], at: u64) -> u64 {
    u64::from_le_bytes(buf[at as usize..at as usize + 8].try_into().unwrap())
}

fn get_u32(buf: &[u8], at: u64) -> u32 {
    u32::from_le_bytes(buf[at as usize..at as usize + 4].try_into().unwrap())
}

/// Builds the header of a new slab, with `INIT_MAGIC` in place of the final magic.
pub fn build(geometry: Geometry, file_len: u64) -> Vec<u8> {
    let mut buf = vec![0u8; HEADER_SIZE as usize];
    put_u64(&mut buf, F_MAGIC, INIT_MAGIC);
    buf[F_VERSION as usize..F_VERSION as usize + 4].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    buf[F_HEADER_SIZE as usize..F_HEADER_SIZE as usize + 4]
        .copy_from_slice(&(HEADER_SIZE as u32).to_le_bytes());
    put_u64(&mut buf, F_PAGE_SIZE, PAGE_SIZE);
    put_u64(&mut buf, F_ALLOC_TABLE, ALLOC_TABLE_OFFSET);
    put_u64(&mut buf, F_ROOT_TABLE, ROOT_TABLE_OFFSET);
    put_u64(&mut buf, F_ROOT_COUNT, ROOT_COUNT);
    put_u64(&mut buf, F_READER_TABLE, READER_TABLE_OFFSET);
    put_u64(&mut buf, F_READER_COUNT, geometry.reader_count);
    put_u64(&mut buf, F_HEAP_START, geometry.heap_start);
    let sum = xxh3_64(&buf[CHECKSUMMED]);
    put_u64(&mut buf, F_CHECKSUM, sum);
    put_u64(&mut buf, F_FILE_LEN, file_len);
    put_u64(&mut buf, F_HEAP_TOP, geometry.heap_start);
    put_u64(&mut buf, F_GLOBAL_EPOCH, 1);
    buf
}

/// Checks a header read from a file of `file_size` bytes and returns its geometry.
/// The order of checks decides the message: foreign file, then version, then damage.
pub fn validate(buf: &[u8], file_size: u64, what: &str) -> Result<Geometry> {
    if buf.len() < HEADER_SIZE as usize || file_size < HEADER_SIZE {
        return Err(Error::new(
            if file_size >= 8 && get_u64(buf, F_MAGIC) == MAGIC {
                ErrorKind::Corrupt
            } else {
                ErrorKind::NotASlab
            },
            format!(
                "{what} is {file_size} bytes, too short to be an eve slab (truncated or foreign)"
            ),
        ));
    }
    let magic = get_u64(buf, F_MAGIC);
    if magic == INIT_MAGIC {
        return Err(Error::new(
            ErrorKind::Corrupt,
            format!("{what} was never completely initialised (its creator stopped mid-way)"),
        ));
    }
    if magic != MAGIC {
        return Err(Error::new(
            ErrorKind::NotASlab,
            format!("{what} is not an eve slab (bad magic {magic:#018x})"),
        ));
    }
    let version = get_u32(buf, F_VERSION);
    if version != FORMAT_VERSION {
        return Err(Error::new(
            ErrorKind::Version,
            format!(
                "{what} has slab format version {version}; this build of eve reads version {FORMAT_VERSION}"
            ),
        ));
    }
    let sum = xxh3_64(&buf[CHECKSUMMED]);
    if sum != get_u64(buf, F_CHECKSUM) {
        return Err(Error::corrupt(format!("{what}: header checksum mismatch")));
    }
    let reader_count = get_u64(buf, F_READER_COUNT);
    let fixed_ok = get_u32(buf, F_HEADER_SIZE) as u64 == HEADER_SIZE
        && get_u64(buf, F_PAGE_SIZE) == PAGE_SIZE
        && get_u64(buf, F_ALLOC_TABLE) == ALLOC_TABLE_OFFSET
        && get_u64(buf, F_ROOT_TABLE) == ROOT_TABLE_OFFSET
        && get_u64(buf, F_ROOT_COUNT) == ROOT_COUNT
        && get_u64(buf, F_READER_TABLE) == READER_TABLE_OFFSET
        && (1..=MAX_READER_SLOTS).contains(&reader_count);
    let geometry = Geometry::new(reader_count);
    if !fixed_ok || get_u64(buf, F_HEAP_START) != geometry.heap_start {
        return Err(Error::corrupt(format!(
            "{what}: header geometry is inconsistent"
        )));
    }
    let file_len = get_u64(buf, F_FILE_LEN);
    let heap_top = get_u64(buf, F_HEAP_TOP);
    if file_len < geometry.heap_start || file_len > file_size {
        return Err(Error::corrupt(format!(
            "{what}: header says the slab is {file_len} bytes but the file has {file_size} (truncated?)"
        )));
    }
    if heap_top < geometry.heap_start
        || heap_top > file_len
        || (heap_top - geometry.heap_start) % PAGE_SIZE != 0
    {
        return Err(Error::corrupt(format!(
            "{what}: heap top {heap_top} lies outside the file"
        )));
    }
    if get_u64(buf, F_GLOBAL_EPOCH) == 0 {
        return Err(Error::corrupt(format!("{what}: global epoch is zero")));
    }
    Ok(geometry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_header_validates_once_magic_is_final() {
        let g = Geometry::new(DEFAULT_READER_SLOTS);
        let mut h = build(g, g.heap_start + PAGE_SIZE);
        let size = g.heap_start + PAGE_SIZE;
        assert_eq!(
            validate(&h, size, "t").unwrap_err().kind(),
            ErrorKind::Corrupt
        );
        put_u64(&mut h, F_MAGIC, MAGIC);
        assert_eq!(validate(&h, size, "t").unwrap(), g);
        assert_eq!(
            validate(&h, g.heap_start - 1, "t").unwrap_err().kind(),
            ErrorKind::Corrupt
        );
        h[F_VERSION as usize] = 9;
        assert_eq!(
            validate(&h, size, "t").unwrap_err().kind(),
            ErrorKind::Version
        );
    }

    #[test]
    fn heap_starts_page_aligned_after_metadata() {
        let g = Geometry::new(DEFAULT_READER_SLOTS);
        assert_eq!(g.heap_start % PAGE_SIZE, 0);
        assert!(g.heap_start >= READER_TABLE_OFFSET + READER_SLOT_SIZE * DEFAULT_READER_SLOTS);
    }
}

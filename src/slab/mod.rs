//! The `slab` layer: one file (or anonymous shared memory) mapped into the process.
//!
//! A slab is opened once per handle: the whole address range it may ever use is reserved
//! by a single `MAP_SHARED` mapping of the file, longer than the file itself. Growing the
//! slab only extends the file (with `fallocate`) and publishes the new length in the
//! header; every process already has the new bytes mapped, so nobody remaps anything.
//! Bytes past the published length are never touched, which is what keeps a full disk
//! from turning into `SIGBUS`.
//!
//! The layers above see offsets, never addresses: `Region` turns an offset into a bounded
//! slice or an atomic word, and refuses offsets outside the file.

mod durable;
pub mod file;
pub mod header;
pub mod process;

use crate::error::{Error, ErrorKind, Result};
use file::Lock;
use header::*;
use memmap2::{MmapOptions, MmapRaw};
use std::fs::File;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

pub use header::{PAGE_SIZE, ROOT_COUNT};

/// Byte of the file whose OFD lock marks a live session: every handle holds it shared; an
/// exclusive hold means "no other handle in any process", which is what creation and the
/// recovery sweep need.
const SESSION_LOCK_BYTE: u64 = 0;
/// Byte held shared by read-only handles. They cannot publish a reader epoch (their
/// mapping is not writable), so while one is attached nothing retired is freed.
const READ_ONLY_LOCK_BYTE: u64 = 1;

const DEFAULT_RESERVATION: u64 = 1 << 40;
const MIN_RESERVATION: u64 = 1 << 30;
const INITIAL_HEAP: u64 = 16 * PAGE_SIZE;
const GROWTH_STEP_MIN: u64 = 1 << 20;
const GROWTH_STEP_MAX: u64 = 1 << 30;

/// How to open a slab.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Map without write permission. Reads stay zero-copy; every write is refused.
    pub read_only: bool,
    /// Create the file when it does not exist (ignored for read-only opens).
    pub create: bool,
    /// Upper bound on the slab size in bytes, i.e. the address range reserved in this
    /// process. 0 picks 1 TiB (or less if the address space is smaller).
    pub max_size: u64,
    /// Number of reader slots (one per concurrently reading thread across all processes)
    /// in a newly created slab. Ignored when joining an existing slab.
    pub reader_slots: u32,
    /// Permission bits of a file this open creates (the process umask still applies).
    /// The default, 0o600, lets only its owner read or write it: whoever can write a slab
    /// can change its data. Ignored when the file exists.
    pub mode: u32,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions {
            read_only: false,
            create: true,
            max_size: 0,
            reader_slots: DEFAULT_READER_SLOTS as u32,
            mode: 0o600,
        }
    }
}

/// What happened while opening, which the owner of the handle must act on.
#[derive(Debug, Clone, Copy)]
pub struct OpenState {
    /// This handle holds the session lock exclusively: no other handle exists anywhere.
    pub exclusive: bool,
    /// The slab was not closed cleanly (or a dead participant was seen) and should be swept.
    pub needs_sweep: bool,
    pub created: bool,
    /// The file was shorter than its header says after a power loss and was grown back
    /// from this length (see `header_ahead_after_power_loss`); the sweep must succeed,
    /// else `abandon` cuts it back.
    pub regrown_from: Option<u64>,
}

/// A mapped slab. Shared by all threads of the handle that opened it.
pub struct Region {
    // Kept for its Drop (munmap); all access goes through `base`.
    _map: MmapRaw,
    base: *mut u8,
    reservation: u64,
    file: File,
    writable: bool,
    geometry: Geometry,
    name: String,
    /// The pid whose open file description backs `file`'s locks (see `own_description`).
    lock_owner_pid: Mutex<i32>,
    /// Set when recovery on open failed: closing must then not mark the slab clean.
    abandoned: std::sync::atomic::AtomicBool,
    /// In memory only (a memfd, or a file on tmpfs): no power loss can leave part of it.
    volatile: bool,
}

// SAFETY: `base` points into a MAP_SHARED mapping that lives as long as `Region`; all shared
// mutable state in it is accessed through atomics, and immutable published blocks are only
// read. Sharing the region between threads is therefore no different from sharing it
// between processes, which the whole design is built for.
unsafe impl Send for Region {}
// SAFETY: see `Send` above.
unsafe impl Sync for Region {}

impl Region {
    /// Opens (or creates) the slab in the file at `path`.
    pub fn open_file(path: &Path, options: &OpenOptions) -> Result<(Region, OpenState)> {
        use std::os::unix::fs::OpenOptionsExt;
        let name = path.display().to_string();
        if options.mode & !0o777 != 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "mode {:#o} has bits beyond the permission bits 0o777",
                    options.mode
                ),
            ));
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(!options.read_only)
            .create(options.create && !options.read_only)
            .mode(options.mode)
            .open(path)
            .map_err(|e| Error::from_io(format_args!("opening {name}"), e))?;
        if !file
            .metadata()
            .map_err(|e| Error::from_io(format_args!("fstat {name}"), e))?
            .is_file()
        {
            return Err(Error::new(
                ErrorKind::NotASlab,
                format!("{name} is not a regular file"),
            ));
        }
        Region::open_on(file, name, options)
    }

    /// Creates a slab in anonymous shared memory. Children `fork`ed after this call share it.
    pub fn anonymous(options: &OpenOptions) -> Result<(Region, OpenState)> {
        let mut options = options.clone();
        options.read_only = false;
        Region::open_on(file::memfd()?, "anonymous slab".to_string(), &options)
    }

    fn open_on(file: File, name: String, options: &OpenOptions) -> Result<(Region, OpenState)> {
        let writable = !options.read_only;
        // Creation and joining race safely through the session lock: whoever gets it
        // exclusively may initialise (or recover) the file; everyone else waits for a
        // shared hold, which the initialiser only grants after writing the magic.
        for _attempt in 0..64 {
            let exclusive = writable
                && file::lock_byte(&file, SESSION_LOCK_BYTE, Lock::Exclusive, false)
                    .map_err(|e| Error::from_io(format_args!("locking {name}"), e))?;
            if !exclusive {
                file::lock_byte(&file, SESSION_LOCK_BYTE, Lock::Shared, true)
                    .map_err(|e| Error::from_io(format_args!("locking {name}"), e))?;
            }
            // The header before the size: a growth raises the header's length only after
            // its fallocate, so a size read after the header covers the length it holds.
            let mut head = vec![0u8; HEADER_SIZE as usize];
            let got = file::read_at(&file, 0, &mut head)
                .map_err(|e| Error::from_io(format_args!("reading {name}"), e))?;
            let mut size = file
                .metadata()
                .map_err(|e| Error::from_io(format_args!("fstat {name}"), e))?
                .len();
            let magic = u64::from_le_bytes(head[..8].try_into().unwrap());
            let uninitialised = size == 0 || (got >= 8 && magic == INIT_MAGIC);
            if uninitialised && !exclusive {
                if !writable {
                    return Err(Error::new(
                        ErrorKind::NotASlab,
                        format!("{name} is empty or not yet initialised"),
                    ));
                }
                // Someone else is (or was) creating it; let go and try again.
                file::lock_byte(&file, SESSION_LOCK_BYTE, Lock::Unlock, false)
                    .map_err(|e| Error::from_io(format_args!("unlocking {name}"), e))?;
                std::thread::sleep(std::time::Duration::from_millis(1));
                continue;
            }
            let mut regrown_from = None;
            if exclusive && !uninitialised && header_ahead_after_power_loss(&head[..got], size) {
                // A growth's header page reached the disk before the new file length did
                // (a power loss between them). Grow the file again: the pages that come
                // back read as zeros, i.e. unformatted, which the sweep (forced below)
                // treats as free, and it refuses the slab if anything reachable was there.
                let len = u64::from_le_bytes(
                    head[F_FILE_LEN as usize..F_FILE_LEN as usize + 8]
                        .try_into()
                        .unwrap(),
                );
                file::allocate(&file, &name, size, len - size)?;
                regrown_from = Some(size);
                size = len;
            }
            // If opening fails after growing the file back, leave it as it was found.
            let cut_back = |file: &File| {
                if let Some(len) = regrown_from {
                    let _ = file.set_len(len);
                }
            };
            let (geometry, created) = if uninitialised {
                (initialise(&file, &name, options)?, true)
            } else {
                match validate(&head[..got], size, &name) {
                    Ok(geometry) => (geometry, false),
                    Err(e) => {
                        cut_back(&file);
                        return Err(e);
                    }
                }
            };
            if !writable {
                file::lock_byte(&file, READ_ONLY_LOCK_BYTE, Lock::Shared, true)
                    .map_err(|e| Error::from_io(format_args!("locking {name}"), e))?;
            }
            let spare = match regrown_from {
                Some(_) => file.try_clone().ok(),
                None => None,
            };
            let region = match Region::map(file, name, writable, geometry, options.max_size) {
                Ok(region) => region,
                Err(e) => {
                    if let Some(spare) = &spare {
                        cut_back(spare);
                    }
                    return Err(e);
                }
            };
            let needs_sweep = exclusive
                && !created
                && (regrown_from.is_some()
                    || region.meta(F_CLEAN).load(Ordering::Acquire) != 1
                    || region.meta(F_CRASH_SEEN).load(Ordering::Acquire) != 0);
            return Ok((
                region,
                OpenState {
                    exclusive,
                    needs_sweep,
                    created,
                    regrown_from,
                },
            ));
        }
        Err(Error::new(
            ErrorKind::Busy,
            format!("{name}: gave up waiting for another process to finish creating it"),
        ))
    }

    fn map(
        file: File,
        name: String,
        writable: bool,
        geometry: Geometry,
        max_size: u64,
    ) -> Result<Region> {
        let file_len = file
            .metadata()
            .map_err(|e| Error::from_io(format_args!("fstat {name}"), e))?
            .len();
        let mut reservation = if max_size == 0 {
            DEFAULT_RESERVATION
        } else {
            max_size
        };
        reservation = reservation.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        if reservation < file_len {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{name} is {file_len} bytes, larger than max_size {reservation}"),
            ));
        }
        let volatile = file::in_memory(&file);
        loop {
            let mut mmap_options = MmapOptions::new();
            mmap_options.len(reservation as usize);
            let mapped = if writable {
                mmap_options.map_raw(&file)
            } else {
                mmap_options.map_raw_read_only(&file)
            };
            match mapped {
                Ok(map) => {
                    let base = map.as_mut_ptr();
                    return Ok(Region {
                        _map: map,
                        base,
                        reservation,
                        file,
                        writable,
                        geometry,
                        name,
                        // SAFETY: getpid has no preconditions.
                        lock_owner_pid: Mutex::new(unsafe { libc::getpid() }),
                        abandoned: std::sync::atomic::AtomicBool::new(false),
                        volatile,
                    });
                }
                // Without an explicit bound, settle for a smaller reservation on machines
                // with a small address space (or an address-space rlimit).
                Err(_) if max_size == 0 && reservation / 2 >= MIN_RESERVATION.max(file_len) => {
                    reservation /= 2;
                }
                Err(e) => {
                    return Err(Error::from_io(
                        format_args!("mapping {reservation} bytes of {name}"),
                        e,
                    ))
                }
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Does the slab live in memory only (a memfd or tmpfs), so that nothing it holds
    /// survives a power loss and writeback order does not matter?
    pub fn is_volatile(&self) -> bool {
        self.volatile
    }

    pub fn is_writable(&self) -> bool {
        self.writable
    }

    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    pub fn reservation(&self) -> u64 {
        self.reservation
    }

    pub fn read_only_error(&self) -> Error {
        Error::new(
            ErrorKind::ReadOnly,
            format!("{} is open read-only", self.name),
        )
    }

    /// Bytes of the file currently allocated and safe to touch.
    #[inline(always)]
    pub fn file_len(&self) -> u64 {
        // Acquire pairs with the Release in `grow_to`: once the new length is seen, the
        // fallocate that backs it has completed.
        self.meta(F_FILE_LEN).load(Ordering::Acquire)
    }

    /// An atomic word of the metadata area (header, allocator and root tables, reader slots).
    /// Callers pass offsets derived from the fixed geometry, never from data in the slab.
    #[inline]
    pub fn meta(&self, offset: u64) -> &AtomicU64 {
        assert!(offset % 8 == 0 && offset + 8 <= self.geometry.heap_start);
        // SAFETY: the metadata area lies below heap_start, which `validate` checked to be
        // inside the file; the offset is 8-aligned and the mapping lives as long as self.
        unsafe { &*(self.base.add(offset as usize) as *const AtomicU64) }
    }

    /// A 16-byte atomic in the metadata area (allocator free-list heads).
    #[inline]
    pub fn meta_u128(&self, offset: u64) -> &portable_atomic::AtomicU128 {
        assert!(offset % 16 == 0 && offset + 16 <= self.geometry.heap_start);
        // SAFETY: as in `meta`, with 16-byte alignment checked for the 128-bit CAS.
        unsafe { &*(self.base.add(offset as usize) as *const portable_atomic::AtomicU128) }
    }

    /// Fails unless `[offset, offset + len)` lies inside the allocated file.
    #[inline(always)]
    pub fn check(&self, offset: u64, len: u64) -> Result<()> {
        match offset.checked_add(len) {
            Some(end) if end <= self.file_len() && offset >= HEADER_SIZE => Ok(()),
            _ => Err(self.out_of_bounds(offset, len)),
        }
    }

    // Kept out of line so that the checks on the read path stay a compare and a branch.
    #[cold]
    #[inline(never)]
    fn out_of_bounds(&self, offset: u64, len: u64) -> Error {
        Error::corrupt(format!(
            "{}: offset {offset} (+{len} bytes) lies outside the slab",
            self.name
        ))
    }

    #[cold]
    #[inline(never)]
    fn misaligned(&self, offset: u64) -> Error {
        Error::corrupt(format!("{}: misaligned word offset {offset}", self.name))
    }

    /// Borrows bytes of a *published, immutable* block. Blocks reachable from a pinned
    /// snapshot are never written or freed while the pin lasts, which is what makes
    /// handing out a shared slice sound.
    #[inline(always)]
    pub fn bytes(&self, offset: u64, len: u64) -> Result<&[u8]> {
        self.check(offset, len)?;
        // SAFETY: the range is inside the mapped, allocated file (checked above); the
        // epoch protocol guarantees nobody writes it while the caller's pin lives.
        Ok(unsafe { std::slice::from_raw_parts(self.base.add(offset as usize), len as usize) })
    }

    /// Asks the CPU to start loading `lines` cache lines from `offset` into cache. A hint
    /// only: nothing is read or checked, and nothing happens if the range is not mapped.
    /// Readers use it to overlap the misses of a node's header and of the entry they will
    /// pick from it, which would otherwise come one after the other.
    #[inline(always)]
    pub fn prefetch(&self, offset: u64, lines: u64) {
        #[cfg(target_arch = "x86_64")]
        for line in 0..lines {
            let at = offset.wrapping_add(line * 64);
            if at < self.reservation {
                // SAFETY: the address lies inside our own mapping; a prefetch never faults
                // and never changes memory, whatever the page behind the address.
                unsafe {
                    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                    _mm_prefetch::<_MM_HINT_T0>(self.base.add(at as usize) as *const i8);
                }
            }
        }
    }

    /// An atomic word anywhere in the file, bounds- and alignment-checked.
    #[inline(always)]
    pub fn atomic(&self, offset: u64) -> Result<&AtomicU64> {
        self.check(offset, 8)?;
        if offset % 8 != 0 {
            return Err(self.misaligned(offset));
        }
        // SAFETY: in bounds and 8-aligned (checked above); the mapping outlives `self`.
        Ok(unsafe { &*(self.base.add(offset as usize) as *const AtomicU64) })
    }

    /// Writes into a block that the caller allocated and has not yet published. Such a
    /// block is invisible to every other thread and process, so plain stores are enough;
    /// publication (a CAS with Release semantics on a root) makes them visible.
    #[inline]
    pub fn write(&self, offset: u64, data: &[u8]) -> Result<()> {
        if !self.writable {
            return Err(self.read_only_error());
        }
        self.check(offset, data.len() as u64)?;
        // SAFETY: in bounds (checked), the mapping is writable, and by the caller's contract
        // the range belongs to an unpublished block no one else reads or writes.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.base.add(offset as usize), data.len())
        };
        Ok(())
    }

    /// Extends the file so that `[0, needed)` is allocated. Lock-free: concurrent growers
    /// may both call fallocate on overlapping ranges, which is harmless, and the published
    /// length only moves forward.
    pub fn grow_to(&self, needed: u64) -> Result<()> {
        loop {
            let current = self.file_len();
            if needed <= current {
                return Ok(());
            }
            if !self.writable {
                return Err(self.read_only_error());
            }
            let step = (current / 4).clamp(GROWTH_STEP_MIN, GROWTH_STEP_MAX);
            let target = needed
                .max(current + step)
                .div_ceil(GROWTH_STEP_MIN)
                .saturating_mul(GROWTH_STEP_MIN)
                .min(self.reservation);
            if target < needed {
                return Err(Error::new(
                    ErrorKind::Full,
                    format!(
                        "{}: the slab would exceed its reserved {} bytes; reopen with a larger max_size",
                        self.name, self.reservation
                    ),
                ));
            }
            let target = match file::allocate(&self.file, &self.name, current, target - current) {
                Ok(()) => target,
                // The disk (or the file size limit) cannot take a whole step: take just
                // the pages asked for, so the last of the space is still usable.
                Err(e)
                    if e.kind() == ErrorKind::Full
                        && needed.div_ceil(PAGE_SIZE) * PAGE_SIZE < target =>
                {
                    let minimal = needed.div_ceil(PAGE_SIZE) * PAGE_SIZE;
                    file::allocate(&self.file, &self.name, current, minimal - current)?;
                    minimal
                }
                Err(e) => return Err(e),
            };
            // Release: a process that sees the new length also sees the file extended.
            self.meta(F_FILE_LEN).fetch_max(target, Ordering::Release);
        }
    }

    /// After `fork`, the child shares its parent's open file description and therefore its
    /// locks; for the session lock to speak for this process alone, the child swaps in a
    /// description of its own (same fd number, so nothing else changes).
    fn own_description(&self) -> Result<()> {
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        let mut owner = self
            .lock_owner_pid
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if *owner == pid {
            return Ok(());
        }
        let fd = self.file.as_raw_fd();
        let path = std::ffi::CString::new(format!("/proc/self/fd/{fd}")).unwrap();
        let flags = if self.writable {
            libc::O_RDWR
        } else {
            libc::O_RDONLY
        } | libc::O_CLOEXEC;
        // SAFETY: path is a valid C string.
        let fresh = unsafe { libc::open(path.as_ptr(), flags) };
        if fresh < 0 {
            return Err(Error::last_os(format_args!("reopening {}", self.name)));
        }
        // SAFETY: both descriptors are open; dup3 atomically replaces `fd`, dropping this
        // process's reference to the inherited description (and so the parent's locks).
        let rc = unsafe { libc::dup3(fresh, fd, libc::O_CLOEXEC) };
        // SAFETY: `fresh` is ours and no longer needed (fd now refers to its description).
        unsafe { libc::close(fresh) };
        if rc < 0 {
            return Err(Error::last_os(format_args!("dup3 on {}", self.name)));
        }
        let lock = |byte| {
            file::lock_byte(&self.file, byte, Lock::Shared, true)
                .map_err(|e| Error::from_io(format_args!("locking {}", self.name), e))
        };
        lock(SESSION_LOCK_BYTE)?;
        if !self.writable {
            lock(READ_ONLY_LOCK_BYTE)?;
        }
        *owner = pid;
        Ok(())
    }

    /// Tries to become the only handle on the slab, in any process. Never blocks.
    pub fn try_exclusive(&self) -> Result<bool> {
        if !self.writable {
            return Ok(false);
        }
        self.own_description()?;
        file::lock_byte(&self.file, SESSION_LOCK_BYTE, Lock::Exclusive, false)
            .map_err(|e| Error::from_io(format_args!("locking {}", self.name), e))
    }

    /// Gives up exclusivity, keeping the shared session hold (an atomic conversion).
    pub fn share(&self) -> Result<()> {
        file::lock_byte(&self.file, SESSION_LOCK_BYTE, Lock::Shared, true)
            .map(|_| ())
            .map_err(|e| Error::from_io(format_args!("locking {}", self.name), e))
    }

    /// Marks the slab in use (the first opener after a clean close, or after a sweep).
    pub fn mark_in_use(&self) {
        self.meta(F_CRASH_SEEN).store(0, Ordering::Release);
        self.meta(F_CLEAN).store(0, Ordering::Release);
    }

    /// Gives up a handle whose recovery on open failed: the file is left as it was found
    /// (cut back to `original_len` if opening grew it), and closing will not call it clean,
    /// so the next opener tries the sweep again rather than trusting a damaged slab.
    pub fn abandon(&self, original_len: Option<u64>) {
        // Relaxed: read by this handle's own `close_session`, on the same thread.
        self.abandoned
            .store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(len) = original_len {
            let _ = self.file.set_len(len);
        }
    }

    /// Called when the handle closes: the last handle anywhere records a clean shutdown,
    /// unless a dead participant was seen since the last sweep (or recovery failed).
    pub fn close_session(&self) {
        if self.abandoned.load(Ordering::Relaxed) {
            let _ = file::lock_byte(&self.file, SESSION_LOCK_BYTE, Lock::Unlock, false);
            return;
        }
        if self.writable && matches!(self.try_exclusive(), Ok(true)) {
            if self.meta(F_CRASH_SEEN).load(Ordering::Acquire) == 0 {
                self.meta(F_CLEAN).store(1, Ordering::Release);
            }
            let _ = file::lock_byte(&self.file, SESSION_LOCK_BYTE, Lock::Unlock, false);
        }
    }

    /// Does any other handle (another process, or another handle in this one) have the
    /// slab open right now? Asks the kernel about the session lock, never blocks, and
    /// works for read-only handles too (for tools such as `eve repair` and `eve check`).
    pub fn others_attached(&self) -> Result<bool> {
        file::byte_is_locked_by_others(&self.file, SESSION_LOCK_BYTE)
            .map_err(|e| Error::from_io(format_args!("testing the locks of {}", self.name), e))
    }

    /// Is a read-only handle attached anywhere? If so, retired blocks must not be freed.
    pub fn read_only_attached(&self) -> bool {
        file::byte_is_locked_by_others(&self.file, READ_ONLY_LOCK_BYTE).unwrap_or(true)
    }
}

/// Is this the header of a slab in use (not closed cleanly) whose file is shorter than the
/// length it records, and of a length a growth leaves? That is what a power loss leaves when the header page
/// of a growth reached the disk and the new file size did not (the size is file system
/// metadata, written with the journal). A file cut anywhere else, or a slab that was closed
/// cleanly, is left to `validate`, which calls it truncated.
fn header_ahead_after_power_loss(head: &[u8], size: u64) -> bool {
    if head.len() < HEADER_SIZE as usize
        || u64::from_le_bytes(head[..8].try_into().unwrap()) != MAGIC
    {
        return false;
    }
    let word = |at: u64| u64::from_le_bytes(head[at as usize..at as usize + 8].try_into().unwrap());
    let Ok(geometry) = validate(head, word(F_FILE_LEN), "") else {
        return false; // damaged in some other way too: let `validate` say so
    };
    // A length the file can have had: the initial one, or the end of a growth step (whole
    // MiBs). (Growth on a nearly full disk may end on any page; such a file is refused as
    // before — rare, and better than taking a file cut at a random page for one.)
    let possible = size == geometry.heap_start + INITIAL_HEAP
        || (size > geometry.heap_start && size % GROWTH_STEP_MIN == 0);
    word(F_CLEAN) == 0 && size < word(F_FILE_LEN) && possible
}

/// Writes a fresh header (under the exclusive session lock), the final magic last.
fn initialise(file: &File, name: &str, options: &OpenOptions) -> Result<Geometry> {
    let slots = options.reader_slots as u64;
    if !(1..=MAX_READER_SLOTS).contains(&slots) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("reader_slots must be between 1 and {MAX_READER_SLOTS}, not {slots}"),
        ));
    }
    let geometry = Geometry::new(slots);
    let file_len = geometry.heap_start + INITIAL_HEAP;
    let io = |what: &str, e| Error::from_io(format_args!("{what} {name}"), e);
    // Start from nothing so no bytes of an aborted earlier attempt survive.
    file.set_len(0).map_err(|e| io("truncating", e))?;
    file::write_all_at(file, 0, &INIT_MAGIC.to_le_bytes()).map_err(|e| io("writing", e))?;
    file::allocate(file, name, 0, file_len)?;
    file::write_all_at(file, 0, &header::build(geometry, file_len))
        .map_err(|e| io("writing", e))?;
    file.sync_data().map_err(|e| io("syncing", e))?;
    file::write_all_at(file, F_MAGIC, &MAGIC.to_le_bytes()).map_err(|e| io("writing", e))?;
    file.sync_data().map_err(|e| io("syncing", e))?;
    Ok(geometry)
}

//! The handles C holds. A handle is not an address: it is a token naming a slot in a
//! table (kind, slot index, the slot's generation and, for per-thread handles, the owning
//! thread). Nothing C passes in is ever dereferenced, so a NULL, closed, stale, foreign or
//! made-up handle is always an error and never undefined behaviour, and closing a handle
//! frees its memory at once.
//!
//! Slab handles live in one process-wide table and may be used from any thread. Reads and
//! iterators pin the calling thread's epoch slot, so they live in the calling thread's own
//! table: only that thread can use or end them, and they die with it.

use super::answer::Answer;
use super::error::Failure;
use super::yin::OpenYin;
use super::EveStatus;
use crate::epoch::Guard;
use crate::hamt::Iter;
use crate::Slab;
use std::cell::RefCell;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, RwLock};

const KIND_BITS: u32 = 4;
const INDEX_BITS: u32 = 24;
const GENERATION_BITS: u32 = 20;
const THREAD_SHIFT: u32 = KIND_BITS + INDEX_BITS + GENERATION_BITS;

const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;
const GENERATION_MASK: u64 = (1 << GENERATION_BITS) - 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Slab = 1,
    Read = 2,
    Iter = 3,
    Cursor = 4,
    Answer = 5,
    Yin = 6,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Slab => "slab",
            Kind::Read => "read",
            Kind::Iter => "iterator",
            Kind::Cursor => "datom cursor",
            Kind::Answer => "answer",
            Kind::Yin => "yin",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Token {
    kind: Kind,
    index: u32,
    generation: u32,
    thread: u16,
}

impl Token {
    fn encode(self) -> usize {
        let word = self.kind as u64
            | (self.index as u64) << KIND_BITS
            | (self.generation as u64) << (KIND_BITS + INDEX_BITS)
            | (self.thread as u64) << THREAD_SHIFT;
        word as usize
    }

    /// Decodes `handle`, which must be of `kind`; says what is wrong otherwise.
    fn decode(handle: usize, kind: Kind) -> Result<Token, Failure> {
        if handle == 0 {
            return Err(Failure::new(
                EveStatus::EVE_ERR_NULL_POINTER,
                format!("the {} handle is NULL", kind.name()),
            ));
        }
        let word = handle as u64;
        let found = match word & ((1 << KIND_BITS) - 1) {
            1 => Kind::Slab,
            2 => Kind::Read,
            3 => Kind::Iter,
            4 => Kind::Cursor,
            5 => Kind::Answer,
            6 => Kind::Yin,
            _ => return Err(invalid_handle(kind, "is not an eve handle")),
        };
        if found != kind {
            return Err(invalid_handle(
                kind,
                &format!("is a {} handle", found.name()),
            ));
        }
        Ok(Token {
            kind,
            index: ((word >> KIND_BITS) & INDEX_MASK) as u32,
            generation: ((word >> (KIND_BITS + INDEX_BITS)) & GENERATION_MASK) as u32,
            thread: (word >> THREAD_SHIFT) as u16,
        })
    }
}

fn invalid_handle(kind: Kind, why: &str) -> Failure {
    Failure::invalid(format!("the {} handle {why}", kind.name()))
}

fn closed(kind: Kind) -> Failure {
    invalid_handle(
        kind,
        "is closed or was never opened (it may also belong to another process)",
    )
}

/// Slots with generations: a removed value's slot is reused under the next generation, so
/// stale tokens no longer match.
struct Table<T> {
    slots: Vec<(u32, Option<T>)>,
    free: Vec<u32>,
}

impl<T> Table<T> {
    const fn new() -> Table<T> {
        Table {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }

    fn insert(&mut self, value: T) -> Result<(u32, u32), Failure> {
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.1 = Some(value);
            return Ok((index, slot.0));
        }
        if self.slots.len() as u64 > INDEX_MASK {
            return Err(Failure::new(
                EveStatus::EVE_ERR_EXHAUSTED,
                "too many open handles of this kind",
            ));
        }
        self.slots.push((0, Some(value)));
        Ok(((self.slots.len() - 1) as u32, 0))
    }

    fn get_mut(&mut self, token: Token) -> Result<&mut T, Failure> {
        match self.slots.get_mut(token.index as usize) {
            Some((generation, Some(value))) if *generation == token.generation => Ok(value),
            _ => Err(closed(token.kind)),
        }
    }

    fn get(&self, token: Token) -> Result<&T, Failure> {
        match self.slots.get(token.index as usize) {
            Some((generation, Some(value))) if *generation == token.generation => Ok(value),
            _ => Err(closed(token.kind)),
        }
    }

    fn remove(&mut self, token: Token) -> Result<T, Failure> {
        self.get(token)?;
        let slot = &mut self.slots[token.index as usize];
        slot.0 = (slot.0 + 1) & GENERATION_MASK as u32;
        self.free.push(token.index);
        Ok(slot.1.take().expect("checked above"))
    }
}

// ---- slab handles -------------------------------------------------------------------

/// The opaque type of slab handles (`eve_slab *` in C).
#[allow(non_camel_case_types)]
pub struct eve_slab {
    _never_dereferenced: [u8; 0],
}

static SLABS: RwLock<Table<Arc<Slab>>> = RwLock::new(Table::new());

fn slabs_read() -> std::sync::RwLockReadGuard<'static, Table<Arc<Slab>>> {
    // A panic while the lock was held left the table consistent (see `Table`), so a
    // poisoned lock is still usable.
    SLABS.read().unwrap_or_else(|e| e.into_inner())
}

fn slabs_write() -> std::sync::RwLockWriteGuard<'static, Table<Arc<Slab>>> {
    SLABS.write().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn register_slab(slab: Slab) -> Result<*mut eve_slab, Failure> {
    let (index, generation) = slabs_write().insert(Arc::new(slab))?;
    let token = Token {
        kind: Kind::Slab,
        index,
        generation,
        thread: 0,
    };
    Ok(std::ptr::without_provenance_mut(token.encode()))
}

/// The slab behind `handle`, kept alive for as long as the caller holds the `Arc`.
pub(crate) fn slab(handle: *mut eve_slab) -> Result<Arc<Slab>, Failure> {
    let token = Token::decode(handle.addr(), Kind::Slab)?;
    Ok(slabs_read().get(token)?.clone())
}

/// Runs `body` with the slab behind `handle` to itself: fails with `EVE_ERR_BUSY` while
/// reads, iterators or calls on other threads use it.
pub(crate) fn with_slab_alone<R>(
    handle: *mut eve_slab,
    body: impl FnOnce(&mut Slab) -> Result<R, Failure>,
) -> Result<R, Failure> {
    let token = Token::decode(handle.addr(), Kind::Slab)?;
    let mut table = slabs_write();
    let slab = Arc::get_mut(table.get_mut(token)?).ok_or_else(busy)?;
    body(slab)
}

fn busy() -> Failure {
    Failure::new(
        EveStatus::EVE_ERR_BUSY,
        "the slab handle still has open reads or iterators, or is in use on another thread",
    )
}

/// Closes `handle`; the slab is unmapped before this returns.
pub(crate) fn close_slab(handle: *mut eve_slab) -> Result<(), Failure> {
    let token = Token::decode(handle.addr(), Kind::Slab)?;
    let slab = {
        let mut table = slabs_write();
        if Arc::strong_count(table.get(token)?) > 1 {
            return Err(busy());
        }
        table.remove(token)?
    };
    // Dropped outside the lock: closing runs the dead-reader scan and unlocks the file.
    drop(slab);
    Ok(())
}

// ---- answer handles -------------------------------------------------------------------

/// The opaque type of answer handles (`eve_answer *` in C).
#[allow(non_camel_case_types)]
pub struct eve_answer {
    _never_dereferenced: [u8; 0],
}

/// Answers own their data (nothing in them points into a slab), so any thread may use them.
static ANSWERS: Mutex<Table<Arc<Answer>>> = Mutex::new(Table::new());

fn answers() -> std::sync::MutexGuard<'static, Table<Arc<Answer>>> {
    ANSWERS.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn register_answer(answer: Answer) -> Result<*mut eve_answer, Failure> {
    let (index, generation) = answers().insert(Arc::new(answer))?;
    let token = Token {
        kind: Kind::Answer,
        index,
        generation,
        thread: 0,
    };
    Ok(std::ptr::without_provenance_mut(token.encode()))
}

/// The answer behind `handle`; the `Arc` keeps it alive even if another thread frees the
/// handle meanwhile.
pub(crate) fn answer(handle: *const eve_answer) -> Result<Arc<Answer>, Failure> {
    let token = Token::decode(handle.addr(), Kind::Answer)?;
    Ok(answers().get(token)?.clone())
}

pub(crate) fn free_answer(handle: *mut eve_answer) -> Result<(), Failure> {
    let token = Token::decode(handle.addr(), Kind::Answer)?;
    let answer = answers().remove(token)?;
    drop(answer);
    Ok(())
}

// ---- yin handles ----------------------------------------------------------------------

/// The opaque type of Yin runtime handles (`eve_yin *` in C).
#[allow(non_camel_case_types)]
pub struct eve_yin {
    _never_dereferenced: [u8; 0],
}

/// A runtime keeps its slab alive (and so busy: close the runtime before the slab); any
/// thread may use it.
static YINS: Mutex<Table<Arc<OpenYin>>> = Mutex::new(Table::new());

fn yins() -> std::sync::MutexGuard<'static, Table<Arc<OpenYin>>> {
    YINS.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn register_yin(yin: OpenYin) -> Result<*mut eve_yin, Failure> {
    let (index, generation) = yins().insert(Arc::new(yin))?;
    let token = Token {
        kind: Kind::Yin,
        index,
        generation,
        thread: 0,
    };
    Ok(std::ptr::without_provenance_mut(token.encode()))
}

/// The runtime behind `handle`; the `Arc` keeps it alive even if another thread closes
/// the handle meanwhile.
pub(crate) fn yin(handle: *mut eve_yin) -> Result<Arc<OpenYin>, Failure> {
    let token = Token::decode(handle.addr(), Kind::Yin)?;
    Ok(yins().get(token)?.clone())
}

pub(crate) fn close_yin(handle: *mut eve_yin) -> Result<(), Failure> {
    let token = Token::decode(handle.addr(), Kind::Yin)?;
    let yin = yins().remove(token)?;
    // Dropped outside the lock (a call on another thread may still hold it).
    drop(yin);
    Ok(())
}

// ---- per-thread handles: reads and iterators ------------------------------------------

/// The opaque type of read handles (`eve_read *` in C).
#[allow(non_camel_case_types)]
pub struct eve_read {
    _never_dereferenced: [u8; 0],
}

/// The opaque type of iterator handles (`eve_iter *` in C).
#[allow(non_camel_case_types)]
pub struct eve_iter {
    _never_dereferenced: [u8; 0],
}

/// The opaque type of datom cursor handles (`eve_cursor *` in C).
#[allow(non_camel_case_types)]
pub struct eve_cursor {
    _never_dereferenced: [u8; 0],
}

/// A pin held for C, with the slab it pins kept alive.
pub(crate) struct Pinned {
    // Dropped only by `unpin`; a `Pinned` dropped without it abandons the pin (see
    // `ThreadHandles`'s Drop).
    guard: ManuallyDrop<Guard<'static>>,
    slab: Arc<Slab>,
}

impl Pinned {
    pub(crate) fn new(slab: Arc<Slab>) -> Result<Pinned, Failure> {
        let guard = slab.pin()?;
        // SAFETY: the guard borrows the `Epochs` inside the `Slab`, which lives in the
        // `Arc`'s heap allocation and so does not move. `Pinned` keeps that `Arc` and ends
        // the guard (or abandons it) before dropping the `Arc`, so the borrow never
        // outlives the slab. The guard stays on the thread that pinned it because
        // `Pinned` only lives in that thread's table.
        let guard = unsafe { std::mem::transmute::<Guard<'_>, Guard<'static>>(guard) };
        Ok(Pinned {
            guard: ManuallyDrop::new(guard),
            slab,
        })
    }

    pub(crate) fn slab(&self) -> &Slab {
        &self.slab
    }

    /// Another reference to the pinned slab, to pin it again.
    pub(crate) fn shared_slab(&self) -> Arc<Slab> {
        self.slab.clone()
    }

    pub(crate) fn guard(&self) -> &Guard<'static> {
        &self.guard
    }

    /// Ends the pin normally.
    fn unpin(mut self) {
        // SAFETY: the guard is dropped exactly once, here, before the `Arc` it borrows
        // from (which drops with `self` afterwards).
        unsafe { ManuallyDrop::drop(&mut self.guard) };
    }
}

/// An open read: a pin plus the version of each map it has looked at, so that every lookup
/// of one map in one read sees the same version.
pub(crate) struct OpenRead {
    pub(crate) pinned: Pinned,
    /// (root index, root word) for each map or database read so far.
    pub(crate) versions: Vec<(u64, u64)>,
}

impl OpenRead {
    /// The root word of root `index` that this read sees: fixed by `current` on the first
    /// use of the root in this read, the same for every later use.
    pub(crate) fn version(
        &mut self,
        index: u64,
        current: impl FnOnce(&Slab) -> crate::Result<u64>,
    ) -> crate::Result<u64> {
        if let Some(&(_, root)) = self.versions.iter().find(|(i, _)| *i == index) {
            return Ok(root);
        }
        let root = current(self.pinned.slab())?;
        self.versions.push((index, root));
        Ok(root)
    }
}

/// An open iterator: its own pin (so it outlives the read it came from) and its position.
pub(crate) struct OpenIter {
    // Before `pinned`: the iterator borrows the slab the pin keeps alive.
    pub(crate) iter: Iter<'static>,
    pub(crate) pinned: Pinned,
}

/// Where a datom cursor reads from.
pub(crate) enum DatomSource {
    Index(crate::dao::Datoms<'static>),
    Log(crate::dao::LogDatoms<'static>),
}

/// An open datom cursor: its own pin, its position, and the values it had to copy (those
/// with escaped bytes) for the batch it handed out last.
pub(crate) struct OpenCursor {
    // Before `pinned`: the source borrows the slab the pin keeps alive.
    pub(crate) source: DatomSource,
    pub(crate) copies: Vec<Vec<u8>>,
    pub(crate) pinned: Pinned,
}

enum Local {
    Read(OpenRead),
    Iter(OpenIter),
    Cursor(OpenCursor),
}

impl Local {
    fn end(self) {
        match self {
            Local::Read(read) => read.pinned.unpin(),
            Local::Iter(iter) => {
                drop(iter.iter);
                iter.pinned.unpin();
            }
            Local::Cursor(cursor) => {
                drop(cursor.source);
                cursor.pinned.unpin();
            }
        }
    }
}

struct ThreadHandles {
    tag: u16,
    table: Table<Local>,
}

impl Drop for ThreadHandles {
    /// The thread is exiting with reads or iterators still open. Their guards are not
    /// dropped: the epoch layer's own thread-exit cleanup (which may already have run)
    /// releases the thread's reader slot, pin included, and a guard dropped after that
    /// could write into a slot another thread has claimed since.
    fn drop(&mut self) {
        for (_, local) in self.table.slots.iter_mut() {
            // Dropping `Local` drops the `Arc` but never the `ManuallyDrop` guard.
            drop(local.take());
        }
    }
}

static NEXT_THREAD_TAG: AtomicU16 = AtomicU16::new(1);

thread_local! {
    static LOCALS: RefCell<ThreadHandles> = RefCell::new(ThreadHandles {
        // Zero never names a thread, so slab tokens (thread 0) cannot pass as local ones.
        tag: loop {
            let tag = NEXT_THREAD_TAG.fetch_add(1, Ordering::Relaxed);
            if tag != 0 {
                break tag;
            }
        },
        table: Table::new(),
    });
}

fn with_locals<R>(
    body: impl FnOnce(&mut ThreadHandles) -> Result<R, Failure>,
) -> Result<R, Failure> {
    LOCALS
        .try_with(|locals| match locals.try_borrow_mut() {
            Ok(mut locals) => body(&mut locals),
            Err(_) => Err(Failure::new(
                EveStatus::EVE_ERR_INTERNAL,
                "eve was re-entered on this thread while it was using its read table",
            )),
        })
        .unwrap_or_else(|_| {
            Err(Failure::invalid(
                "this thread is exiting; it can no longer use reads or iterators",
            ))
        })
}

fn local_token(handle: usize, kind: Kind, tag: u16) -> Result<Token, Failure> {
    let token = Token::decode(handle, kind)?;
    if token.thread != tag {
        return Err(invalid_handle(
            kind,
            "belongs to another thread (reads and iterators are used and ended on the thread that opened them)",
        ));
    }
    Ok(token)
}

fn register_local(local: Local, kind: Kind) -> Result<usize, Failure> {
    with_locals(|locals| {
        let (index, generation) = locals.table.insert(local)?;
        Ok(Token {
            kind,
            index,
            generation,
            thread: locals.tag,
        }
        .encode())
    })
}

pub(crate) fn register_read(read: OpenRead) -> Result<*mut eve_read, Failure> {
    register_local(Local::Read(read), Kind::Read).map(std::ptr::without_provenance_mut)
}

pub(crate) fn register_iter(iter: OpenIter) -> Result<*mut eve_iter, Failure> {
    register_local(Local::Iter(iter), Kind::Iter).map(std::ptr::without_provenance_mut)
}

pub(crate) fn register_cursor(cursor: OpenCursor) -> Result<*mut eve_cursor, Failure> {
    register_local(Local::Cursor(cursor), Kind::Cursor).map(std::ptr::without_provenance_mut)
}

/// Runs `body` on the open datom cursor behind `handle`.
pub(crate) fn with_cursor<R>(
    handle: *mut eve_cursor,
    body: impl FnOnce(&mut OpenCursor) -> Result<R, Failure>,
) -> Result<R, Failure> {
    with_locals(|locals| {
        let token = local_token(handle.addr(), Kind::Cursor, locals.tag)?;
        match locals.table.get_mut(token)? {
            Local::Cursor(cursor) => body(cursor),
            _ => Err(closed(Kind::Cursor)),
        }
    })
}

pub(crate) fn end_cursor(handle: *mut eve_cursor) -> Result<(), Failure> {
    end_local(handle.addr(), Kind::Cursor)
}

/// Runs `body` on the open read behind `handle`.
pub(crate) fn with_read<R>(
    handle: *mut eve_read,
    body: impl FnOnce(&mut OpenRead) -> Result<R, Failure>,
) -> Result<R, Failure> {
    with_locals(|locals| {
        let token = local_token(handle.addr(), Kind::Read, locals.tag)?;
        match locals.table.get_mut(token)? {
            Local::Read(read) => body(read),
            _ => Err(closed(Kind::Read)),
        }
    })
}

/// Runs `body` on the open iterator behind `handle`.
pub(crate) fn with_iter<R>(
    handle: *mut eve_iter,
    body: impl FnOnce(&mut OpenIter) -> Result<R, Failure>,
) -> Result<R, Failure> {
    with_locals(|locals| {
        let token = local_token(handle.addr(), Kind::Iter, locals.tag)?;
        match locals.table.get_mut(token)? {
            Local::Iter(iter) => body(iter),
            _ => Err(closed(Kind::Iter)),
        }
    })
}

fn end_local(handle: usize, kind: Kind) -> Result<(), Failure> {
    let local = with_locals(|locals| {
        let token = local_token(handle, kind, locals.tag)?;
        locals.table.remove(token)
    })?;
    // Outside the table borrow: ending may close the slab if its handle was closed.
    local.end();
    Ok(())
}

pub(crate) fn end_read(handle: *mut eve_read) -> Result<(), Failure> {
    end_local(handle.addr(), Kind::Read)
}

pub(crate) fn end_iter(handle: *mut eve_iter) -> Result<(), Failure> {
    end_local(handle.addr(), Kind::Iter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_the_wrong_kind() {
        let token = Token {
            kind: Kind::Read,
            index: 0xAB_CDEF,
            generation: 0xF_1234,
            thread: 0xBEEF,
        };
        assert_eq!(Token::decode(token.encode(), Kind::Read).ok(), Some(token));
        assert!(Token::decode(token.encode(), Kind::Slab).is_err());
        assert!(Token::decode(0, Kind::Read).is_err());
        assert!(Token::decode(0x10, Kind::Read).is_err());
    }

    #[test]
    fn removed_slots_come_back_under_a_new_generation() {
        let mut table = Table::new();
        let (index, generation) = table.insert("a").unwrap();
        let old = Token {
            kind: Kind::Slab,
            index,
            generation,
            thread: 0,
        };
        assert_eq!(table.remove(old).ok(), Some("a"));
        assert!(table.get(old).is_err());
        assert!(table.remove(old).is_err());
        let (again, next) = table.insert("b").unwrap();
        assert_eq!(again, index);
        assert_ne!(next, generation);
        assert!(table.get(old).is_err());
    }
}

//! The `root` layer: a table of named 64-bit words, the only mutable entry points into the
//! persistent structures.
//!
//! Entry layout (128 bytes each, 256 entries):
//!
//! | offset | field    | meaning                                                        |
//! |--------|----------|----------------------------------------------------------------|
//! | 0      | value    | the root word itself (an offset, or a plain number)            |
//! | 8      | changes  | u32 bumped after every successful CAS: the futex word          |
//! | 12     | waiters  | u32 count of threads sleeping on `changes`                     |
//! | 16     | state    | 0 empty or being claimed, 1 being named, 2 ready               |
//! | 24     | claimer  | owner word of the process that claimed it; 0 = entry is free   |
//! | 32     | seal     | kind (bits 0–15), name length (16–31), checksum (32–63); 0 until the entry is ready |
//! | 40     | synced   | last value known durable with all it reaches; bit 0: set, bit 1: by a checkpoint; 0 = none |
//! | 48     | name     | up to 80 bytes of UTF-8                                        |
//!
//! `changes` is 32 bits because that is what a futex watches. It is a wake-up token, not a
//! version: a waiter compares the root's full 64-bit value before it sleeps, and the futex
//! only has to tell it "something happened since you looked".
//!
//! The seal is written once, by the process that wins the name, just before the state
//! becomes ready, and never changes afterwards (a ready entry is never given back). Its
//! checksum covers the entry's index, kind and name, so a damaged kind, name or seal is an
//! error; and since only a ready entry has a seal, an entry that has one but whose state
//! says empty (or anything unknown) is damage too, reported instead of treated as free.

mod futex;

use crate::error::{Error, ErrorKind, Result};
use crate::slab::header::{
    ROOT_ENTRY_SIZE, ROOT_F_CLAIMER, ROOT_F_NAME, ROOT_F_SEAL, ROOT_F_STATE, ROOT_F_SYNCED,
    ROOT_F_VALUE, ROOT_STATE_READY, ROOT_TABLE_OFFSET,
};
use crate::slab::process::{self, current_owner};
use crate::slab::{Region, ROOT_COUNT};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const MAX_NAME_LEN: usize = 80;

const STATE_EMPTY: u64 = 0;
const STATE_NAMING: u64 = 1;
const STATE_READY: u64 = ROOT_STATE_READY;
/// Low bits of a synced value word (root values of typed roots are 16-aligned offsets).
const SYNCED_FLAGS: u64 = 0b11;
const SYNCED_BY_CHECKPOINT: u64 = 0b10;

/// What a root's value means. Fixed when the root is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RootKind {
    /// A plain 64-bit number owned by the application; never followed by the sweep.
    Raw,
    /// The offset of a HAMT map's root node (0 = empty map).
    HamtMap,
    /// The offset of a HAMT set's root node (0 = empty set).
    HamtSet,
    /// The offset of a B+tree's root node (0 = empty tree).
    BTree,
    /// The offset of a DaoDB database block (0 = empty database).
    Dao,
}

impl RootKind {
    pub(crate) fn code(self) -> u64 {
        match self {
            RootKind::Raw => 0,
            RootKind::HamtMap => 1,
            RootKind::HamtSet => 2,
            RootKind::BTree => 3,
            RootKind::Dao => 4,
        }
    }

    pub(crate) fn from_code(code: u64) -> Option<RootKind> {
        match code {
            0 => Some(RootKind::Raw),
            1 => Some(RootKind::HamtMap),
            2 => Some(RootKind::HamtSet),
            3 => Some(RootKind::BTree),
            4 => Some(RootKind::Dao),
            _ => None,
        }
    }
}

/// One entry of the root table.
#[derive(Clone, Copy)]
pub struct RootCell<'r> {
    region: &'r Region,
    index: u64,
}

fn entry(index: u64) -> u64 {
    ROOT_TABLE_OFFSET + index * ROOT_ENTRY_SIZE
}

impl<'r> RootCell<'r> {
    /// The entry at `index`, which must be a named (ready) root.
    pub fn at(region: &'r Region, index: u64) -> Result<RootCell<'r>> {
        if index >= ROOT_COUNT {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("root index {index} is out of range (0..{ROOT_COUNT})"),
            ));
        }
        let cell = RootCell { region, index };
        match cell.observe()? {
            Observed::Ready => Ok(cell),
            _ => Err(Error::new(
                ErrorKind::NotFound,
                format!("{}: no root at index {index}", region.name()),
            )),
        }
    }

    /// Finds the root called `name`, creating it with `kind` if `create` and it is missing.
    /// Safe against concurrent creators in any process: when two claim different entries
    /// for the same name, the lower index wins and the other gives its entry back.
    pub fn named(
        region: &'r Region,
        name: &str,
        kind: RootKind,
        create: bool,
    ) -> Result<RootCell<'r>> {
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "a root name must be 1 to {MAX_NAME_LEN} bytes, not {}",
                    name.len()
                ),
            ));
        }
        loop {
            if let Some(cell) = find(region, name, ROOT_COUNT)? {
                return cell.expect_kind(kind);
            }
            if !create {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!("{}: no root named {name:?}", region.name()),
                ));
            }
            if !region.is_writable() {
                return Err(region.read_only_error());
            }
            let Some(cell) = claim_empty(region)? else {
                return Err(Error::new(
                    ErrorKind::Exhausted,
                    format!("{}: all {ROOT_COUNT} roots are in use", region.name()),
                ));
            };
            cell.write_name(name)?;
            // Someone may have claimed a lower entry for the same name meanwhile.
            if find(region, name, cell.index)?.is_some() {
                cell.clear();
                continue;
            }
            cell.seal(name, kind);
            return Ok(cell);
        }
    }

    fn word(&self, field: u64) -> &'r AtomicU64 {
        self.region.meta(entry(self.index) + field)
    }

    fn value_word(&self) -> &'r AtomicU64 {
        self.word(ROOT_F_VALUE)
    }

    fn seal_word(&self) -> &'r AtomicU64 {
        self.word(ROOT_F_SEAL)
    }

    fn claimer(&self) -> &'r AtomicU64 {
        self.word(ROOT_F_CLAIMER)
    }

    /// The checksum a seal carries for this entry with `kind` and `name`.
    fn checksum(&self, kind: u64, name: &[u8]) -> u64 {
        let mut bytes = Vec::with_capacity(16 + name.len());
        bytes.extend_from_slice(&self.index.to_le_bytes());
        bytes.extend_from_slice(&kind.to_le_bytes());
        bytes.extend_from_slice(name);
        let h = xxhash_rust::xxh3::xxh3_64(&bytes);
        (h >> 32) ^ (h & 0xFFFF_FFFF)
    }

    /// Marks a named entry ready: the seal, then the state. Called once per entry, by the
    /// process that won the name.
    fn seal(&self, name: &str, kind: RootKind) {
        let seal = kind.code()
            | (name.len() as u64) << 16
            | self.checksum(kind.code(), name.as_bytes()) << 32;
        // An empty database is trivially on disk: its synced value is "0" from the start
        // (not recorded by a checkpoint, bit 1 clear), so a power loss that tears its first,
        // unsynced commit falls back to empty. Other kinds get a synced value at their first
        // checkpoint. Relaxed: published by the
        // Release stores below, and read only by checkpoints and sweeps, which find the
        // entry ready (Acquire) first.
        let synced = if kind == RootKind::Dao { 1 } else { 0 };
        self.word(ROOT_F_SYNCED).store(synced, Ordering::Relaxed);
        // Release, seal before state: whoever sees the seal (Acquire) then reads a state
        // of "being named" or "ready", never the "empty" of before the claim; whoever sees
        // "ready" (Acquire) sees the seal and the name.
        self.seal_word().store(seal, Ordering::Release);
        self.state().store(STATE_READY, Ordering::Release);
    }

    /// Reads the entry's state, checking it against the seal. A ready entry must carry a
    /// seal whose checksum matches its kind and name; an entry with a seal must be ready
    /// (or, for an instant, still being named by its sealer).
    fn observe(&self) -> Result<Observed> {
        // Seal first, then state (both Acquire): a seal written by `seal` is followed by
        // its state store, so with a seal in hand the state read is "being named" or
        // "ready" unless the entry is damaged.
        let mut seal = self.seal_word().load(Ordering::Acquire);
        let state = self.state().load(Ordering::Acquire);
        let claimer = self.claimer().load(Ordering::Acquire);
        match state {
            STATE_READY => {
                if seal == 0 {
                    // The seal may have been written after our first look; "ready" was
                    // stored after it (Release), and we have read "ready" (Acquire).
                    seal = self.seal_word().load(Ordering::Acquire);
                }
                let (kind, len) = (seal & 0xFFFF, (seal >> 16) & 0xFFFF);
                let sound = seal != 0
                    && (1..=MAX_NAME_LEN as u64).contains(&len)
                    && RootKind::from_code(kind).is_some()
                    && self
                        .region
                        .bytes(entry(self.index) + ROOT_F_NAME, len)
                        .map(|name| self.checksum(kind, name) == seal >> 32)
                        .unwrap_or(false);
                if !sound {
                    return Err(self.damaged("its seal does not match its kind and name"));
                }
                Ok(Observed::Ready)
            }
            STATE_EMPTY if seal != 0 => {
                Err(self.damaged("it is sealed as ready but its state says empty"))
            }
            STATE_EMPTY if claimer == 0 => Ok(Observed::Free),
            STATE_EMPTY | STATE_NAMING => Ok(Observed::Claimed(claimer)),
            other => Err(self.damaged(&format!("it has unknown state {other}"))),
        }
    }

    #[cold]
    fn damaged(&self, why: &str) -> Error {
        Error::corrupt(format!(
            "{}: root entry {} is damaged: {why}",
            self.region.name(),
            self.index
        ))
    }

    fn changes(&self) -> &'r AtomicU32 {
        self.half_words().0
    }

    fn waiters(&self) -> &'r AtomicU32 {
        self.half_words().1
    }

    fn half_words(&self) -> (&'r AtomicU32, &'r AtomicU32) {
        let word = self.word(8) as *const AtomicU64 as *const AtomicU32;
        // SAFETY: the 8-byte, 8-aligned word at offset 8 of the entry is used only as two
        // u32 atomics (never as a u64), so viewing it as two aligned AtomicU32 is sound.
        unsafe { (&*word, &*word.add(1)) }
    }

    fn state(&self) -> &'r AtomicU64 {
        self.word(ROOT_F_STATE)
    }

    pub fn index(&self) -> u64 {
        self.index
    }

    pub fn kind(&self) -> Result<RootKind> {
        let code = self.seal_word().load(Ordering::Acquire) & 0xFFFF;
        RootKind::from_code(code).ok_or_else(|| {
            Error::corrupt(format!(
                "{}: root {} has unknown kind {code}",
                self.region.name(),
                self.index
            ))
        })
    }

    pub fn name(&self) -> Result<String> {
        let len = (self.seal_word().load(Ordering::Acquire) >> 16) & 0xFFFF;
        if len as usize > MAX_NAME_LEN {
            return Err(Error::corrupt(format!(
                "{}: root {} has a damaged name",
                self.region.name(),
                self.index
            )));
        }
        let bytes = self.region.bytes(entry(self.index) + ROOT_F_NAME, len)?;
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }

    fn expect_kind(self, kind: RootKind) -> Result<RootCell<'r>> {
        let actual = self.kind()?;
        if actual != kind {
            return Err(Error::new(
                ErrorKind::WrongKind,
                format!(
                    "{}: root {:?} is a {actual:?}, not a {kind:?}",
                    self.region.name(),
                    self.name()?
                ),
            ));
        }
        Ok(self)
    }

    /// Writes the name of a claimed entry (not yet sealed, so nobody reads it).
    fn write_name(&self, name: &str) -> Result<()> {
        self.state().store(STATE_NAMING, Ordering::Release);
        self.value_word().store(0, Ordering::Relaxed);
        let mut padded = [0u8; MAX_NAME_LEN];
        padded[..name.len()].copy_from_slice(name.as_bytes());
        self.region.write(entry(self.index) + ROOT_F_NAME, &padded)
    }

    /// Gives a claimed entry back: the claimer word goes last, as it is what marks it free.
    fn clear(&self) {
        clear_entry(self, self.claimer().load(Ordering::Acquire));
    }

    /// The current value. Acquire: the blocks a root points to were written before the
    /// CAS that published it.
    #[inline]
    pub fn load(&self) -> u64 {
        self.value_word().load(Ordering::Acquire)
    }

    /// The root's synced value (see `slab::durable`): a value whose blocks were on disk
    /// when it was recorded, and whether a checkpoint recorded it (rather than the root's
    /// creation); `None` if there is none.
    pub fn synced(&self) -> Option<(u64, bool)> {
        // Acquire: pairs with the hand-over of the sync role; sweeps (the readers) hold the
        // slab exclusively anyway.
        let word = self.word(ROOT_F_SYNCED).load(Ordering::Acquire);
        (word != 0).then_some((word & !SYNCED_FLAGS, word & SYNCED_BY_CHECKPOINT != 0))
    }

    /// Sets the value back to `synced` during recovery (the caller holds the slab alone,
    /// so no CAS, no waiters to wake and no epoch to respect).
    pub(crate) fn set_after_power_loss(&self, synced: u64) {
        self.value_word().store(synced, Ordering::SeqCst);
    }

    /// Replaces `current` by `new` atomically. On failure returns the value found.
    /// Wakes everyone waiting for this root to change.
    #[inline]
    pub fn compare_exchange(&self, current: u64, new: u64) -> std::result::Result<u64, u64> {
        // SeqCst: the epoch protocol orders this CAS against readers' pins and the
        // retirement stamp that follows it.
        let result =
            self.value_word()
                .compare_exchange(current, new, Ordering::SeqCst, Ordering::SeqCst);
        if result.is_ok() && current != new {
            self.changes().fetch_add(1, Ordering::SeqCst);
            if self.waiters().load(Ordering::SeqCst) != 0 {
                futex::wake_all(self.changes());
            }
        }
        result
    }

    /// Blocks until the value differs from `seen` or `timeout` passes (`None`: no limit).
    /// Returns the value observed last; it equals `seen` only on timeout.
    pub fn wait_for_change(&self, seen: u64, timeout: Option<Duration>) -> u64 {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            // Read the token before the value: a change after this read bumps the token,
            // and the futex then refuses to sleep on the stale token.
            let token = self.changes().load(Ordering::SeqCst);
            let value = self.value_word().load(Ordering::SeqCst);
            if value != seen {
                return value;
            }
            let remaining = match deadline {
                None => None,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(r) if !r.is_zero() => Some(r),
                    _ => return value,
                },
            };
            self.waiters().fetch_add(1, Ordering::SeqCst);
            futex::wait(self.changes(), token, remaining);
            self.waiters().fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Finds a ready entry named `name` below index `limit`, waiting out entries that are
/// being claimed or named right now (or taking them back if their claimer died).
fn find<'r>(region: &'r Region, name: &str, limit: u64) -> Result<Option<RootCell<'r>>> {
    for index in 0..limit {
        let cell = RootCell { region, index };
        // Naming an entry takes microseconds; an entry a live process has been naming for
        // this long is damage (or a stopped process), reported instead of waited on forever.
        let patience = std::time::Instant::now() + std::time::Duration::from_secs(2);
        loop {
            match cell.observe()? {
                Observed::Ready => {
                    if cell.name()? == name {
                        return Ok(Some(cell));
                    }
                    break;
                }
                Observed::Free => break,
                Observed::Claimed(claimer) => {
                    if !process::is_alive(process::OwnerWord(claimer)) {
                        // The claimer died mid-way: give the entry back (only if it is still
                        // that claimer's, so a fresh claim is never undone). A read-only
                        // handle cannot write; it just looks past the entry.
                        if region.is_writable() && cell.claimer().load(Ordering::Acquire) == claimer
                        {
                            clear_entry(&cell, claimer);
                        }
                        break;
                    }
                    // A live process is naming it; that takes microseconds.
                    if std::time::Instant::now() > patience {
                        return Err(Error::new(
                            crate::error::ErrorKind::Busy,
                            format!(
                                "{}: root {index} has been being named by process {} for over 2 s (a stopped process, or a damaged entry)",
                                region.name(),
                                process::OwnerWord(claimer).pid()
                            ),
                        ));
                    }
                    std::thread::yield_now();
                }
            }
        }
    }
    Ok(None)
}

/// What an entry holds, as `RootCell::observe` reads it.
enum Observed {
    Ready,
    Free,
    /// Being claimed or named by the process with this owner word.
    Claimed(u64),
}

/// Gives back an entry that `claimer` claimed but never made ready: the seal and synced
/// words first (a dead claimer may have sealed it just before dying), the claimer word
/// last, with a CAS, as it is what marks the entry free — so a fresh claim is never undone.
fn clear_entry(cell: &RootCell<'_>, claimer: u64) {
    cell.seal_word().store(0, Ordering::Relaxed);
    cell.word(ROOT_F_SYNCED).store(0, Ordering::Relaxed);
    // Release: whoever claims the entry after the CAS below sees these stores done.
    cell.state().store(STATE_EMPTY, Ordering::Release);
    let _ = cell
        .claimer()
        .compare_exchange(claimer, 0, Ordering::AcqRel, Ordering::Acquire);
}

/// Claims a free entry: the CAS on the claimer word is the claim, so an entry is never
/// taken without its claimer being known.
fn claim_empty(region: &Region) -> Result<Option<RootCell<'_>>> {
    let me = current_owner().0;
    for index in 0..ROOT_COUNT {
        let cell = RootCell { region, index };
        if cell
            .claimer()
            .compare_exchange(0, me, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            return Ok(Some(cell));
        }
    }
    Ok(None)
}

/// Every ready root, for statistics, dumps and the sweep. A damaged entry is an error, so
/// a root is never silently left out.
pub fn all(region: &Region) -> Result<Vec<RootCell<'_>>> {
    let mut ready = Vec::new();
    for index in 0..ROOT_COUNT {
        let cell = RootCell { region, index };
        if let Observed::Ready = cell.observe()? {
            ready.push(cell);
        }
    }
    Ok(ready)
}

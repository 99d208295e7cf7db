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
//! | 32     | kind     | what the value points to; decides how the sweep traces it      |
//! | 40     | name_len | bytes of the name                                              |
//! | 48     | name     | up to 80 bytes of UTF-8                                        |
//!
//! `changes` is 32 bits because that is what a futex watches. It is a wake-up token, not a
//! version: a waiter compares the root's full 64-bit value before it sleeps, and the futex
//! only has to tell it "something happened since you looked".

mod futex;

use crate::error::{Error, ErrorKind, Result};
use crate::slab::header::{ROOT_ENTRY_SIZE, ROOT_TABLE_OFFSET};
use crate::slab::process::{self, current_owner};
use crate::slab::{Region, ROOT_COUNT};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const MAX_NAME_LEN: usize = 80;

const STATE_EMPTY: u64 = 0;
const STATE_NAMING: u64 = 1;
const STATE_READY: u64 = 2;

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
    fn code(self) -> u64 {
        match self {
            RootKind::Raw => 0,
            RootKind::HamtMap => 1,
            RootKind::HamtSet => 2,
            RootKind::BTree => 3,
            RootKind::Dao => 4,
        }
    }

    fn from_code(code: u64) -> Option<RootKind> {
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
        if cell.state().load(Ordering::Acquire) != STATE_READY {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("{}: no root at index {index}", region.name()),
            ));
        }
        Ok(cell)
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
            cell.write_name(name, kind)?;
            // Someone may have claimed a lower entry for the same name meanwhile.
            if find(region, name, cell.index)?.is_some() {
                cell.clear();
                continue;
            }
            cell.state().store(STATE_READY, Ordering::Release);
            return Ok(cell);
        }
    }

    fn word(&self, field: u64) -> &'r AtomicU64 {
        self.region.meta(entry(self.index) + field)
    }

    fn value_word(&self) -> &'r AtomicU64 {
        self.word(0)
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
        self.word(16)
    }

    pub fn index(&self) -> u64 {
        self.index
    }

    pub fn kind(&self) -> Result<RootKind> {
        let code = self.word(32).load(Ordering::Acquire);
        RootKind::from_code(code).ok_or_else(|| {
            Error::corrupt(format!(
                "{}: root {} has unknown kind {code}",
                self.region.name(),
                self.index
            ))
        })
    }

    pub fn name(&self) -> Result<String> {
        let len = self.word(40).load(Ordering::Acquire);
        if len as usize > MAX_NAME_LEN {
            return Err(Error::corrupt(format!(
                "{}: root {} has a damaged name",
                self.region.name(),
                self.index
            )));
        }
        let bytes = self.region.bytes(entry(self.index) + 48, len)?;
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

    fn write_name(&self, name: &str, kind: RootKind) -> Result<()> {
        self.state().store(STATE_NAMING, Ordering::Release);
        self.word(32).store(kind.code(), Ordering::Relaxed);
        self.word(0).store(0, Ordering::Relaxed);
        let mut padded = [0u8; MAX_NAME_LEN];
        padded[..name.len()].copy_from_slice(name.as_bytes());
        self.region.write(entry(self.index) + 48, &padded)?;
        self.word(40).store(name.len() as u64, Ordering::Release);
        Ok(())
    }

    /// Gives a claimed entry back: the claimer word goes last, as it is what marks it free.
    fn clear(&self) {
        self.word(40).store(0, Ordering::Relaxed);
        self.state().store(STATE_EMPTY, Ordering::Release);
        self.word(24).store(0, Ordering::Release);
    }

    /// The current value. Acquire: the blocks a root points to were written before the
    /// CAS that published it.
    #[inline]
    pub fn load(&self) -> u64 {
        self.value_word().load(Ordering::Acquire)
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
            let state = cell.state().load(Ordering::Acquire);
            let claimer = cell.word(24).load(Ordering::Acquire);
            match state {
                STATE_READY => {
                    if cell.name()? == name {
                        return Ok(Some(cell));
                    }
                    break;
                }
                STATE_EMPTY if claimer == 0 => break,
                STATE_EMPTY | STATE_NAMING => {
                    if !process::is_alive(process::OwnerWord(claimer)) {
                        // The claimer died mid-way: give the entry back (only if it is still
                        // that claimer's, so a fresh claim is never undone). A read-only
                        // handle cannot write; it just looks past the entry.
                        if region.is_writable() && cell.word(24).load(Ordering::Acquire) == claimer
                        {
                            cell.word(40).store(0, Ordering::Relaxed);
                            cell.state().store(STATE_EMPTY, Ordering::Release);
                            let _ = cell.word(24).compare_exchange(
                                claimer,
                                0,
                                Ordering::AcqRel,
                                Ordering::Acquire,
                            );
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
                other => {
                    return Err(Error::corrupt(format!(
                        "{}: root {index} has unknown state {other}",
                        region.name()
                    )))
                }
            }
        }
    }
    Ok(None)
}

/// Claims a free entry: the CAS on the claimer word is the claim, so an entry is never
/// taken without its claimer being known.
fn claim_empty(region: &Region) -> Result<Option<RootCell<'_>>> {
    let me = current_owner().0;
    for index in 0..ROOT_COUNT {
        let cell = RootCell { region, index };
        if cell
            .word(24)
            .compare_exchange(0, me, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            return Ok(Some(cell));
        }
    }
    Ok(None)
}

/// Every ready root, for statistics, dumps and the sweep.
pub fn all(region: &Region) -> Vec<RootCell<'_>> {
    (0..ROOT_COUNT)
        .map(|index| RootCell { region, index })
        .filter(|cell| cell.state().load(Ordering::Acquire) == STATE_READY)
        .collect()
}

//! The `epoch` layer: safe memory reclamation across threads *and processes*.
//!
//! The protocol, in one paragraph. A shared global epoch `G` starts at 1. A reader pins by
//! copying `G` into its slot of the reader registry (a full fence follows), then loads roots
//! and walks blocks; it unpins by writing 0. A writer that replaced blocks publishes the new
//! root with a CAS first, then retires the replaced blocks in one record stamped with
//! `e = G.fetch_add(1)`. The record may be freed once every pinned slot holds an epoch
//! greater than `e`.
//!
//! Why that is enough: a reader that can still reach a retired block loaded the old root, so
//! its root load came before the writer's CAS, so its earlier load of `G` came before the
//! writer's `fetch_add` and returned at most `e` — and its slot store, fenced before the
//! root load, is visible to any reclaimer that looks after the record was pushed. A reader
//! that pins later reads `G > e` and can only see the new root. All the accesses that this
//! argument orders are `SeqCst` (or fenced), and they work the same between processes as
//! between threads because they are plain atomics on shared physical memory.
//!
//! Retirement records and their list live in the slab, so the process that retires need not
//! be the one that frees. A reader slot belongs to a process identity; a dead process's slot
//! is ignored and taken back the first time it would hold reclamation back.
//!
//! `crossbeam-epoch` is not used: its collector and its participants live in process memory,
//! and what we need to coordinate are threads of *different* processes.

mod checkpoint;
mod registry;
mod retire;

use crate::error::Result;
use crate::slab::header::F_GLOBAL_EPOCH;
use crate::slab::process::{self, OwnerWord};
use crate::slab::Region;
use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once, Weak};

pub use retire::ReclaimReport;

/// Bumped in the child of every `fork`, so a child never uses its parent's reader slots.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);
static ATFORK: Once = Once::new();
static NEXT_HANDLE_ID: AtomicU64 = AtomicU64::new(1);

extern "C" fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::Relaxed);
}

fn fork_generation() -> u64 {
    FORK_GENERATION.load(Ordering::Relaxed)
}

/// The epoch machinery of one open slab handle.
pub struct Epochs {
    shared: Arc<Shared>,
}

struct Shared {
    region: Arc<Region>,
    id: u64,
    /// Slots claimed through this handle, by any thread, with the fork generation they were
    /// claimed in; released when the handle closes.
    claimed: Mutex<Vec<(u64, u64)>>,
    /// Our process identity, cached with the fork generation it belongs to.
    me: Mutex<(u64, OwnerWord)>,
}

impl Shared {
    fn me(&self) -> OwnerWord {
        let mut me = self.me.lock().unwrap_or_else(|e| e.into_inner());
        if me.0 != fork_generation() || me.1 == OwnerWord::NONE {
            *me = (fork_generation(), process::current_owner());
        }
        me.1
    }

    fn release_slot(&self, slot: u64) {
        let mut claimed = self.claimed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = claimed.iter().position(|&(s, _)| s == slot) {
            claimed.swap_remove(at);
            registry::release(&self.region, slot, self.me());
        }
    }
}

/// A thread's reader slot for one handle.
struct LocalSlot {
    handle: u64,
    slot: u64,
    fork_generation: u64,
    owner: Weak<Shared>,
}

/// The thread's slots; dropping it (thread exit) gives them back to the slab.
struct LocalSlots(Vec<LocalSlot>);

impl Drop for LocalSlots {
    fn drop(&mut self) {
        for local in self.0.drain(..) {
            if local.fork_generation != fork_generation() {
                continue;
            }
            if let Some(shared) = local.owner.upgrade() {
                shared.release_slot(local.slot);
            }
        }
    }
}

thread_local! {
    static LOCAL_SLOTS: RefCell<LocalSlots> = const { RefCell::new(LocalSlots(Vec::new())) };
}

impl Epochs {
    pub fn new(region: Arc<Region>) -> Epochs {
        ATFORK.call_once(|| {
            // SAFETY: registering a child handler that only touches an atomic, which is
            // async-signal-safe as pthread_atfork requires.
            unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
        });
        Epochs {
            shared: Arc::new(Shared {
                region,
                id: NEXT_HANDLE_ID.fetch_add(1, Ordering::Relaxed),
                claimed: Mutex::new(Vec::new()),
                me: Mutex::new((u64::MAX, OwnerWord::NONE)),
            }),
        }
    }

    pub fn region(&self) -> &Region {
        &self.shared.region
    }

    /// The calling thread's slot for this handle, claiming one on first use.
    #[inline]
    fn local_slot(&self) -> Result<u64> {
        let generation = fork_generation();
        let found = LOCAL_SLOTS.with(|slots| {
            let mut slots = slots.borrow_mut();
            if slots
                .0
                .first()
                .is_some_and(|s| s.fork_generation != generation)
            {
                // Forked since these were claimed: they are the parent's, not ours.
                slots.0.clear();
            }
            slots
                .0
                .iter()
                .find(|s| s.handle == self.shared.id)
                .map(|s| s.slot)
        });
        match found {
            Some(slot) => Ok(slot),
            None => self.claim_local_slot(generation),
        }
    }

    #[cold]
    fn claim_local_slot(&self, generation: u64) -> Result<u64> {
        let slot = registry::claim(&self.shared.region, self.shared.me())?;
        self.shared
            .claimed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((slot, generation));
        LOCAL_SLOTS.with(|slots| {
            let mut slots = slots.borrow_mut();
            // Entries of handles that were closed since are dead weight for every lookup.
            slots.0.retain(|s| s.owner.strong_count() > 0);
            slots.0.push(LocalSlot {
                handle: self.shared.id,
                slot,
                fork_generation: generation,
                owner: Arc::downgrade(&self.shared),
            })
        });
        Ok(slot)
    }

    /// Pins the current global epoch for this thread. Re-entrant: nested pins share the
    /// outermost pin's epoch. Everything read from the slab while the guard lives stays valid.
    #[inline]
    pub fn pin(&self) -> Result<Guard<'_>> {
        let region: &Region = &self.shared.region;
        if !region.is_writable() {
            // A read-only mapping cannot publish an epoch; read-only handles are protected
            // by their lock on the read-only byte instead (see `retire::reclaim`).
            return Ok(Guard {
                epochs: self,
                slot: None,
                fork_generation: fork_generation(),
                _not_send: PhantomData,
            });
        }
        let index = self.local_slot()?;
        let slot = registry::slot(region, index);
        let depth = slot.depth.load(Ordering::Relaxed);
        if depth == 0 {
            let global = region.meta(F_GLOBAL_EPOCH).load(Ordering::SeqCst);
            publish_epoch(slot.epoch, global);
        }
        slot.depth.store(depth + 1, Ordering::Relaxed);
        Ok(Guard {
            epochs: self,
            slot: Some((slot.epoch, slot.depth)),
            fork_generation: fork_generation(),
            _not_send: PhantomData,
        })
    }

    /// Retires blocks that the caller just unlinked by publishing a new root. They are
    /// freed once no reader anywhere can still hold them. Must be called while pinned.
    pub fn retire(&self, blocks: &[u64]) -> Result<()> {
        retire::retire(&self.shared.region, blocks, self.shared.me())
    }

    /// Frees every retired block no pinned reader can reach any more. In a slab on disk
    /// that had a checkpoint, that is a checkpoint (see `checkpoint`).
    pub fn reclaim(&self) -> Result<ReclaimReport> {
        let _guard = self.pin()?;
        let region = &self.shared.region;
        let me = self.shared.me();
        if region.is_volatile() {
            return retire::reclaim(region, me);
        }
        if region.sync_floor() == 0 {
            if let Some(report) = checkpoint::free_before_first_checkpoint(region, me, true)? {
                return Ok(report);
            }
        }
        checkpoint::checkpoint(region, me, true, checkpoint::Freeing::All)
            .map(Option::unwrap_or_default)
    }

    /// Returns once every root published before the call is on disk (a durable commit,
    /// after its CAS).
    pub fn sync_roots(&self) -> Result<()> {
        checkpoint::sync_roots(&self.shared.region, self.shared.me())
    }

    /// Runs a checkpoint without freeing anything. Only for the sweep, which frees by
    /// rebuilding the free lists.
    pub fn checkpoint_keeping_retired(&self) -> Result<()> {
        let (region, me) = (&self.shared.region, self.shared.me());
        checkpoint::checkpoint(region, me, true, checkpoint::Freeing::Nothing).map(|_| ())
    }

    /// (pinned readers, oldest pinned epoch).
    pub fn census(&self) -> (u64, Option<u64>) {
        registry::census(&self.shared.region)
    }

    /// Every claimed reader slot: (index, owner, pinned epoch or 0); does not reap.
    pub fn claimed(&self) -> Vec<(u64, OwnerWord, u64)> {
        registry::claimed(&self.shared.region)
    }

    /// The retirement records waiting for readers, with the blocks each holds.
    pub fn retired_records(&self) -> Result<Vec<(u64, Vec<u64>)>> {
        retire::records(&self.shared.region)
    }

    /// Frees the sync role whoever holds it. Only for the sweep, which holds the slab
    /// alone: whoever the role names is dead, or the word is damaged.
    pub fn take_back_sync_role(&self) {
        checkpoint::clear_sync_role(&self.shared.region);
    }

    /// Takes back the slots of dead processes; returns how many.
    pub fn reap_dead(&self) -> u64 {
        registry::reap_dead(&self.shared.region, u64::MAX)
    }

    /// Forgets every retirement record. Only for the sweep, which frees what they held as
    /// part of rebuilding the heap while it holds the slab exclusively.
    pub fn forget_retired(&self) {
        retire::forget_all(&self.shared.region)
    }
}

impl Drop for Epochs {
    fn drop(&mut self) {
        let me = self.shared.me();
        let generation = fork_generation();
        let mut claimed = self
            .shared
            .claimed
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for (slot, claimed_in) in claimed.drain(..) {
            if claimed_in == generation {
                registry::release(&self.shared.region, slot, me);
            }
        }
    }
}

/// Stores the pinned epoch so that it is visible to every other core before any load that
/// follows (the loads of roots and blocks the pin protects).
#[inline]
fn publish_epoch(slot: &AtomicU64, epoch: u64) {
    #[cfg(target_arch = "x86_64")]
    {
        // On x86-64 a locked exchange is a full barrier, and a cheaper one than a store
        // followed by `mfence`.
        slot.swap(epoch, Ordering::SeqCst);
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        slot.store(epoch, Ordering::Relaxed);
        std::sync::atomic::fence(Ordering::SeqCst);
    }
}

/// Proof that the current thread is pinned. Borrowed slices handed out by the layers above
/// live no longer than the guard. Not `Send`: the pin belongs to this thread's slot.
pub struct Guard<'e> {
    epochs: &'e Epochs,
    /// The slot's epoch and depth words; `None` for read-only handles.
    slot: Option<(&'e AtomicU64, &'e AtomicU64)>,
    fork_generation: u64,
    _not_send: PhantomData<*const ()>,
}

impl Guard<'_> {
    pub fn region(&self) -> &Region {
        self.epochs.region()
    }

    /// The epoch this pin holds (0 for read-only handles, which do not publish one).
    pub fn epoch(&self) -> u64 {
        self.slot
            .map_or(0, |(epoch, _)| epoch.load(Ordering::Relaxed))
    }
}

impl Drop for Guard<'_> {
    #[inline]
    fn drop(&mut self) {
        let Some((epoch, depth)) = self.slot else {
            return;
        };
        if self.fork_generation != fork_generation() {
            // A guard that crossed a fork belongs to the parent's slot: leave it alone.
            return;
        }
        let remaining = depth.load(Ordering::Relaxed) - 1;
        depth.store(remaining, Ordering::Relaxed);
        if remaining == 0 {
            // Release: every read made under the pin happens before the slot reads 0.
            epoch.store(0, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests;

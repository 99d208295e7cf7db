//! The `hamt` layer: a persistent hash map (and set) of byte strings living in the slab.
//!
//! Reads walk the published tree in place and hand out slices borrowed from the slab for as
//! long as the caller's pin lives. Writes build a new version by path copying (`edit`) and
//! publish it with one CAS on the map's root; on conflict the new blocks are freed at once
//! and the whole batch is re-run on the version that won.

mod edit;
mod node;

use crate::alloc::kind;
use crate::epoch::Guard;
use crate::error::{Error, ErrorKind, Result};
use crate::handle::Slab;
use crate::root::{RootCell, RootKind};
use crate::slab::Region;
use edit::Edit;
use std::time::Duration;

pub(crate) use node::children as node_children;

/// One change in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op<'a> {
    Insert(&'a [u8], &'a [u8]),
    Remove(&'a [u8]),
}

/// What an update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commit {
    /// False when the batch changed nothing: then nothing was published or retired.
    pub changed: bool,
    /// The root word after the update (the new version, or the unchanged one).
    pub root: u64,
    /// How many times the batch was re-run because another writer published first.
    pub retries: u64,
}

/// A consistent, read-only view of one version of a map, valid while its pin lives.
#[derive(Clone, Copy)]
pub struct Snapshot<'g> {
    region: &'g Region,
    root: u64,
}

impl<'g> Snapshot<'g> {
    /// The version whose root word is `root`, which the caller read from a root of the
    /// guard's slab while `guard` was already pinned.
    pub(crate) fn at(guard: &'g Guard<'_>, root: u64) -> Snapshot<'g> {
        Snapshot {
            region: guard.region(),
            root,
        }
    }

    /// The value stored under `key`, borrowed from the slab (no copy).
    pub fn get(&self, key: &[u8]) -> Result<Option<&'g [u8]>> {
        Ok(node::get(self.region, self.root, node::hash_key(key), key)?.map(|leaf| leaf.value))
    }

    /// The values of many keys at once, in order, borrowed from the slab. The lookups run
    /// side by side so their cache misses overlap: for keys spread over a large map this is
    /// several times faster than calling `get` for each.
    pub fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<&'g [u8]>>> {
        let hashed: Vec<(u64, &[u8])> = keys.iter().map(|k| (node::hash_key(k), *k)).collect();
        let mut out = vec![None; keys.len()];
        node::get_many(self.region, self.root, &hashed, |i, leaf| {
            out[i] = leaf.map(|leaf| leaf.value)
        })?;
        Ok(out)
    }

    pub fn contains(&self, key: &[u8]) -> Result<bool> {
        Ok(self.get(key)?.is_some())
    }

    pub fn len(&self) -> Result<u64> {
        node::count(self.region, self.root)
    }

    pub fn is_empty(&self) -> bool {
        self.root == 0
    }

    /// The root word of this version.
    pub fn root(&self) -> u64 {
        self.root
    }

    /// Every (key, value) pair, in hash order, borrowed from the slab.
    pub fn iter(&self) -> Iter<'g> {
        Iter {
            region: self.region,
            nodes: if self.root == 0 {
                vec![]
            } else {
                vec![(self.root, 0)]
            },
            leaves: Vec::new(),
            at: 0,
            remaining: node::count(self.region, self.root).ok(),
        }
    }
}

/// Iterator over a snapshot. Yields an error (once) if it meets a damaged block; damaged
/// offsets that form a cycle are caught by the depth limit and the root's entry count.
pub struct Iter<'g> {
    region: &'g Region,
    /// Nodes still to visit, with the hash shift they sit at.
    nodes: Vec<(u64, u32)>,
    leaves: Vec<u64>,
    at: usize,
    /// Entries the root says are left to yield (`None` if its count could not be read).
    remaining: Option<u64>,
}

impl<'g> Iter<'g> {
    fn fail(&mut self, error: Error) -> Option<Result<(&'g [u8], &'g [u8])>> {
        self.nodes.clear();
        self.leaves.clear();
        Some(Err(error))
    }
}

impl<'g> Iterator for Iter<'g> {
    type Item = Result<(&'g [u8], &'g [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(&leaf) = self.leaves.get(self.at) {
                self.at += 1;
                match self.remaining.as_mut() {
                    Some(0) | None => {
                        let e = Error::corrupt(format!(
                            "{}: map holds more entries than its root counts",
                            self.region.name()
                        ));
                        return self.fail(e);
                    }
                    Some(n) => *n -= 1,
                }
                return Some(node::read_leaf(self.region, leaf).map(|l| (l.key, l.value)));
            }
            let (node, shift) = self.nodes.pop()?;
            let visited = node::kind_of(self.region, node).and_then(|k| {
                if k == kind::HAMT_BRANCH {
                    node::check_depth(self.region, shift)?;
                }
                node::children(self.region, node)
            });
            match visited {
                Ok((leaves, children)) => {
                    self.leaves = leaves;
                    self.at = 0;
                    self.nodes
                        .extend(children.into_iter().rev().map(|c| (c, shift + node::BITS)));
                }
                Err(e) => return self.fail(e),
            }
        }
    }
}

/// A batch being built inside `HamtMap::update`. Reads see the batch's own changes.
pub struct MapTxn<'r> {
    edit: Edit<'r>,
}

impl MapTxn<'_> {
    pub fn get(&self, key: &[u8]) -> Result<Option<&[u8]>> {
        let region = self.edit.region();
        Ok(node::get(region, self.edit.root(), node::hash_key(key), key)?.map(|l| l.value))
    }

    pub fn contains(&self, key: &[u8]) -> Result<bool> {
        Ok(self.get(key)?.is_some())
    }

    pub fn len(&self) -> Result<u64> {
        node::count(self.edit.region(), self.edit.root())
    }

    pub fn is_empty(&self) -> bool {
        self.edit.root() == 0
    }

    /// Sets `key` to `value`. Returns false if it already had exactly that value.
    pub fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<bool> {
        self.edit.insert(key, value)
    }

    /// Removes `key`. Returns false if it was absent.
    pub fn remove(&mut self, key: &[u8]) -> Result<bool> {
        self.edit.remove(key)
    }
}

/// A persistent map of byte keys to byte values, stored under a named root.
#[derive(Clone, Copy)]
pub struct HamtMap<'s> {
    slab: &'s Slab,
    cell: RootCell<'s>,
}

impl<'s> HamtMap<'s> {
    pub(crate) fn open(
        slab: &'s Slab,
        name: &str,
        kind: RootKind,
        create: bool,
    ) -> Result<HamtMap<'s>> {
        let cell = RootCell::named(slab.region(), name, kind, create)?;
        Ok(HamtMap { slab, cell })
    }

    /// The map (or, with `allow_set`, the set) at `index` of the root table.
    pub(crate) fn at(slab: &'s Slab, index: u64, allow_set: bool) -> Result<HamtMap<'s>> {
        let cell = RootCell::at(slab.region(), index)?;
        match cell.kind()? {
            RootKind::HamtMap => {}
            RootKind::HamtSet if allow_set => {}
            kind => {
                return Err(Error::new(
                    ErrorKind::WrongKind,
                    format!(
                        "root {index} ({:?}) is a {kind:?} root, not a map",
                        cell.name()?
                    ),
                ))
            }
        }
        Ok(HamtMap { slab, cell })
    }

    fn check_guard(&self, guard: &Guard<'_>) -> Result<()> {
        if std::ptr::eq(guard.region(), self.slab.region()) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::InvalidArgument,
                "the guard was pinned on a different slab handle",
            ))
        }
    }

    /// The version published now, readable while `guard` lives.
    pub fn snapshot<'g>(&self, guard: &'g Guard<'_>) -> Result<Snapshot<'g>> {
        self.check_guard(guard)?;
        Ok(Snapshot {
            region: guard.region(),
            root: self.cell.load(),
        })
    }

    /// Looks `key` up in the current version; the slice stays valid while `guard` lives.
    pub fn get<'g>(&self, guard: &'g Guard<'_>, key: &[u8]) -> Result<Option<&'g [u8]>> {
        self.snapshot(guard)?.get(key)
    }

    /// Number of entries in the current version.
    pub fn len(&self) -> Result<u64> {
        let guard = self.slab.pin()?;
        self.snapshot(&guard)?.len()
    }

    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// The root word of the current version.
    pub fn root(&self) -> u64 {
        self.cell.load()
    }

    /// Index of this map's root in the slab's root table.
    pub fn root_index(&self) -> u64 {
        self.cell.index()
    }

    /// Runs `batch` against the current version and publishes the result with one CAS.
    /// If another writer publishes first, the unpublished blocks are freed and `batch`
    /// runs again on the new version, so it must be safe to call more than once. An error
    /// from `batch` abandons the update and is returned.
    pub fn update<R>(
        &self,
        mut batch: impl FnMut(&mut MapTxn<'_>) -> Result<R>,
    ) -> Result<(R, Commit)> {
        let region = self.slab.region();
        if !region.is_writable() {
            return Err(region.read_only_error());
        }
        let mut retries = 0u64;
        loop {
            let _guard = self.slab.pin()?;
            let base = self.cell.load();
            let mut txn = MapTxn {
                edit: Edit::new(region, base),
            };
            let value = batch(&mut txn)?;
            let mut edit = txn.edit;
            if edit.root() == base || edit.unchanged()? {
                // Dropping the edit frees whatever it allocated.
                return Ok((
                    value,
                    Commit {
                        changed: false,
                        root: base,
                        retries,
                    },
                ));
            }
            let root = edit.root();
            // Lost already (another writer won meanwhile): the edit, not sealed yet, is
            // dropped below and frees its blocks at once for the retry to reuse.
            if self.cell.load() == base {
                edit.seal()?;
                if self.cell.compare_exchange(base, root).is_ok() {
                    let unlinked = edit.published();
                    self.slab.retire_after_publish(&unlinked);
                    return Ok((
                        value,
                        Commit {
                            changed: true,
                            root,
                            retries,
                        },
                    ));
                }
                self.slab.retire_after_publish(&edit.withdraw());
            }
            retries += 1;
            backoff(retries);
        }
    }

    /// Applies a batch of inserts and removes atomically.
    pub fn apply(&self, ops: &[Op<'_>]) -> Result<Commit> {
        self.update(|txn| {
            for op in ops {
                match *op {
                    Op::Insert(k, v) => txn.insert(k, v)?,
                    Op::Remove(k) => txn.remove(k)?,
                };
            }
            Ok(())
        })
        .map(|((), commit)| commit)
    }

    pub fn insert(&self, key: &[u8], value: &[u8]) -> Result<Commit> {
        self.apply(&[Op::Insert(key, value)])
    }

    pub fn remove(&self, key: &[u8]) -> Result<Commit> {
        self.apply(&[Op::Remove(key)])
    }

    /// Blocks until the map's root differs from `seen` (any process may change it), or the
    /// timeout passes. Returns the root word seen last.
    pub fn wait_for_change(&self, seen: u64, timeout: Option<Duration>) -> u64 {
        self.cell.wait_for_change(seen, timeout)
    }
}

/// A persistent set of byte strings: a map whose values are empty.
#[derive(Clone, Copy)]
pub struct HamtSet<'s> {
    map: HamtMap<'s>,
}

impl<'s> HamtSet<'s> {
    pub(crate) fn open(slab: &'s Slab, name: &str, create: bool) -> Result<HamtSet<'s>> {
        Ok(HamtSet {
            map: HamtMap::open(slab, name, RootKind::HamtSet, create)?,
        })
    }

    pub fn snapshot<'g>(&self, guard: &'g Guard<'_>) -> Result<Snapshot<'g>> {
        self.map.snapshot(guard)
    }

    pub fn contains(&self, guard: &Guard<'_>, member: &[u8]) -> Result<bool> {
        self.map.snapshot(guard)?.contains(member)
    }

    pub fn len(&self) -> Result<u64> {
        self.map.len()
    }

    pub fn is_empty(&self) -> Result<bool> {
        self.map.is_empty()
    }

    pub fn root(&self) -> u64 {
        self.map.root()
    }

    /// Adds and removes members in one atomic batch.
    pub fn apply(&self, add: &[&[u8]], remove: &[&[u8]]) -> Result<Commit> {
        self.map
            .update(|txn| {
                for member in add {
                    txn.insert(member, &[])?;
                }
                for member in remove {
                    txn.remove(member)?;
                }
                Ok(())
            })
            .map(|((), commit)| commit)
    }

    pub fn insert(&self, member: &[u8]) -> Result<Commit> {
        self.apply(&[member], &[])
    }

    pub fn remove(&self, member: &[u8]) -> Result<Commit> {
        self.apply(&[], &[member])
    }

    pub fn wait_for_change(&self, seen: u64, timeout: Option<Duration>) -> u64 {
        self.map.wait_for_change(seen, timeout)
    }
}

/// Spins briefly, then yields: on a 2-core machine a writer that keeps retrying without
/// yielding can starve the very process it is waiting for.
fn backoff(retries: u64) {
    if retries < 4 {
        for _ in 0..(1 << retries) {
            std::hint::spin_loop();
        }
    } else {
        std::thread::yield_now();
    }
}

/// Is `block` a HAMT node (the sweep uses this to trace typed roots)?
pub(crate) fn is_node_kind(block_kind: u8) -> bool {
    matches!(block_kind, kind::HAMT_BRANCH | kind::HAMT_COLLISION)
}

#[cfg(test)]
mod tests;

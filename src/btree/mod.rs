//! The `btree` layer: a persistent B+tree of byte keys in the slab, kept in byte order.
//! It is the storage of DaoDB's covering indexes, where a key is a whole encoded datom.
//!
//! Reads walk the published tree in place: `range` and `range_rev` hand out keys borrowed
//! from the slab for as long as the caller's pin lives. Writes take a whole batch, sort it
//! once and rebuild each affected node once (`edit`), then publish with one CAS on the
//! tree's root; on conflict the unpublished nodes are freed and the batch is applied again
//! to the version that won. A batch that changes nothing publishes nothing.

mod edit;
mod node;

pub use edit::KeyOp;
pub use node::MAX_KEY_LEN;

use crate::epoch::Guard;
use crate::error::{Error, ErrorKind, Result};
use crate::hamt::Commit;
use crate::handle::Slab;
use crate::root::{RootCell, RootKind};
use crate::slab::Region;
pub(crate) use edit::{normalise, Edit};
use node::{compare_keys, Node};
use std::cmp::Ordering;
use std::ops::Bound;

pub(crate) use node::children as node_children;

/// A persistent sorted set of byte strings, stored under a named root.
#[derive(Clone, Copy)]
pub struct BTree<'s> {
    slab: &'s Slab,
    cell: RootCell<'s>,
}

impl<'s> BTree<'s> {
    pub(crate) fn open(slab: &'s Slab, name: &str, create: bool) -> Result<BTree<'s>> {
        let cell = RootCell::named(slab.region(), name, RootKind::BTree, create)?;
        Ok(BTree { slab, cell })
    }

    /// The version published now, readable while `guard` lives.
    pub fn snapshot<'g>(&self, guard: &'g Guard<'_>) -> Result<TreeSnapshot<'g>> {
        if !std::ptr::eq(guard.region(), self.slab.region()) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "the guard was pinned on a different slab handle",
            ));
        }
        Ok(TreeSnapshot {
            region: guard.region(),
            root: self.cell.load(),
        })
    }

    /// The root word of the current version (0 when empty).
    pub fn root(&self) -> u64 {
        self.cell.load()
    }

    /// Applies a batch of inserts and removes atomically (later changes to the same key
    /// win). The batch is sorted once and each node it touches is copied once.
    pub fn apply(&self, ops: &[KeyOp<'_>]) -> Result<Commit> {
        for op in ops {
            check_key(op.key())?;
        }
        let ops = edit::normalise(ops);
        let region = self.slab.region();
        if !region.is_writable() {
            return Err(region.read_only_error());
        }
        let mut retries = 0;
        loop {
            let _guard = self.slab.pin()?;
            let base = self.cell.load();
            let mut edit = Edit::new(region, base);
            if !edit.apply(&ops)? {
                return Ok(Commit {
                    changed: false,
                    root: base,
                    retries,
                });
            }
            let root = edit.root();
            // Lost already (another writer won meanwhile): the edit, not sealed yet, is
            // dropped below and frees its blocks at once for the retry to reuse.
            if self.cell.load() == base {
                edit.seal()?;
                if self.cell.compare_exchange(base, root).is_ok() {
                    let unlinked = edit.published();
                    self.slab.retire_after_publish(&unlinked);
                    return Ok(Commit {
                        changed: true,
                        root,
                        retries,
                    });
                }
                self.slab.retire_after_publish(&edit.withdraw());
            }
            retries += 1;
            if retries > 3 {
                std::thread::yield_now();
            }
        }
    }

    /// Adds every key of `keys` in one batch: on an empty tree this is a bulk build that
    /// writes each node once, bottom up.
    pub fn extend<'k>(&self, keys: impl IntoIterator<Item = &'k [u8]>) -> Result<Commit> {
        let ops: Vec<KeyOp<'k>> = keys.into_iter().map(KeyOp::Insert).collect();
        self.apply(&ops)
    }

    pub fn insert(&self, key: &[u8]) -> Result<Commit> {
        self.apply(&[KeyOp::Insert(key)])
    }

    pub fn remove(&self, key: &[u8]) -> Result<Commit> {
        self.apply(&[KeyOp::Remove(key)])
    }
}

fn check_key(key: &[u8]) -> Result<()> {
    if key.len() > MAX_KEY_LEN {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "a B+tree key is at most {MAX_KEY_LEN} bytes, not {}",
                key.len()
            ),
        ));
    }
    Ok(())
}

/// One version of a tree, valid while its pin lives.
#[derive(Clone, Copy)]
pub struct TreeSnapshot<'g> {
    region: &'g Region,
    root: u64,
}

impl<'g> TreeSnapshot<'g> {
    /// The version whose root node is `root`, read while a pin on `region` is held.
    pub(crate) fn at(region: &'g Region, root: u64) -> TreeSnapshot<'g> {
        TreeSnapshot { region, root }
    }

    pub fn root(&self) -> u64 {
        self.root
    }

    pub fn is_empty(&self) -> bool {
        self.root == 0
    }

    pub fn contains(&self, key: &[u8]) -> Result<bool> {
        let mut found = self.range(Bound::Included(key), Bound::Included(key));
        Ok(found.next().transpose()?.is_some())
    }

    /// The keys in `(start, end)`, ascending, borrowed from the slab.
    pub fn range(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Range<'g> {
        Range::new(self.region, self.root, start, end, false)
    }

    /// The keys in `(start, end)`, descending, borrowed from the slab.
    pub fn range_rev(&self, start: Bound<&[u8]>, end: Bound<&[u8]>) -> Range<'g> {
        Range::new(self.region, self.root, start, end, true)
    }

    /// Every key, ascending.
    pub fn iter(&self) -> Range<'g> {
        self.range(Bound::Unbounded, Bound::Unbounded)
    }

    /// About how many keys lie in `[start, end)` (`end` `None`: to the last key), from two
    /// descents and no scan: each key's position is taken as a fraction of the tree by the
    /// child indexes on its path, and the tree's size as the product of the fan-outs on
    /// the path to `start`. Exact when both ends fall in one leaf; meant for choosing
    /// between scans, not for counting.
    pub fn estimate_range(&self, start: &[u8], end: Option<&[u8]>) -> Result<u64> {
        if self.root == 0 {
            return Ok(0);
        }
        let (low, size) = self.fraction(start)?;
        let high = match end {
            Some(end) => self.fraction(end)?.0,
            None => 1.0,
        };
        Ok(((high - low).max(0.0) * size).round() as u64)
    }

    /// Where the first key `>= key` sits, as a fraction of the tree, and the tree's size
    /// as seen along that path.
    fn fraction(&self, key: &[u8]) -> Result<(f64, f64)> {
        let (mut low, mut width, mut size) = (0.0, 1.0, 1.0);
        let mut node = Node::read(self.region, self.root)?;
        loop {
            let count = node.count.max(1) as f64;
            size *= count;
            if node.is_leaf {
                low += width * node.lower_bound(key, false)? as f64 / count;
                return Ok((low, size));
            }
            let i = node.child_for(key)?;
            width /= count;
            low += width * i as f64;
            let child = Node::read(self.region, node.child(i))?;
            node.check_child(&child)?;
            node = child;
        }
    }

    /// Number of keys (walks the leaves).
    pub fn len(&self) -> Result<u64> {
        let mut n = 0;
        for key in self.iter() {
            key?;
            n += 1;
        }
        Ok(n)
    }
}

/// A cursor over a range of a tree, in either direction. The path from the root is kept
/// as a stack, so each step costs O(1) amortised and reads only the nodes it visits. Yields
/// an error (once, then ends) if it meets a damaged node.
pub struct Range<'g> {
    region: &'g Region,
    root: u64,
    /// (node, position): for a branch, the child being visited; for a leaf, the next key
    /// to yield (forward) or one past it (reverse).
    path: Vec<(Node<'g>, usize)>,
    start: Bound<Vec<u8>>,
    end: Bound<Vec<u8>>,
    reverse: bool,
    started: bool,
    done: bool,
}

/// Sets `slot` to `bound`, reusing its buffer.
fn set_bound(slot: &mut Bound<Vec<u8>>, bound: Bound<&[u8]>) {
    let mut buffer = match std::mem::replace(slot, Bound::Unbounded) {
        Bound::Included(b) | Bound::Excluded(b) => b,
        Bound::Unbounded => Vec::new(),
    };
    buffer.clear();
    *slot = match bound {
        Bound::Included(k) => {
            buffer.extend_from_slice(k);
            Bound::Included(buffer)
        }
        Bound::Excluded(k) => {
            buffer.extend_from_slice(k);
            Bound::Excluded(buffer)
        }
        Bound::Unbounded => Bound::Unbounded,
    };
}

fn owned(bound: Bound<&[u8]>) -> Bound<Vec<u8>> {
    match bound {
        Bound::Included(k) => Bound::Included(k.to_vec()),
        Bound::Excluded(k) => Bound::Excluded(k.to_vec()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

impl<'g> Range<'g> {
    fn new(
        region: &'g Region,
        root: u64,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        reverse: bool,
    ) -> Range<'g> {
        Range {
            region,
            root,
            path: Vec::new(),
            start: owned(start),
            end: owned(end),
            reverse,
            started: false,
            done: root == 0,
        }
    }

    /// Descends from the root to the first key of the range (forward) or just past the
    /// last one (reverse).
    fn seek(&mut self) -> Result<()> {
        let root = Node::read(self.region, self.root)?;
        self.seek_from(root)
    }

    /// [`seek`](Self::seek), from `node` down (the path above it is already in place).
    fn seek_from(&mut self, mut node: Node<'g>) -> Result<()> {
        loop {
            if node.is_leaf {
                let position = if self.reverse {
                    match &self.end {
                        Bound::Included(k) => node.lower_bound(k, true)?,
                        Bound::Excluded(k) => node.lower_bound(k, false)?,
                        Bound::Unbounded => node.count,
                    }
                } else {
                    match &self.start {
                        Bound::Included(k) => node.lower_bound(k, false)?,
                        Bound::Excluded(k) => node.lower_bound(k, true)?,
                        Bound::Unbounded => 0,
                    }
                };
                self.path.push((node, position));
                return Ok(());
            }
            let i = if self.reverse {
                match &self.end {
                    Bound::Included(k) => node.child_for(k)?,
                    // The last child whose smallest key is below `k`.
                    Bound::Excluded(k) => node.lower_bound(k, false)?.saturating_sub(1),
                    Bound::Unbounded => node.count - 1,
                }
            } else {
                match &self.start {
                    Bound::Included(k) | Bound::Excluded(k) => node.child_for(k)?,
                    Bound::Unbounded => 0,
                }
            };
            let child = Node::read(self.region, node.child(i))?;
            node.check_child(&child)?;
            self.path.push((node, i));
            node = child;
        }
    }

    /// Pushes the path from `node` down to its first (forward) or last (reverse) key.
    fn descend(&mut self, mut node: Node<'g>) -> Result<()> {
        loop {
            if node.is_leaf {
                let position = if self.reverse { node.count } else { 0 };
                self.path.push((node, position));
                return Ok(());
            }
            let i = if self.reverse { node.count - 1 } else { 0 };
            let child = Node::read(self.region, node.child(i))?;
            node.check_child(&child)?;
            self.path.push((node, i));
            node = child;
        }
    }

    fn step(&mut self) -> Result<Option<&'g [u8]>> {
        loop {
            let reverse = self.reverse;
            let Some((node, position)) = self.path.last_mut() else {
                return Ok(None);
            };
            let node = *node;
            if node.is_leaf {
                if reverse && *position > 0 {
                    *position -= 1;
                    return node.key(*position).map(Some);
                }
                if !reverse && *position < node.count {
                    *position += 1;
                    return node.key(*position - 1).map(Some);
                }
                self.path.pop();
                continue;
            }
            // A branch on top: the child at `position` is exhausted; move to its sibling.
            let next = if reverse {
                position.checked_sub(1)
            } else {
                Some(*position + 1).filter(|&p| p < node.count)
            };
            match next {
                None => {
                    self.path.pop();
                }
                Some(p) => {
                    *position = p;
                    let child = Node::read(self.region, node.child(p))?;
                    node.check_child(&child)?;
                    self.descend(child)?;
                }
            }
        }
    }

    fn in_range(&self, key: &[u8]) -> bool {
        if self.reverse {
            match &self.start {
                Bound::Included(k) => compare_keys(key, k) != Ordering::Less,
                Bound::Excluded(k) => compare_keys(key, k) == Ordering::Greater,
                Bound::Unbounded => true,
            }
        } else {
            match &self.end {
                Bound::Included(k) => compare_keys(key, k) != Ordering::Greater,
                Bound::Excluded(k) => compare_keys(key, k) == Ordering::Less,
                Bound::Unbounded => true,
            }
        }
    }

    /// Makes a forward cursor yield the keys in `[start, end)` (`end` `None`: to the last
    /// key). The path already held is reused from the lowest node that covers `start` (a
    /// finger search), so visiting ascending, nearby ranges one after another costs a few
    /// comparisons each instead of a descent from the root.
    pub fn reposition(&mut self, start: &[u8], end: Option<&[u8]>) -> Result<()> {
        assert!(!self.reverse, "reposition moves forward cursors");
        set_bound(&mut self.start, Bound::Included(start));
        set_bound(&mut self.end, end.map_or(Bound::Unbounded, Bound::Excluded));
        self.started = true;
        self.done = self.root == 0;
        if self.done {
            return Ok(());
        }
        let result = self.reposition_path(start);
        if result.is_err() {
            self.done = true;
            self.path.clear();
        }
        result
    }

    fn reposition_path(&mut self, start: &[u8]) -> Result<()> {
        // The first key >= start lies under a node when start is above the node's first
        // key and not above its last key (for a branch, below its last child's smallest key,
        // since that child's upper end is not known here). The root covers everything.
        // Cursors mostly move forward, so the last key is checked first; the search that
        // then places the cursor also tells whether start is above the first key.
        for level in (1..self.path.len()).rev() {
            let node = self.path[level].0;
            let n = node.count;
            if node.is_leaf {
                if compare_keys(start, node.key(n - 1)?) == Ordering::Greater {
                    continue;
                }
                let i = node.lower_bound(start, false)?;
                if i == 0 {
                    continue;
                }
                self.path.truncate(level);
                self.path.push((node, i));
                return Ok(());
            }
            if n < 2 || compare_keys(start, node.key(n - 1)?) != Ordering::Less {
                continue;
            }
            // The number of keys <= start: the child holding start is the one before.
            let j = node.lower_bound(start, true)?;
            if j == 0 {
                continue;
            }
            self.path.truncate(level);
            self.path.push((node, j - 1));
            let child = Node::read(self.region, node.child(j - 1))?;
            node.check_child(&child)?;
            return self.seek_from(child);
        }
        self.path.clear();
        self.seek()
    }

    fn fail(&mut self, error: Error) -> Option<Result<&'g [u8]>> {
        self.done = true;
        self.path.clear();
        Some(Err(error))
    }
}

impl<'g> Iterator for Range<'g> {
    type Item = Result<&'g [u8]>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if !self.started {
            self.started = true;
            if let Err(e) = self.seek() {
                return self.fail(e);
            }
        }
        match self.step() {
            Ok(Some(key)) if self.in_range(key) => Some(Ok(key)),
            Ok(_) => {
                // The path is kept: `reposition` may start from it.
                self.done = true;
                None
            }
            Err(e) => self.fail(e),
        }
    }
}

/// Is `block_kind` a B+tree node (the sweep uses this to trace B+tree roots)?
pub(crate) fn is_node_kind(block_kind: u8) -> bool {
    matches!(
        block_kind,
        crate::alloc::kind::BTREE_LEAF
            | crate::alloc::kind::BTREE_BRANCH
            | crate::alloc::kind::BTREE_KEY
    )
}

#[cfg(test)]
mod tests;

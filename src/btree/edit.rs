//! Batch edits by path copying. A batch is sorted once and pushed down the tree in one pass:
//! every node whose subtree the batch changes is rebuilt once, however many keys of the
//! batch land in it, and its replacement (zero, one or several nodes after splits) goes up
//! to the parent, which is rebuilt in turn. Fresh nodes that come out too small are merged
//! with a neighbour. Nothing published is ever written; replaced published nodes are
//! returned for retirement, and replaced fresh ones are freed at once.

use super::node::{self, Entry, Node, MIN_FILL};
use crate::alloc::{kind, Draft, BLOCK_HEADER_SIZE};
use crate::error::Result;
use crate::slab::Region;

/// One change of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOp<'a> {
    Insert(&'a [u8]),
    Remove(&'a [u8]),
}

impl<'a> KeyOp<'a> {
    pub fn key(&self) -> &'a [u8] {
        match *self {
            KeyOp::Insert(k) | KeyOp::Remove(k) => k,
        }
    }
}

/// Sorts a batch by key, keeping only the last change of each key.
pub fn normalise<'a>(ops: &[KeyOp<'a>]) -> Vec<KeyOp<'a>> {
    let mut sorted: Vec<(usize, KeyOp<'a>)> = ops.iter().copied().enumerate().collect();
    sorted.sort_by(|a, b| a.1.key().cmp(b.1.key()).then(b.0.cmp(&a.0)));
    sorted.dedup_by(|later, first| later.1.key() == first.1.key());
    sorted.into_iter().map(|(_, op)| op).collect()
}

pub struct Edit<'r> {
    region: &'r Region,
    draft: Draft<'r>,
    root: u64,
}

/// What an edited subtree turned into, as entries for its parent. `None`: unchanged.
type Replacement<'r> = Option<Vec<Entry<'r>>>;

impl<'r> Edit<'r> {
    pub fn new(region: &'r Region, base: u64) -> Edit<'r> {
        Edit {
            region,
            draft: Draft::new(region),
            root: base,
        }
    }

    pub fn root(&self) -> u64 {
        self.root
    }

    /// Forgets the fresh blocks (they belong to a published version now) and returns the
    /// published blocks the new version no longer uses.
    pub fn published(mut self) -> Vec<u64> {
        self.draft.published()
    }

    /// Seals the new version's blocks; the next step is its publishing CAS.
    pub fn seal(&mut self) -> Result<()> {
        self.draft.seal()
    }

    /// The sealed version was not published: returns its blocks, for retirement.
    pub fn withdraw(mut self) -> Vec<u64> {
        self.draft.withdraw()
    }

    /// Applies a normalised batch (see `normalise`). Returns whether anything changed.
    pub fn apply(&mut self, ops: &[KeyOp<'_>]) -> Result<bool> {
        let replacement = if self.root == 0 {
            let keys: Vec<&[u8]> = ops
                .iter()
                .filter_map(|op| match *op {
                    KeyOp::Insert(k) => Some(k),
                    KeyOp::Remove(_) => None,
                })
                .collect();
            if keys.is_empty() {
                return Ok(false);
            }
            let entries: Vec<Entry<'_>> = keys.iter().map(|&key| Entry::leaf(key)).collect();
            Some(self.write_level(0, &entries)?)
        } else {
            self.edit(self.root, ops)?
        };
        let Some(mut entries) = replacement else {
            return Ok(false);
        };
        // Grow: several nodes at the top get a parent, level by level.
        while entries.len() > 1 {
            let level = Node::read(self.region, entries[0].child)?.level + 1;
            entries = self.write_level(level, &entries)?;
        }
        let mut root = entries.first().map_or(0, |e| e.child);
        // Shrink: a branch left with one child is replaced by that child.
        while root != 0 {
            let top = Node::read(self.region, root)?;
            if top.is_leaf || top.count > 1 {
                break;
            }
            let only = top.child(0);
            self.discard(root)?;
            root = only;
        }
        self.root = root;
        Ok(true)
    }

    fn edit(&mut self, offset: u64, ops: &[KeyOp<'_>]) -> Result<Replacement<'r>> {
        let node = Node::read(self.region, offset)?;
        if node.is_leaf {
            self.edit_leaf(node, ops)
        } else {
            self.edit_branch(node, ops)
        }
    }

    fn edit_leaf(&mut self, leaf: Node<'r>, ops: &[KeyOp<'_>]) -> Result<Replacement<'r>> {
        let mut entries: Vec<Entry<'_>> = Vec::with_capacity(leaf.count + ops.len());
        // Key blocks of removed long keys.
        let mut dropped = Vec::new();
        let mut changed = false;
        let mut i = 0;
        for op in ops {
            let key = op.key();
            while i < leaf.count && leaf.key(i)? < key {
                entries.push(Entry::of(&leaf, i)?);
                i += 1;
            }
            let present = i < leaf.count && leaf.key(i)? == key;
            match op {
                // A key already there stays as it is, key block included.
                KeyOp::Insert(_) if present => entries.push(Entry::of(&leaf, i)?),
                KeyOp::Insert(k) => {
                    entries.push(Entry::leaf(k));
                    changed = true;
                }
                KeyOp::Remove(_) if present => {
                    changed = true;
                    match leaf.overflow(i)? {
                        0 => {}
                        block => dropped.push(block),
                    }
                }
                KeyOp::Remove(_) => {}
            }
            if present {
                i += 1;
            }
        }
        if !changed {
            return Ok(None);
        }
        for j in i..leaf.count {
            entries.push(Entry::of(&leaf, j)?);
        }
        let replacement = self.write_level(0, &entries)?;
        self.discard(leaf.offset)?;
        for block in dropped {
            self.discard(block)?;
        }
        Ok(Some(replacement))
    }

    fn edit_branch(&mut self, branch: Node<'r>, ops: &[KeyOp<'_>]) -> Result<Replacement<'r>> {
        let mut entries: Vec<Entry<'r>> = Vec::with_capacity(branch.count + 4);
        let mut changed = false;
        let mut rest = ops;
        for i in 0..branch.count {
            let child = branch.child(i);
            // Keys below the next child's smallest key belong to this child.
            let take = if i + 1 < branch.count {
                let next = branch.key(i + 1)?;
                rest.partition_point(|op| op.key() < next)
            } else {
                rest.len()
            };
            let (mine, others) = rest.split_at(take);
            rest = others;
            if mine.is_empty() {
                entries.push(Entry::of(&branch, i)?);
                continue;
            }
            let below = Node::read(self.region, child)?;
            branch.check_child(&below)?;
            match self.edit(child, mine)? {
                None => entries.push(Entry::of(&branch, i)?),
                Some(replacement) => {
                    changed = true;
                    entries.extend(replacement);
                }
            }
        }
        if !changed {
            return Ok(None);
        }
        let entries = self.merge_small(branch.level - 1, entries)?;
        self.discard(branch.offset)?;
        if entries.is_empty() {
            return Ok(Some(entries));
        }
        Ok(Some(self.write_level(branch.level, &entries)?))
    }

    /// Merges each fresh child that came out smaller than `MIN_FILL` with its small
    /// neighbours (and one more neighbour if they are still small together), rewriting
    /// the window as evenly filled nodes. Windows never overlap, so one pass ends; a tree
    /// with an occasional small node is still valid, only less compact.
    fn merge_small(&mut self, level: u32, mut entries: Vec<Entry<'r>>) -> Result<Vec<Entry<'r>>> {
        let mut i = 0;
        while i < entries.len() && entries.len() > 1 {
            if !self.draft.is_fresh(entries[i].child) || self.size(entries[i].child)? >= MIN_FILL {
                i += 1;
                continue;
            }
            let (mut low, mut high) = (i, i);
            let mut total = self.size(entries[i].child)?;
            while high + 1 < entries.len() {
                let next = self.size(entries[high + 1].child)?;
                if next >= MIN_FILL && total >= MIN_FILL {
                    break;
                }
                high += 1;
                total += next;
            }
            if total < MIN_FILL && low > 0 {
                low -= 1;
            }
            if low == high {
                i += 1;
                continue;
            }
            let mut merged: Vec<Entry<'r>> = Vec::new();
            for entry in &entries[low..=high] {
                let node = Node::read(self.region, entry.child)?;
                for j in 0..node.count {
                    merged.push(Entry::of(&node, j)?);
                }
            }
            let replacement = self.write_level(level, &merged)?;
            // Only now: the merged entries' keys live in the nodes being replaced.
            let replaced: Vec<u64> = entries[low..=high].iter().map(|e| e.child).collect();
            for block in replaced {
                self.discard(block)?;
            }
            let written = replacement.len();
            entries.splice(low..=high, replacement);
            i = low + written;
        }
        Ok(entries)
    }

    fn size(&self, node: u64) -> Result<usize> {
        Ok(Node::read(self.region, node)?.size())
    }

    /// Writes `entries` as one or more nodes at `level`; returns their parent entries.
    /// Long keys not yet in a key block get one first.
    fn write_level(&mut self, level: u32, entries: &[Entry<'_>]) -> Result<Vec<Entry<'r>>> {
        let mut entries = entries.to_vec();
        for entry in entries.iter_mut() {
            if node::is_long(entry.key) && entry.overflow == 0 {
                let block = self.draft.alloc(kind::BTREE_KEY, entry.key.len() as u64)?;
                self.region.write(block + BLOCK_HEADER_SIZE, entry.key)?;
                entry.overflow = block;
            }
        }
        let sizes: Vec<usize> = entries
            .iter()
            .map(|e| node::entry_size(level, e.key))
            .collect();
        let block_kind = if level == 0 {
            kind::BTREE_LEAF
        } else {
            kind::BTREE_BRANCH
        };
        let mut written = Vec::new();
        for run in node::split(&sizes) {
            let payload = node::encode(level, &entries[run]);
            let block = self.draft.alloc(block_kind, payload.len() as u64)?;
            self.region.write(block + BLOCK_HEADER_SIZE, &payload)?;
            let node = Node::read(self.region, block)?;
            written.push(Entry {
                child: block,
                ..Entry::of(&node, 0)?
            });
        }
        Ok(written)
    }

    /// The new version stops using `block`.
    fn discard(&mut self, block: u64) -> Result<()> {
        self.draft.discard(block)
    }
}

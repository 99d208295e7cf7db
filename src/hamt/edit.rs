//! Path-copying edits. An `Edit` starts from a published root and builds a new version
//! beside it: every node on a changed path is copied into a fresh block, and the node it
//! replaces is either freed at once (it was fresh itself, never seen by anyone) or
//! remembered for retirement (it was published; readers may still be walking it).
//! Nothing published is ever written.

use super::node::{self, fragment, index_of, Branch, Collision, BITS, COLLISION_SHIFT};
use crate::alloc::{kind, Draft, BLOCK_HEADER_SIZE};
use crate::error::{Error, Result};
use crate::slab::Region;

pub struct Edit<'r> {
    region: &'r Region,
    /// The working tree's blocks: fresh ones, and published ones it no longer references.
    draft: Draft<'r>,
    /// Inserts and removes that changed the working tree. A single change can never be
    /// undone within the edit, so only edits with more need the contents comparison.
    changes: u64,
    base: u64,
    root: u64,
}

enum Removal {
    NotFound,
    /// The node now has no entries.
    Gone,
    Replaced(u64),
    /// The node shrank to one leaf, which its parent should hold directly.
    Inline(u64),
}

impl<'r> Edit<'r> {
    pub fn new(region: &'r Region, base: u64) -> Edit<'r> {
        Edit {
            region,
            draft: Draft::new(region),
            changes: 0,
            base,
            root: base,
        }
    }

    pub fn region(&self) -> &'r Region {
        self.region
    }

    pub fn root(&self) -> u64 {
        self.root
    }

    /// Forgets the fresh blocks: they now belong to a published version.
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

    fn write_block(&mut self, block_kind: u8, payload: &[u8]) -> Result<u64> {
        let block = self.draft.alloc(block_kind, payload.len() as u64)?;
        self.region
            .write(block + crate::alloc::BLOCK_HEADER_SIZE, payload)?;
        Ok(block)
    }

    fn write_leaf(&mut self, hash: u64, key: &[u8], value: &[u8]) -> Result<u64> {
        let len = 24 + key.len() as u64 + value.len() as u64;
        let block = self.draft.alloc(kind::HAMT_LEAF, len)?;
        let mut head = [0u8; 24];
        head[..8].copy_from_slice(&hash.to_le_bytes());
        head[8..16].copy_from_slice(&(key.len() as u64).to_le_bytes());
        head[16..].copy_from_slice(&(value.len() as u64).to_le_bytes());
        let payload = block + BLOCK_HEADER_SIZE;
        self.region.write(payload, &head)?;
        self.region.write(payload + 24, key)?;
        self.region.write(payload + 24 + key.len() as u64, value)?;
        Ok(block)
    }

    fn write_branch(&mut self, branch: &Branch) -> Result<u64> {
        let (payload, len) = branch.payload();
        self.write_block(kind::HAMT_BRANCH, &payload[..len])
    }

    fn write_collision(&mut self, collision: &Collision) -> Result<u64> {
        self.write_block(kind::HAMT_COLLISION, &collision.payload())
    }

    /// The working tree stops referencing `block`.
    fn discard(&mut self, block: u64) -> Result<()> {
        self.draft.discard(block)
    }

    pub fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<bool> {
        let hash = node::hash_key(key);
        self.insert_hashed(hash, key, value)
    }

    /// Inserts with an explicit hash (tests use it to force collisions).
    pub fn insert_hashed(&mut self, hash: u64, key: &[u8], value: &[u8]) -> Result<bool> {
        if self.root == 0 {
            let leaf = self.write_leaf(hash, key, value)?;
            let bit = 1u32 << fragment(hash, 0);
            self.root = self.write_branch(&Branch::new(bit, 0, 1, &[leaf]))?;
            self.changes += 1;
            return Ok(true);
        }
        match self.insert_at(self.root, 0, hash, key, value)? {
            None => Ok(false),
            Some((root, _added)) => {
                self.root = root;
                self.changes += 1;
                Ok(true)
            }
        }
    }

    /// Returns the replacement node and whether an entry was added, or `None` if the map
    /// already held exactly this key and value.
    fn insert_at(
        &mut self,
        node: u64,
        shift: u32,
        hash: u64,
        key: &[u8],
        value: &[u8],
    ) -> Result<Option<(u64, bool)>> {
        match node::kind_of(self.region, node)? {
            kind::HAMT_BRANCH => self.insert_branch(node, shift, hash, key, value),
            kind::HAMT_COLLISION => self.insert_collision(node, hash, key, value),
            other => Err(node::bad_kind(self.region, node, other)),
        }
    }

    fn insert_branch(
        &mut self,
        node: u64,
        shift: u32,
        hash: u64,
        key: &[u8],
        value: &[u8],
    ) -> Result<Option<(u64, bool)>> {
        node::check_depth(self.region, shift)?;
        let mut b = Branch::read(self.region, node)?;
        let bit = 1u32 << fragment(hash, shift);
        let added;
        if b.datamap & bit != 0 {
            let at = index_of(b.datamap, bit);
            let leaf = b.entries()[at];
            let existing = node::read_leaf(self.region, leaf)?;
            if existing.hash == hash && existing.key == key {
                if existing.value == value {
                    return Ok(None);
                }
                b.set(at, self.write_leaf(hash, key, value)?);
                self.discard(leaf)?;
                added = false;
            } else {
                let existing_hash = existing.hash;
                let new_leaf = self.write_leaf(hash, key, value)?;
                let sub = self.merge(leaf, existing_hash, new_leaf, hash, shift + BITS)?;
                b.remove(at);
                b.datamap &= !bit;
                b.nodemap |= bit;
                let child_at = b.data_len() + index_of(b.nodemap, bit);
                b.insert(child_at, sub);
                added = true;
            }
        } else if b.nodemap & bit != 0 {
            let at = b.data_len() + index_of(b.nodemap, bit);
            match self.insert_at(b.entries()[at], shift + BITS, hash, key, value)? {
                None => return Ok(None),
                Some((child, child_added)) => {
                    b.set(at, child);
                    added = child_added;
                }
            }
        } else {
            let leaf = self.write_leaf(hash, key, value)?;
            b.datamap |= bit;
            b.insert(index_of(b.datamap, bit), leaf);
            added = true;
        }
        b.count += added as u64;
        let replacement = self.write_branch(&b)?;
        self.discard(node)?;
        Ok(Some((replacement, added)))
    }

    fn insert_collision(
        &mut self,
        node: u64,
        hash: u64,
        key: &[u8],
        value: &[u8],
    ) -> Result<Option<(u64, bool)>> {
        let mut c = Collision::read(self.region, node)?;
        if c.hash != hash {
            return Err(Error::corrupt(format!(
                "{}: collision node {node} reached with a different hash",
                self.region.name()
            )));
        }
        // Leaves are kept sorted by key so that a collision node's shape, like a branch's,
        // depends only on its contents.
        let mut at = 0;
        let mut added = true;
        while at < c.leaves.len() {
            let leaf = c.leaves[at];
            let existing = node::read_leaf(self.region, leaf)?;
            if existing.key == key {
                if existing.value == value {
                    return Ok(None);
                }
                c.leaves[at] = self.write_leaf(hash, key, value)?;
                self.discard(leaf)?;
                added = false;
                break;
            }
            if existing.key > key {
                break;
            }
            at += 1;
        }
        if added {
            let leaf = self.write_leaf(hash, key, value)?;
            c.leaves.insert(at, leaf);
        }
        let replacement = self.write_collision(&c)?;
        self.discard(node)?;
        Ok(Some((replacement, added)))
    }

    /// A node holding two leaves whose hashes agree below `shift`.
    fn merge(&mut self, a: u64, a_hash: u64, b: u64, b_hash: u64, shift: u32) -> Result<u64> {
        if shift >= COLLISION_SHIFT {
            let a_first =
                node::read_leaf(self.region, a)?.key < node::read_leaf(self.region, b)?.key;
            return self.write_collision(&Collision {
                hash: a_hash,
                leaves: if a_first { vec![a, b] } else { vec![b, a] },
            });
        }
        let (fa, fb) = (fragment(a_hash, shift), fragment(b_hash, shift));
        if fa != fb {
            let entries = if fa < fb { [a, b] } else { [b, a] };
            return self.write_branch(&Branch::new((1 << fa) | (1 << fb), 0, 2, &entries));
        }
        let child = self.merge(a, a_hash, b, b_hash, shift + BITS)?;
        self.write_branch(&Branch::new(0, 1 << fa, 2, &[child]))
    }

    pub fn remove(&mut self, key: &[u8]) -> Result<bool> {
        let hash = node::hash_key(key);
        self.remove_hashed(hash, key)
    }

    pub fn remove_hashed(&mut self, hash: u64, key: &[u8]) -> Result<bool> {
        if self.root == 0 {
            return Ok(false);
        }
        match self.remove_at(self.root, 0, hash, key)? {
            Removal::NotFound => Ok(false),
            Removal::Gone => {
                self.root = 0;
                self.changes += 1;
                Ok(true)
            }
            Removal::Replaced(root) => {
                self.root = root;
                self.changes += 1;
                Ok(true)
            }
            Removal::Inline(_) => unreachable!("the root is never inlined"),
        }
    }

    fn remove_at(&mut self, node: u64, shift: u32, hash: u64, key: &[u8]) -> Result<Removal> {
        match node::kind_of(self.region, node)? {
            kind::HAMT_BRANCH => self.remove_branch(node, shift, hash, key),
            kind::HAMT_COLLISION => {
                let mut c = Collision::read(self.region, node)?;
                let mut found = None;
                for (at, &leaf) in c.leaves.iter().enumerate() {
                    if node::read_leaf(self.region, leaf)?.key == key {
                        found = Some((at, leaf));
                        break;
                    }
                }
                let Some((at, leaf)) = found else {
                    return Ok(Removal::NotFound);
                };
                c.leaves.remove(at);
                self.discard(leaf)?;
                self.discard(node)?;
                match c.leaves.len() {
                    0 => Ok(Removal::Gone),
                    1 => Ok(Removal::Inline(c.leaves[0])),
                    _ => Ok(Removal::Replaced(self.write_collision(&c)?)),
                }
            }
            other => Err(node::bad_kind(self.region, node, other)),
        }
    }

    fn remove_branch(&mut self, node: u64, shift: u32, hash: u64, key: &[u8]) -> Result<Removal> {
        node::check_depth(self.region, shift)?;
        let mut b = Branch::read(self.region, node)?;
        let bit = 1u32 << fragment(hash, shift);
        if b.datamap & bit != 0 {
            let at = index_of(b.datamap, bit);
            let leaf = b.entries()[at];
            let existing = node::read_leaf(self.region, leaf)?;
            if existing.hash != hash || existing.key != key {
                return Ok(Removal::NotFound);
            }
            b.remove(at);
            b.datamap &= !bit;
            self.discard(leaf)?;
        } else if b.nodemap & bit != 0 {
            let at = b.data_len() + index_of(b.nodemap, bit);
            match self.remove_at(b.entries()[at], shift + BITS, hash, key)? {
                Removal::NotFound => return Ok(Removal::NotFound),
                Removal::Replaced(child) => b.set(at, child),
                Removal::Gone => {
                    b.remove(at);
                    b.nodemap &= !bit;
                }
                Removal::Inline(leaf) => {
                    if shift > 0 && b.datamap == 0 && b.nodemap == bit {
                        // This node only existed to hold that child: collapse it too.
                        self.discard(node)?;
                        return Ok(Removal::Inline(leaf));
                    }
                    b.remove(at);
                    b.nodemap &= !bit;
                    b.datamap |= bit;
                    b.insert(index_of(b.datamap, bit), leaf);
                }
            }
        } else {
            return Ok(Removal::NotFound);
        }
        b.count -= 1;
        self.discard(node)?;
        if b.entries().is_empty() {
            return Ok(Removal::Gone);
        }
        if shift > 0 && b.nodemap == 0 && b.entries().len() == 1 {
            return Ok(Removal::Inline(b.entries()[0]));
        }
        Ok(Removal::Replaced(self.write_branch(&b)?))
    }

    /// Does the working tree hold exactly the same entries as the base version? Cheap
    /// because shapes are canonical: identical subtrees are usually the same blocks, and
    /// the comparison only descends where offsets differ.
    pub fn unchanged(&self) -> Result<bool> {
        if self.changes == 1 {
            return Ok(false);
        }
        same(self.region, self.base, self.root)
    }

    /// Points the working tree at another root without owning its blocks (tests compare
    /// two independently built trees through `unchanged`).
    #[cfg(test)]
    pub fn root_for_test(&mut self, root: u64) {
        self.root = root;
    }
}

fn same(region: &Region, a: u64, b: u64) -> Result<bool> {
    if a == b {
        return Ok(true);
    }
    if a == 0 || b == 0 {
        return Ok(false);
    }
    let (ka, kb) = (node::kind_of(region, a)?, node::kind_of(region, b)?);
    if ka != kb {
        return Ok(false);
    }
    match ka {
        kind::HAMT_LEAF => {
            let (la, lb) = (node::read_leaf(region, a)?, node::read_leaf(region, b)?);
            Ok(la.key == lb.key && la.value == lb.value)
        }
        kind::HAMT_BRANCH => {
            let (ba, bb) = (Branch::read(region, a)?, Branch::read(region, b)?);
            if ba.datamap != bb.datamap || ba.nodemap != bb.nodemap || ba.count != bb.count {
                return Ok(false);
            }
            for (x, y) in ba.entries().iter().zip(bb.entries()) {
                if !same(region, *x, *y)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        kind::HAMT_COLLISION => {
            let (ca, cb) = (Collision::read(region, a)?, Collision::read(region, b)?);
            if ca.leaves.len() != cb.leaves.len() {
                return Ok(false);
            }
            for (x, y) in ca.leaves.iter().zip(&cb.leaves) {
                if !same(region, *x, *y)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        other => Err(node::bad_kind(region, a, other)),
    }
}

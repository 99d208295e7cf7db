//! HAMT node layout and the read path. Three block kinds:
//!
//! * branch (`HAMT_BRANCH`): `datamap: u32, nodemap: u32, count: u64`, then one offset per
//!   set bit of `datamap` (leaves, in bit order), then one per set bit of `nodemap` (child
//!   nodes, in bit order). `count` is the number of entries in the subtree.
//! * collision (`HAMT_COLLISION`): `hash: u64, n: u64`, then `n` leaf offsets — keys whose
//!   full 64-bit hashes are equal, below the last level.
//! * leaf (`HAMT_LEAF`): `hash: u64, key_len: u64, value_len: u64`, key bytes, value bytes.
//!
//! Branch layout is CHAMP's: data before children, which keeps iteration cache-friendly and
//! makes the shape of a map a function of its keys alone (no-op edits are detectable).

use crate::alloc::{kind, BLOCK_HEADER_SIZE};
use crate::error::{Error, Result};
use crate::slab::Region;
use std::sync::atomic::Ordering;

pub const BITS: u32 = 5;
pub const MASK: u64 = (1 << BITS) - 1;
/// Leaves whose hashes agree on every bit are stored in a collision node at this depth.
pub const COLLISION_SHIFT: u32 = 64;

/// Byte offsets inside a node, relative to the block offset.
pub const MAPS: u64 = BLOCK_HEADER_SIZE;
pub const COUNT: u64 = BLOCK_HEADER_SIZE + 8;
pub const ENTRIES: u64 = BLOCK_HEADER_SIZE + 16;
pub const LEAF_HASH: u64 = BLOCK_HEADER_SIZE;
pub const LEAF_KEY_LEN: u64 = BLOCK_HEADER_SIZE + 8;
pub const LEAF_VALUE_LEN: u64 = BLOCK_HEADER_SIZE + 16;
pub const LEAF_BYTES: u64 = BLOCK_HEADER_SIZE + 24;

/// The stable hash of a key. Part of the file format: changing it orphans every map.
#[inline]
pub fn hash_key(key: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key)
}

#[inline]
pub fn fragment(hash: u64, shift: u32) -> u32 {
    ((hash >> shift) & MASK) as u32
}

/// Position of `bit`'s entry among the set bits of `map`.
#[inline]
pub fn index_of(map: u32, bit: u32) -> usize {
    (map & (bit - 1)).count_ones() as usize
}

#[inline(always)]
pub fn word(region: &Region, offset: u64) -> Result<u64> {
    Ok(region.atomic(offset)?.load(Ordering::Relaxed))
}

#[inline(always)]
pub fn kind_of(region: &Region, node: u64) -> Result<u8> {
    Ok(word(region, node)? as u8)
}

pub fn bad_kind(region: &Region, node: u64, found: u8) -> Error {
    Error::corrupt(format!(
        "{}: block {node} has kind {found:#x} where a HAMT node was expected",
        region.name()
    ))
}

/// A leaf as read in place.
#[derive(Clone, Copy)]
pub struct Leaf<'a> {
    pub hash: u64,
    pub key: &'a [u8],
    pub value: &'a [u8],
}

#[inline]
fn read_u64(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes[..8].try_into().unwrap())
}

#[inline(always)]
pub fn read_leaf(region: &Region, leaf: u64) -> Result<Leaf<'_>> {
    let head = region.bytes(leaf, LEAF_BYTES)?;
    if head[0] != kind::HAMT_LEAF {
        return Err(bad_kind(region, leaf, head[0]));
    }
    let hash = read_u64(&head[LEAF_HASH as usize..]);
    let key_len = read_u64(&head[LEAF_KEY_LEN as usize..]);
    let value_len = read_u64(&head[LEAF_VALUE_LEN as usize..]);
    let total = key_len.checked_add(value_len).ok_or_else(|| {
        Error::corrupt(format!(
            "{}: leaf {leaf} has impossible lengths",
            region.name()
        ))
    })?;
    let bytes = region.bytes(leaf + LEAF_BYTES, total)?;
    let (key, value) = bytes.split_at(key_len as usize);
    Ok(Leaf { hash, key, value })
}

/// A branch node copied out of the slab, ready to be edited into a new one. Fixed-size, so
/// editing a path allocates nothing on the heap.
#[derive(Clone)]
pub struct Branch {
    pub datamap: u32,
    pub nodemap: u32,
    pub count: u64,
    slots: [u64; 32],
    len: usize,
}

impl Branch {
    pub fn new(datamap: u32, nodemap: u32, count: u64, entries: &[u64]) -> Branch {
        let mut slots = [0; 32];
        slots[..entries.len()].copy_from_slice(entries);
        Branch {
            datamap,
            nodemap,
            count,
            slots,
            len: entries.len(),
        }
    }

    pub fn data_len(&self) -> usize {
        self.datamap.count_ones() as usize
    }

    pub fn entries(&self) -> &[u64] {
        &self.slots[..self.len]
    }

    pub fn set(&mut self, at: usize, entry: u64) {
        self.slots[..self.len][at] = entry;
    }

    pub fn insert(&mut self, at: usize, entry: u64) {
        self.slots.copy_within(at..self.len, at + 1);
        self.slots[at] = entry;
        self.len += 1;
    }

    pub fn remove(&mut self, at: usize) -> u64 {
        let entry = self.slots[at];
        self.slots.copy_within(at + 1..self.len, at);
        self.len -= 1;
        entry
    }

    pub fn read(region: &Region, node: u64) -> Result<Branch> {
        let head = region.bytes(node + MAPS, 16)?;
        let maps = read_u64(&head[..8]);
        let count = read_u64(&head[8..]);
        let datamap = maps as u32;
        let nodemap = (maps >> 32) as u32;
        if datamap & nodemap != 0 {
            return Err(Error::corrupt(format!(
                "{}: branch {node} has overlapping bitmaps",
                region.name()
            )));
        }
        let len = (datamap.count_ones() + nodemap.count_ones()) as usize;
        let raw = region.bytes(node + ENTRIES, 8 * len as u64)?;
        let mut slots = [0; 32];
        for (slot, chunk) in slots.iter_mut().zip(raw.chunks_exact(8)) {
            *slot = read_u64(chunk);
        }
        Ok(Branch {
            datamap,
            nodemap,
            count,
            slots,
            len,
        })
    }

    /// The payload bytes in a stack buffer, and how many of them are used.
    pub fn payload(&self) -> ([u8; 16 + 8 * 32], usize) {
        let mut out = [0u8; 16 + 8 * 32];
        out[..8]
            .copy_from_slice(&(self.datamap as u64 | (self.nodemap as u64) << 32).to_le_bytes());
        out[8..16].copy_from_slice(&self.count.to_le_bytes());
        for (i, e) in self.entries().iter().enumerate() {
            out[16 + 8 * i..24 + 8 * i].copy_from_slice(&e.to_le_bytes());
        }
        (out, 16 + 8 * self.len)
    }
}

/// A collision node copied out of the slab.
pub struct Collision {
    pub hash: u64,
    pub leaves: Vec<u64>,
}

impl Collision {
    pub fn read(region: &Region, node: u64) -> Result<Collision> {
        let hash = word(region, node + MAPS)?;
        let n = word(region, node + COUNT)?;
        let raw = region.bytes(node + ENTRIES, n.saturating_mul(8))?;
        Ok(Collision {
            hash,
            leaves: raw
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        })
    }

    pub fn payload(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 8 * self.leaves.len());
        out.extend_from_slice(&self.hash.to_le_bytes());
        out.extend_from_slice(&(self.leaves.len() as u64).to_le_bytes());
        for e in &self.leaves {
            out.extend_from_slice(&e.to_le_bytes());
        }
        out
    }
}

/// Number of entries under `node` (0 for the empty map).
pub fn count(region: &Region, node: u64) -> Result<u64> {
    if node == 0 {
        return Ok(0);
    }
    match kind_of(region, node)? {
        kind::HAMT_BRANCH | kind::HAMT_COLLISION => word(region, node + COUNT),
        other => Err(bad_kind(region, node, other)),
    }
}

/// Only collision nodes live below the last hash bit, so a branch found deeper is damage
/// — typically a cycle of damaged offsets, which this check turns into an error.
#[inline]
pub fn check_depth(region: &Region, shift: u32) -> Result<()> {
    if shift >= COLLISION_SHIFT {
        return Err(Error::corrupt(format!(
            "{}: HAMT branch deeper than 64 hash bits",
            region.name()
        )));
    }
    Ok(())
}

/// Looks `key` up under `root`, reading in place: no allocation, one word per level.
pub fn get<'r>(region: &'r Region, root: u64, hash: u64, key: &[u8]) -> Result<Option<Leaf<'r>>> {
    let mut node = root;
    let mut shift = 0;
    while node != 0 {
        // A branch's header and the entry we need are usually on different cache lines,
        // and which line holds the entry is only known from the header: fetch both now.
        region.prefetch(node, 4);
        match kind_of(region, node)? {
            kind::HAMT_BRANCH => {
                check_depth(region, shift)?;
                let maps = word(region, node + MAPS)?;
                let (datamap, nodemap) = (maps as u32, (maps >> 32) as u32);
                let bit = 1u32 << fragment(hash, shift);
                if datamap & bit != 0 {
                    let leaf = word(region, node + ENTRIES + 8 * index_of(datamap, bit) as u64)?;
                    let found = read_leaf(region, leaf)?;
                    return Ok((found.hash == hash && found.key == key).then_some(found));
                }
                if nodemap & bit == 0 {
                    return Ok(None);
                }
                let at = datamap.count_ones() as usize + index_of(nodemap, bit);
                node = word(region, node + ENTRIES + 8 * at as u64)?;
                shift += BITS;
            }
            kind::HAMT_COLLISION => {
                for leaf in Collision::read(region, node)?.leaves {
                    let found = read_leaf(region, leaf)?;
                    if found.hash == hash && found.key == key {
                        return Ok(Some(found));
                    }
                }
                return Ok(None);
            }
            other => return Err(bad_kind(region, node, other)),
        }
    }
    Ok(None)
}

/// How many lookups `get_many` walks side by side: enough to keep several cache misses in
/// flight at once, few enough that their nodes stay in cache between steps.
const BATCH: usize = 8;

/// Where one lookup of a batch stands.
#[derive(Clone, Copy)]
enum Step {
    /// At this node (prefetched), this many hash bits down.
    Node(u64, u32),
    /// At this leaf (prefetched), which holds the key if anything does.
    Leaf(u64),
    Done,
}

/// Looks up many keys (`(hash, key)` pairs) under `root`, calling `found` with each one's
/// position and leaf. The lookups advance side by side, one level per round, and each
/// round prefetches the next block of every lookup before any is read, so their cache
/// misses overlap instead of following one another: a batch costs little more than its
/// deepest lookup.
pub fn get_many<'r, 'k>(
    region: &'r Region,
    root: u64,
    keys: &[(u64, &'k [u8])],
    mut found: impl FnMut(usize, Option<Leaf<'r>>),
) -> Result<()> {
    if root == 0 {
        (0..keys.len()).for_each(|i| found(i, None));
        return Ok(());
    }
    for (batch, chunk) in keys.chunks(BATCH).enumerate() {
        let base = batch * BATCH;
        let mut steps = [Step::Done; BATCH];
        region.prefetch(root, 4);
        for step in steps.iter_mut().take(chunk.len()) {
            *step = Step::Node(root, 0);
        }
        loop {
            let mut moving = false;
            for (i, &(hash, key)) in chunk.iter().enumerate() {
                steps[i] = match steps[i] {
                    Step::Done => continue,
                    Step::Leaf(leaf) => {
                        let leaf = read_leaf(region, leaf)?;
                        found(
                            base + i,
                            (leaf.hash == hash && leaf.key == key).then_some(leaf),
                        );
                        Step::Done
                    }
                    Step::Node(node, shift) => match kind_of(region, node)? {
                        kind::HAMT_BRANCH => {
                            check_depth(region, shift)?;
                            let maps = word(region, node + MAPS)?;
                            let (datamap, nodemap) = (maps as u32, (maps >> 32) as u32);
                            let bit = 1u32 << fragment(hash, shift);
                            if datamap & bit != 0 {
                                let at = index_of(datamap, bit) as u64;
                                let leaf = word(region, node + ENTRIES + 8 * at)?;
                                region.prefetch(leaf, 1);
                                Step::Leaf(leaf)
                            } else if nodemap & bit == 0 {
                                found(base + i, None);
                                Step::Done
                            } else {
                                let at = datamap.count_ones() as usize + index_of(nodemap, bit);
                                let child = word(region, node + ENTRIES + 8 * at as u64)?;
                                region.prefetch(child, 4);
                                Step::Node(child, shift + BITS)
                            }
                        }
                        // Collisions are rare: finish this lookup on its own.
                        kind::HAMT_COLLISION => {
                            found(base + i, get(region, node, hash, key)?);
                            Step::Done
                        }
                        other => return Err(bad_kind(region, node, other)),
                    },
                };
                moving |= !matches!(steps[i], Step::Done);
            }
            if !moving {
                break;
            }
        }
    }
    Ok(())
}

/// The blocks directly referenced by a node (for iteration, the sweep and `check`).
pub fn children(region: &Region, node: u64) -> Result<(Vec<u64>, Vec<u64>)> {
    match kind_of(region, node)? {
        kind::HAMT_BRANCH => {
            let b = Branch::read(region, node)?;
            let (leaves, nodes) = b.entries().split_at(b.data_len());
            Ok((leaves.to_vec(), nodes.to_vec()))
        }
        kind::HAMT_COLLISION => Ok((Collision::read(region, node)?.leaves, Vec::new())),
        other => Err(bad_kind(region, node, other)),
    }
}

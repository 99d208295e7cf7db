//! B+tree node layout and in-place reads. Two block kinds, both immutable once published:
//!
//! * leaf (`BTREE_LEAF`): `count: u32, level: u32 (= 0)`, then `count` key slots
//!   `{offset: u32, len: u32}` (offsets from the start of the payload), then the key bytes.
//!   Keys are sorted and distinct.
//! * branch (`BTREE_BRANCH`): `count: u32, level: u32 (>= 1)`, then `count` child offsets
//!   (`u64`), then `count` key slots as in a leaf, then the key bytes. Key `i` is the
//!   smallest key under child `i`, so child `i` holds exactly the keys in
//!   `[key[i], key[i + 1])`.
//!
//! Every slot is checked against the payload length before it is followed, so a damaged
//! node is reported as corrupt instead of read out of bounds.

use crate::alloc::{kind, BLOCK_HEADER_SIZE};
use crate::error::{Error, Result};
use crate::slab::Region;
use std::sync::atomic::Ordering;

/// The largest payload of a node. With `MAX_KEY_LEN` it guarantees at least three entries
/// per node, so splitting always makes progress.
pub const MAX_PAYLOAD: usize = 4088;
/// The longest key a tree accepts (longer values belong out of line, in the layer above).
pub const MAX_KEY_LEN: usize = 1024;
/// A fresh node smaller than this is merged with a neighbour.
pub const MIN_FILL: usize = MAX_PAYLOAD / 4;
/// Trees deeper than this are damaged (4 KiB nodes with 3+ entries each reach 3^40 keys).
pub const MAX_LEVEL: u32 = 40;

const HEADER: usize = 8;
const SLOT: usize = 8;

/// A node read in place: its kind, level and payload bytes.
#[derive(Clone, Copy)]
pub struct Node<'r> {
    pub offset: u64,
    pub is_leaf: bool,
    pub level: u32,
    pub count: usize,
    payload: &'r [u8],
}

fn corrupt(region: &Region, node: u64, why: &str) -> Error {
    Error::corrupt(format!("{}: B+tree node {node} {why}", region.name()))
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

impl<'r> Node<'r> {
    pub fn read(region: &'r Region, offset: u64) -> Result<Node<'r>> {
        let header = region.atomic(offset)?.load(Ordering::Relaxed);
        let block_kind = header as u8;
        let is_leaf = match block_kind {
            kind::BTREE_LEAF => true,
            kind::BTREE_BRANCH => false,
            other => {
                return Err(corrupt(
                    region,
                    offset,
                    &format!("has block kind {other:#x}, not a B+tree node"),
                ))
            }
        };
        let len = (header >> 32) as usize;
        if !(HEADER..=MAX_PAYLOAD).contains(&len) {
            return Err(corrupt(region, offset, &format!("has length {len}")));
        }
        let payload = region.bytes(offset + BLOCK_HEADER_SIZE, len as u64)?;
        let count = u32_at(payload, 0) as usize;
        let level = u32_at(payload, 4);
        let per_entry = if is_leaf { SLOT } else { SLOT + 8 };
        if count == 0
            || HEADER + count * per_entry > len
            || (is_leaf != (level == 0))
            || level > MAX_LEVEL
        {
            return Err(corrupt(
                region,
                offset,
                &format!("has impossible count {count} or level {level}"),
            ));
        }
        Ok(Node {
            offset,
            is_leaf,
            level,
            count,
            payload,
        })
    }

    /// Payload bytes, the size the node takes against `MAX_PAYLOAD`.
    pub fn size(&self) -> usize {
        self.payload.len()
    }

    fn slots_at(&self) -> usize {
        if self.is_leaf {
            HEADER
        } else {
            HEADER + 8 * self.count
        }
    }

    pub fn key(&self, i: usize) -> Result<&'r [u8]> {
        let slot = self.slots_at() + i * SLOT;
        let offset = u32_at(self.payload, slot) as usize;
        let len = u32_at(self.payload, slot + 4) as usize;
        match offset.checked_add(len) {
            Some(end) if end <= self.payload.len() && len <= MAX_KEY_LEN => {
                Ok(&self.payload[offset..end])
            }
            _ => Err(Error::corrupt(format!(
                "B+tree node {} has a key slot out of bounds",
                self.offset
            ))),
        }
    }

    pub fn child(&self, i: usize) -> u64 {
        debug_assert!(!self.is_leaf && i < self.count);
        let at = HEADER + 8 * i;
        u64::from_le_bytes(self.payload[at..at + 8].try_into().expect("8 bytes"))
    }

    /// Index of the first key `>= key` (or `> key` when `strict`), `count` if none.
    pub fn lower_bound(&self, key: &[u8], strict: bool) -> Result<usize> {
        let (mut low, mut high) = (0, self.count);
        while low < high {
            let mid = (low + high) / 2;
            let here = self.key(mid)?;
            let before = if strict { here <= key } else { here < key };
            if before {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        Ok(low)
    }

    /// For a branch: the child whose range holds `key` (the last with `key[i] <= key`,
    /// or 0 when `key` is below them all).
    pub fn child_for(&self, key: &[u8]) -> Result<usize> {
        Ok(self.lower_bound(key, true)?.saturating_sub(1))
    }

    /// Checks that `child` (read from this branch) sits one level below it.
    pub fn check_child(&self, child: &Node<'_>) -> Result<()> {
        if child.level + 1 != self.level {
            return Err(Error::corrupt(format!(
                "B+tree node {} at level {} has child {} at level {}",
                self.offset, self.level, child.offset, child.level
            )));
        }
        Ok(())
    }
}

/// One entry to write: a key, and for branches the child it leads to.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'k> {
    pub key: &'k [u8],
    pub child: u64,
}

/// Payload bytes an entry takes in a node at `level`.
pub fn entry_size(level: u32, key: &[u8]) -> usize {
    SLOT + key.len() + if level == 0 { 0 } else { 8 }
}

/// The payload of a node holding `entries` at `level`.
pub fn encode(level: u32, entries: &[Entry<'_>]) -> Vec<u8> {
    let n = entries.len();
    let children = if level == 0 { 0 } else { 8 * n };
    let slots = HEADER + children;
    let keys: usize = entries.iter().map(|e| e.key.len()).sum();
    let mut out = Vec::with_capacity(slots + SLOT * n + keys);
    out.extend_from_slice(&(n as u32).to_le_bytes());
    out.extend_from_slice(&level.to_le_bytes());
    if level > 0 {
        for e in entries {
            out.extend_from_slice(&e.child.to_le_bytes());
        }
    }
    let mut at = slots + SLOT * n;
    for e in entries {
        out.extend_from_slice(&(at as u32).to_le_bytes());
        out.extend_from_slice(&(e.key.len() as u32).to_le_bytes());
        at += e.key.len();
    }
    for e in entries {
        out.extend_from_slice(e.key);
    }
    debug_assert!(out.len() <= MAX_PAYLOAD);
    out
}

/// Splits entries of the given sizes into runs that each fit a node, of roughly equal
/// size; a short last run is folded into the one before when they fit together.
pub fn split(sizes: &[usize]) -> Vec<std::ops::Range<usize>> {
    let capacity = MAX_PAYLOAD - HEADER;
    let total: usize = sizes.iter().sum();
    let nodes = total.div_ceil(capacity).max(1);
    let target = total.div_ceil(nodes);
    let mut runs = Vec::with_capacity(nodes + 1);
    let (mut start, mut filled) = (0, 0);
    for (i, &size) in sizes.iter().enumerate() {
        if filled > 0 && (filled + size > target || filled + size > capacity) {
            runs.push(start..i);
            start = i;
            filled = 0;
        }
        filled += size;
    }
    if start < sizes.len() {
        runs.push(start..sizes.len());
    }
    if runs.len() >= 2 {
        let last = runs[runs.len() - 1].clone();
        let before = runs[runs.len() - 2].clone();
        let size = |r: &std::ops::Range<usize>| sizes[r.clone()].iter().sum::<usize>();
        if size(&last) < MIN_FILL && size(&before) + size(&last) <= capacity {
            runs.pop();
            let at = runs.len() - 1;
            runs[at] = before.start..last.end;
        }
    }
    runs
}

/// Offsets of the children of `node` (none for a leaf), for the reachability sweep.
pub fn children(region: &Region, node: u64) -> Result<Vec<u64>> {
    let n = Node::read(region, node)?;
    Ok(if n.is_leaf {
        Vec::new()
    } else {
        (0..n.count).map(|i| n.child(i)).collect()
    })
}

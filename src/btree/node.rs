//! B+tree node layout and in-place reads. Two block kinds, both immutable once published:
//!
//! * leaf (`BTREE_LEAF`): `count: u32, level: u16 (= 0), prefix: u16`, then `count` key
//!   slots `{offset: u32, len: u32, head: [u8; 16]}` (offsets from the start of the payload),
//!   then the key bytes. `prefix` is the length of the prefix all the node's keys share, and
//!   a key's head is the 16 bytes that follow that prefix, zero-padded. A search checks the
//!   shared prefix once, then compares heads, which lie side by side in the slots, and reads
//!   a key's bytes only when heads tie: a lookup touches a few cache lines of a node, not one
//!   per probe. In an index whose keys in a node share an attribute (AEVT, AVET) or the high
//!   bytes of an entity (EAVT), the head holds what actually differs.
//!   Keys are sorted and distinct. A key longer than `INLINE_MAX` lives out of line in a
//!   key block (`BTREE_KEY`, the key's bytes alone): its slot's `len` has the top bit set and
//!   its 8 bytes at `offset` hold the key block's offset. Comparisons read the whole key
//!   either way, so order is exact however long the keys are.
//! * branch (`BTREE_BRANCH`): `count: u32, level: u16 (>= 1), prefix: u16`, then `count`
//!   child offsets (`u64`), then `count` key slots as in a leaf, then the key bytes. Key `i`
//!   is the smallest key under child `i`, so child `i` holds exactly the keys in
//!   `[key[i], key[i + 1])`.
//!
//! Every slot is checked against the payload length before it is followed, so a damaged
//! node is reported as corrupt instead of read out of bounds.

use crate::alloc::{kind, Allocator, BLOCK_HEADER_SIZE, EXTENT_CLASS};
use crate::error::{Error, Result};
use crate::slab::Region;
use std::sync::atomic::Ordering;

/// The largest payload of a node. With `INLINE_MAX` it guarantees at least seven entries
/// per node, so splitting always makes progress.
pub const MAX_PAYLOAD: usize = 4088;
/// The longest key a tree accepts.
pub const MAX_KEY_LEN: usize = 1 << 24;
/// Keys longer than this are stored in a key block of their own; with it every node holds
/// at least seven entries.
pub const INLINE_MAX: usize = 512;
const OVERFLOW: u32 = 1 << 31;
/// A fresh node smaller than this is merged with a neighbour.
pub const MIN_FILL: usize = MAX_PAYLOAD / 4;
/// Trees deeper than this are damaged (4 KiB nodes with 3+ entries each reach 3^40 keys).
pub const MAX_LEVEL: u32 = 40;

const HEADER: usize = 8;
const SLOT: usize = 24;
/// Bytes of each key kept in its slot, after the node's shared prefix.
const HEAD: usize = 16;

/// A node read in place: its kind, level and payload bytes.
#[derive(Clone, Copy)]
pub struct Node<'r> {
    region: &'r Region,
    pub offset: u64,
    pub is_leaf: bool,
    pub level: u32,
    pub count: usize,
    /// The length of the prefix every key of the node starts with.
    prefix: usize,
    payload: &'r [u8],
}

fn corrupt(region: &Region, node: u64, why: &str) -> Error {
    Error::corrupt(format!("{}: B+tree node {node} {why}", region.name()))
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(bytes[at..at + 2].try_into().expect("2 bytes"))
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
        let len = crate::alloc::header_len(header) as usize;
        if !(HEADER..=MAX_PAYLOAD).contains(&len) {
            return Err(corrupt(region, offset, &format!("has length {len}")));
        }
        let payload = region.bytes(offset + BLOCK_HEADER_SIZE, len as u64)?;
        let count = u32_at(payload, 0) as usize;
        let level = u16_at(payload, 4) as u32;
        let prefix = u16_at(payload, 6) as usize;
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
            region,
            offset,
            is_leaf,
            level,
            count,
            prefix,
            payload,
        })
    }

    /// Payload bytes, the size the node takes against `MAX_PAYLOAD`.
    pub fn size(&self) -> usize {
        self.payload.len()
    }

    #[inline]
    fn slots_at(&self) -> usize {
        if self.is_leaf {
            HEADER
        } else {
            HEADER + 8 * self.count
        }
    }

    /// The slot of key `i`: where its bytes (or its key block's offset) are, its length,
    /// and whether it is out of line.
    #[inline]
    fn slot(&self, i: usize) -> Result<(usize, usize, bool)> {
        let slot = self.slots_at() + i * SLOT;
        let offset = u32_at(self.payload, slot) as usize;
        let raw_len = u32_at(self.payload, slot + 4);
        let (len, overflow) = (raw_len & !OVERFLOW, raw_len & OVERFLOW != 0);
        let stored = if overflow { 8 } else { len as usize };
        match offset.checked_add(stored) {
            Some(end) if end <= self.payload.len() && (overflow || stored <= INLINE_MAX) => {
                Ok((offset, len as usize, overflow))
            }
            _ => Err(Error::corrupt(format!(
                "B+tree node {} has a key slot out of bounds",
                self.offset
            ))),
        }
    }

    /// The key block holding key `i`, or 0 if the key is inline.
    pub fn overflow(&self, i: usize) -> Result<u64> {
        let (offset, _, overflow) = self.slot(i)?;
        Ok(if overflow { self.block_at(offset) } else { 0 })
    }

    fn block_at(&self, offset: usize) -> u64 {
        u64::from_le_bytes(
            self.payload[offset..offset + 8]
                .try_into()
                .expect("8 bytes"),
        )
    }

    #[inline]
    pub fn key(&self, i: usize) -> Result<&'r [u8]> {
        Ok(self.key_and_block(i)?.0)
    }

    /// Key `i` and the key block holding it (0 if inline), decoding its slot once.
    #[inline]
    pub fn key_and_block(&self, i: usize) -> Result<(&'r [u8], u64)> {
        let (offset, len, overflow) = self.slot(i)?;
        if !overflow {
            return Ok((&self.payload[offset..offset + len], 0));
        }
        self.long_key(i, offset, len)
    }

    /// A key kept out of line, in a key block of its own (checked before it is read).
    #[cold]
    fn long_key(&self, i: usize, offset: usize, len: usize) -> Result<(&'r [u8], u64)> {
        let block = self.block_at(offset);
        let header = self.region.atomic(block)?.load(Ordering::Relaxed);
        let fits = if (header >> 8) as u8 == EXTENT_CLASS {
            // An extent keeps its length in its page header: ask the allocator.
            Allocator::new(self.region)
                .block_info(block)
                .is_ok_and(|info| info.size >= len as u64 + BLOCK_HEADER_SIZE)
        } else {
            crate::alloc::header_len(header) as usize == len
        };
        if header as u8 != kind::BTREE_KEY || !fits {
            return Err(corrupt(
                self.region,
                self.offset,
                &format!("has key {i} in block {block}, which is not a key block of {len} bytes"),
            ));
        }
        Ok((
            self.region.bytes(block + BLOCK_HEADER_SIZE, len as u64)?,
            block,
        ))
    }

    pub fn child(&self, i: usize) -> u64 {
        debug_assert!(!self.is_leaf && i < self.count);
        let at = HEADER + 8 * i;
        u64::from_le_bytes(self.payload[at..at + 8].try_into().expect("8 bytes"))
    }

    /// The head of key `i`: the 16 bytes after the node's shared prefix, zero-padded, as a
    /// number that orders like the bytes.
    #[inline]
    fn head(&self, i: usize) -> u128 {
        let at = self.slots_at() + i * SLOT + 8;
        u128::from_be_bytes(self.payload[at..at + HEAD].try_into().expect("16 bytes"))
    }

    /// Index of the first key `>= key` (or `> key` when `strict`), `count` if none.
    pub fn lower_bound(&self, key: &[u8], strict: bool) -> Result<usize> {
        // Against the prefix every key shares: a target outside it sorts before or after
        // all of them.
        if self.prefix > 0 {
            let first = self.key(0)?;
            let Some(shared) = first.get(..self.prefix) else {
                return Err(corrupt(
                    self.region,
                    self.offset,
                    "has a prefix longer than its first key",
                ));
            };
            let n = key.len().min(self.prefix);
            match key[..n].cmp(&shared[..n]) {
                std::cmp::Ordering::Less => return Ok(0),
                std::cmp::Ordering::Greater => return Ok(self.count),
                // A proper prefix of the shared prefix is below every key.
                std::cmp::Ordering::Equal if key.len() < self.prefix => return Ok(0),
                std::cmp::Ordering::Equal => {}
            }
        }
        let target = head_of(&key[self.prefix..]);
        let (mut low, mut high) = (0, self.count);
        while low < high {
            let mid = (low + high) / 2;
            // Heads order keys whenever they differ (see `head_of`); only a tie needs the
            // key's bytes.
            let order = match self.head(mid).cmp(&target) {
                std::cmp::Ordering::Equal => compare_keys(self.key(mid)?, key),
                unequal => unequal,
            };
            let before = if strict {
                order != std::cmp::Ordering::Greater
            } else {
                order == std::cmp::Ordering::Less
            };
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

/// One entry to write: a key, for branches the child it leads to, and for long keys the
/// key block already holding it (0: inline, or not written yet).
#[derive(Clone, Copy, Debug)]
pub struct Entry<'k> {
    pub key: &'k [u8],
    pub child: u64,
    pub overflow: u64,
}

impl<'k> Entry<'k> {
    pub fn leaf(key: &'k [u8]) -> Entry<'k> {
        Entry {
            key,
            child: 0,
            overflow: 0,
        }
    }

    /// Entry `i` of `node` as it stands (its key block reused).
    pub fn of(node: &Node<'k>, i: usize) -> Result<Entry<'k>> {
        let (key, overflow) = node.key_and_block(i)?;
        Ok(Entry {
            key,
            child: if node.is_leaf { 0 } else { node.child(i) },
            overflow,
        })
    }
}

/// The first 16 bytes of `bytes`, zero-padded, as a big-endian number. When two keys
/// that share a prefix have different heads after it, the heads order the keys: at the
/// first differing byte either both keys have a byte, or the shorter key has ended (a
/// padding zero against a non-zero byte), and a prefix sorts before its extensions.
#[inline]
pub fn head_of(bytes: &[u8]) -> u128 {
    let mut head = [0u8; HEAD];
    let n = bytes.len().min(HEAD);
    head[..n].copy_from_slice(&bytes[..n]);
    u128::from_be_bytes(head)
}

/// The length of the prefix `first` and `last` share (and so every key between them),
/// as far as a node header can say.
fn shared_prefix(first: &[u8], last: &[u8]) -> usize {
    first
        .iter()
        .zip(last)
        .take_while(|(a, b)| a == b)
        .count()
        .min(u16::MAX as usize)
}

/// Byte order of two keys. Keys usually differ in their first eight bytes (an entity or
/// attribute id), which one integer comparison settles without calling `memcmp`; lookups
/// spend most of their time here.
#[inline]
pub fn compare_keys(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    if let (Some(x), Some(y)) = (a.first_chunk::<8>(), b.first_chunk::<8>()) {
        let (x, y) = (u64::from_be_bytes(*x), u64::from_be_bytes(*y));
        if x != y {
            return x.cmp(&y);
        }
        return a[8..].cmp(&b[8..]);
    }
    a.cmp(b)
}

/// Does a key of this length live in a key block?
pub fn is_long(key: &[u8]) -> bool {
    key.len() > INLINE_MAX
}

/// Payload bytes an entry takes in a node at `level`.
pub fn entry_size(level: u32, key: &[u8]) -> usize {
    SLOT + if is_long(key) { 8 } else { key.len() } + if level == 0 { 0 } else { 8 }
}

/// The payload of a node holding `entries` at `level`.
pub fn encode(level: u32, entries: &[Entry<'_>]) -> Vec<u8> {
    let n = entries.len();
    let children = if level == 0 { 0 } else { 8 * n };
    let slots = HEADER + children;
    let stored = |e: &Entry<'_>| if is_long(e.key) { 8 } else { e.key.len() };
    let keys: usize = entries.iter().map(stored).sum();
    // For sorted keys the first and last share what all share; taking every key keeps a
    // damaged (unsorted) node that is rewritten from slicing a key short of the prefix.
    let prefix = match entries.first() {
        Some(first) => entries
            .iter()
            .map(|e| shared_prefix(first.key, e.key))
            .min()
            .unwrap_or(0),
        None => 0,
    };
    let mut out = Vec::with_capacity(slots + SLOT * n + keys);
    out.extend_from_slice(&(n as u32).to_le_bytes());
    out.extend_from_slice(&(level as u16).to_le_bytes());
    out.extend_from_slice(&(prefix as u16).to_le_bytes());
    if level > 0 {
        for e in entries {
            out.extend_from_slice(&e.child.to_le_bytes());
        }
    }
    let mut at = slots + SLOT * n;
    for e in entries {
        let len = e.key.len() as u32 | if is_long(e.key) { OVERFLOW } else { 0 };
        out.extend_from_slice(&(at as u32).to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&head_of(&e.key[prefix..]).to_be_bytes());
        at += stored(e);
    }
    for e in entries {
        if is_long(e.key) {
            debug_assert!(e.overflow != 0, "a long key is written to its block first");
            out.extend_from_slice(&e.overflow.to_le_bytes());
        } else {
            out.extend_from_slice(e.key);
        }
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

/// The blocks `node` references — children and key blocks — for the reachability sweep.
/// A key block references nothing.
pub fn children(region: &Region, node: u64) -> Result<Vec<u64>> {
    if region.atomic(node)?.load(Ordering::Relaxed) as u8 == kind::BTREE_KEY {
        return Ok(Vec::new());
    }
    let n = Node::read(region, node)?;
    // Searches trust the shared prefix and the heads; a walk checks them against the keys.
    let (first, last) = (n.key(0)?, n.key(n.count - 1)?);
    if n.prefix != shared_prefix(first, last) {
        return Err(corrupt(
            region,
            node,
            &format!(
                "says its keys share {} bytes, not {}",
                n.prefix,
                shared_prefix(first, last)
            ),
        ));
    }
    let mut out = Vec::new();
    for i in 0..n.count {
        let key = n.key(i)?;
        if key.get(..n.prefix) != first.get(..n.prefix) || n.head(i) != head_of(&key[n.prefix..]) {
            return Err(corrupt(
                region,
                node,
                &format!("has a head for key {i} that is not the key's"),
            ));
        }
        if !n.is_leaf {
            out.push(n.child(i));
        }
        match n.overflow(i)? {
            0 => {}
            block => out.push(block),
        }
    }
    Ok(out)
}

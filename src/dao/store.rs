//! A database in the slab and its lock-free commit. A database is one root word pointing
//! at a small database block: the basis `t`, the next free entity id, and the roots of five
//! B+trees — the four covering indexes and the transaction log. A transaction builds new
//! versions of all five beside the published ones (each B+tree edited once, whatever the
//! number of datoms), writes a new database block, and publishes everything with one CAS
//! on the root word. If another writer published first, everything new is freed and the
//! transaction is applied again on top of the winner, with the next `t`; so `t` increases
//! by exactly one per published transaction, in every process.
//!
//! The log's keys are `t` (8 bytes), the datom's position in its transaction (4 bytes) and
//! the datom's EAVT key: the datoms of each transaction in order, readable from any `t`.

use super::datom::{Datom, Index, ASSERTED, RETRACTED};
use super::value::Value;
use crate::alloc::{kind, Allocator, BLOCK_HEADER_SIZE};
use crate::btree::{normalise, Edit, KeyOp, Range, TreeSnapshot, MAX_KEY_LEN};
use crate::epoch::Guard;
use crate::error::{Error, ErrorKind, Result};
use crate::handle::Slab;
use crate::root::{RootCell, RootKind};
use crate::slab::Region;
use std::ops::Bound;

/// The first entity id the database block's counter hands out (for the transactor's new
/// entities); lower ids are the application's and the schema's (ids below 16 are reserved).
pub const FIRST_ALLOCATED_ENTITY: u64 = 1 << 20;

const TREES: usize = 5;
const LOG: usize = 4;
const HEADER_LEN: usize = 8 * (2 + TREES);

fn tree_of(index: Index) -> usize {
    match index {
        Index::Eavt => 0,
        Index::Aevt => 1,
        Index::Avet => 2,
        Index::Vaet => 3,
    }
}

/// The contents of a database block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Header {
    t: u64,
    next_entity: u64,
    trees: [u64; TREES],
}

impl Header {
    fn read(region: &Region, block: u64) -> Result<Header> {
        if block == 0 {
            return Ok(Header {
                next_entity: FIRST_ALLOCATED_ENTITY,
                ..Header::default()
            });
        }
        let info = Allocator::new(region).block_info(block)?;
        if info.kind != kind::DAO_DATABASE {
            return Err(Error::corrupt(format!(
                "{}: block {block} has kind {:#x}, not a database",
                region.name(),
                info.kind
            )));
        }
        let bytes = region.bytes(block + BLOCK_HEADER_SIZE, HEADER_LEN as u64)?;
        let word =
            |i: usize| u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().expect("8 bytes"));
        let mut trees = [0; TREES];
        for (i, tree) in trees.iter_mut().enumerate() {
            *tree = word(2 + i);
        }
        Ok(Header {
            t: word(0),
            next_entity: word(1),
            trees,
        })
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN);
        for word in [self.t, self.next_entity].iter().chain(&self.trees) {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out
    }
}

/// The B+tree roots a database block points at (for the reachability sweep).
pub(crate) fn database_children(region: &Region, block: u64) -> Result<Vec<u64>> {
    Ok(Header::read(region, block)?
        .trees
        .into_iter()
        .filter(|&root| root != 0)
        .collect())
}

/// One change of a transaction, on resolved entity and attribute ids.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Add { e: u64, a: u64, v: Value },
    Retract { e: u64, a: u64, v: Value },
}

/// What a transaction did.
#[derive(Debug, Clone, PartialEq)]
pub struct TxReport {
    /// The transaction's `t`: the basis `t` before it, plus one.
    pub t: u64,
    /// The datoms written, in the order given.
    pub datoms: Vec<Datom>,
    /// How many times it was applied again because another writer published first.
    pub retries: u64,
}

/// How far a commit goes before `transact` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Published in memory: survives any process crash, not a power loss.
    #[default]
    None,
    /// Also on disk: the transaction's data is synced before the root that points to it is
    /// published, and the root after; writers committing together share the root's sync.
    Synced,
}

/// A datom database stored under a named root.
#[derive(Clone, Copy)]
pub struct Database<'s> {
    slab: &'s Slab,
    cell: RootCell<'s>,
    durability: Durability,
}

impl<'s> Database<'s> {
    pub(crate) fn open(slab: &'s Slab, name: &str, create: bool) -> Result<Database<'s>> {
        let cell = RootCell::named(slab.region(), name, RootKind::Dao, create)?;
        Ok(Database {
            slab,
            cell,
            durability: Durability::None,
        })
    }

    /// The same database, committing with `durability`.
    pub fn with_durability(self, durability: Durability) -> Database<'s> {
        Database { durability, ..self }
    }

    /// The database at `index` of the root table.
    pub(crate) fn at(slab: &'s Slab, index: u64) -> Result<Database<'s>> {
        let cell = RootCell::at(slab.region(), index)?;
        if cell.kind()? != RootKind::Dao {
            return Err(Error::new(
                ErrorKind::WrongKind,
                format!("root {index} ({:?}) is not a database", cell.name()?),
            ));
        }
        Ok(Database {
            slab,
            cell,
            durability: Durability::None,
        })
    }

    /// The slab the database lives in.
    pub(crate) fn slab(&self) -> &'s Slab {
        self.slab
    }

    /// The root word (the current database block).
    pub(crate) fn root(&self) -> u64 {
        self.cell.load()
    }

    pub fn root_index(&self) -> u64 {
        self.cell.index()
    }

    /// The database as of now, readable while `guard` lives.
    pub fn snapshot<'g>(&self, guard: &'g Guard<'_>) -> Result<DbSnapshot<'g>> {
        if !std::ptr::eq(guard.region(), self.slab.region()) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "the guard was pinned on a different slab handle",
            ));
        }
        let header = Header::read(guard.region(), self.cell.load())?;
        Ok(DbSnapshot {
            region: guard.region(),
            header,
        })
    }

    /// The `t` of the last published transaction (0 for an empty database).
    pub fn basis_t(&self) -> Result<u64> {
        let _guard = self.slab.pin()?;
        Ok(Header::read(self.slab.region(), self.cell.load())?.t)
    }

    /// Blocks until a transaction after `t` is published (by any process) or the timeout
    /// passes; returns the basis `t` seen last.
    pub fn wait_after(&self, t: u64, timeout: Option<std::time::Duration>) -> Result<u64> {
        let deadline = timeout.map(|d| std::time::Instant::now() + d);
        loop {
            let seen = self.cell.load();
            let basis = {
                let _guard = self.slab.pin()?;
                Header::read(self.slab.region(), seen)?.t
            };
            let remaining = match deadline {
                None => None,
                Some(at) => match at.checked_duration_since(std::time::Instant::now()) {
                    Some(left) => Some(left),
                    None => return Ok(basis),
                },
            };
            if basis > t {
                return Ok(basis);
            }
            self.cell.wait_for_change(seen, remaining);
        }
    }

    /// Applies `changes` as one transaction: every datom gets the next `t`, assertions
    /// `m = 1` and retractions `m = 0`; all indexes and the log change together, with one
    /// CAS. Nothing is written if an error is returned.
    pub fn transact(&self, changes: &[Change]) -> Result<TxReport> {
        self.transact_with(|_, _| {
            let tuples = changes
                .iter()
                .map(|change| match change {
                    Change::Add { e, a, v } => (*e, *a, v.clone(), ASSERTED),
                    Change::Retract { e, a, v } => (*e, *a, v.clone(), RETRACTED),
                })
                .collect();
            Ok((tuples, ()))
        })
        .map(|(report, ())| report)
    }

    /// The general commit: `build` sees the version the transaction starts from and an
    /// allocator of new entity ids, and returns the datoms to write as `(e, a, v, m)` (the
    /// store adds `t`) plus anything the caller wants back. If another writer publishes
    /// first, `build` runs again on the new version, so it must be safe to call more than
    /// once. An error from `build` abandons the transaction.
    pub(crate) fn transact_with<R>(
        &self,
        mut build: impl FnMut(
            &DbSnapshot<'_>,
            &mut EntityIds,
        ) -> Result<(Vec<(u64, u64, Value, u64)>, R)>,
    ) -> Result<(TxReport, R)> {
        let region = self.slab.region();
        if !region.is_writable() {
            return Err(region.read_only_error());
        }
        let mut retries = 0;
        loop {
            let _guard = self.slab.pin()?;
            let base = self.cell.load();
            let before = Header::read(region, base)?;
            let t = before.t + 1;
            let snapshot = DbSnapshot {
                region,
                header: before,
            };
            let mut ids = EntityIds {
                next: before.next_entity,
            };
            let (tuples, extra) = build(&snapshot, &mut ids)?;
            let datoms: Vec<Datom> = tuples
                .into_iter()
                .map(|(e, a, v, m)| Datom { e, a, v, t, m })
                .collect();
            // Every tree's keys go into one buffer each, marked by their ends.
            let mut buffers: Vec<Vec<u8>> = (0..TREES)
                .map(|_| Vec::with_capacity(48 * datoms.len()))
                .collect();
            let mut ends: Vec<Vec<usize>> = (0..TREES)
                .map(|_| Vec::with_capacity(datoms.len()))
                .collect();
            for (position, datom) in datoms.iter().enumerate() {
                for index in Index::ALL {
                    if datom.belongs_in(index) {
                        let tree = tree_of(index);
                        datom.key_into(index, &mut buffers[tree]);
                        ends[tree].push(buffers[tree].len());
                    }
                }
                let log = &mut buffers[LOG];
                log.extend_from_slice(&t.to_be_bytes());
                log.extend_from_slice(&(position as u32).to_be_bytes());
                datom.key_into(Index::Eavt, log);
                ends[LOG].push(log.len());
            }
            let keys: Vec<Vec<&[u8]>> = buffers
                .iter()
                .zip(&ends)
                .map(|(buffer, ends)| {
                    let mut start = 0;
                    ends.iter()
                        .map(|&end| {
                            let key = &buffer[start..end];
                            start = end;
                            key
                        })
                        .collect()
                })
                .collect();
            if let Some(long) = keys.iter().flatten().find(|k| k.len() > MAX_KEY_LEN) {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "a datom's index key takes {} bytes, over the {MAX_KEY_LEN} an index holds",
                        long.len()
                    ),
                ));
            }

            let mut edits = Vec::with_capacity(TREES);
            let mut after = before;
            after.t = t;
            after.next_entity = ids.next;
            for (tree, tree_keys) in keys.iter().enumerate() {
                let ops: Vec<KeyOp<'_>> = tree_keys.iter().map(|&k| KeyOp::Insert(k)).collect();
                let mut edit = Edit::new(region, before.trees[tree]);
                edit.apply(&normalise(&ops))?;
                after.trees[tree] = edit.root();
                edits.push(edit);
            }
            // If another writer has won meanwhile, nothing is sealed yet: the edits are
            // dropped below, which frees their blocks at once for the retry to reuse.
            if self.cell.load() == base {
                // The database block is new in every transaction (its `t` changes).
                let block = self.write_header(&after)?;
                let sealed = edits.iter_mut().try_for_each(|edit| edit.seal());
                // Data first: nothing the new root reaches may be missing after a power loss.
                let synced = sealed.and_then(|()| self.sync_before_publish());
                if let Err(e) = synced {
                    self.withdraw(edits, block);
                    return Err(e);
                }
                if self.cell.compare_exchange(base, block).is_ok() {
                    let mut unlinked: Vec<u64> =
                        edits.into_iter().flat_map(|e| e.published()).collect();
                    if base != 0 {
                        unlinked.push(base);
                    }
                    self.slab.retire_after_publish(&unlinked);
                    if self.durability == Durability::Synced {
                        // Published already: a failed root sync is reported, not undone.
                        self.slab.sync_roots()?;
                    }
                    return Ok((TxReport { t, datoms, retries }, extra));
                }
                self.withdraw(edits, block);
            }
            retries += 1;
            if retries > 3 {
                std::thread::yield_now();
            }
        }
    }
}

impl Database<'_> {
    /// Raises the counter that new entity ids come from to at least `next` (never lowers
    /// it), so that the transactor's new entities cannot collide with ids written
    /// explicitly, e.g. by `eve import`, which keeps the exported ids. Publishes a new
    /// database block with the same `t` and indexes (no transaction, nothing in the log);
    /// does nothing if the counter is already there. Returns the counter after.
    pub fn reserve_entity_ids(&self, next: u64) -> Result<u64> {
        let region = self.slab.region();
        if !region.is_writable() {
            return Err(region.read_only_error());
        }
        loop {
            let _guard = self.slab.pin()?;
            let base = self.cell.load();
            let before = Header::read(region, base)?;
            if before.next_entity >= next {
                return Ok(before.next_entity);
            }
            let after = Header {
                next_entity: next,
                ..before
            };
            if self.publish_header(base, &after, Vec::new())? {
                return Ok(next);
            }
        }
    }

    /// Fills an empty database with a whole history at once: `log` is every datom of
    /// every transaction in log order (ascending `t`, and each transaction's datoms in
    /// their order), as `DbSnapshot::log_from(0)` reads them from another database, whose
    /// basis `t` and `next_entity` come with them. The four indexes and the log are each
    /// built bottom-up in one pass and published with one CAS, so the copy is as compact
    /// as its data allows, with the same `t`s, `m`s and entity ids (what `eve compact`
    /// does). No schema checks: the datoms are taken as they are. Fails with
    /// `InvalidArgument`, changing nothing, if this database has any transaction, if the
    /// log is out of order or has a `t` of 0 or above `basis_t`, or if another writer
    /// commits to this database meanwhile.
    pub fn restore(&self, log: &[Datom], basis_t: u64, next_entity: u64) -> Result<()> {
        let region = self.slab.region();
        if !region.is_writable() {
            return Err(region.read_only_error());
        }
        let mut trees: Vec<Vec<Vec<u8>>> = vec![Vec::new(); TREES];
        let (mut last_t, mut position) = (0u64, 0u32);
        for datom in log {
            if datom.t == 0 || datom.t > basis_t || datom.t < last_t {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "a restored log must be in order of t, from 1 to the basis t {basis_t}; found t {} after t {last_t}",
                        datom.t
                    ),
                ));
            }
            position = if datom.t == last_t { position + 1 } else { 0 };
            last_t = datom.t;
            for index in Index::ALL {
                if datom.belongs_in(index) {
                    trees[tree_of(index)].push(datom.key(index));
                }
            }
            let mut key = Vec::with_capacity(64);
            key.extend_from_slice(&datom.t.to_be_bytes());
            key.extend_from_slice(&position.to_be_bytes());
            datom.key_into(Index::Eavt, &mut key);
            trees[LOG].push(key);
        }
        if let Some(long) = trees.iter().flatten().find(|k| k.len() > MAX_KEY_LEN) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "a datom's index key takes {} bytes, over the {MAX_KEY_LEN} an index holds",
                    long.len()
                ),
            ));
        }
        let _guard = self.slab.pin()?;
        let base = self.cell.load();
        let before = Header::read(region, base)?;
        if before.t != 0 || before.trees.iter().any(|&root| root != 0) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "{}: database {:?} is not empty (basis t {}); restore into a new one",
                    region.name(),
                    self.cell.name()?,
                    before.t
                ),
            ));
        }
        let mut edits = Vec::with_capacity(TREES);
        let mut after = Header {
            t: basis_t,
            next_entity: next_entity.max(before.next_entity),
            trees: [0; TREES],
        };
        for (tree, keys) in trees.iter().enumerate() {
            let ops: Vec<KeyOp<'_>> = keys.iter().map(|k| KeyOp::Insert(k)).collect();
            let mut edit = Edit::new(region, 0);
            edit.apply(&normalise(&ops))?;
            after.trees[tree] = edit.root();
            edits.push(edit);
        }
        if self.publish_header(base, &after, edits)? {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{}: another writer committed to database {:?} during the restore",
                region.name(),
                self.cell.name()?
            ),
        ))
    }

    /// Writes `header` into a new database block and publishes it in place of `base`,
    /// with the trees `edits` built from empty ones; false (and nothing published) if the
    /// root no longer holds `base`.
    fn publish_header(&self, base: u64, header: &Header, mut edits: Vec<Edit<'_>>) -> Result<bool> {
        let block = self.write_header(header)?;
        let sealed = edits.iter_mut().try_for_each(|edit| edit.seal());
        if let Err(e) = sealed.and_then(|()| self.sync_before_publish()) {
            self.withdraw(edits, block);
            return Err(e);
        }
        if self.cell.compare_exchange(base, block).is_err() {
            self.withdraw(edits, block);
            return Ok(false);
        }
        for edit in edits {
            // Built from empty trees: nothing published was replaced.
            edit.published();
        }
        if base != 0 {
            self.slab.retire_after_publish(&[base]);
        }
        if self.durability == Durability::Synced {
            self.slab.sync_roots()?;
        }
        Ok(true)
    }

    /// Writes `header` into a new, sealed database block.
    fn write_header(&self, header: &Header) -> Result<u64> {
        let region = self.slab.region();
        let alloc = Allocator::new(region);
        let block = alloc.alloc(kind::DAO_DATABASE, HEADER_LEN as u64)?;
        let written = region.write(block + BLOCK_HEADER_SIZE, &header.encode());
        if let Err(e) = written {
            alloc.free(block)?;
            return Err(e);
        }
        if let Err(e) = alloc.seal(block) {
            self.slab.retire_after_publish(&[block]);
            return Err(e);
        }
        Ok(block)
    }

    /// A durable commit writes everything its root will reach to the disk before the CAS.
    fn sync_before_publish(&self) -> Result<()> {
        match self.durability {
            Durability::Synced => self.slab.region().sync_data(),
            Durability::None => Ok(()),
        }
    }

    /// A sealed commit that will not be published: its blocks may be on disk as whole
    /// nodes, so they are retired like replaced ones rather than freed at once.
    fn withdraw(&self, edits: Vec<Edit<'_>>, block: u64) {
        let mut blocks: Vec<u64> = edits.into_iter().flat_map(|e| e.withdraw()).collect();
        blocks.push(block);
        self.slab.retire_after_publish(&blocks);
    }
}

/// Hands out new entity ids during one attempt of a transaction; the store keeps the
/// counter in the database block, so ids are never reused, in any process.
pub struct EntityIds {
    next: u64,
}

impl EntityIds {
    pub fn allocate(&mut self) -> u64 {
        let id = self.next;
        self.next += 1;
        id
    }
}

/// One version of a database, valid while its pin lives. Its views (`as_of`, `history`,
/// the log) all read the same published indexes in place.
#[derive(Clone, Copy)]
pub struct DbSnapshot<'g> {
    region: &'g Region,
    header: Header,
}

impl<'g> DbSnapshot<'g> {
    /// The version whose database block is `block` (a root word read under a pin of
    /// `region` that is still held).
    pub(crate) fn at(region: &'g Region, block: u64) -> Result<DbSnapshot<'g>> {
        Ok(DbSnapshot {
            region,
            header: Header::read(region, block)?,
        })
    }

    /// The `t` of the last transaction this version includes.
    pub fn basis_t(&self) -> u64 {
        self.header.t
    }

    /// The entity id the transactor hands out next in this version (ids from here on
    /// have never been allocated by it).
    pub fn next_entity(&self) -> u64 {
        self.header.next_entity
    }

    fn tree(&self, tree: usize) -> TreeSnapshot<'g> {
        TreeSnapshot::at(self.region, self.header.trees[tree])
    }

    /// Every datom ever written to `index` whose key starts with `prefix` (the encoded
    /// leading components, see `Datom::key`), assertions and retractions alike, in index
    /// order: the history view.
    pub fn history(&self, index: Index, prefix: &[u8]) -> Datoms<'g> {
        let end = successor(prefix);
        self.raw(index, prefix, end.as_deref())
    }

    /// The datoms of `index` from the key prefix `start` (inclusive) up to the key prefix
    /// `end` (exclusive; `None`: every key starting with `start`), as `view` shows them.
    /// Bounds are meant to be leading `[e a v]` components (see `index_prefix`), so that
    /// the datoms of one `[e a v]` are never split.
    pub fn range(&self, index: Index, view: View, start: &[u8], end: Option<&[u8]>) -> Datoms<'g> {
        let prefix_end = successor(start);
        let raw = self.raw(index, start, end.or(prefix_end.as_deref()));
        let (as_of, since, folded) = match view {
            View::History => (u64::MAX, 0, false),
            View::Current => (self.header.t, 0, true),
            View::AsOf(t) => (t, 0, true),
            View::Since(t) => (self.header.t, t, true),
        };
        Datoms {
            as_of,
            since,
            folded,
            ..raw
        }
    }

    /// About how many datoms (of every `t`, assertions and retractions) `index` holds
    /// under `prefix`, without scanning them: what the query planner compares.
    pub fn estimate(&self, index: Index, prefix: &[u8]) -> Result<u64> {
        self.tree(tree_of(index))
            .estimate_range(prefix, successor(prefix).as_deref())
    }

    /// Every datom with a key in `[start, end)` (`end` `None`: no upper bound), unfolded.
    fn raw(&self, index: Index, start: &[u8], end: Option<&[u8]>) -> Datoms<'g> {
        let range = self.tree(tree_of(index)).range(
            Bound::Included(start),
            end.map_or(Bound::Unbounded, Bound::Excluded),
        );
        Datoms {
            index,
            range,
            as_of: u64::MAX,
            since: 0,
            folded: false,
            group: None,
            scratch: Vec::new(),
        }
    }

    /// The datoms true as of `t` (the latest datom of each `[e a v]` with a `t` at most
    /// `t` is an assertion), in index order.
    pub fn as_of(&self, t: u64, index: Index, prefix: &[u8]) -> Datoms<'g> {
        Datoms {
            as_of: t,
            folded: true,
            ..self.history(index, prefix)
        }
    }

    /// The datoms true now.
    pub fn current(&self, index: Index, prefix: &[u8]) -> Datoms<'g> {
        self.as_of(self.header.t, index, prefix)
    }

    /// The datoms true now that were asserted after `t`.
    pub fn since(&self, t: u64, index: Index, prefix: &[u8]) -> Datoms<'g> {
        Datoms {
            since: t,
            ..self.current(index, prefix)
        }
    }

    /// The transaction log from transaction `t` on: every datom of every transaction, in
    /// the order of `t` and then of the transaction's own order.
    pub fn log_from(&self, t: u64) -> LogDatoms<'g> {
        let start = t.to_be_bytes();
        LogDatoms {
            range: self
                .tree(LOG)
                .range(Bound::Included(&start), Bound::Unbounded),
        }
    }
}

/// The smallest byte string greater than every string starting with `prefix` (`None` if
/// there is none: the prefix is empty or all 0xFF).
/// The smallest key above every key that starts with `prefix` (none if it is all 0xFF).
pub(crate) fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Which datoms a range shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The datoms true now.
    Current,
    /// The datoms true as of transaction `t`.
    AsOf(u64),
    /// The datoms true now that were asserted after transaction `t`.
    Since(u64),
    /// Every assertion and retraction.
    History,
}

/// Datoms read from an index in place, decoded; for the folded views, one per `[e a v]`.
pub struct Datoms<'g> {
    index: Index,
    range: Range<'g>,
    as_of: u64,
    since: u64,
    folded: bool,
    /// The key of the datom of the `[e a v]` group being read that is latest at or before
    /// `as_of`.
    group: Option<&'g [u8]>,
    /// Room for the end key of `reposition`.
    scratch: Vec<u8>,
}

impl<'g> Datoms<'g> {
    /// The index the datoms come from (and their keys are in).
    pub fn index(&self) -> Index {
        self.index
    }

    /// Moves the cursor to the datoms whose keys start with `prefix`, in the same index and
    /// view. Ascending prefixes reuse the cursor's path through the tree, so a join that
    /// visits sorted entities seeks in a few comparisons.
    pub fn reposition(&mut self, prefix: &[u8]) -> Result<()> {
        self.group = None;
        // The end of the prefix's keys, built in place (this runs once per joined row).
        let end = &mut self.scratch;
        end.clear();
        end.extend_from_slice(prefix);
        while end.last() == Some(&0xFF) {
            end.pop();
        }
        let bounded = match end.last_mut() {
            Some(last) => {
                *last += 1;
                true
            }
            None => false,
        };
        self.range
            .reposition(prefix, if bounded { Some(&self.scratch) } else { None })
    }

    /// Ends the current group: the key of its latest datom, if that is an assertion in the
    /// view.
    fn close_group(&mut self) -> Option<&'g [u8]> {
        let since = self.since;
        self.group.take().filter(|key| {
            let (t, m) = Datom::key_t_m(key);
            m != RETRACTED && t > since
        })
    }

    /// The key of the next datom in the view, which lies in the slab; nothing is decoded
    /// (see `Datom::key_parts` and `Datom::from_key`). Keys too short to be index keys are
    /// reported as corrupt.
    pub fn next_key(&mut self) -> Option<Result<&'g [u8]>> {
        loop {
            let key = match self.range.next() {
                None => return self.close_group().map(Ok),
                Some(Err(e)) => return Some(Err(e)),
                Some(Ok(key)) => key,
            };
            if key.len() < Datom::MIN_KEY_LEN {
                return Some(Err(Error::corrupt(format!(
                    "a {:?} index key is {} bytes long",
                    self.index,
                    key.len()
                ))));
            }
            if !self.folded {
                return Some(Ok(key));
            }
            // Within an index the datoms of one [e a v] are adjacent, in order of t, and
            // their keys differ only in the trailing t and m.
            let body = &key[..key.len() - 16];
            let same = self.group.is_some_and(|g| g[..g.len() - 16] == *body);
            let finished = if same { None } else { self.close_group() };
            if Datom::key_t_m(key).0 <= self.as_of {
                self.group = Some(key);
            } else if !same {
                self.group = None;
            }
            if let Some(done) = finished {
                return Some(Ok(done));
            }
        }
    }

    /// The next datom with its index key, which lies in the slab (so values can be handed
    /// out without copying, see `Datom::key`).
    pub fn next_with_key(&mut self) -> Option<Result<(&'g [u8], Datom)>> {
        let index = self.index;
        Some(
            self.next_key()?
                .and_then(|key| Ok((key, Datom::from_key(index, key)?))),
        )
    }
}

impl Iterator for Datoms<'_> {
    type Item = Result<Datom>;

    fn next(&mut self) -> Option<Result<Datom>> {
        self.next_with_key().map(|r| r.map(|(_, datom)| datom))
    }
}

/// The transaction log read in place: `(t, datom)` in log order.
pub struct LogDatoms<'g> {
    range: Range<'g>,
}

impl<'g> LogDatoms<'g> {
    /// The next datom with its EAVT key, which lies in the slab.
    pub fn next_with_key(&mut self) -> Option<Result<(&'g [u8], Datom)>> {
        let key = match self.range.next()? {
            Ok(key) => key,
            Err(e) => return Some(Err(e)),
        };
        if key.len() < 12 {
            return Some(Err(Error::corrupt("a transaction log key is too short")));
        }
        Some(Datom::from_key(Index::Eavt, &key[12..]).map(|d| (&key[12..], d)))
    }
}

impl Iterator for LogDatoms<'_> {
    type Item = Result<Datom>;

    fn next(&mut self) -> Option<Result<Datom>> {
        self.next_with_key().map(|r| r.map(|(_, datom)| datom))
    }
}

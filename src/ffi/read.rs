//! Reads: a pinned epoch during which values are handed out as pointers into the slab.
//! The read handle is the snapshot: the first lookup in a map fixes the version of that map
//! the read sees, and every later lookup of the same map in the same read sees it too.

use super::args::{self, eve_bytes, Out, OutArray};
use super::error::{run, Failure};
use super::handles::{self, eve_read, eve_slab, OpenRead, Pinned};
use super::EveStatus;
use crate::hamt::Snapshot;
use crate::HamtMap;

/// Begins a read on the calling thread and stores its handle in `*out`. While the read is
/// open, no block it can reach is freed by any process, so every pointer a lookup hands
/// out stays valid until `eve_read_end`. Reads are cheap (tens of nanoseconds) and nest;
/// a read belongs to the thread that began it, which alone can use and end it. Keep reads
/// short: a read left open holds back reclamation in every process.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_read_begin(slab: *mut eve_slab, out: *mut *mut eve_read) -> EveStatus {
    run(|| {
        let out = Out::new(out, "out")?;
        let pinned = Pinned::new(handles::slab(slab)?)?;
        out.write(handles::register_read(OpenRead {
            pinned,
            versions: Vec::new(),
        })?);
        Ok(())
    })
}

/// Ends a read. Every pointer it handed out becomes invalid; iterators opened from it stay
/// valid until they are closed.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_read_end(read: *mut eve_read) -> EveStatus {
    run(|| handles::end_read(read))
}

impl OpenRead {
    /// The version of the map (or set) at `index` this read sees.
    pub(crate) fn snapshot(&mut self, index: u64) -> crate::Result<Snapshot<'_>> {
        let root = self.version(index, |slab| Ok(HamtMap::at(slab, index, true)?.root()))?;
        Ok(Snapshot::at(self.pinned.guard(), root))
    }
}

/// Looks `key` up in the map at root index `map` and stores the value in `*value`: a
/// pointer into the slab itself (no copy) and its length, valid until the read ends. Stores
/// `{NULL, 0}` when the key is absent (an empty value has a non-NULL pointer).
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_read_get(
    read: *mut eve_read,
    map: u32,
    key: *const u8,
    key_len: usize,
    value: *mut eve_bytes,
) -> EveStatus {
    run(|| {
        let out = Out::new(value, "value")?;
        // SAFETY: the header documents `key` as `key_len` readable bytes.
        let key = unsafe { args::bytes(key, key_len, "key") }?;
        handles::with_read(read, |read| {
            let found = read.snapshot(map.into())?.get(key)?;
            out.write(found.map_or(eve_bytes::ABSENT, eve_bytes::of));
            Ok(())
        })
    })
}

/// Looks up `count` keys in one call (for hosts where each call across the boundary is
/// costly): `values[i]` receives the value of `keys[i]` as `eve_read_get` would. `keys`
/// and `values` may be NULL when `count` is 0.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_read_get_many(
    read: *mut eve_read,
    map: u32,
    keys: *const eve_bytes,
    count: usize,
    values: *mut eve_bytes,
) -> EveStatus {
    run(|| {
        // SAFETY: the header documents `keys` as `count` readable items.
        let keys = unsafe { args::array(keys, count, "keys") }?;
        let values = OutArray::new(values, count, "values")?;
        let keys = keys
            .iter()
            // SAFETY: the header documents each key as readable bytes.
            .map(|key| unsafe { args::view(key, "keys[]") })
            .collect::<Result<Vec<&[u8]>, Failure>>()?;
        handles::with_read(read, |read| {
            let snapshot = read.snapshot(map.into())?;
            // One batched lookup: the keys' cache misses overlap.
            for (at, found) in snapshot.get_many(&keys)?.into_iter().enumerate() {
                values.write(at, found.map_or(eve_bytes::ABSENT, eve_bytes::of));
            }
            Ok(())
        })
    })
}

/// Stores the number of entries of the map at root index `map`, as this read sees it, in
/// `*count`.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_read_count(
    read: *mut eve_read,
    map: u32,
    count: *mut u64,
) -> EveStatus {
    run(|| {
        let out = Out::new(count, "count")?;
        handles::with_read(read, |read| {
            out.write(read.snapshot(map.into())?.len()?);
            Ok(())
        })
    })
}

//! Iterators: walking every entry of one version of a map, a batch of entries per call.

use super::args::{eve_bytes, Out, OutArray};
use super::error::{run, Failure};
use super::handles::{self, eve_iter, eve_read, OpenIter, Pinned};
use super::EveStatus;
use crate::hamt::Snapshot;

/// Opens an iterator over the entries of the map at root index `map`, in the version this
/// read sees, and stores its handle in `*out`. The iterator holds its own pin: it and the
/// pointers it hands out stay valid until `eve_iter_close`, even after the read ends. It
/// belongs to the calling thread.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_iter_open(
    read: *mut eve_read,
    map: u32,
    out: *mut *mut eve_iter,
) -> EveStatus {
    run(|| {
        let out = Out::new(out, "out")?;
        let open = handles::with_read(read, |read| {
            let root = read.snapshot(map.into())?.root();
            let pinned = Pinned::new(read.pinned.shared_slab())?;
            let iter = Snapshot::at(pinned.guard(), root).iter();
            // SAFETY: the iterator borrows the region inside the slab that `pinned` keeps
            // alive and pinned; `OpenIter` drops the iterator before `pinned`.
            let iter =
                unsafe { std::mem::transmute::<crate::Iter<'_>, crate::Iter<'static>>(iter) };
            Ok(OpenIter { iter, pinned })
        })?;
        out.write(handles::register_iter(open)?);
        Ok(())
    })
}

/// Stores up to `capacity` further entries in `keys[0..n]` and `values[0..n]` and `n` in
/// `*count`; `n` is 0 once the iterator is exhausted. Entries come in hash order; the
/// pointers lead into the slab (no copy) and stay valid until the iterator is closed.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_iter_next(
    iter: *mut eve_iter,
    keys: *mut eve_bytes,
    values: *mut eve_bytes,
    capacity: usize,
    count: *mut usize,
) -> EveStatus {
    run(|| {
        let out_count = Out::new(count, "count")?;
        if capacity == 0 {
            return Err(Failure::invalid("capacity must be at least 1"));
        }
        let keys = OutArray::new(keys, capacity, "keys")?;
        let values = OutArray::new(values, capacity, "values")?;
        handles::with_iter(iter, |open| {
            let mut n = 0;
            while n < keys.capacity() {
                match open.iter.next() {
                    None => break,
                    Some(entry) => {
                        let (key, value) = entry?;
                        keys.write(n, eve_bytes::of(key));
                        values.write(n, eve_bytes::of(value));
                        n += 1;
                    }
                }
            }
            out_count.write(n);
            Ok(())
        })
    })
}

/// Closes an iterator; the pointers it handed out become invalid.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_iter_close(iter: *mut eve_iter) -> EveStatus {
    run(|| handles::end_iter(iter))
}

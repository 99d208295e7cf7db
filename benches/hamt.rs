//! Random gets, pin/unpin and single-key updates on 1M keys: eve beside LMDB (heed) and
//! `im`'s heap HashMap, in one run.

mod support;

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use eve::ffi;
use std::time::Duration;
use support::*;

/// Gets per pin (eve) / per read transaction (LMDB).
const BATCH: usize = 1000;

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let keys = keys();
    let slab = load_eve(&dir.path().join("bench.slab"), &keys);
    let map = slab.map("bench").unwrap();
    let (env, db) = load_lmdb(&dir.path().join("lmdb"), &keys);
    let mut heap = load_im(&keys);

    let mut group = c.benchmark_group("get_1m");
    group.throughput(Throughput::Elements(BATCH as u64));
    let mut rng = XorShift(7);
    group.bench_function("eve", |b| {
        b.iter(|| {
            let guard = slab.pin().unwrap();
            let snapshot = map.snapshot(&guard).unwrap();
            let mut total = 0;
            for _ in 0..BATCH {
                let k = &keys[rng.next() as usize % KEYS];
                total += snapshot.get(k).unwrap().unwrap().len();
            }
            black_box(total)
        })
    });
    // The same lookups in one batched call, which walks them side by side so that their
    // cache misses overlap.
    group.bench_function("eve_get_many", |b| {
        let mut batch: Vec<&[u8]> = Vec::with_capacity(BATCH);
        b.iter(|| {
            let guard = slab.pin().unwrap();
            let snapshot = map.snapshot(&guard).unwrap();
            batch.clear();
            batch.extend((0..BATCH).map(|_| &keys[rng.next() as usize % KEYS][..]));
            let total: usize = snapshot
                .get_many(&batch)
                .unwrap()
                .iter()
                .map(|v| v.unwrap().len())
                .sum();
            black_box(total)
        })
    });
    // The same lookups through the exported C functions (what a C, Java or Node caller
    // runs), on a second handle to the same file.
    let path = std::ffi::CString::new(dir.path().join("bench.slab").to_str().unwrap()).unwrap();
    let c_abi = CAbi::open(&path);
    group.bench_function("eve_c_abi", |b| {
        b.iter(|| {
            let read = c_abi.begin();
            let mut total = 0;
            for _ in 0..BATCH {
                let k = &keys[rng.next() as usize % KEYS];
                total += c_abi.get(read, k);
            }
            c_abi.end(read);
            black_box(total)
        })
    });
    group.bench_function("lmdb", |b| {
        b.iter(|| {
            let rtxn = env.read_txn().unwrap();
            let mut total = 0;
            for _ in 0..BATCH {
                let k = &keys[rng.next() as usize % KEYS];
                total += db.get(&rtxn, k).unwrap().unwrap().len();
            }
            black_box(total)
        })
    });
    group.bench_function("im", |b| {
        b.iter(|| {
            let mut total = 0;
            for _ in 0..BATCH {
                let k = &keys[rng.next() as usize % KEYS];
                total += heap.get(k).unwrap().len();
            }
            black_box(total)
        })
    });
    group.finish();
    c_abi.close();

    let mut group = c.benchmark_group("pin_unpin");
    group.bench_function("eve", |b| b.iter(|| black_box(slab.pin().unwrap())));
    group.bench_function("lmdb_read_txn", |b| {
        b.iter(|| black_box(env.read_txn().unwrap()))
    });
    group.finish();

    let mut group = c.benchmark_group("update_1m");
    let mut version = 0u8;
    group.bench_function("eve", |b| {
        b.iter(|| {
            let k = &keys[rng.next() as usize % KEYS];
            version = version.wrapping_add(1);
            map.insert(k, &value_for(k, version)).unwrap()
        })
    });
    group.bench_function("lmdb_nosync", |b| {
        b.iter(|| {
            let k = &keys[rng.next() as usize % KEYS];
            version = version.wrapping_add(1);
            let mut wtxn = env.write_txn().unwrap();
            db.put(&mut wtxn, k, &value_for(k, version)).unwrap();
            wtxn.commit().unwrap();
        })
    });
    group.bench_function("im", |b| {
        b.iter_batched_ref(
            || (),
            |_| {
                let k = &keys[rng.next() as usize % KEYS];
                version = version.wrapping_add(1);
                heap.insert(*k, value_for(k, version).to_vec())
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group! {
    name = hamt;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = benches
}
criterion_main!(hamt);

/// A slab handle and map opened through the C ABI.
struct CAbi {
    slab: *mut ffi::eve_slab,
    map: u32,
}

impl CAbi {
    fn open(path: &std::ffi::CStr) -> CAbi {
        let mut slab = std::ptr::null_mut();
        let mut map = 0;
        // SAFETY: valid NUL-terminated strings and writable out-pointers.
        unsafe {
            assert_eq!(
                ffi::eve_slab_open(path.as_ptr(), std::ptr::null(), &mut slab),
                ffi::EveStatus::EVE_OK
            );
            assert_eq!(
                ffi::eve_map_open(slab, c"bench".as_ptr(), &mut map),
                ffi::EveStatus::EVE_OK
            );
        }
        CAbi { slab, map }
    }

    fn close(self) {
        // SAFETY: no pointer arguments besides the handle.
        assert_eq!(
            unsafe { ffi::eve_slab_close(self.slab) },
            ffi::EveStatus::EVE_OK
        );
    }

    fn begin(&self) -> *mut ffi::eve_read {
        let mut read = std::ptr::null_mut();
        // SAFETY: a writable out-pointer.
        assert_eq!(
            unsafe { ffi::eve_read_begin(self.slab, &mut read) },
            ffi::EveStatus::EVE_OK
        );
        read
    }

    fn get(&self, read: *mut ffi::eve_read, key: &[u8]) -> usize {
        let mut value = ffi::eve_bytes {
            data: std::ptr::null(),
            len: 0,
        };
        // SAFETY: `key` is readable for its length and `value` writable.
        let status =
            unsafe { ffi::eve_read_get(read, self.map, key.as_ptr(), key.len(), &mut value) };
        assert_eq!(status, ffi::EveStatus::EVE_OK);
        value.len
    }

    fn end(&self, read: *mut ffi::eve_read) {
        // SAFETY: no pointer arguments besides the handle.
        assert_eq!(unsafe { ffi::eve_read_end(read) }, ffi::EveStatus::EVE_OK);
    }
}

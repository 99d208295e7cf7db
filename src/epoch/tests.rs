//! In-process stress of the reclamation protocol: readers keep snapshots and re-verify them
//! byte for byte while writers replace every value and reclaim as fast as they can. A block
//! freed too early is reused by a writer (free lists are LIFO), so its bytes change under
//! the reader and the check fails.

use crate::Slab;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const KEYS: u64 = 64;

/// A value that proves its own integrity: 150 bytes, all equal to one tag byte except the
/// first 8, which hold the key it belongs to.
fn value(key: u64, tag: u8) -> Vec<u8> {
    let mut v = vec![tag; 150];
    v[..8].copy_from_slice(&key.to_le_bytes());
    v
}

fn intact(key: u64, v: &[u8]) -> bool {
    v.len() == 150 && v[..8] == key.to_le_bytes() && v[8..].iter().all(|&b| b == v[8])
}

#[test]
fn snapshots_survive_concurrent_updates_and_reclamation() {
    let slab = Slab::anonymous().unwrap();
    let map = slab.map("stress").unwrap();
    map.update(|txn| {
        for k in 0..KEYS {
            txn.insert(&k.to_le_bytes(), &value(k, 0))?;
        }
        Ok(())
    })
    .unwrap();
    let stop = AtomicBool::new(false);
    let commits = AtomicU64::new(0);
    let checks = AtomicU64::new(0);
    std::thread::scope(|s| {
        for w in 0..2u64 {
            let (slab, stop, commits) = (&slab, &stop, &commits);
            s.spawn(move || {
                let map = slab.map("stress").unwrap();
                let mut tag = 1u8;
                while !stop.load(Ordering::Relaxed) {
                    let k = (tag as u64 * 7 + w) % KEYS;
                    map.insert(&k.to_le_bytes(), &value(k, tag)).unwrap();
                    tag = tag.wrapping_add(1).max(1);
                    if tag % 32 == 0 {
                        slab.reclaim().unwrap();
                    }
                    commits.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        for _ in 0..2 {
            let (slab, stop, checks) = (&slab, &stop, &checks);
            s.spawn(move || {
                let map = slab.map("stress").unwrap();
                while !stop.load(Ordering::Relaxed) {
                    let guard = slab.pin().unwrap();
                    let snapshot = map.snapshot(&guard).unwrap();
                    let first: Vec<&[u8]> = (0..KEYS)
                        .map(|k| snapshot.get(&k.to_le_bytes()).unwrap().unwrap())
                        .collect();
                    let copies: Vec<Vec<u8>> = first.iter().map(|v| v.to_vec()).collect();
                    // Let the writers run past this snapshot many times over.
                    std::thread::sleep(Duration::from_micros(200));
                    for (k, v) in first.iter().enumerate() {
                        assert!(intact(k as u64, v), "value of key {k} was overwritten");
                        assert_eq!(*v, &copies[k][..], "snapshot of key {k} changed");
                    }
                    assert_eq!(snapshot.len().unwrap(), KEYS);
                    checks.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(1500) {
            std::thread::sleep(Duration::from_millis(10));
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(
        commits.load(Ordering::Relaxed) > 1000,
        "writers made too little progress"
    );
    assert!(
        checks.load(Ordering::Relaxed) > 100,
        "readers made too little progress"
    );
    // With every pin gone, reclamation frees all but the newest retirements, and the map
    // itself (64 leaves + a few branches) is all that stays in use.
    slab.reclaim().unwrap();
    slab.reclaim().unwrap();
    let stats = slab.stats();
    assert!(
        stats.retired_blocks < 64,
        "retired blocks held back: {stats:?}"
    );
    assert!(stats.blocks_in_use < 200, "blocks leaked: {stats:?}");
}

#[test]
fn nested_pins_share_the_outer_epoch() {
    let slab = Slab::anonymous().unwrap();
    let outer = slab.pin().unwrap();
    let epoch = outer.epoch();
    assert_ne!(epoch, 0);
    {
        let inner = slab.pin().unwrap();
        assert_eq!(inner.epoch(), epoch);
    }
    assert_eq!(
        outer.epoch(),
        epoch,
        "dropping the inner pin must not unpin"
    );
    assert_eq!(slab.stats().live_readers, 1);
    drop(outer);
    assert_eq!(slab.stats().live_readers, 0);
}

#[test]
fn a_pinned_reader_holds_back_only_newer_retirements() {
    let slab = Slab::anonymous().unwrap();
    let map = slab.map("m").unwrap();
    map.insert(b"k", b"v0").unwrap();
    let held = std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let slab = &slab;
        let reader = s.spawn(move || {
            let map = slab.map("m").unwrap();
            let guard = slab.pin().unwrap();
            let v = map.get(&guard, b"k").unwrap().unwrap();
            tx.send(()).unwrap();
            done_rx.recv().unwrap();
            v == b"v0"
        });
        rx.recv().unwrap();
        for i in 0..200 {
            map.insert(b"k", format!("v{}", i + 1).as_bytes()).unwrap();
        }
        let report = slab.reclaim().unwrap();
        assert_eq!(
            report.freed_blocks, 0,
            "freed blocks a pinned reader can still see"
        );
        assert!(report.kept_blocks >= 200);
        done_tx.send(()).unwrap();
        reader.join().unwrap()
    });
    assert!(held, "the pinned reader's value changed");
    let report = slab.reclaim().unwrap();
    assert!(report.freed_blocks >= 200, "{report:?}");
}

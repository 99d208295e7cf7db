//! Reclamation across processes: bounded memory, pins that hold, paused and dead readers,
//! writers killed mid-update.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn value(tag: u64) -> Vec<u8> {
    let mut v = vec![(tag % 251) as u8; 150];
    v[..8].copy_from_slice(&tag.to_le_bytes());
    v
}

/// Rewrites 16 keys `rounds` times with values never written before (a rewrite with the
/// same value is a no-op and would retire nothing).
fn churn(map: &eve::HamtMap<'_>, rounds: u64) {
    static ROUND: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let first = ROUND.fetch_add(rounds, std::sync::atomic::Ordering::Relaxed);
    for r in first..first + rounds {
        for k in 0..16u64 {
            map.insert(&k.to_le_bytes(), &value(r * 16 + k)).unwrap();
        }
    }
}

#[test]
fn memory_stays_bounded_over_100k_updates() {
    let dir = tempfile::tempdir().unwrap();
    let slab = eve::Slab::open(dir.path().join("bounded.slab")).unwrap();
    let map = slab.map("m").unwrap();
    churn(&map, 1);
    let early = slab.stats();
    churn(&map, 100_000 / 16);
    slab.reclaim().unwrap();
    let late = slab.stats();
    // 16 leaves and a couple of branches are live; at most one reclamation interval of
    // retired blocks (16 commits of ~3 blocks) may be waiting.
    assert!(late.blocks_in_use < 150, "{late:?}");
    assert!(late.bytes_in_use < 64 * 1024, "{late:?}");
    assert!(late.retired_blocks < 100, "{late:?}");
    assert!(
        late.file_len <= early.file_len + 1024 * 1024,
        "file kept growing: {early:?} -> {late:?}"
    );
}

/// In a slab on disk that had a checkpoint, a retired block is freed only by a checkpoint,
/// which syncs its free header before the block can be reused (a reused block must never
/// read, on disk, as the whole node it held before). A slab in memory, or one that never
/// had a checkpoint (nothing to fall back to after a power loss), frees at once.
#[test]
fn on_disk_retired_blocks_wait_for_a_checkpoint_and_otherwise_they_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let slab = eve::Slab::open(dir.path().join("disk.slab")).unwrap();
    let map = slab.map("m").unwrap();
    churn(&map, 20);
    let never = slab.stats();
    assert!(never.retired_blocks < 100, "{never:?}");
    // A durable commit runs the slab's first checkpoint.
    slab.database("d")
        .unwrap()
        .with_durability(eve::dao::Durability::Synced)
        .transact_edn("[[:db/add \"x\" :db/doc \"synced\"]]", None)
        .unwrap();
    churn(&map, 20);
    let held = slab.stats();
    // 320 commits retiring a leaf (192 bytes) and a branch (160) each: 112 KB, under the
    // 1 MiB that makes the commit path run a checkpoint, so none is freed yet.
    assert!(held.retired_blocks >= 320 * 2, "{held:?}");
    let report = slab.reclaim().unwrap();
    assert!(report.freed_blocks >= 320 * 2, "{report:?}");
    assert!(slab.stats().retired_blocks < 100, "{:?}", slab.stats());
    // Past the backlog, the commit path runs a checkpoint itself, every 1 MiB of retired
    // blocks, which frees what the one before left due: of the 32,000 blocks retired, at
    // most two backlogs' worth (blocks of 160 bytes or more) and one reclamation interval
    // wait.
    churn(&map, 1000);
    let bounded = slab.stats();
    assert!(
        bounded.retired_blocks < (2 << 20) / 160 + 16 * 4,
        "{bounded:?}"
    );

    // Memory (a memfd) has no disk to wait for, even after a durable commit.
    let memory = eve::Slab::anonymous().unwrap();
    memory
        .database("d")
        .unwrap()
        .with_durability(eve::dao::Durability::Synced)
        .transact_edn("[[:db/add \"x\" :db/doc \"synced\"]]", None)
        .unwrap();
    let map = memory.map("m").unwrap();
    churn(&map, 20);
    let freed = memory.stats();
    assert!(freed.retired_blocks < 100, "{freed:?}");
}

/// A reader in another process: pins, copies its snapshot, tells the parent, waits for
/// the go file, then checks the borrowed slices still hold exactly the copied bytes.
#[test]
#[ignore]
fn child_pinned_reader() {
    if !is_child() {
        return;
    }
    let slab = eve::Slab::open(env_path()).unwrap();
    let map = slab.map("m").unwrap();
    let guard = slab.pin().unwrap();
    let snapshot = map.snapshot(&guard).unwrap();
    let borrowed: Vec<&[u8]> = (0..16u64)
        .map(|k| snapshot.get(&k.to_le_bytes()).unwrap().unwrap())
        .collect();
    let copies: Vec<Vec<u8>> = borrowed.iter().map(|v| v.to_vec()).collect();
    println!("pinned {}", guard.epoch());
    wait_for_file(&PathBuf::from(std::env::var("EVE_GO").unwrap()));
    for (k, v) in borrowed.iter().enumerate() {
        assert_eq!(*v, &copies[k][..], "key {k} changed under a pinned reader");
    }
    println!("intact");
    drop(guard);
}

fn pinned_reader(dir: &Path, path: &Path, name: &str) -> (Kid, PathBuf) {
    let go = go_file(dir, name);
    let mut kid = spawn(
        "child_pinned_reader",
        path,
        &[("EVE_GO", go.display().to_string())],
    );
    kid.expect("pinned");
    (kid, go)
}

#[test]
fn blocks_retired_under_another_processes_pin_wait_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pinned.slab");
    let slab = eve::Slab::open(&path).unwrap();
    let map = slab.map("m").unwrap();
    churn(&map, 1);
    // What was retired before the reader pins is not its to hold: free it first.
    slab.reclaim().unwrap();
    let (kid, go) = pinned_reader(dir.path(), &path, "pinned");
    churn(&map, 300);
    let report = slab.reclaim().unwrap();
    assert_eq!(
        report.freed_blocks, 0,
        "freed blocks a pinned process can reach"
    );
    assert!(
        slab.stats().retired_blocks >= 300 * 16,
        "{:?}",
        slab.stats()
    );
    assert_eq!(slab.stats().live_readers, 1);
    std::fs::write(&go, b"").unwrap();
    let mut kid = kid;
    kid.expect("intact");
    kid.finish();
    slab.reclaim().unwrap();
    let after = slab.stats();
    assert!(
        after.retired_blocks < 100,
        "the pin ended but nothing was freed: {after:?}"
    );
}

#[test]
fn a_stopped_reader_keeps_its_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stopped.slab");
    let slab = eve::Slab::open(&path).unwrap();
    let map = slab.map("m").unwrap();
    churn(&map, 1);
    let (kid, go) = pinned_reader(dir.path(), &path, "stopped");
    kid.signal(libc::SIGSTOP);
    // While it is stopped, churn for a while and keep trying to reclaim.
    let start = std::time::Instant::now();
    let mut rounds = 0;
    while start.elapsed() < Duration::from_secs(2) || rounds < 200 {
        churn(&map, 1);
        slab.reclaim().unwrap();
        rounds += 1;
    }
    let held = slab.stats();
    assert!(
        held.retired_blocks >= rounds * 16,
        "a stopped reader lost its protection: {held:?}"
    );
    std::fs::write(&go, b"").unwrap();
    kid.signal(libc::SIGCONT);
    let mut kid = kid;
    kid.expect("intact");
    kid.finish();
}

#[test]
fn a_killed_reader_stops_blocking_reclamation() {
    for reap_first in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("killed.slab");
        let slab = eve::Slab::open(&path).unwrap();
        let map = slab.map("m").unwrap();
        churn(&map, 1);
        slab.reclaim().unwrap();
        let (kid, _go) = pinned_reader(dir.path(), &path, "killed");
        churn(&map, 100);
        assert_eq!(slab.reclaim().unwrap().freed_blocks, 0);
        kid.kill9();
        let kid = if reap_first {
            kid.reap();
            None
        } else {
            // Still a zombie here (reaped only when `kid` drops below): it must count as
            // dead all the same.
            Some(kid)
        };
        let report = slab.reclaim().unwrap();
        assert!(
            report.freed_blocks >= 100 * 16,
            "zombie={}: {report:?}",
            !reap_first
        );
        drop(kid);
        let stats = slab.stats();
        assert_eq!(stats.live_readers, 0, "{stats:?}");
        assert!(stats.retired_blocks < 100, "{stats:?}");
    }
}

/// A writer that builds a large batch and never publishes it.
#[test]
#[ignore]
fn child_doomed_writer() {
    if !is_child() {
        return;
    }
    let slab = eve::Slab::open(env_path()).unwrap();
    let map = slab.map("m").unwrap();
    let _ = map.update(|txn| {
        for i in 0..50_000u64 {
            txn.insert(&i.to_le_bytes(), &value(i))?;
        }
        println!("built");
        std::thread::sleep(Duration::from_secs(600));
        Ok(())
    });
}

#[test]
fn a_killed_writers_unpublished_blocks_are_swept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("writer.slab");
    let (baseline, key3) = {
        let slab = eve::Slab::open(&path).unwrap();
        let map = slab.map("m").unwrap();
        churn(&map, 1);
        slab.reclaim().unwrap();
        let guard = slab.pin().unwrap();
        let key3 = map
            .get(&guard, &3u64.to_le_bytes())
            .unwrap()
            .unwrap()
            .to_vec();
        drop(guard);
        (slab.stats(), key3)
    };
    let mut kid = spawn("child_doomed_writer", &path, &[]);
    kid.expect("built");
    {
        let mut slab = eve::Slab::open(&path).unwrap();
        let during = slab.stats();
        assert!(
            during.blocks_in_use > baseline.blocks_in_use + 50_000,
            "the child's batch should be allocated: {during:?}"
        );
        // Recovery needs the slab alone: the live writer still has it open.
        let busy = slab.recover().unwrap_err();
        assert_eq!(busy.kind(), eve::ErrorKind::Busy);
        kid.kill9();
        kid.reap();
    }
    // The first handle after the crash sweeps by itself.
    let slab = eve::Slab::open(&path).unwrap();
    let after = slab.stats();
    assert_eq!(after.sweeps, baseline.sweeps + 1, "{after:?}");
    assert!(
        after.blocks_in_use <= baseline.blocks_in_use,
        "leaked blocks not reclaimed: {baseline:?} -> {after:?}"
    );
    let map = slab.map("m").unwrap();
    assert_eq!(map.len().unwrap(), 16, "the sweep lost published data");
    let guard = slab.pin().unwrap();
    assert_eq!(
        map.get(&guard, &3u64.to_le_bytes()).unwrap(),
        Some(&key3[..])
    );
    drop(guard);
    // An explicit sweep now finds nothing to free and changes nothing.
    let mut slab = slab;
    let report = slab.recover().unwrap();
    assert_eq!(report.freed_blocks, 0, "{report:?}");
    assert_eq!(slab.map("m").unwrap().len().unwrap(), 16);
}

#[test]
#[ignore]
fn child_pin_and_hang() {
    if !is_child() {
        return;
    }
    let slab = eve::Slab::open(env_path()).unwrap();
    let _guard = slab.pin().unwrap();
    println!("pinned");
    std::thread::sleep(Duration::from_secs(600));
}

#[test]
fn dead_processes_do_not_use_up_reader_slots() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slots.slab");
    let options = eve::OpenOptions {
        reader_slots: 4,
        ..Default::default()
    };
    let slab = eve::Slab::open_with(&path, &options).unwrap();
    assert_eq!(slab.stats().reader_slots, 4);
    for _ in 0..20 {
        let mut kid = spawn("child_pin_and_hang", &path, &[]);
        kid.expect("pinned");
        kid.kill9();
        kid.reap();
    }
    // Four live pinners fill the table; a fifth is refused with a clear error.
    let kids: Vec<_> = (0..3)
        .map(|_| {
            let mut kid = spawn("child_pin_and_hang", &path, &[]);
            kid.expect("pinned");
            kid
        })
        .collect();
    let guard = slab
        .pin()
        .expect("a slot of a dead process should have been reused");
    std::thread::scope(|s| {
        s.spawn(|| {
            let err = slab
                .pin()
                .err()
                .expect("a fifth live reader cannot have a slot");
            assert_eq!(err.kind(), eve::ErrorKind::Exhausted);
        });
    });
    drop(guard);
    for kid in kids {
        kid.kill9();
        kid.reap();
    }
}

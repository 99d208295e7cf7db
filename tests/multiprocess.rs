//! Several real processes sharing one slab file.

mod common;

use common::*;
use std::time::Duration;

fn increment(map: &eve::HamtMap<'_>) {
    map.update(|txn| {
        let value = txn.get(b"counter")?.map_or(0, u64_of);
        txn.insert(b"counter", &(value + 1).to_le_bytes())
    })
    .unwrap();
}

#[test]
#[ignore]
fn child_increment() {
    if !is_child() {
        return;
    }
    let slab = eve::Slab::open(env_path()).unwrap();
    let map = slab.map("m").unwrap();
    for _ in 0..env_u64("EVE_K") {
        increment(&map);
    }
}

#[test]
fn counter_increments_from_many_processes_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counter.slab");
    let (n, k) = (4u64, 2000u64);
    let kids: Vec<_> = (0..n)
        .map(|_| spawn("child_increment", &path, &[("EVE_K", k.to_string())]))
        .collect();
    kids.into_iter().for_each(Kid::finish);
    let slab = eve::Slab::open(&path).unwrap();
    let map = slab.map("m").unwrap();
    let guard = slab.pin().unwrap();
    assert_eq!(
        map.get(&guard, b"counter").unwrap().map(u64_of),
        Some(n * k)
    );
}

#[test]
#[ignore]
fn child_insert_range() {
    if !is_child() {
        return;
    }
    let slab = eve::Slab::open(env_path()).unwrap();
    let map = slab.map("m").unwrap();
    let id = env_u64("EVE_ID");
    for i in 0..env_u64("EVE_K") {
        let key = format!("p{id}-k{i}");
        map.insert(key.as_bytes(), &(id * 1_000_000 + i).to_le_bytes())
            .unwrap();
    }
}

#[test]
fn distinct_keys_from_many_processes_are_all_present() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.slab");
    let (m, k) = (4u64, 2000u64);
    let kids: Vec<_> = (0..m)
        .map(|id| {
            spawn(
                "child_insert_range",
                &path,
                &[("EVE_ID", id.to_string()), ("EVE_K", k.to_string())],
            )
        })
        .collect();
    kids.into_iter().for_each(Kid::finish);
    let slab = eve::Slab::open(&path).unwrap();
    let map = slab.map("m").unwrap();
    assert_eq!(map.len().unwrap(), m * k);
    let guard = slab.pin().unwrap();
    let snapshot = map.snapshot(&guard).unwrap();
    for id in 0..m {
        for i in 0..k {
            let key = format!("p{id}-k{i}");
            let value = snapshot.get(key.as_bytes()).unwrap().map(u64_of);
            assert_eq!(value, Some(id * 1_000_000 + i), "{key}");
        }
    }
    assert_eq!(snapshot.iter().count() as u64, m * k);
}

#[test]
#[ignore]
fn child_write_and_close() {
    if !is_child() {
        return;
    }
    let slab = eve::Slab::open(env_path()).unwrap();
    slab.map("m")
        .unwrap()
        .insert(b"from-child", b"hello")
        .unwrap();
}

#[test]
#[ignore]
fn child_read_and_report() {
    if !is_child() {
        return;
    }
    let slab = eve::Slab::open(env_path()).unwrap();
    let map = slab.map("m").unwrap();
    let guard = slab.pin().unwrap();
    let value = map.get(&guard, b"from-child").unwrap();
    println!(
        "value {}",
        String::from_utf8_lossy(value.unwrap_or(b"<none>"))
    );
}

#[test]
fn a_commit_is_seen_by_another_process_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reopen.slab");
    spawn("child_write_and_close", &path, &[]).finish();
    let mut reader = spawn("child_read_and_report", &path, &[]);
    assert_eq!(reader.expect("value"), "hello");
    reader.finish();
    // And in this process too, after both closed.
    let slab = eve::Slab::open(&path).unwrap();
    let guard = slab.pin().unwrap();
    let map = slab.map("m").unwrap();
    assert_eq!(map.get(&guard, b"from-child").unwrap(), Some(&b"hello"[..]));
}

#[test]
#[ignore]
fn child_create_race() {
    if !is_child() {
        return;
    }
    // Start as close to together as possible: spin until the agreed instant.
    let at = env_u64("EVE_AT_NANOS");
    while (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64)
        < at
    {
        std::hint::spin_loop();
    }
    let slab = eve::Slab::open(env_path()).unwrap();
    let id = env_u64("EVE_ID");
    slab.map("m")
        .unwrap()
        .insert(format!("racer-{id}").as_bytes(), b"x")
        .unwrap();
}

#[test]
fn processes_racing_to_create_one_file_share_one_slab() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..8 {
        let path = dir.path().join(format!("race-{round}.slab"));
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            + 300_000_000;
        let kids: Vec<_> = (0..3)
            .map(|id| {
                spawn(
                    "child_create_race",
                    &path,
                    &[("EVE_ID", id.to_string()), ("EVE_AT_NANOS", at.to_string())],
                )
            })
            .collect();
        kids.into_iter().for_each(Kid::finish);
        let slab = eve::Slab::open(&path).unwrap();
        let map = slab.map("m").unwrap();
        let guard = slab.pin().unwrap();
        for id in 0..3 {
            let key = format!("racer-{id}");
            assert!(
                map.get(&guard, key.as_bytes()).unwrap().is_some(),
                "round {round}: {key} lost"
            );
        }
        assert_eq!(
            slab.roots().unwrap().len(),
            1,
            "round {round}: the map root was duplicated"
        );
    }
}

#[test]
#[ignore]
fn child_grow() {
    if !is_child() {
        return;
    }
    let slab = eve::Slab::open(env_path()).unwrap();
    let map = slab.map("big").unwrap();
    println!("opened");
    wait_for_file(&std::path::PathBuf::from(std::env::var("EVE_GO").unwrap()));
    // Read everything the parent wrote after this process mapped the file.
    let guard = slab.pin().unwrap();
    let snapshot = map.snapshot(&guard).unwrap();
    let mut bytes = 0u64;
    for i in 0..env_u64("EVE_K") {
        let value = snapshot
            .get(&i.to_le_bytes())
            .unwrap()
            .expect("missing key");
        assert!(value.iter().all(|&b| b == (i % 251) as u8));
        bytes += value.len() as u64;
    }
    println!("read {bytes}");
}

#[test]
fn growth_is_visible_to_processes_that_mapped_the_file_earlier() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grow.slab");
    let k = 800u64;
    let slab = eve::Slab::open(&path).unwrap();
    let map = slab.map("big").unwrap();
    let before = slab.stats().file_len;
    let go = go_file(dir.path(), "grow");
    let mut kid = spawn(
        "child_grow",
        &path,
        &[
            ("EVE_K", k.to_string()),
            ("EVE_GO", go.display().to_string()),
        ],
    );
    kid.expect("opened");
    for i in 0..k {
        let value = vec![(i % 251) as u8; 64 * 1024 + (i as usize % 1000)];
        map.insert(&i.to_le_bytes(), &value).unwrap();
    }
    let after = slab.stats().file_len;
    assert!(
        after > before + 50 * 1024 * 1024,
        "the file did not grow: {before} -> {after}"
    );
    std::fs::write(&go, b"").unwrap();
    let read: u64 = kid.expect("read").parse().unwrap();
    assert!(read > 50 * 1024 * 1024);
    kid.finish();
}

#[test]
#[ignore]
fn child_commit_later() {
    if !is_child() {
        return;
    }
    let slab = eve::Slab::open(env_path()).unwrap();
    let root = slab.root("signal").unwrap();
    wait_for_file(&std::path::PathBuf::from(std::env::var("EVE_GO").unwrap()));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(root.compare_exchange(0, 42).unwrap(), Ok(0));
}

#[test]
fn waiting_for_a_root_wakes_on_another_processes_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wait.slab");
    let slab = eve::Slab::open(&path).unwrap();
    let root = slab.root("signal").unwrap();
    // Nobody commits: the wait times out and reports the unchanged value.
    let start = std::time::Instant::now();
    assert_eq!(root.wait_for_change(0, Some(Duration::from_millis(150))), 0);
    assert!(start.elapsed() >= Duration::from_millis(150));
    let go = go_file(dir.path(), "wait");
    let kid = spawn(
        "child_commit_later",
        &path,
        &[("EVE_GO", go.display().to_string())],
    );
    std::fs::write(&go, b"").unwrap();
    let start = std::time::Instant::now();
    let seen = root.wait_for_change(0, Some(Duration::from_secs(30)));
    assert_eq!(seen, 42);
    assert!(start.elapsed() < Duration::from_secs(20));
    kid.finish();
}

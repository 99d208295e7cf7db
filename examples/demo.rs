//! The main demo: several processes share one slab file with no serialization.
//!
//! * 4 writer processes each increment a shared counter and insert their own keys;
//! * 1 watcher process blocks on the map's root and reports every commit it sees;
//! * the parent then reads everything back in place and prints the slab's statistics.
//!
//! Run: `cargo run --release --example demo [path]`

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const WRITERS: u64 = 4;
const INCREMENTS: u64 = 25_000;
const KEYS_PER_WRITER: u64 = 10_000;

fn writer(path: &str, id: u64) -> eve::Result<()> {
    let slab = eve::Slab::open(path)?;
    let map = slab.map("demo")?;
    for i in 0..INCREMENTS.max(KEYS_PER_WRITER) {
        if i < INCREMENTS {
            map.update(|txn| {
                let n = txn.get(b"counter")?.map_or(0, read_u64);
                txn.insert(b"counter", &(n + 1).to_le_bytes())
            })?;
        }
        if i < KEYS_PER_WRITER {
            let key = format!("writer-{id}/key-{i}");
            map.insert(
                key.as_bytes(),
                format!("value {i} from writer {id}").as_bytes(),
            )?;
        }
    }
    Ok(())
}

fn watcher(path: &str) -> eve::Result<()> {
    let slab = eve::Slab::open(path)?;
    let map = slab.map("demo")?;
    let mut seen = map.root();
    let mut wakeups = 0u64;
    let start = Instant::now();
    loop {
        let now = map.wait_for_change(seen, Some(Duration::from_millis(500)));
        if now == seen {
            break; // quiet for half a second: the writers are done
        }
        seen = now;
        wakeups += 1;
        if wakeups % 5000 == 0 {
            let guard = slab.pin()?;
            let counter = map.get(&guard, b"counter")?.map_or(0, read_u64);
            println!(
                "  watcher: counter is {counter} after {:.2?}",
                start.elapsed()
            );
        }
    }
    println!("  watcher: woke {wakeups} times on commits made by other processes");
    Ok(())
}

fn read_u64(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8]))
}

fn main() -> eve::Result<()> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next(), args.next()) {
        (Some("--writer"), Some(path), Some(id)) => return writer(&path, id.parse().unwrap()),
        (Some("--watcher"), Some(path), _) => return watcher(&path),
        _ => {}
    }
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        std::env::temp_dir()
            .join("eve-demo.slab")
            .display()
            .to_string()
    });
    let _ = std::fs::remove_file(&path);
    let slab = eve::Slab::open(&path)?;
    let map = slab.map("demo")?;
    println!("slab {path}: {WRITERS} writer processes and 1 watcher share it");
    let me = std::env::current_exe().unwrap();
    let start = Instant::now();
    let mut watcher = Command::new(&me)
        .args(["--watcher", &path])
        .spawn()
        .unwrap();
    let writers: Vec<_> = (0..WRITERS)
        .map(|id| {
            Command::new(&me)
                .args(["--writer", &path, &id.to_string()])
                .stdout(Stdio::inherit())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut w in writers {
        assert!(w.wait().unwrap().success(), "a writer failed");
    }
    let elapsed = start.elapsed();
    let watched = watcher.wait().unwrap();
    let commits = WRITERS * (INCREMENTS + KEYS_PER_WRITER);
    println!(
        "writers done: {commits} commits in {elapsed:.2?} = {:.0} commits/s across processes",
        commits as f64 / elapsed.as_secs_f64()
    );
    let guard = slab.pin()?;
    let snapshot = map.snapshot(&guard)?;
    let counter = snapshot.get(b"counter")?.map_or(0, read_u64);
    println!("counter = {counter} (expected {})", WRITERS * INCREMENTS);
    assert_eq!(counter, WRITERS * INCREMENTS);
    let sample = snapshot.get(b"writer-3/key-9999")?.unwrap_or(b"<missing>");
    println!(
        "writer-3/key-9999 = {:?}, read in place from the slab",
        String::from_utf8_lossy(sample)
    );
    assert_eq!(snapshot.len()?, 1 + WRITERS * KEYS_PER_WRITER);
    drop(guard);
    assert!(watched.success(), "the watcher failed");
    let stats = slab.stats();
    println!(
        "slab: {} MiB file, {} KiB in {} live blocks, {} retired awaiting readers, epoch {}",
        stats.file_len >> 20,
        stats.bytes_in_use >> 10,
        stats.blocks_in_use,
        stats.retired_blocks,
        stats.global_epoch
    );
    Ok(())
}

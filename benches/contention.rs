//! Aggregate commits per second when 1, 2 and 4 processes increment one shared counter:
//! eve (lock-free CAS on the map root) beside LMDB (writers serialised by its lock), both
//! without fsync. Children are this binary re-executed with EVE_BENCH_CHILD set.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::open_lmdb;

const RUN: Duration = Duration::from_secs(3);

fn child(kind: &str, path: &str, start_at: u128) -> u64 {
    let wait_start = || {
        while now_nanos() < start_at {
            std::hint::spin_loop();
        }
    };
    let mut commits = 0u64;
    match kind {
        "eve" => {
            let slab = eve::Slab::open(path).unwrap();
            let map = slab.map("counter").unwrap();
            wait_start();
            let end = Instant::now() + RUN;
            while Instant::now() < end {
                map.update(|txn| {
                    let n = txn
                        .get(b"n")?
                        .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()));
                    txn.insert(b"n", &(n + 1).to_le_bytes())
                })
                .unwrap();
                commits += 1;
            }
        }
        _ => {
            let (env, db) = open_lmdb(Path::new(path), 1 << 30);
            wait_start();
            let end = Instant::now() + RUN;
            while Instant::now() < end {
                let mut wtxn = env.write_txn().unwrap();
                let n = db
                    .get(&wtxn, b"n")
                    .unwrap()
                    .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()));
                db.put(&mut wtxn, b"n", &(n + 1).to_le_bytes()).unwrap();
                wtxn.commit().unwrap();
                commits += 1;
            }
        }
    }
    commits
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn final_count(kind: &str, path: &str) -> u64 {
    let read = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap());
    if kind == "eve" {
        let slab = eve::Slab::open(path).unwrap();
        let map = slab.map("counter").unwrap();
        let guard = slab.pin().unwrap();
        map.get(&guard, b"n").unwrap().map_or(0, read)
    } else {
        let (env, db) = open_lmdb(Path::new(path), 1 << 30);
        let rtxn = env.read_txn().unwrap();
        db.get(&rtxn, b"n").unwrap().map_or(0, read)
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let Ok(kind) = std::env::var("EVE_BENCH_CHILD") {
        let path = std::env::var("EVE_BENCH_PATH").unwrap();
        let start: u128 = std::env::var("EVE_BENCH_START").unwrap().parse().unwrap();
        println!("{}", child(&kind, &path, start));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    println!(
        "one shared counter, {} s per run, aggregate commits per second:",
        RUN.as_secs()
    );
    for kind in ["eve", "lmdb"] {
        for procs in [1, 2, 4] {
            let path = dir.path().join(format!("{kind}-{procs}"));
            let path = path.to_str().unwrap().to_string();
            let start = now_nanos() + 500_000_000;
            let kids: Vec<_> = (0..procs)
                .map(|_| {
                    Command::new(std::env::current_exe().unwrap())
                        .env("EVE_BENCH_CHILD", kind)
                        .env("EVE_BENCH_PATH", &path)
                        .env("EVE_BENCH_START", start.to_string())
                        .stdout(Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            let commits: u64 = kids
                .into_iter()
                .map(|kid| {
                    let out = kid.wait_with_output().unwrap();
                    assert!(out.status.success());
                    String::from_utf8(out.stdout)
                        .unwrap()
                        .trim()
                        .parse::<u64>()
                        .unwrap()
                })
                .sum();
            let counted = final_count(kind, &path);
            assert_eq!(
                counted, commits,
                "{kind}: counter disagrees with the commits reported"
            );
            println!(
                "{kind:<5} {procs} process(es): {:>10.0} commits/s  (counter = {counted})",
                commits as f64 / RUN.as_secs_f64()
            );
        }
    }
}

//! Per-update latency percentiles for single-key update + publish into a 1M-key map, no
//! fsync: eve (`HamtMap::insert`) beside LMDB (one write transaction per update, NO_SYNC).
//! Criterion reports means; the target in the issue is a median, so this measures each
//! operation and prints percentiles.

mod support;

use std::time::Instant;
use support::*;

const UPDATES: usize = 200_000;

fn percentiles(name: &str, mut ns: Vec<u64>) {
    ns.sort_unstable();
    let at = |p: f64| ns[((ns.len() as f64 * p) as usize).min(ns.len() - 1)];
    println!(
        "{name:<14} p50 {:>6} ns   p90 {:>6} ns   p99 {:>7} ns   ({} updates)",
        at(0.5),
        at(0.9),
        at(0.99),
        ns.len()
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let keys = keys();
    let slab = load_eve(&dir.path().join("latency.slab"), &keys);
    let map = slab.map("bench").unwrap();
    // `EVE_BENCH_DURABLE=1`: one synced database commit first, so the slab has had a
    // checkpoint and reuses retired blocks only after checkpoints sync their free headers
    // (ARCHITECTURE.md, *Durable commits*); the updates below then pay for those syncs.
    if std::env::var_os("EVE_BENCH_DURABLE").is_some() {
        let db = slab
            .database("durable")
            .unwrap()
            .with_durability(eve::dao::Durability::Synced);
        db.transact_edn("[[:db/add \"x\" :db/doc \"synced\"]]", None)
            .unwrap();
    }
    let (env, db) = load_lmdb(&dir.path().join("lmdb"), &keys);
    let mut rng = XorShift(11);
    let mut eve_ns = Vec::with_capacity(UPDATES);
    let mut lmdb_ns = Vec::with_capacity(UPDATES);
    for i in 0..UPDATES {
        let k = &keys[rng.next() as usize % KEYS];
        let v = value_for(k, (i % 250) as u8 + 1);
        let start = Instant::now();
        map.insert(k, &v).unwrap();
        eve_ns.push(start.elapsed().as_nanos() as u64);
        let start = Instant::now();
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, k, &v).unwrap();
        wtxn.commit().unwrap();
        lmdb_ns.push(start.elapsed().as_nanos() as u64);
    }
    percentiles("eve", eve_ns);
    percentiles("lmdb_nosync", lmdb_ns);
    let stats = slab.stats();
    println!(
        "eve after: {} blocks in use, {} retired, file {} MiB",
        stats.blocks_in_use,
        stats.retired_blocks,
        stats.file_len >> 20
    );
}

//! DaoDB writes beside LMDB (heed) storing the same keys: a bulk load of 1M datoms into the
//! four covering indexes and the log, and single-datom transactions per second without and
//! with a sync to disk. LMDB gets one named database per index plus one for the log, the
//! identical encoded keys (`Datom::key`), and one write transaction per eve transaction.
//!
//! Run: `cargo bench --bench dao` (prints a table; `EVE_BENCH_DATOMS` changes the size).

use eve::dao::{Change, Datom, Durability, Index, Value};
use heed::types::Bytes;
use heed::{Database, EnvFlags, EnvOpenOptions};
use std::time::Instant;

const BATCH: usize = 250_000;

/// 1M datoms: 250k entities with a long, a string, a ref and a keyword each.
fn datoms(count: usize) -> Vec<Change> {
    (0..count)
        .map(|i| {
            let e = 1_000 + (i / 4) as u64;
            match i % 4 {
                0 => Change::Add {
                    e,
                    a: 20,
                    v: Value::Long(i as i64 * 7),
                },
                1 => Change::Add {
                    e,
                    a: 21,
                    v: Value::String(format!("name-{}", i / 4)),
                },
                2 => Change::Add {
                    e,
                    a: 22,
                    v: Value::Ref(1_000 + ((i * 31) % count) as u64 / 4),
                },
                _ => Change::Add {
                    e,
                    a: 23,
                    v: Value::Keyword(format!("kind/k{}", i % 17)),
                },
            }
        })
        .collect()
}

fn as_datom(change: &Change, t: u64, position: usize) -> (Datom, Vec<u8>) {
    let Change::Add { e, a, v } = change else {
        unreachable!()
    };
    let datom = Datom {
        e: *e,
        a: *a,
        v: v.clone(),
        t,
        m: 1,
    };
    let mut log = t.to_be_bytes().to_vec();
    log.extend_from_slice(&(position as u32).to_be_bytes());
    log.extend_from_slice(&datom.key(Index::Eavt));
    (datom, log)
}

struct Lmdb {
    env: heed::Env,
    dbs: Vec<Database<Bytes, Bytes>>,
}

impl Lmdb {
    fn open(dir: &std::path::Path, sync: bool) -> Lmdb {
        std::fs::create_dir_all(dir).unwrap();
        let mut options = EnvOpenOptions::new();
        options.map_size(16 << 30).max_dbs(8);
        // SAFETY: the directory is private to this run; NO_SYNC only weakens durability,
        // which is what the "no sync" rows compare.
        let env = unsafe {
            if !sync {
                options.flags(EnvFlags::NO_SYNC | EnvFlags::NO_META_SYNC);
            }
            options.open(dir).unwrap()
        };
        let mut wtxn = env.write_txn().unwrap();
        let dbs = ["eavt", "aevt", "avet", "vaet", "log"]
            .iter()
            .map(|name| env.create_database(&mut wtxn, Some(name)).unwrap())
            .collect();
        wtxn.commit().unwrap();
        Lmdb { env, dbs }
    }

    fn transact(&self, changes: &[Change], t: u64) {
        let mut wtxn = self.env.write_txn().unwrap();
        for (position, change) in changes.iter().enumerate() {
            let (datom, log) = as_datom(change, t, position);
            for (i, index) in Index::ALL.iter().enumerate() {
                if datom.belongs_in(*index) {
                    self.dbs[i].put(&mut wtxn, &datom.key(*index), &[]).unwrap();
                }
            }
            self.dbs[4].put(&mut wtxn, &log, &[]).unwrap();
        }
        wtxn.commit().unwrap();
    }
}

fn rate(what: &str, n: usize, unit: &str, seconds: f64) {
    println!(
        "{what:<44} {:>12.0} {unit}/s   ({n} in {seconds:.2} s)",
        n as f64 / seconds
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let count: usize = std::env::var("EVE_BENCH_DATOMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let changes = datoms(count);

    // Bulk load.
    let slab = eve::Slab::open(dir.path().join("bulk.slab")).unwrap();
    let db = slab.database("db").unwrap();
    let start = Instant::now();
    for chunk in changes.chunks(BATCH) {
        db.transact(chunk).unwrap();
    }
    rate(
        "eve bulk load (4 indexes + log)",
        count,
        "datoms",
        start.elapsed().as_secs_f64(),
    );
    if std::env::var_os("EVE_BENCH_LOAD_ONLY").is_some() {
        return; // for profiling eve's load alone
    }
    let lmdb = Lmdb::open(&dir.path().join("lmdb-bulk"), false);
    let start = Instant::now();
    for (t, chunk) in changes.chunks(BATCH).enumerate() {
        lmdb.transact(chunk, t as u64 + 1);
    }
    rate(
        "lmdb bulk load (same keys, NO_SYNC)",
        count,
        "datoms",
        start.elapsed().as_secs_f64(),
    );

    // Single-datom transactions, into the loaded database.
    let single = |n: usize, durability: Durability| {
        let db = db.with_durability(durability);
        let start = Instant::now();
        for i in 0..n {
            db.transact(&[Change::Add {
                e: 5_000_000 + i as u64,
                a: 20,
                v: Value::Long(i as i64),
            }])
            .unwrap();
        }
        start.elapsed().as_secs_f64()
    };
    let n = 20_000;
    rate(
        "eve single-datom transactions, no sync",
        n,
        "tx",
        single(n, Durability::None),
    );
    let lmdb_single = |lmdb: &Lmdb, n: usize| {
        let start = Instant::now();
        for i in 0..n {
            lmdb.transact(
                &[Change::Add {
                    e: 5_000_000 + i as u64,
                    a: 20,
                    v: Value::Long(i as i64),
                }],
                1_000 + i as u64,
            );
        }
        start.elapsed().as_secs_f64()
    };
    rate(
        "lmdb single-datom transactions, NO_SYNC",
        n,
        "tx",
        lmdb_single(&lmdb, n),
    );
    let n = 2_000;
    rate(
        "eve single-datom transactions, synced",
        n,
        "tx",
        single(n, Durability::Synced),
    );
    let synced = Lmdb::open(&dir.path().join("lmdb-sync"), true);
    rate(
        "lmdb single-datom transactions, synced",
        n,
        "tx",
        lmdb_single(&synced, n),
    );
}

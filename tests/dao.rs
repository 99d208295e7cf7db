//! DaoDB across processes: several processes transact on one database file at once; every
//! datom must be there exactly once, and `t` must run from 1 with no gap or repeat.

mod common;

use common::*;
use eve::dao::{Change, Index, Value};
use std::collections::BTreeSet;

#[test]
#[ignore]
fn child_transact() {
    if !is_child() {
        return;
    }
    let slab = eve::Slab::open(env_path()).unwrap();
    let db = slab.database("db").unwrap();
    let writer = env_u64("EVE_WRITER");
    for i in 0..env_u64("EVE_K") {
        let changes = [
            Change::Add {
                e: 1000 + writer,
                a: 40,
                v: Value::Long(i as i64),
            },
            Change::Add {
                e: 1000 + writer,
                a: 41,
                v: Value::String(format!("w{writer}-{i}")),
            },
        ];
        let report = db.transact(&changes).unwrap();
        println!("t {}", report.t);
    }
}

#[test]
fn processes_transacting_at_once_lose_nothing_and_t_has_no_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dao.slab");
    let (writers, k) = (3u64, 300u64);
    let kids: Vec<_> = (0..writers)
        .map(|w| {
            spawn(
                "child_transact",
                &path,
                &[("EVE_WRITER", w.to_string()), ("EVE_K", k.to_string())],
            )
        })
        .collect();
    kids.into_iter().for_each(Kid::finish);

    let slab = eve::Slab::open(&path).unwrap();
    let db = slab.database("db").unwrap();
    let guard = slab.pin().unwrap();
    let snapshot = db.snapshot(&guard).unwrap();
    assert_eq!(snapshot.basis_t(), writers * k);
    // Each transaction's two datoms share its t; the log holds every t once, in order.
    let log: Vec<u64> = snapshot.log_from(1).map(|d| d.unwrap().t).collect();
    assert_eq!(log.len() as u64, 2 * writers * k);
    let ts: BTreeSet<u64> = log.iter().copied().collect();
    assert_eq!(ts, (1..=writers * k).collect());
    assert!(log.windows(2).all(|w| w[0] <= w[1]));
    for w in 0..writers {
        let prefix = (1000 + w).to_be_bytes();
        let values: BTreeSet<Value> = snapshot
            .current(Index::Eavt, &prefix)
            .map(|d| d.unwrap())
            .filter(|d| d.a == 41)
            .map(|d| d.v)
            .collect();
        let expected: BTreeSet<Value> =
            (0..k).map(|i| Value::String(format!("w{w}-{i}"))).collect();
        assert_eq!(values, expected, "writer {w}");
    }
    assert_eq!(
        snapshot.history(Index::Avet, &[]).count() as u64,
        2 * writers * k
    );
}

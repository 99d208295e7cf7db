//! Load (RELIABILITY.md): writer and reader processes share one slab for a fixed time.
//! Writers go through the transactor: they rewrite whole groups of account balances
//! (each group always sums to 1000, so every version sums to 8000), add and retract
//! event entities, send invalid transactions (which must change nothing), commit some
//! transactions synced, and churn a map (read-modify-write counters, overwritten blobs).
//! Readers check in every snapshot, now and as of random earlier `t`s, that the balances
//! sum to 8000 over exactly 32 accounts (by index scan and by a Datalog aggregate), and
//! that the counters never go back. At the end: every acknowledged `t` once and no other,
//! every event there or gone as acknowledged, the counters equal to the acknowledged
//! increments, all indexes equal to the replayed log, `check` passes, nothing retired is
//! left once the readers are gone, nothing leaked, and the file stays bounded by the data
//! it holds.
//!
//! `EVE_TORTURE_SECONDS` sets the run time (default 8 s), `EVE_TORTURE_SEED` the seed.

mod common;

use common::torture::*;
use common::*;
use eve::dao::{Durability, Index, View};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const DB: &str = "db";
const MAP: &str = "m";
const ACCOUNTS: u64 = 32;
const GROUP: u64 = 4;
const GROUP_SUM: i64 = 1000;
const TOTAL: i64 = GROUP_SUM * (ACCOUNTS / GROUP) as i64;

const SCHEMA: &str = r#"[
  {:db/ident :acct/id :db/valueType :db.type/long :db/unique :db.unique/identity}
  {:db/ident :acct/balance :db/valueType :db.type/long}
  {:db/ident :acct/group :db/valueType :db.type/long}
  {:db/ident :event/id :db/valueType :db.type/string :db/unique :db.unique/identity}
  {:db/ident :event/writer :db/valueType :db.type/long}
  {:db/ident :event/tags :db/valueType :db.type/keyword :db/cardinality :db.cardinality/many}
]"#;

fn counter_key(writer: u64) -> Vec<u8> {
    format!("counter-{writer}").into_bytes()
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_millis(env_u64("EVE_RUN_MS"))
}

/// Balances of one group that sum to `GROUP_SUM`.
fn group_balances(rng: &mut Rng) -> Vec<i64> {
    let mut cuts: Vec<i64> = (0..GROUP - 1)
        .map(|_| rng.below(GROUP_SUM as u64 + 1) as i64)
        .collect();
    cuts.push(0);
    cuts.push(GROUP_SUM);
    cuts.sort();
    cuts.windows(2).map(|w| w[1] - w[0]).collect()
}

#[test]
#[ignore]
fn child_load_writer() {
    if !is_child() {
        return;
    }
    let w = env_u64("EVE_WRITER");
    let mut rng = Rng::new(env_u64("EVE_SEED"));
    let end = deadline();
    let slab = eve::Slab::open(env_path()).unwrap();
    let db = slab.database(DB).unwrap();
    let map = slab.map(MAP).unwrap();
    let mut live: Vec<u64> = vec![];
    let mut next_event = 0;
    while Instant::now() < end {
        let db = if rng.chance(5) {
            db.with_durability(Durability::Synced)
        } else {
            db
        };
        let choice = rng.below(100);
        if choice < 50 {
            let mut groups: Vec<u64> = (0..ACCOUNTS / GROUP).collect();
            let n = rng.range(1, 4) as usize;
            let mut maps = vec![];
            for _ in 0..n {
                let g = groups.remove(rng.below(groups.len() as u64) as usize);
                for (i, b) in group_balances(&mut rng).into_iter().enumerate() {
                    maps.push(format!(
                        "{{:acct/id {} :acct/balance {b}}}",
                        g * GROUP + i as u64
                    ));
                }
            }
            let r = db
                .transact_edn(&format!("[{}]", maps.join(" ")), None)
                .unwrap();
            println!("tx {}", r.report.t);
        } else if choice < 72 {
            let n = next_event;
            next_event += 1;
            let tags: Vec<String> = (0..rng.below(4)).map(|k| format!(":tag/t{k}")).collect();
            let r = db
                .transact_edn(
                    &format!(
                        r#"[{{:event/id "w{w}-{n}" :event/writer {w} :event/tags [{}]}}]"#,
                        tags.join(" ")
                    ),
                    Some(&format!("{{:event/writer {w}}}")),
                )
                .unwrap();
            live.push(n);
            println!("event {w} {n} {}", r.report.t);
        } else if choice < 84 && !live.is_empty() {
            let n = live.swap_remove(rng.below(live.len() as u64) as usize);
            let r = db
                .transact_edn(
                    &format!(r#"[[:db/retractEntity [:event/id "w{w}-{n}"]]]"#),
                    None,
                )
                .unwrap();
            println!("gone {w} {n} {}", r.report.t);
        } else if choice < 88 {
            // Invalid: the whole transaction is refused and nothing changes.
            let err = db
                .transact_edn(r#"[{:acct/id 0 :acct/balance 999999} {:no/such 1}]"#, None)
                .unwrap_err();
            assert_eq!(err.kind(), eve::ErrorKind::InvalidArgument, "{err}");
            println!("rejected");
        } else {
            map.update(|txn| {
                let value = txn.get(&counter_key(w))?.map_or(0, u64_of);
                txn.insert(&counter_key(w), &(value + 1).to_le_bytes())
            })
            .unwrap();
            println!("inc {w}");
            let blob = format!("blob-{}", rng.below(64));
            map.insert(
                blob.as_bytes(),
                &vec![w as u8; rng.range(100, 3000) as usize],
            )
            .unwrap();
        }
    }
    println!("finished");
}

/// The balances of `view`: (sum, count).
fn balances(snapshot: &eve::dao::DbSnapshot<'_>, view: View) -> (i64, u64) {
    let prefix = snapshot
        .index_prefix(Index::Aevt, "[:acct/balance]")
        .unwrap();
    let (mut sum, mut count) = (0, 0);
    for datom in snapshot.range(Index::Aevt, view, &prefix, None) {
        match datom.unwrap().v {
            eve::dao::Value::Long(b) => sum += b,
            other => panic!("a balance of {other:?}"),
        }
        count += 1;
    }
    (sum, count)
}

#[test]
#[ignore]
fn child_load_reader() {
    if !is_child() {
        return;
    }
    let mut rng = Rng::new(env_u64("EVE_SEED"));
    let setup_t = env_u64("EVE_SETUP_T");
    let writers = env_u64("EVE_WRITERS");
    let end = deadline();
    let slab = eve::Slab::open(env_path()).unwrap();
    let db = slab.database(DB).unwrap();
    let map = slab.map(MAP).unwrap();
    let mut counters = vec![0u64; writers as usize];
    let (mut snapshots, mut as_ofs, mut queries) = (0u64, 0u64, 0u64);
    let mut last_basis = 0;
    while Instant::now() < end {
        let guard = slab.pin().unwrap();
        let snapshot = db.snapshot(&guard).unwrap();
        let basis = snapshot.basis_t();
        assert!(
            basis >= last_basis,
            "the basis went back: {last_basis} -> {basis}"
        );
        last_basis = basis;
        assert_eq!(
            balances(&snapshot, View::Current),
            (TOTAL, ACCOUNTS),
            "at t {basis}"
        );
        snapshots += 1;
        if rng.chance(30) {
            let t = rng.range(setup_t, basis + 1);
            assert_eq!(
                balances(&snapshot, View::AsOf(t)),
                (TOTAL, ACCOUNTS),
                "as of t {t} (basis {basis})"
            );
            as_ofs += 1;
        }
        if rng.chance(10) {
            let answer = eve::query::q(
                &snapshot,
                "[:find (sum ?b) . :with ?a :where [?a :acct/balance ?b]]",
                &[],
            )
            .unwrap();
            assert_eq!(answer.to_edn(), TOTAL.to_string(), "at t {basis}");
            queries += 1;
        }
        let counts = map.snapshot(&guard).unwrap();
        for (w, last) in counters.iter_mut().enumerate() {
            let now = counts
                .get(&counter_key(w as u64))
                .unwrap()
                .map_or(0, u64_of);
            assert!(now >= *last, "counter {w} went back from {last} to {now}");
            *last = now;
        }
    }
    println!("reader {snapshots} {as_ofs} {queries}");
}

#[test]
fn writers_and_readers_in_many_processes_keep_every_invariant() {
    const TEST: &str = "load";
    let seconds = seconds(8);
    let seed = seed(TEST);
    let mut rng = Rng::new(seed);
    let (writers, readers) = (2u64, 2u64);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("load.slab");
    let mut slab = eve::Slab::open(&path).unwrap();
    let setup_t = {
        let db = slab.database(DB).unwrap();
        db.transact_edn(SCHEMA, None).unwrap();
        let accounts: Vec<String> = (0..ACCOUNTS)
            .map(|i| {
                format!(
                    "{{:acct/id {i} :acct/group {} :acct/balance {}}}",
                    i / GROUP,
                    GROUP_SUM / GROUP as i64
                )
            })
            .collect();
        db.transact_edn(&format!("[{}]", accounts.join(" ")), None)
            .unwrap()
            .report
            .t
    };
    let run_ms = (seconds * 1000).to_string();
    let mut kids: Vec<(bool, Kid)> = vec![];
    for w in 0..writers {
        kids.push((
            true,
            spawn(
                "child_load_writer",
                &path,
                &[
                    ("EVE_WRITER", w.to_string()),
                    ("EVE_SEED", rng.next().to_string()),
                    ("EVE_RUN_MS", run_ms.clone()),
                ],
            ),
        ));
    }
    for _ in 0..readers {
        kids.push((
            false,
            spawn(
                "child_load_reader",
                &path,
                &[
                    ("EVE_SEED", rng.next().to_string()),
                    ("EVE_SETUP_T", setup_t.to_string()),
                    ("EVE_WRITERS", writers.to_string()),
                    ("EVE_RUN_MS", run_ms.clone()),
                ],
            ),
        ));
    }
    // Sample the file while they run.
    let started = Instant::now();
    let mut samples = vec![];
    while started.elapsed() < Duration::from_millis(seconds * 1000 + 200) {
        samples.push((started.elapsed(), slab.stats()));
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut acked_t: Vec<u64> = vec![];
    let mut events: BTreeMap<(u64, u64), bool> = BTreeMap::new();
    let mut increments = vec![0u64; writers as usize];
    let (mut rejected, mut snapshots, mut as_ofs, mut queries) = (0, 0, 0, 0);
    for (_, mut kid) in kids {
        let lines = kid.rest();
        let status = kid.status();
        assert!(
            status.success(),
            "a child failed ({status}); see its output above"
        );
        for line in lines {
            let words: Vec<&str> = line.split(' ').collect();
            let num = |i: usize| words[i].parse::<u64>().unwrap();
            match words[0] {
                "tx" => acked_t.push(num(1)),
                "event" => {
                    acked_t.push(num(3));
                    events.insert((num(1), num(2)), true);
                }
                "gone" => {
                    acked_t.push(num(3));
                    events.insert((num(1), num(2)), false);
                }
                "rejected" => rejected += 1,
                "inc" => increments[num(1) as usize] += 1,
                "reader" => {
                    snapshots += num(1);
                    as_ofs += num(2);
                    queries += num(3);
                }
                _ => {}
            }
        }
    }
    // Every acknowledged t once, and no other.
    acked_t.sort();
    let commits = acked_t.len() as u64;
    let expected: Vec<u64> = (setup_t + 1..=setup_t + commits).collect();
    assert_eq!(
        acked_t, expected,
        "acknowledged ts are not exactly the ts after setup"
    );
    {
        let db = slab.database(DB).unwrap();
        let guard = slab.pin().unwrap();
        let snapshot = db.snapshot(&guard).unwrap();
        assert_eq!(snapshot.basis_t(), setup_t + commits);
        // Events: present or gone as acknowledged, and no others.
        for ((w, n), present) in &events {
            let found = snapshot.resolve_entity(&format!("[:event/id \"w{w}-{n}\"]"));
            assert_eq!(found.is_ok(), *present, "event w{w}-{n}: {found:?}");
        }
        let prefix = snapshot.index_prefix(Index::Aevt, "[:event/id]").unwrap();
        let live = snapshot
            .range(Index::Aevt, View::Current, &prefix, None)
            .count();
        assert_eq!(live, events.values().filter(|p| **p).count());
        // Every version after setup sums up, not only those the readers happened to see.
        for t in setup_t..=snapshot.basis_t() {
            assert_eq!(
                balances(&snapshot, View::AsOf(t)),
                (TOTAL, ACCOUNTS),
                "t {t}"
            );
        }
        verify_indexes(&snapshot).unwrap();
        let map = slab.map(MAP).unwrap();
        for (w, n) in increments.iter().enumerate() {
            let counter = map
                .get(&guard, &counter_key(w as u64))
                .unwrap()
                .map_or(0, u64_of);
            assert_eq!(counter, *n, "writer {w}'s counter");
        }
    }
    slab.check().unwrap();
    // With every reader gone, everything retired is freed, and nothing leaked.
    slab.reclaim().unwrap();
    let end = slab.stats();
    assert_eq!(end.retired_blocks, 0, "{end:?}");
    let sweep = slab.recover().unwrap();
    assert_eq!(sweep.freed_blocks, 0, "blocks leaked under load: {sweep:?}");
    // Bounded: the file holds the live data plus a bounded amount of free space (the
    // history grows, so the file may; garbage must not make it grow faster).
    let (mid_at, mid) = samples[samples.len() / 2];
    let slack = 16 << 20;
    assert!(
        end.file_len <= 2 * end.bytes_in_use + slack,
        "the file ({}) is more than twice the live data ({}) plus 16 MiB",
        end.file_len,
        end.bytes_in_use
    );
    assert!(
        end.file_len - mid.file_len
            <= 2 * end.bytes_in_use.saturating_sub(mid.bytes_in_use) + slack,
        "the file grew from {} to {} in the second half while live data grew from {} to {}",
        mid.file_len,
        end.file_len,
        mid.bytes_in_use,
        end.bytes_in_use
    );
    let peak_retired = samples.iter().map(|(_, s)| s.retired_blocks).max().unwrap();
    figure(
        TEST,
        &format!(
            "{seconds}s, {writers} writer and {readers} reader processes: {commits} commits \
             ({} events added, {} of them retracted again, {rejected} invalid transactions \
             refused), {} map \
             increments; readers checked {snapshots} snapshots, {as_ofs} as-of views and \
             {queries} aggregate queries; every version's balances summed to {TOTAL}; file \
             {} bytes at {:.1}s and {} at the end, live data {} bytes, at most {} blocks \
             waiting for readers, none leaked",
            events.len(),
            events.values().filter(|p| !**p).count(),
            increments.iter().sum::<u64>(),
            mid.file_len,
            mid_at.as_secs_f64(),
            end.file_len,
            end.bytes_in_use,
            peak_retired
        ),
    );
}

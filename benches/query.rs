//! The DataScript benchmark queries (q1–q4 and the two predicate queries) over 20,000
//! generated people with a name, last name, sex, age and salary: 100,000 datoms. The same
//! generator (xorshift32 from the same seed) runs in `benches/datascript/query.js`, which
//! times DataScript and eve's Node binding on identical data; this file times eve from
//! Rust, where nothing crosses a language boundary. Each query also runs with its clauses
//! in another order, which the planner should make cost the same.
//!
//! Run: `cargo bench --bench query` (prints a table of median milliseconds;
//! `EVE_BENCH_ONLY=q2 EVE_BENCH_RUNS=500` repeats one query, for a profiler).

use eve::query::{q, Input};
use eve::Slab;
use std::time::Instant;

const PEOPLE: usize = 20_000;
const NAMES: [&str; 8] = [
    "Ivan", "Petr", "Sergei", "Oleg", "Yuri", "Dmitry", "Fedor", "Denis",
];
const LAST_NAMES: [&str; 6] = [
    "Ivanov",
    "Petrov",
    "Sidorov",
    "Kovalev",
    "Kuznetsov",
    "Voronoi",
];

/// xorshift32, written the same way in query.js so both sides load the same people.
struct XorShift32(u32);

impl XorShift32 {
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0 % n
    }
}

fn people_edn() -> String {
    let mut rng = XorShift32(0x9E37_79B9);
    let mut out = String::from("[");
    for _ in 0..PEOPLE {
        let name = NAMES[rng.below(8) as usize];
        let last = LAST_NAMES[rng.below(6) as usize];
        let sex = if rng.below(2) == 0 { "male" } else { "female" };
        let age = rng.below(100);
        let salary = rng.below(100_000);
        out.push_str(&format!(
            "{{:name \"{name}\" :last-name \"{last}\" :sex :{sex} :age {age} :salary {salary}}}\n"
        ));
    }
    out.push(']');
    out
}

const SCHEMA: &str = r#"[
    {:db/ident :name :db/valueType :db.type/string}
    {:db/ident :last-name :db/valueType :db.type/string}
    {:db/ident :sex :db/valueType :db.type/keyword}
    {:db/ident :age :db/valueType :db.type/long}
    {:db/ident :salary :db/valueType :db.type/long}
]"#;

/// (label, query, the same query with its clauses in another order)
const QUERIES: [(&str, &str, &str); 6] = [
    (
        "q1",
        r#"[:find ?e :where [?e :name "Ivan"]]"#,
        r#"[:find ?e :where [?e :name "Ivan"]]"#,
    ),
    (
        "q2",
        r#"[:find ?e ?a :where [?e :name "Ivan"] [?e :age ?a]]"#,
        r#"[:find ?e ?a :where [?e :age ?a] [?e :name "Ivan"]]"#,
    ),
    (
        "q3",
        r#"[:find ?e ?a :where [?e :name "Ivan"] [?e :age ?a] [?e :sex :male]]"#,
        r#"[:find ?e ?a :where [?e :age ?a] [?e :sex :male] [?e :name "Ivan"]]"#,
    ),
    (
        "q4",
        r#"[:find ?e ?l ?a :where [?e :name "Ivan"] [?e :last-name ?l] [?e :age ?a] [?e :sex :male]]"#,
        r#"[:find ?e ?l ?a :where [?e :sex :male] [?e :age ?a] [?e :last-name ?l] [?e :name "Ivan"]]"#,
    ),
    (
        "qpred1",
        r#"[:find ?e ?s :where [?e :salary ?s] [(> ?s 50000)]]"#,
        r#"[:find ?e ?s :where [(> ?s 50000)] [?e :salary ?s]]"#,
    ),
    (
        "qpred2",
        r#"[:find ?e ?s :in $ ?min_s :where [?e :salary ?s] [(> ?s ?min_s)]]"#,
        r#"[:find ?e ?s :in $ ?min_s :where [(> ?s ?min_s)] [?e :salary ?s]]"#,
    ),
];

fn median_ms(mut run: impl FnMut() -> usize) -> (f64, usize) {
    // Queries in a fresh process run up to three times slower for their first few dozen
    // runs (caches and the machine warming up), so warm up well before timing.
    let mut rows = 0;
    for _ in 0..30 {
        rows = run();
    }
    let runs: usize = std::env::var("EVE_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(31);
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(run());
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], rows)
}

fn main() {
    // EVE_BENCH_FILE=path: a slab file (as the hosts use) instead of anonymous memory.
    let file = std::env::var("EVE_BENCH_FILE").ok();
    let slab = match &file {
        Some(path) => {
            let _ = std::fs::remove_file(path);
            Slab::open(path).expect("slab file")
        }
        None => Slab::anonymous().expect("slab"),
    };
    let db = slab.database("people").expect("database");
    db.transact_edn(SCHEMA, None).expect("schema");
    let load = Instant::now();
    db.transact_edn(&people_edn(), None).expect("people");
    println!(
        "loaded {PEOPLE} people (100,000 datoms) in {:.2} s",
        load.elapsed().as_secs_f64()
    );
    let guard = slab.pin().expect("pin");
    let snapshot = db.snapshot(&guard).expect("snapshot");
    let inputs = |text: &str| -> Vec<Input<'_>> {
        if text.contains("?min_s") {
            vec![Input::Scalar(eve::dao::Value::Long(50_000))]
        } else {
            Vec::new()
        }
    };
    println!(
        "{:<8} {:>8} {:>12} {:>16}",
        "query", "rows", "eve ms", "swapped ms"
    );
    // EVE_BENCH_ONLY=q2 runs one query (for a profiler).
    let only = std::env::var("EVE_BENCH_ONLY").ok();
    for (label, query, swapped) in QUERIES {
        if only.as_deref().is_some_and(|o| o != label) {
            continue;
        }
        let count = |text: &str| match q(&snapshot, text, &inputs(text)).expect(label) {
            eve::query::QueryResult::Relation(rows) => rows.len(),
            other => panic!("{label}: {other:?}"),
        };
        let (ms, rows) = median_ms(|| count(query));
        let (swapped_ms, swapped_rows) = median_ms(|| count(swapped));
        assert_eq!(
            rows, swapped_rows,
            "{label}: swapping clauses changed the answer"
        );
        println!("{label:<8} {rows:>8} {ms:>12.3} {swapped_ms:>16.3}");
    }
}

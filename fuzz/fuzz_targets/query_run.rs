//! Any query text, with any inputs, run against a small database answers or fails with an
//! error: the planner and evaluator never panic. The input is split at the first NUL:
//! query text, then inputs EDN.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const DATA: &str = r#"[
  {:db/ident :p/email :db/valueType :db.type/string :db/unique :db.unique/identity}
  {:db/ident :p/name :db/valueType :db.type/string}
  {:db/ident :p/age :db/valueType :db.type/long}
  {:db/ident :p/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
]"#;

const PEOPLE: &str = r#"[
  {:db/id "a" :p/email "a@x" :p/name "Ada" :p/age 36 :p/friend ["b" "c"]}
  {:db/id "b" :p/email "b@x" :p/name "Bob" :p/age 41 :p/friend ["c"]}
  {:db/id "c" :p/email "c@x" :p/name "Cy" :p/age 19 :p/friend ["a"]}
]"#;

fn slab() -> &'static eve::Slab {
    static SLAB: OnceLock<eve::Slab> = OnceLock::new();
    SLAB.get_or_init(|| {
        let slab = eve::Slab::anonymous().expect("an anonymous slab");
        let db = slab.database("db").expect("a database");
        db.transact_edn(DATA, None).expect("schema");
        db.transact_edn(PEOPLE, None).expect("people");
        slab
    })
}

fuzz_target!(|text: &str| {
    let (query, inputs) = match text.split_once('\0') {
        Some((q, i)) => (q, Some(i)),
        None => (text, None),
    };
    let slab = slab();
    let db = slab.database("db").expect("the database");
    let guard = slab.pin().expect("a pin");
    let snapshot = db.snapshot(&guard).expect("a snapshot");
    let _ = eve::query::q_edn(&snapshot, eve::dao::View::Current, query, inputs);
    let _ = eve::query::pull_edn(&snapshot, query, inputs.unwrap_or("1"));
});

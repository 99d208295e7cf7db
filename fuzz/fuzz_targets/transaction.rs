//! Any text given as transaction data to a database with a small schema either commits or
//! is refused, and either way the slab stays consistent: `check` passes, and a refused
//! transaction leaves the basis `t` where it was.
#![no_main]

use libfuzzer_sys::fuzz_target;

const SCHEMA: &str = r#"[
  {:db/ident :p/email :db/valueType :db.type/string :db/unique :db.unique/identity}
  {:db/ident :p/name :db/valueType :db.type/string}
  {:db/ident :p/age :db/valueType :db.type/long}
  {:db/ident :p/tags :db/valueType :db.type/keyword :db/cardinality :db.cardinality/many}
  {:db/ident :p/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
  {:db/ident :p/at :db/valueType :db.type/instant}
]"#;

fuzz_target!(|text: &str| {
    let slab = eve::Slab::anonymous().expect("an anonymous slab");
    let db = slab.database("db").expect("a database");
    db.transact_edn(SCHEMA, None).expect("the schema");
    let before = db.basis_t().expect("basis t");
    let committed = db.transact_edn(text, None).is_ok();
    let after = db.basis_t().expect("basis t");
    assert_eq!(
        after,
        before + committed as u64,
        "t moves exactly when a transaction commits"
    );
    slab.check().expect("the slab is consistent");
});

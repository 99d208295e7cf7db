//! The encodings against a reference order written out by hand: for random values and
//! datoms, comparing encodings as bytes must agree with comparing the values, and every
//! encoding must decode back to what was encoded.

use super::*;
use proptest::prelude::*;
use std::cmp::Ordering;

/// The value order of DESIGN.md, written independently of the encoding.
fn reference_cmp(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Nil => 0,
            Value::Boolean(_) => 1,
            Value::Long(_) | Value::Double(_) => 2,
            Value::String(_) => 3,
            Value::Keyword(_) => 4,
            Value::Symbol(_) => 5,
            Value::Uuid(_) => 6,
            Value::Instant(_) => 7,
            Value::Bytes(_) => 8,
            Value::Ref(_) => 9,
            Value::Tuple(_) => 10,
        }
    }
    match (a, b) {
        (Value::Boolean(x), Value::Boolean(y)) => x.cmp(y),
        (Value::Long(x), Value::Long(y)) => x.cmp(y),
        (Value::Double(x), Value::Double(y)) => x.partial_cmp(y).unwrap(),
        // A long beyond ±2^53 compares with doubles through its nearest double; a tie
        // puts the double first.
        (Value::Long(x), Value::Double(y)) => {
            (*x as f64).partial_cmp(y).unwrap().then(Ordering::Greater)
        }
        (Value::Double(x), Value::Long(y)) => {
            x.partial_cmp(&(*y as f64)).unwrap().then(Ordering::Less)
        }
        (Value::String(x), Value::String(y))
        | (Value::Keyword(x), Value::Keyword(y))
        | (Value::Symbol(x), Value::Symbol(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Uuid(x), Value::Uuid(y)) => x.cmp(y),
        (Value::Instant(x), Value::Instant(y)) => x.cmp(y),
        (Value::Bytes(x), Value::Bytes(y)) => x.cmp(y),
        (Value::Ref(x), Value::Ref(y)) => x.cmp(y),
        // Element by element; a tuple that is a prefix of another sorts first.
        (Value::Tuple(x), Value::Tuple(y)) => {
            for (p, q) in x.iter().zip(y) {
                let order = reference_cmp(p, q);
                if order != Ordering::Equal {
                    return order;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

fn text() -> impl Strategy<Value = String> {
    // Small alphabets with NUL and high bytes, so prefixes and escapes are common.
    prop::collection::vec(
        prop_oneof![Just('\0'), Just('a'), Just('b'), Just('é'), Just('\u{ff}')],
        0..6,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn value() -> impl Strategy<Value = Value> {
    stored_value().prop_recursive(2, 8, 3, |inner| {
        prop::collection::vec(inner, 0..3).prop_map(Value::Tuple)
    })
}

fn stored_value() -> impl Strategy<Value = Value> {
    let long = prop_oneof![
        -3i64..3,
        any::<i64>(),
        Just(i64::MAX),
        Just(i64::MIN),
        Just((1 << 53) + 1),
        Just(1 << 53),
    ];
    let double = prop_oneof![
        (-3i32..3).prop_map(|x| x as f64 / 2.0),
        any::<f64>().prop_filter("NaN has no order", |d| !d.is_nan()),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(9007199254740992.0),
    ];
    prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Boolean),
        long.prop_map(Value::Long),
        double.prop_map(|d| Value::double(d).unwrap()),
        text().prop_map(Value::String),
        text().prop_map(Value::Keyword),
        text().prop_map(Value::Symbol),
        prop::array::uniform16(0u8..3).prop_map(Value::Uuid),
        any::<i64>().prop_map(Value::Instant),
        prop::collection::vec(prop_oneof![Just(0u8), Just(1), Just(0xFF)], 0..5)
            .prop_map(Value::Bytes),
        prop_oneof![0u64..4, any::<u64>()].prop_map(Value::Ref),
    ]
}

fn datom() -> impl Strategy<Value = Datom> {
    (0u64..4, 0u64..4, stored_value(), 0u64..4, 0u64..3).prop_map(|(e, a, v, t, m)| Datom {
        e,
        a,
        v,
        t,
        m,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn byte_order_is_value_order(a in value(), b in value()) {
        let (ea, eb) = (a.to_bytes(), b.to_bytes());
        prop_assert_eq!(ea.cmp(&eb), reference_cmp(&a, &b), "{:?} vs {:?}", a, b);
        prop_assert_eq!(a.cmp(&b), ea.cmp(&eb), "Ord agrees with the encoding: {:?} vs {:?}", a, b);
        prop_assert_eq!(Value::decode(&ea).unwrap(), (a.clone(), &[][..]));
    }

    #[test]
    fn index_keys_sort_in_index_order_and_decode(x in datom(), y in datom()) {
        for index in Index::ALL {
            if !x.belongs_in(index) || !y.belongs_in(index) {
                continue;
            }
            let (kx, ky) = (x.key(index), y.key(index));
            prop_assert_eq!(Datom::from_key(index, &kx).unwrap(), x.clone());
            let order = |p: &Datom, q: &Datom| -> Ordering {
                let (e, a, t, m) = (p.e.cmp(&q.e), p.a.cmp(&q.a), p.t.cmp(&q.t), p.m.cmp(&q.m));
                let v = reference_cmp(&p.v, &q.v);
                let parts = match index {
                    Index::Eavt => [e, a, v],
                    Index::Aevt => [a, e, v],
                    Index::Avet => [a, v, e],
                    Index::Vaet => [v, a, e],
                };
                parts.into_iter().chain([t, m]).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
            };
            prop_assert_eq!(kx.cmp(&ky), order(&x, &y), "{:?}: {:?} vs {:?}", index, x, y);
        }
    }
}

#[test]
fn refuses_nan_and_bad_encodings() {
    assert!(Value::double(f64::NAN).is_err());
    assert_eq!(Value::double(-0.0).unwrap(), Value::Double(0.0));
    for bad in [
        &[0x99][..],
        &[0x10, 2],
        &[0x30, b'a', 0, 7],
        &[0x20, 1, 2],
        &[],
    ] {
        assert!(Value::decode(bad).is_err(), "{bad:?}");
    }
    let key = Datom {
        e: 20,
        a: 10,
        v: Value::Long(5),
        t: 3,
        m: ASSERTED,
    }
    .key(Index::Eavt);
    assert!(Datom::from_key(Index::Eavt, &key[..key.len() - 1]).is_err());
    assert!(Datom::from_key(Index::Aevt, &[key.as_slice(), &[0]].concat()).is_err());
}

mod store {
    use super::super::*;
    use crate::{OpenOptions, Slab};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn change() -> impl Strategy<Value = Change> {
        let v = prop_oneof![
            (0i64..3).prop_map(Value::Long),
            Just(Value::String("x".into())),
            (20u64..22).prop_map(Value::Ref),
        ];
        (any::<bool>(), 20u64..23, 30u64..32, v).prop_map(|(add, e, a, v)| {
            if add {
                Change::Add { e, a, v }
            } else {
                Change::Retract { e, a, v }
            }
        })
    }

    fn sorted_keys(datoms: &[Datom], index: Index) -> Vec<Vec<u8>> {
        let mut keys: Vec<Vec<u8>> = datoms
            .iter()
            .filter(|d| d.belongs_in(index))
            .map(|d| d.key(index))
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The naive fold: the latest datom of each [e a v] at or before `t` (an assertion
    /// beats a retraction of the same `t`), kept if it is an assertion.
    fn fold(log: &[Datom], t: u64) -> Vec<Datom> {
        let mut latest: BTreeMap<Vec<u8>, &Datom> = BTreeMap::new();
        for d in log.iter().filter(|d| d.t <= t) {
            let mut eav = d.e.to_be_bytes().to_vec();
            eav.extend_from_slice(&d.a.to_be_bytes());
            d.v.encode(&mut eav);
            let slot = latest.entry(eav).or_insert(d);
            if (d.t, d.m) >= (slot.t, slot.m) {
                *slot = d;
            }
        }
        latest
            .into_values()
            .filter(|d| d.m != RETRACTED)
            .cloned()
            .collect()
    }

    fn keys_of(datoms: impl Iterator<Item = crate::Result<Datom>>, index: Index) -> Vec<Vec<u8>> {
        datoms.map(|d| d.unwrap().key(index)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

        #[test]
        fn views_agree_with_a_fold_of_the_log(
            transactions in prop::collection::vec(prop::collection::vec(change(), 0..8), 1..12),
            probe in 0u64..14,
        ) {
            let slab = Slab::anonymous_with(&OpenOptions { max_size: 1 << 30, ..OpenOptions::default() }).unwrap();
            let db = slab.database("db").unwrap();
            let mut log: Vec<Datom> = Vec::new();
            for (i, changes) in transactions.iter().enumerate() {
                let report = db.transact(changes).unwrap();
                prop_assert_eq!(report.t, i as u64 + 1, "t has no gaps");
                prop_assert!(report.datoms.iter().all(|d| d.t == report.t));
                log.extend(report.datoms);
            }
            let guard = slab.pin().unwrap();
            let snapshot = db.snapshot(&guard).unwrap();
            let n = transactions.len() as u64;
            prop_assert_eq!(snapshot.basis_t(), n);
            for index in Index::ALL {
                prop_assert_eq!(keys_of(snapshot.history(index, &[]), index), sorted_keys(&log, index));
                for t in [0, probe.min(n), n] {
                    let expected = sorted_keys(&fold(&log, t), index);
                    prop_assert_eq!(keys_of(snapshot.as_of(t, index, &[]), index), expected);
                }
                let since: Vec<Datom> = fold(&log, n).into_iter().filter(|d| d.t > probe).collect();
                prop_assert_eq!(keys_of(snapshot.since(probe, index, &[]), index), sorted_keys(&since, index));
            }
            // A prefix: one entity's datoms in EAVT.
            let e = 21u64.to_be_bytes();
            let expected: Vec<Datom> = log.iter().filter(|d| d.e == 21).cloned().collect();
            prop_assert_eq!(keys_of(snapshot.history(Index::Eavt, &e), Index::Eavt), sorted_keys(&expected, Index::Eavt));
            // The log, from any t, in transaction order.
            let from = probe.min(n + 1).max(1);
            let tail: Vec<Datom> = snapshot.log_from(from).map(|d| d.unwrap()).collect();
            let expected: Vec<Datom> = log.iter().filter(|d| d.t >= from).cloned().collect();
            prop_assert_eq!(tail, expected);
            drop(guard);

            // Nothing leaked across all those commits.
            for _ in 0..4 {
                slab.reclaim().unwrap();
            }
            let mut slab = slab;
            prop_assert_eq!(slab.recover().unwrap().freed_blocks, 0);
        }
    }

    #[test]
    fn concurrent_transactions_get_consecutive_ts() {
        let slab = Slab::anonymous().unwrap();
        let db = slab.database("db").unwrap();
        let ts = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for thread in 0..4u64 {
                let (db, ts) = (db, &ts);
                s.spawn(move || {
                    for i in 0..50u64 {
                        let changes: Vec<Change> = (0..3)
                            .map(|j| Change::Add {
                                e: 100 + thread,
                                a: 40 + j,
                                v: Value::Long(i as i64),
                            })
                            .collect();
                        ts.lock().unwrap().push(db.transact(&changes).unwrap().t);
                    }
                });
            }
        });
        let mut ts = ts.into_inner().unwrap();
        ts.sort();
        assert_eq!(ts, (1..=200).collect::<Vec<u64>>());
        let guard = slab.pin().unwrap();
        let snapshot = db.snapshot(&guard).unwrap();
        assert_eq!(snapshot.history(Index::Aevt, &[]).count(), 600);
        let log: Vec<u64> = snapshot.log_from(1).map(|d| d.unwrap().t).collect();
        assert_eq!(log.len(), 600);
        assert!(log.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn synced_commits_from_many_threads_share_root_syncs() {
        use crate::slab::header::{F_SYNC_DONE, F_SYNC_TICKETS};
        use std::sync::atomic::Ordering;
        let dir = tempfile::tempdir().unwrap();
        let slab = Slab::open(dir.path().join("durable.slab")).unwrap();
        let db = slab
            .database("db")
            .unwrap()
            .with_durability(Durability::Synced);
        std::thread::scope(|s| {
            for thread in 0..4u64 {
                s.spawn(move || {
                    for i in 0..25 {
                        let change = Change::Add {
                            e: 100 + thread,
                            a: 40,
                            v: Value::Long(i),
                        };
                        db.transact(&[change]).unwrap();
                    }
                });
            }
        });
        assert_eq!(db.basis_t().unwrap(), 100);
        let tickets = slab.region().meta(F_SYNC_TICKETS).load(Ordering::SeqCst);
        let done = slab.region().meta(F_SYNC_DONE).load(Ordering::SeqCst);
        assert_eq!(tickets, 100, "every synced commit waited for its root");
        assert_eq!(done, 100, "and every one of them is covered by a sync");
        // A database opened without the option does not sync.
        slab.database("db")
            .unwrap()
            .transact(&[Change::Add {
                e: 1,
                a: 2,
                v: Value::Nil,
            }])
            .unwrap();
        assert_eq!(
            slab.region().meta(F_SYNC_TICKETS).load(Ordering::SeqCst),
            100
        );
    }

    #[test]
    fn long_values_live_out_of_line_in_exact_order() {
        let slab = Slab::anonymous().unwrap();
        let db = slab.database("db").unwrap();
        // Strings that agree on their first 50,000 bytes still sort by what follows.
        let prefix = "x".repeat(50_000);
        let (b, a) = (format!("{prefix}b"), format!("{prefix}a"));
        let add = |e: u64, v: Value| Change::Add { e, a: 31, v };
        db.transact(&[
            add(21, Value::String(b.clone())),
            add(22, Value::String(a.clone())),
            add(23, Value::String("y".into())),
            add(24, Value::Bytes(vec![0; 3000])),
        ])
        .unwrap();
        let guard = slab.pin().unwrap();
        let snapshot = db.snapshot(&guard).unwrap();
        let values: Vec<Value> = snapshot
            .current(Index::Avet, &31u64.to_be_bytes())
            .map(|d| d.unwrap().v)
            .collect();
        let expected = vec![
            Value::String(a),
            Value::String(b.clone()),
            Value::String("y".into()),
            Value::Bytes(vec![0; 3000]),
        ];
        assert_eq!(values, expected);
        drop(guard);
        // A retraction adds datoms; the key blocks stay shared, and nothing leaks.
        db.transact(&[Change::Retract {
            e: 21,
            a: 31,
            v: Value::String(b),
        }])
        .unwrap();
        for _ in 0..4 {
            slab.reclaim().unwrap();
        }
        let mut slab = slab;
        assert_eq!(slab.recover().unwrap().freed_blocks, 0);
    }

    #[test]
    fn refuses_values_too_long_and_changes_nothing() {
        let slab = Slab::anonymous().unwrap();
        let db = slab.database("db").unwrap();
        db.transact(&[Change::Add {
            e: 20,
            a: 30,
            v: Value::Long(1),
        }])
        .unwrap();
        let long = Value::Bytes(vec![1; crate::btree::MAX_KEY_LEN]);
        let error = db
            .transact(&[Change::Add {
                e: 20,
                a: 30,
                v: long,
            }])
            .unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::InvalidArgument);
        assert_eq!(db.basis_t().unwrap(), 1);
        assert_eq!(
            db.wait_after(0, Some(std::time::Duration::ZERO)).unwrap(),
            1
        );
    }
}

mod transactor {
    use super::super::*;
    use crate::{ErrorKind, Slab};

    const SCHEMA: &str = r#"[
        {:db/ident :person/email :db/valueType :db.type/string :db/unique :db.unique/identity}
        {:db/ident :person/name :db/valueType :db.type/string}
        {:db/ident :person/age :db/valueType :db.type/long}
        {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
        {:db/ident :person/ssn :db/valueType :db.type/string :db/unique :db.unique/value}
        {:db/ident :person/born :db/valueType :db.type/instant}
        {:db/ident :tx/source :db/valueType :db.type/string}
        {:db/ident :color/red}
        {:db/ident :person/favorite :db/valueType :db.type/ref}
    ]"#;

    fn setup(slab: &Slab) -> Database<'_> {
        let db = slab.database("people").unwrap();
        db.transact_edn(SCHEMA, None).unwrap();
        db
    }

    /// The current values of attribute `a` of entity `e`.
    fn values(slab: &Slab, db: &Database<'_>, e: u64, a: &str) -> Vec<Value> {
        let guard = slab.pin().unwrap();
        let snapshot = db.snapshot(&guard).unwrap();
        let a = Schema::read(&snapshot).unwrap().attribute(a).unwrap().id;
        let mut prefix = e.to_be_bytes().to_vec();
        prefix.extend_from_slice(&a.to_be_bytes());
        snapshot
            .current(Index::Eavt, &prefix)
            .map(|d| d.unwrap().v)
            .collect()
    }

    fn values_as_of(slab: &Slab, db: &Database<'_>, t: u64, e: u64, a: &str) -> Vec<Value> {
        let guard = slab.pin().unwrap();
        let snapshot = db.snapshot(&guard).unwrap();
        let a = Schema::read(&snapshot).unwrap().attribute(a).unwrap().id;
        let mut prefix = e.to_be_bytes().to_vec();
        prefix.extend_from_slice(&a.to_be_bytes());
        snapshot
            .as_of(t, Index::Eavt, &prefix)
            .map(|d| d.unwrap().v)
            .collect()
    }

    fn s(text: &str) -> Value {
        Value::String(text.into())
    }

    #[test]
    fn tempids_upserts_and_cardinality_one() {
        let slab = Slab::anonymous().unwrap();
        let db = setup(&slab);
        let first = db
            .transact_edn(
                r#"[{:db/id "ada" :person/email "ada@x" :person/name "Ada" :person/age 36}]"#,
                None,
            )
            .unwrap();
        let ada = first.tempids["ada"];
        assert!(ada >= crate::dao::FIRST_ENTITY);
        assert_eq!(first.report.datoms.len(), 3);

        // Upsert: a new tempid with Ada's unique identity is Ada; her name is replaced
        // (cardinality one: the old value is retracted in the same transaction).
        let second = db
            .transact_edn(
                r#"[{:db/id -1 :person/email "ada@x" :person/name "Countess"}]"#,
                None,
            )
            .unwrap();
        assert_eq!(second.tempids["-1"], ada);
        let retracted: Vec<_> = second
            .report
            .datoms
            .iter()
            .filter(|d| d.m == RETRACTED)
            .collect();
        assert_eq!(retracted.len(), 1);
        assert_eq!(retracted[0].v, s("Ada"));
        assert_eq!(values(&slab, &db, ada, "person/name"), vec![s("Countess")]);
        // as-of sees the old value.
        assert_eq!(
            values_as_of(&slab, &db, first.report.t, ada, "person/name"),
            vec![s("Ada")]
        );

        // Asserting what is already true writes nothing.
        let again = db
            .transact_edn(r#"[[:db/add "x" :person/email "ada@x"]]"#, None)
            .unwrap();
        assert_eq!(again.tempids["x"], ada);
        assert!(again.report.datoms.is_empty());
    }

    #[test]
    fn retraction_supersedes_assertion() {
        let slab = Slab::anonymous().unwrap();
        let db = setup(&slab);
        let tx = db
            .transact_edn(r#"[{:db/id "b" :person/email "b@x" :person/age 40}]"#, None)
            .unwrap();
        let b = tx.tempids["b"];
        let retract = db
            .transact_edn(&format!("[[:db/retract {b} :person/age 40]]"), None)
            .unwrap();
        assert_eq!(retract.report.datoms[0].m, RETRACTED);
        assert!(values(&slab, &db, b, "person/age").is_empty());
        assert_eq!(
            values_as_of(&slab, &db, tx.report.t, b, "person/age"),
            vec![Value::Long(40)]
        );
        // History keeps both datoms.
        let guard = slab.pin().unwrap();
        let snapshot = db.snapshot(&guard).unwrap();
        let history: Vec<u64> = snapshot
            .history(Index::Eavt, &b.to_be_bytes())
            .map(|d| d.unwrap())
            .filter(|d| d.v == Value::Long(40))
            .map(|d| d.m)
            .collect();
        assert_eq!(history, vec![ASSERTED, RETRACTED]);
    }

    #[test]
    fn refs_lookup_refs_idents_nesting_and_retract_entity() {
        let slab = Slab::anonymous().unwrap();
        let db = setup(&slab);
        let tx = db
            .transact_edn(
                r#"[{:db/id "c" :person/email "c@x" :person/favorite :color/red
                     :person/friend [{:person/email "d@x" :person/name "Dee"} [:person/email "c@x"]]}]"#,
                None,
            )
            .err();
        // The lookup ref names an entity that does not exist yet: refused, nothing written.
        assert!(tx.is_some());
        assert_eq!(db.basis_t().unwrap(), 1);
        let tx = db
            .transact_edn(
                r#"[{:db/id "c" :person/email "c@x" :person/favorite :color/red
                     :person/friend [{:person/email "d@x" :person/name "Dee"}]}]"#,
                None,
            )
            .unwrap();
        let c = tx.tempids["c"];
        let friends = values(&slab, &db, c, "person/friend");
        assert_eq!(friends.len(), 1);
        let Value::Ref(d) = friends[0] else {
            panic!("{friends:?}")
        };
        assert_eq!(values(&slab, &db, d, "person/name"), vec![s("Dee")]);
        assert!(matches!(
            values(&slab, &db, c, "person/favorite")[..],
            [Value::Ref(_)]
        ));
        // A lookup ref as an entity, then retractEntity removes d and the refs to it.
        db.transact_edn(r#"[[:db/add [:person/email "d@x"] :person/age 9]]"#, None)
            .unwrap();
        assert_eq!(values(&slab, &db, d, "person/age"), vec![Value::Long(9)]);
        db.transact_edn(r#"[[:db/retractEntity [:person/email "d@x"]]]"#, None)
            .unwrap();
        assert!(values(&slab, &db, d, "person/name").is_empty());
        assert!(values(&slab, &db, c, "person/friend").is_empty());
        // [:db/retract e a] removes every value.
        db.transact_edn(&format!("[[:db/retract {c} :person/favorite]]"), None)
            .unwrap();
        assert!(values(&slab, &db, c, "person/favorite").is_empty());
    }

    #[test]
    fn metadata_becomes_the_m_of_the_assertions() {
        let slab = Slab::anonymous().unwrap();
        let db = setup(&slab);
        let tx = db
            .transact_edn(
                r#"[{:person/email "m@x" :person/born #inst "1990-05-01T00:00:00Z"}]"#,
                Some(r#"{:tx/source "import"}"#),
            )
            .unwrap();
        let assertions: Vec<_> = tx
            .report
            .datoms
            .iter()
            .filter(|d| d.v != s("import"))
            .collect();
        let meta = assertions[0].m;
        assert!(meta >= crate::dao::FIRST_ENTITY);
        assert!(assertions.iter().all(|d| d.m == meta));
        assert_eq!(values(&slab, &db, meta, "tx/source"), vec![s("import")]);
        assert!(tx
            .report
            .datoms
            .iter()
            .any(|d| d.v == Value::Instant(641_520_000_000)));
    }

    #[test]
    fn invalid_transactions_change_nothing() {
        let slab = Slab::anonymous().unwrap();
        let db = setup(&slab);
        db.transact_edn(r#"[{:person/email "u@x" :person/ssn "123"}]"#, None)
            .unwrap();
        let t = db.basis_t().unwrap();
        let cases = [
            (
                r#"[{:person/shoe-size 44}]"#,
                "unknown attribute :person/shoe-size",
            ),
            (
                r#"[{:person/age "old"}]"#,
                "not a valid value of :person/age",
            ),
            (
                r#"[{:person/email "v@x" :person/ssn "123"}]"#,
                "unique conflict",
            ),
            (
                r#"[{:db/id "a" :person/name "A"} {:db/id "a" :person/name "B"}]"#,
                "conflicting values",
            ),
            ("[{:person/name \"x\"}\n {:person/age]", "line 2"),
            ("[] []", "unexpected text"),
            (
                r#"[[:db/frobnicate 1 :person/age 3]]"#,
                "not a transaction statement",
            ),
            (
                r#"[{:db/ident :bad/attr :db/valueType :db.type/colour}]"#,
                "not a value type",
            ),
            (r#"[[:db/add 3 :person/age 1]]"#, "reserved"),
        ];
        for (data, expected) in cases {
            let error = db.transact_edn(data, None).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{data}");
            assert!(
                error.message().contains(expected),
                "{data}: {}",
                error.message()
            );
            assert_eq!(db.basis_t().unwrap(), t, "{data} changed the database");
        }
    }

    #[test]
    fn schema_changes_are_transactions() {
        let slab = Slab::anonymous().unwrap();
        let db = setup(&slab);
        assert!(db.transact_edn(r#"[{:pet/name "Rex"}]"#, None).is_err());
        db.transact_edn(
            r#"[{:db/ident :pet/name :db/valueType :db.type/string :db/doc "a pet's name"}]"#,
            None,
        )
        .unwrap();
        let tx = db
            .transact_edn(r#"[{:db/id "rex" :pet/name "Rex"}]"#, None)
            .unwrap();
        assert_eq!(
            values(&slab, &db, tx.tempids["rex"], "pet/name"),
            vec![s("Rex")]
        );
    }
}

mod entities {
    use super::super::*;
    use crate::Slab;

    #[test]
    fn entity_lookup_and_edn() {
        let slab = Slab::anonymous().unwrap();
        let db = slab.database("db").unwrap();
        db.transact_edn(
            r#"[{:db/ident :p/email :db/valueType :db.type/string :db/unique :db.unique/identity}
                {:db/ident :p/tags :db/valueType :db.type/keyword :db/cardinality :db.cardinality/many}
                {:db/ident :p/born :db/valueType :db.type/instant}
                {:db/ident :p/score :db/valueType :db.type/double}]"#,
            None,
        )
        .unwrap();
        let tx = db
            .transact_edn(
                r#"[{:db/id "a" :p/email "a\"b@x" :p/tags [:x :y] :p/born #inst "2001-02-03T04:05:06.007Z" :p/score 2}]"#,
                None,
            )
            .unwrap();
        let a = tx.tempids["a"];
        let guard = slab.pin().unwrap();
        let snapshot = db.snapshot(&guard).unwrap();
        assert_eq!(
            snapshot.resolve_entity(r#"[:p/email "a\"b@x"]"#).unwrap(),
            a
        );
        assert_eq!(snapshot.resolve_entity(&a.to_string()).unwrap(), a);
        assert!(snapshot.resolve_entity(r#"[:p/email "nobody"]"#).is_err());
        let attributes = snapshot.entity(a).unwrap();
        assert_eq!(
            attributes[":p/tags"],
            vec![Value::Keyword("x".into()), Value::Keyword("y".into())]
        );
        let edn = snapshot.entity_edn(a).unwrap();
        assert_eq!(
            edn,
            format!(
                r#"{{:db/id {a}, :p/born #inst "2001-02-03T04:05:06.007Z", :p/email "a\"b@x", :p/score 2.0, :p/tags #{{:x :y}}}}"#
            )
        );
        // The EDN reads back.
        assert!(crate::dao::read_edn(&edn, "entity").is_ok());
    }
}

#[test]
fn doubles_print_as_edn_doubles() {
    use clojure_reader::edn::Edn;
    for d in [
        0.0,
        1.0,
        -2.5,
        1e15,
        1.5e300,
        -3e-7,
        123_456.789,
        f64::MAX,
        f64::MIN_POSITIVE,
        f64::EPSILON,
    ] {
        let text = Value::Double(d).to_edn();
        match crate::dao::read_edn(&text, "a double").unwrap() {
            Edn::Double(x) => assert_eq!(x.into_inner(), d, "{text}"),
            other => panic!("{text} reads back as {other:?}"),
        };
    }
}

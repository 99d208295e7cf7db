//! Queries against a small database, checked against answers written out by hand, with the
//! clauses in different orders giving the same answers.

use super::*;
use crate::dao::View;
use crate::Slab;

const DATA: &str = r#"[
    {:db/ident :person/email :db/valueType :db.type/string :db/unique :db.unique/identity}
    {:db/ident :person/name :db/valueType :db.type/string}
    {:db/ident :person/age :db/valueType :db.type/long}
    {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
]"#;

const PEOPLE: &str = r#"[
    {:db/id "ada" :person/email "ada@x" :person/name "Ada" :person/age 36 :person/friend ["bob" "cy"]}
    {:db/id "bob" :person/email "bob@x" :person/name "Bob" :person/age 41 :person/friend ["cy"]}
    {:db/id "cy" :person/email "cy@x" :person/name "Cy" :person/age 19}
]"#;

fn with_db(body: impl FnOnce(&DbSnapshot<'_>)) {
    let slab = Slab::anonymous().unwrap();
    let db = slab.database("db").unwrap();
    db.transact_edn(DATA, None).unwrap();
    db.transact_edn(PEOPLE, None).unwrap();
    let guard = slab.pin().unwrap();
    let snapshot = db.snapshot(&guard).unwrap();
    body(&snapshot);
}

fn s(text: &str) -> Data {
    Data::Value(Value::String(text.into()))
}

fn long(n: i64) -> Data {
    Data::Value(Value::Long(n))
}

#[test]
fn finds_relations_scalars_collections_and_tuples() {
    with_db(|db| {
        let names = q(db, "[:find ?n :where [?e :person/name ?n]]", &[]).unwrap();
        assert_eq!(
            names,
            QueryResult::Relation(vec![vec![s("Ada")], vec![s("Bob")], vec![s("Cy")]])
        );
        assert_eq!(names.to_edn(), r#"#{["Ada"] ["Bob"] ["Cy"]}"#);
        let age = q(
            db,
            r#"[:find ?a . :where [?e :person/email "bob@x"] [?e :person/age ?a]]"#,
            &[],
        )
        .unwrap();
        assert_eq!(age, QueryResult::Scalar(Some(long(41))));
        let friends_of_ada = q(
            db,
            r#"[:find [?fn ...] :where [?a :person/name "Ada"] [?a :person/friend ?f] [?f :person/name ?fn]]"#,
            &[],
        )
        .unwrap();
        assert_eq!(
            friends_of_ada,
            QueryResult::Collection(vec![s("Bob"), s("Cy")])
        );
        let tuple = q(
            db,
            r#"[:find [?n ?a] :where [?e :person/name ?n] [?e :person/age ?a] [(> ?a 40)]]"#,
            &[],
        )
        .unwrap();
        assert_eq!(tuple, QueryResult::Tuple(Some(vec![s("Bob"), long(41)])));
        let nothing = q(
            db,
            r#"[:find ?a . :where [?e :person/name "Zed"] [?e :person/age ?a]]"#,
            &[],
        )
        .unwrap();
        assert_eq!(nothing, QueryResult::Scalar(None));
        assert_eq!(nothing.to_edn(), "nil");
    });
}

#[test]
fn joins_predicates_inputs_and_clause_order() {
    with_db(|db| {
        // Who is a friend of someone older than them, in either clause order.
        let orders = [
            r#"[:find ?n ?fn :where [?p :person/friend ?f] [?p :person/age ?pa] [?f :person/age ?fa] [(< ?fa ?pa)] [?p :person/name ?n] [?f :person/name ?fn]]"#,
            r#"[:find ?n ?fn :where [(< ?fa ?pa)] [?f :person/name ?fn] [?p :person/name ?n] [?f :person/age ?fa] [?p :person/age ?pa] [?p :person/friend ?f]]"#,
        ];
        let expected =
            QueryResult::Relation(vec![vec![s("Ada"), s("Cy")], vec![s("Bob"), s("Cy")]]);
        for query in orders {
            assert_eq!(q(db, query, &[]).unwrap(), expected, "{query}");
        }
        // Inputs: a scalar and a collection; the map form of a query.
        let by_email = q(
            db,
            "{:find [?n] :in [$ ?email] :where [[?e :person/email ?email] [?e :person/name ?n]]}",
            &[Input::Scalar(Value::String("cy@x".into()))],
        )
        .unwrap();
        assert_eq!(by_email, QueryResult::Relation(vec![vec![s("Cy")]]));
        let several = q(
            db,
            "[:find [?a ...] :in $ [?n ...] :where [?e :person/name ?n] [?e :person/age ?a]]",
            &[Input::Collection(
                ["Ada", "Cy", "Nobody"]
                    .map(|n| Value::String(n.into()))
                    .to_vec(),
            )],
        )
        .unwrap();
        assert_eq!(several, QueryResult::Collection(vec![long(19), long(36)]));
        // A lookup ref and the attribute as a variable.
        let attrs = q(
            db,
            r#"[:find [?a ...] :where [[:person/email "cy@x"] ?a _]]"#,
            &[],
        )
        .unwrap();
        assert_eq!(
            attrs,
            QueryResult::Collection(vec![
                Data::Value(Value::Keyword("person/age".into())),
                Data::Value(Value::Keyword("person/email".into())),
                Data::Value(Value::Keyword("person/name".into())),
            ])
        );
        // A known entity and value with the attribute unknown: only the datoms with that value.
        let which = q(
            db,
            r#"[:find [?a ...] :where [?e :person/email "cy@x"] [?e ?a "Cy"]]"#,
            &[],
        )
        .unwrap();
        assert_eq!(
            which,
            QueryResult::Collection(vec![Data::Value(Value::Keyword("person/name".into()))])
        );
        // Reverse navigation through VAET: who lists Cy as a friend.
        let fans = q(
            db,
            r#"[:find [?n ...] :where [?c :person/name "Cy"] [?p :person/friend ?c] [?p :person/name ?n]]"#,
            &[],
        )
        .unwrap();
        assert_eq!(fans, QueryResult::Collection(vec![s("Ada"), s("Bob")]));
    });
}

#[test]
fn not_and_or() {
    with_db(|db| {
        // People with no friends listed.
        let lonely = q(
            db,
            "[:find [?n ...] :where [?e :person/name ?n] (not [?e :person/friend _])]",
            &[],
        )
        .unwrap();
        assert_eq!(lonely, QueryResult::Collection(vec![s("Cy")]));
        // People who are not friends with Bob (a not that joins on an outer variable).
        let not_bobs = q(
            db,
            r#"[:find [?n ...] :where [?b :person/name "Bob"] [?e :person/name ?n] (not [?e :person/friend ?b])]"#,
            &[],
        )
        .unwrap();
        assert_eq!(not_bobs, QueryResult::Collection(vec![s("Bob"), s("Cy")]));
        // Younger than 20 or older than 40, in either branch form.
        let ends = q(
            db,
            "[:find [?n ...] :where [?e :person/age ?a] [?e :person/name ?n] (or [(< ?a 20)] (and [(> ?a 40)] [(< ?a 100)]))]",
            &[],
        )
        .unwrap();
        assert_eq!(ends, QueryResult::Collection(vec![s("Bob"), s("Cy")]));
        // An or that binds a variable in each branch.
        let named = q(
            db,
            r#"[:find [?e ...] :where (or [?e :person/name "Ada"] [?e :person/email "cy@x"])]"#,
            &[],
        )
        .unwrap();
        let QueryResult::Collection(found) = named else {
            panic!()
        };
        assert_eq!(found.len(), 2);
        let error = q(
            db,
            "[:find ?n :where (or [?e :person/name ?n] [?e :person/age ?a])]",
            &[],
        )
        .unwrap_err();
        assert!(
            error.message().contains("same variables"),
            "{}",
            error.message()
        );
    });
}

#[test]
fn not_join_and_or_join() {
    with_db(|db| {
        // People nobody lists as a friend: only ?e is shared with the not-join.
        let unlisted = q(
            db,
            "[:find [?n ...] :where [?e :person/name ?n] (not-join [?e] [?x :person/friend ?e])]",
            &[],
        )
        .unwrap();
        assert_eq!(unlisted, QueryResult::Collection(vec![s("Ada")]));
        // People who are young or have a friend, sharing only ?e; ?x stays inside.
        let either = q(
            db,
            "[:find [?n ...] :where [?e :person/name ?n] (or-join [?e] (and [?e :person/age ?a] [(< ?a 20)]) [?e :person/friend ?x])]",
            &[],
        )
        .unwrap();
        assert_eq!(
            either,
            QueryResult::Collection(vec![s("Ada"), s("Bob"), s("Cy")])
        );
        // or-join binding its join variable when the query has not.
        let named = q(
            db,
            r#"[:find [?n ...] :where (or-join [?e] [?e :person/email "ada@x"] [?e :person/age 19]) [?e :person/name ?n]]"#,
            &[],
        )
        .unwrap();
        assert_eq!(named, QueryResult::Collection(vec![s("Ada"), s("Cy")]));
        let error = q(
            db,
            "[:find ?n :where [?e :person/name ?n] (or-join [?z] [?e :person/age _])]",
            &[],
        )
        .unwrap_err();
        assert!(
            error
                .message()
                .contains("does not bind the join variable ?z"),
            "{}",
            error.message()
        );
        assert!(q(
            db,
            "[:find ?n :where (not-join ?e [?e :person/name ?n])]",
            &[]
        )
        .is_err());
    });
}

#[test]
fn aggregates_with_and_keys() {
    with_db(|db| {
        let stats = q(
            db,
            "[:find (count ?e) (sum ?a) (min ?a) (max ?a) (avg ?a) (median ?a) :where [?e :person/age ?a]]",
            &[],
        )
        .unwrap();
        assert_eq!(
            stats,
            QueryResult::Relation(vec![vec![
                long(3),
                long(96),
                long(19),
                long(41),
                Data::Value(Value::Double(32.0)),
                long(36),
            ]])
        );
        // Friends per person (grouping by the plain variable).
        let per_person = q(
            db,
            "[:find ?n (count ?f) :where [?p :person/friend ?f] [?p :person/name ?n]]",
            &[],
        )
        .unwrap();
        assert_eq!(
            per_person,
            QueryResult::Relation(vec![vec![s("Ada"), long(2)], vec![s("Bob"), long(1)]])
        );
        // Without :with, equal ages of different people would merge; with it they count.
        db_with_twins(|db| {
            let merged = q(db, "[:find (count ?a) . :where [?e :person/age ?a]]", &[]).unwrap();
            assert_eq!(merged, QueryResult::Scalar(Some(long(1))));
            let counted = q(
                db,
                "[:find (count ?a) . :with ?e :where [?e :person/age ?a]]",
                &[],
            )
            .unwrap();
            assert_eq!(counted, QueryResult::Scalar(Some(long(2))));
            let distinct = q(
                db,
                "[:find (count-distinct ?a) . :with ?e :where [?e :person/age ?a]]",
                &[],
            )
            .unwrap();
            assert_eq!(distinct, QueryResult::Scalar(Some(long(1))));
        });
        // Return maps.
        let maps = q(db, r#"[:find ?n ?a :keys name age :where [?e :person/name ?n] [?e :person/age ?a] [(> ?a 40)]]"#, &[]).unwrap();
        assert_eq!(maps.to_edn(), r#"[{:name "Bob", :age 41}]"#);
        assert!(q(db, "[:find ?n :keys a b :where [?e :person/name ?n]]", &[]).is_err());
        let syms = q(
            db,
            r#"[:find ?n :syms name :where [?e :person/name "Cy"] [?e :person/name ?n]]"#,
            &[],
        )
        .unwrap();
        assert_eq!(syms.to_edn(), r#"[{name "Cy"}]"#);
        let strs = q(
            db,
            r#"[:find ?n :strs name :where [?e :person/name "Cy"] [?e :person/name ?n]]"#,
            &[],
        )
        .unwrap();
        assert_eq!(strs.to_edn(), r#"[{"name" "Cy"}]"#);
        assert!(q(
            db,
            "[:find ?n :keys a :strs b :where [?e :person/name ?n]]",
            &[]
        )
        .is_err());
        assert!(q(db, "[:find (sum ?n) :where [?e :person/name ?n]]", &[]).is_err());
        assert!(q(db, "[:find (frob ?n) :where [?e :person/name ?n]]", &[]).is_err());
    });
}

fn db_with_twins(body: impl FnOnce(&DbSnapshot<'_>)) {
    let slab = Slab::anonymous().unwrap();
    let db = slab.database("db").unwrap();
    db.transact_edn(DATA, None).unwrap();
    db.transact_edn(
        r#"[{:person/email "t1@x" :person/age 7} {:person/email "t2@x" :person/age 7}]"#,
        None,
    )
    .unwrap();
    let guard = slab.pin().unwrap();
    body(&db.snapshot(&guard).unwrap());
}

#[test]
fn functions_and_missing() {
    with_db(|db| {
        let next_year = q(db, r#"[:find ?n ?b :where [?e :person/name ?n] [?e :person/age ?a] [(+ ?a 1) ?b] [(> ?b 40)]]"#, &[]).unwrap();
        assert_eq!(
            next_year,
            QueryResult::Relation(vec![vec![s("Bob"), long(42)]])
        );
        let halves = q(
            db,
            "[:find [?h ...] :where [?e :person/age ?a] [(/ ?a 2) ?h]]",
            &[],
        )
        .unwrap();
        assert_eq!(
            halves,
            QueryResult::Collection(vec![
                Data::Value(Value::Double(9.5)),
                Data::Value(Value::Double(18.0)),
                Data::Value(Value::Double(20.5))
            ])
        );
        let labels = q(db, r#"[:find [?l ...] :where [?e :person/name ?n] [?e :person/age ?a] [(str ?n " is " ?a) ?l]]"#, &[]).unwrap();
        assert_eq!(
            labels,
            QueryResult::Collection(vec![s("Ada is 36"), s("Bob is 41"), s("Cy is 19")])
        );
        // A bound result variable filters instead of binding.
        let exact = q(db, "[:find [?n ...] :where [?e :person/age ?a] [?e :person/name ?n] [(* 2 ?a) ?twice] [(- ?twice ?a) ?a]]", &[]).unwrap();
        assert_eq!(
            exact,
            QueryResult::Collection(vec![s("Ada"), s("Bob"), s("Cy")])
        );
        let grounded = q(
            db,
            r#"[:find ?n . :where [(ground "Cy") ?n] [?e :person/name ?n]]"#,
            &[],
        )
        .unwrap();
        assert_eq!(grounded, QueryResult::Scalar(Some(s("Cy"))));
        // get-else and missing? on a cardinality-one attribute some entities lack.
        db_with_twins(|db| {
            let names = q(db, r#"[:find ?m ?n :where [?e :person/email ?m] [(get-else $ ?e :person/name "none") ?n]]"#, &[]).unwrap();
            assert_eq!(
                names,
                QueryResult::Relation(vec![vec![s("t1@x"), s("none")], vec![s("t2@x"), s("none")]])
            );
            let nameless = q(
                db,
                "[:find (count ?e) . :where [?e :person/email _] [(missing? $ ?e :person/name)]]",
                &[],
            )
            .unwrap();
            assert_eq!(nameless, QueryResult::Scalar(Some(long(2))));
        });
        assert!(q(
            db,
            "[:find ?x :where [?e :person/name ?n] [(+ ?n 1) ?x]]",
            &[]
        )
        .is_err());
        assert!(q(db, "[:find ?x :where [(frob 1) ?x]]", &[]).is_err());
        assert!(q(db, "[:find ?x :where [(+ ?y 1) ?x]]", &[])
            .unwrap_err()
            .message()
            .contains("not bound"));
    });
}

#[test]
fn recursive_rules_end_on_cycles() {
    let slab = Slab::anonymous().unwrap();
    let db = slab.database("db").unwrap();
    db.transact_edn(DATA, None).unwrap();
    db.transact_edn(PEOPLE, None).unwrap();
    // Close a cycle: Cy -> Ada -> Bob -> Cy.
    db.transact_edn(
        r#"[[:db/add [:person/email "cy@x"] :person/friend [:person/email "ada@x"]]]"#,
        None,
    )
    .unwrap();
    let guard = slab.pin().unwrap();
    let snapshot = db.snapshot(&guard).unwrap();
    let rules = r#"[[(reach ?a ?b) [?a :person/friend ?b]]
                    [(reach ?a ?b) [?a :person/friend ?x] (reach ?x ?b)]]"#;
    let reached = q_edn(
        &snapshot,
        View::Current,
        r#"[:find [?n ...] :in $ % :where [?a :person/name "Bob"] (reach ?a ?b) [?b :person/name ?n]]"#,
        Some(&format!("[{rules}]")),
    )
    .unwrap();
    assert_eq!(
        reached,
        QueryResult::Collection(vec![s("Ada"), s("Bob"), s("Cy")])
    );
    // Bound on the other side, and a constant argument.
    let reaching = q_edn(
        &snapshot,
        View::Current,
        r#"[:find (count ?a) . :in $ % :where [?c :person/email "cy@x"] (reach ?a ?c)]"#,
        Some(&format!("[{rules}]")),
    )
    .unwrap();
    assert_eq!(reaching, QueryResult::Scalar(Some(long(3))));
    let error = q_edn(
        &snapshot,
        View::Current,
        "[:find ?x :in $ % :where (nope ?x)]",
        Some(&format!("[{rules}]")),
    )
    .unwrap_err();
    assert!(
        error.message().contains("unknown rule nope"),
        "{}",
        error.message()
    );
    let unbound = q_edn(
        &snapshot,
        View::Current,
        "[:find ?x :in $ % :where (bad ?x)]",
        Some("[[[(bad ?y) [?z :person/name _]]]]"),
    )
    .unwrap_err();
    assert!(
        unbound.message().contains("not bound by the rule's body"),
        "{}",
        unbound.message()
    );
}

#[test]
fn pull_patterns() {
    with_db(|db| {
        let ada = pull_edn(
            db,
            "[:person/name {:person/friend [:person/name :person/age]}]",
            r#"[:person/email "ada@x"]"#,
        )
        .unwrap();
        assert_eq!(
            ada.to_edn(),
            r#"{:person/name "Ada", :person/friend [{:person/name "Bob", :person/age 41} {:person/name "Cy", :person/age 19}]}"#
        );
        // Reverse references, limits, defaults and aliases.
        let cy = pull_edn(
            db,
            r#"[[:person/name :as "n"] [:person/_friend :limit 1] [:person/friend :default "none"]]"#,
            r#"[:person/email "cy@x"]"#,
        )
        .unwrap();
        let text = cy.to_edn();
        assert!(
            text.starts_with(r#"{"n" "Cy", :person/_friend [{:db/id "#),
            "{text}"
        );
        assert!(text.ends_with(r#", :person/friend "none"}"#), "{text}");
        // Everything, with :db/id.
        let all = pull_edn(db, "[*]", r#"[:person/email "bob@x"]"#)
            .unwrap()
            .to_edn();
        assert!(
            all.starts_with("{:db/id ")
                && all.contains(r#":person/email "bob@x""#)
                && all.contains(":person/friend [{:db/id "),
            "{all}"
        );
        assert!(pull_edn(db, "[:person/shoe]", r#"[:person/email "bob@x"]"#).is_err());
        assert!(pull_edn(db, "{:a 1}", r#"[:person/email "bob@x"]"#).is_err());
        assert!(pull_edn(
            db,
            "[[:person/name :limit -1]]",
            r#"[:person/email "bob@x"]"#
        )
        .is_err());
    });
}

#[test]
fn inputs_as_edn() {
    with_db(|db| {
        let found = q_edn(
            db,
            View::Current,
            "[:find [?a ...] :in $ [?n ...] ?min :where [?e :person/name ?n] [?e :person/age ?a] [(>= ?a ?min)]]",
            Some(r#"[["Ada" "Bob" "Cy"] 20]"#),
        )
        .unwrap();
        assert_eq!(found.to_edn(), "[36 41]");
        assert!(q_edn(
            db,
            View::Current,
            "[:find ?n :in $ [?n ...] :where [?e :person/name ?n]]",
            Some("[1]")
        )
        .is_err());
        assert!(q_edn(
            db,
            View::Current,
            "[:find ?n :where [?e :person/name ?n]]",
            Some("[1]")
        )
        .is_err());
        // A tuple and a relation.
        let pair = q_edn(
            db,
            View::Current,
            "[:find ?e . :in $ [?n ?a] :where [?e :person/name ?n] [?e :person/age ?a]]",
            Some(r#"[["Bob" 41]]"#),
        )
        .unwrap();
        assert!(matches!(
            pair,
            QueryResult::Scalar(Some(Data::Value(Value::Ref(_))))
        ));
        let pairs = q_edn(
            db,
            View::Current,
            "[:find [?n ...] :in $ [[?n ?a]] :where [?e :person/name ?n] [?e :person/age ?a]]",
            Some(r#"[[["Bob" 41] ["Cy" 19] ["Ada" 99]]]"#),
        )
        .unwrap();
        assert_eq!(pairs, QueryResult::Collection(vec![s("Bob"), s("Cy")]));
        let wrong = q_edn(
            db,
            View::Current,
            "[:find ?n :in $ [?n ?a] :where [?e :person/name ?n]]",
            Some("[1]"),
        );
        assert!(wrong
            .unwrap_err()
            .message()
            .contains(":in [?n ?a] takes a vector"));
    });
}

#[test]
fn errors_name_the_clause() {
    with_db(|db| {
        let cases = [
            (
                "[:find ?n :where [?e :person/shoe ?n]]",
                "unknown attribute :person/shoe",
            ),
            (
                "[:find ?n :where [?e :person/name ?n] [(< ?x 3)]]",
                "variable ?x is not bound",
            ),
            ("[:find ?z :where [?e :person/name ?n]]", ":find ?z"),
            ("[:find ?n :where [?e :person/name ?n]", "malformed EDN"),
            ("[:find ?n :where [(frob ?n)]]", "unknown predicate"),
            (
                "[:find ?n :wher [?e :person/name ?n]]",
                "unknown query section :wher",
            ),
            (
                "[:find ?n :in $ ?x :where [?e :person/name ?n]]",
                ":in ?x has no input",
            ),
        ];
        for (query, expected) in cases {
            let error = q(db, query, &[]).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{query}");
            assert!(
                error.message().contains(expected),
                "{query}: {}",
                error.message()
            );
        }
    });
}

//! The Datalog conformance suite: queries with the answers written out by hand, one table
//! row per feature of the query issue, run against one small database (people, a follows
//! graph with a cycle, typed values) and, for the views, its history. Answers are compared
//! as EDN text, which is canonical: sets and relations are sorted, maps keep their order.

use eve::dao::View;
use eve::query::{pull_edn, q_edn, q_edn_with, q_view, Data, Input, QueryResult};
use eve::{ErrorKind, Slab};

const SCHEMA: &str = r#"[
  {:db/ident :person/email :db/valueType :db.type/string :db/unique :db.unique/identity}
  {:db/ident :person/name :db/valueType :db.type/string}
  {:db/ident :person/age :db/valueType :db.type/long}
  {:db/ident :person/salary :db/valueType :db.type/double}
  {:db/ident :person/member :db/valueType :db.type/boolean}
  {:db/ident :person/born :db/valueType :db.type/instant}
  {:db/ident :person/id :db/valueType :db.type/uuid}
  {:db/ident :person/role :db/valueType :db.type/keyword}
  {:db/ident :person/tag :db/valueType :db.type/string :db/cardinality :db.cardinality/many}
  {:db/ident :person/follows :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
  {:db/ident :person/manager :db/valueType :db.type/ref}
]"#;

// ada -> bob -> cy -> ada is a cycle; dee follows nobody and is followed by nobody.
const PEOPLE: &str = r#"[
  {:db/id "ada" :person/email "ada@x" :person/name "Ada" :person/age 36 :person/salary 120.5
   :person/member true :person/born #inst "1990-12-10T00:00:00Z" :person/role :role/lead
   :person/id #uuid "00000000-0000-0000-0000-00000000000a" :person/tag ["math" "code"]
   :person/follows ["bob"]}
  {:db/id "bob" :person/email "bob@x" :person/name "Bob" :person/age 41 :person/salary 99.0
   :person/member false :person/role :role/dev :person/tag ["code"] :person/follows ["cy"]
   :person/manager "ada"}
  {:db/id "cy" :person/email "cy@x" :person/name "Cy" :person/age 19 :person/role :role/dev
   :person/follows ["ada"] :person/manager "ada"}
  {:db/id "dee" :person/email "dee@x" :person/name "Dee" :person/age 41 :person/role :role/ops}
]"#;

/// (what it checks, query, inputs as an EDN vector, the expected answer as EDN)
const CASES: &[(&str, &str, &str, &str)] = &[
    // -- find specs ----------------------------------------------------------------------
    ("relation", "[:find ?n :where [_ :person/name ?n]]", "", r#"#{["Ada"] ["Bob"] ["Cy"] ["Dee"]}"#),
    ("scalar", r#"[:find ?a . :where [?e :person/email "cy@x"] [?e :person/age ?a]]"#, "", "19"),
    ("scalar with no match is nil", r#"[:find ?a . :where [?e :person/email "zed@x"] [?e :person/age ?a]]"#, "", "nil"),
    ("collection", "[:find [?a ...] :where [_ :person/age ?a]]", "", "[19 36 41]"),
    ("tuple", r#"[:find [?n ?a] :where [?e :person/email "bob@x"] [?e :person/name ?n] [?e :person/age ?a]]"#, "", r#"["Bob" 41]"#),
    ("tuple with no match is nil", r#"[:find [?n ?a] :where [?e :person/email "no@x"] [?e :person/name ?n] [?e :person/age ?a]]"#, "", "nil"),
    ("return maps with :keys", r#"[:find ?n ?a :keys name age :where [?e :person/name ?n] [?e :person/age ?a] [(> ?a 40)]]"#, "",
     r#"[{:name "Bob", :age 41} {:name "Dee", :age 41}]"#),
    ("return maps with :syms", r#"[:find ?n :syms name :where [?e :person/email "cy@x"] [?e :person/name ?n]]"#, "", r#"[{name "Cy"}]"#),
    ("return maps with :strs", r#"[:find ?n :strs name :where [?e :person/email "cy@x"] [?e :person/name ?n]]"#, "", r#"[{"name" "Cy"}]"#),
    ("the map form", r#"{:find [?n] :in [$ ?a] :where [[?e :person/age ?a] [?e :person/name ?n]]}"#, "[19]", r#"#{["Cy"]}"#),
    // -- typed values --------------------------------------------------------------------
    ("double, boolean, keyword, instant and uuid values",
     r#"[:find ?s ?m ?r ?b ?id :where [?e :person/email "ada@x"] [?e :person/salary ?s] [?e :person/member ?m] [?e :person/role ?r] [?e :person/born ?b] [?e :person/id ?id]]"#, "",
     r#"#{[120.5 true :role/lead #inst "1990-12-10T00:00:00.000Z" #uuid "00000000-0000-0000-0000-00000000000a"]}"#),
    ("keyword constants", "[:find [?n ...] :where [?e :person/role :role/dev] [?e :person/name ?n]]", "", r#"["Bob" "Cy"]"#),
    ("#inst and #uuid constants",
     r#"[:find [?n ...] :where [?e :person/born #inst "1990-12-10T00:00:00Z"] [?e :person/id #uuid "00000000-0000-0000-0000-00000000000a"] [?e :person/name ?n]]"#, "", r#"["Ada"]"#),
    // -- :in -----------------------------------------------------------------------------
    ("scalar input", "[:find [?n ...] :in $ ?a :where [?e :person/age ?a] [?e :person/name ?n]]", "[41]", r#"["Bob" "Dee"]"#),
    ("collection input", "[:find [?a ...] :in $ [?n ...] :where [?e :person/name ?n] [?e :person/age ?a]]", r#"[["Ada" "Cy" "Nobody"]]"#, "[19 36]"),
    ("tuple input", "[:find ?e . :in $ [?n ?a] :where [?e :person/name ?n] [?e :person/age ?a] [(missing? $ ?e :person/follows)]]", r#"[["Dee" 41]]"#, "DEE"),
    ("relation input", "[:find ?n ?label :in $ [[?a ?label]] :where [?e :person/age ?a] [?e :person/name ?n]]",
     r#"[[[19 "young"] [41 "older"]]]"#, r#"#{["Bob" "older"] ["Cy" "young"] ["Dee" "older"]}"#),
    ("#inst and #uuid inputs", "[:find [?n ...] :in $ ?b ?id :where [?e :person/born ?b] [?e :person/id ?id] [?e :person/name ?n]]",
     r#"[#inst "1990-12-10T00:00:00Z" #uuid "00000000-0000-0000-0000-00000000000a"]"#, r#"["Ada"]"#),
    ("a relation as a second source", "[:find ?n ?city :in $ $cities :where [?e :person/email ?m] [$cities ?m ?city] [?e :person/name ?n]]",
     r#"[[["ada@x" "London"] ["cy@x" "Lima"] ["zed@x" "Oslo"]]]"#, r#"#{["Ada" "London"] ["Cy" "Lima"]}"#),
    // -- patterns, joins, predicates and functions ----------------------------------------
    ("blanks and implicit joins", "[:find ?n ?fn :where [?e :person/follows ?f] [?f :person/name ?fn] [?e :person/name ?n]]", "",
     r#"#{["Ada" "Bob"] ["Bob" "Cy"] ["Cy" "Ada"]}"#),
    ("a variable attribute", r#"[:find [?a ...] :where [?e :person/email "cy@x"] [?e ?a 19]]"#, "", "[:person/age]"),
    ("a reference through an ident's lookup ref", r#"[:find [?n ...] :where [?e :person/manager [:person/email "ada@x"]] [?e :person/name ?n]]"#, "", r#"["Bob" "Cy"]"#),
    ("cardinality many", r#"[:find [?t ...] :where [?e :person/email "ada@x"] [?e :person/tag ?t]]"#, "", r#"["code" "math"]"#),
    ("comparisons", "[:find [?n ...] :where [?e :person/age ?a] [(>= ?a 36)] [(< ?a 41)] [(!= ?a 40)] [?e :person/name ?n]]", "", r#"["Ada"]"#),
    ("comparing two variables", "[:find ?n ?m :where [?e :person/follows ?f] [?e :person/age ?a] [?f :person/age ?b] [(> ?a ?b)] [?e :person/name ?n] [?f :person/name ?m]]", "",
     r#"#{["Bob" "Cy"]}"#),
    // One pattern and comparisons on its value: a scan of just that range of values.
    ("ranges of values, with the variable on either side", "[:find [?a ...] :where [_ :person/age ?a] [(< 30 ?a)] [(<= ?a 40)]]", "", "[36]"),
    ("an inclusive lower limit", "[:find [?a ...] :where [_ :person/age ?a] [(>= ?a 41)]]", "", "[41]"),
    ("an exclusive lower limit", "[:find [?a ...] :where [_ :person/age ?a] [(> ?a 36)]]", "", "[41]"),
    ("an inclusive upper limit", "[:find [?a ...] :where [_ :person/age ?a] [(<= ?a 19)]]", "", "[19]"),
    ("an exclusive upper limit", "[:find [?a ...] :where [_ :person/age ?a] [(< ?a 36)]]", "", "[19]"),
    ("limits from an input", "[:find [?a ...] :in $ ?min :where [_ :person/age ?a] [(> ?a ?min)]]", "[19]", "[36 41]"),
    ("limits on a value of a known entity", "[:find ?a . :in $ ?e :where [?e :person/age ?a] [(> ?a 30)]]", "[DEE]", "41"),
    ("limits on a range with nothing in it", "[:find [?a ...] :where [_ :person/age ?a] [(> ?a 36)] [(< ?a 41)]]", "", "[]"),
    ("arithmetic", r#"[:find ?x . :where [?e :person/email "cy@x"] [?e :person/age ?a] [(* ?a 2) ?y] [(+ ?y 1 -3) ?x]]"#, "", "36"),
    ("division gives a double", r#"[:find ?x . :where [?e :person/email "cy@x"] [?e :person/age ?a] [(/ ?a 2) ?x]]"#, "", "9.5"),
    ("str", r#"[:find ?s . :where [?e :person/email "cy@x"] [?e :person/name ?n] [?e :person/age ?a] [(str ?n "-" ?a) ?s]]"#, "", r#""Cy-19""#),
    ("get-else", "[:find ?n ?s :where [?e :person/name ?n] [(get-else $ ?e :person/salary 0.0) ?s]]", "",
     r#"#{["Ada" 120.5] ["Bob" 99.0] ["Cy" 0.0] ["Dee" 0.0]}"#),
    ("missing?", "[:find [?n ...] :where [?e :person/name ?n] [(missing? $ ?e :person/manager)]]", "", r#"["Ada" "Dee"]"#),
    ("ground", "[:find [?x ...] :where [(ground [1 2 3]) [?x ...]]]", "", "[1 2 3]"),
    ("tuple and untuple", r#"[:find [?t ?b] :where [?e :person/email "bob@x"] [?e :person/name ?n] [?e :person/age ?a] [(tuple ?n ?a) ?t] [(untuple ?t) [_ ?b]]]"#, "",
     "TUPLE"),
    ("a function result that must equal a bound variable", "[:find [?n ...] :where [?e :person/age ?a] [(+ 5 ?a) 41] [?e :person/name ?n]]", "", r#"["Ada"]"#),
    // -- negation and disjunction --------------------------------------------------------
    ("not", "[:find [?n ...] :where [?e :person/name ?n] (not [?e :person/role :role/dev])]", "", r#"["Ada" "Dee"]"#),
    ("not-join", "[:find [?n ...] :where [?e :person/name ?n] (not-join [?e] [?x :person/follows ?e])]", "", r#"["Dee"]"#),
    ("or", "[:find [?n ...] :where [?e :person/name ?n] (or [?e :person/role :role/lead] [?e :person/role :role/ops])]", "", r#"["Ada" "Dee"]"#),
    ("or with and", "[:find [?n ...] :where [?e :person/name ?n] (or (and [?e :person/role :role/dev] [?e :person/age 19]) [?e :person/role :role/ops])]", "", r#"["Cy" "Dee"]"#),
    ("or-join", "[:find [?n ...] :where [?e :person/name ?n] (or-join [?e] [?e :person/tag \"math\"] (and [?e :person/manager ?m] [?m :person/age 36] [?e :person/age 19]))]", "", r#"["Ada" "Cy"]"#),
    // -- rules ---------------------------------------------------------------------------
    ("recursive rules end on a cycle",
     r#"[:find [?n ...] :in $ % :where [?e :person/email "ada@x"] (reaches ?e ?x) [?x :person/name ?n]]"#,
     "[[[(reaches ?a ?b) [?a :person/follows ?b]] [(reaches ?a ?b) [?a :person/follows ?c] (reaches ?c ?b)]]]",
     r#"["Ada" "Bob" "Cy"]"#),
    ("a rule with alternatives",
     "[:find [?n ...] :in $ % :where (senior ?e) [?e :person/name ?n]]",
     "[[[(senior ?e) [?e :person/age ?a] [(> ?a 40)]] [(senior ?e) [?e :person/role :role/lead]]]]",
     r#"["Ada" "Bob" "Dee"]"#),
    // -- aggregates ----------------------------------------------------------------------
    ("count", "[:find (count ?e) . :where [?e :person/name]]", "", "4"),
    ("aggregate grouping", "[:find ?r (count ?e) :where [?e :person/role ?r]]", "", "#{[:role/dev 2] [:role/lead 1] [:role/ops 1]}"),
    ("count-distinct", "[:find (count-distinct ?a) . :where [_ :person/age ?a]]", "", "3"),
    ("sum, min, max", "[:find (sum ?a) (min ?a) (max ?a) :where [_ :person/age ?a]]", "", "#{[96 19 41]}"),
    ("sum without :with merges equal values", "[:find (sum ?a) . :where [_ :person/age ?a]]", "", "96"),
    ("sum with :with keeps them", "[:find (sum ?a) . :with ?e :where [?e :person/age ?a]]", "", "137"),
    ("avg and median", "[:find (avg ?a) (median ?a) :with ?e :where [?e :person/age ?a]]", "", "#{[34.25 38.5]}"),
    ("distinct", "[:find ?r (distinct ?a) :where [?e :person/role ?r] [?e :person/age ?a]]", "",
     "#{[:role/dev #{19 41}] [:role/lead #{36}] [:role/ops #{41}]}"),
    // -- pull in :find -------------------------------------------------------------------
    ("pull in :find", r#"[:find (pull ?e [:person/name {:person/manager [:person/name]}]) . :where [?e :person/email "cy@x"]]"#, "",
     r#"{:person/name "Cy", :person/manager {:person/name "Ada"}}"#),
    ("pull beside a variable", "[:find ?a (pull ?e [:person/name]) :where [?e :person/age ?a] [(< ?a 30)]]", "",
     r#"#{[19 {:person/name "Cy"}]}"#),
];

/// Loads the people, then changes them; returns the two `t`s and Dee's entity.
fn load(slab: &Slab) -> (u64, u64, u64) {
    let db = slab.database("people").unwrap();
    db.transact_edn(SCHEMA, None).unwrap();
    let people = db.transact_edn(PEOPLE, None).unwrap();
    let (t_people, dee) = (people.report.t, people.tempids["dee"]);
    // Later: Cy turns 20 and Dee leaves.
    let t_later = db
        .transact_edn(
            r#"[[:db/add [:person/email "cy@x"] :person/age 20]
                [:db/retractEntity [:person/email "dee@x"]]]"#,
            None,
        )
        .unwrap()
        .report
        .t;
    (t_people, t_later, dee)
}

#[test]
fn every_feature_gives_the_expected_answer() {
    let slab = Slab::anonymous().unwrap();
    let (t_people, _, dee) = load(&slab);
    let db = slab.database("people").unwrap();
    let guard = slab.pin().unwrap();
    let snapshot = db.snapshot(&guard).unwrap();
    let mut failures = Vec::new();
    for (what, query, inputs, expected) in CASES {
        // The cases run as of the people's transaction (Dee is retracted after it).
        let expected = expected
            .replace("DEE", &dee.to_string())
            .replace("TUPLE", r#"[["Bob" 41] 41]"#);
        let inputs = inputs.replace("DEE", &dee.to_string());
        let inputs = (!inputs.is_empty()).then_some(inputs.as_str());
        match q_edn(&snapshot, View::AsOf(t_people), query, inputs) {
            Ok(answer) if answer.to_edn() == expected => {}
            Ok(answer) => failures.push(format!(
                "{what}: {query}\n    expected {expected}\n    got      {}",
                answer.to_edn()
            )),
            Err(e) => failures.push(format!("{what}: {query}\n    failed: {e}")),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn views_show_the_database_at_other_times() {
    let slab = Slab::anonymous().unwrap();
    let (t_people, t_later, _) = load(&slab);
    let db = slab.database("people").unwrap();
    let guard = slab.pin().unwrap();
    let snapshot = db.snapshot(&guard).unwrap();
    let run = |view: View, query: &str| q_view(&snapshot, view, query, &[]).unwrap().to_edn();
    let ages = "[:find [?a ...] :where [_ :person/age ?a]]";
    assert_eq!(run(View::Current, ages), "[20 36 41]");
    assert_eq!(run(View::AsOf(t_people), ages), "[19 36 41]");
    assert_eq!(run(View::Since(t_people), ages), "[20]");
    // History: every assertion and retraction, with the transaction and whether it added.
    assert_eq!(
        run(
            View::History,
            r#"[:find ?a ?t ?added :where [?e :person/email "cy@x"] [?e :person/age ?a ?t ?added]]"#
        ),
        format!("#{{[19 {t_people} true] [19 {t_later} false] [20 {t_later} true]}}")
    );
    // Current: Dee is gone, names and all.
    assert_eq!(
        run(
            View::Current,
            "[:find (count ?e) . :where [?e :person/name]]"
        ),
        "3"
    );
}

#[test]
fn pull_as_its_own_call() {
    let slab = Slab::anonymous().unwrap();
    load(&slab);
    let db = slab.database("people").unwrap();
    let guard = slab.pin().unwrap();
    let snapshot = db.snapshot(&guard).unwrap();
    let pull = |pattern: &str, entity: &str| pull_edn(&snapshot, pattern, entity).unwrap().to_edn();
    assert_eq!(
        pull(
            "[:person/name {:person/follows [:person/name {:person/follows [:person/name]}]}]",
            r#"[:person/email "ada@x"]"#
        ),
        r#"{:person/name "Ada", :person/follows [{:person/name "Bob", :person/follows [{:person/name "Cy"}]}]}"#
    );
    // Reverse references, limits, defaults and aliases.
    assert_eq!(
        pull(
            r#"[[:person/name :as "who"] {[:person/_manager :limit 1] [:person/name]} [:person/salary :default 0.0] [:person/tag :as :tags]]"#,
            r#"[:person/email "ada@x"]"#
        ),
        r#"{"who" "Ada", :person/_manager [{:person/name "Bob"}], :person/salary 120.5, :tags ["code" "math"]}"#
    );
    assert_eq!(
        pull(
            "[:person/name [:person/salary :default 0.0]]",
            r#"[:person/email "cy@x"]"#
        ),
        r#"{:person/name "Cy", :person/salary 0.0}"#
    );
    // Everything, references as {:db/id n}.
    let bob = pull("[*]", r#"[:person/email "bob@x"]"#);
    assert!(bob.starts_with("{:db/id "), "{bob}");
    for part in [
        r#":person/email "bob@x""#,
        ":person/age 41",
        ":person/member false",
        ":person/role :role/dev",
        r#":person/tag ["code"]"#,
        ":person/follows [{:db/id ",
        ":person/manager {:db/id ",
    ] {
        assert!(bob.contains(part), "{part} in {bob}");
    }
    // A missing entity gives only its :db/id.
    assert_eq!(pull("[*]", "999999"), "{:db/id 999999}");
    assert_eq!(pull("[:db/id :person/name]", "999999"), "{:db/id 999999}");
}

#[test]
fn several_databases_and_relations_as_sources() {
    let slab = Slab::anonymous().unwrap();
    load(&slab);
    let other = slab.database("payroll").unwrap();
    other
        .transact_edn(
            r#"[{:db/ident :pay/email :db/valueType :db.type/string}
                {:db/ident :pay/amount :db/valueType :db.type/long}]"#,
            None,
        )
        .unwrap();
    other
        .transact_edn(
            r#"[{:pay/email "ada@x" :pay/amount 10} {:pay/email "bob@x" :pay/amount 7}]"#,
            None,
        )
        .unwrap();
    let db = slab.database("people").unwrap();
    let guard = slab.pin().unwrap();
    let people = db.snapshot(&guard).unwrap();
    let payroll = other.snapshot(&guard).unwrap();
    let query = "[:find ?n ?amount :in $ $pay :where [?e :person/email ?m] [$pay ?p :pay/email ?m] [$pay ?p :pay/amount ?amount] [?e :person/name ?n]]";
    let answer = eve::query::q(&people, query, &[Input::Database(payroll)]).unwrap();
    assert_eq!(answer.to_edn(), r#"#{["Ada" 10] ["Bob" 7]}"#);
    // The same through EDN inputs, as C, Java and Node give them.
    let answer = q_edn_with(
        &people,
        View::Current,
        query,
        Some("[#eve/db 9]"),
        &|root| {
            assert_eq!(root, 9);
            Ok(payroll)
        },
    )
    .unwrap();
    assert_eq!(answer.to_edn(), r#"#{["Ada" 10] ["Bob" 7]}"#);
    // Pulls from the database the entity came from.
    let pulled = eve::query::q(
        &people,
        r#"[:find (pull $pay ?p [:pay/amount]) . :in $ $pay :where [$pay ?p :pay/email "bob@x"]]"#,
        &[Input::Database(payroll)],
    )
    .unwrap();
    assert_eq!(pulled.to_edn(), "{:pay/amount 7}");
    // An unknown source is an error naming the clause.
    let error =
        eve::query::q(&people, "[:find ?x :where [$nope ?x :pay/email _]]", &[]).unwrap_err();
    assert!(
        error.message().contains("[$nope ?x :pay/email _]"),
        "{}",
        error.message()
    );
}

#[test]
fn clause_order_does_not_change_answers() {
    let slab = Slab::anonymous().unwrap();
    load(&slab);
    let db = slab.database("people").unwrap();
    let guard = slab.pin().unwrap();
    let snapshot = db.snapshot(&guard).unwrap();
    let clauses = [
        "[?e :person/follows ?f]",
        "[?f :person/age ?fa]",
        "[?e :person/age ?ea]",
        "[(< ?fa ?ea)]",
        "[?e :person/name ?n]",
        "(not [?e :person/role :role/ops])",
    ];
    let mut answers = std::collections::BTreeSet::new();
    // Every rotation and its reverse.
    for start in 0..clauses.len() {
        let mut order: Vec<&str> = clauses[start..]
            .iter()
            .chain(&clauses[..start])
            .copied()
            .collect();
        for _ in 0..2 {
            let query = format!("[:find ?n ?f :where {}]", order.join(" "));
            answers.insert(eve::query::q(&snapshot, &query, &[]).unwrap().to_edn());
            order.reverse();
        }
    }
    assert_eq!(answers.len(), 1, "{answers:?}");
}

#[test]
fn errors_name_the_clause_and_the_position() {
    let slab = Slab::anonymous().unwrap();
    load(&slab);
    let db = slab.database("people").unwrap();
    let guard = slab.pin().unwrap();
    let snapshot = db.snapshot(&guard).unwrap();
    let cases = [
        (
            "[:find ?n :where [?e :person/shoe ?n]]",
            "unknown attribute :person/shoe",
        ),
        (
            "[:find ?n :where [?e :person/name ?n] [(< ?x 3)]]",
            "[(< ?x 3)]",
        ),
        (
            "[:find ?n :where [?e :person/name ?n] [(< ?x 3)]]",
            "?x is not bound",
        ),
        (
            "[:find ?n\n :where [?e :person/name ?n]\n [?e :person/age \"x]",
            "line",
        ),
        ("[:find ?n :where [?e :person/name ?n]", "malformed EDN"),
        ("[:find ?n :where [(frob ?n) ?m]]", "unknown function frob"),
        ("[:find ?n :where (reaches ?n ?m)]", "unknown rule reaches"),
        (
            "[:find (pull ?e) :where [?e :person/name]]",
            "(pull ?e [pattern])",
        ),
        (
            "[:find ?n :where [?e :person/name ?n] [(tuple ?n) [?a ?b]]]",
            "is not a tuple of 2 items",
        ),
    ];
    for (query, expected) in cases {
        let error = eve::query::q(&snapshot, query, &[]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{query}");
        assert!(
            error.message().contains(expected),
            "{query}: {}",
            error.message()
        );
    }
}

#[test]
fn answers_are_data() {
    let slab = Slab::anonymous().unwrap();
    load(&slab);
    let db = slab.database("people").unwrap();
    let guard = slab.pin().unwrap();
    let snapshot = db.snapshot(&guard).unwrap();
    let answer = eve::query::q(
        &snapshot,
        "[:find ?n ?a :keys name age :where [?e :person/name ?n] [?e :person/age ?a] [(< ?a 30)]]",
        &[],
    )
    .unwrap();
    assert_eq!(
        answer.column_names(),
        Some(vec!["name".to_string(), "age".to_string()])
    );
    let QueryResult::Maps(_, _, rows) = &answer else {
        panic!("{answer:?}")
    };
    assert_eq!(rows.len(), 1);
    let data = answer.to_data();
    let Data::Vector(maps) = &data else {
        panic!("{data:?}")
    };
    assert_eq!(
        maps[0].get(&Data::keyword("name")),
        Some(&Data::Value(eve::dao::Value::String("Cy".into())))
    );
    // No rows: the names are still known.
    let empty = eve::query::q(
        &snapshot,
        "[:find ?n :keys name :where [?e :person/name ?n] [(> 1 2)]]",
        &[],
    )
    .unwrap();
    assert_eq!(empty.column_names(), Some(vec!["name".to_string()]));
    assert_eq!(empty.to_edn(), "[]");
}

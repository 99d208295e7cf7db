use super::*;
use crate::Slab;
use std::time::Duration;

fn yin_on(slab: &Slab) -> Yin<'_> {
    Yin::open(slab, "yin").unwrap()
}

/// Runs `source` on both projections and checks they agree.
fn both(source: &str) -> Value {
    let slab = Slab::anonymous().unwrap();
    let yin = yin_on(&slab);
    let program = yin.compile(source).unwrap();
    let mut results = Vec::new();
    for projection in [Projection::Walker, Projection::Stack] {
        match yin.run(program, projection) {
            Ok(Run {
                outcome: RunOutcome::Done(v),
                ..
            }) => results.push(v),
            other => panic!("{source} on {projection:?}: {other:?}"),
        }
    }
    assert_eq!(results[0], results[1], "{source}: the projections disagree");
    results.pop().unwrap()
}

fn edn(source: &str) -> String {
    both(source).to_edn()
}

/// The error message of `source` on each projection (they must both fail).
fn fails(source: &str) -> String {
    let slab = Slab::anonymous().unwrap();
    let yin = yin_on(&slab);
    let program = match yin.compile(source) {
        Err(e) => return e.to_string(),
        Ok(p) => p,
    };
    let mut messages = Vec::new();
    for projection in [Projection::Walker, Projection::Stack] {
        let e = yin.run(program, projection).expect_err(source);
        let info = yin.agent(yin.agents().unwrap().last().unwrap().0).unwrap();
        assert_eq!(info.state, AgentState::Failed);
        messages.push(e.to_string());
    }
    assert_eq!(messages[0], messages[1]);
    messages.pop().unwrap()
}

#[test]
fn acceptance_programs() {
    assert_eq!(both("(+ 2 3)"), Value::Int(5));
    assert_eq!(both("(if (< 10 5) 1 20)"), Value::Int(20));
    assert_eq!(both("((fn [x] (* x x)) 7)"), Value::Int(49));
    assert_eq!(both("(((fn [x] (fn [y] (+ x y))) 10) 5)"), Value::Int(15));
    assert_eq!(
        both("(defn fact [n] (if (< n 2) 1 (* n (fact (- n 1))))) (fact 5)"),
        Value::Int(120)
    );
}

#[test]
fn the_language() {
    assert_eq!(edn("(let [x 2 y (* x 10)] (+ x y))"), "22");
    assert_eq!(edn("(do 1 2 3)"), "3");
    assert_eq!(edn("(do)"), "nil");
    assert_eq!(edn("(def x 4) (def y (+ x 1)) (* x y)"), "20");
    assert_eq!(edn("(and 1 2 3)"), "3");
    assert_eq!(edn("(and 1 nil 3)"), "nil");
    assert_eq!(edn("(and)"), "true");
    assert_eq!(edn("(or nil false 7)"), "7");
    assert_eq!(edn("(or nil false)"), "false");
    assert_eq!(edn("(or)"), "false");
    assert_eq!(edn("'(a b 1)"), "[a b 1]");
    assert_eq!(edn("(quote {:a [x]})"), "{:a [x]}");
    assert_eq!(edn("((fn [a & more] [a more]) 1 2 3)"), "[1 [2 3]]");
    assert_eq!(edn("((fn [& more] (count more)))"), "0");
    assert_eq!(edn("(if nil 1)"), "nil");
    assert_eq!(edn("(if false 1 2)"), "2");
    assert_eq!(edn("(if 0 1 2)"), "1");
    assert_eq!(edn("[1 (+ 1 1) {:k (str \"a\" 1)}]"), "[1 2 {:k \"a1\"}]");
    // A local shadows a global and a built-in of the same name.
    assert_eq!(edn("(def x 1) ((fn [x] x) 2)"), "2");
    assert_eq!(edn("((fn [+] (+ 1 2)) -)"), "-1");
    // Globals may be used before the form that defines them runs, inside functions.
    assert_eq!(edn("(defn f [] (g)) (defn g [] 42) (f)"), "42");
    // Mutual recursion.
    assert_eq!(
        edn("(defn ev? [n] (if (= n 0) true (od? (- n 1)))) (defn od? [n] (if (= n 0) false (ev? (- n 1)))) [(ev? 10) (od? 7)]"),
        "[true true]"
    );
    // The store.
    assert_eq!(edn("(store-put :k 5) (+ 1 (store-get :k))"), "6");
    assert_eq!(edn("(store-get :missing)"), "nil");
}

#[test]
fn closures_capture_their_environment() {
    assert_eq!(
        edn("(defn adder [n] (fn [x] (+ x n))) (let [a (adder 1) b (adder 100)] [(a 1) (b 1) (a 5)])"),
        "[2 101 6]"
    );
    assert_eq!(
        edn("(defn compose [f g] (fn [x] (f (g x)))) ((compose inc (fn [x] (* x 2))) 5)"),
        "11"
    );
    // A closure outlives the call that made it, and keeps the values it saw.
    assert_eq!(edn("(let [x 1 f (fn [] x) x 2] [(f) x])"), "[1 2]");
}

#[test]
fn built_ins() {
    assert_eq!(edn("(+)"), "0");
    assert_eq!(edn("(+ 1 2 3 4)"), "10");
    assert_eq!(edn("(- 5)"), "-5");
    assert_eq!(edn("(- 10 1 2)"), "7");
    assert_eq!(edn("(* 2 3.5)"), "7.0");
    assert_eq!(edn("(/ 10 4)"), "2.5");
    assert_eq!(edn("(/ 12 4)"), "3");
    assert_eq!(edn("(mod -7 3)"), "2");
    assert_eq!(
        edn("[(< 1 2 3) (< 1 3 2) (<= 2 2) (> 3 2 1) (>= 1 2) (== 1 1.0) (= 1 1.0)]"),
        "[true false true true false true false]"
    );
    assert_eq!(
        edn("[(= [1 2] [1 2]) (= {:a 1} {:a 1}) (not= 1 2) (not nil)]"),
        "[true true true true]"
    );
    assert_eq!(edn("(get {:a 1} :a)"), "1");
    assert_eq!(edn("(get {:a 1} :b 9)"), "9");
    assert_eq!(edn("(get [5 6] 1)"), "6");
    assert_eq!(edn("(assoc {:a 1} :b 2)"), "{:a 1, :b 2}");
    assert_eq!(edn("(assoc [1 2] 0 9)"), "[9 2]");
    assert_eq!(edn("(count [1 2 3])"), "3");
    assert_eq!(edn("(count {:a 1})"), "1");
    assert_eq!(edn("(count nil)"), "0");
    assert_eq!(edn("(first [7 8])"), "7");
    assert_eq!(edn("(first [])"), "nil");
    assert_eq!(edn("(rest [7 8 9])"), "[8 9]");
    assert_eq!(edn("(cons 1 [2 3])"), "[1 2 3]");
    assert_eq!(edn("(conj [1] 2 3)"), "[1 2 3]");
    assert_eq!(edn("(str \"a\" :b 1 nil \"c\")"), "\"a:b1c\"");
    assert_eq!(edn("(hash-map :a 1 :b 2)"), "{:a 1, :b 2}");
    assert_eq!(edn("(nth [1 2 3] 2)"), "3");
    assert_eq!(
        edn("[(empty? []) (nil? nil) (zero? 0) (inc 1) (dec 1)]"),
        "[true true true 2 0]"
    );
}

#[test]
fn errors_say_what_and_where() {
    let e = fails("(+ 1\n   (foo 2))");
    assert!(
        e.contains("line 2, column 5") && e.contains("unbound symbol foo"),
        "{e}"
    );
    let e = fails("(+ 1 2");
    assert!(
        e.contains("line 1, column 1") && e.contains("never closed"),
        "{e}"
    );
    let e = fails("(fn x)");
    assert!(e.contains("parameter vector"), "{e}");
    let e = fails("(let [x] x)");
    assert!(e.contains("pairs"), "{e}");
    let e = fails("\"abc");
    assert!(e.contains("never closed"), "{e}");
    let e = fails("(+ 1 :a)");
    assert!(e.contains("not a number"), "{e}");
    let e = fails("(1 2)");
    assert!(e.contains("not a function"), "{e}");
    let e = fails("((fn [x] x))");
    assert!(e.contains("called with 0 arguments"), "{e}");
    let e = fails("(/ 1 0)");
    assert!(e.contains("division by zero"), "{e}");
    let e = fails("(+ 9223372036854775807 1)");
    assert!(e.contains("overflow"), "{e}");
    let e = fails("(if)");
    assert!(e.contains("2 or 3"), "{e}");
    let e = fails("#{1}");
    assert!(e.contains("not part of the language"), "{e}");
}

#[test]
fn ast_round_trips_through_datoms() {
    let slab = Slab::anonymous().unwrap();
    let yin = yin_on(&slab);
    for source in [
        "(+ 2 3)",
        "(defn fact [n] (if (< n 2) 1 (* n (fact (- n 1))))) (fact 5)",
        "((fn [a & more] [a more]) 1 2 3)",
        "(let [s (stream/make) c (stream/cursor s)] (stream/put s 1) (stream/close s) (stream/next c))",
        "((fn [x] (+ x (park))) 10)",
        "(store-put :k (quote (a \"b\" 1.5 nil true)))",
        "(vector 1 2 3 4 5 6 7 8 9 10 11 12)",
    ] {
        let ast = compile(source).unwrap();
        let program = yin.store(&ast, None).unwrap();
        assert_eq!(yin.load(program).unwrap(), ast, "{source}");
    }
    // Operand order is written down: shuffled entity ids still give the same order.
    let ast = compile("(- 100 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)").unwrap();
    let program = yin.store(&ast, None).unwrap();
    assert_eq!(yin.load(program).unwrap(), ast);
    assert_eq!(
        yin.run(program, Projection::Walker)
            .unwrap()
            .outcome_value(),
        Some(Value::Int(100 - 120))
    );
}

#[test]
fn tail_calls_run_in_constant_depth() {
    let slab = Slab::anonymous().unwrap();
    let yin = yin_on(&slab);
    let countdown = |n: u64| {
        format!("(defn countdown [n] (if (= n 0) :done (countdown (- n 1)))) (countdown {n})")
    };
    for projection in [Projection::Walker, Projection::Stack] {
        let small = yin.compile(&countdown(10)).unwrap();
        let big = yin.compile(&countdown(100_000)).unwrap();
        let a = yin.run(small, projection).unwrap();
        let b = yin.run(big, projection).unwrap();
        assert_eq!(b.outcome_value(), Some(Value::keyword("done")));
        assert!(b.stats.steps > 100 * a.stats.steps);
        assert_eq!(
            a.stats.max_depth, b.stats.max_depth,
            "{projection:?}: the continuation grew with the loop"
        );
        // A loop that is not a tail call does grow it: the measure can fail.
        let deep = yin
            .compile("(defn sum [n] (if (= n 0) 0 (+ n (sum (- n 1))))) (sum 1000)")
            .unwrap();
        let d = yin.run(deep, projection).unwrap();
        assert_eq!(d.outcome_value(), Some(Value::Int(500_500)));
        assert!(
            d.stats.max_depth >= 1000,
            "{projection:?}: {}",
            d.stats.max_depth
        );
    }
}

#[test]
fn park_and_resume() {
    let slab = Slab::anonymous().unwrap();
    let yin = yin_on(&slab);
    let program = yin.compile("((fn [x] (+ x (park))) 10)").unwrap();
    for projection in [Projection::Walker, Projection::Stack] {
        let run = yin.run(program, projection).unwrap();
        let RunOutcome::Parked { agent, wait } = run.outcome else {
            panic!("{:?}", run.outcome)
        };
        assert_eq!(wait, Wait::Resume);
        assert_eq!(yin.agent(agent).unwrap().state, AgentState::Parked);
        let resumed = yin.resume(agent, Value::Int(5)).unwrap();
        assert_eq!(resumed.outcome_value(), Some(Value::Int(15)));
        let info = yin.agent(agent).unwrap();
        assert_eq!(
            (info.state, info.result),
            (AgentState::Done, Some(Value::Int(15)))
        );
        // Resumed once only.
        let again = yin.resume(agent, Value::Int(5)).unwrap_err();
        assert!(again.to_string().contains("not parked"), "{again}");
    }
    // Several parks in one agent, with a closure and the store carried across.
    let program = yin
        .compile("(def base 100) (let [f (fn [y] (+ base y)) a (park) b (park)] (f (* a b)))")
        .unwrap();
    for projection in [Projection::Walker, Projection::Stack] {
        let RunOutcome::Parked { agent, .. } = yin.run(program, projection).unwrap().outcome else {
            panic!()
        };
        let second = yin.resume(agent, Value::Int(6)).unwrap();
        assert!(matches!(second.outcome, RunOutcome::Parked { agent: a, .. } if a == agent));
        let done = yin.resume(agent, Value::Int(7)).unwrap();
        assert_eq!(done.outcome_value(), Some(Value::Int(142)));
    }
}

#[test]
fn a_parked_agent_is_resumed_by_another_thread() {
    let slab = Slab::anonymous().unwrap();
    let yin = yin_on(&slab);
    let program = yin
        .compile("(defn f [x] (* 2 (park))) (+ 1 (f 0))")
        .unwrap();
    let RunOutcome::Parked { agent, .. } = yin.run(program, Projection::Stack).unwrap().outcome
    else {
        panic!()
    };
    let value = std::thread::scope(|s| {
        s.spawn(|| {
            let there = yin_on(&slab);
            there.resume(agent, Value::Int(20)).unwrap().outcome_value()
        })
        .join()
        .unwrap()
    });
    assert_eq!(value, Some(Value::Int(41)));
}

/// Two threads take turns resuming one agent, each deciding whose turn it is from the
/// agent's state and run count alone. That only works if `agent` reads both from one
/// version of the table: a claim between two reads pairs "parked" with the claimer's count,
/// and the other thread resumes an agent that is running.
#[test]
fn agent_info_is_one_consistent_reading() {
    let slab = Slab::anonymous().unwrap();
    let yin = yin_on(&slab);
    let program = yin
        .compile("(defn pong [x] (pong (park))) (pong 0)")
        .unwrap();
    let RunOutcome::Parked { agent, .. } = yin.run(program, Projection::Stack).unwrap().outcome
    else {
        panic!()
    };
    const TURNS: u64 = 2_000;
    // A thread whose resume fails stops the other, which would wait for its turn forever.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let take_turns = |parity: u64| -> crate::Result<()> {
        let yin = yin_on(&slab);
        for _ in 0..TURNS {
            loop {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    return Ok(());
                }
                let info = yin.agent(agent)?;
                if info.state == AgentState::Parked && info.runs % 2 == parity {
                    break;
                }
                std::hint::spin_loop();
            }
            if let Err(e) = yin.resume(agent, Value::Int(1)) {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                return Err(e);
            }
        }
        Ok(())
    };
    let (even, odd) = std::thread::scope(|s| {
        let even = s.spawn(|| take_turns(0));
        let odd = s.spawn(|| take_turns(1));
        (even.join().unwrap(), odd.join().unwrap())
    });
    even.unwrap();
    odd.unwrap();
    assert_eq!(yin.agent(agent).unwrap().runs, 2 * TURNS + 1);
}
#[test]
fn streams_deliver_in_order_and_park_readers() {
    let slab = Slab::anonymous().unwrap();
    let yin = yin_on(&slab);
    // Values put before reading arrive in order; a closed, drained stream gives nil.
    assert_eq!(
        edn_on(&yin, "(let [s (stream/make) c (stream/cursor s)] (stream/put s 1) (stream/put s 2) (stream/close s) [(stream/next c) (stream/next c) (stream/next c)])"),
        "[1 2 nil]"
    );
    for projection in [Projection::Walker, Projection::Stack] {
        // The reader is handed its stream by resuming it, then parks on the empty stream.
        let reader = yin
            .compile("(let [s (park) c (stream/cursor s)] (+ (stream/next c) (stream/next c)))")
            .unwrap();
        let RunOutcome::Parked { agent, .. } = yin.run(reader, projection).unwrap().outcome else {
            panic!()
        };
        let stream = yin.stream_make().unwrap();
        let run = yin.resume(agent, Value::Stream(stream)).unwrap();
        assert!(matches!(
            run.outcome,
            RunOutcome::Parked {
                wait: Wait::Stream { .. },
                ..
            }
        ));
        yin.put(stream, &Value::Int(30)).unwrap();
        // The reader was woken into the run queue; a worker runs it to its next wait.
        let report = yin.work(Duration::ZERO, None).unwrap();
        assert_eq!(report.taken, 1);
        assert_eq!(
            yin.agent(agent).unwrap().state,
            AgentState::Parked,
            "it waits for the second value"
        );
        yin.put(stream, &Value::Int(12)).unwrap();
        yin.work(Duration::ZERO, None).unwrap();
        assert_eq!(yin.agent(agent).unwrap().result, Some(Value::Int(42)));
        // Closing wakes a parked reader with nil.
        let RunOutcome::Parked { agent, .. } = yin.run(reader, projection).unwrap().outcome else {
            panic!()
        };
        let stream = yin.stream_make().unwrap();
        yin.put(stream, &Value::Int(1)).unwrap();
        yin.resume(agent, Value::Stream(stream)).unwrap();
        yin.close(stream).unwrap();
        yin.work(Duration::ZERO, None).unwrap();
        let info = yin.agent(agent).unwrap();
        assert_eq!(info.state, AgentState::Failed, "(+ 1 nil) fails");
        assert!(info.error.unwrap().contains("not a number"));
    }
    // A host reads a stream too.
    let stream = yin.stream_make().unwrap();
    let cursor = yin.cursor(stream).unwrap();
    assert_eq!(yin.next(cursor).unwrap(), None);
    yin.put(stream, &Value::str("x")).unwrap();
    assert_eq!(yin.next(cursor).unwrap(), Some(Value::str("x")));
    yin.close(stream).unwrap();
    assert!(yin.put(stream, &Value::Nil).is_err());
}

fn edn_on(yin: &Yin<'_>, source: &str) -> String {
    let program = yin.compile(source).unwrap();
    yin.run(program, Projection::Stack)
        .unwrap()
        .outcome_value()
        .unwrap()
        .to_edn()
}

#[test]
fn workers_take_each_agent_once() {
    let slab = Slab::anonymous().unwrap();
    let yin = yin_on(&slab);
    let program = yin
        .compile("(defn fib [n] (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))) (fib 10)")
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..400 {
        let projection = if i % 2 == 0 {
            Projection::Stack
        } else {
            Projection::Walker
        };
        ids.push(yin.spawn(program, projection).unwrap());
    }
    let reports: Vec<WorkReport> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    yin_on(&slab)
                        .work(Duration::from_millis(100), None)
                        .unwrap()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let taken: u64 = reports.iter().map(|r| r.taken).sum();
    let finished: u64 = reports.iter().map(|r| r.finished).sum();
    assert_eq!((taken, finished), (400, 400), "{reports:?}");
    for id in ids {
        let info = yin.agent(id).unwrap();
        assert_eq!(
            (info.state, info.result),
            (AgentState::Done, Some(Value::Int(55)))
        );
    }
    assert_eq!(yin.queued().unwrap(), 0);
}

#[test]
fn resume_from_inside_a_program() {
    let slab = Slab::anonymous().unwrap();
    let yin = yin_on(&slab);
    let sleeper = yin.compile("(* 3 (park))").unwrap();
    let RunOutcome::Parked { agent, .. } = yin.run(sleeper, Projection::Walker).unwrap().outcome
    else {
        panic!()
    };
    let waker = yin.compile(&format!("(resume {agent} 14)")).unwrap();
    assert_eq!(
        yin.run(waker, Projection::Stack).unwrap().outcome_value(),
        Some(Value::Nil)
    );
    assert_eq!(yin.queued().unwrap(), 1);
    yin.work(Duration::ZERO, None).unwrap();
    assert_eq!(yin.agent(agent).unwrap().result, Some(Value::Int(42)));
}

#[test]
fn values_read_from_edn() {
    for text in [
        "nil",
        "true",
        "-3",
        "2.5",
        "\"a\\nb\"",
        ":k/w",
        "sym",
        "[1 [2] {:a 1}]",
        "{}",
    ] {
        assert_eq!(Value::from_edn(text).unwrap().to_edn(), text);
    }
    assert_eq!(Value::from_edn("(1 2)").unwrap().to_edn(), "[1 2]");
    assert!(Value::from_edn("1 2").is_err());
    assert!(Value::from_edn("[1").is_err());
}

// The execution trace.

const FACT: &str = "(defn fact [n] (if (< n 2) 1 (* n (fact (- n 1))))) (fact 5)";

/// Runs `query` on the trace database of `yin`, with the program database as `$prog` when
/// the query names it, then the agent as the next input.
fn trace_q(slab: &Slab, yin: &Yin<'_>, query: &str, agent: u64) -> String {
    use crate::dao::Value as D;
    use crate::query::Input;
    let guard = slab.pin().unwrap();
    let trace = slab.database(&yin.trace_name()).unwrap();
    let snapshot = trace.snapshot(&guard).unwrap();
    let mut inputs = Vec::new();
    if query.contains("$prog") {
        inputs.push(Input::Database(yin.database().snapshot(&guard).unwrap()));
    }
    inputs.push(Input::Scalar(D::Long(agent as i64)));
    crate::query::q(&snapshot, query, &inputs)
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .to_edn()
}

/// How many times the lambda whose parameter list is `n` (`fact`) was applied.
const CALLS_OF_FACT: &str = "[:find (count ?s) . :in $ $prog ?a :where [?s :trace/agent ?a] \
     [?s :trace/kind :call] [?s :trace/node ?n] [$prog ?n :yin/params \"n\"]]";
/// Which lambda nodes were applied, and how many times.
const CALLS_PER_LAMBDA: &str = "[:find ?n (count ?s) :in $ $prog ?a :where [?s :trace/agent ?a] \
     [?s :trace/kind :call] [?s :trace/node ?n] [$prog ?n :yin/type :lambda]]";
const DONE_VALUE: &str =
    "[:find ?v . :in $ ?a :where [?s :trace/agent ?a] [?s :trace/kind :done] [?s :trace/value ?v]]";
const EVALS_PER_NODE: &str = "[:find ?n (count ?s) :in $ ?a :where [?s :trace/agent ?a] \
     [?s :trace/kind :eval] [?s :trace/node ?n]]";

#[test]
fn a_traced_run_is_queryable_with_datalog_on_both_projections() {
    let slab = Slab::anonymous().unwrap();
    let yin = yin_on(&slab);
    assert!(!yin.trace());
    yin.set_trace(true).unwrap();
    assert!(yin.trace());
    assert_eq!(yin.trace_name(), "yin/trace");
    let program = yin.compile(FACT).unwrap();
    let mut evals = Vec::new();
    let mut calls = Vec::new();
    for projection in [Projection::Walker, Projection::Stack] {
        let run = yin.run(program, projection).unwrap();
        assert_eq!(run.outcome_value(), Some(Value::Int(120)));
        let a = run.agent;
        // fact is applied for 5, 4, 3, 2 and 1.
        assert_eq!(
            trace_q(&slab, &yin, CALLS_OF_FACT, a),
            "5",
            "{projection:?}"
        );
        calls.push(trace_q(&slab, &yin, CALLS_PER_LAMBDA, a));
        assert_eq!(trace_q(&slab, &yin, DONE_VALUE, a), "120", "{projection:?}");
        // The run starts at the program's root, and is the agent's first.
        assert_eq!(
            trace_q(
                &slab,
                &yin,
                "[:find ?n . :in $ ?a :where [?s :trace/agent ?a] [?s :trace/kind :start] [?s :trace/node ?n]]",
                a
            ),
            program.to_string()
        );
        assert_eq!(
            trace_q(
                &slab,
                &yin,
                "[:find ?r :in $ ?a :where [?s :trace/agent ?a] [?s :trace/run ?r]]",
                a
            ),
            "#{[1]}"
        );
        // Steps are numbered 1..n without a gap.
        let counted = trace_q(
            &slab,
            &yin,
            "[:find (count ?s) (max ?i) (min ?i) :in $ ?a :where [?s :trace/agent ?a] [?s :trace/step ?i]]",
            a,
        );
        let numbers: Vec<&str> = counted
            .trim_matches(|c| "#{[]}".contains(c))
            .split(' ')
            .collect();
        assert_eq!(numbers[0], numbers[1], "{counted}");
        assert_eq!(numbers[2], "1", "{counted}");
        // The if node is evaluated once per call; its test is the only `<` in the program.
        assert_eq!(
            trace_q(
                &slab,
                &yin,
                "[:find (count ?s) . :in $ $prog ?a :where [?s :trace/agent ?a] [?s :trace/kind :eval] \
                 [?s :trace/node ?n] [$prog ?n :yin/type :if]]",
                a
            ),
            "5"
        );
        evals.push(trace_q(&slab, &yin, EVALS_PER_NODE, a));
    }
    // Each node is evaluated as many times by either projection.
    assert_eq!(evals[0], evals[1]);
    assert_eq!(calls[0], calls[1]);
    // Values of steps, e.g. every product returned on the way out.
    let walker = yin.agents().unwrap()[0].0;
    assert_eq!(
        trace_q(
            &slab,
            &yin,
            "[:find [?v ...] :in $ ?a :where [?s :trace/agent ?a] [?s :trace/kind :return] [?s :trace/value ?v] [(> ?v 5)]]",
            walker
        ),
        "[6 24 120]"
    );
}

#[test]
fn tracing_off_writes_no_trace() {
    let slab = Slab::anonymous().unwrap();
    let yin = yin_on(&slab);
    let program = yin.compile(FACT).unwrap();
    yin.run(program, Projection::Walker).unwrap();
    yin.run(program, Projection::Stack).unwrap();
    let names: Vec<String> = slab.roots().unwrap().into_iter().map(|r| r.name).collect();
    assert!(!names.iter().any(|n| n.contains("trace")), "{names:?}");
    // Turned on and off again: the database exists, but no run wrote to it.
    yin.set_trace(true).unwrap();
    yin.set_trace(false).unwrap();
    assert!(!yin.trace());
    let run = yin.run(program, Projection::Stack).unwrap();
    assert_eq!(
        trace_q(
            &slab,
            &yin,
            "[:find (count ?s) . :in $ ?a :where [?s :trace/agent ?a]]",
            run.agent
        ),
        "nil"
    );
    let guard = slab.pin().unwrap();
    let trace = slab.database("yin/trace").unwrap();
    let t = trace.snapshot(&guard).unwrap().basis_t();
    drop(guard);
    yin.run(program, Projection::Walker).unwrap();
    let guard = slab.pin().unwrap();
    assert_eq!(trace.snapshot(&guard).unwrap().basis_t(), t);
}

#[test]
fn a_trace_continues_across_park_with_the_next_run() {
    let slab = Slab::anonymous().unwrap();
    let parker = yin_on(&slab);
    parker.set_trace(true).unwrap();
    let program = parker.compile("((fn [x] (+ x (park))) 10)").unwrap();
    for projection in [Projection::Walker, Projection::Stack] {
        let run = parker.run(program, projection).unwrap();
        let RunOutcome::Parked { agent, .. } = run.outcome else {
            panic!("{:?}", run.outcome)
        };
        // Resumed through another handle on another thread.
        std::thread::scope(|s| {
            s.spawn(|| {
                let resumer = yin_on(&slab);
                resumer.set_trace(true).unwrap();
                let run = resumer.resume(agent, Value::Int(5)).unwrap();
                assert_eq!(run.outcome_value(), Some(Value::Int(15)));
            });
        });
        let q = |query: &str| trace_q(&slab, &parker, query, agent);
        assert_eq!(
            q("[:find ?r ?k :in $ ?a :where [?s :trace/agent ?a] [?s :trace/run ?r] [?s :trace/kind ?k] \
               [(not= ?k :eval)] [(not= ?k :return)] [(not= ?k :call)]]"),
            "#{[1 :park] [1 :start] [2 :done] [2 :resume]}"
        );
        assert_eq!(
            q("[:find ?k ?v :in $ ?a :where [?s :trace/agent ?a] [?s :trace/run 2] [?s :trace/step 1] \
               [?s :trace/kind ?k] [?s :trace/value ?v]]"),
            "#{[:resume 5]}"
        );
        assert_eq!(q(DONE_VALUE), "15");
        assert_eq!(
            q("[:find (count ?s) . :in $ ?a :where [?s :trace/agent ?a] [?s :trace/kind :call]]"),
            "1"
        );
    }
}

#[test]
fn a_long_run_is_written_in_batches_and_a_failure_is_traced() {
    let slab = Slab::anonymous().unwrap();
    let yin = yin_on(&slab);
    yin.set_trace(true).unwrap();
    let program = yin
        .compile("(defn down [n] (if (= n 0) :done (down (- n 1)))) (down 2000)")
        .unwrap();
    let guard = slab.pin().unwrap();
    let trace = slab.database("yin/trace").unwrap();
    let before = trace.snapshot(&guard).unwrap().basis_t();
    drop(guard);
    let run = yin.run(program, Projection::Walker).unwrap();
    let guard = slab.pin().unwrap();
    let after = trace.snapshot(&guard).unwrap().basis_t();
    drop(guard);
    // Every walker step is one `:eval` or `:return`.
    let steps = trace_q(
        &slab,
        &yin,
        "[:find (count ?s) . :in $ ?a :where [?s :trace/agent ?a] (or [?s :trace/kind :eval] [?s :trace/kind :return])]",
        run.agent,
    );
    assert_eq!(steps, run.stats.steps.to_string());
    let batches = (run.stats.steps as usize).div_ceil(super::trace::BATCH) as u64;
    assert!(after - before >= batches && batches > 1, "{before} {after}");
    assert_eq!(trace_q(&slab, &yin, DONE_VALUE, run.agent), ":done");
    // A program error: the trace ends with a `:fail` step holding the message.
    let bad = yin
        .compile("(+ 1 (car 2))")
        .unwrap_or_else(|_| yin.compile("(+ 1 :x)").unwrap());
    let e = yin.run(bad, Projection::Stack).unwrap_err();
    let agent = yin.agents().unwrap().last().unwrap().0;
    let failed = trace_q(
        &slab,
        &yin,
        "[:find ?v . :in $ ?a :where [?s :trace/agent ?a] [?s :trace/kind :fail] [?s :trace/value ?v]]",
        agent,
    );
    assert_eq!(failed, crate::dao::Value::String(e.to_string()).to_edn());
}

#[test]
fn a_trace_that_cannot_be_written_is_an_error_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.slab");
    {
        let slab = Slab::open(&path).unwrap();
        yin_on(&slab).set_trace(true).unwrap();
    }
    let slab = Slab::open_with(
        &path,
        &crate::OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    let db = super::trace::TraceDb::install(slab.database("yin/trace").unwrap()).unwrap();
    let mut tracer = super::trace::Tracer::new(db, 7, 1);
    tracer.record(super::trace::Kind::Start, 0, 0, None);
    let e = tracer.finish().unwrap_err();
    assert!(e.message().starts_with("yin trace:"), "{e}");
    assert!(e.message().contains("agent 7"), "{e}");
    // A read-only handle cannot create the trace database.
    let other = dir.path().join("u.slab");
    drop(yin_on(&Slab::open(&other).unwrap()));
    let slab = Slab::open_with(
        &other,
        &crate::OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    let yin = yin_on(&slab);
    assert_eq!(
        yin.set_trace(true).unwrap_err().kind(),
        crate::ErrorKind::NotFound
    );
    assert!(!yin.trace());
}

#[test]
fn current_continuation_reenters_and_escapes() {
    // Re-entry: calling k binds k again, to 41.
    assert_eq!(
        edn("(+ 1 (let [k (current-continuation)] (if (= k 41) k (k 41))))"),
        "42"
    );
    // Escape from deep inside a recursion: the frames of `walk` are dropped.
    let escape = "
      (defn walk [xs k]
        (if (empty? xs) :none (if (= (first xs) 3) (k :found) (walk (rest xs) k))))
      (let [k (current-continuation)] (if (= k :found) [:escaped k] (walk [1 2 3 4] k)))";
    assert_eq!(edn(escape), "[:escaped :found]");
    // Called from a non-tail position inside a nested call: the pending `(* 100 …)` and
    // `(+ 1000 …)` are abandoned; the outer `(+ 1 …)` of the capture point is not.
    assert_eq!(
        edn("(+ 1 (let [k (current-continuation)] (if (= k 5) k (+ 1000 (* 100 (k 5))))))"),
        "6"
    );
    // With no value, nil; with two, an error.
    assert_eq!(
        edn("(let [k (current-continuation)] (if (nil? k) :nil (k)))"),
        ":nil"
    );
    let two = fails("(let [k (current-continuation)] (if (= k 1) k (k 1 2)))");
    assert!(two.contains("one value"), "{two}");
}

#[test]
fn a_continuation_value_survives_a_park() {
    let slab = Slab::anonymous().unwrap();
    let yin = yin_on(&slab);
    let program = yin
        .compile("(+ 1 (let [k (current-continuation)] (if (= k 20) (* k 2) (do (park) (k 20)))))")
        .unwrap();
    for projection in [Projection::Walker, Projection::Stack] {
        let RunOutcome::Parked { agent, .. } = yin.run(program, projection).unwrap().outcome else {
            panic!()
        };
        // The continuation is in the parked environment, written to the slab and read back
        // by another handle.
        let value = std::thread::scope(|s| {
            s.spawn(|| {
                yin_on(&slab)
                    .resume(agent, Value::Nil)
                    .unwrap()
                    .outcome_value()
            })
            .join()
            .unwrap()
        });
        assert_eq!(value, Some(Value::Int(41)));
    }
}

#[test]
fn a_step_limit_stops_a_run_that_never_ends() {
    let slab = Slab::anonymous().unwrap();
    let yin = yin_on(&slab);
    assert_eq!(yin.step_limit(), None);
    yin.set_step_limit(Some(10_000));
    assert_eq!(yin.step_limit(), Some(10_000));
    let forever = yin.compile("(defn f [x] (f x)) (f 1)").unwrap();
    let short = yin
        .compile("(defn sum [n] (if (= n 0) 0 (+ n (sum (- n 1))))) (sum 100)")
        .unwrap();
    for projection in [Projection::Walker, Projection::Stack] {
        let e = yin.run(forever, projection).expect_err("an endless loop");
        assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument);
        assert!(
            e.to_string().contains("ran more than 10000 steps"),
            "{projection:?}: {e}"
        );
        let (agent, _) = *yin.agents().unwrap().last().unwrap();
        let info = yin.agent(agent).unwrap();
        assert_eq!(info.state, AgentState::Failed);
        assert!(info.error.unwrap().contains("ran more than 10000 steps"));
        // A run under the limit is not touched, and the limit is per run, not in total.
        for _ in 0..3 {
            let run = yin.run(short, projection).unwrap();
            assert_eq!(
                run.outcome_value(),
                Some(Value::Int(5050)),
                "{projection:?}"
            );
            assert!(run.stats.steps <= 10_000 && run.stats.steps > 300);
        }
        // Exactly at the limit still finishes; one step fewer does not.
        let steps = yin.run(short, projection).unwrap().stats.steps;
        yin.set_step_limit(Some(steps));
        assert!(yin.run(short, projection).is_ok());
        yin.set_step_limit(Some(steps - 1));
        assert!(yin.run(short, projection).is_err());
        yin.set_step_limit(Some(10_000));
    }
    // Workers obey it too: the agent fails, the worker goes on.
    let looping = yin.spawn(forever, Projection::Stack).unwrap();
    let fine = yin.spawn(short, Projection::Walker).unwrap();
    let report = yin.work(Duration::ZERO, None).unwrap();
    assert_eq!((report.taken, report.failed, report.finished), (2, 1, 1));
    assert_eq!(yin.agent(looping).unwrap().state, AgentState::Failed);
    assert_eq!(yin.agent(fine).unwrap().result, Some(Value::Int(5050)));
    // A resumed agent gets a fresh budget for its new run.
    let parker = yin
        .compile("(defn f [x] (f x)) (if (park) (f 1) :stopped)")
        .unwrap();
    for projection in [Projection::Walker, Projection::Stack] {
        let RunOutcome::Parked { agent, .. } = yin.run(parker, projection).unwrap().outcome else {
            panic!("{projection:?}: it should park")
        };
        let e = yin.resume(agent, Value::Bool(true)).unwrap_err();
        assert!(e.to_string().contains("ran more than"), "{e}");
        assert_eq!(yin.agent(agent).unwrap().state, AgentState::Failed);
    }
    // No limit again: the same loop would run on; a long finite loop finishes.
    yin.set_step_limit(None);
    assert_eq!(yin.step_limit(), None);
    let long = yin
        .compile("(defn countdown [n] (if (= n 0) :done (countdown (- n 1)))) (countdown 5000)")
        .unwrap();
    assert!(yin.run(long, Projection::Walker).unwrap().stats.steps > 10_000);
}

/// Found by the `yin_compile` fuzz target: deeply nested or very long programs overflowed
/// the stack (the reader, the compiler, then the datom writer, the loader and the stack
/// machine's compiler all recurse once per level). They are refused with an error now.
#[test]
fn programs_nested_too_deep_are_refused_not_a_stack_overflow() {
    let deep = [
        "(".repeat(100_000),
        format!("{}{}", "[".repeat(20_000), "]".repeat(20_000)),
        format!("{}{}", "{:a ".repeat(5_000), "}".repeat(5_000)),
        format!("{}a", "'".repeat(50_000)),
        format!("(and {})", "1 ".repeat(5_000)),
        format!("(or {})", "nil ".repeat(5_000)),
        format!("(let [{}] a)", "a 1 ".repeat(5_000)),
        format!("(quote {}{})", "(".repeat(5_000), ")".repeat(5_000)),
    ];
    for source in deep {
        let e = compile(&source).expect_err(&source[..40.min(source.len())]);
        assert!(
            e.to_string().contains("nested more than 256 levels")
                || e.to_string().contains("nests more than 400 levels"),
            "{e}"
        );
    }
}

/// Programs just inside the nesting limits compile, store, load and run on both
/// projections (on a test thread's 2 MB stack, in a debug build).
#[test]
fn programs_nested_up_to_the_limits_run() {
    // The longest chain of each kind that compiles; one more is refused.
    let longest = |make: &dyn Fn(usize) -> String| -> String {
        let n = (1..2000)
            .find(|&n| compile(&make(n)).is_err())
            .expect("a limit");
        assert!(
            compile(&make(n))
                .unwrap_err()
                .to_string()
                .contains("levels deep"),
            "{}",
            make(n)
        );
        make(n - 1)
    };
    let vectors = longest(&|n| format!("{}1{}", "[".repeat(n), "]".repeat(n)));
    assert!(vectors.starts_with(&"[".repeat(250)));
    let v = edn(&vectors);
    assert!(v.starts_with("[[[[") && v.contains("[1]"), "{}", &v[..20]);
    let long_let = longest(&|n| format!("(let [{}] (+ a 1))", "a 1 ".repeat(n)));
    assert_eq!(edn(&long_let), "2");
    let long_and = longest(&|n| format!("(and {}:end)", "1 ".repeat(n)));
    assert_eq!(edn(&long_and), ":end");
    // A do with a quoted form nested as deep as is left inside it.
    let mixed = longest(&|n| {
        format!(
            "(do 1 1 1 1 1 1 1 1 1 1 {}a{})",
            "'(".repeat(n),
            ")".repeat(n)
        )
    });
    assert!(edn(&mixed).starts_with("[[quote [[quote"));
    let slab = Slab::anonymous().unwrap();
    let yin = yin_on(&slab);
    for source in [&vectors, &long_let, &long_and, &mixed] {
        let ast = compile(source).unwrap();
        let program = yin.store(&ast, None).unwrap();
        assert_eq!(yin.load(program).unwrap(), ast);
    }
}

/// A body is one call however many forms it has: long programs, `do`s and function bodies
/// are not limited by the nesting limit.
#[test]
fn long_bodies_are_flat() {
    let long_do = format!("(do {}7)", "(+ 1 1) ".repeat(20_000));
    assert_eq!(edn(&long_do), "7");
    let defs: String = (0..5_000).map(|i| format!("(def x{i} {i}) ")).collect();
    assert_eq!(edn(&format!("{defs}(+ x0 x4999)")), "4999");
    let long_fn = format!("((fn [a] {}(* a 2)) 21)", "a ".repeat(5_000));
    assert_eq!(edn(&long_fn), "42");
    // Forms run in order: each sees the globals the ones before it defined.
    assert_eq!(
        edn("(def a 1) (def b (+ a 1)) (def c (* b 10)) [a b c]"),
        "[1 2 20]"
    );
}

/// Values nested as deep as a program cares to make them are freed, printed, compared,
/// parked and read back without overflowing the stack (each recursion over a level runs
/// where there is stack for it). Found by the `yin_compile` fuzz target's author.
#[test]
fn deeply_nested_values_do_not_overflow_the_stack() {
    let deep = "(defn wrap [n acc] (if (= n 0) acc (wrap (- n 1) [acc]))) ";
    let printed = edn(&format!("{deep}(wrap 50000 1)"));
    assert_eq!(printed.len(), 100_001);
    assert!(printed.starts_with("[[[") && printed.contains("[1]"));
    assert_eq!(
        edn(&format!("{deep}(= (wrap 50000 1) (wrap 50000 1))")),
        "true"
    );
    // A chain of closures, each closing over the one before.
    assert_eq!(
        edn("(defn chain [n k] (if (= n 0) (count [k]) (chain (- n 1) (fn [] k)))) (chain 50000 nil)"),
        "1"
    );
    // Parked with the agent, written to the slab and read back by the resumer.
    let slab = Slab::anonymous().unwrap();
    let yin = yin_on(&slab);
    let program = yin
        .compile(&format!(
            "{deep}(let [v (wrap 50000 7)] (park) (first (first v)))"
        ))
        .unwrap();
    for projection in [Projection::Walker, Projection::Stack] {
        let RunOutcome::Parked { agent, .. } = yin.run(program, projection).unwrap().outcome else {
            panic!()
        };
        let done = yin.resume(agent, Value::Nil).unwrap();
        let Some(Value::Vector(ref v)) = done.outcome_value() else {
            panic!("{done:?}")
        };
        assert_eq!(v.len(), 1);
    }
}

/// Doubles print as DaoDB prints them, so every one reads back as a double: a large whole
/// double once printed as digits alone and came back a long.
#[test]
fn doubles_print_as_doubles() {
    for (source, printed) in [
        ("(* 1.0 10000000000000000)", "1e16"),
        ("(/ 1.0 4)", "0.25"),
        ("(* 3.0 1)", "3.0"),
    ] {
        let text = edn(source);
        assert_eq!(text, printed, "{source}");
        assert!(
            matches!(Value::from_edn(&text).unwrap(), Value::Float(_)),
            "{text}"
        );
    }
}

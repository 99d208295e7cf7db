//! Yin agents across processes: a continuation parked by one process and resumed by
//! another after the first has exited, worker processes sharing one run queue, and a
//! stream read by an agent parked in one process and fed from another.

mod common;

use common::{env_path, env_u64, is_child, spawn};
use eve::yin::{AgentState, Projection, RunOutcome, Value, Wait, Yin};
use eve::Slab;
use std::collections::HashMap;
use std::time::Duration;

fn projection(code: u64) -> Projection {
    if code == 0 {
        Projection::Walker
    } else {
        Projection::Stack
    }
}

#[test]
#[ignore]
fn child_park() {
    if !is_child() {
        return;
    }
    let slab = Slab::open(env_path()).unwrap();
    let yin = Yin::open(&slab, "yin").unwrap();
    let program = yin
        .compile("(defn add [x] (+ x (park))) (let [base 10] (* 2 (add base)))")
        .unwrap();
    let run = yin
        .run(program, projection(env_u64("EVE_PROJECTION")))
        .unwrap();
    let RunOutcome::Parked { agent, wait } = run.outcome else {
        panic!("{:?}", run.outcome)
    };
    assert_eq!(wait, Wait::Resume);
    println!("parked {agent}");
}

#[test]
#[ignore]
fn child_resume() {
    if !is_child() {
        return;
    }
    let slab = Slab::open(env_path()).unwrap();
    let yin = Yin::open(&slab, "yin").unwrap();
    let run = yin
        .resume(
            env_u64("EVE_AGENT"),
            Value::Int(env_u64("EVE_VALUE") as i64),
        )
        .unwrap();
    println!("result {}", run.outcome_value().unwrap());
}

#[test]
fn park_in_one_process_resume_in_another() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("yin.slab");
    for code in [0u64, 1] {
        let mut parker = spawn("child_park", &path, &[("EVE_PROJECTION", code.to_string())]);
        let agent: u64 = parker.expect("parked").parse().unwrap();
        parker.finish();
        // The parking process is gone; its agent is in the file.
        {
            let slab = Slab::open(&path).unwrap();
            let yin = Yin::open(&slab, "yin").unwrap();
            assert_eq!(yin.agent(agent).unwrap().state, AgentState::Parked);
        }
        let mut resumer = spawn(
            "child_resume",
            &path,
            &[("EVE_AGENT", agent.to_string()), ("EVE_VALUE", "5".into())],
        );
        assert_eq!(resumer.expect("result"), "30");
        resumer.finish();
        let slab = Slab::open(&path).unwrap();
        let yin = Yin::open(&slab, "yin").unwrap();
        let info = yin.agent(agent).unwrap();
        assert_eq!(
            (info.state, info.result),
            (AgentState::Done, Some(Value::Int(30)))
        );
    }
}

#[test]
#[ignore]
fn child_worker() {
    if !is_child() {
        return;
    }
    let slab = Slab::open(env_path()).unwrap();
    let yin = Yin::open(&slab, "yin").unwrap();
    let idle = Duration::from_millis(env_u64("EVE_IDLE_MS"));
    let report = yin
        .work_each(idle, None, |agent, run| match run {
            Ok(run) => match &run.outcome {
                RunOutcome::Done(v) => println!("done {agent} {v}"),
                RunOutcome::Parked { .. } => println!("parked {agent}"),
            },
            Err(e) => println!("failed {agent} {e}"),
        })
        .unwrap();
    println!("report {} {}", report.taken, report.finished);
}

#[test]
fn four_worker_processes_run_ten_thousand_agents_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workers.slab");
    let agents = common::torture::knob("EVE_YIN_AGENTS", 10_000);
    let mut expected = HashMap::new();
    {
        let slab = Slab::open(&path).unwrap();
        let yin = Yin::open(&slab, "yin").unwrap();
        let programs: Vec<(u64, i64)> = (0..10)
            .map(|k| {
                let source = format!("(defn sq [x] (* x x)) (+ (sq {k}) (count [1 2 3]))");
                (yin.compile(&source).unwrap(), k * k + 3)
            })
            .collect();
        for i in 0..agents {
            let (program, result) = programs[(i % 10) as usize];
            let id = yin.spawn(program, projection(i % 2)).unwrap();
            expected.insert(id, result);
        }
    }
    let kids: Vec<_> = (0..4)
        .map(|_| spawn("child_worker", &path, &[("EVE_IDLE_MS", "300".into())]))
        .collect();
    let mut seen: HashMap<u64, u32> = HashMap::new();
    let mut per_worker = Vec::new();
    for mut kid in kids {
        let mut finished = 0;
        for line in kid.rest() {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts[0] {
                "done" => {
                    let id: u64 = parts[1].parse().unwrap();
                    assert_eq!(parts[2], expected[&id].to_string(), "agent {id}");
                    *seen.entry(id).or_default() += 1;
                    finished += 1;
                }
                "report" => assert_eq!(parts[2], finished.to_string()),
                "failed" | "parked" => panic!("a worker said: {line}"),
                // The test harness's own lines.
                _ => {}
            }
        }
        per_worker.push(finished);
        kid.finish();
    }
    assert_eq!(seen.len() as u64, agents, "agents never run");
    assert!(seen.values().all(|&n| n == 1), "an agent ran twice");
    assert!(
        per_worker.iter().filter(|&&n| n > 0).count() >= 2,
        "the work was not shared: {per_worker:?}"
    );
    let slab = Slab::open(&path).unwrap();
    let yin = Yin::open(&slab, "yin").unwrap();
    assert_eq!(yin.queued().unwrap(), 0);
    for (id, result) in expected {
        let info = yin.agent(id).unwrap();
        assert_eq!(
            (info.state, info.result),
            (AgentState::Done, Some(Value::Int(result)))
        );
    }
}

const SUM_READER: &str = "
(defn total [c acc]
  (let [v (stream/next c)]
    (if (nil? v) acc (total c (+ acc v)))))
(let [s (park)] (total (stream/cursor s) 0))";

#[test]
#[ignore]
fn child_stream_reader() {
    if !is_child() {
        return;
    }
    let slab = Slab::open(env_path()).unwrap();
    let yin = Yin::open(&slab, "yin").unwrap();
    let program = yin.compile(SUM_READER).unwrap();
    let run = yin
        .run(program, projection(env_u64("EVE_PROJECTION")))
        .unwrap();
    let RunOutcome::Parked { agent, .. } = run.outcome else {
        panic!()
    };
    // Handed the stream, it reads what is there and parks on the empty stream.
    let run = yin
        .resume(agent, Value::Stream(env_u64("EVE_STREAM")))
        .unwrap();
    let RunOutcome::Parked { wait, .. } = run.outcome else {
        panic!("{:?}", run.outcome)
    };
    assert!(matches!(wait, Wait::Stream { .. }));
    println!("reader {agent}");
}

#[test]
#[ignore]
fn child_stream_writer() {
    if !is_child() {
        return;
    }
    let slab = Slab::open(env_path()).unwrap();
    let yin = Yin::open(&slab, "yin").unwrap();
    let stream = env_u64("EVE_STREAM");
    for v in 1..=100 {
        yin.put(stream, &Value::Int(v)).unwrap();
        if v % 10 == 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    yin.close(stream).unwrap();
    println!("closed");
}

#[test]
fn a_stream_wakes_a_reader_parked_by_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("streams.slab");
    for code in [0u64, 1] {
        let stream = {
            let slab = Slab::open(&path).unwrap();
            let yin = Yin::open(&slab, "yin").unwrap();
            let stream = yin.stream_make().unwrap();
            yin.put(stream, &Value::Int(1000)).unwrap();
            stream
        };
        let vars = [
            ("EVE_STREAM", stream.to_string()),
            ("EVE_PROJECTION", code.to_string()),
        ];
        let mut reader = spawn("child_stream_reader", &path, &vars);
        let agent: u64 = reader.expect("reader").parse().unwrap();
        reader.finish();
        // A worker process waits for the reader to be woken; a writer process feeds it.
        let worker = spawn("child_worker", &path, &[("EVE_IDLE_MS", "3000".into())]);
        let mut writer = spawn("child_stream_writer", &path, &vars);
        writer.expect("closed");
        writer.finish();
        let lines: Vec<String> = { worker }.rest();
        assert!(
            lines.iter().any(|l| *l == format!("done {agent} 6050")),
            "{lines:?}"
        );
        let slab = Slab::open(&path).unwrap();
        let yin = Yin::open(&slab, "yin").unwrap();
        assert_eq!(yin.agent(agent).unwrap().result, Some(Value::Int(6050)));
    }
}

#[test]
#[ignore]
fn child_traced_worker() {
    if !is_child() {
        return;
    }
    let slab = Slab::open(env_path()).unwrap();
    let yin = Yin::open(&slab, "yin").unwrap();
    yin.set_trace(true).unwrap();
    let report = yin.work(Duration::from_millis(300), None).unwrap();
    println!("report {} {}", report.taken, report.finished);
}

/// Runs `query` on the trace database `yin/trace` with the program database as `$prog`
/// and `agent` as `?a`.
fn trace_query(slab: &Slab, query: &str, agent: u64) -> String {
    use eve::dao::Value as D;
    use eve::query::Input;
    let guard = slab.pin().unwrap();
    let trace = slab
        .database("yin/trace")
        .unwrap()
        .snapshot(&guard)
        .unwrap();
    let program = slab.database("yin").unwrap().snapshot(&guard).unwrap();
    let inputs = [
        Input::Database(program),
        Input::Scalar(D::Long(agent as i64)),
    ];
    eve::query::q(&trace, query, &inputs)
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .to_edn()
}

#[test]
fn a_worker_process_traces_its_runs_for_the_parent_to_query() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.slab");
    let (facts, parked) = {
        let slab = Slab::open(&path).unwrap();
        let yin = Yin::open(&slab, "yin").unwrap();
        let fact = yin
            .compile("(defn fact [n] (if (< n 2) 1 (* n (fact (- n 1))))) (fact 5)")
            .unwrap();
        let facts: Vec<u64> = [0, 1]
            .map(|code| yin.spawn(fact, projection(code)).unwrap())
            .to_vec();
        // Parked here with tracing on (run 1), woken for the worker (run 2).
        yin.set_trace(true).unwrap();
        let run = yin
            .run(
                yin.compile("((fn [x] (+ x (park))) 10)").unwrap(),
                Projection::Stack,
            )
            .unwrap();
        yin.wake(run.agent, &Value::Int(5)).unwrap();
        (facts, run.agent)
    };
    let mut worker = spawn("child_traced_worker", &path, &[]);
    assert_eq!(worker.expect("report"), "3 3");
    worker.finish();

    let slab = Slab::open(&path).unwrap();
    for agent in facts {
        let calls = "[:find (count ?s) . :in $ $prog ?a :where [?s :trace/agent ?a] \
                     [?s :trace/kind :call] [?s :trace/node ?n] [$prog ?n :yin/params \"n\"]]";
        assert_eq!(trace_query(&slab, calls, agent), "5");
        let done =
            "[:find ?r ?v :in $ $prog ?a :where [?s :trace/agent ?a] [?s :trace/kind :done] \
                    [?s :trace/run ?r] [?s :trace/value ?v]]";
        assert_eq!(trace_query(&slab, done, agent), "#{[1 120]}");
    }
    let segments = "[:find ?r ?k :in $ $prog ?a :where [?s :trace/agent ?a] [?s :trace/run ?r] \
                    [?s :trace/kind ?k] [(not= ?k :eval)] [(not= ?k :return)] [(not= ?k :call)]]";
    assert_eq!(
        trace_query(&slab, segments, parked),
        "#{[1 :park] [1 :start] [2 :done] [2 :resume]}"
    );
    let resumed = "[:find ?v . :in $ $prog ?a :where [?s :trace/agent ?a] [?s :trace/run 2] \
                   [?s :trace/kind :resume] [?s :trace/value ?v]]";
    assert_eq!(trace_query(&slab, resumed, parked), "5");
}

/// Resumes agent `{sleeper}` and puts 1 then 2 on a stream it makes, with a long
/// computation between: a worker is killed during that computation.
const KILLED_MID_RUN: &str = "
(defn spin [n] (if (= n 0) 0 (spin (- n 1))))
(let [s (stream/make)]
  (stream/put s 1)
  (resume {sleeper} 7)
  (spin {spins})
  (stream/put s 2)
  s)";

#[test]
fn an_agent_whose_worker_is_killed_is_taken_over_without_repeating_its_effects() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("takeover.slab");
    for code in [0u64, 1] {
        let slab = Slab::open(&path).unwrap();
        let yin = Yin::open(&slab, "yin").unwrap();
        let sleeper_program = yin.compile("(+ 1 (park))").unwrap();
        let RunOutcome::Parked { agent: sleeper, .. } =
            yin.run(sleeper_program, projection(code)).unwrap().outcome
        else {
            panic!()
        };
        // Long enough that the kill lands in the middle, even on a fast machine.
        let spins = if code == 0 { 150_000 } else { 1_500_000 };
        let source = KILLED_MID_RUN
            .replace("{sleeper}", &sleeper.to_string())
            .replace("{spins}", &spins.to_string());
        let agent = yin
            .spawn(yin.compile(&source).unwrap(), projection(code))
            .unwrap();

        let worker = spawn("child_worker", &path, &[("EVE_IDLE_MS", "60000".into())]);
        // The worker has run the agent's effects and is in the long computation.
        common::wait_until(Duration::from_secs(60), || {
            yin.agent(sleeper).unwrap().state == AgentState::Runnable
        });
        let running = yin.agent(agent).unwrap();
        assert_eq!(
            running.state,
            AgentState::Running,
            "the spin ended too soon"
        );
        assert_eq!(running.owner, worker.pid() as u64);
        assert_eq!(yin.recover().unwrap(), 0, "a live worker's agent was taken");
        worker.kill9();
        worker.reap();
        assert_eq!(yin.agent(agent).unwrap().state, AgentState::Running);

        assert_eq!(yin.recover().unwrap(), 1);
        assert_eq!(yin.recover().unwrap(), 0, "taken over twice");
        assert_eq!(yin.agent(agent).unwrap().state, AgentState::Runnable);
        let report = yin.work(Duration::ZERO, None).unwrap();
        assert_eq!((report.taken, report.finished), (2, 2), "{report:?}");

        // The sleeper was resumed once, by the effect committed before the kill.
        assert_eq!(yin.agent(sleeper).unwrap().result, Some(Value::Int(8)));
        let info = yin.agent(agent).unwrap();
        assert_eq!(info.runs, 2);
        let Some(Value::Stream(stream)) = info.result else {
            panic!("{info:?}")
        };
        // The stream made before the kill, holding each value once.
        let cursor = yin.cursor(stream).unwrap();
        let mut values = Vec::new();
        while let Some(v) = yin.next(cursor).unwrap() {
            values.push(v);
        }
        assert_eq!(values, vec![Value::Int(1), Value::Int(2)]);
    }
}

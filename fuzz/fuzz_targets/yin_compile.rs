//! Any text given to the Yin compiler (the reader, then the Clojure-subset compiler) either
//! compiles or is refused with an error, never a panic. A program that compiles is stored as
//! datoms and read back to the same AST, then run on both projections, each with a budget of
//! `STEPS` machine steps, and the two must agree:
//!
//! * both finish with values that print as the same EDN (closures print as their lambda
//!   node, streams and cursors as their ids; equality of closures by identity could not be
//!   compared across two runs);
//! * or both park waiting for the same thing (a resume, or the same stream cursor); a
//!   resumed pair is resumed again with the same value, a few times, and must agree again;
//! * or both fail with an error of the same kind (the message may differ: it names the
//!   node, and the stack machine's nodes are its bytecode's);
//! * unless either one ran out of steps: the projections take different numbers of steps
//!   for the same program, so one may finish within the budget while the other does not,
//!   and nothing is compared.
//!
//! Each projection runs in its own runtime (own program database and agent table) on one
//! anonymous slab per input, so node, agent, stream and cursor ids are the same in both.
#![no_main]

use eve::yin::{compile, AgentState, Projection, Run, RunOutcome, Value, Wait, Yin};
use eve::{ErrorKind, Slab};
use libfuzzer_sys::fuzz_target;

/// The step budget of each run.
const STEPS: u64 = 10_000;
/// How many times a pair of agents parked by `(park)` is resumed.
const RESUMES: usize = 3;

/// How one run ended, in terms both projections can be compared in.
#[derive(Debug, PartialEq)]
enum End {
    Done(String),
    Parked(Wait),
    Failed(ErrorKind),
    /// The step budget ran out.
    OutOfSteps,
}

/// How a run (or a resume, of `resumed`) ended; checks that the agent's record says so too.
fn end(yin: &Yin<'_>, run: eve::Result<Run>, resumed: Option<u64>) -> (End, Option<u64>) {
    let agent = match (&run, resumed) {
        (Ok(run), _) => run.agent,
        (Err(_), Some(agent)) => agent,
        (Err(_), None) => {
            yin.agents()
                .expect("the agents")
                .last()
                .expect("an agent")
                .0
        }
    };
    let info = yin.agent(agent).expect("the agent's record");
    let (end, parked) = match run {
        Ok(Run {
            outcome: RunOutcome::Done(v),
            ..
        }) => {
            // As EDN: a closure read back from the record is another closure object.
            assert_eq!(
                info.result.map(|r| r.to_edn()),
                Some(v.to_edn()),
                "the record keeps the result"
            );
            (End::Done(v.to_edn()), None)
        }
        Ok(Run {
            outcome: RunOutcome::Parked { agent, wait },
            ..
        }) => {
            assert_eq!(info.wait, Some(wait), "the record keeps the wait");
            (End::Parked(wait), Some(agent))
        }
        Err(e)
            if e.message()
                .contains(&format!("ran more than {STEPS} steps")) =>
        {
            (End::OutOfSteps, None)
        }
        Err(e) => (End::Failed(e.kind()), None),
    };
    if matches!(end, End::Failed(_) | End::OutOfSteps) {
        assert_eq!(
            info.state,
            AgentState::Failed,
            "a failed run's agent is failed"
        );
    }
    (end, parked)
}

fuzz_target!(|text: &str| {
    let Ok(ast) = compile(text) else {
        return;
    };
    let slab = Slab::anonymous().expect("an anonymous slab");
    let mut runtimes = Vec::new();
    let mut programs = Vec::new();
    for name in ["walker", "stack"] {
        let yin = Yin::open(&slab, name).expect("a runtime");
        yin.set_step_limit(Some(STEPS));
        let program = yin
            .store(&ast, Some(text))
            .expect("a compiled program is stored");
        assert_eq!(
            yin.load(program).expect("a stored program loads"),
            ast,
            "the AST round trip through datoms changed the program"
        );
        runtimes.push(yin);
        programs.push(program);
    }
    assert_eq!(
        programs[0], programs[1],
        "the two stores gave different roots"
    );
    let (walker, stack) = (&runtimes[0], &runtimes[1]);
    let (mut w, mut w_agent) = end(walker, walker.run(programs[0], Projection::Walker), None);
    let (mut s, mut s_agent) = end(stack, stack.run(programs[1], Projection::Stack), None);
    for round in 0..=RESUMES {
        if w == End::OutOfSteps || s == End::OutOfSteps {
            return;
        }
        assert_eq!(
            w, s,
            "the projections disagree on {text:?} (after {round} resumes)"
        );
        match (w_agent, s_agent) {
            (Some(wa), Some(sa)) if w == End::Parked(Wait::Resume) && round < RESUMES => {
                assert_eq!(wa, sa, "the projections' agents have different ids");
                let value = Value::Int(round as i64 + 1);
                (w, w_agent) = end(walker, walker.resume(wa, value.clone()), Some(wa));
                (s, s_agent) = end(stack, stack.resume(sa, value), Some(sa));
            }
            _ => return,
        }
    }
});

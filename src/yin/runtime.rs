//! Agents on a slab: programs run as agents whose parked states, run queue and streams
//! live in one HAMT map beside the program database, so any thread or process that opens
//! the slab can resume an agent, take one from the queue, or feed a stream.
//!
//! Keys of the map (ids are big-endian u64):
//!
//! | key | value |
//! |---|---|
//! | `n` | the next id to hand out (agents, streams and cursors share it) |
//! | `qh`, `qt` | the run queue's head and tail sequence numbers |
//! | `q` seq | the agent id queued at that place |
//! | `a` id | the agent record: state, projection, program, owner, wait, state image |
//! | `s` id | a stream: closed flag, length, parked readers (agent, cursor) |
//! | `i` id index | a stream's value at that index |
//! | `c` id | a cursor: its stream and position |
//! | `r` id | how many times the agent has been taken to run |
//!
//! Every change of state is one map transaction, so a claim, a queue move and a wake-up
//! happen together or not at all: an agent is taken by exactly one worker, and a reader
//! that parks on an empty stream is registered in the same commit that finds it empty,
//! so a value put in between cannot be missed.

use super::ast::VmOp;
use super::ast::{self, Ast, Attrs};
use super::image::{self, Reader, Writer};
use super::machine::{Next, Outcome, Wait};
use super::stack::{self, Code};
use super::trace::{Kind, TraceDb, Tracer};
use super::value::Value;
use super::walker::{self, Stats};
use crate::dao::Database;
use crate::error::{Error, ErrorKind, Result};
use crate::hamt::{HamtMap, MapTxn};
use crate::handle::Slab;
use crate::slab::process::{current_owner, is_alive, OwnerWord};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which machine runs a program. Both read the same program datoms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Projection {
    /// The AST walker: reads every node from the datoms at every step.
    Walker,
    /// The stack machine: bytecode compiled from the datoms once per program.
    Stack,
}

impl Projection {
    fn code(self) -> u8 {
        match self {
            Projection::Walker => 0,
            Projection::Stack => 1,
        }
    }
    fn from_code(c: u8) -> Result<Projection> {
        match c {
            0 => Ok(Projection::Walker),
            1 => Ok(Projection::Stack),
            _ => Err(corrupt("an unknown projection")),
        }
    }
}

/// Where an agent is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AgentState {
    /// In the run queue.
    Runnable,
    /// Taken by a worker (the owner is its process id).
    Running,
    /// Waiting to be resumed, or for a stream.
    Parked,
    Done,
    Failed,
}

impl AgentState {
    fn code(self) -> u8 {
        match self {
            AgentState::Runnable => 1,
            AgentState::Running => 2,
            AgentState::Parked => 3,
            AgentState::Done => 4,
            AgentState::Failed => 5,
        }
    }
    fn from_code(c: u8) -> Result<AgentState> {
        Ok(match c {
            1 => AgentState::Runnable,
            2 => AgentState::Running,
            3 => AgentState::Parked,
            4 => AgentState::Done,
            5 => AgentState::Failed,
            _ => return Err(corrupt("an unknown agent state")),
        })
    }
}

/// What an agent record says.
#[derive(Clone, Debug)]
pub struct AgentInfo {
    pub id: u64,
    pub state: AgentState,
    pub projection: Projection,
    pub program: u64,
    /// The process running it (state `Running`).
    pub owner: u64,
    /// What it waits for (state `Parked`).
    pub wait: Option<Wait>,
    /// The result (state `Done`).
    pub result: Option<Value>,
    /// The error (state `Failed`).
    pub error: Option<String>,
    /// How many times it has been taken to run (started, resumed or woken).
    pub runs: u64,
}

/// How a run here ended.
#[derive(Debug)]
pub enum RunOutcome {
    Done(Value),
    /// The agent parked; anyone may resume it (or a stream will) by its id.
    Parked {
        agent: u64,
        wait: Wait,
    },
}

/// A run's outcome and counters.
#[derive(Debug)]
pub struct Run {
    pub agent: u64,
    pub outcome: RunOutcome,
    pub stats: Stats,
}

impl Run {
    /// The program's value, if it finished.
    pub fn outcome_value(&self) -> Option<Value> {
        match &self.outcome {
            RunOutcome::Done(v) => Some(v.clone()),
            RunOutcome::Parked { .. } => None,
        }
    }
}

/// How `run_image` ended.
#[derive(Debug)]
pub enum ImageRun {
    Done(Value),
    /// The state image of its next park.
    Parked(Vec<u8>),
}

/// What `work` did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkReport {
    /// Agents taken from the queue.
    pub taken: u64,
    pub finished: u64,
    pub parked: u64,
    pub failed: u64,
}

fn corrupt(what: &str) -> Error {
    Error::new(ErrorKind::Corrupt, format!("Yin agent table: {what}"))
}

fn invalid(what: String) -> Error {
    Error::new(ErrorKind::InvalidArgument, what)
}

fn key(tag: u8, id: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = tag;
    k[1..].copy_from_slice(&id.to_be_bytes());
    k
}

fn item_key(stream: u64, index: u64) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[0] = b'i';
    k[1..9].copy_from_slice(&stream.to_be_bytes());
    k[9..].copy_from_slice(&index.to_be_bytes());
    k
}

fn le_u64(b: &[u8], at: usize) -> Result<u64> {
    b.get(at..at + 8)
        .map(|s| u64::from_le_bytes(s.try_into().unwrap()))
        .ok_or_else(|| corrupt("a record is too short"))
}

fn counter(txn: &MapTxn<'_>, k: &[u8]) -> Result<u64> {
    match txn.get(k)? {
        None => Ok(0),
        Some(v) => le_u64(v, 0),
    }
}

/// The image of an agent that has not started: it runs its program from the root.
const IMAGE_FRESH: u8 = 0;
const IMAGE_WALKER: u8 = 1;
const IMAGE_STACK: u8 = 2;

/// Record layout: state u8, projection u8, program u64, owner u64, wait u8 (0 none,
/// 1 resume, 2 stream), cursor u64, then the payload: for a runnable agent a flag and the
/// value to resume with, then the state image; for a parked or running one the image;
/// for a finished one the result value; for a failed one the message.
const HEADER: usize = 1 + 1 + 8 + 8 + 1 + 8;

struct Record<'b> {
    state: AgentState,
    projection: Projection,
    program: u64,
    owner: u64,
    wait: Option<Wait>,
    payload: &'b [u8],
}

impl<'b> Record<'b> {
    fn parse(b: &'b [u8]) -> Result<Record<'b>> {
        if b.len() < HEADER {
            return Err(corrupt("an agent record is too short"));
        }
        let cursor = le_u64(b, 19)?;
        Ok(Record {
            state: AgentState::from_code(b[0])?,
            projection: Projection::from_code(b[1])?,
            program: le_u64(b, 2)?,
            owner: le_u64(b, 10)?,
            wait: match b[18] {
                0 => None,
                1 => Some(Wait::Resume),
                2 => Some(Wait::Stream { cursor }),
                _ => return Err(corrupt("an unknown wait")),
            },
            payload: &b[HEADER..],
        })
    }
}

fn record(
    state: AgentState,
    projection: Projection,
    program: u64,
    owner: u64,
    wait: Option<Wait>,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.push(state.code());
    out.push(projection.code());
    out.extend_from_slice(&program.to_le_bytes());
    out.extend_from_slice(&owner.to_le_bytes());
    let (w, cursor) = match wait {
        None => (0, 0),
        Some(Wait::Resume) => (1, 0),
        Some(Wait::Stream { cursor }) => (2, cursor),
    };
    out.push(w);
    out.extend_from_slice(&cursor.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// A runnable payload: the value to resume with (if any), then the image.
fn runnable_payload(value: Option<&Value>, image: &[u8]) -> Vec<u8> {
    let mut w = Writer::default();
    match value {
        None => w.u8(0),
        Some(v) => {
            w.u8(1);
            w.value(v);
        }
    }
    w.out.extend_from_slice(image);
    w.out
}

/// The Yin runtime over one slab: a program database and an agent table.
pub struct Yin<'s> {
    slab: &'s Slab,
    db: Database<'s>,
    attrs: Attrs,
    table: HamtMap<'s>,
    codes: Mutex<HashMap<u64, Arc<Code>>>,
    name: String,
    /// Whether runs through this handle write their steps to the trace database.
    tracing: AtomicBool,
    /// The trace database, opened by the first `set_trace(true)`.
    trace_db: Mutex<Option<TraceDb<'s>>>,
    /// `owner()`'s cache.
    owner: AtomicU64,
    /// The most steps one run may take (`u64::MAX`: no limit).
    step_limit: AtomicU64,
}

/// What `settle` made of a stretch of a run.
enum Settled {
    /// An effect was performed: the machine goes on.
    Continue(Machine),
    Ended(RunOutcome),
}

/// A machine state of either projection.
enum Machine {
    Walker(walker::State),
    Stack(stack::State),
}

impl Machine {
    /// Continues a state stopped at a park or an effect with `value` as its result.
    fn resume_with(self, value: Value) -> Machine {
        match self {
            Machine::Walker(s) => Machine::Walker(s.resume_with(value)),
            Machine::Stack(s) => Machine::Stack(s.resume_with(value)),
        }
    }
}

impl<'s> Yin<'s> {
    /// Opens (creating if needed) the runtime called `name`: programs in the database
    /// `name`, agents in the map `name/agents`.
    pub fn open(slab: &'s Slab, name: &str) -> Result<Yin<'s>> {
        let db = slab.database(name)?;
        let attrs = if slab.is_read_only() {
            Attrs::find(&db)?
        } else {
            Attrs::install(&db)?
        };
        let table = slab.map(&format!("{name}/agents"))?;
        Ok(Yin {
            slab,
            db,
            attrs,
            table,
            codes: Mutex::new(HashMap::new()),
            name: name.to_string(),
            tracing: AtomicBool::new(false),
            trace_db: Mutex::new(None),
            owner: AtomicU64::new(0),
            step_limit: AtomicU64::new(u64::MAX),
        })
    }

    /// Limits the machine steps of each run from now on (`None`, the default: no limit). A
    /// run — `run`, `resume`, one agent taken by `work`, `run_image` — that would take more
    /// fails with an `InvalidArgument` error saying it ran more than `limit` steps, and its
    /// agent is recorded as failed like any other run-time error. Steps are counted per
    /// projection: the same program takes a different number on each.
    pub fn set_step_limit(&self, limit: Option<u64>) {
        self.step_limit
            .store(limit.unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The limit `set_step_limit` set.
    pub fn step_limit(&self) -> Option<u64> {
        match self.step_limit.load(Ordering::Relaxed) {
            u64::MAX => None,
            limit => Some(limit),
        }
    }

    /// Fresh counters for a run, with the step limit.
    fn stats(&self) -> Stats {
        Stats {
            step_limit: self.step_limit.load(Ordering::Relaxed),
            ..Stats::default()
        }
    }

    /// Turns the execution trace on or off for runs through this handle (`run`, `resume`,
    /// `work`; not `run_image`), from their next run on. While on, every step is written
    /// as datoms to the database `<name>/trace` on the same slab (`trace_name`), created
    /// with its schema by the first `set_trace(true)`; see `yin/trace.rs` for the schema.
    /// Off by default; other handles, threads and processes decide for themselves.
    pub fn set_trace(&self, on: bool) -> Result<()> {
        if on {
            let mut db = self.trace_db.lock().unwrap();
            if db.is_none() {
                *db = Some(TraceDb::install(self.slab.database(&self.trace_name())?)?);
            }
        }
        self.tracing.store(on, Ordering::Relaxed);
        Ok(())
    }

    /// Whether runs through this handle are traced.
    pub fn trace(&self) -> bool {
        self.tracing.load(Ordering::Relaxed)
    }

    /// The name of the trace database: `<name>/trace`.
    pub fn trace_name(&self) -> String {
        format!("{}/trace", self.name)
    }

    /// A tracer for run `run` of `agent`, if tracing is on.
    fn tracer(&self, agent: u64, run: u64) -> Option<Tracer<'s>> {
        if !self.trace() {
            return None;
        }
        let db = (*self.trace_db.lock().unwrap())?;
        Some(Tracer::new(db, agent, run))
    }

    /// The database holding the program datoms (queryable with Datalog).
    pub fn database(&self) -> &Database<'s> {
        &self.db
    }

    /// Compiles Clojure-subset source and stores it as datoms; returns the program's id
    /// (its root node). A program never changes: a new version is a new root.
    pub fn compile(&self, source: &str) -> Result<u64> {
        let ast = super::compile::compile(source)?;
        self.store(&ast, Some(source))
    }

    /// Stores an AST as datoms; returns its root node.
    pub fn store(&self, ast: &Ast, source: Option<&str>) -> Result<u64> {
        ast::store(&self.db, &self.attrs, ast, source)
    }

    /// Reads a program's datoms back into an AST.
    pub fn load(&self, program: u64) -> Result<Ast> {
        let guard = self.slab.pin()?;
        let snapshot = self.db.snapshot(&guard)?;
        ast::load(&snapshot, &self.attrs, program)
    }

    /// The stack machine code of `program`, compiled on first use.
    fn code(&self, program: u64) -> Result<Arc<Code>> {
        if let Some(code) = self.codes.lock().unwrap().get(&program) {
            return Ok(code.clone());
        }
        let guard = self.slab.pin()?;
        let snapshot = self.db.snapshot(&guard)?;
        let code = Arc::new(Code::compile(&snapshot, &self.attrs, program)?);
        self.codes.lock().unwrap().insert(program, code.clone());
        Ok(code)
    }

    /// Runs `program` here as a new agent, until it finishes or parks.
    pub fn run(&self, program: u64, projection: Projection) -> Result<Run> {
        let owner = self.owner();
        let agent = self.table.update(|txn| {
            let id = new_id(txn)?;
            let rec = record(
                AgentState::Running,
                projection,
                program,
                owner,
                None,
                &runnable_payload(None, &[IMAGE_FRESH]),
            );
            txn.insert(&key(b'a', id), &rec)?;
            let runs = count_run(txn, id)?;
            Ok((id, runs))
        })?;
        let machine = self.fresh(program, projection)?;
        let (agent, runs) = agent.0;
        self.drive(agent, runs, program, projection, machine, None)
    }

    fn fresh(&self, program: u64, projection: Projection) -> Result<Machine> {
        Ok(match projection {
            Projection::Walker => Machine::Walker(walker::State::start(program)),
            Projection::Stack => Machine::Stack(stack::State::start(&*self.code(program)?)),
        })
    }

    /// Queues a new agent running `program`; a worker (`work`) will run it.
    pub fn spawn(&self, program: u64, projection: Projection) -> Result<u64> {
        let payload = runnable_payload(None, &[IMAGE_FRESH]);
        let (id, _) = self.table.update(|txn| {
            let id = new_id(txn)?;
            let rec = record(AgentState::Runnable, projection, program, 0, None, &payload);
            txn.insert(&key(b'a', id), &rec)?;
            enqueue(txn, id)?;
            Ok(id)
        })?;
        Ok(id)
    }

    /// Resumes parked agent `agent` here with `value` as the value of its `(park)`.
    pub fn resume(&self, agent: u64, value: Value) -> Result<Run> {
        let owner = self.owner();
        let ((program, projection, runs), _) = self.table.update(|txn| {
            claim(txn, agent, owner, Some(&value), |rec| {
                if rec.state == AgentState::Parked && rec.wait == Some(Wait::Resume) {
                    Ok(())
                } else {
                    Err(invalid(format!(
                        "agent {agent} is not parked waiting for resume (it is {:?})",
                        rec.state
                    )))
                }
            })
        })?;
        let (machine, value) = self.thaw(agent, program, projection)?;
        self.drive(agent, runs, program, projection, machine, value)
    }

    /// Makes parked agent `agent` runnable with `value` and queues it for a worker.
    pub fn wake(&self, agent: u64, value: &Value) -> Result<()> {
        self.table
            .update(|txn| wake_in(txn, agent, value, Wait::Resume))
            .map(|_| ())
    }

    /// Reads the payload of `agent` (claimed by this thread) in place from its record — the
    /// value to continue with, if any, and the state image — and rebuilds the machine.
    /// Returns the machine and the value it continues with.
    fn thaw(
        &self,
        agent: u64,
        program: u64,
        projection: Projection,
    ) -> Result<(Machine, Option<Value>)> {
        let guard = self.slab.pin()?;
        let bytes = self
            .table
            .get(&guard, &key(b'a', agent))?
            .ok_or_else(|| corrupt("a claimed agent vanished"))?;
        let rec = Record::parse(bytes)?;
        let mut r = Reader::new(rec.payload);
        let value = match r.u8()? {
            0 => None,
            _ => Some(r.value()?),
        };
        let resumed = value.clone();
        Ok((
            self.decode(&guard, &mut r, program, projection, value)?,
            resumed,
        ))
    }

    /// Rebuilds a machine from a state image, continued with `value` if given.
    fn decode(
        &self,
        guard: &crate::Guard<'_>,
        r: &mut Reader<'_>,
        program: u64,
        projection: Projection,
        value: Option<Value>,
    ) -> Result<Machine> {
        let kind = r.u8()?;
        let machine = match (kind, projection) {
            (IMAGE_FRESH, _) => self.fresh(program, projection)?,
            (IMAGE_WALKER, Projection::Walker) => Machine::Walker(image::read_walker(r)?),
            (IMAGE_STACK, Projection::Stack) => {
                let code = self.code(program)?;
                let snapshot = self.db.snapshot(guard)?;
                let mut foreign: HashMap<u64, Arc<stack::Func>> = HashMap::new();
                let attrs = self.attrs;
                let state = image::read_stack(r, &mut |lambda| {
                    stack::func_of(&code, &mut foreign, &snapshot, &attrs, lambda)
                })?;
                Machine::Stack(state)
            }
            _ => return Err(corrupt("an image of the wrong projection")),
        };
        Ok(match value {
            None => machine,
            Some(v) => machine.resume_with(v),
        })
    }

    /// The state image of parked agent `agent`, copied out: its continuation, environment
    /// and store as bytes, for a machine that does not share the slab (`run_image`).
    pub fn image(&self, agent: u64) -> Result<Vec<u8>> {
        let guard = self.slab.pin()?;
        let bytes = self
            .table
            .get(&guard, &key(b'a', agent))?
            .ok_or_else(|| invalid(format!("there is no agent {agent}")))?;
        let rec = Record::parse(bytes)?;
        if rec.state != AgentState::Parked {
            return Err(invalid(format!("agent {agent} is not parked")));
        }
        Ok(rec.payload.to_vec())
    }

    /// Continues a state image (from `image`) here with `value`, outside the agent table:
    /// the result, or the image of its next park. Streams and `resume` still act on the
    /// slab, each in its own commit, but a park on an empty stream is not registered as a
    /// reader.
    pub fn run_image(
        &self,
        program: u64,
        projection: Projection,
        bytes: &[u8],
        value: Value,
    ) -> Result<ImageRun> {
        let mut machine = {
            let guard = self.slab.pin()?;
            self.decode(
                &guard,
                &mut Reader::new(bytes),
                program,
                projection,
                Some(value),
            )?
        };
        let mut stats = self.stats();
        loop {
            match self.step(program, machine, &mut stats, None)? {
                Outcome::Done(v) => return Ok(ImageRun::Done(v)),
                Outcome::Parked { state, .. } => return Ok(ImageRun::Parked(freeze(&state))),
                Outcome::Effect { op, args, state } => match self.effect(op, &args)? {
                    Effected::Value(v) => machine = state.resume_with(v),
                    Effected::Waits(_) => return Ok(ImageRun::Parked(freeze(&state))),
                },
            }
        }
    }

    /// Runs a machine until it finishes, parks or asks for an effect.
    fn step(
        &self,
        program: u64,
        machine: Machine,
        stats: &mut Stats,
        trace: Option<&mut Tracer<'s>>,
    ) -> Result<Outcome<Machine>> {
        let guard = self.slab.pin()?;
        let snapshot = self.db.snapshot(&guard)?;
        Ok(match machine {
            Machine::Walker(state) => {
                walker::run(&snapshot, &self.attrs, state, stats, trace)?.map(Machine::Walker)
            }
            Machine::Stack(state) => {
                let code = self.code(program)?;
                stack::run(&snapshot, &self.attrs, &code, state, stats, trace)?.map(Machine::Stack)
            }
        })
    }

    /// Runs a claimed agent (this is its run number `runs`; it continues with `resumed`, if
    /// given) until it finishes, parks or fails, and records which. Each effect is
    /// committed together with the agent's state after it (a checkpoint a takeover starts
    /// from, see `recover`). A traced run writes its last steps before the agent's record;
    /// if writing the trace failed, the run still ends and is recorded as it would have
    /// been untraced, and then the trace's error is returned.
    fn drive(
        &self,
        agent: u64,
        runs: u64,
        program: u64,
        projection: Projection,
        mut machine: Machine,
        resumed: Option<Value>,
    ) -> Result<Run> {
        let mut stats = self.stats();
        let mut tracer = self.tracer(agent, runs);
        if let Some(t) = tracer.as_mut() {
            if runs <= 1 {
                t.record(Kind::Start, program, 0, None);
            } else {
                t.record(Kind::Resume, 0, 0, resumed.as_ref());
            }
        }
        let ended = loop {
            let settled = self
                .step(program, machine, &mut stats, tracer.as_mut())
                .and_then(|outcome| {
                    self.settle(agent, program, projection, outcome, tracer.as_mut())
                });
            match settled {
                Ok(Settled::Continue(next)) => machine = next,
                Ok(Settled::Ended(outcome)) => break outcome,
                Err(e) => {
                    let message = e.to_string();
                    let mut e = e;
                    if let Some(t) = tracer.as_mut() {
                        t.record(Kind::Fail, 0, 0, Some(&Value::str(&message)));
                        if let Err(lost) = t.finish() {
                            e = Error::new(e.kind(), format!("{}; and {lost}", e.message()));
                        }
                    }
                    let failed = record(
                        AgentState::Failed,
                        projection,
                        program,
                        0,
                        None,
                        message.as_bytes(),
                    );
                    self.table.insert(&key(b'a', agent), &failed)?;
                    return Err(e);
                }
            }
        };
        if let Some(t) = tracer.as_mut() {
            t.finish()?;
        }
        Ok(Run {
            agent,
            outcome: ended,
            stats,
        })
    }

    /// Records what one stretch of a run came to: the result, a park, or an effect
    /// (performed and committed with the state after it, unless it parks the agent).
    fn settle(
        &self,
        agent: u64,
        program: u64,
        projection: Projection,
        outcome: Outcome<Machine>,
        mut tracer: Option<&mut Tracer<'s>>,
    ) -> Result<Settled> {
        match outcome {
            Outcome::Done(value) => {
                if let Some(t) = tracer.as_deref_mut() {
                    t.record(Kind::Done, 0, 0, Some(&value));
                    t.flush();
                }
                let mut w = Writer::default();
                w.value(&value);
                let rec = record(AgentState::Done, projection, program, 0, None, &w.out);
                self.table.insert(&key(b'a', agent), &rec)?;
                Ok(Settled::Ended(RunOutcome::Done(value)))
            }
            Outcome::Parked { reason, state } => {
                if let Some(t) = tracer.as_deref_mut() {
                    t.record(Kind::Park, 0, 0, None);
                    t.flush();
                }
                let parked = record(
                    AgentState::Parked,
                    projection,
                    program,
                    0,
                    Some(reason),
                    &freeze(&state),
                );
                self.table.insert(&key(b'a', agent), &parked)?;
                Ok(Settled::Ended(RunOutcome::Parked {
                    agent,
                    wait: reason,
                }))
            }
            Outcome::Effect { op, args, state } => {
                let image = freeze(&state);
                let mut traced_park = false;
                if let Some(t) = tracer.as_deref_mut() {
                    // The trace of a run that parks here must be written before its
                    // record says so: flushed now, with the park step if it looks like
                    // one (a value put meanwhile shows as a resume right after).
                    if op == VmOp::StreamNext && self.would_wait(&args)? {
                        t.record(Kind::Park, 0, 0, None);
                        traced_park = true;
                    }
                    t.flush();
                }
                let owner = self.owner();
                let (effected, _) = self.table.update(|txn| {
                    let effected = perform(txn, op, &args)?;
                    let rec = match &effected {
                        Effected::Value(v) => record(
                            AgentState::Running,
                            projection,
                            program,
                            owner,
                            None,
                            &runnable_payload(Some(v), &image),
                        ),
                        Effected::Waits(cursor) => {
                            add_waiter(txn, *cursor, agent)?;
                            let wait = Some(Wait::Stream { cursor: *cursor });
                            record(AgentState::Parked, projection, program, 0, wait, &image)
                        }
                    };
                    txn.insert(&key(b'a', agent), &rec)?;
                    Ok(effected)
                })?;
                match effected {
                    Effected::Value(v) => {
                        if let (true, Some(t)) = (traced_park, tracer) {
                            t.record(Kind::Resume, 0, 0, Some(&v));
                        }
                        Ok(Settled::Continue(state.resume_with(v)))
                    }
                    Effected::Waits(cursor) => Ok(Settled::Ended(RunOutcome::Parked {
                        agent,
                        wait: Wait::Stream { cursor },
                    })),
                }
            }
        }
    }

    /// Would `stream/next` on the cursor in `args` find nothing now?
    fn would_wait(&self, args: &[Value]) -> Result<bool> {
        let Some(Value::Cursor(cursor)) = args.first() else {
            return Ok(false);
        };
        let guard = self.slab.pin()?;
        let snapshot = self.table.snapshot(&guard)?;
        let Some(c) = snapshot.get(&key(b'c', *cursor))? else {
            return Ok(false);
        };
        let (stream, position) = parse_cursor(c)?;
        let head = parse_stream(snapshot.get(&key(b's', stream))?, stream)?;
        Ok(!head.closed && position >= head.len)
    }

    /// This process as the owner of the agents it runs (pid and start time); cached, and
    /// read again after a fork.
    fn owner(&self) -> u64 {
        let cached = self.owner.load(Ordering::Relaxed);
        if cached != 0 && OwnerWord(cached).pid() == std::process::id() {
            return cached;
        }
        let me = current_owner().0;
        self.owner.store(me, Ordering::Relaxed);
        me
    }

    /// Takes over every agent whose owner died while running it: it becomes runnable
    /// again, from its last checkpoint (its claim, or its last effect), and is queued.
    /// What it computed after that checkpoint is computed again; its effects are not
    /// repeated, since each was committed with the state after it. Workers call this
    /// when they find the queue empty; returns how many agents were taken over.
    pub fn recover(&self) -> Result<u64> {
        let mut orphans = Vec::new();
        self.each_agent(|agent, rec| {
            if rec.state == AgentState::Running && !is_alive(OwnerWord(rec.owner)) {
                orphans.push((agent, rec.owner));
            }
        })?;
        let mut taken = 0;
        for (agent, owner) in orphans {
            let (requeued, _) = self.table.update(|txn| {
                let bytes = txn
                    .get(&key(b'a', agent))?
                    .ok_or_else(|| corrupt("a running agent vanished"))?
                    .to_vec();
                let rec = Record::parse(&bytes)?;
                // Checked again in the commit: another process may have taken it over.
                if rec.state != AgentState::Running || rec.owner != owner {
                    return Ok(false);
                }
                let runnable = record(
                    AgentState::Runnable,
                    rec.projection,
                    rec.program,
                    0,
                    None,
                    rec.payload,
                );
                txn.insert(&key(b'a', agent), &runnable)?;
                enqueue(txn, agent)?;
                Ok(true)
            })?;
            taken += requeued as u64;
        }
        Ok(taken)
    }

    /// Takes agents from the run queue and runs them, until the queue is empty (and stays
    /// empty for `idle`), or `deadline` passes.
    pub fn work(&self, idle: Duration, deadline: Option<Instant>) -> Result<WorkReport> {
        self.work_each(idle, deadline, |_, _| {})
    }

    /// `work`, calling `each` with every agent it ran and how that run ended.
    pub fn work_each(
        &self,
        idle: Duration,
        deadline: Option<Instant>,
        mut each: impl FnMut(u64, &Result<Run>),
    ) -> Result<WorkReport> {
        let mut report = WorkReport::default();
        let mut idle_since: Option<Instant> = None;
        let mut recovered_at: Option<Instant> = None;
        let owner = self.owner();
        loop {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(report);
            }
            let seen = self.table.root();
            let (taken, _) = self.table.update(|txn| {
                let (head, tail) = (counter(txn, b"qh")?, counter(txn, b"qt")?);
                if head >= tail {
                    return Ok(None);
                }
                let slot = key(b'q', head);
                let id = le_u64(txn.get(&slot)?.ok_or_else(|| corrupt("a queue hole"))?, 0)?;
                txn.remove(&slot)?;
                txn.insert(b"qh", &(head + 1).to_le_bytes())?;
                let (program, projection, runs) = claim(txn, id, owner, None, |rec| {
                    if rec.state == AgentState::Runnable {
                        Ok(())
                    } else {
                        Err(corrupt("a queued agent is not runnable"))
                    }
                })?;
                Ok(Some((id, program, projection, runs)))
            })?;
            let Some((agent, program, projection, runs)) = taken else {
                // An empty queue is the moment to look for agents whose worker died: once
                // when it turns empty, then every second while it stays so.
                if recovered_at.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                    recovered_at = Some(Instant::now());
                    if self.recover()? > 0 {
                        continue;
                    }
                }
                let since = *idle_since.get_or_insert_with(Instant::now);
                let left = idle.saturating_sub(since.elapsed());
                if left.is_zero() {
                    return Ok(report);
                }
                self.table
                    .wait_for_change(seen, Some(left.min(Duration::from_millis(50))));
                continue;
            };
            idle_since = None;
            recovered_at = None;
            report.taken += 1;
            let run = self
                .thaw(agent, program, projection)
                .and_then(|(machine, value)| {
                    self.drive(agent, runs, program, projection, machine, value)
                });
            match &run {
                Ok(Run {
                    outcome: RunOutcome::Done(_),
                    ..
                }) => report.finished += 1,
                Ok(_) => report.parked += 1,
                Err(_) => report.failed += 1,
            }
            each(agent, &run);
        }
    }

    /// What the record of `agent` says.
    pub fn agent(&self, agent: u64) -> Result<AgentInfo> {
        let guard = self.slab.pin()?;
        // One snapshot for the record and the run counter: read from two versions, a
        // claim in between would pair "parked" with the next run's count.
        let snapshot = self.table.snapshot(&guard)?;
        let bytes = snapshot
            .get(&key(b'a', agent))?
            .ok_or_else(|| Error::new(ErrorKind::NotFound, format!("there is no agent {agent}")))?;
        let rec = Record::parse(bytes)?;
        let mut info = AgentInfo {
            id: agent,
            state: rec.state,
            projection: rec.projection,
            program: rec.program,
            owner: OwnerWord(rec.owner).pid() as u64,
            wait: rec.wait,
            result: None,
            error: None,
            runs: match snapshot.get(&key(b'r', agent))? {
                Some(v) => le_u64(v, 0)?,
                None => 0,
            },
        };
        match rec.state {
            AgentState::Done => info.result = Some(Reader::new(rec.payload).value()?),
            AgentState::Failed => {
                info.error = Some(String::from_utf8_lossy(rec.payload).into_owned())
            }
            _ => {}
        }
        Ok(info)
    }

    /// The ids of every agent ever created here, with their states.
    pub fn agents(&self) -> Result<Vec<(u64, AgentState)>> {
        let mut out = Vec::new();
        self.each_agent(|agent, rec| out.push((agent, rec.state)))?;
        out.sort_unstable();
        Ok(out)
    }

    /// Calls `f` with every agent record of one version of the table.
    fn each_agent(&self, mut f: impl FnMut(u64, &Record<'_>)) -> Result<()> {
        let guard = self.slab.pin()?;
        let snapshot = self.table.snapshot(&guard)?;
        for entry in snapshot.iter() {
            let (k, v) = entry?;
            if let (9, Some(b'a')) = (k.len(), k.first()) {
                let agent = u64::from_be_bytes(k[1..].try_into().unwrap());
                f(agent, &Record::parse(v)?);
            }
        }
        Ok(())
    }

    /// A word that changes whenever the agent table does (any agent, queue or stream).
    pub fn version(&self) -> u64 {
        self.table.root()
    }

    /// Blocks until the agent table changes from `version` (in any process), or the
    /// timeout passes; returns the version seen last.
    pub fn wait_for_change(&self, version: u64, timeout: Option<Duration>) -> u64 {
        self.table.wait_for_change(version, timeout)
    }

    /// Agents in the run queue now.
    pub fn queued(&self) -> Result<u64> {
        let guard = self.slab.pin()?;
        let snapshot = self.table.snapshot(&guard)?;
        let read = |k: &[u8]| -> Result<u64> {
            match snapshot.get(k)? {
                None => Ok(0),
                Some(v) => le_u64(v, 0),
            }
        };
        Ok(read(b"qt")?.saturating_sub(read(b"qh")?))
    }
}

/// Streams from the host's side: the same operations programs have.
impl Yin<'_> {
    /// Performs one effect in its own commit.
    fn effect(&self, op: VmOp, args: &[Value]) -> Result<Effected> {
        Ok(self.table.update(|txn| perform(txn, op, args))?.0)
    }

    fn effect_value(&self, op: VmOp, args: &[Value]) -> Result<Value> {
        match self.effect(op, args)? {
            Effected::Value(v) => Ok(v),
            Effected::Waits(_) => Err(corrupt("an effect that cannot wait waited")),
        }
    }

    /// A new, open, empty stream.
    pub fn stream_make(&self) -> Result<u64> {
        match self.effect_value(VmOp::StreamMake, &[])? {
            Value::Stream(id) => Ok(id),
            _ => Err(corrupt("stream/make made no stream")),
        }
    }

    /// Appends `value`; readers parked on the stream are queued with it.
    pub fn put(&self, stream: u64, value: &Value) -> Result<()> {
        self.effect_value(VmOp::StreamPut, &[Value::Stream(stream), value.clone()])
            .map(|_| ())
    }

    /// A new cursor at the start of `stream`.
    pub fn cursor(&self, stream: u64) -> Result<u64> {
        match self.effect_value(VmOp::StreamCursor, &[Value::Stream(stream)])? {
            Value::Cursor(id) => Ok(id),
            _ => Err(corrupt("stream/cursor made no cursor")),
        }
    }

    /// The next value under `cursor`, advancing it; `None` if there is none yet, or the
    /// stream is closed and read to its end (`closed` tells which).
    pub fn next(&self, cursor: u64) -> Result<Option<Value>> {
        self.table
            .update(|txn| next_in(txn, cursor))
            .map(|(next, _)| match next {
                Next::Value(v) => Some(v),
                Next::End | Next::Empty => None,
            })
    }

    /// Whether `stream` is closed.
    pub fn closed(&self, stream: u64) -> Result<bool> {
        let guard = self.slab.pin()?;
        let head = parse_stream(self.table.get(&guard, &key(b's', stream))?, stream)?;
        Ok(head.closed)
    }

    /// Closes `stream`; parked readers are queued with nil.
    pub fn close(&self, stream: u64) -> Result<()> {
        self.effect_value(VmOp::StreamClose, &[Value::Stream(stream)])
            .map(|_| ())
    }
}

fn freeze(machine: &Machine) -> Vec<u8> {
    let mut w = Writer::default();
    match machine {
        Machine::Walker(s) => {
            w.u8(IMAGE_WALKER);
            image::write_walker(&mut w, s);
        }
        Machine::Stack(s) => {
            w.u8(IMAGE_STACK);
            image::write_stack(&mut w, s);
        }
    }
    w.out
}

fn enqueue(txn: &mut MapTxn<'_>, agent: u64) -> Result<()> {
    let tail = counter(txn, b"qt")?;
    txn.insert(&key(b'q', tail), &agent.to_le_bytes())?;
    txn.insert(b"qt", &(tail + 1).to_le_bytes())?;
    Ok(())
}

/// Makes a parked agent waiting for `expected` runnable with `value`, and queues it.
fn wake_in(txn: &mut MapTxn<'_>, agent: u64, value: &Value, expected: Wait) -> Result<()> {
    let bytes = txn
        .get(&key(b'a', agent))?
        .ok_or_else(|| invalid(format!("there is no agent {agent}")))?
        .to_vec();
    let rec = Record::parse(&bytes)?;
    let waiting = match (rec.wait, expected) {
        (Some(Wait::Resume), Wait::Resume) => true,
        (Some(Wait::Stream { cursor: a }), Wait::Stream { cursor: b }) => a == b,
        _ => false,
    };
    if rec.state != AgentState::Parked || !waiting {
        return Err(invalid(format!(
            "agent {agent} is not parked waiting for resume (it is {:?})",
            rec.state
        )));
    }
    let payload = runnable_payload(Some(value), rec.payload);
    let rec = record(
        AgentState::Runnable,
        rec.projection,
        rec.program,
        0,
        None,
        &payload,
    );
    txn.insert(&key(b'a', agent), &rec)?;
    enqueue(txn, agent)
}

/// A stream's header: closed, length, and the readers parked on it.
struct StreamHead {
    closed: bool,
    len: u64,
    waiters: Vec<(u64, u64)>,
}

fn read_stream(txn: &MapTxn<'_>, stream: u64) -> Result<StreamHead> {
    parse_stream(txn.get(&key(b's', stream))?, stream)
}

fn parse_stream(bytes: Option<&[u8]>, stream: u64) -> Result<StreamHead> {
    let b = bytes.ok_or_else(|| invalid(format!("there is no stream {stream}")))?;
    if b.len() < 13 || (b.len() - 13) % 16 != 0 {
        return Err(corrupt("a stream header has the wrong length"));
    }
    let n = (b.len() - 13) / 16;
    Ok(StreamHead {
        closed: b[0] == 1,
        len: le_u64(b, 1)?,
        waiters: (0..n)
            .map(|i| Ok((le_u64(b, 13 + 16 * i)?, le_u64(b, 21 + 16 * i)?)))
            .collect::<Result<_>>()?,
    })
}

fn write_stream(txn: &mut MapTxn<'_>, stream: u64, head: &StreamHead) -> Result<()> {
    let mut b = Vec::with_capacity(13 + 16 * head.waiters.len());
    b.push(head.closed as u8);
    b.extend_from_slice(&head.len.to_le_bytes());
    b.extend_from_slice(&(head.waiters.len() as u32).to_le_bytes());
    for (agent, cursor) in &head.waiters {
        b.extend_from_slice(&agent.to_le_bytes());
        b.extend_from_slice(&cursor.to_le_bytes());
    }
    txn.insert(&key(b's', stream), &b)?;
    Ok(())
}

fn read_cursor(txn: &MapTxn<'_>, cursor: u64) -> Result<(u64, u64)> {
    let b = txn
        .get(&key(b'c', cursor))?
        .ok_or_else(|| invalid(format!("there is no cursor {cursor}")))?;
    parse_cursor(b)
}

/// A cursor's record: its stream and position.
fn parse_cursor(b: &[u8]) -> Result<(u64, u64)> {
    Ok((le_u64(b, 0)?, le_u64(b, 8)?))
}

fn write_cursor(txn: &mut MapTxn<'_>, cursor: u64, stream: u64, position: u64) -> Result<()> {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&stream.to_le_bytes());
    b[8..].copy_from_slice(&position.to_le_bytes());
    txn.insert(&key(b'c', cursor), &b)?;
    Ok(())
}

/// The next value for `cursor`, advancing it.
fn next_in(txn: &mut MapTxn<'_>, cursor: u64) -> Result<Next> {
    let (stream, position) = read_cursor(txn, cursor)?;
    let head = read_stream(txn, stream)?;
    if position < head.len {
        let bytes = txn
            .get(&item_key(stream, position))?
            .ok_or_else(|| corrupt("a stream value is missing"))?;
        let value = Reader::new(bytes).value()?;
        write_cursor(txn, cursor, stream, position + 1)?;
        return Ok(Next::Value(value));
    }
    Ok(if head.closed { Next::End } else { Next::Empty })
}

fn add_waiter(txn: &mut MapTxn<'_>, cursor: u64, agent: u64) -> Result<()> {
    let (stream, _) = read_cursor(txn, cursor)?;
    let mut head = read_stream(txn, stream)?;
    head.waiters.push((agent, cursor));
    write_stream(txn, stream, &head)
}

/// Takes `agent` to run in the process `owner`: its record must pass `allowed`; it becomes
/// `Running`, and its run is counted. A runnable agent keeps its payload; a parked one
/// (`value` given: what it is resumed with) gets a runnable payload of `value` and its
/// image, so that a takeover after the owner died can continue it the same way.
/// Returns its program, projection and run number.
fn claim(
    txn: &mut MapTxn<'_>,
    agent: u64,
    owner: u64,
    value: Option<&Value>,
    allowed: impl Fn(&Record<'_>) -> Result<()>,
) -> Result<(u64, Projection, u64)> {
    let bytes = txn
        .get(&key(b'a', agent))?
        .ok_or_else(|| invalid(format!("there is no agent {agent}")))?
        .to_vec();
    let rec = Record::parse(&bytes)?;
    allowed(&rec)?;
    let resumed;
    let payload = match value {
        None => rec.payload,
        Some(v) => {
            resumed = runnable_payload(Some(v), rec.payload);
            &resumed[..]
        }
    };
    let claimed = record(
        AgentState::Running,
        rec.projection,
        rec.program,
        owner,
        None,
        payload,
    );
    txn.insert(&key(b'a', agent), &claimed)?;
    let runs = count_run(txn, agent)?;
    Ok((rec.program, rec.projection, runs))
}

/// Counts a claim of `agent` (key `r` id): how many runs it has had, this one included.
fn count_run(txn: &mut MapTxn<'_>, agent: u64) -> Result<u64> {
    let runs = counter(txn, &key(b'r', agent))? + 1;
    txn.insert(&key(b'r', agent), &runs.to_le_bytes())?;
    Ok(runs)
}

fn new_id(txn: &mut MapTxn<'_>) -> Result<u64> {
    let id = counter(txn, b"n")?.max(1);
    txn.insert(b"n", &(id + 1).to_le_bytes())?;
    Ok(id)
}

/// What an effect came to inside its commit.
enum Effected {
    Value(Value),
    /// `stream/next` found its stream empty and open: the reader waits at this cursor.
    Waits(u64),
}

/// Performs the effect `op` of a program (or a host) with operands `args` in `txn`.
fn perform(txn: &mut MapTxn<'_>, op: VmOp, args: &[Value]) -> Result<Effected> {
    let arg = |i: usize| -> Result<&Value> {
        args.get(i).ok_or_else(|| {
            invalid(format!(
                "{} takes {} operands, it got {}",
                op.keyword(),
                op.arity(),
                args.len()
            ))
        })
    };
    let id = |i: usize, want: &str| -> Result<u64> {
        match (arg(i)?, want) {
            (Value::Stream(s), "stream") => Ok(*s),
            (Value::Cursor(c), "cursor") => Ok(*c),
            (Value::Int(a), "agent") if *a >= 0 => Ok(*a as u64),
            (other, _) => Err(invalid(format!(
                "{}: expected a {want}, got {}",
                op.keyword(),
                other.type_name()
            ))),
        }
    };
    Ok(Effected::Value(match op {
        VmOp::StreamMake => Value::Stream(make_in(txn)?),
        VmOp::StreamPut => {
            put_in(txn, id(0, "stream")?, arg(1)?)?;
            arg(1)?.clone()
        }
        VmOp::StreamCursor => Value::Cursor(cursor_in(txn, id(0, "stream")?)?),
        VmOp::StreamNext => {
            let cursor = id(0, "cursor")?;
            match next_in(txn, cursor)? {
                Next::Value(v) => v,
                Next::End => Value::Nil,
                Next::Empty => return Ok(Effected::Waits(cursor)),
            }
        }
        VmOp::StreamClose => {
            close_in(txn, id(0, "stream")?)?;
            Value::Nil
        }
        VmOp::Resume => {
            wake_in(txn, id(0, "agent")?, arg(1)?, Wait::Resume)?;
            Value::Nil
        }
        VmOp::Park | VmOp::StoreGet | VmOp::StorePut | VmOp::CurrentContinuation => {
            return Err(invalid(format!("{} is not an effect", op.keyword())))
        }
    }))
}

fn make_in(txn: &mut MapTxn<'_>) -> Result<u64> {
    let id = new_id(txn)?;
    let head = StreamHead {
        closed: false,
        len: 0,
        waiters: Vec::new(),
    };
    write_stream(txn, id, &head)?;
    Ok(id)
}

/// Appends the value and hands it to every reader parked at its index, queueing them.
fn put_in(txn: &mut MapTxn<'_>, stream: u64, value: &Value) -> Result<()> {
    let mut head = read_stream(txn, stream)?;
    if head.closed {
        return Err(invalid(format!("stream {stream} is closed")));
    }
    let mut w = Writer::default();
    w.value(value);
    let index = head.len;
    txn.insert(&item_key(stream, index), &w.out)?;
    head.len += 1;
    let mut still = Vec::new();
    for (agent, cursor) in std::mem::take(&mut head.waiters) {
        let (_, position) = read_cursor(txn, cursor)?;
        if position == index {
            write_cursor(txn, cursor, stream, position + 1)?;
            wake_in(txn, agent, value, Wait::Stream { cursor })?;
        } else {
            still.push((agent, cursor));
        }
    }
    head.waiters = still;
    write_stream(txn, stream, &head)
}

fn cursor_in(txn: &mut MapTxn<'_>, stream: u64) -> Result<u64> {
    read_stream(txn, stream)?;
    let id = new_id(txn)?;
    write_cursor(txn, id, stream, 0)?;
    Ok(id)
}

/// Closes the stream; readers parked on it are woken with nil.
fn close_in(txn: &mut MapTxn<'_>, stream: u64) -> Result<()> {
    let mut head = read_stream(txn, stream)?;
    head.closed = true;
    for (agent, cursor) in std::mem::take(&mut head.waiters) {
        wake_in(txn, agent, &Value::Nil, Wait::Stream { cursor })?;
    }
    write_stream(txn, stream, &head)
}

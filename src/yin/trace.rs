//! The execution trace: with tracing on (`Yin::set_trace`), every step a run takes is
//! written as datoms to the DaoDB database `<runtime name>/trace` on the same slab, so a
//! run can be read back with Datalog, alone or joined with the program's own datoms.
//!
//! Each step is one entity:
//!
//! | attribute | type | what |
//! |---|---|---|
//! | `:trace/agent` | long | the agent that took the step |
//! | `:trace/run` | long | which run of the agent (its run counter: 1 for the first claim) |
//! | `:trace/step` | long | the step's place in that run: 1, 2, … |
//! | `:trace/kind` | keyword | `:eval`, `:call`, `:return`, `:start`, `:resume`, `:park`, `:done`, `:fail` |
//! | `:trace/node` | long | the program node the step is about (absent when there is none) |
//! | `:trace/value` | any | the value a step produced or received, when it is a scalar |
//! | `:trace/depth` | long | the continuation depth of the projection at that step |
//!
//! Steps are buffered and written in transactions of at most `BATCH` steps, and always
//! before the agent's record says how its run ended, so whoever sees an agent parked, done
//! or failed also sees its trace.

use super::value::Value;
use crate::dao::{Database, Value as DaoValue, ASSERTED};
use crate::error::{Error, Result};

/// The schema of trace datoms, transacted once per trace database.
pub const SCHEMA: &str = r#"[
 {:db/ident :trace/agent :db/valueType :db.type/long :db/index true}
 {:db/ident :trace/run :db/valueType :db.type/long}
 {:db/ident :trace/step :db/valueType :db.type/long}
 {:db/ident :trace/kind :db/valueType :db.type/keyword :db/index true}
 {:db/ident :trace/node :db/valueType :db.type/long :db/index true}
 {:db/ident :trace/value :db/valueType :db.type/any}
 {:db/ident :trace/depth :db/valueType :db.type/long}
]"#;

/// Steps kept in memory before they are written.
pub const BATCH: usize = 4096;

/// Strings longer than this are not copied into the trace.
const MAX_TEXT: usize = 1024;

/// What a step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A node was evaluated (walker), or an instruction compiled from it ran (stack).
    Eval,
    /// A closure was applied; the node is its `:lambda`.
    Call,
    /// A value was returned (walker: to the waiting frame; stack: from a function).
    Return,
    /// A new agent began its program; the node is the program's root.
    Start,
    /// A parked agent continued, with the value it was resumed with.
    Resume,
    /// The agent parked.
    Park,
    /// The program finished with the value.
    Done,
    /// The run stopped with an error (the value is its message).
    Fail,
}

impl Kind {
    pub fn keyword(self) -> &'static str {
        match self {
            Kind::Eval => "eval",
            Kind::Call => "call",
            Kind::Return => "return",
            Kind::Start => "start",
            Kind::Resume => "resume",
            Kind::Park => "park",
            Kind::Done => "done",
            Kind::Fail => "fail",
        }
    }
}

/// The entity ids of the trace attributes in one database.
#[derive(Clone, Copy, Debug)]
pub struct TraceAttrs {
    agent: u64,
    run: u64,
    step: u64,
    kind: u64,
    node: u64,
    value: u64,
    depth: u64,
}

/// An open trace database.
#[derive(Clone, Copy)]
pub struct TraceDb<'s> {
    db: Database<'s>,
    attrs: TraceAttrs,
}

impl<'s> TraceDb<'s> {
    /// Opens (creating it and its schema if needed) the trace database in `db`.
    pub fn install(db: Database<'s>) -> Result<TraceDb<'s>> {
        let attrs = match find(&db) {
            Ok(Some(attrs)) => attrs,
            _ => {
                db.transact_edn(SCHEMA, None)?;
                find(&db)?.ok_or_else(|| {
                    Error::new(
                        crate::error::ErrorKind::Corrupt,
                        "the trace schema is missing after it was installed",
                    )
                })?
            }
        };
        Ok(TraceDb { db, attrs })
    }
}

fn find(db: &Database<'_>) -> Result<Option<TraceAttrs>> {
    let guard = db.slab().pin()?;
    let snapshot = db.snapshot(&guard)?;
    let schema = crate::dao::Schema::read(&snapshot)?;
    let id = |ident: &str| schema.entity(ident);
    Ok((|| {
        Some(TraceAttrs {
            agent: id("trace/agent")?,
            run: id("trace/run")?,
            step: id("trace/step")?,
            kind: id("trace/kind")?,
            node: id("trace/node")?,
            value: id("trace/value")?,
            depth: id("trace/depth")?,
        })
    })())
}

/// One recorded step, not yet written.
struct Event {
    step: u64,
    kind: Kind,
    node: u64,
    depth: u64,
    value: Option<DaoValue>,
}

/// The trace of one run of one agent: steps are numbered from 1 and written in batches.
pub struct Tracer<'s> {
    trace: TraceDb<'s>,
    agent: u64,
    run: u64,
    step: u64,
    events: Vec<Event>,
    /// The first write that failed; nothing is recorded after it.
    failed: Option<Error>,
}

impl<'s> Tracer<'s> {
    pub fn new(trace: TraceDb<'s>, agent: u64, run: u64) -> Tracer<'s> {
        Tracer {
            trace,
            agent,
            run,
            step: 0,
            events: Vec::new(),
            failed: None,
        }
    }

    /// Records one step; `node` 0 means none.
    pub fn record(&mut self, kind: Kind, node: u64, depth: usize, value: Option<&Value>) {
        if self.failed.is_some() {
            return;
        }
        self.step += 1;
        self.events.push(Event {
            step: self.step,
            kind,
            node,
            depth: depth as u64,
            value: value.and_then(scalar),
        });
        if self.events.len() >= BATCH {
            self.flush();
        }
    }

    /// Writes the buffered steps in one transaction. A failure is kept (and reported by
    /// `finish`), never returned into the run.
    pub fn flush(&mut self) {
        if self.events.is_empty() || self.failed.is_some() {
            return;
        }
        let TraceDb { db, attrs } = self.trace;
        let (agent, run) = (self.agent as i64, self.run as i64);
        let events = &self.events;
        let written = db.transact_with(|_, ids| {
            let mut datoms = Vec::with_capacity(events.len() * 7);
            for ev in events {
                let e = ids.allocate();
                let mut add = |a: u64, v: DaoValue| datoms.push((e, a, v, ASSERTED));
                add(attrs.agent, DaoValue::Long(agent));
                add(attrs.run, DaoValue::Long(run));
                add(attrs.step, DaoValue::Long(ev.step as i64));
                add(attrs.kind, DaoValue::Keyword(ev.kind.keyword().to_string()));
                if ev.node != 0 {
                    add(attrs.node, DaoValue::Long(ev.node as i64));
                }
                add(attrs.depth, DaoValue::Long(ev.depth as i64));
                if let Some(v) = &ev.value {
                    add(attrs.value, v.clone());
                }
            }
            Ok((datoms, ()))
        });
        self.events.clear();
        if let Err(e) = written {
            self.failed = Some(Error::new(
                e.kind(),
                format!(
                    "yin trace: writing the steps of agent {agent} (run {run}) to the trace \
                     database failed, so its trace is incomplete; the run itself went on as it \
                     would untraced: {}",
                    e.message()
                ),
            ));
        }
    }

    /// Writes what is left; the error of the first failed write, if any.
    pub fn finish(&mut self) -> Result<()> {
        self.flush();
        match self.failed.take() {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }
}

/// The value of a scalar as a datom value; compound values, functions, streams and long
/// strings are left out of the trace.
fn scalar(v: &Value) -> Option<DaoValue> {
    Some(match v {
        Value::Nil => DaoValue::Nil,
        Value::Bool(b) => DaoValue::Boolean(*b),
        Value::Int(i) => DaoValue::Long(*i),
        Value::Float(f) => DaoValue::double(*f).ok()?,
        Value::Str(s) if s.len() <= MAX_TEXT => DaoValue::String(s.to_string()),
        Value::Keyword(k) if k.len() <= MAX_TEXT => DaoValue::Keyword(k.to_string()),
        Value::Symbol(s) if s.len() <= MAX_TEXT => DaoValue::Symbol(s.to_string()),
        _ => return None,
    })
}

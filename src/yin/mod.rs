//! The `yin` layer: programs as datoms, run by a CESK machine whose continuations can be
//! parked in the slab and resumed by another thread or process (DESIGN.md, "Yin").
//!
//! A program's life: source text in the Clojure subset is read (`reader`) and compiled
//! (`compile`) to the Universal AST, which is stored as datoms in a DaoDB database
//! (`ast`). Two projections run those datoms: the `walker` reads each node in place at
//! every step; the `stack` machine compiles them to bytecode once per program. Both share
//! values, environments, the store and the built-ins (`value`, `prims`, `machine`). A run
//! that parks writes its machine state (`image`) into the agent table (`runtime`), from
//! which any process resumes it, a worker takes it from the run queue, or a stream wakes
//! it when a value arrives. With tracing on (`trace`), every step of a run is written as
//! datoms to the database `<name>/trace`, for Datalog.

mod ast;
mod compile;
mod image;
mod machine;
mod prims;
mod reader;
mod runtime;
mod stack;
mod trace;
mod value;
mod walker;

#[cfg(test)]
mod tests;

pub use ast::{Ast, VmOp};
pub use compile::compile;
pub use machine::Wait;
pub use runtime::{AgentInfo, AgentState, ImageRun, Projection, Run, RunOutcome, WorkReport, Yin};
pub use value::{Prim, Value};
pub use walker::Stats;

use crate::dao::Value as DaoValue;
use crate::error::{Error, ErrorKind, Result};

/// The Yin value of a literal node's `:yin/value` (absent means nil).
fn literal(v: Option<&DaoValue>) -> Result<Value> {
    Ok(match v {
        None | Some(DaoValue::Nil) => Value::Nil,
        Some(DaoValue::Boolean(b)) => Value::Bool(*b),
        Some(DaoValue::Long(i)) => Value::Int(*i),
        Some(DaoValue::Double(d)) => Value::Float(*d),
        Some(DaoValue::String(s)) => Value::Str(s.as_str().into()),
        Some(DaoValue::Keyword(k)) => Value::Keyword(k.as_str().into()),
        Some(DaoValue::Symbol(s)) => Value::Symbol(s.as_str().into()),
        Some(other) => {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{other:?} is not a Yin literal"),
            ))
        }
    })
}

//! What both projections share: the outcome of a run (finished, parked, or asking for an
//! effect on the world outside its agent), variable lookup, binding and applying functions.

use super::ast::VmOp;
use super::prims;
use super::value::{Env, Name, Prim, Store, Value};
use crate::error::{Error, ErrorKind, Result};

/// How a run ended.
#[derive(Debug)]
pub enum Outcome<S> {
    /// The program's value.
    Done(Value),
    /// The agent suspended; its state continues with the value it is resumed with.
    Parked { reason: Wait, state: S },
    /// The program asks for an operation on the world outside its agent (a stream, another
    /// agent): the runtime performs it and continues `state` with its result. Stopping
    /// here lets the runtime commit the effect together with the state that follows it.
    Effect {
        op: VmOp,
        args: Vec<Value>,
        state: S,
    },
}

impl<S> Outcome<S> {
    /// The same outcome over another kind of state.
    pub fn map<T>(self, f: impl FnOnce(S) -> T) -> Outcome<T> {
        match self {
            Outcome::Done(v) => Outcome::Done(v),
            Outcome::Parked { reason, state } => Outcome::Parked {
                reason,
                state: f(state),
            },
            Outcome::Effect { op, args, state } => Outcome::Effect {
                op,
                args,
                state: f(state),
            },
        }
    }
}

/// Why an agent parked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// `(park)`: until someone resumes it with a value.
    Resume,
    /// `(stream/next cursor)` on an empty, open stream: until a value arrives.
    Stream { cursor: u64 },
}

/// What `stream/next` found.
pub enum Next {
    Value(Value),
    /// The stream is closed and every value was read.
    End,
    /// Nothing yet: the reader parks.
    Empty,
}

/// A runtime error in a program.
pub fn error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message.into())
}

/// The error of a run that took more steps than its limit (`Yin::set_step_limit`).
#[cold]
pub fn too_many_steps(limit: u64) -> Error {
    error(format!(
        "the program ran more than {limit} steps (the step limit) and was stopped"
    ))
}

/// Finds a free variable: the environment first, then the store's globals, then the
/// built-in functions.
pub fn lookup(env: &Env, store: &Store, name: &str) -> Result<Value> {
    if let Some(v) = env.lookup(name) {
        return Ok(v.clone());
    }
    global(store, name)
}

pub fn global(store: &Store, name: &str) -> Result<Value> {
    if let Some(v) = store.get(name) {
        return Ok(v.clone());
    }
    match Prim::from_name(name) {
        Some(p) => Ok(Value::Prim(p)),
        None => Err(error(format!("unbound symbol {name}"))),
    }
}

/// Binds a lambda's arguments: the fixed parameters, then the rest as a vector.
pub fn bind(
    closure_env: &Env,
    names: &std::sync::Arc<[Name]>,
    fixed: usize,
    variadic: bool,
    mut args: Vec<Value>,
) -> Result<Env> {
    if args.len() < fixed || (!variadic && args.len() > fixed) {
        return Err(error(format!(
            "a function of {}{} parameter{} was called with {} argument{}",
            if variadic { "at least " } else { "" },
            fixed,
            if fixed == 1 { "" } else { "s" },
            args.len(),
            if args.len() == 1 { "" } else { "s" }
        )));
    }
    if variadic {
        let rest: im::Vector<Value> = args.drain(fixed..).collect();
        args.push(Value::Vector(rest));
    }
    Ok(closure_env.extend(names.clone(), args))
}

/// Runs an operation on the agent's own store (the projections hand every other `:vm`
/// operation to the runtime as an `Outcome::Effect`).
pub fn store_op(
    op: VmOp,
    name: Option<&Name>,
    args: Vec<Value>,
    store: &mut Store,
) -> Result<Value> {
    match op {
        VmOp::StoreGet => {
            let key = name.ok_or_else(|| error("store-get without a key"))?;
            Ok(store.get(key).cloned().unwrap_or(Value::Nil))
        }
        VmOp::StorePut => {
            let key = name.ok_or_else(|| error("store-put without a key"))?;
            let value = args.into_iter().next().unwrap_or(Value::Nil);
            store.insert(key.clone(), value.clone());
            Ok(value)
        }
        other => Err(error(format!(
            "{} is not an operation on the store",
            other.keyword()
        ))),
    }
}

/// The value a continuation is applied to: none gives nil.
pub fn continued_with(args: Vec<Value>) -> Result<Value> {
    match <[Value; 1]>::try_from(args) {
        Ok([value]) => Ok(value),
        Err(args) if args.is_empty() => Ok(Value::Nil),
        Err(args) => Err(error(format!(
            "a continuation takes one value, it was given {}",
            args.len()
        ))),
    }
}

/// Applies a built-in.
pub fn apply_prim(p: Prim, args: &[Value]) -> Result<Value> {
    prims::apply(p, args).map_err(error)
}

//! What both projections share: the outcome of a run, the effects a program has on the
//! world outside its agent (streams, waking other agents), and applying functions.

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

/// The world an agent acts on beyond its own state. The runtime implements it on the slab;
/// a run with no runtime refuses these operations.
pub trait Effects {
    fn stream_make(&mut self) -> Result<u64>;
    fn stream_put(&mut self, stream: u64, value: &Value) -> Result<()>;
    fn stream_cursor(&mut self, stream: u64) -> Result<u64>;
    fn stream_next(&mut self, cursor: u64) -> Result<Next>;
    fn stream_close(&mut self, stream: u64) -> Result<()>;
    /// `(resume agent value)`: make a parked agent runnable with `value`.
    fn resume(&mut self, agent: u64, value: Value) -> Result<()>;
}

/// A runtime error in a program.
pub fn error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message.into())
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

/// Runs an operation that needs nothing but its operands and the world. Returns `None`
/// when the agent must park instead (`stream/next` on an empty stream).
pub fn vm_op(
    op: VmOp,
    name: Option<&Name>,
    args: Vec<Value>,
    store: &mut Store,
    effects: &mut dyn Effects,
) -> Result<Option<Value>> {
    let id = |v: &Value, want: &str| -> Result<u64> {
        match (v, want) {
            (Value::Stream(s), "stream") => Ok(*s),
            (Value::Cursor(c), "cursor") => Ok(*c),
            (Value::Int(i), "agent") if *i >= 0 => Ok(*i as u64),
            (other, _) => Err(error(format!(
                "{}: expected a {want}, got {}",
                op.keyword(),
                other.type_name()
            ))),
        }
    };
    Ok(Some(match op {
        // Each projection parks itself; reaching here is a projection's mistake.
        VmOp::Park => return Err(error("park reached the shared operations")),
        VmOp::StoreGet => {
            let key = name.ok_or_else(|| error("store-get without a key"))?;
            store.get(key).cloned().unwrap_or(Value::Nil)
        }
        VmOp::StorePut => {
            let key = name.ok_or_else(|| error("store-put without a key"))?;
            let value = args.into_iter().next().unwrap_or(Value::Nil);
            store.insert(key.clone(), value.clone());
            value
        }
        VmOp::Resume => {
            let agent = id(&args[0], "agent")?;
            effects.resume(agent, args[1].clone())?;
            Value::Nil
        }
        VmOp::StreamMake => Value::Stream(effects.stream_make()?),
        VmOp::StreamPut => {
            effects.stream_put(id(&args[0], "stream")?, &args[1])?;
            args[1].clone()
        }
        VmOp::StreamCursor => Value::Cursor(effects.stream_cursor(id(&args[0], "stream")?)?),
        VmOp::StreamNext => match effects.stream_next(id(&args[0], "cursor")?)? {
            Next::Value(v) => v,
            Next::End => Value::Nil,
            Next::Empty => return Ok(None),
        },
        VmOp::StreamClose => {
            effects.stream_close(id(&args[0], "stream")?)?;
            Value::Nil
        }
    }))
}

/// Applies a built-in.
pub fn apply_prim(p: Prim, args: &[Value]) -> Result<Value> {
    prims::apply(p, args).map_err(error)
}

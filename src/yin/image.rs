//! A parked agent's state as bytes in the slab: the continuation, environment and store
//! laid out once by the process that parks it and read back by whichever process resumes
//! it. Environments shared by several closures or frames are written once and referred to
//! afterwards, so sharing survives the trip.
//!
//! Layout (little-endian): a value is a tag byte and its payload — `0` nil, `1` false,
//! `2` true, `3` long (8), `4` double (8), `5` string, `6` keyword, `7` symbol (u32 length
//! and UTF-8), `8` vector (u32 count, values), `9` map (u32 count, key and value pairs),
//! `10` closure (u64 lambda node, environment), `11` built-in (u16), `12` stream (u64),
//! `13` cursor (u64). An environment is `0` empty, `1` a new frame (parent environment,
//! u32 count, names, values) or `2` a frame written before (u32 index, in the order
//! frames were completed).

use super::ast::VmOp;
use super::stack::{self, Func};
use super::value::{Closure, Continuation, Env, Name, Prim, Store, Value};
use super::walker::{self, Control, Frame, Then};
use crate::error::{Error, ErrorKind, Result};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Default)]
pub struct Writer {
    pub out: Vec<u8>,
    envs: HashMap<usize, u32>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.out.push(v);
    }
    pub fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn text(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.out.extend_from_slice(s.as_bytes());
    }

    pub fn value(&mut self, v: &Value) {
        super::value::nested(|| self.value_here(v))
    }

    fn value_here(&mut self, v: &Value) {
        match v {
            Value::Nil => self.u8(0),
            Value::Bool(false) => self.u8(1),
            Value::Bool(true) => self.u8(2),
            Value::Int(i) => {
                self.u8(3);
                self.u64(*i as u64);
            }
            Value::Float(f) => {
                self.u8(4);
                self.u64(f.to_bits());
            }
            Value::Str(s) | Value::Keyword(s) | Value::Symbol(s) => {
                self.u8(match v {
                    Value::Str(_) => 5,
                    Value::Keyword(_) => 6,
                    _ => 7,
                });
                self.text(s);
            }
            Value::Vector(items) => {
                self.u8(8);
                self.u32(items.len() as u32);
                items.iter().for_each(|i| self.value(i));
            }
            Value::Map(entries) => {
                self.u8(9);
                self.u32(entries.len() as u32);
                for (k, v) in entries {
                    self.value(k);
                    self.value(v);
                }
            }
            Value::Closure(c) => {
                self.u8(10);
                self.u64(c.lambda);
                self.env(&c.env);
            }
            Value::Prim(p) => {
                self.u8(11);
                self.out.extend_from_slice(&(*p as u16).to_le_bytes());
            }
            Value::Stream(id) => {
                self.u8(12);
                self.u64(*id);
            }
            Value::Cursor(id) => {
                self.u8(13);
                self.u64(*id);
            }
            Value::Continuation(k) => match &**k {
                Continuation::Walker(frames) => {
                    self.u8(14);
                    write_frames(self, frames);
                }
                Continuation::Stack(k) => {
                    self.u8(15);
                    self.u64(k.func);
                    self.u64(k.pc as u64);
                    self.env(&k.env);
                    self.u32(k.stack.len() as u32);
                    k.stack.iter().for_each(|v| self.value(v));
                    self.u32(k.frames.len() as u32);
                    for (lambda, pc, env) in &k.frames {
                        self.u64(*lambda);
                        self.u64(*pc as u64);
                        self.env(env);
                    }
                }
            },
        }
    }

    pub fn env(&mut self, env: &Env) {
        let Some(frame) = env.frame() else {
            return self.u8(0);
        };
        if let Some(&index) = self.envs.get(&env.id()) {
            self.u8(2);
            return self.u32(index);
        }
        self.u8(1);
        self.env(&frame.parent);
        self.u32(frame.names.len() as u32);
        for name in frame.names.iter() {
            self.text(name);
        }
        frame.values.iter().for_each(|v| self.value(v));
        let index = self.envs.len() as u32;
        self.envs.insert(env.id(), index);
    }

    pub fn store(&mut self, store: &Store) {
        self.u32(store.len() as u32);
        for (k, v) in store {
            self.text(k);
            self.value(v);
        }
    }
}

/// The deepest value or environment an image may hold. Reading recurses per level on a
/// stack that grows as needed (`value::nested`), so this bounds the memory a damaged or
/// hostile image can make a reader spend on stack, not the thread's stack.
const MAX_DEPTH: usize = 1_000_000;

pub struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
    envs: Vec<Env>,
}

fn bad(what: &str) -> Error {
    Error::new(
        ErrorKind::Corrupt,
        format!("a parked agent's state is malformed: {what}"),
    )
}

impl<'b> Reader<'b> {
    pub fn new(bytes: &'b [u8]) -> Reader<'b> {
        Reader {
            bytes,
            at: 0,
            envs: Vec::new(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'b [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| bad("it ends early"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    /// A count of things that each take at least one byte: never more than what is left.
    fn count(&mut self) -> Result<usize> {
        let n = self.u32()? as usize;
        if n > self.bytes.len() - self.at {
            return Err(bad("a count is larger than the state"));
        }
        Ok(n)
    }
    fn text(&mut self) -> Result<Arc<str>> {
        let n = self.u32()? as usize;
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes)
            .map(Arc::from)
            .map_err(|_| bad("a name is not UTF-8"))
    }

    pub fn value(&mut self) -> Result<Value> {
        self.value_at(0)
    }

    fn value_at(&mut self, depth: usize) -> Result<Value> {
        super::value::nested(|| self.value_at_here(depth))
    }

    fn value_at_here(&mut self, depth: usize) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(bad("values nest too deeply"));
        }
        Ok(match self.u8()? {
            0 => Value::Nil,
            1 => Value::Bool(false),
            2 => Value::Bool(true),
            3 => Value::Int(self.u64()? as i64),
            4 => Value::Float(f64::from_bits(self.u64()?)),
            5 => Value::Str(self.text()?),
            6 => Value::Keyword(self.text()?),
            7 => Value::Symbol(self.text()?),
            8 => {
                let n = self.count()?;
                let mut items = im::Vector::new();
                for _ in 0..n {
                    items.push_back(self.value_at(depth + 1)?);
                }
                Value::Vector(items)
            }
            9 => {
                let n = self.count()?;
                let mut map = im::OrdMap::new();
                for _ in 0..n {
                    let k = self.value_at(depth + 1)?;
                    map.insert(k, self.value_at(depth + 1)?);
                }
                Value::Map(map)
            }
            10 => {
                let lambda = self.u64()?;
                let env = self.env_at(depth + 1)?;
                Value::Closure(Arc::new(Closure { lambda, env }))
            }
            11 => {
                let code = u16::from_le_bytes(self.take(2)?.try_into().unwrap());
                Value::Prim(Prim::from_code(code).ok_or_else(|| bad("an unknown built-in"))?)
            }
            12 => Value::Stream(self.u64()?),
            13 => Value::Cursor(self.u64()?),
            14 => Value::Continuation(Arc::new(Continuation::Walker(read_frames(
                self,
                depth + 1,
            )?))),
            15 => {
                let func = self.u64()?;
                let pc = self.u64()? as usize;
                let env = self.env_at(depth + 1)?;
                let n = self.count()?;
                let stack = (0..n)
                    .map(|_| self.value_at(depth + 1))
                    .collect::<Result<_>>()?;
                let nf = self.count()?;
                let mut frames = Vec::with_capacity(nf);
                for _ in 0..nf {
                    let lambda = self.u64()?;
                    let pc = self.u64()? as usize;
                    frames.push((lambda, pc, self.env_at(depth + 1)?));
                }
                Value::Continuation(Arc::new(Continuation::Stack(stack::Captured {
                    func,
                    pc,
                    env,
                    stack,
                    frames,
                })))
            }
            t => return Err(bad(&format!("an unknown value tag {t}"))),
        })
    }

    pub fn env(&mut self) -> Result<Env> {
        self.env_at(0)
    }

    fn env_at(&mut self, depth: usize) -> Result<Env> {
        if depth > MAX_DEPTH {
            return Err(bad("environments nest too deeply"));
        }
        Ok(match self.u8()? {
            0 => Env::empty(),
            1 => {
                let parent = self.env_at(depth + 1)?;
                let n = self.count()?;
                let names: Vec<Name> = (0..n).map(|_| self.text()).collect::<Result<_>>()?;
                let values: Vec<Value> = (0..n)
                    .map(|_| self.value_at(depth + 1))
                    .collect::<Result<_>>()?;
                let env = parent.extend(names.into(), values);
                self.envs.push(env.clone());
                env
            }
            2 => {
                let i = self.u32()? as usize;
                self.envs
                    .get(i)
                    .cloned()
                    .ok_or_else(|| bad("a reference to an environment not yet read"))?
            }
            t => return Err(bad(&format!("an unknown environment tag {t}"))),
        })
    }

    pub fn store(&mut self) -> Result<Store> {
        let n = self.count()?;
        let mut store = Store::new();
        for _ in 0..n {
            let k = self.text()?;
            store.insert(k, self.value()?);
        }
        Ok(store)
    }
}

fn vm_op_code(op: VmOp) -> u8 {
    VmOp::ALL.iter().position(|o| *o == op).unwrap() as u8
}

fn vm_op_from(code: u8) -> Result<VmOp> {
    VmOp::ALL
        .get(code as usize)
        .copied()
        .ok_or_else(|| bad("an unknown operation"))
}

pub fn write_walker(w: &mut Writer, s: &walker::State) {
    match &s.control {
        Control::Eval(e, env) => {
            w.u8(0);
            w.u64(*e);
            w.env(env);
        }
        Control::Return(v) => {
            w.u8(1);
            w.value(v);
        }
    }
    write_frames(w, &s.frames);
    w.store(&s.store);
}

fn write_frames(w: &mut Writer, frames: &[Frame]) {
    w.u32(frames.len() as u32);
    for frame in frames {
        match frame {
            Frame::If {
                consequent,
                alternate,
                env,
            } => {
                w.u8(0);
                w.u64(*consequent);
                w.u64(*alternate);
                w.env(env);
            }
            Frame::Args {
                env,
                pending,
                done,
                then,
            } => {
                w.u8(1);
                w.env(env);
                w.u32(pending.len() as u32);
                pending.iter().for_each(|p| w.u64(*p));
                w.u32(done.len() as u32);
                done.iter().for_each(|v| w.value(v));
                match then {
                    Then::Apply => w.u8(0xFF),
                    Then::Vm(op, name) => {
                        w.u8(vm_op_code(*op));
                        match name {
                            None => w.u8(0),
                            Some(n) => {
                                w.u8(1);
                                w.text(n);
                            }
                        }
                    }
                }
            }
        }
    }
}

pub fn read_walker(r: &mut Reader<'_>) -> Result<walker::State> {
    let control = match r.u8()? {
        0 => {
            let e = r.u64()?;
            Control::Eval(e, r.env()?)
        }
        1 => Control::Return(r.value()?),
        _ => return Err(bad("an unknown control")),
    };
    let frames = read_frames(r, 0)?;
    let store = r.store()?;
    Ok(walker::State {
        control,
        frames,
        store,
    })
}

fn read_frames(r: &mut Reader<'_>, depth: usize) -> Result<Vec<Frame>> {
    let n = r.count()?;
    let mut frames = Vec::with_capacity(n);
    for _ in 0..n {
        frames.push(match r.u8()? {
            0 => Frame::If {
                consequent: r.u64()?,
                alternate: r.u64()?,
                env: r.env_at(depth + 1)?,
            },
            1 => {
                let env = r.env_at(depth + 1)?;
                let np = r.count()?;
                let pending = (0..np).map(|_| r.u64()).collect::<Result<_>>()?;
                let nd = r.count()?;
                let done = (0..nd)
                    .map(|_| r.value_at(depth + 1))
                    .collect::<Result<_>>()?;
                let then = match r.u8()? {
                    0xFF => Then::Apply,
                    code => {
                        let op = vm_op_from(code)?;
                        let name = match r.u8()? {
                            0 => None,
                            _ => Some(r.text()?),
                        };
                        Then::Vm(op, name)
                    }
                };
                Frame::Args {
                    env,
                    pending,
                    done,
                    then,
                }
            }
            _ => return Err(bad("an unknown frame")),
        });
    }
    Ok(frames)
}

pub fn write_stack(w: &mut Writer, s: &stack::State) {
    w.u64(s.func.lambda);
    w.u64(s.pc as u64);
    w.env(&s.env);
    w.u32(s.stack.len() as u32);
    s.stack.iter().for_each(|v| w.value(v));
    w.u32(s.frames.len() as u32);
    for f in &s.frames {
        w.u64(f.func.lambda);
        w.u64(f.pc as u64);
        w.env(&f.env);
    }
    w.store(&s.store);
}

/// Reads a stack machine state; `func` finds the code of a lambda (or of the top level).
pub fn read_stack(
    r: &mut Reader<'_>,
    func: &mut dyn FnMut(u64) -> Result<Arc<Func>>,
) -> Result<stack::State> {
    let mut place = |r: &mut Reader<'_>| -> Result<(Arc<Func>, usize)> {
        let f = func(r.u64()?)?;
        let pc = r.u64()? as usize;
        if pc > f.code.len() {
            return Err(bad("a return address past its code"));
        }
        Ok((f, pc))
    };
    let (f, pc) = place(r)?;
    let env = r.env()?;
    let n = r.count()?;
    let values = (0..n).map(|_| r.value()).collect::<Result<_>>()?;
    let nf = r.count()?;
    let mut frames = Vec::with_capacity(nf);
    for _ in 0..nf {
        let (func, pc) = place(r)?;
        frames.push(stack::Return {
            func,
            pc,
            env: r.env()?,
        });
    }
    let store = r.store()?;
    Ok(stack::State {
        func: f,
        pc,
        env,
        stack: values,
        frames,
        store,
    })
}

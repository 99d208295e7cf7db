//! What Yin programs compute with: values, environments and the store.
//!
//! Everything here is immutable once built and shared by reference counting, so a
//! continuation that holds an environment is a cheap copy, and a value can move to another
//! thread (an agent resumed by another worker). Collections are persistent (`im`).

use crate::dao::write_edn_items;
use std::cmp::Ordering;
use std::fmt::Write;
use std::sync::Arc;

/// A variable or global name.
pub type Name = Arc<str>;

/// A Yin value. It implements `Drop` (freeing nested values without overflowing the
/// stack), so a pattern takes a compound value's contents by reference (`ref`) or through
/// `&value`, not by moving them out.
#[derive(Clone, Debug)]
pub enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    /// Without the colon.
    Keyword(Arc<str>),
    Symbol(Arc<str>),
    Vector(im::Vector<Value>),
    Map(im::OrdMap<Value, Value>),
    /// A function made by a `:lambda` node.
    Closure(Arc<Closure>),
    /// A built-in function.
    Prim(Prim),
    /// A stream in the slab, by id.
    Stream(u64),
    /// A reader's position in a stream, kept in the slab, by id.
    Cursor(u64),
    /// The rest of a computation, made by `(current-continuation)`.
    Continuation(Arc<Continuation>),
}

/// Below this much stack left, a recursion over a nested value continues on a new stack
/// segment of `STACK_SEGMENT` bytes (`stacker`), so a value nested a million levels deep
/// is freed, printed, compared and written without overflowing the thread's stack.
const RED_ZONE: usize = 128 * 1024;
const STACK_SEGMENT: usize = 4 * 1024 * 1024;

/// Runs `f`, which recurses one level into a nested value, where there is stack for it.
pub fn nested<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, f)
}

impl Drop for Value {
    /// Frees what a compound value holds inside `nested`: a value holding a value holding
    /// a value… frees one level per call, and the default drop would overflow the stack.
    fn drop(&mut self) {
        match self {
            Value::Vector(v) if !v.is_empty() => {
                let v = std::mem::take(v);
                nested(move || drop(v))
            }
            Value::Map(m) if !m.is_empty() => {
                let m = std::mem::take(m);
                nested(move || drop(m))
            }
            // Outside a thread's life (its thread-locals gone) the default drop runs.
            Value::Closure(c) if Arc::strong_count(c) == 1 => {
                if let Ok(empty) = EMPTY_CLOSURE.try_with(Arc::clone) {
                    let c = std::mem::replace(c, empty);
                    nested(move || drop(c))
                }
            }
            Value::Continuation(k) if Arc::strong_count(k) == 1 => {
                if let Ok(empty) = EMPTY_CONTINUATION.try_with(Arc::clone) {
                    let k = std::mem::replace(k, empty);
                    nested(move || drop(k))
                }
            }
            _ => {}
        }
    }
}

thread_local! {
    /// What a closure or continuation value holds while it is being freed.
    static EMPTY_CLOSURE: Arc<Closure> = Arc::new(Closure { lambda: 0, env: Env::empty() });
    static EMPTY_CONTINUATION: Arc<Continuation> = Arc::new(Continuation::Walker(Vec::new()));
}

/// A continuation as a value: plain data, so it can be parked with the agent that holds
/// it. Applied to a value, it abandons the caller's continuation and returns the value to
/// the point where it was made. Each projection makes (and continues) its own kind.
#[derive(Debug)]
pub enum Continuation {
    /// The walker's frames.
    Walker(Vec<super::walker::Frame>),
    Stack(super::stack::Captured),
}

/// A `:lambda` node (by entity id) closed over the environment it was evaluated in.
#[derive(Debug)]
pub struct Closure {
    pub lambda: u64,
    pub env: Env,
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(s.into())
    }

    pub fn keyword(s: &str) -> Value {
        Value::Keyword(s.into())
    }

    /// Clojure truth: everything but `nil` and `false`.
    pub fn truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Bool(false))
    }

    /// The type's name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "long",
            Value::Float(_) => "double",
            Value::Str(_) => "string",
            Value::Keyword(_) => "keyword",
            Value::Symbol(_) => "symbol",
            Value::Vector(_) => "vector",
            Value::Map(_) => "map",
            Value::Closure(_) => "function",
            Value::Prim(_) => "function",
            Value::Stream(_) => "stream",
            Value::Cursor(_) => "cursor",
            Value::Continuation(_) => "continuation",
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Nil => 0,
            Value::Bool(_) => 1,
            Value::Int(_) | Value::Float(_) => 2,
            Value::Str(_) => 3,
            Value::Keyword(_) => 4,
            Value::Symbol(_) => 5,
            Value::Vector(_) => 6,
            Value::Map(_) => 7,
            Value::Closure(_) => 8,
            Value::Prim(_) => 9,
            Value::Stream(_) => 10,
            Value::Cursor(_) => 11,
            Value::Continuation(_) => 12,
        }
    }

    /// The value as EDN text (functions print as `#yin/fn 12`, streams as `#yin/stream 3`).
    pub fn to_edn(&self) -> String {
        let mut out = String::new();
        self.write_edn(&mut out);
        out
    }

    fn write_edn(&self, out: &mut String) {
        nested(|| self.write_edn_here(out))
    }

    fn write_edn_here(&self, out: &mut String) {
        match self {
            Value::Nil => out.push_str("nil"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&crate::dao::edn_double(*f)),
            Value::Str(s) => out.push_str(&crate::dao::edn_string(s)),
            Value::Keyword(k) => {
                out.push(':');
                out.push_str(k);
            }
            Value::Symbol(s) => out.push_str(s),
            Value::Vector(items) => {
                write_edn_items(out, ["[", " ", "]"], items, |out, item| item.write_edn(out))
            }
            Value::Map(entries) => {
                write_edn_items(out, ["{", ", ", "}"], entries, |out, (k, v)| {
                    k.write_edn(out);
                    out.push(' ');
                    v.write_edn(out);
                })
            }
            Value::Closure(c) => {
                let _ = write!(out, "#yin/fn {}", c.lambda);
            }
            Value::Prim(p) => {
                let _ = write!(out, "#yin/prim {}", p.name());
            }
            Value::Stream(id) => {
                let _ = write!(out, "#yin/stream {id}");
            }
            Value::Cursor(id) => {
                let _ = write!(out, "#yin/cursor {id}");
            }
            Value::Continuation(_) => out.push_str("#yin/continuation nil"),
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_edn())
    }
}

/// Clojure's `=`: numbers of different types are not equal (`(= 1 1.0)` is false), and
/// collections compare by contents; functions by identity.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A total order, so values can be map keys: by type, then by contents. A long and a double
/// of the same magnitude differ (the long first), as `=` says they do.
impl Ord for Value {
    fn cmp(&self, other: &Value) -> Ordering {
        use Value::*;
        match (self, other) {
            (Nil, Nil) => Ordering::Equal,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Float(a), Float(b)) => a.total_cmp(b),
            (Int(a), Float(b)) => (*a as f64).total_cmp(b).then(Ordering::Less),
            (Float(a), Int(b)) => a.total_cmp(&(*b as f64)).then(Ordering::Greater),
            (Str(a), Str(b)) | (Keyword(a), Keyword(b)) | (Symbol(a), Symbol(b)) => a.cmp(b),
            (Vector(a), Vector(b)) => nested(|| a.iter().cmp(b.iter())),
            (Map(a), Map(b)) => nested(|| a.iter().cmp(b.iter())),
            (Closure(a), Closure(b)) => a
                .lambda
                .cmp(&b.lambda)
                .then((Arc::as_ptr(a) as usize).cmp(&(Arc::as_ptr(b) as usize))),
            (Prim(a), Prim(b)) => (*a as u16).cmp(&(*b as u16)),
            (Stream(a), Stream(b)) | (Cursor(a), Cursor(b)) => a.cmp(b),
            (Continuation(a), Continuation(b)) => {
                (Arc::as_ptr(a) as usize).cmp(&(Arc::as_ptr(b) as usize))
            }
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// An environment: a chain of frames, each binding the parameters of one call. Persistent:
/// extending it leaves the original untouched, so closures and continuations share frames.
#[derive(Clone, Debug, Default)]
pub struct Env(Option<Arc<EnvFrame>>);

#[derive(Debug)]
pub struct EnvFrame {
    pub names: Arc<[Name]>,
    pub values: Box<[Value]>,
    pub parent: Env,
}

impl Env {
    pub fn empty() -> Env {
        Env(None)
    }

    /// A new environment binding `names` to `values` (the same length) in front of this one.
    pub fn extend(&self, names: Arc<[Name]>, values: Vec<Value>) -> Env {
        debug_assert_eq!(names.len(), values.len());
        Env(Some(Arc::new(EnvFrame {
            names,
            values: values.into_boxed_slice(),
            parent: self.clone(),
        })))
    }

    /// The innermost binding of `name`.
    pub fn lookup(&self, name: &str) -> Option<&Value> {
        let mut env = self;
        while let Some(frame) = &env.0 {
            // Later parameters shadow earlier ones of the same call, as in `(fn [x x] x)`.
            if let Some(i) = frame.names.iter().rposition(|n| &**n == name) {
                return Some(&frame.values[i]);
            }
            env = &frame.parent;
        }
        None
    }

    /// The value `depth` frames out, at `index`: a lexical address found at compile time.
    pub fn at(&self, depth: usize, index: usize) -> Option<&Value> {
        let mut frame = self.0.as_deref()?;
        for _ in 0..depth {
            frame = frame.parent.0.as_deref()?;
        }
        frame.values.get(index)
    }

    pub fn frame(&self) -> Option<&EnvFrame> {
        self.0.as_deref()
    }

    /// An identity for sharing when the environment is written out.
    pub fn id(&self) -> usize {
        self.0.as_ref().map_or(0, |f| Arc::as_ptr(f) as usize)
    }

    pub fn depth(&self) -> usize {
        let (mut n, mut env) = (0, self);
        while let Some(frame) = &env.0 {
            n += 1;
            env = &frame.parent;
        }
        n
    }
}

/// The machine's store: globals made by `def`, and what `store-put` writes. Persistent, so
/// a parked continuation keeps the store it had.
pub type Store = im::OrdMap<Name, Value>;

macro_rules! prims {
    ($($variant:ident = $name:literal,)*) => {
        /// The built-in functions.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum Prim { $($variant,)* }

        impl Prim {
            pub const ALL: &'static [Prim] = &[$(Prim::$variant,)*];

            /// The name programs call it by.
            pub fn name(self) -> &'static str {
                match self { $(Prim::$variant => $name,)* }
            }
        }
    };
}

prims! {
    Add = "+",
    Sub = "-",
    Mul = "*",
    Div = "/",
    Mod = "mod",
    Inc = "inc",
    Dec = "dec",
    Lt = "<",
    Le = "<=",
    Gt = ">",
    Ge = ">=",
    NumEq = "==",
    Eq = "=",
    NotEq = "not=",
    Not = "not",
    IsNil = "nil?",
    IsZero = "zero?",
    IsEmpty = "empty?",
    Vector = "vector",
    List = "list",
    HashMap = "hash-map",
    Get = "get",
    Assoc = "assoc",
    Count = "count",
    First = "first",
    Rest = "rest",
    Nth = "nth",
    Cons = "cons",
    Conj = "conj",
    Str = "str",
}

impl Prim {
    pub fn from_name(name: &str) -> Option<Prim> {
        Prim::ALL.iter().copied().find(|p| p.name() == name)
    }

    pub fn from_code(code: u16) -> Option<Prim> {
        Prim::ALL.get(code as usize).copied()
    }
}

impl Value {
    /// Reads one value written as EDN (as `to_edn` writes data): nil, booleans, numbers,
    /// strings, keywords, symbols, vectors, lists (as vectors) and maps.
    pub fn from_edn(text: &str) -> crate::Result<Value> {
        use super::reader::{read_all, Form, FormKind};
        let invalid = |m: String| crate::Error::new(crate::ErrorKind::InvalidArgument, m);
        let forms = read_all(text).map_err(|e| invalid(format!("{}: {}", e.at, e.message)))?;
        let [form] = &forms[..] else {
            return Err(invalid(format!(
                "expected one EDN value, found {} forms",
                forms.len()
            )));
        };
        fn convert(f: &Form) -> Value {
            match &f.kind {
                FormKind::Nil => Value::Nil,
                FormKind::Bool(b) => Value::Bool(*b),
                FormKind::Int(i) => Value::Int(*i),
                FormKind::Float(x) => Value::Float(*x),
                FormKind::Str(s) => Value::Str(s.as_str().into()),
                FormKind::Keyword(k) => Value::Keyword(k.as_str().into()),
                FormKind::Symbol(s) => Value::Symbol(s.as_str().into()),
                FormKind::List(items) | FormKind::Vector(items) => {
                    Value::Vector(items.iter().map(convert).collect())
                }
                FormKind::Map(items) => Value::Map(
                    items
                        .chunks(2)
                        .map(|kv| (convert(&kv[0]), convert(&kv[1])))
                        .collect(),
                ),
            }
        }
        Ok(convert(form))
    }
}

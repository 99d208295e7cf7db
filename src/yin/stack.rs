//! The stack machine: the same program datoms compiled to bytecode once per program
//! version, then run with a value stack. Variables a lambda's own scope chain binds are
//! found by lexical address (frames out, slot), so calls bind no names at run time.
//!
//! The environment, closures and store are the walker's, so a value made by one projection
//! is understood by the other. A call in tail position (`:yin/tail?`) replaces the
//! caller's frame instead of pushing one.

use super::ast::{Attrs, Node, NodeType, VmOp};
use super::machine::{
    apply_prim, bind, continued_with, error, global, store_op, too_many_steps, Outcome, Wait,
};
use super::trace::{Kind, Tracer};
use super::value::{Closure, Continuation, Env, Name, Store, Value};
use crate::dao::DbSnapshot;
use crate::error::Result;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Const(u32),
    /// A variable of an enclosing scope: `depth` frames out, slot `index`.
    Local {
        depth: u16,
        index: u16,
    },
    /// A free variable, looked up by name: environment, store, built-ins.
    Name(u32),
    /// A global the program never binds locally: store, then built-ins.
    Global(u32),
    Closure(u64),
    Call(u32),
    TailCall(u32),
    Return,
    JumpIfFalse(u32),
    Jump(u32),
    /// A `:vm`/`:stream` operation on the top `argc` values; `name` is a constant index
    /// or `u32::MAX`.
    Vm {
        op: VmOp,
        argc: u32,
        name: u32,
    },
    Park,
}

/// One lambda's code (or the program's top level).
#[derive(Debug)]
pub struct Func {
    /// The `:lambda` node (the root node for the top level).
    pub lambda: u64,
    pub names: Arc<[Name]>,
    pub fixed: usize,
    pub variadic: bool,
    pub code: Vec<Op>,
    /// For each instruction, the program node it evaluates (what a trace records), or 0
    /// for one that is only plumbing (`Jump`, `Return`): an `:if` is its `JumpIfFalse`, an
    /// application its `Call`, a literal its `Const`, so each node evaluation is exactly one
    /// instruction.
    pub nodes: Vec<u64>,
    pub consts: Vec<Value>,
}

/// A compiled program: its top level and every lambda in it, by node id.
#[derive(Debug)]
pub struct Code {
    pub root: u64,
    pub funcs: HashMap<u64, Arc<Func>>,
}

impl Code {
    /// Compiles the program under `root`.
    pub fn compile(db: &DbSnapshot<'_>, attrs: &Attrs, root: u64) -> Result<Code> {
        let mut funcs = HashMap::new();
        let top = Compiler {
            db,
            attrs,
            funcs: &mut funcs,
            foreign: false,
        }
        .func(root, None, &mut Vec::new())?;
        funcs.insert(root, top);
        Ok(Code { root, funcs })
    }

    /// Compiles one lambda on its own (its free variables are looked up by name), for a
    /// closure that came from another program.
    pub fn compile_lambda(db: &DbSnapshot<'_>, attrs: &Attrs, lambda: u64) -> Result<Arc<Func>> {
        let node = Node::read(db, attrs, lambda)?;
        if node.kind() != NodeType::Lambda {
            return Err(error(format!("entity {lambda} is not a lambda")));
        }
        Compiler {
            db,
            attrs,
            funcs: &mut HashMap::new(),
            foreign: true,
        }
        .func(lambda, Some(&node), &mut Vec::new())
    }
}

struct Compiler<'c, 'g> {
    db: &'c DbSnapshot<'g>,
    attrs: &'c Attrs,
    funcs: &'c mut HashMap<u64, Arc<Func>>,
    /// Compiling a lambda without its enclosing scopes: a variable it does not bind may be
    /// bound by the closure's environment, so it is looked up by name.
    foreign: bool,
}

struct Emit {
    code: Vec<Op>,
    nodes: Vec<u64>,
    consts: Vec<Value>,
}

impl Emit {
    /// Appends `op`, compiled from node `node` (0 for none).
    fn push(&mut self, op: Op, node: u64) {
        self.code.push(op);
        self.nodes.push(node);
    }

    fn constant(&mut self, v: Value) -> u32 {
        self.consts.push(v);
        (self.consts.len() - 1) as u32
    }
}

impl Compiler<'_, '_> {
    /// Compiles a lambda (`lambda` = Some(node)) or the top level, inside `scopes`.
    fn func(
        &mut self,
        e: u64,
        lambda: Option<&Node>,
        scopes: &mut Vec<Arc<[Name]>>,
    ) -> Result<Arc<Func>> {
        let (names, fixed, variadic, body) = match lambda {
            Some(node) => {
                let mut names = node.param_names();
                let fixed = names.len();
                if let Some(rest) = &node.rest {
                    names.push(rest.as_str().into());
                }
                (
                    Arc::<[Name]>::from(names),
                    fixed,
                    node.rest.is_some(),
                    node.body,
                )
            }
            None => (Arc::<[Name]>::from(Vec::new()), 0, false, e),
        };
        let pushed = lambda.is_some();
        if pushed {
            scopes.push(names.clone());
        }
        let mut out = Emit {
            code: Vec::new(),
            nodes: Vec::new(),
            consts: Vec::new(),
        };
        let result = self.expr(body, scopes, &mut out, pushed);
        if pushed {
            scopes.pop();
        }
        result?;
        out.push(Op::Return, 0);
        Ok(Arc::new(Func {
            lambda: e,
            names,
            fixed,
            variadic,
            code: out.code,
            nodes: out.nodes,
            consts: out.consts,
        }))
    }

    fn expr(
        &mut self,
        e: u64,
        scopes: &mut Vec<Arc<[Name]>>,
        out: &mut Emit,
        tail_ok: bool,
    ) -> Result<()> {
        let node = Node::read(self.db, self.attrs, e)?;
        match node.kind() {
            NodeType::Literal => {
                let c = out.constant(super::literal(node.value.as_ref())?);
                out.push(Op::Const(c), e);
            }
            NodeType::Variable => {
                let name = node.name.as_deref().unwrap_or("");
                let found = scopes.iter().rev().enumerate().find_map(|(depth, names)| {
                    names
                        .iter()
                        .rposition(|n| &**n == name)
                        .map(|index| (depth, index))
                });
                let op = match found {
                    Some((depth, index))
                        if depth <= u16::MAX as usize && index <= u16::MAX as usize =>
                    {
                        Op::Local {
                            depth: depth as u16,
                            index: index as u16,
                        }
                    }
                    _ if self.foreign => Op::Name(out.constant(Value::Str(name.into()))),
                    _ => Op::Global(out.constant(Value::Str(name.into()))),
                };
                out.push(op, e);
            }
            NodeType::Lambda => {
                if !self.funcs.contains_key(&e) {
                    let func = self.func(e, Some(&node), scopes)?;
                    self.funcs.insert(e, func);
                }
                out.push(Op::Closure(e), e);
            }
            NodeType::If => {
                self.expr(node.test, scopes, out, false)?;
                let branch = out.code.len();
                out.push(Op::JumpIfFalse(0), e);
                self.expr(node.consequent, scopes, out, tail_ok)?;
                let jump = out.code.len();
                out.push(Op::Jump(0), 0);
                out.code[branch] = Op::JumpIfFalse(out.code.len() as u32);
                self.expr(node.alternate, scopes, out, tail_ok)?;
                out.code[jump] = Op::Jump(out.code.len() as u32);
            }
            NodeType::Application => {
                self.expr(node.operator, scopes, out, false)?;
                let operands = node.operands_in_order(self.db, self.attrs, e)?;
                for &operand in &operands {
                    self.expr(operand, scopes, out, false)?;
                }
                let argc = operands.len() as u32;
                let call = if node.tail && tail_ok {
                    Op::TailCall(argc)
                } else {
                    Op::Call(argc)
                };
                out.push(call, e);
            }
            NodeType::Vm(VmOp::Park) => out.push(Op::Park, e),
            NodeType::Vm(op) => {
                let operands = node.operands_in_order(self.db, self.attrs, e)?;
                if operands.len() != op.arity() {
                    return Err(error(format!(
                        "program node {e}: :{} takes {} operands, not {}",
                        op.keyword(),
                        op.arity(),
                        operands.len()
                    )));
                }
                for &operand in &operands {
                    self.expr(operand, scopes, out, false)?;
                }
                let name = match &node.name {
                    Some(n) => out.constant(Value::Str(n.as_str().into())),
                    None => u32::MAX,
                };
                let vm = Op::Vm {
                    op,
                    argc: operands.len() as u32,
                    name,
                };
                out.push(vm, e);
            }
        }
        Ok(())
    }
}

/// A caller waiting for a callee to return.
#[derive(Clone, Debug)]
pub struct Return {
    pub func: Arc<Func>,
    pub pc: usize,
    pub env: Env,
}

/// A continuation of the stack machine as data: code is named by its lambda (or program
/// root) and found again when the continuation is applied, perhaps in another process.
#[derive(Clone, Debug)]
pub struct Captured {
    pub func: u64,
    pub pc: usize,
    pub env: Env,
    pub stack: Vec<Value>,
    /// Return addresses, outermost first: lambda, pc, environment.
    pub frames: Vec<(u64, usize, Env)>,
}

/// A whole machine state: what a parked agent keeps.
#[derive(Clone, Debug)]
pub struct State {
    pub func: Arc<Func>,
    pub pc: usize,
    pub env: Env,
    pub stack: Vec<Value>,
    pub frames: Vec<Return>,
    pub store: Store,
}

impl State {
    pub fn start(code: &Code) -> State {
        State {
            func: code.funcs[&code.root].clone(),
            pc: 0,
            env: Env::empty(),
            stack: Vec::new(),
            frames: Vec::new(),
            store: Store::new(),
        }
    }

    /// A parked state, continued with `value` as the value of the expression that parked.
    pub fn resume_with(mut self, value: Value) -> State {
        self.stack.push(value);
        self
    }
}

/// Counters of one run.
pub use super::walker::Stats;

/// Finds the code of `lambda`: in the program, or compiled now if the closure came from
/// another program (over a stream, say), with its free variables looked up by name.
pub(super) fn func_of(
    code: &Code,
    foreign: &mut HashMap<u64, Arc<Func>>,
    db: &DbSnapshot<'_>,
    attrs: &Attrs,
    lambda: u64,
) -> Result<Arc<Func>> {
    if let Some(f) = code.funcs.get(&lambda).or_else(|| foreign.get(&lambda)) {
        return Ok(f.clone());
    }
    let func = Code::compile_lambda(db, attrs, lambda)?;
    foreign.insert(lambda, func.clone());
    Ok(func)
}

/// Runs `state` until the program finishes or parks. With a tracer, every instruction
/// compiled from a node records an `:eval` of that node, every closure applied a `:call`
/// of its lambda and every function's return a `:return` of its value.
pub fn run(
    db: &DbSnapshot<'_>,
    attrs: &Attrs,
    code: &Code,
    mut s: State,
    stats: &mut Stats,
    mut trace: Option<&mut Tracer<'_>>,
) -> Result<Outcome<State>> {
    let mut foreign = HashMap::new();
    loop {
        let Some(&op) = s.func.code.get(s.pc) else {
            return Err(error(format!(
                "the code of node {} ran off its end",
                s.func.lambda
            )));
        };
        stats.steps += 1;
        if stats.steps > stats.step_limit {
            return Err(too_many_steps(stats.step_limit));
        }
        if let Some(t) = trace.as_deref_mut() {
            match (op, s.func.nodes.get(s.pc)) {
                (Op::Return, _) => t.record(
                    Kind::Return,
                    s.func.lambda,
                    s.frames.len(),
                    Some(s.stack.last().unwrap_or(&Value::Nil)),
                ),
                (_, Some(&node)) if node != 0 => t.record(Kind::Eval, node, s.frames.len(), None),
                _ => {}
            }
        }
        s.pc += 1;
        match op {
            Op::Const(i) => s.stack.push(s.func.consts[i as usize].clone()),
            Op::Local { depth, index } => {
                let v = s.env.at(depth as usize, index as usize).ok_or_else(|| {
                    error(format!(
                        "node {}: no variable at ({depth}, {index})",
                        s.func.lambda
                    ))
                })?;
                s.stack.push(v.clone());
            }
            Op::Name(i) | Op::Global(i) => {
                let Value::Str(name) = &s.func.consts[i as usize] else {
                    unreachable!("names are string constants")
                };
                let v = match (op, s.env.lookup(name)) {
                    (Op::Name(_), Some(v)) => v.clone(),
                    _ => global(&s.store, name)?,
                };
                s.stack.push(v);
            }
            Op::Closure(lambda) => s.stack.push(Value::Closure(Arc::new(Closure {
                lambda,
                env: s.env.clone(),
            }))),
            Op::Call(argc) | Op::TailCall(argc) => {
                let at = s
                    .stack
                    .len()
                    .checked_sub(argc as usize + 1)
                    .ok_or_else(|| error("the value stack is short of arguments"))?;
                let args = s.stack.split_off(at + 1);
                let callee = s.stack.pop().expect("checked above");
                match &callee {
                    Value::Prim(p) => s.stack.push(apply_prim(*p, &args)?),
                    Value::Continuation(k) => {
                        let value = continued_with(args)?;
                        let Continuation::Stack(k) = &**k else {
                            return Err(error(
                                "a continuation made by the walker cannot go on in the stack machine",
                            ));
                        };
                        let mut place = |lambda: u64, pc: usize| -> Result<Arc<Func>> {
                            let f = func_of(code, &mut foreign, db, attrs, lambda)?;
                            if pc > f.code.len() {
                                return Err(error("a continuation returns past its code"));
                            }
                            Ok(f)
                        };
                        s.func = place(k.func, k.pc)?;
                        s.frames = k
                            .frames
                            .iter()
                            .map(|(lambda, pc, env)| {
                                Ok(Return {
                                    func: place(*lambda, *pc)?,
                                    pc: *pc,
                                    env: env.clone(),
                                })
                            })
                            .collect::<Result<_>>()?;
                        s.pc = k.pc;
                        s.env = k.env.clone();
                        s.stack = k.stack.clone();
                        s.stack.push(value);
                    }
                    Value::Closure(closure) => {
                        let func = func_of(code, &mut foreign, db, attrs, closure.lambda)?;
                        let env = bind(&closure.env, &func.names, func.fixed, func.variadic, args)?;
                        if matches!(op, Op::Call(_)) {
                            s.frames.push(Return {
                                func: s.func.clone(),
                                pc: s.pc,
                                env: std::mem::take(&mut s.env),
                            });
                            stats.max_depth = stats.max_depth.max(s.frames.len());
                        }
                        if let Some(t) = trace.as_deref_mut() {
                            t.record(Kind::Call, closure.lambda, s.frames.len(), None);
                        }
                        s.func = func;
                        s.pc = 0;
                        s.env = env;
                    }
                    other => return Err(error(format!("{} is not a function", other.to_edn()))),
                }
            }
            Op::Return => {
                let value = s.stack.pop().unwrap_or(Value::Nil);
                match s.frames.pop() {
                    None => return Ok(Outcome::Done(value)),
                    Some(caller) => {
                        s.func = caller.func;
                        s.pc = caller.pc;
                        s.env = caller.env;
                        s.stack.push(value);
                    }
                }
            }
            Op::JumpIfFalse(to) => {
                if !s.stack.pop().unwrap_or(Value::Nil).truthy() {
                    s.pc = to as usize;
                }
            }
            Op::Jump(to) => s.pc = to as usize,
            Op::Park => {
                return Ok(Outcome::Parked {
                    reason: Wait::Resume,
                    state: s,
                })
            }
            Op::Vm { op, argc, name } => {
                let at = s
                    .stack
                    .len()
                    .checked_sub(argc as usize)
                    .ok_or_else(|| error("the value stack is short of operands"))?;
                let args = s.stack.split_off(at);
                let name = match name {
                    u32::MAX => None,
                    i => match &s.func.consts[i as usize] {
                        Value::Str(n) => Some(n.clone()),
                        _ => None,
                    },
                };
                if op.is_effect() {
                    return Ok(Outcome::Effect { op, args, state: s });
                }
                if op == VmOp::CurrentContinuation {
                    let k = Captured {
                        func: s.func.lambda,
                        pc: s.pc,
                        env: s.env.clone(),
                        stack: s.stack.clone(),
                        frames: (s.frames.iter())
                            .map(|f| (f.func.lambda, f.pc, f.env.clone()))
                            .collect(),
                    };
                    let k = Value::Continuation(Arc::new(Continuation::Stack(k)));
                    s.stack.push(k);
                    continue;
                }
                let value = store_op(op, name.as_ref(), args, &mut s.store)?;
                s.stack.push(value);
            }
        }
    }
}

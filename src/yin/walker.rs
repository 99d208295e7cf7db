//! The AST walker: a CESK machine whose control is a node of the program datoms, read in
//! place from the slab at every step. Nothing is compiled or cached, so it is the reference
//! the stack machine is checked against, and the slowest way to run.
//!
//! The continuation is a stack of frames, each waiting for one value. Applying a function
//! pushes nothing — the application's own frame was popped when its last operand came
//! back — so a call in tail position runs in constant continuation depth.

use super::ast::{Attrs, Node, NodeType, VmOp};
use super::machine::{
    apply_prim, bind, continued_with, error, lookup, store_op, too_many_steps, Outcome, Wait,
};
use super::trace::{Kind, Tracer};
use super::value::{Closure, Continuation, Env, Name, Store, Value};
use crate::dao::DbSnapshot;
use crate::error::Result;
use std::sync::Arc;

/// What the machine does next.
#[derive(Clone, Debug)]
pub enum Control {
    /// Evaluate this node in this environment.
    Eval(u64, Env),
    /// Hand this value to the top frame.
    Return(Value),
}

/// One waiting computation.
#[derive(Clone, Debug)]
pub enum Frame {
    /// The test of an `:if` is being evaluated.
    If {
        consequent: u64,
        alternate: u64,
        env: Env,
    },
    /// The operator and operands of an application (or a `:vm` operation's operands) are
    /// being evaluated left to right.
    Args {
        env: Env,
        /// The nodes still to evaluate, last first.
        pending: Vec<u64>,
        done: Vec<Value>,
        then: Then,
    },
}

#[derive(Clone, Debug)]
pub enum Then {
    Apply,
    Vm(VmOp, Option<Name>),
}

/// A whole machine state: what a parked agent keeps.
#[derive(Clone, Debug)]
pub struct State {
    pub control: Control,
    pub frames: Vec<Frame>,
    pub store: Store,
}

impl State {
    /// The state that runs the program whose root node is `root`.
    pub fn start(root: u64) -> State {
        State {
            control: Control::Eval(root, Env::empty()),
            frames: Vec::new(),
            store: Store::new(),
        }
    }

    /// A parked state, continued with `value` as the value of the expression that parked.
    pub fn resume_with(mut self, value: Value) -> State {
        self.control = Control::Return(value);
        self
    }
}

/// Counters of one run, and its budget.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    pub steps: u64,
    /// The deepest the continuation got.
    pub max_depth: usize,
    /// The run fails once `steps` would pass this (`u64::MAX`, the default: no limit).
    pub step_limit: u64,
}

impl Default for Stats {
    fn default() -> Stats {
        Stats {
            steps: 0,
            max_depth: 0,
            step_limit: u64::MAX,
        }
    }
}

enum Step {
    Go(Control),
    /// A closure of this `:lambda` was applied; its body comes next.
    Call(u64, Control),
    Park(Wait),
    /// An operation on the world outside the agent: the runtime performs it.
    Effect(VmOp, Vec<Value>),
}

/// Runs `state` until the program finishes or parks. With a tracer, every step is
/// recorded: an `:eval` of its node or a `:return` of its value, and a `:call` of each
/// closure applied.
pub fn run(
    db: &DbSnapshot<'_>,
    attrs: &Attrs,
    mut state: State,
    stats: &mut Stats,
    mut trace: Option<&mut Tracer<'_>>,
) -> Result<Outcome<State>> {
    loop {
        stats.steps += 1;
        if stats.steps > stats.step_limit {
            return Err(too_many_steps(stats.step_limit));
        }
        stats.max_depth = stats.max_depth.max(state.frames.len());
        let control = std::mem::replace(&mut state.control, Control::Return(Value::Nil));
        if let Some(t) = trace.as_deref_mut() {
            match &control {
                Control::Eval(e, _) => t.record(Kind::Eval, *e, state.frames.len(), None),
                Control::Return(v) => t.record(Kind::Return, 0, state.frames.len(), Some(v)),
            }
        }
        let step = match control {
            Control::Eval(e, env) => eval(db, attrs, e, env, &mut state)?,
            Control::Return(value) => match state.frames.pop() {
                None => return Ok(Outcome::Done(value)),
                Some(frame) => give(db, attrs, frame, value, &mut state)?,
            },
        };
        match step {
            Step::Go(control) => state.control = control,
            Step::Call(lambda, control) => {
                if let Some(t) = trace.as_deref_mut() {
                    t.record(Kind::Call, lambda, state.frames.len(), None);
                }
                state.control = control
            }
            Step::Park(reason) => return Ok(Outcome::Parked { reason, state }),
            Step::Effect(op, args) => return Ok(Outcome::Effect { op, args, state }),
        }
    }
}

fn eval(db: &DbSnapshot<'_>, attrs: &Attrs, e: u64, env: Env, state: &mut State) -> Result<Step> {
    let node = Node::read(db, attrs, e)?;
    Ok(match node.kind() {
        NodeType::Literal => Step::Go(Control::Return(super::literal(node.value.as_ref())?)),
        NodeType::Variable => {
            let name = node.name.as_deref().unwrap_or("");
            Step::Go(Control::Return(lookup(&env, &state.store, name)?))
        }
        NodeType::Lambda => Step::Go(Control::Return(Value::Closure(Arc::new(Closure {
            lambda: e,
            env,
        })))),
        NodeType::If => {
            state.frames.push(Frame::If {
                consequent: node.consequent,
                alternate: node.alternate,
                env: env.clone(),
            });
            Step::Go(Control::Eval(node.test, env))
        }
        NodeType::Application => {
            let mut pending = node.operands_in_order(db, attrs, e)?;
            pending.reverse();
            state.frames.push(Frame::Args {
                env: env.clone(),
                pending,
                done: Vec::new(),
                then: Then::Apply,
            });
            Step::Go(Control::Eval(node.operator, env))
        }
        NodeType::Vm(VmOp::Park) => Step::Park(Wait::Resume),
        NodeType::Vm(VmOp::CurrentContinuation) => Step::Go(Control::Return(Value::Continuation(
            Arc::new(Continuation::Walker(state.frames.clone())),
        ))),
        NodeType::Vm(op) => {
            let mut pending = node.operands_in_order(db, attrs, e)?;
            let then = Then::Vm(op, node.name.as_deref().map(Name::from));
            if pending.is_empty() {
                finish(db, attrs, then, Vec::new(), state)?
            } else {
                // Popped from the end: the first operand is evaluated now, the rest later.
                let first = pending.remove(0);
                pending.reverse();
                state.frames.push(Frame::Args {
                    env: env.clone(),
                    pending,
                    done: Vec::new(),
                    then,
                });
                Step::Go(Control::Eval(first, env))
            }
        }
    })
}

/// Hands `value` to `frame`.
fn give(
    db: &DbSnapshot<'_>,
    attrs: &Attrs,
    frame: Frame,
    value: Value,
    state: &mut State,
) -> Result<Step> {
    Ok(match frame {
        Frame::If {
            consequent,
            alternate,
            env,
        } => Step::Go(Control::Eval(
            if value.truthy() {
                consequent
            } else {
                alternate
            },
            env,
        )),
        Frame::Args {
            env,
            mut pending,
            mut done,
            then,
        } => {
            done.push(value);
            match pending.pop() {
                Some(next) => {
                    state.frames.push(Frame::Args {
                        env: env.clone(),
                        pending,
                        done,
                        then,
                    });
                    Step::Go(Control::Eval(next, env))
                }
                None => finish(db, attrs, then, done, state)?,
            }
        }
    })
}

/// All values of an application or operation are in: apply or perform it.
fn finish(
    db: &DbSnapshot<'_>,
    attrs: &Attrs,
    then: Then,
    mut values: Vec<Value>,
    state: &mut State,
) -> Result<Step> {
    match then {
        Then::Apply => {
            let args = values.split_off(1);
            let operator = values.pop().expect("the operator was evaluated first");
            apply(db, attrs, operator, args, state)
        }
        Then::Vm(op, _) if op.is_effect() => Ok(Step::Effect(op, values)),
        Then::Vm(op, name) => Ok(Step::Go(Control::Return(store_op(
            op,
            name.as_ref(),
            values,
            &mut state.store,
        )?))),
    }
}

/// Calls `operator`: a closure continues at its lambda's body, read from the datoms.
fn apply(
    db: &DbSnapshot<'_>,
    attrs: &Attrs,
    operator: Value,
    args: Vec<Value>,
    state: &mut State,
) -> Result<Step> {
    match &operator {
        Value::Continuation(k) => {
            let value = continued_with(args)?;
            let Continuation::Walker(frames) = &**k else {
                return Err(error(
                    "a continuation made by the stack machine cannot go on in the walker",
                ));
            };
            state.frames = frames.clone();
            Ok(Step::Go(Control::Return(value)))
        }
        Value::Prim(p) => Ok(Step::Go(Control::Return(apply_prim(*p, &args)?))),
        Value::Closure(closure) => {
            let lambda = Node::read(db, attrs, closure.lambda)?;
            let mut names = lambda.param_names();
            let fixed = names.len();
            let variadic = lambda.rest.is_some();
            if let Some(rest) = &lambda.rest {
                names.push(Name::from(rest.as_str()));
            }
            let env = bind(&closure.env, &names.into(), fixed, variadic, args)?;
            Ok(Step::Call(closure.lambda, Control::Eval(lambda.body, env)))
        }
        other => Err(error(format!("{} is not a function", other.to_edn()))),
    }
}

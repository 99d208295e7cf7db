//! The compiler from the Clojure subset to the Universal AST.
//!
//! Only the five core node types and the `:vm/…` and `:stream/…` operations come out:
//! `let` and `do` become applications of lambdas, `and`/`or` become lambdas around an
//! `if`, `def`/`defn` become `:vm/store-put`, and a quoted collection becomes a call of
//! `vector` or `hash-map` on literals. Applications in tail position are marked, which is
//! what lets both projections run loops in constant continuation depth.

use super::ast::{Ast, VmOp};
use super::reader::{read_all, Form, FormKind, Pos};
use super::value::{Name, Prim};
use crate::dao::Value as DaoValue;
use crate::error::{Error, ErrorKind, Result};
use std::collections::HashSet;

/// Compiles a whole program: its top-level forms run in order and the last one's value is
/// the result. Globals defined anywhere in the program may be used anywhere in it.
pub fn compile(source: &str) -> Result<Ast> {
    let forms = read_all(source).map_err(|e| fail(e.at, &e.message))?;
    let mut globals = HashSet::new();
    for form in &forms {
        collect_globals(form, &mut globals);
    }
    let mut compiler = Compiler {
        scopes: Vec::new(),
        globals,
        depth: 0,
    };
    compiler.body(&forms, Pos { line: 1, column: 1 }, true)
}

fn fail(at: Pos, message: &str) -> Error {
    Error::new(ErrorKind::InvalidArgument, format!("{at}: {message}"))
}

/// Names given to `def`/`defn` anywhere, so a function can call one defined after it.
fn collect_globals(form: &Form, out: &mut HashSet<String>) {
    match &form.kind {
        FormKind::List(items) => {
            if let [head, name, ..] = &items[..] {
                if let (FormKind::Symbol(h), FormKind::Symbol(n)) = (&head.kind, &name.kind) {
                    if h == "def" || h == "defn" {
                        out.insert(n.clone());
                    }
                }
            }
            if !matches!(items.first().map(|f| &f.kind), Some(FormKind::Symbol(q)) if q == "quote")
            {
                items.iter().for_each(|f| collect_globals(f, out));
            }
        }
        FormKind::Vector(items) | FormKind::Map(items) => {
            items.iter().for_each(|f| collect_globals(f, out))
        }
        _ => {}
    }
}

const SPECIAL: &[&str] = &[
    "fn",
    "if",
    "let",
    "do",
    "def",
    "defn",
    "and",
    "or",
    "quote",
    "park",
    "current-continuation",
    "resume",
    "store-get",
    "store-put",
];

/// How deep the program the compiler makes may be, in AST levels: each form inside another
/// is a level, a body (of `do`, `fn`, `let`, the program) adds two, and `let` bindings and
/// `and`/`or` operands nest the rest two or three levels apiece, since they become nested
/// lambdas. The datom
/// writer and loader and the stack machine's compiler recurse once per level, so a limit
/// keeps a pathological program an error instead of a stack overflow, even on a 2 MB
/// thread stack in a debug build.
pub const MAX_DEPTH: usize = 400;

struct Compiler {
    /// The parameter names of each enclosing lambda, innermost last.
    scopes: Vec<Vec<String>>,
    globals: HashSet<String>,
    /// How many nodes enclose the one being compiled (`let` and `and`/`or` chains nest
    /// levels per binding or operand).
    depth: usize,
}

fn literal(v: DaoValue) -> Ast {
    Ast::Literal(v)
}

fn call(operator: Ast, operands: Vec<Ast>, tail: bool) -> Ast {
    Ast::Application {
        operator: Box::new(operator),
        operands,
        tail,
    }
}

fn prim(p: Prim) -> Ast {
    Ast::Variable(p.name().into())
}

fn stream_op(name: &str) -> Option<VmOp> {
    Some(match name {
        "stream/make" => VmOp::StreamMake,
        "stream/put" => VmOp::StreamPut,
        "stream/cursor" => VmOp::StreamCursor,
        "stream/next" => VmOp::StreamNext,
        "stream/close" => VmOp::StreamClose,
        _ => return None,
    })
}

impl Compiler {
    fn bound(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s.iter().any(|n| n == name))
            || self.globals.contains(name)
            || Prim::from_name(name).is_some()
    }

    /// Goes `levels` deeper in the AST (the caller comes back up with `self.depth -=
    /// levels`), refusing a program nested more than `MAX_DEPTH` levels.
    fn enter(&mut self, at: Pos, levels: usize) -> Result<()> {
        if self.depth + levels > MAX_DEPTH {
            return Err(fail(
                at,
                &format!(
                    "the program nests more than {MAX_DEPTH} levels deep (every nested form, \
                     every let binding and every and/or operand nests the rest one level \
                     deeper)"
                ),
            ));
        }
        self.depth += levels;
        Ok(())
    }

    fn form(&mut self, form: &Form, tail: bool) -> Result<Ast> {
        self.enter(form.at, 1)?;
        let ast = self.form_here(form, tail);
        self.depth -= 1;
        ast
    }

    fn form_here(&mut self, form: &Form, tail: bool) -> Result<Ast> {
        Ok(match &form.kind {
            FormKind::Nil => literal(DaoValue::Nil),
            FormKind::Bool(b) => literal(DaoValue::Boolean(*b)),
            FormKind::Int(i) => literal(DaoValue::Long(*i)),
            FormKind::Float(f) => {
                literal(DaoValue::double(*f).map_err(|_| fail(form.at, "NaN is not a literal"))?)
            }
            FormKind::Str(s) => literal(DaoValue::String(s.clone())),
            FormKind::Keyword(k) => literal(DaoValue::Keyword(k.clone())),
            FormKind::Symbol(s) => {
                if SPECIAL.contains(&s.as_str()) || stream_op(s).is_some() {
                    return Err(fail(
                        form.at,
                        &format!("{s} is a special form; it must be called: ({s} …)"),
                    ));
                }
                if !self.bound(s) {
                    return Err(fail(form.at, &format!("unbound symbol {s}")));
                }
                Ast::Variable(s.as_str().into())
            }
            FormKind::Vector(items) => {
                let items = self.each(items)?;
                call(prim(Prim::Vector), items, tail)
            }
            FormKind::Map(items) => {
                let items = self.each(items)?;
                call(prim(Prim::HashMap), items, tail)
            }
            FormKind::List(items) => self.list(form.at, items, tail)?,
        })
    }

    fn each(&mut self, forms: &[Form]) -> Result<Vec<Ast>> {
        forms.iter().map(|f| self.form(f, false)).collect()
    }

    fn list(&mut self, at: Pos, items: &[Form], tail: bool) -> Result<Ast> {
        let Some(head) = items.first() else {
            return Err(fail(
                at,
                "() is not a call; quote it, '(), for an empty list",
            ));
        };
        let args = &items[1..];
        if let FormKind::Symbol(name) = &head.kind {
            let shadowed = self.scopes.iter().any(|s| s.iter().any(|n| n == name));
            if !shadowed {
                if let Some(ast) = self.special(at, name, args, tail)? {
                    return Ok(ast);
                }
            }
        }
        let operator = self.form(head, false)?;
        let operands = self.each(args)?;
        Ok(call(operator, operands, tail))
    }

    fn special(&mut self, at: Pos, name: &str, args: &[Form], tail: bool) -> Result<Option<Ast>> {
        let want = |n: usize| -> Result<()> {
            if args.len() == n {
                Ok(())
            } else {
                Err(fail(
                    at,
                    &format!(
                        "({name} …) takes {n} form{}, not {}",
                        if n == 1 { "" } else { "s" },
                        args.len()
                    ),
                ))
            }
        };
        Ok(Some(match name {
            "quote" => {
                want(1)?;
                self.quoted(&args[0])?
            }
            "if" => {
                if args.len() != 2 && args.len() != 3 {
                    return Err(fail(at, "(if test then else?) takes 2 or 3 forms"));
                }
                Ast::If {
                    test: Box::new(self.form(&args[0], false)?),
                    consequent: Box::new(self.form(&args[1], tail)?),
                    alternate: Box::new(match args.get(2) {
                        Some(f) => self.form(f, tail)?,
                        None => literal(DaoValue::Nil),
                    }),
                }
            }
            "fn" => self.lambda(at, args)?,
            "do" => self.body(args, at, tail)?,
            "let" => {
                let Some(Form {
                    kind: FormKind::Vector(bindings),
                    at: bat,
                }) = args.first()
                else {
                    return Err(fail(
                        at,
                        "(let [name value …] body…) needs a binding vector",
                    ));
                };
                if bindings.len() % 2 != 0 {
                    return Err(fail(*bat, "let bindings come in name/value pairs"));
                }
                self.let_chain(bindings, &args[1..], at, tail)?
            }
            "def" => {
                want(2)?;
                let global = symbol_name(&args[0], "def")?;
                let value = self.form(&args[1], false)?;
                store_put(global, value)
            }
            "defn" => {
                if args.len() < 2 {
                    return Err(fail(
                        at,
                        "(defn name [params] body…) needs a name and parameters",
                    ));
                }
                let global = symbol_name(&args[0], "defn")?;
                let function = self.lambda(at, &args[1..])?;
                store_put(global, function)
            }
            "and" | "or" => self.and_or(name == "and", args, tail)?,
            "park" => {
                want(0)?;
                vm(VmOp::Park, None, Vec::new())
            }
            "current-continuation" => {
                want(0)?;
                vm(VmOp::CurrentContinuation, None, Vec::new())
            }
            "resume" => {
                want(2)?;
                vm(VmOp::Resume, None, self.each(args)?)
            }
            "store-get" => {
                want(1)?;
                vm(VmOp::StoreGet, Some(key_name(&args[0])?), Vec::new())
            }
            "store-put" => {
                want(2)?;
                let key = key_name(&args[0])?;
                vm(VmOp::StorePut, Some(key), vec![self.form(&args[1], false)?])
            }
            other => match stream_op(other) {
                Some(op) => {
                    want(op.arity())?;
                    vm(op, None, self.each(args)?)
                }
                None => return Ok(None),
            },
        }))
    }

    /// `(fn [a b & more] body…)`.
    fn lambda(&mut self, at: Pos, args: &[Form]) -> Result<Ast> {
        let Some(Form {
            kind: FormKind::Vector(params),
            at: pat,
        }) = args.first()
        else {
            return Err(fail(at, "(fn [params] body…) needs a parameter vector"));
        };
        let mut names = Vec::new();
        let mut rest = None;
        let mut i = 0;
        while i < params.len() {
            let name = symbol_name(&params[i], "fn")?;
            if &*name == "&" {
                match &params[i + 1..] {
                    [one] => rest = Some(symbol_name(one, "fn")?),
                    _ => return Err(fail(*pat, "& must be followed by exactly one name")),
                }
                break;
            }
            names.push(name);
            i += 1;
        }
        let mut scope: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        scope.extend(rest.iter().map(|n| n.to_string()));
        self.scopes.push(scope);
        let body = self.body(&args[1..], at, true);
        self.scopes.pop();
        Ok(Ast::Lambda {
            params: names,
            rest,
            body: Box::new(body?),
        })
    }

    /// A sequence of forms evaluated in order for the last one's value: `(do a b c)` is
    /// `((fn [#do] ((fn [#do] c) b)) a)`. `#do` cannot be written in a program.
    /// A body (of `do`, `fn`, `let`, or the program): its forms are evaluated in order for
    /// their effects and the last one's value is the body's. All but the last are operands
    /// of one call to a lambda whose body is the last form (in tail position), so a body of
    /// any length is two levels deep, not one per form.
    fn body(&mut self, forms: &[Form], _at: Pos, tail: bool) -> Result<Ast> {
        match forms {
            [] => Ok(literal(DaoValue::Nil)),
            [last] => self.form(last, tail),
            [before @ .., last] => {
                let values = before
                    .iter()
                    .map(|f| self.form(f, false))
                    .collect::<Result<Vec<_>>>()?;
                self.scopes.push(vec!["#do".into()]);
                self.enter(last.at, 2)?;
                let last = self.form(last, true);
                self.depth -= 2;
                self.scopes.pop();
                Ok(call(
                    Ast::Lambda {
                        params: Vec::new(),
                        rest: Some("#do".into()),
                        body: Box::new(last?),
                    },
                    values,
                    tail,
                ))
            }
        }
    }

    fn let_chain(&mut self, bindings: &[Form], body: &[Form], at: Pos, tail: bool) -> Result<Ast> {
        let [name, value, more @ ..] = bindings else {
            return self.body(body, at, tail);
        };
        let bound_at = name.at;
        let name = symbol_name(name, "let")?;
        let value = self.form(value, false)?;
        self.scopes.push(vec![name.to_string()]);
        self.enter(bound_at, 2)?;
        let inner = self.let_chain(more, body, at, true);
        self.depth -= 2;
        self.scopes.pop();
        Ok(call(
            Ast::Lambda {
                params: vec![name],
                rest: None,
                body: Box::new(inner?),
            },
            vec![value],
            tail,
        ))
    }

    /// `(and a b)` is `((fn [#and] (if #and b #and)) a)`; `or` swaps the branches.
    fn and_or(&mut self, is_and: bool, args: &[Form], tail: bool) -> Result<Ast> {
        match args {
            [] => Ok(literal(DaoValue::Boolean(is_and))),
            [only] => self.form(only, tail),
            [first, rest @ ..] => {
                let temp: Name = if is_and { "#and" } else { "#or" }.into();
                let value = self.form(first, false)?;
                self.scopes.push(vec![temp.to_string()]);
                self.enter(first.at, 3)?;
                let others = self.and_or(is_and, rest, true);
                self.depth -= 3;
                self.scopes.pop();
                let others = others?;
                let held = Ast::Variable(temp.clone());
                let (consequent, alternate) = if is_and {
                    (others, held)
                } else {
                    (held, others)
                };
                Ok(call(
                    Ast::Lambda {
                        params: vec![temp.clone()],
                        rest: None,
                        body: Box::new(Ast::If {
                            test: Box::new(Ast::Variable(temp)),
                            consequent: Box::new(consequent),
                            alternate: Box::new(alternate),
                        }),
                    },
                    vec![value],
                    tail,
                ))
            }
        }
    }
}

fn vm(op: VmOp, name: Option<Name>, operands: Vec<Ast>) -> Ast {
    Ast::Vm { op, name, operands }
}

fn store_put(name: Name, value: Ast) -> Ast {
    vm(VmOp::StorePut, Some(name), vec![value])
}

fn symbol_name(form: &Form, what: &str) -> Result<Name> {
    match &form.kind {
        FormKind::Symbol(s) if !s.contains(' ') => Ok(s.as_str().into()),
        _ => Err(fail(form.at, &format!("{what} expects a name here"))),
    }
}

/// The key of `store-get`/`store-put`: a keyword, or a quoted symbol.
fn key_name(form: &Form) -> Result<Name> {
    match &form.kind {
        FormKind::Keyword(k) => Ok(format!(":{k}").into()),
        FormKind::List(items)
            if items.len() == 2 && items[0].kind == FormKind::Symbol("quote".into()) =>
        {
            symbol_name(&items[1], "store-get")
        }
        _ => Err(fail(
            form.at,
            "the store key must be a keyword or a quoted symbol",
        )),
    }
}

impl Compiler {
    /// A quoted form as data: scalars are literals (symbols stay symbols), lists and vectors
    /// become `vector` calls and maps `hash-map` calls on quoted items.
    fn quoted(&mut self, form: &Form) -> Result<Ast> {
        self.enter(form.at, 1)?;
        let ast = self.quoted_here(form);
        self.depth -= 1;
        ast
    }

    fn quoted_here(&mut self, form: &Form) -> Result<Ast> {
        Ok(match &form.kind {
            FormKind::Symbol(s) => literal(DaoValue::Symbol(s.clone())),
            FormKind::List(items) | FormKind::Vector(items) | FormKind::Map(items) => {
                let make = match form.kind {
                    FormKind::Map(_) => Prim::HashMap,
                    _ => Prim::Vector,
                };
                let items = items
                    .iter()
                    .map(|f| self.quoted(f))
                    .collect::<Result<_>>()?;
                call(prim(make), items, false)
            }
            FormKind::Nil => literal(DaoValue::Nil),
            FormKind::Bool(b) => literal(DaoValue::Boolean(*b)),
            FormKind::Int(i) => literal(DaoValue::Long(*i)),
            FormKind::Float(f) => literal(DaoValue::double(*f).map_err(|_| fail(form.at, "NaN"))?),
            FormKind::Str(s) => literal(DaoValue::String(s.clone())),
            FormKind::Keyword(k) => literal(DaoValue::Keyword(k.clone())),
        })
    }
}

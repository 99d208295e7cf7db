//! Planning and evaluation. The only intermediate form is a relation: a list of variables
//! and the rows binding them. Clauses are taken in an order chosen as the query runs: a
//! predicate as soon as its variables are bound, otherwise the data pattern with the most
//! bound positions, ties going to the one the index says matches fewest datoms (so the
//! order the user wrote does not matter). A pattern is joined to the relation row by row,
//! each row reading the index its bound positions select (see `join`) in place in the slab,
//! through one forward-moving cursor per index.

use super::parse::{Binding, Clause, Comparison, In, Query, Rule, Term};
use crate::dao::{Attribute, Datom, DbSnapshot, Index, Schema, Value, View, RETRACTED};
use crate::error::{Error, ErrorKind, Result};
use clojure_reader::edn::Edn;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

/// Variables and the rows that bind them.
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub vars: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Relation {
    pub(crate) fn column(&self, var: &str) -> Option<usize> {
        self.vars.iter().position(|v| v == var)
    }
}

/// A value given for an `:in` binding.
#[derive(Clone)]
pub enum Input<'g> {
    Scalar(Value),
    Collection(Vec<Value>),
    /// For `%`.
    Rules(Vec<Rule>),
    /// For `[?a ?b]`.
    Tuple(Vec<Value>),
    /// For `[[?a ?b]]`, and for a `$name` source that patterns match by position.
    Relation(Vec<Vec<Value>>),
    /// For a `$name` source: another database (or another version of one), read in its
    /// current view.
    Database(DbSnapshot<'g>),
}

impl std::fmt::Debug for Input<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Input::Scalar(v) => write!(f, "the value {}", v.to_edn()),
            Input::Collection(_) => write!(f, "a collection"),
            Input::Rules(_) => write!(f, "rules"),
            Input::Tuple(_) => write!(f, "a tuple"),
            Input::Relation(_) => write!(f, "a relation"),
            Input::Database(_) => write!(f, "a database"),
        }
    }
}

/// A database as patterns see it: one version, one view, and its schema.
struct DbSource<'g> {
    db: DbSnapshot<'g>,
    view: View,
    schema: Schema,
}

impl<'g> DbSource<'g> {
    fn new(db: DbSnapshot<'g>, view: View) -> Result<DbSource<'g>> {
        Ok(DbSource {
            schema: Schema::read(&db)?,
            db,
            view,
        })
    }

    /// The datoms in the view whose `index` keys start with `prefix`.
    fn scan(&self, index: Index, prefix: &[u8]) -> crate::dao::Datoms<'g> {
        self.db.range(index, self.view, prefix, None)
    }
}

/// What a `$name` in a pattern reads.
enum Source<'g> {
    Database(DbSource<'g>),
    Relation(Vec<Vec<Value>>),
}

struct Context<'g> {
    /// `$`: the database the query is run against, in the view asked for.
    main: DbSource<'g>,
    /// The other sources given as inputs.
    sources: HashMap<String, Source<'g>>,
    /// Each rule's tuples, computed to a fixpoint before the query runs.
    rules: RefCell<HashMap<String, RuleTuples>>,
}

/// The tuples a rule has found so far, and how many arguments it takes.
struct RuleTuples {
    arity: usize,
    tuples: BTreeSet<Vec<Value>>,
}

/// Runs the where clauses of `query`; returns the relation over all their variables.
pub fn run<'g>(
    db: &DbSnapshot<'g>,
    view: View,
    query: &Query,
    inputs: &[Input<'g>],
) -> Result<Relation> {
    let mut context = Context {
        main: DbSource::new(*db, view)?,
        sources: HashMap::new(),
        rules: RefCell::new(HashMap::new()),
    };
    let mut rules: Vec<Rule> = Vec::new();
    let mut relation = Relation {
        vars: Vec::new(),
        rows: vec![Vec::new()],
    };
    let mut given = inputs.iter();
    for binding in &query.inputs {
        match binding {
            In::Database => {}
            In::Source(name) => {
                let source = match given.next() {
                    Some(Input::Database(db)) => {
                        Source::Database(DbSource::new(*db, View::Current)?)
                    }
                    Some(Input::Relation(tuples)) => Source::Relation(tuples.clone()),
                    Some(other) => {
                        return Err(invalid(format!(
                            ":in {name} takes a database or a relation, not {other:?}"
                        )))
                    }
                    None => return Err(invalid(format!(":in {name} has no input"))),
                };
                context.sources.insert(name.clone(), source);
            }
            In::Rules => match given.next() {
                Some(Input::Rules(given_rules)) => rules = given_rules.clone(),
                _ => return Err(invalid(":in % takes the rules")),
            },
            In::Scalar(_) | In::Collection(_) | In::Tuple(_) | In::Relation(_) => {
                // Every input becomes a set of tuples over its variables, crossed with the
                // rows so far.
                let (vars, tuples): (Vec<String>, Vec<Vec<Value>>) = match (binding, given.next()) {
                    (In::Scalar(var), Some(Input::Scalar(v))) => {
                        (vec![var.clone()], vec![vec![v.clone()]])
                    }
                    (In::Collection(var), Some(Input::Collection(vs))) => (
                        vec![var.clone()],
                        vs.iter().map(|v| vec![v.clone()]).collect(),
                    ),
                    (In::Tuple(vars), Some(Input::Tuple(t))) if t.len() == vars.len() => {
                        (vars.clone(), vec![t.clone()])
                    }
                    (In::Relation(vars), Some(Input::Relation(ts)))
                        if ts.iter().all(|t| t.len() == vars.len()) =>
                    {
                        (vars.clone(), ts.clone())
                    }
                    (_, None) => return Err(invalid(format!(":in {binding} has no input"))),
                    (_, Some(other)) => {
                        return Err(invalid(format!(":in {binding} does not take {other:?}")))
                    }
                };
                relation.vars.extend(vars);
                relation.rows = relation
                    .rows
                    .iter()
                    .flat_map(|row| {
                        tuples.iter().map(move |t| {
                            let mut row = row.clone();
                            row.extend(t.iter().cloned());
                            row
                        })
                    })
                    .collect();
            }
        }
    }
    if given.next().is_some() {
        return Err(invalid("more inputs than :in bindings"));
    }

    compute_rules(&context, &rules)?;
    solve(&context, relation, &query.clauses)
}

/// Evaluates every rule bottom up until no rule finds a new tuple. Tuples are sets, so
/// recursion through cycles in the data ends.
fn compute_rules(context: &Context<'_>, rules: &[Rule]) -> Result<()> {
    for rule in rules {
        let mut computed = context.rules.borrow_mut();
        let entry = computed
            .entry(rule.name.clone())
            .or_insert_with(|| RuleTuples {
                arity: rule.params.len(),
                tuples: BTreeSet::new(),
            });
        if entry.arity != rule.params.len() {
            return Err(invalid(format!(
                "rule {} is defined with different numbers of arguments",
                rule.name
            )));
        }
    }
    loop {
        let mut changed = false;
        for rule in rules {
            let unit = Relation {
                vars: Vec::new(),
                rows: vec![Vec::new()],
            };
            let found = solve(context, unit, &rule.body)?;
            let columns = rule
                .params
                .iter()
                .map(|p| {
                    found.column(p).ok_or_else(|| {
                        invalid(format!(
                            "rule {}: {p} is not bound by the rule's body",
                            rule.name
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let mut computed = context.rules.borrow_mut();
            let tuples = &mut computed.get_mut(&rule.name).expect("registered").tuples;
            for row in &found.rows {
                changed |= tuples.insert(columns.iter().map(|&c| row[c].clone()).collect());
            }
        }
        if !changed {
            return Ok(());
        }
    }
}

/// Joins a rule call with the rule's tuples.
fn join_rule(
    context: &Context<'_>,
    relation: Relation,
    name: &str,
    args: &[Term],
    text: &str,
) -> Result<Relation> {
    let tuples: Vec<Vec<Value>> = {
        let computed = context.rules.borrow();
        let RuleTuples { arity, tuples } = computed
            .get(name)
            .ok_or_else(|| invalid(format!("clause {text}: unknown rule {name}")))?;
        if *arity != args.len() {
            return Err(invalid(format!(
                "clause {text}: rule {name} takes {arity} arguments"
            )));
        }
        tuples.iter().cloned().collect()
    };
    join_tuples(&context.main, relation, &tuples, args, text)
}

/// Joins `relation` with tuples matched by position against `args` (a rule's tuples, or a
/// relation given as a source; a tuple longer than the arguments matches on its prefix).
fn join_tuples(
    source: &DbSource<'_>,
    relation: Relation,
    tuples: &[Vec<Value>],
    args: &[Term],
    text: &str,
) -> Result<Relation> {
    let mut new_vars: Vec<String> = Vec::new();
    for v in args.iter().filter_map(Term::var) {
        if relation.column(v).is_none() && !new_vars.iter().any(|n| n == v) {
            new_vars.push(v.to_string());
        }
    }
    let constants: Vec<Option<Value>> = args
        .iter()
        .map(|a| match a {
            Term::Constant(c) => source
                .db
                .literal(None, c)
                .map(Some)
                .map_err(|e| invalid(format!("clause {text}: {}", e.message()))),
            _ => Ok(None),
        })
        .collect::<Result<_>>()?;
    let mut vars = relation.vars.clone();
    vars.extend(new_vars.iter().cloned());
    let mut rows = Vec::new();
    for row in &relation.rows {
        'tuples: for tuple in tuples.iter().filter(|t| t.len() >= args.len()) {
            let mut fresh: Vec<Option<Value>> = vec![None; new_vars.len()];
            for (i, arg) in args.iter().enumerate() {
                match arg {
                    Term::Blank => {}
                    Term::Constant(_) => {
                        if constants[i].as_ref() != Some(&tuple[i]) {
                            continue 'tuples;
                        }
                    }
                    Term::Var(v) => match relation.column(v) {
                        Some(c) if row[c] != tuple[i] => continue 'tuples,
                        Some(_) => {}
                        None => {
                            let slot =
                                &mut fresh[new_vars.iter().position(|n| n == v).expect("new")];
                            match slot {
                                Some(seen) if *seen != tuple[i] => continue 'tuples,
                                _ => *slot = Some(tuple[i].clone()),
                            }
                        }
                    },
                }
            }
            let mut extended = row.clone();
            extended.extend(fresh.into_iter().map(|v| v.expect("bound by the call")));
            rows.push(extended);
        }
    }
    Ok(Relation { vars, rows })
}

/// Evaluates `clauses` starting from `relation`, choosing the order as it goes.
fn solve(context: &Context<'_>, mut relation: Relation, clauses: &[Clause]) -> Result<Relation> {
    let mut pending: Vec<&Clause> = clauses.iter().collect();
    while !pending.is_empty() {
        let bound = |var: &str| relation.vars.iter().any(|v| v == var);
        let binders_left = pending
            .iter()
            .any(|c| matches!(c, Clause::Pattern { .. } | Clause::Or { .. }));
        // Filters first, as soon as they can run: a predicate once its variables are bound;
        // a `not` once they are, or once nothing is left that could bind them.
        let ready = pending.iter().position(|c| match c {
            Clause::Predicate { .. } | Clause::Missing { .. } => c.vars().iter().all(|v| bound(v)),
            Clause::Function { args, .. } => args.iter().filter_map(Term::var).all(bound),
            Clause::Not { .. } => !binders_left || c.vars().iter().all(|v| bound(v)),
            _ => false,
        });
        let next = match ready {
            Some(i) => i,
            // Otherwise the most selective pattern; an `or` after every pattern.
            None => pending
                .iter()
                .enumerate()
                .filter_map(|(i, c)| match c {
                    // Among equally bound patterns, the one matching fewest datoms.
                    Clause::Pattern { source, terms, .. } => Some((
                        i,
                        1 + score(terms, &bound),
                        estimate(context, source.as_deref(), terms, &bound),
                    )),
                    Clause::Rule { args, .. } => Some((i, 1 + score(args, &bound).min(8), 0)),
                    Clause::Or { .. } => Some((i, 0, 0)),
                    _ => None,
                })
                .max_by_key(|&(i, score, size)| {
                    (score, std::cmp::Reverse(size), std::cmp::Reverse(i))
                })
                .map(|(i, _, _)| i)
                .ok_or_else(|| {
                    let clause = pending[0];
                    let vars = clause.vars();
                    let unbound = vars.iter().find(|v| !bound(v)).map_or("?", |v| v.as_str());
                    invalid(format!(
                        "clause {}: variable {unbound} is not bound by any pattern",
                        clause.text()
                    ))
                })?,
        };
        let clause = pending.remove(next);
        relation = match clause {
            Clause::Predicate { op, args, text } => filter(context, relation, *op, args, text)?,
            Clause::Pattern {
                source: None,
                terms,
                text,
            } => {
                let limits = value_limits(context, &relation, terms, &pending);
                join(&context.main, relation, terms, text, &limits)?
            }
            Clause::Pattern {
                source: Some(name),
                terms,
                text,
            } => match context.sources.get(name) {
                Some(Source::Database(db)) => {
                    let limits = value_limits(context, &relation, terms, &pending);
                    join(db, relation, terms, text, &limits)?
                }
                Some(Source::Relation(tuples)) => {
                    join_tuples(&context.main, relation, tuples, terms, text)?
                }
                None => {
                    return Err(invalid(format!(
                        "clause {text}: {name} is not a source given in :in"
                    )))
                }
            },
            Clause::Rule { name, args, text } => join_rule(context, relation, name, args, text)?,
            Clause::Function {
                name,
                args,
                bind,
                text,
            } => apply(context, relation, name, args, bind, text)?,
            Clause::Missing {
                entity,
                attribute,
                text,
            } => {
                let a = context.main.schema.attribute(attribute)?.id;
                let column = entity.var().and_then(|v| relation.column(v));
                let mut rows = Vec::new();
                for row in &relation.rows {
                    let e = match (entity, column) {
                        (_, Some(c)) => entity_of(&row[c], text)?,
                        (Term::Constant(c), None) => {
                            context.main.db.resolve_entity(&c.to_string())?
                        }
                        _ => {
                            return Err(invalid(format!("clause {text}: the entity is not bound")))
                        }
                    };
                    let mut prefix = e.to_be_bytes().to_vec();
                    prefix.extend_from_slice(&a.to_be_bytes());
                    if context.main.scan(Index::Eavt, &prefix).next().is_none() {
                        rows.push(row.clone());
                    }
                }
                Relation {
                    vars: relation.vars,
                    rows,
                }
            }
            Clause::Not {
                join,
                clauses,
                text,
            } => {
                // Each row is kept when the clauses, run on that row alone (or on just its
                // join variables), find nothing.
                let shared: Vec<usize> = match join {
                    None => (0..relation.vars.len()).collect(),
                    Some(join) => join
                        .iter()
                        .map(|v| {
                            relation.column(v).ok_or_else(|| {
                                invalid(format!("clause {text}: join variable {v} is not bound"))
                            })
                        })
                        .collect::<Result<_>>()?,
                };
                let mut rows = Vec::new();
                for row in &relation.rows {
                    let alone = Relation {
                        vars: shared.iter().map(|&c| relation.vars[c].clone()).collect(),
                        rows: vec![shared.iter().map(|&c| row[c].clone()).collect()],
                    };
                    if solve(context, alone, clauses)?.rows.is_empty() {
                        rows.push(row.clone());
                    }
                }
                Relation {
                    vars: relation.vars,
                    rows,
                }
            }
            Clause::Or {
                join: Some(join),
                branches,
                text,
            } => or_join(context, relation, join, branches, text)?,
            Clause::Or {
                join: None,
                branches,
                text,
            } => {
                // The union of what each branch finds; every branch must bind the same
                // new variables.
                let mut union: Option<Relation> = None;
                for branch in branches {
                    let found = solve(context, relation.clone(), branch)?;
                    match &mut union {
                        None => union = Some(found),
                        Some(so_far) => {
                            if so_far.vars.len() != found.vars.len()
                                || !found.vars.iter().all(|v| so_far.vars.contains(v))
                            {
                                return Err(invalid(format!(
                                    "clause {text}: every branch of an or must bind the same variables"
                                )));
                            }
                            let order: Vec<usize> = so_far
                                .vars
                                .iter()
                                .map(|v| found.vars.iter().position(|f| f == v).expect("same vars"))
                                .collect();
                            so_far.rows.extend(
                                found
                                    .rows
                                    .iter()
                                    .map(|r| order.iter().map(|&i| r[i].clone()).collect()),
                            );
                        }
                    }
                }
                let mut union = union.unwrap_or(relation);
                union.rows.sort();
                union.rows.dedup();
                union
            }
        };
    }
    Ok(relation)
}

/// `(or-join [?v ...] branch ...)`: each branch runs on the distinct bindings of the join
/// variables already bound, its answers are cut down to the join variables, and their
/// union is joined back to the relation.
fn or_join(
    context: &Context<'_>,
    relation: Relation,
    join: &[String],
    branches: &[Vec<Clause>],
    text: &str,
) -> Result<Relation> {
    let shared: Vec<&String> = join
        .iter()
        .filter(|v| relation.column(v).is_some())
        .collect();
    let mut input_rows: Vec<Vec<Value>> = relation
        .rows
        .iter()
        .map(|row| {
            shared
                .iter()
                .map(|v| row[relation.column(v).expect("bound")].clone())
                .collect()
        })
        .collect();
    input_rows.sort();
    input_rows.dedup();
    let input = Relation {
        vars: shared.iter().map(|v| v.to_string()).collect(),
        rows: input_rows,
    };
    let mut union: BTreeSet<Vec<Value>> = BTreeSet::new();
    for branch in branches {
        let found = solve(context, input.clone(), branch)?;
        let columns = join
            .iter()
            .map(|v| {
                found.column(v).ok_or_else(|| {
                    invalid(format!(
                        "clause {text}: a branch does not bind the join variable {v}"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        union.extend(
            found
                .rows
                .iter()
                .map(|r| columns.iter().map(|&c| r[c].clone()).collect::<Vec<_>>()),
        );
    }
    // Join back on the shared variables, adding the join variables the relation lacked.
    let added: Vec<usize> = (0..join.len())
        .filter(|&i| relation.column(&join[i]).is_none())
        .collect();
    let mut vars = relation.vars.clone();
    vars.extend(added.iter().map(|&i| join[i].clone()));
    let mut rows = Vec::new();
    for row in &relation.rows {
        for tuple in &union {
            let agrees = join
                .iter()
                .enumerate()
                .all(|(i, v)| relation.column(v).is_none_or(|c| row[c] == tuple[i]));
            if agrees {
                let mut extended = row.clone();
                extended.extend(added.iter().map(|&i| tuple[i].clone()));
                rows.push(extended);
            }
        }
    }
    Ok(Relation { vars, rows })
}

/// The range of values a pattern's new value variable can take for the comparisons still
/// pending on it, when each compares it with a constant or a value bound the same way in
/// every row: `[?e :salary ?s] [(> ?s 50000)]` then scans only the salaries above 50000
/// (in AVET) instead of all of them. The comparisons still run afterwards; the range only
/// skips datoms they would drop.
struct ValueLimits {
    low: Option<Value>,
    high: Option<(Value, bool)>,
}

fn value_limits(
    context: &Context<'_>,
    relation: &Relation,
    terms: &[Term],
    pending: &[&Clause],
) -> ValueLimits {
    let mut limits = ValueLimits {
        low: None,
        high: None,
    };
    let Some(Term::Var(v)) = terms.get(2) else {
        return limits;
    };
    if relation.column(v).is_some() || relation.rows.len() != 1 {
        return limits;
    }
    let known = |term: &Term| -> Option<Value> {
        match term {
            Term::Constant(c) => ground(context, c).ok(),
            Term::Var(x) => relation.column(x).map(|c| relation.rows[0][c].clone()),
            Term::Blank => None,
        }
    };
    for clause in pending {
        let Clause::Predicate { op, args, .. } = clause else {
            continue;
        };
        // Put the variable on the left: `(< 3 ?v)` is `(> ?v 3)`.
        let (op, other) = match (args.first(), args.get(1)) {
            (Some(Term::Var(x)), Some(other)) if x == v => (*op, other),
            (Some(other), Some(Term::Var(x))) if x == v => match op {
                Comparison::Less => (Comparison::Greater, other),
                Comparison::LessOrEqual => (Comparison::GreaterOrEqual, other),
                Comparison::Greater => (Comparison::Less, other),
                Comparison::GreaterOrEqual => (Comparison::LessOrEqual, other),
                op => (*op, other),
            },
            _ => continue,
        };
        let Some(value) = known(other) else { continue };
        match op {
            Comparison::Greater | Comparison::GreaterOrEqual => {
                if limits.low.as_ref().is_none_or(|low| value > *low) {
                    limits.low = Some(value);
                }
            }
            Comparison::Less | Comparison::LessOrEqual => {
                let inclusive = op == Comparison::LessOrEqual;
                if limits.high.as_ref().is_none_or(|(high, _)| value < *high) {
                    limits.high = Some((value, inclusive));
                }
            }
            Comparison::Equal | Comparison::NotEqual => {}
        }
    }
    limits
}

/// About how many datoms a pattern matches when its known positions are all constants
/// (read from the index's shape, not scanned); 0 for a pattern joined through the
/// relation's variables (each row then looks up few datoms) or one that cannot be sized.
fn estimate(
    context: &Context<'_>,
    source: Option<&str>,
    terms: &[Term],
    bound: &dyn Fn(&str) -> bool,
) -> u64 {
    if terms.iter().filter_map(Term::var).any(bound) {
        return 0;
    }
    let db = match source {
        None => &context.main,
        Some(name) => match context.sources.get(name) {
            Some(Source::Database(db)) => db,
            _ => return 0,
        },
    };
    let attribute = match terms.get(1) {
        Some(Term::Constant(Edn::Key(k))) => db.schema.attribute(k).ok(),
        _ => None,
    };
    let mut prefix = Vec::new();
    let index = match (terms.first(), attribute, terms.get(2)) {
        (Some(Term::Constant(Edn::Int(e))), a, _) => {
            prefix.extend_from_slice(&e.to_be_bytes());
            if let Some(a) = a {
                prefix.extend_from_slice(&a.id.to_be_bytes());
            }
            Index::Eavt
        }
        (_, Some(a), Some(Term::Constant(v))) => match db.db.literal_in(&db.schema, a, v) {
            Ok(v) => {
                prefix.extend_from_slice(&a.id.to_be_bytes());
                v.encode(&mut prefix);
                Index::Avet
            }
            Err(_) => return 0,
        },
        (_, Some(a), _) => {
            prefix.extend_from_slice(&a.id.to_be_bytes());
            Index::Aevt
        }
        _ => return u64::MAX,
    };
    db.db.estimate(index, &prefix).unwrap_or(0)
}

/// How selective a pattern is given the bound variables: entity, value and attribute
/// positions, in that order of weight.
fn score(terms: &[Term], bound: &dyn Fn(&str) -> bool) -> u32 {
    let known = |t: &Term| match t {
        Term::Constant(_) => true,
        Term::Var(v) => bound(v),
        Term::Blank => false,
    };
    let weights = [8, 2, 4, 1];
    terms
        .iter()
        .zip(weights)
        .map(|(t, w)| if known(t) { w } else { 0 })
        .sum()
}

/// An argument of a predicate or function: a column of each row, or a constant resolved
/// once.
enum Arg {
    Column(usize),
    Constant(Value),
}

impl Arg {
    fn of(context: &Context<'_>, relation: &Relation, term: &Term, text: &str) -> Result<Arg> {
        match term {
            Term::Var(v) => relation
                .column(v)
                .map(Arg::Column)
                .ok_or_else(|| invalid(format!("clause {text}: variable {v} is not bound"))),
            Term::Constant(c) => Ok(Arg::Constant(ground(context, c)?)),
            Term::Blank => Err(invalid(format!("clause {text}: _ is not an argument"))),
        }
    }

    fn get<'r>(&'r self, row: &'r [Value]) -> &'r Value {
        match self {
            Arg::Column(c) => &row[*c],
            Arg::Constant(v) => v,
        }
    }
}

fn filter(
    context: &Context<'_>,
    relation: Relation,
    op: Comparison,
    args: &[Term],
    text: &str,
) -> Result<Relation> {
    let (left, right) = (
        Arg::of(context, &relation, &args[0], text)?,
        Arg::of(context, &relation, &args[1], text)?,
    );
    let keep = |row: &Vec<Value>| {
        let (a, b) = (left.get(row), right.get(row));
        match op {
            Comparison::Less => a < b,
            Comparison::LessOrEqual => a <= b,
            Comparison::Greater => a > b,
            Comparison::GreaterOrEqual => a >= b,
            Comparison::Equal => a == b,
            Comparison::NotEqual => a != b,
        }
    };
    let Relation { vars, mut rows } = relation;
    rows.retain(keep);
    Ok(Relation { vars, rows })
}

/// Evaluates a function clause row by row.
fn apply(
    context: &Context<'_>,
    relation: Relation,
    name: &str,
    args: &[Term],
    bind: &Binding,
    text: &str,
) -> Result<Relation> {
    let mut fresh: Vec<String> = Vec::new();
    for v in bind.terms().iter().filter_map(Term::var) {
        if relation.column(v).is_none() && !fresh.iter().any(|f| f == v) {
            fresh.push(v.to_string());
        }
    }
    let mut vars = relation.vars.clone();
    vars.extend(fresh.iter().cloned());
    // Constants resolved once (get-else's source and attribute are not values).
    let resolved: Vec<Option<Arg>> = args
        .iter()
        .map(|term| match term {
            Term::Constant(Edn::Key(_)) | Term::Blank => Ok(None),
            Term::Constant(Edn::Symbol(s)) if s.starts_with('$') => Ok(None),
            term => Arg::of(context, &relation, term, text).map(Some),
        })
        .collect::<Result<_>>()?;
    // Constants in the binding: the result must equal them.
    let constants: Vec<Option<Value>> = bind
        .terms()
        .iter()
        .map(|term| match term {
            Term::Constant(c) => ground(context, c).map(Some),
            _ => Ok(None),
        })
        .collect::<Result<_>>()?;
    let mut rows = Vec::new();
    for row in &relation.rows {
        let value = |term: &Term| -> Result<Value> {
            let at = args.iter().position(|a| std::ptr::eq(a, term));
            match (at.and_then(|i| resolved[i].as_ref()), term) {
                (Some(arg), _) => Ok(arg.get(row).clone()),
                (None, Term::Constant(c)) => context.main.db.literal(None, c),
                (None, _) => Err(invalid(format!("clause {text}: _ is not an argument"))),
            }
        };
        let result = match name {
            "+" | "-" | "*" | "/" => {
                let values = args.iter().map(value).collect::<Result<Vec<_>>>()?;
                arithmetic(name, &values, text)?
            }
            "str" => {
                let mut out = String::new();
                for arg in args {
                    match value(arg)? {
                        Value::String(s) => out.push_str(&s),
                        other => out.push_str(&other.to_edn()),
                    }
                }
                Value::String(out)
            }
            "ground" => match args {
                [Term::Constant(c)] => ground(context, c)?,
                _ => return Err(invalid(format!("clause {text}: ground takes one constant"))),
            },
            "get-else" => match args {
                [_source, entity, Term::Constant(Edn::Key(attribute)), default] => {
                    let a = context.main.schema.attribute(attribute)?;
                    if a.many {
                        return Err(invalid(format!(
                            "clause {text}: get-else needs a cardinality-one attribute"
                        )));
                    }
                    let e = entity_of(&value(entity)?, text)?;
                    let mut prefix = e.to_be_bytes().to_vec();
                    prefix.extend_from_slice(&a.id.to_be_bytes());
                    match context.main.scan(Index::Eavt, &prefix).next() {
                        Some(datom) => datom?.v,
                        None => value(default)?,
                    }
                }
                _ => {
                    return Err(invalid(format!(
                        "clause {text}: (get-else $ ?e :attribute default)"
                    )))
                }
            },
            "tuple" => Value::Tuple(args.iter().map(value).collect::<Result<_>>()?),
            "untuple" | "identity" => match args {
                [one] => value(one)?,
                _ => return Err(invalid(format!("clause {text}: {name} takes one argument"))),
            },
            other => return Err(invalid(format!("clause {text}: unknown function {other}"))),
        };
        let not_a = |what: &str, value: &Value| {
            invalid(format!(
                "clause {text}: the result {} is not {what}",
                value.to_edn()
            ))
        };
        let terms = bind.terms();
        // The result as tuples over the binding's terms.
        let tuples: Vec<Vec<Value>> = match (bind, result) {
            (Binding::Scalar(_), result) => vec![vec![result]],
            (Binding::Tuple(_), Value::Tuple(items)) if items.len() == terms.len() => vec![items],
            (Binding::Collection(_), Value::Tuple(items)) => {
                items.into_iter().map(|item| vec![item]).collect()
            }
            (Binding::Relation(_), Value::Tuple(rows)) => rows
                .into_iter()
                .map(|row| match row {
                    Value::Tuple(items) if items.len() == terms.len() => Ok(items),
                    other => Err(not_a(&format!("a tuple of {} items", terms.len()), &other)),
                })
                .collect::<Result<_>>()?,
            (Binding::Tuple(_), other) => {
                return Err(not_a(&format!("a tuple of {} items", terms.len()), &other))
            }
            (_, other) => return Err(not_a("a tuple", &other)),
        };
        'tuples: for tuple in tuples {
            let mut new_values: Vec<Option<Value>> = vec![None; fresh.len()];
            for ((term, item), constant) in terms.iter().zip(tuple).zip(&constants) {
                if let Some(constant) = constant {
                    if *constant != item {
                        continue 'tuples;
                    }
                }
                let Term::Var(v) = term else { continue };
                match relation.column(v) {
                    Some(c) if row[c] != item => continue 'tuples,
                    Some(_) => {}
                    None => {
                        let slot =
                            &mut new_values[fresh.iter().position(|f| f == v).expect("fresh")];
                        match slot {
                            Some(seen) if *seen != item => continue 'tuples,
                            _ => *slot = Some(item),
                        }
                    }
                }
            }
            let mut extended = row.clone();
            extended.extend(
                new_values
                    .into_iter()
                    .map(|v| v.expect("bound by the result")),
            );
            rows.push(extended);
        }
    }
    Ok(Relation { vars, rows })
}

/// A constant as a value; vectors and lists become tuples.
fn ground(context: &Context<'_>, constant: &Edn<'static>) -> Result<Value> {
    match constant {
        Edn::Vector(items) | Edn::List(items) => Ok(Value::Tuple(
            items
                .iter()
                .map(|item| ground(context, item))
                .collect::<Result<_>>()?,
        )),
        other => context.main.db.literal(None, other),
    }
}

fn arithmetic(name: &str, values: &[Value], text: &str) -> Result<Value> {
    let overflow = || invalid(format!("clause {text}: the result overflows a long"));
    if values.is_empty() {
        return Err(invalid(format!("clause {text}: {name} needs arguments")));
    }
    let longs: Option<Vec<i64>> = values
        .iter()
        .map(|v| {
            if let Value::Long(l) = v {
                Some(*l)
            } else {
                None
            }
        })
        .collect();
    if let (Some(longs), false) = (&longs, name == "/") {
        let mut acc = longs[0];
        for &x in &longs[1..] {
            acc = match name {
                "+" => acc.checked_add(x),
                "-" => acc.checked_sub(x),
                _ => acc.checked_mul(x),
            }
            .ok_or_else(overflow)?;
        }
        return Ok(Value::Long(if name == "-" && longs.len() == 1 {
            -acc
        } else {
            acc
        }));
    }
    let numbers = values
        .iter()
        .map(|v| match v {
            Value::Long(l) => Ok(*l as f64),
            Value::Double(d) => Ok(*d),
            other => Err(invalid(format!(
                "clause {text}: {} is not a number",
                other.to_edn()
            ))),
        })
        .collect::<Result<Vec<f64>>>()?;
    let mut acc = numbers[0];
    for &x in &numbers[1..] {
        acc = match name {
            "+" => acc + x,
            "-" => acc - x,
            "*" => acc * x,
            _ => acc / x,
        };
    }
    if numbers.len() == 1 && name == "-" {
        acc = -acc;
    }
    Value::double(acc).map_err(|_| invalid(format!("clause {text}: the result is not a number")))
}

fn entity_of(value: &Value, text: &str) -> Result<u64> {
    match value {
        Value::Ref(e) => Ok(*e),
        Value::Long(e) if *e >= 0 => Ok(*e as u64),
        other => Err(invalid(format!(
            "clause {text}: {} is not an entity",
            other.to_edn()
        ))),
    }
}

/// A value from an index key: exactly one encoded stored value.
fn decode_value(bytes: &[u8]) -> Result<Value> {
    match Value::decode(bytes)? {
        (Value::Tuple(_), _) | (_, [_, ..]) => Err(Error::corrupt(
            "an index key holds something other than one stored value",
        )),
        (value, []) => Ok(value),
    }
}

/// Where one position of a pattern gets its value, decided once per pattern.
enum Slot<T> {
    /// A constant of the pattern, resolved before any row is read.
    Constant(T),
    /// A variable the relation already binds: this column of each row.
    Column(usize),
    /// A variable the pattern binds: this column of the new variables.
    New(usize),
    Blank,
}

impl<T> Slot<T> {
    fn new(term: Option<&Term>, relation: &Relation, new_vars: &[String]) -> Slot<T> {
        match term {
            Some(Term::Var(v)) => match relation.column(v) {
                Some(c) => Slot::Column(c),
                None => Slot::New(new_vars.iter().position(|n| n == v).expect("collected")),
            },
            _ => Slot::Blank,
        }
    }
}

/// Joins `relation` with the datoms matching the pattern `terms`. Constants are resolved
/// once; each row then scans the index its known positions select — EAVT when the entity
/// is known, AVET for attribute and value, AEVT for the attribute alone, VAET for a
/// reference value — and every datom found extends the row with the new variables.
fn join(
    source: &DbSource<'_>,
    relation: Relation,
    terms: &[Term],
    text: &str,
    limits: &ValueLimits,
) -> Result<Relation> {
    let mut new_vars: Vec<String> = Vec::new();
    for term in terms {
        if let Term::Var(v) = term {
            if relation.column(v).is_none() && !new_vars.contains(v) {
                new_vars.push(v.clone());
            }
        }
    }
    let e: Slot<u64> = match terms.first() {
        Some(Term::Constant(Edn::Int(i))) if *i >= 0 => Slot::Constant(*i as u64),
        Some(Term::Constant(other)) => {
            Slot::Constant(source.db.resolve_entity(&other.to_string())?)
        }
        term => Slot::new(term, &relation, &new_vars),
    };
    let a: Slot<Attribute> = match terms.get(1) {
        Some(Term::Constant(Edn::Key(k))) => Slot::Constant(source.schema.attribute(k)?.clone()),
        Some(Term::Constant(other)) => {
            return Err(invalid(format!(
                "clause {text}: attribute {other} is not a keyword"
            )))
        }
        term => Slot::new(term, &relation, &new_vars),
    };
    // A constant value is typed by a constant attribute (so idents and lookup refs name
    // entities); with a variable attribute it is taken as written.
    let v: Slot<Value> = match terms.get(2) {
        Some(Term::Constant(c)) => Slot::Constant(match &a {
            Slot::Constant(attribute) => source.db.literal_in(&source.schema, attribute, c)?,
            _ => source.db.literal(None, c)?,
        }),
        term => Slot::new(term, &relation, &new_vars),
    };
    let t: Slot<u64> = match terms.get(3) {
        Some(Term::Constant(Edn::Int(t))) if *t >= 0 => Slot::Constant(*t as u64),
        Some(Term::Constant(other)) => {
            return Err(invalid(format!("clause {text}: t {other} is not a number")))
        }
        term => Slot::new(term, &relation, &new_vars),
    };
    let added: Slot<bool> = match terms.get(4) {
        Some(Term::Constant(Edn::Bool(b))) => Slot::Constant(*b),
        Some(Term::Constant(other)) => {
            return Err(invalid(format!(
                "clause {text}: added {other} is not true or false"
            )))
        }
        term => Slot::new(term, &relation, &new_vars),
    };

    let mut vars = relation.vars.clone();
    vars.extend(new_vars.iter().cloned());

    // What each row knows, and the index and key prefix that selects its datoms.
    struct Lookup<'r> {
        row: usize,
        index: Index,
        /// Where its key prefix lies in `prefixes` (one buffer for every row's).
        prefix: std::ops::Range<usize>,
        e: Option<u64>,
        a: Option<u64>,
        /// The known value, encoded: datoms are matched by their keys' bytes.
        v: Option<std::borrow::Cow<'r, [u8]>>,
        t: Option<u64>,
        added: Option<bool>,
    }
    let constant_v: Option<Vec<u8>> = match &v {
        Slot::Constant(v) => Some(v.to_bytes()),
        _ => None,
    };
    let mut lookups = Vec::with_capacity(relation.rows.len());
    let mut prefix: Vec<u8> = Vec::with_capacity(relation.rows.len() * 24);
    for (r, row) in relation.rows.iter().enumerate() {
        let e_known = match &e {
            Slot::Constant(e) => Some(*e),
            Slot::Column(c) => Some(entity_of(&row[*c], text)?),
            _ => None,
        };
        let a_known: Option<u64> = match &a {
            Slot::Constant(a) => Some(a.id),
            Slot::Column(c) => match &row[*c] {
                Value::Keyword(k) => Some(source.schema.attribute(k)?.id),
                other => {
                    return Err(invalid(format!(
                        "clause {text}: {} is not an attribute",
                        other.to_edn()
                    )))
                }
            },
            _ => None,
        };
        let v_known: Option<&Value> = match &v {
            Slot::Constant(v) => Some(v),
            Slot::Column(c) => Some(&row[*c]),
            _ => None,
        };
        let t_known = match &t {
            Slot::Constant(t) => Some(*t),
            Slot::Column(c) => Some(entity_of(&row[*c], text)?),
            _ => None,
        };
        let added_known = match &added {
            Slot::Constant(b) => Some(*b),
            Slot::Column(c) => match &row[*c] {
                Value::Boolean(b) => Some(*b),
                other => {
                    return Err(invalid(format!(
                        "clause {text}: added {} is not true or false",
                        other.to_edn()
                    )))
                }
            },
            _ => None,
        };
        let from = prefix.len();
        let index = match (e_known, a_known, v_known) {
            // Entity and attribute: AEVT, where one attribute's datoms lie together, so a
            // join's sorted entities are near neighbours (in EAVT every other attribute of
            // each entity lies between them).
            (Some(e), Some(a), v) => {
                prefix.extend_from_slice(&a.to_be_bytes());
                prefix.extend_from_slice(&e.to_be_bytes());
                if let Some(v) = v {
                    v.encode(&mut prefix);
                }
                Index::Aevt
            }
            (Some(e), None, _) => {
                prefix.extend_from_slice(&e.to_be_bytes());
                Index::Eavt
            }
            (None, Some(a), Some(v)) => {
                prefix.extend_from_slice(&a.to_be_bytes());
                v.encode(&mut prefix);
                Index::Avet
            }
            (None, Some(a), None) => {
                prefix.extend_from_slice(&a.to_be_bytes());
                Index::Aevt
            }
            (None, None, Some(v @ Value::Ref(_))) => {
                v.encode(&mut prefix);
                Index::Vaet
            }
            _ => Index::Eavt,
        };
        lookups.push(Lookup {
            row: r,
            index,
            prefix: from..prefix.len(),
            e: e_known,
            a: a_known,
            v: match (&constant_v, v_known) {
                (Some(bytes), _) => Some(std::borrow::Cow::Borrowed(bytes.as_slice())),
                (None, Some(value)) => Some(std::borrow::Cow::Owned(value.to_bytes())),
                (None, None) => None,
            },
            t: t_known,
            added: added_known,
        });
    }
    // In key order, so one cursor per index moves forward through the tree.
    let prefixes = prefix;
    let prefix_of = |lookup: &Lookup<'_>| &prefixes[lookup.prefix.clone()];
    lookups
        .sort_unstable_by(|x, y| (x.index as u8, prefix_of(x)).cmp(&(y.index as u8, prefix_of(y))));
    // One attribute scan with limits on its values: the values' range of AVET instead.
    let mut limited: Option<crate::dao::Datoms<'_>> = None;
    if let [lookup @ Lookup {
        e: None,
        index: Index::Aevt,
        ..
    }] = lookups.as_slice()
    {
        if limits.low.is_some() || limits.high.is_some() {
            let mut start = prefix_of(lookup).to_vec();
            if let Some(low) = &limits.low {
                low.encode(&mut start);
            }
            let mut end = prefix_of(lookup).to_vec();
            let end = match &limits.high {
                Some((high, inclusive)) => {
                    high.encode(&mut end);
                    if *inclusive {
                        crate::dao::successor(&end)
                    } else {
                        Some(end)
                    }
                }
                None => crate::dao::successor(&end),
            };
            if let Some(end) = end {
                limited = Some(
                    source
                        .db
                        .range(Index::Avet, source.view, &start, Some(&end)),
                );
            }
        }
    }

    let mut rows = Vec::new();
    let mut fresh: Vec<Option<Value>> = vec![None; new_vars.len()];
    let mut cursor: Option<(Index, crate::dao::Datoms<'_>)> = None;
    for lookup in &lookups {
        let row = &relation.rows[lookup.row];
        let datoms = match (&mut limited, &mut cursor) {
            (Some(range), _) => range,
            (None, cursor) => match cursor {
                Some((index, datoms)) if *index == lookup.index => {
                    datoms.reposition(prefix_of(lookup))?;
                    datoms
                }
                slot => {
                    let (_, datoms) =
                        slot.insert((lookup.index, source.scan(lookup.index, prefix_of(lookup))));
                    datoms
                }
            },
        };
        let index = datoms.index();
        while let Some(key) = datoms.next_key() {
            // Read from the key in place; the value is decoded only if the pattern binds it.
            let datom = Datom::key_parts(index, key?)?;
            // Known positions the prefix did not cover must match.
            if lookup.e.is_some_and(|e| e != datom.e)
                || lookup.a.is_some_and(|a| a != datom.a)
                || lookup.v.as_deref().is_some_and(|v| v != datom.v)
                || lookup.t.is_some_and(|t| t != datom.t)
                || lookup.added.is_some_and(|b| b != (datom.m != RETRACTED))
            {
                continue;
            }
            // New variables take the datom's values, equal where one appears twice.
            fresh.iter_mut().for_each(|f| *f = None);
            let mut consistent = true;
            let mut bind = |slot: usize, value: Value| match &fresh[slot] {
                Some(seen) if *seen != value => consistent = false,
                Some(_) => {}
                None => fresh[slot] = Some(value),
            };
            if let Slot::New(i) = e {
                bind(i, Value::Ref(datom.e));
            }
            if let Slot::New(i) = a {
                bind(
                    i,
                    source
                        .schema
                        .attribute_by_id(datom.a)
                        .map_or(Value::Long(datom.a as i64), |a| {
                            Value::Keyword(a.ident.clone())
                        }),
                );
            }
            if let Slot::New(i) = t {
                bind(i, Value::Long(datom.t as i64));
            }
            if let Slot::New(i) = added {
                bind(i, Value::Boolean(datom.m != RETRACTED));
            }
            if let Slot::New(i) = v {
                bind(i, decode_value(datom.v)?);
            }
            if !consistent {
                continue;
            }
            let mut extended = Vec::with_capacity(vars.len());
            extended.extend_from_slice(row);
            extended.extend(
                fresh
                    .iter_mut()
                    .map(|f| f.take().expect("every new variable bound")),
            );
            rows.push(extended);
        }
    }
    Ok(Relation { vars, rows })
}

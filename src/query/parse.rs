//! Parsing: a Datalog query in EDN (vector or map form) into a `Query`, with errors that
//! name the clause at fault.

use crate::dao::{owned_edn, read_edn};
use crate::error::{Error, ErrorKind, Result};
use clojure_reader::edn::Edn;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

/// A term of a clause: a variable, the blank `_`, or a constant.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    Var(String),
    Blank,
    Constant(Edn<'static>),
}

impl Term {
    fn of(edn: &Edn<'static>) -> Term {
        match edn {
            Edn::Symbol(s) if s == "_" => Term::Blank,
            Edn::Symbol(s) if s.starts_with('?') => Term::Var(s.to_string()),
            other => Term::Constant(other.clone()),
        }
    }

    pub fn var(&self) -> Option<&str> {
        match self {
            Term::Var(v) => Some(v),
            _ => None,
        }
    }
}

/// How the result of a function clause binds variables.
#[derive(Debug, Clone, PartialEq)]
pub enum Binding {
    /// `?x`: the result.
    Scalar(Term),
    /// `[?a ?b]`: the items of a tuple.
    Tuple(Vec<Term>),
    /// `[?x ...]`: one row per item of a tuple.
    Collection(Term),
    /// `[[?a ?b]]`: one row per tuple in a tuple of tuples.
    Relation(Vec<Term>),
}

impl Binding {
    fn of(edn: &Edn<'static>) -> Binding {
        match edn {
            Edn::Vector(items) => match items.as_slice() {
                [item, Edn::Symbol(dots)] if dots == "..." => Binding::Collection(Term::of(item)),
                [Edn::Vector(inner)] => Binding::Relation(inner.iter().map(Term::of).collect()),
                items => Binding::Tuple(items.iter().map(Term::of).collect()),
            },
            other => Binding::Scalar(Term::of(other)),
        }
    }

    /// The terms the binding names, in order.
    pub fn terms(&self) -> &[Term] {
        match self {
            Binding::Scalar(t) | Binding::Collection(t) => std::slice::from_ref(t),
            Binding::Tuple(ts) | Binding::Relation(ts) => ts,
        }
    }
}

/// The comparison a predicate clause makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
    NotEqual,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    /// `[e a v]`, `[e a v t]` or `[e a v t added]` (added: false for a retraction, which
    /// only the history view shows), matched against the database `$`, or `[$src e a v]`
    /// against another source given as an input.
    Pattern {
        source: Option<String>,
        terms: Vec<Term>,
        text: String,
    },
    /// `[(< ?a ?b)]` and the other comparisons.
    Predicate {
        op: Comparison,
        args: Vec<Term>,
        text: String,
    },
    /// `[(f arg ...) binding]`: binds a function of bound values (`+ - * /`, `str`,
    /// `get-else`, `ground`, `tuple`, `untuple`, `identity`) to `?x`, `[?a ?b]`,
    /// `[?x ...]` or `[[?a ?b]]`, keeping only the rows that agree where a variable is
    /// already bound.
    Function {
        name: String,
        args: Vec<Term>,
        bind: Binding,
        text: String,
    },
    /// `[(missing? $ ?e :attr)]`: keeps the rows whose entity has no value of the attribute.
    Missing {
        entity: Term,
        attribute: String,
        text: String,
    },
    /// `(rule-name arg ...)`: a call of a rule given as the `%` input.
    Rule {
        name: String,
        args: Vec<Term>,
        text: String,
    },
    /// `(not clause ...)`: keeps the rows for which the clauses find nothing; with
    /// `(not-join [?v ...] ...)` only the listed variables are shared with the query.
    Not {
        join: Option<Vec<String>>,
        clauses: Vec<Clause>,
        text: String,
    },
    /// `(or clause (and clause ...) ...)`: the rows any branch finds; with
    /// `(or-join [?v ...] ...)` only the listed variables are shared with the query.
    Or {
        join: Option<Vec<String>>,
        branches: Vec<Vec<Clause>>,
        text: String,
    },
}

impl Clause {
    pub fn text(&self) -> &str {
        match self {
            Clause::Pattern { text, .. }
            | Clause::Predicate { text, .. }
            | Clause::Function { text, .. }
            | Clause::Missing { text, .. }
            | Clause::Rule { text, .. }
            | Clause::Not { text, .. }
            | Clause::Or { text, .. } => text,
        }
    }

    /// Every variable the clause mentions.
    pub fn vars(&self) -> Vec<String> {
        let of_terms = |terms: &[Term]| {
            terms
                .iter()
                .filter_map(Term::var)
                .map(str::to_string)
                .collect()
        };
        match self {
            Clause::Pattern { terms, .. } => of_terms(terms),
            Clause::Predicate { args, .. } | Clause::Rule { args, .. } => of_terms(args),
            Clause::Function { args, bind, .. } => {
                let mut vars: Vec<String> = of_terms(args);
                vars.extend(of_terms(bind.terms()));
                vars
            }
            Clause::Missing { entity, .. } => {
                entity.var().map(str::to_string).into_iter().collect()
            }
            Clause::Not {
                join: Some(join), ..
            }
            | Clause::Or {
                join: Some(join), ..
            } => join.clone(),
            Clause::Not { clauses, .. } => clauses.iter().flat_map(Clause::vars).collect(),
            Clause::Or { branches, .. } => {
                branches.iter().flatten().flat_map(Clause::vars).collect()
            }
        }
    }
}

/// An aggregate function of `:find`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Count,
    CountDistinct,
    Sum,
    Min,
    Max,
    Avg,
    Median,
    /// The set of distinct values.
    Distinct,
}

/// One element of `:find`: a variable, an aggregate of one, or a pull of the entity it
/// binds.
#[derive(Debug, Clone, PartialEq)]
pub enum FindElem {
    Var(String),
    Aggregate {
        function: Aggregate,
        var: String,
    },
    /// `(pull ?e [pattern])`, or `(pull $src ?e [pattern])` from another database.
    Pull {
        source: Option<String>,
        var: String,
        pattern: Edn<'static>,
    },
}

impl FindElem {
    pub fn var(&self) -> &str {
        match self {
            FindElem::Var(v)
            | FindElem::Aggregate { var: v, .. }
            | FindElem::Pull { var: v, .. } => v,
        }
    }
}

/// What `:find` returns.
#[derive(Debug, Clone, PartialEq)]
pub enum FindSpec {
    /// `:find ?a ?b` — a set of tuples.
    Relation(Vec<FindElem>),
    /// `:find ?a .` — one value.
    Scalar(FindElem),
    /// `:find [?a ...]` — a collection of values.
    Collection(FindElem),
    /// `:find [?a ?b]` — one tuple.
    Tuple(Vec<FindElem>),
}

impl FindSpec {
    pub fn elements(&self) -> Vec<FindElem> {
        match self {
            FindSpec::Relation(v) | FindSpec::Tuple(v) => v.clone(),
            FindSpec::Scalar(v) | FindSpec::Collection(v) => vec![v.clone()],
        }
    }
}

/// How the keys of return maps are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStyle {
    Keyword,
    Symbol,
    String,
}

/// One `:in` binding.
#[derive(Debug, Clone, PartialEq)]
pub enum In {
    /// `$`: the database.
    Database,
    /// `$name`: another source: a database, or a relation patterns match by position.
    Source(String),
    /// `?x`: one value.
    Scalar(String),
    /// `[?x ...]`: each of a collection of values.
    Collection(String),
    /// `%`: the rules.
    Rules,
    /// `[?a ?b]`: one tuple.
    Tuple(Vec<String>),
    /// `[[?a ?b]]`: a relation, each of a collection of tuples.
    Relation(Vec<String>),
}

impl std::fmt::Display for In {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            In::Database => write!(f, "$"),
            In::Source(name) => write!(f, "{name}"),
            In::Rules => write!(f, "%"),
            In::Scalar(v) => write!(f, "{v}"),
            In::Collection(v) => write!(f, "[{v} ...]"),
            In::Tuple(vs) => write!(f, "[{}]", vs.join(" ")),
            In::Relation(vs) => write!(f, "[[{}]]", vs.join(" ")),
        }
    }
}

/// One rule: `[(name ?a ?b) clause ...]`. Several rules may share a name (alternatives).
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: String,
    pub params: Vec<String>,
    pub body: Vec<Clause>,
}

/// Parses a rule set: `[[(name ?a ?b) clause ...] ...]`.
pub fn parse_rules(edn: &Edn<'static>) -> Result<Vec<Rule>> {
    let Edn::Vector(rules) = edn else {
        return Err(invalid(format!("rules are a vector of rules, not {edn}")));
    };
    rules
        .iter()
        .map(|rule| {
            let text = rule.to_string();
            let Edn::Vector(items) = rule else {
                return Err(invalid(format!("rule {text} is not a vector")));
            };
            let Some(Edn::List(head)) = items.first() else {
                return Err(invalid(format!(
                    "rule {text} starts with its head, (name ?arg ...)"
                )));
            };
            let name = head
                .first()
                .and_then(symbol)
                .ok_or_else(|| invalid(format!("rule {text}: the head starts with a name")))?;
            Ok(Rule {
                name: name.to_string(),
                params: head[1..]
                    .iter()
                    .map(|p| variable(p, "rule head"))
                    .collect::<Result<_>>()?,
                body: items[1..].iter().map(parse_clause).collect::<Result<_>>()?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub find: FindSpec,
    /// `:keys`, `:syms` or `:strs`: names for the columns, which make the answer a list of
    /// maps keyed by keywords, symbols or strings.
    pub keys: Option<(KeyStyle, Vec<String>)>,
    /// `:with`: variables kept while aggregating, so equal values are not merged.
    pub with: Vec<String>,
    pub inputs: Vec<In>,
    pub clauses: Vec<Clause>,
}

fn symbol<'a>(edn: &'a Edn<'_>) -> Option<&'a str> {
    match edn {
        Edn::Symbol(s) => Some(s),
        _ => None,
    }
}

fn variable(edn: &Edn<'_>, what: &str) -> Result<String> {
    match symbol(edn) {
        Some(s) if s.starts_with('?') => Ok(s.to_string()),
        _ => Err(invalid(format!("{what}: {edn} is not a variable"))),
    }
}

/// Parses a query given as EDN text.
pub fn parse(text: &str) -> Result<Query> {
    let edn = owned_edn(&read_edn(text, "query")?);
    // The map form {:find [...] :in [...] :where [...]} and the vector form
    // [:find ... :in ... :where ...] both become sections.
    let mut sections: Vec<(String, Vec<Edn<'static>>)> = Vec::new();
    match &edn {
        Edn::Vector(items) => {
            for item in items {
                match item {
                    Edn::Key(k) => sections.push((k.to_string(), Vec::new())),
                    other => match sections.last_mut() {
                        Some((_, body)) => body.push(other.clone()),
                        None => {
                            return Err(invalid(format!("a query starts with :find, not {other}")))
                        }
                    },
                }
            }
        }
        Edn::Map(map) => {
            for (k, v) in map {
                let (Edn::Key(k), Edn::Vector(body)) = (k, v) else {
                    return Err(invalid(format!(
                        "query map entry {k} {v} is not :section [...]"
                    )));
                };
                sections.push((k.to_string(), body.clone()));
            }
        }
        other => {
            return Err(invalid(format!(
                "a query is a vector or a map, not {other}"
            )))
        }
    }
    let section = |name: &str| {
        sections
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, body)| body.clone())
    };
    for (name, _) in &sections {
        if !matches!(
            name.as_str(),
            "find" | "in" | "where" | "keys" | "syms" | "strs" | "with"
        ) {
            return Err(invalid(format!("unknown query section :{name}")));
        }
    }
    let find = parse_find(&section("find").ok_or_else(|| invalid("the query has no :find"))?)?;
    let inputs = match section("in") {
        None => vec![In::Database],
        Some(body) => body.iter().map(parse_in).collect::<Result<_>>()?,
    };
    let clauses = section("where")
        .unwrap_or_default()
        .iter()
        .map(parse_clause)
        .collect::<Result<Vec<_>>>()?;
    let styles = [
        ("keys", KeyStyle::Keyword),
        ("syms", KeyStyle::Symbol),
        ("strs", KeyStyle::String),
    ];
    let mut keys = None;
    for (name, style) in styles {
        if let Some(body) = section(name) {
            if keys.is_some() {
                return Err(invalid("a query takes one of :keys, :syms and :strs"));
            }
            let names = body
                .iter()
                .map(|k| match k {
                    Edn::Symbol(s) => Ok(s.to_string()),
                    other => Err(invalid(format!(":{name} {other} is not a symbol"))),
                })
                .collect::<Result<Vec<_>>>()?;
            keys = Some((style, names));
        }
    }
    if let Some((_, keys)) = &keys {
        if !matches!(find, FindSpec::Relation(_)) || keys.len() != find.elements().len() {
            return Err(invalid(
                ":keys needs a relation :find with one key per element",
            ));
        }
    }
    let with = section("with")
        .unwrap_or_default()
        .iter()
        .map(|v| variable(v, ":with"))
        .collect::<Result<_>>()?;
    Ok(Query {
        find,
        keys,
        with,
        inputs,
        clauses,
    })
}

fn element(edn: &Edn<'static>) -> Result<FindElem> {
    if let Edn::List(call) = edn {
        if call.first().and_then(symbol) == Some("pull") {
            return match call.as_slice() {
                [_, var, pattern @ Edn::Vector(_)] => Ok(FindElem::Pull {
                    source: None,
                    var: variable(var, ":find")?,
                    pattern: pattern.clone(),
                }),
                [_, Edn::Symbol(source), var, pattern @ Edn::Vector(_)]
                    if source.starts_with('$') =>
                {
                    Ok(FindElem::Pull {
                        source: Some(source.to_string()).filter(|s| s != "$"),
                        var: variable(var, ":find")?,
                        pattern: pattern.clone(),
                    })
                }
                _ => Err(invalid(format!(":find {edn}: (pull ?e [pattern])"))),
            };
        }
        let function = match call.first().and_then(symbol) {
            Some("count") => Aggregate::Count,
            Some("count-distinct") => Aggregate::CountDistinct,
            Some("sum") => Aggregate::Sum,
            Some("min") => Aggregate::Min,
            Some("max") => Aggregate::Max,
            Some("avg") => Aggregate::Avg,
            Some("median") => Aggregate::Median,
            Some("distinct") => Aggregate::Distinct,
            _ => return Err(invalid(format!(":find {edn}: unknown aggregate"))),
        };
        let [_, var] = call.as_slice() else {
            return Err(invalid(format!(
                ":find {edn}: an aggregate takes one variable"
            )));
        };
        return Ok(FindElem::Aggregate {
            function,
            var: variable(var, ":find")?,
        });
    }
    Ok(FindElem::Var(variable(edn, ":find")?))
}

fn parse_find(body: &[Edn<'static>]) -> Result<FindSpec> {
    let elements = |items: &[Edn<'static>]| items.iter().map(element).collect::<Result<Vec<_>>>();
    match body {
        [single, Edn::Symbol(dot)] if dot == "." => Ok(FindSpec::Scalar(element(single)?)),
        [Edn::Vector(items)] => match items.as_slice() {
            [one, Edn::Symbol(dots)] if dots == "..." => Ok(FindSpec::Collection(element(one)?)),
            many => Ok(FindSpec::Tuple(elements(many)?)),
        },
        [] => Err(invalid(":find names no variable")),
        many => Ok(FindSpec::Relation(elements(many)?)),
    }
}

fn parse_in(edn: &Edn<'static>) -> Result<In> {
    match edn {
        Edn::Symbol(s) if s == "$" => Ok(In::Database),
        Edn::Symbol(s) if s.starts_with('$') => Ok(In::Source(s.to_string())),
        Edn::Symbol(s) if s == "%" => Ok(In::Rules),
        Edn::Symbol(_) => Ok(In::Scalar(variable(edn, ":in")?)),
        Edn::Vector(items) => match items.as_slice() {
            [var, Edn::Symbol(dots)] if dots == "..." => Ok(In::Collection(variable(var, ":in")?)),
            [Edn::Vector(vars)] => Ok(In::Relation(
                vars.iter()
                    .map(|v| variable(v, ":in"))
                    .collect::<Result<_>>()?,
            )),
            vars if !vars.is_empty() => Ok(In::Tuple(
                vars.iter()
                    .map(|v| variable(v, ":in"))
                    .collect::<Result<_>>()?,
            )),
            _ => Err(invalid(format!(":in {edn} is not a supported binding"))),
        },
        other => Err(invalid(format!(":in {other} is not a binding"))),
    }
}

fn parse_clause(edn: &Edn<'static>) -> Result<Clause> {
    let text = edn.to_string();
    if let Edn::List(items) = edn {
        let head = items.first().and_then(symbol);
        // not-join and or-join list their shared variables first.
        let (join, rest) = match (head, items.get(1)) {
            (Some("not-join" | "or-join"), Some(Edn::Vector(vars))) => (
                Some(
                    vars.iter()
                        .map(|v| variable(v, &text))
                        .collect::<Result<Vec<_>>>()?,
                ),
                &items[2..],
            ),
            (Some("not-join" | "or-join"), _) => {
                return Err(invalid(format!(
                    "clause {text}: the join variables come first, as a vector"
                )))
            }
            _ => (None, &items[1..]),
        };
        return match head {
            Some("not" | "not-join") => Ok(Clause::Not {
                join,
                clauses: rest.iter().map(parse_clause).collect::<Result<Vec<_>>>()?,
                text,
            }),
            Some("or" | "or-join") => {
                let branches = rest
                    .iter()
                    .map(|branch| match branch {
                        Edn::List(inner) if inner.first().and_then(symbol) == Some("and") => inner
                            [1..]
                            .iter()
                            .map(parse_clause)
                            .collect::<Result<Vec<_>>>(),
                        single => Ok(vec![parse_clause(single)?]),
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(Clause::Or {
                    join,
                    branches,
                    text,
                })
            }
            Some(name) if !name.starts_with('?') => Ok(Clause::Rule {
                name: name.to_string(),
                args: items[1..].iter().map(Term::of).collect(),
                text,
            }),
            _ => Err(invalid(format!(
                "clause {text}: a list clause starts with not, or, or a rule name"
            ))),
        };
    }
    let Edn::Vector(items) = edn else {
        return Err(invalid(format!("clause {text} is not a vector")));
    };
    if let [Edn::List(call), binding] = items.as_slice() {
        let name = call.first().and_then(symbol).ok_or_else(|| {
            invalid(format!(
                "clause {text}: a function call starts with its name"
            ))
        })?;
        if !matches!(
            name,
            "+" | "-"
                | "*"
                | "/"
                | "str"
                | "get-else"
                | "ground"
                | "tuple"
                | "untuple"
                | "identity"
        ) {
            return Err(invalid(format!("clause {text}: unknown function {name}")));
        }
        return Ok(Clause::Function {
            name: name.to_string(),
            args: call[1..].iter().map(Term::of).collect(),
            bind: Binding::of(binding),
            text,
        });
    }
    if let [Edn::List(call)] = items.as_slice() {
        if call.first().and_then(symbol) == Some("missing?") {
            let [_, _source, entity, Edn::Key(attribute)] = call.as_slice() else {
                return Err(invalid(format!(
                    "clause {text}: (missing? $ ?e :attribute)"
                )));
            };
            return Ok(Clause::Missing {
                entity: Term::of(entity),
                attribute: attribute.to_string(),
                text,
            });
        }
        let op = match call.first().and_then(symbol) {
            Some("<") => Comparison::Less,
            Some("<=") => Comparison::LessOrEqual,
            Some(">") => Comparison::Greater,
            Some(">=") => Comparison::GreaterOrEqual,
            Some("=") => Comparison::Equal,
            Some("not=") | Some("!=") => Comparison::NotEqual,
            _ => return Err(invalid(format!("clause {text}: unknown predicate"))),
        };
        let args: Vec<Term> = call[1..].iter().map(Term::of).collect();
        if args.len() != 2 {
            return Err(invalid(format!(
                "clause {text}: a comparison takes two arguments"
            )));
        }
        return Ok(Clause::Predicate { op, args, text });
    }
    let (source, items) = match items.split_first() {
        Some((Edn::Symbol(s), rest)) if s.starts_with('$') => (Some(s.to_string()), rest),
        _ => (None, items.as_slice()),
    };
    if source.as_deref().is_none_or(|s| s == "$") && !(2..=5).contains(&items.len()) {
        return Err(invalid(format!(
            "clause {text}: a data pattern is [e a v], [e a v t] or [e a v t added]"
        )));
    }
    if items.is_empty() {
        return Err(invalid(format!(
            "clause {text}: a pattern matches something"
        )));
    }
    Ok(Clause::Pattern {
        source: source.filter(|s| s != "$"),
        terms: items.iter().map(Term::of).collect(),
        text,
    })
}

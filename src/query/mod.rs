//! The `query` layer: Datomic-style Datalog over a DaoDB version, run in the calling process
//! directly on the shared indexes. Readable in one sitting, in the manner of DataScript:
//! `parse` (EDN text to a query), then `eval` (plan and evaluate, with relations as the only
//! intermediate form), then the find spec shapes the answer.
//!
//! What it covers:
//! - `:find` as a relation, a scalar `.`, a collection `[?x ...]` or a tuple `[?a ?b]`, with
//!   aggregates (count, count-distinct, sum, min, max, avg, median, distinct) and `:with`,
//!   `pull` elements, and return maps with `:keys`, `:syms` or `:strs`;
//! - `:in` with `$` and other `$name` sources (databases or relations), `%` (rules),
//!   scalars, collections, tuples and relations;
//! - data patterns `[e a v t added]` with `_`, constants, idents and lookup refs, and
//!   implicit joins;
//! - comparisons, function clauses (`+ - * /`, `str`, `get-else`, `ground`, `tuple`,
//!   `untuple`, `identity`) with scalar, tuple, collection and relation bindings, `missing?`;
//! - `not`, `not-join`, `or`, `or-join` and `and`;
//! - recursive rules, evaluated bottom up to a fixpoint, so cycles in the data end;
//! - the current, as-of, since and history views;
//! - `pull` as its own call.
//!
//! Answers are `Data` (`data`), which the C ABI, Java and Node walk one way for every shape.

mod data;
mod eval;
mod parse;
mod pull;

pub use data::Data;
pub use eval::{Input, Relation};
pub use parse::{
    parse, parse_rules, Aggregate, Binding, Clause, Comparison, FindElem, FindSpec, In, KeyStyle,
    Query, Rule, Term,
};
pub use pull::{pull, pull_edn};

use crate::dao::{DbSnapshot, Value, View};
use crate::error::{Error, ErrorKind, Result};

/// The answer to a query, shaped by its find spec. Cells are values, or maps for `pull`
/// elements and sets for `distinct`.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    /// A set of tuples, sorted.
    Relation(Vec<Vec<Data>>),
    /// One value, or none if nothing matched.
    Scalar(Option<Data>),
    /// Distinct values, sorted.
    Collection(Vec<Data>),
    /// One tuple, or none if nothing matched.
    Tuple(Option<Vec<Data>>),
    /// With `:keys`, `:syms` or `:strs`: the names, then one map per tuple (its values in
    /// the order of the names), sorted.
    Maps(KeyStyle, Vec<String>, Vec<Vec<Data>>),
}

impl QueryResult {
    /// The answer as EDN-shaped data: a relation is a set of vectors, a scalar a value or
    /// nil, a collection or tuple a vector (a missing tuple is nil), return maps a vector of
    /// maps.
    pub fn to_data(&self) -> Data {
        self.clone().into_data()
    }

    /// [`to_data`](Self::to_data), without copying.
    pub fn into_data(self) -> Data {
        match self {
            QueryResult::Relation(rows) => Data::Set(rows.into_iter().map(Data::Vector).collect()),
            QueryResult::Scalar(v) => v.unwrap_or_else(Data::nil),
            QueryResult::Collection(vs) => Data::Vector(vs),
            QueryResult::Tuple(t) => t.map_or_else(Data::nil, Data::Vector),
            QueryResult::Maps(style, names, maps) => {
                let key = |k: &str| {
                    Data::Value(match style {
                        KeyStyle::Keyword => Value::Keyword(k.to_string()),
                        KeyStyle::Symbol => Value::Symbol(k.to_string()),
                        KeyStyle::String => Value::String(k.to_string()),
                    })
                };
                Data::Vector(
                    maps.into_iter()
                        .map(|m| Data::Map(names.iter().map(|k| key(k)).zip(m).collect()))
                        .collect(),
                )
            }
        }
    }

    /// The names of the columns of return maps, in find order.
    pub fn column_names(&self) -> Option<Vec<String>> {
        match self {
            QueryResult::Maps(_, names, _) => Some(names.clone()),
            _ => None,
        }
    }

    /// The answer as EDN text: `#{[1 "Ada"] ...}`, a value or `nil`, `[...]`.
    pub fn to_edn(&self) -> String {
        self.to_data().to_edn()
    }
}

/// Runs the query `text` (EDN) against `db` with `inputs` for its `:in` bindings after `$`.
pub fn q<'g>(db: &DbSnapshot<'g>, text: &str, inputs: &[Input<'g>]) -> Result<QueryResult> {
    q_view(db, View::Current, text, inputs)
}

/// Runs a query against a view of `db`: the current database, as of a `t`, the datoms
/// asserted since a `t`, or the whole history (where every assertion and retraction
/// matches, as in Datomic's history database).
pub fn q_view<'g>(
    db: &DbSnapshot<'g>,
    view: View,
    text: &str,
    inputs: &[Input<'g>],
) -> Result<QueryResult> {
    let query = parse(text)?;
    let relation = eval::run(db, view, &query, inputs)?;
    let column = |var: &str| {
        relation.column(var).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!(":find {var}: the variable is not bound by any clause"),
            )
        })
    };
    let elements = query.find.elements();
    let pulls = Pulls::new(db, &query, inputs)?;
    let aggregating = elements
        .iter()
        .any(|e| matches!(e, FindElem::Aggregate { .. }));
    let mut rows: Vec<Vec<Data>> = if !aggregating {
        // The distinct bindings of the find variables, in order.
        let columns = elements
            .iter()
            .map(|e| column(e.var()))
            .collect::<Result<Vec<_>>>()?;
        // Values move out of the rows, unless a column is asked for twice.
        let repeated = (1..columns.len()).any(|i| columns[..i].contains(&columns[i]));
        let mut tuples: Vec<Vec<Data>> = relation
            .rows
            .into_iter()
            .map(|mut row| {
                columns
                    .iter()
                    .map(|&c| {
                        Data::from(if repeated {
                            row[c].clone()
                        } else {
                            std::mem::replace(&mut row[c], Value::Nil)
                        })
                    })
                    .collect()
            })
            .collect();
        tuples.sort_unstable();
        tuples.dedup();
        if pulls.any() {
            for tuple in &mut tuples {
                for (cell, element) in tuple.iter_mut().zip(&elements) {
                    if let (FindElem::Pull { .. }, Data::Value(value)) = (element, &*cell) {
                        *cell = pulls.shape(element, value.clone())?;
                    }
                }
            }
        }
        tuples
    } else {
        // The set of bindings of the find and :with variables...
        let mut kept: Vec<usize> = Vec::new();
        for var in elements
            .iter()
            .map(FindElem::var)
            .chain(query.with.iter().map(String::as_str))
        {
            let c = column(var)?;
            if !kept.contains(&c) {
                kept.push(c);
            }
        }
        let mut bindings: Vec<Vec<Value>> = relation
            .rows
            .iter()
            .map(|row| kept.iter().map(|&c| row[c].clone()).collect())
            .collect();
        bindings.sort_unstable();
        bindings.dedup();
        let at = |var: &str| {
            kept.iter()
                .position(|&c| relation.vars[c] == var)
                .expect("kept")
        };
        // ...grouped by the plain variables, with each aggregate computed over its group.
        let plain: Vec<usize> = elements
            .iter()
            .filter(|e| !matches!(e, FindElem::Aggregate { .. }))
            .map(|e| at(e.var()))
            .collect();
        let mut groups: std::collections::BTreeMap<Vec<Value>, Vec<&Vec<Value>>> =
            Default::default();
        for binding in &bindings {
            groups
                .entry(plain.iter().map(|&i| binding[i].clone()).collect())
                .or_default()
                .push(binding);
        }
        let mut rows = Vec::new();
        for (key, members) in groups {
            let mut row = Vec::with_capacity(elements.len());
            let mut next_plain = key.into_iter();
            for element in &elements {
                row.push(match element {
                    FindElem::Aggregate { function, var } => {
                        let i = at(var);
                        aggregate(
                            *function,
                            members.iter().map(|m| m[i].clone()).collect(),
                            var,
                        )?
                    }
                    other => pulls.shape(other, next_plain.next().expect("one per element"))?,
                });
            }
            rows.push(row);
        }
        rows
    };
    if pulls.any() || aggregating {
        rows.sort_unstable();
        rows.dedup();
    }
    if let Some((style, keys)) = &query.keys {
        return Ok(QueryResult::Maps(*style, keys.clone(), rows));
    }
    Ok(match query.find {
        FindSpec::Relation(_) => QueryResult::Relation(rows),
        FindSpec::Scalar(_) => {
            QueryResult::Scalar(rows.into_iter().next().map(|mut r| r.remove(0)))
        }
        FindSpec::Collection(_) => {
            QueryResult::Collection(rows.into_iter().map(|mut r| r.remove(0)).collect())
        }
        FindSpec::Tuple(_) => QueryResult::Tuple(rows.into_iter().next()),
    })
}

/// The pulls a find spec asks for: each from `$` or another database given as an input,
/// with the schema it reads.
struct Pulls<'g> {
    databases: Vec<(Option<String>, DbSnapshot<'g>, crate::dao::Schema)>,
}

impl<'g> Pulls<'g> {
    fn new(db: &DbSnapshot<'g>, query: &Query, inputs: &[Input<'g>]) -> Result<Pulls<'g>> {
        let mut databases = Vec::new();
        for element in query.find.elements() {
            let FindElem::Pull { source, .. } = element else {
                continue;
            };
            if databases.iter().any(|(s, _, _)| *s == source) {
                continue;
            }
            let snapshot = match &source {
                None => *db,
                Some(name) => {
                    // The input given for `name` in :in (`$` takes none).
                    let position = query
                        .inputs
                        .iter()
                        .filter(|i| **i != In::Database)
                        .position(|i| *i == In::Source(name.clone()));
                    match position.and_then(|p| inputs.get(p)) {
                        Some(Input::Database(other)) => *other,
                        _ => return Err(not_a_database(name)),
                    }
                }
            };
            let schema = crate::dao::Schema::read(&snapshot)?;
            databases.push((source, snapshot, schema));
        }
        Ok(Pulls { databases })
    }

    fn any(&self) -> bool {
        !self.databases.is_empty()
    }

    /// The cell for `value` under `element`: the value itself, or the entity pulled.
    fn shape(&self, element: &FindElem, value: Value) -> Result<Data> {
        let FindElem::Pull {
            source,
            var,
            pattern,
        } = element
        else {
            return Ok(Data::from(value));
        };
        let (_, db, schema) = self
            .databases
            .iter()
            .find(|(s, _, _)| s == source)
            .expect("every pull's database was opened");
        let e = match value {
            Value::Ref(e) => e,
            Value::Long(e) if e >= 0 => e as u64,
            other => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        ":find (pull {var} ...): {} is not an entity",
                        other.to_edn()
                    ),
                ))
            }
        };
        pull::pull_with(db, schema, pattern, e)
    }
}

fn not_a_database(name: &str) -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        format!(":find (pull {name} ...): {name} is not a database given in :in"),
    )
}

/// An aggregate over the values one variable takes in a group.
fn aggregate(function: Aggregate, values: Vec<Value>, var: &str) -> Result<Data> {
    if function == Aggregate::Distinct {
        return Ok(Data::set(values.into_iter().map(Data::from).collect()));
    }
    aggregate_value(function, values, var).map(Data::from)
}

fn aggregate_value(function: Aggregate, mut values: Vec<Value>, var: &str) -> Result<Value> {
    let number = |v: &Value| match v {
        Value::Long(l) => Ok(*l as f64),
        Value::Double(d) => Ok(*d),
        other => Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{function:?} of {var}: {} is not a number", other.to_edn()),
        )),
    };
    Ok(match function {
        Aggregate::Count => Value::Long(values.len() as i64),
        Aggregate::CountDistinct => {
            values.sort();
            values.dedup();
            Value::Long(values.len() as i64)
        }
        Aggregate::Sum if values.iter().all(|v| matches!(v, Value::Long(_))) => Value::Long(
            values
                .iter()
                .map(|v| if let Value::Long(l) = v { *l } else { 0 })
                .fold(0i64, i64::wrapping_add),
        ),
        Aggregate::Sum => Value::double(values.iter().map(number).sum::<Result<f64>>()?)?,
        Aggregate::Min => values.into_iter().min().unwrap_or(Value::Nil),
        Aggregate::Max => values.into_iter().max().unwrap_or(Value::Nil),
        Aggregate::Avg if values.is_empty() => Value::Nil,
        Aggregate::Avg => {
            Value::double(values.iter().map(number).sum::<Result<f64>>()? / values.len() as f64)?
        }
        Aggregate::Median => {
            values.sort();
            match values.len() {
                0 => Value::Nil,
                n if n % 2 == 1 => values[n / 2].clone(),
                n => Value::double((number(&values[n / 2 - 1])? + number(&values[n / 2])?) / 2.0)?,
            }
        }
        Aggregate::Distinct => unreachable!("a set, made by aggregate"),
    })
}

/// Runs the query `text` with its inputs given as one EDN vector, `[value ...]`: one item
/// per `:in` binding after `$`, a value for `?x` and a vector, list or set of values for
/// `[?x ...]`, a vector of tuples for `[[?a ?b]]` or a `$name` source. No inputs: `None`.
pub fn q_edn<'g>(
    db: &DbSnapshot<'g>,
    view: View,
    text: &str,
    inputs: Option<&str>,
) -> Result<QueryResult> {
    q_edn_with(db, view, text, inputs, &|root| {
        Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("#eve/db {root}: no other databases can be opened here"),
        ))
    })
}

/// [`q_edn`], where a `$name` source may also be `#eve/db n`: the database at root index
/// `n`, which `open_database` turns into a version.
pub fn q_edn_with<'g>(
    db: &DbSnapshot<'g>,
    view: View,
    text: &str,
    inputs: Option<&str>,
    open_database: &dyn Fn(u64) -> Result<DbSnapshot<'g>>,
) -> Result<QueryResult> {
    use clojure_reader::edn::Edn;
    let query = parse(text)?;
    let given = match inputs {
        None => Vec::new(),
        Some(text) => match crate::dao::owned_edn(&crate::dao::read_edn(text, "query inputs")?) {
            Edn::Vector(ref items) | Edn::List(ref items) => items.clone(),
            other => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("query inputs are a vector, not {other}"),
                ))
            }
        },
    };
    let mut inputs = Vec::new();
    let mut items = given.iter();
    for binding in &query.inputs {
        let item = match binding {
            In::Database => continue,
            In::Rules => {
                let rules = items
                    .next()
                    .ok_or_else(|| Error::new(ErrorKind::InvalidArgument, ":in % has no rules"))?;
                inputs.push(Input::Rules(parse::parse_rules(rules)?));
                continue;
            }
            _ => items.next().ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!(":in {binding} has no input"),
                )
            })?,
        };
        inputs.push(match (binding, item) {
            (In::Source(_), Edn::Tagged(tag, root)) if tag == "eve/db" => match &**root {
                Edn::Int(n) if *n >= 0 => Input::Database(open_database(*n as u64)?),
                other => {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        format!("#eve/db takes a database's root index, not {other}"),
                    ))
                }
            },
            (In::Source(_) | In::Relation(_), Edn::Vector(ts) | Edn::List(ts)) => Input::Relation(
                ts.iter()
                    .map(|t| match t {
                        Edn::Vector(vs) | Edn::List(vs) => {
                            vs.iter().map(|v| db.literal(None, v)).collect()
                        }
                        other => Err(Error::new(
                            ErrorKind::InvalidArgument,
                            format!("a relation input holds tuples, not {other}"),
                        )),
                    })
                    .collect::<Result<_>>()?,
            ),
            (In::Source(name), other) => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(":in {name} takes #eve/db n or a vector of tuples, not {other}"),
                ))
            }
            (In::Collection(_), Edn::Vector(vs) | Edn::List(vs)) => Input::Collection(
                vs.iter()
                    .map(|v| db.literal(None, v))
                    .collect::<Result<_>>()?,
            ),
            (In::Collection(_), Edn::Set(vs)) => Input::Collection(
                vs.iter()
                    .map(|v| db.literal(None, v))
                    .collect::<Result<_>>()?,
            ),
            (In::Tuple(_), Edn::Vector(vs) | Edn::List(vs)) => Input::Tuple(
                vs.iter()
                    .map(|v| db.literal(None, v))
                    .collect::<Result<_>>()?,
            ),
            (In::Tuple(_) | In::Relation(_), other) => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(":in {binding} takes a vector, not {other}"),
                ))
            }
            (In::Collection(var), other) => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(":in [{var} ...] takes a collection, not {other}"),
                ))
            }
            _ => Input::Scalar(db.literal(None, item)?),
        });
    }
    if items.next().is_some() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "more inputs than :in bindings",
        ));
    }
    q_view(db, view, text, &inputs)
}

#[cfg(test)]
mod tests;

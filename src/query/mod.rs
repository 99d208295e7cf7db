//! The `query` layer: Datomic-style Datalog over a DaoDB version, run in the calling process
//! directly on the shared indexes. Readable in one sitting, in the manner of DataScript:
//! `parse` (EDN text to a query), then `eval` (plan and evaluate, with relations as the only
//! intermediate form), then the find spec shapes the answer.
//!
//! This first part covers `:find` (relation, scalar `.`, collection `[?x ...]`, tuple
//! `[?a ?b]`), `:in` (`$`, scalars, collections), data patterns `[e a v]` / `[e a v t]` with
//! `_`, constants, idents and lookup refs, implicit joins, comparison predicates, `not` and
//! `or` (with `and` branches).

mod eval;
mod parse;

pub use eval::{Input, Relation};
pub use parse::{parse, Clause, Comparison, FindSpec, In, Query, Term};

use crate::dao::{DbSnapshot, Value};
use crate::error::{Error, ErrorKind, Result};

/// The answer to a query, shaped by its find spec.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    /// A set of tuples, sorted.
    Relation(Vec<Vec<Value>>),
    /// One value, or none if nothing matched.
    Scalar(Option<Value>),
    /// Distinct values, sorted.
    Collection(Vec<Value>),
    /// One tuple, or none if nothing matched.
    Tuple(Option<Vec<Value>>),
}

impl QueryResult {
    /// The answer as EDN text: `#{[1 "Ada"] ...}`, a value or `nil`, `[...]`.
    pub fn to_edn(&self) -> String {
        let tuple = |t: &Vec<Value>| {
            format!(
                "[{}]",
                t.iter().map(Value::to_edn).collect::<Vec<_>>().join(" ")
            )
        };
        match self {
            QueryResult::Relation(rows) => format!(
                "#{{{}}}",
                rows.iter().map(tuple).collect::<Vec<_>>().join(" ")
            ),
            QueryResult::Scalar(v) => v.as_ref().map_or("nil".into(), Value::to_edn),
            QueryResult::Collection(vs) => format!(
                "[{}]",
                vs.iter().map(Value::to_edn).collect::<Vec<_>>().join(" ")
            ),
            QueryResult::Tuple(t) => t.as_ref().map_or("nil".into(), tuple),
        }
    }
}

/// Runs the query `text` (EDN) against `db` with `inputs` for its `:in` bindings after `$`.
pub fn q(db: &DbSnapshot<'_>, text: &str, inputs: &[Input]) -> Result<QueryResult> {
    let query = parse(text)?;
    let relation = eval::run(db, &query, inputs)?;
    let columns: Vec<usize> = query
        .find
        .vars()
        .iter()
        .map(|var| {
            relation.vars.iter().position(|v| v == var).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!(":find {var}: the variable is not bound by any clause"),
                )
            })
        })
        .collect::<Result<_>>()?;
    let mut rows: Vec<Vec<Value>> = relation
        .rows
        .iter()
        .map(|row| columns.iter().map(|&c| row[c].clone()).collect())
        .collect();
    rows.sort();
    rows.dedup();
    Ok(match query.find {
        parse::FindSpec::Relation(_) => QueryResult::Relation(rows),
        parse::FindSpec::Scalar(_) => {
            QueryResult::Scalar(rows.into_iter().next().map(|mut r| r.remove(0)))
        }
        parse::FindSpec::Collection(_) => {
            QueryResult::Collection(rows.into_iter().map(|mut r| r.remove(0)).collect())
        }
        parse::FindSpec::Tuple(_) => QueryResult::Tuple(rows.into_iter().next()),
    })
}

/// Runs the query `text` with its inputs given as one EDN vector, `[value ...]`: one item
/// per `:in` binding after `$`, a value for `?x` and a vector, list or set of values for
/// `[?x ...]`. No inputs: `None`.
pub fn q_edn(db: &DbSnapshot<'_>, text: &str, inputs: Option<&str>) -> Result<QueryResult> {
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
            In::Scalar(var) | In::Collection(var) => items.next().ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!(":in {var} has no input"),
                )
            })?,
        };
        inputs.push(match (binding, item) {
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
    q(db, text, &inputs)
}

#[cfg(test)]
mod tests;

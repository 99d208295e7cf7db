//! Pull: an entity's attributes as a nested map, shaped by a pattern: attribute names, `*`,
//! nested maps for references, reverse references (`:ns/_name`), and options on an
//! attribute (`[:attr :limit n :default value :as name]`).

use super::Data;
use crate::dao::{owned_edn, read_edn, DbSnapshot, Index, Schema, Value};
use crate::error::{Error, ErrorKind, Result};
use clojure_reader::edn::Edn;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

/// Pulls the entity named by `entity` (an id, ident or lookup ref, as EDN) with the
/// pattern `pattern` (EDN). The answer is a map; an entity without any of the pattern's
/// attributes gives `{:db/id e}` only when the pattern asks for `:db/id` or `*`.
pub fn pull_edn(db: &DbSnapshot<'_>, pattern: &str, entity: &str) -> Result<Data> {
    let pattern = owned_edn(&read_edn(pattern, "pull pattern")?);
    let e = db.resolve_entity(entity)?;
    pull(db, &pattern, e)
}

/// Pulls entity `e` with `pattern` (a vector).
pub fn pull(db: &DbSnapshot<'_>, pattern: &Edn<'static>, e: u64) -> Result<Data> {
    pull_with(db, &Schema::read(db)?, pattern, e)
}

/// [`pull`] with the schema already read (a query pulls once per row).
pub(crate) fn pull_with(
    db: &DbSnapshot<'_>,
    schema: &Schema,
    pattern: &Edn<'static>,
    e: u64,
) -> Result<Data> {
    let Edn::Vector(items) = pattern else {
        return Err(invalid(format!(
            "a pull pattern is a vector, not {pattern}"
        )));
    };
    Ok(Data::Map(entity(db, schema, items, e, 0)?))
}

/// Options of one attribute in a pattern.
struct Spec<'p> {
    attribute: String,
    limit: Option<usize>,
    default: Option<&'p Edn<'static>>,
    alias: Option<Data>,
    nested: Option<&'p Vec<Edn<'static>>>,
}

fn spec<'p>(item: &'p Edn<'static>) -> Result<Spec<'p>> {
    let plain = |attribute: &str| Spec {
        attribute: attribute.to_string(),
        limit: None,
        default: None,
        alias: None,
        nested: None,
    };
    match item {
        Edn::Key(k) => Ok(plain(k)),
        Edn::Vector(parts) | Edn::List(parts) => {
            let Some(Edn::Key(k)) = parts.first() else {
                return Err(invalid(format!("pull: {item} starts with an attribute")));
            };
            let mut s = plain(k);
            for pair in parts[1..].chunks(2) {
                match pair {
                    [Edn::Key(o), Edn::Int(n)] if o == "limit" && *n >= 0 => {
                        s.limit = Some(*n as usize)
                    }
                    [Edn::Key(o), value] if o == "default" => s.default = Some(value),
                    [Edn::Key(o), Edn::Str(name)] if o == "as" => {
                        s.alias = Some(Data::Value(Value::String(name.to_string())))
                    }
                    [Edn::Key(o), Edn::Key(name)] if o == "as" => {
                        s.alias = Some(Data::keyword(name))
                    }
                    [Edn::Key(o), Edn::Symbol(name)] if o == "as" => {
                        s.alias = Some(Data::Value(Value::Symbol(name.to_string())))
                    }
                    _ => {
                        return Err(invalid(format!(
                            "pull: {item}: options are :limit n, :default v, :as name"
                        )))
                    }
                }
            }
            Ok(s)
        }
        other => Err(invalid(format!("pull: {other} is not an attribute"))),
    }
}

const MAX_DEPTH: usize = 32;

fn entity(
    db: &DbSnapshot<'_>,
    schema: &Schema,
    pattern: &[Edn<'static>],
    e: u64,
    depth: usize,
) -> Result<Vec<(Data, Data)>> {
    if depth > MAX_DEPTH {
        return Err(invalid("pull: the pattern nests deeper than 32 levels"));
    }
    let mut out: Vec<(Data, Data)> = Vec::new();
    for item in pattern {
        match item {
            Edn::Symbol(s) if s == "*" => {
                out.push((Data::keyword("db/id"), Data::Value(Value::Long(e as i64))));
                for (name, values) in db.entity(e)? {
                    let ident = name.trim_start_matches(':');
                    let many = schema.attribute(ident).map(|a| a.many).unwrap_or(false);
                    let pulled: Vec<Data> = values.into_iter().map(reference).collect();
                    out.push((Data::keyword(ident), collect(pulled, many)));
                }
            }
            Edn::Map(map) => {
                for (key, sub) in map {
                    let Edn::Vector(sub) = sub else {
                        return Err(invalid(format!(
                            "pull: {key} needs a vector pattern, not {sub}"
                        )));
                    };
                    let mut s = spec(key)?;
                    s.nested = Some(sub);
                    attribute(db, schema, &s, e, depth, &mut out)?;
                }
            }
            other => attribute(db, schema, &spec(other)?, e, depth, &mut out)?,
        }
    }
    Ok(out)
}

/// A reference value as `{:db/id n}`; any other value as itself.
fn reference(v: Value) -> Data {
    match v {
        Value::Ref(id) => Data::Map(vec![(
            Data::keyword("db/id"),
            Data::Value(Value::Long(id as i64)),
        )]),
        other => Data::Value(other),
    }
}

fn collect(mut values: Vec<Data>, many: bool) -> Data {
    if many {
        Data::Vector(values)
    } else {
        values.remove(0)
    }
}

fn attribute(
    db: &DbSnapshot<'_>,
    schema: &Schema,
    spec: &Spec<'_>,
    e: u64,
    depth: usize,
    out: &mut Vec<(Data, Data)>,
) -> Result<()> {
    if spec.attribute == "db/id" {
        let key = spec.alias.clone().unwrap_or_else(|| Data::keyword("db/id"));
        out.push((key, Data::Value(Value::Long(e as i64))));
        return Ok(());
    }
    let (namespace, name) = spec
        .attribute
        .rsplit_once('/')
        .unwrap_or(("", spec.attribute.as_str()));
    let reverse = name.starts_with('_');
    let forward_name = if reverse {
        format!("{namespace}/{}", &name[1..])
    } else {
        spec.attribute.clone()
    };
    let a = schema.attribute(&forward_name)?;
    // Reverse: the entities whose attribute refers to e (VAET); forward: e's values (EAVT).
    let mut found: Vec<Value> = Vec::new();
    if reverse {
        let mut prefix = Value::Ref(e).to_bytes();
        prefix.extend_from_slice(&a.id.to_be_bytes());
        for d in db.current(Index::Vaet, &prefix) {
            found.push(Value::Ref(d?.e));
        }
    } else {
        let mut prefix = e.to_be_bytes().to_vec();
        prefix.extend_from_slice(&a.id.to_be_bytes());
        for d in db.current(Index::Eavt, &prefix) {
            found.push(d?.v);
        }
    }
    if let Some(limit) = spec.limit {
        found.truncate(limit);
    }
    let key = spec
        .alias
        .clone()
        .unwrap_or_else(|| Data::keyword(&spec.attribute));
    if found.is_empty() {
        if let Some(default) = spec.default {
            out.push((key, Data::Value(db.literal(None, default)?)));
        }
        return Ok(());
    }
    let pulled = found
        .into_iter()
        .map(|v| match (spec.nested, v) {
            (Some(sub), Value::Ref(id)) => Ok(Data::Map(entity(db, schema, sub, id, depth + 1)?)),
            (_, v) => Ok(reference(v)),
        })
        .collect::<Result<Vec<_>>>()?;
    out.push((key, collect(pulled, reverse || a.many)));
    Ok(())
}

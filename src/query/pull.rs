//! Pull: an entity's attributes as a nested map, shaped by a pattern: attribute names, `*`,
//! nested maps for references, reverse references (`:ns/_name`), and options on an
//! attribute (`[:attr :limit n :default value :as name]`).

use crate::dao::{owned_edn, read_edn, DbSnapshot, Index, Schema, Value};
use crate::error::{Error, ErrorKind, Result};
use clojure_reader::edn::Edn;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

/// What a pull finds for an attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Pulled {
    Value(Value),
    /// An entity, as its pulled attributes.
    Map(Vec<(String, Pulled)>),
    /// The values of a cardinality-many (or reverse) attribute.
    Many(Vec<Pulled>),
}

impl Pulled {
    pub fn to_edn(&self) -> String {
        match self {
            Pulled::Value(v) => v.to_edn(),
            Pulled::Map(entries) => {
                let inner: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!(":{k} {}", v.to_edn()))
                    .collect();
                format!("{{{}}}", inner.join(", "))
            }
            Pulled::Many(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(Pulled::to_edn)
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        }
    }
}

/// Pulls the entity named by `entity` (an id, ident or lookup ref, as EDN) with the
/// pattern `pattern` (EDN).
pub fn pull_edn(db: &DbSnapshot<'_>, pattern: &str, entity: &str) -> Result<Pulled> {
    let pattern = owned_edn(&read_edn(pattern, "pull pattern")?);
    let e = db.resolve_entity(entity)?;
    pull(db, &pattern, e)
}

/// Pulls entity `e` with `pattern` (a vector).
pub fn pull(db: &DbSnapshot<'_>, pattern: &Edn<'static>, e: u64) -> Result<Pulled> {
    let schema = Schema::read(db)?;
    let Edn::Vector(items) = pattern else {
        return Err(invalid(format!(
            "a pull pattern is a vector, not {pattern}"
        )));
    };
    Ok(Pulled::Map(entity(db, &schema, items, e, 0)?))
}

/// Options of one attribute in a pattern.
struct Spec<'p> {
    attribute: String,
    limit: Option<usize>,
    default: Option<&'p Edn<'static>>,
    alias: Option<String>,
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
                    [Edn::Key(o), Edn::Str(name) | Edn::Key(name) | Edn::Symbol(name)]
                        if o == "as" =>
                    {
                        s.alias = Some(name.to_string())
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
) -> Result<Vec<(String, Pulled)>> {
    if depth > MAX_DEPTH {
        return Err(invalid("pull: the pattern nests deeper than 32 levels"));
    }
    let mut out: Vec<(String, Pulled)> = Vec::new();
    for item in pattern {
        match item {
            Edn::Symbol(s) if s == "*" => {
                out.push(("db/id".into(), Pulled::Value(Value::Long(e as i64))));
                for (name, values) in db.entity(e)? {
                    let ident = name.trim_start_matches(':').to_string();
                    let many = schema.attribute(&ident).map(|a| a.many).unwrap_or(false);
                    let pulled: Vec<Pulled> = values.into_iter().map(reference).collect();
                    out.push((ident, collect(pulled, many)));
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
fn reference(v: Value) -> Pulled {
    match v {
        Value::Ref(id) => Pulled::Map(vec![(
            "db/id".into(),
            Pulled::Value(Value::Long(id as i64)),
        )]),
        other => Pulled::Value(other),
    }
}

fn collect(mut values: Vec<Pulled>, many: bool) -> Pulled {
    if many {
        Pulled::Many(values)
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
    out: &mut Vec<(String, Pulled)>,
) -> Result<()> {
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
    let key = spec.alias.clone().unwrap_or_else(|| spec.attribute.clone());
    if found.is_empty() {
        if let Some(default) = spec.default {
            out.push((key, Pulled::Value(db.literal(None, default)?)));
        }
        return Ok(());
    }
    let pulled = found
        .into_iter()
        .map(|v| match (spec.nested, v) {
            (Some(sub), Value::Ref(id)) => Ok(Pulled::Map(entity(db, schema, sub, id, depth + 1)?)),
            (_, v) => Ok(reference(v)),
        })
        .collect::<Result<Vec<_>>>()?;
    out.push((key, collect(pulled, reverse || a.many)));
    Ok(())
}

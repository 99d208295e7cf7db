//! What queries and pulls hand back: EDN-shaped data built from database values. One type
//! serves every answer shape (a relation is a set of vectors, a pull is a map, `distinct`
//! is a set), so the C ABI, Java and Node each need one way to walk an answer.

use crate::dao::{edn_string, write_edn_items, Value};

/// An answer, or a part of one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Data {
    /// A value from the database or computed by the query; `Value::Nil` for nothing.
    Value(Value),
    Vector(Vec<Data>),
    /// Sorted and without duplicates.
    Set(Vec<Data>),
    /// Entries in the order they were produced (a pull keeps its pattern's order).
    Map(Vec<(Data, Data)>),
}

impl Data {
    pub fn nil() -> Data {
        Data::Value(Value::Nil)
    }

    /// A map key or value that is a keyword, `:name` (`name` without its colon).
    pub fn keyword(name: &str) -> Data {
        Data::Value(Value::Keyword(name.to_string()))
    }

    /// A set holding `items`, sorted and deduplicated.
    pub fn set(mut items: Vec<Data>) -> Data {
        items.sort();
        items.dedup();
        Data::Set(items)
    }

    /// The value under `key` when this is a map.
    pub fn get(&self, key: &Data) -> Option<&Data> {
        match self {
            Data::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The data as EDN text.
    pub fn to_edn(&self) -> String {
        let mut out = String::new();
        self.write_edn(&mut out);
        out
    }

    fn write_edn(&self, out: &mut String) {
        let item = |out: &mut String, item: &Data| item.write_edn(out);
        match self {
            Data::Value(Value::String(s)) => out.push_str(&edn_string(s)),
            Data::Value(v) => out.push_str(&v.to_edn()),
            Data::Vector(v) => write_edn_items(out, ["[", " ", "]"], v, item),
            Data::Set(v) => write_edn_items(out, ["#{", " ", "}"], v, item),
            Data::Map(entries) => write_edn_items(out, ["{", ", ", "}"], entries, |out, (k, v)| {
                k.write_edn(out);
                out.push(' ');
                v.write_edn(out);
            }),
        }
    }
}

impl From<Value> for Data {
    /// The value as data; a tuple becomes a vector of its items.
    fn from(value: Value) -> Data {
        match value {
            Value::Tuple(items) => Data::Vector(items.into_iter().map(Data::from).collect()),
            other => Data::Value(other),
        }
    }
}

impl PartialEq<Value> for Data {
    fn eq(&self, other: &Value) -> bool {
        matches!(self, Data::Value(v) if v == other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_edn() {
        let data = Data::Vector(vec![
            Data::set(vec![
                Value::Long(2).into(),
                Value::Long(1).into(),
                Value::Long(2).into(),
            ]),
            Data::Map(vec![
                (Data::keyword("db/id"), Value::Long(7).into()),
                (
                    Data::Value(Value::String("a b".into())),
                    Value::String("q\"".into()).into(),
                ),
            ]),
            Data::nil(),
        ]);
        assert_eq!(data.to_edn(), r#"[#{1 2} {:db/id 7, "a b" "q\""} nil]"#);
        let Data::Vector(items) = &data else {
            unreachable!()
        };
        assert_eq!(
            items[1].get(&Data::keyword("db/id")),
            Some(&Value::Long(7).into())
        );
        assert_eq!(items[1].get(&Data::keyword("missing")), None);
    }
}

//! The schema: attributes are entities like any other, described by datoms of the built-in
//! attributes below, so changing the schema is a transaction. A transaction reads the
//! schema of the version it starts from.

use super::datom::{Index, FIRST_ENTITY};
use super::store::DbSnapshot;
use super::value::Value;
use crate::error::{Error, ErrorKind, Result};
use std::collections::HashMap;

/// What values an attribute holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Keyword,
    String,
    Boolean,
    Long,
    Double,
    Instant,
    Uuid,
    Ref,
    Bytes,
    Symbol,
    /// Any scalar (`:db.type/any`): nil, boolean, number, string, keyword, symbol, uuid,
    /// instant or bytes. Yin literals use it.
    Any,
}

impl ValueType {
    fn from_ident(ident: &str) -> Option<ValueType> {
        Some(match ident {
            "db.type/keyword" => ValueType::Keyword,
            "db.type/string" => ValueType::String,
            "db.type/boolean" => ValueType::Boolean,
            "db.type/long" => ValueType::Long,
            "db.type/double" => ValueType::Double,
            "db.type/instant" => ValueType::Instant,
            "db.type/uuid" => ValueType::Uuid,
            "db.type/ref" => ValueType::Ref,
            "db.type/bytes" => ValueType::Bytes,
            "db.type/symbol" => ValueType::Symbol,
            "db.type/any" => ValueType::Any,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unique {
    /// A second entity asserting the value is the same entity (upsert).
    Identity,
    /// A second entity asserting the value is an error.
    Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub id: u64,
    /// Without the colon: `person/name`.
    pub ident: String,
    pub value_type: ValueType,
    pub many: bool,
    pub unique: Option<Unique>,
    pub indexed: bool,
}

/// Ids of the built-in attributes.
pub const DB_IDENT: u64 = 1;
pub const DB_VALUE_TYPE: u64 = 2;
pub const DB_CARDINALITY: u64 = 3;
pub const DB_UNIQUE: u64 = 4;
pub const DB_INDEX: u64 = 5;
pub const DB_DOC: u64 = 6;

const BUILT_IN: [(u64, &str, ValueType, Option<Unique>); 6] = [
    (
        DB_IDENT,
        "db/ident",
        ValueType::Keyword,
        Some(Unique::Identity),
    ),
    (DB_VALUE_TYPE, "db/valueType", ValueType::Keyword, None),
    (DB_CARDINALITY, "db/cardinality", ValueType::Keyword, None),
    (DB_UNIQUE, "db/unique", ValueType::Keyword, None),
    (DB_INDEX, "db/index", ValueType::Boolean, None),
    (DB_DOC, "db/doc", ValueType::String, None),
];

/// Every attribute and ident of one version of a database.
#[derive(Debug, Clone)]
pub struct Schema {
    attributes: HashMap<u64, Attribute>,
    /// ident -> entity, for attributes and plain idents (enumerated values) alike.
    idents: HashMap<String, u64>,
}

impl Schema {
    /// Reads the schema of `db`: the built-ins plus every entity with a `:db/ident`.
    pub fn read(db: &DbSnapshot<'_>) -> Result<Schema> {
        let mut schema = Schema {
            attributes: HashMap::new(),
            idents: HashMap::new(),
        };
        for (id, ident, value_type, unique) in BUILT_IN {
            schema.idents.insert(ident.to_string(), id);
            schema.attributes.insert(
                id,
                Attribute {
                    id,
                    ident: ident.to_string(),
                    value_type,
                    many: false,
                    unique,
                    indexed: true,
                },
            );
        }
        let named: Vec<(u64, String)> = db
            .current(Index::Aevt, &DB_IDENT.to_be_bytes())
            .map(|d| {
                let d = d?;
                match d.v {
                    Value::Keyword(k) => Ok((d.e, k)),
                    other => Err(Error::corrupt(format!(
                        "entity {} has :db/ident {other:?}, not a keyword",
                        d.e
                    ))),
                }
            })
            .collect::<Result<_>>()?;
        for (e, ident) in named {
            schema.idents.insert(ident.clone(), e);
            let mut value_type = None;
            let (mut many, mut unique, mut indexed) = (false, None, false);
            for d in db.current(Index::Eavt, &e.to_be_bytes()) {
                let d = d?;
                match (d.a, &d.v) {
                    (DB_VALUE_TYPE, Value::Keyword(k)) => value_type = ValueType::from_ident(k),
                    (DB_CARDINALITY, Value::Keyword(k)) => many = k == "db.cardinality/many",
                    (DB_UNIQUE, Value::Keyword(k)) if k == "db.unique/identity" => {
                        unique = Some(Unique::Identity)
                    }
                    (DB_UNIQUE, Value::Keyword(k)) if k == "db.unique/value" => {
                        unique = Some(Unique::Value)
                    }
                    (DB_INDEX, Value::Boolean(b)) => indexed = *b,
                    _ => {}
                }
            }
            if let Some(value_type) = value_type {
                schema.attributes.insert(
                    e,
                    Attribute {
                        id: e,
                        ident,
                        value_type,
                        many,
                        unique,
                        indexed,
                    },
                );
            }
        }
        Ok(schema)
    }

    /// The attribute named `ident` (without the colon).
    pub fn attribute(&self, ident: &str) -> Result<&Attribute> {
        self.idents
            .get(ident)
            .and_then(|id| self.attributes.get(id))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("unknown attribute :{ident}"),
                )
            })
    }

    pub fn attribute_by_id(&self, id: u64) -> Option<&Attribute> {
        self.attributes.get(&id)
    }

    /// The entity named by the ident `ident`.
    pub fn entity(&self, ident: &str) -> Option<u64> {
        self.idents.get(ident).copied()
    }

    /// Checks the definition of a new attribute (its `:db/valueType` names a type).
    pub fn check_value_type(ident: &str) -> Result<()> {
        match ValueType::from_ident(ident) {
            Some(_) => Ok(()),
            None => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(":db/valueType :{ident} is not a value type"),
            )),
        }
    }
}

/// Is `e` an id the application may not write (reserved, below 16)?
pub fn is_reserved(e: u64) -> bool {
    e < FIRST_ENTITY
}

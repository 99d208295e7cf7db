//! The transactor: EDN transaction data in, datoms out. A transaction is read once, then,
//! inside the store's commit loop (so it is redone from scratch if another writer wins):
//! expanded into plain operations against the schema of the version it starts from,
//! tempids resolved (upserting through unique-identity attributes, otherwise new ids),
//! values checked against their attributes' types, and turned into datoms with implicit
//! retraction for cardinality one. Any error rejects the whole transaction before anything
//! is written.

use super::datom::{Index, ASSERTED, RETRACTED};
use super::schema::{self, Attribute, Schema, Unique, ValueType};
use super::store::{Database, DbSnapshot, EntityIds, TxReport};
use super::value::Value;
use crate::error::{Error, ErrorKind, Result};
use clojure_reader::edn::{self, Edn};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What `Database::transact_edn` did.
#[derive(Debug, Clone, PartialEq)]
pub struct TxResult {
    pub report: TxReport,
    /// Each tempid of the transaction data (strings as written, negative numbers as their
    /// decimal text) and the entity it resolved to.
    pub tempids: BTreeMap<String, u64>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

/// Reads exactly one EDN form from `text`, with the position of any error.
pub(crate) fn read_edn<'t>(text: &'t str, what: &str) -> Result<Edn<'t>> {
    let (form, rest) = edn::read(text).map_err(|e| {
        invalid(format!(
            "malformed EDN in the {what} at line {}, column {}: {:?}",
            e.line.unwrap_or(0),
            e.column.unwrap_or(0),
            e.code
        ))
    })?;
    let trailing = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
    if !trailing.is_empty() {
        let at = text.len() - trailing.len();
        let line = text[..at].matches('\n').count() + 1;
        let column = at - text[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
        return Err(invalid(format!(
            "malformed EDN in the {what} at line {line}, column {column}: unexpected text after the form"
        )));
    }
    Ok(form)
}

/// An entity as transaction data names it.
#[derive(Debug, Clone)]
enum EntityRef {
    Id(u64),
    Temp(String),
    Ident(String),
    Lookup(String, Edn<'static>),
}

#[derive(Debug, Clone)]
enum Form {
    Add(EntityRef, String, Edn<'static>),
    Retract(EntityRef, String, Edn<'static>),
    RetractAttribute(EntityRef, String),
    RetractEntity(EntityRef),
}

pub(crate) fn owned(edn: &Edn<'_>) -> Edn<'static> {
    match edn {
        Edn::Vector(v) => Edn::Vector(v.iter().map(owned).collect()),
        Edn::List(v) => Edn::List(v.iter().map(owned).collect()),
        Edn::Set(s) => Edn::Set(s.iter().map(owned).collect()),
        Edn::Map(m) => Edn::Map(m.iter().map(|(k, v)| (owned(k), owned(v))).collect()),
        Edn::Key(k) => Edn::Key(k.to_string().into()),
        Edn::Symbol(s) => Edn::Symbol(s.to_string().into()),
        Edn::Str(s) => Edn::Str(s.to_string().into()),
        Edn::Tagged(tag, inner) => Edn::Tagged(tag.to_string().into(), Box::new(owned(inner))),
        Edn::Int(i) => Edn::Int(*i),
        Edn::Double(d) => Edn::Double(*d),
        Edn::Rational(r) => Edn::Rational(*r),
        Edn::Char(c) => Edn::Char(*c),
        Edn::Bool(b) => Edn::Bool(*b),
        _ => Edn::Nil,
    }
}

fn entity_ref(edn: &Edn<'static>) -> Result<EntityRef> {
    Ok(match edn {
        Edn::Int(i) if *i >= 0 => EntityRef::Id(*i as u64),
        Edn::Int(i) => EntityRef::Temp(i.to_string()),
        Edn::Str(s) => EntityRef::Temp(s.to_string()),
        Edn::Key(k) => EntityRef::Ident(k.to_string()),
        Edn::Vector(v) if v.len() == 2 => match &v[0] {
            Edn::Key(attr) => EntityRef::Lookup(attr.to_string(), v[1].clone()),
            _ => {
                return Err(invalid(format!(
                    "a lookup ref is [:attribute value], not {edn}"
                )))
            }
        },
        other => return Err(invalid(format!("{other} does not name an entity"))),
    })
}

fn attribute_name(edn: &Edn<'_>) -> Result<String> {
    match edn {
        Edn::Key(k) => Ok(k.to_string()),
        other => Err(invalid(format!("an attribute is a keyword, not {other}"))),
    }
}

/// Turns transaction data into forms; entity maps become adds, nested maps become
/// entities of their own, and collections under cardinality-many attributes become one add
/// per element.
struct Expander<'s> {
    schema: &'s Schema,
    forms: Vec<Form>,
    generated: u64,
}

impl Expander<'_> {
    fn fresh_tempid(&mut self) -> EntityRef {
        self.generated += 1;
        EntityRef::Temp(format!("eve.tempid/{}", self.generated))
    }

    fn statement(&mut self, form: &Edn<'static>) -> Result<()> {
        match form {
            Edn::Map(map) => {
                self.entity_map(map)?;
                Ok(())
            }
            Edn::Vector(items) | Edn::List(items) => {
                let op = match items.first() {
                    Some(Edn::Key(k)) => k.to_string(),
                    _ => return Err(invalid(format!("{form} is not a transaction statement"))),
                };
                let args = &items[1..];
                match (op.as_str(), args.len()) {
                    ("db/add", 3) => {
                        let e = entity_ref(&args[0])?;
                        let a = attribute_name(&args[1])?;
                        self.forms.push(Form::Add(e, a, args[2].clone()));
                    }
                    ("db/retract", 3) => {
                        let e = entity_ref(&args[0])?;
                        let a = attribute_name(&args[1])?;
                        self.forms.push(Form::Retract(e, a, args[2].clone()));
                    }
                    ("db/retract", 2) => {
                        let e = entity_ref(&args[0])?;
                        self.forms.push(Form::RetractAttribute(e, attribute_name(&args[1])?));
                    }
                    ("db/retractEntity", 1) => self.forms.push(Form::RetractEntity(entity_ref(&args[0])?)),
                    _ => return Err(invalid(format!("{form} is not a transaction statement ([:db/add e a v], [:db/retract e a v], [:db/retract e a] or [:db/retractEntity e])"))),
                }
                Ok(())
            }
            other => Err(invalid(format!("{other} is not a transaction statement"))),
        }
    }

    /// Expands an entity map; returns the entity it describes.
    fn entity_map(&mut self, map: &BTreeMap<Edn<'static>, Edn<'static>>) -> Result<EntityRef> {
        let e = match map.get(&Edn::Key("db/id".into())) {
            Some(id) => entity_ref(id)?,
            None => self.fresh_tempid(),
        };
        for (key, value) in map {
            let a = attribute_name(key)?;
            if a == "db/id" {
                continue;
            }
            let attribute = self.schema.attribute(&a)?.clone();
            let values: Vec<&Edn<'static>> = match value {
                Edn::Vector(v) | Edn::List(v) if attribute.many => v.iter().collect(),
                Edn::Set(s) if attribute.many => s.iter().collect(),
                single => vec![single],
            };
            for v in values {
                let v = match v {
                    Edn::Map(nested) if attribute.value_type == ValueType::Ref => {
                        match self.entity_map(nested)? {
                            EntityRef::Temp(t) => Edn::Str(t.into()),
                            EntityRef::Id(id) => Edn::Int(id as i64),
                            EntityRef::Ident(k) => Edn::Key(k.into()),
                            EntityRef::Lookup(attr, v) => {
                                Edn::Vector(vec![Edn::Key(attr.into()), v])
                            }
                        }
                    }
                    other => other.clone(),
                };
                self.forms.push(Form::Add(e.clone(), a.clone(), v));
            }
        }
        Ok(e)
    }
}

fn parse_instant(text: &str) -> Option<i64> {
    // YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        text.get(from..from + len)?.parse::<i64>().ok()
    };
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut at = 19;
    let mut millis = 0;
    if b.get(at) == Some(&b'.') {
        let digits = b[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let fraction = text.get(at + 1..at + 1 + digits.min(3))?;
        millis = format!("{fraction:0<3}").parse::<i64>().ok()?;
        at += 1 + digits;
    }
    let offset = match &text[at..] {
        "Z" | "" => 0,
        zone if zone.len() == 6 && (zone.starts_with('+') || zone.starts_with('-')) => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            sign * (num(at + 1, 2)? * 60 + num(at + 4, 2)?)
        }
        _ => return None,
    };
    // Days from 1970-01-01 in the proleptic Gregorian calendar.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(((days * 24 + hour) * 60 + minute - offset) * 60_000 + second * 1000 + millis)
}

fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let hex: String = text.chars().filter(|&c| c != '-').collect();
    if hex.len() != 32 || text.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// One attempt at a transaction, on one version of the database.
struct Resolver<'a, 'g> {
    db: &'a DbSnapshot<'g>,
    schema: &'a Schema,
    tempids: HashMap<String, u64>,
}

impl Resolver<'_, '_> {
    fn entity(&self, r: &EntityRef) -> Result<u64> {
        let id = match r {
            EntityRef::Id(id) => *id,
            EntityRef::Temp(t) => *self.tempids.get(t).ok_or_else(|| {
                invalid(format!(
                    "tempid {t:?} is used only as a value, never as an entity"
                ))
            })?,
            EntityRef::Ident(k) => self
                .schema
                .entity(k)
                .ok_or_else(|| invalid(format!("no entity has the ident :{k}")))?,
            EntityRef::Lookup(attr, v) => {
                let attribute = self.schema.attribute(attr)?;
                if attribute.unique.is_none() {
                    return Err(invalid(format!(
                        "lookup ref [:{attr} {v}] uses an attribute that is not unique"
                    )));
                }
                let value = self.value(attribute, v)?;
                self.owner(attribute, &value)?
                    .ok_or_else(|| invalid(format!("lookup ref [:{attr} {v}] finds no entity")))?
            }
        };
        Ok(id)
    }

    /// The entity that has `value` for the unique `attribute` now, if any.
    fn owner(&self, attribute: &Attribute, value: &Value) -> Result<Option<u64>> {
        let mut prefix = attribute.id.to_be_bytes().to_vec();
        value.encode(&mut prefix);
        match self.db.current(Index::Avet, &prefix).next() {
            Some(d) => Ok(Some(d?.e)),
            None => Ok(None),
        }
    }

    /// The values `[e a]` has now.
    fn values(&self, e: u64, a: u64) -> Result<Vec<Value>> {
        let mut prefix = e.to_be_bytes().to_vec();
        prefix.extend_from_slice(&a.to_be_bytes());
        self.db
            .current(Index::Eavt, &prefix)
            .map(|d| d.map(|d| d.v))
            .collect()
    }

    fn value(&self, attribute: &Attribute, edn: &Edn<'_>) -> Result<Value> {
        let wrong = || {
            invalid(format!(
                "{edn} is not a valid value of :{} (a {:?})",
                attribute.ident, attribute.value_type
            ))
        };
        Ok(match (attribute.value_type, edn) {
            (ValueType::Keyword, Edn::Key(k)) => Value::Keyword(k.to_string()),
            (ValueType::Symbol, Edn::Symbol(s)) => Value::Symbol(s.to_string()),
            (ValueType::String, Edn::Str(s)) => Value::String(s.to_string()),
            (ValueType::Boolean, Edn::Bool(b)) => Value::Boolean(*b),
            (ValueType::Long, Edn::Int(i)) => Value::Long(*i),
            (ValueType::Double, Edn::Double(d)) => Value::double(d.into_inner())?,
            (ValueType::Double, Edn::Int(i)) => Value::double(*i as f64)?,
            (ValueType::Instant, Edn::Tagged(tag, inner)) if tag == "inst" => match &**inner {
                Edn::Str(s) => Value::Instant(parse_instant(s).ok_or_else(wrong)?),
                _ => return Err(wrong()),
            },
            (ValueType::Uuid, Edn::Tagged(tag, inner)) if tag == "uuid" => match &**inner {
                Edn::Str(s) => Value::Uuid(parse_uuid(s).ok_or_else(wrong)?),
                _ => return Err(wrong()),
            },
            (ValueType::Bytes, Edn::Str(s)) => Value::Bytes(s.as_bytes().to_vec()),
            (ValueType::Ref, other) => Value::Ref(self.entity(&entity_ref(&owned(other))?)?),
            (ValueType::Any, other) => DbSnapshot::plain_literal(other).map_err(|_| wrong())?,
            _ => return Err(wrong()),
        })
    }
}

impl Database<'_> {
    /// Runs a transaction given as EDN transaction data (a vector of entity maps and
    /// `:db/add`, `:db/retract`, `:db/retractEntity` statements), with an optional EDN
    /// map whose attributes describe the transaction itself: it becomes a new entity, and
    /// the `m` of every assertion of the transaction. Returns the datoms written and the
    /// tempid resolutions. Invalid data (malformed EDN, an unknown attribute, a value of
    /// the wrong type, a unique value owned by another entity) changes nothing.
    pub fn transact_edn(&self, tx_data: &str, metadata: Option<&str>) -> Result<TxResult> {
        let data = owned(&read_edn(tx_data, "transaction data")?);
        let statements = match &data {
            Edn::Vector(v) | Edn::List(v) => v.clone(),
            other => {
                return Err(invalid(format!(
                    "transaction data is a vector of statements, not {other}"
                )))
            }
        };
        let metadata = match metadata {
            None => None,
            Some(text) => match owned(&read_edn(text, "transaction metadata")?) {
                Edn::Map(ref map) => Some(map.clone()),
                other => {
                    return Err(invalid(format!(
                        "transaction metadata is a map, not {other}"
                    )))
                }
            },
        };
        let (report, tempids) =
            self.transact_with(|db, ids| run(db, ids, &statements, metadata.as_ref()))?;
        Ok(TxResult { report, tempids })
    }
}

impl DbSnapshot<'_> {
    /// Encodes the leading components of a key of `index` given as an EDN vector in the
    /// index's order, e.g. `[20 :person/name]` for EAVT or `[:person/email "a@x"]` for AVET:
    /// entities as ids, idents or lookup refs, attributes as keywords, values as EDN of the
    /// attribute's type, `t` as a number. The result is the prefix to scan.
    pub fn index_prefix(&self, index: Index, components: &str) -> Result<Vec<u8>> {
        let parsed = owned(&read_edn(components, "index components")?);
        let parts = match &parsed {
            Edn::Vector(v) | Edn::List(v) => v.clone(),
            other => {
                return Err(invalid(format!(
                    "index components are a vector, not {other}"
                )))
            }
        };
        let schema = Schema::read(self)?;
        let resolver = Resolver {
            db: self,
            schema: &schema,
            tempids: HashMap::new(),
        };
        #[derive(Clone, Copy)]
        enum Part {
            E,
            A,
            V,
            T,
        }
        let order: [Part; 4] = match index {
            Index::Eavt => [Part::E, Part::A, Part::V, Part::T],
            Index::Aevt => [Part::A, Part::E, Part::V, Part::T],
            Index::Avet => [Part::A, Part::V, Part::E, Part::T],
            Index::Vaet => [Part::V, Part::A, Part::E, Part::T],
        };
        if parts.len() > 4 {
            return Err(invalid(
                "an index key has at most four leading components (e a v t)",
            ));
        }
        let mut out = Vec::new();
        let mut attribute: Option<Attribute> = None;
        for (part, edn) in order.iter().zip(&parts) {
            match part {
                Part::E => {
                    out.extend_from_slice(&resolver.entity(&entity_ref(edn)?)?.to_be_bytes())
                }
                Part::A => {
                    let a = schema.attribute(&attribute_name(edn)?)?.clone();
                    out.extend_from_slice(&a.id.to_be_bytes());
                    attribute = Some(a);
                }
                Part::V => {
                    let value = match &attribute {
                        Some(a) => resolver.value(a, edn)?,
                        // VAET: the value comes first and is a reference.
                        None => Value::Ref(resolver.entity(&entity_ref(edn)?)?),
                    };
                    value.encode(&mut out);
                }
                Part::T => match edn {
                    Edn::Int(t) if *t >= 0 => out.extend_from_slice(&(*t as u64).to_be_bytes()),
                    other => {
                        return Err(invalid(format!("t is a non-negative number, not {other}")))
                    }
                },
            }
        }
        Ok(out)
    }

    /// The entity an EDN reference names: an id, an ident keyword or a lookup ref.
    pub fn resolve_entity(&self, reference: &str) -> Result<u64> {
        let parsed = owned(&read_edn(reference, "entity reference")?);
        let schema = Schema::read(self)?;
        let resolver = Resolver {
            db: self,
            schema: &schema,
            tempids: HashMap::new(),
        };
        match entity_ref(&parsed)? {
            EntityRef::Temp(t) => Err(invalid(format!("{t:?} is a tempid, not an entity"))),
            r => resolver.entity(&r),
        }
    }

    /// The value an EDN literal denotes as a value of `attribute` (typed by it: refs may be
    /// ids, idents or lookup refs), or, without an attribute, by its EDN type alone.
    pub(crate) fn literal(&self, attribute: Option<&Attribute>, edn: &Edn<'_>) -> Result<Value> {
        if attribute.is_none() {
            // Untyped literals need no schema (reading it walks the database).
            return Self::plain_literal(edn);
        }
        let schema = Schema::read(self)?;
        let resolver = Resolver {
            db: self,
            schema: &schema,
            tempids: HashMap::new(),
        };
        match attribute {
            Some(a) => resolver.value(a, edn),
            None => Self::plain_literal(edn),
        }
    }

    /// [`literal`](Self::literal) for an attribute of `schema`, already read.
    pub(crate) fn literal_in(
        &self,
        schema: &Schema,
        attribute: &Attribute,
        edn: &Edn<'_>,
    ) -> Result<Value> {
        Resolver {
            db: self,
            schema,
            tempids: HashMap::new(),
        }
        .value(attribute, edn)
    }

    /// The value an EDN literal denotes by its EDN type alone.
    fn plain_literal(edn: &Edn<'_>) -> Result<Value> {
        Ok(match edn {
            Edn::Nil => Value::Nil,
            Edn::Bool(b) => Value::Boolean(*b),
            Edn::Int(i) => Value::Long(*i),
            Edn::Double(d) => Value::double(d.into_inner())?,
            Edn::Str(s) => Value::String(s.to_string()),
            Edn::Key(k) => Value::Keyword(k.to_string()),
            Edn::Symbol(s) => Value::Symbol(s.to_string()),
            Edn::Tagged(tag, inner) => match (&**tag, &**inner) {
                ("inst", Edn::Str(s)) => Value::Instant(
                    parse_instant(s)
                        .ok_or_else(|| invalid(format!("#inst {s:?} is not an instant")))?,
                ),
                ("uuid", Edn::Str(s)) => Value::Uuid(
                    parse_uuid(s).ok_or_else(|| invalid(format!("#uuid {s:?} is not a uuid")))?,
                ),
                _ => return Err(invalid(format!("{edn} is not a value"))),
            },
            other => return Err(invalid(format!("{other} is not a value"))),
        })
    }

    /// The entity named by the ident `ident` (with or without the leading colon).
    pub fn ident(&self, ident: &str) -> Result<Option<u64>> {
        Ok(Schema::read(self)?.entity(ident.trim_start_matches(':')))
    }
}

type Tuples = Vec<(u64, u64, Value, u64)>;

fn run(
    db: &DbSnapshot<'_>,
    ids: &mut EntityIds,
    statements: &[Edn<'static>],
    metadata: Option<&BTreeMap<Edn<'static>, Edn<'static>>>,
) -> Result<(Tuples, BTreeMap<String, u64>)> {
    let schema = Schema::read(db)?;
    let mut expander = Expander {
        schema: &schema,
        forms: Vec::new(),
        generated: 0,
    };
    let meta_entity = match metadata {
        Some(map) => {
            let mut with_id = map.clone();
            with_id.insert(Edn::Key("db/id".into()), Edn::Str("eve.tx/metadata".into()));
            expander.entity_map(&with_id)?;
            Some(expander.forms.len())
        }
        None => None,
    };
    for statement in statements {
        expander.statement(statement)?;
    }
    let forms = expander.forms;

    // Tempids: upsert through unique identities first, then new ids in order of appearance.
    let mut resolver = Resolver {
        db,
        schema: &schema,
        tempids: HashMap::new(),
    };
    for form in &forms {
        if let Form::Add(EntityRef::Temp(t), a, v) = form {
            let attribute = schema.attribute(a)?;
            if attribute.unique == Some(Unique::Identity) && attribute.value_type != ValueType::Ref
            {
                let value = resolver.value(attribute, v)?;
                if let Some(existing) = resolver.owner(attribute, &value)? {
                    if let Some(&other) = resolver.tempids.get(t) {
                        if other != existing {
                            return Err(invalid(format!(
                                "tempid {t:?} upserts to both {other} and {existing}"
                            )));
                        }
                    }
                    resolver.tempids.insert(t.clone(), existing);
                }
            }
        }
    }
    let mut order = Vec::new();
    for form in &forms {
        let e = match form {
            Form::Add(e, ..)
            | Form::Retract(e, ..)
            | Form::RetractAttribute(e, _)
            | Form::RetractEntity(e) => e,
        };
        if let EntityRef::Temp(t) = e {
            if !resolver.tempids.contains_key(t) {
                let id = ids.allocate();
                resolver.tempids.insert(t.clone(), id);
                order.push(t.clone());
            }
        }
    }

    // Datoms.
    let meta_id = resolver.tempids.get("eve.tx/metadata").copied();
    let mut tuples: Tuples = Vec::new();
    let mut seen: HashSet<(u64, u64, Vec<u8>, u64)> = HashSet::new();
    let mut unique_in_tx: HashMap<(u64, Vec<u8>), u64> = HashMap::new();
    let mut card_one_in_tx: HashMap<(u64, u64), Value> = HashMap::new();
    let mut push = |tuples: &mut Tuples, e: u64, a: u64, v: Value, m: u64| {
        if seen.insert((e, a, v.to_bytes(), m)) {
            tuples.push((e, a, v, m));
        }
    };
    for (position, form) in forms.iter().enumerate() {
        let is_meta = meta_entity.is_some_and(|end| position < end);
        let assert_m = if is_meta {
            ASSERTED
        } else {
            meta_id.unwrap_or(ASSERTED)
        };
        match form {
            Form::Add(e, a, v) => {
                let e = resolver.entity(e)?;
                if schema::is_reserved(e) {
                    return Err(invalid(format!(
                        "entity {e} is reserved (ids below 16 belong to eve)"
                    )));
                }
                let attribute = schema.attribute(a)?;
                let value = resolver.value(attribute, v)?;
                check_schema_value(attribute, &value)?;
                if attribute.unique.is_some() {
                    if let Some(owner) = resolver.owner(attribute, &value)? {
                        if owner != e {
                            return Err(invalid(format!(
                                "unique conflict: :{} {v} already belongs to entity {owner}",
                                attribute.ident
                            )));
                        }
                    }
                    let claimed = unique_in_tx
                        .entry((attribute.id, value.to_bytes()))
                        .or_insert(e);
                    if *claimed != e {
                        return Err(invalid(format!(
                            "unique conflict: two entities ({claimed} and {e}) assert :{} {v}",
                            attribute.ident
                        )));
                    }
                }
                let now = resolver.values(e, attribute.id)?;
                if !attribute.many {
                    if let Some(previous) = card_one_in_tx.insert((e, attribute.id), value.clone())
                    {
                        if previous != value {
                            return Err(invalid(format!(
                                "conflicting values for the cardinality-one :{} of entity {e}: {previous:?} and {value:?}",
                                attribute.ident
                            )));
                        }
                    }
                    for old in now.iter().filter(|old| **old != value) {
                        push(&mut tuples, e, attribute.id, old.clone(), RETRACTED);
                    }
                }
                if !now.contains(&value) {
                    push(&mut tuples, e, attribute.id, value, assert_m);
                }
            }
            Form::Retract(e, a, v) => {
                let e = resolver.entity(e)?;
                let attribute = schema.attribute(a)?;
                let value = resolver.value(attribute, v)?;
                if resolver.values(e, attribute.id)?.contains(&value) {
                    push(&mut tuples, e, attribute.id, value, RETRACTED);
                }
            }
            Form::RetractAttribute(e, a) => {
                let e = resolver.entity(e)?;
                let attribute = schema.attribute(a)?;
                for old in resolver.values(e, attribute.id)? {
                    push(&mut tuples, e, attribute.id, old, RETRACTED);
                }
            }
            Form::RetractEntity(e) => {
                let e = resolver.entity(e)?;
                let own: Vec<_> = db
                    .current(Index::Eavt, &e.to_be_bytes())
                    .collect::<Result<_>>()?;
                let referring: Vec<_> = db
                    .current(Index::Vaet, &Value::Ref(e).to_bytes())
                    .collect::<Result<_>>()?;
                for d in own.into_iter().chain(referring) {
                    push(&mut tuples, d.e, d.a, d.v, RETRACTED);
                }
            }
        }
    }
    let tempids = resolver
        .tempids
        .into_iter()
        .filter(|(t, _)| !t.starts_with("eve.tempid/") && t != "eve.tx/metadata")
        .collect();
    Ok((tuples, tempids))
}

/// Values of the schema attributes must make sense before they define an attribute.
fn check_schema_value(attribute: &Attribute, value: &Value) -> Result<()> {
    let Value::Keyword(k) = value else {
        return Ok(());
    };
    match attribute.id {
        schema::DB_VALUE_TYPE => Schema::check_value_type(k),
        schema::DB_CARDINALITY if k != "db.cardinality/one" && k != "db.cardinality/many" => {
            Err(invalid(format!(
                ":db/cardinality :{k} is neither :db.cardinality/one nor :db.cardinality/many"
            )))
        }
        schema::DB_UNIQUE if k != "db.unique/identity" && k != "db.unique/value" => Err(invalid(
            format!(":db/unique :{k} is neither :db.unique/identity nor :db.unique/value"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_instant;

    #[test]
    fn instants() {
        assert_eq!(parse_instant("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_instant("2000-03-01T00:00:00.5Z"),
            Some(951_868_800_500)
        );
        assert_eq!(parse_instant("1969-12-31T23:59:59Z"), Some(-1000));
        assert_eq!(
            parse_instant("2020-01-01T01:00:00+01:00"),
            Some(1_577_836_800_000)
        );
        assert_eq!(parse_instant("2020-13-01T00:00:00Z"), None);
        assert_eq!(parse_instant("yesterday"), None);
    }
}

//! Entity lookup: every attribute an entity has now (or at another version), as values or
//! as an EDN map.

use super::datom::Index;
use super::schema::Schema;
use super::store::DbSnapshot;
use super::value::Value;
use crate::error::Result;
use std::collections::BTreeMap;

impl DbSnapshot<'_> {
    /// The attributes of entity `e` true in this version: attribute ident → values (one
    /// for cardinality-one attributes), read from EAVT in place.
    pub fn entity(&self, e: u64) -> Result<BTreeMap<String, Vec<Value>>> {
        let schema = Schema::read(self)?;
        let mut attributes: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for datom in self.current(Index::Eavt, &e.to_be_bytes()) {
            let datom = datom?;
            let name = schema
                .attribute_by_id(datom.a)
                .map_or_else(|| datom.a.to_string(), |a| format!(":{}", a.ident));
            attributes.entry(name).or_default().push(datom.v);
        }
        Ok(attributes)
    }

    /// `entity(e)` as an EDN map with `:db/id`; cardinality-many attributes as sets.
    pub fn entity_edn(&self, e: u64) -> Result<String> {
        let schema = Schema::read(self)?;
        let mut parts = vec![format!(":db/id {e}")];
        for (name, values) in self.entity(e)? {
            let many = schema
                .attribute(name.trim_start_matches(':'))
                .map(|a| a.many)
                .unwrap_or(values.len() > 1);
            let text = if many {
                let items: Vec<String> = values.iter().map(Value::to_edn).collect();
                format!("#{{{}}}", items.join(" "))
            } else {
                values
                    .iter()
                    .map(Value::to_edn)
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            parts.push(format!("{name} {text}"));
        }
        Ok(format!("{{{}}}", parts.join(", ")))
    }
}

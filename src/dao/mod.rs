//! The `dao` layer: DaoDB, a datom database whose indexes live in the slab (DESIGN.md,
//! "DaoDB semantics"). This part holds the data model: values with an order-preserving
//! encoding, datoms, and their keys in the four covering indexes (EAVT, AEVT, AVET, VAET),
//! which the `btree` layer stores; and the store: a database block naming the four index
//! trees and the transaction log, committed together with one CAS, and the views (current,
//! as-of, since, history, the log) read in place. The EDN transactor and schema build on it.

mod datom;
mod entity;
mod schema;
mod store;
mod transact;
mod value;

pub use datom::{Datom, Index, KeyParts, ASSERTED, DERIVED, FIRST_ENTITY, RETRACTED};
pub use schema::{Attribute, Schema, Unique, ValueType};
pub(crate) use store::database_children;
pub(crate) use store::successor;
pub use store::{
    Change, Database, Datoms, DbSnapshot, Durability, EntityIds, LogDatoms, TxReport, View,
};
pub use transact::TxResult;
pub(crate) use transact::{owned as owned_edn, read_edn};
pub use value::{edn_double, edn_string, write_edn_items, Value};

#[cfg(test)]
mod tests;

//! The `dao` layer: DaoDB, a datom database whose indexes live in the slab (DESIGN.md,
//! "DaoDB semantics"). This part holds the data model: values with an order-preserving
//! encoding, datoms, and their keys in the four covering indexes (EAVT, AEVT, AVET, VAET),
//! which the `btree` layer stores. The transactor, schema and views build on it.

mod datom;
mod value;

pub use datom::{Datom, Index, ASSERTED, DERIVED, FIRST_ENTITY, RETRACTED};
pub use value::Value;

#[cfg(test)]
mod tests;

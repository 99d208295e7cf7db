//! Datoms and their keys in the four covering indexes. A key is the datom's components in
//! the index's order, each in an order-preserving encoding (ids as big-endian u64, the
//! value as in `value`), so the B+tree's byte order is the index order and a key decodes
//! back to the whole datom: the indexes cover every query without a second lookup.

use super::value::Value;
use crate::error::{Error, Result};

/// `m` of a retraction.
pub const RETRACTED: u64 = 0;
/// `m` of a plain assertion.
pub const ASSERTED: u64 = 1;
/// `m` of a derived datom.
pub const DERIVED: u64 = 2;
/// Entity ids below this are reserved; `m >= FIRST_ENTITY` names a metadata entity.
pub const FIRST_ENTITY: u64 = 16;

/// `[e a v t m]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datom {
    pub e: u64,
    pub a: u64,
    pub v: Value,
    pub t: u64,
    pub m: u64,
}

/// The four covering indexes, named by their sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Index {
    Eavt,
    Aevt,
    Avet,
    /// Only datoms whose value is a reference.
    Vaet,
}

impl Index {
    pub const ALL: [Index; 4] = [Index::Eavt, Index::Aevt, Index::Avet, Index::Vaet];
}

impl Datom {
    /// Is this datom in `index`? VAET holds reference datoms only.
    pub fn belongs_in(&self, index: Index) -> bool {
        index != Index::Vaet || matches!(self.v, Value::Ref(_))
    }

    /// The key of this datom in `index`.
    pub fn key(&self, index: Index) -> Vec<u8> {
        let mut out = Vec::with_capacity(48);
        self.key_into(index, &mut out);
        out
    }

    /// Appends the key of this datom in `index` to `out` (writers build many keys into one
    /// buffer instead of allocating each).
    pub fn key_into(&self, index: Index, out: &mut Vec<u8>) {
        let id = |out: &mut Vec<u8>, x: u64| out.extend_from_slice(&x.to_be_bytes());
        match index {
            Index::Eavt => {
                id(out, self.e);
                id(out, self.a);
                self.v.encode(out);
            }
            Index::Aevt => {
                id(out, self.a);
                id(out, self.e);
                self.v.encode(out);
            }
            Index::Avet => {
                id(out, self.a);
                self.v.encode(out);
                id(out, self.e);
            }
            Index::Vaet => {
                self.v.encode(out);
                id(out, self.a);
                id(out, self.e);
            }
        }
        id(out, self.t);
        id(out, self.m);
    }

    /// Where the encoded value starts in a key of `index`.
    pub fn value_offset(index: Index) -> usize {
        match index {
            Index::Eavt | Index::Aevt => 16,
            Index::Avet => 8,
            Index::Vaet => 0,
        }
    }

    /// The shortest index key: three ids, a one-byte value, and `m`.
    pub const MIN_KEY_LEN: usize = 33;

    /// The `t` and `m` of an index key of any index (its last 16 bytes), which must be at
    /// least `MIN_KEY_LEN` long.
    pub fn key_t_m(key: &[u8]) -> (u64, u64) {
        let n = key.len();
        (be_u64(&key[n - 16..n - 8]), be_u64(&key[n - 8..]))
    }

    /// The components of a key of `index` with the value left encoded, for scans that
    /// filter and bind without decoding every value.
    pub fn key_parts(index: Index, key: &[u8]) -> Result<KeyParts<'_>> {
        let n = key.len();
        if n < Self::MIN_KEY_LEN {
            return Err(Error::corrupt(format!(
                "a {index:?} index key is {n} bytes long"
            )));
        }
        let (t, m) = Self::key_t_m(key);
        let (e, a, v) = match index {
            Index::Eavt => (be_u64(&key[..8]), be_u64(&key[8..16]), &key[16..n - 16]),
            Index::Aevt => (be_u64(&key[8..16]), be_u64(&key[..8]), &key[16..n - 16]),
            Index::Avet => (
                be_u64(&key[n - 24..n - 16]),
                be_u64(&key[..8]),
                &key[8..n - 24],
            ),
            Index::Vaet => (
                be_u64(&key[n - 24..n - 16]),
                be_u64(&key[n - 32..n - 24]),
                &key[..n - 32],
            ),
        };
        Ok(KeyParts { e, a, v, t, m })
    }

    /// The datom a key of `index` encodes.
    pub fn from_key(index: Index, key: &[u8]) -> Result<Datom> {
        let mut r = Reader { rest: key, index };
        let (e, a, v) = match index {
            Index::Eavt => {
                let (e, a) = (r.id()?, r.id()?);
                (e, a, r.value()?)
            }
            Index::Aevt => {
                let (a, e) = (r.id()?, r.id()?);
                (e, a, r.value()?)
            }
            Index::Avet => {
                let a = r.id()?;
                let v = r.value()?;
                (r.id()?, a, v)
            }
            Index::Vaet => {
                let v = r.value()?;
                let a = r.id()?;
                (r.id()?, a, v)
            }
        };
        let (t, m) = (r.id()?, r.id()?);
        if !r.rest.is_empty() {
            return Err(r.bad());
        }
        Ok(Datom { e, a, v, t, m })
    }
}

/// An index key's components, its value still encoded (`Value::decode` reads it).
#[derive(Debug, Clone, Copy)]
pub struct KeyParts<'k> {
    pub e: u64,
    pub a: u64,
    pub v: &'k [u8],
    pub t: u64,
    pub m: u64,
}

fn be_u64(bytes: &[u8]) -> u64 {
    u64::from_be_bytes(bytes.try_into().expect("8 bytes"))
}

/// Reads a key's components front to back.
struct Reader<'a> {
    rest: &'a [u8],
    index: Index,
}

impl Reader<'_> {
    fn bad(&self) -> Error {
        Error::corrupt(format!("a {:?} index key does not decode", self.index))
    }

    fn id(&mut self) -> Result<u64> {
        if self.rest.len() < 8 {
            return Err(self.bad());
        }
        let (head, tail) = self.rest.split_at(8);
        self.rest = tail;
        Ok(u64::from_be_bytes(head.try_into().expect("8 bytes")))
    }

    fn value(&mut self) -> Result<Value> {
        let (value, tail) = Value::decode(self.rest)?;
        if let Value::Tuple(_) = value {
            // Tuples are made by queries, never stored.
            return Err(self.bad());
        }
        self.rest = tail;
        Ok(value)
    }
}

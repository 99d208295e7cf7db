//! Datom values and their order-preserving encoding: for any two values, comparing their
//! encodings as bytes gives the same answer as comparing the values, so the B+tree indexes
//! order datoms by plain byte comparison.
//!
//! Type order (DESIGN.md): nil < boolean < number < string < keyword < symbol < other, with
//! the "other" types ordered uuid < instant < bytes < ref. Longs and doubles are one class,
//! compared by numeric value.
//!
//! Encoding: one tag byte, then
//! * boolean: one byte, 0 or 1;
//! * number: the value as an order-preserving double (8 bytes: the IEEE bits, sign bit
//!   flipped for positives, all bits flipped for negatives), then a tie-breaker for values
//!   that round to the same double: 0 for a double, or 1 and the exact long (8 bytes, sign
//!   flipped, big-endian);
//! * string, keyword, symbol, bytes: the bytes with 0x00 escaped as 0x00 0xFF, ended by
//!   0x00 0x00 — self-delimiting, and a prefix sorts before its extensions;
//! * uuid: 16 bytes; instant: milliseconds since the epoch as a sign-flipped big-endian
//!   i64; ref: the entity id as a big-endian u64;
//! * tuple (made by queries, after every stored type): each element as 0x01 and its
//!   encoding, then 0x00 — elements compare in turn and a shorter tuple sorts first.

use crate::error::{Error, ErrorKind, Result};
use std::cmp::Ordering;

const NIL: u8 = 0x00;
const BOOLEAN: u8 = 0x10;
const NUMBER: u8 = 0x20;
const STRING: u8 = 0x30;
const KEYWORD: u8 = 0x40;
const SYMBOL: u8 = 0x50;
const UUID: u8 = 0x60;
const INSTANT: u8 = 0x61;
const BYTES: u8 = 0x62;
const REF: u8 = 0x63;
const TUPLE: u8 = 0x70;

/// The value of a datom.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Nil,
    Boolean(bool),
    Long(i64),
    /// Never NaN (refused on the way in), and -0.0 is stored as 0.0.
    Double(f64),
    String(String),
    /// Without the leading colon: `db/ident`.
    Keyword(String),
    Symbol(String),
    Uuid([u8; 16]),
    /// Milliseconds since 1970-01-01T00:00:00Z.
    Instant(i64),
    Bytes(Vec<u8>),
    /// An entity id.
    Ref(u64),
    /// A tuple of values, as the query function `tuple` makes; not a stored type.
    Tuple(Vec<Value>),
}

impl Value {
    /// A double value; NaN has no place in an order and is refused.
    pub fn double(d: f64) -> Result<Value> {
        if d.is_nan() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "NaN cannot be stored: it has no place in the value order",
            ));
        }
        Ok(Value::Double(if d == 0.0 { 0.0 } else { d }))
    }

    fn tag(&self) -> u8 {
        match self {
            Value::Nil => NIL,
            Value::Boolean(_) => BOOLEAN,
            Value::Long(_) | Value::Double(_) => NUMBER,
            Value::String(_) => STRING,
            Value::Keyword(_) => KEYWORD,
            Value::Symbol(_) => SYMBOL,
            Value::Uuid(_) => UUID,
            Value::Instant(_) => INSTANT,
            Value::Bytes(_) => BYTES,
            Value::Ref(_) => REF,
            Value::Tuple(_) => TUPLE,
        }
    }

    /// Appends the encoding of `self` to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.tag());
        match self {
            Value::Nil => {}
            Value::Boolean(b) => out.push(*b as u8),
            Value::Long(l) => {
                out.extend_from_slice(&ordered_double(*l as f64));
                out.push(1);
                out.extend_from_slice(&ordered_i64(*l));
            }
            Value::Double(d) => {
                out.extend_from_slice(&ordered_double(*d));
                out.push(0);
            }
            Value::String(s) | Value::Keyword(s) | Value::Symbol(s) => escape(s.as_bytes(), out),
            Value::Bytes(b) => escape(b, out),
            Value::Uuid(u) => out.extend_from_slice(u),
            Value::Instant(ms) => out.extend_from_slice(&ordered_i64(*ms)),
            Value::Ref(e) => out.extend_from_slice(&e.to_be_bytes()),
            Value::Tuple(items) => {
                for item in items {
                    out.push(1);
                    item.encode(out);
                }
                out.push(0);
            }
        }
    }

    /// The value as EDN text (`"text"`, `:keyword`, `#inst "…"`, `#uuid "…"`, ...). Bytes,
    /// which EDN has no literal for, are written as `#eve/bytes "hex"`.
    pub fn to_edn(&self) -> String {
        match self {
            Value::Nil => "nil".into(),
            Value::Boolean(b) => b.to_string(),
            Value::Long(l) => l.to_string(),
            Value::Double(d) => edn_double(*d),
            Value::String(s) => edn_string(s),
            Value::Keyword(k) => format!(":{k}"),
            Value::Symbol(s) => s.clone(),
            Value::Uuid(u) => {
                let hex: String = u.iter().map(|b| format!("{b:02x}")).collect();
                format!(
                    "#uuid \"{}-{}-{}-{}-{}\"",
                    &hex[..8],
                    &hex[8..12],
                    &hex[12..16],
                    &hex[16..20],
                    &hex[20..]
                )
            }
            Value::Instant(ms) => format!("#inst \"{}\"", instant_text(*ms)),
            Value::Bytes(b) => {
                let hex: String = b.iter().map(|b| format!("{b:02x}")).collect();
                format!("#eve/bytes \"{hex}\"")
            }
            Value::Ref(e) => e.to_string(),
            Value::Tuple(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(Value::to_edn)
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decodes one value from the front of `bytes`; returns it and the bytes after it.
    pub fn decode(bytes: &[u8]) -> Result<(Value, &[u8])> {
        let bad = || {
            Error::corrupt(format!(
                "a datom value does not decode (starts {:02x?})",
                &bytes[..bytes.len().min(12)]
            ))
        };
        let (&tag, rest) = bytes.split_first().ok_or_else(bad)?;
        let fixed = |n: usize| -> Result<(&[u8], &[u8])> {
            if rest.len() < n {
                Err(bad())
            } else {
                Ok(rest.split_at(n))
            }
        };
        Ok(match tag {
            NIL => (Value::Nil, rest),
            BOOLEAN => {
                let (b, rest) = fixed(1)?;
                match b[0] {
                    0 | 1 => (Value::Boolean(b[0] == 1), rest),
                    _ => return Err(bad()),
                }
            }
            NUMBER => {
                let (head, rest) = fixed(9)?;
                let double = from_ordered_double(head[..8].try_into().expect("8 bytes"));
                match head[8] {
                    0 => (Value::Double(double), rest),
                    1 if rest.len() >= 8 => {
                        let (exact, rest) = rest.split_at(8);
                        (Value::Long(from_ordered_i64(exact)), rest)
                    }
                    _ => return Err(bad()),
                }
            }
            STRING | KEYWORD | SYMBOL => {
                let (raw, rest) = unescape(rest).ok_or_else(bad)?;
                let text = String::from_utf8(raw).map_err(|_| bad())?;
                let value = match tag {
                    STRING => Value::String(text),
                    KEYWORD => Value::Keyword(text),
                    _ => Value::Symbol(text),
                };
                (value, rest)
            }
            BYTES => {
                let (raw, rest) = unescape(rest).ok_or_else(bad)?;
                (Value::Bytes(raw), rest)
            }
            UUID => {
                let (u, rest) = fixed(16)?;
                (Value::Uuid(u.try_into().expect("16 bytes")), rest)
            }
            INSTANT => {
                let (ms, rest) = fixed(8)?;
                (Value::Instant(from_ordered_i64(ms)), rest)
            }
            REF => {
                let (e, rest) = fixed(8)?;
                (
                    Value::Ref(u64::from_be_bytes(e.try_into().expect("8 bytes"))),
                    rest,
                )
            }
            TUPLE => {
                let mut items = Vec::new();
                let mut rest = rest;
                loop {
                    match rest.split_first() {
                        Some((0, after)) => break (Value::Tuple(items), after),
                        Some((1, after)) => {
                            let (item, after) = Value::decode(after)?;
                            items.push(item);
                            rest = after;
                        }
                        _ => return Err(bad()),
                    }
                }
            }
            _ => return Err(bad()),
        })
    }
}

/// The value order. Longs and doubles compare by numeric value; a long and a double that
/// are numerically equal (`1` and `1.0`) are distinct values, the double first. It is the
/// order of the encodings, computed without encoding (queries sort many rows).
impl Ord for Value {
    fn cmp(&self, other: &Value) -> Ordering {
        use Value::*;
        match (self, other) {
            (Boolean(a), Boolean(b)) => a.cmp(b),
            (Long(a), Long(b)) => a.cmp(b),
            (Double(a), Double(b)) => a.total_cmp(b),
            // The double sorts first among numerically equal numbers.
            (Long(a), Double(b)) => (*a as f64).total_cmp(b).then(Ordering::Greater),
            (Double(a), Long(b)) => a.total_cmp(&(*b as f64)).then(Ordering::Less),
            // Escaped encodings order like the raw bytes they escape.
            (String(a), String(b)) | (Keyword(a), Keyword(b)) | (Symbol(a), Symbol(b)) => {
                a.as_bytes().cmp(b.as_bytes())
            }
            (Bytes(a), Bytes(b)) => a.cmp(b),
            (Uuid(a), Uuid(b)) => a.cmp(b),
            (Instant(a), Instant(b)) => a.cmp(b),
            (Ref(a), Ref(b)) => a.cmp(b),
            (Tuple(a), Tuple(b)) => a.cmp(b),
            _ => self.tag().cmp(&other.tag()),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Eq for Value {}

/// An EDN double literal: always with a point or an exponent, so it reads back as a
/// double; `##Inf`, `##-Inf` and `##NaN` for the values EDN has no digits for.
pub fn edn_double(d: f64) -> String {
    if d.is_nan() {
        "##NaN".into()
    } else if d.is_infinite() {
        if d > 0.0 { "##Inf" } else { "##-Inf" }.into()
    } else if d.fract() == 0.0 && d.abs() < 1e15 {
        format!("{d:.1}")
    } else if d.abs() >= 1e15 || (d != 0.0 && d.abs() < 1e-5) {
        // Large or tiny magnitudes in exponent form, which also keeps them doubles.
        format!("{d:e}")
    } else {
        d.to_string()
    }
}

/// Writes `items` to `out` as an EDN collection: `open`, the items separated by `separator`
/// (each written by `write`), `close`.
pub fn write_edn_items<T>(
    out: &mut String,
    [open, separator, close]: [&str; 3],
    items: impl IntoIterator<Item = T>,
    mut write: impl FnMut(&mut String, T),
) {
    out.push_str(open);
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        write(out, item);
    }
    out.push_str(close);
}

/// An EDN string literal.
pub fn edn_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// RFC 3339 text of a millisecond timestamp, in UTC.
fn instant_text(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

fn ordered_double(d: f64) -> [u8; 8] {
    let bits = d.to_bits();
    let flipped = if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    };
    flipped.to_be_bytes()
}

fn from_ordered_double(bytes: [u8; 8]) -> f64 {
    let flipped = u64::from_be_bytes(bytes);
    let bits = if flipped >> 63 == 1 {
        flipped & !(1 << 63)
    } else {
        !flipped
    };
    f64::from_bits(bits)
}

fn ordered_i64(v: i64) -> [u8; 8] {
    ((v as u64) ^ (1 << 63)).to_be_bytes()
}

fn from_ordered_i64(bytes: &[u8]) -> i64 {
    (u64::from_be_bytes(bytes.try_into().expect("8 bytes")) ^ (1 << 63)) as i64
}

fn escape(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

/// The unescaped bytes and what follows the terminator, or `None` if malformed.
fn unescape(bytes: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        match *bytes.get(i)? {
            0 => match *bytes.get(i + 1)? {
                0 => return Some((out, &bytes[i + 2..])),
                0xFF => {
                    out.push(0);
                    i += 2;
                }
                _ => return None,
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
}

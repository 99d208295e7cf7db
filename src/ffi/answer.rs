//! Answers: the result of a query or a pull, as a tree of nodes C can walk without parsing
//! anything. The nodes are one array (node 0 is the root; a collection's children are
//! consecutive), so a host can read them in place through `eve_answer_nodes` or call the
//! typed getters; `eve_answer_rows` and `eve_answer_cell` walk a query's answer as a
//! result set.

use super::args::{self, eve_bytes, Out};
use super::db::{eve_value_type, run_query, snapshot, view_of};
use super::error::{run, Failure};
use super::handles::{self, eve_answer, eve_read, register_answer};
use super::EveStatus;
use crate::dao::Value;
use crate::query::{Data, QueryResult};
use std::ffi::{c_char, CString};
use std::sync::OnceLock;

/// The shape of an answer: what its root holds.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum eve_shape {
    /// `:find ?a ?b`: a set of rows, each a vector with one cell per find element.
    EVE_SHAPE_RELATION = 0,
    /// `:find ?a .`: one value, nil when nothing matched (one row or none).
    EVE_SHAPE_SCALAR = 1,
    /// `:find [?a ...]`: a vector of values (one column).
    EVE_SHAPE_COLLECTION = 2,
    /// `:find [?a ?b]`: one vector, nil when nothing matched (one row or none).
    EVE_SHAPE_TUPLE = 3,
    /// `:keys`, `:syms` or `:strs`: a vector of maps, one per row, with the names as
    /// columns (`eve_answer_column_name`).
    EVE_SHAPE_MAPS = 4,
    /// A pull: one map.
    EVE_SHAPE_PULL = 5,
}

/// One node of an answer. Collections (`EVE_VALUE_VECTOR`, `EVE_VALUE_SET`,
/// `EVE_VALUE_MAP`) list their children as `count` consecutive nodes from index `first`
/// (a map's children alternate key, value, so it has `2 * count` of them). Text and bytes
/// belong to the answer and stay valid until `eve_answer_free`; text is followed by a NUL
/// byte that `bytes.len` does not count.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct eve_node {
    /// An `eve_value_type`.
    pub value_type: u32,
    /// Collections: how many items (vector, set) or entries (map).
    pub count: u32,
    /// Collections: the index of the first child node.
    pub first: u64,
    /// Boolean (0 or 1), long, instant (milliseconds since 1970) and ref (entity id).
    pub int_value: i64,
    pub double_value: f64,
    /// Strings, keywords (without the colon), symbols, uuids (16 bytes) and bytes.
    pub bytes: eve_bytes,
}

const NIL_NODE: eve_node = eve_node {
    value_type: eve_value_type::EVE_VALUE_NIL as u32,
    count: 0,
    first: 0,
    int_value: 0,
    double_value: 0.0,
    bytes: eve_bytes::ABSENT,
};

/// A built answer. `nodes` point into `texts`, whose boxes never move or change.
pub(crate) struct Answer {
    shape: eve_shape,
    nodes: Vec<eve_node>,
    texts: Vec<Box<[u8]>>,
    /// For `EVE_SHAPE_MAPS`: the column names, NUL-terminated.
    columns: Vec<CString>,
    /// The number of columns of a query's answer, even when it has no rows.
    width: u64,
    /// The answer as EDN, written when first asked for.
    edn: OnceLock<CString>,
    data: Data,
}

// SAFETY: the raw pointers in `nodes` point into `texts`, which the answer owns and never
// changes after it is built, so sharing or sending the answer shares read-only memory.
unsafe impl Send for Answer {}
// SAFETY: as above: nothing in an answer is mutated after construction.
unsafe impl Sync for Answer {}

impl Answer {
    fn new(
        shape: eve_shape,
        data: Data,
        columns: Vec<String>,
        width: u64,
    ) -> Result<Answer, Failure> {
        let mut answer = Answer {
            shape,
            nodes: vec![NIL_NODE],
            texts: Vec::new(),
            columns: columns
                .into_iter()
                .map(|c| CString::new(c).unwrap_or_default())
                .collect(),
            width,
            edn: OnceLock::new(),
            data: Data::nil(),
        };
        answer.place(&data, 0)?;
        answer.data = data;
        Ok(answer)
    }

    /// The answer to a query whose find spec has `width` elements.
    fn from_query(result: QueryResult, width: u64) -> Result<Answer, Failure> {
        let (shape, columns) = match &result {
            QueryResult::Relation(_) => (eve_shape::EVE_SHAPE_RELATION, Vec::new()),
            QueryResult::Scalar(_) => (eve_shape::EVE_SHAPE_SCALAR, Vec::new()),
            QueryResult::Collection(_) => (eve_shape::EVE_SHAPE_COLLECTION, Vec::new()),
            QueryResult::Tuple(_) => (eve_shape::EVE_SHAPE_TUPLE, Vec::new()),
            QueryResult::Maps(..) => (
                eve_shape::EVE_SHAPE_MAPS,
                result.column_names().unwrap_or_default(),
            ),
        };
        Answer::new(shape, result.into_data(), columns, width)
    }

    fn edn(&self) -> &CString {
        self.edn.get_or_init(|| {
            CString::new(self.data.to_edn().replace('\0', "\\u0000")).unwrap_or_default()
        })
    }

    /// Writes `data` into node `slot`, appending its children (and theirs) after it.
    fn place(&mut self, data: &Data, slot: usize) -> Result<(), Failure> {
        let mut node = NIL_NODE;
        if let Data::Value(tuple @ Value::Tuple(_)) = data {
            // A tuple a query made is a vector to C.
            return self.place(&Data::from(tuple.clone()), slot);
        }
        let first = self.nodes.len();
        match data {
            Data::Value(value) => {
                self.value(value, &mut node);
                self.nodes[slot] = node;
            }
            Data::Vector(items) | Data::Set(items) => {
                node.value_type = if matches!(data, Data::Vector(_)) {
                    eve_value_type::EVE_VALUE_VECTOR
                } else {
                    eve_value_type::EVE_VALUE_SET
                } as u32;
                node.count = count(items.len())?;
                node.first = first as u64;
                self.nodes[slot] = node;
                self.nodes.resize(first + items.len(), NIL_NODE);
                for (i, item) in items.iter().enumerate() {
                    self.place(item, first + i)?;
                }
            }
            Data::Map(entries) => {
                node.value_type = eve_value_type::EVE_VALUE_MAP as u32;
                node.count = count(entries.len())?;
                node.first = first as u64;
                self.nodes[slot] = node;
                self.nodes.resize(first + 2 * entries.len(), NIL_NODE);
                for (i, (key, value)) in entries.iter().enumerate() {
                    self.place(key, first + 2 * i)?;
                    self.place(value, first + 2 * i + 1)?;
                }
            }
        }
        Ok(())
    }

    fn value(&mut self, value: &Value, node: &mut eve_node) {
        let mut text = |bytes: &[u8]| {
            let mut owned = Vec::with_capacity(bytes.len() + 1);
            owned.extend_from_slice(bytes);
            owned.push(0);
            let owned = owned.into_boxed_slice();
            let view = eve_bytes::of(&owned[..bytes.len()]);
            self.texts.push(owned);
            view
        };
        let (kind, int_value, double_value, bytes) = match value {
            Value::Nil => (eve_value_type::EVE_VALUE_NIL, 0, 0.0, eve_bytes::ABSENT),
            Value::Boolean(b) => (
                eve_value_type::EVE_VALUE_BOOLEAN,
                *b as i64,
                0.0,
                eve_bytes::ABSENT,
            ),
            Value::Long(l) => (eve_value_type::EVE_VALUE_LONG, *l, 0.0, eve_bytes::ABSENT),
            Value::Double(d) => (eve_value_type::EVE_VALUE_DOUBLE, 0, *d, eve_bytes::ABSENT),
            Value::String(s) => (eve_value_type::EVE_VALUE_STRING, 0, 0.0, text(s.as_bytes())),
            Value::Keyword(s) => (
                eve_value_type::EVE_VALUE_KEYWORD,
                0,
                0.0,
                text(s.as_bytes()),
            ),
            Value::Symbol(s) => (eve_value_type::EVE_VALUE_SYMBOL, 0, 0.0, text(s.as_bytes())),
            Value::Uuid(u) => (eve_value_type::EVE_VALUE_UUID, 0, 0.0, text(u)),
            Value::Instant(ms) => (
                eve_value_type::EVE_VALUE_INSTANT,
                *ms,
                0.0,
                eve_bytes::ABSENT,
            ),
            Value::Bytes(b) => (eve_value_type::EVE_VALUE_BYTES, 0, 0.0, text(b)),
            Value::Tuple(_) => unreachable!("tuples are placed as vectors"),
            Value::Ref(e) => (
                eve_value_type::EVE_VALUE_REF,
                *e as i64,
                0.0,
                eve_bytes::ABSENT,
            ),
        };
        node.value_type = kind as u32;
        node.int_value = int_value;
        node.double_value = double_value;
        node.bytes = bytes;
    }

    fn node(&self, index: u64) -> Result<&eve_node, Failure> {
        self.nodes.get(index as usize).ok_or_else(|| {
            Failure::new(
                EveStatus::EVE_ERR_NOT_FOUND,
                format!(
                    "the answer has {} nodes, not {}",
                    self.nodes.len(),
                    index + 1
                ),
            )
        })
    }

    /// The rows and columns of the answer seen as a result set.
    fn dimensions(&self) -> (u64, u64) {
        let root = &self.nodes[0];
        let nil = root.value_type == eve_value_type::EVE_VALUE_NIL as u32;
        match self.shape {
            eve_shape::EVE_SHAPE_RELATION => (root.count as u64, self.width),
            eve_shape::EVE_SHAPE_SCALAR => (!nil as u64, 1),
            eve_shape::EVE_SHAPE_COLLECTION => (root.count as u64, 1),
            eve_shape::EVE_SHAPE_TUPLE => (!nil as u64, self.width),
            eve_shape::EVE_SHAPE_MAPS => (root.count as u64, self.columns.len() as u64),
            eve_shape::EVE_SHAPE_PULL => (1, 1),
        }
    }

    /// The node index of a cell of the result set.
    fn cell(&self, row: u64, column: u64) -> Result<u64, Failure> {
        let (rows, columns) = self.dimensions();
        if row >= rows || column >= columns {
            return Err(Failure::new(
                EveStatus::EVE_ERR_NOT_FOUND,
                format!("the answer has {rows} rows of {columns} columns; there is no cell ({row}, {column})"),
            ));
        }
        let root = &self.nodes[0];
        Ok(match self.shape {
            eve_shape::EVE_SHAPE_RELATION => self.nodes[(root.first + row) as usize].first + column,
            eve_shape::EVE_SHAPE_COLLECTION => root.first + row,
            eve_shape::EVE_SHAPE_TUPLE => root.first + column,
            // Map entries hold the columns in order: key, value, key, value...
            eve_shape::EVE_SHAPE_MAPS => {
                self.nodes[(root.first + row) as usize].first + 2 * column + 1
            }
            eve_shape::EVE_SHAPE_SCALAR | eve_shape::EVE_SHAPE_PULL => 0,
        })
    }
}

fn count(n: usize) -> Result<u32, Failure> {
    u32::try_from(n).map_err(|_| {
        Failure::new(
            EveStatus::EVE_ERR_EXHAUSTED,
            "an answer collection holds more than 2^32 - 1 items",
        )
    })
}

fn wrong_type(node: &eve_node, wanted: &str) -> Failure {
    Failure::new(
        EveStatus::EVE_ERR_WRONG_KIND,
        format!("the node is {}, not {wanted}", type_name(node.value_type)),
    )
}

fn type_name(value_type: u32) -> &'static str {
    const NAMES: [&str; 14] = [
        "nil",
        "a boolean",
        "a long",
        "a double",
        "a string",
        "a keyword",
        "a symbol",
        "a uuid",
        "an instant",
        "bytes",
        "a ref",
        "a vector",
        "a set",
        "a map",
    ];
    NAMES.get(value_type as usize).copied().unwrap_or("unknown")
}

/// Runs the query `query_edn` like `eve_db_query` and stores its answer in `*answer`,
/// to walk with `eve_answer_rows`/`eve_answer_cell` and the typed getters, or in place
/// with `eve_answer_nodes`. The answer owns its data: it stays valid after the read ends,
/// may be used from any thread, and is released with `eve_answer_free`. A `$name` input
/// may be `#eve/db n`, the database at root index `n`, read in the same version.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_db_query_answer(
    read: *mut eve_read,
    db: u32,
    view: u32,
    t: u64,
    query_edn: *const c_char,
    inputs_edn: *const c_char,
    answer: *mut *mut eve_answer,
) -> EveStatus {
    run(|| {
        let out = Out::new(answer, "answer")?;
        let view = view_of(view, t)?;
        // SAFETY: the header documents both as NUL-terminated strings (inputs may be NULL).
        let query = unsafe { args::text(query_edn, "query_edn") }?;
        let inputs = if inputs_edn.is_null() {
            None
        } else {
            // SAFETY: as above.
            Some(unsafe { args::text(inputs_edn, "inputs_edn") }?)
        };
        let width = crate::query::parse(query)?.find.elements().len() as u64;
        let built = handles::with_read(read, |read| {
            Answer::from_query(run_query(read, db, view, query, inputs)?, width)
        })?;
        out.write(register_answer(built)?);
        Ok(())
    })
}

/// Pulls like `eve_db_pull` and stores the map in `*answer` (shape `EVE_SHAPE_PULL`).
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_db_pull_answer(
    read: *mut eve_read,
    db: u32,
    pattern_edn: *const c_char,
    entity_edn: *const c_char,
    answer: *mut *mut eve_answer,
) -> EveStatus {
    run(|| {
        let out = Out::new(answer, "answer")?;
        // SAFETY: the header documents both as NUL-terminated strings.
        let pattern = unsafe { args::text(pattern_edn, "pattern_edn") }?;
        // SAFETY: as above.
        let entity = unsafe { args::text(entity_edn, "entity_edn") }?;
        let built = handles::with_read(read, |read| {
            let pulled = crate::query::pull_edn(&snapshot(read, db)?, pattern, entity)?;
            Answer::new(eve_shape::EVE_SHAPE_PULL, pulled, Vec::new(), 1)
        })?;
        out.write(register_answer(built)?);
        Ok(())
    })
}

/// Releases `answer`; its nodes, text and EDN are invalid afterwards.
#[no_mangle]
pub extern "C" fn eve_answer_free(answer: *mut eve_answer) -> EveStatus {
    run(|| handles::free_answer(answer))
}

/// Stores the shape of `answer` (an `eve_shape`) in `*shape`.
///
/// # Safety
/// `shape` must be NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn eve_answer_shape(answer: *const eve_answer, shape: *mut u32) -> EveStatus {
    run(|| {
        let out = Out::new(shape, "shape")?;
        out.write(handles::answer(answer)?.shape as u32);
        Ok(())
    })
}

/// Stores the answer's node array in `*nodes` and its length in `*count`; node 0 is the
/// root. The array is valid until `eve_answer_free`.
///
/// # Safety
/// `nodes` and `count` must be NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn eve_answer_nodes(
    answer: *const eve_answer,
    nodes: *mut *const eve_node,
    count: *mut u64,
) -> EveStatus {
    run(|| {
        let (nodes, count) = (Out::new(nodes, "nodes")?, Out::new(count, "count")?);
        let answer = handles::answer(answer)?;
        nodes.write(answer.nodes.as_ptr());
        count.write(answer.nodes.len() as u64);
        Ok(())
    })
}

/// Copies node `index` of `answer` into `*node`.
///
/// # Safety
/// `node` must be NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn eve_answer_node(
    answer: *const eve_answer,
    index: u64,
    node: *mut eve_node,
) -> EveStatus {
    run(|| {
        let out = Out::new(node, "node")?;
        out.write(*handles::answer(answer)?.node(index)?);
        Ok(())
    })
}

/// Stores the index of child `i` of collection node `index` in `*child` (for a map,
/// child `2k` is the key and `2k + 1` the value of entry `k`).
///
/// # Safety
/// `child` must be NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn eve_answer_child(
    answer: *const eve_answer,
    index: u64,
    i: u64,
    child: *mut u64,
) -> EveStatus {
    run(|| {
        let out = Out::new(child, "child")?;
        let answer = handles::answer(answer)?;
        let node = answer.node(index)?;
        let children = match node.value_type {
            t if t == eve_value_type::EVE_VALUE_MAP as u32 => 2 * node.count as u64,
            t if t == eve_value_type::EVE_VALUE_VECTOR as u32
                || t == eve_value_type::EVE_VALUE_SET as u32 =>
            {
                node.count as u64
            }
            _ => return Err(wrong_type(node, "a collection")),
        };
        if i >= children {
            return Err(Failure::new(
                EveStatus::EVE_ERR_NOT_FOUND,
                format!("child {i} is past the end of the node's {children} children"),
            ));
        }
        out.write(node.first + i);
        Ok(())
    })
}

/// Stores the number of rows and columns of `answer` seen as a result set: a relation's
/// tuples and find elements; a collection's items (one column); one row or none for a
/// scalar or tuple; one map per row for return maps, a column per name; one cell for a
/// pull.
///
/// # Safety
/// `rows` and `columns` must be NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn eve_answer_rows(
    answer: *const eve_answer,
    rows: *mut u64,
    columns: *mut u64,
) -> EveStatus {
    run(|| {
        let (rows_out, columns_out) = (Out::new(rows, "rows")?, Out::new(columns, "columns")?);
        let (r, c) = handles::answer(answer)?.dimensions();
        rows_out.write(r);
        columns_out.write(c);
        Ok(())
    })
}

/// Stores the node index of the cell at `row`, `column` in `*node` (for return maps, the
/// value of that column; for a pull, the root).
///
/// # Safety
/// `node` must be NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn eve_answer_cell(
    answer: *const eve_answer,
    row: u64,
    column: u64,
    node: *mut u64,
) -> EveStatus {
    run(|| {
        let out = Out::new(node, "node")?;
        out.write(handles::answer(answer)?.cell(row, column)?);
        Ok(())
    })
}

/// Stores the name of `column` of a return-maps answer (`EVE_SHAPE_MAPS`) in `*name`,
/// valid until `eve_answer_free`.
///
/// # Safety
/// `name` must be NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn eve_answer_column_name(
    answer: *const eve_answer,
    column: u64,
    name: *mut *const c_char,
) -> EveStatus {
    run(|| {
        let out = Out::new(name, "name")?;
        let answer = handles::answer(answer)?;
        let found = answer.columns.get(column as usize).ok_or_else(|| {
            Failure::new(
                EveStatus::EVE_ERR_NOT_FOUND,
                format!("the answer has {} named columns", answer.columns.len()),
            )
        })?;
        out.write(found.as_ptr());
        Ok(())
    })
}

/// Stores the value of node `index` in `*value`: longs, refs (entity ids), instants
/// (milliseconds since 1970) and booleans (0 or 1). Other types fail with
/// `EVE_ERR_WRONG_KIND`.
///
/// # Safety
/// `value` must be NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn eve_answer_long(
    answer: *const eve_answer,
    index: u64,
    value: *mut i64,
) -> EveStatus {
    run(|| {
        let out = Out::new(value, "value")?;
        let answer = handles::answer(answer)?;
        let node = answer.node(index)?;
        let integral = [
            eve_value_type::EVE_VALUE_LONG,
            eve_value_type::EVE_VALUE_REF,
            eve_value_type::EVE_VALUE_INSTANT,
            eve_value_type::EVE_VALUE_BOOLEAN,
        ];
        if !integral.iter().any(|&t| t as u32 == node.value_type) {
            return Err(wrong_type(node, "a long, ref, instant or boolean"));
        }
        out.write(node.int_value);
        Ok(())
    })
}

/// Stores the number at node `index` in `*value`: a double, or a long converted.
///
/// # Safety
/// `value` must be NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn eve_answer_double(
    answer: *const eve_answer,
    index: u64,
    value: *mut f64,
) -> EveStatus {
    run(|| {
        let out = Out::new(value, "value")?;
        let answer = handles::answer(answer)?;
        let node = answer.node(index)?;
        match node.value_type {
            t if t == eve_value_type::EVE_VALUE_DOUBLE as u32 => out.write(node.double_value),
            t if t == eve_value_type::EVE_VALUE_LONG as u32 => out.write(node.int_value as f64),
            _ => return Err(wrong_type(node, "a number")),
        }
        Ok(())
    })
}

/// Stores the text of node `index` (a string, keyword without its colon, or symbol),
/// NUL-terminated, in `*text` and its length in bytes in `*len` (`len` may be NULL).
/// Valid until `eve_answer_free`.
///
/// # Safety
/// `text` must be NULL or valid for a write; `len` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn eve_answer_text(
    answer: *const eve_answer,
    index: u64,
    text: *mut *const c_char,
    len: *mut usize,
) -> EveStatus {
    run(|| {
        let out = Out::new(text, "text")?;
        let len = Out::optional(len, "len")?;
        let answer = handles::answer(answer)?;
        let node = answer.node(index)?;
        let textual = [
            eve_value_type::EVE_VALUE_STRING,
            eve_value_type::EVE_VALUE_KEYWORD,
            eve_value_type::EVE_VALUE_SYMBOL,
        ];
        if !textual.iter().any(|&t| t as u32 == node.value_type) {
            return Err(wrong_type(node, "a string, keyword or symbol"));
        }
        out.write(node.bytes.data.cast());
        if let Some(len) = len {
            len.write(node.bytes.len);
        }
        Ok(())
    })
}

/// Stores the whole answer as EDN text in `*edn`, valid until `eve_answer_free`.
///
/// # Safety
/// `edn` must be NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn eve_answer_edn(
    answer: *const eve_answer,
    edn: *mut *const c_char,
) -> EveStatus {
    run(|| {
        let out = Out::new(edn, "edn")?;
        out.write(handles::answer(answer)?.edn().as_ptr());
        Ok(())
    })
}

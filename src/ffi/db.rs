//! DaoDB through the C ABI: opening a database, transacting EDN, reading datoms from an
//! index or the transaction log through a cursor, and waiting for the next transaction.

use super::args::{self, eve_bytes, Out, OutArray};
use super::error::{run, Failure};
use super::handles::{self, eve_cursor, eve_read, eve_slab, DatomSource, OpenCursor, Pinned};
use super::text::{hand_out, Slot};
use super::EveStatus;
use crate::dao::{Database, Datom, DbSnapshot, Index, Value, View};
use std::ffi::c_char;
use std::time::Duration;

/// The four covering indexes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum eve_index {
    EVE_INDEX_EAVT = 0,
    EVE_INDEX_AEVT = 1,
    EVE_INDEX_AVET = 2,
    /// Reference datoms only.
    EVE_INDEX_VAET = 3,
}

/// Which datoms a cursor shows.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum eve_view {
    /// The datoms true now.
    EVE_VIEW_CURRENT = 0,
    /// The datoms true as of transaction `t`.
    EVE_VIEW_AS_OF = 1,
    /// The datoms true now that were asserted after transaction `t`.
    EVE_VIEW_SINCE = 2,
    /// Every assertion and retraction ever written.
    EVE_VIEW_HISTORY = 3,
}

/// The type of a datom's value (`eve_datom.value_type`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum eve_value_type {
    EVE_VALUE_NIL = 0,
    /// In `int_value`: 0 or 1.
    EVE_VALUE_BOOLEAN = 1,
    /// In `int_value`.
    EVE_VALUE_LONG = 2,
    /// In `double_value`.
    EVE_VALUE_DOUBLE = 3,
    /// UTF-8 in `bytes`.
    EVE_VALUE_STRING = 4,
    /// UTF-8 in `bytes`, without the leading colon.
    EVE_VALUE_KEYWORD = 5,
    /// UTF-8 in `bytes`.
    EVE_VALUE_SYMBOL = 6,
    /// 16 bytes in `bytes`.
    EVE_VALUE_UUID = 7,
    /// Milliseconds since 1970 in `int_value`.
    EVE_VALUE_INSTANT = 8,
    /// In `bytes`.
    EVE_VALUE_BYTES = 9,
    /// An entity id in `int_value`.
    EVE_VALUE_REF = 10,
    /// Answers only (`eve_node`): `count` items from node `first`.
    EVE_VALUE_VECTOR = 11,
    /// Answers only: `count` distinct items from node `first`, sorted.
    EVE_VALUE_SET = 12,
    /// Answers only: `count` entries from node `first`, each a key node then a value node.
    EVE_VALUE_MAP = 13,
}

/// One datom `[e a v t m]` as a cursor hands it out. `m` is 0 for a retraction, 1 for an
/// assertion, or the id of the transaction's metadata entity.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct eve_datom {
    pub e: u64,
    pub a: u64,
    pub t: u64,
    pub m: u64,
    /// An `eve_value_type`.
    pub value_type: u32,
    pub int_value: i64,
    pub double_value: f64,
    /// For strings, keywords, symbols, bytes and uuids: the bytes. They point into the slab
    /// itself unless the value contains a NUL byte (then into a copy held by the cursor),
    /// and are valid until the next `eve_cursor_next` or `eve_cursor_close` on the cursor.
    pub bytes: eve_bytes,
}

/// Bits of `eve_db_transact`'s `flags`.
#[repr(u32)]
#[allow(non_camel_case_types)]
pub enum eve_tx_flag {
    /// Return only once the transaction is on disk: its data is synced before the root
    /// that publishes it, then the root (writers committing at once share that sync).
    /// Without it a transaction survives any process crash but not a power loss.
    EVE_TX_SYNCED = 1,
}

/// What `eve_db_transact` did.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct eve_tx_report {
    /// The transaction's `t`.
    pub t: u64,
    /// Datoms written (assertions and retractions).
    pub datoms: u64,
    /// Times the transaction was applied again because another writer published first.
    pub retries: u64,
    /// The tempid resolutions as an EDN map (`{"ada" 1048576, "-1" 1048577}`), valid until
    /// the next eve call on this thread.
    pub tempids: *const c_char,
}

/// Computes a text answer on the version of `db` that `read` sees and hands it to C
/// through `out` (valid until the next eve call on this thread).
fn answer_as_text(
    read: *mut eve_read,
    db: u32,
    out: &Out<*const c_char>,
    answer: impl FnOnce(&DbSnapshot<'_>) -> crate::Result<String>,
) -> Result<(), Failure> {
    let text = handles::with_read(read, |read| Ok(answer(&snapshot(read, db)?)?))?;
    out.write(hand_out(Slot::First, &text));
    Ok(())
}

/// Finds the database called `name`, creating it empty if missing and the handle is
/// writable, and stores its root index in `*db`.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_db_open(
    slab: *mut eve_slab,
    name: *const c_char,
    db: *mut u32,
) -> EveStatus {
    run(|| {
        let out = Out::new(db, "db")?;
        // SAFETY: the header documents `name` as a NUL-terminated string.
        let name = unsafe { args::text(name, "name") }?;
        let slab = handles::slab(slab)?;
        out.write(slab.database(name)?.root_index() as u32);
        Ok(())
    })
}

/// Runs a transaction on the database at root index `db`: `tx_edn` is EDN transaction
/// data (a vector of entity maps and `[:db/add e a v]`, `[:db/retract e a v]`,
/// `[:db/retract e a]`, `[:db/retractEntity e]` statements, with tempids, idents and lookup
/// refs), `metadata_edn` an optional EDN map (NULL for none) that becomes the transaction's
/// metadata entity. `flags` is 0 or `EVE_TX_SYNCED`. Lock-free: on conflict with another
/// writer it is re-run on the new version. Invalid data fails with `EVE_ERR_INVALID_ARGUMENT` (the message says what and,
/// for malformed EDN, where) and changes nothing. `out` may be NULL.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_db_transact(
    slab: *mut eve_slab,
    db: u32,
    tx_edn: *const c_char,
    metadata_edn: *const c_char,
    flags: u32,
    out: *mut eve_tx_report,
) -> EveStatus {
    run(|| {
        let out = Out::optional(out, "out")?;
        let durability = match flags {
            0 => crate::dao::Durability::None,
            f if f == eve_tx_flag::EVE_TX_SYNCED as u32 => crate::dao::Durability::Synced,
            other => {
                return Err(Failure::invalid(format!(
                    "flags has unknown bits {other:#x}"
                )))
            }
        };
        // SAFETY: the header documents both as NUL-terminated strings (metadata may be NULL).
        let tx = unsafe { args::text(tx_edn, "tx_edn") }?;
        let metadata = if metadata_edn.is_null() {
            None
        } else {
            // SAFETY: as above.
            Some(unsafe { args::text(metadata_edn, "metadata_edn") }?)
        };
        let slab = handles::slab(slab)?;
        let result = Database::at(&slab, db.into())?
            .with_durability(durability)
            .transact_edn(tx, metadata)?;
        if let Some(out) = out {
            let tempids = result
                .tempids
                .iter()
                .map(|(k, v)| format!("{k:?} {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            let pointer = hand_out(Slot::First, &format!("{{{tempids}}}"));
            out.write(eve_tx_report {
                t: result.report.t,
                datoms: result.report.datoms.len() as u64,
                retries: result.report.retries,
                tempids: pointer,
            });
        }
        Ok(())
    })
}

/// Blocks until a transaction after `t` is published in the database at root index `db`
/// (by any process) or `timeout_ms` passes (negative: no limit); stores the basis `t` seen
/// last in `*basis_t` (at most `t` only on timeout). `eve_db_wait(slab, db, 0, 0, &t)`
/// reads the basis `t` without waiting.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_db_wait(
    slab: *mut eve_slab,
    db: u32,
    t: u64,
    timeout_ms: i64,
    basis_t: *mut u64,
) -> EveStatus {
    run(|| {
        let out = Out::new(basis_t, "basis_t")?;
        let slab = handles::slab(slab)?;
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        out.write(Database::at(&slab, db.into())?.wait_after(t, timeout)?);
        Ok(())
    })
}

/// The version of the database at root index `db` that `read` sees (fixed at its first
/// use in the read, like a map's).
pub(super) fn snapshot<'r>(
    read: &'r mut handles::OpenRead,
    db: u32,
) -> crate::Result<DbSnapshot<'r>> {
    let block = database_version(read, db)?;
    DbSnapshot::at(read.pinned.guard().region(), block)
}

/// The databases a query's inputs name as `#eve/db n`, each at the version `read` sees.
pub(super) struct OtherDatabases {
    blocks: Vec<(u64, u64)>,
}

impl OtherDatabases {
    /// The version of the database at root index `root`, if the inputs named it.
    pub(super) fn snapshot<'r>(
        &self,
        read: &'r handles::OpenRead,
        root: u64,
    ) -> crate::Result<DbSnapshot<'r>> {
        let (_, block) = self
            .blocks
            .iter()
            .find(|(r, _)| *r == root)
            .ok_or_else(|| {
                crate::Error::new(
                    crate::ErrorKind::InvalidArgument,
                    format!("#eve/db {root} is not among the query inputs"),
                )
            })?;
        DbSnapshot::at(read.pinned.guard().region(), *block)
    }
}

/// Runs a query (EDN text, inputs as an EDN vector) against the database at root index
/// `db` in the version `read` sees.
pub(super) fn run_query(
    read: &mut handles::OpenRead,
    db: u32,
    view: View,
    query: &str,
    inputs: Option<&str>,
) -> crate::Result<crate::query::QueryResult> {
    let others = open_databases(read, inputs)?;
    let block = database_version(read, db)?;
    let read: &handles::OpenRead = read;
    let main = DbSnapshot::at(read.pinned.guard().region(), block)?;
    crate::query::q_edn_with(&main, view, query, inputs, &|root| {
        others.snapshot(read, root)
    })
}

/// Finds the `#eve/db n` items of a query's inputs (`[...]`, EDN) and pins the version of
/// each database that `read` sees.
pub(super) fn open_databases(
    read: &mut handles::OpenRead,
    inputs: Option<&str>,
) -> crate::Result<OtherDatabases> {
    use clojure_reader::edn::Edn;
    let mut blocks = Vec::new();
    if let Some(text) = inputs {
        if let Edn::Vector(items) | Edn::List(items) = &crate::dao::read_edn(text, "query inputs")?
        {
            for item in items {
                if let Edn::Tagged(tag, root) = item {
                    if let ("eve/db", Edn::Int(root)) = (&**tag, &**root) {
                        let root = u32::try_from(*root).map_err(|_| {
                            crate::Error::new(
                                crate::ErrorKind::InvalidArgument,
                                format!("#eve/db {root} is not a root index"),
                            )
                        })?;
                        blocks.push((root as u64, database_version(read, root)?));
                    }
                }
            }
        }
    }
    Ok(OtherDatabases { blocks })
}

/// The database block of `db` that `read` sees.
fn database_version(read: &mut handles::OpenRead, db: u32) -> crate::Result<u64> {
    read.version(db.into(), |slab| Ok(Database::at(slab, db.into())?.root()))
}

/// Stores the entity named by `ident` (a keyword, with or without the colon) in the
/// version `read` sees in `*entity`, or fails with `EVE_ERR_NOT_FOUND`. Attribute ids in
/// datoms are such entities.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_db_ident(
    read: *mut eve_read,
    db: u32,
    ident: *const c_char,
    entity: *mut u64,
) -> EveStatus {
    run(|| {
        let out = Out::new(entity, "entity")?;
        // SAFETY: the header documents `ident` as a NUL-terminated string.
        let ident = unsafe { args::text(ident, "ident") }?;
        handles::with_read(read, |read| {
            let found = snapshot(read, db)?.ident(ident)?;
            let e = found.ok_or_else(|| {
                Failure::new(
                    EveStatus::EVE_ERR_NOT_FOUND,
                    format!("no entity has the ident {ident}"),
                )
            })?;
            out.write(e);
            Ok(())
        })
    })
}

/// Stores in `*edn` the entity named by `entity_edn` (an id such as `"1048576"`, an ident
/// such as `":color/red"`, or a lookup ref such as `"[:person/email \"a@x\"]"`) as an EDN
/// map of its attributes in the version `read` sees: `{:db/id 1048576, :person/name
/// "Ada", :person/friend #{1048577}}`. The text stays valid until the next eve call on this
/// thread. Fails with `EVE_ERR_INVALID_ARGUMENT` if the reference names no entity.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_db_entity(
    read: *mut eve_read,
    db: u32,
    entity_edn: *const c_char,
    edn: *mut *const c_char,
) -> EveStatus {
    run(|| {
        let out = Out::new(edn, "edn")?;
        // SAFETY: the header documents `entity_edn` as a NUL-terminated string.
        let reference = unsafe { args::text(entity_edn, "entity_edn") }?;
        answer_as_text(read, db, &out, |snapshot| {
            snapshot.entity_edn(snapshot.resolve_entity(reference)?)
        })
    })
}

/// Opens a cursor over the datoms of `index` in the database at root index `db`, in the
/// version `read` sees, filtered by `view` (`t` is the transaction for
/// `EVE_VIEW_AS_OF` and `EVE_VIEW_SINCE`, ignored otherwise) and limited to the keys that
/// start with `components_edn`: an EDN vector of leading components in the index's order
/// (`[20 :person/name]` in EAVT, `[:person/email "a@x"]` in AVET), or NULL for all. The
/// cursor holds its own pin, belongs to the calling thread, and stays valid after the read
/// ends; close it with `eve_cursor_close`. `index` and `view` are `eve_index` and
/// `eve_view` values.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_db_datoms(
    read: *mut eve_read,
    db: u32,
    index: u32,
    view: u32,
    t: u64,
    components_edn: *const c_char,
    out: *mut *mut eve_cursor,
) -> EveStatus {
    // SAFETY: forwarded contract: `components_edn` is NULL or NUL-terminated.
    run(|| unsafe {
        open_datoms(
            read,
            db,
            index,
            view,
            t,
            components_edn,
            std::ptr::null(),
            out,
        )
    })
}

/// Opens a cursor like `eve_db_datoms`, over a range of keys instead of a prefix: from the
/// leading components `start_edn` (inclusive; NULL: from the first key) up to the leading
/// components `end_edn` (exclusive; NULL: every key that starts with `start_edn`), both EDN
/// vectors in the index's order. For example, in AVET, `[:person/age 30]` to
/// `[:person/age 40]` gives the people aged 30 to 39. Bounds are meant to be `e`, `a` and
/// `v` components, so that the datoms of one `[e a v]` are never split between ranges.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn eve_db_range(
    read: *mut eve_read,
    db: u32,
    index: u32,
    view: u32,
    t: u64,
    start_edn: *const c_char,
    end_edn: *const c_char,
    out: *mut *mut eve_cursor,
) -> EveStatus {
    // SAFETY: forwarded contract: both strings are NULL or NUL-terminated.
    run(|| unsafe { open_datoms(read, db, index, view, t, start_edn, end_edn, out) })
}

/// Runs the Datalog query `query_edn` (`[:find ... :in $ ... :where ...]` or the map form)
/// on the database at root index `db`, in the version `read` sees, in this process, on the
/// shared indexes, against `view` (an `eve_view`: the current database, as of or since
/// transaction `t`, or the history, where every assertion and retraction matches). `inputs_edn` is an EDN vector with one item per `:in` binding after `$`
/// (a value for `?x`, a vector of values for `[?x ...]`), or NULL. Stores the answer as EDN
/// text in `*result_edn`: `#{[...] ...}` for a relation, a value or `nil` for `?x .`,
/// `[...]` for `[?x ...]` and for a tuple. The text stays valid until the next eve call on
/// this thread. A malformed query, an unknown attribute or an unbound variable fails with
/// `EVE_ERR_INVALID_ARGUMENT` and a message naming the clause.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn eve_db_query(
    read: *mut eve_read,
    db: u32,
    view: u32,
    t: u64,
    query_edn: *const c_char,
    inputs_edn: *const c_char,
    result_edn: *mut *const c_char,
) -> EveStatus {
    run(|| {
        let out = Out::new(result_edn, "result_edn")?;
        let view = view_of(view, t)?;
        // SAFETY: the header documents both as NUL-terminated strings (inputs may be NULL).
        let query = unsafe { args::text(query_edn, "query_edn") }?;
        let inputs = if inputs_edn.is_null() {
            None
        } else {
            // SAFETY: as above.
            Some(unsafe { args::text(inputs_edn, "inputs_edn") }?)
        };
        let text = handles::with_read(read, |read| {
            Ok(run_query(read, db, view, query, inputs)?.to_edn())
        })?;
        out.write(hand_out(Slot::First, &text));
        Ok(())
    })
}

/// Pulls the entity `entity_edn` (an id, ident or lookup ref) from the database at root
/// index `db`, in the version `read` sees, shaped by the pull pattern `pattern_edn`
/// (attributes, `*`, nested maps for references, reverse `:ns/_name`, and
/// `[:attr :limit n :default v :as name]`), and stores the result as an EDN map in
/// `*result_edn`, valid until the next eve call on this thread.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_db_pull(
    read: *mut eve_read,
    db: u32,
    pattern_edn: *const c_char,
    entity_edn: *const c_char,
    result_edn: *mut *const c_char,
) -> EveStatus {
    run(|| {
        let out = Out::new(result_edn, "result_edn")?;
        // SAFETY: the header documents both as NUL-terminated strings.
        let pattern = unsafe { args::text(pattern_edn, "pattern_edn") }?;
        // SAFETY: as above.
        let entity = unsafe { args::text(entity_edn, "entity_edn") }?;
        answer_as_text(read, db, &out, |snapshot| {
            Ok(crate::query::pull_edn(snapshot, pattern, entity)?.to_edn())
        })
    })
}

/// The view an `eve_view` value names (`t` for as-of and since).
pub(super) fn view_of(view: u32, t: u64) -> Result<View, Failure> {
    Ok(match view {
        0 => View::Current,
        1 => View::AsOf(t),
        2 => View::Since(t),
        3 => View::History,
        other => return Err(Failure::invalid(format!("view {other} is not an eve_view"))),
    })
}

/// The body of `eve_db_datoms` and `eve_db_range`.
///
/// # Safety
/// `start_edn` and `end_edn` are NULL or NUL-terminated; `out` is NULL or writable.
#[allow(clippy::too_many_arguments)]
unsafe fn open_datoms(
    read: *mut eve_read,
    db: u32,
    index: u32,
    view: u32,
    t: u64,
    start_edn: *const c_char,
    end_edn: *const c_char,
    out: *mut *mut eve_cursor,
) -> Result<(), Failure> {
    let out = Out::new(out, "out")?;
    let index = match index {
        0 => Index::Eavt,
        1 => Index::Aevt,
        2 => Index::Avet,
        3 => Index::Vaet,
        other => {
            return Err(Failure::invalid(format!(
                "index {other} is not an eve_index"
            )))
        }
    };
    let view = view_of(view, t)?;
    let text = |edn: *const c_char, what: &str| -> Result<Option<&str>, Failure> {
        if edn.is_null() {
            Ok(None)
        } else {
            // SAFETY: the caller's contract: NUL-terminated.
            Ok(Some(unsafe { args::text(edn, what) }?))
        }
    };
    let (start, end) = (text(start_edn, "start_edn")?, text(end_edn, "end_edn")?);
    let open = handles::with_read(read, |read| {
        let (start, end) = {
            let snapshot = snapshot(read, db)?;
            let encode = |edn: Option<&str>| -> crate::Result<Option<Vec<u8>>> {
                edn.map(|text| snapshot.index_prefix(index, text))
                    .transpose()
            };
            (encode(start)?.unwrap_or_default(), encode(end)?)
        };
        let root = database_version(read, db)?;
        let pinned = Pinned::new(read.pinned.shared_slab())?;
        let datoms = DbSnapshot::at(pinned.guard().region(), root)?.range(
            index,
            view,
            &start,
            end.as_deref(),
        );
        // SAFETY: the cursor borrows the region inside the slab that `pinned` keeps alive
        // and pinned; `OpenCursor` drops the cursor before `pinned`.
        let datoms = unsafe {
            std::mem::transmute::<crate::dao::Datoms<'_>, crate::dao::Datoms<'static>>(datoms)
        };
        Ok(OpenCursor {
            source: DatomSource::Index(datoms),
            copies: Vec::new(),
            pinned,
        })
    })?;
    out.write(handles::register_cursor(open)?);
    Ok(())
}

/// Opens a cursor over the transaction log of the database at root index `db`, in the
/// version `read` sees, from transaction `from_t` on: every datom of every transaction, in
/// order of `t` and then of the transaction's own order. Otherwise like `eve_db_datoms`.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_db_log(
    read: *mut eve_read,
    db: u32,
    from_t: u64,
    out: *mut *mut eve_cursor,
) -> EveStatus {
    run(|| {
        let out = Out::new(out, "out")?;
        let open = handles::with_read(read, |read| {
            let root = database_version(read, db)?;
            let pinned = Pinned::new(read.pinned.shared_slab())?;
            let log = DbSnapshot::at(pinned.guard().region(), root)?.log_from(from_t);
            // SAFETY: as in `eve_db_datoms`.
            let log = unsafe {
                std::mem::transmute::<crate::dao::LogDatoms<'_>, crate::dao::LogDatoms<'static>>(
                    log,
                )
            };
            Ok(OpenCursor {
                source: DatomSource::Log(log),
                copies: Vec::new(),
                pinned,
            })
        })?;
        out.write(handles::register_cursor(open)?);
        Ok(())
    })
}

/// Fills `out` with a datom, pointing its bytes into the key in the slab when the value
/// needs no unescaping, and into a copy kept in `copies` otherwise.
fn describe(key: &[u8], index: Index, datom: Datom, copies: &mut Vec<Vec<u8>>) -> eve_datom {
    let mut out = eve_datom {
        e: datom.e,
        a: datom.a,
        t: datom.t,
        m: datom.m,
        value_type: 0,
        int_value: 0,
        double_value: 0.0,
        bytes: eve_bytes::ABSENT,
    };
    // The payload follows the tag byte of the value in the key.
    let payload = &key[Datom::value_offset(index) + 1..];
    let text = |bytes: &[u8], copies: &mut Vec<Vec<u8>>| {
        if payload.starts_with(bytes) && payload.get(bytes.len()) == Some(&0) {
            eve_bytes::of(&payload[..bytes.len()])
        } else {
            copies.push(bytes.to_vec());
            eve_bytes::of(copies.last().expect("just pushed"))
        }
    };
    let (value_type, bytes) = match &datom.v {
        Value::Nil => (eve_value_type::EVE_VALUE_NIL, None),
        Value::Boolean(b) => {
            out.int_value = *b as i64;
            (eve_value_type::EVE_VALUE_BOOLEAN, None)
        }
        Value::Long(l) => {
            out.int_value = *l;
            (eve_value_type::EVE_VALUE_LONG, None)
        }
        Value::Double(d) => {
            out.double_value = *d;
            (eve_value_type::EVE_VALUE_DOUBLE, None)
        }
        Value::String(s) => (
            eve_value_type::EVE_VALUE_STRING,
            Some(text(s.as_bytes(), copies)),
        ),
        Value::Keyword(s) => (
            eve_value_type::EVE_VALUE_KEYWORD,
            Some(text(s.as_bytes(), copies)),
        ),
        Value::Symbol(s) => (
            eve_value_type::EVE_VALUE_SYMBOL,
            Some(text(s.as_bytes(), copies)),
        ),
        Value::Bytes(b) => (eve_value_type::EVE_VALUE_BYTES, Some(text(b, copies))),
        Value::Uuid(_) => (
            eve_value_type::EVE_VALUE_UUID,
            Some(eve_bytes::of(&payload[..16])),
        ),
        Value::Instant(ms) => {
            out.int_value = *ms;
            (eve_value_type::EVE_VALUE_INSTANT, None)
        }
        Value::Ref(e) => {
            out.int_value = *e as i64;
            (eve_value_type::EVE_VALUE_REF, None)
        }
        // Never in a datom: decoding a stored key refuses tuples.
        Value::Tuple(_) => (eve_value_type::EVE_VALUE_NIL, None),
    };
    out.value_type = value_type as u32;
    if let Some(bytes) = bytes {
        out.bytes = bytes;
    }
    out
}

/// Stores up to `capacity` further datoms in `datoms[0..n]` and `n` in `*count`; `n` is 0
/// once the cursor is exhausted. Byte values stay valid until the next call on the cursor.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_cursor_next(
    cursor: *mut eve_cursor,
    datoms: *mut eve_datom,
    capacity: usize,
    count: *mut usize,
) -> EveStatus {
    run(|| {
        let out_count = Out::new(count, "count")?;
        if capacity == 0 {
            return Err(Failure::invalid("capacity must be at least 1"));
        }
        let out = OutArray::new(datoms, capacity, "datoms")?;
        handles::with_cursor(cursor, |open| {
            open.copies.clear();
            let mut n = 0;
            while n < out.capacity() {
                let (next, index) = match &mut open.source {
                    DatomSource::Index(d) => {
                        let index = d.index();
                        (d.next_with_key(), index)
                    }
                    DatomSource::Log(l) => (l.next_with_key(), Index::Eavt),
                };
                let Some(next) = next else { break };
                let (key, datom) = next?;
                out.write(n, describe(key, index, datom, &mut open.copies));
                n += 1;
            }
            out_count.write(n);
            Ok(())
        })
    })
}

/// Closes a datom cursor; the bytes it handed out become invalid.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_cursor_close(cursor: *mut eve_cursor) -> EveStatus {
    run(|| handles::end_cursor(cursor))
}

//! eve: persistent data structures in a shared, memory-mapped slab.
//!
//! Many processes open the same file (or inherit an anonymous slab over `fork`) and read
//! and update the same structures in place, with no serialization and no copying. Readers
//! pin an epoch and walk immutable blocks; writers path-copy and publish with one CAS.
//!
//! ```no_run
//! let slab = eve::Slab::open("/tmp/example.slab")?;
//! let users = slab.map("users")?;
//! users.insert(b"ada", b"Ada Lovelace")?;
//! let guard = slab.pin()?;
//! assert_eq!(users.get(&guard, b"ada")?, Some(&b"Ada Lovelace"[..]));
//! # Ok::<(), eve::Error>(())
//! ```
//!
//! Layers, lowest first: `slab` (the mapping), `alloc` (blocks), `epoch` (reclamation),
//! `root` (named words), `hamt` (the map), `btree` (the sorted set), `recovery` (the sweep). See ARCHITECTURE.md.

mod alloc;
mod btree;
pub mod dao;
mod epoch;
mod error;
pub mod ffi;
mod hamt;
mod handle;
pub mod query;
mod recovery;
mod root;
mod slab;
pub mod yin;

pub use btree::{BTree, KeyOp, Range, TreeSnapshot};
pub use dao::Database;
pub use epoch::{Guard, ReclaimReport};
pub use error::{Error, ErrorKind, Result};
pub use hamt::{Commit, HamtMap, HamtSet, Iter, MapTxn, Op, Snapshot};
pub use handle::{CheckReport, ReaderInfo, RetiredReport, Root, RootInfo, Slab, Stats};
pub use recovery::{Audit, SweepReport};
pub use root::RootKind;
pub use slab::OpenOptions;

/// The slab format version this build reads and writes.
pub const FORMAT_VERSION: u32 = slab::header::FORMAT_VERSION;

//! The C ABI: the layer every other language (C, Java through Panama FFM, Node through
//! Node-API) calls. Conventions, in the manner of SQLite and wasmtime's C API: opaque
//! handles with open/close pairs; every function returns an `eve_status`, and on failure
//! `eve_last_error_message()` explains it (per thread); no panic crosses the boundary;
//! every pointer, length and handle is checked before use.
//!
//! One file per concept: `slab` (open, close, stats, recovery), `root` (raw named words),
//! `map` (finding maps, transactions), `read` (snapshots and lookups), `iter` (walking a
//! map), `db` (DaoDB: transactions, datom cursors, queries as text), `answer` (query and
//! pull answers as walkable nodes), `yin` (programs run as agents that park and resume), plus `handles` (what a handle is), `args` (checking C's arguments), `error` and
//! `version`.

mod answer;
mod args;
mod db;
mod error;
mod handles;
mod iter;
mod map;
mod read;
mod root;
mod slab;
mod text;
mod version;
mod yin;

pub use answer::{
    eve_answer_cell, eve_answer_child, eve_answer_column_name, eve_answer_double, eve_answer_edn,
    eve_answer_free, eve_answer_long, eve_answer_node, eve_answer_nodes, eve_answer_rows,
    eve_answer_shape, eve_answer_text, eve_db_pull_answer, eve_db_query_answer, eve_node,
    eve_shape,
};
pub use args::eve_bytes;
pub use db::{
    eve_cursor_close, eve_cursor_next, eve_datom, eve_db_datoms, eve_db_entity, eve_db_ident,
    eve_db_log, eve_db_open, eve_db_pull, eve_db_query, eve_db_range, eve_db_transact, eve_db_wait,
    eve_index, eve_tx_flag, eve_tx_report, eve_value_type, eve_view,
};
pub use error::{eve_last_error_message, eve_status_name, EveStatus};
pub use handles::{eve_answer, eve_cursor, eve_iter, eve_read, eve_slab, eve_yin};
pub use iter::{eve_iter_close, eve_iter_next, eve_iter_open};
pub use map::{eve_commit, eve_map_open, eve_map_transact, eve_op, eve_op_kind};
pub use read::{eve_read_begin, eve_read_count, eve_read_end, eve_read_get, eve_read_get_many};
pub use root::{
    eve_root_compare_exchange, eve_root_find, eve_root_kind, eve_root_load, eve_root_open,
    eve_root_wait,
};
pub use slab::{
    eve_open_flag, eve_open_options, eve_reclaim_report, eve_slab_check, eve_slab_close,
    eve_slab_is_read_only, eve_slab_open, eve_slab_open_anonymous, eve_slab_reclaim,
    eve_slab_recover, eve_slab_stats, eve_stats, eve_sweep_report,
};
pub use version::{eve_version, eve_version_major, eve_version_minor, eve_version_patch};
pub use yin::{
    eve_yin_agent, eve_yin_agent_info, eve_yin_agents, eve_yin_close, eve_yin_compile,
    eve_yin_open, eve_yin_projection, eve_yin_queued, eve_yin_recover, eve_yin_result,
    eve_yin_resume, eve_yin_run, eve_yin_set_step_limit, eve_yin_set_trace, eve_yin_spawn,
    eve_yin_state, eve_yin_stream_close, eve_yin_stream_closed, eve_yin_stream_cursor,
    eve_yin_stream_make, eve_yin_stream_next, eve_yin_stream_put, eve_yin_trace, eve_yin_wait,
    eve_yin_wake, eve_yin_work, eve_yin_work_report,
};

//! Yin through the C ABI: a runtime handle over a slab, compiling Clojure-subset source to
//! a program, running it here as an agent (to its value or until it parks), resuming,
//! spawning and waking agents, working the run queue, reading agent records, and the
//! host's side of streams. Values cross as EDN text (`eve::yin::Value::to_edn` out,
//! `Value::from_edn` in); text handed out stays valid until the next eve call on the
//! calling thread.

use super::args::{self, Out, OutArray};
use super::error::{run, Failure};
use super::handles::{self, eve_slab, eve_yin};
use super::text::{hand_out, Slot};
use super::EveStatus;
use crate::yin::{AgentState, Projection, Run, RunOutcome, Value, Wait, Yin};
use crate::Slab;
use std::ffi::c_char;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which machine runs a program (`projection` arguments and `eve_yin_agent_info`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum eve_yin_projection {
    /// The AST walker: reads every node from the program's datoms at every step.
    EVE_YIN_WALKER = 0,
    /// The stack machine: bytecode compiled from the datoms once per program.
    EVE_YIN_STACK = 1,
}

/// Where an agent is in its life (`state` of `eve_yin_result` and `eve_yin_agent_info`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum eve_yin_state {
    /// In the run queue.
    EVE_YIN_RUNNABLE = 1,
    /// Taken by a worker or a run (`owner` is its process id).
    EVE_YIN_RUNNING = 2,
    /// Waiting to be resumed, or for a stream.
    EVE_YIN_PARKED = 3,
    /// Finished with a value.
    EVE_YIN_DONE = 4,
    /// Stopped by an error.
    EVE_YIN_FAILED = 5,
}

/// What a parked agent waits for (`wait` of `eve_yin_result` and `eve_yin_agent_info`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum eve_yin_wait {
    /// Not parked.
    EVE_YIN_WAIT_NONE = 0,
    /// `(park)`: until someone resumes it (`eve_yin_resume`, `eve_yin_wake`).
    EVE_YIN_WAIT_RESUME = 1,
    /// `(stream/next c)` on an empty stream: until a value arrives for cursor `cursor`.
    EVE_YIN_WAIT_STREAM = 2,
}

/// How a run here (`eve_yin_run`, `eve_yin_resume`) ended.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct eve_yin_result {
    /// The agent that ran: resume a parked one by this id, from any thread or process.
    pub agent: u64,
    /// With `EVE_YIN_WAIT_STREAM`: the cursor the agent waits on; 0 otherwise.
    pub cursor: u64,
    /// Steps the machine took in this run.
    pub steps: u64,
    /// `EVE_YIN_DONE` or `EVE_YIN_PARKED` (an `eve_yin_state`).
    pub state: u32,
    /// What a parked agent waits for (an `eve_yin_wait`); `EVE_YIN_WAIT_NONE` when done.
    pub wait: u32,
    /// When done: the program's value as EDN (NUL-terminated); NULL when parked. Valid
    /// until the next eve call on this thread.
    pub value_edn: *const c_char,
}

/// What an agent record says (`eve_yin_agent`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct eve_yin_agent_info {
    pub agent: u64,
    /// The program (its root node) the agent runs.
    pub program: u64,
    /// With `EVE_YIN_RUNNING`: the id of the process running it.
    pub owner: u64,
    /// With `EVE_YIN_WAIT_STREAM`: the cursor the agent waits on; 0 otherwise.
    pub cursor: u64,
    /// An `eve_yin_state`.
    pub state: u32,
    /// An `eve_yin_projection`.
    pub projection: u32,
    /// An `eve_yin_wait`.
    pub wait: u32,
    /// With `EVE_YIN_DONE`: the result as EDN; NULL otherwise. Valid until the next eve
    /// call on this thread.
    pub result_edn: *const c_char,
    /// With `EVE_YIN_FAILED`: the error message; NULL otherwise. Valid until the next eve
    /// call on this thread.
    pub error: *const c_char,
}

/// What `eve_yin_work` did.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct eve_yin_work_report {
    /// Agents taken from the run queue.
    pub taken: u64,
    pub finished: u64,
    pub parked: u64,
    pub failed: u64,
}

/// An open runtime: the `Yin` borrows the slab that the `Arc` keeps alive.
pub(crate) struct OpenYin {
    // Before `slab`: dropped first, since it borrows the slab.
    yin: Yin<'static>,
    _slab: Arc<Slab>,
}

impl OpenYin {
    fn new(slab: Arc<Slab>, name: &str) -> crate::Result<OpenYin> {
        let yin = Yin::open(&slab, name)?;
        // SAFETY: the `Yin` borrows the `Slab` inside the `Arc`'s heap allocation, which
        // does not move; `OpenYin` keeps that `Arc` and drops the `Yin` before it (field
        // order), so the borrow never outlives the slab.
        let yin = unsafe { std::mem::transmute::<Yin<'_>, Yin<'static>>(yin) };
        Ok(OpenYin { yin, _slab: slab })
    }
}

fn projection(code: u32) -> Result<Projection, Failure> {
    match code {
        0 => Ok(Projection::Walker),
        1 => Ok(Projection::Stack),
        other => Err(Failure::invalid(format!(
            "projection {other} is neither EVE_YIN_WALKER (0) nor EVE_YIN_STACK (1)"
        ))),
    }
}

fn state_code(state: AgentState) -> u32 {
    (match state {
        AgentState::Runnable => eve_yin_state::EVE_YIN_RUNNABLE,
        AgentState::Running => eve_yin_state::EVE_YIN_RUNNING,
        AgentState::Parked => eve_yin_state::EVE_YIN_PARKED,
        AgentState::Done => eve_yin_state::EVE_YIN_DONE,
        AgentState::Failed => eve_yin_state::EVE_YIN_FAILED,
    }) as u32
}

/// (wait code, cursor) of a wait.
fn wait_code(wait: Option<Wait>) -> (u32, u64) {
    match wait {
        None => (eve_yin_wait::EVE_YIN_WAIT_NONE as u32, 0),
        Some(Wait::Resume) => (eve_yin_wait::EVE_YIN_WAIT_RESUME as u32, 0),
        Some(Wait::Stream { cursor }) => (eve_yin_wait::EVE_YIN_WAIT_STREAM as u32, cursor),
    }
}

/// A value argument given as EDN text; NULL is nil.
///
/// # Safety
/// A non-NULL `edn` points at a NUL-terminated string (the header's contract).
unsafe fn value_arg(edn: *const c_char, what: &str) -> Result<Value, Failure> {
    if edn.is_null() {
        return Ok(Value::Nil);
    }
    // SAFETY: forwarded contract.
    let text = unsafe { args::text(edn, what) }?;
    Value::from_edn(text).map_err(|e| Failure::invalid(format!("{what}: {}", e.message())))
}

fn write_run(out: &Out<eve_yin_result>, run: &Run) {
    let (state, (wait, cursor), value_edn) = match &run.outcome {
        RunOutcome::Done(value) => (
            eve_yin_state::EVE_YIN_DONE as u32,
            wait_code(None),
            hand_out(Slot::First, &value.to_edn()),
        ),
        RunOutcome::Parked { wait, .. } => (
            eve_yin_state::EVE_YIN_PARKED as u32,
            wait_code(Some(*wait)),
            std::ptr::null(),
        ),
    };
    out.write(eve_yin_result {
        agent: run.agent,
        cursor,
        steps: run.stats.steps,
        state,
        wait,
        value_edn,
    });
}

/// Opens (creating it if needed, when the slab handle is writable) the Yin runtime called
/// `name` on `slab`: its programs live in the database `name`, its agents in the map
/// `name/agents`, so every thread and process that opens the same name on the same slab
/// shares them. Stores the runtime's handle in `*yin`; close it with `eve_yin_close`
/// before closing the slab (an open runtime keeps the slab busy). Any thread may use it.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_yin_open(
    slab: *mut eve_slab,
    name: *const c_char,
    yin: *mut *mut eve_yin,
) -> EveStatus {
    run(|| {
        let out = Out::new(yin, "yin")?;
        // SAFETY: the header documents `name` as a NUL-terminated string.
        let name = unsafe { args::text(name, "name") }?;
        let slab = handles::slab(slab)?;
        out.write(handles::register_yin(OpenYin::new(slab, name)?)?);
        Ok(())
    })
}

/// Closes a runtime handle. The agents, programs and streams stay in the slab. A call on
/// another thread still using the handle finishes first.
#[no_mangle]
pub extern "C" fn eve_yin_close(yin: *mut eve_yin) -> EveStatus {
    run(|| handles::close_yin(yin))
}

/// Compiles `source` (NUL-terminated UTF-8, a Clojure subset: one or more forms, the last
/// one's value being the program's) and stores it as datoms; stores the program's id in
/// `*program`. Malformed or invalid source fails with `EVE_ERR_INVALID_ARGUMENT` and a
/// message that says what and where (`line 2, column 7: ...`).
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_yin_compile(
    yin: *mut eve_yin,
    source: *const c_char,
    program: *mut u64,
) -> EveStatus {
    run(|| {
        let out = Out::new(program, "program")?;
        // SAFETY: the header documents `source` as a NUL-terminated string.
        let source = unsafe { args::text(source, "source") }?;
        out.write(handles::yin(yin)?.yin.compile(source)?);
        Ok(())
    })
}

/// Runs `program` on this thread as a new agent with `projection` (an
/// `eve_yin_projection`) until it finishes or parks, and describes how in `*out`. A
/// program that fails at run time fails the call (`EVE_ERR_INVALID_ARGUMENT`, the message
/// says why) and its agent is recorded as failed.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_yin_run(
    yin: *mut eve_yin,
    program: u64,
    projection: u32,
    out: *mut eve_yin_result,
) -> EveStatus {
    run(|| {
        let out = Out::new(out, "out")?;
        let projection = self::projection(projection)?;
        let yin = handles::yin(yin)?;
        let run = yin.yin.run(program, projection)?;
        write_run(&out, &run);
        Ok(())
    })
}

/// Resumes the agent `agent`, parked by `(park)`, on this thread: `value_edn` (EDN text,
/// NULL for nil) becomes the value of its `(park)`. It runs until it finishes or parks
/// again, as `eve_yin_run` describes in `*out`. The agent may have parked in any thread or
/// process. Fails with `EVE_ERR_INVALID_ARGUMENT` if there is no such agent or it is not
/// parked waiting for a resume (the message says which state it is in).
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_yin_resume(
    yin: *mut eve_yin,
    agent: u64,
    value_edn: *const c_char,
    out: *mut eve_yin_result,
) -> EveStatus {
    run(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: the header documents `value_edn` as NULL or a NUL-terminated string.
        let value = unsafe { value_arg(value_edn, "value_edn") }?;
        let yin = handles::yin(yin)?;
        let run = yin.yin.resume(agent, value)?;
        write_run(&out, &run);
        Ok(())
    })
}

/// Queues a new agent running `program` with `projection` (an `eve_yin_projection`) and
/// stores its id in `*agent`; a worker (`eve_yin_work`, in any process) runs it.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_yin_spawn(
    yin: *mut eve_yin,
    program: u64,
    projection: u32,
    agent: *mut u64,
) -> EveStatus {
    run(|| {
        let out = Out::new(agent, "agent")?;
        let projection = self::projection(projection)?;
        out.write(handles::yin(yin)?.yin.spawn(program, projection)?);
        Ok(())
    })
}

/// Makes the agent `agent`, parked by `(park)`, runnable with `value_edn` (EDN text, NULL
/// for nil) as the value of its `(park)`, and queues it for a worker. Fails with
/// `EVE_ERR_INVALID_ARGUMENT` if it is not parked waiting for a resume.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_yin_wake(
    yin: *mut eve_yin,
    agent: u64,
    value_edn: *const c_char,
) -> EveStatus {
    run(|| {
        // SAFETY: the header documents `value_edn` as NULL or a NUL-terminated string.
        let value = unsafe { value_arg(value_edn, "value_edn") }?;
        handles::yin(yin)?.yin.wake(agent, &value)?;
        Ok(())
    })
}

/// Works the run queue on this thread: takes agents and runs them until the queue is
/// empty and stays empty for `idle_ms` milliseconds, or `timeout_ms` passes (negative: no
/// limit). Stores what it did in `*report` (may be NULL). An agent that fails is counted
/// in `failed` and recorded as failed; it does not fail the call.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_yin_work(
    yin: *mut eve_yin,
    idle_ms: u64,
    timeout_ms: i64,
    report: *mut eve_yin_work_report,
) -> EveStatus {
    run(|| {
        let out = Out::optional(report, "report")?;
        let yin = handles::yin(yin)?;
        let deadline = u64::try_from(timeout_ms)
            .ok()
            .and_then(|ms| Instant::now().checked_add(Duration::from_millis(ms)));
        let done = yin.yin.work(Duration::from_millis(idle_ms), deadline)?;
        if let Some(out) = out {
            out.write(eve_yin_work_report {
                taken: done.taken,
                finished: done.finished,
                parked: done.parked,
                failed: done.failed,
            });
        }
        Ok(())
    })
}

/// Describes the agent `agent` in `*info`: its state, program, projection, what it waits
/// for, and its result (EDN) when done or its error message when failed. Fails with
/// `EVE_ERR_NOT_FOUND` if there is no such agent.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_yin_agent(
    yin: *mut eve_yin,
    agent: u64,
    info: *mut eve_yin_agent_info,
) -> EveStatus {
    run(|| {
        let out = Out::new(info, "info")?;
        let found = handles::yin(yin)?.yin.agent(agent)?;
        let (wait, cursor) = wait_code(found.wait);
        let result_edn = match &found.result {
            Some(value) => hand_out(Slot::First, &value.to_edn()),
            None => std::ptr::null(),
        };
        let error = match &found.error {
            Some(message) => hand_out(Slot::Second, message),
            None => std::ptr::null(),
        };
        out.write(eve_yin_agent_info {
            agent: found.id,
            program: found.program,
            owner: found.owner,
            cursor,
            state: state_code(found.state),
            projection: match found.projection {
                Projection::Walker => eve_yin_projection::EVE_YIN_WALKER,
                Projection::Stack => eve_yin_projection::EVE_YIN_STACK,
            } as u32,
            wait,
            result_edn,
            error,
        });
        Ok(())
    })
}

/// Lists the agents of the runtime, oldest first: writes up to `capacity` ids into `ids`
/// (may be NULL when `capacity` is 0) and the total number of agents into `*count`, so a
/// caller can ask for the count first and then for the ids.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above (`ids` for `capacity` items); handles need no such care.
#[no_mangle]
pub unsafe extern "C" fn eve_yin_agents(
    yin: *mut eve_yin,
    ids: *mut u64,
    capacity: usize,
    count: *mut usize,
) -> EveStatus {
    run(|| {
        let count = Out::new(count, "count")?;
        let ids = OutArray::new(ids, capacity, "ids")?;
        let agents = handles::yin(yin)?.yin.agents()?;
        for (i, (id, _)) in agents.iter().take(ids.capacity()).enumerate() {
            ids.write(i, *id);
        }
        count.write(agents.len());
        Ok(())
    })
}

/// Limits the machine steps each run on this runtime handle may take from now on: a run
/// (`eve_yin_run`, `eve_yin_resume`, one agent taken by `eve_yin_work`) that would take
/// more than `limit` steps fails with `EVE_ERR_INVALID_ARGUMENT` ("... ran more than N
/// steps ...") and its agent is recorded as failed. 0 means no limit (the default). The
/// limit belongs to the handle: other handles on the same runtime keep theirs. Steps are
/// counted per projection, so one program takes a different number on each.
#[no_mangle]
pub extern "C" fn eve_yin_set_step_limit(yin: *mut eve_yin, limit: u64) -> EveStatus {
    run(|| {
        handles::yin(yin)?
            .yin
            .set_step_limit(if limit == 0 { None } else { Some(limit) });
        Ok(())
    })
}

/// Stores the number of agents in the run queue now in `*count`.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_yin_queued(yin: *mut eve_yin, count: *mut u64) -> EveStatus {
    run(|| {
        let out = Out::new(count, "count")?;
        out.write(handles::yin(yin)?.yin.queued()?);
        Ok(())
    })
}

/// Takes over every agent whose owning process died while running it (killed, crashed):
/// each becomes runnable again from its last checkpoint — the moment it was taken to run,
/// or its last effect (stream operation or resume), whichever came last — and is queued
/// for a worker. Work it did after that checkpoint is done again; its effects are not
/// repeated. `eve_yin_work` does this by itself when it finds the queue empty. Stores the
/// number of agents taken over in `*count` (may be NULL).
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_yin_recover(yin: *mut eve_yin, count: *mut u64) -> EveStatus {
    run(|| {
        let taken = handles::yin(yin)?.yin.recover()?;
        if !count.is_null() {
            Out::new(count, "count")?.write(taken);
        }
        Ok(())
    })
}

/// Turns the execution trace on (`on` != 0) or off for runs through this handle
/// (`eve_yin_run`, `eve_yin_resume`, `eve_yin_work`), from their next run on. While on,
/// every step is written as datoms to the database `<name>/trace` on the same slab, which
/// the first call that turns tracing on creates with its schema (`:trace/agent`,
/// `:trace/run`, `:trace/step`, `:trace/kind`, `:trace/node`, `:trace/value`,
/// `:trace/depth`): open it with `eve_db_open` and query it like any database, joined with
/// the program database (`name`) as a second source. Off by default. On a read-only slab
/// handle, turning it on fails (`EVE_ERR_NOT_FOUND`) unless the trace database exists, and
/// runs cannot be made there anyway. If writing a trace fails, the
/// run still ends as it would have untraced and is recorded so, and then the run's call
/// fails with a message starting `yin trace:`.
#[no_mangle]
pub extern "C" fn eve_yin_set_trace(yin: *mut eve_yin, on: i32) -> EveStatus {
    run(|| {
        handles::yin(yin)?.yin.set_trace(on != 0)?;
        Ok(())
    })
}

/// Stores whether runs through this handle are traced (`eve_yin_set_trace`) in `*on`.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_yin_trace(yin: *mut eve_yin, on: *mut bool) -> EveStatus {
    run(|| {
        let out = Out::new(on, "on")?;
        out.write(handles::yin(yin)?.yin.trace());
        Ok(())
    })
}

/// Makes a new, open, empty stream and stores its id in `*stream` (programs see it as
/// `#yin/stream id`).
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_yin_stream_make(yin: *mut eve_yin, stream: *mut u64) -> EveStatus {
    run(|| {
        let out = Out::new(stream, "stream")?;
        out.write(handles::yin(yin)?.yin.stream_make()?);
        Ok(())
    })
}

/// Appends `value_edn` (EDN text, NULL for nil) to `stream`; agents parked reading it are
/// queued with the value.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_yin_stream_put(
    yin: *mut eve_yin,
    stream: u64,
    value_edn: *const c_char,
) -> EveStatus {
    run(|| {
        // SAFETY: the header documents `value_edn` as NULL or a NUL-terminated string.
        let value = unsafe { value_arg(value_edn, "value_edn") }?;
        handles::yin(yin)?.yin.put(stream, &value)?;
        Ok(())
    })
}

/// Makes a new cursor at the start of `stream` and stores its id in `*cursor`.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_yin_stream_cursor(
    yin: *mut eve_yin,
    stream: u64,
    cursor: *mut u64,
) -> EveStatus {
    run(|| {
        let out = Out::new(cursor, "cursor")?;
        out.write(handles::yin(yin)?.yin.cursor(stream)?);
        Ok(())
    })
}

/// Reads the next value under `cursor` and advances it: stores the value as EDN in
/// `*value_edn` (valid until the next eve call on this thread), or NULL if there is none
/// yet or the stream is closed and read to its end (`eve_yin_stream_closed` tells which).
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_yin_stream_next(
    yin: *mut eve_yin,
    cursor: u64,
    value_edn: *mut *const c_char,
) -> EveStatus {
    run(|| {
        let out = Out::new(value_edn, "value_edn")?;
        let next = handles::yin(yin)?.yin.next(cursor)?;
        out.write(match next {
            Some(value) => hand_out(Slot::First, &value.to_edn()),
            None => std::ptr::null(),
        });
        Ok(())
    })
}

/// Stores whether `stream` is closed in `*closed`.
///
/// # Safety
/// Every pointer argument that is not NULL must be valid for the reads and writes
/// described above; handles need no such care (bad ones are reported, not followed).
#[no_mangle]
pub unsafe extern "C" fn eve_yin_stream_closed(
    yin: *mut eve_yin,
    stream: u64,
    closed: *mut bool,
) -> EveStatus {
    run(|| {
        let out = Out::new(closed, "closed")?;
        out.write(handles::yin(yin)?.yin.closed(stream)?);
        Ok(())
    })
}

/// Closes `stream`: agents parked reading it are queued with nil, and readers get no more
/// values once they have read those already in it.
#[no_mangle]
pub extern "C" fn eve_yin_stream_close(yin: *mut eve_yin, stream: u64) -> EveStatus {
    run(|| {
        handles::yin(yin)?.yin.close(stream)?;
        Ok(())
    })
}

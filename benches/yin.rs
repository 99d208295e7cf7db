//! Yin: `(fib 25)` on both projections, and how long an agent parked by one process takes
//! to be resumed by another — through the slab, beside the same continuation sent as bytes
//! over a pipe. Prints medians and percentiles (the targets are a ratio and a p50).
//!
//! `EVE_BENCH_RUNS` (default 3) sets the fib runs, `EVE_BENCH_HOPS` (default 20,000) the
//! park→resume round trips (two hops each); `EVE_BENCH_ONLY=fib` or `park` runs one part.

use eve::yin::{ImageRun, Projection, RunOutcome, Value, Yin};
use eve::Slab;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::time::{Duration, Instant};

const FIB: &str = "(defn fib [n] (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))) (fib 25)";
const PONG: &str = "(defn pong [x] (pong (park))) (pong 0)";

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write; CLOCK_MONOTONIC is one clock for every
    // process on the machine, so two processes' readings compare.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn median(ns: &[u64]) -> u64 {
    let mut ns = ns.to_vec();
    ns.sort_unstable();
    ns[ns.len() / 2]
}

/// Round-trip percentiles.
fn percentiles(name: &str, ns: &[u64]) {
    let mut ns = ns.to_vec();
    ns.sort_unstable();
    let at = |p: f64| ns[((ns.len() as f64 * p) as usize).min(ns.len() - 1)];
    println!(
        "round trip {name:<26} p50 {:>7.2} µs   p90 {:>7.2} µs   p99 {:>8.2} µs   ({} round trips)",
        at(0.5) as f64 / 1e3,
        at(0.9) as f64 / 1e3,
        at(0.99) as f64 / 1e3,
        ns.len()
    );
}

fn fib(yin: &Yin<'_>) {
    let runs = knob("EVE_BENCH_RUNS", 3);
    let program = yin.compile(FIB).unwrap();
    let mut medians = Vec::new();
    for projection in [Projection::Walker, Projection::Stack] {
        // One run to compile and warm up.
        yin.run(program, projection).unwrap();
        let mut ms: Vec<f64> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                let run = yin.run(program, projection).unwrap();
                assert_eq!(run.outcome_value(), Some(Value::Int(75025)));
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        let median = ms[ms.len() / 2];
        println!("(fib 25) {projection:<8?} median {median:>9.1} ms   ({runs} runs)");
        medians.push(median);
    }
    println!(
        "(fib 25) stack machine / walker speed: {:.1}x",
        medians[0] / medians[1]
    );
}

/// The other side of the ping-pong through the slab: whenever the agent is parked after an
/// odd number of runs (the parent ran it last), resume it here; it runs to its next park.
fn slab_pong(path: &str, agent: u64, hops: u64) {
    let slab = Slab::open(path).unwrap();
    let yin = Yin::open(&slab, "yin").unwrap();
    for _ in 0..hops {
        wait_turn(&yin, agent, 1);
        yin.resume(agent, Value::Int(1)).unwrap();
    }
}

/// Waits until `agent` has run a number of times of parity `parity` and is parked again.
fn wait_turn(yin: &Yin<'_>, agent: u64, parity: u64) {
    let mut spins = 0u32;
    loop {
        let seen = yin.version();
        let info = yin.agent(agent).unwrap();
        if info.runs % 2 == parity && info.state == eve::yin::AgentState::Parked {
            return;
        }
        spins += 1;
        if spins < 20_000 {
            std::hint::spin_loop();
        } else {
            yin.wait_for_change(seen, Some(Duration::from_millis(10)));
        }
    }
}

/// One round trip is two hops: this process resumes the parked agent and runs it to its
/// next park, the other process notices that park, resumes the agent and runs it to its
/// next park, and this process notices. Both ways are timed the same way, in this process
/// only, so no clocks of two processes are compared.
fn through_slab(dir: &std::path::Path) -> Vec<u64> {
    let hops = knob("EVE_BENCH_HOPS", 20_000);
    let path = dir.join("pong.slab");
    let slab = Slab::open(&path).unwrap();
    let yin = Yin::open(&slab, "yin").unwrap();
    let program = yin.compile(PONG).unwrap();
    let run = yin.run(program, Projection::Stack).unwrap();
    let RunOutcome::Parked { agent, .. } = run.outcome else {
        panic!()
    };
    let image_len = yin.image(agent).unwrap().len();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .env("EVE_YIN_BENCH_CHILD", "slab")
        .env("EVE_YIN_SLAB", &path)
        .env("EVE_YIN_AGENT", agent.to_string())
        .env("EVE_YIN_HOPS", (hops + 1).to_string())
        .spawn()
        .unwrap();
    // The child's first resume warms it up and is not timed.
    wait_turn(&yin, agent, 0);
    let mut round_trips = Vec::with_capacity(hops as usize);
    for _ in 0..hops {
        let start = now_ns();
        yin.resume(agent, Value::Int(0)).unwrap();
        wait_turn(&yin, agent, 0);
        round_trips.push(now_ns() - start);
    }
    assert!(child.wait().unwrap().success());
    let info = yin.agent(agent).unwrap();
    assert_eq!(info.runs, 2 * hops + 2, "every hop ran the agent once");
    percentiles("through the slab", &round_trips);
    println!(
        "  bytes through a pipe or socket per hop: 0 (the state, {image_len} bytes, stays in the slab)"
    );
    round_trips
}

/// The other side of the pipe ping-pong: read a continuation, run it to its next park,
/// send the new one back.
fn pipe_pong(path: &str, program: u64, from: RawFd, to: RawFd, spin: bool) {
    if spin {
        nonblocking(from);
    }
    let slab = Slab::open(path).unwrap();
    let yin = Yin::open(&slab, "yin").unwrap();
    // SAFETY: the parent passed these descriptors open for this process alone.
    let (mut rx, mut tx) = unsafe {
        (
            std::fs::File::from_raw_fd(from),
            std::fs::File::from_raw_fd(to),
        )
    };
    while let Some(bytes) = receive(&mut rx) {
        let ImageRun::Parked(next) = yin
            .run_image(program, Projection::Stack, &bytes, Value::Int(1))
            .unwrap()
        else {
            panic!()
        };
        send(&mut tx, &next);
    }
}

fn send(tx: &mut std::fs::File, bytes: &[u8]) {
    let mut message = Vec::with_capacity(8 + bytes.len());
    message.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    message.extend_from_slice(bytes);
    tx.write_all(&message).unwrap();
}

/// The next message, or `None` when the other side closed the pipe. On a non-blocking
/// pipe it spins until the bytes are there, as the slab side spins on the agent's state.
fn receive(rx: &mut std::fs::File) -> Option<Vec<u8>> {
    let mut head = [0u8; 8];
    if !fill(rx, &mut head) {
        return None;
    }
    let mut bytes = vec![0u8; u64::from_le_bytes(head) as usize];
    assert!(fill(rx, &mut bytes), "the pipe closed inside a message");
    Some(bytes)
}

/// Reads exactly `buf.len()` bytes; false at end of file before the first byte.
fn fill(rx: &mut std::fs::File, buf: &mut [u8]) -> bool {
    let mut got = 0;
    while got < buf.len() {
        match rx.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return false,
            Ok(0) => panic!("the pipe closed inside a message"),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::hint::spin_loop(),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("{e}"),
        }
    }
    true
}

/// Makes reads of `fd` return at once when there is nothing to read.
fn nonblocking(fd: RawFd) {
    // SAFETY: changing the status flags of a descriptor this process owns.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        assert_eq!(libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK), 0);
    }
}

/// A pipe whose end `for_child` (0 read, 1 write) a spawned child inherits; the other end
/// stays in this process alone, so the child sees end of file when this process closes it.
fn pipe(for_child: usize) -> (RawFd, RawFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2(2) writes; clearing close-on-exec
    // on a descriptor just made here touches nothing else.
    unsafe {
        assert_eq!(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), 0);
        assert_eq!(libc::fcntl(fds[for_child], libc::F_SETFD, 0), 0);
    }
    (fds[0], fds[1])
}

/// The same round trip with the state image sent as bytes: this process runs the image it
/// got back to its next park and writes the new image to the pipe; the other process reads
/// it, runs it to its next park and writes that back. With `spin`, both sides poll their
/// pipe instead of sleeping in `read` (as the slab side polls), so neither pays for being
/// woken up.
fn through_a_pipe(dir: &std::path::Path, spin: bool) -> Vec<u64> {
    let hops = knob("EVE_BENCH_HOPS", 20_000);
    let path = dir.join(if spin {
        "pipe-polled.slab"
    } else {
        "pipe.slab"
    });
    let slab = Slab::open(&path).unwrap();
    let yin = Yin::open(&slab, "yin").unwrap();
    let program = yin.compile(PONG).unwrap();
    let RunOutcome::Parked { agent, .. } = yin.run(program, Projection::Stack).unwrap().outcome
    else {
        panic!()
    };
    let first = yin.image(agent).unwrap();
    let (to_child_rx, to_child_tx) = pipe(0);
    let (to_parent_rx, to_parent_tx) = pipe(1);
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .env("EVE_YIN_BENCH_CHILD", "pipe")
        .env("EVE_YIN_SLAB", &path)
        .env("EVE_YIN_PROGRAM", program.to_string())
        .env("EVE_YIN_FDS", format!("{to_child_rx} {to_parent_tx}"))
        .env("EVE_YIN_PIPE_SPIN", if spin { "1" } else { "0" })
        .spawn()
        .unwrap();
    // SAFETY: the parent keeps its own ends, once each, and closes its copies of the ends the
    // child inherited, so end of file reaches each side when the other closes.
    let (mut tx, mut rx) = unsafe {
        libc::close(to_child_rx);
        libc::close(to_parent_tx);
        (
            std::fs::File::from_raw_fd(to_child_tx),
            std::fs::File::from_raw_fd(to_parent_rx),
        )
    };
    if spin {
        nonblocking(rx.as_raw_fd());
    }
    // The child's first run warms it up and is not timed.
    send(&mut tx, &first);
    let mut image = receive(&mut rx).unwrap();
    let image_len = image.len();
    let mut round_trips = Vec::with_capacity(hops as usize);
    for _ in 0..hops {
        let start = now_ns();
        let ImageRun::Parked(next) = yin
            .run_image(program, Projection::Stack, &image, Value::Int(0))
            .unwrap()
        else {
            panic!()
        };
        send(&mut tx, &next);
        image = receive(&mut rx).unwrap();
        round_trips.push(now_ns() - start);
    }
    drop(tx);
    assert!(child.wait().unwrap().success());
    percentiles(
        if spin {
            "image over a pipe, polled"
        } else {
            "image over a pipe, blocking"
        },
        &round_trips,
    );
    println!("  bytes through the pipe per hop: {}", image_len + 8);
    round_trips
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let env = |k: &str| std::env::var(k).unwrap();
    match std::env::var("EVE_YIN_BENCH_CHILD").as_deref() {
        Ok("slab") => {
            return slab_pong(
                &env("EVE_YIN_SLAB"),
                env("EVE_YIN_AGENT").parse().unwrap(),
                env("EVE_YIN_HOPS").parse().unwrap(),
            )
        }
        Ok("pipe") => {
            let fds: Vec<RawFd> = env("EVE_YIN_FDS")
                .split(' ')
                .map(|f| f.parse().unwrap())
                .collect();
            return pipe_pong(
                &env("EVE_YIN_SLAB"),
                env("EVE_YIN_PROGRAM").parse().unwrap(),
                fds[0],
                fds[1],
                env("EVE_YIN_PIPE_SPIN") == "1",
            );
        }
        _ => {}
    }
    let dir = tempfile::tempdir().unwrap();
    let only = std::env::var("EVE_BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "fib" {
        let slab = Slab::open(dir.path().join("fib.slab")).unwrap();
        fib(&Yin::open(&slab, "yin").unwrap());
    }
    if only.is_empty() || only == "park" {
        let slab = through_slab(dir.path());
        let blocking = through_a_pipe(dir.path(), false);
        let polled = through_a_pipe(dir.path(), true);
        println!(
            "park→resume, one hop (half a round trip), p50: {:.2} µs through the slab; \
             over a pipe {:.2} µs blocking, {:.2} µs polled",
            median(&slab) as f64 / 2e3,
            median(&blocking) as f64 / 2e3,
            median(&polled) as f64 / 2e3
        );
    }
}

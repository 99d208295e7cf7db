//! Yin: `(fib 25)` on both projections, and how long an agent parked by one process takes
//! to be resumed by another — through the slab, beside the same continuation sent as bytes
//! over a pipe. Prints medians and percentiles (the targets are a ratio and a p50).
//!
//! `EVE_BENCH_RUNS` (default 3) sets the fib runs, `EVE_BENCH_HOPS` (default 20,000) the
//! park→resume hops.

use eve::yin::{ImageRun, Projection, RunOutcome, Value, Yin};
use eve::Slab;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, RawFd};
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

fn percentiles(name: &str, mut ns: Vec<u64>) {
    ns.sort_unstable();
    let at = |p: f64| ns[((ns.len() as f64 * p) as usize).min(ns.len() - 1)];
    println!(
        "{name:<34} p50 {:>7.2} µs   p90 {:>7.2} µs   p99 {:>8.2} µs   ({} hops)",
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

/// The other side of the ping-pong through the slab: resume the agent whenever it is
/// this side's turn (odd runs: the parent ran it last), and report each hop's latency.
fn slab_pong(path: &str, agent: u64, hops: u64) {
    let slab = Slab::open(path).unwrap();
    let yin = Yin::open(&slab, "yin").unwrap();
    let stamp = slab.root("bench/parked-at").unwrap();
    let mut latencies = Vec::with_capacity(hops as usize);
    let mut last = 0;
    for _ in 0..hops {
        wait_turn(&yin, agent, 1);
        yin.resume(agent, Value::Int(1)).unwrap();
        let done = now_ns();
        // The parent stamps the moment its park was published, right after publishing.
        let parked_at = loop {
            let t = stamp.load();
            if t > last {
                break t;
            }
            std::hint::spin_loop();
        };
        last = parked_at;
        latencies.push(done - parked_at);
    }
    let mut out = std::io::stdout();
    for l in latencies {
        writeln!(out, "{l}").unwrap();
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
        if spins < 2000 {
            std::hint::spin_loop();
        } else {
            yin.wait_for_change(seen, Some(Duration::from_millis(10)));
        }
    }
}

fn through_slab(dir: &std::path::Path) {
    let hops = knob("EVE_BENCH_HOPS", 20_000);
    let path = dir.join("pong.slab");
    let slab = Slab::open(&path).unwrap();
    let yin = Yin::open(&slab, "yin").unwrap();
    let program = yin.compile(PONG).unwrap();
    let run = yin.run(program, Projection::Stack).unwrap();
    let RunOutcome::Parked { agent, .. } = run.outcome else {
        panic!()
    };
    let stamp = slab.root("bench/parked-at").unwrap();
    let image_len = yin.image(agent).unwrap().len();
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .env("EVE_YIN_BENCH_CHILD", "slab")
        .env("EVE_YIN_SLAB", &path)
        .env("EVE_YIN_AGENT", agent.to_string())
        .env("EVE_YIN_HOPS", hops.to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The first hop is the child's: the agent has run once.
    let parked_at = now_ns();
    {
        let t = parked_at;
        stamp.compare_exchange(stamp.load(), t).unwrap().unwrap();
    }
    for _ in 1..hops {
        wait_turn(&yin, agent, 0);
        yin.resume(agent, Value::Int(0)).unwrap();
        {
            let t = now_ns();
            stamp.compare_exchange(stamp.load(), t).unwrap().unwrap();
        }
    }
    let latencies = child_latencies(child);
    percentiles("park→resume through the slab", latencies);
    println!("  bytes through a pipe or socket per hop: 0 (the state, {image_len} bytes, stays in the slab)");
}

/// The other side of the pipe ping-pong: read a continuation, run it to its next park,
/// send the new one back.
fn pipe_pong(path: &str, program: u64, hops: u64, from: RawFd, to: RawFd) {
    let slab = Slab::open(path).unwrap();
    let yin = Yin::open(&slab, "yin").unwrap();
    // SAFETY: the parent passed these descriptors open for this process alone.
    let (mut rx, mut tx) = unsafe {
        (
            std::fs::File::from_raw_fd(from),
            std::fs::File::from_raw_fd(to),
        )
    };
    let mut latencies = Vec::with_capacity(hops as usize);
    for _ in 0..hops {
        let (sent_at, bytes) = receive(&mut rx);
        let ImageRun::Parked(next) = yin
            .run_image(program, Projection::Stack, &bytes, Value::Int(1))
            .unwrap()
        else {
            panic!()
        };
        latencies.push(now_ns() - sent_at);
        send(&mut tx, &next);
    }
    for l in latencies {
        println!("{l}");
    }
}

fn send(tx: &mut std::fs::File, bytes: &[u8]) {
    let mut message = Vec::with_capacity(16 + bytes.len());
    message.extend_from_slice(&now_ns().to_le_bytes());
    message.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    message.extend_from_slice(bytes);
    tx.write_all(&message).unwrap();
}

fn receive(rx: &mut std::fs::File) -> (u64, Vec<u8>) {
    let mut head = [0u8; 16];
    rx.read_exact(&mut head).unwrap();
    let sent_at = u64::from_le_bytes(head[..8].try_into().unwrap());
    let mut bytes = vec![0u8; u64::from_le_bytes(head[8..].try_into().unwrap()) as usize];
    rx.read_exact(&mut bytes).unwrap();
    (sent_at, bytes)
}

fn pipe() -> (RawFd, RawFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    (fds[0], fds[1])
}

fn through_a_pipe(dir: &std::path::Path) {
    let hops = knob("EVE_BENCH_HOPS", 20_000);
    let path = dir.join("pipe.slab");
    let slab = Slab::open(&path).unwrap();
    let yin = Yin::open(&slab, "yin").unwrap();
    let program = yin.compile(PONG).unwrap();
    let RunOutcome::Parked { agent, .. } = yin.run(program, Projection::Stack).unwrap().outcome
    else {
        panic!()
    };
    let mut image = yin.image(agent).unwrap();
    let image_len = image.len();
    let (to_child_rx, to_child_tx) = pipe();
    let (to_parent_rx, to_parent_tx) = pipe();
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .env("EVE_YIN_BENCH_CHILD", "pipe")
        .env("EVE_YIN_SLAB", &path)
        .env("EVE_YIN_PROGRAM", program.to_string())
        .env("EVE_YIN_HOPS", hops.to_string())
        .env("EVE_YIN_FDS", format!("{to_child_rx} {to_parent_tx}"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // SAFETY: the parent keeps its own ends, once each.
    let (mut tx, mut rx) = unsafe {
        (
            std::fs::File::from_raw_fd(to_child_tx),
            std::fs::File::from_raw_fd(to_parent_rx),
        )
    };
    for i in 0..hops {
        send(&mut tx, &image);
        if i + 1 < hops {
            let (_, back) = receive(&mut rx);
            let ImageRun::Parked(next) = yin
                .run_image(program, Projection::Stack, &back, Value::Int(0))
                .unwrap()
            else {
                panic!()
            };
            image = next;
        }
    }
    drop(tx);
    let latencies = child_latencies(child);
    percentiles("park→resume as bytes over a pipe", latencies);
    println!("  bytes through the pipe per hop: {}", image_len + 16);
}

/// The hop latencies a child printed, one per line.
fn child_latencies(child: std::process::Child) -> Vec<u64> {
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
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
                env("EVE_YIN_HOPS").parse().unwrap(),
                fds[0],
                fds[1],
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
        through_slab(dir.path());
        through_a_pipe(dir.path());
    }
}

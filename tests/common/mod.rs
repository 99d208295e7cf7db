//! Running real child processes from integration tests.
//!
//! The test harness is multi-threaded, so children are not `fork`ed mid-test; instead the
//! test binary re-executes itself running one ignored `#[test]` (the child's entry point)
//! with its parameters in environment variables. Children talk back through stdout lines.

#![allow(dead_code)]

pub mod torture;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Is this process a child started by `spawn`? Child entry points return at once if not.
pub fn is_child() -> bool {
    std::env::var_os("EVE_TEST_CHILD").is_some()
}

pub fn env_u64(name: &str) -> u64 {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} not set"))
        .parse()
        .unwrap()
}

pub fn env_path() -> String {
    std::env::var("EVE_SLAB").expect("EVE_SLAB not set")
}

/// A running child with a line reader on its stdout.
pub struct Kid {
    pub child: Child,
    out: BufReader<ChildStdout>,
}

/// Starts the ignored test `entry` of this test binary as a child process.
pub fn spawn(entry: &str, slab: &Path, vars: &[(&str, String)]) -> Kid {
    spawn_command(child_command(entry, slab, vars))
}

/// Like `spawn`, with a pipe to the child's stdin (see `Kid::say`).
pub fn spawn_with_stdin(entry: &str, slab: &Path, vars: &[(&str, String)]) -> Kid {
    let mut cmd = child_command(entry, slab, vars);
    cmd.stdin(Stdio::piped());
    spawn_command(cmd)
}

fn child_command(entry: &str, slab: &Path, vars: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        entry,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
        "-q",
    ])
    .env("EVE_TEST_CHILD", "1")
    .env("EVE_SLAB", slab)
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

fn spawn_command(mut cmd: Command) -> Kid {
    let mut child = cmd.spawn().expect("spawning child");
    let out = BufReader::new(child.stdout.take().unwrap());
    Kid { child, out }
}

impl Kid {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Reads stdout until a line starting with `prefix`; returns the rest of that line.
    pub fn expect(&mut self, prefix: &str) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.out.read_line(&mut line).unwrap();
            assert!(n > 0, "child exited before printing {prefix:?}");
            if let Some(rest) = line.trim_end().strip_prefix(prefix) {
                return rest.trim().to_string();
            }
        }
    }

    /// The next line of stdout, `None` at its end (the child exited or closed it).
    pub fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.out.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end().to_string()),
        }
    }

    /// Every line of stdout still to come, until the child's end.
    pub fn rest(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.line()).collect()
    }

    /// Writes a line to the child's stdin (only for `spawn_with_stdin`).
    pub fn say(&mut self, line: &str) {
        let stdin = self
            .child
            .stdin
            .as_mut()
            .expect("spawned with a stdin pipe");
        writeln!(stdin, "{line}").expect("writing to the child");
        stdin.flush().unwrap();
    }

    /// Waits for the child to end, however it ends.
    pub fn status(mut self) -> ExitStatus {
        drop(self.child.stdin.take());
        self.child.wait().unwrap()
    }

    /// Waits for the child and asserts it succeeded.
    pub fn finish(mut self) {
        let status = self.child.wait().unwrap();
        assert!(status.success(), "child failed: {status}");
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: sending a signal to our own child process.
        assert_eq!(unsafe { libc::kill(self.pid(), signal) }, 0);
    }

    /// SIGKILL without reaping: the child stays a zombie until `reap`.
    pub fn kill9(&self) {
        self.signal(libc::SIGKILL);
        // Wait until the kernel has torn it down (it shows as a zombie).
        wait_until(Duration::from_secs(10), || {
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
                .map(|s| s[s.rfind(')').unwrap() + 2..].starts_with('Z'))
                .unwrap_or(true)
        });
    }

    pub fn reap(mut self) {
        let _ = self.child.wait();
    }
}

impl Drop for Kid {
    /// A test that fails half-way must not leave a stopped or sleeping child behind (it
    /// would hold the test's output pipe open forever).
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            // SAFETY: resuming our own child so that it can die of the SIGKILL.
            unsafe { libc::kill(self.pid(), libc::SIGCONT) };
            let _ = self.child.wait();
        }
    }
}

/// Tells a child to go on, through a file whose existence it polls.
pub fn go_file(dir: &Path, name: &str) -> std::path::PathBuf {
    dir.join(format!("go-{name}"))
}

pub fn wait_for_file(path: &Path) {
    wait_until(Duration::from_secs(60), || path.exists());
}

pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out after {limit:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

pub fn u64_of(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().unwrap())
}

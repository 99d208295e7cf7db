//! Who owns a piece of shared state: a process identified by pid *and* start time.
//!
//! A pid alone is not an identity: the kernel reuses pids. The start time (in clock ticks
//! since boot, field 22 of `/proc/<pid>/stat`) tells a reused pid from the original owner.
//! Liveness is decided from the kernel's own records, never from a heartbeat, so a process
//! stopped with SIGSTOP for an hour is still alive and a killed one is dead at once.

use std::fs;

/// The identity of a process as stored in one 64-bit word of the slab:
/// the pid in the low 32 bits and the low 32 bits of its start time in the high 32 bits.
/// Two processes share a word only if they have the same pid *and* started at the same
/// tick modulo 2^32 ticks (about 497 days at 100 Hz) — not a counter that wraps, but an
/// identity collision we accept as negligible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnerWord(pub u64);

impl OwnerWord {
    pub const NONE: OwnerWord = OwnerWord(0);

    pub fn pid(self) -> u32 {
        self.0 as u32
    }

    fn start_low(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

/// Identity of the calling process. Not cached: after `fork` the child must see its own pid,
/// and this is only called on slow paths (claiming a reader slot, naming a root).
pub fn current_owner() -> OwnerWord {
    // SAFETY: getpid has no preconditions and cannot fail.
    let pid = unsafe { libc::getpid() } as u32;
    let start = read_stat(pid).map(|s| s.start_ticks).unwrap_or(0);
    OwnerWord(((start as u32 as u64) << 32) | pid as u64)
}

struct Stat {
    state: u8,
    start_ticks: u64,
}

fn read_stat(pid: u32) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may itself contain spaces and
    // parentheses, so fields are counted from the *last* closing parenthesis.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?.bytes().next()?;
    // Field 3 is the state; the start time is field 22, i.e. 19 fields further on.
    let start_ticks = fields.nth(18)?.parse().ok()?;
    Some(Stat { state, start_ticks })
}

/// Is the process that wrote `owner` still running? Zombies (killed but not yet reaped by
/// their parent) count as dead: they will never touch shared memory again.
pub fn is_alive(owner: OwnerWord) -> bool {
    if owner == OwnerWord::NONE {
        return false;
    }
    match read_stat(owner.pid()) {
        None => false,
        Some(stat) => {
            if stat.state == b'Z' || stat.state == b'X' || stat.state == b'x' {
                return false;
            }
            // A zero start half means the owner could not read its own start time; the pid
            // being present is then the best evidence available, and erring towards "alive"
            // only delays reclamation, never breaks it.
            owner.start_low() == 0 || owner.start_low() == stat.start_ticks as u32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_is_alive_and_a_reused_pid_is_not() {
        let me = current_owner();
        assert!(is_alive(me));
        let impostor = OwnerWord(me.0 ^ (1 << 40));
        assert!(!is_alive(impostor));
        assert!(!is_alive(OwnerWord::NONE));
    }

    #[test]
    fn reaped_and_zombie_children_are_dead() {
        // SAFETY: the child only calls async-signal-safe _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: terminating the forked child without running parent destructors.
            unsafe { libc::_exit(0) };
        }
        // Wait until the child is a zombie, without reaping it.
        let word = OwnerWord(pid as u64);
        let mut zombie = false;
        for _ in 0..1000 {
            if let Some(s) = read_stat(pid as u32) {
                if s.state == b'Z' {
                    zombie = true;
                    break;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert!(zombie, "child never became a zombie");
        assert!(!is_alive(word));
        let mut status = 0;
        // SAFETY: pid is our child; status is a valid out pointer.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(!is_alive(word));
    }
}

//! Thin, checked wrappers over the file system calls the slab needs: open-file-description
//! locks, `fallocate`, `memfd_create` and positioned reads/writes.

use crate::error::{Error, Result};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::os::unix::io::{AsRawFd, FromRawFd};

/// Which kind of advisory lock to hold on one byte of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    Shared,
    Exclusive,
    Unlock,
}

/// Sets an open-file-description (OFD) lock on the single byte `byte`.
///
/// OFD locks belong to the open file description, not the process, so closing an unrelated
/// descriptor of the same file does not drop them (the trap of classic POSIX locks), and the
/// kernel releases them when the last descriptor goes away — including on `kill -9`.
/// Converting shared ⇄ exclusive is atomic: a failed upgrade keeps the shared lock.
/// Returns `Ok(false)` when `wait` is false and another description holds a conflicting lock.
pub fn lock_byte(file: &File, byte: u64, lock: Lock, wait: bool) -> io::Result<bool> {
    let mut fl = flock_for(byte, lock);
    let cmd = if wait {
        libc::F_OFD_SETLKW
    } else {
        libc::F_OFD_SETLK
    };
    loop {
        // SAFETY: fd is open for the lifetime of `file`; `fl` is a valid flock struct.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), cmd, &mut fl) };
        if rc == 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EAGAIN) | Some(libc::EACCES) if !wait => return Ok(false),
            _ => return Err(err),
        }
    }
}

/// Does any *other* open file description hold a lock on `byte` that would conflict with
/// an exclusive lock? Our own description's locks never conflict with themselves.
pub fn byte_is_locked_by_others(file: &File, byte: u64) -> io::Result<bool> {
    let mut fl = flock_for(byte, Lock::Exclusive);
    // SAFETY: fd is open; `fl` is a valid flock struct the kernel fills in.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_GETLK, &mut fl) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fl.l_type != libc::F_UNLCK as libc::c_short)
}

fn flock_for(byte: u64, lock: Lock) -> libc::flock {
    // SAFETY: flock is plain old data; all-zero is a valid value (and l_pid must be 0 for OFD).
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = match lock {
        Lock::Shared => libc::F_RDLCK,
        Lock::Exclusive => libc::F_WRLCK,
        Lock::Unlock => libc::F_UNLCK,
    } as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = byte as libc::off_t;
    fl.l_len = 1;
    fl
}

/// Makes sure the file really owns the blocks for `[offset, offset + len)` and is at least
/// that long, so a later store into the mapping cannot hit a hole on a full disk (which
/// would be `SIGBUS`). File systems without `fallocate` fall back to `ftruncate`.
/// `name` names the file in errors, so an operator knows which file system filled up.
pub fn allocate(file: &File, name: &str, offset: u64, len: u64) -> Result<()> {
    loop {
        // SAFETY: fd is open for writing; offsets were checked to fit in off_t by the caller.
        let rc = unsafe {
            libc::fallocate(
                file.as_raw_fd(),
                0,
                offset as libc::off_t,
                len as libc::off_t,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EOPNOTSUPP) => {
                let size = file
                    .metadata()
                    .map_err(|e| Error::from_io(format_args!("fstat {name}"), e))?
                    .len();
                if size < offset + len {
                    file.set_len(offset + len)
                        .map_err(|e| Error::from_io(format_args!("ftruncate {name}"), e))?;
                }
                return Ok(());
            }
            _ => {
                return Err(Error::from_io(
                    format_args!("growing the slab file {name} to {} bytes", offset + len),
                    err,
                ))
            }
        }
    }
}

/// An anonymous shared-memory file: mapped `MAP_SHARED`, it is inherited by `fork`ed
/// children, and it grows and is bounds-checked exactly like a file on disk.
pub fn memfd() -> Result<File> {
    let name = c"eve-slab";
    // SAFETY: `name` is a valid NUL-terminated string.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(Error::last_os("memfd_create"));
    }
    // SAFETY: fd is a freshly created descriptor that nothing else owns.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// Is `file` in memory only (tmpfs or shared memory, as a memfd is)? If the file system
/// cannot be asked, it is taken to be on disk, which only costs some syncs.
pub fn in_memory(file: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: an all-zero statfs is a valid value of the plain C struct.
    let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: the descriptor is open for as long as `file` lives, and `stat` is a valid,
    // writable statfs for the call to fill.
    let rc = unsafe { libc::fstatfs(file.as_raw_fd(), &mut stat) };
    rc == 0 && stat.f_type == libc::TMPFS_MAGIC
}

/// Reads exactly `buf.len()` bytes at `offset`, or fewer if the file ends first.
pub fn read_at(file: &File, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

pub fn write_all_at(file: &File, offset: u64, buf: &[u8]) -> io::Result<()> {
    file.write_all_at(buf, offset)
}

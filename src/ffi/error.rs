//! Status codes, the per-thread last-error message, and the guard that keeps panics from
//! unwinding into C.

use crate::{Error, ErrorKind};
use std::cell::RefCell;
use std::ffi::{c_char, CString};

/// The result of every eve C function. `EVE_OK` is zero; everything else is a failure whose
/// details `eve_last_error_message()` gives.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum EveStatus {
    /// Success.
    EVE_OK = 0,
    /// An argument was out of range or malformed.
    EVE_ERR_INVALID_ARGUMENT = 1,
    /// A required pointer argument was NULL.
    EVE_ERR_NULL_POINTER = 2,
    /// An operating-system call failed.
    EVE_ERR_IO = 3,
    /// The file is not an eve slab.
    EVE_ERR_NOT_A_SLAB = 4,
    /// The slab has a format version this library does not read.
    EVE_ERR_VERSION = 5,
    /// The slab or a structure in it is damaged.
    EVE_ERR_CORRUPT = 6,
    /// The slab cannot grow (disk full, size limit, reservation used up).
    EVE_ERR_FULL = 7,
    /// The operation needs exclusive access and another handle holds the slab.
    EVE_ERR_BUSY = 8,
    /// A named root or key does not exist.
    EVE_ERR_NOT_FOUND = 9,
    /// The handle is read-only and the operation writes.
    EVE_ERR_READ_ONLY = 10,
    /// A root exists with another kind than the one asked for.
    EVE_ERR_WRONG_KIND = 11,
    /// A fixed table in the slab (reader slots, roots) is full.
    EVE_ERR_EXHAUSTED = 12,
    /// eve itself failed unexpectedly (a bug); the message says where.
    EVE_ERR_INTERNAL = 13,
}

impl From<ErrorKind> for EveStatus {
    fn from(kind: ErrorKind) -> EveStatus {
        match kind {
            ErrorKind::InvalidArgument => EveStatus::EVE_ERR_INVALID_ARGUMENT,
            ErrorKind::Io => EveStatus::EVE_ERR_IO,
            ErrorKind::NotASlab => EveStatus::EVE_ERR_NOT_A_SLAB,
            ErrorKind::Version => EveStatus::EVE_ERR_VERSION,
            ErrorKind::Corrupt => EveStatus::EVE_ERR_CORRUPT,
            ErrorKind::Full => EveStatus::EVE_ERR_FULL,
            ErrorKind::Busy => EveStatus::EVE_ERR_BUSY,
            ErrorKind::NotFound => EveStatus::EVE_ERR_NOT_FOUND,
            ErrorKind::ReadOnly => EveStatus::EVE_ERR_READ_ONLY,
            ErrorKind::WrongKind => EveStatus::EVE_ERR_WRONG_KIND,
            ErrorKind::Exhausted => EveStatus::EVE_ERR_EXHAUSTED,
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    // Interior NULs cannot cross into C; drop them rather than lose the message.
    let text = CString::new(message.replace('\0', "")).unwrap_or_default();
    // During thread teardown the slot may be gone; the message is then dropped, not a panic.
    let _ = LAST_ERROR.try_with(|last| *last.borrow_mut() = text);
}

/// Why an entry point failed: the status it returns and the message it leaves behind.
#[derive(Debug)]
pub(crate) struct Failure {
    status: EveStatus,
    message: String,
}

impl Failure {
    pub(crate) fn new(status: EveStatus, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(EveStatus::EVE_ERR_INVALID_ARGUMENT, message)
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::new(error.kind().into(), error.message())
    }
}

pub(crate) type Outcome = Result<(), Failure>;

/// Runs the body of an entry point: a failure becomes its status plus this thread's last
/// error message, and a panic becomes `EVE_ERR_INTERNAL` instead of unwinding into C.
pub(crate) fn run(body: impl FnOnce() -> Outcome) -> EveStatus {
    // AssertUnwindSafe: after a panic nothing of the body's state is used again; the
    // handle tables it may have touched stay consistent because they only change in
    // single assignments after every fallible step.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(Ok(())) => EveStatus::EVE_OK,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            set_last_error(&format!("internal error in eve: {what}"));
            EveStatus::EVE_ERR_INTERNAL
        }
    }
}

/// The message of the last error on the calling thread: a NUL-terminated UTF-8 string, empty
/// if no eve call on this thread has failed yet. The pointer stays valid until the next eve
/// call on the same thread; copy the text to keep it.
#[no_mangle]
pub extern "C" fn eve_last_error_message() -> *const c_char {
    LAST_ERROR
        .try_with(|last| last.borrow().as_ptr())
        .unwrap_or(c"".as_ptr())
}

/// The name of a status code (for example `"EVE_ERR_CORRUPT"`), as a static NUL-terminated
/// string; `"EVE_UNKNOWN_STATUS"` for a value that is not a status.
#[no_mangle]
pub extern "C" fn eve_status_name(status: i32) -> *const c_char {
    let name: &'static std::ffi::CStr = match status {
        0 => c"EVE_OK",
        1 => c"EVE_ERR_INVALID_ARGUMENT",
        2 => c"EVE_ERR_NULL_POINTER",
        3 => c"EVE_ERR_IO",
        4 => c"EVE_ERR_NOT_A_SLAB",
        5 => c"EVE_ERR_VERSION",
        6 => c"EVE_ERR_CORRUPT",
        7 => c"EVE_ERR_FULL",
        8 => c"EVE_ERR_BUSY",
        9 => c"EVE_ERR_NOT_FOUND",
        10 => c"EVE_ERR_READ_ONLY",
        11 => c"EVE_ERR_WRONG_KIND",
        12 => c"EVE_ERR_EXHAUSTED",
        13 => c"EVE_ERR_INTERNAL",
        _ => c"EVE_UNKNOWN_STATUS",
    };
    name.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn text(ptr: *const c_char) -> String {
        // SAFETY: eve returns valid NUL-terminated strings (tested here).
        unsafe { CStr::from_ptr(ptr) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn errors_are_per_thread_and_panics_become_statuses() {
        assert_eq!(text(eve_last_error_message()), "");
        let status = run(|| Err(Error::new(ErrorKind::Corrupt, "block 64 is damaged").into()));
        assert_eq!(status, EveStatus::EVE_ERR_CORRUPT);
        assert_eq!(text(eve_last_error_message()), "block 64 is damaged");
        std::thread::spawn(|| assert_eq!(text(eve_last_error_message()), ""))
            .join()
            .unwrap();
        let status = run(|| panic!("boom"));
        assert_eq!(status, EveStatus::EVE_ERR_INTERNAL);
        assert!(text(eve_last_error_message()).contains("boom"));
    }

    #[test]
    fn every_status_has_its_own_name() {
        for code in 0..=13 {
            let name = text(eve_status_name(code));
            assert!(name.starts_with("EVE_"), "{code}: {name}");
            assert_ne!(name, "EVE_UNKNOWN_STATUS");
        }
        assert_eq!(
            text(eve_status_name(EveStatus::EVE_ERR_BUSY as i32)),
            "EVE_ERR_BUSY"
        );
        assert_eq!(text(eve_status_name(99)), "EVE_UNKNOWN_STATUS");
        assert_eq!(text(eve_status_name(-1)), "EVE_UNKNOWN_STATUS");
    }
}

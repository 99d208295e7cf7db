//! Checking what C hands us: pointers, lengths, strings and the structs shared with the
//! header. Every raw pointer an entry point receives passes through here first.

use super::error::Failure;
use super::EveStatus;
use std::ffi::{c_char, CStr};

/// A byte string passed in or handed out: `data` points at `len` bytes. Values handed out
/// by lookups point into the slab itself (zero copy); `data` is NULL when a lookup found
/// nothing.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct eve_bytes {
    pub data: *const u8,
    pub len: usize,
}

impl eve_bytes {
    pub(crate) const ABSENT: eve_bytes = eve_bytes {
        data: std::ptr::null(),
        len: 0,
    };

    pub(crate) fn of(bytes: &[u8]) -> eve_bytes {
        eve_bytes {
            data: bytes.as_ptr(),
            len: bytes.len(),
        }
    }
}

fn null(what: &str) -> Failure {
    Failure::new(
        EveStatus::EVE_ERR_NULL_POINTER,
        format!("{what} must not be NULL"),
    )
}

/// The `len` bytes at `data`. NULL is accepted for an empty string.
///
/// # Safety
/// The caller of the entry point promises that a non-NULL `data` points at `len` readable
/// bytes that stay unchanged for the duration of the call (the header says so).
pub(crate) unsafe fn bytes<'a>(
    data: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if data.is_null() {
        return Err(null(what));
    }
    if len > isize::MAX as usize {
        return Err(Failure::invalid(format!(
            "{what}: length {len} is larger than any object can be"
        )));
    }
    // SAFETY: non-NULL, length in range, and readable for `len` bytes by the caller's
    // contract above.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// An `eve_bytes` argument as a slice.
///
/// # Safety
/// As for [`bytes`].
pub(crate) unsafe fn view<'a>(b: &eve_bytes, what: &str) -> Result<&'a [u8], Failure> {
    // SAFETY: forwarded contract.
    unsafe { bytes(b.data, b.len, what) }
}

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
/// A non-NULL `text` points at a NUL-terminated string (the header's contract).
pub(crate) unsafe fn text<'a>(text: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if text.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let c = unsafe { CStr::from_ptr(text) };
    c.to_str()
        .map_err(|_| Failure::invalid(format!("{what} is not valid UTF-8")))
}

/// An input struct passed by pointer; `None` when NULL (callers pick a default).
///
/// # Safety
/// A non-NULL `ptr` points at a readable, initialised `T` (the header's contract).
pub(crate) unsafe fn input<'a, T>(ptr: *const T, what: &str) -> Result<Option<&'a T>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    if !ptr.is_aligned() {
        return Err(Failure::invalid(format!("{what} is not aligned")));
    }
    // SAFETY: non-NULL, aligned, and readable by the caller's contract.
    Ok(Some(unsafe { &*ptr }))
}

/// An array argument of `count` items; NULL is accepted when `count` is 0.
///
/// # Safety
/// A non-NULL `ptr` points at `count` readable, initialised items.
pub(crate) unsafe fn array<'a, T>(
    ptr: *const T,
    count: usize,
    what: &str,
) -> Result<&'a [T], Failure> {
    if count == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(null(what));
    }
    if !ptr.is_aligned()
        || count
            .checked_mul(size_of::<T>())
            .is_none_or(|n| n > isize::MAX as usize)
    {
        return Err(Failure::invalid(format!(
            "{what}: {count} items at a misaligned or impossible address"
        )));
    }
    // SAFETY: non-NULL, aligned, size in range, readable by the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, count) })
}

/// Where an entry point writes a result.
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    /// Checks an output pointer before the call does any work, so a bad pointer cannot
    /// turn a completed operation into a lost result.
    pub(crate) fn new(ptr: *mut T, what: &str) -> Result<Out<T>, Failure> {
        if ptr.is_null() {
            return Err(null(what));
        }
        if !ptr.is_aligned() {
            return Err(Failure::invalid(format!("{what} is not aligned")));
        }
        Ok(Out(ptr))
    }

    /// An output that may be NULL when the caller does not want it.
    pub(crate) fn optional(ptr: *mut T, what: &str) -> Result<Option<Out<T>>, Failure> {
        if ptr.is_null() {
            Ok(None)
        } else {
            Out::new(ptr, what).map(Some)
        }
    }

    pub(crate) fn write(&self, value: T) {
        // SAFETY: checked non-NULL and aligned in `new`; the caller promises it points at
        // writable memory for a `T` (the header's contract). `write` does not read or drop
        // whatever was there, which may be uninitialised.
        unsafe { self.0.write(value) }
    }
}

/// An output array of `capacity` items.
pub(crate) struct OutArray<T> {
    ptr: *mut T,
    capacity: usize,
}

impl<T> OutArray<T> {
    pub(crate) fn new(ptr: *mut T, capacity: usize, what: &str) -> Result<OutArray<T>, Failure> {
        if capacity > 0 {
            Out::new(ptr, what)?;
        }
        if capacity
            .checked_mul(size_of::<T>())
            .is_none_or(|n| n > isize::MAX as usize)
        {
            return Err(Failure::invalid(format!(
                "{what}: capacity {capacity} is impossible"
            )));
        }
        Ok(OutArray { ptr, capacity })
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn write(&self, at: usize, value: T) {
        assert!(at < self.capacity, "output index {at} out of bounds");
        // SAFETY: `at` is within the capacity the caller gave for this non-NULL, aligned
        // array, which it promises is writable.
        unsafe { self.ptr.add(at).write(value) }
    }
}

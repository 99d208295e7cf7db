//! Text handed back to C (EDN values, tempid maps, entities, agents' error messages): kept
//! in this thread's buffers and valid until the next eve call on the thread, so callers
//! free nothing.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

/// A buffer of its own for each text one call hands out at once (an agent's record has a
/// result and an error).
#[derive(Clone, Copy)]
pub(super) enum Slot {
    First = 0,
    Second = 1,
}

thread_local! {
    static TEXTS: RefCell<[CString; 2]> = RefCell::new([CString::default(), CString::default()]);
}

/// Keeps `text` in `slot` of this thread's buffers and returns a pointer to it. NUL bytes,
/// which a C string cannot hold, are left out.
pub(super) fn hand_out(slot: Slot, text: &str) -> *const c_char {
    let text = CString::new(text.replace('\0', "")).unwrap_or_default();
    TEXTS
        .try_with(|texts| {
            let mut texts = texts.borrow_mut();
            texts[slot as usize] = text;
            texts[slot as usize].as_ptr()
        })
        .unwrap_or(c"".as_ptr())
}

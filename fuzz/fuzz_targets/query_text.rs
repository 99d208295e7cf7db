//! Any text given as a Datalog query (and as its inputs) is parsed to a query or refused
//! with an error; the EDN reader and the query parser never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = eve::query::parse(text);
});

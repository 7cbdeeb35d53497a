//! Fuzz target: `StreamRedactor` over any split gives `redact`'s result and leaves no
//! registered secret in the output. Run with `cargo +nightly fuzz run stream_redactor`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common/stream_redactor.rs"]
mod property;

fuzz_target!(|data: &[u8]| property::check_stream_redactor(data));

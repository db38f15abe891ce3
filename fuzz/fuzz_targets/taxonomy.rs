//! Bytes → the taxonomy parser and validator (`Taxonomy::parse`).
#![no_main]

use libfuzzer_sys::fuzz_target;

mod check;

fuzz_target!(|data: &[u8]| {
    check::taxonomy(data);
});

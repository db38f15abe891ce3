//! Bytes → the streaming reader, JSON Lines path (buffered from a reader). The first byte picks the
//! options (see `check::options`); bit 6 leaves the format to detection.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verbatim::input::InputFormat;

mod check;

fuzz_target!(|data: &[u8]| {
    check::ingest(data, InputFormat::Jsonl);
});

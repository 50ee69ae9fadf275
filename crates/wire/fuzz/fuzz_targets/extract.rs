//! Fuzz target: any bytes as a frame through flow-key extraction, the
//! header views and reprs, the checksum helpers, and (after control
//! bytes) through a sequence of rewrites; every invariant is checked by
//! `vnet_wire::fuzzing::extract_target`, which `tests/fuzz_corpus.rs`
//! also runs on stable.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vnet_wire::fuzzing::extract_target(data));

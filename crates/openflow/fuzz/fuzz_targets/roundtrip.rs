//! Fuzz target: decode → encode → decode, byte-exact up to padding, and
//! the switch-model translations both ways
//! (`vnet_openflow_fuzz::roundtrip`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vnet_openflow_fuzz::roundtrip(data));

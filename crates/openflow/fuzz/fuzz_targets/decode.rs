//! Fuzz target: any bytes through the framing and the decoder; whatever
//! decodes must re-encode to a message that decodes the same, and its
//! translation to the switch model must not panic
//! (`vnet_openflow_fuzz::decode`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vnet_openflow_fuzz::decode(data));

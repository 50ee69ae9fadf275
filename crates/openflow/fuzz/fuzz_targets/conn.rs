//! Fuzz target: the connection state machine fed a byte stream in chunks
//! with an advancing clock (`vnet_openflow_fuzz::conn`): chunking changes
//! nothing, every reply decodes, nothing panics or grows unbounded.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vnet_openflow_fuzz::conn(data));

//! Packet formats for vnet: bytes only — no I/O, no unsafe, and no
//! allocation on the fast path.
//!
//! - [`flow`]: the [`FlowKey`] every switch lookup is keyed by.
#![forbid(unsafe_code)]

pub mod flow;

pub use flow::FlowKey;

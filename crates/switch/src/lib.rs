//! vnet's userspace switch (the Open vSwitch role).
//!
//! - [`frame`]: frame buffers with headroom and offload (virtio_net_hdr) state.
//! - [`port`]: how frames enter and leave (AF_PACKET, TAP, in-memory).
//! - [`learning`]: the bounded, ageing MAC table behind NORMAL.
//! - [`control`]: the daemon's JSON-lines control protocol.
//! - [`group`], [`meter`]: OpenFlow groups and meters (their tables live in
//!   the [`pipeline`], their execution in the [`datapath`]).
#![forbid(unsafe_code)]

pub mod classifier;
pub mod control;
pub mod datapath;
pub mod flow;
pub mod frame;
pub mod group;
pub mod learning;
pub mod meter;
pub mod ofctl;
pub mod pipeline;
pub mod port;
pub mod rules;
pub mod runtime;

//! vnet labs: a declarative file turned into a running virtual network.
//!
//! - [`load`]: the lab file — parsing, validation with file:line:column
//!   errors, naming, automatic addressing and routes — into a [`lab::Lab`].
//! - [`plan`]: the difference between the lab as last applied and the file.
//! - [`apply`]: carrying a plan out against the kernel, rolling back on failure.
//! - [`state`]: `/run/vnet/LAB/` — lock, applied lab, journal of namespaces.
//! - [`pingall`]: all-pairs reachability over ICMP sockets in the namespaces.
//! - [`graph`]: the topology as Graphviz DOT or Mermaid.
//!
//! This crate never touches the root namespace's interfaces, addresses or
//! routes: every object of a lab lives in a namespace the lab owns.
#![forbid(unsafe_code)]

pub mod apply;
pub mod graph;
pub mod lab;
pub mod load;
pub mod observe;
pub mod pingall;
pub mod plan;
pub mod state;

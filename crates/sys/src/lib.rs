//! The kernel boundary of vnet: everything that talks to Linux lives here.
//!
//! - [`netlink`]: a synchronous rtnetlink client — links (veth, bridge,
//!   vxlan, macvlan), addresses, routes, neighbours, bridge FDB.
//! - [`netns`]: named network namespaces compatible with `ip netns`, a guard
//!   that switches the current thread, and commands run inside a namespace.
//! - [`tuntap`]: TUN and TAP devices through `/dev/net/tun`.
//! - [`probe`]: runtime kernel feature probes.
//!
//! This is the only crate of the workspace allowed to use `unsafe`; each
//! block says why it is sound in a `// SAFETY:` comment. Raw descriptors are
//! wrapped into owned types as soon as they exist.

pub mod error;
pub mod icmp;
pub mod netlink;
pub mod netns;
pub mod packet;
pub mod probe;
pub mod tuntap;

pub use error::{Errno, NetlinkError};
pub use netlink::Netlink;
pub use netns::{Netns, NetnsError, NetnsGuard};

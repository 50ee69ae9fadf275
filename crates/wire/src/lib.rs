//! Packet formats for vnet: bytes only — no I/O, no unsafe, and no
//! allocation on the fast path.
//!
//! The crate is organised in three levels, smoltcp style:
//!
//! 1. **Views and reprs**, one module per header: a `…Packet<T: AsRef<[u8]>>`
//!    (or `…Frame`) view reads and writes fields in place at fixed offsets;
//!    once its `check_len` has passed, no accessor panics. A plain `…Repr`
//!    struct has `parse` (from a view) and `emit` (into a view).
//!    [`eth`], [`vlan`], [`arp`], [`ipv4`], [`ipv6`] (+ [`ipv6ext`]),
//!    [`tcp`], [`udp`], [`sctp`], [`icmpv4`], [`icmpv6`] (with neighbour
//!    discovery options), [`mpls`].
//! 2. **The flow key**: [`extract()`] fills a [`FlowKey`] from a frame in one
//!    pass, never panics and never allocates, and returns the [`Layout`]
//!    (header offsets) so that actions don't parse again.
//! 3. **Actions on frames**: [`rewrite`] changes a frame in place (VLAN and
//!    MPLS push/pop, set-field, TTL) with incremental checksum updates
//!    ([`checksum`]), including frames whose transport checksum is left to
//!    offload (`csum_partial`).
//!
//! [`build`] makes complete, correctly checksummed frames for tests.
//!
//! What this crate must never do: perform I/O, allocate in [`extract()`] or
//! in the fixed-size rewrites, or panic on any input bytes.
#![forbid(unsafe_code)]

pub mod arp;
pub mod build;
pub mod checksum;
pub mod eth;
pub mod extract;
pub mod flow;
#[doc(hidden)]
pub mod fuzzing;
pub mod icmpv4;
pub mod icmpv6;
pub mod ipv4;
pub mod ipv6;
pub mod ipv6ext;
pub mod mpls;
pub mod pcap;
pub mod rewrite;
pub mod sctp;
pub mod tcp;
pub mod udp;
pub mod vlan;

mod field;

pub use arp::{ArpPacket, ArpRepr};
pub use eth::{EthernetFrame, EthernetRepr, Mac};
pub use extract::{extract, L3Kind, L4Kind, Layout};
pub use flow::FlowKey;
pub use icmpv4::{Icmpv4Packet, Icmpv4Repr};
pub use icmpv6::{Icmpv6Packet, Icmpv6Repr, NdOption};
pub use ipv4::{Ipv4Packet, Ipv4Repr};
pub use ipv6::{Ipv6Packet, Ipv6Repr};
pub use mpls::MplsLse;
pub use rewrite::RewriteError;
pub use sctp::{SctpPacket, SctpRepr};
pub use tcp::{TcpPacket, TcpRepr};
pub use udp::{UdpPacket, UdpRepr};
pub use vlan::{VlanRepr, VlanTag};

/// Why a view or repr could not be made from a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The buffer ends before the header (or a length it declares) does.
    Truncated,
    /// A field holds a value the format does not allow (a version, a header
    /// length shorter than the fixed header, ...).
    Malformed,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated packet",
            Error::Malformed => "malformed packet",
        })
    }
}

impl std::error::Error for Error {}

/// `Result` with this crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

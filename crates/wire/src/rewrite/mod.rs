//! In-place actions on frames: VLAN push/pop, OpenFlow set-field on
//! Ethernet, VLAN, ARP, IPv4, IPv6, TCP, UDP, SCTP, ICMP and neighbour
//! discovery fields, and TTL changes — each keeping every checksum right
//! without recomputing it over the payload.
//!
//! MPLS push/pop/TTL actions are in the same place ([`push_mpls`], ...),
//! and so are PBB's ([`push_pbb`], [`pop_pbb`], [`set_pbb_isid`]). The
//! actions that change a frame's length in the middle (MPLS and PBB push
//! and pop) work on any [`Resize`] buffer: a `Vec<u8>`, or the switch's
//! frame buffers with headroom. [`gso_segment`] cuts a TCP/UDP
//! super-frame (GSO) into complete frames where the kernel cannot, e.g.
//! behind a pushed MPLS label stack or PBB encapsulation.
//!
//! Every operation takes the [`Layout`] that [`crate::extract()`] returned
//! for the frame (operations that move headers update it), checks that the
//! header it changes is there (else [`RewriteError`], frame untouched) and
//! never panics, even given a layout that does not belong to the frame.
//! Only [`push_vlan`] may allocate (when the `Vec` has no spare capacity).
//!
//! ## Checksums
//!
//! - IPv4 header checksum: RFC 1624 incremental update for every IPv4
//!   header change.
//! - TCP, UDP, ICMPv6: incremental update for changes of the covered bytes
//!   (ports, ICMP type/code, ND target and options) and of the
//!   pseudo-header (IP addresses). A UDP checksum of 0 ("none") stays 0; an
//!   updated UDP checksum that comes out 0 is written 0xffff. ICMPv4 has no
//!   pseudo-header, so only its own fields count; an ICMPv4 message that
//!   becomes all zeros gets 0xffff, as from scratch (an incremental update
//!   alone would give 0x0000).
//! - SCTP: CRC32c recomputed over the packet when a port changes (the
//!   packet must not be a fragment); addresses are not covered.
//!
//! ## `csum_partial`: frames with offloaded transport checksums
//!
//! A frame received with checksum offload (Linux `CHECKSUM_PARTIAL`; virtio
//! / `PACKET_VNET_HDR` flag `NEEDS_CSUM` with `csum_start`/`csum_offset`)
//! carries in its transport checksum field the folded ones'-complement
//! **sum of the pseudo-header only, not complemented**; whoever transmits
//! it (NIC, kernel, or [`crate::checksum::complete_partial`]) sums from
//! `csum_start` to the end with that value in place and stores the
//! complement. For such frames pass `csum_partial = true`:
//!
//! - an address change adjusts the field as `field - old + new`
//!   (ones'-complement, not complemented; Linux `inet_proto_csum_replace4`
//!   with `pseudohdr`), including UDP fields that happen to be 0;
//! - a port or ICMP/ND change leaves the field alone: those bytes are
//!   summed at completion time;
//! - SCTP's CRC32c is left to the offload (Linux `csum_not_inet`).
//!
//! The IPv4 header checksum is never offloaded and is always updated.
//! [`push_vlan`] and [`pop_vlan`] move every header after the MAC
//! addresses by 4 bytes: the caller moves `csum_start` by the same amount.

mod gso;
mod l2;
mod l3;
mod l4;
mod mpls;
mod pbb;
mod resize;

pub use l2::{pop_vlan, push_vlan, set_eth_dst, set_eth_src, set_vlan_pcp, set_vlan_vid};
pub use l3::{
    dec_ttl, set_arp_op, set_arp_sha, set_arp_spa, set_arp_tha, set_arp_tpa, set_ip_dscp,
    set_ip_ecn, set_ip_ttl, set_ipv4_dst, set_ipv4_src, set_ipv6_dst, set_ipv6_flabel,
    set_ipv6_src,
};
pub use l4::{
    set_icmp_code, set_icmp_type, set_nd_sll, set_nd_target, set_nd_tll, set_tp_dst, set_tp_src,
};

pub use gso::{gso_segment, GsoKind};
pub use mpls::{
    copy_ttl_in, copy_ttl_out, dec_mpls_ttl, pop_mpls, push_mpls, set_mpls_bos, set_mpls_label,
    set_mpls_tc, set_mpls_ttl,
};
pub use pbb::{pop_pbb, push_pbb, set_pbb_isid, PBB_ENCAP_LEN};
pub use resize::Resize;

use crate::checksum;
use crate::extract::{L3Kind, L4Kind, Layout};
use l3::ipv4_set_byte;

/// Why an action could not be applied; the frame is left unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RewriteError {
    /// The frame is shorter than the header the action changes (or the
    /// layout does not belong to the frame).
    Truncated,
    /// Push with a TPID other than 0x8100 or 0x88a8.
    BadTpid(u16),
    /// MPLS push with an ethertype other than 0x8847 or 0x8848.
    BadEthertype(u16),
    /// PBB push with an ethertype other than 0x88e7.
    BadPbbEthertype(u16),
    /// The frame has no PBB I-TAG (with the customer addresses after it).
    NotPbb,
    /// The frame has no MPLS label stack.
    NotMpls,
    /// The frame has no VLAN tag to change or pop.
    NoVlan,
    /// The frame is not IPv4 (for an IPv4-only field).
    NotIpv4,
    /// The frame is not IPv6 (for an IPv6-only field).
    NotIpv6,
    /// The frame is neither IPv4 nor IPv6.
    NotIp,
    /// The frame is not an Ethernet/IPv4 ARP packet.
    NotArp,
    /// No TCP, UDP or SCTP header (other protocol, or a later fragment).
    NoPorts,
    /// No ICMP/ICMPv6 header.
    NotIcmp,
    /// Not an ICMPv6 neighbour solicitation/advertisement, or it lacks the
    /// link-layer address option to change.
    NotNd,
    /// An SCTP port change on a fragment: the CRC32c covers the whole
    /// packet and cannot be recomputed from one fragment.
    SctpFragment,
}

impl core::fmt::Display for RewriteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RewriteError::Truncated => f.write_str("rewrite: frame too short for the header"),
            RewriteError::BadTpid(t) => {
                write!(f, "push_vlan: TPID {t:#06x} is not 0x8100 or 0x88a8")
            }
            RewriteError::BadEthertype(t) => {
                write!(f, "push_mpls: ethertype {t:#06x} is not 0x8847 or 0x8848")
            }
            RewriteError::BadPbbEthertype(t) => {
                write!(f, "push_pbb: ethertype {t:#06x} is not 0x88e7")
            }
            RewriteError::NotMpls => f.write_str("rewrite: frame has no MPLS label stack"),
            RewriteError::NotPbb => f.write_str("rewrite: frame has no PBB I-TAG"),
            RewriteError::NoVlan => f.write_str("rewrite: frame has no VLAN tag"),
            RewriteError::NotIpv4 => f.write_str("rewrite: frame is not IPv4"),
            RewriteError::NotIpv6 => f.write_str("rewrite: frame is not IPv6"),
            RewriteError::NotIp => f.write_str("rewrite: frame is not IP"),
            RewriteError::NotArp => f.write_str("rewrite: frame is not Ethernet/IPv4 ARP"),
            RewriteError::NoPorts => f.write_str("rewrite: frame has no TCP, UDP or SCTP header"),
            RewriteError::NotIcmp => f.write_str("rewrite: frame has no ICMP header"),
            RewriteError::NotNd => {
                f.write_str("rewrite: frame is not a neighbour solicitation/advertisement")
            }
            RewriteError::SctpFragment => f.write_str("rewrite: SCTP port change on a fragment"),
        }
    }
}

impl std::error::Error for RewriteError {}

/// Outcome of [`dec_ttl`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum DecTtl {
    /// The TTL / hop limit was decremented.
    Decremented,
    /// The TTL / hop limit was already 0 or 1; the frame is unchanged and
    /// the caller drops it or sends it to the controller
    /// (`OFPR_INVALID_TTL`).
    Expired,
}

type Result<T> = core::result::Result<T, RewriteError>;

/// Ok when `frame[at..at + len]` exists.
#[inline]
fn need(frame: &[u8], at: usize, len: usize) -> Result<()> {
    match at.checked_add(len) {
        Some(end) if end <= frame.len() => Ok(()),
        _ => Err(RewriteError::Truncated),
    }
}

#[inline]
fn rd16(frame: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([frame[at], frame[at + 1]])
}

#[inline]
fn wr16(frame: &mut [u8], at: usize, v: u16) {
    frame[at..at + 2].copy_from_slice(&v.to_be_bytes())
}

/// Offset of the IPv4 header, checked to fit.
fn ipv4_at(frame: &[u8], lay: &Layout) -> Result<usize> {
    match (lay.l3_kind, lay.l3) {
        (L3Kind::Ipv4, Some(at)) => need(frame, at, crate::ipv4::MIN_HEADER_LEN).map(|_| at),
        _ => Err(RewriteError::NotIpv4),
    }
}

/// Offset of the IPv6 header, checked to fit.
fn ipv6_at(frame: &[u8], lay: &Layout) -> Result<usize> {
    match (lay.l3_kind, lay.l3) {
        (L3Kind::Ipv6, Some(at)) => need(frame, at, crate::ipv6::HEADER_LEN).map(|_| at),
        _ => Err(RewriteError::NotIpv6),
    }
}

/// The transport checksum field: its offset in the frame and whether it
/// follows UDP's zero rule. `None` when the L4 header has no Internet
/// checksum (SCTP) or is not there.
fn l4_csum_field(frame: &[u8], lay: &Layout) -> Option<(usize, bool)> {
    let l4 = lay.l4?;
    let (off, udp) = match lay.l4_kind {
        L4Kind::Tcp => (crate::tcp::CHECKSUM_OFFSET, false),
        L4Kind::Udp => (crate::udp::CHECKSUM_OFFSET, true),
        L4Kind::Icmpv4 => (crate::icmpv4::CHECKSUM_OFFSET, false),
        L4Kind::Icmpv6 => (crate::icmpv6::CHECKSUM_OFFSET, false),
        L4Kind::Sctp | L4Kind::None => return None,
    };
    let at = l4.checked_add(off)?;
    need(frame, at, 2).ok()?;
    Some((at, udp))
}

/// Full-checksum update of the field at `at` for covered bytes `old` →
/// `new`, with UDP's zero rule.
fn apply_update(frame: &mut [u8], at: usize, udp: bool, old: &[u8], new: &[u8]) {
    let c = rd16(frame, at);
    if udp && c == 0 {
        return;
    }
    let n = checksum::update(c, old, new);
    wr16(frame, at, if udp && n == 0 { 0xffff } else { n });
}

/// Transport checksum update for a pseudo-header change `old` → `new`
/// (IP addresses). ICMPv4 has no pseudo-header.
fn update_pseudo(frame: &mut [u8], lay: &Layout, old: &[u8], new: &[u8], csum_partial: bool) {
    if lay.l4_kind == L4Kind::Icmpv4 {
        return;
    }
    let Some((at, udp)) = l4_csum_field(frame, lay) else {
        return;
    };
    if csum_partial {
        let c = rd16(frame, at);
        wr16(frame, at, checksum::update_partial(c, old, new));
    } else {
        apply_update(frame, at, udp, old, new);
    }
}

/// Transport checksum update for a change of bytes the checksum covers
/// directly (ports, ICMP fields): nothing to do when the checksum is
/// offloaded.
fn update_covered(frame: &mut [u8], lay: &Layout, old: &[u8], new: &[u8], csum_partial: bool) {
    if csum_partial {
        return;
    }
    if let Some((at, udp)) = l4_csum_field(frame, lay) {
        apply_update(frame, at, udp, old, new);
        if lay.l4_kind == L4Kind::Icmpv4 && rd16(frame, at) == 0 {
            icmpv4_zero_message(frame, lay, at);
        }
    }
}

/// An incremental update cannot tell a message whose sum is 0xffff from
/// one that is all zeros (sum 0): both give checksum 0x0000, which is
/// wrong for the second (its checksum is 0xffff, and a receiver summing
/// zeros with a 0x0000 checksum rejects it). Only ICMPv4 can be all zeros
/// (the other checksums cover a pseudo-header with a non-zero protocol),
/// and only a zero result needs the look.
fn icmpv4_zero_message(frame: &mut [u8], lay: &Layout, at: usize) {
    let Some(msg) = lay
        .l4
        .and_then(|l4| frame.get(l4..lay.end.min(frame.len())))
    else {
        return;
    };
    if msg.iter().all(|&b| b == 0) {
        wr16(frame, at, 0xffff);
    }
}

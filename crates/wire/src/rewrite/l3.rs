//! Network-layer actions: IPv4 and IPv6 set-field, TTL, and ARP fields.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{ipv4_at, ipv6_at, need, rd16, update_pseudo, wr16, DecTtl, Result, RewriteError};
use crate::checksum;
use crate::eth::Mac;
use crate::extract::{L3Kind, Layout};
use crate::ipv4::offset as v4;
use crate::ipv6::{offset as v6, FLOW_LABEL_MASK};

/// Sets the IPv4 source address; updates the IPv4 header checksum and the
/// TCP/UDP pseudo-header part of the transport checksum (see the module
/// doc for `csum_partial`).
pub fn set_ipv4_src(
    frame: &mut [u8],
    layout: &Layout,
    addr: Ipv4Addr,
    csum_partial: bool,
) -> Result<()> {
    set_ipv4_addr(frame, layout, v4::SRC, addr, csum_partial)
}

/// Sets the IPv4 destination address, like [`set_ipv4_src`].
pub fn set_ipv4_dst(
    frame: &mut [u8],
    layout: &Layout,
    addr: Ipv4Addr,
    csum_partial: bool,
) -> Result<()> {
    set_ipv4_addr(frame, layout, v4::DST, addr, csum_partial)
}

fn set_ipv4_addr(
    frame: &mut [u8],
    layout: &Layout,
    field: usize,
    addr: Ipv4Addr,
    partial: bool,
) -> Result<()> {
    let ip = ipv4_at(frame, layout)?;
    let at = ip + field;
    let mut old = [0u8; 4];
    old.copy_from_slice(&frame[at..at + 4]);
    let new = addr.octets();
    frame[at..at + 4].copy_from_slice(&new);
    ipv4_header_update(frame, ip, &old, &new);
    update_pseudo(frame, layout, &old, &new, partial);
    Ok(())
}

fn ipv4_header_update(frame: &mut [u8], ip: usize, old: &[u8], new: &[u8]) {
    let c = rd16(frame, ip + v4::CHECKSUM);
    wr16(frame, ip + v4::CHECKSUM, checksum::update(c, old, new));
}

/// Changes the IPv4 byte at header offset `byte` (which shares a 16-bit
/// word with its neighbour) and updates the header checksum.
pub(super) fn ipv4_set_byte(frame: &mut [u8], ip: usize, byte: usize, v: u8) {
    let w = ip + (byte & !1);
    let old = [frame[w], frame[w + 1]];
    frame[ip + byte] = v;
    let new = [frame[w], frame[w + 1]];
    ipv4_header_update(frame, ip, &old, &new);
}

/// Sets the 6-bit DSCP (IPv4 TOS / IPv6 traffic class, ECN kept).
pub fn set_ip_dscp(frame: &mut [u8], layout: &Layout, dscp: u8) -> Result<()> {
    set_tos_bits(frame, layout, 0xfc, (dscp & 0x3f) << 2)
}

/// Sets the 2-bit ECN (IPv4 TOS / IPv6 traffic class, DSCP kept).
pub fn set_ip_ecn(frame: &mut [u8], layout: &Layout, ecn: u8) -> Result<()> {
    set_tos_bits(frame, layout, 0x03, ecn & 3)
}

fn set_tos_bits(frame: &mut [u8], layout: &Layout, mask: u8, bits: u8) -> Result<()> {
    match layout.l3_kind {
        L3Kind::Ipv4 => {
            let ip = ipv4_at(frame, layout)?;
            let tos = frame[ip + v4::TOS] & !mask | bits;
            ipv4_set_byte(frame, ip, v4::TOS, tos);
            Ok(())
        }
        L3Kind::Ipv6 => {
            let ip = ipv6_at(frame, layout)?;
            let w = u32::from_be_bytes([frame[ip], frame[ip + 1], frame[ip + 2], frame[ip + 3]]);
            let tc = (w >> 20) as u8 & !mask | bits;
            let w = w & 0xf00f_ffff | (tc as u32) << 20;
            frame[ip..ip + 4].copy_from_slice(&w.to_be_bytes());
            Ok(())
        }
        _ => Err(RewriteError::NotIp),
    }
}

/// Sets the IPv4 TTL or the IPv6 hop limit.
pub fn set_ip_ttl(frame: &mut [u8], layout: &Layout, ttl: u8) -> Result<()> {
    match layout.l3_kind {
        L3Kind::Ipv4 => {
            let ip = ipv4_at(frame, layout)?;
            ipv4_set_byte(frame, ip, v4::TTL, ttl);
            Ok(())
        }
        L3Kind::Ipv6 => {
            let ip = ipv6_at(frame, layout)?;
            frame[ip + v6::HOP_LIMIT] = ttl;
            Ok(())
        }
        _ => Err(RewriteError::NotIp),
    }
}

/// Decrements the IPv4 TTL or the IPv6 hop limit (OpenFlow `DEC_NW_TTL`).
/// When it is already ≤ 1 the frame is left unchanged and
/// [`DecTtl::Expired`] is returned, as Open vSwitch does.
pub fn dec_ttl(frame: &mut [u8], layout: &Layout) -> Result<DecTtl> {
    let (ip, at) = match layout.l3_kind {
        L3Kind::Ipv4 => (ipv4_at(frame, layout)?, v4::TTL),
        L3Kind::Ipv6 => (ipv6_at(frame, layout)?, v6::HOP_LIMIT),
        _ => return Err(RewriteError::NotIp),
    };
    let ttl = frame[ip + at];
    if ttl <= 1 {
        return Ok(DecTtl::Expired);
    }
    if layout.l3_kind == L3Kind::Ipv4 {
        ipv4_set_byte(frame, ip, at, ttl - 1);
    } else {
        frame[ip + at] = ttl - 1;
    }
    Ok(DecTtl::Decremented)
}

/// Sets the IPv6 source address; updates the TCP/UDP/ICMPv6 checksum's
/// pseudo-header part (see the module doc for `csum_partial`).
pub fn set_ipv6_src(
    frame: &mut [u8],
    layout: &Layout,
    addr: Ipv6Addr,
    csum_partial: bool,
) -> Result<()> {
    set_ipv6_addr(frame, layout, v6::SRC, addr, csum_partial)
}

/// Sets the IPv6 destination address, like [`set_ipv6_src`]; with a
/// routing header still to be followed ([`Layout::routed`]) the transport
/// pseudo-header does not contain this address and is left alone.
pub fn set_ipv6_dst(
    frame: &mut [u8],
    layout: &Layout,
    addr: Ipv6Addr,
    csum_partial: bool,
) -> Result<()> {
    set_ipv6_addr(frame, layout, v6::DST, addr, csum_partial)
}

fn set_ipv6_addr(
    frame: &mut [u8],
    layout: &Layout,
    field: usize,
    addr: Ipv6Addr,
    partial: bool,
) -> Result<()> {
    let ip = ipv6_at(frame, layout)?;
    let at = ip + field;
    let mut old = [0u8; 16];
    old.copy_from_slice(&frame[at..at + 16]);
    let new = addr.octets();
    frame[at..at + 16].copy_from_slice(&new);
    if !(field == v6::DST && layout.routed) {
        update_pseudo(frame, layout, &old, &new, partial);
    }
    Ok(())
}

/// Sets the 20-bit IPv6 flow label (no checksum covers it).
pub fn set_ipv6_flabel(frame: &mut [u8], layout: &Layout, label: u32) -> Result<()> {
    let ip = ipv6_at(frame, layout)?;
    let w = u32::from_be_bytes([frame[ip], frame[ip + 1], frame[ip + 2], frame[ip + 3]]);
    let w = w & !FLOW_LABEL_MASK | (label & FLOW_LABEL_MASK);
    frame[ip..ip + 4].copy_from_slice(&w.to_be_bytes());
    Ok(())
}

fn arp_at(frame: &[u8], layout: &Layout) -> Result<usize> {
    match (layout.l3_kind, layout.l3) {
        (L3Kind::Arp, Some(at)) => need(frame, at, crate::arp::PACKET_LEN).map(|_| at),
        _ => Err(RewriteError::NotArp),
    }
}

/// Sets the ARP operation code.
pub fn set_arp_op(frame: &mut [u8], layout: &Layout, op: u16) -> Result<()> {
    let a = arp_at(frame, layout)?;
    wr16(frame, a + 6, op);
    Ok(())
}

/// Sets the ARP sender hardware address.
pub fn set_arp_sha(frame: &mut [u8], layout: &Layout, mac: Mac) -> Result<()> {
    let a = arp_at(frame, layout)?;
    frame[a + 8..a + 14].copy_from_slice(&mac);
    Ok(())
}

/// Sets the ARP sender protocol address.
pub fn set_arp_spa(frame: &mut [u8], layout: &Layout, addr: Ipv4Addr) -> Result<()> {
    let a = arp_at(frame, layout)?;
    frame[a + 14..a + 18].copy_from_slice(&addr.octets());
    Ok(())
}

/// Sets the ARP target hardware address.
pub fn set_arp_tha(frame: &mut [u8], layout: &Layout, mac: Mac) -> Result<()> {
    let a = arp_at(frame, layout)?;
    frame[a + 18..a + 24].copy_from_slice(&mac);
    Ok(())
}

/// Sets the ARP target protocol address.
pub fn set_arp_tpa(frame: &mut [u8], layout: &Layout, addr: Ipv4Addr) -> Result<()> {
    let a = arp_at(frame, layout)?;
    frame[a + 24..a + 28].copy_from_slice(&addr.octets());
    Ok(())
}

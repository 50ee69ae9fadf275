//! Transport-layer actions: TCP/UDP/SCTP ports, ICMP type and code, and
//! the neighbour discovery target and link-layer address options.

use std::net::Ipv6Addr;

use super::{need, update_covered, Result, RewriteError};
use crate::eth::Mac;
use crate::extract::{L4Kind, Layout};
use crate::icmpv6::{is_ns_or_na, nd_opt, ND_LEN, ND_TARGET_OFFSET};
use crate::sctp;

/// Sets the TCP, UDP or SCTP source port. TCP/UDP checksums are updated
/// incrementally (nothing to do with `csum_partial`); the SCTP CRC32c is
/// recomputed unless `csum_partial` (then it is the offload's job).
pub fn set_tp_src(frame: &mut [u8], layout: &Layout, port: u16, csum_partial: bool) -> Result<()> {
    set_port(frame, layout, 0, port, csum_partial)
}

/// Sets the TCP, UDP or SCTP destination port, like [`set_tp_src`].
pub fn set_tp_dst(frame: &mut [u8], layout: &Layout, port: u16, csum_partial: bool) -> Result<()> {
    set_port(frame, layout, 2, port, csum_partial)
}

fn set_port(
    frame: &mut [u8],
    layout: &Layout,
    field: usize,
    port: u16,
    partial: bool,
) -> Result<()> {
    let l4 = layout.l4.ok_or(RewriteError::NoPorts)?;
    let new = port.to_be_bytes();
    match layout.l4_kind {
        L4Kind::Tcp | L4Kind::Udp => {
            let min = if layout.l4_kind == L4Kind::Tcp {
                crate::tcp::MIN_HEADER_LEN
            } else {
                crate::udp::HEADER_LEN
            };
            need(frame, l4, min)?;
            let at = l4 + field;
            let old = [frame[at], frame[at + 1]];
            frame[at..at + 2].copy_from_slice(&new);
            update_covered(frame, layout, &old, &new, partial);
            Ok(())
        }
        L4Kind::Sctp => {
            let end = layout.end.min(frame.len());
            if end < l4 || end - l4 < sctp::HEADER_LEN {
                return Err(RewriteError::Truncated);
            }
            if !partial && layout.fragment {
                return Err(RewriteError::SctpFragment);
            }
            frame[l4 + field..l4 + field + 2].copy_from_slice(&new);
            if !partial {
                sctp::SctpPacket::new_unchecked(&mut frame[l4..end]).fill_checksum();
            }
            Ok(())
        }
        _ => Err(RewriteError::NoPorts),
    }
}

fn icmp_at(frame: &[u8], layout: &Layout) -> Result<usize> {
    match (layout.l4_kind, layout.l4) {
        (L4Kind::Icmpv4 | L4Kind::Icmpv6, Some(at)) => need(frame, at, 4).map(|_| at),
        _ => Err(RewriteError::NotIcmp),
    }
}

/// Sets the ICMPv4/ICMPv6 type, updating the checksum.
pub fn set_icmp_type(
    frame: &mut [u8],
    layout: &Layout,
    msg_type: u8,
    csum_partial: bool,
) -> Result<()> {
    set_icmp_byte(frame, layout, 0, msg_type, csum_partial)
}

/// Sets the ICMPv4/ICMPv6 code, updating the checksum.
pub fn set_icmp_code(
    frame: &mut [u8],
    layout: &Layout,
    code: u8,
    csum_partial: bool,
) -> Result<()> {
    set_icmp_byte(frame, layout, 1, code, csum_partial)
}

fn set_icmp_byte(
    frame: &mut [u8],
    layout: &Layout,
    byte: usize,
    v: u8,
    partial: bool,
) -> Result<()> {
    let at = icmp_at(frame, layout)?;
    let old = [frame[at], frame[at + 1]];
    frame[at + byte] = v;
    let new = [frame[at], frame[at + 1]];
    update_covered(frame, layout, &old, &new, partial);
    Ok(())
}

/// Offset of an NS/NA message, checked to hold the target.
fn nd_at(frame: &[u8], layout: &Layout) -> Result<usize> {
    let at = match (layout.l4_kind, layout.l4) {
        (L4Kind::Icmpv6, Some(at)) => at,
        _ => return Err(RewriteError::NotNd),
    };
    need(frame, at, ND_LEN).map_err(|_| RewriteError::NotNd)?;
    if !is_ns_or_na(frame[at]) || frame[at + 1] != 0 {
        return Err(RewriteError::NotNd);
    }
    Ok(at)
}

/// Sets the NS/NA target address, updating the ICMPv6 checksum.
pub fn set_nd_target(
    frame: &mut [u8],
    layout: &Layout,
    target: Ipv6Addr,
    csum_partial: bool,
) -> Result<()> {
    let at = nd_at(frame, layout)? + ND_TARGET_OFFSET;
    let mut old = [0u8; 16];
    old.copy_from_slice(&frame[at..at + 16]);
    let new = target.octets();
    frame[at..at + 16].copy_from_slice(&new);
    update_covered(frame, layout, &old, &new, csum_partial);
    Ok(())
}

/// Sets the address in the NS/NA source link-layer address option, which
/// must be present (options are not added), updating the ICMPv6 checksum.
pub fn set_nd_sll(frame: &mut [u8], layout: &Layout, mac: Mac, csum_partial: bool) -> Result<()> {
    set_nd_lladdr(frame, layout, nd_opt::SOURCE_LLADDR, mac, csum_partial)
}

/// Sets the address in the NS/NA target link-layer address option, like
/// [`set_nd_sll`].
pub fn set_nd_tll(frame: &mut [u8], layout: &Layout, mac: Mac, csum_partial: bool) -> Result<()> {
    set_nd_lladdr(frame, layout, nd_opt::TARGET_LLADDR, mac, csum_partial)
}

fn set_nd_lladdr(
    frame: &mut [u8],
    layout: &Layout,
    kind: u8,
    mac: Mac,
    partial: bool,
) -> Result<()> {
    let nd = nd_at(frame, layout)?;
    let end = layout.end.min(frame.len());
    let mut o = nd + ND_LEN;
    // Options are 8-byte aligned, so the address (at +2) starts at an even
    // offset of the message, as the incremental update requires.
    while o + 2 <= end {
        let len = frame[o + 1] as usize * 8;
        if len == 0 || o + len > end {
            break;
        }
        if frame[o] == kind && len == 8 {
            let at = o + 2;
            let mut old = [0u8; 6];
            old.copy_from_slice(&frame[at..at + 6]);
            frame[at..at + 6].copy_from_slice(&mac);
            update_covered(frame, layout, &old, &mac, partial);
            return Ok(());
        }
        o += len;
    }
    Err(RewriteError::NotNd)
}

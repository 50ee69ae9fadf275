//! MPLS actions (OpenFlow 1.3 PUSH_MPLS, POP_MPLS, SET_FIELD on
//! MPLS_LABEL/MPLS_TC/MPLS_BOS, SET_MPLS_TTL, DEC_MPLS_TTL,
//! COPY_TTL_OUT/IN).
//!
//! The label stack starts at [`Layout::l2_len`] (after Ethernet and VLAN
//! tags: OpenFlow 1.3 pushes MPLS inside VLAN tags), and the ethertype that
//! announces it is the two bytes before. Push and pop keep the link-layer
//! part of the layout and re-derive the rest as [`crate::extract()`] would
//! (no allocation): after a push the IP header is
//! inside the label stack and no longer an L3 header of the frame, so IP
//! set-field actions fail until a pop makes it visible again, as OpenFlow's
//! prerequisites require.

use super::{ipv4_set_byte, need, DecTtl, Resize, Result, RewriteError};
use crate::eth::ethertype;
use crate::extract::{network, L3Kind, Layout};
use crate::flow::FlowKey;
use crate::mpls::{MplsLse, LSE_LEN};

fn is_mpls(t: u16) -> bool {
    t == ethertype::MPLS || t == ethertype::MPLS_MCAST
}

/// Offset of the ethertype field announcing the payload at `l2_len`.
fn ethertype_at(frame: &[u8], layout: &Layout) -> Result<usize> {
    let at = layout
        .l2_len
        .checked_sub(2)
        .filter(|&a| a >= 12)
        .ok_or(RewriteError::Truncated)?;
    need(frame, at, 2)?;
    Ok(at)
}

fn read_et(frame: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([frame[at], frame[at + 1]])
}

/// Offset of the outermost label stack entry, checked to be MPLS and fit.
fn top_at(frame: &[u8], layout: &Layout) -> Result<usize> {
    let et = ethertype_at(frame, layout)?;
    if !is_mpls(read_et(frame, et)) {
        return Err(RewriteError::NotMpls);
    }
    need(frame, layout.l2_len, LSE_LEN)?;
    Ok(layout.l2_len)
}

fn read_lse(frame: &[u8], at: usize) -> MplsLse {
    MplsLse(u32::from_be_bytes([
        frame[at],
        frame[at + 1],
        frame[at + 2],
        frame[at + 3],
    ]))
}

/// Re-derives everything after the link-layer headers (which an MPLS push
/// or pop does not move) for the payload type now at `l2_len - 2`.
fn relayout(frame: &[u8], layout: &mut Layout, et_at: usize) {
    let mut lay = Layout {
        l2_len: layout.l2_len,
        vlans: layout.vlans,
        end: frame.len(),
        ..Layout::default()
    };
    let mut scratch = FlowKey::default();
    network(
        frame,
        lay.l2_len,
        read_et(frame, et_at),
        &mut scratch,
        &mut lay,
    );
    *layout = lay;
}

/// The TTL of an IP packet at `at`, if one is there.
fn ip_ttl(frame: &[u8], at: usize) -> Option<(usize, bool)> {
    match frame.get(at)? >> 4 {
        4 if frame.len() >= at + 20 => Some((at + 8, true)),
        6 if frame.len() >= at + 40 => Some((at + 7, false)),
        _ => None,
    }
}

/// Pushes an MPLS label stack entry with ethertype 0x8847 or 0x8848.
///
/// Onto an existing stack the new entry copies label, TC and TTL of the
/// old top (bottom-of-stack clear). Otherwise it has label 0, TC 0,
/// bottom-of-stack set, and the TTL of the IPv4/IPv6 packet it
/// encapsulates (64 for other payloads, as Open vSwitch does).
pub fn push_mpls<B: Resize + ?Sized>(
    buf: &mut B,
    layout: &mut Layout,
    mpls_type: u16,
) -> Result<()> {
    if !is_mpls(mpls_type) {
        return Err(RewriteError::BadEthertype(mpls_type));
    }
    let frame = buf.bytes();
    let et_at = ethertype_at(frame, layout)?;
    let at = layout.l2_len;
    need(frame, at, 0)?;
    let lse = if is_mpls(read_et(frame, et_at)) {
        need(frame, at, LSE_LEN)?;
        let top = read_lse(frame, at);
        MplsLse::new(top.label(), top.tc(), false, top.ttl())
    } else {
        // The TTL of the IPv4/IPv6 packet the ethertype announces (as
        // extracted into the layout), not of any payload that merely
        // starts with a 4 or 6 nibble.
        let ip = matches!(layout.l3_kind, L3Kind::Ipv4 | L3Kind::Ipv6) && layout.l3 == Some(at);
        let ttl = if ip {
            ip_ttl(frame, at).map_or(64, |(t, _)| frame[t])
        } else {
            64
        };
        MplsLse::new(0, 0, true, ttl)
    };
    buf.insert_gap(at, LSE_LEN);
    let frame = buf.bytes_mut();
    lse.emit(&mut frame[at..]);
    frame[et_at..et_at + 2].copy_from_slice(&mpls_type.to_be_bytes());
    relayout(frame, layout, et_at);
    Ok(())
}

/// Pops the outermost label stack entry; `ethertype` becomes the
/// ethertype of what follows (an MPLS type when more entries remain).
///
/// The ethertype is written as given, whether or not the popped entry was
/// the bottom of the stack (OpenFlow leaves that to the controller: after
/// popping a non-bottom entry it should name an MPLS ethertype); the
/// entries below keep their own bottom-of-stack bits.
pub fn pop_mpls<B: Resize + ?Sized>(
    buf: &mut B,
    layout: &mut Layout,
    ethertype: u16,
) -> Result<()> {
    let at = top_at(buf.bytes(), layout)?;
    let et_at = at - 2;
    buf.remove_range(at, LSE_LEN);
    let frame = buf.bytes_mut();
    frame[et_at..et_at + 2].copy_from_slice(&ethertype.to_be_bytes());
    relayout(frame, layout, et_at);
    Ok(())
}

fn modify_top(frame: &mut [u8], layout: &Layout, f: impl FnOnce(MplsLse) -> MplsLse) -> Result<()> {
    let at = top_at(frame, layout)?;
    let lse = f(read_lse(frame, at));
    lse.emit(&mut frame[at..]);
    Ok(())
}

/// Sets the label (20 bits) of the outermost entry.
pub fn set_mpls_label(frame: &mut [u8], layout: &Layout, label: u32) -> Result<()> {
    modify_top(frame, layout, |l| l.with_label(label))
}

/// Sets the traffic class (3 bits) of the outermost entry.
pub fn set_mpls_tc(frame: &mut [u8], layout: &Layout, tc: u8) -> Result<()> {
    modify_top(frame, layout, |l| l.with_tc(tc))
}

/// Sets the bottom-of-stack bit of the outermost entry (`bos` 0 or 1;
/// other bits ignored). What follows the entry is not changed: a wrong
/// bit makes the stack end somewhere else, as the controller asked.
pub fn set_mpls_bos(frame: &mut [u8], layout: &Layout, bos: u8) -> Result<()> {
    modify_top(frame, layout, |l| {
        MplsLse(l.0 & !0x100 | (u32::from(bos & 1) << 8))
    })
}

/// Sets the TTL of the outermost entry.
pub fn set_mpls_ttl(frame: &mut [u8], layout: &Layout, ttl: u8) -> Result<()> {
    modify_top(frame, layout, |l| l.with_ttl(ttl))
}

/// Decrements the TTL of the outermost entry; at ≤ 1 the frame is left
/// unchanged and [`DecTtl::Expired`] returned.
pub fn dec_mpls_ttl(frame: &mut [u8], layout: &Layout) -> Result<DecTtl> {
    let at = top_at(frame, layout)?;
    let lse = read_lse(frame, at);
    if lse.ttl() <= 1 {
        return Ok(DecTtl::Expired);
    }
    lse.with_ttl(lse.ttl() - 1).emit(&mut frame[at..]);
    Ok(DecTtl::Decremented)
}

/// Where the TTL below the outermost entry lives: the next entry, or the
/// IP header after the bottom of the stack.
enum Inner {
    Lse(usize),
    Ip { ttl_at: usize, ip: usize, v4: bool },
}

fn inner(frame: &[u8], top: usize) -> Result<Inner> {
    let next = top + LSE_LEN;
    if !read_lse(frame, top).bos() {
        need(frame, next, LSE_LEN)?;
        return Ok(Inner::Lse(next));
    }
    match ip_ttl(frame, next) {
        Some((ttl_at, v4)) => Ok(Inner::Ip {
            ttl_at,
            ip: next,
            v4,
        }),
        None => Err(RewriteError::NotIp),
    }
}

/// COPY_TTL_OUT: copies the TTL of the next-to-outermost entry, or of the
/// IP header under the bottom of the stack, into the outermost entry.
pub fn copy_ttl_out(frame: &mut [u8], layout: &Layout) -> Result<()> {
    let top = top_at(frame, layout)?;
    let ttl = match inner(frame, top)? {
        Inner::Lse(at) => read_lse(frame, at).ttl(),
        Inner::Ip { ttl_at, .. } => frame[ttl_at],
    };
    set_mpls_ttl(frame, layout, ttl)
}

/// COPY_TTL_IN: copies the outermost entry's TTL into the next entry, or
/// into the IP header under the bottom of the stack (IPv4 header checksum
/// updated).
pub fn copy_ttl_in(frame: &mut [u8], layout: &Layout) -> Result<()> {
    let top = top_at(frame, layout)?;
    let ttl = read_lse(frame, top).ttl();
    match inner(frame, top)? {
        Inner::Lse(at) => read_lse(frame, at).with_ttl(ttl).emit(&mut frame[at..]),
        Inner::Ip { ip, v4: true, .. } => ipv4_set_byte(frame, ip, crate::ipv4::offset::TTL, ttl),
        Inner::Ip { ttl_at, .. } => frame[ttl_at] = ttl,
    }
    Ok(())
}

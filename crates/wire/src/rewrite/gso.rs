//! Software segmentation of GSO super-frames (a TCP segment or UDP datagram
//! larger than the link, handed over with a virtio_net_hdr saying how to
//! cut it), for when the kernel cannot do it on transmit: the switch
//! pushed an MPLS label stack or a PBB encapsulation in front of the IP
//! header (Linux segments MPLS only for its own tunnels and PBB never),
//! or the frame leaves through a port without vnet headers.
//!
//! Each piece is a complete frame: the headers copied, then at most
//! `gso_size` payload bytes; IPv4 total length, identification (+1 per
//! piece) and header checksum, or the IPv6 payload length; TCP sequence
//! number, FIN/PSH only on the last piece and CWR only on the first, as
//! Linux's `tcp_gso_segment` does; UDP length; and the transport checksum
//! computed in full (so no offload is left pending).

use super::{need, rd16, wr16, Result, RewriteError};
use crate::checksum;

/// What kind of super-frame (`gso_type` of the virtio_net_hdr, ECN bit
/// cleared).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GsoKind {
    /// VIRTIO_NET_HDR_GSO_TCPV4 (1).
    Tcp4,
    /// VIRTIO_NET_HDR_GSO_TCPV6 (4).
    Tcp6,
    /// VIRTIO_NET_HDR_GSO_UDP_L4 (5): one UDP datagram per piece.
    UdpL4,
}

impl GsoKind {
    /// The kind for a virtio `gso_type` byte, if it is one of these.
    pub fn from_virtio(gso_type: u8) -> Option<GsoKind> {
        match gso_type & 0x7f {
            1 => Some(GsoKind::Tcp4),
            4 => Some(GsoKind::Tcp6),
            5 => Some(GsoKind::UdpL4),
            _ => None,
        }
    }
}

/// Where the IP header in front of the transport header at `l4` starts:
/// after the Ethernet addresses, any VLAN tags, a PBB encapsulation and
/// an MPLS label stack (its payload's version nibble tells IPv4 from
/// IPv6). `(offset, is_ipv4)`.
fn ip_header(frame: &[u8], l4: usize) -> Result<(usize, bool)> {
    let mut at = 12;
    for _ in 0..16 {
        need(frame, at, 2)?;
        let ip = at + 2;
        match rd16(frame, at) {
            0x8100 | 0x88a8 => at += 4,
            0x88e7 => at += 2 + 4 + 12,
            0x0800 => return Ok((ip, true)),
            0x86dd => return Ok((ip, false)),
            0x8847 | 0x8848 => {
                let mut l = ip;
                loop {
                    need(frame, l, 4)?;
                    let bos = frame[l + 2] & 1 != 0;
                    l += 4;
                    if bos || l >= l4 {
                        break;
                    }
                }
                need(frame, l, 1)?;
                return match frame[l] >> 4 {
                    4 => Ok((l, true)),
                    6 => Ok((l, false)),
                    _ => Err(RewriteError::NotIp),
                };
            }
            _ => return Err(RewriteError::NotIp),
        }
    }
    Err(RewriteError::NotIp)
}

/// Cuts the super-frame `frame` (transport header at `l4`, the virtio
/// `csum_start`) into pieces of at most `size` payload bytes, calling
/// `emit` with each complete frame in order. Errors (nothing emitted) when
/// the headers are not where the kind says.
pub fn gso_segment(
    frame: &[u8],
    kind: GsoKind,
    l4: usize,
    size: usize,
    mut emit: impl FnMut(&[u8]),
) -> Result<()> {
    let (ip, v4) = ip_header(frame, l4)?;
    let tcp = kind != GsoKind::UdpL4;
    if v4 != (kind == GsoKind::Tcp4) && tcp {
        return Err(RewriteError::NotIp);
    }
    let ip_end = if v4 {
        need(frame, ip, crate::ipv4::MIN_HEADER_LEN)?;
        ip + usize::from(frame[ip] & 0x0f) * 4
    } else {
        need(frame, ip, crate::ipv6::HEADER_LEN)?;
        ip + crate::ipv6::HEADER_LEN
    };
    if l4 < ip_end || size == 0 {
        return Err(RewriteError::Truncated);
    }
    let thl = if tcp {
        need(frame, l4, crate::tcp::MIN_HEADER_LEN)?;
        usize::from(frame[l4 + 12] >> 4) * 4
    } else {
        crate::udp::HEADER_LEN
    };
    let hdr = l4 + thl;
    need(frame, hdr, 0)?;
    let payload = &frame[hdr..];
    let n = payload.len().div_ceil(size).max(1);
    let ident = if v4 { rd16(frame, ip + 4) } else { 0 };
    let seq = if tcp {
        u32::from_be_bytes([frame[l4 + 4], frame[l4 + 5], frame[l4 + 6], frame[l4 + 7]])
    } else {
        0
    };
    let proto = if tcp { 6 } else { 17 };
    let mut buf = Vec::with_capacity(hdr + size);
    for (k, chunk) in payload
        .chunks(size)
        .chain(payload.is_empty().then_some(&[][..]))
        .enumerate()
    {
        buf.clear();
        buf.extend_from_slice(&frame[..hdr]);
        buf.extend_from_slice(chunk);
        let seg_len = buf.len() - l4;
        let total = buf.len();
        if v4 {
            wr16(&mut buf, ip + 2, (total - ip) as u16);
            wr16(&mut buf, ip + 4, ident.wrapping_add(k as u16));
            wr16(&mut buf, ip + 10, 0);
            let c = checksum::checksum(&buf[ip..ip_end]);
            wr16(&mut buf, ip + 10, c);
        } else {
            wr16(&mut buf, ip + 4, (total - ip - 40) as u16);
        }
        let csum_at = if tcp {
            let s = seq.wrapping_add((k * size) as u32);
            buf[l4 + 4..l4 + 8].copy_from_slice(&s.to_be_bytes());
            let mut flags = buf[l4 + 13];
            if k + 1 < n {
                flags &= !(0x01 | 0x08); // FIN, PSH
            }
            if k > 0 {
                flags &= !0x80; // CWR
            }
            buf[l4 + 13] = flags;
            l4 + crate::tcp::CHECKSUM_OFFSET
        } else {
            wr16(&mut buf, l4 + 4, seg_len as u16);
            l4 + crate::udp::CHECKSUM_OFFSET
        };
        wr16(&mut buf, csum_at, 0);
        let pseudo = if v4 {
            let a = |o: usize| [buf[o], buf[o + 1], buf[o + 2], buf[o + 3]];
            checksum::pseudo_v4(a(ip + 12), a(ip + 16), proto, seg_len as u16)
        } else {
            let mut src = [0u8; 16];
            let mut dst = [0u8; 16];
            src.copy_from_slice(&buf[ip + 8..ip + 24]);
            dst.copy_from_slice(&buf[ip + 24..ip + 40]);
            checksum::pseudo_v6(&src, &dst, proto, seg_len as u32)
        };
        let mut c = checksum::finish(pseudo, &buf[l4..]);
        if !tcp && c == 0 {
            c = 0xffff;
        }
        wr16(&mut buf, csum_at, c);
        emit(&buf);
    }
    Ok(())
}

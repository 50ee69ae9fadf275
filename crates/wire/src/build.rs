//! Complete frames for tests — of this crate, the switch and the labs —
//! with every length and checksum right. Builders allocate; they are not
//! for the fast path.
//!
//! `vlan: Some(tci)` adds one 802.1Q tag with that TCI (a plain VLAN ID is
//! a TCI with priority 0). IPv4 headers have TTL 64, ident 0, DF set;
//! IPv6 headers hop limit 64, traffic class 0, flow label 0.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::arp::{op, ArpPacket, ArpRepr};
use crate::checksum;
use crate::eth::{ethertype, EthernetFrame, EthernetRepr, Mac};
use crate::extract::{extract, L3Kind, L4Kind};
use crate::flow::FlowKey;
use crate::icmpv4::{Icmpv4Packet, Icmpv4Repr};
use crate::icmpv6::{msg_type, Icmpv6Packet, Icmpv6Repr, NdRepr};
use crate::ipv4::{proto, Ipv4Packet, Ipv4Repr};
use crate::ipv6::{Ipv6Packet, Ipv6Repr};
use crate::mpls::MplsLse;
use crate::sctp::{SctpPacket, SctpRepr};
use crate::tcp::{TcpPacket, TcpRepr};
use crate::udp::{UdpPacket, UdpRepr};
use crate::vlan::{VlanRepr, VlanTag};

/// The broadcast MAC address.
pub const BROADCAST: Mac = [0xff; 6];

/// Sequence number of segments from [`tcp4`] / [`tcp6`].
pub const TCP_SEQ: u32 = 0x0102_0304;
/// Acknowledgement number of segments from [`tcp4`] / [`tcp6`] with ACK set
/// (0 otherwise).
pub const TCP_ACK: u32 = 0x0a0b_0c0d;
/// Window of segments from [`tcp4`] / [`tcp6`].
pub const TCP_WINDOW: u16 = 0xfaf0;

/// Ethernet header (+ optional tag) followed by `body`.
pub fn ethernet(src: Mac, dst: Mac, vlan: Option<u16>, ethertype: u16, body: &[u8]) -> Vec<u8> {
    let hl = 14 + if vlan.is_some() { 4 } else { 0 };
    let mut f = vec![0u8; hl + body.len()];
    let outer = if vlan.is_some() {
        ethertype::VLAN
    } else {
        ethertype
    };
    EthernetRepr {
        src,
        dst,
        ethertype: outer,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut f[..]));
    if let Some(tci) = vlan {
        let r = VlanRepr {
            pcp: (tci >> 13) as u8,
            dei: tci & 0x1000 != 0,
            vid: tci & 0xfff,
            ethertype,
        };
        r.emit(&mut VlanTag::new_unchecked(&mut f[14..18]));
    }
    f[hl..].copy_from_slice(body);
    f
}

/// An IPv4 frame carrying the transport bytes `l4` (checksums already in
/// place).
pub fn ipv4(
    src_mac: Mac,
    dst_mac: Mac,
    vlan: Option<u16>,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    l4: &[u8],
) -> Vec<u8> {
    let r = Ipv4Repr {
        src,
        dst,
        protocol,
        payload_len: l4.len(),
        ttl: 64,
        tos: 0,
        ident: 0,
        dont_frag: true,
    };
    let mut ip = vec![0u8; 20 + l4.len()];
    r.emit(&mut Ipv4Packet::new_unchecked(&mut ip[..]));
    ip[20..].copy_from_slice(l4);
    ethernet(src_mac, dst_mac, vlan, ethertype::IPV4, &ip)
}

/// An IPv6 frame carrying the transport bytes `l4` with next header
/// `next_header`.
pub fn ipv6(
    src_mac: Mac,
    dst_mac: Mac,
    vlan: Option<u16>,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next_header: u8,
    l4: &[u8],
) -> Vec<u8> {
    let r = Ipv6Repr {
        src,
        dst,
        next_header,
        payload_len: l4.len(),
        hop_limit: 64,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut ip = vec![0u8; 40 + l4.len()];
    r.emit(&mut Ipv6Packet::new_unchecked(&mut ip[..]));
    ip[40..].copy_from_slice(l4);
    ethernet(src_mac, dst_mac, vlan, ethertype::IPV6, &ip)
}

fn ph4(src: Ipv4Addr, dst: Ipv4Addr, p: u8, len: usize) -> u16 {
    checksum::pseudo_v4(src.octets(), dst.octets(), p, len as u16)
}

fn ph6(src: Ipv6Addr, dst: Ipv6Addr, p: u8, len: usize) -> u16 {
    checksum::pseudo_v6(&src.octets(), &dst.octets(), p, len as u32)
}

fn udp_segment(sport: u16, dport: u16, payload: &[u8], pseudo: impl Fn(usize) -> u16) -> Vec<u8> {
    let mut b = vec![0u8; 8 + payload.len()];
    let mut p = UdpPacket::new_unchecked(&mut b[..]);
    UdpRepr {
        src_port: sport,
        dst_port: dport,
        payload_len: payload.len(),
    }
    .emit(&mut p);
    p.payload_mut().copy_from_slice(payload);
    p.fill_checksum(pseudo(8 + payload.len()));
    b
}

fn tcp_segment(
    sport: u16,
    dport: u16,
    flags: u16,
    payload: &[u8],
    pseudo: impl Fn(usize) -> u16,
) -> Vec<u8> {
    let mut b = vec![0u8; 20 + payload.len()];
    let mut p = TcpPacket::new_unchecked(&mut b[..]);
    let ack = if flags & crate::tcp::flags::ACK != 0 {
        TCP_ACK
    } else {
        0
    };
    TcpRepr {
        src_port: sport,
        dst_port: dport,
        seq: TCP_SEQ,
        ack,
        flags,
        window: TCP_WINDOW,
    }
    .emit(&mut p);
    p.payload_mut().copy_from_slice(payload);
    p.fill_checksum(pseudo(20 + payload.len()));
    b
}

/// UDP over IPv4.
#[allow(clippy::too_many_arguments)]
pub fn udp4(
    src_mac: Mac,
    dst_mac: Mac,
    vlan: Option<u16>,
    src_ip: Ipv4Addr,
    dst_ip: Ipv4Addr,
    sport: u16,
    dport: u16,
    payload: &[u8],
) -> Vec<u8> {
    let l4 = udp_segment(sport, dport, payload, |n| {
        ph4(src_ip, dst_ip, proto::UDP, n)
    });
    ipv4(src_mac, dst_mac, vlan, src_ip, dst_ip, proto::UDP, &l4)
}

/// TCP over IPv4 with the given flags ([`crate::tcp::flags`]), sequence
/// number [`TCP_SEQ`], acknowledgement [`TCP_ACK`] when ACK is set.
#[allow(clippy::too_many_arguments)]
pub fn tcp4(
    src_mac: Mac,
    dst_mac: Mac,
    vlan: Option<u16>,
    src_ip: Ipv4Addr,
    dst_ip: Ipv4Addr,
    sport: u16,
    dport: u16,
    flags: u16,
    payload: &[u8],
) -> Vec<u8> {
    let l4 = tcp_segment(sport, dport, flags, payload, |n| {
        ph4(src_ip, dst_ip, proto::TCP, n)
    });
    ipv4(src_mac, dst_mac, vlan, src_ip, dst_ip, proto::TCP, &l4)
}

/// SCTP over IPv4; `chunks` follow the common header (verification tag
/// 0x11223344).
#[allow(clippy::too_many_arguments)]
pub fn sctp4(
    src_mac: Mac,
    dst_mac: Mac,
    vlan: Option<u16>,
    src_ip: Ipv4Addr,
    dst_ip: Ipv4Addr,
    sport: u16,
    dport: u16,
    chunks: &[u8],
) -> Vec<u8> {
    let mut b = vec![0u8; 12 + chunks.len()];
    let mut p = SctpPacket::new_unchecked(&mut b[..]);
    SctpRepr {
        src_port: sport,
        dst_port: dport,
        verification_tag: 0x1122_3344,
    }
    .emit(&mut p);
    p.payload_mut().copy_from_slice(chunks);
    p.fill_checksum();
    ipv4(src_mac, dst_mac, vlan, src_ip, dst_ip, proto::SCTP, &b)
}

/// ICMPv4 echo request (`request`) or reply.
#[allow(clippy::too_many_arguments)]
pub fn icmp4_echo(
    src_mac: Mac,
    dst_mac: Mac,
    vlan: Option<u16>,
    src_ip: Ipv4Addr,
    dst_ip: Ipv4Addr,
    request: bool,
    ident: u16,
    seq: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut b = vec![0u8; 8 + payload.len()];
    let mut p = Icmpv4Packet::new_unchecked(&mut b[..]);
    let r = if request {
        Icmpv4Repr::echo_request(ident, seq)
    } else {
        Icmpv4Repr::echo_reply(ident, seq)
    };
    r.emit(&mut p);
    p.payload_mut().copy_from_slice(payload);
    p.fill_checksum();
    ipv4(src_mac, dst_mac, vlan, src_ip, dst_ip, proto::ICMP, &b)
}

fn arp(src_mac: Mac, dst_mac: Mac, vlan: Option<u16>, r: ArpRepr) -> Vec<u8> {
    let mut b = [0u8; 28];
    r.emit(&mut ArpPacket::new_unchecked(&mut b[..]));
    ethernet(src_mac, dst_mac, vlan, ethertype::ARP, &b)
}

/// ARP request from `sha`/`spa` for `tpa`, broadcast.
pub fn arp_request(sha: Mac, vlan: Option<u16>, spa: Ipv4Addr, tpa: Ipv4Addr) -> Vec<u8> {
    let r = ArpRepr {
        op: op::REQUEST,
        sha,
        spa: spa.octets(),
        tha: [0; 6],
        tpa: tpa.octets(),
    };
    arp(sha, BROADCAST, vlan, r)
}

/// ARP reply: `sha` has `spa`, sent to `tha`/`tpa`.
pub fn arp_reply(sha: Mac, tha: Mac, vlan: Option<u16>, spa: Ipv4Addr, tpa: Ipv4Addr) -> Vec<u8> {
    let r = ArpRepr {
        op: op::REPLY,
        sha,
        spa: spa.octets(),
        tha,
        tpa: tpa.octets(),
    };
    arp(sha, tha, vlan, r)
}

/// UDP over IPv6.
#[allow(clippy::too_many_arguments)]
pub fn udp6(
    src_mac: Mac,
    dst_mac: Mac,
    vlan: Option<u16>,
    src_ip: Ipv6Addr,
    dst_ip: Ipv6Addr,
    sport: u16,
    dport: u16,
    payload: &[u8],
) -> Vec<u8> {
    let l4 = udp_segment(sport, dport, payload, |n| {
        ph6(src_ip, dst_ip, proto::UDP, n)
    });
    ipv6(src_mac, dst_mac, vlan, src_ip, dst_ip, proto::UDP, &l4)
}

/// TCP over IPv6, like [`tcp4`].
#[allow(clippy::too_many_arguments)]
pub fn tcp6(
    src_mac: Mac,
    dst_mac: Mac,
    vlan: Option<u16>,
    src_ip: Ipv6Addr,
    dst_ip: Ipv6Addr,
    sport: u16,
    dport: u16,
    flags: u16,
    payload: &[u8],
) -> Vec<u8> {
    let l4 = tcp_segment(sport, dport, flags, payload, |n| {
        ph6(src_ip, dst_ip, proto::TCP, n)
    });
    ipv6(src_mac, dst_mac, vlan, src_ip, dst_ip, proto::TCP, &l4)
}

/// ICMPv6 message `b` (checksum filled here) in a frame with the given hop
/// limit.
fn icmp6(
    src_mac: Mac,
    dst_mac: Mac,
    vlan: Option<u16>,
    ip: (Ipv6Addr, Ipv6Addr),
    hop_limit: u8,
    mut b: Vec<u8>,
) -> Vec<u8> {
    let n = b.len();
    Icmpv6Packet::new_unchecked(&mut b[..]).fill_checksum(ph6(ip.0, ip.1, proto::ICMPV6, n));
    let mut f = ipv6(src_mac, dst_mac, vlan, ip.0, ip.1, proto::ICMPV6, &b);
    let l3 = f.len() - n - 40;
    f[l3 + 7] = hop_limit;
    f
}

/// ICMPv6 echo request (`request`) or reply.
#[allow(clippy::too_many_arguments)]
pub fn icmp6_echo(
    src_mac: Mac,
    dst_mac: Mac,
    vlan: Option<u16>,
    src_ip: Ipv6Addr,
    dst_ip: Ipv6Addr,
    request: bool,
    ident: u16,
    seq: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut b = vec![0u8; 8 + payload.len()];
    let t = if request {
        msg_type::ECHO_REQUEST
    } else {
        msg_type::ECHO_REPLY
    };
    let mut p = Icmpv6Packet::new_unchecked(&mut b[..]);
    Icmpv6Repr {
        msg_type: t,
        code: 0,
        rest: (ident as u32) << 16 | seq as u32,
    }
    .emit(&mut p);
    p.payload_mut().copy_from_slice(payload);
    icmp6(src_mac, dst_mac, vlan, (src_ip, dst_ip), 64, b)
}

/// Neighbour solicitation for `target`, with a source link-layer address
/// option when `sll` is given. Hop limit 255.
#[allow(clippy::too_many_arguments)]
pub fn icmp6_ns(
    src_mac: Mac,
    dst_mac: Mac,
    vlan: Option<u16>,
    src_ip: Ipv6Addr,
    dst_ip: Ipv6Addr,
    target: Ipv6Addr,
    sll: Option<Mac>,
) -> Vec<u8> {
    let r = NdRepr {
        msg_type: msg_type::NEIGHBOR_SOLICIT,
        flags: 0,
        target,
        lladdr: sll,
    };
    let mut b = vec![0u8; r.buffer_len()];
    r.emit(&mut Icmpv6Packet::new_unchecked(&mut b[..]));
    // Neighbour discovery requires hop limit 255 (RFC 4861 §7.1).
    icmp6(src_mac, dst_mac, vlan, (src_ip, dst_ip), 255, b)
}

/// Neighbour advertisement for `target` with flags
/// ([`crate::icmpv6::na_flags`]) and a target link-layer address option
/// when `tll` is given. Hop limit 255.
#[allow(clippy::too_many_arguments)]
pub fn icmp6_na(
    src_mac: Mac,
    dst_mac: Mac,
    vlan: Option<u16>,
    src_ip: Ipv6Addr,
    dst_ip: Ipv6Addr,
    target: Ipv6Addr,
    flags: u8,
    tll: Option<Mac>,
) -> Vec<u8> {
    let r = NdRepr {
        msg_type: msg_type::NEIGHBOR_ADVERT,
        flags,
        target,
        lladdr: tll,
    };
    let mut b = vec![0u8; r.buffer_len()];
    r.emit(&mut Icmpv6Packet::new_unchecked(&mut b[..]));
    // Neighbour discovery requires hop limit 255 (RFC 4861 §7.1).
    icmp6(src_mac, dst_mac, vlan, (src_ip, dst_ip), 255, b)
}

/// `frame` (from the other builders) with an MPLS label stack between
/// its link-layer headers (Ethernet and VLAN tags) and their payload: the
/// ethertype becomes `mpls_type`, followed by `lses`, outermost first,
/// exactly as given (bottom-of-stack bits included).
pub fn mpls(frame: &[u8], mpls_type: u16, lses: &[MplsLse]) -> Vec<u8> {
    let mut key = FlowKey::default();
    let at = extract(frame, 0, &mut key).l2_len;
    let mut f = frame[..at].to_vec();
    f[at - 2..at].copy_from_slice(&mpls_type.to_be_bytes());
    for l in lses {
        f.extend_from_slice(&l.0.to_be_bytes());
    }
    f.extend_from_slice(&frame[at..]);
    f
}

/// A PBB (802.1ah) frame: backbone addresses, an optional B-TAG (TPID
/// 0x88a8, TCI `b_tag`), ethertype 0x88e7, the I-TAG word `itag` (PCP |
/// DEI | UCA | reserved | I-SID), then `customer`: a whole frame from its
/// destination address on.
pub fn pbb(b_src: Mac, b_dst: Mac, b_tag: Option<u16>, itag: u32, customer: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(22 + customer.len());
    f.extend_from_slice(&b_dst);
    f.extend_from_slice(&b_src);
    if let Some(tci) = b_tag {
        f.extend_from_slice(&ethertype::QINQ.to_be_bytes());
        f.extend_from_slice(&tci.to_be_bytes());
    }
    f.extend_from_slice(&ethertype::PBB.to_be_bytes());
    f.extend_from_slice(&itag.to_be_bytes());
    f.extend_from_slice(customer);
    f
}

/// Turns a frame with a complete TCP/UDP/ICMPv6 checksum into what a
/// sender with checksum offload hands over (`CHECKSUM_PARTIAL`): the field
/// holds the pseudo-header sum, not complemented. Returns `(csum_start,
/// csum_offset)` as a virtio-net header would carry them, or `None` when
/// the frame has no such transport header.
pub fn make_csum_partial(frame: &mut [u8]) -> Option<(usize, usize)> {
    let mut key = FlowKey::default();
    let lay = extract(frame, 0, &mut key);
    let l3 = lay.l3?;
    let l4 = lay.l4?;
    let off = match lay.l4_kind {
        L4Kind::Tcp => crate::tcp::CHECKSUM_OFFSET,
        L4Kind::Udp => crate::udp::CHECKSUM_OFFSET,
        L4Kind::Icmpv6 => crate::icmpv6::CHECKSUM_OFFSET,
        _ => return None,
    };
    let len = lay.end - l4;
    let pseudo = match lay.l3_kind {
        L3Kind::Ipv4 => {
            let ip = Ipv4Packet::new_unchecked(&frame[l3..]);
            ph4(ip.src_addr(), ip.dst_addr(), key.nw_proto, len)
        }
        L3Kind::Ipv6 => {
            let ip = Ipv6Packet::new_unchecked(&frame[l3..]);
            ph6(ip.src_addr(), ip.dst_addr(), key.nw_proto, len)
        }
        _ => return None,
    };
    frame[l4 + off..l4 + off + 2].copy_from_slice(&pseudo.to_be_bytes());
    Some((l4, off))
}

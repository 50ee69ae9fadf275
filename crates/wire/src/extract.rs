//! Flow-key extraction: one pass over a frame, filling a [`FlowKey`] with
//! the conventions documented in [`crate::flow`], and returning the
//! [`Layout`] — where each header starts — so actions never parse again.
//!
//! Guarantees: no allocation, no panic on any input, and no field filled
//! from a header that is not all there. A frame cut short (or garbage) gets
//! every field up to the first header that does not fit; the fields after
//! it stay zero. What counts as "there" per header:
//!
//! | header | needs |
//! |---|---|
//! | Ethernet | 14 bytes (with fewer, only the MAC addresses present) |
//! | VLAN tag | TCI + next ethertype; at most 2 tags are parsed, a 3rd TPID becomes `dl_type` |
//! | 802.3 + LLC/SNAP | the 8-byte LLC/SNAP header with OUI 0, else `dl_type` = 0x05ff |
//! | ARP/RARP | 28 bytes declaring Ethernet/IPv4 |
//! | IPv4 | version 4, IHL ≥ 5, options present; a consistent total length bounds the payload |
//! | IPv6 | version 6, 40 bytes; extension headers walked by [`crate::ipv6ext::walk`] |
//! | TCP | 20 bytes, data offset ≥ 5 (options need not be present) |
//! | UDP / SCTP | 8 / 12 bytes |
//! | ICMPv4 / ICMPv6 | 4 bytes (type, code, checksum); NS/NA target 24 bytes |
//! | MPLS / PBB | 4 bytes (the outermost LSE / the I-TAG) |

use crate::arp::ArpPacket;
use crate::eth::{ethertype, EthernetFrame, NOT_ETH_TYPE};
use crate::field::{array, be16, be32};
use crate::flow::{FlowKey, FRAG_ANY, FRAG_LATER, VLAN_CFI};
use crate::icmpv6::{is_ns_or_na, nd_opt, NdOptions, ND_LEN};
use crate::ipv4::{proto, Ipv4Packet};
use crate::ipv6::{self, Ipv6Packet};
use crate::ipv6ext;
use crate::mpls::ISID_MASK;
use crate::vlan::{self, VlanTag};

/// The network-layer header [`extract`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum L3Kind {
    #[default]
    None,
    Arp,
    Ipv4,
    Ipv6,
}

/// The transport header [`extract`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum L4Kind {
    #[default]
    None,
    Tcp,
    Udp,
    Sctp,
    Icmpv4,
    Icmpv6,
}

/// Where the headers of a frame are, as found by [`extract`] and kept up
/// to date by the [`crate::rewrite`] operations that move them.
///
/// Invariants: `l3.is_some() == (l3_kind != L3Kind::None)`, likewise for
/// `l4`; `l2_len <= l3 <= l4 <= end <= frame.len()` for the frame it was
/// made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Layout {
    /// Length of the link-layer headers: Ethernet, VLAN tags (and LLC/SNAP
    /// for 802.3 frames). The ethertype's payload (IP header, MPLS label
    /// stack, ...) starts here. `frame.len()` for a frame under 14 bytes.
    pub l2_len: usize,
    /// Number of VLAN tags parsed (0..=2); the outer one's TPID is at
    /// offset 12, its TCI at 14.
    pub vlans: u8,
    /// Offset of the IPv4/IPv6/ARP header.
    pub l3: Option<usize>,
    pub l3_kind: L3Kind,
    /// Offset of the TCP/UDP/SCTP/ICMP header (after IPv6 extension
    /// headers). `None` for later fragments.
    pub l4: Option<usize>,
    pub l4_kind: L4Kind,
    /// End of the network-layer packet: the IP total length when
    /// consistent (so Ethernet padding is excluded), else the frame's end.
    pub end: usize,
    /// The IP packet is a fragment (first or later).
    pub fragment: bool,
    /// IPv6 with a routing header whose segments-left is non-zero: the
    /// transport pseudo-header uses the final address in the routing
    /// header, so rewriting the IPv6 destination leaves the transport
    /// checksum alone.
    pub routed: bool,
}

#[inline(always)]
fn tail(frame: &[u8], at: usize) -> &[u8] {
    frame.get(at..).unwrap_or(&[])
}

/// Fills `key` from `frame` received on `in_port` and returns the header
/// layout. `key` is overwritten entirely (`metadata` and `tunnel_id`
/// become 0: set them afterwards if the pipeline has values for them).
pub fn extract(frame: &[u8], in_port: u32, key: &mut FlowKey) -> Layout {
    *key = FlowKey {
        in_port,
        ..FlowKey::default()
    };
    let mut lay = Layout {
        l2_len: frame.len(),
        end: frame.len(),
        ..Layout::default()
    };
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        if frame.len() >= 6 {
            key.dl_dst = array(frame, 0);
        }
        if frame.len() >= 12 {
            key.dl_src = array(frame, 6);
        }
        return lay;
    };
    key.dl_dst = eth.dst();
    key.dl_src = eth.src();

    // `at` is the offset of the ethertype (or TPID) being looked at.
    let mut at = 12;
    let mut et = eth.ethertype();
    while vlan::is_tpid(et) && lay.vlans < 2 {
        let Ok(tag) = VlanTag::new_checked(tail(frame, at + 2)) else {
            break;
        };
        if lay.vlans == 0 {
            key.vlan_tci = tag.tci() | VLAN_CFI;
        }
        lay.vlans += 1;
        et = tag.ethertype();
        at += vlan::TAG_LEN;
    }
    let mut off = at + 2;
    if et < ethertype::MIN {
        match frame.get(off..off + 8) {
            Some(snap) if snap[..6] == [0xaa, 0xaa, 0x03, 0, 0, 0] => {
                et = be16(snap, 6);
                off += 8;
            }
            _ => {
                key.dl_type = NOT_ETH_TYPE;
                lay.l2_len = off;
                return lay;
            }
        }
    }
    key.dl_type = et;
    lay.l2_len = off;
    network(frame, off, et, key, &mut lay);
    lay
}

/// Fills the fields of the ethertype `et`'s payload at `off` (L3 and
/// below). Also used by actions that change the ethertype (MPLS pop).
pub(crate) fn network(frame: &[u8], off: usize, et: u16, key: &mut FlowKey, lay: &mut Layout) {
    match et {
        ethertype::IPV4 => ipv4(frame, off, key, lay),
        ethertype::IPV6 => ipv6(frame, off, key, lay),
        ethertype::ARP | ethertype::RARP => arp(frame, off, key, lay),
        ethertype::MPLS | ethertype::MPLS_MCAST => {
            if let Some(d) = frame.get(off..off + 4) {
                key.mpls_lse = be32(d, 0);
            }
        }
        ethertype::PBB => {
            if let Some(d) = frame.get(off..off + 4) {
                key.pbb_isid = be32(d, 0) & ISID_MASK;
            }
        }
        _ => {}
    }
}

fn arp(frame: &[u8], off: usize, key: &mut FlowKey, lay: &mut Layout) {
    let Ok(a) = ArpPacket::new_checked(tail(frame, off)) else {
        return;
    };
    if !a.is_ethernet_ipv4() {
        return;
    }
    let op = a.op();
    if op <= 0xff {
        key.nw_proto = op as u8;
    }
    key.ipv4_src = u32::from_be_bytes(a.spa());
    key.ipv4_dst = u32::from_be_bytes(a.tpa());
    key.arp_sha = a.sha();
    key.arp_tha = a.tha();
    lay.l3 = Some(off);
    lay.l3_kind = L3Kind::Arp;
    lay.end = off + crate::arp::PACKET_LEN;
}

fn ipv4(frame: &[u8], off: usize, key: &mut FlowKey, lay: &mut Layout) {
    let Ok(ip) = Ipv4Packet::new_checked(tail(frame, off)) else {
        return;
    };
    if ip.version() != 4 {
        return;
    }
    key.ipv4_src = u32::from(ip.src_addr());
    key.ipv4_dst = u32::from(ip.dst_addr());
    key.nw_proto = ip.protocol();
    key.nw_tos = ip.tos();
    key.nw_ttl = ip.ttl();
    lay.l3 = Some(off);
    lay.l3_kind = L3Kind::Ipv4;
    lay.end = off + ip.end();
    if ip.is_fragment() {
        key.nw_frag = FRAG_ANY;
        lay.fragment = true;
        if ip.frag_offset() != 0 {
            key.nw_frag |= FRAG_LATER;
            return;
        }
    }
    let l4 = off + ip.header_len();
    transport(frame, l4, lay.end, ip.protocol(), false, key, lay);
}

fn ipv6(frame: &[u8], off: usize, key: &mut FlowKey, lay: &mut Layout) {
    let Ok(ip) = Ipv6Packet::new_checked(tail(frame, off)) else {
        return;
    };
    if ip.version() != 6 {
        return;
    }
    key.ipv6_src = u128::from(ip.src_addr());
    key.ipv6_dst = u128::from(ip.dst_addr());
    key.ipv6_label = ip.flow_label();
    key.nw_tos = ip.traffic_class();
    key.nw_ttl = ip.hop_limit();
    lay.l3 = Some(off);
    lay.l3_kind = L3Kind::Ipv6;
    lay.end = off + ip.end();
    let w = ipv6ext::walk(ip.next_header(), ip.payload());
    key.nw_proto = w.proto;
    key.nw_frag = w.frag;
    key.ipv6_exthdr = w.exthdr;
    lay.fragment = w.frag != 0;
    lay.routed = w.routed;
    if let Some(u) = w.upper {
        transport(
            frame,
            off + ipv6::HEADER_LEN + u,
            lay.end,
            w.proto,
            true,
            key,
            lay,
        );
    }
}

fn transport(
    frame: &[u8],
    at: usize,
    end: usize,
    proto: u8,
    v6: bool,
    key: &mut FlowKey,
    lay: &mut Layout,
) {
    let d = frame.get(at..end).unwrap_or(&[]);
    let kind = match proto {
        proto::TCP if d.len() >= crate::tcp::MIN_HEADER_LEN && d[12] >> 4 >= 5 => {
            key.tcp_flags = be16(d, 12) & crate::tcp::flags::MASK;
            L4Kind::Tcp
        }
        proto::UDP if d.len() >= crate::udp::HEADER_LEN => L4Kind::Udp,
        proto::SCTP if d.len() >= crate::sctp::HEADER_LEN => L4Kind::Sctp,
        proto::ICMP if !v6 && d.len() >= 4 => L4Kind::Icmpv4,
        proto::ICMPV6 if v6 && d.len() >= 4 => L4Kind::Icmpv6,
        _ => return,
    };
    match kind {
        L4Kind::Icmpv4 | L4Kind::Icmpv6 => {
            key.tp_src = d[0] as u16;
            key.tp_dst = d[1] as u16;
        }
        _ => {
            key.tp_src = be16(d, 0);
            key.tp_dst = be16(d, 2);
        }
    }
    if kind == L4Kind::Icmpv6 && d[1] == 0 && is_ns_or_na(d[0]) && d.len() >= ND_LEN {
        neighbor_discovery(d, key);
    }
    lay.l4 = Some(at);
    lay.l4_kind = kind;
}

/// NS/NA target and link-layer address options. As in Open vSwitch: an
/// SLL or TLL option counts only with length 1 (an Ethernet address), may
/// appear once, and any malformed or repeated option leaves all three
/// fields zero.
fn neighbor_discovery(d: &[u8], key: &mut FlowKey) {
    let mut sll = None;
    let mut tll = None;
    for o in NdOptions::new(&d[ND_LEN..]) {
        let Ok(o) = o else { return };
        let slot = match o.kind {
            nd_opt::SOURCE_LLADDR => &mut sll,
            nd_opt::TARGET_LLADDR => &mut tll,
            _ => continue,
        };
        if o.data.len() != 6 {
            continue;
        }
        if slot.is_some() {
            return;
        }
        *slot = o.lladdr();
    }
    key.nd_target = u128::from_be_bytes(array(d, 8));
    key.nd_sll = sll.unwrap_or_default();
    key.nd_tll = tll.unwrap_or_default();
}

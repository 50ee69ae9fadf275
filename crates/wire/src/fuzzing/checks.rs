//! Invariants of extraction, views/reprs and checksums on arbitrary bytes.

use crate::arp::{ArpPacket, ArpRepr, PACKET_LEN as ARP_LEN};
use crate::checksum;
use crate::eth::{self, ethertype, EthernetFrame, EthernetRepr, NOT_ETH_TYPE};
use crate::extract::{extract, L3Kind, L4Kind, Layout};
use crate::field::{be16, be32};
use crate::flow::{FlowKey, FRAG_ANY, FRAG_LATER, VLAN_CFI};
use crate::icmpv4::{Icmpv4Packet, Icmpv4Repr};
use crate::icmpv6::{is_ns_or_na, Icmpv6Packet, Icmpv6Repr, NdOptions, NdRepr, ND_LEN};
use crate::ipv4::{proto, Ipv4Packet, Ipv4Repr};
use crate::ipv6::{self, Ipv6Packet, Ipv6Repr};
use crate::ipv6ext::{self, Ipv6ExtHeader, Ipv6FragHeader, Ipv6FragRepr};
use crate::mpls::{MplsLse, ISID_MASK};
use crate::sctp::{SctpPacket, SctpRepr};
use crate::tcp::{self, TcpPacket, TcpRepr};
use crate::udp::{UdpPacket, UdpRepr};
use crate::vlan::{VlanRepr, VlanTag};

/// Extraction of `f`, the views at every header it found, and of
/// `f` itself.
pub(super) fn everything(f: &[u8], in_port: u32) {
    let (_, lay) = frame(f, in_port);
    views(f);
    if let Some(l3) = lay.l3 {
        views(&f[l3..lay.end]);
    }
    if let Some(l4) = lay.l4 {
        views(&f[l4..lay.end]);
    }
}

/// Extracts `f` (twice, into a clean and a dirty key: same result) and
/// checks key and layout against the frame.
pub(super) fn frame(f: &[u8], in_port: u32) -> (FlowKey, Layout) {
    let mut k = FlowKey::default();
    let lay = extract(f, in_port, &mut k);
    let mut dirty = FlowKey::exact_mask();
    let again = extract(f, in_port, &mut dirty);
    assert_eq!((k, lay), (dirty, again), "extract is not deterministic");
    layout(f.len(), &lay);
    key(f, in_port, &k, &lay);
    (k, lay)
}

/// The [`Layout`] invariants, for any layout made by extraction or kept
/// up to date by rewrites.
pub(super) fn layout(len: usize, l: &Layout) {
    assert_eq!(
        l.l3.is_some(),
        l.l3_kind != L3Kind::None,
        "l3 vs kind: {l:?}"
    );
    assert_eq!(
        l.l4.is_some(),
        l.l4_kind != L4Kind::None,
        "l4 vs kind: {l:?}"
    );
    assert!(l.l4.is_none() || l.l3.is_some(), "l4 without l3: {l:?}");
    let mut at = l.l2_len;
    for off in [l.l3, l.l4].into_iter().flatten() {
        assert!(at <= off, "headers out of order: {l:?}");
        at = off;
    }
    assert!(
        at <= l.end && l.end <= len,
        "end outside the frame ({len}): {l:?}"
    );
}

/// The key with only the fields filled before the network layer, checked
/// against the frame.
fn l2_part(f: &[u8], k: &FlowKey, l: &Layout) -> FlowKey {
    let mut w = FlowKey {
        in_port: k.in_port,
        dl_dst: k.dl_dst,
        dl_src: k.dl_src,
        dl_type: k.dl_type,
        vlan_tci: k.vlan_tci,
        ..FlowKey::default()
    };
    let first = f.get(l.l2_len..l.l2_len + 4).map(|d| be32(d, 0));
    match k.dl_type {
        ethertype::MPLS | ethertype::MPLS_MCAST => w.mpls_lse = first.unwrap_or(0),
        ethertype::PBB => w.pbb_isid = first.unwrap_or(0) & ISID_MASK,
        _ => {}
    }
    w
}

fn key(f: &[u8], in_port: u32, k: &FlowKey, l: &Layout) {
    assert_eq!((k.in_port, k.metadata, k.tunnel_id), (in_port, 0, 0));
    if f.len() < eth::HEADER_LEN {
        let mut want = FlowKey {
            in_port,
            ..FlowKey::default()
        };
        if let Some(d) = f.get(..6) {
            want.dl_dst.copy_from_slice(d);
        }
        if let Some(s) = f.get(6..12) {
            want.dl_src.copy_from_slice(s);
        }
        assert_eq!(*k, want, "frame under 14 bytes");
        let only = Layout {
            l2_len: f.len(),
            end: f.len(),
            ..Layout::default()
        };
        assert_eq!(*l, only, "frame under 14 bytes");
        return;
    }
    assert_eq!((&k.dl_dst[..], &k.dl_src[..]), (&f[..6], &f[6..12]));
    assert!(l.vlans <= 2, "more than 2 tags parsed");
    assert!(l.l2_len >= 14 + 4 * usize::from(l.vlans), "l2_len: {l:?}");
    let tci = if l.vlans == 0 {
        0
    } else {
        be16(f, 14) | VLAN_CFI
    };
    assert_eq!(k.vlan_tci, tci, "vlan_tci");
    let et = be16(f, l.l2_len - 2);
    if k.dl_type == NOT_ETH_TYPE {
        assert!(et < ethertype::MIN, "802.3 frame with ethertype {et:#x}");
    } else {
        assert_eq!(k.dl_type, et, "dl_type is not the ethertype before l2_len");
    }
    let base = l2_part(f, k, l);
    let payload = &f[l.l2_len..];
    let found = match k.dl_type {
        ethertype::IPV4 => Ipv4Packet::new_checked(payload).is_ok_and(|p| p.version() == 4),
        ethertype::IPV6 => Ipv6Packet::new_checked(payload).is_ok_and(|p| p.version() == 6),
        ethertype::ARP | ethertype::RARP => {
            ArpPacket::new_checked(payload).is_ok_and(|p| p.is_ethernet_ipv4())
        }
        _ => false,
    };
    assert_eq!(
        found,
        l.l3.is_some(),
        "network header found or missed: {l:?}"
    );
    if l.l3_kind != L3Kind::Ipv4 && l.l3_kind != L3Kind::Ipv6 {
        assert!(!l.fragment && !l.routed, "fragment/routed without IP");
    }
    let Some(l3) = l.l3 else {
        assert_eq!(*k, base, "fields beyond the link layer without a header");
        assert_eq!(l.end, f.len());
        return;
    };
    assert_eq!(l3, l.l2_len, "l3 is not where the link layer ends");
    match l.l3_kind {
        L3Kind::Arp => {
            let r = ArpRepr::parse(&ArpPacket::new_unchecked(&f[l3..])).expect("ARP");
            let want = FlowKey {
                nw_proto: u8::try_from(r.op).unwrap_or(0),
                ipv4_src: u32::from_be_bytes(r.spa),
                ipv4_dst: u32::from_be_bytes(r.tpa),
                arp_sha: r.sha,
                arp_tha: r.tha,
                ..base
            };
            assert_eq!(*k, want, "ARP key");
            assert_eq!(l.end, l3 + ARP_LEN);
            assert_eq!(l.l4, None);
        }
        L3Kind::Ipv4 => {
            let ip = Ipv4Packet::new_unchecked(&f[l3..]);
            assert_eq!(l.end, l3 + ip.end(), "IPv4 end");
            let later = ip.frag_offset() != 0;
            let frag = if later {
                FRAG_ANY | FRAG_LATER
            } else if ip.is_fragment() {
                FRAG_ANY
            } else {
                0
            };
            assert_eq!(l.fragment, frag != 0);
            assert!(!l.routed);
            let want = FlowKey {
                ipv4_src: ip.src_addr().into(),
                ipv4_dst: ip.dst_addr().into(),
                nw_proto: ip.protocol(),
                nw_tos: ip.tos(),
                nw_ttl: ip.ttl(),
                nw_frag: frag,
                ..base
            };
            let upper = (!later).then(|| l3 + ip.header_len());
            transport(f, k, l, want, upper, false);
        }
        L3Kind::Ipv6 => {
            let ip = Ipv6Packet::new_unchecked(&f[l3..]);
            assert_eq!(l.end, l3 + ip.end(), "IPv6 end");
            let payload = ip.payload();
            let w = ipv6ext::walk(ip.next_header(), payload);
            walk_sane(&w, payload.len());
            assert_eq!((l.fragment, l.routed), (w.frag != 0, w.routed));
            let want = FlowKey {
                ipv6_src: ip.src_addr().into(),
                ipv6_dst: ip.dst_addr().into(),
                ipv6_label: ip.flow_label(),
                nw_tos: ip.traffic_class(),
                nw_ttl: ip.hop_limit(),
                nw_proto: w.proto,
                nw_frag: w.frag,
                ipv6_exthdr: w.exthdr,
                ..base
            };
            let upper = w.upper.map(|u| l3 + ipv6::HEADER_LEN + u);
            transport(f, k, l, want, upper, true);
        }
        L3Kind::None => unreachable!(),
    }
}

/// The transport header extraction must find at `at` (up to `end`).
fn expected_l4(proto: u8, v6: bool, d: &[u8]) -> L4Kind {
    let tcp_ok = d.len() >= tcp::MIN_HEADER_LEN && d[12] >= 0x50;
    match proto {
        proto::TCP if tcp_ok => L4Kind::Tcp,
        proto::UDP if d.len() >= 8 => L4Kind::Udp,
        proto::SCTP if d.len() >= 12 => L4Kind::Sctp,
        proto::ICMP if !v6 && d.len() >= 4 => L4Kind::Icmpv4,
        proto::ICMPV6 if v6 && d.len() >= 4 => L4Kind::Icmpv6,
        _ => L4Kind::None,
    }
}

/// Checks the transport part of `k` given the network part `want`, the
/// offset of the upper-layer header (`None`: not to be parsed).
fn transport(f: &[u8], k: &FlowKey, l: &Layout, want: FlowKey, upper: Option<usize>, v6: bool) {
    let d = upper.and_then(|at| f.get(at..l.end)).unwrap_or(&[]);
    let kind = match upper {
        Some(_) => expected_l4(want.nw_proto, v6, d),
        None => L4Kind::None,
    };
    assert_eq!(l.l4_kind, kind, "transport header found or missed: {l:?}");
    let mut want = want;
    if kind == L4Kind::None {
        assert_eq!(*k, want, "transport fields without a transport header");
        return;
    }
    assert_eq!(l.l4, upper);
    match kind {
        L4Kind::Icmpv4 | L4Kind::Icmpv6 => {
            want.tp_src = d[0].into();
            want.tp_dst = d[1].into();
        }
        _ => {
            want.tp_src = be16(d, 0);
            want.tp_dst = be16(d, 2);
        }
    }
    if kind == L4Kind::Tcp {
        want.tcp_flags = TcpPacket::new_unchecked(d).flags();
    }
    if kind == L4Kind::Icmpv6 {
        neighbour_discovery(d, k);
        (want.nd_target, want.nd_sll, want.nd_tll) = (k.nd_target, k.nd_sll, k.nd_tll);
    }
    assert_eq!(*k, want, "transport key");
}

/// Cross-checks extract's ND fields with the ICMPv6 view and [`NdRepr`].
fn neighbour_discovery(d: &[u8], k: &FlowKey) {
    let nd = k.nd_target != 0 || k.nd_sll != [0; 6] || k.nd_tll != [0; 6];
    if nd {
        assert!(
            is_ns_or_na(d[0]) && d[1] == 0 && d.len() >= ND_LEN,
            "ND fields"
        );
    }
    let Ok(p) = Icmpv6Packet::new_checked(d) else {
        return;
    };
    if !is_ns_or_na(p.msg_type()) || p.code() != 0 {
        return;
    }
    match NdRepr::parse(&p) {
        Err(_) => assert!(!nd, "ND fields from a message with malformed options"),
        Ok(r) if nd => assert_eq!(k.nd_target, u128::from(r.target), "ND target"),
        Ok(_) => {}
    }
}

fn walk_sane(w: &ipv6ext::ExtWalk, len: usize) {
    assert!(w.upper.is_none_or(|u| u <= len), "walk beyond the data");
    assert!(w.exthdr < 1 << 9, "unknown IEH bits");
    if w.frag & FRAG_LATER != 0 {
        assert!(w.frag & FRAG_ANY != 0 && w.upper.is_none());
        assert_eq!(w.proto, proto::IPV6_FRAG);
    }
}

/// `parse(emit(r)) == r` for a repr `r` parsed from the input, emitted
/// into a fresh buffer of `len` bytes.
macro_rules! reemit {
    ($view:ident, $repr:ident, $r:expr, $len:expr) => {{
        let r = $r;
        let mut out = vec![0u8; $len];
        r.emit(&mut $view::new_unchecked(&mut out[..]));
        let view = $view::new_checked(&out[..]);
        let again = view.map(|v| $repr::parse(&v));
        assert_eq!(
            again,
            Ok(Ok(r)),
            concat!(stringify!($repr), ": parse(emit(r))")
        );
    }};
}

/// Every view and repr on `b`: accessors must not panic once
/// `new_checked` passed, and reprs must survive a round trip.
pub(super) fn views(b: &[u8]) {
    if let Ok(p) = EthernetFrame::new_checked(b) {
        let _ = p.payload();
        reemit!(
            EthernetFrame,
            EthernetRepr,
            EthernetRepr::parse(&p).unwrap(),
            14
        );
    }
    if let Ok(p) = VlanTag::new_checked(b) {
        let _ = (p.payload(), p.pcp(), p.dei(), p.vid());
        reemit!(VlanTag, VlanRepr, VlanRepr::parse(&p).unwrap(), 4);
    }
    if let Ok(p) = ArpPacket::new_checked(b) {
        let _ = (p.htype(), p.ptype(), p.hlen(), p.plen());
        if let Ok(r) = ArpRepr::parse(&p) {
            reemit!(ArpPacket, ArpRepr, r, ARP_LEN);
        }
    }
    if let Ok(p) = Ipv4Packet::new_checked(b) {
        let _ = (p.options(), p.payload(), p.verify_checksum(), p.checksum());
        let _ = (p.dscp(), p.ecn(), p.ident(), p.more_frags(), p.total_len());
        match Ipv4Repr::parse(&p) {
            Ok(r) if r.payload_len <= 0xffff - 20 => {
                reemit!(Ipv4Packet, Ipv4Repr, r, 20 + r.payload_len)
            }
            _ => {}
        }
    }
    if let Ok(p) = Ipv6Packet::new_checked(b) {
        let _ = (p.dscp(), p.ecn(), p.payload_len());
        walk_sane(
            &ipv6ext::walk(p.next_header(), p.payload()),
            p.payload().len(),
        );
        match Ipv6Repr::parse(&p) {
            Ok(r) if r.payload_len <= 0xffff => {
                reemit!(Ipv6Packet, Ipv6Repr, r, 40 + r.payload_len)
            }
            _ => {}
        }
    }
    for nh in [0, 43, 44, 50, 51, 59, 60, 6] {
        walk_sane(&ipv6ext::walk(nh, b), b.len());
    }
    if let Ok(p) = Ipv6ExtHeader::new_checked(b) {
        let _ = (p.next_header(), p.data());
    }
    if let Ok(p) = Ipv6FragHeader::new_checked(b) {
        let r = Ipv6FragRepr::parse(&p).unwrap();
        reemit!(Ipv6FragHeader, Ipv6FragRepr, r, 8);
    }
    transport_views(b);
    if let Ok(lse) = MplsLse::parse(b) {
        let mut out = [0u8; 4];
        lse.emit(&mut out);
        assert_eq!(MplsLse::parse(&out), Ok(lse));
        let _ = (lse.label(), lse.tc(), lse.bos(), lse.ttl());
    }
    nd_options(b);
}

fn transport_views(b: &[u8]) {
    if let Ok(p) = TcpPacket::new_checked(b) {
        let _ = (
            p.options(),
            p.payload(),
            p.verify_checksum(0),
            p.urgent_at(),
        );
        let _ = (p.seq_number(), p.ack_number(), p.window_len(), p.checksum());
        reemit!(TcpPacket, TcpRepr, TcpRepr::parse(&p).unwrap(), 20);
    }
    if let Ok(p) = UdpPacket::new_checked(b) {
        let _ = (p.payload(), p.verify_checksum(0), p.is_empty(), p.len());
        let r = UdpRepr::parse(&p).unwrap();
        if r.payload_len <= 0xffff - 8 {
            reemit!(UdpPacket, UdpRepr, r, 8 + r.payload_len);
        }
    }
    if let Ok(p) = SctpPacket::new_checked(b) {
        let _ = (p.payload(), p.verify_checksum(), p.checksum());
        reemit!(SctpPacket, SctpRepr, SctpRepr::parse(&p).unwrap(), 12);
    }
    if let Ok(p) = Icmpv4Packet::new_checked(b) {
        let _ = (
            p.payload(),
            p.verify_checksum(),
            p.echo_ident(),
            p.echo_seq(),
        );
        reemit!(Icmpv4Packet, Icmpv4Repr, Icmpv4Repr::parse(&p).unwrap(), 8);
    }
    if let Ok(p) = Icmpv6Packet::new_checked(b) {
        let _ = (
            p.payload(),
            p.verify_checksum(0),
            p.nd_target(),
            p.checksum(),
        );
        let n = if is_ns_or_na(p.msg_type()) { ND_LEN } else { 8 };
        reemit!(Icmpv6Packet, Icmpv6Repr, Icmpv6Repr::parse(&p).unwrap(), n);
        let _ = p.nd_options().count();
        if let Ok(r) = NdRepr::parse(&p) {
            reemit!(Icmpv6Packet, NdRepr, r, r.buffer_len());
        }
    }
}

/// The option iterator ends, reports at most one error (last), and its
/// options tile the buffer.
fn nd_options(b: &[u8]) {
    let mut used = 0;
    let mut failed = false;
    for o in NdOptions::new(b) {
        assert!(!failed, "an ND option after an error");
        match o {
            Ok(o) => {
                assert_eq!(&b[used + 2..used + 2 + o.data.len()], o.data);
                assert_eq!(b[used], o.kind);
                used += o.data.len() + 2;
                assert_eq!(used % 8, 0, "ND options are multiples of 8 bytes");
                assert!(o.lladdr().is_some());
            }
            Err(_) => failed = true,
        }
    }
    assert!(failed || used == b.len(), "ND options stop early");
}

/// Checksum helpers against each other and against recomputation.
pub(super) fn checksums(b: &[u8]) {
    let b = &b[..b.len().min(512)];
    // Splits at an even offset add up; CRC32c continues.
    let cut = b
        .first()
        .map_or(0, |&c| usize::from(c) * 2)
        .min(b.len() & !1);
    let (x, y) = b.split_at(cut);
    assert_eq!(
        checksum::sum(b),
        checksum::add(checksum::sum(x), checksum::sum(y))
    );
    assert_eq!(
        checksum::crc32c(b),
        checksum::crc32c_append(checksum::crc32c(x), y)
    );
    // Incremental update of a checksum stored in the first two bytes of
    // `data`, for a change of 2 or 4 bytes at an even offset.
    let n = b.len() & !1;
    if n < 8 {
        return;
    }
    let mut data = b[..n].to_vec();
    data[..2].fill(0);
    let c = checksum::checksum(&data);
    let at = 2 + (usize::from(b[1]) * 2) % (n - 4);
    let k = if b[2] & 1 == 0 || at + 4 > n { 2 } else { 4 };
    let new: Vec<u8> = b[n - k..n].iter().rev().copied().collect();
    let old = data[at..at + k].to_vec();
    data[at..at + k].copy_from_slice(&new);
    if data.iter().all(|&x| x == 0) {
        return; // all-zero data: its checksum is 0xffff, not "0"
    }
    let want = checksum::checksum(&data);
    assert_eq!(checksum::update(c, &old, &new), want, "update");
    if k == 2 {
        let (o, w) = (be16(&old, 0), be16(&new, 0));
        assert_eq!(checksum::update16(c, o, w), want, "update16");
    }
    // The pseudo-header sum of CHECKSUM_PARTIAL: not complemented.
    data[at..at + k].copy_from_slice(&old);
    let s = checksum::sum(&data);
    data[at..at + k].copy_from_slice(&new);
    let partial = checksum::update_partial(s, &old, &new);
    assert_eq!(partial, checksum::sum(&data), "update_partial");
}

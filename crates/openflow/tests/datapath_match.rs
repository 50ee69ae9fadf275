//! Every OXM match field, end to end: a match given as OXM TLV bytes is
//! decoded by the codec, translated to the switch model, installed in a
//! pipeline, and a datapath of in-memory ports forwards crafted frames
//! (`vnet_wire::build`) with it. For each field a frame with the matched
//! value must leave by port 2 (the flow's output) and a near miss — the
//! same frame with only that field changed — by port 3 (a priority-0
//! catch-all). Frames enter on port 1 unless the test is about the input
//! port. IPv6 extension headers have their own file
//! (`datapath_match_exthdr.rs`). At the end, the Open vSwitch extensions
//! ovs-ofctl sends in OpenFlow 1.3 (IP TTL, fragments, TCP flags, MPLS
//! TTL).

mod common;
mod dp;

use std::net::{Ipv4Addr, Ipv6Addr};

use dp::*;
use vnet_switch::flow::{Action, Field, Instruction};
use vnet_wire::build;
use vnet_wire::Icmpv4Packet;

const IP_A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const IP_B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const IP_C: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 2);

fn v6(last: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last)
}

fn udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16) -> Vec<u8> {
    build::udp4(A, B, None, src, dst, sport, dport, b"payload")
}

fn udp_tagged(tci: u16) -> Vec<u8> {
    build::udp4(A, B, Some(tci), IP_A, IP_B, 1000, 2000, b"payload")
}

fn udp6(src: Ipv6Addr, dst: Ipv6Addr, sport: u16, dport: u16) -> Vec<u8> {
    build::udp6(A, B, None, src, dst, sport, dport, b"payload")
}

/// `frame` (IPv4 or IPv6, untagged) with the TOS / traffic class byte
/// set (and the IPv4 header checksum redone).
fn with_tos(mut frame: Vec<u8>, tos: u8) -> Vec<u8> {
    if frame[12..14] == [0x08, 0x00] {
        let mut ip = vnet_wire::Ipv4Packet::new_unchecked(&mut frame[14..]);
        ip.set_tos(tos);
        ip.fill_checksum();
    } else {
        vnet_wire::Ipv6Packet::new_unchecked(&mut frame[14..]).set_traffic_class(tos);
    }
    frame
}

/// An ICMPv4 message of this type and code (checksum right).
fn icmp4(ty: u8, code: u8) -> Vec<u8> {
    let mut b = vec![ty, code, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
    Icmpv4Packet::new_unchecked(&mut b[..]).fill_checksum();
    build::ipv4(A, B, None, IP_A, IP_B, 1, &b)
}

/// An ICMPv6 message of this type and code (checksum right).
fn icmp6(ty: u8, code: u8) -> Vec<u8> {
    let mut b = vec![ty, code, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
    let sum = vnet_wire::checksum::pseudo_v6(&v6(1).octets(), &v6(2).octets(), 58, 12);
    vnet_wire::Icmpv6Packet::new_unchecked(&mut b[..]).fill_checksum(sum);
    build::ipv6(A, B, None, v6(1), v6(2), 58, &b)
}

#[test]
fn in_port() {
    let mut s = Sw::with_field_flow(&[IN_PORT_1]);
    let f = udp(IP_A, IP_B, 1, 2);
    assert_eq!(s.send_on(1, &f), [2]);
    assert_eq!(s.send_on(4, &f), [3]);
}

#[test]
fn in_phy_port() {
    // IN_PORT 1, IN_PHY_PORT 1: every port here is physical.
    let mut s = Sw::with_field_flow(&[IN_PORT_1, "8000020400000001"]);
    let f = udp(IP_A, IP_B, 1, 2);
    assert_eq!(s.send_on(1, &f), [2]);
    assert_eq!(s.send_on(4, &f), [3]);
}

#[test]
fn metadata_written_by_an_earlier_table() {
    // Table 0: in_port=1 writes 0xab into the low byte, in_port=4 0xac;
    // both go to table 1, which matches METADATA exactly and masked.
    let mut s = Sw::new();
    for (port, value) in [(IN_PORT_1, 0xab), ("8000000400000004", 0xac)] {
        s.flow(
            0,
            100,
            &[port],
            vec![
                Instruction::WriteMetadata { value, mask: 0xff },
                Instruction::GotoTable(1),
            ],
        );
    }
    s.flow(1, 100, &["80000408 00000000000000ab"], output(2));
    s.flow(1, 0, &[], output(3));
    let f = udp(IP_A, IP_B, 1, 2);
    assert_eq!(s.send_on(1, &f), [2]);
    assert_eq!(s.send_on(4, &f), [3]);
    // METADATA 0xa0/0xf0 takes both, a bit the writes left alone (0x100)
    // is still 0.
    s.flow(
        1,
        200,
        &["80000510 00000000000000a0 00000000000000f0"],
        output(5),
    );
    s.flow(
        1,
        300,
        &["80000510 0000000000000100 0000000000000100"],
        output(2),
    );
    assert_eq!(s.send_on(1, &f), [5]);
    assert_eq!(s.send_on(4, &f), [5]);
}

#[test]
fn eth_dst() {
    let b2 = [0x02, 0, 0, 0, 0, 0x0c];
    let f = |dst| build::udp4(A, dst, None, IP_A, IP_B, 1, 2, b"x");
    Sw::check(&["80000606 02000000000b"], &[f(B)], &[f(b2)]);
    // masked: the group bit
    let mc = [0x01, 0, 0x5e, 0, 0, 1];
    Sw::check(&["8000070c 010000000000 010000000000"], &[f(mc)], &[f(B)]);
}

#[test]
fn eth_src() {
    let f = |src| build::udp4(src, B, None, IP_A, IP_B, 1, 2, b"x");
    let a2 = [0x02, 0, 0, 0, 0, 0x0c];
    let other_oui = [0x06, 0, 0, 0, 0, 0x0a];
    Sw::check(&["80000806 02000000000a"], &[f(A)], &[f(a2)]);
    Sw::check(
        &["8000090c 020000000000 ffffff000000"],
        &[f(A), f(a2)],
        &[f(other_oui)],
    );
}

#[test]
fn eth_type() {
    let arp = build::arp_request(A, None, IP_A, IP_B);
    Sw::check(&[ETH_IP], &[udp(IP_A, IP_B, 1, 2)], &[arp]);
}

#[test]
fn vlan_vid_exact() {
    // PRESENT | 10: tag 10 only, not 11, not untagged; the PCP is free.
    Sw::check(
        &["80000c02 100a"],
        &[udp_tagged(10), udp_tagged(0xa00a)],
        &[udp_tagged(11), udp(IP_A, IP_B, 1000, 2000)],
    );
}

#[test]
fn vlan_vid_none() {
    // OFPVID_NONE: untagged only (a tag with VID 0 is a tag).
    Sw::check(
        &["80000c02 0000"],
        &[udp(IP_A, IP_B, 1000, 2000)],
        &[udp_tagged(10), udp_tagged(0)],
    );
}

#[test]
fn vlan_vid_present_only() {
    // OFPVID_PRESENT/OFPVID_PRESENT: any tag, VID 0 included.
    Sw::check(
        &["80000d04 1000 1000"],
        &[udp_tagged(10), udp_tagged(0), udp_tagged(4095)],
        &[udp(IP_A, IP_B, 1000, 2000)],
    );
}

#[test]
fn vlan_vid_masked() {
    // PRESENT | 0x010 / PRESENT | 0xff0: VIDs 16..=31.
    Sw::check(
        &["80000d04 1010 1ff0"],
        &[udp_tagged(16), udp_tagged(31)],
        &[udp_tagged(32), udp_tagged(15), udp(IP_A, IP_B, 1000, 2000)],
    );
}

#[test]
fn vlan_pcp() {
    // Any tag, PCP 5.
    Sw::check(
        &["80000d04 1000 1000", "80000e01 05"],
        &[udp_tagged(0xa00a), udp_tagged(0xa000)],
        &[udp_tagged(0x800a), udp_tagged(10)],
    );
}

#[test]
fn ip_dscp() {
    let f = |tos| with_tos(udp(IP_A, IP_B, 1, 2), tos);
    // DSCP 46 (EF), whatever the ECN bits.
    Sw::check(
        &[ETH_IP, "80001001 2e"],
        &[f(0xb8), f(0xbb)],
        &[f(0xb4), f(0)],
    );
    let f6 = |tc| with_tos(udp6(v6(1), v6(2), 1, 2), tc);
    Sw::check(&[ETH_IP6, "80001001 2e"], &[f6(0xb9)], &[f6(0xbc)]);
}

#[test]
fn ip_ecn() {
    let f = |tos| with_tos(udp(IP_A, IP_B, 1, 2), tos);
    Sw::check(
        &[ETH_IP, "80001201 02"],
        &[f(0x02), f(0xba)],
        &[f(0x01), f(0x03)],
    );
    let f6 = |tc| with_tos(udp6(v6(1), v6(2), 1, 2), tc);
    Sw::check(&[ETH_IP6, "80001201 03"], &[f6(0x03)], &[f6(0x02)]);
}

#[test]
fn ip_proto() {
    let tcp = build::tcp4(A, B, None, IP_A, IP_B, 1, 2, 0x02, b"");
    Sw::check(&[ETH_IP, UDP], &[udp(IP_A, IP_B, 1, 2)], &[tcp]);
    let tcp6 = build::tcp6(A, B, None, v6(1), v6(2), 1, 2, 0x02, b"");
    Sw::check(&[ETH_IP6, UDP], &[udp6(v6(1), v6(2), 1, 2)], &[tcp6]);
}

#[test]
fn ipv4_src() {
    Sw::check(
        &[ETH_IP, "80001604 0a000001"],
        &[udp(IP_A, IP_B, 1, 2)],
        &[udp(IP_B, IP_B, 1, 2)],
    );
    // 10.0.0.0/24
    Sw::check(
        &[ETH_IP, "80001708 0a000000 ffffff00"],
        &[udp(IP_A, IP_B, 1, 2), udp(IP_B, IP_A, 1, 2)],
        &[udp(IP_C, IP_B, 1, 2)],
    );
}

#[test]
fn ipv4_dst() {
    Sw::check(
        &[ETH_IP, "80001804 0a000002"],
        &[udp(IP_A, IP_B, 1, 2)],
        &[udp(IP_A, IP_C, 1, 2)],
    );
    // 0.0.1.0/0.0.1.0: one bit
    Sw::check(
        &[ETH_IP, "80001908 00000100 00000100"],
        &[udp(IP_A, IP_C, 1, 2)],
        &[udp(IP_A, IP_B, 1, 2)],
    );
}

#[test]
fn tcp_ports() {
    let f = |s, d| build::tcp4(A, B, None, IP_A, IP_B, s, d, 0x10, b"data");
    Sw::check(&[ETH_IP, TCP, "80001a02 0050"], &[f(80, 9)], &[f(81, 9)]);
    Sw::check(&[ETH_IP, TCP, "80001c02 01bb"], &[f(9, 443)], &[f(9, 444)]);
    let f6 = |s, d| build::tcp6(A, B, None, v6(1), v6(2), s, d, 0x10, b"data");
    Sw::check(&[ETH_IP6, TCP, "80001a02 0050"], &[f6(80, 9)], &[f6(79, 9)]);
    Sw::check(
        &[ETH_IP6, TCP, "80001c02 01bb"],
        &[f6(9, 443)],
        &[f6(9, 442)],
    );
    // The same port numbers in UDP are not TCP's.
    Sw::check(
        &[ETH_IP, TCP, "80001c02 01bb"],
        &[],
        &[udp(IP_A, IP_B, 9, 443)],
    );
}

#[test]
fn udp_ports() {
    Sw::check(
        &[ETH_IP, UDP, "80001e02 0035"],
        &[udp(IP_A, IP_B, 53, 9)],
        &[udp(IP_A, IP_B, 54, 9)],
    );
    Sw::check(
        &[ETH_IP, UDP, "80002002 0035"],
        &[udp(IP_A, IP_B, 9, 53)],
        &[udp(IP_A, IP_B, 9, 52)],
    );
    Sw::check(
        &[ETH_IP6, UDP, "80001e02 0035"],
        &[udp6(v6(1), v6(2), 53, 9)],
        &[udp6(v6(1), v6(2), 9, 53)],
    );
    Sw::check(
        &[ETH_IP6, UDP, "80002002 0035"],
        &[udp6(v6(1), v6(2), 9, 53)],
        &[udp6(v6(1), v6(2), 53, 9)],
    );
}

#[test]
fn sctp_ports() {
    let f = |s, d| build::sctp4(A, B, None, IP_A, IP_B, s, d, &[0; 16]);
    Sw::check(
        &[ETH_IP, SCTP, "80002202 0bb8"],
        &[f(3000, 1)],
        &[f(3001, 1)],
    );
    Sw::check(
        &[ETH_IP, SCTP, "80002402 0bb8"],
        &[f(1, 3000)],
        &[f(1, 2999)],
    );
    // SCTP over IPv6: the same header after a 40-byte IPv6 header.
    let f6 = |s: u16, d: u16| {
        let v4 = f(s, d);
        build::ipv6(A, B, None, v6(1), v6(2), 132, &v4[34..])
    };
    Sw::check(
        &[ETH_IP6, SCTP, "80002202 0bb8"],
        &[f6(3000, 1)],
        &[f6(1, 3000)],
    );
    Sw::check(
        &[ETH_IP6, SCTP, "80002402 0bb8"],
        &[f6(1, 3000)],
        &[f6(3000, 1)],
    );
}

#[test]
fn icmpv4_type_and_code() {
    Sw::check(
        &[ETH_IP, ICMP, "80002601 08"],
        &[icmp4(8, 0)],
        &[icmp4(0, 0)],
    );
    Sw::check(
        &[ETH_IP, ICMP, "80002601 03", "80002801 01"],
        &[icmp4(3, 1)],
        &[icmp4(3, 3), icmp4(11, 1)],
    );
}

#[test]
fn arp_op() {
    let req = build::arp_request(A, None, IP_A, IP_B);
    let reply = build::arp_reply(B, A, None, IP_B, IP_A);
    Sw::check(&[ETH_ARP, "80002a02 0002"], &[reply], &[req]);
}

#[test]
fn arp_spa_and_tpa() {
    let req = |spa, tpa| build::arp_request(A, None, spa, tpa);
    Sw::check(
        &[ETH_ARP, "80002c04 0a000001"],
        &[req(IP_A, IP_B)],
        &[req(IP_B, IP_A)],
    );
    Sw::check(
        &[ETH_ARP, "80002f08 0a000100 ffffff00"],
        &[req(IP_A, IP_C)],
        &[req(IP_A, IP_B)],
    );
}

#[test]
fn arp_sha_and_tha() {
    let c = [0x02, 0, 0, 0, 0, 0x0c];
    let reply = |sha, tha| build::arp_reply(sha, tha, None, IP_B, IP_A);
    Sw::check(
        &[ETH_ARP, "80003006 02000000000b"],
        &[reply(B, A)],
        &[reply(c, A)],
    );
    Sw::check(
        &[ETH_ARP, "8000330c 02000000000a ffffffffffff"],
        &[reply(B, A)],
        &[reply(B, c)],
    );
}

#[test]
fn ipv6_src_and_dst() {
    Sw::check(
        &[ETH_IP6, "80003410 20010db8000000000000000000000001"],
        &[udp6(v6(1), v6(2), 1, 2)],
        &[udp6(v6(3), v6(2), 1, 2)],
    );
    // 2001:db8::/126
    Sw::check(
        &[
            ETH_IP6,
            "80003720 20010db8000000000000000000000000 fffffffffffffffffffffffffffffffc",
        ],
        &[udp6(v6(9), v6(2), 1, 2), udp6(v6(9), v6(3), 1, 2)],
        &[udp6(v6(9), v6(4), 1, 2)],
    );
}

#[test]
fn ipv6_flabel() {
    let f = |label| {
        let mut b = udp6(v6(1), v6(2), 1, 2);
        vnet_wire::Ipv6Packet::new_unchecked(&mut b[14..]).set_flow_label(label);
        b
    };
    Sw::check(
        &[ETH_IP6, "80003804 00012345"],
        &[f(0x12345)],
        &[f(0x12344)],
    );
    Sw::check(
        &[ETH_IP6, "80003908 00000045 000000ff"],
        &[f(0x12345), f(0xfff45)],
        &[f(0x12346)],
    );
}

#[test]
fn icmpv6_type_and_code() {
    Sw::check(
        &[ETH_IP6, ICMP6, "80003a01 80"],
        &[icmp6(128, 0)],
        &[icmp6(129, 0)],
    );
    Sw::check(
        &[ETH_IP6, ICMP6, "80003a01 01", "80003c01 04"],
        &[icmp6(1, 4)],
        &[icmp6(1, 3)],
    );
}

fn ns(target: Ipv6Addr, sll: Option<[u8; 6]>) -> Vec<u8> {
    build::icmp6_ns(A, B, None, v6(1), v6(2), target, sll)
}

fn na(target: Ipv6Addr, tll: Option<[u8; 6]>) -> Vec<u8> {
    build::icmp6_na(A, B, None, v6(1), v6(2), target, 0x60, tll)
}

#[test]
fn ipv6_nd_target() {
    let target = "80003e10 20010db80000000000000000000000aa";
    Sw::check(
        &[ETH_IP6, ICMP6, "80003a01 87", target],
        &[ns(v6(0xaa), Some(A)), ns(v6(0xaa), None)],
        &[ns(v6(0xab), Some(A)), na(v6(0xaa), None)],
    );
    Sw::check(
        &[ETH_IP6, ICMP6, "80003a01 88", target],
        &[na(v6(0xaa), Some(B))],
        &[na(v6(0xab), Some(B))],
    );
}

#[test]
fn ipv6_nd_sll_and_tll() {
    let c = [0x02, 0, 0, 0, 0, 0x0c];
    Sw::check(
        &[ETH_IP6, ICMP6, "80003a01 87", "80004006 02000000000a"],
        &[ns(v6(0xaa), Some(A))],
        &[ns(v6(0xaa), Some(c)), ns(v6(0xaa), None)],
    );
    Sw::check(
        &[ETH_IP6, ICMP6, "80003a01 88", "80004206 02000000000b"],
        &[na(v6(0xaa), Some(B))],
        &[na(v6(0xaa), Some(c)), na(v6(0xaa), None)],
    );
}

/// An MPLS frame (unicast ethertype unless `mcast`) with one label stack
/// entry over an IPv4 packet.
fn mpls(label: u32, tc: u8, bos: bool, mcast: bool) -> Vec<u8> {
    let lse = vnet_wire::MplsLse::new(label, tc, bos, 64);
    let mut body = [0u8; 4].to_vec();
    lse.emit(&mut body);
    body.extend_from_slice(&udp(IP_A, IP_B, 1, 2)[14..]);
    let et = if mcast { 0x8848 } else { 0x8847 };
    build::ethernet(A, B, None, et, &body)
}

#[test]
fn mpls_label() {
    Sw::check(
        &[ETH_MPLS, "80004404 00000064"],
        &[mpls(100, 0, true, false), mpls(100, 7, false, false)],
        &[mpls(101, 0, true, false)],
    );
    Sw::check(
        &["80000a02 8848", "80004404 000fffff"],
        &[mpls(0xfffff, 0, true, true)],
        &[mpls(0xfffff, 0, true, false), mpls(0xffffe, 0, true, true)],
    );
}

#[test]
fn mpls_tc() {
    Sw::check(
        &[ETH_MPLS, "80004601 05"],
        &[mpls(100, 5, true, false)],
        &[mpls(100, 4, true, false)],
    );
}

#[test]
fn mpls_bos() {
    Sw::check(
        &[ETH_MPLS, "80004801 01"],
        &[mpls(100, 0, true, false)],
        &[mpls(100, 0, false, false)],
    );
    Sw::check(
        &[ETH_MPLS, "80004801 00"],
        &[mpls(100, 0, false, false)],
        &[mpls(100, 0, true, false)],
    );
}

/// A PBB frame: backbone header, I-TAG with this I-SID, customer frame.
fn pbb(isid: u32) -> Vec<u8> {
    let mut body = (isid & 0xff_ffff).to_be_bytes().to_vec();
    body.extend_from_slice(&udp(IP_A, IP_B, 1, 2));
    build::ethernet(A, B, None, 0x88e7, &body)
}

#[test]
fn pbb_isid() {
    Sw::check(
        &[ETH_PBB, "80004a03 123456"],
        &[pbb(0x123456)],
        &[pbb(0x123457)],
    );
    Sw::check(
        &[ETH_PBB, "80004b06 120000 ff0000"],
        &[pbb(0x123456), pbb(0x12ffff)],
        &[pbb(0x133456)],
    );
}

#[test]
fn tunnel_id_zero_unless_set() {
    // Table 0 sets TUNNEL_ID 5 on frames from port 1 and leaves frames
    // from port 4 alone; table 1 tells them apart.
    let mut s = Sw::new();
    s.flow(
        0,
        100,
        &[IN_PORT_1],
        vec![
            Instruction::ApplyActions(vec![Action::SetField(Field::TunnelId(5))]),
            Instruction::GotoTable(1),
        ],
    );
    s.flow(0, 0, &[], vec![Instruction::GotoTable(1)]);
    s.flow(1, 100, &["80004c08 0000000000000005"], output(2));
    s.flow(1, 90, &["80004c08 0000000000000000"], output(3));
    s.flow(1, 0, &[], output(5));
    let f = udp(IP_A, IP_B, 1, 2);
    assert_eq!(s.send_on(1, &f), [2]);
    assert_eq!(s.send_on(4, &f), [3]);
    // masked
    s.flow(
        1,
        200,
        &["80004d10 0000000000000004 0000000000000004"],
        output(5),
    );
    assert_eq!(s.send_on(1, &f), [5]);
    assert_eq!(s.send_on(4, &f), [3]);
}

// ------------------------------------------- Open vSwitch's extensions

#[test]
fn nx_ip_ttl() {
    let f = |ttl| {
        let mut b = udp(IP_A, IP_B, 1, 2);
        let mut ip = vnet_wire::Ipv4Packet::new_unchecked(&mut b[14..]);
        ip.set_ttl(ttl);
        ip.fill_checksum();
        b
    };
    Sw::check(&[ETH_IP, "00013a01 40"], &[f(64)], &[f(63)]);
}

#[test]
fn nx_ip_frag() {
    // (more fragments, offset in 8-byte units)
    let f = |more: bool, offset: u16| {
        let mut b = udp(IP_A, IP_B, 1, 2);
        let mut ip = vnet_wire::Ipv4Packet::new_unchecked(&mut b[14..]);
        ip.set_frag(false, more, offset);
        ip.fill_checksum();
        b
    };
    let (whole, first, later) = (f(false, 0), f(true, 0), f(false, 8));
    let all = [whole, first, later];
    // first: a fragment, offset 0
    Sw::check(
        &[ETH_IP, "00013401 01"],
        &all[1..2],
        &[all[0].clone(), all[2].clone()],
    );
    // later
    Sw::check(&[ETH_IP, "00013401 03"], &all[2..], &all[..2]);
    // not_later: 0/2
    Sw::check(&[ETH_IP, "00013502 00 02"], &all[..2], &all[2..]);
}

#[test]
fn onf_tcp_flags() {
    let f = |flags| build::tcp4(A, B, None, IP_A, IP_B, 1, 2, flags, b"");
    // exactly SYN
    Sw::check(
        &[ETH_IP, TCP, "ffff5406 4f4e4600 0002"],
        &[f(0x002)],
        &[f(0x012), f(0x010)],
    );
    // +syn-ack
    Sw::check(
        &[ETH_IP, TCP, "ffff5508 4f4e4600 0002 0012"],
        &[f(0x002), f(0x00a)],
        &[f(0x012), f(0x010)],
    );
}

#[test]
fn nx_mpls_ttl() {
    let f = |ttl| {
        let mut b = mpls(100, 0, true, false);
        b[17] = ttl;
        b
    };
    Sw::check(&[ETH_MPLS, "00013c01 05"], &[f(5)], &[f(64)]);
}

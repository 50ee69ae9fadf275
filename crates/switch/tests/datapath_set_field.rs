//! SET_FIELD on every field the switch sets, run by the datapath on
//! crafted frames: the bytes that leave equal a frame built with the new
//! value (vnet_wire's builders, or the original patched and its checksums
//! recomputed by the test's own code in `support`), and every checksum
//! verifies from scratch (SCTP's CRC32c with a bitwise reference). Frames
//! whose transport checksum is offloaded (virtio NEEDS_CSUM) keep the
//! pseudo-header sum the kernel completes.

mod support;

use std::net::{Ipv4Addr, Ipv6Addr};

use support::{assert_checksums, partial, patch, recompute, Sw, A, B};
use vnet_wire::{build, MplsLse};

const IP_A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const IP_B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const IP_C: Ipv4Addr = Ipv4Addr::new(192, 168, 7, 9);
const V6_A: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const V6_B: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
const V6_C: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0xab, 0, 0, 0x99);
const M: [u8; 6] = [0x0e, 0, 0, 0, 0x99, 0x01];

fn tcp4(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16) -> Vec<u8> {
    build::tcp4(A, B, None, src, dst, sport, dport, 0x18, b"tcp data")
}

fn udp4(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16) -> Vec<u8> {
    build::udp4(A, B, None, src, dst, sport, dport, b"udp data")
}

fn tcp6(src: Ipv6Addr, dst: Ipv6Addr, sport: u16, dport: u16) -> Vec<u8> {
    build::tcp6(A, B, None, src, dst, sport, dport, 0x18, b"tcp data")
}

fn udp6(src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    build::udp6(A, B, None, src, dst, 1000, 2000, b"udp data")
}

/// Runs `frame` through a switch with the one flow `flow` (in on port 1)
/// and checks what leaves on port 2 is exactly `want`, checksums right.
#[track_caller]
fn expect(flow: &str, frame: &[u8], want: &[u8]) {
    let mut s = Sw::new(2);
    s.flows(&[flow]);
    let got = s.through(frame);
    assert_eq!(got, want, "{flow}");
    if support::find_ip(&got).is_some() {
        assert_checksums(&got);
    }
}

#[test]
fn eth_dst_and_eth_src() {
    let f = udp4(IP_A, IP_B, 1, 2);
    let want = build::udp4(B, M, None, IP_A, IP_B, 1, 2, b"udp data");
    expect(
        "actions=set_field:0e:00:00:00:99:01->eth_dst,set_field:02:00:00:00:00:0b->eth_src,output:2",
        &f,
        &want,
    );
}

#[test]
fn vlan_vid_and_vlan_pcp() {
    // PCP 1, VID 5 → VID 100, then PCP 6 (DEI kept).
    let f = build::udp4(A, B, Some(0x3005), IP_A, IP_B, 1, 2, b"x");
    expect(
        "dl_vlan=5,actions=set_field:4196->vlan_vid,output:2",
        &f,
        &build::udp4(A, B, Some(0x3064), IP_A, IP_B, 1, 2, b"x"),
    );
    expect(
        "dl_vlan=5,actions=set_field:6->vlan_pcp,output:2",
        &f,
        &build::udp4(A, B, Some(0xd005), IP_A, IP_B, 1, 2, b"x"),
    );
}

#[test]
fn ip_dscp_and_ip_ecn_on_ipv4_and_ipv6() {
    let f = tcp4(IP_A, IP_B, 1, 2);
    // TOS 0 → DSCP 46 (0xb8), then ECN 1: TOS 0xb9, header checksum.
    expect(
        "ip,actions=set_field:46->ip_dscp,set_field:1->ip_ecn,output:2",
        &f,
        &recompute(&patch(&f, 15, &[0xb9])),
    );
    // IPv6: traffic class is bits 4..12 of the first word.
    let g = udp6(V6_A, V6_B);
    expect(
        "ipv6,actions=set_field:46->ip_dscp,set_field:1->ip_ecn,output:2",
        &g,
        &patch(&g, 14, &[0x6b, 0x90]),
    );
}

#[test]
fn ipv4_src_and_dst_with_tcp_udp_and_icmp() {
    expect(
        "tcp,actions=set_field:192.168.7.9->ip_src,output:2",
        &tcp4(IP_A, IP_B, 1, 2),
        &tcp4(IP_C, IP_B, 1, 2),
    );
    expect(
        "udp,actions=set_field:192.168.7.9->ip_dst,output:2",
        &udp4(IP_A, IP_B, 1, 2),
        &udp4(IP_A, IP_C, 1, 2),
    );
    // ICMPv4 has no pseudo-header: its checksum stays as it was.
    let echo = |s, d| build::icmp4_echo(A, B, None, s, d, true, 7, 8, b"ping");
    expect(
        "icmp,actions=set_field:192.168.7.9->ip_src,set_field:10.0.0.1->ip_dst,output:2",
        &echo(IP_A, IP_B),
        &echo(IP_C, IP_A),
    );
    // A UDP checksum of 0 (none) stays 0.
    let z = patch(&udp4(IP_A, IP_B, 1, 2), 14 + 20 + 6, &[0, 0]);
    expect(
        "udp,actions=set_field:192.168.7.9->ip_src,output:2",
        &z,
        &recompute(&patch(&z, 14 + 12, &IP_C.octets())),
    );
}

#[test]
fn tcp_and_udp_ports() {
    expect(
        "tcp,actions=set_field:4444->tcp_src,set_field:8080->tcp_dst,output:2",
        &tcp4(IP_A, IP_B, 1, 2),
        &tcp4(IP_A, IP_B, 4444, 8080),
    );
    expect(
        "udp,actions=set_field:53->udp_src,set_field:5353->udp_dst,output:2",
        &udp4(IP_A, IP_B, 1, 2),
        &udp4(IP_A, IP_B, 53, 5353),
    );
}

#[test]
fn sctp_ports_with_the_crc32c_recomputed() {
    let sctp = |sp, dp| build::sctp4(A, B, None, IP_A, IP_B, sp, dp, &[1, 0, 0, 4]);
    let f = sctp(1, 2);
    let want = recompute(&patch(&f, 14 + 20, &[0x0b, 0xb8, 0x0f, 0xa0]));
    assert_eq!(want, sctp(3000, 4000), "builder and reference agree");
    expect(
        "sctp,actions=set_field:3000->sctp_src,set_field:4000->sctp_dst,output:2",
        &f,
        &want,
    );
}

#[test]
fn icmpv4_type_and_code() {
    let echo = |request| build::icmp4_echo(A, B, None, IP_A, IP_B, request, 7, 8, b"ping");
    expect(
        "icmp,actions=set_field:0->icmp_type,output:2",
        &echo(true),
        &echo(false),
    );
    expect(
        "icmp,actions=set_field:3->icmp_type,set_field:1->icmp_code,output:2",
        &echo(true),
        &recompute(&patch(&echo(true), 34, &[3, 1])),
    );
}

#[test]
fn arp_op_spa_tpa_sha_tha() {
    let f = build::arp_request(A, None, IP_A, IP_B);
    let mut want = patch(&f, 14 + 6, &[0, 2]);
    want = patch(&want, 14 + 8, &M);
    want = patch(&want, 14 + 14, &IP_C.octets());
    want = patch(&want, 14 + 18, &B);
    want = patch(&want, 14 + 24, &IP_A.octets());
    expect(
        "arp,actions=set_field:2->arp_op,set_field:0e:00:00:00:99:01->arp_sha,set_field:192.168.7.9->arp_spa,set_field:02:00:00:00:00:0b->arp_tha,set_field:10.0.0.1->arp_tpa,output:2",
        &f,
        &want,
    );
}

#[test]
fn ipv6_src_and_dst_with_tcp_udp_and_icmpv6() {
    expect(
        "tcp6,actions=set_field:fd00::ab:0:0:99->ipv6_src,output:2",
        &tcp6(V6_A, V6_B, 1, 2),
        &tcp6(V6_C, V6_B, 1, 2),
    );
    expect(
        "udp6,actions=set_field:fd00::ab:0:0:99->ipv6_dst,output:2",
        &udp6(V6_A, V6_B),
        &udp6(V6_A, V6_C),
    );
    let echo = |s, d| build::icmp6_echo(A, B, None, s, d, true, 1, 2, b"ping6");
    expect(
        "icmp6,actions=set_field:fd00::ab:0:0:99->ipv6_src,set_field:2001:db8::1->ipv6_dst,output:2",
        &echo(V6_A, V6_B),
        &echo(V6_C, V6_A),
    );
}

#[test]
fn ipv6_flow_label() {
    let f = udp6(V6_A, V6_B);
    expect(
        "ipv6,actions=set_field:0xabcde->ipv6_label,output:2",
        &f,
        &patch(&f, 15, &[0x0a, 0xbc, 0xde]),
    );
}

#[test]
fn icmpv6_type_and_code() {
    let echo = |request| build::icmp6_echo(A, B, None, V6_A, V6_B, request, 1, 2, b"ping6");
    expect(
        "icmp6,actions=set_field:129->icmpv6_type,output:2",
        &echo(true),
        &echo(false),
    );
    expect(
        "icmp6,actions=set_field:1->icmpv6_type,set_field:4->icmpv6_code,output:2",
        &echo(true),
        &recompute(&patch(&echo(true), 54, &[1, 4])),
    );
}

#[test]
fn nd_target_sll_and_tll() {
    let ns = |t, sll| build::icmp6_ns(A, B, None, V6_A, V6_B, t, Some(sll));
    expect(
        "icmp6,icmp_type=135,icmp_code=0,actions=set_field:fd00::ab:0:0:99->nd_target,set_field:0e:00:00:00:99:01->nd_sll,output:2",
        &ns(V6_B, A),
        &ns(V6_C, M),
    );
    let na = |tll| build::icmp6_na(A, B, None, V6_A, V6_B, V6_A, 0x60, Some(tll));
    expect(
        "icmp6,icmp_type=136,icmp_code=0,actions=set_field:0e:00:00:00:99:01->nd_tll,output:2",
        &na(A),
        &na(M),
    );
}

#[test]
fn mpls_label_tc_bos_and_ttl() {
    let ip = tcp4(IP_A, IP_B, 1, 2);
    let f = build::mpls(&ip, 0x8847, &[MplsLse::new(100, 1, true, 9)]);
    expect(
        "mpls,actions=set_field:0xfffff->mpls_label,set_field:6->mpls_tc,set_field:33->mpls_ttl,output:2",
        &f,
        &build::mpls(&ip, 0x8847, &[MplsLse::new(0xf_ffff, 6, true, 33)]),
    );
    expect(
        "mpls,actions=set_field:0->mpls_bos,output:2",
        &f,
        &build::mpls(&ip, 0x8847, &[MplsLse::new(100, 1, false, 9)]),
    );
}

#[test]
fn nw_ttl_as_a_set_field() {
    let f = tcp4(IP_A, IP_B, 1, 2);
    expect(
        "ip,actions=set_field:9->nw_ttl,output:2",
        &f,
        &recompute(&patch(&f, 22, &[9])),
    );
}

#[test]
fn pbb_isid() {
    let c = udp4(IP_A, IP_B, 1, 2);
    expect(
        "dl_type=0x88e7,actions=set_field:0xfedcba->pbb_isid,output:2",
        &build::pbb(A, B, None, 7 << 29 | 0x11, &c),
        &build::pbb(A, B, None, 7 << 29 | 0xfe_dcba, &c),
    );
}

#[test]
fn tunnel_id_is_pipeline_metadata_later_tables_match() {
    let mut s = Sw::new(3);
    s.flows(&[
        "table=0,actions=set_field:0x55->tun_id,goto_table:1",
        "table=1,tun_id=0x55,actions=output:2",
        "table=1,priority=0,actions=output:3",
    ]);
    let f = udp4(IP_A, IP_B, 1, 2);
    // The frame leaves unchanged (no tunnel port to carry the id).
    assert_eq!(s.through(&f), f);
}

// ------------------------------------------------------ offloaded checksums

/// Sends `frame` with NEEDS_CSUM through a vnet port and back out of it
/// (`flow`'s actions then `in_port`), returning header and frame sent.
fn via_vnet(flow_actions: &str, frame: &[u8]) -> (Vec<u8>, [u8; 10], Vec<u8>) {
    let mut s = Sw::with_vnet_port(1);
    s.flows(&[&format!("in_port=2,{flow_actions},output:in_port")]);
    let (f, hdr) = partial(frame);
    let mut wire = hdr.to_vec();
    wire.extend_from_slice(&f);
    s.send_vnet(&wire);
    let mut out = s.out_vnet();
    assert_eq!(out.len(), 1);
    let got = out.remove(0);
    (got[10..].to_vec(), hdr, got[..10].to_vec())
}

#[test]
fn offloaded_checksums_keep_the_pseudo_header_sum() {
    // Address change: the field follows the new pseudo-header; the IPv4
    // header checksum (never offloaded) is complete.
    let (got, hdr, h) = via_vnet(
        "tcp,actions=set_field:192.168.7.9->ip_src",
        &tcp4(IP_A, IP_B, 1, 2),
    );
    assert_eq!(got, partial(&tcp4(IP_C, IP_B, 1, 2)).0);
    assert_eq!(h, hdr);
    assert_eq!(support::ones_sum(&got[14..34]), 0xffff);
    let (got, _, _) = via_vnet(
        "udp6,actions=set_field:fd00::ab:0:0:99->ipv6_dst",
        &udp6(V6_A, V6_B),
    );
    assert_eq!(got, partial(&udp6(V6_A, V6_C)).0);
    // A port is summed at completion: the field does not change.
    let (got, _, _) = via_vnet(
        "tcp,actions=set_field:8080->tcp_dst",
        &tcp4(IP_A, IP_B, 1, 2),
    );
    assert_eq!(got, partial(&tcp4(IP_A, IP_B, 1, 8080)).0);
}

#[test]
fn offloaded_checksums_move_with_an_mpls_or_pbb_push() {
    let f = tcp4(IP_A, IP_B, 1, 2);
    let (p, hdr) = partial(&f);
    let start = u16::from_le_bytes([hdr[6], hdr[7]]);
    let (got, _, h) = via_vnet("ip,actions=push_mpls:0x8847", &f);
    assert_eq!(
        got,
        build::mpls(&p, 0x8847, &[MplsLse::new(0, 0, true, 64)])
    );
    assert_eq!(u16::from_le_bytes([h[6], h[7]]), start + 4, "csum_start");
    assert_eq!(&h[8..10], &hdr[8..10], "csum_offset");
    let (got, _, h) = via_vnet("ip,actions=push_pbb:0x88e7", &f);
    assert_eq!(got, build::pbb(A, B, None, 0, &p));
    assert_eq!(u16::from_le_bytes([h[6], h[7]]), start + 18, "csum_start");
}
